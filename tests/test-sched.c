/*
 * test-sched.c: unit tests of the scheduler with a fake clock: which frame
 * goes out next across jobs, when a frame goes out again, which results
 * are wanted, and what happens when frames come back or a job starts over.
 */
#include "bdfarm.h"

#include <stdio.h>
#include <string.h>

#include "farm.h"
#include "unit.h"

#define T0		((farm_time)1700000000000LL)
#define DELAY		((farm_time)180000)
#define JOBDIGEST1	"11111111111111111111111111111111"
#define JOBDIGEST2	"22222222222222222222222222222222"
#define BLENDDIGEST1	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define BLENDDIGEST2	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define MAX_EVENTS	512

/* One event as the farm reported it. */
struct test_sched_event {
	enum farm_event	 ev;
	struct job	*job;
	long		 frame;
	char		 host[64];
	char		 detail[128];
};

/* Every event of one test, in order. */
static struct test_sched_event	test_sched_events[MAX_EVENTS];
static size_t			test_sched_nevents;

/* The observer: record what the farm says. */
static void
test_sched_record(struct farm *farm, enum farm_event ev, struct job *job,
    long frame, const char *host, const char *detail, void *arg)
{
	struct test_sched_event	*e;

	ck_assert_ptr_eq(arg, test_sched_events);
	ck_assert_ptr_nonnull(farm);
	ck_assert_uint_lt(test_sched_nevents, MAX_EVENTS);
	e = &test_sched_events[test_sched_nevents++];
	e->ev = ev;
	e->job = job;
	e->frame = frame;
	snprintf(e->host, sizeof e->host, "%s", host != NULL ? host : "");
	snprintf(e->detail, sizeof e->detail, "%s",
	    detail != NULL ? detail : "");
}

/* How many events of kind ev were recorded. */
static size_t
test_sched_count(enum farm_event ev)
{
	size_t	i, n = 0;

	for (i = 0; i < test_sched_nevents; i++) {
		if (test_sched_events[i].ev == ev)
			n++;
	}
	return n;
}

/* The last event recorded; there must be one. */
static struct test_sched_event *
test_sched_last(void)
{
	ck_assert_uint_gt(test_sched_nevents, 0);
	return &test_sched_events[test_sched_nevents - 1];
}

/* Start a farm whose events are recorded. */
static void
test_sched_init(struct farm *farm)
{
	test_sched_nevents = 0;
	farm_init(farm, DELAY, test_sched_record, test_sched_events);
}

/* Add a job of frames first to last, defined and hashed. */
static struct job *
test_sched_job(struct farm *farm, const char *name, const char *blend,
    long first, long last)
{
	struct job	*job = farm_add_job(farm, name);
	struct file_id	 id = { 1, 2, 3, 4 };

	farm_set_definition(farm, job, blend, first, last, JOBDIGEST1);
	farm_set_blend_digest(farm, job, BLENDDIGEST1, &id);
	ck_assert(job_ready(job));
	return job;
}

/* Ask for the next frame, which must be frame of job. */
static void
test_sched_expect(struct farm *farm, struct host *host, int available,
    farm_time now, struct job *job, long frame)
{
	struct job	*got = NULL;
	long		 n = -12345;

	if (!sched_next(farm, host, available, now, &got, &n))
		ck_abort_msg("no frame for %s at %lld, expected %s %ld",
		    host->name, (long long)(now - T0), job->name, frame);
	if (got != job || n != frame)
		ck_abort_msg("got %s %ld, expected %s %ld", got->name, n,
		    job->name, frame);
}

/* Ask for the next frame: there must be none. */
static void
test_sched_none(struct farm *farm, struct host *host, int available,
    farm_time now)
{
	struct job	*got = NULL;
	long		 n = -12345;
	size_t		 before = test_sched_nevents;

	if (sched_next(farm, host, available, now, &got, &n))
		ck_abort_msg("%s got %s %ld at %lld, expected nothing",
		    host->name, got->name, n, (long long)(now - T0));
	ck_assert_uint_eq(test_sched_nevents, before);
}

START_TEST(test_sched_lowest_first)
{
	struct farm		 farm;
	struct job		*job;
	struct host		*a;
	struct test_sched_event	*e;
	long			 n;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", -2, 3);
	ck_assert_uint_eq(test_sched_count(FARM_JOB_ADDED), 1);
	ck_assert(sched_has_work(&farm, T0));
	for (n = -2; n <= 3; n++) {
		test_sched_expect(&farm, a, 1, T0, job, n);
		e = test_sched_last();
		ck_assert_int_eq(e->ev, FARM_FRAME_OUT);
		ck_assert_ptr_eq(e->job, job);
		ck_assert_int_eq(e->frame, n);
		ck_assert_str_eq(e->host, "alpha");
		ck_assert_int_eq(job_frame(job, n)->state, FRAME_OUT);
		ck_assert_ptr_eq(job_frame(job, n)->host, a);
		ck_assert_uint_eq(job_frame(job, n)->sends, 1);
		ck_assert_int_eq(job_frame(job, n)->since, T0);
	}
	ck_assert_uint_eq(job->nout, 6);
	ck_assert_uint_eq(test_sched_count(FARM_FRAME_OUT), 6);
	ck_assert_uint_eq(test_sched_count(FARM_FRAME_RESENT), 0);
	ck_assert(!sched_has_work(&farm, T0));
	test_sched_none(&farm, a, 1, T0);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_fresh_when_none_available)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*a;

	/* REQUESTJOB 0 still gets fresh frames: it only stops resends. */
	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", 1, 2);
	test_sched_expect(&farm, a, 0, T0, job, 1);
	test_sched_expect(&farm, a, 0, T0, job, 2);
	test_sched_none(&farm, a, 0, T0);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_lowest_after_return)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*a;

	/* Frames done out of order never leave a lower one behind. */
	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", 10, 14);
	test_sched_expect(&farm, a, 1, T0, job, 10);
	test_sched_expect(&farm, a, 1, T0, job, 11);
	sched_frame_done(&farm, job, 11, a, T0 + 5);
	test_sched_expect(&farm, a, 1, T0 + 6, job, 12);
	test_sched_expect(&farm, a, 1, T0 + 6, job, 13);
	test_sched_expect(&farm, a, 1, T0 + 6, job, 14);
	test_sched_none(&farm, a, 1, T0 + 6);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_priority_then_age)
{
	struct farm	 farm;
	struct job	*old, *mid, *young, *job;
	struct host	*a;
	const char	*order[] = { "young.job", "old.job", "mid.job" };
	size_t		 i = 0;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	old = test_sched_job(&farm, "old.job", "/srv/old.blend", 1, 2);
	mid = test_sched_job(&farm, "mid.job", "/srv/mid.blend", 1, 1);
	young = test_sched_job(&farm, "young.job", "/srv/young.blend", 5, 5);
	ck_assert_uint_lt(old->seq, mid->seq);
	ck_assert_uint_lt(mid->seq, young->seq);
	farm_set_priority(&farm, young, 3);

	TAILQ_FOREACH(job, &farm.jobs, entry) {
		ck_assert_uint_lt(i, 3);
		ck_assert_str_eq(job->name, order[i++]);
	}
	ck_assert_uint_eq(i, 3);

	test_sched_expect(&farm, a, 1, T0, young, 5);
	test_sched_expect(&farm, a, 1, T0, old, 1);
	test_sched_expect(&farm, a, 1, T0, old, 2);
	test_sched_expect(&farm, a, 1, T0, mid, 1);
	test_sched_none(&farm, a, 1, T0);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_set_priority_reorders)
{
	struct farm		 farm;
	struct job		*first, *second;
	struct host		*a;
	struct test_sched_event	*e;
	size_t			 before;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	first = test_sched_job(&farm, "first.job", "/srv/first.blend", 1, 9);
	second = test_sched_job(&farm, "second.job", "/srv/second.blend", 1, 9);
	test_sched_expect(&farm, a, 1, T0, first, 1);

	farm_set_priority(&farm, second, 1);
	e = test_sched_last();
	ck_assert_int_eq(e->ev, FARM_JOB_CHANGED);
	ck_assert_ptr_eq(e->job, second);
	ck_assert_ptr_eq(TAILQ_FIRST(&farm.jobs), second);
	test_sched_expect(&farm, a, 1, T0, second, 1);

	/* The same priority again is no change. */
	before = test_sched_nevents;
	farm_set_priority(&farm, second, 1);
	ck_assert_uint_eq(test_sched_nevents, before);

	/* Below the default, and back: age decides between equals. */
	farm_set_priority(&farm, second, -1);
	test_sched_expect(&farm, a, 1, T0, first, 2);
	farm_set_priority(&farm, first, -1);
	ck_assert_ptr_eq(TAILQ_FIRST(&farm.jobs), first);
	test_sched_expect(&farm, a, 1, T0, first, 3);
	farm_set_priority(&farm, first, -2);
	test_sched_expect(&farm, a, 1, T0, second, 2);
	/* Four priority changes, and each job's first digest made it ready. */
	ck_assert_uint_eq(test_sched_count(FARM_JOB_CHANGED), 4 + 2);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_suspended_skipped)
{
	struct farm		 farm;
	struct job		*first, *second, *got;
	struct host		*a;
	struct test_sched_event	*e;
	size_t			 before;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	first = test_sched_job(&farm, "first.job", "/srv/first.blend", 1, 2);
	second = test_sched_job(&farm, "second.job", "/srv/second.blend", 1, 2);
	test_sched_expect(&farm, a, 1, T0, first, 1);

	farm_set_suspended(&farm, first, 1);
	e = test_sched_last();
	ck_assert_int_eq(e->ev, FARM_JOB_CHANGED);
	ck_assert_ptr_eq(e->job, first);
	ck_assert_str_eq(e->detail, "suspended");
	before = test_sched_nevents;
	farm_set_suspended(&farm, first, 1);
	ck_assert_uint_eq(test_sched_nevents, before);

	test_sched_expect(&farm, a, 1, T0, second, 1);
	test_sched_expect(&farm, a, 1, T0, second, 2);
	/* Nothing fresh left, nothing due yet. */
	ck_assert(!sched_has_work(&farm, T0 + DELAY - 1));
	test_sched_none(&farm, a, 1, T0 + DELAY - 1);
	/* All three are due; first's frame 1 is out longest but suspended. */
	test_sched_expect(&farm, a, 1, T0 + DELAY, second, 1);
	test_sched_expect(&farm, a, 1, T0 + DELAY, second, 2);
	test_sched_none(&farm, a, 1, T0 + DELAY);

	/* A suspended job's results are still wanted. */
	ck_assert_int_eq(sched_check_result(&farm, first->blend_name,
	    BLENDDIGEST1, 1, a, &got), FARM_RESULT_OK);
	ck_assert_ptr_eq(got, first);

	farm_set_suspended(&farm, first, 0);
	ck_assert_str_eq(test_sched_last()->detail, "resumed");
	test_sched_expect(&farm, a, 1, T0 + DELAY, first, 2);
	farm_free(&farm);
}
END_TEST

