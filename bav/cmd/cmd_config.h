/* SPDX-License-Identifier: MIT */
/*
 * cmd_config.h - main.cf in the bav command (cmd_config.c): the one
 * configuration of a run, "bav config check|show|keys".
 */
#ifndef BAV_CMD_CONFIG_H
#define BAV_CMD_CONFIG_H

#include "bav_config.h"

/* Load main.cf once for this run: path (-C) or $BAV_CONFIG (both must
   exist), else the default file (may be missing). Errors are printed
   ("bav CMD: file:line: why") and returned as exit status 78 (75 when
   unreadable); 0 on success. Also sets $BAV_STORE and $BAV_SPOOL from
   store and spool_directory when they are not set, so every
   subcommand's --store / --spool fallback sees main.cf. */
int cmd_config_init(const char *path, const char *cmd);
/* The configuration of this run (defaults before cmd_config_init()). */
struct bav_config *cmd_config(void);
/* Value of a string key, NULL when empty. */
const char *cmd_config_str(const char *name);
/* -C FILE / -CFILE among a subcommand's arguments (before "--"), or
   NULL. */
const char *cmd_config_scan(int argc, char **argv);
/* A secret: the secrets file's name, else NULL (errors printed, *bad
   set). The value lives as long as the run's config. */
const char *cmd_config_secret(const char *name, const char *cmd, bool *bad);

/* Store defaults of main.cf for opening uri: password_file from
   store_password_file unless the caller or the URI names one, else
   password from the secrets file's store_password (mariadb: URIs
   only). 0, or 78 after printing "bav CMD: why". */
struct bav_store_opts;
int cmd_config_store_opts(const char *uri, struct bav_store_opts *opts,
			  const char *cmd);

/* The syslog facility of syslog_facility (LOG_MAIL by default). */
int cmd_config_facility(void);

/* bav config check|show|keys (bav.c dispatches); path: bav -C FILE
   or NULL. */
int cmd_config_main(int argc, char **argv, const char *path);

#endif
