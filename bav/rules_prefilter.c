/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	rules_prefilter - literal prefilter of the regex rules of a table
 * SYNOPSIS
 *	struct rules_prefilter *bav_rules_prefilter_build(
 *		struct rule_table *t)
 *	void bav_rules_prefilter_free(struct rule_table *t)
 *	bool bav_rules_prefilter_scan(const struct rules_prefilter *pf,
 *		unsigned int n, const char *text, size_t len, uint64_t *cand)
 * DESCRIPTION
 *	Trying every regex of a section against a text costs one scan of
 *	the text per rule. Most rules can only match where one of a few
 *	literal strings occurs ("mailbox full", "over quota"): the build
 *	derives, from the pattern syntax, a set of lower-case literals of
 *	at least LIT_MIN bytes such that every match of the regex contains
 *	one of them (case-insensitively). One scan of the text then finds
 *	every literal that occurs, and rules none of whose literals occur are
 *	not tried at all. Nothing else changes: the rules still run in
 *	their order, and the first match wins.
 *
 *	The derivation is conservative: anything it does not understand
 *	(backreferences, inline options, \x, \p, \Q, {,n}, atomic groups,
 *	verbs ...) leaves the rule without literals, and such a rule is
 *	always tried. Literals are ASCII only (any other byte of a pattern
 *	counts as an unknown character). Under PCRE2_UTF|PCRE2_CASELESS, 'k'
 *	also matches U+212A and 's' U+017F: a text holding either is not
 *	filtered at all.
 *
 *	The filter owns its memory (malloc'ed), released by
 *	bav_rules_prefilter_free(). rules_match.c builds it lazily, once per
 *	table under the rule set's lock, and publishes it with a release
 *	store; after that it is only read: scans from any number of threads
 *	are safe.
 * DIAGNOSTICS
 *	bav_rules_prefilter_scan: false when the text must not be filtered
 *	(every rule is a candidate; cand is then undefined). Never fails
 *	otherwise, never exits.
 * SEE ALSO
 *	rules_match.c, pcre2pattern(3)
 */
#include "rules_int.h"

#include <stdlib.h>

#define LIT_MIN 3	/* shorter literals filter too little */
#define SET_MAX 32	/* strings of a set of all matches of a node */
#define REQ_MAX 128	/* strings of a set of required literals */
#define STR_MAX 64	/* bytes of one string of such a set */
#define DEPTH_MAX 32	/* nested groups */

/* A set of strings; NULL as a set means "nothing known". */
struct set {
	unsigned int n;
	const char **v;
};

/*
 * What a node of the pattern tells: exact: s holds every string the
 * node can match (lower case); otherwise every match contains one of
 * the strings of s, or nothing is known (s NULL).
 */
struct node {
	bool exact;
	const struct set *s;
};

struct px {
	const char *p;
	struct bav_pool *pool;
	unsigned int depth;
	bool fail;
};

static inline unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static struct set *set_alloc(struct bav_pool *pool, unsigned int n)
{
	struct set *s = bav_pool_alloc(pool, sizeof(*s));

	/* @UNSAFE: n <= REQ_MAX * 2 */
	s->v = bav_pool_alloc(pool, (n > 0 ? n : 1) * sizeof(*s->v));
	s->n = 0;
	return s;
}

static const struct set *set_one(struct px *x, const char *str, size_t len)
{
	struct set *s = set_alloc(x->pool, 1);

	s->v[s->n++] = bav_pool_strndup(x->pool, str, len);
	return s;
}

static struct node node_top(void)
{
	return (struct node){ false, NULL };
}

/* A zero-width node: matches the empty string only. */
static struct node node_empty(struct px *x)
{
	return (struct node){ true, set_one(x, "", 0) };
}

static struct node node_char(struct px *x, unsigned char c)
{
	char ch = (char)lower(c);

	return (struct node){ true, set_one(x, &ch, 1) };
}

/* Every a.b, or NULL when too many or too long. */
static const struct set *set_cross(struct px *x, const struct set *a,
				   const struct set *b)
{
	struct set *s;
	unsigned int i, j;

	if ((size_t)a->n * b->n > SET_MAX)
		return NULL;
	s = set_alloc(x->pool, a->n * b->n);
	for (i = 0; i < a->n; i++) {
		size_t la = strlen(a->v[i]);

		for (j = 0; j < b->n; j++) {
			size_t lb = strlen(b->v[j]);
			char *c;

			if (la + lb > STR_MAX)
				return NULL;
			c = bav_pool_alloc(x->pool, la + lb + 1);
			memcpy(c, a->v[i], la);
			memcpy(c + la, b->v[j], lb);
			c[la + lb] = '\0';
			s->v[s->n++] = c;
		}
	}
	return s;
}

static const struct set *set_union(struct px *x, const struct set *a,
				   const struct set *b, unsigned int max)
{
	struct set *s;

	if (a == NULL || b == NULL || a->n + b->n > max)
		return NULL;
	s = set_alloc(x->pool, a->n + b->n);
	memcpy(s->v, a->v, a->n * sizeof(*s->v));
	memcpy(s->v + a->n, b->v, b->n * sizeof(*s->v));
	s->n = a->n + b->n;
	return s;
}

/* How well a set of required strings filters: longer, then fewer. */
static long set_score(const struct set *s)
{
	size_t min = (size_t)-1, l;
	unsigned int i;

	if (s == NULL || s->n == 0)
		return -1;
	for (i = 0; i < s->n; i++)
		if ((l = strlen(s->v[i])) < min)
			min = l;
	if (min == 0)
		return -1;
	return (long)(min < 8 ? min : 8) * 1024 - (long)s->n;
}

static const struct set *set_better(const struct set *a, const struct set *b)
{
	return set_score(b) > set_score(a) ? b : a;
}

static struct node parse_alt(struct px *x);

/* After '[': skip to after the closing ']'. */
static void skip_class(struct px *x)
{
	const char *p = x->p, *e;

	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (;;) {
		if (*p == '\0' || (p[0] == '\\' && (p[1] == '\0' ||
				   p[1] == 'Q' || p[1] == 'E'))) {
			x->fail = true;
			return;
		}
		if (*p == '\\') {
			p += 2;
			continue;
		}
		if (p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			for (e = p + 2; *e != '\0' && !(e[0] == p[1] &&
							e[1] == ']'); e++)
				;
			if (*e == '\0') {
				x->fail = true;
				return;
			}
			p = e + 2;
			continue;
		}
		if (*p++ == ']')
			break;
	}
	x->p = p;
}

static struct node parse_escape(struct px *x)
{
	static const char zero_width[] = "bBAzZG";
	static const char classes[] = "dDsSwWhHvVNRXC";
	static const char ctrl_in[] = "ntrfea", ctrl_out[] = "\n\t\r\f\033\007";
	unsigned char c = (unsigned char)x->p[1];
	const char *k;

	if (c == '\0' || c >= 0x80) {
		x->fail = true;
		return node_top();
	}
	x->p += 2;
	if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	      (c >= '0' && c <= '9')))
		return node_char(x, c);		/* \. \- \/ ... */
	if (strchr(zero_width, c) != NULL)
		return node_empty(x);
	if (strchr(classes, c) != NULL)
		return node_top();
	if ((k = strchr(ctrl_in, c)) != NULL)
		return node_char(x, (unsigned char)ctrl_out[k - ctrl_in]);
	x->fail = true;			/* \1 \x \p \Q \K \g ... */
	return node_top();
}

