/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav-share.h - the mail plugin's verdict of the delivery in
 *	progress, for the vnd.bav Sieve extension
 * SYNOPSIS
 *	#include "bav-share.h"
 *
 *	const struct bav_shared_verdict *
 *	bav_plugin_delivery_verdict(const struct mail *mail)
 *		(exported by lib95_bav_plugin.so)
 * DESCRIPTION
 *	With both plugins loaded, the mail plugin classifies the message
 *	before Sieve runs; the Sieve extension then takes that verdict
 *	instead of reading and classifying the message a second time.
 *	Dovecot loads modules with RTLD_GLOBAL, so the Sieve plugin finds
 *	the function with dlsym(RTLD_DEFAULT, BAV_SHARED_VERDICT_SYMBOL);
 *	without the mail plugin (sieve-test, sieve-filter, bav_enabled =
 *	no) it is absent or returns NULL and the extension classifies by
 *	itself.
 *
 *	Ownership: the verdict lives in the delivery context's pool and
 *	is returned only for the mail being delivered (the pointer given
 *	to the deliver hook as src_mail) while the mail plugin's hook
 *	runs; the caller copies what it keeps.
 * SEE ALSO
 *	bav-plugin.c, sieve/ext-bav-common.c
 */
#ifndef BAV_SHARE_H
#define BAV_SHARE_H

struct mail;

struct bav_shared_verdict {
	const char *kind;		/* bav_kind_name() */
	const char *const *reasons;	/* count entries, NULL-terminated */
	const char *const *statuses;	/* count entries, NULL-terminated */
	unsigned int count;
	bool hard;			/* any result hard */
};

#define BAV_SHARED_VERDICT_SYMBOL "bav_plugin_delivery_verdict"
typedef const struct bav_shared_verdict *
bav_shared_verdict_func_t(const struct mail *mail);

#endif
