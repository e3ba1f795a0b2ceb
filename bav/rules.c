/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	rules - rule-file loader: legacy bav.rule and the extended format
 * SYNOPSIS
 *	int bav_rules_load(const char *const *paths, size_t npaths,
 *			   bool include_default, struct bav_rules **rules_r,
 *			   char **error_r)
 *	int bav_rules_load_string(const char *name, const char *text,
 *				  bool include_default,
 *				  struct bav_rules **rules_r, char **error_r)
 *	void bav_rules_free(struct bav_rules **rules)
 *	int bav_rules_check(const char *path, bav_rules_report_t *cb,
 *			    void *ctx)
 *	const struct bav_rules *bav_rules_default(void)
 * DESCRIPTION
 *	Reads rule files (format in bav-rules(5)) into an immutable rule set:
 *	every regex is compiled once with PCRE2 (caseless, UTF with invalid
 *	UTF allowed at match time): at load for rule files, at the first
 *	use for the compiled-in defaults (tested when bav is built; a
 *	one-message process then compiles only the rules it tries); JIT
 *	compilation happens lazily in rules_match.c, and not at all under
 *	valgrind. Logical lines: a line starting with blank space
 *	continues the previous one (its leading blanks removed, nothing
 *	inserted); lines whose first non-blank is '#' and blank lines are
 *	skipped. Each rule gets the id "FILE:LINE" (basename of the file, or
 *	the name of a "#file NAME" line in the compiled-in text).
 *
 *	Ownership: the set owns all its strings and codes; bav_rules_free()
 *	releases everything and sets the pointer to NULL. The shared default
 *	set of bav_rules_default() is built once (pthread_once) and lives
 *	until the process exits.
 * DIAGNOSTICS
 *	bav_rules_load*: 0, or BAV_ECONFIG with a malloc'ed "file:line: why"
 *	in *error_r (the caller frees). bav_rules_check: number of errors,
 *	each passed to cb (warnings, "file:line: warning: ...", are passed
 *	too but not counted), or -1 when the file can't be read. Never exits.
 * SEE ALSO
 *	bav-rules(5), rules_match.c, pcre2api(3)
 */
#include "rules_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

static const char *const reason_names[] = {
	"userunknown", "mailboxfull", "hostunknown", "filtered", "blocked",
	"rejected", "expired", "feedback", "vacation", "authfailure",
	"policyviolation", "requireptr", "systemerror", "suspend",
	"securityerror", "networkerror", "spamdetected", "toomanyconn",
	"notaccept", "onhold", "norelaying", "virusdetected", "mailererror",
	"hasmoved", "exceedlimit", "contenterror", "syntaxerror",
	"mesgtoobig", "delivered", "badreputation", "undefined",
	"systemfull", "speeding", "notcompliantrfc",
};

static const char *const section_names[BAV_RULE_SECTION_COUNT] = {
	"systemmail", "filter", "hard", "soft", "reason",
};

static const int detail_codes[] = {
	0, 100, 200, 400, 410, 420, 510, 511, 512, 513,
};

#define SECTION_NONE (-1)	/* before the first section header */
#define SECTION_SKIP (-2)	/* unknown legacy section or bad header */

struct parser {
	struct bav_rules *rules;
	const char *name;	/* file name in ids and messages */
	unsigned int file;	/* file index */
	unsigned int seq;	/* across files */
	bool embedded;		/* honour "#file NAME" lines */
	/* current section */
	int table;
	const char *arg, *rid;
	/* problems: to cb (check), else the first one to first_error */
	bav_rules_report_t *cb;
	void *ctx;
	unsigned int errors;
	char *first_error;
};

