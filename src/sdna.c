/*
 * sdna.c: parsing the SDNA a .blend file carries in its DNA1 block: the
 * field names, the type names and lengths, and each struct's fields. Field
 * offsets are the sums of the sizes before them, as Blender's own structs
 * hold no implicit padding. Every index and count is checked against the
 * block, so a malformed block gives a reason and never a read beyond it.
 */
#include "sdna.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bdfarm.h"
#include "xmalloc.h"

#define SDNA_MAX_ARRAY	(64 * 1024 * 1024)	/* elements in one field */

/* A field name split into its parts: "*next", "name[66]", "(*fn)()". */
struct sdna_name {
	const char	*bare;		/* the name alone, not terminated */
	size_t		 barelen;
	int		 pointer;
	size_t		 count;		/* product of the array sizes */
};

/* A struct's type and the first of its fields in the field table. */
struct sdna_struct {
	size_t		 type;
	size_t		 first;
	size_t		 nfields;
};

/* One field of a struct: its type and name indices and where it lies. */
struct sdna_member {
	size_t		 type;
	size_t		 name;
	size_t		 offset;
	size_t		 size;
};

struct sdna {
	char			*body;		/* a copy of the DNA1 block */
	size_t			 len;
	int			 bigendian;
	size_t			 ptrsize;

	struct sdna_name	*names;
	size_t			 nnames;
	const char		**types;
	size_t			*typelens;
	size_t			 ntypes;
	struct sdna_struct	*structs;
	size_t			 nstructs;
	struct sdna_member	*members;
	size_t			 nmembers;
};

/* A reader over the block: position, and the failure that stops it. */
struct sdna_reader {
	const struct sdna	*sdna;
	size_t			 pos;
};

/* Read an unsigned integer of n bytes (2 or 4) in the file's order. */
static int
sdna_read(struct sdna_reader *r, size_t n, uint32_t *v)
{
	const unsigned char	*p;
	size_t			 i;

	if (r->sdna->len - r->pos < n)
		return -1;
	p = (const unsigned char *)r->sdna->body + r->pos;
	*v = 0;
	for (i = 0; i < n; i++) {
		if (r->sdna->bigendian)
			*v = (*v << 8) | p[i];
		else
			*v |= (uint32_t)p[i] << (8 * i);
	}
	r->pos += n;
	return 0;
}

/* Expect a four-character section code. */
static int
sdna_code(struct sdna_reader *r, const char *code)
{
	if (r->sdna->len - r->pos < 4 ||
	    memcmp(r->sdna->body + r->pos, code, 4) != 0)
		return -1;
	r->pos += 4;
	return 0;
}

/* Skip to the next multiple of four from the start of the block. */
static int
sdna_align(struct sdna_reader *r)
{
	size_t	pad = (4 - (r->pos & 3)) & 3;

	if (r->sdna->len - r->pos < pad)
		return -1;
	r->pos += pad;
	return 0;
}

/* Read a count, which cannot exceed what the rest of the block could hold. */
static int
sdna_count_read(struct sdna_reader *r, size_t unit, size_t *n)
{
	uint32_t	v;

	if (sdna_read(r, 4, &v) != 0)
		return -1;
	if (v > (r->sdna->len - r->pos) / unit)
		return -1;
	*n = v;
	return 0;
}

/* Read n terminated strings into out. */
static int
sdna_strings(struct sdna_reader *r, const char **out, size_t n)
{
	const char	*end;
	size_t		 i;

	for (i = 0; i < n; i++) {
		end = memchr(r->sdna->body + r->pos, '\0',
		    r->sdna->len - r->pos);
		if (end == NULL)
			return -1;
		out[i] = r->sdna->body + r->pos;
		r->pos = end - r->sdna->body + 1;
	}
	return 0;
}

/* Split a field name into its bare name, pointer mark and array sizes. */
static int
sdna_name_split(const char *s, struct sdna_name *nm)
{
	const char	*p;
	char		*end;
	unsigned long	 dim;

	memset(nm, 0, sizeof *nm);
	nm->count = 1;
	p = s;
	if (p[0] == '(' && p[1] == '*') {
		nm->pointer = 1;
		p += 2;
	}
	while (*p == '*') {
		nm->pointer = 1;
		p++;
	}
	nm->bare = p;
	nm->barelen = strcspn(p, "[)");
	if (nm->barelen == 0)
		return -1;
	p += nm->barelen;
	if (*p == ')')
		return 0;	/* a function pointer: no array follows */
	while (*p == '[') {
		if (p[1] < '0' || p[1] > '9')
			return -1;
		dim = strtoul(p + 1, &end, 10);
		if (*end != ']' || dim > SDNA_MAX_ARRAY ||
		    (dim != 0 && nm->count > SDNA_MAX_ARRAY / dim))
			return -1;
		nm->count *= dim;
		p = end + 1;
	}
	return *p == '\0' ? 0 : -1;
}

