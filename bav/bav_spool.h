/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav_spool.h - durable spool of classified messages (deliver/lmtpd
 *	write, the recorder drains)
 * SYNOPSIS
 *	#include <bav_spool.h>
 * DESCRIPTION
 *	A spool is a directory with the subdirectories tmp/, new/, cur/ and
 *	bad/ (Maildir-like). An entry is written to tmp/, fsync'ed, renamed
 *	into new/ and new/ is fsync'ed: a half-written entry is never in
 *	new/. Each entry holds the envelope (sender, recipients, queue id),
 *	the receiving host and time, the message key, the verdict (kind,
 *	results, identity) or the classification error, and the raw message,
 *	so the recorder never classifies again. See spool.c for the format.
 *
 *	A struct bav_spool is a handle on one directory; it is not
 *	thread-safe (use one handle per thread; libbav keeps no global state).
 *	Error texts (*error_r) belong to the handle and stay valid until its
 *	next call.
 * DIAGNOSTICS
 *	0 ok, else a negative enum bav_err: BAV_ETEMP for I/O trouble (disk
 *	full, permissions, missing directory: retry later), BAV_EDATA for a
 *	corrupt entry. Never exits, never prints.
 */
#ifndef BAV_SPOOL_H
#define BAV_SPOOL_H

#include <stdbool.h>
#include <time.h>
#include "bav.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bav_spool;
struct bav_spool_group;

/* One spooled message. On write the caller owns everything; from
   bav_spool_read() everything is allocated from the caller's pool. */
struct bav_spool_entry {
	const char *sender;		/* envelope sender, "" for <> */
	const char *const *recipients;
	unsigned int recipient_count;
	const char *queue_id;		/* "" when unknown */
	const char *host;		/* receiving host */
	time_t time;			/* receiving time */
	const char *key;		/* bav_store_message_key() */
	const struct bav_verdict *verdict; /* NULL when classification failed */
	const char *error;		/* why it failed, else NULL/"" */
	const unsigned char *msg;	/* the raw message */
	size_t msg_len;
};

/* Open the spool at dir; with create, make dir and the subdirectories
   (mode 0700) when missing. On error *error_r is malloc'ed (caller
   frees with free()). */
BAV_EXPORT int bav_spool_open(const char *dir, bool create,
			      struct bav_spool **spool_r, char **error_r);
/* Close and set *spool to NULL. */
BAV_EXPORT void bav_spool_close(struct bav_spool **spool);

/* A group commit for the handles of one process's threads on the same
   spool directory (bav lmtpd): writers renaming into new/ at about the
   same time share one fsync of new/, each still returning only when its
   own entry is durable. Thread-safe; the creator frees it after closing
   every handle in it. bav_spool_set_group() puts a handle in it (NULL:
   alone again); BAV_ECONFIG when the handle is on another directory. */
BAV_EXPORT struct bav_spool_group *bav_spool_group_new(void);
BAV_EXPORT void bav_spool_group_free(struct bav_spool_group **group);
BAV_EXPORT int bav_spool_set_group(struct bav_spool *spool,
				   struct bav_spool_group *group,
				   const char **error_r);

/* Write one entry durably (file and directory fsync'ed). name_r (may be
   NULL) gets the entry's name in new/, valid until the next call.
   On failure nothing is left in new/ (tmp/ is cleaned too). */
BAV_EXPORT int bav_spool_write(struct bav_spool *spool,
			       const struct bav_spool_entry *entry,
			       const char **name_r, const char **error_r);

/* Names of the entries in new/, oldest first, at most max (0: all).
   The array and the names are allocated from pool. */
BAV_EXPORT int bav_spool_list(struct bav_spool *spool, struct bav_pool *pool,
			      unsigned int max, const char ***names_r,
			      unsigned int *count_r, const char **error_r);

/* Read the entry new/name into pool. BAV_EDATA: corrupt entry (move it
   aside with bav_spool_reject()); BAV_ETEMP: read error or gone. */
BAV_EXPORT int bav_spool_read(struct bav_spool *spool, const char *name,
			      struct bav_pool *pool,
			      struct bav_spool_entry **entry_r,
			      const char **error_r);

/* The entry was recorded: with archive, move it to cur/ (kept for
   bav_spool_expire / reclassification), else unlink it. A missing
   entry is not an error (a replay after a crash). */
BAV_EXPORT int bav_spool_done(struct bav_spool *spool, const char *name,
			      bool archive, const char **error_r);
/* Move a broken or unrecordable entry to bad/ (kept, never retried). */
BAV_EXPORT int bav_spool_reject(struct bav_spool *spool, const char *name,
				const char **error_r);
/* fsync new/ and cur/ (after a batch of done/reject calls). */
BAV_EXPORT int bav_spool_sync(struct bav_spool *spool, const char **error_r);
/* Remove cur/ entries last changed before t and tmp/ leftovers older
   than a day; *removed_r (may be NULL) gets the count. */
BAV_EXPORT int bav_spool_expire(struct bav_spool *spool, time_t t,
				unsigned int *removed_r,
				const char **error_r);

/* The same for the entries of sub ("new", "cur" or "bad"): list, read,
   remove (bav reclassify). A missing entry is not an error for remove. */
BAV_EXPORT int bav_spool_list_sub(struct bav_spool *spool, const char *sub,
				  struct bav_pool *pool, unsigned int max,
				  const char ***names_r, unsigned int *count_r,
				  const char **error_r);
BAV_EXPORT int bav_spool_read_sub(struct bav_spool *spool, const char *sub,
				  const char *name, struct bav_pool *pool,
				  struct bav_spool_entry **entry_r,
				  const char **error_r);
BAV_EXPORT int bav_spool_remove(struct bav_spool *spool, const char *sub,
				const char *name, const char **error_r);

/* Serialise / parse the verdict part (exported for tests): text lines,
   see spool.c. bav_spool_verdict_parse allocates from pool. */
BAV_EXPORT char *bav_spool_verdict_format(struct bav_pool *pool,
					  const struct bav_verdict *v);
BAV_EXPORT int bav_spool_verdict_parse(struct bav_pool *pool,
				       const char *text, size_t len,
				       struct bav_verdict **verdict_r,
				       const char **error_r);

#ifdef __cplusplus
}
#endif
#endif
