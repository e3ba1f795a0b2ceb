/* SPDX-License-Identifier: MIT */
/*
 * test_rules.c - unit tests of the rule engine (rules.c, rules_match.c):
 * legacy format, extended sections, precedence, rid overrides,
 * continuation lines, errors with file:line, lint, match limits, binary
 * input, the literal prefilter, the compiled-in defaults and concurrent
 * lookups.
 */
#include "bav_private.h"
#include "rules_int.h"		/* RULES_PF_AFTER */
#include "test_common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static struct bav_rules *load(const char *name, const char *text)
{
	struct bav_rules *rules = NULL;
	char *error = NULL;

	if (bav_rules_load_string(name, text, false, &rules, &error) != 0) {
		fprintf(stderr, "load %s: %s\n", name, error);
		free(error);
		return NULL;
	}
	return rules;
}

/* Match a copy of text[0..len) without a terminating NUL; returns the
   rule id or NULL. */
static const char *match_id(const struct bav_rules *rules,
			    enum bav_rule_section section, const char *rid,
			    const char *text, size_t len,
			    const struct bav_rule **rule_r)
{
	unsigned char *copy = test_dup_nonul(text, len);
	const struct bav_rule *r;

	r = bav_rules_match(rules, section, rid, (const char *)copy, len);
	free(copy);
	if (rule_r != NULL)
		*rule_r = r;
	return r == NULL ? NULL : r->id;
}

