/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	classify - optional classification of each message at end of message
 * SYNOPSIS
 *	int classify_init(const char *rules_path, char **error_r)
 *	void classify_header(struct bav_buf *msg, bool *truncated,
 *		const char *name, const char *value)
 *	void classify_append(struct bav_buf *msg, bool *truncated,
 *		const void *data, size_t len)
 *	char *classify_verdict(const struct bav_buf *msg, bool truncated,
 *			       const char *tag)
 *	int classify_reload(void)
 *	void classify_deinit(void)
 * DESCRIPTION
 *	With -k, bav-milter keeps the header and at most -B bytes of each
 *	message from a remote client (the connection owns the buffer) and at
 *	end of message runs bav_classify() on it, the same classifier the
 *	delivery side uses. The verdict becomes the value of an
 *	X-Bav-Classification header field:
 *
 *	    kind=bounce; reason=userunknown; hard=yes; detail=511;
 *	    status=5.1.1; recipients=1[; truncated=yes]
 *
 *	(reason, hard, detail and status of the first recipient result;
 *	kind only when there is none). Incoming fields of that name are
 *	removed like X-AGNMailloop. The rule set (the built-in default, or
 *	-K FILE on top of it) is shared read-only by all threads under a
 *	read lock. classify_reload() (SIGHUP, from the reloader thread of
 *	table.c) loads -K FILE anew outside the lock and swaps it in under
 *	the write lock; a file that does not load leaves the last good rules
 *	in place and is logged with its file:line.
 * DIAGNOSTICS
 *	classify_init() returns -1 with a malloc'ed "file:line: why" error.
 *	classify_reload() returns 1 reloaded, 0 nothing to reload (no -K),
 *	-1 failed (logged).
 *	classify_verdict() returns a malloc'ed value, or NULL when the
 *	message could not be parsed (logged by the caller). A rule whose
 *	pattern hit a PCRE2 match, depth or heap limit (counted as no match)
 *	is logged as a warning "TAG: rule FILE:LINE hit the PCRE2 match
 *	limit (no match)", as bav deliver and bav lmtpd do.
 * SEE ALSO
 *	bav(1), bav-rules(5)
 */
#include "bav_private.h"
#include "bav_milter.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* rules and path are written by classify_init() before the threads start
   and by classify_reload() under the write lock; readers hold the read
   lock while they classify. */
static struct bav_rules *rules;
static char *path;
static pthread_rwlock_t rules_lock = PTHREAD_RWLOCK_INITIALIZER;

int classify_init(const char *rules_path, char **error_r)
{
	if (rules_path == NULL)
		return 0;	/* NULL rules: the built-in defaults */
	if (bav_rules_load(&rules_path, 1, true, &rules, error_r) != BAV_OK)
		return -1;
	path = bav_xstrdup(rules_path);
	return 0;
}

int classify_reload(void)
{
	struct bav_rules *fresh = NULL, *old;
	const char *p = path;
	char *error = NULL;

	if (p == NULL)
		return 0;
	if (bav_rules_load(&p, 1, true, &fresh, &error) != BAV_OK) {
		log_msg(LOG_L_ERROR, "rules reload failed, keeping the last "
			"good rules: %s", error != NULL ? error : p);
		free(error);
		return -1;
	}
	pthread_rwlock_wrlock(&rules_lock);
	old = rules;
	rules = fresh;
	pthread_rwlock_unlock(&rules_lock);
	bav_rules_free(&old);
	log_msg(LOG_L_NOTICE, "reloaded rules %s", p);
	return 1;
}

void classify_deinit(void)
{
	bav_rules_free(&rules);
	free(path);
	path = NULL;
}

void classify_append(struct bav_buf *msg, bool *truncated, const void *data,
		     size_t len)
{
	size_t room = settings.classify_max > msg->len ?
		      settings.classify_max - msg->len : 0;

	if (len > room) {
		len = room;
		*truncated = true;
	}
	if (len > 0)
		bav_buf_append(msg, data, len);
}

void classify_header(struct bav_buf *msg, bool *truncated, const char *name,
		     const char *value)
{
	classify_append(msg, truncated, name, strlen(name));
	classify_append(msg, truncated, ": ", 2);
	classify_append(msg, truncated, value, strlen(value));
	classify_append(msg, truncated, "\n", 1);
}

/* name=value with only [A-Za-z0-9._-] of value (feedback types come from
   the message) and at most 64 of them. */
static void put_item(struct bav_buf *out, const char *name, const char *value)
{
	size_t n = 0;

	bav_buf_printf(out, "; %s=", name);
	for (; *value != '\0' && n < 64; value++, n++) {
		char ch = *value;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-')
			bav_buf_putc(out, ch);
	}
}

char *classify_verdict(const struct bav_buf *msg, bool truncated,
		       const char *tag)
{
	struct bav_classify_opts opts = { 0 };
	struct bav_pool *pool = bav_pool_new(16384);
	struct bav_verdict *v;
	const char *error, *limit_rule;
	struct bav_buf out = { 0 };
	unsigned long hits;
	int ret;

	pthread_rwlock_rdlock(&rules_lock);
	opts.rules = rules;
	hits = bav_rules_limit_hits(rules, NULL);
	ret = bav_classify((const unsigned char *)(msg->data != NULL ?
						   msg->data : ""),
			   msg->len, &opts, pool, &v, &error);
	if (bav_rules_limit_hits(rules, &limit_rule) != hits)
		log_msg(LOG_L_WARNING, "%s: rule %s hit the PCRE2 match limit "
			"(no match)", tag, limit_rule != NULL ? limit_rule :
			"?");
	if (ret != BAV_OK) {
		pthread_rwlock_unlock(&rules_lock);
		bav_pool_free(&pool);
		return NULL;
	}
	/* the verdict's strings may point into the rules: keep the lock */
	bav_buf_printf(&out, "kind=%s", bav_kind_name(v->kind));
	if (v->result_count > 0) {
		const struct bav_result *r = &v->results[0];

		if (r->reason[0] != '\0')
			put_item(&out, "reason", r->reason);
		bav_buf_printf(&out, "; hard=%s; detail=%d", r->hard ? "yes" :
			       "no", r->detail);
		if (r->status[0] != '\0')
			put_item(&out, "status", r->status);
		if (r->feedback_type[0] != '\0')
			put_item(&out, "feedback-type", r->feedback_type);
	}
	bav_buf_printf(&out, "; recipients=%u", v->result_count);
	if (truncated)
		bav_buf_printf(&out, "; truncated=yes");
	pthread_rwlock_unlock(&rules_lock);
	bav_pool_free(&pool);
	return bav_buf_steal(&out);
}
