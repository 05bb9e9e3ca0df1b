/*
 * console.c: the farm's terminal consoles. The server's own console owns
 * its terminal while the server runs; an attached one draws through the
 * socket of a `bdfarm --attach`. This file lays the panes out and
 * dispatches keys. The model never calls it to draw: model changes, log
 * lines, keys and resizes only mark a screen dirty, and one timer per
 * console draws it at most ten times a second. Anything written to stderr
 * goes to the events pane and the log file instead of over the screen.
 */
#include "bdfarm.h"
#include "console.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <langinfo.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "console-pane.h"
#include "preview.h"
#include "server.h"
#include "settings.h"
#include "xmalloc.h"

/* The shortest time between two draws, in milliseconds. */
#define CONSOLE_REDRAW_MS	100

/* Wake-ups on stdin with nothing to read before it counts as closed. */
#define CONSOLE_EMPTY_READS	3

/*
 * Bytes an attached console may have waiting to go out before it skips a
 * draw: a terminal that does not keep up (a stalled link, a stopped
 * --attach) costs at most this and one draw of memory, never a wait.
 */
#define CONSOLE_BACKLOG		(256 * 1024)

/* Keys taken in one wake-up, so that a flood of them cannot hold the loop. */
#define CONSOLE_KEYS_AT_ONCE	256

/* The consoles, for the exit handler. */
static struct consoles	*console_all;
static int		 console_atexit_set;

/*
 * A screen kept for a console to come. ncurses's delscreen() frees the
 * windows of every screen, not only its own, so no screen is deleted
 * while another is in use: a closed console's screen waits here, on
 * /dev/null, for the next console on the same TERM, and all are deleted
 * once no console is left.
 */
struct console_spare {
	SCREEN			*screen;
	FILE			*in;
	FILE			*out;
	char			*term;		/* NULL: never used again */
	TAILQ_ENTRY(console_spare) entry;
};
static TAILQ_HEAD(, console_spare) console_spares =
    TAILQ_HEAD_INITIALIZER(console_spares);

static void	console_draw(struct console *);

/* Schedule a draw: now if the last one was long enough ago, else later. */
void
console_dirty(struct console *c)
{
	struct timeval	tv = { 0, 0 };
	farm_time	wait;

	c->dirty = 1;
	if (c->redraw_ev == NULL || evtimer_pending(c->redraw_ev, NULL))
		return;
	wait = c->last_draw + CONSOLE_REDRAW_MS - clock_mono_ms();
	if (wait > 0 && c->draws > 0)
		tv.tv_usec = (suseconds_t)(wait * 1000);
	evtimer_add(c->redraw_ev, &tv);
}

/* Something the consoles show has changed. */
void
console_changed(struct server *s)
{
	struct console	*c;

	TAILQ_FOREACH(c, &s->consoles, entry)
		console_dirty(c);
}

/* Show the outcome of the last key in the bottom line until the next. */
void
console_set_status(struct console *c, const char *fmt, ...)
{
	va_list	ap;

	free(c->status);
	va_start(ap, fmt);
	xvasprintf(&c->status, fmt, ap);
	va_end(ap);
	console_dirty(c);
}

/* Pass a line written to stderr on to the events pane and the log. */
static void
console_stderr_line(struct console *c, const char *line)
{
	if (*line != '\0')
		server_log_line(c->server, LOG_WARN, line);
}

/* Bytes have been written to stderr: cut them into lines. */
static void
console_stderr_read(evutil_socket_t fd, short events, void *arg)
{
	struct console	*c = arg;
	char		*nl;
	ssize_t		 n;

	for (;;) {
		n = read(fd, c->stderr_buf + c->stderr_len,
		    sizeof c->stderr_buf - 1 - c->stderr_len);
		if (n <= 0)
			break;
		c->stderr_len += (size_t)n;
		c->stderr_buf[c->stderr_len] = '\0';
		while ((nl = strchr(c->stderr_buf, '\n')) != NULL) {
			*nl = '\0';
			console_stderr_line(c, c->stderr_buf);
			c->stderr_len -= (size_t)(nl + 1 - c->stderr_buf);
			memmove(c->stderr_buf, nl + 1, c->stderr_len + 1);
		}
		if (c->stderr_len == sizeof c->stderr_buf - 1) {
			console_stderr_line(c, c->stderr_buf);
			c->stderr_len = 0;
		}
	}
}

