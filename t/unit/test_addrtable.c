/* SPDX-License-Identifier: MIT */
/*
 * test_addrtable - bav.conf parsing (syntax, duplicates, errors with
 * file:line), the lookup semantics of spec section 3.3 (exact, @domain,
 * alias, case folding, managed vs unmanaged domains), reference counting,
 * change detection and a 1 000 000-entry table (load time, O(1) lookup).
 */
#include "bav_private.h"
#include "bav_addrtable.h"
#include "test_common.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The example of spec section 3.4 plus reject/tempfail entries. */
static const char example[] =
	"# generated\n"
	"@mail01.example.net\taccept:rid=local\n"
	"fbl@filter.example.com\taccept:rid=fbl\n"
	"fbl@news.example.org\talias:fbl@filter.example.com\n"
	"aml_12@filter.example.com\taccept:rid=12,cid=1,fwd=info@example.org,ar=12,armid=345\n"
	"reply_12@filter.example.com\taccept:rid=12,cid=1,fwd=info@example.org,ar=12,armid=345\n"
	"aml_12@news.example.org\talias:aml_12@filter.example.com\n"
	"reply_12@news.example.org\talias:reply_12@filter.example.com\n"
	"Bounces@news.example.org\talias:aml_12@filter.example.com\n"
	"\n"
	"   gone@news.example.org   reject  \r\n"
	"busy@news.example.org\ttempfail:maintenance\n"
	"plain@news.example.org\taccept\n"
	"dup@news.example.org\treject\n"
	"dup@news.example.org\taccept:rid=7\n"
	"nodomain\taccept:rid=1\n"
	"a2@news.example.org\talias:missing@mail01.example.net\n"
	"a3@news.example.org\talias:missing@nowhere.example\n"
	"a4@news.example.org\talias:fbl@news.example.org\n"
	"@alias.example\talias:fbl@filter.example.com\n";

#define OPT12 "rid=12,cid=1,fwd=info@example.org,ar=12,armid=345"

static const struct {
	const char *rcpt;
	enum bav_addr_verb verb;
	enum bav_addr_how how;
	const char *options;
} lookups[] = {
	{ "<fbl@filter.example.com>", BAV_ADDR_ACCEPT, BAV_ADDR_EXACT, "rid=fbl" },
	{ "fbl@filter.example.com", BAV_ADDR_ACCEPT, BAV_ADDR_EXACT, "rid=fbl" },
	{ "<FBL@Filter.Example.COM>", BAV_ADDR_ACCEPT, BAV_ADDR_EXACT, "rid=fbl" },
	{ "<fbl@filter.example.com> junk", BAV_ADDR_ACCEPT, BAV_ADDR_EXACT, "rid=fbl" },
	{ "<fbl@news.example.org>", BAV_ADDR_ACCEPT, BAV_ADDR_ALIAS, "rid=fbl" },
	{ "<reply_12@news.example.org>", BAV_ADDR_ACCEPT, BAV_ADDR_ALIAS, OPT12 },
	{ "<bounces@NEWS.example.org>", BAV_ADDR_ACCEPT, BAV_ADDR_ALIAS, OPT12 },
	{ "<anyone@mail01.example.net>", BAV_ADDR_ACCEPT, BAV_ADDR_DOMAIN, "rid=local" },
	{ "<@mail01.example.net>", BAV_ADDR_ACCEPT, BAV_ADDR_EXACT, "rid=local" },
	{ "<nobody@news.example.org>", BAV_ADDR_REJECT, BAV_ADDR_UNKNOWN, "" },
	{ "<nobody@filter.example.com>", BAV_ADDR_REJECT, BAV_ADDR_UNKNOWN, "" },
	{ "<someone@elsewhere.example>", BAV_ADDR_ACCEPT, BAV_ADDR_RELAY, "rid=relay" },
	{ "<postmaster>", BAV_ADDR_REJECT, BAV_ADDR_UNKNOWN, "" },
	{ "<>", BAV_ADDR_REJECT, BAV_ADDR_UNKNOWN, "" },
	{ "<user@>", BAV_ADDR_REJECT, BAV_ADDR_UNKNOWN, "" },
	{ "<gone@news.example.org>", BAV_ADDR_REJECT, BAV_ADDR_EXACT, "" },
	{ "<busy@news.example.org>", BAV_ADDR_TEMPFAIL, BAV_ADDR_EXACT, "" },
	{ "<plain@news.example.org>", BAV_ADDR_ACCEPT, BAV_ADDR_EXACT, "" },
	{ "<dup@news.example.org>", BAV_ADDR_ACCEPT, BAV_ADDR_EXACT, "rid=7" },
	{ "<nodomain>", BAV_ADDR_REJECT, BAV_ADDR_UNKNOWN, "" },
	/* alias to a missing target: the target's @domain (spec quirk) */
	{ "<a2@news.example.org>", BAV_ADDR_ACCEPT, BAV_ADDR_ALIAS, "rid=local" },
	/* ... and with no @domain either: the target's domain decides */
	{ "<a3@news.example.org>", BAV_ADDR_ACCEPT, BAV_ADDR_RELAY, "rid=relay" },
	/* one level only: an alias reached through an alias = accept */
	{ "<a4@news.example.org>", BAV_ADDR_ACCEPT, BAV_ADDR_ALIAS, "" },
	{ "<x@alias.example>", BAV_ADDR_ACCEPT, BAV_ADDR_ALIAS, "rid=fbl" },
};

