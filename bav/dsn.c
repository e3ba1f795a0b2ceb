/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	dsn - RFC 3464 / RFC 6533 delivery-status parser
 * SYNOPSIS
 *	int bav_dsn_parse(struct bav_msg *m, struct bav_part *dsn)
 * DESCRIPTION
 *	Splits the content of a message/delivery-status (or
 *	message/global-delivery-status) part into field groups: the
 *	per-message group (Reporting-MTA, Original-Envelope-Id, ...) and one
 *	group per recipient (Final-Recipient, Original-Recipient, Action,
 *	Status, Remote-MTA, Diagnostic-Code). Tolerates a missing
 *	per-message group, missing blank lines between groups, blank lines
 *	before the first one, continuation lines without indentation, and
 *	typed values without their "type;" part. The status is the Status
 *	field, replaced by the diagnostic's code when that is more specific
 *	(the one given with the remote reply code first), and for an x.4.7
 *	give-up by the last attempt's code when the diagnostic or notice
 *	names one. A Diagnostic-Code of type x-unix (a local program such
 *	as a pipe or an LDA answered) marks the result's rule
 *	"builtin:x-unix", which reason.c turns into "mailererror" when no
 *	rule explains the text. Each recipient group becomes a
 *	result of m; all strings are allocated from m's pool.
 * DIAGNOSTICS
 *	Returns the number of recipient groups found (0: not usable).
 * SEE ALSO
 *	RFC 3464, RFC 3463, RFC 6533
 */
#include "classify_private.h"

#include <ctype.h>
#include <strings.h>

/* Value of a typed field "type; value" without the type. */
static const char *untyped(const char *v)
{
	const char *semi = strchr(v, ';');

	if (semi != NULL) {
		const char *p;

		for (p = v; p < semi; p++)
			if (!(isalnum((unsigned char)*p) || *p == '-' ||
			      *p == ' ' || *p == '.'))
				return v;
		v = semi + 1;
		while (*v == ' ' || *v == '\t')
			v++;
	}
	return v;
}

static bool is_rcpt_block(const struct bav_part *b)
{
	return bav_part_header(b, "Final-Recipient") != NULL ||
	       bav_part_header(b, "Original-Recipient") != NULL ||
	       bav_part_header(b, "X-Actual-Recipient") != NULL;
}

static void per_message(struct bav_msg *m, const struct bav_part *b)
{
	const char *v = bav_part_header(b, "Reporting-MTA");
	const char *envid = bav_part_header(b, "Original-Envelope-Id");

	if (v != NULL && *m->v->reporting_mta == '\0')
		m->v->reporting_mta = bav_pool_strdup(m->pool, untyped(v));
	if (envid != NULL && *m->v->ident.envelope_id == '\0')
		m->v->ident.envelope_id = bav_pool_strdup(m->pool, envid);
}

/* First class 4/5 code of text other than not. */
static bool other_code(const char *text, const char *not, char out[16])
{
	const char *p = text, *end = text + strlen(text);

	while (p < end && bav_status_find_failure(p, (size_t)(end - p), out)) {
		const char *at = strstr(p, out);

		if (strcmp(out, not) != 0 && strcmp(out + 1, ".4.7") != 0)
			return true;
		if (at == NULL)
			break;
		p = at + strlen(out);
	}
	return false;
}

