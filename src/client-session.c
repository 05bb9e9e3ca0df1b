/*
 * client-session.c: one connection to the server, as an explicit state
 * machine. A session connects, greets, then picks its next request from
 * the client's state after every answer (a new program, finished frames
 * to send, failures to report, .blend files to fetch, frames to ask for).
 * With an original server, sessions are short because it serves one peer
 * at a time and drops a silent one: once nothing is left, the session
 * says GOODBYE and closes. With a bdfarm server (it answered bdfarm/1 or
 * later) the session stays open for as long as the client runs: it waits
 * for work with WAITJOB, whose JOB answer may come between any two other
 * answers, reports progress and failures, and says ALIVE when it has had
 * nothing else to say for a while. With bdfarm/2 it also settles, at the
 * start of every connection, which frames it still holds (HOLD, HELD),
 * gives back the frames it will not deliver (RETURN), and drops the ones
 * the server cancels (CANCEL). With bdfarm/3 it asks, for each .blend, for
 * the list of files its scene needs (REQUESTFILES), fetches those it does
 * not have (REQUESTFILE) the way it fetches a .blend, and tells the server
 * of the files Blender could not find (MISSING).
 */
#include "bdfarm.h"

#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "log.h"
#include "proto.h"
#include "settings.h"
#include "tls.h"
#include "xmalloc.h"

#define CLIENT_SESSION_MAX_DIST	((uint64_t)1 << 30)	/* program size */
#define CLIENT_SESSION_SHOWN	80		/* bytes of a bad reply logged */
#define CLIENT_SESSION_TURN	(1024 * 1024)	/* payload read in one turn */

enum client_session_state {
	CLIENT_SESSION_CONNECTING,
	CLIENT_SESSION_HELO,		/* waiting for the HELO answer */
	CLIENT_SESSION_DIST_SIZE,	/* waiting for the program's size */
	CLIENT_SESSION_DIST_DATA,	/* receiving the program */
	CLIENT_SESSION_RESULTS,		/* waiting for OK or NOK */
	CLIENT_SESSION_THANKYOU,	/* frame sent, waiting for THANKYOU */
	CLIENT_SESSION_BLEND_SIZE,	/* waiting for the .blend's size */
	CLIENT_SESSION_FILES,		/* bdfarm/3: waiting for FILES or NOK */
	CLIENT_SESSION_FILES_LIST,	/* bdfarm/3: reading its entries */
	CLIENT_SESSION_FILE_SIZE,	/* bdfarm/3: a file's size, or NOK */
	CLIENT_SESSION_FETCH_DATA,	/* receiving a .blend or a file */
	CLIENT_SESSION_JOB,		/* waiting for a frame or None */
	CLIENT_SESSION_FAILED,		/* failure reported, waiting for OK */
	CLIENT_SESSION_HOLD,		/* bdfarm/2: waiting for OK or NOK */
	CLIENT_SESSION_IDLE,		/* bdfarm: nothing but WAITJOB out */
	CLIENT_SESSION_CLOSING		/* GOODBYE sent, flushing */
};

struct client_session {
	struct client		*client;
	struct bufferevent	*bev;
	enum client_session_state state;
	int			 connected;
	int			 todo;		/* from the HELO answer */
	int			 got_none;
	int			 want_dist;
	char			 server_digest[DIGEST_HEX_SIZE];
	struct client_download	*download;
	uint64_t		 left;		/* bytes still to receive */
	struct client_frame	*frame;		/* the frame being sent */
	int			 upload_fd;
	char			*blend;		/* the .blend being fetched */
	char			 digest[DIGEST_HEX_SIZE];
	struct client_manifest	*manifest;	/* bdfarm/3: the list being read */
	long			 files_left;	/* its entries still to come */
	char			*file_path;	/* bdfarm/3: the file being fetched */
	char			*file_name;	/* its cached copy's name */
	char			 file_digest[DIGEST_HEX_SIZE];
	uint64_t		 file_size;
	int			 ext_version;	/* the version both sides speak */
	int			 ext;		/* both sides speak bdfarm/1 or up */
	int			 greeted;	/* HELO answered once */
	int			 holding;	/* bdfarm/2: HOLD before HELD */
	char			*hold_blend;	/* the frame of the HOLD out */
	char			 hold_digest[DIGEST_HEX_SIZE];
	long			 hold_frame;
	int			 facts_sent;
	char			*warm_said;	/* bdfarm/4: the last WARM */
	int			 waiting;	/* a WAITJOB is outstanding */
	int64_t			 helo_at;	/* when HELO was last sent (ms) */
	int			 expecting;	/* an answer is awaited */
	int64_t			 moved_ms;	/* last byte moved, or wait began */
	int			 unsent;	/* the socket's queue when seen */
	struct event		*watchdog;	/* ends a session stalled too long */
	struct event		*heartbeat;	/* ALIVE after a silence */
	char			*failure;	/* why it ends, once it fails */
};

static unsigned char	client_session_buf[65536];

static void	client_session_fail(struct client_session *, const char *, ...)
		    BDFARM_PRINTF(2, 3);
static void	client_session_send(struct client_session *, const char *, ...)
		    BDFARM_PRINTF(2, 3);
static void	client_session_next(struct client_session *);
static void	client_session_moved(struct evbuffer *,
		    const struct evbuffer_cb_info *, void *);

/* Release a session and everything it holds, without telling anyone. */
static void
client_session_free(struct client_session *s)
{
	if (s->bev != NULL) {
		evbuffer_remove_cb(bufferevent_get_input(s->bev),
		    client_session_moved, s);
		evbuffer_remove_cb(bufferevent_get_output(s->bev),
		    client_session_moved, s);
		bufferevent_free(s->bev);
	}
	if (s->heartbeat != NULL)
		event_free(s->heartbeat);
	if (s->watchdog != NULL)
		event_free(s->watchdog);
	client_download_abort(s->download);
	if (s->upload_fd != -1)
		close(s->upload_fd);
	free(s->blend);
	client_manifest_free(s->manifest);
	free(s->file_path);
	free(s->file_name);
	free(s->hold_blend);
	free(s->warm_said);
	free(s->failure);
	free(s);
}

/*
 * Mark the session as failed with the first reason given. The callback
 * that is running releases it on the way out (client_session_reap), so
 * that nothing touches a freed session.
 */
static void
client_session_fail(struct client_session *s, const char *fmt, ...)
{
	va_list	ap;

	if (s->failure != NULL)
		return;
	va_start(ap, fmt);
	xvasprintf(&s->failure, fmt, ap);
	va_end(ap);
}

