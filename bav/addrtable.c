/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	addrtable - the bav.conf address table: load once, look up in O(1)
 * SYNOPSIS
 *	#include "bav_addrtable.h"
 *
 *	int bav_addrtable_load(const char *path,
 *		struct bav_addrtable **table_r, char **error_r)
 *	int bav_addrtable_load_mem(const char *name, const char *text,
 *		size_t len, struct bav_addrtable **table_r, char **error_r)
 *	struct bav_addrtable *bav_addrtable_ref(struct bav_addrtable *table)
 *	void bav_addrtable_unref(struct bav_addrtable **table)
 *	void bav_addrtable_lookup(const struct bav_addrtable *table,
 *		const char *rcpt, struct bav_addr_result *result_r)
 *	int bav_addrtable_changed(const struct bav_addrtable *table,
 *		const char *path)
 * DESCRIPTION
 *	The file format is OpenEMM's bav.conf (emm-mailloop-spec section 3):
 *	one "key<white space>value" entry per line, '#' comments and empty
 *	lines ignored, leading white space skipped. Keys are an exact
 *	address (local@domain) or @domain and compare case-insensitively;
 *	keys without '@' are never matched and are skipped. Values are
 *	accept, accept:OPTIONS, reject[:...], tempfail[:...] or
 *	alias:ADDRESS; a later line with the same key replaces an earlier
 *	one. Trailing white space and CR of a value are dropped.
 *
 *	Stricter than the original (which silently treats anything as
 *	"accept"): a key without value, an unknown action, an empty alias
 *	target, a NUL byte, a last line without newline (a truncated file)
 *	and a file without any entry are errors, so a broken or partial
 *	file never replaces a good table.
 *
 *	Lookup follows the original milter exactly: the RCPT argument is cut
 *	at the first '>' and loses one leading '<'; the address, then its
 *	@domain are tried; an alias: is followed one level (to the target,
 *	else the target's @domain; an alias found there means accept without
 *	options); with no entry the result is reject when the domain is
 *	managed (it appears in any key) or missing, else accept with
 *	"rid=relay".
 *
 *	Representation: the file is read into one buffer that is edited in
 *	place (keys lower-cased, fields NUL-terminated); entries and managed
 *	domains live in arrays indexed by open-addressing hash tables of at
 *	least twice their size, so load is linear and a lookup costs two or
 *	three probes whatever the table size.
 *
 *	Ownership: the table is immutable after loading and shared by any
 *	number of threads; every holder owns one reference, the last
 *	bav_addrtable_unref() frees it. Strings in a bav_addr_result belong
 *	to the table.
 * DIAGNOSTICS
 *	Loaders return BAV_OK, BAV_ECONFIG ("path:line: why") or BAV_ETEMP
 *	(the file can't be opened or read) with a malloc'ed *error_r; they
 *	never exit or print. Out of memory goes to the OOM hook.
 * SEE ALSO
 *	emm-mailloop-spec.md sections 3 and 8.4, bav-milter(8)
 */
#include "bav_private.h"
#include "bav_addrtable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum verb { V_ACCEPT, V_REJECT, V_TEMPFAIL, V_ALIAS };

struct entry {
	const char *key;	/* lower-case, NUL-terminated */
	const char *arg;	/* accept options or alias target, "" if none */
	uint32_t keylen, hash;
	enum verb verb;
};

struct domain {
	const char *name;	/* lower-case, not NUL-terminated */
	uint32_t len, hash;
};

struct bav_addrtable {
	unsigned int refs;
	char *text;			/* the file, edited in place */
	struct entry *entries;
	uint32_t nentries;
	uint32_t *slots;		/* entry index + 1, 0 = empty */
	uint32_t mask;
	struct domain *domains;
	uint32_t ndomains;
	uint32_t *dslots;
	uint32_t dmask;
	bool have_stat;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

static inline unsigned char lc(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* FNV-1a over the lower-cased bytes. */
static uint32_t hash_ci(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= lc((unsigned char)s[i]);
		h *= 16777619u;
	}
	return h;
}

/* key is lower-case; s any case. */
static bool eq_ci(const char *key, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)key[i] != lc((unsigned char)s[i]))
			return false;
	return true;
}

static uint32_t table_mask(uint32_t n)
{
	uint32_t cap = 16;

	while (cap < 2 * n + 1) /* @UNSAFE: n < 2^31 checked by the caller */
		cap <<= 1;
	return cap - 1;
}