static bool streq(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/test_rules.XXXXXX");
	int fd = mkstemp(path);
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		if (fd >= 0)
			close(fd);
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char legacy_text[] =
	"# OpenEMM bav.rule\n"
	"[systemmail]\n"
	"^Subject:.*undeliverable\n"
	"^Return-Path:\\s*<>\n"
	"\n"
	"[filter]\n"
	"{auto}^From:.*autorespond\n"
	"{ooo}^Subject:.*out of office\n"
	"[hard]\n"
	"user unknown|unknown user\n"
	"^Action: failed\n"
	"[soft]\n"
	"mailbox full\n"
	"[legacy_other]\n"
	"whatever\n";

static void test_legacy(void)
{
	static const struct {
		enum bav_rule_section section;
		const char *text, *id, *mark;
	} cases[] = {
		{ BAV_RULE_SYSTEMMAIL, "Subject: Mail UNDELIVERABLE", "bav.rule:3", NULL },
		{ BAV_RULE_SYSTEMMAIL, "Return-Path: <>", "bav.rule:4", NULL },
		{ BAV_RULE_SYSTEMMAIL, "Return-Path: <a@b>", NULL, NULL },
		{ BAV_RULE_FILTER, "From: AutoResponder <x@y>", "bav.rule:7", "auto" },
		{ BAV_RULE_FILTER, "Subject: Out of Office: hi", "bav.rule:8", "ooo" },
		{ BAV_RULE_FILTER, "X-Subject: out of office", NULL, NULL },
		{ BAV_RULE_HARD, "550 5.1.1 User Unknown", "bav.rule:10", NULL },
		{ BAV_RULE_HARD, "action: FAILED", "bav.rule:11", NULL },
		{ BAV_RULE_SOFT, "452 mailbox full", "bav.rule:13", NULL },
		{ BAV_RULE_HARD, "whatever", NULL, NULL },
		{ BAV_RULE_SOFT, "whatever", NULL, NULL },
		{ BAV_RULE_REASON, "user unknown", NULL, NULL },
	};
	struct bav_rules *rules;
	const struct bav_rule *r;
	unsigned int i;

	test_begin("rules legacy bav.rule");
	rules = load("/some/dir/bav.rule", legacy_text);
	test_assert(rules != NULL);
	for (i = 0; rules != NULL && i < sizeof(cases) / sizeof(*cases); i++) {
		const char *id = match_id(rules, cases[i].section, NULL,
					  cases[i].text,
					  strlen(cases[i].text), &r);

		test_assert_idx(streq(id, cases[i].id), i);
		if (r != NULL) {
			test_assert_idx(streq(r->mark, cases[i].mark), i);
			test_assert_idx(r->rid == NULL, i);
		}
	}
	if (rules != NULL) {
		match_id(rules, BAV_RULE_FILTER, NULL, "From: autorespond", 17,
			 &r);
		test_assert(r != NULL &&
			    strcmp(r->pattern, "^From:.*autorespond") == 0);
	}
	bav_rules_free(&rules);
	test_assert(rules == NULL);
	bav_rules_free(&rules);
	test_end();
}

static void test_precedence(void)
{
	const char *paths[2];
	char *a, *b, *error = NULL;
	struct bav_rules *rules = NULL;
	const char *id;

	test_begin("rules first match and file precedence");
	a = write_tmp("[hard]\nfoo\nfo+\n[status]\n5.1 userunknown\n"
		      "[detail]\n51 410\n");
	b = write_tmp("[hard]\nf.o\n[status]\n5.1 hasmoved\n"
		      "[detail]\n5 400\n");
	test_assert(a != NULL && b != NULL);
	paths[0] = a;
	paths[1] = b;
	/* within a file: first match in file order */
	test_assert(bav_rules_load(paths, 1, false, &rules, &error) == 0);
	id = match_id(rules, BAV_RULE_HARD, NULL, "xfooo", 5, NULL);
	test_assert(id != NULL && strcmp(id, strrchr(a, '/') + 1) != 0 &&
		    strstr(id, ":2") != NULL);
	bav_rules_free(&rules);
	/* a later file is tried first */
	test_assert(bav_rules_load(paths, 2, false, &rules, &error) == 0);
	id = match_id(rules, BAV_RULE_HARD, NULL, "xfooo", 5, NULL);
	test_assert(id != NULL && strncmp(id, strrchr(b, '/') + 1,
					  strlen(strrchr(b, '/') + 1)) == 0);
	test_assert(streq(bav_rules_status_reason(rules, NULL, "5.1.1", NULL),
			  "hasmoved"));
	/* detail: b's table first, and b's "5" answers before a's "51" */
	test_assert(bav_rules_detail(rules, NULL, 511, NULL, NULL) == 400);
	bav_rules_free(&rules);
	/* operator text overrides the compiled-in defaults */
	test_assert(bav_rules_load_string("op.rules", "[hard]\nuser unknown\n",
					  true, &rules, &error) == 0);
	id = match_id(rules, BAV_RULE_HARD, NULL, "550 user unknown", 16,
		      NULL);
	test_assert(streq(id, "op.rules:2"));
	id = match_id(rules, BAV_RULE_HARD, NULL, "no such user here", 17,
		      NULL);
	test_assert(id != NULL && strncmp(id, "default.rules:", 14) == 0);
	bav_rules_free(&rules);
	/* unreadable file */
	paths[0] = "/nonexistent/bav.rule";
	test_assert(bav_rules_load(paths, 1, false, &rules, &error) ==
		    BAV_ECONFIG);
	test_assert(rules == NULL && error != NULL &&
		    strstr(error, "/nonexistent/bav.rule") != NULL);
	free(error);
	if (a != NULL)
		unlink(a);
	if (b != NULL)
		unlink(b);
	free(a);
	free(b);
	test_end();
}

static void test_rid(void)
{
	static const char text[] =
		"[hard]\n"
		"x\n"
		"[hard rid=news]\n"
		"xx\n"
		"only news\n"
		"[hard rid=7]\n"
		"x\n"
		"[reason blocked rid=news]\n"
		"spam\n"
		"[reason spamdetected]\n"
		"spam\n";
	static const struct {
		const char *rid, *text, *id;
	} cases[] = {
		{ "news", "xx", "t:4" },
		{ "news", "x", "t:2" },
		{ "7", "xx", "t:7" },
		{ "other", "xx", "t:2" },
		{ NULL, "xx", "t:2" },
		{ NULL, "only news", NULL },
		{ "news", "only news", "t:5" },
	};
	struct bav_rules *rules;
	const struct bav_rule *r;
	unsigned int i;

	test_begin("rules per-filter overrides");
	rules = load("t", text);
	test_assert(rules != NULL);
	for (i = 0; rules != NULL && i < sizeof(cases) / sizeof(*cases); i++) {
		test_assert_idx(streq(match_id(rules, BAV_RULE_HARD,
					       cases[i].rid, cases[i].text,
					       strlen(cases[i].text), NULL),
				      cases[i].id), i);
	}
	if (rules != NULL) {
		match_id(rules, BAV_RULE_REASON, "news", "spam!", 5, &r);
		test_assert(r != NULL && streq(r->arg, "blocked") &&
			    streq(r->rid, "news"));
		match_id(rules, BAV_RULE_REASON, NULL, "spam!", 5, &r);
		test_assert(r != NULL && streq(r->arg, "spamdetected") &&
			    r->rid == NULL);
	}
	bav_rules_free(&rules);
	test_end();
}

static void test_continuation(void)
{
	static const char text[] =
		"[hard]\n"
		"(abc|\n"
		"  def|\n"
		"# a comment inside\n"
		"\tghi)$ \r\n"
		"[reason mailboxfull]\n"
		"quota\n"
		"\n"
		"    exceeded\n";
	struct bav_rules *rules;
	const struct bav_rule *r;

	test_begin("rules continuation lines");
	rules = load("c.rules", text);
	test_assert(rules != NULL);
	if (rules != NULL) {
		test_assert(streq(match_id(rules, BAV_RULE_HARD, NULL,
					   "xx DEF", 6, &r), "c.rules:2"));
		test_assert(r != NULL && streq(r->pattern, "(abc|def|ghi)$"));
		test_assert(match_id(rules, BAV_RULE_HARD, NULL, "ghi x", 5,
				     NULL) == NULL);
		test_assert(streq(match_id(rules, BAV_RULE_REASON, NULL,
					   "quotaexceeded", 13, &r),
				  "c.rules:7"));
		test_assert(r != NULL && streq(r->arg, "mailboxfull"));
	}
	bav_rules_free(&rules);
	test_end();
}

static void test_status(void)
{
	static const char text[] =
		"# only comments here, then a status table\n"
		"[status]\n"
		"5 blocked\n"
		"5.1 userunknown\n"
		"5.1.1 hasmoved\n"
		"5.1.1 rejected\n"
		"4.2.2\tmailboxfull\n"
		"[status rid=news]\n"
		"5.7 spamdetected\n";
	static const struct {
		const char *rid, *status, *reason, *id;
	} cases[] = {
		{ NULL, "5.1.1", "hasmoved", "s:5" },
		{ NULL, "5.1.2", "userunknown", "s:4" },
		{ NULL, "5.10.1", "blocked", "s:3" },
		{ NULL, "5.7.1", "blocked", "s:3" },
		{ NULL, "4.2.2", "mailboxfull", "s:7" },
		{ NULL, "4.2.20", NULL, NULL },
		{ NULL, "4.4.1", NULL, NULL },
		{ NULL, "", NULL, NULL },
		{ "news", "5.7.1", "spamdetected", "s:9" },
		{ "news", "5.1.1", "hasmoved", "s:5" },
		{ "other", "5.7.1", "blocked", "s:3" },
	};
	struct bav_rules *rules;
	const struct bav_rule *r;
	unsigned int i;

	test_begin("rules [status] longest prefix");
	rules = load("s", text);
	test_assert(rules != NULL);
	for (i = 0; rules != NULL && i < sizeof(cases) / sizeof(*cases); i++) {
		const char *reason = bav_rules_status_reason(
			rules, cases[i].rid, cases[i].status, &r);

		test_assert_idx(streq(reason, cases[i].reason), i);
		test_assert_idx(streq(r == NULL ? NULL : r->id, cases[i].id),
				i);
	}
	bav_rules_free(&rules);
	/* a file with nothing but comments is fine */
	rules = load("empty", "# nothing\n\n   # indented comment\n");
	test_assert(rules != NULL);
	test_assert(bav_rules_status_reason(rules, NULL, "5.1.1", NULL) ==
		    NULL);
	test_assert(bav_rules_detail(rules, NULL, 511, "x", NULL) == -1);
	test_assert(match_id(rules, BAV_RULE_HARD, NULL, "x", 1, NULL) ==
		    NULL);
	bav_rules_free(&rules);
	test_end();
}

static void test_detail(void)
{
	static const char text[] =
		"[detail]\n"
		"5 400\n"
		"51 410\n"
		"511 511\n"
		"5.5.0 511 unknown recipient\n"
		"51 512 gone\\s+away\n"
		"4.2.2 420\n"
		"[detail rid=7]\n"
		"5 510\n";
	static const struct {
		const char *rid;
		int code;
		const char *text;
		int detail;
		const char *id;
	} cases[] = {
		{ NULL, 511, NULL, 511, "d:4" },
		{ NULL, 511, "user unknown", 511, "d:4" },
		{ NULL, 512, NULL, 410, "d:3" },
		{ NULL, 521, NULL, 400, "d:2" },
		{ NULL, 550, "Unknown Recipient here", 511, "d:5" },
		{ NULL, 550, "something else", 400, "d:2" },
		{ NULL, 550, NULL, 400, "d:2" },
		/* rules with a pattern first, even for a shorter prefix */
		{ NULL, 511, "has gone  away", 512, "d:6" },
		{ NULL, 422, NULL, 420, "d:7" },
		{ NULL, 421, NULL, -1, NULL },
		{ NULL, 4, NULL, -1, NULL },
		{ NULL, 0, NULL, -1, NULL },
		{ "7", 511, NULL, 510, "d:9" },
		{ "7", 422, NULL, 420, "d:7" },
		{ "8", 511, NULL, 511, "d:4" },
	};
	struct bav_rules *rules;
	const struct bav_rule *r;
	unsigned int i;

	test_begin("rules [detail] with pattern and prefix fallback");
	rules = load("d", text);
	test_assert(rules != NULL);
	for (i = 0; rules != NULL && i < sizeof(cases) / sizeof(*cases); i++) {
		int detail = bav_rules_detail(rules, cases[i].rid,
					      cases[i].code, cases[i].text,
					      &r);

		test_assert_idx(detail == cases[i].detail, i);
		test_assert_idx(streq(r == NULL ? NULL : r->id, cases[i].id),
				i);
	}
	bav_rules_free(&rules);
	test_end();
}

static void test_errors(void)
{
	static const struct {
		const char *text, *error;
	} cases[] = {
		{ "[hard]\nok\nfoo(bar\n", "e.rules:3: bad regex" },
		{ "# x\n[reason nosuch]\nfoo\n", "e.rules:2: unknown reason nosuch" },
		{ "[reason]\nfoo\n", "e.rules:1: [reason] needs" },
		{ "[detail]\n511 999\n", "e.rules:2: bad detail 999" },
		{ "[detail]\n511\n", "e.rules:2: [detail] line must be" },
		{ "[detail]\n5x1 511\n", "e.rules:2: bad code 5x1" },
		{ "[detail]\n511 511 (x\n", "e.rules:2: bad regex" },
		{ "[status]\n5.1.1\n", "e.rules:2: [status] line must be" },
		{ "[status]\n6.1.1 userunknown\n", "e.rules:2: bad status code" },
		{ "[status]\n5.1.1 nosuch\n", "e.rules:2: unknown reason nosuch" },
		{ "[bogus rid=1]\nx\n", "e.rules:1: unknown section [bogus]" },
		{ "[hard colour=red]\nx\n", "e.rules:1: bad section option" },
		{ "foo\n", "e.rules:1: rule before the first [section]" },
		{ "[hard]\n  foo\n", "e.rules:2: continuation line" },
		{ "[hard]\n{auto}\n", "e.rules:2: empty pattern" },
	};
	struct bav_rules *rules;
	char *error;
	unsigned int i;

	test_begin("rules errors with file:line");
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		rules = NULL;
		error = NULL;
		test_assert_idx(bav_rules_load_string("/etc/e.rules",
						      cases[i].text, false,
						      &rules, &error) ==
				BAV_ECONFIG, i);
		test_assert_idx(rules == NULL, i);
		test_assert_idx(error != NULL &&
				strncmp(error, cases[i].error,
					strlen(cases[i].error)) == 0, i);
		if (error != NULL && strncmp(error, cases[i].error,
					     strlen(cases[i].error)) != 0)
			fprintf(stderr, "  got: %s\n", error);
		free(error);
	}
	test_end();
}