/* A job that wants a fresh Blender per frame: no bdfarm/1 to /3 client. */
START_TEST(test_sched_fresh_blender)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*old, *three, *four;

	test_sched_init(&farm);
	old = host_get(&farm, "old");
	three = host_get(&farm, "three");
	three->ext_version = 3;
	four = host_get(&farm, "four");
	four->ext_version = 4;
	job = test_sched_job(&farm, "sim.job", "/srv/sim.blend", 1, 4);
	job->fresh_blender = 1;
	test_sched_none(&farm, three, 1, T0);
	test_sched_expect(&farm, four, 1, T0, job, 1);
	test_sched_expect(&farm, old, 1, T0, job, 2);
	/* Nor a frame due again. */
	test_sched_none(&farm, three, 1, T0 + DELAY);
	job->fresh_blender = 0;
	test_sched_expect(&farm, three, 1, T0 + DELAY, job, 3);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_unhashed_skipped)
{
	struct farm	 farm;
	struct job	*late, *ready, *got;
	struct host	*a;
	struct file_id	 id = { 9, 8, 7, 6 };

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	late = farm_add_job(&farm, "late.job");
	farm_set_definition(&farm, late, "/srv/late.blend", 1, 3, JOBDIGEST1);
	ck_assert_ptr_nonnull(late->frames);
	ck_assert_str_eq(late->blend_digest, "");
	ck_assert(!job_ready(late));
	ck_assert(!sched_has_work(&farm, T0));
	test_sched_none(&farm, a, 1, T0);
	ck_assert_int_eq(sched_check_result(&farm, late->blend_name,
	    BLENDDIGEST1, 1, NULL, &got), FARM_RESULT_NO_JOB);

	ready = test_sched_job(&farm, "ready.job", "/srv/ready.blend", 4, 4);
	test_sched_expect(&farm, a, 1, T0, ready, 4);
	test_sched_none(&farm, a, 1, T0);

	/* Hashed at last, and first in the queue as the older job. */
	farm_set_blend_digest(&farm, late, BLENDDIGEST2, &id);
	ck_assert_uint_eq(test_sched_count(FARM_JOB_RESTARTED), 0);
	ck_assert(job_ready(late));
	test_sched_expect(&farm, a, 1, T0, late, 1);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_invalid_skipped)
{
	struct farm		 farm;
	struct job		*bad, *undefined, *good, *got;
	struct host		*a;
	struct test_sched_event	*e;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	undefined = farm_add_job(&farm, "undefined.job");
	bad = test_sched_job(&farm, "bad.job", "/srv/bad.blend", 1, 5);
	good = test_sched_job(&farm, "good.job", "/srv/good.blend", 1, 1);
	test_sched_expect(&farm, a, 1, T0, bad, 1);

	farm_set_invalid(&farm, bad, "last before first");
	e = test_sched_last();
	ck_assert_int_eq(e->ev, FARM_JOB_INVALID);
	ck_assert_ptr_eq(e->job, bad);
	ck_assert_str_eq(e->detail, "last before first");
	ck_assert(!job_ready(bad));
	ck_assert(!job_ready(undefined));
	ck_assert_ptr_null(bad->frames);
	ck_assert_uint_eq(bad->nout, 0);

	test_sched_expect(&farm, a, 1, T0, good, 1);
	sched_frame_done(&farm, good, 1, a, T0 + 1);
	test_sched_none(&farm, a, 1, T0 + 10 * DELAY);
	ck_assert(!sched_has_work(&farm, T0 + 10 * DELAY));
	/* What was out of it is no longer wanted. */
	ck_assert_int_eq(sched_check_result(&farm, "bad.blend", BLENDDIGEST1,
	    1, NULL, &got), FARM_RESULT_NO_JOB);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_redistribute_delay)
{
	struct farm		 farm;
	struct job		*job;
	struct host		*a, *b;
	struct frame		*f;
	struct test_sched_event	*e;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	b = host_get(&farm, "beta");
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", 7, 7);
	test_sched_expect(&farm, a, 1, T0, job, 7);

	/* Just before the delay: nothing. */
	ck_assert(!sched_has_work(&farm, T0 + DELAY - 1));
	test_sched_none(&farm, b, 1, T0 + DELAY - 1);

	/* Exactly at the delay: out again, to the one who asks. */
	ck_assert(sched_has_work(&farm, T0 + DELAY));
	test_sched_expect(&farm, b, 1, T0 + DELAY, job, 7);
	e = test_sched_last();
	ck_assert_int_eq(e->ev, FARM_FRAME_RESENT);
	ck_assert_int_eq(e->frame, 7);
	ck_assert_str_eq(e->host, "beta");
	f = job_frame(job, 7);
	ck_assert_int_eq(f->state, FRAME_OUT);
	ck_assert_uint_eq(f->sends, 2);
	ck_assert_int_eq(f->since, T0 + DELAY);
	ck_assert_ptr_eq(f->host, b);
	ck_assert_uint_eq(job->nout, 1);

	/* The clock starts again from the resend. */
	test_sched_none(&farm, a, 1, T0 + 2 * DELAY - 1);
	test_sched_expect(&farm, a, 1, T0 + 2 * DELAY, job, 7);
	ck_assert_uint_eq(f->sends, 3);
	ck_assert_uint_eq(test_sched_count(FARM_FRAME_OUT), 1);
	ck_assert_uint_eq(test_sched_count(FARM_FRAME_RESENT), 2);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_redistribute_setting)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*a;

	/* The delay is the farm's, not a constant. */
	test_sched_nevents = 0;
	farm_init(&farm, 2000, test_sched_record, test_sched_events);
	a = host_get(&farm, "alpha");
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", 1, 1);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	test_sched_none(&farm, a, 1, T0 + 1999);
	test_sched_expect(&farm, a, 1, T0 + 2000, job, 1);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_redistribute_not_when_none_available)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*a, *b;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	b = host_get(&farm, "beta");
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", 1, 1);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	test_sched_none(&farm, b, 0, T0 + DELAY);
	test_sched_none(&farm, b, 0, T0 + 100 * DELAY);
	ck_assert_uint_eq(job_frame(job, 1)->sends, 1);
	ck_assert_ptr_eq(job_frame(job, 1)->host, a);
	test_sched_expect(&farm, b, 2, T0 + 100 * DELAY, job, 1);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_oldest_out_first)
{
	struct farm	 farm;
	struct job	*low, *high;
	struct host	*a;
	struct file_id	 id = { 1, 2, 3, 4 };
	farm_time	 t;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	low = test_sched_job(&farm, "low.job", "/srv/low.blend", 1, 2);
	high = farm_add_job(&farm, "high.job");
	farm_set_definition(&farm, high, "/srv/high.blend", 1, 1, JOBDIGEST2);
	farm_set_priority(&farm, high, 10);

	/* low 1 and 2 go out before high is hashed, high 1 after. */
	test_sched_expect(&farm, a, 1, T0 + 10, low, 1);
	test_sched_expect(&farm, a, 1, T0 + 20, low, 2);
	farm_set_blend_digest(&farm, high, BLENDDIGEST2, &id);
	test_sched_expect(&farm, a, 1, T0 + 30, high, 1);

	/* Overdue: the one out longest, whatever the queue order. */
	t = T0 + 30 + DELAY;
	test_sched_expect(&farm, a, 1, t, low, 1);
	test_sched_expect(&farm, a, 1, t, low, 2);
	test_sched_expect(&farm, a, 1, t, high, 1);
	test_sched_none(&farm, a, 1, t);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_oldest_first_only_if_due)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*a;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", 1, 3);
	test_sched_expect(&farm, a, 1, T0 + 300, job, 1);
	test_sched_expect(&farm, a, 1, T0 + 100, job, 2);
	test_sched_expect(&farm, a, 1, T0 + 200, job, 3);
	/* At T0 + 100 + DELAY only frame 2 is due. */
	test_sched_expect(&farm, a, 1, T0 + 100 + DELAY, job, 2);
	test_sched_none(&farm, a, 1, T0 + 199 + DELAY);
	test_sched_expect(&farm, a, 1, T0 + 1000 + DELAY, job, 3);
	test_sched_expect(&farm, a, 1, T0 + 1000 + DELAY, job, 1);
	test_sched_none(&farm, a, 1, T0 + 1000 + DELAY);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_fresh_before_resend)
{
	struct farm	 farm;
	struct job	*one, *two;
	struct host	*a;
	struct file_id	 id = { 1, 2, 3, 4 };

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	one = test_sched_job(&farm, "one.job", "/srv/one.blend", 1, 1);
	two = farm_add_job(&farm, "two.job");
	farm_set_definition(&farm, two, "/srv/two.blend", 1, 1, JOBDIGEST2);
	test_sched_expect(&farm, a, 1, T0, one, 1);
	farm_set_blend_digest(&farm, two, BLENDDIGEST2, &id);
	test_sched_expect(&farm, a, 1, T0 + 10 * DELAY, two, 1);
	test_sched_expect(&farm, a, 1, T0 + 10 * DELAY, one, 1);
	ck_assert_int_eq(test_sched_last()->ev, FARM_FRAME_RESENT);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_stopping)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*a;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", 1, 3);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	farm.stopping = 1;
	ck_assert(!sched_has_work(&farm, T0 + DELAY));
	test_sched_none(&farm, a, 1, T0 + DELAY);
	farm.stopping = 0;
	test_sched_expect(&farm, a, 1, T0 + DELAY, job, 2);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_result_reasons)
{
	struct farm	 farm;
	struct job	*job, *got;
	struct host	*a;
	const char	*name;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", 1, 3);
	name = job->blend_name;
	ck_assert_str_eq(name, "shot.blend");
	test_sched_expect(&farm, a, 1, T0, job, 1);

	got = NULL;
	ck_assert_int_eq(sched_check_result(&farm, name, BLENDDIGEST1, 1,
	    a, &got),
	    FARM_RESULT_OK);
	ck_assert_ptr_eq(got, job);
	/* Out, but not to the one that sends it. */
	ck_assert_int_eq(sched_check_result(&farm, name, BLENDDIGEST1, 1,
	    NULL, &got), FARM_RESULT_NOT_YOURS);
	ck_assert_int_eq(sched_check_result(&farm, "other.blend", BLENDDIGEST1,
	    1, NULL, &got), FARM_RESULT_NO_JOB);
	ck_assert_int_eq(sched_check_result(&farm, name, BLENDDIGEST2, 1,
	    NULL, &got),
	    FARM_RESULT_CHANGED);
	ck_assert_int_eq(sched_check_result(&farm, name, BLENDDIGEST1, 2,
	    NULL, &got),
	    FARM_RESULT_NOT_OUT);
	ck_assert_int_eq(sched_check_result(&farm, name, BLENDDIGEST1, 0,
	    NULL, &got),
	    FARM_RESULT_NOT_OUT);
	ck_assert_int_eq(sched_check_result(&farm, name, BLENDDIGEST1, 4,
	    NULL, &got),
	    FARM_RESULT_NOT_OUT);
	ck_assert_int_eq(sched_check_result(&farm, name, BLENDDIGEST1, -1,
	    NULL, &got),
	    FARM_RESULT_NOT_OUT);

	sched_frame_done(&farm, job, 1, a, T0 + 1000);
	ck_assert_int_eq(sched_check_result(&farm, name, BLENDDIGEST1, 1,
	    NULL, &got),
	    FARM_RESULT_DONE);

	/* Every reason has its own words. */
	ck_assert_str_ne(sched_result_reason(FARM_RESULT_NO_JOB),
	    sched_result_reason(FARM_RESULT_CHANGED));
	ck_assert_str_ne(sched_result_reason(FARM_RESULT_NOT_OUT),
	    sched_result_reason(FARM_RESULT_DONE));
	ck_assert_str_ne(sched_result_reason(FARM_RESULT_OK),
	    sched_result_reason(FARM_RESULT_DONE));
	ck_assert_ptr_nonnull(strstr(sched_result_reason(FARM_RESULT_DONE),
	    "done"));
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_result_shared_blend)
{
	struct farm	 farm;
	struct job	*one, *two, *got;
	struct host	*a;

	/* Two jobs of one .blend: the result goes to the one it is out for. */
	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	one = test_sched_job(&farm, "one.job", "/srv/shot.blend", 1, 1);
	two = test_sched_job(&farm, "two.job", "/srv/shot.blend", 1, 2);
	ck_assert_str_eq(one->blend_name, two->blend_name);
	test_sched_expect(&farm, a, 1, T0, one, 1);
	test_sched_expect(&farm, a, 1, T0, two, 1);
	test_sched_expect(&farm, a, 1, T0, two, 2);
	ck_assert_int_eq(sched_check_result(&farm, "shot.blend", BLENDDIGEST1,
	    2, a, &got), FARM_RESULT_OK);
	ck_assert_ptr_eq(got, two);
	sched_frame_done(&farm, one, 1, a, T0 + 1);
	ck_assert_int_eq(sched_check_result(&farm, "shot.blend", BLENDDIGEST1,
	    1, a, &got), FARM_RESULT_OK);
	ck_assert_ptr_eq(got, two);
	sched_frame_done(&farm, two, 1, a, T0 + 1);
	ck_assert_int_eq(sched_check_result(&farm, "shot.blend", BLENDDIGEST1,
	    1, NULL, &got), FARM_RESULT_DONE);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_result_other_host)
{
	struct farm		 farm;
	struct job		*job, *got;
	struct host		*a, *b, *c;
	struct test_sched_event	*e;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	b = host_get(&farm, "beta");
	c = host_get(&farm, "gamma");
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", 1, 1);
	test_sched_expect(&farm, b, 1, T0, job, 1);
	/* Out to beta: no one else may send it. */
	ck_assert_int_eq(sched_check_result(&farm, "shot.blend", BLENDDIGEST1,
	    1, a, &got), FARM_RESULT_NOT_YOURS);
	/* Overdue, it goes to alpha; beta, which had it, may still send it. */
	test_sched_expect(&farm, a, 1, T0 + DELAY, job, 1);
	ck_assert_int_eq(sched_check_result(&farm, "shot.blend", BLENDDIGEST1,
	    1, c, &got), FARM_RESULT_NOT_YOURS);
	ck_assert_int_eq(sched_check_result(&farm, "shot.blend", BLENDDIGEST1,
	    1, b, &got), FARM_RESULT_OK);
	sched_frame_done(&farm, got, 1, b, T0 + DELAY + 4000);

	e = &test_sched_events[test_sched_nevents - 3];
	ck_assert_int_eq(e->ev, FARM_FRAME_DONE);
	ck_assert_int_eq(e->frame, 1);
	ck_assert_str_eq(e->host, "beta");
	/* Alpha, which had it, is told to drop it. */
	e = &test_sched_events[test_sched_nevents - 2];
	ck_assert_int_eq(e->ev, FARM_FRAME_CANCELLED);
	ck_assert_str_eq(e->host, "alpha");
	ck_assert_str_eq(e->detail, "beta");
	ck_assert_uint_eq(a->held, 0);
	ck_assert_int_eq(job_frame(job, 1)->state, FRAME_DONE);
	ck_assert_ptr_null(job_frame(job, 1)->host);
	ck_assert_uint_eq(b->done, 1);
	ck_assert_uint_eq(a->done, 0);
	ck_assert_uint_eq(job->nhosts, 1);
	ck_assert_str_eq(job->hosts[0].name, "beta");
	ck_assert_uint_eq(job->hosts[0].count, 1);
	ck_assert_int_eq(b->frame_time_sum, 4000);
	ck_assert_uint_eq(b->frame_time_count, 1);
	/* Done, the frame's earlier holders are forgotten. */
	ck_assert_uint_eq(job->npast, 0);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_resent_returned_by_first)
{
	struct farm	 farm;
	struct job	*job, *got;
	struct host	*a, *b;

	/* Out to alpha, again to beta; alpha's copy arrives first. */
	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	b = host_get(&farm, "beta");
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", 1, 1);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	test_sched_expect(&farm, b, 1, T0 + DELAY, job, 1);
	/* Alpha had it before: its late result is still welcome. */
	ck_assert_int_eq(sched_check_result(&farm, "shot.blend", BLENDDIGEST1,
	    1, a, &got), FARM_RESULT_OK);
	sched_frame_done(&farm, got, 1, a, T0 + DELAY + 5);
	ck_assert_uint_eq(a->done, 1);
	ck_assert_uint_eq(job->nout, 0);
	ck_assert_uint_eq(job->ndone, 1);
	ck_assert_int_eq(sched_check_result(&farm, "shot.blend", BLENDDIGEST1,
	    1, NULL, &got), FARM_RESULT_DONE);
	ck_assert_uint_eq(test_sched_count(FARM_JOB_COMPLETE), 1);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_done_per_host)
{
	struct farm	 farm;
	struct job	*one, *two;
	struct host	*a, *b;
	size_t		 i;
	long		 n;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	b = host_get(&farm, "beta");
	one = test_sched_job(&farm, "one.job", "/srv/one.blend", 1, 5);
	two = test_sched_job(&farm, "two.job", "/srv/two.blend", 1, 2);
	for (n = 1; n <= 5; n++)
		test_sched_expect(&farm, n % 2 ? a : b, 1, T0 + n, one, n);
	for (n = 1; n <= 5; n++)
		sched_frame_done(&farm, one, n, n <= 3 ? a : b, T0 + 100);
	test_sched_expect(&farm, a, 1, T0 + 100, two, 1);
	sched_frame_done(&farm, two, 1, a, T0 + 150);

	ck_assert_uint_eq(one->ndone, 5);
	ck_assert_uint_eq(one->nout, 0);
	ck_assert_uint_eq(one->nhosts, 2);
	for (i = 0; i < one->nhosts; i++) {
		if (strcmp(one->hosts[i].name, "alpha") == 0)
			ck_assert_uint_eq(one->hosts[i].count, 3);
		else {
			ck_assert_str_eq(one->hosts[i].name, "beta");
			ck_assert_uint_eq(one->hosts[i].count, 2);
		}
	}
	ck_assert_uint_eq(two->nhosts, 1);
	ck_assert_uint_eq(two->hosts[0].count, 1);
	ck_assert_uint_eq(a->done, 4);
	ck_assert_uint_eq(b->done, 2);
	/* Hand-out to receipt: (99 + 98 + 97 + 96 + 95) for job one. */
	ck_assert_int_eq(one->frame_time_sum, 485);
	ck_assert_uint_eq(one->frame_time_count, 5);
	ck_assert_int_eq(a->frame_time_sum, 99 + 98 + 97 + 50);
	ck_assert_uint_eq(test_sched_count(FARM_FRAME_DONE), 6);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_complete_once)
{
	struct farm		 farm;
	struct job		*job;
	struct host		*a, *b;
	struct test_sched_event	*e;
	size_t			 before;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	b = host_get(&farm, "beta");
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", 1, 2);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	test_sched_expect(&farm, a, 1, T0, job, 2);
	test_sched_expect(&farm, b, 1, T0 + DELAY, job, 1);

	sched_frame_done(&farm, job, 2, a, T0 + 10);
	ck_assert_uint_eq(test_sched_count(FARM_JOB_COMPLETE), 0);
	ck_assert(!job->complete);
	sched_frame_done(&farm, job, 1, b, T0 + DELAY + 10);
	e = test_sched_last();
	ck_assert_int_eq(e->ev, FARM_JOB_COMPLETE);
	ck_assert_ptr_eq(e->job, job);
	ck_assert_int_eq(test_sched_events[test_sched_nevents - 2].ev,
	    FARM_FRAME_DONE);
	ck_assert(job->complete);

	/* The late copy of frame 1 changes nothing. */
	before = test_sched_nevents;
	sched_frame_done(&farm, job, 1, a, T0 + DELAY + 20);
	sched_frame_done(&farm, job, 99, a, T0 + DELAY + 20);
	ck_assert_uint_eq(test_sched_nevents, before);
	ck_assert_uint_eq(a->done, 1);
	ck_assert_uint_eq(job->ndone, 2);
	ck_assert_uint_eq(test_sched_count(FARM_JOB_COMPLETE), 1);
	ck_assert(!sched_has_work(&farm, T0 + 100 * DELAY));
	test_sched_none(&farm, a, 1, T0 + 100 * DELAY);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_restart_job_digest)
{
	struct farm		 farm;
	struct job		*job, *got;
	struct host		*a;
	struct test_sched_event	*e;
	size_t			 before;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", 1, 3);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	test_sched_expect(&farm, a, 1, T0, job, 2);
	sched_frame_done(&farm, job, 1, a, T0 + 5);

	/* The same contents read again: nothing happens. */
	before = test_sched_nevents;
	farm_set_definition(&farm, job, "/srv/shot.blend", 1, 3, JOBDIGEST1);
	ck_assert_uint_eq(test_sched_nevents, before);
	ck_assert_uint_eq(job->ndone, 1);

	/* New contents: the job starts over, on its new range. */
	farm_set_definition(&farm, job, "/srv/shot.blend", 1, 5, JOBDIGEST2);
	e = test_sched_last();
	ck_assert_int_eq(e->ev, FARM_JOB_RESTARTED);
	ck_assert_ptr_eq(e->job, job);
	ck_assert_str_ne(e->detail, "");
	ck_assert_uint_eq(job->nframes, 5);
	ck_assert_uint_eq(job->ndone, 0);
	ck_assert_uint_eq(job->nout, 0);
	ck_assert_uint_eq(job->nhosts, 0);
	ck_assert(!job->complete);
	ck_assert_int_eq(job_frame(job, 1)->state, FRAME_TODO);
	ck_assert_int_eq(job_frame(job, 2)->state, FRAME_TODO);
	ck_assert_uint_eq(job_frame(job, 2)->sends, 0);
	ck_assert_str_eq(job->job_digest, JOBDIGEST2);

	/* Same .blend: still hashed, so it goes out from frame 1 afresh. */
	ck_assert(job_ready(job));
	ck_assert_int_eq(sched_check_result(&farm, "shot.blend", BLENDDIGEST1,
	    2, NULL, &got), FARM_RESULT_NOT_OUT);
	test_sched_expect(&farm, a, 1, T0 + 10, job, 1);
	ck_assert_int_eq(test_sched_last()->ev, FARM_FRAME_OUT);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_restart_new_blend_path)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*a;
	struct file_id	 id = { 5, 6, 7, 8 };

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", 1, 3);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	farm_set_definition(&farm, job, "/srv/other.blend", 1, 3, JOBDIGEST2);
	ck_assert_uint_eq(test_sched_count(FARM_JOB_RESTARTED), 1);
	ck_assert_str_eq(job->blend_name, "other.blend");
	ck_assert_str_eq(job->blend_digest, "");
	ck_assert(!job_ready(job));
	test_sched_none(&farm, a, 1, T0 + 10 * DELAY);
	farm_set_blend_digest(&farm, job, BLENDDIGEST2, &id);
	ck_assert_uint_eq(test_sched_count(FARM_JOB_RESTARTED), 1);
	test_sched_expect(&farm, a, 1, T0 + 10 * DELAY, job, 1);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_restart_blend_digest)
{
	struct farm		 farm;
	struct job		*job, *got;
	struct host		*a;
	struct test_sched_event	*e;
	struct file_id		 id = { 1, 2, 3, 4 }, id2 = { 1, 2, 99, 5 };
	size_t			 before;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", 1, 2);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	test_sched_expect(&farm, a, 1, T0, job, 2);
	sched_frame_done(&farm, job, 2, a, T0 + 5);

	/* Hashed again, same digest (touched): nothing changes but id. */
	before = test_sched_nevents;
	farm_set_blend_digest(&farm, job, BLENDDIGEST1, &id2);
	ck_assert_uint_eq(test_sched_nevents, before);
	ck_assert_uint_eq(job->ndone, 1);
	ck_assert_int_eq(job->blend_id.size, 99);

	farm_set_blend_digest(&farm, job, BLENDDIGEST2, &id);
	e = test_sched_last();
	ck_assert_int_eq(e->ev, FARM_JOB_RESTARTED);
	ck_assert_ptr_eq(e->job, job);
	ck_assert_str_ne(e->detail, "");
	ck_assert_uint_eq(job->ndone, 0);
	ck_assert_uint_eq(job->nout, 0);
	ck_assert_int_eq(job_frame(job, 2)->state, FRAME_TODO);
	ck_assert_str_eq(job->blend_digest, BLENDDIGEST2);

	/* A frame rendered from the old file is refused as changed. */
	ck_assert_int_eq(sched_check_result(&farm, "shot.blend", BLENDDIGEST1,
	    1, NULL, &got), FARM_RESULT_CHANGED);
	test_sched_expect(&farm, a, 1, T0 + 10, job, 1);
	ck_assert_int_eq(test_sched_last()->ev, FARM_FRAME_OUT);
	ck_assert_int_eq(sched_check_result(&farm, "shot.blend", BLENDDIGEST2,
	    1, a, &got), FARM_RESULT_OK);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_complete_again_after_restart)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*a;
	struct file_id	 id = { 1, 2, 3, 4 };

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", 1, 1);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	sched_frame_done(&farm, job, 1, a, T0 + 1);
	ck_assert_uint_eq(test_sched_count(FARM_JOB_COMPLETE), 1);
	farm_set_blend_digest(&farm, job, BLENDDIGEST2, &id);
	ck_assert(!job->complete);
	test_sched_expect(&farm, a, 1, T0 + 2, job, 1);
	sched_frame_done(&farm, job, 1, a, T0 + 3);
	ck_assert_uint_eq(test_sched_count(FARM_JOB_COMPLETE), 2);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_discarded)
{
	struct farm		 farm;
	struct job		*job;
	struct test_sched_event	*e;

	test_sched_init(&farm);
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", 1, 1);
	sched_frame_discarded(&farm, job, 1, "alpha", "cut off");
	e = test_sched_last();
	ck_assert_int_eq(e->ev, FARM_FRAME_DISCARDED);
	ck_assert_ptr_eq(e->job, job);
	ck_assert_int_eq(e->frame, 1);
	ck_assert_str_eq(e->host, "alpha");
	ck_assert_str_eq(e->detail, "cut off");
	ck_assert_int_eq(job_frame(job, 1)->state, FRAME_TODO);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_no_observer)
{
	struct farm	 farm;
	struct job	*job, *got;
	struct host	*a;
	long		 n;

	/* Without an observer the farm works the same. */
	farm_init(&farm, DELAY, NULL, NULL);
	a = host_get(&farm, "alpha");
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", 1, 1);
	ck_assert(sched_next(&farm, a, 1, T0, &got, &n));
	ck_assert(sched_next(&farm, a, 1, T0 + DELAY, &got, &n));
	sched_frame_done(&farm, job, 1, a, T0 + DELAY);
	ck_assert(job->complete);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_result_shared_blend_host)
{
	struct farm	 farm;
	struct job	*a, *b, *got = NULL;
	struct host	*h1, *h2;

	/* Two jobs of one .blend, frame 1 of each out to a different host. */
	test_sched_init(&farm);
	h1 = host_get(&farm, "one");
	h2 = host_get(&farm, "two");
	a = test_sched_job(&farm, "a.job", "/srv/s.blend", 1, 1);
	b = test_sched_job(&farm, "b.job", "/srv/s.blend", 1, 1);
	test_sched_expect(&farm, h1, 1, T0, a, 1);
	test_sched_expect(&farm, h2, 1, T0, b, 1);
	ck_assert_int_eq(sched_check_result(&farm, b->blend_name, BLENDDIGEST1,
	    1, h2, &got), FARM_RESULT_OK);
	ck_assert_ptr_eq(got, b);
	ck_assert_int_eq(sched_check_result(&farm, a->blend_name, BLENDDIGEST1,
	    1, h1, &got), FARM_RESULT_OK);
	ck_assert_ptr_eq(got, a);
	/* Once a's frame is in, h2's is still wanted, for b. */
	sched_frame_done(&farm, a, 1, h1, T0 + 1);
	ck_assert_int_eq(sched_check_result(&farm, b->blend_name, BLENDDIGEST1,
	    1, h2, &got), FARM_RESULT_OK);
	ck_assert_ptr_eq(got, b);
	ck_assert_ptr_eq(sched_find_frame(&farm, b->blend_name, BLENDDIGEST1,
	    1, h2), b);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_failure_requeues)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*a, *b;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	b = host_get(&farm, "beta");
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 3);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	sched_frame_failed(&farm, job, 1, a, "Error: no memory", 0);
	ck_assert_int_eq(test_sched_last()->ev, FARM_FRAME_FAILED);
	ck_assert_str_eq(test_sched_last()->detail, "Error: no memory");
	ck_assert_uint_eq(job->nout, 0);
	/* Back at once, not after the redistribution delay. */
	test_sched_expect(&farm, b, 1, T0 + 1, job, 1);
	ck_assert_uint_eq(job_frame_failures(job, 1), 1);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_failure_not_out)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*a, *b;
	size_t		 before;
	int		 i;

	/*
	 * Only the host a frame is out to can fail it, once per hand-out: a
	 * flood of reports of frames out elsewhere, or never out, is stored
	 * nowhere and sets nothing aside.
	 */
	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	b = host_get(&farm, "beta");
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 3);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	before = test_sched_nevents;
	for (i = 0; i < 1000; i++) {
		ck_assert_int_eq(sched_frame_failed(&farm, job, 1, b, "x", 0), 0);
		ck_assert_int_eq(sched_frame_failed(&farm, job, 2, b, "x", 0), 0);
	}
	ck_assert_uint_eq(test_sched_nevents, before);
	ck_assert_uint_eq(job->nfailures, 0);
	ck_assert_uint_eq(job->nfailed, 0);
	ck_assert(!job_host_blocked(job, b));
	ck_assert_ptr_eq(job_frame(job, 1)->host, a);
	ck_assert_int_eq(sched_frame_failed(&farm, job, 1, a, "x", 0), 1);
	ck_assert_int_eq(sched_frame_failed(&farm, job, 1, a, "x", 0), 0);
	ck_assert_uint_eq(job->nfailures, 1);
	ck_assert_uint_eq(test_sched_count(FARM_FRAME_FAILED), 1);
	ck_assert(!job_finished(job));
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_failure_reports_capped)
{
	struct farm	 farm;
	struct job	*job, *got;
	struct host	*h;
	char		 name[32];
	long		 n;
	int		 i;

	/*
	 * Reports, each from a host the frame was out to, up to the cap
	 * are kept; beyond it a failed frame just goes back to the queue.
	 */
	farm_init(&farm, DELAY, NULL, NULL);
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 5000);
	for (i = 0; i < FARM_MAX_FAILURE_REPORTS; i++) {
		snprintf(name, sizeof name, "host%d", i);
		h = host_get(&farm, name);
		ck_assert(sched_next(&farm, h, 1, T0, &got, &n));
		ck_assert_int_eq(sched_frame_failed(&farm, job, n, h, "x", 0), 1);
	}
	ck_assert_uint_eq(job->nfailures, FARM_MAX_FAILURE_REPORTS);
	test_sched_nevents = 0;
	farm.event = test_sched_record;
	farm.event_arg = test_sched_events;
	h = host_get(&farm, "one.more");
	ck_assert(sched_next(&farm, h, 1, T0, &got, &n));
	ck_assert_int_eq(sched_frame_failed(&farm, job, n, h, "x", 0), 0);
	ck_assert_uint_eq(job->nfailures, FARM_MAX_FAILURE_REPORTS);
	ck_assert_int_eq(job_frame(job, n)->state, FRAME_TODO);
	ck_assert_int_eq(test_sched_last()->ev, FARM_FRAME_RETURNED);
	ck_assert_uint_eq(h->held, 0);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_failures_block_host)
{
	struct farm	 farm;
	struct job	*job, *other;
	struct host	*a, *b;
	int		 i;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	b = host_get(&farm, "beta");
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 9);
	other = test_sched_job(&farm, "g.job", "/srv/g.blend", 1, 9);
	for (i = 0; i < FARM_MAX_FAILURES; i++) {
		ck_assert(!job_host_blocked(job, a));
		/* A failed frame is the lowest to do again. */
		test_sched_expect(&farm, a, 1, T0 + i, job, 1);
		sched_frame_failed(&farm, job, 1, a, "Error", 0);
	}
	ck_assert(job_host_blocked(job, a));
	ck_assert_uint_eq(test_sched_count(FARM_HOST_BLOCKED), 1);
	ck_assert_uint_eq(job_blocked_hosts(job), 1);
	/* a gets only the other job now; b still gets this one. */
	test_sched_expect(&farm, a, 1, T0 + 10, other, 1);
	test_sched_expect(&farm, b, 1, T0 + 10, job, 1);
	/* Failures on one host are no reason to set a frame aside. */
	ck_assert_uint_eq(job->nfailed, 0);
	ck_assert_uint_eq(job_frame_failures(job, 1), 1);
	sched_unblock(&farm, job);
	ck_assert(!job_host_blocked(job, a));
	ck_assert_uint_eq(job_blocked_hosts(job), 0);
	test_sched_expect(&farm, a, 1, T0 + 11, job, 2);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_blocked_no_resend)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*a, *b;
	int		 i;

	/* A blocked host gets no frame of the job, not even an overdue one. */
	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	b = host_get(&farm, "beta");
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 2);
	for (i = 0; i < FARM_MAX_FAILURES; i++) {
		test_sched_expect(&farm, a, 1, T0 + i, job, 1);
		sched_frame_failed(&farm, job, 1, a, "Error", 0);
	}
	test_sched_expect(&farm, b, 1, T0 + 10, job, 1);
	test_sched_expect(&farm, b, 1, T0 + 10, job, 2);
	test_sched_none(&farm, a, 1, T0 + 10 + DELAY);
	/* Another host does get the overdue frame. */
	test_sched_expect(&farm, host_get(&farm, "gamma"), 1, T0 + 10 + DELAY,
	    job, 1);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_frame_fails_everywhere)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*h[FARM_MAX_FAILURES + 1];
	char		 name[16], text[64];
	int		 i;

	test_sched_init(&farm);
	for (i = 0; i <= FARM_MAX_FAILURES; i++) {
		snprintf(name, sizeof name, "host%d", i);
		h[i] = host_get(&farm, name);
	}
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 5, 6);
	for (i = 0; i < FARM_MAX_FAILURES; i++) {
		test_sched_expect(&farm, h[i], 1, T0 + i, job, 5);
		sched_frame_failed(&farm, job, 5, h[i], "Error", 0);
	}
	ck_assert_uint_eq(test_sched_count(FARM_FRAME_GAVE_UP), 1);
	ck_assert_uint_eq(job->nfailed, 1);
	ck_assert_int_eq(job_frame(job, 5)->state, FRAME_FAILED);
	/* Set aside: the next host gets frame 6 and then nothing. */
	test_sched_expect(&farm, h[3], 1, T0 + 10, job, 6);
	test_sched_none(&farm, h[3], 1, T0 + 11);
	sched_frame_done(&farm, job, 6, h[3], T0 + 20);
	ck_assert(job_finished(job));
	ck_assert_uint_eq(test_sched_count(FARM_JOB_COMPLETE), 1);
	job_failed_text(job, text, sizeof text);
	ck_assert_str_eq(text, "5");
	/* Asked for again, it goes out again, and the job is not done. */
	ck_assert_uint_eq(sched_retry_failed(&farm, job), 1);
	ck_assert(!job_finished(job));
	test_sched_expect(&farm, h[0], 1, T0 + 30, job, 5);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_failed_text)
{
	struct farm	 farm;
	struct job	*job;
	char		 text[64], small[8];
	long		 n;

	test_sched_init(&farm);
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 20);
	for (n = 1; n <= 20; n++) {
		if (n == 3 || (n >= 7 && n <= 9) || n == 20) {
			job_frame(job, n)->state = FRAME_FAILED;
			job->nfailed++;
		}
	}
	job_failed_text(job, text, sizeof text);
	ck_assert_str_eq(text, "3, 7-9, 20");
	job_failed_text(job, small, sizeof small);
	ck_assert_str_eq(small, "3, ...");
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_lost_host)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*a, *b;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	b = host_get(&farm, "beta");
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 3);
	host_connected(a, 1, 0, T0);
	host_connected(b, 1, 0, T0);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	test_sched_expect(&farm, a, 1, T0, job, 2);
	/* Alive, a keeps its frames past the delay; b gets only frame 3. */
	test_sched_expect(&farm, b, 1, T0 + DELAY, job, 3);
	test_sched_none(&farm, b, 1, T0 + 2 * DELAY);
	host_disconnected(a, 1, 0);
	ck_assert_uint_eq(sched_host_lost(&farm, a), 2);
	ck_assert_int_eq(test_sched_last()->ev, FARM_HOST_LOST);
	test_sched_expect(&farm, b, 1, T0 + 2 * DELAY, job, 1);
	test_sched_expect(&farm, b, 1, T0 + 2 * DELAY, job, 2);
	/* A late result from the lost host is still welcome. */
	sched_frame_done(&farm, job, 1, a, T0 + 2 * DELAY + 1);
	ck_assert_int_eq(job_frame(job, 1)->state, FRAME_DONE);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_returned)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*a, *b;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	b = host_get(&farm, "beta");
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 3);
	host_connected(a, 1, 0, T0);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	test_sched_expect(&farm, a, 1, T0, job, 2);
	/* Only the host that has a frame can give it back. */
	ck_assert_int_eq(sched_frame_return(&farm, job, 1, b, "no"), 0);
	ck_assert_int_eq(sched_frame_return(&farm, job, 9, a, "no"), 0);
	ck_assert_int_eq(job_frame(job, 1)->state, FRAME_OUT);
	ck_assert_int_eq(sched_frame_return(&farm, job, 1, a, "refused"), 1);
	ck_assert_int_eq(test_sched_last()->ev, FARM_FRAME_RETURNED);
	ck_assert_str_eq(test_sched_last()->detail, "refused");
	ck_assert_int_eq(job_frame(job, 1)->state, FRAME_TODO);
	ck_assert_uint_eq(job->nout, 1);
	/* Back at once, to anyone, and with no failure held against a. */
	test_sched_expect(&farm, b, 1, T0 + 1, job, 1);
	ck_assert_uint_eq(job->nfailures, 0);
	ck_assert(!job_host_blocked(job, a));
	ck_assert_int_eq(sched_frame_return(&farm, job, 1, a, "late"), 0);
	farm_free(&farm);
}
END_TEST


