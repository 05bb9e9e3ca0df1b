/*
 * jobdir.c: keeping the farm's jobs in step with JOBDIR. A scan reads the
 * job files that are new or changed, drops the jobs whose files are gone
 * and notes suspension files; inotify starts a scan within milliseconds of
 * a change, and a periodic scan covers file systems without it. Each
 * job's .blend is checked by stat and hashed again, in slices, only when
 * it has changed.
 */
#include "bdfarm.h"
#include "jobdir.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef HAVE_SYS_INOTIFY_H
#include <sys/inotify.h>
#endif

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

struct jobdir {
	struct event_base	*base;
	struct farm		*farm;
	char			*path;
	char			*renderdir;
	struct state		*saved;
	int			 inotify_fd;
	struct event		*inotify_ev;
	struct event		*settle_ev;
	struct event		*rescan_ev;
	struct event		*blend_ev;
};

/* The I/O state the jobdir keeps for each job (job->io). */
struct jobdir_job {
	struct jobdir	*jd;
	struct job	*job;
	struct hasher	*hasher;
};

static void	jobdir_check_blend(struct jobdir *, struct job *);

/* Whether name ends in suffix. */
static int
jobdir_has_suffix(const char *name, const char *suffix)
{
	size_t	n = strlen(name), s = strlen(suffix);

	return n > s && strcmp(name + n - s, suffix) == 0;
}

/* The I/O state of a job, created on first use. */
static struct jobdir_job *
jobdir_job(struct jobdir *jd, struct job *job)
{
	struct jobdir_job	*jj = job->io;

	if (jj == NULL) {
		jj = xcalloc(1, sizeof *jj);
		jj->jd = jd;
		jj->job = job;
		job->io = jj;
	}
	return jj;
}

/* Release what the jobdir holds for a job, stopping its hash. */
static void
jobdir_job_free(struct job *job)
{
	struct jobdir_job	*jj = job->io;

	if (jj == NULL)
		return;
	hasher_cancel(jj->hasher);
	free(jj);
	job->io = NULL;
}

/* Drop a job and what the jobdir holds for it. */
static void
jobdir_remove_job(struct jobdir *jd, struct job *job)
{
	jobdir_job_free(job);
	farm_remove_job(jd->farm, job);
}

