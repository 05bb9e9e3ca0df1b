/*
 * attach.c: `bdfarm --attach JOBDIR`: lend this terminal to the server of
 * a job folder, which draws its console on it (see attach.h). This
 * process only carries bytes: keys to the server, the screen back, and
 * the terminal's size when it changes. It puts the terminal in raw mode
 * and gives it back as it was, however the console ends.
 */
#include "bdfarm.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <term.h>
#include <termios.h>
#include <unistd.h>

#include "attach.h"
#include "xmalloc.h"

/* How long to wait for the server's answer, in milliseconds. */
#define ATTACH_ANSWER_MS	10000

/* How long the rest of the screen may take after the server's bye. */
#define ATTACH_BYE_MS		2000

static volatile sig_atomic_t	attach_resized;
static volatile sig_atomic_t	attach_stop;

static void
attach_on_winch(int sig)
{
	attach_resized = 1;
}

static void
attach_on_stop(int sig)
{
	attach_stop = 1;
}

/*
 * Whether the other end runs as this user, root or the job folder's
 * owner: in a folder others may write to, anyone could have put a socket
 * of their own in its place.
 */
static int
attach_trusted(int fd, const char *jobdir)
{
	struct ucred	cred;
	struct stat	st;
	socklen_t	len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return 0;
	if (cred.uid == getuid() || cred.uid == 0)
		return 1;
	return stat(jobdir, &st) == 0 && st.st_uid == cred.uid;
}

/* Connect to the server's socket; -1 with the reason printed. */
static int
attach_connect(const char *jobdir)
{
	struct sockaddr_un	 sun;
	char			*path = attach_path(jobdir);
	int			 fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		fprintf(stderr, _("%s: %s: the path is too long for a "
		    "socket\n"), PACKAGE, path);
		free(path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			fprintf(stderr, _("%s: no server is running on %s (%s: "
			    "%s)\n"), PACKAGE, jobdir, path, strerror(errno));
		else
			fprintf(stderr, "%s: %s: %s\n", PACKAGE, path,
			    strerror(errno));
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	if (fd != -1 && !attach_trusted(fd, jobdir)) {
		fprintf(stderr, _("%s: %s is not the socket of a server of "
		    "this user\n"), PACKAGE, path);
		close(fd);
		fd = -1;
	}
	free(path);
	return fd;
}

/* Send the first line with the terminal's end of the socket pair. */
static int
attach_hello(int fd, int term_fd)
{
	struct attach_hello	 h;
	struct winsize		 ws;
	const char		*term = getenv("TERM");
	const char		*codeset = nl_langinfo(CODESET);
	char			 line[ATTACH_LINE_MAX];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof (int))];
	}			 control;
	struct msghdr		 msg;
	struct iovec		 iov;
	struct cmsghdr		*cm;

	memset(&h, 0, sizeof h);
	h.version = ATTACH_VERSION;
	snprintf(h.term, sizeof h.term, "%s",
	    term != NULL && *term != '\0' ? term : "vt100");
	h.rows = 24;
	h.cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0) {
		h.rows = ws.ws_row;
		h.cols = ws.ws_col;
	}
	h.utf8 = codeset != NULL && strcmp(codeset, "UTF-8") == 0;
	if (attach_hello_format(&h, line, sizeof line) != 0) {
		fprintf(stderr, _("%s: TERM=%s cannot be passed on\n"),
		    PACKAGE, h.term);
		return -1;
	}

	memset(&msg, 0, sizeof msg);
	memset(&control, 0, sizeof control);
	iov.iov_base = line;
	iov.iov_len = strlen(line);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof control.buf;
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof (int));
	memcpy(CMSG_DATA(cm), &term_fd, sizeof term_fd);
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) != (ssize_t)iov.iov_len) {
		fprintf(stderr, "%s: %s\n", PACKAGE, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Wait for the server's answer to the first line; -1 if it refuses. The
 * line is read a byte at a time, so that nothing after it is taken.
 */
static int
attach_answer(int fd)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	char		 line[ATTACH_LINE_MAX];
	size_t		 len = 0;

	for (;;) {
		if (len == sizeof line - 1 ||
		    poll(&pfd, 1, ATTACH_ANSWER_MS) != 1 ||
		    read(fd, line + len, 1) != 1) {
			fprintf(stderr, _("%s: the server did not answer\n"),
			    PACKAGE);
			return -1;
		}
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	if (strcmp(line, "ok") == 0)
		return 0;
	fprintf(stderr, _("%s: the server refused the console: %s\n"),
	    PACKAGE, strncmp(line, "error ", 6) == 0 ? line + 6 : line);
	return -1;
}

/* Write all of buf to fd; -1 on an error. */
static int
attach_write(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Tell the server the terminal's new size. */
static void
attach_send_size(int fd)
{
	struct winsize	ws;
	char		line[64];

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 ||
	    ws.ws_col == 0)
		return;
	snprintf(line, sizeof line, "size %d %d\n", ws.ws_row, ws.ws_col);
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) == -1)
		attach_stop = 1;
}

