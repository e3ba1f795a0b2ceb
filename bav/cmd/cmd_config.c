/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cmd_config - main.cf of the bav command: "bav config" and the
 *	configuration every subcommand starts from
 * SYNOPSIS
 *	bav [-C FILE] config check [-C FILE]
 *	bav [-C FILE] config show [-n|-d] [-x] [-C FILE] [KEY...]
 *	bav config keys
 *
 *	int cmd_config_init(const char *path, const char *cmd)
 *	struct bav_config *cmd_config(void)
 * DESCRIPTION
 *	main() loads main.cf once per run (cmd_config_init()): -C FILE,
 *	else $BAV_CONFIG, else SYSCONFDIR/bav/main.cf (which may be
 *	missing). Subcommands take their defaults from it, then their
 *	flags override them; $BAV_STORE and $BAV_SPOOL are set from store
 *	and spool_directory when the environment does not set them.
 *	cmd_config_store_opts() gives every store a subcommand opens the
 *	MariaDB password of store_password_file or, failing that, of the
 *	secrets file's store_password.
 *
 *	"config check" prints every problem of the file ("file:line:
 *	warning: ..." for unknown keys, "error" for bad lines and values)
 *	checks the secrets file's owner and mode and that the rule files
 *	named by rules_files and milter_rules_file load and that the
 *	policyd_*_action replies are ones bav-policyd accepts (the same
 *	check, bav_config_policy_action_ok()); "config show" prints
 *	"name = value" like postconf(1): every key, -n only those the file
 *	sets, -d the built-in defaults, -x with $name expanded. "config
 *	keys" prints the key table, one tab-separated line per key (name,
 *	type, default, min, max, choices, programs, description), with the
 *	build's directories shown as SYSCONFDIR and LOCALSTATEDIR; it is
 *	what doc/bav-main.cf.5 is checked against.
 *
 *	The one config lives for the whole run (process-wide, set once in
 *	main() before any thread starts, then read-only).
 * DIAGNOSTICS
 *	check: exit 0 when there is no error (warnings allowed), 78 on
 *	errors, 75 when a file can't be read. Subcommands exit 78 when
 *	main.cf has an error.
 * SEE ALSO
 *	bav-main.cf(5), bav_config.h
 */
#include "cmd.h"
#include "cmd_config.h"
#include "bav_store.h"
#include "bav_daemon.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

static struct bav_config *run_config;

static int print_problems(const struct bav_config *cf, const char *cmd,
			  bool warnings)
{
	size_t i, n = bav_config_problem_count(cf);
	int errors = 0;

	for (i = 0; i < n; i++) {
		bool fatal = false;
		const char *p = bav_config_problem(cf, i, &fatal);

		if (fatal)
			errors++;
		if (fatal || warnings)
			fprintf(stderr, "bav %s: %s%s\n", cmd,
				fatal ? "" : "warning: ", p);
	}
	return errors;
}

int cmd_config_init(const char *path, const char *cmd)
{
	const char *env = getenv("BAV_CONFIG"), *error = NULL, *v;
	bool must = path != NULL || (env != NULL && env[0] != '\0');
	int ret;

	bav_config_free(&run_config);
	ret = bav_config_load(path, must, &run_config, &error);
	if (ret != BAV_OK) {
		print_problems(run_config, cmd, false);
		return ret == BAV_ETEMP ? CMD_EX_TEMPFAIL : CMD_EX_CONFIG;
	}
	v = getenv("BAV_STORE");
	if ((v == NULL || v[0] == '\0') && cmd_config_str("store") != NULL)
		setenv("BAV_STORE", cmd_config_str("store"), 1);
	v = getenv("BAV_SPOOL");
	if ((v == NULL || v[0] == '\0') &&
	    cmd_config_str("spool_directory") != NULL)
		setenv("BAV_SPOOL", cmd_config_str("spool_directory"), 1);
	return 0;
}

struct bav_config *cmd_config(void)
{
	const char *error;

	if (run_config == NULL)	/* the built-in defaults */
		(void)bav_config_parse("defaults", "", 0, &run_config, &error);
	return run_config;
}

