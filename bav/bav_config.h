/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav_config.h - the main configuration file (main.cf) and the
 *	secrets file of bav
 * SYNOPSIS
 *	#include <bav_config.h>
 *
 *	struct bav_config *cf;
 *	const char *error;
 *	if (bav_config_load(NULL, false, &cf, &error) < 0) { ... }
 *	spool = bav_config_get(cf, "spool_directory");
 *	bav_config_free(&cf);
 * DESCRIPTION
 *	One file, $sysconfdir/bav/main.cf (or $BAV_CONFIG, or -C FILE), in
 *	Postfix main.cf syntax, read by every program of bav. Every key
 *	lives in one table (config_keys.c) with its type, default, bounds
 *	and the programs that read it; bav-main.cf(5) documents it.
 *	Command-line flags override main.cf, main.cf overrides the
 *	built-in defaults.
 *
 *	Ownership: a struct bav_config owns every string it returns
 *	(values, problems, secrets) until bav_config_free(). A loaded
 *	config is read-only and may be shared by threads, except
 *	bav_config_secret(), which allocates from it (call it at start-up).
 * DIAGNOSTICS
 *	Fallible functions return enum bav_err and set *error_r to a text
 *	owned by the config. The library never exits and never prints.
 */
#ifndef BAV_CONFIG_H
#define BAV_CONFIG_H

#include "bav.h"

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

enum bav_config_type {
	BAV_CONFIG_STRING = 0,	/* any one-line text (choices: a|b|c) */
	BAV_CONFIG_PATH,	/* a file name; "" means none */
	BAV_CONFIG_BOOL,	/* yes/no, true/false, on/off, 1/0 */
	BAV_CONFIG_UINT,	/* decimal number */
	BAV_CONFIG_TIME,	/* number with unit s, m, h, d (default s) */
	BAV_CONFIG_SIZE,	/* number with unit k, M, G (default bytes) */
	BAV_CONFIG_MODE,	/* octal file mode, at most 0777 */
};

/* Programs that read a key (bit mask). */
#define BAV_CONFIG_CMD		0x01u	/* bav classify, record, score, ... */
#define BAV_CONFIG_MILTER	0x02u
#define BAV_CONFIG_POLICYD	0x04u
#define BAV_CONFIG_LMTPD	0x08u
#define BAV_CONFIG_DELIVER	0x10u
#define BAV_CONFIG_RECORDER	0x20u
#define BAV_CONFIG_ALL		0x3fu

/* One row of the key table. Numbers (min, max) are in the base unit:
   seconds, bytes; the default may name other keys ($name). */
struct bav_config_key {
	const char *name;
	enum bav_config_type type;
	const char *default_value;
	unsigned long long min, max;
	const char *choices;		/* STRING: "a|b|c", else NULL */
	unsigned int programs;		/* BAV_CONFIG_* bits */
	const char *description;	/* one line */
};

/* The key table (sorted by name) and its length. */
BAV_EXPORT const struct bav_config_key *bav_config_keys(size_t *count_r);
/* The row of name, NULL when unknown. */
BAV_EXPORT const struct bav_config_key *bav_config_key_find(const char *name);
/* "string", "path", "bool", "uint", "time", "size", "mode". */
BAV_EXPORT const char *bav_config_type_name(enum bav_config_type type);
/* Names of the programs in mask, e.g. "bav-milter, bav lmtpd", written
   into buf (always NUL-terminated); returns buf. */
BAV_EXPORT const char *bav_config_programs_name(unsigned int mask, char *buf,
						size_t size);
/* $BAV_CONFIG when set and not empty, else SYSCONFDIR/bav/main.cf. */
BAV_EXPORT const char *bav_config_default_path(void);

struct bav_config;

/* Read path (NULL: bav_config_default_path()). A missing file is fine
   (built-in defaults) unless must_exist. *config_r is always set, also
   on failure, so its problems can be listed; free it with
   bav_config_free(). Returns BAV_OK (maybe with warnings),
   BAV_ECONFIG when a line or value is wrong (every problem is kept
   as "file:line: why"; *error_r is the first error) or BAV_ETEMP when
   the file can't be read. */
