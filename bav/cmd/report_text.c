/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	report_text - text, CSV and JSON output of "bav report"
 * SYNOPSIS
 *	#include "report.h"
 *
 *	void report_print_text(FILE *fp, const struct report *r)
 *	void report_print_csv(FILE *fp, const struct report *r)
 *	void report_print_json(FILE *fp, const struct report *r)
 * DESCRIPTION
 *	Text: a heading, the totals, then one aligned table per section
 *	(domains, reasons, days, mailings, top diagnostics, conversions);
 *	empty sections say "(none)", days without events are only counted. Rates are shown when the number of
 *	known addresses of a group is known, else "-".
 *
 *	CSV: one table for all sections, RFC 4180 quoting, header line
 *	section,key,date,hard,soft,delay,complaint,unsubscribe,total,
 *	addresses,base,hard_rate,complaint_rate. section is totals, domain,
 *	reason, day, mailing, diagnostic or conversion; a conversion row
 *	has the address as key, its date, and the soft bounces counted in
 *	soft and total. Rates are percentages with two decimals, empty when
 *	unknown.
 *
 *	JSON: one object: title, since, until, generated (unix times),
 *	addresses, blocked, softbounced, totals, by_domain, by_reason,
 *	by_day, by_mailing, diagnostics (arrays of row objects) and
 *	conversions. Strings are escaped by output_json_string().
 *
 *	The report is only read.
 * DIAGNOSTICS
 *	none; the caller checks ferror().
 * SEE ALSO
 *	report.h, RFC 4180, RFC 8259
 */
#include "report.h"
#include "cmd.h"

#include <string.h>

/* ---- text --------------------------------------------------------- */

static void text_rate(FILE *fp, unsigned long n, unsigned long base)
{
	double rate = report_rate(n, base);

	if (rate < 0)
		fprintf(fp, " %7s", "-");
	else
		fprintf(fp, " %6.2f%%", rate);
}

static void text_table(FILE *fp, const char *heading, const char *keyname,
		       const struct report_table *t, bool rates)
{
	unsigned int i, quiet = 0;
	int w = (int)strlen(keyname);
	const struct report_row *row;

	fprintf(fp, "\n%s\n", heading);
	if (t->count == 0) {
		fputs("  (none)\n", fp);
		return;
	}
	for (i = 0; i < t->count; i++) {
		int len = (int)strlen(t->rows[i].key);

		if (len > w)
			w = len;
	}
	if (w > 48)
		w = 48;
	fprintf(fp, "  %-*s %6s %6s %6s %6s %6s %7s", w, keyname, "hard",
		"soft", "delay", "compl", "unsub", "total");
	if (rates)
		fprintf(fp, " %7s %7s %7s", "addrs", "hard%", "compl%");
	putc('\n', fp);
	for (i = 0; i < t->count; i++) {
		row = &t->rows[i];
		if (row->day != 0 && row->total == 0) {
			quiet++;	/* days without events: counted only */
			continue;
		}
		fprintf(fp, "  %-*.*s %6lu %6lu %6lu %6lu %6lu %7lu", w, w,
			row->key[0] != '\0' ? row->key : "(unknown)",
			row->n[REPORT_HARD], row->n[REPORT_SOFT],
			row->n[REPORT_DELAY], row->n[REPORT_COMPLAINT],
			row->n[REPORT_UNSUB], row->total);
		if (rates) {
			fprintf(fp, " %7lu", row->addrs);
			text_rate(fp, row->n[REPORT_HARD], row->base);
			text_rate(fp, row->n[REPORT_COMPLAINT], row->base);
		}
		putc('\n', fp);
	}
	if (quiet > 0)
		fprintf(fp, "  (%u day%s without events not shown)\n", quiet,
			quiet == 1 ? "" : "s");
}

