/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	report_svg - inline SVG charts of the HTML report
 * SYNOPSIS
 *	#include "report.h"
 *
 *	void report_svg_hbars(FILE *fp, const char *title, const char *id,
 *			      const struct report_table *t,
 *			      const struct report_series *series,
 *			      unsigned int ns)
 *	void report_svg_days(FILE *fp, const char *title, const char *id,
 *			     const struct report_table *t,
 *			     const struct report_series *series,
 *			     unsigned int ns)
 *	unsigned long report_nice_step(unsigned long max, unsigned int ticks)
 *	void report_xml_escape(FILE *fp, const char *s)
 * DESCRIPTION
 *	Each function writes one <svg> element (a role="img" figure with
 *	a <title>, a viewBox and no external references) to fp:
 *
 *	report_svg_hbars(): one horizontal stacked bar per row of t, the
 *	row's key on the left, its total at the end of the bar, an x axis
 *	with "nice" ticks and vertical grid lines, a legend of the series.
 *
 *	report_svg_days(): one stacked column per day, a light area and a
 *	line over the daily totals, a y axis with ticks and grid lines, a
 *	date axis with at most about eight labels, a legend.
 *
 *	Every bar segment carries a <title> (its group, series and count),
 *	which browsers show as a tooltip; each day column has a hover
 *	band whose <title> lists all series of the day. Elements have
 *	classes (chart, bar, seg-NAME, axis, grid, legend, total-line) that
 *	the stylesheet of report_html.c and the tests use.
 *
 *	The charts only read the table; keys are XML-escaped.
 * DIAGNOSTICS
 *	none; the caller checks ferror().
 * SEE ALSO
 *	report_html.c, SVG 1.1
 */
#include "report.h"

#include <string.h>

#define CHART_W		760
#define LABEL_W		210
#define VALUE_W		64
#define ROW_H		24
#define BAR_H		16
#define TOP_H		62	/* title and legend */
#define AXIS_H		34
#define DAYS_W		1160	/* the day chart spans the page */

void report_xml_escape(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '&': fputs("&amp;", fp); break;
		case '"': fputs("&quot;", fp); break;
		case '\'': fputs("&#39;", fp); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\t')
				putc(' ', fp);
			else
				putc(*s, fp);
		}
	}
}

/* The key, at most max bytes (not splitting UTF-8), "…" when cut. */
static void xml_short(FILE *fp, const char *s, size_t max)
{
	char buf[256];
	size_t len = strlen(s);

	if (s[0] == '\0') {
		fputs("(unknown)", fp);
		return;
	}
	if (len <= max || max >= sizeof(buf) - 4) {
		report_xml_escape(fp, s);
		return;
	}
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	memcpy(buf, s, max);
	memcpy(buf + max, "\xe2\x80\xa6", 4);	/* "…" + NUL */
	report_xml_escape(fp, buf);
}

unsigned long report_nice_step(unsigned long max, unsigned int ticks)
{
	unsigned long mag = 1, raw;

	if (ticks == 0)
		ticks = 1;
	raw = (max + ticks - 1) / ticks;
	if (raw <= 1)
		return 1;
	while (mag <= raw / 10)
		mag *= 10;
	if (raw <= mag)
		return mag;
	if (raw <= 2 * mag)
		return 2 * mag;
	if (raw <= 5 * mag)
		return 5 * mag;
	return 10 * mag;
}

static unsigned long axis_max(unsigned long max, unsigned int ticks,
			      unsigned long *step_r)
{
	unsigned long step = report_nice_step(max, ticks);

	*step_r = step;
	if (max == 0)
		return step;
	return (max + step - 1) / step * step;
}

static void svg_open(FILE *fp, const char *id, const char *kind,
		     const char *title, int width, int height)
{
	fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
		"class=\"chart %s\" id=\"%s\" role=\"img\" "
		"viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
		"aria-labelledby=\"%s-title\">\n<title id=\"%s-title\">",
		kind, id, width, height, width, height, id, id);
	report_xml_escape(fp, title);
	fputs("</title>\n<text class=\"chart-title\" x=\"12\" y=\"24\">", fp);
	report_xml_escape(fp, title);
	fputs("</text>\n", fp);
}

