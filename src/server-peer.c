/*
 * server-peer.c: one client connection as a state machine: request lines,
 * then, after RESULTS, the frame's bytes, then lines again. Each peer has
 * its own buffers and timeouts, so a slow or silent one holds up nobody;
 * a peer gets a bounded number of requests per turn of the loop, and one
 * that sends failure reports too fast is read more slowly. A
 * transfer, either way, times out only when no byte of it has moved for
 * peer_timeout seconds, however long it takes as a whole. A connection's
 * first line, though, must be whole within greeting_timeout, and one
 * address holds only so many connections (server-address.c).
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bdfarm.h"
#include "clock.h"
#include "deps.h"
#include "fileio.h"
#include "framefile.h"
#include "jobdir.h"
#include "log.h"
#include "netrange.h"
#include "proto.h"
#include "selfexe.h"
#include "server.h"
#include "settings.h"
#include "tls.h"
#include "upload.h"
#include "xmalloc.h"

#define PEER_REQUESTS_PER_TURN	16
#define PEER_INPUT_HIGH		(256 * 1024)	/* bytes read ahead at most */
#define PEER_FAILURES_BURST	10	/* failure reports taken at once */
#define PEER_FAILURE_INTERVAL	500	/* ms between them beyond that */
#define PEER_FAILURE_SHOWN	200	/* bytes logged of a reason or line */
#define PEER_TLS_HANDSHAKE	0x16		/* first byte of a TLS hello */

static void	peer_process(struct peer *);
static void	peer_drop(struct peer *, const char *);
static void	peer_read(struct bufferevent *, void *);
static void	peer_write(struct bufferevent *, void *);
static void	peer_event(struct bufferevent *, short, void *);
static void	peer_reply(struct peer *, const char *, ...) BDFARM_PRINTF(2, 3);

/*
 * The name a peer goes by in logs: its host name once it said HELO, else
 * the name of its key or its address.
 */
static const char *
peer_name(struct peer *p)
{
	if (p->host != NULL)
		return p->host->name;
	return p->key_name[0] != '\0' ? p->key_name : p->addr;
}

/*
 * The peer's host, which has just been heard from; it said HELO, as
 * peer_request checks before any request that leads here.
 */
static struct host *
peer_host(struct peer *p)
{
	if (p->host == NULL)
		fatalx("peer_host: %s has not said HELO", peer_name(p));
	p->host->last_contact = clock_mono_ms();
	return p->host;
}

/*
 * Whether the peer acts for its host: no other session under the same
 * name spoke for it first. One that waits gets no frame, and what it says
 * of frames changes nothing.
 */
static int
peer_speaks(struct peer *p)
{
	return p->host != NULL && host_speaks(p->host, p->id);
}

/*
 * The session leaving spoke for host and ends: an extension session that
 * waited under its name speaks for it from now on, with what it said it
 * holds: a version 2 client that already said HELD keeps only the frames
 * it holds, a version 1 client keeps none. Returns 1 if one took over.
 */
static int
peer_hand_over(struct server *s, struct host *host, struct peer *leaving)
{
	struct peer	*q;

	TAILQ_FOREACH(q, &s->peers, entry) {
		if (q != leaving && q->host == host &&
		    q->state != PEER_CLOSING &&
		    host_take_over(host, q->ext_version, q->id))
			break;
	}
	if (q == NULL)
		return 0;
	log_info(_("%s: the session that waited speaks for this host now"),
	    host->name);
	if (q->held_pending) {
		sched_held(&s->farm, host, q->holds, q->nholds);
		free(q->holds);
		q->holds = NULL;
		q->nholds = 0;
		q->held_pending = 0;
	} else if (q->ext_version == 1)
		sched_host_lost(&s->farm, host);
	if (q->warm_said)
		host_set_warm(host, q->warm, q->nwarm);
	server_wake(s);
	return 1;
}

/*
 * The peer waits under a name whose speaking session has sent nothing
 * for a third of client_timeout, longer than a live client keeps quiet
 * between heartbeats, and neither sends nor receives anything now: that
 * connection most likely broke without a word and its client came back,
 * so it is closed and the waiting one takes over, rather than having the
 * client's results refused until the broken connection times out.
 */
static void
peer_claim(struct peer *p)
{
	struct server	*s = p->server;
	struct peer	*q;
	farm_time	 silence;

	silence = (farm_time)s->settings->client_timeout * 1000 / 3;
	TAILQ_FOREACH(q, &s->peers, entry) {
		if (q != p && q->host == p->host && host_speaks(q->host, q->id))
			break;
	}
	if (q == NULL || q->state != PEER_LINES || q->delivering ||
	    clock_mono_ms() - q->heard < silence)
		return;
	peer_drop(q, "silent while another session greets under its name");
}

/* How many sessions other than p greeted with p's key. */
static int
peer_key_sessions(struct peer *p)
{
	struct peer	*q;
	int		 n = 0;

	TAILQ_FOREACH(q, &p->server->peers, entry) {
		if (q != p && q->tls && q->host != NULL &&
		    strcmp(q->key_name, p->key_name) == 0)
			n++;
	}
	return n;
}

/*
 * Send one reply line. With nothing queued before it, a plain-text reply
 * goes to the socket at once: libevent would write it only on the next
 * turn of the loop, after telling the kernel twice what to watch, once
 * per reply. Over TLS, the socket carries records only OpenSSL can make.
 */
static void
peer_reply(struct peer *p, const char *fmt, ...)
{
	struct evbuffer	*out = bufferevent_get_output(p->bev);
	char		*line;
	va_list		 ap;
	ssize_t		 n = 0;
	int		 len;

	va_start(ap, fmt);
	len = xvasprintf(&line, fmt, ap);
	va_end(ap);
	line = xreallocarray(line, (size_t)len + 3, 1);
	memcpy(line + len, "\r\n", 3);
	len += 2;
	if (!p->tls && evbuffer_get_length(out) == 0 &&
	    (n = send(bufferevent_getfd(p->bev), line, (size_t)len,
	    MSG_NOSIGNAL | MSG_DONTWAIT)) > 0)
		p->sent += (uint64_t)n;
	if (n < len)
		evbuffer_add(out, line + (n > 0 ? n : 0),
		    (size_t)(len - (n > 0 ? n : 0)));
	free(line);
}

