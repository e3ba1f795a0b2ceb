/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cmd_store - "bav store init|version" and the store helpers shared by
 *	record, show and unblock
 * SYNOPSIS
 *	bav store init [--store URI] [--password-file FILE]
 *	bav store version [--store URI] [--password-file FILE]
 *	bav store query [--store URI] [--password-file FILE] SQL [PARAM...]
 * DESCRIPTION
 *	init creates the schema or applies the missing migrations of the
 *	store; version prints the schema version of the store and the one
 *	this bav knows. query runs one SQL statement (portable SQL, "?"
 *	placeholders bound to the PARAMs as text, or as integers when they
 *	are decimal numbers) and prints the rows tab-separated, NULL as
 *	"\N"; for scripts and tests on either backend. Without --store the
 *	URI comes from $BAV_STORE.
 * DIAGNOSTICS
 *	"bav: why" on stderr. Exit 0 ok, 64 usage, 75 temporary store
 *	failure (retry later), 78 configuration (bad URI, password file,
 *	schema newer than this bav).
 * SEE ALSO
 *	bav(1), bav-store(7), bav_store.h
 */
#include "cmd_store.h"
#include "cmd_config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

int store_cmd_exit(int err)
{
	switch (err) {
	case BAV_OK: return CMD_EX_OK;
	case BAV_ETEMP: return CMD_EX_TEMPFAIL;
	case BAV_ECONFIG: return CMD_EX_CONFIG;
	default: return CMD_EX_FAIL;
	}
}

static int open_opts(const char *uri, const struct bav_store_opts *opts,
		     struct bav_store **store_r);

int store_cmd_open(const char *uri, const char *password_file, bool migrate,
		   struct bav_store **store_r)
{
	struct bav_store_opts opts = {
		.password_file = password_file, .migrate = migrate,
	};

	return open_opts(uri, &opts, store_r);
}

int store_cmd_open_any(const char *uri, const char *password_file,
		       struct bav_store **store_r)
{
	struct bav_store_opts opts = {
		.password_file = password_file, .any_version = true,
	};

	return open_opts(uri, &opts, store_r);
}

static int open_opts(const char *uri, const struct bav_store_opts *opts,
		     struct bav_store **store_r)
{
	char *error = NULL;
	int ret;

	*store_r = NULL;
	if (uri == NULL)
		uri = getenv("BAV_STORE");
	if (uri == NULL || *uri == '\0') {
		fprintf(stderr, "bav: no store: give --store URI or set "
			"BAV_STORE\n");
		return CMD_EX_USAGE;
	}
	{
		struct bav_store_opts o = *opts;	/* main.cf's password */

		if ((ret = cmd_config_store_opts(uri, &o, "store")) != 0)
			return ret;
		ret = bav_store_open(uri, &o, store_r, &error);
	}
	if (ret < 0) {
		fprintf(stderr, "bav: %s\n", error != NULL ? error :
			"cannot open the store");
		free(error);
		return store_cmd_exit(ret);
	}
	return CMD_EX_OK;
}

static const struct option long_opts[] = {
	{ "store", required_argument, NULL, 's' },
	{ "password-file", required_argument, NULL, 'p' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int print_row(void *ctx, const struct bav_store_value *v,
		     const char *const *names, unsigned int n)
{
	unsigned int i;

	(void)ctx;
	(void)names;
	for (i = 0; i < n; i++) {
		if (i > 0)
			putchar('\t');
		fputs(v[i].type == BAV_STORE_NULL ? "\\N" : v[i].s, stdout);
	}
	putchar('\n');
	return 0;
}

static int query(struct bav_store *store, int argc, char **argv)
{
	struct bav_store_param *p;
	const char *error;
	int i, ret;

	/* @UNSAFE: argc parameters at most */
	if ((p = calloc((size_t)argc + 1, sizeof(*p))) == NULL)
		abort();
	for (i = 1; i < argc; i++) {
		char *end;
		long long v = strtoll(argv[i], &end, 10);

		if (argv[i][0] != '\0' && *end == '\0' &&
		    (argv[i][0] != '0' || argv[i][1] == '\0')) {
			p[i - 1].type = BAV_STORE_INT;
			p[i - 1].i = v;
		} else {
			p[i - 1].type = BAV_STORE_TEXT;
			p[i - 1].s = argv[i];
		}
	}
	ret = bav_store_exec(store, argv[0], p, (unsigned int)argc - 1,
			     print_row, NULL, &error);
	if (ret < 0)
		fprintf(stderr, "bav: store query: %s\n", error);
	free(p);
	return ret;
}

int cmd_store(int argc, char **argv)
{
	const char *uri = NULL, *pwfile = NULL, *what, *error;
	struct bav_store *store;
	int opt, ret, version;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:p:h", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 's': uri = optarg; break;
		case 'p': pwfile = optarg; break;
		case 'h': cmd_usage(stdout); return CMD_EX_OK;
		default: cmd_usage(stderr); return CMD_EX_USAGE;
		}
	}
	if (optind < argc && strcmp(argv[optind], "query") == 0 &&
	    optind + 1 < argc) {
		ret = store_cmd_open_any(uri, pwfile, &store);
		if (ret != 0)
			return ret;
		ret = query(store, argc - optind - 1, argv + optind + 1);
		bav_store_close(&store);
		if (fflush(stdout) != 0)
			return CMD_EX_IOERR;
		return store_cmd_exit(ret);
	}
	if (optind + 1 != argc || (strcmp(argv[optind], "init") != 0 &&
				   strcmp(argv[optind], "version") != 0)) {
		cmd_usage(stderr);
		return CMD_EX_USAGE;
	}
	what = argv[optind];
	ret = store_cmd_open(uri, pwfile, strcmp(what, "init") == 0, &store);
	if (ret != 0)
		return ret;
	ret = bav_store_schema_version(store, &version, &error);
	if (ret < 0)
		fprintf(stderr, "bav: %s\n", error);
	else
		printf("%s schema version %d (this bav: %d)\n",
		       bav_store_backend(store), version,
		       BAV_STORE_SCHEMA_VERSION);
	bav_store_close(&store);
	return store_cmd_exit(ret);
}
