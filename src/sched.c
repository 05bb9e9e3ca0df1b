/*
 * sched.c: which frame goes out next, and what happens when one comes
 * back. Fresh frames first, by queue order and lowest number, but no host
 * holds more than it can use or the farm allows, and a bdfarm client no
 * more than its share of the work left, so that the last frames of a job
 * spread over every renderer. Results are taken only from a host that
 * had the frame, and reports only from the one that has it. When no fresh
 * frame is left, the frame out longest goes out again once it has been
 * out for the redistribution delay, but never to a client with no free
 * renderer, and never while the host that has it keeps in touch; an idle
 * bdfarm client may instead render a backup copy of a frame that a much
 * slower one still works on, and the first result wins. Failures that
 * bdfarm clients report send a frame back at once, block a host that
 * fails a job too often, and set aside a frame that fails on too many
 * hosts. A bdfarm client that lost its connection keeps its frames for
 * a while, in case it comes back.
 */
#include <stdlib.h>
#include <string.h>

#include "farm.h"
#include "xmalloc.h"

/* A backup copy goes out only if it would end this much sooner. */
#define SCHED_BACKUP_GAIN	2

/* Tell the observer about a change. */
static void
sched_notify(struct farm *farm, enum farm_event ev, struct job *job,
    long frame, const char *host, const char *detail)
{
	if (farm->event != NULL)
		farm->event(farm, ev, job, frame, host, detail, farm->event_arg);
}

/*
 * Something that decides which frames are overdue changed outside the
 * scheduler (a host's touch, the delay, the saved state): look again.
 */
void
sched_changed(struct farm *farm)
{
	farm->next_due = 0;
}

/* Whether the job's frames may be handed out now. */
static int
sched_job_open(const struct job *job)
{
	return job_ready(job) && !job->suspended && !job->files_pending;
}

/*
 * Whether host may take frames of job: it has not failed on it too often,
 * and a job that wants a fresh Blender per frame goes to no bdfarm client
 * that would render it in a warm one without being told (before version
 * 4 of the extension); an old client starts Blender for every frame.
 */