/*
 * Wait for the peer's next request, for at most peer_timeout seconds, or
 * client_timeout for a bdfarm client, which keeps its connection open;
 * a short answer that the peer leaves unread for peer_timeout also ends
 * it. Not while the peer is still receiving a payload: its silence then
 * is no fault, and the payload has a timeout of its own.
 */
static void
peer_expect_request(struct peer *p)
{
	const struct settings	*set = p->server->settings;
	struct timeval		 tv = { p->ext_version > 0 ?
				     set->client_timeout : set->peer_timeout,
				     0 };
	struct timeval		 unread = { set->peer_timeout, 0 };

	if ((p->state == PEER_LINES || p->state == PEER_FAILURE) &&
	    !p->delivering)
		bufferevent_set_timeouts(p->bev, &tv, &unread);
}

/*
 * Wait for a frame's bytes: the read timeout is reset by every byte that
 * arrives, so it fires only after peer_timeout seconds without one.
 */
static void
peer_expect_bytes(struct peer *p)
{
	struct timeval	tv = { p->server->settings->peer_timeout, 0 };

	bufferevent_set_timeouts(p->bev, &tv, NULL);
}

/*
 * Bytes handed to the peer's socket that the peer has not yet received.
 * Over TLS these are bytes of records, a little more than the bytes of
 * the payload: what is watched is only whether the number moves.
 */
static size_t
peer_unacked(struct peer *p)
{
	int	n = 0;

#ifdef TIOCOUTQ
	if (ioctl(bufferevent_getfd(p->bev), TIOCOUTQ, &n) == -1)
		n = 0;
#endif
	return n > 0 ? (size_t)n : 0;
}

/* Count the bytes that leave the output buffer for the socket. */
static void
peer_count_sent(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct peer	*p = arg;

	p->sent += info->n_deleted;
}

/*
 * A payload is on its way out. libevent's write timeout cannot time it:
 * it measures the time between moments the socket has room, and with the
 * megabytes a kernel buffers for a fast sender and a slow reader, that
 * is far longer than the time between bytes. So watch the bytes the peer
 * receives instead, once a second, until the last one is there.
 */
static void
peer_deliver_begin(struct peer *p)
{
	const struct timeval	second = { 1, 0 };

	bufferevent_set_timeouts(p->bev, NULL, NULL);
	p->delivering = 1;
	p->stalled = 0;
	p->delivered = p->sent - peer_unacked(p);
	event_add(p->deliver_ev, &second);
}

/* Everything sent has reached the peer: wait for its next request. */
static void
peer_deliver_end(struct peer *p)
{
	p->delivering = 0;
	event_del(p->deliver_ev);
	peer_expect_request(p);
}

/*
 * Once a second while a payload goes out: drop a peer that has received
 * nothing for peer_timeout seconds, and end the watch once it has all.
 */
static void
peer_deliver_tick(evutil_socket_t fd, short events, void *arg)
{
	struct peer	*p = arg;
	size_t		 unacked = peer_unacked(p);
	uint64_t	 delivered = p->sent - unacked;

	if (delivered != p->delivered) {
		p->delivered = delivered;
		p->stalled = 0;
	} else if (++p->stalled >= p->server->settings->peer_timeout) {
		peer_drop(p, "received nothing for too long");
		return;
	}
	if (unacked == 0 &&
	    evbuffer_get_length(bufferevent_get_output(p->bev)) == 0)
		peer_deliver_end(p);
}

/* Drop the connection now; why goes to the log if given. */
static void
peer_drop(struct peer *p, const char *why)
{
	if (why != NULL)
		log_info(_("%s: closing the connection: %s"), peer_name(p), why);
	peer_free(p);
}

/* Close once the last reply has gone out. */
static void
peer_close_after_reply(struct peer *p)
{
	p->state = PEER_CLOSING;
	bufferevent_disable(p->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(p->bev)) == 0)
		peer_free(p);
	else
		peer_deliver_begin(p);
}

/* HELO: note the host and say whether there is work; -1 if dropped. */
static int
peer_helo(struct peer *p, const struct proto_request *req)
{
	struct server	*s = p->server;
	farm_time	 now = clock_mono_ms();
	const char	*todo, *host;
	char		*name;

	/* A client that proved itself with a key goes by the key's name. */
	host = p->key_name[0] != '\0' ? p->key_name : req->host;
	if (req->instance != NULL)
		xasprintf(&name, "%s#%s", host, req->instance);
	else
		name = xstrdup(host);
	if (!proto_valid_host(name)) {
		free(name);
		peer_drop(p, "host name too long");
		return -1;
	}
	if (p->tls && p->host == NULL &&
	    peer_key_sessions(p) >= s->settings->max_sessions_per_key) {
		free(name);
		peer_drop(p, "max_sessions_per_key sessions with this key already");
		return -1;
	}
	if (!p->tls && keys_find(&s->keys, req->host) != NULL) {
		/* Else a plain peer could hold or return a key owner's frames. */
		free(name);
		peer_drop(p, "plain text under the name of a key");
		return -1;
	}
	if (p->host != NULL) {
		host_disconnected(p->host, p->ext_version, p->id);
		peer_hand_over(s, p->host, p);
	}
	/* An old session is never sent JOB: its WAITJOB is forgotten. */
	if (req->ext_version == 0)
		p->waiting = 0;
	p->ext_version = req->ext_version < PROTO_EXT_VERSION ?
	    req->ext_version : PROTO_EXT_VERSION;
	p->nholds = 0;
	p->held_pending = 0;
	p->warm_said = 0;
	p->host = host_get(&s->farm, name);
	free(name);
	host_connected(p->host, p->ext_version, p->id, now);
	p->host->tls = p->tls;
	if (!peer_speaks(p))
		peer_claim(p);
	if (!peer_speaks(p))
		log_info(_("%s: another session speaks for this host; this one "
		    "waits until it ends"), p->host->name);
	if (s->farm.stopping)
		todo = "STOPPING";
	else
		todo = sched_has_work(&s->farm, now) ? "1" : "0";
	if (p->ext_version > 0)
		peer_reply(p, "%s %s %s/%d", selfexe_digest(s->selfexe), todo,
		    PROTO_EXT_NAME, p->ext_version);
	else
		peer_reply(p, "%s %s", selfexe_digest(s->selfexe), todo);
	server_changed(s);
	return 0;
}

