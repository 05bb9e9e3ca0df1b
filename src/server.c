/*
 * server.c: the server process: start-up checks, the listeners, signals,
 * timers, the checkpoint, and the observer that turns model changes into
 * log lines, job log lines and saved state. Everything runs on one
 * libevent loop in one thread.
 */
#include "server.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bdfarm.h"
#include "console.h"
#include "fileio.h"
#include "jobdir.h"
#include "joblog.h"
#include "log.h"
#include "selfexe.h"
#include "settings.h"
#include "state.h"
#include "xmalloc.h"

/* Wall-clock time in milliseconds, the model's clock. */
farm_time
server_now(void)
{
	struct timeval	tv;

	gettimeofday(&tv, NULL);
	return (farm_time)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Tell the view (if any) that something it shows has changed. */
void
server_changed(struct server *s)
{
	if (s->view.changed != NULL)
		s->view.changed(s->view.arg);
}

/*
 * Keep a job log line until the checkpoint has been written, so that the
 * log never says a frame arrived that a crash would make the farm forget.
 */
static void BDFARM_PRINTF(3, 4)
server_defer_joblog(struct server *s, const char *job, const char *fmt, ...)
{
	struct server_logline	*l;
	va_list			 ap;

	s->pending = xreallocarray(s->pending, s->npending + 1,
	    sizeof *s->pending);
	l = &s->pending[s->npending++];
	l->job = xstrdup(job);
	va_start(ap, fmt);
	xvasprintf(&l->line, fmt, ap);
	va_end(ap);
}

/* The checkpoint is on disk: write the job log lines that waited for it. */
static void
server_flush_joblog(struct server *s)
{
	size_t	i;

	for (i = 0; i < s->npending; i++) {
		joblog_write(s->options->jobdir, s->pending[i].job, "%s",
		    s->pending[i].line);
		free(s->pending[i].job);
		free(s->pending[i].line);
	}
	free(s->pending);
	s->pending = NULL;
	s->npending = 0;
}

/* Write the checkpoint now; -1 (logged) if it could not be written. */
int
server_save_state(struct server *s)
{
	char	*text, *cause = NULL;
	size_t	 len;
	int	 rc = 0;

	if (s->jobdir != NULL && !jobdir_loaded(s->jobdir)) {
		/* Written now, it would forget the jobs not read yet. */
		server_state_dirty(s);
		return -1;
	}
	text = state_format(&s->farm, &len);
	if (fileio_write_atomic(s->state_path, text, len, &cause) != 0) {
		log_warnx("%s", cause);
		free(cause);
		rc = -1;
	} else {
		s->state_dirty = 0;
		server_flush_joblog(s);
	}
	free(text);
	return rc;
}

/* The coalescing timer has fired: save. */
static void
server_save_timer(evutil_socket_t fd, short events, void *arg)
{
	server_save_state(arg);
}

/* Note that the checkpoint is out of date; it is saved shortly. */
void
server_state_dirty(struct server *s)
{
	struct timeval	tv;
	int		ms = s->settings->state_save_delay;

	s->state_dirty = 1;
	if (evtimer_pending(s->save_ev, NULL))
		return;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(s->save_ev, &tv);
}

/* Write the rendering-complete summary to a job's log. */
static void
server_log_complete(struct server *s, struct job *job)
{
	char	*counts = xstrdup(""), *next;
	size_t	 i;

	for (i = 0; i < job->nhosts; i++) {
		xasprintf(&next, "%s%s%s: %u", counts, i == 0 ? "" : ", ",
		    job->hosts[i].name, job->hosts[i].count);
		free(counts);
		counts = next;
	}
	server_defer_joblog(s, job->name,
	    "rendering complete; frames per host: %s", counts);
	log_info(_("%s: rendering complete (%s)"), job->name, counts);
	free(counts);
}

/*
 * An event too frequent for the log but worth a line in the view's list
 * of latest events (frames out and in); headless, a debug line.
 */
static void BDFARM_PRINTF(2, 3)
server_view_event(struct server *s, const char *fmt, ...)
{
	char	*line;
	va_list	 ap;

	va_start(ap, fmt);
	xvasprintf(&line, fmt, ap);
	va_end(ap);
	if (s->view.event != NULL)
		s->view.event(s->view.arg, line);
	else
		log_debug("%s", line);
	free(line);
}

/* The model changed: log it, save it, show it. */
static void
server_farm_event(struct farm *farm, enum farm_event ev, struct job *job,
    long frame, const char *host, const char *detail, void *arg)
{
	struct server	*s = arg;
	const char	*dir = s->options->jobdir;

	switch (ev) {
	case FARM_JOB_ADDED:
		joblog_write(dir, job->name, "rendering started: %s frames "
		    "%ld to %ld", job->blend_path, job->first, job->last);
		log_info(_("%s: new job, frames %ld to %ld of %s"), job->name,
		    job->first, job->last, job->blend_path);
		break;
	case FARM_JOB_INVALID:
		log_warnx(_("%s: skipped: %s"), job->name, detail);
		break;
	case FARM_JOB_RESTARTED:
		joblog_write(dir, job->name, "rendering started over: %s",
		    detail);
		log_info(_("%s: starting over: %s"), job->name, detail);
		break;
	case FARM_JOB_REMOVED:
		log_info(_("%s: job file removed"), job->name);
		break;
	case FARM_JOB_CHANGED:
		if (detail != NULL) {
			joblog_write(dir, job->name, "%s", detail);
			log_info(_("%s: %s"), job->name, detail);
		}
		break;
	case FARM_JOB_COMPLETE:
		server_log_complete(s, job);
		break;
	case FARM_FRAME_OUT:
		joblog_write(dir, job->name, "frame %ld handed out to %s",
		    frame, host);
		server_view_event(s, _("%s: frame %ld to %s"), job->name,
		    frame, host);
		break;
	case FARM_FRAME_RESENT:
		joblog_write(dir, job->name, "frame %ld handed out again to "
		    "%s", frame, host);
		log_info(_("%s: frame %ld handed out again to %s"), job->name,
		    frame, host);
		break;
	case FARM_FRAME_DONE:
		server_defer_joblog(s, job->name, "frame %ld received from %s",
		    frame, host);
		server_view_event(s, _("%s: frame %ld from %s"), job->name,
		    frame, host);
		break;
	case FARM_FRAME_DISCARDED:
		joblog_write(dir, job->name, "frame %ld from %s discarded: %s",
		    frame, host, detail);
		log_info(_("%s: frame %ld from %s discarded: %s"), job->name,
		    frame, host, detail);
		break;
	case FARM_FRAME_RETURNED:
		joblog_write(dir, job->name, "frame %ld handed back by %s: %s",
		    frame, host, detail);
		log_info(_("%s: frame %ld handed back by %s: %s"), job->name,
		    frame, host, detail);
		break;
	case FARM_FRAME_FAILED:
		joblog_write(dir, job->name, "frame %ld failed on %s: %s",
		    frame, host, detail);
		log_info(_("%s: frame %ld failed on %s: %.200s"), job->name,
		    frame, host, detail);
		break;
	case FARM_FRAME_GAVE_UP:
		joblog_write(dir, job->name, "frame %ld failed on %d hosts; "
		    "not handed out again until asked", frame,
		    FARM_MAX_FAILURES);
		log_warnx(_("%s: frame %ld failed on %d hosts; set aside"),
		    job->name, frame, FARM_MAX_FAILURES);
		break;
	case FARM_HOST_BLOCKED:
		joblog_write(dir, job->name, "%s failed %d times; it gets no "
		    "more frames of this job", host, FARM_MAX_FAILURES);
		log_warnx(_("%s: %s failed %d times; blocked for this job"),
		    job->name, host, FARM_MAX_FAILURES);
		break;
	case FARM_HOST_LOST:
		log_info(_("%s is lost; %ld frames handed back"), host, frame);
		break;
	}
	if (ev != FARM_JOB_INVALID && ev != FARM_FRAME_DISCARDED)
		server_state_dirty(s);
	server_wake(s);
	server_changed(s);
}

/* Give waiting bdfarm clients the frames that may have become free. */
static void
server_wake_timer(evutil_socket_t fd, short events, void *arg)
{
	struct server	*s = arg;
	struct peer	*p, *next;

	TAILQ_FOREACH_SAFE(p, &s->peers, entry, next)
		peer_serve_waiting(p);
}

/*
 * Something may have made frames available: serve the waiting clients at
 * the end of this turn of the loop, once for all the changes of the turn.
 */
void
server_wake(struct server *s)
{
	const struct timeval	zero = { 0, 0 };

	if (s->wake_ev != NULL && !evtimer_pending(s->wake_ev, NULL))
		evtimer_add(s->wake_ev, &zero);
}

/*
 * Save the checkpoint, then thank every peer whose frame it records; if it
 * cannot be saved, try again in a second, keeping them waiting.
 */
static void
server_commit_timer(evutil_socket_t fd, short events, void *arg)
{
	struct server	*s = arg;
	struct peer	*p, *next;
	struct timeval	 retry = { 1, 0 };

	if (server_save_state(s) != 0) {
		/* Thanked, a client deletes its copy: not before it is safe. */
		evtimer_add(s->commit_ev, &retry);
		return;
	}
	TAILQ_FOREACH_SAFE(p, &s->peers, entry, next)
		peer_committed(p);
}

/*
 * A frame has been stored: save the checkpoint at the end of this turn of
 * the loop, once for every frame stored in the turn.
 */
void
server_commit(struct server *s)
{
	const struct timeval	zero = { 0, 0 };

	if (!evtimer_pending(s->commit_ev, NULL))
		evtimer_add(s->commit_ev, &zero);
}

/* A connection has come in on one of the listeners. */
static void
server_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *addr, int len, void *arg)
{
	peer_accept(arg, fd, addr, len);
}

