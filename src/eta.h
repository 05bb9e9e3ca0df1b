/*
 * eta.h: how fast the farm renders and when the work will be done, worked
 * out from measured frame times and frame counts with an explicit clock.
 * Plain arithmetic on the model: no curses, no sockets, no clock of its
 * own. Every estimate can be "unknown" (-1), which views show as a dash.
 */
#ifndef ETA_H
#define ETA_H

#include <stddef.h>

#include "farm.h"

/* The rate window is kept as one-second buckets of received frames. */
#define ETA_RATE_BUCKETS	600
#define ETA_RATE_BUCKET_MS	1000

/* The farm's recent output: frames received per bucket over a window. */
struct eta_rate {
	unsigned	 counts[ETA_RATE_BUCKETS];
	int64_t		 newest;	/* bucket number of counts' newest */
	farm_time	 started;	/* first sample */
	farm_time	 window;	/* ms looked back over */
	uint64_t	 last_total;	/* counter at the last sample */
	int		 primed;	/* a first sample has been taken */
	int		 seen;		/* a frame has arrived since then */
};

void		 eta_rate_init(struct eta_rate *, farm_time);
void		 eta_rate_sample(struct eta_rate *, farm_time, uint64_t);
double		 eta_rate_per_minute(const struct eta_rate *, farm_time);
uint64_t	 eta_farm_received(struct farm *);

farm_time	 eta_job_frame_time(const struct job *);
farm_time	 eta_job_remaining(const struct job *, farm_time);
farm_time	 eta_host_frame_time(const struct host *);
farm_time	 eta_queue_remaining(struct farm *, double);

size_t		 eta_duration_text(farm_time, char *, size_t);

#endif
