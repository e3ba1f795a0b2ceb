/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	str - small string utilities: case-insensitive search, trimming,
 *	sanitising for logs, address extraction
 * DESCRIPTION
 *	Functions taking a pool return pool-owned copies; the others work
 *	in place or return pointers into their argument.
 * DIAGNOSTICS
 *	none.
 */
#include "bav_private.h"

#include <ctype.h>

static inline int lc(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

const char *bav_memcasemem(const char *hay, size_t len, const char *needle)
{
	size_t nlen = strlen(needle), i, j;
	int first;

	if (nlen == 0)
		return hay;
	if (nlen > len)
		return NULL;
	first = lc((unsigned char)needle[0]);
	for (i = 0; i + nlen <= len; i++) {
		if (lc((unsigned char)hay[i]) != first)
			continue;
		for (j = 1; j < nlen; j++)
			if (lc((unsigned char)hay[i + j]) !=
			    lc((unsigned char)needle[j]))
				break;
		if (j == nlen)
			return hay + i;
	}
	return NULL;
}

const char *bav_strcasestr(const char *hay, const char *needle)
{
	return bav_memcasemem(hay, strlen(hay), needle);
}

bool bav_str_begins_ci(const char *s, const char *prefix)
{
	for (; *prefix != '\0'; s++, prefix++)
		if (lc((unsigned char)*s) != lc((unsigned char)*prefix))
			return false;
	return true;
}

char *bav_str_lower(char *s)
{
	char *p;

	for (p = s; *p != '\0'; p++)
		*p = (char)lc((unsigned char)*p);
	return s;
}

static inline bool is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	       c == '\v';
}

char *bav_str_trim(char *s)
{
	size_t len;

	while (is_ws((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && is_ws((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

char *bav_str_squeeze(struct bav_pool *pool, const char *s, size_t len)
{
	char *out = bav_pool_alloc(pool, len + 1), *o = out;
	bool space = false;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_ws(c) || c == '\0') {
			space = o != out;
			continue;
		}
		if (space)
			*o++ = ' ';
		space = false;
		*o++ = (char)c;
	}
	*o = '\0';
	return out;
}

char *bav_str_sanitize(struct bav_pool *pool, const char *s, size_t max)
{
	size_t len = strlen(s), i;
	char *out;

	if (len > max)
		len = max;
	out = bav_pool_strndup(pool, s, len);
	for (i = 0; i < len; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
	return out;
}

static bool addr_char(int c)
{
	return isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL ||
	       c >= 0x80;
}

bool bav_addr_valid(const char *s)
{
	const char *at = strrchr(s, '@'), *p;

	if (at == NULL || at == s || at[1] == '\0')
		return false;
	for (p = at + 1; *p != '\0'; p++)
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '.' ||
		      *p == '_' || (unsigned char)*p >= 0x80 || *p == '[' ||
		      *p == ']' || *p == ':'))
			return false;
	return true;
}

/* Scan for local@domain around each '@' in s. */
char *bav_addr_extract(struct bav_pool *pool, const char *s)
{
	const char *lt = strchr(s, '<'), *p, *start, *end;
	char *out, *at;

	/* an address in angle brackets: the innermost <...> holding '@' */
	for (; lt != NULL; lt = strchr(lt + 1, '<')) {
		const char *gt = strchr(lt, '>'), *inner;

		if (gt == NULL)
			break;
		inner = lt;
		for (p = lt + 1; p < gt; p++)
			if (*p == '<')
				inner = p;
		if (memchr(inner, '@', (size_t)(gt - inner)) == NULL)
			continue;
		start = inner + 1;
		while (start < gt && is_ws((unsigned char)*start))
			start++;
		end = gt;
		while (end > start && is_ws((unsigned char)end[-1]))
			end--;
		/* drop a source route @a,@b: */
		p = memchr(start, ':', (size_t)(end - start));
		if (*start == '@' && p != NULL)
			start = p + 1;
		out = bav_pool_strndup(pool, start, (size_t)(end - start));
		goto done;
	}
	for (p = s; (p = strchr(p, '@')) != NULL; p++) {
		start = p;
		while (start > s && addr_char((unsigned char)start[-1]))
			start--;
		if (start > s && start[-1] == '"') {
			/* quoted local part */
			const char *q = start - 1;

			while (q > s && q[-1] != '"')
				q--;
			if (q > s)
				start = q - 1;
		}
		end = p + 1;
		while (*end != '\0' &&
		       (isalnum((unsigned char)*end) || *end == '-' ||
			*end == '.' || *end == '_'))
			end++;
		while (end > p + 1 && end[-1] == '.')
			end--;
		while (start < p && *start == '.')
			start++;
		if (start == p || end == p + 1)
			continue;
		out = bav_pool_strndup(pool, start, (size_t)(end - start));
		goto done;
	}
	return bav_pool_strdup(pool, "");
done:
	at = strrchr(out, '@');
	if (at != NULL)
		bav_str_lower(at);
	return out;
}
