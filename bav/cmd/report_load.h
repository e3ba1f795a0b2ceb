/* SPDX-License-Identifier: MIT */
/*
 * report_load.h - filling a struct report from the store (report_load.c)
 */
#ifndef BAV_CMD_REPORT_LOAD_H
#define BAV_CMD_REPORT_LOAD_H

#include "report.h"
#include "bav_store.h"

/* Load the period [r->since, r->until) from store into r. 0 or a
   negative bav_err with the store's text in *error_r. */
int report_load(struct report *r, struct bav_store *store,
		const char **error_r);
/* A diagnostic with addresses and long numbers replaced (malloc'ed). */
char *report_diag_normalize(const char *s);

#endif
