/* SPDX-License-Identifier: MIT */
/*
 * deliver.h - what bav deliver (pipe transport) and bav lmtpd (LMTP
 * server) share: classification options, the spool write of one
 * message and syslog/stderr reporting (deliver_common.c).
 */
#ifndef BAV_CMD_DELIVER_H
#define BAV_CMD_DELIVER_H

#include "cmd.h"
#include "bav_spool.h"

#include <pthread.h>
#include <syslog.h>

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#define DELIVER_DEFAULT_SPOOL LOCALSTATEDIR "/spool/bav"

/* sysexits(3) values not in cmd.h */
#define CMD_EX_DATAERR	65

/* Options shared by deliver and lmtpd; read-only once set up, so the
   LMTP threads share one. */
struct deliver_cfg {
	const char *spool_dir;
	const char *store_uri;		/* deliver: record at once (optional) */
	struct bav_rules *rules;
	struct bav_limits limits;
	struct bav_classify_opts opts;
	size_t max_size;		/* bytes of one message */
	char host[256];
	bool quiet;			/* no syslog line per message */
	const char *sendmail;		/* forwarding replies; NULL: off */
	const char *forward;		/* forward address without fwd= */
	char *verp_secret;		/* signed VERP key; NULL: not checked */
	/* lmtpd: held for reading around bav_classify(), for writing when
	   SIGHUP swaps the rules; NULL in one-shot commands */
	pthread_rwlock_t *rules_lock;
	unsigned int verp_max_age;	/* days, default 30 */
	/* option parsing scratch */
	const char **rule_paths;
	size_t nrules;
	bool no_default;
	/* rules_files of main.cf: the first nconfig_rules of rule_paths,
	   pointing into config_rules; a --rules option replaces them */
	size_t nconfig_rules;
	char *config_rules;
};

/* Options both commands accept (getopt_long codes >= 300). */
#define DELIVER_LONG_OPTS \
	{ "spool", required_argument, NULL, 300 }, \
	{ "rules", required_argument, NULL, 301 }, \
	{ "no-default-rules", no_argument, NULL, 302 }, \
	{ "max-size", required_argument, NULL, 303 }, \
	{ "host", required_argument, NULL, 304 }, \
	{ "rid", required_argument, NULL, 305 }, \
	{ "sendmail", required_argument, NULL, 306 }, \
	{ "forward", required_argument, NULL, 307 }, \
	{ "no-forward", no_argument, NULL, 308 }, \
	{ "max-depth", required_argument, NULL, 309 }, \
	{ "verp-secret-file", required_argument, NULL, 310 }, \
	{ "verp-max-age", required_argument, NULL, 311 }

/* Set defaults from main.cf (cmd_config.h), else the built-in ones
   ($BAV_SPOOL or DELIVER_DEFAULT_SPOOL, 64 MiB, host name); argc bounds
   the number of --rules. */
void deliver_cfg_init(struct deliver_cfg *cfg, int argc);
/* Handle one of the DELIVER_LONG_OPTS: 1 handled, 0 not one of them,
   -1 bad value (printed). */
int deliver_cfg_option(struct deliver_cfg *cfg, int opt, const char *arg,
		       const char *cmd);
/* Load the rules and, without --verp-secret-file, verp_secret of the
   secrets file; prints and returns -1 on error. */
int deliver_cfg_load(struct deliver_cfg *cfg, const char *cmd);
void deliver_cfg_free(struct deliver_cfg *cfg);

/* What happened to one message. */
struct deliver_result {
	const char *name;	/* spool entry (valid until the next spool call) */
	const char *kind;	/* verdict kind, or "unclassified" */
	char fwd[256];		/* forwarded to, or "" */
	char error[512];	/* why it failed */
};

/* Classify msg, write the spool entry (fsync'ed), then forward a human
   reply (forward.c). A message that can't be classified is spooled with
   its error (kept, never lost). Returns BAV_OK, or BAV_ETEMP with
   res->error when the spool write or the forward failed (the caller
   answers 75 / 451; a retry records once and forwards again only if
   the forward failed). */
int deliver_message(const struct deliver_cfg *cfg, struct bav_spool *spool,
		    const char *sender, const char *const *rcpts,
		    unsigned int nrcpts, const char *queue_id,
		    const unsigned char *msg, size_t len,
		    struct deliver_result *res);

/* Forward a reply (see forward.c): 0 done or nothing to do (fwd ""),
   -1 with error. */
int deliver_forward(const struct deliver_cfg *cfg, enum bav_kind kind,
		    const char *rcpt, const unsigned char *msg, size_t len,
		    char *fwd, size_t fwd_size, char *error,
		    size_t error_size);

/* Value of the first header field name of msg, unfolded into buf (at
   most size-1 bytes); false when absent (forward.c). */
bool deliver_header(const unsigned char *msg, size_t len, const char *name,
		    char *buf, size_t size);
/* Run "sendmail -i -N never -f FROM -- TO" without a shell and write
   prefix (may be NULL) and msg to it: 0, or -1 with error. */
int deliver_sendmail(const char *sendmail, const char *from, const char *to,
		     const char *prefix, const unsigned char *msg, size_t len,
		     char *error, size_t error_size);

/* The subcommands (bav.c dispatches). */
int cmd_deliver(int argc, char **argv);		/* cmd_deliver.c */
int cmd_recorder(int argc, char **argv);	/* cmd_recorder.c */
int cmd_lmtpd(int argc, char **argv);		/* cmd_lmtpd.c */
int cmd_maps(int argc, char **argv);		/* cmd_maps.c */
int cmd_reclassify(int argc, char **argv);	/* cmd_reclassify.c */
int cmd_verp(int argc, char **argv);		/* cmd_verp.c */

/* The first line of a key file without trailing white space, malloc'ed;
   NULL (printed as "bav CMD: ...") when unreadable or empty (the rule of
   bav_secret_file_read(), bav_config.h). */
char *deliver_read_secret(const char *path, const char *cmd);

#endif
