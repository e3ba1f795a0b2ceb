/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	lmtp_session - one LMTP (RFC 2033) session of bav lmtpd
 * SYNOPSIS
 *	#include "lmtp.h"
 *
 *	void lmtp_session_run(const struct lmtp_server *srv, int fd,
 *			      struct bav_spool *spool, const char *peer)
 * DESCRIPTION
 *	Speaks LMTP on fd: LHLO (announcing PIPELINING, SIZE, 8BITMIME and
 *	ENHANCEDSTATUSCODES), MAIL FROM (SIZE= and BODY= parameters), RCPT
 *	TO, DATA with one reply per accepted recipient, RSET, NOOP, VRFY
 *	(252) and QUIT. Replies are buffered and sent when the client's
 *	pipelined input is used up. The message is read with dot-unstuffing,
 *	CRLF turned into LF, a Return-Path header put in front (as the pipe
 *	transport's flags=R does), and handed to deliver_message():
 *	one spool entry for all recipients, fsync'ed before "250 2.0.0" is
 *	sent for each of them; a spool failure answers "451 4.3.0" for each.
 *	A message over the size limit is read to its end and refused with
 *	"552 5.3.4" per recipient.
 *
 *	Garbage: unknown commands and syntax errors get 500/501/503; lines
 *	over 1000 bytes get "500 5.5.2"; after srv->max_errors of them the
 *	session ends with "421 4.7.0". An idle client is dropped after
 *	srv->timeout_s seconds ("421 4.4.2"); srv->stop ends the session
 *	between commands ("421 4.3.2").
 *
 *	The queue id logged is the Postfix queue id from the message's
 *	first Received: header ("... id QUEUEID ..."), when there is one.
 * DIAGNOSTICS
 *	syslog (facility mail): one line per message and per spool failure.
 * SEE ALSO
 *	RFC 2033, RFC 5321, RFC 1870, RFC 2034, RFC 6152, bav-deliver(8)
 */
#include "lmtp.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define LINE_MAX_LEN 1000
#define IN_SIZE 65536

struct session {
	const struct lmtp_server *srv;
	int fd;
	struct bav_spool *spool;
	const char *peer;
	/* input */
	char in[IN_SIZE];
	size_t in_pos, in_len;
	bool eof;
	/* output */
	char *out;
	size_t out_len, out_cap;
	bool out_error;
	/* transaction */
	bool lhlo, mail;
	char *sender;
	char **rcpts;
	unsigned int nrcpts;
	unsigned int errors;
	/* message */
	char *msg;
	size_t msg_len, msg_cap;
	bool too_big;
};

enum read_ret { R_LINE, R_LONG, R_EOF, R_TIMEOUT, R_STOP };

static void out_add(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void out_add(struct session *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		/* no buffer yet: NULL, not NULL + 0 (undefined) */
		n = vsnprintf(s->out != NULL ? s->out + s->out_len : NULL,
			      s->out_cap - s->out_len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < s->out_cap - s->out_len) {
			s->out_len += (size_t)n;
			return;
		}
		s->out_cap = s->out_cap * 2 + (size_t)n + 3;
		if ((s->out = realloc(s->out, s->out_cap)) == NULL)
			abort();
	}
}

static void flush_out(struct session *s)
{
	size_t off = 0;
	ssize_t w;

	while (off < s->out_len && !s->out_error) {
		w = write(s->fd, s->out + off, s->out_len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			s->out_error = true;
		else
			off += (size_t)w;
	}
	s->out_len = 0;
}

/* Fill the input buffer: flushes the replies first (the client waits
   for them before sending more). */
static enum read_ret fill(struct session *s)
{
	struct pollfd pfd;
	unsigned int waited = 0;
	ssize_t r;

	flush_out(s);
	if (s->out_error)
		return R_EOF;
	if (s->in_pos > 0) {
		memmove(s->in, s->in + s->in_pos, s->in_len - s->in_pos);
		s->in_len -= s->in_pos;
		s->in_pos = 0;
	}
	for (;;) {
		if (*s->srv->stop)
			return R_STOP;
		pfd.fd = s->fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, 1000);
		if (r < 0 && errno != EINTR)
			return R_EOF;
		if (r <= 0) {
			if (++waited >= s->srv->timeout_s)
				return R_TIMEOUT;
			continue;
		}
		r = read(s->fd, s->in + s->in_len, sizeof(s->in) - s->in_len);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			s->eof = true;
			return R_EOF;
		}
		s->in_len += (size_t)r;
		return R_LINE;
	}
}

/* Next line without CR LF into *line_r (NUL-terminated in the input
   buffer, valid until the next call). R_LONG: the line was longer than
   max and has been skipped. */
