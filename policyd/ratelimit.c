/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	ratelimit - fixed-window counters for null-sender mail
 * SYNOPSIS
 *	struct ratelimit *ratelimit_new(void)
 *	bool ratelimit_hit(struct ratelimit *rl, const char *kind,
 *			   const char *key, unsigned int limit,
 *			   unsigned int window, time_t now,
 *			   unsigned int *count_r)
 *	void ratelimit_expire(struct ratelimit *rl, time_t now)
 *	void ratelimit_free(struct ratelimit **rl)
 * DESCRIPTION
 *	One counter per kind ("c" client address, "r" recipient) and key,
 *	in a chained hash that doubles when it holds more entries than
 *	buckets. A counter starts a window at its first hit; a hit after
 *	the window ended starts a new one. ratelimit_hit() counts the hit
 *	and says whether the count is now above the limit (the hits above
 *	the limit are counted too, so a sender that keeps trying stays
 *	limited until the window ends). ratelimit_expire(), called once a
 *	second by the event loop, frees counters whose window ended, so the
 *	memory follows the number of active keys. Single-threaded: the
 *	state belongs to the event loop (or the stdio process).
 * DIAGNOSTICS
 *	Out of memory exits with 75 (EX_TEMPFAIL).
 */
#include "bav_policyd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct counter {
	struct counter *next;
	uint32_t hash;
	unsigned int count;
	time_t start, window;
	char key[];		/* kind NUL key */
};

struct ratelimit {
	struct counter **buckets;
	size_t mask, count;
};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL) {
		log_msg(LOG_L_FATAL, "out of memory");
		_exit(75);
	}
	return p;
}

struct ratelimit *ratelimit_new(void)
{
	struct ratelimit *rl = xcalloc(1, sizeof(*rl));

	rl->mask = 255;
	rl->buckets = xcalloc(rl->mask + 1, sizeof(*rl->buckets));
	return rl;
}

void ratelimit_free(struct ratelimit **rlp)
{
	struct ratelimit *rl = *rlp;
	size_t i;

	if (rl == NULL)
		return;
	for (i = 0; i <= rl->mask; i++) {
		struct counter *c = rl->buckets[i], *next;

		for (; c != NULL; c = next) {
			next = c->next;
			free(c);
		}
	}
	free(rl->buckets);
	free(rl);
	*rlp = NULL;
}

static uint32_t hash2(const char *kind, const char *key)
{
	uint32_t h = 2166136261u;
	const char *s;

	for (s = kind; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	h = (h ^ 0xffu) * 16777619u;
	for (s = key; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void grow(struct ratelimit *rl)
{
	size_t size = (rl->mask + 1) * 2, i;
	struct counter **b = xcalloc(size, sizeof(*b));

	for (i = 0; i <= rl->mask; i++) {
		struct counter *c = rl->buckets[i], *next;

		for (; c != NULL; c = next) {
			next = c->next;
			c->next = b[c->hash & (size - 1)];
			b[c->hash & (size - 1)] = c;
		}
	}
	free(rl->buckets);
	rl->buckets = b;
	rl->mask = size - 1;
}

bool ratelimit_hit(struct ratelimit *rl, const char *kind, const char *key,
		   unsigned int limit, unsigned int window, time_t now,
		   unsigned int *count_r)
{
	uint32_t h = hash2(kind, key);
	size_t klen = strlen(kind), len = strlen(key);
	struct counter *c;

	for (c = rl->buckets[h & rl->mask]; c != NULL; c = c->next)
		if (c->hash == h && strcmp(c->key, kind) == 0 &&
		    strcmp(c->key + klen + 1, key) == 0)
			break;
	if (c == NULL) {
		if (rl->count >= rl->mask + 1)
			grow(rl);
		c = xcalloc(1, sizeof(*c) + klen + len + 2);
		c->hash = h;
		memcpy(c->key, kind, klen + 1);
		memcpy(c->key + klen + 1, key, len + 1);
		c->next = rl->buckets[h & rl->mask];
		rl->buckets[h & rl->mask] = c;
		rl->count++;
	}
	if (c->count == 0 || now >= c->start + c->window) {
		c->start = now;
		c->window = window;
		c->count = 0;
	}
	if (c->count < UINT32_MAX)
		c->count++;
	*count_r = c->count;
	return c->count > limit;
}

void ratelimit_expire(struct ratelimit *rl, time_t now)
{
	size_t i;

	for (i = 0; i <= rl->mask; i++) {
		struct counter **cp = &rl->buckets[i], *c;

		while ((c = *cp) != NULL) {
			if (now >= c->start + c->window) {
				*cp = c->next;
				free(c);
				rl->count--;
			} else {
				cp = &c->next;
			}
		}
	}
}
