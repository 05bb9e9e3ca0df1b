/*
 * deps.c: the files each job's .blend needs. A .blend is read while it is
 * hashed (a second time only if what it needs is described after it is
 * stored, which the reader says), and every path it gives is made into
 * files on the server: a numbered sequence stands for its files in the
 * folder, a set of UDIM tiles for its tiles, a cache folder for every
 * file under it, and a linked library is itself a .blend, read in turn.
 *
 * Every file is known once, by path, whatever needs it, and is hashed in
 * slices (digest.c), once, and again only when a check finds it changed.
 * A file that cannot be found is kept with the reason, and looked for
 * again at every check. What no opened .blend needs any more, directly or
 * through a library, is forgotten by a sweep from the opened ones, which
 * copes with libraries that link each other.
 */
#include "bdfarm.h"
#include "deps.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blendfile.h"
#include "deppath.h"
#include "fileio.h"
#include "log.h"
#include "xmalloc.h"

#define DEPS_MAX_FOLDER_FILES	10000	/* taken from one cache folder */
#define DEPS_MAX_FOLDER_DEPTH	8
#define DEPS_CHECK_FILES	1024	/* stat-ed at one check of a .blend */

struct deps {
	struct event_base	*base;
	deps_changed_fn		 changed;
	void			*arg;
	void			*paths;		/* depfiles by path (tsearch) */
	struct depfile		*all;
	unsigned		 mark;
	int			 sweep;		/* something may be unneeded */
	struct event		*notify_ev;
};

static void	deps_start(struct depfile *);

/* Order files by path, for tsearch. */
static int
deps_compare(const void *a, const void *b)
{
	return strcmp(((const struct depfile *)a)->path,
	    ((const struct depfile *)b)->path);
}

/* Tell the owner, at the next turn of the loop, that something changed. */
static void
deps_notify(struct deps *d)
{
	const struct timeval	zero = { 0, 0 };

	if (!evtimer_pending(d->notify_ev, NULL))
		evtimer_add(d->notify_ev, &zero);
}

/* Stop reading a file, and forget what it was found to need. */
static void
deps_reset(struct depfile *f)
{
	hasher_cancel(f->hasher);
	f->hasher = NULL;
	blendfile_free(f->reader);
	f->reader = NULL;
	f->pass = 0;
}

/* Release a file that nothing needs any more. */
static void
deps_free_file(struct depfile *f)
{
	deps_reset(f);
	tdelete(f, &f->deps->paths, deps_compare);
	free(f->needs);
	free(f->error);
	free(f->parse_error);
	free(f->path);
	free(f);
}

/*
 * Mark every file that root needs, root included, with the current mark;
 * returns them in *list (if not NULL) in the order found, root first.
 */
static size_t
deps_walk(struct depfile *root, struct depfile ***list)
{
	struct depfile	**stack = NULL, **found = NULL, *f;
	size_t		  nstack = 0, nfound = 0, i;
	unsigned	  mark = root->deps->mark;

	if (list != NULL)
		*list = NULL;
	if (root->mark == mark)
		return 0;
	root->mark = mark;
	stack = xreallocarray(NULL, 1, sizeof *stack);
	stack[nstack++] = root;
	while (nstack > 0) {
		f = stack[--nstack];
		if (list != NULL) {
			found = xreallocarray(found, nfound + 1,
			    sizeof *found);
			found[nfound] = f;
		}
		nfound++;
		for (i = f->nneeds; i > 0; i--) {
			if (f->needs[i - 1]->mark == mark)
				continue;
			f->needs[i - 1]->mark = mark;
			stack = xreallocarray(stack, nstack + 1,
			    sizeof *stack);
			stack[nstack++] = f->needs[i - 1];
		}
	}
	free(stack);
	if (list != NULL)
		*list = found;
	return nfound;
}

/* Forget every file that no opened .blend needs. */
static void
deps_sweep(struct deps *d)
{
	struct depfile	*f, **fp;

	d->sweep = 0;
	d->mark++;
	for (f = d->all; f != NULL; f = f->all_next) {
		if (f->roots > 0)
			deps_walk(f, NULL);
	}
	for (fp = &d->all; (f = *fp) != NULL;) {
		if (f->mark == d->mark) {
			fp = &f->all_next;
			continue;
		}
		*fp = f->all_next;
		deps_free_file(f);
	}
}

/* Sweep if need be, then tell the owner. */
static void
deps_notified(evutil_socket_t fd, short events, void *arg)
{
	struct deps	*d = arg;

	if (d->sweep)
		deps_sweep(d);
	d->changed(d->arg);
}

/*
 * The file at path (absolute), known already or new and being hashed;
 * a new .blend that is opened (root) waits for its owner to hash it.
 */
