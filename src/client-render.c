/*
 * client-render.c: Blender children. Each run renders one or more frames
 * of one .blend into its own output folder, in its own process group so
 * that a timeout or a stop kills everything it started. Its output is read
 * through a pipe on the event loop, for progress, saved frames, errors and
 * the last lines a failure report carries; a run is finished only when
 * both its exit status (SIGCHLD) and the end of its output have been seen.
 * Blender runs the client's prelude script first, which names the files
 * the scene cannot find. With a bdfarm/3 server, each run gets a scene
 * folder of its own, where every file the scene needs sits at its path on
 * the server as a link to the cached copy. One more child, at start, asks
 * Blender for its version. A warm Blender (client-warm.c) is a run too,
 * one that takes its frames one by one on a pipe.
 */
#include "bdfarm.h"

#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "blender-output.h"
#include "blender-prelude.h"
#include "blender-warm.h"
#include "child.h"
#include "client.h"
#include "clock.h"
#include "fileio.h"
#include "log.h"
#include "proto.h"
#include "settings.h"
#include "xmalloc.h"

#define CLIENT_RENDER_MAX_LINE	65536	/* longer output lines are dropped */
#define CLIENT_RENDER_PROGRESS	10	/* s between progress lines logged */
#define CLIENT_RENDER_PROBE_TIME 20	/* s blender --version may take */
#define CLIENT_RENDER_PRELUDE	"prelude.py"	/* in the work directory */
#define CLIENT_RENDER_WARM	"warm.py"	/* in the work directory */
#define CLIENT_RENDER_ROOT	"BDFARM_ROOT"	/* names the scene folder */

/* The child that asks Blender for its version. */
struct client_probe {
	struct client		*client;
	pid_t			 pid;
	struct bufferevent	*output;
	struct event		*timer;
	int			 exited;
	int			 eof;
};

/*
 * Blender's options: no scripts from the .blend (before the file, which is
 * loaded as soon as it is read), background, the prelude (after the file,
 * before the frames), output pattern, frames (in this order: Blender acts
 * on each as it reads it).
 */
static char	client_render_opt_noscripts[] = "--disable-autoexec";
static char	client_render_opt_b[] = "-b";
static char	client_render_opt_python[] = "--python";
static char	client_render_opt_o[] = "-o";
static char	client_render_opt_f[] = "-f";
static char	client_render_opt_version[] = "--version";

#define CLIENT_RENDER_FRAMES	"BDFARM_FRAMES"	/* names the frame pipe */
#define CLIENT_RENDER_FRAMES_FD	3	/* where the child finds it */

/*
 * Record the first reason a run failed, both for the log (fmt) and in a
 * few untranslated words for the server (reason); later ones add nothing.
 */
void
client_render_fail(struct client_render *r, const char *reason,
    const char *fmt, ...)
{
	va_list	ap;

	if (r->failure != NULL)
		return;
	va_start(ap, fmt);
	xvasprintf(&r->failure, fmt, ap);
	va_end(ap);
	r->reason = xstrdup(reason);
}

/* Keep one line of Blender's output among the last few. */
static void
client_render_keep(struct client_render *r, const char *line)
{
	unsigned int	slot = r->ntail % CLIENT_TAIL_LINES;

	free(r->tail[slot]);
	r->tail[slot] = xstrdup(line);
	r->ntail++;
}

/* The last lines kept, oldest first, in lines; returns how many. */
unsigned int
client_render_tail(struct client_render *r, char **lines)
{
	unsigned int	n, first, i;

	n = r->ntail < CLIENT_TAIL_LINES ? r->ntail : CLIENT_TAIL_LINES;
	first = r->ntail - n;
	for (i = 0; i < n; i++)
		lines[i] = r->tail[(first + i) % CLIENT_TAIL_LINES];
	return n;
}

/* The frame of this run with number frame, or NULL. */
static struct client_frame *
client_render_find(struct client_render *r, long frame)
{
	unsigned int	i;

	for (i = 0; i < r->nframes; i++) {
		if (r->frames[i]->frame == frame)
			return r->frames[i];
	}
	return NULL;
}

/* Take a frame out of the run's list of unfinished frames. */
void
client_render_remove(struct client_render *r, struct client_frame *f)
{
	unsigned int	i;

	for (i = 0; i < r->nframes; i++) {
		if (r->frames[i] == f) {
			memmove(r->frames + i, r->frames + i + 1,
			    (r->nframes - i - 1) * sizeof *r->frames);
			r->nframes--;
			break;
		}
	}
	f->render = NULL;
}

