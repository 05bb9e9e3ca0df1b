/*
 * job.c: one job's frames and counters. A job is a range of frames of one
 * .blend file; each frame is to do, out at a host, or done.
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
	free(job->unavailable);
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
