/*
 * jobfile.h: the three-line job file (the .blend's absolute path, the
 * first frame, the last frame) and its options, parsed, written and
 * named without I/O.
 */
#ifndef JOBFILE_H
#define JOBFILE_H

#include <limits.h>
#include <stddef.h>

#define JOBFILE_MAX_SIZE	65536	/* a longer file is not a job */
#define JOBFILE_MAX_FRAMES	1000000	/* frames one job may hold */

/* The longest NAME whose NAME.job.suspend still fits in a folder entry. */
#define JOBFILE_MAX_NAME	(NAME_MAX - (int)sizeof ".job.suspend" + 1)

struct jobfile {
	char	*blend;
	long	 first;
	long	 last;
	int	 allow_missing;	/* frames with files Blender missed count */
	int	 fresh_blender;	/* a Blender of its own for every frame */
	size_t	 defined;	/* bytes of the text that define the job */
};

int	jobfile_parse(const char *, size_t, struct jobfile *, char **);
void	jobfile_free(struct jobfile *);
char	*jobfile_format(const struct jobfile *);
int	jobfile_check_name(const char *, char **);

#endif