/*
 * What the console's pages show: how each done frame was rendered, each
 * failure with its reason, each host's latest results; and a frame sent
 * to be rendered again forgets them.
 */
START_TEST(test_sched_history)
{
	struct farm		 farm;
	struct job		*job;
	struct host		*a, *b;
	const struct job_render	*r;
	const struct host_result *hr;
	long			 n;

	test_sched_init(&farm);
	a = host_get(&farm, "alpha");
	b = host_get(&farm, "beta");
	job = test_sched_job(&farm, "shot.job", "/srv/shot.blend", 1, 3);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	test_sched_expect(&farm, b, 1, T0 + 100, job, 2);
	ck_assert_ptr_null(job_render_of(job, 1));
	sched_frame_done(&farm, job, 1, a, T0 + 500);
	job_record_file(job, 1, "0001.png", 1234);
	r = job_render_of(job, 1);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->finished, T0 + 500);
	ck_assert_int_eq(r->took, 500);
	ck_assert_str_eq(job_render_host(job, r), "alpha");
	ck_assert_str_eq(r->file, "0001.png");
	ck_assert_uint_eq(r->size, 1234);
	ck_assert_ptr_null(job_render_of(job, 2));
	ck_assert_ptr_null(job_render_of(job, 4));

	ck_assert_int_eq(sched_frame_failed(&farm, job, 2, b,
	    "Error: boom\n    last line", T0 + 600), 1);
	ck_assert_uint_eq(job->nfailures, 1);
	ck_assert_str_eq(job->failures[0].reason, "Error: boom\n    last line");
	ck_assert_int_eq(job->failures[0].when, T0 + 600);
	ck_assert_uint_eq(b->failed, 1);
	hr = host_result(b, 0);
	ck_assert_ptr_nonnull(hr);
	ck_assert(hr->failed);
	ck_assert_int_eq(hr->frame, 2);
	ck_assert_str_eq(hr->job, "shot.job");
	ck_assert_str_eq(hr->reason, "Error: boom");
	ck_assert_ptr_null(host_result(b, 1));
	hr = host_result(a, 0);
	ck_assert(!hr->failed);
	ck_assert_int_eq(hr->took, 500);
	ck_assert_ptr_null(hr->reason);

	/* Frame 1 is done, frame 2 waits again; only frame 1 goes back. */
	ck_assert_uint_eq(sched_render_again(&farm, job, 1, 3), 1);
	ck_assert_int_eq(job_frame(job, 1)->state, FRAME_TODO);
	ck_assert_uint_eq(job->ndone, 0);
	ck_assert_ptr_null(job_render_of(job, 1));
	ck_assert_uint_eq(job->nfailures, 0);
	ck_assert_uint_eq(sched_render_again(&farm, job, 1, 3), 0);
	ck_assert_int_eq(test_sched_last()->ev, FARM_JOB_CHANGED);

	/* The ring keeps the latest HOST_RESULTS, newest first. */
	for (n = 0; n < HOST_RESULTS + 4; n++)
		host_add_result(a, "other.job", n, 0, T0 + n, 1, NULL);
	ck_assert_int_eq(host_result(a, 0)->frame, HOST_RESULTS + 3);
	ck_assert_int_eq(host_result(a, HOST_RESULTS - 1)->frame, 4);
	ck_assert_ptr_null(host_result(a, HOST_RESULTS));
	farm_free(&farm);
}
END_TEST

