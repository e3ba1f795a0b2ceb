/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	server - listeners, the epoll event loop and the stdio mode of
 *	bav-policyd
 * SYNOPSIS
 *	int server_listen(const char *spec, unsigned int mode,
 *			  char *errbuf, size_t errlen)
 *	int server_run(const int *listeners, size_t nlisteners)
 *	int server_stdio(void)
 * DESCRIPTION
 *	One thread serves every connection: non-blocking sockets in one
 *	level-triggered epoll set, with the listeners, a signalfd (SIGTERM
 *	and SIGINT stop, SIGHUP reloads the address table) and the eventfd
 *	of the snapshot loader. Each connection owns an input buffer (at
 *	most max_request_size plus one read) and an output buffer. Every
 *	complete request in the input is answered in order (Postfix keeps
 *	connections open and sends one request at a time, but pipelined
 *	requests work too); replies are written at once, and a connection
 *	whose peer does not read stops being read until its output is
 *	flushed. A request costs one recv() and one send() (TCP_NODELAY on
 *	accepted sockets), and no epoll_ctl() while the connection keeps
 *	the one-request-one-reply rhythm.
 *
 *	Adaptive busy polling (settings.busy_poll, -P): after a round of
 *	events the loop polls epoll without blocking for up to busy_poll
 *	microseconds before it blocks again. A request that arrives
 *	meanwhile (the next one of a busy Postfix usually does) then
 *	costs no wake-up of a halted CPU, which on a virtual machine takes
 *	longer than answering it. A window without events ends the
 *	polling, so an idle server blocks and uses no CPU; a busy one
 *	spins at most busy_poll microseconds after each burst. A thread
 *	preempted while it polls (the CPUs are oversubscribed) stops
 *	polling for a second or two. Once a second the loop expires
 *	rate-limit counters, closes connections idle for idle_timeout
 *	seconds and checks the address table file for changes.
 *
 *	A broken request (proto.c) is logged as a warning and the
 *	connection is closed without a reply to it; after max_requests
 *	requests a connection is closed after its last reply (Postfix opens
 *	a new one). At max_connections further clients are closed at once.
 *
 *	The stdio mode serves one connection on stdin/stdout with blocking
 *	I/O, for spawn(8) and for the protocol tests; it ends at EOF or at a
 *	broken request.
 *
 *	Listener syntax, as bav-milter's: "unix:/path" (also "local:/path"
 *	or "/path"), "inet:port@host", and Postfix's spelling
 *	"inet:host:port" ("[::1]:port" for IPv6); a bare "inet:port"
 *	listens on 127.0.0.1.
 * DIAGNOSTICS
 *	server_listen() returns -1 with a reason in errbuf; server_run()
 *	and server_stdio() return 0 after a clean stop, 1 after a fatal
 *	error (logged).
 */
#include "bav_policyd.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REPLY_MAX 1024
#define READ_CHUNK 8192

struct conn {
	int fd_in, fd_out;
	bool sock;		/* fd_in == fd_out, a socket: recv/send */
	unsigned int id, nreq;
	char tag[16];		/* "c<id>", the log tag */
	bool want_out, reading, closing;
	bool spf_wait;		/* an SPF check of this connection runs */
	char spf_instance[64];	/* the message that got its SPF header */
	time_t last;
	char *in;
	size_t in_len, in_size;
	char *out;
	size_t out_off, out_len, out_size;
};

static struct suppress *snap;
static struct ratelimit *rl;
static struct conn **conns;	/* by fd */
static size_t conns_size, nconns;
static unsigned int next_id;
static time_t now;

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL) {
		log_msg(LOG_L_FATAL, "out of memory (%zu bytes)", n);
		_exit(75);
	}
	return p;
}

/* ---- listeners ------------------------------------------------------- */

