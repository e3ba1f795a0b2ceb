/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cmd_maps - "bav maps": Postfix relay_domains, transport_maps and the
 *	bav.conf address table from the store's filter table
 * SYNOPSIS
 *	bav maps --filter-domain DOMAIN [--store URI] [--password-file FILE]
 *		[--fqdn NAME] [--domain DOMAIN]... [--bav-conf FILE]
 *		[--relay-domains FILE] [--transport FILE]
 *		[--transport-name NAME] [--map-type TYPE] [--postmap PATH]
 *		[--dry-run]
 *	bav maps --emm STORE-URI ...	(OpenEMM's tables: cmd_maps_emm.c)
 *
 *	int cmd_maps(int argc, char **argv)
 * DESCRIPTION
 *	Reads bav_mailloop (OpenEMM's mailloop_tbl) and writes, in OpenEMM's
 *	formats (emm-mailloop-spec sections 3.4, 4.2 and 4.3):
 *	  bav.conf	"@FQDN accept:rid=local", "fbl@FILTER accept:rid=fbl"
 *			and an fbl@ alias per other managed domain; per
 *			filter (by rid) aml_RID@ and reply_RID@ of the filter
 *			domain with accept:rid=RID,cid=..,fwd=..,spam_email=..,
 *			spam_fwd=..,spam_req=..,ar=..,armid=..,sub=.. (values
 *			with "%" and "," escaped as %25 and %2C; reject or
 *			tempfail instead when address_action says so), alias
 *			lines for the other domains and for each filter_address
 *			(aml_N@ / reply_N@ / fbl@ / addresses without "@" are
 *			skipped, an address used twice is refused);
 *	  relay_domains	"DOMAIN<TAB>dummy" per managed domain;
 *	  transport	"DOMAIN<TAB>NAME" (default "bav:").
 *	Without --bav-conf, bav.conf is written to main.cf's address_table
 *	when main.cf sets address_table or data_directory (else not at all).
 *	Managed domains: the filter domain, the domains of the filter
 *	addresses and every --domain. The autoresponder counts as active
 *	only with ar_enable, a mailing id and a security token.
 *
 *	Each file is written only when its content changed: to FILE.tmp,
 *	fsync'ed, renamed over FILE; then "postmap TYPE:FILE" (run without a
 *	shell) when --map-type is given, also when the map file is missing.
 *	Everything is read from the store before anything is written: when
 *	the database fails, every file keeps its old content (never a
 *	shrunken table).
 * DIAGNOSTICS
 *	"bav maps: ..." on stderr, a line per refused filter address.
 *	Exit 0 (files up to date); 64 usage; 73 a file can't be written;
 *	75 the store is unavailable (files unchanged); 78 configuration;
 *	1 postmap failed.
 * SEE ALSO
 *	bav-deliver(8), postmap(1), transport(5)
 */
#include "deliver.h"
#include "cmd_store.h"
#include "cmd_emm.h"
#include "cmd_config.h"
#include "maps_common.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct maps {
	const char *store_uri, *password_file, *filter, *fqdn;
	struct maps_output out;
	struct maps_list domains;		/* managed, lower-case */
	struct maps_list used;		/* filter addresses, lower-case */
	struct maps_list lines;		/* bav.conf */
	struct maps_list rows;		/* per filter: "\x1f"-joined columns */
};

/* A domain as OpenEMM accepts it: labels of [0-9a-z_+-], one dot at
   least, not starting with - _ +. Lower-cases d in place. */
static bool valid_domain(char *d)
{
	bool dot = false, start = true;
	char *p;

	for (p = d; *p != '\0'; p++) {
		*p = (char)tolower((unsigned char)*p);
		if (*p == '.') {
			if (start)
				return false;
			dot = true;
			start = true;
		} else if (isalnum((unsigned char)*p) ||
			   (!start && (*p == '_' || *p == '+' || *p == '-'))) {
			start = false;
		} else {
			return false;
		}
	}
	return dot && !start;
}

