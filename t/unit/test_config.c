/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	test_config - unit tests of the main.cf reader (config.c)
 * DESCRIPTION
 *	Table-driven: each case is a main.cf text (copied without a NUL),
 *	the expected result class, the number of problems, and the value
 *	one key must have afterwards. Then the key table itself (sorted,
 *	every default valid), numbers with units, NUL bytes, huge lines,
 *	and the secrets file rules.
 */
#include "bav_private.h"
#include "bav_config.h"
#include "test_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct parse_case {
	const char *text;
	int ret;		/* BAV_OK or BAV_ECONFIG */
	size_t problems;	/* warnings and errors */
	const char *key, *value;	/* value of key after loading */
	const char *first;	/* start of the first problem, or NULL */
};

static const struct parse_case parse_cases[] = {
	{ "", BAV_OK, 0, "lmtpd_threads", "20", NULL },
	{ "# comment\n\n   \nlmtpd_threads = 7\n", BAV_OK, 0,
	  "lmtpd_threads", "7", NULL },
	{ "lmtpd_threads=8", BAV_OK, 0, "lmtpd_threads", "8", NULL },
	{ "rules_files = /a\n  /b\n\t/c\n", BAV_OK, 0, "rules_files",
	  "/a /b /c", NULL },
	{ "rules_files = /a\n# between\n  /b\n", BAV_OK, 0, "rules_files",
	  "/a /b", NULL },
	{ "rules_files = /a\r\n  /b\r\n", BAV_OK, 0, "rules_files",
	  "/a /b", NULL },
	{ "  lmtpd_threads = 8\n", BAV_ECONFIG, 1, "lmtpd_threads", "20",
	  "t.cf:1: continuation line" },
	{ "config_directory = /x\nsecrets_file = $config_directory/s\n",
	  BAV_OK, 0, "secrets_file", "/x/s", NULL },
	{ "secrets_file = ${config_directory}/s\nconfig_directory = /y\n",
	  BAV_OK, 0, "secrets_file", "/y/s", NULL },
	{ "my_dir = /z\nspool_directory = $(my_dir)/spool\n", BAV_OK, 1,
	  "spool_directory", "/z/spool", "t.cf:1: unknown parameter my_dir" },
	{ "policyd_reject_action = 550 costs $$5\n", BAV_OK, 0,
	  "policyd_reject_action", "550 costs $5", NULL },
	{ "spool_directory = $nosuch/x\n", BAV_ECONFIG, 1, "spool_directory",
	  LOCALSTATEDIR_TEST "/spool/bav", "t.cf:1: spool_directory: undefined" },
	{ "a = $b\nb = $a\nspool_directory = $a\n", BAV_ECONFIG, 3,
	  "spool_directory", LOCALSTATEDIR_TEST "/spool/bav", NULL },
	{ "spool_directory = ${x\n", BAV_ECONFIG, 1, "spool_directory",
	  LOCALSTATEDIR_TEST "/spool/bav", NULL },
	{ "lmtpd_threads = 0\n", BAV_ECONFIG, 1, "lmtpd_threads", "20",
	  "t.cf:1: lmtpd_threads: '0' is out of bounds" },
	{ "lmtpd_threads = 1025\n", BAV_ECONFIG, 1, "lmtpd_threads", "20",
	  NULL },
	{ "lmtpd_threads = 12x\n", BAV_ECONFIG, 1, "lmtpd_threads", "20",
	  "t.cf:1: lmtpd_threads: '12x': not a number" },
	{ "lmtpd_threads = 99999999999999999999999\n", BAV_ECONFIG, 1,
	  "lmtpd_threads", "20", NULL },
	{ "lmtpd_timeout = 2m\n", BAV_OK, 0, "lmtpd_timeout", "2m", NULL },
	{ "lmtpd_timeout = 2y\n", BAV_ECONFIG, 1, "lmtpd_timeout", "300s",
	  NULL },
	{ "max_message_size = 10M\n", BAV_OK, 0, "max_message_size", "10M",
	  NULL },
	{ "max_message_size = 1\n", BAV_ECONFIG, 1, "max_message_size",
	  "64M", NULL },
	{ "milter_classify = Yes\n", BAV_OK, 0, "milter_classify", "Yes",
	  NULL },
	{ "milter_classify = maybe\n", BAV_ECONFIG, 1, "milter_classify",
	  "no", NULL },
	{ "milter_mode = soft\n", BAV_OK, 0, "milter_mode", "soft", NULL },
	{ "milter_mode = Soft\n", BAV_ECONFIG, 1, "milter_mode", "enforce",
	  NULL },
	{ "milter_mode = hard\n", BAV_ECONFIG, 1, "milter_mode", "enforce",
	  "t.cf:1: milter_mode: 'hard' is not one of" },
	{ "milter_socket_mode = 0640\n", BAV_OK, 0, "milter_socket_mode",
	  "0640", NULL },
	{ "milter_socket_mode = 0789\n", BAV_ECONFIG, 1,
	  "milter_socket_mode", "0660", NULL },
	{ "milter_socket_mode = 1777\n", BAV_ECONFIG, 1,
	  "milter_socket_mode", "0660", NULL },
	{ "spool_directory = relative/dir\n", BAV_ECONFIG, 1,
	  "spool_directory", LOCALSTATEDIR_TEST "/spool/bav", NULL },
	{ "lmtpd_threads 5\n", BAV_ECONFIG, 1, "lmtpd_threads", "20",
	  "t.cf:1: missing '='" },
	{ "= 5\n", BAV_ECONFIG, 1, "lmtpd_threads", "20",
	  "t.cf:1: bad parameter name" },
	{ "lmtpd-threads = 5\n", BAV_ECONFIG, 1, "lmtpd_threads", "20", NULL },
	{ "lmtpd_threads = 5\nlmtpd_threads = 6\n", BAV_OK, 1,
	  "lmtpd_threads", "6", "t.cf:2: lmtpd_threads: overrides line 1" },
	{ "x = 1\ny = 2\nlmtpd_threads = 3\n", BAV_OK, 2, "lmtpd_threads",
	  "3", NULL },
	{ "lmtpd_threads = 5", BAV_OK, 0, "lmtpd_threads", "5", NULL },
	{ "store = \n", BAV_OK, 0, "store", "", NULL },
	{ "lmtpd_threads = 0\nlmtpd_threads = 5\n", BAV_OK, 1,
	  "lmtpd_threads", "5", NULL },
};

