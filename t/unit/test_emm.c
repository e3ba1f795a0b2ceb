/* SPDX-License-Identifier: MIT */
/*
 * test_emm - the pure parts of the EMM drop-in mode: JSON, the
 * (company, rid) rule merge of spec 5.6.2, DSN codes and the
 * bounce_translate_tbl resolution of 5.11.3 (with patterns), unit
 * strings, and agnUID validation against a mailing and a company (5.4).
 * The tokens were made with t/emm/agnuid.py (key "unit-key", licence 0,
 * company 1, mailing 101, customer 2, mailing creation 1768469400000 ms).
 */
#include "test_common.h"
#include "emm_private.h"

#include <stdlib.h>
#include <string.h>

static void test_json(void)
{
	static const struct {
		const char *text;
		bool ok;
	} cases[] = {
		{ "{\"a\": [\"x\", \"y\\\"z\"], \"b\": 1.5}", true },
		{ "[true, false, null, -2e3, \"\\u00e4\\ud83d\\ude00\"]", true },
		{ "{\"a\": }", false },
		{ "{\"a\": 1} x", false },
		{ "\"bad \\x escape\"", false },
		{ "", false },
	};
	struct bav_pool *pool;
	const struct emm_json *j;
	unsigned int i;

	test_begin("emm json");
	pool = bav_pool_new(4096);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_assert_idx((emm_json_parse(pool, cases[i].text) != NULL) ==
				cases[i].ok, i);
	j = emm_json_parse(pool, cases[0].text);
	test_assert(j != NULL && j->type == EMM_JSON_OBJ && j->count == 2);
	test_assert(emm_json_get(j, "a") != NULL &&
		    emm_json_get(j, "a")->count == 2);
	test_assert_strcmp(emm_json_get(j, "a")->items[1]->str, "y\"z");
	test_assert(emm_json_get(j, "b")->num == 1.5);
	j = emm_json_parse(pool, cases[1].text);
	test_assert_strcmp(j->items[4]->str, "\xc3\xa4\xf0\x9f\x98\x80");
	bav_pool_free(&pool);
	test_end();
}