/* Release a failed or finished session and tell the client. */
static void
client_session_reap(struct client_session *s)
{
	struct client	*c = s->client;
	char		*cause = s->failure;

	if (cause != NULL && s->blend != NULL && s->file_name == NULL &&
	    (s->state == CLIENT_SESSION_BLEND_SIZE ||
	    s->state == CLIENT_SESSION_FETCH_DATA))
		client_blend_failed(c, s->digest, s->blend, 0);
	/* A program that cannot be fetched is not asked for again. */
	if (cause != NULL && (s->state == CLIENT_SESSION_DIST_SIZE ||
	    s->state == CLIENT_SESSION_DIST_DATA))
		snprintf(c->refused_digest, sizeof c->refused_digest, "%s",
		    s->server_digest);
	s->failure = NULL;
	client_session_free(s);
	client_session_closed(c, cause);
	free(cause);
}

/* A printable, shortened copy of a line from the server, for the log. */
static char *
client_session_shown(const char *line)
{
	char	*copy = xstrndup(line, CLIENT_SESSION_SHOWN), *p;

	for (p = copy; *p != '\0'; p++) {
		if (!isprint((unsigned char)*p))
			*p = '?';
	}
	return copy;
}

/* The session cannot make sense of what the server said. */
static void
client_session_bad_reply(struct client_session *s, const char *what,
    const char *line)
{
	char	*shown = client_session_shown(line);

	client_session_fail(s, _("bad answer to %s from the server: \"%s\""),
	    what, shown);
	free(shown);
}

/*
 * Whether the session waits for the server: to connect, to answer, or to
 * take what is queued for it.
 */
static int
client_session_busy(struct client_session *s)
{
	return !s->connected || s->expecting ||
	    evbuffer_get_length(bufferevent_get_output(s->bev)) > 0;
}

/*
 * The session is about to wait for the server: if it did not already, the
 * time without a byte moving counts from now.
 */
static void
client_session_wait(struct client_session *s)
{
	const struct timeval	tv = { 1, 0 };

	if (!client_session_busy(s))
		s->moved_ms = clock_mono_ms();
	if (!evtimer_pending(s->watchdog, NULL))
		evtimer_add(s->watchdog, &tv);
}

/* Bytes came in or went out: the connection moves. */
static void
client_session_moved(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct client_session	*s = arg;

	if (buf == bufferevent_get_input(s->bev) ? info->n_added > 0 :
	    info->n_deleted > 0)
		s->moved_ms = clock_mono_ms();
}

/*
 * The bytes the system still holds to send on the connection, or -1 if it
 * does not say. A frame's last bytes may wait there for a long time on a
 * slow link after the session's own buffer is empty: each byte the server
 * takes from there is progress too.
 */
static int
client_session_unsent(struct client_session *s)
{
#ifdef TIOCOUTQ
	evutil_socket_t	fd = bufferevent_getfd(s->bev);
	int		n;

	if (fd != -1 && ioctl(fd, TIOCOUTQ, &n) == 0)
		return n;
#endif
	return -1;
}

/*
 * Once a second while the session waits for the server: end it when no
 * byte has moved either way for server_timeout seconds. A transfer of any
 * size over any link goes on for as long as bytes keep moving.
 */
static void
client_session_watchdog(evutil_socket_t fd, short events, void *arg)
{
	struct client_session	*s = arg;
	const struct timeval	 tv = { 1, 0 };
	int64_t			 now = clock_mono_ms();
	int			 limit = s->client->settings->server_timeout;
	int			 unsent;

	if (!client_session_busy(s))
		return;
	unsent = client_session_unsent(s);
	if (unsent != -1 && unsent < s->unsent)
		s->moved_ms = now;
	s->unsent = unsent;
	if (now - s->moved_ms < (int64_t)limit * 1000) {
		evtimer_add(s->watchdog, &tv);
		return;
	}
	client_session_fail(s, _("no byte moved to or from the server for "
	    "%d s"), limit);
	client_session_reap(s);
}

/*
 * Queue one request line, with the CR LF the protocol wants. Anything
 * sent to a bdfarm server is a sign of life: the heartbeat starts over.
 */
static void
client_session_send(struct client_session *s, const char *fmt, ...)
{
	struct evbuffer	*out = bufferevent_get_output(s->bev);
	struct timeval	 tv;
	va_list		 ap;

	client_session_wait(s);
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
	if (s->ext) {
		tv.tv_sec = s->client->settings->heartbeat_interval;
		tv.tv_usec = 0;
		evtimer_add(s->heartbeat, &tv);
	}
}

/*
 * Wait for an answer (expect set) for as long as bytes keep moving, or,
 * for a session that waits for work, for as long as it takes.
 */
static void
client_session_expect(struct client_session *s, int expect)
{
	if (expect)
		client_session_wait(s);
	s->expecting = expect;
}

/* Greet the server: as a bdfarm client, unless the extension is off. */
static void
client_session_greet(struct client_session *s)
{
	struct client	*c = s->client;

	if (c->settings->extensions)
		client_session_send(s, "HELO %s %s/%d %ld", c->hostname,
		    PROTO_EXT_NAME, PROTO_EXT_VERSION, (long)getpid());
	else
		client_session_send(s, "HELO %s", c->hostname);
	s->helo_at = clock_mono_ms();
	s->state = CLIENT_SESSION_HELO;
	client_session_expect(s, 1);
}