static void test_parse(void)
{
	size_t i;

	test_begin("config parse");
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		size_t len = strlen(c->text);
		unsigned char *t = test_dup_nonul(c->text, len);
		struct bav_config *cf = NULL;
		const char *error = NULL, *v, *first;
		int ret;

		ret = bav_config_parse("t.cf", (const char *)t, len, &cf,
				       &error);
		test_assert_idx(ret == c->ret, i);
		test_assert_idx(cf != NULL, i);
		test_assert_idx(bav_config_problem_count(cf) == c->problems, i);
		if (ret != BAV_OK)
			test_assert_idx(error != NULL, i);
		v = bav_config_get(cf, c->key);
		test_assert_idx(v != NULL && strcmp(v, c->value) == 0, i);
		if (v == NULL || strcmp(v, c->value) != 0)
			fprintf(stderr, "case %zu: %s = '%s'\n", i, c->key,
				v != NULL ? v : "(null)");
		if (c->first != NULL) {
			first = bav_config_problem(cf, 0, NULL);
			test_assert_idx(first != NULL && strncmp(first,
				c->first, strlen(c->first)) == 0, i);
			if (first != NULL && strncmp(first, c->first,
						     strlen(c->first)) != 0)
				fprintf(stderr, "case %zu: %s\n", i, first);
		}
		bav_config_free(&cf);
		test_assert_idx(cf == NULL, i);
		free(t);
	}
	test_end();
}

static void test_values(void)
{
	struct bav_config *cf = NULL;
	const char *error = NULL;
	static const char text[] =
		"lmtpd_timeout = 2m\nmax_message_size = 10M\n"
		"milter_socket_mode = 0640\nmilter_classify = on\n"
		"verp_max_age = 2d\nrun_directory = /r\n";

	test_begin("config values");
	test_assert(bav_config_parse("v.cf", text, sizeof(text) - 1, &cf,
				     &error) == BAV_OK);
	test_assert(bav_config_get_number(cf, "lmtpd_timeout") == 120);
	test_assert(bav_config_get_number(cf, "max_message_size") ==
		    10u << 20);
	test_assert(bav_config_get_number(cf, "milter_socket_mode") == 0640);
	test_assert(bav_config_get_number(cf, "milter_classify") == 1);
	test_assert(bav_config_get_number(cf, "verp_max_age") == 2 * 86400);
	test_assert(bav_config_get_number(cf, "lmtpd_threads") == 20);
	test_assert_strcmp(bav_config_get(cf, "milter_socket"),
			   "unix:/r/bav-milter.sock");
	test_assert(bav_config_is_set(cf, "run_directory"));
	test_assert(!bav_config_is_set(cf, "milter_socket"));
	test_assert(bav_config_get(cf, "no_such_key") == NULL);
	test_assert(bav_config_get_number(cf, "no_such_key") == 0);
	bav_config_free(&cf);
	test_end();
}

