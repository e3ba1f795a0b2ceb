/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	classify - the one classifier entry point of bav
 * SYNOPSIS
 *	int bav_classify(msg, len, opts, pool, &verdict, &error)
 * DESCRIPTION
 *	Parses the message (mime.c; a multipart whose declared boundary
 *	never occurs is parsed again with the delimiter its body uses) and
 *	finds the notice text and the delivery-status part (also one
 *	written inline into the text). It decides the kind in this order:
 *	feedback report (arf.c); delivery-status part (dsn.c: bounce, delay
 *	or delivered by the recipients' actions); unsubscribe request
 *	(Subject unsubscribe:<uid>); non-standard bounce (heur.c); RFC 3834
 *	auto-reply (autoreply.c) or a {mark}ed [filter] rule; a [systemmail]
 *	rule; otherwise a reply from a person. Each result then gets its
 *	reason, status, hard flag and detail (reason.c), and the verdict
 *	the identity of the original mail (ident.c).
 *
 *	The verdict and all its strings are allocated from the caller's
 *	pool. Reentrant: no state outside the arguments.
 * DIAGNOSTICS
 *	BAV_OK; BAV_EDATA with *error_r (static text) when the message
 *	exceeds a parser limit. Never exits.
 */
#include "classify_private.h"

#include <strings.h>

static const char *const kind_names[] = {
	[BAV_KIND_REPLY] = "reply",
	[BAV_KIND_BOUNCE] = "bounce",
	[BAV_KIND_DELAY] = "delay",
	[BAV_KIND_AUTOREPLY] = "autoreply",
	[BAV_KIND_FEEDBACK] = "feedback",
	[BAV_KIND_UNSUBSCRIBE] = "unsubscribe",
	[BAV_KIND_SYSTEMMAIL] = "systemmail",
	[BAV_KIND_DELIVERED] = "delivered",
};

const char *bav_kind_name(enum bav_kind kind)
{
	if ((unsigned int)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
		return "unknown";
	return kind_names[kind];
}

struct bav_result *bav_msg_add(struct bav_msg *m)
{
	struct bav_result *r;

	if (m->nres >= m->limits->max_recipients) {
		m->too_many = true;
		return NULL;
	}
	if (m->nres == m->ares) {
		unsigned int n = m->ares == 0 ? 4 : m->ares * 2;
		struct bav_result *nr = bav_pool_alloc(m->pool, n * sizeof(*nr));

		if (m->nres > 0)
			memcpy(nr, m->res, m->nres * sizeof(*nr));
		m->res = nr;
		m->ares = n;
	}
	r = &m->res[m->nres++];
	r->recipient = r->orig_recipient = r->action = r->status = "";
	r->diagnostic = r->remote_mta = r->reason = r->rule = "";
	r->feedback_type = "";
	return r;
}

struct bav_result *bav_msg_rcpt(struct bav_msg *m, const char *addr)
{
	unsigned int i;
	struct bav_result *r;

	for (i = 0; i < m->nres; i++)
		if (strcasecmp(m->res[i].recipient, addr) == 0)
			return &m->res[i];
	r = bav_msg_add(m);
	if (r != NULL)
		r->recipient = addr;
	return r;
}

static const char *const original_markers[] = {
	"below this line is a copy of the message",
	"this is a copy of the message",
	"message headers follow",
	"original message follows",
	"----- original message",
	"-----original message",
	"original message headers",
	"unsent message follows",
	"header of the original message",
	"headers of the original message",
	"the original message was:",
	"--- original message",
	"-------- original message",
	"included is a copy of the message",
	"returned message follows",
	"message text follows",
	"copy of the original message",
	"--- the header of the original",
	"original message text follows",
	"------- returned message",
};

/* Length of the notice before a quoted copy of the original. */
static size_t cut_original(const char *text, size_t len)
{
	const char *s = text, *end = text + len;
	struct bav_multi markers;

	bav_multi_init(&markers, original_markers,
		       sizeof(original_markers) / sizeof(original_markers[0]));
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t ll = (size_t)((nl == NULL ? end : nl) - s);

		if (ll < 200 && bav_multi_first(&markers, s, ll) >= 0)
			return (size_t)(s - text);
		if (s > text && (strncmp(s, "Received: ", 10) == 0 ||
				 strncmp(s, "Return-Path: ", 13) == 0 ||
				 strncmp(s, "Return-path: ", 13) == 0))
			return (size_t)(s - text);
		s = nl == NULL ? end : nl + 1;
	}
	return len;
}

static bool inside_message(const struct bav_part *p)
{
	for (p = p->parent; p != NULL; p = p->parent)
		if (p->is_message)
			return true;
	return false;
}

/* A delivery-status block written inline into a text ("Reporting-MTA:
   ...", "Final-Recipient: ...", "Status: ..." at line starts): WorkMail
   and some Sendmail and gateway versions do so. A part holding the
   block from its first field to the end of the text, or NULL. */
static struct bav_part *inline_dsn(struct bav_msg *m, const char *text,
				   size_t len)
{
	const char *fr = text, *end = text + len, *start, *rm;
	struct bav_part *p;

	for (;;) {
		fr = bav_memcasemem(fr, (size_t)(end - fr), "final-recipient:");
		if (fr == NULL)
			return NULL;
		if (fr == text || fr[-1] == '\n')
			break;
		fr++;
	}
	if (bav_memcasemem(fr, (size_t)(end - fr), "\nstatus:") == NULL &&
	    bav_memcasemem(fr, (size_t)(end - fr), "\naction:") == NULL)
		return NULL;
	start = fr;
	rm = bav_memcasemem(text, (size_t)(fr - text), "reporting-mta:");
	if (rm != NULL && (rm == text || rm[-1] == '\n'))
		start = rm;
	p = bav_pool_alloc(m->pool, sizeof(*p));
	p->ctype = bav_pool_strdup(m->pool, "message/delivery-status");
	p->body = bav_pool_strndup(m->pool, start, (size_t)(end - start));
	p->body_len = (size_t)(end - start);
	return p;
}

static void find_parts(struct bav_msg *m, const char *raw_body,
		       size_t raw_len)
{
	struct bav_part *p, *html = NULL, *text = NULL;

	for (p = m->root; p != NULL; p = bav_part_next(m->root, p)) {
		if (m->dsn_part == NULL &&
		    (strcmp(p->ctype, "message/delivery-status") == 0 ||
		     strcmp(p->ctype, "message/global-delivery-status") == 0))
			m->dsn_part = p;
		if (m->original == NULL && p->parent != NULL &&
		    p->parent->is_message && p->parent != m->root)
			m->original = p;
		if (inside_message(p) || p->body == NULL)
			continue;
		if (text == NULL && strcmp(p->ctype, "text/plain") == 0)
			text = p;
		if (html == NULL && strcmp(p->ctype, "text/html") == 0)
			html = p;
	}
	if (text != NULL && text->body_len > 0) {
		m->notice = text->body;
		m->notice_len = cut_original(text->body, text->body_len);
	} else if (html != NULL) {
		struct bav_buf b = { 0 };

		bav_html_to_text(&b, html->body, html->body_len);
		m->notice = bav_pool_strndup(m->pool, b.data != NULL ?
					     b.data : "", b.len);
		m->notice_len = cut_original(m->notice, b.len);
		bav_buf_free(&b);
	} else if (m->root->child == NULL &&
		   strncmp(m->root->ctype, "multipart/", 10) == 0 &&
		   raw_len > 0) {
		/* a multipart without a single delimiter: its text */
		m->notice = bav_pool_strndup(m->pool, raw_body, raw_len);
		m->notice_len = cut_original(m->notice, raw_len);
		if (m->dsn_part == NULL)
			m->dsn_part = inline_dsn(m, m->notice, raw_len);
	}
	/* only in what looks like a bounce: a person may forward one */
	if (m->dsn_part == NULL && text != NULL && text->body != NULL &&
	    bav_heur_is_bounce(m))
		m->dsn_part = inline_dsn(m, text->body, text->body_len);
}

static void top_headers(struct bav_msg *m)
{
	const char *v;

	v = bav_part_header(m->root, "Subject");
	m->subject = v != NULL ? bav_hdr_decode(m->pool, v) : "";
	v = bav_part_header(m->root, "From");
	m->from = v != NULL ? bav_addr_extract(m->pool, v) : "";
	v = bav_part_header(m->root, "To");
	m->to = v != NULL ? bav_addr_extract(m->pool, v) : "";
	m->v->subject = m->subject;
	m->v->from = m->from;
}

/* Header match of legacy sections: "Name: value" of the top level. */
static const struct bav_rule *header_match(struct bav_msg *m,
					   enum bav_rule_section sec)
{
	unsigned int i;

	for (i = 0; i < m->root->header_count; i++) {
		const struct bav_header *h = &m->root->headers[i];
		char *line = bav_pool_printf(m->pool, "%s: %s", h->name,
					     bav_hdr_decode(m->pool, h->value));
		size_t len = strlen(line);
		const struct bav_rule *r;

		if (len > 1024)
			len = 1024;
		r = bav_rules_match(m->rules, sec, m->opts->rid, line, len);
		if (r != NULL)
			return r;
	}
	return NULL;
}

static enum bav_kind kind_from_actions(struct bav_msg *m)
{
	unsigned int i, failed = 0, delayed = 0, delivered = 0;

	for (i = 0; i < m->nres; i++) {
		const char *a = m->res[i].action;

		if (strcmp(a, "delayed") == 0)
			delayed++;
		else if (strcmp(a, "delivered") == 0 ||
			 strcmp(a, "relayed") == 0 ||
			 strcmp(a, "expanded") == 0)
			delivered++;
		else
			failed++;
	}
	if (failed > 0)
		return BAV_KIND_BOUNCE;
	if (delayed > 0)
		return BAV_KIND_DELAY;
	return BAV_KIND_DELIVERED;
}

static void decide_kind(struct bav_msg *m)
{
	struct bav_verdict *v = m->v;
	const struct bav_rule *rule;
	const char *ar;
	char *uid;

	if (bav_arf_detect(m)) {
		v->kind = BAV_KIND_FEEDBACK;
		v->rule = "builtin:arf";
		return;
	}
	if (m->dsn_part != NULL && bav_dsn_parse(m, m->dsn_part) > 0) {
		v->kind = kind_from_actions(m);
		v->rule = "builtin:dsn";
		return;
	}
	if (bav_ses_detect(m))
		return;
	uid = bav_agnuid_unsubscribe(m->pool, m->subject);
	if (uid != NULL) {
		v->kind = BAV_KIND_UNSUBSCRIBE;
		v->unsubscribe_uid = uid;
		v->rule = "builtin:unsubscribe";
		return;
	}
	if (bav_heur_is_bounce(m)) {
		bav_heur_scan(m);
		v->kind = m->delay_notice ? BAV_KIND_DELAY : BAV_KIND_BOUNCE;
		v->rule = "builtin:heuristics";
		return;
	}
	ar = bav_autoreply_detect(m);
	rule = header_match(m, BAV_RULE_FILTER);
	if (ar != NULL || (rule != NULL && rule->mark != NULL)) {
		struct bav_result *r = bav_msg_add(m);

		v->kind = BAV_KIND_AUTOREPLY;
		v->rule = ar != NULL ? ar : rule->id;
		if (rule != NULL && rule->mark != NULL)
			v->mark = rule->mark;
		if (r != NULL) {
			r->recipient = m->from;
			r->reason = "vacation";
			r->rule = v->rule;
		}
		return;
	}
	if (rule != NULL) {
		v->rule = rule->id;
		v->mark = "filtered";
	}
	rule = header_match(m, BAV_RULE_SYSTEMMAIL);
	if (rule != NULL) {
		v->kind = BAV_KIND_SYSTEMMAIL;
		v->rule = rule->id;
		return;
	}
	v->kind = BAV_KIND_REPLY;
	if (*v->rule == '\0')
		v->rule = "builtin:reply";
}

/* Start of the body: after the first empty line (LF or CRLF). */
static size_t header_end(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (s[i] != '\n')
			continue;
		if (s[i + 1] == '\n')
			return i + 2;
		if (s[i + 1] == '\r' && i + 2 < len && s[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

/* The first "--X" line of body that is followed by a "Content-" header
   line: the delimiter the parts really use. Its length, 0 when none. */
static size_t body_delimiter(const char *body, size_t len, const char **b_r)
{
	const char *s = body, *end = body + len;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl == NULL ? end : nl;
		size_t ll = (size_t)(le - s);

		if (ll > 0 && le[-1] == '\r')
			ll--;
		if (nl != NULL && ll > 3 && ll < 200 && s[0] == '-' &&
		    s[1] == '-' && (size_t)(end - nl) > 8 &&
		    bav_str_begins_ci(nl + 1, "content-")) {
			*b_r = s + 2;
			return ll - 2;
		}
		s = nl == NULL ? end : nl + 1;
	}
	return 0;
}

/* A multipart whose declared boundary never occurs while the body is
   clearly cut into parts by another one (a gateway rewrote one of
   them): a copy of the message with the header's boundary replaced by
   the one the body uses, or NULL. */
static char *recover_boundary(struct bav_pool *pool, const struct bav_part *root,
			      const unsigned char *msg, size_t len,
			      size_t *len_r)
{
	const char *s = (const char *)msg, *bp, *val, *vend, *nb;
	size_t hl, nbl;
	struct bav_buf b = { 0 };
	char *out;

	if (root->boundary == NULL || root->child != NULL ||
	    strncmp(root->ctype, "multipart/", 10) != 0)
		return NULL;
	hl = header_end(s, len);
	nbl = body_delimiter(s + hl, len - hl, &nb);
	if (nbl == 0)
		return NULL;
	bp = bav_memcasemem(s, hl, "boundary=");
	if (bp == NULL)
		return NULL;
	val = bp + 9;
	if (*val == '"') {
		val++;
		vend = memchr(val, '"', (size_t)(s + hl - val));
	} else {
		for (vend = val; vend < s + hl && *vend != ';' &&
				 *vend != ' ' && *vend != '\t' &&
				 *vend != '\r' && *vend != '\n'; vend++)
			;
	}
	if (vend == NULL)
		return NULL;
	bav_buf_append(&b, s, (size_t)(val - s));
	bav_buf_append(&b, nb, nbl);
	bav_buf_append(&b, vend, len - (size_t)(vend - s));
	*len_r = b.len;
	out = bav_pool_strndup(pool, b.data, b.len);
	bav_buf_free(&b);
	return out;
}

static struct bav_part *parse(struct bav_pool *pool,
			      const struct bav_limits *limits,
			      const unsigned char *msg, size_t len,
			      const char **error_r)
{
	struct bav_mime_parser *parser = bav_mime_parser_new(pool, limits);

	if (bav_mime_parser_push(parser, msg, len, error_r) < 0) {
		bav_mime_parser_finish(&parser, error_r);
		return NULL;
	}
	return bav_mime_parser_finish(&parser, error_r);
}

int bav_classify(const unsigned char *msg, size_t len,
		 const struct bav_classify_opts *opts, struct bav_pool *pool,
		 struct bav_verdict **verdict_r, const char **error_r)
{
	static const struct bav_classify_opts no_opts;
	struct bav_limits limits;
	struct bav_msg m;
	char *fixed;
	size_t fixed_len;
	struct bav_verdict *v;
	unsigned int i;

	if (opts == NULL)
		opts = &no_opts;
	if (opts->limits != NULL)
		limits = *opts->limits;
	else
		bav_limits_default(&limits);
	memset(&m, 0, sizeof(m));
	m.pool = pool;
	m.opts = opts;
	m.limits = &limits;
	m.rules = opts->rules != NULL ? opts->rules : bav_rules_default();
	if (m.rules == NULL) {
		*error_r = "built-in rules failed to load";
		return BAV_ECONFIG;
	}
	if (len > limits.max_message_size) {
		*error_r = "message size limit exceeded";
		return BAV_EDATA;
	}
	m.root = parse(pool, &limits, msg, len, error_r);
	if (m.root == NULL)
		return BAV_EDATA;
	fixed = recover_boundary(pool, m.root, msg, len, &fixed_len);
	if (fixed != NULL) {
		struct bav_part *root = parse(pool, &limits,
					      (const unsigned char *)fixed,
					      fixed_len, error_r);

		if (root != NULL && root->child != NULL)
			m.root = root;
	}

	v = bav_pool_alloc(pool, sizeof(*v));
	v->rule = v->mark = v->unsubscribe_uid = v->reporting_mta = "";
	v->ident.message_id = v->ident.envelope_sender = "";
	v->ident.envelope_recipient = v->ident.envelope_id = "";
	v->ident.subject = v->ident.verp = "";
	m.v = v;
	m.notice = "";
	top_headers(&m);
	{
		size_t hl = header_end((const char *)msg, len);

		find_parts(&m, (const char *)msg + hl, len - hl);
	}
	decide_kind(&m);
	for (i = 0; i < m.nres; i++) {
		bav_reason_decide(&m, &m.res[i]);
		if (strcmp(v->rule, "builtin:heuristics") == 0)
			bav_heur_temporary(&m, &m.res[i]);
	}
	if (m.too_many) {
		*error_r = "recipient count limit exceeded";
		return BAV_EDATA;
	}
	v->results = m.res;
	v->result_count = m.nres;
	bav_ident_collect(&m);
	*verdict_r = v;
	return BAV_OK;
}
