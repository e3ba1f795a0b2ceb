/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav-compat.h - the Dovecot 2.3 / 2.4 differences the bav plugin
 *	depends on, in one place
 * SYNOPSIS
 *	#include "bav-compat.h"	(after lib.h and the Dovecot headers)
 *
 *	const char *BAV_SETTING(struct mail_user *user, const char *name)
 *	BAV_DELIVER_RCPT_TO(ctx), BAV_DELIVER_MAIL_FROM(ctx)
 *	BAV_DELIVER_DEFAULT_MAILBOX(ctx)
 *	BAV_DOVECOT_24
 * DESCRIPTION
 *	Dovecot 2.3 (Debian 12: 2.3.19.1) is what the plugin is built and
 *	tested against. What changed in 2.4 that the plugin uses:
 *
 *	- plugin { } settings: 2.3 reads them with mail_user_plugin_getenv();
 *	  2.4 replaced the free-form plugin section by declared settings
 *	  (settings_get() with a struct setting_parser_info). A 2.4 build
 *	  must declare bav_spool, bav_rules, bav_folder_<kind>,
 *	  bav_keywords, bav_max_size and bav_tempfail there; until that is
 *	  written, building against 2.4 stops with #error below rather than
 *	  building a plugin that silently ignores its settings.
 *	- struct mail_deliver_context: the 2.3 field names rcpt_to,
 *	  mail_from and rcpt_default_mailbox are used through the macros
 *	  below, so a rename touches only this file.
 *	- the deliver hook (mail_deliver_hook_set) and the mailbox vfunc
 *	  chaining (mail_storage_hooks.mailbox_allocated, vlast, copy) are
 *	  the same in 2.3 and 2.4.
 * SEE ALSO
 *	bav-dovecot(7), /usr/include/dovecot/mail-deliver.h
 */
#ifndef BAV_COMPAT_H
#define BAV_COMPAT_H

#ifndef DOVECOT_VERSION_MAJOR
#  error "include Dovecot's lib.h (config.h) before bav-compat.h"
#endif

#define BAV_DOVECOT_AT_LEAST(maj, min) \
	(DOVECOT_VERSION_MAJOR > (maj) || \
	 (DOVECOT_VERSION_MAJOR == (maj) && DOVECOT_VERSION_MINOR >= (min)))

#if BAV_DOVECOT_AT_LEAST(2, 4)
#  define BAV_DOVECOT_24 1
#  error "bav plugin: Dovecot 2.4 settings (settings_get) are not wired up yet; see bav-compat.h"
#elif !BAV_DOVECOT_AT_LEAST(2, 3)
#  error "bav plugin: Dovecot 2.3 or later is required"
#else
#  define BAV_DOVECOT_24 0
#  define BAV_SETTING(user, name) mail_user_plugin_getenv((user), (name))
#endif

#define BAV_DELIVER_RCPT_TO(ctx)	((ctx)->rcpt_to)
#define BAV_DELIVER_MAIL_FROM(ctx)	((ctx)->mail_from)
#define BAV_DELIVER_DEFAULT_MAILBOX(ctx) ((ctx)->rcpt_default_mailbox)

#endif
