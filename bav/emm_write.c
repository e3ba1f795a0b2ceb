/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	emm_write - what update and bavd write into the EMM tables
 * SYNOPSIS
 *	#include "emm_private.h"
 *
 *	int emm_write_bounce(struct bav_emm *emm, const struct emm_event *ev,
 *			     struct bav_emm_outcome *out, const char **error_r)
 *	int emm_write_unsubscribe(struct bav_emm *emm,
 *				  const struct emm_event *ev,
 *				  struct bav_emm_outcome *out,
 *				  const char **error_r)
 *	int emm_write_log(struct bav_emm *emm, const struct emm_event *ev,
 *			  const char **error_r)
 *	int emm_write_due(struct bav_emm *emm, time_t now,
 *			  const char **error_r)
 * DESCRIPTION
 *	emm_write_bounce() is update's bounce module for one mailloop
 *	record (spec 5.11.2): the numeric code (a "user unknown" text makes
 *	it 511; x.9.9 gives 510/400/100), the detail from
 *	bounce_translate_tbl (emm_detail.c), then
 *	  detail 0            nothing (ignored)
 *	  hard, code not 5xx  parked in bav_emm_delayed_tbl for delay_s
 *	                      (24 h), written by emm_write_due() unless a
 *	                      success for the same mailing and customer
 *	                      arrived meanwhile
 *	  soft, hard, 100     INSERT bounce_tbl, unless a hard bounce of the
 *	                      same mailing and customer is less than 3 days
 *	                      old and this one is not hard (the tracker)
 *	  hard, 100           the success row of the mailing is revoked
 *	                      (success_<cid>_tbl, mailing_tbl.delivered);
 *	                      513: customer_<cid>_tbl.sys_encrypted_sending
 *	                      = 0; else customer_<cid>_binding_tbl
 *	                      user_status 2 on every list (media 0) whose
 *	                      status is 1 or 7, and the same for the other
 *	                      customers with the same address
 *	                      (bounce-mark-duplicate) with exit_mailing_id 0
 *	A hard bounce (also 513, also when no binding was in status 1 or
 *	7) and every duplicate whose binding changed queue a webhook.log
 *	line (type 4, emm_webhook.c) when emm_webhook_log is set; it is
 *	written after the commit.
 *	emm_write_unsubscribe() sets user_status 4 on the origin mailing's
 *	list (all media, not when blocklisted: 6), spec 5.8.
 *	emm_write_log() writes the mailloop_log_tbl row (5.11.1).
 *
 *	Per-company table names are built only from the validated company
 *	id (a positive integer); every value is a "?" parameter.
 * DIAGNOSTICS
 *	0 or the store's bav_err with *error_r (store-owned).
 * SEE ALSO
 *	emm-mailloop spec 5.8, 5.11, 7; bav-emm(7)
 */
#include "emm_private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TRACK_S (3 * 86400)

/* "customer_<cid>_binding_tbl" etc.: only from a positive id (the
   format is a literal at every use, so the compiler checks it). */
#define table(emm, fmt, cid) \
	((cid) > 0 && (cid) <= 0x7fffffffLL ? \
	 (const char *)bav_pool_printf((emm)->pool, fmt, (long long)(cid)) : \
	 (const char *)NULL)

static int bad_company(const char **error_r)
{
	*error_r = "company id out of range";
	return BAV_EDATA;
}

static int found_row(void *ctx, const struct bav_store_value *v,
		     const char *const *names, unsigned int n)
{
	(void)names;
	(void)n;
	*(long long *)ctx = v[0].i != 0 ? v[0].i : 1;
	return 1;
}

/* The bounce itself: bounce_tbl, success revocation, bindings. */
struct hard {
	long long company, mailing, customer;
	int detail, dsn;
	const char *remark, *stamp;
	time_t time;
};

