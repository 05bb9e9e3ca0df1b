/*
 * log.c: one line per event, time-stamped on stderr, or handed to a sink
 * (the console's event pane) when one is installed.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xmalloc.h"

static int		 log_verbose_on;
static log_sink_fn	 log_sink;
static void		*log_sink_arg;

static void	log_vwrite(enum log_level, const char *, va_list, int)
		    BDFARM_PRINTF(2, 0);

/* Set whether debug lines are shown. */
void
log_init(int verbose)
{
	log_verbose_on = verbose;
}

/* Whether debug lines are shown. */
int
log_verbose(void)
{
	return log_verbose_on;
}

/* Send lines to fn instead of stderr; NULL goes back to stderr. */
void
log_set_sink(log_sink_fn fn, void *arg)
{
	log_sink = fn;
	log_sink_arg = arg;
}

/* Format one line, add the error string if asked, and deliver it. */
static void
log_vwrite(enum log_level level, const char *fmt, va_list ap, int error)
{
	char		*msg, *line, stamp[32];
	struct tm	 tm;
	time_t		 now;

	if (level == LOG_DEBUG && !log_verbose_on)
		return;
	xvasprintf(&msg, fmt, ap);
	if (error)
		xasprintf(&line, "%s: %s", msg, strerror(error));
	else
		line = xstrdup(msg);
	free(msg);

	if (log_sink != NULL)
		log_sink(level, line, log_sink_arg);
	else {
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(stderr, "%s %s\n", stamp, line);
		fflush(stderr);
	}
	free(line);
}

/* Log an event. */
void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap, 0);
	va_end(ap);
}

/* Log a problem that the program works around. */
void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARN, fmt, ap, 0);
	va_end(ap);
}

/* Log a problem with the current errno's description appended. */
void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_WARN, fmt, ap, saved);
	va_end(ap);
}

/* Log a detail that only matters when tracing a problem. */
void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap, 0);
	va_end(ap);
}

/* A broken invariant or an unusable system call: report with errno, exit. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	log_sink = NULL;
	va_start(ap, fmt);
	log_vwrite(LOG_WARN, fmt, ap, saved);
	va_end(ap);
	exit(1);
}

/* A broken invariant: report and exit. */
void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	log_sink = NULL;
	va_start(ap, fmt);
	log_vwrite(LOG_WARN, fmt, ap, 0);
	va_end(ap);
	exit(1);
}
