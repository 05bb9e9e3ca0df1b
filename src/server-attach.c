/*
 * server-attach.c: consoles attached through the Unix socket in the job
 * folder (see attach.h). The socket is its owner's alone (mode 0600), and
 * a connection from any other user than the server's own or root is cut
 * before it says anything. Each connection that gives a terminal gets a
 * console of its own; closing it changes nothing for the farm.
 */
#include "bdfarm.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "attach.h"
#include "console.h"
#include "server.h"
#include "xmalloc.h"

/* Consoles attached at once, at most: each costs a few descriptors. */
#define SERVER_ATTACH_MAX	8

/* One connection from `bdfarm --attach`. */
struct server_attach {
	struct server		*server;
	int			 fd;
	struct event		*ev;
	uid_t			 uid;
	char			 buf[ATTACH_LINE_MAX];
	size_t			 len;
	int			 term_fd;	/* passed with the first line */
	struct console		*console;	/* once it said hello */
	TAILQ_ENTRY(server_attach) entry;
};

/* Answer a line; a console that cannot take it is not worth keeping. */
static void
server_attach_reply(struct server_attach *a, const char *line)
{
	size_t	len = strlen(line);

	if (send(a->fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len)
		log_debug("attached console: short reply");
}

/* Close a connection and its console. */
static void
server_attach_free(struct server_attach *a)
{
	TAILQ_REMOVE(&a->server->attaches, a, entry);
	if (a->console != NULL) {
		console_free(a->console);
		server_attach_reply(a, "bye\n");
		log_info(_("a console has detached"));
	}
	if (a->term_fd != -1)
		close(a->term_fd);
	event_free(a->ev);
	close(a->fd);
	free(a);
}

/* The console is done with its terminal (q, or the terminal is gone). */
static void
server_attach_detach(void *arg)
{
	server_attach_free(arg);
}

/* The first line: open a console on the terminal that came with it. */
static int
server_attach_hello(struct server_attach *a, const char *line)
{
	struct attach_hello	 h;
	struct console_term	 t;
	char			*cause = NULL, *reply;

	if (attach_hello_parse(line, &h) != 0 || a->term_fd == -1) {
		server_attach_reply(a, "error not an attach request\n");
		return -1;
	}
	memset(&t, 0, sizeof t);
	t.fd = a->term_fd;
	t.term = h.term;
	t.rows = h.rows;
	t.cols = h.cols;
	t.utf8 = h.utf8;
	t.detach = server_attach_detach;
	t.arg = a;
	if ((a->console = console_attach(a->server, &t, &cause)) == NULL) {
		xasprintf(&reply, "error %s\n", cause);
		server_attach_reply(a, reply);
		log_warnx(_("a console cannot attach: %s"), cause);
		free(reply);
		free(cause);
		return -1;
	}
	close(a->term_fd);
	a->term_fd = -1;
	server_attach_reply(a, "ok\n");
	log_info(_("a console has attached (%s, %d×%d)"), h.term, h.cols,
	    h.rows);
	return 0;
}

/* A whole line from the attached side; -1 to close the connection. */
static int
server_attach_line(struct server_attach *a, const char *line)
{
	int	rows, cols;

	if (a->console == NULL)
		return server_attach_hello(a, line);
	if (attach_size_parse(line, &rows, &cols) == 0) {
		console_resize(a->console, rows, cols);
		return 0;
	}
	return -1;
}

/*
 * Keep the first descriptor passed with a message as the terminal, if
 * none came yet; close any other.
 */
static void
server_attach_fds(struct server_attach *a, struct msghdr *msg)
{
	struct cmsghdr	*cm;
	int		*fds;
	size_t		 n, i;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		fds = (int *)(void *)CMSG_DATA(cm);
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof *fds;
		for (i = 0; i < n; i++) {
			if (a->term_fd == -1 && a->console == NULL)
				a->term_fd = fds[i];
			else
				close(fds[i]);
		}
	}
}

/* Bytes from the attached side: lines, and a terminal with the first. */
static void
server_attach_read(evutil_socket_t fd, short events, void *arg)
{
	struct server_attach	*a = arg;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(4 * sizeof (int))];
	}			 control;
	struct msghdr		 msg;
	struct iovec		 iov;
	char			*nl, *line;
	ssize_t			 n;

	memset(&msg, 0, sizeof msg);
	iov.iov_base = a->buf + a->len;
	iov.iov_len = sizeof a->buf - 1 - a->len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof control.buf;
	n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		server_attach_fds(a, &msg);
	if (n <= 0 || (msg.msg_flags & MSG_CTRUNC)) {
		server_attach_free(a);
		return;
	}
	a->len += (size_t)n;
	a->buf[a->len] = '\0';
	line = a->buf;
	while ((nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		if (server_attach_line(a, line) != 0) {
			server_attach_free(a);
			return;
		}
		line = nl + 1;
	}
	a->len -= (size_t)(line - a->buf);
	memmove(a->buf, line, a->len);
	if (a->len == sizeof a->buf - 1)
		server_attach_free(a);
}

