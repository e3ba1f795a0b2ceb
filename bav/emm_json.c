/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	emm_json - the small JSON reader of the EMM mode
 * SYNOPSIS
 *	#include "emm_private.h"
 *
 *	struct emm_json *emm_json_parse(struct bav_pool *pool,
 *					const char *text)
 *	const struct emm_json *emm_json_get(const struct emm_json *obj,
 *					    const char *key)
 * DESCRIPTION
 *	OpenEMM keeps rule sets (bounce_rule_tbl.definition) and parameters
 *	(bounce_config_tbl.value) as JSON documents. This reads RFC 8259
 *	JSON into a tree allocated from pool (the caller's pool owns every
 *	node and string): objects keep their key order, strings are
 *	unescaped (\uXXXX and surrogate pairs to UTF-8), numbers keep their
 *	text in str as well. Nesting is limited to 32 levels.
 * DIAGNOSTICS
 *	NULL for anything that is not one complete JSON value. Never exits.
 * SEE ALSO
 *	RFC 8259; emm-mailloop spec 5.6.2, 6
 */
#include "emm_private.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32

struct jp {
	struct bav_pool *pool;
	const char *p;
	unsigned int depth;
};

static void ws(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' ||
	       *j->p == '\r')
		j->p++;
}

static struct emm_json *node(struct jp *j, enum emm_json_type t)
{
	struct emm_json *n = bav_pool_alloc(j->pool, sizeof(*n));

	memset(n, 0, sizeof(*n));
	n->type = t;
	return n;
}

static int hex4(const char *s, unsigned int *v)
{
	unsigned int i, c = 0;

	for (i = 0; i < 4; i++) {
		char ch = s[i];

		c <<= 4;
		if (ch >= '0' && ch <= '9')
			c |= (unsigned int)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			c |= (unsigned int)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			c |= (unsigned int)(ch - 'A' + 10);
		else
			return -1;
	}
	*v = c;
	return 0;
}

static void put_utf8(struct bav_buf *b, unsigned int c)
{
	if (c < 0x80) {
		bav_buf_putc(b, (char)c);
	} else if (c < 0x800) {
		bav_buf_putc(b, (char)(0xc0 | (c >> 6)));
		bav_buf_putc(b, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		bav_buf_putc(b, (char)(0xe0 | (c >> 12)));
		bav_buf_putc(b, (char)(0x80 | ((c >> 6) & 0x3f)));
		bav_buf_putc(b, (char)(0x80 | (c & 0x3f)));
	} else {
		bav_buf_putc(b, (char)(0xf0 | (c >> 18)));
		bav_buf_putc(b, (char)(0x80 | ((c >> 12) & 0x3f)));
		bav_buf_putc(b, (char)(0x80 | ((c >> 6) & 0x3f)));
		bav_buf_putc(b, (char)(0x80 | (c & 0x3f)));
	}
}

/* A string at j->p (the opening quote): pool copy or NULL. */
static const char *string(struct jp *j)
{
	struct bav_buf b;
	const char *ret = NULL;
	unsigned int c, lo;

	memset(&b, 0, sizeof(b));
	j->p++;
	for (;;) {
		unsigned char ch = (unsigned char)*j->p;

		if (ch == '\0' || ch < 0x20)
			goto out;
		j->p++;
		if (ch == '"')
			break;
		if (ch != '\\') {
			bav_buf_putc(&b, (char)ch);
			continue;
		}
		switch (*j->p++) {
		case '"': bav_buf_putc(&b, '"'); break;
		case '\\': bav_buf_putc(&b, '\\'); break;
		case '/': bav_buf_putc(&b, '/'); break;
		case 'b': bav_buf_putc(&b, '\b'); break;
		case 'f': bav_buf_putc(&b, '\f'); break;
		case 'n': bav_buf_putc(&b, '\n'); break;
		case 'r': bav_buf_putc(&b, '\r'); break;
		case 't': bav_buf_putc(&b, '\t'); break;
		case 'u':
			if (hex4(j->p, &c) < 0)
				goto out;
			j->p += 4;
			if (c >= 0xd800 && c < 0xdc00 && j->p[0] == '\\' &&
			    j->p[1] == 'u' && hex4(j->p + 2, &lo) == 0 &&
			    lo >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) +
					(lo - 0xdc00);
				j->p += 6;
			}
			if (c == 0)
				goto out;
			put_utf8(&b, c);
			break;
		default:
			goto out;
		}
	}
	ret = bav_pool_strndup(j->pool, b.data != NULL ? b.data : "", b.len);
out:
	bav_buf_free(&b);
	return ret;
}

