/*
 * sched.c: which frame goes out next, and what happens when one comes
 * back. Fresh frames first, by queue order and lowest number; when there
 * are none, the frame out longest goes out again once it has been out for
 * the redistribution delay, but never to a client with no free renderer,
 * and never while the host that has it keeps in touch. Failures that bdfarm
 * clients report send a frame back at once, block a host that fails a job
 * too often, and set aside a frame that fails on too many hosts.
 */
#include <stdlib.h>
#include <string.h>

#include "farm.h"
#include "xmalloc.h"

/* Whether the job's frames may be handed out now. */
static int
sched_job_open(const struct job *job)
{
	return job_ready(job) && !job->suspended;
}

/* The lowest frame of job still to do, or NULL; advances next_todo. */
static struct frame *
sched_fresh(struct job *job, long *number)
{
	size_t	i;

	for (i = job->next_todo; i < job->nframes; i++) {
		if (job->frames[i].state == FRAME_TODO) {
			job->next_todo = i;
			*number = job->first + (long)i;
			return &job->frames[i];
		}
	}
	job->next_todo = job->nframes;
	return NULL;
}

/*
 * The frame out longest, if that is at least the delay, of the jobs host
 * (if any) is not blocked on; else NULL.
 */
static struct frame *
sched_overdue(struct farm *farm, const struct host *host, farm_time now,
    struct job **jobp, long *number)
{
	struct job	*job;
	struct frame	*best = NULL;
	size_t		 i;

	TAILQ_FOREACH(job, &farm->jobs, entry) {
		if (!sched_job_open(job) || job->nout == 0 ||
		    (host != NULL && job_host_blocked(job, host)))
			continue;
		for (i = 0; i < job->nframes; i++) {
			struct frame	*f = &job->frames[i];

			if (f->state != FRAME_OUT ||
			    now - f->since < farm->redistribute_delay ||
			    (f->host != NULL && host_alive(f->host)))
				continue;
			if (best == NULL || f->since < best->since) {
				best = f;
				*jobp = job;
				*number = job->first + (long)i;
			}
		}
	}
	return best;
}

/* Whether a client asking now could be given a frame (HELO's "todo"). */
int
sched_has_work(struct farm *farm, farm_time now)
{
	struct job	*job;
	long		 number;

	if (farm->stopping)
		return 0;
	TAILQ_FOREACH(job, &farm->jobs, entry) {
		if (sched_job_open(job) && sched_fresh(job, &number) != NULL)
			return 1;
	}
	return sched_overdue(farm, NULL, now, &job, &number) != NULL;
}

/*
 * Hand the next frame to host, which has available free renderers.
 * Returns 1 with *jobp and *number set, or 0 if there is nothing for it.
 */
int
sched_next(struct farm *farm, struct host *host, int available,
    farm_time now, struct job **jobp, long *number)
{
	struct job	*job;
	struct frame	*f = NULL;
	int		 resent;

	if (farm->stopping)
		return 0;
	TAILQ_FOREACH(job, &farm->jobs, entry) {
		if (sched_job_open(job) && !job_host_blocked(job, host) &&
		    (f = sched_fresh(job, number)) != NULL)
			break;
	}
	if (f == NULL && available > 0)
		f = sched_overdue(farm, host, now, &job, number);
	if (f == NULL)
		return 0;

	resent = f->state == FRAME_OUT;
	if (!resent) {
		job->nout++;
		job->next_todo = (size_t)(*number - job->first) + 1;
	}
	f->state = FRAME_OUT;
	f->progress = 0;
	f->sends++;
	f->since = now;
	f->host = host;
	*jobp = job;
	if (farm->event != NULL)
		farm->event(farm, resent || f->sends > 1 ? FARM_FRAME_RESENT :
		    FARM_FRAME_OUT, job, *number, host->name, NULL,
		    farm->event_arg);
	return 1;
}

/* How telling an answer is, when several jobs share a .blend. */
static int
sched_result_rank(enum farm_result r)
{
	switch (r) {
	case FARM_RESULT_OK:
		return 4;
	case FARM_RESULT_DONE:
		return 3;
	case FARM_RESULT_NOT_OUT:
		return 2;
	case FARM_RESULT_CHANGED:
		return 1;
	case FARM_RESULT_NO_JOB:
		break;
	}
	return 0;
}

/*
 * Whether a result for frame number of the .blend travelling as name with
 * digest is wanted: any frame that was handed out and is not done yet, even
 * if it went back to the queue meanwhile. On FARM_RESULT_OK, *jobp is the
 * job it belongs to: when several jobs share the .blend, the one whose
 * frame is out to host, else the first that wants it.
 */