static struct depfile *
deps_get(struct deps *d, const char *path, int blend, int root)
{
	struct depfile	 key, *f;
	void		*node;

	key.path = xstrdup(path);
	node = tfind(&key, &d->paths, deps_compare);
	free(key.path);
	if (node != NULL) {
		f = *(struct depfile **)node;
		if (blend && !f->blend) {
			f->blend = 1;
			deps_start(f);
		}
		f->roots += root;
		return f;
	}
	f = xcalloc(1, sizeof *f);
	f->deps = d;
	f->path = xstrdup(path);
	f->blend = blend;
	f->all_next = d->all;
	d->all = f;
	tsearch(f, &d->paths, deps_compare);
	f->roots = root;
	deps_start(f);
	return f;
}

/*
 * Add what f needs, once: what is added bears the mark deps_read() took,
 * so that a folder of many thousand files is not compared with itself.
 */
static void
deps_need(struct depfile *f, struct depfile *need)
{
	if (need == f || need->mark == f->deps->mark)
		return;
	need->mark = f->deps->mark;
	f->needs = xreallocarray(f->needs, f->nneeds + 1, sizeof *f->needs);
	f->needs[f->nneeds++] = need;
}

/* Order names, for qsort. */
static int
deps_compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Add every file in folder dir whose name matches (by match and pattern),
 * in name order; returns how many.
 */
static size_t
deps_need_matching(struct depfile *f, const char *dir, const char *pattern,
    int (*match)(const char *, const char *))
{
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, *path;
	size_t		  n = 0, i;
	struct stat	  st;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < DEPS_MAX_FOLDER_FILES) {
		if (de->d_name[0] == '.' || !match(pattern, de->d_name))
			continue;
		names = xreallocarray(names, n + 1, sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n == 0)
		return 0;
	qsort(names, n, sizeof *names, deps_compare_names);
	for (i = 0; i < n; i++) {
		xasprintf(&path, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir,
		    names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			deps_need(f, deps_get(f->deps, path, 0, 0));
		free(path);
		free(names[i]);
	}
	free(names);
	return n;
}

/* Add every file under folder dir, to a bounded depth and number. */
static void
deps_need_folder(struct depfile *f, const char *dir, int depth,
    size_t *count)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		*path;

	if (depth > DEPS_MAX_FOLDER_DEPTH || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL && *count < DEPS_MAX_FOLDER_FILES) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		xasprintf(&path, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir,
		    de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			deps_need_folder(f, path, depth + 1, count);
		else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			deps_need(f, deps_get(f->deps, path, 0, 0));
			(*count)++;
		}
		free(path);
	}
	closedir(d);
}

/* Turn one path the .blend f gives into the files it stands for. */
static void
deps_resolve(struct depfile *f, const struct blenddep *dep)
{
	char	*path, *dir, *slash, *pattern;
	size_t	 count = 0;

	if ((path = deppath_resolve(f->path, dep->path)) == NULL) {
		deps_need(f, deps_get(f->deps, dep->path, 0, 0));
		return;
	}
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	slash[slash == dir ? 1 : 0] = '\0';
	switch (dep->form) {
	case BLENDDEP_FILE:
		deps_need(f, deps_get(f->deps, path,
		    dep->kind == BLENDDEP_LIBRARY, 0));
		break;
	case BLENDDEP_SEQUENCE:
		if (deps_need_matching(f, dir, deppath_base(path),
		    deppath_sequence_match) == 0)
			deps_need(f, deps_get(f->deps, path, 0, 0));
		break;
	case BLENDDEP_TILES:
		pattern = deppath_tiles_pattern(deppath_base(path));
		if (pattern == NULL)
			deps_need(f, deps_get(f->deps, path, 0, 0));
		else if (deps_need_matching(f, dir, pattern,
		    deppath_tiles_match) == 0)
			deps_need(f, deps_get(f->deps, path, 0, 0));
		free(pattern);
		break;
	case BLENDDEP_FOLDER:
		deps_need_folder(f, path, 0, &count);
		break;
	}
	free(dir);
	free(path);
}

/* A .blend has been read through: take what it needs. */
static void
deps_read(struct depfile *f)
{
	size_t	i;

	f->nneeds = 0;
	f->deps->mark++;
	for (i = 0; i < blendfile_count(f->reader); i++)
		deps_resolve(f, blendfile_dep(f->reader, i));
	blendfile_free(f->reader);
	f->reader = NULL;
	f->deps->sweep = 1;
	log_debug("%s needs %zu files", f->path, f->nneeds);
}

