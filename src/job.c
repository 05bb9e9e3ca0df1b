/*
 * job.c: one job's frames and counters. A job is a range of frames of one
 * .blend file; each frame is to do, out at a host (and maybe a second one
 * that renders a backup copy), done, or failed for good. Every change of
 * a frame's state goes through the functions here, which keep the job's
 * counters, its list of frames out and the hosts' tallies of frames held
 * in step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "farm.h"
#include "log.h"
#include "xmalloc.h"

/* Whether frames of the job may be handed out: valid and hashed. */
int
job_ready(const struct job *job)
{
	return job->invalid == NULL && job->frames != NULL &&
	    job->blend_digest[0] != '\0';
}

/* Whether every frame is either done or failed for good. */
int
job_finished(const struct job *job)
{
	return job->nframes > 0 && job->ndone + job->nfailed == job->nframes;
}

/* Whether host has failed on this job too often to get more of it. */
int
job_host_blocked(const struct job *job, const struct host *host)
{
	size_t		i;
	unsigned	n = 0;

	for (i = 0; i < job->nfailures; i++) {
		if (job->failures[i].host == host)
			n++;
	}
	return n >= FARM_MAX_FAILURES;
}

/* On how many different hosts frame n has failed. */
unsigned
job_frame_failures(const struct job *job, long n)
{
	size_t		i, j;
	unsigned	count = 0;

	for (i = 0; i < job->nfailures; i++) {
		if (job->failures[i].frame != n)
			continue;
		for (j = 0; j < i; j++) {
			if (job->failures[j].frame == n &&
			    job->failures[j].host == job->failures[i].host)
				break;
		}
		if (j == i)
			count++;
	}
	return count;
}

/* The frame numbered n, or NULL if the job has no such frame. */
struct frame *
job_frame(struct job *job, long n)
{
	if (job->frames == NULL || n < job->first || n > job->last)
		return NULL;
	return &job->frames[n - job->first];
}

/* The number of the frame f of job. */
long
job_frame_number(const struct job *job, const struct frame *f)
{
	return job->first + (long)(f - job->frames);
}

/* Let host hold frame f, as its renderer or as the backup. */
static void
job_frame_hold(struct frame *f, struct host *host)
{
	if (f->host == NULL)
		f->host = host;
	else
		f->backup = host;
	host->held++;
}

/* Whether host held frame number before, by the job's list of them. */
static int
job_frame_held_before(const struct job *job, long number,
    const struct host *host)
{
	size_t	i;

	for (i = 0; i < job->npast; i++) {
		if (job->past[i].frame == number && job->past[i].host == host)
			return 1;
	}
	return 0;
}

/* Remember that host held frame f, once per frame and host. */
static void
job_frame_remember(struct job *job, const struct frame *f,
    struct host *host)
{
	long	number = job_frame_number(job, f);

	if (job_frame_held_before(job, number, host))
		return;
	job->past = xreallocarray(job->past, job->npast + 1,
	    sizeof *job->past);
	job->past[job->npast].frame = number;
	job->past[job->npast].host = host;
	job->npast++;
}

/* Forget the earlier holders of frame f: it is done. */
static void
job_frame_forget(struct job *job, const struct frame *f)
{
	long	number = job_frame_number(job, f);
	size_t	i, kept = 0;

	for (i = 0; i < job->npast; i++) {
		if (job->past[i].frame != number)
			job->past[kept++] = job->past[i];
	}
	job->npast = kept;
}

/*
 * Whether host has frame f, as its renderer or as the backup, or had it
 * before while it was not done: the hosts whose result is welcome.
 */
int
job_frame_had(const struct job *job, const struct frame *f,
    const struct host *host)
{
	if (host == NULL)
		return 0;
	if (f->state == FRAME_OUT && (f->host == host || f->backup == host))
		return 1;
	return job_frame_held_before(job, job_frame_number(job, f), host);
}

/*
 * Host no longer holds frame f of job: a backup copy's host becomes the
 * only one, not yet known to have started it, and host is remembered as
 * one that had it. Returns the host that still holds it, or NULL.
 */
struct host *
job_frame_release(struct job *job, struct frame *f, struct host *host)
{
	if (f->host == host) {
		f->host = f->backup;
		f->backup = NULL;
		f->started = 0;
	} else if (f->backup == host)
		f->backup = NULL;
	else
		return f->host;
	if (host->held > 0)
		host->held--;
	if (f->host == NULL)
		f->progress = 0;
	job_frame_remember(job, f, host);
	return f->host;
}

