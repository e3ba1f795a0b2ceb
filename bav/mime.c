/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	mime - streaming RFC 5322 / MIME parser
 * SYNOPSIS
 *	p = bav_mime_parser_new(pool, limits);
 *	bav_mime_parser_push(p, data, len, &error);	(any chunking)
 *	root = bav_mime_parser_finish(&p, &error);
 * DESCRIPTION
 *	Reads a message line by line (LF, CRLF and bare CR all end a line;
 *	a CR at the end of a chunk waits for the next one), unfolds header
 *	fields and builds a tree of struct bav_part: multiparts (nested, with
 *	preamble and epilogue skipped), embedded messages (message/rfc822,
 *	message/global, text/rfc822-headers, message/global-headers; when
 *	such a part carries a base64 or quoted-printable transfer encoding
 *	it is decoded and parsed on finish) and leaves. Leaves that the
 *	classifier reads keep their decoded content (bounded by
 *	limits->max_part_keep); other leaves are counted and dropped.
 *
 *	Everything in the tree is owned by the pool given to
 *	bav_mime_parser_new(); the parser's own state is heap memory freed
 *	by bav_mime_parser_finish().
 * DIAGNOSTICS
 *	BAV_EDATA with a message naming the limit when the message size,
 *	MIME depth, part count, header count or header length limit is
 *	exceeded. Malformed MIME (missing boundaries, missing blank line,
 *	bad encodings) is tolerated, never an error.
 * SEE ALSO
 *	RFC 5322, RFC 2045, RFC 2046, RFC 6532, RFC 6533
 */
#include "bav_private.h"

#include <stdlib.h>
#include <strings.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

enum mode {
	MODE_HEADERS,
	MODE_BODY,
};

struct bav_mime_parser {
	struct bav_pool *pool;
	struct bav_limits limits;
	struct bav_part *root, *cur;
	enum mode mode;
	struct bav_buf line;	/* partial line across chunks */
	struct bav_buf field;	/* header field being unfolded */
	bool pending_cr;	/* chunk ended in CR */
	bool line_continued;	/* current line follows a forced flush */
	bool first_line;
	size_t total;
	unsigned int parts, headers;
	const char *error;
	/* raw (encoded) content of the current leaf */
	struct bav_buf raw;
	bool raw_keep, raw_truncated;
	/* parts in epilogue: multipart whose closing boundary was seen */
};

#define LINE_FLUSH_SIZE (256 * 1024)

static bool keep_content(const char *ctype)
{
	if (strncmp(ctype, "text/", 5) == 0)
		return true;
	if (strncmp(ctype, "message/", 8) == 0)
		return true;
	if (strcmp(ctype, "application/json") == 0 ||
	    strcmp(ctype, "application/xml") == 0 ||
	    strcmp(ctype, "application/octet-stream") == 0)
		return true;
	return false;
}

static bool embedded_type(const char *ctype)
{
	return strstr(ctype, "rfc822") != NULL ||
	       strcmp(ctype, "message/global") == 0 ||
	       strcmp(ctype, "message/global-headers") == 0 ||
	       strcmp(ctype, "message/partial") == 0;
}

static bool headers_only_type(const char *ctype)
{
	return strstr(ctype, "header") != NULL;
}

struct bav_mime_parser *bav_mime_parser_new(struct bav_pool *pool,
					    const struct bav_limits *limits)
{
	struct bav_mime_parser *p = bav_xcalloc(1, sizeof(*p));

	p->pool = pool;
	if (limits != NULL)
		p->limits = *limits;
	else
		bav_limits_default(&p->limits);
	p->root = bav_pool_alloc(pool, sizeof(*p->root));
	p->root->ctype = "text/plain";
	p->cur = p->root;
	p->mode = MODE_HEADERS;
	p->parts = 1;
	p->first_line = true;
	return p;
}

static void fail(struct bav_mime_parser *p, const char *why)
{
	if (p->error == NULL)
		p->error = why;
}

/* A new empty text/plain part under parent, or NULL (and the parser
   failed) when the depth or part count limit is exceeded. */
static struct bav_part *alloc_child(struct bav_mime_parser *p,
				    struct bav_part *parent)
{
	struct bav_part *child;

	if (parent->depth + 1 > p->limits.max_depth) {
		fail(p, "MIME depth limit exceeded");
		return NULL;
	}
	if (++p->parts > p->limits.max_parts) {
		fail(p, "MIME part count limit exceeded");
		return NULL;
	}
	child = bav_pool_alloc(p->pool, sizeof(*child));
	child->parent = parent;
	child->depth = parent->depth + 1;
	child->ctype = "text/plain";
	return child;
}