/* The name a frame is sent under: four-digit frame number and extension. */
static char *
client_render_image_name(long frame, const char *ext)
{
	char	*name;

	if (frame < 0)
		xasprintf(&name, "-%04ld%s", -frame, ext);
	else
		xasprintf(&name, "%04ld%s", frame, ext);
	return name;
}

/*
 * A saved frame is confirmed: Blender went on to something else or exited
 * well. Its file must exist and not be empty; it moves out of the run's
 * folder to wait for its upload. Returns -1 if it cannot, with the run
 * failed.
 */
int
client_render_confirm(struct client_render *r)
{
	struct client		*c = r->client;
	struct client_frame	*f = r->saved;
	struct stat		 st;
	char			 ext[32], *image, *path;
	const char		*base = strrchr(r->outdir, '/') + 1;

	r->saved = NULL;
	if (stat(f->file, &st) != 0 || !S_ISREG(st.st_mode)) {
		client_render_fail(r, "no file written", _("frame %ld: no "
		    "file %s"), f->frame, f->file);
		return -1;
	}
	if (st.st_size == 0) {
		client_render_fail(r, "empty file", _("frame %ld: empty file "
		    "%s"), f->frame, f->file);
		return -1;
	}
	if (blender_output_extension(f->file, ext, sizeof ext) != 0)
		ext[0] = '\0';
	image = client_render_image_name(f->frame, ext);
	xasprintf(&path, "%s/%s-%s", c->renderdir, base, image);
	if (rename(f->file, path) == -1) {
		client_render_fail(r, "cannot keep the file", _("cannot move "
		    "%s to %s: %s"), f->file, path, strerror(errno));
		free(path);
		free(image);
		return -1;
	}
	client_render_remove(r, f);
	free(f->file);
	f->file = path;
	f->image = image;
	f->state = CLIENT_FRAME_DONE;
	log_info(_("rendered frame %ld of %s"), f->frame, f->blend);
	client_disk_ok(c);
	client_wake(c);
	return 0;
}

/*
 * Whether path names a file Blender may have written for this run: one
 * with a name the server takes, right in the run's folder.
 */
int
client_render_own_file(struct client_render *r, const char *path)
{
	size_t	len = strlen(r->outdir);

	return strncmp(path, r->outdir, len) == 0 && path[len] == '/' &&
	    proto_valid_file_name(path + len + 1);
}

/* Give the frame Blender is on a fresh time limit. */
void
client_render_arm(struct client_render *r)
{
	struct timeval	tv;

	if (r->timer == NULL)
		return;
	tv.tv_sec = r->client->settings->render_timeout;
	tv.tv_usec = 0;
	evtimer_add(r->timer, &tv);
}

/*
 * Whether the frames of a run in which Blender misses files cannot be
 * sent: unless the job allows it, a bdfarm/3 server is told and the
 * frames fail. An older server has no way to hear of it.
 */
static int
client_render_missing_fatal(struct client_render *r)
{
	return (r->manifest == NULL || !r->manifest->allow_missing) &&
	    r->client->ext_version >= 3;
}

/*
 * Blender could not find a file the scene needs: keep the path (once, and
 * no more than a few), and if that dooms the run, fail it now, so that
 * no frame of it is confirmed.
 */
static void
client_render_missing(struct client_render *r, const char *path)
{
	unsigned int	i;
	size_t		len;

	/* A file of the scene's tree goes by its path on the server. */
	if (r->treedir != NULL && (len = strlen(r->treedir)) > 0 &&
	    strncmp(path, r->treedir, len) == 0 && path[len] == '/')
		path += len;
	for (i = 0; i < r->nmissing; i++) {
		if (strcmp(r->missing[i], path) == 0)
			return;
	}
	if (r->nmissing == CLIENT_MISSING_KEPT) {
		r->missing_more++;
		return;
	}
	r->missing[r->nmissing++] = xstrdup(path);
	if (client_render_missing_fatal(r)) {
		r->missing_fatal = 1;
		client_render_fail(r, "missing files", _("Blender cannot find "
		    "%s"), path);
	}
}

