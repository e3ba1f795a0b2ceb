/* SPDX-License-Identifier: MIT */
/*
 * test_spool - unit tests of the durable spool (bav/spool.c): entries
 * written and read back field by field, the verdict serialisation round
 * trip with awkward bytes, corrupt entries, tmp/ leftovers, done/archive/
 * reject/expire and bad spool directories.
 */
#include "bav_private.h"
#include "bav_spool.h"
#include "bav_store.h"
#include "test_common.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char dsn_msg[] =
	"From: MAILER-DAEMON@mx.example.net\r\n"
	"To: bounces@mailloop.example.com\r\n"
	"Subject: Undelivered Mail Returned to Sender\r\n"
	"Message-ID: <dsn1@mx.example.net>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/report; report-type=delivery-status;"
	" boundary=\"B1\"\r\n\r\n"
	"--B1\r\nContent-Type: text/plain\r\n\r\nI'm sorry.\r\n"
	"--B1\r\nContent-Type: message/delivery-status\r\n\r\n"
	"Reporting-MTA: dns; mx.example.net\r\n\r\n"
	"Final-Recipient: rfc822; gone@example.org\r\n"
	"Action: failed\r\nStatus: 5.1.1\r\n"
	"Diagnostic-Code: smtp; 550 5.1.1 <gone@example.org>:\tuser unknown"
	" 100%\r\n\r\n"
	"--B1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
	"Message-ID: <orig1@sender.example.com>\r\n"
	"Subject: News\r\n--B1--\r\n";

static char tmpl[64];

static char *mkspool(void)
{
	snprintf(tmpl, sizeof(tmpl), "/tmp/test_spool.XXXXXX");
	return mkdtemp(tmpl);
}

static void rmspool(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static unsigned int count_dir(const char *dir, const char *sub)
{
	char cmd[256];
	unsigned int n = 0;
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "ls -A '%s/%s' | wc -l", dir, sub);
	if ((fp = popen(cmd, "r")) != NULL) {
		if (fscanf(fp, "%u", &n) != 1)
			n = 9999;
		pclose(fp);
	}
	return n;
}

static void test_roundtrip(void)
{
	static const char *const rcpts[] = { "bounces@mailloop.example.com",
					     "odd\trcpt\n%41@example.com" };
	struct bav_pool *pool = bav_pool_new(4096), *pool2 = bav_pool_new(4096);
	struct bav_spool *spool = NULL;
	struct bav_verdict *v = NULL;
	struct bav_spool_entry e, *r = NULL;
	const char *error = NULL, *name = NULL, **names;
	char *oerr = NULL, *dir = mkspool();
	char key[BAV_STORE_KEY_SIZE], *f1, *f2;
	unsigned int n = 0;

	test_begin("spool write/read round trip");
	test_assert(dir != NULL);
	test_assert(bav_spool_open(dir, true, &spool, &oerr) == BAV_OK);
	test_assert(bav_classify((const unsigned char *)dsn_msg,
				 sizeof(dsn_msg) - 1, NULL, pool, &v,
				 &error) == BAV_OK);
	bav_store_message_key((const unsigned char *)dsn_msg,
			      sizeof(dsn_msg) - 1, key);
	memset(&e, 0, sizeof(e));
	e.sender = "";
	e.recipients = rcpts;
	e.recipient_count = 2;
	e.queue_id = "4ABCDEF";
	e.host = "mx1.example.com";
	e.time = 1700000000;
	e.key = key;
	e.verdict = v;
	e.msg = (const unsigned char *)dsn_msg;
	e.msg_len = sizeof(dsn_msg) - 1;
	test_assert(bav_spool_write(spool, &e, &name, &error) == BAV_OK);
	test_assert(count_dir(dir, "new") == 1 && count_dir(dir, "tmp") == 0);
	test_assert(bav_spool_list(spool, pool2, 0, &names, &n,
				   &error) == BAV_OK && n == 1);
	test_assert(n == 1 && bav_spool_read(spool, names[0], pool2, &r,
					     &error) == BAV_OK);
	if (r != NULL) {
		test_assert_strcmp(r->sender, "");
		test_assert(r->recipient_count == 2);
		test_assert_strcmp(r->recipients[1], rcpts[1]);
		test_assert_strcmp(r->queue_id, "4ABCDEF");
		test_assert_strcmp(r->host, "mx1.example.com");
		test_assert(r->time == 1700000000);
		test_assert_strcmp(r->key, key);
		test_assert(r->msg_len == sizeof(dsn_msg) - 1 &&
			    memcmp(r->msg, dsn_msg, r->msg_len) == 0);
		test_assert(r->verdict != NULL &&
			    r->verdict->kind == BAV_KIND_BOUNCE);
		test_assert(r->verdict != NULL &&
			    r->verdict->result_count == v->result_count);
		if (r->verdict != NULL && r->verdict->result_count > 0) {
			test_assert_strcmp(r->verdict->results[0].recipient,
					   v->results[0].recipient);
			test_assert_strcmp(r->verdict->results[0].diagnostic,
					   v->results[0].diagnostic);
			test_assert(r->verdict->results[0].hard ==
				    v->results[0].hard);
		}
		/* the whole verdict survives: format(parse(x)) == x */
		f1 = bav_spool_verdict_format(pool, v);
		f2 = r->verdict != NULL ?
			bav_spool_verdict_format(pool2, r->verdict) : NULL;
		test_assert(f2 != NULL);
		if (f2 != NULL)
			test_assert_strcmp(f2, f1);
	}
	test_assert(bav_spool_done(spool, names[0], true, &error) == BAV_OK);
	test_assert(bav_spool_sync(spool, &error) == BAV_OK);
	test_assert(count_dir(dir, "new") == 0 && count_dir(dir, "cur") == 1);
	/* done again (replay after a crash): not an error */
	test_assert(bav_spool_done(spool, names[0], false, &error) == BAV_OK);
	bav_spool_close(&spool);
	test_assert(spool == NULL);
	bav_pool_free(&pool);
	bav_pool_free(&pool2);
	rmspool(dir);
	test_end();
}