/* A bdfarm client of version 2 with renderers, in touch since now. */
static struct host *
test_sched_client(struct farm *farm, const char *name, int renderers,
    farm_time now)
{
	struct host	*h = host_get(farm, name);

	host_connected(h, 2, 0, now);
	h->renderers = renderers;
	return h;
}

/*
 * A frame counts as started once its host reports progress, 0 included,
 * and no longer once it leaves that host: returned, done, lost, or left
 * to the host of its backup copy.
 */
START_TEST(test_sched_started)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*a, *b;
	struct frame	*f;

	test_sched_init(&farm);
	a = test_sched_client(&farm, "a", 1, T0);
	b = test_sched_client(&farm, "b", 1, T0);
	job = test_sched_job(&farm, "s.job", "/srv/s.blend", 1, 4);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	test_sched_expect(&farm, a, 1, T0, job, 2);
	f = job_frame(job, 1);
	ck_assert_int_eq(f->started, 0);
	ck_assert_int_eq(job_frame(job, 2)->started, 0);

	/* Only the host the frame is out to starts it; 0 is enough. */
	sched_frame_progress(job, 1, b, 0);
	ck_assert_int_eq(f->started, 0);
	sched_frame_progress(job, 1, a, 0);
	ck_assert_int_eq(f->started, 1);
	ck_assert_uint_eq(f->progress, 0);
	ck_assert_int_eq(job_frame(job, 2)->started, 0);

	/* Given back: not started, and not once out to another host. */
	ck_assert_int_eq(sched_frame_return(&farm, job, 1, a, "test"), 1);
	ck_assert_int_eq(f->started, 0);
	test_sched_expect(&farm, b, 1, T0, job, 1);
	ck_assert_int_eq(f->started, 0);
	sched_frame_progress(job, 1, b, 500);
	ck_assert_int_eq(f->started, 1);
	sched_frame_done(&farm, job, 1, b, T0 + 1000);
	ck_assert_int_eq(f->started, 0);

	/* A lost host's frames are no longer started. */
	f = job_frame(job, 2);
	sched_frame_progress(job, 2, a, 10);
	ck_assert_int_eq(f->started, 1);
	ck_assert_uint_eq(sched_host_lost(&farm, a), 1);
	ck_assert_int_eq(f->started, 0);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_share)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*a, *b, *old;
	long		 i;

	/*
	 * 12 frames, renderers 1 + 2 + 1 (old clients do not count): a may
	 * hold 12 * 1 / 3 = 4, b 8, and fewer as frames get done.
	 */
	test_sched_init(&farm);
	a = test_sched_client(&farm, "a", 1, T0);
	b = test_sched_client(&farm, "b", 2, T0);
	host_get(&farm, "old");
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 12);
	for (i = 1; i <= 4; i++)
		test_sched_expect(&farm, a, 0, T0, job, i);
	test_sched_none(&farm, a, 0, T0);
	for (i = 5; i <= 12; i++)
		test_sched_expect(&farm, b, 0, T0, job, i);
	ck_assert_uint_eq(a->held, 4);
	ck_assert_uint_eq(b->held, 8);
	/* Done frames shrink the share: 8 left, a may hold 8 / 3, so 3. */
	for (i = 1; i <= 4; i++)
		sched_frame_done(&farm, job, i, a, T0 + 10);
	ck_assert_uint_eq(a->held, 0);
	for (i = 9; i <= 12; i++)
		sched_frame_return(&farm, job, i, b, "test");
	test_sched_expect(&farm, a, 0, T0 + 20, job, 9);
	test_sched_expect(&farm, a, 0, T0 + 20, job, 10);
	test_sched_expect(&farm, a, 0, T0 + 20, job, 11);
	test_sched_none(&farm, a, 0, T0 + 20);
	ck_assert_int_eq(job_frame(job, 12)->state, FRAME_TODO);
	/* b, with two renderers, may hold 8 * 2 / 3: frame 12 is its. */
	test_sched_expect(&farm, b, 0, T0 + 20, job, 12);
	/* An old client is not held back. */
	farm_free(&farm);
	test_sched_init(&farm);
	a = test_sched_client(&farm, "a", 1, T0);
	old = host_get(&farm, "old");
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 4);
	test_sched_expect(&farm, a, 0, T0, job, 1);
	test_sched_expect(&farm, old, 0, T0, job, 2);
	test_sched_expect(&farm, old, 0, T0, job, 3);
	test_sched_expect(&farm, old, 0, T0, job, 4);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_max_held)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*old, *two, *b;
	long		 n;

	/*
	 * However often a peer asks, it holds no more than the farm's cap,
	 * or what its renderers and their queue need if it said.
	 */
	test_sched_init(&farm);
	old = host_get(&farm, "old.example");
	b = host_get(&farm, "b.example");
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 100);
	for (n = 1; n <= FARM_MAX_HELD; n++)
		test_sched_expect(&farm, old, 0, T0, job, n);
	test_sched_none(&farm, old, 0, T0);
	test_sched_none(&farm, old, 1, T0 + 10 * DELAY);
	ck_assert_uint_eq(old->held, FARM_MAX_HELD);
	ck_assert_uint_eq(job->nout, FARM_MAX_HELD);
	/* One back, one more. */
	sched_frame_done(&farm, job, 1, old, T0 + 1);
	test_sched_expect(&farm, old, 0, T0 + 1, job, FARM_MAX_HELD + 1);
	test_sched_none(&farm, old, 0, T0 + 1);

	/* Two renderers: a batch of 4 on each and 3 + 2 * 2 queued, 15. */
	two = test_sched_client(&farm, "two.example", 2, T0);
	for (n = FARM_MAX_HELD + 2; n <= FARM_MAX_HELD + 16; n++)
		test_sched_expect(&farm, two, 2, T0 + 2, job, n);
	test_sched_none(&farm, two, 2, T0 + 2);
	ck_assert_uint_eq(two->held, 15);

	/* The setting lowers the cap; HOLD keeps to it too. */
	farm.max_held = 2;
	n = FARM_MAX_HELD + 17;
	test_sched_expect(&farm, b, 1, T0 + 3, job, n);
	test_sched_expect(&farm, b, 1, T0 + 3, job, n + 1);
	test_sched_none(&farm, b, 1, T0 + 3);
	sched_frame_return(&farm, job, n, b, "test");
	test_sched_expect(&farm, b, 1, T0 + 4, job, n);
	sched_frame_return(&farm, job, n, b, "test");
	sched_frame_return(&farm, job, n + 1, b, "test");
	ck_assert_uint_eq(b->held, 0);
	farm.max_held = 1;
	ck_assert_int_eq(sched_hold(&farm, job, n, b, T0 + 5), 1);
	ck_assert_int_eq(sched_hold(&farm, job, n + 1, b, T0 + 5), 0);
	ck_assert_uint_eq(b->held, 1);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_backup_copy)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*fast, *slow;
	struct frame	*f;

	test_sched_init(&farm);
	fast = test_sched_client(&farm, "fast", 1, T0);
	slow = test_sched_client(&farm, "slow", 1, T0);
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 3);
	/* Fast renders a frame in 1 s, slow in 10 s. */
	test_sched_expect(&farm, fast, 1, T0, job, 1);
	test_sched_expect(&farm, slow, 1, T0, job, 2);
	sched_frame_done(&farm, job, 1, fast, T0 + 1000);
	test_sched_expect(&farm, fast, 1, T0 + 1000, job, 3);
	sched_frame_done(&farm, job, 3, fast, T0 + 2000);
	/* Without a time for slow, it is judged by the job's: no copy. */
	test_sched_none(&farm, fast, 1, T0 + 2000);
	sched_frame_done(&farm, job, 2, slow, T0 + 10000);
	farm_free(&farm);

	test_sched_init(&farm);
	fast = test_sched_client(&farm, "fast", 1, T0);
	slow = test_sched_client(&farm, "slow", 1, T0);
	fast->frame_time_sum = 1000;
	fast->frame_time_count = 1;
	slow->frame_time_sum = 10000;
	slow->frame_time_count = 1;
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 2);
	test_sched_expect(&farm, slow, 1, T0, job, 1);
	test_sched_expect(&farm, fast, 1, T0, job, 2);
	/* No copy to a client with no free renderer. */
	test_sched_none(&farm, fast, 0, T0 + 500);
	sched_frame_done(&farm, job, 2, fast, T0 + 1000);
	/* Slow is 10 % through frame 1: fast gets a copy of it. */
	sched_frame_progress(job, 1, slow, 100);
	test_sched_expect(&farm, fast, 1, T0 + 1000, job, 1);
	ck_assert_int_eq(test_sched_last()->ev, FARM_FRAME_BACKUP);
	ck_assert_str_eq(test_sched_last()->detail, "slow");
	f = job_frame(job, 1);
	ck_assert_ptr_eq(f->host, slow);
	ck_assert_ptr_eq(f->backup, fast);
	ck_assert_uint_eq(job->nout, 1);
	ck_assert_uint_eq(job->backups, 1);
	/* One copy at a time; and the copy's result is wanted. */
	test_sched_none(&farm, fast, 1, T0 + 1000);
	ck_assert_int_eq(sched_check_result(&farm, "f.blend", BLENDDIGEST1,
	    1, fast, &job), FARM_RESULT_OK);
	/* The first result wins; slow is told to drop its render. */
	sched_frame_done(&farm, job, 1, fast, T0 + 2000);
	ck_assert_int_eq(test_sched_events[test_sched_nevents - 2].ev,
	    FARM_FRAME_CANCELLED);
	ck_assert_str_eq(test_sched_events[test_sched_nevents - 2].host,
	    "slow");
	ck_assert_int_eq(test_sched_last()->ev, FARM_JOB_COMPLETE);
	ck_assert_uint_eq(slow->held, 0);
	ck_assert_uint_eq(fast->held, 0);
	ck_assert_uint_eq(job->nout, 0);
	ck_assert_uint_eq(job->ndone, 2);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_backup_released)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*fast, *slow;
	struct frame	*f;

	test_sched_init(&farm);
	fast = test_sched_client(&farm, "fast", 1, T0);
	slow = test_sched_client(&farm, "slow", 1, T0);
	fast->frame_time_sum = 1000;
	fast->frame_time_count = 1;
	slow->frame_time_sum = 10000;
	slow->frame_time_count = 1;
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 1);
	test_sched_expect(&farm, slow, 1, T0, job, 1);
	test_sched_expect(&farm, fast, 1, T0 + 100, job, 1);
	f = job_frame(job, 1);
	/* The copy's host fails it: slow keeps the frame. */
	sched_frame_failed(&farm, job, 1, fast, "Error", 0);
	ck_assert_ptr_eq(f->host, slow);
	ck_assert_ptr_null(f->backup);
	ck_assert_int_eq(f->state, FRAME_OUT);
	/* A copy again; slow is lost: the copy is all there is. */
	test_sched_expect(&farm, fast, 1, T0 + 200, job, 1);
	host_disconnected(slow, 2, 0);
	ck_assert_uint_eq(sched_host_lost(&farm, slow), 1);
	ck_assert_ptr_eq(f->host, fast);
	ck_assert_ptr_null(f->backup);
	ck_assert_int_eq(f->state, FRAME_OUT);
	ck_assert_uint_eq(slow->held, 0);
	/* Fast gives it back: back to the queue. */
	ck_assert_int_eq(sched_frame_return(&farm, job, 1, fast, "test"), 1);
	ck_assert_int_eq(f->state, FRAME_TODO);
	ck_assert_uint_eq(fast->held, 0);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_expire)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*a, *old;

	/* A client of version 2 that left keeps its frames a while. */
	test_sched_init(&farm);
	farm.client_timeout = 30000;
	a = test_sched_client(&farm, "a", 1, T0);
	old = host_get(&farm, "old");
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 3);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	test_sched_expect(&farm, old, 1, T0, job, 2);
	host_disconnected(a, 2, 0);
	ck_assert_uint_eq(sched_expire_hosts(&farm, T0 + 29999), 0);
	ck_assert_int_eq(job_frame(job, 1)->state, FRAME_OUT);
	ck_assert_uint_eq(sched_expire_hosts(&farm, T0 + 30000), 1);
	ck_assert_int_eq(job_frame(job, 1)->state, FRAME_TODO);
	ck_assert_int_eq(test_sched_last()->ev, FARM_HOST_LOST);
	/* An old client's frame waits for the redistribution delay. */
	ck_assert_int_eq(job_frame(job, 2)->state, FRAME_OUT);
	ck_assert_uint_eq(sched_expire_hosts(&farm, T0 + DELAY * 9), 0);
	/* Back in touch in time, it keeps them. */
	test_sched_expect(&farm, a, 1, T0 + 40000, job, 1);
	host_disconnected(a, 2, 0);
	host_connected(a, 2, 0, T0 + 60000);
	ck_assert_uint_eq(sched_expire_hosts(&farm, T0 + 80000), 0);
	ck_assert_int_eq(job_frame(job, 1)->state, FRAME_OUT);
	farm_free(&farm);

	/* A host known only from saved state: from the farm's start. */
	test_sched_init(&farm);
	farm.client_timeout = 30000;
	farm.started = T0 + 5000;
	a = host_get(&farm, "a");
	a->ext_version = 2;
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 3);
	job_frame_out(job, job_frame(job, 2), a, T0 - 100000);
	ck_assert_uint_eq(sched_expire_hosts(&farm, T0 + 34999), 0);
	ck_assert_uint_eq(sched_expire_hosts(&farm, T0 + 35000), 1);
	ck_assert_int_eq(job_frame(job, 2)->state, FRAME_TODO);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_hold)
{
	struct farm		 farm;
	struct job		*job;
	struct host		*a, *b;
	struct farm_hold	 holds[2];

	test_sched_init(&farm);
	a = test_sched_client(&farm, "a", 1, T0);
	b = test_sched_client(&farm, "b", 1, T0);
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 5);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	test_sched_expect(&farm, a, 1, T0, job, 2);
	test_sched_expect(&farm, a, 1, T0, job, 3);
	test_sched_expect(&farm, b, 1, T0, job, 4);
	sched_frame_done(&farm, job, 5, b, T0);
	/* a comes back with 1 and 5; frame 3 went back meanwhile. */
	sched_frame_return(&farm, job, 3, a, "test");
	ck_assert_int_eq(sched_hold(&farm, job, 1, a, T0 + 10), 1);
	ck_assert_int_eq(sched_hold(&farm, job, 3, a, T0 + 10), 1);
	ck_assert_ptr_eq(job_frame(job, 3)->host, a);
	/* Not a frame out to another, done, or outside the job. */
	ck_assert_int_eq(sched_hold(&farm, job, 4, a, T0 + 10), 0);
	ck_assert_int_eq(sched_hold(&farm, job, 9, a, T0 + 10), 0);
	holds[0].seq = job->seq;
	holds[0].frame = 1;
	holds[1].seq = job->seq;
	holds[1].frame = 3;
	/* Frame 2, which a no longer has, goes back. */
	ck_assert_uint_eq(sched_held(&farm, a, holds, 2), 1);
	ck_assert_int_eq(job_frame(job, 2)->state, FRAME_TODO);
	ck_assert_int_eq(test_sched_last()->ev, FARM_FRAME_RETURNED);
	ck_assert_int_eq(job_frame(job, 1)->state, FRAME_OUT);
	ck_assert_ptr_eq(job_frame(job, 4)->host, b);
	ck_assert_uint_eq(a->held, 2);
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_hold_not_yours)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*a, *b;

	/*
	 * A frame back in the queue goes again by HOLD only to a host that
	 * had it: not to one that names frames it never had.
	 */
	test_sched_init(&farm);
	a = test_sched_client(&farm, "a", 1, T0);
	b = test_sched_client(&farm, "b", 1, T0);
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 5);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	sched_frame_return(&farm, job, 1, a, "test");
	ck_assert_int_eq(sched_hold(&farm, job, 1, b, T0 + 10), 0);
	ck_assert_int_eq(sched_hold(&farm, job, 2, b, T0 + 10), 0);
	ck_assert_int_eq(job_frame(job, 1)->state, FRAME_TODO);
	ck_assert_int_eq(job_frame(job, 2)->state, FRAME_TODO);
	ck_assert_uint_eq(b->held, 0);
	ck_assert_int_eq(sched_hold(&farm, job, 1, a, T0 + 10), 1);
	ck_assert_ptr_eq(job_frame(job, 1)->host, a);
	ck_assert(sched_out_to(job, 1, a));
	ck_assert(!sched_out_to(job, 1, b));
	farm_free(&farm);
}
END_TEST

