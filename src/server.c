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
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bdfarm.h"
#include "clock.h"
#include "console.h"
#include "fileio.h"
#include "jobdir.h"
#include "joblog.h"
#include "log.h"
#include "netrange.h"
#include "selfexe.h"
#include "settings.h"
#include "state.h"
#include "xmalloc.h"

#define SERVER_ACCEPT_PAUSE	1	/* s without accepting, out of fds */
#define SERVER_OWN_FDS		64	/* descriptors not counted for peers */
#define SERVER_MAX_PEERS	100000	/* the most max_peers may be set to */

/* How far back the farm's rate looks, in milliseconds. */
#define SERVER_RATE_WINDOW	(5 * 60 * 1000)

/* Measure the rate and tell the consoles that what they show has changed. */
void
server_changed(struct server *s)
{
	eta_rate_sample(&s->rate, clock_mono_ms(),
	    eta_farm_received(&s->farm));
	console_changed(s);
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
	if (job->backups > 0)
		server_commit_joblog(s, job->name, "rendering complete; frames "
		    "per host: %s; backup copies handed out: %u", counts,
		    job->backups);
	else
		server_commit_joblog(s, job->name,
		    "rendering complete; frames per host: %s", counts);
	log_info(_("%s: rendering complete (%s)"), job->name, counts);
	free(counts);
}

/*
 * An event too frequent for the log but worth a line in the consoles'
 * list of latest events (frames out and in).
 */
