/*
 * test-framefile.c: unit tests of stored frame names: the name a frame is
 * stored under, whatever name its client sent, and the file names that
 * are, and are not, a stored frame.
 */
#include "bdfarm.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framefile.h"
#include "unit.h"

/* Check the stored name of frame for a client's image name. */
static void
test_framefile_named(long frame, const char *image, const char *want)
{
	char	*name = framefile_name(frame, image);

	ck_assert_msg(strcmp(name, want) == 0, "frame %ld sent as \"%s\" is "
	    "stored as \"%s\", not \"%s\"", frame, image, name, want);
	free(name);
}

/* Check that name is the stored name of frame. */
static void
test_framefile_is(const char *name, long want)
{
	long	frame = 12345678;

	ck_assert_msg(framefile_frame(name, &frame) == 0, "\"%s\" is not "
	    "taken for a frame", name);
	ck_assert_int_eq(frame, want);
}

/* Check that name is no stored frame's name, and leaves *frame alone. */
static void
test_framefile_not(const char *name)
{
	long	frame = 12345678;

	ck_assert_msg(framefile_frame(name, &frame) == -1, "\"%s\" is taken "
	    "for frame %ld", name, frame);
	ck_assert_int_eq(frame, 12345678);
}

START_TEST(test_framefile_padding)
{
	test_framefile_named(5, "0005.png", "0005.png");
	test_framefile_named(0, "0000.png", "0000.png");
	test_framefile_named(1, "1.png", "0001.png");
	test_framefile_named(9999, "x.png", "9999.png");
	test_framefile_named(12345, "x.png", "12345.png");
	test_framefile_named(1000000000, "x.png", "1000000000.png");
	test_framefile_named(-5, "-005.png", "-0005.png");
	test_framefile_named(-12345, "x.png", "-12345.png");
	test_framefile_named(LONG_MIN, "x.png", "-9223372036854775808.png");
}
END_TEST

START_TEST(test_framefile_client_name_ignored)
{
	/* The client's name gives the extension, never the frame. */
	test_framefile_named(2, "0001.png", "0002.png");
	test_framefile_named(2, "shot_0005_v2.png", "0002.png");
	test_framefile_named(2, "..png", "0002.png");
	test_framefile_named(2, "a.b.c.tga", "0002.tga");
}
END_TEST

START_TEST(test_framefile_extensions)
{
	static const char *const kept[] = {
		"png", "jpg", "jpeg", "exr", "tif", "tiff", "tga", "bmp",
		"hdr", "webp", "dpx", "cin", "jp2", "j2c", "rgb", "sgi"
	};
	char	 image[32], want[32];
	size_t	 i;

	for (i = 0; i < nitems(kept); i++) {
		snprintf(image, sizeof image, "0007.%s", kept[i]);
		snprintf(want, sizeof want, "0007.%s", kept[i]);
		test_framefile_named(7, image, want);
	}
	/* Any case, stored in lower case. */
	test_framefile_named(7, "0007.PNG", "0007.png");
	test_framefile_named(7, "0007.Exr", "0007.exr");
	test_framefile_named(7, "0007.TIFF", "0007.tiff");
}
END_TEST

START_TEST(test_framefile_no_extension)
{
	test_framefile_named(3, "0003", "0003");
	test_framefile_named(3, "0003.", "0003");
	test_framefile_named(3, ".png", "0003");
	test_framefile_named(3, "0003.sh", "0003");
	test_framefile_named(3, "0003.png.sh", "0003");
	test_framefile_named(3, "0003.mp4", "0003");
	test_framefile_named(3, "0003.pngx", "0003");
	test_framefile_named(3, "0003.p", "0003");
	test_framefile_named(3, "0003.png/", "0003");
	test_framefile_named(3, "", "0003");
}
END_TEST

START_TEST(test_framefile_stored_names)
{
	test_framefile_is("0005.png", 5);
	test_framefile_is("0005", 5);
	test_framefile_is("0000.exr", 0);
	test_framefile_is("9999.tga", 9999);
	test_framefile_is("12345.jpg", 12345);
	test_framefile_is("-0005.png", -5);
	test_framefile_is("-12345.png", -12345);
	test_framefile_is("0001.jp2", 1);
}
END_TEST

START_TEST(test_framefile_other_names)
{
	/* The old reading took the last digits for a frame. */
	test_framefile_not("shot_0005_v2.png");
	test_framefile_not("shot_0005.png");
	test_framefile_not("0005_v2.png");
	test_framefile_not("v2.png");
	/* Not padded as the server pads. */
	test_framefile_not("5.png");
	test_framefile_not("005.png");
	test_framefile_not("00005.png");
	test_framefile_not("012345.png");
	test_framefile_not("-005.png");
	test_framefile_not("-0000.png");
	test_framefile_not("+0005.png");
	test_framefile_not(" 0005.png");
	/* Not an extension the server keeps, or not as it stores it. */
	test_framefile_not("0005.PNG");
	test_framefile_not("0005.mp4");
	test_framefile_not("0005.png.part");
	test_framefile_not("0005.");
	test_framefile_not("0005..png");
	test_framefile_not("0005.png ");
	test_framefile_not(".0005.png");
	test_framefile_not(".upload-12-1.part");
	test_framefile_not("-");
	test_framefile_not("");
	test_framefile_not("99999999999999999999.png");
	test_framefile_not("-99999999999999999999.png");
}
END_TEST

START_TEST(test_framefile_round_trip)
{
	static const long	frames[] = {
		0, 1, -1, 9, 10, 999, 1000, 9999, 10000, -9999, -10000,
		1000000000, -1000000000, LONG_MAX, LONG_MIN
	};
	static const char *const images[] = { "x.png", "X.EXR", "x", "x.mp4" };
	char	*name;
	size_t	 i, j;

	for (i = 0; i < nitems(frames); i++) {
		for (j = 0; j < nitems(images); j++) {
			name = framefile_name(frames[i], images[j]);
			test_framefile_is(name, frames[i]);
			free(name);
		}
	}
}
END_TEST

/* The stored frame name suite, for unit.c. */
Suite *
framefile_suite(void)
{
	Suite	*s = suite_create("framefile");
	TCase	*name = tcase_create("name"), *frame = tcase_create("frame");

	tcase_add_test(name, test_framefile_padding);
	tcase_add_test(name, test_framefile_client_name_ignored);
	tcase_add_test(name, test_framefile_extensions);
	tcase_add_test(name, test_framefile_no_extension);
	suite_add_tcase(s, name);

	tcase_add_test(frame, test_framefile_stored_names);
	tcase_add_test(frame, test_framefile_other_names);
	tcase_add_test(frame, test_framefile_round_trip);
	suite_add_tcase(s, frame);
	return s;
}