static int listen_unix(const char *path, unsigned int mode, char *errbuf,
		       size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;
	mode_t old;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(errbuf, errlen, "socket path too long: %s", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(errbuf, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	unlink(path);	/* a stale socket of an earlier run */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		snprintf(errbuf, errlen, "bind %s: %s", path, strerror(errno));
		umask(old);
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, (mode_t)mode) < 0 || listen(fd, 1024) < 0) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Split "port@host", "host:port", "[v6]:port" or "port". */
static int split_inet(const char *spec, char *host, size_t hlen, char *port,
		      size_t plen)
{
	const char *at = strchr(spec, '@'), *colon = strrchr(spec, ':');

	if (at != NULL) {
		snprintf(port, plen, "%.*s", (int)(at - spec), spec);
		snprintf(host, hlen, "%s", at + 1);
	} else if (spec[0] == '[' && colon != NULL && colon > spec &&
		   colon[-1] == ']') {
		snprintf(host, hlen, "%.*s", (int)(colon - spec - 2), spec + 1);
		snprintf(port, plen, "%s", colon + 1);
	} else if (colon != NULL) {
		snprintf(host, hlen, "%.*s", (int)(colon - spec), spec);
		snprintf(port, plen, "%s", colon + 1);
	} else {
		snprintf(host, hlen, "127.0.0.1");
		snprintf(port, plen, "%s", spec);
	}
	return *port != '\0' && *host != '\0' ? 0 : -1;
}

static int listen_inet(const char *spec, char *errbuf, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res;
	char host[256], port[32];
	int fd, one = 1, r;

	if (split_inet(spec, host, sizeof(host), port, sizeof(port)) < 0) {
		snprintf(errbuf, errlen, "bad inet socket '%s'", spec);
		return -1;
	}
	r = getaddrinfo(host, port, &hints, &res);
	if (r != 0) {
		snprintf(errbuf, errlen, "%s: %s", spec, gai_strerror(r));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, res->ai_protocol);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, 1024) < 0) {
		snprintf(errbuf, errlen, "%s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}

int server_listen(const char *spec, unsigned int mode, char *errbuf,
		  size_t errlen)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return listen_unix(spec + 5, mode, errbuf, errlen);
	if (strncmp(spec, "local:", 6) == 0)
		return listen_unix(spec + 6, mode, errbuf, errlen);
	if (spec[0] == '/')
		return listen_unix(spec, mode, errbuf, errlen);
	if (strncmp(spec, "inet:", 5) == 0)
		return listen_inet(spec + 5, errbuf, errlen);
	if (strncmp(spec, "inet6:", 6) == 0)
		return listen_inet(spec + 6, errbuf, errlen);
	snprintf(errbuf, errlen, "bad socket '%s' (unix:/path, "
		 "inet:port@host, inet:host:port)", spec);
	return -1;
}

/* ---- one connection ---------------------------------------------------- */

static const char *conn_tag(struct conn *c)
{
	if (c->tag[0] == '\0')
		snprintf(c->tag, sizeof(c->tag), "c%u", c->id);
	return c->tag;
}

static void out_append(struct conn *c, const char *data, size_t len)
{
	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + len > c->out_size) {
		c->out_size = (c->out_len + len) * 2;
		c->out = xrealloc(c->out, c->out_size);
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
}

static int epfd = -1;

/* After max_requests replies the connection closes. */
static void count_request(struct conn *c)
{
	if (++c->nreq >= settings.max_requests &&
	    settings.max_requests > 0) {
		log_msg(LOG_L_DEBUG, "c%u: %u requests, closing", c->id,
			c->nreq);
		c->closing = true;
	}
}

/* The reply with an SPF header, checked inline (stdio mode). */
static void spf_reply(const struct conn *c, const char *ip, const char *helo,
		      const char *sender, char *reply, size_t *n_r)
{
	char hdr[768];

	spf_check(ip, helo, sender, hdr, sizeof(hdr));
	if (*hdr != '\0')
		log_msg(LOG_L_INFO, "c%u: action=PREPEND %s", c->id, hdr);
	*n_r = policy_spf_reply(hdr, reply, REPLY_MAX);
}

/* Answer every complete request in the input. Returns false when the
   connection must close without more replies (broken request). */
static bool conn_process(struct conn *c)
{
	struct policy_ctx ctx = { table_current(), snap, rl, now };
	size_t off = 0;
	bool ok = true;
	const char *tag = conn_tag(c);

	while (!c->closing && !c->spf_wait && off < c->in_len) {
		struct policy_request req;
		const char *why;
		char reply[REPLY_MAX];
		size_t used, n;
		bool spf;
		enum proto_result r = proto_parse(c->in + off, c->in_len - off,
						  &req, &used, &why);

		if (r == PROTO_MORE)
			break;
		if (r == PROTO_BROKEN) {
			log_msg(LOG_L_WARNING, "%s: broken request (%s), "
				"disconnecting without a reply", tag, why);
			ok = false;
			break;
		}
		n = policy_decide(&ctx, &req, tag, reply, sizeof(reply), &spf);
		if (spf && (*req.instance == '\0' ||
			    strcmp(req.instance, c->spf_instance) != 0)) {
			snprintf(c->spf_instance, sizeof(c->spf_instance),
				 "%s", req.instance);
			if (epfd >= 0) {
				/* the reply comes from spf_done() */
				spf_submit(c->id, c->fd_in, req.client_address,
					   req.helo_name, req.sender);
				c->spf_wait = true;
				off += used;
				break;
			}
			spf_reply(c, req.client_address, req.helo_name,
				  req.sender, reply, &n);
		}
		out_append(c, reply, n);
		off += used;
		count_request(c);
	}
	if (off > 0) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	return ok;
}

/* Read once; 1 data, 0 EOF, -1 error, -2 would block. */
static int conn_read(struct conn *c)
{
	ssize_t n;

	if (c->in_size - c->in_len < READ_CHUNK) {
		c->in_size = c->in_len + READ_CHUNK * 2;
		c->in = xrealloc(c->in, c->in_size);
	}
	n = c->sock ? recv(c->fd_in, c->in + c->in_len,
			   c->in_size - c->in_len, 0) :
		read(c->fd_in, c->in + c->in_len, c->in_size - c->in_len);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -2 : -1;
	if (n == 0)
		return 0;
	c->in_len += (size_t)n;
	c->last = now;
	return 1;
}

/* Write what is pending; 0 all written, 1 would block, -1 error. */
static int conn_write(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = c->sock ?
			send(c->fd_out, c->out + c->out_off,
			     c->out_len - c->out_off, MSG_NOSIGNAL) :
			write(c->fd_out, c->out + c->out_off,
			      c->out_len - c->out_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 1 : -1;
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

static void conn_free(struct conn *c)
{
	free(c->in);
	free(c->out);
	free(c);
}

/* ---- the event loop ---------------------------------------------------- */

static void conn_close(struct conn *c, const char *why)
{
	log_msg(LOG_L_DEBUG, "%s: close (%s, %u requests)", conn_tag(c),
		why, c->nreq);
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd_in, NULL);
	close(c->fd_in);
	conns[c->fd_in] = NULL;
	nconns--;
	conn_free(c);
}

static void conn_events(struct conn *c)
{
	struct epoll_event ev = { .data.fd = c->fd_in };
	bool want_out = c->out_off < c->out_len;
	bool reading = !want_out && !c->closing && !c->spf_wait;

	if (want_out == c->want_out && reading == c->reading)
		return;
	ev.events = (want_out ? EPOLLOUT : 0) | (reading ? EPOLLIN : 0);
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd_in, &ev);
	c->want_out = want_out;
	c->reading = reading;
}

static const int *lfds;		/* the listeners */
static size_t nlfds;
static bool paused;		/* out of file descriptors */

/* Out of descriptors: stop accepting until the next tick, instead of
   spinning on a listener that stays readable. */
static void pause_listeners(bool pause)
{
	struct epoll_event ev = { .events = EPOLLIN };
	size_t i;

	for (i = 0; i < nlfds; i++) {
		ev.data.fd = lfds[i];
		epoll_ctl(epfd, pause ? EPOLL_CTL_DEL : EPOLL_CTL_ADD,
			  lfds[i], &ev);
	}
	paused = pause;
}

static void accept_all(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN };
		struct conn *c;
		int one = 1;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				log_msg(LOG_L_ERROR, "accept: %s (%zu "
					"connections); pausing for a second",
					strerror(errno), nconns);
				pause_listeners(true);
			} else if (errno != EAGAIN && errno != EINTR &&
				   errno != ECONNABORTED) {
				log_msg(LOG_L_ERROR, "accept: %s",
					strerror(errno));
			}
			return;
		}
		if (nconns >= settings.max_connections) {
			log_msg(LOG_L_WARNING, "too many connections (%zu), "
				"refusing one", nconns);
			close(fd);
			continue;
		}
		if ((size_t)fd >= conns_size) {
			size_t n = (size_t)fd * 2 + 64;

			conns = xrealloc(conns, n * sizeof(*conns));
			memset(conns + conns_size, 0,
			       (n - conns_size) * sizeof(*conns));
			conns_size = n;
		}
		c = xrealloc(NULL, sizeof(*c));
		memset(c, 0, sizeof(*c));
		/* replies are single writes, there is nothing to coalesce;
		   fails harmlessly on a unix socket */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->fd_in = c->fd_out = fd;
		c->sock = true;
		c->id = ++next_id;
		c->last = now;
		c->reading = true;
		conns[fd] = c;
		nconns++;
		ev.data.fd = fd;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			log_msg(LOG_L_ERROR, "epoll_ctl: %s", strerror(errno));
			conn_close(c, "epoll error");
		}
	}
}

