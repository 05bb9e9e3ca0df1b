/*
 * blendfile.c: reading a .blend file's blocks as its bytes arrive, plain
 * or compressed with gzip or zstd, to list the files it depends on.
 *
 * The struct layouts (DNA1) normally come last, so the first pass keeps
 * the few ID blocks that name files (images, clips, sounds, fonts,
 * libraries, caches, volumes) and notes which struct numbers the DATA
 * blocks used. Once the layouts are known the kept blocks are read; if
 * point caches, fluid domains or ocean modifiers were among the DATA
 * blocks, the caller feeds the file once more and only those are read.
 * Memory stays bounded: kept blocks are capped, everything else is
 * skipped as it passes.
 */
#include "blendfile.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "bdfarm.h"
#include "sdna.h"
#include "xmalloc.h"

#define BLENDFILE_OUT_SIZE	65536	/* inflated bytes handled at once */
#define BLENDFILE_STRUCTS_MAX	65536	/* struct numbers a block may use */
#define BLENDFILE_DEPS_MAX	100000	/* dependencies one file may list */
#define BLENDFILE_FLUID_MAX	4096	/* fluid domains' caches remembered */

/* Bits of PointCache.flag (DNA_object_force_types.h). */
#define BLENDFILE_PTCACHE_DISK_CACHE	0x40
#define BLENDFILE_PTCACHE_EXTERNAL	0x200
#define BLENDFILE_PTCACHE_FAKE_SMOKE	0x1000	/* written for old versions */

/* Image.source and MovieClip.source values (DNA_image_types.h). */
#define BLENDFILE_IMA_SRC_SEQUENCE	2
#define BLENDFILE_IMA_SRC_GENERATED	4
#define BLENDFILE_IMA_SRC_VIEWER	5
#define BLENDFILE_IMA_SRC_TILED		6
#define BLENDFILE_MCLIP_SRC_SEQUENCE	1

enum blendfile_codec {
	BLENDFILE_UNKNOWN,	/* the first bytes have not all come */
	BLENDFILE_PLAIN,
	BLENDFILE_GZIP,
	BLENDFILE_ZSTD
};

enum blendfile_state {
	BLENDFILE_HEADER,	/* the file header */
	BLENDFILE_BHEAD,	/* a block header */
	BLENDFILE_BODY,		/* a block's body */
	BLENDFILE_DONE		/* ENDB was seen; the rest is ignored */
};

/* The DATA structs read in a second pass when DNA1 came after them. */
static const char *const blendfile_data_structs[] = {
	"PointCache", "FluidDomainSettings", "OceanModifierData"
};

/* A block kept in the first pass until the struct layouts are known. */
struct blendfile_block {
	size_t		 sdnanr;
	uint64_t	 nr;
	size_t		 len;
	unsigned char	*body;
};

struct blendfile {
	char			*stem;		/* the name without .blend */
	int			 pass;		/* 1 or 2 */
	char			*error;		/* set once the file is bad */

	/* The input: the first bytes, and the inflater they chose. */
	enum blendfile_codec	 codec;
	unsigned char		 magic[4];
	size_t			 nmagic;
	z_stream		 z;
	int			 zopen;
	ZSTD_DStream		*zstd;
	unsigned char		*out;

	/* The blocks. */
	enum blendfile_state	 state;
	unsigned char		 head[32];
	size_t			 nhead;
	size_t			 headlen;	/* of the header being read */
	int			 large;		/* 4.x 64-bit block headers */
	int			 bigendian;
	size_t			 ptrsize;
	int			 version;
	char			 code[4];	/* of the current block */
	size_t			 sdnanr;
	uint64_t		 old;		/* its address when written */
	uint64_t		 nr;
	uint64_t		 len;
	uint64_t		 got;
	int			 keep;		/* whether the body is kept */
	unsigned char		*body;		/* what came of it so far */
	size_t			 bodycap;
	int			 keepid;	/* an ID block kept for later */

	struct sdna		*sdna;
	struct blendfile_block	*kept;
	size_t			 nkept;
	size_t			 keptbytes;
	unsigned char		 used[BLENDFILE_STRUCTS_MAX / 8];
	size_t			 wanted[nitems(blendfile_data_structs)];
	int			 haswanted[nitems(blendfile_data_structs)];

	/* The point caches fluid domains hold: Blender no longer reads
	 * them, the domain's own folder holds its cache. */
	uint64_t		*fluidcaches;
	size_t			 nfluidcaches;

	struct blenddep		*deps;
	size_t			 ndeps;
	size_t			*seen;		/* hash table of deps + 1 */
	size_t			 nseen;		/* its size, a power of two */
};

/* Mark the file bad with a translated reason, and hand a copy back. */
static int BDFARM_PRINTF(3, 4)
blendfile_fail(struct blendfile *bf, char **cause, const char *fmt, ...)
{
	va_list	ap;

	if (bf->error == NULL) {
		va_start(ap, fmt);
		xvasprintf(&bf->error, fmt, ap);
		va_end(ap);
	}
	*cause = xstrdup(bf->error);
	return -1;
}

