/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav-compat.h - every Dovecot / Pigeonhole 2.3 / 2.4 difference the
 *	bav plugins depend on, in one place
 * SYNOPSIS
 *	#include "bav-compat.h"	(after lib.h and the Dovecot headers)
 *
 *	BAV_DOVECOT_24			1 when building against 2.4
 *	const char *BAV_SETTING(struct mail_user *user, const char *name)
 *	BAV_DELIVER_RCPT_TO(ctx), BAV_DELIVER_MAIL_FROM(ctx)
 *	BAV_DELIVER_DEFAULT_MAILBOX(ctx)
 *
 *	with BAV_COMPAT_SIEVE defined (the Sieve plugin, after
 *	sieve-extensions.h and sieve-settings.h):
 *	BAV_SIEVE_LOAD_T, BAV_SIEVE_LOAD_OK, BAV_SIEVE_LOAD_FAILED
 *	BAV_SIEVE_PLUGIN_LOAD_T, BAV_SIEVE_PLUGIN_LOAD_RETURN(ret)
 *	int bav_compat_sieve_register(struct sieve_instance *svinst,
 *		const struct sieve_extension_def *def, bool load,
 *		const struct sieve_extension **ext_r)
 *	const char *bav_compat_sieve_setting(struct sieve_instance *svinst,
 *		const char *name)
 *
 *	with BAV_COMPAT_SETTINGS_IMPL defined (one file per module:
 *	bav-settings.c, sieve/ext-bav-common.c): the 2.4 settings
 *	definitions and lookups below.
 * DESCRIPTION
 *	Dovecot 2.3 (Debian 12: 2.3.19.1, Pigeonhole 0.5.19) is what the
 *	plugins are built and tested against; no Dovecot 2.4 package is
 *	available on the build machine, so the 2.4 branches below are
 *	written from the 2.4 sources (dovecot/core, dovecot/pigeonhole
 *	2.4) and have not been compiled. Differences, 2.3 -> 2.4:
 *
 *	- plugin { } settings and userdb fields: 2.3 reads them as free
 *	  strings with mail_user_plugin_getenv(); 2.4 dropped the plugin
 *	  section: settings are declared (struct setting_parser_info with
 *	  SETTING_DEFINE_STRUCT_* defines, .name, .plugin_dependency,
 *	  .pool_offset1) and read with settings_get(event, &info, 0,
 *	  &set, &error) / settings_free(set); userdb fields override them
 *	  by name. The config process learns them from a settings module
 *	  in MODULEDIR/settings/ exporting <module>_set_infos[]
 *	  (BAV_COMPAT_SETTINGS_MODULE below: a 2.4 build must also build
 *	  lib95_bav_settings_plugin.so from bav-settings.c with that
 *	  defined; the Makefile rule is not written yet). Because 2.4
 *	  settings are declared, bav_folder_<kind> is a fixed list: one
 *	  setting per kind of bav_kind_name(). BAV_SETTING() keeps the 2.3
 *	  by-name interface, with one settings_get() per lookup (about
 *	  eight per delivery); once a 2.4 build is tested, fetching the
 *	  struct once per delivery is the obvious saving.
 *	- the deliver hook: mail_deliver_hook_set(), deliver_mail_func_t
 *	  (struct mail_deliver_context *, struct mail_storage **) and the
 *	  context fields used (rcpt_user, rcpt_to, mail_from,
 *	  rcpt_default_mailbox, tempfail_error, tried_default_save,
 *	  saved_mail, session_id, set->hostname, src_mail) are the same in
 *	  2.3 and 2.4; the field accessors below keep a rename to this
 *	  file. mail_deliver_save() has the same signature.
 *	- the mailbox vfunc chaining (mail_storage_hooks.mailbox_allocated,
 *	  box->vlast, copy), mailbox_keywords_create_valid(), i_stream
 *	  reads (i_stream_read_more, i_stream_skip, i_stream_seek),
 *	  mail_get_stream() and mail_get_physical_size(): unchanged.
 *	- module ABI checks: <module>_version = DOVECOT_ABI_VERSION (and
 *	  PIGEONHOLE_ABI_VERSION for the Sieve plugin) and
 *	  <module>_binary_dependency work alike; a plugin built against one
 *	  minor version is refused by the other, so 2.3 and 2.4 need
 *	  separate builds.
 *	- Pigeonhole: sieve_extension_register() returns the extension in
 *	  2.3, an int (0 / -1) with ext_r in 2.4; the extension's load
 *	  callback returns bool in 2.3, int in 2.4; sieve_<name>_plugin_load
 *	  returns void in 2.3, int in 2.4; sieve_setting_get() (2.3)
 *	  became declared settings read with settings_get(svinst->event,
 *	  ...). The match API used by tst-bav.c (sieve_match_begin/value/
 *	  end, the optional match operands) is assumed unchanged.
 * DIAGNOSTICS
 *	#error for Dovecot older than 2.3.
 * SEE ALSO
 *	bav-dovecot(7), /usr/include/dovecot/mail-deliver.h,
 *	/usr/include/dovecot/sieve/sieve-extensions.h
 */