static void add_header(struct bav_mime_parser *p, struct bav_part *part,
		       const char *field, size_t len)
{
	const char *colon = memchr(field, ':', len);
	struct bav_header *h;
	size_t nlen;
	const char *v, *end = field + len;

	if (colon == NULL)
		return;
	if (++p->headers > p->limits.max_headers) {
		fail(p, "header count limit exceeded");
		return;
	}
	if (part->header_count == part->header_alloc) {
		unsigned int n = part->header_alloc == 0 ? 16 :
				 part->header_alloc * 2;
		struct bav_header *nh = bav_pool_alloc(p->pool,
						       n * sizeof(*nh));

		if (part->header_count > 0)
			memcpy(nh, part->headers,
			       part->header_count * sizeof(*nh));
		part->headers = nh;
		part->header_alloc = n;
	}
	nlen = (size_t)(colon - field);
	while (nlen > 0 && (field[nlen - 1] == ' ' || field[nlen - 1] == '\t'))
		nlen--;
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	h = &part->headers[part->header_count++];
	h->name = bav_pool_strndup(p->pool, field, nlen);
	h->value = bav_pool_strndup(p->pool, v, (size_t)(end - v));
}

static void flush_field(struct bav_mime_parser *p)
{
	if (p->field.len > 0)
		add_header(p, p->cur, p->field.data, p->field.len);
	bav_buf_reset(&p->field);
}

static bool field_name_ok(const char *line, size_t len)
{
	size_t i, j;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == ':')
			return i > 0;
		if (c == ' ' || c == '\t') {
			/* "Name :" - only blanks may follow up to the colon */
			for (j = i; j < len && (line[j] == ' ' || line[j] == '\t');
			     j++)
				;
			return i > 0 && j < len && line[j] == ':';
		}
		if (c < 32 || c >= 127)
			return false;
	}
	return false;
}

/* Header block of p->cur is complete: interpret its content fields. */
static void headers_done(struct bav_mime_parser *p)
{
	struct bav_part *part = p->cur;
	const char *ct = bav_part_header(part, "Content-Type");
	const char *cte = bav_part_header(part, "Content-Transfer-Encoding");
	bool in_digest = part->parent != NULL && part->parent->ctype != NULL &&
			 strcmp(part->parent->ctype, "multipart/digest") == 0;

	part->ctype = in_digest ? "message/rfc822" : "text/plain";
	if (ct != NULL) {
		size_t n = strcspn(ct, "; \t");
		char *t = bav_str_lower(bav_pool_strndup(p->pool, ct, n));

		if (strchr(t, '/') != NULL)
			part->ctype = t;
		part->charset = bav_hdr_param(p->pool, ct, "charset");
		if (part->charset != NULL)
			bav_str_lower(part->charset);
		if (strncmp(part->ctype, "multipart/", 10) == 0) {
			part->boundary = bav_hdr_param(p->pool, ct, "boundary");
			if (part->boundary == NULL || *part->boundary == '\0')
				part->ctype = "text/plain";
			part->report_type =
				bav_hdr_param(p->pool, ct, "report-type");
			if (part->report_type != NULL)
				bav_str_lower(part->report_type);
		}
	}
	if (cte != NULL) {
		part->cte = bav_str_lower(bav_str_trim(
			bav_pool_strdup(p->pool, cte)));
	}
	p->mode = MODE_BODY;
	bav_buf_reset(&p->raw);
	p->raw_truncated = false;
	p->raw_keep = false;
	if (part->boundary != NULL)
		return;		/* preamble follows */
	if (embedded_type(part->ctype) &&
	    (part->cte == NULL || (strcmp(part->cte, "base64") != 0 &&
				   strcmp(part->cte, "quoted-printable") != 0))) {
		struct bav_part *child = alloc_child(p, part);

		if (child == NULL)
			return;
		child->headers_only = headers_only_type(part->ctype);
		part->child = part->last_child = child;
		part->is_message = true;
		p->cur = child;
		p->mode = MODE_HEADERS;
		return;
	}
	p->raw_keep = keep_content(part->ctype);
}

static void decode_into(struct bav_mime_parser *p, struct bav_part *part,
			struct bav_buf *out, const char *raw, size_t len)
{
	if (part->cte != NULL && strcmp(part->cte, "base64") == 0)
		bav_decode_base64(out, raw, len);
	else if (part->cte != NULL &&
		 strcmp(part->cte, "quoted-printable") == 0)
		bav_decode_qp(out, raw, len);
	else
		bav_buf_append(out, raw, len);
	(void)p;
}

