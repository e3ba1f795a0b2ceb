/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	emm_spool - record a bav spool entry into the EMM tables
 * SYNOPSIS
 *	#include "bav_emm.h"
 *	#include "bav_spool.h"
 *
 *	int bav_emm_record_entry(struct bav_emm *emm,
 *				 const struct bav_spool_entry *entry,
 *				 struct bav_emm_outcome *out,
 *				 const char **error_r)
 *	int bav_emm_record_entry_fwd(struct bav_emm *emm,
 *				     const struct bav_spool_entry *entry,
 *				     const char *forwarded,
 *				     struct bav_emm_outcome *out,
 *				     const char **error_r)
 * DESCRIPTION
 *	What bav deliver --store and bav recorder --store call for an
 *	emm+ store: the X-AGNMailloop header of the message (the first
 *	one, unfolded: bav-milter puts it in front of the others) becomes
 *	the parameter, the envelope sender the return path, the first
 *	envelope recipient the recipient, the entry's key, host and time
 *	are kept. Then bav_emm_record(). bav deliver, which knows whether
 *	it forwarded the message, uses the _fwd variant ("" not
 *	forwarded); the recorder does not know (the spool entry is written
 *	before the forward) and leaves it to the fwd= parameter.
 * DIAGNOSTICS
 *	As bav_emm_record(); BAV_EDATA for an entry without a verdict.
 * SEE ALSO
 *	bav_emm.h, bav_spool.h, bav-emm(7)
 */
#include "emm_private.h"
#include "bav_spool.h"

#include <string.h>
#include <strings.h>

/* The first top-level field "name:" of msg, unfolded, pool-owned. */
static const char *header(struct bav_pool *pool, const unsigned char *msg,
			  size_t len, const char *name)
{
	size_t nl = strlen(name), i = 0;

	while (i < len) {
		size_t end = i;

		while (end < len && msg[end] != '\n')
			end++;
		if (end == i || (end == i + 1 && msg[i] == '\r'))
			return NULL;	/* end of the header */
		if (end - i > nl && msg[i + nl] == ':' &&
		    strncasecmp((const char *)msg + i, name, nl) == 0) {
			struct bav_buf b;
			const char *ret;
			size_t j = i + nl + 1;

			memset(&b, 0, sizeof(b));
			for (;;) {
				for (; j < end; j++)
					if (msg[j] != '\r')
						bav_buf_putc(&b, (char)msg[j]);
				if (end + 1 >= len || (msg[end + 1] != ' ' &&
						       msg[end + 1] != '\t'))
					break;
				j = end + 1;
				end = j;
				while (end < len && msg[end] != '\n')
					end++;
			}
			ret = bav_str_squeeze(pool, b.data != NULL ? b.data :
					      "", b.len);
			bav_buf_free(&b);
			return ret;
		}
		i = end + 1;
	}
	return NULL;
}

int bav_emm_record_entry(struct bav_emm *emm,
			 const struct bav_spool_entry *e,
			 struct bav_emm_outcome *out, const char **error_r)
{
	return bav_emm_record_entry_fwd(emm, e, NULL, out, error_r);
}

int bav_emm_record_entry_fwd(struct bav_emm *emm,
			     const struct bav_spool_entry *e,
			     const char *forwarded,
			     struct bav_emm_outcome *out, const char **error_r)
{
	struct bav_pool *pool;
	struct bav_emm_mail m;
	int ret;

	if (e->verdict == NULL) {
		memset(out, 0, sizeof(*out));
		out->action = "";
		*error_r = e->error != NULL && e->error[0] != '\0' ? e->error :
			"not classified";
		return BAV_EDATA;
	}
	pool = bav_pool_new(4096);
	memset(&m, 0, sizeof(m));
	m.verdict = e->verdict;
	m.message_key = e->key;
	m.parameter = header(pool, e->msg, e->msg_len, "X-AGNMailloop");
	m.return_path = e->sender;
	m.recipient = e->recipient_count > 0 ? e->recipients[0] : NULL;
	m.host = e->host;
	m.forwarded = forwarded;
	m.time = e->time;
	m.msg = e->msg;
	m.msg_len = e->msg_len;
	ret = bav_emm_record(emm, &m, out, error_r);
	bav_pool_free(&pool);
	return ret;
}
