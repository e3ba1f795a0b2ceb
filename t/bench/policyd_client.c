/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	policyd_client - load generator for Postfix policy servers
 * SYNOPSIS
 *	policyd_client [-p MICROSECONDS] SOCKET CONNECTIONS SECONDS
 *		       REQUEST-FILE...
 * DESCRIPTION
 *	Opens CONNECTIONS persistent connections to SOCKET ("unix:/path"
 *	or "inet:host:port"), driven by one epoll loop (a single connection
 *	by recv() alone), and on each sends one request at a time for
 *	SECONDS seconds, as Postfix's smtpd does:
 *	write the request, read the reply up to its empty line, next
 *	request. The requests cycle through the REQUEST-FILEs (each one
 *	policy request ending with an empty line). Latency is measured
 *	from the write to the end of the reply, into a histogram of 1 us
 *	buckets (up to 1 s). The client runs as SCHED_BATCH, so that its
 *	wake-ups (when it blocks) do not preempt the server measured (one
 *	thread of the client stands for many smtpd processes).
 *
 *	Busy polling (-p, default BUSY_DEFAULT): after sending, the client
 *	polls for the reply without blocking for up to MICROSECONDS before
 *	it blocks (one connection: recv(MSG_DONTWAIT) in a loop; several:
 *	epoll_wait() with timeout 0), -p 0 blocks at once. A blocked
 *	client pays a wake-up of its halted CPU on every reply (100 to
 *	150 us on a virtual machine, more than a fast server's answer),
 *	and that latency would be counted in every server's round trip; a
 *	polling client sees the reply when it arrives. The same client
 *	and window serve every server measured, so the comparison stays
 *	fair; the window is long enough that no reply of a fast server is
 *	waited for blocked, and the client still blocks (leaves the CPU to
 *	the server) when a slow one takes longer. Preempted while it polls
 *	(a gap of PREEMPTED_S between two polls: the machine has more
 *	runnable tasks than CPUs), it blocks instead for a second, so that
 *	on a loaded machine it does not take CPU time from the server; the
 *	count is printed on stderr. t/bench/policyd polls with one
 *	connection and blocks with several (its header says why).
 *
 *	Prints one line:
 *	  conns=N requests=N seconds=S rps=N p50_us=N p99_us=N errors=N
 *	and on stderr the first reply seen (and how often polling was
 *	preempted).
 * DIAGNOSTICS
 *	Exit 0, or 1 when a connection failed or a reply was malformed.
 */
#define _GNU_SOURCE	/* SCHED_BATCH */
#include <errno.h>
#include <netdb.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#define BUCKETS 1000000
#define BUSY_DEFAULT 1000	/* -p: microseconds */

struct worker {
	unsigned long long n, errors;
	uint32_t *hist;
	char first_reply[256];
};

static const char *spec;
static char **reqs;
static size_t *req_lens;
static size_t nreqs;
static double deadline;
static double busy_s = BUSY_DEFAULT / 1e6;	/* -p, in seconds */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_spec(void)
{
	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", spec + 5);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sun,
				      sizeof(sun)) < 0) {
			if (fd >= 0)
				close(fd);
			return -1;
		}
		return fd;
	}
	if (strncmp(spec, "inet:", 5) == 0) {
		char host[256], *colon;
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
		int fd, one = 1;

		snprintf(host, sizeof(host), "%s", spec + 5);
		colon = strrchr(host, ':');
		if (colon == NULL)
			return -1;
		*colon++ = '\0';
		if (getaddrinfo(host, colon, &hints, &res) != 0)
			return -1;
		fd = socket(res->ai_family, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
			if (fd >= 0)
				close(fd);
			freeaddrinfo(res);
			return -1;
		}
		freeaddrinfo(res);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		return fd;
	}
	return -1;
}

struct conn {
	int fd;
	size_t k, have;
	double t0;
	char buf[4096];
};

