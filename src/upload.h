/*
 * upload.h: a frame arriving from a client, streamed to a temporary file
 * and moved into place only once whole and flushed.
 */
#ifndef UPLOAD_H
#define UPLOAD_H

#include <stdint.h>

struct evbuffer;
struct upload;

struct upload	*upload_begin(const char *, const char *, const char *,
		     uint64_t, char **);
int		 upload_take(struct upload *, struct evbuffer *, char **);
int		 upload_commit(struct upload *, char **);
void		 upload_abort(struct upload *);

#endif
