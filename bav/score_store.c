/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	score_store - run the soft-bounce scoring over a store
 * SYNOPSIS
 *	#include "bav_score.h"
 *
 *	int bav_score_run(struct bav_store *store,
 *			  const struct bav_score_params *p, long long now,
 *			  bool dry_run, struct bav_score_stats *stats,
 *			  const char **error_r)
 * DESCRIPTION
 *	In one transaction:
 *	 1. reads the soft bounces (bav_events: kind bounce, hard 0,
 *	    detail 400..509, time <= now) of every address whose state is
 *	    active or softbounce, later than its last delivery, its last
 *	    engagement and its last unblock (bav_audit), ordered by
 *	    address and time, into memory;
 *	 2. replays each address with bav_score_replay() and writes the
 *	    result to bav_recipients when it differs from what is there:
 *	    a conversion sets state bounced, state_reason
 *	    "bounce:conversion", state_since the time of the conversion and
 *	    adds a bav_audit row (action conversion, actor "bav score");
 *	    a count sets state softbounce and the soft_* columns; no count
 *	    sets the address back to active;
 *	 3. sets back to active every softbounce address that has no
 *	    counted bounce any more (a delivery or engagement came later);
 *	 4. notes the run in bav_meta (name "score.last_run").
 *	Every statement is portable SQL through bav_store_exec(); updates
 *	are guarded by "state IN ('active', 'softbounce')" so a hard bounce,
 *	complaint or unsubscribe recorded meanwhile always wins. A second
 *	run at the same now finds nothing to change (idempotent).
 *
 *	Memory: the soft bounces of the run are held in memory (about 40
 *	bytes each plus the addresses) and freed before returning.
 * DIAGNOSTICS
 *	0, or the negative bav_err of the failing store call with its text
 *	in *error_r; the transaction is rolled back then.
 * SEE ALSO
 *	bav_score.h, score.c, bav_store.h
 */
#include "bav_score.h"
#include "bav_private.h"

#include <stdlib.h>
#include <string.h>

#define TEXT(s) BAV_STORE_PARAM_TEXT(s)
#define INT(v) BAV_STORE_PARAM_INT(v)

struct addr {
	char *address;
	char *state;
	unsigned int count;
	long long first, last;
	unsigned int ev_start, ev_count;
};

struct run {
	struct addr *addrs;
	unsigned int naddrs, addrs_alloc;
	struct bav_score_event *ev;
	unsigned int nev, ev_alloc;
	char **stale;
	unsigned int nstale, stale_alloc;
};

static long long col_int(const struct bav_store_value *v)
{
	if (v->type == BAV_STORE_NULL)
		return 0;
	if (v->type == BAV_STORE_INT)
		return v->i;
	return v->s != NULL ? strtoll(v->s, NULL, 10) : 0;
}

static const char *col_text(const struct bav_store_value *v)
{
	return v->s != NULL ? v->s : "";
}

/* Row: recipient, time, mailing, state, soft_count, soft_first,
   soft_last. */
static int event_row(void *ctx, const struct bav_store_value *c,
		     const char *const *names, unsigned int n)
{
	struct run *run = ctx;
	struct addr *a;
	const char *addr = col_text(&c[0]);

	(void)names;
	if (n < 7)
		return 0;
	a = run->naddrs > 0 ? &run->addrs[run->naddrs - 1] : NULL;
	if (a == NULL || strcmp(a->address, addr) != 0) {
		if (run->naddrs == run->addrs_alloc) {
			run->addrs_alloc = run->addrs_alloc == 0 ? 256 :
				run->addrs_alloc * 2;
			run->addrs = bav_xrealloc(run->addrs,
				run->addrs_alloc * sizeof(*run->addrs));
		}
		a = &run->addrs[run->naddrs++];
		memset(a, 0, sizeof(*a));
		a->address = bav_xstrdup(addr);
		a->state = bav_xstrdup(col_text(&c[3]));
		a->count = (unsigned int)col_int(&c[4]);
		a->first = col_int(&c[5]);
		a->last = col_int(&c[6]);
		a->ev_start = run->nev;
	}
	if (run->nev == run->ev_alloc) {
		run->ev_alloc = run->ev_alloc == 0 ? 1024 : run->ev_alloc * 2;
		run->ev = bav_xrealloc(run->ev, run->ev_alloc * sizeof(*run->ev));
	}
	run->ev[run->nev].time = col_int(&c[1]);
	run->ev[run->nev].mailing = col_int(&c[2]);
	run->nev++;
	a->ev_count++;
	return 0;
}

