/*
 * console-prompt.c: a one-line text editor for the console's bottom line:
 * a label, a field that scrolls sideways under a cursor drawn in reverse
 * video, and a message; Tab completes file names. curses hands over a
 * multibyte character one byte at a time, so bytes are gathered until
 * they make a whole character in the locale.
 */
#include "bdfarm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <wchar.h>

#include "console-pane.h"
#include "xmalloc.h"

/* The longest text the field holds, in bytes. */
#define CONSOLE_PROMPT_MAX	PATH_MAX

/* Folder entries read for one completion, so that none takes long. */
#define CONSOLE_PROMPT_MAX_ENTRIES	10000

/* Candidates a completion names in its message. */
#define CONSOLE_PROMPT_NAMED	6

/* Control keys of the editor. */
#define CONSOLE_PROMPT_CTRL(k)	((k) & 0x1f)
#define CONSOLE_PROMPT_ESC	0x1b
#define CONSOLE_PROMPT_DEL	0x7f

struct console_prompt {
	char		*text;
	size_t		 len;
	size_t		 cursor;	/* byte offset in text */
	size_t		 first;		/* byte offset of the first shown */
	char		 pending[MB_LEN_MAX];	/* bytes of a partial character */
	size_t		 npending;
};

/* One name a completion found. */
struct console_prompt_match {
	char	*name;
	int	 folder;
	int	 blend;
};

/* A new, empty field. */
struct console_prompt *
console_prompt_new(void)
{
	struct console_prompt	*p = xcalloc(1, sizeof *p);

	p->text = xmalloc(CONSOLE_PROMPT_MAX + 1);
	p->text[0] = '\0';
	return p;
}

/* Release a field. */
void
console_prompt_free(struct console_prompt *p)
{
	if (p == NULL)
		return;
	free(p->text);
	free(p);
}

/* Replace the text (cut to the field's size), with the cursor at its end. */
void
console_prompt_set(struct console_prompt *p, const char *text)
{
	p->len = strlen(text);
	if (p->len > CONSOLE_PROMPT_MAX)
		p->len = CONSOLE_PROMPT_MAX;
	memcpy(p->text, text, p->len);
	p->text[p->len] = '\0';
	p->cursor = p->len;
	p->first = 0;
	p->npending = 0;
}

/* The text being edited. */
const char *
console_prompt_text(struct console_prompt *p)
{
	return p->text;
}

/* The bytes of the character at offset at; an invalid byte is one. */
static size_t
console_prompt_charlen(struct console_prompt *p, size_t at)
{
	mbstate_t	mbs;
	size_t		n;

	memset(&mbs, 0, sizeof mbs);
	n = mbrlen(p->text + at, p->len - at, &mbs);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0)
		return 1;
	return n;
}

/* The offset of the character before offset at. */
static size_t
console_prompt_prev(struct console_prompt *p, size_t at)
{
	size_t	i = 0, n;

	while (i < at && i + (n = console_prompt_charlen(p, i)) < at)
		i += n;
	return i;
}

/* Insert n bytes at the cursor, if there is room. */
static void
console_prompt_insert(struct console_prompt *p, const char *s, size_t n)
{
	if (p->len + n > CONSOLE_PROMPT_MAX)
		return;
	memmove(p->text + p->cursor + n, p->text + p->cursor,
	    p->len - p->cursor + 1);
	memcpy(p->text + p->cursor, s, n);
	p->len += n;
	p->cursor += n;
}

/* Remove the bytes from offset from to offset to; the cursor goes to from. */
static void
console_prompt_delete(struct console_prompt *p, size_t from, size_t to)
{
	memmove(p->text + from, p->text + to, p->len - to + 1);
	p->len -= to - from;
	p->cursor = from;
}

/* Take one byte of a multibyte character; insert it once it is whole. */
static void
console_prompt_byte(struct console_prompt *p, int key)
{
	mbstate_t	mbs;
	size_t		n;

	p->pending[p->npending++] = (char)key;
	memset(&mbs, 0, sizeof mbs);
	n = mbrlen(p->pending, p->npending, &mbs);
	if (n == (size_t)-2 && p->npending < sizeof p->pending)
		return;
	console_prompt_insert(p, p->pending, p->npending);
	p->npending = 0;
}

