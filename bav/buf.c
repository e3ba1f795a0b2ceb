/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	buf - growable heap byte buffers
 * DESCRIPTION
 *	struct bav_buf owns its heap memory; the contents are always
 *	NUL-terminated. bav_buf_free() releases it, bav_buf_steal() hands
 *	the string to the caller (who frees it with free()).
 * DIAGNOSTICS
 *	Out of memory goes to the OOM hook; nothing else can fail.
 */
#include "bav_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void grow(struct bav_buf *b, size_t need)
{
	size_t cap = b->cap == 0 ? 64 : b->cap;

	if (b->len + need + 1 <= b->cap)
		return;
	while (cap < b->len + need + 1) {
		if (cap > SIZE_MAX / 2)
			cap = b->len + need + 1; /* @UNSAFE: caller limits */
		else
			cap *= 2;
	}
	b->data = bav_xrealloc(b->data, cap);
	b->cap = cap;
}

void bav_buf_append(struct bav_buf *b, const void *data, size_t len)
{
	grow(b, len);
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void bav_buf_putc(struct bav_buf *b, char c)
{
	if (b->len + 2 > b->cap)
		grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void bav_buf_printf(struct bav_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void bav_buf_reset(struct bav_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void bav_buf_free(struct bav_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *bav_buf_steal(struct bav_buf *b)
{
	char *s = b->data;

	if (s == NULL)
		s = bav_xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}
