/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	pool - alloc-only arenas and the OOM hook
 * SYNOPSIS
 *	struct bav_pool *bav_pool_new(size_t initial_size)
 *	void *bav_pool_alloc(struct bav_pool *pool, size_t size)
 *	void bav_pool_free(struct bav_pool **pool)
 * DESCRIPTION
 *	A pool owns every block allocated from it; memory is zeroed and is
 *	released all at once by bav_pool_free(). Pools are not shared between
 *	threads; each message or connection has its own.
 *	bav_xmalloc() and friends never return NULL: on failure they call the
 *	host's OOM hook, which must not return (default: abort()).
 * DIAGNOSTICS
 *	none; out of memory goes to the OOM hook.
 */
#include "bav_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bav_oom_hook_t *oom_hook;

void bav_set_oom_hook(bav_oom_hook_t *hook)
{
	oom_hook = hook;
}

static void oom(size_t size)
{
	if (oom_hook != NULL)
		oom_hook(size);
	abort();
}

void *bav_xcalloc(size_t n, size_t size)
{
	void *p;

	if (n == 0 || size == 0)
		n = size = 1;
	p = calloc(n, size);
	if (p == NULL)
		oom(n * size);
	return p;
}

void *bav_xrealloc(void *p, size_t size)
{
	void *np = realloc(p, size == 0 ? 1 : size);

	if (np == NULL)
		oom(size);
	return np;
}

char *bav_xstrdup(const char *s)
{
	size_t len = strlen(s);
	char *p = bav_xcalloc(1, len + 1);

	memcpy(p, s, len);
	return p;
}

struct pool_block {
	struct pool_block *next;
	size_t size, used;
	/* data follows, aligned */
	max_align_t data[];
};

struct bav_pool {
	struct pool_block *blocks;
	size_t next_size;
};

static struct pool_block *block_new(size_t size)
{
	struct pool_block *b = bav_xcalloc(1, sizeof(*b) + size);

	b->size = size;
	return b;
}

struct bav_pool *bav_pool_new(size_t initial_size)
{
	struct bav_pool *pool = bav_xcalloc(1, sizeof(*pool));

	if (initial_size < 1024)
		initial_size = 1024;
	pool->next_size = initial_size;
	return pool;
}

void bav_pool_free(struct bav_pool **poolp)
{
	struct bav_pool *pool = *poolp;
	struct pool_block *b, *next;

	if (pool == NULL)
		return;
	for (b = pool->blocks; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(pool);
	*poolp = NULL;
}

void *bav_pool_alloc(struct bav_pool *pool, size_t size)
{
	const size_t align = sizeof(max_align_t);
	struct pool_block *b = pool->blocks;
	void *p;

	size = (size + align - 1) & ~(align - 1);	/* @UNSAFE */
	if (size == 0)
		size = align;
	if (b == NULL || b->size - b->used < size) {
		size_t bsize = pool->next_size;

		if (size > bsize / 4) {
			/* big allocation: its own block, kept behind the
			   current one so the current stays in use */
			struct pool_block *big = block_new(size);

			big->used = size;
			if (b == NULL) {
				pool->blocks = big;
			} else {
				big->next = b->next;
				b->next = big;
			}
			return big->data;
		}
		b = block_new(bsize);
		b->next = pool->blocks;
		pool->blocks = b;
		if (pool->next_size < 1024 * 1024)
			pool->next_size *= 2;
	}
	p = (char *)b->data + b->used;
	b->used += size;
	/* blocks come from calloc and are never reused: already zero */
	return p;
}

char *bav_pool_strndup(struct bav_pool *pool, const char *s, size_t len)
{
	char *p = bav_pool_alloc(pool, len + 1);

	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *bav_pool_strdup(struct bav_pool *pool, const char *s)
{
	if (s == NULL)
		return NULL;
	return bav_pool_strndup(pool, s, strlen(s));
}

char *bav_pool_printf(struct bav_pool *pool, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return bav_pool_strdup(pool, "");
	p = bav_pool_alloc(pool, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