/* The start of the word before the cursor: a path's component or a word. */
static size_t
console_prompt_word(struct console_prompt *p)
{
	size_t	at = p->cursor;

	while (at > 0 && (p->text[at - 1] == ' ' || p->text[at - 1] == '/'))
		at--;
	while (at > 0 && p->text[at - 1] != ' ' && p->text[at - 1] != '/')
		at--;
	return at;
}

/* Edit the field with one key; say what the key asks of the caller. */
enum console_prompt_key
console_prompt_key(struct console_prompt *p, int key)
{
	char	ch;

	if (key >= 0x80 && key <= 0xff) {
		console_prompt_byte(p, key);
		return CONSOLE_PROMPT_EDITED;
	}
	if (p->npending > 0) {
		console_prompt_insert(p, p->pending, p->npending);
		p->npending = 0;
	}
	if (key >= 0x20 && key < CONSOLE_PROMPT_DEL) {
		ch = (char)key;
		console_prompt_insert(p, &ch, 1);
		return CONSOLE_PROMPT_EDITED;
	}
	switch (key) {
	case '\r':
	case '\n':
	case KEY_ENTER:
		return CONSOLE_PROMPT_ACCEPT;
	case CONSOLE_PROMPT_ESC:
	case CONSOLE_PROMPT_CTRL('G'):
		return CONSOLE_PROMPT_CANCEL;
	case '\t':
		return CONSOLE_PROMPT_TAB;
	case KEY_LEFT:
		p->cursor = console_prompt_prev(p, p->cursor);
		break;
	case KEY_RIGHT:
		if (p->cursor < p->len)
			p->cursor += console_prompt_charlen(p, p->cursor);
		break;
	case KEY_HOME:
	case CONSOLE_PROMPT_CTRL('A'):
		p->cursor = 0;
		break;
	case KEY_END:
	case CONSOLE_PROMPT_CTRL('E'):
		p->cursor = p->len;
		break;
	case KEY_BACKSPACE:
	case CONSOLE_PROMPT_DEL:
	case CONSOLE_PROMPT_CTRL('H'):
		console_prompt_delete(p, console_prompt_prev(p, p->cursor),
		    p->cursor);
		break;
	case KEY_DC:
	case CONSOLE_PROMPT_CTRL('D'):
		if (p->cursor < p->len)
			console_prompt_delete(p, p->cursor, p->cursor +
			    console_prompt_charlen(p, p->cursor));
		break;
	case CONSOLE_PROMPT_CTRL('U'):
		console_prompt_delete(p, 0, p->cursor);
		break;
	case CONSOLE_PROMPT_CTRL('W'):
		console_prompt_delete(p, console_prompt_word(p), p->cursor);
		break;
	default:
		return CONSOLE_PROMPT_IGNORED;
	}
	return CONSOLE_PROMPT_EDITED;
}

/*
 * The columns of the character at s (n bytes long at most), whose length
 * goes to *len; -1 for one drawn as '?' (invalid or unprintable).
 */
static int
console_prompt_cell(const char *s, size_t n, size_t *len)
{
	mbstate_t	mbs;
	wchar_t		wc;
	int		w;

	memset(&mbs, 0, sizeof mbs);
	*len = mbrtowc(&wc, s, n, &mbs);
	if (*len == (size_t)-1 || *len == (size_t)-2 || *len == 0 ||
	    (w = wcwidth(wc)) < 0) {
		*len = 1;
		return -1;
	}
	return w;
}

/* The columns the bytes of text from offset from to offset to take. */
static int
console_prompt_columns(const char *text, size_t from, size_t to)
{
	size_t	n;
	int	cols = 0, w;

	while (from < to) {
		w = console_prompt_cell(text + from, to - from, &n);
		cols += w < 0 ? 1 : w;
		from += n;
	}
	return cols;
}

/*
 * Choose the first character shown in width columns: the cursor's cell
 * stays in view, and no columns are left empty while text is hidden on
 * the left.
 */
