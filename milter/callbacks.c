/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	callbacks - the mlfi_* callbacks of bav-milter
 * SYNOPSIS
 *	extern struct smfiDesc bav_milter_desc;
 * DESCRIPTION
 *	Per connection (smfi_setpriv): a reference to the address table of
 *	connect time, whether the client is local, and the transaction state
 *	(sender, X-AGNMailloop value, per-recipient headers, count of
 *	incoming X-AGNMailloop fields). The connection owns all of it;
 *	mlfi_close frees it, mlfi_envfrom and mlfi_abort reset the
 *	transaction part. Behaviour (emm-mailloop-spec section 2.4, with the
 *	fixes of 8.4):
 *
 *	negotiate: the MTA skips what bav-milter never reads (HELO unless
 *	-S, DATA, the body unless -k or -V, unknown commands), expects no
 *	reply to MAIL, headers and end-of-header, and sends only the macros
 *	read here, {i} and {client_resolve} (smfi_setsymlist; Postfix sends
 *	a macro packet before every event, each header included).
 *
 *	connect: local := the client address is in the local list
 *	(settings.local, loopback by default, IPv4-mapped too) or its
 *	verified name is in the -h list. Local clients get SMFIS_ACCEPT:
 *	the MTA calls nothing more, so no lookup, no loop check, no header
 *	change.
 *
 *	envfrom: value := "from=<sender>" (',' becomes '_').
 *
 *	envrcpt: table lookup (bav_addrtable_lookup). reject: "550 5.1.1 No
 *	such user"; tempfail: "400 4.0.0 Please try again later" (code from
 *	-t); accept: ",OPTIONS,to=<rcpt>" appended. Rejected recipients are
 *	not recorded (OpenEMM recorded them). soft mode turns 5xx into 4xx,
 *	log-only mode logs and accepts.
 *
 *	header: X-AGNLoop from a remote client is remembered and the
 *	message refused at eom with "500 5.4.6 Loop detected" (the same
 *	point of the SMTP dialogue as a refusal at the header, and headers
 *	then need no reply: SMFIP_NR_HDR); X-AGNMailloop fields are counted.
 *
 *	eom: the counted X-AGNMailloop fields are deleted (last index first);
 *	remote clients get "X-AGNMailloop: VALUE" (or one per accepted
 *	recipient with -H) and "X-AGNLoop: set".
 *
 *	Every decision is logged at INFO with the queue ID.
 * DIAGNOSTICS
 *	Missing private data (should not happen) gives SMFIS_TEMPFAIL.
 *	Out of memory goes to the OOM hook (log, exit 75).
 * SEE ALSO
 *	bav-milter(8), libmilter smfi_* documentation
 */
#include "bav_private.h"
#include "bav_milter.h"

#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_ADDR_MAX 256

struct conn {
	struct bav_addrtable *table;
	unsigned long id;
	bool local;
	bool loop;		/* X-AGNLoop seen in this message */
	unsigned long nr;	/* SMFIP_NR_* steps negotiated: no reply */
	char client[320];	/* "name[addr]", sanitized */
	char qid[32];		/* queue ID once the MTA told us, or "" */
	/* transaction */
	char *sender;			/* as given, with <> */
	struct bav_buf info;		/* the X-AGNMailloop value */
	char **rcpt_headers;		/* -H: one value per recipient */
	unsigned int nheaders;
	unsigned int rcpt_count;	/* recipients recorded */
	unsigned int mailloop_headers;	/* incoming X-AGNMailloop fields */
	unsigned int verdict_headers;	/* incoming X-Bav-Classification */
	struct bav_buf msg;		/* -k: the message, at most -B bytes */
	bool msg_truncated;
	/* -S/-V */
	bool leadspc;			/* header values keep their space */
	char *helo;
	struct sockaddr_storage addr;
	bool have_addr;
	struct auth_msg *auth;
	unsigned int ar_count;		/* Authentication-Results seen */
	unsigned int ar_ours[8];	/* indexes of those with our id */
	unsigned int ar_nours;
};

static unsigned long conn_serial;

static void txn_reset(struct conn *c)
{
	unsigned int i;

	free(c->sender);
	c->sender = NULL;
	bav_buf_free(&c->info);
	for (i = 0; i < c->nheaders; i++)
		free(c->rcpt_headers[i]);
	free(c->rcpt_headers);
	c->rcpt_headers = NULL;
	c->nheaders = 0;
	c->rcpt_count = 0;
	c->mailloop_headers = 0;
	c->verdict_headers = 0;
	bav_buf_free(&c->msg);
	c->msg_truncated = false;
	c->loop = false;
	auth_msg_free(&c->auth);
	c->ar_count = c->ar_nours = 0;
}

