/*
 * upload.c: storing a received frame. The bytes go to a hidden temporary
 * file in the job's render folder; only a complete, flushed file is
 * renamed to its real name, so a frame on disk is always whole, and an
 * upload cut off half-way leaves nothing behind.
 */
#include "upload.h"

#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bdfarm.h"
#include "fileio.h"
#include "xmalloc.h"

struct upload {
	int		 fd;
	char		*dir;
	char		*tmp;
	char		*path;
	uint64_t	 remaining;
};

static unsigned long upload_counter;

/*
 * Open a temporary file for a frame called image of job name, size bytes
 * long, in renderdir/name/ (created if needed).
 */
struct upload *
upload_begin(const char *renderdir, const char *name, const char *image,
    uint64_t size, char **cause)
{
	struct upload	*up = xcalloc(1, sizeof *up);

	up->fd = -1;
	up->remaining = size;
	xasprintf(&up->dir, "%s/%s", renderdir, name);
	xasprintf(&up->path, "%s/%s", up->dir, image);
	xasprintf(&up->tmp, "%s/.upload-%ld-%lu.part", up->dir,
	    (long)getpid(), ++upload_counter);
	if (mkdir(up->dir, 0755) == -1 && errno != EEXIST) {
		xasprintf(cause, _("cannot create %s: %s"), up->dir,
		    strerror(errno));
		goto fail;
	}
	up->fd = open(up->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (up->fd == -1) {
		xasprintf(cause, _("cannot create %s: %s"), up->tmp,
		    strerror(errno));
		goto fail;
	}
	return up;

fail:
	upload_abort(up);
	return NULL;
}

/*
 * Write as much of the frame as buf holds. Returns 1 when every byte has
 * arrived, 0 when more is to come, -1 with *cause on a write error.
 */
int
upload_take(struct upload *up, struct evbuffer *buf, char **cause)
{
	size_t	avail = evbuffer_get_length(buf);
	int	n;

	while (up->remaining > 0 && avail > 0) {
		n = evbuffer_write_atmost(buf, up->fd,
		    up->remaining < avail ? (ev_ssize_t)up->remaining :
		    (ev_ssize_t)avail);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			xasprintf(cause, _("cannot write %s: %s"), up->tmp,
			    strerror(errno));
			return -1;
		}
		if (n == 0) {
			xasprintf(cause, _("cannot write %s: no space"),
			    up->tmp);
			return -1;
		}
		up->remaining -= (uint64_t)n;
		avail -= (size_t)n;
	}
	return up->remaining == 0;
}

/* Flush the finished frame and give it its real name; frees up. */
int
upload_commit(struct upload *up, char **cause)
{
	if (fdatasync(up->fd) == -1 || close(up->fd) == -1) {
		xasprintf(cause, _("cannot write %s: %s"), up->tmp,
		    strerror(errno));
		up->fd = -1;
		upload_abort(up);
		return -1;
	}
	up->fd = -1;
	if (rename(up->tmp, up->path) == -1) {
		xasprintf(cause, _("cannot rename %s: %s"), up->tmp,
		    strerror(errno));
		upload_abort(up);
		return -1;
	}
	fileio_sync_dir(up->dir);
	free(up->tmp);
	up->tmp = NULL;
	upload_abort(up);
	return 0;
}

/* Drop an upload: the temporary file goes, nothing else changes. */
void
upload_abort(struct upload *up)
{
	if (up == NULL)
		return;
	if (up->fd != -1)
		close(up->fd);
	if (up->tmp != NULL)
		unlink(up->tmp);
	free(up->tmp);
	free(up->path);
	free(up->dir);
	free(up);
}
