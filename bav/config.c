/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	config - main.cf reader: Postfix name = value syntax, typed and
 *	bounded keys, $name expansion
 * SYNOPSIS
 *	#include "bav_config.h"
 *
 *	int bav_config_load(const char *path, bool must_exist,
 *			    struct bav_config **config_r, const char **error_r)
 *	int bav_config_parse(const char *name, const char *text, size_t len,
 *			     struct bav_config **config_r, const char **error_r)
 *	void bav_config_free(struct bav_config **config)
 *	const char *bav_config_get(const struct bav_config *config,
 *				   const char *name)
 *	unsigned long long bav_config_get_number(const struct bav_config *,
 *						 const char *name)
 * DESCRIPTION
 *	The syntax is Postfix main.cf's: a logical line "name = value"
 *	starts in column one; a line that starts with white space continues
 *	it (joined with one space); empty lines, white-space-only lines and
 *	lines whose first non-blank character is "#" are ignored anywhere.
 *	White space around name, "=" and value is dropped. A later line
 *	for the same name overrides an earlier one (with a warning).
 *
 *	Values may name other parameters as $name, ${name} or $(name) ("$$"
 *	is one "$"); they are expanded after the whole file is read, so
 *	order does not matter, at most 16 levels deep. Parameters not in
 *	the key table are kept (they may be referenced) and reported as a
 *	warning, like postconf(1) does; a bad line, a value of the wrong
 *	type or out of bounds, an undefined $name, a NUL byte or a line
 *	above 64 KiB is an error. Each problem is kept as "file:line: why";
 *	a refused value leaves the key at its default.
 *
 *	Ownership: the struct bav_config holds a pool with everything it
 *	returns; bav_config_free() releases it and NULLs the pointer. It is
 *	read-only after loading (see bav_config_secret() for the one
 *	exception).
 * DIAGNOSTICS
 *	BAV_OK, BAV_ECONFIG (problems, *error_r the first error) or
 *	BAV_ETEMP (the file could not be read); *config_r is always set.
 *	Never exits, never prints.
 * SEE ALSO
 *	bav-main.cf(5), postconf(5), config_keys.c, config_secret.c
 */
#include "bav_private.h"
#include "bav_config.h"
#include "config_private.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_LINE (64 * 1024)
#define MAX_FILE (4 * 1024 * 1024)
#define MAX_DEPTH 16
#define MAX_UNKNOWN 10000

struct problem {
	struct problem *next;
	const char *text;
	bool fatal;
};

struct unknown {
	struct unknown *next;
	const char *name, *raw;
	unsigned int line;
};

struct value {
	const char *raw, *value;	/* value: expanded */
	unsigned int line;		/* 0: not set in the file */
	unsigned long long num;
};

struct bav_config {
	struct bav_pool *pool;
	const char *path, *name;	/* name: used in messages */
	const struct bav_config_key *keys;
	size_t nkeys;
	struct value *values;		/* one per key */
	struct unknown *unknown, **unknown_tail;
	size_t nunknown;
	struct problem *problems, **problems_tail;
	size_t nproblems;
	const char *first_error;
};

struct bav_pool *config_pool(struct bav_config *cf)
{
	return cf->pool;
}

