/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	emm - OpenEMM drop-in mode: one classified message into EMM's tables
 * SYNOPSIS
 *	#include "bav_emm.h"
 *
 *	bool bav_emm_uri(const char *uri)
 *	int bav_emm_open(const char *uri, const struct bav_emm_opts *opts,
 *			 struct bav_emm **emm_r, char **error_r)
 *	void bav_emm_close(struct bav_emm **emm)
 *	struct bav_store *bav_emm_store(struct bav_emm *emm)
 *	int bav_emm_record(struct bav_emm *emm,
 *			   const struct bav_emm_mail *mail,
 *			   struct bav_emm_outcome *out, const char **error_r)
 *	void bav_emm_reload(struct bav_emm *emm)
 *	int bav_emm_rules_text(struct bav_emm *emm, long long company,
 *			       long long rid, char **text_r,
 *			       const char **error_r)
 * DESCRIPTION
 *	bav_emm_record() is bavd's decision (spec 5.3, 5.5, 5.8, 5.9) on a
 *	verdict that libbav already made, followed by what update writes
 *	(5.11): the X-AGNMailloop parameter gives rid, cid and fwd (last
 *	occurrence wins, rid falls back to mail->rid); the agnUIDs are
 *	validated against the database (emm_ident.c); then
 *
 *	  BCC copy (V...- Message-ID)      ignore
 *	  unsubscribe with an origin       binding status 4 on the mailing's
 *	                                   list (emm_write_unsubscribe)
 *	  bounce with an origin            bounce_tbl, binding status 2 ...
 *	                                   (emm_write_bounce) or an
 *	                                   extbounce.log line (logdir)
 *	  auto-reply                       its {mark} (auto, ooo): "drop"
 *	  reply matching bounce_rule_tbl   systemmail: filtered; filter: its
 *	                                   {mark} or filtered (emm_filter.c)
 *	  reply                            sent (forwarded) or filtered plus
 *	                                   the inbox and the autoresponder
 *	                                   rate limit
 *	  anything else                    filtered
 *
 *	and one mailloop_log_tbl row (or mailloop.log line) per message,
 *	also when no company is known (OpenEMM drops those). The whole
 *	message is one transaction, keyed by message_key in
 *	bav_emm_done_tbl, so a redelivered message writes nothing.
 *	Configuration tables are cached and re-read every 180 s.
 * DIAGNOSTICS
 *	0 recorded, 1 already recorded, or a bav_err with *error_r (owned
 *	by the handle). The library never exits or prints.
 * SEE ALSO
 *	bav-emm(7), emm-mailloop spec 5, 7, 8.4
 */
#include "emm_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define RELOAD_S 180

