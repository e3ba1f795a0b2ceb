/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	emm_log - extbounce.log and mailloop.log lines for an unchanged update
 * SYNOPSIS
 *	#include "emm_private.h"
 *
 *	void emm_stamp(time_t t, char buf[32])
 *	int emm_log_bounce(struct bav_emm *emm, const struct emm_event *ev,
 *			   const char **error_r)
 *	int emm_log_mailloop(struct bav_emm *emm, const struct emm_event *ev,
 *			     const char *info, const char **error_r)
 * DESCRIPTION
 *	With opts.logdir the bounce and the per-mail report are not written
 *	into the tables but appended, as bavd does (spec 5.10), to
 *	LOGDIR/extbounce.log
 *	  <d.d.d>;<licence>;<mailing>;0;<customer>;timestamp=...<TAB>
 *	  mailloop=<error text><TAB>server=<host>
 *	and LOGDIR/mailloop.log
 *	  <licence>;<rid>;<YYYY-MM-DD HH:MM:SS>;<action>;+;<key=value TAB ...>
 *	(values URL-quoted), which OpenEMM's update process loads. Unlike
 *	bavd each line is one write(2) on an O_APPEND descriptor followed by
 *	fsync(2), and a failed write is a temporary error (the message stays
 *	in bav's spool) instead of a lost bounce; lines are written for mail
 *	without a known company too.
 *
 *	emm_stamp() formats t in UTC as MariaDB's TIMESTAMP text (the EMM
 *	handle sets its session time zone to UTC); the log lines carry local
 *	time as bavd's do.
 * DIAGNOSTICS
 *	0, or BAV_ETEMP with *error_r (handle-owned) when the file cannot be
 *	opened, written or synced.
 * SEE ALSO
 *	emm-mailloop spec 5.10, 5.11; bav-emm(7)
 */
#include "emm_private.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void emm_stamp(time_t t, char buf[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, 32, "1970-01-01 00:00:00");
}

/* The log files carry local time, as bavd writes them. */
static void local_stamp(time_t t, char buf[32])
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, 32, "1970-01-01 00:00:00");
}

static int append(struct bav_emm *emm, const char *name, const char *line,
		  const char **error_r)
{
	const char *path = bav_pool_printf(emm->pool, "%s/%s", emm->logdir,
					   name);
	size_t len = strlen(line), off = 0;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		goto fail;
	while (off < len) {
		ssize_t n = write(fd, line + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0) {
		close(fd);
		goto fail;
	}
	if (close(fd) < 0)
		goto fail;
	return BAV_OK;
fail:
	snprintf(emm->errbuf, sizeof(emm->errbuf), "%s: %s", path,
		 strerror(errno));
	*error_r = emm->errbuf;
	return BAV_ETEMP;
}

/* URL quoting of a report value (python's quote with safe "/"). */
static void quote(struct bav_buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '_' || c == '.' || c == '-' ||
		    c == '~' || c == '/')
			bav_buf_putc(b, (char)c);
		else
			bav_buf_printf(b, "%%%02X", c);
	}
}

static void kv(struct bav_buf *b, const char *key, const char *val)
{
	if (b->len > 0)
		bav_buf_putc(b, '\t');
	bav_buf_printf(b, "%s=", key);
	quote(b, val);
}

static void kvi(struct bav_buf *b, const char *key, long long v)
{
	char n[32];

	snprintf(n, sizeof(n), "%lld", v);
	kv(b, key, n);
}

static const char *host(struct bav_emm *emm)
{
	static const char none[] = "localhost";

	return emm->server != NULL ? emm->server : none;
}

int emm_log_bounce(struct bav_emm *emm, const struct emm_event *ev,
		   const char **error_r)
{
	const char *text = bav_str_sanitize(emm->pool, ev->error_text != NULL ?
					    ev->error_text : "", 900);
	char stamp[32];
	const char *line;

	local_stamp(ev->time, stamp);
	line = bav_pool_printf(emm->pool, "%s;%lld;%lld;0;%lld;timestamp=%s"
			       "\tmailloop=%s\tserver=%s\n", ev->dsn_text,
			       emm->opts.licence, ev->mailing, ev->customer,
			       stamp, text, host(emm));
	return append(emm, "extbounce.log", line, error_r);
}

int emm_log_mailloop(struct bav_emm *emm, const struct emm_event *ev,
		     const char *info, const char **error_r)
{
	struct bav_buf b;
	const char *line;
	char stamp[32];

	local_stamp(ev->time, stamp);
	memset(&b, 0, sizeof(b));
	if (ev->customer > 0) {
		kvi(&b, "customer_id", ev->customer);
		kvi(&b, "mailing_id", ev->mailing);
	}
	if (ev->company > 0)
		kvi(&b, "company_id", ev->company);
	if (ev->customer > 0)
		kvi(&b, "licence_id", emm->opts.licence);
	if (ev->sent != NULL) {
		kv(&b, "sent", ev->sent);
		kv(&b, "forward", ev->sent);
	}
	if (strcmp(ev->action, "unsubscribe") == 0)
		kv(&b, "unsubscribe", "Opt-out by mandatory CSA link (mailto)");
	if (strcmp(ev->action, "bounce") == 0 && ev->dsn_text != NULL) {
		kv(&b, "bounce-dsn", ev->dsn_text);
		kvi(&b, "bounce-mailing-id", ev->mailing);
		kvi(&b, "bounce-customer-id", ev->customer);
		kv(&b, "bounce-error-text", ev->error_text);
	}
	if (info != NULL && info[0] != '\0') {
		if (b.len > 0)
			bav_buf_putc(&b, '\t');
		bav_buf_append(&b, info, strlen(info));
	}
	line = bav_pool_printf(emm->pool, "%lld;%lld;%s;%s;+;%s\n",
			       emm->opts.licence, ev->rid > 0 ? ev->rid : 0,
			       stamp, ev->action,
			       b.data != NULL ? b.data : "");
	bav_buf_free(&b);
	return append(emm, "mailloop.log", line, error_r);
}