static int revoke_success(struct bav_emm *emm, const struct hard *h,
			  const char **error_r)
{
	const struct bav_store_param p[] = {
		BAV_STORE_PARAM_INT(h->customer),
		BAV_STORE_PARAM_INT(h->mailing) };
	const char *t = table(emm, "DELETE FROM success_%lld_tbl WHERE"
			      " customer_id = ? AND mailing_id = ?",
			      h->company);
	unsigned long long n;
	int ret;

	if (t == NULL)
		return bad_company(error_r);
	if ((ret = bav_store_exec(emm->store, t, p, 2, NULL, NULL,
				  error_r)) != BAV_OK)
		return ret;
	if ((n = bav_store_changes(emm->store)) == 0)
		return BAV_OK;
	{
		const struct bav_store_param q[] = {
			BAV_STORE_PARAM_INT(n), BAV_STORE_PARAM_INT(n),
			BAV_STORE_PARAM_INT(h->mailing) };

		return bav_store_exec(emm->store, "UPDATE mailing_tbl SET"
				      " delivered = delivered - ? WHERE"
				      " delivered >= ? AND mailing_id = ?", q,
				      3, NULL, NULL, error_r);
	}
}

/* The hard-bounce webhook of customer (queued, written after the
   commit by emm_webhook_flush()). */
static int webhook(struct bav_emm *emm, const struct hard *h,
		   long long customer, const char **error_r)
{
	const struct emm_webhook_event ev = {
		emm->opts.licence, h->company, h->mailing, customer,
		EMM_WEBHOOK_HARD_BOUNCE, h->time };

	return emm_webhook_add(&emm->webhook, emm->store, &ev, error_r);
}

static int set_bound(struct bav_emm *emm, const struct hard *h,
		     long long customer, long long exit_mailing,
		     const char *remark, unsigned int *changed,
		     const char **error_r)
{
	const struct bav_store_param p[] = {
		BAV_STORE_PARAM_TEXT(h->stamp), BAV_STORE_PARAM_TEXT(remark),
		BAV_STORE_PARAM_INT(exit_mailing),
		BAV_STORE_PARAM_INT(customer) };
	const char *t = table(emm, "UPDATE customer_%lld_binding_tbl SET"
			      " user_status = 2, timestamp = ?,"
			      " user_remark = ?, exit_mailing_id = ? WHERE"
			      " customer_id = ? AND mediatype = 0 AND"
			      " user_status IN (1, 7)", h->company);
	int ret;

	if (t == NULL)
		return bad_company(error_r);
	ret = bav_store_exec(emm->store, t, p, 4, NULL, NULL, error_r);
	if (ret == BAV_OK)
		*changed += (unsigned int)bav_store_changes(emm->store);
	return ret;
}

struct dups {
	struct bav_pool *pool;
	const char *email;
	long long ids[64];
	unsigned int n;
};

static int email_row(void *ctx, const struct bav_store_value *v,
		     const char *const *names, unsigned int n)
{
	struct dups *d = ctx;

	(void)names;
	(void)n;
	d->email = bav_pool_strdup(d->pool, v[0].s != NULL ? v[0].s : "");
	return 1;
}

/* Same address case-insensitively, local part exactly (spec 5.11.2). */
static int dup_row(void *ctx, const struct bav_store_value *v,
		   const char *const *names, unsigned int n)
{
	struct dups *d = ctx;
	const char *at1 = strrchr(d->email, '@');
	const char *e = v[1].s != NULL ? v[1].s : "";
	const char *at2 = strrchr(e, '@');

	(void)names;
	(void)n;
	if (at1 == NULL || at2 == NULL || at1 - d->email != at2 - e ||
	    strncmp(d->email, e, (size_t)(at1 - d->email)) != 0)
		return 0;
	if (d->n < sizeof(d->ids) / sizeof(d->ids[0]))
		d->ids[d->n++] = v[0].i;
	return 0;
}

static int mark_duplicates(struct bav_emm *emm, const struct hard *h,
			   unsigned int *changed, const char **error_r)
{
	const struct bav_store_param p[] = { BAV_STORE_PARAM_INT(h->customer) };
	struct dups d = { emm->pool, NULL, { 0 }, 0 };
	const char *t = table(emm, "SELECT email FROM customer_%lld_tbl WHERE"
			      " customer_id = ?", h->company);
	const char *remark;
	unsigned int i;
	int ret;

	if (t == NULL)
		return bad_company(error_r);
	if ((ret = bav_store_exec(emm->store, t, p, 1, email_row, &d,
				  error_r)) != BAV_OK || d.email == NULL ||
	    d.email[0] == '\0')
		return ret;
	{
		const struct bav_store_param q[] = {
			BAV_STORE_PARAM_TEXT(d.email),
			BAV_STORE_PARAM_INT(h->customer) };

		t = table(emm, "SELECT customer_id, email FROM"
			  " customer_%lld_tbl WHERE LOWER(email) = LOWER(?)"
			  " AND customer_id <> ?", h->company);
		ret = bav_store_exec(emm->store, t, q, 2, dup_row, &d,
				     error_r);
		if (ret != BAV_OK)
			return ret;
	}
	remark = bav_pool_printf(emm->pool, "%s (by %lld)", h->remark,
				 h->mailing);
	for (i = 0; i < d.n && ret == BAV_OK; i++) {
		unsigned int before = *changed;

		ret = set_bound(emm, h, d.ids[i], 0, remark, changed, error_r);
		/* the duplicate's own id (update uses the original's) */
		if (ret == BAV_OK && *changed != before)
			ret = webhook(emm, h, d.ids[i], error_r);
	}
	return ret;
}

