/*
 * digest.c: MD5 through OpenSSL's EVP interface, and the hasher that
 * reads a file one slice per event-loop turn. A slice is small enough
 * (1 MiB) that other peers wait at most a millisecond or two for it, and
 * only a few files are read at once, so that many hashes asked for
 * together hold a bounded number of buffers and descriptors.
 */
#include "digest.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include "bdfarm.h"
#include "log.h"
#include "xmalloc.h"

#define HASHER_SLICE		(1024 * 1024)
#define HASHER_MAX_RUNNING	2	/* files read at once */

struct digest {
	EVP_MD_CTX	*ctx;
};

struct hasher {
	int		 fd;
	char		*path;
	struct stat	 st;		/* as opened */
	struct digest	*digest;	/* from the first turn on */
	struct event	*ev;
	unsigned char	*buf;
	hasher_done_fn	 done;
	void		*arg;
	hasher_tap_fn	 tap;		/* sees every slice, or NULL */
	void		*tap_arg;
	int		 reading;	/* only for the tap: no digest */
	int		 running;	/* else waiting for its turn */
	int		 started;	/* has had its first turn */
	TAILQ_ENTRY(hasher) entry;	/* in hasher_waiting */
};

/* The hashers waiting for a turn, first come first served. */
static TAILQ_HEAD(, hasher) hasher_waiting =
    TAILQ_HEAD_INITIALIZER(hasher_waiting);
static int	hasher_running;

/* Start a new MD5 computation. */
struct digest *
digest_new(void)
{
	struct digest	*d = xcalloc(1, sizeof *d);

	if ((d->ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(d->ctx, EVP_md5(), NULL) != 1)
		fatalx("cannot start an MD5 digest");
	return d;
}

/* Feed len more bytes. */
void
digest_update(struct digest *d, const void *data, size_t len)
{
	if (len != 0 && EVP_DigestUpdate(d->ctx, data, len) != 1)
		fatalx("cannot update an MD5 digest");
}

/* Finish and write the digest as 32 lower-case hex digits. */
void
digest_final(struct digest *d, char hex[DIGEST_HEX_SIZE])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	len, i;

	if (EVP_DigestFinal_ex(d->ctx, md, &len) != 1)
		fatalx("cannot finish an MD5 digest");
	for (i = 0; i < len && i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[32] = '\0';
}

/* Release a digest, finished or not. */
void
digest_free(struct digest *d)
{
	if (d == NULL)
		return;
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

/* The digest of a buffer in memory. */
void
digest_buffer(const void *data, size_t len, char hex[DIGEST_HEX_SIZE])
{
	struct digest	*d = digest_new();

	digest_update(d, data, len);
	digest_final(d, hex);
	digest_free(d);
}

/* Take a free place among the hashers reading now, or wait for one. */
static void
hasher_enter(struct hasher *h)
{
	const struct timeval	zero = { 0, 0 };

	if (hasher_running >= HASHER_MAX_RUNNING) {
		TAILQ_INSERT_TAIL(&hasher_waiting, h, entry);
		return;
	}
	hasher_running++;
	h->running = 1;
	event_add(h->ev, &zero);
}

/* Release everything a hasher holds, and let the next one in. */
static void
hasher_free(struct hasher *h)
{
	struct hasher	*next;

	if (h->started)
		log_debug("done %s %s", h->reading ? "reading" : "hashing",
		    h->path);
	if (h->running) {
		hasher_running--;
		if ((next = TAILQ_FIRST(&hasher_waiting)) != NULL) {
			TAILQ_REMOVE(&hasher_waiting, next, entry);
			hasher_enter(next);
		}
	} else
		TAILQ_REMOVE(&hasher_waiting, h, entry);
	if (h->fd != -1)
		close(h->fd);
	event_free(h->ev);
	digest_free(h->digest);
	free(h->buf);
	free(h->path);
	free(h);
}

/* Report the end to the caller, then release the hasher. */
static void
hasher_finish(struct hasher *h, const char *hex, const char *error)
{
	h->done(hex, &h->st, error, h->arg);
	hasher_free(h);
}

/* Open the file on the hasher's first turn; -1 with *error if it fails. */
static int
hasher_open(struct hasher *h, char **error)
{
	log_debug("%s %s", h->reading ? "reading" : "hashing", h->path);
	h->started = 1;
	if ((h->fd = open(h->path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(h->fd, &h->st) == -1) {
		xasprintf(error, "%s: %s", h->path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(h->st.st_mode)) {
		xasprintf(error, _("%s: not a file"), h->path);
		return -1;
	}
	posix_fadvise(h->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	h->digest = digest_new();
	h->buf = xmalloc(HASHER_SLICE);
	return 0;
}

/*
 * Read and hash one slice, then run again after the loop has polled for
 * I/O: a zero timeout, unlike event_active(), lets every peer's events in
 * between. Finish when the file ends or fails.
 */
static void
hasher_slice(evutil_socket_t fd, short events, void *arg)
{
	const struct timeval	 zero = { 0, 0 };
	struct hasher		*h = arg;
	char			 hex[DIGEST_HEX_SIZE], *error = NULL;
	struct stat		 st;
	ssize_t			 n;

	if (h->digest == NULL && hasher_open(h, &error) != 0)
		goto fail;
	n = read(h->fd, h->buf, HASHER_SLICE);
	if (n > 0) {
		if (!h->reading)
			digest_update(h->digest, h->buf, (size_t)n);
		if (h->tap != NULL)
			h->tap(h->buf, (size_t)n, h->tap_arg);
		event_add(h->ev, &zero);
		return;
	}
	if (n == -1)
		xasprintf(&error, "%s: %s", h->path, strerror(errno));
	else if (fstat(h->fd, &st) == -1 || st.st_size != h->st.st_size ||
	    st.st_mtim.tv_sec != h->st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != h->st.st_mtim.tv_nsec)
		xasprintf(&error, _("%s: changed while being read"), h->path);
	if (error != NULL)
		goto fail;
	digest_final(h->digest, hex);
	if (h->reading)
		hex[0] = '\0';
	hasher_finish(h, hex, NULL);
	return;

fail:
	hasher_finish(h, NULL, error);
	free(error);
}

/*
 * Start hashing path in slices on base. done is called exactly once, from
 * the loop, also when the file cannot be read, unless the hasher is
 * cancelled first. Beyond HASHER_MAX_RUNNING hashers, a new one waits its
 * turn holding neither a descriptor nor a buffer.
 */
struct hasher *
hasher_start(struct event_base *base, const char *path, hasher_done_fn done,
    void *arg)
{
	struct hasher	*h = xcalloc(1, sizeof *h);

	h->fd = -1;
	h->path = xstrdup(path);
	h->done = done;
	h->arg = arg;
	h->ev = evtimer_new(base, hasher_slice, h);
	hasher_enter(h);
	return h;
}

/*
 * Let tap see every slice of the file as it is read, so that a reader of
 * the file's contents costs no second read.
 */
void
hasher_set_tap(struct hasher *h, hasher_tap_fn tap, void *arg)
{
	h->tap = tap;
	h->tap_arg = arg;
}

/*
 * Read path in slices as hasher_start does, for a tap (set before the
 * first turn) alone: done gets "" for a digest.
 */
struct hasher *
hasher_start_reading(struct event_base *base, const char *path,
    hasher_done_fn done, void *arg)
{
	struct hasher	*h = hasher_start(base, path, done, arg);

	h->reading = 1;
	return h;
}

/* Stop a hasher before it finishes; its callback is not called. */
void
hasher_cancel(struct hasher *h)
{
	if (h != NULL)
		hasher_free(h);
}
