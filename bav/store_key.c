/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	store_key - idempotence key of a returned message
 * SYNOPSIS
 *	#include "bav_store.h"
 *
 *	void bav_store_message_key(const unsigned char *msg, size_t len,
 *				   char buf[BAV_STORE_KEY_SIZE]);
 * DESCRIPTION
 *	The key is the hex form of the first 32 bytes of SHA-512 over
 *	"mid:" + the Message-ID field value (unfolded, trimmed) + NUL +
 *	the body (everything after the first empty line) with CR bytes
 *	removed. Trace fields (Received:, Delivered-To:, Return-Path:) and
 *	an mbox "From " line are in the header and do not change the key,
 *	so a message delivered twice, or once to a Maildir and once to an
 *	mbox, is recorded once. A message without a body hashes its whole
 *	header instead. Writes into the caller's buffer only.
 * DIAGNOSTICS
 *	None; never fails.
 * SEE ALSO
 *	RFC 5322 section 3.6.4, store_record.c
 */
#include "store_private.h"
#include "sha512.h"

/* Find the end of the header: offset of the body, or len. */
static size_t body_offset(const unsigned char *msg, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (msg[i] != '\n')
			continue;
		if (msg[i + 1] == '\n')
			return i + 2;
		if (msg[i + 1] == '\r' && i + 2 < len && msg[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

/* Hash the unfolded, trimmed value of the first Message-ID field. */
static void hash_message_id(struct bav_sha512 *ctx, const unsigned char *h,
			    size_t hlen)
{
	size_t i = 0;

	while (i < hlen) {
		size_t eol = i;

		while (eol < hlen && h[eol] != '\n')
			eol++;
		if (eol - i > 11 &&
		    bav_str_begins_ci((const char *)h + i, "message-id:")) {
			size_t p = i + 11;

			/* value with its continuation lines, blanks out */
			while (p < hlen) {
				if (h[p] == '\n' && (p + 1 >= hlen ||
				    (h[p + 1] != ' ' && h[p + 1] != '\t')))
					break;
				if (h[p] != ' ' && h[p] != '\t' &&
				    h[p] != '\r' && h[p] != '\n')
					bav_sha512_update(ctx, h + p, 1);
				p++;
			}
			return;
		}
		i = eol + 1;
	}
}

void bav_store_message_key(const unsigned char *msg, size_t len,
			   char buf[BAV_STORE_KEY_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[BAV_SHA512_DIGEST_LEN];
	struct bav_sha512 ctx;
	size_t body = body_offset(msg, len), i, start;

	bav_sha512_init(&ctx);
	bav_sha512_update(&ctx, "mid:", 4);
	hash_message_id(&ctx, msg, body);
	bav_sha512_update(&ctx, "", 1);
	if (body == len)
		body = 0;
	/* the body without CR bytes, in runs */
	for (start = i = body; i < len; i++) {
		if (msg[i] == '\r') {
			bav_sha512_update(&ctx, msg + start, i - start);
			start = i + 1;
		}
	}
	bav_sha512_update(&ctx, msg + start, len - start);
	bav_sha512_final(&ctx, digest);
	for (i = 0; i < 32; i++) {
		buf[2 * i] = hex[digest[i] >> 4];
		buf[2 * i + 1] = hex[digest[i] & 15];
	}
	buf[64] = '\0';
}
