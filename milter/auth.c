/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	auth - optional SPF (libspf2) and DKIM (libopendkim) checks of
 *	bav-milter, written as an RFC 8601 Authentication-Results field
 * SYNOPSIS
 *	int auth_init(const char *spf_zone, const char *dkim_keys,
 *		char **error_r)
 *	struct auth_msg *auth_msg_new(unsigned long id)
 *	void auth_msg_header(struct auth_msg *m, const char *name,
 *		const char *value)
 *	void auth_msg_eoh(struct auth_msg *m)
 *	void auth_msg_body(struct auth_msg *m, const unsigned char *data,
 *		size_t len)
 *	char *auth_results(struct auth_msg *m, const struct sockaddr *client,
 *		const char *helo, const char *sender)
 *	void auth_msg_free(struct auth_msg **m)
 *	void auth_deinit(void)
 * DESCRIPTION
 *	With -S, the SPF result of the envelope sender (of the HELO name for
 *	the null sender, RFC 7208 section 2.4) is computed at end of
 *	message; with -V, every DKIM signature of the message is verified.
 *	Both become one Authentication-Results value:
 *
 *	    AUTHSERV-ID; spf=pass smtp.mailfrom=a@example.org;
 *	      dkim=pass header.d=example.org header.s=sel
 *
 *	so the delivery side can trust feedback-loop reports. One SPF server
 *	(with libspf2's DNS cache) and one DKIM library handle are shared by
 *	all threads; each message has its own DKIM verifier, owned by the
 *	connection and freed by auth_msg_free().
 *
 *	DNS: the system resolver with the timeout of -T (RES_OPTIONS, set in
 *	main before any thread starts); for tests, -Z FILE replaces DNS for
 *	SPF by a zone ("name TYPE data" lines, TYPE one of TXT A AAAA MX
 *	PTR; everything else does not exist) and -D FILE gives DKIM keys in
 *	libopendkim's query-file format ("sel._domainkey.domain record").
 * DIAGNOSTICS
 *	auth_init() returns -1 and a malloc'ed error (file:line for -Z,
 *	see daemon/spf.c).
 *	DNS trouble shows in the results (temperror), never as a failure of
 *	the milter.
 * SEE ALSO
 *	RFC 7208 (SPF), RFC 6376 (DKIM), RFC 8601 (Authentication-Results)
 */
#include "config.h"
#include "bav_private.h"
#include "bav_milter.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_SPF2
#include <spf2/spf.h>
static struct daemon_spf spf;	/* server and -Z zone (daemon/spf.c) */
#endif
#ifdef HAVE_OPENDKIM
#include <dkim.h>
static DKIM_LIB *dkim_lib;
#endif

struct auth_msg {
#ifdef HAVE_OPENDKIM
	DKIM *dkim;
	DKIM_STAT stat;		/* first error, or DKIM_STAT_OK */
#endif
	struct bav_buf hdr;	/* scratch for one header field */
};

int auth_init(const char *spf_zone, const char *dkim_keys, char **error_r)
{
	if (settings.spf) {
#ifdef HAVE_SPF2
		if (daemon_spf_init(&spf, spf_zone, error_r) < 0)
			return -1;
#else
		*error_r = bav_xstrdup("-S: built without libspf2");
		return -1;
#endif
	}
	if (settings.dkim) {
#ifdef HAVE_OPENDKIM
		unsigned int qtype = DKIM_QUERY_FILE, timeout =
			settings.dns_timeout, flags = DKIM_LIBFLAGS_FIXCRLF;

		dkim_lib = dkim_init(NULL, NULL);
		if (dkim_lib == NULL) {
			*error_r = bav_xstrdup("libopendkim: dkim_init failed");
			return -1;
		}
		dkim_options(dkim_lib, DKIM_OP_SETOPT, DKIM_OPTS_TIMEOUT,
			     &timeout, sizeof(timeout));
		dkim_options(dkim_lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS,
			     &flags, sizeof(flags));
		if (dkim_keys != NULL) {
			dkim_options(dkim_lib, DKIM_OP_SETOPT,
				     DKIM_OPTS_QUERYMETHOD, &qtype,
				     sizeof(qtype));
			dkim_options(dkim_lib, DKIM_OP_SETOPT,
				     DKIM_OPTS_QUERYINFO, (void *)dkim_keys,
				     strlen(dkim_keys));
		}
#else
		(void)dkim_keys;
		*error_r = bav_xstrdup("-V: built without libopendkim");
		return -1;
#endif
	}
	(void)spf_zone;
	return 0;
}