struct check_ctx {
	unsigned int messages, warnings;
	char first[256];
};

static void check_cb(void *context, const char *msg)
{
	struct check_ctx *ctx = context;

	if (ctx->messages++ == 0)
		snprintf(ctx->first, sizeof(ctx->first), "%s", msg);
	if (strstr(msg, ": warning: ") != NULL)
		ctx->warnings++;
}

static void test_check(void)
{
	static const char text[] =
		"[hard]\n"
		"good\n"
		"bad(\n"
		"[reason nosuch]\n"
		"skipped\n"
		"[oldsection]\n"
		"ignored\n"
		"[detail]\n"
		"511 7\n"
		"511 511\n"
		"[soft]\n"
		"also[bad\n";
	struct check_ctx ctx = { 0 };
	char *path = write_tmp(text);
	int ret;

	test_begin("rules check counts every problem");
	test_assert(path != NULL);
	if (path != NULL) {
		ret = bav_rules_check(path, check_cb, &ctx);
		test_assert(ret == 4);
		test_assert(ctx.messages == 5 && ctx.warnings == 1);
		test_assert(strstr(ctx.first, ":3: bad regex") != NULL);
		unlink(path);
		free(path);
	}
	memset(&ctx, 0, sizeof(ctx));
	test_assert(bav_rules_check("/nonexistent/x.rules", check_cb, &ctx) ==
		    -1);
	test_assert(ctx.messages == 1);
	path = write_tmp(legacy_text);
	if (path != NULL) {
		memset(&ctx, 0, sizeof(ctx));
		test_assert(bav_rules_check(path, check_cb, &ctx) == 0);
		test_assert(ctx.warnings == 1);
		unlink(path);
		free(path);
	}
	test_end();
}