/* Take a frame out of whatever state it is in, keeping the counts. */
static void
job_frame_leave(struct job *job, struct frame *f)
{
	size_t	index = (size_t)(f - job->frames);

	if (f->state == FRAME_OUT) {
		while (f->host != NULL)
			job_frame_release(job, f, f->host);
		TAILQ_REMOVE(&job->out, f, out_entry);
		job->nout--;
	} else if (f->state == FRAME_FAILED)
		job->nfailed--;
	else if (f->state == FRAME_DONE) {
		job->ndone--;
		if (job->renders != NULL) {
			free(job->renders[index].file);
			memset(&job->renders[index], 0,
			    sizeof job->renders[index]);
		}
	}
	f->state = FRAME_TODO;
	f->started = 0;
	f->progress = 0;
	if (index < job->next_todo)
		job->next_todo = index;
}

/* Put frame f in state, which is not FRAME_OUT (see job_frame_out). */
void
job_frame_set(struct job *job, struct frame *f, enum frame_state state)
{
	job_frame_leave(job, f);
	f->state = (uint8_t)state;
	if (state == FRAME_DONE) {
		job->ndone++;
		job_frame_forget(job, f);
	}
	else if (state == FRAME_FAILED)
		job->nfailed++;
}

/*
 * Hand frame f out to host alone, as of since: it joins the job's list of
 * frames out at its place in the order of hand-out.
 */
void
job_frame_out(struct job *job, struct frame *f, struct host *host,
    farm_time since)
{
	struct frame	*g;

	job_frame_leave(job, f);
	f->state = FRAME_OUT;
	f->since = since;
	job->nout++;
	job_frame_hold(f, host);
	TAILQ_FOREACH_REVERSE(g, &job->out, frame_list, out_entry) {
		if (g->since <= since)
			break;
	}
	if (g == NULL)
		TAILQ_INSERT_HEAD(&job->out, f, out_entry);
	else
		TAILQ_INSERT_AFTER(&job->out, g, f, out_entry);
}

/* Let a second host render a backup copy of frame f, which is out. */
void
job_frame_backup(struct frame *f, struct host *host)
{
	job_frame_hold(f, host);
}

/* Take every frame out of the list of frames out, releasing its hosts. */
static void
job_clear_out(struct job *job)
{
	struct frame	*f;

	while ((f = TAILQ_FIRST(&job->out)) != NULL)
		job_frame_leave(job, f);
}

/* Forget every failure report of a job. */
static void
job_free_failures(struct job *job)
{
	size_t	i;

	for (i = 0; i < job->nfailures; i++)
		free(job->failures[i].reason);
	free(job->failures);
	job->failures = NULL;
	job->nfailures = 0;
}

/* Forget how each frame of a job was rendered. */
static void
job_free_renders(struct job *job)
{
	size_t	i;

	if (job->renders != NULL) {
		for (i = 0; i < job->nframes; i++)
			free(job->renders[i].file);
	}
	free(job->renders);
	job->renders = NULL;
}

/*
 * Record that host failed to render frame number at when, for the reason
 * given (which may carry Blender's last lines), or NULL if not known.
 */
void
job_add_failure(struct job *job, long number, struct host *host,
    farm_time when, const char *reason)
{
	struct job_failure	*jf;

	job->failures = xreallocarray(job->failures, job->nfailures + 1,
	    sizeof *job->failures);
	jf = &job->failures[job->nfailures++];
	jf->frame = number;
	jf->host = host;
	jf->when = when;
	jf->reason = reason != NULL ? xstrdup(reason) : NULL;
}

/* Forget the failure reports for which drop returns non-zero. */
void
job_drop_failures(struct job *job, int (*drop)(const struct job *,
    const struct job_failure *, void *), void *arg)
{
	size_t	i, kept = 0;

	for (i = 0; i < job->nfailures; i++) {
		if (drop(job, &job->failures[i], arg))
			free(job->failures[i].reason);
		else
			job->failures[kept++] = job->failures[i];
	}
	job->nfailures = kept;
}

/* The record of frame number, made ready to be written. */
static struct job_render *
job_render_slot(struct job *job, long number)
{
	struct frame	*f = job_frame(job, number);

	if (f == NULL)
		return NULL;
	if (job->renders == NULL)
		job->renders = xcalloc(job->nframes, sizeof *job->renders);
	return &job->renders[f - job->frames];
}

/*
 * Record that host rendered frame number, which arrived at finished after
 * took milliseconds (-1 if not known).
 */
void
job_record_render(struct job *job, long number, const char *host,
    farm_time finished, farm_time took)
{
	struct job_render	*r = job_render_slot(job, number);
	size_t			 i;

	if (r == NULL)
		return;
	job->latest = (size_t)(r - job->renders) + 1;
	r->rendered = 1;
	r->finished = finished;
	r->took = took;
	r->host = 0;
	for (i = 0; i < job->nhosts && host != NULL; i++) {
		if (strcmp(job->hosts[i].name, host) == 0)
			r->host = i + 1;
	}
}

