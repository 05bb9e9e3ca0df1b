/*
 * attach-proto.c: the lines an attached console and the server exchange
 * (see attach.h), formatted and parsed without any I/O.
 */
#include "bdfarm.h"

#include <stdio.h>
#include <string.h>

#include "attach.h"
#include "xmalloc.h"

/* Where the server of a job folder listens for consoles. */
char *
attach_path(const char *jobdir)
{
	char	*path;

	xasprintf(&path, "%s/%s", jobdir, ATTACH_SOCKET);
	return path;
}

/*
 * A terminal's size: at least 1 by 1, and at most ATTACH_ROWS_MAX by
 * ATTACH_COLS_MAX, beyond any real terminal: curses keeps a few copies of
 * the screen and resizing a huge one would hold the server's loop.
 */
static int
attach_size_ok(int rows, int cols)
{
	return rows >= 1 && rows <= ATTACH_ROWS_MAX && cols >= 1 &&
	    cols <= ATTACH_COLS_MAX;
}

/* A TERM: printable, without spaces, not empty. */
static int
attach_term_ok(const char *term)
{
	const char	*p;

	if (*term == '\0')
		return 0;
	for (p = term; *p != '\0'; p++) {
		if (*p <= ' ' || *p > '~' || *p == '/')
			return 0;
	}
	return 1;
}

/* The first line, newline included, into buf; -1 if it does not fit. */
int
attach_hello_format(const struct attach_hello *h, char *buf, size_t size)
{
	int	n;

	if (!attach_term_ok(h->term) || !attach_size_ok(h->rows, h->cols))
		return -1;
	n = snprintf(buf, size, "attach %d %s %d %d %d\n", h->version,
	    h->term, h->rows, h->cols, h->utf8 ? 1 : 0);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Parse the first line (without its newline); -1 if it is not one. */
int
attach_hello_parse(const char *line, struct attach_hello *h)
{
	char	term[sizeof h->term + 1];
	int	end = -1;

	memset(h, 0, sizeof *h);
	if (sscanf(line, "attach %d %64s %d %d %d%n", &h->version, term,
	    &h->rows, &h->cols, &h->utf8, &end) != 5 ||
	    end < 0 || line[end] != '\0' || strlen(term) >= sizeof h->term)
		return -1;
	if (h->version < 1 || !attach_term_ok(term) ||
	    !attach_size_ok(h->rows, h->cols) || (h->utf8 != 0 &&
	    h->utf8 != 1))
		return -1;
	memcpy(h->term, term, strlen(term) + 1);
	return 0;
}

/* Parse a size line (without its newline); -1 if it is not one. */
int
attach_size_parse(const char *line, int *rows, int *cols)
{
	int	end = -1;

	if (sscanf(line, "size %d %d%n", rows, cols, &end) != 2 || end < 0 ||
	    line[end] != '\0')
		return -1;
	return attach_size_ok(*rows, *cols) ? 0 : -1;
}
