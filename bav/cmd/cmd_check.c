/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cmd_check - "bav check": a Nagios/NRPE-style monitoring plugin
 * SYNOPSIS
 *	bav check spool [--spool DIR] [-w N[,AGE]] [-c N[,AGE]]
 *	bav check store [--store URI] [--password-file FILE] [-w S] [-c S]
 *	bav check bounces [--store URI] [--hours N] [--hard] [-w R] [-c R]
 *	bav check milter|policyd|lmtpd [-s SOCKET] [-w S] [-c S]
 *		[--address ADDR] [--expect TEXT]
 *	(every check also takes -t SECONDS, default 10, and -C FILE)
 *
 *	int cmd_check(int argc, char **argv)
 * DESCRIPTION
 *	Runs one check and prints exactly one line in the monitoring plugin
 *	convention, "BAV CHECK STATE - text | perfdata", on standard output;
 *	the exit status is the state: 0 OK, 1 WARNING, 2 CRITICAL,
 *	3 UNKNOWN. A value above the -w threshold is a WARNING, above -c
 *	CRITICAL.
 *
 *	spool: the entries waiting in new/ of the spool (--spool, else
 *	$BAV_SPOOL, else LOCALSTATEDIR/spool/bav) and the age in seconds of
 *	the oldest one; "-w 100,600" warns at more than 100 entries or an
 *	entry older than 600 s (default -w 100,600 -c 1000,3600). Entries
 *	in bad/ are reported in the perfdata. A missing spool is CRITICAL.
 *
 *	store: opens the store (--store, else $BAV_STORE), reads its schema
 *	version and times both; an unreachable store or an old schema is
 *	CRITICAL, a slow one WARNING/CRITICAL by the seconds taken
 *	(default -w 1 -c 5).
 *
 *	bounces: bounce results recorded in the last --hours hours (default
 *	1) per hour, only hard ones with --hard (default -w 100 -c 1000).
 *	The store being unreachable is UNKNOWN here (the store check owns
 *	that alarm).
 *
 *	milter, policyd, lmtpd: connect to SOCKET (unix:PATH, a plain /PATH,
 *	inet:PORT@HOST or inet6:PORT@HOST) and hold one real dialogue:
 *	milter option negotiation and quit; one Postfix policy request for
 *	--address (default postmaster@localhost) that must be answered with
 *	an action (starting with --expect TEXT when given); LMTP greeting,
 *	LHLO and QUIT. No answer or a wrong one is CRITICAL; the seconds it
 *	took are compared with -w/-c (default -w 1 -c 5). Without -s the
 *	socket is main.cf's milter_socket, policyd_listen or lmtpd_listen
 *	(also Postfix's spelling inet:HOST:PORT); the store's password
 *	file defaults to store_password_file (main.cf: -C FILE, else
 *	$BAV_CONFIG, else the default file, loaded by main()).
 *
 *	Usage errors are UNKNOWN (exit 3), as the convention wants.
 * DIAGNOSTICS
 *	Only the status line, on standard output. Never changes anything:
 *	the store is opened without migrations, the spool without creating
 *	it.
 * SEE ALSO
 *	bav(1), bav_spool.h, bav_store.h, the Monitoring Plugins
 *	Development Guidelines (output and perfdata format)
 */
#include "cmd.h"
#include "cmd_config.h"
#include "deliver.h"
#include "bav_spool.h"
#include "bav_store.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum state { ST_OK = 0, ST_WARNING = 1, ST_CRITICAL = 2, ST_UNKNOWN = 3 };
static const char *const state_names[] = {
	"OK", "WARNING", "CRITICAL", "UNKNOWN"
};

/* a -w or -c value: up to two numbers "A[,B]"; unset ones are < 0 */
struct limit {
	double v[2];
};

struct check {
	const char *name;		/* upper case, for the status line */
	struct bav_pool *pool;
	struct limit warn, crit;
	unsigned int timeout;
	const char *spool_dir, *store_uri, *password_file;
	const char *sock, *address, *expect;
	unsigned int hours;
	bool hard_only;
	enum state state;
	const char *text;
	const char *perf;
};

enum { OPT_SPOOL = 500, OPT_STORE, OPT_PWFILE, OPT_ADDRESS, OPT_EXPECT,
       OPT_HARD };

static const struct option check_opts[] = {
	{ "warning", required_argument, NULL, 'w' },
	{ "critical", required_argument, NULL, 'c' },
	{ "timeout", required_argument, NULL, 't' },
	{ "socket", required_argument, NULL, 's' },
	{ "hours", required_argument, NULL, 'H' },
	{ "spool", required_argument, NULL, OPT_SPOOL },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "password-file", required_argument, NULL, OPT_PWFILE },
	{ "address", required_argument, NULL, OPT_ADDRESS },
	{ "expect", required_argument, NULL, OPT_EXPECT },
	{ "hard", no_argument, NULL, OPT_HARD },
	{ NULL, 0, NULL, 0 },
};