static void conn_ready(struct conn *c, uint32_t events)
{
	int r;

	if (events & EPOLLOUT) {
		r = conn_write(c);
		if (r < 0) {
			conn_close(c, "write error");
			return;
		}
		if (r == 0 && c->closing) {
			conn_close(c, "request limit");
			return;
		}
		/* replies are out: answer what came in meanwhile */
		if (r == 0 && !conn_process(c)) {
			conn_write(c);
			conn_close(c, "broken request");
			return;
		}
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->reading) {
		r = conn_read(c);
		if (r == -2)
			return;
		if (r <= 0) {
			if (c->in_len > 0 && r == 0)
				log_msg(LOG_L_WARNING, "c%u: connection closed "
					"inside a request", c->id);
			conn_write(c);
			conn_close(c, r == 0 ? "EOF" : "read error");
			return;
		}
		if (!conn_process(c)) {
			conn_write(c);
			conn_close(c, "broken request");
			return;
		}
	}
	r = conn_write(c);
	if (r < 0 || (r == 0 && c->closing)) {
		conn_close(c, r < 0 ? "write error" : "request limit");
		return;
	}
	conn_events(c);
}

/* Once a second: counters, idle connections, the table file. */
static void tick(void)
{
	static time_t last_table;
	size_t fd;

	if (paused)
		pause_listeners(false);
	if (rl != NULL)
		ratelimit_expire(rl, now);
	if (settings.idle_timeout > 0)
		for (fd = 0; fd < conns_size; fd++)
			if (conns[fd] != NULL && now - conns[fd]->last >=
			    (time_t)settings.idle_timeout)
				conn_close(conns[fd], "idle timeout");
	if (settings.reload_interval > 0 &&
	    now - last_table >= (time_t)settings.reload_interval) {
		last_table = now;
		table_check(false);
	}
}

