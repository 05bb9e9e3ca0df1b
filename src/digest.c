/*
 * digest.c: MD5 through OpenSSL's EVP interface, and the hasher that
 * reads a file one slice per event-loop turn. A slice is small enough
 * (1 MiB) that other peers wait at most a millisecond or two for it.
 */
#include "digest.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bdfarm.h"
#include "log.h"
#include "xmalloc.h"

#define HASHER_SLICE	(1024 * 1024)

struct digest {
	EVP_MD_CTX	*ctx;
};

struct hasher {
	int		 fd;
	char		*path;
	struct stat	 st;
	struct digest	*digest;
	struct event	*ev;
	unsigned char	*buf;
	hasher_done_fn	 done;
	void		*arg;
};

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

/* Release everything a hasher holds. */
static void
hasher_free(struct hasher *h)
{
	if (h->fd != -1)
		close(h->fd);
	if (h->ev != NULL)
		event_free(h->ev);
	digest_free(h->digest);
	free(h->buf);
	free(h->path);
	free(h);
}

/*
 * Run the next slice after the loop has polled for I/O: a zero timeout,
 * unlike event_active(), lets every peer's events in between.
 */
static void
hasher_schedule(struct hasher *h)
{
	const struct timeval	zero = { 0, 0 };

	event_add(h->ev, &zero);
}

/* Read and hash one slice; finish when the file ends or fails. */
static void
hasher_slice(evutil_socket_t fd, short events, void *arg)
{
	struct hasher	*h = arg;
	char		 hex[DIGEST_HEX_SIZE], *error = NULL;
	struct stat	 st;
	ssize_t		 n;

	n = read(h->fd, h->buf, HASHER_SLICE);
	if (n > 0) {
		digest_update(h->digest, h->buf, (size_t)n);
		hasher_schedule(h);
		return;
	}
	if (n == -1)
		xasprintf(&error, "%s: %s", h->path, strerror(errno));
	else if (fstat(h->fd, &st) == -1 || st.st_size != h->st.st_size ||
	    st.st_mtim.tv_sec != h->st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != h->st.st_mtim.tv_nsec)
		xasprintf(&error, _("%s: changed while being read"), h->path);

	if (error != NULL)
		h->done(NULL, &h->st, error, h->arg);
	else {
		digest_final(h->digest, hex);
		h->done(hex, &h->st, NULL, h->arg);
	}
	free(error);
	hasher_free(h);
}

/*
 * Start hashing path in slices on base; done is called exactly once,
 * unless the hasher is cancelled first. Returns NULL and calls nothing if
 * the file cannot be opened (errno says why).
 */
struct hasher *
hasher_start(struct event_base *base, const char *path, hasher_done_fn done,
    void *arg)
{
	struct hasher	*h;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	h = xcalloc(1, sizeof *h);
	h->fd = fd;
	if (fstat(fd, &h->st) == -1 || !S_ISREG(h->st.st_mode)) {
		saved = S_ISREG(h->st.st_mode) ? errno : EINVAL;
		hasher_free(h);
		errno = saved;
		return NULL;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	h->path = xstrdup(path);
	h->digest = digest_new();
	h->buf = xmalloc(HASHER_SLICE);
	h->done = done;
	h->arg = arg;
	h->ev = evtimer_new(base, hasher_slice, h);
	hasher_schedule(h);
	return h;
}

/* Stop a hasher before it finishes; its callback is not called. */
void
hasher_cancel(struct hasher *h)
{
	if (h != NULL)
		hasher_free(h);
}
