/* SPDX-License-Identifier: MIT */
/*
 * test_report - the pieces of "bav report" that need no store: time
 * arguments, axis steps, sorting and top-N, filling quiet days, the
 * grouping of diagnostics, XML escaping and the SVG of an empty and a
 * one-row chart.
 */
#include "bav_private.h"
#include "report.h"
#include "report_load.h"
#include "storeargs.h"
#include "test_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400LL

static void test_parse_time(void)
{
	static const struct {
		const char *in;
		int ret;
		long long want;
	} cases[] = {
		{ "1970-01-01", 0, 0 },
		{ "2026-01-01", 0, 1767225600 },
		{ "2024-02-29", 0, 1709164800 },
		{ "2025-11-21T12:30", 0, 1763728200 },
		{ "2025-11-21 12:30:15Z", 0, 1763728215 },
		{ "@1763683200", 0, 1763683200 },
		{ "1763683200", 0, 1763683200 },
		{ "7d", 0, 1763683200 - 7 * DAY },
		{ "0d", 0, 1763683200 },
		{ "2026-13-01", -1, 0 },
		{ "2026-1-1", -1, 0 },
		{ "yesterday", -1, 0 },
		{ "7 d", -1, 0 },
		{ "@7d", -1, 0 },
		{ "", -1, 0 },
		{ "2026-01-01T25:00", -1, 0 },
	};
	unsigned int i;
	long long t;
	int ret;

	test_begin("report: time arguments");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = -1;
		/* now: 2025-11-21 10:00 UTC, "Nd" counts from its midnight */
		ret = cmd_parse_time(cases[i].in, 1763683200 + 36000, &t);
		test_assert_idx(ret == cases[i].ret, i);
		if (cases[i].ret == 0)
			test_assert_idx(t == cases[i].want, i);
	}
	test_end();
}

static void test_nice_step(void)
{
	static const unsigned long cases[][3] = {
		/* max, ticks, step */
		{ 0, 5, 1 }, { 1, 5, 1 }, { 5, 5, 1 }, { 7, 5, 2 },
		{ 12, 5, 5 }, { 37, 5, 10 }, { 64, 5, 20 }, { 244, 5, 50 },
		{ 999, 5, 200 }, { 1001, 5, 500 }, { 60000, 5, 20000 },
	};
	unsigned int i;

	test_begin("report: axis steps");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_assert_idx(report_nice_step(cases[i][0],
				(unsigned int)cases[i][1]) == cases[i][2], i);
	test_end();
}

static void test_sort_fill(void)
{
	struct report *r = report_new(NULL, 10 * DAY, 20 * DAY, 20 * DAY, 2);
	struct report_row *row;
	unsigned int i;
	bool sorted = true;

	test_begin("report: sort, top N, quiet days");
	row = report_table_add(r, &r->by_domain, "b.example");
	row->n[REPORT_HARD] = 3;
	report_row_sum(row);
	row = report_table_add(r, &r->by_domain, "a.example");
	row->n[REPORT_SOFT] = 3;
	report_row_sum(row);
	row = report_table_add(r, &r->by_domain, "c.example");
	row->n[REPORT_COMPLAINT] = 9;
	report_row_sum(row);
	report_table_sort(&r->by_domain, r->limit);
	test_assert(r->by_domain.count == 2);
	test_assert_strcmp(r->by_domain.rows[0].key, "c.example");
	test_assert_strcmp(r->by_domain.rows[1].key, "a.example");
	/* days 12 and 15 have events; 10..19 must all be there, in order */
	row = report_table_add(r, &r->by_day, "x");
	row->day = 15;
	row->n[REPORT_DELAY] = 1;
	row = report_table_add(r, &r->by_day, "y");
	row->day = 12;
	report_fill_days(r);
	test_assert(r->by_day.count == 10);
	for (i = 0; i < r->by_day.count; i++)
		if (r->by_day.rows[i].day != 10 + (long long)i)
			sorted = false;
	test_assert(sorted);
	test_assert(r->by_day.rows[5].n[REPORT_DELAY] == 1);
	test_assert_strcmp(r->by_day.rows[0].key, "1970-01-11");
	test_assert(report_rate(1, 0) < 0);
	test_assert(report_rate(1, 4) == 25.0);
	report_free(&r);
	test_assert(r == NULL);
	test_end();
}

static void test_diag_normalize(void)
{
	static const char *const cases[][2] = {
		{ "550 5.1.1 <john@example.com>: User unknown",
		  "550 5.1.1 <address>: User unknown" },
		{ "550 5.1.1 jane.doe@example.org... User unknown",
		  "550 5.1.1 <address> User unknown" },
		{ "452 4.2.2 over quota (id 1234567)",
		  "452 4.2.2 over quota (id #)" },
		{ "421 try later (10043) from 192.168.10.1",
		  "421 try later (#) from #" },
		{ "  spaced \r\n  out\t text ", "spaced out text" },
		{ "<not an address> kept", "<not an address> kept" },
		{ "", "" },
	};
	unsigned int i;
	char *n;

	test_begin("report: diagnostics grouped across recipients");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = report_diag_normalize(cases[i][0]);
		test_assert_strcmp(n, cases[i][1]);
		free(n);
	}
	test_end();
}

/* The output of fn(fp, ...) as a malloc'ed string. */
static char *capture_svg(const struct report_table *t, bool days)
{
	static const struct report_series series[] = {
		{ REPORT_HARD, "hard", "#c0392b" },
		{ REPORT_SOFT, "soft", "#e69b22" },
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (days)
		report_svg_days(fp, "Days <&>", "d", t, series, 2);
	else
		report_svg_hbars(fp, "Domains", "h", t, series, 2);
	fclose(fp);
	return buf;
}

static unsigned int count(const char *s, const char *needle)
{
	unsigned int n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s++;
	}
	return n;
}

static void test_svg(void)
{
	struct report *r = report_new(NULL, 0, DAY, DAY, 0);
	struct report_row *row;
	char *svg;

	test_begin("report: SVG charts");
	svg = capture_svg(&r->by_domain, false);
	test_assert(strstr(svg, "no events in this period") != NULL);
	test_assert(count(svg, "<svg ") == 1 && count(svg, "</svg>") == 1);
	free(svg);
	row = report_table_add(r, &r->by_domain, "x<y>&\"z\"@example");
	row->n[REPORT_HARD] = 2;
	row->n[REPORT_SOFT] = 3;
	report_row_sum(row);
	svg = capture_svg(&r->by_domain, false);
	test_assert(count(svg, "class=\"bar seg-hard\"") == 1);
	test_assert(count(svg, "class=\"bar seg-soft\"") == 1);
	test_assert(strstr(svg, "x&lt;y&gt;&amp;&quot;z&quot;") != NULL);
	test_assert(strstr(svg, "x<y") == NULL);
	test_assert(count(svg, "class=\"legend-item\"") == 2);
	test_assert(count(svg, "</svg>") == 1);
	free(svg);
	row = report_table_add(r, &r->by_day, "1970-01-01");
	row->n[REPORT_SOFT] = 4;
	svg = capture_svg(&r->by_day, true);
	test_assert(strstr(svg, "<title id=\"d-title\">Days &lt;&amp;&gt;")
		    != NULL);
	test_assert(count(svg, "class=\"bar seg-soft\"") == 1);
	test_assert(count(svg, "class=\"hover\"") == 1);
	test_assert(strstr(svg, "class=\"total-line\"") != NULL);
	free(svg);
	report_free(&r);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_parse_time,
		test_nice_step,
		test_sort_fill,
		test_diag_normalize,
		test_svg,
		NULL
	};

	return test_run(tests);
}
