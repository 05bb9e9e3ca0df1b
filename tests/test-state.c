/*
 * test-state.c: unit tests of the checkpoint: a farm formatted, parsed and
 * laid over freshly read jobs comes back as it was, and the strict parser
 * refuses every broken file whole.
 */
#include "bdfarm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "farm.h"
#include "state.h"
#include "unit.h"

#define T0		((farm_time)1700000000000LL)
#define DELAY		((farm_time)180000)
#define D1		"11111111111111111111111111111111"
#define D2		"22222222222222222222222222222222"
#define D3		"33333333333333333333333333333333"
#define BD1		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define BD2		"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* A small checkpoint that parses; variants of it must not. */
#define HEAD		"bdfarm-state 1\nnextseq 5\n"
#define JOB_A		"job a.job\njobdigest " D1 "\n" \
			"blend " BD1 " 1 2 3 4 a.blend\npriority 0\nseq 1\n" \
			"done 1-3\nout 4 1000 1 alpha\nhost 3 alpha\nend\n"

/* Define a job as a job file would, and hash its .blend if digest. */
static struct job *
test_state_job(struct farm *farm, const char *name, const char *blend,
    long first, long last, const char *job_digest, const char *digest)
{
	struct job	*job = farm_add_job(farm, name);
	struct file_id	 id = { 11, 22, 3333, 1700000000123456789LL };

	farm_set_definition(farm, job, blend, first, last, job_digest);
	if (digest != NULL)
		farm_set_blend_digest(farm, job, digest, &id);
	return job;
}

/* Hand out the next frame, which must be number of job, to host. */
static void
test_state_out(struct farm *farm, const char *host, farm_time now,
    struct job *job, long number)
{
	struct job	*got = NULL;
	long		 n = 0;

	ck_assert(sched_next(farm, host_get(farm, host), 1, now, &got, &n));
	ck_assert_ptr_eq(got, job);
	ck_assert_int_eq(n, number);
}

/* Parse text that must parse. */
static void
test_state_good(const char *text, size_t len, struct state *st)
{
	char	*cause = NULL;

	if (state_parse(text, len, st, &cause) != 0)
		ck_abort_msg("state refused (%s):\n%.*s", cause, (int)len, text);
	ck_assert_ptr_null(cause);
}

/* Parse text that must be refused; the reason must contain words. */
static void
test_state_bad_len(const char *text, size_t len, const char *words)
{
	struct state	 st;
	char		*cause = NULL;

	if (state_parse(text, len, &st, &cause) == 0)
		ck_abort_msg("state accepted:\n%.*s", (int)len, text);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_ne(cause, "");
	if (words != NULL && strstr(cause, words) == NULL)
		ck_abort_msg("reason \"%s\" does not say \"%s\"", cause, words);
	ck_assert_uint_eq(st.njobs, 0);
	ck_assert_ptr_null(st.jobs);
	free(cause);
}
#define BAD(text, words) test_state_bad_len(text, strlen(text), words)

/*
 * The farm the round trip starts from: one job with done frames in
 * several runs, some negative, frames out once and twice; one job not
 * hashed yet; two .blend files with one base name, one complete; one job
 * refused and one removed, neither saved.
 */
static void
test_state_farm(struct farm *farm)
{
	struct job	*a, *b, *c, *d, *e, *f;
	long		 n;
	const long	 done[] = { -5, -4, -3, 0, 4, 5, 6, 20 };
	size_t		 i;

	farm_init(farm, DELAY, NULL, NULL);
	a = test_state_job(farm, "a.job", "/srv/a.blend", -5, 20, D1, BD1);
	b = test_state_job(farm, "b job.job", "/srv/b.blend", 1, 3, D2, NULL);
	d = test_state_job(farm, "d.job", "/srv/two/scene.blend", 1, 2, D1,
	    BD2);
	c = test_state_job(farm, "c.job", "/srv/one/scene.blend", 7, 7, D3,
	    BD1);
	e = test_state_job(farm, "e.job", "/srv/e.blend", 1, 2, D1, BD1);
	farm_set_invalid(farm, e, "last before first");
	f = test_state_job(farm, "f.job", "/srv/f.blend", 1, 2, D1, BD1);
	farm_remove_job(farm, f);
	farm_add_job(farm, "undefined.job");
	farm_set_priority(farm, a, 3);
	farm_set_priority(farm, b, -2);

	for (n = -5; n <= 20; n++)
		test_state_out(farm, n % 2 ? "alpha" : "beta", T0 + n + 5, a, n);
	for (i = 0; i < nitems(done); i++)
		sched_frame_done(farm, a, done[i], host_get(farm,
		    i < 5 ? "alpha" : "gamma"), T0 + 1000);
	test_state_out(farm, "alpha", T0 + 100, d, 1);
	test_state_out(farm, "alpha", T0 + 100, d, 2);
	test_state_out(farm, "beta", T0 + 100, c, 7);
	sched_frame_done(farm, c, 7, host_get(farm, "beta"), T0 + 110);
	ck_assert(c->complete);
	/* Frame -2, out longest, goes out again. */
	test_state_out(farm, "delta", T0 + DELAY + 3, a, -2);
	ck_assert_uint_eq(job_frame(a, -2)->sends, 2);
}

/* Parse what farm formats. */
static char *
test_state_save(struct farm *farm, struct state *st, size_t *len)
{
	char	*text = state_format(farm, 0, NULL, len);

	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), *len);
	test_state_good(text, *len, st);
	return text;
}

