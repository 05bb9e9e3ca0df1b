/*
 * host.c: the hosts that render for the farm, known by the name they give
 * in HELO, with their connections and tallies, and the one session that
 * speaks for each while several use its name.
 */
#include <stdlib.h>
#include <string.h>

#include "farm.h"
#include "xmalloc.h"

/* The host called name, or NULL, in a step or two however many there are. */
struct host *
host_find(struct farm *farm, const char *name)
{
	struct host	*host;

	if (farm->host_names_size == 0)
		return NULL;
	host = farm->host_names[farm_hash(name, farm->host_names_size)];
	for (; host != NULL; host = host->name_next) {
		if (strcmp(host->name, name) == 0)
			return host;
	}
	return NULL;
}

/* Put host in its bucket of the table of names. */
static void
host_index(struct farm *farm, struct host *host)
{
	size_t	i = farm_hash(host->name, farm->host_names_size);

	host->name_next = farm->host_names[i];
	farm->host_names[i] = host;
}

/* Double the table of names, so that a lookup stays a step or two. */
static void
host_grow_names(struct farm *farm)
{
	struct host	*host;

	farm->host_names_size = farm->host_names_size == 0 ? 64 :
	    farm->host_names_size * 2;
	free(farm->host_names);
	farm->host_names = xcalloc(farm->host_names_size,
	    sizeof *farm->host_names);
	TAILQ_FOREACH(host, &farm->hosts, entry)
		host_index(farm, host);
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
	if (++farm->nhosts > farm->host_names_size)
		host_grow_names(farm);
	else
		host_index(farm, host);
	return host;
}

/* Release one host that is in no list any more. */
static void
host_free(struct host *host)
{
	size_t	i;

	for (i = 0; i < HOST_RESULTS; i++) {
		free(host->results[i].job);
		free(host->results[i].reason);
	}
	free(host->blender);
	free(host->name);
	free(host);
}

/* Release every host and the table of their names. */
void
host_free_all(struct farm *farm)
{
	struct host	*host;

	while ((host = TAILQ_FIRST(&farm->hosts)) != NULL) {
		TAILQ_REMOVE(&farm->hosts, host, entry);
		host_free(host);
	}
	free(farm->host_names);
	farm->host_names = NULL;
	farm->host_names_size = 0;
	farm->nhosts = 0;
}

/* Take host out of the list and the table of names, and release it. */
static void
host_remove(struct farm *farm, struct host *host)
{
	struct host	**at;

	at = &farm->host_names[farm_hash(host->name, farm->host_names_size)];
	while (*at != host)
		at = &(*at)->name_next;
	*at = host->name_next;
	TAILQ_REMOVE(&farm->hosts, host, entry);
	farm->nhosts--;
	host_free(host);
}

/*
 * Mark the hosts a job still names: those it has frames out to, those
 * that had a frame not done yet (whose late result is welcome), and
 * those its failures count against, which they may block.
 */
static void
host_mark_named(struct farm *farm)
{
	struct host	*host;
	struct job	*job;
	struct frame	*f;
	size_t		 i;

	TAILQ_FOREACH(host, &farm->hosts, entry)
		host->named = 0;
	TAILQ_FOREACH(job, &farm->jobs, entry) {
		TAILQ_FOREACH(f, &job->out, out_entry) {
			if (f->host != NULL)
				f->host->named = 1;
			if (f->backup != NULL)
				f->backup->named = 1;
		}
		for (i = 0; i < job->npast; i++)
			job->past[i].host->named = 1;
		for (i = 0; i < job->nfailures; i++)
			job->failures[i].host->named = 1;
	}
}

/*
 * Forget the hosts not heard from for after ms (one known only from the
 * saved state, since the farm started) that hold nothing: no session
 * open, no frame out, no failure a job counts against them. A job's
 * tally of frames per host keeps the names, as text. Returns how many
 * were forgotten; after 0 forgets none.
 */
size_t
host_forget(struct farm *farm, farm_time now, farm_time after)
{
	struct host	*host, *next;
	farm_time	 heard;
	size_t		 n = 0;

	if (after <= 0)
		return 0;
	host_mark_named(farm);
	TAILQ_FOREACH_SAFE(host, &farm->hosts, entry, next) {
		heard = host->last_contact > farm->started ?
		    host->last_contact : farm->started;
		if (host->connections > 0 || host->held > 0 || host->named ||
		    now - heard < after)
			continue;
		host_remove(farm, host);
		n++;
	}
	return n;
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
	if (session != 0 && host->session == session) {
		host->session = 0;
		host->nwarm = 0;	/* a new session says again */
		host->warm_said = 0;
	}
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

/*
 * What a bdfarm/4 client says of its warm Blenders: the frames each has
 * rendered, -1 for one that loads its scene. The first HOST_WARM count.
 */
void
host_set_warm(struct host *host, const long *lived, int n)
{
	if (n > HOST_WARM)
		n = HOST_WARM;
	if (n > 0)
		memcpy(host->warm, lived, (size_t)n * sizeof *host->warm);
	host->nwarm = n;
	host->warm_said = 1;
}

/* Whether the host keeps in touch through the extension right now. */
int
host_alive(const struct host *host)
{
	return host->live > 0;
}

/*
 * Remember what became of frame number of job on host at when: done after
 * took milliseconds, or failed for reason, of which the first line is
 * kept. The oldest of HOST_RESULTS results makes room.
 */
void
host_add_result(struct host *host, const char *job, long number, int failed,
    farm_time when, farm_time took, const char *reason)
{
	struct host_result	*r = &host->results[host->nresults % HOST_RESULTS];

	free(r->job);
	free(r->reason);
	r->job = xstrdup(job);
	r->frame = number;
	r->failed = failed;
	r->when = when;
	r->took = took;
	r->reason = reason != NULL ?
	    xstrndup(reason, strcspn(reason, "\n")) : NULL;
	host->nresults++;
}

/* The i-th latest result of host (0 is the latest), or NULL. */
const struct host_result *
host_result(const struct host *host, unsigned i)
{
	if (i >= host->nresults || i >= HOST_RESULTS)
		return NULL;
	return &host->results[(host->nresults - 1 - i) % HOST_RESULTS];
}