static void test_match_limit(void)
{
	const size_t len = 30001;
	char *text = malloc(len);
	struct bav_rules *rules;
	double start, t1 = 0, t2 = 0;
	unsigned int i;

	test_begin("rules pathological regex hits the match limit");
	memset(text, 'a', len - 1);
	text[len - 1] = 'b';
	rules = load("p", "[hard]\n(a+)+$\n[soft]\n(x+x+)+y\n");
	test_assert(rules != NULL);
	if (rules != NULL) {
		start = now();
		test_assert(match_id(rules, BAV_RULE_HARD, NULL, text, len,
				     NULL) == NULL);
		t1 = now() - start;
		/* enough calls for the lazy JIT to kick in */
		for (i = 0; i < 60; i++)
			test_assert_idx(match_id(rules, BAV_RULE_SOFT, NULL,
						 text, 40, NULL) == NULL, i);
		memset(text, 'x', len - 1);
		start = now();
		test_assert(match_id(rules, BAV_RULE_SOFT, NULL, text, len,
				     NULL) == NULL);
		t2 = now() - start;
		/* and a normal match still works afterwards */
		test_assert(match_id(rules, BAV_RULE_SOFT, NULL, "xxy", 3,
				     NULL) != NULL);
	}
	test_assert(t1 < 1.0 && t2 < 1.0);
	bav_rules_free(&rules);
	free(text);
	test_end();
}