BAV_EXPORT int bav_config_load(const char *path, bool must_exist,
			       struct bav_config **config_r,
			       const char **error_r);
/* The same from memory (text need not be NUL-terminated; a NUL byte is
   an error); name is used in messages. */
BAV_EXPORT int bav_config_parse(const char *name, const char *text,
				size_t len, struct bav_config **config_r,
				const char **error_r);
BAV_EXPORT void bav_config_free(struct bav_config **config);

/* The file read ("" for built-in defaults only). */
BAV_EXPORT const char *bav_config_path(const struct bav_config *config);
/* Problems found: warnings (unknown key) and errors, in file order. */
BAV_EXPORT size_t bav_config_problem_count(const struct bav_config *config);
BAV_EXPORT const char *bav_config_problem(const struct bav_config *config,
					  size_t idx, bool *fatal_r);

/* The value of a known key with $name expanded (the default when the
   file does not set it, or when its value was refused); NULL for an
   unknown name. */
BAV_EXPORT const char *bav_config_get(const struct bav_config *config,
				      const char *name);
/* The value before expansion. */
BAV_EXPORT const char *bav_config_get_raw(const struct bav_config *config,
					  const char *name);
/* Number of a BOOL (0/1), UINT, TIME (seconds), SIZE (bytes) or MODE
   key; 0 for other types and unknown names. */
BAV_EXPORT unsigned long long
bav_config_get_number(const struct bav_config *config, const char *name);
/* true when the file sets name (known or not). */
BAV_EXPORT bool bav_config_is_set(const struct bav_config *config,
				  const char *name);
/* Keys the file sets that are not in the table, in file order. */
BAV_EXPORT size_t bav_config_unknown_count(const struct bav_config *config);
BAV_EXPORT const char *bav_config_unknown(const struct bav_config *config,
					  size_t idx);

/* Parse a value of a type: 0 and the number in *v_r, or -1 with a
   static error text. Used for command-line flags too. */
BAV_EXPORT int bav_config_parse_number(enum bav_config_type type,
				       const char *value,
				       unsigned long long *v_r,
				       const char **error_r);

/* A reply bav-policyd may send (policyd_*_action): one line of at most
   512 bytes starting with a 4NN/5NN code or a Postfix access(5) action
   word (OK, DUNNO, REJECT, DEFER, ...). bav-policyd refuses others at
   start, bav config check reports them. */
BAV_EXPORT bool bav_config_policy_action_ok(const char *action);

/* ---- secrets ------------------------------------------------------------ */

/* The one rule for secret files (bav_config_secret(), --verp-secret-file,
   --agnuid-secret-file, bav verp --secret-file): a regular file of at
   most 64 KiB. With strict (the secrets file of main.cf), it must be
   owned by root or by the running user and not be readable, writable
   or executable by group or others; key files named on the command
   line are taken as they are. Returns 0 and the first line without
   trailing white space, which must not be empty, in *secret_r
   (malloc'ed, the caller frees), or BAV_ECONFIG / BAV_ETEMP with the
   reason ("path: why") in errbuf. */
BAV_EXPORT int bav_secret_file_read(const char *path, bool strict,
				    char **secret_r, char *errbuf,
				    size_t errbuf_size);
/* The secrets file named by secrets_file: "name = value" lines, "#"
   comments. 1 and *value_r (config-owned) when name is set, 0 when the
   file does not exist or does not set it, BAV_ECONFIG (a refused mode
   or owner, a bad line) or BAV_ETEMP (unreadable) with *error_r. */
BAV_EXPORT int bav_config_secret(struct bav_config *config, const char *name,
				 const char **value_r, const char **error_r);

/* ---- pid files ---------------------------------------------------------- */

/* Write "PID\n" to path (created 0644 or truncated): 0, or -1
   with the reason in errbuf. */
BAV_EXPORT int bav_pidfile_write(const char *path, pid_t pid, char *errbuf,
				 size_t errbuf_size);

#ifdef __cplusplus
}
#endif

#endif