/*
 * Point fd 2 at a pipe that the console reads, keeping the real stderr
 * for later. The pipe does not block, so a flood of output is lost
 * rather than stopping the loop. Returns -1 with *cause on failure.
 */
static int
console_capture_stderr(struct console *c, char **cause)
{
	int	fds[2];

	if (c->stderr_saved == -1 &&
	    (c->stderr_saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)) == -1)
		goto fail;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1)
		goto fail;
	fflush(stderr);
	if (dup2(fds[1], STDERR_FILENO) == -1) {
		close(fds[0]);
		close(fds[1]);
		goto fail;
	}
	close(fds[1]);
	c->stderr_pipe = fds[0];
	c->stderr_ev = event_new(c->server->base, fds[0], EV_READ | EV_PERSIST,
	    console_stderr_read, c);
	event_add(c->stderr_ev, NULL);
	return 0;
fail:
	xasprintf(cause, _("cannot redirect standard error: %s"),
	    strerror(errno));
	return -1;
}

/* Write to the real stderr, giving up on an error: there is no one to tell. */
static void
console_write_all(const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0 && (n = write(STDERR_FILENO, buf, len)) > 0) {
		buf += n;
		len -= (size_t)n;
	}
}

/* Give fd 2 back to the real stderr, with whatever the pipe still holds. */
static void
console_release_stderr(struct console *c)
{
	char	buf[512];
	ssize_t	n;

	if (c->stderr_pipe == -1)
		return;
	fflush(stderr);
	dup2(c->stderr_saved, STDERR_FILENO);
	console_write_all(c->stderr_buf, c->stderr_len);
	c->stderr_len = 0;
	while ((n = read(c->stderr_pipe, buf, sizeof buf)) > 0)
		console_write_all(buf, (size_t)n);
	event_free(c->stderr_ev);
	c->stderr_ev = NULL;
	close(c->stderr_pipe);
	c->stderr_pipe = -1;
}

/*
 * Move what curses wrote for an attached terminal (into a memory file, so
 * that a write never waits) to its socket's buffer, which goes out as the
 * socket takes it. With now, write what the socket takes at once: the
 * console is about to go.
 */
static void
console_flush(struct console *c, int now)
{
	struct evbuffer	*out;
	struct stat	 st;
	char		 buf[16384];
	off_t		 at = 0;
	ssize_t		 n;

	if (c->sock == NULL)
		return;
	fflush(c->out);
	out = bufferevent_get_output(c->sock);
	if (fstat(fileno(c->out), &st) == 0 && st.st_size > 0) {
		while (at < st.st_size &&
		    (n = pread(fileno(c->out), buf, sizeof buf, at)) > 0) {
			evbuffer_add(out, buf, (size_t)n);
			at += n;
		}
		if (ftruncate(fileno(c->out), 0) != 0)
			log_warn("console");
	}
	if (now)
		evbuffer_write(out, bufferevent_getfd(c->sock));
}

/* Give every terminal and stderr back: before an exec, or at exit. */
static void
console_leave_all(struct consoles *all)
{
	struct console	*c;

	TAILQ_FOREACH(c, all, entry) {
		if (c->active) {
			set_term(c->screen);
			endwin();
			console_flush(c, 1);
		}
		c->active = 0;
		console_release_stderr(c);
	}
}

/* At exit (fatal() included), leave every terminal usable. */
static void
console_atexit(void)
{
	if (console_all != NULL)
		console_leave_all(console_all);
}

/* The terminal is now rows by cols. */
void
console_resize(struct console *c, int rows, int cols)
{
	if (!c->active || rows <= 0 || cols <= 0)
		return;
	set_term(c->screen);
	resizeterm(rows, cols);
	clearok(curscr, TRUE);
	console_dirty(c);
}

