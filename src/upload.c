/*
 * upload.c: storing a received frame. The bytes go to a hidden temporary
 * file in the job's render folder; only a complete, flushed file is
 * renamed to its real name, so a frame on disk is always whole, and an
 * upload cut off half-way leaves nothing behind. The rename never
 * replaces a file, so no store can overwrite a finished frame.
 */
#include "bdfarm.h"
#include "upload.h"

#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "xmalloc.h"

#define UPLOAD_SLICE	(256 * 1024)	/* bytes read from a socket at once */

struct upload {
	int		 fd;
	char		*dir;
	char		*tmp;
	char		*path;
	uint64_t	 remaining;
};

static unsigned long upload_counter;
static unsigned char upload_buf[UPLOAD_SLICE];

/*
 * Open a temporary file for a frame to be stored as file of job name, size
 * bytes long, in renderdir/name/ (created if needed).
 */
struct upload *
upload_begin(const char *renderdir, const char *name, const char *file,
    uint64_t size, char **cause)
{
	struct upload	*up = xcalloc(1, sizeof *up);

	up->fd = -1;
	up->remaining = size;
	xasprintf(&up->dir, "%s/%s", renderdir, name);
	xasprintf(&up->path, "%s/%s", up->dir, file);
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

/* Write len bytes of buf to the frame's file; -1 with *cause if not. */
static int
upload_write(struct upload *up, const unsigned char *buf, size_t len,
    char **cause)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(up->fd, buf, len)) == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			xasprintf(cause, _("cannot write %s: %s"), up->tmp,
			    n == 0 ? _("no space") : strerror(errno));
			return -1;
		}
		buf += n;
		len -= (size_t)n;
		up->remaining -= (uint64_t)n;
	}
	return 0;
}

/*
 * Read the next slice of the frame straight from the socket sock into the
 * file: libevent's buffers read a socket 4 KiB at a time, a cost paid for
 * every slice of a large frame. Never reads past the frame's last byte,
 * which the next request follows.
 */
enum upload_status
upload_read(struct upload *up, int sock, char **cause)
{
	size_t	want = sizeof upload_buf;
	ssize_t	n;

	if (up->remaining < want)
		want = (size_t)up->remaining;
	if (want > 0) {
		n = read(sock, upload_buf, want);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return UPLOAD_MORE;
		if (n <= 0)
			return UPLOAD_CLOSED;
		if (upload_write(up, upload_buf, (size_t)n, cause) != 0)
			return UPLOAD_FAILED;
	}
	return up->remaining == 0 ? UPLOAD_DONE : UPLOAD_MORE;
}

/* Move tmp to path unless a file is there; -1 with errno if not moved. */
static int
upload_move(const char *tmp, const char *path)
{
#ifdef HAVE_RENAMEAT2
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
#endif
	/* Without renameat2's flags, a link never replaces either. */
	if (link(tmp, path) == -1)
		return -1;
	unlink(tmp);
	return 0;
}

/*
 * Flush the finished frame and give it its real name; frees up. The
 * caller stores only a frame that is not done, so a file already under
 * its name is left from an earlier render of the job (before the job
 * started over), and goes first; one that appears meanwhile stays.
 */
int
upload_commit(struct upload *up, char **cause)
{
	int	rc;

	if (fdatasync(up->fd) == -1 || close(up->fd) == -1) {
		xasprintf(cause, _("cannot write %s: %s"), up->tmp,
		    strerror(errno));
		up->fd = -1;
		upload_abort(up);
		return -1;
	}
	up->fd = -1;
	rc = upload_move(up->tmp, up->path);
	if (rc == -1 && errno == EEXIST &&
	    (unlink(up->path) == 0 || errno == ENOENT))
		rc = upload_move(up->tmp, up->path);
	if (rc == -1) {
		xasprintf(cause, _("cannot rename %s to %s: %s"), up->tmp,
		    up->path, strerror(errno));
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
