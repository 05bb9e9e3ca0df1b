/*
 * farm.c: the table of jobs: adding, changing and removing them, finding
 * them by name, their hand-out order (priority, then age) and the names
 * under which their .blend files travel.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "farm.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

/* A name .blend files travel under, and the one file that does. */
struct farm_blend_name {
	char			*name;
	char			*path;
	size_t			 jobs;		/* that use it */
	struct farm_blend_name	*next;		/* in its bucket */
};

static void	farm_release_blend_name(struct farm *, struct job *);

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
	farm->max_held = FARM_MAX_HELD;
	farm->event = event;
	farm->event_arg = arg;
}

/* Release every job and host. */
void
farm_free(struct farm *farm)
{
	struct job		*job;
	struct farm_blend_name	*bn;
	size_t			 i;

	while ((job = TAILQ_FIRST(&farm->jobs)) != NULL) {
		TAILQ_REMOVE(&farm->jobs, job, entry);
		job_free(job);
	}
	free(farm->names);
	farm->names = NULL;
	farm->names_size = 0;
	farm->njobs = 0;
	for (i = 0; i < farm->blend_names_size; i++) {
		while ((bn = farm->blend_names[i]) != NULL) {
			farm->blend_names[i] = bn->next;
			free(bn->name);
			free(bn->path);
			free(bn);
		}
	}
	free(farm->blend_names);
	farm->blend_names = NULL;
	farm->blend_names_size = 0;
	farm->nblend_names = 0;
	host_free_all(farm);
}

/* Tell the observer about a change. */
static void
farm_notify(struct farm *farm, enum farm_event ev, struct job *job,
    long frame, const char *host, const char *detail)
{
	if (farm->event != NULL)
		farm->event(farm, ev, job, frame, host, detail, farm->event_arg);
}

/*
 * The bucket that name falls in, of a table of size buckets, a power of
 * two (FNV-1a).
 */
size_t
farm_hash(const char *name, size_t size)
{
	const unsigned char	*p;
	uint64_t		 h = 14695981039346656037ULL;

	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return (size_t)h & (size - 1);
}

/* The bucket of the table of job names that name falls in. */
static size_t
farm_name_bucket(const struct farm *farm, const char *name)
{
	return farm_hash(name, farm->names_size);
}

/* Double the table of names, so that a lookup stays a step or two. */
static void
farm_grow_names(struct farm *farm)
{
	struct job	*job;
	size_t		 i;

	farm->names_size = farm->names_size == 0 ? 64 : farm->names_size * 2;
	free(farm->names);
	farm->names = xcalloc(farm->names_size, sizeof *farm->names);
	TAILQ_FOREACH(job, &farm->jobs, entry) {
		i = farm_name_bucket(farm, job->name);
		job->name_next = farm->names[i];
		farm->names[i] = job;
	}
}

/* The job whose job file is called name, or NULL. */
struct job *
farm_find_job(struct farm *farm, const char *name)
{
	struct job	*job;

	if (farm->names_size == 0)
		return NULL;
	job = farm->names[farm_name_bucket(farm, name)];
	for (; job != NULL; job = job->name_next) {
		if (strcmp(job->name, name) == 0)
			return job;
	}
	return NULL;
}

