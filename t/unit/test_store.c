/* SPDX-License-Identifier: MIT */
/*
 * test_store - the store API on SQLite (a temporary file): URI parsing,
 * migration and the schema-version guard, typed parameters and columns,
 * transactions, idempotent recording of classified messages, recipient
 * state, unblock with audit, the message key. The same behaviour on
 * MariaDB is checked by t/store/mariadb.sh through the bav command.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "store_private.h"
#include "test_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dbpath[256];
static char uri[300];

#ifdef HAVE_SQLITE
static const char bounce[] =
	"From: MAILER-DAEMON@mx.example.org\n"
	"To: bounces@example.org\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"Message-ID: <dsn-1@mx.example.org>\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=delivery-status;"
	" boundary=\"B\"\n"
	"\n"
	"--B\n"
	"Content-Type: text/plain\n"
	"\n"
	"Your message could not be delivered.\n"
	"--B\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Reporting-MTA: dns; mx.example.org\n"
	"\n"
	"Final-Recipient: rfc822; Gone@Example.NET\n"
	"Action: failed\n"
	"Status: 5.1.1\n"
	"Remote-MTA: dns; mail.example.net\n"
	"Diagnostic-Code: smtp; 550 5.1.1 <gone@example.net>: user unknown\n"
	"\n"
	"Final-Recipient: rfc822; full@example.com\n"
	"Action: failed\n"
	"Status: 5.2.2\n"
	"Diagnostic-Code: smtp; 552 5.2.2 mailbox full\n"
	"--B\n"
	"Content-Type: text/rfc822-headers\n"
	"\n"
	"Message-ID: <news-1@example.org>\n"
	"Subject: News\n"
	"--B--\n";

static struct bav_store *open_store(void)
{
	struct bav_store_opts opts = { .migrate = true };
	struct bav_store *store = NULL;
	char *error = NULL;

	if (bav_store_open(uri, &opts, &store, &error) != BAV_OK) {
		fprintf(stderr, "open: %s\n", error);
		free(error);
	}
	return store;
}

struct count_ctx {
	long long v;
	unsigned int rows;
	char text[128];
};

static int count_row(void *ctx, const struct bav_store_value *v,
		     const char *const *names, unsigned int n)
{
	struct count_ctx *c = ctx;

	(void)names;
	c->rows++;
	if (n > 0) {
		c->v = v[0].i;
		snprintf(c->text, sizeof(c->text), "%s",
			 v[0].s != NULL ? v[0].s : "(null)");
	}
	return 0;
}

static long long scalar(struct bav_store *store, const char *sql,
			const char *arg)
{
	struct bav_store_param p[] = { BAV_STORE_PARAM_TEXT(arg) };
	struct count_ctx c = { -1, 0, "" };
	const char *error;

	if (bav_store_exec(store, sql, p, arg != NULL ? 1 : 0, count_row, &c,
			   &error) != BAV_OK)
		fprintf(stderr, "%s: %s\n", sql, error);
	return c.v;
}

#endif

static void test_uri(void)
{
	static const struct {
		const char *uri;
		int ret;
		const char *user, *host, *db, *socket, *pw;
		unsigned int port;
	} cases[] = {
		{ "sqlite:/tmp/x.db", 0, NULL, NULL, NULL, NULL, NULL, 0 },
		{ "mariadb://bav@db1:3307/mail", 0, "bav", "db1", "mail",
		  NULL, NULL, 3307 },
		{ "mariadb://bav@localhost/mail?socket=/run/m.sock&"
		  "password_file=/etc/pw", 0, "bav", "localhost", "mail",
		  "/run/m.sock", "/etc/pw", 0 },
		{ "mariadb://bav:secret@db/mail", BAV_ECONFIG, 0, 0, 0, 0, 0, 0 },
		{ "mariadb://db/mail", BAV_ECONFIG, 0, 0, 0, 0, 0, 0 },
		{ "mariadb://bav@db:99999/mail", BAV_ECONFIG, 0, 0, 0, 0, 0, 0 },
		{ "mariadb://bav@db/", BAV_ECONFIG, 0, 0, 0, 0, 0, 0 },
		{ "mariadb://bav@db/x?colour=red", BAV_ECONFIG, 0, 0, 0, 0, 0, 0 },
		{ "postgres://x@y/z", BAV_ECONFIG, 0, 0, 0, 0, 0, 0 },
		{ "sqlite:", BAV_ECONFIG, 0, 0, 0, 0, 0, 0 },
	};
	unsigned int i;

	test_begin("store URI parsing");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bav_store_uri u;
		const char *error = NULL;
		int ret = bav_store_uri_parse(cases[i].uri, &u, &error);

		test_assert_idx(ret == cases[i].ret, i);
		if (ret != 0) {
			test_assert_idx(error != NULL, i);
			continue;
		}
		if (cases[i].user != NULL) {
			test_assert_strcmp(u.user, cases[i].user);
			test_assert_strcmp(u.host, cases[i].host);
			test_assert_strcmp(u.db, cases[i].db);
			test_assert_idx(u.port == cases[i].port, i);
			test_assert_idx((u.socket == NULL) ==
					(cases[i].socket == NULL), i);
			test_assert_idx((u.password_file == NULL) ==
					(cases[i].pw == NULL), i);
		}
		bav_store_uri_free(&u);
	}
	test_end();
}

#ifdef HAVE_SQLITE
static void test_open_migrate(void)
{
	struct bav_store_opts noopts = { .migrate = false };
	struct bav_store *store;
	const char *error;
	char *err = NULL;
	int version = -1;

	test_begin("store open, migrate, schema guard");
	unlink(dbpath);
	/* not migrating an empty database is refused */
	test_assert(bav_store_open(uri, &noopts, &store, &err) ==
		    BAV_ECONFIG);
	test_assert(err != NULL && strstr(err, "bav store init") != NULL);
	free(err);
	err = NULL;
	store = open_store();
	test_assert(store != NULL);
	if (store == NULL) {
		test_end();
		return;
	}
	test_assert_strcmp(bav_store_backend(store), "sqlite");
	test_assert(bav_store_schema_version(store, &version, &error) == 0);
	test_assert(version == BAV_STORE_SCHEMA_VERSION);
	/* migrating again is a no-op */
	test_assert(bav_store_migrate(store, &error) == BAV_OK);
	/* a newer schema is refused */
	test_assert(bav_store_exec(store, "INSERT INTO bav_schema_version"
		    " (version, name, applied) VALUES (999, 'future', 0)",
		    NULL, 0, NULL, NULL, &error) == BAV_OK);
	bav_store_close(&store);
	test_assert(store == NULL);
	test_assert(bav_store_open(uri, &noopts, &store, &err) ==
		    BAV_ECONFIG);
	test_assert(err != NULL && strstr(err, "newer") != NULL);
	free(err);
	err = NULL;
	unlink(dbpath);
	/* a backend that was not built, or a bad URI */
