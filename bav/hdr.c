/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	hdr - header field utilities and content decoders
 * SYNOPSIS
 *	char *bav_hdr_decode(pool, value)	RFC 2047 words to UTF-8
 *	char *bav_hdr_param(pool, value, name)	RFC 2045/2231 parameter
 *	void bav_decode_base64(out, in, len)
 *	void bav_decode_qp(out, in, len)
 *	void bav_charset_to_utf8(out, charset, in, len)
 *	void bav_html_to_text(out, in, len)
 * DESCRIPTION
 *	Decoders are lenient: invalid input is skipped or passed through,
 *	never an error. Charset conversion uses iconv(3) (one descriptor per
 *	call, so it is reentrant) with fast paths for ASCII, UTF-8 and
 *	Latin-1; undecodable bytes are dropped.
 * SEE ALSO
 *	RFC 2045, RFC 2047, RFC 2231
 */
#include "bav_private.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <strings.h>

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Room for n more bytes and a NUL in b. */
static void buf_reserve(struct bav_buf *b, size_t n)
{
	if (b->data != NULL && b->cap - b->len > n)
		return;
	b->data = bav_xrealloc(b->data, b->len + n + 1);	/* @UNSAFE */
	b->cap = b->len + n + 1;
	b->data[b->len] = '\0';
}

void bav_decode_base64(struct bav_buf *out, const char *in, size_t len)
{
	unsigned int acc = 0, bits = 0;
	unsigned char *o;
	size_t i;

	/* at most 3 bytes per 4 input characters */
	buf_reserve(out, len / 4 * 3 + 3);
	o = (unsigned char *)out->data + out->len;
	for (i = 0; i < len; i++) {
		int v = b64val((unsigned char)in[i]);

		if (in[i] == '=')
			break;
		if (v < 0)
			continue;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (unsigned char)((acc >> bits) & 0xff);
		}
	}
	out->len = (size_t)((char *)o - out->data);
	out->data[out->len] = '\0';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void qp_decode(struct bav_buf *out, const char *in, size_t len,
		      bool underscore)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = in[i];

		if (c != '=' && c != '_') {
			/* a run of plain characters at once */
			size_t j = i + 1;

			while (j < len && in[j] != '=' && in[j] != '_')
				j++;
			bav_buf_append(out, in + i, j - i);
			i = j - 1;
			continue;
		}
		if (c == '=') {
			int h, l;

			if (i + 1 < len && in[i + 1] == '\n') {
				i++;	/* soft line break */
				continue;
			}
			if (i + 2 < len && in[i + 1] == '\r' &&
			    in[i + 2] == '\n') {
				i += 2;
				continue;
			}
			if (i + 2 < len) {
				h = hexval((unsigned char)in[i + 1]);
				l = hexval((unsigned char)in[i + 2]);
				if (h >= 0 && l >= 0) {
					bav_buf_putc(out, (char)(h * 16 + l));
					i += 2;
					continue;
				}
			}
			/* "=" followed by blanks then newline: soft break */
			{
				size_t j = i + 1;

				while (j < len && (in[j] == ' ' || in[j] == '\t'))
					j++;
				if (j == len || in[j] == '\n') {
					i = j;
					continue;
				}
			}
			bav_buf_putc(out, c);
		} else if (underscore && c == '_') {
			bav_buf_putc(out, ' ');
		} else {
			bav_buf_putc(out, c);
		}
	}
}

void bav_decode_qp(struct bav_buf *out, const char *in, size_t len)
{
	qp_decode(out, in, len, false);
}

static bool is_utf8_name(const char *cs)
{
	return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0;
}

static bool is_ascii_name(const char *cs)
{
	return strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0 ||
	       *cs == '\0';
}

static bool is_latin1_name(const char *cs)
{
	return strcasecmp(cs, "iso-8859-1") == 0 ||
	       strcasecmp(cs, "latin1") == 0 ||
	       strcasecmp(cs, "iso8859-1") == 0;
}

static void latin1_to_utf8(struct bav_buf *out, const char *in, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c < 0x80) {
			bav_buf_putc(out, (char)c);
		} else {
			bav_buf_putc(out, (char)(0xc0 | (c >> 6)));
			bav_buf_putc(out, (char)(0x80 | (c & 0x3f)));
		}
	}
}