/* Print the status line; returns the exit status. */
static int report(const struct check *c)
{
	printf("BAV %s %s - %s", c->name, state_names[c->state],
	       c->text != NULL ? c->text : "");
	if (c->perf != NULL && c->perf[0] != '\0')
		printf(" | %s", c->perf);
	putchar('\n');
	return (int)c->state;
}

static int unknown(struct check *c, const char *text)
{
	c->state = ST_UNKNOWN;
	c->text = text;
	c->perf = NULL;
	return report(c);
}

static void set_state(struct check *c, enum state st)
{
	if (st > c->state)
		c->state = st;
}

/* Compare value with limit slot i of -w and -c. */
static void judge(struct check *c, double value, unsigned int i)
{
	if (c->crit.v[i] >= 0 && value > c->crit.v[i])
		set_state(c, ST_CRITICAL);
	else if (c->warn.v[i] >= 0 && value > c->warn.v[i])
		set_state(c, ST_WARNING);
}

/* "LABEL=VALUE[UOM];WARN;CRIT;0" with empty WARN/CRIT when unset */
static const char *perf(struct check *c, const char *label, double value,
			const char *uom, unsigned int i, int prec)
{
	char w[32] = "", cr[32] = "";

	if (c->warn.v[i] >= 0)
		snprintf(w, sizeof(w), "%g", c->warn.v[i]);
	if (c->crit.v[i] >= 0)
		snprintf(cr, sizeof(cr), "%g", c->crit.v[i]);
	return bav_pool_printf(c->pool, "%s=%.*f%s;%s;%s;0", label, prec,
			       value, uom, w, cr);
}

/* "A", "A,B" or ",B"; the parts left out stay unset */
static int parse_limit(const char *s, struct limit *l)
{
	char *end;

	if (*s != ',') {
		l->v[0] = strtod(s, &end);
		if (end == s || !(l->v[0] >= 0))
			return -1;
		s = end;
	}
	if (*s == ',') {
		s++;
		l->v[1] = strtod(s, &end);
		if (end == s || !(l->v[1] >= 0))
			return -1;
		s = end;
	}
	return *s == '\0' ? 0 : -1;
}

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- spool --------------------------------------------------------------- */

