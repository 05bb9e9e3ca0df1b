/*
 * fileio.c: writing a file so that a crash leaves either the old or the
 * new contents (temporary file, flush, rename, flush the folder), reading
 * a file that must be small, and telling whether a file has changed.
 */
#include "bdfarm.h"
#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"

/* Flush a folder's entries, so that a rename inside it is on disk. */
int
fileio_sync_dir(const char *dir)
{
	int	fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Move tmp to path in one step: swapped with it where the file system can
 * (path.previous then keeps the old contents, and no file is deleted),
 * else renamed over it.
 */
static int
fileio_swap(const char *tmp, const char *path)
{
#ifdef HAVE_RENAMEAT2
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0)
		return 0;
	if (errno != ENOENT && errno != EINVAL && errno != ENOSYS)
		return -1;
#endif
	return rename(tmp, path);
}

/*
 * Replace path with data atomically, as a file of that mode; -1 and
 * *cause on failure. The data is written to path.previous, then swapped
 * with path, so that writing path over and over creates and deletes no
 * file: on ext4, files deleted in the last minutes make creating others
 * slow, and a server writes its checkpoint for every few frames it stores.
 */
int
fileio_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, char **cause)
{
	char		*tmp, *copy;
	const char	*p = data;
	ssize_t		 n;
	int		 fd;

	xasprintf(&tmp, "%s.previous", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd == -1 || fchmod(fd, mode) == -1)
		goto fail;
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (fileio_swap(tmp, path) == -1)
		goto fail;
	free(tmp);
	copy = xstrdup(path);
	fileio_sync_dir(dirname(copy));
	free(copy);
	return 0;

fail:
	xasprintf(cause, _("cannot write %s: %s"), path, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

/*
 * Read all of path, which must be a regular file of at most max bytes,
 * into a new NUL-terminated buffer.
 */
int
fileio_read_small(const char *path, size_t max, char **data, size_t *len,
    char **cause)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 got = 0, size;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		goto fail;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	/* Sized by the file, growing if it grows while read, up to max. */
	size = (size_t)st.st_size + 1;
	buf = xmalloc(size);
	while (got <= max) {
		if (got == size) {
			size = size > max / 2 ? max + 1 : size * 2;
			buf = xreallocarray(buf, size, 1);
		}
		if ((n = read(fd, buf + got, size - got)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > max) {
		errno = EFBIG;
		goto fail;
	}
	close(fd);
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;

fail:
	xasprintf(cause, "%s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	free(buf);
	return -1;
}

/* The identity of a file as stat(2) describes it. */
void
fileio_id(const struct stat *st, struct file_id *id)
{
	id->dev = (uint64_t)st->st_dev;
	id->ino = (uint64_t)st->st_ino;
	id->size = (int64_t)st->st_size;
	id->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
	    st->st_mtim.tv_nsec;
}

/* Whether two identities are of the same, unchanged file. */
int
fileio_id_equal(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime_ns == b->mtime_ns;
}

/* Check that dir is a folder this process can write into. */
int
fileio_check_dir(const char *dir, char **cause)
{
	struct stat	st;

	if (stat(dir, &st) == -1) {
		xasprintf(cause, _("%s: %s"), dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		xasprintf(cause, _("%s: not a folder"), dir);
		return -1;
	}
	if (access(dir, W_OK | X_OK) == -1) {
		xasprintf(cause, _("%s: not writable: %s"), dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Remove a folder and everything in it, subfolders included; a symbolic
 * link is removed, never followed. -1 if the folder could not be removed.
 */
int
fileio_remove_dir(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		*path;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			xasprintf(&path, "%s/%s", dir, de->d_name);
			if (unlink(path) == -1 && errno == EISDIR)
				fileio_remove_dir(path);
			free(path);
		}
		closedir(d);
	}
	return rmdir(dir);
}
