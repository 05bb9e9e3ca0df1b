/*
 * client.h: the render client, the process that fetches frames from a
 * server, renders them with Blender and sends them back. The parts of the
 * client (client.c, client-session.c, client-render.c, client-cache.c,
 * client-download.c, client-manifest.c, client-update.c) share the
 * structures below. client-warm.c keeps one Blender per renderer and
 * scene that renders frame after frame.
 */
#ifndef CLIENT_H
#define CLIENT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdint.h>
#include <time.h>

#include "digest.h"

struct settings;
struct blender_line;
struct client_probe;
struct ssl_ctx_st;
struct tls_psk;

struct client_options {
	const char	*host;
	const char	*port;
	char		**argv;		/* for re-executing itself */
};

enum client_frame_state {
	CLIENT_FRAME_WAITING,		/* its .blend or files are not cached */
	CLIENT_FRAME_QUEUED,		/* ready to render */
	CLIENT_FRAME_RENDERING,		/* a Blender run has it */
	CLIENT_FRAME_DONE		/* rendered, to be sent */
};

/* A frame the server handed to this client. */
struct client_frame {
	char			*blend;		/* the server's name for it */
	char			 digest[DIGEST_HEX_SIZE];
	long			 frame;
	enum client_frame_state	 state;
	int			 alone;		/* retry in a run of its own */
	int			 fetch_failures;
	int			 progress;	/* permille last reported, or -1 */
	int			 hold_due;	/* to HOLD on this connection */
	int64_t			 progress_ms;	/* when it was reported */
	struct client_render	*render;	/* RENDERING */
	char			*file;		/* DONE: the rendered file */
	char			*image;		/* DONE: the name to send */
	TAILQ_ENTRY(client_frame) entry;
};
TAILQ_HEAD(client_frames, client_frame);

/*
 * A frame that could not be rendered, to be reported to a bdfarm server
 * with the reason and the last lines Blender wrote.
 */
struct client_report {
	char			*blend;
	char			 digest[DIGEST_HEX_SIZE];
	long			 frame;
	char			*reason;	/* short, printable */
	char			**lines;	/* printable, one line each */
	unsigned int		 nlines;
	TAILQ_ENTRY(client_report) entry;
};
TAILQ_HEAD(client_reports, client_report);

#define CLIENT_TAIL_LINES	20	/* output lines kept for a report */

/* A frame to give back to a bdfarm server (RETURN) before the client ends. */
struct client_return {
	char			*blend;
	char			 digest[DIGEST_HEX_SIZE];
	long			 frame;
	TAILQ_ENTRY(client_return) entry;
};
TAILQ_HEAD(client_returns, client_return);

/* One external file a scene needs, as a bdfarm/3 server lists it. */
struct client_manifest_file {
	char			 digest[DIGEST_HEX_SIZE]; /* "" if missing */
	uint64_t		 size;
	char			*path;		/* absolute, on the server */
	char			*name;		/* its base name: the cached copy's */
};

/*
 * The files the scene of one .blend needs (bdfarm/3), the .blend itself
 * first; known once the server's whole answer is in.
 */
struct client_manifest {
	char			 digest[DIGEST_HEX_SIZE]; /* the .blend's */
	char			*blend;
	int			 known;
	int			 allow_missing;	/* the job renders without them */
	int			 fresh_blender;	/* a Blender per frame (bdfarm/4) */
	struct client_manifest_file *files;
	unsigned int		 nfiles;
	int			 refusals;	/* REQUESTFILE NOKs in a row */
	int64_t			 retry_at;	/* no REQUESTFILES before (ms) */
	TAILQ_ENTRY(client_manifest) entry;
};
TAILQ_HEAD(client_manifests, client_manifest);

/* A file Blender could not find, for a bdfarm/3 server (MISSING). */
struct client_missing {
	char			*blend;
	char			 digest[DIGEST_HEX_SIZE];
	long			 frame;
	char			*path;
	TAILQ_ENTRY(client_missing) entry;
};
TAILQ_HEAD(client_missings, client_missing);

#define CLIENT_MISSING_KEPT	20	/* missing paths kept per run */

/*
 * What a warm Blender keeps between its frames: the pipe its loop reads
 * frame numbers from, and what says when to start it again.
 */
struct client_warm {
	int			 frames_fd;	/* the pipe's writing end */
	int			 ready;		/* its loop said so */
	int			 retiring;	/* stopped on purpose */
	unsigned int		 lived;		/* frames it finished */
	char			*blend;		/* the server's name for it */
	char			 digest[DIGEST_HEX_SIZE];
	struct event		*idle;		/* warm_idle while idle */
	struct event		*start;		/* warm_start_timeout */
};

/*
 * One Blender process rendering one or more frames of one .blend; a warm
 * one renders one frame at a time, for as long as it lives.
 */
