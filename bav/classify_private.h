/* SPDX-License-Identifier: MIT */
/*
 * classify_private.h - the classifier's internal interface: the message
 * context shared by the steps (dsn, arf, autoreply, heur, reason, detail,
 * ident) that bav_classify() runs in turn. Not installed.
 */
#ifndef BAV_CLASSIFY_PRIVATE_H
#define BAV_CLASSIFY_PRIVATE_H

#include "bav_private.h"

/* One message being classified; owned by bav_classify(). */
struct bav_msg {
	struct bav_pool *pool;
	const struct bav_classify_opts *opts;
	const struct bav_rules *rules;
	const struct bav_limits *limits;
	struct bav_part *root;
	struct bav_verdict *v;
	/* results being built (pool-owned array, grown by bav_msg_add) */
	struct bav_result *res;
	unsigned int nres, ares;
	/* the human-readable notice: first text part of the top message,
	   cut before a quoted original; "" when none */
	const char *notice;
	size_t notice_len;
	const char *subject;		/* decoded top-level Subject */
	const char *from;		/* top-level From: address */
	const char *to;			/* top-level To: address */
	struct bav_part *dsn_part;	/* message/(global-)delivery-status */
	struct bav_part *original;	/* embedded original message */
	bool too_many;
	bool delay_notice;		/* heur.c: a text notice of a delay */
};

struct bav_result *bav_msg_add(struct bav_msg *m);
/* Result for recipient addr, existing or new. */
struct bav_result *bav_msg_rcpt(struct bav_msg *m, const char *addr);

/* status.c */
bool bav_status_valid(const char *s);
bool bav_status_find(const char *text, size_t len, char out[16]);
int bav_replycode_find(const char *text, size_t len);
/* the first code given with an SMTP reply code, else the first one */
bool bav_status_find_best(const char *text, size_t len, char out[16]);
/* the same, class 4 and 5 only */
bool bav_status_find_failure(const char *text, size_t len, char out[16]);
int bav_replycode_find_failure(const char *text, size_t len);
const char *bav_status_pseudo(const char *reason, bool temporary);

/* dsn.c: parse the delivery-status part into results; returns the number
   of recipient groups found. */
int bav_dsn_parse(struct bav_msg *m, struct bav_part *dsn);
/* arf.c: feedback report; true when the message is one. */
bool bav_arf_detect(struct bav_msg *m);
/* ses.c: Amazon SES JSON event notifications */
bool bav_ses_detect(struct bav_msg *m);
/* autoreply.c: RFC 3834 and vacation heuristics; rule id or NULL. */
const char *bav_autoreply_detect(struct bav_msg *m);
/* heur.c: does the message look like a non-standard bounce? */
bool bav_heur_is_bounce(struct bav_msg *m);
/* heur.c: recipients and diagnostics from the notice text */
void bav_heur_scan(struct bav_msg *m);
/* heur.c: the notice lines about rcpt (until another recipient is named) */
const char *bav_heur_context(struct bav_msg *m, const char *rcpt);
/* heur.c: after the reason: a text notice's pseudo status becomes
   class 4 when the text says the failure stayed temporary */
void bav_heur_temporary(struct bav_msg *m, struct bav_result *r);
/* reason.c: decide reason, hard and rule of one result */
void bav_reason_decide(struct bav_msg *m, struct bav_result *r);
/* ident.c */
void bav_ident_collect(struct bav_msg *m);



/* detail.c */
int bav_detail_builtin(int code);
int bav_detail_code(const char *status);
int bav_detail_with_rules(const struct bav_rules *rules, const char *rid,
			  const char *status, const char *text,
			  const struct bav_rule **rule_r);
#endif
