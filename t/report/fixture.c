/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	fixture - write the deterministic report fixture into a store
 * SYNOPSIS
 *	t/report/fixture URI NOW
 * DESCRIPTION
 *	Creates (migrates) the store named by URI, empties its bav tables
 *	and writes 28 days of events before NOW (unix seconds) for seven
 *	recipient domains: hard and soft bounces with reasons and
 *	diagnostics that name the recipient (so the report must group
 *	them) or carry markup and quotes (so it must escape them), delays, complaints, unsubscribes, five mailings and some
 *	events without a mailing, the state of every known address, and
 *	one address with 41 soft bounces over 31 days that "bav score"
 *	converts. The numbers come from a fixed pseudo-random sequence, so
 *	every run writes the same data. Prints the expected totals of the
 *	last 30 days on stdout as "hard=N soft=N delay=N complaint=N
 *	unsubscribe=N total=N addresses=N top=DOMAIN" for the tests to
 *	compare with the report. Only portable SQL, so the same fixture
 *	runs on SQLite and MariaDB.
 * DIAGNOSTICS
 *	Exit 0; 1 with a message on stderr when the store fails; 77 when
 *	the store backend is not built (the test is skipped).
 */
#include "bav_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400LL
#define NADDR 60

struct domain {
	const char *name;
	unsigned int weight;	/* share of the events */
	unsigned int hard, soft, delay, complaint;	/* percent */
	unsigned int known;	/* addresses known */
};

static const struct domain domains[] = {
	{ "example.com", 30, 20, 55, 10, 5, 400 },
	{ "mail.example.org", 18, 45, 30, 10, 5, 250 },
	{ "example.net", 14, 25, 40, 20, 5, 200 },
	{ "inbox.example", 12, 10, 70, 10, 5, 300 },
	{ "corp.example.de", 10, 60, 20, 15, 0, 120 },
	{ "bigmail.example", 8, 15, 35, 10, 30, 500 },
	{ "tiny.example", 4, 50, 50, 0, 0, 20 },
};
#define NDOM (sizeof(domains) / sizeof(domains[0]))

static const char *const hard_reasons[] = {
	"userunknown", "userunknown", "userunknown", "hostunknown",
	"hasmoved", "notaccept",
};
static const char *const soft_reasons[] = {
	"mailboxfull", "mailboxfull", "blocked", "spamdetected",
	"filtered", "systemerror", "expired",
};

static struct bav_store *store;
static unsigned long long rnd_state = 20261121;
static unsigned int seq;
static char state[NDOM][NADDR][16];

static unsigned int rnd(unsigned int n)
{
	rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned int)((rnd_state >> 33) % n);
}

static void die(const char *what, const char *error)
{
	fprintf(stderr, "fixture: %s: %s\n", what, error);
	exit(1);
}

static void exec(const char *sql, const struct bav_store_param *p,
		 unsigned int n)
{
	const char *error;

	if (bav_store_exec(store, sql, p, n, NULL, NULL, &error) < 0)
		die(sql, error);
}

static const char *diagnostic(const char *kind, const char *reason,
			      const char *addr, char *buf, size_t size)
{
	if (strcmp(kind, "feedback") == 0 || strcmp(kind, "unsubscribe") == 0)
		return "";
	if (strcmp(reason, "userunknown") == 0)
		snprintf(buf, size, "550 5.1.1 <%s>: Recipient address "
			 "rejected: User unknown in virtual mailbox table", addr);
	else if (strcmp(reason, "mailboxfull") == 0)
		snprintf(buf, size, "452 4.2.2 <%s>: mailbox full, quota "
			 "exceeded (id %u)", addr, 100000 + rnd(900000));
	else if (strcmp(reason, "blocked") == 0)
		snprintf(buf, size, "421 4.7.0 Try again later, closing "
			 "connection. (%u) - blocked by reputation", rnd(99999));
	else if (strcmp(reason, "hostunknown") == 0)
		snprintf(buf, size, "Host or domain name not found. Name "
			 "service error for name=%s type=MX",
			 strchr(addr, '@') + 1);
	else if (strcmp(reason, "filtered") == 0)	/* must be escaped */
		snprintf(buf, size, "554 5.7.1 <%s>: content rejected, "
			 "\"<script>alert(1)</script>\" & <b>more</b>", addr);
	else
		snprintf(buf, size, "4.4.7 %s: delivery temporarily "
			 "suspended", reason);
	return buf;
}

