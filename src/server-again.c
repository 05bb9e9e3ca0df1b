/*
 * server-again.c: rendering frames again on the owner's word. The frames
 * go back to the queue and the stored file of each done one is moved into
 * a .replaced/ folder beside it, never deleted. The moves go through the
 * commit (server-commit.c): the checkpoint that has the frames back in the
 * queue is written first, so that a crash can leave neither a frame done
 * without its file nor a frame queued with one.
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
#include "log.h"
#include "state.h"
#include "upload.h"
#include "xmalloc.h"

/* The folder moved frames go to, inside a job's render folder. */
#define SERVER_AGAIN_DIR	".replaced"

/* Copies of one name kept in .replaced/ before giving up. */
#define SERVER_AGAIN_COPIES	1000

/* Whether a move of the commit's journal (to, in the render folder) is
 * one of ours, to a .replaced/ folder. */
int
server_again_aside(const char *to)
{
	const char	*slash = strchr(to, '/');

	return slash != NULL && strncmp(slash + 1, SERVER_AGAIN_DIR "/",
	    sizeof SERVER_AGAIN_DIR) == 0;
}

/*
 * Do one move of the journal into a .replaced/ folder (both paths in
 * renderdir): as to, or as to.1, to.2 and so on if an earlier copy is
 * there. A file already gone (moved by a process that died after, or
 * deleted) is fine. -1 with *cause if it could not be moved.
 */
int
server_again_place(const char *renderdir, const char *from, const char *to,
    char **cause)
{
	struct stat	 sb;
	char		*src, *dst = NULL, *dir;
	int		 i, rc = -1;

	xasprintf(&src, "%s/%s", renderdir, from);
	xasprintf(&dir, "%s/%.*s", renderdir, (int)(strrchr(to, '/') - to),
	    to);
	if (lstat(src, &sb) == -1 && errno == ENOENT)
		rc = 0;
	else if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		xasprintf(cause, _("cannot make %s: %s"), dir, strerror(errno));
	else {
		for (i = 0; i < SERVER_AGAIN_COPIES; i++) {
			free(dst);
			if (i == 0)
				xasprintf(&dst, "%s/%s", renderdir, to);
			else
				xasprintf(&dst, "%s/%s.%d", renderdir, to, i);
			if ((rc = upload_move(src, dst)) == 0 ||
			    errno != EEXIST)
				break;
		}
		if (rc != 0)
			xasprintf(cause, _("cannot move %s to %s: %s"), src,
			    dst, i == SERVER_AGAIN_COPIES ?
			    _("too many copies") : strerror(errno));
	}
	free(src);
	free(dst);
	free(dir);
	return rc;
}

/* Add to j the move of name, in job's render folder, into .replaced/. */
static void
server_again_journal(struct state_journal *j, struct job *job,
    const char *name)
{
	char	*from, *to;

	xasprintf(&from, "%s/%s", job->name, name);
	xasprintf(&to, "%s/%s/%s", job->name, SERVER_AGAIN_DIR, name);
	state_journal_rename(j, from, to);
	free(from);
	free(to);
}

/*
 * Journal the move of every stored file of the done frames from to to
 * found in the job's render folder (those done before this start, whose
 * file names are not known); returns how many. -1 with *cause if the
 * folder cannot be read.
 */
static long
server_again_listed(struct server *s, struct job *job, long from, long to,
    struct state_journal *j, char **cause)
{
	const struct job_render	*r;
	const struct frame	*f;
	struct dirent		*de;
	DIR			*d;
	char			*dir;
	long			 frame, moved = 0;

	xasprintf(&dir, "%s/%s", s->options->renderdir, job->name);
	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT)
			xasprintf(cause, _("cannot read %s: %s"), dir,
			    strerror(errno));
		free(dir);
		return errno == ENOENT ? 0 : -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (framefile_frame(de->d_name, &frame) != 0 || frame < from ||
		    frame > to)
			continue;
		f = job_frame(job, frame);
		r = job_render_of(job, frame);
		if (f == NULL || f->state != FRAME_DONE ||
		    (r != NULL && r->file != NULL))
			continue;
		server_again_journal(j, job, de->d_name);
		moved++;
	}
	closedir(d);
	free(dir);
	return moved;
}

/*
 * Render frames from to to of job again: the done and failed ones go back
 * to the queue, and the stored files of the done ones are moved aside by
 * the commit. Returns how many frames went back, or -1 with *cause if the
 * render folder could not be read (then nothing changes).
 */
long
server_render_again(struct server *s, struct job *job, long from, long to,
    char **cause)
{
	const struct job_render	*r;
	const struct frame	*f;
	struct state_journal	 moves;
	long			 n, moved = 0, listed = 0;
	size_t			 again, i;
	int			 unknown = 0;

	if (from < job->first)
		from = job->first;
	if (to > job->last)
		to = job->last;
	memset(&moves, 0, sizeof moves);
	for (n = from; n <= to; n++) {
		f = job_frame(job, n);
		r = job_render_of(job, n);
		if (f == NULL || f->state != FRAME_DONE)
			continue;
		if (r != NULL && r->file != NULL) {
			server_again_journal(&moves, job, r->file);
			moved++;
		} else
			unknown = 1;
	}
	if (unknown && (listed = server_again_listed(s, job, from, to,
	    &moves, cause)) < 0) {
		state_journal_free(&moves);
		return -1;
	}
	moved += listed;
	for (i = 0; i < moves.nrenames; i++)
		state_journal_rename(&s->journal, moves.renames[i].from,
		    moves.renames[i].to);
	state_journal_free(&moves);
	again = sched_render_again(&s->farm, job, from, to);
	if (again == 0)
		return 0;
	server_commit_joblog(s, job->name, "frames %ld-%ld: %zu queued to be "
	    "rendered again, %ld files moved to %s/", from, to, again, moved,
	    SERVER_AGAIN_DIR);
	log_info(_("%s: %zu frames to be rendered again; %ld files moved to "
	    "%s/"), job->name, again, moved, SERVER_AGAIN_DIR);
	server_commit(s);
	return (long)again;
}