#define T(s) s, sizeof(s) - 1
static void test_binary_input(void)
{
	static const struct {
		const char *text;
		size_t len;
		const char *id;
	} cases[] = {
		{ T("\xff\xfe\0user unknown\xc3"), "b:2" },
		{ T("user\0unknown"), NULL },
		{ T("x\0after nul"), "b:3" },
		{ T("\x80\x80 Postfach \xc3\x9c""BERF\xc3\x9c""LLT \xe4"), "b:4" },
		{ T("Postfach \xdc""berf\xfc""llt"), NULL },
		{ T("\xc3"), NULL },
		{ "", 0, NULL },
	};
	struct bav_rules *rules;
	unsigned int i;

	test_begin("rules NUL bytes and invalid UTF-8 in the text");
	/* line 4 is Latin-1 in the rule file: converted to UTF-8 */
	rules = load("b", "[hard]\nuser unknown\nafter nul$\n"
		     "postfach \xfc""berf\xfc""llt\n");
	test_assert(rules != NULL);
	for (i = 0; rules != NULL && i < sizeof(cases) / sizeof(*cases); i++) {
		test_assert_idx(streq(match_id(rules, BAV_RULE_HARD, NULL,
					       cases[i].text, cases[i].len,
					       NULL), cases[i].id), i);
	}
	if (rules != NULL)
		test_assert(bav_rules_match(rules, BAV_RULE_HARD, NULL, NULL,
					    0) == NULL);
	bav_rules_free(&rules);
	/* a NUL byte in a rule file is an error */
	{
		static const char bin[] = "[hard]\nfoo\0bar\nok\n";
		struct check_ctx ctx = { 0 };
		char *path = write_tmp("");
		FILE *f = path == NULL ? NULL : fopen(path, "w");

		test_assert(f != NULL);
		if (f != NULL) {
			fwrite(bin, 1, sizeof(bin) - 1, f);
			fclose(f);
			test_assert(bav_rules_check(path, check_cb, &ctx) == 1);
			test_assert(strstr(ctx.first, ":2: NUL byte") != NULL);
		}
		if (path != NULL)
			unlink(path);
		free(path);
	}
	test_end();
}