static void problem(struct bav_config *cf, bool fatal, unsigned int line,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void problem(struct bav_config *cf, bool fatal, unsigned int line,
		    const char *fmt, ...)
{
	struct problem *p = bav_pool_alloc(cf->pool, sizeof(*p));
	struct bav_buf b = { 0 };
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (line > 0)
		bav_buf_printf(&b, "%s:%u: %s", cf->name, line,
			       msg != NULL ? msg : "?");
	else
		bav_buf_printf(&b, "%s: %s", cf->name, msg != NULL ? msg : "?");
	free(msg);
	p->text = bav_pool_strdup(cf->pool, b.data);
	bav_buf_free(&b);
	p->fatal = fatal;
	*cf->problems_tail = p;
	cf->problems_tail = &p->next;
	cf->nproblems++;
	if (fatal && cf->first_error == NULL)
		cf->first_error = p->text;
}

static struct bav_config *config_new(const char *name)
{
	struct bav_pool *pool = bav_pool_new(16384);
	struct bav_config *cf = bav_pool_alloc(pool, sizeof(*cf));

	cf->pool = pool;
	cf->name = bav_pool_strdup(pool, name);
	cf->path = "";
	cf->keys = bav_config_keys(&cf->nkeys);
	cf->values = bav_pool_alloc(pool, cf->nkeys * sizeof(*cf->values));
	cf->unknown_tail = &cf->unknown;
	cf->problems_tail = &cf->problems;
	return cf;
}

void bav_config_free(struct bav_config **config)
{
	struct bav_pool *pool;

	if (*config == NULL)
		return;
	pool = (*config)->pool;
	*config = NULL;
	bav_pool_free(&pool);
}

/* ---- numbers ------------------------------------------------------------ */

int bav_config_parse_number(enum bav_config_type type, const char *value,
			    unsigned long long *v_r, const char **error_r)
{
	unsigned long long v = 0, mult = 1;
	unsigned int base = type == BAV_CONFIG_MODE ? 8 : 10;
	const char *p = value;

	if (type == BAV_CONFIG_BOOL) {
		static const char *const yes[] = { "yes", "true", "on", "1" };
		static const char *const no[] = { "no", "false", "off", "0" };
		size_t i;

		for (i = 0; i < 4; i++) {
			if (strcasecmp(value, yes[i]) == 0) {
				*v_r = 1;
				return 0;
			}
			if (strcasecmp(value, no[i]) == 0) {
				*v_r = 0;
				return 0;
			}
		}
		*error_r = "not a boolean (yes or no)";
		return -1;
	}
	if (!isdigit((unsigned char)*p) || (base == 8 && (*p == '8' || *p == '9'))) {
		*error_r = base == 8 ? "not an octal mode" : "not a number";
		return -1;
	}
	for (; *p >= '0' && *p < (char)('0' + base); p++) {
		unsigned long long d = (unsigned long long)(*p - '0');

		if (v > (~0ULL - d) / base) {	/* @UNSAFE: v * base + d */
			*error_r = "number too large";
			return -1;
		}
		v = v * base + d;
	}
	if (type == BAV_CONFIG_TIME && *p != '\0' && p[1] == '\0') {
		switch (*p++) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 7 * 86400; break;
		default:
			*error_r = "bad time unit (s, m, h, d, w)";
			return -1;
		}
	} else if (type == BAV_CONFIG_SIZE && *p != '\0' && p[1] == '\0') {
		switch (*p++) {
		case 'k': case 'K': mult = 1024; break;
		case 'm': case 'M': mult = 1024 * 1024; break;
		case 'g': case 'G': mult = 1024 * 1024 * 1024; break;
		default:
			*error_r = "bad size unit (k, M, G)";
			return -1;
		}
	}
	if (*p != '\0') {
		*error_r = type == BAV_CONFIG_MODE ? "not an octal mode" :
			type == BAV_CONFIG_TIME ? "not a time (N, Ns, Nm, Nh, Nd)" :
			type == BAV_CONFIG_SIZE ? "not a size (N, Nk, NM, NG)" :
			"not a number";
		return -1;
	}
	if (v > ~0ULL / mult) {	/* @UNSAFE: overflow of v * mult */
		*error_r = "number too large";
		return -1;
	}
	*v_r = v * mult;
	return 0;
}

/* ---- expansion ---------------------------------------------------------- */

