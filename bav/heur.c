/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	heur - heuristics for bounces without a delivery-status part
 * SYNOPSIS
 *	bool bav_heur_is_bounce(struct bav_msg *m)
 *	void bav_heur_scan(struct bav_msg *m)
 *	const char *bav_heur_context(struct bav_msg *m, const char *rcpt)
 *	void bav_heur_temporary(struct bav_msg *m, struct bav_result *r)
 * DESCRIPTION
 *	Many MTAs (Exim, qmail, OpenSMTPD, DragonFly, Yahoo, mail.ru, ...)
 *	return plain text. bav_heur_is_bounce() looks at the envelope-ish
 *	signs (sender MAILER-DAEMON or postmaster, null Return-Path,
 *	X-Failed-Recipients, a delivery-failure Subject), at an SMTP
 *	transcript ending in a failure reply (InterScan, Apache James,
 *	Postfix's postmaster notices) and at notices that name the failed
 *	recipient themselves ("Could not be delivered to: <a>", fml's "not
 *	member"). bav_heur_scan() reads the notice text (m->notice): every
 *	line that names an address other than the bounce's own sender and
 *	recipient, a help desk offered as a contact, a "generated from"
 *	alias or a MAIL FROM starts a recipient block; the block's text up
 *	to the next such line is its diagnostic, from which the first class
 *	4 or 5 status and reply code are taken. In a Sendmail transcript the
 *	block is what precedes and names the recipient. A single recipient
 *	whose block says nothing (a bare address line) or names no failure
 *	while the notice does gets the whole notice. Without any such line
 *	the recipient comes from X-Failed-Recipients or from the To: of the
 *	returned original. A notice saying the message is still queued sets
 *	m->delay_notice (the kind is then delay).
 *
 *	bav_heur_temporary() runs after the reason: a pseudo status x.0.9yy
 *	becomes class 4 when the text says the failure stayed temporary
 *	until the MTA gave up (Exim's "retry timeout exceeded").
 * DIAGNOSTICS
 *	none; results are added to m.
 */
#include "classify_private.h"

#include <ctype.h>
#include <strings.h>

static const char *const sender_locals[] = {
	"mailer-daemon", "mailer_daemon", "maildaemon", "mail-daemon",
	"postmaster", "mdaemon", "mailerdaemon", "mail.daemon",
	"bounce", "bounces", "nobody", "mail-noreply", "post_master",
};

static bool daemon_address(const char *addr)
{
	size_t i;

	for (i = 0; i < sizeof(sender_locals) / sizeof(sender_locals[0]); i++)
		if (bav_str_begins_ci(addr, sender_locals[i]) &&
		    (addr[strlen(sender_locals[i])] == '@' ||
		     addr[strlen(sender_locals[i])] == '\0'))
			return true;
	return false;
}

/* Daemon addresses never recipients of the failed mail. */
static const char *const never_rcpt[] = {
	"mailer-daemon", "mailer_daemon", "maildaemon", "mail-daemon",
	"mailerdaemon", "mdaemon",
};

static bool never_recipient(const char *addr)
{
	size_t i;

	for (i = 0; i < sizeof(never_rcpt) / sizeof(never_rcpt[0]); i++)
		if (bav_str_begins_ci(addr, never_rcpt[i]) &&
		    addr[strlen(never_rcpt[i])] == '@')
			return true;
	return false;
}

static const char *const bounce_subjects[] = {
	"undeliver", "undelivered", "delivery fail", "delivery status",
	"returned mail", "returning message", "failure notice",
	"mail delivery failed", "delivery failure", "non-delivery",
	"nondeliverable", "non deliverable", "could not be delivered",
	"couldn't be delivered", "not delivered", "delivery problem",
	"delivery notification", "mail system error", "permanent error",
	"delivery error", "warning: could not send", "delayed mail",
	"message delayed", "delivery delayed", "returned to sender",
	"mail failure", "unzustellbar", "nicht zustellbar",
	"mail delivery problem", "delivery report", "rejected",
	"message blocked", "wasn't delivered", "was not delivered",
	"error sending", "unable to deliver", "can't deliver",
	"cannot deliver", "bounce", "failed delivery", "delivery has failed",
	"unknown recipient", "rejected:", "undelivered mail",
	"message you sent", "non remis", "no entregado", "mail failed",
	"returning to sender",
};

static bool bounce_subject(const char *subject)
{
	size_t i;

	for (i = 0; i < sizeof(bounce_subjects) / sizeof(bounce_subjects[0]);
	     i++)
		if (bav_strcasestr(subject, bounce_subjects[i]) != NULL)
			return true;
	return false;
}

static const char *const bounce_phrases[] = {
	"could not be delivered", "couldn't be delivered",
	"wasn't able to deliver", "was not able to deliver",
	"unable to deliver", "delivery has failed", "delivery failed",
	"permanent error", "following address", "following recipient",
	"undeliverable", "not be delivered", "mail delivery",
	"delivery to the following", "error delivering",
	"wasn't delivered", "was not delivered", "returned to you",
	"failed permanently", "delivery problem", "could not deliver",
	"this is the mail system", "mailer-daemon", "remote host said",
	"did not reach", "message not delivered", "rejected your message",
	"bounced", "failure notice", "message could not",
};

static bool bounce_text(const char *text, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(bounce_phrases) / sizeof(bounce_phrases[0]); i++)
		if (bav_memcasemem(text, len, bounce_phrases[i]) != NULL)
			return true;
	return false;
}

/* An SMTP transcript that names a recipient and ends in a failure reply
   ("RCPT TO:<a>" then "550 ..."), as InterScan, Apache James, Postfix's
   postmaster notices and many gateways quote it. */
static bool transcript_failure(const char *text, size_t len)
{
	const char *rcpt = bav_memcasemem(text, len, "RCPT TO:");

	if (rcpt == NULL || memchr(rcpt, '@', (size_t)(text + len - rcpt)) ==
			    NULL)
		return false;
	return bav_replycode_find_failure(text, len) != 0;
}

/* fml mailing list manager: the sender is not a list member; the
   notice names the list first, then its command address. */
static bool fml_reject(struct bav_msg *m)
{
	return bav_part_header(m->root, "X-MLServer") != NULL &&
	       bav_strcasestr(m->subject, "not member") != NULL;
}

/* Notices whose own wording says which recipient failed. */
static bool explicit_notice(struct bav_msg *m)
{
	const char *p = bav_memcasemem(m->notice, m->notice_len,
				       "could not be delivered to:");

	if (p != NULL) {
		const char *nl = memchr(p, '\n',
					(size_t)(m->notice + m->notice_len - p));

		if (memchr(p, '@', (size_t)((nl != NULL ? nl :
					     m->notice + m->notice_len) - p)))
			return true;
	}
	return fml_reject(m);
}

bool bav_heur_is_bounce(struct bav_msg *m)
{
	const char *rp = bav_part_header(m->root, "Return-Path");
	bool null_sender = rp != NULL && strstr(rp, "<>") != NULL;
	bool daemon = daemon_address(m->from) ||
		      bav_strcasestr(bav_part_header(m->root, "From") != NULL ?
				     bav_part_header(m->root, "From") : "",
				     "mail delivery") != NULL;
	bool subj = bounce_subject(m->subject);

	if (bav_part_header(m->root, "X-Failed-Recipients") != NULL)
		return true;
	if ((daemon || null_sender) && (subj || bounce_text(m->notice,
							    m->notice_len)))
		return true;
	if (subj && bounce_text(m->notice, m->notice_len))
		return true;
	if ((daemon || null_sender) &&
	    transcript_failure(m->notice, m->notice_len))
		return true;
	return explicit_notice(m);
}

/* Addresses that are not recipients of the failed mail. */
static bool excluded(struct bav_msg *m, const char *addr)
{
	if (!bav_addr_valid(addr))
		return true;
	if (*m->to != '\0' && strcasecmp(addr, m->to) == 0)
		return true;
	if (*m->from != '\0' && strcasecmp(addr, m->from) == 0)
		return true;
	if (never_recipient(addr))
		return true;
	if (m->v->ident.envelope_sender != NULL &&
	    *m->v->ident.envelope_sender != '\0' &&
	    strcasecmp(addr, m->v->ident.envelope_sender) == 0)
		return true;
	return false;
}

/* A line offering an address to write to (help desk, postmaster). */
static bool contact_line(const char *line, size_t len)
{
	return bav_memcasemem(line, len, "contact") != NULL;
}

/* Is addr offered as a contact anywhere in the notice? */
static bool contact_address(struct bav_msg *m, const char *addr)
{
	const char *s = m->notice, *end = m->notice + m->notice_len;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl == NULL ? end : nl;

		if (contact_line(s, (size_t)(le - s)) &&
		    bav_memcasemem(s, (size_t)(le - s), addr) != NULL)
			return true;
		s = nl == NULL ? end : nl + 1;
	}
	return false;
}

/* Address named on a line (not inside a URL), or NULL. */
static char *line_address(struct bav_msg *m, const char *line, size_t len)
{
	char *copy = bav_pool_strndup(m->pool, line, len), *a;
	const char *at = memchr(line, '@', len);

	if (at == NULL)
		return NULL;
	if (bav_memcasemem(line, len, "http://") != NULL ||
	    bav_memcasemem(line, len, "https://") != NULL) {
		/* an address may still be on the line, before the URL */
		const char *u = bav_memcasemem(line, len, "http");

		if (u < at)
			return NULL;
	}
	if (contact_line(line, len) ||
	    bav_memcasemem(line, len, "envelope-from") != NULL ||
	    bav_memcasemem(line, len, "generated from") != NULL ||
	    bav_memcasemem(line, len, "MAIL FROM:") != NULL)
		return NULL;
	a = bav_addr_extract(m->pool, copy);
	if (bav_str_begins_ci(a, "mailto:"))
		a += 7;
	if (*a == '\0' || excluded(m, a))
		return NULL;
	/* "From: x" / "To: x" lines quote headers, not recipients */
	{
		const char *p = line;

		while (p < line + len && (*p == ' ' || *p == '\t' || *p == '>'))
			p++;
		if (bav_str_begins_ci(p, "from:") || bav_str_begins_ci(p, "to:") ||
		    bav_str_begins_ci(p, "cc:") || bav_str_begins_ci(p, "sender:") ||
		    bav_str_begins_ci(p, "reply-to:") ||
		    bav_str_begins_ci(p, "return-path:") ||
		    bav_str_begins_ci(p, "message-id:"))
			return NULL;
	}
	return a;
}

static bool has_failure_n(const char *text, size_t len)
{
	char st[16];

	return bav_replycode_find_failure(text, len) != 0 ||
	       bav_status_find_failure(text, len, st);
}

static bool has_failure(const char *text)
{
	return has_failure_n(text, strlen(text));
}

/* Does text say nothing but the address (au/ezweb, Notes: the reason
   stands above the address line)? */
static bool bare_address(const char *text, const char *addr)
{
	const char *a = bav_strcasestr(text, addr);
	size_t n = 0;
	const char *p;

	if (a == NULL)
		return false;
	for (p = text; *p != '\0'; p++) {
		if (p == a) {
			p += strlen(addr) - 1;
			continue;
		}
		if (isalnum((unsigned char)*p))
			n++;
	}
	return n < 4;
}

static void set_codes(struct bav_msg *m, struct bav_result *r)
{
	char st[16];
	const char *d = r->diagnostic;

	/* a bounce's codes are failures: skip the "250 Ok" of a transcript */
	if (*r->status == '\0' && bav_status_find_failure(d, strlen(d), st))
		r->status = bav_pool_strdup(m->pool, st);
	if (r->replycode == 0)
		r->replycode = bav_replycode_find_failure(d, strlen(d));
	/* the sender refused at MAIL FROM, no code given: the x.0.901
	   pseudo status (the convention Sisimai's figures use) */
	if (*r->status == '\0' && r->replycode != 0 &&
	    bav_strcasestr(d, "after MAIL FROM") != NULL)
		r->status = r->replycode / 100 == 4 ? "4.0.901" : "5.0.901";
}

static const char *original_recipient(struct bav_msg *m)
{
	struct bav_part *p;

	if (m->original != NULL) {
		const char *to = bav_part_header(m->original, "To");

		if (to != NULL) {
			char *a = bav_addr_extract(m->pool, to);

			if (bav_addr_valid(a))
				return a;
		}
	}
	p = m->root;
	{
		const char *xo = bav_part_header(p, "X-Original-To");

		if (xo != NULL) {
			char *a = bav_addr_extract(m->pool, xo);

			if (bav_addr_valid(a) && !excluded(m, a))
				return a;
		}
	}
	return "";
}

/* Does line [s, le) name a recipient of m other than self? */
static bool mentions_other(struct bav_msg *m, const char *s, const char *le,
			   const char *self)
{
	unsigned int i;

	for (i = 0; i < m->nres; i++) {
		const char *r = m->res[i].recipient;

		if (*r == '\0' || strcasecmp(r, self) == 0)
			continue;
		if (bav_memcasemem(s, (size_t)(le - s), r) != NULL)
			return true;
	}
	return false;
}

/* Sendmail's session transcript: what was said about a recipient
   stands before and on the line that names it ("While talking to h:",
   ">>> DATA", "<<< 550 ...", then "554 <a>... ..."), so its block runs
   from the line after the previous recipient's (or the last "While
   talking to") through its own last line. NULL when rcpt is not named
   in a transcript. */
static const char *transcript_block(struct bav_msg *m, const char *rcpt)
{
	const char *end = m->notice + m->notice_len;
	const char *s = bav_memcasemem(m->notice, m->notice_len,
				       "----- transcript of session follows");
	const char *start, *last = NULL;

	if (s == NULL)
		return NULL;
	s = memchr(s, '\n', (size_t)(end - s));
	if (s == NULL)
		return NULL;
	start = ++s;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl == NULL ? end : nl;
		const char *next = nl == NULL ? end : nl + 1;

		if (bav_memcasemem(s, (size_t)(le - s), rcpt) != NULL) {
			last = next;
		} else if (mentions_other(m, s, le, rcpt) ||
			   bav_str_begins_ci(s, "while talking to")) {
			if (last != NULL)
				break;
			if (bav_str_begins_ci(s, "while talking to"))
				start = s;
			else
				start = next;
		}
		s = next;
	}
	if (last == NULL)
		return NULL;
	return bav_str_squeeze(m->pool, start, (size_t)(last - start));
}