static void check_spool(struct check *c)
{
	struct bav_spool *spool = NULL;
	const char **names = NULL, **bad = NULL;
	unsigned int count = 0, nbad = 0;
	const char *err = NULL;
	char *oerr = NULL;
	struct stat st;
	double age = 0;

	if (bav_spool_open(c->spool_dir, false, &spool, &oerr) != BAV_OK) {
		c->state = ST_CRITICAL;
		c->text = bav_pool_printf(c->pool, "%s", oerr != NULL ? oerr :
					  "cannot open the spool");
		free(oerr);
		return;
	}
	if (bav_spool_list(spool, c->pool, 0, &names, &count, &err) != BAV_OK ||
	    bav_spool_list_sub(spool, "bad", c->pool, 0, &bad, &nbad,
			       &err) != BAV_OK) {
		c->state = ST_CRITICAL;
		c->text = bav_pool_printf(c->pool, "%s: %s", c->spool_dir,
					  err != NULL ? err : "cannot list");
		bav_spool_close(&spool);
		return;
	}
	bav_spool_close(&spool);
	/* the oldest entry is listed first; it may be recorded meanwhile */
	if (count > 0 &&
	    stat(bav_pool_printf(c->pool, "%s/new/%s", c->spool_dir,
				 names[0]), &st) == 0) {
		age = difftime(time(NULL), st.st_mtime);
		if (age < 0)
			age = 0;
	}
	judge(c, count, 0);
	judge(c, age, 1);
	c->text = bav_pool_printf(c->pool, "%u entr%s waiting in %s, oldest "
				  "%.0f s, %u in bad/", count,
				  count == 1 ? "y" : "ies", c->spool_dir,
				  age, nbad);
	c->perf = bav_pool_printf(c->pool, "%s %s bad=%u;;;0",
				  perf(c, "entries", count, "", 0, 0),
				  perf(c, "oldest", age, "s", 1, 0), nbad);
}

/* ---- store and bounces --------------------------------------------------- */

static int open_store(struct check *c, struct bav_store **store_r,
		      const char **error_r)
{
	struct bav_store_opts opts = { .password_file = c->password_file };
	char *oerr = NULL;
	int ret;

	if (c->store_uri == NULL || c->store_uri[0] == '\0') {
		*error_r = "no store: use --store URI or set BAV_STORE";
		return BAV_ECONFIG;
	}
	opts.lock_timeout_ms = c->timeout * 1000;
	opts.net_timeout_s = c->timeout;
	(void)cmd_config_store_opts(c->store_uri, &opts, "check");
	ret = bav_store_open(c->store_uri, &opts, store_r, &oerr);
	if (ret != BAV_OK) {
		*error_r = bav_pool_strdup(c->pool, oerr != NULL ? oerr :
					   "cannot open the store");
		free(oerr);
	}
	return ret;
}

static void check_store(struct check *c)
{
	struct bav_store *store = NULL;
	const char *err = NULL;
	double t0 = now_mono(), took;
	int version = 0;

	if (open_store(c, &store, &err) != BAV_OK ||
	    bav_store_schema_version(store, &version, &err) != BAV_OK) {
		c->state = ST_CRITICAL;
		c->text = bav_pool_printf(c->pool, "%s", err);
		bav_store_close(&store);
		return;
	}
	took = now_mono() - t0;
	judge(c, took, 0);
	c->text = bav_pool_printf(c->pool, "%s store answered in %.3f s, "
				  "schema version %d",
				  bav_store_backend(store), took, version);
	c->perf = perf(c, "time", took, "s", 0, 6);
	bav_store_close(&store);
}

struct bounce_count {
	long long bounces, hard, messages;
};

static int bounce_row(void *ctx, const struct bav_store_value *v,
		      const char *const *names, unsigned int n)
{
	struct bounce_count *b = ctx;

	(void)names;
	if (n >= 3) {
		b->bounces = v[0].i;
		b->hard = v[1].i;
		b->messages = v[2].i;
	}
	return 0;
}

