/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	spf - optional SPF result of bav-policyd as PREPEND Received-SPF:
 * SYNOPSIS
 *	int spf_init(const char *zone, bool threaded, char **error_r)
 *	void spf_check(const char *ip, const char *helo, const char *sender,
 *		       char *out, size_t len)
 *	void spf_submit(unsigned int conn_id, int fd, const char *ip,
 *			const char *helo, const char *sender)
 *	struct spf_job *spf_take(void)
 *	int spf_notify_fd(void)
 *	void spf_deinit(void)
 * DESCRIPTION
 *	With -F, a RCPT request that no other check decided gets
 *	"PREPEND Received-SPF: ..." (RFC 7208 section 9.1, the text libspf2
 *	builds) instead of the default action, once per message (the
 *	instance attribute) and connection. The identity is the envelope
 *	sender, or postmaster@HELO for the null sender (RFC 7208 section
 *	2.4).
 *
 *	SPF needs DNS, and a DNS lookup must not stop the event loop: in
 *	the daemon, spf_submit() queues the check for one worker thread,
 *	which owns the libspf2 server (with its DNS cache) and hands the
 *	finished header back through a queue and an eventfd; the loop
 *	stops answering that connection (and reading from it) until the
 *	result is there, so replies stay in order. In stdio mode
 *	spf_check() runs inline.
 *
 *	DNS is the system resolver; for tests, -Z FILE replaces it by a
 *	zone of "NAME TYPE DATA" lines (TYPE one of TXT A AAAA MX PTR,
 *	"#" comments); every other name does not exist.
 * DIAGNOSTICS
 *	spf_init() returns -1 and a malloc'ed error (file:line for the
 *	zone, see daemon/spf.c). DNS trouble gives a temperror header, never a failure.
 *	Without libspf2 (configure), spf_init() fails with a message.
 * SEE ALSO
 *	RFC 7208
 */
#include "config.h"
#include "bav_policyd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef HAVE_SPF2
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <spf2/spf.h>
#include <sys/eventfd.h>
#include <unistd.h>

static struct daemon_spf spf;	/* server and -Z zone (daemon/spf.c) */

void spf_check(const char *ip, const char *helo, const char *sender,
	       char *out, size_t len)
{
	SPF_request_t *req = SPF_request_new(spf.server);
	SPF_response_t *resp = NULL;
	struct in_addr a4;
	struct in6_addr a6;
	char from[512];
	const char *hdr = NULL;

	out[0] = '\0';
	if (req == NULL)
		return;
	if (inet_pton(AF_INET, ip, &a4) == 1)
		SPF_request_set_ipv4(req, a4);
	else if (inet_pton(AF_INET6, ip, &a6) == 1)
		SPF_request_set_ipv6(req, a6);
	else
		goto done;	/* "unknown" client address: no SPF */
	if (*helo != '\0')
		SPF_request_set_helo_dom(req, helo);
	if (*sender != '\0')
		snprintf(from, sizeof(from), "%s", sender);
	else if (*helo != '\0')
		snprintf(from, sizeof(from), "postmaster@%s", helo);
	else
		goto done;
	if (SPF_request_set_env_from(req, from) != 0)
		goto done;
	SPF_request_query_mailfrom(req, &resp);
	if (resp != NULL)
		hdr = SPF_response_get_received_spf(resp);
	if (hdr != NULL)
		snprintf(out, len, "%s", hdr);
	/* one line: Postfix's PREPEND takes the rest of the line */
	out[strcspn(out, "\r\n")] = '\0';
done:
	if (resp != NULL)
		SPF_response_free(resp);
	SPF_request_free(req);
}

/* ---- the worker thread -------------------------------------------------- */

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct spf_job *todo, **todo_tail = &todo, *done_list;
static bool stopping, running;
static pthread_t worker;
static int notify_fd = -1;