bool bav_charset_is_utf8(const char *charset)
{
	return charset == NULL || is_utf8_name(charset) ||
	       is_ascii_name(charset);
}

void bav_charset_to_utf8(struct bav_buf *out, const char *charset,
			 const char *in, size_t len)
{
	iconv_t cd;
	char tmp[4096];

	if (bav_charset_is_utf8(charset)) {
		bav_buf_append(out, in, len);
		return;
	}
	if (is_latin1_name(charset)) {
		latin1_to_utf8(out, in, len);
		return;
	}
	cd = iconv_open("UTF-8//IGNORE", charset);
	if (cd == (iconv_t)-1) {
		bav_buf_append(out, in, len);
		return;
	}
	{
		char *ip = (char *)in;
		size_t ileft = len;

		while (ileft > 0) {
			char *op = tmp;
			size_t oleft = sizeof(tmp);
			size_t r = iconv(cd, &ip, &ileft, &op, &oleft);

			bav_buf_append(out, tmp, sizeof(tmp) - oleft);
			if (r == (size_t)-1) {
				if (errno == E2BIG)
					continue;
				if (errno == EILSEQ && ileft > 0) {
					ip++;	/* drop one bad byte */
					ileft--;
					continue;
				}
				break;	/* EINVAL: truncated sequence */
			}
		}
		{
			char *op = tmp;
			size_t oleft = sizeof(tmp);

			iconv(cd, NULL, NULL, &op, &oleft);
			bav_buf_append(out, tmp, sizeof(tmp) - oleft);
		}
	}
	iconv_close(cd);
}

/* Decode one encoded word =?cs?e?text?= at s; returns length consumed or
   0 if s is not a valid encoded word. */
static size_t decode_word(struct bav_buf *out, const char *s)
{
	const char *cs, *q1, *q2, *end;
	char charset[64];
	struct bav_buf raw = { 0 };
	size_t cslen;
	char *star;

	if (s[0] != '=' || s[1] != '?')
		return 0;
	cs = s + 2;
	q1 = strchr(cs, '?');
	if (q1 == NULL || q1[1] == '\0' || q1[2] != '?')
		return 0;
	q2 = q1 + 2;
	end = strstr(q2 + 1, "?=");
	if (end == NULL)
		return 0;
	cslen = (size_t)(q1 - cs);
	if (cslen == 0 || cslen >= sizeof(charset))
		return 0;
	memcpy(charset, cs, cslen);
	charset[cslen] = '\0';
	star = strchr(charset, '*');	/* RFC 2231 language */
	if (star != NULL)
		*star = '\0';
	if (q1[1] == 'B' || q1[1] == 'b')
		bav_decode_base64(&raw, q2 + 1, (size_t)(end - q2 - 1));
	else if (q1[1] == 'Q' || q1[1] == 'q')
		qp_decode(&raw, q2 + 1, (size_t)(end - q2 - 1), true);
	else
		return 0;
	bav_charset_to_utf8(out, charset, raw.data != NULL ? raw.data : "",
			    raw.len);
	bav_buf_free(&raw);
	return (size_t)(end + 2 - s);
}

char *bav_hdr_decode(struct bav_pool *pool, const char *value)
{
	struct bav_buf out = { 0 };
	const char *s = value;
	bool last_word = false;
	char *r;

	if (strstr(value, "=?") == NULL)
		return bav_str_squeeze(pool, value, strlen(value));
	while (*s != '\0') {
		size_t n = 0;

		if (s[0] == '=' && s[1] == '?')
			n = decode_word(&out, s);
		if (n > 0) {
			s += n;
			last_word = true;
			continue;
		}
		if (last_word && (*s == ' ' || *s == '\t' || *s == '\r' ||
				  *s == '\n')) {
			/* white space between two encoded words is dropped */
			const char *t = s;

			while (*t == ' ' || *t == '\t' || *t == '\r' ||
			       *t == '\n')
				t++;
			if (t[0] == '=' && t[1] == '?') {
				s = t;
				continue;
			}
		}
		last_word = false;
		bav_buf_putc(&out, *s++);
	}
	r = bav_str_squeeze(pool, out.data != NULL ? out.data : "", out.len);
	bav_buf_free(&out);
	return r;
}