/* Handle the answer to HELO. */
static void
client_session_helo(struct client_session *s, char *line)
{
	struct client		*c = s->client;
	struct proto_helo_reply	 r;
	struct client_frame	*f;
	char			*copy = xstrdup(line);
	int			 version, before = c->ext_version;

	if (proto_parse_helo_reply(line, &r) != 0) {
		client_session_bad_reply(s, "HELO", copy);
		free(copy);
		return;
	}
	free(copy);
	version = c->settings->extensions ? r.ext_version : 0;
	if (version > PROTO_EXT_VERSION)
		version = PROTO_EXT_VERSION;
	if (s->greeted && version != s->ext_version) {
		client_session_fail(s, _("the server changed its protocol "
		    "within a session"));
		return;
	}
	if (!s->greeted && version >= 2) {
		/* Whatever the client holds is settled before anything else. */
		s->holding = 1;
		TAILQ_FOREACH(f, &c->frames, entry)
			f->hold_due = 1;
	}
	if (!s->greeted) {
		/*
		 * The files may have changed on the server since the lists
		 * came: frames not yet rendering wait for new ones.
		 */
		client_manifests_clear(c);
		TAILQ_FOREACH(f, &c->frames, entry) {
			if (version >= 3 && f->state == CLIENT_FRAME_QUEUED)
				f->state = CLIENT_FRAME_WAITING;
		}
	}
	s->greeted = 1;
	/* A greeting starts the server's word on the host afresh. */
	free(s->warm_said);
	s->warm_said = NULL;
	s->todo = r.todo;
	s->ext_version = version;
	s->ext = version > 0;
	c->ext_version = version;
	if (!s->ext)
		client_reports_clear(c);
	if (version < 2)
		client_returns_clear(c);
	if (version < 3)
		client_missings_clear(c);
	if (before >= 2 && version < 2 && c->mode == CLIENT_RUNNING) {
		/*
		 * Frames kept from a bdfarm/2 server that now speaks less:
		 * it has handed them out again as it lost this client.
		 */
		client_drop_pending(c);
	}
	if (r.todo == -1) {
		client_server_stopping(c);
		client_session_next(s);
		return;
	}
	if (r.todo == 0 && !s->ext)
		c->ask_after = clock_mono_ms() +
		    (int64_t)c->settings->busy_wait * 1000;

	if (strcmp(r.digest, c->self_digest) != 0) {
		if (r.ext_version < 1) {
			if (!c->told_old_server)
				log_info(_("the server runs the original "
				    "program; this client keeps its own"));
			c->told_old_server = 1;
		} else if (!c->settings->auto_updates) {
			if (!c->told_old_server)
				log_info(_("the server runs another version; "
				    "auto-updates are off, so this client "
				    "keeps its own"));
			c->told_old_server = 1;
		} else if (c->tls == NULL) {
			/*
			 * Anyone on the way could hand a program over plain
			 * text: only a server that proved it holds the key
			 * may replace this one.
			 */
			if (!c->told_old_server)
				log_info(_("the server runs another version; "
				    "this client updates itself only from a "
				    "server that proves its key (see --join), "
				    "so it keeps its own"));
			c->told_old_server = 1;
		} else if (c->have_self && c->mode == CLIENT_RUNNING &&
		    proto_valid_digest(r.digest) &&
		    strcmp(r.digest, c->refused_digest) != 0) {
			s->want_dist = 1;
			snprintf(s->server_digest, sizeof s->server_digest,
			    "%s", r.digest);
		}
	}
	client_session_next(s);
}

/* Take the size line of a payload of at most max bytes. */
static int
client_session_size(struct client_session *s, const char *what, char *line,
    uint64_t max)
{
	char	*t[2], *copy = xstrdup(line);

	if (proto_split(line, t, 2) != 1 ||
	    proto_parse_size(t[0], max, &s->left) != 0) {
		client_session_bad_reply(s, what, copy);
		free(copy);
		return -1;
	}
	free(copy);
	return 0;
}

/* A payload cannot be kept on disk (cause, freed here): say so, and end. */
static void
client_session_disk_failed(struct client_session *s, char *cause)
{
	client_disk_trouble(s->client, cause);
	client_session_fail(s, "%s", cause);
	free(cause);
}

/* Begin receiving a payload, whose size is known, into dest. */
static int
client_session_payload(struct client_session *s, const char *dest)
{
	char	*cause = NULL;

	if ((s->download = client_download_start(dest, &cause)) == NULL) {
		client_session_disk_failed(s, cause);
		return -1;
	}
	return 0;
}

/*
 * Begin receiving a .blend or a scene's file of known size into the cache,
 * as name in the folder of digest (noun says what it is, for the server).
 * One that would not fit in the free space of the cache folder is not
 * fetched: the frames of the .blend fail with the reason, and the session
 * ends, the only way not to receive the bytes that follow.
 */
static int
client_session_fetch_start(struct client_session *s, const char *digest,
    const char *name, const char *noun)
{
	struct client	*c = s->client;
	char		*path, *cause, *reason;
	uint64_t	 avail;
	int		 rc;

	if (client_cache_room(c, s->left, &avail) != 0) {
		xasprintf(&cause, _("%s is %ju bytes, more than the %ju bytes "
		    "free in %s"), name, (uintmax_t)s->left,
		    (uintmax_t)avail, c->cachedir);
		xasprintf(&reason, "not enough disk space for %s (%ju bytes, "
		    "%ju free)", noun, (uintmax_t)s->left, (uintmax_t)avail);
		client_disk_trouble(c, cause);
		client_blend_refused(c, s->digest, s->blend, reason);
		client_session_fail(s, "%s", cause);
		free(reason);
		free(cause);
		return -1;
	}
	path = client_cache_path(c, digest, name);
	if ((rc = client_session_payload(s, path)) == 0)
		s->state = CLIENT_SESSION_FETCH_DATA;
	free(path);
	return rc;
}

/* Take the size line of a .blend and begin receiving it. */
static void
client_session_blend_size(struct client_session *s, char *line)
{
	struct client	*c = s->client;

	if (client_session_size(s, "REQUESTBLENDERFILE", line,
	    (uint64_t)c->settings->max_blend_size) != 0) {
		client_blend_failed(c, s->digest, s->blend, 1);
		return;
	}
	if (client_session_fetch_start(s, s->digest, s->blend,
	    "the .blend file") != 0)
		client_blend_failed(c, s->digest, s->blend, 1);
}

/* The program has arrived whole: check it and install it. */
static void
client_session_dist_done(struct client_session *s)
{
	struct client		*c = s->client;
	const unsigned char	*head;
	size_t			 len;
	char			*cause = NULL, *path;

	head = client_download_head(s->download, &len);
	if (client_update_check(c, head, len, &cause) != 0) {
		log_warnx(_("not installing the server's program: %s"), cause);
		snprintf(c->refused_digest, sizeof c->refused_digest, "%s",
		    s->server_digest);
		client_download_abort(s->download);
		s->download = NULL;
		free(cause);
		return;
	}
	xasprintf(&path, "%s/%s", c->workdir, PACKAGE);
	if (client_download_finish(s->download, s->server_digest, 0755,
	    &cause) != 0) {
		s->download = NULL;
		log_warnx(_("not installing the server's program: %s"), cause);
		snprintf(c->refused_digest, sizeof c->refused_digest, "%s",
		    s->server_digest);
		free(cause);
		free(path);
		return;
	}
	s->download = NULL;
	client_update_ready(c, path);
}

/* The .blend has arrived whole: verify it and put it in the cache. */
static void
client_session_blend_done(struct client_session *s)
{
	struct client	*c = s->client;
	char		*cause = NULL;

	if (client_download_finish(s->download, s->digest, 0644,
	    &cause) != 0) {
		log_warnx(_("discarding a downloaded file: %s"), cause);
		client_blend_failed(c, s->digest, s->blend, 0);
		free(cause);
	} else
		client_blend_ready(c, s->digest, s->blend);
	s->download = NULL;
	free(s->blend);
	s->blend = NULL;
}