static void test_table(void)
{
	size_t n, i;
	const struct bav_config_key *k = bav_config_keys(&n);
	struct bav_config *cf = NULL;
	const char *error = NULL;

	test_begin("config key table");
	test_assert(n > 50);
	for (i = 0; i < n; i++) {
		test_assert_idx(k[i].description != NULL &&
				k[i].description[0] != '\0', i);
		if (i > 0)
			test_assert_idx(strcmp(k[i - 1].name, k[i].name) < 0, i);
		test_assert_idx(bav_config_key_find(k[i].name) == &k[i], i);
	}
	/* every default is valid */
	test_assert(bav_config_parse("empty", "", 0, &cf, &error) == BAV_OK);
	test_assert(bav_config_problem_count(cf) == 0);
	bav_config_free(&cf);
	test_assert(bav_config_key_find("zzz") == NULL);
	test_end();
}

static void test_nul_and_huge(void)
{
	static const char nul[] = "lmtpd_threads = 5\nstore = a\0b\n"
		"rid = 9\n";
	struct bav_config *cf = NULL;
	const char *error = NULL;
	size_t huge = 70 * 1024, i;
	char *big = malloc(huge + 64);

	test_begin("config NUL bytes, huge lines");
	test_assert(bav_config_parse("n.cf", nul, sizeof(nul) - 1, &cf,
				     &error) == BAV_ECONFIG);
	test_assert(strstr(error, "n.cf:2: NUL byte") != NULL);
	test_assert_strcmp(bav_config_get(cf, "lmtpd_threads"), "5");
	test_assert_strcmp(bav_config_get(cf, "store"), "");
	test_assert_strcmp(bav_config_get(cf, "rid"), "9");
	bav_config_free(&cf);

	/* one logical line above 64 KiB, made of continuation lines */
	memcpy(big, "rid = x", 7);
	for (i = 7; i < huge; i++)
		big[i] = i % 100 == 0 ? '\n' : i % 100 == 1 ? ' ' : 'a';
	memcpy(big + huge, "\nlmtpd_threads = 4\n", 19);
	test_assert(bav_config_parse("h.cf", big, huge + 19, &cf,
				     &error) == BAV_ECONFIG);
	test_assert(strstr(error, "h.cf:1: line longer") != NULL);
	test_assert_strcmp(bav_config_get(cf, "rid"), "");
	test_assert_strcmp(bav_config_get(cf, "lmtpd_threads"), "4");
	bav_config_free(&cf);
	free(big);
	test_end();
}

static void test_numbers(void)
{
	static const struct {
		enum bav_config_type type;
		const char *s;
		int ret;
		unsigned long long v;
	} cases[] = {
		{ BAV_CONFIG_TIME, "10", 0, 10 },
		{ BAV_CONFIG_TIME, "10s", 0, 10 },
		{ BAV_CONFIG_TIME, "3h", 0, 10800 },
		{ BAV_CONFIG_TIME, "1w", 0, 604800 },
		{ BAV_CONFIG_TIME, "1hh", -1, 0 },
		{ BAV_CONFIG_TIME, "h", -1, 0 },
		{ BAV_CONFIG_SIZE, "16k", 0, 16384 },
		{ BAV_CONFIG_SIZE, "2G", 0, 2ULL << 30 },
		{ BAV_CONFIG_SIZE, "99999999999999999G", -1, 0 },
		{ BAV_CONFIG_UINT, "-1", -1, 0 },
		{ BAV_CONFIG_UINT, "", -1, 0 },
		{ BAV_CONFIG_UINT, "18446744073709551615", 0, ~0ULL },
		{ BAV_CONFIG_UINT, "18446744073709551616", -1, 0 },
		{ BAV_CONFIG_MODE, "755", 0, 0755 },
		{ BAV_CONFIG_MODE, "8", -1, 0 },
		{ BAV_CONFIG_BOOL, "OFF", 0, 0 },
		{ BAV_CONFIG_BOOL, "true", 0, 1 },
		{ BAV_CONFIG_BOOL, "2", -1, 0 },
	};
	size_t i;

	test_begin("config numbers");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned long long v = 0;
		const char *why = NULL;
		int ret = bav_config_parse_number(cases[i].type, cases[i].s,
						  &v, &why);

		test_assert_idx(ret == cases[i].ret, i);
		if (ret == 0)
			test_assert_idx(v == cases[i].v, i);
		else
			test_assert_idx(why != NULL, i);
	}
	test_end();
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	if (fp != NULL) {
		fputs(text, fp);
		fclose(fp);
	}
	chmod(path, mode);
}