static void legend(FILE *fp, const struct report_series *series,
		   unsigned int ns)
{
	unsigned int i;
	int x = 12;

	fputs("<g class=\"legend\">\n", fp);
	for (i = 0; i < ns; i++) {
		fprintf(fp, "<g class=\"legend-item\"><rect x=\"%d\" y=\"36\" "
			"width=\"12\" height=\"12\" rx=\"2\" fill=\"%s\"/>"
			"<text x=\"%d\" y=\"46\">", x, series[i].color, x + 17);
		report_xml_escape(fp, series[i].label);
		fputs("</text></g>\n", fp);
		x += 17 + 8 * (int)strlen(series[i].label) + 22;
	}
	fputs("</g>\n", fp);
}

static unsigned long row_sum(const struct report_row *row,
			     const struct report_series *series,
			     unsigned int ns)
{
	unsigned long sum = 0;
	unsigned int i;

	for (i = 0; i < ns; i++)
		sum += row->n[series[i].col];
	return sum;
}

static void no_data(FILE *fp, int x, int y)
{
	fprintf(fp, "<text class=\"no-data\" x=\"%d\" y=\"%d\" "
		"text-anchor=\"middle\">no events in this period</text>\n",
		x, y);
}

void report_svg_hbars(FILE *fp, const char *title, const char *id,
		      const struct report_table *t,
		      const struct report_series *series, unsigned int ns)
{
	unsigned int rows = t->count > 0 ? t->count : 1, i, s;
	int height = TOP_H + (int)rows * ROW_H + AXIS_H;
	double plot_w = CHART_W - LABEL_W - VALUE_W, x, w, y;
	unsigned long max = 0, top, step, v, sum;
	const struct report_row *row;

	for (i = 0; i < t->count; i++) {
		sum = row_sum(&t->rows[i], series, ns);
		if (sum > max)
			max = sum;
	}
	top = axis_max(max, 5, &step);
	svg_open(fp, id, "chart-hbars", title, CHART_W, height);
	legend(fp, series, ns);
	/* grid and x axis */
	fputs("<g class=\"axis x-axis\">\n", fp);
	for (v = 0; v <= top; v += step) {
		x = LABEL_W + plot_w * (double)v / (double)top;
		fprintf(fp, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" "
			"x2=\"%.1f\" y2=\"%d\"/><text class=\"tick\" "
			"x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%lu</text>\n",
			x, TOP_H - 4, x, TOP_H + (int)rows * ROW_H, x,
			TOP_H + (int)rows * ROW_H + 18, v);
	}
	fprintf(fp, "<line class=\"axis-line\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
		"y2=\"%d\"/>\n</g>\n", LABEL_W, TOP_H - 4, LABEL_W,
		TOP_H + (int)rows * ROW_H);
	if (t->count == 0)
		no_data(fp, CHART_W / 2, TOP_H + ROW_H / 2 + 5);
	fputs("<g class=\"bars\">\n", fp);
	for (i = 0; i < t->count; i++) {
		row = &t->rows[i];
		y = TOP_H + i * ROW_H + (ROW_H - BAR_H) / 2.0;
		fprintf(fp, "<g class=\"row\"><text class=\"label\" x=\"%d\" "
			"y=\"%.1f\" text-anchor=\"end\">", LABEL_W - 8,
			y + BAR_H - 4);
		xml_short(fp, row->key, 30);
		fputs("<title>", fp);
		report_xml_escape(fp, row->key);
		fputs("</title></text>\n", fp);
		x = LABEL_W;
		for (s = 0; s < ns; s++) {
			v = row->n[series[s].col];
			if (v == 0)
				continue;
			w = plot_w * (double)v / (double)top;
			fprintf(fp, "<rect class=\"bar seg-%s\" x=\"%.1f\" "
				"y=\"%.1f\" width=\"%.1f\" height=\"%d\" "
				"fill=\"%s\"><title>",
				report_col_name(series[s].col), x, y,
				w < 1 ? 1 : w, BAR_H, series[s].color);
			report_xml_escape(fp, row->key);
			fprintf(fp, " \xe2\x80\x94 %s: %lu</title></rect>\n",
				series[s].label, v);
			x += w;
		}
		fprintf(fp, "<text class=\"value\" x=\"%.1f\" y=\"%.1f\">%lu"
			"</text></g>\n", x + 6, y + BAR_H - 4,
			row_sum(row, series, ns));
	}
	fputs("</g>\n</svg>\n", fp);
}

/* The hover band of one day: its date and every series. */
static void day_band(FILE *fp, const struct report_row *row, double x,
		     double w, int top, int bottom,
		     const struct report_series *series, unsigned int ns)
{
	unsigned int s;

	fprintf(fp, "<rect class=\"hover\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
		"height=\"%d\"><title>", x, top, w, bottom - top);
	report_xml_escape(fp, row->key);
	for (s = 0; s < ns; s++)
		fprintf(fp, "\n%s: %lu", series[s].label,
			row->n[series[s].col]);
	fprintf(fp, "\ntotal: %lu</title></rect>\n",
		row_sum(row, series, ns));
}

