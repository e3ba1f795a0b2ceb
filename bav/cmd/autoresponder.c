/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	autoresponder - RFC 3834 answers to human replies (bav recorder)
 * SYNOPSIS
 *	#include "autoresponder.h"
 *
 *	struct autoresponder *autoresponder_new(const char *dir,
 *		const char *allow_file, const char *sendmail,
 *		unsigned int period_s)
 *	int autoresponder_consider(struct autoresponder *ar,
 *		struct bav_store *store, const struct bav_spool_entry *e,
 *		const char **error_r)
 *	unsigned int autoresponder_flush(struct autoresponder *ar)
 *	void autoresponder_drop(struct autoresponder *ar)
 *	void autoresponder_free(struct autoresponder **ar)
 * DESCRIPTION
 *	A message recorded for the first time gets an automatic answer when
 *	all of these hold (RFC 3834 section 2 and 5):
 *	  - libbav classified it as a reply (a person wrote it);
 *	  - its envelope sender is not null and not a role or list address
 *	    (MAILER-DAEMON, postmaster, LISTSERV, majordomo, owner-*,
 *	    *-request, noreply, no-reply);
 *	  - it has no Auto-Submitted other than "no", no List-Id,
 *	    List-Unsubscribe, List-Post or List-Help, no Precedence bulk,
 *	    list or junk, no X-Auto-Response-Suppress;
 *	  - a template exists: DIR/RID for the filter named by rid= of its
 *	    X-AGNMailloop header (a number), else DIR/default;
 *	  - the sender is on the allowlist, when one is given;
 *	  - bav_ar_lastsent has no answer to this sender for this filter
 *	    within the period (default one day).
 *	The time is noted in bav_ar_lastsent inside the recorder's
 *	transaction; the answer is sent after the commit, so a crash loses an
 *	answer rather than sending one twice.
 *
 *	A template is a message: header lines (From: and Subject: are
 *	used, others copied), an empty line, the body. The answer gets To:
 *	the envelope sender, From: the template's (else the mailloop address
 *	the reply came to), Subject: the template's (else "Auto: " and the
 *	reply's), In-Reply-To and References, Date, Message-ID,
 *	"Auto-Submitted: auto-replied" and "X-AGNLoop: set", and goes to
 *	sendmail -i -N never -f "" -- SENDER (null envelope sender, no DSN).
 * DIAGNOSTICS
 *	Store errors are returned (the batch is rolled back); sendmail
 *	failures are logged by the caller's syslog (facility mail) and not
 *	retried.
 * SEE ALSO
 *	RFC 3834, bav-deliver(8)
 */
#include "autoresponder.h"
#include "deliver.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct answer {
	char *to, *text;
	size_t len;
};

struct autoresponder {
	char *dir, *sendmail;
	unsigned int period_s;
	char **allow;
	size_t nallow;
	struct answer *queue;
	size_t nqueue, queue_alloc;
	unsigned long counter;
};

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

