/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	msgpack - minimal MessagePack reader for agnUID v5 contexts
 * SYNOPSIS
 *	#include "msgpack.h"
 *
 *	void bav_msgpack_init(struct bav_msgpack *r, const void *data,
 *			      size_t len)
 *	enum bav_msgpack_type bav_msgpack_peek(const struct bav_msgpack *r)
 *	bool bav_msgpack_read_map(struct bav_msgpack *r, uint32_t *count_r)
 *	bool bav_msgpack_read_int(struct bav_msgpack *r, int64_t *value_r)
 *	bool bav_msgpack_read_str(struct bav_msgpack *r,
 *				  const unsigned char **s_r, size_t *len_r)
 *	bool bav_msgpack_skip(struct bav_msgpack *r, unsigned int max_depth)
 *	bool bav_msgpack_at_end(const struct bav_msgpack *r)
 * DESCRIPTION
 *	A pull reader over a caller-owned byte range. It decodes the subset
 *	an agnUID v5 context needs (maps with string keys and integer
 *	values) and skips every other MessagePack type, so user context
 *	entries of any type are tolerated. Every length is checked against
 *	the end of the input before it is used; nesting is bounded by the
 *	caller's max_depth. Strings returned point into the input and live
 *	as long as it does. No allocation, no global state: reentrant.
 * DIAGNOSTICS
 *	Functions return false on a type mismatch, truncated input, the
 *	reserved byte 0xc1 or too deep nesting, and then consume nothing.
 * SEE ALSO
 *	MessagePack specification, https://github.com/msgpack/msgpack/blob/master/spec.md
 */
#include "msgpack.h"

static uint64_t be(const unsigned char *p, unsigned int n)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static size_t avail(const struct bav_msgpack *r)
{
	return (size_t)(r->end - r->p);
}

void bav_msgpack_init(struct bav_msgpack *r, const void *data, size_t len)
{
	r->p = data;
	r->end = r->p + len;
}

bool bav_msgpack_at_end(const struct bav_msgpack *r)
{
	return r->p == r->end;
}

enum bav_msgpack_type bav_msgpack_peek(const struct bav_msgpack *r)
{
	unsigned char c;

	if (r->p >= r->end)
		return BAV_MSGPACK_INVALID;
	c = r->p[0];
	if (c <= 0x7f || c >= 0xe0)
		return BAV_MSGPACK_INT;
	if (c <= 0x8f)
		return BAV_MSGPACK_MAP;
	if (c <= 0x9f)
		return BAV_MSGPACK_ARRAY;
	if (c <= 0xbf)
		return BAV_MSGPACK_STR;
	switch (c) {
	case 0xc0:
		return BAV_MSGPACK_NIL;
	case 0xc2: case 0xc3:
		return BAV_MSGPACK_BOOL;
	case 0xc4: case 0xc5: case 0xc6:
		return BAV_MSGPACK_BIN;
	case 0xc7: case 0xc8: case 0xc9:
	case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
		return BAV_MSGPACK_EXT;
	case 0xca: case 0xcb:
		return BAV_MSGPACK_FLOAT;
	case 0xcc: case 0xcd: case 0xce: case 0xcf:
	case 0xd0: case 0xd1: case 0xd2: case 0xd3:
		return BAV_MSGPACK_INT;
	case 0xd9: case 0xda: case 0xdb:
		return BAV_MSGPACK_STR;
	case 0xdc: case 0xdd:
		return BAV_MSGPACK_ARRAY;
	case 0xde: case 0xdf:
		return BAV_MSGPACK_MAP;
	default:
		return BAV_MSGPACK_INVALID;	/* 0xc1 */
	}
}

/* Header of a container or string-like value: size of the header in
   bytes (0 = unknown) and the count/length it announces. */
static unsigned int header_len(unsigned char c, unsigned int *lenbytes_r)
{
	*lenbytes_r = 0;
	switch (c) {
	case 0xc4: case 0xc7: case 0xd9:
		*lenbytes_r = 1;
		break;
	case 0xc5: case 0xc8: case 0xda: case 0xdc: case 0xde:
		*lenbytes_r = 2;
		break;
	case 0xc6: case 0xc9: case 0xdb: case 0xdd: case 0xdf:
		*lenbytes_r = 4;
		break;
	default:
		return 1;
	}
	return 1 + *lenbytes_r;
}

bool bav_msgpack_read_map(struct bav_msgpack *r, uint32_t *count_r)
{
	unsigned int lb, hl;
	unsigned char c;

	if (bav_msgpack_peek(r) != BAV_MSGPACK_MAP)
		return false;
	c = r->p[0];
	if (c <= 0x8f) {
		*count_r = c & 0x0f;
		r->p++;
		return true;
	}
	hl = header_len(c, &lb);
	if (avail(r) < hl)
		return false;
	*count_r = (uint32_t)be(r->p + 1, lb);
	r->p += hl;
	return true;
}

