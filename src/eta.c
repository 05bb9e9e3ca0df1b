/*
 * eta.c: the farm's measured rate and the estimates built on it. The rate
 * counts frames received in one-second buckets over a sliding window, fed
 * with a counter that only grows (frames received since start); estimates
 * use the average hand-out-to-receipt time of each job's frames and the
 * frames out now, so nothing is guessed before there is a measurement.
 */
#include "bdfarm.h"

#include <stdio.h>
#include <string.h>

#include "eta.h"

/* Start measuring, looking back over window milliseconds. */
void
eta_rate_init(struct eta_rate *rate, farm_time window)
{
	memset(rate, 0, sizeof *rate);
	if (window < ETA_RATE_BUCKET_MS)
		window = ETA_RATE_BUCKET_MS;
	if (window > (farm_time)ETA_RATE_BUCKETS * ETA_RATE_BUCKET_MS)
		window = (farm_time)ETA_RATE_BUCKETS * ETA_RATE_BUCKET_MS;
	rate->window = window;
}

/* The bucket a time falls in. */
static int64_t
eta_bucket(farm_time t)
{
	return t / ETA_RATE_BUCKET_MS;
}

/*
 * Note that the farm had received total frames at now. The first sample
 * only sets the starting point; a counter that went down starts it again.
 */
void
eta_rate_sample(struct eta_rate *rate, farm_time now, uint64_t total)
{
	int64_t	b = eta_bucket(now), n;

	if (!rate->primed || total < rate->last_total) {
		memset(rate->counts, 0, sizeof rate->counts);
		rate->newest = b;
		rate->started = now;
		rate->last_total = total;
		rate->primed = 1;
		rate->seen = 0;
		return;
	}
	for (n = 0; rate->newest < b && n < ETA_RATE_BUCKETS; n++)
		rate->counts[++rate->newest % ETA_RATE_BUCKETS] = 0;
	if (rate->newest < b)
		rate->newest = b;
	if (total > rate->last_total) {
		rate->counts[rate->newest % ETA_RATE_BUCKETS] +=
		    (unsigned)(total - rate->last_total);
		rate->last_total = total;
		rate->seen = 1;
	}
}

/*
 * Frames per minute over the window ending at now, or -1 while no frame
 * has arrived since measuring began.
 */
double
eta_rate_per_minute(const struct eta_rate *rate, farm_time now)
{
	int64_t		 nb = eta_bucket(now), first, b;
	farm_time	 from, span;
	uint64_t	 sum = 0;

	if (!rate->primed || !rate->seen)
		return -1;
	first = eta_bucket(now - rate->window);
	if (first <= rate->newest - ETA_RATE_BUCKETS)
		first = rate->newest - ETA_RATE_BUCKETS + 1;
	for (b = first; b <= nb && b <= rate->newest; b++)
		sum += rate->counts[b % ETA_RATE_BUCKETS];
	from = eta_bucket(now - rate->window) * ETA_RATE_BUCKET_MS;
	if (from < rate->started)
		from = rate->started;
	span = now - from;
	if (span < ETA_RATE_BUCKET_MS)
		span = ETA_RATE_BUCKET_MS;
	return (double)sum * 60000.0 / (double)span;
}

/* Frames received from every host since start: the rate's counter. */
uint64_t
eta_farm_received(struct farm *farm)
{
	struct host	*host;
	uint64_t	 total = 0;

	TAILQ_FOREACH(host, &farm->hosts, entry)
		total += host->done;
	return total;
}

/* A job's average frame time in milliseconds, or -1 before the first. */
farm_time
eta_job_frame_time(const struct job *job)
{
	if (job->frame_time_count == 0)
		return -1;
	return job->frame_time_sum / job->frame_time_count;
}

/* A host's average frame time in milliseconds, or -1 before the first. */
farm_time
eta_host_frame_time(const struct host *host)
{
	if (host->frame_time_count == 0)
		return -1;
	return host->frame_time_sum / host->frame_time_count;
}

/*
 * Milliseconds until a job is done at now: the frames left times the
 * average frame time, less what the frames out have already had, shared
 * among the renderers working on it (one per frame out). 0 when done; -1
 * when invalid, not measured yet, or nobody works on it.
 */
farm_time
eta_job_remaining(const struct job *job, farm_time now)
{
	farm_time	avg, work, elapsed;
	size_t		i, seen = 0;

	if (job->invalid != NULL || job->nframes == 0)
		return -1;
	if (job->ndone >= job->nframes)
		return 0;
	if ((avg = eta_job_frame_time(job)) < 0 || job->nout == 0)
		return -1;
	work = (farm_time)(job->nframes - job->ndone) * avg;
	for (i = 0; i < job->nframes && seen < job->nout; i++) {
		const struct frame	*f = &job->frames[i];

		if (f->state != FRAME_OUT)
			continue;
		seen++;
		elapsed = now - f->since;
		if (elapsed < 0)
			elapsed = 0;
		work -= elapsed < avg ? elapsed : avg;
	}
	if (work < 0)
		work = 0;
	return work / (farm_time)job->nout;
}

/*
 * Milliseconds until every frame of the valid, unsuspended jobs is done
 * at per_minute frames a minute; 0 when none is left, -1 if the rate is
 * unknown or nil.
 */
farm_time
eta_queue_remaining(struct farm *farm, double per_minute)
{
	struct job	*job;
	size_t		 left = 0;

	TAILQ_FOREACH(job, &farm->jobs, entry) {
		if (job->invalid == NULL && !job->suspended)
			left += job->nframes - job->ndone;
	}
	if (left == 0)
		return 0;
	if (per_minute <= 0)
		return -1;
	return (farm_time)((double)left / per_minute * 60000.0);
}

/*
 * Write a duration for people, in at most two units ("4.2s", "42s",
 * "12m05s", "3h07m", "2d04h"), or "-" if unknown; returns the length.
 */
size_t
eta_duration_text(farm_time ms, char *buf, size_t len)
{
	long long	s;
	int		n;

	if (ms < 0)
		n = snprintf(buf, len, "-");
	else {
		s = (long long)(ms / 1000);
		if (s < 10)
			n = snprintf(buf, len, "%lld.%llds", s,
			    (long long)(ms % 1000 / 100));
		else if (s < 60)
			n = snprintf(buf, len, "%llds", s);
		else if (s < 3600)
			n = snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
		else if (s < 86400)
			n = snprintf(buf, len, "%lldh%02lldm", s / 3600,
			    s % 3600 / 60);
		else
			n = snprintf(buf, len, "%lldd%02lldh", s / 86400,
			    s % 86400 / 3600);
	}
	if (n < 0)
		n = 0;
	return (size_t)n < len ? (size_t)n : (len == 0 ? 0 : len - 1);
}
