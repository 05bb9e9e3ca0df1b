/*
 * jobdir.c: keeping the farm's jobs in step with JOBDIR. inotify names
 * the job and suspension files that change, and only those entries are
 * looked at again, so the server's own writes there (job logs, the state
 * file) cost nothing. The whole folder is read at start, after inotify
 * lost events, and by a periodic scan: rare where inotify sees every
 * change, frequent where it cannot (not available, or a network file
 * system that other machines write to). Every read of the folder goes in
 * slices across turns of the loop, so that peers are served meanwhile.
 *
 * Each distinct .blend file is checked once per tick, however many jobs
 * name it, and hashed in slices, once for all of them, only when it has
 * changed. A job whose files cannot be read for a while is paused with
 * everything it has done kept; only a change of content starts it over.
 */
#include "bdfarm.h"
#include "jobdir.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef HAVE_SYS_INOTIFY_H
#include <sys/inotify.h>
#include <sys/vfs.h>
#endif

#include "deps.h"
#include "digest.h"
#include "farm.h"
#include "fileio.h"
#include "framefile.h"
#include "jobfile.h"
#include "log.h"
#include "settings.h"
#include "state.h"
#include "xmalloc.h"

#define JOBDIR_SETTLE_MS	20	/* lets a burst of changes pass */
#define JOBDIR_GONE_MS		500	/* a file missing this long is gone */
#define JOBDIR_SAFETY_SCAN	60	/* seconds between scans with inotify */
#define JOBDIR_MAX_NAMES	4096	/* changed names held before a scan */
#define JOBDIR_SLICE		128	/* work units in one turn of the loop */
#define JOBDIR_COST_STAT	1	/* units to look at an entry or a file */
#define JOBDIR_COST_READ	8	/* units to read and define a job */
#define JOBDIR_MISSING_NAMED	10	/* missing files a job's note names */

/* A name whose entry is to be looked at again. */
struct jobdir_name {
	TAILQ_ENTRY(jobdir_name) entry;
	char			 name[];
};
TAILQ_HEAD(jobdir_names, jobdir_name);

/* One .blend file, shared by every job that names it. */
struct jobdir_blend {
	struct jobdir		*jd;
	char			*path;
	struct stat		 st;		/* at the last good check */
	int			 statted;	/* st is set */
	char			 digest[DIGEST_HEX_SIZE]; /* "" until known */
	struct file_id		 digest_id;	/* where digest was taken */
	char			*error;		/* why it cannot be read now */
	struct depfile		*needs;		/* it and the files it needs */
	struct deps_summary	 files;		/* what they come to */
	char			*missing;	/* which are missing, or NULL */
	struct hasher		*hasher;
	struct file_id		 hashing_id;	/* what the hasher was asked */
	unsigned		 checked;	/* the last check round */
	TAILQ_HEAD(, jobdir_job) users;
	TAILQ_ENTRY(jobdir_blend) entry;	/* in check order */
};

/* What the jobdir keeps for each job (job->io). */
struct jobdir_job {
	struct jobdir		*jd;
	struct job		*job;
	struct jobdir_blend	*blend;		/* the .blend it names */
	char			*error;		/* why its file cannot be read */
	struct state_job	*record;	/* saved state to lay on, once */
	int			 reconcile;	/* render folder still to see */
	struct event		*grace_ev;	/* its file was found missing */
	int			 gone;		/* missing after the grace */
	unsigned		 seen;		/* the last scan that listed it */
	unsigned		 seen_suspend;	/* the last that listed .suspend */
	TAILQ_ENTRY(jobdir_job)	 blend_entry;
	TAILQ_ENTRY(jobdir_job)	 retry_entry;	/* while error is set */
};

struct jobdir {
	struct event_base	*base;
	struct farm		*farm;
	char			*path;
	char			*renderdir;

	/* The state read at start, for the jobs found at start only. */
	struct state		*saved;
	void			*records;	/* unused, by name (tsearch) */
	size_t			 records_held;	/* taken, not yet laid on */
	int			 started;	/* the first scan is over */

	int			 inotify_fd;
	struct event		*inotify_ev;
	int			 watching;	/* inotify sees every change */
	int			 rescan_interval;
	struct event		*rescan_ev;
	struct event		*blend_ev;
	struct event		*work_ev;

	/* Names to look at, once changes settle. */
	struct jobdir_names	 changed;
	size_t			 nchanged;
	struct event		*settle_ev;
	struct jobdir_names	 ready;

	/* The scan under way, and one asked for meanwhile. */
	DIR			*scan;
	unsigned		 scan_round;
	size_t			 scan_jobs;
	const char		*scan_again;
	int			 scan_failed;	/* logged once */

	/* Every .blend named, in check order, and by path (tsearch). */
	TAILQ_HEAD(, jobdir_blend) blends;
	void			*blend_paths;
	unsigned		 check_round;
	int			 checking;

	TAILQ_HEAD(, jobdir_job) retry;		/* job file unreadable */

	struct deps		*deps;		/* what the .blend files need */
};

static void	jobdir_scan_start(struct jobdir *, const char *);
static void	jobdir_job_update(struct jobdir_job *);
static void	jobdir_blend_files(struct jobdir_blend *);