/* Finished SPF checks: answer, then go on with the connection. */
static void spf_done(void)
{
	struct spf_job *j = spf_take(), *next;

	for (; j != NULL; j = next) {
		struct conn *c = (size_t)j->fd < conns_size ?
			conns[j->fd] : NULL;
		char reply[REPLY_MAX];
		size_t n;
		int r;

		next = j->next;
		if (c == NULL || c->id != j->conn_id || !c->spf_wait) {
			free(j);	/* the connection is gone */
			continue;
		}
		if (*j->header != '\0')
			log_msg(LOG_L_INFO, "c%u: action=PREPEND %s", c->id,
				j->header);
		n = policy_spf_reply(j->header, reply, sizeof(reply));
		free(j);
		out_append(c, reply, n);
		c->spf_wait = false;
		count_request(c);
		if (!conn_process(c)) {
			conn_write(c);
			conn_close(c, "broken request");
			continue;
		}
		r = conn_write(c);
		if (r < 0 || (r == 0 && c->closing))
			conn_close(c, r < 0 ? "write error" : "request limit");
		else
			conn_events(c);
	}
}

/* Take a newer snapshot from the loader thread. */
static void take_snapshot(void)
{
	struct suppress *s = suppress_take();

	if (s != NULL) {
		suppress_free(&snap);
		snap = s;
	}
}

static int signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* 1 stop, 0 go on */
static int handle_signal(int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_msg(LOG_L_INFO, "SIGHUP: reloading");
			table_check(true);
			suppress_kick();
		} else {
			log_msg(LOG_L_NOTICE, "signal %u: stopping",
				si.ssi_signo);
			return 1;
		}
	}
	return 0;
}

static int setup(struct suppress **first)
{
	char *error = NULL;

	if (settings.store_uri != NULL || settings.snapshot_path != NULL) {
		if (suppress_start(epfd >= 0, first, &error) < 0) {
			log_msg(LOG_L_FATAL, "%s", error);
			free(error);
			return -1;
		}
	}
	if (settings.null_client_limit > 0 || settings.null_rcpt_limit > 0)
		rl = ratelimit_new();
	if (settings.spf && spf_init(settings.spf_zone, epfd >= 0, &error) < 0) {
		log_msg(LOG_L_FATAL, "%s", error);
		free(error);
		return -1;
	}
	return 0;
}

static void teardown(void)
{
	size_t fd;

	for (fd = 0; fd < conns_size; fd++)
		if (conns[fd] != NULL)
			conn_close(conns[fd], "stop");
	free(conns);
	conns = NULL;
	conns_size = 0;
	suppress_stop();
	suppress_free(&snap);
	spf_deinit();
	ratelimit_free(&rl);
}

/* Microseconds of the monotonic clock (vDSO: no system call). */
static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A gap this long between two polls means the thread lost its CPU. */
#define PREEMPTED_US 200
static time_t poll_off_until;	/* no busy polling before this second */