static void __attribute__((format(printf, 4, 5)))
report(struct parser *p, unsigned int line, bool warning,
       const char *fmt, ...)
{
	struct bav_buf b = { 0 };
	va_list ap;

	if (warning && p->cb == NULL)
		return;
	bav_buf_printf(&b, "%s:%u: %s", p->name, line,
		       warning ? "warning: " : "");
	va_start(ap, fmt);
	{
		char tmp[512];

		vsnprintf(tmp, sizeof(tmp), fmt, ap);
		bav_buf_append(&b, tmp, strlen(tmp));
	}
	va_end(ap);
	if (!warning)
		p->errors++;
	if (p->cb != NULL)
		p->cb(p->ctx, b.data);
	else if (p->first_error == NULL) {
		p->first_error = bav_buf_steal(&b);
		return;
	}
	bav_buf_free(&b);
}

static const char *reason_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(reason_names) / sizeof(reason_names[0]); i++) {
		if (strcasecmp(name, reason_names[i]) == 0)
			return reason_names[i];
	}
	return NULL;
}

static struct rule_entry *entry_add(struct parser *p, unsigned int line,
				    const char *pattern)
{
	struct rule_table *t = &p->rules->tables[p->table];
	struct rule_entry *e;

	if (t->n == t->alloc) {
		t->alloc = t->alloc == 0 ? 16 : t->alloc * 2;
		/* @UNSAFE */
		t->v = bav_xrealloc(t->v, t->alloc * sizeof(*t->v));
	}
	e = &t->v[t->n++];
	memset(e, 0, sizeof(*e));
	e->file = p->file;
	e->seq = p->seq++;
	e->pub.id = bav_pool_printf(p->rules->pool, "%s:%u", p->name, line);
	e->pub.rid = p->rid;
	e->pub.arg = p->arg;
	e->pub.pattern = pattern == NULL ? NULL :
		bav_pool_strdup(p->rules->pool, pattern);
	return e;
}

/* ISO-8859-1 to UTF-8, for legacy rule files. */
static char *latin1_to_utf8(const char *s)
{
	struct bav_buf b = { 0 };

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x80)
			bav_buf_putc(&b, (char)c);
		else {
			bav_buf_putc(&b, (char)(0xc0 | (c >> 6)));
			bav_buf_putc(&b, (char)(0x80 | (c & 0x3f)));
		}
	}
	return bav_buf_steal(&b);
}

pcre2_code *bav_rules_compile(const char *pattern, int *err_r,
			      size_t *off_r)
{
	pcre2_code *re;
	PCRE2_SIZE off = 0;
	int err = 0;

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			   RULES_PCRE2_OPTIONS, &err, &off, NULL);
	if (re == NULL && err >= PCRE2_ERROR_UTF8_ERR21 &&
	    err <= PCRE2_ERROR_UTF8_ERR1) {
		/* not UTF-8: a legacy Latin-1 file */
		char *conv = latin1_to_utf8(pattern);

		re = pcre2_compile((PCRE2_SPTR)conv, PCRE2_ZERO_TERMINATED,
				   RULES_PCRE2_OPTIONS, &err, &off, NULL);
		free(conv);
	}
	*err_r = err;
	*off_r = (size_t)off;
	return re;
}

/* The compiled regex, or NULL: reported. The compiled-in default rules
   (tested at build time) are compiled at their first use instead:
   *lazy_r is set and NULL returned. */
static pcre2_code *regex_compile(struct parser *p, unsigned int line,
				 const char *pattern, bool *lazy_r)
{
	pcre2_code *re;
	PCRE2_UCHAR msg[256];
	size_t off;
	int err;

	*lazy_r = p->embedded && p->cb == NULL;
	if (*lazy_r)
		return NULL;
	re = bav_rules_compile(pattern, &err, &off);
	if (re == NULL) {
		pcre2_get_error_message(err, msg, sizeof(msg));
		report(p, line, false, "bad regex at offset %zu: %s",
		       off, (const char *)msg);
	}
	return re;
}

