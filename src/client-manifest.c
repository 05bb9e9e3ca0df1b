/*
 * client-manifest.c: the external files a scene needs (textures, image
 * sequences, linked libraries, caches), as a bdfarm/3 server lists them
 * for each .blend. A frame renders only once its .blend and every file
 * listed with a digest are in the cache; each file is cached by digest
 * like a .blend, so that jobs sharing a file fetch it once. The lists
 * live in memory and are asked for again on every new connection, for
 * the files may have changed on the server meanwhile. Also here: the
 * files Blender said it could not find, to be told to the server.
 */
#include "bdfarm.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "clock.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

#define CLIENT_MANIFEST_RETRY	2000	/* ms before asking again after NOK */
#define CLIENT_MANIFEST_REFUSALS 3	/* NOKs in a row before giving up */

/*
 * The list of files of the .blend of this name and digest, or NULL: the
 * same .blend in two places on the server needs other files.
 */
struct client_manifest *
client_manifest_find(struct client *c, const char *blend, const char *digest)
{
	struct client_manifest	*m;

	TAILQ_FOREACH(m, &c->manifests, entry) {
		if (strcmp(m->digest, digest) == 0 &&
		    strcmp(m->blend, blend) == 0)
			return m;
	}
	return NULL;
}

/* Whether the job of frame f wants a Blender of its own for every frame. */
int
client_manifest_fresh(struct client *c, const struct client_frame *f)
{
	struct client_manifest	*m;

	m = client_manifest_find(c, f->blend, f->digest);
	return m != NULL && m->fresh_blender;
}

/* A new, empty list for a .blend; not yet in the client's list. */
struct client_manifest *
client_manifest_new(const char *blend, const char *digest)
{
	struct client_manifest	*m = xcalloc(1, sizeof *m);

	m->blend = xstrdup(blend);
	snprintf(m->digest, sizeof m->digest, "%s", digest);
	return m;
}

/* Add a file, with its digest or NULL for one the server does not have. */
void
client_manifest_add(struct client_manifest *m, const char *digest,
    uint64_t size, const char *path)
{
	struct client_manifest_file	*f;
	const char			*slash = strrchr(path, '/');

	m->files = xreallocarray(m->files, m->nfiles + 1, sizeof *m->files);
	f = &m->files[m->nfiles++];
	memset(f, 0, sizeof *f);
	if (digest != NULL)
		snprintf(f->digest, sizeof f->digest, "%s", digest);
	f->size = size;
	f->path = xstrdup(path);
	f->name = xstrdup(slash != NULL ? slash + 1 : path);
}

/* Forget the files of a list, keeping the list itself. */
static void
client_manifest_empty(struct client_manifest *m)
{
	unsigned int	i;

	for (i = 0; i < m->nfiles; i++) {
		free(m->files[i].path);
		free(m->files[i].name);
	}
	free(m->files);
	m->files = NULL;
	m->nfiles = 0;
	m->known = 0;
}

/* Release a list that is not in the client's list. */
void
client_manifest_free(struct client_manifest *m)
{
	if (m == NULL)
		return;
	client_manifest_empty(m);
	free(m->blend);
	free(m);
}

/* A copy of a list, for a render that needs it after the list changes. */
struct client_manifest *
client_manifest_copy(const struct client_manifest *m)
{
	struct client_manifest	*copy;
	unsigned int		 i;

	copy = client_manifest_new(m->blend, m->digest);
	copy->allow_missing = m->allow_missing;
	copy->fresh_blender = m->fresh_blender;
	for (i = 0; i < m->nfiles; i++)
		client_manifest_add(copy, m->files[i].digest[0] != '\0' ?
		    m->files[i].digest : NULL, m->files[i].size,
		    m->files[i].path);
	copy->known = m->known;
	return copy;
}

/* Take a list out of the client's list and release it. */
static void
client_manifest_remove(struct client *c, struct client_manifest *m)
{
	TAILQ_REMOVE(&c->manifests, m, entry);
	client_manifest_free(m);
}

/* Forget every list: a new connection asks for them again. */
void
client_manifests_clear(struct client *c)
{
	struct client_manifest	*m, *next;

	TAILQ_FOREACH_SAFE(m, &c->manifests, entry, next)
		client_manifest_free(m);
	TAILQ_INIT(&c->manifests);
}

/*
 * Whether a server path may be laid out under a scene folder: absolute,
 * with no empty base name and no "." or ".." component, so that it names
 * a place inside the folder and nowhere else.
 */
