/*
 * bench-peers.c: N scripted old-protocol peers, one thread each, that
 * talk to a bdfarm server on loopback in plain text or over TLS 1.3 with
 * the server's own keys file, for bench/bench-server.py, which builds it
 * with bdfarm's tls.c and keys.c so that the peers shake hands exactly as
 * a client does. Written in C because Python before 3.13 cannot offer an
 * external pre-shared key, and so that the peers cost little next to the
 * server they measure.
 *
 *     bench-peers handshakes|frames PORT N SECONDS KEYSFILE|- [FRAMESIZE]
 *
 * "handshakes" loops on connect, handshake, HELO, its answer, GOODBYE and
 * close; "frames" on connect, handshake, HELO, REQUESTJOB 1, RESULTS with
 * a frame of FRAMESIZE bytes, GOODBYE and close. Peer i uses the i-th key
 * of KEYSFILE (round robin), or plain text with "-". One line goes to
 * standard output at the end: "handshakes H frames F bytes B errors E
 * none X". Not installed.
 */
#include "bdfarm.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keys.h"
#include "tls.h"

#define BENCH_PEERS_LINE	4096

/* What every peer shares, set before the threads start. */
static struct {
	int		 frames;	/* 1: frames loop; 0: handshakes */
	int		 port;
	double		 deadline;	/* on the monotonic clock */
	SSL_CTX		*ctx;		/* NULL for plain text */
	struct keys	 keys;
	unsigned char	*image;
	size_t		 image_size;
	pthread_mutex_t	 lock;
	int		 told;		/* the first error was printed */
} bench;

/* One peer: its thread, its connection and what it counted. */
struct bench_peer {
	pthread_t	 thread;
	int		 index;
	struct tls_psk	 psk;
	int		 fd;
	SSL		*ssl;
	char		 buf[BENCH_PEERS_LINE];
	size_t		 off, len;
	unsigned long	 handshakes, frames, errors, none;
	unsigned long long bytes;
};

/* Seconds on the monotonic clock. */
static double
bench_peers_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Count an error; the first of the run is told on standard error. */
static void
bench_peers_error(struct bench_peer *p, const char *what)
{
	unsigned long	e = ERR_get_error();

	p->errors++;
	pthread_mutex_lock(&bench.lock);
	if (!bench.told) {
		bench.told = 1;
		fprintf(stderr, "bench-peers: peer %d: %s%s%s\n", p->index,
		    what, e != 0 ? ": " : "", e != 0 ? tls_error(e) : "");
	}
	pthread_mutex_unlock(&bench.lock);
	ERR_clear_error();
}

/* Close the connection, if any. */
static void
bench_peers_close(struct bench_peer *p)
{
	if (p->ssl != NULL) {
		SSL_shutdown(p->ssl);
		SSL_free(p->ssl);
		p->ssl = NULL;
	}
	if (p->fd != -1) {
		close(p->fd);
		p->fd = -1;
	}
	p->off = p->len = 0;
}