static int apply(struct bav_emm *emm, const struct hard *h,
		 struct bav_emm_outcome *out, const char **error_r)
{
	bool hard = emm_detail_hard(h->detail);
	long long recent = 0;
	char since[32];
	int ret;

	if (!hard) {
		const struct bav_store_param p[] = {
			BAV_STORE_PARAM_INT(h->mailing),
			BAV_STORE_PARAM_INT(h->customer),
			BAV_STORE_PARAM_TEXT(since) };

		emm_stamp(h->time - TRACK_S, since);
		ret = bav_store_exec(emm->store, "SELECT 1 FROM bounce_tbl"
				     " WHERE mailing_id = ? AND customer_id = ?"
				     " AND detail BETWEEN 510 AND 513 AND"
				     " timestamp >= ? LIMIT 1", p, 3, found_row,
				     &recent, error_r);
		if (ret != BAV_OK)
			return ret;
	}
	if (recent == 0) {
		const struct bav_store_param p[] = {
			BAV_STORE_PARAM_INT(h->company),
			BAV_STORE_PARAM_INT(h->customer),
			BAV_STORE_PARAM_INT(h->detail),
			BAV_STORE_PARAM_INT(h->mailing),
			BAV_STORE_PARAM_INT(h->dsn),
			BAV_STORE_PARAM_TEXT(h->stamp) };

		ret = bav_store_exec(emm->store, "INSERT INTO bounce_tbl"
				     " (company_id, customer_id, detail,"
				     " mailing_id, dsn, timestamp) VALUES"
				     " (?, ?, ?, ?, ?, ?)", p, 6, NULL, NULL,
				     error_r);
		if (ret != BAV_OK)
			return ret;
	}
	if (!hard && h->detail != 100)
		return BAV_OK;
	if ((ret = revoke_success(emm, h, error_r)) != BAV_OK)
		return ret;
	if (hard && (ret = webhook(emm, h, h->customer, error_r)) != BAV_OK)
		return ret;
	if (h->detail == 513) {
		const struct bav_store_param p[] = {
			BAV_STORE_PARAM_INT(h->customer) };
		const char *t = table(emm, "UPDATE customer_%lld_tbl SET"
				      " sys_encrypted_sending = 0 WHERE"
				      " customer_id = ?", h->company);

		return bav_store_exec(emm->store, t, p, 1, NULL, NULL,
				      error_r);
	}
	ret = set_bound(emm, h, h->customer, h->mailing, h->remark,
			&out->bindings, error_r);
	if (ret == BAV_OK && emm->cfg->mark_duplicates)
		ret = mark_duplicates(emm, h, &out->bindings, error_r);
	return ret;
}

static int park(struct bav_emm *emm, const struct hard *h,
		const char **error_r)
{
	const struct bav_store_param k[] = {
		BAV_STORE_PARAM_INT(h->mailing),
		BAV_STORE_PARAM_INT(h->customer) };
	char due[32];
	const struct bav_store_param p[] = {
		BAV_STORE_PARAM_INT(h->company),
		BAV_STORE_PARAM_INT(h->mailing),
		BAV_STORE_PARAM_INT(h->customer),
		BAV_STORE_PARAM_INT(h->detail),
		BAV_STORE_PARAM_INT(h->dsn),
		BAV_STORE_PARAM_TEXT(h->remark),
		BAV_STORE_PARAM_TEXT(due),
		BAV_STORE_PARAM_TEXT(h->stamp) };
	int ret;

	emm_stamp(h->time + (time_t)emm->opts.delay_s, due);
	ret = bav_store_exec(emm->store, "DELETE FROM bav_emm_delayed_tbl"
			     " WHERE mailing_id = ? AND mediatype = 0 AND"
			     " customer_id = ?", k, 2, NULL, NULL, error_r);
	if (ret != BAV_OK)
		return ret;
	return bav_store_exec(emm->store, "INSERT INTO bav_emm_delayed_tbl"
			      " (company_id, mailing_id, mediatype,"
			      " customer_id, detail, dsn, remark,"
			      " from_mailloop, due, created) VALUES"
			      " (?, ?, 0, ?, ?, ?, ?, 1, ?, ?)", p, 8, NULL,
			      NULL, error_r);
}

