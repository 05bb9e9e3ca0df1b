/*
 * server.h: the farm server, the process that owns the jobs and hands out
 * frames.
 */
#ifndef SERVER_H
#define SERVER_H

struct settings;

struct server_options {
	const char	*port;
	const char	*jobdir;
	const char	*renderdir;
	int		 headless;
	char		**argv;		/* for re-executing itself */
};

int	server_main(struct settings *, const struct server_options *);

#endif