/* Whether name ends in suffix. */
static int
jobdir_has_suffix(const char *name, const char *suffix)
{
	size_t	n = strlen(name), s = strlen(suffix);

	return n > s && strcmp(name + n - s, suffix) == 0;
}

/* Order saved records by name, for tsearch. */
static int
jobdir_record_compare(const void *a, const void *b)
{
	return strcmp(((const struct state_job *)a)->name,
	    ((const struct state_job *)b)->name);
}

/* Order .blend files by path, for tsearch. */
static int
jobdir_blend_compare(const void *a, const void *b)
{
	return strcmp(((const struct jobdir_blend *)a)->path,
	    ((const struct jobdir_blend *)b)->path);
}

/* Nothing to free in a tree's node: tdestroy's callback. */
static void
jobdir_keep_node(void *node)
{
}

/* Let the loop run the pending work at its next turn. */
static void
jobdir_kick(struct jobdir *jd)
{
	const struct timeval	zero = { 0, 0 };

	if (!evtimer_pending(jd->work_ev, NULL))
		evtimer_add(jd->work_ev, &zero);
}

/* Queue name to be looked at again, on list. */
static void
jobdir_queue_name(struct jobdir_names *list, const char *name)
{
	size_t			 len = strlen(name) + 1;
	struct jobdir_name	*n = xmalloc(sizeof *n + len);

	memcpy(n->name, name, len);
	TAILQ_INSERT_TAIL(list, n, entry);
}

/* Empty a list of names. */
static void
jobdir_clear_names(struct jobdir_names *list)
{
	struct jobdir_name	*n;

	while ((n = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, n, entry);
		free(n);
	}
}

/* Arm timer to fire in ms, unless it is armed already. */
static void
jobdir_arm(struct event *timer, int ms)
{
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

	if (!evtimer_pending(timer, NULL))
		evtimer_add(timer, &tv);
}

/*
 * Note that the entry name changed. Too many at once are forgotten for a
 * scan of the whole folder, which costs less by then.
 */
static void
jobdir_changed(struct jobdir *jd, const char *name)
{
	if (jd->nchanged >= JOBDIR_MAX_NAMES) {
		jobdir_scan_start(jd, "many changes at once");
		return;
	}
	jobdir_queue_name(&jd->changed, name);
	jd->nchanged++;
	jobdir_arm(jd->settle_ev, JOBDIR_SETTLE_MS);
}

/* The changes have settled: look at the entries they named. */
static void
jobdir_settled(evutil_socket_t fd, short events, void *arg)
{
	struct jobdir	*jd = arg;

	TAILQ_CONCAT(&jd->ready, &jd->changed, entry);
	jd->nchanged = 0;
	jobdir_kick(jd);
}

/*
 * Take the saved record of a job found at start, if any: each record is
 * used at most once, and none after the first scan.
 */
static struct state_job *
jobdir_take_record(struct jobdir *jd, const char *name)
{
	struct state_job	 key, *sj;
	void			*node;

	if (jd->records == NULL)
		return NULL;
	key.name = xstrdup(name);
	node = tfind(&key, &jd->records, jobdir_record_compare);
	free(key.name);
	if (node == NULL)
		return NULL;
	sj = *(struct state_job **)node;
	tdelete(sj, &jd->records, jobdir_record_compare);
	jd->records_held++;
	return sj;
}

/* Release the saved state once nothing can use it any more. */
static void
jobdir_release_saved(struct jobdir *jd)
{
	if (!jd->started || jd->records_held > 0 || jd->saved == NULL)
		return;
	state_free(jd->saved);
	jd->saved = NULL;
}

/* A job is done with its saved record, used or not. */
static void
jobdir_drop_record(struct jobdir_job *jj)
{
	if (jj->record == NULL)
		return;
	jj->record = NULL;
	jj->jd->records_held--;
	jobdir_release_saved(jj->jd);
}

/* A job file is gone: a file of that name added later is a fresh job. */
static void
jobdir_spend_record(struct jobdir *jd, const char *name)
{
	struct state_job	 key;

	if (jd->records == NULL)
		return;
	key.name = xstrdup(name);
	tdelete(&key, &jd->records, jobdir_record_compare);
	free(key.name);
}

/* The first scan is over: the saved state serves no new job. */
static void
jobdir_started(struct jobdir *jd)
{
	jd->started = 1;
	tdestroy(jd->records, jobdir_keep_node);
	jd->records = NULL;
	jobdir_release_saved(jd);
}

/* Set whether a job's .suspend file exists. */
static void
jobdir_check_suspended(struct jobdir *jd, struct job *job)
{
	char	*path;

	xasprintf(&path, "%s/%s.suspend", jd->path, job->name);
	farm_set_suspended(jd->farm, job, access(path, F_OK) == 0);
	free(path);
}

/*
 * Count frames already in the job's render folder as done, if written
 * after the .blend was: they survive a crash between storing a frame and
 * saving the state, and a lost state file. Leftover partial uploads go.
 */
