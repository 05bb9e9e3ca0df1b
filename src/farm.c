/*
 * farm.c: the table of jobs: adding, changing and removing them, their
 * hand-out order (priority, then age) and the names under which their
 * .blend files travel.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "farm.h"
#include "proto.h"
#include "xmalloc.h"

/* Start an empty farm; event receives every change. */
void
farm_init(struct farm *farm, farm_time redistribute_delay,
    farm_event_fn event, void *arg)
{
	memset(farm, 0, sizeof *farm);
	TAILQ_INIT(&farm->jobs);
	TAILQ_INIT(&farm->hosts);
	farm->next_seq = 1;
	farm->redistribute_delay = redistribute_delay;
	farm->event = event;
	farm->event_arg = arg;
}

/* Release every job and host. */
void
farm_free(struct farm *farm)
{
	struct job	*job;
	struct host	*host;

	while ((job = TAILQ_FIRST(&farm->jobs)) != NULL) {
		TAILQ_REMOVE(&farm->jobs, job, entry);
		job_free(job);
	}
	while ((host = TAILQ_FIRST(&farm->hosts)) != NULL) {
		TAILQ_REMOVE(&farm->hosts, host, entry);
		free(host->blender);
		free(host->name);
		free(host);
	}
}

/* Tell the observer about a change. */
static void
farm_notify(struct farm *farm, enum farm_event ev, struct job *job,
    long frame, const char *host, const char *detail)
{
	if (farm->event != NULL)
		farm->event(farm, ev, job, frame, host, detail, farm->event_arg);
}

/* The job whose job file is called name, or NULL. */
struct job *
farm_find_job(struct farm *farm, const char *name)
{
	struct job	*job;

	TAILQ_FOREACH(job, &farm->jobs, entry) {
		if (strcmp(job->name, name) == 0)
			return job;
	}
	return NULL;
}

/* Add a job with nothing known of it yet but its file name. */
struct job *
farm_add_job(struct farm *farm, const char *name)
{
	struct job	*job = xcalloc(1, sizeof *job);

	job->name = xstrdup(name);
	job->seq = farm->next_seq++;
	TAILQ_INSERT_TAIL(&farm->jobs, job, entry);
	farm_sort(farm);
	return job;
}

/* Remove a job whose file is gone. */
void
farm_remove_job(struct farm *farm, struct job *job)
{
	farm_notify(farm, FARM_JOB_REMOVED, job, 0, NULL, NULL);
	TAILQ_REMOVE(&farm->jobs, job, entry);
	job_free(job);
}

/* Whether a job's frames must not go out now, for either reason. */
static void
farm_update_suspended(struct job *job)
{
	job->suspended = job->held || job->unavailable != NULL;
}

/* Mark a job as refused for reason; its frames are forgotten. */
void
farm_set_invalid(struct farm *farm, struct job *job, const char *reason)
{
	free(job->invalid);
	job->invalid = xstrdup(reason);
	free(job->unavailable);
	job->unavailable = NULL;
	farm_update_suspended(job);
	job->job_digest[0] = '\0';
	job->blend_digest[0] = '\0';
	memset(&job->blend_id, 0, sizeof job->blend_id);
	job_reset_frames(job);
	farm_notify(farm, FARM_JOB_INVALID, job, 0, NULL, reason);
}

/* Whether another job with a different .blend already travels as name. */
int
farm_blend_name_taken(struct farm *farm, struct job *self, const char *name)
{
	struct job	*job;

	TAILQ_FOREACH(job, &farm->jobs, entry) {
		if (job != self && job->blend_name != NULL &&
		    strcmp(job->blend_name, name) == 0 &&
		    strcmp(job->blend_path, self->blend_path) != 0)
			return 1;
	}
	return 0;
}

/*
 * Give a job's .blend its protocol name: the base name made safe, or, if
 * another .blend already uses that, the stem with 8 digits of the path's
 * digest (and a counter in the unlikely case that is taken too), so that
 * distinct files never share a name.
 */
static void
farm_name_blend(struct farm *farm, struct job *job)
{
	char	 safe[PROTO_MAX_NAME + 1], hex[DIGEST_HEX_SIZE], *copy, *dot;
	char	*name = NULL, *ext = NULL;
	int	 n;

	copy = xstrdup(job->blend_path);
	proto_sanitize_name(basename(copy), safe, sizeof safe);
	free(copy);
	free(job->blend_name);
	job->blend_name = NULL;
	if (!farm_blend_name_taken(farm, job, safe)) {
		job->blend_name = xstrdup(safe);
		return;
	}
	digest_buffer(job->blend_path, strlen(job->blend_path), hex);
	hex[8] = '\0';
	if ((dot = strrchr(safe, '.')) != NULL && dot != safe) {
		*dot = '\0';
		ext = dot + 1;
	}
	for (n = 1; name == NULL || farm_blend_name_taken(farm, job, name);
	    n++) {
		char	counter[16] = "";

		if (n > 1)
			snprintf(counter, sizeof counter, "-%d", n);
		free(name);
		xasprintf(&name, "%.200s-%s%s%s%.40s", safe, hex, counter,
		    ext != NULL ? "." : "", ext != NULL ? ext : "");
	}
	job->blend_name = name;
}

/*
 * Set what a job file says. A job seen for the first time is added; a
 * change of contents (job_digest) makes the job start over.
 */
