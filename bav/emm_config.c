/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	emm_config - the EMM configuration tables, cached per handle
 * SYNOPSIS
 *	#include "emm_private.h"
 *
 *	int emm_config_load(struct bav_store *store,
 *			    struct emm_config **cfg_r, const char **error_r)
 *	void emm_config_free(struct emm_config **cfg)
 *	const struct emm_company *emm_config_company(cfg, id)
 *	const struct emm_filter *emm_config_filter(cfg, rid)
 *	int emm_ruleset_parse(struct bav_pool *pool, const char *json,
 *			      struct emm_ruleset *rs)
 *	char *emm_rules_merge(struct bav_pool *pool,
 *			      const struct emm_ruleset *sets, unsigned int n,
 *			      long long company, long long rid)
 *	long long emm_unit_seconds(const char *s)
 * DESCRIPTION
 *	emm_config_load() reads company_tbl (status, secret_key,
 *	uid_version, mailtracking, mailloop_domain), mailloop_tbl (the
 *	filters: forward, autoresponder), bounce_rule_tbl, the active rows
 *	of bounce_translate_tbl, bounce_config_tbl "autoresponder" and the
 *	company_info_tbl keys bavd:inbox-enabled[rid] and
 *	bounce-mark-duplicate into one snapshot owned by *cfg_r (its pool).
 *	bounce_rule_tbl and company_info_tbl may be missing (no rules, no
 *	keys); company_tbl may not.
 *
 *	emm_rules_merge() is spec 5.6.2: for (C, R), with C replaced by the
 *	filter's company when 0 (the caller does that), the lists of (C,R),
 *	(0,R), (C,0), (0,0) are concatenated per section, each pair visited
 *	once, sections in the order they first appear. The result is
 *	bav-rules(5) legacy text: "[section]" lines and one pattern per
 *	line ({mark} prefixes kept), pool-owned.
 * DIAGNOSTICS
 *	emm_config_load(): 0 or the store's bav_err with *error_r (store
 *	owned). A definition that is not a JSON object of string lists is
 *	skipped. Never exits.
 * SEE ALSO
 *	emm-mailloop spec 5.6, 5.11.3, 5.12, 5.13, 7
 */
#include "emm_private.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *pdup(struct bav_pool *pool, const struct bav_store_value *v)
{
	return bav_pool_strdup(pool, v->s != NULL ? v->s : "");
}

static bool truthy(const char *s)
{
	return s != NULL && (strcasecmp(s, "true") == 0 ||
			     strcasecmp(s, "yes") == 0 ||
			     strcasecmp(s, "on") == 0 || atoi(s) > 0);
}

/* Grow an array of pool memory by one element; returns the new one. */
static void *grow(struct bav_pool *pool, void **arr, unsigned int *n,
		  size_t size)
{
	char *na = bav_pool_alloc(pool, (*n + 1) * size);

	if (*n > 0)
		memcpy(na, *arr, *n * size);
	memset(na + *n * size, 0, size);
	*arr = na;
	return na + (*n)++ * size;
}

static int company_row(void *ctx, const struct bav_store_value *v,
		       const char *const *names, unsigned int n)
{
	struct emm_config *cfg = ctx;
	struct emm_company *c;

	(void)names;
	(void)n;
	c = grow(cfg->pool, (void **)&cfg->companies, &cfg->ncompanies,
		 sizeof(*c));
	c->id = v[0].i;
	c->active = v[1].s != NULL && strcmp(v[1].s, "active") == 0;
	c->secret = pdup(cfg->pool, &v[2]);
	c->uid_version = (int)v[3].i;
	c->mailtracking = v[4].i == 1;
	c->mailloop_domain = pdup(cfg->pool, &v[5]);
	return 0;
}

static int filter_row(void *ctx, const struct bav_store_value *v,
		      const char *const *names, unsigned int n)
{
	struct emm_config *cfg = ctx;
	struct emm_filter *f;

	(void)names;
	(void)n;
	f = grow(cfg->pool, (void **)&cfg->filters, &cfg->nfilters,
		 sizeof(*f));
	f->rid = v[0].i;
	f->company = v[1].i;
	f->shortname = pdup(cfg->pool, &v[2]);
	f->forward = v[3].i != 0 ? pdup(cfg->pool, &v[4]) : "";
	f->ar_mailing = v[5].i != 0 ? v[6].i : 0;
	return 0;
}

static int rule_row(void *ctx, const struct bav_store_value *v,
		    const char *const *names, unsigned int n)
{
	struct emm_config *cfg = ctx;
	struct emm_ruleset rs;

	(void)names;
	(void)n;
	memset(&rs, 0, sizeof(rs));
	if (emm_ruleset_parse(cfg->pool, v[2].s, &rs) < 0)
		return 0;
	rs.company = v[0].i;
	rs.rid = v[1].i;
	*(struct emm_ruleset *)grow(cfg->pool, (void **)&cfg->rulesets,
				    &cfg->nrulesets, sizeof(rs)) = rs;
	return 0;
}