static void
jobdir_reconcile(struct jobdir *jd, struct job *job, const struct stat *blend)
{
	char		*dir, *path;
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	struct frame	*f;
	long		 n;
	size_t		 found = 0;

	xasprintf(&dir, "%s/%s", jd->renderdir, job->name);
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		xasprintf(&path, "%s/%s", dir, de->d_name);
		if (strncmp(de->d_name, ".upload-", 8) == 0 &&
		    jobdir_has_suffix(de->d_name, ".part"))
			unlink(path);
		else if (de->d_name[0] != '.' &&
		    framefile_frame(de->d_name, &n) == 0 &&
		    (f = job_frame(job, n)) != NULL && f->state != FRAME_DONE &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_size > 0 && st.st_mtim.tv_sec >= blend->st_mtim.tv_sec) {
			job_frame_set(job, f, FRAME_DONE);
			found++;
		}
		free(path);
	}
	closedir(d);
	if (found > 0) {
		log_info(_("%s: %zu frames found already rendered in %s"),
		    job->name, found, dir);
		job->next_todo = 0;
		job->complete = job_finished(job);
	}
	free(dir);
}

/* Bring every job that names a .blend in line with what is known of it. */
static void
jobdir_blend_update(struct jobdir_blend *b)
{
	struct jobdir_job	*jj, *next;

	TAILQ_FOREACH_SAFE(jj, &b->users, blend_entry, next)
		jobdir_job_update(jj);
}

/* Set or clear (NULL) why a .blend cannot be read, telling its jobs. */
static void
jobdir_blend_set_error(struct jobdir_blend *b, const char *error)
{
	if (error == NULL && b->error == NULL)
		return;
	if (error != NULL && b->error != NULL && strcmp(error, b->error) == 0)
		return;
	free(b->error);
	b->error = error != NULL ? xstrdup(error) : NULL;
	jobdir_blend_update(b);
}

/* A .blend has been hashed: every job that names it learns the digest. */
static void
jobdir_blend_hashed(const char *hex, const struct stat *st, const char *error,
    void *arg)
{
	struct jobdir_blend	*b = arg;

	b->hasher = NULL;
	deps_root_hashed(b->needs, hex, st, error);
	if (hex == NULL) {
		jobdir_blend_set_error(b, error);
		return;
	}
	snprintf(b->digest, sizeof b->digest, "%s", hex);
	fileio_id(st, &b->digest_id);
	free(b->error);
	b->error = NULL;
	jobdir_blend_update(b);
}

/*
 * Take the digest a job brought from the saved state if it was taken
 * where the file is now: a .blend known from the last run is not hashed
 * again. Returns whether one was found.
 */
static int
jobdir_blend_known(struct jobdir_blend *b, const struct file_id *id)
{
	struct jobdir_job	*jj;

	TAILQ_FOREACH(jj, &b->users, blend_entry) {
		if (jj->job->blend_digest[0] != '\0' &&
		    fileio_id_equal(&jj->job->blend_id, id)) {
			snprintf(b->digest, sizeof b->digest, "%s",
			    jj->job->blend_digest);
			b->digest_id = *id;
			return 1;
		}
	}
	return 0;
}

/*
 * Check a .blend by stat: one that cannot be read pauses its jobs, one
 * that changed is hashed again. Its jobs stay paused until it can be read
 * and, if it changed, until the hash says what it holds.
 */
static void
jobdir_blend_check(struct jobdir_blend *b)
{
	struct jobdir	*jd = b->jd;
	struct stat	 st;
	struct file_id	 id;
	char		*why;

	b->checked = jd->check_round;
	deps_check(b->needs);
	errno = 0;
	if (stat(b->path, &st) == -1 || !S_ISREG(st.st_mode)) {
		xasprintf(&why, _("the .blend file %s cannot be read: %s"),
		    b->path, errno != 0 ? strerror(errno) : _("not a file"));
		hasher_cancel(b->hasher);
		b->hasher = NULL;
		jobdir_blend_set_error(b, why);
		free(why);
		return;
	}
	fileio_id(&st, &id);
	b->st = st;
	if (!b->statted) {
		b->statted = 1;
		jobdir_blend_update(b);
	}
	if (b->digest[0] != '\0' && fileio_id_equal(&id, &b->digest_id)) {
		hasher_cancel(b->hasher);
		b->hasher = NULL;
		jobdir_blend_set_error(b, NULL);
		return;
	}
	if (jobdir_blend_known(b, &id)) {
		hasher_cancel(b->hasher);
		b->hasher = NULL;
		deps_root_known(b->needs, b->digest, &id);
		free(b->error);
		b->error = NULL;
		jobdir_blend_update(b);
		return;
	}
	if (b->hasher != NULL && fileio_id_equal(&b->hashing_id, &id))
		return;
	hasher_cancel(b->hasher);
	b->hashing_id = id;
	b->hasher = hasher_start(jd->base, b->path, jobdir_blend_hashed, b);
	deps_root_tap(b->needs, b->hasher);
}

