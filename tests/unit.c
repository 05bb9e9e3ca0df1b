/*
 * unit.c: the runner of the unit tests: every suite listed in unit.h, run
 * in one go, with a non-zero exit if any test fails.
 */
#include "bdfarm.h"

#include <stdlib.h>

#include "unit.h"

/* The suite constructors, in the order unit.h lists them. */
static Suite *(*const unit_suites[])(void) = {
#define UNIT_SUITE(name) name##_suite,
	UNIT_SUITES
#undef UNIT_SUITE
};

/* Run every suite and exit non-zero if any test failed. */
int
main(void)
{
	SRunner	*sr;
	size_t	 i;
	int	 failed;

	sr = srunner_create(NULL);
	for (i = 0; i < nitems(unit_suites); i++)
		srunner_add_suite(sr, unit_suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