int
client_manifest_valid_path(const char *path)
{
	const char	*p, *end;
	size_t		 len;

	if (path[0] != '/' || path[strlen(path) - 1] == '/')
		return 0;
	for (p = path + 1; *p != '\0'; p = end + (*end == '/')) {
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if ((len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
	}
	return 1;
}

/* Whether a list names a file (other than its .blend) with this digest. */
int
client_manifest_lists(const struct client_manifest *m, const char *digest)
{
	unsigned int	i;

	for (i = 1; i < m->nfiles; i++) {
		if (strcmp(m->files[i].digest, digest) == 0)
			return 1;
	}
	return 0;
}

/*
 * Whether the cache holds a file of a list, whole: of the size listed,
 * which may be 0 (a .blend never is).
 */
static int
client_manifest_cached(struct client *c, const struct client_manifest_file *f)
{
	struct stat	 st;
	char		*path = client_cache_path(c, f->digest, f->name);
	int		 found;

	found = stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size == f->size;
	free(path);
	return found;
}

/*
 * The first file of a list that is not in the cache yet: 1 with it in
 * file, 0 if every file is there, 2 if another client is removing a copy
 * right now (try again in a moment), -1 with a reason if the cache cannot
 * take it. The .blend itself, always first, is cached as a .blend.
 */
int
client_manifest_wanted(struct client *c, struct client_manifest *m,
    const struct client_manifest_file **file, char **cause)
{
	const struct client_manifest_file	*f;
	unsigned int				 i;

	for (i = 1; i < m->nfiles; i++) {
		f = &m->files[i];
		if (f->digest[0] == '\0')
			continue;
		switch (client_cache_hold(c, f->digest, cause)) {
		case -1:
			return -1;
		case 1:
			return 2;
		}
		if (!client_manifest_cached(c, f)) {
			*file = f;
			return 1;
		}
	}
	return 0;
}

/* Whether the .blend has its whole list in the cache. */
int
client_manifest_ready(struct client *c, const char *blend, const char *digest)
{
	struct client_manifest			*m;
	const struct client_manifest_file	*f;
	char					*cause = NULL;
	int					 rc;

	if ((m = client_manifest_find(c, blend, digest)) == NULL || !m->known)
		return 0;
	rc = client_manifest_wanted(c, m, &f, &cause);
	free(cause);
	return rc == 0;
}

/*
 * Take a list the server sent whole, in place of any older one. A list
 * with a path that cannot be laid out safely is refused, and so are the
 * frames of its .blend. Files the server does not have are logged once;
 * so is what is left to fetch.
 */
void
client_manifest_take(struct client *c, struct client_manifest *m)
{
	struct client_manifest	*old;
	unsigned int		 i, n = 0;
	uint64_t		 bytes = 0;
	char			*why, *reason, *cause = NULL;

	old = client_manifest_find(c, m->blend, m->digest);
	for (i = 0; i < m->nfiles; i++) {
		/* What the server lacks is not laid out: any path will do. */
		if (m->files[i].digest[0] == '\0' ||
		    client_manifest_valid_path(m->files[i].path))
			continue;
		xasprintf(&why, _("the server names the file %s, which is not "
		    "a safe absolute path"), m->files[i].path);
		xasprintf(&reason, "unsafe path in the file list: %s",
		    m->files[i].path);
		client_blend_give_up(c, m->digest, m->blend, why, reason);
		free(reason);
		free(why);
		client_manifest_free(m);
		if (old != NULL)
			client_manifest_remove(c, old);
		return;
	}
	if (old != NULL) {
		m->refusals = old->refusals;
		client_manifest_remove(c, old);
	}
	m->known = 1;
	TAILQ_INSERT_TAIL(&c->manifests, m, entry);
	for (i = 1; i < m->nfiles; i++) {
		if (m->files[i].digest[0] == '\0') {
			log_warnx(_("%s is missing on the server (needed by "
			    "%s)"), m->files[i].path, m->blend);
			continue;
		}
		if (client_cache_hold(c, m->files[i].digest, &cause) == 0 &&
		    !client_manifest_cached(c, &m->files[i])) {
			n++;
			bytes += m->files[i].size;
		}
		free(cause);
		cause = NULL;
	}
	if (n > 0)
		log_info(ngettext("fetching %u file (%.1f MB) for %s",
		    "fetching %u files (%.1f MB) for %s", n), n,
		    (double)bytes / 1e6, m->blend);
}

/*
 * The server would not send a file of a list (NOK), or sent other bytes
 * than the list said: the file changed on the server since it was hashed.
 * Ask for the list again after a pause; after a few refusals in a row,
 * the frames of that .blend fail.
 */
void
client_manifest_refused(struct client *c, const char *blend,
    const char *digest, const char *path)
{
	struct client_manifest	*m;
	char			*why, *reason;

	if ((m = client_manifest_find(c, blend, digest)) == NULL)
		return;
	if (++m->refusals < CLIENT_MANIFEST_REFUSALS) {
		log_info(_("the server would not send %s; asking for the files "
		    "of %s again"), path, m->blend);
		client_manifest_empty(m);
		m->retry_at = clock_mono_ms() + CLIENT_MANIFEST_RETRY;
		client_wake_in(c, CLIENT_MANIFEST_RETRY);
		return;
	}
	xasprintf(&why, _("the server cannot send %s"), path);
	xasprintf(&reason, "the server cannot send %s", path);
	TAILQ_REMOVE(&c->manifests, m, entry);
	client_blend_give_up(c, m->digest, m->blend, why, reason);
	client_manifest_free(m);
	free(reason);
	free(why);
}

/* The server has no live job with this .blend (NOK to REQUESTFILES). */
void
client_manifest_unknown(struct client *c, const char *digest,
    const char *blend)
{
	struct client_manifest	*m;

	if ((m = client_manifest_find(c, blend, digest)) != NULL)
		client_manifest_remove(c, m);
	client_blend_give_up(c, digest, blend, _("the server lists no files "
	    "for it"), "the server lists no files for the .blend file");
}

/*
 * Have a bdfarm/3 server told that Blender did not find path while
 * rendering a frame; control characters become '?' and the path is cut.
 */
void
client_missing_add(struct client *c, const struct client_frame *f,
    const char *path)
{
	struct client_missing	*x = xcalloc(1, sizeof *x);

	x->blend = xstrdup(f->blend);
	snprintf(x->digest, sizeof x->digest, "%s", f->digest);
	x->frame = f->frame;
	x->path = xstrndup(path, PROTO_MAX_MISSING);
	proto_sanitize_text(x->path);
	TAILQ_INSERT_TAIL(&c->missings, x, entry);
}

/* Forget the missing files not yet told. */
void
client_missings_clear(struct client *c)
{
	struct client_missing	*x;

	while ((x = TAILQ_FIRST(&c->missings)) != NULL) {
		TAILQ_REMOVE(&c->missings, x, entry);
		free(x->blend);
		free(x->path);
		free(x);
	}
}
