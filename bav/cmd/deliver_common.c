/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	deliver_common - classification and spooling shared by bav deliver
 *	and bav lmtpd
 * SYNOPSIS
 *	#include "deliver.h"
 *
 *	void deliver_cfg_init(struct deliver_cfg *cfg, int argc)
 *	int deliver_cfg_option(struct deliver_cfg *cfg, int opt,
 *			       const char *arg, const char *cmd)
 *	int deliver_cfg_load(struct deliver_cfg *cfg, const char *cmd)
 *	int deliver_message(const struct deliver_cfg *cfg,
 *			    struct bav_spool *spool, ...,
 *			    struct deliver_result *res)
 * DESCRIPTION
 *	One message: bav_classify() with the same options as bav classify
 *	(rules, limits, rid), bav_store_message_key(), then one
 *	bav_spool_write() of envelope, verdict and raw message, then the
 *	forward of a human reply (forward.c). A message
 *	libbav refuses (a parser limit, not a message) is spooled with the
 *	error instead of a verdict, so it is kept for the operator and for
 *	bav reclassify rather than bounced or lost.
 *
 *	cfg is read-only after deliver_cfg_load(): bav lmtpd's threads share
 *	it, each with its own spool handle and pool.
 * DIAGNOSTICS
 *	deliver_message() returns BAV_ETEMP when the spool write or the
 *	forward failed (the caller answers 75 / 451); option errors are
 *	printed as
 *	"bav CMD: why".
 * SEE ALSO
 *	bav-deliver(8), bav_spool.h
 */
#include "deliver.h"
#include "bav_store.h"
#include "storeargs.h"
#include "bav_verp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void deliver_cfg_init(struct deliver_cfg *cfg, int argc)
{
	const char *env = getenv("BAV_SPOOL");

	memset(cfg, 0, sizeof(*cfg));
	cfg->spool_dir = env != NULL && *env != '\0' ? env :
		DELIVER_DEFAULT_SPOOL;
	bav_limits_default(&cfg->limits);
	cfg->sendmail = "/usr/sbin/sendmail";
	cfg->verp_max_age = 30;
	cfg->max_size = cfg->limits.max_message_size;
	if (gethostname(cfg->host, sizeof(cfg->host) - 1) < 0)
		snprintf(cfg->host, sizeof(cfg->host), "localhost");
	/* @UNSAFE: at most argc --rules arguments */
	cfg->rule_paths = calloc((size_t)argc + 1, sizeof(*cfg->rule_paths));
	if (cfg->rule_paths == NULL)
		abort();
}

int deliver_cfg_option(struct deliver_cfg *cfg, int opt, const char *arg,
		       const char *cmd)
{
	switch (opt) {
	case 300:
		cfg->spool_dir = arg;
		return 1;
	case 301:
		cfg->rule_paths[cfg->nrules++] = arg;
		return 1;
	case 302:
		cfg->no_default = true;
		return 1;
	case 303:
		if ((cfg->max_size = cmd_parse_size(arg, (size_t)-1 / 4)) == 0) {
			fprintf(stderr, "bav %s: bad --max-size: %s\n", cmd,
				arg);
			return -1;
		}
		if (cfg->max_size > cfg->limits.max_message_size)
			cfg->limits.max_message_size = cfg->max_size;
		return 1;
	case 304:
		snprintf(cfg->host, sizeof(cfg->host), "%s", arg);
		return 1;
	case 305:
		cfg->opts.rid = arg;
		return 1;
	case 306:
		cfg->sendmail = arg;
		return 1;
	case 307:
		if (arg[0] == '-' || strchr(arg, '@') == NULL) {
			fprintf(stderr, "bav %s: bad --forward address: %s\n",
				cmd, arg);
			return -1;
		}
		cfg->forward = arg;
		return 1;
	case 308:
		cfg->sendmail = NULL;
		return 1;
	case 310:
		free(cfg->verp_secret);
		if ((cfg->verp_secret = deliver_read_secret(arg, cmd)) == NULL)
			return -1;
		return 1;
	case 311:
		if (cmd_parse_uint(arg, 3650, &cfg->verp_max_age) < 0) {
			fprintf(stderr, "bav %s: bad --verp-max-age: %s\n", cmd,
				arg);
			return -1;
		}
		return 1;
	case 309: {
		unsigned int depth;

		if (cmd_parse_uint(arg, 1000, &depth) < 0 || depth == 0) {
			fprintf(stderr, "bav %s: bad --max-depth: %s\n", cmd,
				arg);
			return -1;
		}
		cfg->limits.max_depth = depth;
		return 1;
	}
	default:
		return 0;
	}
}