static void test_secrets(void)
{
	char dir[] = "/tmp/test_config.XXXXXX", path[256], cfg[512];
	struct bav_config *cf = NULL;
	const char *error = NULL, *v = NULL;
	char errbuf[256], *secret = NULL;

	test_begin("config secrets");
	if (mkdtemp(dir) == NULL) {
		test_assert(false);
		test_end();
		return;
	}
	snprintf(path, sizeof(path), "%s/secrets", dir);
	snprintf(cfg, sizeof(cfg), "secrets_file = %s\n", path);
	test_assert(bav_config_parse("s.cf", cfg, strlen(cfg), &cf,
				     &error) == BAV_OK);
	/* missing: nothing set */
	test_assert(bav_config_secret(cf, "verp_secret", &v, &error) == 0);
	write_file(path, "# keys\n\nverp_secret = abc def  \n"
		   "agnuid_secret=x\n", 0600);
	test_assert(bav_config_secret(cf, "verp_secret", &v, &error) == 1);
	test_assert_strcmp(v, "abc def");
	test_assert(bav_config_secret(cf, "agnuid_secret", &v, &error) == 1);
	test_assert_strcmp(v, "x");
	test_assert(bav_config_secret(cf, "mariadb_password", &v,
				      &error) == 0);
	chmod(path, 0640);
	test_assert(bav_config_secret(cf, "verp_secret", &v, &error) ==
		    BAV_ECONFIG);
	test_assert(strstr(error, "refused: mode 0640") != NULL);
	write_file(path, "verp_secret\n", 0400);
	test_assert(bav_config_secret(cf, "verp_secret", &v, &error) ==
		    BAV_ECONFIG);
	test_assert(strstr(error, ":1: expected name = value") != NULL);
	bav_config_free(&cf);

	/* key files: the first line, trailing blanks dropped */
	write_file(path, "k3y \t\r\nsecond line\n", 0644);
	test_assert(bav_secret_file_read(path, false, &secret, errbuf,
					 sizeof(errbuf)) == 0);
	test_assert_strcmp(secret, "k3y");
	free(secret);
	test_assert(bav_secret_file_read(path, true, &secret, errbuf,
					 sizeof(errbuf)) == BAV_ECONFIG);
	write_file(path, "\nkey\n", 0600);
	test_assert(bav_secret_file_read(path, true, &secret, errbuf,
					 sizeof(errbuf)) == BAV_ECONFIG);
	test_assert(strstr(errbuf, "empty key") != NULL);
	unlink(path);
	test_assert(bav_secret_file_read(path, false, &secret, errbuf,
					 sizeof(errbuf)) == BAV_ECONFIG);

	/* pid files report errors */
	snprintf(path, sizeof(path), "%s/pid", dir);
	test_assert(bav_pidfile_write(path, 42, errbuf, sizeof(errbuf)) == 0);
	unlink(path);
	snprintf(path, sizeof(path), "%s/no/such/dir/pid", dir);
	test_assert(bav_pidfile_write(path, 42, errbuf, sizeof(errbuf)) < 0);
	test_assert(strstr(errbuf, "No such file") != NULL);
	rmdir(dir);
	test_end();
}

static void test_load(void)
{
	struct bav_config *cf = NULL;
	const char *error = NULL;

	test_begin("config load");
	/* a missing default file is fine, a missing -C file is not */
	test_assert(bav_config_load("/nonexistent/main.cf", false, &cf,
				    &error) == BAV_OK);
	test_assert_strcmp(bav_config_path(cf), "");
	bav_config_free(&cf);
	test_assert(bav_config_load("/nonexistent/main.cf", true, &cf,
				    &error) == BAV_ECONFIG);
	test_assert(strstr(error, "/nonexistent/main.cf: No such file") != NULL);
	bav_config_free(&cf);
	test_assert(bav_config_load("/", true, &cf, &error) == BAV_ECONFIG);
	bav_config_free(&cf);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_parse, test_values, test_table, test_nul_and_huge,
		test_numbers, test_secrets, test_load, NULL
	};

	return test_run(tests);
}