static void *worker_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mutex);
	for (;;) {
		struct spf_job *j;
		uint64_t one = 1;

		while (todo == NULL && !stopping)
			pthread_cond_wait(&cond, &mutex);
		if (stopping)
			break;
		j = todo;
		todo = j->next;
		if (todo == NULL)
			todo_tail = &todo;
		pthread_mutex_unlock(&mutex);
		spf_check(j->ip, j->helo, j->sender, j->header,
			  sizeof(j->header));
		pthread_mutex_lock(&mutex);
		j->next = done_list;
		done_list = j;
		if (write(notify_fd, &one, sizeof(one)) < 0)
			log_msg(LOG_L_ERROR, "spf: eventfd: %s",
				strerror(errno));
	}
	pthread_mutex_unlock(&mutex);
	return NULL;
}

void spf_submit(unsigned int conn_id, int fd, const char *ip,
		const char *helo, const char *sender)
{
	struct spf_job *j = calloc(1, sizeof(*j));

	if (j == NULL) {
		log_msg(LOG_L_FATAL, "out of memory");
		_exit(75);
	}
	j->conn_id = conn_id;
	j->fd = fd;
	snprintf(j->ip, sizeof(j->ip), "%s", ip);
	snprintf(j->helo, sizeof(j->helo), "%s", helo);
	snprintf(j->sender, sizeof(j->sender), "%s", sender);
	pthread_mutex_lock(&mutex);
	*todo_tail = j;
	todo_tail = &j->next;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&mutex);
}

struct spf_job *spf_take(void)
{
	struct spf_job *list, *rev = NULL;
	uint64_t n;

	if (read(notify_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_msg(LOG_L_ERROR, "spf: eventfd: %s", strerror(errno));
	pthread_mutex_lock(&mutex);
	list = done_list;
	done_list = NULL;
	pthread_mutex_unlock(&mutex);
	while (list != NULL) {	/* oldest first */
		struct spf_job *next = list->next;

		list->next = rev;
		rev = list;
		list = next;
	}
	return rev;
}

int spf_notify_fd(void)
{
	return notify_fd;
}

int spf_init(const char *zone, bool threaded, char **error_r)
{
	char host[256];

	if (daemon_spf_init(&spf, zone, error_r) < 0)
		return -1;
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		SPF_server_set_rec_dom(spf.server, host);
	}
	if (!threaded)
		return 0;
	notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (notify_fd < 0 || pthread_create(&worker, NULL, worker_main,
					    NULL) != 0) {
		*error_r = strdup("spf: cannot start the worker thread");
		return -1;
	}
	running = true;
	return 0;
}

void spf_deinit(void)
{
	struct spf_job *j;

	if (running) {
		pthread_mutex_lock(&mutex);
		stopping = true;
		pthread_cond_signal(&cond);
		pthread_mutex_unlock(&mutex);
		pthread_join(worker, NULL);
		running = false;
	}
	while ((j = todo) != NULL) {
		todo = j->next;
		free(j);
	}
	todo_tail = &todo;
	while ((j = done_list) != NULL) {
		done_list = j->next;
		free(j);
	}
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
	daemon_spf_deinit(&spf);
}

#else /* !HAVE_SPF2 */

int spf_init(const char *zone, bool threaded, char **error_r)
{
	(void)zone;
	(void)threaded;
	*error_r = strdup("SPF (-F) needs libspf2: this bav-policyd was "
			  "built without it");
	return -1;
}

void spf_check(const char *ip, const char *helo, const char *sender,
	       char *out, size_t len)
{
	(void)ip;
	(void)helo;
	(void)sender;
	if (len > 0)
		out[0] = '\0';
}

void spf_submit(unsigned int conn_id, int fd, const char *ip,
		const char *helo, const char *sender)
{
	(void)conn_id;
	(void)fd;
	(void)ip;
	(void)helo;
	(void)sender;
}

struct spf_job *spf_take(void)
{
	return NULL;
}

int spf_notify_fd(void)
{
	return -1;
}

void spf_deinit(void)
{
}
#endif
