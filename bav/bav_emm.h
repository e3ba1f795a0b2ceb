/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav_emm.h - OpenEMM drop-in mode: record verdicts into EMM's tables
 * SYNOPSIS
 *	#include "bav_emm.h"
 *
 *	struct bav_emm *emm;
 *	struct bav_emm_opts o = { .licence = 0 };
 *	char *err;
 *	if (bav_emm_open("emm+mariadb://bav@db/openemm", &o, &emm, &err) < 0)
 *		...;
 *	struct bav_emm_mail m = { .verdict = v, .message_key = key, ... };
 *	struct bav_emm_outcome out;
 *	ret = bav_emm_record(emm, &m, &out, &error);   (1 = already done)
 *	bav_emm_close(&emm);
 * DESCRIPTION
 *	An EMM database is an OpenEMM MariaDB schema (sql/emm/schema.sql is
 *	the subset bav uses). It is named by the store URI with "emm+" in
 *	front ("emm+mariadb://...") and
 *	opened with any_version: bav never migrates it. Three more URI
 *	parameters set the options when the caller has no other way:
 *	emm_licence=N, emm_logdir=DIR, emm_delay=SECONDS and
 *	emm_webhook_log=PATH (they are
 *	taken out before the URI goes to bav_store_open()). bav_emm_record()
 *	does what bavd and update do for one classified message (spec
 *	sections 5.4-5.13): validates the agnUIDs against company_tbl and
 *	mailing_tbl, picks the origin, translates the DSN into a detail
 *	code with bounce_translate_tbl and writes bounce_tbl, the
 *	customer_<cid>_binding_tbl status (2 hard bounce, 4 unsubscribe),
 *	success revocation, mailloop_log_tbl, mailloop_replies_tbl and
 *	bounce_ar_lastsent_tbl, or (opts.logdir) the extbounce.log and
 *	mailloop.log lines of section 5.10 for an unchanged update process.
 *	See bav-emm(7) for what differs from OpenEMM and why.
 *
 *	Ownership: the emm handle owns its store (bav_emm_store() lends it
 *	for transactions) and its cached configuration; outcome strings are
 *	owned by the handle until the next call. Not thread-safe: one
 *	handle per thread.
 * DIAGNOSTICS
 *	enum bav_err as in bav_store.h; BAV_ECONFIG when the database is
 *	not an EMM schema (company_tbl missing). Never exits, never prints.
 * SEE ALSO
 *	bav-emm(7), bav_store.h, emm-mailloop spec sections 5, 7, 8.4
 */
#ifndef BAV_EMM_H
#define BAV_EMM_H

#include <stdbool.h>
#include <time.h>
#include "bav.h"
#include "bav_store.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bav_emm;

struct bav_emm_opts {
	const char *password_file;	/* MariaDB password file */
	long long licence;		/* the local licence (OpenEMM: 0) */
	/* write $logdir/extbounce.log and $logdir/mailloop.log (spec 5.10)
	   instead of the tables; NULL: write the tables */
	const char *logdir;
	const char *server;		/* server= of extbounce lines; NULL: host */
	/* seconds a parked hard bounce with a non-5xx code waits; 0: 86400 */
	unsigned int delay_s;
	/* MariaDB password itself (the secrets file's store_password),
	   used when there is no password file; the caller owns it */
	const char *password;
	/* append the hard-bounce webhook lines of update (spec 5.11.2 item
	   7) to this file, e.g. /home/openemm/log/webhook.log; NULL: off
	   (URI: emm_webhook_log=PATH). Ignored with logdir. */
	const char *webhook_log;
};

/* True when uri names an EMM database ("emm+..."). */
BAV_EXPORT bool bav_emm_uri(const char *uri);
/* Open the EMM database of uri (with or without "emm+"), check that it
   has company_tbl and create bav's two bookkeeping tables when missing.
   *error_r is malloc'ed (free()). */