/* Forget the file being fetched. */
static void
client_session_file_clear(struct client_session *s)
{
	free(s->blend);
	s->blend = NULL;
	free(s->file_path);
	s->file_path = NULL;
	free(s->file_name);
	s->file_name = NULL;
}

/*
 * A scene's file has arrived whole: verify it and put it in the cache.
 * Bytes other than the list said mean the file changed on the server,
 * which is handled as a refusal to send it.
 */
static void
client_session_file_done(struct client_session *s)
{
	struct client		*c = s->client;
	struct client_manifest	*m;
	char			*cause = NULL;

	if (client_download_finish(s->download, s->file_digest, 0644,
	    &cause) != 0) {
		log_warnx(_("discarding a downloaded file: %s"), cause);
		free(cause);
		s->download = NULL;
		client_manifest_refused(c, s->blend, s->digest, s->file_path);
	} else {
		s->download = NULL;
		log_info(_("fetched %s (%.1f MB)"), s->file_name,
		    (double)s->file_size / 1e6);
		if ((m = client_manifest_find(c, s->blend, s->digest)) != NULL)
			m->refusals = 0;
		client_blend_ready(c, s->digest, s->blend);
	}
	client_session_file_clear(s);
}

/* Handle the answer to REQUESTFILE: the file's size, or NOK. */
static void
client_session_file_size(struct client_session *s, char *line)
{
	struct client	*c = s->client;

	if (strcmp(line, "NOK") == 0) {
		client_manifest_refused(c, s->blend, s->digest, s->file_path);
		client_session_file_clear(s);
		client_session_next(s);
		return;
	}
	if (client_session_size(s, "REQUESTFILE", line,
	    (uint64_t)c->settings->max_blend_size) != 0)
		return;
	s->file_size = s->left;
	client_session_fetch_start(s, s->file_digest, s->file_name,
	    s->file_name);
}

/* Handle the head of the answer to REQUESTFILES: FILES, or NOK. */
static void
client_session_files(struct client_session *s, char *line)
{
	struct proto_files_reply	 r;
	char				*copy = xstrdup(line);

	if (proto_parse_files_reply(line, &r) != 0) {
		client_session_bad_reply(s, "REQUESTFILES", copy);
		free(copy);
		return;
	}
	free(copy);
	if (r.nok) {
		client_manifest_unknown(s->client, s->digest, s->blend);
		client_session_file_clear(s);
		client_session_next(s);
		return;
	}
	s->manifest = client_manifest_new(s->blend, s->digest);
	s->manifest->allow_missing = r.allow_missing;
	s->manifest->fresh_blender = r.fresh_blender;
	s->files_left = r.count;
	s->state = CLIENT_SESSION_FILES_LIST;
}

/* Take one entry of a FILES answer; the last one completes the list. */
static void
client_session_files_entry(struct client_session *s, char *line)
{
	struct proto_file_entry	 e;
	char			*copy = xstrdup(line);

	if (proto_parse_file_entry(line, &e) != 0) {
		client_session_bad_reply(s, "REQUESTFILES", copy);
		free(copy);
		return;
	}
	free(copy);
	client_manifest_add(s->manifest, e.digest, e.size, e.path);
	if (--s->files_left > 0)
		return;
	client_manifest_take(s->client, s->manifest);
	s->manifest = NULL;
	client_session_file_clear(s);
	client_session_next(s);
}

/* Write n payload bytes of client_session_buf; -1 if the session failed. */
static int
client_session_store(struct client_session *s, size_t n)
{
	char	*cause = NULL;

	s->left -= (uint64_t)n;
	if (client_download_write(s->download, client_session_buf, n,
	    &cause) != 0) {
		client_session_disk_failed(s, cause);
		return -1;
	}
	return 0;
}

/*
 * Take payload bytes from the input; returns 1 once all have come. In
 * plain text, what else the socket holds is then read straight from it,
 * up to CLIENT_SESSION_TURN bytes a turn: libevent reads 4 KiB a turn of
 * the loop, which for a .blend of hundreds of MiB costs more than the
 * network. Never past the payload's last byte, which a line follows.
 */
static int
client_session_take(struct client_session *s, struct evbuffer *in)
{
	evutil_socket_t	 fd = bufferevent_getfd(s->bev);
	size_t		 want, turn = 0;
	ssize_t		 n;

	while (s->left > 0 && evbuffer_get_length(in) > 0) {
		want = sizeof client_session_buf;
		if (want > s->left)
			want = (size_t)s->left;
		n = evbuffer_remove(in, client_session_buf, want);
		if (n <= 0)
			break;
		if (client_session_store(s, (size_t)n) != 0)
			return -1;
	}
	while (s->left > 0 && s->client->tls == NULL && fd != -1 &&
	    turn < CLIENT_SESSION_TURN) {
		want = sizeof client_session_buf;
		if (want > s->left)
			want = (size_t)s->left;
		if ((n = read(fd, client_session_buf, want)) == -1 &&
		    errno == EINTR)
			continue;
		/* Nothing yet, the end or an error: libevent sees to it. */
		if (n <= 0)
			break;
		s->moved_ms = clock_mono_ms();
		turn += (size_t)n;
		if (client_session_store(s, (size_t)n) != 0)
			return -1;
	}
	return s->left == 0;
}

/* Handle the answer to RESULTS: send the frame or forget it. */
static void
client_session_results(struct client_session *s, char *line)
{
	struct client		*c = s->client;
	struct client_frame	*f = s->frame;
	struct stat		 st;
	char			*t[2], *copy = xstrdup(line);
	int			 n = proto_split(line, t, 2);

	if (n == 1 && (strcmp(t[0], "NOK") == 0 ||
	    (s->ext && strcmp(t[0], "HAVE") == 0))) {
		close(s->upload_fd);
		s->upload_fd = -1;
		s->frame = NULL;
		client_frame_drop(c, f, strcmp(t[0], "NOK") == 0 ?
		    _("the server does not want it") :
		    _("the server has it already"));
		free(copy);
		client_session_next(s);
		return;
	}
	if (n != 1 || strcmp(t[0], "OK") != 0) {
		client_session_bad_reply(s, "RESULTS", copy);
		free(copy);
		return;
	}
	free(copy);
	if (fstat(s->upload_fd, &st) != 0 ||
	    evbuffer_add_file(bufferevent_get_output(s->bev), s->upload_fd, 0,
	    st.st_size) != 0) {
		client_session_fail(s, _("cannot send %s"), f->file);
		return;
	}
	s->upload_fd = -1;		/* the buffer owns it now */
	s->state = CLIENT_SESSION_THANKYOU;
}