/* "[name args]": returns true if line is a section header at all. */
static bool parse_header(struct parser *p, unsigned int line, char *s)
{
	char *tok[8], *save = NULL, *t;
	unsigned int n = 0, i, first_opt = 1;
	size_t len = strlen(s);
	int sec = -1;

	if (s[0] != '[' || len < 3 || s[len - 1] != ']')
		return false;
	s[len - 1] = '\0';
	t = s + 1 + strspn(s + 1, " \t");
	if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z'))) {
		s[len - 1] = ']';
		return false;	/* a regex such as "[45]50 ..." */
	}
	for (t = strtok_r(t, " \t", &save); t != NULL && n < 8;
	     t = strtok_r(NULL, " \t", &save))
		tok[n++] = t;
	p->table = SECTION_SKIP;
	p->arg = p->rid = NULL;
	if (t != NULL) {
		report(p, line, false, "too many words in section header");
		return true;
	}
	for (i = 0; i < BAV_RULE_SECTION_COUNT; i++) {
		if (strcasecmp(tok[0], section_names[i]) == 0)
			sec = (int)i;
	}
	if (strcasecmp(tok[0], "status") == 0)
		sec = RULES_TABLE_STATUS;
	else if (strcasecmp(tok[0], "detail") == 0)
		sec = RULES_TABLE_DETAIL;
	if (sec < 0) {
		if (n == 1 && strchr(tok[0], '=') == NULL)
			report(p, line, true,
			       "unknown section [%s] ignored", tok[0]);
		else
			report(p, line, false, "unknown section [%s]", tok[0]);
		return true;
	}
	if (sec == BAV_RULE_REASON) {
		if (n < 2 || strchr(tok[1], '=') != NULL) {
			report(p, line, false, "[reason] needs a reason name");
			return true;
		}
		if ((p->arg = reason_lookup(tok[1])) == NULL) {
			report(p, line, false, "unknown reason %s", tok[1]);
			return true;
		}
		first_opt = 2;
	}
	for (i = first_opt; i < n; i++) {
		if (strncasecmp(tok[i], "rid=", 4) != 0 || tok[i][4] == '\0') {
			report(p, line, false, "bad section option %s "
			       "(only rid=NAME is known)", tok[i]);
			p->arg = p->rid = NULL;
			return true;
		}
		p->rid = bav_pool_strdup(p->rules->pool, tok[i] + 4);
	}
	p->table = sec;
	return true;
}

static void parse_regex_rule(struct parser *p, unsigned int line, char *s)
{
	const char *mark = NULL;
	struct rule_entry *e;
	pcre2_code *re;
	bool lazy;
	size_t n;

	if (s[0] == '{' && (n = strspn(s + 1, "abcdefghijklmnopqrstuvwxyz"
				       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				       "_-.")) > 0 && s[n + 1] == '}') {
		s[n + 1] = '\0';
		mark = s + 1;
		s += n + 2;
	}
	if (*s == '\0') {
		report(p, line, false, "empty pattern");
		return;
	}
	if ((re = regex_compile(p, line, s, &lazy)) == NULL && !lazy)
		return;
	e = entry_add(p, line, s);
	e->re = re;
	e->has_re = true;
	if (mark != NULL)
		e->pub.mark = bav_pool_strdup(p->rules->pool, mark);
}

static bool status_code_valid(const char *s)
{
	unsigned int parts = 0, digits;

	if (*s != '2' && *s != '4' && *s != '5')
		return false;
	for (;;) {
		for (digits = 0; *s >= '0' && *s <= '9'; s++)
			digits++;
		if (digits == 0 || digits > 3 || ++parts > 3)
			return false;
		if (*s == '\0')
			return true;
		if (*s++ != '.')
			return false;
	}
}

