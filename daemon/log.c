/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	log - leveled logging of the bav daemons (syslog facility mail or
 *	stderr)
 * SYNOPSIS
 *	#include "bav_daemon.h"
 *
 *	int log_level_parse(const char *name)
 *	int log_facility_parse(const char *name)
 *	void log_open(const char *ident, enum log_level level,
 *		      enum log_sink sink)
 *	bool log_enabled(enum log_level level)
 *	void log_msg(enum log_level level, const char *fmt, ...)
 *	char *log_sanitize(char *dst, size_t size, const char *src)
 * DESCRIPTION
 *	Shared by bav-milter and bav-policyd. Level names are OpenEMM's
 *	(NONE FATAL ERROR WARNING NOTICE INFO VERBOSE DEBUG); -L takes any
 *	case-insensitive prefix. The sink decides where lines go:
 *
 *	LOG_SINK_SYSLOG		syslog, facility log_facility (LOG_MAIL
 *				unless main.cf's syslog_facility names
 *				another), tagged ident[pid]
 *	LOG_SINK_SYSLOG_STDERR	the same, and a copy on stderr (LOG_PERROR;
 *				bav-milter in the foreground)
 *	LOG_SINK_STDERR		stderr only, as "ident: LEVEL: text" without
 *				time or pid, so that protocol tests can
 *				compare them (bav-policyd -e)
 *
 *	ident must stay valid for the life of the process (syslog keeps the
 *	pointer). The level and sink are set once in main() before any
 *	thread starts and only read afterwards; syslog(3) and stdio are
 *	thread-safe. Before log_open() lines go to syslog with the level
 *	WARNING. Callers start each line with the queue ID (or the
 *	connection id before there is one) and pass untrusted text through
 *	log_sanitize(), which writes into the caller's buffer dst.
 * DIAGNOSTICS
 *	none; a stderr line longer than 2047 bytes is cut.
 * SEE ALSO
 *	syslog(3), bav-milter(8), bav-policyd(8)
 */
#include "bav_daemon.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

static const char *const level_names[] = {
	"NONE", "FATAL", "ERROR", "WARNING", "NOTICE", "INFO", "VERBOSE",
	"DEBUG"
};
static const int level_prio[] = {
	LOG_DEBUG, LOG_CRIT, LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO,
	LOG_DEBUG, LOG_DEBUG
};

static enum log_level log_level = LOG_L_WARNING;
static enum log_sink log_sink = LOG_SINK_SYSLOG;
static const char *log_ident = "bav";
int log_facility = LOG_MAIL;	/* set once in main() before log_open() */

int log_facility_parse(const char *name)
{
	static const struct { const char *name; int facility; } f[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "user", LOG_USER }, { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 },
	};
	size_t i;

	for (i = 0; name != NULL && i < sizeof(f) / sizeof(f[0]); i++)
		if (strcasecmp(name, f[i].name) == 0)
			return f[i].facility;
	return -1;
}

int log_level_parse(const char *name)
{
	size_t len = strlen(name), i;

	if (len == 0)
		return -1;
	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strncasecmp(level_names[i], name, len) == 0)
			return (int)i;
	return -1;
}

void log_open(const char *ident, enum log_level level, enum log_sink sink)
{
	log_ident = ident;
	log_level = level;
	log_sink = sink;
	if (sink != LOG_SINK_STDERR)
		openlog(ident, LOG_PID | LOG_NDELAY |
			(sink == LOG_SINK_SYSLOG_STDERR ? LOG_PERROR : 0),
			log_facility);
}

bool log_enabled(enum log_level level)
{
	return level != LOG_L_NONE && level <= log_level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	if (log_sink == LOG_SINK_STDERR) {
		char line[2048];

		vsnprintf(line, sizeof(line), fmt, ap);
		fprintf(stderr, "%s: %s: %s\n", log_ident, level_names[level],
			line);
	} else {
		vsyslog(level_prio[level], fmt, ap);
	}
	va_end(ap);
}

char *log_sanitize(char *dst, size_t size, const char *src)
{
	size_t i;

	if (size == 0)
		return dst;
	for (i = 0; i + 1 < size && src != NULL && src[i] != '\0'; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	dst[i] = '\0';
	return dst;
}
