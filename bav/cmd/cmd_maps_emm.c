/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cmd_maps_emm - "bav maps --emm": bav.conf, relay domains and the
 *	transport map from OpenEMM's company_tbl and mailloop_tbl, as
 *	bav-update does, without its degraded table
 * SYNOPSIS
 *	bav maps --emm STORE-URI [--password-file FILE] [--filter-name NAME]
 *		[--fqdn NAME] [--bav-conf FILE] [--relay-domains FILE]
 *		[--transport FILE] [--transport-name NAME] [--map-type TYPE]
 *		[--postmap PATH] [--dry-run]
 *
 *	int cmd_maps_emm(int argc, char **argv)
 * DESCRIPTION
 *	Reads, in one transaction of the EMM database named by STORE-URI
 *	(opened without bav's schema check), company_tbl (company_id,
 *	status, mailloop_domain) and the mailloop_tbl rows of active
 *	companies, and writes what bav-update writes (emm-mailloop spec
 *	sections 3.4, 4.2, 4.3):
 *	  bav.conf	"@FQDN accept:rid=local"; "fbl@FILTER accept:rid=fbl"
 *			and "fbl@D alias:fbl@FILTER" per other managed
 *			domain; per filter (by rid) aml_RID@ and reply_RID@
 *			FILTER "accept:rid=..,cid=..,fwd=..,spam_email=..,
 *			spam_fwd=..,spam_req=..,ar=..,armid=..,sub=L:F"
 *			(",", "%" escaped), alias lines of both for the
 *			filter's other domains (its filter addresses' domains,
 *			then its company's mailloop domain) and one alias line
 *			per filter address;
 *	  relay domains	"DOMAIN<TAB>dummy" per managed domain;
 *	  transport	"DOMAIN<TAB>mailloop:" (--transport-name) per managed
 *			domain; entries of the old file keep their value,
 *			entries of domains no longer managed are removed.
 *	The filter domain is --filter-name, or (when it is "localhost" or
 *	not given) company 1's mailloop_domain. Managed domains: the filter
 *	domain, the mailloop domains of the active companies and the
 *	domains of accepted filter addresses, less a filter address domain
 *	that is also a forward target and was not managed before (spec
 *	4.3 step 5). A filter address is skipped when it is an aml_N@ or
 *	reply_N@ address or has no "@", refused (warning) when its local
 *	part is fbl, its domain is not a valid domain, or another filter
 *	already uses it. The autoresponder counts only with ar_enable, a
 *	mailing id and a security token.
 *
 *	Fixed against bav-update (spec 4.3 "Errors", 8.4 item 2): every
 *	row is read before anything is written, and a database error
 *	(server gone, query failed) writes nothing: every file keeps its
 *	old content and the exit status says why. The new bav.conf is
 *	loaded by the milter's own parser (bav_addrtable_load_mem) before
 *	it replaces the old one. Files are written only when changed, to a
 *	temporary file that is fsync'ed and renamed (cmd_maps_write_file);
 *	the transport map first, then relay domains, then bav.conf, so a
 *	new domain is routed to the mailloop before Postfix accepts it.
 *	One run gives the table bav-update reaches after its second cycle
 *	(the new domains are managed at once). spam_forward is an integer
 *	column and is written as such; a multi-address forward is checked
 *	address by address against the managed domains.
 * DIAGNOSTICS
 *	"bav maps: ..." on stderr, one warning per refused filter address
 *	or autoresponder. Exit 0 (files up to date); 64 usage; 73 a file
 *	can't be written; 75 the database is unavailable (files unchanged);
 *	78 configuration (no filter domain, bad URI, a generated table the
 *	parser refuses); 1 postmap failed.
 * SEE ALSO
 *	cmd_maps.c, bav_addrtable.h, bav(1), bav-emm(7), postmap(1)
 */
#include "cmd.h"
#include "cmd_store.h"
#include "cmd_emm.h"
#include "maps_common.h"
#include "bav_addrtable.h"