#ifndef BAV_COMPAT_H
#define BAV_COMPAT_H

#ifndef DOVECOT_VERSION_MAJOR
#  error "include Dovecot's lib.h (config.h) before bav-compat.h"
#endif

#if !DOVECOT_PREREQ(2, 3, 0)
#  error "bav plugin: Dovecot 2.3 or later is required"
#elif DOVECOT_PREREQ(2, 4, 0)
#  define BAV_DOVECOT_24 1
#else
#  define BAV_DOVECOT_24 0
#endif

#define BAV_DELIVER_RCPT_TO(ctx)	((ctx)->rcpt_to)
#define BAV_DELIVER_MAIL_FROM(ctx)	((ctx)->mail_from)
#define BAV_DELIVER_DEFAULT_MAILBOX(ctx) ((ctx)->rcpt_default_mailbox)

#if !BAV_DOVECOT_24
/* ---- 2.3 ---------------------------------------------------------------- */
#  define BAV_SETTING(user, name) mail_user_plugin_getenv((user), (name))

#  ifdef BAV_COMPAT_SIEVE
#    include "sieve-settings.h"
#    define BAV_SIEVE_LOAD_T		bool
#    define BAV_SIEVE_LOAD_OK		TRUE
#    define BAV_SIEVE_LOAD_FAILED	FALSE
#    define BAV_SIEVE_PLUGIN_LOAD_T	void
#    define BAV_SIEVE_PLUGIN_LOAD_RETURN(ret) (void)(ret)
static inline int
bav_compat_sieve_register(struct sieve_instance *svinst,
			  const struct sieve_extension_def *def, bool load,
			  const struct sieve_extension **ext_r)
{
	*ext_r = sieve_extension_register(svinst, def, load);
	return *ext_r != NULL ? 0 : -1;
}
#    define bav_compat_sieve_setting(svinst, name) \
	sieve_setting_get((svinst), (name))
#  endif

#else
/* ---- 2.4 (written from the 2.4 sources, not compiled here) -------------- */
#  include "settings.h"
#  include "settings-parser.h"

struct mail_user;

/* every plugin { bav_... } setting of bav-dovecot(7), as strings: the
   plugin parses them itself, the same way for 2.3 and 2.4 */
struct bav_dovecot_settings {
	pool_t pool;
	const char *bav_enabled;
	const char *bav_config;
	const char *bav_rules;
	const char *bav_spool;
	const char *bav_max_size;
	const char *bav_keywords;
	const char *bav_tempfail;
	const char *bav_folder_bounce;
	const char *bav_folder_delay;
	const char *bav_folder_autoreply;
	const char *bav_folder_feedback;
	const char *bav_folder_unsubscribe;
	const char *bav_folder_systemmail;
	const char *bav_folder_reply;
	const char *bav_folder_delivered;
};
extern const struct setting_parser_info bav_dovecot_setting_parser_info;

/* The value of the bav setting name for the event's user, "" when unset
   and NULL for a name that is not declared; on the data stack. */
const char *bav_compat_setting_get(struct event *event, const char *name);
#  define BAV_SETTING(user, name) \
	bav_compat_setting_get((user)->event, (name))

