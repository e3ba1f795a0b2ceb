/* SPDX-License-Identifier: MIT */
/*
 * bav_private.h - declarations shared by the modules of libbav; not
 * installed. Everything here has hidden visibility: only bav.h is the
 * library's interface.
 */
#ifndef BAV_PRIVATE_H
#define BAV_PRIVATE_H

#include "bav.h"

#include <stdint.h>
#include <string.h>

/* ---- mem (pool.c) ---- */
void *bav_xcalloc(size_t n, size_t size);
void *bav_xrealloc(void *p, size_t size);
char *bav_xstrdup(const char *s);

/* ---- growable byte buffer (buf.c); heap-owned, always NUL-terminated ---- */
struct bav_buf {
	char *data;
	size_t len, cap;
};
void bav_buf_append(struct bav_buf *b, const void *data, size_t len);
void bav_buf_putc(struct bav_buf *b, char c);
void bav_buf_printf(struct bav_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void bav_buf_reset(struct bav_buf *b);
void bav_buf_free(struct bav_buf *b);
/* Take the contents out as a malloc'ed string; the buffer is left empty. */
char *bav_buf_steal(struct bav_buf *b);

/* ---- strings (str.c) ---- */
/* ASCII case-insensitive search of needle in hay[0..len). */
const char *bav_memcasemem(const char *hay, size_t len, const char *needle);
const char *bav_strcasestr(const char *hay, const char *needle);
/* Several needles (ASCII, case-insensitive) searched in one pass: init
   once (needles must outlive m), then bav_multi_first() gives the index
   of the first needle, in array order, found in hay[0..len), or -1. */
#define BAV_MULTI_MAX 64
#define BAV_MULTI_HEADS 16384
struct bav_multi {
	const char *const *needles;
	unsigned int n;
	bool fallback;		/* one needle at a time */
	uint16_t len[BAV_MULTI_MAX], hash[BAV_MULTI_MAX];
	uint64_t heads[BAV_MULTI_HEADS / 64];	/* first 3 bytes, hashed */
};
void bav_multi_init(struct bav_multi *m, const char *const *needles,
		    unsigned int n);
int bav_multi_first(const struct bav_multi *m, const char *hay, size_t len);
bool bav_str_begins_ci(const char *s, const char *prefix);
/* Lower-case ASCII in place; returns s. */
char *bav_str_lower(char *s);
/* Trim ASCII white space in place; returns the start within s. */
char *bav_str_trim(char *s);
/* Collapse runs of white space (incl. CR/LF/TAB) into one space, trim. */
char *bav_str_squeeze(struct bav_pool *pool, const char *s, size_t len);
/* Copy of s with control characters replaced, at most max bytes. */
char *bav_str_sanitize(struct bav_pool *pool, const char *s, size_t max);
/* Extract the first addr-spec (inside <> if present) of s, lower-cased
   domain, or "" when none. */
char *bav_addr_extract(struct bav_pool *pool, const char *s);
/* Is s a plausible addr-spec local@domain.tld? */
bool bav_addr_valid(const char *s);

/* ---- header fields ---- */
struct bav_header {
	char *name;	/* as written */
	char *value;	/* unfolded, leading white space removed, raw bytes */
};

/* ---- MIME tree (mime.c) ---- */
struct bav_part {
	struct bav_part *parent, *next, *child, *last_child;
	unsigned int depth;
	struct bav_header *headers;
	unsigned int header_count, header_alloc;
	char *ctype;		/* lower-case "type/subtype", defaulted */
	char *charset;		/* lower-case, or NULL */
	char *boundary;		/* multipart boundary, or NULL */
	char *report_type;	/* multipart/report report-type, or NULL */
	char *cte;		/* lower-case transfer encoding, or NULL */
	/* Decoded content (transfer encoding removed) of leaf parts the
	   classifier reads (text, delivery-status, feedback-report, rfc822
	   headers); NUL-terminated, at most limits->max_part_keep bytes. */
	char *body;
	size_t body_len;
	bool body_truncated;
	/* message/rfc822, message/global, text/rfc822-headers and
	   message/global-headers: child is the embedded message */
	bool is_message;
	bool headers_only;	/* embedded header block without body */
	bool closed;		/* multipart whose closing boundary was seen */
};

struct bav_mime_parser;
struct bav_mime_parser *bav_mime_parser_new(struct bav_pool *pool,
					    const struct bav_limits *limits);
/* Feed bytes; may be called with any chunking. Returns 0, or BAV_EDATA
   with *error_r (pool-owned or static) once a limit is exceeded; later
   calls then keep failing. */
int bav_mime_parser_push(struct bav_mime_parser *p, const unsigned char *data,
			 size_t len, const char **error_r);
/* Finish; returns the root part (pool-owned) or NULL + *error_r. The
   parser itself is freed. */
struct bav_part *bav_mime_parser_finish(struct bav_mime_parser **p,
					const char **error_r);
/* Parse a bare header block (DSN field groups, rfc822-headers content):
   fills part->headers. */
int bav_mime_parse_headers(struct bav_pool *pool,
			   const struct bav_limits *limits, const char *text,
			   size_t len, struct bav_part *part,
			   const char **error_r);

/* First header of a part by name (case-insensitive), or NULL. */
const char *bav_part_header(const struct bav_part *part, const char *name);
/* Depth-first iteration: next part after p within root, or NULL. */
struct bav_part *bav_part_next(struct bav_part *root, struct bav_part *p);
/* Header value decoded (RFC 2047 words → UTF-8), unfolded; pool-owned. */
char *bav_hdr_decode(struct bav_pool *pool, const char *value);
/* Value of a parameter (e.g. "boundary") in a structured header value. */
char *bav_hdr_param(struct bav_pool *pool, const char *value,
		    const char *param);
/* Decoders; output appended to out. */
void bav_decode_base64(struct bav_buf *out, const char *in, size_t len);
void bav_decode_qp(struct bav_buf *out, const char *in, size_t len);
/* Convert text in charset to UTF-8 (Latin-1 family and UTF-8 natively,
   others passed through). */
void bav_charset_to_utf8(struct bav_buf *out, const char *charset,
			 const char *in, size_t len);
/* Is text in charset already UTF-8 (NULL, "", UTF-8, US-ASCII)? */
bool bav_charset_is_utf8(const char *charset);
/* Strip HTML tags and decode common entities into plain text. */
void bav_html_to_text(struct bav_buf *out, const char *in, size_t len);


/* ---- rules (rules.c) ---- */
enum bav_rule_section {
	BAV_RULE_SYSTEMMAIL = 0,	/* header lines "Name: value" */
	BAV_RULE_FILTER,		/* header lines, {mark} prefix */
	BAV_RULE_HARD,			/* header and body lines */
	BAV_RULE_SOFT,			/* header and body lines */
	BAV_RULE_REASON,		/* diagnostic text -> reason (arg) */
	BAV_RULE_SECTION_COUNT
};

struct bav_rule {
	const char *id;		/* "file:line" */
	const char *mark;	/* {action} prefix, or NULL */
	const char *arg;	/* reason name for BAV_RULE_REASON */
	const char *rid;	/* per-filter rule, or NULL for all */
	const char *pattern;	/* source text */
};

/* First rule of section (for filter rid, NULL = global only; rid rules
   are tried before global ones) whose regex matches text[0..len).
   Returns NULL when none matches (a match-limit hit counts as no match).
   Thread-safe: match data is allocated per call. */
const struct bav_rule *bav_rules_match(const struct bav_rules *rules,
				       enum bav_rule_section section,
				       const char *rid, const char *text,
				       size_t len);
/* [status] table: reason for an enhanced status code, longest prefix
   first ("5.1.1" before "5.1"); NULL when none. */
const char *bav_rules_status_reason(const struct bav_rules *rules,
				    const char *rid, const char *status,
				    const struct bav_rule **rule_r);
/* [detail] table (OpenEMM bounce_translate_tbl semantics, spec 5.11.3):
   detail for a numeric code (511, 51, 5 tried in turn), rules with a
   pattern on text first; -1 when the table has no answer. */
int bav_rules_detail(const struct bav_rules *rules, const char *rid,
		     int code, const char *text, const struct bav_rule **rule_r);
/* Built-in default rule text (contrib/rules/default.rules, compiled in). */
extern const char bav_default_rules[];
/* The shared default rule set, loaded on first use (thread-safe). Returns
   NULL if the compiled-in rules fail to load (a build bug). */
const struct bav_rules *bav_rules_default(void);

/* ---- agnUID (agnuid.c) ---- */
/* Parse one agnUID token (without the V...- BCC prefix, see spec 5.4).
   With a secret, the signature is checked; tok_r fields are pool-owned.
   Returns 1 valid, 0 not an agnUID / bad signature / wrong licence. */
int bav_agnuid_parse(struct bav_pool *pool, const char *token,
		     const char *secret, long long licence,
		     struct bav_agnuid *tok_r);
/* Find agnUID tokens in a Message-ID/References/In-Reply-To value,
   a Subject (unsubscribe:<uid>) or text (links); calls cb for each
   candidate token string (NUL-terminated, volatile). */
typedef void bav_agnuid_found_t(void *ctx, const char *token, bool bcc);
void bav_agnuid_scan_msgid(const char *value, bav_agnuid_found_t *cb,
			   void *ctx);
void bav_agnuid_scan_text(const char *text, size_t len,
			  bav_agnuid_found_t *cb, void *ctx);
/* Subject "unsubscribe:<uid>": the uid (pool-owned) or NULL. */
char *bav_agnuid_unsubscribe(struct bav_pool *pool, const char *subject);
/* v2 only: undo the XOR of customer and url with the mailing's
   creation_date (ms since the epoch) and company, then check the
   signature when secret is set. Call once per token; 1 ok, 0 bad. */
int bav_agnuid_v2_resolve(struct bav_agnuid *tok, long long creation_ms,
			  long long company, const char *secret);

#endif
