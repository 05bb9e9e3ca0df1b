/*
 * keys.c: the keys table and its text forms. A keys file has one key per
 * line, "NAME HEX", where HEX is the key's 32 bytes in 64 hexadecimal
 * digits; blank lines and lines that start with '#' are ignored. A token,
 * what a friend is given to join, is "NAME:HEX".
 */
#include "bdfarm.h"
#include "keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/*
 * Whether s can name a key: 1 to KEYS_NAME_MAX letters, digits, dots,
 * dashes or underscores, so that it is one token on the wire and a host
 * name on the server.
 */
int
keys_valid_name(const char *s)
{
	size_t	len = strlen(s);

	if (len == 0 || len > KEYS_NAME_MAX)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}

/* The value of one hexadecimal digit, or -1. */
static int
keys_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode exactly KEYS_SIZE bytes of hexadecimal from s; -1 if not that. */
static int
keys_decode(const char *s, size_t len, unsigned char *key)
{
	size_t	i;
	int	hi, lo;

	if (len != KEYS_SIZE * 2)
		return -1;
	for (i = 0; i < KEYS_SIZE; i++) {
		if ((hi = keys_hex_digit(s[2 * i])) == -1 ||
		    (lo = keys_hex_digit(s[2 * i + 1])) == -1)
			return -1;
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* Encode a key as 64 lower-case hexadecimal digits and a terminator. */
static void
keys_encode(const unsigned char *key, char *out)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < KEYS_SIZE; i++) {
		out[2 * i] = digits[key[i] >> 4];
		out[2 * i + 1] = digits[key[i] & 0xf];
	}
	out[2 * KEYS_SIZE] = '\0';
}

/* Release every key of a table; it is empty again. */
void
keys_free(struct keys *k)
{
	size_t	i;

	for (i = 0; i < k->n; i++) {
		free(k->v[i].name);
		explicit_bzero(k->v[i].key, sizeof k->v[i].key);
	}
	free(k->v);
	k->v = NULL;
	k->n = 0;
}

/* The key of that name, or NULL. */
const struct keys_entry *
keys_find(const struct keys *k, const char *name)
{
	size_t	i;

	for (i = 0; i < k->n; i++) {
		if (strcmp(k->v[i].name, name) == 0)
			return &k->v[i];
	}
	return NULL;
}

/* Add a key, or replace the one of the same name. */
void
keys_set(struct keys *k, const char *name, const unsigned char *key)
{
	struct keys_entry	*e = NULL;
	size_t			 i;

	for (i = 0; i < k->n && e == NULL; i++) {
		if (strcmp(k->v[i].name, name) == 0)
			e = &k->v[i];
	}
	if (e == NULL) {
		k->v = xreallocarray(k->v, k->n + 1, sizeof *k->v);
		e = &k->v[k->n++];
		e->name = xstrdup(name);
	}
	memcpy(e->key, key, KEYS_SIZE);
}

/* Remove the key of that name; -1 if there is none. */
int
keys_remove(struct keys *k, const char *name)
{
	size_t	i;

	for (i = 0; i < k->n; i++) {
		if (strcmp(k->v[i].name, name) == 0)
			break;
	}
	if (i == k->n)
		return -1;
	free(k->v[i].name);
	explicit_bzero(k->v[i].key, sizeof k->v[i].key);
	memmove(&k->v[i], &k->v[i + 1], (k->n - i - 1) * sizeof *k->v);
	k->n--;
	return 0;
}

/*
 * Read a keys file's text into k, which must be empty; -1 and *cause (the
 * line and what is wrong with it) if any line is not a key.
 */
int
keys_parse(struct keys *k, const char *text, size_t len, char **cause)
{
	const char	*line = text, *end = text + len, *eol, *sp;
	unsigned char	 key[KEYS_SIZE];
	char		*name;
	size_t		 n;
	int		 lineno = 0;

	for (; line < end; line = eol + 1) {
		lineno++;
		if ((eol = memchr(line, '\n', (size_t)(end - line))) == NULL)
			eol = end;
		n = (size_t)(eol - line);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n == 0 || line[0] == '#')
			continue;
		if ((sp = memchr(line, ' ', n)) == NULL)
			goto bad;
		name = xstrndup(line, (size_t)(sp - line));
		if (!keys_valid_name(name) || keys_find(k, name) != NULL ||
		    keys_decode(sp + 1, n - (size_t)(sp + 1 - line),
		    key) != 0) {
			free(name);
			goto bad;
		}
		keys_set(k, name, key);
		free(name);
	}
	explicit_bzero(key, sizeof key);
	return 0;
bad:
	xasprintf(cause, _("line %d is not a unique NAME and a key of %d "
	    "hexadecimal digits"), lineno, KEYS_SIZE * 2);
	keys_free(k);
	return -1;
}

/* The text of a keys file that holds k. */
char *
keys_format(const struct keys *k)
{
	char	*text = xstrdup(""), *more, hex[KEYS_SIZE * 2 + 1];
	size_t	 i;

	for (i = 0; i < k->n; i++) {
		keys_encode(k->v[i].key, hex);
		xasprintf(&more, "%s%s %s\n", text, k->v[i].name, hex);
		explicit_bzero(text, strlen(text));
		free(text);
		text = more;
	}
	explicit_bzero(hex, sizeof hex);
	return text;
}

/* The token that hands the key of that name to a friend: NAME:HEX. */
char *
keys_token(const char *name, const unsigned char *key)
{
	char	*token, hex[KEYS_SIZE * 2 + 1];

	keys_encode(key, hex);
	xasprintf(&token, "%s:%s", name, hex);
	explicit_bzero(hex, sizeof hex);
	return token;
}

/* Split a token into its name (allocated) and key; -1 if it is not one. */
int
keys_parse_token(const char *token, char **name, unsigned char *key)
{
	const char	*colon = strrchr(token, ':');

	if (colon == NULL)
		return -1;
	*name = xstrndup(token, (size_t)(colon - token));
	if (!keys_valid_name(*name) ||
	    keys_decode(colon + 1, strlen(colon + 1), key) != 0) {
		free(*name);
		*name = NULL;
		return -1;
	}
	return 0;
}
