/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	policy - the decisions of bav-policyd
 * SYNOPSIS
 *	size_t policy_decide(const struct policy_ctx *ctx,
 *			     const struct policy_request *req,
 *			     const char *tag, char *out, size_t len)
 * DESCRIPTION
 *	Decides one request and writes the reply, "action=TEXT" and the
 *	empty line, into out. Only requests with protocol_state RCPT are
 *	checked; every other state (CONNECT, HELO, MAIL, VRFY, DATA,
 *	END-OF-MESSAGE, ...) gets DUNNO. In order, the first
 *	that applies decides:
 *
 *	1. Address table (-c, inbound mailloop MX): the lookup of libbav
 *	   that bav-milter uses, with the same verdicts: an unknown address
 *	   of a managed domain (reject) gets reject_action, "550 5.1.1 No
 *	   such user"; a tempfail entry gets tempfail_action, "400 4.0.0
 *	   Please try again later" (OpenEMM's code, as bav-milter -t); a
 *	   known address or an unmanaged domain goes on to the next check
 *	   (accept_action when it is not DUNNO).
 *	2. Null-sender rate limits (backscatter): mail from "<>" counted
 *	   per client address and per recipient in fixed windows; above
 *	   the limit ratelimit_action.
 *	3. Outbound suppression: a recipient the snapshot marks bounced,
 *	   complained or unsubscribed gets suppress_action; "%s" in its
 *	   text becomes the state.
 *	4. default_action (DUNNO).
 *
 *	In log-only mode the decision is logged as "log-only, would ..."
 *	and the reply is the default action. Every checked request logs
 *	one line at level INFO: "TAG: action=... rcpt=... from=...
 *	client=... (why)", where TAG is the queue ID when Postfix has one,
 *	else the connection id.
 *
 *	Actions are written as configured, so anything Postfix's access(5)
 *	understands works: DUNNO, OK, REJECT/DEFER with text and an
 *	enhanced status code, "4NN text", "5NN text", DEFER_IF_PERMIT,
 *	DEFER_IF_REJECT, PREPEND header, HOLD, WARN, DISCARD, FILTER.
 * DIAGNOSTICS
 *	none; a reply that would not fit in out is cut (out is
 *	POLICY_REPLY_MAX bytes in server.c, actions are limited in main.c).
 */
#include "bav_policyd.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ADDR_MAX 512

/* Lower-cased copy of an address without <>; false when too long. */
static bool normalize(const char *in, char *out, size_t len)
{
	size_t n, i;

	if (*in == '<')
		in++;
	n = strcspn(in, ">");
	if (n + 1 > len)
		return false;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
	return true;
}

/* "action=" + action with the first "%s" replaced by subst + "\n\n". */
static size_t format_reply(char *out, size_t len, const char *action,
			   const char *subst)
{
	const char *pct = subst != NULL ? strstr(action, "%s") : NULL;
	size_t alen, head, slen, tail;
	int n;

	if (pct == NULL && (alen = strlen(action)) + 10 <= len) {
		/* the common case, without printf */
		memcpy(out, "action=", 7);
		memcpy(out + 7, action, alen);
		memcpy(out + 7 + alen, "\n\n", 3);
		return alen + 9;
	}
	if (pct != NULL) {
		head = (size_t)(pct - action);
		slen = strlen(subst);
		tail = strlen(pct + 2);
		if (7 + head + slen + tail + 3 <= len) {
			/* the same, with the substitution */
			memcpy(out, "action=", 7);
			memcpy(out + 7, action, head);
			memcpy(out + 7 + head, subst, slen);
			memcpy(out + 7 + head + slen, pct + 2, tail);
			memcpy(out + 7 + head + slen + tail, "\n\n", 3);
			return 7 + head + slen + tail + 2;
		}
	}
	if (pct != NULL)
		n = snprintf(out, len, "action=%.*s%s%s\n\n",
			     (int)(pct - action), action, subst, pct + 2);
	else
		n = snprintf(out, len, "action=%s\n\n", action);
	if (n < 0)
		n = 0;
	if ((size_t)n >= len) {
		/* cut, but keep the protocol intact */
		n = (int)len - 1;
		out[n - 2] = '\n';
		out[n - 1] = '\n';
		out[n] = '\0';
	}
	return (size_t)n;
}

struct decision {
	const char *action;	/* NULL: go on */
	const char *subst;	/* for "%s" */
	bool logging;		/* why is only formatted when logged */
	char why[160];
};