static void test_lookup_table(void)
{
	struct bav_addrtable *t;
	struct bav_addr_result r;
	char *error = NULL;
	size_t i;

	test_begin("addrtable lookups (spec 3.3)");
	test_assert(bav_addrtable_load_mem("example", example,
					   sizeof(example) - 1, &t,
					   &error) == BAV_OK);
	if (t == NULL) {
		test_assert_strcmp(error, "");
		free(error);
		test_end();
		return;
	}
	test_assert(bav_addrtable_count(t) == 16);
	/* mail01.example.net filter.example.com news.example.org alias.example */
	test_assert(bav_addrtable_domain_count(t) == 4);
	for (i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++) {
		char *rcpt = (char *)test_dup_nonul(lookups[i].rcpt,
						    strlen(lookups[i].rcpt) + 1);

		bav_addrtable_lookup(t, rcpt, &r);
		test_assert_idx(r.verb == lookups[i].verb, i);
		test_assert_idx(r.how == lookups[i].how, i);
		test_assert_idx(strcmp(r.options, lookups[i].options) == 0, i);
		free(rcpt);
	}
	bav_addrtable_lookup(t, "<Bounces@news.example.org>", &r);
	test_assert_strcmp(r.key, "aml_12@filter.example.com");
	test_assert_strcmp(bav_addr_verb_name(BAV_ADDR_TEMPFAIL), "tempfail");
	test_assert_strcmp(bav_addr_how_name(BAV_ADDR_RELAY), "relay");
	bav_addrtable_unref(&t);
	test_assert(t == NULL);
	test_end();
}

static const struct {
	const char *text;
	int err;
	const char *error;
} bad[] = {
	{ "a@b\taccept\nx@b\n", BAV_ECONFIG, "t:2: key without a value" },
	{ "a@b\taccept\n\nx@b\tmaybe\n", BAV_ECONFIG,
	  "t:3: unknown action (expected accept[:options], reject, tempfail or alias:ADDRESS)" },
	{ "a@b\tacceptx:rid=1\n", BAV_ECONFIG,
	  "t:1: unknown action (expected accept[:options], reject, tempfail or alias:ADDRESS)" },
	{ "a@b\talias:\n", BAV_ECONFIG, "t:1: alias: without a target address" },
	{ "a@b\talias:c@d e\n", BAV_ECONFIG, "t:1: white space in an alias target" },
	{ "a@b\taccept\nc@d\taccept", BAV_ECONFIG,
	  "t:2: no newline at the end of the last line (truncated file?)" },
	{ "", BAV_ECONFIG,
	  "t: no address entries (an empty table would accept every domain)" },
	{ "# only a comment\nnoat\taccept\n", BAV_ECONFIG,
	  "t: no address entries (an empty table would accept every domain)" },
	{ "a@b\taccept\nc@d\0\taccept\n", BAV_ECONFIG, "t:2: NUL byte" },
};

static void test_errors(void)
{
	size_t i;

	test_begin("addrtable errors name file:line");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bav_addrtable *t = (struct bav_addrtable *)1;
		char *error = NULL;
		size_t len = strlen(bad[i].text);
		char *text;

		if (strstr(bad[i].error, "NUL") != NULL) /* the literal holds one */
			len += 1 + strlen(bad[i].text + len + 1);
		text = (char *)test_dup_nonul(bad[i].text, len);
		test_assert_idx(bav_addrtable_load_mem("t", text, len, &t,
						       &error) == bad[i].err, i);
		test_assert_idx(t == NULL, i);
		test_assert_strcmp(error, bad[i].error);
		free(error);
		free(text);
	}
	test_end();
}

