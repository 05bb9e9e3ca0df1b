/*
 * test-jobfile.c: unit tests of the job file parser: the forms a job file
 * may take, and every reason to skip one; of the text written for a job,
 * which must parse back; and of the names a job may take.
 */
#include "bdfarm.h"

#include <stdlib.h>
#include <string.h>

#include "jobfile.h"
#include "unit.h"

/* Parse a text that must be a job, and check what it says. */
static void
test_jobfile_good(const char *text, size_t len, const char *blend,
    long first, long last)
{
	struct jobfile	 jf;
	char		*cause = NULL;

	if (jobfile_parse(text, len, &jf, &cause) != 0)
		ck_abort_msg("job file \"%s\" refused: %s", text, cause);
	ck_assert_ptr_null(cause);
	ck_assert_str_eq(jf.blend, blend);
	ck_assert_int_eq(jf.first, first);
	ck_assert_int_eq(jf.last, last);
	jobfile_free(&jf);
	ck_assert_ptr_null(jf.blend);
}

/*
 * Parse a text that must not be a job, and check that the reason given
 * contains the words expected.
 */
static void
test_jobfile_bad(const char *text, size_t len, const char *words)
{
	struct jobfile	 jf;
	char		*cause = NULL;

	if (jobfile_parse(text, len, &jf, &cause) == 0)
		ck_abort_msg("job file \"%s\" accepted", text);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_null(jf.blend);
	if (strstr(cause, words) == NULL)
		ck_abort_msg("reason \"%s\" does not say \"%s\"", cause, words);
	free(cause);
}

/* A job file given as a string. */
#define GOOD(text, blend, first, last) \
	test_jobfile_good(text, strlen(text), blend, first, last)
#define BAD(text, words) \
	test_jobfile_bad(text, strlen(text), words)

START_TEST(test_jobfile_lf)
{
	GOOD("/srv/jobs/scene.blend\n1\n250\n", "/srv/jobs/scene.blend", 1, 250);
	GOOD("/srv/jobs/scene.blend\n1\n250", "/srv/jobs/scene.blend", 1, 250);
	GOOD("/a.blend\n7\n7\n", "/a.blend", 7, 7);
}
END_TEST

START_TEST(test_jobfile_crlf)
{
	GOOD("/srv/jobs/scene.blend\r\n1\r\n250\r\n", "/srv/jobs/scene.blend",
	    1, 250);
	GOOD("/srv/jobs/scene.blend\r\n1\r\n250", "/srv/jobs/scene.blend",
	    1, 250);
	GOOD("/srv/jobs/scene.blend\r\n1\n250\r\n\r\n", "/srv/jobs/scene.blend",
	    1, 250);
}
END_TEST

START_TEST(test_jobfile_blank_tail)
{
	GOOD("/a.blend\n1\n2\n\n\n", "/a.blend", 1, 2);
	GOOD("/a.blend\n1\n2\n \t\r\n\t\n   ", "/a.blend", 1, 2);
}
END_TEST

START_TEST(test_jobfile_spaces)
{
	GOOD("/a.blend\n  1  \n\t250\t\n", "/a.blend", 1, 250);
	GOOD("/a.blend \t\r\n1 \r\n 2\r\n", "/a.blend", 1, 2);
	GOOD("/my renders/a scene.blend\n1\n2\n", "/my renders/a scene.blend",
	    1, 2);
}
END_TEST

START_TEST(test_jobfile_path_leading_space)
{
	/* Surrounding white space is not part of the path, leading or not. */
	GOOD("  /a.blend\n1\n2\n", "/a.blend", 1, 2);
	GOOD("\t/a.blend\t\n1\n2\n", "/a.blend", 1, 2);
}
END_TEST

START_TEST(test_jobfile_negative)
{
	GOOD("/a.blend\n-10\n-1\n", "/a.blend", -10, -1);
	GOOD("/a.blend\n-5\n5\n", "/a.blend", -5, 5);
	GOOD("/a.blend\n0\n0\n", "/a.blend", 0, 0);
}
END_TEST

START_TEST(test_jobfile_len)
{
	const char	*text = "/a.blend\n1\n2\nnot part of the file";

	/* Only len bytes count, and the text need not be terminated. */
	test_jobfile_good(text, strlen("/a.blend\n1\n2\n"), "/a.blend", 1, 2);
	test_jobfile_good(text, strlen("/a.blend\n1\n2"), "/a.blend", 1, 2);
	test_jobfile_bad(text, strlen("/a.blend\n1\n"), "found 2");
}
END_TEST

START_TEST(test_jobfile_line_count)
{
	BAD("", "found 0");
	BAD("/a.blend", "found 1");
	BAD("/a.blend\n", "found 1");
	BAD("/a.blend\n1\n", "found 2");
	BAD("/a.blend\r\n1\r\n", "found 2");
	BAD("/a.blend\n1\n2\n3\n", "found more");
	BAD("/a.blend\n1\n2\n\n\nx\n", "found more");
	BAD("/a.blend\n1\n2\n\n/b.blend\n1\n2\n", "found more");
}
END_TEST

