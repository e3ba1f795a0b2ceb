/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	store_bench - record N results into a store, batched or one
 *	transaction per row, and print rows per second
 * SYNOPSIS
 *	store_bench URI N batch|row [BATCH_SIZE]
 * DESCRIPTION
 *	Classifies one delivery status notification once, then records it
 *	N times through bav_store_record(), each time with another
 *	recipient and message key, so every call writes one message, one
 *	event and one new recipient: "batch" wraps BATCH_SIZE (default
 *	1000) calls in one transaction, "row" lets every call commit on its
 *	own (what one bav record per message does). Only the store is
 *	timed, not the classifier. Prints one line:
 *	"BACKEND MODE ROWS SECONDS ROWS_PER_SECOND".
 * DIAGNOSTICS
 *	Exit 0; 1 with a message on a store error; 2 usage.
 * SEE ALSO
 *	t/bench/store, bav_store.h
 */
#include "bav_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char dsn[] =
	"From: MAILER-DAEMON@mx.bench.example\n"
	"To: bounces@news.bench.example\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"Message-ID: <bench@mx.bench.example>\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=delivery-status;"
	" boundary=\"B\"\n"
	"\n"
	"--B\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Reporting-MTA: dns; mx.bench.example\n"
	"\n"
	"Final-Recipient: rfc822; someone@bench.example\n"
	"Action: failed\n"
	"Status: 5.1.1\n"
	"Remote-MTA: dns; mx.bench.example\n"
	"Diagnostic-Code: smtp; 550 5.1.1 user unknown\n"
	"--B\n"
	"Content-Type: text/rfc822-headers\n"
	"\n"
	"Message-ID: <news-1@news.bench.example>\n"
	"--B--\n";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct bav_store_opts opts = { .migrate = true };
	struct bav_store *store;
	struct bav_pool *pool;
	struct bav_verdict *v;
	struct bav_result res;
	const char *error;
	char *err, rcpt[64], key[64];
	long i, n, batch = 1000;
	bool batched;
	double t0, t;

	if (argc < 4 || (n = atol(argv[2])) <= 0 ||
	    (strcmp(argv[3], "batch") != 0 && strcmp(argv[3], "row") != 0)) {
		fprintf(stderr, "usage: store_bench URI N batch|row [SIZE]\n");
		return 2;
	}
	batched = strcmp(argv[3], "batch") == 0;
	if (argc > 4 && (batch = atol(argv[4])) <= 0)
		return 2;
	if (bav_store_open(argv[1], &opts, &store, &err) != BAV_OK) {
		fprintf(stderr, "store_bench: %s\n", err);
		return 1;
	}
	pool = bav_pool_new(8192);
	if (bav_classify((const unsigned char *)dsn, strlen(dsn), NULL, pool,
			 &v, &error) != BAV_OK || v->result_count != 1) {
		fprintf(stderr, "store_bench: the template did not classify\n");
		return 1;
	}
	res = v->results[0];
	v->results = &res;
	t0 = now();
	for (i = 0; i < n; i++) {
		int ret = BAV_OK;

		snprintf(rcpt, sizeof(rcpt), "user%ld@d%ld.bench.example", i,
			 i % 97);
		snprintf(key, sizeof(key), "bench-%s-%ld", argv[3], i);
		res.recipient = rcpt;
		if (batched && i % batch == 0)
			ret = bav_store_begin(store, &error);
		if (ret == BAV_OK)
			ret = bav_store_record(store, v, key, "bench", 1767225600,
					       &error);
		if (ret >= 0 && batched &&
		    (i % batch == batch - 1 || i == n - 1))
			ret = bav_store_commit(store, &error);
		if (ret < 0) {
			fprintf(stderr, "store_bench: row %ld: %s\n", i, error);
			return 1;
		}
	}
	t = now() - t0;
	printf("%s %s %ld %.2f %.0f\n", bav_store_backend(store), argv[3], n,
	       t, (double)n / t);
	bav_store_close(&store);
	bav_pool_free(&pool);
	return 0;
}
