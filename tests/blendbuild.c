/*
 * blendbuild.c: writing synthetic .blend files in memory. The structs are
 * cut-down versions of Blender's, with the fields the dependency reader
 * looks for among others it must step over; their layout is computed here
 * on its own, so a reader that got offsets wrong would disagree.
 */
#include "bdfarm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blendbuild.h"
#include "xmalloc.h"

#define BLENDBUILD_FIELDS	8

/* A struct as the test describes it: a type and a name per field. */
struct blendbuild_def {
	const char	*name;
	const char	*fields[BLENDBUILD_FIELDS][2];
};

static const struct blendbuild_def blendbuild_defs[] = {
	{ "ID", { { "void", "*next" }, { "void", "*prev" },
	    { "char", "name[66]" }, { "char", "pad[2]" }, { "int", "us" } } },
	{ "ListBase", { { "void", "*first" }, { "void", "*last" } } },
	{ "Image", { { "ID", "id" }, { "char", "filepath[1024]" },
	    { "PackedFile", "*packedfile" }, { "ListBase", "packedfiles" },
	    { "short", "type" }, { "short", "source" }, { "int", "flag" } } },
	{ "MovieClip", { { "ID", "id" }, { "char", "filepath[1024]" },
	    { "int", "source" }, { "int", "lastframe" } } },
	{ "bSound", { { "ID", "id" }, { "char", "filepath[1024]" },
	    { "PackedFile", "*packedfile" } } },
	{ "VFont", { { "ID", "id" }, { "char", "filepath[1024]" },
	    { "PackedFile", "*packedfile" }, { "PackedFile", "*temp_pf" } } },
	{ "Library", { { "ID", "id" }, { "void", "*filedata" },
	    { "char", "filepath[1024]" }, { "char", "filepath_abs[1024]" },
	    { "PackedFile", "*packedfile" } } },
	{ "CacheFile", { { "ID", "id" }, { "ListBase", "object_paths" },
	    { "char", "filepath[1024]" }, { "char", "is_sequence" },
	    { "char", "forward_axis" }, { "char", "pad[6]" } } },
	{ "Volume", { { "ID", "id" }, { "char", "filepath[1024]" },
	    { "PackedFile", "*packedfile" }, { "char", "is_sequence" },
	    { "char", "pad[7]" } } },
	{ "PointCache", { { "PointCache", "*next" },
	    { "PointCache", "*prev" }, { "int", "flag" }, { "int", "step" },
	    { "char", "name[64]" }, { "char", "prev_name[64]" },
	    { "char", "path[1024]" }, { "void", "(*free_edit)()" } } },
	{ "FluidDomainSettings", { { "void", "*fmd" },
	    { "PointCache", "*point_cache[2]" }, { "int", "res[3]" },
	    { "int", "pad" }, { "char", "cache_directory[1024]" } } },
	{ "ModifierData", { { "void", "*next" }, { "void", "*prev" },
	    { "int", "type" }, { "int", "mode" }, { "char", "name[64]" } } },
	{ "OceanModifierData", { { "ModifierData", "modifier" },
	    { "void", "*ocean" }, { "char", "cachepath[1024]" },
	    { "float", "size" }, { "char", "cached" },
	    { "char", "pad[3]" } } },
};

/* The plain types before the structs, and their lengths. */
static const struct {
	const char	*name;
	size_t		 len;
} blendbuild_basic[] = {
	{ "char", 1 }, { "short", 2 }, { "int", 4 }, { "float", 4 },
	{ "void", 0 }, { "PackedFile", 32 }
};

#define BLENDBUILD_NTYPES \
	(nitems(blendbuild_basic) + nitems(blendbuild_defs))

struct blendbuild {
	int		 flags;
	size_t		 ptrsize;
	unsigned char	*buf;
	size_t		 len;
	size_t		 cap;
	uint64_t	 oldptr;
	size_t		 typelen[BLENDBUILD_NTYPES];
	long		 dnaoffset;
};

/* Append bytes. */
static void
blendbuild_put(struct blendbuild *bb, const void *p, size_t n)
{
	if (bb->len + n > bb->cap) {
		bb->cap = (bb->len + n) * 2;
		bb->buf = xreallocarray(bb->buf, bb->cap, 1);
	}
	memcpy(bb->buf + bb->len, p, n);
	bb->len += n;
}

/* Store an integer of n bytes in the file's order. */
static void
blendbuild_store(const struct blendbuild *bb, unsigned char *p, uint64_t v,
    size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (bb->flags & BLENDBUILD_BIG)
			p[n - 1 - i] = v >> (8 * i);
		else
			p[i] = v >> (8 * i);
	}
}

