/*
 * server-hook.c: the on_job_done program, run once each time a job's
 * frames are all done or set aside. It starts only once the checkpoint
 * that records the completion is written and its journal done, so that
 * every frame is in place and a server that dies meanwhile renders the
 * last frames again rather than forgetting them. It runs without a shell,
 * in the job's render folder, in a process group of its own, with the
 * job's facts in its environment; its output goes to the job's log
 * through a pipe read on the loop. It is finished only when both its exit
 * status (SIGCHLD) and the end of its output have been seen; at its time
 * limit its group gets SIGTERM, and SIGKILL a few seconds later. A few
 * run at once; the others wait their turn.
 */
#include "bdfarm.h"
#include "server.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "joblog.h"
#include "log.h"
#include "settings.h"
#include "xmalloc.h"

#define SERVER_HOOK_RUNNING	4	/* programs running at once */
#define SERVER_HOOK_GRACE	5	/* s from SIGTERM to SIGKILL */
#define SERVER_HOOK_LINES	1000	/* output lines kept in the job log */
#define SERVER_HOOK_BYTES	(64 * 1024)	/* output bytes kept */
#define SERVER_HOOK_LINE	4096	/* longer lines are cut */
#define SERVER_HOOK_NAME	"on_job_done"

extern char **environ;

enum server_hook_state {
	SERVER_HOOK_COMMITTING,	/* until the checkpoint records the job */
	SERVER_HOOK_QUEUED,	/* waiting for a free place */
	SERVER_HOOK_STARTED
};

/* One run of the program for one completed job. */
struct server_hook {
	struct server		*server;
	enum server_hook_state	 state;
	char			*job;		/* the job file's name */
	char			**argv;
	char			**env;		/* environ and the job's facts */
	char			*folder;	/* where it runs */
	int			 timeout;

	pid_t			 pid;
	struct bufferevent	*output;
	struct event		*timer;
	int			 stopping;	/* 1 after SIGTERM, 2 SIGKILL */
	int			 exited;
	int			 eof;
	int			 status;
	size_t			 lines;		/* output lines logged */
	size_t			 bytes;
	int			 dropped;	/* output over the caps */

	TAILQ_ENTRY(server_hook) entry;
};

/* Add NAME=value to a NULL-terminated environment of n entries. */
static char **
server_hook_setenv(char **env, size_t *n, const char *name, const char *fmt,
    ...)
{
	char	*value, *entry;
	va_list	 ap;

	va_start(ap, fmt);
	xvasprintf(&value, fmt, ap);
	va_end(ap);
	xasprintf(&entry, "%s=%s", name, value);
	free(value);
	env = xreallocarray(env, *n + 2, sizeof *env);
	env[(*n)++] = entry;
	env[*n] = NULL;
	return env;
}

/*
 * The job's facts, then the server's environment but for the variables
 * the facts set.
 */
static char **
server_hook_env(struct job *job, const char *folder)
{
	char	**env, **e;
	size_t	  n = 0, facts, i, len;

	env = xcalloc(1, sizeof *env);
	env = server_hook_setenv(env, &n, "BDFARM_JOB", "%s", job->name);
	env = server_hook_setenv(env, &n, "BDFARM_JOB_FOLDER", "%s", folder);
	env = server_hook_setenv(env, &n, "BDFARM_BLEND", "%s",
	    job->blend_path);
	env = server_hook_setenv(env, &n, "BDFARM_FIRST", "%ld", job->first);
	env = server_hook_setenv(env, &n, "BDFARM_LAST", "%ld", job->last);
	env = server_hook_setenv(env, &n, "BDFARM_FRAMES", "%zu",
	    job->nframes);
	env = server_hook_setenv(env, &n, "BDFARM_FAILED", "%zu",
	    job->nfailed);
	facts = n;
	for (e = environ; *e != NULL; e++) {
		len = strcspn(*e, "=");
		for (i = 0; i < facts; i++) {
			if (strncmp(env[i], *e, len + 1) == 0)
				break;
		}
		if (i < facts)
			continue;
		env = xreallocarray(env, n + 2, sizeof *env);
		env[n++] = xstrdup(*e);
		env[n] = NULL;
	}
	return env;
}

/* Release a hook that is not running, or no longer. */
static void
server_hook_free(struct server_hook *h)
{
	struct server	*s = h->server;

	TAILQ_REMOVE(&s->hooks, h, entry);
	if (h->state == SERVER_HOOK_STARTED)
		s->hooks_running--;
	if (h->output != NULL)
		bufferevent_free(h->output);
	if (h->timer != NULL)
		event_free(h->timer);
	xfreestrings(h->argv);
	xfreestrings(h->env);
	free(h->folder);
	free(h->job);
	free(h);
}