static int translate_row(void *ctx, const struct bav_store_value *v,
			 const char *const *names, unsigned int n)
{
	struct emm_config *cfg = ctx;
	struct emm_translate *t;

	(void)names;
	(void)n;
	t = grow(cfg->pool, (void **)&cfg->translates, &cfg->ntranslates,
		 sizeof(*t));
	t->rule_id = v[0].i;
	t->company = v[1].i;
	t->dsn = (int)v[2].i;
	t->detail = (int)v[3].i;
	t->pattern = v[4].s != NULL ? pdup(cfg->pool, &v[4]) : NULL;
	return 0;
}

/* company_info_tbl: bavd:inbox-enabled[rid], bounce-mark-duplicate */
static int info_row(void *ctx, const struct bav_store_value *v,
		    const char *const *names, unsigned int n)
{
	struct emm_config *cfg = ctx;
	const char *name = v[1].s != NULL ? v[1].s : "";
	const char *val = v[2].s;
	unsigned int i;

	(void)names;
	(void)n;
	if (strcmp(name, "bounce-mark-duplicate") == 0) {
		if (v[0].i == 0)
			cfg->mark_duplicates = truthy(val);
		return 0;
	}
	if (strncmp(name, "bavd:inbox-enabled", 18) != 0)
		return 0;
	if (name[18] == '[') {
		long long rid = atoll(name + 19);

		for (i = 0; i < cfg->nfilters; i++)
			if (cfg->filters[i].rid == rid &&
			    (v[0].i == cfg->filters[i].company ||
			     (v[0].i == 0 && !cfg->filters[i].inbox_set))) {
				cfg->filters[i].inbox = truthy(val);
				cfg->filters[i].inbox_set = v[0].i != 0 ||
					cfg->filters[i].inbox_set;
			}
	} else if (name[18] == '\0') {
		if (v[0].i == 0)
			cfg->global_inbox = truthy(val);
		for (i = 0; i < cfg->ncompanies; i++)
			if (cfg->companies[i].id == v[0].i)
				cfg->companies[i].inbox = truthy(val);
	}
	return 0;
}

static int arconf_row(void *ctx, const struct bav_store_value *v,
		      const char *const *names, unsigned int n)
{
	struct emm_config *cfg = ctx;
	struct bav_pool *tmp = bav_pool_new(1024);
	const struct emm_json *o = emm_json_parse(tmp, v[0].s);
	const struct emm_json *l = emm_json_get(o, "limit");

	(void)names;
	(void)n;
	if (l != NULL && l->str != NULL)
		cfg->ar_limit = bav_pool_strdup(cfg->pool, l->str);
	bav_pool_free(&tmp);
	return 0;
}

int emm_config_load(struct bav_store *store, struct emm_config **cfg_r,
		    const char **error_r)
{
	struct emm_config *cfg = bav_xcalloc(1, sizeof(*cfg));
	const char *ignored;
	int ret;

	cfg->pool = bav_pool_new(65536);
	cfg->mark_duplicates = true;
	cfg->ar_limit = "1d";
	ret = bav_store_exec(store, "SELECT company_id, status, secret_key,"
			     " COALESCE(uid_version, 0), mailtracking,"
			     " mailloop_domain FROM company_tbl", NULL, 0,
			     company_row, cfg, error_r);
	if (ret == BAV_OK)
		ret = bav_store_exec(store, "SELECT rid, company_id, shortname,"
				     " forward_enable, forward, ar_enable,"
				     " COALESCE(autoresponder_mailing_id, 0)"
				     " FROM mailloop_tbl ORDER BY rid", NULL, 0,
				     filter_row, cfg, error_r);
	if (ret == BAV_OK)
		ret = bav_store_exec(store, "SELECT rule_id, company_id, dsn,"
				     " detail, pattern FROM bounce_translate_tbl"
				     " WHERE active = 1 ORDER BY rule_id", NULL,
				     0, translate_row, cfg, error_r);
	if (ret != BAV_OK) {
		emm_config_free(&cfg);
		return ret;
	}
	/* optional tables: missing means empty */
	(void)bav_store_exec(store, "SELECT company_id, rid, definition FROM"
			     " bounce_rule_tbl ORDER BY company_id, rid", NULL,
			     0, rule_row, cfg, &ignored);
	(void)bav_store_exec(store, "SELECT company_id, cname, cvalue FROM"
			     " company_info_tbl WHERE (cname LIKE"
			     " 'bavd:inbox-enabled%' OR cname ="
			     " 'bounce-mark-duplicate') AND hostname IS NULL"
			     " ORDER BY company_id", NULL, 0, info_row, cfg,
			     &ignored);
	(void)bav_store_exec(store, "SELECT value FROM bounce_config_tbl WHERE"
			     " name = 'autoresponder' AND rid = 0 ORDER BY"
			     " company_id", NULL, 0, arconf_row, cfg, &ignored);
	cfg->loaded = time(NULL);
	*cfg_r = cfg;
	return BAV_OK;
}

