/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	report_load - read the data of "bav report" from the store
 * SYNOPSIS
 *	#include "report.h"
 *
 *	int report_load(struct report *r, struct bav_store *store,
 *			const char **error_r)
 * DESCRIPTION
 *	Fills r (created by report_new() with the period [since, until))
 *	with portable SQL through bav_store_exec(), the same text on
 *	SQLite and MariaDB:
 *	  - the totals and the rows per recipient domain, reason (the
 *	    kind when an event has none, e.g. unsubscribe), day
 *	    (time - time % 86400) and mailing (mailing_id of the agnUID)
 *	    of bav_events of kind bounce (hard 1 or 0), delay, feedback
 *	    and unsubscribe, with the number of distinct addresses;
 *	  - for the top domains, the addresses known in bav_recipients
 *	    (the base of the rates);
 *	  - the addresses known, blocked (bounced, complained,
 *	    unsubscribed) and soft-bounced;
 *	  - the top diagnostics of bounces and delays, grouped after
 *	    replacing addresses and numbers by placeholders so the same
 *	    text about different recipients counts as one;
 *	  - the soft-to-hard conversions of "bav score" (bav_audit action
 *	    conversion) in the period.
 *	The day series is completed with empty days (report_fill_days).
 *	Sums are read from the text form of each value, since MariaDB
 *	returns SUM() as a decimal.
 * DIAGNOSTICS
 *	0, or the negative bav_err of the failing statement with the
 *	store's text in *error_r.
 * SEE ALSO
 *	report.h, bav_store.h
 */
#include "report.h"
#include "report_load.h"
#include "bav_private.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define INT(v) BAV_STORE_PARAM_INT(v)
#define TEXT(v) BAV_STORE_PARAM_TEXT(v)

/* The counted columns, in enum report_col order, then the distinct
   addresses. */
#define COUNT_COLS \
	" SUM(CASE WHEN kind = 'bounce' AND hard <> 0 THEN 1 ELSE 0 END)," \
	" SUM(CASE WHEN kind = 'bounce' AND hard = 0 THEN 1 ELSE 0 END)," \
	" SUM(CASE WHEN kind = 'delay' THEN 1 ELSE 0 END)," \
	" SUM(CASE WHEN kind = 'feedback' THEN 1 ELSE 0 END)," \
	" SUM(CASE WHEN kind = 'unsubscribe' THEN 1 ELSE 0 END)," \
	" COUNT(DISTINCT recipient)"
#define PERIOD \
	" FROM bav_events WHERE time >= ? AND time < ? AND kind IN" \
	" ('bounce', 'delay', 'feedback', 'unsubscribe')"

static unsigned long ucol(const struct bav_store_value *v)
{
	if (v->type == BAV_STORE_NULL || v->s == NULL)
		return 0;
	if (v->type == BAV_STORE_INT)
		return v->i < 0 ? 0 : (unsigned long)v->i;
	return strtoul(v->s, NULL, 10);
}

static long long icol(const struct bav_store_value *v)
{
	if (v->type == BAV_STORE_NULL || v->s == NULL)
		return 0;
	if (v->type == BAV_STORE_INT)
		return v->i;
	return strtoll(v->s, NULL, 10);
}

struct group_ctx {
	struct report *r;
	struct report_table *t;
	enum { G_TEXT, G_DAY, G_MAILING } kind;
};

static void fill_counts(struct report_row *row,
			const struct bav_store_value *c)
{
	unsigned int i;

	for (i = 0; i < REPORT_COLS; i++)
		row->n[i] = ucol(&c[i]);
	row->addrs = ucol(&c[REPORT_COLS]);
	report_row_sum(row);
}

/* Row: key, the counted columns, distinct addresses. */
static int group_row(void *ctx, const struct bav_store_value *c,
		     const char *const *names, unsigned int n)
{
	struct group_ctx *g = ctx;
	struct report_row *row;
	char buf[32];
	long long v;

	(void)names;
	if (n < REPORT_COLS + 2)
		return 0;
	switch (g->kind) {
	case G_DAY:
		v = icol(&c[0]) / 86400;
		row = report_table_add(g->r, g->t, report_date(buf,
				       sizeof(buf), v * 86400));
		row->day = v;
		break;
	case G_MAILING:
		v = icol(&c[0]);
		if (v == 0)
			snprintf(buf, sizeof(buf), "(no mailing id)");
		else
			snprintf(buf, sizeof(buf), "mailing %lld", v);
		row = report_table_add(g->r, g->t, buf);
		break;
	default:
		row = report_table_add(g->r, g->t,
				       c[0].s != NULL ? c[0].s : "");
		break;
	}
	fill_counts(row, c + 1);
	return 0;
}