/* The server's terminal has changed size. */
static void
console_winch(evutil_socket_t sig, short events, void *arg)
{
	struct console	*c = arg;
	struct winsize	 ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
		console_resize(c, ws.ws_row, ws.ws_col);
}

/* Frames out now, for deciding whether to ask first. */
static size_t
console_frames_out(struct console *c)
{
	size_t	done, out;

	farm_frames_total(&c->server->farm, &done, &out);
	return out;
}

/* Carry out a confirmed quit, stop or revocation. */
static void
console_do(struct console *c, enum console_ask what)
{
	switch (what) {
	case CONSOLE_ASK_QUIT:
		log_info(_("quitting from the console"));
		server_quit(c->server);
		break;
	case CONSOLE_ASK_STOP:
		server_stop_clients(c->server);
		console_set_status(c, _("every client is told to stop"));
		break;
	case CONSOLE_ASK_REVOKE:
		console_clients_revoke(c);
		break;
	case CONSOLE_ASK_AGAIN:
		console_job_again(c);
		break;
	case CONSOLE_ASK_NONE:
		break;
	}
}

/* Quit or stop now, or ask first while frames are out. */
static void
console_ask_or_do(struct console *c, enum console_ask what)
{
	if (what == CONSOLE_ASK_STOP && c->server->farm.stopping) {
		console_set_status(c, _("the clients are already told to "
		    "stop"));
		return;
	}
	if (console_frames_out(c) > 0)
		c->ask = what;
	else
		console_do(c, what);
}

/* Open the page of the selected job or client, whichever has the keys. */
static void
console_open_page(struct console *c)
{
	struct job	*job;
	struct host	*host;

	if (c->focus == CONSOLE_FOCUS_JOBS) {
		job = c->jobs.selected != NULL ? farm_find_job(&c->server->farm,
		    c->jobs.selected) : TAILQ_FIRST(&c->server->farm.jobs);
		if (job == NULL)
			return;
		free(c->jobs.selected);
		c->jobs.selected = xstrdup(job->name);
		c->page = CONSOLE_PAGE_JOB;
		free(c->page_name);
		c->page_name = xstrdup(job->name);
		console_job_open(c, job);
	} else {
		host = c->clients.selected != NULL ? host_find(&c->server->farm,
		    c->clients.selected) : TAILQ_FIRST(&c->server->farm.hosts);
		if (host == NULL)
			return;
		c->page = CONSOLE_PAGE_CLIENT;
		free(c->page_name);
		c->page_name = xstrdup(host->name);
		memset(&c->client, 0, sizeof c->client);
	}
}

/* Go back from a page to the main one. */
static void
console_close_page(struct console *c)
{
	if (c->page == CONSOLE_PAGE_JOB)
		console_job_close(c);
	c->page = CONSOLE_PAGE_MAIN;
	free(c->page_name);
	c->page_name = NULL;
}

/* A key for the page on the screen; 1 if it used it. */
static int
console_page_key(struct console *c, int key)
{
	switch (c->page) {
	case CONSOLE_PAGE_JOB:
		return console_job_key(c, key);
	case CONSOLE_PAGE_CLIENT:
		return console_client_key(c, c->page_name, key);
	case CONSOLE_PAGE_MAIN:
		break;
	}
	switch (key) {
	case '\t':
	case KEY_BTAB:
		c->focus = c->focus == CONSOLE_FOCUS_JOBS ?
		    CONSOLE_FOCUS_CLIENTS : CONSOLE_FOCUS_JOBS;
		break;
	case '\r':
	case '\n':
	case KEY_ENTER:
		console_open_page(c);
		break;
	default:
		if (console_jobs_act(c, console_jobs_current(c), key))
			return 1;
		if (c->focus == CONSOLE_FOCUS_JOBS)
			console_jobs_key(c, key);
		else
			console_clients_key(c, key);
		return 1;
	}
	console_dirty(c);
	return 1;
}

/*
 * A mouse event: a click selects a row or a frame, a double click opens
 * its page, the wheel moves the selection as the arrows do.
 */
