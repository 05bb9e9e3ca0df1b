/*
 * clock.h: the two clocks bdfarm reads: a monotonic one for every delay,
 * timeout and duration, and the wall clock for what people read and what
 * is saved.
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>

int64_t	clock_mono_ms(void);
int64_t	clock_wall_ms(void);

#endif