static int totals_row(void *ctx, const struct bav_store_value *c,
		      const char *const *names, unsigned int n)
{
	struct report *r = ctx;

	(void)names;
	if (n >= REPORT_COLS + 1)
		fill_counts(&r->totals, c);
	return 0;
}

static int load_group(struct report *r, struct bav_store *store,
		      const char *keyexpr, struct report_table *t, int kind,
		      const char **error_r)
{
	struct group_ctx g = { r, t, kind };
	const struct bav_store_param p[] = { INT(r->since), INT(r->until) };
	struct bav_pool *pool = bav_pool_new(1024);
	const char *sql = bav_pool_printf(pool, "SELECT %s AS k," COUNT_COLS
					  PERIOD " GROUP BY %s", keyexpr,
					  keyexpr);
	int ret;

	ret = bav_store_exec(store, sql, p, 2, group_row, &g, error_r);
	bav_pool_free(&pool);
	return ret;
}

static int count_row(void *ctx, const struct bav_store_value *c,
		     const char *const *names, unsigned int n)
{
	unsigned long *out = ctx;
	unsigned int i;

	(void)names;
	for (i = 0; i < n && i < 3; i++)
		out[i] = ucol(&c[i]);
	return 0;
}

static int load_addresses(struct report *r, struct bav_store *store,
			  const char **error_r)
{
	unsigned long v[3] = { 0, 0, 0 };
	unsigned int i;
	int ret;

	ret = bav_store_exec(store, "SELECT COUNT(*), SUM(CASE WHEN state IN"
		" ('bounced', 'complained', 'unsubscribed') THEN 1 ELSE 0 END),"
		" SUM(CASE WHEN state = 'softbounce' THEN 1 ELSE 0 END)"
		" FROM bav_recipients", NULL, 0, count_row, v, error_r);
	r->addresses = v[0];
	r->blocked = v[1];
	r->softbounced = v[2];
	for (i = 0; ret == 0 && i < r->by_domain.count; i++) {
		struct report_row *row = &r->by_domain.rows[i];
		const struct bav_store_param p[] = { TEXT(row->key) };

		v[0] = 0;
		ret = bav_store_exec(store, "SELECT COUNT(*) FROM"
			" bav_recipients WHERE domain = ?", p, 1, count_row, v,
			error_r);
		row->base = v[0];
	}
	return ret;
}

/* ---- diagnostics ---------------------------------------------------- */

struct diag {
	char *text;
	unsigned long n[REPORT_COLS];
};

struct diag_ctx {
	struct diag *d;
	unsigned int count, alloc;
};

/* Addresses become "<address>", runs of digits and long hex ids "#",
   white space is squeezed; at most 200 bytes. Returns malloc'ed. */
char *report_diag_normalize(const char *s)
{
	struct bav_buf b = { 0 };
	const char *p = s, *q, *at;
	size_t span;

	while (*p != '\0' && b.len < 200) {
		if (isspace((unsigned char)*p)) {
			while (isspace((unsigned char)*p))
				p++;
			if (b.len > 0 && *p != '\0')
				bav_buf_putc(&b, ' ');
			continue;
		}
		if (*p == '<' && (q = strchr(p, '>')) != NULL &&
		    memchr(p, '@', q - p) != NULL &&
		    strcspn(p, " \t\r\n") > (size_t)(q - p)) {
			bav_buf_append(&b, "<address>", 9);
			p = q + 1;
			continue;
		}
		span = strcspn(p, " \t\r\n<>()[]\"',;");
		at = memchr(p, '@', span);
		if (at != NULL && at > p && at + 1 < p + span) {
			bav_buf_append(&b, "<address>", 9);
			p += span;
			continue;
		}
		if (isdigit((unsigned char)*p)) {
			for (q = p; isxdigit((unsigned char)*q) || *q == '.' ||
			     *q == ':' || *q == '-'; q++)
				;
			/* keep status and reply codes like 550 or 5.1.1 */
			if (q - p > 5 || strspn(p, "0123456789") >= 4) {
				bav_buf_putc(&b, '#');
				p = q;
				continue;
			}
		}
		bav_buf_putc(&b, *p++);
	}
	if (b.data == NULL)
		bav_buf_append(&b, "", 0);
	return bav_buf_steal(&b);
}

static int diag_row(void *ctx, const struct bav_store_value *c,
		    const char *const *names, unsigned int n)
{
	struct diag_ctx *dc = ctx;
	struct diag *d;
	unsigned int i;

	(void)names;
	if (n < REPORT_COLS + 1 || c[0].s == NULL)
		return 0;
	if (dc->count == dc->alloc) {
		dc->alloc = dc->alloc == 0 ? 256 : dc->alloc * 2;
		dc->d = bav_xrealloc(dc->d, dc->alloc * sizeof(*dc->d));
	}
	d = &dc->d[dc->count++];
	d->text = report_diag_normalize(c[0].s);
	for (i = 0; i < REPORT_COLS; i++)
		d->n[i] = ucol(&c[i + 1]);
	return 0;
}