/* A listener failed (out of descriptors, say): log and go on. */
static void
server_accept_error(struct evconnlistener *l, void *arg)
{
	log_warn(_("cannot accept a connection"));
}

/* Wrap a listening socket in a libevent listener. */
static void
server_add_listener(struct server *s, int fd)
{
	struct evconnlistener	*l;

	l = evconnlistener_new(s->base, server_accept, s,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (l == NULL)
		fatalx("cannot create a listener");
	evconnlistener_set_error_cb(l, server_accept_error);
	s->listeners[s->nlisteners++] = l;
}

/*
 * Bind the listening sockets: the configured address, or every IPv6 and
 * IPv4 address. Returns -1 with *cause if none could be bound.
 */
static int
server_listen(struct server *s, char **cause)
{
	struct addrinfo	 hints, *res, *ai;
	const char	*addr = s->settings->listen;
	int		 fd, on = 1, err, saved = 0, fds[SERVER_MAX_LISTENERS];
	int		 n, i;

	n = selfexe_inherited_fds(fds, SERVER_MAX_LISTENERS);
	for (i = 0; i < n; i++)
		server_add_listener(s, fds[i]);
	if (n > 0)
		return 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	err = getaddrinfo(*addr == '\0' ? NULL : addr, s->options->port,
	    &hints, &res);
	if (err != 0) {
		xasprintf(cause, _("cannot listen on %s port %s: %s"),
		    *addr == '\0' ? "*" : addr, s->options->port,
		    gai_strerror(err));
		return -1;
	}
	for (ai = res; ai != NULL && s->nlisteners < SERVER_MAX_LISTENERS;
	    ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			if (errno != EAFNOSUPPORT)
				saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			    sizeof on);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
		    listen(fd, 128) == -1) {
			saved = errno;
			close(fd);
			continue;
		}
		server_add_listener(s, fd);
	}
	freeaddrinfo(res);
	if (s->nlisteners == 0 || saved == EADDRINUSE) {
		xasprintf(cause, _("cannot listen on %s port %s: %s"),
		    *addr == '\0' ? "*" : addr, s->options->port,
		    strerror(saved != 0 ? saved : EADDRNOTAVAIL));
		return -1;
	}
	return 0;
}

