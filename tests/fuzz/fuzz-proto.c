/*
 * fuzz-proto.c: a libFuzzer target for the protocol parser. Any bytes are
 * parsed as a request, as both replies a client reads, as a size, a frame
 * and a name to sanitise, and what a parser accepts is checked against
 * what it promises.
 */
#include "bdfarm.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Stop the run, so that libFuzzer keeps the input, when a promise breaks. */
#define FUZZ_ASSERT(e) do {						\
	if (!(e))							\
		abort();						\
} while (0)

/* A terminated copy of the input, as a line reader hands it over. */
static char *
fuzz_proto_copy(const uint8_t *data, size_t size)
{
	char	*line;

	line = malloc(size + 1);
	FUZZ_ASSERT(line != NULL);
	memcpy(line, data, size);
	line[size] = '\0';
	return line;
}

/* Whether s is one token: not empty, no white space. */
static int
fuzz_proto_token(const char *s)
{
	return s != NULL && *s != '\0' && strpbrk(s, " \t\r\n\v\f") == NULL;
}

/* Parse the input as a request and check what was accepted. */
static void
fuzz_proto_request(const uint8_t *data, size_t size)
{
	struct proto_request	 req;
	const char		*cause = NULL;
	char			*line = fuzz_proto_copy(data, size);
	int			 i;

	if (proto_parse_request(line, &req, &cause) != 0) {
		FUZZ_ASSERT(cause != NULL);
		free(line);
		return;
	}
	switch (req.cmd) {
	case PROTO_HELO:
		FUZZ_ASSERT(proto_valid_host(req.host));
		FUZZ_ASSERT(req.ext_version >= 0);
		break;
	case PROTO_REQUESTJOB:
		FUZZ_ASSERT(req.available >= 0 && req.available <= 100000);
		break;
	case PROTO_REQUESTBLENDERFILE:
		FUZZ_ASSERT(proto_valid_file_name(req.blend));
		FUZZ_ASSERT(proto_valid_digest(req.digest));
		break;
	case PROTO_RESULTS:
		FUZZ_ASSERT(proto_valid_file_name(req.blend));
		FUZZ_ASSERT(proto_valid_digest(req.digest));
		FUZZ_ASSERT(req.frame >= -1000000000L &&
		    req.frame <= 1000000000L);
		FUZZ_ASSERT(fuzz_proto_token(req.image));
		break;
	case PROTO_REQUESTBLENDERDIST:
	case PROTO_GOODBYE:
	case PROTO_ALIVE:
		break;
	case PROTO_FACTS:
		FUZZ_ASSERT(req.renderers >= 0 && req.cores >= 0);
		FUZZ_ASSERT(proto_valid_host(req.blender));
		break;
	case PROTO_WAITJOB:
		FUZZ_ASSERT(req.available >= 0 && req.available <= 100000);
		break;
	case PROTO_PROGRESS:
		FUZZ_ASSERT(proto_valid_file_name(req.blend));
		FUZZ_ASSERT(proto_valid_digest(req.digest));
		FUZZ_ASSERT(req.permille <= 1000);
		break;
	case PROTO_FAILED:
		FUZZ_ASSERT(proto_valid_file_name(req.blend));
		FUZZ_ASSERT(proto_valid_digest(req.digest));
		FUZZ_ASSERT(req.lines >= 0 &&
		    req.lines <= PROTO_MAX_FAILURE_LINES);
		FUZZ_ASSERT(req.reason != NULL && *req.reason != '\0');
		FUZZ_ASSERT(proto_sanitize_text((char *)req.reason) == 0);
		break;
	case PROTO_RETURN:
	case PROTO_HOLD:
		FUZZ_ASSERT(proto_valid_file_name(req.blend));
		FUZZ_ASSERT(proto_valid_digest(req.digest));
		FUZZ_ASSERT(req.frame >= -1000000000L &&
		    req.frame <= 1000000000L);
		break;
	case PROTO_HELD:
		break;
	case PROTO_REQUESTFILES:
		FUZZ_ASSERT(proto_valid_file_name(req.blend));
		FUZZ_ASSERT(proto_valid_digest(req.digest));
		break;
	case PROTO_REQUESTFILE:
		FUZZ_ASSERT(proto_valid_file_name(req.blend));
		FUZZ_ASSERT(proto_valid_digest(req.digest));
		FUZZ_ASSERT(proto_valid_digest(req.file_digest));
		break;
	case PROTO_MISSING:
		FUZZ_ASSERT(proto_valid_file_name(req.blend));
		FUZZ_ASSERT(proto_valid_digest(req.digest));
		FUZZ_ASSERT(req.path != NULL && *req.path != '\0' &&
		    strlen(req.path) <= PROTO_MAX_MISSING);
		FUZZ_ASSERT(proto_sanitize_text((char *)req.path) == 0);
		break;
	case PROTO_WARM:
		FUZZ_ASSERT(req.nwarm >= 0 && req.nwarm <= PROTO_MAX_WARM);
		for (i = 0; i < req.nwarm; i++)
			FUZZ_ASSERT(req.warm[i] >= -1 &&
			    req.warm[i] <= PROTO_MAX_LIVED);
		break;
	default:
		abort();
	}
	free(line);
}

