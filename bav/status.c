/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	status - RFC 3463 enhanced status codes and SMTP reply codes in text
 * SYNOPSIS
 *	bool bav_status_find(const char *text, size_t len, char out[16])
 *	int bav_replycode_find(const char *text, size_t len)
 *	const char *bav_status_pseudo(const char *reason, bool temporary)
 *	bool bav_status_valid(const char *s)
 * DESCRIPTION
 *	bav_status_find() copies the first plausible class 2, 4 or 5 status
 *	code (d.ddd.ddd) of text into out. bav_replycode_find() returns the
 *	first SMTP reply code (2xx/4xx/5xx at a word start, followed by a
 *	blank, '-' or end) or 0. bav_status_pseudo() gives the status used
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

bool bav_status_find(const char *text, size_t len, char out[16])
{
	const char *s = text, *end = text + len;

	for (; s + 5 <= end; s++) {
		size_t b, c;

		if ((*s != '2' && *s != '4' && *s != '5') || s[1] != '.')
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

int bav_replycode_find(const char *text, size_t len)
{
	const char *s = text, *end = text + len;

	for (; s + 3 <= end; s++) {
		int code;

		if (*s != '2' && *s != '4' && *s != '5')
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

static const struct {
	const char *reason;
	int code;
} pseudo[] = {
	{ "undefined", 900 }, { "onhold", 901 }, { "syntaxerror", 902 },
	{ "norelaying", 909 }, { "filtered", 910 }, { "userunknown", 911 },
	{ "hostunknown", 912 }, { "hasmoved", 916 }, { "rejected", 918 },
	{ "suspend", 921 }, { "mailboxfull", 922 }, { "exceedlimit", 923 },
	{ "systemerror", 930 }, { "systemfull", 931 }, { "notaccept", 932 },
	{ "mesgtoobig", 934 }, { "mailererror", 939 },
	{ "networkerror", 944 }, { "toomanyconn", 945 }, { "expired", 947 },
	{ "contenterror", 960 }, { "securityerror", 970 },
	{ "blocked", 971 }, { "virusdetected", 971 },
	{ "policyviolation", 972 }, { "requireptr", 973 },
	{ "authfailure", 974 }, { "badreputation", 975 },
	{ "spamdetected", 980 }, { "speeding", 945 },
	{ "notcompliantrfc", 960 },
};

const char *bav_status_pseudo(const char *reason, bool temporary)
{
	static const char *const five[] = {
		"5.0.900", "5.0.901", "5.0.902", "5.0.909", "5.0.910",
		"5.0.911", "5.0.912", "5.0.916", "5.0.918", "5.0.921",
		"5.0.922", "5.0.923", "5.0.930", "5.0.931", "5.0.932",
		"5.0.934", "5.0.939", "5.0.944", "5.0.945", "5.0.947",
		"5.0.960", "5.0.970", "5.0.971", "5.0.971", "5.0.972",
		"5.0.973", "5.0.974", "5.0.975", "5.0.980", "5.0.945",
		"5.0.960",
	};
	static const char *const four[] = {
		"4.0.900", "4.0.901", "4.0.902", "4.0.909", "4.0.910",
		"4.0.911", "4.0.912", "4.0.916", "4.0.918", "4.0.921",
		"4.0.922", "4.0.923", "4.0.930", "4.0.931", "4.0.932",
		"4.0.934", "4.0.939", "4.0.944", "4.0.945", "4.0.947",
		"4.0.960", "4.0.970", "4.0.971", "4.0.971", "4.0.972",
		"4.0.973", "4.0.974", "4.0.975", "4.0.980", "4.0.945",
		"4.0.960",
	};
	size_t i;

	for (i = 0; i < sizeof(pseudo) / sizeof(pseudo[0]); i++)
		if (strcmp(pseudo[i].reason, reason) == 0)
			return temporary ? four[i] : five[i];
	return temporary ? "4.0.900" : "5.0.900";
}