void emm_config_free(struct emm_config **cfgp)
{
	struct emm_config *cfg = *cfgp;

	if (cfg == NULL)
		return;
	bav_pool_free(&cfg->pool);
	free(cfg);
	*cfgp = NULL;
}

const struct emm_company *emm_config_company(const struct emm_config *cfg,
					     long long id)
{
	unsigned int i;

	for (i = 0; i < cfg->ncompanies; i++)
		if (cfg->companies[i].id == id)
			return &cfg->companies[i];
	return NULL;
}

const struct emm_filter *emm_config_filter(const struct emm_config *cfg,
					   long long rid)
{
	unsigned int i;

	for (i = 0; i < cfg->nfilters; i++)
		if (cfg->filters[i].rid == rid)
			return &cfg->filters[i];
	return NULL;
}

int emm_ruleset_parse(struct bav_pool *pool, const char *json,
		      struct emm_ruleset *rs)
{
	const struct emm_json *o = emm_json_parse(pool, json);
	unsigned int i, k;

	memset(rs, 0, sizeof(*rs));
	if (o == NULL || o->type != EMM_JSON_OBJ)
		return -1;
	rs->sections = bav_pool_alloc(pool, (o->count + 1) *
				      sizeof(*rs->sections));
	for (i = 0; i < o->count; i++) {
		const struct emm_json *a = o->items[i];
		struct emm_section *s = &rs->sections[rs->count];

		if (a->type != EMM_JSON_ARR)
			continue;
		s->name = o->keys[i];
		s->patterns = bav_pool_alloc(pool, (a->count + 1) *
					     sizeof(*s->patterns));
		s->count = 0;
		for (k = 0; k < a->count; k++)
			if (a->items[k]->type == EMM_JSON_STR &&
			    a->items[k]->str[0] != '\0' &&
			    strpbrk(a->items[k]->str, "\r\n") == NULL)
				s->patterns[s->count++] = a->items[k]->str;
		rs->count++;
	}
	return 0;
}

static const struct emm_ruleset *find_set(const struct emm_ruleset *sets,
					  unsigned int n, long long company,
					  long long rid)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (sets[i].company == company && sets[i].rid == rid)
			return &sets[i];
	return NULL;
}

char *emm_rules_merge(struct bav_pool *pool, const struct emm_ruleset *sets,
		      unsigned int n, long long company, long long rid)
{
	const long long order[4][2] = { { company, rid }, { 0, rid },
					{ company, 0 }, { 0, 0 } };
	const struct emm_ruleset *visit[4];
	const char *names[64];
	unsigned int nvisit = 0, nnames = 0, i, j, k, s;
	struct bav_buf b;
	char *ret;

	for (i = 0; i < 4; i++) {
		const struct emm_ruleset *rs = find_set(sets, n, order[i][0],
							order[i][1]);

		for (j = 0; rs != NULL && j < nvisit; j++)
			if (visit[j] == rs)
				rs = NULL;	/* the same pair twice */
		if (rs != NULL)
			visit[nvisit++] = rs;
	}
	for (i = 0; i < nvisit; i++)
		for (s = 0; s < visit[i]->count; s++) {
			const char *name = visit[i]->sections[s].name;

			for (j = 0; j < nnames; j++)
				if (strcmp(names[j], name) == 0)
					break;
			if (j == nnames && nnames < 64)
				names[nnames++] = name;
		}
	memset(&b, 0, sizeof(b));
	for (j = 0; j < nnames; j++) {
		bav_buf_printf(&b, "[%s]\n", names[j]);
		for (i = 0; i < nvisit; i++)
			for (s = 0; s < visit[i]->count; s++) {
				const struct emm_section *sec =
					&visit[i]->sections[s];

				if (strcmp(sec->name, names[j]) != 0)
					continue;
				for (k = 0; k < sec->count; k++)
					bav_buf_printf(&b, "%s\n",
						       sec->patterns[k]);
			}
	}
	ret = bav_pool_strndup(pool, b.data != NULL ? b.data : "", b.len);
	bav_buf_free(&b);
	return ret;
}

long long emm_unit_seconds(const char *s)
{
	long long total = 0;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return 0;
	while (*p != '\0') {
		long long v = 0, mul = 1;

		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p) && v < 100000000)
			v = v * 10 + (*p++ - '0');
		switch (*p) {
		case 'w': mul = 7 * 86400; p++; break;
		case 'd': mul = 86400; p++; break;
		case 'h': mul = 3600; p++; break;
		case 'm': mul = 60; p++; break;
		case 's': p++; break;
		case '\0': break;
		default: return 0;
		}
		total += v * mul;
	}
	return total;
}
