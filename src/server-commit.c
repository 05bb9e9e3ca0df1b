/*
 * server-commit.c: the checkpoint and what waits for it. Changes to the
 * model are saved shortly after they happen. A stored frame is committed
 * in three steps: the checkpoint that records it done is written, with a
 * journal of what is left to do (move the frame's file into place, add
 * its lines to the job log); then the journal is done; then the client is
 * thanked. A process that dies between the steps does the journal at its
 * next start, so the render folder, the job logs and the checkpoint never
 * disagree, and no thanked frame is rendered again. Frames stored within
 * a few milliseconds share one checkpoint.
 */
#include "bdfarm.h"
#include "server.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "fileio.h"
#include "jobdir.h"
#include "joblog.h"
#include "log.h"
#include "settings.h"
#include "state.h"
#include "upload.h"
#include "xmalloc.h"

#define SERVER_COMMIT_MS	5	/* frames gathered into one commit */
#define SERVER_RETRY_SECONDS	1	/* between tries of what failed */

/* Keep a descriptor open for the checkpoint, whatever the peers take. */
void
server_commit_reserve_fd(struct server *s)
{
	if (s->reserve_fd == -1)
		s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/*
 * Keep a job log line until the checkpoint has been written, so that the
 * log never says a frame arrived that a crash would make the farm forget.
 */
void
server_commit_joblog(struct server *s, const char *job, const char *fmt, ...)
{
	char	*text;
	va_list	 ap;

	va_start(ap, fmt);
	xvasprintf(&text, fmt, ap);
	va_end(ap);
	state_journal_line(&s->journal, clock_wall_ms(), job, text);
	free(text);
}

/*
 * A stored frame waits in from, in the render folder, to be moved to to
 * once the checkpoint records it.
 */
void
server_commit_store(struct server *s, char *from, char *to)
{
	state_journal_rename(&s->journal, from, to);
	free(from);
	free(to);
}

/* Flush the render folder's subfolder that path (in it) is in. */
static void
server_commit_sync(struct server *s, const char *path)
{
	const char	*slash = strchr(path, '/');
	char		*dir;

	xasprintf(&dir, "%s/%.*s", s->options->renderdir,
	    (int)(slash != NULL ? slash - path : 0), path);
	fileio_sync_dir(dir);
	free(dir);
}

/*
 * Make the stored frames the journal moves durable before the checkpoint
 * records them: one flush of each file system they are on (syncfs), which
 * costs far less than flushing each frame's file when many arrive at
 * once. -1 with *cause if a flush failed.
 */
static int
server_commit_flush(struct server *s, char **cause)
{
	struct state_journal	*j = &s->journal;
	struct stat		 st;
	dev_t			*done;
	char			*dir;
	size_t			 i, k, ndone = 0;
	int			 fd, rc = 0;

	done = xreallocarray(NULL, j->nrenames, sizeof *done);
	for (i = 0; i < j->nrenames && rc == 0; i++) {
#ifdef HAVE_SYNCFS
		const char	*path = j->renames[i].from;

		xasprintf(&dir, "%s/%.*s", s->options->renderdir,
		    (int)strcspn(path, "/"), path);
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd != -1 && fstat(fd, &st) == 0) {
			for (k = 0; k < ndone && done[k] != st.st_dev; k++)
				;
			if (k == ndone && (rc = syncfs(fd)) == 0)
				done[ndone++] = st.st_dev;
		}
#else
		xasprintf(&dir, "%s/%s", s->options->renderdir,
		    j->renames[i].from);
		fd = open(dir, O_RDONLY | O_CLOEXEC);
		if (fd != -1)
			rc = fdatasync(fd);
#endif
		if (fd == -1 && errno != ENOENT)
			rc = -1;
		if (rc != 0)
			xasprintf(cause, _("cannot flush %s: %s"), dir,
			    strerror(errno));
		if (fd != -1)
			close(fd);
		free(dir);
	}
	free(done);
	return rc;
}

/*
 * Do what the journal holds: move stored frames into place (flushing
 * each folder once) and write job log lines, skipping lines the log has
 * already when again is set (a journal left by a process that died).
 * What cannot be done yet stays for the next try. Returns how many
 * entries were done.
 */
static size_t
server_commit_apply(struct server *s, int again)
{
	struct state_journal	*j = &s->journal, left;
	struct state_rename	*r;
	struct state_logline	*l;
	const char		*jobdir = s->options->jobdir;
	char			*cause = NULL, *path, **placed;
	size_t			 i, k, done = 0;

	memset(&left, 0, sizeof left);
	placed = xreallocarray(NULL, j->nrenames + 1, sizeof *placed);
	for (i = 0; i < j->nrenames; i++) {
		r = &j->renames[i];
		if ((server_again_aside(r->to) ?
		    server_again_place(s->options->renderdir, r->from, r->to,
		    &cause) : upload_place(s->options->renderdir, r->from,
		    r->to, &cause)) != 0) {
			if (!s->commit_failing)
				log_warnx("%s", cause);
			free(cause);
			cause = NULL;
			state_journal_rename(&left, r->from, r->to);
			continue;
		}
		/* Each folder a frame moved in is flushed once. */
		for (k = 0; k < done; k++) {
			if (strncmp(placed[k], r->to, strcspn(r->to, "/") + 1)
			    == 0)
				break;
		}
		if (k == done)
			server_commit_sync(s, r->to);
		placed[done++] = r->to;
	}
	free(placed);
	for (i = 0; i < j->nlines; i++) {
		l = &j->lines[i];
		if (again && joblog_has(jobdir, l->job, l->when, l->text))
			continue;
		if (joblog_append(jobdir, l->job, l->when, l->text) != 0) {
			if (!s->commit_failing) {
				path = joblog_path(jobdir, l->job);
				log_warn("%s", path);
				free(path);
			}
			state_journal_line(&left, l->when, l->job, l->text);
			continue;
		}
		done++;
	}
	s->commit_failing = left.nrenames + left.nlines > 0;
	state_journal_free(j);
	*j = left;
	return done;
}

