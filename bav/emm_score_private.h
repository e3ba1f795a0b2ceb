/* SPDX-License-Identifier: MIT */
/*
 * emm_score_private.h - what emm_score.c (parameters, window, counting,
 * the run) and emm_score_convert.c (reset, fade-out, conversion) share.
 * Not installed; nothing here is exported from libbav.
 */
#ifndef BAV_EMM_SCORE_PRIVATE_H
#define BAV_EMM_SCORE_PRIVATE_H

#include "bav_emm_score.h"
#include "emm_webhook.h"

#include <stddef.h>

#define TEXT(s) BAV_STORE_PARAM_TEXT(s)
#define INT(v) BAV_STORE_PARAM_INT(v)
#define DAY 86400LL

struct conv {
	long long expire, threshold, fade, last_click, last_open;
	long long count, duration;
};

struct bounce {
	long long cid, customer, mailing;
};

struct entry {
	char *email, *lower;
	long long count;
	bool counted;
	bool variant;		/* a case variant of an earlier entry */
};

struct run {
	struct bav_store *store;
	const struct bav_emm_score_params *p;
	struct bav_emm_score_stats *st;
	const char **error_r;
	long long now;
	char now_s[32];
	struct bounce *b;
	size_t nb, ab;
	struct entry *e;
	size_t ne, ae;
	/* open addressing over e by lower-cased email: index + 1, 0 free */
	size_t *slot, nslot;
	/* scratch for single-value queries */
	long long v;
	bool v_null;
	char *text;
	struct emm_webhook webhook;	/* p->webhook_log */
};

struct company {
	long long id;
	bool tracking, has_success, has_rdir, has_opl;
	struct conv c;
};

/* "YYYY-MM-DD HH:MM:SS", local time (as OpenEMM wrote its times). */
void es_time(long long t, char buf[32]);
/* bav_store_exec() on the run's store, errors into r->error_r. */
int es_exec(struct run *r, const char *sql, const struct bav_store_param *pp,
	    unsigned int n, bav_store_row_t *cb, void *ctx);
/* First column of the first row into r->v and r->text (r->v_null and
   r->text NULL when there is no row or the value is NULL). */
int es_one(struct run *r, const char *sql, const struct bav_store_param *pp,
	   unsigned int n);
/* Steps 4 and 5 for one company: reset (mailtracking 1), fade-out
   (mailtracking 0). 0 or a bav_err. */
int es_reset_and_fade(struct run *r, const struct company *co);
/* Step 6 for one company: the conversion to hard bounces. */
int es_convert(struct run *r, const struct company *co);

#endif