/* Handle the answer to REQUESTJOB. */
static void
client_session_job(struct client_session *s, char *line)
{
	struct client		*c = s->client;
	struct proto_job_reply	 r;
	char			*copy = xstrdup(line);

	if (proto_parse_job_reply(line, &r) != 0) {
		client_session_bad_reply(s, "REQUESTJOB", copy);
		free(copy);
		return;
	}
	free(copy);
	if (r.blend == NULL) {
		s->got_none = 1;
		c->ask_after = clock_mono_ms() +
		    (int64_t)c->settings->none_wait * 1000;
	} else
		client_frame_add(c, r.blend, r.digest, r.frame);
	client_session_next(s);
}

/*
 * A bdfarm server's "JOB blend digest frame", the answer to WAITJOB that
 * may come between any two others: take the frame, and ask for more.
 */
static void
client_session_jobline(struct client_session *s, char *line)
{
	struct client		*c = s->client;
	struct proto_job_reply	 r;
	char			*copy = xstrdup(line);

	if (proto_parse_job_reply(line + strlen("JOB"), &r) != 0 ||
	    r.blend == NULL) {
		client_session_bad_reply(s, "WAITJOB", copy);
		free(copy);
		return;
	}
	free(copy);
	s->waiting = 0;
	if (c->mode == CLIENT_RUNNING)
		client_frame_add(c, r.blend, r.digest, r.frame);
	else if (s->ext_version >= 2) {
		log_debug("frame %ld of %s came too late; giving it back",
		    r.frame, r.blend);
		client_return_add(c, r.blend, r.digest, r.frame);
	} else
		log_debug("frame %ld of %s came too late; not taken", r.frame,
		    r.blend);
	client_wake(c);
}

/*
 * Drop a frame the server no longer wants from this client. The frame
 * being sent is left to its exchange, whose answer ends it.
 */
static void
client_session_cancel(struct client_session *s, const char *blend,
    const char *digest, long frame, const char *why)
{
	struct client		*c = s->client;
	struct client_frame	*f;

	if ((f = client_frame_find(c, blend, digest, frame)) == NULL)
		return;
	if (f == s->frame) {
		log_debug("frame %ld of %s is being sent: %s", frame, blend,
		    why);
		return;
	}
	client_frame_cancel(c, f, why);
}

/* A bdfarm/2 server's "CANCEL blend digest frame", between any answers. */
static void
client_session_cancelline(struct client_session *s, char *line)
{
	struct proto_job_reply	 r;
	char			*copy = xstrdup(line);

	if (proto_parse_job_reply(line + strlen("CANCEL"), &r) != 0 ||
	    r.blend == NULL) {
		client_session_bad_reply(s, "CANCEL", copy);
		free(copy);
		return;
	}
	free(copy);
	client_session_cancel(s, r.blend, r.digest, r.frame,
	    _("another client delivered it first"));
}

/*
 * Send the next HOLD of the frames the client held when the connection
 * began, or HELD once none is left; returns 0 after HELD.
 */
static int
client_session_hold(struct client_session *s)
{
	struct client		*c = s->client;
	struct client_frame	*f;

	TAILQ_FOREACH(f, &c->frames, entry) {
		if (!f->hold_due)
			continue;
		f->hold_due = 0;
		free(s->hold_blend);
		s->hold_blend = xstrdup(f->blend);
		snprintf(s->hold_digest, sizeof s->hold_digest, "%s",
		    f->digest);
		s->hold_frame = f->frame;
		client_session_send(s, "HOLD %s %s %ld", f->blend, f->digest,
		    f->frame);
		s->state = CLIENT_SESSION_HOLD;
		client_session_expect(s, 1);
		return 1;
	}
	client_session_send(s, "HELD");
	s->holding = 0;
	return 0;
}

/* Handle the answer to HOLD: keep the frame (OK) or drop it (NOK). */
static void
client_session_held(struct client_session *s, char *line)
{
	if (strcmp(line, "NOK") == 0)
		client_session_cancel(s, s->hold_blend, s->hold_digest,
		    s->hold_frame, _("the server no longer has it out to this "
		    "client"));
	else if (strcmp(line, "OK") != 0) {
		client_session_bad_reply(s, "HOLD", line);
		return;
	}
	client_session_next(s);
}

/* Handle one line from the server in the current state. */
static void
client_session_line(struct client_session *s, char *line)
{
	struct client	*c = s->client;
	char		*path;

	if (s->ext && strncmp(line, "JOB", 3) == 0 &&
	    (line[3] == ' ' || line[3] == '\t')) {
		client_session_jobline(s, line);
		return;
	}
	if (s->ext_version >= 2 && strncmp(line, "CANCEL", 6) == 0 &&
	    (line[6] == ' ' || line[6] == '\t')) {
		client_session_cancelline(s, line);
		return;
	}
	if (s->ext && strcmp(line, "STOPPING") == 0) {
		s->waiting = 0;
		client_server_stopping(c);
		client_wake(c);
		return;
	}
	switch (s->state) {
	case CLIENT_SESSION_HELO:
		client_session_helo(s, line);
		break;
	case CLIENT_SESSION_DIST_SIZE:
		if (client_session_size(s, "REQUESTBLENDERDIST", line,
		    CLIENT_SESSION_MAX_DIST) != 0)
			break;
		xasprintf(&path, "%s/%s", c->workdir, PACKAGE);
		if (client_session_payload(s, path) == 0)
			s->state = CLIENT_SESSION_DIST_DATA;
		free(path);
		break;
	case CLIENT_SESSION_BLEND_SIZE:
		client_session_blend_size(s, line);
		break;
	case CLIENT_SESSION_FILES:
		client_session_files(s, line);
		break;
	case CLIENT_SESSION_FILES_LIST:
		client_session_files_entry(s, line);
		break;
	case CLIENT_SESSION_FILE_SIZE:
		client_session_file_size(s, line);
		break;
	case CLIENT_SESSION_RESULTS:
		client_session_results(s, line);
		break;
	case CLIENT_SESSION_THANKYOU:
		if (strcmp(line, "THANKYOU") != 0) {
			client_session_bad_reply(s, "RESULTS", line);
			break;
		}
		client_frame_sent(c, s->frame);
		s->frame = NULL;
		client_session_next(s);
		break;
	case CLIENT_SESSION_JOB:
		client_session_job(s, line);
		break;
	case CLIENT_SESSION_FAILED:
		if (strcmp(line, "OK") != 0) {
			client_session_bad_reply(s, "FAILED", line);
			break;
		}
		client_session_next(s);
		break;
	case CLIENT_SESSION_HOLD:
		client_session_held(s, line);
		break;
	default:
		client_session_bad_reply(s, "nothing", line);
		break;
	}
}

/*
 * Open a finished frame's file for sending; -1 with the reason, for the
 * log (why) and in a few untranslated words for the server (reason).
 */
