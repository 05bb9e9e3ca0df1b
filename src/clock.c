/*
 * clock.c: the two clocks. Delays measured on the wall clock go wrong when
 * it is stepped (a frame handed out again at once, or never), so the
 * model runs on the monotonic clock; the wall clock only stamps what is
 * shown and saved.
 */
#include "clock.h"

#include <time.h>

#include "bdfarm.h"
#include "log.h"

/* Milliseconds on a clock that only goes forward, from an arbitrary start. */
int64_t
clock_mono_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		fatal("clock_gettime");
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds since the epoch, as people and saved files know time. */
int64_t
clock_wall_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		fatal("clock_gettime");
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