/* Read a job again as at a restart, and restore it if it is unchanged. */
static struct job *
test_state_reload(struct farm *farm, struct state *st, const char *name,
    const char *blend, long first, long last, const char *job_digest)
{
	struct job		*job = farm_add_job(farm, name);
	struct state_job	*sj;

	farm_set_definition(farm, job, blend, first, last, job_digest);
	if ((sj = state_find(st, name)) != NULL &&
	    strcmp(sj->job_digest, job_digest) == 0)
		state_restore_job(farm, job, sj);
	return job;
}

/* Check that job in the restored farm is what it was in the first. */
static void
test_state_same_job(struct job *was, struct job *now)
{
	size_t	i;

	ck_assert_str_eq(now->name, was->name);
	ck_assert_int_eq(now->priority, was->priority);
	ck_assert_uint_eq(now->seq, was->seq);
	ck_assert_str_eq(now->job_digest, was->job_digest);
	ck_assert_str_eq(now->blend_digest, was->blend_digest);
	ck_assert_str_eq(now->blend_name, was->blend_name);
	ck_assert(memcmp(&now->blend_id, &was->blend_id,
	    sizeof now->blend_id) == 0);
	ck_assert_int_eq(now->first, was->first);
	ck_assert_uint_eq(now->nframes, was->nframes);
	ck_assert_uint_eq(now->ndone, was->ndone);
	ck_assert_uint_eq(now->nout, was->nout);
	ck_assert_int_eq(now->complete, was->complete);
	for (i = 0; i < was->nframes; i++) {
		struct frame	*fw = &was->frames[i], *fn = &now->frames[i];

		ck_assert_int_eq(fn->state, fw->state);
		if (fw->state != FRAME_OUT)
			continue;
		ck_assert_int_eq(fn->since, fw->since);
		ck_assert_uint_eq(fn->sends, fw->sends);
		ck_assert_ptr_nonnull(fn->host);
		ck_assert_str_eq(fn->host->name, fw->host->name);
	}
	ck_assert_uint_eq(now->nhosts, was->nhosts);
	for (i = 0; i < was->nhosts; i++) {
		ck_assert_str_eq(now->hosts[i].name, was->hosts[i].name);
		ck_assert_uint_eq(now->hosts[i].count, was->hosts[i].count);
	}
}

START_TEST(test_state_parsed)
{
	struct farm		 farm;
	struct state		 st;
	struct state_job	*sj;
	char			*text;
	size_t			 len;

	test_state_farm(&farm);
	text = test_state_save(&farm, &st, &len);
	ck_assert_uint_eq(st.next_seq, farm.next_seq);
	ck_assert_uint_eq(st.next_seq, 8);
	/* Queue order; the refused, removed and undefined jobs are left out. */
	ck_assert_uint_eq(st.njobs, 4);
	ck_assert_str_eq(st.jobs[0].name, "a.job");
	ck_assert_str_eq(st.jobs[1].name, "d.job");
	ck_assert_str_eq(st.jobs[2].name, "c.job");
	ck_assert_str_eq(st.jobs[3].name, "b job.job");
	ck_assert_ptr_null(state_find(&st, "e.job"));
	ck_assert_ptr_null(state_find(&st, "f.job"));
	ck_assert_ptr_null(state_find(&st, "undefined.job"));

	sj = state_find(&st, "a.job");
	ck_assert_ptr_eq(sj, &st.jobs[0]);
	ck_assert_str_eq(sj->job_digest, D1);
	ck_assert_str_eq(sj->blend_digest, BD1);
	ck_assert_str_eq(sj->blend_name, "a.blend");
	ck_assert_uint_eq(sj->blend_id.dev, 11);
	ck_assert_uint_eq(sj->blend_id.ino, 22);
	ck_assert_int_eq(sj->blend_id.size, 3333);
	ck_assert_int_eq(sj->blend_id.mtime_ns, 1700000000123456789LL);
	ck_assert_int_eq(sj->priority, 3);
	ck_assert_uint_eq(sj->seq, 1);
	ck_assert_uint_eq(sj->ndone, 4);
	ck_assert_int_eq(sj->done[0].from, -5);
	ck_assert_int_eq(sj->done[0].to, -3);
	ck_assert_int_eq(sj->done[1].from, 0);
	ck_assert_int_eq(sj->done[1].to, 0);
	ck_assert_int_eq(sj->done[2].from, 4);
	ck_assert_int_eq(sj->done[2].to, 6);
	ck_assert_int_eq(sj->done[3].from, 20);
	ck_assert_int_eq(sj->done[3].to, 20);
	/* Frames out in the order they were handed out, -2 again last. */
	ck_assert_uint_eq(sj->nout, 26 - 8);
	ck_assert_int_eq(sj->out[0].frame, -1);
	ck_assert_int_eq(sj->out[0].since, T0 + 4);
	ck_assert_uint_eq(sj->out[0].sends, 1);
	ck_assert_str_eq(sj->out[0].host, "alpha");
	ck_assert_int_eq(sj->out[17].frame, -2);
	ck_assert_int_eq(sj->out[17].since, T0 + DELAY + 3);
	ck_assert_uint_eq(sj->out[17].sends, 2);
	ck_assert_str_eq(sj->out[17].host, "delta");
	ck_assert_uint_eq(sj->nhosts, 2);
	ck_assert_str_eq(sj->hosts[0].name, "alpha");
	ck_assert_uint_eq(sj->hosts[0].count, 5);
	ck_assert_str_eq(sj->hosts[1].name, "gamma");
	ck_assert_uint_eq(sj->hosts[1].count, 3);

	/* Not hashed: no digest, no name; still its place and priority. */
	sj = state_find(&st, "b job.job");
	ck_assert_str_eq(sj->blend_digest, "");
	ck_assert_ptr_null(sj->blend_name);
	ck_assert_int_eq(sj->priority, -2);
	ck_assert_uint_eq(sj->ndone, 0);

	ck_assert_str_eq(state_find(&st, "d.job")->blend_name, "scene.blend");
	ck_assert_str_ne(state_find(&st, "c.job")->blend_name, "scene.blend");

	state_free(&st);
	state_free(&st);
	free(text);
	farm_free(&farm);
}
END_TEST