static void parse_status_rule(struct parser *p, unsigned int line, char *s)
{
	char *code, *reason, *extra, *save = NULL;
	struct rule_entry *e;
	const char *r;

	code = strtok_r(s, " \t", &save);
	reason = strtok_r(NULL, " \t", &save);
	extra = strtok_r(NULL, " \t", &save);
	if (reason == NULL || extra != NULL) {
		report(p, line, false, "[status] line must be CODE REASON");
		return;
	}
	if (!status_code_valid(code)) {
		report(p, line, false, "bad status code %s", code);
		return;
	}
	if ((r = reason_lookup(reason)) == NULL) {
		report(p, line, false, "unknown reason %s", reason);
		return;
	}
	e = entry_add(p, line, code);
	e->pub.arg = r;
	e->code_len = strlen(code);
}

/* OpenEMM numeric code: "511", or "5.1.1" with the dots dropped. */
static int detail_code_parse(const char *s)
{
	int code = 0, digits = 0;

	if (*s < '1' || *s > '9')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s == '.' && s[1] >= '0' && s[1] <= '9')
			continue;
		if (*s < '0' || *s > '9' || ++digits > 6)
			return -1;
		code = code * 10 + (*s - '0');
	}
	return code;
}

static void parse_detail_rule(struct parser *p, unsigned int line, char *s)
{
	char *code_s, *detail_s, *end;
	struct rule_entry *e;
	pcre2_code *re = NULL;
	bool lazy = false;
	int code, i, ok = 0;
	long detail;

	code_s = s;
	s += strcspn(s, " \t");
	if (*s == '\0') {
		report(p, line, false, "[detail] line must be CODE DETAIL "
		       "[pattern]");
		return;
	}
	*s++ = '\0';
	detail_s = s + strspn(s, " \t");
	s = detail_s + strcspn(detail_s, " \t");
	if (*s != '\0') {
		*s++ = '\0';
		s += strspn(s, " \t");
	}
	if ((code = detail_code_parse(code_s)) < 0) {
		report(p, line, false, "bad code %s", code_s);
		return;
	}
	detail = strtol(detail_s, &end, 10);
	for (i = 0; i < (int)(sizeof(detail_codes) / sizeof(*detail_codes));
	     i++)
		ok |= detail == detail_codes[i];
	if (*detail_s == '\0' || *end != '\0' || !ok) {
		report(p, line, false, "bad detail %s (one of 0 100 200 400 "
		       "410 420 510 511 512 513)", detail_s);
		return;
	}
	if (*s != '\0' && (re = regex_compile(p, line, s, &lazy)) == NULL &&
	    !lazy)
		return;
	e = entry_add(p, line, *s != '\0' ? s : NULL);
	e->re = re;
	e->has_re = *s != '\0';
	e->code = code;
	e->detail = (int)detail;
	e->pub.arg = bav_pool_printf(p->rules->pool, "%ld", detail);
}

/* One logical line (continuations joined), first physical line number. */
static void parse_logical(struct parser *p, unsigned int line, char *s)
{
	if (parse_header(p, line, s))
		return;
	switch (p->table) {
	case SECTION_NONE:
		report(p, line, false, "rule before the first [section]");
		p->table = SECTION_SKIP;
		break;
	case SECTION_SKIP:
		break;
	case RULES_TABLE_STATUS:
		parse_status_rule(p, line, s);
		break;
	case RULES_TABLE_DETAIL:
		parse_detail_rule(p, line, s);
		break;
	default:
		parse_regex_rule(p, line, s);
		break;
	}
}

static void flush(struct parser *p, struct bav_buf *cur, unsigned int line)
{
	if (cur->len > 0)
		parse_logical(p, line, cur->data);
	bav_buf_reset(cur);
}

