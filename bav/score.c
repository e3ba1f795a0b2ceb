/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	score - the soft-bounce scoring algorithm (pure part)
 * SYNOPSIS
 *	#include "bav_score.h"
 *
 *	void bav_score_params_init(struct bav_score_params *p)
 *	void bav_score_replay(const struct bav_score_params *p,
 *			      const struct bav_score_event *ev,
 *			      unsigned int n, long long now,
 *			      struct bav_score_result *r)
 * DESCRIPTION
 *	bav_score_replay() walks the soft bounces of one address in time
 *	order. Before each bounce (and finally at now) the open entry is
 *	first checked for expiry (at first + expire_days: converted when
 *	its count, faded up to that moment, exceeds expire_threshold, else
 *	dropped), then faded: one less for every full fade_days since the
 *	last counted bounce; an entry faded to 0 is gone. A bounce then
 *	opens an entry (first = its time) or adds one to it; as soon as the
 *	count reaches convert_count and last - first reaches convert_days
 *	days, the entry is converted and the walk stops.
 *
 *	Differences to OpenEMM's softbounce run, on purpose: the fade-out
 *	is computed from the times, not from how often the job ran or
 *	whether the database updates a timestamp column; a count can fade
 *	to zero; the result does not depend on the run schedule, so runs
 *	are idempotent. Each bounce counts (OpenEMM counted at most one
 *	per run, i.e. per day, because it ran daily; per_day does that).
 *
 *	No allocation; r is fully written.
 * DIAGNOSTICS
 *	none
 * SEE ALSO
 *	bav_score.h, score_store.c, emm-mailloop spec section 6
 */
#include "bav_score.h"

#include <string.h>

#define DAY 86400LL

void bav_score_params_init(struct bav_score_params *p)
{
	p->convert_count = 40;
	p->convert_days = 30;
	p->fade_days = 14;
	p->expire_days = 1100;
	p->expire_threshold = 5;
	p->per_day = false;
}

/* Fade the open entry of r up to time t. */
static void fade_to(const struct bav_score_params *p,
		    struct bav_score_result *r, long long t)
{
	long long steps;

	if (r->count == 0 || p->fade_days == 0 || t <= r->last)
		return;
	steps = (t - r->last) / (p->fade_days * DAY);
	if (steps <= 0)
		return;
	if (steps >= r->count) {
		r->fades += r->count;
		r->count = 0;
	} else {
		r->fades += (unsigned int)steps;
		r->count -= (unsigned int)steps;
	}
}

/* Expire the open entry of r if it has reached its lifetime by t.
   Returns true when it was converted. */
static bool expire_to(const struct bav_score_params *p,
		      struct bav_score_result *r, long long t)
{
	long long end;

	if (r->count == 0 || p->expire_days == 0)
		return false;
	end = r->first + p->expire_days * DAY;
	if (end > t)
		return false;
	fade_to(p, r, end);
	if (r->count > p->expire_threshold) {
		r->converted = true;
		r->converted_at = end;
		return true;
	}
	if (r->count > 0)
		r->expired++;
	r->count = 0;
	return false;
}

static bool reached(const struct bav_score_params *p,
		    const struct bav_score_result *r)
{
	return r->count >= p->convert_count &&
		r->last - r->first >= p->convert_days * DAY;
}

void bav_score_replay(const struct bav_score_params *p,
		      const struct bav_score_event *ev, unsigned int n,
		      long long now, struct bav_score_result *r)
{
	unsigned int i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < n; i++) {
		if (ev[i].time > now)
			break;
		if (expire_to(p, r, ev[i].time))
			return;
		fade_to(p, r, ev[i].time);
		if (p->per_day && r->count > 0 &&
		    ev[i].time / DAY == r->last / DAY)
			continue;
		if (r->count == 0)
			r->first = ev[i].time;
		r->count++;
		r->last = ev[i].time;
		r->mailing = ev[i].mailing;
		if (p->convert_count > 0 && reached(p, r)) {
			r->converted = true;
			r->converted_at = r->last;
			return;
		}
	}
	if (expire_to(p, r, now))
		return;
	fade_to(p, r, now);
	if (r->count == 0)
		r->first = r->last = r->mailing = 0;
}
