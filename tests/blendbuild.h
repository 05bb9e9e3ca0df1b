/*
 * blendbuild.h: synthetic .blend files written in memory, with a small
 * SDNA of the structs the dependency reader looks at, for its unit tests
 * and its fuzz seeds.
 */
#ifndef BLENDBUILD_H
#define BLENDBUILD_H

#include <stddef.h>

#define BLENDBUILD_PTR8		0x01	/* 8-byte pointers, not 4 */
#define BLENDBUILD_BIG		0x02	/* big endian */
#define BLENDBUILD_OLDNAMES	0x04	/* "name[1024]" for the file paths */
#define BLENDBUILD_LARGE	0x08	/* Blender 4.x's 17-byte header */
#define BLENDBUILD_SMALL	0x10	/* 32-byte paths, for small seeds */
#define BLENDBUILD_DNAFIRST	0x20	/* DNA1 before the other blocks */

struct blendbuild;

struct blendbuild	*blendbuild_new(int);
void			 blendbuild_free(struct blendbuild *);
const unsigned char	*blendbuild_data(const struct blendbuild *, size_t *);
size_t			 blendbuild_size(const struct blendbuild *,
			     const char *);
unsigned char		*blendbuild_struct(const struct blendbuild *,
			     const char *, size_t);
void			 blendbuild_str(const struct blendbuild *,
			     unsigned char *, const char *, const char *,
			     const char *);
void			 blendbuild_int(const struct blendbuild *,
			     unsigned char *, const char *, const char *, long);
void			 blendbuild_ptr(const struct blendbuild *,
			     unsigned char *, const char *, const char *);
void			 blendbuild_addr(const struct blendbuild *,
			     unsigned char *, const char *, const char *,
			     unsigned long long);
unsigned long long	 blendbuild_next_address(const struct blendbuild *);
void			 blendbuild_block(struct blendbuild *, const char *,
			     const char *, unsigned char *, size_t);
void			 blendbuild_raw(struct blendbuild *, const char *,
			     size_t, const void *, size_t, size_t);
void			 blendbuild_dna(struct blendbuild *);
void			 blendbuild_end(struct blendbuild *);
void			 blendbuild_scene(struct blendbuild *);
long			 blendbuild_dna_offset(const struct blendbuild *);

/* What blendbuild_scene() depends on, as "kind form path owner" lines,
 * for a .blend named "shot.blend". */
extern const char	*const blendbuild_scene_deps;

#endif