static const struct entry *find(const struct bav_addrtable *t, const char *s,
				size_t len)
{
	uint32_t h = hash_ci(s, len), i, idx;

	for (i = h & t->mask; (idx = t->slots[i]) != 0; i = (i + 1) & t->mask) {
		const struct entry *e = &t->entries[idx - 1];

		if (e->hash == h && e->keylen == len && eq_ci(e->key, s, len))
			return e;
	}
	return NULL;
}

static bool domain_known(const struct bav_addrtable *t, const char *s,
			 size_t len)
{
	uint32_t h = hash_ci(s, len), i, idx;

	for (i = h & t->dmask; (idx = t->dslots[i]) != 0;
	     i = (i + 1) & t->dmask) {
		const struct domain *d = &t->domains[idx - 1];

		if (d->hash == h && d->len == len && eq_ci(d->name, s, len))
			return true;
	}
	return false;
}

/* Insert or replace (last line wins). */
static void insert_entry(struct bav_addrtable *t, const struct entry *ne)
{
	uint32_t i, idx;

	for (i = ne->hash & t->mask; (idx = t->slots[i]) != 0;
	     i = (i + 1) & t->mask) {
		struct entry *e = &t->entries[idx - 1];

		if (e->hash == ne->hash && e->keylen == ne->keylen &&
		    memcmp(e->key, ne->key, ne->keylen) == 0) {
			*e = *ne;
			return;
		}
	}
	t->entries[t->nentries] = *ne;
	t->slots[i] = ++t->nentries;
}

static void insert_domain(struct bav_addrtable *t, const char *name,
			  uint32_t len)
{
	uint32_t h = hash_ci(name, len), i, idx;

	for (i = h & t->dmask; (idx = t->dslots[i]) != 0;
	     i = (i + 1) & t->dmask) {
		const struct domain *d = &t->domains[idx - 1];

		if (d->hash == h && d->len == len &&
		    memcmp(d->name, name, len) == 0)
			return;
	}
	t->domains[t->ndomains].name = name;
	t->domains[t->ndomains].len = len;
	t->domains[t->ndomains].hash = h;
	t->dslots[i] = ++t->ndomains;
}