static void test_verdict_escapes(void)
{
	struct bav_pool *pool = bav_pool_new(4096);
	struct bav_verdict v, *p = NULL;
	struct bav_result res;
	struct bav_agnuid a;
	const char *names[] = { "X-Mailer" }, *values[] = { "a\tb%\r\nc" };
	const char *error = NULL;
	char *f1, *f2;

	test_begin("spool verdict escapes and identity");
	memset(&v, 0, sizeof(v));
	memset(&res, 0, sizeof(res));
	memset(&a, 0, sizeof(a));
	v.kind = BAV_KIND_FEEDBACK;
	v.rule = "builtin:arf";
	v.mark = v.unsubscribe_uid = v.reporting_mta = "";
	v.from = "fbl@isp.example";
	v.subject = "100% \x01 \xc3\xa4";
	res.recipient = "x@example.org";
	res.orig_recipient = res.action = res.status = res.remote_mta = "";
	res.diagnostic = "line1\nline2\t%";
	res.reason = "feedback";
	res.rule = "r:1";
	res.feedback_type = "abuse";
	res.replycode = 550;
	res.detail = 511;
	res.hard = true;
	v.results = &res;
	v.result_count = 1;
	a.text = "agnUID=5.x.y";
	a.prefix = "";
	a.version = 5;
	a.mailing_id = 42;
	a.customer_id = 4711;
	a.signature_checked = a.signature_ok = true;
	v.ident.agnuids = &a;
	v.ident.agnuid_count = 1;
	v.ident.origin = &a;
	v.ident.message_id = "<m@x>";
	v.ident.envelope_sender = v.ident.envelope_recipient = "";
	v.ident.envelope_id = v.ident.subject = v.ident.verp = "";
	v.ident.extra_names = names;
	v.ident.extra_values = values;
	v.ident.extra_count = 1;
	f1 = bav_spool_verdict_format(pool, &v);
	test_assert(strchr(f1, '\r') == NULL);
	test_assert(bav_spool_verdict_parse(pool, f1, strlen(f1), &p,
					    &error) == BAV_OK);
	if (p != NULL) {
		test_assert(p->kind == BAV_KIND_FEEDBACK);
		test_assert_strcmp(p->subject, v.subject);
		test_assert_strcmp(p->results[0].diagnostic, res.diagnostic);
		test_assert(p->results[0].replycode == 550 &&
			    p->results[0].detail == 511 && p->results[0].hard);
		test_assert(p->ident.origin == &p->ident.agnuids[0]);
		test_assert(p->ident.agnuids[0].customer_id == 4711);
		test_assert_strcmp(p->ident.extra_values[0], values[0]);
		f2 = bav_spool_verdict_format(pool, p);
		test_assert_strcmp(f2, f1);
	}
	test_assert(bav_spool_verdict_parse(pool, "Vnosuchkind\n", 12, &p,
					    &error) == BAV_EDATA);
	test_assert(bav_spool_verdict_parse(pool, "I\t\n", 3, &p,
					    &error) == BAV_EDATA);
	bav_pool_free(&pool);
	test_end();
}

