/* SPDX-License-Identifier: MIT */
/*
 * bav_policyd.h - declarations shared by the files of bav-policyd: the
 * settings (set once in main(), read-only afterwards), the request
 * parser, the decisions, the suppression snapshot, the rate limiter,
 * the event loop and logging. bav-policyd is single-threaded apart from
 * the snapshot loader thread (suppress.c), which shares nothing but one
 * mutex-protected pointer slot. See bav-policyd(8).
 */
#ifndef BAV_POLICYD_H
#define BAV_POLICYD_H

#include "bav_addrtable.h"
#include "bav_daemon.h"	/* logging, start-up (daemon/) */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* ---- settings (main.c) ---- */
enum policy_mode {
	MODE_ENFORCE = 0,	/* reply as decided */
	MODE_LOGONLY,		/* log what would happen, answer DUNNO */
};

struct policy_settings {
	enum policy_mode mode;
	const char *table_path;		/* -c; NULL: no address table */
	const char *store_uri;		/* -S; NULL: no store */
	const char *store_password;	/* store_password of the secrets
					   file (main.cf), or NULL */
	const char *snapshot_path;	/* -f; NULL: no snapshot file */
	unsigned int refresh_interval;	/* seconds between snapshot loads */
	unsigned int reload_interval;	/* seconds between table mtime checks */
	size_t max_request_size;	/* bytes of one request */
	unsigned int max_attributes;	/* attributes of one request */
	unsigned int max_requests;	/* per connection; 0: no limit */
	unsigned int idle_timeout;	/* seconds; 0: none */
	unsigned int max_connections;
	unsigned int busy_poll;		/* -P: microseconds the event loop
					   polls without blocking after a
					   round with events; 0: off */
	/* actions (the text after "action="), one per decision */
	const char *reject_action;	/* address table: unknown address */
	const char *tempfail_action;	/* address table: tempfail entry */
	const char *accept_action;	/* address table: known address */
	const char *suppress_action;	/* suppressed recipient */
	const char *ratelimit_action;	/* null-sender rate exceeded */
	const char *default_action;	/* nothing applies */
	/* null-sender rate limits: at most N per window seconds; 0: off */
	unsigned int null_client_limit;
	unsigned int null_rcpt_limit;
	unsigned int null_window;
	/* -F: PREPEND Received-SPF: when nothing else decided */
	bool spf;
	const char *spf_zone;		/* -Z: stub DNS zone for tests */
};
extern struct policy_settings settings;

/* ---- one request (proto.c) ---- */
#define PROTO_MAX_LINE_DEFAULT 2048

struct policy_request {
	/* the attributes the decisions use, pointers into the request
	   buffer (NUL-terminated there); "" when absent */
	const char *protocol_state;
	const char *sender;
	const char *recipient;
	const char *client_address;
	const char *client_name;
	const char *helo_name;
	const char *queue_id;
	const char *instance;
	unsigned int nattrs;
};

enum proto_result {
	PROTO_MORE = 0,		/* need more input */
	PROTO_REQUEST,		/* one complete request */
	PROTO_BROKEN,		/* broken request: disconnect, no reply */
};

/* Look for one complete request in buf[0..len) (the buffer is modified:
   line ends become NULs). On PROTO_REQUEST *used_r is the number of
   bytes it took; on PROTO_BROKEN *why_r says why (static text). A
   request longer than settings.max_request_size is broken even before
   its end arrives. */
enum proto_result proto_parse(char *buf, size_t len,
			      struct policy_request *req, size_t *used_r,
			      const char **why_r);

/* ---- decisions (policy.c) ---- */
struct policy_ctx {
	struct bav_addrtable *table;	/* NULL when no table */
	const struct suppress *snap;	/* NULL when none */
	struct ratelimit *rl;		/* NULL when off */
	time_t now;
};

/* Decide one request; writes "action=...\n\n" into out (size len) and
   returns its length. Logs the decision (tag: connection id). Sets
   *spf_r when the request is a RCPT that no check decided, so an SPF
   header may be prepended instead (see spf.c). */
