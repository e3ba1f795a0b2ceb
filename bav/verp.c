/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	verp - signed VERP return paths (make and check)
 * SYNOPSIS
 *	#include <bav_verp.h>
 *
 *	int bav_verp_make(const char *prefix, const char *recipient,
 *			  const char *mailloop_domain, const char *secret,
 *			  time_t t, char *buf, size_t size)
 *	int bav_verp_check(const char *address, const char *secret,
 *			   time_t t, unsigned int max_age_days,
 *			   char *rcpt, size_t size, const char **error_r)
 * DESCRIPTION
 *	The format is described in bav_verp.h:
 *	PREFIX+LOCAL=DOMAIN.DAY.SIGNATURE@MAILLOOP-DOMAIN with DAY 5 decimal
 *	digits and SIGNATURE 10 base32 characters of
 *	HMAC-SHA512(secret, "DAY:local@domain" lower-cased). Everything is
 *	written into the caller's buffers; nothing is allocated.
 * DIAGNOSTICS
 *	bav_verp_make: length or -1; bav_verp_check: 1 valid, 0 not a
 *	VERP address, -1 with a static *error_r (bad signature, expired,
 *	from the future). Never exits or prints.
 * SEE ALSO
 *	RFC 2104 (HMAC), bav-deliver(8)
 */
#include "bav_private.h"
#include "bav_verp.h"
#include "sha512.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define DAY_LEN 5
#define SIG_LEN 10
#define TAIL_LEN (1 + DAY_LEN + 1 + SIG_LEN)	/* ".DDDDD.SSSSSSSSSS" */

static void hmac_sha512(const char *key, const unsigned char *msg,
			size_t len, unsigned char out[BAV_SHA512_DIGEST_LEN])
{
	unsigned char k[BAV_SHA512_BLOCK_LEN], pad[BAV_SHA512_BLOCK_LEN];
	unsigned char inner[BAV_SHA512_DIGEST_LEN];
	struct bav_sha512 ctx;
	size_t klen = strlen(key), i;

	memset(k, 0, sizeof(k));
	if (klen > sizeof(k))
		bav_sha512(key, klen, k);
	else
		memcpy(k, key, klen);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	bav_sha512_init(&ctx);
	bav_sha512_update(&ctx, pad, sizeof(pad));
	bav_sha512_update(&ctx, msg, len);
	bav_sha512_final(&ctx, inner);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	bav_sha512_init(&ctx);
	bav_sha512_update(&ctx, pad, sizeof(pad));
	bav_sha512_update(&ctx, inner, sizeof(inner));
	bav_sha512_final(&ctx, out);
}

/* SIG_LEN base32 characters of HMAC(secret, "DAY:rcpt"), rcpt
   lower-cased; sig gets SIG_LEN + 1 bytes. */
static void sign(const char *secret, long day, const char *rcpt,
		 size_t rcpt_len, char sig[SIG_LEN + 1])
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char mac[BAV_SHA512_DIGEST_LEN], msg[600];
	size_t n, i;
	uint64_t bits = 0;

	n = (size_t)snprintf((char *)msg, sizeof(msg), "%05ld:", day);
	for (i = 0; i < rcpt_len && n < sizeof(msg); i++)
		msg[n++] = (unsigned char)tolower((unsigned char)rcpt[i]);
	hmac_sha512(secret, msg, n, mac);
	for (i = 0; i < 8; i++)
		bits = (bits << 8) | mac[i];
	for (i = 0; i < SIG_LEN; i++)
		sig[i] = b32[(bits >> (64 - 5 * (i + 1))) & 31];
	sig[SIG_LEN] = '\0';
}

int bav_verp_make(const char *prefix, const char *recipient,
		  const char *mailloop_domain, const char *secret, time_t t,
		  char *buf, size_t size)
{
	const char *at = strrchr(recipient, '@');
	long day = (long)(t / 86400) % 100000;
	char sig[SIG_LEN + 1];
	size_t rlen = strlen(recipient);
	int n;

	if (at == NULL || at == recipient || at[1] == '\0' ||
	    strchr(at + 1, '=') != NULL || rlen > 500 ||
	    strpbrk(recipient, " \t\r\n<>") != NULL)
		return -1;
	sign(secret, day, recipient, rlen, sig);
	n = snprintf(buf, size, "%s+%.*s=%s.%05ld.%s@%s", prefix,
		     (int)(at - recipient), recipient, at + 1, day, sig,
		     mailloop_domain);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

int bav_verp_check(const char *address, const char *secret, time_t t,
		   unsigned int max_age_days, char *rcpt, size_t size,
		   const char **error_r)
{
	const char *plus, *at, *tail, *eq;
	char sig[SIG_LEN + 1], local_rcpt[520];
	long day, today = (long)(t / 86400) % 100000;
	size_t rlen, i;

	if (*address == '<')
		address++;
	at = strrchr(address, '@');
	plus = strchr(address, '+');
	if (at == NULL || plus == NULL || plus > at ||
	    (size_t)(at - plus - 1) < TAIL_LEN + 3)
		return 0;
	tail = at - TAIL_LEN;
	if (tail[0] != '.' || tail[1 + DAY_LEN] != '.')
		return 0;
	for (i = 1; i <= DAY_LEN; i++)
		if (!isdigit((unsigned char)tail[i]))
			return 0;
	/* the recipient: LOCAL=DOMAIN between the "+" and the tail */
	rlen = (size_t)(tail - plus - 1);
	if (rlen >= sizeof(local_rcpt))
		return 0;
	memcpy(local_rcpt, plus + 1, rlen);
	local_rcpt[rlen] = '\0';
	eq = strrchr(local_rcpt, '=');
	if (eq == NULL || eq == local_rcpt || eq[1] == '\0')
		return 0;
	local_rcpt[eq - local_rcpt] = '@';
	day = strtol(tail + 1, NULL, 10);
	sign(secret, day, local_rcpt, rlen, sig);
	if (strncasecmp(sig, tail + 2 + DAY_LEN, SIG_LEN) != 0) {
		*error_r = "VERP signature does not match";
		return -1;
	}
	/* day arithmetic modulo 100000 days (274 years) */
	if ((today - day + 100000) % 100000 > (long)max_age_days &&
	    (day - today + 100000) % 100000 > 1) {
		*error_r = "VERP return path expired";
		return -1;
	}
	if (rlen + 1 > size) {
		*error_r = "VERP recipient too long";
		return -1;
	}
	memcpy(rcpt, local_rcpt, rlen + 1);
	return 1;
}