static int diag_cmp(const void *a, const void *b)
{
	return strcmp(((const struct diag *)a)->text,
		      ((const struct diag *)b)->text);
}

static void diag_merge(struct report *r, struct diag_ctx *dc)
{
	struct report_row *row = NULL;
	unsigned int i, k;

	if (dc->count > 1)
		qsort(dc->d, dc->count, sizeof(*dc->d), diag_cmp);
	for (i = 0; i < dc->count; i++) {
		if (dc->d[i].text[0] == '\0')
			continue;
		if (row == NULL || strcmp(row->key, dc->d[i].text) != 0)
			row = report_table_add(r, &r->diagnostics,
					       dc->d[i].text);
		for (k = 0; k < REPORT_COLS; k++)
			row->n[k] += dc->d[i].n[k];
		report_row_sum(row);
	}
	for (i = 0; i < dc->count; i++)
		free(dc->d[i].text);
	free(dc->d);
}

static int load_diagnostics(struct report *r, struct bav_store *store,
			    const char **error_r)
{
	struct diag_ctx dc = { NULL, 0, 0 };
	const struct bav_store_param p[] = { INT(r->since), INT(r->until) };
	int ret;

	ret = bav_store_exec(store, "SELECT diagnostic,"
		" SUM(CASE WHEN kind = 'bounce' AND hard <> 0 THEN 1 ELSE 0 END),"
		" SUM(CASE WHEN kind = 'bounce' AND hard = 0 THEN 1 ELSE 0 END),"
		" SUM(CASE WHEN kind = 'delay' THEN 1 ELSE 0 END), 0, 0"
		" FROM bav_events WHERE time >= ? AND time < ? AND kind IN"
		" ('bounce', 'delay') AND diagnostic <> '' GROUP BY diagnostic",
		p, 2, diag_row, &dc, error_r);
	diag_merge(r, &dc);
	report_table_sort(&r->diagnostics, r->limit);
	return ret;
}

/* ---- conversions ---------------------------------------------------- */

/* Row: address, time, soft_count, soft_first, soft_last. */
static int conversion_row(void *ctx, const struct bav_store_value *c,
			  const char *const *names, unsigned int n)
{
	struct report *r = ctx;

	(void)names;
	if (n >= 5)
		report_add_conversion(r, c[0].s, icol(&c[1]), ucol(&c[2]),
				      icol(&c[3]), icol(&c[4]));
	return 0;
}

static int load_conversions(struct report *r, struct bav_store *store,
			    const char **error_r)
{
	const struct bav_store_param p[] = { INT(r->since), INT(r->until) };

	return bav_store_exec(store, "SELECT a.address, a.time,"
		" COALESCE(s.soft_count, 0), COALESCE(s.soft_first, 0),"
		" COALESCE(s.soft_last, 0) FROM bav_audit a LEFT JOIN"
		" bav_recipients s ON s.address = a.address WHERE a.action ="
		" 'conversion' AND a.time >= ? AND a.time < ?"
		" ORDER BY a.time, a.address", p, 2, conversion_row, r,
		error_r);
}

int report_load(struct report *r, struct bav_store *store,
		const char **error_r)
{
	const struct bav_store_param p[] = { INT(r->since), INT(r->until) };
	int ret;

	ret = bav_store_exec(store, "SELECT" COUNT_COLS PERIOD, p, 2,
			     totals_row, r, error_r);
	if (ret == 0)
		ret = load_group(r, store, "domain", &r->by_domain, G_TEXT,
				 error_r);
	if (ret == 0)
		ret = load_group(r, store, "CASE WHEN reason = '' THEN kind"
				 " ELSE reason END", &r->by_reason, G_TEXT,
				 error_r);
	if (ret == 0)
		ret = load_group(r, store, "time - time % 86400", &r->by_day,
				 G_DAY, error_r);
	if (ret == 0)
		ret = load_group(r, store, "COALESCE(mailing_id, 0)",
				 &r->by_mailing, G_MAILING, error_r);
	if (ret < 0)
		return ret;
	report_table_sort(&r->by_domain, r->limit);
	report_table_sort(&r->by_reason, r->limit);
	report_table_sort(&r->by_mailing, r->limit);
	report_fill_days(r);
	ret = load_addresses(r, store, error_r);
	if (ret == 0)
		ret = load_diagnostics(r, store, error_r);
	if (ret == 0)
		ret = load_conversions(r, store, error_r);
	return ret;
}