/* Append an integer of n bytes. */
static void
blendbuild_putint(struct blendbuild *bb, uint64_t v, size_t n)
{
	unsigned char	b[8];

	blendbuild_store(bb, b, v, n);
	blendbuild_put(bb, b, n);
}

/* A field name as this file's flags write it. */
static void
blendbuild_fieldname(const struct blendbuild *bb, const char *st,
    const char *name, char *out, size_t outlen)
{
	const char	*idstructs[] = { "Image", "MovieClip", "bSound",
	    "VFont", "Library" };
	size_t		 i;
	int		 old = 0;

	for (i = 0; i < nitems(idstructs); i++) {
		if (strcmp(st, idstructs[i]) == 0)
			old = (bb->flags & BLENDBUILD_OLDNAMES) != 0;
	}
	if (old && strncmp(name, "filepath", 8) == 0 &&
	    (name[8] == '\0' || name[8] == '['))
		snprintf(out, outlen, "name%s", name + 8);
	else if (old && strncmp(name, "filepath_abs", 12) == 0)
		snprintf(out, outlen, "filepath%s", name + 12);
	else
		snprintf(out, outlen, "%s", name);
	if ((bb->flags & BLENDBUILD_SMALL) && strstr(out, "[1024]") != NULL)
		memcpy(strstr(out, "[1024]"), "[32]\0", 5);
}

/* The index of a type. */
static size_t
blendbuild_type(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(blendbuild_basic); i++) {
		if (strcmp(blendbuild_basic[i].name, name) == 0)
			return i;
	}
	for (i = 0; i < nitems(blendbuild_defs); i++) {
		if (strcmp(blendbuild_defs[i].name, name) == 0)
			return nitems(blendbuild_basic) + i;
	}
	abort();
}

/* The size of a field of the given type and name. */
static size_t
blendbuild_fieldsize(const struct blendbuild *bb, const char *type,
    const char *name)
{
	const char	*p;
	size_t		 n = 1;

	for (p = strchr(name, '['); p != NULL; p = strchr(p + 1, '['))
		n *= strtoul(p + 1, NULL, 10);
	if (name[0] == '*' || name[0] == '(')
		return n * bb->ptrsize;
	return n * bb->typelen[blendbuild_type(type)];
}

/* Find a struct's description. */
static const struct blendbuild_def *
blendbuild_def(const char *st)
{
	return &blendbuild_defs[blendbuild_type(st) - nitems(blendbuild_basic)];
}

/* Where a field lies in a struct, by its bare name. */
static size_t
blendbuild_offset(const struct blendbuild *bb, const char *st,
    const char *field, size_t *size)
{
	const struct blendbuild_def	*d = blendbuild_def(st);
	char				 name[80], want[80];
	const char			*bare;
	size_t				 i, off = 0, n;

	blendbuild_fieldname(bb, st, field, want, sizeof want);
	field = want;

	for (i = 0; i < BLENDBUILD_FIELDS && d->fields[i][0] != NULL; i++) {
		blendbuild_fieldname(bb, st, d->fields[i][1], name,
		    sizeof name);
		n = blendbuild_fieldsize(bb, d->fields[i][0], name);
		bare = name + strspn(name, "(*");
		if (strncmp(bare, field, strlen(field)) == 0 &&
		    strchr("[)", bare[strlen(field)]) != NULL) {
			*size = n;
			return off;
		}
		off += n;
	}
	abort();
}

/* Start a file with its header. */
struct blendbuild *
blendbuild_new(int flags)
{
	struct blendbuild	*bb;
	const struct blendbuild_def *d;
	char			 name[80], head[32];
	size_t			 i, j;

	bb = xcalloc(1, sizeof *bb);
	bb->flags = flags;
	bb->ptrsize = (flags & (BLENDBUILD_PTR8 | BLENDBUILD_LARGE)) ? 8 : 4;
	bb->oldptr = 0x10000;
	for (i = 0; i < nitems(blendbuild_basic); i++)
		bb->typelen[i] = blendbuild_basic[i].len;
	for (i = 0; i < nitems(blendbuild_defs); i++) {
		d = &blendbuild_defs[i];
		for (j = 0; j < BLENDBUILD_FIELDS && d->fields[j][0]; j++) {
			blendbuild_fieldname(bb, d->name, d->fields[j][1],
			    name, sizeof name);
			bb->typelen[nitems(blendbuild_basic) + i] +=
			    blendbuild_fieldsize(bb, d->fields[j][0], name);
		}
	}
	if (flags & BLENDBUILD_LARGE) {
		snprintf(head, sizeof head, "BLENDER17-01%c0405",
		    (flags & BLENDBUILD_BIG) ? 'V' : 'v');
	} else {
		snprintf(head, sizeof head, "BLENDER%c%c304",
		    bb->ptrsize == 8 ? '-' : '_',
		    (flags & BLENDBUILD_BIG) ? 'V' : 'v');
	}
	blendbuild_put(bb, head, strlen(head));
	return bb;
}

