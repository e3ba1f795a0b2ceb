/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav_emm_score.h - OpenEMM's soft-bounce scoring on an EMM database
 * SYNOPSIS
 *	#include <bav_emm_score.h>
 *
 *	struct bav_emm_score_params p = { .cursor = NULL };
 *	struct bav_emm_score_stats st;
 *	if (bav_emm_score_run(store, &p, time(NULL), &st, &error) < 0) ...
 * DESCRIPTION
 *	What softbounce3.py does (emm-mailloop spec section 6) on
 *	softbounce_email_tbl, bounce_tbl, timestamp_tbl and the
 *	customer_<cid>_* tables of every active company, with the quirks
 *	of spec 8.4 item 16 fixed; see emm_score.c and bav-emm(7) SCORING.
 *	The store is an EMM MariaDB database opened with any_version.
 * DIAGNOSTICS
 *	0, or a negative enum bav_err with the store's text in *error_r;
 *	nothing of the run is committed then. Never exits, never prints:
 *	warnings go to p->warn.
 * SEE ALSO
 *	bav_store.h, bav_score.h
 */
#ifndef BAV_EMM_SCORE_H
#define BAV_EMM_SCORE_H

#include <stdbool.h>

#include "bav.h"
#include "bav_store.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bav_emm_score_params {
	/* timestamp_tbl name of the collection window;
	   NULL: "bounce-conversion-bav" */
	const char *cursor;
	/* compute and write everything, then roll back */
	bool dry_run;
	/* called with one line per warning (bad parameter, missing
	   table); may be NULL */
	void (*warn)(void *ctx, const char *msg);
	void *warn_ctx;
	/* append the hard-bounce webhook line of every conversion whose
	   company has a HARD_BOUNCE webhook_url_tbl row to this file
	   (OpenEMM: /home/openemm/log/webhook.log), after the commit;
	   NULL: off */
	const char *webhook_log;
	long long licence;		/* of the webhook lines (OpenEMM: 0) */
};

struct bav_emm_score_stats {
	unsigned long companies;	/* active companies scored */
	unsigned long bounces;		/* soft bounces in the window */
	unsigned long skipped;		/* of inactive/unknown companies */
	unsigned long counted;		/* addresses counted +1 */
	unsigned long created;		/* of these, new entries */
	unsigned long merged;		/* case duplicates merged */
	unsigned long expired;		/* expired entries deleted */
	unsigned long reset;		/* deleted after a success */
	unsigned long faded;		/* entries faded */
	unsigned long dropped;		/* faded to 0 and deleted */
	unsigned long converted;	/* addresses converted to hard */
	unsigned long bindings;		/* binding rows set to 2 */
	unsigned long active;		/* candidates kept: recent activity */
	unsigned long active_reset;	/* deleted: activity after bounces */
};

/* Run the scoring at time now (unix seconds; database times are local
   time). Everything happens in one transaction. */
BAV_EXPORT int bav_emm_score_run(struct bav_store *store,
				 const struct bav_emm_score_params *p,
				 long long now,
				 struct bav_emm_score_stats *stats,
				 const char **error_r);

#ifdef __cplusplus
}
#endif
#endif