static struct node parse_group(struct px *x)
{
	const char *p = x->p;
	bool zero_width = false;
	struct node n;

	if (p[1] == '*') {
		x->fail = true;		/* (*VERB) */
		return node_top();
	}
	if (p[1] != '?')
		x->p += 1;
	else if (p[2] == ':')
		x->p += 3;
	else if (p[2] == '=' || p[2] == '!')
		x->p += 3, zero_width = true;
	else if (p[2] == '<' && (p[3] == '=' || p[3] == '!'))
		x->p += 4, zero_width = true;
	else {
		x->fail = true;		/* options, names, atomic ... */
		return node_top();
	}
	n = parse_alt(x);
	if (x->fail || *x->p != ')') {
		x->fail = true;
		return node_top();
	}
	x->p++;
	return zero_width ? node_empty(x) : n;
}

static bool plain_char(unsigned char c)
{
	return c != '\0' && c < 0x80 && strchr("\\^$.|?*+()[{", c) == NULL;
}

static bool quantifier_char(char c)
{
	return c == '?' || c == '*' || c == '+' || c == '{';
}

/* c and the plain characters after it, up to one that a quantifier
   follows (that one stands alone): a single string. */
static struct node literal_run(struct px *x, unsigned char c)
{
	char buf[STR_MAX];
	size_t n = 0;

