/*
 * fuzz-state.c: a libFuzzer target for the checkpoint parser. The input is
 * handed over in a buffer of exactly its size, as the server hands over
 * the file it read. What parses is laid over jobs as at a restart, saved
 * again, and must parse again and say the same of every job.
 */
#include "bdfarm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "farm.h"
#include "proto.h"
#include "state.h"

#define FUZZ_FIRST	-50
#define FUZZ_LAST	50

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Stop the run, so that libFuzzer keeps the input, when a promise breaks. */
#define FUZZ_ASSERT(e) do {						\
	if (!(e))							\
		abort();						\
} while (0)

/* Check what a parsed checkpoint promises of itself. */
static void
fuzz_state_check(const struct state *st)
{
	const struct state_job	*sj;
	size_t			 i, j;

	for (i = 0; i < st->njobs; i++) {
		sj = &st->jobs[i];
		FUZZ_ASSERT(sj->name != NULL && sj->name[0] != '\0');
		FUZZ_ASSERT(proto_valid_digest(sj->job_digest));
		/* A token that is not UTF-8 is dropped, to be made anew. */
		if (sj->blend_digest[0] != '\0')
			FUZZ_ASSERT(proto_valid_digest(sj->blend_digest));
		if (sj->blend_name != NULL) {
			FUZZ_ASSERT(sj->blend_digest[0] != '\0');
			FUZZ_ASSERT(proto_valid_file_name(sj->blend_name));
		}
		for (j = 0; j < sj->ndone; j++)
			FUZZ_ASSERT(sj->done[j].from <= sj->done[j].to);
		for (j = 0; j < sj->nfailed; j++)
			FUZZ_ASSERT(sj->failed[j].from <= sj->failed[j].to);
		for (j = 0; j < sj->nout; j++)
			FUZZ_ASSERT(proto_valid_host(sj->out[j].host));
		for (j = 0; j < sj->nhosts; j++)
			FUZZ_ASSERT(proto_valid_host(sj->hosts[j].name));
	}
}

/* Read every saved job again, as the server does at a start. */
static void
fuzz_state_restore(struct farm *farm, struct state *st)
{
	struct job	*job;
	size_t		 i;

	if (st->next_seq > farm->next_seq)
		farm->next_seq = st->next_seq;
	for (i = 0; i < st->njobs; i++) {
		if (farm_find_job(farm, st->jobs[i].name) != NULL)
			continue;
		job = farm_add_job(farm, st->jobs[i].name);
		farm_set_definition(farm, job, "/fuzz/scene.blend", FUZZ_FIRST,
		    FUZZ_LAST, st->jobs[i].job_digest);
		state_restore_job(farm, job, state_find(st, job->name));
		FUZZ_ASSERT(job->ndone + job->nout + job->nfailed <=
		    job->nframes);
		FUZZ_ASSERT(job->complete == job_finished(job));
	}
}

/*
 * How many frames ranges saved for job cover; they must lie inside it,
 * in order, and not touch.
 */
static size_t
fuzz_state_count(const struct job *job, const struct state_range *r,
    size_t n)
{
	size_t	i, count = 0;

	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(r[i].from >= job->first);
		FUZZ_ASSERT(r[i].to <= job->last);
		if (i > 0)
			FUZZ_ASSERT(r[i].from > r[i - 1].to + 1);
		count += (size_t)(r[i].to - r[i].from) + 1;
	}
	return count;
}

/* Check that a job's second record says what the restored job holds. */
static void
fuzz_state_same(const struct job *job, const struct state_job *sj)
{
	FUZZ_ASSERT(sj != NULL);
	FUZZ_ASSERT(strcmp(sj->job_digest, job->job_digest) == 0);
	FUZZ_ASSERT(strcmp(sj->blend_digest, job->blend_digest) == 0);
	FUZZ_ASSERT(sj->priority == job->priority);
	FUZZ_ASSERT(sj->seq == job->seq);
	FUZZ_ASSERT(fuzz_state_count(job, sj->done, sj->ndone) == job->ndone);
	FUZZ_ASSERT(fuzz_state_count(job, sj->failed, sj->nfailed) ==
	    job->nfailed);
	FUZZ_ASSERT(sj->nout == job->nout);
	FUZZ_ASSERT(sj->nhosts == job->nhosts);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state	 st, again;
	struct farm	 farm;
	struct job	*job;
	char		*text, *saved, *cause = NULL;
	size_t		 len;

	text = malloc(size > 0 ? size : 1);
	FUZZ_ASSERT(text != NULL);
	memcpy(text, data, size);
	if (state_parse(text, size, &st, &cause) != 0) {
		FUZZ_ASSERT(cause != NULL && *cause != '\0');
		FUZZ_ASSERT(st.njobs == 0 && st.jobs == NULL);
		free(cause);
		free(text);
		return 0;
	}
	FUZZ_ASSERT(cause == NULL);
	fuzz_state_check(&st);

	farm_init(&farm, 180000, NULL, NULL);
	fuzz_state_restore(&farm, &st);
	saved = state_format(&farm, 0, NULL, &len);
	if (state_parse(saved, len, &again, &cause) != 0)
		abort();
	fuzz_state_check(&again);
	FUZZ_ASSERT(again.next_seq == farm.next_seq);
	TAILQ_FOREACH(job, &farm.jobs, entry)
		fuzz_state_same(job, state_find(&again, job->name));

	state_free(&again);
	free(saved);
	farm_free(&farm);
	state_free(&st);
	free(text);
	return 0;
}
