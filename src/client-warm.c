/*
 * client-warm.c: warm Blenders. Rather than start Blender for every batch
 * of frames, which loads Blender and the scene each time, the client keeps
 * one Blender per renderer and scene. It loads the .blend once, runs the
 * prelude, then the loop of blender-warm.py, which reads frame numbers on
 * a pipe and renders each as "-f N" would, saying of each frame that it is
 * done (and where its file is) or why it failed. A warm Blender is a run
 * of client-render.c that lives on between frames: its output is read and
 * its end is seen there. It is started again after a crash, after
 * warm_frames frames, past warm_memory, and for a new .blend, and stopped
 * once idle for warm_idle seconds. A scene whose warm Blender ends before
 * it is ready, or is not ready in warm_start_timeout, is rendered the old
 * way, one Blender per batch, as is every scene with fresh_blender; a
 * job that says fresh-blender has a Blender of its own for every frame.
 */
#include "bdfarm.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blender-output.h"
#include "client.h"
#include "log.h"
#include "proto.h"
#include "settings.h"
#include "xmalloc.h"

/* Blender's options for the loop; the output pattern follows "--". */
static char	client_warm_opt_python[] = "--python";
static char	client_warm_opt_end[] = "--";

/* Whether f's frame may go to a warm Blender. */
int
client_warm_wanted(struct client *c, const struct client_frame *f)
{
	return !c->settings->fresh_blender && !client_manifest_fresh(c, f) &&
	    strcmp(f->digest, c->unwarm_digest) != 0;
}

/* Whether r is a warm Blender waiting for a frame. */
static int
client_warm_is_idle(const struct client_render *r)
{
	return r->warm != NULL && !r->warm->retiring && !r->exited &&
	    r->nframes == 0;
}

/* How many warm Blenders wait for a frame: renderers free for work. */
unsigned int
client_warm_idle_count(struct client *c)
{
	struct client_render	*r;
	unsigned int		 n = 0;

	TAILQ_FOREACH(r, &c->renders, entry) {
		if (client_warm_is_idle(r))
			n++;
	}
	return n;
}

/* Stop a warm Blender on purpose; its end is seen as any run's. */
static void
client_warm_retire(struct client_render *r, const char *why)
{
	struct client_warm	*w = r->warm;

	if (w->retiring || r->exited)
		return;
	log_info(_("stopping the warm Blender of %s (pid %ld) after %u "
	    "frames: %s"), w->blend, (long)r->pid, w->lived, why);
	w->retiring = 1;
	if (w->idle != NULL)
		evtimer_del(w->idle);
	if (w->start != NULL)
		evtimer_del(w->start);
	kill(-r->pid, SIGKILL);
}

/* A warm Blender waited for a frame for warm_idle seconds. */
static void
client_warm_idle_timeout(evutil_socket_t fd, short events, void *arg)
{
	struct client_render	*r = arg;

	if (client_warm_is_idle(r))
		client_warm_retire(r, _("idle"));
}

/*
 * A warm Blender did not say it was ready in warm_start_timeout seconds:
 * its scene is rendered the old way (client_warm_finish).
 */
static void
client_warm_start_timeout(evutil_socket_t fd, short events, void *arg)
{
	struct client_render	*r = arg;

	if (r->warm->ready || r->exited)
		return;
	log_warnx(_("the warm Blender of %s was not ready in %d s"),
	    r->warm->blend, r->client->settings->warm_start_timeout);
	kill(-r->pid, SIGKILL);
}

