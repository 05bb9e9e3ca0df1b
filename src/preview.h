/*
 * preview.h: a frame's picture decoded in a thread of its own, so that the
 * event loop never waits for an image, and handed back to the loop.
 */
#ifndef PREVIEW_H
#define PREVIEW_H

#include <stdint.h>
#include <stdio.h>

#include "picture.h"

struct event_base;
struct preview;

/* Where the picture asked for last stands. */
enum preview_state {
	PREVIEW_NONE,		/* nothing asked for */
	PREVIEW_DECODING,
	PREVIEW_READY,		/* the picture is there */
	PREVIEW_OTHER,		/* a format not decoded: its facts only */
	PREVIEW_ERROR
};

/* The picture of a file, or why there is none. */
struct preview_result {
	enum preview_state	 state;
	char			*path;
	uint64_t		 size;		/* the file's, in bytes */
	struct picture		 picture;	/* facts even for OTHER; while
						   DECODING, the last picture */
	char			*error;		/* for ERROR */
};

/* Whether a decoding should stop: its generation is no longer wanted. */
typedef int (*preview_cancel_cb)(void *);

struct preview	*preview_new(struct event_base *, void (*)(void *), void *);
void		 preview_request(struct preview *, const char *, int, int);
const struct preview_result *preview_get(struct preview *);
void		 preview_free(struct preview *);

enum preview_state preview_decode(FILE *, const char *, int, int,
		     preview_cancel_cb, void *, struct picture *, char **);

#endif