/* Connect and, over TLS, shake hands; -1 on failure (counted). */
static int
bench_peers_open(struct bench_peer *p)
{
	struct sockaddr_in	sin;
	struct timeval		tv = { 10, 0 };
	int			one = 1;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)bench.port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((p->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
		bench_peers_error(p, strerror(errno));
		return -1;
	}
	setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(p->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(p->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(p->fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
		bench_peers_error(p, strerror(errno));
		goto fail;
	}
	if (bench.ctx == NULL)
		return 0;
	p->ssl = tls_client_new(bench.ctx, &p->psk);
	if (SSL_set_fd(p->ssl, p->fd) != 1 || SSL_connect(p->ssl) != 1) {
		bench_peers_error(p, "handshake failed");
		goto fail;
	}
	return 0;
fail:
	bench_peers_close(p);
	return -1;
}

/* Send all of data; -1 on failure (counted). */
static int
bench_peers_write(struct bench_peer *p, const void *data, size_t len)
{
	const char	*at = data;
	ssize_t		 n;

	while (len > 0) {
		if (p->ssl != NULL) {
			n = SSL_write(p->ssl, at, len > INT32_MAX ? INT32_MAX :
			    (int)len);
		} else
			n = send(p->fd, at, len, MSG_NOSIGNAL);
		if (n <= 0) {
			bench_peers_error(p, "cannot send");
			return -1;
		}
		at += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read one line, without its end, into p->buf; NULL on failure (counted). */
static char *
bench_peers_line(struct bench_peer *p)
{
	char	*eol, *line;
	ssize_t	 n;

	for (;;) {
		eol = memchr(p->buf + p->off, '\n', p->len - p->off);
		if (eol != NULL)
			break;
		if (p->off > 0) {
			memmove(p->buf, p->buf + p->off, p->len - p->off);
			p->len -= p->off;
			p->off = 0;
		}
		if (p->len == sizeof p->buf - 1) {
			bench_peers_error(p, "line too long");
			return NULL;
		}
		if (p->ssl != NULL)
			n = SSL_read(p->ssl, p->buf + p->len,
			    (int)(sizeof p->buf - 1 - p->len));
		else
			n = recv(p->fd, p->buf + p->len,
			    sizeof p->buf - 1 - p->len, 0);
		if (n <= 0) {
			bench_peers_error(p, "connection closed");
			return NULL;
		}
		p->len += (size_t)n;
	}
	line = p->buf + p->off;
	p->off = (size_t)(eol + 1 - p->buf);
	*eol = '\0';
	if (eol > line && eol[-1] == '\r')
		eol[-1] = '\0';
	return line;
}

/* One session of the handshakes loop. */
static void
bench_peers_handshake(struct bench_peer *p, const char *helo)
{
	if (bench_peers_open(p) != 0)
		return;
	if (bench_peers_write(p, helo, strlen(helo)) == 0 &&
	    bench_peers_line(p) != NULL) {
		p->handshakes++;
		bench_peers_write(p, "GOODBYE\r\n", 9);
	}
	bench_peers_close(p);
}

/* One session of the frames loop: one frame handed out and sent back. */
static void
bench_peers_frame(struct bench_peer *p, const char *helo)
{
	char	 request[BENCH_PEERS_LINE], name[256], digest[64], *line;
	long	 frame;
	int	 len;

	if (bench_peers_open(p) != 0)
		return;
	snprintf(request, sizeof request, "%sREQUESTJOB 1\r\n", helo);
	if (bench_peers_write(p, request, strlen(request)) != 0 ||
	    bench_peers_line(p) == NULL || (line = bench_peers_line(p)) == NULL)
		goto out;
	p->handshakes++;
	if (strcmp(line, "None") == 0) {
		p->none++;
		bench_peers_write(p, "GOODBYE\r\n", 9);
		bench_peers_close(p);
		usleep(100000);
		return;
	}
	if (sscanf(line, "%255s %63s %ld", name, digest, &frame) != 3) {
		bench_peers_error(p, "not a job");
		goto out;
	}
	len = snprintf(request, sizeof request, "RESULTS %s %s %ld %ld.png "
	    "%zu\r\n", name, digest, frame, frame, bench.image_size);
	if (bench_peers_write(p, request, (size_t)len) != 0 ||
	    (line = bench_peers_line(p)) == NULL)
		goto out;
	if (strcmp(line, "OK") != 0) {
		bench_peers_error(p, "RESULTS not taken");
		goto out;
	}
	if (bench_peers_write(p, bench.image, bench.image_size) != 0 ||
	    (line = bench_peers_line(p)) == NULL)
		goto out;
	if (strcmp(line, "THANKYOU") != 0) {
		bench_peers_error(p, "frame not taken");
		goto out;
	}
	p->frames++;
	p->bytes += bench.image_size;
	bench_peers_write(p, "GOODBYE\r\n", 9);
out:
	bench_peers_close(p);
}

/* A peer's thread: sessions until the deadline. */
static void *
bench_peers_run(void *arg)
{
	struct bench_peer	*p = arg;
	char			 helo[128];

	snprintf(helo, sizeof helo, "HELO bench%d.example\r\n", p->index);
	while (bench_peers_now() < bench.deadline) {
		if (bench.frames)
			bench_peers_frame(p, helo);
		else
			bench_peers_handshake(p, helo);
	}
	return NULL;
}

/* Read the keys file the server reads; exit if it has no key. */
static void
bench_peers_keys(const char *path)
{
	struct stat	 st;
	char		*text, *cause = NULL;
	FILE		*f;

	if ((f = fopen(path, "r")) == NULL || fstat(fileno(f), &st) != 0) {
		fprintf(stderr, "bench-peers: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL ||
	    fread(text, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		fprintf(stderr, "bench-peers: cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
	if (keys_parse(&bench.keys, text, (size_t)st.st_size, &cause) != 0 ||
	    bench.keys.n == 0) {
		fprintf(stderr, "bench-peers: %s: %s\n", path,
		    cause != NULL ? cause : "no key");
		exit(2);
	}
	free(text);
}

int
main(int argc, char **argv)
{
	struct bench_peer	*peers;
	pthread_attr_t		 attr;
	unsigned long		 handshakes = 0, frames = 0, errors = 0;
	unsigned long		 none = 0;
	unsigned long long	 bytes = 0;
	int			 n, i;
	size_t			 k;

	if (argc < 6 || argc > 7 || (strcmp(argv[1], "frames") != 0 &&
	    strcmp(argv[1], "handshakes") != 0)) {
		fprintf(stderr, "usage: bench-peers handshakes|frames PORT N "
		    "SECONDS KEYSFILE|- [FRAMESIZE]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	bench.frames = strcmp(argv[1], "frames") == 0;
	bench.port = atoi(argv[2]);
	n = atoi(argv[3]);
	bench.deadline = bench_peers_now() + atof(argv[4]);
	bench.image_size = argc == 7 ? strtoul(argv[6], NULL, 10) : 65536;
	if (n < 1 || bench.port < 1 ||
	    (bench.image = malloc(bench.image_size + 1)) == NULL) {
		fprintf(stderr, "bench-peers: bad arguments\n");
		return 2;
	}
	for (k = 0; k < bench.image_size; k++)
		bench.image[k] = (unsigned char)(k * 2654435761u >> 24);
	if (strcmp(argv[5], "-") != 0) {
		bench_peers_keys(argv[5]);
		bench.ctx = tls_client_ctx();
	}
	pthread_mutex_init(&bench.lock, NULL);

	if ((peers = calloc((size_t)n, sizeof *peers)) == NULL)
		return 2;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (i = 0; i < n; i++) {
		peers[i].index = i;
		peers[i].fd = -1;
		if (bench.ctx != NULL) {
			k = (size_t)i % bench.keys.n;
			snprintf(peers[i].psk.name, sizeof peers[i].psk.name,
			    "%s", bench.keys.v[k].name);
			memcpy(peers[i].psk.key, bench.keys.v[k].key,
			    KEYS_SIZE);
		}
		if (pthread_create(&peers[i].thread, &attr, bench_peers_run,
		    &peers[i]) != 0) {
			fprintf(stderr, "bench-peers: cannot start peer %d\n",
			    i);
			return 2;
		}
	}
	for (i = 0; i < n; i++) {
		pthread_join(peers[i].thread, NULL);
		handshakes += peers[i].handshakes;
		frames += peers[i].frames;
		bytes += peers[i].bytes;
		errors += peers[i].errors;
		none += peers[i].none;
	}
	printf("handshakes %lu frames %lu bytes %llu errors %lu none %lu\n",
	    handshakes, frames, bytes, errors, none);
	if (bench.ctx != NULL)
		SSL_CTX_free(bench.ctx);
	keys_free(&bench.keys);
	free(peers);
	free(bench.image);
	return 0;
}
