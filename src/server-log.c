/*
 * server-log.c: where the server's log lines go. Every line is kept in a
 * ring of the latest ones, which each console's events pane draws, so
 * that a console attached late shows what came before it. The line is
 * then written out: time-stamped to stderr when no console holds the
 * server's terminal, else to the log_file setting, if any.
 */
#include "bdfarm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "console.h"
#include "server.h"
#include "settings.h"
#include "xmalloc.h"

/* Keep a line in the ring, dropping the oldest once it is full. */
static void
server_log_keep(struct server *s, enum log_level level, const char *text)
{
	struct server_line	*l = &s->lines[s->nlines % SERVER_LINES];

	free(l->text);
	l->text = xstrdup(text);
	l->level = level;
	l->when = clock_wall_ms();
	s->nlines++;
	server_changed(s);
}

/* Close the log file, if open. */
static void
server_log_close(struct server *s)
{
	if (s->log != NULL)
		fclose(s->log);
	s->log = NULL;
	free(s->log_path);
	s->log_path = NULL;
}

/* The log file, opened again if its name has changed; NULL if none. */
static FILE *
server_log_open(struct server *s)
{
	const char	*path = s->settings->log_file;
	int		 fd;

	if (path == NULL || *path == '\0') {
		server_log_close(s);
		return NULL;
	}
	if (s->log_path != NULL && strcmp(s->log_path, path) == 0)
		return s->log;
	server_log_close(s);
	s->log_path = xstrdup(path);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd != -1 && (s->log = fdopen(fd, "a")) == NULL)
		close(fd);
	if (s->log == NULL)
		server_log_keep(s, LOG_WARN, strerror(errno));
	return s->log;
}

/* Write a line out: to stderr, or to the log file while stderr is hidden. */
static void
server_log_write(struct server *s, const char *line)
{
	FILE		*f = stderr;
	struct tm	 tm;
	time_t		 now;
	char		 stamp[32];

	if (s->log_to_file && (f = server_log_open(s)) == NULL)
		return;
	now = time(NULL);
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(f, "%s %s\n", stamp, line);
	fflush(f);
}

/* The log's sink: keep the line for the consoles and write it out. */
static void
server_log_sink(enum log_level level, const char *line, void *arg)
{
	struct server	*s = arg;

	server_log_keep(s, level, line);
	server_log_write(s, line);
}

/*
 * A line for the consoles' events pane only (frames out and in: too many
 * for the log); written out too with --verbose.
 */
void
server_log_event(struct server *s, const char *line)
{
	server_log_keep(s, LOG_INFO, line);
	if (log_verbose())
		server_log_write(s, line);
}

/* A line the server's console caught on stderr. */
void
server_log_line(struct server *s, enum log_level level, const char *line)
{
	server_log_sink(level, line, s);
}

/* Write lines to the log file (1) or to stderr (0) from now on. */
void
server_log_to_file(struct server *s, int on)
{
	s->log_to_file = on;
	if (!on)
		server_log_close(s);
}

/* Take the log's lines from now on. */
void
server_log_init(struct server *s)
{
	log_set_sink(server_log_sink, s);
}

/* Give the log back to stderr and free the ring. */
void
server_log_free(struct server *s)
{
	size_t	i;

	log_set_sink(NULL, NULL);
	server_log_close(s);
	for (i = 0; i < SERVER_LINES; i++) {
		free(s->lines[i].text);
		s->lines[i].text = NULL;
	}
	s->nlines = 0;
}
