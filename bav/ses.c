/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	ses - Amazon SES event notifications (bounce, complaint, delivery)
 * SYNOPSIS
 *	bool bav_ses_detect(struct bav_msg *m)
 * DESCRIPTION
 *	Amazon SES reports events as JSON, mailed directly or wrapped in an
 *	SNS "AWS Notification Message" (JSON inside a JSON string). The
 *	notice text is unescaped once and read for notificationType and the
 *	bouncedRecipients / complainedRecipients / delivery recipients with
 *	their action, status and diagnosticCode. A small scanner, not a JSON
 *	parser: unknown structure is ignored, never an error.
 * DIAGNOSTICS
 *	Returns true (and sets the kind) when the notice is such an event.
 */
#include "classify_private.h"

#include <stdio.h>

/* Value of "key":"value" in [s, end), unescaped; NULL when absent. */
static char *json_str(struct bav_pool *pool, const char *s, const char *end,
		      const char *key)
{
	char pat[64];
	const char *p, *v;
	size_t klen = strlen(key);

	if (klen + 3 > sizeof(pat))
		return NULL;
	pat[0] = '"';
	memcpy(pat + 1, key, klen);
	pat[klen + 1] = '"';
	pat[klen + 2] = '\0';
	p = bav_memcasemem(s, (size_t)(end - s), pat);
	if (p == NULL)
		return NULL;
	p += klen + 2;
	while (p < end && (*p == ' ' || *p == ':' || *p == '\t'))
		p++;
	if (p >= end || *p != '"')
		return NULL;
	for (v = ++p; v < end && *v != '"'; v++)
		if (*v == '\\' && v + 1 < end)
			v++;
	return bav_pool_strndup(pool, p, (size_t)(v - p));
}

/* End of the {...} or [...] that starts at s. */
static const char *block_end(const char *s, const char *end)
{
	int depth = 0;
	bool str = false;

	for (; s < end; s++) {
		if (str) {
			if (*s == '\\')
				s++;
			else if (*s == '"')
				str = false;
			continue;
		}
		if (*s == '"')
			str = true;
		else if (*s == '{' || *s == '[')
			depth++;
		else if ((*s == '}' || *s == ']') && --depth == 0)
			return s + 1;
	}
	return end;
}

static void recipients(struct bav_msg *m, const char *s, const char *end,
		       const char *list, const char *reason, const char *ftype)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\"", list);
	p = bav_memcasemem(s, (size_t)(end - s), pat);
	if (p == NULL)
		return;
	p = memchr(p, '[', (size_t)(end - p));
	if (p == NULL)
		return;
	end = block_end(p, end);
	for (p++; p < end; p++) {
		const char *oend;
		struct bav_result *r;
		char *addr, *d;

		if (*p == '"') {	/* a plain list of addresses */
			const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));

			if (q == NULL)
				break;
			addr = bav_pool_strndup(m->pool, p + 1,
						(size_t)(q - p - 1));
			p = q;
			oend = q;
			r = bav_msg_rcpt(m, addr);
			if (r != NULL && reason != NULL)
				r->reason = reason;
			continue;
		}
		if (*p != '{')
			continue;
		oend = block_end(p, end);
		addr = json_str(m->pool, p, oend, "emailAddress");
		if (addr != NULL && (r = bav_msg_rcpt(m, addr)) != NULL) {
			char *v;

			if ((v = json_str(m->pool, p, oend, "action")) != NULL)
				r->action = v;
			if ((v = json_str(m->pool, p, oend, "status")) != NULL &&
			    bav_status_valid(v))
				r->status = v;
			d = json_str(m->pool, p, oend, "diagnosticCode");
			if (d != NULL) {
				if (bav_str_begins_ci(d, "smtp;"))
					d += 5;
				r->diagnostic = bav_str_trim(d);
				r->replycode = bav_replycode_find(d, strlen(d));
			}
			if (reason != NULL)
				r->reason = reason;
			if (ftype != NULL)
				r->feedback_type = ftype;
		}
		p = oend - 1;
	}
}

bool bav_ses_detect(struct bav_msg *m)
{
	const char *n = m->notice, *end;
	struct bav_buf b = { 0 };
	char *type, *text;
	size_t i;

	if (m->notice_len == 0 ||
	    bav_memcasemem(n, m->notice_len, "notificationType") == NULL)
		return false;
	/* unescape one level of JSON string quoting (SNS wrapping) */
	for (i = 0; i < m->notice_len; i++) {
		if (n[i] == '\\' && i + 1 < m->notice_len &&
		    (n[i + 1] == '"' || n[i + 1] == '\\' || n[i + 1] == '/')) {
			bav_buf_putc(&b, n[++i]);
			continue;
		}
		bav_buf_putc(&b, n[i]);
	}
	text = bav_pool_strndup(m->pool, b.data, b.len);
	end = text + b.len;
	bav_buf_free(&b);
	type = json_str(m->pool, text, end, "notificationType");
	if (type == NULL)
		type = json_str(m->pool, text, end, "eventType");
	if (type == NULL)
		return false;
	if (strcmp(type, "Bounce") == 0) {
		recipients(m, text, end, "bouncedRecipients", NULL, NULL);
		m->v->kind = BAV_KIND_BOUNCE;
	} else if (strcmp(type, "Complaint") == 0) {
		char *ft = json_str(m->pool, text, end,
				    "complaintFeedbackType");

		recipients(m, text, end, "complainedRecipients", "feedback",
			   ft != NULL ? ft : "abuse");
		m->v->kind = BAV_KIND_FEEDBACK;
	} else if (strcmp(type, "Delivery") == 0) {
		char *resp = json_str(m->pool, text, end, "smtpResponse");
		unsigned int k;

		recipients(m, text, end, "recipients", NULL, NULL);
		for (k = 0; k < m->nres; k++) {
			char st[16];

			m->res[k].action = "delivered";
			if (resp != NULL) {
				m->res[k].diagnostic = resp;
				m->res[k].replycode = bav_replycode_find(
					resp, strlen(resp));
				if (bav_status_find(resp, strlen(resp), st))
					m->res[k].status =
						bav_pool_strdup(m->pool, st);
			}
		}
		m->v->kind = BAV_KIND_DELIVERED;
	} else {
		return false;
	}
	m->v->rule = "builtin:ses";
	return m->nres > 0;
}
