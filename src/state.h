/*
 * state.h: the farm's checkpoint, in bdfarm's own versioned text format,
 * formatted and parsed without I/O.
 */
#ifndef STATE_H
#define STATE_H

#include <stddef.h>
#include <stdint.h>

#include "farm.h"

#define STATE_VERSION	2	/* 1 is read too */
#define STATE_FILE	".bdfarm.state"

struct state_range {
	long		 from;
	long		 to;
};

struct state_out {
	long		 frame;
	farm_time	 since;		/* wall clock until state_to_clock */
	uint32_t	 sends;
	int		 ext_version;	/* of the host's extension, or 0 */
	char		*host;
};

/* What the checkpoint says of one job. */
struct state_job {
	char			*name;
	char			 job_digest[DIGEST_HEX_SIZE];
	char			 blend_digest[DIGEST_HEX_SIZE];
	struct file_id		 blend_id;
	char			*blend_name;
	int			 priority;
	uint64_t		 seq;
	struct state_range	*done;
	size_t			 ndone;
	struct state_range	*failed;
	size_t			 nfailed;
	struct state_out	*out;
	size_t			 nout;
	struct job_host		*hosts;
	size_t			 nhosts;
	struct state_out	*failures;	/* frame and host; no time */
	size_t			 nfailures;
};

/*
 * What a commit must still do once its checkpoint is written: move stored
 * frames into place (paths in the render folder) and append lines to job
 * logs. The checkpoint carries it, so that a process that dies in between
 * does it at its next start.
 */
struct state_rename {
	char			*from;
	char			*to;
};

struct state_logline {
	int64_t			 when;		/* wall clock, ms */
	char			*job;
	char			*text;
};

struct state_journal {
	struct state_rename	*renames;
	size_t			 nrenames;
	struct state_logline	*lines;
	size_t			 nlines;
};

struct state {
	uint64_t		 next_seq;
	struct state_job	*jobs;
	size_t			 njobs;
	struct state_journal	 journal;
};

char			*state_format(struct farm *, int64_t,
			     const struct state_journal *, size_t *);
int			 state_parse(const char *, size_t, struct state *,
			     char **);
void			 state_to_clock(struct state *, int64_t);
struct state_job	*state_find(struct state *, const char *);
void			 state_restore_job(struct farm *, struct job *,
			     const struct state_job *);
void			 state_free(struct state *);
void			 state_journal_rename(struct state_journal *,
			     const char *, const char *);
void			 state_journal_line(struct state_journal *, int64_t,
			     const char *, const char *);
void			 state_journal_free(struct state_journal *);

#endif