/* Release a file. */
void
blendbuild_free(struct blendbuild *bb)
{
	free(bb->buf);
	free(bb);
}

/* The file's bytes so far. */
const unsigned char *
blendbuild_data(const struct blendbuild *bb, size_t *len)
{
	*len = bb->len;
	return bb->buf;
}

/* Where the DNA1 block starts, or -1 before it is written. */
long
blendbuild_dna_offset(const struct blendbuild *bb)
{
	return bb->dnaoffset;
}

/* The length of a struct. */
size_t
blendbuild_size(const struct blendbuild *bb, const char *st)
{
	return bb->typelen[blendbuild_type(st)];
}

/* Zeroed room for nr structs. */
unsigned char *
blendbuild_struct(const struct blendbuild *bb, const char *st, size_t nr)
{
	return xcalloc(nr, blendbuild_size(bb, st));
}

/* Set a char array field; a name of "id" or "modifier" sets that name. */
void
blendbuild_str(const struct blendbuild *bb, unsigned char *base,
    const char *st, const char *field, const char *s)
{
	size_t	off, size, inner;

	if (strcmp(field, "id") == 0 || strcmp(field, "modifier") == 0) {
		off = blendbuild_offset(bb, st, field, &size);
		off += blendbuild_offset(bb, strcmp(field, "id") == 0 ? "ID" :
		    "ModifierData", "name", &inner);
		size = inner;
	} else
		off = blendbuild_offset(bb, st, field, &size);
	memcpy(base + off, s, strlen(s) < size ? strlen(s) : size);
}

/* Set an integer field, of whatever size it has. */
void
blendbuild_int(const struct blendbuild *bb, unsigned char *base,
    const char *st, const char *field, long v)
{
	size_t	off, size;

	off = blendbuild_offset(bb, st, field, &size);
	blendbuild_store(bb, base + off, (uint64_t)v, size);
}

/* Set a pointer field (or a ListBase's first pointer) to non-NULL. */
void
blendbuild_ptr(const struct blendbuild *bb, unsigned char *base,
    const char *st, const char *field)
{
	size_t	off, size;

	off = blendbuild_offset(bb, st, field, &size);
	blendbuild_store(bb, base + off, 0x7f0010, bb->ptrsize);
}

/* Set a pointer field to an address, such as a block's. */
void
blendbuild_addr(const struct blendbuild *bb, unsigned char *base,
    const char *st, const char *field, unsigned long long addr)
{
	size_t	off, size;

	off = blendbuild_offset(bb, st, field, &size);
	blendbuild_store(bb, base + off, addr, bb->ptrsize);
}

/* The address the next block's structs had when written. */
unsigned long long
blendbuild_next_address(const struct blendbuild *bb)
{
	return bb->oldptr;
}

/* Append a block header and body as given; without a body, only the
 * header, whatever length it claims. */
void
blendbuild_raw(struct blendbuild *bb, const char *code, size_t sdnanr,
    const void *body, size_t len, size_t nr)
{
	char	c[4] = { 0, 0, 0, 0 };

	memcpy(c, code, strlen(code) < 4 ? strlen(code) : 4);
	blendbuild_put(bb, c, 4);
	if (bb->flags & BLENDBUILD_LARGE) {
		blendbuild_putint(bb, sdnanr, 4);
		blendbuild_putint(bb, bb->oldptr, 8);
		blendbuild_putint(bb, len, 8);
		blendbuild_putint(bb, nr, 8);
	} else {
		blendbuild_putint(bb, len, 4);
		blendbuild_putint(bb, bb->oldptr, bb->ptrsize);
		blendbuild_putint(bb, sdnanr, 4);
		blendbuild_putint(bb, nr, 4);
	}
	bb->oldptr += 0x1000;
	if (body != NULL && len > 0)
		blendbuild_put(bb, body, len);
}

