/*
 * joblog.c: appending one time-stamped line per event to a job's log. The
 * log of NAME.job is NAME.log beside it; the file is opened for each line
 * so that it may be moved or deleted at any time.
 */
#include "joblog.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

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

/* Append one line to the log of job name. */
void
joblog_write(const char *jobdir, const char *name, const char *fmt, ...)
{
	char		*path, *msg, *line, stamp[32];
	struct tm	 tm;
	time_t		 now = time(NULL);
	va_list		 ap;
	int		 fd, len;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
	len = xasprintf(&line, "%s %s\n", stamp, msg);

	path = joblog_path(jobdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd == -1 || write(fd, line, (size_t)len) != len)
		log_warn("%s", path);
	if (fd != -1)
		close(fd);
	free(path);
	free(line);
	free(msg);
}
