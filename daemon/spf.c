/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	spf - the libspf2 server of the bav daemons, on real DNS or on a
 *	stub zone file (only built with libspf2)
 * SYNOPSIS
 *	#include "config.h"
 *	#include "bav_daemon.h"
 *
 *	int daemon_spf_init(struct daemon_spf *spf, const char *zone_path,
 *			    char **error_r)
 *	void daemon_spf_deinit(struct daemon_spf *spf)
 * DESCRIPTION
 *	Shared by bav-milter (-S, -Z) and bav-policyd (-F, -Z).
 *	daemon_spf_init() creates spf->server: with zone_path NULL on the
 *	system resolver with libspf2's DNS cache, else on a stub zone
 *	(spf->zone) read from zone_path, lines of
 *
 *	    NAME TYPE DATA
 *
 *	with TYPE one of TXT A AAAA MX PTR (case-insensitive), blank lines
 *	and "#" comments skipped; every other name does not exist. The
 *	tests use it instead of DNS. The caller owns both objects and
 *	frees them with daemon_spf_deinit(), which also works on a
 *	half-made or zeroed struct and zeroes it. The server itself is
 *	used as libspf2 allows (bav-milter shares it between its threads,
 *	bav-policyd gives it to one worker thread).
 * DIAGNOSTICS
 *	daemon_spf_init() returns 0, or -1 and *error_r (malloc'ed, free()
 *	it): "PATH:LINE: why" for the zone file (line 0: the file cannot
 *	be opened), or why libspf2 failed. Never exits.
 * SEE ALSO
 *	RFC 7208, libspf2's SPF_dns_zone_add_str()
 */
#include "config.h"
#include "bav_private.h"
#include "bav_daemon.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>

/* "path:line: why" (malloc'ed) */
static char *error_at(const char *path, unsigned int line, const char *why)
{
	struct bav_buf e = { 0 };

	bav_buf_printf(&e, "%s:%u: %s", path, line, why);
	return bav_buf_steal(&e);
}

static int zone_load(SPF_dns_server_t *zone, const char *path,
		     char **error_r)
{
	static const struct { const char *name; ns_type type; } types[] = {
		{ "TXT", ns_t_txt }, { "A", ns_t_a }, { "AAAA", ns_t_aaaa },
		{ "MX", ns_t_mx }, { "PTR", ns_t_ptr },
	};
	FILE *f = fopen(path, "r");
	char line[4096];
	unsigned int n = 0;

	if (f == NULL) {
		*error_r = error_at(path, 0, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *name, *type, *data;
		size_t i, k;

		n++;
		line[strcspn(line, "\r\n")] = '\0';
		name = line + strspn(line, " \t");
		if (*name == '\0' || *name == '#')
			continue;
		k = strcspn(name, " \t");
		type = name + k + strspn(name + k, " \t");
		name[k] = '\0';
		k = strcspn(type, " \t");
		data = type + k + strspn(type + k, " \t");
		type[k] = '\0';
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(type, types[i].name) == 0)
				break;
		if (*data == '\0' || i == sizeof(types) / sizeof(types[0]) ||
		    SPF_dns_zone_add_str(zone, name, types[i].type,
					 NETDB_SUCCESS, data) != SPF_E_SUCCESS) {
			*error_r = error_at(path, n, "expected NAME "
					    "TXT|A|AAAA|MX|PTR DATA");
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

int daemon_spf_init(struct daemon_spf *spf, const char *zone_path,
		    char **error_r)
{
	spf->server = NULL;
	spf->zone = NULL;
	if (zone_path != NULL) {
		spf->zone = SPF_dns_zone_new(NULL, "stub", 0);
		if (spf->zone == NULL) {
			*error_r = bav_xstrdup("libspf2: cannot create the "
					       "stub zone");
			return -1;
		}
		if (zone_load(spf->zone, zone_path, error_r) < 0)
			return -1;
		spf->server = SPF_server_new_dns(spf->zone, 0);
	} else {
		spf->server = SPF_server_new(SPF_DNS_CACHE, 0);
	}
	if (spf->server == NULL) {
		*error_r = bav_xstrdup("libspf2: cannot create the SPF server");
		return -1;
	}
	return 0;
}

void daemon_spf_deinit(struct daemon_spf *spf)
{
	if (spf->server != NULL)
		SPF_server_free(spf->server);
	spf->server = NULL;
	/* the server does not own the zone */
	if (spf->zone != NULL)
		SPF_dns_free(spf->zone);
	spf->zone = NULL;
}
