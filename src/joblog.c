/*
 * joblog.c: appending one time-stamped line per event to a job's log. The
 * log of NAME.job is NAME.log beside it; the file is opened for each line
 * so that it may be moved or deleted at any time.
 */
#include "joblog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "xmalloc.h"

#define JOBLOG_TAIL	(64 * 1024)	/* bytes looked at by joblog_has */

/* The log file of the job file called name in jobdir. */
char *
joblog_path(const char *jobdir, const char *name)
{
	size_t	 len = strlen(name);
	char	*path;

	if (len > 3 && strcmp(name + len - 3, "job") == 0)
		xasprintf(&path, "%s/%.*slog", jobdir, (int)(len - 3), name);
	else
		xasprintf(&path, "%s/%s.log", jobdir, name);
	return path;
}

/* The line as the log holds it: the time when (wall clock, ms), then text. */
static char *
joblog_line(int64_t when, const char *text, int *len)
{
	char		*line, stamp[32];
	struct tm	 tm;
	time_t		 t = (time_t)(when / 1000);

	localtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
	*len = xasprintf(&line, "%s %s\n", stamp, text);
	return line;
}

/*
 * Append text, of the time when, to the log of job name; -1 with errno if
 * it could not be written whole.
 */
int
joblog_append(const char *jobdir, const char *name, int64_t when,
    const char *text)
{
	char	*path, *line;
	int	 fd, len, rc = -1, saved;

	line = joblog_line(when, text, &len);
	path = joblog_path(jobdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd != -1 && write(fd, line, (size_t)len) == len)
		rc = 0;
	else if (fd != -1 && errno == 0)
		errno = ENOSPC;
	saved = errno;
	if (fd != -1)
		close(fd);
	free(path);
	free(line);
	errno = saved;
	return rc;
}

/*
 * Whether the log of job name ends with the line for text of the time
 * when, among its last JOBLOG_TAIL bytes: a line that a commit journal
 * holds may have been written before the process died.
 */
int
joblog_has(const char *jobdir, const char *name, int64_t when,
    const char *text)
{
	char		*path, *line, *buf;
	struct stat	 st;
	off_t		 from;
	ssize_t		 n;
	int		 fd, len, found = 0;

	path = joblog_path(jobdir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd == -1)
		return 0;
	line = joblog_line(when, text, &len);
	buf = xmalloc(JOBLOG_TAIL + 1);
	if (fstat(fd, &st) == 0) {
		from = st.st_size > JOBLOG_TAIL ? st.st_size - JOBLOG_TAIL : 0;
		if ((n = pread(fd, buf, JOBLOG_TAIL, from)) > 0) {
			buf[n] = '\0';
			found = strstr(buf, line) != NULL;
		}
	}
	close(fd);
	free(buf);
	free(line);
	return found;
}

/* Append one line to the log of job name now; a failure is logged. */
void
joblog_write(const char *jobdir, const char *name, const char *fmt, ...)
{
	char	*msg, *path;
	va_list	 ap;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (joblog_append(jobdir, name, clock_wall_ms(), msg) != 0) {
		path = joblog_path(jobdir, name);
		log_warn("%s", path);
		free(path);
	}
	free(msg);
}