	buf[n++] = (char)lower(c);
	if (!quantifier_char(*x->p))
		while (n < sizeof(buf) && plain_char((unsigned char)x->p[0]) &&
		       !quantifier_char(x->p[1]))
			buf[n++] = (char)lower((unsigned char)*x->p++);
	return (struct node){ true, set_one(x, buf, n) };
}

static struct node parse_atom(struct px *x)
{
	unsigned char c = (unsigned char)*x->p;

	switch (c) {
	case '(':
		return parse_group(x);
	case '[':
		x->p++;
		skip_class(x);
		return node_top();
	case '.':
		x->p++;
		return node_top();
	case '^':
	case '$':
		x->p++;
		return node_empty(x);
	case '\\':
		return parse_escape(x);
	case '*':
	case '+':
	case '?':
	case '{':
		x->fail = true;
		return node_top();
	default:
		break;
	}
	x->p++;
	if (c >= 0x80) {
		/* one character of several bytes: its case variants differ */
		while (((unsigned char)*x->p & 0xc0) == 0x80)
			x->p++;
		return node_top();
	}
	return literal_run(x, c);
}

/* "{n}", "{n,}", "{n,m}" at x->p: the minimum, or -1 (x->fail). */
static long parse_braces(struct px *x)
{
	const char *p = x->p + 1;
	long min = 0;

	if (*p < '0' || *p > '9')
		goto bad;
	for (; *p >= '0' && *p <= '9' && min < 100000; p++)
		min = min * 10 + (*p - '0');
	if (*p == ',')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p != '}')
		goto bad;
	x->p = p + 1;
	return min;
bad:
	x->fail = true;
	return -1;
}

/* A quantifier after atom a, if any. */
static struct node quantify(struct px *x, struct node a)
{
	char q = *x->p;
	long min;

	if (q == '?' || q == '*' || q == '+') {
		x->p++;
		min = q == '+';
	} else if (q == '{') {
		if ((min = parse_braces(x)) < 0)
			return node_top();
	} else
		return a;
	if (*x->p == '?' || *x->p == '+')
		x->p++;		/* lazy, possessive */
	if (*x->p == '?' || *x->p == '*' || *x->p == '+' || *x->p == '{') {
		x->fail = true;
		return node_top();
	}
	if (min > 0)
		return (struct node){ false, a.s };
	if (q == '?' && a.exact) {
		const struct set *u = set_union(x, a.s, node_empty(x).s,
						SET_MAX);

		if (u != NULL)
			return (struct node){ true, u };
	}
	return node_top();
}

static struct node parse_seq(struct px *x)
{
	const struct set *cur = node_empty(x).s, *best = NULL, *prod;
	bool exact = true;
	struct node a;

	while (!x->fail && *x->p != '\0' && *x->p != '|' && *x->p != ')') {
		a = parse_atom(x);
		if (!x->fail)
			a = quantify(x, a);
		if (x->fail)
			break;
		if (a.exact && (prod = set_cross(x, cur, a.s)) != NULL) {
			cur = prod;
			continue;
		}
		exact = false;
		best = set_better(best, cur);
		if (a.exact)
			cur = a.s;
		else {
			best = set_better(best, a.s);
			cur = node_empty(x).s;
		}
	}
	if (exact)
		return (struct node){ true, cur };
	return (struct node){ false, set_better(best, cur) };
}