/* Parse the input as both replies and check what was accepted. */
static void
fuzz_proto_replies(const uint8_t *data, size_t size)
{
	struct proto_helo_reply	 helo;
	struct proto_job_reply	 job;
	struct proto_files_reply files;
	struct proto_file_entry	 entry;
	const char		*p;
	char			*line;

	line = fuzz_proto_copy(data, size);
	if (proto_parse_helo_reply(line, &helo) == 0) {
		FUZZ_ASSERT(fuzz_proto_token(helo.digest));
		FUZZ_ASSERT(helo.todo >= -1 && helo.todo <= 1);
		FUZZ_ASSERT(helo.ext_version >= 0);
	}
	free(line);

	line = fuzz_proto_copy(data, size);
	if (proto_parse_job_reply(line, &job) == 0 && job.blend != NULL) {
		FUZZ_ASSERT(proto_valid_file_name(job.blend));
		FUZZ_ASSERT(proto_valid_digest(job.digest));
	}
	free(line);

	line = fuzz_proto_copy(data, size);
	if (proto_parse_files_reply(line, &files) == 0 && !files.nok)
		FUZZ_ASSERT(files.count >= 1 && files.count <= PROTO_MAX_FILES);
	free(line);

	line = fuzz_proto_copy(data, size);
	if (proto_parse_file_entry(line, &entry) == 0) {
		FUZZ_ASSERT(entry.digest == NULL ||
		    proto_valid_digest(entry.digest));
		FUZZ_ASSERT(entry.digest != NULL || entry.size == 0);
		FUZZ_ASSERT(entry.path != NULL && *entry.path != '\0' &&
		    strlen(entry.path) <= PROTO_MAX_PATH);
		for (p = entry.path; *p != '\0'; p++)
			FUZZ_ASSERT((unsigned char)*p >= 0x20 && *p != 0x7f);
	}
	free(line);
}

/* Check the number parsers against the C library's. */
static void
fuzz_proto_numbers(const uint8_t *data, size_t size)
{
	char		*s = fuzz_proto_copy(data, size);
	uint64_t	 v;
	long		 frame;

	if (proto_parse_size(s, UINT64_MAX, &v) == 0) {
		FUZZ_ASSERT(s[0] >= '0' && s[0] <= '9');
		errno = 0;
		FUZZ_ASSERT(strtoull(s, NULL, 10) == v && errno == 0);
		FUZZ_ASSERT(proto_parse_size(s, v, &v) == 0);
		if (v > 0)
			FUZZ_ASSERT(proto_parse_size(s, v - 1, &v) == -1);
	}
	if (proto_parse_frame(s, &frame) == 0) {
		FUZZ_ASSERT(frame >= -1000000000L && frame <= 1000000000L);
		FUZZ_ASSERT(strtol(s, NULL, 10) == frame);
	}
	free(s);
}

/* Sanitise the input into buffers of several sizes. */
static void
fuzz_proto_sanitize(const uint8_t *data, size_t size)
{
	char	*in = fuzz_proto_copy(data, size);
	char	 out[PROTO_MAX_NAME + 16], again[PROTO_MAX_NAME + 16];
	size_t	 len;

	for (len = 1; len <= sizeof out; len += 1 + len / 2) {
		memset(out, 'X', sizeof out);
		proto_sanitize_name(in, out, len);
		FUZZ_ASSERT(strlen(out) < len);
		FUZZ_ASSERT(memchr(out, '\0', len) != NULL);
		if (len > 1) {
			FUZZ_ASSERT(proto_valid_file_name(out));
			proto_sanitize_name(out, again, sizeof again);
			FUZZ_ASSERT(strcmp(out, again) == 0);
		}
	}
	len = strlen(in);
	proto_sanitize_text(in);
	FUZZ_ASSERT(strlen(in) == len);
	FUZZ_ASSERT(proto_sanitize_text(in) == 0);
	free(in);
}

/* Put one input through every parser of the protocol. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_proto_request(data, size);
	fuzz_proto_replies(data, size);
	fuzz_proto_numbers(data, size);
	fuzz_proto_sanitize(data, size);
	return 0;
}
