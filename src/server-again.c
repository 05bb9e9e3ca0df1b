/*
 * server-again.c: rendering frames again on the owner's word. The stored
 * file of each done frame is moved into a .replaced/ folder beside it,
 * never deleted, and the frames go back to the queue.
 */
#include "bdfarm.h"
#include "server.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "framefile.h"
#include "joblog.h"
#include "log.h"
#include "xmalloc.h"

/* The folder moved frames go to, inside a job's render folder. */
#define SERVER_AGAIN_DIR	".replaced"

/* Copies of one name kept in .replaced/ before giving up. */
#define SERVER_AGAIN_COPIES	1000

/*
 * Move the file name of folder dir into dir/.replaced/, as name, or as
 * name.1, name.2 and so on if an earlier copy is there. -1 with *cause.
 */
static int
server_again_move(const char *dir, const char *name, char **cause)
{
	char		*from, *to = NULL, *aside;
	struct stat	 sb;
	int		 i, rc = -1;

	xasprintf(&aside, "%s/%s", dir, SERVER_AGAIN_DIR);
	if (mkdir(aside, 0755) == -1 && errno != EEXIST) {
		xasprintf(cause, _("cannot make %s: %s"), aside,
		    strerror(errno));
		free(aside);
		return -1;
	}
	xasprintf(&from, "%s/%s", dir, name);
	for (i = 0; i < SERVER_AGAIN_COPIES; i++) {
		free(to);
		if (i == 0)
			xasprintf(&to, "%s/%s", aside, name);
		else
			xasprintf(&to, "%s/%s.%d", aside, name, i);
		if (lstat(to, &sb) == -1 && errno == ENOENT)
			break;
	}
	if (i == SERVER_AGAIN_COPIES)
		xasprintf(cause, _("%s: %d copies are kept already"), to, i);
	else if (rename(from, to) == -1)
		xasprintf(cause, _("cannot move %s to %s: %s"), from, to,
		    strerror(errno));
	else
		rc = 0;
	free(from);
	free(to);
	free(aside);
	return rc;
}

/* A done frame's stored file, to be moved aside. */
struct server_again_file {
	long	 frame;
	char	*name;
};

/* Order files by frame number. */
static int
server_again_cmp(const void *a, const void *b)
{
	const struct server_again_file	*fa = a, *fb = b;

	return (fa->frame > fb->frame) - (fa->frame < fb->frame);
}

/*
 * The stored files of job's done frames from to to, in the job's render
 * folder dir, in frame order; *n receives how many. NULL with *cause if
 * the folder cannot be read (a folder not made yet holds none).
 */
static struct server_again_file *
server_again_list(struct job *job, const char *dir, long from, long to,
    size_t *n, char **cause)
{
	struct server_again_file	*files = NULL;
	struct frame			*f;
	struct dirent			*de;
	DIR				*d;
	long				 frame;

	*n = 0;
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return xcalloc(1, sizeof *files);
		xasprintf(cause, _("cannot read %s: %s"), dir, strerror(errno));
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		if (framefile_frame(de->d_name, &frame) != 0 || frame < from ||
		    frame > to)
			continue;
		f = job_frame(job, frame);
		if (f == NULL || f->state != FRAME_DONE)
			continue;
		files = xreallocarray(files, *n + 1, sizeof *files);
		files[*n].frame = frame;
		files[*n].name = xstrdup(de->d_name);
		(*n)++;
	}
	closedir(d);
	if (files == NULL)
		return xcalloc(1, sizeof *files);
	qsort(files, *n, sizeof *files, server_again_cmp);
	return files;
}

/*
 * Render frames from to to of job again: the stored files of those that
 * are done are moved aside, then the done and failed frames go back to
 * the queue. A file that cannot be moved stops there: only the frames
 * whose files were moved go back, and *cause says why. Returns how many
 * frames went back, or -1.
 */
long
server_render_again(struct server *s, struct job *job, long from, long to,
    char **cause)
{
	struct server_again_file	*files;
	char				*dir;
	size_t				 n, i, moved = 0, again = 0;

	xasprintf(&dir, "%s/%s", s->options->renderdir, job->name);
	files = server_again_list(job, dir, from, to, &n, cause);
	for (i = 0; files != NULL && i < n; i++) {
		if (server_again_move(dir, files[i].name, cause) != 0)
			break;
		moved++;
	}
	if (files != NULL && moved == n)
		again = sched_render_again(&s->farm, job, from, to);
	for (i = 0; files != NULL && moved < n && i < moved; i++)
		again += sched_render_again(&s->farm, job, files[i].frame,
		    files[i].frame);
	for (i = 0; files != NULL && i < n; i++)
		free(files[i].name);
	free(files);
	free(dir);
	if (again > 0) {
		joblog_write(s->options->jobdir, job->name, "frames %ld-%ld "
		    "queued to be rendered again, %zu files moved to %s/",
		    from, to, moved, SERVER_AGAIN_DIR);
		log_info(_("%s: %zu frames to be rendered again; %zu files "
		    "moved to %s/"), job->name, again, moved,
		    SERVER_AGAIN_DIR);
	}
	if (files == NULL || moved < n)
		return -1;
	return (long)again;
}