/* Refuse a job for reason, once per distinct reason. */
static void
jobdir_invalid(struct jobdir *jd, struct job *job, const char *reason)
{
	struct jobdir_job	*jj = jobdir_job(jd, job);

	hasher_cancel(jj->hasher);
	jj->hasher = NULL;
	if (job->invalid != NULL && strcmp(job->invalid, reason) == 0)
		return;
	farm_set_invalid(jd->farm, job, reason);
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

/* Why stat() refused a file, or that it is not a regular file. */
static const char *
jobdir_stat_error(const struct stat *st)
{
	return errno != 0 ? strerror(errno) : _("not a file");
}

/*
 * Read a job file that is new or has changed, and bring its job up to
 * date; a file that does not parse leaves the job refused with a reason.
 */
static void
jobdir_load(struct jobdir *jd, struct job *job, int is_new,
    const struct file_id *id)
{
	char			*path, *text = NULL, *cause = NULL, *why;
	char			 hex[DIGEST_HEX_SIZE];
	struct jobfile		 jf;
	struct stat		 st;
	struct state_job	*sj;
	size_t			 len;

	xasprintf(&path, "%s/%s", jd->path, job->name);
	if (fileio_read_small(path, JOBFILE_MAX_SIZE, &text, &len,
	    &cause) != 0) {
		jobdir_invalid(jd, job, cause);
		goto out;
	}
	if (jobfile_parse(text, len, &jf, &cause) != 0) {
		jobdir_invalid(jd, job, cause);
		goto out;
	}
	errno = 0;
	if (stat(jf.blend, &st) == -1 || !S_ISREG(st.st_mode)) {
		xasprintf(&why, _("the .blend file %s cannot be read: %s"),
		    jf.blend, jobdir_stat_error(&st));
		jobdir_invalid(jd, job, why);
		free(why);
		jobfile_free(&jf);
		goto out;
	}
	job->job_id = *id;
	digest_buffer(text, len, hex);
	if (job->blend_path == NULL || strcmp(job->blend_path, jf.blend) != 0) {
		/* A hash of the old .blend would land on the new one. */
		hasher_cancel(jobdir_job(jd, job)->hasher);
		jobdir_job(jd, job)->hasher = NULL;
	}
	farm_set_definition(jd->farm, job, jf.blend, jf.first, jf.last, hex);
	if (is_new && jd->saved != NULL &&
	    (sj = state_find(jd->saved, job->name)) != NULL &&
	    strcmp(sj->job_digest, hex) == 0)
		state_restore_job(jd->farm, job, sj);
	if (is_new)
		jobdir_reconcile(jd, job, &st);
	jobfile_free(&jf);
	jobdir_check_blend(jd, job);
out:
	if (job->invalid != NULL)
		memset(&job->job_id, 0, sizeof job->job_id);
	free(cause);
	free(text);
	free(path);
}

/* A .blend has been hashed: record its digest (which may restart). */
static void
jobdir_hashed(const char *hex, const struct stat *st, const char *error,
    void *arg)
{
	struct jobdir_job	*jj = arg;
	struct file_id		 id;

	jj->hasher = NULL;
	if (hex == NULL) {
		log_warnx("%s", error);
		return;
	}
	fileio_id(st, &id);
	farm_set_blend_digest(jj->jd->farm, jj->job, hex, &id);
}

/* Hash a job's .blend again if it changed since its digest was taken. */
static void
jobdir_check_blend(struct jobdir *jd, struct job *job)
{
	struct jobdir_job	*jj = jobdir_job(jd, job);
	struct stat		 st;
	struct file_id		 id;
	char			*why;

	if (job->invalid != NULL || job->blend_path == NULL ||
	    jj->hasher != NULL)
		return;
	if (stat(job->blend_path, &st) == -1) {
		xasprintf(&why, _("the .blend file %s cannot be read: %s"),
		    job->blend_path, strerror(errno));
		jobdir_invalid(jd, job, why);
		memset(&job->job_id, 0, sizeof job->job_id);
		free(why);
		return;
	}
	fileio_id(&st, &id);
	if (job->blend_digest[0] != '\0' && fileio_id_equal(&id, &job->blend_id))
		return;
	jj->hasher = hasher_start(jd->base, job->blend_path, jobdir_hashed, jj);
	if (jj->hasher == NULL)
		log_warn("%s", job->blend_path);
}

/* Look at one directory entry that may be a job file. */
static void
jobdir_scan_entry(struct jobdir *jd, const char *name)
{
	struct job	*job;
	struct stat	 st;
	struct file_id	 id;
	char		*path;
	int		 is_new = 0, suspended;

	xasprintf(&path, "%s/%s", jd->path, name);
	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
		free(path);
		return;
	}
	fileio_id(&st, &id);
	if ((job = farm_find_job(jd->farm, name)) == NULL) {
		job = farm_add_job(jd->farm, name);
		is_new = 1;
	}
	job->seen = 1;
	if (is_new || !fileio_id_equal(&id, &job->job_id))
		jobdir_load(jd, job, is_new, &id);

	free(path);
	xasprintf(&path, "%s/%s.suspend", jd->path, name);
	suspended = access(path, F_OK) == 0;
	farm_set_suspended(jd->farm, job, suspended);
	free(path);
}

/* Bring the jobs in step with the folder now. */
void
jobdir_scan(struct jobdir *jd)
{
	struct job	*job, *next;
	struct dirent	*de;
	DIR		*d;

	if ((d = opendir(jd->path)) == NULL) {
		log_warn(_("cannot read %s"), jd->path);
		return;
	}
	TAILQ_FOREACH(job, &jd->farm->jobs, entry)
		job->seen = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' && jobdir_has_suffix(de->d_name, ".job"))
			jobdir_scan_entry(jd, de->d_name);
	}
	closedir(d);
	TAILQ_FOREACH_SAFE(job, &jd->farm->jobs, entry, next) {
		if (!job->seen)
			jobdir_remove_job(jd, job);
	}
}

