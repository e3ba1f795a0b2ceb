/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	store_record - record a verdict in the store; unblock an address
 * SYNOPSIS
 *	#include "bav_store.h"
 *
 *	int bav_store_record(struct bav_store *store,
 *			     const struct bav_verdict *verdict,
 *			     const char *message_key,
 *			     const char *receiving_host, time_t t,
 *			     const char **error_r);
 *	int bav_store_unblock(struct bav_store *store, const char *address,
 *			      const char *reason, const char *actor, time_t t,
 *			      const char **error_r);
 * DESCRIPTION
 *	bav_store_record() writes, in one transaction (the caller's, or
 *	its own): the bav_messages row keyed by message_key (already
 *	there: the unique key refuses it, return 1, write nothing), one
 *	bav_events row per result, the state of each recipient in
 *	bav_recipients and, for replies and auto-replies, a bav_replies
 *	row. Everything goes through bav_store_exec(), in portable SQL
 *	apart from the recipient upsert (ON CONFLICT for SQLite, ON
 *	DUPLICATE KEY for MariaDB): about four statements per result.
 *	Strings are cut to the column sizes of the MariaDB schema (on a
 *	UTF-8 character boundary) so a strict server never refuses a row.
 *
 *	State changes: a hard bounce makes an active or soft-bounced
 *	address "bounced", a feedback report "complained", an unsubscribe
 *	"unsubscribed" (a later state never replaces complained or
 *	unsubscribed); delivered sets last_delivery, a human reply
 *	last_engagement. Soft bounces and delays only set last_event.
 * DIAGNOSTICS
 *	0 recorded, 1 already recorded / nothing to unblock, or a negative
 *	bav_err with *error_r (store-owned). On error inside its own
 *	transaction the transaction is rolled back; inside the caller's
 *	the caller must roll back.
 * SEE ALSO
 *	bav_store.h, sql/sqlite/001-initial.sql
 */
#include "store_private.h"

#include <stdlib.h>

struct rec {
	struct bav_store *store;
	const struct bav_verdict *v;
	time_t t;
	const char *host;
	long long message_id;
	struct bav_pool *pool;		/* cut strings */
	const char **error_r;
};

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t need, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 2;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 3;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < need + 1 || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i <= need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return need + 1;
}

/* s as valid UTF-8 of at most max bytes: invalid bytes become '?', a
   longer text is cut at a character boundary. s itself when it is
   already fine, else a pool copy. A strict MariaDB (utf8mb4, TEXT of
   64 KiB) would refuse the row otherwise. */
static const char *cut(struct rec *r, const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n, i, k;
	struct bav_buf b = { 0 };
	char *copy;

	if (s == NULL)
		return "";
	n = strlen(s);
	for (i = 0; i < n && i < max; i += k)
		if ((k = utf8_len(u + i, n - i)) == 0 || i + k > max)
			break;
	if (i == n)
		return s;
	for (i = 0; i < n; i += k) {
		k = utf8_len(u + i, n - i);
		if (b.len + (k == 0 ? 1 : k) > max)
			break;
		if (k == 0) {
			bav_buf_putc(&b, '?');
			k = 1;
		} else {
			bav_buf_append(&b, s + i, k);
		}
	}
	copy = bav_pool_strndup(r->pool, b.data != NULL ? b.data : "", b.len);
	bav_buf_free(&b);
	return copy;
}

/* the MariaDB TEXT columns hold 65535 bytes */
#define TEXT_MAX 65000

#define TEXT(s) BAV_STORE_PARAM_TEXT((s) != NULL ? (s) : "")
#define TX(s) BAV_STORE_PARAM_TEXT(cut(r, (s), TEXT_MAX))
#define OPT_INT(x) { (x) != 0 ? BAV_STORE_INT : BAV_STORE_NULL, (x), NULL }

/* The number of bav_events rows record_body() writes. */
static unsigned int event_count(const struct bav_verdict *v)
{
	unsigned int i, n = 0;

	for (i = 0; i < v->result_count; i++)
		if (v->results[i].recipient != NULL &&
		    v->results[i].recipient[0] != '\0')
			n++;
	if (v->result_count == 0 && v->kind == BAV_KIND_UNSUBSCRIBE &&
	    v->from != NULL && v->from[0] != '\0')
		n = 1;
	return n;
}

