/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	str - small string utilities: case-insensitive search (of one
 *	needle, or of several in one pass: bav_multi_*), trimming,
 *	sanitising for logs, address extraction
 * DESCRIPTION
 *	Functions taking a pool return pool-owned copies; the others work
 *	in place or return pointers into their argument.
 * DIAGNOSTICS
 *	none.
 */
#include "bav_private.h"

#include <ctype.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static inline int lc(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* ASCII case-insensitive hay[0..n) == needle[0..n) (needle any case) */
static inline bool eq_ci(const char *hay, const char *needle, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lc((unsigned char)hay[i]) != lc((unsigned char)needle[i]))
			return false;
	return true;
}

/* The byte mask that folds c's case: 0x20 for letters, 0 otherwise. */
static inline unsigned char fold_mask(int c)
{
	c = lc(c);
	return c >= 'a' && c <= 'z' ? 0x20 : 0;
}

/*
 * Candidates are positions whose first and last byte equal the needle's
 * (case folded); with SSE2, 16 positions at a time. Letters are folded
 * by setting bit 0x20, which also folds a few punctuation pairs ('@'
 * and '`', ...): such false candidates fail the full comparison.
 */
const char *bav_memcasemem(const char *hay, size_t len, const char *needle)
{
	size_t nlen = strlen(needle), i = 0, last;
	unsigned char first_c, last_c, first_m, last_m;

	if (nlen == 0)
		return hay;
	if (nlen > len)
		return NULL;
	last = nlen - 1;
	first_c = (unsigned char)lc((unsigned char)needle[0]);
	last_c = (unsigned char)lc((unsigned char)needle[last]);
	first_m = fold_mask(first_c);
	last_m = fold_mask(last_c);
#if defined(__SSE2__)
	{
		const __m128i fc = _mm_set1_epi8((char)first_c);
		const __m128i lcv = _mm_set1_epi8((char)last_c);
		const __m128i fm = _mm_set1_epi8((char)first_m);
		const __m128i lm = _mm_set1_epi8((char)last_m);

		/* @UNSAFE: blocks of 16 candidate starts, last + 15 < len */
		for (; i + last + 16 <= len; i += 16) {
			__m128i a = _mm_loadu_si128((const __m128i *)(hay + i));
			__m128i b = _mm_loadu_si128(
				(const __m128i *)(hay + i + last));
			unsigned int bits = (unsigned int)_mm_movemask_epi8(
				_mm_and_si128(
				    _mm_cmpeq_epi8(_mm_or_si128(a, fm), fc),
				    _mm_cmpeq_epi8(_mm_or_si128(b, lm), lcv)));

			while (bits != 0) {
				unsigned int k = (unsigned int)__builtin_ctz(bits);

				if (eq_ci(hay + i + k + 1, needle + 1,
					  nlen > 2 ? nlen - 2 : 0))
					return hay + i + k;
				bits &= bits - 1;
			}
		}
	}
#endif
	for (; i + nlen <= len; i++) {
		if (((unsigned char)hay[i] | first_m) != first_c ||
		    ((unsigned char)hay[i + last] | last_m) != last_c)
			continue;
		if (eq_ci(hay + i + 1, needle + 1, nlen > 2 ? nlen - 2 : 0))
			return hay + i;
	}
	return NULL;
}

/* 14 bits from three lower-case bytes */
static inline unsigned int head_hash(unsigned int a, unsigned int b,
				     unsigned int c)
{
	return ((a << 16 | b << 8 | c) * 2654435761u) >> 18;
}

void bav_multi_init(struct bav_multi *m, const char *const *needles,
		    unsigned int n)
{
	unsigned int i;
	size_t len;

	memset(m, 0, sizeof(*m));
	m->needles = needles;
	m->n = n;
	m->fallback = n > BAV_MULTI_MAX;
	for (i = 0; i < n && !m->fallback; i++) {
		const unsigned char *s = (const unsigned char *)needles[i];

		len = strlen(needles[i]);
		if (len < 3 || len > 0xffff) {
			m->fallback = true;
			break;
		}
		m->len[i] = (uint16_t)len;
		m->hash[i] = (uint16_t)head_hash((unsigned int)lc(s[0]),
						 (unsigned int)lc(s[1]),
						 (unsigned int)lc(s[2]));
		m->heads[m->hash[i] / 64] |= (uint64_t)1 << (m->hash[i] % 64);
	}
}