static bool want_auth(void)
{
	return settings.spf || settings.dkim;
}

/* The reply of a step that always continues: none when the MTA agreed
   to expect none (SMFIP_NR_*). */
static sfsistat cont(const struct conn *c, unsigned long nr_flag)
{
	return (c->nr & nr_flag) != 0 ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* "QUEUEID: cN" once the MTA told us the queue ID, else "NOQUEUE: cN";
   the log prefix of every line about a transaction. */
static const char *conn_tag(SMFICTX *ctx, struct conn *c, char *buf,
			    size_t len)
{
	if (c->qid[0] == '\0') {
		const char *q = smfi_getsymval(ctx, "i");

		if (q != NULL && *q != '\0')
			log_sanitize(c->qid, sizeof(c->qid), q);
	}
	snprintf(buf, len, "%s: c%lu", c->qid[0] != '\0' ? c->qid : "NOQUEUE",
		 c->id);
	return buf;
}

/* Append s with ',' replaced by '_' (the X-AGNMailloop grammar) and
   control characters too (no header injection through the envelope). */
static void put_value(struct bav_buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		bav_buf_putc(b, *s == ',' || (unsigned char)*s < 0x20 ||
			     *s == 0x7f ? '_' : *s);
}

/* -h: a client name in the list counts as local when the MTA verified
   it: Postfix passes only verified names (else "unknown"); Sendmail
   says so in {client_resolve}. */
static bool name_is_local(SMFICTX *ctx, const char *hostname)
{
	const char *resolve;

	if (settings.local_names == NULL || hostname == NULL ||
	    !names_match(settings.local_names, hostname))
		return false;
	resolve = smfi_getsymval(ctx, "{client_resolve}");
	return resolve == NULL || strcmp(resolve, "OK") == 0;
}

/* Ask the MTA for the macros bav-milter reads and no others (the MTA
   sends a macro packet at every stage, also for a skipped event, and
   Postfix one before every header): {i} for the log lines,
   {client_resolve} for -h (Sendmail; Postfix passes only verified
   names). A stage cannot ask for nothing (an empty list means "the
   MTA's default"), so the stages that need nothing ask for {i}, which
   is short or not yet defined there. Failures leave the MTA's lists. */
static void request_macros(SMFICTX *ctx)
{
	static const struct {
		int stage;
		const char *macros;
	} lists[] = {
		{ SMFIM_CONNECT, "{client_resolve}" },
		{ SMFIM_HELO, "i" },
		{ SMFIM_ENVFROM, "i" },
		{ SMFIM_ENVRCPT, "i" },
		{ SMFIM_DATA, "i" },
		{ SMFIM_EOH, "i" },
		{ SMFIM_EOM, "i" },
	};
	size_t i;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		(void)smfi_setsymlist(ctx, lists[i].stage,
				      (char *)lists[i].macros);
}

/* Ask the MTA to skip what bav-milter never looks at (HELO, DATA, body,
   unknown commands) and not to wait for replies to MAIL, each header and
   end-of-header: one round trip per header less. Both are optional for
   the MTA; whatever it grants is remembered per connection. */
static sfsistat mlfi_negotiate(SMFICTX *ctx, unsigned long f0,
			       unsigned long f1, unsigned long f2,
			       unsigned long f3, unsigned long *pf0,
			       unsigned long *pf1, unsigned long *pf2,
			       unsigned long *pf3)
{
	const bool body = settings.classify || settings.dkim;
	const unsigned long skip = SMFIP_NOUNKNOWN | SMFIP_NODATA |
				   (settings.spf ? 0 : SMFIP_NOHELO) |
				   (body ? 0 : SMFIP_NOBODY) |
				   (settings.dkim ? SMFIP_HDR_LEADSPC : 0);
	const unsigned long nr = SMFIP_NR_MAIL | SMFIP_NR_HDR | SMFIP_NR_EOH |
				 (body ? SMFIP_NR_BODY : 0) |
				 (settings.spf ? SMFIP_NR_HELO : 0);
	struct conn *c = bav_xcalloc(1, sizeof(*c));

	(void)f2;
	(void)f3;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST);
	*pf1 = f1 & (skip | nr);
	*pf2 = *pf3 = 0;
	c->nr = *pf1 & nr;
	c->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	smfi_setpriv(ctx, c);
	if ((*pf0 & SMFIF_SETSYMLIST) != 0)
		request_macros(ctx);
	return SMFIS_CONTINUE;
}