/* Ask every client to stop: HELO answers STOPPING from now on. */
void
server_stop_clients(struct server *s)
{
	struct peer	*p;

	s->farm.stopping = 1;
	log_info(_("telling every client to stop"));
	TAILQ_FOREACH(p, &s->peers, entry)
		peer_notify_stopping(p);
	server_changed(s);
}

/* Save and leave the loop. */
void
server_quit(struct server *s)
{
	server_save_state(s);
	event_base_loopbreak(s->base);
}

/* SIGINT and SIGTERM: save and exit 0. */
static void
server_signal_quit(evutil_socket_t sig, short events, void *arg)
{
	log_info(_("signal %d: saving state and exiting"), (int)sig);
	server_quit(arg);
}

/* SIGUSR1: tell every client to stop, as the console's X key does. */
static void
server_signal_stop_clients(evutil_socket_t sig, short events, void *arg)
{
	server_stop_clients(arg);
}

/* SIGHUP: read the configuration again and rescan the job folder. */
static void
server_signal_reload(evutil_socket_t sig, short events, void *arg)
{
	struct server	*s = arg;
	struct settings	 fresh;
	char		*cause = NULL;
	char		*path = NULL;

	if (s->view.arg != NULL && tcgetpgrp(STDIN_FILENO) == -1) {
		log_info(_("the terminal has gone: saving state and exiting"));
		server_quit(s);
		return;
	}

	settings_defaults(&fresh);
	if (s->options->config != NULL)
		path = xstrdup(s->options->config);
	else
		path = settings_default_path();
	if (path != NULL && settings_load(&fresh, path, 1, &cause) != 0) {
		log_warnx(_("keeping the old settings: %s"), cause);
		free(cause);
		settings_free(&fresh);
	} else {
		/* The listening address cannot change without a restart. */
		free(fresh.listen);
		fresh.listen = s->settings->listen;
		s->settings->listen = NULL;
		settings_free(s->settings);
		*s->settings = fresh;
		s->farm.redistribute_delay =
		    (farm_time)s->settings->redistribute_delay * 1000;
		jobdir_set_intervals(s->jobdir, s->settings);
		log_info(_("settings read again from %s"),
		    path != NULL ? path : _("built-in defaults"));
	}
	free(path);
	jobdir_scan(s->jobdir);
}

