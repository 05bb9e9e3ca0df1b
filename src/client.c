/*
 * client.c: the render client's life: the work directory, the frames the
 * server handed out and what becomes of them (including the failures and
 * the progress a bdfarm server is told of, the frames given back to it
 * and those it cancels), when to connect, when to start Blender, the
 * back-off after network errors, signals, and the end (a stopping server,
 * a new program, or a signal). Everything runs on one event loop;
 * connections, Blender runs and the cache live in their own files.
 */
#include "bdfarm.h"

#include <dirent.h>
#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "fileio.h"
#include "log.h"
#include "proto.h"
#include "settings.h"
#include "tls.h"
#include "xmalloc.h"

#define CLIENT_FETCH_ATTEMPTS	3	/* tries at one .blend before giving up */
#define CLIENT_CACHE_CHECK	60	/* s between idle cache checks, at most */
#define CLIENT_MAX_REPORTS	100	/* failure reports kept for the server */
#define CLIENT_REPORT_LINE	1000	/* bytes of one output line reported */
#define CLIENT_REPORT_REASON	200	/* bytes of a reason reported */
#define CLIENT_PROGRESS_MS	1000	/* ms between progress reports */
#define CLIENT_VERSION_LEN	64	/* bytes of Blender's version token */

/* Have the client look at its state again once the current event ends. */
void
client_wake(struct client *c)
{
	const struct timeval	zero = { 0, 0 };

	if (c->mode != CLIENT_EXITING)
		evtimer_add(c->ev_wake, &zero);
}

/* Wake the client after ms milliseconds, unless something wakes it sooner. */
void
client_wake_in(struct client *c, int64_t ms)
{
	struct timeval	tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(c->ev_wake, &tv);
}

/*
 * How many frames wait for their .blend or for a renderer, counting those
 * that wait for their turn inside a Blender run of several frames: a
 * client that started a batch does not at once take as many frames again,
 * so that at the end of a job no client holds much more than another.
 */
static unsigned int
client_pending(struct client *c)
{
	struct client_frame	*f;
	struct client_render	*r;
	unsigned int		 n = 0;

	TAILQ_FOREACH(f, &c->frames, entry) {
		if (f->state == CLIENT_FRAME_WAITING ||
		    f->state == CLIENT_FRAME_QUEUED)
			n++;
	}
	TAILQ_FOREACH(r, &c->renders, entry) {
		if (r->nframes > 1)
			n += r->nframes - 1;
	}
	return n;
}

/* Whether any frame is in the given state. */
static int
client_has(struct client *c, enum client_frame_state state)
{
	struct client_frame	*f;

	TAILQ_FOREACH(f, &c->frames, entry) {
		if (f->state == state)
			return 1;
	}
	return 0;
}

/* Renderers at work: every Blender but the warm ones waiting for a frame. */
static unsigned int
client_busy(struct client *c)
{
	return c->nrenders - client_warm_idle_count(c);
}

/*
 * Whether to ask for another frame: while fewer than prefetch frames wait,
 * or while a renderer would otherwise have nothing to do.
 */
int
client_wants_job(struct client *c)
{
	unsigned int	pending = client_pending(c);

	if (c->mode != CLIENT_RUNNING)
		return 0;
	return pending < (unsigned int)c->settings->prefetch ||
	    pending + client_busy(c) < (unsigned int)c->settings->renderers;
}

/* The REQUESTJOB count: renderers - queued - rendering, never below 0. */
int
client_available(struct client *c)
{
	long	n = (long)c->settings->renderers - (long)client_pending(c) -
		    (long)client_busy(c);

	return n < 0 ? 0 : (int)n;
}

/* The frame this client holds with this .blend and number, or NULL. */
struct client_frame *
client_frame_find(struct client *c, const char *blend, const char *digest,
    long frame)
{
	struct client_frame	*f;

	TAILQ_FOREACH(f, &c->frames, entry) {
		if (f->frame == frame && strcmp(f->digest, digest) == 0 &&
		    strcmp(f->blend, blend) == 0)
			return f;
	}
	return NULL;
}

