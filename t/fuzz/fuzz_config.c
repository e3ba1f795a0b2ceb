/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	fuzz_config - libFuzzer target: the main.cf reader
 * SYNOPSIS
 *	t/fuzz/fuzz_config [libFuzzer options] [corpus dirs...]
 * DESCRIPTION
 *	The input is parsed as a main.cf with bav_config_parse() (it is
 *	not NUL-terminated, so overreads show); every key of the table is
 *	then read as expanded text, raw text and number, every problem and
 *	unknown name is walked, and each line of the input is also parsed
 *	as a number of every type. The config is freed after each input.
 * DIAGNOSTICS
 *	A crash, sanitizer report or leak is a finding (see t/fuzz/run.sh).
 * SEE ALSO
 *	bav/config.c, bav/bav_config.h
 */
#include "bav_config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bav_config *cf = NULL;
	const struct bav_config_key *keys;
	const char *error = NULL, *v;
	char *copy = malloc(size), *text, *line, *next;
	volatile size_t sum = 0;
	size_t n, i;
	bool fatal;

	memcpy(copy, data, size);
	(void)bav_config_parse("fuzz.cf", copy, size, &cf, &error);
	keys = bav_config_keys(&n);
	for (i = 0; i < n; i++) {
		v = bav_config_get(cf, keys[i].name);
		sum += v != NULL ? strlen(v) : 0;
		v = bav_config_get_raw(cf, keys[i].name);
		sum += v != NULL ? strlen(v) : 0;
		sum += (size_t)bav_config_get_number(cf, keys[i].name);
		sum += bav_config_is_set(cf, keys[i].name);
	}
	for (i = 0; i < bav_config_problem_count(cf); i++)
		sum += strlen(bav_config_problem(cf, i, &fatal)) + fatal;
	for (i = 0; i < bav_config_unknown_count(cf); i++)
		sum += strlen(bav_config_unknown(cf, i));
	bav_config_free(&cf);
	free(copy);

	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = text, i = 0; line != NULL && i < 16; line = next, i++) {
		unsigned long long num;
		int t;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		for (t = BAV_CONFIG_STRING; t <= BAV_CONFIG_MODE; t++)
			if (bav_config_parse_number((enum bav_config_type)t,
						    line, &num, &error) == 0)
				sum += (size_t)num;
	}
	free(text);
	(void)sum;
	return 0;
}
