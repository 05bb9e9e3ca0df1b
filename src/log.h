/*
 * log.h: the program's own messages, one line each, to stderr or to
 * whatever sink the console installs.
 */
#ifndef LOG_H
#define LOG_H

#include "bdfarm.h"

enum log_level {
	LOG_INFO,
	LOG_WARN,
	LOG_DEBUG
};

/* A sink receives each finished line, without time stamp or newline. */
typedef void (*log_sink_fn)(enum log_level, const char *, void *);

void	log_init(int);
int	log_verbose(void);
void	log_set_sink(log_sink_fn, void *);
void	log_info(const char *, ...) BDFARM_PRINTF(1, 2);
void	log_warnx(const char *, ...) BDFARM_PRINTF(1, 2);
void	log_warn(const char *, ...) BDFARM_PRINTF(1, 2);
void	log_debug(const char *, ...) BDFARM_PRINTF(1, 2);
BDFARM_DEAD void fatal(const char *, ...) BDFARM_PRINTF(1, 2);
BDFARM_DEAD void fatalx(const char *, ...) BDFARM_PRINTF(1, 2);

#endif
