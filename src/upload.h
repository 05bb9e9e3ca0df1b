/*
 * upload.h: a frame arriving from a client, streamed to a temporary file
 * and moved into place only once whole and flushed.
 */
#ifndef UPLOAD_H
#define UPLOAD_H

#include <stdint.h>

struct evbuffer;
struct upload;

/* What upload_read found. */
enum upload_status {
	UPLOAD_FAILED = -1,	/* the frame cannot be stored; see *cause */
	UPLOAD_MORE,		/* more bytes are to come */
	UPLOAD_DONE,		/* every byte has arrived */
	UPLOAD_CLOSED		/* the peer closed or broke the connection */
};

struct upload	*upload_begin(const char *, const char *, const char *,
		     uint64_t, char **);
int		 upload_take(struct upload *, struct evbuffer *, char **);
enum upload_status upload_read(struct upload *, int, char **);
int		 upload_seal(struct upload *, char **);
void		 upload_release(struct upload *, char **, char **);
int		 upload_move(const char *, const char *);
int		 upload_place(const char *, const char *, const char *,
		     char **);
void		 upload_abort(struct upload *);

#endif