/* Write raw bytes as new/NAME. */
static void put_raw(const char *dir, const char *name, const char *data)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/new/%s", dir, name);
	if ((fp = fopen(path, "w")) != NULL) {
		fputs(data, fp);
		fclose(fp);
	}
}

static void test_corrupt(void)
{
	static const struct {
		const char *name, *data;
		int ret;
	} cases[] = {
		{ "1.a", "", BAV_EDATA },
		{ "1.b", "Hello\n\nbody", BAV_EDATA },
		{ "1.c", "BAV-SPOOL 1\nS\t\nR\tx@y\n", BAV_EDATA },
		{ "1.d", "BAV-SPOOL 1\nS\t\nE\toops\nL\t5\n\nabc", BAV_EDATA },
		{ "1.e", "BAV-SPOOL 1\nS\t\nE\toops\nL\t3\n\nabcdef",
		  BAV_EDATA },
		{ "1.f", "BAV-SPOOL 1\nS\t\nL\t3\n\nabc", BAV_EDATA },
		{ "1.g", "BAV-SPOOL 1\nS\t\nZ\tx\nE\te\nL\t3\n\nabc",
		  BAV_EDATA },
		{ "1.h", "BAV-SPOOL 1\nS\ta@b\nE\tlimit%0Aexceeded\nL\t3\n\n"
		  "abc", BAV_OK },
		{ "1.i", "BAV-SPOOL 1\nS\ta@b\nVnope\nL\t3\n\nabc",
		  BAV_EDATA },
	};
	struct bav_pool *pool = bav_pool_new(4096);
	struct bav_spool *spool = NULL;
	struct bav_spool_entry *e;
	const char *error;
	char *oerr = NULL, *dir = mkspool();
	unsigned int i;

	test_begin("spool corrupt entries");
	test_assert(bav_spool_open(dir, true, &spool, &oerr) == BAV_OK);
	for (i = 0; spool != NULL && i < sizeof(cases) / sizeof(cases[0]);
	     i++) {
		put_raw(dir, cases[i].name, cases[i].data);
		e = NULL;
		error = NULL;
		test_assert_idx(bav_spool_read(spool, cases[i].name, pool, &e,
					       &error) == cases[i].ret, i);
		test_assert_idx(cases[i].ret != BAV_OK || (e != NULL &&
				e->verdict == NULL &&
				strcmp(e->error, "limit\nexceeded") == 0 &&
				e->msg_len == 3), i);
		test_assert_idx(cases[i].ret == BAV_OK || error != NULL, i);
		if (cases[i].ret != BAV_OK)
			test_assert_idx(bav_spool_reject(spool, cases[i].name,
							 &error) == BAV_OK, i);
	}
	test_assert(count_dir(dir, "bad") == 8);
	test_assert(bav_spool_read(spool, "gone", pool, &e, &error) ==
		    BAV_ETEMP);
	test_assert(bav_spool_read(spool, "../x", pool, &e, &error) ==
		    BAV_EDATA);
	bav_spool_close(&spool);
	bav_pool_free(&pool);
	rmspool(dir);
	test_end();
}