static struct node parse_alt(struct px *x)
{
	struct node r, b;
	const struct set *u;

	if (++x->depth > DEPTH_MAX) {
		x->fail = true;
		return node_top();
	}
	r = parse_seq(x);
	while (!x->fail && *x->p == '|') {
		x->p++;
		b = parse_seq(x);
		if (r.exact && b.exact &&
		    (u = set_union(x, r.s, b.s, SET_MAX)) != NULL) {
			r.s = u;
			continue;
		}
		r.exact = false;
		r.s = set_score(r.s) < 0 || set_score(b.s) < 0 ? NULL :
		      set_union(x, r.s, b.s, REQ_MAX);
	}
	x->depth--;
	return r;
}

/* The required literals of pattern (pool-owned), or NULL. */
static const struct set *pattern_literals(struct bav_pool *pool,
					  const char *pattern)
{
	struct px x = { pattern, pool, 0, false };
	struct node n = parse_alt(&x);

	if (x.fail || *x.p != '\0' || set_score(n.s) < LIT_MIN * 1024 - REQ_MAX)
		return NULL;
	return n.s;
}

/* 16 bits from three lower-case bytes */
static inline unsigned int head_hash(unsigned int a, unsigned int b,
				     unsigned int c)
{
	return ((a << 16 | b << 8 | c) * 2654435761u) >> 16;
}

static inline unsigned int hash3(const unsigned char *s)
{
	return ((unsigned int)lower(s[0]) * 961u +
		(unsigned int)lower(s[1]) * 31u + lower(s[2])) &
	       (RULES_PF_BUCKETS - 1);
}

/* Room for n more items of size in *v (capacity *alloc). */
static void grow(void *vp, unsigned int *alloc, size_t used, size_t n,
		 size_t size)
{
	void **v = vp;

	if (used + n <= *alloc)
		return;
	while (used + n > *alloc)
		*alloc = *alloc == 0 ? 256 : *alloc * 2;
	*v = bav_xrealloc(*v, *alloc * size);	/* @UNSAFE */
}

/* Index + 1 of literal s in pf, added if new. */
static unsigned int lit_add(struct rules_prefilter *pf, size_t *text_len,
			    unsigned int *lits_alloc, unsigned int *text_alloc,
			    const char *s)
{
	unsigned int h = hash3((const unsigned char *)s), l;
	size_t len = strlen(s);
	struct rules_lit *lit;

	for (l = pf->buckets[h]; l != 0; l = pf->lits[l - 1].next)
		if (pf->lits[l - 1].len == len &&
		    memcmp(pf->text + pf->lits[l - 1].off, s, len) == 0)
			return l;
	grow(&pf->lits, lits_alloc, pf->nlits, 1, sizeof(*pf->lits));
	grow(&pf->text, text_alloc, *text_len, len, 1);
	lit = &pf->lits[pf->nlits++];
	memset(lit, 0, sizeof(*lit));
	memcpy(pf->text + *text_len, s, len);
	lit->off = (unsigned int)*text_len;
	lit->len = (unsigned int)len;
	*text_len += len;
	lit->next = pf->buckets[h];
	pf->buckets[h] = pf->nlits;
	h = head_hash(lower((unsigned char)s[0]), lower((unsigned char)s[1]),
		      lower((unsigned char)s[2]));
	pf->heads[h / 64] |= (uint64_t)1 << (h % 64);
	return pf->nlits;
}

struct pair {
	unsigned int lit, entry;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->lit != y->lit)
		return x->lit < y->lit ? -1 : 1;
	return x->entry < y->entry ? -1 : x->entry > y->entry;
}

