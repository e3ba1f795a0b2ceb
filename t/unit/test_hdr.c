/* SPDX-License-Identifier: MIT */
/*
 * test_hdr - RFC 2047 decoding, parameters, transfer decoders, addresses
 * and status-code scanning.
 */
#include "test_common.h"
#include "classify_private.h"

#include <stdlib.h>

static void test_hdr_decode(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain  text\t here", "plain text here" },
		{ "=?UTF-8?B?w6TDtsO8?=", "\xc3\xa4\xc3\xb6\xc3\xbc" },
		{ "=?iso-8859-1?Q?Gr=FC=DFe?= aus =?utf-8?q?K=C3=B6ln?=",
		  "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln" },
		{ "=?utf-8?q?a?= =?utf-8?q?b?=", "ab" },
		{ "=?utf-8?q?a_b?=", "a b" },
		{ "=?broken", "=?broken" },
		{ "=?utf-8?x?abc?=", "=?utf-8?x?abc?=" },
	};
	struct bav_pool *pool = bav_pool_new(0);
	unsigned int i;

	test_begin("hdr: RFC 2047 decoding");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_assert_idx(strcmp(bav_hdr_decode(pool, cases[i].in),
				       cases[i].out) == 0, i);
	bav_pool_free(&pool);
	test_end();
}

static void test_hdr_param(void)
{
	struct bav_pool *pool = bav_pool_new(0);
	const char *v = "multipart/report; report-type=delivery-status;\t"
			"boundary=\"a\\\"b;c\"; charset=UTF-8";
	char *s;

	test_begin("hdr: parameters");
	s = bav_hdr_param(pool, v, "boundary");
	test_assert(s != NULL && strcmp(s, "a\"b;c") == 0);
	s = bav_hdr_param(pool, v, "report-type");
	test_assert(s != NULL && strcmp(s, "delivery-status") == 0);
	s = bav_hdr_param(pool, v, "CHARSET");
	test_assert(s != NULL && strcmp(s, "UTF-8") == 0);
	test_assert(bav_hdr_param(pool, v, "name") == NULL);
	test_assert(bav_hdr_param(pool, "text/plain;", "charset") == NULL);
	test_assert(bav_hdr_param(pool, "text/plain; x", "charset") == NULL);
	bav_pool_free(&pool);
	test_end();
}

static void test_hdr_decoders(void)
{
	struct bav_buf b = { 0 };

	test_begin("hdr: base64 and quoted-printable");
	bav_decode_base64(&b, "aGVs\nbG8=\n", 10);
	test_assert(b.len == 5 && memcmp(b.data, "hello", 5) == 0);
	bav_buf_reset(&b);
	bav_decode_base64(&b, "!!@@", 4);	/* garbage: nothing */
	test_assert(b.len == 0);
	bav_buf_reset(&b);
	bav_decode_qp(&b, "a=3Db=\nc =\r\nd=ZZ", 16);
	test_assert(b.len == 9 && memcmp(b.data, "a=bc d=ZZ", 9) == 0);
	bav_buf_free(&b);
	test_end();
}

static void test_hdr_addresses(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "Kiji <kiji@Example.NET>", "kiji@example.net" },
		{ "rfc822; user@example.org", "user@example.org" },
		{ "<<< 501 <a.b@example.com>... denied", "a.b@example.com" },
		{ "<@relay.example:u@example.com>", "u@example.com" },
		{ "no address here", "" },
		{ "mail to x@example.jp\xe6\x82\xa8 now", "x@example.jp" },
		/* N3 (doc/security.md): escapes, quotes and RFC 6531 */
		{ "rfc822; a\\b@x.example", "a\\b@x.example" },
		{ "rfc822; a\\ b@x.example", "a\\ b@x.example" },
		{ "rfc822; a\\@b@x.example", "a\\@b@x.example" },
		{ "rfc822; \"john doe\"@Example.ORG", "\"john doe\"@example.org" },
		{ "rfc822; \"a\\\"b\"@example.org", "\"a\\\"b\"@example.org" },
		{ "rfc822; \"a@b\"@example.org", "\"a@b\"@example.org" },
		{ "rfc822; m\xc3\xbcller@B\xc3\xbc" "cher.example",
		  "m\xc3\xbcller@b\xc3\xbc" "cher.example" },
		{ "utf-8; \xe7\x94\xb0\xe4\xb8\xad@\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88",
		  "\xe7\x94\xb0\xe4\xb8\xad@\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88" },
		{ "to x@example.jp\xe3\x80\x82 done", "x@example.jp" },
		{ "said: \"bob@example.com\" unknown", "bob@example.com" },
	};
	struct bav_pool *pool = bav_pool_new(0);
	unsigned int i;

	test_begin("hdr: address extraction");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_assert_idx(strcmp(bav_addr_extract(pool, cases[i].in),
				       cases[i].out) == 0, i);
	bav_pool_free(&pool);
	test_end();
}

static void test_status_scan(void)
{
	static const struct {
		const char *in, *status;
		int code;
	} cases[] = {
		{ "550 5.1.1 <a@b>: user unknown", "5.1.1", 550 },
		{ "smtp; 452-4.2.2 over quota", "4.2.2", 452 },
		{ "version 1.2.3.4 at 10:45:12", "", 0 },
		{ "host 192.0.2.5 said 554 5.7.1 denied", "5.7.1", 554 },
		{ "5.7.509 Access denied", "5.7.509", 0 },
	};
	unsigned int i;

	test_begin("status: codes in text");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char st[16] = "";
		const char *s = cases[i].in;

		if (!bav_status_find(s, strlen(s), st))
			st[0] = '\0';
		test_assert_idx(strcmp(st, cases[i].status) == 0, i);
		test_assert_idx(bav_replycode_find(s, strlen(s)) ==
				cases[i].code, i);
	}
	test_assert(strcmp(bav_status_pseudo("userunknown", false),
			   "5.0.911") == 0);
	test_assert(strcmp(bav_status_pseudo("expired", true), "4.0.947") == 0);
	test_end();
}

static void test_detail(void)
{
	test_begin("detail: OpenEMM translation");
	test_assert(bav_detail_for_status("5.1.1", "") == 511);
	test_assert(bav_detail_for_status("5.2.2", "") == 420);
	test_assert(bav_detail_for_status("5.5.0", "") == 400);
	test_assert(bav_detail_for_status("4.4.7", "") == 0);
	test_assert(bav_detail_for_status("5.7.1", "user unknown") == 511);
	test_assert(bav_detail_for_status("2.0.0", "") == 200);
	test_assert(bav_reason_is_hard("userunknown", "5.1.1"));
	test_assert(!bav_reason_is_hard("userunknown", "4.1.1"));
	test_assert(bav_reason_is_hard("notaccept", "5.1.10"));
	test_assert(!bav_reason_is_hard("mailboxfull", "5.2.2"));
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_hdr_decode, test_hdr_param, test_hdr_decoders,
		test_hdr_addresses, test_status_scan, test_detail, NULL
	};

	return test_run(tests);
}