START_TEST(test_state_round_trip)
{
	struct farm	 farm, again;
	struct state	 st;
	struct job	*job, *was;
	char		*text, *text2;
	size_t		 len, len2;

	test_state_farm(&farm);
	text = test_state_save(&farm, &st, &len);

	/* A restart: jobs found in another order, some not saved. */
	farm_init(&again, DELAY, NULL, NULL);
	if (st.next_seq > again.next_seq)
		again.next_seq = st.next_seq;
	test_state_reload(&again, &st, "d.job", "/srv/two/scene.blend", 1, 2,
	    D1);
	test_state_reload(&again, &st, "b job.job", "/srv/b.blend", 1, 3, D2);
	test_state_reload(&again, &st, "c.job", "/srv/one/scene.blend", 7, 7,
	    D3);
	test_state_reload(&again, &st, "a.job", "/srv/a.blend", -5, 20, D1);

	TAILQ_FOREACH(was, &farm.jobs, entry) {
		if (was->job_digest[0] == '\0')
			continue;
		if ((job = farm_find_job(&again, was->name)) == NULL)
			ck_abort_msg("%s was not restored", was->name);
		test_state_same_job(was, job);
	}
	ck_assert_ptr_eq(TAILQ_FIRST(&again.jobs), farm_find_job(&again,
	    "a.job"));
	ck_assert_ptr_eq(TAILQ_LAST(&again.jobs, jobs), farm_find_job(&again,
	    "b job.job"));

	/* Saved again, the same text but for the next number. */
	text2 = state_format(&again, 0, NULL, &len2);
	ck_assert_ptr_nonnull(strstr(text, "\nseq 1\n"));
	ck_assert_str_eq(strchr(strchr(text2, '\n') + 1, '\n'),
	    strchr(strchr(text, '\n') + 1, '\n'));

	/* And the farm carries on: out again the frame out longest. */
	job = farm_find_job(&again, "a.job");
	test_state_out(&again, "alpha", T0 + DELAY + 4, job, -1);
	ck_assert_uint_eq(job_frame(job, -1)->sends, 2);

	free(text2);
	free(text);
	state_free(&st);
	farm_free(&again);
	farm_free(&farm);
}
END_TEST

START_TEST(test_state_failures_survive)
{
	struct farm	 farm, again;
	struct state	 st;
	struct job	*job, *got;
	struct host	*bad;
	char		*text;
	size_t		 len;
	long		 n;
	int		 i;

	/* A host blocked on a job stays blocked across a restart. */
	farm_init(&farm, DELAY, NULL, NULL);
	job = test_state_job(&farm, "f.job", "/srv/f.blend", 1, 9, D1, BD1);
	bad = host_get(&farm, "bad.example");
	for (i = 0; i < FARM_MAX_FAILURES; i++) {
		ck_assert(sched_next(&farm, bad, 1, T0 + i, &got, &n));
		sched_frame_failed(&farm, job, n, bad, "Error", 0);
	}
	ck_assert(job_host_blocked(job, bad));
	text = test_state_save(&farm, &st, &len);
	ck_assert_ptr_nonnull(strstr(text, "\nfailure 1 bad.example\n"));

	farm_init(&again, DELAY, NULL, NULL);
	job = test_state_reload(&again, &st, "f.job", "/srv/f.blend", 1, 9,
	    D1);
	bad = host_find(&again, "bad.example");
	ck_assert_ptr_nonnull(bad);
	ck_assert(job_host_blocked(job, bad));
	ck_assert_uint_eq(job_frame_failures(job, 1), 1);
	ck_assert(!sched_next(&again, bad, 1, T0 + 10, &got, &n));
	free(text);
	state_free(&st);
	farm_free(&again);
	farm_free(&farm);
}
END_TEST

START_TEST(test_state_restore_hosts)
{
	struct farm		 farm;
	struct state		 st;
	struct job		*job, *got = NULL;
	struct host		*h;

	/* Hosts of out frames exist after a restore, with no tallies. */
	farm_init(&farm, DELAY, NULL, NULL);
	test_state_good(HEAD JOB_A, strlen(HEAD JOB_A), &st);
	job = test_state_reload(&farm, &st, "a.job", "/srv/a.blend", 1, 5, D1);
	h = host_find(&farm, "alpha");
	ck_assert_ptr_nonnull(h);
	ck_assert_ptr_eq(job_frame(job, 4)->host, h);
	ck_assert_int_eq(job_frame(job, 4)->since, 1000);
	ck_assert_uint_eq(job->ndone, 3);
	ck_assert_uint_eq(job->nout, 1);
	ck_assert(!job->complete);
	ck_assert_str_eq(job->blend_name, "a.blend");
	ck_assert_int_eq(job->blend_id.mtime_ns, 4);
	ck_assert(job_ready(job));
	/* A frame restored as done is done, though it went out to no one. */
	ck_assert_int_eq(sched_check_result(&farm, "a.blend", BD1, 2, h, &got),
	    FARM_RESULT_DONE);
	state_free(&st);
	farm_free(&farm);
}
END_TEST