static int stale_row(void *ctx, const struct bav_store_value *c,
		     const char *const *names, unsigned int n)
{
	struct run *run = ctx;

	(void)names;
	if (n < 1)
		return 0;
	if (run->nstale == run->stale_alloc) {
		run->stale_alloc = run->stale_alloc == 0 ? 64 :
			run->stale_alloc * 2;
		run->stale = bav_xrealloc(run->stale,
			run->stale_alloc * sizeof(*run->stale));
	}
	run->stale[run->nstale++] = bav_xstrdup(col_text(&c[0]));
	return 0;
}

static void run_free(struct run *run)
{
	unsigned int i;

	for (i = 0; i < run->naddrs; i++) {
		free(run->addrs[i].address);
		free(run->addrs[i].state);
	}
	for (i = 0; i < run->nstale; i++)
		free(run->stale[i]);
	free(run->addrs);
	free(run->ev);
	free(run->stale);
}

static const char events_sql[] =
	"SELECT e.recipient, e.time, COALESCE(e.mailing_id, 0), r.state,"
	" r.soft_count, COALESCE(r.soft_first, 0), COALESCE(r.soft_last, 0)"
	" FROM bav_events e JOIN bav_recipients r ON r.address = e.recipient"
	" WHERE e.kind = 'bounce' AND e.hard = 0 AND e.detail >= 400"
	" AND e.detail < 510 AND e.time <= ?"
	" AND r.state IN ('active', 'softbounce')"
	" AND e.time > COALESCE(r.last_delivery, 0)"
	" AND e.time > COALESCE(r.last_engagement, 0)"
	" AND e.time > COALESCE((SELECT MAX(a.time) FROM bav_audit a"
	" WHERE a.address = r.address AND a.action = 'unblock'), 0)"
	" ORDER BY e.recipient, e.time, e.id";

static int convert(struct bav_store *store, const struct addr *a,
		   const struct bav_score_result *r,
		   const struct bav_score_params *p,
		   struct bav_score_stats *st, const char **error_r)
{
	struct bav_pool *pool;
	const struct bav_store_param u[] = {
		INT(r->converted_at), INT(r->count), INT(r->first),
		INT(r->last), INT(r->mailing), TEXT(a->address),
	};
	int ret;

	ret = bav_store_exec(store, "UPDATE bav_recipients SET state ="
		" 'bounced', state_since = ?, state_reason ="
		" 'bounce:conversion', soft_count = ?, soft_first = ?,"
		" soft_last = ?, soft_mailing = ? WHERE address = ?"
		" AND state IN ('active', 'softbounce')", u, 6, NULL, NULL,
		error_r);
	if (ret < 0 || bav_store_changes(store) == 0)
		return ret;
	st->converted++;
	st->changed++;
	pool = bav_pool_new(256);
	{
		const struct bav_store_param ap[] = {
			INT(r->converted_at), TEXT(a->address), TEXT(a->state),
			TEXT(bav_pool_printf(pool, "%u soft bounces in %lld "
				"days (convert at %u over %u days)", r->count,
				(r->last - r->first) / 86400,
				p->convert_count, p->convert_days)),
		};
		ret = bav_store_exec(store, "INSERT INTO bav_audit (time,"
			" address, action, old_state, new_state, reason, actor)"
			" VALUES (?, ?, 'conversion', ?, 'bounced', ?,"
			" 'bav score')", ap, 4, NULL, NULL, error_r);
	}
	bav_pool_free(&pool);
	return ret;
}

static int reset_address(struct bav_store *store, const char *address,
			 long long now, struct bav_score_stats *st,
			 const char **error_r)
{
	const struct bav_store_param p[] = { INT(now), TEXT(address) };
	int ret;

	ret = bav_store_exec(store, "UPDATE bav_recipients SET state ="
		" 'active', state_since = CASE WHEN state = 'softbounce' THEN ?"
		" ELSE state_since END, soft_count = 0, soft_first = NULL,"
		" soft_last = NULL, soft_mailing = NULL WHERE address = ?"
		" AND state IN ('active', 'softbounce')", p, 2, NULL, NULL,
		error_r);
	if (ret == 0 && bav_store_changes(store) > 0) {
		st->reset++;
		st->changed++;
	}
	return ret;
}

