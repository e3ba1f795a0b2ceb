/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cmd_unblock - the "bav unblock" subcommand
 * SYNOPSIS
 *	bav unblock [--store URI] [--password-file FILE] --reason TEXT
 *		[--actor NAME] ADDRESS
 *
 *	int cmd_unblock(int argc, char **argv)
 * DESCRIPTION
 *	Sets ADDRESS back to active (clearing its soft-bounce count) and
 *	keeps who did it, when, the old state and the reason in the
 *	bav_audit table (see bav show). The actor defaults to $SUDO_USER,
 *	else $USER, else the user id.
 * DIAGNOSTICS
 *	Exit 0 unblocked; 1 the address is unknown or already active
 *	(nothing changed, said on stderr); 64 usage (no --reason); 75
 *	temporary store failure; 78 configuration.
 * SEE ALSO
 *	bav(1), bav-store(7)
 */
#include "cmd_store.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct option long_opts[] = {
	{ "store", required_argument, NULL, 's' },
	{ "password-file", required_argument, NULL, 'p' },
	{ "reason", required_argument, NULL, 'm' },
	{ "actor", required_argument, NULL, 'a' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_unblock(int argc, char **argv)
{
	const char *uri = NULL, *pwfile = NULL, *reason = NULL, *actor = NULL;
	const char *error;
	struct bav_store *store;
	char uidbuf[32];
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:p:m:a:h", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 's': uri = optarg; break;
		case 'p': pwfile = optarg; break;
		case 'm': reason = optarg; break;
		case 'a': actor = optarg; break;
		case 'h': cmd_usage(stdout); return CMD_EX_OK;
		default: cmd_usage(stderr); return CMD_EX_USAGE;
		}
	}
	if (optind + 1 != argc || reason == NULL || *reason == '\0') {
		fprintf(stderr, "bav: unblock needs one ADDRESS and "
			"--reason TEXT (kept for the audit)\n");
		return CMD_EX_USAGE;
	}
	if (actor == NULL)
		actor = getenv("SUDO_USER");
	if (actor == NULL)
		actor = getenv("USER");
	if (actor == NULL) {
		snprintf(uidbuf, sizeof(uidbuf), "uid %lu",
			 (unsigned long)getuid());
		actor = uidbuf;
	}
	if ((ret = store_cmd_open(uri, pwfile, false, &store)) != 0)
		return ret;
	ret = bav_store_unblock(store, argv[optind], reason, actor,
				time(NULL), &error);
	if (ret < 0) {
		fprintf(stderr, "bav: unblock: %s\n", error);
		ret = store_cmd_exit(ret);
	} else if (ret == 1) {
		fprintf(stderr, "bav: unblock: %s is not blocked\n",
			argv[optind]);
		ret = CMD_EX_FAIL;
	} else {
		printf("%s: active (%s)\n", argv[optind], reason);
	}
	bav_store_close(&store);
	return ret;
}
