/*
 * test-client-manifest.c: unit tests of what a client takes from a
 * bdfarm/3 server's list of a scene's files: the FILES head and entries
 * (src/proto.c), and the server paths it agrees to lay out in a scene
 * folder (src/client-manifest.c).
 */
#include "bdfarm.h"

#include <stdio.h>
#include <string.h>

#include "client.h"
#include "proto.h"
#include "unit.h"

/* The line under test; the parse points into it. */
static char	test_client_manifest_line[8192];

/* A modifiable copy of text. */
static char *
test_client_manifest_copy(const char *text)
{
	ck_assert_uint_lt(strlen(text), sizeof test_client_manifest_line);
	strcpy(test_client_manifest_line, text);
	return test_client_manifest_line;
}

START_TEST(test_client_manifest_files_reply)
{
	struct proto_files_reply	r;

	ck_assert_int_eq(proto_parse_files_reply(test_client_manifest_copy(
	    "FILES 3 -"), &r), 0);
	ck_assert_int_eq(r.nok, 0);
	ck_assert_int_eq(r.count, 3);
	ck_assert_int_eq(r.allow_missing, 0);
	ck_assert_int_eq(proto_parse_files_reply(test_client_manifest_copy(
	    "FILES 1 allow-missing"), &r), 0);
	ck_assert_int_eq(r.allow_missing, 1);
	ck_assert_int_eq(r.fresh_blender, 0);
	ck_assert_int_eq(proto_parse_files_reply(test_client_manifest_copy(
	    "FILES 1 fresh-blender"), &r), 0);
	ck_assert_int_eq(r.allow_missing, 0);
	ck_assert_int_eq(r.fresh_blender, 1);
	ck_assert_int_eq(proto_parse_files_reply(test_client_manifest_copy(
	    "FILES 1 fresh-blender,allow-missing"), &r), 0);
	ck_assert_int_eq(r.allow_missing, 1);
	ck_assert_int_eq(r.fresh_blender, 1);
	ck_assert_int_eq(proto_parse_files_reply(test_client_manifest_copy(
	    "NOK"), &r), 0);
	ck_assert_int_eq(r.nok, 1);

	/* The .blend is always listed: no empty list. */
	ck_assert_int_eq(proto_parse_files_reply(test_client_manifest_copy(
	    "FILES 0 -"), &r), -1);
	ck_assert_int_eq(proto_parse_files_reply(test_client_manifest_copy(
	    "FILES -2 -"), &r), -1);
	ck_assert_int_eq(proto_parse_files_reply(test_client_manifest_copy(
	    "FILES 2 maybe"), &r), -1);
	ck_assert_int_eq(proto_parse_files_reply(test_client_manifest_copy(
	    "FILES 2"), &r), -1);
	ck_assert_int_eq(proto_parse_files_reply(test_client_manifest_copy(
	    "FILES 2 allow-missing,"), &r), -1);
	ck_assert_int_eq(proto_parse_files_reply(test_client_manifest_copy(
	    "FILES 2 ,fresh-blender"), &r), -1);
	ck_assert_int_eq(proto_parse_files_reply(test_client_manifest_copy(
	    "FILES 2 allow-missing,later"), &r), -1);
	ck_assert_int_eq(proto_parse_files_reply(test_client_manifest_copy(
	    "FILES 99999999 -"), &r), -1);
	ck_assert_int_eq(proto_parse_files_reply(test_client_manifest_copy(
	    "12"), &r), -1);
}
END_TEST

