/*
 * test-netrange.c: unit tests of address ranges: the notation, prefixes
 * that end inside a byte, IPv4 seen through an IPv6 socket, and lists
 * that are refused.
 */
#include "bdfarm.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netrange.h"
#include "unit.h"

#define TEST_NETRANGE_DEFAULT "127.0.0.0/8, ::1, 10.0.0.0/8, " \
	"172.16.0.0/12, 192.168.0.0/16, fc00::/7, fe80::/10"

/* Whether the address text is in the list of ranges. */
static int
test_netrange_in(const char *list, const char *text)
{
	struct netrange		*r;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	size_t			 n;
	char			*cause = NULL;
	int			 in;

	ck_assert_int_eq(netrange_parse(list, &r, &n, &cause), 0);
	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else {
		ck_assert_int_eq(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
		ss.ss_family = AF_INET6;
	}
	in = netrange_match(r, n, (struct sockaddr *)&ss);
	free(r);
	return in;
}

START_TEST(test_netrange_default)
{
	ck_assert(test_netrange_in(TEST_NETRANGE_DEFAULT, "127.0.0.1"));
	ck_assert(test_netrange_in(TEST_NETRANGE_DEFAULT, "127.255.1.2"));
	ck_assert(test_netrange_in(TEST_NETRANGE_DEFAULT, "10.200.3.4"));
	ck_assert(test_netrange_in(TEST_NETRANGE_DEFAULT, "172.16.0.1"));
	ck_assert(test_netrange_in(TEST_NETRANGE_DEFAULT, "172.31.255.255"));
	ck_assert(!test_netrange_in(TEST_NETRANGE_DEFAULT, "172.32.0.1"));
	ck_assert(!test_netrange_in(TEST_NETRANGE_DEFAULT, "172.15.255.255"));
	ck_assert(test_netrange_in(TEST_NETRANGE_DEFAULT, "192.168.1.10"));
	ck_assert(!test_netrange_in(TEST_NETRANGE_DEFAULT, "192.169.1.10"));
	ck_assert(!test_netrange_in(TEST_NETRANGE_DEFAULT, "8.8.8.8"));
	ck_assert(test_netrange_in(TEST_NETRANGE_DEFAULT, "::1"));
	ck_assert(!test_netrange_in(TEST_NETRANGE_DEFAULT, "::2"));
	ck_assert(test_netrange_in(TEST_NETRANGE_DEFAULT, "fd12:3456::1"));
	ck_assert(test_netrange_in(TEST_NETRANGE_DEFAULT, "fc00::1"));
	ck_assert(!test_netrange_in(TEST_NETRANGE_DEFAULT, "fe00::1"));
	ck_assert(test_netrange_in(TEST_NETRANGE_DEFAULT, "fe80::1:2"));
	ck_assert(test_netrange_in(TEST_NETRANGE_DEFAULT, "febf::1"));
	ck_assert(!test_netrange_in(TEST_NETRANGE_DEFAULT, "fec0::1"));
	ck_assert(!test_netrange_in(TEST_NETRANGE_DEFAULT, "2001:db8::1"));
}
END_TEST

START_TEST(test_netrange_mapped)
{
	ck_assert(test_netrange_in("10.0.0.0/8", "::ffff:10.1.2.3"));
	ck_assert(!test_netrange_in("10.0.0.0/8", "::ffff:11.1.2.3"));
	ck_assert(!test_netrange_in("::/0", "::ffff:11.1.2.3"));
	/* A range written as mapped IPv4 is that IPv4 range. */
	ck_assert(test_netrange_in("::ffff:10.0.0.0/104", "::ffff:10.1.2.3"));
	ck_assert(test_netrange_in("::ffff:10.0.0.0/104", "10.1.2.3"));
	ck_assert(!test_netrange_in("::ffff:10.0.0.0/104", "11.1.2.3"));
	ck_assert(test_netrange_in("::ffff:192.0.2.1", "192.0.2.1"));
	ck_assert(test_netrange_in("::ffff:0.0.0.0/96", "198.51.100.1"));
}
END_TEST

START_TEST(test_netrange_exact_and_all)
{
	ck_assert(test_netrange_in("203.0.113.7", "203.0.113.7"));
	ck_assert(!test_netrange_in("203.0.113.7", "203.0.113.8"));
	ck_assert(test_netrange_in("0.0.0.0/0", "198.51.100.1"));
	ck_assert(!test_netrange_in("0.0.0.0/0", "2001:db8::1"));
	ck_assert(test_netrange_in("::/0", "2001:db8::1"));
	ck_assert(!test_netrange_in("", "127.0.0.1"));
	ck_assert(test_netrange_in("  10.0.0.1,\t127.0.0.1 ", "127.0.0.1"));
	ck_assert(test_netrange_in("127.0.0.2/31", "127.0.0.3"));
	ck_assert(!test_netrange_in("127.0.0.2/31", "127.0.0.1"));
}
END_TEST

START_TEST(test_netrange_refused)
{
	static const char *const bad[] = { "10.0.0.0/33", "::1/129",
	    "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "example.org",
	    "10.0.0", "127.0.0.1 nonsense", "1.2.3.4/8/8" };
	struct netrange	*r;
	size_t		 i, n;
	char		*cause;

	for (i = 0; i < nitems(bad); i++) {
		cause = NULL;
		ck_assert_int_eq(netrange_parse(bad[i], &r, &n, &cause), -1);
		ck_assert_ptr_null(r);
		ck_assert_ptr_nonnull(cause);
		free(cause);
	}
}
END_TEST

/* The address range suite, for unit.c. */
Suite *
netrange_suite(void)
{
	Suite	*s = suite_create("netrange");
	TCase	*tc = tcase_create("match");

	tcase_add_test(tc, test_netrange_default);
	tcase_add_test(tc, test_netrange_mapped);
	tcase_add_test(tc, test_netrange_exact_and_all);
	tcase_add_test(tc, test_netrange_refused);
	suite_add_tcase(s, tc);
	return s;
}
