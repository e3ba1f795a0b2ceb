/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cmd_record - the "bav record" subcommand: classify and record
 * SYNOPSIS
 *	bav record [--store URI] [--password-file FILE] [--batch N]
 *		[--host NAME] [--time EPOCH] [--rules FILE]...
 *		[--no-default-rules] [--rid RID] [--max-size BYTES] [--quiet]
 *		PATH...|-
 *
 *	int cmd_record(int argc, char **argv)
 * DESCRIPTION
 *	Walks the PATHs like bav classify (files, Maildirs, mboxes,
 *	directories, "-" for standard input, see input.c), classifies each
 *	message with the same libbav call and records the verdict with
 *	bav_store_record() under the key bav_store_message_key(), so a
 *	message recorded twice counts once. Messages are recorded in
 *	transactions of --batch messages (default 100; 1 = one transaction
 *	per message). The store schema is created or migrated on open.
 *	The receiving host defaults to the host name, the time to now.
 *
 *	A deadlock or lock timeout (another writer, e.g. a second MX host)
 *	rolls the batch back and replays it from the verdicts kept in
 *	memory, up to three times after a short random wait. A temporary
 *	store failure that persists (server gone, still locked) rolls the
 *	open transaction back and stops at once with exit 75: every
 *	message is then either fully recorded (an earlier batch) or not at
 *	all, and running the same command again records the rest exactly
 *	once.
 * DIAGNOSTICS
 *	"bav: NAME: why" for messages that can't be classified or read; a
 *	summary "bav: record: N messages, R recorded, D already recorded,
 *	F failed, T retried" on stderr unless --quiet. Exit 0 all recorded; 1 some
 *	message failed to classify (the others are recorded); 64 usage; 66
 *	some input could not be read; 75 temporary store failure (retry);
 *	78 configuration (store URI, rules).
 * SEE ALSO
 *	bav(1), bav-store(7), cmd_classify.c, bav_store.h
 */
#include "cmd_store.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A message of the open batch, kept until its commit so the batch can
   be replayed after a deadlock or lock timeout. */
struct pending {
	struct bav_pool *pool;
	struct bav_verdict *v;
	char key[BAV_STORE_KEY_SIZE];
};

#define RETRIES 3

struct record_ctx {
	struct bav_store *store;
	struct bav_classify_opts opts;
	struct bav_limits limits;
	size_t max_size;
	unsigned int batch;
	char host[256];
	time_t t;
	bool quiet, noinput;
	unsigned long nmsgs, nrecorded, ndup, nfailed, nretries;
	struct pending *pend;		/* batch entries */
	unsigned int npend;
	unsigned long pending, pending_dup;	/* in the open batch */
	int store_err;		/* first store error: stops the run */
};

enum { OPT_NO_DEFAULT = 256, OPT_RID, OPT_MAX_SIZE, OPT_HOST, OPT_TIME,
       OPT_BATCH, OPT_PWFILE };

