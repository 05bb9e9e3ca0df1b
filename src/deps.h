/*
 * deps.h: the files each job's .blend needs (textures, sequences, tiles,
 * linked libraries, caches), found by reading the .blend and its
 * libraries, each file hashed once per change, all in slices on the event
 * loop, for the clients that render the job.
 */
#ifndef DEPS_H
#define DEPS_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "farm.h"

struct event_base;
struct deps;
struct hasher;
struct stat;

/* One file on the server that a .blend needs, or the .blend itself. */
struct depfile {
	char		*path;		/* absolute, as on the server */
	int		 blend;		/* a .blend: read for what it needs */
	char		 digest[DIGEST_HEX_SIZE]; /* "" until hashed */
	struct file_id	 id;		/* where digest was taken */
	struct file_id	 read_id;	/* where it was last read whole */
	int64_t		 size;
	char		*error;		/* why it is missing, or NULL */
	char		*parse_error;	/* a .blend that could not be read */

	/* Private to deps.c. */
	struct deps	*deps;
	struct hasher	*hasher;
	struct blendfile *reader;	/* while a .blend is read */
	int		 pass;		/* of the reader: 1 or 2 */
	struct depfile	**needs;	/* what a .blend needs */
	size_t		 nneeds;
	unsigned	 roots;		/* opened by deps_open */
	size_t		 check_from;	/* where the next check starts */
	unsigned	 mark;
	struct depfile	*all_next;	/* every file the deps know */
};

/* What a job's files come to, for the console and the job log. */
struct deps_summary {
	size_t		 files;		/* the .blend and what it needs */
	uint64_t	 bytes;
	size_t		 missing;
	int		 ready;		/* every file hashed or missing */
};

typedef void (*deps_changed_fn)(void *);

struct deps	*deps_new(struct event_base *, deps_changed_fn, void *);
void		 deps_free(struct deps *);
struct depfile	*deps_open(struct deps *, const char *);
void		 deps_close(struct depfile *);
void		 deps_root_tap(struct depfile *, struct hasher *);
void		 deps_root_hashed(struct depfile *, const char *,
		     const struct stat *, const char *);
void		 deps_root_known(struct depfile *, const char *,
		     const struct file_id *);
void		 deps_check(struct depfile *);
void		 deps_summarize(struct depfile *, struct deps_summary *);
size_t		 deps_list(struct depfile *, struct depfile ***);
struct depfile	*deps_find(struct depfile *, const char *);

#endif