/* Read an unsigned integer of n bytes in the file's byte order. */
static uint64_t
blendfile_uint(const struct blendfile *bf, const unsigned char *p, size_t n)
{
	uint64_t	v = 0;
	size_t		i;

	for (i = 0; i < n; i++) {
		if (bf->bigendian)
			v = (v << 8) | p[i];
		else
			v |= (uint64_t)p[i] << (8 * i);
	}
	return v;
}

/* Read a signed integer of n bytes (1, 2, 4 or 8) in the file's order. */
static int64_t
blendfile_int(const struct blendfile *bf, const unsigned char *p, size_t n)
{
	uint64_t	v = blendfile_uint(bf, p, n);

	if (n < 8 && (v >> (8 * n - 1)) != 0)
		v |= ~(uint64_t)0 << (8 * n);
	return (int64_t)v;
}

/* Start reading a .blend file; blendname is its file name. */
struct blendfile *
blendfile_new(const char *blendname)
{
	struct blendfile	*bf;
	const char		*base;
	size_t			 len;

	bf = xcalloc(1, sizeof *bf);
	base = strrchr(blendname, '/');
	base = base != NULL ? base + 1 : blendname;
	len = strlen(base);
	if (len > 6 && strcmp(base + len - 6, ".blend") == 0)
		len -= 6;
	bf->stem = xstrndup(base, len);
	bf->pass = 1;
	bf->headlen = 12;
	bf->out = xmalloc(BLENDFILE_OUT_SIZE);
	return bf;
}

/* Close the inflater and forget the stream, ready for another pass. */
static void
blendfile_rewind(struct blendfile *bf)
{
	if (bf->zopen)
		inflateEnd(&bf->z);
	bf->zopen = 0;
	ZSTD_freeDStream(bf->zstd);
	bf->zstd = NULL;
	bf->codec = BLENDFILE_UNKNOWN;
	bf->nmagic = 0;
	bf->state = BLENDFILE_HEADER;
	bf->nhead = 0;
	bf->headlen = 12;
	free(bf->body);
	bf->body = NULL;
	bf->bodycap = 0;
	bf->keep = 0;
}

/* Release a blendfile and its list. */
void
blendfile_free(struct blendfile *bf)
{
	size_t	i;

	if (bf == NULL)
		return;
	blendfile_rewind(bf);
	for (i = 0; i < bf->nkept; i++)
		free(bf->kept[i].body);
	free(bf->kept);
	for (i = 0; i < bf->ndeps; i++) {
		free(bf->deps[i].path);
		free(bf->deps[i].owner);
	}
	free(bf->deps);
	free(bf->seen);
	free(bf->fluidcaches);
	sdna_free(bf->sdna);
	free(bf->out);
	free(bf->error);
	free(bf->stem);
	free(bf);
}

/* The number of dependencies found. */
size_t
blendfile_count(const struct blendfile *bf)
{
	return bf->ndeps;
}

/* Dependency number i. */
const struct blenddep *
blendfile_dep(const struct blendfile *bf, size_t i)
{
	return i < bf->ndeps ? &bf->deps[i] : NULL;
}

/* The Blender version that wrote the file, e.g. 304; 0 before its header. */
int
blendfile_version(const struct blendfile *bf)
{
	return bf->version;
}

/* A kind's name in lower case, as the dump and logs show it. */
const char *
blenddep_kind_name(enum blenddep_kind kind)
{
	static const char *const names[] = { "image", "movie", "sound",
	    "font", "library", "cache", "volume", "pointcache", "fluid",
	    "ocean" };

	return (size_t)kind < nitems(names) ? names[kind] : "unknown";
}

/* A form's name in lower case. */
const char *
blenddep_form_name(enum blenddep_form form)
{
	static const char *const names[] = { "file", "sequence", "tiles",
	    "folder" };

	return (size_t)form < nitems(names) ? names[form] : "unknown";
}

/* A hash of a dependency's kind, form and path (FNV-1a). */
static size_t
blendfile_hash(enum blenddep_kind kind, enum blenddep_form form,
    const char *path, size_t len)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	size_t		i;

	h = (h ^ (unsigned)kind) * 0x100000001b3ULL;
	h = (h ^ (unsigned)form) * 0x100000001b3ULL;
	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)path[i]) * 0x100000001b3ULL;
	return (size_t)h;
}

/*
 * Find a dependency's slot in the hash table: the one holding it, or the
 * empty one where it would go.
 */
static size_t
blendfile_slot(const struct blendfile *bf, enum blenddep_kind kind,
    enum blenddep_form form, const char *path, size_t len)
{
	const struct blenddep	*d;
	size_t			 i;

	i = blendfile_hash(kind, form, path, len) & (bf->nseen - 1);
	for (; bf->seen[i] != 0; i = (i + 1) & (bf->nseen - 1)) {
		d = &bf->deps[bf->seen[i] - 1];
		if (d->kind == kind && d->form == form &&
		    strlen(d->path) == len && memcmp(d->path, path, len) == 0)
			break;
	}
	return i;
}

