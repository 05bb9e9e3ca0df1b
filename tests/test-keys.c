/*
 * test-keys.c: unit tests of the keys table: the keys file's lines, the
 * token a friend is given, and the names a key may have.
 */
#include "bdfarm.h"

#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "unit.h"

/* 32 hexadecimal digits of 0xab bytes. */
#define TEST_KEYS_AB "abababababababababababababababab"

#define TEST_KEYS_HEX \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

START_TEST(test_keys_round_trip)
{
	struct keys	 k = { NULL, 0 }, again = { NULL, 0 };
	unsigned char	 key[KEYS_SIZE];
	char		*text, *cause = NULL;
	size_t		 i;

	for (i = 0; i < KEYS_SIZE; i++)
		key[i] = (unsigned char)(i * 7 + 1);
	keys_set(&k, "alice", key);
	key[0] ^= 0xff;
	keys_set(&k, "bob.home", key);
	text = keys_format(&k);
	ck_assert_int_eq(keys_parse(&again, text, strlen(text), &cause), 0);
	ck_assert_uint_eq(again.n, 2);
	ck_assert_mem_eq(keys_find(&again, "bob.home")->key, key, KEYS_SIZE);
	key[0] ^= 0xff;
	ck_assert_mem_eq(keys_find(&again, "alice")->key, key, KEYS_SIZE);
	ck_assert_ptr_null(keys_find(&again, "carol"));
	free(text);
	keys_free(&k);
	keys_free(&again);
}
END_TEST

START_TEST(test_keys_file_lines)
{
	const char	*text = "# farm keys\n\nalice " TEST_KEYS_HEX "\r\n"
			    "bob " TEST_KEYS_HEX;
	struct keys	 k = { NULL, 0 };
	char		*cause = NULL;

	ck_assert_int_eq(keys_parse(&k, text, strlen(text), &cause), 0);
	ck_assert_uint_eq(k.n, 2);
	ck_assert_uint_eq(keys_find(&k, "bob")->key[31], 0x1f);
	keys_free(&k);
}
END_TEST

START_TEST(test_keys_file_refused)
{
	static const char *const bad[] = {
	    "alice\n",
	    "alice 0011\n",
	    "alice " TEST_KEYS_HEX "00\n",
	    "al ice " TEST_KEYS_HEX "\n",
	    "alice " TEST_KEYS_HEX "\nalice " TEST_KEYS_HEX "\n",
	    "al/ice " TEST_KEYS_HEX "\n",
	    "alice zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b"
	    "1c1d1e1f\n" };
	struct keys	 k = { NULL, 0 };
	size_t		 i;
	char		*cause;

	for (i = 0; i < nitems(bad); i++) {
		cause = NULL;
		ck_assert_int_eq(keys_parse(&k, bad[i], strlen(bad[i]), &cause),
		    -1);
		ck_assert_ptr_nonnull(cause);
		ck_assert_uint_eq(k.n, 0);
		free(cause);
	}
}
END_TEST

START_TEST(test_keys_remove)
{
	const char	*text = "alice " TEST_KEYS_HEX "\nbob " TEST_KEYS_HEX
			    "\ncarol " TEST_KEYS_HEX "\n";
	struct keys	 k = { NULL, 0 };
	char		*cause = NULL, *left;

	ck_assert_int_eq(keys_parse(&k, text, strlen(text), &cause), 0);
	ck_assert_int_eq(keys_remove(&k, "bob"), 0);
	ck_assert_uint_eq(k.n, 2);
	ck_assert_ptr_null(keys_find(&k, "bob"));
	ck_assert_ptr_nonnull(keys_find(&k, "carol"));
	ck_assert_int_eq(keys_remove(&k, "bob"), -1);
	ck_assert_int_eq(keys_remove(&k, "alice"), 0);
	left = keys_format(&k);
	ck_assert_str_eq(left, "carol " TEST_KEYS_HEX "\n");
	free(left);
	ck_assert_int_eq(keys_remove(&k, "carol"), 0);
	ck_assert_uint_eq(k.n, 0);
	ck_assert_int_eq(keys_remove(&k, "carol"), -1);
	keys_free(&k);
}
END_TEST

START_TEST(test_keys_token)
{
	unsigned char	 key[KEYS_SIZE], back[KEYS_SIZE];
	char		*token, *name;

	memset(key, 0xab, sizeof key);
	token = keys_token("alice", key);
	ck_assert_str_eq(token, "alice:" TEST_KEYS_AB TEST_KEYS_AB);
	ck_assert_int_eq(keys_parse_token(token, &name, back), 0);
	ck_assert_str_eq(name, "alice");
	ck_assert_mem_eq(back, key, KEYS_SIZE);
	free(name);
	free(token);
	ck_assert_int_eq(keys_parse_token("alice", &name, back), -1);
	ck_assert_int_eq(keys_parse_token(":" TEST_KEYS_HEX, &name, back), -1);
	ck_assert_int_eq(keys_parse_token("a b:" TEST_KEYS_HEX, &name, back),
	    -1);
	ck_assert_int_eq(keys_parse_token("alice:" TEST_KEYS_HEX "0", &name,
	    back), -1);
}
END_TEST

START_TEST(test_keys_names)
{
	char	long_name[KEYS_NAME_MAX + 2];

	ck_assert(keys_valid_name("alice"));
	ck_assert(keys_valid_name("Bob-2_laptop.home"));
	ck_assert(!keys_valid_name(""));
	ck_assert(!keys_valid_name("a b"));
	ck_assert(!keys_valid_name("a#1"));
	ck_assert(!keys_valid_name("a:b"));
	memset(long_name, 'x', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	ck_assert(!keys_valid_name(long_name));
	long_name[KEYS_NAME_MAX] = '\0';
	ck_assert(keys_valid_name(long_name));
}
END_TEST

/* The keys suite, for unit.c. */
Suite *
keys_suite(void)
{
	Suite	*s = suite_create("keys");
	TCase	*tc = tcase_create("keys");

	tcase_add_test(tc, test_keys_round_trip);
	tcase_add_test(tc, test_keys_file_lines);
	tcase_add_test(tc, test_keys_file_refused);
	tcase_add_test(tc, test_keys_remove);
	tcase_add_test(tc, test_keys_token);
	tcase_add_test(tc, test_keys_names);
	suite_add_tcase(s, tc);
	return s;
}