static void test_rules_merge(void)
{
	static const struct {
		long long company, rid;
		const char *json;
	} defs[] = {
		{ 0, 0, "{\"hard\": [\"h00\"], \"soft\": [\"s00\"],"
			" \"systemmail\": [\"m00\"]}" },
		{ 1, 0, "{\"hard\": [\"h10\"]}" },
		{ 0, 1, "{\"filter\": [\"{auto}f01\"]}" },
		{ 1, 1, "{\"soft\": [\"s11a\", \"s11b\"]}" },
		{ 2, 5, "{\"hard\": [\"h25\"]}" },
	};
	static const struct {
		long long company, rid;
		const char *want;
	} cases[] = {
		{ 1, 1, "[soft]\ns11a\ns11b\ns00\n[filter]\n{auto}f01\n"
			"[hard]\nh10\nh00\n[systemmail]\nm00\n" },
		{ 0, 1, "[filter]\n{auto}f01\n[hard]\nh00\n[soft]\ns00\n"
			"[systemmail]\nm00\n" },
		{ 1, 9, "[hard]\nh10\nh00\n[soft]\ns00\n[systemmail]\nm00\n" },
		{ 0, 0, "[hard]\nh00\n[soft]\ns00\n[systemmail]\nm00\n" },
		{ 2, 5, "[hard]\nh25\nh00\n[soft]\ns00\n[systemmail]\nm00\n" },
	};
	struct emm_ruleset sets[5];
	struct bav_pool *pool;
	unsigned int i;

	test_begin("emm rule merge (C,R),(0,R),(C,0),(0,0)");
	pool = bav_pool_new(4096);
	for (i = 0; i < 5; i++) {
		test_assert_idx(emm_ruleset_parse(pool, defs[i].json,
						  &sets[i]) == 0, i);
		sets[i].company = defs[i].company;
		sets[i].rid = defs[i].rid;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_assert_strcmp(emm_rules_merge(pool, sets, 5,
						   cases[i].company,
						   cases[i].rid), cases[i].want);
	test_assert(emm_ruleset_parse(pool, "[1]", &sets[0]) < 0);
	test_assert(emm_ruleset_parse(pool, "not json", &sets[0]) < 0);
	bav_pool_free(&pool);
	test_end();
}

static void test_header_rules(void)
{
	static const char msg[] =
		"Return-Path: <x@example.net>\r\n"
		"Received: from a\r\n"
		"Received: from b.example\r\n\tby mx\r\n"
		"From: Holiday Robot <auto-reply@example.net>\r\n"
		"Subject: Re: News\r\n"
		"\r\n"
		"Subject: in the body, not a header\r\n";
	static const struct {
		const char *const pats[3];
		unsigned int n;
		int found;
		const char *mark;
	} cases[] = {
		{ { "^subject: re:" }, 1, 1, "" },
		{ { "{auto}^From:.*auto.?reply" }, 1, 1, "auto" },
		{ { "^Received: from b\\.example\\s+by mx" }, 1, 1, "" },
		{ { "body, not" }, 1, 0, "" },
		{ { "((", "{ooo}^Subject: Re", "{auto}^From" }, 3, 1, "auto" },
		{ { "^Precedence: bulk" }, 1, 0, "" },
	};
	static const struct {
		long long company, rid;
		const char *json;
	} defs[] = {
		{ 0, 0, "{\"filter\": [\"f00\"], \"hard\": [\"h00\"]}" },
		{ 1, 3, "{\"filter\": [\"f13a\", \"f13b\"]}" },
		{ 1, 0, "{\"filter\": [\"f10\"]}" },
	};
	struct emm_ruleset sets[3];
	struct bav_pool *pool;
	const char **pats, *mark;
	unsigned int i, n;

	test_begin("emm header rules (systemmail, filter) on replies");
	pool = bav_pool_new(4096);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int found = emm_header_match(pool, (const unsigned char *)msg,
					     sizeof(msg) - 1, cases[i].pats,
					     cases[i].n, &mark);

		test_assert_idx(found == cases[i].found, i);
		test_assert_strcmp(mark, cases[i].mark);
	}
	for (i = 0; i < 3; i++) {
		test_assert_idx(emm_ruleset_parse(pool, defs[i].json,
						  &sets[i]) == 0, i);
		sets[i].company = defs[i].company;
		sets[i].rid = defs[i].rid;
	}
	n = emm_rules_section(pool, sets, 3, 1, 3, "filter", &pats);
	test_assert(n == 4);
	if (n == 4) {
		test_assert_strcmp(pats[0], "f13a");
		test_assert_strcmp(pats[1], "f13b");
		test_assert_strcmp(pats[2], "f10");
		test_assert_strcmp(pats[3], "f00");
	}
	test_assert(emm_rules_section(pool, sets, 3, 2, 3, "filter",
				      &pats) == 1);
	test_assert(emm_rules_section(pool, sets, 3, 1, 3, "soft",
				      &pats) == 0);
	bav_pool_free(&pool);
	test_end();
}

static void test_dsn_code(void)
{
	static const struct {
		const char *status;
		int code;
	} cases[] = {
		{ "5.1.1", 511 }, { "4.4.7", 447 }, { "5.7.26", 572 },
		{ "5.10.1", 511 }, { "2.0.0", 200 }, { "5.1", 0 },
		{ "x.1.1", 0 }, { "", 0 },
	};
	unsigned int i;

	test_begin("emm dsn code");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_assert_idx(emm_dsn_code(cases[i].status) ==
				cases[i].code, i);
	test_assert(emm_dsn_code(NULL) == 0);
	test_end();
}