/* Queue a whole file after a size line; -1 if it cannot be opened. */
static int
peer_send_file(struct peer *p, const char *path, const struct file_id *want)
{
	struct evbuffer	*out = bufferevent_get_output(p->bev);
	struct stat	 st;
	struct file_id	 id;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		goto fail;
	fileio_id(&st, &id);
	if (want != NULL && !fileio_id_equal(&id, want))
		goto fail;
	peer_reply(p, "%lld", (long long)st.st_size);
	if (st.st_size > 0 && evbuffer_add_file(out, fd, 0, st.st_size) == -1)
		goto fail;
	if (st.st_size == 0)
		close(fd);
	peer_deliver_begin(p);
	return 0;
fail:
	close(fd);
	return -1;
}

/* REQUESTBLENDERDIST: this program, but only to a bdfarm peer. */
static int
peer_blenderdist(struct peer *p)
{
	const char	*path = selfexe_path(p->server->selfexe);

	if (p->ext_version == 0) {
		peer_drop(p, "program requested by a peer that is not bdfarm");
		return -1;
	}
	if (peer_send_file(p, path, NULL) != 0) {
		log_warn("%s", path);
		peer_drop(p, "cannot send the program");
		return -1;
	}
	return 0;
}

/* REQUESTJOB: the next frame for this host, or None. */
static void
peer_requestjob(struct peer *p, const struct proto_request *req)
{
	struct server	*s = p->server;
	struct job	*job;
	long		 frame;

	if (peer_speaks(p) && sched_next(&s->farm, peer_host(p),
	    req->available, clock_mono_ms(), &job, &frame))
		peer_reply(p, "%s %s %ld", job->blend_name, job->blend_digest,
		    frame);
	else
		peer_reply(p, "None");
}

/* REQUESTBLENDERFILE: the .blend of a live job, else close. */
static int
peer_requestblenderfile(struct peer *p, const struct proto_request *req)
{
	struct job	*job;

	job = farm_find_blend(&p->server->farm, req->blend, req->digest);
	if (job == NULL) {
		peer_drop(p, "request for a .blend file of no live job");
		return -1;
	}
	if (peer_send_file(p, job->blend_path, &job->blend_id) != 0) {
		/* Changed since it was hashed: the jobdir will notice. */
		peer_drop(p, "the .blend file changed or cannot be read");
		return -1;
	}
	return 0;
}

/*
 * REQUESTFILES (version 3): the .blend of a live job and every file it
 * needs, by digest, size and path on the server; a missing one has "-"
 * for a digest. NOK for no live job, or while its files are being read.
 */
static void
peer_requestfiles(struct peer *p, const struct proto_request *req)
{
	struct job	 *job;
	struct depfile	 *root, **list;
	size_t		  n, i, sent = 0;
	char		  flags[PROTO_FILES_FLAGS];

	job = farm_find_blend(&p->server->farm, req->blend, req->digest);
	if (job == NULL || job->files_pending ||
	    (root = jobdir_job_needs(job)) == NULL) {
		peer_reply(p, "NOK");
		return;
	}
	n = deps_list(root, &list);
	if (n > PROTO_MAX_FILES)
		n = PROTO_MAX_FILES;
	for (i = 1; i < n; i++)
		sent += proto_valid_path(list[i]->path);
	proto_files_flags(p->ext_version, job->allow_missing,
	    farm_blend_fresh(&p->server->farm, req->blend, req->digest), flags);
	peer_reply(p, "FILES %zu %s", sent + 1, flags);
	peer_reply(p, "%s %lld %s", job->blend_digest,
	    (long long)job->blend_id.size, root->path);
	for (i = 1; i < n; i++) {
		if (!proto_valid_path(list[i]->path))
			continue;
		if (list[i]->error != NULL || list[i]->digest[0] == '\0')
			peer_reply(p, "- 0 %s", list[i]->path);
		else
			peer_reply(p, "%s %lld %s", list[i]->digest,
			    (long long)list[i]->size, list[i]->path);
	}
	free(list);
}

/*
 * REQUESTFILE (version 3): a file a live job's .blend needs, by digest,
 * streamed as a .blend is; never a file no job needs. NOK if there is no
 * such file, or it changed since it was hashed (it is checked again).
 */
static void
peer_requestfile(struct peer *p, const struct proto_request *req)
{
	struct job	*job;
	struct depfile	*root, *f = NULL;

	job = farm_find_blend(&p->server->farm, req->blend, req->digest);
	if (job != NULL && (root = jobdir_job_needs(job)) != NULL)
		f = deps_find(root, req->file_digest);
	if (f == NULL) {
		log_info(_("%s: refused a file no job needs (%s)"),
		    peer_name(p), req->file_digest);
		peer_reply(p, "NOK");
		return;
	}
	if (peer_send_file(p, f->path, &f->id) != 0) {
		log_info(_("%s: %s changed or cannot be read; checking it "
		    "again"), peer_name(p), f->path);
		deps_check(root);
		peer_reply(p, "NOK");
	}
}

/*
 * A result of a wanted frame cannot be stored, for a reason of the
 * server's own: a frame out to this client goes back to the queue at
 * once, since the client will not send it again; otherwise the result is
 * just discarded.
 */
static void
peer_give_back(struct peer *p, struct job *job, long frame, const char *why)
{
	struct server	*s = p->server;
	char		*refused;

	xasprintf(&refused, "its result was refused: %s", why);
	if (!sched_frame_return(&s->farm, job, frame, p->host, refused))
		sched_frame_discarded(&s->farm, job, frame, peer_name(p), why);
	free(refused);
}

