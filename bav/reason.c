/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	reason - reason, hard flag, status and detail of one result
 * SYNOPSIS
 *	void bav_reason_decide(struct bav_msg *m, struct bav_result *r)
 *	bool bav_reason_is_hard(const char *reason, const char *status)
 * DESCRIPTION
 *	The reason comes from the diagnostic text and the status code
 *	together, in this order:
 *	  1. a DSN field Status without a Diagnostic-Code, when the notice
 *	     prose stands in for it: the [status] table, except for x.4.7
 *	     (expired), which the prose may explain;
 *	  2. the [reason NAME] rules over the diagnostic (so a 5.1.1 whose
 *	     text speaks of a rate limit is not "userunknown"). The text is
 *	     read with a multi-line reply unfolded ("550-5.7.1 ... 550
 *	     5.7.1 ..."), with Amazon SES's category wrapper removed and,
 *	     when Gmail quotes the remote reply ("The error that the other
 *	     server returned was: ..."), from the quoted reply on;
 *	  3. a delay (Action: delayed, or a text delay notice) without a
 *	     cause more specific than a transient local one: "expired";
 *	  4. the [status] table; then, for an x-unix Diagnostic-Code (a
 *	     local program answered, dsn.c), "mailererror"; for the only
 *	     recipient, the rules over the whole notice ("was aborted after
 *	     5 hours" above the list), then over a delivery report for the
 *	     same recipient returned inside the message (a gateway that
 *	     passes on the MTA's bounce with a notice of its own);
 *	  5. "onhold" (a status, or a stated reason no rule knows) or
 *	     "undefined" (nothing said at all).
 *	Then the SMTP phase named in the text refines it: user unknown
 *	after DATA is "filtered" unless the status points at the address or
 *	the protocol (x.1.y, x.5.y), or "rejected" from NTT docomo (remote
 *	MTA or recipient domain docomo.ne.jp), which answers so when the
 *	recipient's reception settings refuse the sender; unknown user or
 *	host after MAIL FROM is "rejected", and so is a bare "Access denied"
 *	there; an unexplained refusal at connect/EHLO is "blocked". A size
 *	refusal follows x.2.3 (exceedlimit) or x.3.4 (mesgtoobig), except
 *	that a text calling the message itself too large or too big, with
 *	no limit it exceeds, stays "mesgtoobig". A content refusal under a
 *	x.7.y status (RFC 3463: security or policy) is "policyviolation",
 *	or "spamdetected" when it only says the content was rejected. A
 *	bare x.0.0 status whose cause the notice prose gave becomes the
 *	reason's x.0.9yy code.
 *	A result without a status gets the reason's x.0.9yy pseudo status.
 *	Hard means a permanent address-level failure (DESIGN.md); detail is
 *	OpenEMM's qualification of the status (detail.c).
 * DIAGNOSTICS
 *	none.
 */
#include "classify_private.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

bool bav_reason_is_hard(const char *reason, const char *status)
{
	bool temporary = status != NULL && status[0] == '4';

	if (temporary)
		return false;
	return strcmp(reason, "userunknown") == 0 ||
	       strcmp(reason, "hostunknown") == 0 ||
	       strcmp(reason, "hasmoved") == 0 ||
	       (strcmp(reason, "notaccept") == 0 && status != NULL &&
		status[0] == '5');
}

static int pseudo_detail(const char *reason, bool temporary)
{
	if (strcmp(reason, "delivered") == 0)
		return 200;
	if (strcmp(reason, "feedback") == 0 || strcmp(reason, "vacation") == 0)
		return 0;
	if (strcmp(reason, "mailboxfull") == 0)
		return 420;
	if (temporary)
		return 400;
	if (strcmp(reason, "userunknown") == 0 ||
	    strcmp(reason, "hasmoved") == 0)
		return 511;
	if (strcmp(reason, "hostunknown") == 0 ||
	    strcmp(reason, "notaccept") == 0)
		return 512;
	return 400;
}

enum smtp_cmd { CMD_UNKNOWN, CMD_CONN, CMD_MAIL, CMD_RCPT, CMD_DATA };

/* The SMTP command the remote server answered, as the text tells. */
static enum smtp_cmd smtp_command(const char *text)
{
	static const struct {
		const char *phrase;
		enum smtp_cmd cmd;
	} phrases[] = {
		{ "end of data", CMD_DATA }, { "data command", CMD_DATA },
		{ "final data", CMD_DATA }, { ">>> data", CMD_DATA },
		{ "smtp command data", CMD_DATA }, { "after data", CMD_DATA },
		{ "message body", CMD_DATA },
		{ "failed after i sent the message", CMD_DATA },
		{ "does not like recipient", CMD_RCPT },
		{ "after mail from", CMD_MAIL }, { "to mail from", CMD_MAIL },
		{ ">>> mail from", CMD_MAIL }, { "mail from command", CMD_MAIL },
		{ "our mail from", CMD_MAIL },
		{ "rcpt to", CMD_RCPT }, { "rcpt command", CMD_RCPT },
		{ "initial connection", CMD_CONN }, { "greeting", CMD_CONN },
		{ "after ehlo", CMD_CONN }, { "after helo", CMD_CONN },
		{ "to ehlo", CMD_CONN }, { "to helo", CMD_CONN },
	};
	const char *needles[sizeof(phrases) / sizeof(phrases[0])];
	struct bav_multi multi;
	size_t i;
	int k;

	/* one pass over the text; the first phrase in table order wins */
	for (i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
		needles[i] = phrases[i].phrase;
	bav_multi_init(&multi, needles, sizeof(needles) / sizeof(needles[0]));
	k = bav_multi_first(&multi, text, strlen(text));
	return k < 0 ? CMD_UNKNOWN : phrases[k].cmd;
}

/* Whether STATUS is class.SUFFIX, e.g. status_is("5.2.3", ".2.3"). */
static bool status_is(const char *status, const char *suffix)
{
	return status[0] != '\0' && strcmp(status + 1, suffix) == 0;
}

/* Length of a reply code with its enhanced status at P ("550-5.7.1 ",
   "550 5.7.1 "), or 0. */
static size_t reply_prefix_len(const char *p)
{
	size_t i, dots = 0, digits = 0;

	if (!(p[0] >= '2' && p[0] <= '5') || !isdigit((unsigned char)p[1]) ||
	    !isdigit((unsigned char)p[2]) || (p[3] != '-' && p[3] != ' ') ||
	    p[4] != p[0])
		return 0;
	for (i = 5; p[i] == '.' || isdigit((unsigned char)p[i]); i++) {
		if (p[i] == '.') {
			if (digits == 0 && i > 5)
				return 0;
			dots++;
			digits = 0;
		} else if (++digits > 3) {
			return 0;
		}
	}
	if (dots != 2 || digits == 0 || (p[i] != ' ' && p[i] != '\0'))
		return 0;
	return p[i] == ' ' ? i + 1 : i;
}

/* The text for the reason rules: a multi-line reply joined into one
   line repeats "550-5.7.1 " or "550 5.7.1 " before each piece
   ("multiple 550 5.7.1 addresses"); drop the repetitions after the
   first so that phrases match across the joins. */
static const char *unfold_reply(struct bav_pool *pool, const char *text)
{
	const char *first = NULL, *p;
	size_t flen = 0, len;
	char *out, *o;

	for (p = text; *p != '\0'; p++) {
		if ((p == text || p[-1] == ' ') &&
		    (flen = reply_prefix_len(p)) > 0) {
			first = p;
			break;
		}
	}
	if (first == NULL)
		return text;
	len = strlen(text);
	out = o = bav_pool_alloc(pool, len + 1);
	memcpy(o, text, (size_t)(first - text) + flen);
	o += (first - text) + flen;
	for (p = first + flen; *p != '\0';) {
		size_t n = p[-1] == ' ' ? reply_prefix_len(p) : 0;

		/* the same code and status again, "-" or " " */
		if (n > 0 && n <= flen && strncmp(p, first, 3) == 0 &&
		    strncmp(p + 4, first + 4, n - 4) == 0) {
			p += n;
			continue;
		}
		*o++ = *p++;
	}
	*o = '\0';
	return out;
}

/* Whether the status code alone points at the address rather than the
   content: an addressing status (x.1.y), a protocol status (x.5.y), or
   whatever the [status] table maps to userunknown. */
static bool status_says_userunknown(struct bav_msg *m, const char *status)
{
	const struct bav_rule *rule = NULL;
	const char *reason;

	if (*status == '\0' || strcmp(status + 1, ".0.0") == 0)
		return false;
	if (strncmp(status + 1, ".1.", 3) == 0 ||
	    strncmp(status + 1, ".5.", 3) == 0)
		return true;
	reason = bav_rules_status_reason(m->rules, m->opts->rid, status, &rule);
	return reason != NULL && strcmp(reason, "userunknown") == 0;
}

/* Amazon SES wraps the remote reply in its own category:
   "5.1.0 - Unknown address error 550-'5.7.1 ... Access denied'
   (delivery attempts: 0)". The quoted reply is the one to read. */
static const char *unwrap_ses(struct bav_pool *pool, const char *text)
{
	const char *p = strstr(text, " - "), *q, *end;

	if (p == NULL || p - text > 12 || !isdigit((unsigned char)text[0]))
		return text;
	for (q = p + 3; *q != '\0' && *q != '\''; q++)
		;
	/* "NNN-'" or "NNN '" right before the quote */
	if (*q != '\'' || q - p < 8 || (q[-1] != '-' && q[-1] != ' ') ||
	    !isdigit((unsigned char)q[-2]) || !isdigit((unsigned char)q[-3]) ||
	    !isdigit((unsigned char)q[-4]))
		return text;
	end = strrchr(q + 1, '\'');
	if (end == NULL || end == q + 1)
		return text;
	return bav_pool_strndup(pool, q + 1, (size_t)(end - q - 1));
}

/* Gmail quotes the remote server's reply after its own explanation
   ("... it was rejected by the recipient domain. ... The error that the
   other server returned was: 550 5.7.1 ..."): its own words would
   otherwise decide. The quoted reply, or the text itself. */
static const char *unwrap_quoted_reply(const char *text)
{
	static const char marker[] = "the other server returned was:";
	const char *p = bav_strcasestr(text, marker);

	if (p == NULL)
		return text;
	p += sizeof(marker) - 1;
	while (*p == ' ')
		p++;
	return *p != '\0' ? p : text;
}

/* Whether the text states outright that the domain has no such account
   ("This user doesn't have a example.com account"): that is no filter
   talking, whatever the SMTP phase. */
static bool names_missing_account(const char *text)
{
	const char *p = bav_strcasestr(text, "n't have a");

	if (p == NULL)
		p = bav_strcasestr(text, "not have a");
	return p != NULL && bav_strcasestr(p, " account") != NULL &&
	       bav_strcasestr(p, " account") - p < 80;
}

/* Whether HOST is DOMAIN or a host under it. */
static bool host_in(const char *host, const char *domain)
{
	size_t hl = strlen(host), dl = strlen(domain);

	while (hl > 0 && host[hl - 1] == '.')
		hl--;
	if (hl < dl || strncasecmp(host + hl - dl, domain, dl) != 0)
		return false;
	return hl == dl || host[hl - dl - 1] == '.';
}

/* NTT docomo answers "550 Unknown user" after the message when the
   recipient's reception settings refuse the sender (its mailboxes that
   do not exist are refused at RCPT already): whether the result comes
   from docomo, by the remote MTA or the recipient's domain. */
static bool docomo_refusal(const struct bav_result *r)
{
	static const char domain[] = "docomo.ne.jp";
	const char *at = strrchr(r->recipient, '@');

	return host_in(r->remote_mta, domain) ||
	       (at != NULL && host_in(at + 1, domain));
}

/* A size refusal that calls the message itself too large ("message too
   large for this recipient") rather than naming a limit it exceeds. */
static bool says_too_large(const char *text)
{
	return (bav_strcasestr(text, "too large") != NULL ||
		bav_strcasestr(text, "too big") != NULL) &&
	       bav_strcasestr(text, "exceed") == NULL;
}

/* The returned content may itself be a delivery report for the same
   recipient (a gateway that returns the MTA's bounce with a notice of
   its own that gives no cause): the rule matching its text from the
   recipient's address on, when that text carries a failure reply code,
   or NULL. */
static const struct bav_rule *nested_report(struct bav_msg *m,
					     const char *rcpt)
{
	struct bav_part *p;

	if (m->original == NULL || *rcpt == '\0')
		return NULL;
	for (p = m->original; p != NULL; p = bav_part_next(m->original, p)) {
		const char *at, *end;
		size_t len;

		if (p->body == NULL || strcmp(p->ctype, "text/plain") != 0)
			continue;
		end = p->body + p->body_len;
		at = bav_memcasemem(p->body, p->body_len, rcpt);
		if (at == NULL)
			continue;
		len = (size_t)(end - at) > 2000 ? 2000 : (size_t)(end - at);
		if (bav_replycode_find_failure(at, len) == 0)
			continue;
		return bav_rules_match(m->rules, BAV_RULE_REASON,
				       m->opts->rid, at, len);
	}
	return NULL;
}

static bool is_pseudo(const char *status)
{
	return strlen(status) == 7 && strncmp(status + 1, ".0.9", 4) == 0;
}

void bav_reason_decide(struct bav_msg *m, struct bav_result *r)
{
	const char *rid = m->opts->rid;
	const char *text = r->diagnostic;
	const struct bav_rule *rule = NULL;
	const char *reason = NULL;
	bool temporary;

	const char *context = "";
	enum smtp_cmd cmd;
	bool prose;	/* the notice prose stands in for a Diagnostic-Code */

	if (*text == '\0') {
		/* a DSN without Diagnostic-Code: the notice about it */
		text = context = bav_heur_context(m, r->recipient);
		if (*context != '\0') {
			char st[16];

			r->diagnostic = context;
			if ((*r->status == '\0' ||
			     strcmp(r->status + 1, ".0.0") == 0) &&
			    bav_status_find(context, strlen(context), st) &&
			    strcmp(st + 1, ".0.0") != 0)
				r->status = bav_pool_strdup(m->pool, st);
			if (r->replycode == 0)
				r->replycode = bav_replycode_find(
					context, strlen(context));
		}
	}
	prose = *context != '\0';
	if (*text == '\0')
		text = m->notice;
	if (*r->reason == '\0') {
		if (strcmp(r->action, "delivered") == 0 ||
		    strcmp(r->action, "relayed") == 0 ||
		    strcmp(r->action, "expanded") == 0) {
			reason = "delivered";
			r->rule = "builtin:action";
		}
		/* a DSN's specific status beats the prose around it, except
		 * "expired" (x.4.7), which the prose may explain */
		if (reason == NULL && *context != '\0' && *r->status != '\0' &&
		    strcmp(r->status + 1, ".0.0") != 0) {
			reason = bav_rules_status_reason(m->rules, rid,
							 r->status, &rule);
			if (reason != NULL && strcmp(reason, "expired") == 0)
				reason = NULL;
			else if (reason != NULL)
				r->rule = rule != NULL ? rule->id :
					  "builtin:status";
		}
		if (reason == NULL && *text != '\0') {
			const char *t = unfold_reply(m->pool,
				unwrap_ses(m->pool, unwrap_quoted_reply(text)));

			rule = bav_rules_match(m->rules, BAV_RULE_REASON, rid,
					       t, strlen(t));
			if (rule != NULL) {
				reason = rule->arg;
				r->rule = rule->id;
			}
		}
		if ((strcmp(r->action, "delayed") == 0 ||
		     (*r->action == '\0' && m->v->kind == BAV_KIND_DELAY)) &&
		    (reason == NULL || strcmp(reason, "systemerror") == 0)) {
			/* a delay notice without a specific explanation:
			 * still queued, retried until expiry */
			reason = "expired";
			r->rule = "builtin:delayed";
		}
		if (reason == NULL && *r->status != '\0') {
			reason = bav_rules_status_reason(m->rules, rid,
							 r->status, &rule);
			if (reason != NULL)
				r->rule = rule != NULL ? rule->id :
					  "builtin:status";
		}
		if (reason == NULL && strcmp(r->rule, "builtin:x-unix") == 0) {
			/* dsn.c: a local program (pipe, LDA) failed without
			 * saying why */
			reason = "mailererror";
		}
		if (reason == NULL && text != m->notice && m->nres == 1 &&
		    m->notice_len > 0) {
			/* the sentence above the only recipient may say it:
			 * "delivery ... was aborted after 5 hours" */
			rule = bav_rules_match(m->rules, BAV_RULE_REASON, rid,
					       m->notice, m->notice_len);
			if (rule != NULL) {
				reason = rule->arg;
				r->rule = rule->id;
			}
		}
		if (reason == NULL && m->nres == 1 &&
		    (rule = nested_report(m, r->recipient)) != NULL) {
			reason = rule->arg;
			r->rule = rule->id;
		}
		if (reason == NULL) {
			/* "onhold": a status, or a stated reason that no rule
			   knows ("Reason: ...", "Failure Reasons"); else
			   nothing was said at all */
			bool stated = text == m->notice ?
				bav_memcasemem(m->notice, m->notice_len,
					       "reason") != NULL :
				bav_strcasestr(text, "reason") != NULL;

			reason = *r->status != '\0' || stated ?
				 "onhold" : "undefined";
			r->rule = "builtin:fallback";
		}
		/* the phase of the SMTP dialogue refines the text */
		cmd = smtp_command(r->diagnostic);
		if (cmd == CMD_UNKNOWN) {
			if (*context == '\0')
				context = bav_heur_context(m, r->recipient);
			cmd = smtp_command(context);
		}
		if (strcmp(reason, "userunknown") == 0 && cmd == CMD_DATA &&
		    !status_says_userunknown(m, r->status) &&
		    !names_missing_account(r->diagnostic)) {
			/* refused after the content: a filter, or at docomo
			   the recipient's refusal of the sender */
			reason = docomo_refusal(r) ? "rejected" : "filtered";
			r->rule = docomo_refusal(r) ? "builtin:docomo-data" :
				  "builtin:data-phase";
		} else if ((strcmp(reason, "onhold") == 0 ||
			    strcmp(reason, "undefined") == 0) &&
			   cmd == CMD_CONN) {
			reason = "blocked";	/* refused before any address */
			r->rule = "builtin:connect-phase";
		} else if ((strcmp(reason, "userunknown") == 0 ||
			    strcmp(reason, "hostunknown") == 0 ||
			    (strcmp(reason, "securityerror") == 0 &&
			     bav_strcasestr(r->diagnostic, "access denied") !=
			     NULL)) &&
			   cmd == CMD_MAIL) {
			reason = "rejected";	/* it was about the sender */
			r->rule = "builtin:mail-phase";
		}
		/* a Google Groups refusal: no such group or no permission */
		if (*r->status == '\0' &&
		    bav_strcasestr(r->recipient, "@googlegroups.") != NULL) {
			reason = "rejected";
			r->rule = "builtin:google-groups";
		}
		/* the status narrows a size refusal: per mailbox or per system */
		if (strcmp(reason, "mesgtoobig") == 0 &&
		    status_is(r->status, ".2.3") &&
		    !says_too_large(r->diagnostic)) {
			reason = "exceedlimit";
			r->rule = "builtin:status-size";
		} else if (strcmp(reason, "exceedlimit") == 0 &&
			   status_is(r->status, ".3.4")) {
			reason = "mesgtoobig";
			r->rule = "builtin:status-size";
		}
		/* RFC 3463: x.7.y is a security or policy verdict, x.6.y a
		   fault of the content. Content refused under x.7.y is a
		   filter's judgement: a spam filter when it names no fault */
		if (strcmp(reason, "contenterror") == 0 &&
		    *r->status != '\0' && strncmp(r->status + 1, ".7.", 3) == 0) {
			reason = bav_strcasestr(r->diagnostic,
						"content rejected") != NULL ?
				 "spamdetected" : "policyviolation";
			r->rule = "builtin:status-policy";
		}
		/* x.0.0 says nothing: when the notice prose explained the
		   failure, the reason's own x.0.9yy code says more */
		if (prose && *r->status != '\0' &&
		    strcmp(r->status + 1, ".0.0") == 0 &&
		    strncmp(r->rule, "builtin:", 8) != 0 &&
		    strcmp(reason, "delivered") != 0)
			r->status = bav_status_pseudo(reason,
						      r->status[0] == '4');
		r->reason = reason;
	}
	temporary = r->status[0] == '4' || strcmp(r->action, "delayed") == 0 ||
		    (r->status[0] == '\0' && r->replycode / 100 == 4);
	if (*r->status == '\0' && strcmp(r->reason, "feedback") != 0 &&
	    strcmp(r->reason, "vacation") != 0) {
		if (strcmp(r->reason, "delivered") == 0)
			r->status = "2.0.0";
		else
			r->status = bav_status_pseudo(r->reason, temporary);
	}
	r->hard = bav_reason_is_hard(r->reason, r->status);
	if (*r->status == '\0')
		r->detail = pseudo_detail(r->reason, temporary);
	else if (is_pseudo(r->status))
		r->detail = pseudo_detail(r->reason, temporary);
	else
		r->detail = bav_detail_with_rules(m->rules, rid, r->status,
						  r->diagnostic, &rule);
	if (*r->rule == '\0')
		r->rule = "builtin:reason";
}
