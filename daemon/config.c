/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	config - main.cf of the bav daemons: -C FILE, $BAV_CONFIG or the
 *	default file, loaded before the other options are read
 * SYNOPSIS
 *	#include "bav_daemon.h"
 *
 *	struct bav_config *daemon_config_load(int argc, char **argv,
 *					      const char *optstring,
 *					      const char *name)
 * DESCRIPTION
 *	Shared by bav-milter and bav-policyd. Scans argv with the daemon's
 *	own optstring for -C FILE only (silently, opterr 0) and resets
 *	getopt (optind 1) so that main() reads all options afterwards.
 *	Without -C, $BAV_CONFIG names the file; a file named either way
 *	must exist, the default file may be missing. The values loaded are
 *	the defaults the options override; syslog_facility sets
 *	log_facility here, for both daemons. The caller owns the result and
 *	keeps it for the life of the process. main() only, before threads
 *	(getopt state, stderr).
 * DIAGNOSTICS
 *	A file that cannot be loaded: each further fatal problem as
 *	"name: problem" on stderr (name: the daemon's), then daemon_die() with the first one.
 * SEE ALSO
 *	bav_config(3), bav-milter(8), bav-policyd(8)
 */
#include "config.h"
#include "bav_config.h"
#include "bav_daemon.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct bav_config *daemon_config_load(int argc, char **argv,
				      const char *optstring, const char *name)
{
	const char *path = NULL, *env = getenv("BAV_CONFIG"), *error;
	struct bav_config *cf;
	size_t i;
	int ch, facility;

	opterr = 0;
	while ((ch = getopt(argc, argv, optstring)) != -1)
		if (ch == 'C')
			path = optarg;
	opterr = 1;
	optind = 1;
	if (bav_config_load(path, path != NULL || (env != NULL && *env != '\0'),
			    &cf, &error) != BAV_OK) {
		for (i = 0; i < bav_config_problem_count(cf); i++) {
			bool fatal = false;
			const char *p = bav_config_problem(cf, i, &fatal);

			if (fatal && p != error)
				fprintf(stderr, "%s: %s\n", name, p);
		}
		daemon_die("%s", error);
	}
	if ((facility = log_facility_parse(bav_config_get(cf,
						"syslog_facility"))) >= 0)
		log_facility = facility;
	return cf;
}
