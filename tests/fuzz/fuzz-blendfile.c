/*
 * fuzz-blendfile.c: a libFuzzer target for the .blend dependency reader.
 * The input is fed in slices whose sizes the first byte decides, twice if
 * the reader asks for a second pass, so that any split of any file is
 * tried; the list it returns must keep the reader's promises.
 */
#include "bdfarm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blendfile.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Stop the run, so that libFuzzer keeps the input, when a promise breaks. */
#define FUZZ_ASSERT(e) do {						\
	if (!(e))							\
		abort();						\
} while (0)

/* Feed one pass in slices of 1 to 256 bytes, varied by the split byte. */
static int
fuzz_pass(struct blendfile *bf, const uint8_t *p, size_t len, uint8_t split,
    char **cause)
{
	size_t	n, i = 0;
	uint8_t	*copy;
	int	rc = 0;

	while (len > 0 && rc == 0) {
		n = split == 0 ? len : 1 + (size_t)((split * (i + 7)) % 256);
		if (n > len)
			n = len;
		/* A buffer of exactly the slice, so overreads are caught. */
		copy = malloc(n);
		FUZZ_ASSERT(copy != NULL);
		memcpy(copy, p, n);
		rc = blendfile_feed(bf, copy, n, cause);
		free(copy);
		p += n;
		len -= n;
		i++;
	}
	return rc;
}

/* Read one input as a .blend file and check the result either way. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct blendfile	*bf;
	const struct blenddep	*d;
	char			*cause = NULL;
	size_t			 i, j;
	int			 rc, passes = 0;

	if (size < 1)
		return 0;
	bf = blendfile_new("fuzz.blend");
	do {
		passes++;
		FUZZ_ASSERT(passes <= 2);
		rc = fuzz_pass(bf, data + 1, size - 1, data[0], &cause);
		if (rc == 0)
			rc = blendfile_end(bf, &cause);
	} while (rc == 1);
	if (rc == 0) {
		FUZZ_ASSERT(cause == NULL);
		for (i = 0; i < blendfile_count(bf); i++) {
			d = blendfile_dep(bf, i);
			FUZZ_ASSERT(d != NULL && d->path[0] != '\0');
			FUZZ_ASSERT(d->owner != NULL);
			FUZZ_ASSERT(strlen(d->path) < 2048);
			for (j = 0; d->path[j] != '\0'; j++)
				FUZZ_ASSERT((unsigned char)d->path[j] >= 0x20);
			FUZZ_ASSERT(d->form <= BLENDDEP_FOLDER);
			FUZZ_ASSERT(d->kind <= BLENDDEP_OCEAN);
		}
		FUZZ_ASSERT(blendfile_dep(bf, i) == NULL);
	} else {
		FUZZ_ASSERT(rc == -1);
		FUZZ_ASSERT(cause != NULL && *cause != '\0');
		free(cause);
	}
	blendfile_free(bf);
	return 0;
}