/* The missing paths joined by ", ", cut to about max bytes. */
static char *
client_render_missing_list(struct client_render *r, size_t max)
{
	char		*list = xstrdup(""), *next;
	unsigned int	 i;

	for (i = 0; i < r->nmissing; i++) {
		if (i > 0 && strlen(list) + strlen(r->missing[i]) + 2 > max) {
			xasprintf(&next, "%s, ...", list);
			free(list);
			return next;
		}
		xasprintf(&next, "%s%s%s", list, i > 0 ? ", " : "",
		    r->missing[i]);
		free(list);
		list = next;
	}
	if (r->missing_more > 0) {
		xasprintf(&next, "%s, ...", list);
		free(list);
		list = next;
	}
	return list;
}

/*
 * A run in which Blender missed files has ended, or a warm Blender is
 * ready. If its frames cannot be sent, the server hears which files
 * (MISSING) and the frames fail with them as the reason; otherwise the
 * files are only logged, once.
 */
void
client_render_missing_end(struct client_render *r)
{
	struct client	*c = r->client;
	char		*list;
	unsigned int	 i, j;

	if (r->nmissing == 0)
		return;
	list = client_render_missing_list(r, 4096);
	if (!r->missing_fatal) {
		if (r->manifest != NULL && r->manifest->allow_missing)
			log_info(_("Blender cannot find %s; the job allows "
			    "missing files"), list);
		else
			log_warnx(_("Blender cannot find %s; the server cannot "
			    "be told, so the frames are sent as they are"),
			    list);
		free(list);
		for (i = 0; i < r->nmissing; i++)
			free(r->missing[i]);
		r->nmissing = r->missing_more = 0;
		return;
	}
	for (i = 0; i < r->nframes; i++) {
		for (j = 0; j < r->nmissing; j++)
			client_missing_add(c, r->frames[i], r->missing[j]);
	}
	free(r->failure);
	free(r->reason);
	xasprintf(&r->failure, _("missing files: %s"), list);
	free(list);
	list = client_render_missing_list(r, 150);
	xasprintf(&r->reason, "missing files: %s", list);
	free(list);
}

/* Act on one line of Blender's output. */
static void
client_render_line(struct client_render *r, char *line)
{
	struct client		*c = r->client;
	struct blender_line	 bl;
	struct client_frame	*f = NULL;
	long			 frame;
	const char		*base;
	char			*why;

	blender_output_parse(line, &bl);
	if (r->warm != NULL && client_warm_line(r, &bl))
		return;
	switch (bl.type) {
	case BLENDER_LINE_OTHER:
	case BLENDER_LINE_WARM_READY:
	case BLENDER_LINE_WARM_DONE:
	case BLENDER_LINE_WARM_FAILED:
		break;
	case BLENDER_LINE_VERSION:
		client_blender_version(c, bl.version);
		break;
	case BLENDER_LINE_FRAME:
		if (!r->have_current || bl.frame != r->current) {
			if (r->saved != NULL && r->failure == NULL)
				client_render_confirm(r);
			r->current = bl.frame;
			r->have_current = 1;
			client_render_arm(r);
		}
		if ((f = client_render_find(r, bl.frame)) != NULL &&
		    r->failure == NULL) {
			client_frame_started(c, f);
			client_frame_progress(c, f,
			    blender_output_permille(&bl));
		}
		if (bl.sample >= 0 && clock_mono_ms() >= r->next_progress) {
			log_debug("pid %ld frame %ld: sample %d/%d, %d s left",
			    (long)r->pid, bl.frame, bl.sample, bl.samples,
			    bl.remaining);
			r->next_progress = clock_mono_ms() +
			    CLIENT_RENDER_PROGRESS * 1000;
		}
		break;
	case BLENDER_LINE_SAVED:
		if (r->saved != NULL && r->failure == NULL)
			client_render_confirm(r);
		base = strrchr(bl.path, '/');
		base = base != NULL ? base + 1 : bl.path;
		if (blender_output_file_frame(base, &frame) != 0) {
			if (!r->have_current)
				break;
			frame = r->current;
		}
		f = client_render_find(r, frame);
		if (f == NULL || !proto_valid_file_name(base)) {
			log_debug("pid %ld: ignoring saved file %s",
			    (long)r->pid, bl.path);
			break;
		}
		free(f->file);
		xasprintf(&f->file, "%s/%s", r->outdir, base);
		r->saved = f;
		if (r->failure == NULL)
			client_frame_progress(c, f,
			    blender_output_permille(&bl));
		break;
	case BLENDER_LINE_ERROR:
		xasprintf(&why, "Error: %s", bl.message);
		client_render_fail(r, why, _("Blender reported: %s"),
		    bl.message);
		free(why);
		break;
	case BLENDER_LINE_MISSING:
		client_render_missing(r, bl.path);
		break;
	case BLENDER_LINE_PRELUDE:
		/* Nothing it renders now could be sent: stop it at once. */
		if (r->missing_fatal && !r->exited)
			kill(-r->pid, SIGKILL);
		break;
	}
}