/* Record the name and size of frame number's stored file. */
void
job_record_file(struct job *job, long number, const char *file,
    uint64_t size)
{
	struct job_render	*r = job_render_slot(job, number);

	if (r == NULL)
		return;
	free(r->file);
	r->file = xstrdup(file);
	r->size = size;
}

/* How frame number was rendered, or NULL if nothing is known. */
const struct job_render *
job_render_of(const struct job *job, long number)
{
	const struct job_render	*r;

	if (job->renders == NULL || number < job->first || number > job->last)
		return NULL;
	r = &job->renders[number - job->first];
	return r->rendered || r->file != NULL ? r : NULL;
}

/* The name of the host that rendered r, or NULL. */
const char *
job_render_host(const struct job *job, const struct job_render *r)
{
	if (r->host == 0 || r->host > job->nhosts)
		return NULL;
	return job->hosts[r->host - 1].name;
}

/* Forget every frame's progress: the job starts over. */
void
job_reset_frames(struct job *job)
{
	size_t	i;

	job_clear_out(job);
	job_free_renders(job);
	job->latest = 0;
	free(job->frames);
	job->frames = NULL;
	job->nframes = 0;
	if (job->invalid == NULL && job->last >= job->first) {
		job->nframes = (size_t)(job->last - job->first) + 1;
		job->frames = xcalloc(job->nframes, sizeof *job->frames);
	}
	job->ndone = job->nout = job->nfailed = job->next_todo = 0;
	job_free_failures(job);
	free(job->past);
	job->past = NULL;
	job->npast = 0;
	job->complete = 0;
	job->backups = 0;
	job->frame_time_sum = 0;
	job->frame_time_count = 0;
	for (i = 0; i < job->nhosts; i++)
		free(job->hosts[i].name);
	free(job->hosts);
	job->hosts = NULL;
	job->nhosts = 0;
}

/* Add count rendered frames to a host's tally for this job. */
void
job_count_host(struct job *job, const char *name, unsigned count)
{
	size_t	i;

	for (i = 0; i < job->nhosts; i++) {
		if (strcmp(job->hosts[i].name, name) == 0) {
			job->hosts[i].count += count;
			return;
		}
	}
	job->hosts = xreallocarray(job->hosts, job->nhosts + 1,
	    sizeof *job->hosts);
	job->hosts[job->nhosts].name = xstrdup(name);
	job->hosts[job->nhosts].count = count;
	job->nhosts++;
}

/* Release a job that is no longer in any list. */
void
job_free(struct job *job)
{
	size_t	i;

	job_clear_out(job);
	for (i = 0; i < job->nhosts; i++)
		free(job->hosts[i].name);
	free(job->hosts);
	job_free_failures(job);
	job_free_renders(job);
	free(job->past);
	free(job->frames);
	free(job->name);
	free(job->blend_path);
	free(job->blend_name);
	free(job->invalid);
	free(job->unavailable);
	free(job->files_note);
	free(job->client_missing_note);
	free(job);
}

/*
 * The numbers of the job's failed frames as ranges, "3, 7-9", in buf of
 * len bytes; a list too long for buf stops after a whole range with ", ...".
 */
void
job_failed_text(const struct job *job, char *buf, size_t len)
{
	char	*text = NULL, *cut;
	size_t	 size = 0, i = 0, j;
	FILE	*f;

	if (len == 0)
		return;
	if ((f = open_memstream(&text, &size)) == NULL)
		fatal("open_memstream");
	while (i < job->nframes) {
		if (job->frames[i].state != FRAME_FAILED) {
			i++;
			continue;
		}
		for (j = i; j + 1 < job->nframes &&
		    job->frames[j + 1].state == FRAME_FAILED; j++)
			;
		fprintf(f, "%s%ld", ftell(f) == 0 ? "" : ", ",
		    job->first + (long)i);
		if (j > i)
			fprintf(f, "-%ld", job->first + (long)j);
		i = j + 1;
	}
	if (fclose(f) != 0)
		fatal("open_memstream");
	if (size < len)
		snprintf(buf, len, "%s", text);
	else {
		/* Keep whole ranges and room for ", ...". */
		text[len > 6 ? len - 6 : 0] = '\0';
		if ((cut = strrchr(text, ',')) != NULL)
			*cut = '\0';
		snprintf(buf, len, "%s%s...", cut != NULL ? text : "",
		    cut != NULL ? ", " : "");
	}
	free(text);
}

/* How many hosts may no longer render this job. */
size_t
job_blocked_hosts(const struct job *job)
{
	size_t	i, j, n = 0;

	for (i = 0; i < job->nfailures; i++) {
		for (j = 0; j < i; j++) {
			if (job->failures[j].host == job->failures[i].host)
				break;
		}
		if (j == i && job_host_blocked(job, job->failures[i].host))
			n++;
	}
	return n;
}
