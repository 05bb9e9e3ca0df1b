/*
 * console.h: the server's terminal console, a view of the farm drawn with
 * ncurses on the server's own event loop.
 */
#ifndef CONSOLE_H
#define CONSOLE_H

struct server;

int	console_start(struct server *, char **);
void	console_stop(struct server *);
void	console_suspend(struct server *);
void	console_resume(struct server *);

#endif
