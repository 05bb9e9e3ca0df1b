/*
 * job.c: one job's frames and counters. A job is a range of frames of one
 * .blend file; each frame is to do, out at a host, or done.
 */
#include <stdlib.h>
#include <string.h>

#include "farm.h"
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

/* Forget every frame's progress: the job starts over. */
void
job_reset_frames(struct job *job)
{
	size_t	i;

	free(job->frames);
	job->frames = NULL;
	job->nframes = 0;
	if (job->invalid == NULL && job->last >= job->first) {
		job->nframes = (size_t)(job->last - job->first) + 1;
		job->frames = xcalloc(job->nframes, sizeof *job->frames);
	}
	job->ndone = job->nout = job->nfailed = job->next_todo = 0;
	free(job->failures);
	job->failures = NULL;
	job->nfailures = 0;
	job->complete = 0;
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

	for (i = 0; i < job->nhosts; i++)
		free(job->hosts[i].name);
	free(job->hosts);
	free(job->failures);
	free(job->frames);
	free(job->name);
	free(job->blend_path);
	free(job->blend_name);
	free(job->invalid);
	free(job);
}