/* The flags a server sends: fresh-blender only from version 4 on. */
START_TEST(test_client_manifest_files_flags)
{
	static const struct {
		int		 version, allow, fresh;
		const char	*want;
	} t[] = {
		{ 3, 0, 0, "-" },
		{ 3, 1, 0, "allow-missing" },
		{ 3, 0, 1, "-" },
		{ 3, 1, 1, "allow-missing" },
		{ 4, 0, 0, "-" },
		{ 4, 1, 0, "allow-missing" },
		{ 4, 0, 1, "fresh-blender" },
		{ 4, 1, 1, "allow-missing,fresh-blender" },
	};
	struct proto_files_reply	 r;
	char				 flags[PROTO_FILES_FLAGS];
	size_t				 i;

	for (i = 0; i < nitems(t); i++) {
		proto_files_flags(t[i].version, t[i].allow, t[i].fresh, flags);
		ck_assert_str_eq(flags, t[i].want);
		snprintf(test_client_manifest_line,
		    sizeof test_client_manifest_line, "FILES 1 %s", flags);
		ck_assert_int_eq(proto_parse_files_reply(
		    test_client_manifest_line, &r), 0);
		ck_assert_int_eq(r.allow_missing, t[i].allow);
		ck_assert_int_eq(r.fresh_blender,
		    t[i].version >= 4 && t[i].fresh);
	}
}
END_TEST

START_TEST(test_client_manifest_file_entry)
{
	struct proto_file_entry	e;

	ck_assert_int_eq(proto_parse_file_entry(test_client_manifest_copy(
	    "0123456789abcdef0123456789abcdef 1200 /p/my tex/wood.png"), &e),
	    0);
	ck_assert_str_eq(e.digest, "0123456789abcdef0123456789abcdef");
	ck_assert_uint_eq(e.size, 1200);
	ck_assert_str_eq(e.path, "/p/my tex/wood.png");

	/* Missing on the server. */
	ck_assert_int_eq(proto_parse_file_entry(test_client_manifest_copy(
	    "- 0 /p/gone.png"), &e), 0);
	ck_assert_ptr_null(e.digest);
	ck_assert_str_eq(e.path, "/p/gone.png");
	ck_assert_int_eq(proto_parse_file_entry(test_client_manifest_copy(
	    "- 5 /p/gone.png"), &e), -1);

	ck_assert_int_eq(proto_parse_file_entry(test_client_manifest_copy(
	    "0123456789ABCDEF0123456789abcdef 1 /p/x"), &e), -1);
	ck_assert_int_eq(proto_parse_file_entry(test_client_manifest_copy(
	    "0123456789abcdef0123456789abcdef x1 /p/x"), &e), -1);
	ck_assert_int_eq(proto_parse_file_entry(test_client_manifest_copy(
	    "0123456789abcdef0123456789abcdef 1"), &e), -1);
	ck_assert_int_eq(proto_parse_file_entry(test_client_manifest_copy(
	    "0123456789abcdef0123456789abcdef 1 /p/a\tb"), &e), -1);
}
END_TEST

START_TEST(test_client_manifest_paths)
{
	ck_assert_int_eq(client_manifest_valid_path("/p/tex/wood.png"), 1);
	ck_assert_int_eq(client_manifest_valid_path("/wood.png"), 1);
	ck_assert_int_eq(client_manifest_valid_path("/p/..x/x..png"), 1);
	ck_assert_int_eq(client_manifest_valid_path("/p/.hidden"), 1);

	ck_assert_int_eq(client_manifest_valid_path("p/wood.png"), 0);
	ck_assert_int_eq(client_manifest_valid_path("//p/wood.png"), 1);
	ck_assert_int_eq(client_manifest_valid_path("/p/../etc/x"), 0);
	ck_assert_int_eq(client_manifest_valid_path("/p/./x"), 0);
	ck_assert_int_eq(client_manifest_valid_path("/.."), 0);
	ck_assert_int_eq(client_manifest_valid_path("/p/.."), 0);
	ck_assert_int_eq(client_manifest_valid_path("/p/"), 0);
	ck_assert_int_eq(client_manifest_valid_path("/"), 0);
}
END_TEST

/* The suite of a client's file lists. */
Suite *
client_manifest_suite(void)
{
	Suite	*s = suite_create("client-manifest");
	TCase	*tc = tcase_create("lists");

	tcase_add_test(tc, test_client_manifest_files_reply);
	tcase_add_test(tc, test_client_manifest_files_flags);
	tcase_add_test(tc, test_client_manifest_file_entry);
	tcase_add_test(tc, test_client_manifest_paths);
	suite_add_tcase(s, tc);
	return s;
}