/* Whether the connection comes from the server's own user or root. */
static int
server_attach_allowed(int fd, uid_t *uid)
{
	struct ucred	cred;
	socklen_t	len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return 0;
	*uid = cred.uid;
	return cred.uid == geteuid() || cred.uid == 0;
}

/* A console connects. */
static void
server_attach_accept(evutil_socket_t lfd, short events, void *arg)
{
	struct server		*s = arg;
	struct server_attach	*a, *x;
	struct timeval		 pause = { 1, 0 };
	int			 fd, n = 0;
	uid_t			 uid = (uid_t)-1;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd == -1) {
		/* Out of descriptors: the connection waits, and so do we. */
		if (errno == EMFILE || errno == ENFILE) {
			event_del(s->attach_ev);
			evtimer_add(s->attach_pause_ev, &pause);
		}
		return;
	}
	if (!server_attach_allowed(fd, &uid)) {
		log_warnx(_("refused a console of user %ld"), (long)uid);
		close(fd);
		return;
	}
	TAILQ_FOREACH(x, &s->attaches, entry)
		n++;
	if (n >= SERVER_ATTACH_MAX) {
		log_warnx(_("refused a console: %d are attached already"), n);
		close(fd);
		return;
	}
	a = xcalloc(1, sizeof *a);
	a->server = s;
	a->fd = fd;
	a->uid = uid;
	a->term_fd = -1;
	a->ev = event_new(s->base, fd, EV_READ | EV_PERSIST,
	    server_attach_read, a);
	event_add(a->ev, NULL);
	TAILQ_INSERT_TAIL(&s->attaches, a, entry);
}

/* Accept consoles again after running out of descriptors. */
static void
server_attach_resume(evutil_socket_t fd, short events, void *arg)
{
	struct server	*s = arg;

	event_add(s->attach_ev, NULL);
}

/*
 * Whether a server already listens at path; a socket left behind by one
 * that has gone is removed. Returns -1 with *cause if path cannot be
 * used.
 */
static int
server_attach_stale(const char *path, char **cause)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd, live;

	if (lstat(path, &st) != 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		xasprintf(cause, _("%s is in the way"), path);
		return -1;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return -1;
	}
	live = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
	close(fd);
	if (live) {
		xasprintf(cause, _("another server listens on %s"), path);
		return -1;
	}
	if (unlink(path) != 0) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Bind the socket at path, its owner's alone; -1 with *cause. */
static int
server_attach_bind(const char *path, char **cause)
{
	struct sockaddr_un	 sun;
	mode_t			 mask;
	int			 fd, rc;

	if (strlen(path) >= sizeof sun.sun_path) {
		xasprintf(cause, _("%s: the path is too long for a socket"),
		    path);
		return -1;
	}
	if (server_attach_stale(path, cause) != 0)
		return -1;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return -1;
	}
	mask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(mask);
	if (rc != 0 || chmod(path, 0600) != 0 || listen(fd, 8) != 0) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Listen for consoles; without the socket the farm runs on regardless. */
void
server_attach_open(struct server *s)
{
	char	*cause = NULL;

	s->attach_path = attach_path(s->options->jobdir);
	if ((s->attach_fd = server_attach_bind(s->attach_path, &cause)) == -1) {
		log_warnx(_("consoles cannot attach: %s"), cause);
		free(cause);
		free(s->attach_path);
		s->attach_path = NULL;
		return;
	}
	s->attach_ev = event_new(s->base, s->attach_fd, EV_READ | EV_PERSIST,
	    server_attach_accept, s);
	s->attach_pause_ev = evtimer_new(s->base, server_attach_resume, s);
	event_add(s->attach_ev, NULL);
}

/* Close every attached console and the socket. */
void
server_attach_close(struct server *s)
{
	struct server_attach	*a, *next;

	for (a = TAILQ_FIRST(&s->attaches); a != NULL; a = next) {
		next = TAILQ_NEXT(a, entry);
		server_attach_free(a);
	}
	if (s->attach_fd == -1)
		return;
	event_free(s->attach_ev);
	s->attach_ev = NULL;
	event_free(s->attach_pause_ev);
	s->attach_pause_ev = NULL;
	close(s->attach_fd);
	s->attach_fd = -1;
	unlink(s->attach_path);
	free(s->attach_path);
	s->attach_path = NULL;
}
