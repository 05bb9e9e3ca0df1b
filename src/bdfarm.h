/*
 * bdfarm.h: what every part of bdfarm shares: the configuration header,
 * message translation and the attributes the compiler checks.
 */
#ifndef BDFARM_H
#define BDFARM_H

#include "config.h"

#include <libintl.h>
#include <stddef.h>

#define _(s) gettext(s)
#define N_(s) (s)

#define BDFARM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define BDFARM_DEAD __attribute__((noreturn))

/* Number of elements of a fixed array. */
#define nitems(a) (sizeof(a) / sizeof((a)[0]))

#endif