static const char *raw_of(const struct bav_config *cf, const char *name,
			  size_t len)
{
	const struct unknown *u;
	size_t i;

	for (i = 0; i < cf->nkeys; i++)
		if (strlen(cf->keys[i].name) == len &&
		    memcmp(cf->keys[i].name, name, len) == 0)
			return cf->values[i].raw;
	for (u = cf->unknown; u != NULL; u = u->next)
		if (strlen(u->name) == len && memcmp(u->name, name, len) == 0)
			return u->raw;
	return NULL;
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Append raw with its $names expanded to b: 0, or -1 with *why set. */
static int expand(const struct bav_config *cf, const char *raw,
		  unsigned int depth, struct bav_buf *b, const char **why,
		  char *name_buf, size_t name_size)
{
	const char *p = raw, *name, *ref;
	size_t len;
	char close;

	if (depth > MAX_DEPTH) {
		*why = "parameter expansion nested too deep (a loop?)";
		return -1;
	}
	while (*p != '\0') {
		const char *dollar = strchr(p, '$');

		if (dollar == NULL) {
			bav_buf_append(b, p, strlen(p));
			break;
		}
		bav_buf_append(b, p, (size_t)(dollar - p));
		p = dollar + 1;
		if (*p == '$') {
			bav_buf_putc(b, '$');
			p++;
			continue;
		}
		close = *p == '{' ? '}' : *p == '(' ? ')' : '\0';
		if (close != '\0')
			p++;
		name = p;
		while (name_char(*p))
			p++;
		len = (size_t)(p - name);
		if (len == 0 || (close != '\0' && *p != close)) {
			*why = "bad $name reference";
			return -1;
		}
		if (close != '\0')
			p++;
		snprintf(name_buf, name_size, "%.*s",
			 (int)(len > 200 ? 200 : len), name);
		if ((ref = raw_of(cf, name, len)) == NULL) {
			*why = "undefined parameter";
			return -1;
		}
		if (expand(cf, ref, depth + 1, b, why, name_buf,
			   name_size) < 0)
			return -1;
		if (b->len > MAX_LINE) {
			*why = "expanded value too long";
			return -1;
		}
	}
	return 0;
}

static bool in_choices(const char *choices, const char *v)
{
	size_t len = strlen(v);

	while (*choices != '\0') {
		size_t n = strcspn(choices, "|");

		if (n == len && strncmp(choices, v, len) == 0)
			return true;
		choices += n;
		if (*choices == '|')
			choices++;
	}
	return false;
}

/* Check the expanded value of key i: 0, or -1 with a problem recorded. */
static int check_value(struct bav_config *cf, size_t i, const char *v,
		       unsigned long long *num_r)
{
	const struct bav_config_key *k = &cf->keys[i];
	const char *why = NULL;
	unsigned int line = cf->values[i].line;

	switch (k->type) {
	case BAV_CONFIG_STRING:
		if (k->choices != NULL && !in_choices(k->choices, v)) {
			problem(cf, true, line, "%s: '%s' is not one of %s",
				k->name, v, k->choices);
			return -1;
		}
		return 0;
	case BAV_CONFIG_PATH:
		if (v[0] != '\0' && v[0] != '/') {
			problem(cf, true, line, "%s: '%s' is not an absolute "
				"path", k->name, v);
			return -1;
		}
		return 0;
	default:
		break;
	}
	if (bav_config_parse_number(k->type, v, num_r, &why) < 0) {
		problem(cf, true, line, "%s: '%s': %s", k->name, v, why);
		return -1;
	}
	if (k->type != BAV_CONFIG_BOOL && (*num_r < k->min || *num_r > k->max)) {
		if (k->type == BAV_CONFIG_MODE)
			problem(cf, true, line, "%s: '%s' is out of bounds "
				"(%04llo to %04llo)", k->name, v, k->min, k->max);
		else
			problem(cf, true, line, "%s: '%s' is out of bounds "
				"(%llu%s to %llu%s)", k->name, v, k->min,
				k->type == BAV_CONFIG_TIME ? "s" :
				k->type == BAV_CONFIG_SIZE ? " bytes" : "",
				k->max, k->type == BAV_CONFIG_TIME ? "s" :
				k->type == BAV_CONFIG_SIZE ? " bytes" : "");
		return -1;
	}
	return 0;
}

/* Expand and check key i: 0, or -1 (a problem recorded). */
static int resolve_one(struct bav_config *cf, size_t i)
{
	struct value *val = &cf->values[i];
	struct bav_buf b = { 0 };
	const char *why = NULL;
	char name[256] = "";
	unsigned long long num = 0;
	int ret = -1;

	bav_buf_append(&b, "", 0);
	if (expand(cf, val->raw, 0, &b, &why, name, sizeof(name)) < 0) {
		if (name[0] != '\0')
			problem(cf, true, val->line, "%s: %s: $%s",
				cf->keys[i].name, why, name);
		else
			problem(cf, true, val->line, "%s: %s",
				cf->keys[i].name, why);
	} else if (check_value(cf, i, b.data, &num) == 0) {
		val->value = bav_pool_strdup(cf->pool, b.data);
		val->num = num;
		ret = 0;
	}
	bav_buf_free(&b);
	return ret;
}

/* Expand and check every known key; a refused value falls back to the
   default (which is always good, see t/unit/test_config.c). */
static void resolve(struct bav_config *cf)
{
	size_t i;

	for (i = 0; i < cf->nkeys; i++) {
		struct value *val = &cf->values[i];

		if (resolve_one(cf, i) == 0)
			continue;
		if (val->line > 0) {	/* refused: back to the default */
			val->raw = cf->keys[i].default_value;
			val->line = 0;
			if (resolve_one(cf, i) == 0)
				continue;
		}
		val->value = "";	/* a broken default: never */
	}
}

/* ---- parsing -------------------------------------------------------------- */

static void set_param(struct bav_config *cf, unsigned int line,
		      const char *name, size_t nlen, const char *value)
{
	const struct bav_config_key *k;
	struct unknown *u;
	char *n = bav_pool_strndup(cf->pool, name, nlen);

	k = bav_config_key_find(n);
	if (k != NULL) {
		struct value *v = &cf->values[k - cf->keys];

		if (v->line > 0)
			problem(cf, false, line, "%s: overrides line %u", n,
				v->line);
		v->raw = bav_pool_strdup(cf->pool, value);
		v->line = line;
		return;
	}
	for (u = cf->unknown; u != NULL; u = u->next) {
		if (strcmp(u->name, n) == 0) {
			problem(cf, false, line, "%s: overrides line %u", n,
				u->line);
			u->raw = bav_pool_strdup(cf->pool, value);
			u->line = line;
			return;
		}
	}
	if (cf->nunknown >= MAX_UNKNOWN) {
		problem(cf, true, line, "too many unknown parameters");
		return;
	}
	problem(cf, false, line, "unknown parameter %s (ignored)", n);
	u = bav_pool_alloc(cf->pool, sizeof(*u));
	u->name = n;
	u->raw = bav_pool_strdup(cf->pool, value);
	u->line = line;
	*cf->unknown_tail = u;
	cf->unknown_tail = &u->next;
	cf->nunknown++;
}

/* One logical line (NUL-terminated, continuation lines joined). */
static void logical_line(struct bav_config *cf, unsigned int line,
			 char *text)
{
	char *p = text, *name = text, *value, *end;
	size_t nlen;

	while (name_char(*p))
		p++;
	nlen = (size_t)(p - name);
	p += strspn(p, " \t");
	if (nlen == 0 || *p != '=') {
		if (nlen == 0)
			problem(cf, true, line, "bad parameter name: "
				"expected name = value");
		else
			problem(cf, true, line, "missing '=' after "
				"parameter name %.*s", (int)(nlen > 200 ?
				200 : nlen), name);
		return;
	}
	value = p + 1;
	value += strspn(value, " \t");
	end = value + strlen(value);
	while (end > value && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	set_param(cf, line, name, nlen, value);
}

static bool blank_or_comment(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
		i++;
	return i == len || s[i] == '#';
}

static void parse_text(struct bav_config *cf, const char *text, size_t len)
{
	struct bav_buf cur = { 0 };
	unsigned int lineno = 0, start = 0;
	bool skip = false;		/* the current logical line is broken */
	size_t off = 0;

	while (off < len) {
		const char *s = text + off, *nl = memchr(s, '\n', len - off);
		size_t n = nl != NULL ? (size_t)(nl - s) : len - off;

		off += n + (nl != NULL);
		lineno++;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (blank_or_comment(s, n))
			continue;
		if (s[0] != ' ' && s[0] != '\t') {
			if (start > 0 && !skip)
				logical_line(cf, start, cur.data);
			bav_buf_reset(&cur);
			start = lineno;
			skip = false;
		} else if (start == 0) {
			problem(cf, true, lineno, "continuation line without "
				"a parameter before it");
			continue;
		} else {
			while (n > 0 && (*s == ' ' || *s == '\t')) {
				s++;
				n--;
			}
			bav_buf_putc(&cur, ' ');
		}
		if (skip)
			continue;
		if (memchr(s, '\0', n) != NULL) {
			problem(cf, true, lineno, "NUL byte in line");
			skip = true;
		} else if (cur.len + n > MAX_LINE) {
			problem(cf, true, start, "line longer than %d bytes",
				MAX_LINE);
			skip = true;
		} else {
			bav_buf_append(&cur, s, n);
		}
	}
	if (start > 0 && !skip)
		logical_line(cf, start, cur.data);
	bav_buf_free(&cur);
}

static int finish(struct bav_config *cf, const char **error_r)
{
	size_t i;

	for (i = 0; i < cf->nkeys; i++)
		if (cf->values[i].raw == NULL)
			cf->values[i].raw = cf->keys[i].default_value;
	resolve(cf);
	if (cf->first_error != NULL) {
		*error_r = cf->first_error;
		return BAV_ECONFIG;
	}
	return BAV_OK;
}

int bav_config_parse(const char *name, const char *text, size_t len,
		     struct bav_config **config_r, const char **error_r)
{
	struct bav_config *cf = config_new(name);

	*config_r = cf;
	cf->path = cf->name;
	if (len > MAX_FILE) {
		problem(cf, true, 0, "file larger than %d bytes", MAX_FILE);
		len = 0;
	}
	parse_text(cf, text, len);
	return finish(cf, error_r);
}

int bav_config_load(const char *path, bool must_exist,
		    struct bav_config **config_r, const char **error_r)
{
	struct bav_config *cf;
	char *text = NULL, errbuf[512];
	size_t len = 0;
	int ret;

	if (path == NULL)
		path = bav_config_default_path();
	cf = config_new(path);
	*config_r = cf;
	ret = config_read_file(path, false, MAX_FILE, &text, &len, errbuf,
			       sizeof(errbuf));
	if (ret == 0 && text == NULL && !must_exist)
		return finish(cf, error_r);	/* no file: the defaults */
	if (ret == 0 && text == NULL) {
		problem(cf, true, 0, "%s", strerror(ENOENT));
		ret = BAV_ECONFIG;
	} else if (ret < 0) {
		problem(cf, true, 0, "%s", errbuf);
	}
	if (ret < 0) {
		finish(cf, error_r);
		*error_r = cf->first_error;
		return ret;
	}
	cf->path = cf->name;
	parse_text(cf, text, len);
	free(text);
	return finish(cf, error_r);
}

/* ---- queries ------------------------------------------------------------ */

const char *bav_config_default_path(void)
{
	const char *env = getenv("BAV_CONFIG");

	if (env != NULL && env[0] != '\0')
		return env;
	return SYSCONFDIR "/bav/main.cf";
}

const char *bav_config_path(const struct bav_config *config)
{
	return config->path;
}

size_t bav_config_problem_count(const struct bav_config *config)
{
	return config->nproblems;
}

const char *bav_config_problem(const struct bav_config *config, size_t idx,
			       bool *fatal_r)
{
	const struct problem *p = config->problems;

	while (p != NULL && idx-- > 0)
		p = p->next;
	if (p == NULL)
		return NULL;
	if (fatal_r != NULL)
		*fatal_r = p->fatal;
	return p->text;
}

static const struct value *value_of(const struct bav_config *config,
				    const char *name)
{
	const struct bav_config_key *k = bav_config_key_find(name);

	return k != NULL ? &config->values[k - config->keys] : NULL;
}

const char *bav_config_get(const struct bav_config *config, const char *name)
{
	const struct value *v = value_of(config, name);

	return v != NULL ? v->value : NULL;
}

const char *bav_config_get_raw(const struct bav_config *config,
			       const char *name)
{
	const struct value *v = value_of(config, name);
	const struct unknown *u;

	if (v != NULL)
		return v->raw;
	for (u = config->unknown; u != NULL; u = u->next)
		if (strcmp(u->name, name) == 0)
			return u->raw;
	return NULL;
}

unsigned long long bav_config_get_number(const struct bav_config *config,
					 const char *name)
{
	const struct value *v = value_of(config, name);

	return v != NULL ? v->num : 0;
}

bool bav_config_is_set(const struct bav_config *config, const char *name)
{
	const struct value *v = value_of(config, name);
	const struct unknown *u;

	if (v != NULL)
		return v->line > 0;
	for (u = config->unknown; u != NULL; u = u->next)
		if (strcmp(u->name, name) == 0)
			return true;
	return false;
}

size_t bav_config_unknown_count(const struct bav_config *config)
{
	return config->nunknown;
}

const char *bav_config_unknown(const struct bav_config *config, size_t idx)
{
	const struct unknown *u = config->unknown;

	while (u != NULL && idx-- > 0)
		u = u->next;
	return u != NULL ? u->name : NULL;
}
