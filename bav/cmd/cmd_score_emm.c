/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cmd_score_emm - "bav score --emm": OpenEMM's soft-bounce scoring on
 *	its own tables
 * SYNOPSIS
 *	bav score --emm STORE-URI [--password-file FILE] [--cursor NAME]
 *		  [--dry-run] [--quiet] [--now TIME] [--webhook-log FILE]
 *
 *	int cmd_score_emm(int argc, char **argv)
 * DESCRIPTION
 *	Opens the EMM MariaDB database named by STORE-URI (no bav schema
 *	check) and runs bav_emm_score_run() (emm_score.c): what OpenEMM's
 *	daily softbounce job did on softbounce_email_tbl, bounce_tbl and
 *	customer_<cid>_binding_tbl, with its quirks fixed. The parameters
 *	come from bounce_config_tbl "conversion" as in OpenEMM. --cursor
 *	names the timestamp_tbl row of the collection window (default
 *	bounce-conversion-bav; on first use it starts where OpenEMM's
 *	bounce-conversion* cursor stopped). --dry-run does everything and
 *	rolls back. --now scores as if run at that time (tests, replays).
 *	--webhook-log FILE (or emm_webhook_log=FILE in the URI) appends the
 *	hard-bounce webhook line of each conversion after the commit, as
 *	OpenEMM's softbounce does for its webhook sender (emm_licence= of
 *	the URI is the licence of those lines, default 0).
 *	Prints one summary line unless --quiet, warnings on stderr.
 * DIAGNOSTICS
 *	Exit 0 ok; 64 usage; 75 the database is unavailable (nothing
 *	committed, run again later); 78 configuration; 70 other database
 *	errors (nothing committed).
 * SEE ALSO
 *	bav_emm_score.h, bav(1), bav-emm(7)
 */
#include "cmd.h"
#include "cmd_store.h"
#include "cmd_emm.h"
#include "storeargs.h"
#include "bav_emm_score.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void print_warning(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "bav score: %s\n", msg);
}

enum { OPT_EMM = 600, OPT_PWFILE, OPT_CURSOR, OPT_DRY, OPT_QUIET, OPT_NOW,
       OPT_WEBHOOK };

/* The value of NAME=... in the URI's query (malloc'ed), or NULL. */
static char *uri_param(const char *uri, const char *name)
{
	const char *q = strchr(uri, '?');
	size_t nl = strlen(name);

	while (q != NULL) {
		q++;
		if (strncmp(q, name, nl) == 0 && q[nl] == '=') {
			size_t vl = strcspn(q + nl + 1, "&");
			char *v = malloc(vl + 1);

			if (v == NULL)
				abort();
			memcpy(v, q + nl + 1, vl);
			v[vl] = '\0';
			return v;
		}
		q = strchr(q, '&');
	}
	return NULL;
}

static const struct option emm_opts[] = {
	{ "emm", required_argument, NULL, OPT_EMM },
	{ "password-file", required_argument, NULL, OPT_PWFILE },
	{ "cursor", required_argument, NULL, OPT_CURSOR },
	{ "dry-run", no_argument, NULL, OPT_DRY },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "now", required_argument, NULL, OPT_NOW },
	{ "webhook-log", required_argument, NULL, OPT_WEBHOOK },
	{ NULL, 0, NULL, 0 },
};

static int emm_usage(void)
{
	fputs("usage: bav score --emm STORE-URI [--password-file FILE]"
	      " [--cursor NAME] [--dry-run]\n"
	      "                 [--quiet] [--now TIME] [--webhook-log FILE]\n",
	      stderr);
	return CMD_EX_USAGE;
}

int cmd_score_emm(int argc, char **argv)
{
	struct bav_emm_score_params p;
	struct bav_emm_score_stats st;
	struct bav_store *store;
	const char *uri = NULL, *pwfile = NULL, *error = NULL;
	long long now = (long long)time(NULL);
	char *store_uri, *wh = NULL, *lic = NULL;
	bool quiet = false;
	int c, ret;

	memset(&p, 0, sizeof(p));
	p.warn = print_warning;
	optind = 1;
	while ((c = getopt_long(argc, argv, "q", emm_opts, NULL)) != -1) {
		switch (c) {
		case OPT_EMM: uri = optarg; break;
		case OPT_PWFILE: pwfile = optarg; break;
		case OPT_CURSOR: p.cursor = optarg; break;
		case OPT_WEBHOOK: p.webhook_log = optarg; break;
		case OPT_DRY: p.dry_run = true; break;
		case 'q':
		case OPT_QUIET: quiet = true; break;
		case OPT_NOW:
			if (cmd_parse_time(optarg, 0, &now) < 0)
				return emm_usage();
			break;
		default: return emm_usage();
		}
	}
	if (uri == NULL || optind != argc)
		return emm_usage();
	/* emm_webhook_log= and emm_licence= of the URI, as bav-emm(7) */
	if (p.webhook_log == NULL && (wh = uri_param(uri, "emm_webhook_log"))
	    != NULL)
		p.webhook_log = wh;
	if ((lic = uri_param(uri, "emm_licence")) != NULL)
		p.licence = atoll(lic);
	free(lic);
	store_uri = cmd_emm_store_uri(uri);
	ret = store_cmd_open_any(store_uri, pwfile, &store);
	free(store_uri);
	if (ret != 0) {
		free(wh);
		return ret;
	}
	ret = bav_emm_score_run(store, &p, now, &st, &error);
	bav_store_close(&store);
	free(wh);
	if (ret < 0) {
		fprintf(stderr, "bav score: %s (nothing committed)\n", error);
		return cmd_store_exit(ret);
	}
	if (!quiet)
		printf("%sscored %lu companies (%lu soft bounces, %lu of other "
		       "companies): %lu counted (%lu new, %lu merged), %lu "
		       "expired, %lu reset, %lu faded (%lu dropped), %lu "
		       "converted (%lu bindings), %lu active kept, %lu active "
		       "reset\n", p.dry_run ? "dry run: " : "", st.companies,
		       st.bounces, st.skipped, st.counted, st.created,
		       st.merged, st.expired, st.reset, st.faded, st.dropped,
		       st.converted, st.bindings, st.active, st.active_reset);
	return fflush(stdout) == 0 ? CMD_EX_OK : CMD_EX_IOERR;
}