/* Make the hash table twice as large once it is half full. */
static void
blendfile_grow(struct blendfile *bf)
{
	const struct blenddep	*d;
	size_t			 i;

	if (bf->nseen != 0 && bf->ndeps < bf->nseen / 2)
		return;
	free(bf->seen);
	bf->nseen = bf->nseen == 0 ? 64 : bf->nseen * 2;
	bf->seen = xcalloc(bf->nseen, sizeof *bf->seen);
	for (i = 0; i < bf->ndeps; i++) {
		d = &bf->deps[i];
		bf->seen[blendfile_slot(bf, d->kind, d->form, d->path,
		    strlen(d->path))] = i + 1;
	}
}

/*
 * Add a dependency unless its path is empty, holds a control character or
 * is already listed with the same kind and form.
 */
static int
blendfile_add(struct blendfile *bf, enum blenddep_kind kind,
    enum blenddep_form form, const char *path, size_t len,
    const char *owner, char **cause)
{
	struct blenddep	*d;
	size_t		 i, slot;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		if ((unsigned char)path[i] < 0x20)
			return 0;
	}
	blendfile_grow(bf);
	slot = blendfile_slot(bf, kind, form, path, len);
	if (bf->seen[slot] != 0)
		return 0;
	if (bf->ndeps >= BLENDFILE_DEPS_MAX) {
		return blendfile_fail(bf, cause,
		    _("the file names more than %d external files"),
		    BLENDFILE_DEPS_MAX);
	}
	bf->deps = xreallocarray(bf->deps, bf->ndeps + 1, sizeof *bf->deps);
	d = &bf->deps[bf->ndeps++];
	d->kind = kind;
	d->form = form;
	d->path = xstrndup(path, len);
	d->owner = xstrdup(owner);
	bf->seen[slot] = bf->ndeps;
	return 0;
}

/* One struct in a block: its number, where its bytes are, and where
 * they were when written. */
struct blendfile_elem {
	size_t			 st;
	const unsigned char	*base;
	uint64_t		 old;
};

/* Remember the point caches a fluid domain points to. */
static void
blendfile_fluid_caches(struct blendfile *bf, const struct blendfile_elem *e)
{
	struct sdna_field	f;
	size_t			i;

	if (sdna_field_find(bf->sdna, e->st, "point_cache", &f) != 0 ||
	    !f.pointer)
		return;
	for (i = 0; i + bf->ptrsize <= f.size; i += bf->ptrsize) {
		if (bf->nfluidcaches >= BLENDFILE_FLUID_MAX)
			return;
		bf->fluidcaches = xreallocarray(bf->fluidcaches,
		    bf->nfluidcaches + 1, sizeof *bf->fluidcaches);
		bf->fluidcaches[bf->nfluidcaches++] =
		    blendfile_uint(bf, e->base + f.offset + i, bf->ptrsize);
	}
}

/* Whether a point cache is one a fluid domain points to. */
static int
blendfile_fluid_cache(const struct blendfile *bf, uint64_t old)
{
	size_t	i;

	for (i = 0; i < bf->nfluidcaches; i++) {
		if (old != 0 && bf->fluidcaches[i] == old)
			return 1;
	}
	return 0;
}

/* The text of a char array field up to its first NUL; NULL if absent. */
static const char *
blendfile_text(const struct blendfile *bf, const struct blendfile_elem *e,
    const char *name, size_t *len)
{
	struct sdna_field	 f;
	const char		*p, *nul;

	if (sdna_field_find(bf->sdna, e->st, name, &f) != 0 || f.pointer ||
	    f.elemsize != 1)
		return NULL;
	p = (const char *)e->base + f.offset;
	nul = memchr(p, '\0', f.size);
	*len = nul != NULL ? (size_t)(nul - p) : f.size;
	return p;
}

/*
 * The path as stored: "name" in files older than Blender 3.0, where a
 * Library's "filepath" was the absolute form of it, else "filepath".
 */
static const char *
blendfile_filepath(const struct blendfile *bf, const struct blendfile_elem *e,
    size_t *len)
{
	const char	*p;

	if ((p = blendfile_text(bf, e, "name", len)) != NULL)
		return p;
	return blendfile_text(bf, e, "filepath", len);
}

/* An integer field's value; def if the field is absent. */
static int64_t
blendfile_number(const struct blendfile *bf, const struct blendfile_elem *e,
    const char *name, int64_t def)
{
	struct sdna_field	f;

	if (sdna_field_find(bf->sdna, e->st, name, &f) != 0 || f.pointer)
		return def;
	switch (f.elemsize) {
	case 1:
	case 2:
	case 4:
	case 8:
		return blendfile_int(bf, e->base + f.offset, f.elemsize);
	}
	return def;
}

/*
 * Whether a pointer field is set. A struct field (a ListBase) is looked
 * at through its first pointer.
 */