static size_t span_blanks(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* Parse text[0..len) as one file (or several "#file" parts). */
static void parse_text(struct parser *p, const char *text, size_t len)
{
	struct bav_buf cur = { 0 };
	const char *end = text + len, *nl, *s;
	unsigned int lineno = 0, cur_line = 0;
	size_t n, blanks;

	p->table = SECTION_NONE;
	p->arg = p->rid = NULL;
	for (s = text; s < end && (p->cb != NULL || p->errors == 0);
	     s = nl + 1) {
		if ((nl = memchr(s, '\n', end - s)) == NULL)
			nl = end;
		n = nl - s;
		lineno++;
		if (p->embedded && n > 6 && memcmp(s, "#file ", 6) == 0) {
			flush(p, &cur, cur_line);
			p->name = bav_pool_strndup(p->rules->pool, s + 6, n - 6);
			p->file++;
			p->table = SECTION_NONE;
			p->arg = p->rid = NULL;
			lineno = 0;
			continue;
		}
		if (memchr(s, '\0', n) != NULL) {
			report(p, lineno, false, "NUL byte in rule file");
			continue;
		}
		while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' ||
				 s[n - 1] == '\t'))
			n--;
		blanks = span_blanks(s, n);
		if (blanks == n || s[blanks] == '#')
			continue;	/* blank or comment */
		if (blanks > 0) {
			if (cur.len == 0) {
				report(p, lineno, false, "continuation line "
				       "without a rule before it");
				continue;
			}
			bav_buf_append(&cur, s + blanks, n - blanks);
			continue;
		}
		flush(p, &cur, cur_line);
		bav_buf_append(&cur, s, n);
		cur_line = lineno;
		if (s[0] == '[' && s[n - 1] == ']')
			flush(p, &cur, cur_line);	/* header: no continuation */
	}
	if (p->cb != NULL || p->errors == 0)
		flush(p, &cur, cur_line);
	bav_buf_free(&cur);
}

static struct bav_rules *rules_new(void)
{
	struct bav_rules *rules = bav_xcalloc(1, sizeof(*rules));

	rules->pool = bav_pool_new(4096);
	rules->mctx = pcre2_match_context_create(NULL);
	if (rules->mctx == NULL)
		bav_xrealloc(NULL, (size_t)-1);	/* OOM hook */
	pcre2_set_match_limit(rules->mctx, RULES_MATCH_LIMIT);
	pcre2_set_depth_limit(rules->mctx, RULES_DEPTH_LIMIT);
	pcre2_set_heap_limit(rules->mctx, RULES_HEAP_LIMIT_KIB);
	pthread_mutex_init(&rules->jit_lock, NULL);
	/* PCRE2's JIT code reads memory valgrind calls uninitialised */
	rules->no_jit = RUNNING_ON_VALGRIND != 0;
	return rules;
}

void bav_rules_free(struct bav_rules **rulesp)
{
	struct bav_rules *rules = *rulesp;
	unsigned int t, i;

	if (rules == NULL)
		return;
	*rulesp = NULL;
	for (t = 0; t < RULES_TABLE_COUNT; t++) {
		for (i = 0; i < rules->tables[t].n; i++) {
			pcre2_code_free(rules->tables[t].v[i].re);
			pcre2_code_free(rules->tables[t].v[i].jit);
		}
		bav_rules_prefilter_free(&rules->tables[t]);
		free(rules->tables[t].v);
	}
	pcre2_match_context_free(rules->mctx);
	pthread_mutex_destroy(&rules->jit_lock);
	bav_pool_free(&rules->pool);
	free(rules);
}