struct client_render {
	struct client		*client;
	pid_t			 pid;
	struct bufferevent	*output;	/* Blender's stdout and stderr */
	struct event		*timer;		/* render_timeout */
	char			*outdir;
	char			*treedir;	/* the scene's files, or NULL */
	struct client_manifest	*manifest;	/* a copy, or NULL */
	char			*missing[CLIENT_MISSING_KEPT];
	unsigned int		 nmissing;	/* distinct paths kept */
	unsigned int		 missing_more;	/* beyond those */
	int			 missing_fatal;	/* the frames cannot be sent */
	struct client_frame	**frames;	/* not yet finished */
	unsigned int		 nframes;
	unsigned int		 started;	/* frames it was given */
	long			 current;	/* the frame Blender is on */
	int			 have_current;
	struct client_frame	*saved;		/* saved, not yet confirmed */
	int64_t			 next_progress;	/* when to log progress again */
	int			 exited;
	int			 status;
	int			 eof;
	struct client_warm	*warm;		/* NULL for a batch */
	char			*failure;	/* why it failed, or NULL */
	char			*reason;	/* the same, short, for the server */
	char			*tail[CLIENT_TAIL_LINES]; /* last output lines */
	unsigned int		 ntail;		/* lines seen, in all */
	TAILQ_ENTRY(client_render) entry;
};
TAILQ_HEAD(client_renders, client_render);

/* A shared lock on the folder of a cached .blend that frames need. */
struct client_cache_lock {
	char			 digest[DIGEST_HEX_SIZE];
	int			 fd;
	TAILQ_ENTRY(client_cache_lock) entry;
};
TAILQ_HEAD(client_cache_locks, client_cache_lock);

enum client_mode {
	CLIENT_RUNNING,
	CLIENT_STOPPING,	/* the server said STOPPING */
	CLIENT_UPDATING,	/* a new program waits for renders to end */
	CLIENT_EXITING
};

struct client {
	struct event_base	*base;
	struct evdns_base	*dns;
	struct settings		*settings;
	const struct client_options *options;
	char			*hostname;
	char			*workdir;
	char			*cachedir;
	char			*renderdir;
	char			*prelude;	/* the script Blender runs first */
	char			*warm_loop;	/* a warm Blender's script */
	struct tls_psk		*psk;		/* the key for this server, or NULL */
	struct ssl_ctx_st	*tls;		/* with psk: TLS, always */
	char			 self_digest[DIGEST_HEX_SIZE];
	unsigned char		 self_elf[20];	/* own ELF identification */
	int			 have_self;

	struct client_frames	 frames;
	struct client_renders	 renders;
	unsigned int		 nrenders;
	struct client_cache_locks locks;	/* copies this client uses */
	unsigned int		 nruns;		/* for unique output folders */
	struct client_session	*session;
	int			 ext_version;	/* the server's bdfarm/N, 0 if old */
	struct client_reports	 reports;	/* failures to tell it */
	unsigned int		 nreports;
	struct client_returns	 returns;	/* frames to give back to it */
	struct client_manifests	 manifests;	/* bdfarm/3: scenes' files */
	struct client_missings	 missings;	/* bdfarm/3: to tell it */
	struct client_probe	*probe;		/* blender --version, running */
	char			*blender_version; /* NULL until known */
	long			 cores;

	enum client_mode	 mode;
	int64_t			 ask_after;	/* no REQUESTJOB before this (ms) */
	int64_t			 next_try;	/* no connection before this (ms) */
	int			 retry_wait;	/* current back-off, s */
	char			*trouble;	/* the network problem logged */
	char			*local_trouble;	/* the disk problem logged */
	int			 told_old_server;
	char			 refused_digest[DIGEST_HEX_SIZE];
	char			 unwarm_digest[DIGEST_HEX_SIZE]; /* no warm */
	char			*update_path;	/* the new program, installed */
	int			 reexec;	/* run it once the loop ends */

	struct event		*ev_wake;
	struct event		*ev_cache;
	struct event		*ev_sigint;
	struct event		*ev_sigterm;
	struct event		*ev_sigchld;
};

/* client.c */
int		 client_main(struct settings *, const struct client_options *);
void		 client_wake(struct client *);
void		 client_wake_in(struct client *, int64_t);
int		 client_wants_job(struct client *);
int		 client_available(struct client *);
struct client_frame *client_frame_add(struct client *, const char *,
		     const char *, long);
void		 client_frame_drop(struct client *, struct client_frame *,
		     const char *);
void		 client_frame_failed(struct client *, struct client_frame *,
		     const char *, const char *, char **, unsigned int);
void		 client_blend_give_up(struct client *, const char *,
		     const char *, const char *, const char *);
void		 client_frame_sent(struct client *, struct client_frame *);
void		 client_frame_cancel(struct client *, struct client_frame *,
		     const char *);
struct client_frame *client_frame_find(struct client *, const char *,
		     const char *, long);
void		 client_return_add(struct client *, const char *, const char *,
		     long);
void		 client_returns_clear(struct client *);
void		 client_drop_pending(struct client *);
void		 client_frame_progress(struct client *, struct client_frame *,
		     int);