static void
console_prompt_scroll(struct console_prompt *p, int width)
{
	size_t	prev;

	if (p->first > p->cursor)
		p->first = p->cursor;
	while (p->first > 0) {
		prev = console_prompt_prev(p, p->first);
		if (console_prompt_columns(p->text, prev, p->len) + 1 > width)
			break;
		p->first = prev;
	}
	while (p->first < p->cursor &&
	    console_prompt_columns(p->text, p->first, p->cursor) + 1 > width)
		p->first += console_prompt_charlen(p, p->first);
}

/* Draw the field in width columns at y, x, the cursor's cell reversed. */
static void
console_prompt_field(struct console_prompt *p, int y, int x, int width,
    attr_t attr)
{
	size_t	at, n;
	int	col = 0, w;

	console_prompt_scroll(p, width);
	move(y, x);
	for (at = p->first; at < p->len; at += n) {
		w = console_prompt_cell(p->text + at, p->len - at, &n);
		if (col + (w < 0 ? 1 : w) > width)
			break;
		attrset(at == p->cursor ? attr | A_REVERSE : attr);
		if (w < 0)
			addch('?');
		else
			addnstr(p->text + at, (int)n);
		col += w < 0 ? 1 : w;
	}
	attrset(attr);
	if (p->cursor == p->len && col < width) {
		attrset(attr | A_REVERSE);
		addch(' ');
		attrset(attr);
		col++;
	}
	for (; col < width; col++)
		addch(' ');
	attrset(A_NORMAL);
}

/*
 * Draw the line at y: the label, the field, and a message on the right
 * (in the colour of warnings if bad), or none if message is NULL.
 */
void
console_prompt_draw(struct console *c, struct console_prompt *p, int y,
    const char *label, const char *message, int bad)
{
	int	labelw, msgw = 0, fieldw;

	labelw = console_prompt_columns(label, 0, strlen(label)) + 1;
	if (message != NULL) {
		msgw = console_prompt_columns(message, 0, strlen(message)) + 2;
		if (msgw > COLS / 2)
			msgw = COLS / 2;
	}
	if (labelw > COLS - msgw - 1)
		labelw = COLS - msgw - 1;
	fieldw = COLS - labelw - msgw;
	console_draw_text(c, y, 0, 1, c->attrs[CONSOLE_C_NORMAL], "");
	console_draw_text(c, y, 1, labelw - 1, c->attrs[CONSOLE_C_PROMPT],
	    label);
	if (fieldw > 0)
		console_prompt_field(p, y, labelw, fieldw,
		    c->attrs[CONSOLE_C_NORMAL]);
	if (message != NULL)
		console_draw_text(c, y, COLS - msgw, msgw,
		    c->attrs[bad ? CONSOLE_C_BAD : CONSOLE_C_DIM], message);
}

/* text with a leading "~" or "~/" standing for $HOME, as a new string. */
char *
console_prompt_expand(const char *text)
{
	const char	*home = getenv("HOME");
	char		*path;

	if (home == NULL || text[0] != '~' || (text[1] != '\0' &&
	    text[1] != '/'))
		return xstrdup(text);
	xasprintf(&path, "%s%s", home, text + 1);
	return path;
}

/* Order matches: .blend files and folders first, then by name. */
static int
console_prompt_order(const void *a, const void *b)
{
	const struct console_prompt_match	*x = a, *y = b;
	int					 xf, yf;

	xf = x->blend || x->folder;
	yf = y->blend || y->folder;
	if (xf != yf)
		return yf - xf;
	return strcmp(x->name, y->name);
}