static sfsistat mlfi_connect(SMFICTX *ctx, char *hostname,
			     _SOCK_ADDR *hostaddr)
{
	struct conn *c = smfi_getpriv(ctx);
	char addr[64], host[256];

	if (c == NULL) {	/* an MTA without option negotiation */
		c = bav_xcalloc(1, sizeof(*c));
		smfi_setpriv(ctx, c);
	}
	c->id = __atomic_add_fetch(&conn_serial, 1, __ATOMIC_RELAXED);
	c->local = netlist_match(settings.local, hostaddr) ||
		   name_is_local(ctx, hostname);
	snprintf(c->client, sizeof(c->client), "%s[%s]",
		 log_sanitize(host, sizeof(host), hostname),
		 sockaddr_text(hostaddr, addr, sizeof(addr)));
	/* local: the MTA stops calling us for this connection */
	if (c->local) {
		log_msg(LOG_L_INFO, "c%lu: connect from %s: local client, "
			"passed untouched", c->id, c->client);
		return SMFIS_ACCEPT;
	}
	log_msg(LOG_L_VERBOSE, "c%lu: connect from %s", c->id, c->client);
	if (hostaddr != NULL && (hostaddr->sa_family == AF_INET ||
				 hostaddr->sa_family == AF_INET6)) {
		memcpy(&c->addr, hostaddr, hostaddr->sa_family == AF_INET ?
		       sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
		c->have_addr = true;
	}
	c->table = table_get();
	return SMFIS_CONTINUE;
}

/* Only with -S: the HELO name for SPF of the null sender. */
static sfsistat mlfi_helo(SMFICTX *ctx, char *name)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	free(c->helo);
	c->helo = bav_xstrdup(name != NULL ? name : "");
	return cont(c, SMFIP_NR_HELO);
}

static sfsistat mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	txn_reset(c);
	c->sender = bav_xstrdup(argv[0] != NULL ? argv[0] : "<>");
	bav_buf_append(&c->info, "from=", 5);
	put_value(&c->info, c->sender);
	if (want_auth())
		c->auth = auth_msg_new(c->id);
	return cont(c, SMFIP_NR_MAIL);
}

/* Record an accepted recipient in the header value(s). */
static void record_rcpt(SMFICTX *ctx, struct conn *c, const char *rcpt,
			const char *options)
{
	struct bav_buf item = { 0 };
	char tag[64];

	if (*options != '\0') {
		bav_buf_append(&item, options, strlen(options));
		bav_buf_putc(&item, ',');
	}
	bav_buf_append(&item, "to=", 3);
	put_value(&item, rcpt);
	if (settings.header_per_rcpt) {
		struct bav_buf h = { 0 };

		put_value(&h, "from=");
		put_value(&h, c->sender);
		bav_buf_putc(&h, ',');
		bav_buf_append(&h, item.data, item.len);
		c->rcpt_headers = bav_xrealloc(c->rcpt_headers,
			(c->nheaders + 1) * sizeof(*c->rcpt_headers));
		c->rcpt_headers[c->nheaders++] = bav_buf_steal(&h);
		c->rcpt_count++;
	} else if (c->info.len + 1 + item.len > settings.max_header_len) {
		log_msg(LOG_L_WARNING, "%s: X-AGNMailloop would exceed %zu "
			"bytes, recipient %.256s not recorded",
			conn_tag(ctx, c, tag, sizeof(tag)),
			settings.max_header_len, item.data);
	} else {
		bav_buf_putc(&c->info, ',');
		bav_buf_append(&c->info, item.data, item.len);
		c->rcpt_count++;
	}
	bav_buf_free(&item);
}

/* Reply for a refusal in the current mode; SMFIS_CONTINUE in log-only.
   The reply given ("550 5.1.1", "" when none) goes to reply_r. */
