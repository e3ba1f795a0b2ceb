/* SPDX-License-Identifier: MIT */
/*
 * cmd_store.h - the store subcommands of the bav command (record, show,
 * unblock, store init/version) and their shared option handling.
 */
#ifndef BAV_CMD_STORE_H
#define BAV_CMD_STORE_H

#include "cmd.h"
#include "bav_store.h"

/* bav record --store URI [options] PATH...|- */
int cmd_record(int argc, char **argv);
/* bav show --store URI [--json] ADDRESS */
int cmd_show(int argc, char **argv);
/* bav unblock --store URI --reason TEXT [--actor NAME] ADDRESS */
int cmd_unblock(int argc, char **argv);
/* bav store init|version --store URI */
int cmd_store(int argc, char **argv);

/* Open the store named by uri (NULL: $BAV_STORE); prints "bav: why" on
   stderr and returns the exit status (75 temporary, 78 configuration,
   64 no URI) or 0 with *store_r set. */
int store_cmd_open(const char *uri, const char *password_file, bool migrate,
		   struct bav_store **store_r);
/* The same with any schema version (bav store query). */
int store_cmd_open_any(const char *uri, const char *password_file,
		       struct bav_store **store_r);
/* Exit status for a bav_err from the store (75, 78 or 1). */
int store_cmd_exit(int err);

#endif
