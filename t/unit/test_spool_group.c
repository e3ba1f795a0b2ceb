/* SPDX-License-Identifier: MIT */
/*
 * test_spool_group - unit tests of the spool's group commit (bav/spool.c,
 * bav_spool_group_*): THREADS threads, each with its own handle in one
 * group, write ENTRIES entries at once; every entry must be in new/ under
 * its own name and read back intact. A handle on another directory is
 * refused, and a handle leaves the group with NULL.
 */
#include "bav_private.h"
#include "bav_spool.h"
#include "test_common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define THREADS 8
#define ENTRIES 40

static const char msg[] =
	"From: someone@example.org\nTo: bounces@example.com\n"
	"Subject: hello\n\nbody\n";

struct writer {
	const char *dir;
	struct bav_spool_group *group;
	unsigned int ok;
	char names[ENTRIES][128];
};

static void *write_entries(void *arg)
{
	struct writer *w = arg;
	struct bav_spool *s = NULL;
	struct bav_spool_entry e;
	const char *rcpt[] = { "user@example.org" }, *name, *error;
	char *oerr = NULL;
	unsigned int i;

	if (bav_spool_open(w->dir, true, &s, &oerr) != BAV_OK) {
		free(oerr);
		return NULL;
	}
	if (bav_spool_set_group(s, w->group, &error) != BAV_OK) {
		bav_spool_close(&s);
		return NULL;
	}
	memset(&e, 0, sizeof(e));
	e.sender = "";
	e.recipients = rcpt;
	e.recipient_count = 1;
	e.queue_id = "Q1";
	e.host = "mx.example.com";
	e.time = time(NULL);
	e.key = "k";
	e.error = "not classified";
	e.msg = (const unsigned char *)msg;
	e.msg_len = sizeof(msg) - 1;
	for (i = 0; i < ENTRIES; i++) {
		if (bav_spool_write(s, &e, &name, &error) != BAV_OK)
			break;
		snprintf(w->names[i], sizeof(w->names[i]), "%s", name);
		w->ok++;
	}
	bav_spool_close(&s);
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_group_writers(void)
{
	char tmpl[] = "/tmp/test_spool_group.XXXXXX", cmd[128];
	struct writer w[THREADS];
	pthread_t tid[THREADS];
	struct bav_spool_group *g = bav_spool_group_new();
	struct bav_spool *s = NULL;
	struct bav_pool *pool = bav_pool_new(65536);
	struct bav_spool_entry *e;
	const char **names, *all[THREADS * ENTRIES], *error;
	char *dir = mkdtemp(tmpl), *oerr = NULL;
	unsigned int i, j, n = 0, count = 0, intact = 0, dups = 0;

	test_begin("spool group: concurrent writers, all entries durable");
	test_assert(dir != NULL);
	if (dir == NULL)
		return;
	memset(w, 0, sizeof(w));
	for (i = 0; i < THREADS; i++) {
		w[i].dir = dir;
		w[i].group = g;
		test_assert(pthread_create(&tid[i], NULL, write_entries,
					   &w[i]) == 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(tid[i], NULL);
		test_assert(w[i].ok == ENTRIES);
		for (j = 0; j < w[i].ok; j++)
			all[n++] = w[i].names[j];
	}
	qsort(all, n, sizeof(*all), cmp_str);
	for (i = 1; i < n; i++)
		if (strcmp(all[i - 1], all[i]) == 0)
			dups++;
	test_assert(dups == 0);
	test_assert(bav_spool_open(dir, false, &s, &oerr) == BAV_OK);
	if (s != NULL) {
		test_assert(bav_spool_list(s, pool, 0, &names, &count,
					   &error) == BAV_OK);
		test_assert(count == THREADS * ENTRIES);
		for (i = 0; i < count; i++)
			if (bav_spool_read(s, names[i], pool, &e, &error) ==
			    BAV_OK && e->msg_len == sizeof(msg) - 1 &&
			    memcmp(e->msg, msg, e->msg_len) == 0)
				intact++;
		test_assert(intact == THREADS * ENTRIES);
		test_assert(bav_spool_set_group(s, NULL, &error) == BAV_OK);
		bav_spool_close(&s);
	}
	free(oerr);
	bav_pool_free(&pool);
	bav_spool_group_free(&g);
	test_assert(g == NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	test_assert(system(cmd) == 0);
	test_end();
}

static void test_group_other_dir(void)
{
	char t1[] = "/tmp/test_spool_group.XXXXXX";
	char t2[] = "/tmp/test_spool_group.XXXXXX", cmd[160];
	struct bav_spool_group *g = bav_spool_group_new();
	struct bav_spool *a = NULL, *b = NULL;
	const char *error = NULL;
	char *d1 = mkdtemp(t1), *d2 = mkdtemp(t2), *oerr = NULL;

	test_begin("spool group: a handle on another directory is refused");
	test_assert(d1 != NULL && d2 != NULL);
	if (d1 == NULL || d2 == NULL)
		return;
	test_assert(bav_spool_open(d1, true, &a, &oerr) == BAV_OK);
	test_assert(bav_spool_open(d2, true, &b, &oerr) == BAV_OK);
	if (a != NULL && b != NULL) {
		test_assert(bav_spool_set_group(a, g, &error) == BAV_OK);
		test_assert(bav_spool_set_group(b, g, &error) == BAV_ECONFIG);
		test_assert(error != NULL && strstr(error, d2) != NULL);
	}
	bav_spool_close(&a);
	bav_spool_close(&b);
	bav_spool_group_free(&g);
	free(oerr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", d1, d2);
	test_assert(system(cmd) == 0);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_group_writers,
		test_group_other_dir,
		NULL,
	};

	return test_run(tests);
}