static sfsistat refuse(SMFICTX *ctx, const char *code, const char *xcode,
		       const char *text, char *reply_r, size_t len)
{
	char c[4], x[16];

	reply_r[0] = '\0';
	if (settings.mode == MODE_LOGONLY)
		return SMFIS_CONTINUE;
	snprintf(c, sizeof(c), "%s", code);
	snprintf(x, sizeof(x), "%s", xcode);
	if (settings.mode == MODE_SOFT && c[0] == '5')
		c[0] = x[0] = '4';
	smfi_setreply(ctx, c, x, (char *)text);
	snprintf(reply_r, len, " reply=%s %s", c, x);
	return c[0] == '5' ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

static sfsistat mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);
	struct bav_addr_result r;
	char tag[64], rcpt[LOG_ADDR_MAX], from[LOG_ADDR_MAX], reply[32] = "";
	sfsistat ret = SMFIS_CONTINUE;

	if (c == NULL || c->sender == NULL || argv[0] == NULL)
		return SMFIS_TEMPFAIL;
	if (c->local || c->table == NULL)
		return SMFIS_CONTINUE;
	bav_addrtable_lookup(c->table, argv[0], &r);
	if (r.verb == BAV_ADDR_REJECT)
		ret = refuse(ctx, "550", "5.1.1", "No such user", reply,
			     sizeof(reply));
	else if (r.verb == BAV_ADDR_TEMPFAIL)
		ret = refuse(ctx, settings.tempfail_code, "4.0.0",
			     "Please try again later", reply, sizeof(reply));
	if (ret == SMFIS_CONTINUE)
		record_rcpt(ctx, c, argv[0],
			    r.verb == BAV_ADDR_ACCEPT ? r.options : "");
	if (!log_enabled(LOG_L_INFO))	/* spare the formatting below */
		return ret;
	log_msg(LOG_L_INFO, "%s: %s%s rcpt=%s from=%s client=%s (%s%s%s)%s",
		conn_tag(ctx, c, tag, sizeof(tag)),
		settings.mode == MODE_LOGONLY && r.verb != BAV_ADDR_ACCEPT ?
		"log-only, would " : "", bav_addr_verb_name(r.verb),
		log_sanitize(rcpt, sizeof(rcpt), argv[0]),
		log_sanitize(from, sizeof(from), c->sender), c->client,
		bav_addr_how_name(r.how), *r.key != '\0' ? " " : "", r.key,
		reply);
	return ret;
}

/* RFC 8601 section 5: fields that claim to come from our authserv-id are
   forged (we add ours at the top); remember their indexes. */
static void note_ar(struct conn *c, const char *value)
{
	size_t len = strlen(settings.authserv_id);

	c->ar_count++;
	value += strspn(value, " \t\r\n");
	if (strncasecmp(value, settings.authserv_id, len) == 0 &&
	    strchr("; \t\r\n", value[len]) != NULL && value[len] != '\0' &&
	    c->ar_nours < sizeof(c->ar_ours) / sizeof(c->ar_ours[0]))
		c->ar_ours[c->ar_nours++] = c->ar_count;
}

static sfsistat mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	/* refused at end of message: the same SMTP reply (after DATA) and
	   no reply to wait for per header */
	if (strcasecmp(name, "X-AGNLoop") == 0)
		c->loop = true;
	else if (strcasecmp(name, "X-AGNMailloop") == 0)
		c->mailloop_headers++;
	else if (settings.classify &&
		 strcasecmp(name, "X-Bav-Classification") == 0)
		c->verdict_headers++;
	if (c->auth != NULL) {
		auth_msg_header(c->auth, name, value);
		if (strcasecmp(name, "Authentication-Results") == 0)
			note_ar(c, value);
	}
	if (c->leadspc && *value == ' ')
		value++;
	if (settings.classify)
		classify_header(&c->msg, &c->msg_truncated, name, value);
	return cont(c, SMFIP_NR_HDR);
}

/* Only so the MTA doesn't skip end-of-header: miltertest (2.11)
   stops when a filter negotiates SMFIP_NOEOH. */
static sfsistat mlfi_eoh(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	if (settings.classify)
		classify_append(&c->msg, &c->msg_truncated, "\n", 1);
	if (c->auth != NULL)
		auth_msg_eoh(c->auth);
	return cont(c, SMFIP_NR_EOH);
}

/* Only with -k or -V: keep the first -B bytes for the classifier, feed
   the DKIM verifier. */
static sfsistat mlfi_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	if (settings.classify)
		classify_append(&c->msg, &c->msg_truncated, data, len);
	if (c->auth != NULL)
		auth_msg_body(c->auth, data, len);
	return cont(c, SMFIP_NR_BODY);
}

/* Add (index < 0) or insert a field; with SMFIP_HDR_LEADSPC the value
   must carry the space after the colon itself. */
static void put_field(SMFICTX *ctx, const struct conn *c, int index,
		      const char *name, const char *value)
{
	struct bav_buf b = { 0 };

	if (c->leadspc)
		bav_buf_putc(&b, ' ');
	bav_buf_append(&b, value, strlen(value));
	if (index < 0)
		smfi_addheader(ctx, (char *)name, b.data);
	else
		smfi_insheader(ctx, index, (char *)name, b.data);
	bav_buf_free(&b);
}

