/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	status - RFC 3463 enhanced status codes and SMTP reply codes in text
 * SYNOPSIS
 *	bool bav_status_find(const char *text, size_t len, char out[16])
 *	int bav_replycode_find(const char *text, size_t len)
 *	bool bav_status_find_failure(const char *text, size_t len, char out[16])
 *	int bav_replycode_find_failure(const char *text, size_t len)
 *	const char *bav_status_pseudo(const char *reason, bool temporary)
 *	bool bav_status_valid(const char *s)
 * DESCRIPTION
 *	bav_status_find() copies the first plausible class 2, 4 or 5 status
 *	code (d.ddd.ddd) of text into out. bav_replycode_find() returns the
 *	first SMTP reply code (2xx/4xx/5xx at a word start, followed by a
 *	blank, '-' or end) or 0. The _failure variants skip class 2 (the
 *	"250 Ok" lines of an SMTP transcript). bav_status_pseudo() gives the status used
 *	when a message names none: the x.0.9yy code of the reason, the same
 *	numbers Sisimai reports, so results compare.
 * DIAGNOSTICS
 *	none.
 */
#include "bav_private.h"
#include "classify_private.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

static size_t digits(const char *s, const char *end, size_t max)
{
	size_t n = 0;

	while (s + n < end && isdigit((unsigned char)s[n]) && n <= max)
		n++;
	return n;
}

bool bav_status_valid(const char *s)
{
	size_t a, b, c;
	const char *end = s + strlen(s);

	if (*s != '2' && *s != '4' && *s != '5')
		return false;
	a = digits(s, end, 1);
	if (a != 1 || s[1] != '.')
		return false;
	b = digits(s + 2, end, 3);
	if (b == 0 || b > 3 || s[2 + b] != '.')
		return false;
	c = digits(s + 3 + b, end, 3);
	return c > 0 && c <= 3 && s[3 + b + c] == '\0';
}

/* First status code of text whose class is one of classes. */
static bool status_find_class(const char *text, size_t len,
			      const char *classes, char out[16])
{
	const char *s = text, *end = text + len;

	for (; s + 5 <= end; s++) {
		size_t b, c;

		if (*s == '\0' || strchr(classes, *s) == NULL || s[1] != '.')
			continue;
		if (s > text && (isalnum((unsigned char)s[-1]) || s[-1] == '.' ||
				 s[-1] == '/' || s[-1] == '_'))
			continue;
		/* "452-4.2.2": a continued reply line, not "x-4.2.2" */
		if (s > text && s[-1] == '-' &&
		    !(s - text >= 2 && isdigit((unsigned char)s[-2])))
			continue;
		b = digits(s + 2, end, 3);
		if (b == 0 || b > 3 || s + 2 + b >= end || s[2 + b] != '.')
			continue;
		c = digits(s + 3 + b, end, 3);
		if (c == 0 || c > 3)
			continue;
		if (s + 3 + b + c < end) {
			char nx = s[3 + b + c];

			/* not a version number or an IP address */
			if (nx == '.' && s + 4 + b + c < end &&
			    isdigit((unsigned char)s[4 + b + c]))
				continue;
			if (isalnum((unsigned char)nx))
				continue;
		}
		/* subject ≤ 39, detail ≤ 999 (RFC 3463 registry) */
		if (atoi(s + 2) > 9 && b > 1 && atoi(s + 2) > 39)
			continue;
		memcpy(out, s, 3 + b + c);
		out[3 + b + c] = '\0';
		return true;
	}
	return false;
}

bool bav_status_find(const char *text, size_t len, char out[16])
{
	return status_find_class(text, len, "245", out);
}

/* Is the code at s (inside text) written right after an SMTP reply
   code: "550 5.2.2", "550-5.2.2", "550-'5.2.2"? */
static bool after_replycode(const char *text, const char *s)
{
	const char *p = s;
	int quote = 0;

	while (p > text && (p[-1] == '\'' || p[-1] == '"') && quote++ < 1)
		p--;
	if (p - text < 4 || (p[-1] != ' ' && p[-1] != '-'))
		return false;
	p--;
	return isdigit((unsigned char)p[-1]) && isdigit((unsigned char)p[-2]) &&
	       (p[-3] == '4' || p[-3] == '5') &&
	       (p - 3 == text || !isalnum((unsigned char)p[-4]));
}

