/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav_verp.h - signed VERP return paths for senders that are not OpenEMM
 * SYNOPSIS
 *	#include <bav_verp.h>
 * DESCRIPTION
 *	A sender that wants bounces attributed to the recipient without an
 *	agnUID uses, per recipient, the envelope sender
 *
 *	    PREFIX+LOCAL=DOMAIN.DAY.SIGNATURE@MAILLOOP-DOMAIN
 *
 *	for the recipient LOCAL@DOMAIN: DAY is the day of sending (days
 *	since 1970-01-01 UTC, 5 digits), SIGNATURE the first 50 bits of
 *	HMAC-SHA512(secret, "DAY:local@domain" lower-cased) in base32
 *	(10 characters a-z2-7). The recipient is found by reading from the
 *	right (DAY and SIGNATURE have fixed lengths, a domain has no "="),
 *	so LOCAL may contain "+", "=", "-" and ".". Checking is case
 *	insensitive (MTAs may change case). A return path is valid from DAY
 *	to DAY + max_age days (and one day early, for clock skew).
 * DIAGNOSTICS
 *	Never exits or prints; reentrant.
 * SEE ALSO
 *	bav-deliver(8) (VERP), bav(1) (bav verp)
 */
#ifndef BAV_VERP_H
#define BAV_VERP_H

#include <stddef.h>
#include <time.h>
#include "bav.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Write the signed return path for recipient (local@domain) into buf
   (size bytes). Returns its length, or -1 when recipient is not an
   address or buf is too small. */
BAV_EXPORT int bav_verp_make(const char *prefix, const char *recipient,
			     const char *mailloop_domain, const char *secret,
			     time_t t, char *buf, size_t size);

/* Check address: 1 and the recipient in rcpt (size bytes) when it is a
   valid signed return path at time t; 0 when it is no VERP address at
   all; -1 with *error_r (static text) when it looks like one but the
   signature is wrong or it has expired. */
BAV_EXPORT int bav_verp_check(const char *address, const char *secret,
			      time_t t, unsigned int max_age_days,
			      char *rcpt, size_t size, const char **error_r);

#ifdef __cplusplus
}
#endif
#endif