/* Read whatever lines Blender has written. */
static void
client_render_read(struct bufferevent *bev, void *arg)
{
	struct client_render	*r = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			*line;
	size_t			 len;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		line[strcspn(line, "\r")] = '\0';
		client_render_keep(r, line);
		client_render_line(r, line);
		free(line);
	}
	if (evbuffer_get_length(in) > CLIENT_RENDER_MAX_LINE)
		evbuffer_drain(in, evbuffer_get_length(in));
}

/* Remove a run's output folder and tree, and forget its manifest. */
static void
client_render_remove_dirs(struct client_render *r)
{
	fileio_remove_dir(r->outdir);
	free(r->outdir);
	if (r->treedir != NULL)
		fileio_remove_dir(r->treedir);
	free(r->treedir);
	client_manifest_free(r->manifest);
}

/* Release a finished run. */
static void
client_render_free(struct client_render *r)
{
	struct client	*c = r->client;
	unsigned int	 i;

	TAILQ_REMOVE(&c->renders, r, entry);
	c->nrenders--;
	if (r->warm != NULL)
		client_warm_free(r);
	if (r->output != NULL)
		bufferevent_free(r->output);
	if (r->timer != NULL)
		event_free(r->timer);
	client_render_remove_dirs(r);
	for (i = 0; i < r->nmissing; i++)
		free(r->missing[i]);
	free(r->frames);
	free(r->failure);
	free(r->reason);
	for (i = 0; i < CLIENT_TAIL_LINES; i++)
		free(r->tail[i]);
	free(r);
}

/*
 * A run has both exited and closed its output: decide the fate of each of
 * its frames. Frames it did not finish go back to the queue one by one if
 * it had several, and are dropped (the server hands them out again) if it
 * had one.
 */
static void
client_render_finish(struct client_render *r)
{
	struct client		*c = r->client;
	struct client_frame	*f;
	int			 status = r->status;
	char			*why, *tail[CLIENT_TAIL_LINES];
	unsigned int		 ntail;

	if (WIFSIGNALED(status)) {
		xasprintf(&why, "killed by signal %d", WTERMSIG(status));
		client_render_fail(r, why, _("Blender was killed by signal %d"),
		    WTERMSIG(status));
		free(why);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		xasprintf(&why, "exit status %d", WEXITSTATUS(status));
		client_render_fail(r, why, _("Blender exited with status %d"),
		    WEXITSTATUS(status));
		free(why);
	}
	if (r->saved != NULL && r->failure == NULL)
		client_render_confirm(r);
	r->saved = NULL;
	/* A warm Blender that never got going leaves its frame as it was. */
	if (r->warm != NULL && client_warm_finish(r)) {
		client_render_free(r);
		client_wake(c);
		return;
	}
	if (r->nframes > 0 && r->failure == NULL)
		client_render_fail(r, "no Saved: line",
		    _("Blender saved no file"));
	client_render_missing_end(r);
	ntail = client_render_tail(r, tail);

	while (r->nframes > 0) {
		f = r->frames[0];
		client_render_remove(r, f);
		free(f->file);
		f->file = NULL;
		if (r->started > 1 && !r->missing_fatal) {
			log_warnx(_("frame %ld of %s failed (%s); retrying it "
			    "alone"), f->frame, f->blend, r->failure);
			f->state = CLIENT_FRAME_QUEUED;
			f->alone = 1;
		} else
			client_frame_failed(c, f, r->failure, r->reason, tail,
			    ntail);
	}
	client_render_free(r);
	client_wake(c);
}