static enum read_ret read_line(struct session *s, char **line_r,
			       size_t *len_r, size_t max)
{
	bool skipping = false;
	enum read_ret r;

	for (;;) {
		char *start = s->in + s->in_pos;
		char *nl = memchr(start, '\n', s->in_len - s->in_pos);

		if (nl != NULL) {
			size_t len = (size_t)(nl - start);

			s->in_pos += len + 1;
			if (skipping || len > max + 1)
				return R_LONG;
			if (len > 0 && start[len - 1] == '\r')
				len--;
			start[len] = '\0';
			*line_r = start;
			*len_r = len;
			return R_LINE;
		}
		if (s->in_len - s->in_pos > max + 2) {
			/* too long: drop what we have, skip to the newline */
			skipping = true;
			s->in_pos = s->in_len;
		}
		if ((r = fill(s)) != R_LINE)
			return r;
	}
}

static void reset_tx(struct session *s)
{
	unsigned int i;

	for (i = 0; i < s->nrcpts; i++)
		free(s->rcpts[i]);
	s->nrcpts = 0;
	free(s->sender);
	s->sender = NULL;
	s->mail = false;
}

/* Parse "<addr>" at p (after "FROM:" / "TO:"); returns malloc'ed addr
   and sets *rest_r to the parameters, or NULL on bad syntax. */
static char *parse_path(const char *p, const char **rest_r)
{
	const char *end;
	char *a, *q;

	while (*p == ' ')
		p++;
	if (*p != '<')
		return NULL;
	if ((end = strchr(p, '>')) == NULL)
		return NULL;
	a = strndup(p + 1, (size_t)(end - p - 1));
	if (a == NULL)
		abort();
	/* no blank, no bracket, no control character (a bare CR would
	   end up in the header of an autoresponder answer) */
	for (q = a; *q != '\0'; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f || *q == '<' ||
		    *q == '>')
			break;
	if (*q != '\0') {
		free(a);
		return NULL;
	}
	*rest_r = end + 1;
	return a;
}

/* SIZE= and BODY= parameters of MAIL; reply and return false if bad. */
static bool mail_params(struct session *s, const char *p)
{
	while (*p != '\0') {
		const char *end;
		size_t len;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		end = p + strcspn(p, " ");
		len = (size_t)(end - p);
		if (len > 5 && strncasecmp(p, "SIZE=", 5) == 0) {
			unsigned long long v = strtoull(p + 5, NULL, 10);

			if (v > s->srv->cfg->max_size) {
				out_add(s, "552 5.3.4 Message size exceeds "
					"fixed limit\r\n");
				return false;
			}
		} else if (!(len == 9 && strncasecmp(p, "BODY=7BIT", 9) == 0) &&
			   !(len == 13 &&
			     strncasecmp(p, "BODY=8BITMIME", 13) == 0)) {
			out_add(s, "555 5.5.4 Unsupported parameter\r\n");
			return false;
		}
		p = end;
	}
	return true;
}

static bool cmd_is(const char *line, const char *cmd)
{
	size_t n = strlen(cmd);

	return strncasecmp(line, cmd, n) == 0 &&
		(line[n] == '\0' || line[n] == ' ' || cmd[n - 1] == ':');
}

static void bad(struct session *s, const char *reply)
{
	s->errors++;
	out_add(s, "%s\r\n", reply);
}