static void add_domain(struct maps *m, const char *d)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", d);
	if (valid_domain(buf) && maps_list_find(&m->domains, buf) < 0)
		maps_list_add(&m->domains, buf);
}

/* ---- reading the store ---------------------------------------------------- */

#define NCOLS 15
static const char filter_sql[] =
	"SELECT rid, company_id, filter_address, address_action,"
	" forward_enable, forward, ar_enable, autoresponder_mailing_id,"
	" security_token, subscribe_enable, mailinglist_id, form_id,"
	" spam_email, spam_forward, spam_required"
	" FROM bav_mailloop ORDER BY rid";

static int row_cb(void *ctx, const struct bav_store_value *v,
		  const char *const *names, unsigned int n)
{
	struct maps *m = ctx;
	char row[8192] = "";
	size_t len = 0;
	unsigned int i;

	(void)names;
	for (i = 0; i < n && i < NCOLS; i++)
		len += (size_t)snprintf(row + len, sizeof(row) - len, "%s%s",
					i > 0 ? "\x1f" : "",
					v[i].s != NULL ? v[i].s : "");
	maps_list_add(&m->rows, row);
	return 0;
}

static int read_store(struct maps *m)
{
	struct bav_store *store = NULL;
	const char *error = NULL;
	int ret;

	if ((ret = store_cmd_open(m->store_uri, m->password_file, false,
				  &store)) != 0)
		return ret;
	ret = bav_store_exec(store, filter_sql, NULL, 0, row_cb, m, &error);
	if (ret != BAV_OK) {
		fprintf(stderr, "bav maps: %s; files left unchanged\n", error);
		maps_list_free(&m->rows);
		ret = store_cmd_exit(ret);
	}
	bav_store_close(&store);
	return ret;
}

/* ---- building ------------------------------------------------------------- */

/* Split a row back into its columns (in place). */
static void split_row(char *row, const char *col[NCOLS])
{
	unsigned int i;

	for (i = 0; i < NCOLS; i++) {
		col[i] = row;
		row = strchr(row, '\x1f');
		if (row != NULL)
			*row++ = '\0';
		else
			row = (char *)"";
	}
}

/* Pass 1: the domains of the filter addresses. */
static void collect_domains(struct maps *m)
{
	size_t r;

	for (r = 0; r < m->rows.n; r++) {
		char *row = strdup(m->rows.v[r]), *tok, *save = NULL;
		const char *col[NCOLS];

		if (row == NULL)
			abort();
		split_row(row, col);
		for (tok = strtok_r((char *)col[2], ", \t", &save); tok != NULL;
		     tok = strtok_r(NULL, ", \t", &save)) {
			const char *at = strchr(tok, '@');

			if (at != NULL && !maps_aml_or_reply(tok))
				add_domain(m, at + 1);
		}
		free(row);
	}
}