/* Read the STRC section: each struct's type and fields, with offsets. */
static int
sdna_structs(struct sdna_reader *r, struct sdna *s)
{
	struct sdna_struct	*st;
	struct sdna_member	*m;
	uint32_t		 v, nf, type, name;
	size_t			 i, j, off, elem, size;

	if (sdna_code(r, "STRC") != 0 || sdna_count_read(r, 4, &s->nstructs))
		return -1;
	s->structs = xcalloc(s->nstructs ? s->nstructs : 1, sizeof *s->structs);
	/* Each field takes four bytes, so the block bounds their number. */
	s->members = xcalloc(r->sdna->len / 4 + 1, sizeof *s->members);
	for (i = 0; i < s->nstructs; i++) {
		st = &s->structs[i];
		if (sdna_read(r, 2, &v) != 0 || v >= s->ntypes)
			return -1;
		st->type = v;
		if (sdna_read(r, 2, &nf) != 0)
			return -1;
		st->first = s->nmembers;
		st->nfields = nf;
		off = 0;
		for (j = 0; j < nf; j++) {
			if (sdna_read(r, 2, &type) != 0 || type >= s->ntypes ||
			    sdna_read(r, 2, &name) != 0 || name >= s->nnames)
				return -1;
			m = &s->members[s->nmembers++];
			m->type = type;
			m->name = name;
			elem = s->names[name].pointer ? s->ptrsize :
			    s->typelens[type];
			if (elem != 0 && s->names[name].count > SIZE_MAX / elem)
				return -1;
			size = elem * s->names[name].count;
			if (size > SIZE_MAX - off)
				return -1;
			m->offset = off;
			m->size = size;
			off += size;
		}
	}
	return 0;
}

/*
 * Parse a DNA1 block's body of len bytes, written with the given byte
 * order and pointer size. Returns NULL and a reason on a malformed block.
 */
struct sdna *
sdna_parse(const void *body, size_t len, int bigendian, size_t ptrsize,
    char **cause)
{
	struct sdna		*s;
	struct sdna_reader	 r;
	const char		**names = NULL;
	uint32_t		 v;
	size_t			 i;

	if (len > SDNA_MAX_SIZE) {
		xasprintf(cause, _("the file's struct table is too large"));
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->body = xmalloc(len + 1);
	memcpy(s->body, body, len);
	s->body[len] = '\0';
	s->len = len;
	s->bigendian = bigendian;
	s->ptrsize = ptrsize;
	r.sdna = s;
	r.pos = 0;

	if (sdna_code(&r, "SDNA") != 0 || sdna_code(&r, "NAME") != 0 ||
	    sdna_count_read(&r, 2, &s->nnames) != 0)
		goto fail;
	names = xcalloc(s->nnames + 1, sizeof *names);
	s->names = xcalloc(s->nnames + 1, sizeof *s->names);
	if (sdna_strings(&r, names, s->nnames) != 0)
		goto fail;
	for (i = 0; i < s->nnames; i++) {
		if (sdna_name_split(names[i], &s->names[i]) != 0)
			goto fail;
	}
	free(names);
	names = NULL;

	if (sdna_align(&r) != 0 || sdna_code(&r, "TYPE") != 0 ||
	    sdna_count_read(&r, 2, &s->ntypes) != 0)
		goto fail;
	s->types = xcalloc(s->ntypes + 1, sizeof *s->types);
	s->typelens = xcalloc(s->ntypes + 1, sizeof *s->typelens);
	if (sdna_strings(&r, s->types, s->ntypes) != 0)
		goto fail;

	if (sdna_align(&r) != 0 || sdna_code(&r, "TLEN") != 0)
		goto fail;
	for (i = 0; i < s->ntypes; i++) {
		if (sdna_read(&r, 2, &v) != 0)
			goto fail;
		s->typelens[i] = v;
	}

	if (sdna_align(&r) != 0 || sdna_structs(&r, s) != 0)
		goto fail;
	return s;

fail:
	free(names);
	sdna_free(s);
	xasprintf(cause, _("the file's struct table is malformed"));
	return NULL;
}

/* Release a parsed SDNA. */
void
sdna_free(struct sdna *s)
{
	if (s == NULL)
		return;
	free(s->members);
	free(s->structs);
	free(s->typelens);
	free(s->types);
	free(s->names);
	free(s->body);
	free(s);
}

/* The number of structs the SDNA describes. */
size_t
sdna_count(const struct sdna *s)
{
	return s->nstructs;
}

/* The type name of struct number i, which must exist. */
const char *
sdna_struct_name(const struct sdna *s, size_t i)
{
	return s->types[s->structs[i].type];
}

/* The length in bytes of struct number i, as the type lengths give it. */
size_t
sdna_struct_size(const struct sdna *s, size_t i)
{
	return s->typelens[s->structs[i].type];
}

/* Find the struct of a type name; 0 and its number, or -1. */
int
sdna_struct_find(const struct sdna *s, const char *name, size_t *i)
{
	for (*i = 0; *i < s->nstructs; (*i)++) {
		if (strcmp(sdna_struct_name(s, *i), name) == 0)
			return 0;
	}
	return -1;
}

/*
 * Find a field of struct i by its bare name. Fails if there is none or if
 * it would lie beyond the struct's length.
 */
int
sdna_field_find(const struct sdna *s, size_t i, const char *name,
    struct sdna_field *f)
{
	const struct sdna_struct	*st = &s->structs[i];
	const struct sdna_member	*m;
	const struct sdna_name		*nm;
	size_t				 j, len = strlen(name);

	for (j = 0; j < st->nfields; j++) {
		m = &s->members[st->first + j];
		nm = &s->names[m->name];
		if (nm->barelen != len || memcmp(nm->bare, name, len) != 0)
			continue;
		if (m->offset > sdna_struct_size(s, i) ||
		    m->size > sdna_struct_size(s, i) - m->offset)
			return -1;
		f->offset = m->offset;
		f->size = m->size;
		f->pointer = nm->pointer;
		f->elemsize = nm->pointer ? s->ptrsize : s->typelens[m->type];
		f->type = s->types[m->type];
		return 0;
	}
	return -1;
}
