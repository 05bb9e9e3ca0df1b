/*
 * fuzz-greeting.c: a libFuzzer target for what a stranger's first bytes
 * reach. Any bytes are fed as a ClientHello to a server end set up by
 * tls.c, in memory, whose key lookup searches a keys table; and parsed as
 * a keys file, a join token, a plain_allow list (each range then matched
 * against addresses) and a first HELO line, whose host is looked up among
 * the keys as the server does. What a parser accepts is checked against
 * what it promises.
 */
#include "bdfarm.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "keys.h"
#include "netrange.h"
#include "proto.h"
#include "tls.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Stop the run, so that libFuzzer keeps the input, when a promise breaks. */
#define FUZZ_ASSERT(e) do {						\
	if (!(e))							\
		abort();						\
} while (0)

/*
 * The server's keys. alice's key is the one the seed ClientHello was made
 * with, so that the seed gets past its binder to the server's answer.
 */
static const char fuzz_greeting_keys_text[] =
    "# a comment\n"
    "alice 0000000000000000000000000000000000000000000000000000000000000000\n"
    "bob.example_2 "
    "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\r\n";

static struct keys	 fuzz_greeting_keys;
static SSL_CTX		*fuzz_greeting_ctx;

/* A terminated copy of the input. */
static char *
fuzz_greeting_copy(const uint8_t *data, size_t size)
{
	char	*s;

	s = malloc(size + 1);
	FUZZ_ASSERT(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The server's key lookup, over the table; it is given only valid names. */
static int
fuzz_greeting_find(void *arg, const char *name, unsigned char *key)
{
	const struct keys_entry	*e;

	FUZZ_ASSERT(arg == &fuzz_greeting_keys);
	FUZZ_ASSERT(keys_valid_name(name));
	if ((e = keys_find(&fuzz_greeting_keys, name)) == NULL)
		return -1;
	memcpy(key, e->key, KEYS_SIZE);
	return 0;
}

/* Set up the keys table and the server's TLS context, once. */
static void
fuzz_greeting_init(void)
{
	char	*cause = NULL;

	if (fuzz_greeting_ctx != NULL)
		return;
	FUZZ_ASSERT(keys_parse(&fuzz_greeting_keys, fuzz_greeting_keys_text,
	    strlen(fuzz_greeting_keys_text), &cause) == 0);
	FUZZ_ASSERT(fuzz_greeting_keys.n == 2);
	fuzz_greeting_ctx = tls_server_ctx(fuzz_greeting_find);
}

/* Feed the input to a new server end as what the client sent first. */
static void
fuzz_greeting_handshake(const uint8_t *data, size_t size)
{
	SSL	*ssl;
	BIO	*in, *out;
	char	 buf[4096];
	int	 rc;

	ssl = tls_server_new(fuzz_greeting_ctx, &fuzz_greeting_keys);
	in = BIO_new(BIO_s_mem());
	out = BIO_new(BIO_s_mem());
	FUZZ_ASSERT(in != NULL && out != NULL);
	if (size > 0)
		FUZZ_ASSERT(BIO_write(in, data, (int)size) == (int)size);
	BIO_set_mem_eof_return(in, -1);
	SSL_set_bio(ssl, in, out);
	rc = SSL_accept(ssl);
	/* Without the client's Finished, no stranger gets through. */
	FUZZ_ASSERT(rc != 1);
	if (SSL_get_error(ssl, rc) == SSL_ERROR_WANT_READ)
		FUZZ_ASSERT(SSL_read(ssl, buf, sizeof buf) <= 0);
	while (BIO_read(out, buf, sizeof buf) > 0)
		;
	SSL_free(ssl);
	ERR_clear_error();
}

/* Parse the input as a keys file and check the table it made. */
static void
fuzz_greeting_keys_file(const uint8_t *data, size_t size)
{
	struct keys	 k = { NULL, 0 }, again = { NULL, 0 };
	char		*cause = NULL, *text;
	size_t		 i;

	if (keys_parse(&k, (const char *)data, size, &cause) != 0) {
		FUZZ_ASSERT(cause != NULL && k.n == 0 && k.v == NULL);
		free(cause);
		return;
	}
	for (i = 0; i < k.n; i++) {
		FUZZ_ASSERT(keys_valid_name(k.v[i].name));
		FUZZ_ASSERT(keys_find(&k, k.v[i].name) == &k.v[i]);
	}
	/* What the server writes back, it reads back the same. */
	text = keys_format(&k);
	FUZZ_ASSERT(keys_parse(&again, text, strlen(text), &cause) == 0);
	FUZZ_ASSERT(again.n == k.n);
	for (i = 0; i < k.n; i++) {
		FUZZ_ASSERT(strcmp(again.v[i].name, k.v[i].name) == 0);
		FUZZ_ASSERT(memcmp(again.v[i].key, k.v[i].key, KEYS_SIZE) == 0);
	}
	free(text);
	keys_free(&again);
	keys_free(&k);
	FUZZ_ASSERT(k.n == 0 && k.v == NULL);
}

/* Parse the input as a join token and check it makes itself again. */
static void
fuzz_greeting_token(const uint8_t *data, size_t size)
{
	char		*token = fuzz_greeting_copy(data, size), *name, *again;
	char		*name2;
	unsigned char	 key[KEYS_SIZE], key2[KEYS_SIZE];

	if (keys_parse_token(token, &name, key) == 0) {
		FUZZ_ASSERT(keys_valid_name(name));
		again = keys_token(name, key);
		FUZZ_ASSERT(strcasecmp(again, token) == 0);
		FUZZ_ASSERT(keys_parse_token(again, &name2, key2) == 0);
		FUZZ_ASSERT(strcmp(name, name2) == 0);
		FUZZ_ASSERT(memcmp(key, key2, KEYS_SIZE) == 0);
		free(name2);
		free(again);
		free(name);
	}
	free(token);
}

/* Whether ranges match an address of a family, given as bytes. */
static int
fuzz_greeting_match(const struct netrange *r, size_t n, int family,
    const unsigned char *addr)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;

	if (family == AF_INET) {
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, addr, 4);
		return netrange_match(r, n, (struct sockaddr *)&sin);
	}
	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	memcpy(&sin6.sin6_addr, addr, 16);
	return netrange_match(r, n, (struct sockaddr *)&sin6);
}

