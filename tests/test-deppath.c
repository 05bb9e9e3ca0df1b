/*
 * test-deppath.c: unit tests of the paths a .blend gives for the files it
 * needs: where they are on the server, and which files of a folder a
 * sequence or a set of tiles stands for.
 */
#include "bdfarm.h"

#include <stdlib.h>
#include <string.h>

#include "deppath.h"
#include "unit.h"

/* Check where the .blend at blend finds path. */
static void
test_deppath_is(const char *blend, const char *path, const char *want)
{
	char	*got = deppath_resolve(blend, path);

	if (want == NULL)
		ck_assert_msg(got == NULL, "\"%s\" in %s resolved to \"%s\"",
		    path, blend, got);
	else
		ck_assert_msg(got != NULL && strcmp(got, want) == 0,
		    "\"%s\" in %s resolved to \"%s\", not \"%s\"", path, blend,
		    got != NULL ? got : "(null)", want);
	free(got);
}

START_TEST(test_deppath_resolve)
{
	test_deppath_is("/srv/p/shot.blend", "//tex/wood.png",
	    "/srv/p/tex/wood.png");
	test_deppath_is("/srv/p/shot.blend", "//../lib/lib.blend",
	    "/srv/lib/lib.blend");
	test_deppath_is("/srv/p/shot.blend", "//..\\assets\\a b.png",
	    "/srv/assets/a b.png");
	test_deppath_is("/srv/p/shot.blend", "//./tex//x.png",
	    "/srv/p/tex/x.png");
	test_deppath_is("/srv/p/shot.blend", "//../../../../x.png", "/x.png");
	test_deppath_is("/srv/p/shot.blend", "/abs/./y/../z.png",
	    "/abs/z.png");
	test_deppath_is("/srv/p/shot.blend", "/", "/");
	test_deppath_is("/shot.blend", "//t.png", "/t.png");
	test_deppath_is("/srv/p/shot.blend", "", NULL);
	test_deppath_is("/srv/p/shot.blend", "C:\\tex\\wood.png", NULL);
	test_deppath_is("/srv/p/shot.blend", "\\\\server\\share\\x.png",
	    NULL);
	test_deppath_is("/srv/p/shot.blend", "tex/wood.png", NULL);
}
END_TEST

START_TEST(test_deppath_sequence)
{
	ck_assert(deppath_sequence_match("seq_0001.png", "seq_0001.png"));
	ck_assert(deppath_sequence_match("seq_0001.png", "seq_0042.png"));
	ck_assert(deppath_sequence_match("seq_0001.png", "seq_12345.png"));
	ck_assert(!deppath_sequence_match("seq_0001.png", "seq_.png"));
	ck_assert(!deppath_sequence_match("seq_0001.png", "seq_00a1.png"));
	ck_assert(!deppath_sequence_match("seq_0001.png", "seq_0001.jpg"));
	ck_assert(!deppath_sequence_match("seq_0001.png", "sex_0001.png"));
	ck_assert(deppath_sequence_match("v2_shot_001.exr", "v2_shot_007.exr"));
	ck_assert(!deppath_sequence_match("v2_shot_001.exr",
	    "v3_shot_007.exr"));
	ck_assert(deppath_sequence_match("frame", "frame"));
	ck_assert(!deppath_sequence_match("frame", "frame1"));
	ck_assert(deppath_sequence_match("0001", "0002"));
}
END_TEST

START_TEST(test_deppath_tiles)
{
	char	*p;

	p = deppath_tiles_pattern("wood.<UDIM>.png");
	ck_assert_str_eq(p, "wood.<UDIM>.png");
	free(p);
	p = deppath_tiles_pattern("wood.1001.png");
	ck_assert_str_eq(p, "wood.<UDIM>.png");
	free(p);
	p = deppath_tiles_pattern("1001_a.1001.png");
	ck_assert_str_eq(p, "1001_a.<UDIM>.png");
	free(p);
	ck_assert_ptr_null(deppath_tiles_pattern("wood.png"));

	ck_assert(deppath_tiles_match("wood.<UDIM>.png", "wood.1001.png"));
	ck_assert(deppath_tiles_match("wood.<UDIM>.png", "wood.1012.png"));
	ck_assert(!deppath_tiles_match("wood.<UDIM>.png", "wood.0012.png"));
	ck_assert(!deppath_tiles_match("wood.<UDIM>.png", "wood.101.png"));
	ck_assert(!deppath_tiles_match("wood.<UDIM>.png", "wood.10011.png"));
	ck_assert(!deppath_tiles_match("wood.<UDIM>.png", "wood.1001.jpg"));
	ck_assert(deppath_tiles_match("t_<UVTILE>.exr", "t_u1_v1.exr"));
	ck_assert(deppath_tiles_match("t_<UVTILE>.exr", "t_u12_v3.exr"));
	ck_assert(!deppath_tiles_match("t_<UVTILE>.exr", "t_u_v1.exr"));
	ck_assert(!deppath_tiles_match("t_<UVTILE>.exr", "t_1001.exr"));
	ck_assert(deppath_tiles_match("plain.png", "plain.png"));
	ck_assert_str_eq(deppath_base("/a/b/c.png"), "c.png");
	ck_assert_str_eq(deppath_base("c.png"), "c.png");
}
END_TEST

/* The dependency path suite, for unit.c. */
Suite *
deppath_suite(void)
{
	Suite	*s = suite_create("deppath");
	TCase	*tc = tcase_create("paths");

	tcase_add_test(tc, test_deppath_resolve);
	tcase_add_test(tc, test_deppath_sequence);
	tcase_add_test(tc, test_deppath_tiles);
	suite_add_tcase(s, tc);
	return s;
}
