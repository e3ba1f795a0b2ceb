/* SPDX-License-Identifier: MIT */
/*
 * test_score - soft-bounce scoring: the pure replay (thresholds, span,
 * fade-out, expiry) and bav_score_run() on a real store with crafted
 * event histories: 41 soft bounces over 31 days convert, 41 within 10
 * days stay soft, a later delivery or an unblock resets, a hard-bounced
 * address is left alone, options change the thresholds, and a second
 * run at the same time changes nothing.
 *
 * The store is $BAV_TEST_STORE (e.g. a mariadb:// URI from the MariaDB
 * test server; its bav tables are emptied first) or a new SQLite file
 * under $TMPDIR. Without any store backend the store tests are skipped.
 */
#include "bav_private.h"
#include "bav_score.h"
#include "test_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DAY 86400LL
#define T0 1767225600LL		/* 2026-01-01 00:00:00 UTC */

/* ---- pure replay ---------------------------------------------------- */

/* n soft bounces evenly from T0 to T0 + span seconds. */
static struct bav_score_event *spread(unsigned int n, long long span)
{
	struct bav_score_event *ev = calloc(n, sizeof(*ev));
	unsigned int i;

	for (i = 0; i < n; i++) {
		ev[i].time = T0 + (n > 1 ? span * i / (n - 1) : 0);
		ev[i].mailing = 100 + i;
	}
	return ev;
}

struct replay_case {
	const char *name;
	unsigned int n;
	long long span;		/* of the bounces */
	long long now;		/* after T0 */
	unsigned int convert_count, convert_days, fade, expire, threshold;
	bool converted;
	unsigned int count;	/* expected when not converted */
	bool per_day;
};

static const struct replay_case replay_cases[] = {
	{ "41 over 31 days", 41, 31 * DAY, 32 * DAY, 40, 30, 14, 1100, 5,
	  true, 0, false },
	{ "41 within 10 days", 41, 10 * DAY, 11 * DAY, 40, 30, 14, 1100, 5,
	  false, 41, false },
	{ "39 over 40 days", 39, 40 * DAY, 40 * DAY, 40, 30, 14, 1100, 5,
	  false, 39, false },
	{ "40 over exactly 30 days", 40, 30 * DAY, 30 * DAY, 40, 30, 14, 1100,
	  5, true, 0, false },
	{ "fade: 10, then 3 silent periods", 10, DAY, DAY + 42 * DAY, 40, 30,
	  14, 1100, 5, false, 7, false },
	{ "fade to zero", 10, DAY, DAY + 200 * DAY, 40, 30, 14, 1100, 5,
	  false, 0, false },
	{ "no fade when off", 10, DAY, DAY + 200 * DAY, 40, 30, 0, 1100, 5,
	  false, 10, false },
	{ "expiry converts above threshold", 6, 5 * DAY, 61 * DAY, 40, 30, 0,
	  60, 5, true, 0, false },
	{ "expiry drops at threshold", 5, 4 * DAY, 61 * DAY, 40, 30, 0, 60, 5,
	  false, 0, false },
	{ "option: 11 over 6 days, 10 over 5", 11, 6 * DAY, 7 * DAY, 10, 5,
	  14, 1100, 5, true, 0, false },
	{ "per day: 41 over 10 days count 11", 41, 10 * DAY, 11 * DAY, 40,
	  30, 14, 1100, 5, false, 11, true },
	{ "per day: 41 over 31 days is not enough", 41, 31 * DAY, 32 * DAY,
	  40, 30, 14, 1100, 5, false, 32, true },
	{ "per day: 10 over 40 days, 10 over 30", 41, 40 * DAY, 41 * DAY, 10,
	  30, 14, 1100, 5, true, 0, true },
	{ "bounces after now are ignored", 41, 31 * DAY, 5 * DAY, 40, 30, 14,
	  1100, 5, false, 7, false },
};

static void test_replay(void)
{
	struct bav_score_params p;
	struct bav_score_result r, r2;
	struct bav_score_event *ev;
	unsigned int i;

	test_begin("score replay");
	for (i = 0; i < sizeof(replay_cases) / sizeof(replay_cases[0]); i++) {
		const struct replay_case *c = &replay_cases[i];

		bav_score_params_init(&p);
		p.convert_count = c->convert_count;
		p.convert_days = c->convert_days;
		p.fade_days = c->fade;
		p.expire_days = c->expire;
		p.expire_threshold = c->threshold;
		p.per_day = c->per_day;
		ev = spread(c->n, c->span);
		bav_score_replay(&p, ev, c->n, T0 + c->now, &r);
		if (!test_assert_idx(r.converted == c->converted, i) ||
		    (!c->converted && !test_assert_idx(r.count == c->count, i)))
			fprintf(stderr, "  case \"%s\": converted %d count %u\n",
				c->name, r.converted, r.count);
		/* the same input gives the same result */
		bav_score_replay(&p, ev, c->n, T0 + c->now, &r2);
		test_assert_idx(memcmp(&r, &r2, sizeof(r)) == 0, i);
		free(ev);
	}
	/* the conversion happens at the first bounce that reaches both */
	bav_score_params_init(&p);
	ev = spread(41, 31 * DAY);
	bav_score_replay(&p, ev, 41, T0 + 40 * DAY, &r);
	test_assert(r.converted && r.count == 40 && r.first == T0 &&
		    r.converted_at == ev[39].time && r.mailing == 139);
	free(ev);
	test_end();
}

