/* SPDX-License-Identifier: MIT */
/*
 * test_mime - the streaming MIME parser: structure, line endings, chunking
 * invariance, embedded messages, transfer encodings and hard limits.
 */
#include "test_common.h"
#include "bav_private.h"

#include <stdio.h>
#include <stdlib.h>

static const char nested[] =
	"From: MAILER-DAEMON@example.org\n"
	"Subject: =?UTF-8?Q?Undelivered_Mail?=\n"
	"Content-Type: multipart/report; report-type=delivery-status;\n"
	"\tboundary=\"outer\"\n"
	"\n"
	"preamble\n"
	"--outer\n"
	"Content-Type: text/plain; charset=iso-8859-1\n"
	"Content-Transfer-Encoding: quoted-printable\n"
	"\n"
	"Gr=FC=DFe, soft=\n"
	"break\n"
	"--outer\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Reporting-MTA: dns; mx.example.org\n"
	"\n"
	"Final-Recipient: rfc822; a@example.net\n"
	"Action: failed\n"
	"Status: 5.1.1\n"
	"--outer\n"
	"Content-Type: message/rfc822\n"
	"\n"
	"Message-ID: <orig@example.com>\n"
	"Content-Type: multipart/mixed; boundary=inner\n"
	"\n"
	"--inner\n"
	"Content-Type: text/plain\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"aGVsbG8gd29ybGQ=\n"
	"--inner--\n"
	"--outer--\n"
	"epilogue\n";

static struct bav_part *parse_chunks(struct bav_pool *pool, const char *msg,
				     size_t len, size_t chunk,
				     const struct bav_limits *lim,
				     const char **error_r)
{
	struct bav_mime_parser *p = bav_mime_parser_new(pool, lim);
	unsigned char *copy = test_dup_nonul(msg, len);
	size_t off;
	int ret = 0;

	for (off = 0; off < len && ret == 0; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		ret = bav_mime_parser_push(p, copy + off, n, error_r);
	}
	free(copy);
	if (ret < 0) {
		bav_mime_parser_finish(&p, error_r);
		return NULL;
	}
	return bav_mime_parser_finish(&p, error_r);
}