/*
 * Parse the input as plain_allow: every range holds its own address, an
 * IPv4 one also as it reaches an IPv6 socket, and a range written as
 * mapped IPv4 has become IPv4 (an IPv6 range shorter than that holds no
 * IPv4 client, not even at its own address); and a few fixed addresses
 * are matched for whatever the ranges say.
 */
static void
fuzz_greeting_netrange(const uint8_t *data, size_t size)
{
	static const char	*others[] = { "127.0.0.1", "10.1.2.3",
				    "255.255.255.255", "::1", "fe80::1",
				    "::ffff:192.168.1.1", "::" };
	static const unsigned char prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				    0xff, 0xff };
	struct netrange		*r = NULL;
	unsigned char		 mapped[16], addr[16];
	char			*text = fuzz_greeting_copy(data, size);
	char			*cause = NULL;
	size_t			 n = 0, i;
	int			 v4;

	if (netrange_parse(text, &r, &n, &cause) != 0) {
		FUZZ_ASSERT(cause != NULL && r == NULL && n == 0);
		free(cause);
		free(text);
		return;
	}
	for (i = 0; i < n; i++) {
		v4 = r[i].family == AF_INET;
		FUZZ_ASSERT(v4 || r[i].family == AF_INET6);
		FUZZ_ASSERT(r[i].bits <= (v4 ? 32u : 128u));
		if (!v4 && memcmp(r[i].addr, prefix, sizeof prefix) == 0) {
			FUZZ_ASSERT(r[i].bits < 96);
			continue;
		}
		FUZZ_ASSERT(fuzz_greeting_match(&r[i], 1, r[i].family,
		    r[i].addr));
		if (v4) {
			memcpy(mapped, prefix, sizeof prefix);
			memcpy(mapped + 12, r[i].addr, 4);
			FUZZ_ASSERT(fuzz_greeting_match(&r[i], 1, AF_INET6,
			    mapped));
		}
	}
	for (i = 0; i < nitems(others); i++) {
		if (inet_pton(AF_INET, others[i], addr) == 1)
			fuzz_greeting_match(r, n, AF_INET, addr);
		else {
			FUZZ_ASSERT(inet_pton(AF_INET6, others[i], addr) == 1);
			fuzz_greeting_match(r, n, AF_INET6, addr);
		}
	}
	free(r);
	free(text);
}

/*
 * Parse the input's first line as a greeting: a HELO names a valid host,
 * and a plain-text HELO may name a key, which the server then refuses.
 */
static void
fuzz_greeting_helo(const uint8_t *data, size_t size)
{
	struct proto_request	 req;
	const struct keys_entry	*e;
	const char		*cause = NULL;
	char			*line = fuzz_greeting_copy(data, size), *eol;

	if ((eol = strchr(line, '\n')) != NULL)
		*eol = '\0';
	if (proto_parse_request(line, &req, &cause) == 0 &&
	    req.cmd == PROTO_HELO) {
		FUZZ_ASSERT(proto_valid_host(req.host));
		FUZZ_ASSERT(req.ext_version >= 0);
		if ((e = keys_find(&fuzz_greeting_keys, req.host)) != NULL)
			FUZZ_ASSERT(strcmp(e->name, req.host) == 0);
	}
	free(line);
}

/* Put one input through everything a stranger's first bytes reach. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_greeting_init();
	fuzz_greeting_handshake(data, size);
	fuzz_greeting_keys_file(data, size);
	fuzz_greeting_token(data, size);
	fuzz_greeting_netrange(data, size);
	fuzz_greeting_helo(data, size);
	return 0;
}