/* Take a frame the server handed out; a frame already held is kept once. */
struct client_frame *
client_frame_add(struct client *c, const char *blend, const char *digest,
    long frame)
{
	struct client_frame	*f;

	if ((f = client_frame_find(c, blend, digest, frame)) != NULL) {
		log_debug("frame %ld of %s handed out again", frame, blend);
		return f;
	}
	f = xcalloc(1, sizeof *f);
	f->blend = xstrdup(blend);
	snprintf(f->digest, sizeof f->digest, "%s", digest);
	f->frame = frame;
	f->progress = -1;
	f->state = client_cache_has(c, digest, blend) &&
	    (c->ext_version < 3 || client_manifest_ready(c, blend, digest)) ?
	    CLIENT_FRAME_QUEUED : CLIENT_FRAME_WAITING;
	TAILQ_INSERT_TAIL(&c->frames, f, entry);
	log_info(_("got frame %ld of %s"), frame, blend);
	client_wake(c);
	return f;
}

/* Release a frame. */
static void
client_frame_free(struct client *c, struct client_frame *f)
{
	TAILQ_REMOVE(&c->frames, f, entry);
	if (f->state == CLIENT_FRAME_DONE && f->file != NULL)
		unlink(f->file);
	free(f->file);
	free(f->image);
	free(f->blend);
	free(f);
}

/*
 * Forget a frame without sending it; the server hands it out again after
 * its redistribution delay. why, if not NULL, is logged.
 */
void
client_frame_drop(struct client *c, struct client_frame *f, const char *why)
{
	if (why != NULL)
		log_warnx(_("frame %ld of %s not sent: %s"), f->frame, f->blend,
		    why);
	client_frame_free(c, f);
	client_wake(c);
}

/*
 * The server no longer wants a frame from this client: another client
 * delivered it first, or it is no longer out to this one. Forget it
 * without sending it or reporting a failure; a render of that frame alone
 * stops, and one of several frames goes on without it.
 */
void
client_frame_cancel(struct client *c, struct client_frame *f,
    const char *why)
{
	log_info(_("dropping frame %ld of %s: %s"), f->frame, f->blend, why);
	if (f->state == CLIENT_FRAME_RENDERING)
		client_render_cancel(f);
	client_frame_free(c, f);
	client_wake(c);
}

/* Have a frame given back to a bdfarm server (RETURN). */
void
client_return_add(struct client *c, const char *blend, const char *digest,
    long frame)
{
	struct client_return	*r;

	r = xcalloc(1, sizeof *r);
	r->blend = xstrdup(blend);
	snprintf(r->digest, sizeof r->digest, "%s", digest);
	r->frame = frame;
	TAILQ_INSERT_TAIL(&c->returns, r, entry);
	client_wake(c);
}

/* Forget the frames not yet given back. */
void
client_returns_clear(struct client *c)
{
	struct client_return	*r;

	while ((r = TAILQ_FIRST(&c->returns)) != NULL) {
		TAILQ_REMOVE(&c->returns, r, entry);
		free(r->blend);
		free(r);
	}
}

/*
 * Forget a frame this client will not deliver. A server that speaks
 * bdfarm/2 is given it back (RETURN), so that it hands it out again at
 * once; others find out in their own time.
 */
static void
client_frame_give_back(struct client *c, struct client_frame *f)
{
	if (c->ext_version >= 2)
		client_return_add(c, f->blend, f->digest, f->frame);
	client_frame_drop(c, f, NULL);
}

/* A copy of text with every byte that is not printable ASCII as '?'. */
static char *
client_printable(const char *text, size_t max)
{
	char	*copy = xstrndup(text, max), *p;

	for (p = copy; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	}
	return copy;
}

/* Release a failure report. */
void
client_report_free(struct client_report *r)
{
	unsigned int	i;

	for (i = 0; i < r->nlines; i++)
		free(r->lines[i]);
	free(r->lines);
	free(r->reason);
	free(r->blend);
	free(r);
}

/* Forget the failure reports not yet sent. */
void
client_reports_clear(struct client *c)
{
	struct client_report	*r;

	while ((r = TAILQ_FIRST(&c->reports)) != NULL) {
		TAILQ_REMOVE(&c->reports, r, entry);
		client_report_free(r);
	}
	c->nreports = 0;
}

/*
 * A frame failed to render or could not be handled: log why, and forget
 * it. A bdfarm server, which would otherwise wait for the frame as long as
 * this client keeps in touch, is told at once, with the short reason and
 * the last lines Blender wrote, so that it hands the frame out again; a
 * client that is stopping gives it back instead, to a server that takes
 * frames back.
 */
