/*
 * test-settings.c: unit tests of the configuration: the built-in defaults,
 * files that override them, and every way a file can be wrong.
 */
#include "bdfarm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "settings.h"
#include "unit.h"
#include "xmalloc.h"

/* A folder of its own for each test's files. */
static char	test_settings_dir[64];
static char	test_settings_path[128];

/* Make the folder and the name of the file the test writes. */
static void
test_settings_setup(void)
{
	const char	*tmp = getenv("TMPDIR");

	snprintf(test_settings_dir, sizeof test_settings_dir,
	    "%s/bdfarm-unit.XXXXXX", tmp != NULL && *tmp != '\0' &&
	    strlen(tmp) < 32 ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(test_settings_dir));
	snprintf(test_settings_path, sizeof test_settings_path,
	    "%s/bdfarm.conf", test_settings_dir);
}

/* Remove what the test left. */
static void
test_settings_teardown(void)
{
	unlink(test_settings_path);
	rmdir(test_settings_dir);
}

/* Write text as the configuration file. */
static void
test_settings_write(const char *text)
{
	FILE	*f;

	f = fopen(test_settings_path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * Load text, which must fail, and check that the reason names the file,
 * the line (0 for none) and contains the words expected.
 */
static void
test_settings_bad(const char *text, int line, const char *words)
{
	struct settings	 s;
	char		*cause = NULL, where[160];

	test_settings_write(text);
	settings_defaults(&s);
	if (settings_load(&s, test_settings_path, 1, &cause) == 0)
		ck_abort_msg("accepted: %s", text);
	ck_assert_ptr_nonnull(cause);
	if (line > 0)
		snprintf(where, sizeof where, "%s:%d: ", test_settings_path,
		    line);
	else
		snprintf(where, sizeof where, "%s", test_settings_path);
	if (strncmp(cause, where, strlen(where)) != 0)
		ck_abort_msg("reason \"%s\" does not start \"%s\"", cause, where);
	if (strstr(cause, words) == NULL)
		ck_abort_msg("reason \"%s\" does not say \"%s\"", cause, words);
	free(cause);
	settings_free(&s);
}

/* Check that s holds the built-in defaults. */
static void
test_settings_check_defaults(const struct settings *s)
{
	ck_assert_str_eq(s->listen, "");
	ck_assert_int_eq(s->peer_timeout, 10);
	ck_assert_int_eq(s->client_timeout, 30);
	ck_assert_int_eq(s->redistribute_delay, 180);
	ck_assert_int_eq(s->rescan_interval, 5);
	ck_assert_int_eq(s->blend_check_interval, 2);
	ck_assert_int_eq(s->state_save_delay, 200);
	ck_assert_int_eq(s->max_frame_size, (int64_t)2 << 30);
	ck_assert_int_eq(s->max_peers, 0);
	ck_assert_int_eq(s->max_frames_held, 16);
	ck_assert_int_eq(s->max_peers_per_address, 64);
	ck_assert_int_eq(s->max_sessions_per_key, 16);
	ck_assert_int_eq(s->greeting_timeout, 10);
	ck_assert_int_eq(s->forget_hosts, 604800);
	ck_assert_str_eq(s->log_file, "");
	ck_assert_str_eq(s->plain_allow, SETTINGS_PLAIN_ALLOW);
	ck_assert_ptr_null(s->on_job_done);
	ck_assert_int_eq(s->on_job_done_timeout, 600);

	ck_assert_int_eq(s->renderers, 1);
	ck_assert_int_eq(s->prefetch, -1);
	ck_assert_str_eq(s->blender, "blender");
	ck_assert_str_eq(s->workdir, "");
	ck_assert_int_eq(s->heartbeat_interval, 5);
	ck_assert_int_eq(s->server_timeout, 30);
	ck_assert_int_eq(s->extensions, 1);
	ck_assert_int_eq(s->none_wait, 180);
	ck_assert_int_eq(s->busy_wait, 15);
	ck_assert_int_eq(s->retry_min, 5);
	ck_assert_int_eq(s->retry_max, 60);
	ck_assert_int_eq(s->cache_idle, 360);
	ck_assert_int_eq(s->render_timeout, 0);
	ck_assert_int_eq(s->batch_frames, 4);
	ck_assert_int_eq(s->max_blend_size, (int64_t)64 << 30);
	ck_assert_int_eq(s->auto_updates, 1);
	ck_assert_int_eq(s->allow_scripts, 0);
}

START_TEST(test_settings_defaults)
{
	struct settings	s;

	settings_defaults(&s);
	test_settings_check_defaults(&s);
	settings_free(&s);
	ck_assert_ptr_null(s.listen);
	ck_assert_ptr_null(s.blender);
	settings_free(&s);
}
END_TEST

START_TEST(test_settings_override)
{
	struct settings	 s;
	char		*cause = NULL;

	test_settings_write(
	    "# a farm for tests\n"
	    "server: {\n"
	    "  listen = \"127.0.0.1\";\n"
	    "  peer_timeout = 3;\n"
	    "  redistribute_delay = 0;\n"
	    "  max_frame_size = 5000000000L;\n"
	    "  max_frames_held = 40;\n"
	    "  log_file = \"/var/log/bdfarm.log\";\n"
	    "};\n"
	    "client = {\n"
	    "  renderers = 4;\n"
	    "  prefetch = 0;\n"
	    "  blender = \"/opt/blender/blender\";\n"
	    "  max_blend_size = 1000;\n"
	    "  auto_updates = false;\n"
	    "  allow_scripts = true;\n"
	    "  retry_min = 1;\n"
	    "  retry_max = 1;\n"
	    "};\n");
	settings_defaults(&s);
	if (settings_load(&s, test_settings_path, 1, &cause) != 0)
		ck_abort_msg("refused: %s", cause);
	ck_assert_str_eq(s.listen, "127.0.0.1");
	ck_assert_int_eq(s.peer_timeout, 3);
	ck_assert_int_eq(s.redistribute_delay, 0);
	ck_assert_int_eq(s.max_frame_size, 5000000000LL);
	ck_assert_int_eq(s.max_frames_held, 40);
	ck_assert_str_eq(s.log_file, "/var/log/bdfarm.log");
	ck_assert_int_eq(s.renderers, 4);
	ck_assert_int_eq(s.prefetch, 0);
	ck_assert_str_eq(s.blender, "/opt/blender/blender");
	ck_assert_int_eq(s.max_blend_size, 1000);
	ck_assert_int_eq(s.auto_updates, 0);
	ck_assert_int_eq(s.allow_scripts, 1);
	ck_assert_int_eq(s.retry_min, 1);
	ck_assert_int_eq(s.retry_max, 1);

	/* What the file does not name keeps its default. */
	ck_assert_int_eq(s.rescan_interval, 5);
	ck_assert_int_eq(s.max_peers, 0);
	ck_assert_str_eq(s.workdir, "");
	ck_assert_int_eq(s.none_wait, 180);
	settings_free(&s);
}
END_TEST

START_TEST(test_settings_empty)
{
	struct settings	 s;
	char		*cause = NULL;

	test_settings_write("# nothing set\nserver = {};\nclient = {};\n");
	settings_defaults(&s);
	if (settings_load(&s, test_settings_path, 1, &cause) != 0)
		ck_abort_msg("refused: %s", cause);
	test_settings_check_defaults(&s);
	settings_free(&s);
}
END_TEST

START_TEST(test_settings_shipped)
{
	struct settings	 s;
	const char	*srcdir = getenv("BDFARM_SRCDIR");
	char		*cause = NULL, path[4096];

	/* The sample file documents the defaults: loading it changes none. */
	if (srcdir == NULL || *srcdir == '\0')
		return;
	snprintf(path, sizeof path, "%s/data/bdfarm.conf", srcdir);
	settings_defaults(&s);
	if (settings_load(&s, path, 1, &cause) != 0)
		ck_abort_msg("refused: %s", cause);
	test_settings_check_defaults(&s);
	settings_free(&s);
}
END_TEST

START_TEST(test_settings_unknown)
{
	test_settings_bad("server = {\n  peer_timeout = 3;\n  bogus = 1;\n};\n",
	    3, "server.bogus");
	test_settings_bad("client = {\n  peer_timeout = 3;\n};\n", 2,
	    "client.peer_timeout");
	test_settings_bad("\n\ndaemon = {\n  port = 1;\n};\n", 3, "daemon");
	test_settings_bad("renderers = 2;\n", 1, "renderers");
	test_settings_bad("client = ( 1, 2 );\n", 1, "client");
}
END_TEST

START_TEST(test_settings_wrong_type)
{
	test_settings_bad("client = {\n  renderers = \"four\";\n};\n", 2,
	    "client.renderers");
	test_settings_bad("client = {\n  renderers = 4.0;\n};\n", 2,
	    "whole number");
	test_settings_bad("client = {\n  renderers = true;\n};\n", 2,
	    "whole number");
	test_settings_bad("server = {\n  listen = 5;\n};\n", 2, "string");
	test_settings_bad("client = {\n  auto_updates = 1;\n};\n", 2,
	    "true or false");
	test_settings_bad("client = {\n  blender = [ \"a\" ];\n};\n", 2,
	    "client.blender");
}
END_TEST

START_TEST(test_settings_range)
{
	test_settings_bad("server = {\n  peer_timeout = 0;\n};\n", 2,
	    "server.peer_timeout");
	test_settings_bad("server = {\n  peer_timeout = 86401;\n};\n", 2,
	    "86400");
	test_settings_bad("client = {\n  prefetch = -2;\n};\n", 2,
	    "client.prefetch");
	test_settings_bad("client = {\n  renderers = 0;\n};\n", 2,
	    "client.renderers");
	test_settings_bad("client = {\n  renderers = 5000000000;\n};\n", 2,
	    "client.renderers");
	test_settings_bad("server = {\n  max_frame_size = 0;\n};\n", 2,
	    "server.max_frame_size");
	test_settings_bad("server = {\n  max_frame_size = 100000000000L;\n};\n",
	    2, "server.max_frame_size");
}
END_TEST

START_TEST(test_settings_syntax)
{
	test_settings_bad("client = {\n  renderers = 2;\n\n  prefetch = ;\n};\n",
	    4, "");
	test_settings_bad("client = {\n  renderers = 2\n", 0, "");
}
END_TEST

START_TEST(test_settings_retry_order)
{
	test_settings_bad("client = {\n  retry_min = 30;\n  retry_max = 10;\n};\n",
	    0, "retry_max");
}
END_TEST

START_TEST(test_settings_plain_allow)
{
	test_settings_bad("server = {\n  plain_allow = \"10.0.0.0/8 lan\";\n};\n",
	    0, "lan");
}
END_TEST

/* Load text, which must be accepted, into s. */
static void
test_settings_good(const char *text, struct settings *s)
{
	char	*cause = NULL;

	test_settings_write(text);
	settings_defaults(s);
	if (settings_load(s, test_settings_path, 1, &cause) != 0)
		ck_abort_msg("refused: %s: %s", text, cause);
}

START_TEST(test_settings_command)
{
	struct settings	s;

	/* A string is the program alone, taken whole, spaces and all. */
	test_settings_good("server = { on_job_done = \"/a b/c d\"; };\n", &s);
	ck_assert_ptr_nonnull(s.on_job_done);
	ck_assert_str_eq(s.on_job_done[0], "/a b/c d");
	ck_assert_ptr_null(s.on_job_done[1]);
	settings_free(&s);

	/* A list is the program and its arguments, as they are. */
	test_settings_good("server = { on_job_done = [\"sh\", \"-c\", "
	    "\"echo $X *\"]; on_job_done_timeout = 5; };\n", &s);
	ck_assert_str_eq(s.on_job_done[0], "sh");
	ck_assert_str_eq(s.on_job_done[1], "-c");
	ck_assert_str_eq(s.on_job_done[2], "echo $X *");
	ck_assert_ptr_null(s.on_job_done[3]);
	ck_assert_int_eq(s.on_job_done_timeout, 5);
	settings_free(&s);
	ck_assert_ptr_null(s.on_job_done);

	/* Empty, there is none. */
	test_settings_good("server = { on_job_done = \"\"; };\n", &s);
	ck_assert_ptr_null(s.on_job_done);
	settings_free(&s);
	test_settings_good("server = { on_job_done = []; };\n", &s);
	ck_assert_ptr_null(s.on_job_done);
	settings_free(&s);

	test_settings_bad("server = {\n  on_job_done = 3;\n};\n", 2,
	    "a string or a list of strings");
	test_settings_bad("server = {\n  on_job_done = (\"a\", 3);\n};\n", 2,
	    "a string or a list of strings");
	test_settings_bad("server = {\n  on_job_done = \"bin/x\";\n};\n", 2,
	    "absolute path");
	test_settings_bad("server = {\n  on_job_done = [\"\", \"x\"];\n};\n",
	    2, "absolute path");
	test_settings_bad("server = {\n  on_job_done_timeout = 0;\n};\n", 2,
	    "between 1 and");
}
END_TEST

START_TEST(test_settings_missing)
{
	struct settings	 s;
	char		*cause = NULL;

	/* A file that is not there is fine, unless the user named it. */
	settings_defaults(&s);
	ck_assert_int_eq(settings_load(&s, test_settings_path, 0, &cause), 0);
	ck_assert_ptr_null(cause);
	test_settings_check_defaults(&s);

	ck_assert_int_eq(settings_load(&s, test_settings_path, 1, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, test_settings_path));
	free(cause);
	settings_free(&s);
}
END_TEST

/* Make the folder dir/sub, and return its allocated name. */
static char *
test_settings_mkdir(const char *dir, const char *sub)
{
	char	*path;

	xasprintf(&path, "%s/%s", dir, sub);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	return path;
}

/* Write an empty file at dir/bdfarm.conf and return its allocated name. */
static char *
test_settings_touch(const char *dir)
{
	char	*path;

	xasprintf(&path, "%s/bdfarm.conf", dir);
	test_settings_write("");
	ck_assert_int_eq(rename(test_settings_path, path), 0);
	return path;
}

START_TEST(test_settings_default_path)
{
	char	*path, *xdg, *xdg_bdfarm, *home, *config, *config_bdfarm, *want;

	/* The user's file, under XDG_CONFIG_HOME, when it exists. */
	xdg = test_settings_mkdir(test_settings_dir, "xdg");
	xdg_bdfarm = test_settings_mkdir(xdg, "bdfarm");
	ck_assert_int_eq(setenv("XDG_CONFIG_HOME", xdg, 1), 0);
	path = settings_default_path();
	if (path != NULL)
		ck_assert_ptr_null(strstr(path, xdg));
	free(path);
	want = test_settings_touch(xdg_bdfarm);
	path = settings_default_path();
	ck_assert_ptr_nonnull(path);
	ck_assert_str_eq(path, want);
	free(path);
	ck_assert_int_eq(unlink(want), 0);
	free(want);

	/* Without XDG_CONFIG_HOME, the one under ~/.config. */
	home = test_settings_mkdir(test_settings_dir, "home");
	config = test_settings_mkdir(home, ".config");
	config_bdfarm = test_settings_mkdir(config, "bdfarm");
	ck_assert_int_eq(setenv("XDG_CONFIG_HOME", "", 1), 0);
	ck_assert_int_eq(setenv("HOME", home, 1), 0);
	want = test_settings_touch(config_bdfarm);
	path = settings_default_path();
	ck_assert_ptr_nonnull(path);
	ck_assert_str_eq(path, want);
	free(path);
	ck_assert_int_eq(unlink(want), 0);
	free(want);

	rmdir(config_bdfarm);
	rmdir(config);
	rmdir(home);
	rmdir(xdg_bdfarm);
	rmdir(xdg);
	free(config_bdfarm);
	free(config);
	free(home);
	free(xdg_bdfarm);
	free(xdg);
}
END_TEST

/* The settings suite, for unit.c. */
Suite *
settings_suite(void)
{
	Suite	*s = suite_create("settings");
	TCase	*tc = tcase_create("file");

	tcase_add_checked_fixture(tc, test_settings_setup,
	    test_settings_teardown);
	tcase_add_test(tc, test_settings_defaults);
	tcase_add_test(tc, test_settings_override);
	tcase_add_test(tc, test_settings_empty);
	tcase_add_test(tc, test_settings_shipped);
	tcase_add_test(tc, test_settings_unknown);
	tcase_add_test(tc, test_settings_wrong_type);
	tcase_add_test(tc, test_settings_range);
	tcase_add_test(tc, test_settings_syntax);
	tcase_add_test(tc, test_settings_retry_order);
	tcase_add_test(tc, test_settings_plain_allow);
	tcase_add_test(tc, test_settings_command);
	tcase_add_test(tc, test_settings_missing);
	tcase_add_test(tc, test_settings_default_path);
	suite_add_tcase(s, tc);
	return s;
}
