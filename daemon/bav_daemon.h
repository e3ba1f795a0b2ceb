/* SPDX-License-Identifier: MIT */
/*
 * bav_daemon.h - what bav-milter and bav-policyd share (the noinst
 * library libbav_daemon.la, daemon/): logging (log.c), start-up
 * (daemon.c) and the libspf2 set-up (spf.c, built with libspf2 only).
 * Not part of libbav: these helpers print, exit and keep process-wide
 * settings, which only a daemon's main() may do. See bav-milter(8),
 * bav-policyd(8).
 */
#ifndef BAV_DAEMON_H
#define BAV_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* ---- logging (log.c) ---- */
enum log_level {
	LOG_L_NONE = 0,
	LOG_L_FATAL,
	LOG_L_ERROR,
	LOG_L_WARNING,
	LOG_L_NOTICE,
	LOG_L_INFO,
	LOG_L_VERBOSE,
	LOG_L_DEBUG,
};
enum log_sink {
	LOG_SINK_SYSLOG = 0,	/* syslog, facility mail */
	LOG_SINK_SYSLOG_STDERR,	/* syslog and a copy on stderr */
	LOG_SINK_STDERR,	/* "ident: LEVEL: text" on stderr only */
};
/* Case-insensitive prefix of a level name (as OpenEMM's -L); -1 if none. */
int log_level_parse(const char *name);
/* syslog facility of a name (mail, daemon, user, local0..local7, any
   case), -1 if none; log_open() uses log_facility (LOG_MAIL unless
   main() sets it first, from main.cf's syslog_facility). */
int log_facility_parse(const char *name);
extern int log_facility;
/* Set ident (kept, not copied), level and sink once, before threads. */
void log_open(const char *ident, enum log_level level, enum log_sink sink);
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Copy of untrusted text for a log line: control characters become '?',
   at most size-1 bytes. Returns dst. */
char *log_sanitize(char *dst, size_t size, const char *src);

/* ---- start-up (daemon.c); main() only, before threads ---- */
struct daemon_user {
	const char *spec;	/* "user[:group]" as given to -u */
	uid_t uid;
	gid_t gid;
	bool set;		/* false: no -u, stay who we are */
};
/* The options both daemons take. */
struct daemon_opts {
	bool detach;		/* -d */
	bool check;		/* -n: check the set-up and exit */
	int level;		/* -L, an enum log_level */
	const char *pidfile;	/* -p */
	const char *user_spec;	/* -u user[:group] */
	struct daemon_user user;	/* filled by daemon_user_parse() */
};
/* Take getopt's ch if it is -d, -L, -n, -p or -u (true), else false.
   Dies on a bad -L level. */
bool daemon_option(struct daemon_opts *d, int ch, const char *arg);
/* After the sockets are open: detach (-d), write the pid file (-p),
   switch to the -u user. */
void daemon_start(const struct daemon_opts *d);
/* name: prefix of stderr messages; die_logs: daemon_die() also logs
   at FATAL. Installs daemon_oom_exit() as libbav's OOM hook. */
void daemon_init(const char *name, bool die_logs);
/* "name: message" on stderr (and the log), then exit(1). */
void daemon_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
/* Log FATAL "out of memory (N bytes)", _exit(75). */
void daemon_oom_exit(size_t size) __attribute__((noreturn));
/* Decimal number 0..max, else dies with "bad WHAT 'S'". */
unsigned long daemon_number(const char *s, unsigned long max,
			    const char *what);
/* Resolve "user[:group]" into u (keeps spec); dies if unknown. */
void daemon_user_parse(struct daemon_user *u, const char *spec);
/* File of "unix:/p", "local:/p" or "/p" (points into spec); NULL: inet. */
const char *daemon_socket_path(const char *spec);
/* Fork (parent exits 0), setsid, chdir /, stdio on /dev/null. */
void daemon_detach(void);
void daemon_pidfile_write(const char *path);
/* setgroups/setgid/setuid to u; nothing when !u->set. */
void daemon_user_switch(const struct daemon_user *u);
/* Block SIGHUP, SIGTERM, SIGINT here and in threads started later. */
void daemon_signals_block(void);

/* ---- main.cf (config.c); main() only, before threads ---- */
struct bav_config;
/* main.cf of -C FILE (argv scanned with optstring, getopt reset after),
   else $BAV_CONFIG, else the default file; dies if it cannot be loaded,
   printing its fatal problems prefixed "name: ". */
struct bav_config *daemon_config_load(int argc, char **argv,
				      const char *optstring, const char *name);

/* ---- SPF (spf.c; defined only when configure found libspf2) ---- */
struct SPF_server_struct;	/* SPF_server_t */
struct SPF_dns_server_struct;	/* SPF_dns_server_t */
struct daemon_spf {
	struct SPF_server_struct *server;
	struct SPF_dns_server_struct *zone;	/* stub zone, or NULL */
};
/* The SPF server on DNS (zone_path NULL) or on a stub zone file ("NAME
   TXT|A|AAAA|MX|PTR DATA" lines); -1 and a malloc'ed *error_r. */
int daemon_spf_init(struct daemon_spf *spf, const char *zone_path,
		    char **error_r);
/* Free both (half-made or zeroed is fine) and zero them. */
void daemon_spf_deinit(struct daemon_spf *spf);

#endif
