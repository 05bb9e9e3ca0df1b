/*
 * test-proto.c: unit tests of the protocol lines: every request of the old
 * protocol, both replies a client parses, the checks on names, digests,
 * sizes and frames, and the sanitising of blend names.
 */
#include "bdfarm.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"
#include "unit.h"

#define DIGEST "0123456789abcdef0123456789abcdef"

/* The line under test; parsed structures point into it. */
static char	test_proto_line[PROTO_MAX_LINE * 2];

/* Copy text into the line buffer, so that the parser may write into it. */
static char *
test_proto_copy(const char *text)
{
	ck_assert_uint_lt(strlen(text), sizeof test_proto_line);
	strcpy(test_proto_line, text);
	return test_proto_line;
}

/* Parse text as a request that must be accepted. */
static void
test_proto_ok(const char *text, struct proto_request *req)
{
	const char	*cause = NULL;

	if (proto_parse_request(test_proto_copy(text), req, &cause) != 0)
		ck_abort_msg("\"%s\" refused: %s", text, cause);
}

/* Parse text as a request that must be refused, and return the reason. */
static const char *
test_proto_bad(const char *text)
{
	struct proto_request	 req;
	const char		*cause = NULL;

	if (proto_parse_request(test_proto_copy(text), &req, &cause) == 0)
		ck_abort_msg("\"%s\" accepted", text);
	ck_assert_ptr_nonnull(cause);
	return cause;
}