static void
console_mouse(struct console *c)
{
	MEVENT	ev;
	int	i, key;

	if (getmouse(&ev) != OK)
		return;
	if (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
		key = (ev.bstate & BUTTON4_PRESSED) ? KEY_UP : KEY_DOWN;
		for (i = 0; i < 3; i++)
			console_page_key(c, key);
		return;
	}
	if (!(ev.bstate & (BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED |
	    BUTTON1_PRESSED)))
		return;
	if (c->page == CONSOLE_PAGE_JOB) {
		console_job_click(c, ev.y, ev.x);
		return;
	}
	if (c->page != CONSOLE_PAGE_MAIN)
		return;
	if (console_jobs_click(c, ev.y))
		c->focus = CONSOLE_FOCUS_JOBS;
	else if (console_clients_click(c, ev.y))
		c->focus = CONSOLE_FOCUS_CLIENTS;
	else
		return;
	if (ev.bstate & BUTTON1_DOUBLE_CLICKED)
		console_open_page(c);
	console_dirty(c);
}

/* Handle one key. */
static void
console_key(struct console *c, int key)
{
	enum console_ask	what = c->ask;

	if (what != CONSOLE_ASK_NONE) {
		c->ask = CONSOLE_ASK_NONE;
		if (key == 'y' || key == 'Y')
			console_do(c, what);
		else
			console_set_status(c, _("cancelled"));
		free(c->ask_key);
		c->ask_key = NULL;
		console_dirty(c);
		return;
	}
	if (c->add != NULL) {
		console_add_key(c, key);
		return;
	}
	if (key == KEY_RESIZE) {
		console_dirty(c);
		return;
	}
	if (c->help) {
		console_help_key(c, key);
		return;
	}
	free(c->status);
	c->status = NULL;
	switch (key) {
	case KEY_MOUSE:
		console_mouse(c);
		break;
	case '?':
	case KEY_F(1):
		c->help = 1;
		c->help_top = 0;
		break;
	case 3:		/* Ctrl-C, on a raw attached terminal */
		if (c->detach != NULL)
			c->detaching = 1;
		break;
	case 'q':
	case 'Q':
		if (c->detach != NULL)
			c->detaching = 1;
		else
			console_ask_or_do(c, CONSOLE_ASK_QUIT);
		break;
	case 'X':
		console_ask_or_do(c, CONSOLE_ASK_STOP);
		break;
	case 'a':
		console_add_start(c);
		break;
	case '\f':
		clearok(curscr, TRUE);
		break;
	case 27:	/* Esc */
	case KEY_BACKSPACE:
	case 127:
		if (c->page != CONSOLE_PAGE_MAIN)
			console_close_page(c);
		break;
	default:
		console_page_key(c, key);
		break;
	}
	console_dirty(c);
}

/* Keys are waiting: take all of them. */
static void
console_input(evutil_socket_t fd, short events, void *arg)
{
	struct console	*c = arg;
	int		 key, got = 0, pending = 0;

	set_term(c->screen);
	while (c->active && !c->detaching && got < CONSOLE_KEYS_AT_ONCE &&
	    (key = getch()) != ERR) {
		got++;
		console_key(c, key);
	}
	if (c->detaching) {
		c->detach(c->detach_arg);
		return;
	}
	if (got || !c->active) {
		c->empty_reads = 0;
		return;
	}
	/*
	 * Readable with nothing to read and nothing buffered, again and
	 * again: the terminal has hung up. Stop listening and drawing, or
	 * the loop would spin.
	 */
	if ((ioctl(fd, FIONREAD, &pending) == -1 || pending == 0) &&
	    ++c->empty_reads >= CONSOLE_EMPTY_READS) {
		if (c->detach != NULL)
			c->detach(c->detach_arg);
		else
			console_hangup(c->server);
	}
}