START_TEST(test_state_version2)
{
	struct farm		 farm;
	struct state		 st;
	struct job		*job;
	struct host		*live;
	const char		*text = "bdfarm-state 2\nnextseq 5\n"
	    "job a.job\njobdigest " D1 "\nblend " BD1 " 1 2 3 4 a.blend\n"
	    "out 4 1000 1 2 node#12\nout 5 1000 1 0 old\n"
	    "out 3 1000 1 2 busy#7\nend\n";

	/* Version 2 says which extension each frame's host spoke. */
	test_state_good(text, strlen(text), &st);
	ck_assert_uint_eq(st.jobs[0].nout, 3);
	ck_assert_int_eq(st.jobs[0].out[0].ext_version, 2);
	ck_assert_str_eq(st.jobs[0].out[0].host, "node#12");
	ck_assert_int_eq(st.jobs[0].out[1].ext_version, 0);

	/* Restored to hosts out of touch; a host in touch keeps its own. */
	farm_init(&farm, DELAY, NULL, NULL);
	live = host_get(&farm, "busy#7");
	host_connected(live, 1, 0, T0);
	job = test_state_reload(&farm, &st, "a.job", "/srv/a.blend", 1, 5, D1);
	ck_assert_int_eq(host_find(&farm, "node#12")->ext_version, 2);
	ck_assert_int_eq(host_find(&farm, "old")->ext_version, 0);
	ck_assert_int_eq(live->ext_version, 1);
	ck_assert_uint_eq(host_find(&farm, "node#12")->held, 1);
	ck_assert_uint_eq(job->nout, 3);
	state_free(&st);
	farm_free(&farm);

	/* In version 2 the extension is not optional, nor in version 1. */
	BAD("bdfarm-state 2\nnextseq 5\njob a.job\njobdigest " D1 "\n"
	    "out 4 1000 1 node#12\nend\n", "line 5");
	BAD("bdfarm-state 2\nnextseq 5\njob a.job\njobdigest " D1 "\n"
	    "out 4 1000 1 x node#12\nend\n", "line 5");
	BAD("bdfarm-state 2\nnextseq 5\njob a.job\njobdigest " D1 "\n"
	    "out 4 1000 1 1001 node#12\nend\n", "line 5");
	BAD(HEAD "job a.job\njobdigest " D1 "\nout 4 1000 1 2 node#12\nend\n",
	    "line 5");
}
END_TEST

START_TEST(test_state_wall_clock)
{
	struct farm	 farm;
	struct state	 st;
	struct job	*job;
	char		*text;
	size_t		 len;

	/* Saved on the wall clock, read back on the model's clock. */
	farm_init(&farm, DELAY, NULL, NULL);
	job = test_state_job(&farm, "a.job", "/srv/a.blend", 1, 3, D1, BD1);
	test_state_out(&farm, "alpha", 5000, job, 1);
	text = state_format(&farm, T0, NULL, &len);
	ck_assert_ptr_nonnull(strstr(text,
	    "\nout 1 1700000005000 1 0 alpha\n"));
	test_state_good(text, len, &st);
	state_to_clock(&st, T0 - 300);
	ck_assert_int_eq(st.jobs[0].out[0].since, 5300);
	free(text);
	state_free(&st);
	farm_free(&farm);
}
END_TEST

START_TEST(test_state_journal)
{
	struct farm		 farm;
	struct state		 st;
	struct state_journal	 j;
	char			*text;
	size_t			 len;

	/* What a commit has left to do travels with the checkpoint. */
	memset(&j, 0, sizeof j);
	state_journal_rename(&j, "my shot.job/.upload-1-2.part",
	    "my shot.job/0005.png");
	state_journal_line(&j, T0, "my shot.job", "frame 5 received from a");
	state_journal_line(&j, T0 + 1, "b.job", "100% done\tand more");
	farm_init(&farm, DELAY, NULL, NULL);
	text = state_format(&farm, 0, &j, &len);
	ck_assert_ptr_nonnull(strstr(text, "\nrename my%20shot.job/"
	    ".upload-1-2.part my%20shot.job/0005.png\n"));
	ck_assert_ptr_nonnull(strstr(text, "\njoblog 1700000000000 "
	    "my%20shot.job frame 5 received from a\n"));
	test_state_good(text, len, &st);
	ck_assert_uint_eq(st.journal.nrenames, 1);
	ck_assert_str_eq(st.journal.renames[0].from,
	    "my shot.job/.upload-1-2.part");
	ck_assert_str_eq(st.journal.renames[0].to, "my shot.job/0005.png");
	ck_assert_uint_eq(st.journal.nlines, 2);
	ck_assert_int_eq(st.journal.lines[0].when, T0);
	ck_assert_str_eq(st.journal.lines[0].job, "my shot.job");
	ck_assert_str_eq(st.journal.lines[0].text, "frame 5 received from a");
	ck_assert_str_eq(st.journal.lines[1].text, "100% done\tand more");
	state_free(&st);
	ck_assert_uint_eq(st.journal.nlines, 0);
	free(text);
	state_journal_free(&j);
	ck_assert_ptr_null(j.renames);
	farm_free(&farm);

	/* Not in version 1, and not malformed. */
	BAD(HEAD "rename a b\n", "line 3");
	BAD("bdfarm-state 2\nrename a\n", "line 2");
	BAD("bdfarm-state 2\nrename a b c\n", "line 2");
	BAD("bdfarm-state 2\nrename a%2 b\n", "line 2");
	BAD("bdfarm-state 2\njoblog x a.job text\n", "line 2");
	BAD("bdfarm-state 2\njoblog 5 a.job\n", "line 2");
	BAD("bdfarm-state 2\njoblog 5 a.job text%0A\n", "line 2");
	BAD("bdfarm-state 2\njob a.job\njobdigest " D1 "\nrename a b\nend\n",
	    "line 4");
}
END_TEST

