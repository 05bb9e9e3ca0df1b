/*
 * settings.h: every delay and limit of the server and the client, with
 * built-in defaults that a libconfig file may override.
 */
#ifndef SETTINGS_H
#define SETTINGS_H

#include <stdint.h>

#define SETTINGS_PLAIN_ALLOW	"127.0.0.0/8, ::1, 10.0.0.0/8, " \
	"172.16.0.0/12, 192.168.0.0/16, fc00::/7, fe80::/10"

struct settings {
	/* server group */
	char		*listen;		/* address to bind; "" for all */
	int		 peer_timeout;		/* s a peer may stay silent */
	int		 client_timeout;	/* s a bdfarm client may, ditto */
	int		 redistribute_delay;	/* s before a frame goes out again */
	int		 rescan_interval;	/* s between full JOBDIR scans */
	int		 blend_check_interval;	/* s between .blend stat checks */
	int		 state_save_delay;	/* ms to coalesce state saves */
	int64_t		 max_frame_size;	/* bytes of one uploaded frame */
	int		 max_peers;		/* connections at once; 0: auto */
	int		 max_frames_held;	/* frames out to one host at most */
	int		 max_peers_per_address;	/* of them from one; 0: no cap */
	int		 max_sessions_per_key;	/* greeted sessions of one key */
	int		 greeting_timeout;	/* s from accept to a first line */
	int		 forget_hosts;		/* s unheard before forgotten; 0 */
	char		*log_file;		/* console mode log; "" none */
	char		*plain_allow;		/* ranges that may speak plain text */
	char		**on_job_done;		/* program and arguments, or NULL */
	int		 on_job_done_timeout;	/* s the program may run */

	/* client group */
	int		 renderers;
	int		 prefetch;		/* -1: 3 + 2 * renderers */
	char		*blender;
	char		*workdir;		/* "": $XDG_CACHE_HOME/bdfarm */
	int		 none_wait;		/* s after None from an old server */
	int		 busy_wait;		/* s when the server is busy */
	int		 retry_min;		/* s first wait after a network error */
	int		 retry_max;		/* s ceiling of that back-off */
	int		 cache_idle;		/* s idle before .blend cache is cleared */
	int		 render_timeout;	/* s one frame may take; 0 none */
	int		 batch_frames;		/* frames one blender run may take */
	int		 fresh_blender;		/* boolean: one Blender per batch */
	int		 warm_frames;		/* frames a warm Blender renders */
	int		 warm_memory;		/* MiB a warm Blender may hold; 0 */
	int		 warm_idle;		/* s a warm Blender may wait */
	int		 warm_start_timeout;	/* s it may take to be ready */
	int64_t		 max_blend_size;	/* bytes of one downloaded .blend */
	int		 auto_updates;		/* boolean */
	int		 heartbeat_interval;	/* s between signs of life */
	int		 server_timeout;	/* s with no byte moving */
	int		 extensions;		/* boolean: speak bdfarm/1 */
	int		 allow_scripts;		/* boolean: Blender may run scripts */
};

void	 settings_defaults(struct settings *);
void	 settings_free(struct settings *);
char	*settings_default_path(void);
int	 settings_load(struct settings *, const char *, int, char **);

#endif
