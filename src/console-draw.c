/*
 * console-draw.c: the console's drawing helpers: colours with a monochrome
 * fallback, text clipped to a width in screen columns whatever the
 * locale, progress bars in UTF-8 block characters or in ASCII, pane
 * titles, and keeping a list's selected row in view.
 */
#include "bdfarm.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "clock.h"
#include "console-pane.h"
#include "xmalloc.h"

/* Foreground, background and attribute of each colour pair. */
static const struct {
	short	fg;
	short	bg;
	attr_t	extra;
	attr_t	mono;
} console_draw_palette[CONSOLE_NCOLOURS] = {
	[CONSOLE_C_NORMAL] = { -1, -1, 0, 0 },
	[CONSOLE_C_TITLE] = { COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE },
	[CONSOLE_C_DIM] = { -1, -1, A_DIM, A_DIM },
	[CONSOLE_C_ACTIVE] = { COLOR_GREEN, -1, A_BOLD, A_BOLD },
	[CONSOLE_C_PAUSED] = { COLOR_YELLOW, -1, 0, A_UNDERLINE },
	[CONSOLE_C_BAD] = { COLOR_RED, -1, A_BOLD, A_BOLD },
	[CONSOLE_C_BAR] = { COLOR_GREEN, -1, 0, 0 },
	[CONSOLE_C_OUT] = { COLOR_YELLOW, -1, 0, 0 },
	[CONSOLE_C_SELECT] = { COLOR_BLACK, COLOR_WHITE, 0, A_REVERSE },
	[CONSOLE_C_PROMPT] = { COLOR_BLACK, COLOR_YELLOW, A_BOLD,
	    A_REVERSE | A_BOLD },
};

/* Choose colours if the terminal has them, else plain attributes. */
void
console_draw_init(struct console *c)
{
	int	i, defaults;
	short	fg, bg;

	c->colours = has_colors();
	if (c->colours) {
		start_color();
		defaults = use_default_colors() == OK;
		for (i = 1; i < CONSOLE_NCOLOURS; i++) {
			fg = console_draw_palette[i].fg;
			bg = console_draw_palette[i].bg;
			if (!defaults) {
				if (fg == -1)
					fg = COLOR_WHITE;
				if (bg == -1)
					bg = COLOR_BLACK;
			}
			if (i >= COLOR_PAIRS || init_pair((short)i, fg, bg) != OK) {
				c->colours = 0;
				break;
			}
		}
	}
	for (i = 0; i < CONSOLE_NCOLOURS; i++) {
		if (c->colours)
			c->attrs[i] = (i == 0 ? 0 : COLOR_PAIR(i)) |
			    console_draw_palette[i].extra;
		else
			c->attrs[i] = console_draw_palette[i].mono;
	}
}

/*
 * Copy as much of s as fits in width columns into a new string, with
 * anything unprintable or not valid in the locale shown as '?'. *used
 * receives the columns taken.
 */
static char *
console_draw_clip(const char *s, int width, int *used)
{
	mbstate_t	 mbs;
	wchar_t		 wc;
	size_t		 len = strlen(s), n, o = 0;
	char		*out = xmalloc(len + 1);
	int		 cols = 0, w;

	memset(&mbs, 0, sizeof mbs);
	while (*s != '\0' && cols < width) {
		n = mbrtowc(&wc, s, len, &mbs);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0 ||
		    (w = wcwidth(wc)) < 0) {
			memset(&mbs, 0, sizeof mbs);
			out[o++] = '?';
			cols++;
			s++;
			len--;
			continue;
		}
		if (cols + w > width)
			break;
		memcpy(out + o, s, n);
		o += n;
		cols += w;
		s += n;
		len -= n;
	}
	out[o] = '\0';
	*used = cols;
	return out;
}

/* Draw s at y, x in width columns, clipped, then blanks to the width. */
void
console_draw_text(struct console *c, int y, int x, int width, attr_t attr,
    const char *s)
{
	char	*clip;
	int	 used;

	if (width <= 0 || y < 0 || y >= LINES || x >= COLS)
		return;
	if (x + width > COLS)
		width = COLS - x;
	clip = console_draw_clip(s, width, &used);
	attrset(attr);
	mvaddstr(y, x, clip);
	for (; used < width; used++)
		addch(' ');
	attrset(A_NORMAL);
	free(clip);
}