const char *cmd_config_str(const char *name)
{
	const char *v = bav_config_get(cmd_config(), name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

const char *cmd_config_scan(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-C") == 0 && i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], "-C", 2) == 0 && argv[i][2] != '\0')
			return argv[i] + 2;
	}
	return NULL;
}

const char *cmd_config_secret(const char *name, const char *cmd, bool *bad)
{
	const char *v = NULL, *error = NULL;
	int ret = bav_config_secret(cmd_config(), name, &v, &error);

	if (ret < 0) {
		fprintf(stderr, "bav %s: %s\n", cmd, error);
		*bad = true;
		return NULL;
	}
	return ret > 0 ? v : NULL;
}

int cmd_config_store_opts(const char *uri, struct bav_store_opts *opts,
			  const char *cmd)
{
	bool bad = false;

	if (uri == NULL || opts->password_file != NULL ||
	    strstr(uri, "password_file=") != NULL)
		return 0;
	if ((opts->password_file = cmd_config_str("store_password_file")) !=
	    NULL || (strncmp(uri, "mariadb:", 8) != 0 &&
		     strncmp(uri, "emm+mariadb:", 12) != 0))
		return 0;
	opts->password = cmd_config_secret("store_password", cmd, &bad);
	return bad ? CMD_EX_CONFIG : 0;
}

int cmd_config_facility(void)
{
	int f = log_facility_parse(cmd_config_str("syslog_facility"));

	return f >= 0 ? f : LOG_MAIL;
}

/* ---- bav config ------------------------------------------------------------ */

static int config_usage(void)
{
	fputs("usage: bav config check [-C FILE]\n"
	      "       bav config show [-n|-d] [-x] [-C FILE] [KEY...]\n"
	      "       bav config keys\n", stderr);
	return CMD_EX_USAGE;
}

static void rules_report(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "bav config: %s\n", msg);
}

/* The rule files main.cf names (rules_files, milter_rules_file) must
   load: the number of files with problems. */
static int check_rules(const struct bav_config *cf)
{
	static const char *const keys[] = { "rules_files", "milter_rules_file" };
	char *list, *save = NULL, *tok;
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if ((list = strdup(bav_config_get(cf, keys[i]))) == NULL)
			abort();
		for (tok = strtok_r(list, ", \t", &save); tok != NULL;
		     tok = strtok_r(NULL, ", \t", &save))
			if (bav_rules_check(tok, rules_report, NULL) != 0)
				bad++;
		free(list);
	}
	return bad;
}

/* The replies of bav-policyd (policyd_*_action), checked as bav-policyd
   checks them at start: the number of bad ones. */
static int check_actions(const struct bav_config *cf)
{
	size_t n, i;
	const struct bav_config_key *k = bav_config_keys(&n);
	int bad = 0;

	for (i = 0; i < n; i++) {
		size_t len = strlen(k[i].name);
		const char *v;

		if (strncmp(k[i].name, "policyd_", 8) != 0 || len < 7 ||
		    strcmp(k[i].name + len - 7, "_action") != 0)
			continue;
		v = bav_config_get(cf, k[i].name);
		v += strspn(v, " \t");
		if (!bav_config_policy_action_ok(v)) {
			fprintf(stderr, "bav config: %s: not a Postfix "
				"access(5) action: '%s'\n", k[i].name, v);
			bad++;
		}
	}
	return bad;
}

static int check(const struct bav_config *cf)
{
	const char *v = NULL, *error = NULL;
	struct bav_config *mut = (struct bav_config *)cf;
	int errors = print_problems(cf, "config", true);
	size_t warnings = bav_config_problem_count(cf) - (size_t)errors;

	/* the secrets file: owner and mode, every line */
	if (bav_config_secret(mut, "-", &v, &error) < 0) {
		fprintf(stderr, "bav config: %s\n", error);
		errors++;
	}
	errors += check_rules(cf);
	errors += check_actions(cf);
	if (errors > 0) {
		fprintf(stderr, "bav config: %s: %d error%s, %zu warning%s\n",
			bav_config_path(cf)[0] != '\0' ? bav_config_path(cf) :
			bav_config_default_path(), errors,
			errors == 1 ? "" : "s", warnings,
			warnings == 1 ? "" : "s");
		return CMD_EX_CONFIG;
	}
	printf("bav config: %s: ok (%zu warning%s)\n",
	       bav_config_path(cf)[0] != '\0' ? bav_config_path(cf) :
	       "no main.cf, built-in defaults", warnings,
	       warnings == 1 ? "" : "s");
	return CMD_EX_OK;
}

enum show_mode { SHOW_ALL, SHOW_SET, SHOW_DEFAULT };

static void show_one(const struct bav_config *cf, const char *name,
		     enum show_mode mode, bool expand)
{
	const struct bav_config_key *k = bav_config_key_find(name);
	const char *v;

	if (mode == SHOW_DEFAULT)
		v = k != NULL ? k->default_value : NULL;
	else if (expand && k != NULL)
		v = bav_config_get(cf, name);
	else
		v = bav_config_get_raw(cf, name);
	if (v == NULL)
		return;
	printf("%s =%s%s\n", name, v[0] != '\0' ? " " : "", v);
}

