/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav-settings - plugin settings of the Dovecot plugin, falling back
 *	to main.cf
 * SYNOPSIS
 *	#include "bav-plugin.h"
 *
 *	const char *bav_setting(struct mail_user *user, const char *name)
 *	void bav_settings_deinit(void)
 * DESCRIPTION
 *	bav_setting() returns the plugin setting name (plugin { } or the
 *	userdb) when it is set and not empty. Otherwise, for the settings
 *	main.cf also has (bav_rules: rules_files, bav_spool:
 *	spool_directory, bav_max_size: max_message_size), it returns the
 *	value of main.cf when main.cf sets that key; the built-in defaults
 *	of main.cf are not used, so a plugin without bav_spool still
 *	spools nothing. main.cf is the file of the bav_config setting,
 *	else $BAV_CONFIG, else SYSCONFDIR/bav/main.cf; a missing file is
 *	no error (only a failed open), a broken one is logged once with
 *	i_error and ignored.
 *
 *	Ownership: the loaded main.cf is cached per process (Dovecot
 *	delivers one message at a time in a process) and owns the values
 *	returned; it is reloaded when bav_config names another file and
 *	freed by bav_settings_deinit().
 * DIAGNOSTICS
 *	NULL when neither sets a value.
 * SEE ALSO
 *	bav-dovecot(7), bav-main.cf(5), bav_config.h
 */
#include "lib.h"
#include "mail-user.h"
#define BAV_COMPAT_SETTINGS_IMPL	/* 2.4: the declared settings live here */
#include "bav-compat.h"
#include "bav-plugin.h"

#include "bav_config.h"

static struct bav_config *cached_config;
static char *cached_config_path;	/* "" for the default path */

static const struct bav_config *get_config(struct mail_user *user)
{
	const char *path = BAV_SETTING(user, "bav_config"), *error = NULL;
	size_t i;

	if (path == NULL)
		path = "";
	if (cached_config_path != NULL &&
	    strcmp(cached_config_path, path) == 0)
		return cached_config;
	bav_config_free(&cached_config);
	i_free(cached_config_path);
	cached_config_path = i_strdup(path);
	if (bav_config_load(*path != '\0' ? path : NULL, FALSE,
			    &cached_config, &error) != BAV_OK) {
		for (i = 0; i < bav_config_problem_count(cached_config); i++) {
			bool fatal = FALSE;
			const char *p = bav_config_problem(cached_config, i,
							   &fatal);

			if (fatal)
				i_error("bav: bav_config: %s", p);
		}
		if (bav_config_problem_count(cached_config) == 0)
			i_error("bav: bav_config: %s",
				error != NULL ? error : "cannot read");
		bav_config_free(&cached_config);	/* ignored */
	}
	return cached_config;
}

const char *bav_setting(struct mail_user *user, const char *name)
{
	static const struct { const char *setting, *key; } map[] = {
		{ "bav_rules", "rules_files" },
		{ "bav_spool", "spool_directory" },
		{ "bav_max_size", "max_message_size" },
	};
	const char *v = BAV_SETTING(user, name);
	const struct bav_config *cf;
	size_t i;

	if (v != NULL && *v != '\0')
		return v;
	for (i = 0; i < N_ELEMENTS(map); i++)
		if (strcmp(map[i].setting, name) == 0)
			break;
	if (i == N_ELEMENTS(map) || (cf = get_config(user)) == NULL ||
	    !bav_config_is_set(cf, map[i].key))
		return v;
	if (bav_config_key_find(map[i].key)->type == BAV_CONFIG_SIZE)
		return t_strdup_printf("%llu",
			bav_config_get_number(cf, map[i].key));
	return bav_config_get(cf, map[i].key);
}

void bav_settings_deinit(void)
{
	bav_config_free(&cached_config);
	i_free(cached_config_path);
}