void
client_frame_failed(struct client *c, struct client_frame *f,
    const char *why, const char *reason, char **lines, unsigned int nlines)
{
	struct client_report	*r;
	unsigned int		 i;

	if (c->mode != CLIENT_RUNNING && c->ext_version >= 2) {
		if (why != NULL)
			log_warnx(_("frame %ld of %s not sent: %s"), f->frame,
			    f->blend, why);
		client_frame_give_back(c, f);
		return;
	}
	if (c->ext_version >= 1 && c->mode == CLIENT_RUNNING &&
	    c->nreports < CLIENT_MAX_REPORTS) {
		r = xcalloc(1, sizeof *r);
		r->blend = xstrdup(f->blend);
		snprintf(r->digest, sizeof r->digest, "%s", f->digest);
		r->frame = f->frame;
		r->reason = client_printable(reason, CLIENT_REPORT_REASON);
		if (nlines > PROTO_MAX_FAILURE_LINES) {
			lines += nlines - PROTO_MAX_FAILURE_LINES;
			nlines = PROTO_MAX_FAILURE_LINES;
		}
		r->lines = xreallocarray(NULL, nlines + 1, sizeof *r->lines);
		for (i = 0; i < nlines; i++)
			r->lines[i] = client_printable(lines[i],
			    CLIENT_REPORT_LINE);
		r->nlines = nlines;
		TAILQ_INSERT_TAIL(&c->reports, r, entry);
		c->nreports++;
	}
	client_frame_drop(c, f, why);
}

/* Tell a bdfarm server the figure for a frame; 0 if it cannot be now. */
static int
client_frame_tell(struct client *c, struct client_frame *f, int permille)
{
	if (c->session == NULL || c->ext_version < 1 ||
	    !client_session_progress(c->session, f, permille))
		return 0;
	f->progress = permille;
	f->progress_ms = clock_mono_ms();
	return 1;
}

/*
 * How far a frame has rendered, in thousandths: tell a bdfarm server when
 * the figure changed, but not more than about once a second per frame
 * after the first figure past its start, and always when it is whole:
 * the server then knows that the renderer has moved on.
 */
void
client_frame_progress(struct client *c, struct client_frame *f,
    int permille)
{
	if (permille <= 0 || permille == f->progress)
		return;
	if (permille < 1000 && f->progress > 0 &&
	    clock_mono_ms() - f->progress_ms < CLIENT_PROGRESS_MS)
		return;
	client_frame_tell(c, f, permille);
}

/*
 * Blender has started on a frame: tell a bdfarm server at once, with a
 * progress of 0, unless something was told of the frame already, so that
 * it counts a renderer at work rather than a frame waiting.
 */
void
client_frame_started(struct client *c, struct client_frame *f)
{
	if (f->progress < 0)
		client_frame_tell(c, f, 0);
}

/* Blender has said which version it is; the first word heard is kept. */
void
client_blender_version(struct client *c, const char *version)
{
	char	safe[CLIENT_VERSION_LEN];

	if (c->blender_version != NULL)
		return;
	proto_sanitize_name(version, safe, sizeof safe);
	c->blender_version = xstrdup(safe);
	log_debug("Blender is version %s", c->blender_version);
}

/* The server has thanked for a frame. */
void
client_frame_sent(struct client *c, struct client_frame *f)
{
	log_info(_("sent frame %ld of %s as %s"), f->frame, f->blend,
	    f->image);
	client_frame_free(c, f);
}

/*
 * The .blend with this digest is in the cache: its frames may render,
 * with a bdfarm/3 server once the files its scene needs are there too.
 */
void
client_blend_ready(struct client *c, const char *digest, const char *blend)
{
	struct client_frame	*f;

	if (c->ext_version >= 3 && !client_manifest_ready(c, blend, digest)) {
		client_wake(c);
		return;
	}
	TAILQ_FOREACH(f, &c->frames, entry) {
		if (f->state == CLIENT_FRAME_WAITING &&
		    strcmp(f->digest, digest) == 0 &&
		    strcmp(f->blend, blend) == 0)
			f->state = CLIENT_FRAME_QUEUED;
	}
	client_disk_ok(c);
	client_wake(c);
}