/* The footer: a question, the last key's outcome, or the keys. */
static void
console_draw_footer(struct console *c, int y)
{
	const char	*keys;
	char		*line;
	size_t		 out;
	long		 lo, hi;

	if (c->ask != CONSOLE_ASK_NONE) {
		out = console_frames_out(c);
		console_job_range(c, &lo, &hi);
		if (c->ask == CONSOLE_ASK_AGAIN)
			xasprintf(&line, _(" Render frames %ld-%ld of %s again? "
			    "Their files go to .replaced/ (y/n)"), lo, hi,
			    c->page_name);
		else if (c->ask == CONSOLE_ASK_REVOKE)
			xasprintf(&line, _(" Revoke the key %s and cut its "
			    "connections? (y/n)"), c->ask_key);
		else
			xasprintf(&line, c->ask == CONSOLE_ASK_QUIT ?
			    _(" %zu frames are out. Quit anyway? (y/n)") :
			    _(" %zu frames are out. Tell every client to "
			    "stop? (y/n)"), out);
		console_draw_text(c, y, 0, COLS, c->attrs[CONSOLE_C_PROMPT],
		    line);
		free(line);
		return;
	}
	if (c->add != NULL) {
		console_add_draw(c, y);
		return;
	}
	if (c->status != NULL) {
		xasprintf(&line, " %s", c->status);
		console_draw_text(c, y, 0, COLS, c->attrs[CONSOLE_C_NORMAL],
		    line);
		free(line);
		return;
	}
	switch (c->page) {
	case CONSOLE_PAGE_JOB:
		keys = _(" ?:help  Esc:back  arrows:frame  m:mark  R:render "
		    "again  s:suspend  +/-:priority  r:retry failed");
		break;
	case CONSOLE_PAGE_CLIENT:
		keys = _(" ?:help  Esc:back  Up/Down:scroll the frames  "
		    "K:revoke its key");
		break;
	default:
		keys = _(" ?:help  Tab:pane  Enter:open  s:suspend  "
		    "+/-:priority  X:stop clients");
		break;
	}
	xasprintf(&line, "%s%s", keys, c->page == CONSOLE_PAGE_JOB ? "" :
	    c->detach != NULL ? _("  q:detach") : _("  q:quit"));
	console_draw_text(c, y, 0, COLS, c->attrs[CONSOLE_C_DIM], line);
	free(line);
}

/*
 * Share the rows between the panes: the jobs first, then the clients,
 * the events taking what is left (at least a few rows on a tall screen).
 */
static void
console_layout(struct console *c, int body, int *jobs, int *clients,
    int *events)
{
	int	jwant = console_jobs_count(c) + 1;
	int	cwant = console_clients_count(c) + 1;
	int	evmin, avail, share;

	if (jwant < 2)
		jwant = 2;
	if (cwant < 2)
		cwant = 2;
	evmin = body >= 20 ? 6 : body >= 12 ? 3 : 0;
	avail = body - evmin;
	share = cwant < avail / 3 ? cwant : avail / 3;
	*jobs = jwant < avail - share ? jwant : avail - share;
	if (*jobs < 0)
		*jobs = 0;
	*clients = cwant < avail - *jobs ? cwant : avail - *jobs;
	if (*clients < 0)
		*clients = 0;
	*events = body - *jobs - *clients;
	if (*events < 2) {
		*jobs += *events;
		*events = 0;
	}
}

/* Draw the whole screen from the model. */
static void
console_draw(struct console *c)
{
	farm_time	now = clock_mono_ms();
	int		body, jobs, clients, events, y;

	set_term(c->screen);
	c->dirty = 0;
	c->last_draw = clock_mono_ms();
	c->draws++;
	if (!c->active)
		return;
	c->hosts = console_clients_collect(c, &c->nhosts);
	if (c->help)
		console_help_draw(c);
	else if (c->page == CONSOLE_PAGE_JOB && LINES >= 8) {
		console_job_draw(c, now);
		console_draw_footer(c, LINES - 1);
	} else if (c->page == CONSOLE_PAGE_CLIENT && LINES >= 8) {
		console_client_draw(c, c->page_name, now);
		console_draw_footer(c, LINES - 1);
	} else if (LINES < 4) {
		erase();
		console_header_draw(c, 0, now);
	} else {
		console_header_draw(c, 0, now);
		body = LINES - 3;
		console_layout(c, body, &jobs, &clients, &events);
		y = 2;
		console_jobs_draw(c, y, jobs, now);
		if (jobs > 0)
			y += jobs;
		console_clients_draw(c, y, clients, now);
		if (clients > 0)
			y += clients;
		console_events_draw(c, y, events);
		console_draw_footer(c, LINES - 1);
	}
	console_clients_release(c->hosts, c->nhosts);
	c->hosts = NULL;
	c->nhosts = 0;
	refresh();
}