int emm_write_bounce(struct bav_emm *emm, const struct emm_event *ev,
		     struct bav_emm_outcome *out, const char **error_r)
{
	const struct emm_info info = { ev->error_text, NULL, ev->error_text };
	struct hard h;
	int code = ev->dsn;

	if (ev->customer <= 0 || ev->mailing <= 0 || code <= 0)
		return BAV_OK;
	if (ev->error_text != NULL &&
	    (bav_strcasestr(ev->error_text, "user unknown") != NULL ||
	     bav_strcasestr(ev->error_text, "unknown user") != NULL))
		code = 511;
	if (code % 100 == 99)
		out->detail = code / 100 == 5 ? 510 : code / 100 == 4 ? 400
			: 100;
	else
		out->detail = emm_translate(emm->cfg->translates,
					    emm->cfg->ntranslates, ev->company,
					    code, &info, &out->rule_id);
	out->dsn = code;
	if (out->detail == 0 || out->detail == 200 || out->detail == 1)
		return BAV_OK;
	memset(&h, 0, sizeof(h));
	h.company = ev->company;
	h.mailing = ev->mailing;
	h.customer = ev->customer;
	h.detail = out->detail;
	h.dsn = code;
	h.stamp = ev->stamp;
	h.time = ev->time;
	h.remark = bav_pool_printf(emm->pool, "bounce:%d (from %d.%d.%d using"
				   " %lld)", out->detail, code / 100,
				   code / 10 % 10, code % 10, out->rule_id);
	if (emm_detail_hard(h.detail) && code / 100 != 5) {
		out->action = "delayed";
		return park(emm, &h, error_r);
	}
	return apply(emm, &h, out, error_r);
}

/* ---- parked hard bounces ---- */

struct due_list {
	struct bav_pool *pool;
	struct hard *h;
	long long *created;
	unsigned int n, alloc;
};

static int due_row(void *ctx, const struct bav_store_value *v,
		   const char *const *names, unsigned int n)
{
	struct due_list *d = ctx;
	struct hard *h;

	(void)names;
	(void)n;
	if (d->n == d->alloc)
		return 1;	/* the rest next time */
	h = &d->h[d->n];
	memset(h, 0, sizeof(*h));
	h->company = v[0].i;
	h->mailing = v[1].i;
	h->customer = v[2].i;
	h->detail = (int)v[3].i;
	h->dsn = (int)v[4].i;
	h->remark = bav_pool_strdup(d->pool, v[5].s != NULL ? v[5].s : "");
	d->created[d->n++] = v[6].i;
	return 0;
}

