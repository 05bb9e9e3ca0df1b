/*
 * console-picture.c: a frame's picture drawn in a box of the console, two
 * pixels to a cell with the upper half block, in true colour, the xterm
 * 256 colours or the 8 or 16 ANSI colours as the terminal has them, in
 * background colours alone without UTF-8, and in shaded ASCII without
 * colours. Colour pairs come from ncurses' alloc_pair, kept to a budget
 * below the terminal's table so that alloc_pair never has to discard a
 * pair, and with it one of the console's own: alloc_pair discards the
 * least recently allocated, and the console's pairs are the oldest.
 */
#include "bdfarm.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "console-pane.h"
#include "preview.h"
#include "xmalloc.h"

/* The upper half block, U+2580. */
#define CONSOLE_PICTURE_HALF	"\xe2\x96\x80"

/* How a picture is drawn. */
enum console_picture_mode {
	CONSOLE_PICTURE_SHADE,	/* ASCII by light, no colour */
	CONSOLE_PICTURE_BLOCK,	/* half blocks, two colours a cell */
	CONSOLE_PICTURE_SPACE	/* blanks, one colour a cell */
};

/*
 * The colour pairs allocated here, on the screen they belong to. Once the
 * budget is reached, a pair of ours that the picture being drawn does not
 * use is given new colours: ncurses 6.4's alloc_pair does not reuse a
 * pair that free_pair gave back.
 */
static struct {
	SCREEN		*screen;
	int		 size;		/* the terminal's pairs */
	int		 budget;	/* how many may be ours */
	uint64_t	 draw;		/* the picture being drawn, from 1 */
	uint64_t	*stamp;		/* by pair: its last draw; 0: not ours */
	int		*owned;		/* ours, in the order allocated */
	int		 nowned;
	int		 next;		/* where to look for one to take back */
} console_picture_pairs;

/* Make the pair table ready for screen, forgetting another screen's. */
static void
console_picture_pairs_init(struct console *c)
{
	int	reserve, budget;

	if (console_picture_pairs.screen == c->screen &&
	    console_picture_pairs.size == COLOR_PAIRS)
		return;

	/* Leave room for the console's pairs and for a few of others'. */
	reserve = COLOR_PAIRS / 8;
	if (reserve > 64)
		reserve = 64;
	budget = COLOR_PAIRS - CONSOLE_NCOLOURS - 1 - reserve;
	if (budget < 0)
		budget = 0;

	free(console_picture_pairs.stamp);
	free(console_picture_pairs.owned);
	memset(&console_picture_pairs, 0, sizeof console_picture_pairs);
	console_picture_pairs.screen = c->screen;
	console_picture_pairs.size = COLOR_PAIRS;
	console_picture_pairs.budget = budget;
	console_picture_pairs.stamp = xcalloc((size_t)COLOR_PAIRS,
	    sizeof *console_picture_pairs.stamp);
	console_picture_pairs.owned = xcalloc((size_t)budget + 1,
	    sizeof *console_picture_pairs.owned);
}

/* Take back the oldest of our pairs that this picture has not used. */
static int
console_picture_reclaim(int fg, int bg)
{
	int	i, pair;

	for (i = 0; i < console_picture_pairs.nowned; i++) {
		pair = console_picture_pairs.owned[console_picture_pairs.next];
		console_picture_pairs.next = (console_picture_pairs.next + 1) %
		    console_picture_pairs.nowned;
		if (console_picture_pairs.stamp[pair] ==
		    console_picture_pairs.draw)
			continue;
		if (init_extended_pair(pair, fg, bg) != OK)
			return -1;
		console_picture_pairs.stamp[pair] = console_picture_pairs.draw;
		return pair;
	}
	return -1;
}

