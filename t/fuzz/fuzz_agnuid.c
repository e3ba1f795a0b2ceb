/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	fuzz_agnuid - libFuzzer target: agnUID tokens and their scanners
 * SYNOPSIS
 *	t/fuzz/fuzz_agnuid [libFuzzer options] [corpus dirs...]
 * DESCRIPTION
 *	The input, NUL-terminated, is scanned as a Message-ID value
 *	(bav_agnuid_scan_msgid()), as body text (bav_agnuid_scan_text())
 *	and as a Subject (bav_agnuid_unsubscribe()); every candidate the
 *	scanners report and the whole input are parsed with
 *	bav_agnuid_parse(), with and without a secret and licence; a valid
 *	version 2 token is also resolved with bav_agnuid_v2_resolve().
 * DIAGNOSTICS
 *	A crash, sanitizer report or leak is a finding (see t/fuzz/run.sh).
 * SEE ALSO
 *	bav/agnuid.c, doc/agnuid.md
 */
#include "bav_private.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_all(struct bav_pool *pool, const char *token)
{
	struct bav_agnuid tok;

	memset(&tok, 0, sizeof(tok));
	if (bav_agnuid_parse(pool, token, NULL, 0, &tok) == 1 &&
	    tok.version == 2)
		(void)bav_agnuid_v2_resolve(&tok, 1700000000000LL, 1,
					    "fuzz-secret");
	memset(&tok, 0, sizeof(tok));
	(void)bav_agnuid_parse(pool, token, "fuzz-secret", 7, &tok);
}

static void found(void *ctx, const char *token, bool bcc)
{
	(void)bcc;
	parse_all(ctx, token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bav_pool *pool = bav_pool_new(0);
	char *text = malloc(size + 1);
	char *uid;

	memcpy(text, data, size);
	text[size] = '\0';
	parse_all(pool, text);
	bav_agnuid_scan_msgid(text, found, pool);
	bav_agnuid_scan_text((const char *)data, size, found, pool);
	uid = bav_agnuid_unsubscribe(pool, text);
	if (uid != NULL)
		parse_all(pool, uid);
	free(text);
	bav_pool_free(&pool);
	return 0;
}
