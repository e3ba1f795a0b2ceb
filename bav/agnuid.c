/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	agnuid - OpenEMM agnUID tokens: parse, verify and find them
 * SYNOPSIS
 *	#include "bav_private.h"
 *
 *	int bav_agnuid_parse(struct bav_pool *pool, const char *token,
 *			     const char *secret, long long licence,
 *			     struct bav_agnuid *tok_r)
 *	int bav_agnuid_v2_resolve(struct bav_agnuid *tok,
 *				  long long creation_ms, long long company,
 *				  const char *secret)
 *	void bav_agnuid_scan_msgid(const char *value,
 *				   bav_agnuid_found_t *cb, void *ctx)
 *	void bav_agnuid_scan_text(const char *text, size_t len,
 *				  bav_agnuid_found_t *cb, void *ctx)
 *	char *bav_agnuid_unsubscribe(struct bav_pool *pool,
 *				     const char *subject)
 * DESCRIPTION
 *	An agnUID identifies the mailing and recipient a message was sent
 *	to. Tokens are separated by ".", integers are big-endian base 64
 *	over A-Z a-z 0-9 - _ (zero is "A"), byte strings are URL-safe
 *	base64 without padding. Layouts (P = optional prefix):
 *
 *	    v2  [P.]2.licence.mailing.customer^t0.url^t1^company.sig
 *	    v3  [P.]3.licence.mailing.customer.url.bitopt.sig
 *	    v4  [P.]4.licence.company.mailing.customer.url.bitopt.sig
 *	    v5  [P.]5.b64(msgpack context).sig
 *
 *	sig is the URL-safe base64 SHA-512 of the items P, version,
 *	field values in decimal (v5: the raw msgpack bytes) and the
 *	company secret, joined with ".". Whether a prefix is present is
 *	decided from the number of tokens (doc/agnuid.md).
 *
 *	bav_agnuid_parse() fills tok_r; its strings are allocated from
 *	pool. Without a secret the token is only parsed (signature_checked
 *	false). v2 tokens carry customer and url XORed with values derived
 *	from the mailing's creation date, which only the database knows:
 *	they are returned XORed and unverified until a caller that has the
 *	mailing calls bav_agnuid_v2_resolve().
 *
 *	The scanners call cb with a NUL-terminated candidate that is valid
 *	only during the call; they allocate nothing that outlives it.
 *	bav_agnuid_unsubscribe() returns a pool-owned copy.
 *
 *	All functions are reentrant: no static mutable state.
 * DIAGNOSTICS
 *	bav_agnuid_parse() and bav_agnuid_v2_resolve() return 1 for a valid
 *	token, 0 for anything else (malformed, wrong licence, bad
 *	signature); they never fail otherwise. Memory exhaustion goes to
 *	the OOM hook.
 * SEE ALSO
 *	emm-mailloop-spec.md 5.2 and 5.4, doc/agnuid.md, RFC 4648 section 5,
 *	FIPS 180-4.
 */
#include "bav_private.h"
#include "msgpack.h"
#include "sha512.h"

#include <stdio.h>
#include <stdlib.h>

#define AGNUID_MAX_LEN 8192	/* a longer token is rejected unread */
#define AGNUID_MAX_PARTS 9
#define AGNUID_MSGPACK_DEPTH 16
#define SIG_LEN ((BAV_SHA512_DIGEST_LEN * 8 + 5) / 6)	/* 86 */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct parts {
	const char *s[AGNUID_MAX_PARTS];
	size_t len[AGNUID_MAX_PARTS];
	unsigned int n;
};

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

static bool is_token_char(unsigned char c)
{
	return b64_value(c) >= 0;
}

/* Base-64 integer, at most 64 bits (11 digits, the first < 16); a
   value with the top bit set comes back negative, as OpenEMM's long. */
static bool decode_int(const char *s, size_t len, int64_t *value_r)
{
	uint64_t v = 0;
	size_t i;

	while (len > 1 && s[0] == 'A') {	/* leading zeros */
		s++;
		len--;
	}
	if (len == 0 || len > 11)
		return false;
	if (len == 11 && b64_value((unsigned char)s[0]) >= 16)
		return false;
	for (i = 0; i < len; i++) {
		int d = b64_value((unsigned char)s[i]);

		if (d < 0)
			return false;
		v = (v << 6) | (uint64_t)d;
	}
	*value_r = (int64_t)v;
	return true;
}

