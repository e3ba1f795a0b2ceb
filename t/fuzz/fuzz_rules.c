/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	fuzz_rules - libFuzzer target: the rule-file loader
 * SYNOPSIS
 *	t/fuzz/fuzz_rules [libFuzzer options] [corpus dirs...]
 * DESCRIPTION
 *	The input, NUL-terminated, is loaded with bav_rules_load_string()
 *	(without the built-in rules, so only the input's rules are there).
 *	A set that loads is then asked once per section with a fixed text,
 *	for a status reason and for a detail code, so the compiled regexes,
 *	the prefilter and the [status] and [detail] tables are used; the
 *	set is freed after each input, the error text too.
 * DIAGNOSTICS
 *	A crash, sanitizer report or leak is a finding (see t/fuzz/run.sh).
 *	A regex that takes long on the fixed text shows up as a slow input
 *	(libFuzzer -timeout).
 * SEE ALSO
 *	bav/rules.c, bav-rules(5)
 */
#include "bav_private.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sample[] =
		"Subject: Undelivered Mail Returned to Sender\n"
		"550 5.1.1 <user@example.org>: Recipient address rejected: "
		"User unknown in virtual mailbox table";
	struct bav_rules *rules = NULL;
	const struct bav_rule *rule = NULL;
	char *error = NULL;
	char *text = malloc(size + 1);
	unsigned int s;

	memcpy(text, data, size);
	text[size] = '\0';
	if (bav_rules_load_string("fuzz.rules", text, false, &rules,
				  &error) == BAV_OK) {
		for (s = 0; s < BAV_RULE_SECTION_COUNT; s++) {
			(void)bav_rules_match(rules, s, NULL, sample,
					      sizeof(sample) - 1);
			(void)bav_rules_match(rules, s, "12", sample,
					      sizeof(sample) - 1);
		}
		(void)bav_rules_status_reason(rules, NULL, "5.1.1", &rule);
		(void)bav_rules_detail(rules, "12", 511, sample, &rule);
		bav_rules_free(&rules);
	}
	free(error);
	free(text);
	return 0;
}