/* Blender closed its output, or reading it failed. */
static void
client_render_event(struct bufferevent *bev, short what, void *arg)
{
	struct client_render	*r = arg;

	client_render_read(bev, r);
	bufferevent_disable(bev, EV_READ);
	r->eof = 1;
	if (r->exited)
		client_render_finish(r);
}

/* A frame took longer than render_timeout: kill the whole group. */
static void
client_render_timeout(evutil_socket_t fd, short events, void *arg)
{
	struct client_render	*r = arg;
	char			*why;

	xasprintf(&why, "timed out after %d s",
	    r->client->settings->render_timeout);
	client_render_fail(r, why, _("frame %ld took longer than %d s"),
	    r->have_current ? r->current : r->frames[0]->frame,
	    r->client->settings->render_timeout);
	free(why);
	kill(-r->pid, SIGKILL);
}

/* A child has exited; if it is one of the runs, note it. */
void
client_render_exited(struct client *c, pid_t pid, int status)
{
	struct client_render	*r;

	if (c->probe != NULL && c->probe->pid == pid) {
		c->probe->exited = 1;
		if (c->probe->eof)
			client_render_probe_kill(c);
		return;
	}
	TAILQ_FOREACH(r, &c->renders, entry) {
		if (r->pid == pid)
			break;
	}
	if (r == NULL)
		return;
	r->exited = 1;
	r->status = status;
	if (r->timer != NULL)
		evtimer_del(r->timer);
	/* Whatever the run left behind in its group goes with it. */
	kill(-pid, SIGKILL);
	if (r->eof)
		client_render_finish(r);
}

/*
 * In the child: become Blender, or say why not and exit 127. A frame
 * pipe (frames, -1 for none) is left open as CLIENT_RENDER_FRAMES_FD.
 */
BDFARM_DEAD static void
client_render_child(int out, int frames, pid_t parent, char **argv,
    const char *root)
{
	char	number[16];

	child_setup(out);
	unsetenv(CLIENT_RENDER_FRAMES);
	if (frames != -1) {
		if (frames == CLIENT_RENDER_FRAMES_FD)
			fcntl(frames, F_SETFD, 0);
		else if (dup2(frames, CLIENT_RENDER_FRAMES_FD) == -1)
			_exit(127);
		snprintf(number, sizeof number, "%d", CLIENT_RENDER_FRAMES_FD);
		setenv(CLIENT_RENDER_FRAMES, number, 1);
	}
#ifdef __linux__
	prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
	if (getppid() != parent)
		_exit(127);
	if (root != NULL)
		setenv(CLIENT_RENDER_ROOT, root, 1);
	else
		unsetenv(CLIENT_RENDER_ROOT);
	execvp(argv[0], argv);
	dprintf(STDERR_FILENO, "Error: cannot run %s: %s\n", argv[0],
	    strerror(errno));
	_exit(127);
}

/*
 * Start Blender with argv in a process group of its own, its output on a
 * pipe, BDFARM_ROOT set to root if it is not NULL, and the frame pipe
 * frames if it is not -1; returns the output's reading end, or NULL with
 * a reason.
 */
