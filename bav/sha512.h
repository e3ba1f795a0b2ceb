/* SPDX-License-Identifier: MIT */
/*
 * sha512.h - SHA-512 (FIPS 180-4) for agnUID signatures; private to libbav.
 */
#ifndef BAV_SHA512_H
#define BAV_SHA512_H

#include <stddef.h>
#include <stdint.h>

#define BAV_SHA512_DIGEST_LEN 64
#define BAV_SHA512_BLOCK_LEN 128

/* Running hash state; lives on the caller's stack, no allocation. */
struct bav_sha512 {
	uint64_t h[8];
	uint64_t bytes;		/* message length so far (< 2^64 bytes) */
	unsigned char block[BAV_SHA512_BLOCK_LEN];
	size_t fill;		/* bytes pending in block */
};

/* Start a new hash. */
void bav_sha512_init(struct bav_sha512 *ctx);
/* Add len bytes of data; any chunking gives the same result. */
void bav_sha512_update(struct bav_sha512 *ctx, const void *data, size_t len);
/* Finish and write the 64-byte digest; ctx must be re-initialised before
   it is used again. */
void bav_sha512_final(struct bav_sha512 *ctx,
		      unsigned char digest[BAV_SHA512_DIGEST_LEN]);
/* One-shot convenience. */
void bav_sha512(const void *data, size_t len,
		unsigned char digest[BAV_SHA512_DIGEST_LEN]);

#endif