static void days_axes(FILE *fp, const struct report_table *t, int left,
		      double plot_w, int top, int bottom, unsigned long ymax,
		      unsigned long step)
{
	unsigned int i, every;
	unsigned long v;
	double y, slot = plot_w / (t->count > 0 ? t->count : 1);

	fputs("<g class=\"axis y-axis\">\n", fp);
	for (v = 0; v <= ymax; v += step) {
		y = bottom - (double)(bottom - top) * (double)v /
			(double)ymax;
		fprintf(fp, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" "
			"x2=\"%.1f\" y2=\"%.1f\"/><text class=\"tick\" "
			"x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%lu</text>\n",
			left, y, left + plot_w, y, left - 6, y + 4, v);
	}
	fputs("</g>\n<g class=\"axis x-axis\">\n", fp);
	fprintf(fp, "<line class=\"axis-line\" x1=\"%d\" y1=\"%d\" "
		"x2=\"%.1f\" y2=\"%d\"/>\n", left, bottom, left + plot_w,
		bottom);
	every = (t->count + 11) / 12;
	if (every == 0)
		every = 1;
	for (i = 0; i < t->count; i += every)
		fprintf(fp, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" "
			"text-anchor=\"middle\">%s</text>\n",
			left + slot * (i + 0.5), bottom + 18, t->rows[i].key);
	fputs("</g>\n", fp);
}

void report_svg_days(FILE *fp, const char *title, const char *id,
		     const struct report_table *t,
		     const struct report_series *series, unsigned int ns)
{
	const int height = 320, left = 56, top = TOP_H + 8,
		bottom = height - AXIS_H;
	double plot_w = DAYS_W - left - 20, slot, bw, x, y, h;
	unsigned long max = 0, ymax, step, v;
	unsigned int i, s;
	const struct report_row *row;

	for (i = 0; i < t->count; i++) {
		v = row_sum(&t->rows[i], series, ns);
		if (v > max)
			max = v;
	}
	ymax = axis_max(max, 5, &step);
	slot = plot_w / (t->count > 0 ? t->count : 1);
	bw = slot * 0.72;
	svg_open(fp, id, "chart-days", title, DAYS_W, height);
	legend(fp, series, ns);
	days_axes(fp, t, left, plot_w, top, bottom, ymax, step);
	if (t->count == 0 || max == 0) {
		no_data(fp, DAYS_W / 2, (top + bottom) / 2);
		fputs("</svg>\n", fp);
		return;
	}
	/* area and line of the daily totals */
	fprintf(fp, "<path class=\"total-area\" d=\"M%.1f %d", left + slot / 2,
		bottom);
	for (i = 0; i < t->count; i++)
		fprintf(fp, " L%.1f %.1f", left + slot * (i + 0.5), bottom -
			(bottom - top) * (double)row_sum(&t->rows[i], series,
			ns) / (double)ymax);
	fprintf(fp, " L%.1f %d Z\"/>\n<g class=\"bars\">\n",
		left + slot * (t->count - 0.5), bottom);
	for (i = 0; i < t->count; i++) {
		row = &t->rows[i];
		x = left + slot * i + (slot - bw) / 2;
		y = bottom;
		for (s = 0; s < ns; s++) {
			v = row->n[series[s].col];
			if (v == 0)
				continue;
			h = (bottom - top) * (double)v / (double)ymax;
			y -= h;
			fprintf(fp, "<rect class=\"bar seg-%s\" x=\"%.1f\" "
				"y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				"fill=\"%s\"><title>%s \xe2\x80\x94 %s: %lu"
				"</title></rect>\n",
				report_col_name(series[s].col), x, y, bw, h,
				series[s].color, row->key, series[s].label, v);
		}
	}
	fputs("</g>\n<polyline class=\"total-line\" points=\"", fp);
	for (i = 0; i < t->count; i++)
		fprintf(fp, "%s%.1f,%.1f", i > 0 ? " " : "",
			left + slot * (i + 0.5), bottom - (bottom - top) *
			(double)row_sum(&t->rows[i], series, ns) /
			(double)ymax);
	fputs("\"/>\n<g class=\"hover-bands\">\n", fp);
	for (i = 0; i < t->count; i++)
		day_band(fp, &t->rows[i], left + slot * i, slot, top, bottom,
			 series, ns);
	fputs("</g>\n</svg>\n", fp);
}
