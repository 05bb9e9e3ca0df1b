/*
 * test-server-address.c: unit tests of the count of connections by where
 * they come from: the cap per address, IPv6 counted by its /64, and
 * places freed as connections close.
 */
#include "bdfarm.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "server.h"
#include "settings.h"
#include "unit.h"

/* A server with nothing but the settings the count reads. */
static void
test_server_address_init(struct server *s, struct settings *set, int cap)
{
	memset(s, 0, sizeof *s);
	settings_defaults(set);
	set->max_peers_per_address = cap;
	s->settings = set;
}

/* Count a connection from text, an IPv4 or IPv6 address. */
static struct server_address *
test_server_address_hold(struct server *s, const char *text, char *refused,
    size_t len)
{
	struct sockaddr_in	in4;
	struct sockaddr_in6	in6;

	memset(&in4, 0, sizeof in4);
	memset(&in6, 0, sizeof in6);
	if (inet_pton(AF_INET, text, &in4.sin_addr) == 1) {
		in4.sin_family = AF_INET;
		return server_address_hold(s, (struct sockaddr *)&in4,
		    sizeof in4, refused, len);
	}
	ck_assert_int_eq(inet_pton(AF_INET6, text, &in6.sin6_addr), 1);
	in6.sin6_family = AF_INET6;
	return server_address_hold(s, (struct sockaddr *)&in6, sizeof in6,
	    refused, len);
}

START_TEST(test_server_address_cap)
{
	struct server		 s;
	struct settings		 set;
	struct server_address	*a[3], *b;
	char			 refused[64] = "";

	test_server_address_init(&s, &set, 2);
	a[0] = test_server_address_hold(&s, "192.0.2.1", refused,
	    sizeof refused);
	a[1] = test_server_address_hold(&s, "192.0.2.1", refused,
	    sizeof refused);
	ck_assert_ptr_nonnull(a[0]);
	ck_assert_ptr_eq(a[0], a[1]);
	ck_assert_ptr_null(test_server_address_hold(&s, "192.0.2.1", refused,
	    sizeof refused));
	ck_assert_str_eq(refused, "192.0.2.1");
	b = test_server_address_hold(&s, "192.0.2.2", refused, sizeof refused);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(s.naddresses, 2);

	/* A place freed is a place taken again. */
	server_address_release(&s, a[0]);
	a[2] = test_server_address_hold(&s, "192.0.2.1", refused,
	    sizeof refused);
	ck_assert_ptr_eq(a[2], a[1]);
	server_address_release(&s, a[1]);
	server_address_release(&s, a[2]);
	server_address_release(&s, b);
	ck_assert_uint_eq(s.naddresses, 0);
	server_address_free(&s);
	settings_free(&set);
}
END_TEST

START_TEST(test_server_address_ipv6_by_64)
{
	struct server		 s;
	struct settings		 set;
	char			 refused[64] = "";

	test_server_address_init(&s, &set, 2);
	ck_assert_ptr_nonnull(test_server_address_hold(&s, "2001:db8:1:2::1",
	    refused, sizeof refused));
	ck_assert_ptr_nonnull(test_server_address_hold(&s,
	    "2001:db8:1:2:ffff::9", refused, sizeof refused));
	ck_assert_ptr_null(test_server_address_hold(&s, "2001:db8:1:2::77",
	    refused, sizeof refused));
	ck_assert_str_eq(refused, "2001:db8:1:2::/64");
	/* The next /64 counts apart, and so does an IPv4-mapped address. */
	ck_assert_ptr_nonnull(test_server_address_hold(&s, "2001:db8:1:3::1",
	    refused, sizeof refused));
	ck_assert_ptr_nonnull(test_server_address_hold(&s,
	    "::ffff:192.0.2.1", refused, sizeof refused));
	ck_assert_ptr_nonnull(test_server_address_hold(&s,
	    "::ffff:192.0.2.2", refused, sizeof refused));
	ck_assert_uint_eq(s.naddresses, 4);
	server_address_free(&s);
	settings_free(&set);
}
END_TEST

/* Without a cap, every connection is counted and none refused. */
START_TEST(test_server_address_no_cap)
{
	struct server		 s;
	struct settings		 set;
	struct server_address	*a = NULL;
	char			 refused[64], text[32];
	int			 i;

	test_server_address_init(&s, &set, 0);
	for (i = 0; i < 1000; i++) {
		a = test_server_address_hold(&s, "198.51.100.7", refused,
		    sizeof refused);
		ck_assert_ptr_nonnull(a);
	}
	for (i = 0; i < 1000; i++) {
		snprintf(text, sizeof text, "10.0.%d.%d", i / 256, i % 256);
		ck_assert_ptr_nonnull(test_server_address_hold(&s, text,
		    refused, sizeof refused));
	}
	ck_assert_uint_eq(s.naddresses, 1001);
	for (i = 0; i < 1000; i++)
		server_address_release(&s, a);
	ck_assert_uint_eq(s.naddresses, 1000);
	server_address_free(&s);
	settings_free(&set);
}
END_TEST

/* The server's count of connections by address, for unit.c. */
Suite *
server_address_suite(void)
{
	Suite	*s = suite_create("server_address");
	TCase	*tc = tcase_create("count");

	tcase_add_test(tc, test_server_address_cap);
	tcase_add_test(tc, test_server_address_ipv6_by_64);
	tcase_add_test(tc, test_server_address_no_cap);
	suite_add_tcase(s, tc);
	return s;
}
