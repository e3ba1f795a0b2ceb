/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav_addrtable.h - the bav.conf address table of libbav
 * SYNOPSIS
 *	#include <bav_addrtable.h>
 * DESCRIPTION
 *	A bav.conf file (OpenEMM format: "key<TAB>value" lines, exact
 *	address or @domain keys, accept[:options], reject, tempfail,
 *	alias:ADDRESS) loaded once into an immutable in-memory hash. Lookups
 *	cost O(1) whatever the table size and never allocate. The table is
 *	reference-counted: a daemon keeps one current table, each
 *	connection takes a reference, and a reload swaps in a new table
 *	while old connections finish with theirs. See addrtable.c.
 */
#ifndef BAV_ADDRTABLE_H
#define BAV_ADDRTABLE_H

#include "bav.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bav_addrtable;

enum bav_addr_verb {
	BAV_ADDR_ACCEPT = 0,
	BAV_ADDR_REJECT,
	BAV_ADDR_TEMPFAIL,
};

/* How a lookup reached its verdict. */
enum bav_addr_how {
	BAV_ADDR_EXACT = 0,	/* the address itself */
	BAV_ADDR_DOMAIN,	/* its @domain entry */
	BAV_ADDR_ALIAS,		/* through an alias: entry */
	BAV_ADDR_UNKNOWN,	/* no entry, managed domain (or no @): reject */
	BAV_ADDR_RELAY,		/* no entry, unmanaged domain: accept:rid=relay */
};

struct bav_addr_result {
	enum bav_addr_verb verb;
	enum bav_addr_how how;
	/* accept options ("rid=12,cid=1,..."), "" when none; owned by the
	   table, valid while the caller holds its reference */
	const char *options;
	/* the key that matched, lower-case, or "" (UNKNOWN/RELAY) */
	const char *key;
};

/* Load path into a new table with one reference. On error returns
   BAV_ECONFIG (bad line, empty or truncated file) or BAV_ETEMP (can't
   read) and a "path:line: why" text in *error_r (malloc'ed, the caller
   frees it with free()); *table_r is then NULL. */
BAV_EXPORT int bav_addrtable_load(const char *path,
				  struct bav_addrtable **table_r,
				  char **error_r);
/* Same, from len bytes of text; name is used in error messages. */
BAV_EXPORT int bav_addrtable_load_mem(const char *name, const char *text,
				      size_t len,
				      struct bav_addrtable **table_r,
				      char **error_r);
/* Take one more reference (thread-safe). Returns table. */
BAV_EXPORT struct bav_addrtable *bav_addrtable_ref(struct bav_addrtable *table);
/* Drop a reference (thread-safe), free on the last one; sets *table to
   NULL. NULL is fine. */
BAV_EXPORT void bav_addrtable_unref(struct bav_addrtable **table);

/* Look up an envelope recipient as the MTA gives it ("<a@b>", "a@b",
   junk after '>' ignored), case-insensitively, with the semantics of
   OpenEMM's milter (spec section 3.3). Always fills *result_r. */
BAV_EXPORT void bav_addrtable_lookup(const struct bav_addrtable *table,
				     const char *rcpt,
				     struct bav_addr_result *result_r);
/* Number of entries (distinct keys) and of managed domains. */
BAV_EXPORT size_t bav_addrtable_count(const struct bav_addrtable *table);
BAV_EXPORT size_t bav_addrtable_domain_count(const struct bav_addrtable *table);
/* 1 when path no longer names the file the table was loaded from (other
   inode, size or mtime, or gone), 0 when unchanged; tables loaded from
   memory always return 0. */
BAV_EXPORT int bav_addrtable_changed(const struct bav_addrtable *table,
				     const char *path);
BAV_EXPORT const char *bav_addr_verb_name(enum bav_addr_verb verb);
BAV_EXPORT const char *bav_addr_how_name(enum bav_addr_how how);

#ifdef __cplusplus
}
#endif
#endif
