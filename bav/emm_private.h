/* SPDX-License-Identifier: MIT */
/*
 * emm_private.h - what the emm*.c files of libbav share: the cached EMM
 * configuration, the pure helpers the unit tests reach (JSON, rule
 * merge, DSN translation, agnUID resolution) and the table writers.
 */
#ifndef BAV_EMM_PRIVATE_H
#define BAV_EMM_PRIVATE_H

#include "bav_emm.h"
#include "bav_private.h"
#include "emm_webhook.h"

/* ---- JSON (emm_json.c): the subset EMM stores in LONGTEXT columns ---- */
enum emm_json_type { EMM_JSON_NULL, EMM_JSON_BOOL, EMM_JSON_NUM,
		     EMM_JSON_STR, EMM_JSON_ARR, EMM_JSON_OBJ };
struct emm_json {
	enum emm_json_type type;
	const char *str;		/* STR; text of NUM and BOOL too */
	double num;
	unsigned int count;		/* ARR, OBJ */
	const char **keys;		/* OBJ */
	struct emm_json **items;	/* ARR, OBJ */
};
/* Parse text (pool-owned result); NULL when it is not JSON. */
struct emm_json *emm_json_parse(struct bav_pool *pool, const char *text);
/* Member of an object, or NULL. */
const struct emm_json *emm_json_get(const struct emm_json *obj,
				    const char *key);

/* ---- configuration (emm_config.c) ---- */
struct emm_company {
	long long id;
	bool active;
	const char *secret;		/* "" when unset */
	int uid_version;		/* minimum accepted */
	bool mailtracking;
	const char *mailloop_domain;
	bool inbox;			/* company_info bavd:inbox-enabled */
};
struct emm_filter {
	long long rid, company;
	const char *shortname;
	const char *forward;		/* when forward_enable */
	long long ar_mailing;		/* when ar_enable */
	bool inbox;			/* bavd:inbox-enabled[rid] */
	bool inbox_set;
};
struct emm_section {
	const char *name;
	const char **patterns;
	unsigned int count;
};
struct emm_ruleset {
	long long company, rid;
	struct emm_section *sections;
	unsigned int count;
};
struct emm_translate {
	long long rule_id, company;
	int dsn, detail;
	const char *pattern;		/* NULL or "" when none */
};
struct emm_config {
	struct bav_pool *pool;
	struct emm_company *companies;
	unsigned int ncompanies;
	struct emm_filter *filters;
	unsigned int nfilters;
	struct emm_ruleset *rulesets;
	unsigned int nrulesets;
	struct emm_translate *translates;
	unsigned int ntranslates;
	bool global_inbox;		/* company 0 bavd:inbox-enabled */
	bool mark_duplicates;		/* bounce-mark-duplicate */
	const char *ar_limit;		/* autoresponder limit, "1d" */
	time_t loaded;
};

int emm_config_load(struct bav_store *store, struct emm_config **cfg_r,
		    const char **error_r);
void emm_config_free(struct emm_config **cfg);
const struct emm_company *emm_config_company(const struct emm_config *cfg,
					     long long id);
const struct emm_filter *emm_config_filter(const struct emm_config *cfg,
					   long long rid);
/* Parse one bounce_rule_tbl definition into rs (pool-owned): 0, -1. */
int emm_ruleset_parse(struct bav_pool *pool, const char *json,
		      struct emm_ruleset *rs);
/* The (C,R),(0,R),(C,0),(0,0) merge of spec 5.6.2 as legacy rule text. */
char *emm_rules_merge(struct bav_pool *pool, const struct emm_ruleset *sets,
		      unsigned int n, long long company, long long rid);
/* One section of that merge, in order (pool-owned array); the count. */
unsigned int emm_rules_section(struct bav_pool *pool,
			       const struct emm_ruleset *sets, unsigned int n,
			       long long company, long long rid,
			       const char *section, const char ***patterns_r);
/* Top-level headers of msg against patterns ({mark} prefixes): 1 and
   *mark_r, or 0 (emm_filter.c). */
int emm_header_match(struct bav_pool *pool, const unsigned char *msg,
		     size_t len, const char *const *patterns, unsigned int n,
		     const char **mark_r);
/* Seconds of a unit string "1d", "12h", "30m", "90s", "2w" (0 bad). */
long long emm_unit_seconds(const char *s);