#ifndef HAVE_MARIADB
	test_assert(bav_store_open("mariadb://u@h/d", NULL, &store, &err) ==
		    BAV_ECONFIG);
	test_assert(err != NULL && strstr(err, "not built") != NULL);
	free(err);
	err = NULL;
#else
	/* the MariaDB module missing: a clear error naming its path */
	{
		const char *dir = getenv("BAV_MODULE_DIR");
		char *saved = dir != NULL ? strdup(dir) : NULL;

		setenv("BAV_MODULE_DIR", "/nonexistent-bav-modules", 1);
		test_assert(bav_store_open("mariadb://u@h/d", NULL, &store,
					   &err) == BAV_ECONFIG);
		test_assert(err != NULL &&
			    strstr(err, "MariaDB store backend not available") !=
			    NULL && strstr(err, "/nonexistent-bav-modules/"
					   "store_mariadb.so") != NULL);
		free(err);
		err = NULL;
		if (saved != NULL)
			setenv("BAV_MODULE_DIR", saved, 1);
		else
			unsetenv("BAV_MODULE_DIR");
		free(saved);
	}
#endif
	test_assert(bav_store_open("nosuch:x", NULL, &store, &err) ==
		    BAV_ECONFIG);
	free(err);
	err = NULL;
	test_assert(bav_store_open("mariadb://u@h/d?password_file=/nonexistent",
				   NULL, &store, &err) == BAV_ECONFIG);
	free(err);
	test_end();
}

struct type_ctx {
	unsigned int rows;
	enum bav_store_type t[5];
	long long i;
	double d;
	char s[32];
	char name[32];
};

static int type_row(void *ctx, const struct bav_store_value *v,
		    const char *const *names, unsigned int n)
{
	struct type_ctx *c = ctx;
	unsigned int k;

	c->rows++;
	for (k = 0; k < n && k < 5; k++)
		c->t[k] = v[k].type;
	c->i = v[0].i;
	c->d = v[2].d;
	snprintf(c->s, sizeof(c->s), "%s", v[1].s);
	snprintf(c->name, sizeof(c->name), "%s", names[0]);
	return 0;
}

static int stop_row(void *ctx, const struct bav_store_value *v,
		    const char *const *names, unsigned int n)
{
	(void)v; (void)names; (void)n;
	(*(unsigned int *)ctx)++;
	return 1;
}