size_t policy_decide(const struct policy_ctx *ctx,
		     const struct policy_request *req, const char *tag,
		     char *out, size_t len, bool *spf_r);
/* The reply for an SPF header ("" : the default action). */
size_t policy_spf_reply(const char *header, char *out, size_t len);

/* ---- SPF (spf.c) ---- */
struct spf_job {
	struct spf_job *next;
	unsigned int conn_id;
	int fd;
	char ip[64], helo[256], sender[512];
	char header[768];	/* the result: "Received-SPF: ..." or "" */
};
/* Create the SPF server (zone: stub DNS file, NULL: real DNS) and, when
   threaded, the worker thread; -1 and a malloc'ed *error_r on error. */
int spf_init(const char *zone, bool threaded, char **error_r);
/* The header for one check, "" when there is none (synchronous). */
void spf_check(const char *ip, const char *helo, const char *sender,
	       char *out, size_t len);
/* Queue a check for the worker; the result comes from spf_take() (a
   list, oldest first, the caller frees each job with free()). */
void spf_submit(unsigned int conn_id, int fd, const char *ip,
		const char *helo, const char *sender);
struct spf_job *spf_take(void);
int spf_notify_fd(void);
void spf_deinit(void);

/* ---- suppression snapshot (suppress.c) ---- */
struct suppress;

/* Lower-cased state of addr ("bounced", "complained", "unsubscribed")
   or NULL when not suppressed. */
const char *suppress_lookup(const struct suppress *s, const char *addr);
size_t suppress_count(const struct suppress *s);
void suppress_free(struct suppress **s);
/* Load from the store (uri) or from a snapshot file; NULL and a
   malloc'ed *error_r on failure. */
struct suppress *suppress_load_store(const char *uri, char **error_r);
struct suppress *suppress_load_file(const char *path, char **error_r);
/* Write the snapshot to path atomically (path.tmp + rename). */
int suppress_save_file(const struct suppress *s, const char *path,
		       char **error_r);
/* The snapshot source: start (first load, synchronous), a loader thread
   when threaded (refresh every settings.refresh_interval seconds),
   suppress_take() hands a newer snapshot to the event loop (NULL when
   none is new), suppress_poll() refreshes inline (stdio mode). */
int suppress_start(bool threaded, struct suppress **first_r, char **error_r);
struct suppress *suppress_take(void);
struct suppress *suppress_poll(time_t now);
/* Refresh now (SIGHUP) instead of at the end of the interval. */
void suppress_kick(void);
/* The eventfd the loader thread signals, -1 when not threaded. */
int suppress_notify_fd(void);
void suppress_stop(void);

/* ---- null-sender rate limits (ratelimit.c) ---- */
struct ratelimit;
struct ratelimit *ratelimit_new(void);
void ratelimit_free(struct ratelimit **rl);
/* Count one hit for key in its window; true when over limit. */
bool ratelimit_hit(struct ratelimit *rl, const char *kind, const char *key,
		   unsigned int limit, unsigned int window, time_t now,
		   unsigned int *count_r);
/* Drop entries whose window ended. */
void ratelimit_expire(struct ratelimit *rl, time_t now);

/* ---- event loop (server.c) ---- */
/* Open a listener: "unix:/path", "local:/path", "/path",
   "inet:port@host", "inet:host:port", "inet:port". Returns the fd or
   -1 and an error text in errbuf. */
int server_listen(const char *spec, unsigned int mode, char *errbuf,
		  size_t errlen);
/* Run the epoll loop over the listeners until SIGTERM/SIGINT. */
int server_run(const int *listeners, size_t nlisteners);
/* Serve one connection on stdin/stdout (spawn(8)) until EOF. */
int server_stdio(void);

/* ---- the current address table (main.c) ---- */
struct bav_addrtable *table_current(void);
/* Reload if forced or the file changed; keep the old one on errors. */
void table_check(bool force);

#endif