/* Fill buf with n copies of c and a terminator. */
static char *
test_proto_repeat(char *buf, int c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

START_TEST(test_proto_split)
{
	char	*t[3];
	char	 line[64];

	strcpy(line, "  a\tbb \r\n");
	ck_assert_int_eq(proto_split(line, t, 3), 2);
	ck_assert_str_eq(t[0], "a");
	ck_assert_str_eq(t[1], "bb");

	strcpy(line, "a b c d");
	ck_assert_int_eq(proto_split(line, t, 3), 4);

	strcpy(line, "a b c\r\n");
	ck_assert_int_eq(proto_split(line, t, 3), 3);
	ck_assert_str_eq(t[2], "c");

	strcpy(line, "");
	ck_assert_int_eq(proto_split(line, t, 3), 0);
	strcpy(line, " \t\r\n");
	ck_assert_int_eq(proto_split(line, t, 3), 0);
}
END_TEST

START_TEST(test_proto_helo_old)
{
	struct proto_request	req;

	test_proto_ok("HELO render1.example.org\r\n", &req);
	ck_assert_int_eq(req.cmd, PROTO_HELO);
	ck_assert_str_eq(req.host, "render1.example.org");
	ck_assert_int_eq(req.ext_version, 0);

	/* The old server reads only the first token after HELO. */
	test_proto_ok("HELO host something else", &req);
	ck_assert_str_eq(req.host, "host");
	ck_assert_int_eq(req.ext_version, 0);
}
END_TEST

START_TEST(test_proto_helo_ext)
{
	struct proto_request	req;

	test_proto_ok("HELO host bdfarm/1\r\n", &req);
	ck_assert_int_eq(req.cmd, PROTO_HELO);
	ck_assert_str_eq(req.host, "host");
	ck_assert_int_eq(req.ext_version, 1);

	test_proto_ok("HELO\thost\tbdfarm/7", &req);
	ck_assert_int_eq(req.ext_version, 7);

	test_proto_ok("HELO host bdfarm/0", &req);
	ck_assert_int_eq(req.ext_version, 0);
	test_proto_ok("HELO host bdfarm/", &req);
	ck_assert_int_eq(req.ext_version, 0);
	test_proto_ok("HELO host bdfarm/x", &req);
	ck_assert_int_eq(req.ext_version, 0);
	test_proto_ok("HELO host bdfarm", &req);
	ck_assert_int_eq(req.ext_version, 0);
	test_proto_ok("HELO host bdfarmx/1", &req);
	ck_assert_int_eq(req.ext_version, 0);
	test_proto_ok("HELO host other/1", &req);
	ck_assert_int_eq(req.ext_version, 0);
	test_proto_ok("HELO host bdfarm/-1", &req);
	ck_assert_int_eq(req.ext_version, 0);

	ck_assert_int_eq(proto_parse_ext(NULL), 0);
	ck_assert_int_eq(proto_parse_ext("bdfarm/1"), 1);
	ck_assert_int_eq(proto_parse_ext("BDFARM/1"), 0);
}
END_TEST

START_TEST(test_proto_helo_bad)
{
	char	line[600], host[300];

	test_proto_bad("HELO");
	test_proto_bad("HELO\r\n");
	ck_assert_str_eq(test_proto_bad("HELO a/b"), "bad name");

	snprintf(line, sizeof line, "HELO %s",
	    test_proto_repeat(host, 'h', PROTO_MAX_NAME + 1));
	ck_assert_str_eq(test_proto_bad(line), "bad name");

	snprintf(line, sizeof line, "HELO %s",
	    test_proto_repeat(host, 'h', PROTO_MAX_NAME));
	{
		struct proto_request	req;

		test_proto_ok(line, &req);
		ck_assert_uint_eq(strlen(req.host), PROTO_MAX_NAME);
	}

	ck_assert_int_eq(proto_valid_host("a\x01" "b"), 0);
	ck_assert_int_eq(proto_valid_host(""), 0);
	ck_assert_int_eq(proto_valid_host("host-1.example"), 1);
}
END_TEST

START_TEST(test_proto_requestblenderdist)
{
	struct proto_request	req;

	test_proto_ok("REQUESTBLENDERDIST\r\n", &req);
	ck_assert_int_eq(req.cmd, PROTO_REQUESTBLENDERDIST);
	test_proto_ok("  REQUESTBLENDERDIST", &req);
	ck_assert_int_eq(req.cmd, PROTO_REQUESTBLENDERDIST);
	test_proto_bad("REQUESTBLENDERDIST now");
}
END_TEST

START_TEST(test_proto_requestjob)
{
	struct proto_request	req;

	test_proto_ok("REQUESTJOB 2\r\n", &req);
	ck_assert_int_eq(req.cmd, PROTO_REQUESTJOB);
	ck_assert_int_eq(req.available, 2);

	test_proto_ok("REQUESTJOB\t3", &req);
	ck_assert_int_eq(req.available, 3);

	test_proto_ok("REQUESTJOB 0", &req);
	ck_assert_int_eq(req.available, 0);

	/* Never below 0, whatever a peer says. */
	test_proto_ok("REQUESTJOB -3", &req);
	ck_assert_int_eq(req.available, 0);

	/* A large count is capped, not taken as is. */
	test_proto_ok("REQUESTJOB 1000000", &req);
	ck_assert_int_gt(req.available, 0);
	ck_assert_int_le(req.available, 100000);

	ck_assert_str_eq(test_proto_bad("REQUESTJOB abc"),
	    "bad renderer count");
	ck_assert_str_eq(test_proto_bad("REQUESTJOB 2.5"),
	    "bad renderer count");
	ck_assert_str_eq(test_proto_bad("REQUESTJOB 99999999999999999999"),
	    "bad renderer count");
	test_proto_bad("REQUESTJOB");
	test_proto_bad("REQUESTJOB 1 2");
}
END_TEST

START_TEST(test_proto_requestblenderfile)
{
	struct proto_request	req;

	test_proto_ok("REQUESTBLENDERFILE scene.blend " DIGEST "\r\n", &req);
	ck_assert_int_eq(req.cmd, PROTO_REQUESTBLENDERFILE);
	ck_assert_str_eq(req.blend, "scene.blend");
	ck_assert_str_eq(req.digest, DIGEST);

	ck_assert_str_eq(test_proto_bad("REQUESTBLENDERFILE ../scene.blend "
	    DIGEST), "bad name");
	ck_assert_str_eq(test_proto_bad("REQUESTBLENDERFILE .scene.blend "
	    DIGEST), "bad name");
	ck_assert_str_eq(test_proto_bad("REQUESTBLENDERFILE scene.blend "
	    "0123456789ABCDEF0123456789ABCDEF"), "bad digest");
	ck_assert_str_eq(test_proto_bad("REQUESTBLENDERFILE scene.blend "
	    "0123456789abcdef"), "bad digest");
	test_proto_bad("REQUESTBLENDERFILE scene.blend");
	test_proto_bad("REQUESTBLENDERFILE scene.blend " DIGEST " x");
}
END_TEST

START_TEST(test_proto_results)
{
	struct proto_request	req;

	test_proto_ok("RESULTS scene.blend " DIGEST " 5 0005.tga 1234\r\n",
	    &req);
	ck_assert_int_eq(req.cmd, PROTO_RESULTS);
	ck_assert_str_eq(req.blend, "scene.blend");
	ck_assert_str_eq(req.digest, DIGEST);
	ck_assert_int_eq(req.frame, 5);
	ck_assert_str_eq(req.image, "0005.tga");
	ck_assert_uint_eq(req.size, 1234);

	test_proto_ok("RESULTS\tscene.blend\t" DIGEST "\t-12\t-012.png\t0",
	    &req);
	ck_assert_int_eq(req.frame, -12);
	ck_assert_str_eq(req.image, "-012.png");
	ck_assert_uint_eq(req.size, 0);

	test_proto_ok("RESULTS s.blend " DIGEST " 1 1.png "
	    "18446744073709551615", &req);
	ck_assert_uint_eq(req.size, UINT64_MAX);

	ck_assert_str_eq(test_proto_bad("RESULTS s.blend " DIGEST
	    " 1 1.png 18446744073709551616"), "bad size");
	ck_assert_str_eq(test_proto_bad("RESULTS s.blend " DIGEST
	    " 1 1.png 12k"), "bad size");
	ck_assert_str_eq(test_proto_bad("RESULTS s.blend " DIGEST
	    " 1 1.png -1"), "bad size");
	ck_assert_str_eq(test_proto_bad("RESULTS s.blend " DIGEST
	    " five 1.png 10"), "bad frame number");
	ck_assert_str_eq(test_proto_bad("RESULTS s/x.blend " DIGEST
	    " 1 1.png 10"), "bad name");
	ck_assert_str_eq(test_proto_bad("RESULTS s.blend " DIGEST "0"
	    " 1 1.png 10"), "bad digest");
	test_proto_bad("RESULTS s.blend " DIGEST " 1 1.png");
	test_proto_bad("RESULTS s.blend " DIGEST " 1 1.png 10 extra");
}
END_TEST

START_TEST(test_proto_results_image)
{
	struct proto_request	req;

	/*
	 * A bad image name is not a protocol error: the server answers NOK,
	 * so the line must parse and the name must then fail the file name
	 * check.
	 */
	test_proto_ok("RESULTS s.blend " DIGEST " 1 ../../x 10", &req);
	ck_assert_str_eq(req.image, "../../x");
	ck_assert_int_eq(proto_valid_file_name(req.image), 0);
	test_proto_ok("RESULTS s.blend " DIGEST " 1 0001.png 10", &req);
	ck_assert_int_eq(proto_valid_file_name(req.image), 1);
}
END_TEST

START_TEST(test_proto_goodbye)
{
	struct proto_request	req;

	test_proto_ok("GOODBYE\r\n", &req);
	ck_assert_int_eq(req.cmd, PROTO_GOODBYE);
	test_proto_ok("GOODBYE", &req);
	ck_assert_int_eq(req.cmd, PROTO_GOODBYE);
	test_proto_bad("GOODBYE now");
}
END_TEST

START_TEST(test_proto_unknown)
{
	ck_assert_str_eq(test_proto_bad("FOO"), "unknown command");
	ck_assert_str_eq(test_proto_bad("helo host"), "unknown command");
	ck_assert_str_eq(test_proto_bad("goodbye"), "unknown command");
	ck_assert_str_eq(test_proto_bad("REQUESTJOBS 1"), "unknown command");
	ck_assert_str_eq(test_proto_bad(""), "empty line");
	ck_assert_str_eq(test_proto_bad("\r\n"), "empty line");
	ck_assert_str_eq(test_proto_bad(" \t "), "empty line");
	ck_assert_str_eq(test_proto_bad("HELO a b c d e f g h i"),
	    "too many tokens");
}
END_TEST

START_TEST(test_proto_file_name)
{
	char	name[300];

	ck_assert_int_eq(proto_valid_file_name("0005.tga"), 1);
	ck_assert_int_eq(proto_valid_file_name("scene.blend"), 1);
	ck_assert_int_eq(proto_valid_file_name("a..b"), 1);
	ck_assert_int_eq(proto_valid_file_name("\xc3\xa9t\xc3\xa9.png"), 1);
	ck_assert_int_eq(proto_valid_file_name(
	    test_proto_repeat(name, 'n', PROTO_MAX_NAME)), 1);

	ck_assert_int_eq(proto_valid_file_name(
	    test_proto_repeat(name, 'n', PROTO_MAX_NAME + 1)), 0);
	ck_assert_int_eq(proto_valid_file_name(""), 0);
	ck_assert_int_eq(proto_valid_file_name("a/b"), 0);
	ck_assert_int_eq(proto_valid_file_name("/etc"), 0);
	ck_assert_int_eq(proto_valid_file_name("dir/"), 0);
	ck_assert_int_eq(proto_valid_file_name("."), 0);
	ck_assert_int_eq(proto_valid_file_name(".."), 0);
	ck_assert_int_eq(proto_valid_file_name("../x"), 0);
	ck_assert_int_eq(proto_valid_file_name(".hidden"), 0);
	ck_assert_int_eq(proto_valid_file_name("a\\b"), 0);
	ck_assert_int_eq(proto_valid_file_name("..\\x"), 0);
	ck_assert_int_eq(proto_valid_file_name("a\x01" "b"), 0);
	ck_assert_int_eq(proto_valid_file_name("a\x1b[2J"), 0);
	ck_assert_int_eq(proto_valid_file_name("a\x7f"), 0);
	ck_assert_int_eq(proto_valid_file_name("a b"), 0);
	ck_assert_int_eq(proto_valid_file_name("a\tb"), 0);
	ck_assert_int_eq(proto_valid_file_name("a\n"), 0);
}
END_TEST

START_TEST(test_proto_digest)
{
	ck_assert_int_eq(proto_valid_digest(DIGEST), 1);
	ck_assert_int_eq(proto_valid_digest("d41d8cd98f00b204e9800998ecf8427e"),
	    1);
	ck_assert_int_eq(proto_valid_digest("D41D8CD98F00B204E9800998ECF8427E"),
	    0);
	ck_assert_int_eq(proto_valid_digest("d41d8cd98f00b204e9800998ecf8427E"),
	    0);
	ck_assert_int_eq(proto_valid_digest("d41d8cd98f00b204e9800998ecf8427"),
	    0);
	ck_assert_int_eq(proto_valid_digest("d41d8cd98f00b204e9800998ecf8427e0"),
	    0);
	ck_assert_int_eq(proto_valid_digest("g41d8cd98f00b204e9800998ecf8427e"),
	    0);
	ck_assert_int_eq(proto_valid_digest(""), 0);
}
END_TEST

START_TEST(test_proto_size)
{
	uint64_t	v = 7;

	ck_assert_int_eq(proto_parse_size("0", UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(proto_parse_size("123", UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, 123);
	ck_assert_int_eq(proto_parse_size("18446744073709551615", UINT64_MAX,
	    &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);

	/* At most the limit the caller gives. */
	ck_assert_int_eq(proto_parse_size("99", 99, &v), 0);
	ck_assert_uint_eq(v, 99);
	v = 7;
	ck_assert_int_eq(proto_parse_size("100", 99, &v), -1);
	ck_assert_uint_eq(v, 7);

	ck_assert_int_eq(proto_parse_size("18446744073709551616", UINT64_MAX,
	    &v), -1);
	ck_assert_int_eq(proto_parse_size("99999999999999999999", UINT64_MAX,
	    &v), -1);
	ck_assert_int_eq(proto_parse_size("184467440737095516150", UINT64_MAX,
	    &v), -1);
	ck_assert_int_eq(proto_parse_size("", UINT64_MAX, &v), -1);
	ck_assert_int_eq(proto_parse_size("12a", UINT64_MAX, &v), -1);
	ck_assert_int_eq(proto_parse_size("abc", UINT64_MAX, &v), -1);
	ck_assert_int_eq(proto_parse_size("-1", UINT64_MAX, &v), -1);
	ck_assert_int_eq(proto_parse_size("+1", UINT64_MAX, &v), -1);
	ck_assert_int_eq(proto_parse_size(" 1", UINT64_MAX, &v), -1);
	ck_assert_int_eq(proto_parse_size("0x10", UINT64_MAX, &v), -1);
	ck_assert_uint_eq(v, 7);
}
END_TEST

START_TEST(test_proto_frame)
{
	long	v = 7;

	ck_assert_int_eq(proto_parse_frame("0", &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(proto_parse_frame("-5", &v), 0);
	ck_assert_int_eq(v, -5);
	ck_assert_int_eq(proto_parse_frame("1000000000", &v), 0);
	ck_assert_int_eq(v, 1000000000L);
	ck_assert_int_eq(proto_parse_frame("-1000000000", &v), 0);
	ck_assert_int_eq(v, -1000000000L);

	v = 7;
	ck_assert_int_eq(proto_parse_frame("1000000001", &v), -1);
	ck_assert_int_eq(proto_parse_frame("-1000000001", &v), -1);
	ck_assert_int_eq(proto_parse_frame("99999999999999999999999", &v), -1);
	ck_assert_int_eq(proto_parse_frame("", &v), -1);
	ck_assert_int_eq(proto_parse_frame("-", &v), -1);
	ck_assert_int_eq(proto_parse_frame(" 5", &v), -1);
	ck_assert_int_eq(proto_parse_frame("5 ", &v), -1);
	ck_assert_int_eq(proto_parse_frame("5x", &v), -1);
	ck_assert_int_eq(proto_parse_frame("0x10", &v), -1);
	ck_assert_int_eq(proto_parse_frame("1.0", &v), -1);
	ck_assert_int_eq(v, 7);
}
END_TEST

START_TEST(test_proto_helo_reply)
{
	struct proto_helo_reply	r;
	char			line[128];

	strcpy(line, DIGEST " 1\r\n");
	ck_assert_int_eq(proto_parse_helo_reply(line, &r), 0);
	ck_assert_str_eq(r.digest, DIGEST);
	ck_assert_int_eq(r.todo, 1);
	ck_assert_int_eq(r.ext_version, 0);

	strcpy(line, DIGEST "\t0");
	ck_assert_int_eq(proto_parse_helo_reply(line, &r), 0);
	ck_assert_int_eq(r.todo, 0);

	strcpy(line, DIGEST " STOPPING\r\n");
	ck_assert_int_eq(proto_parse_helo_reply(line, &r), 0);
	ck_assert_int_eq(r.todo, -1);

	strcpy(line, DIGEST " 1 bdfarm/1\r\n");
	ck_assert_int_eq(proto_parse_helo_reply(line, &r), 0);
	ck_assert_int_eq(r.todo, 1);
	ck_assert_int_eq(r.ext_version, 1);

	strcpy(line, DIGEST " 0 unknown/3");
	ck_assert_int_eq(proto_parse_helo_reply(line, &r), 0);
	ck_assert_int_eq(r.ext_version, 0);

	strcpy(line, DIGEST " 2");
	ck_assert_int_eq(proto_parse_helo_reply(line, &r), -1);
	strcpy(line, DIGEST " stopping");
	ck_assert_int_eq(proto_parse_helo_reply(line, &r), -1);
	strcpy(line, DIGEST " yes");
	ck_assert_int_eq(proto_parse_helo_reply(line, &r), -1);
	strcpy(line, DIGEST);
	ck_assert_int_eq(proto_parse_helo_reply(line, &r), -1);
	strcpy(line, DIGEST " 1 bdfarm/1 more");
	ck_assert_int_eq(proto_parse_helo_reply(line, &r), -1);
	strcpy(line, "\r\n");
	ck_assert_int_eq(proto_parse_helo_reply(line, &r), -1);
}
END_TEST

START_TEST(test_proto_job_reply)
{
	struct proto_job_reply	r;
	char			line[128];

	strcpy(line, "None\r\n");
	ck_assert_int_eq(proto_parse_job_reply(line, &r), 0);
	ck_assert_ptr_null(r.blend);

	strcpy(line, "scene.blend " DIGEST " 12\r\n");
	ck_assert_int_eq(proto_parse_job_reply(line, &r), 0);
	ck_assert_str_eq(r.blend, "scene.blend");
	ck_assert_str_eq(r.digest, DIGEST);
	ck_assert_int_eq(r.frame, 12);

	strcpy(line, "scene.blend\t" DIGEST "\t-3");
	ck_assert_int_eq(proto_parse_job_reply(line, &r), 0);
	ck_assert_int_eq(r.frame, -3);

	strcpy(line, "none");
	ck_assert_int_eq(proto_parse_job_reply(line, &r), -1);
	strcpy(line, "None extra");
	ck_assert_int_eq(proto_parse_job_reply(line, &r), -1);
	strcpy(line, "scene.blend " DIGEST);
	ck_assert_int_eq(proto_parse_job_reply(line, &r), -1);
	strcpy(line, "scene.blend " DIGEST " 12 13");
	ck_assert_int_eq(proto_parse_job_reply(line, &r), -1);
	strcpy(line, "scene.blend 0123456789ABCDEF0123456789ABCDEF 12");
	ck_assert_int_eq(proto_parse_job_reply(line, &r), -1);
	strcpy(line, "../scene.blend " DIGEST " 12");
	ck_assert_int_eq(proto_parse_job_reply(line, &r), -1);
	strcpy(line, "scene.blend " DIGEST " twelve");
	ck_assert_int_eq(proto_parse_job_reply(line, &r), -1);
	strcpy(line, "");
	ck_assert_int_eq(proto_parse_job_reply(line, &r), -1);
}
END_TEST

START_TEST(test_proto_sanitize)
{
	char	out[PROTO_MAX_NAME * 2], in[PROTO_MAX_NAME * 2];
	int	c;

	proto_sanitize_name("my scene.blend", out, sizeof out);
	ck_assert_str_eq(out, "my_scene.blend");
	proto_sanitize_name("a/b\\c", out, sizeof out);
	ck_assert_str_eq(out, "a_b_c");
	proto_sanitize_name(".hidden.blend", out, sizeof out);
	ck_assert_str_eq(out, "_hidden.blend");
	proto_sanitize_name("..", out, sizeof out);
	ck_assert_int_eq(proto_valid_file_name(out), 1);
	proto_sanitize_name("", out, sizeof out);
	ck_assert_str_eq(out, "_");
	proto_sanitize_name("tab\there\r\n", out, sizeof out);
	ck_assert_str_eq(out, "tab_here__");
	proto_sanitize_name("scene.blend", out, sizeof out);
	ck_assert_str_eq(out, "scene.blend");

	/* Cut to the buffer, and never beyond the longest name. */
	proto_sanitize_name("abcdef", out, 4);
	ck_assert_str_eq(out, "abc");
	proto_sanitize_name("abcdef", out, 1);
	ck_assert_str_eq(out, "");
	proto_sanitize_name(test_proto_repeat(in, 'x', PROTO_MAX_NAME + 40),
	    out, sizeof out);
	ck_assert_uint_eq(strlen(out), PROTO_MAX_NAME);

	/* Whatever one byte comes in, a valid token comes out. */
	for (c = 1; c < 256; c++) {
		in[0] = (char)c;
		in[1] = 'x';
		in[2] = '\0';
		proto_sanitize_name(in, out, sizeof out);
		ck_assert_msg(proto_valid_file_name(out),
		    "byte 0x%02x gives an invalid name", c);
		in[1] = '\0';
		proto_sanitize_name(in, out, sizeof out);
		ck_assert_msg(proto_valid_file_name(out),
		    "byte 0x%02x alone gives an invalid name", c);
	}
}
END_TEST

/*
 * A peer's line made fit for logs: white space becomes a space, other
 * controls and bytes that are not UTF-8 become '?', UTF-8 text stays.
 */
START_TEST(test_proto_sanitize_text)
{
	char	line[64];

	snprintf(line, sizeof line, "HELO evil\033[2J\033]0;x\007.example");
	ck_assert_uint_eq(proto_sanitize_text(line), 3);
	ck_assert_str_eq(line, "HELO evil?[2J?]0;x?.example");
	snprintf(line, sizeof line, "FAILED a\tb\vc\fd\re f");
	ck_assert_uint_eq(proto_sanitize_text(line), 4);
	ck_assert_str_eq(line, "FAILED a b c d e f");
	snprintf(line, sizeof line, "del\177 c1\302\233 csi\233 end");
	ck_assert_uint_eq(proto_sanitize_text(line), 4);
	ck_assert_str_eq(line, "del? c1?? csi? end");
	/* Overlong, surrogate, beyond U+10FFFF, cut short: not UTF-8. */
	snprintf(line, sizeof line,
	    "\300\257 \355\240\200 \364\220\200\200 \342\202");
	ck_assert_uint_eq(proto_sanitize_text(line), 11);
	ck_assert_str_eq(line, "?? ??? ???? ??");
	snprintf(line, sizeof line,
	    "caf\303\251 \342\202\254 \360\237\216\254 \302\240");
	ck_assert_uint_eq(proto_sanitize_text(line), 0);
	ck_assert_str_eq(line,
	    "caf\303\251 \342\202\254 \360\237\216\254 \302\240");
	line[0] = '\0';
	ck_assert_uint_eq(proto_sanitize_text(line), 0);
}
END_TEST

/*
 * A .blend's token is left as it is by the cleaning of what peers send
 * back, whatever bytes its file name holds, and no character is cut.
 */
START_TEST(test_proto_sanitize_name_utf8)
{
	char	out[PROTO_MAX_NAME + 1], in[8];
	int	c;

	proto_sanitize_name("caf\351.blend", out, sizeof out);
	ck_assert_str_eq(out, "caf_.blend");
	proto_sanitize_name("caf\303\251.blend", out, sizeof out);
	ck_assert_str_eq(out, "caf\303\251.blend");
	proto_sanitize_name("c1\302\233", out, sizeof out);
	ck_assert_str_eq(out, "c1__");
	proto_sanitize_name("ab\303\251", out, 4);
	ck_assert_str_eq(out, "ab");
	for (c = 0x80; c < 256; c++) {
		snprintf(in, sizeof in, "%c%c%cx", c, 0x80 + c % 64, 0xa0);
		proto_sanitize_name(in, out, sizeof out);
		ck_assert_msg(proto_valid_file_name(out),
		    "lead byte 0x%02x gives a token peers cannot send back", c);
		ck_assert_uint_eq(proto_sanitize_text(out), 0);
	}
}
END_TEST

/*
 * The names a peer sends are refused with control characters or bytes
 * that are not UTF-8 in them, whatever the locale; a failure's reason is
 * free text, made fit for the logs instead.
 */
START_TEST(test_proto_names_utf8)
{
	struct proto_request	 req;
	const char		*cause;
	char			 line[128];

	ck_assert(proto_valid_file_name("caf\303\251.blend"));
	ck_assert(!proto_valid_file_name("caf\351.blend"));
	ck_assert(!proto_valid_file_name("c1\302\233.blend"));
	ck_assert(!proto_valid_file_name("esc\033[1m.png"));
	ck_assert(proto_valid_host("node-1.example"));
	ck_assert(!proto_valid_host("n\303\251.example"));
	ck_assert(!proto_valid_host("n\351.example"));
	ck_assert(!proto_valid_host("esc\033.example"));

	snprintf(line, sizeof line, "HELO evil\033[31m.example");
	ck_assert_int_eq(proto_parse_request(line, &req, &cause), -1);
	snprintf(line, sizeof line, "FACTS 1 2 4.2\033[2J");
	ck_assert_int_eq(proto_parse_request(line, &req, &cause), -1);
	snprintf(line, sizeof line, "FAILED s.blend %s 3 0 boom\033[2J\t\233x",
	    "0123456789abcdef0123456789abcdef");
	ck_assert_int_eq(proto_parse_request(line, &req, &cause), 0);
	ck_assert_str_eq(req.reason, "boom?[2J ?x");
}
END_TEST

/* Version 3: the files a .blend names, and the files Blender missed. */
START_TEST(test_proto_files)
{
	struct proto_request	 req;
	char			 path[PROTO_MAX_MISSING + 2], line[PROTO_MAX_LINE];

	test_proto_ok("REQUESTFILES s.blend 0123456789abcdef0123456789abcdef",
	    &req);
	ck_assert_int_eq(req.cmd, PROTO_REQUESTFILES);
	ck_assert_str_eq(req.blend, "s.blend");
	test_proto_ok("REQUESTFILE s.blend 0123456789abcdef0123456789abcdef "
	    "fedcba9876543210fedcba9876543210", &req);
	ck_assert_int_eq(req.cmd, PROTO_REQUESTFILE);
	ck_assert_str_eq(req.digest, "0123456789abcdef0123456789abcdef");
	ck_assert_str_eq(req.file_digest, "fedcba9876543210fedcba9876543210");
	test_proto_bad("REQUESTFILE s.blend 0123456789abcdef0123456789abcdef "
	    "../../etc/passwd");
	test_proto_bad("REQUESTFILE s.blend 0123456789abcdef0123456789abcdef");
	test_proto_bad("REQUESTFILES s.blend");
	test_proto_bad("REQUESTFILES ../s.blend "
	    "0123456789abcdef0123456789abcdef");

	test_proto_ok("MISSING s.blend 0123456789abcdef0123456789abcdef -4 "
	    "/srv/tex/wood grain.png", &req);
	ck_assert_int_eq(req.cmd, PROTO_MISSING);
	ck_assert_int_eq(req.frame, -4);
	ck_assert_str_eq(req.path, "/srv/tex/wood grain.png");
	test_proto_ok("MISSING s.blend 0123456789abcdef0123456789abcdef 1 "
	    "/a\033[2J", &req);
	test_proto_bad("MISSING s.blend 0123456789abcdef0123456789abcdef 1");
	test_proto_bad("MISSING s.blend 0123456789abcdef0123456789abcdef 1 ");
	snprintf(line, sizeof line,
	    "MISSING s.blend 0123456789abcdef0123456789abcdef 1 %s",
	    test_proto_repeat(path, 'a', PROTO_MAX_MISSING + 1));
	ck_assert_str_eq(test_proto_bad(line), "bad missing file");
}
END_TEST

/* Version 4: the client's warm Blenders. */
START_TEST(test_proto_warm)
{
	struct proto_request	 req;
	char			 line[PROTO_MAX_LINE];
	int			 i;

	test_proto_ok("WARM", &req);
	ck_assert_int_eq(req.cmd, PROTO_WARM);
	ck_assert_int_eq(req.nwarm, 0);
	test_proto_ok("WARM 37 - 0", &req);
	ck_assert_int_eq(req.nwarm, 3);
	ck_assert_int_eq(req.warm[0], 37);
	ck_assert_int_eq(req.warm[1], -1);
	ck_assert_int_eq(req.warm[2], 0);
	test_proto_ok("WARM\t1000000000 ", &req);
	ck_assert_int_eq(req.warm[0], PROTO_MAX_LIVED);
	test_proto_bad("WARM 1000000001");
	test_proto_bad("WARM -1");
	test_proto_bad("WARM 3x");
	test_proto_bad("WARM --");
	test_proto_bad("WARMTH 1");

	/* At most PROTO_MAX_WARM of them. */
	strcpy(line, "WARM");
	for (i = 0; i < PROTO_MAX_WARM; i++)
		strcat(line, " 1");
	test_proto_ok(line, &req);
	ck_assert_int_eq(req.nwarm, PROTO_MAX_WARM);
	strcat(line, " 1");
	ck_assert_str_eq(test_proto_bad(line), "too many warm Blenders");
}
END_TEST

/* The protocol suite, for unit.c. */
Suite *
proto_suite(void)
{
	Suite	*s = suite_create("proto");
	TCase	*tc = tcase_create("lines");

	tcase_add_test(tc, test_proto_split);
	tcase_add_test(tc, test_proto_helo_old);
	tcase_add_test(tc, test_proto_helo_ext);
	tcase_add_test(tc, test_proto_helo_bad);
	tcase_add_test(tc, test_proto_requestblenderdist);
	tcase_add_test(tc, test_proto_requestjob);
	tcase_add_test(tc, test_proto_requestblenderfile);
	tcase_add_test(tc, test_proto_results);
	tcase_add_test(tc, test_proto_results_image);
	tcase_add_test(tc, test_proto_goodbye);
	tcase_add_test(tc, test_proto_unknown);
	tcase_add_test(tc, test_proto_file_name);
	tcase_add_test(tc, test_proto_digest);
	tcase_add_test(tc, test_proto_size);
	tcase_add_test(tc, test_proto_frame);
	tcase_add_test(tc, test_proto_helo_reply);
	tcase_add_test(tc, test_proto_job_reply);
	tcase_add_test(tc, test_proto_sanitize);
	tcase_add_test(tc, test_proto_sanitize_text);
	tcase_add_test(tc, test_proto_sanitize_name_utf8);
	tcase_add_test(tc, test_proto_names_utf8);
	tcase_add_test(tc, test_proto_files);
	tcase_add_test(tc, test_proto_warm);
	suite_add_tcase(s, tc);
	return s;
}