/* The pair of colours fg on bg, or -1 if there is none to be had. */
static int
console_picture_pair(int fg, int bg)
{
	int	pair;

	if ((pair = find_pair(fg, bg)) > 0) {
		if (pair < console_picture_pairs.size &&
		    console_picture_pairs.stamp[pair] != 0)
			console_picture_pairs.stamp[pair] =
			    console_picture_pairs.draw;
		return pair;
	}
	if (console_picture_pairs.nowned >= console_picture_pairs.budget)
		return console_picture_reclaim(fg, bg);
	if ((pair = alloc_pair(fg, bg)) <= 0 ||
	    pair >= console_picture_pairs.size)
		return -1;
	console_picture_pairs.stamp[pair] = console_picture_pairs.draw;
	console_picture_pairs.owned[console_picture_pairs.nowned++] = pair;
	return pair;
}

/*
 * How many colours to draw with: 0x1000000 if the terminal takes colours
 * as 24-bit RGB numbers, else 256, 16 or 8.
 */
static long
console_picture_palette(void)
{
	char	rgb[] = "RGB";

	if (COLORS >= 0x1000000 && tigetflag(rgb) > 0)
		return 0x1000000;
	if (COLORS >= 256)
		return 256;
	return COLORS >= 16 ? 16 : 8;
}

/* The terminal's colour for a pixel, of a palette of n colours. */
static int
console_picture_colour(const uint8_t *p, long n)
{
	int	rgb;

	if (n == 0x1000000) {
		/* Below 8 the terminal would take the ANSI colours. */
		rgb = p[0] << 16 | p[1] << 8 | p[2];
		return rgb < 8 ? 8 : rgb;
	}
	if (n == 256)
		return picture_xterm256(p[0], p[1], p[2]);
	return picture_ansi(p[0], p[1], p[2], (int)n);
}

/*
 * Choose how to draw a picture of cells cells in a palette of n colours:
 * in the most colours whose pairs fit the budget all at once.
 */
static enum console_picture_mode
console_picture_choose(struct console *c, long cells, long n)
{
	if (!c->colours || COLORS < 8)
		return CONSOLE_PICTURE_SHADE;
	if (c->utf8 && (n <= cells / n ? n * n : cells) <=
	    console_picture_pairs.budget)
		return CONSOLE_PICTURE_BLOCK;
	if ((n < cells ? n : cells) <= console_picture_pairs.budget)
		return CONSOLE_PICTURE_SPACE;
	return CONSOLE_PICTURE_SHADE;
}

/* The average of two pixels into out. */
static void
console_picture_mix(const uint8_t *a, const uint8_t *b, uint8_t *out)
{
	int	i;

	for (i = 0; i < 3; i++)
		out[i] = (uint8_t)((a[i] + b[i] + 1) / 2);
}

/* Draw one cell of upper and lower pixels (lower may be NULL). */
static void
console_picture_cell(enum console_picture_mode mode, long n,
    const uint8_t *upper, const uint8_t *lower)
{
	static const uint8_t	 black[3];
	uint8_t			 mean[3];
	char			 shade[2];
	int			 pair = -1;

	if (lower == NULL)
		lower = black;
	console_picture_mix(upper, lower, mean);
	if (mode == CONSOLE_PICTURE_BLOCK)
		pair = console_picture_pair(console_picture_colour(upper, n),
		    console_picture_colour(lower, n));
	else if (mode == CONSOLE_PICTURE_SPACE)
		pair = console_picture_pair(console_picture_colour(mean, n),
		    console_picture_colour(mean, n));
	if (pair > 0) {
		attr_set(A_NORMAL, 0, &pair);
		addstr(mode == CONSOLE_PICTURE_BLOCK ? CONSOLE_PICTURE_HALF :
		    " ");
		return;
	}
	attrset(A_NORMAL);
	shade[0] = picture_shade(mean[0], mean[1], mean[2]);
	shade[1] = '\0';
	addstr(shade);
}