static char *to_crlf(const char *s, bool cr_only)
{
	size_t n = strlen(s), i, o = 0;
	char *out = malloc(2 * n + 1);

	for (i = 0; i < n; i++) {
		if (s[i] == '\n') {
			out[o++] = '\r';
			if (!cr_only)
				out[o++] = '\n';
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

static void check_tree(struct bav_part *root, unsigned int idx)
{
	struct bav_part *text, *dsn, *msg, *orig, *inner;

	test_assert_idx(root != NULL, idx);
	if (root == NULL)
		return;
	test_assert_idx(strcmp(root->ctype, "multipart/report") == 0, idx);
	test_assert_idx(root->report_type != NULL &&
			strcmp(root->report_type, "delivery-status") == 0, idx);
	text = root->child;
	test_assert_idx(text != NULL && strcmp(text->ctype, "text/plain") == 0,
			idx);
	if (text == NULL)
		return;
	/* QP decoded, soft break joined, Latin-1 converted to UTF-8 */
	test_assert_idx(text->body != NULL &&
			strcmp(text->body, "Gr\xc3\xbc\xc3\x9f" "e, softbreak\n") == 0,
			idx);
	dsn = text->next;
	test_assert_idx(dsn != NULL &&
			strcmp(dsn->ctype, "message/delivery-status") == 0, idx);
	test_assert_idx(dsn != NULL && dsn->body != NULL &&
			strstr(dsn->body, "Status: 5.1.1") != NULL, idx);
	msg = dsn != NULL ? dsn->next : NULL;
	test_assert_idx(msg != NULL && msg->is_message, idx);
	orig = msg != NULL ? msg->child : NULL;
	test_assert_idx(orig != NULL &&
			strcmp(bav_part_header(orig, "Message-ID"),
			       "<orig@example.com>") == 0, idx);
	inner = orig != NULL ? orig->child : NULL;
	test_assert_idx(inner != NULL && inner->body != NULL &&
			strcmp(inner->body, "hello world") == 0, idx);
	test_assert_idx(msg != NULL && msg->next == NULL, idx);
}

static void test_mime_structure(void)
{
	struct bav_pool *pool = bav_pool_new(0);
	const char *error = NULL;
	static const size_t chunks[] = { 1, 2, 3, 7, 16, 17, 64, 100000 };
	unsigned int i;

	test_begin("mime: structure, any chunking");
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
		check_tree(parse_chunks(pool, nested, strlen(nested),
					chunks[i], NULL, &error), i);
	bav_pool_free(&pool);
	test_assert(pool == NULL);
	test_end();
}

static void test_mime_line_endings(void)
{
	struct bav_pool *pool = bav_pool_new(0);
	const char *error = NULL;
	char *crlf = to_crlf(nested, false), *cr = to_crlf(nested, true);

	test_begin("mime: CRLF and bare CR line endings");
	check_tree(parse_chunks(pool, crlf, strlen(crlf), 1, NULL, &error), 0);
	check_tree(parse_chunks(pool, crlf, strlen(crlf), 5000, NULL, &error), 1);
	check_tree(parse_chunks(pool, cr, strlen(cr), 1, NULL, &error), 2);
	check_tree(parse_chunks(pool, cr, strlen(cr), 5000, NULL, &error), 3);
	free(crlf);
	free(cr);
	bav_pool_free(&pool);
	test_end();
}

static void test_mime_headers(void)
{
	static const char msg[] =
		"From ignored@mbox  Mon Jan  1 00:00:00 2024\n"
		"Subject: a\n very\n\tlong subject\n"
		"X-Empty:\n"
		"Bad Header Line\n"
		"body starts here\n";
	struct bav_pool *pool = bav_pool_new(0);
	const char *error = NULL;
	struct bav_part *root;

	test_begin("mime: folding, mbox line, missing blank line");
	root = parse_chunks(pool, msg, sizeof(msg) - 1, 3, NULL, &error);
	test_assert(root != NULL);
	if (root != NULL) {
		test_assert_strcmp(bav_part_header(root, "subject"),
				   "a very\tlong subject");
		test_assert_strcmp(bav_part_header(root, "X-Empty"), "");
		test_assert(root->header_count == 2);
		test_assert(root->body != NULL &&
			    strcmp(root->body,
				   "Bad Header Line\nbody starts here\n") == 0);
	}
	bav_pool_free(&pool);
	test_end();
}

static void test_mime_nul_bytes(void)
{
	static const char msg[] = "Subject: x\n\nab\0cd\n";
	struct bav_pool *pool = bav_pool_new(0);
	const char *error = NULL;
	struct bav_part *root;

	test_begin("mime: NUL bytes in a body");
	root = parse_chunks(pool, msg, sizeof(msg) - 1, 2, NULL, &error);
	test_assert(root != NULL && root->body_len == 6 &&
		    memcmp(root->body, "ab\0cd\n", 6) == 0);
	bav_pool_free(&pool);
	test_end();
}

static void test_mime_limits(void)
{
	struct bav_pool *pool = bav_pool_new(0);
	struct bav_limits lim;
	const char *error = NULL;
	char *deep, *p;
	size_t i, n = 100;

	test_begin("mime: depth, header length and size limits");
	bav_limits_default(&lim);
	lim.max_depth = 10;
	/* 100 nested message/rfc822 parts */
	deep = malloc(n * 40 + 100);
	p = deep;
	for (i = 0; i < n; i++)
		p += sprintf(p, "Content-Type: message/rfc822\n\n");
	p += sprintf(p, "Subject: innermost\n\nx\n");
	error = NULL;
	test_assert(parse_chunks(pool, deep, strlen(deep), 17, &lim,
				 &error) == NULL);
	test_assert(error != NULL && strstr(error, "depth") != NULL);
	free(deep);

	bav_limits_default(&lim);
	lim.max_header_len = 1000;
	deep = malloc(5000);
	memcpy(deep, "Subject: ", 9);
	memset(deep + 9, 'a', 3000);
	memcpy(deep + 3009, "\n\nbody\n", 8);
	error = NULL;
	test_assert(parse_chunks(pool, deep, strlen(deep), 100, &lim,
				 &error) == NULL);
	test_assert(error != NULL && strstr(error, "header length") != NULL);

	bav_limits_default(&lim);
	lim.max_message_size = 1000;
	error = NULL;
	test_assert(parse_chunks(pool, deep, strlen(deep), 100, &lim,
				 &error) == NULL);
	test_assert(error != NULL && strstr(error, "size") != NULL);
	free(deep);
	bav_pool_free(&pool);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_mime_structure, test_mime_line_endings,
		test_mime_headers, test_mime_nul_bytes, test_mime_limits, NULL
	};

	return test_run(tests);
}
