/*
 * farm.h: the farm's model: jobs and their frames, the hosts that render
 * them, and the scheduler that hands frames out. Plain C with no sockets,
 * files or curses, driven with explicit times so that tests can use a fake
 * clock. Changes are reported to one observer (the server), which logs
 * them, saves state and marks views dirty.
 */
#ifndef FARM_H
#define FARM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "bdfarm.h"
#include "digest.h"

/*
 * Times are milliseconds on the monotonic clock (clock.c), so that a step
 * of the wall clock changes no delay; the state file saves wall times.
 */
typedef int64_t farm_time;

enum frame_state {
	FRAME_TODO,
	FRAME_OUT,
	FRAME_DONE,
	FRAME_FAILED		/* failed on too many hosts; waits for a retry */
};

#define FARM_MAX_FAILURES	3	/* per host and job, and hosts per frame */
#define FARM_MAX_HELD		16	/* frames one host may hold, by default */
#define FARM_MAX_FAILURE_REPORTS 1024	/* kept per job; then not counted */

struct host;

struct frame {
	uint8_t		 state;
	uint8_t		 started;	/* its host said it began rendering it */
	uint16_t	 progress;	/* thousandths, as a bdfarm client said */
	uint32_t	 sends;		/* times handed out */
	farm_time	 since;		/* when last handed out */
	struct host	*host;		/* who has it, while out */
	struct host	*backup;	/* who renders a backup copy, or NULL */
	TAILQ_ENTRY(frame) out_entry;	/* while out: in its job's out list */
};
TAILQ_HEAD(frame_list, frame);

/* How many frames of a job one host has rendered. */
struct job_host {
	char		*name;
	unsigned	 count;
};

/* One failed render of a frame by a host, as a bdfarm client reported. */
struct job_failure {
	long		 frame;
	struct host	*host;
	farm_time	 when;		/* 0: reported before this start */
	char		*reason;	/* and Blender's last lines, or NULL */
};

/* How a done frame was rendered, known while the server runs. */
struct job_render {
	int		 rendered;	/* here, since this start */
	farm_time	 finished;	/* when it arrived */
	farm_time	 took;		/* hand-out to receipt, or -1 */
	size_t		 host;		/* 1 + its index in the job's hosts */
	uint64_t	 size;		/* of the stored file */
	char		*file;		/* its name in the render folder */
};

/*
 * A host a frame was out to before, until the frame is done: its late
 * result is still welcome, while a host that never had the frame is not.
 */
struct job_holder {
	long		 frame;
	struct host	*host;
};

/* Where a file was when it was hashed: a change means hash again. */
struct file_id {
	uint64_t	 dev;
	uint64_t	 ino;
	int64_t		 size;
	int64_t		 mtime_ns;
};

struct job {
	char		*name;		/* the job file's name: shot.job */
	char		*blend_path;	/* absolute path of the .blend */
	char		*blend_name;	/* protocol token, unique per .blend */
	char		 job_digest[DIGEST_HEX_SIZE];
	char		 blend_digest[DIGEST_HEX_SIZE];	/* "" until hashed */
	struct file_id	 blend_id;	/* where blend_digest was taken */
	struct file_id	 job_id;	/* where the job file was read */
	char		*invalid;	/* why the job file was refused */
	char		*unavailable;	/* why its files cannot be read now */

	/* The files its .blend needs (deps.c), which bdfarm clients fetch. */
	int		 files_pending;	/* being read: no frame goes out */
	int		 allow_missing;	/* frames that missed a file count */
	int		 fresh_blender;	/* a Blender of its own per frame */
	size_t		 files;		/* the .blend included */
	uint64_t	 files_bytes;
	size_t		 files_missing;	/* on the server */
	char		*files_note;	/* which, for the console, or NULL */
	size_t		 client_missing; /* files Blender missed on clients */
	char		*client_missing_note; /* the last one, or NULL */

	long		 first;
	long		 last;
	struct frame	*frames;	/* last - first + 1, or NULL */
	struct frame_list out;		/* frames out, oldest hand-out first */
	size_t		 nframes;
	size_t		 ndone;
	size_t		 nout;
	size_t		 nfailed;	/* frames in FRAME_FAILED */
	struct job_failure *failures;
	size_t		 nfailures;
	struct job_render *renders;	/* per frame, or NULL until one is */
	size_t		 latest;	/* 1 + the index of the frame that
					   arrived last, or 0 */
	struct job_holder *past;	/* earlier holders of frames not done */
	size_t		 npast;
	size_t		 next_todo;	/* no TODO frame below this index */

	int		 priority;	/* higher goes first */
	uint64_t	 seq;		/* age: lower goes first */
	int		 suspended;	/* no frame goes out: held or unavailable */
	int		 held;		/* suspended by its .suspend file */
	int		 complete;	/* completion already reported */

	struct job_host	*hosts;
	size_t		 nhosts;
	farm_time	 frame_time_sum; /* hand-out to receipt, for ETAs */
	unsigned	 frame_time_count;
	unsigned	 backups;	/* backup copies handed out */