enum farm_result
sched_check_result(struct farm *farm, const char *name, const char *digest,
    long number, const struct host *host, struct job **jobp)
{
	struct job	*job, *wanted = NULL;
	struct frame	*f;
	enum farm_result r, best = FARM_RESULT_NO_JOB;

	TAILQ_FOREACH(job, &farm->jobs, entry) {
		if (!job_ready(job) || strcmp(job->blend_name, name) != 0)
			continue;
		f = job_frame(job, number);
		if (strcmp(job->blend_digest, digest) != 0)
			r = FARM_RESULT_CHANGED;
		else if (f == NULL || f->sends == 0)
			r = FARM_RESULT_NOT_OUT;
		else if (f->state == FRAME_DONE)
			r = FARM_RESULT_DONE;
		else if (f->state == FRAME_OUT && f->host == host) {
			/* Of jobs sharing the .blend, the one that gave it. */
			*jobp = job;
			return FARM_RESULT_OK;
		} else {
			r = FARM_RESULT_OK;
			if (wanted == NULL)
				wanted = job;
		}
		if (sched_result_rank(r) > sched_result_rank(best))
			best = r;
	}
	if (wanted != NULL)
		*jobp = wanted;
	return best;
}

/*
 * The job a report about frame number of the .blend travelling as name
 * with digest is about: the one whose frame is out to host, else out to
 * anyone, else any that has the frame. Several jobs may share a .blend.
 */
struct job *
sched_find_frame(struct farm *farm, const char *name, const char *digest,
    long number, const struct host *host)
{
	struct job	*job, *out = NULL, *any = NULL;
	struct frame	*f;

	TAILQ_FOREACH(job, &farm->jobs, entry) {
		if (!job_ready(job) || strcmp(job->blend_name, name) != 0 ||
		    strcmp(job->blend_digest, digest) != 0 ||
		    (f = job_frame(job, number)) == NULL)
			continue;
		if (f->state == FRAME_OUT && f->host == host)
			return job;
		if (f->state == FRAME_OUT && out == NULL)
			out = job;
		if (any == NULL)
			any = job;
	}
	return out != NULL ? out : any;
}

/* Words for the log on why a result was refused. */
const char *
sched_result_reason(enum farm_result r)
{
	switch (r) {
	case FARM_RESULT_OK:
		return "accepted";
	case FARM_RESULT_NO_JOB:
		return "no such job";
	case FARM_RESULT_CHANGED:
		return "the .blend changed since the frame was handed out";
	case FARM_RESULT_NOT_OUT:
		return "the frame was never handed out";
	case FARM_RESULT_DONE:
		return "the frame is already done";
	}
	return "unknown";
}

/* Report the job's completion once, when no frame is left to render. */
static void
sched_check_complete(struct farm *farm, struct job *job)
{
	if (!job_finished(job) || job->complete)
		return;
	job->complete = 1;
	if (farm->event != NULL)
		farm->event(farm, FARM_JOB_COMPLETE, job, 0, NULL, NULL,
		    farm->event_arg);
}

/* Take a frame out of whatever state it is in, keeping the counts. */
static void
sched_leave_state(struct job *job, struct frame *f, long number)
{
	size_t	index = (size_t)(number - job->first);

	if (f->state == FRAME_OUT)
		job->nout--;
	else if (f->state == FRAME_FAILED)
		job->nfailed--;
	else if (f->state == FRAME_DONE)
		job->ndone--;
	f->host = NULL;
	f->progress = 0;
	if (index < job->next_todo)
		job->next_todo = index;
}

/* A frame has arrived whole from host: it is done. */
void
sched_frame_done(struct farm *farm, struct job *job, long number,
    struct host *host, farm_time now)
{
	struct frame	*f = job_frame(job, number);
	farm_time	 took;

	if (f == NULL || f->state == FRAME_DONE || f->sends == 0)
		return;
	took = now - f->since;
	sched_leave_state(job, f, number);
	f->state = FRAME_DONE;
	job->ndone++;
	job_count_host(job, host->name, 1);
	if (took >= 0) {
		job->frame_time_sum += took;
		job->frame_time_count++;
		host->frame_time_sum += took;
		host->frame_time_count++;
	}
	host->done++;
	if (farm->event != NULL)
		farm->event(farm, FARM_FRAME_DONE, job, number, host->name,
		    NULL, farm->event_arg);
	sched_check_complete(farm, job);
}

/*
 * A bdfarm client reports that it could not render a frame. The frame goes
 * back to the queue at once, unless it has now failed on too many hosts,
 * in which case it is set aside; a host that fails a job too often gets
 * no more of it.
 */
void
sched_frame_failed(struct farm *farm, struct job *job, long number,
    struct host *host, const char *reason)
{
	struct frame	*f = job_frame(job, number);
	int		 was_blocked;