/* Once a second: has the program been replaced? Also ticks the clocks. */
static void
server_tick(evutil_socket_t fd, short events, void *arg)
{
	struct server	*s = arg;
	int		 fds[SERVER_MAX_LISTENERS], i;

	if (selfexe_replaced(s->selfexe)) {
		log_info(_("%s has been replaced: restarting it"),
		    selfexe_path(s->selfexe));
		server_save_state(s);
		console_suspend(s);
		for (i = 0; i < s->nlisteners; i++)
			fds[i] = evconnlistener_get_fd(s->listeners[i]);
		selfexe_exec(s->selfexe, s->options->argv, fds, s->nlisteners);
		console_resume(s);
	}
	server_wake(s);
	server_changed(s);
}

/*
 * Read the checkpoint, if there is one. A file that cannot be used is
 * moved aside, and the frames already rendered will count as done.
 */
static void
server_load_state(struct server *s, struct state *st)
{
	char	*text = NULL, *cause = NULL, *aside;
	size_t	 len;

	memset(st, 0, sizeof *st);
	if (access(s->state_path, F_OK) != 0)
		return;
	if (fileio_read_small(s->state_path, (size_t)1 << 30, &text, &len,
	    &cause) == 0 && state_parse(text, len, st, &cause) == 0) {
		free(text);
		if (st->next_seq > s->farm.next_seq)
			s->farm.next_seq = st->next_seq;
		return;
	}
	xasprintf(&aside, "%s.unreadable-%lld", s->state_path,
	    (long long)time(NULL));
	log_warnx(_("the state file %s cannot be used (%s); moved it to %s "
	    "and counting the frames in the render folder as done"),
	    s->state_path, cause, aside);
	if (rename(s->state_path, aside) == -1)
		log_warn("%s", aside);
	free(aside);
	free(cause);
	free(text);
}

