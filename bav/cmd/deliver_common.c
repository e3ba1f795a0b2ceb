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
 *	it, each with its own spool handle and pool. deliver_cfg_init()
 *	takes the defaults from main.cf (rules_files, default_rules,
 *	max_message_size, max_mime_depth, host_name, rid, sendmail_path,
 *	forward_replies, forward_address, verp_max_age; spool_directory
 *	through $BAV_SPOOL), the options then override them;
 *	deliver_cfg_load() reads verp_secret from the secrets file unless
 *	--verp-secret-file named a key file.
 * DIAGNOSTICS
 *	deliver_message() returns BAV_ETEMP when the spool write or the
 *	forward failed (the caller answers 75 / 451); option errors are
 *	printed as
 *	"bav CMD: why".
 * SEE ALSO
 *	bav-deliver(8), bav_spool.h
 */
#include "deliver.h"
#include "cmd_config.h"
#include "bav_store.h"
#include "storeargs.h"
#include "bav_verp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* rules_files of main.cf into the first rule_paths. */
static void config_rules(struct deliver_cfg *cfg)
{
	const char *v = cmd_config_str("rules_files");
	char *save = NULL, *tok;

	if (v == NULL)
		return;
	if ((cfg->config_rules = strdup(v)) == NULL)
		abort();
	for (tok = strtok_r(cfg->config_rules, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save))
		cfg->rule_paths[cfg->nrules++] = tok;
	cfg->nconfig_rules = cfg->nrules;
}

void deliver_cfg_init(struct deliver_cfg *cfg, int argc)
{
	const struct bav_config *cf = cmd_config();
	const char *env = getenv("BAV_SPOOL"), *v;
	size_t nconf;

	memset(cfg, 0, sizeof(*cfg));
	cfg->spool_dir = env != NULL && *env != '\0' ? env :
		DELIVER_DEFAULT_SPOOL;
	bav_limits_default(&cfg->limits);
	cfg->sendmail = cmd_config_str("sendmail_path");
	if (bav_config_get_number(cf, "forward_replies") == 0)
		cfg->sendmail = NULL;
	cfg->forward = cmd_config_str("forward_address");
	cfg->opts.rid = cmd_config_str("rid");
	cfg->no_default = bav_config_get_number(cf, "default_rules") == 0;
	cfg->verp_max_age = (unsigned int)
		(bav_config_get_number(cf, "verp_max_age") / 86400);
	cfg->max_size = (size_t)bav_config_get_number(cf, "max_message_size");
	if (cfg->max_size > cfg->limits.max_message_size)
		cfg->limits.max_message_size = cfg->max_size;
	cfg->limits.max_depth =
		(unsigned int)bav_config_get_number(cf, "max_mime_depth");
	if ((v = cmd_config_str("host_name")) != NULL)
		snprintf(cfg->host, sizeof(cfg->host), "%s", v);
	else if (gethostname(cfg->host, sizeof(cfg->host) - 1) < 0)
		snprintf(cfg->host, sizeof(cfg->host), "localhost");
	/* @UNSAFE: at most argc --rules arguments and the words of
	   rules_files (each at least one byte and a separator) */
	v = cmd_config_str("rules_files");
	nconf = v != NULL ? strlen(v) / 2 + 1 : 0;
	cfg->rule_paths = calloc((size_t)argc + nconf + 1,
				 sizeof(*cfg->rule_paths));
	if (cfg->rule_paths == NULL)
		abort();
	config_rules(cfg);
}

int deliver_cfg_option(struct deliver_cfg *cfg, int opt, const char *arg,
		       const char *cmd)
{
	switch (opt) {
	case 300:
		cfg->spool_dir = arg;
		return 1;
	case 301:
		if (cfg->nconfig_rules > 0) {	/* --rules replace main.cf's */
			cfg->nrules = cfg->nconfig_rules = 0;
		}
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
	if (cfg->verp_secret == NULL) {
		bool bad = false;
		const char *v = cmd_config_secret("verp_secret", cmd, &bad);

		if (bad)
			return -1;
		if (v != NULL && (cfg->verp_secret = strdup(v)) == NULL)
			abort();
	}
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
	char errbuf[512], *secret = NULL;

	if (bav_secret_file_read(path, false, &secret, errbuf,
				 sizeof(errbuf)) < 0) {
		fprintf(stderr, "bav %s: %s\n", cmd, errbuf);
		return NULL;
	}
	return secret;
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
	free(cfg->config_rules);
	cfg->config_rules = NULL;
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
	const char *cerr = NULL, *error = NULL, *limit_rule;
	unsigned long hits;
	int ret;

	memset(&e, 0, sizeof(e));
	res->name = "";
	res->fwd[0] = res->error[0] = '\0';
	if (cfg->rules_lock != NULL)
		pthread_rwlock_rdlock(cfg->rules_lock);
	hits = bav_rules_limit_hits(cfg->opts.rules, NULL);
	if (bav_classify(msg, len, &cfg->opts, pool, &v, &cerr) != BAV_OK)
		v = NULL;
	if (bav_rules_limit_hits(cfg->opts.rules, &limit_rule) != hits)
		syslog(LOG_WARNING, "%s: rule %s hit the PCRE2 match limit "
		       "(no match)", queue_id != NULL ? queue_id : "NOQUEUE",
		       limit_rule != NULL ? limit_rule : "?");
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