static int parse_embedded(struct bav_mime_parser *p, struct bav_part *part,
			  const char *data, size_t len);

/* The current leaf ends: decode and keep its content. */
static void finish_leaf(struct bav_mime_parser *p)
{
	struct bav_part *part = p->cur;
	struct bav_buf dec = { 0 };
	bool encoded;

	if (part->boundary != NULL || part->is_message)
		return;
	if (embedded_type(part->ctype) && p->raw.len > 0) {
		/* encoded embedded message: decode and parse it now */
		decode_into(p, part, &dec, p->raw.data, p->raw.len);
		(void)parse_embedded(p, part, dec.data, dec.len);
		bav_buf_free(&dec);
		bav_buf_reset(&p->raw);
		return;
	}
	if (!p->raw_keep)
		return;
	encoded = part->cte != NULL &&
		  (strcmp(part->cte, "base64") == 0 ||
		   strcmp(part->cte, "quoted-printable") == 0);
	if (!encoded && (part->charset == NULL ||
			 strncmp(part->ctype, "text/", 5) != 0 ||
			 bav_charset_is_utf8(part->charset))) {
		/* nothing to decode or convert: straight from raw */
		size_t n = p->raw.len;

		if (n > p->limits.max_part_keep) {
			n = p->limits.max_part_keep;
			p->raw_truncated = true;
		}
		part->body = bav_pool_strndup(p->pool, p->raw.data != NULL ?
					      p->raw.data : "", n);
		part->body_len = n;
		part->body_truncated = p->raw_truncated;
		bav_buf_reset(&p->raw);
		return;
	}
	decode_into(p, part, &dec, p->raw.data != NULL ? p->raw.data : "",
		    p->raw.len);
	if (dec.len > p->limits.max_part_keep) {
		dec.len = p->limits.max_part_keep;
		p->raw_truncated = true;
	}
	if (part->charset != NULL && strncmp(part->ctype, "text/", 5) == 0) {
		struct bav_buf conv = { 0 };

		bav_charset_to_utf8(&conv, part->charset,
				    dec.data != NULL ? dec.data : "", dec.len);
		bav_buf_free(&dec);
		dec = conv;
	}
	part->body = bav_pool_strndup(p->pool, dec.data != NULL ? dec.data : "",
				      dec.len);
	part->body_len = dec.len;
	part->body_truncated = p->raw_truncated;
	bav_buf_free(&dec);
	bav_buf_reset(&p->raw);
}

/* Close parts up to (not including) ancestor anc. */
static void close_to(struct bav_mime_parser *p, struct bav_part *anc)
{
	while (p->cur != anc && p->cur != NULL) {
		if (p->mode == MODE_HEADERS) {
			flush_field(p);
			/* header block ended by a boundary: no body */
			headers_done(p);
			if (p->cur->is_message)
				continue; /* descended; close it too */
		}
		finish_leaf(p);
		p->cur = p->cur->parent;
		p->mode = MODE_BODY;
		p->raw_keep = false;
	}
}

/* Is line a boundary of an enclosing multipart? Returns that part. */
static struct bav_part *match_boundary(struct bav_mime_parser *p,
				       const char *line, size_t len,
				       bool *closing_r)
{
	struct bav_part *a;

	if (len < 3 || line[0] != '-' || line[1] != '-')
		return NULL;
	for (a = p->cur; a != NULL; a = a->parent) {
		size_t blen;

		if (a->boundary == NULL || a->closed)
			continue;
		blen = strlen(a->boundary);
		if (len < 2 + blen ||
		    memcmp(line + 2, a->boundary, blen) != 0)
			continue;
		*closing_r = len >= 4 + blen && line[2 + blen] == '-' &&
			     line[3 + blen] == '-';
		/* rest must be white space (RFC 2046 transport padding) */
		{
			size_t i = 2 + blen + (*closing_r ? 2 : 0);

			for (; i < len; i++)
				if (line[i] != ' ' && line[i] != '\t')
					break;
			if (i < len)
				continue;
		}
		return a;
	}
	return NULL;
}

static void new_child(struct bav_mime_parser *p, struct bav_part *mp)
{
	struct bav_part *child = alloc_child(p, mp);

	if (child == NULL)
		return;
	if (mp->last_child == NULL)
		mp->child = child;
	else
		mp->last_child->next = child;
	mp->last_child = child;
	p->cur = child;
	p->mode = MODE_HEADERS;
}

