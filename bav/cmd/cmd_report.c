/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cmd_report - the "bav report" subcommand
 * SYNOPSIS
 *	bav report [--store URI] [--since WHEN] [--until WHEN]
 *		   [--format text|csv|json|html] [--top N] [--title TEXT]
 *		   [--output FILE] [--now TIME]
 *
 *	int cmd_report(int argc, char **argv)
 * DESCRIPTION
 *	Reads the events of the period from the store (report_load.c) and
 *	prints the report in the chosen format (text by default). WHEN is
 *	YYYY-MM-DD (midnight UTC), @SECONDS (unix time) or Nd (midnight N
 *	days before today). The default period is the last 30 days up to
 *	the end of today; --top keeps the first N rows of the domain,
 *	reason, mailing and diagnostic tables (default 20, 0 = all). The
 *	store is --store URI or $BAV_STORE. --now sets the time the
 *	report is made at (tests, reproducible output); --output writes
 *	to FILE (replaced atomically) instead of standard output.
 * DIAGNOSTICS
 *	Exit status: 0 ok; 64 usage; 75 temporary store failure (retry);
 *	78 store configuration (bad URI, schema); 74 write error; 70
 *	other store errors.
 * SEE ALSO
 *	bav(1), report.h, bav_store.h
 */
#include "cmd.h"
#include "report.h"
#include "report_load.h"
#include "storeargs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum fmt { F_TEXT, F_CSV, F_JSON, F_HTML };

static int report_usage(void)
{
	fputs("usage: bav report [--store URI] [--since WHEN] [--until WHEN]"
	      " [--format text|csv|json|html]\n"
	      "                  [--top N] [--title TEXT] [--output FILE]"
	      " [--now TIME]\n"
	      "  WHEN: YYYY-MM-DD, @UNIXTIME or Nd (N days ago)\n", stderr);
	return CMD_EX_USAGE;
}

static int parse_format(const char *s, enum fmt *f_r)
{
	static const char *const names[] = { "text", "csv", "json", "html" };
	unsigned int i;

	for (i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*f_r = (enum fmt)i;
			return 0;
		}
	}
	return -1;
}

static void print(FILE *fp, enum fmt f, const struct report *r)
{
	switch (f) {
	case F_CSV: report_print_csv(fp, r); break;
	case F_JSON: report_print_json(fp, r); break;
	case F_HTML: report_print_html(fp, r); break;
	default: report_print_text(fp, r); break;
	}
}

/* Write to path.tmp, then rename over path. */
static int write_file(const char *path, enum fmt f, const struct report *r)
{
	size_t len = strlen(path) + 16;
	char *tmp = malloc(len);
	FILE *fp;
	int ok;

	if (tmp == NULL)
		return CMD_EX_TEMPFAIL;
	snprintf(tmp, len, "%s.tmp%ld", path, (long)getpid());
	fp = fopen(tmp, "w");
	if (fp == NULL) {
		fprintf(stderr, "bav report: %s: %s\n", tmp, strerror(errno));
		free(tmp);
		return CMD_EX_IOERR;
	}
	print(fp, f, r);
	ok = !ferror(fp);
	ok = fclose(fp) == 0 && ok;
	if (!ok || rename(tmp, path) < 0) {
		fprintf(stderr, "bav report: %s: %s\n", path, strerror(errno));
		(void)unlink(tmp);
		free(tmp);
		return CMD_EX_IOERR;
	}
	free(tmp);
	return CMD_EX_OK;
}

struct report_opts {
	const char *uri, *since, *until, *title, *output;
	enum fmt fmt;
	unsigned int top;
	long long now;
};

static int parse_args(int argc, char **argv, struct report_opts *o)
{
	int i;
	const char *a, *v;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (i + 1 >= argc)
			return -1;
		v = argv[++i];
		if (strcmp(a, "--store") == 0)
			o->uri = v;
		else if (strcmp(a, "--since") == 0)
			o->since = v;
		else if (strcmp(a, "--until") == 0)
			o->until = v;
		else if (strcmp(a, "--title") == 0)
			o->title = v;
		else if (strcmp(a, "--output") == 0 || strcmp(a, "-o") == 0)
			o->output = v;
		else if (strcmp(a, "--format") == 0) {
			if (parse_format(v, &o->fmt) < 0)
				return -1;
		} else if (strcmp(a, "--top") == 0) {
			if (cmd_parse_uint(v, 1000000, &o->top) < 0)
				return -1;
		} else if (strcmp(a, "--now") == 0) {
			if (cmd_parse_time(v, 0, &o->now) < 0)
				return -1;
		} else
			return -1;
	}
	return 0;
}

int cmd_report(int argc, char **argv)
{
	struct report_opts o = { .top = 20, .fmt = F_TEXT };
	long long since, until;
	struct bav_store *store;
	struct report *r;
	const char *error;
	int ret, ex;

	o.now = (long long)time(NULL);
	if (parse_args(argc, argv, &o) < 0)
		return report_usage();
	until = (o.now / 86400 + 1) * 86400;
	since = until - 30 * 86400;
	if ((o.since != NULL && cmd_parse_time(o.since, o.now, &since) < 0) ||
	    (o.until != NULL && cmd_parse_time(o.until, o.now, &until) < 0) ||
	    until <= since) {
		fputs("bav report: bad --since/--until\n", stderr);
		return report_usage();
	}
	if ((ex = cmd_store_open(o.uri, "report", false, &store)) != 0)
		return ex;
	r = report_new(o.title, since, until, o.now, o.top);
	ret = report_load(r, store, &error);
	if (ret < 0) {
		fprintf(stderr, "bav report: %s\n", error);
		bav_store_close(&store);
		report_free(&r);
		return cmd_store_exit(ret);
	}
	bav_store_close(&store);
	if (o.output != NULL) {
		ex = write_file(o.output, o.fmt, r);
	} else {
		print(stdout, o.fmt, r);
		ex = fflush(stdout) == 0 && !ferror(stdout) ? CMD_EX_OK :
			CMD_EX_IOERR;
	}
	report_free(&r);
	return ex;
}