bool bav_msgpack_read_int(struct bav_msgpack *r, int64_t *value_r)
{
	static const unsigned char width[8] = { 1, 2, 4, 8, 1, 2, 4, 8 };
	unsigned char c;
	unsigned int n;
	uint64_t u;

	if (bav_msgpack_peek(r) != BAV_MSGPACK_INT)
		return false;
	c = r->p[0];
	if (c <= 0x7f || c >= 0xe0) {
		*value_r = (int8_t)c;	/* fixint: positive or negative */
		r->p++;
		return true;
	}
	n = width[c - 0xcc];
	if (avail(r) < 1 + n)
		return false;
	u = be(r->p + 1, n);
	if (c <= 0xcf) {			/* uint 8..64 */
		if (u > INT64_MAX)
			return false;
		*value_r = (int64_t)u;
	} else if (n == 1) {
		*value_r = (int8_t)u;
	} else if (n == 2) {
		*value_r = (int16_t)u;
	} else if (n == 4) {
		*value_r = (int32_t)u;
	} else {
		*value_r = (int64_t)u;
	}
	r->p += 1 + n;
	return true;
}

/* Payload length of a str/bin/ext at r->p; total size in *total_r. */
static bool blob_size(const struct bav_msgpack *r, size_t *total_r,
		      size_t *hdr_r)
{
	unsigned char c = r->p[0];
	unsigned int lb, hl;
	uint64_t len;

	if (c >= 0xa0 && c <= 0xbf) {
		hl = 1;
		len = c & 0x1f;
	} else if (c >= 0xd4 && c <= 0xd8) {	/* fixext 1..16 + type */
		hl = 2;
		len = 1u << (c - 0xd4);
	} else {
		hl = header_len(c, &lb);
		if (lb == 0 || avail(r) < hl)
			return false;
		len = be(r->p + 1, lb);
		if (c >= 0xc7 && c <= 0xc9)
			hl++;			/* ext type byte */
	}
	if (avail(r) < hl || avail(r) - hl < len)
		return false;
	*hdr_r = hl;
	*total_r = hl + (size_t)len;
	return true;
}

bool bav_msgpack_read_str(struct bav_msgpack *r, const unsigned char **s_r,
			  size_t *len_r)
{
	enum bav_msgpack_type t = bav_msgpack_peek(r);
	size_t total, hdr;

	if (t != BAV_MSGPACK_STR && t != BAV_MSGPACK_BIN)
		return false;
	if (!blob_size(r, &total, &hdr))
		return false;
	*s_r = r->p + hdr;
	*len_r = total - hdr;
	r->p += total;
	return true;
}

static bool skip(struct bav_msgpack *r, unsigned int depth)
{
	uint64_t items = 0, i;
	size_t total, hdr;
	unsigned int lb, hl;
	unsigned char c;

	switch (bav_msgpack_peek(r)) {
	case BAV_MSGPACK_INVALID:
		return false;
	case BAV_MSGPACK_NIL:
	case BAV_MSGPACK_BOOL:
		r->p++;
		return true;
	case BAV_MSGPACK_INT:
	case BAV_MSGPACK_FLOAT:
		c = r->p[0];
		if (c <= 0x7f || c >= 0xe0)
			total = 1;
		else if (c == 0xca || c == 0xcb)
			total = c == 0xca ? 5 : 9;
		else
			total = 1 + ((size_t)1 << ((c - 0xcc) & 3));
		if (avail(r) < total)
			return false;
		r->p += total;
		return true;
	case BAV_MSGPACK_STR:
	case BAV_MSGPACK_BIN:
	case BAV_MSGPACK_EXT:
		if (!blob_size(r, &total, &hdr))
			return false;
		r->p += total;
		return true;
	case BAV_MSGPACK_ARRAY:
	case BAV_MSGPACK_MAP:
		break;
	}
	if (depth == 0)
		return false;
	c = r->p[0];
	if (c <= 0x9f) {
		items = c & 0x0f;
		hl = 1;
	} else {
		hl = header_len(c, &lb);
		if (avail(r) < hl)
			return false;
		items = be(r->p + 1, lb);
	}
	if (bav_msgpack_peek(r) == BAV_MSGPACK_MAP)
		items *= 2;
	/* every item needs at least one byte: cheap bound on hostile counts */
	if (items > avail(r) - hl)
		return false;
	r->p += hl;
	for (i = 0; i < items; i++)
		if (!skip(r, depth - 1))
			return false;
	return true;
}

bool bav_msgpack_skip(struct bav_msgpack *r, unsigned int max_depth)
{
	struct bav_msgpack save = *r;

	if (skip(r, max_depth))
		return true;
	*r = save;
	return false;
}
