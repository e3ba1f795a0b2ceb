/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	output - JSON Lines and TSV printers of bav classify
 * SYNOPSIS
 *	void output_json(FILE *fp, const struct input_msg *msg,
 *			 const struct bav_verdict *v)
 *	void output_tsv(FILE *fp, const struct input_msg *msg,
 *			const struct bav_verdict *v, unsigned int *idx)
 *	void output_json_string(FILE *fp, const char *s)
 * DESCRIPTION
 *	output_json() prints one JSON object on one line: file, idx, kind,
 *	rule, mark, unsubscribe_uid, from, subject, reporting_mta, identity
 *	(message_id, envelope_sender, envelope_recipient, envelope_id,
 *	subject, verp, agnuid: the origin token or null, headers: the
 *	configured headers of the returned original) and results (one
 *	object per recipient). Keys always appear in this order.
 *
 *	Strings: '"' and '\' are escaped, \b \f \n \r \t use their short
 *	form, other control characters and DEL become \u00XX; valid UTF-8
 *	is copied as is; every byte that is not part of a valid UTF-8
 *	sequence (overlong forms, surrogates and values above U+10FFFF
 *	included) becomes \ufffd, so the output is always valid UTF-8 JSON.
 *
 *	output_tsv() prints the DESIGN.md result lines read by
 *	score-corpus: basename(file) idx status replycode reason hard
 *	feedback_type recipient, TAB-separated, replycode empty when 0,
 *	hard 0/1, TAB, CR and LF inside values replaced by spaces. A verdict
 *	without results prints nothing.
 *
 *	The verdict is only read; the caller owns it (its pool).
 * DIAGNOSTICS
 *	none; write errors are found by the caller with ferror().
 */
#include "cmd.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned int c = p[0];
	size_t n, i;
	unsigned int cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void output_json_string(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	putc('"', fp);
	while (*p != '\0') {
		switch (*p) {
		case '"': fputs("\\\"", fp); p++; continue;
		case '\\': fputs("\\\\", fp); p++; continue;
		case '\b': fputs("\\b", fp); p++; continue;
		case '\f': fputs("\\f", fp); p++; continue;
		case '\n': fputs("\\n", fp); p++; continue;
		case '\r': fputs("\\r", fp); p++; continue;
		case '\t': fputs("\\t", fp); p++; continue;
		default: break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(fp, "\\u%04x", *p);
			p++;
		} else if ((n = utf8_len(p)) == 0) {
			fputs("\\ufffd", fp);
			p++;
		} else {
			fwrite(p, 1, n, fp);
			p += n;
		}
	}
	putc('"', fp);
}

static void key_str(FILE *fp, const char *key, const char *val, bool comma)
{
	if (comma)
		putc(',', fp);
	fprintf(fp, "\"%s\":", key);
	output_json_string(fp, val);
}

static void key_int(FILE *fp, const char *key, long long val)
{
	fprintf(fp, ",\"%s\":%lld", key, val);
}

static void key_bool(FILE *fp, const char *key, bool val)
{
	fprintf(fp, ",\"%s\":%s", key, val ? "true" : "false");
}

static void json_agnuid(FILE *fp, const struct bav_agnuid *a)
{
	if (a == NULL) {
		fputs("null", fp);
		return;
	}
	putc('{', fp);
	key_str(fp, "text", a->text, false);
	key_str(fp, "prefix", a->prefix, true);
	key_int(fp, "version", a->version);
	key_int(fp, "licence_id", a->licence_id);
	key_int(fp, "company_id", a->company_id);
	key_int(fp, "mailing_id", a->mailing_id);
	key_int(fp, "customer_id", a->customer_id);
	key_int(fp, "url_id", a->url_id);
	key_int(fp, "send_date", a->send_date);
	key_int(fp, "bit_options", a->bit_options);
	key_bool(fp, "bcc", a->bcc);
	key_bool(fp, "signature_checked", a->signature_checked);
	key_bool(fp, "signature_ok", a->signature_ok);
	putc('}', fp);
}

