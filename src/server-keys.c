/*
 * server-keys.c: the keys file of a server, JOBDIR/.bdfarm.keys, mode
 * 0600, one line per client that may connect over TLS ("NAME HEX", see
 * keys.c). "bdfarm --invite NAME" adds a key to it and "--revoke NAME"
 * takes one out; the running server notices any change within a second,
 * or at once when a client starts a handshake, and cuts the connections
 * of a key that is gone or replaced. The console revokes a key through
 * the running server, which cuts its connections at once.
 */
#include "bdfarm.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "keys.h"
#include "log.h"
#include "netrange.h"
#include "server.h"
#include "settings.h"
#include "tls.h"
#include "xmalloc.h"

#define SERVER_KEYS_FILE	".bdfarm.keys"
#define SERVER_KEYS_MAX		((size_t)1 << 20)	/* bytes of the file */

/* The keys file's path in a job folder. */
static char *
server_keys_path(const char *jobdir)
{
	char	*path;

	xasprintf(&path, "%s/%s", jobdir, SERVER_KEYS_FILE);
	return path;
}

/* Read a keys file into k (empty); a missing file holds no keys. */
static int
server_keys_read(const char *path, struct keys *k, char **cause)
{
	char	*text = NULL, *why = NULL;
	size_t	 len;
	int	 rc;

	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	if (fileio_read_small(path, SERVER_KEYS_MAX, &text, &len, cause) != 0)
		return -1;
	rc = keys_parse(k, text, len, &why);
	explicit_bzero(text, len);
	free(text);
	if (rc != 0) {
		xasprintf(cause, "%s: %s", path, why);
		free(why);
	}
	return rc;
}

/* Find the key of a TLS client's name for the handshake of peer arg. */
static int
server_keys_peer_find(void *arg, const char *name, unsigned char *key)
{
	struct peer	*p = arg;

	if (server_keys_find(p->server, name, key) != 0) {
		log_info(_("%s: refused over TLS: no key is named %s"),
		    p->addr, name);
		return -1;
	}
	snprintf(p->key_name, sizeof p->key_name, "%s", name);
	memcpy(p->key, key, KEYS_SIZE);
	return 0;
}

/* Set up what tells who may connect: the keys, TLS, plain_allow. */
void
server_keys_open(struct server *s)
{
	char	*cause = NULL;

	s->keys_path = server_keys_path(s->options->jobdir);
	s->tls = tls_server_ctx(server_keys_peer_find);
	if (netrange_parse(s->settings->plain_allow, &s->plain_allow,
	    &s->nplain_allow, &cause) != 0)
		fatalx("plain_allow: %s", cause);
	server_keys_refresh(s);
}

/*
 * Read the keys file again and cut the connections of any key that is gone
 * or replaced. A file that cannot be used lets nobody in over TLS until it
 * is fixed, rather than keep a key that was meant to go.
 */
static void
server_keys_load(struct server *s, const struct file_id *id)
{
	struct peer	*p, *next;
	struct keys	 fresh = { NULL, 0 };
	char		*cause = NULL;

	s->keys_id = *id;
	if (server_keys_read(s->keys_path, &fresh, &cause) != 0) {
		log_warnx(_("%s; no client can connect over TLS until it is "
		    "fixed"), cause);
		free(cause);
	}
	keys_free(&s->keys);
	s->keys = fresh;
	log_debug("%s: %zu keys", s->keys_path, s->keys.n);
	TAILQ_FOREACH_SAFE(p, &s->peers, entry, next)
		peer_check_key(p);
}

/* The identity of the keys file now; all zero if there is none. */
static void
server_keys_id(struct server *s, struct file_id *id)
{
	struct stat	st;

	memset(id, 0, sizeof *id);
	if (stat(s->keys_path, &st) == 0)
		fileio_id(&st, id);
}

/* Read the keys file again if it changed. */
void
server_keys_refresh(struct server *s)
{
	struct file_id	id;

	server_keys_id(s, &id);
	if (!fileio_id_equal(&id, &s->keys_id))
		server_keys_load(s, &id);
}

/*
 * Take the key of name out of the keys file at path, which stays 0600;
 * -1 and *cause if it holds no such key or cannot be written. The copy
 * that writing leaves beside it, which still holds the key, is removed.
 */