	if (f == NULL || f->state == FRAME_DONE || f->state == FRAME_FAILED)
		return;
	was_blocked = job_host_blocked(job, host);
	job->failures = xreallocarray(job->failures, job->nfailures + 1,
	    sizeof *job->failures);
	job->failures[job->nfailures].frame = number;
	job->failures[job->nfailures].host = host;
	job->nfailures++;
	if (f->state == FRAME_OUT && (f->host == host || f->host == NULL)) {
		sched_leave_state(job, f, number);
		f->state = FRAME_TODO;
	}
	if (farm->event != NULL)
		farm->event(farm, FARM_FRAME_FAILED, job, number, host->name,
		    reason, farm->event_arg);
	if (f->state == FRAME_TODO &&
	    job_frame_failures(job, number) >= FARM_MAX_FAILURES) {
		sched_leave_state(job, f, number);
		f->state = FRAME_FAILED;
		job->nfailed++;
		if (farm->event != NULL)
			farm->event(farm, FARM_FRAME_GAVE_UP, job, number,
			    host->name, reason, farm->event_arg);
	}
	if (!was_blocked && job_host_blocked(job, host) &&
	    farm->event != NULL)
		farm->event(farm, FARM_HOST_BLOCKED, job, number, host->name,
		    NULL, farm->event_arg);
	sched_check_complete(farm, job);
}

/*
 * A frame out to host comes back unrendered (the client gave it back, or
 * its result was refused for a reason of the farm's own): it goes back to
 * the queue at once, and no failure is counted. Returns 1 if it did, 0 if
 * the frame was not out to host.
 */
int
sched_frame_return(struct farm *farm, struct job *job, long number,
    struct host *host, const char *why)
{
	struct frame	*f = job_frame(job, number);

	if (f == NULL || f->state != FRAME_OUT || f->host != host)
		return 0;
	sched_leave_state(job, f, number);
	f->state = FRAME_TODO;
	if (farm->event != NULL)
		farm->event(farm, FARM_FRAME_RETURNED, job, number, host->name,
		    why, farm->event_arg);
	return 1;
}

/* How far a frame out to host has rendered, in thousandths. */
void
sched_frame_progress(struct job *job, long number, struct host *host,
    unsigned permille)
{
	struct frame	*f = job_frame(job, number);

	if (f != NULL && f->state == FRAME_OUT && f->host == host)
		f->progress = (uint16_t)(permille > 1000 ? 1000 : permille);
}

/*
 * A host that kept in touch has gone silent: every frame out to it goes
 * back to the queue at once. Returns how many.
 */
size_t
sched_host_lost(struct farm *farm, struct host *host)
{
	struct job	*job;
	size_t		 i, n = 0;

	TAILQ_FOREACH(job, &farm->jobs, entry) {
		for (i = 0; i < job->nframes && job->nout > 0; i++) {
			struct frame	*f = &job->frames[i];

			if (f->state != FRAME_OUT || f->host != host)
				continue;
			sched_leave_state(job, f, job->first + (long)i);
			f->state = FRAME_TODO;
			n++;
		}
	}
	if (n > 0 && farm->event != NULL)
		farm->event(farm, FARM_HOST_LOST, NULL, (long)n, host->name,
		    NULL, farm->event_arg);
	return n;
}

/* Let the hosts blocked on a job have its frames again. */
void
sched_unblock(struct farm *farm, struct job *job)
{
	struct host	**blocked;
	size_t		  i, j, nblocked = 0, kept = 0;

	if (job->nfailures == 0)
		return;
	blocked = xreallocarray(NULL, job->nfailures, sizeof *blocked);
	for (i = 0; i < job->nfailures; i++) {
		if (job_host_blocked(job, job->failures[i].host))
			blocked[nblocked++] = job->failures[i].host;
	}
	for (i = 0; i < job->nfailures; i++) {
		for (j = 0; j < nblocked; j++) {
			if (blocked[j] == job->failures[i].host)
				break;
		}
		if (j == nblocked)
			job->failures[kept++] = job->failures[i];
	}
	job->nfailures = kept;
	free(blocked);
	if (nblocked > 0 && farm->event != NULL)
		farm->event(farm, FARM_JOB_CHANGED, job, 0, NULL,
		    "blocked hosts may render it again", farm->event_arg);
}

/* Put a job's failed frames back in the queue. Returns how many. */
size_t
sched_retry_failed(struct farm *farm, struct job *job)
{
	size_t	i, kept = 0, n = 0;

	for (i = 0; i < job->nframes; i++) {
		struct frame	*f = &job->frames[i];

		if (f->state != FRAME_FAILED)
			continue;
		sched_leave_state(job, f, job->first + (long)i);
		f->state = FRAME_TODO;
		n++;
	}
	for (i = 0; i < job->nfailures; i++) {
		struct frame	*f = job_frame(job, job->failures[i].frame);

		if (f == NULL || f->state != FRAME_TODO)
			job->failures[kept++] = job->failures[i];
	}
	job->nfailures = kept;
	job->complete = 0;
	if (n > 0 && farm->event != NULL)
		farm->event(farm, FARM_JOB_CHANGED, job, 0, NULL,
		    "failed frames queued again", farm->event_arg);
	return n;
}

/* A result was refused or lost; tell the observer why. */
void
sched_frame_discarded(struct farm *farm, struct job *job, long number,
    const char *host, const char *why)
{
	if (farm->event != NULL)
		farm->event(farm, FARM_FRAME_DISCARDED, job, number, host, why,
		    farm->event_arg);
}
