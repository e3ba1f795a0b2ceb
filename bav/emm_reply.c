/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	emm_reply - inbox and autoresponder rate limit of the EMM mode
 * SYNOPSIS
 *	#include "emm_private.h"
 *
 *	int emm_write_inbox(struct bav_emm *emm, const struct emm_event *ev,
 *			    const struct bav_emm_mail *mail,
 *			    struct bav_emm_outcome *out, const char **error_r)
 *	int emm_write_ar(struct bav_emm *emm, const struct emm_event *ev,
 *			 const struct bav_emm_mail *mail,
 *			 struct bav_emm_outcome *out, const char **error_r)
 * DESCRIPTION
 *	emm_write_inbox() stores a reply that was not forwarded in
 *	mailloop_replies_tbl (spec 5.12) when the company is known, the rid
 *	is a filter of mailloop_tbl, the recipient is known and
 *	company_info bavd:inbox-enabled is true for the filter ([rid]), the
 *	company or globally: status 0 (unread), sender address as name
 *	and address, Subject, response_email = the envelope recipient,
 *	content = the message body as text (valid UTF-8, at most 1 MiB),
 *	content_type 0, customer_id and customer_company_id of the origin.
 *	out->inbox_id gets the new id.
 *
 *	emm_write_ar() is the gate of spec 5.13 for a filter with an
 *	autoresponder mailing: the mailing must belong to the company, not
 *	be deleted and be action based (maildrop_status_tbl 'E'); a
 *	customer with an admin or test binding (user_type A, T, t) on the
 *	autoresponder's or the origin mailing's list is never limited;
 *	else bounce_ar_lastsent_tbl (rid, customer) allows one answer per
 *	bounce_config_tbl autoresponder.limit (default 1d). Never for a
 *	null envelope sender. out->autoresponder tells the caller to send;
 *	the webapp call itself (sendMailloopAutoresponder.action) is not
 *	made here.
 * DIAGNOSTICS
 *	0 (also when nothing was stored) or a store bav_err.
 * SEE ALSO
 *	emm-mailloop spec 5.9, 5.12, 5.13
 */
#include "emm_private.h"

#include <string.h>

#define MAX_CONTENT (1024 * 1024)