static int
blendfile_pointer(const struct blendfile *bf, const struct blendfile_elem *e,
    const char *name)
{
	struct sdna_field	f;

	if (sdna_field_find(bf->sdna, e->st, name, &f) != 0 ||
	    f.size < bf->ptrsize)
		return 0;
	return blendfile_uint(bf, e->base + f.offset, bf->ptrsize) != 0;
}

/* Whether the data is packed into the file. */
static int
blendfile_packed(const struct blendfile *bf, const struct blendfile_elem *e)
{
	return blendfile_pointer(bf, e, "packedfile") ||
	    blendfile_pointer(bf, e, "packedfiles");
}

/*
 * The name of the owner: the "name" of an embedded struct field ("id" or
 * "modifier"), without the two-letter code of an ID; "" if there is none.
 */
static char *
blendfile_owner(const struct blendfile *bf, const struct blendfile_elem *e,
    const char *inner)
{
	struct blendfile_elem	 sub;
	struct sdna_field	 f;
	const char		*p;
	size_t			 len;

	if (sdna_field_find(bf->sdna, e->st, inner, &f) != 0 || f.pointer ||
	    sdna_struct_find(bf->sdna, f.type, &sub.st) != 0 ||
	    f.size < sdna_struct_size(bf->sdna, sub.st))
		return xstrdup("");
	sub.base = e->base + f.offset;
	if ((p = blendfile_text(bf, &sub, "name", &len)) == NULL)
		return xstrdup("");
	if (strcmp(inner, "id") == 0) {
		if (len < 2)
			return xstrdup("");
		p += 2;
		len -= 2;
	}
	return xstrndup(p, len);
}

/* Whether an old tiled image's file name holds the first tile's number. */
static int
blendfile_tile_number(const char *path, size_t len)
{
	size_t	i, base = 0;

	for (i = 0; i < len; i++) {
		if (path[i] == '/' || path[i] == '\\')
			base = i + 1;
	}
	for (i = base; i + 4 <= len; i++) {
		if (memcmp(path + i, "1001", 4) == 0)
			return 1;
	}
	return 0;
}

/* Whether a path holds a tile marker. */
static int
blendfile_tile_marker(const char *path, size_t len)
{
	char	*s;
	int	 found;

	s = xstrndup(path, len);
	found = strstr(s, "<UDIM>") != NULL || strstr(s, "<UVTILE>") != NULL;
	free(s);
	return found;
}

/* Read the dependency of one struct, by its type name. */
static int
blendfile_elem(struct blendfile *bf, const struct blendfile_elem *e,
    char **cause)
{
	const char		*type = sdna_struct_name(bf->sdna, e->st);
	const char		*path;
	char			*owner, *folder;
	enum blenddep_kind	 kind;
	enum blenddep_form	 form = BLENDDEP_FILE;
	int64_t			 source, flag;
	size_t			 len;
	int			 rc;

	if (strcmp(type, "PointCache") == 0) {
		if (blendfile_fluid_cache(bf, e->old))
			return 0;
		flag = blendfile_number(bf, e, "flag", 0);
		if (flag & BLENDFILE_PTCACHE_FAKE_SMOKE)
			return 0;
		/* An external cache is read from its folder whatever the
		 * disk cache bit says. */
		if ((flag & (BLENDFILE_PTCACHE_DISK_CACHE |
		    BLENDFILE_PTCACHE_EXTERNAL)) == 0)
			return 0;
		if ((path = blendfile_text(bf, e, "name", &len)) == NULL)
			len = 0;
		owner = xstrndup(path != NULL ? path : "", len);
		if (flag & BLENDFILE_PTCACHE_EXTERNAL) {
			path = blendfile_text(bf, e, "path", &len);
			if (path == NULL)
				len = 0;
			rc = blendfile_add(bf, BLENDDEP_POINTCACHE,
			    BLENDDEP_FOLDER, path, len, owner, cause);
		} else {
			xasprintf(&folder, "//blendcache_%s/", bf->stem);
			rc = blendfile_add(bf, BLENDDEP_POINTCACHE,
			    BLENDDEP_FOLDER, folder, strlen(folder), owner,
			    cause);
			free(folder);
		}
		free(owner);
		return rc;
	}
	if (strcmp(type, "FluidDomainSettings") == 0) {
		blendfile_fluid_caches(bf, e);
		if ((path = blendfile_text(bf, e, "cache_directory", &len)) ==
		    NULL)
			return 0;
		return blendfile_add(bf, BLENDDEP_FLUID, BLENDDEP_FOLDER, path,
		    len, "", cause);
	}
	if (strcmp(type, "OceanModifierData") == 0) {
		if (blendfile_number(bf, e, "cached", 0) == 0 ||
		    (path = blendfile_text(bf, e, "cachepath", &len)) == NULL)
			return 0;
		owner = blendfile_owner(bf, e, "modifier");
		rc = blendfile_add(bf, BLENDDEP_OCEAN, BLENDDEP_FOLDER, path,
		    len, owner, cause);
		free(owner);
		return rc;
	}

	if ((path = blendfile_filepath(bf, e, &len)) == NULL)
		return 0;
	if (strcmp(type, "Image") == 0) {
		if (blendfile_packed(bf, e))
			return 0;
		kind = BLENDDEP_IMAGE;
		source = blendfile_number(bf, e, "source", 1);
		switch (source) {
		case BLENDFILE_IMA_SRC_GENERATED:
		case BLENDFILE_IMA_SRC_VIEWER:
			return 0;
		case BLENDFILE_IMA_SRC_SEQUENCE:
			form = BLENDDEP_SEQUENCE;
			break;
		case BLENDFILE_IMA_SRC_TILED:
			if (blendfile_tile_marker(path, len) ||
			    blendfile_tile_number(path, len))
				form = BLENDDEP_TILES;
			break;
		}
	} else if (strcmp(type, "MovieClip") == 0) {
		kind = BLENDDEP_MOVIE;
		if (blendfile_number(bf, e, "source", 0) ==
		    BLENDFILE_MCLIP_SRC_SEQUENCE)
			form = BLENDDEP_SEQUENCE;
	} else if (strcmp(type, "bSound") == 0) {
		if (blendfile_packed(bf, e))
			return 0;
		kind = BLENDDEP_SOUND;
	} else if (strcmp(type, "VFont") == 0) {
		if (blendfile_packed(bf, e) ||
		    (len == 9 && memcmp(path, "<builtin>", 9) == 0))
			return 0;
		kind = BLENDDEP_FONT;
	} else if (strcmp(type, "Library") == 0) {
		if (blendfile_packed(bf, e))
			return 0;
		kind = BLENDDEP_LIBRARY;
	} else if (strcmp(type, "CacheFile") == 0) {
		kind = BLENDDEP_CACHE;
		if (blendfile_number(bf, e, "is_sequence", 0) != 0)
			form = BLENDDEP_SEQUENCE;
	} else if (strcmp(type, "Volume") == 0) {
		if (blendfile_packed(bf, e))
			return 0;
		kind = BLENDDEP_VOLUME;
		if (blendfile_number(bf, e, "is_sequence", 0) != 0)
			form = BLENDDEP_SEQUENCE;
	} else
		return 0;

	owner = blendfile_owner(bf, e, "id");
	rc = blendfile_add(bf, kind, form, path, len, owner, cause);
	free(owner);
	return rc;
}

