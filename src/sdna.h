/*
 * sdna.h: the layout of a .blend file's structs, read from its DNA1 block,
 * so that a field is found by name whatever version wrote the file.
 */
#ifndef SDNA_H
#define SDNA_H

#include <stddef.h>

#define SDNA_MAX_SIZE	(16 * 1024 * 1024)	/* a larger DNA1 is refused */

struct sdna;

/* Where one field of a struct lies, and what it is. */
struct sdna_field {
	size_t		 offset;	/* from the start of the struct */
	size_t		 size;		/* of the whole field, all elements */
	size_t		 elemsize;	/* of one element */
	int		 pointer;	/* "*name" or "(*name)()" */
	const char	*type;		/* the type's name, e.g. "char" */
};

struct sdna	*sdna_parse(const void *, size_t, int, size_t, char **);
void		 sdna_free(struct sdna *);
size_t		 sdna_count(const struct sdna *);
const char	*sdna_struct_name(const struct sdna *, size_t);
size_t		 sdna_struct_size(const struct sdna *, size_t);
int		 sdna_struct_find(const struct sdna *, const char *, size_t *);
int		 sdna_field_find(const struct sdna *, size_t, const char *,
		     struct sdna_field *);

#endif