/* rid rules first, then by file (later first), then in file order. */
static int entry_cmp(const void *a, const void *b)
{
	const struct rule_entry *x = a, *y = b;
	int xg = x->pub.rid == NULL, yg = y->pub.rid == NULL;

	if (xg != yg)
		return xg - yg;
	if (x->file != y->file)
		return x->file > y->file ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void rules_finish(struct bav_rules *rules)
{
	struct rule_table *t;
	unsigned int i;

	for (t = rules->tables; t < rules->tables + RULES_TABLE_COUNT; t++) {
		if (t->n > 1)
			qsort(t->v, t->n, sizeof(*t->v), entry_cmp);
		for (i = 0; i < t->n && t->v[i].pub.rid != NULL; i++)
			;
		t->nrid = i;
	}
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL && slash[1] != '\0' ? slash + 1 : path;
}

static void parse_one(struct parser *p, const char *name, const char *text,
		      size_t len, bool embedded)
{
	p->name = base_name(name);
	p->embedded = embedded;
	p->file++;
	parse_text(p, text, len);
}

static int read_file(const char *path, struct bav_buf *out, char **error_r)
{
	char tmp[8192];
	size_t n;
	FILE *f;
	int err;

	if ((f = fopen(path, "r")) == NULL)
		goto fail;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		bav_buf_append(out, tmp, n);
	if (ferror(f)) {
		err = errno;
		fclose(f);
		errno = err;
		goto fail;
	}
	fclose(f);
	if (out->data == NULL)
		bav_buf_append(out, "", 0);
	return 0;
fail:
	err = errno;
	{
		struct bav_buf b = { 0 };

		bav_buf_printf(&b, "%s: cannot read: %s", path, strerror(err));
		*error_r = bav_buf_steal(&b);
	}
	return -1;
}

static int load_finish(struct parser *p, struct bav_rules **rules_r,
		       char **error_r)
{
	if (p->errors > 0) {
		bav_rules_free(&p->rules);
		*error_r = p->first_error;
		return BAV_ECONFIG;
	}
	rules_finish(p->rules);
	*rules_r = p->rules;
	return BAV_OK;
}

int bav_rules_load(const char *const *paths, size_t npaths,
		   bool include_default, struct bav_rules **rules_r,
		   char **error_r)
{
	struct parser p = { 0 };
	struct bav_buf text = { 0 };
	size_t i;

	*rules_r = NULL;
	*error_r = NULL;
	p.rules = rules_new();
	if (include_default)
		parse_one(&p, "default", bav_default_rules,
			  strlen(bav_default_rules), true);
	for (i = 0; i < npaths && p.errors == 0; i++) {
		if (read_file(paths[i], &text, error_r) < 0) {
			bav_rules_free(&p.rules);
			bav_buf_free(&text);
			return BAV_ECONFIG;
		}
		parse_one(&p, paths[i], text.data, text.len, false);
		bav_buf_reset(&text);
	}
	bav_buf_free(&text);
	return load_finish(&p, rules_r, error_r);
}

static int load_string(const char *name, const char *text, bool embedded,
		       bool include_default, struct bav_rules **rules_r,
		       char **error_r)
{
	struct parser p = { 0 };

	*rules_r = NULL;
	*error_r = NULL;
	p.rules = rules_new();
	if (include_default)
		parse_one(&p, "default", bav_default_rules,
			  strlen(bav_default_rules), true);
	if (p.errors == 0)
		parse_one(&p, name, text, strlen(text), embedded);
	return load_finish(&p, rules_r, error_r);
}

int bav_rules_load_string(const char *name, const char *text,
			  bool include_default, struct bav_rules **rules_r,
			  char **error_r)
{
	return load_string(name, text, false, include_default, rules_r,
			   error_r);
}

int bav_rules_check(const char *path, bav_rules_report_t *cb, void *ctx)
{
	struct parser p = { 0 };
	struct bav_buf text = { 0 };
	char *error;

	if (read_file(path, &text, &error) < 0) {
		cb(ctx, error);
		free(error);
		return -1;
	}
	p.rules = rules_new();
	p.cb = cb;
	p.ctx = ctx;
	parse_one(&p, path, text.data, text.len, false);
	bav_buf_free(&text);
	bav_rules_free(&p.rules);
	return (int)p.errors;
}

static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static struct bav_rules *default_rules;	/* written once, under pthread_once */

static void default_load(void)
{
	char *error = NULL;

	if (load_string("default", bav_default_rules, true, false,
			&default_rules, &error) < 0)
		free(error);
}

const struct bav_rules *bav_rules_default(void)
{
	pthread_once(&default_once, default_load);
	return default_rules;
}
