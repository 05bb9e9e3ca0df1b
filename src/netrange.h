/*
 * netrange.h: lists of address ranges ("10.0.0.0/8 ::1") and whether an
 * address falls in one. Pure code: parsing and comparing, no sockets.
 */
#ifndef NETRANGE_H
#define NETRANGE_H

#include <stddef.h>

struct sockaddr;

/* One range: an address of a family and how many leading bits count. */
struct netrange {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
	unsigned int	 bits;
};

int	netrange_parse(const char *, struct netrange **, size_t *, char **);
int	netrange_match(const struct netrange *, size_t,
	    const struct sockaddr *);

#endif