/* Let a job name the .blend its file gives, checking a new one at once. */
static void
jobdir_blend_join(struct jobdir_job *jj)
{
	struct jobdir		*jd = jj->jd;
	struct jobdir_blend	 key, *b;
	void			*node;

	key.path = jj->job->blend_path;
	if ((node = tfind(&key, &jd->blend_paths, jobdir_blend_compare)) !=
	    NULL) {
		b = *(struct jobdir_blend **)node;
		TAILQ_INSERT_TAIL(&b->users, jj, blend_entry);
		jj->blend = b;
		return;
	}
	b = xcalloc(1, sizeof *b);
	b->jd = jd;
	b->path = xstrdup(jj->job->blend_path);
	TAILQ_INIT(&b->users);
	TAILQ_INSERT_TAIL(&b->users, jj, blend_entry);
	jj->blend = b;
	tsearch(b, &jd->blend_paths, jobdir_blend_compare);
	TAILQ_INSERT_TAIL(&jd->blends, b, entry);
	b->needs = deps_open(jd->deps, b->path);
	jobdir_blend_files(b);
	jobdir_blend_check(b);
}

/* A job no longer names its .blend; the last one out releases it. */
static void
jobdir_blend_leave(struct jobdir_job *jj)
{
	struct jobdir_blend	*b = jj->blend;
	struct jobdir		*jd = jj->jd;

	if (b == NULL)
		return;
	TAILQ_REMOVE(&b->users, jj, blend_entry);
	jj->blend = NULL;
	if (!TAILQ_EMPTY(&b->users))
		return;
	hasher_cancel(b->hasher);
	deps_close(b->needs);
	free(b->missing);
	tdelete(b, &jd->blend_paths, jobdir_blend_compare);
	TAILQ_REMOVE(&jd->blends, b, entry);
	free(b->error);
	free(b->path);
	free(b);
}

/*
 * Check the next .blend of this round; returns 0 once the round is over.
 * Checked ones go to the back, so the list holds the unchecked first.
 */
static int
jobdir_blend_check_next(struct jobdir *jd)
{
	struct jobdir_blend	*b = TAILQ_FIRST(&jd->blends);

	if (b == NULL || b->checked == jd->check_round)
		return 0;
	TAILQ_REMOVE(&jd->blends, b, entry);
	TAILQ_INSERT_TAIL(&jd->blends, b, entry);
	jobdir_blend_check(b);
	return 1;
}

/* Add a job for the job file name, found in the folder. */
static struct jobdir_job *
jobdir_add_job(struct jobdir *jd, const char *name)
{
	struct jobdir_job	*jj = xcalloc(1, sizeof *jj);

	jj->jd = jd;
	jj->job = farm_add_job(jd->farm, name);
	jj->job->io = jj;
	jj->reconcile = 1;
	if (!jd->started)
		jj->record = jobdir_take_record(jd, name);
	return jj;
}

/* Forget that a job's file could not be read. */
static void
jobdir_job_clear_error(struct jobdir_job *jj)
{
	if (jj->error == NULL)
		return;
	TAILQ_REMOVE(&jj->jd->retry, jj, retry_entry);
	free(jj->error);
	jj->error = NULL;
}

/* Drop a job whose file is gone, and what the jobdir holds for it. */
static void
jobdir_remove_job(struct jobdir_job *jj)
{
	struct jobdir	*jd = jj->jd;
	struct job	*job = jj->job;

	jobdir_spend_record(jd, job->name);
	jobdir_job_clear_error(jj);
	jobdir_blend_leave(jj);
	jobdir_drop_record(jj);
	if (jj->grace_ev != NULL)
		event_free(jj->grace_ev);
	free(jj);
	job->io = NULL;
	farm_remove_job(jd->farm, job);
}

/*
 * Sum up the files a .blend needs, once for all the jobs that name it,
 * naming a few of the missing ones.
 */
static void
jobdir_blend_files(struct jobdir_blend *b)
{
	struct depfile	**list;
	char		 *next;
	size_t		  n, i, named = 0;

	deps_summarize(b->needs, &b->files);
	free(b->missing);
	b->missing = NULL;
	if (!b->files.ready || b->files.missing == 0)
		return;
	n = deps_list(b->needs, &list);
	for (i = 0; i < n; i++) {
		if (list[i]->error == NULL)
			continue;
		if (named++ == JOBDIR_MISSING_NAMED) {
			xasprintf(&next, "%s, and %zu more", b->missing,
			    b->files.missing - JOBDIR_MISSING_NAMED);
			free(b->missing);
			b->missing = next;
			break;
		}
		xasprintf(&next, "%s%s%s (%s)", b->missing != NULL ?
		    b->missing : "", b->missing != NULL ? ", " : "",
		    list[i]->path, list[i]->error);
		free(b->missing);
		b->missing = next;
	}
	free(list);
}

/*
 * Tell the farm what the files a job's .blend needs come to: no frame
 * goes out until every one is hashed or known missing.
 */
static void
jobdir_job_files(struct jobdir_job *jj)
{
	struct jobdir_blend	*b = jj->blend;

	if (b == NULL || b->error != NULL)
		return;
	farm_set_files(jj->jd->farm, jj->job, !b->files.ready, b->files.files,
	    b->files.bytes, b->files.missing, b->missing);
}

/*
 * Bring a job in line with what is known of its files: the digest of its
 * .blend, whether they can be read, and the frames found rendered.
 */