/* Start the queued programs that have a place, at the end of this turn. */
static void
server_hook_schedule(struct server *s)
{
	const struct timeval	zero = { 0, 0 };

	if (s->hooks_ev != NULL && !evtimer_pending(s->hooks_ev, NULL))
		evtimer_add(s->hooks_ev, &zero);
}

/*
 * A job's frames are all done or set aside: run the program, if one is
 * set, once the checkpoint records it. What it is told is taken now.
 */
void
server_hook_job_complete(struct server *s, struct job *job)
{
	struct server_hook	*h;
	char			**argv = s->settings->on_job_done, *dir;
	size_t			 n;

	if (argv == NULL)
		return;
	h = xcalloc(1, sizeof *h);
	h->server = s;
	h->state = SERVER_HOOK_COMMITTING;
	h->job = xstrdup(job->name);
	for (n = 0; argv[n] != NULL; n++)
		;
	h->argv = xcalloc(n + 1, sizeof *h->argv);
	for (n = 0; argv[n] != NULL; n++)
		h->argv[n] = xstrdup(argv[n]);
	h->timeout = s->settings->on_job_done_timeout;
	if ((dir = realpath(s->options->renderdir, NULL)) == NULL)
		dir = xstrdup(s->options->renderdir);
	xasprintf(&h->folder, "%s/%s", dir, job->name);
	free(dir);
	h->env = server_hook_env(job, h->folder);
	h->pid = -1;
	TAILQ_INSERT_TAIL(&s->hooks, h, entry);
}

/* Whether the commit journal still holds something of job. */
static int
server_hook_journal_has(struct server *s, const char *job)
{
	const struct state_journal	*j = &s->journal;
	size_t				 i, len = strlen(job);

	for (i = 0; i < j->nrenames; i++) {
		if (strncmp(j->renames[i].to, job, len) == 0 &&
		    j->renames[i].to[len] == '/')
			return 1;
	}
	for (i = 0; i < j->nlines; i++) {
		if (strcmp(j->lines[i].job, job) == 0)
			return 1;
	}
	return 0;
}

/*
 * The checkpoint has been written and its journal done: the programs of
 * the jobs it completed, with nothing of theirs left to do, may start.
 */
void
server_hook_committed(struct server *s)
{
	struct server_hook	*h;
	int			 ready = 0;

	TAILQ_FOREACH(h, &s->hooks, entry) {
		if (h->state == SERVER_HOOK_COMMITTING &&
		    !server_hook_journal_has(s, h->job))
			h->state = SERVER_HOOK_QUEUED;
		if (h->state == SERVER_HOOK_QUEUED)
			ready = 1;
	}
	if (ready)
		server_hook_schedule(s);
}

/* The hook has both exited and closed its output: say how it ended. */
static void
server_hook_finish(struct server_hook *h)
{
	struct server	*s = h->server;
	const char	*dir = s->options->jobdir;
	int		 status = h->status;

	if (WIFSIGNALED(status)) {
		joblog_write(dir, h->job, SERVER_HOOK_NAME " killed by signal "
		    "%d", WTERMSIG(status));
		log_warnx(_("%s: %s killed by signal %d"), h->job,
		    SERVER_HOOK_NAME, WTERMSIG(status));
	} else if (WEXITSTATUS(status) == 0) {
		joblog_write(dir, h->job, SERVER_HOOK_NAME " exited with 0");
		log_info(_("%s: %s exited with 0"), h->job, SERVER_HOOK_NAME);
	} else {
		joblog_write(dir, h->job, SERVER_HOOK_NAME " exited with "
		    "status %d", WEXITSTATUS(status));
		log_warnx(_("%s: %s exited with status %d"), h->job,
		    SERVER_HOOK_NAME, WEXITSTATUS(status));
	}
	server_hook_free(h);
	server_hook_schedule(s);
}

/* Put one line of the hook's output in the job log, within the caps. */
static void
server_hook_line(struct server_hook *h, const char *line, size_t len)
{
	const char	*dir = h->server->options->jobdir;

	if (h->dropped)
		return;
	if (h->lines >= SERVER_HOOK_LINES ||
	    h->bytes + len > SERVER_HOOK_BYTES) {
		joblog_write(dir, h->job, SERVER_HOOK_NAME ": (the rest of "
		    "its output is not logged)");
		h->dropped = 1;
		return;
	}
	h->lines++;
	h->bytes += len;
	joblog_write(dir, h->job, SERVER_HOOK_NAME ": %.*s", (int)len, line);
}