static void check_bounces(struct check *c)
{
	struct bav_store *store = NULL;
	struct bounce_count b = { 0, 0, 0 };
	const char *err = NULL;
	long long since = (long long)time(NULL) - 3600LL * c->hours;
	const struct bav_store_param p[] = {
		BAV_STORE_PARAM_INT(since), BAV_STORE_PARAM_INT(since)
	};
	double rate;

	if (open_store(c, &store, &err) != BAV_OK ||
	    bav_store_exec(store, "SELECT"
			   " SUM(CASE WHEN kind = 'bounce' THEN 1 ELSE 0 END),"
			   " SUM(CASE WHEN kind = 'bounce' AND hard <> 0"
			   " THEN 1 ELSE 0 END),"
			   " (SELECT COUNT(*) FROM bav_messages"
			   " WHERE time >= ?)"
			   " FROM bav_events WHERE time >= ?", p, 2,
			   bounce_row, &b, &err) != BAV_OK) {
		c->state = ST_UNKNOWN;
		c->text = bav_pool_printf(c->pool, "%s", err);
		bav_store_close(&store);
		return;
	}
	bav_store_close(&store);
	rate = (double)(c->hard_only ? b.hard : b.bounces) / c->hours;
	judge(c, rate, 0);
	c->text = bav_pool_printf(c->pool, "%.1f %sbounces per hour in the "
				  "last %u h (%lld bounces, %lld hard, %lld "
				  "messages)", rate,
				  c->hard_only ? "hard " : "", c->hours,
				  b.bounces, b.hard, b.messages);
	c->perf = bav_pool_printf(c->pool, "%s bounces=%lld;;;0 hard=%lld;;;0"
				  " messages=%lld;;;0",
				  perf(c, "rate", rate, "", 0, 2),
				  b.bounces, b.hard, b.messages);
}

/* ---- daemons ------------------------------------------------------------- */

/* Connect to unix:PATH, /PATH, inet:PORT@HOST or inet6:PORT@HOST within
   the timeout; -1 and *error_r on failure. */