/* Whether the entry name in the open folder d is a folder (links followed). */
static int
console_prompt_is_folder(DIR *d, const struct dirent *de)
{
	struct stat	sb;

	if (de->d_type == DT_DIR)
		return 1;
	if (de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
		return 0;
	return fstatat(dirfd(d), de->d_name, &sb, 0) == 0 &&
	    S_ISDIR(sb.st_mode);
}

/*
 * List the entries of folder path whose names start with base (hidden
 * ones only if base starts with '.'), reading at most
 * CONSOLE_PROMPT_MAX_ENTRIES entries; *full says whether it stopped
 * there. Returns the number of matches, or -1 with *cause.
 */
static int
console_prompt_list(const char *path, const char *base,
    struct console_prompt_match **out, int *full, char **cause)
{
	struct console_prompt_match	*m = NULL;
	struct dirent			*de;
	DIR				*d;
	size_t				 blen = strlen(base), nlen;
	int				 n = 0, seen = 0;

	if ((d = opendir(path)) == NULL) {
		xasprintf(cause, _("cannot list %s: %s"), path,
		    strerror(errno));
		return -1;
	}
	*full = 0;
	while ((de = readdir(d)) != NULL) {
		if (++seen > CONSOLE_PROMPT_MAX_ENTRIES) {
			*full = 1;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strncmp(de->d_name, base, blen) != 0 ||
		    (de->d_name[0] == '.' && base[0] != '.'))
			continue;
		m = xreallocarray(m, (size_t)n + 1, sizeof *m);
		m[n].name = xstrdup(de->d_name);
		m[n].folder = console_prompt_is_folder(d, de);
		nlen = strlen(de->d_name);
		m[n].blend = nlen > 6 && strcmp(de->d_name + nlen - 6,
		    ".blend") == 0;
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(m, (size_t)n, sizeof *m, console_prompt_order);
	*out = m;
	return n;
}

/* The bytes every name in m starts with. */
static size_t
console_prompt_common(const struct console_prompt_match *m, int n)
{
	size_t	len = strlen(m[0].name);
	int	i;

	for (i = 1; i < n; i++) {
		while (len > 0 && strncmp(m[0].name, m[i].name, len) != 0)
			len--;
	}
	return len;
}

/* The message naming the first of n matches. */
static char *
console_prompt_named(const struct console_prompt_match *m, int n, int full)
{
	char	*msg, *more;
	int	 i;

	if (full)
		xasprintf(&msg, _("%d matches in the first %d entries:"), n,
		    CONSOLE_PROMPT_MAX_ENTRIES);
	else
		xasprintf(&msg, _("%d matches:"), n);
	for (i = 0; i < n && i < CONSOLE_PROMPT_NAMED; i++) {
		xasprintf(&more, "%s %s%s", msg, m[i].name,
		    m[i].folder ? "/" : "");
		free(msg);
		msg = more;
	}
	if (n > CONSOLE_PROMPT_NAMED) {
		xasprintf(&more, "%s ...", msg);
		free(msg);
		msg = more;
	}
	return msg;
}

/*
 * Complete the file name in the field: "~" stands for $HOME and a
 * relative path starts in the server's working folder. One match is
 * completed (a folder with a '/'); several complete what they share and
 * *message names a few. *message is NULL or a new string to show.
 */
void
console_prompt_complete(struct console_prompt *p, char **message)
{
	struct console_prompt_match	*m = NULL;
	char				*slash, *folder, *path, *text;
	const char			*base;
	size_t				 keep, common;
	int				 n, i, full;

	*message = NULL;
	if (strcmp(p->text, "~") == 0) {
		console_prompt_set(p, "~/");
		return;
	}
	slash = strrchr(p->text, '/');
	keep = slash == NULL ? 0 : (size_t)(slash - p->text) + 1;
	base = p->text + keep;
	folder = keep == 0 ? xstrdup(".") : xstrndup(p->text, keep);
	path = console_prompt_expand(folder);
	n = console_prompt_list(path, base, &m, &full, message);
	free(path);
	free(folder);
	if (n == 0)
		xasprintf(message, _("no match"));
	if (n <= 0)
		return;

	common = console_prompt_common(m, n);
	xasprintf(&text, "%.*s%.*s%s", (int)keep, p->text, (int)common,
	    m[0].name, n == 1 && m[0].folder ? "/" : "");
	console_prompt_set(p, text);
	free(text);
	if (n > 1)
		*message = console_prompt_named(m, n, full);
	for (i = 0; i < n; i++)
		free(m[i].name);
	free(m);
}