START_TEST(test_sched_overdue_after_leaving)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*a, *b;

	/*
	 * Frames out to a client in touch are never overdue; once it is out
	 * of touch, the one out longest is, even though a walk before had
	 * found nothing due.
	 */
	test_sched_init(&farm);
	a = test_sched_client(&farm, "a", 1, T0);
	b = host_get(&farm, "b");
	job = test_sched_job(&farm, "f.job", "/srv/f.blend", 1, 2);
	test_sched_expect(&farm, a, 1, T0, job, 1);
	test_sched_expect(&farm, b, 1, T0 + 10, job, 2);
	test_sched_none(&farm, b, 1, T0 + 100);
	host_disconnected(a, 2, 0);
	sched_changed(&farm);
	test_sched_expect(&farm, b, 1, T0 + DELAY, job, 1);
	ck_assert_int_eq(test_sched_last()->ev, FARM_FRAME_RESENT);
	ck_assert_uint_eq(a->held, 0);
	test_sched_expect(&farm, b, 1, T0 + DELAY + 10, job, 2);
	farm_free(&farm);
}
END_TEST

Suite *
sched_suite(void)
{
	Suite	*s = suite_create("sched");
	TCase	*order = tcase_create("order");
	TCase	*again = tcase_create("redistribution");
	TCase	*results = tcase_create("results");
	TCase	*restart = tcase_create("restart");
	TCase	*failures = tcase_create("failures");

	tcase_add_test(order, test_sched_lowest_first);
	tcase_add_test(order, test_sched_fresh_when_none_available);
	tcase_add_test(order, test_sched_lowest_after_return);
	tcase_add_test(order, test_sched_priority_then_age);
	tcase_add_test(order, test_sched_set_priority_reorders);
	tcase_add_test(order, test_sched_suspended_skipped);
	tcase_add_test(order, test_sched_fresh_blender);
	tcase_add_test(order, test_sched_unhashed_skipped);
	tcase_add_test(order, test_sched_invalid_skipped);
	tcase_add_test(order, test_sched_stopping);
	suite_add_tcase(s, order);

	tcase_add_test(again, test_sched_redistribute_delay);
	tcase_add_test(again, test_sched_redistribute_setting);
	tcase_add_test(again, test_sched_redistribute_not_when_none_available);
	tcase_add_test(again, test_sched_oldest_out_first);
	tcase_add_test(again, test_sched_oldest_first_only_if_due);
	tcase_add_test(again, test_sched_fresh_before_resend);
	suite_add_tcase(s, again);

	tcase_add_test(results, test_sched_result_reasons);
	tcase_add_test(results, test_sched_result_shared_blend);
	tcase_add_test(results, test_sched_result_other_host);
	tcase_add_test(results, test_sched_resent_returned_by_first);
	tcase_add_test(results, test_sched_done_per_host);
	tcase_add_test(results, test_sched_complete_once);
	tcase_add_test(results, test_sched_discarded);
	tcase_add_test(results, test_sched_returned);
	tcase_add_test(results, test_sched_share);
	tcase_add_test(results, test_sched_started);
	tcase_add_test(results, test_sched_max_held);
	tcase_add_test(results, test_sched_backup_copy);
	tcase_add_test(results, test_sched_backup_released);
	tcase_add_test(results, test_sched_expire);
	tcase_add_test(results, test_sched_hold);
	tcase_add_test(results, test_sched_hold_not_yours);
	tcase_add_test(results, test_sched_overdue_after_leaving);
	tcase_add_test(results, test_sched_no_observer);
	suite_add_tcase(s, results);

	tcase_add_test(restart, test_sched_restart_job_digest);
	tcase_add_test(restart, test_sched_restart_new_blend_path);
	tcase_add_test(restart, test_sched_restart_blend_digest);
	tcase_add_test(restart, test_sched_complete_again_after_restart);
	suite_add_tcase(s, restart);

	tcase_add_test(results, test_sched_result_shared_blend_host);
	tcase_add_test(failures, test_sched_failure_requeues);
	tcase_add_test(failures, test_sched_failure_not_out);
	tcase_add_test(failures, test_sched_failure_reports_capped);
	tcase_add_test(failures, test_sched_failures_block_host);
	tcase_add_test(failures, test_sched_frame_fails_everywhere);
	tcase_add_test(failures, test_sched_blocked_no_resend);
	tcase_add_test(failures, test_sched_failed_text);
	tcase_add_test(failures, test_sched_lost_host);
	tcase_add_test(failures, test_sched_history);
	suite_add_tcase(s, failures);
	return s;
}
