/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	ident - identity of the original mail behind a returned message
 * SYNOPSIS
 *	void bav_ident_collect(struct bav_msg *m)
 * DESCRIPTION
 *	Fills m->v->ident: Message-ID and Subject of the returned original
 *	(message/rfc822 or text/rfc822-headers part), its envelope sender
 *	(Return-Path of the original, else the address the report was sent
 *	to) and recipient (first result's original recipient), the
 *	configured extra headers of the original, and every OpenEMM agnUID
 *	found in Message-ID / References / In-Reply-To of any part, the
 *	unsubscribe Subject and links in text parts (spec 5.2, 5.4). The
 *	origin is the most frequent valid token (ties: the last seen).
 * DIAGNOSTICS
 *	none.
 */
#include "classify_private.h"

#include <strings.h>

struct scan_ctx {
	struct bav_msg *m;
	struct bav_agnuid *toks;
	unsigned int n, alloc;
};

static void found(void *ctxp, const char *token, bool bcc)
{
	struct scan_ctx *ctx = ctxp;
	struct bav_msg *m = ctx->m;
	struct bav_agnuid tok;

	if (ctx->n >= 256)
		return;
	memset(&tok, 0, sizeof(tok));
	if (bav_agnuid_parse(m->pool, token, m->opts->agnuid_secret,
			     m->opts->agnuid_licence, &tok) != 1)
		return;
	tok.bcc = bcc;
	if (ctx->n == ctx->alloc) {
		unsigned int na = ctx->alloc == 0 ? 8 : ctx->alloc * 2;
		struct bav_agnuid *nt = bav_pool_alloc(m->pool,
						       na * sizeof(*nt));

		if (ctx->n > 0)
			memcpy(nt, ctx->toks, ctx->n * sizeof(*nt));
		ctx->toks = nt;
		ctx->alloc = na;
	}
	ctx->toks[ctx->n++] = tok;
}

static void scan_part(struct scan_ctx *ctx, struct bav_part *p)
{
	static const char *const idh[] = { "Message-ID", "References",
					   "In-Reply-To" };
	unsigned int i, k;

	for (i = 0; i < p->header_count; i++) {
		for (k = 0; k < 3; k++)
			if (strcasecmp(p->headers[i].name, idh[k]) == 0)
				bav_agnuid_scan_msgid(p->headers[i].value,
						      found, ctx);
		if (strcasecmp(p->headers[i].name, "Subject") == 0 ||
		    strcasecmp(p->headers[i].name, "List-Unsubscribe") == 0)
			bav_agnuid_scan_text(p->headers[i].value,
					     strlen(p->headers[i].value),
					     found, ctx);
	}
	if (p->body != NULL && strncmp(p->ctype, "text/", 5) == 0)
		bav_agnuid_scan_text(p->body, p->body_len, found, ctx);
}

static void pick_origin(struct bav_msg *m, struct scan_ctx *ctx)
{
	unsigned int i, j, best = 0, best_n = 0;

	for (i = 0; i < ctx->n; i++) {
		unsigned int n = 0;

		for (j = 0; j < ctx->n; j++)
			if (ctx->toks[j].customer_id == ctx->toks[i].customer_id &&
			    ctx->toks[j].mailing_id == ctx->toks[i].mailing_id &&
			    ctx->toks[j].company_id == ctx->toks[i].company_id &&
			    ctx->toks[j].licence_id == ctx->toks[i].licence_id)
				n++;
		if (n >= best_n) {
			best_n = n;
			best = i;
		}
	}
	m->v->ident.agnuids = ctx->toks;
	m->v->ident.agnuid_count = ctx->n;
	m->v->ident.origin = ctx->n > 0 ? &ctx->toks[best] : NULL;
}

void bav_ident_collect(struct bav_msg *m)
{
	struct bav_identity *id = &m->v->ident;
	struct bav_part *o = m->original, *p;
	struct scan_ctx ctx = { .m = m };
	unsigned int i;

	if (o != NULL) {
		const char *v = bav_part_header(o, "Message-ID");

		if (v != NULL)
			id->message_id = bav_str_squeeze(m->pool, v, strlen(v));
		v = bav_part_header(o, "Subject");
		if (v != NULL)
			id->subject = bav_hdr_decode(m->pool, v);
		v = bav_part_header(o, "Return-Path");
		if (v != NULL)
			id->envelope_sender = bav_addr_extract(m->pool, v);
	}
	if (*id->envelope_sender == '\0' && m->nres > 0)
		id->envelope_sender = m->to;
	for (i = 0; i < m->nres; i++) {
		const char *r = *m->res[i].orig_recipient != '\0' ?
				m->res[i].orig_recipient : m->res[i].recipient;

		if (*r != '\0') {
			id->envelope_recipient = r;
			break;
		}
	}
	if (o != NULL && m->opts->ident_header_count > 0) {
		unsigned int n = m->opts->ident_header_count;

		id->extra_names = bav_pool_alloc(m->pool, n * sizeof(char *));
		id->extra_values = bav_pool_alloc(m->pool, n * sizeof(char *));
		for (i = 0; i < n; i++) {
			const char *v = bav_part_header(o, m->opts->ident_headers[i]);

			if (v == NULL)
				continue;
			id->extra_names[id->extra_count] =
				m->opts->ident_headers[i];
			id->extra_values[id->extra_count++] =
				bav_hdr_decode(m->pool, v);
		}
	}
	for (p = m->root; p != NULL; p = bav_part_next(m->root, p))
		scan_part(&ctx, p);
	pick_origin(m, &ctx);
}