static void per_recipient(struct bav_msg *m, const struct bav_part *b)
{
	const char *fr = bav_part_header(b, "Final-Recipient");
	const char *orcpt = bav_part_header(b, "Original-Recipient");
	const char *actual = bav_part_header(b, "X-Actual-Recipient");
	const char *action = bav_part_header(b, "Action");
	const char *status = bav_part_header(b, "Status");
	const char *rmta = bav_part_header(b, "Remote-MTA");
	const char *diag = bav_part_header(b, "Diagnostic-Code");
	struct bav_result *r;
	char *addr = NULL, st[16];

	if (fr != NULL)
		addr = bav_addr_extract(m->pool, untyped(fr));
	if ((addr == NULL || *addr == '\0') && actual != NULL)
		addr = bav_addr_extract(m->pool, untyped(actual));
	if ((addr == NULL || *addr == '\0') && orcpt != NULL)
		addr = bav_addr_extract(m->pool, untyped(orcpt));
	if (addr == NULL)
		addr = bav_pool_strdup(m->pool, "");
	r = bav_msg_add(m);
	if (r == NULL)
		return;
	r->recipient = addr;
	if (orcpt != NULL)
		r->orig_recipient = bav_addr_extract(m->pool, untyped(orcpt));
	if (action != NULL) {
		char *a = bav_pool_strndup(m->pool, action,
					   strcspn(action, " \t;("));

		r->action = bav_str_lower(a);
	}
	if (rmta != NULL)
		r->remote_mta = bav_pool_strdup(m->pool, untyped(rmta));
	if (diag != NULL) {
		const char *d = untyped(diag);

		r->diagnostic = bav_str_squeeze(m->pool, d, strlen(d));
		/* RFC 3464 diagnostic type x-unix: a local program (pipe,
		   LDA) answered; reason.c falls back to "mailererror" */
		if (strncasecmp(diag, "x-unix", 6) == 0 && d != diag)
			r->rule = "builtin:x-unix";
	}
	if (status != NULL) {
		size_t n = strcspn(status, " \t(;");
		char *s = bav_pool_strndup(m->pool, status, n);

		if (bav_status_valid(s))
			r->status = s;
		else if (bav_status_find(status, strlen(status), st))
			r->status = bav_pool_strdup(m->pool, st);
	}
	/* a more specific code in the diagnostic wins over x.0.0 */
	if (*r->diagnostic != '\0' &&
	    bav_status_find_best(r->diagnostic, strlen(r->diagnostic), st)) {
		size_t sl = strlen(r->status);

		if (*r->status == '\0' ||
		    (sl >= 5 && st[0] == r->status[0] &&
		     strcmp(st + 1, ".0.0") != 0))
			r->status = bav_pool_strdup(m->pool, st);
	}
	r->replycode = bav_replycode_find(r->diagnostic, strlen(r->diagnostic));
	/* x.4.7, the queue time ran out: the code of the last attempt, when
	   the diagnostic or the notice names it, says more */
	if (strlen(r->status) == 5 && strcmp(r->status + 1, ".4.7") == 0) {
		const char *ctx;

		if (other_code(r->diagnostic, r->status, st) ||
		    ((ctx = bav_heur_context(m, r->recipient)) != NULL &&
		     other_code(ctx, r->status, st)))
			r->status = bav_pool_strdup(m->pool, st);
	}
}

/* Does the line start with a field name and a colon? */
static bool field_line(const char *s, const char *le)
{
	const char *p = s;

	while (p < le && (isalnum((unsigned char)*p) || *p == '-'))
		p++;
	return p > s && p < le && *p == ':';
}

/* The group with continuation lines that lost their leading blank
   (a Diagnostic-Code folded without indentation, as MessageLabs does)
   indented again, so that they stay part of their field. */
static const char *unfold_bare(struct bav_pool *pool, const char *s,
			       size_t len, size_t *len_r)
{
	const char *p = s, *end = s + len;
	struct bav_buf b = { 0 };
	bool changed = false;
	char *out;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl == NULL ? end : nl + 1;

		if (p > s && *p != ' ' && *p != '\t' && *p != '\n' &&
		    *p != '\r' && !field_line(p, le)) {
			bav_buf_putc(&b, ' ');
			changed = true;
		}
		bav_buf_append(&b, p, (size_t)(le - p));
		p = le;
	}
	if (!changed) {
		bav_buf_free(&b);
		*len_r = len;
		return s;
	}
	out = bav_pool_strndup(pool, b.data, b.len);
	*len_r = b.len;
	bav_buf_free(&b);
	return out;
}

int bav_dsn_parse(struct bav_msg *m, struct bav_part *dsn)
{
	const char *s = dsn->body, *end;
	int groups = 0;

	if (s == NULL)
		return 0;
	end = s + dsn->body_len;
	while (s < end) {
		const char *bend, *e;
		struct bav_part *b;
		const char *error;

		/* skip blank lines (also before the first group) */
		while (s < end) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			const char *p;

			for (p = s; p < end && (*p == ' ' || *p == '\t' ||
						*p == '\r'); p++)
				;
			if (p < end && *p != '\n')
				break;
			s = nl == NULL ? end : nl + 1;
		}
		if (s >= end)
			break;
		bend = s;

		/* a group ends at a line holding only white space */
		for (;;) {
			const char *nl = memchr(bend, '\n', (size_t)(end - bend));
			const char *next = nl == NULL ? end : nl + 1;

			for (e = next; e < end && (*e == ' ' || *e == '\t' ||
						   *e == '\r'); e++)
				;
			if (nl == NULL) {
				bend = end;
				break;
			}
			bend = next;
			if (e == end || *e == '\n') {
				/* blank line follows: group ends */
				break;
			}
		}
		b = bav_pool_alloc(m->pool, sizeof(*b));
		{
			size_t gl;
			const char *g = unfold_bare(m->pool, s,
						    (size_t)(bend - s), &gl);

			if (bav_mime_parse_headers(m->pool, m->limits, g, gl,
						   b, &error) < 0)
				return groups;
		}
		if (is_rcpt_block(b)) {
			per_recipient(m, b);
			groups++;
		} else {
			per_message(m, b);
		}
		s = bend;
	}
	return groups;
}