/* ---- DSN and detail (emm_detail.c) ---- */
/* 100a + 10b + c with the first digit of each component; 0 bad. */
int emm_dsn_code(const char *status);
/* Fields a translation pattern may test (NULL: absent). */
struct emm_info {
	const char *stat, *relay, *mailloop;
};
/* Detail of code for company with the rules (company, 0), then the
   built-in table (spec 5.11.3); *rule_id_r = 0 for the built-in. */
int emm_translate(const struct emm_translate *rules, unsigned int n,
		  long long company, int code, const struct emm_info *info,
		  long long *rule_id_r);
/* Does a bounce_translate_tbl pattern match the info fields. */
bool emm_pattern_match(const char *pattern, const struct emm_info *info);
static inline bool emm_detail_soft(int d)
{ return d == 400 || d == 410 || d == 420; }
static inline bool emm_detail_hard(int d)
{ return d >= 510 && d <= 513; }

/* ---- agnUID (emm_ident.c) ---- */
struct emm_mailing {
	long long id, company, mailinglist;
	long long creation_ms;		/* creation_date, ms since the epoch */
	bool deleted;
};
/* Validate one token text as spec 5.4 says, given its mailing (NULL:
   not in mailing_tbl) and company (NULL: unknown): 1 valid (tok_r
   holds the real ids), 0 not. */
int emm_uid_check(struct bav_pool *pool, const char *text, long long licence,
		  const struct emm_mailing *mailing,
		  const struct emm_company *company, struct bav_agnuid *tok_r);
/* Most frequent (customer, mailing, company, licence) among toks,
   ties to the last seen; -1 when n is 0. */
int emm_uid_origin(const struct bav_agnuid *toks, unsigned int n);

/* ---- the handle (emm.c) ---- */
struct bav_emm {
	struct bav_store *store;
	struct bav_emm_opts opts;
	char *logdir, *server;
	struct emm_config *cfg;
	struct bav_pool *pool;		/* per record */
	bool reload;
	struct emm_webhook webhook;	/* emm_webhook_log= */
	char errbuf[512];
};
/* Mailing by id from mailing_tbl: 1 found, 0 not, or a bav_err. */
int emm_mailing_get(struct bav_emm *emm, long long id,
		    struct emm_mailing *m_r, const char **error_r);
/* Validate every token of the verdict (and its unsubscribe uid); the
   origin or NULL. */
int emm_ident_origin(struct bav_emm *emm, const struct bav_verdict *v,
		     struct bav_agnuid **origin_r, bool *bcc_r,
		     const char **error_r);

/* ---- writers (emm_write.c, emm_log.c) ---- */
struct emm_event {
	long long rid;
	const char *rid_name;		/* rid of mailloop_log ("internal") */
	long long company, mailing, customer;
	const char *action;
	const char *remark;
	int dsn;			/* numeric */
	const char *dsn_text;		/* d.d.d */
	const char *error_text;		/* mailloop= */
	const char *sent;		/* forwarded to */
	time_t time;
	char stamp[32];			/* YYYY-MM-DD HH:MM:SS, UTC */
};
int emm_write_bounce(struct bav_emm *emm, const struct emm_event *ev,
		     struct bav_emm_outcome *out, const char **error_r);
int emm_write_unsubscribe(struct bav_emm *emm, const struct emm_event *ev,
			  struct bav_emm_outcome *out, const char **error_r);
int emm_write_log(struct bav_emm *emm, const struct emm_event *ev,
		  const char **error_r);
int emm_write_inbox(struct bav_emm *emm, const struct emm_event *ev,
		    const struct bav_emm_mail *mail,
		    struct bav_emm_outcome *out, const char **error_r);
int emm_write_ar(struct bav_emm *emm, const struct emm_event *ev,
		 const struct bav_emm_mail *mail, struct bav_emm_outcome *out,
		 const char **error_r);
int emm_write_due(struct bav_emm *emm, time_t now, const char **error_r);
/* extbounce.log / mailloop.log lines (emm_log.c) */
int emm_log_bounce(struct bav_emm *emm, const struct emm_event *ev,
		   const char **error_r);
int emm_log_mailloop(struct bav_emm *emm, const struct emm_event *ev,
		     const char *info, const char **error_r);
void emm_stamp(time_t t, char buf[32]);

#endif