static void event(long long t, const char *addr, const char *domain,
		  const char *kind, const char *reason, int hard, int detail,
		  long long mailing)
{
	char key[64], diag[300];
	long long id;
	const char *error;

	snprintf(key, sizeof(key), "fixture-%u", ++seq);
	{
		const struct bav_store_param p[] = {
			BAV_STORE_PARAM_TEXT(key), BAV_STORE_PARAM_INT(t),
			BAV_STORE_PARAM_TEXT(kind),
		};
		exec("INSERT INTO bav_messages (message_key, time, kind)"
		     " VALUES (?, ?, ?)", p, 3);
	}
	id = bav_store_last_id(store);
	{
		const struct bav_store_param p[] = {
			BAV_STORE_PARAM_INT(id), BAV_STORE_PARAM_INT(t),
			BAV_STORE_PARAM_TEXT(addr), BAV_STORE_PARAM_TEXT(domain),
			BAV_STORE_PARAM_TEXT(kind), BAV_STORE_PARAM_TEXT(reason),
			BAV_STORE_PARAM_INT(hard), BAV_STORE_PARAM_INT(detail),
			BAV_STORE_PARAM_TEXT(diagnostic(kind, reason, addr, diag,
							sizeof(diag))),
			mailing != 0 ? (struct bav_store_param)
				BAV_STORE_PARAM_INT(mailing) :
				(struct bav_store_param)BAV_STORE_PARAM_NULL,
		};
		if (bav_store_exec(store, "INSERT INTO bav_events (message_id,"
				   " time, recipient, domain, kind, reason,"
				   " hard, detail, diagnostic, mailing_id)"
				   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				   p, 10, NULL, NULL, &error) < 0)
			die("insert event", error);
	}
}

struct totals {
	unsigned long hard, soft, delay, complaint, unsub;
};

static void one_event(long long t, struct totals *tot)
{
	unsigned int w = rnd(100), d = 0, acc = 0, a, k;
	const struct domain *dom;
	char addr[128];
	long long mailing;
	static const long long mailings[] = { 4711, 4712, 4713, 4720, 4730 };

	for (d = 0; d < NDOM - 1; d++) {
		acc += domains[d].weight;
		if (w < acc)
			break;
	}
	dom = &domains[d];
	a = rnd(NADDR);
	snprintf(addr, sizeof(addr), "user%02u@%s", a, dom->name);
	mailing = rnd(10) == 0 ? 0 : mailings[rnd(5)];
	k = rnd(100);
	if (rnd(40) == 0) {
		event(t, addr, dom->name, "unsubscribe", "", 0, 0, mailing);
		tot->unsub++;
		if (state[d][a][0] == '\0')
			snprintf(state[d][a], 16, "unsubscribed");
	} else if (k < dom->hard) {
		event(t, addr, dom->name, "bounce",
		      hard_reasons[rnd(6)], 1, 511, mailing);
		tot->hard++;
		snprintf(state[d][a], 16, "bounced");
	} else if (k < dom->hard + dom->soft) {
		event(t, addr, dom->name, "bounce", soft_reasons[rnd(7)], 0,
		      420, mailing);
		tot->soft++;
	} else if (k < dom->hard + dom->soft + dom->delay) {
		event(t, addr, dom->name, "delay", "expired", 0, 0, mailing);
		tot->delay++;
	} else if (dom->complaint > 0) {
		event(t, addr, dom->name, "feedback", "feedback", 0, 0,
		      mailing);
		tot->complaint++;
		if (strcmp(state[d][a], "bounced") != 0)
			snprintf(state[d][a], 16, "complained");
	} else {
		event(t, addr, dom->name, "delay", "expired", 0, 0, mailing);
		tot->delay++;
	}
}

