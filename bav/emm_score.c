/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	emm_score - OpenEMM's soft-bounce scoring on an EMM database
 * SYNOPSIS
 *	#include "bav_emm_score.h"
 *
 *	int bav_emm_score_run(struct bav_store *store,
 *			      const struct bav_emm_score_params *p,
 *			      long long now, struct bav_emm_score_stats *st,
 *			      const char **error_r)
 * DESCRIPTION
 *	The steps of softbounce3.py (emm-mailloop spec section 6) for every
 *	company with status 'active', in one transaction:
 *	 1. parameters: bounce_config_tbl "conversion" of (0, 0), then of
 *	    (company, 0) (expire 1100, threshold 5, fade-out 14, last-click
 *	    30, last-open 30, convert-bounce-count 40,
 *	    convert-bounce-duration 30 when neither sets them);
 *	 2. expire: entries created more than "expire" days ago with
 *	    bnccnt <= threshold are deleted (the others are converted in 6);
 *	 3. collect: the bounce_tbl rows in [cursor, now) with detail
 *	    400..509, one per (company, customer), the highest detail (its
 *	    mailing); the customer's email from customer_<cid>_tbl;
 *	    softbounce_email_tbl: a new email gets bnccnt 1, creation_date
 *	    and timestamp now; an existing one bnccnt + 1, the mailing,
 *	    timestamp now; the cursor (timestamp_tbl, p->cursor) moves to now;
 *	 4. mailtracking 1: entries with a success_<cid>_tbl row of one of
 *	    their customers newer than the entry are deleted (reset);
 *	 5. mailtracking 0: fade-out (below);
 *	 6. convert: entries with bnccnt >= convert-bounce-count whose
 *	    first bounce lies more than convert-bounce-duration days before
 *	    their last one (or a date missing), and the expired ones of 2:
 *	    unless a customer with that email clicked (rdirlog_<cid>_tbl)
 *	    since midnight last-click days ago or opened (onepixellog) since
 *	    midnight last-open days ago, every binding of those customers
 *	    with user_status 1 or 7 becomes user_status 2, user_remark
 *	    "bounce:conversion", exit_mailing_id the entry's mailing,
 *	    timestamp now, and a bounce_tbl row (detail 510, dsn 599) is
 *	    written per customer whose binding changed; the entry is deleted.
 *
 *	Quirks fixed (spec 8.4 item 16; documented in bav-emm(7) SCORING):
 *	  - fade-out is the same on every database and however often the
 *	    job runs: an entry loses one count per full fade-out period
 *	    since its timestamp, which moves forward by those periods (on
 *	    MariaDB OpenEMM faded once per period, on Oracle once a day);
 *	  - a count that fades to 0 deletes the entry (OpenEMM's "> 1"
 *	    guard kept it at 1 forever);
 *	  - no bounce_collect_tbl rows: bounces of companies that are not
 *	    active are skipped, not left in the scratch table forever;
 *	  - emails compare case-insensitively: entries that differ only in
 *	    case are merged into one (counts added), and an address counts
 *	    once per run even if several customers (bob@, BOB@) bounced;
 *	  - a non-integer parameter is reported and its default (or the
 *	    global value) used instead of aborting the whole run;
 *	  - an active receiver (click or open in the window) keeps its entry
 *	    and count when its activity is older than its last bounce, and
 *	    is converted once the activity leaves the window; only activity
 *	    after the last bounce resets the entry (OpenEMM deleted both);
 *	  - the conversion changes e-mail bindings only (mediatype 0), not
 *	    the customer's other media;
 *	  - everything, the cursor included, is one transaction: a failed
 *	    run leaves no half-applied step and the next run redoes it.
 *	Table names are built only from the integer company ids of
 *	company_tbl; every value is a parameter of a prepared statement.
 *	A company whose customer tables are missing is skipped (warning);
 *	missing success/rdirlog/onepixellog tables count as no rows.
 *	Times are local time, as OpenEMM wrote them. MariaDB only.
 * DIAGNOSTICS
 *	0, or the negative bav_err of the failing store call with its text
 *	in *error_r; the transaction is rolled back. Never exits, never
 *	prints.
 * SEE ALSO
 *	bav_emm_score.h, emm_score_convert.c (steps 4 to 6), score_store.c,
 *	bav-emm-score(7)
 */
