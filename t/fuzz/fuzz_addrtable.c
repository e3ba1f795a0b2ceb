/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	fuzz_addrtable - libFuzzer target: the bav.conf address table
 * SYNOPSIS
 *	t/fuzz/fuzz_addrtable [libFuzzer options] [corpus dirs...]
 * DESCRIPTION
 *	The input is loaded as a bav.conf table with
 *	bav_addrtable_load_mem(); a table that loads answers lookups of a
 *	few fixed recipients and of every line of the input. Then each
 *	line of the input (up to 64) is looked up as an RCPT argument in a
 *	fixed table, so both the loader and the RCPT parsing of
 *	bav_addrtable_lookup() see hostile text. Tables are freed after
 *	each input.
 * DIAGNOSTICS
 *	A crash, sanitizer report or leak is a finding (see t/fuzz/run.sh).
 * SEE ALSO
 *	bav/addrtable.c, bav/bav_addrtable.h
 */
#include "bav_addrtable.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_table[] =
	"# fixed table of the fuzz target\n"
	"user@example.org accept:rid=12,cid=1\n"
	"@example.org reject\n"
	"@example.net tempfail:4.2.0 later\n"
	"alias@example.com alias:user@example.org\n"
	"other@example.com alias:nobody@example.org\n";

static void lookup_all(const struct bav_addrtable *t, const char *rcpt,
		       volatile size_t *sum)
{
	struct bav_addr_result r;

	bav_addrtable_lookup(t, rcpt, &r);
	*sum += strlen(r.options) + strlen(r.key) +
		strlen(bav_addr_verb_name(r.verb)) +
		strlen(bav_addr_how_name(r.how));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const rcpts[] = {
		"<user@example.org>", "USER@Example.ORG", "<@example.org>",
		"a@b", "<>", "", "<x@example.com> NOTIFY=NEVER", "@", "<<@>>",
	};
	struct bav_addrtable *t = NULL, *fixed = NULL;
	char *error = NULL;
	char *text = malloc(size + 1), *line, *next;
	volatile size_t sum = 0;
	unsigned int i, n;

	memcpy(text, data, size);
	text[size] = '\0';
	if (bav_addrtable_load_mem("fuzz.conf", (const char *)data, size, &t,
				   &error) == BAV_OK) {
		sum += bav_addrtable_count(t) + bav_addrtable_domain_count(t);
		for (i = 0; i < sizeof(rcpts) / sizeof(rcpts[0]); i++)
			lookup_all(t, rcpts[i], &sum);
	}
	free(error);
	error = NULL;
	if (bav_addrtable_load_mem("fixed.conf", fixed_table,
				   sizeof(fixed_table) - 1, &fixed,
				   &error) != BAV_OK)
		abort();	/* the target itself is broken */
	for (line = text, n = 0; line != NULL && n < 64; line = next, n++) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lookup_all(fixed, line, &sum);
		if (t != NULL)
			lookup_all(t, line, &sum);
	}
	(void)sum;
	bav_addrtable_unref(&t);
	bav_addrtable_unref(&fixed);
	free(text);
	return 0;
}
