/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	fuzz_spool - libFuzzer target: the verdict lines of a spool entry
 * SYNOPSIS
 *	t/fuzz/fuzz_spool [libFuzzer options] [corpus dirs...]
 * DESCRIPTION
 *	bav recorder reads back what bav deliver and bav lmtpd spooled; a
 *	damaged entry must be rejected, never crash it. An input that
 *	starts like a verdict line (a letter, then a TAB) is verdict text
 *	for bav_spool_verdict_parse(); any other is a message, classified
 *	with the default rules and its verdict formatted with
 *	bav_spool_verdict_format() (so real diagnostics, subjects and
 *	identities with any bytes go through the escaping). Either way a
 *	verdict that parses is formatted, parsed again and formatted again:
 *	the two texts must be equal (the format round-trips).
 * DIAGNOSTICS
 *	A crash, sanitizer report, leak or a round trip that changes the
 *	text is a finding (see t/fuzz/run.sh).
 * SEE ALSO
 *	bav/spool.c, bav/bav_spool.h
 */
#include "bav_spool.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bav_pool *pool;
	struct bav_verdict *v = NULL, *v2 = NULL;
	const char *error = NULL;
	char *t1 = NULL, *t2;
	int ret;

	if (size == 0)
		return 0;
	pool = bav_pool_new(0);
	if (size >= 2 && data[1] == '\t') {
		/* exactly size bytes, no NUL: parse must keep to len */
		char *text = malloc(size);

		memcpy(text, data, size);
		ret = bav_spool_verdict_parse(pool, text, size, &v, &error);
		if (ret == BAV_OK)	/* v may point into text: format now */
			t1 = bav_spool_verdict_format(pool, v);
		free(text);
	} else {
		ret = bav_classify(data, size, NULL, pool, &v, &error);
		if (ret == BAV_OK)
			t1 = bav_spool_verdict_format(pool, v);
	}
	if (ret == BAV_OK) {
		if (bav_spool_verdict_parse(pool, t1, strlen(t1), &v2,
					    &error) != BAV_OK) {
			fprintf(stderr, "fuzz_spool: formatted verdict does "
				"not parse: %s\n", error);
			abort();
		}
		t2 = bav_spool_verdict_format(pool, v2);
		if (strcmp(t1, t2) != 0) {
			fprintf(stderr, "fuzz_spool: round trip changed the "
				"verdict:\n%s---\n%s", t1, t2);
			abort();
		}
	}
	bav_pool_free(&pool);
	return 0;
}
