/* SPDX-License-Identifier: MIT */
/*
 * report.h - the data model and the renderers of "bav report"
 *
 * report_load.c fills a struct report from the store with portable SQL
 * (the same text on SQLite and MariaDB); report_text.c prints it as
 * text, CSV or JSON, report_html.c as one self-contained HTML page whose
 * charts report_svg.c draws as inline SVG. Everything of a report lives
 * in its pool; the renderers only read it and never fail (write errors
 * are found by the caller with ferror()).
 */
#ifndef BAV_CMD_REPORT_H
#define BAV_CMD_REPORT_H

#include <stdio.h>

#include "bav.h"

/* The counted columns of a report row. */
enum report_col {
	REPORT_HARD,		/* permanent bounces */
	REPORT_SOFT,		/* temporary bounces */
	REPORT_DELAY,		/* delay notices */
	REPORT_COMPLAINT,	/* feedback-loop complaints */
	REPORT_UNSUB,		/* unsubscribe requests */
	REPORT_COLS
};

/* One group of events: a domain, a reason, a day, a mailing or a
   diagnostic. key is the group's name ("" when unknown); day is the
   day number (unix time / 86400) for per-day rows, else 0. base is the
   number of known recipient addresses of the group (the denominator of
   the rates; 0 when unknown), addrs the distinct addresses with an
   event. total is the sum of the counted columns. */
struct report_row {
	const char *key;
	long long day;
	unsigned long n[REPORT_COLS];
	unsigned long total;
	unsigned long addrs;
	unsigned long base;
};

/* One soft-to-hard conversion done by "bav score". */
struct report_conversion {
	const char *address;
	long long when;		/* unix time of the conversion */
	unsigned long count;	/* soft bounces counted */
	long long first, last;	/* first and last counted soft bounce */
};

struct report_table {
	struct report_row *rows;
	unsigned int count;
	unsigned int alloc;
};

struct report {
	struct bav_pool *pool;
	const char *title;
	long long since, until;		/* [since, until) unix time */
	long long generated;		/* when the report was made */
	struct report_row totals;	/* key "all" */
	unsigned long addresses;	/* recipient addresses known */
	unsigned long blocked;		/* addresses not mailable now */
	unsigned long softbounced;	/* addresses with a soft count */
	struct report_table by_domain;	/* sorted by total, descending */
	struct report_table by_reason;	/* sorted by total, descending */
	struct report_table by_day;	/* one row per day, ascending */
	struct report_table by_mailing;	/* sorted by total, descending */
	struct report_table diagnostics;/* key: text, n[]: its events */
	struct report_conversion *conversions;
	unsigned int conversion_count;
	unsigned int conversion_alloc;
	unsigned int limit;		/* rows kept per table (top N) */
};

/* A new empty report for [since, until) in its own pool; title may be
   NULL. Free it with report_free(). */
struct report *report_new(const char *title, long long since,
			  long long until, long long generated,
			  unsigned int limit);
void report_free(struct report **r);
/* Append a zeroed row with a copy of key to t; returns it. */
struct report_row *report_table_add(struct report *r, struct report_table *t,
				    const char *key);
/* Append a conversion (address copied). */
void report_add_conversion(struct report *r, const char *address,
			   long long when, unsigned long count,
			   long long first, long long last);
/* Sum the columns of a row into total. */
void report_row_sum(struct report_row *row);
/* Sort a table by total descending, key ascending, and keep the first
   limit rows (0 = all). */
void report_table_sort(struct report_table *t, unsigned int limit);
/* Fill in the days without events between since and until so the
   per-day series has no holes (at most 3660 days). */
void report_fill_days(struct report *r);
/* Rate in percent of count over base, -1 when base is 0. */
double report_rate(unsigned long count, unsigned long base);
/* "YYYY-MM-DD" of a unix time (UTC) into buf (at least 11 bytes). */
const char *report_date(char *buf, size_t size, long long t);
/* Short column names: hard, soft, delay, complaint, unsubscribe. */
const char *report_col_name(enum report_col col);

/* ---- renderers ------------------------------------------------------ */

void report_print_text(FILE *fp, const struct report *r);
/* One CSV table: section,key,hard,soft,delay,complaint,unsubscribe,
   total,addresses,base,rate (RFC 4180 quoting). */
void report_print_csv(FILE *fp, const struct report *r);
void report_print_json(FILE *fp, const struct report *r);
void report_print_html(FILE *fp, const struct report *r);

/* ---- report_svg.c: inline SVG charts -------------------------------- */

/* Escape text for HTML/XML element content and attribute values. */
void report_xml_escape(FILE *fp, const char *s);

/* A series of a chart: which column, its label and fill colour. */
struct report_series {
	enum report_col col;
	const char *label;
	const char *color;
};

/* Horizontal stacked bars, one per row (label left, value right), an x
   axis with ticks and grid lines, a legend, and a <title> tooltip per
   segment. */
void report_svg_hbars(FILE *fp, const char *title, const char *id,
		      const struct report_table *t,
		      const struct report_series *series, unsigned int ns);
/* Stacked bars per day plus a line of the total, date axis and value
   axis with ticks, legend, tooltips. */
void report_svg_days(FILE *fp, const char *title, const char *id,
		     const struct report_table *t,
		     const struct report_series *series, unsigned int ns);
/* A "nice" axis step (1, 2 or 5 times a power of ten) so that max fits
   in about ticks steps; at least 1. */
unsigned long report_nice_step(unsigned long max, unsigned int ticks);

#endif