static char *lower(char *s)
{
	char *p;

	for (p = s; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

static int load_allow(struct autoresponder *ar, const char *path)
{
	char line[512];
	FILE *fp = fopen(path, "re");

	if (fp == NULL) {
		fprintf(stderr, "bav recorder: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *p = line + strspn(line, " \t");

		p[strcspn(p, " \t\r\n#")] = '\0';
		if (*p == '\0')
			continue;
		ar->allow = realloc(ar->allow, (ar->nallow + 1) *
				    sizeof(*ar->allow));	/* @UNSAFE */
		if (ar->allow == NULL)
			abort();
		ar->allow[ar->nallow++] = lower(xstrdup(p));
	}
	fclose(fp);
	return 0;
}

struct autoresponder *autoresponder_new(const char *dir,
					const char *allow_file,
					const char *sendmail,
					unsigned int period_s)
{
	struct autoresponder *ar;

	if (dir == NULL)
		return NULL;
	if ((ar = calloc(1, sizeof(*ar))) == NULL)
		abort();
	ar->dir = xstrdup(dir);
	ar->sendmail = xstrdup(sendmail);
	ar->period_s = period_s;
	if (allow_file != NULL && load_allow(ar, allow_file) < 0) {
		autoresponder_free(&ar);
		return NULL;
	}
	return ar;
}

void autoresponder_drop(struct autoresponder *ar)
{
	size_t i;

	if (ar == NULL)
		return;
	for (i = 0; i < ar->nqueue; i++) {
		free(ar->queue[i].to);
		free(ar->queue[i].text);
	}
	ar->nqueue = 0;
}

void autoresponder_free(struct autoresponder **arp)
{
	struct autoresponder *ar = *arp;
	size_t i;

	if (ar == NULL)
		return;
	autoresponder_drop(ar);
	for (i = 0; i < ar->nallow; i++)
		free(ar->allow[i]);
	free(ar->allow);
	free(ar->queue);
	free(ar->dir);
	free(ar->sendmail);
	free(ar);
	*arp = NULL;
}

/* An address with a control character (CR, LF, ...) would inject
   header lines into the answer: never used. */
static bool has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Role and list addresses never answered (RFC 3834 section 2). */
static bool role_address(const char *addr)
{
	static const char *const roles[] = {
		"mailer-daemon", "postmaster", "listserv", "majordomo",
		"noreply", "no-reply", "donotreply", "do-not-reply",
	};
	size_t n = strcspn(addr, "@"), i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strlen(roles[i]) == n && strncasecmp(addr, roles[i], n) == 0)
			return true;
	return strncasecmp(addr, "owner-", 6) == 0 ||
		(n > 8 && strncasecmp(addr + n - 8, "-request", 8) == 0);
}

static bool allowed(const struct autoresponder *ar, const char *addr)
{
	const char *at = strchr(addr, '@');
	size_t i;

	if (ar->nallow == 0)
		return true;
	for (i = 0; i < ar->nallow; i++) {
		if (strcasecmp(ar->allow[i], addr) == 0 ||
		    (at != NULL && ar->allow[i][0] == '@' &&
		     strcasecmp(ar->allow[i], at) == 0))
			return true;
	}
	return false;
}

/* Headers that say "do not answer me". */
static bool automatic(const struct bav_spool_entry *e)
{
	static const char *const list_hdrs[] = {
		"List-Id", "List-Unsubscribe", "List-Post", "List-Help",
		"X-Auto-Response-Suppress",
	};
	char v[256];
	size_t i;

	if (deliver_header(e->msg, e->msg_len, "Auto-Submitted", v, sizeof(v))
	    && strncasecmp(v + strspn(v, " \t"), "no", 2) != 0)
		return true;
	if (deliver_header(e->msg, e->msg_len, "Precedence", v, sizeof(v))) {
		const char *p = v + strspn(v, " \t");

		if (strncasecmp(p, "bulk", 4) == 0 ||
		    strncasecmp(p, "list", 4) == 0 ||
		    strncasecmp(p, "junk", 4) == 0)
			return true;
	}
	for (i = 0; i < sizeof(list_hdrs) / sizeof(list_hdrs[0]); i++)
		if (deliver_header(e->msg, e->msg_len, list_hdrs[i], v,
				   sizeof(v)))
			return true;
	return false;
}

/* rid= of X-AGNMailloop as a number; 0 when absent or not numeric. */
static long long filter_rid(const struct bav_spool_entry *e)
{
	char v[2048];
	const char *p;

	if (!deliver_header(e->msg, e->msg_len, "X-AGNMailloop", v, sizeof(v)))
		return 0;
	for (p = v; (p = strstr(p, "rid=")) != NULL; p += 4) {
		if (p == v || p[-1] == ',' || p[-1] == ' ') {
			if (!isdigit((unsigned char)p[4]))
				return 0;
			return strtoll(p + 4, NULL, 10);
		}
	}
	return 0;
}

/* The template for rid (DIR/RID, else DIR/default), malloc'ed. */
static char *read_template(const struct autoresponder *ar, long long rid,
			   size_t *len_r)
{
	char path[4096];
	FILE *fp = NULL;
	char *buf;
	size_t n;

	if (rid > 0) {
		snprintf(path, sizeof(path), "%s/%lld", ar->dir, rid);
		fp = fopen(path, "re");
	}
	if (fp == NULL) {
		snprintf(path, sizeof(path), "%s/default", ar->dir);
		if ((fp = fopen(path, "re")) == NULL)
			return NULL;
	}
	if ((buf = malloc(65536 + 1)) == NULL)
		abort();
	n = fread(buf, 1, 65536, fp);
	fclose(fp);
	buf[n] = '\0';
	*len_r = n;
	return buf;
}

static int seen_cb(void *ctx, const struct bav_store_value *cols,
		   const char *const *names, unsigned int ncols)
{
	(void)names;
	if (ncols > 0)
		*(long long *)ctx = cols[0].i;
	return 0;
}

/* Was rid/addr answered within the period? Else note now. 1 answered
   recently, 0 noted, or a store error. */
static int note_lastsent(struct autoresponder *ar, struct bav_store *store,
			 long long rid, const char *addr, const char **error_r)
{
	long long last = -1, now = (long long)time(NULL);
	struct bav_store_param p[3] = {
		BAV_STORE_PARAM_INT(0), BAV_STORE_PARAM_TEXT(NULL),
		BAV_STORE_PARAM_INT(0),
	};
	int ret;

	p[0].i = rid;
	p[1].s = addr;
	ret = bav_store_exec(store, "SELECT lastsent FROM bav_ar_lastsent"
			     " WHERE rid = ? AND address = ?", p, 2, seen_cb,
			     &last, error_r);
	if (ret != BAV_OK)
		return ret;
	if (last >= 0 && now - last < (long long)ar->period_s)
		return 1;
	/* UPDATE, else INSERT: both dialects */
	p[0].i = now;
	p[1] = (struct bav_store_param)BAV_STORE_PARAM_INT(rid);
	p[2] = (struct bav_store_param)BAV_STORE_PARAM_TEXT(addr);
	if (last >= 0)
		return bav_store_exec(store, "UPDATE bav_ar_lastsent SET"
				      " lastsent = ? WHERE rid = ? AND"
				      " address = ?", p, 3, NULL, NULL,
				      error_r);
	p[0].i = rid;
	p[1] = (struct bav_store_param)BAV_STORE_PARAM_TEXT(addr);
	p[2] = (struct bav_store_param)BAV_STORE_PARAM_INT(now);
	return bav_store_exec(store, "INSERT INTO bav_ar_lastsent"
			      " (rid, address, lastsent) VALUES (?, ?, ?)",
			      p, 3, NULL, NULL, error_r);
}

static void add(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		if ((*buf = realloc(*buf, *cap)) == NULL)
			abort();
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void addf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void addf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	char tmp[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		add(buf, len, cap, tmp, (size_t)n < sizeof(tmp) ? (size_t)n :
		    sizeof(tmp) - 1);
}

/* Build the answer from the template. */
static char *compose(struct autoresponder *ar, const struct bav_spool_entry *e,
		     const char *tpl, size_t tpl_len, size_t *len_r)
{
	char *out = NULL, date[64], from[512], subject[1024], msgid[1024];
	size_t len = 0, cap = 0, hend;
	const char *body, *p;
	time_t now = time(NULL);
	struct tm tm;
	bool skip = false;

	body = strstr(tpl, "\n\n");
	hend = body != NULL ? (size_t)(body - tpl) + 1 : 0;
	body = body != NULL ? body + 2 : tpl;
	if (!deliver_header((const unsigned char *)tpl, hend, "From", from,
			    sizeof(from)))
		snprintf(from, sizeof(from), " <%s>", e->recipient_count > 0 &&
			 !has_ctl(e->recipients[0]) ? e->recipients[0] :
			 "postmaster");
	if (!deliver_header((const unsigned char *)tpl, hend, "Subject",
			    subject, sizeof(subject))) {
		char orig[900];

		if (!deliver_header(e->msg, e->msg_len, "Subject", orig,
				    sizeof(orig)))
			orig[0] = '\0';
		snprintf(subject, sizeof(subject), " Auto: %s",
			 orig + strspn(orig, " \t"));
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	addf(&out, &len, &cap, "From:%s\nTo: <%s>\nSubject:%s\nDate: %s\n"
	     "Message-ID: <bav-ar-%lld.%ld.%lu@%s>\n"
	     "Auto-Submitted: auto-replied\nX-AGNLoop: set\n", from,
	     e->sender, subject, date, (long long)now, (long)getpid(),
	     ++ar->counter, e->host[0] != '\0' ? e->host : "localhost");
	if (deliver_header(e->msg, e->msg_len, "Message-ID", msgid,
			   sizeof(msgid)) && strchr(msgid, '<') != NULL)
		addf(&out, &len, &cap, "In-Reply-To:%s\nReferences:%s\n",
		     msgid, msgid);
	/* the template's other header lines (with their continuations) */
	for (p = tpl; p < tpl + hend;) {
		const char *nl = memchr(p, '\n', (size_t)(tpl + hend - p));
		size_t n = nl != NULL ? (size_t)(nl - p) + 1 :
			(size_t)(tpl + hend - p);

		if (*p != ' ' && *p != '\t')
			skip = strncasecmp(p, "From:", 5) == 0 ||
				strncasecmp(p, "Subject:", 8) == 0 ||
				strncasecmp(p, "To:", 3) == 0;
		if (!skip && n > 1)
			add(&out, &len, &cap, p, n);
		p += n;
	}
	if (!deliver_header((const unsigned char *)tpl, hend, "Content-Type",
			    msgid, sizeof(msgid)))
		addf(&out, &len, &cap, "MIME-Version: 1.0\nContent-Type: "
		     "text/plain; charset=utf-8\n");
	add(&out, &len, &cap, "\n", 1);
	add(&out, &len, &cap, body, tpl_len - (size_t)(body - tpl));
	*len_r = len;
	return out;
}

int autoresponder_consider(struct autoresponder *ar, struct bav_store *store,
			   const struct bav_spool_entry *e,
			   const char **error_r)
{
	struct answer *a;
	char *tpl, *addr;
	size_t tpl_len = 0;
	long long rid;
	int ret;

	if (ar == NULL || e->verdict == NULL ||
	    e->verdict->kind != BAV_KIND_REPLY || e->sender[0] == '\0' ||
	    strchr(e->sender, '@') == NULL || e->sender[0] == '-' ||
	    has_ctl(e->sender) || role_address(e->sender) ||
	    !allowed(ar, e->sender) || automatic(e))
		return BAV_OK;
	rid = filter_rid(e);
	if ((tpl = read_template(ar, rid, &tpl_len)) == NULL)
		return BAV_OK;
	addr = lower(xstrdup(e->sender));
	ret = note_lastsent(ar, store, rid, addr, error_r);
	if (ret != BAV_OK) {
		free(addr);
		free(tpl);
		return ret == 1 ? BAV_OK : ret;
	}
	if (ar->nqueue == ar->queue_alloc) {
		ar->queue_alloc = ar->queue_alloc ? ar->queue_alloc * 2 : 16;
		ar->queue = realloc(ar->queue, ar->queue_alloc *
				    sizeof(*ar->queue));	/* @UNSAFE */
		if (ar->queue == NULL)
			abort();
	}
	a = &ar->queue[ar->nqueue++];
	a->to = addr;
	a->text = compose(ar, e, tpl, tpl_len, &a->len);
	free(tpl);
	return BAV_OK;
}

unsigned int autoresponder_flush(struct autoresponder *ar)
{
	char error[512];
	unsigned int sent = 0;
	size_t i;

	if (ar == NULL)
		return 0;
	for (i = 0; i < ar->nqueue; i++) {
		if (deliver_sendmail(ar->sendmail, "", ar->queue[i].to, NULL,
				     (const unsigned char *)ar->queue[i].text,
				     ar->queue[i].len, error,
				     sizeof(error)) < 0) {
			syslog(LOG_ERR, "autoresponder: %s", error);
			fprintf(stderr, "bav recorder: autoresponder: %s\n",
				error);
		} else {
			syslog(LOG_INFO, "autoresponder: answered <%s>",
			       ar->queue[i].to);
			sent++;
		}
	}
	autoresponder_drop(ar);
	return sent;
}
