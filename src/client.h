/*
 * client.h: the render client, the process that fetches frames from a
 * server, renders them with Blender and sends them back.
 */
#ifndef CLIENT_H
#define CLIENT_H

struct settings;

struct client_options {
	const char	*host;
	const char	*port;
	char		**argv;		/* for re-executing itself */
};

int	client_main(struct settings *, const struct client_options *);

#endif
