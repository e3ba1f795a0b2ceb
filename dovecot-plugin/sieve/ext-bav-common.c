/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	ext-bav-common - the verdict a vnd.bav test sees
 * SYNOPSIS
 *	#include "ext-bav-common.h"
 *
 *	const struct ext_bav_verdict *
 *	ext_bav_get_verdict(const struct sieve_runtime_env *renv,
 *			    const struct sieve_extension *ext)
 * DESCRIPTION
 *	Takes the mail plugin's verdict when the plugin classified the
 *	message being delivered (bav-share.h: one classification per
 *	delivery with both plugins loaded); otherwise reads the message
 *	under test (sieve_message_get_mail) and classifies it with
 *	libbav. Either way once per message: the result is kept in the Sieve
 *	message context (sieve_message_context_extension_set), so several
 *	bav tests in one script, or in sieve_before and the user script,
 *	classify once. The rules are the built-in ones plus the files of
 *	the bav_rules setting, like the mail plugin's, so both see the same
 *	verdict; because the extension classifies by itself it also works
 *	in sieve-test and sieve-filter, without the mail plugin.
 *
 *	Ownership: the verdict and its strings live in the message
 *	context's pool. The loaded rules are cached in the extension's
 *	context (one per Sieve instance) and freed at unload.
 * DIAGNOSTICS
 *	Never fails; problems are logged through sieve_runtime_warning and
 *	the verdict says classified = FALSE.
 * SEE ALSO
 *	bav-dovecot(7), tst-bav.c
 */
#include "lib.h"
#include "buffer.h"
#include "mail-storage.h"
#include "sieve-common.h"
#include "sieve-extensions.h"
#include "sieve-interpreter.h"
#include "sieve-message.h"
#include "sieve-runtime.h"
#include "sieve-error.h"
#define BAV_COMPAT_SIEVE
#define BAV_COMPAT_SETTINGS_IMPL	/* 2.4: this module's settings lookup */
#include "../bav-compat.h"
#include "ext-bav-common.h"
#include "ext-bav-plugin.h"
#include "../bav-message.h"
#include "../bav-share.h"

#include "bav.h"

#include <dlfcn.h>
#include <stdlib.h>

#define EXT_BAV_MAX_SIZE (20 * 1024 * 1024)

static const struct bav_rules *
get_rules(const struct sieve_runtime_env *renv,
	  const struct sieve_extension *ext)
{
	struct ext_bav_context *ectx = ext->context;
	const char *setting, *const *paths;
	char *error = NULL;

	if (ectx == NULL || ectx->rules_loaded)
		return ectx != NULL ? ectx->rules : NULL;
	ectx->rules_loaded = TRUE;
	setting = bav_compat_sieve_setting(ext->svinst, "bav_rules");
	if (setting == NULL || *setting == '\0')
		return NULL;
	paths = t_strsplit_spaces(setting, " ");
	if (bav_rules_load(paths, str_array_length(paths), TRUE,
			   &ectx->rules, &error) != BAV_OK) {
		sieve_runtime_warning(renv, NULL,
			"bav: bav_rules: %s (using the built-in rules)",
			error != NULL ? error : "load failed");
		free(error);
		ectx->rules = NULL;
	}
	return ectx->rules;
}

static void copy_verdict(pool_t pool, const struct bav_verdict *v,
			 struct ext_bav_verdict *ev)
{
	const char **reasons, **statuses;
	unsigned int i;

	ev->classified = TRUE;
	ev->kind = p_strdup(pool, bav_kind_name(v->kind));
	reasons = p_new(pool, const char *, v->result_count + 1);
	statuses = p_new(pool, const char *, v->result_count + 1);
	for (i = 0; i < v->result_count; i++) {
		reasons[i] = p_strdup(pool, v->results[i].reason);
		statuses[i] = p_strdup(pool, v->results[i].status);
		if (v->results[i].hard)
			ev->hard = TRUE;
	}
	ev->reasons = reasons;
	ev->statuses = statuses;
	ev->count = v->result_count;
}

/* The mail plugin's verdict for mail when it is loaded and classified
   this delivery (bav-share.h), else NULL. */
static const struct bav_shared_verdict *plugin_verdict(struct mail *mail)
{
	bav_shared_verdict_func_t *f;

	f = (bav_shared_verdict_func_t *)dlsym(RTLD_DEFAULT,
					       BAV_SHARED_VERDICT_SYMBOL);
	return f != NULL ? f(mail) : NULL;
}

static void copy_shared(pool_t pool, const struct bav_shared_verdict *sv,
			struct ext_bav_verdict *ev)
{
	ev->classified = TRUE;
	ev->kind = p_strdup(pool, sv->kind);
	ev->reasons = (const char *const *)p_strarray_dup(pool, sv->reasons);
	ev->statuses = (const char *const *)p_strarray_dup(pool, sv->statuses);
	ev->count = sv->count;
	ev->hard = sv->hard;
}

const struct ext_bav_verdict *
ext_bav_get_verdict(const struct sieve_runtime_env *renv,
		    const struct sieve_extension *ext)
{
	struct sieve_message_context *msgctx = renv->msgctx;
	const struct ext_bav_verdict *cached;
	const struct bav_shared_verdict *shared;
	struct ext_bav_verdict *ev;
	struct mail *mail;
	struct bav_classify_opts opts;
	struct bav_pool *bpool;
	struct bav_verdict *v;
	const char *error = NULL;
	buffer_t *msg = NULL;
	pool_t pool;
	int ret;

	cached = sieve_message_context_extension_get(msgctx, ext);
	if (cached != NULL)
		return cached;
	pool = sieve_message_context_pool(msgctx);
	ev = p_new(pool, struct ext_bav_verdict, 1);
	ev->kind = "";
	ev->reasons = ev->statuses = p_new(pool, const char *, 1);
	sieve_message_context_extension_set(msgctx, ext, ev);

	mail = sieve_message_get_mail(msgctx);
	if ((shared = plugin_verdict(mail)) != NULL) {
		copy_shared(pool, shared, ev);
		e_debug(renv->event, "bav: the mail plugin's verdict: %s",
			ev->kind);
		return ev;
	}
	ret = bav_message_read(mail, EXT_BAV_MAX_SIZE, &msg, &error);
	if (ret != 0) {
		if (ret < 0)
			sieve_runtime_warning(renv, NULL,
				"bav: reading the message failed: %s", error);
		return ev;
	}
	i_zero(&opts);
	opts.rules = get_rules(renv, ext);
	bpool = bav_pool_new(16384 + msg->used / 2);
	if (bav_classify(msg->data, msg->used, &opts, bpool, &v, &error) == BAV_OK)
		copy_verdict(pool, v, ev);
	bav_pool_free(&bpool);
	buffer_free(&msg);
	return ev;
}