/*
 * Fetching a .blend failed: its frames are dropped at once if drop is set,
 * or after a few failed tries.
 */
void
client_blend_failed(struct client *c, const char *digest, const char *blend,
    int drop)
{
	struct client_frame	*f, *next;

	TAILQ_FOREACH_SAFE(f, &c->frames, entry, next) {
		if (f->state != CLIENT_FRAME_WAITING ||
		    strcmp(f->digest, digest) != 0 ||
		    strcmp(f->blend, blend) != 0)
			continue;
		if (drop || ++f->fetch_failures >= CLIENT_FETCH_ATTEMPTS)
			client_frame_failed(c, f, _("its .blend file could not "
			    "be fetched"), "cannot fetch the .blend file", NULL,
			    0);
	}
}

/*
 * Give up the frames waiting for a .blend that this client will not fetch,
 * telling a bdfarm server the reason.
 */
void
client_blend_refused(struct client *c, const char *digest, const char *blend,
    const char *reason)
{
	struct client_frame	*f, *next;

	TAILQ_FOREACH_SAFE(f, &c->frames, entry, next) {
		if (f->state == CLIENT_FRAME_WAITING &&
		    strcmp(f->digest, digest) == 0 &&
		    strcmp(f->blend, blend) == 0)
			client_frame_failed(c, f, NULL, reason, NULL, 0);
	}
}

/*
 * Give up the frames waiting for a .blend whose scene cannot be had: log
 * why, and tell a bdfarm server the short reason.
 */
void
client_blend_give_up(struct client *c, const char *digest, const char *blend,
    const char *why, const char *reason)
{
	struct client_frame	*f, *next;

	TAILQ_FOREACH_SAFE(f, &c->frames, entry, next) {
		if (f->state == CLIENT_FRAME_WAITING &&
		    strcmp(f->digest, digest) == 0 &&
		    strcmp(f->blend, blend) == 0)
			client_frame_failed(c, f, why, reason, NULL, 0);
	}
}

/*
 * The work directory refused a write (full, read-only, gone): say so once,
 * not once per try, and hold off with the same back-off as for network
 * errors so that the client does not spin.
 */
void
client_disk_trouble(struct client *c, const char *cause)
{
	if (c->local_trouble == NULL || strcmp(c->local_trouble, cause) != 0)
		log_warnx(_("the work directory is not usable: %s; trying "
		    "again later"), cause);
	free(c->local_trouble);
	c->local_trouble = xstrdup(cause);
	c->next_try = clock_mono_ms() + (int64_t)c->retry_wait * 1000;
	c->retry_wait *= 2;
	if (c->retry_wait > c->settings->retry_max)
		c->retry_wait = c->settings->retry_max;
}

/* The work directory took a file again: end a disk problem, if any. */
void
client_disk_ok(struct client *c)
{
	if (c->local_trouble == NULL)
		return;
	log_info(_("the work directory %s is usable again"), c->workdir);
	free(c->local_trouble);
	c->local_trouble = NULL;
}

/* Give up the frames that have not started rendering. */
void
client_drop_pending(struct client *c)
{
	struct client_frame	*f, *next;

	TAILQ_FOREACH_SAFE(f, &c->frames, entry, next) {
		if (f->state == CLIENT_FRAME_WAITING ||
		    f->state == CLIENT_FRAME_QUEUED)
			client_frame_give_back(c, f);
	}
}

/* The server said STOPPING: finish what renders, send it, exit. */
void
client_server_stopping(struct client *c)
{
	if (c->mode == CLIENT_STOPPING || c->mode == CLIENT_EXITING)
		return;
	log_info(ngettext("the server is stopping; finishing %u running "
	    "render", "the server is stopping; finishing %u running renders",
	    c->nrenders), c->nrenders);
	c->mode = CLIENT_STOPPING;
	client_drop_pending(c);
	client_wake(c);
}

/* A new program is installed: take no more work, then run it. */
void
client_update_ready(struct client *c, char *path)
{
	free(c->update_path);
	c->update_path = path;
	if (c->mode != CLIENT_RUNNING)
		return;
	log_info(_("installed the server's program as %s; it takes over "
	    "once the running renders end"), path);
	c->mode = CLIENT_UPDATING;
	client_drop_pending(c);
	client_wake(c);
}