static const struct option long_opts[] = {
	{ "store", required_argument, NULL, 's' },
	{ "password-file", required_argument, NULL, OPT_PWFILE },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "time", required_argument, NULL, OPT_TIME },
	{ "rules", required_argument, NULL, 'r' },
	{ "no-default-rules", no_argument, NULL, OPT_NO_DEFAULT },
	{ "rid", required_argument, NULL, OPT_RID },
	{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void store_fail(struct record_ctx *c, int err, const char *error)
{
	fprintf(stderr, "bav: record: %s%s\n", error,
		err == BAV_ETEMP ? " (temporary, nothing of the open batch "
		"was kept: run again later)" : "");
	c->store_err = err;
}

static void drop_pending(struct record_ctx *c)
{
	unsigned int i;

	for (i = 0; i < c->npend; i++)
		bav_pool_free(&c->pend[i].pool);
	c->npend = 0;
	c->pending = c->pending_dup = 0;
}

/* Record entry i of the batch (opening the transaction if needed). */
static int record_entry(struct record_ctx *c, unsigned int i,
			const char **error_r)
{
	int ret = BAV_OK;

	if (!bav_store_in_transaction(c->store))
		ret = bav_store_begin(c->store, error_r);
	if (ret == BAV_OK)
		ret = bav_store_record(c->store, c->pend[i].v, c->pend[i].key,
				       c->host, c->t, error_r);
	if (ret == 1)
		c->pending_dup++;
	else if (ret == 0)
		c->pending++;
	return ret;
}

/* After a temporary failure: roll back, wait a little and record the
   batch's first n entries again; up to RETRIES times (a deadlock or a
   lock timeout between two writers usually clears at once). */
static int replay(struct record_ctx *c, unsigned int n, int ret,
		  const char **error_r)
{
	unsigned int attempt, i;
	const char *e2;

	for (attempt = 1; ret == BAV_ETEMP && attempt <= RETRIES; attempt++) {
		struct timespec ts = { 0, 20000000L * attempt +
				       (long)(rand() % 20) * 1000000L };

		(void)bav_store_rollback(c->store, &e2);
		c->pending = c->pending_dup = 0;
		c->nretries++;
		nanosleep(&ts, NULL);
		ret = BAV_OK;
		for (i = 0; i < n && ret >= 0; i++)
			ret = record_entry(c, i, error_r);
	}
	return ret;
}

static int flush_batch(struct record_ctx *c)
{
	const char *error;
	char *first = NULL;
	int ret;

	if (!bav_store_in_transaction(c->store))
		return 0;
	ret = bav_store_commit(c->store, &error);
	if (ret == BAV_ETEMP) {
		first = strdup(error);
		ret = replay(c, c->npend, ret, &error);
		if (ret >= 0)
			ret = bav_store_commit(c->store, &error);
	}
	if (ret < 0) {
		const char *e2;

		/* the first failure says why (later ones: "lost") */
		store_fail(c, ret, first != NULL ? first : error);
		(void)bav_store_rollback(c->store, &e2);
		drop_pending(c);
		free(first);
		return -1;
	}
	free(first);
	c->nrecorded += c->pending;
	c->ndup += c->pending_dup;
	drop_pending(c);
	return 0;
}

static void record_one(struct record_ctx *c, const struct input_msg *msg)
{
	struct pending *p = &c->pend[c->npend];
	const char *error = NULL;
	char *first = NULL;
	int ret;

	c->nmsgs++;
	p->pool = bav_pool_new(16384 + msg->len / 2);
	p->v = NULL;
	if (bav_classify(msg->data, msg->len, &c->opts, p->pool, &p->v,
			 &error) != BAV_OK || p->v == NULL) {
		if (msg->in_mbox)
			fprintf(stderr, "bav: %s[%u]: %s\n", msg->name,
				msg->idx, error != NULL ? error : "failed");
		else
			fprintf(stderr, "bav: %s: %s\n", msg->name,
				error != NULL ? error : "failed");
		c->nfailed++;
		bav_pool_free(&p->pool);
		return;
	}
	bav_store_message_key(msg->data, msg->len, p->key);
	c->npend++;
	ret = record_entry(c, c->npend - 1, &error);
	if (ret == BAV_ETEMP) {
		first = strdup(error);
		ret = replay(c, c->npend, ret, &error);
	}
	if (ret < 0) {
		const char *e2;

		store_fail(c, ret, first != NULL ? first : error);
		(void)bav_store_rollback(c->store, &e2);
		drop_pending(c);
	} else if (c->npend >= c->batch) {
		(void)flush_batch(c);
	}
	free(first);
}

static void record_path(struct record_ctx *c, const char *path)
{
	struct input *in;
	struct input_msg msg;
	const char *name = path, *error = NULL;
	int ret;

	if ((in = input_open(path, c->max_size, &error)) == NULL) {
		fprintf(stderr, "bav: %s: %s\n", path, error);
		c->noinput = true;
		return;
	}
	while (c->store_err == 0 &&
	       (ret = input_next(in, &msg, &name, &error)) != 0) {
		if (ret < 0) {
			fprintf(stderr, "bav: %s: %s\n", name, error);
			if (ret == -2)
				c->nfailed++;
			else
				c->noinput = true;
			continue;
		}
		record_one(c, &msg);
	}
	input_close(&in);
}

static int usage(void)
{
	cmd_usage(stderr);
	return CMD_EX_USAGE;
}

struct record_args {
	const char *uri, *pwfile;
	const char **rules;
	size_t nrules;
	bool no_default;
};

static int parse_args(struct record_ctx *c, struct record_args *a, int argc,
		      char **argv)
{
	char *end;
	int opt;

	/* @UNSAFE: at most argc rule files */
	if ((a->rules = calloc((size_t)argc + 1, sizeof(*a->rules))) == NULL)
		abort();
	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:r:qh", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 's': a->uri = optarg; break;
		case OPT_PWFILE: a->pwfile = optarg; break;
		case 'r': a->rules[a->nrules++] = optarg; break;
		case OPT_NO_DEFAULT: a->no_default = true; break;
		case OPT_RID: c->opts.rid = optarg; break;
		case 'q': c->quiet = true; break;
		case OPT_HOST:
			snprintf(c->host, sizeof(c->host), "%s", optarg);
			break;
		case OPT_TIME:
			errno = 0;
			c->t = (time_t)strtoll(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || c->t <= 0)
				return usage();
			break;
		case OPT_BATCH:
			c->batch = (unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0' || c->batch == 0)
				return usage();
			break;
		case OPT_MAX_SIZE:
			c->max_size = (size_t)strtoull(optarg, &end, 10);
			if (*end != '\0' || c->max_size == 0)
				return usage();
			c->limits.max_message_size = c->max_size;
			break;
		case 'h': cmd_usage(stdout); return -1;
		default: return usage();
		}
	}
	return optind >= argc ? usage() : 0;
}