const char *bav_heur_context(struct bav_msg *m, const char *rcpt)
{
	const char *s = m->notice, *end = m->notice + m->notice_len;
	const char *start = NULL, *t;

	if (*rcpt == '\0' || m->notice_len == 0)
		return "";
	if ((t = transcript_block(m, rcpt)) != NULL)
		return t;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl == NULL ? end : nl;

		if (start == NULL) {
			if (bav_memcasemem(s, (size_t)(le - s), rcpt) != NULL)
				start = s;
		} else if (mentions_other(m, s, le, rcpt)) {
			return bav_str_squeeze(m->pool, start,
					       (size_t)(s - start));
		}
		s = nl == NULL ? end : nl + 1;
	}
	if (start == NULL)
		return "";
	return bav_str_squeeze(m->pool, start, (size_t)(end - start));
}

static const char *const delay_phrases[] = {
	"will be retried", "will continue to try", "will keep trying",
	"only a temporary failure report", "is kept in the queue",
	"still trying", "not yet been delivered", "has been delayed",
	"delivery is delayed", "message is delayed",
	"no action is required on your part", "continue delivery attempts",
	"this is a warning only", "warning message only",
};

/* A notice that the message is still queued, not given up. */
static bool delay_notice(struct bav_msg *m)
{
	size_t i;

	if (bav_memcasemem(m->notice, m->notice_len, "permanent") != NULL ||
	    bav_memcasemem(m->notice, m->notice_len, "given up") != NULL ||
	    bav_memcasemem(m->notice, m->notice_len, "gave up") != NULL)
		return false;
	for (i = 0; i < sizeof(delay_phrases) / sizeof(delay_phrases[0]); i++)
		if (bav_memcasemem(m->notice, m->notice_len,
				   delay_phrases[i]) != NULL)
			return true;
	return false;
}