/* Whether some peer is receiving frame of job now. */
static int
peer_uploading(struct server *s, const struct job *job, long frame)
{
	struct peer	*p;

	TAILQ_FOREACH(p, &s->peers, entry) {
		if (p->upload != NULL && p->upload_frame == frame &&
		    strcmp(p->upload_job, job->name) == 0)
			return 1;
	}
	return 0;
}

/* Why a result of a wanted frame cannot be taken, or NULL if it can. */
static const char *
peer_refusal(struct peer *p, const struct job *job,
    const struct proto_request *req)
{
	struct server	*s = p->server;

	if (!proto_valid_file_name(req->image))
		return "the image name is not a plain file name";
	if (req->size > (uint64_t)s->settings->max_frame_size)
		return "the image is larger than max_frame_size";
	if (req->size == 0)
		return "the image is empty";
	if (peer_uploading(s, job, req->frame))
		return "the same frame is being received from another "
		    "connection";
	return NULL;
}

/*
 * RESULTS: accept a frame that is wanted, or say NOK. The frame is stored
 * under a name the server makes from its number, never the client's.
 */
static void
peer_results(struct peer *p, const struct proto_request *req)
{
	struct server		*s = p->server;
	struct job		*job = NULL;
	enum farm_result	 r;
	const char		*why;
	char			*cause = NULL, *file;

	peer_host(p);
	if (!peer_speaks(p)) {
		log_info(_("%s: result for frame %ld of %s refused: another "
		    "session speaks for this host"), peer_name(p), req->frame,
		    req->blend);
		peer_reply(p, "NOK");
		return;
	}
	r = sched_check_result(&s->farm, req->blend, req->digest, req->frame,
	    p->host, &job);
	if (r != FARM_RESULT_OK) {
		log_info(_("%s: result for frame %ld of %s refused: %s"),
		    peer_name(p), req->frame, req->blend,
		    sched_result_reason(r));
		peer_reply(p, p->ext_version > 0 && r == FARM_RESULT_DONE ?
		    "HAVE" : "NOK");
		return;
	}
	if ((why = peer_refusal(p, job, req)) != NULL) {
		peer_give_back(p, job, req->frame, why);
		peer_reply(p, "NOK");
		return;
	}
	file = framefile_name(req->frame, req->image);
	p->upload = upload_begin(s->options->renderdir, job->name, file,
	    req->size, &cause);
	free(file);
	if (p->upload == NULL) {
		log_warnx("%s", cause);
		peer_give_back(p, job, req->frame, cause);
		free(cause);
		peer_reply(p, "NOK");
		return;
	}
	p->upload_job = xstrdup(job->name);
	p->upload_frame = req->frame;
	p->upload_size = req->size;
	p->upload_image = xstrdup(req->image);
	p->upload_blend = xstrdup(req->blend);
	snprintf(p->upload_digest, sizeof p->upload_digest, "%s", req->digest);
	p->state = PEER_UPLOAD;
	peer_expect_bytes(p);
	peer_reply(p, "OK");
}

/* Forget the upload in progress, removing its partial file. */
static void
peer_upload_clear(struct peer *p)
{
	upload_abort(p->upload);
	p->upload = NULL;
	free(p->upload_job);
	p->upload_job = NULL;
	free(p->upload_image);
	p->upload_image = NULL;
	free(p->upload_blend);
	p->upload_blend = NULL;
}

/*
 * The frame being received cannot be stored (cause): forget it, give its
 * frame back, and close, since the bytes cannot be answered otherwise.
 */
static void
peer_upload_failed(struct peer *p, const char *cause)
{
	struct job	*job;

	log_warnx("%s", cause);
	if ((job = farm_find_job(&p->server->farm, p->upload_job)) != NULL)
		peer_give_back(p, job, p->upload_frame, cause);
	peer_upload_clear(p);
	peer_drop(p, "cannot store the frame");
}

/*
 * The last byte of a frame has arrived: store it if it is still wanted
 * (the job may have changed meanwhile), and thank the client either way;
 * for a stored frame, only once it is committed (server-commit.c), so
 * that a crash can never make a thanked frame be rendered again.
 */
static int
peer_upload_done(struct peer *p)
{
	struct server		*s = p->server;
	struct job		*job = NULL;
	enum farm_result	 r;
	char			*cause = NULL, *from, *to;

	r = sched_check_result(&s->farm, p->upload_blend, p->upload_digest,
	    p->upload_frame, p->host, &job);
	if (r == FARM_RESULT_OK && strcmp(job->name, p->upload_job) != 0)
		r = FARM_RESULT_NOT_OUT;	/* stored in another job's folder */
	if (r != FARM_RESULT_OK) {
		log_info(_("%s: frame %ld of %s dropped after upload: %s"),
		    peer_name(p), p->upload_frame, p->upload_blend,
		    sched_result_reason(r));
		peer_upload_clear(p);
	} else if (upload_seal(p->upload, &cause) != 0) {
		peer_upload_failed(p, cause);
		free(cause);
		return -1;
	} else {
		upload_release(p->upload, &from, &to);
		p->upload = NULL;
		sched_frame_done(&s->farm, job, p->upload_frame, p->host,
		    clock_mono_ms());
		job_record_file(job, p->upload_frame,
		    strrchr(to, '/') != NULL ? strrchr(to, '/') + 1 : to,
		    p->upload_size);
		server_commit_store(s, from, to);
		peer_upload_clear(p);
		/* The wait is the server's, not the client's: no timeout. */
		p->state = PEER_COMMIT;
		bufferevent_set_timeouts(p->bev, NULL, NULL);
		server_commit(s);
		return 0;
	}
	p->state = PEER_LINES;
	peer_reply(p, "THANKYOU");
	return 0;
}

/*
 * The checkpoint that records this peer's frame is on disk: thank the
 * client, which may now delete its copy, and go on with its requests.
 */
void
peer_committed(struct peer *p)
{
	if (p->state != PEER_COMMIT)
		return;
	p->state = PEER_LINES;
	peer_reply(p, "THANKYOU");
	peer_process(p);
}

/* The job a frame named in an extension request belongs to, or NULL. */
static struct job *
peer_find_frame(struct peer *p, const struct proto_request *req)
{
	return sched_find_frame(&p->server->farm, req->blend, req->digest,
	    req->frame, peer_host(p));
}