/* Hand one frame to an idle warm Blender. */
static void
client_warm_give(struct client_render *r, struct client_frame *f)
{
	struct client	*c = r->client;
	char		 line[32];
	int		 len;

	evtimer_del(r->warm->idle);
	len = snprintf(line, sizeof line, "%ld\n", f->frame);
	/* A short line into a pipe that holds no other never blocks. */
	if (write(r->warm->frames_fd, line, len) != len) {
		log_debug("pid %ld: cannot hand frame %ld: %s", (long)r->pid,
		    f->frame, strerror(errno));
		kill(-r->pid, SIGKILL);
	}
	r->frames = xreallocarray(r->frames, 1, sizeof *r->frames);
	r->frames[0] = f;
	r->nframes = r->started = 1;
	r->current = f->frame;
	r->have_current = 1;
	f->state = CLIENT_FRAME_RENDERING;
	f->render = r;
	client_render_arm(r);
	client_frame_started(c, f);
	log_debug("pid %ld: warm, rendering frame %ld of %s", (long)r->pid,
	    f->frame, f->blend);
}

/* The queued frame of this scene with the lowest number, or NULL. */
static struct client_frame *
client_warm_next(struct client *c, const char *blend, const char *digest)
{
	struct client_frame	*f, *best = NULL;

	TAILQ_FOREACH(f, &c->frames, entry) {
		if (f->state != CLIENT_FRAME_QUEUED || !client_warm_wanted(c, f) ||
		    strcmp(f->digest, digest) != 0 || strcmp(f->blend, blend) != 0)
			continue;
		if (best == NULL || f->frame < best->frame)
			best = f;
	}
	return best;
}

/*
 * Start a warm Blender on f's scene and hand it f. Returns -1 with a
 * reason if a folder, a pipe or the process cannot be made.
 */
int
client_warm_start(struct client *c, struct client_frame *f, char **cause)
{
	struct client_render	*r;
	struct client_warm	*w;
	struct timeval		 tv;
	char			*blend, *pattern, *argv[11];
	unsigned int		 argc = 0;
	int			 fds[2], rc;

	f = client_warm_next(c, f->blend, f->digest);
	if ((r = client_render_new(c, f, &blend, cause)) == NULL)
		return -1;
	if (pipe2(fds, O_CLOEXEC) == -1) {
		xasprintf(cause, _("cannot make a pipe: %s"), strerror(errno));
		free(blend);
		client_render_discard(r);
		return -1;
	}
	xasprintf(&pattern, "%s/####", r->outdir);
	argc = client_render_argv(c, argv, blend);
	argv[argc++] = client_warm_opt_python;
	argv[argc++] = c->warm_loop;
	argv[argc++] = client_warm_opt_end;
	argv[argc++] = pattern;
	argv[argc] = NULL;
	rc = client_render_run(c, r, argv, fds[0], cause);
	close(fds[0]);
	free(blend);
	free(pattern);
	if (rc != 0) {
		close(fds[1]);
		client_render_discard(r);
		return -1;
	}
	log_info(_("starting a warm Blender for %s (pid %ld)"), f->blend,
	    (long)r->pid);

	r->warm = w = xcalloc(1, sizeof *w);
	w->frames_fd = fds[1];
	w->blend = xstrdup(f->blend);
	memcpy(w->digest, f->digest, sizeof w->digest);
	w->idle = evtimer_new(c->base, client_warm_idle_timeout, r);
	w->start = evtimer_new(c->base, client_warm_start_timeout, r);
	tv.tv_sec = c->settings->warm_start_timeout;
	tv.tv_usec = 0;
	evtimer_add(w->start, &tv);
	client_warm_give(r, f);
	return 0;
}

/*
 * Give every idle warm Blender the next frame of its scene, in increasing
 * order; one whose scene has changed (a new .blend of the same name) is
 * stopped, for its frames need the new one.
 */
void
client_warm_hand(struct client *c)
{
	struct client_render	*r;
	struct client_frame	*f;

	TAILQ_FOREACH(r, &c->renders, entry) {
		if (!client_warm_is_idle(r))
			continue;
		if ((f = client_warm_next(c, r->warm->blend,
		    r->warm->digest)) != NULL) {
			client_warm_give(r, f);
			continue;
		}
		TAILQ_FOREACH(f, &c->frames, entry) {
			if (strcmp(f->blend, r->warm->blend) == 0 &&
			    strcmp(f->digest, r->warm->digest) != 0)
				break;
		}
		if (f != NULL)
			client_warm_retire(r, _("the .blend changed"));
	}
}