static void test_exec(void)
{
	struct bav_store *store = open_store();
	struct bav_store_param p[] = {
		BAV_STORE_PARAM_TEXT("k1"), BAV_STORE_PARAM_TEXT("it's"),
		BAV_STORE_PARAM_INT(9007199254740993LL), BAV_STORE_PARAM_NULL,
	};
	struct type_ctx c;
	const char *error;
	unsigned int rows = 0;

	test_begin("store exec: parameters, types, transactions");
	if (store == NULL) {
		test_assert(store != NULL);
		test_end();
		return;
	}
	test_assert(bav_store_exec(store, "INSERT INTO bav_meta (name, value,"
		    " ivalue, changed) VALUES (?, ?, ?, 0)", p, 3, NULL, NULL,
		    &error) == BAV_OK);
	test_assert(bav_store_changes(store) == 1);
	memset(&c, 0, sizeof(c));
	test_assert(bav_store_exec(store, "SELECT ivalue AS big, value,"
		    " AVG(changed + 0.5), NULL, ? FROM bav_meta WHERE name = ?"
		    " GROUP BY ivalue, value", &p[3], 2 - 1, type_row, &c,
		    &error) != BAV_OK);	/* 2 placeholders, 1 given */
	{
		struct bav_store_param q[] = { BAV_STORE_PARAM_NULL,
					       BAV_STORE_PARAM_TEXT("k1") };
		test_assert(bav_store_exec(store, "SELECT ivalue AS big,"
			    " value, AVG(changed + 0.5), NULL, ? FROM"
			    " bav_meta WHERE name = ? GROUP BY ivalue, value",
			    q, 2, type_row, &c, &error) == BAV_OK);
	}
	test_assert(c.rows == 1);
	test_assert(c.t[0] == BAV_STORE_INT && c.i == 9007199254740993LL);
	test_assert(c.t[1] == BAV_STORE_TEXT);
	test_assert_strcmp(c.s, "it's");
	test_assert(c.t[2] == BAV_STORE_REAL && c.d == 0.5);
	test_assert(c.t[3] == BAV_STORE_NULL && c.t[4] == BAV_STORE_NULL);
	test_assert_strcmp(c.name, "big");
	/* syntax errors are permanent */
	test_assert(bav_store_exec(store, "SELEC 1", NULL, 0, NULL, NULL,
				   &error) == BAV_EDATA);
	/* a duplicate key is permanent and flagged */
	test_assert(bav_store_exec(store, "INSERT INTO bav_meta (name, value,"
		    " ivalue, changed) VALUES (?, ?, ?, 0)", p, 3, NULL, NULL,
		    &error) == BAV_EDATA);
	test_assert(store->last_dup);
	/* the row callback can stop early */
	test_assert(bav_store_exec(store, "SELECT name FROM bav_meta UNION"
		    " ALL SELECT name FROM bav_meta", NULL, 0, stop_row, &rows,
		    &error) == BAV_OK && rows == 1);
	/* rollback forgets, commit keeps */
	test_assert(bav_store_begin(store, &error) == BAV_OK);
	test_assert(bav_store_begin(store, &error) == BAV_EDATA);
	test_assert(bav_store_exec(store, "DELETE FROM bav_meta", NULL, 0,
				   NULL, NULL, &error) == BAV_OK);
	test_assert(bav_store_rollback(store, &error) == BAV_OK);
	test_assert(scalar(store, "SELECT COUNT(*) FROM bav_meta", NULL) == 1);
	test_assert(bav_store_begin(store, &error) == BAV_OK);
	test_assert(bav_store_exec(store, "DELETE FROM bav_meta", NULL, 0,
				   NULL, NULL, &error) == BAV_OK);
	test_assert(bav_store_commit(store, &error) == BAV_OK);
	test_assert(!bav_store_in_transaction(store));
	test_assert(scalar(store, "SELECT COUNT(*) FROM bav_meta", NULL) == 0);
	bav_store_close(&store);
	test_end();
}

static struct bav_verdict *classify(struct bav_pool *pool, const char *msg)
{
	struct bav_verdict *v = NULL;
	const char *error;

	if (bav_classify((const unsigned char *)msg, strlen(msg), NULL, pool,
			 &v, &error) != BAV_OK)
		return NULL;
	return v;
}