static struct bufferevent *
client_render_spawn(struct client *c, char **argv, const char *root,
    int frames, pid_t *pid, char **cause)
{
	struct bufferevent	*output;
	int			 fds[2];
	pid_t			 parent = getpid();

	if (pipe2(fds, O_CLOEXEC) == -1) {
		xasprintf(cause, _("cannot make a pipe: %s"), strerror(errno));
		return NULL;
	}
	if ((*pid = fork()) == -1) {
		xasprintf(cause, _("cannot start Blender: %s"), strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (*pid == 0)
		client_render_child(fds[1], frames, parent, argv, root);
	setpgid(*pid, *pid);
	close(fds[1]);
	evutil_make_socket_nonblocking(fds[0]);
	output = bufferevent_socket_new(c->base, fds[0],
	    BEV_OPT_CLOSE_ON_FREE);
	if (output == NULL)
		fatalx("cannot create a pipe buffer");
	return output;
}

/*
 * The "-f" argument: the frame numbers joined by commas. Blender reads a
 * number that starts with '-' as counted back from the scene's last frame
 * ("-5" is five before the end), and one that starts with '+' as counted
 * on from its first; anything else goes to strtol, which skips leading
 * white space. So a negative frame goes with a space before its sign
 * (" -5"), which Blender renders as the absolute frame -5.
 */
static char *
client_render_frame_list(struct client_frame **frames, unsigned int n)
{
	char		*list = NULL, *next;
	const char	*space;
	unsigned int	 i;

	for (i = 0; i < n; i++) {
		space = frames[i]->frame < 0 ? " " : "";
		if (list == NULL)
			xasprintf(&next, "%s%ld", space, frames[i]->frame);
		else
			xasprintf(&next, "%s,%s%ld", list, space,
			    frames[i]->frame);
		free(list);
		list = next;
	}
	return list;
}

/*
 * Create the folders of path under the scene folder tree, from the
 * server path's first component to its last folder. Each must be a real
 * folder, not a link, so that nothing laid out lands outside the tree.
 */
static int
client_render_tree_dirs(const char *tree, const char *path)
{
	struct stat	 st;
	char		*dir, *p;
	int		 rc = 0;

	xasprintf(&dir, "%s%s", tree, path);
	for (p = dir + strlen(tree) + 1; rc == 0 &&
	    (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if ((mkdir(dir, 0700) == -1 && errno != EEXIST) ||
		    lstat(dir, &st) == -1 || !S_ISDIR(st.st_mode))
			rc = -1;
		*p = '/';
	}
	free(dir);
	return rc;
}

/*
 * Lay out a run's scene folder: for every file of the list that has a
 * digest, a link at the folder plus its server path to the cached copy
 * (the .blend's to the cached .blend), each copy touched so that it is
 * not removed as idle. Returns -1 with a reason.
 */
static int
client_render_tree(struct client *c, struct client_render *r,
    const char *blend, char **cause)
{
	const struct client_manifest_file	*f;
	char					*target, *link;
	unsigned int				 i;
	int					 rc;

	for (i = 0; i < r->manifest->nfiles; i++) {
		f = &r->manifest->files[i];
		if (f->digest[0] == '\0')
			continue;
		if (!client_manifest_valid_path(f->path) ||
		    client_render_tree_dirs(r->treedir, f->path) != 0) {
			xasprintf(cause, _("cannot lay out %s in %s"), f->path,
			    r->treedir);
			return -1;
		}
		if (i == 0)
			target = client_cache_path(c, r->manifest->digest,
			    blend);
		else
			target = client_cache_path(c, f->digest, f->name);
		client_cache_touch(target);
		xasprintf(&link, "%s%s", r->treedir, f->path);
		/* A path listed twice is laid out once. */
		rc = symlink(target, link) == -1 && errno != EEXIST ? -1 : 0;
		if (rc == -1)
			xasprintf(cause, _("cannot link %s to %s: %s"), link,
			    target, strerror(errno));
		free(link);
		free(target);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* Write one script into the work directory, unless it is there already. */
static int
client_render_script(const char *path, const char *text, char **cause)
{
	size_t	 len = strlen(text), have;
	char	*old = NULL, *ignored = NULL;
	int	 same;

	if (fileio_read_small(path, len, &old, &have, &ignored) == 0) {
		same = have == len && memcmp(old, text, len) == 0;
		free(old);
		if (same)
			return 0;
	}
	free(ignored);
	return fileio_write_atomic(path, text, len, 0644, cause);
}

/*
 * Write the scripts Blender runs into the work directory: the prelude it
 * runs before it renders, and the loop of a warm Blender.
 */
int
client_render_prelude(struct client *c, char **cause)
{
	xasprintf(&c->prelude, "%s/%s", c->workdir, CLIENT_RENDER_PRELUDE);
	xasprintf(&c->warm_loop, "%s/%s", c->workdir, CLIENT_RENDER_WARM);
	if (client_render_script(c->prelude, blender_prelude, cause) != 0)
		return -1;
	return client_render_script(c->warm_loop, blender_warm, cause);
}

/*
 * A new run for frames of f's .blend from the cache, with its output
 * folder and, with the list of the scene's files, a scene folder of its
 * own; *blend is the .blend Blender is to load. Returns NULL with a
 * reason if a folder cannot be made.
 */
struct client_render *
client_render_new(struct client *c, const struct client_frame *f,
    char **blend, char **cause)
{
	struct client_render	*r;
	struct client_manifest	*m = NULL;

	if (c->ext_version >= 3)
		m = client_manifest_find(c, f->blend, f->digest);
	r = xcalloc(1, sizeof *r);
	r->client = c;
	xasprintf(&r->outdir, "%s/r%ld-%u-XXXXXX", c->renderdir,
	    (long)getpid(), c->nruns++);
	if (mkdtemp(r->outdir) == NULL) {
		xasprintf(cause, _("cannot create a folder in %s: %s"),
		    c->renderdir, strerror(errno));
		free(r->outdir);
		free(r);
		return NULL;
	}

	*blend = client_cache_path(c, f->digest, f->blend);
	client_cache_touch(*blend);
	if (m != NULL && m->known && m->nfiles > 0) {
		r->manifest = client_manifest_copy(m);
		xasprintf(&r->treedir, "%s/t%ld-%u-XXXXXX", c->renderdir,
		    (long)getpid(), c->nruns - 1);
		if (mkdtemp(r->treedir) == NULL) {
			xasprintf(cause, _("cannot create a folder in %s: %s"),
			    c->renderdir, strerror(errno));
			free(r->treedir);
			r->treedir = NULL;
			goto fail;
		}
		if (client_render_tree(c, r, f->blend, cause) != 0)
			goto fail;
		free(*blend);
		xasprintf(blend, "%s%s", r->treedir, m->files[0].path);
	}
	return r;

fail:
	free(*blend);
	*blend = NULL;
	client_render_discard(r);
	return NULL;
}

/* Throw away a run that never started, with its folders. */
void
client_render_discard(struct client_render *r)
{
	client_render_remove_dirs(r);
	free(r);
}

/*
 * The start of every Blender command line the client runs: Blender on the
 * .blend in the background, with the prelude. Returns the count of
 * arguments put in argv, which has room for at least six.
 */
unsigned int
client_render_argv(struct client *c, char **argv, char *blend)
{
	unsigned int	argc = 0;

	argv[argc++] = c->settings->blender;
	/* The scene is the farm owner's; the machine is not. */
	if (!c->settings->allow_scripts)
		argv[argc++] = client_render_opt_noscripts;
	argv[argc++] = client_render_opt_b;
	argv[argc++] = blend;
	argv[argc++] = client_render_opt_python;
	argv[argc++] = c->prelude;
	return argc;
}

/*
 * Start a new run's Blender with argv (and the frame pipe frames, or -1)
 * and read its output on the loop. Returns -1 with a reason if the pipe
 * or the process cannot be made; the run is then still the caller's.
 */
int
client_render_run(struct client *c, struct client_render *r, char **argv,
    int frames, char **cause)
{
	r->output = client_render_spawn(c, argv, r->treedir, frames, &r->pid,
	    cause);
	if (r->output == NULL)
		return -1;
	bufferevent_setcb(r->output, client_render_read, NULL,
	    client_render_event, r);
	bufferevent_enable(r->output, EV_READ);
	if (c->settings->render_timeout > 0)
		r->timer = evtimer_new(c->base, client_render_timeout, r);
	TAILQ_INSERT_TAIL(&c->renders, r, entry);
	c->nrenders++;
	return 0;
}

/*
 * Start Blender on n frames of one .blend from the cache, in a process
 * of its own. Returns -1 with a reason if a folder, the pipe or the
 * process cannot be made.
 */
int
client_render_start(struct client *c, struct client_frame **frames,
    unsigned int n, char **cause)
{
	struct client_render	*r;
	char			*blend, *pattern, *list, *argv[11];
	unsigned int		 i, argc = 0;
	int			 rc;

	if ((r = client_render_new(c, frames[0], &blend, cause)) == NULL)
		return -1;
	xasprintf(&pattern, "%s/####", r->outdir);
	list = client_render_frame_list(frames, n);
	argc = client_render_argv(c, argv, blend);
	argv[argc++] = client_render_opt_o;
	argv[argc++] = pattern;
	argv[argc++] = client_render_opt_f;
	argv[argc++] = list;
	argv[argc] = NULL;

	rc = client_render_run(c, r, argv, -1, cause);
	if (rc == 0)
		log_info(ngettext("rendering frame %s of %s (pid %ld)",
		    "rendering frames %s of %s (pid %ld)", n), list,
		    frames[0]->blend, (long)r->pid);
	free(blend);
	free(pattern);
	free(list);
	if (rc != 0) {
		client_render_discard(r);
		return -1;
	}

	client_render_arm(r);
	r->frames = xreallocarray(NULL, n, sizeof *r->frames);
	for (i = 0; i < n; i++) {
		r->frames[i] = frames[i];
		frames[i]->state = CLIENT_FRAME_RENDERING;
		frames[i]->render = r;
	}
	r->nframes = r->started = n;
	/* Blender renders the frames in the order of the list. */
	client_frame_started(c, frames[0]);
	return 0;
}

/*
 * Kill every run's process group and reap it, for a client that is
 * exiting: no Blender outlives its client. Their frames are dropped.
 */
void
client_render_kill_all(struct client *c)
{
	struct client_render	*r;
	struct client_frame	*f;

	while ((r = TAILQ_FIRST(&c->renders)) != NULL) {
		kill(-r->pid, SIGKILL);
		if (!r->exited)
			waitpid(r->pid, NULL, 0);
		while (r->nframes > 0) {
			f = r->frames[0];
			client_render_remove(r, f);
			client_frame_drop(c, f, NULL);
		}
		client_render_free(r);
	}
}

/*
 * A frame leaves its run, for the server no longer wants it: whatever
 * Blender makes of it is ignored, and a run left with nothing to render
 * is killed.
 */
void
client_render_cancel(struct client_frame *f)
{
	struct client_render	*r = f->render;

	if (r->saved == f)
		r->saved = NULL;
	client_render_remove(r, f);
	if (r->nframes == 0 && !r->exited)
		kill(-r->pid, SIGKILL);
}

/* Read the version probe's output: its banner says the version. */
static void
client_render_probe_read(struct bufferevent *bev, void *arg)
{
	struct client_probe	*p = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct blender_line	 bl;
	char			*line;
	size_t			 len;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) != NULL) {
		blender_output_parse(line, &bl);
		if (bl.type == BLENDER_LINE_VERSION)
			client_blender_version(p->client, bl.version);
		free(line);
	}
	if (evbuffer_get_length(in) > CLIENT_RENDER_MAX_LINE)
		evbuffer_drain(in, evbuffer_get_length(in));
}

/* The version probe closed its output. */
static void
client_render_probe_event(struct bufferevent *bev, short what, void *arg)
{
	struct client_probe	*p = arg;

	client_render_probe_read(bev, p);
	bufferevent_disable(bev, EV_READ);
	p->eof = 1;
	if (p->exited)
		client_render_probe_kill(p->client);
}

/* The version probe took too long: give up on it. */
static void
client_render_probe_timeout(evutil_socket_t fd, short events, void *arg)
{
	struct client_probe	*p = arg;

	log_debug("blender --version did not finish in %d s",
	    CLIENT_RENDER_PROBE_TIME);
	client_render_probe_kill(p->client);
}

/*
 * Ask Blender for its version (blender --version) in a child on the loop,
 * for the facts a bdfarm server is told. Until it answers, the version is
 * unknown; the first render's banner may tell it too.
 */
void
client_render_probe(struct client *c)
{
	struct client_probe	*p;
	struct timeval		 tv = { CLIENT_RENDER_PROBE_TIME, 0 };
	char			*argv[3], *cause = NULL;

	p = xcalloc(1, sizeof *p);
	p->client = c;
	argv[0] = c->settings->blender;
	argv[1] = client_render_opt_version;
	argv[2] = NULL;
	if ((p->output = client_render_spawn(c, argv, NULL, -1, &p->pid,
	    &cause)) == NULL) {
		log_debug("cannot ask Blender for its version: %s", cause);
		free(cause);
		free(p);
		return;
	}
	bufferevent_setcb(p->output, client_render_probe_read, NULL,
	    client_render_probe_event, p);
	bufferevent_enable(p->output, EV_READ);
	p->timer = evtimer_new(c->base, client_render_probe_timeout, p);
	evtimer_add(p->timer, &tv);
	c->probe = p;
}

/*
 * End the version probe: kill and reap its child if it still runs, and
 * let the client go on with what it learnt (FACTS waits for it).
 */
void
client_render_probe_kill(struct client *c)
{
	struct client_probe	*p = c->probe;

	if (p == NULL)
		return;
	c->probe = NULL;
	kill(-p->pid, SIGKILL);
	if (!p->exited)
		waitpid(p->pid, NULL, 0);
	bufferevent_free(p->output);
	event_free(p->timer);
	free(p);
	if (c->blender_version == NULL)
		log_debug("Blender did not say which version it is");
	client_wake(c);
}