/* Run the server until told to stop; returns the exit code. */
int
server_main(struct settings *settings, const struct server_options *o)
{
	struct server	 s;
	struct state	 saved;
	char		*cause = NULL;
	struct timeval	 second = { 1, 0 };
	const int	 sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1 };
	size_t		 i;
	int		 console;

	memset(&s, 0, sizeof s);
	s.settings = settings;
	s.options = o;
	TAILQ_INIT(&s.peers);
	if (fileio_check_dir(o->jobdir, &cause) != 0 ||
	    fileio_check_dir(o->renderdir, &cause) != 0 ||
	    (s.selfexe = selfexe_open(&cause)) == NULL) {
		fprintf(stderr, "%s: %s\n", PACKAGE, cause);
		free(cause);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((s.base = event_base_new()) == NULL)
		fatalx("cannot start the event loop");
	if (server_listen(&s, &cause) != 0) {
		fprintf(stderr, "%s: %s\n", PACKAGE, cause);
		free(cause);
		for (i = 0; i < (size_t)s.nlisteners; i++)
			evconnlistener_free(s.listeners[i]);
		event_base_free(s.base);
		selfexe_close(s.selfexe);
		return 1;
	}
	xasprintf(&s.listen_desc, "%s:%s", *settings->listen == '\0' ? "*" :
	    settings->listen, o->port);
	xasprintf(&s.state_path, "%s/%s", o->jobdir, STATE_FILE);
	farm_init(&s.farm, (farm_time)settings->redistribute_delay * 1000,
	    server_farm_event, &s);
	server_load_state(&s, &saved);

	s.save_ev = evtimer_new(s.base, server_save_timer, &s);
	s.wake_ev = evtimer_new(s.base, server_wake_timer, &s);
	s.commit_ev = evtimer_new(s.base, server_commit_timer, &s);
	s.tick_ev = event_new(s.base, -1, EV_PERSIST, server_tick, &s);
	event_add(s.tick_ev, &second);
	for (i = 0; i < nitems(sigs); i++) {
		s.signal_evs[i] = evsignal_new(s.base, sigs[i],
		    sigs[i] == SIGHUP ? server_signal_reload :
		    sigs[i] == SIGUSR1 ? server_signal_stop_clients :
		    server_signal_quit, &s);
		event_add(s.signal_evs[i], NULL);
	}

	console = !o->headless && isatty(STDIN_FILENO) &&
	    isatty(STDOUT_FILENO);
	if (console && console_start(&s, &cause) != 0) {
		fprintf(stderr, "%s: %s\n", PACKAGE, cause);
		free(cause);
		console = 0;
	}
	log_info(_("listening on %s; jobs in %s, frames to %s"),
	    s.listen_desc, o->jobdir, o->renderdir);
	s.jobdir = jobdir_open(s.base, &s.farm, o->jobdir, o->renderdir,
	    &saved, settings);
	server_save_state(&s);

	event_base_dispatch(s.base);

	if (console)
		console_stop(&s);
	while (!TAILQ_EMPTY(&s.peers))
		peer_free(TAILQ_FIRST(&s.peers));
	server_save_state(&s);
	jobdir_close(s.jobdir);
	state_free(&saved);
	farm_free(&s.farm);
	for (i = 0; i < nitems(sigs); i++)
		event_free(s.signal_evs[i]);
	for (i = 0; i < (size_t)s.nlisteners; i++)
		evconnlistener_free(s.listeners[i]);
	event_free(s.save_ev);
	event_free(s.wake_ev);
	event_free(s.commit_ev);
	event_free(s.tick_ev);
	event_base_free(s.base);
	selfexe_close(s.selfexe);
	free(s.state_path);
	free(s.listen_desc);
	return s.exit_code;
}