static void test_translate(void)
{
	static const struct emm_translate rules[] = {
		{ 1, 0, 50, 400, NULL }, { 2, 0, 51, 410, NULL },
		{ 3, 0, 511, 511, NULL }, { 4, 0, 571, 410, NULL },
		{ 5, 0, 550, 511, "stat=\"unknown recipient\"" },
		{ 6, 1, 571, 511, NULL }, { 7, 1, 447, 512, NULL },
		{ 8, 0, 52, 420, "relay=\".bigmail.example|mx.exact.\"" },
		{ 9, 0, 53, 400, "{\"mailloop\": \"/quota/i\"}" },
	};
	static const struct {
		long long company;
		int code;
		const char *text, *relay;
		int detail;
		long long rule;
	} cases[] = {
		{ 0, 511, NULL, NULL, 511, 3 },
		{ 0, 512, NULL, NULL, 410, 2 },	/* 512 -> 51 */
		{ 0, 571, NULL, NULL, 410, 4 },
		{ 1, 571, NULL, NULL, 511, 6 },	/* company first */
		{ 2, 571, NULL, NULL, 410, 4 },
		{ 1, 447, NULL, NULL, 512, 7 },
		{ 0, 447, NULL, NULL, 0, 0 },	/* built-in: 44 ignore */
		{ 0, 422, NULL, NULL, 420, 0 },	/* built-in 422 */
		{ 0, 550, "550 Unknown Recipient here", NULL, 511, 5 },
		{ 0, 550, "550 mailbox unavailable", NULL, 0, 0 },
		{ 0, 521, NULL, "in.bigmail.example", 420, 8 },
		{ 0, 521, NULL, "mx.exact", 420, 8 },
		{ 0, 521, NULL, "sub.mx.exact", 420, 0 },	/* built-in */
		{ 0, 531, "Over QUOTA", NULL, 400, 9 },
		{ 0, 200, NULL, NULL, 200, 0 },
		{ 0, 0, NULL, NULL, 0, 0 },
	};
	unsigned int i;

	test_begin("emm translate (company, 0, built-in; patterns first)");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct emm_info info = { cases[i].text, cases[i].relay,
					 cases[i].text };
		long long rule = -1;
		int d = emm_translate(rules, sizeof(rules) / sizeof(rules[0]),
				      cases[i].company, cases[i].code, &info,
				      &rule);

		test_assert_idx(d == cases[i].detail, i);
		test_assert_idx(rule == cases[i].rule, i);
	}
	test_assert(emm_detail_hard(511) && !emm_detail_hard(420));
	test_assert(emm_detail_soft(410) && !emm_detail_soft(510));
	test_end();
}

static void test_units(void)
{
	test_begin("emm unit strings");
	test_assert(emm_unit_seconds("1d") == 86400);
	test_assert(emm_unit_seconds("12h30m") == 45000);
	test_assert(emm_unit_seconds("90") == 90);
	test_assert(emm_unit_seconds("2w") == 14 * 86400);
	test_assert(emm_unit_seconds("x") == 0);
	test_assert(emm_unit_seconds("") == 0);
	test_end();
}

#define SIG_V2 "XYzULGd7ZXjcm096rdU7hUnPvYyXYfjPeZwnfi0WfrwK6JUDTXzpa6w6" \
	"2CEci3yPmxCkx-nNtzWXHK48tb2M-g"
#define SIG_V3 "uP03ahxzifJeaUXrJO5ia8AldwfP8gDKkyVn8xoa8Eb7oV8VJbRTaqf4" \
	"OXhJ6_rkcDQlv0rwYf7yjH5qgzCEGg"
#define SIG_V4 "Evl12ZOwXPUKZZ5wWzHcpPc3uQMrdFnDqL4UXPb7p-eN9DpF7pJxu1kV" \
	"h-a5qvJZ5VBa7vdQRIvTEuwDV0rI-w"
#define SIG_V5 "0J6oWSKtVLDOwFp1-V3P8lX7KFXiKjim4WYQDN6wTzcBa43-4jF9I8Wy" \
	"7wJAMunYxNfOJi7DAEhdMzID_gekfg"

