/*
 * blendfile.h: the external files a .blend file depends on, found by
 * feeding its bytes, in slices of any size, to a parser that does no I/O.
 */
#ifndef BLENDFILE_H
#define BLENDFILE_H

#include <stddef.h>

#define BLENDFILE_KEEP_MAX	(64 * 1024 * 1024)	/* kept blocks in all */

struct blendfile;

enum blenddep_kind {
	BLENDDEP_IMAGE,
	BLENDDEP_MOVIE,
	BLENDDEP_SOUND,
	BLENDDEP_FONT,
	BLENDDEP_LIBRARY,
	BLENDDEP_CACHE,		/* Alembic/USD CacheFile */
	BLENDDEP_VOLUME,
	BLENDDEP_POINTCACHE,
	BLENDDEP_FLUID,		/* fluid domain cache folder */
	BLENDDEP_OCEAN		/* ocean modifier cache folder */
};

enum blenddep_form {
	BLENDDEP_FILE,
	/* Numbered files: the path names one; every file with the same head
	 * and tail and other digits belongs. */
	BLENDDEP_SEQUENCE,
	/* The name holds <UDIM> or <UVTILE>, or (older files) the first
	 * tile's number 1001, which the caller replaces by each tile's. */
	BLENDDEP_TILES,
	BLENDDEP_FOLDER		/* every file in this folder and below */
};

struct blenddep {
	enum blenddep_kind	 kind;
	enum blenddep_form	 form;
	char			*path;	/* "//relative" or absolute, never "" */
	char			*owner;	/* the data block's name, for logs */
};

struct blendfile	*blendfile_new(const char *);
int			 blendfile_feed(struct blendfile *, const void *,
			     size_t, char **);
int			 blendfile_end(struct blendfile *, char **);
size_t			 blendfile_count(const struct blendfile *);
const struct blenddep	*blendfile_dep(const struct blendfile *, size_t);
int			 blendfile_version(const struct blendfile *);
void			 blendfile_free(struct blendfile *);
const char		*blenddep_kind_name(enum blenddep_kind);
const char		*blenddep_form_name(enum blenddep_form);

#endif