/* Read a whole block of nr structs of number sdnanr, now that the
 * layouts are known. */
static int
blendfile_block(struct blendfile *bf, size_t sdnanr, uint64_t old,
    uint64_t nr, const unsigned char *body, size_t len, char **cause)
{
	struct blendfile_elem	e;
	size_t			size;
	uint64_t		i;

	if (sdnanr >= sdna_count(bf->sdna)) {
		return blendfile_fail(bf, cause,
		    _("a block uses struct %zu, which is not defined"),
		    sdnanr);
	}
	size = sdna_struct_size(bf->sdna, sdnanr);
	if (size != 0 && nr > len / size) {
		return blendfile_fail(bf, cause,
		    _("a block is shorter than the structs it holds"));
	}
	e.st = sdnanr;
	for (i = 0; i < nr && size != 0; i++) {
		e.base = body + i * size;
		e.old = old + i * size;
		if (blendfile_elem(bf, &e, cause) != 0)
			return -1;
	}
	return 0;
}

/* Parse the struct layouts, then read the blocks kept until now. */
static int
blendfile_dna(struct blendfile *bf, const unsigned char *body, size_t len,
    char **cause)
{
	size_t	i, nr;
	int	rc = 0;
	char	*why = NULL;

	if ((bf->sdna = sdna_parse(body, len, bf->bigendian, bf->ptrsize,
	    &why)) == NULL) {
		rc = blendfile_fail(bf, cause, "%s", why);
		free(why);
		return rc;
	}
	for (i = 0; i < nitems(blendfile_data_structs); i++) {
		bf->haswanted[i] = sdna_struct_find(bf->sdna,
		    blendfile_data_structs[i], &nr) == 0;
		bf->wanted[i] = nr;
	}
	for (i = 0; i < bf->nkept && rc == 0; i++) {
		rc = blendfile_block(bf, bf->kept[i].sdnanr, 0, bf->kept[i].nr,
		    bf->kept[i].body, bf->kept[i].len, cause);
	}
	for (i = 0; i < bf->nkept; i++)
		free(bf->kept[i].body);
	free(bf->kept);
	bf->kept = NULL;
	bf->nkept = 0;
	bf->keptbytes = 0;
	return rc;
}

/* Whether a struct number is one read from DATA blocks. */
static int
blendfile_wanted(const struct blendfile *bf, size_t sdnanr)
{
	size_t	i;

	for (i = 0; i < nitems(blendfile_data_structs); i++) {
		if (bf->haswanted[i] && bf->wanted[i] == sdnanr)
			return 1;
	}
	return 0;
}