/* Read whatever lines the hook has written; a line too long is cut. */
static void
server_hook_read(struct bufferevent *bev, void *arg)
{
	struct server_hook	*h = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			*line, *cr;
	size_t			 len;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		if ((cr = memchr(line, '\r', len)) != NULL)
			len = (size_t)(cr - line);
		server_hook_line(h, line, len < SERVER_HOOK_LINE ? len :
		    SERVER_HOOK_LINE);
		free(line);
	}
	if ((len = evbuffer_get_length(in)) > SERVER_HOOK_LINE) {
		line = (char *)evbuffer_pullup(in, SERVER_HOOK_LINE);
		server_hook_line(h, line, SERVER_HOOK_LINE);
		evbuffer_drain(in, len);
	}
}

/* The hook closed its output, or reading it failed. */
static void
server_hook_event(struct bufferevent *bev, short what, void *arg)
{
	struct server_hook	*h = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	size_t			 len;

	server_hook_read(bev, h);
	if ((len = evbuffer_get_length(in)) > 0)
		server_hook_line(h, (char *)evbuffer_pullup(in, -1), len);
	bufferevent_free(h->output);
	h->output = NULL;
	h->eof = 1;
	if (h->exited)
		server_hook_finish(h);
}

/*
 * The time limit: SIGTERM to the hook's group, then SIGKILL. After that,
 * its output is no longer waited for: a process that left the group may
 * hold it open.
 */
static void
server_hook_timeout(evutil_socket_t fd, short events, void *arg)
{
	struct server_hook	*h = arg;
	const struct timeval	 grace = { SERVER_HOOK_GRACE, 0 };

	if (h->stopping == 0) {
		joblog_write(h->server->options->jobdir, h->job,
		    SERVER_HOOK_NAME " stopped: it ran longer than %d s",
		    h->timeout);
		log_warnx(_("%s: %s stopped: it ran longer than %d s"), h->job,
		    SERVER_HOOK_NAME, h->timeout);
		h->stopping = 1;
		kill(-h->pid, SIGTERM);
		evtimer_add(h->timer, &grace);
		return;
	}
	h->stopping = 2;
	kill(-h->pid, SIGKILL);
	if (h->output != NULL) {
		bufferevent_free(h->output);
		h->output = NULL;
	}
	h->eof = 1;
	if (h->exited)
		server_hook_finish(h);
}

/* The program's path: as it is if it has a slash, else found in PATH. */
static char *
server_hook_program(const char *name, char **cause)
{
	const char	*path = getenv("PATH"), *p, *end;
	char		*full;

	if (strchr(name, '/') != NULL) {
		if (access(name, X_OK) == 0)
			return xstrdup(name);
		xasprintf(cause, "%s: %s", name, strerror(errno));
		return NULL;
	}
	if (path == NULL || *path == '\0')
		path = "/usr/bin:/bin";
	for (p = path; *p != '\0'; p = *end == '\0' ? end : end + 1) {
		end = p + strcspn(p, ":");
		if (end == p)
			continue;
		xasprintf(&full, "%.*s/%s", (int)(end - p), p, name);
		if (access(full, X_OK) == 0)
			return full;
		free(full);
	}
	xasprintf(cause, _("%s: not found in PATH"), name);
	return NULL;
}

/*
 * In the child: become the hook, or say why not and exit 127. Only calls
 * safe after a fork in a process with threads: the console has some.
 */
BDFARM_DEAD static void
server_hook_child(struct server_hook *h, const char *program, int out)
{
	static const char	 nodir[] = "cannot enter the job's folder\n";
	static const char	 noexec[] = "cannot run the program\n";

	child_setup(out);
	if (chdir(h->folder) != 0) {
		(void)!write(STDERR_FILENO, nodir, sizeof nodir - 1);
		_exit(127);
	}
	execve(program, h->argv, h->env);
	(void)!write(STDERR_FILENO, noexec, sizeof noexec - 1);
	_exit(127);
}

/*
 * Start the hook in its job's render folder (made if missing, as when
 * every frame was set aside), its output on a pipe; -1 with *cause.
 */