/* Enough lookups for the lazy prefilter of section to be built. */
static void prefilter_warm(const struct bav_rules *rules,
			   enum bav_rule_section section)
{
	unsigned int i;

	for (i = 0; i < RULES_PF_AFTER; i++)
		(void)bav_rules_match(rules, section, NULL, "", 0);
}

/* The literal prefilter (rules_prefilter.c) never hides a match. */
static void test_prefilter(void)
{
	static const struct {
		const char *text;
		size_t len;
		const char *id;
	} cases[] = {
		/* file order wins, wherever the literals are */
		{ T("mailbox full, user unknown"), "p:2" },
		{ T("user unknown, mailbox full"), "p:2" },
		{ T("MAILBOX IS OVER QUOTA"), "p:3" },
		{ T("exceed message size"), "p:4" },
		{ T("Exceeds The Message Size"), "p:4" },
		{ T("smtp; 550 5.7.1 listed at dnsbl"), "p:5" },
		{ T("not listed at all"), NULL },
		{ T("rfc5322 header"), "p:6" },
		{ T("rfc 5322"), "p:6" },
		{ T("aaxxbb aaxxbb"), "p:7" },
		{ T("zq"), "p:8" },
		{ T("5.7.25"), "p:9" },
		{ T("5x7y25"), NULL },
		/* U+212A KELVIN SIGN is 'k', U+017F LONG S is 's' */
		{ T("\xe2\x84\xaa""elvin"), "p:10" },
		{ T("u\xc5\xbf""er unknown"), "p:2" },
		/* literals at either end, around NUL */
		{ T("kelvin"), "p:10" },
		{ T("\0kelvin\0"), "p:10" },
		{ T("kelvi"), NULL },
		{ T("we will retry"), "p:11" },
		{ T("will continue to try"), "p:11" },
		{ T("wILL  try"), NULL },
		{ "", 0, NULL },
	};
	struct bav_rules *rules;
	unsigned int i;

	test_begin("rules prefilter keeps first-match semantics");
	rules = load("p", "[hard]\n"
		     "(mailbox|user) (is )?(full|unknown)\n"
		     "over ?quota\n"
		     "exceeds? (the )?(maximum )?message size\n"
		     "(?<!not )\\blisted (in|on|at) \\S*dnsbl\n"
		     "rfc ?5322\n"
		     "(aa)xx(bb) \\1xx\\2\n"
		     "(?-i)zq\n"
		     "\\b5\\.7\\.25\\b\n"
		     "kelvin\n"
		     "\\bwill (continue to )?(retry|try)\\b\n");
	test_assert(rules != NULL);
	if (rules != NULL) {
		prefilter_warm(rules, BAV_RULE_HARD);
		test_assert(rules->tables[BAV_RULE_HARD].pf != NULL);
	}
	for (i = 0; rules != NULL && i < sizeof(cases) / sizeof(*cases); i++)
		test_assert_idx(streq(match_id(rules, BAV_RULE_HARD, NULL,
					       cases[i].text, cases[i].len,
					       NULL), cases[i].id), i);
	bav_rules_free(&rules);
	test_end();
}

#define ARRAY_N(a) (sizeof(a) / sizeof(*(a)))

/* Random patterns and texts: each pattern in [hard] (prefiltered) and
   behind "(?i)" in [soft] (never filtered) must agree. */