START_TEST(test_state_range_shrank)
{
	struct farm	 farm;
	struct state	 st;
	struct job	*job;
	const char	*text = HEAD "job a.job\njobdigest " D1 "\n"
	    "blend " BD1 " 1 2 3 4 a.blend\nseq 2\n"
	    "done -3--1 1-3 8-10\nout 5 100 1 alpha\nout 12 100 3 beta\n"
	    "out 0 100 1 beta\nend\n";
	long		 n;

	test_state_good(text, strlen(text), &st);

	/* Frames outside the job's range now are left alone. */
	farm_init(&farm, DELAY, NULL, NULL);
	job = farm_add_job(&farm, "a.job");
	farm_set_definition(&farm, job, "/srv/a.blend", 1, 6, D1);
	state_restore_job(&farm, job, &st.jobs[0]);
	for (n = 1; n <= 6; n++) {
		int	want = n <= 3 ? FRAME_DONE : n == 5 ? FRAME_OUT :
		    FRAME_TODO;

		ck_assert_int_eq(job_frame(job, n)->state, want);
	}
	ck_assert_uint_eq(job->ndone, 3);
	ck_assert_uint_eq(job->nout, 1);
	ck_assert(!job->complete);
	ck_assert_ptr_null(host_find(&farm, "beta"));
	farm_free(&farm);

	/* All of a smaller range done: complete, and no event for it. */
	farm_init(&farm, DELAY, NULL, NULL);
	job = farm_add_job(&farm, "a.job");
	farm_set_definition(&farm, job, "/srv/a.blend", 8, 9, D1);
	state_restore_job(&farm, job, &st.jobs[0]);
	ck_assert_uint_eq(job->ndone, 2);
	ck_assert_uint_eq(job->nout, 0);
	ck_assert(job->complete);
	farm_free(&farm);

	/* A range wholly elsewhere: nothing. */
	farm_init(&farm, DELAY, NULL, NULL);
	job = farm_add_job(&farm, "a.job");
	farm_set_definition(&farm, job, "/srv/a.blend", 100, 110, D1);
	state_restore_job(&farm, job, &st.jobs[0]);
	ck_assert_uint_eq(job->ndone, 0);
	ck_assert_uint_eq(job->nout, 0);
	ck_assert(!job->complete);
	farm_free(&farm);

	/* A larger range: the rest to do. */
	farm_init(&farm, DELAY, NULL, NULL);
	job = farm_add_job(&farm, "a.job");
	farm_set_definition(&farm, job, "/srv/a.blend", -2, 20, D1);
	state_restore_job(&farm, job, &st.jobs[0]);
	ck_assert_uint_eq(job->ndone, 2 + 3 + 3);
	ck_assert_uint_eq(job->nout, 3);
	ck_assert_int_eq(job_frame(job, -2)->state, FRAME_DONE);
	ck_assert_int_eq(job_frame(job, 0)->state, FRAME_OUT);
	ck_assert_uint_eq(job_frame(job, 12)->sends, 3);
	ck_assert_int_eq(job_frame(job, 11)->state, FRAME_TODO);
	farm_free(&farm);
	state_free(&st);
}
END_TEST

START_TEST(test_state_huge_range)
{
	struct farm	 farm;
	struct state	 st;
	struct job	*job;
	const char	*text = HEAD "job a.job\njobdigest " D1 "\n"
	    "done -1000000000-1000000000\nend\n";

	farm_init(&farm, DELAY, NULL, NULL);
	test_state_good(text, strlen(text), &st);
	job = farm_add_job(&farm, "a.job");
	farm_set_definition(&farm, job, "/srv/a.blend", 3, 5, D1);
	state_restore_job(&farm, job, &st.jobs[0]);
	ck_assert_uint_eq(job->ndone, 3);
	ck_assert(job->complete);
	ck_assert_str_eq(job->blend_digest, "");
	farm_free(&farm);
	state_free(&st);
}
END_TEST