static void test_uid(void)
{
	static const char *const v2 = "C.A.Bl.InC.OjB." SIG_V2;
	static const char *const v3 = "D.A.Bl.C.A.A." SIG_V3;
	static const char *const v4 = "E.A.B.Bl.C.A.A." SIG_V4;
	static const char *const v5 = "F.g6JfYwGiX21lol9yAg." SIG_V5;
	static const char *const other_key = "E.A.B.Bl.C.A.A.jduonqM-W315YFQR5"
		"SX5PQQppZPKSChamTU4ZcpM0pZb2XPuAQVVBacnFdzH-eq9JO2L-C-vhH-M6wK"
		"xYmvDhQ";
	static const char *const licence7 = "E.H.B.Bl.C.A.A.LbccgPEg2--xp1txEX"
		"7WkNGh4PH-URevn1nzfGRdiVTPwvePxo3KfS5ZzAiycbS4pq4BB1FJUvD05RbV"
		"xEQwxw";
	static const char *const company2 = "E.A.C.Bl.C.A.A.APac-WraEb3A5BSeOT"
		"gwoxxOaOUvXg5iOOnE95qrGRuJkVhjppXrVqBmcQioMOqxYGeUBOClkZlWBAkM"
		"dUvkow";
	struct emm_mailing m = { 101, 1, 11, 1768469400000LL, false };
	struct emm_mailing m_other = { 101, 2, 21, 1768469400000LL, false };
	struct emm_mailing m_late = { 101, 1, 11, 1768469400001LL, false };
	struct emm_company c = { 1, true, "unit-key", 2, true, "", false };
	struct emm_company c_v4 = { 1, true, "unit-key", 4, true, "", false };
	struct emm_company c_off = { 1, false, "unit-key", 2, true, "", false };
	struct emm_company c_nokey = { 1, true, "", 2, true, "", false };
	struct emm_company c2 = { 2, true, "unit-key", 2, true, "", false };
	const struct {
		const char *tok;
		const struct emm_mailing *m;
		const struct emm_company *c;
		int ok;
	} cases[] = {
		{ v2, &m, &c, 1 }, { v3, &m, &c, 1 }, { v4, &m, &c, 1 },
		{ v5, &m, &c, 1 },
		{ v2, &m_late, &c, 0 },		/* other creation date */
		{ v3, &m, &c_v4, 0 },		/* below uid_version */
		{ v4, &m, &c_v4, 1 },
		{ v5, &m, &c_off, 0 },		/* company not active */
		{ v4, &m, &c_nokey, 0 },	/* no secret: nothing valid */
		{ other_key, &m, &c, 0 },	/* forged signature */
		{ licence7, &m, &c, 0 },	/* another licence */
		{ company2, &m, &c, 0 },	/* company is not the mailing's */
		{ v4, &m_other, &c2, 0 },	/* token says company 1 */
		{ v3, NULL, &c, 0 },		/* mailing not in mailing_tbl */
		{ "not.a.token", &m, &c, 0 },
	};
	struct bav_agnuid tok, toks[4];
	struct bav_pool *pool;
	unsigned int i;

	test_begin("emm agnUID v2-v5 against company and mailing");
	pool = bav_pool_new(8192);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ok = emm_uid_check(pool, cases[i].tok, 0, cases[i].m,
				       cases[i].c, &tok);

		test_assert_idx(ok == cases[i].ok, i);
		if (ok == 1) {
			test_assert_idx(tok.company_id == 1 &&
					tok.mailing_id == 101 &&
					tok.customer_id == 2, i);
		}
	}
	test_assert(emm_uid_check(pool, v4, 7, &m, &c, &tok) == 0);
	/* origin: most frequent (customer, mailing, company, licence) */
	memset(toks, 0, sizeof(toks));
	toks[0].customer_id = 2;
	toks[1].customer_id = 3;
	toks[2].customer_id = 2;
	toks[3].customer_id = 3;
	test_assert(emm_uid_origin(toks, 3) == 2);
	test_assert(emm_uid_origin(toks, 4) == 3);	/* tie: last seen */
	test_assert(emm_uid_origin(toks, 0) == -1);
	bav_pool_free(&pool);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_json, test_rules_merge, test_header_rules, test_dsn_code,
		test_translate,
		test_units, test_uid, NULL
	};

	return test_run(tests);
}