static const char *const own_tables[] = {
	"CREATE TABLE IF NOT EXISTS bav_emm_done_tbl ("
	" message_key VARCHAR(128) NOT NULL PRIMARY KEY,"
	" timestamp TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"
	" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	"CREATE TABLE IF NOT EXISTS bav_emm_delayed_tbl ("
	" company_id INT UNSIGNED NOT NULL,"
	" mailing_id INT UNSIGNED NOT NULL,"
	" mediatype INT NOT NULL DEFAULT 0,"
	" customer_id INT UNSIGNED NOT NULL,"
	" detail INT NOT NULL, dsn INT NOT NULL, remark VARCHAR(1000),"
	" from_mailloop INT(1) NOT NULL DEFAULT 1,"
	" due TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,"
	" created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,"
	" PRIMARY KEY (mailing_id, mediatype, customer_id))"
	" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
};

static const char *const own_checks[] = {
	"SELECT COUNT(*) FROM bav_emm_done_tbl WHERE 1 = 0",
	"SELECT COUNT(*) FROM bav_emm_delayed_tbl WHERE 1 = 0",
};

bool bav_emm_uri(const char *uri)
{
	return uri != NULL && strncmp(uri, "emm+", 4) == 0;
}

static char *dup_error(const char *prefix, const char *msg)
{
	size_t n = strlen(prefix) + strlen(msg) + 1;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s%s", prefix, msg);
	return s;
}

/* Take emm_licence=, emm_logdir=, emm_delay=, emm_webhook_log= out of the URI's query
   into emm->opts; returns the rest (malloc'ed). */
static char *uri_options(struct bav_emm *emm, const char *uri)
{
	char *copy = bav_xstrdup(uri), *q = strchr(copy, '?'), *out, *item;
	char *save = NULL;
	bool first = true;
	size_t o;

	if (q == NULL)
		return copy;
	*q++ = '\0';
	out = bav_xcalloc(strlen(uri) + 2, 1);
	memcpy(out, copy, strlen(copy));
	o = strlen(copy);
	for (item = strtok_r(q, "&", &save); item != NULL;
	     item = strtok_r(NULL, "&", &save)) {
		if (strncmp(item, "emm_licence=", 12) == 0) {
			emm->opts.licence = atoll(item + 12);
		} else if (strncmp(item, "emm_logdir=", 11) == 0) {
			free(emm->logdir);
			emm->logdir = bav_xstrdup(item + 11);
		} else if (strncmp(item, "emm_delay=", 10) == 0) {
			emm->opts.delay_s = (unsigned int)atoi(item + 10);
		} else if (strncmp(item, "emm_webhook_log=", 16) == 0) {
			free(emm->webhook.path);
			emm->webhook.path = item[16] != '\0' ?
				bav_xstrdup(item + 16) : NULL;
		} else {
			out[o++] = first ? '?' : '&';
			first = false;
			memcpy(out + o, item, strlen(item));
			o += strlen(item);
		}
	}
	out[o] = '\0';
	free(copy);
	return out;
}

int bav_emm_open(const char *uri, const struct bav_emm_opts *opts,
		 struct bav_emm **emm_r, char **error_r)
{
	char *base;
	struct bav_store_opts so = { .any_version = true };
	struct bav_emm *emm;
	const char *error;
	unsigned int i;
	int ret;

	*emm_r = NULL;
	*error_r = NULL;
	if (bav_emm_uri(uri))
		uri += 4;
	emm = bav_xcalloc(1, sizeof(*emm));
	if (opts != NULL)
		emm->opts = *opts;
	if (emm->opts.logdir != NULL)
		emm->logdir = bav_xstrdup(emm->opts.logdir);
	if (emm->opts.webhook_log != NULL && emm->opts.webhook_log[0] != '\0')
		emm->webhook.path = bav_xstrdup(emm->opts.webhook_log);
	base = uri_options(emm, uri);
	so.password_file = emm->opts.password_file;
	so.password = emm->opts.password;
	ret = bav_store_open(base, &so, &emm->store, error_r);
	free(base);
	if (ret != BAV_OK) {
		free(emm->logdir);
		emm_webhook_free(&emm->webhook);
		free(emm);
		return ret;
	}
	if (emm->logdir != NULL) {
		/* the unchanged update process writes the webhooks itself */
		free(emm->webhook.path);
		emm->webhook.path = NULL;
	}
	if (strcmp(bav_store_backend(emm->store), "mariadb") != 0) {
		*error_r = dup_error(uri, ": an EMM database is MariaDB");
		bav_emm_close(&emm);
		return BAV_ECONFIG;
	}
	ret = bav_store_exec(emm->store, "SELECT COUNT(*) FROM company_tbl",
			     NULL, 0, NULL, NULL, &error);
	if (ret != BAV_OK) {
		*error_r = dup_error("not an EMM database (company_tbl): ",
				     error);
		bav_emm_close(&emm);
		return ret == BAV_ETEMP ? ret : BAV_ECONFIG;
	}
	/* times are written as UTC text: right whatever the time zones of
	   this host and of the server (TIMESTAMP columns store UTC) */
	ret = bav_store_exec(emm->store, "SET time_zone = '+00:00'", NULL, 0,
			     NULL, NULL, &error);
	if (ret != BAV_OK) {
		*error_r = dup_error("set the session time zone: ", error);
		bav_emm_close(&emm);
		return ret;
	}
	for (i = 0; i < sizeof(own_tables) / sizeof(own_tables[0]); i++) {
		const char *e2;

		ret = bav_store_exec(emm->store, own_tables[i], NULL, 0, NULL,
				     NULL, &error);
		/* no CREATE grant: fine when the DBA made the table */
		if (ret != BAV_OK && ret != BAV_ETEMP &&
		    bav_store_exec(emm->store, own_checks[i], NULL, 0, NULL,
				   NULL, &e2) == BAV_OK)
			ret = BAV_OK;
		if (ret != BAV_OK) {
			*error_r = dup_error("create bav's EMM tables: ",
					     error);
			bav_emm_close(&emm);
			return ret;
		}
	}
	if (emm->opts.server != NULL) {
		emm->server = bav_xstrdup(emm->opts.server);
	} else {
		char h[256];

		if (gethostname(h, sizeof(h) - 1) == 0) {
			h[sizeof(h) - 1] = '\0';
			emm->server = bav_xstrdup(h);
		}
	}
	emm->opts.logdir = emm->logdir;
	emm->opts.server = emm->server;
	emm->opts.password_file = NULL;
	emm->opts.password = NULL;
	emm->opts.webhook_log = emm->webhook.path;
	if (emm->opts.delay_s == 0)
		emm->opts.delay_s = 86400;
	emm->reload = true;
	*emm_r = emm;
	return BAV_OK;
}

void bav_emm_close(struct bav_emm **emmp)
{
	struct bav_emm *emm = *emmp;

	if (emm == NULL)
		return;
	if (emm->store != NULL)
		bav_store_close(&emm->store);
	emm_config_free(&emm->cfg);
	if (emm->pool != NULL)
		bav_pool_free(&emm->pool);
	free(emm->logdir);
	emm_webhook_free(&emm->webhook);
	free(emm->server);
	free(emm);
	*emmp = NULL;
}

struct bav_store *bav_emm_store(struct bav_emm *emm)
{
	return emm->store;
}

void bav_emm_reload(struct bav_emm *emm)
{
	emm->reload = true;
}

static int config(struct bav_emm *emm, const char **error_r)
{
	struct emm_config *cfg;
	int ret;

	if (emm->cfg != NULL && !emm->reload &&
	    time(NULL) - emm->cfg->loaded < RELOAD_S)
		return BAV_OK;
	if ((ret = emm_config_load(emm->store, &cfg, error_r)) != BAV_OK)
		return emm->cfg != NULL && ret != BAV_ETEMP ? BAV_OK : ret;
	emm_config_free(&emm->cfg);
	emm->cfg = cfg;
	emm->reload = false;
	return BAV_OK;
}

int bav_emm_rules_text(struct bav_emm *emm, long long company,
		       long long rid, char **text_r, const char **error_r)
{
	const struct emm_filter *f;
	struct bav_pool *pool;
	int ret;

	*text_r = NULL;
	if ((ret = config(emm, error_r)) != BAV_OK)
		return ret;
	if (company == 0 && (f = emm_config_filter(emm->cfg, rid)) != NULL)
		company = f->company;
	pool = bav_pool_new(4096);
	*text_r = bav_xstrdup(emm_rules_merge(pool, emm->cfg->rulesets,
					      emm->cfg->nrulesets, company,
					      rid));
	bav_pool_free(&pool);
	return BAV_OK;
}

/* ---- the X-AGNMailloop parameter (spec 3.1, 5.3) ---- */

struct params {
	long long rid, cid;
	bool has_rid;
	const char *fwd, *from, *to;
};

static char *unescape(struct bav_pool *pool, const char *s, size_t len)
{
	char *out = bav_pool_alloc(pool, len + 1);
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len) {
			char h[3] = { s[i + 1], s[i + 2], '\0' };
			char *end;
			long v = strtol(h, &end, 16);

			if (*end == '\0' && v > 0) {
				out[o++] = (char)v;
				i += 2;
				continue;
			}
		}
		out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

static void parse_params(struct bav_pool *pool, const char *value,
			 struct params *p)
{
	const char *s = value;

	while (s != NULL && *s != '\0') {
		const char *comma = strchr(s, ',');
		size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		char *item = unescape(pool, s, len), *eq, *key;

		key = bav_str_trim(item);
		if ((eq = strchr(key, '=')) != NULL) {
			*eq++ = '\0';
			if (strcmp(key, "rid") == 0) {
				p->rid = atoll(eq);
				p->has_rid = true;
			} else if (strcmp(key, "cid") == 0) {
				p->cid = atoll(eq);
			} else if (strcmp(key, "fwd") == 0) {
				p->fwd = eq;
			} else if (strcmp(key, "from") == 0) {
				p->from = eq;
			} else if (strcmp(key, "to") == 0) {
				p->to = eq;
			}
		}
		s = comma != NULL ? comma + 1 : NULL;
	}
}

/* ---- the decision ---- */

/* The result that stands for the message: the first failed one. */
static const struct bav_result *pick_result(const struct bav_verdict *v)
{
	unsigned int i;

	for (i = 0; i < v->result_count; i++)
		if (strcmp(v->results[i].action, "failed") == 0)
			return &v->results[i];
	return v->result_count > 0 ? &v->results[0] : NULL;
}

static int bounce(struct bav_emm *emm, const struct bav_verdict *v,
		  struct emm_event *ev, struct bav_emm_outcome *out,
		  const char **error_r)
{
	const struct bav_result *r = pick_result(v);
	const char *status = r != NULL ? r->status : "";
	const char *text = r != NULL && r->diagnostic[0] != '\0' ?
		r->diagnostic : v->subject != NULL ? v->subject : "";

	if (emm_dsn_code(status) == 0)	/* spec 5.6.3 step 6 */
		status = r != NULL && r->hard ? "5.9.9" : "4.9.9";
	ev->dsn_text = status;
	ev->dsn = emm_dsn_code(status);
	ev->error_text = bav_str_sanitize(emm->pool, text, 900);
	ev->action = "bounce";
	out->dsn = ev->dsn;
	if (emm->opts.logdir != NULL)
		return emm_log_bounce(emm, ev, error_r);
	return emm_write_bounce(emm, ev, out, error_r);
}

/* mailloop_log_tbl.remark (spec 5.11.1) */
static const char *remark(struct bav_emm *emm, const struct emm_event *ev,
			  const struct bav_emm_outcome *out,
			  const char *fwd)
{
	if (strcmp(ev->action, "sent") == 0 && fwd != NULL)
		return bav_pool_printf(emm->pool, "mail sent to %s", fwd);
	if (strcmp(ev->action, "unsubscribe") == 0)
		return "unsubscribed using remark \"Opt-out by mandatory CSA"
			" link (mailto)\"";
	if (strcmp(ev->action, "bounce") == 0)
		return bav_pool_printf(emm->pool, "got bounce with DSN %s on"
				       " mailing_id %lld (detail %d)",
				       ev->dsn_text, ev->mailing, out->detail);
	return "";
}

/* The operator's header rules (bounce_rule_tbl, merged for the
   parameter's company or the filter's, and the rid) on a reply: true
   when a systemmail or filter rule matched (ev->action set). */
static bool rules_say(struct bav_emm *emm, const struct bav_emm_mail *mail,
		      const struct params *pm, const struct emm_filter *f,
		      struct emm_event *ev)
{
	static const char *const sections[] = { "systemmail", "filter" };
	long long company = pm->cid > 0 ? pm->cid : f != NULL ? f->company
		: 0;
	const char **patterns, *mark;
	unsigned int i, n;

	for (i = 0; i < 2; i++) {
		n = emm_rules_section(emm->pool, emm->cfg->rulesets,
				      emm->cfg->nrulesets, company, ev->rid,
				      sections[i], &patterns);
		if (emm_header_match(emm->pool, mail->msg, mail->msg_len,
				     patterns, n, &mark) == 1) {
			ev->action = i == 1 && mark[0] != '\0' ? mark :
				"filtered";
			return true;
		}
	}
	return false;
}

static int decide(struct bav_emm *emm, const struct bav_emm_mail *mail,
		  const struct params *pm, struct emm_event *ev,
		  struct bav_emm_outcome *out, const char **error_r)
{
	const struct bav_verdict *v = mail->verdict;
	const struct emm_filter *f = emm_config_filter(emm->cfg, ev->rid);
	struct bav_agnuid *origin;
	bool bcc, known;
	const char *fwd = mail->forwarded;
	int ret;

	if ((ret = emm_ident_origin(emm, v, &origin, &bcc, error_r)) < 0)
		return ret;
	ev->company = pm->cid > 0 ? pm->cid : f != NULL ? f->company : 0;
	if (origin != NULL) {
		ev->company = origin->company_id;
		ev->mailing = origin->mailing_id;
		ev->customer = origin->customer_id;
	}
	known = origin != NULL && ev->customer > 0;
	ev->action = "filtered";
	if (fwd == NULL && pm->fwd != NULL && pm->fwd[0] != '\0' &&
	    v->kind == BAV_KIND_REPLY)
		fwd = pm->fwd;
	if (bcc && origin != NULL) {
		ev->action = "ignore";
	} else if (v->kind == BAV_KIND_UNSUBSCRIBE ||
		   (v->unsubscribe_uid != NULL &&
		    v->unsubscribe_uid[0] != '\0')) {
		if (known) {
			ev->action = "unsubscribe";
			ret = emm_write_unsubscribe(emm, ev, out, error_r);
		}
	} else if (v->kind == BAV_KIND_BOUNCE) {
		if (known)
			ret = bounce(emm, v, ev, out, error_r);
	} else if (v->kind == BAV_KIND_AUTOREPLY) {
		ev->action = v->mark != NULL && v->mark[0] != '\0' ?
			v->mark : "auto";
	} else if (v->kind == BAV_KIND_REPLY &&
		   rules_say(emm, mail, pm, f, ev)) {
		/* bounce_rule_tbl systemmail / filter rules: no forward,
		   no inbox, no autoresponder */
	} else if (v->kind == BAV_KIND_REPLY) {
		if (fwd != NULL && fwd[0] != '\0') {
			ev->action = "sent";
			ev->sent = fwd;
		} else {
			ret = emm_write_inbox(emm, ev, mail, out, error_r);
		}
		if (ret == BAV_OK && known && f != NULL && f->ar_mailing > 0)
			ret = emm_write_ar(emm, ev, mail, out, error_r);
	}
	if (ret < 0)
		return ret;
	ev->remark = remark(emm, ev, out, fwd);
	return BAV_OK;
}

static int done_row(void *ctx, const struct bav_store_value *v,
		    const char *const *names, unsigned int n)
{
	(void)v;
	(void)names;
	(void)n;
	*(bool *)ctx = true;
	return 1;
}

static int record_in(struct bav_emm *emm, const struct bav_emm_mail *mail,
		     struct bav_emm_outcome *out, const char **error_r)
{
	const struct bav_store_param key[] = {
		BAV_STORE_PARAM_TEXT(mail->message_key) };
	struct params pm;
	struct emm_event ev;
	bool seen = false;
	int ret;

	ret = bav_store_exec(emm->store, "SELECT 1 FROM bav_emm_done_tbl"
			     " WHERE message_key = ?", key, 1, done_row, &seen,
			     error_r);
	if (ret != BAV_OK)
		return ret;
	if (seen)
		return 1;
	memset(&pm, 0, sizeof(pm));
	parse_params(emm->pool, mail->parameter, &pm);
	memset(&ev, 0, sizeof(ev));
	ev.time = mail->time != 0 ? mail->time : time(NULL);
	emm_stamp(ev.time, ev.stamp);
	ev.rid = pm.has_rid ? pm.rid :
		mail->rid != NULL ? atoll(mail->rid) : 0;
	ev.rid_name = ev.rid > 0 ? bav_pool_printf(emm->pool, "%lld", ev.rid)
		: "internal";
	if ((ret = decide(emm, mail, &pm, &ev, out, error_r)) < 0)
		return ret;
	if (out->action[0] == '\0')
		out->action = ev.action;
	out->rid = ev.rid;
	out->company_id = ev.company;
	out->mailing_id = ev.mailing;
	out->customer_id = ev.customer;
	if ((ret = emm_write_log(emm, &ev, error_r)) < 0)
		return ret;
	if (emm->opts.logdir == NULL &&
	    (ret = emm_write_due(emm, ev.time, error_r)) < 0)
		return ret;
	return bav_store_exec(emm->store, "INSERT INTO bav_emm_done_tbl"
			      " (message_key) VALUES (?)", key, 1, NULL,
			      NULL, error_r);
}

int bav_emm_record(struct bav_emm *emm, const struct bav_emm_mail *mail,
		   struct bav_emm_outcome *out, const char **error_r)
{
	bool own = !bav_store_in_transaction(emm->store);
	const char *e2;
	int ret;

	memset(out, 0, sizeof(*out));
	out->action = "";
	if (mail->verdict == NULL || mail->message_key == NULL) {
		*error_r = "no verdict or message key";
		return BAV_EDATA;
	}
	if (emm->pool != NULL)
		bav_pool_free(&emm->pool);
	emm->pool = bav_pool_new(16384);
	if ((ret = config(emm, error_r)) != BAV_OK)
		return ret;
	if (own && (ret = bav_store_begin(emm->store, error_r)) != BAV_OK)
		return ret;
	ret = record_in(emm, mail, out, error_r);
	if (own) {
		if (ret >= 0) {
			int c = bav_store_commit(emm->store, error_r);

			if (c != BAV_OK)
				ret = c;
		} else {
			(void)bav_store_rollback(emm->store, &e2);
		}
		/* the webhook lines only of what is committed */
		if (ret >= 0) {
			int w = emm_webhook_flush(&emm->webhook, error_r);

			if (w != BAV_OK)
				ret = w;
		} else {
			emm_webhook_drop(&emm->webhook);
		}
	}
	return ret;
}

int bav_emm_finish(struct bav_emm *emm, bool committed, const char **error_r)
{
	if (emm == NULL)
		return BAV_OK;
	if (!committed) {
		emm_webhook_drop(&emm->webhook);
		return BAV_OK;
	}
	return emm_webhook_flush(&emm->webhook, error_r);
}