static void test_prefilter_random(void)
{
	static const char *const atoms[] = {
		"a", "b", "k", "s", " ", "ab", "abc", "bca", "kas", "user",
		"[ab]", ".", "\\b", "\\s", "\\.", "\\w", "^", "$", "x",
		"(?:ab|ba)", "(abc|k)", "(?=a)", "(?<!b)",
	};
	static const char *const quants[] = {
		"", "", "", "?", "*", "+", "{1,2}", "{0,1}", "{2}", "??",
	};
	static const char *const pieces[] = {
		"a", "A", "b", "B", "c", " ", ".", "k", "K", "s", "S",
		"\xe2\x84\xaa", "\xc5\xbf", "user", "abc", "BCA", "kas", "x",
		"\xc3\xa4", "\xff", "\n", "\xe2\x84\xaa""as", "u\xc5\xbf""er",
	};
	unsigned int seed = 12345, iter, bad = 0, j, n;
	char pattern[256], text[256], rulefile[600], *error = NULL;

	test_begin("rules prefilter agrees with plain matching (random)");
	for (iter = 0; iter < 10000; iter++) {
		struct bav_rules *rules;
		size_t plen = 0, tlen = 0;

		n = 1 + rand_r(&seed) % 6;
		for (j = 0; j < n; j++) {
			const char *a = atoms[rand_r(&seed) % ARRAY_N(atoms)];
			const char *q = quants[rand_r(&seed) % ARRAY_N(quants)];

			if (j > 0 && rand_r(&seed) % 5 == 0)
				pattern[plen++] = '|';
			plen += (size_t)snprintf(pattern + plen,
						 sizeof(pattern) - plen,
						 "%s%s", a, q);
		}
		n = rand_r(&seed) % 12;
		for (j = 0; j < n; j++) {
			const char *p = pieces[rand_r(&seed) % ARRAY_N(pieces)];

			if (tlen + strlen(p) < sizeof(text)) {
				memcpy(text + tlen, p, strlen(p));
				tlen += strlen(p);
			}
		}
		/* (?:) keeps blanks at either end in the rule file */
		snprintf(rulefile, sizeof(rulefile),
			 "[hard]\n(?:%s)\n[soft]\n(?i)(?:%s)\n", pattern,
			 pattern);
		if (bav_rules_load_string("r", rulefile, false, &rules,
					  &error) != 0) {
			free(error);	/* not a valid regex: fine */
			continue;
		}
		prefilter_warm(rules, BAV_RULE_HARD);
		if ((match_id(rules, BAV_RULE_HARD, NULL, text, tlen,
			      NULL) != NULL) !=
		    (match_id(rules, BAV_RULE_SOFT, NULL, text, tlen,
			      NULL) != NULL) && bad++ < 5)
			fprintf(stderr, "prefilter differs: /%s/ on \"%.*s\"\n",
				pattern, (int)tlen, text);
		bav_rules_free(&rules);
	}
	test_assert(bad == 0);
	test_end();
}

