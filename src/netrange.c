/*
 * netrange.c: address ranges in the usual notation, ADDRESS or
 * ADDRESS/BITS, IPv4 or IPv6, separated by commas or white space. An IPv4
 * address that reaches an IPv6 socket as ::ffff:a.b.c.d is matched as the
 * IPv4 address it is, and a range written that way (::ffff:a.b.c.d/96 or
 * longer) is taken as the IPv4 range it is, so that it matches too.
 */
#include "bdfarm.h"
#include "netrange.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "xmalloc.h"

#define NETRANGE_SEPARATORS	", \t\n"

/* The first 12 bytes of an IPv4 address seen through an IPv6 socket. */
static const unsigned char netrange_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0xff, 0xff };

/* Parse one "ADDRESS[/BITS]" into r; -1 if it is not a range. */
static int
netrange_parse_one(const char *word, struct netrange *r)
{
	char		*copy = xstrdup(word), *slash, *end;
	unsigned int	 max;
	long		 bits;
	int		 rc = -1;

	memset(r, 0, sizeof *r);
	if ((slash = strchr(copy, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, copy, r->addr) == 1) {
		r->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, copy, r->addr) == 1) {
		r->family = AF_INET6;
		max = 128;
	} else
		goto out;
	r->bits = max;
	if (slash != NULL) {
		bits = strtol(slash, &end, 10);
		if (*slash == '\0' || *end != '\0' || bits < 0 ||
		    bits > (long)max)
			goto out;
		r->bits = (unsigned int)bits;
	}
	if (r->family == AF_INET6 && r->bits >= 96 &&
	    memcmp(r->addr, netrange_mapped, sizeof netrange_mapped) == 0) {
		memmove(r->addr, r->addr + sizeof netrange_mapped, 4);
		memset(r->addr + 4, 0, sizeof r->addr - 4);
		r->family = AF_INET;
		r->bits -= 96;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

/*
 * Parse a list of ranges into an allocated array; -1 and *cause naming
 * the first word that is not a range. An empty list allows nothing.
 */
int
netrange_parse(const char *list, struct netrange **out, size_t *n,
    char **cause)
{
	char	*copy = xstrdup(list), *word, *last = NULL;

	*out = NULL;
	*n = 0;
	for (word = strtok_r(copy, NETRANGE_SEPARATORS, &last); word != NULL;
	    word = strtok_r(NULL, NETRANGE_SEPARATORS, &last)) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		if (netrange_parse_one(word, &(*out)[*n]) != 0) {
			xasprintf(cause, _("'%s' is not an address range"),
			    word);
			free(*out);
			*out = NULL;
			*n = 0;
			free(copy);
			return -1;
		}
		(*n)++;
	}
	free(copy);
	return 0;
}

/* Whether the first bits of a and b are equal. */
static int
netrange_prefix_equal(const unsigned char *a, const unsigned char *b,
    unsigned int bits)
{
	unsigned int	whole = bits / 8, rest = bits % 8;
	unsigned char	mask;

	if (memcmp(a, b, whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

/* Whether sa, an IPv4 or IPv6 address, is in one of the n ranges. */
int
netrange_match(const struct netrange *r, size_t n, const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	const unsigned char		*addr;
	int				 family;
	size_t				 i;

	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		family = AF_INET;
		addr = (const unsigned char *)&sin->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		addr = sin6->sin6_addr.s6_addr;
		family = AF_INET6;
		if (memcmp(addr, netrange_mapped,
		    sizeof netrange_mapped) == 0) {
			family = AF_INET;
			addr += sizeof netrange_mapped;
		}
	} else
		return 0;
	for (i = 0; i < n; i++) {
		if (r[i].family == family &&
		    netrange_prefix_equal(r[i].addr, addr, r[i].bits))
			return 1;
	}
	return 0;
}