static bool part_int(const struct parts *pt, unsigned int i, long long *v_r)
{
	int64_t v;

	if (!decode_int(pt->s[i], pt->len[i], &v))
		return false;
	*v_r = v;
	return true;
}

static bool part_is(const struct parts *pt, unsigned int i, int64_t want)
{
	int64_t v;

	return decode_int(pt->s[i], pt->len[i], &v) && v == want;
}

/* URL-safe base64 without padding into out (room for len*3/4 bytes). */
static bool b64url_decode(const char *s, size_t len, unsigned char *out,
			  size_t *out_len_r)
{
	uint32_t acc = 0;
	unsigned int bits = 0;
	size_t i, n = 0;

	if (len % 4 == 1)
		return false;
	for (i = 0; i < len; i++) {
		int d = b64_value((unsigned char)s[i]);

		if (d < 0)
			return false;
		acc = (acc << 6) | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*out_len_r = n;
	return true;
}

/* out must hold (len * 8 + 5) / 6 characters; no NUL is written. */
static void b64url_encode(const unsigned char *in, size_t len, char *out)
{
	uint32_t acc = 0;
	unsigned int bits = 0;
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[n++] = b64_alphabet[(acc >> bits) & 63];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0)
		out[n] = b64_alphabet[(acc << (6 - bits)) & 63];
}

/* ---- signatures ---- */

struct signer {
	struct bav_sha512 sha;
};

/* Items so far: [prefix "."] version (a single digit, 2..5). */
static void sig_begin(struct signer *sg, const struct parts *pt,
		      bool prefix, int version)
{
	bav_sha512_init(&sg->sha);
	if (prefix) {
		bav_sha512_update(&sg->sha, pt->s[0], pt->len[0]);
		bav_sha512_update(&sg->sha, ".", 1);
	}
	bav_sha512_update(&sg->sha, &"0123456789"[version], 1);
}

static void sig_bytes(struct signer *sg, const void *data, size_t len)
{
	bav_sha512_update(&sg->sha, ".", 1);
	bav_sha512_update(&sg->sha, data, len);
}

static void sig_int(struct signer *sg, long long v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%lld", v);

	sig_bytes(sg, tmp, (size_t)n);
}

/* Append the secret, finish, and compare with the signature token
   (without an early exit on the first differing byte). */
static bool sig_matches(struct signer *sg, const char *secret,
			const char *sig, size_t sig_len)
{
	unsigned char digest[BAV_SHA512_DIGEST_LEN];
	char expect[SIG_LEN];
	unsigned char diff = 0;
	size_t i;

	sig_bytes(sg, secret, strlen(secret));
	bav_sha512_final(&sg->sha, digest);
	b64url_encode(digest, sizeof(digest), expect);
	if (sig_len != SIG_LEN)
		return false;
	for (i = 0; i < SIG_LEN; i++)
		diff |= (unsigned char)(expect[i] ^ sig[i]);
	return diff == 0;
}

/* ---- token layout ---- */

static bool split(const char *token, size_t len, struct parts *pt_r)
{
	const char *p = token, *end = token + len, *dot;
	size_t i;

	pt_r->n = 0;
	for (;;) {
		if (pt_r->n == AGNUID_MAX_PARTS)
			return false;
		dot = memchr(p, '.', (size_t)(end - p));
		if (dot == NULL)
			dot = end;
		if (dot == p)
			return false;		/* empty token */
		for (i = 0; p + i < dot; i++)
			if (!is_token_char((unsigned char)p[i]))
				return false;
		pt_r->s[pt_r->n] = p;
		pt_r->len[pt_r->n++] = (size_t)(dot - p);
		if (dot == end)
			return true;
		p = dot + 1;
	}
}

/* Spec 5.4: the token count decides whether a prefix is present.
   Returns the version, or 0 when the layout is invalid. */
