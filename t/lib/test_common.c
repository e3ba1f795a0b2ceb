/* SPDX-License-Identifier: MIT */
/*
 * test_common - the unit-test harness (see test_common.h). Counts
 * assertions per test and tests per run; prints failures with file:line.
 */
#include "test_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *cur_name;
static unsigned int cur_failed, tests_passed, tests_failed;

void test_begin(const char *name)
{
	cur_name = name;
	cur_failed = 0;
}

bool test_assert_real(bool cond, const char *expr, const char *file,
		      int line, long idx)
{
	if (cond)
		return true;
	cur_failed++;
	if (idx >= 0)
		printf("    %s:%d: assertion failed (index %ld): %s\n", file,
		       line, idx, expr);
	else
		printf("    %s:%d: assertion failed: %s\n", file, line, expr);
	return false;
}

void test_assert_strcmp_real(const char *got, const char *want,
			     const char *expr, const char *file, int line)
{
	if (got != NULL && want != NULL && strcmp(got, want) == 0)
		return;
	if (got == NULL && want == NULL)
		return;
	cur_failed++;
	printf("    %s:%d: %s: got '%s', want '%s'\n", file, line, expr,
	       got != NULL ? got : "(null)", want != NULL ? want : "(null)");
}

void test_end(void)
{
	printf("%-60s %s\n", cur_name, cur_failed == 0 ? "ok" : "FAILED");
	if (cur_failed == 0)
		tests_passed++;
	else
		tests_failed++;
	cur_name = NULL;
}

int test_run(void (*const tests[])(void))
{
	unsigned int i;

	for (i = 0; tests[i] != NULL; i++)
		tests[i]();
	printf("%u passed, %u failed\n", tests_passed, tests_failed);
	return tests_failed == 0 ? 0 : 1;
}

unsigned char *test_read_file(const char *path, size_t *len_r)
{
	char full[4096];
	const char *top = getenv("top_srcdir");
	FILE *f;
	unsigned char *data = NULL;
	size_t len = 0, cap = 0, n;

	if (path[0] != '/' && top != NULL)
		snprintf(full, sizeof(full), "%s/%s", top, path);
	else
		snprintf(full, sizeof(full), "%s", path);
	f = fopen(full, "rb");
	if (f == NULL)
		return NULL;
	for (;;) {
		if (len + 4096 > cap) {
			cap = cap == 0 ? 8192 : cap * 2;
			data = realloc(data, cap);
			if (data == NULL)
				abort();
		}
		n = fread(data + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	*len_r = len;
	return data;
}

unsigned char *test_dup_nonul(const void *data, size_t len)
{
	unsigned char *p = malloc(len == 0 ? 1 : len);

	if (p == NULL)
		abort();
	memcpy(p, data, len);
	return p;
}
