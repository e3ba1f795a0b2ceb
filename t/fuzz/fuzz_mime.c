/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	fuzz_mime - libFuzzer target: the MIME parser, whole against chunked
 * SYNOPSIS
 *	t/fuzz/fuzz_mime [libFuzzer options] [corpus dirs...]
 * DESCRIPTION
 *	The first input byte picks a chunk size (1 to 256), the rest is a
 *	message. It is parsed twice with bav_mime_parser_new(),
 *	bav_mime_parser_push() and bav_mime_parser_finish(): in one push,
 *	and in chunks of that size (as bav-milter and the LDA receive it).
 *	bav_mime_parser_push() promises the same result for any chunking,
 *	so both must succeed or fail alike and give the same tree: the
 *	same parts in the same order with the same content type, boundary,
 *	transfer encoding, header fields and decoded content. A difference
 *	aborts with the first differing part on stderr.
 * DIAGNOSTICS
 *	A crash, sanitizer report, leak or difference is a finding (see
 *	t/fuzz/run.sh).
 * SEE ALSO
 *	bav/mime.c, RFC 2045, RFC 2046
 */
#include "bav_private.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct bav_part *parse(struct bav_pool *pool, const uint8_t *data,
			      size_t size, size_t chunk, const char **error_r)
{
	struct bav_mime_parser *p = bav_mime_parser_new(pool, NULL);
	size_t off = 0;

	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		if (bav_mime_parser_push(p, data + off, n, error_r) < 0)
			break;
		off += n;
	}
	return bav_mime_parser_finish(&p, error_r);
}

static int str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

static const char *part_differs(const struct bav_part *a,
				const struct bav_part *b)
{
	unsigned int i;

	if (a->depth != b->depth)
		return "depth";
	if (str_differs(a->ctype, b->ctype))
		return "content type";
	if (str_differs(a->boundary, b->boundary))
		return "boundary";
	if (str_differs(a->cte, b->cte))
		return "transfer encoding";
	if (a->header_count != b->header_count)
		return "header count";
	for (i = 0; i < a->header_count; i++)
		if (str_differs(a->headers[i].name, b->headers[i].name) ||
		    str_differs(a->headers[i].value, b->headers[i].value))
			return "header field";
	if (a->body_len != b->body_len ||
	    (a->body_len > 0 && memcmp(a->body, b->body, a->body_len) != 0))
		return "content";
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bav_pool *pool;
	struct bav_part *a, *b, *pa, *pb;
	const char *ea = NULL, *eb = NULL, *why;
	size_t chunk;
	unsigned int n = 0;

	if (size == 0)
		return 0;
	chunk = (size_t)data[0] + 1;
	data++;
	size--;
	pool = bav_pool_new(0);
	a = parse(pool, data, size, size > 0 ? size : 1, &ea);
	b = parse(pool, data, size, chunk, &eb);
	if ((a == NULL) != (b == NULL)) {
		fprintf(stderr, "fuzz_mime: whole %s, chunks of %zu %s\n",
			a == NULL ? ea : "ok", chunk, b == NULL ? eb : "ok");
		abort();
	}
	for (pa = a, pb = b; pa != NULL && pb != NULL;
	     pa = bav_part_next(a, pa), pb = bav_part_next(b, pb), n++) {
		if ((why = part_differs(pa, pb)) != NULL) {
			fprintf(stderr, "fuzz_mime: part %u differs in chunks "
				"of %zu: %s\n", n, chunk, why);
			abort();
		}
	}
	if (pa != pb) {
		fprintf(stderr, "fuzz_mime: part count differs in chunks of "
			"%zu after %u parts\n", chunk, n);
		abort();
	}
	bav_pool_free(&pool);
	return 0;
}
