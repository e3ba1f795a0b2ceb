/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav-deliver - classify a message at Dovecot delivery and hand the
 *	verdict to the recorder through the spool
 * SYNOPSIS
 *	#include "bav-plugin.h"
 *
 *	int bav_deliver_classify(struct mail_deliver_context *ctx,
 *				 pool_t pool, struct bav_delivery *d_r,
 *				 const char **error_r)
 *	void bav_deliver_deinit(void)
 * DESCRIPTION
 *	Reads the message being delivered (ctx->src_mail) through its
 *	Dovecot istream into one buffer, classifies it with bav_classify()
 *	(the rules of bav_rules, else the built-in defaults; bav_rules,
 *	bav_spool and bav_max_size default to main.cf, bav-settings.c) and
 *	writes a
 *	spool entry (bav_spool.h: envelope, verdict, raw message) into the
 *	directory of the bav_spool setting, where `bav recorder` picks it
 *	up and records it into the store. The plugin itself never opens
 *	the store and never reads its password: the spool directory is the
 *	whole hand-off. Entries are made readable by the spool directory's
 *	group (0640), so a recorder running as another user of that group
 *	can read them.
 *
 *	Ownership: d_r's strings are allocated from pool (the delivery
 *	context's pool). The loaded rules and the open spool handle are
 *	cached per process (a Dovecot process delivers one message at a
 *	time) and freed by bav_deliver_deinit(). The rules are reloaded
 *	when bav_rules or one of its files changes (checked at most once
 *	a second); a broken new version keeps the last good rules.
 * DIAGNOSTICS
 *	Returns -1 + *error_r only when the spool write failed and
 *	bav_tempfail is on (the default): the caller fails the delivery
 *	temporarily, so the MTA retries and nothing is lost. Everything
 *	else (message too big, not classifiable, bad rules file) is logged
 *	with i_error/i_warning and the delivery goes on unmarked. A rule
 *	whose pattern hit a PCRE2 match limit is logged with i_warning
 *	("bav: rule FILE:LINE hit the PCRE2 match limit (no match)").
 * SEE ALSO
 *	bav-dovecot(7), bav_spool.h, bav(1)
 */
#include "lib.h"
#include "buffer.h"
#include "hostpid.h"
#include "smtp-address.h"
#include "str-sanitize.h"
#include "mail-storage.h"
#include "mail-user.h"
#include "mail-deliver.h"
#include "lda-settings.h"
#include "bav-compat.h"
#include "bav-plugin.h"
#include "bav-message.h"

#include "bav.h"
#include "bav_spool.h"
#include "bav_store.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#define BAV_DEFAULT_MAX_SIZE (20 * 1024 * 1024)

/* per-process caches; Dovecot delivers one message at a time */
static struct bav_rules *cached_rules;
static char *cached_rules_setting;
static uint64_t cached_rules_stamp;	/* rules_stamp() when loaded */
static time_t cached_rules_checked;	/* when the files were last stat'ed */
static struct bav_spool *cached_spool;
static char *cached_spool_dir;

/* mtime, size and inode of every rule file, hashed (FNV-1a): changes
   when a file is edited or replaced */
static uint64_t rules_stamp(const char *const *paths)
{
	const uint64_t prime = 1099511628211ULL;
	uint64_t h = 14695981039346656037ULL;
	struct stat st;

	for (; *paths != NULL; paths++) {
		if (stat(*paths, &st) < 0) {
			h = (h ^ 0xff) * prime;
			continue;
		}
		h = (h ^ (uint64_t)st.st_mtim.tv_sec) * prime;
		h = (h ^ (uint64_t)st.st_mtim.tv_nsec) * prime;
		h = (h ^ (uint64_t)st.st_size) * prime;
		h = (h ^ (uint64_t)st.st_ino) * prime;
	}
	return h;
}

/* The rules of bav_rules, loaded once per process (an LMTP process
   serves many deliveries) and reloaded when the setting or a file
   changes; the files are stat'ed at most once a second. A broken new
   version keeps the last good rules. */
