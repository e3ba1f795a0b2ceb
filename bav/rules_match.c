/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	rules_match - lookups in a loaded rule set
 * SYNOPSIS
 *	const struct bav_rule *bav_rules_match(const struct bav_rules *rules,
 *		enum bav_rule_section section, const char *rid,
 *		const char *text, size_t len)
 *	const char *bav_rules_status_reason(const struct bav_rules *rules,
 *		const char *rid, const char *status,
 *		const struct bav_rule **rule_r)
 *	int bav_rules_detail(const struct bav_rules *rules, const char *rid,
 *		int code, const char *text, const struct bav_rule **rule_r)
 * DESCRIPTION
 *	Order of every lookup: rules of the given rid (if any), then global
 *	rules; within each, rules of later files first, then file order.
 *	bav_rules_match: first regex of section matching text[0..len) (any
 *	bytes: NUL, invalid UTF-8). bav_rules_status_reason: longest
 *	component prefix of the status ("5.1" matches 5.1.x, not 5.10.x);
 *	ties go to the earlier rule in the order above. bav_rules_detail:
 *	per file (a "table" of OpenEMM's bounce_translate_tbl), rules with a
 *	pattern matching text, then rules without, each for code, code/10,
 *	... (511, 51, 5).
 *
 *	Matching never modifies the set as seen by callers: match data is
 *	allocated per call, and a table is JIT-compiled lazily (after
 *	RULES_JIT_AFTER lookups) into separate copies of the codes that are
 *	published with release/acquire atomics under rules->jit_lock, so
 *	concurrent lookups from any number of threads are safe. A match
 *	limit, depth limit or JIT stack overflow counts as no match.
 *
 *	Regex sections are matched through a literal prefilter
 *	(rules_prefilter.c, built lazily after RULES_PF_AFTER lookups the
 *	same way): a rule none of whose required literals occurs in the text
 *	is not tried, which changes nothing but the time.
 *
 *	Returned rules and strings are owned by the rule set.
 * DIAGNOSTICS
 *	NULL / -1 when nothing matches. Never exits.
 * SEE ALSO
 *	bav-rules(5), rules.c, pcre2jit(3)
 */
#include "rules_int.h"

#include <stdlib.h>

/* e->re, compiled now if it is a default rule not used so far; NULL if
   it can't be compiled (never for the tested defaults). Call with
   rules->jit_lock held. */
static pcre2_code *entry_compile_locked(struct rule_entry *e)
{
	pcre2_code *re = __atomic_load_n(&e->re, __ATOMIC_ACQUIRE);
	size_t off;
	int err;

	if (re == NULL && e->has_re) {
		re = bav_rules_compile(e->pub.pattern, &err, &off);
		__atomic_store_n(&e->re, re, __ATOMIC_RELEASE);
	}
	return re;
}

/* The compiled regex of e (compiling it at its first use). */
static const pcre2_code *entry_code(const struct bav_rules *crules,
				    const struct rule_entry *ce)
{
	/* the set is logically immutable: only the lazy state changes */
	struct bav_rules *rules = (struct bav_rules *)crules;
	struct rule_entry *e = (struct rule_entry *)ce;
	const pcre2_code *re = __atomic_load_n(&e->jit, __ATOMIC_ACQUIRE);

	if (re == NULL)
		re = __atomic_load_n(&e->re, __ATOMIC_ACQUIRE);
	if (re == NULL && e->has_re) {
		pthread_mutex_lock(&rules->jit_lock);
		re = entry_compile_locked(e);
		pthread_mutex_unlock(&rules->jit_lock);
	}
	return re;
}

static void table_jit(struct bav_rules *rules, struct rule_table *t)
{
	struct rule_entry *e;
	pcre2_code *copy, *re;

	pthread_mutex_lock(&rules->jit_lock);
	if (__atomic_load_n(&t->jitted, __ATOMIC_ACQUIRE) == 0) {
		for (e = t->v; e < t->v + t->n; e++) {
			if (!e->has_re || e->jit != NULL ||
			    (re = entry_compile_locked(e)) == NULL)
				continue;
			if ((copy = pcre2_code_copy(re)) == NULL)
				continue;
			/* no JIT support: keep using the interpreter */
			if (pcre2_jit_compile(copy, PCRE2_JIT_COMPLETE) != 0) {
				pcre2_code_free(copy);
				continue;
			}
			__atomic_store_n(&e->jit, copy, __ATOMIC_RELEASE);
		}
		__atomic_store_n(&t->jitted, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&rules->jit_lock);
}

/* Build and publish the prefilter of a regex table, once. */
static void table_prefilter(struct bav_rules *rules, struct rule_table *t)
{
	pthread_mutex_lock(&rules->jit_lock);
	if (__atomic_load_n(&t->pf, __ATOMIC_ACQUIRE) == NULL)
		__atomic_store_n(&t->pf, bav_rules_prefilter_build(t),
				 __ATOMIC_RELEASE);
	pthread_mutex_unlock(&rules->jit_lock);
}

/* Count a lookup; JIT the table and build its prefilter once it is used
   often enough. */
static const struct rule_table *table_use(const struct bav_rules *crules,
					  unsigned int idx)
{
	/* the set is logically immutable: only the lazy state changes */
	struct bav_rules *rules = (struct bav_rules *)crules;
	struct rule_table *t = &rules->tables[idx];
	unsigned int calls;

	if (t->n == 0 || __atomic_load_n(&t->jitted, __ATOMIC_ACQUIRE) != 0)
		return t;
	calls = __atomic_add_fetch(&t->calls, 1, __ATOMIC_RELAXED);
	if (calls == RULES_PF_AFTER && idx < BAV_RULE_SECTION_COUNT)
		table_prefilter(rules, t);
	if (calls == RULES_JIT_AFTER) {
		if (!rules->no_jit)
			table_jit(rules, t);
		else	/* nothing more to do */
			__atomic_store_n(&t->jitted, 1, __ATOMIC_RELEASE);
	}
	return t;
}

bool bav_rules_entry_match(const struct bav_rules *rules,
			   const struct rule_entry *e, pcre2_match_data *md,
			   const char *text, size_t len)
{
	const pcre2_code *re = entry_code(rules, e);
	struct bav_rules *counted = (struct bav_rules *)rules;
	int rc;

	if (re == NULL)
		return false;
	/* >= 0: matched (0 = ovector too small, still a match); < 0: no
	   match, or a limit was hit (counted, still no match) */
	rc = pcre2_match(re, (PCRE2_SPTR)text, len, 0, 0, md, rules->mctx);
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT) {
		__atomic_store_n(&counted->limit_rule, e->pub.id,
				 __ATOMIC_RELEASE);
		__atomic_add_fetch(&counted->limit_hits, 1, __ATOMIC_RELEASE);
	}
	return rc >= 0;
}

unsigned long bav_rules_limit_hits(const struct bav_rules *rules,
				   const char **rule_r)
{
	unsigned long n = rules != NULL ?
		__atomic_load_n(&rules->limit_hits, __ATOMIC_ACQUIRE) : 0;

	if (rule_r != NULL)
		*rule_r = n > 0 ? __atomic_load_n(&rules->limit_rule,
						  __ATOMIC_ACQUIRE) : NULL;
	return n;
}

static pcre2_match_data *md_new(void)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);

	if (md == NULL)
		bav_xrealloc(NULL, (size_t)-1);	/* calls the OOM hook */
	return md;
}