	void		*io;		/* the server's per-job I/O state */
	struct job	*name_next;	/* in the farm's table of names */
	TAILQ_ENTRY(job) entry;
};
TAILQ_HEAD(jobs, job);

/* What became of a frame a host had, for its page in the console. */
struct host_result {
	farm_time	 when;
	char		*job;
	long		 frame;
	int		 failed;
	farm_time	 took;		/* for a done frame, or -1 */
	char		*reason;	/* the first line of a failure */
};

#define HOST_RESULTS		16	/* the latest results kept per host */
#define HOST_WARM		16	/* warm Blenders shown per host */

/* A rendering host, known by the name it gives in HELO. */
struct host {
	char		*name;
	int		 ext_version;	/* of the extension it speaks, or 0 */
	int		 tls;		/* its last session proved a key */
	int		 connections;	/* sessions open now */
	int		 live;		/* extension connections open now */
	int		 renderers;	/* as the client said, or 0 */
	int		 cores;
	char		*blender;	/* Blender's version, or NULL */
	int		 warm_said;	/* it spoke of its warm Blenders */
	int		 nwarm;		/* warm Blenders it keeps */
	long		 warm[HOST_WARM]; /* frames each rendered, or -1
					   while it loads its scene */
	farm_time	 last_contact;	/* when it was last heard from */
	uint64_t	 session;	/* the extension session it speaks
					   through, or 0 */
	unsigned	 held;		/* frames out to it, backups included */
	unsigned	 done;
	unsigned	 failed;	/* failures it reported */
	struct host_result results[HOST_RESULTS]; /* a ring, oldest first */
	unsigned	 nresults;	/* results ever added */
	farm_time	 frame_time_sum;
	unsigned	 frame_time_count;
	int		 named;		/* by a job, while host_forget looks */
	struct host	*name_next;	/* in the farm's table of host names */
	TAILQ_ENTRY(host) entry;
};
TAILQ_HEAD(hosts, host);

enum farm_event {
	FARM_JOB_ADDED,
	FARM_JOB_INVALID,
	FARM_JOB_RESTARTED,
	FARM_JOB_REMOVED,
	FARM_JOB_CHANGED,	/* priority or suspension */
	FARM_JOB_COMPLETE,
	FARM_FRAME_OUT,
	FARM_FRAME_RESENT,
	FARM_FRAME_BACKUP,	/* a backup copy went to a second host */
	FARM_FRAME_CANCELLED,	/* a host should drop a frame another sent */
	FARM_FRAME_DONE,
	FARM_FRAME_DISCARDED,
	FARM_FRAME_RETURNED,	/* back to the queue unrendered, no failure */
	FARM_FRAME_FAILED,	/* a client reported a failed render */
	FARM_FRAME_GAVE_UP,	/* failed on too many hosts */
	FARM_HOST_BLOCKED,	/* failed too often on one job */
	FARM_HOST_LOST		/* its frames went back to the queue */
};

struct farm;
typedef void (*farm_event_fn)(struct farm *, enum farm_event, struct job *,
    long, const char *, const char *, void *);

/* A frame a reconnected client says it holds: its job's seq and number. */
struct farm_hold {
	uint64_t	 seq;
	long		 frame;
};

struct farm_blend_name;

struct farm {
	struct jobs	 jobs;		/* in hand-out order */
	struct job	**names;	/* jobs by name, chained on name_next */
	size_t		 names_size;	/* buckets, a power of two or 0 */
	size_t		 njobs;
	struct farm_blend_name **blend_names; /* names .blend files use */
	size_t		 blend_names_size;
	size_t		 nblend_names;
	struct hosts	 hosts;		/* in the order they were first seen */
	struct host	**host_names;	/* hosts by name, chained on name_next */
	size_t		 host_names_size; /* buckets, a power of two or 0 */
	size_t		 nhosts;
	uint64_t	 next_seq;
	farm_time	 redistribute_delay;
	farm_time	 client_timeout; /* a lost bdfarm client's frames wait */
	unsigned	 max_held;	/* frames one host may hold at most */
	farm_time	 started;	/* the clock when the farm started */
	farm_time	 next_due;	/* no frame is overdue before this */
	int		 stopping;
	farm_event_fn	 event;
	void		*event_arg;
};

/* Why a result is refused; FARM_RESULT_OK accepts it. */
enum farm_result {
	FARM_RESULT_OK,
	FARM_RESULT_NO_JOB,
	FARM_RESULT_CHANGED,
	FARM_RESULT_NOT_OUT,
	FARM_RESULT_NOT_YOURS,	/* out, but never to the host that sent it */
	FARM_RESULT_DONE
};