static const struct bav_rules *get_rules(struct mail_user *user)
{
	const char *setting = bav_setting(user, "bav_rules");
	const char *const *paths;
	struct bav_rules *rules = NULL;
	char *error = NULL;
	time_t now = time(NULL);
	uint64_t stamp;
	bool same_setting;

	if (setting == NULL || *setting == '\0')
		return NULL;
	same_setting = cached_rules_setting != NULL &&
		strcmp(cached_rules_setting, setting) == 0;
	if (same_setting && now == cached_rules_checked)
		return cached_rules;
	paths = t_strsplit_spaces(setting, " ,\t");
	stamp = rules_stamp(paths);
	cached_rules_checked = now;
	if (same_setting && stamp == cached_rules_stamp)
		return cached_rules;
	if (bav_rules_load(paths, str_array_length(paths), TRUE,
			   &rules, &error) != BAV_OK) {
		i_error("bav: bav_rules: %s (%s)",
			error != NULL ? error : "load failed",
			same_setting && cached_rules != NULL ?
			"keeping the rules loaded before" :
			"using the built-in rules");
		free(error);
		if (!same_setting && cached_rules != NULL)
			bav_rules_free(&cached_rules);
	} else {
		if (cached_rules != NULL)
			bav_rules_free(&cached_rules);
		cached_rules = rules;
		if (same_setting)
			i_info("bav: bav_rules changed, reloaded");
	}
	i_free(cached_rules_setting);
	cached_rules_setting = i_strdup(setting);
	cached_rules_stamp = stamp;
	return cached_rules;
}

static struct bav_spool *get_spool(const char *dir, const char **error_r)
{
	char *error = NULL;

	if (cached_spool_dir != NULL && strcmp(cached_spool_dir, dir) == 0)
		return cached_spool;
	if (cached_spool != NULL)
		bav_spool_close(&cached_spool);
	i_free(cached_spool_dir);
	if (bav_spool_open(dir, FALSE, &cached_spool, &error) != BAV_OK) {
		*error_r = t_strdup(error != NULL ? error : "spool open failed");
		free(error);
		cached_spool = NULL;
		return NULL;
	}
	cached_spool_dir = i_strdup(dir);
	return cached_spool;
}

static const char *const *keywords_for(pool_t pool, const struct bav_verdict *v,
				       bool hard)
{
	const char **kw = p_new(pool, const char *, 2);

	switch (v->kind) {
	case BAV_KIND_BOUNCE:
		kw[0] = hard ? "$BounceHard" : "$BounceSoft";
		break;
	case BAV_KIND_DELAY:
		kw[0] = "$BounceSoft";
		break;
	case BAV_KIND_AUTOREPLY:
		kw[0] = "$AutoReply";
		break;
	case BAV_KIND_FEEDBACK:
		kw[0] = "$Feedback";
		break;
	default:
		break;
	}
	return kw;
}

static void fill_delivery(struct mail_deliver_context *ctx, pool_t pool,
			  const struct bav_verdict *v, struct bav_delivery *d)
{
	const char *folder, *kw, **reasons, **statuses;
	unsigned int i;

	d->classified = TRUE;
	d->kind = p_strdup(pool, bav_kind_name(v->kind));
	reasons = p_new(pool, const char *, v->result_count + 1);
	statuses = p_new(pool, const char *, v->result_count + 1);
	for (i = 0; i < v->result_count; i++) {
		reasons[i] = p_strdup(pool, v->results[i].reason);
		statuses[i] = p_strdup(pool, v->results[i].status);
		if (v->results[i].hard)
			d->hard = TRUE;
	}
	d->reason = v->result_count > 0 ? reasons[0] : "";
	d->shared.kind = d->kind;
	d->shared.reasons = reasons;
	d->shared.statuses = statuses;
	d->shared.count = v->result_count;
	d->shared.hard = d->hard;
	kw = BAV_SETTING(ctx->rcpt_user, "bav_keywords");
	if (kw != NULL && (strcmp(kw, "no") == 0 || strcmp(kw, "0") == 0))
		d->keywords = p_new(pool, const char *, 1);
	else
		d->keywords = keywords_for(pool, v, d->hard);
	folder = BAV_SETTING(ctx->rcpt_user,
			     t_strconcat("bav_folder_", d->kind, NULL));
	if (folder != NULL && *folder != '\0')
		d->folder = p_strdup(pool, folder);
}