#include <ctype.h>
#include <getopt.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* One mailloop_tbl row; columns as text ("" for NULL). */
enum { F_RID, F_CID, F_ADDR, F_FWD_EN, F_FWD, F_AR_EN, F_AR_MID, F_TOKEN,
       F_SUB_EN, F_LIST, F_FORM, F_SPAM_EMAIL, F_SPAM_FWD, F_SPAM_REQ,
       F_NCOLS };

struct filter {
	char *col[F_NCOLS];
	struct maps_list aliases;		/* accepted filter addresses */
	struct maps_list domains;		/* their domains, lower-case */
	const char *company_domain;	/* valid, lower-case, or NULL */
};

struct emm_maps {
	const char *uri, *password_file, *filter_name, *fqdn;
	struct maps_output out;
	char filter[256];
	char *company1_domain;
	struct maps_list company_ids, company_domains; /* active, parallel */
	struct filter *filters;
	size_t nfilters, afilters;
	struct maps_list old_relay, old_relay_val, old_tr, old_tr_val;
	struct maps_list mine, fwd_domains, managed, used, lines;
};

/* OpenEMM's valid domain, ^[0-9a-z][0-9a-z_+-]*(\.[0-9a-z][0-9a-z_+-]*)+$
   case-insensitively; copies it lower-cased (and trimmed) into buf. */
static bool emm_domain(const char *d, char *buf, size_t size)
{
	bool dot = false, start = true;
	size_t len = 0;

	while (isspace((unsigned char)*d))
		d++;
	for (; *d != '\0' && !isspace((unsigned char)*d); d++) {
		char c = (char)tolower((unsigned char)*d);

		if (len + 1 >= size)
			return false;
		if (c == '.') {
			if (start)
				return false;
			dot = true;
			start = true;
		} else if (isdigit((unsigned char)c) || (c >= 'a' && c <= 'z')) {
			start = false;
		} else if (start || (c != '_' && c != '+' && c != '-')) {
			return false;
		}
		buf[len++] = c;
	}
	while (isspace((unsigned char)*d))
		d++;
	buf[len] = '\0';
	return *d == '\0' && dot && !start;
}

/* ---- reading the database ---------------------------------------------- */

char *cmd_emm_store_uri(const char *uri)
{
	char *out, *q, *p, *next;
	size_t len;

	if (strncmp(uri, "emm+", 4) == 0)
		uri += 4;
	if ((out = strdup(uri)) == NULL)
		abort();
	if ((q = strchr(out, '?')) == NULL)
		return out;
	len = (size_t)(q - out);
	for (p = q + 1; p != NULL && *p != '\0'; p = next) {
		size_t plen = strcspn(p, "&");

		next = p[plen] == '&' ? p + plen + 1 : NULL;
		if (strncmp(p, "emm_", 4) == 0)
			continue;
		out[len] = len == (size_t)(q - out) ? '?' : '&';
		len++;
		memmove(out + len, p, plen);	/* @UNSAFE: never longer */
		len += plen;
	}
	out[len] = '\0';
	return out;
}

static int company_row(void *ctx, const struct bav_store_value *v,
		       const char *const *names, unsigned int n)
{
	struct emm_maps *m = ctx;
	char dom[256];
	bool valid;

	(void)names;
	if (n < 3 || v[0].s == NULL)
		return 0;
	valid = v[2].s != NULL && emm_domain(v[2].s, dom, sizeof(dom));
	if (v[0].i == 1 && valid && (m->company1_domain = strdup(dom)) == NULL)
		abort();
	if (v[1].s == NULL || strcmp(v[1].s, "active") != 0)
		return 0;
	if (!valid) {
		fprintf(stderr, "bav maps: company %s: no valid mailloop "
			"domain\n", v[0].s);
		return 0;
	}
	maps_list_add(&m->company_ids, v[0].s);
	maps_list_add(&m->company_domains, dom);
	return 0;
}