static int fail(char **error_r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char **error_r, int err, const char *fmt, ...)
{
	struct bav_buf b = { 0 };
	va_list ap;
	char tmp[512];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	bav_buf_append(&b, tmp, strlen(tmp));
	*error_r = bav_buf_steal(&b);
	return err;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Parse the value of one line into e; NULL or the reason it is bad. */
static const char *parse_value(char *v, struct entry *e)
{
	char *colon = strchr(v, ':');
	size_t vlen = colon != NULL ? (size_t)(colon - v) : strlen(v);
	const char *arg = colon != NULL ? colon + 1 : "";

	e->arg = "";
	if (vlen == 6 && strncasecmp(v, "accept", 6) == 0) {
		e->verb = V_ACCEPT;
		e->arg = arg;
	} else if (vlen == 6 && strncasecmp(v, "reject", 6) == 0) {
		e->verb = V_REJECT;
	} else if (vlen == 8 && strncasecmp(v, "tempfail", 8) == 0) {
		e->verb = V_TEMPFAIL;
	} else if (vlen == 5 && strncasecmp(v, "alias", 5) == 0) {
		e->verb = V_ALIAS;
		e->arg = arg;
		if (*arg == '\0')
			return "alias: without a target address";
		if (strpbrk(arg, " \t") != NULL)
			return "white space in an alias target";
	} else {
		return "unknown action (expected accept[:options], reject, "
		       "tempfail or alias:ADDRESS)";
	}
	return NULL;
}

/* Parse one line (NUL-terminated, no newline). Returns NULL (entry in
   *e, or e->key NULL for a comment/empty/keyless line) or why it is bad. */
static const char *parse_line(char *line, struct entry *e)
{
	char *key, *v, *end;

	e->key = NULL;
	while (is_blank(*line))
		line++;
	end = line + strlen(line);
	while (end > line && (is_blank(end[-1]) || end[-1] == '\r'))
		*--end = '\0';
	if (*line == '\0' || *line == '#')
		return NULL;
	key = line;
	for (v = key; *v != '\0' && !is_blank(*v); v++)
		;
	if (*v == '\0')
		return "key without a value";
	*v++ = '\0';
	while (is_blank(*v))
		v++;
	if (strchr(key, '@') == NULL)
		return NULL; /* never matched by a lookup (spec 3.1) */
	bav_str_lower(key);
	e->key = key;
	e->keylen = (uint32_t)strlen(key);
	e->hash = hash_ci(key, e->keylen);
	return parse_value(v, e);
}

static int parse(struct bav_addrtable *t, const char *name, size_t len,
		 char **error_r)
{
	char *p = t->text, *end = t->text + len, *nl;
	uint32_t nlines = 0, lineno = 0, i;

	for (nl = p; nl < end; nl++)
		if (*nl == '\n')
			nlines++;
	if (len > 0 && end[-1] != '\n')
		nlines++;
	if (nlines >= 0x7fffffffu)
		return fail(error_r, BAV_ECONFIG, "%s: too many lines", name);
	t->mask = table_mask(nlines);
	t->slots = bav_xcalloc((size_t)t->mask + 1, sizeof(*t->slots));
	t->entries = bav_xcalloc(nlines + 1, sizeof(*t->entries));

	for (; p < end; p = nl + 1) {
		struct entry e;
		const char *why;

		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return fail(error_r, BAV_ECONFIG,
				    "%s:%u: no newline at the end of the last "
				    "line (truncated file?)", name, lineno);
		*nl = '\0';
		if (strlen(p) != (size_t)(nl - p))
			return fail(error_r, BAV_ECONFIG, "%s:%u: NUL byte",
				    name, lineno);
		why = parse_line(p, &e);
		if (why != NULL)
			return fail(error_r, BAV_ECONFIG, "%s:%u: %s", name,
				    lineno, why);
		if (e.key != NULL)
			insert_entry(t, &e);
	}
	if (t->nentries == 0)
		return fail(error_r, BAV_ECONFIG,
			    "%s: no address entries (an empty table would "
			    "accept every domain)", name);

	t->dmask = table_mask(t->nentries);
	t->dslots = bav_xcalloc((size_t)t->dmask + 1, sizeof(*t->dslots));
	t->domains = bav_xcalloc(t->nentries, sizeof(*t->domains));
	for (i = 0; i < t->nentries; i++) {
		const char *at = strchr(t->entries[i].key, '@');
		uint32_t dlen = t->entries[i].keylen -
				(uint32_t)(at + 1 - t->entries[i].key);

		if (dlen > 0)
			insert_domain(t, at + 1, dlen);
	}
	return BAV_OK;
}

static void table_free(struct bav_addrtable *t)
{
	free(t->text);
	free(t->entries);
	free(t->slots);
	free(t->domains);
	free(t->dslots);
	free(t);
}

/* Takes ownership of text (len bytes + 1 spare for a NUL). */
static int load_text(const char *name, char *text, size_t len,
		     struct bav_addrtable **table_r, char **error_r)
{
	struct bav_addrtable *t = bav_xcalloc(1, sizeof(*t));
	int ret;

	t->refs = 1;
	t->text = text;
	text[len] = '\0';
	ret = parse(t, name, len, error_r);
	if (ret != BAV_OK) {
		table_free(t);
		*table_r = NULL;
		return ret;
	}
	*table_r = t;
	return BAV_OK;
}

int bav_addrtable_load_mem(const char *name, const char *text, size_t len,
			   struct bav_addrtable **table_r, char **error_r)
{
	char *copy = bav_xcalloc(1, len + 1);

	memcpy(copy, text, len);
	return load_text(name, copy, len, table_r, error_r);
}

int bav_addrtable_load(const char *path, struct bav_addrtable **table_r,
		       char **error_r)
{
	struct stat st;
	size_t got = 0;
	char *text;
	int fd, ret;

	*table_r = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(error_r, BAV_ETEMP, "%s: %s", path,
			    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = fail(error_r, BAV_ETEMP, "%s: %s", path,
			   S_ISREG(st.st_mode) ? strerror(errno) :
			   "not a regular file");
		close(fd);
		return ret;
	}
	text = bav_xcalloc(1, (size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);

		if (n <= 0) {
			ret = fail(error_r, BAV_ETEMP, "%s: read: %s", path,
				   n == 0 ? "file shrank while reading" :
				   strerror(errno));
			close(fd);
			free(text);
			return ret;
		}
		got += (size_t)n;
	}
	close(fd);
	ret = load_text(path, text, got, table_r, error_r);
	if (ret == BAV_OK) {
		(*table_r)->have_stat = true;
		(*table_r)->dev = st.st_dev;
		(*table_r)->ino = st.st_ino;
		(*table_r)->size = st.st_size;
		(*table_r)->mtime = st.st_mtim;
	}
	return ret;
}

struct bav_addrtable *bav_addrtable_ref(struct bav_addrtable *table)
{
	__atomic_add_fetch(&table->refs, 1, __ATOMIC_RELAXED);
	return table;
}

void bav_addrtable_unref(struct bav_addrtable **table)
{
	struct bav_addrtable *t = *table;

	*table = NULL;
	if (t != NULL && __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0)
		table_free(t);
}

size_t bav_addrtable_count(const struct bav_addrtable *table)
{
	return table->nentries;
}

size_t bav_addrtable_domain_count(const struct bav_addrtable *table)
{
	return table->ndomains;
}

int bav_addrtable_changed(const struct bav_addrtable *table, const char *path)
{
	struct stat st;

	if (!table->have_stat)
		return 0;
	if (stat(path, &st) < 0)
		return 1;
	return st.st_dev != table->dev || st.st_ino != table->ino ||
	       st.st_size != table->size ||
	       st.st_mtim.tv_sec != table->mtime.tv_sec ||
	       st.st_mtim.tv_nsec != table->mtime.tv_nsec;
}

/* Address, else its @domain (when it has a local part). */
static const struct entry *find_addr(const struct bav_addrtable *t,
				     const char *a, size_t len, bool *domain_r)
{
	const struct entry *e = find(t, a, len);
	const char *at;

	*domain_r = false;
	if (e != NULL || len == 0 || a[0] == '@')
		return e;
	at = memchr(a, '@', len);
	if (at == NULL)
		return NULL;
	*domain_r = true;
	return find(t, at, len - (size_t)(at - a));
}

static void set_result(const struct entry *e, enum bav_addr_how how,
		       struct bav_addr_result *r)
{
	r->how = how;
	r->key = e->key;
	r->options = "";
	switch (e->verb) {
	case V_REJECT:
		r->verb = BAV_ADDR_REJECT;
		break;
	case V_TEMPFAIL:
		r->verb = BAV_ADDR_TEMPFAIL;
		break;
	case V_ACCEPT:
		r->options = e->arg;
		/* fall through */
	case V_ALIAS:	/* second-level alias: accept without options */
		r->verb = BAV_ADDR_ACCEPT;
		break;
	}
}

void bav_addrtable_lookup(const struct bav_addrtable *table, const char *rcpt,
			  struct bav_addr_result *result_r)
{
	const char *a = rcpt[0] == '<' ? rcpt + 1 : rcpt, *at;
	size_t len = strcspn(a, ">");
	const struct entry *e;
	bool domain;

	e = find_addr(table, a, len, &domain);
	if (e != NULL && e->verb == V_ALIAS) {
		a = e->arg;
		len = strlen(a);
		e = find_addr(table, a, len, &domain);
		if (e != NULL) {
			set_result(e, BAV_ADDR_ALIAS, result_r);
			return;
		}
	} else if (e != NULL) {
		set_result(e, domain ? BAV_ADDR_DOMAIN : BAV_ADDR_EXACT,
			   result_r);
		return;
	}
	/* nothing found for a (the recipient or the alias target) */
	result_r->key = "";
	result_r->options = "";
	at = memchr(a, '@', len);
	if (at == NULL || at + 1 == a + len ||
	    domain_known(table, at + 1, len - (size_t)(at + 1 - a))) {
		result_r->verb = BAV_ADDR_REJECT;
		result_r->how = BAV_ADDR_UNKNOWN;
	} else {
		result_r->verb = BAV_ADDR_ACCEPT;
		result_r->how = BAV_ADDR_RELAY;
		result_r->options = "rid=relay";
	}
}

const char *bav_addr_verb_name(enum bav_addr_verb verb)
{
	switch (verb) {
	case BAV_ADDR_ACCEPT:
		return "accept";
	case BAV_ADDR_REJECT:
		return "reject";
	case BAV_ADDR_TEMPFAIL:
		return "tempfail";
	}
	return "?";
}

const char *bav_addr_how_name(enum bav_addr_how how)
{
	switch (how) {
	case BAV_ADDR_EXACT:
		return "address";
	case BAV_ADDR_DOMAIN:
		return "domain";
	case BAV_ADDR_ALIAS:
		return "alias";
	case BAV_ADDR_UNKNOWN:
		return "unknown";
	case BAV_ADDR_RELAY:
		return "relay";
	}
	return "?";
}
