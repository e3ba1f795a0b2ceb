/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav - command line front end of libbav
 * SYNOPSIS
 *	bav classify [options] PATH...|-
 *	bav rules check FILE...
 *	bav score [options]
 *	bav report [options]
 *	bav record|show|unblock|store [options] ...
 *	bav version | --version
 *	bav help | --help
 * DESCRIPTION
 *	Dispatches to the subcommands in cmd_*.c. Each subcommand returns
 *	its exit status; only main() exits. Standard output is fully
 *	buffered (one flush at the end), which matters when a pipe
 *	transport runs one process per message.
 * DIAGNOSTICS
 *	Unknown subcommands print the usage on stderr and exit 64
 *	(EX_USAGE); out of memory exits 75 (EX_TEMPFAIL) so an MTA retries.
 * SEE ALSO
 *	bav(1)
 */
#include "cmd.h"
#include "cmd_store.h"
#include "cmd_config.h"
#include "deliver.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char stdout_buf[65536];

void cmd_usage(FILE *fp)
{
	fputs("usage: bav classify [--json|--tsv|--list] [--rules FILE]..."
	      " [--no-default-rules]\n"
	      "                    [--rid RID] [--header NAME]..."
	      " [--agnuid-secret-file FILE]\n"
	      "                    [--agnuid-licence ID] [--max-size BYTES]"
	      " PATH...|-\n"
	      "       bav rules check FILE...\n"
	      "       bav score [--store URI] [--convert-count N]"
	      " [--convert-days N] [--fade-days N] ...\n"
	      "       bav report [--store URI] [--since WHEN]"
	      " [--format text|csv|json|html] ...\n"
	      "       bav record [--store URI] [--batch N] [--host NAME]"
	      " PATH...|-\n"
	      "       bav show [--store URI] ADDRESS\n"
	      "       bav unblock [--store URI] --reason TEXT ADDRESS\n"
	      "       bav store init|version [--store URI]\n"
	      "       bav deliver -f SENDER [-q QUEUEID] [--spool DIR]"
	      " [--store URI] -- RECIPIENT...\n"
	      "       bav recorder [--once] [--spool DIR] [--store URI]\n"
	      "       bav lmtpd -s unix:PATH|inet:PORT@HOST [--spool DIR]\n"
	      "       bav maps --filter-domain DOMAIN [--store URI]"
	      " [--bav-conf FILE] ...\n"
	      "       bav reclassify [--spool DIR] [--bad] [--requeue]"
	      " [NAME...]\n"
	      "       bav verp make|check --secret-file FILE ...\n"
	      "       bav check spool|store|bounces|milter|policyd|lmtpd"
	      " [-w WARN] [-c CRIT] ...\n"
	      "       bav config check|show [-n] [-C FILE] [KEY...]\n"
	      "       bav version\n"
	      "       bav help\n"
	      "       (bav -C FILE COMMAND ...: another main.cf)\n", fp);
}

static void oom(size_t size)
{
	static const char msg[] = "bav: out of memory\n";

	(void)size;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing left to report with */
	}
	_exit(CMD_EX_TEMPFAIL);
}

int main(int argc, char **argv)
{
	const char *cmd, *config_path = NULL;
	int ret;

	bav_set_oom_hook(oom);
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	if (argc >= 3 && strcmp(argv[1], "-C") == 0) {
		/* bav -C FILE COMMAND ...: drop the option */
		config_path = argv[2];
		argv[2] = argv[0];
		argv += 2;
		argc -= 2;
	}
	if (argc < 2) {
		cmd_usage(stderr);
		return CMD_EX_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "config") == 0)
		return cmd_config_main(argc - 1, argv + 1, config_path);
	/* main.cf: deliver, lmtpd, recorder and check also take their own -C */
	if (strcmp(cmd, "deliver") == 0 || strcmp(cmd, "lmtpd") == 0 ||
	    strcmp(cmd, "recorder") == 0 || strcmp(cmd, "check") == 0) {
		const char *p = cmd_config_scan(argc - 1, argv + 1);

		if (p != NULL)
			config_path = p;
	}
	if ((ret = cmd_config_init(config_path, cmd)) != 0) {
		if (strcmp(cmd, "check") == 0) {	/* the plugin's line */
			printf("BAV CHECK UNKNOWN - main.cf: see "
			       "bav config check\n");
			return 3;
		}
		return ret;
	}
	if (strcmp(cmd, "record") == 0)
		return cmd_record(argc - 1, argv + 1);
	if (strcmp(cmd, "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	if (strcmp(cmd, "unblock") == 0)
		return cmd_unblock(argc - 1, argv + 1);
	if (strcmp(cmd, "store") == 0)
		return cmd_store(argc - 1, argv + 1);
	if (strcmp(cmd, "deliver") == 0)
		return cmd_deliver(argc - 1, argv + 1);
	if (strcmp(cmd, "recorder") == 0)
		return cmd_recorder(argc - 1, argv + 1);
	if (strcmp(cmd, "lmtpd") == 0)
		return cmd_lmtpd(argc - 1, argv + 1);
	if (strcmp(cmd, "maps") == 0)
		return cmd_maps(argc - 1, argv + 1);
	if (strcmp(cmd, "reclassify") == 0)
		return cmd_reclassify(argc - 1, argv + 1);
	if (strcmp(cmd, "verp") == 0)
		return cmd_verp(argc - 1, argv + 1);
	if (strcmp(cmd, "classify") == 0)
		return cmd_classify(argc - 1, argv + 1);
	if (strcmp(cmd, "rules") == 0)
		return cmd_rules(argc - 1, argv + 1);
	if (strcmp(cmd, "score") == 0)
		return cmd_score(argc - 1, argv + 1);
	if (strcmp(cmd, "report") == 0)
		return cmd_report(argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("bav %s\n", BAV_VERSION_STRING);
		return fflush(stdout) == 0 ? CMD_EX_OK : CMD_EX_IOERR;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "-h") == 0) {
		cmd_usage(stdout);
		return CMD_EX_OK;
	}
	fprintf(stderr, "bav: unknown command: %s\n", cmd);
	cmd_usage(stderr);
	return CMD_EX_USAGE;
}