void auth_deinit(void)
{
#ifdef HAVE_SPF2
	daemon_spf_deinit(&spf);
#endif
#ifdef HAVE_OPENDKIM
	if (dkim_lib != NULL)
		dkim_close(dkim_lib);
	dkim_lib = NULL;
#endif
}

struct auth_msg *auth_msg_new(unsigned long id)
{
	struct auth_msg *m = bav_xcalloc(1, sizeof(*m));

#ifdef HAVE_OPENDKIM
	if (dkim_lib != NULL) {
		char job[32];

		snprintf(job, sizeof(job), "c%lu", id);
		m->dkim = dkim_verify(dkim_lib, (const unsigned char *)job,
				      NULL, &m->stat);
	}
#else
	(void)id;
#endif
	return m;
}

void auth_msg_free(struct auth_msg **mp)
{
	struct auth_msg *m = *mp;

	if (m == NULL)
		return;
#ifdef HAVE_OPENDKIM
	if (m->dkim != NULL)
		dkim_free(m->dkim);
#endif
	bav_buf_free(&m->hdr);
	free(m);
	*mp = NULL;
}

/* value is as the MTA gives it with SMFIP_HDR_LEADSPC (leading space
   kept), so "name:value" is the field as received. */
void auth_msg_header(struct auth_msg *m, const char *name, const char *value)
{
#ifdef HAVE_OPENDKIM
	if (m->dkim == NULL || m->stat != DKIM_STAT_OK)
		return;
	bav_buf_reset(&m->hdr);
	bav_buf_printf(&m->hdr, "%s:", name);
	/* MTAs pass folded fields with bare LF; DKIM canonicalises CRLF */
	for (; *value != '\0'; value++) {
		if (*value == '\n' && (m->hdr.len == 0 ||
					m->hdr.data[m->hdr.len - 1] != '\r'))
			bav_buf_putc(&m->hdr, '\r');
		bav_buf_putc(&m->hdr, *value);
	}
	m->stat = dkim_header(m->dkim, (u_char *)m->hdr.data, m->hdr.len);
#else
	(void)m;
	(void)name;
	(void)value;
#endif
}

void auth_msg_eoh(struct auth_msg *m)
{
#ifdef HAVE_OPENDKIM
	if (m->dkim != NULL && m->stat == DKIM_STAT_OK)
		m->stat = dkim_eoh(m->dkim);
#else
	(void)m;
#endif
}

void auth_msg_body(struct auth_msg *m, const unsigned char *data, size_t len)
{
#ifdef HAVE_OPENDKIM
	if (m->dkim != NULL && m->stat == DKIM_STAT_OK)
		m->stat = dkim_body(m->dkim, (u_char *)data, len);
#else
	(void)m;
	(void)data;
	(void)len;
#endif
}

/* Only characters allowed in an RFC 8601 property value we write. */
static void put_pvalue(struct bav_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c > 0x20 && c < 0x7f && c != ';' && c != '"' && c != '(' &&
		    c != ')' && c != '\\')
			bav_buf_putc(b, (char)c);
	}
}