/* Draw s at y, x right-aligned in width columns. */
void
console_draw_right(struct console *c, int y, int x, int width, attr_t attr,
    const char *s)
{
	char	*clip;
	int	 used, pad;

	if (width <= 0 || y < 0 || y >= LINES || x >= COLS)
		return;
	if (x + width > COLS)
		width = COLS - x;
	clip = console_draw_clip(s, width, &used);
	attrset(attr);
	move(y, x);
	for (pad = width - used; pad > 0; pad--)
		addch(' ');
	addstr(clip);
	attrset(A_NORMAL);
	free(clip);
}

/* Blank width columns at y, x. */
void
console_draw_fill(struct console *c, int y, int x, int width, attr_t attr)
{
	console_draw_text(c, y, x, width, attr, "");
}

/* Draw n copies of a cell (a UTF-8 or ASCII character) in attr. */
static void
console_draw_cells(const char *cell, int n, attr_t attr)
{
	attrset(attr);
	for (; n > 0; n--)
		addstr(cell);
	attrset(A_NORMAL);
}

/*
 * Draw a progress bar of width columns at y, x: done of total frames,
 * then out more frames in flight, then the rest.
 */
void
console_draw_bar(struct console *c, int y, int x, int width, size_t total,
    size_t done, size_t out)
{
	int	ndone = 0, nout = 0;

	if (width <= 0 || y >= LINES || x >= COLS)
		return;
	if (x + width > COLS)
		width = COLS - x;
	if (total > 0) {
		if (done > total)
			done = total;
		if (out > total - done)
			out = total - done;
		ndone = (int)(done * (size_t)width / total);
		nout = (int)((done + out) * (size_t)width / total) - ndone;
		if (out > 0 && nout == 0 && ndone < width)
			nout = 1;
	}
	move(y, x);
	if (c->utf8) {
		console_draw_cells("\xe2\x96\x88", ndone,
		    c->attrs[CONSOLE_C_BAR]);
		console_draw_cells("\xe2\x96\x92", nout,
		    c->attrs[CONSOLE_C_OUT]);
		console_draw_cells("\xc2\xb7", width - ndone - nout,
		    c->attrs[CONSOLE_C_DIM]);
	} else {
		console_draw_cells("#", ndone, c->attrs[CONSOLE_C_BAR]);
		console_draw_cells(">", nout, c->attrs[CONSOLE_C_OUT]);
		console_draw_cells(".", width - ndone - nout,
		    c->attrs[CONSOLE_C_DIM]);
	}
}

/* Draw a pane's title line; the pane with the keys is marked. */
void
console_draw_title(struct console *c, int y, int width, const char *text,
    int focused)
{
	attr_t	attr = c->attrs[CONSOLE_C_TITLE];

	if (focused)
		attr |= A_BOLD;
	console_draw_text(c, y, 0, width, attr, text);
}

/*
 * The wall-clock time of a moment on the monotonic clock, for people: the
 * time of day, with the date for another day than today.
 */
void
console_draw_clock(farm_time when, char *buf, size_t len)
{
	time_t		t, today = time(NULL);
	struct tm	tm, now;

	t = (time_t)((clock_wall_ms() - (clock_mono_ms() - when)) / 1000);
	localtime_r(&t, &tm);
	localtime_r(&today, &now);
	if (tm.tm_year == now.tm_year && tm.tm_yday == now.tm_yday)
		strftime(buf, len, "%H:%M:%S", &tm);
	else
		strftime(buf, len, "%m-%d %H:%M", &tm);
}

/*
 * Scroll a list so that row sel of total stays within the visible rows.
 */
void
console_list_place(struct console_list *l, int sel, int visible, int total)
{
	if (visible <= 0) {
		l->top = 0;
		return;
	}
	if (sel < l->top)
		l->top = sel;
	if (sel >= l->top + visible)
		l->top = sel - visible + 1;
	if (l->top > total - visible)
		l->top = total - visible;
	if (l->top < 0)
		l->top = 0;
	l->rows = visible;
}
