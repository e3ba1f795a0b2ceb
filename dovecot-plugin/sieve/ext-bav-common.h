/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	ext-bav-common.h - shared parts of the vnd.bav Sieve extension
 * DESCRIPTION
 *	ext_bav_get_verdict() classifies the message under test once per
 *	message (cached in the Sieve message context) and returns the
 *	fields the bav test matches against. Everything is allocated from
 *	the message context's pool.
 */
#ifndef EXT_BAV_COMMON_H
#define EXT_BAV_COMMON_H

#include "sieve-common.h"

/* what a bav test looks at, chosen by its tag */
enum ext_bav_field {
	EXT_BAV_FIELD_KIND = 0,	/* :kind  (default) */
	EXT_BAV_FIELD_REASON,	/* :reason, any result */
	EXT_BAV_FIELD_STATUS,	/* :status, any result */
	EXT_BAV_FIELD_HARD,	/* :hard, no key list */
	EXT_BAV_FIELD_COUNT
};

struct ext_bav_verdict {
	bool classified;
	bool hard;		/* any result hard */
	const char *kind;	/* "" when not classified */
	const char *const *reasons;	/* one per result */
	const char *const *statuses;
	unsigned int count;
};

extern const struct sieve_extension_def bav_extension;
extern const struct sieve_command_def tst_bav;
extern const struct sieve_operation_def tst_bav_operation;

/* Never fails: a message that can't be read or classified gives
   classified = FALSE, kind "" (and a log line). */
const struct ext_bav_verdict *
ext_bav_get_verdict(const struct sieve_runtime_env *renv,
		    const struct sieve_extension *ext);

#endif
