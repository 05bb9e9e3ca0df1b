/*
 * keys.h: the named secret keys that let a client in over TLS, and the
 * token that hands one to a friend. Pure text handling, no file I/O.
 */
#ifndef KEYS_H
#define KEYS_H

#include <stddef.h>

#define KEYS_SIZE	32	/* bytes of one key */
#define KEYS_NAME_MAX	64	/* characters of a key's name */

struct keys_entry {
	char		*name;
	unsigned char	 key[KEYS_SIZE];
};

/* A table of keys, one per name. */
struct keys {
	struct keys_entry	*v;
	size_t			 n;
};

int			 keys_valid_name(const char *);
int			 keys_parse(struct keys *, const char *, size_t,
			     char **);
void			 keys_free(struct keys *);
const struct keys_entry	*keys_find(const struct keys *, const char *);
void			 keys_set(struct keys *, const char *,
			     const unsigned char *);
int			 keys_remove(struct keys *, const char *);
char			*keys_format(const struct keys *);
char			*keys_token(const char *, const unsigned char *);
int			 keys_parse_token(const char *, char **,
			     unsigned char *);

#endif
