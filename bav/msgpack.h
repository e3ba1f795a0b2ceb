/* SPDX-License-Identifier: MIT */
/*
 * msgpack.h - minimal bounds-checked MessagePack reader (agnUID v5
 * contexts); private to libbav.
 */
#ifndef BAV_MSGPACK_H
#define BAV_MSGPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A cursor over caller-owned bytes; nothing is allocated. */
struct bav_msgpack {
	const unsigned char *p, *end;
};

enum bav_msgpack_type {
	BAV_MSGPACK_INVALID = 0,	/* truncated or reserved byte 0xc1 */
	BAV_MSGPACK_NIL,
	BAV_MSGPACK_BOOL,
	BAV_MSGPACK_INT,		/* signed or unsigned integer */
	BAV_MSGPACK_FLOAT,
	BAV_MSGPACK_STR,
	BAV_MSGPACK_BIN,
	BAV_MSGPACK_ARRAY,
	BAV_MSGPACK_MAP,
	BAV_MSGPACK_EXT,
};

void bav_msgpack_init(struct bav_msgpack *r, const void *data, size_t len);
/* Type of the next value, without consuming it. */
enum bav_msgpack_type bav_msgpack_peek(const struct bav_msgpack *r);
/* Read a map header (entry count) / an integer (uint64 above INT64_MAX
   fails) / a str or bin (pointer into the input). Return false and
   consume nothing on a type mismatch or truncated input. */
bool bav_msgpack_read_map(struct bav_msgpack *r, uint32_t *count_r);
bool bav_msgpack_read_int(struct bav_msgpack *r, int64_t *value_r);
bool bav_msgpack_read_str(struct bav_msgpack *r, const unsigned char **s_r,
			  size_t *len_r);
/* Skip one complete value (nesting at most max_depth levels). */
bool bav_msgpack_skip(struct bav_msgpack *r, unsigned int max_depth);
/* Has the whole input been consumed? */
bool bav_msgpack_at_end(const struct bav_msgpack *r);

#endif
