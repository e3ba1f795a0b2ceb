/* SPDX-License-Identifier: MIT */
/*
 * storeargs.h - helpers of the store subcommands score and report
 * (storeargs.c): opening the store named by --store or
 * $BAV_STORE, mapping store errors to exit codes, parsing times and
 * numbers of the command line.
 */
#ifndef BAV_CMD_STOREARGS_H
#define BAV_CMD_STOREARGS_H

#include "bav_store.h"

/* Open uri (NULL: $BAV_STORE). Prints "bav CMD: why" and returns the
   exit status on failure, 0 with *store_r on success. */
int cmd_store_open(const char *uri, const char *cmd, bool migrate,
		   struct bav_store **store_r);
/* Exit status of a bav_err: 75 temporary, 78 config, 70 else. */
int cmd_store_exit(int err);
/* YYYY-MM-DD (midnight UTC), YYYY-MM-DDTHH:MM:SS (UTC), @SECONDS, a
   plain number of seconds, or Nd (midnight N days before now). */
int cmd_parse_time(const char *s, long long now, long long *t_r);
/* Decimal number 0..max. */
int cmd_parse_uint(const char *s, unsigned int max, unsigned int *v_r);

#endif