/* Whether a block code is one of the ID blocks that may name a file. */
static int
blendfile_idcode(const char *code)
{
	static const char *const codes[] = { "IM", "MC", "SO", "VF", "LI",
	    "CF", "VO" };
	size_t	i;

	if (code[2] != '\0' || code[3] != '\0')
		return 0;
	for (i = 0; i < nitems(codes); i++) {
		if (memcmp(code, codes[i], 2) == 0)
			return 1;
	}
	return 0;
}

/* Parse the file header once all of it has come. */
static int
blendfile_header(struct blendfile *bf, char **cause)
{
	const unsigned char	*h = bf->head;
	size_t			 i;

	if (memcmp(h, "BLENDER", 7) != 0)
		return blendfile_fail(bf, cause, _("not a .blend file"));
	if (h[7] >= '0' && h[7] <= '9') {
		/* "BLENDER17-01v0405": header size, format, version. */
		if (bf->headlen == 12) {
			if (memcmp(h + 7, "17-01", 5) != 0) {
				return blendfile_fail(bf, cause,
				    _("a .blend file format this program does "
				    "not know"));
			}
			bf->headlen = 17;
			return 0;
		}
		bf->large = 1;
		bf->ptrsize = 8;
		h += 12;
	} else {
		if (h[7] == '_')
			bf->ptrsize = 4;
		else if (h[7] == '-')
			bf->ptrsize = 8;
		else {
			return blendfile_fail(bf, cause,
			    _("not a .blend file"));
		}
		h += 8;
	}
	if (h[0] != 'v' && h[0] != 'V')
		return blendfile_fail(bf, cause, _("not a .blend file"));
	bf->bigendian = h[0] == 'V';
	bf->version = 0;
	for (i = 1; i < (bf->large ? 5U : 4U); i++) {
		if (h[i] < '0' || h[i] > '9') {
			return blendfile_fail(bf, cause,
			    _("not a .blend file"));
		}
		bf->version = bf->version * 10 + (h[i] - '0');
	}
	bf->state = BLENDFILE_BHEAD;
	bf->nhead = 0;
	bf->headlen = bf->large ? 32 : 16 + bf->ptrsize;
	return 0;
}

/* Parse a block header and decide what to do with its body. */
static int
blendfile_bhead(struct blendfile *bf, char **cause)
{
	const unsigned char	*h = bf->head;
	int64_t			 len, sdnanr, nr;

	memcpy(bf->code, h, 4);
	if (bf->large) {
		sdnanr = blendfile_int(bf, h + 4, 4);
		bf->old = blendfile_uint(bf, h + 8, 8);
		len = blendfile_int(bf, h + 16, 8);
		nr = blendfile_int(bf, h + 24, 8);
	} else {
		len = blendfile_int(bf, h + 4, 4);
		bf->old = blendfile_uint(bf, h + 8, bf->ptrsize);
		sdnanr = blendfile_int(bf, h + 8 + bf->ptrsize, 4);
		nr = blendfile_int(bf, h + 12 + bf->ptrsize, 4);
	}
	if (memcmp(bf->code, "ENDB", 4) == 0) {
		bf->state = BLENDFILE_DONE;
		return 0;
	}
	if (len < 0 || sdnanr < 0 || sdnanr >= BLENDFILE_STRUCTS_MAX ||
	    nr < 0) {
		return blendfile_fail(bf, cause,
		    _("a block header of the file is malformed"));
	}
	bf->sdnanr = sdnanr;
	bf->nr = nr;
	bf->len = len;
	bf->got = 0;
	bf->keepid = 0;
	bf->keep = 0;
	bf->state = BLENDFILE_BODY;

	if (memcmp(bf->code, "DNA1", 4) == 0) {
		if (bf->sdna != NULL)
			return 0;
		if (bf->len > SDNA_MAX_SIZE) {
			return blendfile_fail(bf, cause,
			    _("the file's struct table is too large"));
		}
	} else if (blendfile_idcode(bf->code)) {
		if (bf->pass != 1)
			return 0;
		if (bf->sdna == NULL) {
			if (bf->len > BLENDFILE_KEEP_MAX - bf->keptbytes) {
				return blendfile_fail(bf, cause,
				    _("the file's images and other data "
				    "blocks take more than %d MiB"),
				    BLENDFILE_KEEP_MAX / (1024 * 1024));
			}
			bf->keepid = 1;
		}
	} else if (memcmp(bf->code, "DATA", 4) == 0) {
		if (bf->sdna == NULL) {
			bf->used[bf->sdnanr / 8] |= 1U << (bf->sdnanr % 8);
			return 0;
		}
		if (!blendfile_wanted(bf, bf->sdnanr))
			return 0;
		if (bf->len > BLENDFILE_KEEP_MAX) {
			return blendfile_fail(bf, cause,
			    _("a data block takes more than %d MiB"),
			    BLENDFILE_KEEP_MAX / (1024 * 1024));
		}
	} else
		return 0;
	bf->keep = 1;
	return 0;
}

