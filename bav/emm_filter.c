/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	emm_filter - bounce_rule_tbl header rules for replies (spec 5.5, 5.9)
 * SYNOPSIS
 *	#include "emm_private.h"
 *
 *	unsigned int emm_rules_section(struct bav_pool *pool,
 *				       const struct emm_ruleset *sets,
 *				       unsigned int n, long long company,
 *				       long long rid, const char *section,
 *				       const char ***patterns_r)
 *	int emm_header_match(struct bav_pool *pool,
 *			     const unsigned char *msg, size_t len,
 *			     const char *const *patterns, unsigned int n,
 *			     const char **mark_r)
 * DESCRIPTION
 *	bav's classifier decides the kind of a message with bav's rules;
 *	the operator's rule sets in bounce_rule_tbl still steer what
 *	happens to what it calls a human reply, as in bavd: a top-level
 *	header matching the merged "systemmail" section makes it system
 *	mail (filtered: no inbox, no autoresponder), one matching the
 *	"filter" section makes the action that entry's {mark} (or
 *	filtered).
 *
 *	emm_rules_section() collects one section of the (C,R), (0,R),
 *	(C,0), (0,0) merge (spec 5.6.2) in that order into a pool-owned
 *	array. emm_header_match() tests every top-level header in order as
 *	"Name: value" (unfolded, at most 1024 bytes; every occurrence of a
 *	repeated name with its own value, unlike bavd) against each pattern
 *	in order (the first hit wins), case-insensitively with search
 *	semantics (PCRE2, match limits); a pattern may start with "{mark}".
 *	Patterns that do not compile are skipped.
 * DIAGNOSTICS
 *	emm_header_match: 1 matched (*mark_r the mark or ""), 0 not.
 * SEE ALSO
 *	emm-mailloop spec 5.6, 5.9; emm_config.c
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "emm_private.h"

#include <pcre2.h>
#include <string.h>

#define MAX_LINE 1024

unsigned int emm_rules_section(struct bav_pool *pool,
			       const struct emm_ruleset *sets, unsigned int n,
			       long long company, long long rid,
			       const char *section, const char ***patterns_r)
{
	const long long order[4][2] = { { company, rid }, { 0, rid },
					{ company, 0 }, { 0, 0 } };
	const struct emm_ruleset *seen[4];
	unsigned int nseen = 0, total = 0, i, j, s, k;
	const char **out;

	for (i = 0; i < 4; i++)
		for (j = 0; j < n; j++) {
			bool dup = false;

			if (sets[j].company != order[i][0] ||
			    sets[j].rid != order[i][1])
				continue;
			for (k = 0; k < nseen; k++)
				dup = dup || seen[k] == &sets[j];
			if (!dup)
				seen[nseen++] = &sets[j];
			break;
		}
	for (i = 0; i < nseen; i++)
		for (s = 0; s < seen[i]->count; s++)
			if (strcmp(seen[i]->sections[s].name, section) == 0)
				total += seen[i]->sections[s].count;
	out = bav_pool_alloc(pool, (total + 1) * sizeof(*out));
	total = 0;
	for (i = 0; i < nseen; i++)
		for (s = 0; s < seen[i]->count; s++) {
			const struct emm_section *sec = &seen[i]->sections[s];

			if (strcmp(sec->name, section) != 0)
				continue;
			for (k = 0; k < sec->count; k++)
				out[total++] = sec->patterns[k];
		}
	*patterns_r = out;
	return total;
}

static bool matches(pcre2_code *code, pcre2_match_data *md,
		    pcre2_match_context *mc, const char *line)
{
	return pcre2_match(code, (PCRE2_SPTR)line, strlen(line), 0, 0, md,
			   mc) >= 0;
}

/* The top-level header lines of msg, unfolded, each at most MAX_LINE. */
static unsigned int header_lines(struct bav_pool *pool,
				 const unsigned char *msg, size_t len,
				 char ***lines_r)
{
	unsigned int n = 0, alloc = 64;
	char **lines = bav_pool_alloc(pool, alloc * sizeof(*lines));
	size_t i = 0;

	while (i < len && n < 10000) {
		struct bav_buf b;
		size_t end = i;

		while (end < len && msg[end] != '\n')
			end++;
		if (end == i || (end == i + 1 && msg[i] == '\r'))
			break;
		memset(&b, 0, sizeof(b));
		for (;;) {
			for (; i < end; i++)
				if (msg[i] != '\r' && msg[i] != '\0' &&
				    b.len < MAX_LINE)
					bav_buf_putc(&b, (char)msg[i]);
			i = end + 1;
			if (i >= len || (msg[i] != ' ' && msg[i] != '\t'))
				break;
			end = i;
			while (end < len && msg[end] != '\n')
				end++;
		}
		if (n == alloc) {
			char **nl = bav_pool_alloc(pool, alloc * 2 *
						   sizeof(*nl));

			memcpy(nl, lines, n * sizeof(*nl));
			lines = nl;
			alloc *= 2;
		}
		lines[n++] = bav_pool_strndup(pool, b.data != NULL ? b.data :
					      "", b.len);
		bav_buf_free(&b);
	}
	*lines_r = lines;
	return n;
}

int emm_header_match(struct bav_pool *pool, const unsigned char *msg,
		     size_t len, const char *const *patterns, unsigned int n,
		     const char **mark_r)
{
	pcre2_match_context *mc;
	pcre2_code **codes;
	const char **marks;
	char **lines;
	unsigned int nlines, p, l;
	int found = 0;

	*mark_r = "";
	if (msg == NULL || n == 0)
		return 0;
	nlines = header_lines(pool, msg, len, &lines);
	codes = bav_pool_alloc(pool, n * sizeof(*codes));
	marks = bav_pool_alloc(pool, n * sizeof(*marks));
	for (p = 0; p < n; p++) {
		const char *re = patterns[p], *close;
		PCRE2_SIZE off;
		int err;

		marks[p] = "";
		if (re[0] == '{' && (close = strchr(re, '}')) != NULL) {
			marks[p] = bav_pool_strndup(pool, re + 1,
						    (size_t)(close - re - 1));
			re = close + 1;
		}
		codes[p] = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
					 PCRE2_CASELESS | PCRE2_UTF |
					 PCRE2_MATCH_INVALID_UTF, &err, &off,
					 NULL);
	}
	mc = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(mc, 100000);
	pcre2_set_depth_limit(mc, 1000);
	/* bavd's order: header by header, each against every pattern */
	for (l = 0; l < nlines && !found; l++)
		for (p = 0; p < n && !found; p++) {
			pcre2_match_data *md;

			if (codes[p] == NULL)
				continue;
			md = pcre2_match_data_create_from_pattern(codes[p],
								  NULL);
			if (matches(codes[p], md, mc, lines[l])) {
				found = 1;
				*mark_r = marks[p];
			}
			pcre2_match_data_free(md);
		}
	for (p = 0; p < n; p++)
		pcre2_code_free(codes[p]);
	pcre2_match_context_free(mc);
	return found;
}
