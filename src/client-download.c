/*
 * client-download.c: a payload from the server (a .blend file or a new
 * program) streamed into a temporary file beside its destination, hashed
 * on the way, and moved into place only once it is whole and verified, so
 * that no reader ever sees half a file.
 */
#include "bdfarm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "digest.h"
#include "xmalloc.h"

#define CLIENT_DOWNLOAD_HEAD	64	/* bytes kept for a format check */

struct client_download {
	int		 fd;
	char		*tmp;
	char		*dest;
	struct digest	*digest;
	unsigned char	 head[CLIENT_DOWNLOAD_HEAD];
	size_t		 headlen;
};

/* Release a download, deleting its temporary file. */
void
client_download_abort(struct client_download *d)
{
	if (d == NULL)
		return;
	if (d->fd != -1)
		close(d->fd);
	if (d->tmp != NULL)
		unlink(d->tmp);
	digest_free(d->digest);
	free(d->tmp);
	free(d->dest);
	free(d);
}

/* Open a temporary file for dest in dest's folder. */
struct client_download *
client_download_start(const char *dest, char **cause)
{
	struct client_download	*d = xcalloc(1, sizeof *d);

	d->dest = xstrdup(dest);
	xasprintf(&d->tmp, "%s.part-XXXXXX", dest);
	if ((d->fd = mkostemp(d->tmp, O_CLOEXEC)) == -1) {
		xasprintf(cause, _("cannot create a file beside %s: %s"),
		    d->dest, strerror(errno));
		free(d->tmp);
		d->tmp = NULL;
		client_download_abort(d);
		return NULL;
	}
	d->digest = digest_new();
	return d;
}

/* Append len bytes; -1 with a reason if the disk refuses them. */
int
client_download_write(struct client_download *d, const void *data,
    size_t len, char **cause)
{
	const char	*p = data;
	size_t		 take;
	ssize_t		 n;

	digest_update(d->digest, data, len);
	if (d->headlen < sizeof d->head) {
		take = sizeof d->head - d->headlen;
		if (take > len)
			take = len;
		memcpy(d->head + d->headlen, data, take);
		d->headlen += take;
	}
	while (len > 0) {
		if ((n = write(d->fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			xasprintf(cause, _("cannot write %s: %s"), d->dest,
			    strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The first bytes received so far, for a check of the file's format. */
const unsigned char *
client_download_head(struct client_download *d, size_t *len)
{
	*len = d->headlen;
	return d->head;
}

/*
 * Check the digest (if one is expected), flush, set the mode and move the
 * file into place. The download is released either way.
 */
int
client_download_finish(struct client_download *d, const char *expected,
    mode_t mode, char **cause)
{
	char	hex[DIGEST_HEX_SIZE];

	digest_final(d->digest, hex);
	if (expected != NULL && strcmp(hex, expected) != 0) {
		xasprintf(cause, _("%s: wrong digest %s, expected %s"),
		    d->dest, hex, expected);
		goto fail;
	}
	if (fchmod(d->fd, mode) == -1 || fsync(d->fd) == -1) {
		xasprintf(cause, _("cannot write %s: %s"), d->dest,
		    strerror(errno));
		goto fail;
	}
	if (close(d->fd) == -1) {
		d->fd = -1;
		xasprintf(cause, _("cannot write %s: %s"), d->dest,
		    strerror(errno));
		goto fail;
	}
	d->fd = -1;
	if (rename(d->tmp, d->dest) == -1) {
		xasprintf(cause, _("cannot rename %s to %s: %s"), d->tmp,
		    d->dest, strerror(errno));
		goto fail;
	}
	free(d->tmp);
	d->tmp = NULL;
	client_download_abort(d);
	return 0;

fail:
	client_download_abort(d);
	return -1;
}
