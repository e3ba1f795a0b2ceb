/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	report_html - the HTML page of "bav report --format html"
 * SYNOPSIS
 *	#include "report.h"
 *
 *	void report_print_html(FILE *fp, const struct report *r)
 * DESCRIPTION
 *	Writes one self-contained HTML5 document: inline CSS, inline SVG
 *	charts (report_svg.c), no scripts, no external fonts, images or
 *	style sheets, so the file can be mailed or archived as it is. The
 *	page shows the period, summary cards (events, hard and soft
 *	bounces, complaints, unsubscribes, addresses blocked, conversions),
 *	a chart of the events per day, bar charts of the top recipient
 *	domains, the reasons and the mailings, and tables of the domains
 *	with their rates, the top diagnostics and the soft-to-hard
 *	conversions. Text from the store is HTML-escaped.
 * DIAGNOSTICS
 *	none; the caller checks ferror().
 * SEE ALSO
 *	report_svg.c, report.h
 */
#include "report.h"

#include <string.h>

static const struct report_series all_series[] = {
	{ REPORT_HARD, "hard bounce", "#c0392b" },
	{ REPORT_SOFT, "soft bounce", "#e69b22" },
	{ REPORT_DELAY, "delay", "#7fa7c9" },
	{ REPORT_COMPLAINT, "complaint", "#8e44ad" },
	{ REPORT_UNSUB, "unsubscribe", "#16a085" },
};
#define N_SERIES (sizeof(all_series) / sizeof(all_series[0]))

static const char css[] =
"*{box-sizing:border-box}\n"
"body{margin:0;background:#f4f5f7;color:#1f2933;"
"font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,"
"\"DejaVu Sans\",sans-serif}\n"
"header{background:#243b53;color:#fff;padding:22px 32px}\n"
"header h1{margin:0 0 4px;font-size:24px;font-weight:600}\n"
"header p{margin:0;color:#bcccdc}\n"
"main{max-width:1600px;margin:0 auto;padding:20px 32px 40px}\n"
".cards{display:grid;grid-template-columns:repeat(auto-fit,"
"minmax(130px,1fr));gap:12px;margin-bottom:20px}\n"
".card{background:#fff;border-radius:8px;padding:12px 16px;"
"box-shadow:0 1px 3px rgba(0,0,0,.08);border-top:4px solid #829ab1}\n"
".card .num{font-size:26px;font-weight:600}\n"
".card .lbl{color:#627d98;font-size:13px}\n"
".card.hard{border-top-color:#c0392b}.card.soft{border-top-color:#e69b22}\n"
".card.complaint{border-top-color:#8e44ad}"
".card.unsubscribe{border-top-color:#16a085}\n"
".grid{display:grid;grid-template-columns:repeat(auto-fit,"
"minmax(560px,1fr));gap:0 20px}\n"
"section{background:#fff;border-radius:8px;padding:12px 16px;"
"box-shadow:0 1px 3px rgba(0,0,0,.08);margin-bottom:20px;overflow-x:auto}\n"
"section h2{font-size:17px;margin:4px 0 10px;font-weight:600}\n"
"svg.chart{width:100%;height:auto;display:block}\n""svg.chart-days{min-width:760px}\n"
"svg .chart-title{font-size:15px;font-weight:600;fill:#243b53}\n"
"svg text{font-size:12px;fill:#334e68}\n"
"svg .tick{fill:#627d98;font-size:11px}\n"
"svg .grid{stroke:#e4e7eb;stroke-width:1}\n"
"svg .axis-line{stroke:#9fb3c8;stroke-width:1}\n"
"svg .value{fill:#486581;font-weight:600}\n"
"svg .bar:hover{opacity:.8}\n"
"svg .total-area{fill:#243b53;opacity:.07}\n"
"svg .total-line{fill:none;stroke:#243b53;stroke-width:1.5;"
"stroke-linejoin:round}\n"
"svg .hover{fill:transparent}svg .hover:hover{fill:rgba(36,59,83,.06)}\n"
"svg .no-data{fill:#9aa5b1;font-style:italic}\n"
"table{border-collapse:collapse;width:100%;font-size:14px}\n"
"th,td{padding:5px 10px;border-bottom:1px solid #e4e7eb;text-align:right;"
"white-space:nowrap}\n"
"th{color:#486581;font-weight:600;background:#f0f4f8}\n"
"th:first-child,td:first-child{text-align:left}\n"
"td.text{text-align:left;white-space:normal;word-break:break-word}\n"
"tr:hover td{background:#f7f9fb}\n"
".none{color:#9aa5b1;font-style:italic}\n"
"footer{color:#829ab1;font-size:12px;text-align:center;padding:10px}\n";

