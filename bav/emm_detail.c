/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	emm_detail - DSN to detail code with bounce_translate_tbl rules
 * SYNOPSIS
 *	#include "emm_private.h"
 *
 *	int emm_dsn_code(const char *status)
 *	int emm_translate(const struct emm_translate *rules, unsigned int n,
 *			  long long company, int code,
 *			  const struct emm_info *info, long long *rule_id_r)
 *	bool emm_pattern_match(const char *pattern,
 *			       const struct emm_info *info)
 * DESCRIPTION
 *	emm_dsn_code() is update's numeric code: 100a + 10b + the first
 *	digit of c for a status a.b.c (5.1.1 -> 511, 5.7.26 -> 572; b
 *	likewise its first digit).
 *
 *	emm_translate() resolves a code as spec 5.11.3 says: the active
 *	rules of the company, then of company 0, then the built-in table
 *	(bav_detail_builtin()); within a company first the rules with a
 *	pattern that matches, then the rules without one; for each the
 *	code, then the code without its last digit (511, 51, 5). Nothing:
 *	detail 0 (ignore). The rules array is the caller's (emm_config).
 *
 *	Patterns: comma-separated key="value" pairs (or a JSON object);
 *	every pair must match: stat is a case-insensitive regex, relay a
 *	/regex/ or a "|" list of domains (".dom" any subdomain, "dom."
 *	exact, else a prefix), other keys "/regex/i" or a case-sensitive
 *	regex against the field of that name (only mailloop here). A field
 *	that is absent never matches. Unlike update, bav fills stat with the
 *	remote server's diagnostic, so the seeded 5.5.0 "unknown recipient"
 *	rule applies to returned mail too (bav-emm(7)).
 * DIAGNOSTICS
 *	A pattern that does not parse or compile never matches. No state.
 * SEE ALSO
 *	emm-mailloop spec 5.11.2, 5.11.3; detail.c
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "emm_private.h"
#include "classify_private.h"

#include <ctype.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int emm_dsn_code(const char *status)
{
	int d[3], i;
	const char *p = status;

	if (p == NULL)
		return 0;
	for (i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*p))
			return 0;
		d[i] = *p - '0';
		while (isdigit((unsigned char)*p))
			p++;
		if (i < 2 && *p++ != '.')
			return 0;
	}
	return 100 * d[0] + 10 * d[1] + d[2];
}

static bool re_match(const char *re, size_t relen, bool icase,
		     const char *subject)
{
	pcre2_code *code;
	pcre2_match_data *md;
	PCRE2_SIZE off;
	int err, rc;

	if (subject == NULL)
		return false;
	code = pcre2_compile((PCRE2_SPTR)re, relen,
			     PCRE2_UTF | PCRE2_MATCH_INVALID_UTF |
			     (icase ? PCRE2_CASELESS : 0), &err, &off, NULL);
	if (code == NULL)
		return false;
	md = pcre2_match_data_create_from_pattern(code, NULL);
	rc = pcre2_match(code, (PCRE2_SPTR)subject, strlen(subject), 0, 0,
			 md, NULL);
	pcre2_match_data_free(md);
	pcre2_code_free(code);
	return rc >= 0;
}

/* A domain list "a.example|.b.example|c.example." against host. */
static bool domain_match(const char *list, size_t len, const char *host)
{
	size_t hl = host != NULL ? strlen(host) : 0;
	const char *p = list, *end = list + len;

	while (hl > 0 && p < end) {
		const char *bar = memchr(p, '|', (size_t)(end - p));
		size_t n = (size_t)((bar != NULL ? bar : end) - p);

		if (n > 1 && p[0] == '.') {
			if (hl >= n && strncasecmp(host + hl - n, p, n) == 0)
				return true;
		} else if (n > 1 && p[n - 1] == '.') {
			if (hl == n - 1 && strncasecmp(host, p, n - 1) == 0)
				return true;
		} else if (n > 0 && hl >= n && strncasecmp(host, p, n) == 0) {
			return true;
		}
		p += n + 1;
	}
	return false;
}