/*
 * Tell a bdfarm client that keeps its connection open that the farm
 * stops: it cannot hear it in a HELO answer.
 */
void
peer_notify_stopping(struct peer *p)
{
	if (p->ext_version == 0 || p->state == PEER_CLOSING)
		return;
	p->waiting = 0;
	peer_reply(p, "STOPPING");
}

/*
 * Tell a client that speaks version 2 of the extension to drop a frame
 * another client delivered first.
 */
void
peer_cancel(struct peer *p, const struct job *job, long frame)
{
	if (p->ext_version < 2 || p->state == PEER_CLOSING)
		return;
	peer_reply(p, "CANCEL %s %s %ld", job->blend_name, job->blend_digest,
	    frame);
}

/* RETURN: the client gives a frame back unrendered. */
static void
peer_return(struct peer *p, const struct proto_request *req)
{
	struct job	*job = peer_find_frame(p, req);

	if (job != NULL && peer_speaks(p))
		sched_frame_return(&p->server->farm, job, req->frame, p->host,
		    "given back by the client");
}

/*
 * HOLD: a client that connected again holds this frame; it may keep it
 * if the frame is still (or again) its own. While another session speaks
 * for its host, it may keep only what is out to the host now.
 */
static void
peer_hold(struct peer *p, const struct proto_request *req)
{
	struct server	*s = p->server;
	struct job	*job = peer_find_frame(p, req);
	int		 ok;

	if (job == NULL)
		ok = 0;
	else if (peer_speaks(p))
		ok = sched_hold(&s->farm, job, req->frame, p->host,
		    clock_mono_ms());
	else
		ok = sched_out_to(job, req->frame, p->host);
	if (!ok) {
		peer_reply(p, "NOK");
		return;
	}
	p->holds = xreallocarray(p->holds, p->nholds + 1, sizeof *p->holds);
	p->holds[p->nholds].seq = job->seq;
	p->holds[p->nholds].frame = req->frame;
	p->nholds++;
	peer_reply(p, "OK");
}

/*
 * HELD: the client held nothing else; its other frames go back, once it
 * speaks for its host.
 */
static void
peer_held(struct peer *p)
{
	if (!peer_speaks(p)) {
		p->held_pending = 1;
		return;
	}
	sched_held(&p->server->farm, p->host, p->holds, p->nholds);
	free(p->holds);
	p->holds = NULL;
	p->nholds = 0;
}

/* Answer an outstanding WAITJOB if a frame can be had now. */
void
peer_serve_waiting(struct peer *p)
{
	struct server	*s = p->server;
	struct job	*job;
	long		 frame;

	if (!p->waiting || p->state == PEER_CLOSING || !peer_speaks(p))
		return;
	if (!sched_next(&s->farm, p->host, p->waiting_available, clock_mono_ms(),
	    &job, &frame))
		return;
	p->waiting = 0;
	peer_reply(p, "JOB %s %s %ld", job->blend_name, job->blend_digest,
	    frame);
}

/* WAITJOB: answer now if there is a frame, else when there is one. */
static void
peer_waitjob(struct peer *p, const struct proto_request *req)
{
	peer_host(p);
	p->waiting = 1;
	p->waiting_available = req->available;
	peer_serve_waiting(p);
}

/* PROGRESS: how far a frame has rendered. */
static void
peer_progress(struct peer *p, const struct proto_request *req)
{
	struct job	*job = peer_find_frame(p, req);

	if (job != NULL && peer_speaks(p)) {
		sched_frame_progress(job, req->frame, peer_host(p),
		    req->permille);
		log_debug("%s: frame %ld at %u/1000 on %s", job->name,
		    req->frame, req->permille, peer_name(p));
		server_changed(p->server);
	}
}

/* MISSING (version 3): a file Blender missed for a frame out to it. */
static void
peer_missing(struct peer *p, const struct proto_request *req)
{
	struct job	*job = peer_find_frame(p, req);

	if (job != NULL && peer_speaks(p)) {
		farm_file_missed(&p->server->farm, job, req->frame,
		    peer_name(p), req->path);
		server_changed(p->server);
	}
}

/*
 * Add to *text prefix and line, but no more than PEER_FAILURE_SHOWN bytes
 * of line, cut between two characters and marked, so that a failure's
 * line in the job log stays short whatever the client sends.
 */
static void
peer_failure_append(char **text, const char *prefix, const char *line)
{
	size_t	 len = strlen(line);
	char	*more;
	int	 cut = len > PEER_FAILURE_SHOWN;

	if (cut) {
		len = PEER_FAILURE_SHOWN;
		while (len > 0 && ((unsigned char)line[len] & 0xc0) == 0x80)
			len--;
	}
	xasprintf(&more, "%s%s%.*s%s", *text, prefix, (int)len, line,
	    cut ? "..." : "");
	free(*text);
	*text = more;
}

/*
 * Count a failure report against the peer's rate: beyond a burst, the
 * peer's next request is read only after a pause, so that a flood of
 * reports slows down that peer alone.
 */
static void
peer_failure_rate(struct peer *p)
{
	int64_t	now = clock_mono_ms(), wait;

	if ((wait = ratelimit_take(&p->failure_rate, now)) == 0)
		return;
	p->paused_until = now + wait;
	if (!p->slowed)
		log_info(_("%s: failure reports come too fast; reading them "
		    "more slowly"), peer_name(p));
	p->slowed = 1;
}

/* FAILED: read the output lines that follow, then record the failure. */
static void
peer_failed(struct peer *p, const struct proto_request *req)
{
	peer_failure_rate(p);
	p->failure_blend = xstrdup(req->blend);
	snprintf(p->failure_digest, sizeof p->failure_digest, "%s",
	    req->digest);
	p->failure_frame = req->frame;
	p->failure_reason = xstrdup("");
	peer_failure_append(&p->failure_reason, "", req->reason);
	p->failure_output = xstrdup("");
	p->failure_lines = req->lines;
	p->state = PEER_FAILURE;
}