BAV_EXPORT int bav_emm_open(const char *uri, const struct bav_emm_opts *opts,
			    struct bav_emm **emm_r, char **error_r);
BAV_EXPORT void bav_emm_close(struct bav_emm **emm);
/* The underlying store, for bav_store_begin/commit/rollback. */
BAV_EXPORT struct bav_store *bav_emm_store(struct bav_emm *emm);

/* One classified message. */
struct bav_emm_mail {
	const struct bav_verdict *verdict;
	const char *message_key;	/* idempotence key (bav_store_message_key) */
	const char *parameter;		/* X-AGNMailloop value, or NULL */
	const char *rid;		/* filter when there is no parameter */
	const char *return_path;	/* envelope sender ("" for <>) */
	const char *recipient;		/* envelope recipient */
	const char *host;		/* receiving host */
	/* address it was forwarded to; "" not forwarded (bav deliver
	   --no-forward); NULL unknown: the fwd= parameter decides */
	const char *forwarded;
	time_t time;			/* received */
	const unsigned char *msg;	/* raw message (inbox content), or NULL */
	size_t msg_len;
};

/* What bav_emm_record() did (strings owned by the handle). */
struct bav_emm_outcome {
	const char *action;	/* bounce, unsubscribe, filtered, sent, ignore,
				   auto, ooo, delayed ... (mailloop_log action) */
	long long rid, company_id, mailing_id, customer_id;
	int dsn;		/* numeric code (511), 0 none */
	int detail;		/* translated detail, 0 none */
	long long rule_id;	/* bounce_translate_tbl rule, 0 built-in */
	unsigned int bindings;	/* binding rows changed */
	long long inbox_id;	/* mailloop_replies_tbl id, 0 none */
	bool autoresponder;	/* rate limit passed: lastsent was set */
};

/* Record one message (spec 5.8-5.13). Inside an open transaction of
   bav_emm_store() it adds to it, else it runs in its own. Returns 0
   recorded, 1 already recorded (message_key seen: nothing written), or
   a bav_err. Also processes parked bounces that became due. */
BAV_EXPORT int bav_emm_record(struct bav_emm *emm,
			      const struct bav_emm_mail *mail,
			      struct bav_emm_outcome *out,
			      const char **error_r);

/* After the caller's own commit (committed) or rollback of a
   transaction that bav_emm_record() added to: writes (fsync'ed) or
   forgets the webhook lines queued by it. bav_emm_record() in its own
   transaction does this itself. 0 or BAV_ETEMP (handle-owned text). */
BAV_EXPORT int bav_emm_finish(struct bav_emm *emm, bool committed,
			      const char **error_r);

/* bav_emm_record() of a spool entry (bav_spool.h): parameter from the
   message's X-AGNMailloop header, envelope from the entry. An entry
   without a verdict is BAV_EDATA. */
struct bav_spool_entry;
BAV_EXPORT int bav_emm_record_entry(struct bav_emm *emm,
				    const struct bav_spool_entry *entry,
				    struct bav_emm_outcome *out,
				    const char **error_r);
/* The same when the caller knows what was done with the message:
   forwarded as in struct bav_emm_mail (so mailloop_log_tbl says "sent"
   only when it was). */
BAV_EXPORT int bav_emm_record_entry_fwd(struct bav_emm *emm,
					const struct bav_spool_entry *entry,
					const char *forwarded,
					struct bav_emm_outcome *out,
					const char **error_r);

/* Re-read the configuration tables on the next record (also done by
   itself every 180 s). */
BAV_EXPORT void bav_emm_reload(struct bav_emm *emm);

/* The merged rule set of (company, rid) (spec 5.6.2) in bav-rules(5)
   legacy format ("[section]" lines, one pattern per line), malloc'ed
   into *text_r (free()); "" when there are no rules. */
BAV_EXPORT int bav_emm_rules_text(struct bav_emm *emm, long long company,
				  long long rid, char **text_r,
				  const char **error_r);

#ifdef __cplusplus
}
#endif
#endif
