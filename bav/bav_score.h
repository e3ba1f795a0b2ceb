/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav_score.h - soft-bounce scoring: repeated temporary failures
 *	become a hard bounce
 * SYNOPSIS
 *	#include <bav_score.h>
 *
 *	struct bav_score_params p;
 *	bav_score_params_init(&p);
 *	p.convert_count = 10;
 *	struct bav_score_stats st;
 *	if (bav_score_run(store, &p, time(NULL), false, &st, &error) < 0) ...
 * DESCRIPTION
 *	OpenEMM's soft-bounce scoring (emm-mailloop spec section 6) with its
 *	quirks fixed (section 8.4 item 16). Each soft bounce (kind bounce,
 *	not hard, detail 400..509) of an address counts one. The count of
 *	an address
 *	  - fades: it drops by one for every fade_days days without a soft
 *	    bounce, and the entry is gone when it reaches 0 (the next soft
 *	    bounce starts a new one);
 *	  - expires: expire_days after its first bounce an entry with more
 *	    than expire_threshold bounces is converted, any other dropped;
 *	  - is reset by a delivery or an engagement (reply, click, open)
 *	    after the bounces, and by an unblock (bav_audit action
 *	    "unblock"): only soft bounces after the last of these count;
 *	  - with per_day, counts at most one soft bounce per UTC day (as
 *	    OpenEMM did by collecting once a day);
 *	  - converts the address to hard-bounced (state bounced, reason
 *	    "bounce:conversion", an audit row "conversion") as soon as it
 *	    reaches convert_count and its entry spans convert_days days.
 *	The algorithm is a pure function of the recorded events, the reset
 *	times and "now": it replays the soft bounces of each address in
 *	time order, so it does not depend on the database (the fade-out of
 *	OpenEMM differed between MariaDB and Oracle), on how often it runs,
 *	or on events recorded late; running it twice at the same "now"
 *	changes nothing the second time. Addresses are compared lower-cased
 *	(as the store records them). Nothing is deleted: a reset or
 *	converted address keeps its events, so its history stays visible
 *	(OpenEMM deleted the soft-bounce row of an active receiver).
 * DIAGNOSTICS
 *	bav_score_run() returns 0 or a negative enum bav_err with the
 *	store's error text in *error_r (BAV_ETEMP: retry later; nothing of
 *	the run was committed). Never exits, never prints.
 * SEE ALSO
 *	bav_store.h, bav(1) "bav score"
 */
#ifndef BAV_SCORE_H
#define BAV_SCORE_H

#include <stdbool.h>

#include "bav.h"
#include "bav_store.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bav_score_params {
	unsigned int convert_count;	/* bounces to convert; 40 */
	unsigned int convert_days;	/* span first..last bounce; 30 */
	unsigned int fade_days;		/* silent days per -1; 14; 0: off */
	unsigned int expire_days;	/* entry lifetime; 1100; 0: off */
	unsigned int expire_threshold;	/* convert expired if count > 5 */
	bool per_day;			/* count one soft bounce per UTC day */
};

/* OpenEMM's code defaults (40 bounces over 30 days, fade-out 14 days,
   expiry 1100 days with threshold 5), every soft bounce counted. */
BAV_EXPORT void bav_score_params_init(struct bav_score_params *p);

/* One soft bounce of an address: its time and mailing (0: unknown). */
struct bav_score_event {
	long long time;
	long long mailing;
};

/* The score of one address after a replay. count 0: no entry (the
   address is active). converted: the entry was converted at
   converted_at, with count/first/last as they were then; expired: the
   last entry was dropped by the expiry. */
struct bav_score_result {
	unsigned int count;
	long long first, last;
	long long mailing;		/* of the last counted bounce */
	bool converted;
	long long converted_at;
	unsigned int fades;		/* decrements applied */
	unsigned int expired;		/* entries dropped by expiry */
};

/* Replay the soft bounces ev[0..n) (sorted by time, all after the last
   reset of the address) up to now. Pure: no store, no allocation. */
BAV_EXPORT void bav_score_replay(const struct bav_score_params *p,
				 const struct bav_score_event *ev,
				 unsigned int n, long long now,
				 struct bav_score_result *r);

struct bav_score_stats {
	unsigned long addresses;	/* addresses with counted bounces */
	unsigned long events;		/* soft bounces read */
	unsigned long softbounced;	/* addresses left with a count */
	unsigned long converted;	/* converted in this run */
	unsigned long reset;		/* counts dropped to 0 in this run */
	unsigned long changed;		/* rows updated in this run */
};

/* Score every active or soft-bounced address of the store at time now
   in one transaction (dry_run: compute and roll back). Fills *stats. */
BAV_EXPORT int bav_score_run(struct bav_store *store,
			     const struct bav_score_params *p, long long now,
			     bool dry_run, struct bav_score_stats *stats,
			     const char **error_r);

#ifdef __cplusplus
}
#endif
#endif