/* Forget a failure report. */
static void
peer_failure_clear(struct peer *p)
{
	free(p->failure_reason);
	p->failure_reason = NULL;
	free(p->failure_output);
	p->failure_output = NULL;
	free(p->failure_blend);
	p->failure_blend = NULL;
}

/* One line of Blender's output after FAILED; the last one records it. */
static void
peer_failure_line(struct peer *p, const char *line)
{
	struct server	*s = p->server;
	struct job	*job;
	char		*more;

	if (p->failure_lines > 0) {
		peer_failure_append(&p->failure_output, "\n    ", line);
		p->failure_lines--;
	}
	if (p->failure_lines > 0)
		return;
	job = sched_find_frame(&s->farm, p->failure_blend, p->failure_digest,
	    p->failure_frame, peer_host(p));
	if (job != NULL && peer_speaks(p)) {
		xasprintf(&more, "%s%s", p->failure_reason, p->failure_output);
		sched_frame_failed(&s->farm, job, p->failure_frame,
		    peer_host(p), more, clock_mono_ms());
		free(more);
	}
	peer_failure_clear(p);
	p->state = PEER_LINES;
	peer_reply(p, "OK");
}

/*
 * WARM (version 4): the client's warm Blenders, shown in the console. A
 * session that waits under the host's name keeps them until it speaks.
 */
static void
peer_warm(struct peer *p, const struct proto_request *req)
{
	p->nwarm = req->nwarm < HOST_WARM ? req->nwarm : HOST_WARM;
	memcpy(p->warm, req->warm, (size_t)p->nwarm * sizeof *p->warm);
	p->warm_said = 1;
	if (peer_speaks(p)) {
		host_set_warm(peer_host(p), p->warm, p->nwarm);
		server_changed(p->server);
	}
}

/* Whether the peer may use request cmd. */
static int
peer_allowed(struct peer *p, enum proto_cmd cmd)
{
	switch (cmd) {
	case PROTO_FACTS:
	case PROTO_ALIVE:
	case PROTO_WAITJOB:
	case PROTO_PROGRESS:
	case PROTO_FAILED:
		return p->ext_version > 0 && !(cmd == PROTO_WAITJOB &&
		    p->waiting);
	case PROTO_RETURN:
	case PROTO_HOLD:
	case PROTO_HELD:
		return p->ext_version >= 2;
	case PROTO_REQUESTFILES:
	case PROTO_REQUESTFILE:
	case PROTO_MISSING:
		return p->ext_version >= 3;
	case PROTO_WARM:
		return p->ext_version >= 4;
	default:
		return 1;
	}
}

/* Handle one request line; -1 if the peer is gone. */
static int
peer_request(struct peer *p, char *line)
{
	struct proto_request	 req;
	const char		*cause;

	if (proto_parse_request(line, &req, &cause) != 0) {
		peer_drop(p, cause);
		return -1;
	}
	if (p->host == NULL && req.cmd != PROTO_HELO &&
	    req.cmd != PROTO_GOODBYE) {
		peer_drop(p, "request before HELO");
		return -1;
	}
	if (!peer_allowed(p, req.cmd)) {
		peer_drop(p, "request not allowed in this session");
		return -1;
	}
	if (p->host != NULL && !peer_speaks(p))
		peer_claim(p);
	switch (req.cmd) {
	case PROTO_HELO:
		return peer_helo(p, &req);
	case PROTO_REQUESTBLENDERDIST:
		return peer_blenderdist(p);
	case PROTO_REQUESTJOB:
		peer_requestjob(p, &req);
		break;
	case PROTO_REQUESTBLENDERFILE:
		return peer_requestblenderfile(p, &req);
	case PROTO_RESULTS:
		peer_results(p, &req);
		break;
	case PROTO_GOODBYE:
		peer_close_after_reply(p);
		return -1;
	case PROTO_FACTS:
		if (peer_speaks(p))
			host_set_facts(peer_host(p), req.renderers, req.cores,
			    req.blender);
		server_changed(p->server);
		break;
	case PROTO_ALIVE:
		peer_host(p);
		break;
	case PROTO_WAITJOB:
		peer_waitjob(p, &req);
		break;
	case PROTO_PROGRESS:
		peer_progress(p, &req);
		break;
	case PROTO_FAILED:
		peer_failed(p, &req);
		if (req.lines == 0)
			peer_failure_line(p, "");
		break;
	case PROTO_RETURN:
		peer_return(p, &req);
		break;
	case PROTO_HOLD:
		peer_hold(p, &req);
		break;
	case PROTO_HELD:
		peer_held(p);
		break;
	case PROTO_REQUESTFILES:
		peer_requestfiles(p, &req);
		break;
	case PROTO_REQUESTFILE:
		peer_requestfile(p, &req);
		break;
	case PROTO_MISSING:
		peer_missing(p, &req);
		break;
	case PROTO_WARM:
		peer_warm(p, &req);
		break;
	}
	return 0;
}

/*
 * Move frame bytes to disk: those libevent has read, then, since it reads
 * 4 KiB per turn of the loop, what else the socket holds, straight into
 * the file; over TLS only what OpenSSL has deciphered. Returns -1 if the
 * peer is gone.
 */
static int
peer_upload(struct peer *p)
{
	char			*cause = NULL;
	enum upload_status	 status;
	int			 rc;

	rc = upload_take(p->upload, bufferevent_get_input(p->bev), &cause);
	if (rc == 0 && p->tls)
		status = UPLOAD_MORE;
	else if (rc == 0)
		status = upload_read(p->upload, bufferevent_getfd(p->bev),
		    &cause);
	else
		status = rc == 1 ? UPLOAD_DONE : UPLOAD_FAILED;
	switch (status) {
	case UPLOAD_MORE:
		return 0;
	case UPLOAD_CLOSED:
		log_info(_("%s: upload of frame %ld cut off"), peer_name(p),
		    p->upload_frame);
		peer_free(p);
		return -1;
	case UPLOAD_FAILED:
		peer_upload_failed(p, cause);
		free(cause);
		return -1;
	case UPLOAD_DONE:
		break;
	}
	return peer_upload_done(p);
}

