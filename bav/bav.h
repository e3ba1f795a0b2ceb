/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav.h - public interface of libbav, the bav classifier core
 * SYNOPSIS
 *	#include <bav.h>
 * DESCRIPTION
 *	libbav reads a returned message (bounce, delay notice, auto-reply,
 *	feedback report, unsubscribe request or human reply) and returns a
 *	verdict: the kind of the message, one result per affected recipient
 *	and the identity of the original mail. Every program of bav (milter,
 *	delivery agent, Dovecot plugin, the bav command) calls
 *	bav_classify(), so a message gets the same verdict everywhere.
 *
 *	Ownership: a verdict and everything reachable from it lives in the
 *	struct bav_pool passed to bav_classify(); bav_pool_free() releases
 *	it at once. A struct bav_rules is immutable after loading and may be
 *	shared by any number of threads.
 * DIAGNOSTICS
 *	Fallible functions return enum bav_err (0 ok, negative error class)
 *	and set *error_r to a message owned by the pool or by a static table.
 *	The library never exits and never prints.
 */
#ifndef BAV_H
#define BAV_H

#include <stddef.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(BAV_INTERNAL_NO_VISIBILITY)
#define BAV_EXPORT __attribute__((visibility("default")))
#else
#define BAV_EXPORT
#endif

#define BAV_VERSION_STRING "0.1.0"

/* Error classes: temporary (retry later), configuration, bad data. */
enum bav_err {
	BAV_OK = 0,
	BAV_ETEMP = -1,
	BAV_ECONFIG = -2,
	BAV_EDATA = -3,
};

/* ---- memory ------------------------------------------------------------ */

/* Called when an allocation fails; must not return (daemons log and
   _exit(75), the Dovecot plugin calls i_fatal). The default aborts. */
typedef void bav_oom_hook_t(size_t size);
BAV_EXPORT void bav_set_oom_hook(bav_oom_hook_t *hook);

/* Alloc-only arena. Everything allocated from it is zeroed and freed by
   bav_pool_free(), which also sets *pool to NULL. */
struct bav_pool;
BAV_EXPORT struct bav_pool *bav_pool_new(size_t initial_size);
BAV_EXPORT void bav_pool_free(struct bav_pool **pool);
BAV_EXPORT void *bav_pool_alloc(struct bav_pool *pool, size_t size);
BAV_EXPORT char *bav_pool_strdup(struct bav_pool *pool, const char *s);
BAV_EXPORT char *bav_pool_strndup(struct bav_pool *pool, const char *s,
				  size_t len);