/* Scan once a burst of changes has settled. */
static void
jobdir_settled(evutil_socket_t fd, short events, void *arg)
{
	jobdir_scan(arg);
}

/* The periodic scan, in case inotify missed something. */
static void
jobdir_rescan(evutil_socket_t fd, short events, void *arg)
{
	jobdir_scan(arg);
}

/* Check every job's .blend for changes. */
static void
jobdir_blend_tick(evutil_socket_t fd, short events, void *arg)
{
	struct jobdir	*jd = arg;
	struct job	*job;

	TAILQ_FOREACH(job, &jd->farm->jobs, entry)
		jobdir_check_blend(jd, job);
}

#ifdef HAVE_SYS_INOTIFY_H
/* Drain inotify's events and schedule a scan. */
static void
jobdir_inotify(evutil_socket_t fd, short events, void *arg)
{
	struct jobdir	*jd = arg;
	char		 buf[8192];
	struct timeval	 tv = { 0, JOBDIR_SETTLE_MS * 1000 };

	while (read(fd, buf, sizeof buf) > 0)
		;
	if (!evtimer_pending(jd->settle_ev, NULL))
		evtimer_add(jd->settle_ev, &tv);
}
#endif

/* Set the periodic scan and blend check intervals from settings. */
void
jobdir_set_intervals(struct jobdir *jd, const struct settings *s)
{
	struct timeval	rescan = { s->rescan_interval, 0 };
	struct timeval	blend = { s->blend_check_interval, 0 };

	event_add(jd->rescan_ev, &rescan);
	event_add(jd->blend_ev, &blend);
}

/*
 * Watch the job folder path for farm, storing nothing but reading
 * renderdir for frames already rendered. saved is the checkpoint read at
 * start, or NULL.
 */
struct jobdir *
jobdir_open(struct event_base *base, struct farm *farm, const char *path,
    const char *renderdir, struct state *saved, const struct settings *s)
{
	struct jobdir	*jd = xcalloc(1, sizeof *jd);

	jd->base = base;
	jd->farm = farm;
	jd->path = xstrdup(path);
	jd->renderdir = xstrdup(renderdir);
	jd->saved = saved;
	jd->inotify_fd = -1;
	jd->settle_ev = evtimer_new(base, jobdir_settled, jd);
	jd->rescan_ev = event_new(base, -1, EV_PERSIST, jobdir_rescan, jd);
	jd->blend_ev = event_new(base, -1, EV_PERSIST, jobdir_blend_tick, jd);
#ifdef HAVE_SYS_INOTIFY_H
	jd->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (jd->inotify_fd == -1 || inotify_add_watch(jd->inotify_fd, path,
	    IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
	    IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF) == -1)
		log_warn(_("cannot watch %s; checking it every %d s instead"),
		    path, s->rescan_interval);
	else {
		jd->inotify_ev = event_new(base, jd->inotify_fd,
		    EV_READ | EV_PERSIST, jobdir_inotify, jd);
		event_add(jd->inotify_ev, NULL);
	}
#endif
	jobdir_set_intervals(jd, s);
	jobdir_scan(jd);
	return jd;
}

/*
 * Suspend or resume a job the same way a user would: by creating or
 * removing its .suspend file. The next scan sees it.
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
	struct job	*job;

	TAILQ_FOREACH(job, &jd->farm->jobs, entry)
		jobdir_job_free(job);
	if (jd->inotify_ev != NULL)
		event_free(jd->inotify_ev);
	if (jd->inotify_fd != -1)
		close(jd->inotify_fd);
	event_free(jd->settle_ev);
	event_free(jd->rescan_ev);
	event_free(jd->blend_ev);
	free(jd->renderdir);
	free(jd->path);
	free(jd);
}
