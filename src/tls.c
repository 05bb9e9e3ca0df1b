/*
 * tls.c: the TLS settings of both ends. Only TLS 1.3, only external
 * pre-shared keys (no certificates): a handshake succeeds only when both
 * ends hold the same key under the same name, and otherwise fails, so
 * that neither side says a word of the farm protocol to a stranger. The
 * key exchange still uses Diffie-Hellman, so recorded traffic stays
 * secret even if a key leaks later.
 */
#include "bdfarm.h"
#include "tls.h"

#include <openssl/err.h>
#include <string.h>

#include "log.h"

/* The suite both ends use: its hash must match the key's session. */
#define TLS_CIPHERSUITE		"TLS_AES_128_GCM_SHA256"

static const unsigned char tls_aes128gcmsha256_id[] = { 0x13, 0x01 };

/* How the server finds a client's key; there is one server per process. */
static tls_find_fn	tls_server_find;

/*
 * A context with what both ends share: TLS 1.3, one suite, no tickets
 * (every connection proves the key again).
 */
static SSL_CTX *
tls_ctx(const SSL_METHOD *method)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(method)) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLS_CIPHERSUITE) != 1)
		fatalx("cannot set up TLS: %s", tls_error(ERR_get_error()));
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* A peer that just closes has ended, as in plain text. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	SSL_CTX_set_num_tickets(ctx, 0);
	return ctx;
}

/* A session that carries key as the pre-shared key, or NULL. */
static SSL_SESSION *
tls_session(SSL *ssl, const unsigned char *key)
{
	const SSL_CIPHER	*cipher;
	SSL_SESSION		*sess;

	cipher = SSL_CIPHER_find(ssl, tls_aes128gcmsha256_id);
	if (cipher == NULL || (sess = SSL_SESSION_new()) == NULL)
		return NULL;
	if (SSL_SESSION_set1_master_key(sess, key, KEYS_SIZE) != 1 ||
	    SSL_SESSION_set_cipher(sess, cipher) != 1 ||
	    SSL_SESSION_set_protocol_version(sess, TLS1_3_VERSION) != 1) {
		SSL_SESSION_free(sess);
		return NULL;
	}
	return sess;
}

/* The server's side: the client named a key; refuse a name it lacks. */
static int
tls_find_session(SSL *ssl, const unsigned char *identity, size_t len,
    SSL_SESSION **sess)
{
	char		name[KEYS_NAME_MAX + 1];
	unsigned char	key[KEYS_SIZE];

	*sess = NULL;
	if (len == 0 || len > KEYS_NAME_MAX || memchr(identity, '\0', len))
		return 0;
	memcpy(name, identity, len);
	name[len] = '\0';
	if (!keys_valid_name(name) ||
	    tls_server_find(SSL_get_app_data(ssl), name, key) != 0)
		return 0;
	*sess = tls_session(ssl, key);
	explicit_bzero(key, sizeof key);
	return *sess != NULL;
}

/* The client's side: offer its key under its name. */
static int
tls_use_session(SSL *ssl, const EVP_MD *md, const unsigned char **id,
    size_t *idlen, SSL_SESSION **sess)
{
	const struct tls_psk	*psk = SSL_get_app_data(ssl);

	*sess = tls_session(ssl, psk->key);
	if (*sess == NULL)
		return 0;
	if (md != NULL &&
	    md != SSL_CIPHER_get_handshake_digest(SSL_SESSION_get0_cipher(
	    *sess))) {
		/* The server picked a suite this key was not made for. */
		SSL_SESSION_free(*sess);
		*sess = NULL;
		return 1;
	}
	*id = (const unsigned char *)psk->name;
	*idlen = strlen(psk->name);
	return 1;
}

/* The server's context; find looks up the key of a client's name. */
SSL_CTX *
tls_server_ctx(tls_find_fn find)
{
	SSL_CTX	*ctx = tls_ctx(TLS_server_method());

	tls_server_find = find;
	SSL_CTX_set_psk_find_session_callback(ctx, tls_find_session);
	return ctx;
}

/* A server end of a new connection; arg goes to the find function. */
SSL *
tls_server_new(SSL_CTX *ctx, void *arg)
{
	SSL	*ssl;

	if ((ssl = SSL_new(ctx)) == NULL)
		fatalx("cannot set up TLS: %s", tls_error(ERR_get_error()));
	SSL_set_app_data(ssl, arg);
	return ssl;
}

/* The client's context. */
SSL_CTX *
tls_client_ctx(void)
{
	SSL_CTX	*ctx = tls_ctx(TLS_client_method());

	SSL_CTX_set_psk_use_session_callback(ctx, tls_use_session);
	return ctx;
}

/* A client end of a new connection, proving itself with psk. */
SSL *
tls_client_new(SSL_CTX *ctx, const struct tls_psk *psk)
{
	SSL	*ssl;

	if ((ssl = SSL_new(ctx)) == NULL)
		fatalx("cannot set up TLS: %s", tls_error(ERR_get_error()));
	/* OpenSSL only reads through the pointer. */
	SSL_set_app_data(ssl, (void *)(uintptr_t)psk);
	return ssl;
}

/* What an OpenSSL error code means, for a log line. */
const char *
tls_error(unsigned long e)
{
	const char	*reason;

	if (e == 0)
		return _("the connection ended during the handshake");
	reason = ERR_reason_error_string(e);
	return reason != NULL ? reason : _("unknown TLS error");
}
