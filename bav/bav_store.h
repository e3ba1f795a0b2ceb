/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav_store.h - the bav store: one interface, SQLite and MariaDB backends
 * SYNOPSIS
 *	#include <bav_store.h>
 *
 *	struct bav_store *store;
 *	char *err;
 *	struct bav_store_opts opts = { .migrate = true };
 *	if (bav_store_open("sqlite:/var/lib/bav/bav.db", &opts, &store,
 *			   &err) < 0) { fprintf(stderr, "%s\n", err); free(err); }
 *
 *	static int row(void *ctx, const struct bav_store_value *v,
 *		       const char *const *names, unsigned int n)
 *	{ printf("%s %lld\n", v[0].s, v[1].i); return 0; }
 *
 *	const struct bav_store_param p[] = {
 *		BAV_STORE_PARAM_INT(since), BAV_STORE_PARAM_TEXT("bounce") };
 *	const char *error;
 *	int ret = bav_store_exec(store,
 *		"SELECT domain, COUNT(*) FROM bav_events"
 *		" WHERE time >= ? AND kind = ? GROUP BY domain ORDER BY 2 DESC",
 *		p, 2, row, NULL, &error);
 *	bav_store_close(&store);
 * DESCRIPTION
 *	A store is one connection to one database, named by a URI:
 *
 *	  sqlite:/path/file.db		embedded default (also sqlite:relative)
 *	  mariadb://user@host[:port]/db[?password_file=F&socket=/path]
 *
 *	The MariaDB password comes from opts->password_file or the URI's
 *	password_file parameter (first line of the file, trailing newline
 *	removed); socket= connects through a unix socket instead of TCP.
 *	A backend that was not built (configure did not find its library)
 *	fails at open with BAV_ECONFIG and a message saying so.
 *
 *	The schema lives in sql/<dialect>/NNN-name.sql (forward-only
 *	migrations, embedded in libbav). bav_store_open() checks the
 *	version in bav_schema_version: a database newer than this libbav
 *	is refused (BAV_ECONFIG, "schema version N is newer than ..."); an
 *	older or empty one is migrated when opts->migrate is set, else
 *	refused. Tables (see sql/sqlite/001-initial.sql for every column):
 *	bav_messages (one row per recorded message, message_key unique),
 *	bav_events (one row per recipient: time, recipient, domain, kind,
 *	reason, hard, detail, status, replycode, diagnostic, remote_mta,
 *	rule, identity and mailing/customer ids, receiving_host),
 *	bav_recipients (address state), bav_replies, bav_mailloop,
 *	bav_ar_lastsent, bav_audit, bav_meta (named cursors).
 *
 *	Portable SQL. bav_store_exec() runs one statement on either
 *	backend through a prepared statement with "?" placeholders. Write
 *	SQL both dialects accept: times are INTEGER unix seconds (a day
 *	bucket is "time - time % 86400"; never "/" for integer division,
 *	MariaDB returns a decimal), string concatenation and date functions
 *	differ (do them in C), LIMIT n works on both, COUNT/SUM/MIN/MAX,
 *	CASE WHEN, COALESCE, GROUP BY, ORDER BY, subqueries and LEFT JOIN
 *	work on both. Upserts differ: use bav_store_backend() or an UPDATE
 *	followed by an INSERT when no row changed (bav_store_changes()).
 *	Migrations added by other modules use the next free number in
 *	both sql/ directories.
 *
 *	Ownership: the store owns every string it hands out; a row's
 *	values are valid only during the callback, an *error_r text until
 *	the next call on the same store. A store is not thread-safe: one
 *	thread at a time (libbav itself has no global state, so one store
 *	per thread is fine).
 * DIAGNOSTICS
 *	Functions return 0 (BAV_OK) or a negative enum bav_err:
 *	BAV_ETEMP - temporary: server gone or lost, connection refused,
 *	  lock wait timeout, deadlock, SQLITE_BUSY/LOCKED. The current
 *	  transaction was rolled back (or the connection is gone); the
 *	  caller should retry later (commands exit 75, EX_TEMPFAIL).
 *	BAV_ECONFIG - bad URI, backend not built, unreadable password
 *	  file, authentication refused, schema too new or not migrated.
 *	BAV_EDATA - the statement failed permanently (syntax, constraint).
 *	The library never exits and never prints.
 * SEE ALSO
 *	bav-store(7), bav(1)
 */
#ifndef BAV_STORE_H
#define BAV_STORE_H

#include <stdbool.h>
#include <time.h>
#include "bav.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Highest schema version this libbav knows (the last sql/ migration). */
#define BAV_STORE_SCHEMA_VERSION 1

struct bav_store;

struct bav_store_opts {
	/* MariaDB password file; overrides ?password_file= of the URI */
	const char *password_file;
	/* MariaDB password itself (the secrets file's store_password),
	   used only when no password file is given; the caller owns it */
	const char *password;
	/* apply missing migrations at open (else an old schema is refused) */
	bool migrate;
	/* skip the schema version check (inspection and repair only) */
	bool any_version;
	/* SQLite busy timeout and MariaDB innodb_lock_wait_timeout,
	   milliseconds (MariaDB rounds up to seconds); 0: 5000 */
	unsigned int lock_timeout_ms;
	/* MariaDB connect/read/write timeout, seconds; 0: 10 */
	unsigned int net_timeout_s;
};

/* Open the store named by uri (see DESCRIPTION); opts may be NULL.
   On error returns a bav_err and a malloc'ed message in *error_r
   (caller frees with free()). */