static void card(FILE *fp, const char *cls, unsigned long n,
		 const char *label)
{
	fprintf(fp, "<div class=\"card %s\"><div class=\"num\">%lu</div>"
		"<div class=\"lbl\">%s</div></div>\n", cls, n, label);
}

static void cards(FILE *fp, const struct report *r)
{
	const struct report_row *t = &r->totals;

	fputs("<div class=\"cards\">\n", fp);
	card(fp, "events", t->total, "events");
	card(fp, "hard", t->n[REPORT_HARD], "hard bounces");
	card(fp, "soft", t->n[REPORT_SOFT], "soft bounces");
	card(fp, "delay", t->n[REPORT_DELAY], "delays");
	card(fp, "complaint", t->n[REPORT_COMPLAINT], "complaints");
	card(fp, "unsubscribe", t->n[REPORT_UNSUB], "unsubscribes");
	card(fp, "addresses", r->addresses, "addresses known");
	card(fp, "blocked", r->blocked, "addresses blocked");
	card(fp, "conversions", r->conversion_count, "soft\xe2\x86\x92hard "
	     "conversions");
	fputs("</div>\n", fp);
}

static void rate_cell(FILE *fp, unsigned long n, unsigned long base)
{
	double rate = report_rate(n, base);

	if (rate < 0)
		fputs("<td>\xe2\x80\x93</td>", fp);
	else
		fprintf(fp, "<td>%.2f%%</td>", rate);
}

static void domain_table(FILE *fp, const struct report_table *t)
{
	const struct report_row *row;
	unsigned int i;

	fputs("<section><h2>Recipient domains</h2>\n", fp);
	if (t->count == 0) {
		fputs("<p class=\"none\">no events in this period</p>"
		      "</section>\n", fp);
		return;
	}
	fputs("<table class=\"domains\"><thead><tr><th>domain</th>"
	      "<th>hard</th><th>soft</th><th>delay</th><th>complaints</th>"
	      "<th>unsubscribes</th><th>total</th><th>addresses</th>"
	      "<th>hard rate</th><th>complaint rate</th></tr></thead>"
	      "<tbody>\n", fp);
	for (i = 0; i < t->count; i++) {
		row = &t->rows[i];
		fputs("<tr><td>", fp);
		report_xml_escape(fp, row->key[0] != '\0' ? row->key :
				  "(unknown)");
		fprintf(fp, "</td><td>%lu</td><td>%lu</td><td>%lu</td>"
			"<td>%lu</td><td>%lu</td><td>%lu</td><td>%lu</td>",
			row->n[REPORT_HARD], row->n[REPORT_SOFT],
			row->n[REPORT_DELAY], row->n[REPORT_COMPLAINT],
			row->n[REPORT_UNSUB], row->total, row->addrs);
		rate_cell(fp, row->n[REPORT_HARD], row->base);
		rate_cell(fp, row->n[REPORT_COMPLAINT], row->base);
		fputs("</tr>\n", fp);
	}
	fputs("</tbody></table></section>\n", fp);
}