static void json_identity(FILE *fp, const struct bav_identity *id)
{
	unsigned int i;

	putc('{', fp);
	key_str(fp, "message_id", id->message_id, false);
	key_str(fp, "envelope_sender", id->envelope_sender, true);
	key_str(fp, "envelope_recipient", id->envelope_recipient, true);
	key_str(fp, "envelope_id", id->envelope_id, true);
	key_str(fp, "subject", id->subject, true);
	key_str(fp, "verp", id->verp, true);
	fputs(",\"agnuid\":", fp);
	json_agnuid(fp, id->origin);
	fputs(",\"headers\":{", fp);
	for (i = 0; i < id->extra_count; i++) {
		if (i > 0)
			putc(',', fp);
		output_json_string(fp, id->extra_names[i]);
		putc(':', fp);
		output_json_string(fp, id->extra_values[i]);
	}
	fputs("}}", fp);
}

static void json_result(FILE *fp, const struct bav_result *r)
{
	putc('{', fp);
	key_str(fp, "recipient", r->recipient, false);
	key_str(fp, "orig_recipient", r->orig_recipient, true);
	key_str(fp, "action", r->action, true);
	key_str(fp, "status", r->status, true);
	key_int(fp, "replycode", r->replycode);
	key_str(fp, "diagnostic", r->diagnostic, true);
	key_str(fp, "remote_mta", r->remote_mta, true);
	key_str(fp, "reason", r->reason, true);
	key_bool(fp, "hard", r->hard);
	key_int(fp, "detail", r->detail);
	key_str(fp, "rule", r->rule, true);
	key_str(fp, "feedback_type", r->feedback_type, true);
	putc('}', fp);
}

void output_json(FILE *fp, const struct input_msg *msg,
		 const struct bav_verdict *v)
{
	unsigned int i;

	putc('{', fp);
	key_str(fp, "file", msg->name, false);
	key_int(fp, "idx", msg->idx);
	key_str(fp, "kind", bav_kind_name(v->kind), true);
	key_str(fp, "rule", v->rule, true);
	key_str(fp, "mark", v->mark, true);
	key_str(fp, "unsubscribe_uid", v->unsubscribe_uid, true);
	key_str(fp, "from", v->from, true);
	key_str(fp, "subject", v->subject, true);
	key_str(fp, "reporting_mta", v->reporting_mta, true);
	fputs(",\"identity\":", fp);
	json_identity(fp, &v->ident);
	fputs(",\"results\":[", fp);
	for (i = 0; i < v->result_count; i++) {
		if (i > 0)
			putc(',', fp);
		json_result(fp, &v->results[i]);
	}
	fputs("]}\n", fp);
}

/* A TSV field: TAB, CR and LF become spaces; NULL prints nothing. */
static void tsv_field(FILE *fp, const char *s, bool last)
{
	if (s != NULL) {
		for (; *s != '\0'; s++)
			putc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s,
			     fp);
	}
	putc(last ? '\n' : '\t', fp);
}

void output_tsv(FILE *fp, const struct input_msg *msg,
		const struct bav_verdict *v, unsigned int *idx)
{
	const char *base = strrchr(msg->name, '/');
	unsigned int i;

	base = base == NULL ? msg->name : base + 1;
	for (i = 0; i < v->result_count; i++) {
		const struct bav_result *r = &v->results[i];

		tsv_field(fp, base, false);
		fprintf(fp, "%u\t", (*idx)++);
		tsv_field(fp, r->status, false);
		if (r->replycode != 0)
			fprintf(fp, "%d", r->replycode);
		putc('\t', fp);
		tsv_field(fp, r->reason, false);
		fputs(r->hard ? "1\t" : "0\t", fp);
		tsv_field(fp, r->feedback_type, false);
		tsv_field(fp, r->recipient, true);
	}
}