static int filter_row(void *ctx, const struct bav_store_value *v,
		      const char *const *names, unsigned int n)
{
	struct emm_maps *m = ctx;
	struct filter *f;
	unsigned int i;

	(void)names;
	if (m->nfilters == m->afilters) {
		m->afilters = m->afilters != 0 ? m->afilters * 2 : 16;
		m->filters = realloc(m->filters, m->afilters *	/* @UNSAFE */
				     sizeof(*m->filters));
		if (m->filters == NULL)
			abort();
	}
	f = &m->filters[m->nfilters++];
	memset(f, 0, sizeof(*f));
	for (i = 0; i < F_NCOLS; i++)
		if ((f->col[i] = strdup(i < n && v[i].s != NULL ? v[i].s :
					"")) == NULL)
			abort();
	return 0;
}

static const char company_sql[] =
	"SELECT company_id, status, mailloop_domain FROM company_tbl"
	" ORDER BY company_id";
static const char filter_sql[] =
	"SELECT m.rid, m.company_id, m.filter_address, m.forward_enable,"
	" m.forward, m.ar_enable, m.autoresponder_mailing_id,"
	" m.security_token, m.subscribe_enable, m.mailinglist_id,"
	" m.form_id, m.spam_email, m.spam_forward, m.spam_required"
	" FROM mailloop_tbl m JOIN company_tbl c"
	" ON c.company_id = m.company_id WHERE c.status = 'active'"
	" ORDER BY m.rid";

/* Everything is read before anything is written; 0 or an exit status. */
static int read_db(struct emm_maps *m)
{
	struct bav_store *store = NULL;
	const char *error = NULL;
	int ret;
	char *uri = cmd_emm_store_uri(m->uri);

	ret = store_cmd_open_any(uri, m->password_file, &store);
	free(uri);
	if (ret != 0)
		return ret;
	ret = bav_store_begin(store, &error);
	if (ret == BAV_OK)
		ret = bav_store_exec(store, company_sql, NULL, 0, company_row,
				     m, &error);
	if (ret == BAV_OK)
		ret = bav_store_exec(store, filter_sql, NULL, 0, filter_row,
				     m, &error);
	if (ret == BAV_OK)
		ret = bav_store_commit(store, &error);
	if (ret != BAV_OK) {
		fprintf(stderr, "bav maps: %s; files left unchanged\n",
			error != NULL ? error : "database error");
		(void)bav_store_rollback(store, &error);
		ret = store_cmd_exit(ret);
	}
	bav_store_close(&store);
	return ret;
}

/* ---- the old relay and transport files ---------------------------------- */

/* "domain<blank>value" lines; invalid and duplicate domains dropped. */
static void read_map(const char *path, struct maps_list *keys,
		     struct maps_list *vals, const char *def)
{
	char line[2048], dom[256];
	FILE *fp;