/*
 * Keep n more bytes of the current body. The room grows with what came,
 * not with what the header claims, so a short file cannot make the
 * reader take the most a block may have.
 */
static void
blendfile_keep(struct blendfile *bf, const unsigned char *p, size_t n)
{
	size_t	cap = bf->bodycap;

	if (bf->got + n > cap) {
		cap = cap < 4096 ? 4096 : cap;
		while (cap < bf->got + n)
			cap *= 2;
		if (cap > bf->len)
			cap = bf->len;
		bf->body = xreallocarray(bf->body, cap, 1);
		bf->bodycap = cap;
	}
	memcpy(bf->body + bf->got, p, n);
}

/* A block's body has all come: read it, keep it, or parse the layouts. */
static int
blendfile_body(struct blendfile *bf, char **cause)
{
	struct blendfile_block	*b;
	unsigned char		*body = bf->body;
	int			 rc = 0;

	bf->body = NULL;
	bf->bodycap = 0;
	bf->state = BLENDFILE_BHEAD;
	bf->nhead = 0;
	if (!bf->keep)
		return 0;
	bf->keep = 0;
	if (body == NULL)
		body = xmalloc(1);	/* an empty block */
	if (memcmp(bf->code, "DNA1", 4) == 0)
		rc = blendfile_dna(bf, body, bf->len, cause);
	else if (bf->keepid) {
		bf->kept = xreallocarray(bf->kept, bf->nkept + 1,
		    sizeof *bf->kept);
		b = &bf->kept[bf->nkept++];
		b->sdnanr = bf->sdnanr;
		b->nr = bf->nr;
		b->len = bf->len;
		b->body = body;
		bf->keptbytes += bf->len;
		return 0;
	} else {
		rc = blendfile_block(bf, bf->sdnanr, bf->old, bf->nr, body,
		    bf->len, cause);
	}
	free(body);
	return rc;
}

/* Take inflated bytes: headers, then bodies, block after block. */
static int
blendfile_blocks(struct blendfile *bf, const unsigned char *p, size_t len)
{
	char	*cause = NULL;
	size_t	 n;

	while (len > 0 && bf->state != BLENDFILE_DONE) {
		if (bf->state == BLENDFILE_BODY) {
			n = len;
			if (n > bf->len - bf->got)
				n = bf->len - bf->got;
			if (bf->keep && n > 0)
				blendfile_keep(bf, p, n);
			bf->got += n;
			p += n;
			len -= n;
			if (bf->got == bf->len &&
			    blendfile_body(bf, &cause) != 0)
				goto fail;
			continue;
		}
		n = bf->headlen - bf->nhead;
		if (n > len)
			n = len;
		memcpy(bf->head + bf->nhead, p, n);
		bf->nhead += n;
		p += n;
		len -= n;
		if (bf->nhead < bf->headlen)
			break;
		if (bf->state == BLENDFILE_HEADER) {
			if (blendfile_header(bf, &cause) != 0)
				goto fail;
		} else {
			if (blendfile_bhead(bf, &cause) != 0)
				goto fail;
			if (bf->state == BLENDFILE_BODY && bf->len == 0 &&
			    blendfile_body(bf, &cause) != 0)
				goto fail;
		}
	}
	return 0;

fail:
	free(cause);
	return -1;
}

/* Choose the inflater from the first four bytes. */
static int
blendfile_codec(struct blendfile *bf, char **cause)
{
	static const unsigned char	gzip[] = { 0x1f, 0x8b };
	static const unsigned char	zstd[] = { 0x28, 0xb5, 0x2f, 0xfd };

	if (memcmp(bf->magic, gzip, sizeof gzip) == 0) {
		memset(&bf->z, 0, sizeof bf->z);
		if (inflateInit2(&bf->z, 16 + MAX_WBITS) != Z_OK)
			return blendfile_fail(bf, cause, "%s",
			    _("cannot start inflating the file"));
		bf->zopen = 1;
		bf->codec = BLENDFILE_GZIP;
	} else if (memcmp(bf->magic, zstd, sizeof zstd) == 0) {
		if ((bf->zstd = ZSTD_createDStream()) == NULL ||
		    ZSTD_isError(ZSTD_initDStream(bf->zstd)))
			return blendfile_fail(bf, cause, "%s",
			    _("cannot start inflating the file"));
		bf->codec = BLENDFILE_ZSTD;
	} else if (memcmp(bf->magic, "BLEN", 4) == 0)
		bf->codec = BLENDFILE_PLAIN;
	else
		return blendfile_fail(bf, cause, _("not a .blend file"));
	return 0;
}

