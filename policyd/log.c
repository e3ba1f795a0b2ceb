/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	log - leveled logging of bav-policyd (syslog facility mail or stderr)
 * SYNOPSIS
 *	int log_level_parse(const char *name)
 *	void log_open(enum log_level level, bool to_stderr)
 *	void log_msg(enum log_level level, const char *fmt, ...)
 *	char *log_sanitize(char *dst, size_t size, const char *src)
 * DESCRIPTION
 *	Level names are bav-milter's (NONE FATAL ERROR WARNING NOTICE INFO
 *	VERBOSE DEBUG); -L takes any case-insensitive prefix. Lines go to
 *	syslog with facility LOG_MAIL, or with -e to stderr as
 *	"bav-policyd: LEVEL: text" without time or pid, so that the protocol
 *	tests can compare them. Callers start each line with the queue ID
 *	or the connection id and pass untrusted text through
 *	log_sanitize().
 * DIAGNOSTICS
 *	none.
 */
#include "bav_policyd.h"

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
static bool log_stderr;

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

void log_open(enum log_level level, bool to_stderr)
{
	log_level = level;
	log_stderr = to_stderr;
	if (!to_stderr)
		openlog("bav-policyd", LOG_PID | LOG_NDELAY, LOG_MAIL);
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
	if (log_stderr) {
		char line[2048];

		vsnprintf(line, sizeof(line), fmt, ap);
		fprintf(stderr, "bav-policyd: %s: %s\n", level_names[level],
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