/*
 * A session ended, well (cause NULL) or not: back off after errors. A
 * client of a bdfarm/2 server keeps every frame across a lost connection
 * and settles with the server (HOLD) once it is back.
 */
void
client_session_closed(struct client *c, const char *cause)
{
	struct client_frame	*f, *next;

	c->session = NULL;
	if (cause != NULL && c->ext_version == 1 && c->mode == CLIENT_RUNNING) {
		/*
		 * A bdfarm/1 server hands out again at once the frames of a
		 * client it lost: leave the ones not started to others.
		 */
		client_drop_pending(c);
	}
	if (cause == NULL) {
		if (c->trouble != NULL)
			log_info(_("the server at %s port %s answers again"),
			    c->options->host, c->options->port);
		free(c->trouble);
		c->trouble = NULL;
		c->retry_wait = c->settings->retry_min;
		client_wake(c);
		return;
	}
	if (c->mode == CLIENT_STOPPING) {
		log_warnx(_("cannot send the last frames to the stopping "
		    "server: %s"), cause);
		TAILQ_FOREACH_SAFE(f, &c->frames, entry, next) {
			if (f->state == CLIENT_FRAME_DONE)
				client_frame_drop(c, f, NULL);
		}
		client_returns_clear(c);
		client_wake(c);
		return;
	}
	if (c->local_trouble != NULL && strcmp(c->local_trouble, cause) == 0) {
		/* Logged and backed off as a disk problem already. */
		client_wake(c);
		return;
	}
	if (c->trouble == NULL || strcmp(c->trouble, cause) != 0) {
		log_warnx(_("server %s port %s: %s; retrying in %d s, then "
		    "less often"), c->options->host, c->options->port, cause,
		    c->retry_wait);
		free(c->trouble);
		c->trouble = xstrdup(cause);
	} else
		log_debug("server %s port %s: %s; retrying in %d s",
		    c->options->host, c->options->port, cause, c->retry_wait);
	c->next_try = clock_mono_ms() + (int64_t)c->retry_wait * 1000;
	c->retry_wait *= 2;
	if (c->retry_wait > c->settings->retry_max)
		c->retry_wait = c->settings->retry_max;
	client_wake(c);
}

/* Whether f renders in a Blender of its own, batched with no other. */
static int
client_frame_alone(struct client *c, const struct client_frame *f)
{
	return f->alone || client_manifest_fresh(c, f);
}

/* Whether queued frame g may join a batch of f's .blend. */
static int
client_batch_mate(struct client *c, const struct client_frame *f,
    const struct client_frame *g)
{
	return g->state == CLIENT_FRAME_QUEUED && !client_frame_alone(c, g) &&
	    strcmp(g->digest, f->digest) == 0 && strcmp(g->blend, f->blend) == 0;
}

/*
 * Give free renderers work. Warm Blenders waiting for a frame of their
 * scene get one first; then a free renderer starts a warm Blender on the
 * next scene. Where warm Blenders are not wanted, frames of the same
 * .blend are batched into one Blender run, up to batch_frames, but spread
 * over the free renderers so that none stays idle; frames that failed in a
 * batch, and those of a job that says fresh-blender, render alone.
 */
static void
client_start_renders(struct client *c)
{
	struct client_frame	*f, *g, **batch;
	unsigned int		 n, k, want, idle;
	char			*cause = NULL;

	client_warm_hand(c);
	batch = xreallocarray(NULL, (size_t)c->settings->batch_frames,
	    sizeof *batch);
	while (c->nrenders < (unsigned int)c->settings->renderers) {
		TAILQ_FOREACH(f, &c->frames, entry) {
			if (f->state == CLIENT_FRAME_QUEUED)
				break;
		}
		if (f == NULL)
			break;
		if (client_warm_wanted(c, f)) {
			if (client_warm_start(c, f, &cause) == 0)
				continue;
			client_disk_trouble(c, cause);
			client_frame_failed(c, f, NULL, cause, NULL, 0);
			free(cause);
			break;
		}
		k = 0;
		for (g = f; g != NULL; g = TAILQ_NEXT(g, entry)) {
			if (client_batch_mate(c, f, g))
				k++;
		}
		idle = (unsigned int)c->settings->renderers - c->nrenders;
		want = client_frame_alone(c, f) ? 1 : (k + idle - 1) / idle;
		if (want > (unsigned int)c->settings->batch_frames)
			want = (unsigned int)c->settings->batch_frames;
		n = 0;
		batch[n++] = f;
		g = TAILQ_NEXT(f, entry);
		for (; g != NULL && n < want; g = TAILQ_NEXT(g, entry)) {
			if (client_batch_mate(c, f, g))
				batch[n++] = g;
		}
		if (client_render_start(c, batch, n, &cause) != 0) {
			client_disk_trouble(c, cause);
			for (k = 0; k < n; k++)
				client_frame_failed(c, batch[k], NULL, cause,
				    NULL, 0);
			free(cause);
			break;
		}
	}
	free(batch);
	client_warm_make_room(c);
}