static int show(const struct bav_config *cf, enum show_mode mode,
		bool expand, int argc, char **argv)
{
	size_t n, i;
	const struct bav_config_key *keys = bav_config_keys(&n);
	int ret = CMD_EX_OK;

	if (argc > 0) {
		for (i = 0; i < (size_t)argc; i++) {
			if (bav_config_key_find(argv[i]) == NULL &&
			    (mode == SHOW_DEFAULT ||
			     !bav_config_is_set(cf, argv[i]))) {
				fprintf(stderr, "bav config: warning: unknown "
					"parameter: %s\n", argv[i]);
				ret = CMD_EX_FAIL;
				continue;
			}
			if (mode == SHOW_SET && !bav_config_is_set(cf, argv[i]))
				continue;
			show_one(cf, argv[i], mode, expand);
		}
		return ret;
	}
	for (i = 0; i < n; i++)
		if (mode != SHOW_SET || bav_config_is_set(cf, keys[i].name))
			show_one(cf, keys[i].name, mode, expand);
	if (mode == SHOW_SET)
		for (i = 0; i < bav_config_unknown_count(cf); i++)
			show_one(cf, bav_config_unknown(cf, i), mode, false);
	return ret;
}

/* A default with the build's directories named. */
static void put_default(const char *v)
{
	static const struct { const char *dir, *name; } dirs[] = {
		{ SYSCONFDIR, "SYSCONFDIR" }, { LOCALSTATEDIR, "LOCALSTATEDIR" },
	};
	size_t i;

	for (i = 0; i < 2; i++) {
		size_t len = strlen(dirs[i].dir);

		if (strncmp(v, dirs[i].dir, len) == 0 && v[len] == '/') {
			printf("%s%s", dirs[i].name, v + len);
			return;
		}
	}
	fputs(v, stdout);
}

static int keys(void)
{
	size_t n, i;
	const struct bav_config_key *k = bav_config_keys(&n);
	char progs[128];

	for (i = 0; i < n; i++) {
		printf("%s\t%s\t", k[i].name, bav_config_type_name(k[i].type));
		put_default(k[i].default_value);
		if (k[i].type == BAV_CONFIG_MODE)
			printf("\t%04llo\t%04llo", k[i].min, k[i].max);
		else if (k[i].type == BAV_CONFIG_STRING ||
			 k[i].type == BAV_CONFIG_PATH ||
			 k[i].type == BAV_CONFIG_BOOL)
			printf("\t-\t-");
		else
			printf("\t%llu\t%llu", k[i].min, k[i].max);
		printf("\t%s\t%s\t%s\n", k[i].choices != NULL ?
		       k[i].choices : "-",
		       bav_config_programs_name(k[i].programs, progs,
						sizeof(progs)),
		       k[i].description);
	}
	return CMD_EX_OK;
}

int cmd_config_main(int argc, char **argv, const char *path)
{
	static const struct option long_opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum show_mode mode = SHOW_ALL;
	const char *sub, *env = getenv("BAV_CONFIG"), *error = NULL;
	struct bav_config *cf = NULL;
	bool expand = false;
	int opt, ret;

	if (argc < 2)
		return config_usage();
	sub = argv[1];
	if (strcmp(sub, "keys") == 0)
		return argc == 2 ? keys() : config_usage();
	if (strcmp(sub, "check") != 0 && strcmp(sub, "show") != 0)
		return config_usage();
	optind = 1;
	while ((opt = getopt_long(argc - 1, argv + 1, "C:dnxh", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'C': path = optarg; break;
		case 'd': mode = SHOW_DEFAULT; break;
		case 'n': mode = SHOW_SET; break;
		case 'x': expand = true; break;
		default: return config_usage();
		}
	}
	if (strcmp(sub, "check") == 0 && optind != argc - 1)
		return config_usage();
	ret = bav_config_load(path, path != NULL ||
			      (env != NULL && env[0] != '\0'), &cf, &error);
	if (strcmp(sub, "check") == 0) {
		ret = ret == BAV_ETEMP ? (print_problems(cf, "config", true),
					  CMD_EX_TEMPFAIL) : check(cf);
	} else if (ret != BAV_OK) {
		print_problems(cf, "config", false);
		ret = ret == BAV_ETEMP ? CMD_EX_TEMPFAIL : CMD_EX_CONFIG;
	} else {
		ret = show(cf, mode, expand, argc - 1 - optind,
			   argv + 1 + optind);
	}
	bav_config_free(&cf);
	return fflush(stdout) == 0 ? ret : CMD_EX_IOERR;
}