/*
 * Write the checkpoint now, with the reserved descriptor free for it, and
 * then do its journal; -1 if it could not be written, and then it is tried
 * again shortly, until it is. The first failure of a series is logged.
 */
int
server_save_state(struct server *s)
{
	const struct timeval	 retry = { SERVER_RETRY_SECONDS, 0 };
	char			*text, *cause = NULL;
	size_t			 len;
	int			 rc = 0;

	if (s->jobdir != NULL && !jobdir_loaded(s->jobdir)) {
		/* Written now, it would forget the jobs not read yet. */
		server_state_dirty(s);
		return -1;
	}
	if (s->reserve_fd != -1) {
		close(s->reserve_fd);
		s->reserve_fd = -1;
	}
	if (s->journal.nrenames > 0 && server_commit_flush(s, &cause) != 0) {
		log_warnx("%s", cause);
		free(cause);
		cause = NULL;
		server_commit_reserve_fd(s);
		if (s->save_ev != NULL && !evtimer_pending(s->save_ev, NULL))
			evtimer_add(s->save_ev, &retry);
		return -1;
	}
	text = state_format(&s->farm, clock_wall_ms() - clock_mono_ms(),
	    &s->journal, &len);
	if (fileio_write_atomic(s->state_path, text, len, 0644,
	    &cause) != 0) {
		if (!s->save_failing)
			log_warnx(_("%s; trying again every second"), cause);
		s->save_failing = 1;
		free(cause);
		if (s->save_ev != NULL && !evtimer_pending(s->save_ev, NULL))
			evtimer_add(s->save_ev, &retry);
		rc = -1;
	} else {
		if (s->save_failing)
			log_info(_("%s written again"), s->state_path);
		s->save_failing = 0;
		s->state_dirty = 0;
		/* The journal done need not be saved again: soon is enough. */
		if (server_commit_apply(s, 0) > 0 || s->commit_failing)
			server_state_dirty(s);
		server_hook_committed(s);
	}
	free(text);
	server_commit_reserve_fd(s);
	return rc;
}

/* The coalescing timer has fired, or a failed save is due again: save. */
static void
server_commit_save_timer(evutil_socket_t fd, short events, void *arg)
{
	server_save_state(arg);
}

/*
 * Note that the checkpoint is out of date; it is saved shortly, or in a
 * second while something of the journal cannot be done.
 */
void
server_state_dirty(struct server *s)
{
	struct timeval	tv;
	int		ms = s->settings->state_save_delay;

	s->state_dirty = 1;
	if (s->save_ev == NULL || evtimer_pending(s->save_ev, NULL))
		return;
	if (s->commit_failing)
		ms = SERVER_RETRY_SECONDS * 1000;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(s->save_ev, &tv);
}

/*
 * Save the checkpoint and do its journal, then thank every peer whose
 * frame it records; if either cannot be done, try again in a second,
 * keeping them waiting.
 */
static void
server_commit_timer(evutil_socket_t fd, short events, void *arg)
{
	struct server	*s = arg;
	struct peer	*p, *next;
	struct timeval	 retry = { SERVER_RETRY_SECONDS, 0 };

	/* Thanked, a client deletes its copy: not before it is safe. */
	if (server_save_state(s) != 0 || s->journal.nrenames > 0) {
		evtimer_add(s->commit_ev, &retry);
		return;
	}
	TAILQ_FOREACH_SAFE(p, &s->peers, entry, next)
		peer_committed(p);
}

/*
 * A frame has been stored: commit it in a few milliseconds, with every
 * frame stored meanwhile.
 */
void
server_commit(struct server *s)
{
	const struct timeval	soon = { 0, SERVER_COMMIT_MS * 1000 };

	if (!evtimer_pending(s->commit_ev, NULL))
		evtimer_add(s->commit_ev, &soon);
}

/*
 * At start-up, do the journal the last process left in its checkpoint:
 * it may have died before doing it. What cannot be done now stays.
 */
void
server_commit_recover(struct server *s, struct state_journal *journal)
{
	size_t	n = journal->nrenames + journal->nlines;

	state_journal_free(&s->journal);
	s->journal = *journal;
	memset(journal, 0, sizeof *journal);
	if (n > 0 && server_commit_apply(s, 1) > 0)
		log_info(_("finished the last commit of the previous run"));
}

/* Make the commit's timers. */
void
server_commit_init(struct server *s)
{
	s->save_ev = evtimer_new(s->base, server_commit_save_timer, s);
	s->commit_ev = evtimer_new(s->base, server_commit_timer, s);
}

/* Release the commit's timers and journal. */
void
server_commit_free(struct server *s)
{
	event_free(s->save_ev);
	event_free(s->commit_ev);
	s->save_ev = s->commit_ev = NULL;
	state_journal_free(&s->journal);
	if (s->reserve_fd != -1)
		close(s->reserve_fd);
	s->reserve_fd = -1;
}