/* The body after the header, as valid UTF-8 ('?' for bad bytes). */
static char *body_text(struct bav_pool *pool, const unsigned char *msg,
		       size_t len)
{
	size_t i = 0, o = 0, start = 0;
	char *out;

	for (i = 0; msg != NULL && i + 1 < len; i++) {
		if (msg[i] == '\n' && msg[i + 1] == '\n') {
			start = i + 2;
			break;
		}
		if (msg[i] == '\n' && msg[i + 1] == '\r' && i + 2 < len &&
		    msg[i + 2] == '\n') {
			start = i + 3;
			break;
		}
	}
	if (msg == NULL || start == 0)
		return bav_pool_strdup(pool, "");
	len -= start;
	msg += start;
	if (len > MAX_CONTENT)
		len = MAX_CONTENT;
	out = bav_pool_alloc(pool, len + 1);
	for (i = 0; i < len;) {
		unsigned char c = msg[i];
		size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 :
			(c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		size_t k;

		if (c == '\0')
			n = 0;
		for (k = 1; n > 1 && k < n; k++)
			if (i + k >= len || (msg[i + k] & 0xc0) != 0x80)
				n = 0;
		if (n == 0) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, msg + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return out;
}

int emm_write_inbox(struct bav_emm *emm, const struct emm_event *ev,
		    const struct bav_emm_mail *mail,
		    struct bav_emm_outcome *out, const char **error_r)
{
	const struct emm_filter *f = emm_config_filter(emm->cfg, ev->rid);
	const struct emm_company *c = emm_config_company(emm->cfg,
							 ev->company);
	const struct bav_verdict *v = mail->verdict;
	const char *sender = v->from != NULL && v->from[0] != '\0' ? v->from :
		mail->return_path != NULL ? mail->return_path : "";
	const char *subject = v->subject != NULL ? v->subject : "";
	bool known = ev->customer > 0;
	int ret;

	if (f == NULL || ev->rid <= 0 || ev->company <= 0 ||
	    mail->recipient == NULL || mail->recipient[0] == '\0' ||
	    !(f->inbox || (c != NULL && c->inbox) || emm->cfg->global_inbox))
		return BAV_OK;
	{
		const struct bav_store_param p[] = {
			BAV_STORE_PARAM_INT(ev->rid),
			BAV_STORE_PARAM_TEXT(bav_str_sanitize(emm->pool, sender,
							      200)),
			BAV_STORE_PARAM_TEXT(bav_str_sanitize(emm->pool,
							      subject, 200)),
			BAV_STORE_PARAM_TEXT(bav_str_sanitize(emm->pool, sender,
							      200)),
			BAV_STORE_PARAM_TEXT(bav_str_sanitize(emm->pool,
							      mail->recipient,
							      200)),
			BAV_STORE_PARAM_TEXT(ev->stamp),
			BAV_STORE_PARAM_TEXT(body_text(emm->pool, mail->msg,
						       mail->msg_len)),
			known ? (struct bav_store_param)
				BAV_STORE_PARAM_INT(ev->customer) :
				(struct bav_store_param)BAV_STORE_PARAM_NULL,
			BAV_STORE_PARAM_INT(ev->company),
			known ? (struct bav_store_param)
				BAV_STORE_PARAM_INT(ev->company) :
				(struct bav_store_param)BAV_STORE_PARAM_NULL };

		ret = bav_store_exec(emm->store, "INSERT INTO mailloop_replies_tbl"
				     " (mailloop_id, status, sender_full_name,"
				     " subject, sender_email, response_email,"
				     " timestamp, content, content_type,"
				     " raw_message, customer_id, company_id,"
				     " customer_company_id) VALUES (?, 0, ?, ?,"
				     " ?, ?, ?, ?, 0, NULL, ?, ?, ?)", p, 10,
				     NULL, NULL, error_r);
	}
	if (ret == BAV_OK)
		out->inbox_id = bav_store_last_id(emm->store);
	return ret;
}

static int int_row(void *ctx, const struct bav_store_value *v,
		   const char *const *names, unsigned int n)
{
	(void)names;
	(void)n;
	*(long long *)ctx = v[0].i;
	return 1;
}

/* The autoresponder mailing's list when it may answer, else 0. */
static long long ar_list(struct bav_emm *emm, long long armid,
			 long long company, const char **error_r, int *ret_r)
{
	struct emm_mailing m;
	const struct bav_store_param p[] = { BAV_STORE_PARAM_INT(armid) };
	long long active = 0;

	*ret_r = emm_mailing_get(emm, armid, &m, error_r);
	if (*ret_r <= 0 || m.company != company || m.deleted)
		return 0;
	*ret_r = bav_store_exec(emm->store, "SELECT COUNT(*) FROM"
				" maildrop_status_tbl WHERE mailing_id = ? AND"
				" status_field = 'E'", p, 1, int_row, &active,
				error_r);
	return *ret_r == BAV_OK && active > 0 ? m.mailinglist : 0;
}

int emm_write_ar(struct bav_emm *emm, const struct emm_event *ev,
		 const struct bav_emm_mail *mail, struct bav_emm_outcome *out,
		 const char **error_r)
{
	const struct emm_filter *f = emm_config_filter(emm->cfg, ev->rid);
	struct emm_mailing om;
	long long list, admin = 0, last = -1;
	long long limit = emm_unit_seconds(emm->cfg->ar_limit);
	const char *t;
	int ret;

	if (f == NULL || f->ar_mailing <= 0 || ev->company <= 0 ||
	    mail->return_path == NULL || mail->return_path[0] == '\0' ||
	    mail->verdict->from == NULL || mail->verdict->from[0] == '\0')
		return BAV_OK;
	list = ar_list(emm, f->ar_mailing, ev->company, error_r, &ret);
	if (ret < 0 || list == 0)
		return ret < 0 ? ret : BAV_OK;
	if ((ret = emm_mailing_get(emm, ev->mailing, &om, error_r)) < 0)
		return ret;
	t = bav_pool_printf(emm->pool, "SELECT COUNT(*) FROM"
			    " customer_%lld_binding_tbl WHERE customer_id = ?"
			    " AND mediatype = 0 AND user_type IN ('A', 'T',"
			    " 't') AND mailinglist_id IN (?, ?)", ev->company);
	{
		const struct bav_store_param p[] = {
			BAV_STORE_PARAM_INT(ev->customer),
			BAV_STORE_PARAM_INT(list),
			BAV_STORE_PARAM_INT(om.mailinglist) };

		if ((ret = bav_store_exec(emm->store, t, p, 3, int_row, &admin,
					  error_r)) != BAV_OK)
			return ret;
	}
	if (admin > 0) {
		out->autoresponder = true;
		return BAV_OK;
	}
	{
		const struct bav_store_param p[] = {
			BAV_STORE_PARAM_INT(ev->rid),
			BAV_STORE_PARAM_INT(ev->customer) };
		const struct bav_store_param u[] = {
			BAV_STORE_PARAM_TEXT(ev->stamp),
			BAV_STORE_PARAM_INT(ev->rid),
			BAV_STORE_PARAM_INT(ev->customer) };

		ret = bav_store_exec(emm->store, "SELECT"
				     " UNIX_TIMESTAMP(lastsent) FROM"
				     " bounce_ar_lastsent_tbl WHERE rid = ? AND"
				     " customer_id = ?", p, 2, int_row, &last,
				     error_r);
		if (ret != BAV_OK)
			return ret;
		if (last >= 0 && last + (limit > 0 ? limit : 86400) >=
		    (long long)ev->time)
			return BAV_OK;	/* answered recently */
		if (last >= 0)
			ret = bav_store_exec(emm->store, "UPDATE"
					     " bounce_ar_lastsent_tbl SET"
					     " lastsent = ? WHERE rid = ? AND"
					     " customer_id = ?", u, 3, NULL,
					     NULL, error_r);
		else
			ret = bav_store_exec(emm->store, "INSERT INTO"
					     " bounce_ar_lastsent_tbl (lastsent,"
					     " rid, customer_id) VALUES (?, ?, ?)",
					     u, 3, NULL, NULL, error_r);
	}
	if (ret == BAV_OK)
		out->autoresponder = true;
	return ret;
}
