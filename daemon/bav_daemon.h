/* SPDX-License-Identifier: MIT */
/*
 * bav_daemon.h - what bav-milter and bav-policyd share (the noinst
 * library libbav_daemon.la, daemon/): logging (log.c). Not part of
 * libbav: these helpers print, exit and keep process-wide settings,
 * which only a daemon's main() may do. See bav-milter(8), bav-policyd(8).
 */
#ifndef BAV_DAEMON_H
#define BAV_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

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
/* Set ident (kept, not copied), level and sink once, before threads. */
void log_open(const char *ident, enum log_level level, enum log_sink sink);
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Copy of untrusted text for a log line: control characters become '?',
   at most size-1 bytes. Returns dst. */
char *log_sanitize(char *dst, size_t size, const char *src);

#endif