/* Is entry i of t a candidate for the text? */
static inline bool candidate(const struct rule_table *t, const uint64_t *cand,
			     unsigned int i)
{
	return cand == NULL || !t->v[i].filtered ||
	       (cand[i / 64] >> (i % 64) & 1) != 0;
}

const struct bav_rule *bav_rules_match(const struct bav_rules *rules,
				       enum bav_rule_section section,
				       const char *rid, const char *text,
				       size_t len)
{
	const struct rule_table *t;
	const struct rule_entry *e, *found = NULL;
	const struct rules_prefilter *pf;
	uint64_t cand_stack[8], *cand = NULL;
	pcre2_match_data *md;
	unsigned int i;

	if (rules == NULL || (unsigned int)section >= BAV_RULE_SECTION_COUNT)
		return NULL;
	t = table_use(rules, section);
	if (t->n == 0)
		return NULL;
	if (text == NULL)
		text = "", len = 0;
	if ((pf = __atomic_load_n(&t->pf, __ATOMIC_ACQUIRE)) != NULL) {
		/* @UNSAFE: one bit per entry */
		cand = t->n <= 64 * 8 ? cand_stack :
		       bav_xcalloc((t->n + 63) / 64, sizeof(*cand));
		if (!bav_rules_prefilter_scan(pf, t->n, text, len, cand)) {
			if (cand != cand_stack)
				free(cand);
			cand = NULL;
		}
	}
	md = md_new();
	for (i = rid != NULL ? 0 : t->nrid; i < t->n && found == NULL; i++) {
		e = &t->v[i];
		if (i < t->nrid && strcmp(e->pub.rid, rid) != 0)
			continue;
		if (!candidate(t, cand, i))
			continue;
		if (bav_rules_entry_match(rules, e, md, text, len))
			found = e;
	}
	pcre2_match_data_free(md);
	if (cand != NULL && cand != cand_stack)
		free(cand);
	return found != NULL ? &found->pub : NULL;
}