/* Options after the three lines, which do not define the job. */
START_TEST(test_jobfile_options)
{
	struct jobfile	 jf;
	char		*cause = NULL;
	const char	*plain = "/a.blend\n1\n2\n\n";
	const char	*opt = "/a.blend\n1\n2\nallow-missing\n\n";
	const char	*late = "/a.blend\n1\n2\n\n  allow-missing \r\n";
	const char	*both =
	    "/a.blend\n1\n2\nfresh-blender\n\nallow-missing\n";

	ck_assert_int_eq(jobfile_parse(plain, strlen(plain), &jf, &cause), 0);
	ck_assert_int_eq(jf.allow_missing, 0);
	ck_assert_uint_eq(jf.defined, strlen(plain));
	jobfile_free(&jf);
	ck_assert_int_eq(jobfile_parse(opt, strlen(opt), &jf, &cause), 0);
	ck_assert_int_eq(jf.allow_missing, 1);
	ck_assert_uint_eq(jf.defined, strlen("/a.blend\n1\n2\n"));
	ck_assert_int_eq(jf.first, 1);
	ck_assert_int_eq(jf.last, 2);
	jobfile_free(&jf);
	ck_assert_int_eq(jobfile_parse(late, strlen(late), &jf, &cause), 0);
	ck_assert_int_eq(jf.allow_missing, 1);
	ck_assert_uint_eq(jf.defined, strlen("/a.blend\n1\n2\n\n"));
	ck_assert_int_eq(jf.fresh_blender, 0);
	jobfile_free(&jf);
	ck_assert_int_eq(jobfile_parse(both, strlen(both), &jf, &cause), 0);
	ck_assert_int_eq(jf.allow_missing, 1);
	ck_assert_int_eq(jf.fresh_blender, 1);
	ck_assert_uint_eq(jf.defined, strlen("/a.blend\n1\n2\n"));
	jobfile_free(&jf);
	BAD("/a.blend\n1\n2\nallow-missing now\n", "found more");
	BAD("/a.blend\n1\n2\nfresh_blender\n", "fresh-blender");
	BAD("/a.blend\n1\n2\nallow_missing\n", "found more");
}
END_TEST

START_TEST(test_jobfile_frames)
{
	BAD("/a.blend\none\n2\n", "first frame");
	BAD("/a.blend\n\n2\n", "first frame");
	BAD("/a.blend\n1 2\n3\n", "first frame");
	BAD("/a.blend\n1.5\n3\n", "first frame");
	BAD("/a.blend\n1\ntwo\n", "last frame");
	BAD("/a.blend\n1\n0x10\n", "last frame");
	BAD("/a.blend\n1\n99999999999999999999\n", "last frame");
	BAD("/a.blend\n10\n5\n", "before");
	BAD("/a.blend\n-1\n-2\n", "before");
}
END_TEST

START_TEST(test_jobfile_path)
{
	BAD("a.blend\n1\n2\n", "not absolute");
	BAD("./a.blend\n1\n2\n", "not absolute");
	BAD("../a.blend\n1\n2\n", "not absolute");
	BAD("\n1\n2\n", "not absolute");
	BAD("~/a.blend\n1\n2\n", "not absolute");
}
END_TEST

START_TEST(test_jobfile_nul)
{
	static const char	text[] = "/a\0.blend\n1\n2\n";

	test_jobfile_bad(text, sizeof text - 1, "not text");
	test_jobfile_bad(text, 3, "not text");
}
END_TEST

START_TEST(test_jobfile_size)
{
	char	*text;
	size_t	 head;

	/* A file of exactly the limit is read; one byte more is not. */
	text = malloc(JOBFILE_MAX_SIZE + 1);
	ck_assert_ptr_nonnull(text);
	head = strlen("/a.blend\n1\n2\n");
	memcpy(text, "/a.blend\n1\n2\n", head);
	memset(text + head, ' ', JOBFILE_MAX_SIZE + 1 - head);
	test_jobfile_good(text, JOBFILE_MAX_SIZE, "/a.blend", 1, 2);
	test_jobfile_bad(text, JOBFILE_MAX_SIZE + 1, "too large");
	free(text);
}
END_TEST

START_TEST(test_jobfile_frame_count)
{
	GOOD("/a.blend\n1\n1000000\n", "/a.blend", 1, JOBFILE_MAX_FRAMES);
	BAD("/a.blend\n0\n1000000\n", "more than");
	BAD("/a.blend\n-1000000000\n1000000000\n", "more than");
}
END_TEST

START_TEST(test_jobfile_free_twice)
{
	struct jobfile	 jf;
	char		*cause = NULL;

	ck_assert_int_eq(jobfile_parse("/a.blend\n1\n2\n", 13, &jf, &cause), 0);
	jobfile_free(&jf);
	jobfile_free(&jf);
	ck_assert_ptr_null(jf.blend);
}
END_TEST