/*
 * The draw timer has fired. An attached terminal that has not taken the
 * last draw yet is left alone until it has.
 */
static void
console_redraw(evutil_socket_t fd, short events, void *arg)
{
	struct console	*c = arg;
	struct timeval	 tv = { 0, CONSOLE_REDRAW_MS * 1000 };

	if (!c->dirty)
		return;
	if (c->sock != NULL && evbuffer_get_length(
	    bufferevent_get_output(c->sock)) > CONSOLE_BACKLOG) {
		evtimer_add(c->redraw_ev, &tv);
		return;
	}
	console_draw(c);
	console_flush(c, 0);
}

/* A picture for the job page has been decoded. */
static void
console_preview_ready(void *arg)
{
	console_dirty(arg);
}

/* Put a screen in the modes the console works in, and start drawing. */
static void
console_setup_screen(struct console *c)
{
	set_term(c->screen);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	leaveok(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	mousemask(BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED | BUTTON4_PRESSED |
	    BUTTON5_PRESSED, NULL);
	console_draw_init(c);
	clearok(curscr, TRUE);
	c->active = 1;
}

/* Set curses up on a terminal; -1 with *cause if it cannot be used. */
static int
console_open_terminal(struct console *c, const char *term, FILE *out,
    FILE *in, char **cause)
{
	c->screen = newterm(term, out, in);
	if (c->screen == NULL) {
		xasprintf(cause, _("cannot use the terminal (TERM=%s)"),
		    term != NULL ? term : "");
		return -1;
	}
	console_setup_screen(c);
	return 0;
}

/*
 * Take a spare screen for the attached terminal fd if one was made for
 * the same TERM: its keys are read from fd. Returns 0 if there was.
 */
static int
console_reuse_screen(struct console *c, const char *term, int fd)
{
	struct console_spare	*sp;

	TAILQ_FOREACH(sp, &console_spares, entry) {
		if (sp->term != NULL && strcmp(sp->term, term) == 0)
			break;
	}
	if (sp == NULL || dup3(fd, fileno(sp->in), O_CLOEXEC) == -1)
		return -1;
	TAILQ_REMOVE(&console_spares, sp, entry);
	c->screen = sp->screen;
	c->in = sp->in;
	c->out = sp->out;
	free(sp->term);
	free(sp);
	console_setup_screen(c);
	flushinp();
	return 0;
}

/* Delete every spare screen; only when no console is left. */
static void
console_free_spares(void)
{
	struct console_spare	*sp;

	while ((sp = TAILQ_FIRST(&console_spares)) != NULL) {
		TAILQ_REMOVE(&console_spares, sp, entry);
		delscreen(sp->screen);
		if (sp->term != NULL) {
			fclose(sp->out);
			fclose(sp->in);
		}
		free(sp->term);
		free(sp);
	}
}

/*
 * Leave a console's terminal as it was, and let go of it: the screen is
 * deleted if no other console is left, else kept spare.
 */
static void
console_release_screen(struct console *c, int others)
{
	struct console_spare	*sp;
	int			 null;

	set_term(c->screen);
	if (c->active)
		endwin();
	c->active = 0;
	console_flush(c, 1);
	if (c->sock != NULL) {
		bufferevent_free(c->sock);
		c->sock = NULL;
	}
	if (!others) {
		delscreen(c->screen);
		if (c->out != NULL) {
			fclose(c->out);
			fclose(c->in);
		}
		console_free_spares();
		return;
	}
	sp = xcalloc(1, sizeof *sp);
	sp->screen = c->screen;
	if (c->out != NULL) {
		/* The terminal's socket closes: its side sees the end. */
		shutdown(fileno(c->in), SHUT_RDWR);
		if ((null = open("/dev/null", O_RDONLY | O_CLOEXEC)) != -1) {
			dup3(null, fileno(c->in), O_CLOEXEC);
			close(null);
		}
		sp->in = c->in;
		sp->out = c->out;
		sp->term = xstrdup(c->term);
	}
	TAILQ_INSERT_TAIL(&console_spares, sp, entry);
}

/* A console for the server, not yet on a terminal. */
static struct console *
console_new(struct server *s, int utf8)
{
	struct console	*c = xcalloc(1, sizeof *c);
	const char	*codeset = nl_langinfo(CODESET);

	c->server = s;
	c->stderr_saved = c->stderr_pipe = -1;
	c->utf8 = utf8 && codeset != NULL && strcmp(codeset, "UTF-8") == 0;
	return c;
}

/* Start listening for keys and drawing, in the list of consoles. */
static void
console_run(struct console *c, int fd)
{
	struct server	*s = c->server;

	c->input_ev = event_new(s->base, fd, EV_READ | EV_PERSIST,
	    console_input, c);
	event_add(c->input_ev, NULL);
	c->redraw_ev = evtimer_new(s->base, console_redraw, c);
	c->preview = preview_new(s->base, console_preview_ready, c);
	TAILQ_INSERT_TAIL(&s->consoles, c, entry);
	console_all = &s->consoles;
	if (!console_atexit_set && atexit(console_atexit) == 0)
		console_atexit_set = 1;
	console_dirty(c);
}

/* Start the server's own console on its terminal. */
int
console_start(struct server *s, char **cause)
{
	struct console	*c = console_new(s, 1);
	int		 i;

	for (i = 0; i < 3; i++)
		c->tty[i] = isatty(i);
	/* Before curses starts, so that it leaves SIGWINCH to libevent. */
	c->winch_ev = evsignal_new(s->base, SIGWINCH, console_winch, c);
	event_add(c->winch_ev, NULL);
	if (console_open_terminal(c, NULL, stdout, stdin, cause) != 0)
		goto fail;
	if (console_capture_stderr(c, cause) != 0)
		goto fail;
	s->console = c;
	server_log_to_file(s, 1);
	console_run(c, STDIN_FILENO);
	return 0;

fail:
	if (c->active)
		endwin();
	if (c->screen != NULL)
		delscreen(c->screen);
	console_release_stderr(c);
	if (c->stderr_saved != -1)
		close(c->stderr_saved);
	event_free(c->winch_ev);
	free(c);
	return -1;
}

/* The socket of an attached terminal has failed or closed. */
static void
console_sock_event(struct bufferevent *bev, short what, void *arg)
{
	struct console	*c = arg;

	c->detach(c->detach_arg);
}

/*
 * Open a console on an attached terminal. Curses writes into a memory
 * file, and the loop copies that to the socket as the socket takes it,
 * so a terminal that does not keep up never holds the loop.
 */
struct console *
console_attach(struct server *s, const struct console_term *t, char **cause)
{
	struct console		*c = console_new(s, t->utf8);
	struct sigaction	 tstp, winch;
	int			 out_fd = -1, in_fd = -1, sock_fd = -1;

	c->detach = t->detach;
	c->detach_arg = t->arg;
	c->term = xstrdup(t->term);
	if ((sock_fd = fcntl(t->fd, F_DUPFD_CLOEXEC, 3)) == -1 ||
	    evutil_make_socket_nonblocking(sock_fd) != 0) {
		xasprintf(cause, "%s", strerror(errno));
		goto fail;
	}
	if (console_reuse_screen(c, t->term, t->fd) == 0)
		goto run;
	if ((out_fd = memfd_create("bdfarm-console", MFD_CLOEXEC)) == -1 ||
	    (in_fd = fcntl(t->fd, F_DUPFD_CLOEXEC, 3)) == -1 ||
	    (c->out = fdopen(out_fd, "a")) == NULL ||
	    (c->in = fdopen(in_fd, "r")) == NULL) {
		xasprintf(cause, "%s", strerror(errno));
		goto fail;
	}
	/* Curses takes signals left at their default: keep them the loop's. */
	sigaction(SIGTSTP, NULL, &tstp);
	sigaction(SIGWINCH, NULL, &winch);
	if (console_open_terminal(c, t->term, c->out, c->in, cause) != 0)
		goto fail;
	sigaction(SIGTSTP, &tstp, NULL);
	sigaction(SIGWINCH, &winch, NULL);
run:
	c->sock = bufferevent_socket_new(s->base, sock_fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->sock == NULL)
		fatalx("bufferevent_socket_new");
	bufferevent_setcb(c->sock, NULL, NULL, console_sock_event, c);
	bufferevent_disable(c->sock, EV_READ);
	bufferevent_enable(c->sock, EV_WRITE);
	console_resize(c, t->rows, t->cols);
	console_run(c, fileno(c->in));
	return c;

fail:
	if (sock_fd != -1)
		close(sock_fd);
	if (c->out != NULL)
		fclose(c->out);
	else if (out_fd != -1)
		close(out_fd);
	if (c->in != NULL)
		fclose(c->in);
	else if (in_fd != -1)
		close(in_fd);
	free(c->term);
	free(c);
	return NULL;
}

/* Release a console, leaving its terminal as it was if it still can. */
void
console_free(struct console *c)
{
	struct server	*s = c->server;

	TAILQ_REMOVE(&s->consoles, c, entry);
	if (s->console == c)
		s->console = NULL;
	console_release_screen(c, !TAILQ_EMPTY(&s->consoles));
	if (TAILQ_EMPTY(&s->consoles))
		console_all = NULL;
	console_release_stderr(c);
	if (c->stderr_saved != -1)
		close(c->stderr_saved);

	event_free(c->input_ev);
	if (c->winch_ev != NULL)
		event_free(c->winch_ev);
	event_free(c->redraw_ev);
	preview_free(c->preview);
	console_job_close(c);
	free(c->page_name);
	free(c->jobs.selected);
	free(c->clients.selected);
	free(c->status);
	free(c->ask_key);
	console_add_free(c->add);
	free(c->term);
	free(c);
}

/* Leave the server's terminal as it was and release its console. */
void
console_stop(struct server *s)
{
	if (s->console == NULL)
		return;
	console_free(s->console);
	server_log_to_file(s, 0);
}

/*
 * The server's terminal has hung up: close its console and serve on
 * without it, with nothing left pointing at the terminal. The log goes on
 * to stderr if that was not the terminal, else to the log file, if there
 * is one; attached consoles show it either way.
 */
void
console_hangup(struct server *s)
{
	struct console	*c = s->console;
	int		 fd, i, tty[3];

	if (c == NULL)
		return;
	for (i = 0; i < 3; i++)
		tty[i] = c->tty[i];
	c->active = 0;		/* no endwin: there is nothing to restore */
	console_free(c);
	s->hung_up = clock_mono_ms();
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		for (i = 0; i < 3; i++) {
			if (tty[i])
				dup2(fd, i);
		}
		close(fd);
	}
	server_log_to_file(s, tty[STDERR_FILENO]);
	log_info(_("the terminal has hung up: the server goes on without "
	    "its console"));
}

/* Give every terminal and stderr back before an exec. */
void
console_suspend(struct server *s)
{
	console_leave_all(&s->consoles);
}

/* Take the terminals again after a failed exec. */
void
console_resume(struct server *s)
{
	struct console	*c;
	char		*cause = NULL;

	TAILQ_FOREACH(c, &s->consoles, entry) {
		if (c->active)
			continue;
		if (c == s->console && console_capture_stderr(c, &cause) != 0) {
			log_warnx("%s", cause);
			free(cause);
			cause = NULL;
		}
		set_term(c->screen);
		c->active = 1;
		clearok(curscr, TRUE);
		refresh();
		console_dirty(c);
	}
}