static int sock_connect(struct check *c, const char **error_r)
{
	struct timeval tv = { (time_t)c->timeout, 0 };
	const char *spec = c->sock, *path = NULL;
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, gai;

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0)
		path = strchr(spec, ':') + 1;
	else if (spec[0] == '/')
		path = spec;
	if (path != NULL) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(path) >= sizeof(sun.sun_path)) {
			*error_r = "socket path too long";
			return -1;
		}
		memcpy(sun.sun_path, path, strlen(path) + 1);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
			       sizeof(tv)) < 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
			       sizeof(tv)) < 0 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			*error_r = bav_pool_printf(c->pool, "connect %s: %s",
						   path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		return fd;
	}
	if (strncmp(spec, "inet:", 5) != 0 && strncmp(spec, "inet6:", 6) != 0) {
		*error_r = "socket must be unix:PATH or inet:PORT@HOST";
		return -1;
	}
	{
		const char *ps = strchr(spec, ':') + 1, *at = strchr(ps, '@');
		const char *host;
		char *port;

		if (at != NULL) {		/* milter style PORT@HOST */
			port = bav_pool_strndup(c->pool, ps, (size_t)(at - ps));
			host = at + 1;
		} else if ((at = strrchr(ps, ':')) != NULL) {
			/* Postfix style HOST:PORT, [HOST]:PORT */
			port = bav_pool_strdup(c->pool, at + 1);
			host = bav_pool_strndup(c->pool, ps, (size_t)(at - ps));
			if (host[0] == '[' && at > ps + 1 && at[-1] == ']')
				host = bav_pool_strndup(c->pool, ps + 1,
							(size_t)(at - ps - 2));
		} else {
			port = NULL;
			host = NULL;
		}
		if (port == NULL || port[0] == '\0' || host[0] == '\0') {
			*error_r = "socket must be inet:PORT@HOST";
			return -1;
		}
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = spec[4] == '6' ? AF_INET6 : AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		if ((gai = getaddrinfo(host, port, &hints, &res)) != 0) {
			*error_r = bav_pool_printf(c->pool, "%s: %s", host,
						   gai_strerror(gai));
			return -1;
		}
	}
	*error_r = "no address";
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		/* SO_SNDTIMEO bounds connect() on Linux */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
			       sizeof(tv)) == 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
			       sizeof(tv)) == 0 &&
		    connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		*error_r = bav_pool_printf(c->pool, "connect %s: %s", spec,
					   strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* All of len bytes: read into rbuf, or (rbuf NULL) write wbuf; 0, or -1
   on an error or end of file (errno set, 0 at end of file). */
static int io_full(int fd, void *rbuf, const void *wbuf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = rbuf != NULL ?
			read(fd, (char *)rbuf + done, len - done) :
			write(fd, (const char *)wbuf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	return io_full(fd, NULL, buf, len);
}

static int read_full(int fd, void *buf, size_t len)
{
	return io_full(fd, buf, NULL, len);
}

static const char *io_error(struct check *c, const char *what)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return bav_pool_printf(c->pool, "no %s within %u s", what,
				       c->timeout);
	return bav_pool_printf(c->pool, "%s: %s", what,
			       errno != 0 ? strerror(errno) :
			       "connection closed");
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

/* SMFIC_OPTNEG as an MTA sends it (version 6, all actions and protocol
   steps offered), expect SMFIC_OPTNEG back (three words, then the macro
   lists a milter may ask for: bav-milter does), then SMFIC_QUIT. */
static const char *talk_milter(struct check *c, int fd)
{
	unsigned char pkt[17], hdr[5], body[1024];
	uint32_t len;

	put32(pkt, 13);
	pkt[4] = 'O';
	put32(pkt + 5, 6);
	put32(pkt + 9, 0x1ff);
	put32(pkt + 13, 0x1fffff);
	errno = 0;
	if (write_all(fd, pkt, sizeof(pkt)) < 0)
		return io_error(c, "option negotiation");
	if (read_full(fd, hdr, sizeof(hdr)) < 0)
		return io_error(c, "negotiation reply");
	len = get32(hdr);
	if (hdr[4] != 'O' || len < 13 || len - 1 > sizeof(body))
		return bav_pool_printf(c->pool, "unexpected milter reply '%c' "
				       "(%u bytes)", isprint(hdr[4]) ?
				       hdr[4] : '?', (unsigned int)len);
	if (read_full(fd, body, len - 1) < 0)
		return io_error(c, "negotiation reply");
	c->text = bav_pool_printf(c->pool, "milter protocol version %u, "
				  "actions 0x%x, steps 0x%x",
				  (unsigned int)get32(body),
				  (unsigned int)get32(body + 4),
				  (unsigned int)get32(body + 8));
	put32(pkt, 1);
	pkt[4] = 'Q';
	(void)write_all(fd, pkt, 5);
	return NULL;
}

/* Read more after the len bytes in buf (size-1 at most in all), keep it
   NUL-terminated: the new length, or -1 on an error, at end of file or
   when buf is full. */
static ssize_t read_more(int fd, char *buf, size_t len, size_t size)
{
	ssize_t n;

	if (len + 1 >= size)
		return -1;
	do
		n = read(fd, buf + len, size - 1 - len);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	len += (size_t)n;
	buf[len] = '\0';
	return (ssize_t)len;
}

/* Read until the buffer ends with end (or is full); NUL-terminated. */
static int read_until(int fd, char *buf, size_t size, const char *end)
{
	size_t len = 0, elen = strlen(end);
	ssize_t r;

	buf[0] = '\0';
	while ((r = read_more(fd, buf, len, size)) >= 0) {
		len = (size_t)r;
		if (len >= elen && memcmp(buf + len - elen, end, elen) == 0)
			return 0;
	}
	return -1;
}

static const char *talk_policyd(struct check *c, int fd)
{
	char buf[1024], *nl;
	const char *req = bav_pool_printf(c->pool,
		"request=smtpd_access_policy\nprotocol_state=RCPT\n"
		"protocol_name=ESMTP\nclient_address=127.0.0.1\n"
		"client_name=localhost\nhelo_name=localhost\n"
		"sender=\nrecipient=%s\nqueue_id=\ninstance=bav-check\n"
		"size=0\n\n", c->address);

	errno = 0;
	if (write_all(fd, req, strlen(req)) < 0)
		return io_error(c, "policy request");
	if (read_until(fd, buf, sizeof(buf), "\n\n") < 0)
		return io_error(c, "policy reply");
	if ((nl = strchr(buf, '\n')) != NULL)
		*nl = '\0';
	if (strncmp(buf, "action=", 7) != 0 || buf[7] == '\0')
		return bav_pool_printf(c->pool, "no action in the reply: %s",
				       buf);
	if (c->expect != NULL &&
	    strncasecmp(buf + 7, c->expect, strlen(c->expect)) != 0)
		return bav_pool_printf(c->pool, "%s answered %s, expected %s",
				       c->address, buf, c->expect);
	c->text = bav_pool_printf(c->pool, "%s: %s", c->address, buf);
	return NULL;
}

/* One SMTP/LMTP reply (multi-line: up to the line "ddd "); its code. */
static int lmtp_reply(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t r;

	while ((r = read_more(fd, buf, len, size)) >= 0) {
		char *last;

		len = (size_t)r;
		if (len < 2 || buf[len - 1] != '\n')
			continue;
		/* the start of the last complete line */
		last = buf + len - 1;
		while (last > buf && last[-1] != '\n')
			last--;
		if (strlen(last) >= 4 && last[3] != '-')
			return atoi(last);
	}
	return -1;
}

static const char *talk_lmtpd(struct check *c, int fd)
{
	static const char lhlo[] = "LHLO bav-check.localhost\r\n";
	static const char quit[] = "QUIT\r\n";
	char buf[2048];
	int code;

	errno = 0;
	if ((code = lmtp_reply(fd, buf, sizeof(buf))) < 0)
		return io_error(c, "LMTP greeting");
	if (code != 220)
		return bav_pool_printf(c->pool, "greeting: %.*s",
				       (int)strcspn(buf, "\r\n"), buf);
	if (write_all(fd, lhlo, sizeof(lhlo) - 1) < 0)
		return io_error(c, "LHLO");
	if ((code = lmtp_reply(fd, buf, sizeof(buf))) < 0)
		return io_error(c, "LHLO reply");
	if (code != 250)
		return bav_pool_printf(c->pool, "LHLO: %.*s",
				       (int)strcspn(buf, "\r\n"), buf);
	if (write_all(fd, quit, sizeof(quit) - 1) < 0 ||
	    (code = lmtp_reply(fd, buf, sizeof(buf))) != 221)
		return "no 221 reply to QUIT";
	c->text = "LMTP greeting, LHLO and QUIT answered";
	return NULL;
}

static void check_daemon(struct check *c,
			 const char *(*talk)(struct check *, int))
{
	const char *err = NULL;
	double t0 = now_mono(), took;
	int fd;

	if ((fd = sock_connect(c, &err)) < 0) {
		c->state = ST_CRITICAL;
		c->text = err;
		return;
	}
	err = talk(c, fd);
	close(fd);
	if (err != NULL) {
		c->state = ST_CRITICAL;
		c->text = bav_pool_printf(c->pool, "%s: %s", c->sock, err);
		return;
	}
	took = now_mono() - t0;
	judge(c, took, 0);
	c->text = bav_pool_printf(c->pool, "%s in %.3f s", c->text, took);
	c->perf = perf(c, "time", took, "s", 0, 6);
}

/* ---- command line -------------------------------------------------------- */

static int check_usage(struct check *c)
{
	return unknown(c, "usage: bav check spool|store|bounces|milter|"
		       "policyd|lmtpd [-w WARN] [-c CRIT] [-t SECONDS] "
		       "[--spool DIR] [--store URI] [-s SOCKET] [--hours N]");
}

static int parse_args(struct check *c, int argc, char **argv)
{
	int opt;

	optind = 2;
	while ((opt = getopt_long(argc, argv, ":w:c:t:s:H:C:", check_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'w':
		case 'c':
			if (parse_limit(optarg, opt == 'w' ? &c->warn :
					&c->crit) < 0)
				return -1;
			break;
		case 't':
			c->timeout = (unsigned int)atoi(optarg);
			if (c->timeout == 0 || c->timeout > 3600)
				return -1;
			break;
		case 'H':
			c->hours = (unsigned int)atoi(optarg);
			if (c->hours == 0 || c->hours > 24 * 366)
				return -1;
			break;
		case 's': c->sock = optarg; break;
		case 'C': break;	/* main.cf: loaded by main() */
		case OPT_SPOOL: c->spool_dir = optarg; break;
		case OPT_STORE: c->store_uri = optarg; break;
		case OPT_PWFILE: c->password_file = optarg; break;
		case OPT_ADDRESS: c->address = optarg; break;
		case OPT_EXPECT: c->expect = optarg; break;
		case OPT_HARD: c->hard_only = true; break;
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

/* The default thresholds of the check where -w/-c left them unset. */
static void set_defaults(struct check *c, const struct limit *w,
			 const struct limit *cr)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		if (c->warn.v[i] < 0)
			c->warn.v[i] = w->v[i];
		if (c->crit.v[i] < 0)
			c->crit.v[i] = cr->v[i];
	}
}

static void check_milter(struct check *c)
{
	check_daemon(c, talk_milter);
}

static void check_policyd(struct check *c)
{
	check_daemon(c, talk_policyd);
}

static void check_lmtpd(struct check *c)
{
	check_daemon(c, talk_lmtpd);
}

int cmd_check(int argc, char **argv)
{
	static const struct {
		const char *arg, *name;
		void (*run)(struct check *);
		const char *socket_key;	/* main.cf default of -s */
		struct limit warn, crit;
	} checks[] = {
		{ "spool", "SPOOL", check_spool, NULL,
		  { { 100, 600 } }, { { 1000, 3600 } } },
		{ "store", "STORE", check_store, NULL,
		  { { 1, -1 } }, { { 5, -1 } } },
		{ "bounces", "BOUNCES", check_bounces, NULL,
		  { { 100, -1 } }, { { 1000, -1 } } },
		{ "milter", "MILTER", check_milter, "milter_socket",
		  { { 1, -1 } }, { { 5, -1 } } },
		{ "policyd", "POLICYD", check_policyd, "policyd_listen",
		  { { 1, -1 } }, { { 5, -1 } } },
		{ "lmtpd", "LMTPD", check_lmtpd, "lmtpd_listen",
		  { { 1, -1 } }, { { 5, -1 } } },
	};
	struct check c;
	const char *env;
	unsigned int i;
	int ret;

	memset(&c, 0, sizeof(c));
	c.name = "CHECK";
	c.pool = bav_pool_new(4096);
	c.warn.v[0] = c.warn.v[1] = c.crit.v[0] = c.crit.v[1] = -1;
	c.timeout = 10;
	c.hours = 1;
	c.address = "postmaster@localhost";
	env = getenv("BAV_SPOOL");
	c.spool_dir = env != NULL && env[0] != '\0' ? env :
		DELIVER_DEFAULT_SPOOL;
	c.store_uri = getenv("BAV_STORE");
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; argc >= 2 && i < sizeof(checks) / sizeof(checks[0]); i++)
		if (strcmp(argv[1], checks[i].arg) == 0)
			break;
	if (argc >= 2 && i < sizeof(checks) / sizeof(checks[0]))
		c.name = checks[i].name;
	if (argc < 2 || i == sizeof(checks) / sizeof(checks[0]) ||
	    parse_args(&c, argc, argv) < 0) {
		ret = check_usage(&c);
		bav_pool_free(&c.pool);
		return ret;
	}
	set_defaults(&c, &checks[i].warn, &checks[i].crit);
	if (checks[i].socket_key != NULL && c.sock == NULL)
		c.sock = cmd_config_str(checks[i].socket_key);
	if (c.password_file == NULL)
		c.password_file = cmd_config_str("store_password_file");
	if (checks[i].socket_key != NULL && c.sock == NULL) {
		ret = unknown(&c, "-s SOCKET is required");
		bav_pool_free(&c.pool);
		return ret;
	}
	checks[i].run(&c);
	ret = report(&c);
	bav_pool_free(&c.pool);
	return ret;
}