/* Inflate gzip input and pass it on; a member may follow another. */
static int
blendfile_gunzip(struct blendfile *bf, const unsigned char *p, size_t len,
    char **cause)
{
	size_t	n;
	int	rc, full = 0;

	bf->z.next_in = (unsigned char *)(uintptr_t)p;
	bf->z.avail_in = 0;
	while ((len > 0 || bf->z.avail_in > 0 || full) &&
	    bf->state != BLENDFILE_DONE) {
		if (bf->z.avail_in == 0) {
			n = len > UINT32_MAX ? UINT32_MAX : len;
			bf->z.next_in = (unsigned char *)(uintptr_t)p;
			bf->z.avail_in = n;
			p += n;
			len -= n;
		}
		bf->z.next_out = bf->out;
		bf->z.avail_out = BLENDFILE_OUT_SIZE;
		rc = inflate(&bf->z, Z_NO_FLUSH);
		full = bf->z.avail_out == 0;
		if (rc == Z_BUF_ERROR && !full && bf->z.avail_in == 0 &&
		    len == 0)
			break;
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
			return blendfile_fail(bf, cause, "%s",
			    _("the file's gzip compression is corrupt"));
		if (blendfile_blocks(bf, bf->out,
		    BLENDFILE_OUT_SIZE - bf->z.avail_out) != 0) {
			*cause = xstrdup(bf->error);
			return -1;
		}
		if (rc == Z_STREAM_END)
			inflateReset(&bf->z);
	}
	return 0;
}

/* Inflate zstd input, frames and skippable frames, and pass it on. */
static int
blendfile_unzstd(struct blendfile *bf, const unsigned char *p, size_t len,
    char **cause)
{
	ZSTD_inBuffer	in = { p, len, 0 };
	ZSTD_outBuffer	out;
	size_t		rc;

	do {
		out.dst = bf->out;
		out.size = BLENDFILE_OUT_SIZE;
		out.pos = 0;
		rc = ZSTD_decompressStream(bf->zstd, &out, &in);
		if (ZSTD_isError(rc))
			return blendfile_fail(bf, cause, "%s",
			    _("the file's zstd compression is corrupt"));
		if (blendfile_blocks(bf, bf->out, out.pos) != 0) {
			*cause = xstrdup(bf->error);
			return -1;
		}
	} while ((in.pos < in.size || out.pos == out.size) &&
	    bf->state != BLENDFILE_DONE);
	return 0;
}

/* Take the input bytes of one slice, as stored on disk. */
static int
blendfile_input(struct blendfile *bf, const unsigned char *p, size_t len,
    char **cause)
{
	switch (bf->codec) {
	case BLENDFILE_UNKNOWN:
		break;
	case BLENDFILE_PLAIN:
		if (blendfile_blocks(bf, p, len) != 0) {
			*cause = xstrdup(bf->error);
			return -1;
		}
		return 0;
	case BLENDFILE_GZIP:
		return blendfile_gunzip(bf, p, len, cause);
	case BLENDFILE_ZSTD:
		return blendfile_unzstd(bf, p, len, cause);
	}
	return 0;
}

/*
 * Feed the next len bytes of the file, in any slices. Returns -1 and a
 * reason once the file is known to be bad.
 */
int
blendfile_feed(struct blendfile *bf, const void *data, size_t len,
    char **cause)
{
	const unsigned char	*p = data;
	size_t			 n;

	if (bf->error != NULL)
		return blendfile_fail(bf, cause, "%s", bf->error);
	if (bf->state == BLENDFILE_DONE)
		return 0;
	if (bf->codec == BLENDFILE_UNKNOWN) {
		n = sizeof bf->magic - bf->nmagic;
		if (n > len)
			n = len;
		memcpy(bf->magic + bf->nmagic, p, n);
		bf->nmagic += n;
		p += n;
		len -= n;
		if (bf->nmagic < sizeof bf->magic)
			return 0;
		if (blendfile_codec(bf, cause) != 0 ||
		    blendfile_input(bf, bf->magic, sizeof bf->magic,
		    cause) != 0)
			return -1;
	}
	return blendfile_input(bf, p, len, cause);
}

/*
 * The end of one pass over the file. Returns 1 if the caller must feed
 * the file again from its start, 0 when the list is complete, or -1 and
 * a reason.
 */
int
blendfile_end(struct blendfile *bf, char **cause)
{
	size_t	i;

	if (bf->error != NULL)
		return blendfile_fail(bf, cause, "%s", bf->error);
	if (bf->codec == BLENDFILE_UNKNOWN || bf->state == BLENDFILE_HEADER)
		return blendfile_fail(bf, cause, _("not a .blend file"));
	if (bf->state != BLENDFILE_DONE)
		return blendfile_fail(bf, cause, _("the file is truncated"));
	if (bf->sdna == NULL) {
		return blendfile_fail(bf, cause,
		    _("the file has no struct table"));
	}
	blendfile_rewind(bf);
	if (bf->pass != 1)
		return 0;
	bf->pass = 2;
	for (i = 0; i < nitems(blendfile_data_structs); i++) {
		if (bf->haswanted[i] && bf->wanted[i] < BLENDFILE_STRUCTS_MAX &&
		    (bf->used[bf->wanted[i] / 8] & (1U << (bf->wanted[i] % 8))))
			return 1;
	}
	return 0;
}