static void BDFARM_PRINTF(2, 3)
server_view_event(struct server *s, const char *fmt, ...)
{
	char	*line;
	va_list	 ap;

	va_start(ap, fmt);
	xvasprintf(&line, fmt, ap);
	va_end(ap);
	server_log_event(s, line);
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
		server_hook_job_complete(s, job);
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
	case FARM_FRAME_BACKUP:
		joblog_write(dir, job->name, "frame %ld handed out to %s as "
		    "a backup copy of the one on %s", frame, host, detail);
		server_view_event(s, _("%s: frame %ld to %s as a backup copy"),
		    job->name, frame, host);
		break;
	case FARM_FRAME_CANCELLED:
		server_cancel(s, job, frame, host);
		break;
	case FARM_FRAME_DONE:
		server_commit_joblog(s, job->name, "frame %ld received from %s",
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

/* Tell the clients of host that it should drop a frame of job. */
void
server_cancel(struct server *s, struct job *job, long frame,
    const char *name)
{
	struct host	*host = host_find(&s->farm, name);
	struct peer	*p;

	TAILQ_FOREACH(p, &s->peers, entry) {
		if (p->host == host)
			peer_cancel(p, job, frame);
	}
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
 * Raise the soft limit on open files to the hard one, and work out how
 * many peers the descriptors allow: each may hold its socket and one
 * file (a frame or a .blend), and the server keeps some for its own.
 */
static void
server_raise_fd_limit(struct server *s)
{
	struct rlimit	rl;
	rlim_t		limit = 1024, peers;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		limit = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (limit != rl.rlim_max &&
		    setrlimit(RLIMIT_NOFILE, &rl) == 0)
			limit = rl.rlim_max;
	}
	if (limit == RLIM_INFINITY ||
	    limit >= SERVER_OWN_FDS + 2 * (rlim_t)SERVER_MAX_PEERS)
		peers = SERVER_MAX_PEERS;
	else if (limit < SERVER_OWN_FDS + 2)
		peers = 1;
	else
		peers = (limit - SERVER_OWN_FDS) / 2;
	s->auto_max_peers = (int)peers;
}

/* How many peers may be connected at once: max_peers, if it is set. */
int
server_max_peers(struct server *s)
{
	if (s->settings->max_peers > 0)
		return s->settings->max_peers;
	return s->auto_max_peers;
}

/* A connection has come in on one of the listeners. */
static void
server_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *addr, int len, void *arg)
{
	struct server	*s = arg;

	if (s->accept_paused) {
		log_info(_("accepting connections again"));
		s->accept_paused = 0;
	}
	peer_accept(s, fd, addr, len);
}

/* The pause is over: listen again. */
static void
server_accept_resume(evutil_socket_t fd, short events, void *arg)
{
	struct server	*s = arg;
	int		 i;

	for (i = 0; i < s->nlisteners; i++)
		evconnlistener_enable(s->listeners[i]);
}

/*
 * A connection could not be accepted, out of descriptors most likely. It
 * waits in the queue, so accepting again at once would fail again at once:
 * stop listening for a second instead, and log once until it works.
 */
static void
server_accept_error(struct evconnlistener *l, void *arg)
{
	struct server		*s = arg;
	const struct timeval	 pause = { SERVER_ACCEPT_PAUSE, 0 };
	int			 error = EVUTIL_SOCKET_ERROR(), i;

	if (!s->accept_paused)
		log_warnx(_("cannot accept a connection: %s; trying again "
		    "every second"), strerror(error));
	s->accept_paused = 1;
	for (i = 0; i < s->nlisteners; i++)
		evconnlistener_disable(s->listeners[i]);
	evtimer_add(s->accept_ev, &pause);
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

/* Give the model the delays and limits the settings say. */
static void
server_set_delays(struct server *s)
{
	s->farm.max_held = (unsigned)s->settings->max_frames_held;
	s->farm.redistribute_delay =
	    (farm_time)s->settings->redistribute_delay * 1000;
	s->farm.client_timeout = (farm_time)s->settings->client_timeout * 1000;
	sched_changed(&s->farm);
}

/* SIGHUP: read the configuration again and rescan the job folder. */
static void
server_signal_reload(evutil_socket_t sig, short events, void *arg)
{
	struct server	*s = arg;
	struct settings	 fresh;
	char		*cause = NULL;
	char		*path = NULL;

	/*
	 * A hang-up of the console's terminal, not a request to reload,
	 * even when the console has already seen the terminal go.
	 */
	if (s->console != NULL && tcgetpgrp(STDIN_FILENO) == -1) {
		console_hangup(s);
		return;
	}
	if (s->hung_up != 0 && clock_mono_ms() - s->hung_up < 5000)
		return;

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
		free(s->plain_allow);
		if (netrange_parse(s->settings->plain_allow, &s->plain_allow,
		    &s->nplain_allow, &cause) != 0)
			fatalx("plain_allow: %s", cause);
		server_set_delays(s);
		jobdir_set_intervals(s->jobdir, s->settings);
		log_info(_("settings read again from %s"),
		    path != NULL ? path : _("built-in defaults"));
	}
	free(path);
	jobdir_scan(s->jobdir);
}

/*
 * Forget the hosts not heard from for forget_hosts seconds that hold
 * nothing, looking every minute, or as often as forget_hosts if shorter:
 * the look walks every host, job failure and frame out.
 */
static void
server_forget_hosts(struct server *s, farm_time now)
{
	farm_time	after = (farm_time)s->settings->forget_hosts * 1000;
	size_t		n;

	if (after == 0 || now < s->next_forget)
		return;
	s->next_forget = now + (after < 60000 ? after : 60000);
	if ((n = host_forget(&s->farm, now, after)) == 0)
		return;
	log_info(ngettext("forgot %zu host not heard from for %d s",
	    "forgot %zu hosts not heard from for %d s", n), n,
	    s->settings->forget_hosts);
	server_changed(s);
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
		server_hook_stop_all(s);
		console_suspend(s);
		for (i = 0; i < s->nlisteners; i++)
			fds[i] = evconnlistener_get_fd(s->listeners[i]);
		selfexe_exec(s->selfexe, s->options->argv, fds, s->nlisteners);
		console_resume(s);
	}
	sched_expire_hosts(&s->farm, clock_mono_ms());
	server_forget_hosts(s, clock_mono_ms());
	server_keys_refresh(s);
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
		state_to_clock(st, clock_wall_ms() - clock_mono_ms());
		server_commit_recover(s, &st->journal);
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

	memset(&s, 0, sizeof s);
	s.settings = settings;
	s.options = o;
	s.reserve_fd = -1;
	s.attach_fd = -1;
	TAILQ_INIT(&s.peers);
	TAILQ_INIT(&s.consoles);
	TAILQ_INIT(&s.attaches);
	if (fileio_check_dir(o->jobdir, &cause) != 0 ||
	    fileio_check_dir(o->renderdir, &cause) != 0 ||
	    (s.selfexe = selfexe_open(&cause)) == NULL) {
		fprintf(stderr, "%s: %s\n", PACKAGE, cause);
		free(cause);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Over a file size limit, a write fails with EFBIG, as on a full disk. */
	signal(SIGXFSZ, SIG_IGN);
	server_raise_fd_limit(&s);
	server_commit_reserve_fd(&s);
	if ((s.base = event_base_new()) == NULL)
		fatalx("cannot start the event loop");
	if (server_listen(&s, &cause) != 0) {
		fprintf(stderr, "%s: %s\n", PACKAGE, cause);
		free(cause);
		for (i = 0; i < (size_t)s.nlisteners; i++)
			evconnlistener_free(s.listeners[i]);
		event_base_free(s.base);
		selfexe_close(s.selfexe);
		if (s.reserve_fd != -1)
			close(s.reserve_fd);
		return 1;
	}
	eta_rate_init(&s.rate, SERVER_RATE_WINDOW);
	server_log_init(&s);
	xasprintf(&s.listen_desc, "%s:%s", *settings->listen == '\0' ? "*" :
	    settings->listen, o->port);
	xasprintf(&s.state_path, "%s/%s", o->jobdir, STATE_FILE);
	server_keys_open(&s);
	farm_init(&s.farm, (farm_time)settings->redistribute_delay * 1000,
	    server_farm_event, &s);
	s.farm.started = clock_mono_ms();
	server_set_delays(&s);
	server_load_state(&s, &saved);

	server_commit_init(&s);
	server_hook_init(&s);
	s.accept_ev = evtimer_new(s.base, server_accept_resume, &s);
	s.wake_ev = evtimer_new(s.base, server_wake_timer, &s);
	s.tick_ev = event_new(s.base, -1, EV_PERSIST, server_tick, &s);
	event_add(s.tick_ev, &second);
	for (i = 0; i < nitems(sigs); i++) {
		s.signal_evs[i] = evsignal_new(s.base, sigs[i],
		    sigs[i] == SIGHUP ? server_signal_reload :
		    sigs[i] == SIGUSR1 ? server_signal_stop_clients :
		    server_signal_quit, &s);
		event_add(s.signal_evs[i], NULL);
	}

	if (!o->headless && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) &&
	    console_start(&s, &cause) != 0) {
		fprintf(stderr, "%s: %s\n", PACKAGE, cause);
		free(cause);
	}
	log_info(_("listening on %s; jobs in %s, frames to %s"),
	    s.listen_desc, o->jobdir, o->renderdir);
	server_attach_open(&s);
	s.jobdir = jobdir_open(s.base, &s.farm, o->jobdir, o->renderdir,
	    &saved, settings);
	server_save_state(&s);

	event_base_dispatch(s.base);

	server_attach_close(&s);
	console_stop(&s);
	/* Frames out stay out, as after a crash: their clients come back. */
	s.quitting = 1;
	while (!TAILQ_EMPTY(&s.peers))
		peer_free(TAILQ_FIRST(&s.peers));
	server_address_free(&s);
	server_save_state(&s);
	server_hook_free_all(&s);
	jobdir_close(s.jobdir);
	state_free(&saved);
	farm_free(&s.farm);
	for (i = 0; i < nitems(sigs); i++)
		event_free(s.signal_evs[i]);
	for (i = 0; i < (size_t)s.nlisteners; i++)
		evconnlistener_free(s.listeners[i]);
	event_free(s.accept_ev);
	event_free(s.wake_ev);
	server_commit_free(&s);
	event_free(s.tick_ev);
	event_base_free(s.base);
	selfexe_close(s.selfexe);
	server_keys_close(&s);
	free(s.state_path);
	free(s.listen_desc);
	server_log_free(&s);
	return s.exit_code;
}