/* Append nr structs as one block, and free them. */
void
blendbuild_block(struct blendbuild *bb, const char *code, const char *st,
    unsigned char *base, size_t nr)
{
	blendbuild_raw(bb, code, blendbuild_type(st) - nitems(blendbuild_basic),
	    base, nr * blendbuild_size(bb, st), nr);
	free(base);
}

/* Pad the DNA1 body to a multiple of four bytes. */
static void
blendbuild_align(struct blendbuild *bb, size_t start)
{
	while ((bb->len - start) % 4 != 0)
		blendbuild_put(bb, "", 1);
}

/* Append the DNA1 block that describes every struct. */
void
blendbuild_dna(struct blendbuild *bb)
{
	struct blendbuild	 body;
	const struct blendbuild_def *d;
	char			 names[128][80], name[80];
	size_t			 nnames = 0, i, j, k, start;

	body = *bb;
	body.buf = NULL;
	body.len = body.cap = 0;
	blendbuild_put(&body, "SDNANAME", 8);
	for (i = 0; i < nitems(blendbuild_defs); i++) {
		d = &blendbuild_defs[i];
		for (j = 0; j < BLENDBUILD_FIELDS && d->fields[j][0]; j++) {
			blendbuild_fieldname(bb, d->name, d->fields[j][1],
			    name, sizeof name);
			for (k = 0; k < nnames; k++) {
				if (strcmp(names[k], name) == 0)
					break;
			}
			if (k == nnames)
				strcpy(names[nnames++], name);
		}
	}
	blendbuild_putint(&body, nnames, 4);
	for (k = 0; k < nnames; k++)
		blendbuild_put(&body, names[k], strlen(names[k]) + 1);
	start = 0;
	blendbuild_align(&body, start);
	blendbuild_put(&body, "TYPE", 4);
	blendbuild_putint(&body, BLENDBUILD_NTYPES, 4);
	for (i = 0; i < nitems(blendbuild_basic); i++) {
		blendbuild_put(&body, blendbuild_basic[i].name,
		    strlen(blendbuild_basic[i].name) + 1);
	}
	for (i = 0; i < nitems(blendbuild_defs); i++) {
		blendbuild_put(&body, blendbuild_defs[i].name,
		    strlen(blendbuild_defs[i].name) + 1);
	}
	blendbuild_align(&body, start);
	blendbuild_put(&body, "TLEN", 4);
	for (i = 0; i < BLENDBUILD_NTYPES; i++)
		blendbuild_putint(&body, bb->typelen[i], 2);
	blendbuild_align(&body, start);
	blendbuild_put(&body, "STRC", 4);
	blendbuild_putint(&body, nitems(blendbuild_defs), 4);
	for (i = 0; i < nitems(blendbuild_defs); i++) {
		d = &blendbuild_defs[i];
		for (j = 0; j < BLENDBUILD_FIELDS && d->fields[j][0]; j++)
			;
		blendbuild_putint(&body, nitems(blendbuild_basic) + i, 2);
		blendbuild_putint(&body, j, 2);
		for (j = 0; j < BLENDBUILD_FIELDS && d->fields[j][0]; j++) {
			blendbuild_fieldname(bb, d->name, d->fields[j][1],
			    name, sizeof name);
			for (k = 0; strcmp(names[k], name) != 0; k++)
				;
			blendbuild_putint(&body,
			    blendbuild_type(d->fields[j][0]), 2);
			blendbuild_putint(&body, k, 2);
		}
	}
	bb->dnaoffset = bb->len;
	blendbuild_raw(bb, "DNA1", 0, body.buf, body.len, 1);
	free(body.buf);
}

/* Append the block that ends the file. */
void
blendbuild_end(struct blendbuild *bb)
{
	blendbuild_raw(bb, "ENDB", 0, NULL, 0, 0);
}

/* Append one ID block of one struct with a name and a path. */
static unsigned char *
blendbuild_id(struct blendbuild *bb, const char *st, const char *name,
    const char *path)
{
	unsigned char	*b = blendbuild_struct(bb, st, 1);

	blendbuild_str(bb, b, st, "id", name);
	blendbuild_str(bb, b, st, "filepath", path);
	return b;
}

/* Write an image of the given source. */
static void
blendbuild_image(struct blendbuild *bb, const char *name, const char *path,
    int source, const char *pointer)
{
	unsigned char	*b = blendbuild_id(bb, "Image", name, path);

	blendbuild_int(bb, b, "Image", "source", source);
	blendbuild_int(bb, b, "Image", "type", 99);
	if (pointer != NULL)
		blendbuild_ptr(bb, b, "Image", pointer);
	blendbuild_block(bb, "IM", "Image", b, 1);
}

