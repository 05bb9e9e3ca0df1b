/*
 * jobdir.h: the job folder as the farm's input: job files, suspension
 * files and the .blend files they name, watched for changes.
 */
#ifndef JOBDIR_H
#define JOBDIR_H

struct event_base;
struct depfile;
struct farm;
struct job;
struct settings;
struct state;
struct jobdir;

struct jobdir	*jobdir_open(struct event_base *, struct farm *, const char *,
		     const char *, struct state *, const struct settings *);
void		 jobdir_scan(struct jobdir *);
int		 jobdir_loaded(struct jobdir *);
void		 jobdir_set_intervals(struct jobdir *, const struct settings *);
int		 jobdir_set_suspended(struct jobdir *, struct job *, int,
		     char **);
struct depfile	*jobdir_job_needs(struct job *);
void		 jobdir_close(struct jobdir *);

#endif