static struct emm_json *value(struct jp *j);

/* Members or elements up to close: 0 ok, -1 bad. */
static int members(struct jp *j, struct emm_json *n, char close, bool obj)
{
	unsigned int alloc = 0;

	j->p++;
	ws(j);
	if (*j->p == close) {
		j->p++;
		return 0;
	}
	for (;;) {
		const char *key = NULL;
		struct emm_json *v;

		ws(j);
		if (obj) {
			if (*j->p != '"' || (key = string(j)) == NULL)
				return -1;
			ws(j);
			if (*j->p++ != ':')
				return -1;
		}
		if ((v = value(j)) == NULL)
			return -1;
		if (n->count == alloc) {
			unsigned int na = alloc == 0 ? 8 : alloc * 2;
			struct emm_json **ni = bav_pool_alloc(j->pool,
							      na * sizeof(*ni));
			const char **nk = bav_pool_alloc(j->pool,
							 na * sizeof(*nk));

			if (n->count > 0) {
				memcpy(ni, n->items, n->count * sizeof(*ni));
				memcpy(nk, n->keys, n->count * sizeof(*nk));
			}
			n->items = ni;
			n->keys = nk;
			alloc = na;
		}
		n->keys[n->count] = key;
		n->items[n->count++] = v;
		ws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p != close)
			return -1;
		j->p++;
		return 0;
	}
}

static struct emm_json *number(struct jp *j)
{
	struct emm_json *n;
	char *end;
	double d = strtod(j->p, &end);

	if (end == j->p)
		return NULL;
	n = node(j, EMM_JSON_NUM);
	n->num = d;
	n->str = bav_pool_strndup(j->pool, j->p, (size_t)(end - j->p));
	j->p = end;
	return n;
}

static struct emm_json *word(struct jp *j, const char *w,
			     enum emm_json_type t, double num)
{
	size_t len = strlen(w);
	struct emm_json *n;

	if (strncmp(j->p, w, len) != 0)
		return NULL;
	j->p += len;
	n = node(j, t);
	n->num = num;
	n->str = w;
	return n;
}

static struct emm_json *value(struct jp *j)
{
	struct emm_json *n = NULL;

	ws(j);
	if (++j->depth > MAX_DEPTH)
		return NULL;
	switch (*j->p) {
	case '{':
	case '[':
		n = node(j, *j->p == '{' ? EMM_JSON_OBJ : EMM_JSON_ARR);
		if (members(j, n, *j->p == '{' ? '}' : ']',
			    n->type == EMM_JSON_OBJ) < 0)
			n = NULL;
		break;
	case '"':
		n = node(j, EMM_JSON_STR);
		if ((n->str = string(j)) == NULL)
			n = NULL;
		break;
	case 't':
		n = word(j, "true", EMM_JSON_BOOL, 1);
		break;
	case 'f':
		n = word(j, "false", EMM_JSON_BOOL, 0);
		break;
	case 'n':
		n = word(j, "null", EMM_JSON_NULL, 0);
		break;
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			n = number(j);
		break;
	}
	j->depth--;
	return n;
}

struct emm_json *emm_json_parse(struct bav_pool *pool, const char *text)
{
	struct jp j = { pool, text, 0 };
	struct emm_json *n;

	if (text == NULL)
		return NULL;
	n = value(&j);
	if (n == NULL)
		return NULL;
	ws(&j);
	return *j.p == '\0' ? n : NULL;
}

const struct emm_json *emm_json_get(const struct emm_json *obj,
				    const char *key)
{
	unsigned int i;

	if (obj == NULL || obj->type != EMM_JSON_OBJ)
		return NULL;
	for (i = obj->count; i > 0; i--)	/* the last duplicate wins */
		if (strcmp(obj->keys[i - 1], key) == 0)
			return obj->items[i - 1];
	return NULL;
}