/* Does the dotted status begin with the dotted code, component-wise? */
static bool status_prefix(const char *status, const struct rule_entry *e)
{
	return strncmp(status, e->pub.pattern, e->code_len) == 0 &&
		(status[e->code_len] == '\0' || status[e->code_len] == '.');
}

const char *bav_rules_status_reason(const struct bav_rules *rules,
				    const char *rid, const char *status,
				    const struct bav_rule **rule_r)
{
	const struct rule_table *t;
	const struct rule_entry *e, *best = NULL;
	unsigned int i, end;

	if (rule_r != NULL)
		*rule_r = NULL;
	if (rules == NULL || status == NULL || *status == '\0')
		return NULL;
	t = &rules->tables[RULES_TABLE_STATUS];
	/* pass 1: rid rules (if rid), pass 2: global rules */
	for (i = rid != NULL ? 0 : t->nrid; i < t->n && best == NULL; ) {
		end = i < t->nrid ? t->nrid : t->n;
		for (; i < end; i++) {
			e = &t->v[i];
			if (e->pub.rid != NULL && strcmp(e->pub.rid, rid) != 0)
				continue;
			if (status_prefix(status, e) &&
			    (best == NULL || e->code_len > best->code_len))
				best = e;
		}
	}
	if (best == NULL)
		return NULL;
	if (rule_r != NULL)
		*rule_r = &best->pub;
	return best->pub.arg;
}

/* One file's entries v[start..end): OpenEMM's per-table resolution. */
static const struct rule_entry *
detail_group(const struct bav_rules *rules, const struct rule_table *t,
	     unsigned int start, unsigned int end, const char *rid, int code,
	     const char *text, pcre2_match_data **md)
{
	const struct rule_entry *e;
	unsigned int i;
	int pass, c;

	for (pass = 0; pass < 2; pass++) {
		if (pass == 0 && text == NULL)
			continue;
		for (c = code; c > 0; c /= 10) {
			for (i = start; i < end; i++) {
				e = &t->v[i];
				if (e->code != c || e->has_re != (pass == 0))
					continue;
				if (e->pub.rid != NULL &&
				    strcmp(e->pub.rid, rid) != 0)
					continue;
				if (pass == 1)
					return e;
				if (*md == NULL)
					*md = md_new();
				if (bav_rules_entry_match(rules, e, *md, text,
							  strlen(text)))
					return e;
			}
		}
	}
	return NULL;
}

int bav_rules_detail(const struct bav_rules *rules, const char *rid,
		     int code, const char *text, const struct bav_rule **rule_r)
{
	const struct rule_table *t;
	const struct rule_entry *found = NULL;
	pcre2_match_data *md = NULL;
	unsigned int i, end, part_end;

	if (rule_r != NULL)
		*rule_r = NULL;
	if (rules == NULL || code <= 0)
		return -1;
	t = table_use(rules, RULES_TABLE_DETAIL);
	for (i = rid != NULL ? 0 : t->nrid; i < t->n && found == NULL;
	     i = end) {
		/* a group: same part (rid or global) and same file */
		part_end = i < t->nrid ? t->nrid : t->n;
		for (end = i + 1; end < part_end &&
			     t->v[end].file == t->v[i].file; end++)
			;
		found = detail_group(rules, t, i, end, rid, code, text, &md);
	}
	if (md != NULL)
		pcre2_match_data_free(md);
	if (found == NULL)
		return -1;
	if (rule_r != NULL)
		*rule_r = &found->pub;
	return found->detail;
}