START_TEST(test_state_next_seq)
{
	struct farm	 farm;
	struct state	 st;
	struct job	*old, *young, *later;
	const char	*text = "bdfarm-state 1\nnextseq 40\n"
	    "job old.job\njobdigest " D1 "\nseq 7\nend\n";

	test_state_good(text, strlen(text), &st);
	ck_assert_uint_eq(st.next_seq, 40);

	/* As at a start: the saved counter first, then the jobs. */
	farm_init(&farm, DELAY, NULL, NULL);
	if (st.next_seq > farm.next_seq)
		farm.next_seq = st.next_seq;
	young = test_state_reload(&farm, &st, "young.job", "/srv/y.blend", 1,
	    1, D2);
	old = test_state_reload(&farm, &st, "old.job", "/srv/o.blend", 1, 1,
	    D1);
	ck_assert_uint_eq(old->seq, 7);
	ck_assert_uint_eq(young->seq, 40);
	ck_assert_ptr_eq(TAILQ_FIRST(&farm.jobs), old);
	later = farm_add_job(&farm, "later.job");
	ck_assert_uint_gt(later->seq, young->seq);
	ck_assert_ptr_eq(TAILQ_LAST(&farm.jobs, jobs), later);
	farm_free(&farm);

	/* Even without the counter, a restored age is never handed out. */
	farm_init(&farm, DELAY, NULL, NULL);
	old = test_state_reload(&farm, &st, "old.job", "/srv/o.blend", 1, 1,
	    D1);
	ck_assert_uint_eq(old->seq, 7);
	ck_assert_uint_ge(farm.next_seq, 8);
	later = farm_add_job(&farm, "later.job");
	ck_assert_uint_gt(later->seq, 7);
	farm_free(&farm);
	state_free(&st);
}
END_TEST

START_TEST(test_state_good_forms)
{
	struct state	 st;
	const char	*text;

	text = "bdfarm-state 1\n";
	test_state_good(text, strlen(text), &st);
	ck_assert_uint_eq(st.njobs, 0);
	state_free(&st);

	/* Without the last newline, and with an empty done. */
	text = HEAD "job a.job\njobdigest " D1 "\ndone\nend";
	test_state_good(text, strlen(text), &st);
	ck_assert_uint_eq(st.njobs, 1);
	ck_assert_uint_eq(st.jobs[0].ndone, 0);
	ck_assert_uint_eq(st.next_seq, 5);
	state_free(&st);

	/* A name with spaces, times before 1970, two jobs. */
	text = HEAD "job my shot.job\njobdigest " D1 "\n"
	    "out -3 -5000 4294967295 alpha\ndone -10--5 -4\nend\n" JOB_A;
	test_state_good(text, strlen(text), &st);
	ck_assert_uint_eq(st.njobs, 2);
	ck_assert_str_eq(st.jobs[0].name, "my shot.job");
	ck_assert_int_eq(st.jobs[0].out[0].frame, -3);
	ck_assert_int_eq(st.jobs[0].out[0].since, -5000);
	ck_assert_uint_eq(st.jobs[0].out[0].sends, 4294967295U);
	ck_assert_int_eq(st.jobs[0].done[0].from, -10);
	ck_assert_int_eq(st.jobs[0].done[0].to, -5);
	ck_assert_int_eq(st.jobs[0].done[1].from, -4);
	ck_assert_int_eq(st.jobs[0].done[1].to, -4);
	ck_assert_ptr_eq(state_find(&st, "a.job"), &st.jobs[1]);
	ck_assert_ptr_null(state_find(&st, "my"));
	state_free(&st);
}
END_TEST

START_TEST(test_state_bad_header)
{
	BAD("bdfarm-stat 1\n", "line 1");
	BAD("bdfarm-state\n", "line 1");
	BAD("bdfarm-state one\n", "line 1");
	BAD("bdfarm-state 1 2\n", "line 1");
	BAD("BDFARM-STATE 1\n", "line 1");
	BAD("nextseq 5\n" JOB_A, NULL);
	BAD(JOB_A, NULL);
	BAD(" \n" HEAD JOB_A, NULL);
}
END_TEST

START_TEST(test_state_bad_version)
{
	BAD("bdfarm-state 3\n" JOB_A, "3");
	BAD("bdfarm-state 0\n", "0");
	BAD("bdfarm-state -1\n", NULL);
	BAD("bdfarm-state 99999\nwhatever may follow\n", "99999");
}
END_TEST