static void test_file_and_refs(void)
{
	char path[] = "/tmp/test_addrtable.XXXXXX";
	struct bav_addrtable *t = NULL, *t2;
	struct bav_addr_result r;
	struct timespec ts[2];
	char *error = NULL;
	FILE *f;
	int fd;

	test_begin("addrtable file load, change detection, references");
	fd = mkstemp(path);
	test_assert(fd >= 0);
	f = fdopen(fd, "w");
	fputs("known@example.com\taccept:rid=5\n", f);
	fclose(f);
	test_assert(bav_addrtable_load(path, &t, &error) == BAV_OK);
	test_assert(t != NULL && bav_addrtable_changed(t, path) == 0);
	if (t == NULL) {
		free(error);
		test_end();
		return;
	}
	/* same size, other mtime */
	ts[0].tv_sec = ts[1].tv_sec = 1000000000;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	test_assert(utimensat(AT_FDCWD, path, ts, 0) == 0);
	test_assert(bav_addrtable_changed(t, path) == 1);

	/* a reference outlives the creator's */
	t2 = bav_addrtable_ref(t);
	bav_addrtable_unref(&t);
	bav_addrtable_lookup(t2, "<KNOWN@example.com>", &r);
	test_assert(r.verb == BAV_ADDR_ACCEPT);
	test_assert_strcmp(r.options, "rid=5");
	bav_addrtable_unref(&t2);
	bav_addrtable_unref(&t2); /* NULL is fine */

	unlink(path);
	test_assert(bav_addrtable_load(path, &t, &error) == BAV_ETEMP);
	test_assert(t == NULL && error != NULL &&
		    strstr(error, "No such file") != NULL);
	free(error);
	test_end();
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double lookups_per_sec(const struct bav_addrtable *t, unsigned int n,
			      unsigned int count)
{
	struct bav_addr_result r;
	char rcpt[64];
	unsigned int i, ok = 0;
	double t0 = now(), dt;

	for (i = 0; i < count; i++) {
		snprintf(rcpt, sizeof(rcpt), "<User%u@D%u.Example>",
			 (i * 7919u) % n, (i * 7919u) % n % 1000);
		bav_addrtable_lookup(t, rcpt, &r);
		if (r.verb == BAV_ADDR_ACCEPT && r.how == BAV_ADDR_EXACT)
			ok++;
	}
	dt = now() - t0;
	test_assert(ok == count);
	return count / (dt > 0 ? dt : 1e-9);
}

static struct bav_addrtable *big_table(unsigned int n, double *secs_r)
{
	struct bav_addrtable *t = NULL;
	struct bav_buf b = { 0 };
	char *error = NULL;
	unsigned int i;
	double t0;

	for (i = 0; i < n; i++)
		bav_buf_printf(&b, "user%u@d%u.example\taccept:rid=%u,cid=1\n",
			       i, i % 1000, i);
	t0 = now();
	test_assert(bav_addrtable_load_mem("big", b.data, b.len, &t,
					   &error) == BAV_OK);
	*secs_r = now() - t0;
	free(error);
	bav_buf_free(&b);
	return t;
}

static void test_large(void)
{
	struct bav_addrtable *small, *large;
	double load_small, load_large, ls, ll;
	struct bav_addr_result r;

	test_begin("addrtable 1 000 000 entries: load and O(1) lookups");
	small = big_table(1000, &load_small);
	large = big_table(1000000, &load_large);
	test_assert(small != NULL && large != NULL);
	if (small == NULL || large == NULL) {
		bav_addrtable_unref(&small);
		bav_addrtable_unref(&large);
		test_end();
		return;
	}
	test_assert(bav_addrtable_count(large) == 1000000);
	test_assert(bav_addrtable_domain_count(large) == 1000);
	bav_addrtable_lookup(large, "<nobody@d17.example>", &r);
	test_assert(r.verb == BAV_ADDR_REJECT);
	ls = lookups_per_sec(small, 1000, 200000);
	ll = lookups_per_sec(large, 1000000, 200000);
	printf("  load: 1000 entries %.4f s, 1000000 entries %.3f s; "
	       "lookups/s: %.0f (1000), %.0f (1000000)\n",
	       load_small, load_large, ls, ll);
	/* generous bounds: valgrind and busy CI machines are slow; cache
	   misses make the big table somewhat slower, never size-bound */
	test_assert(load_large < 60.0);
	test_assert(ll > ls / 20);
	bav_addrtable_unref(&small);
	bav_addrtable_unref(&large);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_lookup_table,
		test_errors,
		test_file_and_refs,
		test_large,
		NULL
	};

	return test_run(tests);
}
