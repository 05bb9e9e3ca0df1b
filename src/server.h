/*
 * server.h: the farm server, the process that owns the jobs and hands out
 * frames: its listeners, its peers, and what ties them to the model.
 */
#ifndef SERVER_H
#define SERVER_H

#include <netdb.h>
#include <stdint.h>
#include <sys/queue.h>
#include <stdio.h>
#include <sys/socket.h>

#include "eta.h"
#include "farm.h"
#include "log.h"
#include "ratelimit.h"
#include "keys.h"
#include "state.h"

struct bufferevent;
struct evbuffer_cb_entry;
struct sockaddr;
struct event;
struct event_base;
struct evconnlistener;
struct jobdir;
struct selfexe;
struct server_address;
struct netrange;
struct settings;
struct ssl_ctx_st;
struct upload;
struct server_hook;
TAILQ_HEAD(server_hooks, server_hook);

struct server_options {
	const char	*port;
	const char	*jobdir;
	const char	*renderdir;
	const char	*config;	/* the file settings came from, or NULL */
	int		 headless;
	char		**argv;		/* for re-executing itself */
};

enum peer_state {
	PEER_LINES,		/* reading request lines */
	PEER_UPLOAD,		/* receiving a frame's bytes */
	PEER_FAILURE,		/* reading the output lines after FAILED */
	PEER_COMMIT,		/* waiting for the checkpoint before THANKYOU */
	PEER_CLOSING		/* flushing the last reply */
};

/* One connection from a client. */
struct peer {
	struct server		*server;
	struct bufferevent	*bev;		/* NULL until the first byte */
	int			 fd;
	struct event		*sniff_ev;	/* waiting for the first byte */
	char			 addr[NI_MAXHOST];
	uint64_t		 id;		/* tells sessions of one name apart */
	farm_time		 heard;		/* when its last bytes came */
	struct server_address	*address;	/* where it is counted */
	struct event		*greeting_ev;	/* until its first line */
	struct sockaddr_storage	 sa;

	/*
	 * Over TLS, the key the client proved itself with: its name is the
	 * client's name, whatever HELO says.
	 */
	int			 tls;
	char			 key_name[KEYS_NAME_MAX + 1];
	unsigned char		 key[KEYS_SIZE];
	struct host		*host;
	int			 ext_version;
	enum peer_state		 state;
	struct event		*resume_ev;
	int			 waiting;	/* WAITJOB outstanding */
	int			 waiting_available;

	/* The frames a reconnected client said it holds, until HELD. */
	struct farm_hold	*holds;
	size_t			 nholds;
	int			 held_pending;	/* HELD while another spoke */

	/* What it said of its warm Blenders, for when it takes over. */
	long			 warm[HOST_WARM];
	int			 nwarm;
	int			 warm_said;

	/*
	 * A payload on its way out (PEER_LINES or PEER_CLOSING): it times
	 * out only when no byte of it reaches the peer for peer_timeout.
	 */
	struct event		*deliver_ev;
	struct evbuffer_cb_entry *sent_cb;
	uint64_t		 sent;		/* bytes handed to the socket */
	uint64_t		 delivered;	/* received by the peer, last seen */
	int			 delivering;
	int			 stalled;	/* seconds nothing was received */

	/*
	 * A failure report being read (PEER_FAILURE). Its job is looked up
	 * again at the end: a scan may remove the job meanwhile.
	 */
	char			*failure_blend;
	char			 failure_digest[DIGEST_HEX_SIZE];
	long			 failure_frame;
	char			*failure_reason;
	char			*failure_output;
	int			 failure_lines;
	struct ratelimit	 failure_rate;	/* reports come no faster */
	int64_t			 paused_until;	/* no request read before */
	int			 slowed;	/* was paused for it, logged */

	struct upload		*upload;
	char			*upload_job;	/* the job whose folder it is in */
	long			 upload_frame;
	uint64_t		 upload_size;
	char			*upload_image;
	char			 upload_digest[DIGEST_HEX_SIZE];
	char			*upload_blend;

	TAILQ_ENTRY(peer)	 entry;
};
TAILQ_HEAD(peers, peer);

#define SERVER_MAX_LISTENERS	8

/* One of the latest log lines, for the consoles' events pane. */
struct server_line {
	int64_t		 when;		/* wall clock, ms */
	enum log_level	 level;
	char		*text;
};
#define SERVER_LINES	256

struct console;
TAILQ_HEAD(consoles, console);
struct server_attach;
TAILQ_HEAD(server_attaches, server_attach);

struct server {
	struct event_base	*base;
	struct settings		*settings;
	const struct server_options *options;
	struct farm		 farm;
	struct jobdir		*jobdir;
	struct selfexe		*selfexe;
	char			*state_path;

	/* Who may connect: clients with a key, plain text from plain_allow. */
	struct keys		 keys;
	char			*keys_path;
	struct file_id		 keys_id;	/* the keys file last read */
	struct ssl_ctx_st	*tls;
	struct netrange		*plain_allow;
	size_t			 nplain_allow;

