/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	proto - the Postfix policy delegation request parser
 * SYNOPSIS
 *	enum proto_result proto_parse(char *buf, size_t len,
 *				      struct policy_request *req,
 *				      size_t *used_r, const char **why_r)
 * DESCRIPTION
 *	A request is a sequence of "name=value" lines, each ended by a
 *	newline, and ends with an empty line (Postfix SMTPD_POLICY_README).
 *	Names are not checked against a list: every attribute is accepted
 *	and the unknown ones are ignored, so a newer Postfix with more
 *	attributes keeps working. A "\r" before the newline is dropped. The
 *	value is everything after the first "=" (it may contain "=").
 *
 *	proto_parse() looks at the bytes a connection has buffered: with
 *	no complete request it returns PROTO_MORE; with one it turns the
 *	line ends of that request into NULs, points the fields of *req into
 *	the buffer (they stay valid until the caller moves or reuses it)
 *	and returns PROTO_REQUEST with the request's length in *used_r.
 *	The caller consumes that many bytes and calls again: several
 *	pipelined requests in one read are answered in order.
 * DIAGNOSTICS
 *	PROTO_BROKEN with a static reason in *why_r: a line without "=",
 *	an empty attribute name, a NUL byte, a request without attributes,
 *	more than settings.max_attributes attributes, or more than
 *	settings.max_request_size bytes (detected before the end arrives,
 *	so an endless line cannot grow the buffer). The caller logs a
 *	warning and disconnects without a reply; Postfix then applies
 *	its default action (smtpd_policy_service_default_action).
 * SEE ALSO
 *	Postfix SMTPD_POLICY_README, section "Policy protocol description".
 */
#include "bav_policyd.h"

#include <string.h>

static const char empty[] = "";

/* Point the field for name at value when the decisions use it. */
static void keep_attr(struct policy_request *req, const char *name,
		      size_t nlen, const char *value)
{
#define IS(lit) (nlen == sizeof(lit) - 1 && memcmp(name, lit, nlen) == 0)
	switch (name[0]) {
	case 'c':
		if (IS("client_address"))
			req->client_address = value;
		else if (IS("client_name"))
			req->client_name = value;
		break;
	case 'h':
		if (IS("helo_name"))
			req->helo_name = value;
		break;
	case 'i':
		if (IS("instance"))
			req->instance = value;
		break;
	case 'p':
		if (IS("protocol_state"))
			req->protocol_state = value;
		break;
	case 'q':
		if (IS("queue_id"))
			req->queue_id = value;
		break;
	case 'r':
		if (IS("recipient"))
			req->recipient = value;
		break;
	case 's':
		if (IS("sender"))
			req->sender = value;
		break;
	default:
		break;
	}
#undef IS
}

#define LINES_MAX 64	/* lines find_end() remembers for the parser */
#define NO_EQ ((size_t)-1)

struct line {
	size_t start, len;	/* without the newline */
	size_t eq;		/* offset of the first "=", or NO_EQ */
};

/* Where the request starting at buf ends: the offset of the newline of
   its empty line ("\n" or "\r\n"), or -1 when not there yet. One pass
   finds the "=" and the end of each line; the first LINES_MAX lines
   are kept in lines, their count (all of them) is in *nlines_r. */
static long find_end(const char *buf, size_t len, struct line *lines,
		     size_t *nlines_r)
{
	const char *stop = buf + len;
	size_t pos = 0, n = 0;

	while (pos < len) {
		const char *line = buf + pos, *p = line, *nl;
		size_t llen;

		/* the name is short: a byte loop up to "=" or the newline */
		while (p < stop && *p != '=' && *p != '\n')
			p++;
		if (p == stop)
			return -1;
		nl = *p == '\n' ? p :
			memchr(p + 1, '\n', (size_t)(stop - p - 1));
		if (nl == NULL)
			return -1;
		llen = (size_t)(nl - line);
		if (llen == 0 || (llen == 1 && *line == '\r')) {
			*nlines_r = n;
			return (long)(nl - buf);
		}
		if (n < LINES_MAX) {
			lines[n].start = pos;
			lines[n].len = llen;
			lines[n].eq = *p == '=' ? (size_t)(p - line) : NO_EQ;
		}
		n++;
		pos += llen + 1;
	}
	return -1;
}

/* One attribute line of llen bytes (without the newline); false with
   *why_r when broken. */
static bool parse_line(char *line, size_t llen, size_t eq,
		       struct policy_request *req, const char **why_r)
{
	if (llen > 0 && line[llen - 1] == '\r')
		llen--;
	line[llen] = '\0';
	if (eq == NO_EQ) {
		*why_r = "line without '='";
		return false;
	}
	if (eq == 0) {
		*why_r = "empty attribute name";
		return false;
	}
	if (++req->nattrs > settings.max_attributes) {
		*why_r = "too many attributes";
		return false;
	}
	line[eq] = '\0';
	keep_attr(req, line, eq, line + eq + 1);
	return true;
}

enum proto_result proto_parse(char *buf, size_t len,
			      struct policy_request *req, size_t *used_r,
			      const char **why_r)
{
	struct line lines[LINES_MAX];
	size_t nlines = 0, i, pos = 0;
	long end = find_end(buf, len, lines, &nlines);

	if (end < 0) {
		if (len > settings.max_request_size) {
			*why_r = "request too large";
			return PROTO_BROKEN;
		}
		return PROTO_MORE;
	}
	if ((size_t)end + 1 > settings.max_request_size) {
		*why_r = "request too large";
		return PROTO_BROKEN;
	}
	if (memchr(buf, '\0', (size_t)end) != NULL) {
		*why_r = "NUL byte in request";
		return PROTO_BROKEN;
	}
	req->protocol_state = req->sender = req->recipient = empty;
	req->client_address = req->client_name = req->helo_name = empty;
	req->queue_id = req->instance = empty;
	req->nattrs = 0;
	for (i = 0; i < nlines && nlines <= LINES_MAX; i++)
		if (!parse_line(buf + lines[i].start, lines[i].len,
				lines[i].eq, req, why_r))
			return PROTO_BROKEN;
	/* more lines than find_end() kept: line by line */
	while (nlines > LINES_MAX && pos < (size_t)end) {
		char *line = buf + pos;
		char *nl = memchr(line, '\n', (size_t)end + 1 - pos);
		char *eq;
		size_t llen = (size_t)(nl - line);

		pos += llen + 1;
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		if (llen == 0)
			break;	/* the "\r\n" end line */
		line[llen] = '\0';
		eq = memchr(line, '=', llen);
		if (eq == NULL) {
			*why_r = "line without '='";
			return PROTO_BROKEN;
		}
		if (eq == line) {
			*why_r = "empty attribute name";
			return PROTO_BROKEN;
		}
		if (++req->nattrs > settings.max_attributes) {
			*why_r = "too many attributes";
			return PROTO_BROKEN;
		}
		*eq = '\0';
		keep_attr(req, line, (size_t)(eq - line), eq + 1);
	}
	if (req->nattrs == 0) {
		*why_r = "empty request";
		return PROTO_BROKEN;
	}
	*used_r = (size_t)end + 1;
	return PROTO_REQUEST;
}
