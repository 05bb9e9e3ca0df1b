/*
 * ratelimit.h: a token bucket that says how long to wait before the next
 * of a kind of event, so that one peer that floods the server is slowed
 * down and no other is. Plain arithmetic with an explicit clock.
 */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include <stdint.h>

struct ratelimit {
	int64_t		 interval;	/* ms one event costs */
	int64_t		 credit;	/* ms of events allowed, may be < 0 */
	int64_t		 most;		/* credit at most: the burst */
	int64_t		 last;		/* when credit was last topped up */
};

void		 ratelimit_init(struct ratelimit *, int64_t, unsigned, int64_t);
int64_t		 ratelimit_take(struct ratelimit *, int64_t);

#endif
