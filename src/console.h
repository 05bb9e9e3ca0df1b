/*
 * console.h: the farm's terminal console, a view of the farm drawn with
 * ncurses on the server's own event loop: on the server's terminal, or on
 * the terminal of a `bdfarm --attach` that lends its keys and screen
 * through a socket. Every console draws the same model.
 */
#ifndef CONSOLE_H
#define CONSOLE_H

struct console;
struct server;

/* An attached terminal: a socket that carries its keys and its output. */
struct console_term {
	int		 fd;		/* dup'ed; the caller keeps its own */
	const char	*term;		/* its TERM */
	int		 rows;
	int		 cols;
	int		 utf8;		/* it takes UTF-8 */
	void		(*detach)(void *); /* the console is done with it */
	void		*arg;
};

int	console_start(struct server *, char **);
void	console_stop(struct server *);
void	console_hangup(struct server *);
struct console *console_attach(struct server *, const struct console_term *,
	    char **);
void	console_free(struct console *);
void	console_resize(struct console *, int, int);
void	console_changed(struct server *);
void	console_suspend(struct server *);
void	console_resume(struct server *);

#endif
