/*
 * client-cache.c: the .blend files a client keeps, and the files their
 * scenes need, one folder per digest under the work directory, so that
 * jobs sharing a file share the copy, two files with the same name never
 * mix, and several clients on one machine can use the same work
 * directory. A copy whose file has not been
 * used for cache_idle seconds is removed.
 *
 * Clients that share a work directory agree through flock(2) on each
 * copy's folder: a client holds a shared lock on it while it has frames
 * that need it to fetch or render, and removes a copy only under an
 * exclusive lock taken without waiting, that is, when no client uses it.
 * The system drops the locks of a client that dies, however it dies.
 */
#include "bdfarm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "client.h"
#include "fileio.h"
#include "log.h"
#include "proto.h"
#include "settings.h"
#include "xmalloc.h"

/* The path of the local copy of a .blend: CACHEDIR/DIGEST/NAME. */
char *
client_cache_path(struct client *c, const char *digest, const char *name)
{
	char	*path;

	xasprintf(&path, "%s/%s/%s", c->cachedir, digest, name);
	return path;
}

/*
 * Whether the cache folder has room for a file of size bytes: 0 if it has,
 * or if its file system cannot say (writing it will tell); -1 if not, with
 * the bytes free in avail.
 */
int
client_cache_room(struct client *c, uint64_t size, uint64_t *avail)
{
	struct statvfs	sv;

	if (statvfs(c->cachedir, &sv) == -1)
		return 0;
	*avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	return size > *avail ? -1 : 0;
}

/* The lock this client holds on the copy with this digest, or NULL. */
static struct client_cache_lock *
client_cache_find(struct client *c, const char *digest)
{
	struct client_cache_lock	*l;

	TAILQ_FOREACH(l, &c->locks, entry) {
		if (strcmp(l->digest, digest) == 0)
			return l;
	}
	return NULL;
}

/*
 * Open dir, creating it if need be, and take a shared lock on it without
 * waiting. Returns the descriptor; -2 if another client holds it
 * exclusively (it is removing the copy); -1 with errno on an error.
 */
static int
client_cache_lock_dir(const char *dir)
{
	struct stat	 locked, named;
	int		 fd, tries;

	for (tries = 0; tries < 3; tries++) {
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			return -1;
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd == -1) {
			if (errno == ENOENT)
				continue;
			return -1;
		}
		if (flock(fd, LOCK_SH | LOCK_NB) == -1) {
			if (errno == EWOULDBLOCK) {
				close(fd);
				return -2;
			}
			if (errno == EINTR) {
				close(fd);
				continue;
			}
			/* No locks on this file system: go on without. */
			log_debug("cannot lock %s: %s", dir, strerror(errno));
		}
		/* The folder may have been removed before the lock was had. */
		if (fstat(fd, &locked) == 0 && stat(dir, &named) == 0 &&
		    locked.st_dev == named.st_dev &&
		    locked.st_ino == named.st_ino)
			return fd;
		close(fd);
	}
	return -2;
}

/*
 * Make sure this client holds its shared lock on the folder of the copy
 * with this digest, creating the folder if need be. Returns 0 once it
 * does, 1 if another client is removing the copy right now (try again in
 * a moment), -1 with a reason if the folder cannot be made or opened.
 */
int
client_cache_hold(struct client *c, const char *digest, char **cause)
{
	struct client_cache_lock	*l;
	char				*dir;
	int				 fd;

	if (client_cache_find(c, digest) != NULL)
		return 0;
	xasprintf(&dir, "%s/%s", c->cachedir, digest);
	if ((fd = client_cache_lock_dir(dir)) < 0) {
		if (fd == -1)
			xasprintf(cause, _("cannot create %s: %s"), dir,
			    strerror(errno));
		free(dir);
		return fd == -1 ? -1 : 1;
	}
	free(dir);
	l = xcalloc(1, sizeof *l);
	snprintf(l->digest, sizeof l->digest, "%s", digest);
	l->fd = fd;
	TAILQ_INSERT_TAIL(&c->locks, l, entry);
	return 0;
}

/*
 * Whether a frame of this client still needs the copy with this digest:
 * its .blend, or a file its scene needs (from the list a render took
 * along, or the client's list for a frame that waits).
 */
static int
client_cache_in_use(struct client *c, const char *digest)
{
	struct client_frame	*f;
	struct client_manifest	*m;

	TAILQ_FOREACH(f, &c->frames, entry) {
		if (f->state == CLIENT_FRAME_DONE)
			continue;
		if (strcmp(f->digest, digest) == 0)
			return 1;
		if (f->state == CLIENT_FRAME_RENDERING && f->render != NULL)
			m = f->render->manifest;
		else
			m = client_manifest_find(c, f->blend, f->digest);
		if (m != NULL && client_manifest_lists(m, digest))
			return 1;
	}
	return 0;
}

/*
 * Let go of the copies no frame of this client needs any more, or of all
 * of them (every set) for a client that ends.
 */
void
client_cache_release(struct client *c, int every)
{
	struct client_cache_locks	 held;
	struct client_cache_lock	*l, *next;

	/* Take every lock off the list, and put back those still needed. */
	TAILQ_INIT(&held);
	TAILQ_CONCAT(&held, &c->locks, entry);
	TAILQ_FOREACH_SAFE(l, &held, entry, next) {
		if (!every && client_cache_in_use(c, l->digest)) {
			TAILQ_INSERT_TAIL(&c->locks, l, entry);
			continue;
		}
		close(l->fd);
		free(l);
	}
}

/*
 * Whether the cache holds a complete copy of this .blend that this client
 * may use: it holds the copy's lock, so no other client removes it.
 */
int
client_cache_has(struct client *c, const char *digest, const char *name)
{
	struct stat	 st;
	char		*path, *cause = NULL;
	int		 found;

	if (client_cache_hold(c, digest, &cause) != 0) {
		free(cause);
		return 0;
	}
	path = client_cache_path(c, digest, name);
	found = stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
	free(path);
	return found;
}

/* Mark a copy as used now, so that no client removes it as idle. */
void
client_cache_touch(const char *path)
{
	utimensat(AT_FDCWD, path, NULL, 0);
}

/* Whether every file in dir is older than the idle time. */
static int
client_cache_idle(struct client *c, const char *dir, time_t now)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		*path;
	int		 fresh = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0 &&
		    now - st.st_mtime < c->settings->cache_idle)
			fresh = 1;
		free(path);
	}
	closedir(d);
	return !fresh;
}

/*
 * Remove one digest's folder if no client uses it and every file in it is
 * older than the idle time; returns whether it was removed. The exclusive
 * lock is held until the folder is gone, so that a client that wants the
 * copy meanwhile waits and then makes a new folder.
 */
static int
client_cache_expire_one(struct client *c, const char *dir, time_t now)
{
	int	fd, removed = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && client_cache_idle(c, dir, now))
		removed = fileio_remove_dir(dir) == 0;
	close(fd);
	return removed;
}

/* Remove the copies that nothing has used for cache_idle seconds. */
void
client_cache_expire(struct client *c)
{
	DIR		*d;
	struct dirent	*de;
	char		*dir;
	time_t		 now = time(NULL);

	client_cache_release(c, 0);
	if ((d = opendir(c->cachedir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!proto_valid_digest(de->d_name) ||
		    client_cache_find(c, de->d_name) != NULL)
			continue;
		xasprintf(&dir, "%s/%s", c->cachedir, de->d_name);
		if (client_cache_expire_one(c, dir, now))
			log_info(_("removed the idle cached copy %s"), dir);
		free(dir);
	}
	closedir(d);
}