static void test_defaults(void)
{
	struct bav_score_params p;

	test_begin("score defaults are OpenEMM's");
	bav_score_params_init(&p);
	test_assert(p.convert_count == 40 && p.convert_days == 30);
	test_assert(p.fade_days == 14 && p.expire_days == 1100 &&
		    p.expire_threshold == 5);
	test_end();
}

/* ---- against a store ------------------------------------------------ */

static struct bav_store *store;
static char *db_path;
static unsigned int msg_seq;

static void exec_ok(const char *sql, const struct bav_store_param *p,
		    unsigned int n)
{
	const char *error;

	if (bav_store_exec(store, sql, p, n, NULL, NULL, &error) < 0) {
		fprintf(stderr, "SQL failed: %s: %s\n", sql, error);
		test_assert(false);
	}
}

static void tx(bool begin)
{
	const char *error;
	int ret = begin ? bav_store_begin(store, &error) :
		bav_store_commit(store, &error);

	if (!test_assert(ret == 0))
		fprintf(stderr, "transaction: %s\n", error);
}

static void add_recipient(const char *addr, const char *state)
{
	const struct bav_store_param p[] = {
		BAV_STORE_PARAM_TEXT(addr),
		BAV_STORE_PARAM_TEXT(strchr(addr, '@') + 1),
		BAV_STORE_PARAM_TEXT(state), BAV_STORE_PARAM_INT(T0),
	};

	exec_ok("INSERT INTO bav_recipients (address, domain, state,"
		" state_since) VALUES (?, ?, ?, ?)", p, 4);
}

static void add_event(const char *addr, long long t, int hard, int detail)
{
	char key[64];
	long long id;

	snprintf(key, sizeof(key), "test-score-%u", ++msg_seq);
	{
		const struct bav_store_param m[] = {
			BAV_STORE_PARAM_TEXT(key), BAV_STORE_PARAM_INT(t),
		};
		exec_ok("INSERT INTO bav_messages (message_key, time, kind)"
			" VALUES (?, ?, 'bounce')", m, 2);
	}
	id = bav_store_last_id(store);
	{
		const struct bav_store_param e[] = {
			BAV_STORE_PARAM_INT(id), BAV_STORE_PARAM_INT(t),
			BAV_STORE_PARAM_TEXT(addr),
			BAV_STORE_PARAM_TEXT(strchr(addr, '@') + 1),
			BAV_STORE_PARAM_INT(hard), BAV_STORE_PARAM_INT(detail),
			BAV_STORE_PARAM_INT(7),
		};
		exec_ok("INSERT INTO bav_events (message_id, time, recipient,"
			" domain, kind, reason, hard, detail, status,"
			" mailing_id) VALUES (?, ?, ?, ?, 'bounce',"
			" 'mailboxfull', ?, ?, '4.2.2', ?)", e, 7);
	}
}

static void add_soft(const char *addr, unsigned int n, long long start,
		     long long span)
{
	unsigned int i;

	tx(true);
	for (i = 0; i < n; i++)
		add_event(addr, start + (n > 1 ? span * i / (n - 1) : 0), 0,
			  420);
	tx(false);
}

struct state {
	char state[32], reason[64];
	long long count, first, last, since;
};

static int state_row(void *ctx, const struct bav_store_value *c,
		     const char *const *names, unsigned int n)
{
	struct state *s = ctx;

	(void)names;
	if (n < 6)
		return 0;
	snprintf(s->state, sizeof(s->state), "%s", c[0].s ? c[0].s : "");
	snprintf(s->reason, sizeof(s->reason), "%s", c[1].s ? c[1].s : "");
	s->count = c[2].i;
	s->first = c[3].i;
	s->last = c[4].i;
	s->since = c[5].i;
	return 0;
}

static struct state get_state(const char *addr)
{
	struct state s;
	const struct bav_store_param p[] = { BAV_STORE_PARAM_TEXT(addr) };
	const char *error;