static void filter_lines(struct maps *m, const char *col[NCOLS])
{
	char opts[4096] = "", line[4600], value[4200], key[512];
	const char *rid = col[0], *action = col[3];
	char *addrs, *tok, *save = NULL;
	size_t i;

	maps_opt(opts, sizeof(opts), "rid", rid);
	if (strcmp(col[1], "0") != 0)
		maps_opt(opts, sizeof(opts), "cid", col[1]);
	if (atoi(col[4]) != 0)
		maps_opt(opts, sizeof(opts), "fwd", col[5]);
	maps_opt(opts, sizeof(opts), "spam_email", col[12]);
	maps_opt(opts, sizeof(opts), "spam_fwd", col[13]);
	maps_opt(opts, sizeof(opts), "spam_req", col[14]);
	if (atoi(col[6]) != 0 && col[7][0] != '\0' && col[8][0] != '\0') {
		maps_opt(opts, sizeof(opts), "ar", rid);
		maps_opt(opts, sizeof(opts), "armid", col[7]);
	} else if (atoi(col[6]) != 0) {
		fprintf(stderr, "bav maps: filter %s: autoresponder needs a "
			"mailing id and a security token, disabled\n", rid);
	}
	if (atoi(col[9]) != 0 && atoi(col[10]) != 0 && atoi(col[11]) != 0) {
		char sub[64];

		snprintf(sub, sizeof(sub), "%s:%s", col[10], col[11]);
		maps_opt(opts, sizeof(opts), "sub", sub);
	}
	if (strcmp(action, "reject") == 0 || strcmp(action, "tempfail") == 0)
		snprintf(value, sizeof(value), "%s", action);
	else
		snprintf(value, sizeof(value), "accept:%s", opts);
	snprintf(line, sizeof(line), "aml_%s@%s\t%s", rid, m->filter, value);
	maps_list_add(&m->lines, line);
	snprintf(line, sizeof(line), "reply_%s@%s\t%s", rid, m->filter, value);
	maps_list_add(&m->lines, line);
	for (i = 0; i < m->domains.n; i++) {
		if (strcmp(m->domains.v[i], m->filter) == 0)
			continue;
		snprintf(line, sizeof(line), "aml_%s@%s\talias:aml_%s@%s", rid,
			 m->domains.v[i], rid, m->filter);
		maps_list_add(&m->lines, line);
		snprintf(line, sizeof(line), "reply_%s@%s\talias:reply_%s@%s",
			 rid, m->domains.v[i], rid, m->filter);
		maps_list_add(&m->lines, line);
	}
	if ((addrs = strdup(col[2])) == NULL)
		abort();
	for (tok = strtok_r(addrs, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (strchr(tok, '@') == NULL || maps_aml_or_reply(tok))
			continue;
		snprintf(key, sizeof(key), "%s", tok);
		for (i = 0; key[i] != '\0'; i++)
			key[i] = (char)tolower((unsigned char)key[i]);
		if (strncmp(key, "fbl@", 4) == 0 ||
		    maps_list_find(&m->used, key) >= 0) {
			fprintf(stderr, "bav maps: filter %s: address %s %s, "
				"skipped\n", rid, tok, strncmp(key, "fbl@", 4)
				== 0 ? "is reserved" : "is used twice");
			continue;
		}
		maps_list_add(&m->used, key);
		snprintf(line, sizeof(line), "%s\talias:aml_%s@%s", tok, rid,
			 m->filter);
		maps_list_add(&m->lines, line);
	}
	free(addrs);
}

static void build(struct maps *m)
{
	char line[1024];
	size_t r, i;

	add_domain(m, m->filter);
	collect_domains(m);
	maps_list_sort(&m->domains);
	if (m->fqdn != NULL && *m->fqdn != '\0') {
		snprintf(line, sizeof(line), "@%s\taccept:rid=local", m->fqdn);
		maps_list_add(&m->lines, line);
	}
	snprintf(line, sizeof(line), "fbl@%s\taccept:rid=fbl", m->filter);
	maps_list_add(&m->lines, line);
	for (i = 0; i < m->domains.n; i++) {
		if (strcmp(m->domains.v[i], m->filter) == 0)
			continue;
		snprintf(line, sizeof(line), "fbl@%s\talias:fbl@%s",
			 m->domains.v[i], m->filter);
		maps_list_add(&m->lines, line);
	}
	for (r = 0; r < m->rows.n; r++) {
		char *row = strdup(m->rows.v[r]);
		const char *col[NCOLS];

		if (row == NULL)
			abort();
		split_row(row, col);
		filter_lines(m, col);
		free(row);
	}
}

/* ---- writing -------------------------------------------------------------- */

/* Write one file (and its map); returns an exit status. */
static int output(const struct maps *m, const char *path, const char *text,
		  bool is_map)
{
	return cmd_maps_write_file(path, text,
				   is_map ? m->out.map_type : NULL,
				   m->out.postmap, m->out.dry_run);
}

static int write_files(struct maps *m)
{
	struct maps_list relay = { NULL, 0, 0 }, transport = { NULL, 0, 0 };
	char line[512], *text;
	size_t i;
	int ret = 0, r;

	for (i = 0; i < m->domains.n; i++) {
		snprintf(line, sizeof(line), "%s\tdummy", m->domains.v[i]);
		maps_list_add(&relay, line);
		snprintf(line, sizeof(line), "%s\t%s", m->domains.v[i],
			 m->out.transport_name);
		maps_list_add(&transport, line);
	}
	text = maps_list_join(&m->lines);
	r = output(m, m->out.bav_conf, text, false);
	ret = ret == 0 ? r : ret;
	free(text);
	text = maps_list_join(&relay);
	r = output(m, m->out.relay, text, true);
	ret = ret == 0 ? r : ret;
	free(text);
	text = maps_list_join(&transport);
	r = output(m, m->out.transport, text, true);
	ret = ret == 0 ? r : ret;
	free(text);
	maps_list_free(&relay);
	maps_list_free(&transport);
	return ret;
}

enum { OPT_FILTER = 400, OPT_FQDN, OPT_DOMAIN, OPT_PWFILE };

static const struct option long_opts[] = {
	{ "store", required_argument, NULL, 's' },
	{ "password-file", required_argument, NULL, OPT_PWFILE },
	{ "filter-domain", required_argument, NULL, OPT_FILTER },
	{ "fqdn", required_argument, NULL, OPT_FQDN },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	MAPS_OUTPUT_OPTIONS,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int maps_usage(void)
{
	fputs("usage: bav maps --filter-domain DOMAIN [--store URI]"
	      " [--password-file FILE] [--fqdn NAME]\n"
	      "                [--domain DOMAIN]... [--bav-conf FILE]"
	      " [--relay-domains FILE] [--transport FILE]\n"
	      "                [--transport-name NAME] [--map-type TYPE]"
	      " [--postmap PATH] [--dry-run]\n", stderr);
	return CMD_EX_USAGE;
}

int cmd_maps(int argc, char **argv)
{
	struct maps m;
	char filter[256];
	int opt_c, ret;

	for (opt_c = 1; opt_c < argc; opt_c++)
		if (strncmp(argv[opt_c], "--emm", 5) == 0 &&
		    (argv[opt_c][5] == '\0' || argv[opt_c][5] == '='))
			return cmd_maps_emm(argc, argv);
	memset(&m, 0, sizeof(m));
	m.out.transport_name = "bav:";
	m.out.postmap = "/usr/sbin/postmap";
	optind = 1;
	while ((opt_c = getopt_long(argc, argv, "s:h", long_opts,
				    NULL)) != -1) {
		switch (opt_c) {
		case 's': m.store_uri = optarg; break;
		case OPT_PWFILE: m.password_file = optarg; break;
		case OPT_FILTER: m.filter = optarg; break;
		case OPT_FQDN: m.fqdn = optarg; break;
		case OPT_DOMAIN: add_domain(&m, optarg); break;
		default:
			if (maps_output_option(&m.out, opt_c, optarg))
				break;
			maps_list_free(&m.domains);
			return maps_usage();
		}
	}
	if (m.filter == NULL || optind != argc) {
		maps_list_free(&m.domains);
		return maps_usage();
	}
	/* main.cf's address_table when main.cf sets it (or data_directory):
	   the built-in default path is not written unasked */
	if (m.out.bav_conf == NULL &&
	    (bav_config_is_set(cmd_config(), "address_table") ||
	     bav_config_is_set(cmd_config(), "data_directory")))
		m.out.bav_conf = cmd_config_str("address_table");
	snprintf(filter, sizeof(filter), "%s", m.filter);
	if (!valid_domain(filter)) {
		fprintf(stderr, "bav maps: bad filter domain: %s\n", m.filter);
		maps_list_free(&m.domains);
		return CMD_EX_USAGE;
	}
	m.filter = filter;
	ret = read_store(&m);
	if (ret == 0) {
		build(&m);
		ret = write_files(&m);
	}
	maps_list_free(&m.domains);
	maps_list_free(&m.used);
	maps_list_free(&m.lines);
	maps_list_free(&m.rows);
	return ret;
}
