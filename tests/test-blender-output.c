/*
 * test-blender-output.c: unit tests of the reading of Blender's output:
 * progress lines with and without samples and time left, saved files with
 * and without quotes, errors, the leak report that is not an error, and
 * the frame number and extension of a saved file's name.
 */
#include "bdfarm.h"

#include <string.h>

#include "blender-output.h"
#include "unit.h"

/* The line under test; the parse points into it. */
static char	test_blender_output_line[1024];

/* Parse a copy of text. */
static void
test_blender_output_parse(const char *text, struct blender_line *bl)
{
	ck_assert_uint_lt(strlen(text), sizeof test_blender_output_line);
	strcpy(test_blender_output_line, text);
	blender_output_parse(test_blender_output_line, bl);
}

START_TEST(test_blender_output_progress)
{
	struct blender_line	bl;

	test_blender_output_parse("Fra:5 Mem:10.26M (Peak 10.91M) | "
	    "Time:00:00.28 | Remaining:01:02.14 | Mem:0.98M, Peak:0.98M | "
	    "Scene, ViewLayer | Sample 1/4\n", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_FRAME);
	ck_assert_int_eq(bl.frame, 5);
	ck_assert_int_eq(bl.sample, 1);
	ck_assert_int_eq(bl.samples, 4);
	ck_assert_int_eq(bl.remaining, 62);

	test_blender_output_parse("Fra:12 Mem:9.03M (Peak 10.91M) | "
	    "Time:00:00.02 | Scene, ViewLayer | Updating Shaders", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_FRAME);
	ck_assert_int_eq(bl.frame, 12);
	ck_assert_int_eq(bl.sample, -1);
	ck_assert_int_eq(bl.remaining, -1);

	test_blender_output_parse("Fra:-3 | Remaining:1:00:00.00 | "
	    "Sample 9/2", &bl);
	ck_assert_int_eq(bl.frame, -3);
	ck_assert_int_eq(bl.remaining, 3600);
	ck_assert_int_eq(bl.sample, -1);	/* 9 of 2 makes no sense */

	test_blender_output_parse("Fra:x Mem:1M", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_OTHER);
	test_blender_output_parse("Fra:99999999999999999999", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_OTHER);
}
END_TEST

START_TEST(test_blender_output_saved)
{
	struct blender_line	bl;

	test_blender_output_parse("Saved: '/tmp/out dir/0005.png'\r\n", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_SAVED);
	ck_assert_str_eq(bl.path, "/tmp/out dir/0005.png");

	test_blender_output_parse("Saved: /tmp/0006.exr", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_SAVED);
	ck_assert_str_eq(bl.path, "/tmp/0006.exr");

	test_blender_output_parse("Saved: ", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_OTHER);
	test_blender_output_parse(" Time: 00:00.56 (Saving: 00:00.25)", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_OTHER);
}
END_TEST

START_TEST(test_blender_output_error)
{
	struct blender_line	bl;

	test_blender_output_parse("Error: Build without OpenImageDenoiser\n",
	    &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_ERROR);
	ck_assert_str_eq(bl.message, "Build without OpenImageDenoiser");

	test_blender_output_parse("Error: Not freed memory blocks: 2, total "
	    "unfreed memory 0.001 MB", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_OTHER);
	test_blender_output_parse("Warning: something", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_OTHER);
	test_blender_output_parse("", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_OTHER);
}
END_TEST

START_TEST(test_blender_output_file_names)
{
	char	ext[32];
	long	frame;

	ck_assert_int_eq(blender_output_file_frame("/a/b/0005.png", &frame), 0);
	ck_assert_int_eq(frame, 5);
	ck_assert_int_eq(blender_output_file_frame("-0012.png", &frame), 0);
	ck_assert_int_eq(frame, -12);
	ck_assert_int_eq(blender_output_file_frame("12345", &frame), 0);
	ck_assert_int_eq(frame, 12345);
	ck_assert_int_eq(blender_output_file_frame("/a/frame5.png", &frame),
	    -1);
	ck_assert_int_eq(blender_output_file_frame("/a/5x.png", &frame), -1);

	ck_assert_int_eq(blender_output_extension("/a.b/0005.png", ext,
	    sizeof ext), 0);
	ck_assert_str_eq(ext, ".png");
	ck_assert_int_eq(blender_output_extension("/a.b/0005", ext,
	    sizeof ext), -1);
	ck_assert_int_eq(blender_output_extension("0005.p/g", ext,
	    sizeof ext), -1);
	ck_assert_int_eq(blender_output_extension("0005.png", ext, 4), -1);
	ck_assert_int_eq(blender_output_extension("/x/.png", ext,
	    sizeof ext), -1);
}
END_TEST

/* The suite of the Blender output reader. */
Suite *
blender_output_suite(void)
{
	Suite	*s = suite_create("blender-output");
	TCase	*tc = tcase_create("lines");

	tcase_add_test(tc, test_blender_output_progress);
	tcase_add_test(tc, test_blender_output_saved);
	tcase_add_test(tc, test_blender_output_error);
	tcase_add_test(tc, test_blender_output_file_names);
	suite_add_tcase(s, tc);
	return s;
}