	if (path == NULL || (fp = fopen(path, "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *p = line, *val;

		line[strcspn(line, "\r\n")] = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		val = p + strcspn(p, " \t");
		if (*val != '\0')
			*val++ = '\0';
		while (isspace((unsigned char)*val))
			val++;
		if (!emm_domain(p, dom, sizeof(dom)) || maps_list_find(keys, dom) >= 0)
			continue;
		maps_list_add(keys, dom);
		maps_list_add(vals, *val != '\0' ? val : def);
	}
	fclose(fp);
}

/* ---- building ----------------------------------------------------------- */

/* Pass 1 for one filter: its accepted filter addresses and domains. */
static void filter_addresses(struct emm_maps *m, struct filter *f)
{
	char *list, *tok, *save = NULL, dom[256], key[512];
	const char *rid = f->col[F_RID];
	ssize_t c;
	size_t i;

	if ((c = maps_list_find(&m->company_ids, f->col[F_CID])) >= 0)
		f->company_domain = m->company_domains.v[c];
	if ((list = strdup(f->col[F_ADDR])) == NULL)
		abort();
	for (tok = strtok_r(list, ", \t\r\n", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t\r\n", &save)) {
		const char *at = strchr(tok, '@');

		if (at == NULL || maps_aml_or_reply(tok))
			continue;
		if (!emm_domain(at + 1, dom, sizeof(dom))) {
			fprintf(stderr, "bav maps: filter %s: address %s has "
				"no valid domain, skipped\n", rid, tok);
			continue;
		}
		snprintf(key, sizeof(key), "%.*s@%s", (int)(at - tok), tok,
			 dom);
		for (i = 0; key[i] != '@'; i++)
			key[i] = (char)tolower((unsigned char)key[i]);
		if (strncmp(key, "fbl@", 4) == 0 || maps_list_find(&m->used, key) >= 0) {
			fprintf(stderr, "bav maps: filter %s: address %s %s, "
				"skipped\n", rid, tok, strncmp(key, "fbl@", 4)
				== 0 ? "is reserved" : "is used twice");
			continue;
		}
		maps_list_add(&m->used, key);
		maps_list_add(&f->aliases, tok);
		if (strcmp(dom, m->filter) != 0)
			maps_list_add_once(&f->domains, dom);
		maps_list_add_once(&m->mine, dom);
	}
	free(list);
}

/* The addresses of an enabled forward list that have a valid domain,
   and (parallel) their domains, lower-case. */
static void forward_list(const struct filter *f, struct maps_list *addrs,
			 struct maps_list *doms)
{
	char *list, *tok, *save = NULL, dom[256];

	if (atoi(f->col[F_FWD_EN]) == 0)
		return;
	if ((list = strdup(f->col[F_FWD])) == NULL)
		abort();
	for (tok = strtok_r(list, ", \t\r\n", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t\r\n", &save)) {
		const char *at = strchr(tok, '@');

		if (at != NULL && emm_domain(at + 1, dom, sizeof(dom))) {
			maps_list_add(addrs, tok);
			maps_list_add(doms, dom);
		}
	}
	free(list);
}

/* The domains of a forward list (every address, spec 4.3 step 5). */
static void forward_domains(struct emm_maps *m, const struct filter *f)
{
	struct maps_list addrs = { NULL, 0, 0 }, doms = { NULL, 0, 0 };
	size_t i;

	forward_list(f, &addrs, &doms);
	for (i = 0; i < doms.n; i++)
		maps_list_add_once(&m->fwd_domains, doms.v[i]);
	maps_list_free(&addrs);
	maps_list_free(&doms);
}

/* Managed := mine, less new forward-target domains (spec 4.3 step 5). */
static void managed_domains(struct emm_maps *m)
{
	size_t i;

	for (i = 0; i < m->mine.n; i++) {
		const char *d = m->mine.v[i];

		if (maps_list_find(&m->fwd_domains, d) >= 0 &&
		    maps_list_find(&m->old_relay, d) < 0 &&
		    maps_list_find(&m->company_domains, d) < 0 &&
		    strcmp(d, m->filter) != 0) {
			fprintf(stderr, "bav maps: %s is a forward target, "
				"not made a relay domain\n", d);
			continue;
		}
		maps_list_add(&m->managed, d);
	}
	maps_list_sort(&m->managed);
}

static void filter_options(const struct filter *f, char *opts, size_t size)
{
	const char *rid = f->col[F_RID];
	char sub[64], fwd[256];
	size_t len;

	opts[0] = '\0';
	maps_opt(opts, size, "rid", rid);
	if (atoll(f->col[F_CID]) != 0)
		maps_opt(opts, size, "cid", f->col[F_CID]);
	if (atoi(f->col[F_FWD_EN]) != 0) {
		const char *p = f->col[F_FWD];

		while (isspace((unsigned char)*p))
			p++;
		snprintf(fwd, sizeof(fwd), "%s", p);
		len = strlen(fwd);
		while (len > 0 && isspace((unsigned char)fwd[len - 1]))
			fwd[--len] = '\0';
		maps_opt(opts, size, "fwd", fwd);
	}
	maps_opt(opts, size, "spam_email", f->col[F_SPAM_EMAIL]);
	maps_opt(opts, size, "spam_fwd", f->col[F_SPAM_FWD]);
	maps_opt(opts, size, "spam_req", f->col[F_SPAM_REQ]);
	if (atoi(f->col[F_AR_EN]) != 0) {
		if (atoll(f->col[F_AR_MID]) != 0 && f->col[F_TOKEN][0] != '\0') {
			maps_opt(opts, size, "ar", rid);
			maps_opt(opts, size, "armid", f->col[F_AR_MID]);
		} else {
			fprintf(stderr, "bav maps: filter %s: autoresponder "
				"needs a mailing id and a security token, "
				"disabled\n", rid);
		}
	}
	if (atoi(f->col[F_SUB_EN]) != 0 && atoll(f->col[F_LIST]) != 0 &&
	    atoll(f->col[F_FORM]) != 0) {
		snprintf(sub, sizeof(sub), "%s:%s", f->col[F_LIST],
			 f->col[F_FORM]);
		maps_opt(opts, size, "sub", sub);
	}
}

static void filter_lines(struct emm_maps *m, const struct filter *f)
{
	const char *rid = f->col[F_RID], *flt = m->filter;
	struct maps_list cand = { NULL, 0, 0 };
	char opts[4096];
	size_t i;

	filter_options(f, opts, sizeof(opts));
	maps_list_addf(&m->lines, "aml_%s@%s\taccept:%s", rid, flt, opts);
	maps_list_addf(&m->lines, "reply_%s@%s\taccept:%s", rid, flt, opts);
	for (i = 0; i < f->domains.n; i++)
		if (maps_list_find(&m->managed, f->domains.v[i]) >= 0)
			maps_list_add(&cand, f->domains.v[i]);
	if (f->company_domain != NULL && strcmp(f->company_domain, flt) != 0 &&
	    maps_list_find(&m->managed, f->company_domain) >= 0)
		maps_list_add_once(&cand, f->company_domain);
	for (i = 0; i < cand.n; i++) {
		maps_list_addf(&m->lines, "aml_%s@%s\talias:aml_%s@%s", rid,
			       cand.v[i], rid, flt);
		maps_list_addf(&m->lines, "reply_%s@%s\talias:reply_%s@%s", rid,
			       cand.v[i], rid, flt);
	}
	for (i = 0; i < f->aliases.n; i++)
		maps_list_addf(&m->lines, "%s\talias:aml_%s@%s",
			       f->aliases.v[i], rid, flt);
	maps_list_free(&cand);
}

/* A forward target in a managed domain that is not a filter address
   loops back into the mailloop (spec 4.3 step 5): warn. */
static void check_forwards(const struct emm_maps *m, const struct filter *f)
{
	struct maps_list addrs = { NULL, 0, 0 }, doms = { NULL, 0, 0 };
	char key[512];
	size_t i, j;

	forward_list(f, &addrs, &doms);
	for (j = 0; j < addrs.n; j++) {
		if (maps_list_find(&m->managed, doms.v[j]) < 0)
			continue;
		snprintf(key, sizeof(key), "%s", addrs.v[j]);
		for (i = 0; key[i] != '\0'; i++)
			key[i] = (char)tolower((unsigned char)key[i]);
		if (maps_list_find(&m->used, key) < 0 && !maps_aml_or_reply(key))
			fprintf(stderr, "bav maps: filter %s: forward address "
				"%s is in a managed domain\n", f->col[F_RID],
				addrs.v[j]);
	}
	maps_list_free(&addrs);
	maps_list_free(&doms);
}

static void build(struct emm_maps *m)
{
	size_t i;

	maps_list_add_once(&m->mine, m->filter);
	for (i = 0; i < m->company_domains.n; i++)
		maps_list_add_once(&m->mine, m->company_domains.v[i]);
	for (i = 0; i < m->nfilters; i++) {
		filter_addresses(m, &m->filters[i]);
		forward_domains(m, &m->filters[i]);
	}
	managed_domains(m);
	if (m->fqdn != NULL && *m->fqdn != '\0')
		maps_list_addf(&m->lines, "@%s\taccept:rid=local", m->fqdn);
	maps_list_addf(&m->lines, "fbl@%s\taccept:rid=fbl", m->filter);
	for (i = 0; i < m->managed.n; i++)
		if (strcmp(m->managed.v[i], m->filter) != 0)
			maps_list_addf(&m->lines, "fbl@%s\talias:fbl@%s",
				       m->managed.v[i], m->filter);
	for (i = 0; i < m->nfilters; i++) {
		filter_lines(m, &m->filters[i]);
		check_forwards(m, &m->filters[i]);
	}
}

/* ---- writing ------------------------------------------------------------ */

/* The relay and transport texts: managed domains in order; an old
   line's value is kept (spec 4.2 steps 1 and 4). */
static char *map_text(const struct emm_maps *m, const struct maps_list *keys,
		      const struct maps_list *vals, const char *def)
{
	struct maps_list out = { NULL, 0, 0 };
	char *text;
	ssize_t k;
	size_t i;

	for (i = 0; i < m->managed.n; i++) {
		k = maps_list_find(keys, m->managed.v[i]);
		maps_list_addf(&out, "%s\t%s", m->managed.v[i], k >= 0 ? vals->v[k] : def);
	}
	text = maps_list_join(&out);
	maps_list_free(&out);
	return text;
}

static int write_all(struct emm_maps *m)
{
	struct bav_addrtable *table = NULL;
	char *conf, *relay, *tr, *error = NULL;
	int ret = 0, r;

	conf = maps_list_join(&m->lines);
	if (bav_addrtable_load_mem("generated bav.conf", conf, strlen(conf),
				   &table, &error) != BAV_OK) {
		fprintf(stderr, "bav maps: %s; files left unchanged\n", error);
		free(error);
		free(conf);
		return CMD_EX_CONFIG;
	}
	bav_addrtable_unref(&table);
	relay = map_text(m, &m->old_relay, &m->old_relay_val, "dummy");
	tr = map_text(m, &m->old_tr, &m->old_tr_val, m->out.transport_name);
	r = cmd_maps_write_file(m->out.transport, tr, m->out.map_type,
				m->out.postmap, m->out.dry_run);
	ret = ret == 0 ? r : ret;
	if (r == 0) {
		r = cmd_maps_write_file(m->out.relay, relay, m->out.map_type,
					m->out.postmap, m->out.dry_run);
		ret = ret == 0 ? r : ret;
	}
	if (r == 0) {
		r = cmd_maps_write_file(m->out.bav_conf, conf, NULL, NULL,
					m->out.dry_run);
		ret = ret == 0 ? r : ret;
	}
	free(conf);
	free(relay);
	free(tr);
	return ret;
}

/* ---- options ------------------------------------------------------------ */

enum { OPT_EMM = 500, OPT_PWFILE, OPT_FILTER, OPT_FQDN };

static const struct option emm_opts[] = {
	{ "emm", required_argument, NULL, OPT_EMM },
	{ "password-file", required_argument, NULL, OPT_PWFILE },
	{ "filter-name", required_argument, NULL, OPT_FILTER },
	{ "filter-domain", required_argument, NULL, OPT_FILTER },
	{ "fqdn", required_argument, NULL, OPT_FQDN },
	MAPS_OUTPUT_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static int emm_usage(void)
{
	fputs("usage: bav maps --emm STORE-URI [--password-file FILE]"
	      " [--filter-name NAME] [--fqdn NAME]\n"
	      "                [--bav-conf FILE] [--relay-domains FILE]"
	      " [--transport FILE]\n"
	      "                [--transport-name NAME] [--map-type TYPE]"
	      " [--postmap PATH] [--dry-run]\n", stderr);
	return CMD_EX_USAGE;
}

/* The host's FQDN, lower-cased (OpenEMM: socket.getfqdn()). */
static void host_fqdn(char *buf, size_t size)
{
	struct addrinfo hints, *ai = NULL;
	size_t i;

	buf[0] = '\0';
	if (gethostname(buf, size - 1) < 0) {
		buf[0] = '\0';
		return;
	}
	buf[size - 1] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_CANONNAME;
	if (strchr(buf, '.') == NULL &&
	    getaddrinfo(buf, NULL, &hints, &ai) == 0 && ai != NULL &&
	    ai->ai_canonname != NULL)
		snprintf(buf, size, "%s", ai->ai_canonname);
	if (ai != NULL)
		freeaddrinfo(ai);
	for (i = 0; buf[i] != '\0'; i++)
		buf[i] = (char)tolower((unsigned char)buf[i]);
}

static void emm_free(struct emm_maps *m)
{
	size_t i, c;

	for (i = 0; i < m->nfilters; i++) {
		for (c = 0; c < F_NCOLS; c++)
			free(m->filters[i].col[c]);
		maps_list_free(&m->filters[i].aliases);
		maps_list_free(&m->filters[i].domains);
	}
	free(m->filters);
	free(m->company1_domain);
	maps_list_free(&m->company_ids);
	maps_list_free(&m->company_domains);
	maps_list_free(&m->old_relay);
	maps_list_free(&m->old_relay_val);
	maps_list_free(&m->old_tr);
	maps_list_free(&m->old_tr_val);
	maps_list_free(&m->mine);
	maps_list_free(&m->fwd_domains);
	maps_list_free(&m->managed);
	maps_list_free(&m->used);
	maps_list_free(&m->lines);
}

int cmd_maps_emm(int argc, char **argv)
{
	struct emm_maps m;
	char fqdn[256];
	int c, ret;

	memset(&m, 0, sizeof(m));
	m.out.transport_name = "mailloop:";
	m.out.postmap = "/usr/sbin/postmap";
	optind = 1;
	while ((c = getopt_long(argc, argv, "", emm_opts, NULL)) != -1) {
		switch (c) {
		case OPT_EMM: m.uri = optarg; break;
		case OPT_PWFILE: m.password_file = optarg; break;
		case OPT_FILTER: m.filter_name = optarg; break;
		case OPT_FQDN: m.fqdn = optarg; break;
		default:
			if (!maps_output_option(&m.out, c, optarg))
				return emm_usage();
		}
	}
	if (m.uri == NULL || optind != argc)
		return emm_usage();
	if (m.fqdn == NULL) {
		host_fqdn(fqdn, sizeof(fqdn));
		m.fqdn = fqdn;
	}
	if (m.filter_name != NULL && strcasecmp(m.filter_name, "localhost") != 0 &&
	    !emm_domain(m.filter_name, m.filter, sizeof(m.filter))) {
		fprintf(stderr, "bav maps: bad filter name: %s\n",
			m.filter_name);
		return CMD_EX_USAGE;
	}
	if ((ret = read_db(&m)) == 0) {
		if (m.filter[0] == '\0' && m.company1_domain != NULL)
			snprintf(m.filter, sizeof(m.filter), "%s",
				 m.company1_domain);
		if (m.filter[0] == '\0') {
			fprintf(stderr, "bav maps: no filter domain: give "
				"--filter-name or set company 1's "
				"mailloop_domain; files left unchanged\n");
			ret = CMD_EX_CONFIG;
		}
	}
	if (ret == 0) {
		read_map(m.out.relay, &m.old_relay, &m.old_relay_val, "dummy");
		read_map(m.out.transport, &m.old_tr, &m.old_tr_val,
			 m.out.transport_name);
		build(&m);
		ret = write_all(&m);
	}
	emm_free(&m);
	return ret;
}