/* Wording of a failure that stayed temporary until the MTA gave up
   (Exim's retry timeout, Gmail's "temporary failure"). */
static const char *const temporary_phrases[] = {
	"retry timeout exceeded", "have been failing for a long time",
	"details of temporary failure",
};

void bav_heur_temporary(struct bav_msg *m, struct bav_result *r)
{
	size_t i;
	char *st;

	/* only a pseudo status: a real code keeps its class */
	if (strlen(r->status) != 7 || strncmp(r->status, "5.0.9", 5) != 0)
		return;
	for (i = 0; i < sizeof(temporary_phrases) /
			sizeof(temporary_phrases[0]); i++)
		if (bav_strcasestr(r->diagnostic, temporary_phrases[i]) != NULL)
			break;
	if (i == sizeof(temporary_phrases) / sizeof(temporary_phrases[0]))
		return;
	st = bav_pool_strdup(m->pool, r->status);
	st[0] = '4';
	r->status = st;
	r->hard = bav_reason_is_hard(r->reason, r->status);
}

static void add_listed(struct bav_msg *m, const char *list)
{
	char *copy = bav_pool_strdup(m->pool, list), *tok, *save = NULL;

	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		char *a = bav_addr_extract(m->pool, tok);

		if (bav_addr_valid(a))
			(void)bav_msg_rcpt(m, a);
	}
}