static int layout(const struct parts *pt, bool *prefix_r)
{
	int version;

	switch (pt->n) {
	case 9:
		*prefix_r = true, version = 4;
		break;
	case 8:
		*prefix_r = part_is(pt, 1, 3) && !part_is(pt, 0, 4);
		version = *prefix_r ? 3 : 4;
		break;
	case 7:
		*prefix_r = part_is(pt, 1, 2) && !part_is(pt, 0, 3);
		version = *prefix_r ? 2 : 3;
		break;
	case 6:
		*prefix_r = false, version = 2;
		break;
	case 4:
		*prefix_r = true, version = 5;
		break;
	case 3:
		*prefix_r = false, version = 5;
		break;
	default:
		return 0;
	}
	return part_is(pt, *prefix_r ? 1 : 0, version) ? version : 0;
}

/* v5: msgpack map with reserved keys; others (user context) skipped. */
static bool parse_context(const unsigned char *data, size_t len,
			  struct bav_agnuid *tok)
{
	struct bav_msgpack r;
	const unsigned char *key;
	size_t key_len;
	uint32_t count, i;
	long long *field;
	int64_t v;

	bav_msgpack_init(&r, data, len);
	if (!bav_msgpack_read_map(&r, &count))
		return false;
	for (i = 0; i < count; i++) {
		if (!bav_msgpack_read_str(&r, &key, &key_len))
			return false;
		field = NULL;
		if (key_len == 2 && key[0] == '_') {
			switch (key[1]) {
			case 'c': field = &tok->company_id; break;
			case 'l': field = &tok->licence_id; break;
			case 'm': field = &tok->mailing_id; break;
			case 'r': field = &tok->customer_id; break;
			case 's': field = &tok->send_date; break;
			case 'u': field = &tok->url_id; break;
			case 'o': field = &tok->bit_options; break;
			default: break;
			}
		}
		if (field == NULL) {
			if (!bav_msgpack_skip(&r, AGNUID_MSGPACK_DEPTH))
				return false;
		} else if (bav_msgpack_peek(&r) == BAV_MSGPACK_NIL) {
			(void)bav_msgpack_skip(&r, 0);
			*field = 0;
		} else if (bav_msgpack_read_int(&r, &v)) {
			*field = v;
		} else {
			return false;
		}
	}
	return bav_msgpack_at_end(&r);
}

static bool parse_v5(struct bav_pool *pool, const struct parts *pt,
		     unsigned int o, const char *secret,
		     struct bav_agnuid *tok)
{
	unsigned char *raw;
	size_t raw_len;
	struct signer sg;

	raw = bav_pool_alloc(pool, pt->len[o + 1] * 3 / 4 + 1);
	if (!b64url_decode(pt->s[o + 1], pt->len[o + 1], raw, &raw_len) ||
	    !parse_context(raw, raw_len, tok))
		return false;
	if (secret == NULL)
		return true;
	tok->signature_checked = true;
	sig_begin(&sg, pt, o > 0, 5);
	sig_bytes(&sg, raw, raw_len);
	return sig_matches(&sg, secret, pt->s[o + 2], pt->len[o + 2]);
}

/* v2, v3, v4: all fields are integers. */
static bool parse_ints(const struct parts *pt, unsigned int o,
		       const char *secret, struct bav_agnuid *tok)
{
	long long *fields[6];
	unsigned int nf = 0, i;
	struct signer sg;

	fields[nf++] = &tok->licence_id;
	if (tok->version == 4)
		fields[nf++] = &tok->company_id;
	fields[nf++] = &tok->mailing_id;
	fields[nf++] = &tok->customer_id;
	fields[nf++] = &tok->url_id;
	if (tok->version >= 3)
		fields[nf++] = &tok->bit_options;
	if (o + 1 + nf + 1 != pt->n)
		return false;
	for (i = 0; i < nf; i++)
		if (!part_int(pt, o + 1 + i, fields[i]))
			return false;
	/* v2: customer and url are still XORed, see bav_agnuid_v2_resolve */
	if (secret == NULL || tok->version == 2)
		return true;
	tok->signature_checked = true;
	sig_begin(&sg, pt, o > 0, tok->version);
	for (i = 0; i < nf; i++)
		sig_int(&sg, *fields[i]);
	return sig_matches(&sg, secret, pt->s[o + 1 + nf], pt->len[o + 1 + nf]);
}

int bav_agnuid_parse(struct bav_pool *pool, const char *token,
		     const char *secret, long long licence,
		     struct bav_agnuid *tok_r)
{
	struct parts pt;
	size_t len = strnlen(token, AGNUID_MAX_LEN + 1);
	bool prefix, ok;
	unsigned int o;