static void
jobdir_job_update(struct jobdir_job *jj)
{
	struct jobdir		*jd = jj->jd;
	struct job		*job = jj->job;
	struct jobdir_blend	*b = jj->blend;
	const char		*reason = jj->error;

	if (b != NULL && b->error == NULL) {
		if (b->digest[0] != '\0' &&
		    (strcmp(job->blend_digest, b->digest) != 0 ||
		    !fileio_id_equal(&job->blend_id, &b->digest_id)))
			farm_set_blend_digest(jd->farm, job, b->digest,
			    &b->digest_id);
		if (jj->reconcile && job->frames != NULL && b->statted) {
			jj->reconcile = 0;
			jobdir_reconcile(jd, job, &b->st);
		}
	}
	if (reason == NULL && b != NULL)
		reason = b->error;
	farm_set_unavailable(jd->farm, job, reason);
	jobdir_job_files(jj);
}

/*
 * A job file cannot be read for now: pause the job, keeping what it has,
 * and try again at every check of the .blend files.
 */
static void
jobdir_job_unreadable(struct jobdir_job *jj, const char *reason)
{
	if (jj->error == NULL)
		TAILQ_INSERT_TAIL(&jj->jd->retry, jj, retry_entry);
	free(jj->error);
	jj->error = xstrdup(reason);
	memset(&jj->job->job_id, 0, sizeof jj->job->job_id);
	jobdir_job_update(jj);
}

/* Refuse a job file that does not parse; it is read again when changed. */
static void
jobdir_job_invalid(struct jobdir_job *jj, const char *reason,
    const struct file_id *id)
{
	struct job	*job = jj->job;

	jobdir_job_clear_error(jj);
	jobdir_blend_leave(jj);
	jobdir_drop_record(jj);
	job->job_id = *id;
	if (job->invalid == NULL || job->unavailable != NULL ||
	    strcmp(job->invalid, reason) != 0)
		farm_set_invalid(jj->jd->farm, job, reason);
}

/*
 * Set what a job file of len bytes says: a change of contents starts the
 * job over. A job found at start takes up its saved state if its file is
 * as it was.
 */
static void
jobdir_job_define(struct jobdir_job *jj, const struct jobfile *jf,
    const char *text, size_t len, const struct file_id *id)
{
	struct jobdir	*jd = jj->jd;
	struct job	*job = jj->job;
	char		 hex[DIGEST_HEX_SIZE];

	digest_buffer(text, jf->defined, hex);
	jobdir_job_clear_error(jj);
	job->allow_missing = jf->allow_missing;
	job->fresh_blender = jf->fresh_blender;
	job->job_id = *id;
	farm_set_definition(jd->farm, job, jf->blend, jf->first, jf->last,
	    hex);
	if (jj->record != NULL) {
		if (strcmp(jj->record->job_digest, hex) == 0)
			state_restore_job(jd->farm, job, jj->record);
		jobdir_drop_record(jj);
	}
	if (jj->blend == NULL || strcmp(jj->blend->path, job->blend_path) != 0) {
		jobdir_blend_leave(jj);
		jobdir_blend_join(jj);
	}
	jobdir_job_update(jj);
}

/* Read a job file that is new or has changed, of stat st, at path. */
static void
jobdir_job_read(struct jobdir_job *jj, const char *path,
    const struct stat *st)
{
	struct file_id	 id;
	struct jobfile	 jf;
	char		*text = NULL, *cause = NULL;
	size_t		 len;

	fileio_id(st, &id);
	if ((uint64_t)st->st_size > JOBFILE_MAX_SIZE) {
		xasprintf(&cause, "%s: %s", path, strerror(EFBIG));
		jobdir_job_invalid(jj, cause, &id);
	} else if (fileio_read_small(path, JOBFILE_MAX_SIZE, &text, &len,
	    &cause) != 0)
		jobdir_job_unreadable(jj, cause);
	else if (jobfile_parse(text, len, &jf, &cause) != 0)
		jobdir_job_invalid(jj, cause, &id);
	else {
		jobdir_job_define(jj, &jf, text, len, &id);
		jobfile_free(&jf);
	}
	free(cause);
	free(text);
}

/* The grace of a job whose file was missing is over: look once more. */
static void
jobdir_job_grace(evutil_socket_t fd, short events, void *arg)
{
	struct jobdir_job	*jj = arg;

	jj->gone = 1;
	jobdir_queue_name(&jj->jd->ready, jj->job->name);
	jobdir_kick(jj->jd);
}

/*
 * A job's file is not there. It may be in the middle of a save by rename:
 * the job goes only if the file is still missing after a grace.
 */
static void
jobdir_job_missing(struct jobdir_job *jj)
{
	if (jj->gone) {
		jobdir_remove_job(jj);
		return;
	}
	if (jj->grace_ev == NULL)
		jj->grace_ev = evtimer_new(jj->jd->base, jobdir_job_grace, jj);
	jobdir_arm(jj->grace_ev, JOBDIR_GONE_MS);
}

/* A job's file is there: it is not gone, whatever was seen before. */
static void
jobdir_job_present(struct jobdir_job *jj)
{
	if (jj->grace_ev != NULL)
		evtimer_del(jj->grace_ev);
	jj->gone = 0;
}