/* Format jf, check the text, and parse it back into what it was. */
static void
test_jobfile_round_trip(const struct jobfile *jf, const char *want)
{
	struct jobfile	 back;
	char		*text, *cause = NULL;

	text = jobfile_format(jf);
	ck_assert_str_eq(text, want);
	if (jobfile_parse(text, strlen(text), &back, &cause) != 0)
		ck_abort_msg("formatted \"%s\" refused: %s", text, cause);
	ck_assert_str_eq(back.blend, jf->blend);
	ck_assert_int_eq(back.first, jf->first);
	ck_assert_int_eq(back.last, jf->last);
	ck_assert_int_eq(back.allow_missing, jf->allow_missing);
	ck_assert_int_eq(back.fresh_blender, jf->fresh_blender);
	jobfile_free(&back);
	free(text);
}

START_TEST(test_jobfile_format)
{
	char		plain[] = "/srv/a.blend";
	char		spaced[] = "/my renders/sc\xc3\xa8ne.blend";
	struct jobfile	jf = { .blend = plain, .first = 1, .last = 250 };

	test_jobfile_round_trip(&jf, "/srv/a.blend\n1\n250\n");
	jf.blend = spaced;
	jf.first = -10;
	jf.last = -1;
	test_jobfile_round_trip(&jf,
	    "/my renders/sc\xc3\xa8ne.blend\n-10\n-1\n");
	jf.first = jf.last = 0;
	jf.allow_missing = 1;
	test_jobfile_round_trip(&jf,
	    "/my renders/sc\xc3\xa8ne.blend\n0\n0\nallow-missing\n");
	jf.fresh_blender = 1;
	test_jobfile_round_trip(&jf,
	    "/my renders/sc\xc3\xa8ne.blend\n0\n0\nallow-missing\n"
	    "fresh-blender\n");
	jf.allow_missing = 0;
	test_jobfile_round_trip(&jf,
	    "/my renders/sc\xc3\xa8ne.blend\n0\n0\nfresh-blender\n");
}
END_TEST

/* Check that name is refused for a reason containing words. */
static void
test_jobfile_bad_name(const char *name, const char *words)
{
	char	*cause = NULL;

	if (jobfile_check_name(name, &cause) == 0)
		ck_abort_msg("job name \"%s\" accepted", name);
	if (strstr(cause, words) == NULL)
		ck_abort_msg("reason \"%s\" does not say \"%s\"", cause, words);
	free(cause);
}

START_TEST(test_jobfile_names)
{
	char	*cause = NULL, name[JOBFILE_MAX_NAME + 2];

	ck_assert_int_eq(jobfile_check_name("shot", &cause), 0);
	ck_assert_int_eq(jobfile_check_name("shot 010.v2", &cause), 0);
	ck_assert_int_eq(jobfile_check_name("sc\xc3\xa8ne", &cause), 0);
	ck_assert_int_eq(jobfile_check_name("a.", &cause), 0);
	ck_assert_ptr_null(cause);

	test_jobfile_bad_name("", "empty");
	test_jobfile_bad_name(".hidden", "'.'");
	test_jobfile_bad_name(".", "'.'");
	test_jobfile_bad_name("..", "'.'");
	test_jobfile_bad_name("a/b", "'/'");
	test_jobfile_bad_name("shot/", "'/'");
	test_jobfile_bad_name("a\nb", "control");
	test_jobfile_bad_name("a\tb", "control");
	test_jobfile_bad_name("a\x7f", "control");

	/* The longest name leaves room for NAME.job.suspend. */
	memset(name, 'x', JOBFILE_MAX_NAME);
	name[JOBFILE_MAX_NAME] = '\0';
	ck_assert_uint_eq(strlen(name) + strlen(".job.suspend"), NAME_MAX);
	ck_assert_int_eq(jobfile_check_name(name, &cause), 0);
	name[JOBFILE_MAX_NAME] = 'x';
	name[JOBFILE_MAX_NAME + 1] = '\0';
	test_jobfile_bad_name(name, "longer");
}
END_TEST

/* The job file suite, for unit.c. */
Suite *
jobfile_suite(void)
{
	Suite	*s = suite_create("jobfile");
	TCase	*good = tcase_create("good"), *bad = tcase_create("bad");

	tcase_add_test(good, test_jobfile_lf);
	tcase_add_test(good, test_jobfile_crlf);
	tcase_add_test(good, test_jobfile_blank_tail);
	tcase_add_test(good, test_jobfile_spaces);
	tcase_add_test(good, test_jobfile_path_leading_space);
	tcase_add_test(good, test_jobfile_negative);
	tcase_add_test(good, test_jobfile_len);
	tcase_add_test(good, test_jobfile_free_twice);
	tcase_add_test(good, test_jobfile_format);
	tcase_add_test(good, test_jobfile_names);
	suite_add_tcase(s, good);

	tcase_add_test(bad, test_jobfile_line_count);
	tcase_add_test(bad, test_jobfile_frames);
	tcase_add_test(bad, test_jobfile_path);
	tcase_add_test(bad, test_jobfile_nul);
	tcase_add_test(bad, test_jobfile_size);
	tcase_add_test(bad, test_jobfile_frame_count);
	tcase_add_test(bad, test_jobfile_options);
	suite_add_tcase(s, bad);
	return s;
}