#include "emm_score_private.h"
#include "emm_webhook.h"
#include "bav_private.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <stdarg.h>
#include <time.h>

static const struct {
	const char *key;
	size_t offset;
	long long def;
} conv_keys[] = {
	{ "expire", offsetof(struct conv, expire), 1100 },
	{ "threshold", offsetof(struct conv, threshold), 5 },
	{ "fade-out", offsetof(struct conv, fade), 14 },
	{ "last-click", offsetof(struct conv, last_click), 30 },
	{ "last-open", offsetof(struct conv, last_open), 30 },
	{ "convert-bounce-count", offsetof(struct conv, count), 40 },
	{ "convert-bounce-duration", offsetof(struct conv, duration), 30 },
};
#define N_CONV_KEYS (sizeof(conv_keys) / sizeof(conv_keys[0]))

void es_time(long long t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm);
}



static void warn(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void warn(struct run *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (r->p->warn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->p->warn(r->p->warn_ctx, msg);
}

int es_exec(struct run *r, const char *sql, const struct bav_store_param *pp,
	    unsigned int n, bav_store_row_t *cb, void *ctx)
{
	return bav_store_exec(r->store, sql, pp, n, cb, ctx, r->error_r);
}

static int one_value(void *ctx, const struct bav_store_value *v,
		     const char *const *names, unsigned int n)
{
	struct run *r = ctx;

	(void)names;
	if (n < 1)
		return 1;
	r->v = v[0].i;
	r->v_null = v[0].s == NULL;
	free(r->text);
	r->text = v[0].s != NULL ? bav_xstrdup(v[0].s) : NULL;
	return 1;
}

int es_one(struct run *r, const char *sql, const struct bav_store_param *pp,
	   unsigned int n)
{
	r->v = 0;
	r->v_null = true;
	free(r->text);
	r->text = NULL;
	return es_exec(r, sql, pp, n, one_value, r);
}

/* ---- parameters ------------------------------------------------------- */

/* Integer value of "key" in a flat JSON object (number or "number").
   1 found, 0 absent, -1 not an integer. */
static int json_int(const char *json, const char *key, long long *v_r)
{
	size_t klen = strlen(key);
	const char *p = json, *q;
	char *end;
	bool quoted;

	while ((p = strchr(p, '"')) != NULL) {
		if (strncmp(p + 1, key, klen) != 0 || p[klen + 1] != '"') {
			p++;
			continue;
		}
		q = p + klen + 2;
		while (isspace((unsigned char)*q))
			q++;
		if (*q != ':') {
			p++;
			continue;
		}
		q++;
		while (isspace((unsigned char)*q))
			q++;
		quoted = *q == '"';
		q += quoted;
		if (!isdigit((unsigned char)*q) && *q != '-')
			return -1;
		*v_r = strtoll(q, &end, 10);
		if (quoted && *end++ != '"')
			return -1;
		while (isspace((unsigned char)*end))
			end++;
		return *end == ',' || *end == '}' ? 1 : -1;
	}
	return 0;
}

struct conv_ctx {
	struct run *r;
	struct conv *c;
};

static int conv_row(void *ctx, const struct bav_store_value *v,
		    const char *const *names, unsigned int n)
{
	struct conv_ctx *cc = ctx;
	struct run *r = cc->r;
	struct conv *c = cc->c;
	long long val;
	size_t i;

	(void)names;
	if (n < 2 || v[1].s == NULL)
		return 0;
	for (i = 0; i < N_CONV_KEYS; i++) {
		int got = json_int(v[1].s, conv_keys[i].key, &val);

		if (got > 0 && val >= 0)
			*(long long *)((char *)c + conv_keys[i].offset) = val;
		else if (got != 0)
			warn(r, "bounce_config_tbl (%lld, 0) conversion: %s is "
			     "not a non-negative integer, ignored", v[0].i,
			     conv_keys[i].key);
	}
	return 0;
}

static int load_conv(struct run *r, struct company *co)
{
	const struct bav_store_param pp[] = { INT(co->id) };
	struct conv_ctx cc = { r, &co->c };
	size_t i;

	for (i = 0; i < N_CONV_KEYS; i++)
		*(long long *)((char *)&co->c + conv_keys[i].offset) =
			conv_keys[i].def;
	return es_exec(r, "SELECT company_id, value FROM bounce_config_tbl"
		  " WHERE name = 'conversion' AND rid = 0"
		  " AND company_id IN (0, ?) ORDER BY company_id", pp, 1,
		  conv_row, &cc);
}

/* ---- tables of a company ---------------------------------------------- */

static int table_row(void *ctx, const struct bav_store_value *v,
		     const char *const *names, unsigned int n)
{
	struct company *co = ctx;
	char name[64];

	(void)names;
	if (n < 1 || v[0].s == NULL)
		return 0;
	snprintf(name, sizeof(name), "success_%lld_tbl", co->id);
	co->has_success |= strcasecmp(v[0].s, name) == 0;
	snprintf(name, sizeof(name), "rdirlog_%lld_tbl", co->id);
	co->has_rdir |= strcasecmp(v[0].s, name) == 0;
	snprintf(name, sizeof(name), "onepixellog_%lld_tbl", co->id);
	co->has_opl |= strcasecmp(v[0].s, name) == 0;
	return 0;
}

/* 1 when both customer tables exist, 0 not, < 0 error. */
static int company_tables(struct run *r, struct company *co)
{
	char cust[64], bind[64], succ[64], rdir[64], opl[64];
	const struct bav_store_param pp[] = {
		TEXT(cust), TEXT(bind), TEXT(succ), TEXT(rdir), TEXT(opl) };
	int ret;

	snprintf(cust, sizeof(cust), "customer_%lld_tbl", co->id);
	snprintf(bind, sizeof(bind), "customer_%lld_binding_tbl", co->id);
	snprintf(succ, sizeof(succ), "success_%lld_tbl", co->id);
	snprintf(rdir, sizeof(rdir), "rdirlog_%lld_tbl", co->id);
	snprintf(opl, sizeof(opl), "onepixellog_%lld_tbl", co->id);
	if ((ret = es_one(r, "SELECT COUNT(*) FROM information_schema.tables"
			 " WHERE table_schema = DATABASE()"
			 " AND table_name IN (?, ?)", pp, 2)) < 0)
		return ret;
	if (r->v != 2)
		return 0;
	ret = es_exec(r, "SELECT table_name FROM information_schema.tables"
		 " WHERE table_schema = DATABASE()"
		 " AND table_name IN (?, ?, ?)", pp + 2, 3, table_row, co);
	return ret < 0 ? ret : 1;
}

/* ---- window and collection -------------------------------------------- */

static int bounce_row(void *ctx, const struct bav_store_value *v,
		      const char *const *names, unsigned int n)
{
	struct run *r = ctx;

	(void)names;
	if (n < 3)
		return 0;
	if (r->nb > 0 && r->b[r->nb - 1].cid == v[0].i &&
	    r->b[r->nb - 1].customer == v[1].i)
		return 0;	/* highest detail came first */
	if (r->nb == r->ab) {
		r->ab = r->ab != 0 ? r->ab * 2 : 256;
		r->b = bav_xrealloc(r->b, r->ab * sizeof(*r->b));
	}
	r->b[r->nb].cid = v[0].i;
	r->b[r->nb].customer = v[1].i;
	r->b[r->nb].mailing = v[2].i;
	r->nb++;
	return 0;
}

/* Read the window [cursor, now) and move the cursor (same transaction). */
static int collect(struct run *r)
{
	const char *name = r->p->cursor != NULL ? r->p->cursor :
		"bounce-conversion-bav";
	struct bav_store_param pp[4] = { TEXT(name) };
	char cur_s[32];
	long long cur;
	int ret;

	if ((ret = es_one(r, "SELECT UNIX_TIMESTAMP(cur) FROM timestamp_tbl"
			 " WHERE name = ?", pp, 1)) < 0)
		return ret;
	if (r->text == NULL) {
		/* first use: go on where softbounce3.py stopped */
		if ((ret = es_one(r, "SELECT UNIX_TIMESTAMP(MAX(cur))"
				 " FROM timestamp_tbl"
				 " WHERE name = 'bounce-conversion'"
				 " OR name LIKE 'bounce-conversion-%'",
				 NULL, 0)) < 0)
			return ret;
		cur = r->v_null || r->v > r->now ? r->now : r->v;
		es_time(cur, cur_s);
		pp[1] = (struct bav_store_param)TEXT(
			"soft-bounce scoring window of bav score --emm");
		pp[2] = (struct bav_store_param)TEXT(cur_s);
		if ((ret = es_exec(r, "INSERT INTO timestamp_tbl"
			      " (timestamp_id, name, description, cur)"
			      " SELECT COALESCE(MAX(timestamp_id), 0) + 1,"
			      " ?, ?, ? FROM timestamp_tbl", pp, 3,
			      NULL, NULL)) < 0)
			return ret;
	} else {
		cur = r->v_null ? r->now : r->v;
	}
	if (cur > r->now)
		cur = r->now;
	es_time(cur, cur_s);
	pp[0] = (struct bav_store_param)TEXT(cur_s);
	pp[1] = (struct bav_store_param)TEXT(r->now_s);
	if ((ret = es_exec(r, "SELECT company_id, customer_id, mailing_id"
		      " FROM bounce_tbl WHERE timestamp >= ? AND timestamp < ?"
		      " AND detail >= 400 AND detail < 510"
		      " ORDER BY company_id, customer_id, detail DESC,"
		      " timestamp DESC", pp, 2, bounce_row, r)) < 0)
		return ret;
	r->st->bounces = r->nb;
	pp[0] = (struct bav_store_param)TEXT(r->now_s);
	pp[1] = (struct bav_store_param)TEXT(name);
	return es_exec(r, "UPDATE timestamp_tbl SET prev = cur, cur = ?,"
		  " temp = NULL WHERE name = ?", pp, 2, NULL, NULL);
}

/* ---- softbounce_email_tbl of one company ------------------------------- */

static char *lower_dup(const char *s)
{
	char *l = bav_xstrdup(s), *p;

	for (p = l; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

static void entries_free(struct run *r)
{
	size_t i;

	for (i = 0; i < r->ne; i++) {
		free(r->e[i].email);
		free(r->e[i].lower);
	}
	r->ne = 0;
	if (r->slot != NULL)
		memset(r->slot, 0, r->nslot * sizeof(*r->slot));
}

static size_t hash_str(const char *s)
{
	size_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The slot of lower: its entry's, or the free one to take. */
static size_t *slot_of(struct run *r, const char *lower)
{
	size_t i = hash_str(lower) & (r->nslot - 1);

	while (r->slot[i] != 0 && strcmp(r->e[r->slot[i] - 1].lower,
					  lower) != 0)
		i = (i + 1) & (r->nslot - 1);
	return &r->slot[i];
}

static struct entry *entry_find(struct run *r, const char *lower)
{
	size_t *sl;

	if (r->nslot == 0)
		return NULL;
	sl = slot_of(r, lower);
	return *sl != 0 ? &r->e[*sl - 1] : NULL;
}

/* Index entry i (a new email); the table stays at most half full. */
static void entry_index(struct run *r, size_t i)
{
	size_t k;

	if (2 * (r->ne + 1) > r->nslot) {
		free(r->slot);
		r->nslot = r->nslot != 0 ? r->nslot * 2 : 1024;
		while (2 * (r->ne + 1) > r->nslot)
			r->nslot *= 2;
		r->slot = bav_xcalloc(r->nslot, sizeof(*r->slot));
		for (k = 0; k < r->ne; k++)
			if (k != i && !r->e[k].variant)
				*slot_of(r, r->e[k].lower) = k + 1;
	}
	*slot_of(r, r->e[i].lower) = i + 1;
}

static struct entry *entry_add(struct run *r, const char *email,
			       long long count, bool variant)
{
	struct entry *e;

	if (r->ne == r->ae) {
		r->ae = r->ae != 0 ? r->ae * 2 : 256;
		r->e = bav_xrealloc(r->e, r->ae * sizeof(*r->e));
	}
	e = &r->e[r->ne++];
	e->email = bav_xstrdup(email);
	e->lower = lower_dup(email);
	e->count = count;
	e->counted = false;
	e->variant = variant;
	if (!variant)		/* variants are merged, not looked up */
		entry_index(r, r->ne - 1);
	return e;
}

/* One stored row: a case variant of a known email is merged into it. */
static int entry_row(void *ctx, const struct bav_store_value *v,
		     const char *const *names, unsigned int n)
{
	struct run *r = ctx;
	struct entry *e;
	char *lower;

	(void)names;
	if (n < 2 || v[0].s == NULL)
		return 0;
	lower = lower_dup(v[0].s);
	e = entry_find(r, lower);
	free(lower);
	if (e == NULL) {
		entry_add(r, v[0].s, v[1].i, false);
		return 0;
	}
	e->count += v[1].i;
	entry_add(r, v[0].s, v[1].i, true);
	return 0;
}

static int merge_variants(struct run *r, long long cid)
{
	size_t i;
	int ret;

	for (i = 0; i < r->ne; i++) {
		const struct entry *e = &r->e[i], *keep;

		if (!e->variant)
			continue;
		keep = entry_find(r, e->lower);
		{
			const struct bav_store_param del[] = {
				INT(cid), TEXT(e->email), TEXT(e->email) };
			const struct bav_store_param upd[] = {
				INT(keep->count), INT(cid), TEXT(keep->email),
				TEXT(keep->email) };

			if ((ret = es_exec(r, "DELETE FROM softbounce_email_tbl"
				      " WHERE company_id = ? AND email = ?"
				      " AND BINARY email = BINARY ?", del, 3,
				      NULL, NULL)) < 0 ||
			    (ret = es_exec(r, "UPDATE softbounce_email_tbl"
				      " SET bnccnt = ?, timestamp = timestamp"
				      " WHERE company_id = ? AND email = ?"
				      " AND BINARY email = BINARY ?", upd, 4,
				      NULL, NULL)) < 0)
				return ret;
		}
		r->st->merged++;
	}
	return 0;
}

static int count_bounce(struct run *r, const struct company *co,
			const struct bounce *b)
{
	char sql[160];
	struct bav_store_param pp[6];
	struct entry *e;
	char *lower;
	int ret;

	snprintf(sql, sizeof(sql), "SELECT email FROM customer_%lld_tbl"
		 " WHERE customer_id = ?", co->id);
	pp[0] = (struct bav_store_param)INT(b->customer);
	if ((ret = es_one(r, sql, pp, 1)) < 0)
		return ret;
	if (r->text == NULL || r->text[0] == '\0')
		return 0;	/* customer deleted meanwhile */
	lower = lower_dup(r->text);
	e = entry_find(r, lower);
	free(lower);
	if (e != NULL && e->counted)
		return 0;	/* once per address and run */
	pp[0] = (struct bav_store_param)INT(b->mailing);
	pp[1] = (struct bav_store_param)TEXT(r->now_s);
	pp[2] = (struct bav_store_param)INT(co->id);
	if (e != NULL) {
		pp[3] = (struct bav_store_param)TEXT(e->email);
		pp[4] = pp[3];
		ret = es_exec(r, "UPDATE softbounce_email_tbl"
			 " SET bnccnt = bnccnt + 1,"
			 " mailing_id = ?, timestamp = ? WHERE company_id = ?"
			 " AND email = ? AND BINARY email = BINARY ?", pp, 5,
			 NULL, NULL);
	} else {
		e = entry_add(r, r->text, 0, false);
		pp[3] = (struct bav_store_param)TEXT(e->email);
		pp[4] = (struct bav_store_param)TEXT(r->now_s);
		ret = es_exec(r, "INSERT INTO softbounce_email_tbl (mailing_id,"
			 " timestamp, company_id, email, creation_date, bnccnt)"
			 " VALUES (?, ?, ?, ?, ?, 1)", pp, 5, NULL, NULL);
		r->st->created++;
	}
	e->counted = true;
	e->count++;
	r->st->counted++;
	return ret;
}

/* Steps 2 and 3 for one company. */
static int expire_and_merge(struct run *r, const struct company *co)
{
	struct bav_store_param pp[3];
	char t[32];
	size_t i;
	int ret;

	if (co->c.expire > 0) {
		es_time(r->now - co->c.expire * DAY, t);
		pp[0] = (struct bav_store_param)INT(co->id);
		pp[1] = (struct bav_store_param)TEXT(t);
		pp[2] = (struct bav_store_param)INT(co->c.threshold);
		if ((ret = es_exec(r, "DELETE FROM softbounce_email_tbl"
			      " WHERE company_id = ? AND creation_date < ?"
			      " AND bnccnt <= ?", pp, 3, NULL, NULL)) < 0)
			return ret;
		r->st->expired += bav_store_changes(r->store);
	}
	entries_free(r);
	pp[0] = (struct bav_store_param)INT(co->id);
	if ((ret = es_exec(r, "SELECT email, bnccnt FROM softbounce_email_tbl"
		      " WHERE company_id = ? ORDER BY creation_date, email",
		      pp, 1, entry_row, r)) < 0)
		return ret;
	if ((ret = merge_variants(r, co->id)) < 0)
		return ret;
	for (i = 0; i < r->nb; i++)
		if (r->b[i].cid == co->id &&
		    (ret = count_bounce(r, co, &r->b[i])) < 0)
			return ret;
	return 0;
}

/* ---- the run ----------------------------------------------------------- */

struct companies {
	struct company *v;
	size_t n, alloc;
};

static int company_row(void *ctx, const struct bav_store_value *v,
		       const char *const *names, unsigned int n)
{
	struct companies *cs = ctx;

	(void)names;
	if (n < 2 || v[0].i <= 0 || v[0].i > 2147483647LL)
		return 0;	/* table names only from sane integer ids */
	if (cs->n == cs->alloc) {
		cs->alloc = cs->alloc != 0 ? cs->alloc * 2 : 16;
		cs->v = bav_xrealloc(cs->v, cs->alloc * sizeof(*cs->v));
	}
	memset(&cs->v[cs->n], 0, sizeof(cs->v[cs->n]));
	cs->v[cs->n].id = v[0].i;
	cs->v[cs->n].tracking = v[1].i == 1;
	cs->n++;
	return 0;
}

static int score_companies(struct run *r, struct companies *cs)
{
	size_t i, j;
	int ret;

	if ((ret = es_exec(r, "SELECT company_id, mailtracking FROM company_tbl"
		      " WHERE status = 'active' ORDER BY company_id", NULL, 0,
		      company_row, cs)) < 0)
		return ret;
	if ((ret = collect(r)) < 0)
		return ret;
	for (i = 0; i < r->nb; i++) {
		for (j = 0; j < cs->n && cs->v[j].id != r->b[i].cid; j++)
			;
		r->st->skipped += j == cs->n;
	}
	for (i = 0; i < cs->n; i++) {
		struct company *co = &cs->v[i];

		if ((ret = company_tables(r, co)) < 0)
			return ret;
		if (ret == 0) {
			warn(r, "company %lld: customer_%lld_tbl or its binding"
			     " table is missing, skipped", co->id, co->id);
			continue;
		}
		if ((ret = load_conv(r, co)) < 0 ||
		    (ret = expire_and_merge(r, co)) < 0 ||
		    (ret = es_reset_and_fade(r, co)) < 0 ||
		    (ret = es_convert(r, co)) < 0)
			return ret;
		r->st->companies++;
	}
	return 0;
}

int bav_emm_score_run(struct bav_store *store,
		      const struct bav_emm_score_params *p, long long now,
		      struct bav_emm_score_stats *stats, const char **error_r)
{
	struct companies cs = { NULL, 0, 0 };
	struct run r;
	const char *err2;
	int ret;

	memset(stats, 0, sizeof(*stats));
	if (strcmp(bav_store_backend(store), "mariadb") != 0) {
		*error_r = "the EMM scoring needs OpenEMM's MariaDB database";
		return BAV_ECONFIG;
	}
	memset(&r, 0, sizeof(r));
	r.store = store;
	r.p = p;
	r.st = stats;
	r.error_r = error_r;
	r.now = now;
	es_time(now, r.now_s);
	if (p->webhook_log != NULL && p->webhook_log[0] != '\0')
		r.webhook.path = bav_xstrdup(p->webhook_log);
	if ((ret = bav_store_begin(store, error_r)) < 0) {
		emm_webhook_free(&r.webhook);
		return ret;
	}
	ret = score_companies(&r, &cs);
	if (ret >= 0 && !p->dry_run)
		ret = bav_store_commit(store, error_r);
	if (ret < 0 || p->dry_run)
		(void)bav_store_rollback(store, &err2);
	/* the webhook lines of the committed conversions, fsync'ed */
	if (ret >= 0 && !p->dry_run &&
	    emm_webhook_flush(&r.webhook, &err2) != BAV_OK)
		warn(&r, "committed, but webhook lines lost: %s", err2);
	emm_webhook_free(&r.webhook);
	entries_free(&r);
	free(r.e);
	free(r.slot);
	free(r.b);
	free(r.text);
	free(cs.v);
	return ret < 0 ? ret : 0;
}