static void text_diagnostics(FILE *fp, const struct report_table *t)
{
	unsigned int i;

	fputs("\nTop diagnostics\n", fp);
	if (t->count == 0) {
		fputs("  (none)\n", fp);
		return;
	}
	for (i = 0; i < t->count; i++)
		fprintf(fp, "  %6lu  %.120s\n", t->rows[i].total,
			t->rows[i].key);
}

static void text_conversions(FILE *fp, const struct report *r)
{
	char d1[16], d2[16], d3[16];
	unsigned int i;
	const struct report_conversion *c;

	fputs("\nSoft-to-hard conversions\n", fp);
	if (r->conversion_count == 0) {
		fputs("  (none)\n", fp);
		return;
	}
	fprintf(fp, "  %-10s %6s  %-10s  %-10s  %s\n", "date", "count",
		"first", "last", "address");
	for (i = 0; i < r->conversion_count; i++) {
		c = &r->conversions[i];
		fprintf(fp, "  %-10s %6lu  %-10s  %-10s  %s\n",
			report_date(d1, sizeof(d1), c->when), c->count,
			report_date(d2, sizeof(d2), c->first),
			report_date(d3, sizeof(d3), c->last), c->address);
	}
}

void report_print_text(FILE *fp, const struct report *r)
{
	char d1[16], d2[16], d3[16];
	const struct report_row *t = &r->totals;

	fprintf(fp, "%s: %s .. %s (generated %s)\n", r->title,
		report_date(d1, sizeof(d1), r->since),
		report_date(d2, sizeof(d2), r->until - 1),
		report_date(d3, sizeof(d3), r->generated));
	fprintf(fp, "\n%lu events: %lu hard bounces, %lu soft bounces, "
		"%lu delays, %lu complaints, %lu unsubscribes\n", t->total,
		t->n[REPORT_HARD], t->n[REPORT_SOFT], t->n[REPORT_DELAY],
		t->n[REPORT_COMPLAINT], t->n[REPORT_UNSUB]);
	fprintf(fp, "%lu addresses known: %lu blocked, %lu soft-bounced, "
		"%lu with events in the period\n", r->addresses, r->blocked,
		r->softbounced, t->addrs);
	text_table(fp, "By recipient domain", "domain", &r->by_domain, true);
	text_table(fp, "By reason", "reason", &r->by_reason, false);
	text_table(fp, "By day", "day", &r->by_day, false);
	text_table(fp, "By mailing", "mailing", &r->by_mailing, false);
	text_diagnostics(fp, &r->diagnostics);
	text_conversions(fp, r);
}

/* ---- CSV ---------------------------------------------------------- */

static void csv_field(FILE *fp, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, fp);
		return;
	}
	putc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putc('"', fp);
		putc(*s, fp);
	}
	putc('"', fp);
}

static void csv_rate(FILE *fp, unsigned long n, unsigned long base)
{
	double rate = report_rate(n, base);

	putc(',', fp);
	if (rate >= 0)
		fprintf(fp, "%.2f", rate);
}

static void csv_row(FILE *fp, const char *section, const char *date,
		    const struct report_row *row)
{
	unsigned int i;

	csv_field(fp, section);
	putc(',', fp);
	csv_field(fp, row->key);
	putc(',', fp);
	fputs(date, fp);
	for (i = 0; i < REPORT_COLS; i++)
		fprintf(fp, ",%lu", row->n[i]);
	fprintf(fp, ",%lu,%lu,%lu", row->total, row->addrs, row->base);
	csv_rate(fp, row->n[REPORT_HARD], row->base);
	csv_rate(fp, row->n[REPORT_COMPLAINT], row->base);
	fputs("\r\n", fp);
}

static void csv_table(FILE *fp, const char *section,
		      const struct report_table *t)
{
	char date[16];
	unsigned int i;

	for (i = 0; i < t->count; i++)
		csv_row(fp, section, t->rows[i].day != 0 ?
			report_date(date, sizeof(date),
				    t->rows[i].day * 86400) : "",
			&t->rows[i]);
}