/*
 * Look at the entry name, a job file (or none now): add, read again,
 * pause or drop its job. A scan notes the job as listed; elsewhere, its
 * suspension is looked at too. Returns the work it took, in units.
 */
static int
jobdir_look(struct jobdir *jd, const char *name, int listed)
{
	struct job		*job = farm_find_job(jd->farm, name);
	struct jobdir_job	*jj = job != NULL ? job->io : NULL;
	struct stat		 st;
	struct file_id		 id;
	char			*path, *why;
	int			 cost = JOBDIR_COST_STAT, is_new = 0, rc;

	xasprintf(&path, "%s/%s", jd->path, name);
	rc = stat(path, &st);
	if (rc == -1 && errno != ENOENT && errno != ENOTDIR) {
		xasprintf(&why, _("the job file %s cannot be read: %s"), path,
		    strerror(errno));
		if ((is_new = jj == NULL))
			jj = jobdir_add_job(jd, name);
		jobdir_job_present(jj);
		jj->seen = jd->scan_round;
		jobdir_job_unreadable(jj, why);
		free(why);
		goto suspension;
	}
	if (rc == -1 || !S_ISREG(st.st_mode)) {
		if (jj != NULL)
			jobdir_job_missing(jj);
		else
			jobdir_spend_record(jd, name);
		free(path);
		return cost;
	}
	if ((is_new = jj == NULL))
		jj = jobdir_add_job(jd, name);
	jobdir_job_present(jj);
	jj->seen = jd->scan_round;
	fileio_id(&st, &id);
	if (is_new || jj->error != NULL ||
	    !fileio_id_equal(&id, &jj->job->job_id)) {
		jobdir_job_read(jj, path, &st);
		cost = JOBDIR_COST_READ;
	}
suspension:
	if (is_new || !listed)
		jobdir_check_suspended(jd, jj->job);
	free(path);
	return cost;
}

/* Look at the next name that changed; returns the work, 0 if none. */
static int
jobdir_look_next(struct jobdir *jd)
{
	struct jobdir_name	*n = TAILQ_FIRST(&jd->ready);
	int			 cost;

	if (n == NULL)
		return 0;
	TAILQ_REMOVE(&jd->ready, n, entry);
	log_debug("%s changed", n->name);
	cost = jobdir_look(jd, n->name, 0);
	free(n);
	return cost;
}

/* Start reading the whole folder for why, or once more after this scan. */
static void
jobdir_scan_start(struct jobdir *jd, const char *why)
{
	if (jd->scan != NULL) {
		jd->scan_again = why;
		return;
	}
	if ((jd->scan = opendir(jd->path)) == NULL) {
		if (!jd->scan_failed)
			log_warn(_("cannot read %s"), jd->path);
		jd->scan_failed = 1;
		if (!jd->started)
			jobdir_started(jd);
		return;
	}
	jd->scan_failed = 0;
	jd->scan_round++;
	jd->scan_jobs = 0;
	log_debug("%s: reading the folder (%s)", jd->path, why);
	jobdir_kick(jd);
}

/*
 * The scan has listed every entry. A job it did not list is looked at
 * again (its file may be gone); a job whose .suspend file it listed, or
 * not, unlike what is known, has it checked.
 */
static void
jobdir_scan_end(struct jobdir *jd)
{
	struct job		*job;
	struct jobdir_job	*jj;
	const char		*again = jd->scan_again;

	closedir(jd->scan);
	jd->scan = NULL;
	jd->scan_again = NULL;
	log_debug("%s: read the folder: %zu job files", jd->path,
	    jd->scan_jobs);
	TAILQ_FOREACH(job, &jd->farm->jobs, entry) {
		jj = job->io;
		if (jj->seen != jd->scan_round)
			jobdir_queue_name(&jd->ready, job->name);
		else if ((jj->seen_suspend == jd->scan_round) != job->held)
			jobdir_check_suspended(jd, job);
	}
	if (!jd->started)
		jobdir_started(jd);
	if (again != NULL)
		jobdir_scan_start(jd, again);
}

/* Take the next entry of the scan; returns the work, 0 if none. */
static int
jobdir_scan_next(struct jobdir *jd)
{
	struct dirent	*de;
	struct job	*job;
	char		*name;

	if (jd->scan == NULL)
		return 0;
	if ((de = readdir(jd->scan)) == NULL) {
		jobdir_scan_end(jd);
		return JOBDIR_COST_STAT;
	}
	if (de->d_name[0] == '.')
		return JOBDIR_COST_STAT;
	if (jobdir_has_suffix(de->d_name, ".job.suspend")) {
		name = xstrndup(de->d_name, strlen(de->d_name) -
		    strlen(".suspend"));
		if ((job = farm_find_job(jd->farm, name)) != NULL)
			((struct jobdir_job *)job->io)->seen_suspend =
			    jd->scan_round;
		free(name);
		return JOBDIR_COST_STAT;
	}
	if (!jobdir_has_suffix(de->d_name, ".job"))
		return JOBDIR_COST_STAT;
	jd->scan_jobs++;
	return jobdir_look(jd, de->d_name, 1);
}

/*
 * Do a slice of the work waiting: names that changed first, then the
 * scan, then the round of .blend checks; come back next turn for more.
 */