bool bav_status_find_best(const char *text, size_t len, char out[16])
{
	const char *s = text, *end = text + len;
	char first[16];

	if (!status_find_class(text, len, "245", first))
		return false;
	/* a later code that the remote server gave with its reply code
	   beats a summary the reporting MTA put in front ("5.1.0 - Unknown
	   address error 550-'5.2.2 ...") */
	while (s < end && status_find_class(s, (size_t)(end - s), "245", out)) {
		const char *at = strstr(s, out);

		if (at == NULL || at >= end)
			break;
		if (after_replycode(text, at))
			return true;
		s = at + strlen(out);
	}
	memcpy(out, first, sizeof(first));
	return true;
}

bool bav_status_find_failure(const char *text, size_t len, char out[16])
{
	return status_find_class(text, len, "45", out);
}

static int replycode_find_class(const char *text, size_t len,
				const char *classes)
{
	const char *s = text, *end = text + len;

	for (; s + 3 <= end; s++) {
		int code;

		if (*s == '\0' || strchr(classes, *s) == NULL)
			continue;
		if (s > text && !(s[-1] == ' ' || s[-1] == '\t' ||
				  s[-1] == '\n' || s[-1] == '(' ||
				  s[-1] == '"' || s[-1] == '\'' ||
				  s[-1] == ':' || s[-1] == '[' ||
				  s[-1] == '<' || s[-1] == '#' || s[-1] == '='))
			continue;
		if (!isdigit((unsigned char)s[1]) ||
		    !isdigit((unsigned char)s[2]))
			continue;
		if (s + 3 < end && !(s[3] == ' ' || s[3] == '-' ||
				     s[3] == '\n' || s[3] == '\t' ||
				     s[3] == ')' || s[3] == ']' ||
				     s[3] == '"' || s[3] == ',' ||
				     s[3] == '\r' || s[3] == ':'))
			continue;
		if (s[3] == ':' && s + 4 < end && isdigit((unsigned char)s[4]))
			continue;	/* a time */
		code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
		if (s[1] > '5' || (code % 100) > 59)
			continue;
		return code;
	}
	return 0;
}

int bav_replycode_find(const char *text, size_t len)
{
	return replycode_find_class(text, len, "245");
}

int bav_replycode_find_failure(const char *text, size_t len)
{
	return replycode_find_class(text, len, "45");
}

/* The x.0.9yy status of each reason (the numbers Sisimai reports). */
static const struct {
	const char *reason, *perm, *temp;
} pseudo[] = {
#define P(r, n) { r, "5.0." n, "4.0." n }
	P("undefined", "900"), P("onhold", "901"), P("syntaxerror", "902"),
	P("norelaying", "909"), P("filtered", "910"), P("userunknown", "911"),
	P("hostunknown", "912"), P("hasmoved", "916"), P("rejected", "918"),
	P("suspend", "921"), P("mailboxfull", "922"), P("exceedlimit", "923"),
	P("systemerror", "930"), P("systemfull", "931"), P("notaccept", "932"),
	P("mesgtoobig", "934"), P("mailererror", "939"),
	P("networkerror", "944"), P("toomanyconn", "945"), P("expired", "947"),
	P("contenterror", "960"), P("securityerror", "970"),
	P("blocked", "971"), P("virusdetected", "971"),
	P("policyviolation", "972"), P("requireptr", "973"),
	P("authfailure", "974"), P("badreputation", "975"),
	P("spamdetected", "980"), P("speeding", "945"),
	P("notcompliantrfc", "960"),
#undef P
};

const char *bav_status_pseudo(const char *reason, bool temporary)
{
	size_t i;

	for (i = 0; i < sizeof(pseudo) / sizeof(pseudo[0]); i++)
		if (strcmp(pseudo[i].reason, reason) == 0)
			return temporary ? pseudo[i].temp : pseudo[i].perm;
	return temporary ? "4.0.900" : "5.0.900";
}