	struct evconnlistener	*listeners[SERVER_MAX_LISTENERS];
	int			 nlisteners;
	char			*listen_desc;	/* for display: "*:6000" */
	struct event		*accept_ev;	/* accepting again after a pause */
	int			 accept_paused;

	struct peers		 peers;
	int			 npeers;
	uint64_t		 last_peer_id;
	struct server_address	**addresses;	/* peers by where they come from */
	size_t			 addresses_size;
	size_t			 naddresses;
	farm_time		 address_refused; /* when last logged */
	int			 auto_max_peers; /* what the descriptors allow */
	int			 reserve_fd;	/* kept free for the checkpoint */
	int			 save_failing;

	struct event		*save_ev;
	struct event		*tick_ev;
	farm_time		 next_forget;	/* when to look for hosts to forget */
	struct event		*wake_ev;
	struct event		*commit_ev;
	struct event		*signal_evs[4];
	int			 state_dirty;

	/* What a commit does once its checkpoint is written. */
	struct state_journal	 journal;
	int			 commit_failing;

	/* The on_job_done programs waiting or running (server-hook.c). */
	struct server_hooks	 hooks;
	int			 hooks_running;
	struct event		*hooks_ev;	/* starts those with a place */
	struct event		*child_ev;	/* SIGCHLD */

	/* The consoles: the terminal's own and those attached. */
	struct consoles		 consoles;
	struct console		*console;	/* the terminal's own, or NULL */
	farm_time		 hung_up;	/* when its terminal hung up */
	struct eta_rate		 rate;		/* frames a minute, for them */

	/* Consoles attach through a Unix socket in the job folder. */
	int			 attach_fd;
	struct event		*attach_ev;
	struct event		*attach_pause_ev; /* out of descriptors */
	char			*attach_path;
	struct server_attaches	 attaches;

	/* The latest log lines, and the log file (server-log.c). */
	struct server_line	 lines[SERVER_LINES];
	unsigned		 nlines;	/* lines ever kept */
	int			 log_to_file;	/* stderr is the console's */
	FILE			*log;
	char			*log_path;
	int			 quitting;	/* peers close, the model stays */
	int			 exit_code;
};

int		 server_main(struct settings *, const struct server_options *);
void		 server_changed(struct server *);

/* server-log.c */
void		 server_log_init(struct server *);
void		 server_log_free(struct server *);
void		 server_log_event(struct server *, const char *);
void		 server_log_line(struct server *, enum log_level, const char *);
void		 server_log_to_file(struct server *, int);

/* server-attach.c */
void		 server_attach_open(struct server *);
void		 server_attach_close(struct server *);

/* server-again.c */
int		 server_again_aside(const char *);
int		 server_again_place(const char *, const char *, const char *,
		     char **);
long		 server_render_again(struct server *, struct job *, long, long,
		     char **);
void		 server_stop_clients(struct server *);
void		 server_quit(struct server *);
void		 server_wake(struct server *);
void		 server_cancel(struct server *, struct job *, long,
		     const char *);
int		 server_max_peers(struct server *);

/* server-address.c */
struct server_address *server_address_hold(struct server *,
		     const struct sockaddr *, socklen_t, char *, size_t);
void		 server_address_release(struct server *,
		     struct server_address *);
void		 server_address_free(struct server *);

/* server-commit.c */
void		 server_commit_reserve_fd(struct server *);
void		 server_commit_joblog(struct server *, const char *,
		     const char *, ...) BDFARM_PRINTF(3, 4);
void		 server_commit_store(struct server *, char *, char *);
int		 server_save_state(struct server *);
void		 server_state_dirty(struct server *);
void		 server_commit(struct server *);
void		 server_commit_recover(struct server *,
		     struct state_journal *);
void		 server_commit_init(struct server *);
void		 server_commit_free(struct server *);

/* server-hook.c */
void		 server_hook_init(struct server *);
void		 server_hook_job_complete(struct server *, struct job *);
void		 server_hook_committed(struct server *);
void		 server_hook_stop_all(struct server *);
void		 server_hook_free_all(struct server *);

/* server-keys.c */
void		 server_keys_open(struct server *);
void		 server_keys_refresh(struct server *);
int		 server_keys_find(struct server *, const char *,
		     unsigned char *);
int		 server_keys_revoke(struct server *, const char *, char **);
void		 server_keys_close(struct server *);
int		 server_keys_invite(const struct settings *, const char *,
		     const char *, const char *);
int		 server_keys_revoke_command(const char *, const char *);

/* server-peer.c */
void		 peer_accept(struct server *, int, const struct sockaddr *,
		     int);
void		 peer_free(struct peer *);
void		 peer_serve_waiting(struct peer *);
void		 peer_committed(struct peer *);
void		 peer_notify_stopping(struct peer *);
void		 peer_cancel(struct peer *, const struct job *, long);
void		 peer_check_key(struct peer *);

#endif