/* Draw a picture centred in the box. */
static void
console_picture_grid(struct console *c, int y, int x, int cols, int rows,
    const struct picture *pic)
{
	enum console_picture_mode	 mode;
	const uint8_t			*upper, *lower;
	long				 n;
	int				 w, h, i, j, oy, ox;

	w = pic->width < cols ? pic->width : cols;
	h = (pic->height + 1) / 2 < rows ? (pic->height + 1) / 2 : rows;
	oy = y + (rows - h) / 2;
	ox = x + (cols - w) / 2;

	if (c->colours) {
		console_picture_pairs_init(c);
		console_picture_pairs.draw++;
	}
	n = console_picture_palette();
	mode = console_picture_choose(c, (long)w * h, n);

	for (j = 0; j < h; j++) {
		if (oy + j < 0 || oy + j >= LINES)
			continue;
		move(oy + j, ox);
		for (i = 0; i < w && ox + i < COLS; i++) {
			upper = pic->rgb + ((size_t)(j * 2) * pic->width + i) *
			    3;
			lower = NULL;
			if (j * 2 + 1 < pic->height)
				lower = upper + (size_t)pic->width * 3;
			console_picture_cell(mode, n, upper, lower);
		}
	}
	attrset(A_NORMAL);
}

/* The columns s takes on the screen, counting a character as one. */
static int
console_picture_width(const char *s)
{
	wchar_t	*ws;
	size_t	 n;
	int	 w;

	if ((n = mbstowcs(NULL, s, 0)) == (size_t)-1)
		return (int)strlen(s);
	ws = xreallocarray(NULL, n + 1, sizeof *ws);
	mbstowcs(ws, s, n + 1);
	w = wcswidth(ws, n);
	free(ws);
	return w < 0 ? (int)n : w;
}

/* Say a file's size in bytes, kB or MB. */
static char *
console_picture_size(uint64_t size)
{
	char	*s;

	if (size >= 1000000)
		xasprintf(&s, "%.1f MB", (double)size / 1e6);
	else if (size >= 1000)
		xasprintf(&s, "%.1f kB", (double)size / 1e3);
	else
		xasprintf(&s, _("%llu bytes"), (unsigned long long)size);
	return s;
}

/* The text shown instead of a picture. */
static char *
console_picture_text(struct console *c, const struct preview_result *r)
{
	const struct picture	*pic = &r->picture;
	char			*text, *size;

	switch (r->state) {
	case PREVIEW_NONE:
		return xstrdup(_("no frame to show"));
	case PREVIEW_DECODING:
		return xstrdup(c->utf8 ? _("decoding…") : _("decoding..."));
	case PREVIEW_ERROR:
		xasprintf(&text, "%s", r->error != NULL ? r->error : "?");
		return text;
	default:
		break;
	}
	size = console_picture_size(r->size);
	if (pic->src_width != 0 && pic->src_height != 0)
		xasprintf(&text, _("%s %u%s%u, %s: no preview for this format"),
		    pic->format, pic->src_width, c->utf8 ? "×" : "x",
		    pic->src_height, size);
	else
		xasprintf(&text, _("%s, %s: no preview for this format"),
		    pic->format, size);
	free(size);
	return text;
}

/*
 * Draw the picture of r centred in the box of cols × rows cells at y, x,
 * or a line that says why there is none; the rest of the box is cleared.
 */
void
console_picture_draw(struct console *c, int y, int x, int cols, int rows,
    const struct preview_result *r)
{
	static const struct preview_result	 none;
	attr_t					 attr;
	char					*text;
	int					 i, w;

	if (cols <= 0 || rows <= 0)
		return;
	for (i = 0; i < rows; i++)
		console_draw_fill(c, y + i, x, cols, c->attrs[CONSOLE_C_NORMAL]);
	if (r == NULL)
		r = &none;
	if ((r->state == PREVIEW_READY || r->state == PREVIEW_DECODING) &&
	    r->picture.rgb != NULL && r->picture.width > 0 &&
	    r->picture.height > 0) {
		console_picture_grid(c, y, x, cols, rows, &r->picture);
		return;
	}

	text = console_picture_text(c, r);
	w = console_picture_width(text);
	if (w > cols)
		w = cols;
	attr = c->attrs[r->state == PREVIEW_ERROR ? CONSOLE_C_BAD :
	    CONSOLE_C_DIM];
	console_draw_text(c, y + (rows - 1) / 2, x + (cols - w) / 2, w, attr,
	    text);
	free(text);
}
