/*
 * test-eta.c: unit tests of the rate and ETA arithmetic, driven through
 * the real model with a fake clock.
 */
#include "bdfarm.h"

#include <string.h>

#include "eta.h"
#include "unit.h"

#define T0	((farm_time)1700000000000LL)

static const char digest_a[] = "0123456789abcdef0123456789abcdef";

/* A farm with one ready job of frames first to last. */
static struct job *
test_eta_job(struct farm *farm, const char *name, long first, long last)
{
	struct job	*job;
	struct file_id	 id;

	memset(&id, 0, sizeof id);
	job = farm_add_job(farm, name);
	farm_set_definition(farm, job, "/srv/a.blend", first, last, digest_a);
	farm_set_blend_digest(farm, job, digest_a, &id);
	ck_assert(job_ready(job));
	return job;
}

/* Hand a frame to host at now and return its number. */
static long
test_eta_out(struct farm *farm, struct host *host, farm_time now)
{
	struct job	*job;
	long		 n;

	ck_assert_int_eq(sched_next(farm, host, 1, now, &job, &n), 1);
	return n;
}

START_TEST(test_eta_rate_unknown)
{
	struct eta_rate	r;

	eta_rate_init(&r, 60000);
	ck_assert(eta_rate_per_minute(&r, T0) < 0);
	eta_rate_sample(&r, T0, 5);
	ck_assert(eta_rate_per_minute(&r, T0 + 30000) < 0);
	/* The counter did not move: still nothing measured. */
	eta_rate_sample(&r, T0 + 30000, 5);
	ck_assert(eta_rate_per_minute(&r, T0 + 30000) < 0);
}
END_TEST

START_TEST(test_eta_rate_steady)
{
	struct eta_rate	r;
	uint64_t	total = 100;
	int		i;
	double		rate;

	/* One frame every 2 s for 3 minutes: 30 a minute. */
	eta_rate_init(&r, 60000);
	eta_rate_sample(&r, T0, total);
	for (i = 1; i <= 90; i++)
		eta_rate_sample(&r, T0 + i * 2000, ++total);
	rate = eta_rate_per_minute(&r, T0 + 180000);
	ck_assert_msg(rate > 29.0 && rate < 31.5, "rate %f", rate);
}
END_TEST

START_TEST(test_eta_rate_young)
{
	struct eta_rate	r;
	double		rate;

	/* 10 frames in the first 20 s: 30 a minute, not 10 over a window. */
	eta_rate_init(&r, 60000);
	eta_rate_sample(&r, T0, 0);
	eta_rate_sample(&r, T0 + 20000, 10);
	rate = eta_rate_per_minute(&r, T0 + 20000);
	ck_assert_msg(rate > 29.0 && rate < 31.0, "rate %f", rate);
}
END_TEST

START_TEST(test_eta_rate_window_slides)
{
	struct eta_rate	r;
	double		rate;

	eta_rate_init(&r, 60000);
	eta_rate_sample(&r, T0, 0);
	eta_rate_sample(&r, T0 + 10000, 60);
	rate = eta_rate_per_minute(&r, T0 + 60000);
	ck_assert_msg(rate > 59.0 && rate < 61.0, "rate %f", rate);
	/* Two minutes later with no frame, the burst is out of the window. */
	eta_rate_sample(&r, T0 + 180000, 60);
	ck_assert(eta_rate_per_minute(&r, T0 + 180000) == 0.0);
	/* Even without a sample, the window moves with now. */
	eta_rate_sample(&r, T0 + 190000, 70);
	rate = eta_rate_per_minute(&r, T0 + 400000);
	ck_assert(rate == 0.0);
	/* A window larger than the ring is cut to the ring. */
	eta_rate_init(&r, 100LL * ETA_RATE_BUCKETS * ETA_RATE_BUCKET_MS);
	ck_assert_int_eq(r.window,
	    (farm_time)ETA_RATE_BUCKETS * ETA_RATE_BUCKET_MS);
}
END_TEST

START_TEST(test_eta_rate_reset)
{
	struct eta_rate	r;

	eta_rate_init(&r, 60000);
	eta_rate_sample(&r, T0, 50);
	eta_rate_sample(&r, T0 + 5000, 60);
	ck_assert(eta_rate_per_minute(&r, T0 + 5000) > 0);
	/* A counter that went down starts measuring again. */
	eta_rate_sample(&r, T0 + 6000, 3);
	ck_assert(eta_rate_per_minute(&r, T0 + 6000) < 0);
}
END_TEST

START_TEST(test_eta_job_unknown)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*host;

	farm_init(&farm, 600000, NULL, NULL);
	job = test_eta_job(&farm, "a.job", 1, 10);
	host = host_get(&farm, "r1");
	ck_assert_int_eq(eta_job_frame_time(job), -1);
	ck_assert_int_eq(eta_job_remaining(job, T0), -1);
	/* Out but never measured: still unknown. */
	test_eta_out(&farm, host, T0);
	ck_assert_int_eq(eta_job_remaining(job, T0 + 5000), -1);
	ck_assert_int_eq(eta_host_frame_time(host), -1);
	farm_free(&farm);
}
END_TEST