/* Literals per entry index: pf->entries in literal order. */
static void index_pairs(struct rules_prefilter *pf, struct pair *pairs,
			unsigned int np)
{
	unsigned int i, k;

	if (np > 0)
		qsort(pairs, np, sizeof(*pairs), pair_cmp);
	pf->entries = bav_xcalloc(np > 0 ? np : 1, sizeof(*pf->entries));
	for (i = 0, k = 0; i < np; i++) {
		struct rules_lit *lit = &pf->lits[pairs[i].lit];

		if (i > 0 && pairs[i].lit == pairs[i - 1].lit &&
		    pairs[i].entry == pairs[i - 1].entry)
			continue;
		if (lit->count == 0)
			lit->first = k;
		lit->count++;
		pf->entries[k++] = pairs[i].entry;
	}
}

struct rules_prefilter *bav_rules_prefilter_build(struct rule_table *t)
{
	struct rules_prefilter *pf = bav_xcalloc(1, sizeof(*pf));
	struct bav_pool *tmp = bav_pool_new(16384);
	struct pair *pairs = NULL;
	const struct set *s;
	unsigned int i, j, np = 0, pairs_alloc = 0, lits_alloc = 0;
	unsigned int text_alloc = 0;
	size_t text_len = 0;

	for (i = 0; i < t->n; i++) {
		if (!t->v[i].has_re || t->v[i].pub.pattern == NULL ||
		    (s = pattern_literals(tmp, t->v[i].pub.pattern)) == NULL)
			continue;
		t->v[i].filtered = true;
		grow(&pairs, &pairs_alloc, np, s->n, sizeof(*pairs));
		for (j = 0; j < s->n; j++) {
			pairs[np].lit = lit_add(pf, &text_len, &lits_alloc,
						&text_alloc, s->v[j]) - 1;
			pairs[np++].entry = i;
		}
	}
	bav_pool_free(&tmp);
	index_pairs(pf, pairs, np);
	free(pairs);
	return pf;
}

void bav_rules_prefilter_free(struct rule_table *t)
{
	if (t->pf == NULL)
		return;
	free(t->pf->lits);
	free(t->pf->entries);
	free(t->pf->text);
	free(t->pf);
	t->pf = NULL;
}

static bool text_equal_ci(const unsigned char *text, const char *lit,
			  unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		if (lower(text[i]) != (unsigned char)lit[i])
			return false;
	return true;
}

/* U+212A (e2 84 aa) or U+017F (c5 bf) in s[0..len)? */
static bool has_fold_char(const unsigned char *s, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (s[i] == 0xc5 && s[i + 1] == 0xbf)
			return true;
		if (s[i] == 0xe2 && i + 2 < len && s[i + 1] == 0x84 &&
		    s[i + 2] == 0xaa)
			return true;
	}
	return false;
}

bool bav_rules_prefilter_scan(const struct rules_prefilter *pf,
			      unsigned int n, const char *text, size_t len,
			      uint64_t *cand)
{
	const unsigned char *s = (const unsigned char *)text;
	unsigned char high = 0;
	unsigned int l, k, a, b;
	size_t i;

	memset(cand, 0, (n + 63) / 64 * sizeof(*cand));
	a = len > 0 ? lower(s[0]) : 0;
	b = len > 1 ? lower(s[1]) : 0;
	for (i = 0; i + LIT_MIN <= len; i++) {
		unsigned int c = lower(s[i + 2]), h = head_hash(a, b, c);

		high |= s[i];
		a = b;
		b = c;
		if ((pf->heads[h / 64] >> (h % 64) & 1) == 0)
			continue;
		for (l = pf->buckets[hash3(s + i)]; l != 0;
		     l = pf->lits[l - 1].next) {
			const struct rules_lit *lit = &pf->lits[l - 1];

			if (lit->len > len - i ||
			    !text_equal_ci(s + i, pf->text + lit->off, lit->len))
				continue;
			for (k = lit->first; k < lit->first + lit->count; k++)
				cand[pf->entries[k] / 64] |=
					(uint64_t)1 << (pf->entries[k] % 64);
		}
	}
	for (; i < len; i++)
		high |= s[i];
	/* KELVIN SIGN and LONG S match 'k' and 's' caselessly */
	return (high & 0x80) == 0 || !has_fold_char(s, len);
}