/* A point cache of the given flag, name and path. */
static void
blendbuild_pointcache(struct blendbuild *bb, int flag, const char *name,
    const char *path)
{
	unsigned char	*b = blendbuild_struct(bb, "PointCache", 1);

	blendbuild_int(bb, b, "PointCache", "flag", flag);
	blendbuild_int(bb, b, "PointCache", "step", 10);
	blendbuild_str(bb, b, "PointCache", "name", name);
	blendbuild_str(bb, b, "PointCache", "prev_name", "previous");
	blendbuild_str(bb, b, "PointCache", "path", path);
	blendbuild_block(bb, "DATA", "PointCache", b, 1);
}

/* The dependencies the scene holds, in the order they are found. */
const char *const blendbuild_scene_deps =
    "image file /textures/wood.png wood.png\n"
    "image file //tex/rel.png rel.png\n"
    "image sequence //seq/frame_0001.png seq\n"
    "image tiles //udim/wood.<UDIM>.png udim\n"
    "image tiles //tiles/old.1001.png old\n"
    "image file //tiles/plain.png plain\n"
    "movie sequence //clip/0001.png clipseq\n"
    "movie file //clip.mov clip\n"
    "sound file //beep.wav beep\n"
    "font file /fonts/serif.ttf serif\n"
    "library file //lib.blend lib.blend\n"
    "cache file //anim.abc anim\n"
    "cache sequence //anim_0001.abc animseq\n"
    "volume file //smoke.vdb smoke\n"
    "volume sequence //smoke_0001.vdb smokeseq\n"
    "pointcache folder //blendcache_shot/ cache1\n"
    "pointcache folder //ext/ extcache\n"
    "fluid folder //fluid/ \n"
    "ocean folder //ocean/ Ocean\n";

/*
 * Write a scene of every kind of dependency and of every reason to skip
 * one, then DNA1 (first or last, as the flags say) and ENDB.
 */