/* Send the next request on c at time t; -1 on error. */
static int send_next(struct conn *c, double t)
{
	const char *r = reqs[c->k % nreqs];
	size_t len = req_lens[c->k % nreqs], off = 0;

	c->k++;
	c->have = 0;
	c->t0 = t;
	while (off < len) {
		ssize_t n = send(c->fd, r + off, len - off, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* One reply received on c at time t: count it. */
static void got_reply(struct worker *w, const struct conn *c, double t)
{
	double us = (t - c->t0) * 1e6;

	w->hist[us >= BUCKETS ? BUCKETS - 1 : (size_t)us]++;
	if (w->n++ == 0)
		snprintf(w->first_reply, sizeof(w->first_reply), "%.*s",
			 (int)strcspn(c->buf, "\n"), c->buf);
}

/* Polling: true while it goes on. A gap of PREEMPTED_S between two
   polls means the client lost its CPU (more runnable tasks than CPUs):
   then it blocks for a second instead of polling, as bav-policyd does,
   so that on a busy machine it does not take CPU time from the server
   it measures. */
#define PREEMPTED_S 200e-6
static double poll_off_until;
static unsigned long preempted;	/* times it was preempted while polling */

static bool poll_on(double *t, double end)
{
	double prev = *t;

	*t = now_s();
	if (*t - prev > PREEMPTED_S) {
		poll_off_until = *t + 1;
		preempted++;
		return false;
	}
	return *t < end;
}

/* recv() on fd, polling without blocking for up to busy_s first. */
static ssize_t recv_busy(int fd, char *buf, size_t len)
{
	double t = now_s(), end = t + busy_s;

	if (busy_s > 0 && t >= poll_off_until) {
		do {
			ssize_t r = recv(fd, buf, len, MSG_DONTWAIT);

			if (r >= 0 || (errno != EAGAIN && errno != EINTR))
				return r;
		} while (poll_on(&t, end));
	}
	return recv(fd, buf, len, 0);
}

/* epoll_wait() on ep, polling with timeout 0 for up to busy_s first. */
static int wait_busy(int ep, struct epoll_event *evs, int max)
{
	double t = now_s(), end = t + busy_s;
	int n;

	if (busy_s > 0 && t >= poll_off_until) {
		do {
			n = epoll_wait(ep, evs, max, 0);
			if (n != 0)
				return n;
		} while (poll_on(&t, end));
	}
	return epoll_wait(ep, evs, max, 1000);
}

/* One connection needs no event loop: recv() alone (one system call
   per reply instead of epoll_wait() and recv()). */
static void run_one(struct worker *w)
{
	struct conn *c = calloc(1, sizeof(*c));

	c->fd = connect_spec();
	if (c->fd < 0 || send_next(c, now_s()) < 0) {
		w->errors++;
		goto out;
	}
	for (;;) {
		ssize_t r = recv_busy(c->fd, c->buf + c->have,
				      sizeof(c->buf) - 1 - c->have);
		double t;

		if (r <= 0) {
			w->errors++;
			break;
		}
		c->have += (size_t)r;
		if (c->have < 2 || c->buf[c->have - 1] != '\n' ||
		    c->buf[c->have - 2] != '\n') {
			if (c->have >= sizeof(c->buf) - 1) {
				w->errors++;
				break;
			}
			continue;
		}
		t = now_s();
		got_reply(w, c, t);
		if (t >= deadline || send_next(c, t) < 0)
			break;
	}
out:
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* One event loop drives every connection, so the client itself costs
   little CPU: a thread per connection would compete with the server
   for the two cores. */
static void run(struct worker *w, unsigned int conns)
{
	int ep = epoll_create1(0);
	struct conn *cs = calloc(conns, sizeof(*cs));
	struct epoll_event evs[256];
	unsigned int i, open = 0;

	for (i = 0; i < conns; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

		cs[i].fd = connect_spec();
		cs[i].k = i;
		if (cs[i].fd < 0 || send_next(&cs[i], now_s()) < 0) {
			w->errors++;
			continue;
		}
		epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
		open++;
	}
	while (open > 0) {
		int n = wait_busy(ep, evs, 256), e;
		double t = now_s();

		for (e = 0; e < n; e++) {
			struct conn *c = &cs[evs[e].data.u32];
			ssize_t r = recv(c->fd, c->buf + c->have,
					 sizeof(c->buf) - 1 - c->have, 0);

			if (r <= 0) {
				w->errors++;
				goto drop;
			}
			c->have += (size_t)r;
			if (c->have < 2 || c->buf[c->have - 1] != '\n' ||
			    c->buf[c->have - 2] != '\n') {
				if (c->have >= sizeof(c->buf) - 1) {
					w->errors++;
					goto drop;
				}
				continue;
			}
			got_reply(w, c, t);
			if (t < deadline && send_next(c, t) == 0)
				continue;
drop:
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			open--;
		}
	}
	free(cs);
	close(ep);
}

static char *read_file(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0) {
		perror(path);
		exit(1);
	}
	rewind(f);
	s = malloc((size_t)n + 1);
	if (s == NULL || fread(s, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(1);
	}
	fclose(f);
	*len_r = (size_t)n;
	return s;
}

int main(int argc, char **argv)
{
	unsigned int conns, i;
	double secs, t0, t1;
	struct worker *w;
	unsigned long long total = 0, errors = 0, seen, p50 = 0, p99 = 0;
	size_t b;
	uint32_t *hist;

	if (argc > 2 && strcmp(argv[1], "-p") == 0) {
		busy_s = atof(argv[2]) / 1e6;
		argc -= 2;
		argv += 2;
	}
	if (argc < 5) {
		fprintf(stderr, "usage: policyd_client [-p MICROSECONDS] "
			"SOCKET CONNECTIONS SECONDS REQUEST-FILE...\n");
		return 1;
	}
	spec = argv[1];
	conns = (unsigned int)atoi(argv[2]);
	secs = atof(argv[3]);
	nreqs = (size_t)(argc - 4);
	reqs = calloc(nreqs, sizeof(*reqs));
	req_lens = calloc(nreqs, sizeof(*req_lens));
	for (i = 0; i < nreqs; i++)
		reqs[i] = read_file(argv[4 + i], &req_lens[i]);
	w = calloc(1, sizeof(*w));
	hist = calloc(BUCKETS, sizeof(*hist));
	if (conns == 0 || w == NULL || hist == NULL)
		return 1;
	w->hist = hist;
	/* A woken client does not preempt the server it just sent a
	   request to (it would, as a normal task on the same core, after
	   nearly every reply): the server answers the whole batch it has,
	   as it would with many smtpd processes. Same for every server
	   measured. */
	{
		struct sched_param sp = { .sched_priority = 0 };

		if (sched_setscheduler(0, SCHED_BATCH, &sp) < 0)
			perror("sched_setscheduler(SCHED_BATCH)");
	}
	t0 = now_s();
	deadline = t0 + secs;
	if (conns == 1)
		run_one(w);
	else
		run(w, conns);
	total = w->n;
	errors = w->errors;
	fprintf(stderr, "first reply: %s\n", w->first_reply);
	if (preempted > 0)
		fprintf(stderr, "preempted while polling %lu times\n",
			preempted);
	t1 = now_s();
	seen = 0;
	for (b = 0; b < BUCKETS && total > 0; b++) {
		seen += hist[b];
		if (p50 == 0 && seen * 2 >= total)
			p50 = b + 1;
		if (seen * 100 >= total * 99) {
			p99 = b + 1;
			break;
		}
	}
	printf("conns=%u requests=%llu seconds=%.2f rps=%.0f p50_us=%llu "
	       "p99_us=%llu errors=%llu\n", conns, total, t1 - t0,
	       (double)total / (t1 - t0), p50, p99, errors);
	return errors > 0 ? 1 : 0;
}