static void check_table(const struct policy_ctx *ctx,
			const struct policy_request *req, struct decision *d)
{
	struct bav_addr_result r;

	bav_addrtable_lookup(ctx->table, req->recipient, &r);
	if (d->logging)
		snprintf(d->why, sizeof(d->why), "table %s %s%s%s",
			 bav_addr_verb_name(r.verb), bav_addr_how_name(r.how),
			 *r.key != '\0' ? " " : "", r.key);
	if (r.verb == BAV_ADDR_REJECT)
		d->action = settings.reject_action;
	else if (r.verb == BAV_ADDR_TEMPFAIL)
		d->action = settings.tempfail_action;
	else if (strcasecmp(settings.accept_action, "DUNNO") != 0)
		d->action = settings.accept_action;
}

static void check_rates(const struct policy_ctx *ctx,
			const struct policy_request *req, const char *rcpt,
			struct decision *d)
{
	unsigned int n;

	if (settings.null_client_limit > 0 && *req->client_address != '\0' &&
	    ratelimit_hit(ctx->rl, "c", req->client_address,
			  settings.null_client_limit, settings.null_window,
			  ctx->now, &n)) {
		if (d->logging)
			snprintf(d->why, sizeof(d->why), "null sender rate: "
				 "%u from client in %us, limit %u", n,
				 settings.null_window,
				 settings.null_client_limit);
		d->action = settings.ratelimit_action;
		return;
	}
	if (settings.null_rcpt_limit > 0 &&
	    ratelimit_hit(ctx->rl, "r", rcpt, settings.null_rcpt_limit,
			  settings.null_window, ctx->now, &n)) {
		if (d->logging)
			snprintf(d->why, sizeof(d->why), "null sender rate: "
				 "%u to recipient in %us, limit %u", n,
				 settings.null_window,
				 settings.null_rcpt_limit);
		d->action = settings.ratelimit_action;
	}
}

size_t policy_spf_reply(const char *header, char *out, size_t len)
{
	char action[900];

	if (*header == '\0' || settings.mode == MODE_LOGONLY)
		return format_reply(out, len, settings.default_action, NULL);
	snprintf(action, sizeof(action), "PREPEND %s", header);
	return format_reply(out, len, action, NULL);
}

size_t policy_decide(const struct policy_ctx *ctx,
		     const struct policy_request *req, const char *tag,
		     char *out, size_t len, bool *spf_r)
{
	struct decision d = { NULL, NULL, log_enabled(LOG_L_INFO), "no rule" };
	char rcpt[ADDR_MAX], lrcpt[256], lfrom[256], lclient[64];
	const char *state;

	*spf_r = false;
	if (strcasecmp(req->protocol_state, "RCPT") != 0 ||
	    *req->recipient == '\0')
		return format_reply(out, len, "DUNNO", NULL);
	if (!normalize(req->recipient, rcpt, sizeof(rcpt)))
		rcpt[0] = '\0';
	if (ctx->table != NULL)
		check_table(ctx, req, &d);
	if (d.action == NULL && ctx->rl != NULL && *req->sender == '\0' &&
	    rcpt[0] != '\0')
		check_rates(ctx, req, rcpt, &d);
	if (d.action == NULL && ctx->snap != NULL && rcpt[0] != '\0' &&
	    (state = suppress_lookup(ctx->snap, rcpt)) != NULL) {
		if (d.logging)
			snprintf(d.why, sizeof(d.why), "suppressed: %s",
				 state);
		d.action = settings.suppress_action;
		d.subst = state;
	}
	if (d.action == NULL) {
		d.action = settings.default_action;
		*spf_r = settings.spf;
	}
	if (d.logging) {
		char act[256];

		format_reply(act, sizeof(act), d.action, d.subst);
		act[strcspn(act, "\n")] = '\0';
		log_msg(LOG_L_INFO, "%s: %s%s rcpt=%s from=<%s> client=%s (%s)",
			*req->queue_id != '\0' ? req->queue_id : tag,
			settings.mode == MODE_LOGONLY &&
			d.action != settings.default_action ?
			"log-only, would " : "", act,
			log_sanitize(lrcpt, sizeof(lrcpt), req->recipient),
			log_sanitize(lfrom, sizeof(lfrom), req->sender),
			log_sanitize(lclient, sizeof(lclient),
				     *req->client_address != '\0' ?
				     req->client_address : "unknown"),
			d.why);
	}
	if (settings.mode == MODE_LOGONLY)
		return format_reply(out, len, settings.default_action, NULL);
	return format_reply(out, len, d.action, d.subst);
}