static int
server_keys_remove(const char *path, const char *name, char **cause)
{
	struct keys	 k = { NULL, 0 };
	char		*text, *previous;
	int		 rc = -1;

	if (server_keys_read(path, &k, cause) != 0)
		return -1;
	if (keys_remove(&k, name) != 0) {
		xasprintf(cause, _("%s holds no key named %s"), path, name);
		goto out;
	}
	text = keys_format(&k);
	rc = fileio_write_atomic(path, text, strlen(text), 0600, cause);
	explicit_bzero(text, strlen(text));
	free(text);
	if (rc == 0) {
		xasprintf(&previous, "%s.previous", path);
		unlink(previous);
		free(previous);
	}
out:
	keys_free(&k);
	return rc;
}

/*
 * Revoke the key of name: take it out of the keys file and cut its
 * connections now rather than at the next look at the file; -1 and
 * *cause if that cannot be done.
 */
int
server_keys_revoke(struct server *s, const char *name, char **cause)
{
	struct file_id	id;

	if (server_keys_remove(s->keys_path, name, cause) != 0)
		return -1;
	log_info(_("the key %s is revoked"), name);
	server_keys_id(s, &id);
	server_keys_load(s, &id);
	return 0;
}

/* The key of a client's name, read again if the file changed; -1 if none. */
int
server_keys_find(struct server *s, const char *name, unsigned char *key)
{
	const struct keys_entry	*e;

	server_keys_refresh(s);
	if ((e = keys_find(&s->keys, name)) == NULL)
		return -1;
	memcpy(key, e->key, KEYS_SIZE);
	return 0;
}

/* Forget the keys and the TLS context. */
void
server_keys_close(struct server *s)
{
	keys_free(&s->keys);
	SSL_CTX_free(s->tls);
	free(s->plain_allow);
	free(s->keys_path);
}

/*
 * The --invite command: make a new random key for name, which must be
 * valid, in the keys file of jobdir (replacing any key of that name) and
 * print the command line that lets a friend join. Returns the exit code.
 */
int
server_keys_invite(const struct settings *set, const char *port,
    const char *jobdir, const char *name)
{
	struct keys	 k = { NULL, 0 };
	unsigned char	 key[KEYS_SIZE];
	char		*path, *text, *token, *cause = NULL;
	const char	*host = set->listen;
	int		 rc = 1;

	if (fileio_check_dir(jobdir, &cause) != 0) {
		fprintf(stderr, "%s: %s\n", PACKAGE, cause);
		free(cause);
		return 1;
	}
	path = server_keys_path(jobdir);
	if (server_keys_read(path, &k, &cause) != 0)
		goto out;
	if (RAND_bytes(key, sizeof key) != 1) {
		cause = xstrdup(_("cannot make a random key"));
		goto out;
	}
	keys_set(&k, name, key);
	text = keys_format(&k);
	if (fileio_write_atomic(path, text, strlen(text), 0600, &cause) == 0)
		rc = 0;
	explicit_bzero(text, strlen(text));
	free(text);
	if (rc != 0)
		goto out;
	token = keys_token(name, key);
	if (*host == '\0' || strcmp(host, "0.0.0.0") == 0 ||
	    strcmp(host, "::") == 0)
		host = "HOST";
	printf("%s --client %s %s --join %s\n", PACKAGE, host,
	    port != NULL ? port : "PORT", token);
	fflush(stdout);
	explicit_bzero(token, strlen(token));
	free(token);
	fprintf(stderr, _("%s: a key for %s is in %s; give the line above to "
	    "%s only, over a channel you trust%s\n"), PACKAGE, name, path, name,
	    strcmp(host, "HOST") == 0 ? _(", with HOST replaced by the address "
	    "at which this server is reached") : "");
out:
	if (cause != NULL) {
		fprintf(stderr, "%s: %s\n", PACKAGE, cause);
		free(cause);
	}
	explicit_bzero(key, sizeof key);
	keys_free(&k);
	free(path);
	return rc;
}

/*
 * The --revoke command: take the key of name out of the keys file of
 * jobdir; a running server cuts its connections within a second. Returns
 * the exit code.
 */
int
server_keys_revoke_command(const char *jobdir, const char *name)
{
	char	*path, *cause = NULL;
	int	 rc = 1;

	if (fileio_check_dir(jobdir, &cause) == 0) {
		path = server_keys_path(jobdir);
		if (server_keys_remove(path, name, &cause) == 0) {
			fprintf(stderr, _("%s: the key %s is gone from %s; a "
			    "running server cuts its connections within a "
			    "second\n"), PACKAGE, name, path);
			rc = 0;
		}
		free(path);
	}
	if (cause != NULL) {
		fprintf(stderr, "%s: %s\n", PACKAGE, cause);
		free(cause);
	}
	return rc;
}
