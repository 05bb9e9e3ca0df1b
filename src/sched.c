/*
 * sched.c: which frame goes out next, and what happens when one comes
 * back. Fresh frames first, by queue order and lowest number; when there
 * are none, the frame out longest goes out again once it has been out for
 * the redistribution delay, but never to a client with no free renderer.
 */
#include <stdlib.h>
#include <string.h>

#include "farm.h"

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

/* The frame out longest, if that is at least the delay; else NULL. */
static struct frame *
sched_overdue(struct farm *farm, farm_time now, struct job **jobp,
    long *number)
{
	struct job	*job;
	struct frame	*best = NULL;
	size_t		 i;

	TAILQ_FOREACH(job, &farm->jobs, entry) {
		if (!sched_job_open(job) || job->nout == 0)
			continue;
		for (i = 0; i < job->nframes; i++) {
			struct frame	*f = &job->frames[i];

			if (f->state != FRAME_OUT ||
			    now - f->since < farm->redistribute_delay)
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
	return sched_overdue(farm, now, &job, &number) != NULL;
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
		if (sched_job_open(job) && (f = sched_fresh(job, number)) != NULL)
			break;
	}
	if (f == NULL && available > 0)
		f = sched_overdue(farm, now, &job, number);
	if (f == NULL)
		return 0;

	resent = f->state == FRAME_OUT;
	if (!resent) {
		job->nout++;
		job->next_todo = (size_t)(*number - job->first) + 1;
	}
	f->state = FRAME_OUT;
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

/*
 * Whether a result for frame number of the .blend travelling as name with
 * digest is wanted. On FARM_RESULT_OK, *jobp is the job it belongs to.
 */
enum farm_result
sched_check_result(struct farm *farm, const char *name, const char *digest,
    long number, struct job **jobp)
{
	struct job	*job;
	struct frame	*f;
	enum farm_result best = FARM_RESULT_NO_JOB;

	TAILQ_FOREACH(job, &farm->jobs, entry) {
		if (!job_ready(job) || strcmp(job->blend_name, name) != 0)
			continue;
		if (strcmp(job->blend_digest, digest) != 0) {
			if (best == FARM_RESULT_NO_JOB)
				best = FARM_RESULT_CHANGED;
			continue;
		}
		if ((f = job_frame(job, number)) == NULL ||
		    f->state == FRAME_TODO) {
			if (best != FARM_RESULT_DONE)
				best = FARM_RESULT_NOT_OUT;
			continue;
		}
		if (f->state == FRAME_DONE) {
			best = FARM_RESULT_DONE;
			continue;
		}
		*jobp = job;
		return FARM_RESULT_OK;
	}
	return best;
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

/* A frame has arrived whole from host: it is done. */
void
sched_frame_done(struct farm *farm, struct job *job, long number,
    struct host *host, farm_time now)
{
	struct frame	*f = job_frame(job, number);
	farm_time	 took;

	if (f == NULL || f->state != FRAME_OUT)
		return;
	took = now - f->since;
	f->state = FRAME_DONE;
	f->host = NULL;
	job->nout--;
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
	if (job->ndone == job->nframes && !job->complete) {
		job->complete = 1;
		if (farm->event != NULL)
			farm->event(farm, FARM_JOB_COMPLETE, job, 0, NULL, NULL,
			    farm->event_arg);
	}
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