START_TEST(test_state_truncated)
{
	char	text[] = HEAD JOB_A;
	size_t	len = strlen(text), cut;

	test_state_bad_len("", 0, NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\n", "early");
	BAD(HEAD "job a.job\njobdigest " D1 "\ndone 1-3\nout 4 1", NULL);

	/* Cut anywhere inside the job, the file is refused. */
	for (cut = strlen(HEAD) + 1; cut < len - 1; cut++) {
		struct state	 st;
		char		*cause = NULL;

		if (state_parse(text, cut, &st, &cause) == 0)
			ck_abort_msg("accepted when cut at %zu:\n%.*s", cut,
			    (int)cut, text);
		free(cause);
	}
}
END_TEST

START_TEST(test_state_garbage)
{
	BAD(HEAD "garbage\n" JOB_A, "line 3");
	BAD(HEAD JOB_A "garbage\n", NULL);
	BAD(HEAD "end\n", NULL);
	BAD(HEAD "done 1-3\n", NULL);
	BAD(HEAD "seq 3\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\ncolour blue\nend\n", "line 5");
	BAD(HEAD "job a.job\njob b.job\njobdigest " D1 "\nend\n", NULL);
	BAD(HEAD "job a.job\nnextseq 3\njobdigest " D1 "\nend\n", NULL);
	BAD(HEAD "job a.job\nend\n", NULL);
	BAD(HEAD "job \n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\nend now\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\n done 1\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\ndone1\nend\n", NULL);
	BAD(HEAD "nextseq -1\n", NULL);
	BAD(HEAD "nextseq 1 2\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\npriority 1000001\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\npriority x\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\nseq -2\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\nout 4 100 1\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\nout 4 100 1 a/b\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\nout x 100 1 a\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\nout 4 100 4294967296 a\n"
	    "end\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\nhost 4294967296 a\nend\n",
	    NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\nhost -1 a\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\nhost 1 a b\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\nblend " BD1 " 1 2 3 4 .a\n"
	    "end\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\nblend " BD1 " 1 2 3 a.blend\n"
	    "end\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\nblend " BD1 " -1 2 3 4 a\n"
	    "end\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\nx 1 2 3 4 5 6 7 8 9\nend\n",
	    NULL);
}
END_TEST

START_TEST(test_state_bad_digest)
{
	BAD(HEAD "job a.job\njobdigest " "1111111111111111111111111111111A"
	    "\nend\n", "line 4");
	BAD(HEAD "job a.job\njobdigest " "111111111111111111111111111111"
	    "\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "1\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " "g1111111111111111111111111111111"
	    "\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\nblend "
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 1 2 3 4 a.blend\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\nblend "
	    "aaaa 1 2 3 4 a.blend\nend\n", NULL);
}
END_TEST

START_TEST(test_state_bad_range)
{
	BAD(HEAD "job a.job\njobdigest " D1 "\ndone 5-3\nend\n", "line 5");
	BAD(HEAD "job a.job\njobdigest " D1 "\ndone 1 5-3\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\ndone 5-\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\ndone -\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\ndone --5\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\ndone 1-2-3\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\ndone x\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\ndone 1,2\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\ndone -3--5\nend\n", NULL);
	BAD(HEAD "job a.job\njobdigest " D1 "\ndone 1-99999999999\nend\n",
	    NULL);
}
END_TEST

START_TEST(test_state_nul)
{
	const char	text[] = HEAD "job a.job\0\njobdigest " D1 "\nend\n";
	const char	tail[] = HEAD JOB_A "\0";

	test_state_bad_len(text, sizeof text - 1, NULL);
	test_state_bad_len(tail, sizeof tail - 1, NULL);
	test_state_bad_len("\0", 1, NULL);
}
END_TEST

START_TEST(test_state_blank_line)
{
	struct state	 st;
	char		*cause = NULL;
	const char	*text = HEAD "\n" JOB_A;

	/* An empty line ends nothing: what follows is read or refused. */
	BAD("bdfarm-state 1\n\ngarbage\n", NULL);
	if (state_parse(text, strlen(text), &st, &cause) == 0) {
		ck_assert_uint_eq(st.njobs, 1);
		state_free(&st);
	} else
		free(cause);
}
END_TEST

START_TEST(test_state_odd_job_name)
{
	struct farm	 farm;
	struct state	 st;
	char		*text;
	size_t		 len;

	/* Any file name ending in .job is a job; its state must be kept. */
	farm_init(&farm, DELAY, NULL, NULL);
	test_state_job(&farm, "two\nlines.job", "/srv/a.blend", 1, 2, D1, BD1);
	test_state_job(&farm, "b.job", "/srv/b.blend", 1, 2, D2, BD2);
	test_state_job(&farm, "50%.job", "/srv/c.blend", 1, 2, D2, BD2);
	test_state_job(&farm, "tab\tand\rcr.job", "/srv/d.blend", 1, 2, D2,
	    BD2);
	test_state_job(&farm, "%0A.job", "/srv/e.blend", 1, 2, D2, BD2);
	text = test_state_save(&farm, &st, &len);
	ck_assert_uint_eq(st.njobs, 5);
	ck_assert_ptr_nonnull(state_find(&st, "two\nlines.job"));
	ck_assert_ptr_nonnull(state_find(&st, "b.job"));
	ck_assert_ptr_nonnull(state_find(&st, "50%.job"));
	ck_assert_ptr_nonnull(state_find(&st, "tab\tand\rcr.job"));
	ck_assert_ptr_nonnull(state_find(&st, "%0A.job"));
	state_free(&st);
	free(text);
	farm_free(&farm);
}
END_TEST

START_TEST(test_state_restored_name_taken)
{
	struct farm	 farm, again;
	struct state	 st;
	struct job	*c, *d;
	char		*text;
	size_t		 len;

	/*
	 * Saved: d has scene.blend, c the hashed name. At the restart c's
	 * job file has changed (so c is not restored) and c is read first:
	 * distinct .blend files must still travel under distinct names.
	 */
	farm_init(&farm, DELAY, NULL, NULL);
	test_state_job(&farm, "d.job", "/srv/two/scene.blend", 1, 2, D1, BD2);
	test_state_job(&farm, "c.job", "/srv/one/scene.blend", 1, 2, D2, BD1);
	text = test_state_save(&farm, &st, &len);
	ck_assert_str_eq(state_find(&st, "d.job")->blend_name, "scene.blend");

	farm_init(&again, DELAY, NULL, NULL);
	c = test_state_reload(&again, &st, "c.job", "/srv/one/scene.blend", 1,
	    5, D3);
	d = test_state_reload(&again, &st, "d.job", "/srv/two/scene.blend", 1,
	    2, D1);
	ck_assert_str_eq(d->blend_digest, BD2);
	if (strcmp(c->blend_name, d->blend_name) == 0)
		ck_abort_msg("%s and %s both travel as %s", c->blend_path,
		    d->blend_path, c->blend_name);
	state_free(&st);
	free(text);
	farm_free(&again);
	farm_free(&farm);
}
END_TEST

/*
 * A forgotten host is in no saved line but a job's tally, which keeps its
 * name; the hosts a job still names, for a frame out or a failure, are
 * kept, saved, and known again after a restart.
 */
START_TEST(test_state_forgotten_host)
{
	struct farm	 farm, again;
	struct state	 st;
	struct job	*a, *b;
	struct host	*gone, *holder, *failed;
	char		*text;
	size_t		 len;
	long		 n;

	farm_init(&farm, DELAY, NULL, NULL);
	farm.started = T0;
	a = test_state_job(&farm, "a.job", "/srv/a.blend", 1, 5, D1, BD1);
	gone = host_get(&farm, "gone.example");
	host_connected(gone, 0, 0, T0);
	test_state_out(&farm, "gone.example", T0, a, 1);
	sched_frame_done(&farm, a, 1, gone, T0 + 10);
	host_disconnected(gone, 0, 0);
	test_state_out(&farm, "holder.example", T0, a, 2);
	failed = host_get(&farm, "failed.example");
	test_state_out(&farm, "failed.example", T0, a, 3);
	sched_frame_failed(&farm, a, 3, failed, "boom", 0);
	ck_assert_uint_eq(host_forget(&farm, T0 + DELAY, DELAY), 1);
	ck_assert_ptr_null(host_find(&farm, "gone.example"));

	text = test_state_save(&farm, &st, &len);
	ck_assert_ptr_nonnull(strstr(text, "host 1 gone.example\n"));
	ck_assert_ptr_nonnull(strstr(text, "holder.example"));
	ck_assert_ptr_nonnull(strstr(text, "failure 3 failed.example\n"));
	farm_init(&again, DELAY, NULL, NULL);
	b = test_state_reload(&again, &st, "a.job", "/srv/a.blend", 1, 5, D1);
	test_state_same_job(a, b);
	ck_assert_ptr_null(host_find(&again, "gone.example"));
	holder = host_find(&again, "holder.example");
	ck_assert_ptr_nonnull(holder);
	ck_assert_ptr_eq(job_frame(b, 2)->host, holder);
	ck_assert_uint_eq(b->nfailures, 1);
	ck_assert_ptr_eq(b->failures[0].host,
	    host_find(&again, "failed.example"));
	ck_assert_uint_eq(again.nhosts, 2);
	/* Held and failed hosts are kept after the restart too. */
	n = (long)host_forget(&again, again.started + 10 * DELAY, DELAY);
	ck_assert_int_eq(n, 0);
	state_free(&st);
	free(text);
	farm_free(&again);
	farm_free(&farm);
}
END_TEST

/*
 * A saved .blend token that is not UTF-8 (an older version let one
 * through) leaves the state usable: the job travels under a name made
 * anew, which peers can send back.
 */
START_TEST(test_state_blend_name_not_utf8)
{
	struct farm	 farm;
	struct state	 st;
	struct job	*job;
	const char	*text = HEAD "job a.job\njobdigest " D1 "\nblend " BD1
			    " 1 2 3 4 caf\351.blend\npriority 0\nseq 1\n"
			    "done 1-3\nend\n";

	test_state_good(text, strlen(text), &st);
	ck_assert_ptr_null(state_find(&st, "a.job")->blend_name);
	farm_init(&farm, DELAY, NULL, NULL);
	job = farm_add_job(&farm, "a.job");
	farm_set_definition(&farm, job, "/srv/caf\351.blend", 1, 5, D1);
	state_restore_job(&farm, job, state_find(&st, "a.job"));
	ck_assert_str_eq(job->blend_name, "caf_.blend");
	ck_assert_str_eq(job->blend_digest, BD1);
	ck_assert_uint_eq(job->ndone, 3);
	state_free(&st);
	farm_free(&farm);
}
END_TEST

Suite *
state_suite(void)
{
	Suite	*s = suite_create("state");
	TCase	*trip = tcase_create("round-trip");
	TCase	*parse = tcase_create("parse");

	tcase_add_test(trip, test_state_parsed);
	tcase_add_test(trip, test_state_round_trip);
	tcase_add_test(trip, test_state_failures_survive);
	tcase_add_test(trip, test_state_restore_hosts);
	tcase_add_test(trip, test_state_range_shrank);
	tcase_add_test(trip, test_state_huge_range);
	tcase_add_test(trip, test_state_next_seq);
	tcase_add_test(trip, test_state_odd_job_name);
	tcase_add_test(trip, test_state_restored_name_taken);
	tcase_add_test(trip, test_state_blend_name_not_utf8);
	tcase_add_test(trip, test_state_forgotten_host);
	suite_add_tcase(s, trip);

	tcase_add_test(parse, test_state_good_forms);
	tcase_add_test(parse, test_state_bad_header);
	tcase_add_test(parse, test_state_bad_version);
	tcase_add_test(parse, test_state_version2);
	tcase_add_test(parse, test_state_wall_clock);
	tcase_add_test(parse, test_state_journal);
	tcase_add_test(parse, test_state_truncated);
	tcase_add_test(parse, test_state_garbage);
	tcase_add_test(parse, test_state_bad_digest);
	tcase_add_test(parse, test_state_bad_range);
	tcase_add_test(parse, test_state_nul);
	tcase_add_test(parse, test_state_blank_line);
	suite_add_tcase(s, parse);
	return s;
}