static int
server_hook_spawn(struct server_hook *h, char **cause)
{
	struct server		*s = h->server;
	struct timeval		 limit = { h->timeout, 0 };
	char			*program;
	int			 fds[2];

	if ((program = server_hook_program(h->argv[0], cause)) == NULL)
		return -1;
	if (mkdir(h->folder, 0755) == -1 && errno != EEXIST) {
		xasprintf(cause, "%s: %s", h->folder, strerror(errno));
		goto fail;
	}
	if (pipe2(fds, O_CLOEXEC) == -1) {
		xasprintf(cause, _("cannot make a pipe: %s"), strerror(errno));
		goto fail;
	}
	if ((h->pid = fork()) == -1) {
		xasprintf(cause, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		goto fail;
	}
	if (h->pid == 0)
		server_hook_child(h, program, fds[1]);
	setpgid(h->pid, h->pid);
	close(fds[1]);
	free(program);
	evutil_make_socket_nonblocking(fds[0]);
	h->output = bufferevent_socket_new(s->base, fds[0],
	    BEV_OPT_CLOSE_ON_FREE);
	if (h->output == NULL)
		fatalx("cannot create a pipe buffer");
	bufferevent_setcb(h->output, server_hook_read, NULL, server_hook_event,
	    h);
	bufferevent_enable(h->output, EV_READ);
	h->timer = evtimer_new(s->base, server_hook_timeout, h);
	evtimer_add(h->timer, &limit);
	return 0;

fail:
	free(program);
	return -1;
}

/* Start the queued hooks, oldest first, while there is a place. */
static void
server_hook_start(evutil_socket_t fd, short events, void *arg)
{
	struct server		*s = arg;
	struct server_hook	*h, *next;
	char			*cause = NULL;

	TAILQ_FOREACH_SAFE(h, &s->hooks, entry, next) {
		if (s->hooks_running >= SERVER_HOOK_RUNNING)
			break;
		if (h->state != SERVER_HOOK_QUEUED)
			continue;
		h->state = SERVER_HOOK_STARTED;
		s->hooks_running++;
		if (server_hook_spawn(h, &cause) == 0) {
			log_info(_("%s: running %s"), h->job, h->argv[0]);
			continue;
		}
		joblog_write(s->options->jobdir, h->job, SERVER_HOOK_NAME
		    " not run: %s", cause);
		log_warnx(_("%s: %s not run: %s"), h->job, SERVER_HOOK_NAME,
		    cause);
		free(cause);
		cause = NULL;
		server_hook_free(h);
	}
}

/*
 * SIGCHLD: reap the children that have exited; only hooks are children.
 * A hook finished, the rest wait for the next turn of the loop, which
 * comes at once: the list it was in has changed.
 */
static void
server_hook_reap(evutil_socket_t sig, short events, void *arg)
{
	struct server		*s = arg;
	struct server_hook	*h;
	pid_t			 pid;
	int			 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		TAILQ_FOREACH(h, &s->hooks, entry) {
			if (h->state == SERVER_HOOK_STARTED && h->pid == pid)
				break;
		}
		if (h == NULL || h->exited)
			continue;
		h->exited = 1;
		h->status = status;
		if (h->eof) {
			server_hook_finish(h);
			event_active(s->child_ev, EV_SIGNAL, 1);
			return;
		}
	}
}

/* Make the hooks' events: their start and SIGCHLD. */
void
server_hook_init(struct server *s)
{
	TAILQ_INIT(&s->hooks);
	s->hooks_ev = evtimer_new(s->base, server_hook_start, s);
	s->child_ev = evsignal_new(s->base, SIGCHLD, server_hook_reap, s);
	if (s->hooks_ev == NULL || s->child_ev == NULL ||
	    event_add(s->child_ev, NULL) != 0)
		fatalx("cannot watch child processes");
}

/*
 * The server exits or re-executes itself: running hooks are told to stop
 * (SIGTERM to their group) and not waited for; the others will not run.
 * A job completed before is not completed again at the next start, so
 * the job log says what became of each.
 */
void
server_hook_stop_all(struct server *s)
{
	struct server_hook	*h, *next;
	const char		*dir = s->options->jobdir;

	TAILQ_FOREACH_SAFE(h, &s->hooks, entry, next) {
		if (h->state == SERVER_HOOK_STARTED) {
			kill(-h->pid, SIGTERM);
			joblog_write(dir, h->job, SERVER_HOOK_NAME " stopped: "
			    "the server is exiting");
			log_warnx(_("%s: %s stopped: the server is exiting"),
			    h->job, SERVER_HOOK_NAME);
		} else {
			joblog_write(dir, h->job, SERVER_HOOK_NAME " not run: "
			    "the server is exiting");
			log_warnx(_("%s: %s not run: the server is exiting"),
			    h->job, SERVER_HOOK_NAME);
		}
		server_hook_free(h);
	}
}

/* Stop the hooks and release their events. */
void
server_hook_free_all(struct server *s)
{
	server_hook_stop_all(s);
	if (s->hooks_ev != NULL)
		event_free(s->hooks_ev);
	if (s->child_ev != NULL)
		event_free(s->child_ev);
	s->hooks_ev = s->child_ev = NULL;
}