	memset(tok_r, 0, sizeof(*tok_r));
	tok_r->text = "";
	tok_r->prefix = "";
	if (len == 0 || len > AGNUID_MAX_LEN || !split(token, len, &pt))
		return 0;
	tok_r->version = layout(&pt, &prefix);
	if (tok_r->version == 0)
		return 0;
	o = prefix ? 1 : 0;
	if (tok_r->version == 5)
		ok = parse_v5(pool, &pt, o, secret, tok_r);
	else
		ok = parse_ints(&pt, o, secret, tok_r);
	tok_r->signature_ok = ok && tok_r->signature_checked;
	if (!ok || (licence != 0 && tok_r->licence_id != licence)) {
		memset(tok_r, 0, sizeof(*tok_r));
		tok_r->text = "";
		tok_r->prefix = "";
		return 0;
	}
	tok_r->text = bav_pool_strndup(pool, token, len);
	if (prefix)
		tok_r->prefix = bav_pool_strndup(pool, pt.s[0], pt.len[0]);
	return 1;
}

int bav_agnuid_v2_resolve(struct bav_agnuid *tok, long long creation_ms,
			  long long company, const char *secret)
{
	struct parts pt;
	struct signer sg;
	long long t0 = creation_ms & 0xFFFF, t1 = (creation_ms * 37) & 0xFFFF;
	long long customer, url;
	bool prefix;
	unsigned int o;

	if (tok->version != 2 || tok->signature_checked ||
	    !split(tok->text, strlen(tok->text), &pt) ||
	    layout(&pt, &prefix) != 2)
		return 0;
	o = prefix ? 1 : 0;
	customer = tok->customer_id ^ t0;
	url = tok->url_id ^ t1 ^ company;
	if (secret != NULL) {
		sig_begin(&sg, &pt, prefix, 2);
		sig_int(&sg, tok->licence_id);
		sig_int(&sg, tok->mailing_id);
		sig_int(&sg, customer);
		sig_int(&sg, url);
		if (!sig_matches(&sg, secret, pt.s[o + 5], pt.len[o + 5]))
			return 0;
		tok->signature_checked = true;
		tok->signature_ok = true;
	}
	tok->customer_id = customer;
	tok->url_id = url;
	tok->company_id = company;
	return 1;
}

/* ---- finding candidates ---- */

static void emit(bav_agnuid_found_t *cb, void *ctx, const char *s,
		 size_t len, bool bcc)
{
	char *copy = bav_xcalloc(len + 1, 1);

	memcpy(copy, s, len);
	cb(ctx, copy, bcc);
	free(copy);
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Match "(?:[a-z]{2})?[0-9]{14}_[0-9]+(\.[0-9a-z_-]+){3,8}@[^>]+>" at p
   (case-insensitive). Returns the end of the match (after ">") or NULL;
   *uid_end_r is where the UID (before "@") ends. */
static const char *match_msgid_uid(const char *p, const char **uid_end_r)
{
	const unsigned char *u = (const unsigned char *)p;
	unsigned int i, tokens = 0;

	if (is_alpha(u[0]) && is_alpha(u[1]))
		u += 2;
	for (i = 0; i < 14; i++)
		if (!is_digit(u[i]))
			return NULL;
	u += 14;
	if (*u++ != '_' || !is_digit(*u))
		return NULL;
	while (is_digit(*u))
		u++;
	while (u[0] == '.' && is_token_char(u[1])) {
		u++;
		while (is_token_char(*u))
			u++;
		tokens++;
	}
	if (tokens < 3 || tokens > 8 || u[0] != '@' || u[1] == '>' ||
	    u[1] == '\0')
		return NULL;
	*uid_end_r = (const char *)u;
	u = (const unsigned char *)strchr((const char *)u + 1, '>');
	return u == NULL ? NULL : (const char *)u + 1;
}

void bav_agnuid_scan_msgid(const char *value, bav_agnuid_found_t *cb,
			   void *ctx)
{
	const char *p = value, *start, *end, *uid_end, *dash;

	while ((p = strchr(p, '<')) != NULL) {
		end = NULL;
		/* "(V[^-]*-)?": [^-]* can only end at the first "-" */
		if ((p[1] == 'V' || p[1] == 'v') &&
		    (dash = strchr(p + 2, '-')) != NULL) {
			start = dash + 1;
			end = match_msgid_uid(start, &uid_end);
			if (end != NULL)
				emit(cb, ctx, start, (size_t)(uid_end - start),
				     true);
		}
		if (end == NULL) {
			start = p + 1;
			end = match_msgid_uid(start, &uid_end);
			if (end != NULL)
				emit(cb, ctx, start, (size_t)(uid_end - start),
				     false);
		}
		p = end != NULL ? end : p + 1;
	}
}

/* Length of a UID (3 to 9 dot-separated tokens of [0-9A-Za-z_-]) at
   s[0..len), taking the longest such run; 0 when there is none. A
   trailing "." that starts no token is not part of it. */
static size_t uid_span(const char *s, size_t len)
{
	size_t i = 0, tokens = 0;

	for (;;) {
		size_t start = i;

		while (i < len && is_token_char((unsigned char)s[i]))
			i++;
		if (i == start)
			return 0;
		tokens++;
		if (i + 1 < len && s[i] == '.' &&
		    is_token_char((unsigned char)s[i + 1]))
			i++;
		else
			break;
	}
	return tokens >= 3 && tokens <= 9 ? i : 0;
}

static bool is_url_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\'' && c != '<' &&
		c != '>' && c != '`' && c != '\\';
}

