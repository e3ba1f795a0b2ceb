/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cmd_reclassify - "bav reclassify": classify kept spool entries again
 * SYNOPSIS
 *	bav reclassify [--spool DIR] [--bad] [--requeue] [--rules FILE]...
 *		[--no-default-rules] [--rid RID] [--max-depth N]
 *		[--max-size BYTES] [NAME...]
 *
 *	int cmd_reclassify(int argc, char **argv)
 * DESCRIPTION
 *	Classifies the raw messages kept in the spool again with the current
 *	rules and limits: the archive cur/ (recorded messages, kept
 *	--keep-days by the recorder), or with --bad the entries the recorder
 *	set aside in bad/ (libbav could not classify them, or they were
 *	corrupt). Every entry (or each NAME) gets one line on stdout:
 *	  NAME <TAB> old kind <TAB> new kind <TAB> old results <TAB>
 *	  new results <TAB> same|changed
 *	("unclassified" for a message libbav refuses, with the reason on
 *	stderr). Nothing changes without --requeue.
 *
 *	--requeue writes each entry that now classifies as a new spool entry
 *	(same envelope, host, time and message key, the new verdict) into
 *	new/ for the recorder, and only then removes the old one. For bad/
 *	entries that is how a message becomes recorded after a rule or
 *	limit change. A message from cur/ is already recorded; the store
 *	keeps the first record of a message key, so requeueing it changes
 *	nothing there (the archive copy is replaced).
 * DIAGNOSTICS
 *	"bav reclassify: NAME: why" on stderr. Exit 0; 1 some entry could
 *	not be read or still does not classify; 64 usage; 75 the spool
 *	can't be opened or written; 78 broken rule file.
 * SEE ALSO
 *	bav-deliver(8), bav_spool.h
 */
#include "deliver.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_BAD = 400, OPT_REQUEUE };

static const struct option long_opts[] = {
	DELIVER_LONG_OPTS,
	{ "bad", no_argument, NULL, OPT_BAD },
	{ "requeue", no_argument, NULL, OPT_REQUEUE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct reclassify {
	struct deliver_cfg cfg;
	struct bav_spool *spool;
	const char *sub;
	bool requeue;
	unsigned int failed;
	int temp;
};

static int reclassify_usage(void)
{
	fputs("usage: bav reclassify [--spool DIR] [--bad] [--requeue]"
	      " [--rules FILE]... [--no-default-rules]\n"
	      "                      [--rid RID] [--max-depth N]"
	      " [--max-size BYTES] [NAME...]\n", stderr);
	return CMD_EX_USAGE;
}

/* Write e again with verdict v into new/, then remove the old entry. */
static void requeue(struct reclassify *r, const char *name,
		    const struct bav_spool_entry *e,
		    const struct bav_verdict *v)
{
	struct bav_spool_entry n = *e;
	const char *error, *newname;

	n.verdict = v;
	n.error = NULL;
	if (bav_spool_write(r->spool, &n, &newname, &error) != BAV_OK ||
	    bav_spool_remove(r->spool, r->sub, name, &error) != BAV_OK) {
		fprintf(stderr, "bav reclassify: %s: %s\n", name, error);
		r->temp = 1;
	}
}

static void one(struct reclassify *r, const char *name)
{
	struct bav_pool *pool = bav_pool_new(65536);
	struct bav_spool_entry *e;
	struct bav_verdict *v = NULL;
	const char *error = NULL, *old_kind, *new_kind;
	unsigned int old_n;

	if (bav_spool_read_sub(r->spool, r->sub, name, pool, &e,
			       &error) != BAV_OK) {
		fprintf(stderr, "bav reclassify: %s\n", error);
		r->failed++;
		bav_pool_free(&pool);
		return;
	}
	old_kind = e->verdict != NULL ? bav_kind_name(e->verdict->kind) :
		"unclassified";
	old_n = e->verdict != NULL ? e->verdict->result_count : 0;
	if (bav_classify(e->msg, e->msg_len, &r->cfg.opts, pool, &v,
			 &error) != BAV_OK) {
		fprintf(stderr, "bav reclassify: %s: %s\n", name,
			error != NULL ? error : "not classified");
		v = NULL;
		r->failed++;
	}
	new_kind = v != NULL ? bav_kind_name(v->kind) : "unclassified";
	printf("%s\t%s\t%s\t%u\t%u\t%s\n", name, old_kind, new_kind, old_n,
	       v != NULL ? v->result_count : 0,
	       strcmp(old_kind, new_kind) == 0 &&
	       old_n == (v != NULL ? v->result_count : 0) ? "same" :
	       "changed");
	if (r->requeue && v != NULL)
		requeue(r, name, e, v);
	bav_pool_free(&pool);
}

int cmd_reclassify(int argc, char **argv)
{
	struct reclassify r;
	struct bav_pool *pool = NULL;
	const char **names, *error;
	char *oerr = NULL;
	unsigned int n, i;
	int opt, ret = 0;

	memset(&r, 0, sizeof(r));
	r.sub = "cur";
	deliver_cfg_init(&r.cfg, argc);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_BAD: r.sub = "bad"; break;
		case OPT_REQUEUE: r.requeue = true; break;
		default:
			if (deliver_cfg_option(&r.cfg, opt, optarg,
					       "reclassify") <= 0) {
				ret = reclassify_usage();
				goto out;
			}
		}
	}
	if (deliver_cfg_load(&r.cfg, "reclassify") < 0) {
		ret = CMD_EX_CONFIG;
		goto out;
	}
	if (bav_spool_open(r.cfg.spool_dir, false, &r.spool, &oerr) != BAV_OK) {
		fprintf(stderr, "bav reclassify: %s\n", oerr);
		ret = CMD_EX_TEMPFAIL;
		goto out;
	}
	if (optind < argc) {
		for (i = (unsigned int)optind; i < (unsigned int)argc; i++)
			one(&r, argv[i]);
	} else {
		pool = bav_pool_new(65536);
		if (bav_spool_list_sub(r.spool, r.sub, pool, 0, &names, &n,
				       &error) != BAV_OK) {
			fprintf(stderr, "bav reclassify: %s\n", error);
			ret = CMD_EX_TEMPFAIL;
			goto out;
		}
		for (i = 0; i < n; i++)
			one(&r, names[i]);
	}
	if (fflush(stdout) != 0)
		ret = CMD_EX_IOERR;
	else if (r.temp)
		ret = CMD_EX_TEMPFAIL;
	else if (r.failed > 0)
		ret = CMD_EX_FAIL;
out:
	if (pool != NULL)
		bav_pool_free(&pool);
	bav_spool_close(&r.spool);
	free(oerr);
	deliver_cfg_free(&r.cfg);
	return ret;
}