void report_print_csv(FILE *fp, const struct report *r)
{
	struct report_row row;
	char date[16];
	unsigned int i;

	fputs("section,key,date,hard,soft,delay,complaint,unsubscribe,total,"
	      "addresses,base,hard_rate,complaint_rate\r\n", fp);
	row = r->totals;
	row.base = r->addresses;
	csv_row(fp, "totals", "", &row);
	csv_table(fp, "domain", &r->by_domain);
	csv_table(fp, "reason", &r->by_reason);
	csv_table(fp, "day", &r->by_day);
	csv_table(fp, "mailing", &r->by_mailing);
	csv_table(fp, "diagnostic", &r->diagnostics);
	for (i = 0; i < r->conversion_count; i++) {
		memset(&row, 0, sizeof(row));
		row.key = r->conversions[i].address;
		row.n[REPORT_SOFT] = r->conversions[i].count;
		row.total = row.n[REPORT_SOFT];
		row.addrs = 1;
		csv_row(fp, "conversion", report_date(date, sizeof(date),
			r->conversions[i].when), &row);
	}
}

/* ---- JSON --------------------------------------------------------- */

static void json_rate(FILE *fp, const char *name, unsigned long n,
		      unsigned long base)
{
	double rate = report_rate(n, base);

	if (rate < 0)
		fprintf(fp, ",\"%s\":null", name);
	else
		fprintf(fp, ",\"%s\":%.2f", name, rate);
}

static void json_row(FILE *fp, const struct report_row *row, bool day)
{
	char date[16];
	unsigned int i;

	fputs("{\"key\":", fp);
	output_json_string(fp, row->key);
	if (day)
		fprintf(fp, ",\"date\":\"%s\"",
			report_date(date, sizeof(date), row->day * 86400));
	for (i = 0; i < REPORT_COLS; i++)
		fprintf(fp, ",\"%s\":%lu", report_col_name(i), row->n[i]);
	fprintf(fp, ",\"total\":%lu,\"addresses\":%lu,\"base\":%lu",
		row->total, row->addrs, row->base);
	json_rate(fp, "hard_rate", row->n[REPORT_HARD], row->base);
	json_rate(fp, "complaint_rate", row->n[REPORT_COMPLAINT], row->base);
	putc('}', fp);
}

static void json_table(FILE *fp, const char *name,
		       const struct report_table *t, bool day)
{
	unsigned int i;

	fprintf(fp, ",\n\"%s\":[", name);
	for (i = 0; i < t->count; i++) {
		fputs(i > 0 ? ",\n " : "\n ", fp);
		json_row(fp, &t->rows[i], day);
	}
	fputs("]", fp);
}

void report_print_json(FILE *fp, const struct report *r)
{
	const struct report_conversion *c;
	unsigned int i;

	fputs("{\"title\":", fp);
	output_json_string(fp, r->title);
	fprintf(fp, ",\"since\":%lld,\"until\":%lld,\"generated\":%lld,"
		"\"addresses\":%lu,\"blocked\":%lu,\"softbounced\":%lu,\n"
		"\"totals\":", r->since, r->until, r->generated,
		r->addresses, r->blocked, r->softbounced);
	json_row(fp, &r->totals, false);
	json_table(fp, "by_domain", &r->by_domain, false);
	json_table(fp, "by_reason", &r->by_reason, false);
	json_table(fp, "by_day", &r->by_day, true);
	json_table(fp, "by_mailing", &r->by_mailing, false);
	json_table(fp, "diagnostics", &r->diagnostics, false);
	fputs(",\n\"conversions\":[", fp);
	for (i = 0; i < r->conversion_count; i++) {
		c = &r->conversions[i];
		fputs(i > 0 ? ",\n {\"address\":" : "\n {\"address\":", fp);
		output_json_string(fp, c->address);
		fprintf(fp, ",\"when\":%lld,\"count\":%lu,\"first\":%lld,"
			"\"last\":%lld}", c->when, c->count, c->first,
			c->last);
	}
	fputs("]}\n", fp);
}