/*
 * When every renderer is taken and frames still wait, stop an idle warm
 * Blender of another scene to make room; a client that takes no more
 * work stops its idle ones, so that it can end.
 */
void
client_warm_make_room(struct client *c)
{
	struct client_render	*r;
	struct client_frame	*f;

	if (c->mode != CLIENT_RUNNING) {
		TAILQ_FOREACH(r, &c->renders, entry) {
			if (client_warm_is_idle(r))
				client_warm_retire(r, _("no more work"));
		}
		return;
	}
	if (c->nrenders < (unsigned int)c->settings->renderers)
		return;
	TAILQ_FOREACH(f, &c->frames, entry) {
		if (f->state == CLIENT_FRAME_QUEUED)
			break;
	}
	if (f == NULL)
		return;
	TAILQ_FOREACH(r, &c->renders, entry) {
		if (client_warm_is_idle(r)) {
			client_warm_retire(r, _("another scene waits"));
			return;
		}
	}
}

/* Resident memory of process pid in MiB, or -1 if unknown. */
static long
client_warm_memory(pid_t pid)
{
	FILE	*f;
	char	 path[64], line[256];
	long	 kib = -1;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib < 0 ? -1 : kib / 1024;
}

/*
 * A warm Blender finished a frame: start it again if it has lived long
 * enough or grown too large, or else wait for the next frame.
 */
static void
client_warm_after(struct client_render *r)
{
	struct client		*c = r->client;
	struct client_warm	*w = r->warm;
	struct timeval		 tv;
	long			 mib;
	char			*why;

	w->lived++;
	r->have_current = 0;
	if (r->timer != NULL)
		evtimer_del(r->timer);
	if (w->lived >= (unsigned int)c->settings->warm_frames) {
		client_warm_retire(r, _("enough frames"));
		return;
	}
	if (c->settings->warm_memory > 0 &&
	    (mib = client_warm_memory(r->pid)) > c->settings->warm_memory) {
		xasprintf(&why, _("%ld MiB of memory"), mib);
		client_warm_retire(r, why);
		free(why);
		return;
	}
	tv.tv_sec = c->settings->warm_idle;
	tv.tv_usec = 0;
	evtimer_add(w->idle, &tv);
}

/*
 * The loop said frame is done (path, its file) or failed (message, why):
 * confirm its file, or fail it alone with what went wrong, and make the
 * Blender ready for the next frame.
 */
static void
client_warm_frame(struct client_render *r, long frame, const char *path,
    const char *message)
{
	struct client		*c = r->client;
	struct client_frame	*f;
	char			*tail[CLIENT_TAIL_LINES], *why;
	unsigned int		 ntail;

	if (r->nframes == 0 || r->frames[0]->frame != frame) {
		log_debug("pid %ld: ignoring the end of frame %ld",
		    (long)r->pid, frame);
		return;
	}
	f = r->frames[0];
	if (message != NULL) {
		xasprintf(&why, "failed: %s", message);
		client_render_fail(r, why, _("Blender could not render frame "
		    "%ld: %s"), frame, message);
		free(why);
	} else if (r->failure == NULL && !client_render_own_file(r, path))
		client_render_fail(r, "no file written", _("frame %ld: no "
		    "file %s"), frame, path);
	if (r->failure == NULL) {
		free(f->file);
		f->file = xstrdup(path);
		r->saved = f;
		client_render_confirm(r);
	}
	if (r->failure != NULL) {
		r->saved = NULL;
		client_render_remove(r, f);
		free(f->file);
		f->file = NULL;
		ntail = client_render_tail(r, tail);
		client_frame_failed(c, f, r->failure, r->reason, tail, ntail);
		free(r->failure);
		free(r->reason);
		r->failure = r->reason = NULL;
	}
	client_warm_after(r);
	client_wake(c);
}

