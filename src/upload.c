/*
 * upload.c: storing a received frame. The bytes go to a hidden temporary
 * file in the job's render folder; only a complete, flushed file is
 * renamed to its real name, so a frame on disk is always whole, and an
 * upload cut off half-way leaves nothing behind. The rename is a step of
 * the server's commit, done once the checkpoint that records the frame
 * is written, and again at start-up if the process died in between; it
 * never replaces a finished frame.
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

#include "xmalloc.h"

#define UPLOAD_SLICE	(256 * 1024)	/* bytes read from a socket at once */

struct upload {
	int		 fd;
	char		*name;		/* the job's folder in the render folder */
	char		*dir;
	char		*tmp;
	char		*file;		/* the name to store the frame under */
	uint64_t	 remaining;
};

static unsigned long upload_counter;
static pid_t upload_pid;
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
	up->name = xstrdup(name);
	up->file = xstrdup(file);
	xasprintf(&up->dir, "%s/%s", renderdir, name);
	if (upload_pid == 0)
		upload_pid = getpid();
	xasprintf(&up->tmp, "%s/.upload-%ld-%lu.part", up->dir,
	    (long)upload_pid, ++upload_counter);
	/* The job's folder is made with its first frame. */
	up->fd = open(up->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (up->fd == -1 && errno == ENOENT) {
		if (mkdir(up->dir, 0755) == -1 && errno != EEXIST) {
			xasprintf(cause, _("cannot create %s: %s"), up->dir,
			    strerror(errno));
			goto fail;
		}
		up->fd = open(up->tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC, 0644);
	}
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
		if (n == 0) {
			xasprintf(cause, _("cannot write %s: no space"),
			    up->tmp);
			return -1;
		}
		if (n == -1) {
			xasprintf(cause, _("cannot write %s: %s"), up->tmp,
			    strerror(errno));
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
 * which the next request follows. Nothing to read yet is UPLOAD_MORE.
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
int
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
 * Close the whole frame's file (the commit flushes it), and check that
 * nothing but an old frame stands where it is to go, so that once it is
 * committed, moving it there can only be held up for a while (a full
 * disk), never for good; -1 with *cause if either fails.
 */
int
upload_seal(struct upload *up, char **cause)
{
	struct stat	 st;
	char		*path;
	int		 rc = close(up->fd);

	up->fd = -1;
	if (rc == -1) {
		xasprintf(cause, _("cannot write %s: %s"), up->tmp,
		    strerror(errno));
		return -1;
	}
	xasprintf(&path, "%s/%s", up->dir, up->file);
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		xasprintf(cause, _("cannot store a frame as %s: something "
		    "else is there"), path);
		rc = -1;
	}
	free(path);
	return rc;
}

/*
 * Hand a sealed frame over to the commit: *from and *to receive its
 * temporary file and its real name, both in the render folder; frees up
 * but leaves the file.
 */
void
upload_release(struct upload *up, char **from, char **to)
{
	xasprintf(from, "%s/%s", up->name, strrchr(up->tmp, '/') + 1);
	xasprintf(to, "%s/%s", up->name, up->file);
	free(up->tmp);
	up->tmp = NULL;
	upload_abort(up);
}

/*
 * Move the stored frame from (in renderdir) to its real name to. The
 * commit moves only a frame the farm did not have, so a file already
 * under its name is left from an earlier render of the job (before it
 * started over), and goes first; one that appears meanwhile stays. A
 * frame already moved (by a process that died after) is fine. -1 with
 * *cause if it could not be moved.
 */
int
upload_place(const char *renderdir, const char *from, const char *to,
    char **cause)
{
	char	*tmp, *path;
	int	 rc;

	xasprintf(&tmp, "%s/%s", renderdir, from);
	xasprintf(&path, "%s/%s", renderdir, to);
	rc = upload_move(tmp, path);
	if (rc == -1 && errno == EEXIST &&
	    (unlink(path) == 0 || errno == ENOENT))
		rc = upload_move(tmp, path);
	if (rc == -1 && errno == ENOENT && access(path, F_OK) == 0)
		rc = 0;
	if (rc == -1)
		xasprintf(cause, _("cannot rename %s to %s: %s"), tmp, path,
		    strerror(errno));
	free(tmp);
	free(path);
	return rc;
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
	free(up->file);
	free(up->dir);
	free(up->name);
	free(up);
}
