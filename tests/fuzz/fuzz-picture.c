/*
 * fuzz-picture.c: a libFuzzer target for the console's pictures: the
 * header reader over the input as it stands, and the PNG and JPEG
 * decoders reading it as a file, through the same path as the previewer's
 * thread takes. The input is copied to a buffer of exactly its size, so
 * that reading past it is caught.
 */
#include "bdfarm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "picture.h"
#include "preview.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Stop the run, so that libFuzzer keeps the input, when a promise breaks. */
#define FUZZ_ASSERT(e) do {						\
	if (!(e))							\
		abort();						\
} while (0)

/* The box the decoded picture must fit: as a console's job page. */
#define FUZZ_COLS	40
#define FUZZ_ROWS	12

/* Read one input's header, by its bytes and as a TARGA by its name. */
static void
fuzz_probe(const uint8_t *buf, size_t size)
{
	char		format[16];
	uint32_t	w, h;

	if (picture_probe(buf, size, NULL, format, sizeof format, &w,
	    &h) == 0)
		FUZZ_ASSERT(format[0] != '\0' && strlen(format) < 16);
	picture_probe(buf, size, "0001.tga", format, sizeof format, &w, &h);
	FUZZ_ASSERT(picture_probe(buf, size, "0001.tga", format, 0, &w,
	    &h) == 0);
}

/* Decode one input as a file and check what comes of it. */
static void
fuzz_decode(uint8_t *buf, size_t size)
{
	struct picture		 pic;
	enum preview_state	 state;
	FILE			*f;
	char			*cause;

	if (size == 0 || (f = fmemopen(buf, size, "rb")) == NULL)
		return;
	memset(&pic, 0, sizeof pic);
	state = preview_decode(f, "0001.png", FUZZ_COLS, FUZZ_ROWS, NULL,
	    NULL, &pic, &cause);
	fclose(f);
	switch (state) {
	case PREVIEW_READY:
		FUZZ_ASSERT(cause == NULL && pic.rgb != NULL);
		FUZZ_ASSERT(pic.width >= 1 && pic.width <= FUZZ_COLS);
		FUZZ_ASSERT(pic.height >= 1 && pic.height <= FUZZ_ROWS * 2);
		FUZZ_ASSERT((uint32_t)pic.width <= pic.src_width);
		FUZZ_ASSERT((uint32_t)pic.height <= pic.src_height);
		break;
	case PREVIEW_OTHER:
		FUZZ_ASSERT(cause == NULL && pic.rgb == NULL);
		break;
	case PREVIEW_ERROR:
		FUZZ_ASSERT(cause != NULL && *cause != '\0');
		FUZZ_ASSERT(pic.rgb == NULL);
		break;
	default:
		FUZZ_ASSERT(0);
	}
	picture_free(&pic);
	free(cause);
}

/* Probe and decode one input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t	*buf;

	buf = malloc(size > 0 ? size : 1);
	FUZZ_ASSERT(buf != NULL);
	memcpy(buf, data, size);
	fuzz_probe(buf, size);
	fuzz_decode(buf, size);
	free(buf);
	return 0;
}
