/*
 * tls.h: TLS 1.3 with external pre-shared keys, as OpenSSL does it: the
 * key's name is the identity, the key proves both ends to each other.
 */
#ifndef TLS_H
#define TLS_H

#include <openssl/ssl.h>

#include "keys.h"

/* The key a client proves itself with, and the server with it. */
struct tls_psk {
	char		 name[KEYS_NAME_MAX + 1];
	unsigned char	 key[KEYS_SIZE];
};

/*
 * Find the key of a name for the connection whose argument is arg:
 * 0 and the key, or -1 to refuse the connection.
 */
typedef int (*tls_find_fn)(void *arg, const char *name, unsigned char *key);

SSL_CTX		*tls_server_ctx(tls_find_fn);
SSL		*tls_server_new(SSL_CTX *, void *);
SSL_CTX		*tls_client_ctx(void);
SSL		*tls_client_new(SSL_CTX *, const struct tls_psk *);
const char	*tls_error(unsigned long);

#endif