/*
 * Whether the peer's next request must wait, after too many failure
 * reports: if so, it is read when the pause ends. Its input meanwhile
 * fills up to the watermark, and then the peer's own sending stalls.
 */
static int
peer_paused(struct peer *p)
{
	int64_t		wait = p->paused_until - clock_mono_ms();
	struct timeval	tv;

	if (wait <= 0)
		return 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	event_add(p->resume_ev, &tv);
	return 1;
}

/* Work through what the peer sent, up to a fair share per turn. */
static void
peer_process(struct peer *p)
{
	struct evbuffer	*in = bufferevent_get_input(p->bev);
	const struct timeval zero = { 0, 0 };
	char		*line;
	size_t		 len;
	int		 handled = 0;

	while (p->state != PEER_CLOSING && p->state != PEER_COMMIT) {
		if (p->state == PEER_UPLOAD) {
			if (peer_upload(p) != 0)
				return;
			if (p->state == PEER_UPLOAD)
				break;
			continue;
		}
		if (handled == PEER_REQUESTS_PER_TURN) {
			event_add(p->resume_ev, &zero);
			return;
		}
		if (p->state == PEER_LINES && peer_paused(p))
			return;
		/*
		 * The next request waits until the last answer has gone out,
		 * so a peer that does not read cannot pile up replies (or the
		 * files they hold open); its input is bounded by a watermark.
		 */
		if (evbuffer_get_length(bufferevent_get_output(p->bev)) > 0)
			return;
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
		if (line == NULL) {
			if (evbuffer_get_length(in) > PROTO_MAX_LINE) {
				peer_drop(p, "line too long");
				return;
			}
			break;
		}
		if (len > PROTO_MAX_LINE || strlen(line) != len) {
			free(line);
			peer_drop(p, len > PROTO_MAX_LINE ? "line too long" :
			    "NUL byte in a line");
			return;
		}
		evtimer_del(p->greeting_ev);
		handled++;
		if (p->state == PEER_FAILURE) {
			/* Free text, as the reason is: made fit for the logs. */
			proto_sanitize_text(line);
			peer_failure_line(p, line);
		} else if (peer_request(p, line) != 0) {
			free(line);
			return;
		}
		free(line);
	}
	if (p->state != PEER_UPLOAD && p->state != PEER_CLOSING &&
	    evbuffer_get_length(bufferevent_get_output(p->bev)) == 0)
		peer_expect_request(p);
}

/* Bytes have arrived. */
static void
peer_read(struct bufferevent *bev, void *arg)
{
	struct peer	*p = arg;

	p->heard = clock_mono_ms();
	peer_process(p);
}

/* Continue a peer that used up its share of the last turn. */
static void
peer_resume(evutil_socket_t fd, short events, void *arg)
{
	peer_process(arg);
}

/* The output buffer has drained. */
static void
peer_write(struct bufferevent *bev, void *arg)
{
	struct peer	*p = arg;

	if (p->state == PEER_CLOSING) {
		peer_free(p);
		return;
	}
	if (p->delivering && peer_unacked(p) == 0)
		peer_deliver_end(p);
	if (p->state == PEER_LINES || p->state == PEER_FAILURE) {
		peer_expect_request(p);
		if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
			peer_process(p);
	}
}