/* Stop the loop: the client's work is over. */
static void
client_finish(struct client *c)
{
	c->mode = CLIENT_EXITING;
	event_base_loopbreak(c->base);
}

/*
 * Look at the state and act: start renders, end the client when a
 * stopping or updating client has nothing left, or open a session when
 * there is something to send, fetch or ask for and no back-off holds.
 */
static void
client_tick(evutil_socket_t fd, short events, void *arg)
{
	struct client	*c = arg;
	int64_t		 now;
	int		 need;

	if (c->mode == CLIENT_EXITING)
		return;
	client_cache_release(c, 0);
	if (c->mode == CLIENT_RUNNING)
		client_start_renders(c);
	else
		client_warm_make_room(c);
	if (c->session != NULL) {
		/* A session that waits for work takes up new requests. */
		client_session_poke(c->session);
		return;
	}
	if (c->mode != CLIENT_RUNNING && c->nrenders == 0 &&
	    !client_has(c, CLIENT_FRAME_DONE) && TAILQ_EMPTY(&c->returns)) {
		c->reexec = c->mode == CLIENT_UPDATING;
		client_finish(c);
		return;
	}

	now = clock_mono_ms();
	if (now < c->next_try) {
		client_wake_in(c, c->next_try - now);
		return;
	}
	/* A bdfarm server is kept company for as long as the client runs. */
	need = client_has(c, CLIENT_FRAME_DONE) ||
	    !TAILQ_EMPTY(&c->returns) ||
	    (c->mode == CLIENT_RUNNING && (c->ext_version >= 1 ||
	    client_has(c, CLIENT_FRAME_WAITING)));
	if (client_wants_job(c) && now >= c->ask_after)
		need = 1;
	if (need) {
		if ((c->session = client_session_start(c)) == NULL)
			client_session_closed(c, _("cannot open a connection"));
		return;
	}
	if (client_wants_job(c))
		client_wake_in(c, c->ask_after - now);
}

/* The cache timer: remove idle .blend copies. */
static void
client_cache_timer(evutil_socket_t fd, short events, void *arg)
{
	client_cache_expire(arg);
}

/*
 * SIGINT or SIGTERM: give every frame back to a bdfarm/2 server and say
 * GOODBYE if the connection allows it now, kill the renders, exit 0.
 */
static void
client_signal_stop(evutil_socket_t sig, short events, void *arg)
{
	struct client	*c = arg;

	log_info(_("stopping on signal %d"), (int)sig);
	if (c->session != NULL) {
		client_session_abort(c->session);
		c->session = NULL;
	}
	client_render_kill_all(c);
	client_render_probe_kill(c);
	client_finish(c);
}

/* SIGCHLD: reap every child that has exited. */
static void
client_signal_child(evutil_socket_t sig, short events, void *arg)
{
	struct client	*c = arg;
	pid_t		 pid;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		client_render_exited(c, pid, status);
}

/* Create dir and its missing parents. */
static int
client_mkdirs(const char *dir, mode_t mode)
{
	char	*copy = xstrdup(dir), *p;
	int	 rc = 0;

	for (p = copy + 1; rc == 0 && *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, mode) == -1 && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	if (rc == 0 && mkdir(copy, mode) == -1 && errno != EEXIST)
		rc = -1;
	free(copy);
	return rc;
}

/*
 * Remove the output folders and scene folders that a killed client of
 * this work directory left behind.
 */