static int spool_verdict(struct mail_deliver_context *ctx, const char *dir,
			 const struct bav_verdict *v, const char *cerr,
			 const buffer_t *msg, struct bav_delivery *d,
			 const char **error_r)
{
	struct bav_spool_entry e;
	struct bav_spool *spool;
	char key[BAV_STORE_KEY_SIZE];
	const char *rcpt, *name = NULL, *error = NULL;
	const char *host = ctx->set != NULL && ctx->set->hostname != NULL &&
		*ctx->set->hostname != '\0' ? ctx->set->hostname : my_hostname;

	if ((spool = get_spool(dir, &error)) == NULL) {
		*error_r = t_strdup_printf("bav: spool %s: %s", dir, error);
		return -1;
	}
	i_zero(&e);
	rcpt = BAV_DELIVER_RCPT_TO(ctx) != NULL ?
		smtp_address_encode(BAV_DELIVER_RCPT_TO(ctx)) :
		ctx->rcpt_user->username;
	bav_store_message_key(msg->data, msg->used, key);
	e.sender = BAV_DELIVER_MAIL_FROM(ctx) != NULL ?
		smtp_address_encode(BAV_DELIVER_MAIL_FROM(ctx)) : "";
	e.recipients = &rcpt;
	e.recipient_count = 1;
	e.queue_id = ctx->session_id != NULL ? ctx->session_id : "";
	e.host = host;
	e.time = time(NULL);
	e.key = key;
	e.verdict = v;
	e.error = v == NULL ? (cerr != NULL ? cerr : "not classified") : NULL;
	e.msg = msg->data;
	e.msg_len = msg->used;
	if (bav_spool_write(spool, &e, &name, &error) != BAV_OK) {
		*error_r = t_strdup_printf("bav: %s", error);
		/* reopen next time: the directory may have been replaced */
		bav_spool_close(&cached_spool);
		i_free(cached_spool_dir);
		return -1;
	}
	d->spool_name = p_strdup(ctx->pool, name);
	/* the recorder runs as another user of the spool directory's group */
	if (chmod(t_strdup_printf("%s/new/%s", dir, name), 0640) < 0)
		i_warning("bav: chmod(%s/new/%s) failed: %m", dir, name);
	return 0;
}

int bav_deliver_classify(struct mail_deliver_context *ctx, pool_t pool,
			 struct bav_delivery *d_r, const char **error_r)
{
	struct mail_user *user = ctx->rcpt_user;
	struct bav_classify_opts opts;
	struct bav_pool *bpool;
	struct bav_verdict *v = NULL;
	const char *dir, *maxs, *tf, *cerr = NULL, *error = "";
	const char *limit_rule;
	uoff_t max_size = BAV_DEFAULT_MAX_SIZE;
	buffer_t *msg = NULL;
	unsigned long hits;
	int ret;

	i_zero(d_r);
	d_r->kind = "";
	d_r->reason = "";
	d_r->keywords = p_new(pool, const char *, 1);
	maxs = bav_setting(user, "bav_max_size");
	if (maxs != NULL && *maxs != '\0' &&
	    str_to_uoff(maxs, &max_size) < 0)
		i_error("bav: bav_max_size: not a number: %s", maxs);

	ret = bav_message_read(ctx->src_mail, max_size, &msg, &error);
	if (ret != 0) {
		if (ret > 0)
			i_info("bav: message larger than bav_max_size, not classified");
		else
			i_error("bav: reading the message failed: %s", error);
		return 0;
	}
	i_zero(&opts);
	opts.rules = get_rules(user);
	hits = bav_rules_limit_hits(opts.rules, NULL);
	bpool = bav_pool_new(16384 + msg->used / 2);
	if (bav_classify(msg->data, msg->used, &opts, bpool, &v, &cerr) != BAV_OK) {
		i_info("bav: not classified: %s",
		       str_sanitize(cerr != NULL ? cerr : "", 200));
		v = NULL;
	} else {
		fill_delivery(ctx, pool, v, d_r);
	}
	if (bav_rules_limit_hits(opts.rules, &limit_rule) != hits)
		i_warning("bav: rule %s hit the PCRE2 match limit (no match)",
			  limit_rule != NULL ? limit_rule : "?");

	ret = 0;
	dir = bav_setting(user, "bav_spool");
	if (dir != NULL && *dir != '\0' &&
	    spool_verdict(ctx, dir, v, cerr, msg, d_r, &error) < 0) {
		tf = BAV_SETTING(user, "bav_tempfail");
		if (tf != NULL && (strcmp(tf, "no") == 0 || strcmp(tf, "0") == 0)) {
			i_error("%s (bav_tempfail = no: delivered, not recorded)",
				error);
		} else {
			*error_r = error;
			ret = -1;
		}
	}
	bav_pool_free(&bpool);
	buffer_free(&msg);
	return ret;
}

void bav_deliver_deinit(void)
{
	if (cached_rules != NULL)
		bav_rules_free(&cached_rules);
	i_free(cached_rules_setting);
	if (cached_spool != NULL)
		bav_spool_close(&cached_spool);
	i_free(cached_spool_dir);
	bav_settings_deinit();
}
