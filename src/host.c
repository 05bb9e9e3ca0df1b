/*
 * host.c: the hosts that render for the farm, known by the name they give
 * in HELO, with their connections and tallies, and the one session that
 * speaks for each while several use its name.
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

/*
 * A session from this host has begun, speaking version ext_version of the
 * extension (0 for the original protocol). The first extension session
 * under a name speaks for the host until it ends; another one under the
 * same name meanwhile (session, if not 0, tells them apart) only waits,
 * so that it cannot take frames from the first or fail them.
 */
void
host_connected(struct host *host, int ext_version, uint64_t session,
    farm_time now)
{
	host->connections++;
	if (ext_version > 0)
		host->live++;
	if (ext_version > 0 && host->session == 0)
		host->session = session;
	if (host_speaks(host, session))
		host->ext_version = ext_version;
	host->last_contact = now;
}

/*
 * A session from this host that spoke version ext_version of the
 * extension has ended. The last contact stays when the host was last
 * heard from, which is when a bdfarm client that went silent started to
 * be out of touch.
 */
void
host_disconnected(struct host *host, int ext_version, uint64_t session)
{
	if (host->connections > 0)
		host->connections--;
	if (ext_version > 0 && host->live > 0)
		host->live--;
	if (session != 0 && host->session == session)
		host->session = 0;
}

/* Whether session may act for the host: no other session speaks for it. */
int
host_speaks(const struct host *host, uint64_t session)
{
	return host->session == 0 || host->session == session;
}

/*
 * An extension session that waited under the host's name speaks for it
 * now that no other does. Returns 1 if it does.
 */
int
host_take_over(struct host *host, int ext_version, uint64_t session)
{
	if (ext_version == 0 || host->session != 0)
		return 0;
	host->session = session;
	host->ext_version = ext_version;
	return 1;
}

/* What a bdfarm client says of itself: renderers, cores, Blender. */
void
host_set_facts(struct host *host, int renderers, int cores,
    const char *blender)
{
	host->renderers = renderers;
	host->cores = cores;
	free(host->blender);
	host->blender = xstrdup(blender);
}

/* Whether the host keeps in touch through the extension right now. */
int
host_alive(const struct host *host)
{
	return host->live > 0;
}
