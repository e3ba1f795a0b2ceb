/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	fuzz_hdr - libFuzzer target: header value and body decoders (hdr.c)
 * SYNOPSIS
 *	t/fuzz/fuzz_hdr [libFuzzer options] [corpus dirs...]
 * DESCRIPTION
 *	The input, NUL-terminated, goes through every decoder of hdr.c:
 *	bav_hdr_decode() (RFC 2047 words, unfolding), bav_hdr_param() for
 *	the parameters a message parser asks for (RFC 2045/2231),
 *	bav_decode_base64(), bav_decode_qp(), bav_charset_to_utf8() with
 *	the charset named by the input's "charset" parameter, and
 *	bav_html_to_text(); then bav_mime_parse_headers() reads it as a bare
 *	header block (DSN field groups). Outputs are read once.
 * DIAGNOSTICS
 *	A crash, sanitizer report or leak is a finding (see t/fuzz/run.sh).
 * SEE ALSO
 *	bav/hdr.c, bav/mime.c, RFC 2045, RFC 2047, RFC 2231
 */
#include "bav_private.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const params[] = {
		"boundary", "charset", "report-type", "filename", "name",
	};
	struct bav_pool *pool = bav_pool_new(0);
	struct bav_buf out = { 0 };
	struct bav_part part;
	const char *error = NULL, *cs;
	volatile size_t sum = 0;
	char *text = malloc(size + 1);
	unsigned int i;

	memcpy(text, data, size);
	text[size] = '\0';
	sum += strlen(bav_hdr_decode(pool, text));
	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		char *p = bav_hdr_param(pool, text, params[i]);

		if (p != NULL)
			sum += strlen(p);
	}
	cs = bav_hdr_param(pool, text, "charset");
	bav_decode_base64(&out, (const char *)data, size);
	bav_decode_qp(&out, (const char *)data, size);
	bav_charset_to_utf8(&out, cs != NULL ? cs : "iso-8859-1",
			    (const char *)data, size);
	bav_html_to_text(&out, (const char *)data, size);
	sum += out.len + (out.data != NULL ? strlen(out.data) : 0);
	bav_buf_free(&out);

	memset(&part, 0, sizeof(part));
	if (bav_mime_parse_headers(pool, NULL, (const char *)data, size,
				   &part, &error) == 0) {
		const char *v = bav_part_header(&part, "Final-Recipient");

		sum += v != NULL ? strlen(v) : 0;
	}
	(void)sum;
	free(text);
	bav_pool_free(&pool);
	return 0;
}