static void body_line(struct bav_mime_parser *p, const char *line, size_t len,
		      bool eol)
{
	struct bav_part *mp;
	bool closing = false;

	if (!p->line_continued &&
	    (mp = match_boundary(p, line, len, &closing)) != NULL) {
		close_to(p, mp);
		if (closing) {
			/* epilogue: swallow until an outer boundary */
			p->mode = MODE_BODY;
			p->raw_keep = false;
			mp->closed = true;
			return;
		}
		new_child(p, mp);
		return;
	}
	if (p->cur->boundary != NULL)
		return;		/* preamble or epilogue */
	if (!p->raw_keep && !embedded_type(p->cur->ctype))
		return;
	if (p->raw.len + len + 1 > p->limits.max_part_keep * 2 + 1024) {
		p->raw_truncated = true;
		return;
	}
	bav_buf_append(&p->raw, line, len);
	if (eol)
		bav_buf_putc(&p->raw, '\n');
}

static void header_line(struct bav_mime_parser *p, const char *line,
			size_t len)
{
	if (p->first_line) {
		p->first_line = false;
		if (len >= 5 && memcmp(line, "From ", 5) == 0)
			return;	/* mbox separator */
	}
	if (len == 0) {
		flush_field(p);
		headers_done(p);
		return;
	}
	if ((line[0] == ' ' || line[0] == '\t') && p->field.len > 0) {
		if (p->field.len + len > p->limits.max_header_len) {
			fail(p, "header length limit exceeded");
			return;
		}
		bav_buf_append(&p->field, line, len);
		return;
	}
	if (field_name_ok(line, len)) {
		flush_field(p);
		if (len > p->limits.max_header_len) {
			fail(p, "header length limit exceeded");
			return;
		}
		bav_buf_append(&p->field, line, len);
		return;
	}
	if (line[0] == ' ' || line[0] == '\t')
		return;		/* stray continuation */
	if (len >= 2 && line[0] == '-' && line[1] == '-') {
		bool closing;

		if (match_boundary(p, line, len, &closing) != NULL) {
			body_line(p, line, len, true);
			return;
		}
	}
	/* Not a header: the header block ended without a blank line. */
	flush_field(p);
	headers_done(p);
	if (p->mode == MODE_BODY)
		body_line(p, line, len, true);
	else
		header_line(p, line, len);
}

static void process_line(struct bav_mime_parser *p, const char *line,
			 size_t len, bool eol)
{
	if (p->error != NULL)
		return;
	if (p->mode == MODE_HEADERS) {
		if (!eol) {
			/* over-long header line being flushed */
			fail(p, "header length limit exceeded");
			return;
		}
		header_line(p, line, len);
	} else {
		body_line(p, line, len, eol);
	}
	p->line_continued = !eol;
}

/* The first '\n' or '\r' in s[0..end), or end. */
static const char *find_eol(const char *s, const char *end)
{
#if defined(__SSE2__)
	const __m128i nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');

	for (; end - s >= 16; s += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)s);
		unsigned int bits = (unsigned int)_mm_movemask_epi8(
			_mm_or_si128(_mm_cmpeq_epi8(v, nl),
				     _mm_cmpeq_epi8(v, cr)));

		if (bits != 0)
			return s + __builtin_ctz(bits);
	}
#endif
	while (s < end && *s != '\n' && *s != '\r')
		s++;
	return s;
}

int bav_mime_parser_push(struct bav_mime_parser *p, const unsigned char *data,
			 size_t len, const char **error_r)
{
	const char *s = (const char *)data, *end = s + len;

	if (p->error == NULL) {
		p->total += len;
		if (p->total > p->limits.max_message_size)
			fail(p, "message size limit exceeded");
	}
	while (s < end && p->error == NULL) {
		const char *nl;
		size_t n;

		if (p->pending_cr) {
			p->pending_cr = false;
			if (*s == '\n') {
				s++;
				continue;
			}
		}
		nl = find_eol(s, end);
		n = (size_t)(nl - s);
		if (nl == end) {
			bav_buf_append(&p->line, s, n);
			if (p->line.len >= LINE_FLUSH_SIZE) {
				process_line(p, p->line.data, p->line.len,
					     false);
				bav_buf_reset(&p->line);
			}
			break;
		}
		if (p->line.len > 0) {
			bav_buf_append(&p->line, s, n);
			process_line(p, p->line.data, p->line.len, true);
			bav_buf_reset(&p->line);
		} else {
			process_line(p, s, n, true);
		}
		if (*nl == '\r') {
			if (nl + 1 < end) {
				if (nl[1] == '\n')
					nl++;
			} else {
				p->pending_cr = true;
			}
		}
		s = nl + 1;
	}
	if (p->error != NULL) {
		*error_r = p->error;
		return BAV_EDATA;
	}
	return BAV_OK;
}