static void test_record(void)
{
	struct bav_store *store = open_store();
	struct bav_pool *pool = bav_pool_new(8192);
	struct bav_verdict *v = classify(pool, bounce);
	char key[BAV_STORE_KEY_SIZE];
	const char *error;

	test_begin("store record: events, state, idempotence, unblock");
	test_assert(v != NULL && store != NULL);
	if (v == NULL || store == NULL)
		goto out;
	test_assert(v->result_count == 2);
	bav_store_message_key((const unsigned char *)bounce, strlen(bounce),
			      key);
	test_assert(strlen(key) == 64);
	test_assert(bav_store_record(store, v, key, "mx1", 1700000000,
				     &error) == 0);
	test_assert(bav_store_record(store, v, key, "mx2", 1700000100,
				     &error) == 1);
	test_assert(scalar(store, "SELECT COUNT(*) FROM bav_messages",
			   NULL) == 1);
	test_assert(scalar(store, "SELECT COUNT(*) FROM bav_events",
			   NULL) == 2);
	test_assert(scalar(store, "SELECT result_count FROM bav_messages",
			   NULL) == 2);
	test_assert(scalar(store, "SELECT hard FROM bav_events WHERE"
			   " recipient = ?", "gone@example.net") == 1);
	test_assert(scalar(store, "SELECT COUNT(*) FROM bav_recipients WHERE"
			   " state = 'bounced' AND address = ?",
			   "gone@example.net") == 1);
	test_assert(scalar(store, "SELECT COUNT(*) FROM bav_recipients WHERE"
			   " address = ? AND state <> 'bounced'",
			   "full@example.com") == 1);
	test_assert(scalar(store, "SELECT COUNT(*) FROM bav_events WHERE"
			   " orig_message_id = ?", "<news-1@example.org>") == 2 ||
		    scalar(store, "SELECT COUNT(*) FROM bav_events WHERE"
			   " orig_message_id = ?", "news-1@example.org") == 2);
	/* inside a caller's transaction that is rolled back: nothing */
	test_assert(bav_store_begin(store, &error) == BAV_OK);
	test_assert(bav_store_record(store, v, "other-key", "mx1", 1700000200,
				     &error) == 0);
	test_assert(bav_store_rollback(store, &error) == BAV_OK);
	test_assert(scalar(store, "SELECT COUNT(*) FROM bav_messages",
			   NULL) == 1);
	/* unblock: audit row, state active; twice: nothing to do */
	test_assert(bav_store_unblock(store, "GONE@example.net", "restored",
				      "tester", 1700000300, &error) == 0);
	test_assert(bav_store_unblock(store, "gone@example.net", "again",
				      "tester", 1700000400, &error) == 1);
	test_assert(bav_store_unblock(store, "never@example.net", "x",
				      "tester", 1700000400, &error) == 1);
	test_assert(scalar(store, "SELECT COUNT(*) FROM bav_recipients WHERE"
			   " address = ? AND state = 'active'",
			   "gone@example.net") == 1);
	test_assert(scalar(store, "SELECT COUNT(*) FROM bav_audit WHERE"
			   " address = ? AND old_state = 'bounced' AND"
			   " reason = 'restored'", "gone@example.net") == 1);
out:
	bav_store_close(&store);
	bav_pool_free(&pool);
	test_end();
}

#endif

static void test_key(void)
{
	static const char a[] = "Received: by a\nMessage-ID: <m1@x>\n\nbody\nline\n";
	static const char b[] = "From MAILER-DAEMON Mon Jan  1 00:00:00 2024\r\n"
		"Received: by b\r\nDelivered-To: z@y\r\nMessage-Id:\r\n <m1@x>\r\n"
		"\r\nbody\r\nline\r\n";
	static const char c[] = "Message-ID: <m2@x>\n\nbody\nline\n";
	static const char d[] = "Message-ID: <m1@x>\n\nbody\nline2\n";
	char ka[BAV_STORE_KEY_SIZE], kb[BAV_STORE_KEY_SIZE];
	char kc[BAV_STORE_KEY_SIZE], kd[BAV_STORE_KEY_SIZE];

	test_begin("store message key");
	bav_store_message_key((const unsigned char *)a, strlen(a), ka);
	bav_store_message_key((const unsigned char *)b, strlen(b), kb);
	bav_store_message_key((const unsigned char *)c, strlen(c), kc);
	bav_store_message_key((const unsigned char *)d, strlen(d), kd);
	test_assert_strcmp(ka, kb);
	test_assert(strcmp(ka, kc) != 0);
	test_assert(strcmp(ka, kd) != 0);
	bav_store_message_key((const unsigned char *)"", 0, kc);
	test_assert(strlen(kc) == 64);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_uri, test_key,
#ifdef HAVE_SQLITE
		test_open_migrate, test_exec, test_record,
#endif
		NULL
	};
	const char *tmp = getenv("TMPDIR");
	int ret;

	snprintf(dbpath, sizeof(dbpath), "%s/test_store.%ld.db",
		 tmp != NULL ? tmp : "/tmp", (long)getpid());
	snprintf(uri, sizeof(uri), "sqlite:%s", dbpath);
	ret = test_run(tests);
	unlink(dbpath);
	{
		char side[300];

		snprintf(side, sizeof(side), "%s-wal", dbpath);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", dbpath);
		unlink(side);
	}
	return ret;
}