static void test_default(void)
{
	static const struct {
		enum bav_rule_section section;
		const char *text, *mark;
		bool match;
	} cases[] = {
		{ BAV_RULE_SYSTEMMAIL, "Subject: Undelivered Mail Returned to Sender", NULL, true },
		{ BAV_RULE_SYSTEMMAIL, "Subject: Delivery Status Notification (Failure)", NULL, true },
		{ BAV_RULE_SYSTEMMAIL, "Return-Path: <>", NULL, true },
		{ BAV_RULE_SYSTEMMAIL, "Subject: unsubscribe:abc.def.ghi", NULL, true },
		{ BAV_RULE_SYSTEMMAIL, "Subject: Unzustellbar: Ihre Anfrage", NULL, true },
		{ BAV_RULE_SYSTEMMAIL, "Subject: Your invoice", NULL, false },
		{ BAV_RULE_FILTER, "Subject: Out of Office: Re: offer", "ooo", true },
		{ BAV_RULE_FILTER, "Subject: Abwesenheitsnotiz: Angebot", "ooo", true },
		{ BAV_RULE_FILTER, "Subject: Réponse automatique : offre", "ooo", true },
		{ BAV_RULE_FILTER, "From: Auto-Responder <ar@example.com>", "auto", true },
		{ BAV_RULE_FILTER, "Subject: Lesebestätigung: Angebot", "auto", true },
		{ BAV_RULE_FILTER, "Subject: Re: your offer", NULL, false },
		{ BAV_RULE_HARD, "550 5.1.1 <a@example.com>: Recipient address rejected: User unknown in virtual mailbox table", NULL, true },
		{ BAV_RULE_HARD, "The email account that you tried to reach does not exist.", NULL, true },
		{ BAV_RULE_HARD, "Empfänger unbekannt", NULL, true },
		{ BAV_RULE_HARD, "452 4.2.2 Mailbox full", NULL, false },
		{ BAV_RULE_SOFT, "452 4.2.2 Mailbox full", NULL, true },
		{ BAV_RULE_SOFT, "Postfach ist voll", NULL, true },
		{ BAV_RULE_SOFT, "Host or domain name not found. Name service error", NULL, true },
		{ BAV_RULE_SOFT, "Thank you for your order", NULL, false },
	};
	const struct bav_rules *rules;
	const struct bav_rule *r;
	unsigned int i;

	test_begin("rules compiled-in defaults");
	rules = bav_rules_default();
	test_assert(rules != NULL);
	test_assert(bav_rules_default() == rules);
	for (i = 0; rules != NULL && i < sizeof(cases) / sizeof(*cases); i++) {
		match_id(rules, cases[i].section, NULL, cases[i].text,
			 strlen(cases[i].text), &r);
		test_assert_idx((r != NULL) == cases[i].match, i);
		if (r != NULL) {
			test_assert_idx(streq(r->mark, cases[i].mark), i);
			test_assert_idx(strncmp(r->id, "default.rules:", 14) ==
					0, i);
		}
	}
	if (rules != NULL) {
		test_assert(bav_rules_detail(rules, NULL, 511, NULL, NULL) ==
			    511);
		test_assert(bav_rules_detail(rules, NULL, 513, NULL, NULL) ==
			    511);
		test_assert(bav_rules_detail(rules, NULL, 550, NULL, NULL) ==
			    400);
		test_assert(bav_rules_detail(rules, NULL, 550,
					     "unknown recipient", NULL) == 511);
		test_assert(bav_rules_detail(rules, NULL, 422, NULL, NULL) ==
			    -1);
	}
	/* compiled at their first use: every one must compile */
	for (i = 0; rules != NULL && i < RULES_TABLE_COUNT; i++) {
		const struct rule_table *t = &rules->tables[i];
		unsigned int j;

		for (j = 0; j < t->n; j++) {
			pcre2_code *re = NULL;
			size_t off;
			int err;

			if (t->v[j].has_re)
				re = bav_rules_compile(t->v[j].pub.pattern,
						       &err, &off);
			test_assert_idx(!t->v[j].has_re || re != NULL,
					i * 1000 + j);
			pcre2_code_free(re);
		}
	}
	test_end();
}

static void *thread_main(void *arg)
{
	const struct bav_rules *rules = arg;
	static const char text[] = "550 5.1.1 no such user here";
	long bad = 0;
	int i;

	for (i = 0; i < 300; i++) {
		if (bav_rules_match(rules, BAV_RULE_HARD, NULL, text,
				    sizeof(text) - 1) == NULL)
			bad++;
		if (bav_rules_match(rules, BAV_RULE_SOFT, NULL, text,
				    sizeof(text) - 1) != NULL)
			bad++;
	}
	return (void *)bad;
}

static void test_threads(void)
{
	struct bav_rules *rules = NULL;
	pthread_t th[4];
	char *error = NULL;
	void *ret;
	long bad = 0;
	int i;

	test_begin("rules concurrent lookups with lazy JIT");
	test_assert(bav_rules_load_string("x", "", true, &rules, &error) == 0);
	for (i = 0; rules != NULL && i < 4; i++)
		test_assert(pthread_create(&th[i], NULL, thread_main,
					   rules) == 0);
	for (i = 0; rules != NULL && i < 4; i++) {
		pthread_join(th[i], &ret);
		bad += (long)ret;
	}
	test_assert(bad == 0);
	bav_rules_free(&rules);
	free(error);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_legacy,
		test_precedence,
		test_rid,
		test_continuation,
		test_status,
		test_detail,
		test_errors,
		test_check,
		test_match_limit,
		test_binary_input,
		test_prefilter,
		test_prefilter_random,
		test_default,
		test_threads,
		NULL
	};
	return test_run(tests);
}