/*
 * Act on a line of a warm Blender's output that means something else for
 * it than for a batch; returns 0 for a line it leaves to client-render.c.
 */
int
client_warm_line(struct client_render *r, const struct blender_line *bl)
{
	struct client	*c = r->client;

	switch (bl->type) {
	case BLENDER_LINE_WARM_READY:
		r->warm->ready = 1;
		evtimer_del(r->warm->start);
		/* The scene is loaded: what it misses is known now. */
		if (!r->missing_fatal)
			client_render_missing_end(r);
		log_debug("pid %ld: warm Blender ready", (long)r->pid);
		client_wake(c);
		return 1;
	case BLENDER_LINE_WARM_DONE:
		client_warm_frame(r, bl->frame, bl->path, NULL);
		return 1;
	case BLENDER_LINE_WARM_FAILED:
		client_warm_frame(r, bl->frame, NULL, bl->message);
		return 1;
	case BLENDER_LINE_FRAME:
		/* Progress only: the loop says when a frame is done. */
		if (r->nframes > 0 && r->frames[0]->frame == bl->frame &&
		    r->failure == NULL)
			client_frame_progress(c, r->frames[0],
			    blender_output_permille(bl));
		return 1;
	case BLENDER_LINE_SAVED:
		return 1;
	case BLENDER_LINE_ERROR:
		/*
		 * With no frame in hand, it is no frame's error: a Blender
		 * left unable to render fails its next frame by itself.
		 */
		if (r->nframes > 0)
			return 0;
		log_warnx(_("the warm Blender of %s (pid %ld) reported "
		    "between frames: %s"), r->warm->blend, (long)r->pid,
		    bl->message);
		return 1;
	default:
		return 0;
	}
}

/*
 * The warm Blenders as a bdfarm/4 server is told of them: "WARM" and, for
 * each, the frames it has rendered, "-" while it loads its scene.
 */
char *
client_warm_said(struct client *c)
{
	struct client_render	*r;
	char			*text = xstrdup("WARM"), *next;
	unsigned int		 n = 0;

	TAILQ_FOREACH(r, &c->renders, entry) {
		if (r->warm == NULL || r->warm->retiring || r->exited)
			continue;
		if (n++ == PROTO_MAX_WARM)
			break;
		if (r->warm->ready)
			xasprintf(&next, "%s %u", text, r->warm->lived <
			    PROTO_MAX_LIVED ? r->warm->lived : PROTO_MAX_LIVED);
		else
			xasprintf(&next, "%s -", text);
		free(text);
		text = next;
	}
	return text;
}

/*
 * A warm Blender has ended. If it never said it was ready, its loop does
 * not run here: its frame goes back to the queue to render the old way,
 * as does every frame of its scene from now on, and 1 is returned.
 * Otherwise, or if it was stopped for the files its scene misses, the
 * frame it was on fails as a batch's would (0).
 */
int
client_warm_finish(struct client_render *r)
{
	struct client		*c = r->client;
	struct client_warm	*w = r->warm;
	struct client_frame	*f;

	/* One stopped for missing files fails as a batch would. */
	if (w->ready || w->retiring || r->missing_fatal)
		return 0;
	log_warnx(_("the warm Blender of %s ended before it was ready; "
	    "rendering its frames with one Blender per batch"), w->blend);
	memcpy(c->unwarm_digest, w->digest, sizeof c->unwarm_digest);
	while (r->nframes > 0) {
		f = r->frames[0];
		client_render_remove(r, f);
		free(f->file);
		f->file = NULL;
		f->state = CLIENT_FRAME_QUEUED;
	}
	return 1;
}

/* Release what a warm Blender kept; the run itself is freed by the caller. */
void
client_warm_free(struct client_render *r)
{
	struct client_warm	*w = r->warm;

	if (w->frames_fd != -1)
		close(w->frames_fd);
	event_free(w->idle);
	event_free(w->start);
	free(w->blend);
	free(w);
	r->warm = NULL;
}