static int insert_message(struct rec *r, const char *key)
{
	const struct bav_verdict *v = r->v;
	const struct bav_identity *id = &v->ident;
	const struct bav_agnuid *o = id->origin;
	struct bav_store_param p[] = {
		BAV_STORE_PARAM_TEXT(key),
		BAV_STORE_PARAM_INT(r->t),
		TEXT(cut(r, r->host, 255)),
		TEXT(bav_kind_name(v->kind)),
		TX(v->rule), TX(v->mark), TX(v->from), TX(v->subject),
		TX(v->reporting_mta), TX(v->unsubscribe_uid),
		TX(id->message_id), TX(id->envelope_sender),
		TX(id->envelope_recipient), TX(id->envelope_id),
		TX(id->subject), TX(id->verp),
		TX(o != NULL ? o->text : ""),
		OPT_INT(o != NULL ? o->licence_id : 0),
		OPT_INT(o != NULL ? o->company_id : 0),
		OPT_INT(o != NULL ? o->mailing_id : 0),
		OPT_INT(o != NULL ? o->customer_id : 0),
		BAV_STORE_PARAM_INT(event_count(v)),
	};
	int ret;

	ret = bav_store_exec(r->store,
		"INSERT INTO bav_messages (message_key, time, receiving_host,"
		" kind, rule, mark, from_addr, subject, reporting_mta,"
		" unsubscribe_uid, orig_message_id, envelope_sender,"
		" envelope_recipient, envelope_id, orig_subject, verp, agnuid,"
		" licence_id, company_id, mailing_id, customer_id,"
		" result_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
		" ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		p, sizeof(p) / sizeof(p[0]), NULL, NULL, r->error_r);
	r->message_id = bav_store_last_id(r->store);
	return ret;
}

static const char *domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL ? at + 1 : "";
}

