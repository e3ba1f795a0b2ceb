/* SPDX-License-Identifier: MIT */
/*
 * test_netlist - bav-milter's local-client lists: IPv4/IPv6 CIDR parsing
 * and matching (IPv4-mapped clients, prefix edges, /0), bad entries, and
 * the verified-name list of -h.
 */
#include "bav_milter.h"
#include "test_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static bool match(const struct netlist *list, const char *ip)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		return netlist_match(list, (struct sockaddr *)&sin);
	}
	if (inet_pton(AF_INET6, ip, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		return netlist_match(list, (struct sockaddr *)&sin6);
	}
	return false;
}

static const struct {
	const char *list, *ip;
	bool want;
} cases[] = {
	{ "127.0.0.0/8, ::1", "127.0.0.1", true },
	{ "127.0.0.0/8, ::1", "127.255.255.254", true },
	{ "127.0.0.0/8, ::1", "128.0.0.1", false },
	{ "127.0.0.0/8, ::1", "::1", true },
	{ "127.0.0.0/8, ::1", "::2", false },
	{ "127.0.0.0/8, ::1", "::ffff:127.0.0.1", true },
	{ "127.0.0.0/8, ::1", "::ffff:10.0.0.1", false },
	{ "127.0.0.0/8, ::1", "::127.0.0.1", false },	/* compat, not mapped */
	{ "192.0.2.0/28", "192.0.2.15", true },
	{ "192.0.2.0/28", "192.0.2.16", false },
	{ "192.0.2.7/28", "192.0.2.1", true },	/* host bits ignored */
	{ "192.0.2.7", "192.0.2.7", true },
	{ "192.0.2.7", "192.0.2.8", false },
	{ "10.0.0.0/9", "10.127.255.255", true },
	{ "10.0.0.0/9", "10.128.0.0", false },
	{ "0.0.0.0/0", "203.0.113.9", true },
	{ "0.0.0.0/0", "2001:db8::1", false },
	{ "::/0", "2001:db8::1", true },
	{ "2001:db8:1::/48 10.1.2.3", "2001:db8:1:ffff::1", true },
	{ "2001:db8:1::/48 10.1.2.3", "2001:db8:2::1", false },
	{ "2001:db8:1::/48 10.1.2.3", "10.1.2.3", true },
	{ "2001:db8::/33", "2001:db8:7fff::1", true },
	{ "2001:db8::/33", "2001:db8:8000::1", false },
	{ "none", "127.0.0.1", false },
	{ "", "127.0.0.1", false },
};

static void test_match(void)
{
	size_t i;

	test_begin("netlist match");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[128];
		struct netlist *l = netlist_parse(cases[i].list, err, sizeof(err));

		test_assert_idx(l != NULL, i);
		if (l == NULL)
			continue;
		test_assert_idx(match(l, cases[i].ip) == cases[i].want, i);
		netlist_free(&l);
		test_assert_idx(l == NULL, i);
	}
	test_end();
}

static void test_bad(void)
{
	static const char *const bad[] = {
		"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/8x", "300.1.1.1",
		"example.org", "127.0.0.1, junk", "1.2.3.4/-1",
	};
	size_t i;

	test_begin("netlist bad entries");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[128] = "";

		test_assert_idx(netlist_parse(bad[i], err, sizeof(err)) == NULL, i);
		test_assert_idx(strncmp(err, "bad address or network '", 24) == 0, i);
	}
	test_assert(!netlist_match(NULL, NULL));
	test_end();
}

static void test_names(void)
{
	static const struct {
		const char *name;
		bool want;
	} names[] = {
		{ "relay.example.org", true },
		{ "RELAY.example.ORG", true },
		{ "xrelay.example.org", false },
		{ "relay.example.org.evil", false },
		{ "mx1.internal.example", true },
		{ "a.b.internal.example", true },
		{ "internal.example", false },
		{ "unknown", false },
		{ "[192.0.2.1]", false },
		{ "", false },
	};
	size_t i;

	test_begin("verified client names (-h)");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		test_assert_idx(names_match("relay.example.org, .internal.example",
					    names[i].name) == names[i].want, i);
	test_assert(!names_match("", "relay.example.org"));
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_match,
		test_bad,
		test_names,
		NULL
	};

	return test_run(tests);
}