START_TEST(test_eta_job_estimate)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*h1, *h2;
	long		 a, b;

	farm_init(&farm, 600000, NULL, NULL);
	job = test_eta_job(&farm, "a.job", 1, 10);
	h1 = host_get(&farm, "r1");
	h2 = host_get(&farm, "r2");

	/* Two frames of 10 s and 20 s: 15 s on average. */
	a = test_eta_out(&farm, h1, T0);
	b = test_eta_out(&farm, h2, T0);
	sched_frame_done(&farm, job, a, h1, T0 + 10000);
	sched_frame_done(&farm, job, b, h2, T0 + 20000);
	ck_assert_int_eq(eta_job_frame_time(job), 15000);
	ck_assert_int_eq(eta_host_frame_time(h1), 10000);
	ck_assert_int_eq(eta_host_frame_time(h2), 20000);

	/* Nobody renders it now: no estimate. */
	ck_assert_int_eq(eta_job_remaining(job, T0 + 20000), -1);

	/* Two renderers, 8 frames left, one has had 5 s already. */
	test_eta_out(&farm, h1, T0 + 15000);
	test_eta_out(&farm, h2, T0 + 20000);
	ck_assert_int_eq(eta_job_remaining(job, T0 + 20000),
	    (8 * 15000 - 5000) / 2);
	/* A frame out longer than the average counts as nearly done. */
	ck_assert_int_eq(eta_job_remaining(job, T0 + 80000),
	    (8 * 15000 - 2 * 15000) / 2);
	farm_free(&farm);
}
END_TEST

START_TEST(test_eta_job_done)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*h;
	long		 n;

	farm_init(&farm, 600000, NULL, NULL);
	job = test_eta_job(&farm, "a.job", 5, 5);
	h = host_get(&farm, "r1");
	n = test_eta_out(&farm, h, T0);
	ck_assert_int_eq(n, 5);
	sched_frame_done(&farm, job, n, h, T0 + 3000);
	ck_assert_int_eq(eta_job_remaining(job, T0 + 4000), 0);
	ck_assert_int_eq(eta_farm_received(&farm), 1);
	farm_free(&farm);
}
END_TEST

START_TEST(test_eta_queue)
{
	struct farm	 farm;
	struct job	*a, *b;

	farm_init(&farm, 600000, NULL, NULL);
	a = test_eta_job(&farm, "a.job", 1, 30);
	b = test_eta_job(&farm, "b.job", 1, 30);
	ck_assert_int_eq(eta_queue_remaining(&farm, -1), -1);
	ck_assert_int_eq(eta_queue_remaining(&farm, 0), -1);
	/* 60 frames at 30 a minute: two minutes. */
	ck_assert_int_eq(eta_queue_remaining(&farm, 30.0), 120000);
	/* A suspended job does not count. */
	farm_set_suspended(&farm, b, 1);
	ck_assert_int_eq(eta_queue_remaining(&farm, 30.0), 60000);
	farm_set_suspended(&farm, a, 1);
	ck_assert_int_eq(eta_queue_remaining(&farm, -1), 0);
	farm_free(&farm);
}
END_TEST

START_TEST(test_eta_duration)
{
	char	buf[16];

	ck_assert_uint_eq(eta_duration_text(-1, buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "-");
	eta_duration_text(0, buf, sizeof buf);
	ck_assert_str_eq(buf, "0.0s");
	eta_duration_text(4250, buf, sizeof buf);
	ck_assert_str_eq(buf, "4.2s");
	eta_duration_text(10000, buf, sizeof buf);
	ck_assert_str_eq(buf, "10s");
	eta_duration_text(42999, buf, sizeof buf);
	ck_assert_str_eq(buf, "42s");
	eta_duration_text(725000, buf, sizeof buf);
	ck_assert_str_eq(buf, "12m05s");
	eta_duration_text((3 * 3600 + 7 * 60 + 59) * 1000LL, buf, sizeof buf);
	ck_assert_str_eq(buf, "3h07m");
	eta_duration_text((2 * 86400 + 4 * 3600) * 1000LL, buf, sizeof buf);
	ck_assert_str_eq(buf, "2d04h");
	ck_assert_uint_eq(eta_duration_text(725000, buf, 4), 3);
	ck_assert_str_eq(buf, "12m");
}
END_TEST

Suite *
eta_suite(void)
{
	Suite	*s = suite_create("eta");
	TCase	*rate = tcase_create("rate"), *job = tcase_create("job");

	tcase_add_test(rate, test_eta_rate_unknown);
	tcase_add_test(rate, test_eta_rate_steady);
	tcase_add_test(rate, test_eta_rate_young);
	tcase_add_test(rate, test_eta_rate_window_slides);
	tcase_add_test(rate, test_eta_rate_reset);
	suite_add_tcase(s, rate);

	tcase_add_test(job, test_eta_job_unknown);
	tcase_add_test(job, test_eta_job_estimate);
	tcase_add_test(job, test_eta_job_done);
	tcase_add_test(job, test_eta_queue);
	tcase_add_test(job, test_eta_duration);
	suite_add_tcase(s, job);
	return s;
}