/* epoll_wait() for the loop. After a round that had events (busy),
   poll without blocking for up to settings.busy_poll microseconds, then
   block for at most a second (the tick). Polling stops for a second or
   two when the thread is preempted while it polls: the CPUs are
   oversubscribed, and polling would only take CPU time from the
   processes it waits for (a blocked thread that is woken gets back a
   CPU sooner than a polling one that used its share). Returns what
   epoll_wait() returned last. */
static int wait_events(struct epoll_event *evs, int max, bool busy)
{
	if (busy && settings.busy_poll > 0 && now >= poll_off_until) {
		uint64_t t = mono_us(), end = t + settings.busy_poll;

		for (;;) {
			int n = epoll_wait(epfd, evs, max, 0);
			uint64_t prev = t;

			t = mono_us();
			if (t - prev > PREEMPTED_US) {
				log_msg(LOG_L_DEBUG, "preempted while polling "
					"(%llu us): no polling for a second",
					(unsigned long long)(t - prev));
				poll_off_until = now + 2;
				if (n != 0)
					return n;
				break;
			}
			if (n != 0)
				return n;
			if (t >= end)
				break;
		}
	}
	return epoll_wait(epfd, evs, max, 1000);
}

int server_run(const int *listeners, size_t nlisteners)
{
	struct epoll_event ev, evs[256];
	int sfd, nfd, xfd, stop = 0, ret = 0;
	size_t i;
	time_t last_tick = 0;
	bool busy = false;	/* the last round had events */

	signal(SIGPIPE, SIG_IGN);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	sfd = signal_fd();
	if (epfd < 0 || sfd < 0) {
		log_msg(LOG_L_FATAL, "epoll/signalfd: %s", strerror(errno));
		return 1;
	}
	now = time(NULL);
	if (setup(&snap) < 0)
		return 1;
	ev.events = EPOLLIN;
	ev.data.fd = sfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
	nfd = suppress_notify_fd();
	if (nfd >= 0) {
		ev.data.fd = nfd;
		epoll_ctl(epfd, EPOLL_CTL_ADD, nfd, &ev);
	}
	xfd = spf_notify_fd();
	if (xfd >= 0) {
		ev.data.fd = xfd;
		epoll_ctl(epfd, EPOLL_CTL_ADD, xfd, &ev);
	}
	lfds = listeners;
	nlfds = nlisteners;
	pause_listeners(false);
	while (!stop) {
		int n = wait_events(evs, 256, busy), k;

		if (n < 0 && errno != EINTR) {
			log_msg(LOG_L_FATAL, "epoll_wait: %s", strerror(errno));
			ret = 1;
			break;
		}
		busy = n > 0;
		now = time(NULL);
		for (k = 0; k < n; k++) {
			int fd = evs[k].data.fd;

			if (fd == sfd) {
				stop = handle_signal(sfd);
				continue;
			}
			if (fd == nfd) {
				take_snapshot();
				continue;
			}
			if (fd == xfd) {
				spf_done();
				continue;
			}
			for (i = 0; i < nlisteners; i++)
				if (fd == listeners[i])
					break;
			if (i < nlisteners)
				accept_all(fd);
			else if ((size_t)fd < conns_size && conns[fd] != NULL)
				conn_ready(conns[fd], evs[k].events);
		}
		if (now != last_tick) {
			last_tick = now;
			tick();
		}
	}
	teardown();
	close(sfd);
	close(epfd);
	return ret;
}

int server_stdio(void)
{
	struct conn c = { .fd_in = 0, .fd_out = 1, .id = 1 };
	struct suppress *s;
	time_t last_expire = 0;
	int ret = 0;

	signal(SIGPIPE, SIG_IGN);
	epfd = -1;
	now = time(NULL);
	if (setup(&snap) < 0)
		return 1;
	for (;;) {
		int r = conn_read(&c);

		now = time(NULL);
		if (r == -2)
			continue;
		if (r <= 0) {
			if (c.in_len > 0 && r == 0)
				log_msg(LOG_L_WARNING, "c1: connection closed "
					"inside a request");
			break;
		}
		if (snap != NULL && (s = suppress_poll(now)) != NULL) {
			suppress_free(&snap);
			snap = s;
		}
		if (rl != NULL && now != last_expire) {
			ratelimit_expire(rl, now);
			last_expire = now;
		}
		if (!conn_process(&c)) {
			conn_write(&c);
			break;
		}
		if (conn_write(&c) < 0) {
			log_msg(LOG_L_WARNING, "c1: write: %s",
				strerror(errno));
			ret = 1;
			break;
		}
		if (c.closing)
			break;
	}
	free(c.in);
	free(c.out);
	teardown();
	return ret;
}