static void parser_free(struct bav_mime_parser *p)
{
	bav_buf_free(&p->line);
	bav_buf_free(&p->field);
	bav_buf_free(&p->raw);
	free(p);
}

struct bav_part *bav_mime_parser_finish(struct bav_mime_parser **pp,
					const char **error_r)
{
	struct bav_mime_parser *p = *pp;
	struct bav_part *root = p->root;

	*pp = NULL;
	if (p->error == NULL && (p->line.len > 0 || p->pending_cr))
		process_line(p, p->line.data != NULL ? p->line.data : "",
			     p->line.len, true);
	if (p->error == NULL && p->mode == MODE_HEADERS) {
		flush_field(p);
		headers_done(p);
	}
	if (p->error == NULL)
		close_to(p, NULL);
	if (p->error != NULL) {
		*error_r = p->error;
		parser_free(p);
		return NULL;
	}
	parser_free(p);
	return root;
}

/* Parse decoded content of an encoded embedded message under part. */
static int parse_embedded(struct bav_mime_parser *p, struct bav_part *part,
			  const char *data, size_t len)
{
	struct bav_mime_parser *sub;
	struct bav_limits lim = p->limits;
	struct bav_part *child;
	const char *error;

	if (part->depth + 1 > lim.max_depth) {
		fail(p, "MIME depth limit exceeded");
		return -1;
	}
	lim.max_depth -= part->depth + 1;
	lim.max_parts = lim.max_parts > p->parts ? lim.max_parts - p->parts : 1;
	lim.max_headers = lim.max_headers > p->headers ?
			  lim.max_headers - p->headers : 1;
	sub = bav_mime_parser_new(p->pool, &lim);
	if (bav_mime_parser_push(sub, (const unsigned char *)data, len,
				 &error) < 0) {
		fail(p, error);
		bav_mime_parser_finish(&sub, &error);
		return -1;
	}
	child = bav_mime_parser_finish(&sub, &error);
	if (child == NULL) {
		fail(p, error);
		return -1;
	}
	/* re-base depths under part */
	{
		struct bav_part *q;

		for (q = child; q != NULL; q = bav_part_next(child, q))
			q->depth += part->depth + 1;
	}
	child->parent = part;
	child->headers_only = headers_only_type(part->ctype);
	part->child = part->last_child = child;
	part->is_message = true;
	return 0;
}

int bav_mime_parse_headers(struct bav_pool *pool,
			   const struct bav_limits *limits, const char *text,
			   size_t len, struct bav_part *part,
			   const char **error_r)
{
	struct bav_mime_parser *p = bav_mime_parser_new(pool, limits);
	struct bav_part *root;

	p->first_line = false;
	p->root = p->cur = part;
	if (bav_mime_parser_push(p, (const unsigned char *)text, len,
				 error_r) < 0) {
		bav_mime_parser_finish(&p, error_r);
		return BAV_EDATA;
	}
	/* the block has no body: finish the fields only */
	if (p->line.len > 0) {
		process_line(p, p->line.data, p->line.len, true);
		bav_buf_reset(&p->line);
	}
	if (p->mode == MODE_HEADERS)
		flush_field(p);
	p->mode = MODE_BODY;
	p->cur->boundary = NULL;
	p->raw_keep = false;
	root = p->root;
	(void)root;
	if (p->error != NULL) {
		*error_r = p->error;
		parser_free(p);
		return BAV_EDATA;
	}
	parser_free(p);
	return BAV_OK;
}

const char *bav_part_header(const struct bav_part *part, const char *name)
{
	/* the first byte, case folded, rules out most names cheaply */
	unsigned char first = (unsigned char)name[0] | 0x20;
	unsigned int i;

	for (i = 0; i < part->header_count; i++)
		if (((unsigned char)part->headers[i].name[0] | 0x20) == first &&
		    strcasecmp(part->headers[i].name, name) == 0)
			return part->headers[i].value;
	return NULL;
}

struct bav_part *bav_part_next(struct bav_part *root, struct bav_part *p)
{
	if (p->child != NULL)
		return p->child;
	while (p != NULL && p != root) {
		if (p->next != NULL)
			return p->next;
		p = p->parent;
	}
	return NULL;
}

void bav_limits_default(struct bav_limits *l)
{
	l->max_message_size = 64 * 1024 * 1024;
	l->max_depth = 32;
	l->max_headers = 10000;
	l->max_header_len = 256 * 1024;
	l->max_parts = 2000;
	l->max_part_keep = 4 * 1024 * 1024;
	l->max_recipients = 10000;
}