void		 client_frame_started(struct client *, struct client_frame *);
void		 client_reports_clear(struct client *);
void		 client_report_free(struct client_report *);
void		 client_blender_version(struct client *, const char *);
void		 client_blend_ready(struct client *, const char *,
		     const char *);
void		 client_blend_failed(struct client *, const char *,
		     const char *, int);
void		 client_blend_refused(struct client *, const char *,
		     const char *, const char *);
void		 client_session_closed(struct client *, const char *);
void		 client_server_stopping(struct client *);
void		 client_update_ready(struct client *, char *);
void		 client_disk_trouble(struct client *, const char *);
void		 client_disk_ok(struct client *);

/* client-session.c */
struct client_session *client_session_start(struct client *);
void		 client_session_poke(struct client_session *);
int		 client_session_progress(struct client_session *,
		     const struct client_frame *, int);
void		 client_session_abort(struct client_session *);

/* client-render.c */
int		 client_render_start(struct client *, struct client_frame **,
		     unsigned int, char **);
int		 client_render_prelude(struct client *, char **);
void		 client_render_exited(struct client *, pid_t, int);
void		 client_render_kill_all(struct client *);
void		 client_render_cancel(struct client_frame *);
void		 client_render_probe(struct client *);
void		 client_render_probe_kill(struct client *);
struct client_render *client_render_new(struct client *,
		     const struct client_frame *, char **, char **);
void		 client_render_discard(struct client_render *);
unsigned int	 client_render_argv(struct client *, char **, char *);
int		 client_render_run(struct client *, struct client_render *,
		     char **, int, char **);
void		 client_render_fail(struct client_render *, const char *,
		     const char *, ...) BDFARM_PRINTF(3, 4);
unsigned int	 client_render_tail(struct client_render *, char **);
int		 client_render_confirm(struct client_render *);
void		 client_render_remove(struct client_render *,
		     struct client_frame *);
void		 client_render_arm(struct client_render *);
int		 client_render_own_file(struct client_render *, const char *);
void		 client_render_missing_end(struct client_render *);

/* client-warm.c */
int		 client_warm_wanted(struct client *, const struct client_frame *);
int		 client_warm_start(struct client *, struct client_frame *,
		     char **);
void		 client_warm_hand(struct client *);
void		 client_warm_make_room(struct client *);
unsigned int	 client_warm_idle_count(struct client *);
int		 client_warm_line(struct client_render *,
		     const struct blender_line *);
int		 client_warm_finish(struct client_render *);
char		*client_warm_said(struct client *);
void		 client_warm_free(struct client_render *);

/* client-manifest.c */
struct client_manifest *client_manifest_find(struct client *, const char *,
		     const char *);
struct client_manifest *client_manifest_new(const char *, const char *);
int		 client_manifest_fresh(struct client *,
		     const struct client_frame *);
void		 client_manifest_add(struct client_manifest *,
		     const char *, uint64_t, const char *);
void		 client_manifest_free(struct client_manifest *);
struct client_manifest *client_manifest_copy(const struct client_manifest *);
void		 client_manifest_take(struct client *,
		     struct client_manifest *);
void		 client_manifests_clear(struct client *);
int		 client_manifest_valid_path(const char *);
int		 client_manifest_lists(const struct client_manifest *,
		     const char *);
int		 client_manifest_ready(struct client *, const char *,
		     const char *);
int		 client_manifest_wanted(struct client *,
		     struct client_manifest *,
		     const struct client_manifest_file **, char **);
void		 client_manifest_refused(struct client *, const char *,
		     const char *, const char *);
void		 client_manifest_unknown(struct client *, const char *,
		     const char *);
void		 client_missing_add(struct client *, const struct client_frame *,
		     const char *);
void		 client_missings_clear(struct client *);

/* client-cache.c */
char		*client_cache_path(struct client *, const char *, const char *);
int		 client_cache_hold(struct client *, const char *, char **);
void		 client_cache_release(struct client *, int);
int		 client_cache_has(struct client *, const char *, const char *);
int		 client_cache_room(struct client *, uint64_t, uint64_t *);
void		 client_cache_touch(const char *);
void		 client_cache_expire(struct client *);

/* client-download.c */
struct client_download;
struct client_download *client_download_start(const char *, char **);
int		 client_download_write(struct client_download *, const void *,
		     size_t, char **);
const unsigned char *client_download_head(struct client_download *, size_t *);
int		 client_download_finish(struct client_download *,
		     const char *, mode_t, char **);
void		 client_download_abort(struct client_download *);

/* client-keys.c */
int		 client_keys_find(const char *, const char *, struct tls_psk *);
int		 client_keys_join(const char *, const char *, const char *);

/* client-update.c */
int		 client_update_self(struct client *);
int		 client_update_check(const struct client *,
		     const unsigned char *, size_t, char **);
void		 client_update_exec(const char *, char **);

#endif
