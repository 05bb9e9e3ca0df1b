/*
 * client-keys.c: the keys a client holds, one per server, in its own
 * configuration folder: $XDG_CONFIG_HOME/bdfarm/keys (by default
 * ~/.config/bdfarm/keys), mode 0600, one line "HOST PORT NAME:HEX" per
 * server as --join was given it. A client that holds a key for the
 * server it runs for always speaks TLS with it.
 */
#include "bdfarm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "fileio.h"
#include "keys.h"
#include "log.h"
#include "tls.h"
#include "xmalloc.h"

#define CLIENT_KEYS_MAX		((size_t)1 << 20)	/* bytes of the file */

/* The folder of the keys file, or NULL if there is no home to put it in. */
static char *
client_keys_dir(void)
{
	const char	*xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char		*dir;

	if (xdg != NULL && *xdg != '\0')
		xasprintf(&dir, "%s/bdfarm", xdg);
	else if (home != NULL && *home != '\0')
		xasprintf(&dir, "%s/.config/bdfarm", home);
	else
		return NULL;
	return dir;
}

/*
 * Read the keys file: its text (empty if there is none) and path (NULL
 * without a configuration folder); -1 and *cause if it cannot be read.
 */
static int
client_keys_read(char **path, char **text, char **cause)
{
	char	*dir = client_keys_dir();
	size_t	 len;

	*text = NULL;
	*path = NULL;
	if (dir == NULL) {
		/* No home, no keys: the client speaks plain text. */
		*text = xstrdup("");
		return 0;
	}
	xasprintf(path, "%s/keys", dir);
	free(dir);
	if (access(*path, F_OK) != 0 && errno == ENOENT) {
		*text = xstrdup("");
		return 0;
	}
	return fileio_read_small(*path, CLIENT_KEYS_MAX, text, &len, cause);
}

/*
 * Whether line is the one for host and port; its token is then put in
 * *token, pointing into line, which is changed.
 */
static int
client_keys_line(char *line, const char *host, const char *port,
    char **token)
{
	char	*t[4], *last = NULL;
	int	 n = 0;

	for (t[n] = strtok_r(line, " \t\r", &last); t[n] != NULL && n < 3;
	    t[n] = strtok_r(NULL, " \t\r", &last))
		n++;
	if (n != 3 || t[3] != NULL || strcmp(t[0], host) != 0 ||
	    strcmp(t[1], port) != 0)
		return 0;
	*token = t[2];
	return 1;
}

/*
 * The key held for the server at host and port: 1 and psk, 0 if none,
 * -1 (logged) if the keys file cannot be read or the line is not a key.
 */
int
client_keys_find(const char *host, const char *port, struct tls_psk *psk)
{
	char	*path = NULL, *text, *rest, *line, *token, *name, *cause = NULL;
	size_t	 size;
	int	 rc = 0;

	if (client_keys_read(&path, &text, &cause) != 0) {
		log_warnx("%s", cause);
		free(cause);
		free(path);
		return -1;
	}
	/* The whole text is wiped at the end, though lines get cut. */
	size = strlen(text);
	rest = text;
	while (rc == 0 && (line = strsep(&rest, "\n")) != NULL) {
		if (!client_keys_line(line, host, port, &token))
			continue;
		if (keys_parse_token(token, &name, psk->key) != 0) {
			log_warnx(_("%s: the key for %s port %s is not one "
			    "from --invite"), path, host, port);
			rc = -1;
			break;
		}
		snprintf(psk->name, sizeof psk->name, "%s", name);
		free(name);
		rc = 1;
	}
	explicit_bzero(text, size);
	free(text);
	free(path);
	return rc;
}

/*
 * The --join option: keep the key of token for the server at host and
 * port, replacing any other key for it. Returns 0, or -1 after saying why
 * on standard error.
 */
int
client_keys_join(const char *host, const char *port, const char *token)
{
	unsigned char	 key[KEYS_SIZE];
	char		*path = NULL, *text = NULL, *out, *more, *line, *next;
	char		*copy, *dir, *name = NULL, *cause = NULL, *found;
	size_t		 size = 0;
	int		 rc = -1;

	if (keys_parse_token(token, &name, key) != 0) {
		fprintf(stderr, _("%s: --join: not a token from --invite\n"),
		    PACKAGE);
		return -1;
	}
	explicit_bzero(key, sizeof key);
	if ((dir = client_keys_dir()) != NULL) {
		copy = xstrdup(dir);
		*strrchr(copy, '/') = '\0';
		if ((mkdir(copy, 0700) == -1 && errno != EEXIST) ||
		    (mkdir(dir, 0700) == -1 && errno != EEXIST))
			xasprintf(&cause, _("cannot create %s: %s"), dir,
			    strerror(errno));
		free(copy);
		free(dir);
	}
	if (cause != NULL || client_keys_read(&path, &text, &cause) != 0)
		goto out;
	/* The whole text is wiped at the end, though lines get cut. */
	size = strlen(text);
	if (path == NULL) {
		cause = xstrdup(_("neither XDG_CONFIG_HOME nor HOME is set"));
		goto out;
	}
	out = xstrdup("");
	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		copy = xstrdup(line);
		if (!client_keys_line(copy, host, port, &found)) {
			xasprintf(&more, "%s%s\n", out, line);
			explicit_bzero(out, strlen(out));
			free(out);
			out = more;
		}
		/* The parser cut copy; line has its whole length. */
		explicit_bzero(copy, strlen(line));
		free(copy);
	}
	xasprintf(&more, "%s%s %s %s\n", out, host, port, token);
	explicit_bzero(out, strlen(out));
	free(out);
	if (fileio_write_atomic(path, more, strlen(more), 0600, &cause) == 0) {
		rc = 0;
		log_info(_("keeping the key %s for %s port %s in %s"), name,
		    host, port, path);
	}
	explicit_bzero(more, strlen(more));
	free(more);
out:
	if (cause != NULL) {
		fprintf(stderr, "%s: %s\n", PACKAGE, cause);
		free(cause);
	}
	if (text != NULL) {
		explicit_bzero(text, size);
		free(text);
	}
	free(name);
	free(path);
	return rc;
}