static int load_rules(struct record_args *a, struct bav_rules **rules_r)
{
	char *error = NULL;

	*rules_r = NULL;
	if (a->nrules == 0 && !a->no_default)
		return 0;
	if (bav_rules_load(a->rules, a->nrules, !a->no_default, rules_r,
			   &error) != BAV_OK) {
		fprintf(stderr, "bav: %s\n", error != NULL ? error :
			"cannot load rules");
		free(error);
		return CMD_EX_CONFIG;
	}
	return 0;
}

int cmd_record(int argc, char **argv)
{
	struct record_ctx c;
	struct record_args a;
	struct bav_rules *rules = NULL;
	const char *error;
	int ret, i;

	memset(&c, 0, sizeof(c));
	memset(&a, 0, sizeof(a));
	bav_limits_default(&c.limits);
	c.batch = 100;
	if ((ret = parse_args(&c, &a, argc, argv)) != 0 ||
	    (ret = load_rules(&a, &rules)) != 0 ||
	    (ret = store_cmd_open(a.uri, a.pwfile, true, &c.store)) != 0)
		goto out;
	if (c.host[0] == '\0' && gethostname(c.host, sizeof(c.host)) < 0)
		c.host[0] = '\0';
	c.host[sizeof(c.host) - 1] = '\0';
	if (c.t == 0)
		c.t = time(NULL);
	c.opts.rules = rules;
	c.opts.limits = &c.limits;
	/* @UNSAFE: batch is at most UINT_MAX, one entry per message */
	if ((c.pend = calloc(c.batch, sizeof(*c.pend))) == NULL) {
		fprintf(stderr, "bav: record: --batch %u: out of memory\n",
			c.batch);
		ret = CMD_EX_TEMPFAIL;
		goto out;
	}
	srand((unsigned int)getpid());

	for (i = optind; i < argc && c.store_err == 0; i++)
		record_path(&c, argv[i]);
	if (c.store_err == 0)
		(void)flush_batch(&c);
	if (c.store_err != 0)
		(void)bav_store_rollback(c.store, &error);
	if (!c.quiet)
		fprintf(stderr, "bav: record: %lu messages, %lu recorded, "
			"%lu already recorded, %lu failed, %lu retried%s\n",
			c.nmsgs, c.nrecorded, c.ndup, c.nfailed, c.nretries,
			c.store_err != 0 ? ", stopped" : "");
	if (c.store_err != 0)
		ret = store_cmd_exit(c.store_err);
	else if (c.noinput)
		ret = CMD_EX_NOINPUT;
	else if (c.nfailed > 0)
		ret = CMD_EX_FAIL;
out:
	drop_pending(&c);
	free(c.pend);
	bav_store_close(&c.store);
	if (rules != NULL)
		bav_rules_free(&rules);
	free(a.rules);
	return ret < 0 ? CMD_EX_OK : ret;
}
