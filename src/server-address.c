/*
 * server-address.c: the connections counted by where they come from, so
 * that no one address takes every connection the server can serve. An
 * IPv4 address counts alone; an IPv6 address counts with the rest of its
 * /64, which one machine may hold whole.
 */
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "server.h"
#include "settings.h"
#include "xmalloc.h"

/* The connections open from one address, or one IPv6 /64. */
struct server_address {
	char			*name;
	int			 peers;
	struct server_address	*next;		/* in its bucket */
};

/*
 * The name connections from addr are counted under, in buf of len
 * bytes: the address, or an IPv6 address's /64 prefix.
 */
static void
server_address_name(const struct sockaddr *addr, socklen_t addrlen,
    char *buf, size_t len)
{
	struct sockaddr_in6	 six;
	char			 host[NI_MAXHOST];

	if (addr->sa_family == AF_INET6 && addrlen >= sizeof six) {
		memcpy(&six, addr, sizeof six);
		if (!IN6_IS_ADDR_V4MAPPED(&six.sin6_addr)) {
			memset(six.sin6_addr.s6_addr + 8, 0, 8);
			six.sin6_scope_id = 0;
			if (getnameinfo((struct sockaddr *)&six, sizeof six,
			    host, sizeof host, NULL, 0, NI_NUMERICHOST) == 0) {
				snprintf(buf, len, "%s/64", host);
				return;
			}
		}
	}
	if (getnameinfo(addr, addrlen, host, sizeof host, NULL, 0,
	    NI_NUMERICHOST) != 0)
		snprintf(host, sizeof host, "unknown");
	snprintf(buf, len, "%s", host);
}

/* Where the entry for name is, or would be, in its bucket. */
static struct server_address **
server_address_slot(struct server *s, const char *name)
{
	struct server_address	**at;

	at = &s->addresses[farm_hash(name, s->addresses_size)];
	while (*at != NULL && strcmp((*at)->name, name) != 0)
		at = &(*at)->next;
	return at;
}

/* Double the table of addresses, so that a lookup stays a step or two. */
static void
server_address_grow(struct server *s)
{
	struct server_address	**old = s->addresses, *a;
	size_t			  size = s->addresses_size, i, at;

	s->addresses_size = size == 0 ? 64 : size * 2;
	s->addresses = xcalloc(s->addresses_size, sizeof *s->addresses);
	for (i = 0; i < size; i++) {
		while ((a = old[i]) != NULL) {
			old[i] = a->next;
			at = farm_hash(a->name, s->addresses_size);
			a->next = s->addresses[at];
			s->addresses[at] = a;
		}
	}
	free(old);
}

/*
 * Count one more connection from addr, unless max_peers_per_address are
 * open from there already. Returns its entry, or NULL with the name it
 * is counted under in refused (of len bytes).
 */
struct server_address *
server_address_hold(struct server *s, const struct sockaddr *addr,
    socklen_t addrlen, char *refused, size_t len)
{
	struct server_address	**at, *a;
	char			  name[NI_MAXHOST + 4];
	int			  cap = s->settings->max_peers_per_address;

	server_address_name(addr, addrlen, name, sizeof name);
	if (s->addresses_size == 0)
		server_address_grow(s);
	at = server_address_slot(s, name);
	if ((a = *at) != NULL) {
		if (cap > 0 && a->peers >= cap) {
			snprintf(refused, len, "%s", name);
			return NULL;
		}
		a->peers++;
		return a;
	}
	if (s->naddresses + 1 > s->addresses_size) {
		server_address_grow(s);
		at = server_address_slot(s, name);
	}
	a = xcalloc(1, sizeof *a);
	a->name = xstrdup(name);
	a->peers = 1;
	*at = a;
	s->naddresses++;
	return a;
}

/* A connection counted in a has closed; forget a once none is left. */
void
server_address_release(struct server *s, struct server_address *a)
{
	struct server_address	**at;

	if (--a->peers > 0)
		return;
	at = server_address_slot(s, a->name);
	*at = a->next;
	free(a->name);
	free(a);
	s->naddresses--;
}

/* Release the table, once no connection is left. */
void
server_address_free(struct server *s)
{
	struct server_address	*a;
	size_t			 i;

	for (i = 0; i < s->addresses_size; i++) {
		while ((a = s->addresses[i]) != NULL) {
			s->addresses[i] = a->next;
			free(a->name);
			free(a);
		}
	}
	free(s->addresses);
	s->addresses = NULL;
	s->addresses_size = 0;
	s->naddresses = 0;
}