BAV_EXPORT char *bav_pool_printf(struct bav_pool *pool, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- limits ------------------------------------------------------------ */

/* Hard limits of the parser. Exceeding one makes bav_classify() fail with
   BAV_EDATA and a message naming the limit; it never crashes or hangs. */
struct bav_limits {
	size_t max_message_size;	/* bytes, default 64 MiB */
	unsigned int max_depth;		/* MIME nesting, default 32 */
	unsigned int max_headers;	/* header fields per message, 10000 */
	size_t max_header_len;		/* one unfolded field, 256 KiB */
	unsigned int max_parts;		/* MIME parts, default 2000 */
	size_t max_part_keep;		/* decoded bytes kept per part, 4 MiB */
	unsigned int max_recipients;	/* results per message, 10000 */
};
BAV_EXPORT void bav_limits_default(struct bav_limits *limits_r);

/* ---- rules ------------------------------------------------------------- */

struct bav_rules;

/* Load rule files (legacy bav.rule or the extended format, see
   bav-rules(5)); files are read in order and later files extend earlier
   ones. With include_default the built-in default rules come first.
   On error returns BAV_ECONFIG and a "file:line: why" text in *error_r
   (malloc'ed, caller frees with free()). The result is immutable and
   thread-safe; free with bav_rules_free(). */
BAV_EXPORT int bav_rules_load(const char *const *paths, size_t npaths,
			      bool include_default,
			      struct bav_rules **rules_r, char **error_r);
/* Same, from a string (name is used in error messages). */
BAV_EXPORT int bav_rules_load_string(const char *name, const char *text,
				     bool include_default,
				     struct bav_rules **rules_r,
				     char **error_r);
BAV_EXPORT void bav_rules_free(struct bav_rules **rules);
/* Lint files: every problem is reported through cb as "file:line: why";
   returns the number of problems (0 = clean), or -1 if a file can't be
   read (also reported). */
typedef void bav_rules_report_t(void *ctx, const char *msg);
BAV_EXPORT int bav_rules_check(const char *path, bav_rules_report_t *cb,
			       void *ctx);
/* How often a pattern of rules hit a PCRE2 match, depth or heap limit
   (counted as no match) since loading; *rule_r (may be NULL) gets the
   id "file:line" of the last such rule (rules-owned) or NULL. */
BAV_EXPORT unsigned long bav_rules_limit_hits(const struct bav_rules *rules,
					       const char **rule_r);

/* ---- the verdict ------------------------------------------------------- */

enum bav_kind {
	BAV_KIND_REPLY = 0,
	BAV_KIND_BOUNCE,
	BAV_KIND_DELAY,
	BAV_KIND_AUTOREPLY,
	BAV_KIND_FEEDBACK,
	BAV_KIND_UNSUBSCRIBE,
	BAV_KIND_SYSTEMMAIL,
	BAV_KIND_DELIVERED,
};
BAV_EXPORT const char *bav_kind_name(enum bav_kind kind);

/* One affected recipient. All strings are NUL-terminated, pool-owned,
   and "" (never NULL) when unknown. */
struct bav_result {
	const char *recipient;	/* final (else original) recipient */
	const char *orig_recipient;
	const char *action;	/* failed, delayed, delivered, relayed, expanded */
	const char *status;	/* d.d.d enhanced status code */
	int replycode;		/* SMTP reply code, 0 when unknown */
	const char *diagnostic;	/* unfolded remote text */
	const char *remote_mta;
	const char *reason;	/* Sisimai reason name */
	bool hard;		/* permanent, address-level */
	int detail;		/* OpenEMM detail code */
	const char *rule;	/* deciding rule: "file:line" or "builtin:step" */
	const char *feedback_type; /* ARF feedback type */
};

/* OpenEMM agnUID as found in the message (see bav_agnuid_parse). */
struct bav_agnuid {
	const char *text;	/* the token as found */
	const char *prefix;	/* "" when absent */
	int version;		/* 2..5 */
	long long licence_id, company_id, mailing_id, customer_id, url_id;
	long long send_date;	/* v5 _s, else 0 */
	long long bit_options;
	bool bcc;		/* Message-ID carried the V...- BCC marker */
	bool signature_checked;	/* a key was configured */
	bool signature_ok;
};

struct bav_identity {
	const char *message_id;		/* of the original mail */
	const char *envelope_sender;	/* original envelope sender */
	const char *envelope_recipient;	/* original envelope recipient */
	const char *envelope_id;	/* DSN Original-Envelope-Id */
	const char *subject;		/* of the original mail */
	const char *verp;		/* signed VERP/BATV return path found */
	struct bav_agnuid *agnuids;	/* every valid token found */
	unsigned int agnuid_count;
	struct bav_agnuid *origin;	/* most frequent token, or NULL */
	/* headers of the returned original, as configured */
	const char **extra_names, **extra_values;
	unsigned int extra_count;
};

struct bav_verdict {
	enum bav_kind kind;
	const char *rule;		/* rule that decided the kind */
	const char *mark;		/* {action} mark of a filter rule, or "" */
	const char *unsubscribe_uid;	/* Subject unsubscribe:<uid>, or "" */
	const char *from;		/* From: address of the message */
	const char *subject;		/* decoded Subject of the message */
	const char *reporting_mta;
	struct bav_result *results;
	unsigned int result_count;
	struct bav_identity ident;
};

/* Options for one classification; zero-initialised means defaults. */
struct bav_classify_opts {
	const struct bav_rules *rules;	/* NULL: the built-in defaults */
	const struct bav_limits *limits;	/* NULL: bav_limits_default() */
	const char *rid;		/* filter (rid) for per-filter rules */
	/* header names of the returned original to report in the identity */
	const char *const *ident_headers;
	unsigned int ident_header_count;
	/* agnUID signature key; NULL: tokens are parsed but not verified */
	const char *agnuid_secret;
	long long agnuid_licence;	/* 0: any licence */
};

/* Classify one complete message of len bytes (any line endings, may
   contain NUL bytes). The verdict is allocated from pool. Returns
   BAV_OK, or BAV_EDATA (limit exceeded, not a message) with *error_r. */
BAV_EXPORT int bav_classify(const unsigned char *msg, size_t len,
			    const struct bav_classify_opts *opts,
			    struct bav_pool *pool,
			    struct bav_verdict **verdict_r,
			    const char **error_r);

/* Derived values, exported for the store and tests. */
/* OpenEMM detail code for a status (spec 5.11.3 + install-time rules). */
BAV_EXPORT int bav_detail_for_status(const char *status, const char *text);
/* Whether a reason with a status is a hard (permanent, address) failure. */
BAV_EXPORT bool bav_reason_is_hard(const char *reason, const char *status);

#ifdef __cplusplus
}
#endif
#endif
