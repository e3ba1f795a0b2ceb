/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cmd_rules - the "bav rules check" subcommand
 * SYNOPSIS
 *	bav rules check FILE...
 *
 *	int cmd_rules(int argc, char **argv)
 * DESCRIPTION
 *	Lints each rule file with bav_rules_check(): every problem is
 *	printed to stderr as "file:line: why", a clean file as "FILE: ok"
 *	on stdout. All files are checked even after a problem.
 * DIAGNOSTICS
 *	Exit status: 0 all files clean; 1 some file has problems; 64 usage;
 *	66 some file could not be read (wins over 1).
 * SEE ALSO
 *	bav(1), bav_rules_check() in bav.h
 */
#include "cmd.h"

#include <string.h>

static void report(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

int cmd_rules(int argc, char **argv)
{
	bool problems = false, unreadable = false;
	int i, n;

	if (argc < 2 || strcmp(argv[1], "check") != 0 || argc < 3) {
		cmd_usage(stderr);
		return CMD_EX_USAGE;
	}
	for (i = 2; i < argc; i++) {
		n = bav_rules_check(argv[i], report, NULL);
		if (n < 0)
			unreadable = true;
		else if (n > 0)
			problems = true;
		else
			printf("%s: ok\n", argv[i]);
	}
	if (fflush(stdout) != 0)
		return CMD_EX_IOERR;
	return unreadable ? CMD_EX_NOINPUT : problems ? CMD_EX_FAIL : CMD_EX_OK;
}