#  ifdef BAV_COMPAT_SIEVE
#    define BAV_SIEVE_LOAD_T		int
#    define BAV_SIEVE_LOAD_OK		0
#    define BAV_SIEVE_LOAD_FAILED	(-1)
#    define BAV_SIEVE_PLUGIN_LOAD_T	int
#    define BAV_SIEVE_PLUGIN_LOAD_RETURN(ret) return (ret)
static inline int
bav_compat_sieve_register(struct sieve_instance *svinst,
			  const struct sieve_extension_def *def, bool load,
			  const struct sieve_extension **ext_r)
{
	return sieve_extension_register(svinst, def, load, ext_r);
}
#    define bav_compat_sieve_setting(svinst, name) \
	bav_compat_setting_get(sieve_get_event(svinst), (name))
#  endif

#  ifdef BAV_COMPAT_SETTINGS_IMPL
#    undef DEF
#    define DEF(name) \
	SETTING_DEFINE_STRUCT_STR(#name, name, struct bav_dovecot_settings)
static const struct setting_define bav_dovecot_setting_defines[] = {
	DEF(bav_enabled), DEF(bav_config), DEF(bav_rules), DEF(bav_spool),
	DEF(bav_max_size), DEF(bav_keywords), DEF(bav_tempfail),
	DEF(bav_folder_bounce), DEF(bav_folder_delay),
	DEF(bav_folder_autoreply), DEF(bav_folder_feedback),
	DEF(bav_folder_unsubscribe), DEF(bav_folder_systemmail),
	DEF(bav_folder_reply), DEF(bav_folder_delivered),
	SETTING_DEFINE_LIST_END
};
#    undef DEF
/* every setting unset (""): the plugin's defaults apply, as in 2.3 */
static const struct bav_dovecot_settings bav_dovecot_default_settings = {
	.bav_enabled = "", .bav_config = "", .bav_rules = "",
	.bav_spool = "", .bav_max_size = "", .bav_keywords = "",
	.bav_tempfail = "", .bav_folder_bounce = "",
	.bav_folder_delay = "", .bav_folder_autoreply = "",
	.bav_folder_feedback = "", .bav_folder_unsubscribe = "",
	.bav_folder_systemmail = "", .bav_folder_reply = "",
	.bav_folder_delivered = "",
};
const struct setting_parser_info bav_dovecot_setting_parser_info = {
	.name = "bav",
	.plugin_dependency = "lib95_bav_plugin",
	.defines = bav_dovecot_setting_defines,
	.defaults = &bav_dovecot_default_settings,
	.struct_size = sizeof(struct bav_dovecot_settings),
	.pool_offset1 = 1 + offsetof(struct bav_dovecot_settings, pool),
};

const char *bav_compat_setting_get(struct event *event, const char *name)
{
	const struct bav_dovecot_settings *set;
	const struct setting_define *def;
	const char *error, *value = NULL;

	for (def = bav_dovecot_setting_defines; def->key != NULL; def++) {
		if (strcmp(def->key, name) == 0)
			break;
	}
	if (def->key == NULL)
		return NULL;
	if (settings_get(event, &bav_dovecot_setting_parser_info, 0,
			 &set, &error) < 0) {
		e_error(event, "bav: %s", error);
		return NULL;
	}
	value = t_strdup(*(const char *const *)
			 CONST_PTR_OFFSET(set, def->offset));
	settings_free(set);
	return value;
}

#    ifdef BAV_COMPAT_SETTINGS_MODULE
/* lib95_bav_settings_plugin.so in MODULEDIR/settings: tells the config
   process (doveconf) about the settings */
#      define BAV_SETTINGS_EXPORT __attribute__((visibility("default")))
BAV_SETTINGS_EXPORT extern const char *bav_settings_plugin_version;
BAV_SETTINGS_EXPORT extern const struct setting_parser_info
	*bav_settings_plugin_set_infos[];
BAV_SETTINGS_EXPORT void bav_settings_plugin_init(struct module *module);
BAV_SETTINGS_EXPORT void bav_settings_plugin_deinit(void);
const char *bav_settings_plugin_version = DOVECOT_ABI_VERSION;
const struct setting_parser_info *bav_settings_plugin_set_infos[] = {
	&bav_dovecot_setting_parser_info, NULL
};
void bav_settings_plugin_init(struct module *module ATTR_UNUSED) { }
void bav_settings_plugin_deinit(void) { }
#    endif
#  endif
#endif

#endif
