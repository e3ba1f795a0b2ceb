/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	storeargs - store and argument helpers of "bav score" and
 *	"bav report"
 * SYNOPSIS
 *	#include "storeargs.h"
 *
 *	int cmd_store_open(const char *uri, const char *cmd, bool migrate,
 *			   struct bav_store **store_r)
 *	int cmd_store_exit(int err)
 *	int cmd_parse_time(const char *s, long long now, long long *t_r)
 *	int cmd_parse_uint(const char *s, unsigned int max,
 *			   unsigned int *v_r)
 * DESCRIPTION
 *	cmd_store_open() opens the store named by uri or, when uri is
 *	NULL, by $BAV_STORE, and prints the reason to stderr on failure.
 *	Times are UTC: YYYY-MM-DD is midnight, YYYY-MM-DDTHH:MM[:SS] or
 *	"YYYY-MM-DD HH:MM[:SS]" that moment, @N and a plain N are unix
 *	seconds, Nd is midnight N days before now.
 * DIAGNOSTICS
 *	cmd_store_open() returns 0 or an exit status (64 no store given,
 *	75 temporary, 78 configuration, 70 other); the parsers 0 or -1.
 * SEE ALSO
 *	bav_store.h
 */
#include "cmd.h"
#include "storeargs.h"
#include "cmd_config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cmd_store_exit(int err)
{
	switch (err) {
	case BAV_OK: return CMD_EX_OK;
	case BAV_ETEMP: return CMD_EX_TEMPFAIL;
	case BAV_ECONFIG: return CMD_EX_CONFIG;
	default: return CMD_EX_SOFTWARE;
	}
}

int cmd_store_open(const char *uri, const char *cmd, bool migrate,
		   struct bav_store **store_r)
{
	struct bav_store_opts opts = { .migrate = migrate };
	char *error = NULL;
	int ret;

	if (uri == NULL)
		uri = getenv("BAV_STORE");
	if (uri == NULL || uri[0] == '\0') {
		fprintf(stderr, "bav %s: no store: use --store URI or set "
			"BAV_STORE\n", cmd);
		return CMD_EX_USAGE;
	}
	if ((ret = cmd_config_store_opts(uri, &opts, cmd)) != 0)
		return ret;
	ret = bav_store_open(uri, &opts, store_r, &error);
	if (ret < 0) {
		fprintf(stderr, "bav %s: %s\n", cmd,
			error != NULL ? error : "cannot open the store");
		free(error);
		return cmd_store_exit(ret);
	}
	return 0;
}

int cmd_parse_uint(const char *s, unsigned int max, unsigned int *v_r)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > max)
		return -1;
	*v_r = (unsigned int)v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static long long days_from_civil(long long y, unsigned int m, unsigned int d)
{
	long long era;
	unsigned int yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned int)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static int parse_date(const char *s, long long *t_r)
{
	unsigned int y, mo, d, h = 0, mi = 0, sec = 0;
	int n = 0, k;

	if (sscanf(s, "%4u-%2u-%2u%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	if (s[n] == 'T' || s[n] == ' ') {
		k = 0;
		if (sscanf(s + n + 1, "%2u:%2u%n", &h, &mi, &k) != 2)
			return -1;
		n += 1 + k;
		if (s[n] == ':') {
			k = 0;
			if (sscanf(s + n + 1, "%2u%n", &sec, &k) != 1)
				return -1;
			n += 1 + k;
		}
		if (s[n] == 'Z')
			n++;
	}
	if (s[n] != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	*t_r = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

int cmd_parse_time(const char *s, long long now, long long *t_r)
{
	const char *p = s[0] == '@' ? s + 1 : s;
	char *end;
	long long v;

	if (parse_date(s, t_r) == 0)
		return 0;
	if (!isdigit((unsigned char)*p))
		return -1;
	v = strtoll(p, &end, 10);
	if (*end == 'd' && end[1] == '\0' && p == s) {
		*t_r = (now / 86400 - v) * 86400;
		return 0;
	}
	if (*end != '\0')
		return -1;
	*t_r = v;
	return 0;
}
