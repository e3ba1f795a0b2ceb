/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	arf - RFC 5965 feedback reports and common non-standard complaints
 * SYNOPSIS
 *	bool bav_arf_detect(struct bav_msg *m)
 * DESCRIPTION
 *	Recognises an Abuse Reporting Format report (multipart/report with
 *	report-type=feedback-report, or any message/feedback-report part)
 *	the Microsoft JMRP style complaint (an attached original with
 *	X-HmXmrOriginalRecipient) and Apple Mail's unsubscribe mail
 *	(X-Apple-Unsubscribe: true; feedback type opt-out, the sender is
 *	the recipient who opts out). Adds one result per complained-about
 *	recipient (Original-Rcpt-To, Removal-Recipient, else the To: of the
 *	returned original) with reason "feedback" and the feedback type.
 * DIAGNOSTICS
 *	Returns true when the message is a feedback report.
 * SEE ALSO
 *	RFC 5965, RFC 6591, RFC 6650
 */
#include "classify_private.h"

#include <strings.h>

static void add_feedback(struct bav_msg *m, const char *addr, const char *type,
			 const char *rule)
{
	struct bav_result *r;
	unsigned int i;

	for (i = 0; i < m->nres; i++)
		if (strcmp(m->res[i].recipient, addr) == 0)
			return;
	r = bav_msg_add(m);
	if (r == NULL)
		return;
	r->recipient = addr;
	r->reason = "feedback";
	r->feedback_type = type;
	r->rule = rule;
	r->action = "";
}

static const char *original_to(struct bav_msg *m)
{
	struct bav_part *p;

	for (p = m->root; p != NULL; p = bav_part_next(m->root, p)) {
		const char *to;

		if (p->parent == NULL || !p->parent->is_message)
			continue;
		to = bav_part_header(p, "To");
		if (to != NULL) {
			char *a = bav_addr_extract(m->pool, to);

			if (bav_addr_valid(a))
				return a;
		}
	}
	return NULL;
}

static bool arf_report(struct bav_msg *m, struct bav_part *fr)
{
	struct bav_part *fields = bav_pool_alloc(m->pool, sizeof(*fields));
	const char *error, *type;
	char *t;
	unsigned int i, before = m->nres;

	if (fr->body == NULL ||
	    bav_mime_parse_headers(m->pool, m->limits, fr->body, fr->body_len,
				   fields, &error) < 0)
		return false;
	type = bav_part_header(fields, "Feedback-Type");
	t = bav_str_lower(bav_str_trim(bav_pool_strdup(
		m->pool, type != NULL ? type : "abuse")));
	for (i = 0; i < fields->header_count; i++) {
		const char *n = fields->headers[i].name;

		if (strcasecmp(n, "Original-Rcpt-To") == 0 ||
		    strcasecmp(n, "Removal-Recipient") == 0) {
			char *a = bav_addr_extract(m->pool,
						   fields->headers[i].value);

			if (*a != '\0')
				add_feedback(m, a, t, "builtin:arf");
		}
	}
	if (m->nres == before) {
		const char *a = original_to(m);

		add_feedback(m, a != NULL ? a : "", t, "builtin:arf");
	}
	return true;
}

bool bav_arf_detect(struct bav_msg *m)
{
	struct bav_part *p;

	for (p = m->root; p != NULL; p = bav_part_next(m->root, p)) {
		if (strcmp(p->ctype, "message/feedback-report") == 0)
			return arf_report(m, p);
	}
	/* Microsoft JMRP: original attached with X-HmXmrOriginalRecipient */
	for (p = m->root; p != NULL; p = bav_part_next(m->root, p)) {
		const char *v;

		if (p->parent == NULL || !p->parent->is_message)
			continue;
		v = bav_part_header(p, "X-HmXmrOriginalRecipient");
		if (v != NULL) {
			char *a = bav_addr_extract(m->pool, v);

			add_feedback(m, a, "abuse", "builtin:jmrp");
			return true;
		}
	}
	/* Apple Mail's one-click unsubscribe: a mail from the recipient
	   that carries X-Apple-Unsubscribe: true, an opt-out request */
	{
		const char *v = bav_part_header(m->root, "X-Apple-Unsubscribe");

		if (v != NULL && strncasecmp(bav_str_trim(bav_pool_strdup(
						     m->pool, v)), "true", 4) == 0 &&
		    *m->from != '\0') {
			add_feedback(m, m->from, "opt-out",
				     "builtin:apple-unsubscribe");
			return true;
		}
	}
	return false;
}
