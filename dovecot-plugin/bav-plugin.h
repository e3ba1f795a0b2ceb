/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav-plugin.h - internal interface between the hook part
 *	(bav-plugin.c) and the classify-and-spool part (bav-deliver.c) of
 *	the Dovecot mail plugin
 * DESCRIPTION
 *	bav_deliver_classify() reads the delivered message, classifies it
 *	with libbav, writes the verdict to the spool and fills a struct
 *	bav_delivery whose strings live in the pool passed (the delivery
 *	context's pool). bav_deliver_deinit() frees the per-process caches
 *	(rules, spool handle) at plugin unload.
 */
#ifndef BAV_PLUGIN_H
#define BAV_PLUGIN_H

#include "bav-share.h"

struct mail_deliver_context;

struct bav_delivery {
	bool classified;		/* false: too big or not a message */
	const char *kind;		/* bav_kind_name(), "" when unclassified */
	const char *reason;		/* first result's reason, or "" */
	bool hard;			/* any result hard */
	/* NULL-terminated IMAP keywords to set ($BounceHard ...), never NULL */
	const char *const *keywords;
	const char *folder;		/* bav_folder_<kind>, or NULL */
	const char *spool_name;		/* entry written, or NULL */
	/* all results, for the Sieve extension (bav-share.h) */
	struct bav_shared_verdict shared;
};

/* 0 ok (d_r filled; a message that can't be classified is still ok);
   -1 when the verdict could not be spooled and bav_tempfail is on:
   *error_r says why and the delivery must fail temporarily. */
int bav_deliver_classify(struct mail_deliver_context *ctx, pool_t pool,
			 struct bav_delivery *d_r, const char **error_r);
void bav_deliver_deinit(void);

struct mail_user;
/* The plugin setting name, else (bav_rules, bav_spool, bav_max_size) the
   value main.cf sets (bav-settings.c); NULL when neither. */
const char *bav_setting(struct mail_user *user, const char *name);
void bav_settings_deinit(void);

#endif