static void test_dirs(void)
{
	struct bav_pool *pool = bav_pool_new(4096);
	struct bav_spool *spool = NULL;
	struct bav_spool_entry e, *e2 = NULL;
	const char *error, **names;
	char *oerr = NULL, *dir = mkspool(), path[512];
	unsigned int n, removed = 99, i;
	int fd;

	test_begin("spool directories, list order, expire, bad/");
	/* missing without create */
	snprintf(path, sizeof(path), "%s/nope", dir);
	test_assert(bav_spool_open(path, false, &spool, &oerr) == BAV_ETEMP);
	test_assert(spool == NULL && oerr != NULL &&
		    strstr(oerr, "nope") != NULL);
	free(oerr);
	oerr = NULL;
	/* a file where the spool should be */
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	test_assert(bav_spool_open(path, true, &spool, &oerr) == BAV_ETEMP);
	free(oerr);
	oerr = NULL;

	test_assert(bav_spool_open(dir, true, &spool, &oerr) == BAV_OK);
	memset(&e, 0, sizeof(e));
	e.sender = "s@x";
	e.error = "test";
	e.msg = (const unsigned char *)"x";
	e.msg_len = 1;
	for (i = 0; i < 5; i++)
		test_assert(bav_spool_write(spool, &e, NULL, &error) == BAV_OK);
	/* a leftover in tmp/ and a dotfile are not entries */
	snprintf(path, sizeof(path), "%s/tmp/123.half", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	put_raw(dir, ".hidden", "x");
	test_assert(bav_spool_list(spool, pool, 0, &names, &n, &error) ==
		    BAV_OK && n == 5);
	for (i = 1; i < n; i++)
		test_assert_idx(strcmp(names[i - 1], names[i]) < 0, i);
	test_assert(bav_spool_list(spool, pool, 3, &names, &n, &error) ==
		    BAV_OK && n == 3);
	for (i = 0; i < n; i++)
		test_assert(bav_spool_done(spool, names[i], true, &error) ==
			    BAV_OK);
	/* expire: everything in cur/ changed before "now + 10" */
	test_assert(bav_spool_expire(spool, time(NULL) + 10, &removed,
				     &error) == BAV_OK && removed == 3);
	test_assert(count_dir(dir, "cur") == 0 && count_dir(dir, "new") == 3);
	test_assert(count_dir(dir, "tmp") == 1);	/* younger than a day */
	/* the other subdirectories: reject one, list, read and remove it */
	test_assert(bav_spool_list(spool, pool, 1, &names, &n, &error) ==
		    BAV_OK && n == 1);
	if (n == 1) {
		const char *name = names[0], **bad;
		struct bav_spool_entry *r = NULL;
		unsigned int nbad = 0;

		test_assert(bav_spool_reject(spool, name, &error) == BAV_OK);
		test_assert(bav_spool_list_sub(spool, "bad", pool, 0, &bad,
					       &nbad, &error) == BAV_OK &&
			    nbad == 1 && strcmp(bad[0], name) == 0);
		test_assert(bav_spool_read_sub(spool, "bad", name, pool, &r,
					       &error) == BAV_OK && r != NULL &&
			    strcmp(r->error, "test") == 0 && r->msg_len == 1);
		test_assert(bav_spool_read(spool, name, pool, &r, &error) ==
			    BAV_ETEMP);	/* not in new/ any more */
		test_assert(bav_spool_remove(spool, "bad", name, &error) ==
			    BAV_OK && count_dir(dir, "bad") == 0);
		test_assert(bav_spool_remove(spool, "bad", name, &error) ==
			    BAV_OK);	/* gone already: fine */
	}
	test_assert(bav_spool_list_sub(spool, "tmp", pool, 0, &names, &n,
				       &error) == BAV_EDATA);
	test_assert(bav_spool_read_sub(spool, "../new", "x", pool, &e2,
				       &error) == BAV_EDATA);
	bav_spool_close(&spool);
	/* a read-only spool can't be written */
	if (geteuid() != 0) {
		snprintf(path, sizeof(path), "%s/tmp", dir);
		chmod(path, 0500);
		test_assert(bav_spool_open(dir, true, &spool, &oerr) ==
			    BAV_ETEMP);
		free(oerr);
		chmod(path, 0700);
	}
	bav_pool_free(&pool);
	rmspool(dir);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_roundtrip,
		test_verdict_escapes,
		test_corrupt,
		test_dirs,
		NULL,
	};

	return test_run(tests);
}