/* Note why a .blend could not be read; it is sent as it is. */
static void
deps_parse_failed(struct depfile *f, char *cause)
{
	if (f->parse_error == NULL || strcmp(f->parse_error, cause) != 0)
		log_warnx(_("cannot tell what %s needs: %s"), f->path, cause);
	free(f->parse_error);
	f->parse_error = cause;
	blendfile_free(f->reader);
	f->reader = NULL;
}

/* A slice of a .blend being hashed: the reader sees it too. */
static void
deps_tap(const void *data, size_t len, void *arg)
{
	struct depfile	*f = arg;
	char		*cause = NULL;

	if (f->reader != NULL &&
	    blendfile_feed(f->reader, data, len, &cause) != 0)
		deps_parse_failed(f, cause);
}

static void	deps_pass(struct depfile *, int, int);

/*
 * The end of a pass over a file: hashed (hex its digest), only read (hex
 * ""), or not readable (hex NULL, and why). A .blend whose reader wants
 * another pass is read once more; one that changed meanwhile, again.
 */
static void
deps_passed(struct depfile *f, const char *hex, const struct stat *st,
    const char *error)
{
	struct file_id	 id;
	char		*cause = NULL;
	int		 more;

	if (hex == NULL) {
		deps_reset(f);
		free(f->error);
		f->error = xstrdup(error);
		f->digest[0] = '\0';
		deps_notify(f->deps);
		return;
	}
	fileio_id(st, &id);
	if (f->pass == 2 && !fileio_id_equal(&id, &f->read_id)) {
		deps_pass(f, 1, f->roots == 0);
		return;
	}
	f->read_id = id;
	if (hex[0] != '\0') {
		snprintf(f->digest, sizeof f->digest, "%s", hex);
		f->id = id;
	}
	f->size = (int64_t)st->st_size;
	free(f->error);
	f->error = NULL;
	if (f->reader != NULL) {
		more = blendfile_end(f->reader, &cause);
		if (more == 1 && f->pass == 1) {
			deps_pass(f, 2, 0);
			return;
		}
		if (more == 0)
			deps_read(f);
		else
			deps_parse_failed(f, cause != NULL ? cause :
			    xstrdup(_("no end to what it needs")));
	}
	f->pass = 0;
	deps_notify(f->deps);
}

/* A hasher of the deps' own is done. */
static void
deps_hashed(const char *hex, const struct stat *st, const char *error,
    void *arg)
{
	struct depfile	*f = arg;

	f->hasher = NULL;
	deps_passed(f, hex, st, error);
}

/* Start reading a .blend from its start, for pass 1. */
static void
deps_reader_start(struct depfile *f)
{
	blendfile_free(f->reader);
	f->reader = blendfile_new(deppath_base(f->path));
	free(f->parse_error);
	f->parse_error = NULL;
}

/* Go over f from its start, hashing it or only reading it. */
static void
deps_pass(struct depfile *f, int pass, int hashing)
{
	f->pass = pass;
	if (hashing)
		f->hasher = hasher_start(f->deps->base, f->path, deps_hashed,
		    f);
	else
		f->hasher = hasher_start_reading(f->deps->base, f->path,
		    deps_hashed, f);
	if (f->blend) {
		if (pass == 1)
			deps_reader_start(f);
		hasher_set_tap(f->hasher, deps_tap, f);
	}
}

/*
 * Hash (and read) f again from the start. A path that is not absolute
 * was written on another system and means nothing here: it is missing.
 * A .blend that was opened is hashed by its owner, who lets it be read
 * on the way (deps_root_tap).
 */
static void
deps_start(struct depfile *f)
{
	deps_reset(f);
	if (f->roots > 0)
		return;
	f->digest[0] = '\0';
	if (f->path[0] != '/') {
		free(f->error);
		f->error = xstrdup(_("a path for another system"));
		return;
	}
	deps_pass(f, 1, 1);
}

/*
 * Check one file by stat: a missing one is noted, one that changed (or
 * appeared) is hashed again. Returns whether it is being hashed.
 */
static int
deps_check_file(struct depfile *f)
{
	struct stat	st;
	struct file_id	id;
	char		*why;

	if (f->path[0] != '/' || f->roots > 0)
		return 0;
	if (f->hasher != NULL)
		return 1;
	errno = 0;
	if (stat(f->path, &st) == -1 || !S_ISREG(st.st_mode)) {
		why = xstrdup(errno != 0 ? strerror(errno) : _("not a file"));
		if (f->error == NULL || strcmp(f->error, why) != 0) {
			free(f->error);
			f->error = why;
			f->digest[0] = '\0';
			deps_notify(f->deps);
		} else
			free(why);
		return 0;
	}
	fileio_id(&st, &id);
	if (f->digest[0] != '\0' && fileio_id_equal(&id, &f->id))
		return 0;
	deps_start(f);
	return 1;
}