static void do_mail(struct session *s, const char *arg)
{
	const char *rest;
	char *a;

	if (!s->lhlo) {
		bad(s, "503 5.5.1 Send LHLO first");
		return;
	}
	if (s->mail) {
		bad(s, "503 5.5.1 Nested MAIL command");
		return;
	}
	if ((a = parse_path(arg, &rest)) == NULL) {
		bad(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	if (!mail_params(s, rest)) {
		free(a);
		return;
	}
	s->sender = a;
	s->mail = true;
	out_add(s, "250 2.1.0 Ok\r\n");
}

static void do_rcpt(struct session *s, const char *arg)
{
	const char *rest;
	char *a;

	if (!s->mail) {
		bad(s, "503 5.5.1 Need MAIL command");
		return;
	}
	if ((a = parse_path(arg, &rest)) == NULL || *a == '\0') {
		free(a);
		bad(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (s->nrcpts >= s->srv->max_rcpts) {
		free(a);
		out_add(s, "452 4.5.3 Too many recipients\r\n");
		return;
	}
	if ((s->nrcpts & (s->nrcpts - 1)) == 0 || s->nrcpts == 0) {
		s->rcpts = realloc(s->rcpts, (s->nrcpts ? s->nrcpts * 2 : 1) *
				   sizeof(*s->rcpts));	/* @UNSAFE */
		if (s->rcpts == NULL)
			abort();
	}
	s->rcpts[s->nrcpts++] = a;
	out_add(s, "250 2.1.5 Ok\r\n");
}

static void msg_add(struct session *s, const char *data, size_t len)
{
	if (s->too_big)
		return;
	if (s->msg_len + len + 1 > s->srv->cfg->max_size + 4096) {
		s->too_big = true;
		return;
	}
	if (s->msg_len + len + 1 > s->msg_cap) {
		s->msg_cap = (s->msg_len + len + 1) * 2;
		if ((s->msg = realloc(s->msg, s->msg_cap)) == NULL)
			abort();
	}
	memcpy(s->msg + s->msg_len, data, len);
	s->msg_len += len;
}

/* Read the message up to the lone "." line, un-stuffing dots and turning
   CRLF into LF; any line length. False when the connection ended. */
static bool read_data(struct session *s, size_t *body_len_r)
{
	size_t hdr_len, avail, len;
	bool bol = true;
	char *p, *nl;

	s->msg_len = 0;
	s->too_big = false;
	msg_add(s, "Return-Path: <", 14);
	msg_add(s, s->sender, strlen(s->sender));
	msg_add(s, ">\n", 2);
	hdr_len = s->msg_len;
	for (;;) {
		p = s->in + s->in_pos;
		avail = s->in_len - s->in_pos;
		if (avail == 0 || (bol && p[0] == '.' && avail < 3 &&
				   !(avail == 2 && p[1] != '\r'))) {
			if (fill(s) != R_LINE)
				return false;
			continue;
		}
		if (bol && p[0] == '.') {
			if (p[1] == '\n') {
				s->in_pos += 2;
				break;
			}
			if (p[1] == '\r' && p[2] == '\n') {
				s->in_pos += 3;
				break;
			}
			s->in_pos++;	/* a stuffed dot */
			p++;
			avail--;
		}
		nl = memchr(p, '\n', avail);
		if (nl != NULL) {
			len = (size_t)(nl - p);
			msg_add(s, p, len > 0 && p[len - 1] == '\r' ? len - 1 :
				len);
			msg_add(s, "\n", 1);
			s->in_pos += len + 1;
			bol = true;
		} else {
			/* part of a line; keep a trailing CR for the next
			   round, it may start a CR LF */
			len = p[avail - 1] == '\r' ? avail - 1 : avail;
			bol = false;
			if (len == 0) {
				if (fill(s) != R_LINE)
					return false;
				continue;
			}
			msg_add(s, p, len);
			s->in_pos += len;
		}
	}
	if (s->msg_len - hdr_len > s->srv->cfg->max_size)
		s->too_big = true;
	*body_len_r = s->msg_len - hdr_len;
	return true;
}

#define QID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/* Postfix queue id from the first Received: header, or "". */
static void find_queue_id(const char *msg, size_t len, char *qid,
			  size_t size)
{
	const char *p = msg, *end = msg + len, *eoh, *id;
	size_t n;

	qid[0] = '\0';
	eoh = memmem(msg, len, "\n\n", 2);
	if (eoh != NULL)
		end = eoh;
	while (p < end) {
		if (end - p >= 9 && strncasecmp(p, "Received:", 9) == 0) {
			const char *lim = p + 9;

			/* the header with its continuation lines */
			while (lim < end && (lim = memchr(lim, '\n',
				(size_t)(end - lim))) != NULL &&
			       lim + 1 < end && (lim[1] == ' ' || lim[1] == '\t'))
				lim++;
			if (lim == NULL)
				lim = end;
			id = memmem(p, (size_t)(lim - p), " id ", 4);
			if (id != NULL) {
				id += 4;
				/* the message is not NUL-terminated: stop at lim */
				n = 0;
				while (id + n < lim &&
				       strchr(QID_CHARS, id[n]) != NULL &&
				       id[n] != '\0')
					n++;
				if (n > 0 && n < size) {
					memcpy(qid, id, n);
					qid[n] = '\0';
				}
			}
			return;
		}
		p = memchr(p, '\n', (size_t)(end - p));
		if (p == NULL)
			return;
		p++;
	}
}

static void do_data(struct session *s, const char *arg)
{
	struct deliver_result res;
	char qid[32];
	size_t body_len = 0;
	unsigned int i;
	int ret;

	if (*arg != '\0') {
		bad(s, "501 5.5.4 Syntax: DATA");
		return;
	}
	if (!s->mail || s->nrcpts == 0) {
		bad(s, s->mail ? "503 5.5.1 No valid recipients" :
		    "503 5.5.1 Need MAIL command");
		return;
	}
	out_add(s, "354 End data with <CR><LF>.<CR><LF>\r\n");
	if (!read_data(s, &body_len))
		return;
	if (s->too_big) {
		for (i = 0; i < s->nrcpts; i++)
			out_add(s, "552 5.3.4 Message size exceeds fixed "
				"limit\r\n");
		syslog(LOG_NOTICE, "%s: from=<%s>: message larger than %zu "
		       "bytes, refused", s->peer, s->sender,
		       s->srv->cfg->max_size);
		reset_tx(s);
		return;
	}
	find_queue_id(s->msg, s->msg_len, qid, sizeof(qid));
	if (s->spool == NULL) {
		ret = BAV_ETEMP;
		snprintf(res.error, sizeof(res.error), "spool not open");
	} else {
		ret = deliver_message(s->srv->cfg, s->spool, s->sender,
			(const char *const *)s->rcpts, s->nrcpts, qid,
			(const unsigned char *)s->msg, s->msg_len, &res);
	}
	for (i = 0; i < s->nrcpts; i++) {
		if (ret == BAV_OK)
			out_add(s, "250 2.0.0 <%s> Ok, spooled as %s\r\n",
				s->rcpts[i], res.name);
		else
			out_add(s, "451 4.3.0 <%s> Temporary failure, "
				"try again later\r\n", s->rcpts[i]);
	}
	if (ret == BAV_OK) {
		if (!s->srv->cfg->quiet)
			syslog(LOG_INFO, "%s: from=<%s>, to=<%s>%s, size=%zu, "
			       "kind=%s, spooled=%s%s%s%s",
			       qid[0] != '\0' ? qid : "NOQUEUE", s->sender,
			       s->rcpts[0], s->nrcpts > 1 ? " (and more)" : "",
			       body_len, res.kind, res.name,
			       res.fwd[0] != '\0' ? ", forwarded to <" : "",
			       res.fwd, res.fwd[0] != '\0' ? ">" : "");
	} else {
		syslog(LOG_ERR, "%s: %s", qid[0] != '\0' ? qid : "NOQUEUE",
		       res.error);
	}
	reset_tx(s);
}

/* One command line; false ends the session. */
static bool command(struct session *s, char *line)
{
	if (cmd_is(line, "LHLO")) {
		if (line[4] == '\0') {
			bad(s, "501 5.5.4 Syntax: LHLO hostname");
			return true;
		}
		reset_tx(s);
		s->lhlo = true;
		out_add(s, "250-%s\r\n250-PIPELINING\r\n250-SIZE %zu\r\n"
			"250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n",
			s->srv->cfg->host, s->srv->cfg->max_size);
	} else if (cmd_is(line, "MAIL FROM:")) {
		do_mail(s, line + 10);
	} else if (cmd_is(line, "RCPT TO:")) {
		do_rcpt(s, line + 8);
	} else if (cmd_is(line, "DATA")) {
		do_data(s, line + 4);
	} else if (cmd_is(line, "RSET")) {
		reset_tx(s);
		out_add(s, "250 2.0.0 Ok\r\n");
	} else if (cmd_is(line, "NOOP")) {
		out_add(s, "250 2.0.0 Ok\r\n");
	} else if (cmd_is(line, "VRFY")) {
		out_add(s, "252 2.5.2 Cannot VRFY user\r\n");
	} else if (cmd_is(line, "QUIT")) {
		out_add(s, "221 2.0.0 Bye\r\n");
		return false;
	} else if (cmd_is(line, "HELO") || cmd_is(line, "EHLO")) {
		bad(s, "500 5.5.1 This is LMTP: use LHLO");
	} else {
		bad(s, "500 5.5.2 Error: command not recognized");
	}
	return true;
}

void lmtp_session_run(const struct lmtp_server *srv, int fd,
		      struct bav_spool *spool, const char *peer)
{
	struct session *s = calloc(1, sizeof(*s));
	enum read_ret r;
	char *line;
	size_t len;

	if (s == NULL)
		abort();
	s->srv = srv;
	s->fd = fd;
	s->spool = spool;
	s->peer = peer;
	out_add(s, "220 %s LMTP bav ready\r\n", srv->cfg->host);
	for (;;) {
		r = read_line(s, &line, &len, LINE_MAX_LEN);
		if (r == R_LONG) {
			bad(s, "500 5.5.2 Line too long");
		} else if (r == R_TIMEOUT) {
			out_add(s, "421 4.4.2 %s Timeout, closing\r\n",
				srv->cfg->host);
			break;
		} else if (r == R_STOP) {
			out_add(s, "421 4.3.2 %s Shutting down\r\n",
				srv->cfg->host);
			break;
		} else if (r != R_LINE) {
			break;
		} else if (!command(s, line)) {
			break;
		}
		if (s->errors >= srv->max_errors) {
			out_add(s, "421 4.7.0 %s Too many errors, closing\r\n",
				srv->cfg->host);
			break;
		}
		if (s->out_error)
			break;
	}
	flush_out(s);
	reset_tx(s);
	free(s->rcpts);
	free(s->msg);
	free(s->out);
	free(s);
}