	memset(&s, 0, sizeof(s));
	if (bav_store_exec(store, "SELECT state, state_reason, soft_count,"
			   " COALESCE(soft_first, 0), COALESCE(soft_last, 0),"
			   " state_since FROM bav_recipients WHERE address = ?",
			   p, 1, state_row, &s, &error) < 0)
		fprintf(stderr, "select: %s\n", error);
	return s;
}

static int count_row(void *ctx, const struct bav_store_value *c,
		     const char *const *names, unsigned int n)
{
	(void)names;
	if (n > 0)
		*(long long *)ctx = c[0].s != NULL ? strtoll(c[0].s, NULL, 10)
			: 0;
	return 0;
}

static long long count_of(const char *sql)
{
	long long v = -1;
	const char *error;

	if (bav_store_exec(store, sql, NULL, 0, count_row, &v, &error) < 0)
		fprintf(stderr, "count: %s\n", error);
	return v;
}

static int run_score(const struct bav_score_params *p, long long now,
		     struct bav_score_stats *st)
{
	const char *error;
	int ret = bav_score_run(store, p, now, false, st, &error);

	if (ret < 0)
		fprintf(stderr, "bav_score_run: %s\n", error);
	return ret;
}

static bool store_open(void)
{
	const char *uri = getenv("BAV_TEST_STORE");
	struct bav_store_opts opts = { .migrate = true };
	char *error = NULL, buf[512];
	static const char *const wipe[] = {
		"DELETE FROM bav_events", "DELETE FROM bav_messages",
		"DELETE FROM bav_recipients", "DELETE FROM bav_audit",
		"DELETE FROM bav_meta",
	};
	unsigned int i;

	if (uri == NULL || uri[0] == '\0') {
		const char *tmp = getenv("TMPDIR");

		snprintf(buf, sizeof(buf), "%s/test_score.%ld.db",
			 tmp != NULL ? tmp : "/tmp", (long)getpid());
		db_path = strdup(buf);
		(void)unlink(db_path);
		snprintf(buf, sizeof(buf), "sqlite:%s", db_path);
		uri = buf;
	}
	if (bav_store_open(uri, &opts, &store, &error) < 0) {
		fprintf(stderr, "store %s: %s (store tests skipped)\n", uri,
			error);
		free(error);
		return false;
	}
	for (i = 0; i < sizeof(wipe) / sizeof(wipe[0]); i++)
		exec_ok(wipe[i], NULL, 0);
	return true;
}

static void store_close(void)
{
	bav_store_close(&store);
	if (db_path != NULL) {
		(void)unlink(db_path);
		free(db_path);
	}
}

/* One fixture for the store tests; each address is one case. */
static void fixture(void)
{
	add_recipient("over31@example.com", "active");
	add_soft("over31@example.com", 41, T0, 31 * DAY);
	add_recipient("within10@example.com", "active");
	add_soft("within10@example.com", 41, T0 + 20 * DAY, 10 * DAY);
	add_recipient("delivered@example.org", "active");
	add_soft("delivered@example.org", 41, T0, 31 * DAY);
	add_recipient("hard@example.org", "bounced");
	add_soft("hard@example.org", 41, T0, 31 * DAY);
	add_recipient("few@example.net", "active");
	add_soft("few@example.net", 3, T0 + 25 * DAY, 2 * DAY);
	/* a hard bounce and a delay-like 0 detail do not count */
	add_recipient("mixed@example.net", "active");
	add_soft("mixed@example.net", 2, T0 + 30 * DAY, DAY);
	tx(true);
	add_event("mixed@example.net", T0 + 30 * DAY + 5, 0, 0);
	add_event("mixed@example.net", T0 + 30 * DAY + 6, 0, 510);
	tx(false);
	/* delivered after the bounces: reset before it could convert */
	{
		const struct bav_store_param p[] = {
			BAV_STORE_PARAM_INT(T0 + 31 * DAY + 3600),
		};
		exec_ok("UPDATE bav_recipients SET last_delivery = ? WHERE"
			" address = 'delivered@example.org'", p, 1);
	}
}