/* Create the registry; changed is called, from the loop, on news. */
struct deps *
deps_new(struct event_base *base, deps_changed_fn changed, void *arg)
{
	struct deps	*d = xcalloc(1, sizeof *d);

	d->base = base;
	d->changed = changed;
	d->arg = arg;
	d->notify_ev = evtimer_new(base, deps_notified, d);
	return d;
}

/* Release the registry and every file it knows. */
void
deps_free(struct deps *d)
{
	struct depfile	*f;

	if (d == NULL)
		return;
	while ((f = d->all) != NULL) {
		d->all = f->all_next;
		deps_free_file(f);
	}
	event_free(d->notify_ev);
	free(d);
}

/* Open the .blend at path (absolute): it and what it needs are kept. */
struct depfile *
deps_open(struct deps *d, const char *path)
{
	struct depfile	*f;
	char		*clean;

	/* As clients lay it out: "/srv/./p/../s.blend" is /srv/s.blend. */
	if ((clean = deppath_resolve(path, path)) == NULL)
		clean = xstrdup(path);
	f = deps_get(d, clean, 1, 1);
	free(clean);
	return f;
}

/*
 * The owner of a .blend opened with deps_open starts hashing it with h:
 * it is read on the way, from its start.
 */
void
deps_root_tap(struct depfile *root, struct hasher *h)
{
	deps_reset(root);
	root->pass = 1;
	deps_reader_start(root);
	hasher_set_tap(h, deps_tap, root);
}

/* The owner's hasher of an opened .blend is done (see hasher_done_fn). */
void
deps_root_hashed(struct depfile *root, const char *hex,
    const struct stat *st, const char *error)
{
	if (root->pass == 1 && root->hasher == NULL)
		deps_passed(root, hex, st, error);
}

/*
 * The owner knows an opened .blend's digest without hashing it (from the
 * saved state): it is read for what it needs, unless it was already.
 */
void
deps_root_known(struct depfile *root, const char *hex,
    const struct file_id *id)
{
	if (root->hasher != NULL || (root->pass == 0 &&
	    fileio_id_equal(&root->read_id, id) &&
	    strcmp(root->digest, hex) == 0))
		return;
	deps_reset(root);
	snprintf(root->digest, sizeof root->digest, "%s", hex);
	root->id = *id;
	deps_pass(root, 1, 0);
}

/* Close a .blend opened with deps_open. */
void
deps_close(struct depfile *f)
{
	if (f == NULL)
		return;
	f->roots--;
	f->deps->sweep = 1;
	deps_notify(f->deps);
}

/*
 * Look again at the files root needs: what changed is hashed again. Each
 * call looks at no more than DEPS_CHECK_FILES of them, going on where the
 * last one stopped, so that a scene of many thousand files costs the loop
 * little at each check.
 */
void
deps_check(struct depfile *root)
{
	struct depfile	**list;
	size_t		  n, i;

	root->deps->mark++;
	n = deps_walk(root, &list);
	if (root->check_from >= n)
		root->check_from = 0;
	for (i = 0; i < n && i < DEPS_CHECK_FILES; i++)
		deps_check_file(list[(root->check_from + i) % n]);
	root->check_from = n > 0 ? (root->check_from + i) % n : 0;
	free(list);
}

/*
 * Every file root needs, root first, in a new array of *list; returns
 * how many.
 */
size_t
deps_list(struct depfile *root, struct depfile ***list)
{
	root->deps->mark++;
	return deps_walk(root, list);
}

/* What root and the files it needs come to. */
void
deps_summarize(struct depfile *root, struct deps_summary *sum)
{
	struct depfile	**list;
	size_t		  n, i;

	memset(sum, 0, sizeof *sum);
	n = deps_list(root, &list);
	sum->files = n;
	sum->ready = 1;
	for (i = 0; i < n; i++) {
		if (list[i]->hasher != NULL || (list[i]->digest[0] == '\0' &&
		    list[i]->error == NULL))
			sum->ready = 0;
		if (list[i]->error != NULL)
			sum->missing++;
		else
			sum->bytes += (uint64_t)list[i]->size;
	}
	free(list);
}

/* The file root needs with this digest, or NULL: never another file. */
struct depfile *
deps_find(struct depfile *root, const char *digest)
{
	struct depfile	**list, *found = NULL;
	size_t		  n, i;

	n = deps_list(root, &list);
	for (i = 0; i < n && found == NULL; i++) {
		if (list[i]->error == NULL && list[i]->hasher == NULL &&
		    strcmp(list[i]->digest, digest) == 0)
			found = list[i];
	}
	free(list);
	return found;
}