int deliver_cfg_load(struct deliver_cfg *cfg, const char *cmd)
{
	char *error = NULL;

	cfg->opts.limits = &cfg->limits;
	if (cfg->nrules == 0 && !cfg->no_default)
		return 0;	/* NULL rules: the built-in defaults */
	if (bav_rules_load(cfg->rule_paths, cfg->nrules, !cfg->no_default,
			   &cfg->rules, &error) != BAV_OK) {
		fprintf(stderr, "bav %s: %s\n", cmd,
			error != NULL ? error : "cannot load rules");
		free(error);
		return -1;
	}
	cfg->opts.rules = cfg->rules;
	return 0;
}

char *deliver_read_secret(const char *path, const char *cmd)
{
	FILE *fp = fopen(path, "re");
	char buf[4096];
	size_t n;

	if (fp == NULL) {
		fprintf(stderr, "bav %s: %s: %s\n", cmd, path, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	n = strcspn(buf, "\r\n");
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	if (n == 0) {
		fprintf(stderr, "bav %s: %s: empty key\n", cmd, path);
		return NULL;
	}
	return strdup(buf);
}

/* A signed VERP envelope recipient names the original recipient. */
static void verp_identity(const struct deliver_cfg *cfg, struct bav_pool *pool,
			  struct bav_verdict *v, const char *const *rcpts,
			  unsigned int nrcpts)
{
	char rcpt[512];
	const char *error;
	unsigned int i;

	if (cfg->verp_secret == NULL || v == NULL)
		return;
	for (i = 0; i < nrcpts; i++) {
		if (bav_verp_check(rcpts[i], cfg->verp_secret, time(NULL),
				   cfg->verp_max_age, rcpt, sizeof(rcpt),
				   &error) != 1)
			continue;
		v->ident.verp = bav_pool_strdup(pool, rcpts[i]);
		if (v->ident.envelope_recipient == NULL ||
		    v->ident.envelope_recipient[0] == '\0')
			v->ident.envelope_recipient =
				bav_pool_strdup(pool, rcpt);
		return;
	}
}

void deliver_cfg_free(struct deliver_cfg *cfg)
{
	free(cfg->verp_secret);
	cfg->verp_secret = NULL;
	if (cfg->rules != NULL)
		bav_rules_free(&cfg->rules);
	free(cfg->rule_paths);
	cfg->rule_paths = NULL;
}

int deliver_message(const struct deliver_cfg *cfg, struct bav_spool *spool,
		    const char *sender, const char *const *rcpts,
		    unsigned int nrcpts, const char *queue_id,
		    const unsigned char *msg, size_t len,
		    struct deliver_result *res)
{
	struct bav_pool *pool = bav_pool_new(16384 + len / 2);
	struct bav_verdict *v = NULL;
	struct bav_spool_entry e;
	char key[BAV_STORE_KEY_SIZE];
	const char *cerr = NULL, *error = NULL;
	int ret;

	memset(&e, 0, sizeof(e));
	res->name = "";
	res->fwd[0] = res->error[0] = '\0';
	if (cfg->rules_lock != NULL)
		pthread_rwlock_rdlock(cfg->rules_lock);
	if (bav_classify(msg, len, &cfg->opts, pool, &v, &cerr) != BAV_OK)
		v = NULL;
	if (cfg->rules_lock != NULL)
		pthread_rwlock_unlock(cfg->rules_lock);
	verp_identity(cfg, pool, v, rcpts, nrcpts);
	bav_store_message_key(msg, len, key);
	e.sender = sender;
	e.recipients = rcpts;
	e.recipient_count = nrcpts;
	e.queue_id = queue_id != NULL ? queue_id : "";
	e.host = cfg->host;
	e.time = time(NULL);
	e.key = key;
	e.verdict = v;
	e.error = v == NULL ? (cerr != NULL ? cerr : "not classified") : NULL;
	e.msg = msg;
	e.msg_len = len;
	res->kind = v != NULL ? bav_kind_name(v->kind) : "unclassified";
	ret = bav_spool_write(spool, &e, &res->name, &error);
	if (ret != BAV_OK) {
		snprintf(res->error, sizeof(res->error), "%s", error);
	} else if (v != NULL && nrcpts > 0 &&
		   deliver_forward(cfg, v->kind, rcpts[0], msg, len, res->fwd,
				   sizeof(res->fwd), res->error,
				   sizeof(res->error)) < 0) {
		ret = BAV_ETEMP;
	}
	bav_pool_free(&pool);
	return ret;
}
