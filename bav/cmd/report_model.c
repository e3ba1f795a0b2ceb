/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	report_model - the data model of "bav report"
 * SYNOPSIS
 *	#include "report.h"
 *
 *	struct report *report_new(const char *title, long long since,
 *				  long long until, long long generated,
 *				  unsigned int limit)
 *	void report_free(struct report **r)
 *	struct report_row *report_table_add(struct report *r,
 *				struct report_table *t, const char *key)
 *	void report_add_conversion(struct report *r, const char *address,
 *				long long when, unsigned long count,
 *				long long first, long long last)
 *	void report_table_sort(struct report_table *t, unsigned int limit)
 *	void report_fill_days(struct report *r)
 * DESCRIPTION
 *	A report and all its strings live in the report's pool; the row
 *	arrays are heap arrays owned by the report. report_free() releases
 *	everything and sets *r to NULL.
 *
 *	report_fill_days() inserts zero rows for the days of [since, until)
 *	that have no events (when the range is at most 3660 days; else only
 *	the days between the first and the last row), so charts show quiet
 *	days as such.
 * DIAGNOSTICS
 *	Never fails; out of memory goes to the OOM hook.
 * SEE ALSO
 *	report.h, report_load.c
 */
#include "report.h"
#include "bav_private.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_FILL_DAYS 3660

struct report *report_new(const char *title, long long since,
			  long long until, long long generated,
			  unsigned int limit)
{
	struct bav_pool *pool = bav_pool_new(8192);
	struct report *r = bav_pool_alloc(pool, sizeof(*r));

	r->pool = pool;
	r->title = bav_pool_strdup(pool, title != NULL ? title :
				   "Bounce report");
	r->since = since;
	r->until = until;
	r->generated = generated;
	r->limit = limit;
	r->totals.key = "all";
	return r;
}

static void table_free(struct report_table *t)
{
	free(t->rows);
	t->rows = NULL;
	t->count = t->alloc = 0;
}

void report_free(struct report **rp)
{
	struct report *r = *rp;
	struct bav_pool *pool;

	if (r == NULL)
		return;
	*rp = NULL;
	table_free(&r->by_domain);
	table_free(&r->by_reason);
	table_free(&r->by_day);
	table_free(&r->by_mailing);
	table_free(&r->diagnostics);
	free(r->conversions);
	pool = r->pool;
	bav_pool_free(&pool);
}

struct report_row *report_table_add(struct report *r, struct report_table *t,
				    const char *key)
{
	struct report_row *row;

	if (t->count == t->alloc) {
		t->alloc = t->alloc == 0 ? 32 : t->alloc * 2;
		/* @UNSAFE: alloc stays far below UINT_MAX / sizeof(row) */
		t->rows = bav_xrealloc(t->rows, t->alloc * sizeof(*t->rows));
	}
	row = &t->rows[t->count++];
	memset(row, 0, sizeof(*row));
	row->key = bav_pool_strdup(r->pool, key != NULL ? key : "");
	return row;
}

void report_add_conversion(struct report *r, const char *address,
			   long long when, unsigned long count,
			   long long first, long long last)
{
	struct report_conversion *c;

	if (r->conversion_count == r->conversion_alloc) {
		r->conversion_alloc = r->conversion_alloc == 0 ? 16 :
			r->conversion_alloc * 2;
		r->conversions = bav_xrealloc(r->conversions,
			r->conversion_alloc * sizeof(*r->conversions));
	}
	c = &r->conversions[r->conversion_count++];
	c->address = bav_pool_strdup(r->pool, address != NULL ? address : "");
	c->when = when;
	c->count = count;
	c->first = first;
	c->last = last;
}

void report_row_sum(struct report_row *row)
{
	unsigned int i;

	row->total = 0;
	for (i = 0; i < REPORT_COLS; i++)
		row->total += row->n[i];
}

static int row_cmp(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(x->key, y->key);
}

void report_table_sort(struct report_table *t, unsigned int limit)
{
	if (t->count > 1)
		qsort(t->rows, t->count, sizeof(*t->rows), row_cmp);
	if (limit > 0 && t->count > limit)
		t->count = limit;
}

static int day_cmp(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;

	return x->day < y->day ? -1 : x->day > y->day ? 1 : 0;
}

void report_fill_days(struct report *r)
{
	struct report_table *t = &r->by_day;
	long long first, last, d;
	unsigned int i, have;
	char buf[16];

	if (t->count > 1)
		qsort(t->rows, t->count, sizeof(*t->rows), day_cmp);
	first = r->since / 86400;
	last = (r->until - 1) / 86400;
	if (r->until <= r->since || last - first >= MAX_FILL_DAYS) {
		if (t->count == 0)
			return;
		first = t->rows[0].day;
		last = t->rows[t->count - 1].day;
	}
	have = t->count;
	for (d = first, i = 0; d <= last; d++) {
		while (i < have && t->rows[i].day < d)
			i++;
		if (i < have && t->rows[i].day == d)
			continue;
		report_table_add(r, t, report_date(buf, sizeof(buf),
						   d * 86400))->day = d;
	}
	if (t->count > 1)
		qsort(t->rows, t->count, sizeof(*t->rows), day_cmp);
}

double report_rate(unsigned long count, unsigned long base)
{
	if (base == 0)
		return -1.0;
	return 100.0 * (double)count / (double)base;
}

const char *report_date(char *buf, size_t size, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, size, "?");
	return buf;
}

const char *report_col_name(enum report_col col)
{
	static const char *const names[REPORT_COLS] = {
		"hard", "soft", "delay", "complaint", "unsubscribe"
	};

	return (unsigned int)col < REPORT_COLS ? names[col] : "?";
}
