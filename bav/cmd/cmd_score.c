/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cmd_score - the "bav score" subcommand (soft-bounce scoring)
 * SYNOPSIS
 *	bav score [--store URI] [--convert-count N] [--convert-days N]
 *		  [--fade-days N] [--expire-days N] [--expire-threshold N]
 *		  [--per-day] [--dry-run] [--quiet] [--now TIME]
 *	bav score --emm STORE-URI ...	(OpenEMM's tables: cmd_score_emm.c)
 *
 *	int cmd_score(int argc, char **argv)
 * DESCRIPTION
 *	Runs bav_score_run() (bav_score.h) over the store named by
 *	--store or $BAV_STORE: soft bounces are counted per address, fade
 *	out after --fade-days silent days, expire --expire-days after the
 *	first one, reset on a later delivery or engagement, and an
 *	address reaching --convert-count soft bounces over at least
 *	--convert-days days becomes hard-bounced. Defaults are OpenEMM's:
 *	40 over 30 days, fade-out 14, expiry 1100 days with threshold 5.
 *	--per-day counts at most one soft bounce per address and UTC day,
 *	as OpenEMM's daily collection did.
 *	Prints one summary line (unless --quiet): addresses scored, soft
 *	bounces read, addresses soft-bounced, converted, reset, rows
 *	changed. --dry-run computes everything and commits nothing.
 *	--now scores as if run at that time (tests, replays).
 * DIAGNOSTICS
 *	Exit status: 0 ok; 64 usage; 75 temporary store failure (nothing
 *	committed, run again later); 78 store configuration; 70 other
 *	store errors.
 * SEE ALSO
 *	bav(1), bav_score.h
 */
#include "cmd.h"
#include "storeargs.h"
#include "bav_score.h"
#include "cmd_emm.h"

#include <string.h>
#include <time.h>

static int score_usage(void)
{
	fputs("usage: bav score [--store URI] [--convert-count N]"
	      " [--convert-days N] [--fade-days N]\n"
	      "                 [--expire-days N] [--expire-threshold N]"
	      " [--per-day] [--dry-run]\n"
	      "                 [--quiet] [--now TIME]\n", stderr);
	return CMD_EX_USAGE;
}

struct num_opt {
	const char *name;
	unsigned int min, max;
	size_t offset;
};

static const struct num_opt num_opts[] = {
	{ "--convert-count", 1, 1000000,
	  offsetof(struct bav_score_params, convert_count) },
	{ "--convert-days", 0, 36500,
	  offsetof(struct bav_score_params, convert_days) },
	{ "--fade-days", 0, 36500,
	  offsetof(struct bav_score_params, fade_days) },
	{ "--expire-days", 0, 36500,
	  offsetof(struct bav_score_params, expire_days) },
	{ "--expire-threshold", 0, 1000000,
	  offsetof(struct bav_score_params, expire_threshold) },
};

/* 1 consumed a numeric option, 0 not one, -1 bad value. */
static int num_option(const char *name, const char *val,
		      struct bav_score_params *p)
{
	unsigned int i, v;

	for (i = 0; i < sizeof(num_opts) / sizeof(num_opts[0]); i++) {
		if (strcmp(name, num_opts[i].name) != 0)
			continue;
		if (val == NULL || cmd_parse_uint(val, num_opts[i].max, &v) < 0 ||
		    v < num_opts[i].min) {
			fprintf(stderr, "bav score: %s needs a number %u..%u\n",
				name, num_opts[i].min, num_opts[i].max);
			return -1;
		}
		*(unsigned int *)((char *)p + num_opts[i].offset) = v;
		return 1;
	}
	return 0;
}

int cmd_score(int argc, char **argv)
{
	struct bav_score_params p;
	struct bav_score_stats st;
	struct bav_store *store;
	const char *uri = NULL, *error;
	bool dry_run = false, quiet = false;
	long long now = (long long)time(NULL);
	int i, r, ex;

	for (i = 1; i < argc; i++)
		if (strncmp(argv[i], "--emm", 5) == 0 &&
		    (argv[i][5] == '\0' || argv[i][5] == '='))
			return cmd_score_emm(argc, argv);
	bav_score_params_init(&p);
	for (i = 1; i < argc; i++) {
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(argv[i], "--dry-run") == 0)
			dry_run = true;
		else if (strcmp(argv[i], "--per-day") == 0)
			p.per_day = true;
		else if (strcmp(argv[i], "--quiet") == 0 ||
			 strcmp(argv[i], "-q") == 0)
			quiet = true;
		else if (strcmp(argv[i], "--store") == 0 && val != NULL) {
			uri = val;
			i++;
		} else if (strcmp(argv[i], "--now") == 0 && val != NULL) {
			if (cmd_parse_time(val, 0, &now) < 0)
				return score_usage();
			i++;
		} else if ((r = num_option(argv[i], val, &p)) == 1)
			i++;
		else
			return score_usage();
	}
	if ((ex = cmd_store_open(uri, "score", false, &store)) != 0)
		return ex;
	r = bav_score_run(store, &p, now, dry_run, &st, &error);
	if (r < 0) {
		fprintf(stderr, "bav score: %s%s\n", error, r == BAV_ETEMP ?
			" (temporary; nothing committed)" : "");
		bav_store_close(&store);
		return cmd_store_exit(r);
	}
	bav_store_close(&store);
	if (!quiet)
		printf("%sscored %lu addresses (%lu soft bounces): %lu "
		       "soft-bounced, %lu converted to hard, %lu reset, "
		       "%lu changed\n", dry_run ? "dry run: " : "",
		       st.addresses, st.events, st.softbounced, st.converted,
		       st.reset, st.changed);
	return fflush(stdout) == 0 ? CMD_EX_OK : CMD_EX_IOERR;
}
