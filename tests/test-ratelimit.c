/*
 * test-ratelimit.c: unit tests of the token bucket with a fake clock: a
 * burst goes through, then one event per interval, and a pause earns the
 * burst back but no more.
 */
#include "bdfarm.h"

#include "ratelimit.h"
#include "unit.h"

START_TEST(test_ratelimit_burst_then_interval)
{
	struct ratelimit	rl;
	int			i;

	ratelimit_init(&rl, 500, 4, 1000);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(ratelimit_take(&rl, 1000), 0);
	/* The fourth empties the bucket: the next one costs a wait. */
	ck_assert_int_eq(ratelimit_take(&rl, 1000), 0);
	ck_assert_int_eq(ratelimit_take(&rl, 1000), 500);
	/* Whoever does not wait waits longer each time. */
	ck_assert_int_eq(ratelimit_take(&rl, 1000), 1000);
	/* Waited out, one per interval. */
	ck_assert_int_eq(ratelimit_take(&rl, 2000), 500);
	ck_assert_int_eq(ratelimit_take(&rl, 2500), 500);
	ck_assert_int_eq(ratelimit_take(&rl, 3000), 500);
}
END_TEST

START_TEST(test_ratelimit_refill_capped)
{
	struct ratelimit	rl;
	int			i;

	ratelimit_init(&rl, 100, 2, 0);
	ck_assert_int_eq(ratelimit_take(&rl, 0), 0);
	ck_assert_int_eq(ratelimit_take(&rl, 0), 0);
	ck_assert_int_eq(ratelimit_take(&rl, 0), 100);
	/* A long pause earns the burst back, not more. */
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(ratelimit_take(&rl, 1000000), 0);
	ck_assert_int_eq(ratelimit_take(&rl, 1000000), 100);
	/* A clock that goes back earns nothing. */
	ck_assert_int_eq(ratelimit_take(&rl, 5), 200);
}
END_TEST

Suite *
ratelimit_suite(void)
{
	Suite	*s = suite_create("ratelimit");
	TCase	*tc = tcase_create("bucket");

	tcase_add_test(tc, test_ratelimit_burst_then_interval);
	tcase_add_test(tc, test_ratelimit_refill_capped);
	suite_add_tcase(s, tc);
	return s;
}
