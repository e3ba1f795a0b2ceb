/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	emm_webhook - webhook.log lines of hard bounces, after the commit
 * SYNOPSIS
 *	#include "emm_webhook.h"
 *
 *	int emm_webhook_add(struct emm_webhook *wh, struct bav_store *store,
 *			    const struct emm_webhook_event *ev,
 *			    const char **error_r)
 *	int emm_webhook_flush(struct emm_webhook *wh, const char **error_r)
 *	void emm_webhook_drop(struct emm_webhook *wh)
 *	void emm_webhook_free(struct emm_webhook *wh)
 * DESCRIPTION
 *	What OpenEMM's update appends to $HOME/log/webhook.log for its
 *	webhook sender (spec 5.11.2 item 7, 6 step 8):
 *	  licence;company;mailing;customer;type;YYYY-MM-DD HH:MM:SS
 *	(local time) when webhook_url_tbl has a non-empty webhook_url for
 *	the company (company_ref) and the event type (event_type "4" or
 *	its name "HARD_BOUNCE").
 *	emm_webhook_add() looks the URL up inside the caller's transaction
 *	and queues the line in wh (nothing is written: the binding change
 *	is not committed yet). After the commit emm_webhook_flush() appends
 *	the queued lines to wh->path, each with one write(2) on an O_APPEND
 *	descriptor, then fsync(2)s the file once; after a rollback
 *	emm_webhook_drop() forgets them. So a webhook is never announced
 *	for a change that was rolled back; a crash between the commit and
 *	the flush loses the line (the binding change stays), which is the
 *	order OpenEMM's update has too (it writes after its commit).
 *	wh->path NULL: webhooks are off, emm_webhook_add() does nothing.
 *
 *	Ownership: wh owns its queue (malloc'ed) and path; the caller owns
 *	wh. Reentrant, no static state.
 * DIAGNOSTICS
 *	0, or the store's bav_err (add), or BAV_ETEMP with *error_r in
 *	wh->errbuf when the file cannot be opened, written or synced
 *	(flush; the queue is emptied either way).
 * SEE ALSO
 *	emm-mailloop spec 5.11.2, 6, 7; bav-emm(7), bav-emm-score(7)
 */
#include "emm_webhook.h"
#include "bav_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int url_row(void *ctx, const struct bav_store_value *v,
		   const char *const *names, unsigned int n)
{
	(void)v;
	(void)names;
	(void)n;
	*(bool *)ctx = true;
	return 1;
}

/* event_type holds the code or the name of EMM's event type */
static const char *type_name(int type)
{
	switch (type) {
	case 3: return "MAILING_DELIVERED";
	case 4: return "HARD_BOUNCE";
	case 7: return "TEST_MAILING_DELIVERED";
	default: return "";
	}
}

int emm_webhook_add(struct emm_webhook *wh, struct bav_store *store,
		    const struct emm_webhook_event *ev, const char **error_r)
{
	char code[16], line[256], stamp[32];
	const struct bav_store_param p[] = {
		BAV_STORE_PARAM_INT(ev->company),
		BAV_STORE_PARAM_TEXT(code),
		BAV_STORE_PARAM_TEXT(type_name(ev->type)) };
	bool found = false;
	time_t t = ev->time;
	struct tm tm;
	int ret, len;

	if (wh->path == NULL)
		return BAV_OK;
	snprintf(code, sizeof(code), "%d", ev->type);
	ret = bav_store_exec(store, "SELECT 1 FROM webhook_url_tbl WHERE"
			     " company_ref = ? AND event_type IN (?, ?) AND"
			     " webhook_url IS NOT NULL AND webhook_url <> ''"
			     " LIMIT 1", p, 3, url_row, &found, error_r);
	if (ret != BAV_OK || !found)
		return ret;
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "1970-01-01 00:00:00");
	len = snprintf(line, sizeof(line), "%lld;%lld;%lld;%lld;%d;%s\n",
		       ev->licence, ev->company, ev->mailing, ev->customer,
		       ev->type, stamp);
	if (len < 0 || (size_t)len >= sizeof(line)) {
		*error_r = "webhook line too long";
		return BAV_EDATA;
	}
	if (wh->len + (size_t)len + 1 > wh->alloc) {
		size_t na = wh->alloc == 0 ? 1024 : wh->alloc * 2;

		while (na < wh->len + (size_t)len + 1)
			na *= 2;
		wh->buf = bav_xrealloc(wh->buf, na);
		wh->alloc = na;
	}
	memcpy(wh->buf + wh->len, line, (size_t)len + 1);
	wh->len += (size_t)len;
	return BAV_OK;
}

static int fail(struct emm_webhook *wh, const char *what, int fd,
		const char **error_r)
{
	int e = errno;

	if (fd >= 0)
		close(fd);
	snprintf(wh->errbuf, sizeof(wh->errbuf), "%s %s: %s", what, wh->path,
		 strerror(e));
	*error_r = wh->errbuf;
	emm_webhook_drop(wh);
	return BAV_ETEMP;
}

int emm_webhook_flush(struct emm_webhook *wh, const char **error_r)
{
	size_t off = 0;
	int fd;

	if (wh->path == NULL || wh->len == 0)
		return BAV_OK;
	fd = open(wh->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail(wh, "open", -1, error_r);
	while (off < wh->len) {
		const char *nl = memchr(wh->buf + off, '\n', wh->len - off);
		size_t n = (size_t)(nl - (wh->buf + off)) + 1;
		ssize_t w;

		/* one line, one write: O_APPEND keeps it whole */
		do
			w = write(fd, wh->buf + off, n);
		while (w < 0 && errno == EINTR);
		if (w < 0 || (size_t)w != n) {
			if (w >= 0)
				errno = EIO;
			return fail(wh, "write", fd, error_r);
		}
		off += n;
	}
	if (fsync(fd) < 0)
		return fail(wh, "fsync", fd, error_r);
	if (close(fd) < 0)
		return fail(wh, "close", -1, error_r);
	emm_webhook_drop(wh);
	return BAV_OK;
}

void emm_webhook_drop(struct emm_webhook *wh)
{
	wh->len = 0;
	if (wh->buf != NULL)
		wh->buf[0] = '\0';
}

void emm_webhook_free(struct emm_webhook *wh)
{
	free(wh->buf);
	free(wh->path);
	memset(wh, 0, sizeof(*wh));
}