static int score_address(struct bav_store *store, const struct run *run,
			 const struct addr *a,
			 const struct bav_score_params *p, long long now,
			 struct bav_score_stats *st, const char **error_r)
{
	struct bav_score_result r;
	int ret;

	bav_score_replay(p, run->ev + a->ev_start, a->ev_count, now, &r);
	st->addresses++;
	st->events += a->ev_count;
	if (r.converted)
		return convert(store, a, &r, p, st, error_r);
	if (r.count == 0) {
		if (strcmp(a->state, "active") == 0 && a->count == 0)
			return 0;
		return reset_address(store, a->address, now, st, error_r);
	}
	st->softbounced++;
	if (strcmp(a->state, "softbounce") == 0 && a->count == r.count &&
	    a->first == r.first && a->last == r.last)
		return 0;
	{
		const struct bav_store_param u[] = {
			INT(r.first), INT(r.count), INT(r.first), INT(r.last),
			INT(r.mailing), TEXT(a->address),
		};
		ret = bav_store_exec(store, "UPDATE bav_recipients SET state ="
			" 'softbounce', state_since = ?, soft_count = ?,"
			" soft_first = ?, soft_last = ?, soft_mailing = ?"
			" WHERE address = ? AND state IN ('active',"
			" 'softbounce')", u, 6, NULL, NULL, error_r);
	}
	if (ret == 0 && bav_store_changes(store) > 0)
		st->changed++;
	return ret;
}

static int addr_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct addr *)elem)->address);
}

static int addr_sort(const void *x, const void *y)
{
	return strcmp(((const struct addr *)x)->address,
		      ((const struct addr *)y)->address);
}

static int note_run(struct bav_store *store, long long now,
		    const char **error_r)
{
	const struct bav_store_param p[] = { INT(now), INT(now) };
	int ret;

	/* not UPDATE-then-INSERT: MariaDB counts a row updated to the
	   same values as unchanged */
	ret = bav_store_exec(store, "DELETE FROM bav_meta WHERE name ="
		" 'score.last_run'", NULL, 0, NULL, NULL, error_r);
	if (ret == 0)
		ret = bav_store_exec(store, "INSERT INTO bav_meta (name, ivalue,"
			" changed) VALUES ('score.last_run', ?, ?)", p, 2, NULL,
			NULL, error_r);
	return ret;
}

static int run_steps(struct bav_store *store, struct run *run,
		     const struct bav_score_params *p, long long now,
		     struct bav_score_stats *st, const char **error_r)
{
	const struct bav_store_param tp[] = { INT(now) };
	unsigned int i;
	int ret;

	ret = bav_store_exec(store, events_sql, tp, 1, event_row, run,
			     error_r);
	for (i = 0; ret == 0 && i < run->naddrs; i++)
		ret = score_address(store, run, &run->addrs[i], p, now, st,
				    error_r);
	if (ret == 0)
		ret = bav_store_exec(store, "SELECT address FROM bav_recipients"
			" WHERE state = 'softbounce' OR (state = 'active' AND"
			" soft_count <> 0)", NULL, 0, stale_row, run, error_r);
	if (ret == 0 && run->naddrs > 1)
		qsort(run->addrs, run->naddrs, sizeof(*run->addrs), addr_sort);
	for (i = 0; ret == 0 && i < run->nstale; i++) {
		if (bsearch(run->stale[i], run->addrs, run->naddrs,
			    sizeof(*run->addrs), addr_cmp) != NULL)
			continue;
		ret = reset_address(store, run->stale[i], now, st, error_r);
	}
	if (ret == 0)
		ret = note_run(store, now, error_r);
	return ret;
}

int bav_score_run(struct bav_store *store, const struct bav_score_params *p,
		  long long now, bool dry_run, struct bav_score_stats *stats,
		  const char **error_r)
{
	struct run run;
	const char *e2;
	int ret;

	memset(stats, 0, sizeof(*stats));
	memset(&run, 0, sizeof(run));
	ret = bav_store_begin(store, error_r);
	if (ret < 0)
		return ret;
	ret = run_steps(store, &run, p, now, stats, error_r);
	if (ret == 0 && !dry_run)
		ret = bav_store_commit(store, error_r);
	else
		(void)bav_store_rollback(store, &e2);
	run_free(&run);
	return ret;
}