static void recipients(long long now)
{
	char addr[128];
	unsigned int d, a;

	for (d = 0; d < NDOM; d++) {
		for (a = 0; a < domains[d].known; a++) {
			const char *st = a < NADDR && state[d][a][0] != '\0' ?
				state[d][a] : "active";
			struct bav_store_param p[] = {
				BAV_STORE_PARAM_TEXT(addr),
				BAV_STORE_PARAM_TEXT(domains[d].name),
				BAV_STORE_PARAM_TEXT(st),
				BAV_STORE_PARAM_INT(now - 40 * DAY),
			};

			snprintf(addr, sizeof(addr), "user%02u@%s", a,
				 domains[d].name);
			exec("INSERT INTO bav_recipients (address, domain,"
			     " state, state_since) VALUES (?, ?, ?, ?)", p, 4);
		}
	}
}

int main(int argc, char **argv)
{
	struct bav_store_opts opts = { .migrate = true };
	static const char *const wipe[] = {
		"DELETE FROM bav_events", "DELETE FROM bav_messages",
		"DELETE FROM bav_recipients", "DELETE FROM bav_audit",
		"DELETE FROM bav_meta",
	};
	struct totals tot = { 0, 0, 0, 0, 0 };
	char *err = NULL;
	const char *error;
	long long now, day0, t;
	unsigned int i, n, day;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: fixture URI NOW\n");
		return 1;
	}
	now = strtoll(argv[2], NULL, 10);
	ret = bav_store_open(argv[1], &opts, &store, &err);
	if (ret < 0) {
		fprintf(stderr, "fixture: %s: %s\n", argv[1], err);
		return strstr(err, "not built") != NULL ||
			strstr(err, "not compiled") != NULL ? 77 : 1;
	}
	for (i = 0; i < sizeof(wipe) / sizeof(wipe[0]); i++)
		exec(wipe[i], NULL, 0);
	if (bav_store_begin(store, &error) < 0)
		die("begin", error);
	day0 = now - now % DAY - 27 * DAY;
	for (day = 0; day < 28; day++) {
		/* a weekly rhythm and a bad day in the middle */
		n = 12 + (day % 7 < 5 ? 10 : 0) + (day == 17 ? 40 : 0) +
			rnd(8);
		for (i = 0; i < n; i++) {
			t = day0 + day * DAY + rnd(DAY);
			if (t >= now)
				t = now - 1 - rnd(3600);
			one_event(t, &tot);
		}
	}
	recipients(now);
	/* 41 soft bounces over 31 days: bav score converts this one */
	{
		const struct bav_store_param p[] = {
			BAV_STORE_PARAM_INT(now - 40 * DAY),
		};
		exec("INSERT INTO bav_recipients (address, domain, state,"
		     " state_since) VALUES ('full@example.com', 'example.com',"
		     " 'active', ?)", p, 1);
	}
	for (i = 0; i < 41; i++) {
		t = now - 31 * DAY + 31 * DAY * i / 41;
		event(t, "full@example.com", "example.com", "bounce",
		      "mailboxfull", 0, 420, 4711);
		if (t >= day0 - 2 * DAY)	/* in the default 30 days */
			tot.soft++;
	}
	if (bav_store_commit(store, &error) < 0)
		die("commit", error);
	bav_store_close(&store);
	printf("hard=%lu soft=%lu delay=%lu complaint=%lu unsubscribe=%lu "
	       "total=%lu top=example.com\n", tot.hard, tot.soft, tot.delay,
	       tot.complaint, tot.unsub, tot.hard + tot.soft + tot.delay +
	       tot.complaint + tot.unsub);
	return 0;
}
