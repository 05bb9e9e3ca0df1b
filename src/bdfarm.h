/*
 * bdfarm.h: what every part of bdfarm shares: the configuration header,
 * message translation and the attributes the compiler checks.
 */
#ifndef BDFARM_H
#define BDFARM_H

#include "config.h"

#include <libintl.h>
#include <stddef.h>
#include <sys/queue.h>

#define _(s) gettext(s)
#define N_(s) (s)

#define BDFARM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define BDFARM_DEAD __attribute__((noreturn))

/* glibc's sys/queue.h lacks the loops that allow removal. */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

/* Number of elements of a fixed array. */
#define nitems(a) (sizeof(a) / sizeof((a)[0]))

#endif
