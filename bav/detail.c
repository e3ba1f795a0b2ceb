/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	detail - OpenEMM detail codes for a status (bounce qualification)
 * SYNOPSIS
 *	int bav_detail_for_status(const char *status, const char *text)
 *	int bav_detail_code(const char *status)
 *	int bav_detail_builtin(int code)
 * DESCRIPTION
 *	OpenEMM qualifies a bounce by a numeric code (100a + 10b + first
 *	digit of c for status a.b.c) looked up in bounce_translate_tbl,
 *	trying 511, then 51, then 5 (emm-mailloop-spec 5.11.3). The
 *	install-time company-0 rules live in the [detail] section of
 *	contrib/rules/default.rules; this file holds the built-in table
 *	that comes after them, and the loader's "user unknown" override.
 *	bav_detail_for_status() applies both with the default rules.
 * DIAGNOSTICS
 *	0 (ignore) when nothing applies.
 */
#include "classify_private.h"

#include <ctype.h>
#include <stdlib.h>

static const struct {
	int code, detail;
} builtin[] = {
	{ 4, 0 }, { 40, 0 }, { 41, 0 }, { 42, 0 }, { 43, 0 }, { 44, 0 },
	{ 45, 0 }, { 46, 0 }, { 47, 0 }, { 5, 0 }, { 500, 0 }, { 515, 0 },
	{ 52, 0 }, { 53, 0 }, { 54, 0 }, { 55, 0 }, { 56, 0 }, { 57, 0 },
	{ 2, 200 },
	{ 50, 400 }, { 532, 400 }, { 541, 400 }, { 544, 400 }, { 570, 400 },
	{ 574, 400 },
	{ 51, 410 }, { 411, 410 }, { 412, 410 }, { 413, 410 }, { 414, 410 },
	{ 416, 410 }, { 417, 410 }, { 418, 410 }, { 510, 410 }, { 514, 410 },
	{ 571, 410 },
	{ 421, 420 }, { 422, 420 }, { 520, 420 }, { 521, 420 }, { 522, 420 },
	{ 523, 420 }, { 524, 420 },
	{ 531, 510 },
	{ 511, 511 }, { 513, 511 }, { 516, 511 }, { 517, 511 }, { 572, 511 },
	{ 512, 512 }, { 518, 512 },
};

int bav_detail_builtin(int code)
{
	for (; code > 0; code /= 10) {
		size_t i;

		for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
			if (builtin[i].code == code)
				return builtin[i].detail;
	}
	return 0;
}

int bav_detail_code(const char *status)
{
	int a, b, c;

	if (status == NULL || !isdigit((unsigned char)status[0]) ||
	    status[1] != '.')
		return 0;
	a = status[0] - '0';
	b = atoi(status + 2);
	{
		const char *dot = strchr(status + 2, '.');

		if (dot == NULL || !isdigit((unsigned char)dot[1]))
			return 0;
		c = dot[1] - '0';
	}
	if (b > 9)
		b = b % 10;	/* codes are one digit per component */
	return 100 * a + 10 * b + c;
}

int bav_detail_with_rules(const struct bav_rules *rules, const char *rid,
			  const char *status, const char *text,
			  const struct bav_rule **rule_r)
{
	int code = bav_detail_code(status), d = -1;

	*rule_r = NULL;
	if (code == 0)
		return 0;
	if (text != NULL && (bav_strcasestr(text, "user unknown") != NULL ||
			     bav_strcasestr(text, "unknown user") != NULL))
		code = 511;	/* update3's remark override */
	if (code % 100 == 99)
		return code / 100 == 5 ? 510 : code / 100 == 4 ? 400 : 100;
	if (rules != NULL)
		d = bav_rules_detail(rules, rid, code, text, rule_r);
	if (d < 0)
		d = bav_detail_builtin(code);
	return d;
}

int bav_detail_for_status(const char *status, const char *text)
{
	const struct bav_rule *rule;

	return bav_detail_with_rules(bav_rules_default(), NULL, status, text,
				     &rule);
}
