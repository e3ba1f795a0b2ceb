/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cmd_show - the "bav show" subcommand: an address in the store
 * SYNOPSIS
 *	bav show [--store URI] [--password-file FILE] [--limit N] ADDRESS
 *
 *	int cmd_show(int argc, char **argv)
 * DESCRIPTION
 *	Prints the state of ADDRESS (active, softbounce with count and
 *	first/last dates, bounced, complained, unsubscribed), why it is
 *	blocked (the deciding event with its raw diagnostic), its last
 *	delivery and engagement, then its events newest first (default
 *	the last 50) and the audit trail (unblocks). Times are UTC.
 *	The address is compared lower-cased.
 * DIAGNOSTICS
 *	Exit 0 the address is known, 1 it is not, 64 usage, 75 temporary
 *	store failure, 78 configuration.
 * SEE ALSO
 *	bav(1), bav-store(7)
 */
#include "cmd_store.h"

#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *fmt_time(const struct bav_store_value *v, char *buf,
			    size_t size)
{
	time_t t;
	struct tm tm;

	if (v->type == BAV_STORE_NULL)
		return "-";
	t = (time_t)v->i;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "%lld", v->i);
	return buf;
}

static const char *txt(const struct bav_store_value *v)
{
	return v->s != NULL && v->s[0] != '\0' ? v->s : "-";
}

struct show_ctx {
	unsigned long rows;
	long long state_event;
};

/* address, domain, state, state_since, state_reason, state_event,
   soft_count, soft_first, soft_last, last_event, last_delivery,
   last_engagement */
static int state_row(void *ctx, const struct bav_store_value *v,
		     const char *const *names, unsigned int n)
{
	struct show_ctx *c = ctx;
	char b1[32], b2[32];

	(void)names;
	if (n < 12)
		return 1;
	c->rows++;
	c->state_event = v[5].type == BAV_STORE_NULL ? 0 : v[5].i;
	printf("address:         %s\n", v[0].s);
	printf("state:           %s since %s", v[2].s,
	       fmt_time(&v[3], b1, sizeof(b1)));
	if (v[4].s != NULL && v[4].s[0] != '\0')
		printf(" (%s)", v[4].s);
	putchar('\n');
	if (v[6].i > 0 || strcmp(v[2].s, "softbounce") == 0)
		printf("soft bounces:    %lld, first %s, last %s\n", v[6].i,
		       fmt_time(&v[7], b1, sizeof(b1)),
		       fmt_time(&v[8], b2, sizeof(b2)));
	printf("last event:      %s\n", fmt_time(&v[9], b1, sizeof(b1)));
	printf("last delivery:   %s\n", fmt_time(&v[10], b1, sizeof(b1)));
	printf("last engagement: %s\n", fmt_time(&v[11], b1, sizeof(b1)));
	return 0;
}

/* time, kind, reason, hard, status, replycode, detail, remote_mta, rule,
   diagnostic, mailing_id, message_id, receiving_host */
static int event_row(void *ctx, const struct bav_store_value *v,
		     const char *const *names, unsigned int n)
{
	struct show_ctx *c = ctx;
	char b[32];

	(void)names;
	if (n < 13)
		return 1;
	if (c->rows++ == 0)
		printf("\nevents (newest first):\n");
	printf("  %s  %s %s%s status=%s code=%lld detail=%lld",
	       fmt_time(&v[0], b, sizeof(b)), v[1].s, txt(&v[2]),
	       v[3].i ? " hard" : "", txt(&v[4]), v[5].i, v[6].i);
	if (v[10].type != BAV_STORE_NULL)
		printf(" mailing=%lld", v[10].i);
	printf("\n    remote-mta: %s  rule: %s  via: %s\n", txt(&v[7]),
	       txt(&v[8]), txt(&v[12]));
	if (v[9].s != NULL && v[9].s[0] != '\0')
		printf("    diagnostic: %s\n", v[9].s);
	return 0;
}

static int audit_row(void *ctx, const struct bav_store_value *v,
		     const char *const *names, unsigned int n)
{
	struct show_ctx *c = ctx;
	char b[32];

	(void)names;
	if (n < 6)
		return 1;
	if (c->rows++ == 0)
		printf("\naudit:\n");
	printf("  %s  %s %s -> %s by %s: %s\n", fmt_time(&v[0], b, sizeof(b)),
	       v[1].s, txt(&v[2]), txt(&v[3]), txt(&v[4]), txt(&v[5]));
	return 0;
}

static const struct option long_opts[] = {
	{ "store", required_argument, NULL, 's' },
	{ "password-file", required_argument, NULL, 'p' },
	{ "limit", required_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int show(struct bav_store *store, const char *addr, long long limit)
{
	struct bav_store_param p[] = { BAV_STORE_PARAM_TEXT(addr),
				       BAV_STORE_PARAM_INT(limit) };
	struct show_ctx c = { 0, 0 };
	unsigned long found;
	const char *error;
	int ret;

	ret = bav_store_exec(store, "SELECT address, domain, state,"
		" state_since, state_reason, state_event, soft_count,"
		" soft_first, soft_last, last_event, last_delivery,"
		" last_engagement FROM bav_recipients WHERE address = ?",
		p, 1, state_row, &c, &error);
	if (ret == BAV_OK && c.rows == 0) {
		printf("address:         %s\nstate:           unknown\n",
		       addr);
	}
	found = c.rows;
	c.rows = 0;
	if (ret == BAV_OK)
		ret = bav_store_exec(store, "SELECT time, kind, reason, hard,"
			" status, replycode, detail, remote_mta, rule,"
			" diagnostic, mailing_id, message_id, receiving_host"
			" FROM bav_events WHERE recipient = ?"
			" ORDER BY time DESC, id DESC LIMIT ?", p, 2,
			event_row, &c, &error);
	found += c.rows;
	c.rows = 0;
	if (ret == BAV_OK)
		ret = bav_store_exec(store, "SELECT time, action, old_state,"
			" new_state, actor, reason FROM bav_audit"
			" WHERE address = ? ORDER BY time, id", p, 1,
			audit_row, &c, &error);
	if (ret < 0) {
		fprintf(stderr, "bav: show: %s\n", error);
		return store_cmd_exit(ret);
	}
	return found + c.rows > 0 ? CMD_EX_OK : CMD_EX_FAIL;
}

int cmd_show(int argc, char **argv)
{
	const char *uri = NULL, *pwfile = NULL;
	struct bav_store *store;
	long long limit = 50;
	char *addr, *p;
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:p:n:h", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 's': uri = optarg; break;
		case 'p': pwfile = optarg; break;
		case 'n': limit = strtoll(optarg, NULL, 10); break;
		case 'h': cmd_usage(stdout); return CMD_EX_OK;
		default: cmd_usage(stderr); return CMD_EX_USAGE;
		}
	}
	if (optind + 1 != argc || limit <= 0) {
		cmd_usage(stderr);
		return CMD_EX_USAGE;
	}
	if ((ret = store_cmd_open(uri, pwfile, false, &store)) != 0)
		return ret;
	if ((addr = strdup(argv[optind])) == NULL)
		abort();
	for (p = addr; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	ret = show(store, addr, limit);
	free(addr);
	bav_store_close(&store);
	if (fflush(stdout) != 0)
		ret = CMD_EX_IOERR;
	return ret;
}