static int insert_event(struct rec *r, const struct bav_result *res,
			const char *addr)
{
	const struct bav_verdict *v = r->v;
	const struct bav_agnuid *o = v->ident.origin;
	struct bav_store_param p[] = {
		BAV_STORE_PARAM_INT(r->message_id),
		BAV_STORE_PARAM_INT(r->t),
		TEXT(addr), TEXT(cut(r, domain_of(addr), 255)),
		TX(res->orig_recipient),
		TEXT(bav_kind_name(v->kind)),
		TEXT(cut(r, res->action, 32)), TEXT(cut(r, res->reason, 64)),
		BAV_STORE_PARAM_INT(res->hard ? 1 : 0),
		BAV_STORE_PARAM_INT(res->detail),
		TEXT(cut(r, res->status, 16)),
		BAV_STORE_PARAM_INT(res->replycode),
		TX(res->diagnostic), TX(res->remote_mta), TX(res->rule),
		TEXT(cut(r, res->feedback_type, 64)),
		TX(v->ident.message_id), TX(v->ident.envelope_sender),
		OPT_INT(o != NULL ? o->licence_id : 0),
		OPT_INT(o != NULL ? o->company_id : 0),
		OPT_INT(o != NULL ? o->mailing_id : 0),
		OPT_INT(o != NULL ? o->customer_id : 0),
		TEXT(cut(r, r->host, 255)),
	};

	return bav_store_exec(r->store,
		"INSERT INTO bav_events (message_id, time, recipient, domain,"
		" orig_recipient, kind, action, reason, hard, detail, status,"
		" replycode, diagnostic, remote_mta, rule, feedback_type,"
		" orig_message_id, envelope_sender, licence_id, company_id,"
		" mailing_id, customer_id, receiving_host) VALUES (?, ?, ?,"
		" ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		p, sizeof(p) / sizeof(p[0]), NULL, NULL, r->error_r);
}

/* What one result does to its address: new state (or NULL) and which
   time column to set. */
static void state_change(const struct bav_verdict *v,
			 const struct bav_result *res, const char **state_r,
			 const char **column_r)
{
	*state_r = NULL;
	*column_r = "last_event";
	switch (v->kind) {
	case BAV_KIND_BOUNCE:
		if (res != NULL && res->hard)
			*state_r = "bounced";
		break;
	case BAV_KIND_FEEDBACK:
		*state_r = "complained";
		break;
	case BAV_KIND_UNSUBSCRIBE:
		*state_r = "unsubscribed";
		break;
	case BAV_KIND_DELIVERED:
		*column_r = "last_delivery";
		break;
	case BAV_KIND_REPLY:
		*column_r = "last_engagement";
		break;
	default:
		break;
	}
}

static int update_recipient(struct rec *r, const char *addr,
			    const struct bav_result *res)
{
	const struct bav_agnuid *o = r->v->ident.origin;
	const char *state, *column, *why;
	struct bav_buf sql = { 0 };
	int ret;

	state_change(r->v, res, &state, &column);
	why = res != NULL && res->reason[0] != '\0' ? res->reason :
	      bav_kind_name(r->v->kind);
	{
		struct bav_store_param p[] = {
			TEXT(addr), TEXT(cut(r, domain_of(addr), 255)),
			BAV_STORE_PARAM_INT(r->t), BAV_STORE_PARAM_INT(r->t),
			OPT_INT(o != NULL ? o->company_id : 0),
			OPT_INT(o != NULL ? o->customer_id : 0),
		};
		/* the time column first, so a row exists for the state;
		   one upsert (the only dialect-specific statement) */
		bav_buf_printf(&sql, "INSERT INTO bav_recipients (address, "
			       "domain, state_since, %s, company_id, "
			       "customer_id) VALUES (?, ?, ?, ?, ?, ?) ",
			       column);
		if (strcmp(bav_store_backend(r->store), "mariadb") == 0)
			bav_buf_printf(&sql, "ON DUPLICATE KEY UPDATE %s = "
				       "VALUES(%s)", column, column);
		else
			bav_buf_printf(&sql, "ON CONFLICT (address) DO UPDATE"
				       " SET %s = excluded.%s", column, column);
		ret = bav_store_exec(r->store, sql.data, p, 6, NULL, NULL,
				     r->error_r);
	}
	bav_buf_free(&sql);
	if (ret == BAV_OK && state != NULL) {
		struct bav_store_param p[] = {
			TEXT(state), BAV_STORE_PARAM_INT(r->t),
			TEXT(cut(r, why, 250)),
			BAV_STORE_PARAM_INT(r->message_id), TEXT(addr),
			TEXT(state),
		};
		ret = bav_store_exec(r->store,
			"UPDATE bav_recipients SET state = ?, state_since = ?,"
			" state_reason = ?, state_event = ? WHERE address = ?"
			" AND (state IN ('active', 'softbounce') OR"
			" (state = 'bounced' AND ? <> 'bounced'))",
			p, 6, NULL, NULL, r->error_r);
	}
	return ret;
}

static int insert_reply(struct rec *r)
{
	const struct bav_verdict *v = r->v;
	const struct bav_agnuid *o = v->ident.origin;
	struct bav_store_param p[] = {
		BAV_STORE_PARAM_INT(r->message_id), BAV_STORE_PARAM_INT(r->t),
		TEXT(bav_kind_name(v->kind)),
		TEXT(cut(r, v->from, 320)), TX(v->subject),
		TX(v->ident.envelope_recipient),
		TEXT(v->mark[0] != '\0' ? cut(r, v->mark, 32) : "recorded"),
		OPT_INT(o != NULL ? o->company_id : 0),
		OPT_INT(o != NULL ? o->mailing_id : 0),
		OPT_INT(o != NULL ? o->customer_id : 0),
	};

	return bav_store_exec(r->store,
		"INSERT INTO bav_replies (message_id, time, kind,"
		" sender_email, subject, response_email, action, company_id,"
		" mailing_id, customer_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
		" ?)", p, sizeof(p) / sizeof(p[0]), NULL, NULL, r->error_r);
}

/* Lower-cased, cut address; "" when there is none. */
static const char *address(struct rec *r, const char *s)
{
	return bav_str_lower(bav_pool_strdup(r->pool, cut(r, s, 320)));
}

static int record_body(struct rec *r)
{
	const struct bav_verdict *v = r->v;
	unsigned int i;
	int ret = BAV_OK;

	for (i = 0; i < v->result_count && ret == BAV_OK; i++) {
		const struct bav_result *res = &v->results[i];
		const char *addr = address(r, res->recipient);

		if (addr[0] == '\0')
			continue;
		ret = insert_event(r, res, addr);
		if (ret == BAV_OK)
			ret = update_recipient(r, addr, res);
	}
	if (ret == BAV_OK && v->result_count == 0 &&
	    (v->kind == BAV_KIND_UNSUBSCRIBE || v->kind == BAV_KIND_REPLY) &&
	    v->from != NULL && v->from[0] != '\0') {
		struct bav_result none = {
			.recipient = v->from, .orig_recipient = "",
			.action = "", .status = "", .diagnostic = "",
			.remote_mta = "", .reason = "", .rule = v->rule,
			.feedback_type = "",
		};
		const char *addr = address(r, v->from);

		if (v->kind == BAV_KIND_UNSUBSCRIBE)
			ret = insert_event(r, &none, addr);
		if (ret == BAV_OK)
			ret = update_recipient(r, addr, &none);
	}
	if (ret == BAV_OK && (v->kind == BAV_KIND_REPLY ||
			      v->kind == BAV_KIND_AUTOREPLY))
		ret = insert_reply(r);
	return ret;
}

int bav_store_record(struct bav_store *store,
		     const struct bav_verdict *verdict,
		     const char *message_key, const char *receiving_host,
		     time_t t, const char **error_r)
{
	struct rec r = { .store = store, .v = verdict, .t = t,
			 .host = receiving_host, .error_r = error_r };
	bool own_tx = !store->in_tx, found = false;
	int ret;

	if (own_tx && (ret = bav_store_begin(store, error_r)) < 0)
		return ret;
	r.pool = bav_pool_new(4096);
	/* the unique message_key decides: a duplicate is already there */
	ret = insert_message(&r, message_key);
	if (ret < 0 && store->last_dup) {
		found = true;
		ret = BAV_OK;
	} else if (ret == BAV_OK) {
		ret = record_body(&r);
	}
	bav_pool_free(&r.pool);
	if (own_tx) {
		const char *e2;

		if (ret == BAV_OK)
			ret = bav_store_commit(store, error_r);
		else
			(void)bav_store_rollback(store, &e2);
	}
	return ret < 0 ? ret : found ? 1 : 0;
}

static int state_row(void *ctx, const struct bav_store_value *cols,
		     const char *const *names, unsigned int ncols)
{
	struct bav_buf *b = ctx;

	(void)names;
	if (ncols > 0 && cols[0].s != NULL)
		bav_buf_append(b, cols[0].s, cols[0].len);
	return 1;
}

int bav_store_unblock(struct bav_store *store, const char *addr,
		      const char *reason, const char *actor, time_t t,
		      const char **error_r)
{
	struct bav_buf lower = { 0 }, old = { 0 };
	bool own_tx = !store->in_tx;
	int ret, changed = 0;

	bav_buf_append(&lower, addr, strlen(addr));
	bav_str_lower(lower.data);
	if (own_tx && (ret = bav_store_begin(store, error_r)) < 0)
		goto out;
	{
		struct bav_store_param p[] = { TEXT(lower.data) };
		ret = bav_store_exec(store, "SELECT state FROM bav_recipients"
				     " WHERE address = ?", p, 1, state_row,
				     &old, error_r);
	}
	if (ret == BAV_OK && old.len > 0 && strcmp(old.data, "active") != 0) {
		struct bav_store_param p[] = {
			BAV_STORE_PARAM_INT(t), TEXT(lower.data),
		};
		struct bav_store_param a[] = {
			BAV_STORE_PARAM_INT(t), TEXT(lower.data),
			TEXT(old.data), TEXT(reason), TEXT(actor),
		};
		ret = bav_store_exec(store, "UPDATE bav_recipients SET state ="
			" 'active', state_since = ?, state_reason = 'unblock',"
			" state_event = NULL, soft_count = 0, soft_first = NULL,"
			" soft_last = NULL WHERE address = ?", p, 2, NULL,
			NULL, error_r);
		if (ret == BAV_OK)
			ret = bav_store_exec(store, "INSERT INTO bav_audit ("
				"time, address, action, old_state, new_state,"
				" reason, actor) VALUES (?, ?, 'unblock', ?,"
				" 'active', ?, ?)", a, 5, NULL, NULL,
				error_r);
		changed = 1;
	}
	if (own_tx) {
		const char *e2;

		if (ret == BAV_OK)
			ret = bav_store_commit(store, error_r);
		else
			(void)bav_store_rollback(store, &e2);
	}
out:
	bav_buf_free(&lower);
	bav_buf_free(&old);
	return ret < 0 ? ret : changed ? 0 : 1;
}