/* Read what the server says on the connection; 1 once it said bye. */
static int
attach_read_control(int fd, int *open)
{
	char	buf[ATTACH_LINE_MAX];
	ssize_t	n;

	n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
		*open = 0;
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, "bye\n") != NULL;
}

/* How the relay ended. */
enum attach_end {
	ATTACH_BYE,		/* the server closed the console */
	ATTACH_STOPPED,		/* a signal stopped the relay */
	ATTACH_GONE		/* the server went without a word */
};

/*
 * Carry bytes until the server closes the console, the server goes or a
 * signal stops the relay. After the server's bye, the rest of the screen
 * is copied for a moment at most.
 */
static enum attach_end
attach_relay(int fd, int term)
{
	struct pollfd	pfd[3];
	char		buf[16384];
	ssize_t		n;
	int		in_open = 1, ctl_open = 1, bye = 0, ready;

	for (;;) {
		if (attach_resized) {
			attach_resized = 0;
			attach_send_size(fd);
		}
		if (attach_stop)
			return ATTACH_STOPPED;
		pfd[0].fd = term;
		pfd[0].events = POLLIN;
		pfd[1].fd = in_open && !bye ? STDIN_FILENO : -1;
		pfd[1].events = POLLIN;
		pfd[2].fd = ctl_open ? fd : -1;
		pfd[2].events = POLLIN;
		ready = poll(pfd, 3, bye ? ATTACH_BYE_MS : -1);
		if (ready == -1 && errno == EINTR)
			continue;
		if (ready == -1)
			return ATTACH_GONE;
		if (ready == 0)
			return ATTACH_BYE;
		if (pfd[0].revents != 0) {
			n = read(term, buf, sizeof buf);
			if (n == 0 || (n < 0 && errno != EINTR &&
			    errno != EAGAIN)) {
				pfd[2].fd = fd;
				while (ctl_open && !bye &&
				    poll(&pfd[2], 1, ATTACH_BYE_MS) == 1)
					bye = attach_read_control(fd,
					    &ctl_open);
				return bye ? ATTACH_BYE : ATTACH_GONE;
			}
			if (n > 0 && attach_write(STDOUT_FILENO, buf,
			    (size_t)n) != 0)
				return ATTACH_STOPPED;
			continue;	/* the screen first, then the rest */
		}
		if (pfd[1].revents != 0) {
			n = read(STDIN_FILENO, buf, sizeof buf);
			if (n <= 0 && (n == 0 || errno != EINTR))
				in_open = 0;
			else if (n > 0 && attach_write(term, buf,
			    (size_t)n) != 0)
				return ATTACH_GONE;
		}
		if (pfd[2].revents != 0 && attach_read_control(fd, &ctl_open))
			bye = 1;
	}
}

/*
 * The server went without closing its console: take the terminal out of
 * what the console put it in (the alternate screen, keypad and mouse
 * modes, a hidden cursor).
 */
static void
attach_reset_terminal(void)
{
	const char	*mouse;
	int		 err;

	if (setupterm(NULL, STDOUT_FILENO, &err) != OK)
		return;
	mouse = tigetstr("XM");
	if (mouse != NULL && mouse != (char *)-1)
		putp(tiparm(mouse, 0));
	if (keypad_local != NULL)
		putp(keypad_local);
	if (cursor_normal != NULL)
		putp(cursor_normal);
	if (exit_attribute_mode != NULL)
		putp(exit_attribute_mode);
	if (exit_ca_mode != NULL)
		putp(exit_ca_mode);
	fflush(stdout);
}

/* Lend this terminal to the server of jobdir until its console closes. */
int
attach_main(const char *jobdir)
{
	struct termios		 saved, raw;
	struct sigaction	 sa;
	enum attach_end		 end;
	int			 fd, pair[2];

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) ||
	    tcgetattr(STDIN_FILENO, &saved) != 0) {
		fprintf(stderr, _("%s: --attach needs a terminal\n"), PACKAGE);
		return 1;
	}
	if ((fd = attach_connect(jobdir)) == -1)
		return 1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
		fprintf(stderr, "%s: socketpair: %s\n", PACKAGE,
		    strerror(errno));
		close(fd);
		return 1;
	}
	if (attach_hello(fd, pair[1]) != 0 || attach_answer(fd) != 0) {
		close(pair[0]);
		close(pair[1]);
		close(fd);
		return 1;
	}
	close(pair[1]);

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = attach_on_winch;
	sigaction(SIGWINCH, &sa, NULL);
	sa.sa_handler = attach_on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	raw = saved;
	cfmakeraw(&raw);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
	end = attach_relay(fd, pair[0]);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	close(pair[0]);
	close(fd);
	if (end != ATTACH_BYE)
		attach_reset_terminal();
	if (end == ATTACH_GONE) {
		fprintf(stderr, _("%s: the server has gone\n"), PACKAGE);
		return 1;
	}
	return 0;
}