static void diag_table(FILE *fp, const struct report_table *t)
{
	unsigned int i;

	fputs("<section><h2>Top diagnostics</h2>\n", fp);
	if (t->count == 0) {
		fputs("<p class=\"none\">none</p></section>\n", fp);
		return;
	}
	fputs("<table class=\"diagnostics\"><thead><tr><th>events</th>"
	      "<th>hard</th><th>soft</th><th style=\"text-align:left\">"
	      "diagnostic</th></tr></thead><tbody>\n", fp);
	for (i = 0; i < t->count; i++) {
		fprintf(fp, "<tr><td>%lu</td><td>%lu</td><td>%lu</td>"
			"<td class=\"text\">", t->rows[i].total,
			t->rows[i].n[REPORT_HARD], t->rows[i].n[REPORT_SOFT]);
		report_xml_escape(fp, t->rows[i].key);
		fputs("</td></tr>\n", fp);
	}
	fputs("</tbody></table></section>\n", fp);
}

static void conversion_table(FILE *fp, const struct report *r)
{
	const struct report_conversion *c;
	char d1[16], d2[16], d3[16];
	unsigned int i;

	fputs("<section><h2>Soft-to-hard conversions</h2>\n", fp);
	if (r->conversion_count == 0) {
		fputs("<p class=\"none\">none in this period</p></section>\n",
		      fp);
		return;
	}
	fputs("<table class=\"conversions\"><thead><tr><th>address</th>"
	      "<th>converted</th><th>soft bounces</th><th>first</th>"
	      "<th>last</th></tr></thead><tbody>\n", fp);
	for (i = 0; i < r->conversion_count; i++) {
		c = &r->conversions[i];
		fputs("<tr><td>", fp);
		report_xml_escape(fp, c->address);
		fprintf(fp, "</td><td>%s</td><td>%lu</td><td>%s</td>"
			"<td>%s</td></tr>\n",
			report_date(d1, sizeof(d1), c->when), c->count,
			report_date(d2, sizeof(d2), c->first),
			report_date(d3, sizeof(d3), c->last));
	}
	fputs("</tbody></table></section>\n", fp);
}

static void chart_section(FILE *fp, const char *title, const char *id,
			  const struct report_table *t, bool days)
{
	fputs("<section>\n", fp);
	if (days)
		report_svg_days(fp, title, id, t, all_series, N_SERIES);
	else
		report_svg_hbars(fp, title, id, t, all_series, N_SERIES);
	fputs("</section>\n", fp);
}

void report_print_html(FILE *fp, const struct report *r)
{
	char d1[16], d2[16], d3[16];

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	      "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	      "content=\"width=device-width, initial-scale=1\">\n<title>", fp);
	report_xml_escape(fp, r->title);
	fprintf(fp, " %s \xe2\x80\x93 %s</title>\n<style>\n%s</style>\n"
		"</head>\n<body>\n<header><h1>",
		report_date(d1, sizeof(d1), r->since),
		report_date(d2, sizeof(d2), r->until - 1), css);
	report_xml_escape(fp, r->title);
	fprintf(fp, "</h1><p>%s \xe2\x80\x93 %s \xc2\xb7 generated %s "
		"\xc2\xb7 %lu addresses known, %lu soft-bounced</p>"
		"</header>\n<main>\n", d1, d2,
		report_date(d3, sizeof(d3), r->generated), r->addresses,
		r->softbounced);
	cards(fp, r);
	chart_section(fp, "Events per day", "chart-days", &r->by_day, true);
	fputs("<div class=\"grid\">\n", fp);
	chart_section(fp, "Top recipient domains", "chart-domains",
		      &r->by_domain, false);
	chart_section(fp, "Reasons", "chart-reasons", &r->by_reason, false);
	chart_section(fp, "Mailings", "chart-mailings", &r->by_mailing,
		      false);
	fputs("</div>\n", fp);
	domain_table(fp, &r->by_domain);
	diag_table(fp, &r->diagnostics);
	conversion_table(fp, r);
	fprintf(fp, "</main>\n<footer>bav %s</footer>\n</body>\n</html>\n",
		BAV_VERSION_STRING);
}
