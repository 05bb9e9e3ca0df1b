/*
 * child.c: what a child process does between fork and exec: a process
 * group of its own, so that one kill reaches everything it starts; the
 * default signal dispositions and mask; /dev/null as its input and a pipe
 * as its output. It makes only calls that are safe after a fork in a
 * process with threads.
 */
#include "child.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

/* Set up the child whose output (and errors) go to out. */
void
child_setup(int out)
{
	sigset_t	none;
	int		null;

	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((null = open("/dev/null", O_RDONLY)) != -1) {
		dup2(null, STDIN_FILENO);
		if (null != STDIN_FILENO)
			close(null);
	}
	dup2(out, STDOUT_FILENO);
	dup2(out, STDERR_FILENO);
	if (out != STDOUT_FILENO && out != STDERR_FILENO)
		close(out);
}