static void test_store_run(void)
{
	struct bav_score_params p;
	struct bav_score_stats st, st2;
	struct state s;
	long long now = T0 + 32 * DAY;

	test_begin("score run on a store");
	fixture();
	bav_score_params_init(&p);
	test_assert(run_score(&p, now, &st) == 0);
	s = get_state("over31@example.com");
	test_assert_strcmp(s.state, "bounced");
	test_assert_strcmp(s.reason, "bounce:conversion");
	test_assert(s.count == 40 && s.first == T0);
	s = get_state("within10@example.com");
	test_assert_strcmp(s.state, "softbounce");
	test_assert(s.count == 41 && s.first == T0 + 20 * DAY &&
		    s.last == T0 + 30 * DAY);
	s = get_state("delivered@example.org");
	test_assert_strcmp(s.state, "active");
	test_assert(s.count == 0);
	s = get_state("hard@example.org");
	test_assert_strcmp(s.state, "bounced");
	test_assert(s.count == 0 && s.reason[0] == '\0');
	s = get_state("few@example.net");
	test_assert_strcmp(s.state, "softbounce");
	test_assert(s.count == 3);
	s = get_state("mixed@example.net");
	test_assert(s.count == 2);
	test_assert(st.converted == 1 && st.softbounced == 3);
	test_assert(count_of("SELECT COUNT(*) FROM bav_audit WHERE action ="
			     " 'conversion' AND address ="
			     " 'over31@example.com'") == 1);

	/* idempotent: the same run again changes nothing */
	test_assert(run_score(&p, now, &st2) == 0);
	test_assert(st2.changed == 0 && st2.converted == 0);
	test_assert(st2.softbounced == st.softbounced);
	test_assert(count_of("SELECT COUNT(*) FROM bav_audit") == 1);
	s = get_state("within10@example.com");
	test_assert(s.count == 41);
	test_end();
}

static void test_store_reset(void)
{
	struct bav_score_params p;
	struct bav_score_stats st;
	struct state s;
	const char *error;

	test_begin("score: later delivery, engagement, unblock, fade");
	bav_score_params_init(&p);
	/* an engagement after the bounces resets a soft-bounced address */
	{
		const struct bav_store_param e[] = {
			BAV_STORE_PARAM_INT(T0 + 33 * DAY),
		};
		exec_ok("UPDATE bav_recipients SET last_engagement = ? WHERE"
			" address = 'within10@example.com'", e, 1);
	}
	test_assert(run_score(&p, T0 + 34 * DAY, &st) == 0);
	s = get_state("within10@example.com");
	test_assert_strcmp(s.state, "active");
	test_assert(s.count == 0 && s.first == 0);
	test_assert(st.reset >= 1);
	/* new soft bounces after the engagement count from 1 again */
	add_soft("within10@example.com", 2, T0 + 35 * DAY, DAY);
	test_assert(run_score(&p, T0 + 37 * DAY, &st) == 0);
	s = get_state("within10@example.com");
	test_assert(s.count == 2 && s.first == T0 + 35 * DAY);
	/* fade-out: 3 soft bounces, 14 silent days take one each */
	test_assert(run_score(&p, T0 + 26 * DAY + 29 * DAY, &st) == 0);
	s = get_state("few@example.net");
	test_assert(s.count == 1);
	test_assert(run_score(&p, T0 + 27 * DAY + 43 * DAY, &st) == 0);
	s = get_state("few@example.net");
	test_assert_strcmp(s.state, "active");
	test_assert(s.count == 0);
	/* an unblocked conversion is not converted again */
	test_assert(bav_store_unblock(store, "over31@example.com", "test",
				      "test_score", T0 + 40 * DAY, &error) == 0);
	test_assert(run_score(&p, T0 + 41 * DAY, &st) == 0);
	s = get_state("over31@example.com");
	test_assert_strcmp(s.state, "active");
	test_assert(count_of("SELECT COUNT(*) FROM bav_audit WHERE action ="
			     " 'conversion'") == 1);
	test_end();
}

static void test_store_options(void)
{
	struct bav_score_params p;
	struct bav_score_stats st;
	struct state s;
	const char *error;

	test_begin("score: thresholds from options, dry run");
	add_recipient("opt@example.com", "active");
	add_soft("opt@example.com", 11, T0 + 100 * DAY, 6 * DAY);
	bav_score_params_init(&p);
	test_assert(run_score(&p, T0 + 107 * DAY, &st) == 0);
	s = get_state("opt@example.com");
	test_assert_strcmp(s.state, "softbounce");
	p.convert_count = 10;
	p.convert_days = 5;
	test_assert(bav_score_run(store, &p, T0 + 107 * DAY, true, &st,
				  &error) == 0);
	test_assert(st.converted == 1);
	s = get_state("opt@example.com");
	test_assert_strcmp(s.state, "softbounce");
	test_assert(run_score(&p, T0 + 107 * DAY, &st) == 0);
	s = get_state("opt@example.com");
	test_assert_strcmp(s.state, "bounced");
	test_assert(s.count == 10);
	test_end();
}

static void test_store(void)
{
	if (!store_open())
		return;
	test_store_run();
	test_store_reset();
	test_store_options();
	store_close();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_defaults,
		test_replay,
		test_store,
		NULL
	};

	return test_run(tests);
}
