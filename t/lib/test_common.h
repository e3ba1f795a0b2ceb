/* SPDX-License-Identifier: MIT */
/*
 * test_common.h - the small unit-test harness of bav (Dovecot's API):
 *	test_begin("name"); test_assert(cond); test_assert_strcmp(a, b);
 *	test_assert_idx(cond, i); test_end();
 *	return test_run(functions);	(NULL-terminated array)
 * test_run() prints one line per test and a closing "N passed, N failed"
 * line, and returns non-zero when anything failed.
 */
#ifndef TEST_COMMON_H
#define TEST_COMMON_H

#include <stdbool.h>
#include <stddef.h>

void test_begin(const char *name);
void test_end(void);
bool test_assert_real(bool cond, const char *expr, const char *file,
		      int line, long idx);
void test_assert_strcmp_real(const char *got, const char *want,
			     const char *expr, const char *file, int line);
int test_run(void (*const tests[])(void));
/* Read a whole file (from $top_srcdir if relative); NULL on error. The
   caller frees. */
unsigned char *test_read_file(const char *path, size_t *len_r);
/* Copy of data without a terminating NUL, so overreads are visible to
   valgrind and ASan. The caller frees. */
unsigned char *test_dup_nonul(const void *data, size_t len);

#define test_assert(cond) test_assert_real((cond), #cond, __FILE__, __LINE__, -1)
#define test_assert_idx(cond, i) \
	test_assert_real((cond), #cond, __FILE__, __LINE__, (long)(i))
#define test_assert_strcmp(got, want) \
	test_assert_strcmp_real((got), (want), #got, __FILE__, __LINE__)

#endif