static bool pair_match(const char *key, const char *val, size_t vlen,
		       const struct emm_info *info)
{
	const char *field;

	if (strcmp(key, "stat") == 0)
		return re_match(val, vlen, true, info->stat);
	if (strcmp(key, "relay") == 0) {
		if (vlen >= 2 && val[0] == '/' && val[vlen - 1] == '/')
			return re_match(val + 1, vlen - 2, true, info->relay);
		return domain_match(val, vlen, info->relay);
	}
	field = strcmp(key, "mailloop") == 0 ? info->mailloop : NULL;
	if (vlen >= 2 && val[0] == '/') {
		const char *close = val + vlen - 1;
		bool icase = false;

		while (close > val && *close != '/') {
			if (*close == 'i')
				icase = true;
			close--;
		}
		if (close > val)
			return re_match(val + 1, (size_t)(close - val - 1),
					icase, field);
	}
	return re_match(val, vlen, false, field);
}

bool emm_pattern_match(const char *pattern, const struct emm_info *info)
{
	struct bav_pool *pool;
	const struct emm_json *obj;
	const char *p = pattern;
	bool ok = true, any = false;
	unsigned int i;

	if (pattern == NULL)
		return false;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '{') {
		pool = bav_pool_new(1024);
		obj = emm_json_parse(pool, p);
		if (obj == NULL || obj->type != EMM_JSON_OBJ || obj->count == 0)
			ok = false;
		for (i = 0; ok && i < obj->count; i++) {
			const struct emm_json *v = obj->items[i];

			ok = v->type == EMM_JSON_STR &&
				pair_match(obj->keys[i], v->str,
					   strlen(v->str), info);
		}
		bav_pool_free(&pool);
		return ok;
	}
	while (*p != '\0' && ok) {
		char key[64];
		size_t kl = 0;
		const char *q;

		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		if (*p == '\0')
			break;
		while ((isalnum((unsigned char)*p) || *p == '_' || *p == '-') &&
		       kl < sizeof(key) - 1)
			key[kl++] = *p++;
		key[kl] = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (kl == 0 || *p++ != '=')
			return false;
		while (isspace((unsigned char)*p))
			p++;
		if (*p++ != '"' || (q = strchr(p, '"')) == NULL)
			return false;
		ok = pair_match(key, p, (size_t)(q - p), info);
		any = true;
		p = q + 1;
	}
	return ok && any;
}

/* One pass over the rules of company: with or without a pattern. */
static int lookup(const struct emm_translate *rules, unsigned int n,
		  long long company, int code, bool with_pattern,
		  const struct emm_info *info, long long *rule_id_r)
{
	unsigned int i;
	int c;

	for (c = code; c > 0; c /= 10) {
		for (i = 0; i < n; i++) {
			const struct emm_translate *r = &rules[i];
			bool has = r->pattern != NULL && r->pattern[0] != '\0';

			if (r->company != company || r->dsn != c ||
			    has != with_pattern)
				continue;
			if (has && !emm_pattern_match(r->pattern, info))
				continue;
			*rule_id_r = r->rule_id;
			return r->detail;
		}
	}
	return -1;
}

int emm_translate(const struct emm_translate *rules, unsigned int n,
		  long long company, int code, const struct emm_info *info,
		  long long *rule_id_r)
{
	static const struct emm_info none;
	long long companies[2] = { company, 0 };
	unsigned int k;
	int d;

	*rule_id_r = 0;
	if (code <= 0)
		return 0;
	if (info == NULL)
		info = &none;
	for (k = 0; k < (company != 0 ? 2u : 1u); k++) {
		long long c = company != 0 ? companies[k] : 0;

		if ((d = lookup(rules, n, c, code, true, info,
				rule_id_r)) >= 0)
			return d;
		if ((d = lookup(rules, n, c, code, false, info,
				rule_id_r)) >= 0)
			return d;
	}
	*rule_id_r = 0;
	return bav_detail_builtin(code);
}