/* farm.c */
void		 farm_init(struct farm *, farm_time, farm_event_fn, void *);
void		 farm_free(struct farm *);
size_t		 farm_hash(const char *, size_t);
struct job	*farm_find_job(struct farm *, const char *);
struct job	*farm_add_job(struct farm *, const char *);
void		 farm_remove_job(struct farm *, struct job *);
void		 farm_set_invalid(struct farm *, struct job *, const char *);
void		 farm_set_definition(struct farm *, struct job *, const char *,
		     long, long, const char *);
void		 farm_set_blend_digest(struct farm *, struct job *,
		     const char *, const struct file_id *);
void		 farm_set_priority(struct farm *, struct job *, int);
void		 farm_set_suspended(struct farm *, struct job *, int);
void		 farm_set_unavailable(struct farm *, struct job *,
		     const char *);
void		 farm_set_files(struct farm *, struct job *, int, size_t,
		     uint64_t, size_t, const char *);
void		 farm_file_missed(struct farm *, struct job *, long,
		     const char *, const char *);
void		 farm_reorder(struct farm *, struct job *);
struct job	*farm_find_blend(struct farm *, const char *, const char *);
int		 farm_blend_fresh(struct farm *, const char *, const char *);
int		 farm_blend_name_taken(struct farm *, struct job *,
		     const char *);
void		 farm_set_blend_name(struct farm *, struct job *,
		     const char *);
size_t		 farm_frames_total(struct farm *, size_t *, size_t *);

/* job.c */
int		 job_ready(const struct job *);
int		 job_finished(const struct job *);
int		 job_host_blocked(const struct job *, const struct host *);
unsigned	 job_frame_failures(const struct job *, long);
void		 job_failed_text(const struct job *, char *, size_t);
size_t		 job_blocked_hosts(const struct job *);
struct frame	*job_frame(struct job *, long);
long		 job_frame_number(const struct job *, const struct frame *);
void		 job_frame_set(struct job *, struct frame *, enum frame_state);
void		 job_frame_out(struct job *, struct frame *, struct host *,
		     farm_time);
void		 job_frame_backup(struct frame *, struct host *);
struct host	*job_frame_release(struct job *, struct frame *,
		     struct host *);
int		 job_frame_had(const struct job *, const struct frame *,
		     const struct host *);
void		 job_reset_frames(struct job *);
void		 job_count_host(struct job *, const char *, unsigned);
void		 job_add_failure(struct job *, long, struct host *, farm_time,
		     const char *);
void		 job_drop_failures(struct job *, int (*)(const struct job *,
		     const struct job_failure *, void *), void *);
void		 job_record_render(struct job *, long, const char *,
		     farm_time, farm_time);
void		 job_record_file(struct job *, long, const char *, uint64_t);
const struct job_render *job_render_of(const struct job *, long);
const char	*job_render_host(const struct job *, const struct job_render *);
void		 job_free(struct job *);

/* host.c */
struct host	*host_get(struct farm *, const char *);
struct host	*host_find(struct farm *, const char *);
void		 host_free_all(struct farm *);
size_t		 host_forget(struct farm *, farm_time, farm_time);
void		 host_connected(struct host *, int, uint64_t, farm_time);
void		 host_disconnected(struct host *, int, uint64_t);
int		 host_speaks(const struct host *, uint64_t);
int		 host_take_over(struct host *, int, uint64_t);
void		 host_set_facts(struct host *, int, int, const char *);
void		 host_set_warm(struct host *, const long *, int);
int		 host_alive(const struct host *);
void		 host_add_result(struct host *, const char *, long, int,
		     farm_time, farm_time, const char *);
const struct host_result *host_result(const struct host *, unsigned);

/* sched.c */
int		 sched_has_work(struct farm *, farm_time);
int		 sched_next(struct farm *, struct host *, int, farm_time,
		     struct job **, long *);
enum farm_result sched_check_result(struct farm *, const char *, const char *,
		     long, const struct host *, struct job **);
void		 sched_frame_done(struct farm *, struct job *, long,
		     struct host *, farm_time);
void		 sched_frame_discarded(struct farm *, struct job *, long,
		     const char *, const char *);
int		 sched_frame_failed(struct farm *, struct job *, long,
		     struct host *, const char *, farm_time);
int		 sched_frame_return(struct farm *, struct job *, long,
		     struct host *, const char *);
void		 sched_frame_progress(struct job *, long, struct host *,
		     unsigned);
size_t		 sched_host_lost(struct farm *, struct host *);
size_t		 sched_expire_hosts(struct farm *, farm_time);
int		 sched_hold(struct farm *, struct job *, long, struct host *,
		     farm_time);
int		 sched_out_to(struct job *, long, const struct host *);
size_t		 sched_held(struct farm *, struct host *,
		     const struct farm_hold *, size_t);
void		 sched_changed(struct farm *);
void		 sched_unblock(struct farm *, struct job *);
size_t		 sched_retry_failed(struct farm *, struct job *);
size_t		 sched_render_again(struct farm *, struct job *, long, long);
const char	*sched_result_reason(enum farm_result);
struct job	*sched_find_frame(struct farm *, const char *, const char *,
		     long, const struct host *);

#endif
