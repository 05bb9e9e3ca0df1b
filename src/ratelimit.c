/*
 * ratelimit.c: a token bucket with an explicit clock in milliseconds. A
 * burst of events goes through at once; beyond it, each event costs one
 * interval, and ratelimit_take tells the caller how long to wait before
 * it takes the next one.
 */
#include "ratelimit.h"

/* Allow burst events at once, then one per interval ms, from now. */
void
ratelimit_init(struct ratelimit *rl, int64_t interval, unsigned burst,
    int64_t now)
{
	rl->interval = interval;
	rl->most = interval * (int64_t)burst;
	rl->credit = rl->most;
	rl->last = now;
}

/*
 * An event happens at now: count it, and return how many ms to wait
 * before the next one, 0 if it may come at once.
 */
int64_t
ratelimit_take(struct ratelimit *rl, int64_t now)
{
	if (now > rl->last) {
		rl->credit += now - rl->last;
		if (rl->credit > rl->most)
			rl->credit = rl->most;
		rl->last = now;
	}
	rl->credit -= rl->interval;
	return rl->credit >= 0 ? 0 : -rl->credit;
}
