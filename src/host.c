/*
 * host.c: the hosts that render for the farm, known by the name they give
 * in HELO, with their connections and tallies.
 */
#include <stdlib.h>
#include <string.h>

#include "farm.h"
#include "xmalloc.h"

/* The host called name, or NULL. */
struct host *
host_find(struct farm *farm, const char *name)
{
	struct host	*host;

	TAILQ_FOREACH(host, &farm->hosts, entry) {
		if (strcmp(host->name, name) == 0)
			return host;
	}
	return NULL;
}

/* The host called name, created if it is new. */
struct host *
host_get(struct farm *farm, const char *name)
{
	struct host	*host;

	if ((host = host_find(farm, name)) != NULL)
		return host;
	host = xcalloc(1, sizeof *host);
	host->name = xstrdup(name);
	TAILQ_INSERT_TAIL(&farm->hosts, host, entry);
	return host;
}

/* A session from this host has begun. */
void
host_connected(struct host *host, int bdfarm, farm_time now)
{
	host->connections++;
	host->bdfarm = bdfarm;
	host->last_contact = now;
}

/* A session from this host has ended. */
void
host_disconnected(struct host *host, farm_time now)
{
	if (host->connections > 0)
		host->connections--;
	host->last_contact = now;
}
