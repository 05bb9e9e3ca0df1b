/*
 * test-attach.c: unit tests of the lines an attached console and the
 * server exchange: what the console sends is what the server reads, and
 * anything else is refused.
 */
#include "bdfarm.h"

#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "unit.h"

START_TEST(test_attach_hello_round_trip)
{
	struct attach_hello	h, got;
	char			line[ATTACH_LINE_MAX];

	memset(&h, 0, sizeof h);
	h.version = ATTACH_VERSION;
	strcpy(h.term, "xterm-256color");
	h.rows = 40;
	h.cols = 120;
	h.utf8 = 1;
	ck_assert_int_eq(attach_hello_format(&h, line, sizeof line), 0);
	ck_assert_str_eq(line, "attach 1 xterm-256color 40 120 1\n");
	line[strlen(line) - 1] = '\0';
	ck_assert_int_eq(attach_hello_parse(line, &got), 0);
	ck_assert_int_eq(got.version, 1);
	ck_assert_str_eq(got.term, "xterm-256color");
	ck_assert_int_eq(got.rows, 40);
	ck_assert_int_eq(got.cols, 120);
	ck_assert_int_eq(got.utf8, 1);

	/* A later version is read as far as this one understands it. */
	ck_assert_int_eq(attach_hello_parse("attach 2 vt100 24 80 0", &got),
	    0);
	ck_assert_int_eq(got.version, 2);
	ck_assert_int_eq(got.utf8, 0);
}
END_TEST

START_TEST(test_attach_hello_refused)
{
	static const char *const bad[] = {
		"",
		"attach",
		"attach 1 xterm 40 120",		/* no UTF-8 flag */
		"attach 1 xterm 40 120 1 extra",
		"attach 0 xterm 40 120 1",		/* no version 0 */
		"attach 1 xterm 0 120 1",		/* no rows */
		"attach 1 xterm 40 -5 1",
		"attach 1 xterm 40 1001 1",		/* too wide */
		"attach 1 xterm 501 80 1",		/* too tall */
		"attach 1 xterm 10000 10000 1",
		"attach 1 xterm 40 120 2",
		"attach 1 ../../etc/x 40 120 1",	/* a path, not a name */
		"attach 1 xterm\t 40 120 1x",
		"hello 1 xterm 40 120 1",
		"attach 1 "
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    " 40 120 1",			/* 64 letters */
	};
	struct attach_hello	h;
	char			line[8];
	size_t			i;

	for (i = 0; i < nitems(bad); i++)
		ck_assert_msg(attach_hello_parse(bad[i], &h) == -1,
		    "accepted %s", bad[i]);

	/* What cannot be read is not sent either. */
	memset(&h, 0, sizeof h);
	h.version = 1;
	strcpy(h.term, "x y");
	h.rows = h.cols = 10;
	ck_assert_int_eq(attach_hello_format(&h, line, sizeof line), -1);
	strcpy(h.term, "vt100");
	ck_assert_int_eq(attach_hello_format(&h, line, sizeof line), -1);
}
END_TEST

START_TEST(test_attach_size)
{
	int	rows = 0, cols = 0;

	ck_assert_int_eq(attach_size_parse("size 50 200", &rows, &cols), 0);
	ck_assert_int_eq(rows, 50);
	ck_assert_int_eq(cols, 200);
	ck_assert_int_eq(attach_size_parse("size 50", &rows, &cols), -1);
	ck_assert_int_eq(attach_size_parse("size 0 80", &rows, &cols), -1);
	ck_assert_int_eq(attach_size_parse("size 500 1000", &rows, &cols), 0);
	ck_assert_int_eq(attach_size_parse("size 501 1000", &rows, &cols), -1);
	ck_assert_int_eq(attach_size_parse("size 500 1001", &rows, &cols), -1);
	ck_assert_int_eq(attach_size_parse("size 24 80 1", &rows, &cols), -1);
	ck_assert_int_eq(attach_size_parse("resize 24 80", &rows, &cols), -1);
}
END_TEST

START_TEST(test_attach_path)
{
	char	*path = attach_path("/srv/farm/jobs");

	ck_assert_str_eq(path, "/srv/farm/jobs/" ATTACH_SOCKET);
	free(path);
}
END_TEST

Suite *
attach_suite(void)
{
	Suite	*s = suite_create("attach");
	TCase	*tc = tcase_create("lines");

	tcase_add_test(tc, test_attach_hello_round_trip);
	tcase_add_test(tc, test_attach_hello_refused);
	tcase_add_test(tc, test_attach_size);
	tcase_add_test(tc, test_attach_path);
	suite_add_tcase(s, tc);
	return s;
}
