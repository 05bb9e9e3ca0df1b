/*
 * selfexe.c: the running program's file. Its MD5 is what HELO announces;
 * when the file is replaced by a new, complete executable, the server
 * re-executes it, handing its listening sockets over through the
 * environment so that no client ever sees a refused connection.
 */
#include "selfexe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bdfarm.h"
#include "digest.h"
#include "farm.h"
#include "fileio.h"
#include "log.h"
#include "xmalloc.h"

#define SELFEXE_FDS_ENV	"BDFARM_LISTEN_FDS"

struct selfexe {
	char		*path;
	char		 digest[DIGEST_HEX_SIZE];
	struct file_id	 id;		/* of the file now running */
	struct file_id	 candidate;	/* a replacement seen once */
	int		 have_candidate;
};

/* The MD5 of a whole file, read in pieces; -1 if it cannot be read. */
static int
selfexe_hash(const char *path, char hex[DIGEST_HEX_SIZE])
{
	struct digest	*d;
	char		 buf[65536];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	d = digest_new();
	while ((n = read(fd, buf, sizeof buf)) > 0)
		digest_update(d, buf, (size_t)n);
	close(fd);
	digest_final(d, hex);
	digest_free(d);
	return n == 0 ? 0 : -1;
}

/* Find and hash the running executable. */
struct selfexe *
selfexe_open(char **cause)
{
	struct selfexe	*se;
	char		 buf[PATH_MAX];
	struct stat	 st;
	ssize_t		 n;

	if ((n = readlink("/proc/self/exe", buf, sizeof buf - 1)) == -1) {
		xasprintf(cause, _("cannot find this program's file: %s"),
		    strerror(errno));
		return NULL;
	}
	buf[n] = '\0';
	se = xcalloc(1, sizeof *se);
	se->path = xstrdup(buf);
	if (stat(se->path, &st) == -1 || selfexe_hash(se->path,
	    se->digest) != 0) {
		xasprintf(cause, _("cannot read this program's file %s: %s"),
		    se->path, strerror(errno));
		selfexe_close(se);
		return NULL;
	}
	fileio_id(&st, &se->id);
	return se;
}

/* Where the program's file is. */
const char *
selfexe_path(struct selfexe *se)
{
	return se->path;
}

/* The MD5 of the program as it was when started. */
const char *
selfexe_digest(struct selfexe *se)
{
	return se->digest;
}

/*
 * Whether the program's file has been replaced by an executable that has
 * stayed the same since the previous call: a file still being written is
 * seen twice with different identities and so waits one more call.
 */
int
selfexe_replaced(struct selfexe *se)
{
	struct stat	st;
	struct file_id	id;

	if (stat(se->path, &st) == -1 || !S_ISREG(st.st_mode) ||
	    access(se->path, X_OK) != 0) {
		se->have_candidate = 0;
		return 0;
	}
	fileio_id(&st, &id);
	if (fileio_id_equal(&id, &se->id)) {
		se->have_candidate = 0;
		return 0;
	}
	if (se->have_candidate && fileio_id_equal(&id, &se->candidate))
		return 1;
	se->candidate = id;
	se->have_candidate = 1;
	return 0;
}

/*
 * Replace this process with the program's new file, keeping fds (the
 * listening sockets) open across the exec. Returns only on failure.
 */
void
selfexe_exec(struct selfexe *se, char **argv, const int *fds, int nfds)
{
	char	 list[256] = "", *p = list;
	int	 i, flags;

	for (i = 0; i < nfds; i++) {
		if ((flags = fcntl(fds[i], F_GETFD)) != -1)
			fcntl(fds[i], F_SETFD, flags & ~FD_CLOEXEC);
		p += snprintf(p, sizeof list - (size_t)(p - list), "%s%d",
		    i == 0 ? "" : ",", fds[i]);
	}
	setenv(SELFEXE_FDS_ENV, list, 1);
	execv(se->path, argv);
	log_warn(_("cannot run the new program %s"), se->path);
	unsetenv(SELFEXE_FDS_ENV);
	for (i = 0; i < nfds; i++) {
		if ((flags = fcntl(fds[i], F_GETFD)) != -1)
			fcntl(fds[i], F_SETFD, flags | FD_CLOEXEC);
	}
	se->id = se->candidate;
	se->have_candidate = 0;
}

/*
 * The listening sockets a previous instance handed over, if any: fills
 * fds (at most max) and returns how many; the variable is then cleared.
 */
int
selfexe_inherited_fds(int *fds, int max)
{
	const char	*list = getenv(SELFEXE_FDS_ENV);
	char		*copy, *tok, *save = NULL, *end;
	long		 v;
	int		 n = 0;

	if (list == NULL)
		return 0;
	copy = xstrdup(list);
	for (tok = strtok_r(copy, ",", &save); tok != NULL && n < max;
	    tok = strtok_r(NULL, ",", &save)) {
		v = strtol(tok, &end, 10);
		if (*end == '\0' && v > 2 && v < INT_MAX &&
		    fcntl((int)v, F_GETFD) != -1) {
			fcntl((int)v, F_SETFD, FD_CLOEXEC);
			fds[n++] = (int)v;
		}
	}
	free(copy);
	unsetenv(SELFEXE_FDS_ENV);
	return n;
}

/* Release what is known of the executable. */
void
selfexe_close(struct selfexe *se)
{
	if (se == NULL)
		return;
	free(se->path);
	free(se);
}