/* One link: rest = everything after "scheme://". */
static void scan_link(const char *rest, size_t len, bav_agnuid_found_t *cb,
		      void *ctx)
{
	const char *hit, *p, *path_end, *slash, *next;
	size_t n, off = 0, path_len;

	/* uid=<uid> and the quoted-printable residue uid=3D<uid> */
	while (off < len && (hit = bav_memcasemem(rest + off, len - off,
						   "uid=")) != NULL) {
		p = hit + 4;
		n = 0;
		if ((size_t)(rest + len - p) > 2 && p[0] == '3' &&
		    (p[1] == 'D' || p[1] == 'd'))
			n = uid_span(p + 2, (size_t)(rest + len - p - 2));
		if (n > 0)
			p += 2;
		else
			n = uid_span(p, (size_t)(rest + len - p));
		if (n > 0)
			emit(cb, ctx, p, n, false);
		off = (size_t)(p + n - rest);
	}
	/* path segments /<uid>/ (the host is not a segment) */
	for (path_len = 0; path_len < len; path_len++)
		if (rest[path_len] == '?' || rest[path_len] == '#')
			break;
	path_end = rest + path_len;
	slash = memchr(rest, '/', path_len);
	while (slash != NULL) {
		next = memchr(slash + 1, '/', (size_t)(path_end - slash - 1));
		if (next == NULL)
			break;
		n = (size_t)(next - slash - 1);
		if (n > 0 && uid_span(slash + 1, n) == n)
			emit(cb, ctx, slash + 1, n, false);
		slash = next;
	}
}

void bav_agnuid_scan_text(const char *text, size_t len,
			  bav_agnuid_found_t *cb, void *ctx)
{
	const char *end = text + len, *p = text, *hit, *q, *e;

	while (p < end && (hit = bav_memcasemem(p, (size_t)(end - p),
						 "http")) != NULL) {
		q = hit + 4;
		if (q < end && (*q == 's' || *q == 'S'))
			q++;
		if (end - q < 3 || memcmp(q, "://", 3) != 0) {
			p = hit + 4;
			continue;
		}
		q += 3;
		for (e = q; e < end && is_url_char((unsigned char)*e); e++)
			;
		scan_link(q, (size_t)(e - q), cb, ctx);
		p = e;
	}
}

char *bav_agnuid_unsubscribe(struct bav_pool *pool, const char *subject)
{
	static const char key[] = "unsubscribe:";
	size_t len = strlen(subject), off = 0, n;
	const char *hit;

	while (off < len && (hit = bav_memcasemem(subject + off, len - off,
						   key)) != NULL) {
		const char *u = hit + sizeof(key) - 1;

		n = uid_span(u, (size_t)(subject + len - u));
		if (n > 0)
			return bav_pool_strndup(pool, u, n);
		off = (size_t)(u - subject);
	}
	return NULL;
}
