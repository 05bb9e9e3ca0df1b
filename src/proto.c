/*
 * proto.c: parsing and checking the lines of the farm protocol. Nothing
 * here touches a socket or a file, so that tests and fuzzers can call it
 * directly with any bytes.
 */
#include "proto.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bdfarm.h"

/* White space between tokens: ASCII only, whatever the locale says. */
static int
proto_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	    c == '\f';
}

/*
 * Split line in place on white space into at most max tokens. Returns the
 * number of tokens, or max + 1 if there were more.
 */
int
proto_split(char *line, char **tokens, int max)
{
	int	 n = 0;
	char	*p = line;

	for (;;) {
		while (*p != '\0' && proto_space(*p))
			p++;
		if (*p == '\0')
			return n;
		if (n == max)
			return max + 1;
		tokens[n++] = p;
		while (*p != '\0' && !proto_space(*p))
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
}

/*
 * Split the first n tokens of line in place and return the rest of the
 * line, without its leading white space, or NULL if there are fewer than
 * n tokens.
 */
char *
proto_split_rest(char *line, char **tokens, int n)
{
	char	*p = line;
	int	 i;

	for (i = 0; i < n; i++) {
		while (*p != '\0' && proto_space(*p))
			p++;
		if (*p == '\0')
			return NULL;
		tokens[i] = p;
		while (*p != '\0' && !proto_space(*p))
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
	while (*p != '\0' && proto_space(*p))
		p++;
	return p;
}

/* Parse a whole number from min to max; -1 if it is not one. */
static int
proto_parse_int(const char *s, long min, long max, long *out)
{
	if (proto_parse_frame(s, out) != 0 || *out < min || *out > max)
		return -1;
	return 0;
}

/* Parse a decimal size no greater than max; -1 if it is not one. */
int
proto_parse_size(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;

	if (*s == '\0' || strlen(s) > 20)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* Parse a frame number: an optionally negative decimal integer. */
int
proto_parse_frame(const char *s, long *out)
{
	char	*end;
	long	 v;

	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || v < -1000000000L || v > 1000000000L)
		return -1;
	*out = v;
	return 0;
}

/* The extension version a "bdfarm/N" token announces, or 0. */
int
proto_parse_ext(const char *token)
{
	size_t	len = strlen(PROTO_EXT_NAME);
	long	v;

	if (token == NULL || strncmp(token, PROTO_EXT_NAME, len) != 0 ||
	    token[len] != '/' || proto_parse_frame(token + len + 1, &v) != 0 ||
	    v < 1 || v > 1000)
		return 0;
	return (int)v;
}

/* Whether s is an MD5 digest: 32 lower-case hexadecimal digits. */
int
proto_valid_digest(const char *s)
{
	size_t	i;

	for (i = 0; i < PROTO_DIGEST_LEN; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return s[i] == '\0';
}

/*
 * The length of the UTF-8 character that starts at p, if it is a whole,
 * well-formed one and no C1 control (U+0080 to U+009F); else 0. A string
 * ends in a NUL, which no continuation byte matches.
 */
static size_t
proto_utf8_char(const unsigned char *p)
{
	size_t		len, i;
	unsigned char	lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return 1;
	if (p[0] == 0xc2 && p[1] < 0xa0)
		return 0;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;	/* no UTF-16 surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* nothing above U+10FFFF */
	} else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return len;
}

/*
 * Whether s can serve as a host name: short, printable ASCII, no slash;
 * the same whatever the locale says is printable.
 */
int
proto_valid_host(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len = strlen(s);

	if (len == 0 || len > PROTO_MAX_NAME)
		return 0;
	for (; *p != '\0'; p++) {
		if (*p < 0x21 || *p > 0x7e || *p == '/')
			return 0;
	}
	return 1;
}

/*
 * Whether s is a plain file name that is safe to create inside a folder
 * and to write to a log: not empty, no slash, no leading dot, no control
 * characters or white space, UTF-8, at most 255 bytes.
 */
int
proto_valid_file_name(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len = strlen(s), n;

	if (len == 0 || len > PROTO_MAX_NAME || s[0] == '.')
		return 0;
	while (*p != '\0') {
		if (*p < 0x21 || *p == 0x7f || *p == '/' || *p == '\\' ||
		    (n = proto_utf8_char(p)) == 0)
			return 0;
		p += n;
	}
	return 1;
}

/*
 * Make free text a peer sent (a failure's reason, Blender's lines) fit for
 * a log, a job log, the state file or the screen, in place: white space
 * becomes a space, and every other control character (C0, DEL, C1) and
 * every byte that is not part of a well-formed UTF-8 character becomes
 * '?'. The text keeps its length. Returns how many bytes were replaced.
 */
size_t
proto_sanitize_text(char *s)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 n, replaced = 0;

	while (*p != '\0') {
		if (*p == ' ')
			p++;
		else if (proto_space((char)*p)) {
			*p++ = ' ';
			replaced++;
		} else if (*p < 0x20 || *p == 0x7f ||
		    (n = proto_utf8_char(p)) == 0) {
			*p++ = '?';
			replaced++;
		} else
			p += n;
	}
	return replaced;
}

/*
 * Turn any base name into one safe protocol token of at most len - 1 bytes:
 * white space, control characters, slashes, a leading dot and bytes that
 * are not UTF-8 become '_', so that a peer can send the token back.
 */
void
proto_sanitize_name(const char *in, char *out, size_t len)
{
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 i = 0, n;

	if (len == 0)
		return;
	while (p[i] != '\0' && i < len - 1 && i < PROTO_MAX_NAME) {
		unsigned char	c = p[i];

		if (c < 0x21 || c == 0x7f || c == '/' || c == '\\' ||
		    (i == 0 && c == '.') || (n = proto_utf8_char(p + i)) == 0) {
			out[i++] = '_';
			continue;
		}
		if (i + n > len - 1 || i + n > PROTO_MAX_NAME)
			break;		/* never half a character */
		memcpy(out + i, p + i, n);
		i += n;
	}
	if (i == 0 && len > 1)
		out[i++] = '_';
	out[i] = '\0';
}

/*
 * Take the .blend name and digest that several requests carry, checking
 * both; -1 with *cause if either is malformed.
 */
static int
proto_take_blend(struct proto_request *req, const char *blend,
    const char *digest, const char **cause)
{
	req->blend = blend;
	req->digest = digest;
	if (!proto_valid_file_name(blend)) {
		*cause = "bad name";
		return -1;
	}
	if (!proto_valid_digest(digest)) {
		*cause = "bad digest";
		return -1;
	}
	return 0;
}

/*
 * Take the .blend name, digest and frame number that start the requests
 * about one frame (t[1] to t[3]).
 */
static int
proto_take_frame(struct proto_request *req, char **t, const char **cause)
{
	if (proto_take_blend(req, t[1], t[2], cause) != 0)
		return -1;
	if (proto_parse_frame(t[3], &req->frame) != 0) {
		*cause = "bad frame number";
		return -1;
	}
	return 0;
}

/* Parse "FAILED blend digest frame lines reason...", in place. */
static int
proto_parse_failed(char *line, struct proto_request *req, const char **cause)
{
	char	*t[5], *rest;
	long	 lines;

	req->cmd = PROTO_FAILED;
	if ((rest = proto_split_rest(line, t, 5)) == NULL) {
		*cause = "bad failure report";
		return -1;
	}
	if (proto_take_frame(req, t, cause) != 0)
		return -1;
	if (proto_parse_int(t[4], 0, PROTO_MAX_FAILURE_LINES, &lines) != 0) {
		*cause = "bad failure report";
		return -1;
	}
	req->lines = (int)lines;
	proto_sanitize_text(rest);
	req->reason = *rest != '\0' ? rest : "unknown";
	return 0;
}

/* MISSING <blend> <digest> <frame> <path...>: a file Blender missed. */
static int
proto_parse_missing(char *line, struct proto_request *req, const char **cause)
{
	char	*t[4], *rest;

	req->cmd = PROTO_MISSING;
	if ((rest = proto_split_rest(line, t, 4)) == NULL || *rest == '\0' ||
	    strlen(rest) > PROTO_MAX_MISSING) {
		*cause = "bad missing file";
		return -1;
	}
	if (proto_take_frame(req, t, cause) != 0)
		return -1;
	proto_sanitize_text(rest);
	req->path = rest;
	return 0;
}

/*
 * WARM [<lived>...]: the client's warm Blenders, each by the frames it
 * rendered, "-" for one still loading its scene.
 */
static int
proto_parse_warm(char *line, struct proto_request *req, const char **cause)
{
	char	*t[1 + PROTO_MAX_WARM];
	int	 n, i;

	req->cmd = PROTO_WARM;
	n = proto_split(line, t, (int)nitems(t));
	if (n > (int)nitems(t)) {
		*cause = "too many warm Blenders";
		return -1;
	}
	for (i = 1; i < n; i++) {
		if (strcmp(t[i], "-") == 0)
			req->warm[i - 1] = -1;
		else if (proto_parse_int(t[i], 0, PROTO_MAX_LIVED,
		    &req->warm[i - 1]) != 0) {
			*cause = "bad warm Blender";
			return -1;
		}
	}
	req->nwarm = n - 1;
	return 0;
}

/*
 * Parse one request line from a client, in place. On failure, *cause says
 * what was wrong (a fixed, untranslated phrase for the log).
 */
int
proto_parse_request(char *line, struct proto_request *req, const char **cause)
{
	char	*t[8];
	int	 n;

	memset(req, 0, sizeof *req);
	if (strncmp(line, "FAILED", 6) == 0 && proto_space(line[6]))
		return proto_parse_failed(line, req, cause);
	if (strncmp(line, "MISSING", 7) == 0 && proto_space(line[7]))
		return proto_parse_missing(line, req, cause);
	if (strncmp(line, "WARM", 4) == 0 &&
	    (line[4] == '\0' || proto_space(line[4])))
		return proto_parse_warm(line, req, cause);
	n = proto_split(line, t, (int)nitems(t));
	if (n == 0) {
		*cause = "empty line";
		return -1;
	}
	if (n > (int)nitems(t)) {
		*cause = "too many tokens";
		return -1;
	}
	if (strcmp(t[0], "HELO") == 0 && n >= 2) {
		req->cmd = PROTO_HELO;
		if (!proto_valid_host(t[1])) {
			*cause = "bad name";
			return -1;
		}
		req->host = t[1];
		req->ext_version = n >= 3 ? proto_parse_ext(t[2]) : 0;
		if (req->ext_version > 0 && n >= 4 && proto_valid_host(t[3]))
			req->instance = t[3];
		return 0;
	}
	if (strcmp(t[0], "REQUESTBLENDERDIST") == 0 && n == 1) {
		req->cmd = PROTO_REQUESTBLENDERDIST;
		return 0;
	}
	if (strcmp(t[0], "REQUESTJOB") == 0 && n == 2) {
		long	v;

		req->cmd = PROTO_REQUESTJOB;
		if (proto_parse_frame(t[1], &v) != 0) {
			*cause = "bad renderer count";
			return -1;
		}
		req->available = v < 0 ? 0 : (v > 100000 ? 100000 : (int)v);
		return 0;
	}
	if (strcmp(t[0], "REQUESTBLENDERFILE") == 0 && n == 3) {
		req->cmd = PROTO_REQUESTBLENDERFILE;
		return proto_take_blend(req, t[1], t[2], cause);
	}
	if (strcmp(t[0], "RESULTS") == 0 && n == 6) {
		req->cmd = PROTO_RESULTS;
		req->image = t[4];
		if (proto_take_frame(req, t, cause) != 0)
			return -1;
		if (proto_parse_size(t[5], UINT64_MAX, &req->size) != 0) {
			*cause = "bad size";
			return -1;
		}
		return 0;
	}
	if (strcmp(t[0], "GOODBYE") == 0 && n == 1) {
		req->cmd = PROTO_GOODBYE;
		return 0;
	}
	if (strcmp(t[0], "FACTS") == 0 && n == 4) {
		long	renderers, cores;

		req->cmd = PROTO_FACTS;
		if (proto_parse_int(t[1], 0, 100000, &renderers) != 0 ||
		    proto_parse_int(t[2], 0, 100000, &cores) != 0 ||
		    !proto_valid_host(t[3])) {
			*cause = "bad facts";
			return -1;
		}
		req->renderers = (int)renderers;
		req->cores = (int)cores;
		req->blender = t[3];
		return 0;
	}
	if (strcmp(t[0], "ALIVE") == 0 && n == 1) {
		req->cmd = PROTO_ALIVE;
		return 0;
	}
	if (strcmp(t[0], "WAITJOB") == 0 && n == 2) {
		long	v;

		req->cmd = PROTO_WAITJOB;
		if (proto_parse_int(t[1], 0, 100000, &v) != 0) {
			*cause = "bad renderer count";
			return -1;
		}
		req->available = (int)v;
		return 0;
	}
	if (strcmp(t[0], "PROGRESS") == 0 && n == 5) {
		long	v;

		req->cmd = PROTO_PROGRESS;
		if (proto_take_frame(req, t, cause) != 0)
			return -1;
		if (proto_parse_int(t[4], 0, 1000, &v) != 0) {
			*cause = "bad progress";
			return -1;
		}
		req->permille = (unsigned)v;
		return 0;
	}
	if ((strcmp(t[0], "RETURN") == 0 || strcmp(t[0], "HOLD") == 0) &&
	    n == 4) {
		req->cmd = t[0][0] == 'R' ? PROTO_RETURN : PROTO_HOLD;
		return proto_take_frame(req, t, cause);
	}
	if (strcmp(t[0], "HELD") == 0 && n == 1) {
		req->cmd = PROTO_HELD;
		return 0;
	}
	if (strcmp(t[0], "REQUESTFILES") == 0 && n == 3) {
		req->cmd = PROTO_REQUESTFILES;
		return proto_take_blend(req, t[1], t[2], cause);
	}
	if (strcmp(t[0], "REQUESTFILE") == 0 && n == 4) {
		req->cmd = PROTO_REQUESTFILE;
		if (!proto_valid_digest(t[3])) {
			*cause = "bad digest";
			return -1;
		}
		req->file_digest = t[3];
		return proto_take_blend(req, t[1], t[2], cause);
	}
	*cause = "unknown command";
	return -1;
}

/* Parse the answer to HELO: digest, 1/0/STOPPING, maybe bdfarm/N. */
int
proto_parse_helo_reply(char *line, struct proto_helo_reply *r)
{
	char	*t[4];
	int	 n;

	memset(r, 0, sizeof *r);
	n = proto_split(line, t, (int)nitems(t));
	if (n < 2 || n > 3 || !proto_valid_digest(t[0]))
		return -1;
	r->digest = t[0];
	if (strcmp(t[1], "1") == 0)
		r->todo = 1;
	else if (strcmp(t[1], "0") == 0)
		r->todo = 0;
	else if (strcmp(t[1], "STOPPING") == 0)
		r->todo = -1;
	else
		return -1;
	r->ext_version = n == 3 ? proto_parse_ext(t[2]) : 0;
	return 0;
}

/* Parse the answer to REQUESTJOB: "None", or blend, digest and frame. */
int
proto_parse_job_reply(char *line, struct proto_job_reply *r)
{
	char	*t[4];
	int	 n;

	memset(r, 0, sizeof *r);
	n = proto_split(line, t, (int)nitems(t));
	if (n == 1 && strcmp(t[0], "None") == 0)
		return 0;
	if (n != 3 || !proto_valid_file_name(t[0]) ||
	    !proto_valid_digest(t[1]) || proto_parse_frame(t[2], &r->frame) != 0)
		return -1;
	r->blend = t[0];
	r->digest = t[1];
	return 0;
}

/* Parse the head of the answer to REQUESTFILES: "FILES n flags" or NOK. */
int
proto_parse_files_reply(char *line, struct proto_files_reply *r)
{
	char	*t[4], *flag, *next;
	int	 n;

	memset(r, 0, sizeof *r);
	n = proto_split(line, t, (int)nitems(t));
	if (n == 1 && strcmp(t[0], "NOK") == 0) {
		r->nok = 1;
		return 0;
	}
	if (n != 3 || strcmp(t[0], "FILES") != 0 ||
	    proto_parse_int(t[1], 1, PROTO_MAX_FILES, &r->count) != 0)
		return -1;
	if (strcmp(t[2], "-") == 0)
		return 0;
	/* A comma-separated list of flags this program knows. */
	for (flag = t[2]; flag != NULL; flag = next) {
		if ((next = strchr(flag, ',')) != NULL)
			*next++ = '\0';
		if (strcmp(flag, "allow-missing") == 0)
			r->allow_missing = 1;
		else if (strcmp(flag, "fresh-blender") == 0)
			r->fresh_blender = 1;
		else
			return -1;
	}
	return 0;
}

/*
 * The flags of a FILES answer for a peer speaking version, into buf of
 * PROTO_FILES_FLAGS bytes: before version 4, only allow-missing, which a
 * version 3 client takes alone.
 */
void
proto_files_flags(int version, int allow_missing, int fresh_blender,
    char *buf)
{
	if (version < 4)
		fresh_blender = 0;
	if (!allow_missing && !fresh_blender) {
		snprintf(buf, PROTO_FILES_FLAGS, "-");
		return;
	}
	snprintf(buf, PROTO_FILES_FLAGS, "%s%s%s",
	    allow_missing ? "allow-missing" : "",
	    allow_missing && fresh_blender ? "," : "",
	    fresh_blender ? "fresh-blender" : "");
}

/*
 * Whether a server path can go on a line of a FILES answer: not empty,
 * at most PROTO_MAX_PATH bytes, and without a control character.
 */
int
proto_valid_path(const char *path)
{
	const char	*p;

	if (*path == '\0' || strlen(path) > PROTO_MAX_PATH)
		return 0;
	for (p = path; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	}
	return 1;
}

/*
 * Parse one entry of a FILES answer: digest (or "-" and size 0 for a file
 * the server does not have), size, and the path, which is the rest of the
 * line and may hold spaces but no control character.
 */
int
proto_parse_file_entry(char *line, struct proto_file_entry *e)
{
	char	*t[2], *path;

	memset(e, 0, sizeof *e);
	if ((path = proto_split_rest(line, t, 2)) == NULL ||
	    !proto_valid_path(path) ||
	    proto_parse_size(t[1], UINT64_MAX, &e->size) != 0)
		return -1;
	if (strcmp(t[0], "-") == 0) {
		if (e->size != 0)
			return -1;
	} else if (proto_valid_digest(t[0]))
		e->digest = t[0];
	else
		return -1;
	e->path = path;
	return 0;
}