/* Order for the queue: higher priority first, then older first. */
static int
farm_compare(const struct job *a, const struct job *b)
{
	if (a->priority != b->priority)
		return a->priority > b->priority ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

/*
 * Move a job whose priority or age changed to its place in the queue;
 * the others are in order.
 */
void
farm_reorder(struct farm *farm, struct job *job)
{
	struct job	*at;

	at = TAILQ_PREV(job, jobs, entry);
	if (at != NULL && farm_compare(at, job) > 0) {
		while (TAILQ_PREV(at, jobs, entry) != NULL &&
		    farm_compare(TAILQ_PREV(at, jobs, entry), job) > 0)
			at = TAILQ_PREV(at, jobs, entry);
		TAILQ_REMOVE(&farm->jobs, job, entry);
		TAILQ_INSERT_BEFORE(at, job, entry);
		return;
	}
	at = TAILQ_NEXT(job, entry);
	if (at != NULL && farm_compare(job, at) > 0) {
		while (TAILQ_NEXT(at, entry) != NULL &&
		    farm_compare(job, TAILQ_NEXT(at, entry)) > 0)
			at = TAILQ_NEXT(at, entry);
		TAILQ_REMOVE(&farm->jobs, job, entry);
		TAILQ_INSERT_AFTER(&farm->jobs, at, job, entry);
	}
}

/* Add a job with nothing known of it yet but its file name. */
struct job *
farm_add_job(struct farm *farm, const char *name)
{
	struct job	*job = xcalloc(1, sizeof *job);
	size_t		 i;

	job->name = xstrdup(name);
	job->seq = farm->next_seq++;
	TAILQ_INIT(&job->out);
	TAILQ_INSERT_TAIL(&farm->jobs, job, entry);
	farm_reorder(farm, job);
	if (++farm->njobs > farm->names_size)
		farm_grow_names(farm);
	else {
		i = farm_name_bucket(farm, name);
		job->name_next = farm->names[i];
		farm->names[i] = job;
	}
	return job;
}

/* Remove a job whose file is gone. */
void
farm_remove_job(struct farm *farm, struct job *job)
{
	struct job	**at;

	farm_notify(farm, FARM_JOB_REMOVED, job, 0, NULL, NULL);
	farm_release_blend_name(farm, job);
	at = &farm->names[farm_name_bucket(farm, job->name)];
	while (*at != job)
		at = &(*at)->name_next;
	*at = job->name_next;
	farm->njobs--;
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

/* Where .blend files travelling as name are counted, or NULL. */
static struct farm_blend_name **
farm_blend_name_slot(struct farm *farm, const char *name)
{
	struct farm_blend_name	**at;

	if (farm->blend_names_size == 0)
		return NULL;
	at = &farm->blend_names[farm_hash(name, farm->blend_names_size)];
	for (; *at != NULL; at = &(*at)->next) {
		if (strcmp((*at)->name, name) == 0)
			return at;
	}
	return NULL;
}

/* Double the table of .blend names. */
static void
farm_grow_blend_names(struct farm *farm)
{
	struct farm_blend_name	**old = farm->blend_names, *bn;
	size_t			  size = farm->blend_names_size, i, at;

	farm->blend_names_size = size == 0 ? 64 : size * 2;
	farm->blend_names = xcalloc(farm->blend_names_size,
	    sizeof *farm->blend_names);
	for (i = 0; i < size; i++) {
		while ((bn = old[i]) != NULL) {
			old[i] = bn->next;
			at = farm_hash(bn->name, farm->blend_names_size);
			bn->next = farm->blend_names[at];
			farm->blend_names[at] = bn;
		}
	}
	free(old);
}

/* Count a job's .blend under the name it travels as. */
static void
farm_hold_blend_name(struct farm *farm, struct job *job)
{
	struct farm_blend_name	**at, *bn;
	size_t			  i;

	if ((at = farm_blend_name_slot(farm, job->blend_name)) != NULL) {
		(*at)->jobs++;
		return;
	}
	if (++farm->nblend_names > farm->blend_names_size)
		farm_grow_blend_names(farm);
	bn = xcalloc(1, sizeof *bn);
	bn->name = xstrdup(job->blend_name);
	bn->path = xstrdup(job->blend_path);
	bn->jobs = 1;
	i = farm_hash(bn->name, farm->blend_names_size);
	bn->next = farm->blend_names[i];
	farm->blend_names[i] = bn;
}

/* A job's .blend no longer travels as its name: forget the name. */
static void
farm_release_blend_name(struct farm *farm, struct job *job)
{
	struct farm_blend_name	**at, *bn;

	if (job->blend_name == NULL)
		return;
	if ((at = farm_blend_name_slot(farm, job->blend_name)) == NULL)
		fatalx("%s travels as %s unknown", job->name, job->blend_name);
	bn = *at;
	if (--bn->jobs == 0) {
		*at = bn->next;
		free(bn->name);
		free(bn->path);
		free(bn);
		farm->nblend_names--;
	}
	free(job->blend_name);
	job->blend_name = NULL;
}

/*
 * Whether another .blend than self's already travels as name. Every job
 * of one name names the same file, so the table counts one file per name.
 */
int
farm_blend_name_taken(struct farm *farm, struct job *self, const char *name)
{
	struct farm_blend_name	**at = farm_blend_name_slot(farm, name);

	return at != NULL && strcmp((*at)->path, self->blend_path) != 0;
}

/*
 * Let a job's .blend travel as name, as it did before a restart, unless
 * another file travels as name now.
 */
void
farm_set_blend_name(struct farm *farm, struct job *job, const char *name)
{
	if (farm_blend_name_taken(farm, job, name))
		return;
	farm_release_blend_name(farm, job);
	job->blend_name = xstrdup(name);
	farm_hold_blend_name(farm, job);
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
	if (!farm_blend_name_taken(farm, job, safe)) {
		job->blend_name = xstrdup(safe);
		farm_hold_blend_name(farm, job);
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
	farm_hold_blend_name(farm, job);
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
		farm_release_blend_name(farm, job);
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
	farm_reorder(farm, job);
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

/* Whether two notes, either of which may be NULL, say the same. */
static int
farm_same_note(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * Set what is known of the files a job's .blend needs: whether they are
 * still being read (no frame goes out meanwhile), how many (the .blend
 * included) and how large, and how many are missing on the server, with
 * note naming them. A change of what is missing goes to the job's log.
 */
void
farm_set_files(struct farm *farm, struct job *job, int pending, size_t files,
    uint64_t bytes, size_t missing, const char *note)
{
	char	*detail = NULL;

	if (job->files_pending == pending && job->files == files &&
	    job->files_bytes == bytes && job->files_missing == missing &&
	    farm_same_note(job->files_note, note))
		return;
	if (!pending && !farm_same_note(job->files_note, note)) {
		if (note != NULL)
			xasprintf(&detail, "missing on the server: %s", note);
		else if (job->files_note != NULL)
			detail = xstrdup("every file it needs is found");
	}
	job->files_pending = pending;
	job->files = files;
	job->files_bytes = bytes;
	job->files_missing = missing;
	if (!pending) {
		free(job->files_note);
		job->files_note = note != NULL ? xstrdup(note) : NULL;
	}
	sched_changed(farm);
	farm_notify(farm, FARM_JOB_CHANGED, job, 0, NULL, detail);
	free(detail);
}

/*
 * A client's Blender did not find path, a file a frame of the job needs.
 * Counted, and logged until the job has as many reports as it keeps of
 * failures.
 */
void
farm_file_missed(struct farm *farm, struct job *job, long frame,
    const char *host, const char *path)
{
	char	*detail;

	job->client_missing++;
	free(job->client_missing_note);
	job->client_missing_note = xstrdup(path);
	if (job->client_missing > FARM_MAX_FAILURE_REPORTS) {
		farm_notify(farm, FARM_JOB_CHANGED, job, frame, host, NULL);
		return;
	}
	xasprintf(&detail, "frame %ld on %s: missing %s", frame, host, path);
	farm_notify(farm, FARM_JOB_CHANGED, job, frame, host, detail);
	free(detail);
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

/*
 * Whether any job whose .blend travels as name with digest wants a fresh
 * Blender per frame: clients know the option by .blend, and a scene that
 * needs it for one job is rendered so for all.
 */
int
farm_blend_fresh(struct farm *farm, const char *name, const char *digest)
{
	struct job	*job;

	TAILQ_FOREACH(job, &farm->jobs, entry) {
		if (job_ready(job) && job->fresh_blender &&
		    strcmp(job->blend_name, name) == 0 &&
		    strcmp(job->blend_digest, digest) == 0)
			return 1;
	}
	return 0;
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