void
blendbuild_scene(struct blendbuild *bb)
{
	unsigned char	*b;
	size_t		 size;
	char		 glob[40];

	if (bb->flags & BLENDBUILD_DNAFIRST)
		blendbuild_dna(bb);
	memset(glob, 'g', sizeof glob);
	blendbuild_raw(bb, "GLOB", 0, glob, sizeof glob, 1);

	blendbuild_image(bb, "IMwood.png", "/textures/wood.png", 1, NULL);
	b = blendbuild_struct(bb, "Image", 2);
	size = blendbuild_size(bb, "Image");
	blendbuild_str(bb, b, "Image", "id", "IMrel.png");
	blendbuild_str(bb, b, "Image", "filepath", "//tex/rel.png");
	blendbuild_int(bb, b, "Image", "source", 3);
	blendbuild_str(bb, b + size, "Image", "id", "IMseq");
	blendbuild_str(bb, b + size, "Image", "filepath",
	    "//seq/frame_0001.png");
	blendbuild_int(bb, b + size, "Image", "source", 2);
	blendbuild_block(bb, "IM", "Image", b, 2);
	blendbuild_image(bb, "IMudim", "//udim/wood.<UDIM>.png", 6, NULL);
	blendbuild_image(bb, "IMold", "//tiles/old.1001.png", 6, NULL);
	blendbuild_image(bb, "IMplain", "//tiles/plain.png", 6, NULL);
	blendbuild_image(bb, "IMpacked", "//packed.png", 1, "packedfile");
	blendbuild_image(bb, "IMpacked2", "//packed2.png", 1, "packedfiles");
	blendbuild_image(bb, "IMgenerated", "//gen.png", 4, NULL);
	blendbuild_image(bb, "IMViewer Node", "//viewer.png", 5, NULL);
	blendbuild_image(bb, "IMempty", "", 1, NULL);
	blendbuild_image(bb, "IMtab", "//bad\tname.png", 1, NULL);
	blendbuild_image(bb, "IMwood.001", "/textures/wood.png", 1, NULL);

	b = blendbuild_id(bb, "MovieClip", "MCclipseq", "//clip/0001.png");
	blendbuild_int(bb, b, "MovieClip", "source", 1);
	blendbuild_block(bb, "MC", "MovieClip", b, 1);
	b = blendbuild_id(bb, "MovieClip", "MCclip", "//clip.mov");
	blendbuild_int(bb, b, "MovieClip", "source", 2);
	blendbuild_block(bb, "MC", "MovieClip", b, 1);

	b = blendbuild_id(bb, "bSound", "SObeep", "//beep.wav");
	blendbuild_block(bb, "SO", "bSound", b, 1);
	b = blendbuild_id(bb, "bSound", "SOpacked", "//packed.wav");
	blendbuild_ptr(bb, b, "bSound", "packedfile");
	blendbuild_block(bb, "SO", "bSound", b, 1);

	b = blendbuild_id(bb, "VFont", "VFBfont", "<builtin>");
	blendbuild_block(bb, "VF", "VFont", b, 1);
	b = blendbuild_id(bb, "VFont", "VFserif", "/fonts/serif.ttf");
	blendbuild_block(bb, "VF", "VFont", b, 1);

	/* Before Blender 3.0, a library's "filepath" was the absolute path
	 * and "name" the one stored. */
	b = blendbuild_id(bb, "Library", "LIlib.blend", "//lib.blend");
	blendbuild_str(bb, b, "Library", "filepath_abs", "/abs/lib.blend");
	blendbuild_block(bb, "LI", "Library", b, 1);

	b = blendbuild_id(bb, "CacheFile", "CFanim", "//anim.abc");
	blendbuild_block(bb, "CF", "CacheFile", b, 1);
	b = blendbuild_id(bb, "CacheFile", "CFanimseq", "//anim_0001.abc");
	blendbuild_int(bb, b, "CacheFile", "is_sequence", 1);
	blendbuild_block(bb, "CF", "CacheFile", b, 1);

	b = blendbuild_id(bb, "Volume", "VOsmoke", "//smoke.vdb");
	blendbuild_block(bb, "VO", "Volume", b, 1);
	b = blendbuild_id(bb, "Volume", "VOsmokeseq", "//smoke_0001.vdb");
	blendbuild_int(bb, b, "Volume", "is_sequence", 1);
	blendbuild_block(bb, "VO", "Volume", b, 1);
	b = blendbuild_id(bb, "Volume", "VOpacked", "//packed.vdb");
	blendbuild_ptr(bb, b, "Volume", "packedfile");
	blendbuild_block(bb, "VO", "Volume", b, 1);

	b = blendbuild_struct(bb, "ListBase", 3);
	blendbuild_block(bb, "DATA", "ListBase", b, 3);
	blendbuild_pointcache(bb, 0x40, "cache1", "");
	blendbuild_pointcache(bb, 0x40 | 0x4, "cache2", "//unused/");
	blendbuild_pointcache(bb, 0x200 | 0x40, "extcache", "//ext/");
	blendbuild_pointcache(bb, 0x4, "memory", "//memory/");

	/* A fluid domain's own point cache is not read: not a folder. */
	b = blendbuild_struct(bb, "FluidDomainSettings", 1);
	blendbuild_str(bb, b, "FluidDomainSettings", "cache_directory",
	    "//fluid/");
	blendbuild_addr(bb, b, "FluidDomainSettings", "point_cache",
	    blendbuild_next_address(bb) + 0x1000);
	blendbuild_block(bb, "DATA", "FluidDomainSettings", b, 1);
	blendbuild_pointcache(bb, 0x200 | 0x40, "fluidcache", "//fluidpc/");
	blendbuild_pointcache(bb, 0x1000 | 0x200 | 0x40, "fake", "//fake/");
	b = blendbuild_struct(bb, "FluidDomainSettings", 1);
	blendbuild_block(bb, "DATA", "FluidDomainSettings", b, 1);

	b = blendbuild_struct(bb, "OceanModifierData", 1);
	blendbuild_str(bb, b, "OceanModifierData", "modifier", "Ocean");
	blendbuild_str(bb, b, "OceanModifierData", "cachepath", "//ocean/");
	blendbuild_int(bb, b, "OceanModifierData", "cached", 1);
	blendbuild_block(bb, "DATA", "OceanModifierData", b, 1);
	b = blendbuild_struct(bb, "OceanModifierData", 1);
	blendbuild_str(bb, b, "OceanModifierData", "modifier", "Ocean2");
	blendbuild_str(bb, b, "OceanModifierData", "cachepath", "//ocean2/");
	blendbuild_block(bb, "DATA", "OceanModifierData", b, 1);

	if ((bb->flags & BLENDBUILD_DNAFIRST) == 0)
		blendbuild_dna(bb);
	blendbuild_end(bb);
}