void
farm_set_definition(struct farm *farm, struct job *job, const char *blend,
    long first, long last, const char *job_digest)
{
	int	was_valid = job->job_digest[0] != '\0';

	if (was_valid && strcmp(job->job_digest, job_digest) == 0)
		return;
	free(job->invalid);
	job->invalid = NULL;
	if (job->blend_path == NULL || strcmp(job->blend_path, blend) != 0) {
		free(job->blend_path);
		job->blend_path = xstrdup(blend);
		job->blend_digest[0] = '\0';
		memset(&job->blend_id, 0, sizeof job->blend_id);
		farm_name_blend(farm, job);
	}
	job->first = first;
	job->last = last;
	snprintf(job->job_digest, sizeof job->job_digest, "%s", job_digest);
	job_reset_frames(job);
	farm_notify(farm, was_valid ? FARM_JOB_RESTARTED : FARM_JOB_ADDED, job,
	    0, NULL, was_valid ? "the job file changed" : NULL);
}

/*
 * Record the digest of a job's .blend, taken where id says. A digest that
 * differs from the one the frames were handed out with starts the job over;
 * a first digest makes the job ready, which the observer hears of too.
 */
void
farm_set_blend_digest(struct farm *farm, struct job *job, const char *digest,
    const struct file_id *id)
{
	int	first = job->blend_digest[0] == '\0', changed;

	changed = !first && strcmp(job->blend_digest, digest) != 0;
	snprintf(job->blend_digest, sizeof job->blend_digest, "%s", digest);
	job->blend_id = *id;
	if (changed) {
		job_reset_frames(job);
		farm_notify(farm, FARM_JOB_RESTARTED, job, 0, NULL,
		    "the .blend file changed");
	} else if (first)
		farm_notify(farm, FARM_JOB_CHANGED, job, 0, NULL, NULL);
}

/* Change a job's priority and so its place in the queue. */
void
farm_set_priority(struct farm *farm, struct job *job, int priority)
{
	if (job->priority == priority)
		return;
	job->priority = priority;
	farm_sort(farm);
	farm_notify(farm, FARM_JOB_CHANGED, job, 0, NULL, NULL);
}

/* Suspend or resume a job, as its .suspend file says. */
void
farm_set_suspended(struct farm *farm, struct job *job, int held)
{
	if (job->held == held)
		return;
	job->held = held;
	farm_update_suspended(job);
	farm_notify(farm, FARM_JOB_CHANGED, job, 0, NULL,
	    held ? "suspended" : "resumed");
}

/*
 * Pause a job whose files cannot be read now, for reason, or let it go on
 * (reason NULL). Its frames and tallies stay as they are; only a change of
 * reason is reported, so that a lasting fault is logged once.
 */
void
farm_set_unavailable(struct farm *farm, struct job *job, const char *reason)
{
	char	*detail;

	if (reason == NULL && job->unavailable == NULL)
		return;
	if (reason != NULL && job->unavailable != NULL &&
	    strcmp(reason, job->unavailable) == 0)
		return;
	free(job->unavailable);
	job->unavailable = reason != NULL ? xstrdup(reason) : NULL;
	farm_update_suspended(job);
	if (reason != NULL)
		xasprintf(&detail, "unavailable: %s", reason);
	else
		detail = xstrdup("available again");
	farm_notify(farm, FARM_JOB_CHANGED, job, 0, NULL, detail);
	free(detail);
}

/* Order for the queue: higher priority first, then older first. */
static int
farm_compare(const void *a, const void *b)
{
	const struct job	*ja = *(struct job * const *)a;
	const struct job	*jb = *(struct job * const *)b;

	if (ja->priority != jb->priority)
		return ja->priority > jb->priority ? -1 : 1;
	if (ja->seq != jb->seq)
		return ja->seq < jb->seq ? -1 : 1;
	return 0;
}

/* Put the jobs in hand-out order. */
void
farm_sort(struct farm *farm)
{
	struct job	*job, **all;
	size_t		 n = 0, i;

	TAILQ_FOREACH(job, &farm->jobs, entry)
		n++;
	if (n < 2)
		return;
	all = xreallocarray(NULL, n, sizeof *all);
	i = 0;
	while ((job = TAILQ_FIRST(&farm->jobs)) != NULL) {
		TAILQ_REMOVE(&farm->jobs, job, entry);
		all[i++] = job;
	}
	qsort(all, n, sizeof *all, farm_compare);
	for (i = 0; i < n; i++)
		TAILQ_INSERT_TAIL(&farm->jobs, all[i], entry);
	free(all);
}

/* The first job in queue order whose .blend travels as name with digest. */
struct job *
farm_find_blend(struct farm *farm, const char *name, const char *digest)
{
	struct job	*job;

	TAILQ_FOREACH(job, &farm->jobs, entry) {
		if (job_ready(job) && strcmp(job->blend_name, name) == 0 &&
		    strcmp(job->blend_digest, digest) == 0)
			return job;
	}
	return NULL;
}

/* Frames in all valid jobs; done and out receive their counts. */
size_t
farm_frames_total(struct farm *farm, size_t *done, size_t *out)
{
	struct job	*job;
	size_t		 total = 0;

	*done = *out = 0;
	TAILQ_FOREACH(job, &farm->jobs, entry) {
		total += job->nframes;
		*done += job->ndone;
		*out += job->nout;
	}
	return total;
}
