/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	emm_score_convert - the reset, fade-out and conversion steps of
 *	"bav score --emm"
 * SYNOPSIS
 *	#include "emm_score_private.h"
 *
 *	int es_reset_and_fade(struct run *r, const struct company *co)
 *	int es_convert(struct run *r, const struct company *co)
 * DESCRIPTION
 *	Steps 4 to 6 of emm_score.c for one company, inside the run's
 *	transaction. es_reset_and_fade(): with mailtracking 1 an entry of
 *	softbounce_email_tbl is deleted when a customer with its email has
 *	a success_<cid>_tbl row newer than the entry; with mailtracking 0
 *	an entry loses one count per full fade-out period since its
 *	timestamp, the timestamp moves on by those periods, and entries at 0
 *	are deleted. es_convert(): the candidates (count and span, or
 *	expired above the threshold) are converted unless a customer with
 *	the email clicked or opened within last-click/last-open days: the
 *	customers' e-mail bindings in status 1 or 7 become 2
 *	("bounce:conversion", exit mailing the entry's), one bounce_tbl row
 *	(510/599) and a queued hard-bounce webhook line (emm_webhook.c)
 *	per customer whose binding changed, and the entry is deleted; activity after the last bounce deletes the entry unconverted,
 *	activity before it keeps the entry. Table names only from the
 *	integer company id. The fixes against OpenEMM are listed in
 *	emm_score.c and bav-emm-score(7).
 *
 *	Memory: the candidates of one company and their customer ids, freed
 *	before returning.
 * DIAGNOSTICS
 *	0 or the negative bav_err of the failing statement (text in
 *	r->error_r); the caller rolls back. Never exits, never prints.
 * SEE ALSO
 *	emm_score.c, bav_emm_score.h, bav-emm-score(7)
 */
#include "emm_score_private.h"
#include "bav_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long midnight_before(long long now, long long days)
{
	time_t tt = (time_t)now;
	struct tm tm;

	localtime_r(&tt, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday -= (int)days;
	tm.tm_isdst = -1;
	return (long long)mktime(&tm);
}

static const char fade_sql[] =
	"UPDATE softbounce_email_tbl SET bnccnt = bnccnt -"
	" FLOOR(TIMESTAMPDIFF(SECOND, timestamp, ?) / ?),"
	" timestamp = timestamp + INTERVAL"
	" (FLOOR(TIMESTAMPDIFF(SECOND, timestamp, ?) / ?) * ?)"
	" SECOND WHERE company_id = ? AND timestamp <= ?";

/* Steps 4 and 5. */
int es_reset_and_fade(struct run *r, const struct company *co)
{
	struct bav_store_param pp[8];
	char sql[512], t[32];
	int ret;

	pp[0] = (struct bav_store_param)INT(co->id);
	if (co->tracking && co->has_success) {
		snprintf(sql, sizeof(sql), "DELETE FROM softbounce_email_tbl"
			 " WHERE company_id = ? AND EXISTS (SELECT 1 FROM"
			 " customer_%lld_tbl c JOIN success_%lld_tbl s"
			 " ON s.customer_id = c.customer_id"
			 " WHERE c.email = softbounce_email_tbl.email"
			 " AND s.timestamp > softbounce_email_tbl.timestamp)",
			 co->id, co->id);
		if ((ret = es_exec(r, sql, pp, 1, NULL, NULL)) < 0)
			return ret;
		r->st->reset += bav_store_changes(r->store);
	}
	if (co->tracking || co->c.fade <= 0)
		return 0;
	/* one count per full period since the entry's timestamp, which
	   moves on by those periods: the same on every database and for
	   any run frequency */
	es_time(r->now - co->c.fade * DAY, t);
	pp[0] = (struct bav_store_param)TEXT(r->now_s);
	pp[1] = (struct bav_store_param)INT(co->c.fade * DAY);
	pp[2] = (struct bav_store_param)TEXT(r->now_s);
	pp[3] = (struct bav_store_param)INT(co->c.fade * DAY);
	pp[4] = (struct bav_store_param)INT(co->c.fade * DAY);
	pp[5] = (struct bav_store_param)INT(co->id);
	pp[6] = (struct bav_store_param)TEXT(t);
	if ((ret = es_exec(r, fade_sql, pp, 7, NULL, NULL)) < 0)
		return ret;
	r->st->faded += bav_store_changes(r->store);
	pp[0] = (struct bav_store_param)INT(co->id);
	if ((ret = es_exec(r, "DELETE FROM softbounce_email_tbl"
		      " WHERE company_id = ? AND bnccnt <= 0", pp, 1,
		      NULL, NULL)) < 0)
		return ret;
	r->st->dropped += bav_store_changes(r->store);
	return 0;
}

/* ---- conversion -------------------------------------------------------- */

struct cand {
	char *email;
	long long mailing, last;
};

struct cands {
	struct cand *v;
	size_t n, alloc;
	long long *cust;
	size_t ncust, acust;
};

static int cand_row(void *ctx, const struct bav_store_value *v,
		    const char *const *names, unsigned int n)
{
	struct cands *c = ctx;

	(void)names;
	if (n < 3 || v[0].s == NULL)
		return 0;
	if (c->n == c->alloc) {
		c->alloc = c->alloc != 0 ? c->alloc * 2 : 64;
		c->v = bav_xrealloc(c->v, c->alloc * sizeof(*c->v));
	}
	c->v[c->n].email = bav_xstrdup(v[0].s);
	c->v[c->n].mailing = v[1].i;
	c->v[c->n].last = v[2].i;
	c->n++;
	return 0;
}

static int cust_row(void *ctx, const struct bav_store_value *v,
		    const char *const *names, unsigned int n)
{
	struct cands *c = ctx;

	(void)names;
	if (n < 1 || v[0].s == NULL)
		return 0;
	if (c->ncust == c->acust) {
		c->acust = c->acust != 0 ? c->acust * 2 : 8;
		c->cust = bav_xrealloc(c->cust, c->acust * sizeof(*c->cust));
	}
	c->cust[c->ncust++] = v[0].i;
	return 0;
}

/* Latest click or open of the customers within the windows; 0: none. */
static int last_activity(struct run *r, const struct company *co,
			 const struct cands *c, long long *last_r)
{
	struct bav_store_param pp[2];
	char sql[160], since[32];
	size_t i;
	int ret, k;

	*last_r = 0;
	for (k = 0; k < 2; k++) {
		bool have = k == 0 ? co->has_rdir : co->has_opl;

		if (!have)
			continue;
		es_time(midnight_before(r->now, k == 0 ? co->c.last_click :
					 co->c.last_open), since);
		snprintf(sql, sizeof(sql), "SELECT"
			 " UNIX_TIMESTAMP(MAX(timestamp))"
			 " FROM %s_%lld_tbl WHERE customer_id = ?"
			 " AND timestamp >= ?", k == 0 ? "rdirlog" :
			 "onepixellog", co->id);
		for (i = 0; i < c->ncust; i++) {
			pp[0] = (struct bav_store_param)INT(c->cust[i]);
			pp[1] = (struct bav_store_param)TEXT(since);
			if ((ret = es_one(r, sql, pp, 2)) < 0)
				return ret;
			if (!r->v_null && r->v > *last_r)
				*last_r = r->v;
		}
	}
	return 0;
}

static const char bounce_sql[] =
	"INSERT INTO bounce_tbl (company_id, customer_id, mailing_id, detail,"
	" dsn, timestamp) VALUES (?, ?, ?, 510, 599, ?)";

/* The hard-bounce webhook of a conversion (spec 6 step 8), queued
   until the run is committed. */
static int webhook(struct run *r, const struct company *co,
		   const struct cand *k, long long customer)
{
	const struct emm_webhook_event ev = {
		r->p->licence, co->id, k->mailing, customer,
		EMM_WEBHOOK_HARD_BOUNCE, (time_t)r->now };

	return emm_webhook_add(&r->webhook, r->store, &ev, r->error_r);
}

static int convert_one(struct run *r, const struct company *co,
		       struct cands *c, const struct cand *k)
{
	struct bav_store_param pp[5];
	char sql[256];
	long long active;
	bool changed = false;
	size_t i;
	int ret;

	c->ncust = 0;
	snprintf(sql, sizeof(sql), "SELECT customer_id FROM customer_%lld_tbl"
		 " WHERE email = ? ORDER BY customer_id", co->id);
	pp[0] = (struct bav_store_param)TEXT(k->email);
	if ((ret = es_exec(r, sql, pp, 1, cust_row, c)) < 0)
		return ret;
	if ((ret = last_activity(r, co, c, &active)) < 0)
		return ret;
	if (active > 0 && active <= k->last) {
		r->st->active++;	/* keeps its entry and history */
		return 0;
	}
	if (active > 0) {
		r->st->active_reset++;
	} else {
		snprintf(sql, sizeof(sql), "UPDATE customer_%lld_binding_tbl"
			 " SET user_status = 2, user_remark ="
			 " 'bounce:conversion', exit_mailing_id = ?,"
			 " timestamp = ? WHERE customer_id = ?"
			 " AND user_status IN (1, 7) AND mediatype = 0",
			 co->id);
		for (i = 0; i < c->ncust; i++) {
			pp[0] = (struct bav_store_param)INT(k->mailing);
			pp[1] = (struct bav_store_param)TEXT(r->now_s);
			pp[2] = (struct bav_store_param)INT(c->cust[i]);
			if ((ret = es_exec(r, sql, pp, 3, NULL, NULL)) < 0)
				return ret;
			if (bav_store_changes(r->store) == 0)
				continue;
			r->st->bindings += bav_store_changes(r->store);
			changed = true;
			pp[0] = (struct bav_store_param)INT(co->id);
			pp[1] = (struct bav_store_param)INT(c->cust[i]);
			pp[2] = (struct bav_store_param)INT(k->mailing);
			pp[3] = (struct bav_store_param)TEXT(r->now_s);
			if ((ret = es_exec(r, bounce_sql, pp, 4, NULL,
					   NULL)) < 0)
				return ret;
			if ((ret = webhook(r, co, k, c->cust[i])) < 0)
				return ret;
		}
		r->st->converted += changed;
	}
	pp[0] = (struct bav_store_param)INT(co->id);
	pp[1] = (struct bav_store_param)TEXT(k->email);
	pp[2] = pp[1];
	return es_exec(r, "DELETE FROM softbounce_email_tbl"
		       " WHERE company_id = ? AND email = ?"
		       " AND BINARY email = BINARY ?", pp, 3, NULL, NULL);
}

/* count and span reached, or expired above the threshold */
static const char cand_sql[] =
	"SELECT email, COALESCE(mailing_id, 0),"
	" COALESCE(UNIX_TIMESTAMP(timestamp), 0)"
	" FROM softbounce_email_tbl WHERE company_id = ? AND"
	" ((bnccnt >= ? AND (creation_date IS NULL OR timestamp IS NULL"
	" OR creation_date + INTERVAL ? DAY < timestamp))"
	" OR (? > 0 AND creation_date < ? AND bnccnt > ?))"
	" ORDER BY email";

int es_convert(struct run *r, const struct company *co)
{
	struct cands c;
	struct bav_store_param pp[6];
	char expired[32];
	size_t i;
	int ret;

	memset(&c, 0, sizeof(c));
	es_time(co->c.expire > 0 ? r->now - co->c.expire * DAY : 0, expired);
	pp[0] = (struct bav_store_param)INT(co->id);
	pp[1] = (struct bav_store_param)INT(co->c.count);
	pp[2] = (struct bav_store_param)INT(co->c.duration);
	pp[3] = (struct bav_store_param)INT(co->c.expire);
	pp[4] = (struct bav_store_param)TEXT(expired);
	pp[5] = (struct bav_store_param)INT(co->c.threshold);
	ret = es_exec(r, cand_sql, pp, 6, cand_row, &c);
	for (i = 0; ret >= 0 && i < c.n; i++)
		ret = convert_one(r, co, &c, &c.v[i]);
	for (i = 0; i < c.n; i++)
		free(c.v[i].email);
	free(c.v);
	free(c.cust);
	return ret < 0 ? ret : 0;
}