/* End of file, an error or a timeout. */
static void
peer_event(struct bufferevent *bev, short what, void *arg)
{
	struct peer	*p = arg;
	unsigned long	 e;

	if (what & BEV_EVENT_CONNECTED) {
		log_debug("%s: TLS with the key %s", p->addr, p->key_name);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		peer_drop(p, "silent for too long");
	else if (what & BEV_EVENT_EOF) {
		if (p->state == PEER_UPLOAD)
			log_info(_("%s: upload of frame %ld cut off"),
			    peer_name(p), p->upload_frame);
		peer_free(p);
	} else if (what & BEV_EVENT_ERROR) {
		if (p->tls && (e = bufferevent_get_openssl_error(bev)) != 0)
			peer_drop(p, tls_error(e));
		else
			peer_drop(p, strerror(EVUTIL_SOCKET_ERROR()));
	}
}

/*
 * A peer has sent no whole line within greeting_timeout of connecting:
 * one that sends a byte now and then would hold its place for ever.
 */
static void
peer_greeting_late(evutil_socket_t fd, short events, void *arg)
{
	peer_drop(arg, "no greeting within greeting_timeout");
}

/*
 * Refuse a connection from the address counted as name, which has
 * max_peers_per_address open already; logged at most once a second.
 */
static void
peer_refuse_address(struct server *s, int fd, const char *name)
{
	farm_time	now = clock_mono_ms();

	if (s->address_refused == 0 || now - s->address_refused >= 1000) {
		log_warnx(_("too many connections from %s "
		    "(max_peers_per_address is %d): refusing one"), name,
		    s->settings->max_peers_per_address);
		s->address_refused = now;
	}
	evutil_closesocket(fd);
}

/*
 * Drop a peer whose key is gone from the keys table or was replaced:
 * revoking a key cuts its connections.
 */
void
peer_check_key(struct peer *p)
{
	const struct keys_entry	*e;

	if (!p->tls || p->key_name[0] == '\0')
		return;
	e = keys_find(&p->server->keys, p->key_name);
	if (e == NULL || memcmp(e->key, p->key, KEYS_SIZE) != 0)
		peer_drop(p, "its key was revoked");
}

/* Start the line protocol on the peer's buffers, plain or TLS. */
static void
peer_start(struct peer *p, struct bufferevent *bev)
{
	p->bev = bev;
	p->sent_cb = evbuffer_add_cb(bufferevent_get_output(p->bev),
	    peer_count_sent, p);
	bufferevent_setcb(p->bev, peer_read, peer_write, peer_event, p);
	bufferevent_setwatermark(p->bev, EV_READ, 0, PEER_INPUT_HIGH);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	peer_expect_request(p);
}

/*
 * A peer that speaks plain text from an address outside plain_allow: tell
 * it why in one line, as far as the socket takes it now, and close.
 */
static void
peer_refuse_plain(struct peer *p)
{
	static const char	line[] = "REFUSED plain text is not allowed from "
				    "this address: connect with a key from "
				    "the farm's owner\r\n";
	char			discard[PROTO_MAX_LINE];
	int			i;

	log_info(_("%s: refused: plain text from an address outside "
	    "plain_allow"), p->addr);
	if (send(p->fd, line, sizeof line - 1, MSG_NOSIGNAL | MSG_DONTWAIT) ==
	    -1)
		log_debug("%s: %s", p->addr, strerror(errno));
	/* Unread bytes would make the close a reset that may lose the line. */
	for (i = 0; i < 4 && recv(p->fd, discard, sizeof discard,
	    MSG_DONTWAIT) > 0; i++)
		;
	shutdown(p->fd, SHUT_WR);
	peer_free(p);
}

/*
 * The first byte of a new connection is there: a TLS handshake record
 * starts TLS, anything else is the plain line protocol. The byte stays in
 * the socket for whichever reads it.
 */
static void
peer_sniff(evutil_socket_t fd, short events, void *arg)
{
	struct peer		*p = arg;
	struct server		*s = p->server;
	struct bufferevent	*bev;
	unsigned char		 first;
	ssize_t			 n;

	n = recv(fd, &first, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		peer_drop(p, n == 0 ? NULL : strerror(errno));
		return;
	}
	event_free(p->sniff_ev);
	p->sniff_ev = NULL;
	if (first == PEER_TLS_HANDSHAKE) {
		p->tls = 1;
		bev = bufferevent_openssl_socket_new(s->base, fd,
		    tls_server_new(s->tls, p), BUFFEREVENT_SSL_ACCEPTING,
		    BEV_OPT_CLOSE_ON_FREE);
		if (bev == NULL)
			fatalx("cannot create a TLS connection buffer");
		/* A client may close without saying so first, as in plain text. */
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	} else if (!netrange_match(s->plain_allow, s->nplain_allow,
	    (struct sockaddr *)&p->sa)) {
		peer_refuse_plain(p);
		return;
	} else
		bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	peer_start(p, bev);
}

/*
 * Take a new connection on fd from addr. Until its first byte arrives,
 * which tells TLS from plain text, the socket is only watched; it has
 * greeting_timeout for its first whole line, handshake included.
 */
void
peer_accept(struct server *s, int fd, const struct sockaddr *addr,
    int addrlen)
{
	struct peer		*p;
	struct server_address	*address;
	const struct timeval	 greeting = { s->settings->greeting_timeout, 0 };
	char			 host[NI_MAXHOST], refused[NI_MAXHOST + 4];
	int			 on = 1;

	if (s->npeers >= server_max_peers(s)) {
		log_warnx(_("too many connections (max_peers is %d): refusing "
		    "one"), server_max_peers(s));
		evutil_closesocket(fd);
		return;
	}
	if ((address = server_address_hold(s, addr, (socklen_t)addrlen,
	    refused, sizeof refused)) == NULL) {
		peer_refuse_address(s, fd, refused);
		return;
	}
	/*
	 * Short answers in turn: waiting to fill packets would hold a reply
	 * (a size line before a file, say) until the peer acknowledges the
	 * last one, 40 ms later where it delays its acknowledgements.
	 */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
	p = xcalloc(1, sizeof *p);
	p->server = s;
	p->id = ++s->last_peer_id;
	p->heard = clock_mono_ms();
	ratelimit_init(&p->failure_rate, PEER_FAILURE_INTERVAL,
	    PEER_FAILURES_BURST, clock_mono_ms());
	p->address = address;
	p->fd = fd;
	if ((size_t)addrlen <= sizeof p->sa)
		memcpy(&p->sa, addr, (size_t)addrlen);
	if (getnameinfo(addr, (socklen_t)addrlen, host, sizeof host, NULL, 0,
	    NI_NUMERICHOST) != 0)
		snprintf(host, sizeof host, "unknown");
	snprintf(p->addr, sizeof p->addr, "%s", host);
	p->resume_ev = evtimer_new(s->base, peer_resume, p);
	p->deliver_ev = event_new(s->base, -1, EV_PERSIST, peer_deliver_tick,
	    p);
	p->greeting_ev = evtimer_new(s->base, peer_greeting_late, p);
	evtimer_add(p->greeting_ev, &greeting);
	p->sniff_ev = event_new(s->base, fd, EV_READ | EV_PERSIST, peer_sniff,
	    p);
	event_add(p->sniff_ev, NULL);
	TAILQ_INSERT_TAIL(&s->peers, p, entry);
	s->npeers++;
	log_debug("%s: connected", p->addr);
}

/* Close a connection and forget it; an unfinished upload is dropped. */
void
peer_free(struct peer *p)
{
	struct server	*s = p->server;

	if (p->upload != NULL)
		peer_upload_clear(p);
	peer_failure_clear(p);
	if (p->host != NULL && !s->quitting) {
		/*
		 * A client of version 2 may come back for its frames: it
		 * counts as lost only after client_timeout out of touch.
		 */
		host_disconnected(p->host, p->ext_version, p->id);
		if (peer_hand_over(s, p->host, p)) {
			/* Another session under its name goes on. */
		} else if (p->ext_version == 1 && !host_alive(p->host))
			sched_host_lost(&s->farm, p->host);
		else if (p->ext_version > 1) {
			/* Silent for client_timeout already: lost now. */
			sched_changed(&s->farm);
			sched_expire_hosts(&s->farm, clock_mono_ms());
		}
	}
	TAILQ_REMOVE(&s->peers, p, entry);
	s->npeers--;
	server_address_release(s, p->address);
	free(p->holds);
	event_free(p->greeting_ev);
	event_free(p->resume_ev);
	event_free(p->deliver_ev);
	if (p->sniff_ev != NULL)
		event_free(p->sniff_ev);
	if (p->bev != NULL) {
		evbuffer_remove_cb_entry(bufferevent_get_output(p->bev),
		    p->sent_cb);
		bufferevent_free(p->bev);
	} else
		evutil_closesocket(p->fd);
	explicit_bzero(p->key, sizeof p->key);
	free(p);
	server_changed(s);
}