#ifdef HAVE_SPF2
static void spf_result(struct bav_buf *out, const struct sockaddr *client,
		       const char *helo, const char *sender)
{
	SPF_request_t *req = SPF_request_new(spf.server);
	SPF_response_t *resp = NULL;
	char from[512];
	const char *result = "temperror";
	bool null_sender = sender == NULL || sender[0] == '\0' ||
			   strcmp(sender, "<>") == 0;

	if (sender != NULL && sender[0] == '<') {
		snprintf(from, sizeof(from), "%s", sender + 1);
		from[strcspn(from, ">")] = '\0';
	} else {
		snprintf(from, sizeof(from), "%s", sender != NULL ? sender : "");
	}
	if (null_sender || from[0] == '\0')
		snprintf(from, sizeof(from), "postmaster@%s",
			 helo != NULL ? helo : "");
	if (client != NULL && client->sa_family == AF_INET)
		SPF_request_set_ipv4(req, ((const struct sockaddr_in *)
				     (const void *)client)->sin_addr);
	else if (client != NULL && client->sa_family == AF_INET6)
		SPF_request_set_ipv6(req, ((const struct sockaddr_in6 *)
				     (const void *)client)->sin6_addr);
	else
		req = (SPF_request_free(req), NULL);
	if (req != NULL) {
		if (helo != NULL)
			SPF_request_set_helo_dom(req, helo);
		if (SPF_request_set_env_from(req, from) == 0) {
			SPF_request_query_mailfrom(req, &resp);
			if (resp != NULL)
				result = SPF_strresult(SPF_response_result(resp));
		} else {
			result = "permerror";
		}
	} else {
		result = "none";
	}
	bav_buf_printf(out, "; spf=%s", result);
	if (null_sender) {
		bav_buf_printf(out, " smtp.helo=");
		put_pvalue(out, helo != NULL ? helo : "");
	} else {
		bav_buf_printf(out, " smtp.mailfrom=");
		put_pvalue(out, from);
	}
	if (resp != NULL)
		SPF_response_free(resp);
	if (req != NULL)
		SPF_request_free(req);
}
#endif

#ifdef HAVE_OPENDKIM
static void dkim_results(struct bav_buf *out, struct auth_msg *m)
{
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0, i;
	DKIM_STAT st = m->stat;

	if (m->dkim == NULL) {
		bav_buf_printf(out, "; dkim=temperror");
		return;
	}
	if (st == DKIM_STAT_OK)
		st = dkim_eom(m->dkim, NULL);
	if (st == DKIM_STAT_NOSIG ||
	    dkim_getsiglist(m->dkim, &sigs, &nsigs) != DKIM_STAT_OK ||
	    nsigs == 0) {
		bav_buf_printf(out, "; dkim=%s", st == DKIM_STAT_NOSIG ||
			       st == DKIM_STAT_OK ? "none" : "permerror");
		return;
	}
	for (i = 0; i < nsigs; i++) {
		unsigned int flags = dkim_sig_getflags(sigs[i]);
		const char *res;
		const unsigned char *d = dkim_sig_getdomain(sigs[i]);
		const unsigned char *s = dkim_sig_getselector(sigs[i]);

		if ((flags & DKIM_SIGFLAG_IGNORE) != 0)
			continue;
		if ((flags & DKIM_SIGFLAG_PROCESSED) == 0)
			res = st == DKIM_STAT_CANTVRFY ? "temperror" : "neutral";
		else if (DKIM_SIG_CHECK(sigs[i]))
			res = "pass";
		else
			res = "fail";
		bav_buf_printf(out, "; dkim=%s", res);
		if (strcmp(res, "pass") != 0 &&
		    dkim_sig_geterror(sigs[i]) != DKIM_SIGERROR_OK)
			bav_buf_printf(out, " reason=\"%s\"",
				dkim_sig_geterrorstr(dkim_sig_geterror(sigs[i])));
		bav_buf_printf(out, " header.d=");
		put_pvalue(out, d != NULL ? (const char *)d : "");
		bav_buf_printf(out, " header.s=");
		put_pvalue(out, s != NULL ? (const char *)s : "");
	}
}
#endif

char *auth_results(struct auth_msg *m, const struct sockaddr *client,
		   const char *helo, const char *sender)
{
	struct bav_buf out = { 0 };

	put_pvalue(&out, settings.authserv_id);
#ifdef HAVE_SPF2
	if (spf.server != NULL)
		spf_result(&out, client, helo, sender);
#else
	(void)client;
	(void)helo;
	(void)sender;
#endif
#ifdef HAVE_OPENDKIM
	if (dkim_lib != NULL)
		dkim_results(&out, m);
#else
	(void)m;
#endif
	return bav_buf_steal(&out);
}
