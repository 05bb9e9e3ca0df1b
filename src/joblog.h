/*
 * joblog.h: each job's own log, JOBDIR/NAME.log, as the old server kept it.
 */
#ifndef JOBLOG_H
#define JOBLOG_H

#include <stdint.h>

#include "bdfarm.h"

char	*joblog_path(const char *, const char *);
int	 joblog_append(const char *, const char *, int64_t, const char *);
int	 joblog_has(const char *, const char *, int64_t, const char *);
void	 joblog_write(const char *, const char *, const char *, ...)
	     BDFARM_PRINTF(3, 4);

#endif