static void
jobdir_work(evutil_socket_t fd, short events, void *arg)
{
	struct jobdir	*jd = arg;
	int		 budget = JOBDIR_SLICE, cost;

	while (budget > 0) {
		if ((cost = jobdir_look_next(jd)) == 0)
			cost = jobdir_scan_next(jd);
		if (cost == 0 && jd->checking &&
		    (cost = jobdir_blend_check_next(jd)) == 0)
			jd->checking = 0;
		if (cost == 0)
			return;
		budget -= cost;
	}
	jobdir_kick(jd);
}

/* Read the whole folder now and then, in case a change went unseen. */
static void
jobdir_rescan(evutil_socket_t fd, short events, void *arg)
{
	jobdir_scan_start(arg, "periodic check");
}

/*
 * Check every .blend for changes, each once however many jobs name it,
 * and try again the job files that could not be read.
 */
static void
jobdir_blend_tick(evutil_socket_t fd, short events, void *arg)
{
	struct jobdir		*jd = arg;
	struct jobdir_job	*jj;

	jd->check_round++;
	jd->checking = 1;
	TAILQ_FOREACH(jj, &jd->retry, retry_entry)
		jobdir_queue_name(&jd->ready, jj->job->name);
	jobdir_kick(jd);
}

/* Arm the periodic scan: rare where inotify sees every change. */
static void
jobdir_arm_rescan(struct jobdir *jd)
{
	struct timeval	tv = { jd->rescan_interval, 0 };

	if (jd->watching && tv.tv_sec < JOBDIR_SAFETY_SCAN)
		tv.tv_sec = JOBDIR_SAFETY_SCAN;
	event_add(jd->rescan_ev, &tv);
}

#ifdef HAVE_SYS_INOTIFY_H
/* inotify stopped watching the folder (it was removed): scan it instead. */
static void
jobdir_unwatch(struct jobdir *jd)
{
	if (jd->inotify_fd == -1)
		return;
	event_del(jd->inotify_ev);
	close(jd->inotify_fd);
	jd->inotify_fd = -1;
	jd->watching = 0;
	log_warnx(_("cannot watch %s; checking it every %d s instead"),
	    jd->path, jd->rescan_interval);
	jobdir_arm_rescan(jd);
}

/*
 * Whether path is on a network file system: inotify does not see the
 * changes other machines make there.
 */
static int
jobdir_remote(const char *path)
{
	struct statfs	sf;

	if (statfs(path, &sf) == -1)
		return 0;
	switch ((uint32_t)sf.f_type) {
	case 0x6969:		/* NFS */
	case 0x517b:		/* SMB */
	case 0xff534d42:	/* CIFS */
	case 0xfe534d42:	/* SMB2 */
	case 0x65735546:	/* FUSE */
	case 0x01021997:	/* 9P */
	case 0x5346414f:	/* AFS */
	case 0x00c36400:	/* Ceph */
		return 1;
	}
	return 0;
}

/* Note one inotify event: a job file or a .suspend file that changed. */
static void
jobdir_inotify_event(struct jobdir *jd, const struct inotify_event *ev)
{
	char	*name;

	if (ev->mask & IN_Q_OVERFLOW)
		jobdir_scan_start(jd, "inotify lost events");
	else if (ev->mask & IN_IGNORED)
		jobdir_unwatch(jd);
	else if (ev->mask & IN_MOVE_SELF)
		jobdir_scan_start(jd, "the folder moved");
	else if (ev->len == 0 || ev->name[0] == '.')
		return;
	else if (jobdir_has_suffix(ev->name, ".job"))
		jobdir_changed(jd, ev->name);
	else if (jobdir_has_suffix(ev->name, ".job.suspend")) {
		name = xstrndup(ev->name, strlen(ev->name) -
		    strlen(".suspend"));
		jobdir_changed(jd, name);
		free(name);
	}
}

/* Read inotify's events; any other file than a job's costs nothing. */
static void
jobdir_inotify(evutil_socket_t fd, short events, void *arg)
{
	struct jobdir			*jd = arg;
	char				 buf[8192] __attribute__((aligned(
	    __alignof__(struct inotify_event))));
	const struct inotify_event	*ev;
	ssize_t				 n, at;

	while (jd->inotify_fd != -1 && (n = read(fd, buf, sizeof buf)) > 0) {
		for (at = 0; at < n; at += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)(buf + at);
			jobdir_inotify_event(jd, ev);
		}
	}
}