BAV_EXPORT int bav_store_open(const char *uri,
			      const struct bav_store_opts *opts,
			      struct bav_store **store_r, char **error_r);
/* Close (rolling back an open transaction) and set *store to NULL. */
BAV_EXPORT void bav_store_close(struct bav_store **store);
/* "sqlite" or "mariadb". */
BAV_EXPORT const char *bav_store_backend(const struct bav_store *store);
/* Schema version of the open database (0: empty). */
BAV_EXPORT int bav_store_schema_version(struct bav_store *store,
					int *version_r, const char **error_r);
/* Apply the missing migrations (what bav store init runs). */
BAV_EXPORT int bav_store_migrate(struct bav_store *store,
				 const char **error_r);

/* Transactions. begin fails if one is open; after a BAV_ETEMP from any
   call inside a transaction, call rollback (harmless when gone). */
BAV_EXPORT int bav_store_begin(struct bav_store *store, const char **error_r);
BAV_EXPORT int bav_store_commit(struct bav_store *store, const char **error_r);
BAV_EXPORT int bav_store_rollback(struct bav_store *store,
				  const char **error_r);
BAV_EXPORT bool bav_store_in_transaction(const struct bav_store *store);

/* ---- generic statements ------------------------------------------------ */

enum bav_store_type {
	BAV_STORE_NULL = 0,
	BAV_STORE_INT,		/* 64-bit integer */
	BAV_STORE_TEXT,		/* NUL-terminated UTF-8 text */
	BAV_STORE_REAL,		/* result columns only: AVG(), ratios */
};

/* A "?" parameter. A TEXT parameter with s == NULL binds NULL. */
struct bav_store_param {
	enum bav_store_type type;
	long long i;
	const char *s;
};
#define BAV_STORE_PARAM_INT(v) { BAV_STORE_INT, (long long)(v), NULL }
#define BAV_STORE_PARAM_TEXT(v) { BAV_STORE_TEXT, 0, (v) }
#define BAV_STORE_PARAM_NULL { BAV_STORE_NULL, 0, NULL }

/* One column of a result row. Every non-NULL value has its text form
   in s (len bytes, NUL-terminated); INT values also have i (and d),
   REAL values d (and i truncated). NULL: s == NULL, i == 0, d == 0. */
struct bav_store_value {
	enum bav_store_type type;
	long long i;
	double d;
	const char *s;
	size_t len;
};

/* Called once per result row with ncols values and column names
   (as given by "AS name" or the column). Return 0 to go on, anything
   else stops the statement (bav_store_exec then returns BAV_OK). */
typedef int bav_store_row_t(void *ctx, const struct bav_store_value *cols,
			    const char *const *names, unsigned int ncols);

/* Run one SQL statement (no trailing ";") with nparams "?" parameters
   and call row_cb for every result row (row_cb may be NULL). Outside a
   transaction the statement autocommits. Prepared statements are
   cached per store by SQL text, so calling it in a loop is cheap. */
BAV_EXPORT int bav_store_exec(struct bav_store *store, const char *sql,
			      const struct bav_store_param *params,
			      unsigned int nparams, bav_store_row_t *row_cb,
			      void *ctx, const char **error_r);
/* Rows changed by the last INSERT/UPDATE/DELETE of bav_store_exec; for an
   UPDATE the rows it matched, even when the values stayed the same (on
   both backends). */
BAV_EXPORT unsigned long long bav_store_changes(const struct bav_store *store);
/* Id generated by the last INSERT into a table with an id column. */
BAV_EXPORT long long bav_store_last_id(const struct bav_store *store);

/* ---- recording --------------------------------------------------------- */

/* Record one classified message received at time t on receiving_host:
   a bav_messages row, one bav_events row per result, recipient state
   (hard bounce: bounced; feedback: complained; unsubscribe:
   unsubscribed; delivered: last_delivery; reply: last_engagement;
   soft bounces and delays only set last_event: counting them is
   bav score's job) and a bav_replies row for replies and auto-replies.
   Idempotent by message_key (at most 128 bytes): returns 1 and changes
   nothing when that key is already recorded, 0 when recorded. Text is
   made valid UTF-8 and cut to the column sizes on the way in. Inside a transaction
   (bav_store_begin) it adds to it, else it runs in its own. */
BAV_EXPORT int bav_store_record(struct bav_store *store,
				const struct bav_verdict *verdict,
				const char *message_key,
				const char *receiving_host, time_t t,
				const char **error_r);

/* Idempotence key of a returned message: the first 32 bytes of a SHA-512 digest in hex
   (64 characters) over its Message-ID and its body with line endings
   normalised, so the same message redelivered (other Received: or
   Delivered-To: lines, CRLF or LF, mbox "From " line) gets the same
   key. buf must hold BAV_STORE_KEY_SIZE bytes. */
#define BAV_STORE_KEY_SIZE 65
BAV_EXPORT void bav_store_message_key(const unsigned char *msg, size_t len,
				      char buf[BAV_STORE_KEY_SIZE]);

/* Set an address (lower-cased) back to active, keeping the reason and
   actor in bav_audit. Returns 1 and changes nothing when the address
   is unknown or already active, 0 when changed. */
BAV_EXPORT int bav_store_unblock(struct bav_store *store, const char *address,
				 const char *reason, const char *actor,
				 time_t t, const char **error_r);

#ifdef __cplusplus
}
#endif
#endif
