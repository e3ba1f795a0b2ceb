/* SPDX-License-Identifier: MIT */
/*
 * bav_milter.h - declarations shared by the files of bav-milter: the
 * settings (set once in main() before any thread starts, read-only
 * afterwards), the current address table, logging and the local-client
 * list. See bav-milter(8).
 */
#ifndef BAV_MILTER_H
#define BAV_MILTER_H

#include "bav_addrtable.h"
#include "bav_daemon.h"	/* logging, start-up (daemon/) */

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* ---- settings (main.c) ---- */
enum milter_mode {
	MODE_ENFORCE = 0,	/* reply as the table says */
	MODE_SOFT,		/* every 5xx becomes 4xx (Postfix soft_bounce) */
	MODE_LOGONLY,		/* log what would happen, accept everything */
};

struct netlist;

struct milter_settings {
	const char *table_path;
	enum milter_mode mode;
	struct netlist *local;		/* local clients: passed untouched */
	const char *local_names;	/* -h: verified client names, or NULL */
	const char *tempfail_code;	/* "400" (OpenEMM), configurable */
	bool header_per_rcpt;		/* one X-AGNMailloop per recipient */
	unsigned int reload_interval;	/* seconds between mtime checks */
	size_t max_header_len;		/* X-AGNMailloop value limit */
	bool classify;			/* -k: X-Bav-Classification */
	bool spf, dkim;			/* -S, -V: Authentication-Results */
	const char *authserv_id;	/* -A, default the host name */
	unsigned int dns_timeout;	/* -T seconds */
	size_t classify_max;		/* -B: bytes of a message kept */
};
extern struct milter_settings settings;

const char *milter_mode_name(enum milter_mode mode);

/* ---- the current table (table.c) ---- */
/* Load the first table; 0, or -1 and *error_r (malloc'ed). */
int table_init(const char *path, char **error_r);
/* A new reference to the current table; release with
   bav_addrtable_unref(). Never NULL after table_init(). */
struct bav_addrtable *table_get(void);
/* Load the file again if forced or changed; on failure log and keep the
   current table. Returns 1 swapped, 0 unchanged, -1 failed. */
int table_reload(bool force);
/* Thread that reloads on SIGHUP and on mtime changes; stop with
   table_thread_stop(). SIGHUP must be blocked in every thread. */
int table_thread_start(void);
void table_thread_stop(void);
void table_deinit(void);

/* ---- optional classification (classify.c) ---- */
struct bav_buf;
int classify_init(const char *rules_path, char **error_r);
int classify_reload(void);
void classify_deinit(void);
void classify_append(struct bav_buf *msg, bool *truncated, const void *data,
		     size_t len);
void classify_header(struct bav_buf *msg, bool *truncated, const char *name,
		     const char *value);
/* malloc'ed X-Bav-Classification value, or NULL if not a message */
char *classify_verdict(const struct bav_buf *msg, bool truncated,
		       const char *tag);

/* ---- optional SPF and DKIM (auth.c) ---- */
struct auth_msg;
int auth_init(const char *spf_zone, const char *dkim_keys, char **error_r);
void auth_deinit(void);
struct auth_msg *auth_msg_new(unsigned long id);
void auth_msg_header(struct auth_msg *m, const char *name, const char *value);
void auth_msg_eoh(struct auth_msg *m);
void auth_msg_body(struct auth_msg *m, const unsigned char *data, size_t len);
/* malloc'ed Authentication-Results value (checks SPF now, ends DKIM) */
char *auth_results(struct auth_msg *m, const struct sockaddr *client,
		   const char *helo, const char *sender);
void auth_msg_free(struct auth_msg **m);

/* ---- local client list (netlist.c) ---- */
/* Parse a list of addresses / CIDR blocks separated by commas or white
   space ("127.0.0.0/8, ::1"); IPv4 entries also match IPv4-mapped IPv6
   clients. "none" or "" gives an empty list. NULL + *error_r (static
   or a pointer into a caller buffer) on a bad entry. */
struct netlist *netlist_parse(const char *text, char *errbuf, size_t errlen);
void netlist_free(struct netlist **list);
bool netlist_match(const struct netlist *list, const struct sockaddr *sa);
/* Does a client name the MTA verified match the comma-separated list
   (exact, case-insensitive; an entry ".example.org" matches any name
   ending in it)? "unknown" and "[address]" never match. */
bool names_match(const char *list, const char *name);
/* Text of an address ("[addr]"-less), into buf. */
const char *sockaddr_text(const struct sockaddr *sa, char *buf, size_t len);

#endif
