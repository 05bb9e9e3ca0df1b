/*
 * fuzz-jobfile.c: a libFuzzer target for the job file parser. The input is
 * handed over in a buffer of exactly its size, without a terminator, as the
 * server hands over a file it read, so that reading past it is caught.
 */
#include "bdfarm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobfile.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Stop the run, so that libFuzzer keeps the input, when a promise breaks. */
#define FUZZ_ASSERT(e) do {						\
	if (!(e))							\
		abort();						\
} while (0)

/* Parse one input as a job file and check the result either way. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jobfile	 jf;
	char		*text, *cause = NULL;

	text = malloc(size > 0 ? size : 1);
	FUZZ_ASSERT(text != NULL);
	memcpy(text, data, size);
	if (jobfile_parse(text, size, &jf, &cause) == 0) {
		FUZZ_ASSERT(cause == NULL);
		FUZZ_ASSERT(jf.blend != NULL && jf.blend[0] == '/');
		FUZZ_ASSERT(strchr(jf.blend, '\n') == NULL);
		FUZZ_ASSERT(jf.first <= jf.last);
		FUZZ_ASSERT(jf.last - jf.first < JOBFILE_MAX_FRAMES);
		jobfile_free(&jf);
		FUZZ_ASSERT(jf.blend == NULL);
	} else {
		FUZZ_ASSERT(cause != NULL && *cause != '\0');
		FUZZ_ASSERT(jf.blend == NULL);
		free(cause);
	}
	free(text);
	return 0;
}