static int
client_session_open_frame(struct client_frame *f, struct stat *st,
    char **why, char **reason)
{
	int	fd;

	if ((fd = open(f->file, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, st) == -1) {
		xasprintf(why, _("cannot read %s: %s"), f->file,
		    strerror(errno));
		xasprintf(reason, "cannot read the rendered file: %s",
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode) || st->st_size == 0) {
		xasprintf(why, _("%s is empty or not a file"), f->file);
		*reason = xstrdup("the rendered file is empty");
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Ask to send one finished frame; returns 0 if none could be offered. A
 * frame whose file cannot be read is given up as a failure, which a
 * bdfarm server is told of, so that it hands the frame out again at once.
 */
static int
client_session_offer(struct client_session *s)
{
	struct client		*c = s->client;
	struct client_frame	*f, *next;
	struct stat		 st;
	char			*why, *reason;
	int			 fd;

	TAILQ_FOREACH_SAFE(f, &c->frames, entry, next) {
		if (f->state != CLIENT_FRAME_DONE)
			continue;
		if ((fd = client_session_open_frame(f, &st, &why,
		    &reason)) == -1) {
			client_frame_failed(c, f, why, reason, NULL, 0);
			free(why);
			free(reason);
			continue;
		}
		s->frame = f;
		s->upload_fd = fd;
		client_session_send(s, "RESULTS %s %s %ld %s %jd", f->blend,
		    f->digest, f->frame, f->image, (intmax_t)st.st_size);
		s->state = CLIENT_SESSION_RESULTS;
		return 1;
	}
	return 0;
}

/*
 * With bdfarm/3, ask for what a frame whose .blend is cached still needs:
 * the list of its scene's files, or the first of them not in the cache.
 * Returns 1 once a request is out, 0 if nothing is missing, 2 to wait
 * (the list was refused a moment ago, or another client removes a copy
 * right now), 3 if frames were given up.
 */
static int
client_session_fetch_files(struct client_session *s, struct client_frame *f)
{
	struct client				*c = s->client;
	struct client_manifest			*m;
	const struct client_manifest_file	*file;
	char					*cause = NULL;
	int64_t					 now = clock_mono_ms();

	m = client_manifest_find(c, f->blend, f->digest);
	if (m == NULL || !m->known) {
		if (m != NULL && now < m->retry_at) {
			client_wake_in(c, m->retry_at - now);
			return 2;
		}
		s->blend = xstrdup(f->blend);
		snprintf(s->digest, sizeof s->digest, "%s", f->digest);
		client_session_send(s, "REQUESTFILES %s %s", f->blend,
		    f->digest);
		s->state = CLIENT_SESSION_FILES;
		return 1;
	}
	switch (client_manifest_wanted(c, m, &file, &cause)) {
	case 0:
		return 0;
	case 2:
		client_wake_in(c, 1000);
		return 2;
	case -1:
		client_disk_trouble(c, cause);
		free(cause);
		client_blend_failed(c, f->digest, f->blend, 1);
		return 3;
	}
	s->blend = xstrdup(f->blend);
	snprintf(s->digest, sizeof s->digest, "%s", f->digest);
	s->file_path = xstrdup(file->path);
	s->file_name = xstrdup(file->name);
	snprintf(s->file_digest, sizeof s->file_digest, "%s", file->digest);
	client_session_send(s, "REQUESTFILE %s %s %s", f->blend, f->digest,
	    file->digest);
	s->state = CLIENT_SESSION_FILE_SIZE;
	return 1;
}

/*
 * Ask for a .blend that a queued frame needs, or with bdfarm/3 for its
 * scene's files; 0 if none is missing. A copy that another client of the
 * work directory is removing at this very moment is fetched again a
 * second later.
 */
static int
client_session_fetch(struct client_session *s)
{
	struct client		*c = s->client;
	struct client_frame	*f;
	char			*cause = NULL;

	TAILQ_FOREACH(f, &c->frames, entry) {
		if (f->state != CLIENT_FRAME_WAITING)
			continue;
		if (client_cache_has(c, f->digest, f->blend)) {
			if (s->ext_version >= 3) {
				switch (client_session_fetch_files(s, f)) {
				case 1:
					return 1;
				case 2:
					continue;
				case 3:
					return client_session_fetch(s);
				}
			}
			client_blend_ready(c, f->digest, f->blend);
			return client_session_fetch(s);
		}
		switch (client_cache_hold(c, f->digest, &cause)) {
		case -1:
			client_disk_trouble(c, cause);
			free(cause);
			client_blend_failed(c, f->digest, f->blend, 1);
			return client_session_fetch(s);
		case 1:
			c->next_try = clock_mono_ms() + 1000;
			client_wake_in(c, 1000);
			continue;
		}
		s->blend = xstrdup(f->blend);
		snprintf(s->digest, sizeof s->digest, "%s", f->digest);
		client_session_send(s, "REQUESTBLENDERFILE %s %s", f->blend,
		    f->digest);
		s->state = CLIENT_SESSION_BLEND_SIZE;
		return 1;
	}
	return 0;
}

/* Report the oldest failure not yet told; 0 if there is none. */
static int
client_session_report(struct client_session *s)
{
	struct client		*c = s->client;
	struct client_report	*r;
	unsigned int		 i;

	if ((r = TAILQ_FIRST(&c->reports)) == NULL)
		return 0;
	TAILQ_REMOVE(&c->reports, r, entry);
	c->nreports--;
	client_session_send(s, "FAILED %s %s %ld %u %s", r->blend, r->digest,
	    r->frame, r->nlines, r->reason);
	for (i = 0; i < r->nlines; i++)
		client_session_send(s, "%s", r->lines[i]);
	log_debug("reported frame %ld of %s as failed: %s", r->frame,
	    r->blend, r->reason);
	client_report_free(r);
	s->state = CLIENT_SESSION_FAILED;
	return 1;
}

/* Whether a client that is stopping or updating has nothing left to do. */
static int
client_session_done(struct client_session *s)
{
	struct client		*c = s->client;
	struct client_frame	*f;

	if (c->mode == CLIENT_RUNNING || c->nrenders > 0 ||
	    !TAILQ_EMPTY(&c->reports) || !TAILQ_EMPTY(&c->returns))
		return 0;
	TAILQ_FOREACH(f, &c->frames, entry) {
		if (f->state == CLIENT_FRAME_DONE)
			return 0;
	}
	return 1;
}

/* Tell a bdfarm/4 server of the warm Blenders, when that has changed. */
static void
client_session_warm(struct client_session *s)
{
	char	*said;

	said = client_warm_said(s->client);
	if (s->warm_said != NULL && strcmp(said, s->warm_said) == 0) {
		free(said);
		return;
	}
	client_session_send(s, "%s", said);
	free(s->warm_said);
	s->warm_said = said;
}

/*
 * The messages only a bdfarm server gets, which it does not answer at
 * once: the files Blender missed (bdfarm/3), the frames given back
 * (bdfarm/2), the facts, once per connection
 * (as soon as Blender said its version, or could not), the warm Blenders
 * when they change (bdfarm/4), and a WAITJOB while there is room for
 * frames. Other requests go on while the WAITJOB
 * is out.
 */
static void
client_session_ext(struct client_session *s)
{
	struct client		*c = s->client;
	struct client_return	*r, *rnext;
	struct client_missing	*x, *xnext;

	if (s->ext_version >= 3) {
		TAILQ_FOREACH_SAFE(x, &c->missings, entry, xnext) {
			client_session_send(s, "MISSING %s %s %ld %s",
			    x->blend, x->digest, x->frame, x->path);
			free(x->blend);
			free(x->path);
			free(x);
		}
		TAILQ_INIT(&c->missings);
	}
	if (s->ext_version >= 2) {
		TAILQ_FOREACH_SAFE(r, &c->returns, entry, rnext) {
			client_session_send(s, "RETURN %s %s %ld", r->blend,
			    r->digest, r->frame);
			log_info(_("gave frame %ld of %s back to the server"),
			    r->frame, r->blend);
			free(r->blend);
			free(r);
		}
		TAILQ_INIT(&c->returns);
	}
	if (!s->facts_sent && c->probe == NULL) {
		client_session_send(s, "FACTS %d %ld %s",
		    c->settings->renderers, c->cores,
		    c->blender_version != NULL ? c->blender_version :
		    "unknown");
		s->facts_sent = 1;
	}
	if (s->ext_version >= 4)
		client_session_warm(s);
	if (c->mode == CLIENT_RUNNING && !s->waiting && client_wants_job(c)) {
		client_session_send(s, "WAITJOB %d", client_available(c));
		s->waiting = 1;
	}
}

/*
 * Whether a bdfarm server that has heard nothing but ALIVE for none_wait
 * seconds should be greeted again: its answer is how a client that keeps
 * its connection learns that the server stops its clients or runs a new
 * program.
 */
static int
client_session_regreet(struct client_session *s)
{
	return s->state == CLIENT_SESSION_IDLE &&
	    clock_mono_ms() - s->helo_at >=
	    (int64_t)s->client->settings->none_wait * 1000;
}

/*
 * Make the next request the client's state calls for: first a new
 * program, then finished frames, then failures to report, then missing
 * .blend files, then more frames while there is room. When nothing is
 * left, an old server gets GOODBYE; a bdfarm server keeps the session
 * waiting for work, until a stopping or updating client is done.
 */
static void
client_session_next(struct client_session *s)
{
	struct client	*c = s->client;

	if (s->failure != NULL)
		return;
	if (s->holding && client_session_hold(s))
		return;
	if (c->mode != CLIENT_EXITING) {
		if (s->want_dist && c->mode == CLIENT_RUNNING) {
			s->want_dist = 0;
			client_session_send(s, "REQUESTBLENDERDIST");
			s->state = CLIENT_SESSION_DIST_SIZE;
			client_session_expect(s, 1);
			return;
		}
		if (s->ext)
			client_session_ext(s);
		if (client_session_offer(s) ||
		    (s->ext && client_session_report(s)) ||
		    (c->mode == CLIENT_RUNNING && client_session_fetch(s))) {
			client_session_expect(s, 1);
			return;
		}
		if (s->ext && !client_session_done(s)) {
			s->state = CLIENT_SESSION_IDLE;
			if (client_session_regreet(s))
				client_session_greet(s);
			else
				client_session_expect(s, 0);
			return;
		}
		if (!s->ext && s->todo == 1 && !s->got_none &&
		    client_wants_job(c)) {
			client_session_send(s, "REQUESTJOB %d",
			    client_available(c));
			s->state = CLIENT_SESSION_JOB;
			client_session_expect(s, 1);
			return;
		}
	}
	client_session_send(s, "GOODBYE");
	s->state = CLIENT_SESSION_CLOSING;
}

/* The client's state changed: a session waiting for work acts on it. */
void
client_session_poke(struct client_session *s)
{
	if (s->state == CLIENT_SESSION_IDLE)
		client_session_next(s);
	if (s->failure != NULL)
		client_session_reap(s);
}

/*
 * Whether a line without an answer (PROGRESS, ALIVE) may be sent now: not
 * between RESULTS and its answer, after which the server takes the bytes
 * that follow as the frame, nor while held frames are being settled.
 */
static int
client_session_may_say(struct client_session *s)
{
	return s->ext && s->greeted && !s->holding &&
	    s->state != CLIENT_SESSION_RESULTS &&
	    s->state != CLIENT_SESSION_CLOSING;
}

/* Tell a bdfarm server how far a frame has rendered; 0 if not now. */
int
client_session_progress(struct client_session *s,
    const struct client_frame *f, int permille)
{
	if (!client_session_may_say(s))
		return 0;
	client_session_send(s, "PROGRESS %s %s %ld %d", f->blend, f->digest,
	    f->frame, permille);
	return 1;
}

/*
 * Nothing was sent to a bdfarm server for heartbeat_interval seconds:
 * say ALIVE, or greet again if that is due.
 */
static void
client_session_heartbeat(evutil_socket_t fd, short events, void *arg)
{
	struct client_session	*s = arg;
	struct timeval		 tv = { 1, 0 };

	if (!client_session_may_say(s)) {
		/* An answer is on its way; say something once it is here. */
		if (s->state != CLIENT_SESSION_CLOSING)
			evtimer_add(s->heartbeat, &tv);
		return;
	}
	if (client_session_regreet(s))
		client_session_greet(s);
	else
		client_session_send(s, "ALIVE");
}

/* Read what the server sent: lines, or the bytes of a payload. */
static void
client_session_read(struct bufferevent *bev, void *arg)
{
	struct client_session	*s = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			*line;
	size_t			 len;

	while (s->failure == NULL) {
		if (s->state == CLIENT_SESSION_DIST_DATA ||
		    s->state == CLIENT_SESSION_FETCH_DATA) {
			if (client_session_take(s, in) != 1)
				break;
			if (s->state == CLIENT_SESSION_DIST_DATA)
				client_session_dist_done(s);
			else if (s->file_name != NULL)
				client_session_file_done(s);
			else
				client_session_blend_done(s);
			client_session_next(s);
			continue;
		}
		if (s->state == CLIENT_SESSION_CLOSING) {
			evbuffer_drain(in, evbuffer_get_length(in));
			break;
		}
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
		if (line == NULL) {
			if (evbuffer_get_length(in) > PROTO_MAX_LINE)
				client_session_fail(s, _("the server sent a "
				    "line that is too long"));
			break;
		}
		if (len > PROTO_MAX_LINE || strlen(line) != len)
			client_session_fail(s, _("the server sent a line "
			    "that is too long or not text"));
		else
			client_session_line(s, line);
		free(line);
	}
	if (s->failure != NULL)
		client_session_reap(s);
}

/* Output has drained: after GOODBYE, the session is over. */
static void
client_session_write(struct bufferevent *bev, void *arg)
{
	struct client_session	*s = arg;

	if (s->state == CLIENT_SESSION_CLOSING)
		client_session_reap(s);
}

/* Connected, closed, timed out or failed. */
static void
client_session_event(struct bufferevent *bev, short what, void *arg)
{
	struct client_session	*s = arg;
	unsigned long		 e = 0;
	int			 dns, on = 1;

	if (what & BEV_EVENT_CONNECTED) {
		s->connected = 1;
		/* Short requests in turn: waiting to fill packets only stalls. */
		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY,
		    &on, sizeof on);
		client_session_greet(s);
		return;
	}
	/*
	 * Over TLS, the session is connected once the handshake is done: a
	 * connection that ends before, or fails in OpenSSL, had a server at
	 * the other end that could not prove it holds the key.
	 */
	if (s->client->tls != NULL && !s->connected &&
	    ((what & BEV_EVENT_EOF) ||
	    (e = bufferevent_get_openssl_error(bev)) != 0)) {
		client_session_fail(s, _("the server did not prove that it "
		    "holds the key %s (%s): refusing it"),
		    s->client->psk->name, tls_error(what & BEV_EVENT_EOF ? 0 :
		    e));
		client_session_reap(s);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		if (s->state == CLIENT_SESSION_CLOSING)
			client_session_reap(s);
		else {
			client_session_fail(s, _("the server closed the "
			    "connection"));
			client_session_reap(s);
		}
		return;
	}
	if ((dns = bufferevent_socket_get_dns_error(bev)) != 0)
		client_session_fail(s, _("cannot resolve %s: %s"),
		    s->client->options->host, evutil_gai_strerror(dns));
	else
		client_session_fail(s, "%s", s->connected ?
		    strerror(EVUTIL_SOCKET_ERROR()) :
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	client_session_reap(s);
}

/* Open a connection to the server; the rest happens in callbacks. */
struct client_session *
client_session_start(struct client *c)
{
	struct client_session	*s = xcalloc(1, sizeof *s);
	long			 port = strtol(c->options->port, NULL, 10);

	s->client = c;
	s->upload_fd = -1;
	s->state = CLIENT_SESSION_CONNECTING;
	if (c->tls != NULL) {
		s->bev = bufferevent_openssl_socket_new(c->base, -1,
		    tls_client_new(c->tls, c->psk), BUFFEREVENT_SSL_CONNECTING,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		/* The server may close without saying so first, as in plain text. */
		if (s->bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
	} else
		s->bev = bufferevent_socket_new(c->base, -1,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (s->bev == NULL)
		fatalx("cannot create a connection buffer");
	s->heartbeat = evtimer_new(c->base, client_session_heartbeat, s);
	s->watchdog = evtimer_new(c->base, client_session_watchdog, s);
	s->unsent = -1;
	s->moved_ms = clock_mono_ms();
	client_session_wait(s);
	bufferevent_setcb(s->bev, client_session_read, client_session_write,
	    client_session_event, s);
	if (evbuffer_add_cb(bufferevent_get_input(s->bev),
	    client_session_moved, s) == NULL ||
	    evbuffer_add_cb(bufferevent_get_output(s->bev),
	    client_session_moved, s) == NULL)
		fatalx("cannot watch a connection buffer");
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect_hostname(s->bev, c->dns, AF_UNSPEC,
	    c->options->host, (int)port) != 0) {
		client_session_fail(s, _("cannot connect to %s"),
		    c->options->host);
		client_session_free(s);
		return NULL;
	}
	return s;
}

/*
 * Hand the last lines of an aborted TLS session to OpenSSL in one record,
 * as far as the socket takes it without waiting: the socket itself only
 * carries what OpenSSL makes of them.
 */
static void
client_session_abort_tls(struct client_session *s, struct evbuffer *out)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(s->bev);
	size_t	 len = evbuffer_get_length(out);

	if (ssl != NULL && len <= INT_MAX)
		SSL_write(ssl, evbuffer_pullup(out, -1), (int)len);
}

/*
 * Give up a session at once, for a client that is exiting: if lines can
 * be said between requests now (what was queued in plain text is written
 * first), give every frame the client holds back to a bdfarm/2 server and
 * say GOODBYE, as far as the connection takes them without waiting, and
 * close without telling anyone.
 */
void
client_session_abort(struct client_session *s)
{
	struct client		*c = s->client;
	struct client_frame	*f;
	struct client_return	*r;
	struct evbuffer		*out, *queued;
	evutil_socket_t		 fd;

	if (!s->connected || s->state == CLIENT_SESSION_CLOSING ||
	    (fd = bufferevent_getfd(s->bev)) == -1) {
		client_session_free(s);
		return;
	}
	/*
	 * A request just queued in plain text goes first, if it can; the
	 * bufferevent keeps the start of its output frozen for itself.
	 */
	queued = bufferevent_get_output(s->bev);
	if (s->client->tls == NULL) {
		evbuffer_unfreeze(queued, 1);
		while (evbuffer_get_length(queued) > 0 &&
		    evbuffer_write(queued, fd) > 0)
			;
		evbuffer_freeze(queued, 1);
	}
	if (evbuffer_get_length(queued) != 0) {
		client_session_free(s);
		return;
	}
	if ((out = evbuffer_new()) == NULL)
		fatalx("cannot create a buffer");
	if (s->ext_version >= 2 && s->state != CLIENT_SESSION_RESULTS) {
		TAILQ_FOREACH(f, &c->frames, entry) {
			evbuffer_add_printf(out, "RETURN %s %s %ld\r\n",
			    f->blend, f->digest, f->frame);
		}
		TAILQ_FOREACH(r, &c->returns, entry) {
			evbuffer_add_printf(out, "RETURN %s %s %ld\r\n",
			    r->blend, r->digest, r->frame);
		}
	}
	evbuffer_add_printf(out, "GOODBYE\r\n");
	if (s->client->tls != NULL)
		client_session_abort_tls(s, out);
	else {
		while (evbuffer_get_length(out) > 0 &&
		    evbuffer_write(out, fd) > 0)
			;
	}
	evbuffer_free(out);
	client_session_free(s);
}
