/*
 * digest.h: MD5 digests as the protocol spells them, of memory, of a
 * stream fed piece by piece, and of a file hashed in slices on the event
 * loop so that a large file never stalls it.
 */
#ifndef DIGEST_H
#define DIGEST_H

#include <stddef.h>
#include <sys/stat.h>

#define DIGEST_HEX_SIZE 33	/* 32 hex digits and the terminator */

struct event_base;
struct digest;
struct hasher;

/* Called once when a file has been hashed; hex is NULL on error. */
typedef void (*hasher_done_fn)(const char *hex, const struct stat *,
    const char *error, void *arg);

/* Sees each slice of a file as a hasher reads it. */
typedef void (*hasher_tap_fn)(const void *, size_t, void *);

struct digest	*digest_new(void);
void		 digest_update(struct digest *, const void *, size_t);
void		 digest_final(struct digest *, char [DIGEST_HEX_SIZE]);
void		 digest_free(struct digest *);
void		 digest_buffer(const void *, size_t, char [DIGEST_HEX_SIZE]);

struct hasher	*hasher_start(struct event_base *, const char *,
		     hasher_done_fn, void *);
struct hasher	*hasher_start_reading(struct event_base *, const char *,
		     hasher_done_fn, void *);
void		 hasher_set_tap(struct hasher *, hasher_tap_fn, void *);
void		 hasher_cancel(struct hasher *);

#endif
