/*
 * test-blender-output.c: unit tests of the reading of Blender's output:
 * progress lines with and without samples and time left, the progress
 * figure they give, the version banner, saved files with and without
 * quotes, errors, the leak report that is not an error, missing files
 * wherever their warning appears in a line, the end of the prelude, what
 * a warm Blender's loop says of itself and of each frame, and the frame
 * number and extension of a saved file's name.
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

START_TEST(test_blender_output_permille)
{
	struct blender_line	bl;

	/* Cycles: by samples. */
	test_blender_output_parse("Fra:1 Mem:10.26M (Peak 10.91M) | "
	    "Time:00:00.16 | Remaining:00:00.07 | Mem:0.98M, Peak:0.98M | "
	    "Scene, ViewLayer | Sample 1/4", &bl);
	ck_assert_int_eq(bl.elapsed_ms, 160);
	ck_assert_int_eq(bl.remaining_ms, 70);
	ck_assert_int_eq(blender_output_permille(&bl), 250);

	/* Blender 2.9x: tiles, then samples after a comma. */
	test_blender_output_parse("Fra:2 Mem:20.1M (Peak 21M) | Time:00:01.50 "
	    "| Remaining:00:04.50 | Mem:1M, Peak:1M | Scene, View Layer | "
	    "Rendered 3/40 Tiles, Sample 8/16", &bl);
	ck_assert_int_eq(bl.sample, 8);
	ck_assert_int_eq(bl.samples, 16);
	ck_assert_int_eq(blender_output_permille(&bl), 500);

	/* A scene named after samples does not fool it. */
	test_blender_output_parse("Fra:2 | Time:00:00.10 | My Sample Scene, "
	    "ViewLayer | Sample 3/4", &bl);
	ck_assert_int_eq(bl.sample, 3);
	ck_assert_int_eq(blender_output_permille(&bl), 750);

	/* Eevee: "Rendering A / B samples". */
	test_blender_output_parse("Fra:7 Mem:50.2M (Peak 52M) | Time:00:02.00 "
	    "| Rendering 16 / 64 samples", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_FRAME);
	ck_assert_int_eq(bl.sample, 16);
	ck_assert_int_eq(bl.samples, 64);
	ck_assert_int_eq(blender_output_permille(&bl), 250);

	/* No samples: by the time spent and the time left. */
	test_blender_output_parse("Fra:3 | Time:01:00.00 | Remaining:03:00.00 "
	    "| Scene, ViewLayer | Rendered 1/4 Tiles", &bl);
	ck_assert_int_eq(bl.elapsed_ms, 60000);
	ck_assert_int_eq(bl.remaining, 180);
	ck_assert_int_eq(blender_output_permille(&bl), 250);

	/* Nothing to go by. */
	test_blender_output_parse("Fra:3 Mem:9.03M | Time:00:00.00 | Scene, "
	    "ViewLayer | Updating Shaders", &bl);
	ck_assert_int_eq(bl.remaining_ms, -1);
	ck_assert_int_eq(blender_output_permille(&bl), -1);
	test_blender_output_parse("Fra:3 | Time:00:00.00 | Remaining:00:00.00",
	    &bl);
	ck_assert_int_eq(blender_output_permille(&bl), -1);
	test_blender_output_parse("Fra:3 | Time:00:00.0x5 | Remaining:xx", &bl);
	ck_assert_int_eq(bl.elapsed_ms, 0);
	ck_assert_int_eq(bl.remaining_ms, -1);

	/* A saved frame is whole; other lines say nothing. */
	test_blender_output_parse("Saved: '/tmp/0001.png'", &bl);
	ck_assert_int_eq(blender_output_permille(&bl), 1000);
	test_blender_output_parse("Read blend: /tmp/x.blend", &bl);
	ck_assert_int_eq(blender_output_permille(&bl), -1);
}
END_TEST

START_TEST(test_blender_output_version)
{
	struct blender_line	bl;

	test_blender_output_parse("Blender 3.4.1\n", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_VERSION);
	ck_assert_str_eq(bl.version, "3.4.1");

	test_blender_output_parse("Blender 2.93.18 (hash 5e2ad3b5b25a built "
	    "2023-03-01)", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_VERSION);
	ck_assert_str_eq(bl.version, "2.93.18");

	test_blender_output_parse("Blender quit", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_OTHER);
	test_blender_output_parse("Blender", &bl);
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

START_TEST(test_blender_output_missing)
{
	struct blender_line	bl;

	test_blender_output_parse("Warning: Path '/x/y.png' not found\n", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_MISSING);
	ck_assert_str_eq(bl.path, "/x/y.png");

	/* After a prefix, with spaces and quotes in the path. */
	test_blender_output_parse("Info: Warning: Path '/my tex/it's.png' "
	    "not found", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_MISSING);
	ck_assert_str_eq(bl.path, "/my tex/it's.png");

	test_blender_output_parse("Warning: Path '//rel/a.exr' not found",
	    &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_MISSING);
	ck_assert_str_eq(bl.path, "//rel/a.exr");

	test_blender_output_parse("Warning: Path '' not found", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_OTHER);
	test_blender_output_parse("Warning: Path '/x/y.png' is odd", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_OTHER);

	test_blender_output_parse("bdfarm: prelude done\n", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_PRELUDE);
	test_blender_output_parse("say bdfarm: prelude done", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_OTHER);
}
END_TEST

START_TEST(test_blender_output_warm)
{
	struct blender_line	bl;

	test_blender_output_parse("bdfarm: warm ready\n", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_WARM_READY);
	test_blender_output_parse("bdfarm: warm ready now", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_OTHER);

	test_blender_output_parse("bdfarm: frame 12 done /w/r1/0012.png\n",
	    &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_WARM_DONE);
	ck_assert_int_eq(bl.frame, 12);
	ck_assert_str_eq(bl.path, "/w/r1/0012.png");
	test_blender_output_parse("bdfarm: frame -3 done /a b/-0003.exr", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_WARM_DONE);
	ck_assert_int_eq(bl.frame, -3);
	ck_assert_str_eq(bl.path, "/a b/-0003.exr");

	test_blender_output_parse("bdfarm: frame 7 failed no file written",
	    &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_WARM_FAILED);
	ck_assert_int_eq(bl.frame, 7);
	ck_assert_str_eq(bl.message, "no file written");

	test_blender_output_parse("bdfarm: frame 7 done ", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_OTHER);
	test_blender_output_parse("bdfarm: frame 7 failed", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_OTHER);
	test_blender_output_parse("bdfarm: frame x done /a.png", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_OTHER);
	test_blender_output_parse("bdfarm: frame 7 saved /a.png", &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_OTHER);
	test_blender_output_parse("bdfarm: frame 99999999999 done /a.png",
	    &bl);
	ck_assert_int_eq(bl.type, BLENDER_LINE_OTHER);
	test_blender_output_parse(" bdfarm: frame 7 done /a.png", &bl);
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
	tcase_add_test(tc, test_blender_output_permille);
	tcase_add_test(tc, test_blender_output_version);
	tcase_add_test(tc, test_blender_output_saved);
	tcase_add_test(tc, test_blender_output_error);
	tcase_add_test(tc, test_blender_output_missing);
	tcase_add_test(tc, test_blender_output_warm);
	tcase_add_test(tc, test_blender_output_file_names);
	suite_add_tcase(s, tc);
	return s;
}
