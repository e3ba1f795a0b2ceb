/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cmd_verp - "bav verp": make and check signed VERP return paths
 * SYNOPSIS
 *	bav verp make --secret-file FILE --domain MAILLOOP-DOMAIN
 *		[--prefix PREFIX] [--time EPOCH] RECIPIENT...
 *	bav verp check --secret-file FILE [--max-age DAYS] [--time EPOCH]
 *		ADDRESS...
 *
 *	int cmd_verp(int argc, char **argv)
 * DESCRIPTION
 *	make prints, per recipient, the envelope sender a sender uses for
 *	mail to it (format in bav_verp.h; PREFIX defaults to "bounces"):
 *	  bounces+jane.doe=example.org.20412.k3x7q2m4ab@mailloop.example.com
 *	check prints "ADDRESS<TAB>RECIPIENT" for a valid one, else
 *	"ADDRESS<TAB>-<TAB>why". The key file's first line is the secret,
 *	the same one bav deliver and bav lmtpd get with --verp-secret-file;
 *	without --secret-file, verp_secret of main.cf's secrets file;
 *	--max-age defaults to main.cf's verp_max_age.
 * DIAGNOSTICS
 *	Exit 0 all made / all valid; 1 some recipient is not an address or
 *	some address is not a valid VERP; 64 usage; 78 unreadable key file.
 * SEE ALSO
 *	bav_verp.h, bav-deliver(8)
 */
#include "deliver.h"
#include "storeargs.h"
#include "cmd_config.h"
#include "bav_verp.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_SECRET = 400, OPT_DOMAIN, OPT_PREFIX, OPT_TIME, OPT_MAXAGE };

static const struct option long_opts[] = {
	{ "secret-file", required_argument, NULL, OPT_SECRET },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "prefix", required_argument, NULL, OPT_PREFIX },
	{ "time", required_argument, NULL, OPT_TIME },
	{ "max-age", required_argument, NULL, OPT_MAXAGE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int verp_usage(void)
{
	fputs("usage: bav verp make --secret-file FILE --domain DOMAIN"
	      " [--prefix PREFIX] [--time EPOCH] RECIPIENT...\n"
	      "       bav verp check --secret-file FILE [--max-age DAYS]"
	      " [--time EPOCH] ADDRESS...\n", stderr);
	return CMD_EX_USAGE;
}

int cmd_verp(int argc, char **argv)
{
	const char *domain = NULL, *prefix = "bounces", *error = NULL;
	char *secret = NULL, buf[1024];
	unsigned int max_age = (unsigned int)	/* main.cf: verp_max_age */
		(bav_config_get_number(cmd_config(), "verp_max_age") / 86400);
	long long t = (long long)time(NULL);
	bool make;
	int opt, i, ret = CMD_EX_OK;

	if (argc < 2 || (strcmp(argv[1], "make") != 0 &&
			 strcmp(argv[1], "check") != 0))
		return verp_usage();
	make = strcmp(argv[1], "make") == 0;
	argc--;
	argv++;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_SECRET:
			free(secret);
			if ((secret = deliver_read_secret(optarg, "verp")) ==
			    NULL)
				return CMD_EX_CONFIG;
			break;
		case OPT_DOMAIN: domain = optarg; break;
		case OPT_PREFIX: prefix = optarg; break;
		case OPT_TIME:
			if (cmd_parse_time(optarg, t, &t) < 0) {
				free(secret);
				return verp_usage();
			}
			break;
		case OPT_MAXAGE:
			if (cmd_parse_uint(optarg, 3650, &max_age) < 0) {
				free(secret);
				return verp_usage();
			}
			break;
		default:
			free(secret);
			return verp_usage();
		}
	}
	if (secret == NULL) {	/* verp_secret of main.cf's secrets file */
		bool bad = false;
		const char *v = cmd_config_secret("verp_secret", "verp", &bad);

		if (bad)
			return CMD_EX_CONFIG;
		if (v != NULL && (secret = strdup(v)) == NULL)
			abort();
	}
	if (secret == NULL || optind >= argc || (make && domain == NULL)) {
		free(secret);
		return verp_usage();
	}
	for (i = optind; i < argc; i++) {
		if (make) {
			if (bav_verp_make(prefix, argv[i], domain, secret,
					  (time_t)t, buf, sizeof(buf)) < 0) {
				fprintf(stderr, "bav verp: not an address: "
					"%s\n", argv[i]);
				ret = CMD_EX_FAIL;
				continue;
			}
			printf("%s\n", buf);
		} else {
			int r = bav_verp_check(argv[i], secret, (time_t)t,
					       max_age, buf, sizeof(buf),
					       &error);

			if (r == 1) {
				printf("%s\t%s\n", argv[i], buf);
			} else {
				printf("%s\t-\t%s\n", argv[i], r == 0 ?
				       "not a VERP address" : error);
				ret = CMD_EX_FAIL;
			}
		}
	}
	free(secret);
	if (fflush(stdout) != 0)
		ret = CMD_EX_IOERR;
	return ret;
}
