/*
 * attach.h: a console attached to a running server. `bdfarm --attach
 * JOBDIR` connects to the Unix socket ATTACH_SOCKET in the job folder and
 * lends the server its terminal: it passes one end of a socket pair with
 * its first line, then copies its keys into that socket and whatever
 * comes out of it onto its terminal. The server draws its console there.
 *
 * The lines on the connection itself, each ending in a newline:
 *	client:	attach 1 TERM ROWS COLS UTF8	(with the socket pair's end)
 *		size ROWS COLS			(the terminal was resized)
 *	server:	ok				(the console is open)
 *		error REASON			(and it closes)
 *		bye				(the console is closed)
 */
#ifndef ATTACH_H
#define ATTACH_H

#define ATTACH_SOCKET	".bdfarm.console"
#define ATTACH_VERSION	1
#define ATTACH_LINE_MAX	256
#define ATTACH_ROWS_MAX	500
#define ATTACH_COLS_MAX	1000

/* What the first line says. */
struct attach_hello {
	int	version;
	char	term[64];
	int	rows;
	int	cols;
	int	utf8;
};

/* attach-proto.c */
char	*attach_path(const char *);
int	 attach_hello_format(const struct attach_hello *, char *, size_t);
int	 attach_hello_parse(const char *, struct attach_hello *);
int	 attach_size_parse(const char *, int *, int *);

/* attach.c */
int	 attach_main(const char *);

#endif