/* Replace forged Authentication-Results by ours, at the top. */
static void add_auth(SMFICTX *ctx, struct conn *c)
{
	unsigned int i;
	char *value, tag[64];

	for (i = c->ar_nours; i > 0; i--)
		smfi_chgheader(ctx, "Authentication-Results",
			       (int)c->ar_ours[i - 1], NULL);
	value = auth_results(c->auth, c->have_addr ?
			     (const struct sockaddr *)&c->addr : NULL,
			     c->helo, c->sender);
	put_field(ctx, c, 0, "Authentication-Results", value);
	log_msg(LOG_L_INFO, "%s: Authentication-Results: %s",
		conn_tag(ctx, c, tag, sizeof(tag)), value);
	free(value);
}

/* Replace incoming X-Bav-Classification fields by our verdict. */
static void add_verdict(SMFICTX *ctx, struct conn *c)
{
	unsigned int i;
	char *value, tag[64];

	for (i = c->verdict_headers; i > 0; i--)
		smfi_chgheader(ctx, "X-Bav-Classification", (int)i, NULL);
	value = classify_verdict(&c->msg, c->msg_truncated,
				 conn_tag(ctx, c, tag, sizeof(tag)));
	if (value == NULL) {
		log_msg(LOG_L_WARNING, "%s: not classified (not a message)",
			conn_tag(ctx, c, tag, sizeof(tag)));
		return;
	}
	put_field(ctx, c, -1, "X-Bav-Classification", value);
	log_msg(LOG_L_INFO, "%s: classified: %s",
		conn_tag(ctx, c, tag, sizeof(tag)), value);
	free(value);
}

static sfsistat mlfi_eom(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	unsigned int i;
	char tag[64];

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	if (c->loop) {
		char from[LOG_ADDR_MAX], reply[32];
		sfsistat ret = refuse(ctx, "500", "5.4.6", "Loop detected",
				      reply, sizeof(reply));

		log_msg(LOG_L_WARNING, "%s: %sloop detected (X-AGNLoop), "
			"from=%s client=%s%s", conn_tag(ctx, c, tag, sizeof(tag)),
			settings.mode == MODE_LOGONLY ? "log-only: " : "",
			log_sanitize(from, sizeof(from), c->sender), c->client,
			reply);
		if (ret != SMFIS_CONTINUE) {
			txn_reset(c);
			c->qid[0] = '\0';
			return ret;
		}
	}
	/* delete from the last one so the indexes stay valid */
	for (i = c->mailloop_headers; i > 0; i--)
		smfi_chgheader(ctx, "X-AGNMailloop", (int)i, NULL);
	if (!c->local) {
		if (settings.header_per_rcpt) {
			for (i = 0; i < c->nheaders; i++)
				put_field(ctx, c, -1, "X-AGNMailloop",
					  c->rcpt_headers[i]);
		} else if (c->info.data != NULL) {
			put_field(ctx, c, -1, "X-AGNMailloop", c->info.data);
		}
		put_field(ctx, c, -1, "X-AGNLoop", "set");
		if (settings.classify)
			add_verdict(ctx, c);
		if (c->auth != NULL)
			add_auth(ctx, c);
	}
	if (log_enabled(LOG_L_INFO))
		log_msg(LOG_L_INFO, "%s: accepted from %s, %u recipient(s) "
			"recorded, %u incoming X-AGNMailloop removed%s",
			conn_tag(ctx, c, tag, sizeof(tag)), c->client,
			c->rcpt_count, c->mailloop_headers,
			c->local ? " (local client)" : "");
	txn_reset(c);
	c->qid[0] = '\0';
	return SMFIS_CONTINUE;
}

static sfsistat mlfi_abort(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		txn_reset(c);
		c->qid[0] = '\0';
	}
	return SMFIS_CONTINUE;
}

static sfsistat mlfi_close(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	txn_reset(c);
	free(c->helo);
	bav_addrtable_unref(&c->table);
	log_msg(LOG_L_DEBUG, "c%lu: close", c->id);
	free(c);
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

struct smfiDesc bav_milter_desc = {
	.xxfi_name = "bounce address verification",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST,
	.xxfi_connect = mlfi_connect,
	.xxfi_helo = mlfi_helo,
	.xxfi_envfrom = mlfi_envfrom,
	.xxfi_envrcpt = mlfi_envrcpt,
	.xxfi_header = mlfi_header,
	.xxfi_eoh = mlfi_eoh,
	.xxfi_body = mlfi_body,
	.xxfi_eom = mlfi_eom,
	.xxfi_abort = mlfi_abort,
	.xxfi_close = mlfi_close,
	.xxfi_negotiate = mlfi_negotiate,
};
