/* SPDX-License-Identifier: MIT */
/*
 * rules_int.h - the in-memory rule set shared by rules.c (loader, lint,
 * defaults) and rules_match.c (matching). Not installed, not used by any
 * other module: they go through bav_rules_*() of bav_private.h.
 */
#ifndef BAV_RULES_INT_H
#define BAV_RULES_INT_H

#include "bav_private.h"

#include <pthread.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* Tables: the regex sections of enum bav_rule_section, then these two. */
enum {
	RULES_TABLE_STATUS = BAV_RULE_SECTION_COUNT,
	RULES_TABLE_DETAIL,
	RULES_TABLE_COUNT
};

/* Options of every rule regex. */
#define RULES_PCRE2_OPTIONS \
	(PCRE2_CASELESS | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF)
/* Match limits: a hit counts as "no match". */
#define RULES_MATCH_LIMIT 100000
#define RULES_DEPTH_LIMIT 10000
#define RULES_HEAP_LIMIT_KIB 8192
/* A table is JIT-compiled after this many lookups; before, the
   interpreter is cheaper than compiling (a one-shot process matches a few
   texts only). Its literal prefilter is built after RULES_PF_AFTER. */
#define RULES_JIT_AFTER 48
#define RULES_PF_AFTER 8

struct rule_entry {
	struct bav_rule pub;	/* first: bav_rules_match() returns &pub */
	pcre2_code *re;		/* compiled regex; the compiled-in default
				   rules are compiled at their first use
				   (atomic, under jit_lock): NULL until then */
	pcre2_code *jit;	/* JIT-compiled copy of re, published once
				   (atomic acquire/release), or NULL */
	unsigned int file;	/* index of the file: later = tried first */
	unsigned int seq;	/* order of appearance */
	int code;		/* [detail]: numeric code (511) */
	int detail;		/* [detail]: detail code */
	size_t code_len;	/* [status]: strlen(pub.pattern) */
	bool filtered;		/* tried only when the prefilter says so */
	bool has_re;		/* a regex rule (else [status], or [detail]
				   without pattern) */
};

/* Literal prefilter of a regex table (rules_prefilter.c). */
#define RULES_PF_BUCKETS 4096	/* hash of a literal's first 3 bytes */

struct rules_lit {
	unsigned int off, len;	/* lower case, in text[off..off+len) */
	unsigned int next;	/* next literal of the bucket + 1; 0: none */
	unsigned int first, count;	/* its entries[first..first+count) */
};

struct rules_prefilter {
	struct rules_lit *lits;
	unsigned int nlits;
	char *text;		/* the literals */
	unsigned int *entries;	/* table indexes of the rules, per literal */
	unsigned int buckets[RULES_PF_BUCKETS];	/* first literal + 1 */
	uint64_t heads[65536 / 64];	/* 16-bit hash of the first three
					   bytes of each literal */
};

struct rule_table {
	struct rule_entry *v;	/* sorted: rid rules, then global ones;
				   each part by file descending, then seq */
	unsigned int n, alloc;
	unsigned int nrid;	/* v[0..nrid) have pub.rid != NULL */
	unsigned int calls;	/* lookups so far (atomic) */
	unsigned int jitted;	/* 1 once every entry has jit (atomic) */
	struct rules_prefilter *pf;	/* regex sections only, built lazily
					   (atomic), or NULL */
};

struct bav_rules {
	struct bav_pool *pool;	/* ids, patterns, marks, rids */
	pcre2_match_context *mctx;
	pthread_mutex_t jit_lock;
	bool no_jit;		/* running under valgrind: JIT code confuses it */
	struct rule_table tables[RULES_TABLE_COUNT];
	/* PCRE2 limits hit (atomic; the only fields changed after loading
	   besides the lazy JIT code) and the id of the last rule that hit
	   one */
	unsigned long limit_hits;
	const char *limit_rule;
};

/* Compile a rule pattern with RULES_PCRE2_OPTIONS (Latin-1 text is
   converted to UTF-8); NULL with *err_r and *off_r on errors. */
pcre2_code *bav_rules_compile(const char *pattern, int *err_r,
			      size_t *off_r);

/* Match one entry against text[0..len) with md (1 pair is enough). */
bool bav_rules_entry_match(const struct bav_rules *rules,
			   const struct rule_entry *e, pcre2_match_data *md,
			   const char *text, size_t len);

/* The prefilter of the (sorted) entries of t, and their filtered flags;
   publishing it in t->pf is the caller's job. */
struct rules_prefilter *bav_rules_prefilter_build(struct rule_table *t);
/* Release t->pf. */
void bav_rules_prefilter_free(struct rule_table *t);
/* Set in cand (n bits, n entries) the entries that may match
   text[0..len); false: the text can't be filtered, every entry is a
   candidate. */
bool bav_rules_prefilter_scan(const struct rules_prefilter *pf,
			      unsigned int n, const char *text, size_t len,
			      uint64_t *cand);

#endif