int bav_multi_first(const struct bav_multi *m, const char *hay, size_t len)
{
	const unsigned char *s = (const unsigned char *)hay;
	unsigned int best = m->n, k, h, a, b, c;
	size_t i;

	if (m->fallback) {
		for (k = 0; k < m->n; k++)
			if (bav_memcasemem(hay, len, m->needles[k]) != NULL)
				return (int)k;
		return -1;
	}
	if (len < 3)
		return -1;
	a = (unsigned int)lc(s[0]);
	b = (unsigned int)lc(s[1]);
	for (i = 0; i + 2 < len; i++) {
		c = (unsigned int)lc(s[i + 2]);
		h = head_hash(a, b, c);
		a = b;
		b = c;
		if ((m->heads[h / 64] >> (h % 64) & 1) == 0)
			continue;
		for (k = 0; k < best; k++) {
			if (m->hash[k] != h || m->len[k] > len - i ||
			    !eq_ci(hay + i, m->needles[k], m->len[k]))
				continue;
			if ((best = k) == 0)
				return 0;
			break;
		}
	}
	return best < m->n ? (int)best : -1;
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

/* Start of the local part that ends at the '@' at of s: a quoted string
   ("..." with \-escapes, RFC 5321 Quoted-string), else atom characters
   (UTF-8 bytes too, RFC 6531) and \-escaped characters kept as written
   ("a\b@x" stays "a\b@x"). */
static const char *local_start(const char *s, const char *at)
{
	const char *start = at, *q;

	if (start > s && start[-1] == '"') {
		for (q = start - 1; q > s; q--)
			if (q[-1] == '"' && (q - 1 == s || q[-2] != '\\'))
				return q - 1;
		return start;	/* no opening quote */
	}
	while (start > s) {
		unsigned char c = (unsigned char)start[-1];

		if (addr_char(c) || c == '\\')
			start--;
		else if (start - s >= 2 && start[-2] == '\\' && c >= ' ')
			start -= 2;	/* an escaped blank, quote, ... */
		else
			break;
	}
	return start;
}

/* End of the domain [dom, end): trailing dots dropped, and non-ASCII
   bytes at the end of a last label that also has ASCII are text after
   the address ("x@example.jp" + Japanese text without a blank, "jp" +
   an ideographic full stop), not part of it; "b\xc3\xbccher.example" and
   an all-UTF-8 last label stay whole. */
static const char *domain_end(const char *dom, const char *end)
{
	const char *label, *e = end, *q;
	bool ascii = false;

	while (e > dom && e[-1] == '.')
		e--;
	label = e;
	while (label > dom && label[-1] != '.')
		label--;
	for (q = label; q < e; q++)
		if ((unsigned char)*q < 0x80)
			ascii = true;
	if (ascii)
		while (e > label && (unsigned char)e[-1] >= 0x80)
			e--;
	while (e > dom && e[-1] == '.')
		e--;
	return e;
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
		if (p > s && p[-1] == '\\')
			continue;	/* an escaped '@' of a local part */
		start = local_start(s, p);
		end = p + 1;
		/* RFC 6531: a U-label domain keeps its UTF-8 bytes */
		while (*end != '\0' &&
		       (isalnum((unsigned char)*end) || *end == '-' ||
			*end == '.' || *end == '_' ||
			(unsigned char)*end >= 0x80))
			end++;
		end = domain_end(p + 1, end);
		while (start < p && *start == '.')
			start++;
		if (start == p || end == p + 1)
			continue;
		if (*end == '"' && end[1] == '@')
			continue;	/* '@' inside a quoted local part */
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