/* Watch the folder with inotify; -1 if it cannot be. */
static int
jobdir_watch(struct jobdir *jd)
{
	if ((jd->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return -1;
	if (inotify_add_watch(jd->inotify_fd, jd->path, IN_CREATE | IN_DELETE |
	    IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB |
	    IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR) == -1) {
		close(jd->inotify_fd);
		jd->inotify_fd = -1;
		return -1;
	}
	jd->inotify_ev = event_new(jd->base, jd->inotify_fd,
	    EV_READ | EV_PERSIST, jobdir_inotify, jd);
	event_add(jd->inotify_ev, NULL);
	jd->watching = !jobdir_remote(jd->path);
	return 0;
}
#endif

/* Set the periodic scan and blend check intervals from settings. */
void
jobdir_set_intervals(struct jobdir *jd, const struct settings *s)
{
	struct timeval	blend = { s->blend_check_interval, 0 };

	jd->rescan_interval = s->rescan_interval;
	jobdir_arm_rescan(jd);
	event_add(jd->blend_ev, &blend);
}

/* Read the whole folder again soon, as asked. */
void
jobdir_scan(struct jobdir *jd)
{
	jobdir_scan_start(jd, "asked for");
}

/*
 * Whether every job file found at start has been read: before, a
 * checkpoint would forget the jobs not read yet.
 */
int
jobdir_loaded(struct jobdir *jd)
{
	return jd->started;
}

/* News of the files the .blend files need: their jobs learn it. */
static void
jobdir_deps_changed(void *arg)
{
	struct jobdir		*jd = arg;
	struct jobdir_blend	*b;

	TAILQ_FOREACH(b, &jd->blends, entry) {
		jobdir_blend_files(b);
		jobdir_blend_update(b);
	}
}

/*
 * Watch the job folder path for farm, storing nothing but reading
 * renderdir for frames already rendered. saved is the checkpoint read at
 * start, or NULL: it serves the jobs found at start only, and is released
 * (state_free) once none can use it.
 */
struct jobdir *
jobdir_open(struct event_base *base, struct farm *farm, const char *path,
    const char *renderdir, struct state *saved, const struct settings *s)
{
	struct jobdir	*jd = xcalloc(1, sizeof *jd);
	size_t		 i;

	jd->base = base;
	jd->farm = farm;
	jd->path = xstrdup(path);
	jd->renderdir = xstrdup(renderdir);
	jd->saved = saved;
	for (i = 0; saved != NULL && i < saved->njobs; i++)
		tsearch(&saved->jobs[i], &jd->records, jobdir_record_compare);
	TAILQ_INIT(&jd->changed);
	TAILQ_INIT(&jd->ready);
	TAILQ_INIT(&jd->blends);
	TAILQ_INIT(&jd->retry);
	jd->inotify_fd = -1;
	jd->deps = deps_new(base, jobdir_deps_changed, jd);
	jd->settle_ev = evtimer_new(base, jobdir_settled, jd);
	jd->work_ev = evtimer_new(base, jobdir_work, jd);
	jd->rescan_ev = event_new(base, -1, EV_PERSIST, jobdir_rescan, jd);
	jd->blend_ev = event_new(base, -1, EV_PERSIST, jobdir_blend_tick, jd);
#ifdef HAVE_SYS_INOTIFY_H
	if (jobdir_watch(jd) != 0)
		log_warn(_("cannot watch %s; checking it every %d s instead"),
		    path, s->rescan_interval);
#endif
	jobdir_set_intervals(jd, s);
	jobdir_scan_start(jd, "start");
	/* The first slice at once: a small folder is read before any peer. */
	jobdir_work(-1, 0, jd);
	return jd;
}

/*
 * The .blend of a job and what it needs, for the clients that fetch them;
 * NULL for a job that names no .blend now.
 */
struct depfile *
jobdir_job_needs(struct job *job)
{
	struct jobdir_job	*jj = job->io;

	return jj != NULL && jj->blend != NULL ? jj->blend->needs : NULL;
}

/*
 * Suspend or resume a job the same way a user would: by creating or
 * removing its .suspend file.
 */
int
jobdir_set_suspended(struct jobdir *jd, struct job *job, int suspended,
    char **cause)
{
	char	*path;
	FILE	*f;
	int	 rc = 0;

	xasprintf(&path, "%s/%s.suspend", jd->path, job->name);
	if (suspended) {
		if ((f = fopen(path, "a")) == NULL || fclose(f) != 0)
			rc = -1;
	} else if (unlink(path) == -1 && errno != ENOENT)
		rc = -1;
	if (rc != 0)
		xasprintf(cause, "%s: %s", path, strerror(errno));
	else
		farm_set_suspended(jd->farm, job, suspended);
	free(path);
	return rc;
}

/* Stop watching and release everything. */
void
jobdir_close(struct jobdir *jd)
{
	struct job		*job;
	struct jobdir_job	*jj;

	TAILQ_FOREACH(job, &jd->farm->jobs, entry) {
		jj = job->io;
		jobdir_job_clear_error(jj);
		jobdir_blend_leave(jj);
		if (jj->grace_ev != NULL)
			event_free(jj->grace_ev);
		free(jj);
		job->io = NULL;
	}
	if (jd->scan != NULL)
		closedir(jd->scan);
	jobdir_clear_names(&jd->changed);
	jobdir_clear_names(&jd->ready);
	tdestroy(jd->records, jobdir_keep_node);
	if (jd->inotify_ev != NULL)
		event_free(jd->inotify_ev);
	if (jd->inotify_fd != -1)
		close(jd->inotify_fd);
	event_free(jd->settle_ev);
	event_free(jd->work_ev);
	event_free(jd->rescan_ev);
	event_free(jd->blend_ev);
	deps_free(jd->deps);
	free(jd->renderdir);
	free(jd->path);
	free(jd);
}