/* A message the sender sent to itself: its own address heads a
   recipient block ("<a>:" opening a line, qmail and Postfix style). */
static void self_bounce(struct bav_msg *m)
{
	const char *s = m->notice, *end = m->notice + m->notice_len;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl == NULL ? end : nl;
		const char *gt = s < le && *s == '<' ?
				 memchr(s, '>', (size_t)(le - s)) : NULL;

		if (gt != NULL && gt + 1 < le && gt[1] == ':') {
			char *a = bav_pool_strndup(m->pool, s + 1,
						   (size_t)(gt - s - 1));

			if (bav_addr_valid(a) && !never_recipient(a))
				(void)bav_msg_rcpt(m, a);
		}
		s = nl == NULL ? end : nl + 1;
	}
}

void bav_heur_scan(struct bav_msg *m)
{
	const char *s = m->notice, *end = m->notice + m->notice_len;
	const char *xfr = bav_part_header(m->root, "X-Failed-Recipients");
	unsigned int i, before = m->nres;

	if (xfr != NULL)	/* Exim, Google: the header names them all */
		add_listed(m, xfr);
	if (m->nres == before) {
		bool first_only = fml_reject(m);

		while (s < end) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			const char *le = nl == NULL ? end : nl;
			char *a = line_address(m, s, (size_t)(le - s));

			if (a != NULL) {
				(void)bav_msg_rcpt(m, a);
				if (first_only)
					break;
			}
			s = nl == NULL ? end : nl + 1;
		}
	}
	if (m->nres == before)
		self_bounce(m);
	/* a help desk address named as a contact elsewhere in the notice */
	for (i = before; i < m->nres && m->nres - before > 1;) {
		if (contact_address(m, m->res[i].recipient)) {
			memmove(&m->res[i], &m->res[i + 1],
				(m->nres - i - 1) * sizeof(m->res[i]));
			m->nres--;
		} else {
			i++;
		}
	}
	if (m->nres == before) {
		struct bav_result *r = bav_msg_add(m);

		if (r == NULL)
			return;
		r->recipient = original_recipient(m);
	}
	/* the kind says delay; the results keep no action, their status
	   class comes from the reply codes as for any text notice */
	m->delay_notice = delay_notice(m);
	for (i = before; i < m->nres; i++) {
		struct bav_result *r = &m->res[i];

		r->diagnostic = bav_heur_context(m, r->recipient);
		/* one recipient, the error quoted before it is named (Apache
		   James: "Error message below: 550 ..." then "RCPT TO: a") */
		if (*r->diagnostic == '\0' ||
		    (m->nres - before == 1 && !has_failure(r->diagnostic) &&
		     has_failure_n(m->notice, m->notice_len)) ||
		    (m->nres - before == 1 &&
		     bare_address(r->diagnostic, r->recipient)))
			r->diagnostic = bav_str_squeeze(m->pool, m->notice,
							m->notice_len);
		set_codes(m, r);
	}
}