int emm_write_due(struct bav_emm *emm, time_t now, const char **error_r)
{
	struct due_list d = { emm->pool, NULL, NULL, 0, 100 };
	struct bav_emm_outcome out;
	char stamp[32];
	const struct bav_store_param p[] = { BAV_STORE_PARAM_TEXT(stamp) };
	unsigned int i;
	int ret;

	emm_stamp(now, stamp);
	d.h = bav_pool_alloc(emm->pool, d.alloc * sizeof(*d.h));
	d.created = bav_pool_alloc(emm->pool, d.alloc * sizeof(*d.created));
	ret = bav_store_exec(emm->store, "SELECT company_id, mailing_id,"
			     " customer_id, detail, dsn, remark,"
			     " UNIX_TIMESTAMP(created) FROM bav_emm_delayed_tbl"
			     " WHERE due <= ? ORDER BY due", p, 1, due_row, &d,
			     error_r);
	for (i = 0; ret == BAV_OK && i < d.n; i++) {
		struct hard *h = &d.h[i];
		const struct bav_store_param k[] = {
			BAV_STORE_PARAM_INT(h->mailing),
			BAV_STORE_PARAM_INT(h->customer) };
		long long success = 0;
		char created[32];
		const struct bav_store_param s[] = {
			BAV_STORE_PARAM_INT(h->customer),
			BAV_STORE_PARAM_INT(h->mailing),
			BAV_STORE_PARAM_TEXT(created) };
		const char *t = table(emm, "SELECT 1 FROM success_%lld_tbl"
				      " WHERE customer_id = ? AND mailing_id = ?"
				      " AND timestamp > ? LIMIT 1", h->company);

		if (t == NULL) {
			ret = bad_company(error_r);
			break;
		}
		emm_stamp((time_t)d.created[i], created);
		ret = bav_store_exec(emm->store, t, s, 3, found_row, &success,
				     error_r);
		if (ret == BAV_OK && success == 0) {
			memset(&out, 0, sizeof(out));
			h->stamp = stamp;
			h->time = now;
			ret = apply(emm, h, &out, error_r);
		}
		if (ret == BAV_OK)
			ret = bav_store_exec(emm->store, "DELETE FROM"
					     " bav_emm_delayed_tbl WHERE"
					     " mailing_id = ? AND mediatype = 0"
					     " AND customer_id = ?", k, 2, NULL,
					     NULL, error_r);
	}
	return ret;
}

/* ---- unsubscribe, mailloop log ---- */

int emm_write_unsubscribe(struct bav_emm *emm, const struct emm_event *ev,
			  struct bav_emm_outcome *out, const char **error_r)
{
	struct emm_mailing m;
	const char *t;
	int ret;

	if ((ret = emm_mailing_get(emm, ev->mailing, &m, error_r)) <= 0)
		return ret;
	if ((t = table(emm, "UPDATE customer_%lld_binding_tbl SET"
		       " user_status = 4, user_remark = ?, timestamp = ?,"
		       " exit_mailing_id = ? WHERE customer_id = ? AND"
		       " mailinglist_id = ? AND user_status <> 6",
		       m.company)) == NULL)
		return bad_company(error_r);
	{
		const struct bav_store_param p[] = {
			BAV_STORE_PARAM_TEXT("Opt-out by mandatory CSA link"
					     " (mailto)"),
			BAV_STORE_PARAM_TEXT(ev->stamp),
			BAV_STORE_PARAM_INT(ev->mailing),
			BAV_STORE_PARAM_INT(ev->customer),
			BAV_STORE_PARAM_INT(m.mailinglist) };

		ret = bav_store_exec(emm->store, t, p, 5, NULL, NULL, error_r);
	}
	if (ret == BAV_OK)
		out->bindings += (unsigned int)bav_store_changes(emm->store);
	return ret;
}

static const char *log_action(const char *a)
{
	static const char *const kept[] = { "sent", "filtered", "ignore",
					    "unsubscribe", "bounce" };
	unsigned int i;

	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (strcmp(a, kept[i]) == 0)
			return a;
	return strcmp(a, "delayed") == 0 ? "bounce" : "drop";
}

#define ID_PARAM(v) \
	((v) > 0 ? (struct bav_store_param)BAV_STORE_PARAM_INT(v) : \
	 (struct bav_store_param)BAV_STORE_PARAM_NULL)

int emm_write_log(struct bav_emm *emm, const struct emm_event *ev,
		  const char **error_r)
{
	const struct bav_store_param p[] = {
		BAV_STORE_PARAM_TEXT(ev->rid_name),
		BAV_STORE_PARAM_TEXT(ev->stamp),
		ID_PARAM(ev->company), ID_PARAM(ev->mailing),
		ID_PARAM(ev->customer),
		BAV_STORE_PARAM_TEXT(log_action(ev->action)),
		BAV_STORE_PARAM_TEXT(ev->remark != NULL ? ev->remark : "") };

	if (emm->opts.logdir != NULL)
		return emm_log_mailloop(emm, ev, NULL, error_r);
	return bav_store_exec(emm->store, "INSERT INTO mailloop_log_tbl (rid,"
			      " timestamp, status, company_id, mailing_id,"
			      " customer_id, action, remark) VALUES"
			      " (?, ?, 1, ?, ?, ?, ?, ?)", p, 7, NULL, NULL,
			      error_r);
}