static void
client_clean_stale(struct client *c)
{
	DIR		*d;
	struct dirent	*de;
	char		*path, *end;
	long		 pid;

	if ((d = opendir(c->renderdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != 'r' && de->d_name[0] != 't')
			continue;
		pid = strtol(de->d_name + 1, &end, 10);
		if (end == de->d_name + 1 || *end != '-' || pid <= 0 ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		xasprintf(&path, "%s/%s", c->renderdir, de->d_name);
		if (unlink(path) == -1 && errno == EISDIR)
			fileio_remove_dir(path);
		free(path);
	}
	closedir(d);
}

/*
 * Settle the work directory: the configured one, or $XDG_CACHE_HOME/bdfarm,
 * with its cache and render folders, and check that it can be written.
 */
static int
client_workdir(struct client *c, char **cause)
{
	const char	*xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char		*probe;
	int		 fd;

	if (*c->settings->workdir != '\0')
		c->workdir = xstrdup(c->settings->workdir);
	else if (xdg != NULL && *xdg == '/')
		xasprintf(&c->workdir, "%s/%s", xdg, PACKAGE);
	else if (home != NULL && *home != '\0')
		xasprintf(&c->workdir, "%s/.cache/%s", home, PACKAGE);
	else {
		*cause = xstrdup(_("no work directory: set --workdir, "
		    "XDG_CACHE_HOME or HOME"));
		return -1;
	}
	xasprintf(&c->cachedir, "%s/cache", c->workdir);
	xasprintf(&c->renderdir, "%s/render", c->workdir);
	if (client_mkdirs(c->workdir, 0700) != 0 ||
	    client_mkdirs(c->cachedir, 0700) != 0 ||
	    client_mkdirs(c->renderdir, 0700) != 0) {
		xasprintf(cause, _("cannot create the work directory %s: %s"),
		    c->workdir, strerror(errno));
		return -1;
	}
	xasprintf(&probe, "%s/.probe-XXXXXX", c->renderdir);
	if ((fd = mkstemp(probe)) == -1) {
		xasprintf(cause, _("the work directory %s is not writable: %s"),
		    c->workdir, strerror(errno));
		free(probe);
		return -1;
	}
	close(fd);
	unlink(probe);
	free(probe);
	return 0;
}

/* Check that the Blender program can be run, searching PATH if need be. */
static int
client_find_blender(struct client *c, char **cause)
{
	const char	*blender = c->settings->blender, *path;
	char		*copy, *dir, *next, *file;
	int		 found = 0;

	if (strchr(blender, '/') != NULL)
		found = access(blender, X_OK) == 0;
	else if ((path = getenv("PATH")) != NULL) {
		copy = xstrdup(path);
		for (dir = copy; dir != NULL && !found; dir = next) {
			if ((next = strchr(dir, ':')) != NULL)
				*next++ = '\0';
			xasprintf(&file, "%s/%s", *dir != '\0' ? dir : ".",
			    blender);
			found = access(file, X_OK) == 0;
			free(file);
		}
		free(copy);
	}
	if (!found) {
		xasprintf(cause, _("cannot find Blender as '%s'; install it or "
		    "name it with --blender"), blender);
		return -1;
	}
	return 0;
}

/* The host name sent in HELO, made into one safe token. */
static char *
client_hostname(void)
{
	char	name[256], safe[PROTO_MAX_NAME + 1];

	if (gethostname(name, sizeof name) != 0)
		snprintf(name, sizeof name, "localhost");
	name[sizeof name - 1] = '\0';
	proto_sanitize_name(name, safe, sizeof safe);
	return xstrdup(safe);
}

/* Release everything the client holds once the loop has ended. */
static void
client_free(struct client *c)
{
	struct client_frame	*f, *next;

	client_render_kill_all(c);
	client_render_probe_kill(c);
	if (c->session != NULL)
		client_session_abort(c->session);
	TAILQ_FOREACH_SAFE(f, &c->frames, entry, next)
		client_frame_free(c, f);
	client_cache_release(c, 1);
	client_reports_clear(c);
	client_returns_clear(c);
	client_manifests_clear(c);
	client_missings_clear(c);
	event_free(c->ev_wake);
	event_free(c->ev_cache);
	event_free(c->ev_sigint);
	event_free(c->ev_sigterm);
	event_free(c->ev_sigchld);
	evdns_base_free(c->dns, 0);
	/* A connection freed while its deferred callbacks were due goes now. */
	event_base_loop(c->base, EVLOOP_NONBLOCK);
	event_base_free(c->base);
	free(c->hostname);
	free(c->workdir);
	free(c->cachedir);
	free(c->renderdir);
	free(c->prelude);
	free(c->warm_loop);
	free(c->trouble);
	free(c->local_trouble);
	free(c->update_path);
	free(c->blender_version);
	SSL_CTX_free(c->tls);
	if (c->psk != NULL) {
		explicit_bzero(c->psk, sizeof *c->psk);
		free(c->psk);
	}
}

/* Run the client until it is told to stop; the exit code. */
int
client_main(struct settings *s, const struct client_options *o)
{
	struct client	 c;
	struct timeval	 tv;
	char		*cause = NULL, *program = NULL;

	memset(&c, 0, sizeof c);
	c.settings = s;
	c.options = o;
	TAILQ_INIT(&c.frames);
	TAILQ_INIT(&c.renders);
	TAILQ_INIT(&c.locks);
	TAILQ_INIT(&c.returns);
	TAILQ_INIT(&c.reports);
	TAILQ_INIT(&c.manifests);
	TAILQ_INIT(&c.missings);
	c.retry_wait = s->retry_min;
	if ((c.cores = sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		c.cores = 1;

	if (client_workdir(&c, &cause) != 0 ||
	    client_find_blender(&c, &cause) != 0 ||
	    client_render_prelude(&c, &cause) != 0) {
		log_warnx("%s", cause);
		free(cause);
		free(c.prelude);
		free(c.warm_loop);
		free(c.workdir);
		free(c.cachedir);
		free(c.renderdir);
		return 1;
	}
	c.psk = xcalloc(1, sizeof *c.psk);
	switch (client_keys_find(o->host, o->port, c.psk)) {
	case -1:
		free(c.psk);
		free(c.prelude);
		free(c.warm_loop);
		free(c.workdir);
		free(c.cachedir);
		free(c.renderdir);
		return 1;
	case 0:
		free(c.psk);
		c.psk = NULL;
		break;
	default:
		c.tls = tls_client_ctx();
		break;
	}
	client_clean_stale(&c);
	if (client_update_self(&c) != 0)
		log_debug("cannot read this program's own file; no updates");
	c.hostname = client_hostname();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);	/* a file size limit is a write error */

	if ((c.base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	if ((c.dns = evdns_base_new(c.base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS)) == NULL &&
	    (c.dns = evdns_base_new(c.base, 0)) == NULL)
		fatalx("cannot create the name resolver");
	c.ev_wake = evtimer_new(c.base, client_tick, &c);
	c.ev_cache = event_new(c.base, -1, EV_PERSIST, client_cache_timer,
	    &c);
	c.ev_sigint = evsignal_new(c.base, SIGINT, client_signal_stop, &c);
	c.ev_sigterm = evsignal_new(c.base, SIGTERM, client_signal_stop, &c);
	c.ev_sigchld = evsignal_new(c.base, SIGCHLD, client_signal_child, &c);
	evsignal_add(c.ev_sigint, NULL);
	evsignal_add(c.ev_sigterm, NULL);
	evsignal_add(c.ev_sigchld, NULL);
	tv.tv_sec = s->cache_idle < CLIENT_CACHE_CHECK ? s->cache_idle :
	    CLIENT_CACHE_CHECK;
	tv.tv_usec = 0;
	event_add(c.ev_cache, &tv);

	log_info(ngettext("rendering for %s port %s with %d renderer, work "
	    "directory %s", "rendering for %s port %s with %d renderers, work "
	    "directory %s", (unsigned long)s->renderers), o->host, o->port,
	    s->renderers, c.workdir);
	if (c.psk != NULL)
		log_info(_("over TLS only, with the key %s"), c.psk->name);
	client_cache_expire(&c);
	if (s->extensions)
		client_render_probe(&c);
	client_wake(&c);
	event_base_dispatch(c.base);

	if (c.reexec)
		program = xstrdup(c.update_path);
	client_free(&c);
	if (program != NULL) {
		/* After client_free, so that no descriptor leaks into it. */
		client_update_exec(program, o->argv);
		free(program);
		return 1;
	}
	return 0;
}