static int
sched_job_takes(const struct job *job, const struct host *host)
{
	if (job->fresh_blender && host->ext_version > 0 &&
	    host->ext_version < 4)
		return 0;
	return !job_host_blocked(job, host);
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

/* How many renderers a host has, as it said; one if it did not. */
static unsigned
sched_renderers(const struct host *host)
{
	return host->renderers > 0 ? (unsigned)host->renderers : 1;
}

/*
 * The most frames host may hold at once, backup copies included: what its
 * renderers and the queue ahead of them need by the client's defaults (a
 * batch of 4 frames rendering on each renderer, 3 + 2 per renderer
 * queued), when it said how many renderers it has, and never more than
 * the farm's max_held, so that no peer can take a job's frames and sit on
 * them.
 */
static unsigned
sched_max_held(const struct farm *farm, const struct host *host)
{
	uint64_t	need;

	if (host->renderers <= 0)
		return farm->max_held;
	need = 3 + 6 * (uint64_t)host->renderers;
	return need < farm->max_held ? (unsigned)need : farm->max_held;
}

/*
 * Whether host may take one more fresh frame. Anyone may fill its
 * renderers; beyond that, a bdfarm client in touch may hold its share, by
 * renderers, of the frames not yet done in open jobs (guided
 * self-scheduling): a long queue early on, no more than what spreads the
 * last frames evenly at the end.
 */
static int
sched_within_share(struct farm *farm, const struct host *host)
{
	const struct job	*job;
	const struct host	*h;
	unsigned		 mine = sched_renderers(host), all = 0;
	size_t			 left = 0;

	if (host->held < mine || host->ext_version == 0 || !host_alive(host))
		return 1;
	TAILQ_FOREACH(job, &farm->jobs, entry) {
		if (sched_job_open(job))
			left += job->nframes - job->ndone - job->nfailed;
	}
	TAILQ_FOREACH(h, &farm->hosts, entry) {
		if (h->ext_version > 0 && host_alive(h))
			all += sched_renderers(h);
	}
	return (size_t)host->held * all < left * mine;
}

/*
 * The frame out longest to a host that does not keep in touch, if that is
 * at least the delay, of the open jobs host (if any) is not blocked on;
 * else NULL. Each job's list of frames out is in the order of hand-out,
 * so only frames out to hosts in touch are passed over. The walk notes
 * when the next frame of any job falls due, so that the walks before then
 * are spared; whatever could make a frame due sooner (a host falling out
 * of touch, a frame changing hands, the saved state, the delay) calls
 * sched_changed.
 */
static struct frame *
sched_overdue(struct farm *farm, const struct host *host, farm_time now,
    struct job **jobp, long *number)
{
	struct job	*job;
	struct frame	*f, *best = NULL;
	farm_time	 due, next = INT64_MAX;

	if (now < farm->next_due)
		return NULL;
	TAILQ_FOREACH(job, &farm->jobs, entry) {
		TAILQ_FOREACH(f, &job->out, out_entry) {
			if (f->host == NULL || !host_alive(f->host))
				break;
		}
		if (f == NULL)
			continue;
		due = f->since + farm->redistribute_delay;
		if (due < next)
			next = due;
		if (due > now || !sched_job_open(job) ||
		    (host != NULL && !sched_job_takes(job, host)))
			continue;
		if (best == NULL || f->since < best->since) {
			best = f;
			*jobp = job;
			*number = job_frame_number(job, f);
		}
	}
	farm->next_due = next;
	return best;
}

/*
 * The average time a frame took on host, else on job, at least 1 ms; 0 if
 * neither has delivered a frame yet.
 */
static farm_time
sched_frame_time(const struct host *host, const struct job *job)
{
	farm_time	avg;

	if (host->frame_time_count > 0)
		avg = host->frame_time_sum / host->frame_time_count;
	else if (job->frame_time_count > 0)
		avg = job->frame_time_sum / job->frame_time_count;
	else
		return 0;
	return avg > 0 ? avg : 1;
}

/*
 * When the frame out to another host may arrive: its host's average frame
 * time from the hand-out, or what is left of it by the progress it
 * reported; a frame that waits behind others there waits for them too.
 */
static farm_time
sched_expected(const struct job *job, const struct frame *f, farm_time now)
{
	farm_time	avg = sched_frame_time(f->host, job), end;

	if (f->progress > 0)
		return now + avg * (1000 - f->progress) / 1000;
	end = f->since + avg * (farm_time)f->host->held;
	return end > now + avg ? end : now + avg;
}

/*
 * A frame that an idle bdfarm client could render as a backup copy: out
 * to another bdfarm client in touch, not backed up yet, and expected there
 * well after this one could deliver it; of those, the one expected last.
 */
static struct frame *
sched_backup(struct farm *farm, const struct host *host, farm_time now,
    struct job **jobp, long *number)
{
	struct job	*job;
	struct frame	*f, *best = NULL;
	farm_time	 mine, when, latest = 0;

	if (host->ext_version < 2)
		return NULL;
	TAILQ_FOREACH(job, &farm->jobs, entry) {
		if (!sched_job_open(job) || !sched_job_takes(job, host) ||
		    (mine = sched_frame_time(host, job)) == 0)
			continue;
		TAILQ_FOREACH(f, &job->out, out_entry) {
			if (f->backup != NULL || f->host == NULL ||
			    f->host == host || f->host->ext_version < 2 ||
			    !host_alive(f->host))
				continue;
			when = sched_expected(job, f, now);
			if (when - now < SCHED_BACKUP_GAIN * mine ||
			    when <= latest)
				continue;
			latest = when;
			best = f;
			*jobp = job;
			*number = job_frame_number(job, f);
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
 * Hand the next frame to host, which has available free renderers, unless
 * it holds as many as it may. Returns 1 with *jobp and *number set, or 0
 * if there is nothing for it.
 */
int
sched_next(struct farm *farm, struct host *host, int available,
    farm_time now, struct job **jobp, long *number)
{
	struct job	*job = NULL;
	struct frame	*f = NULL;
	int		 resent;

	if (farm->stopping || host->held >= sched_max_held(farm, host))
		return 0;
	if (sched_within_share(farm, host)) {
		TAILQ_FOREACH(job, &farm->jobs, entry) {
			if (sched_job_open(job) && sched_job_takes(job, host) &&
			    (f = sched_fresh(job, number)) != NULL)
				break;
		}
	}
	if (f == NULL && available > 0)
		f = sched_overdue(farm, host, now, &job, number);
	if (f == NULL && available > 0 &&
	    (f = sched_backup(farm, host, now, &job, number)) != NULL) {
		job_frame_backup(f, host);
		job->backups++;
		*jobp = job;
		sched_notify(farm, FARM_FRAME_BACKUP, job, *number, host->name,
		    f->host->name);
		return 1;
	}
	if (f == NULL)
		return 0;

	resent = f->state == FRAME_OUT || f->sends > 0;
	if (f->state == FRAME_TODO)
		job->next_todo = (size_t)(*number - job->first) + 1;
	job_frame_out(job, f, host, now);
	f->sends++;
	if (!host_alive(host) && now + farm->redistribute_delay <
	    farm->next_due)
		farm->next_due = now + farm->redistribute_delay;
	*jobp = job;
	sched_notify(farm, resent ? FARM_FRAME_RESENT : FARM_FRAME_OUT, job,
	    *number, host->name, NULL);
	return 1;
}

/* How telling an answer is, when several jobs share a .blend. */
static int
sched_result_rank(enum farm_result r)
{
	switch (r) {
	case FARM_RESULT_OK:
		return 5;
	case FARM_RESULT_DONE:
		return 4;
	case FARM_RESULT_NOT_YOURS:
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

/* Whether frame f is out to host, as its renderer or as the backup. */
static int
sched_holds(const struct frame *f, const struct host *host)
{
	return f->state == FRAME_OUT && host != NULL &&
	    (f->host == host || f->backup == host);
}

/*
 * Whether a result from host for frame number of the .blend travelling as
 * name with digest is wanted: a frame that is not done yet and is out to
 * host, or was before, even if it went back to the queue or to another
 * host meanwhile; never one host did not have. On FARM_RESULT_OK, *jobp
 * is the job it belongs to: when several jobs share the .blend, the one
 * whose frame is out to host, else the first that wants it.
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
		else if (f != NULL && f->state == FRAME_DONE)
			r = FARM_RESULT_DONE;	/* even one restored as done */
		else if (f == NULL || f->sends == 0)
			r = FARM_RESULT_NOT_OUT;
		else if (sched_holds(f, host)) {
			/* Of jobs sharing the .blend, the one that gave it. */
			*jobp = job;
			return FARM_RESULT_OK;
		} else if (job_frame_had(job, f, host)) {
			r = FARM_RESULT_OK;
			if (wanted == NULL)
				wanted = job;
		} else
			r = FARM_RESULT_NOT_YOURS;
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
		if (sched_holds(f, host))
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
	case FARM_RESULT_NOT_YOURS:
		return "the frame was never handed out to this host";
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
	sched_notify(farm, FARM_JOB_COMPLETE, job, 0, NULL, NULL);
}

/*
 * A frame has arrived whole from host: it is done. Whoever else still
 * renders it (the other copy, or the host it was taken from) is told to
 * drop it.
 */
void
sched_frame_done(struct farm *farm, struct job *job, long number,
    struct host *host, farm_time now)
{
	struct frame	*f = job_frame(job, number);
	struct host	*others[2] = { NULL, NULL };
	farm_time	 took;
	size_t		 i;

	if (f == NULL || f->state == FRAME_DONE || f->sends == 0)
		return;
	took = now - f->since;
	if (f->state == FRAME_OUT) {
		if (f->host != host)
			others[0] = f->host;
		if (f->backup != host)
			others[1] = f->backup;
	}
	job_frame_set(job, f, FRAME_DONE);
	job_count_host(job, host->name, 1);
	job_record_render(job, number, host->name, now, took);
	host_add_result(host, job->name, number, 0, now, took, NULL);
	if (took >= 0) {
		job->frame_time_sum += took;
		job->frame_time_count++;
		host->frame_time_sum += took;
		host->frame_time_count++;
	}
	host->done++;
	sched_notify(farm, FARM_FRAME_DONE, job, number, host->name, NULL);
	for (i = 0; i < nitems(others); i++) {
		if (others[i] != NULL)
			sched_notify(farm, FARM_FRAME_CANCELLED, job, number,
			    others[i]->name, host->name);
	}
	sched_check_complete(farm, job);
}

/*
 * Host no longer renders frame f of job: the other copy's host, if any,
 * keeps it; else it goes back to the queue. Returns 1 if it did.
 */
static int
sched_release(struct farm *farm, struct job *job, struct frame *f,
    struct host *host)
{
	if (!sched_holds(f, host))
		return 0;
	if (job_frame_release(job, f, host) == NULL)
		job_frame_set(job, f, FRAME_TODO);
	else
		sched_changed(farm);
	return 1;
}

/*
 * A bdfarm client reports that it could not render a frame out to it. The
 * frame goes back to the queue at once (unless a backup copy renders
 * elsewhere), or, if it has now failed on too many hosts, is set aside; a
 * host that fails a job too often gets no more of it. A report of a frame
 * that is not out to host counts for nothing, so one hand-out counts at
 * most once; once the job keeps FARM_MAX_FAILURE_REPORTS, the frame just
 * goes back. Returns 1 if the failure counted.
 */
int
sched_frame_failed(struct farm *farm, struct job *job, long number,
    struct host *host, const char *reason, farm_time now)
{
	struct frame	*f = job_frame(job, number);
	int		 was_blocked;

	if (f == NULL || !sched_holds(f, host))
		return 0;
	if (job->nfailures >= FARM_MAX_FAILURE_REPORTS) {
		sched_release(farm, job, f, host);
		sched_notify(farm, FARM_FRAME_RETURNED, job, number, host->name,
		    "it failed, and the job keeps no more failure reports");
		return 0;
	}
	was_blocked = job_host_blocked(job, host);
	job_add_failure(job, number, host, now, reason);
	host->failed++;
	host_add_result(host, job->name, number, 1, now, -1, reason);
	sched_release(farm, job, f, host);
	sched_notify(farm, FARM_FRAME_FAILED, job, number, host->name, reason);
	if (f->state == FRAME_TODO &&
	    job_frame_failures(job, number) >= FARM_MAX_FAILURES) {
		job_frame_set(job, f, FRAME_FAILED);
		sched_notify(farm, FARM_FRAME_GAVE_UP, job, number, host->name,
		    reason);
	}
	if (!was_blocked && job_host_blocked(job, host))
		sched_notify(farm, FARM_HOST_BLOCKED, job, number, host->name,
		    NULL);
	sched_check_complete(farm, job);
	return 1;
}

/*
 * A frame out to host comes back unrendered (the client gave it back, or
 * its result was refused for a reason of the farm's own): it goes back to
 * the queue at once, unless a backup copy renders elsewhere, and no
 * failure is counted. Returns 1 if host had it, 0 if not.
 */
int
sched_frame_return(struct farm *farm, struct job *job, long number,
    struct host *host, const char *why)
{
	struct frame	*f = job_frame(job, number);

	if (f == NULL || !sched_release(farm, job, f, host))
		return 0;
	sched_notify(farm, FARM_FRAME_RETURNED, job, number, host->name, why);
	return 1;
}

/*
 * How far a frame out to host has rendered, in thousandths: any report,
 * 0 included, says the host has started it.
 */
void
sched_frame_progress(struct job *job, long number, struct host *host,
    unsigned permille)
{
	struct frame	*f = job_frame(job, number);

	if (f == NULL || f->state != FRAME_OUT || f->host != host)
		return;
	f->started = 1;
	f->progress = (uint16_t)(permille > 1000 ? 1000 : permille);
}

/*
 * A host that kept in touch is lost: every frame out to it goes back to
 * the queue at once, or stays with the host of its backup copy. Returns
 * how many.
 */
size_t
sched_host_lost(struct farm *farm, struct host *host)
{
	struct job	*job;
	struct frame	*f, *next;
	size_t		 n = 0;

	TAILQ_FOREACH(job, &farm->jobs, entry) {
		TAILQ_FOREACH_SAFE(f, &job->out, out_entry, next)
			n += (size_t)sched_release(farm, job, f, host);
	}
	if (n > 0)
		sched_notify(farm, FARM_HOST_LOST, NULL, (long)n, host->name,
		    NULL);
	return n;
}

/*
 * Give up on the bdfarm clients out of touch for client_timeout (measured
 * from the farm's start for a host known only from the saved state): the
 * frames they hold go back to the queue. Returns how many hosts.
 */
size_t
sched_expire_hosts(struct farm *farm, farm_time now)
{
	struct host	*host;
	farm_time	 heard;
	size_t		 n = 0;

	TAILQ_FOREACH(host, &farm->hosts, entry) {
		if (host->held == 0 || host->ext_version == 0 ||
		    host_alive(host))
			continue;
		heard = host->last_contact > farm->started ?
		    host->last_contact : farm->started;
		if (now - heard < farm->client_timeout)
			continue;
		sched_host_lost(farm, host);
		n++;
	}
	return n;
}

/*
 * A bdfarm client that connected again says it holds frame number of job:
 * it keeps it if the frame is still out to it, or is given it again if it
 * had it and it went back to the queue. Returns 1 if it may keep it, 0 if
 * it should drop it (done, failed, out to another host, or never its own).
 */
int
sched_hold(struct farm *farm, struct job *job, long number,
    struct host *host, farm_time now)
{
	struct frame	*f = job_frame(job, number);

	if (f == NULL || !sched_job_open(job))
		return 0;
	if (sched_holds(f, host))
		return 1;
	if (f->state != FRAME_TODO || !sched_job_takes(job, host) ||
	    !job_frame_had(job, f, host) ||
	    host->held >= sched_max_held(farm, host))
		return 0;
	job_frame_out(job, f, host, now);
	f->sends++;
	sched_notify(farm, FARM_FRAME_OUT, job, number, host->name,
	    "the client still had it");
	return 1;
}

/* Whether frame number of job is out to host now. */
int
sched_out_to(struct job *job, long number, const struct host *host)
{
	struct frame	*f = job_frame(job, number);

	return f != NULL && sched_holds(f, host);
}

/* Whether the frame numbered number of the job with seq is in holds. */
static int
sched_in_holds(const struct farm_hold *holds, size_t n, uint64_t seq,
    long number)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (holds[i].seq == seq && holds[i].frame == number)
			return 1;
	}
	return 0;
}

/*
 * A bdfarm client that connected again has said which frames it holds:
 * every other frame out to it goes back to the queue. Returns how many.
 */
size_t
sched_held(struct farm *farm, struct host *host,
    const struct farm_hold *holds, size_t nholds)
{
	struct job	*job;
	struct frame	*f, *next;
	long		 number;
	size_t		 n = 0;

	TAILQ_FOREACH(job, &farm->jobs, entry) {
		TAILQ_FOREACH_SAFE(f, &job->out, out_entry, next) {
			number = job_frame_number(job, f);
			if (!sched_holds(f, host) ||
			    sched_in_holds(holds, nholds, job->seq, number))
				continue;
			sched_release(farm, job, f, host);
			sched_notify(farm, FARM_FRAME_RETURNED, job, number,
			    host->name, "the client no longer had it");
			n++;
		}
	}
	return n;
}

/* Hosts blocked on a job, while their failures are forgotten. */
struct sched_blocked {
	struct host	**hosts;
	size_t		  n;
};

/* Whether a failure report is of one of the blocked hosts in arg. */
static int
sched_failure_blocked(const struct job *job, const struct job_failure *jf,
    void *arg)
{
	const struct sched_blocked	*b = arg;
	size_t				 i;

	for (i = 0; i < b->n; i++) {
		if (b->hosts[i] == jf->host)
			return 1;
	}
	return 0;
}

/* Whether a failure report is of a frame back in the queue. */
static int
sched_failure_queued(const struct job *job, const struct job_failure *jf,
    void *arg)
{
	long	n = jf->frame;

	return n >= job->first && n <= job->last &&
	    job->frames[n - job->first].state == FRAME_TODO;
}

/* Let the hosts blocked on a job have its frames again. */
void
sched_unblock(struct farm *farm, struct job *job)
{
	struct sched_blocked	 b = { NULL, 0 };
	size_t			 i;

	if (job->nfailures == 0)
		return;
	b.hosts = xreallocarray(NULL, job->nfailures, sizeof *b.hosts);
	for (i = 0; i < job->nfailures; i++) {
		if (job_host_blocked(job, job->failures[i].host))
			b.hosts[b.n++] = job->failures[i].host;
	}
	job_drop_failures(job, sched_failure_blocked, &b);
	free(b.hosts);
	if (b.n > 0)
		sched_notify(farm, FARM_JOB_CHANGED, job, 0, NULL,
		    "blocked hosts may render it again");
}

/* Put a job's failed frames back in the queue. Returns how many. */
size_t
sched_retry_failed(struct farm *farm, struct job *job)
{
	size_t	i, n = 0;

	for (i = 0; i < job->nframes; i++) {
		struct frame	*f = &job->frames[i];

		if (f->state != FRAME_FAILED)
			continue;
		job_frame_set(job, f, FRAME_TODO);
		n++;
	}
	job_drop_failures(job, sched_failure_queued, NULL);
	job->complete = 0;
	if (n > 0)
		sched_notify(farm, FARM_JOB_CHANGED, job, 0, NULL,
		    "failed frames queued again");
	return n;
}

/* Whether a failure report is of a frame in the range arg points to. */
static int
sched_failure_in(const struct job *job, const struct job_failure *jf,
    void *arg)
{
	const long	*range = arg;

	return jf->frame >= range[0] && jf->frame <= range[1];
}

/*
 * Render frames from to to of job again: the done and failed ones go back
 * to the queue, their failures forgotten; moving their stored files aside
 * is the caller's. Returns how many went back.
 */
size_t
sched_render_again(struct farm *farm, struct job *job, long from, long to)
{
	struct frame	*f;
	long		 range[2], n;
	size_t		 again = 0;

	if (from < job->first)
		from = job->first;
	if (to > job->last)
		to = job->last;
	range[0] = from;
	range[1] = to;
	for (n = from; n <= to; n++) {
		f = job_frame(job, n);
		if (f == NULL ||
		    (f->state != FRAME_DONE && f->state != FRAME_FAILED))
			continue;
		job_frame_set(job, f, FRAME_TODO);
		again++;
	}
	if (again == 0)
		return 0;
	job_drop_failures(job, sched_failure_in, range);
	job->complete = 0;
	sched_changed(farm);
	sched_notify(farm, FARM_JOB_CHANGED, job, 0, NULL, NULL);
	return again;
}

/* A result was refused or lost; tell the observer why. */
void
sched_frame_discarded(struct farm *farm, struct job *job, long number,
    const char *host, const char *why)
{
	sched_notify(farm, FARM_FRAME_DISCARDED, job, number, host, why);
}