char *bav_hdr_param(struct bav_pool *pool, const char *value,
		    const char *param)
{
	size_t plen = strlen(param);
	const char *s = strchr(value, ';');

	while (s != NULL) {
		const char *name, *v;

		s++;
		while (*s == ' ' || *s == '\t')
			s++;
		name = s;
		while (*s != '\0' && *s != '=' && *s != ';')
			s++;
		if (*s == '\0')
			break;
		if (*s != '=')
			continue;
		v = s + 1;
		{
			size_t nlen = (size_t)(s - name);

			while (nlen > 0 && (name[nlen - 1] == ' ' ||
					    name[nlen - 1] == '\t'))
				nlen--;
			while (*v == ' ' || *v == '\t')
				v++;
			if (nlen == plen && strncasecmp(name, param, plen) == 0) {
				if (*v == '"') {
					struct bav_buf b = { 0 };
					char *r;

					for (v++; *v != '\0' && *v != '"'; v++) {
						if (*v == '\\' && v[1] != '\0')
							v++;
						bav_buf_putc(&b, *v);
					}
					r = bav_pool_strndup(
						pool, b.data != NULL ? b.data : "",
						b.len);
					bav_buf_free(&b);
					return r;
				}
				return bav_pool_strndup(pool, v,
							strcspn(v, "; \t"));
			}
		}
		/* skip the value, honouring quotes */
		s = v;
		if (*s == '"') {
			for (s++; *s != '\0' && *s != '"'; s++)
				if (*s == '\\' && s[1] != '\0')
					s++;
		}
		s = strchr(s, ';');
	}
	return NULL;
}

static const struct {
	const char *name;
	const char *text;
} entities[] = {
	{ "nbsp", " " }, { "lt", "<" }, { "gt", ">" }, { "amp", "&" },
	{ "quot", "\"" }, { "apos", "'" },
};

void bav_html_to_text(struct bav_buf *out, const char *in, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = in[i];

		if (c == '<') {
			const char *gt = memchr(in + i, '>', len - i);
			const char *tag = in + i + 1;

			if (gt == NULL)
				break;
			if (bav_str_begins_ci(tag, "br") ||
			    bav_str_begins_ci(tag, "p") ||
			    bav_str_begins_ci(tag, "/p") ||
			    bav_str_begins_ci(tag, "div") ||
			    bav_str_begins_ci(tag, "/div") ||
			    bav_str_begins_ci(tag, "tr") ||
			    bav_str_begins_ci(tag, "li"))
				bav_buf_putc(out, '\n');
			if (bav_str_begins_ci(tag, "style") ||
			    bav_str_begins_ci(tag, "script")) {
				const char *close =
					bav_memcasemem(gt, len - (size_t)(gt - in),
						       bav_str_begins_ci(tag, "style") ?
						       "</style" : "</script");

				if (close != NULL) {
					gt = memchr(close, '>',
						    len - (size_t)(close - in));
					if (gt == NULL)
						break;
				}
			}
			i = (size_t)(gt - in);
			continue;
		}
		if (c == '&') {
			size_t k;
			bool done = false;

			for (k = 0; k < sizeof(entities) / sizeof(entities[0]);
			     k++) {
				size_t n = strlen(entities[k].name);

				if (i + n + 1 < len &&
				    strncmp(in + i + 1, entities[k].name, n) == 0 &&
				    in[i + n + 1] == ';') {
					bav_buf_append(out, entities[k].text,
						       strlen(entities[k].text));
					i += n + 1;
					done = true;
					break;
				}
			}
			if (!done && i + 2 < len && in[i + 1] == '#') {
				/* decimal, within len (in need not end in NUL) */
				size_t j = i + 2;
				long v = 0;

				while (j < len && j < i + 6 && in[j] >= '0' &&
				       in[j] <= '9')
					v = v * 10 + (in[j++] - '0');
				if (j > i + 2 && j < len && in[j] == ';' &&
				    v > 0 && v < 128) {
					bav_buf_putc(out, (char)v);
					i = j;
					done = true;
				}
			}
			if (done)
				continue;
		}
		bav_buf_putc(out, c);
	}
}
