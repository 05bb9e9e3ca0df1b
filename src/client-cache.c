/*
 * client-cache.c: the .blend files a client keeps, one folder per digest
 * under the work directory, so that jobs sharing a file share the copy,
 * two files with the same name never mix, and several clients on one
 * machine can use the same work directory. A copy whose file has not been
 * used for cache_idle seconds is removed.
 */
#include "bdfarm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Whether the cache holds a complete copy of this .blend. */
int
client_cache_has(struct client *c, const char *digest, const char *name)
{
	struct stat	 st;
	char		*path = client_cache_path(c, digest, name);
	int		 found;

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

/* Whether a frame of this client still needs the copy with this digest. */
static int
client_cache_in_use(struct client *c, const char *digest)
{
	struct client_frame	*f;

	TAILQ_FOREACH(f, &c->frames, entry) {
		if (strcmp(f->digest, digest) == 0 &&
		    f->state != CLIENT_FRAME_DONE)
			return 1;
	}
	return 0;
}

/*
 * Remove one digest's folder if every file in it is older than the idle
 * time; returns whether it was removed.
 */
static int
client_cache_expire_one(struct client *c, const char *dir, time_t now)
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
	return !fresh && fileio_remove_dir(dir) == 0;
}

/* Remove the copies that nothing has used for cache_idle seconds. */
void
client_cache_expire(struct client *c)
{
	DIR		*d;
	struct dirent	*de;
	char		*dir;
	time_t		 now = time(NULL);

	if ((d = opendir(c->cachedir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!proto_valid_digest(de->d_name) ||
		    client_cache_in_use(c, de->d_name))
			continue;
		xasprintf(&dir, "%s/%s", c->cachedir, de->d_name);
		if (client_cache_expire_one(c, dir, now))
			log_info(_("removed the idle cached copy %s"), dir);
		free(dir);
	}
	closedir(d);
}
