/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	fuzz_lmtp - libFuzzer target: the LMTP session of bav lmtpd
 * SYNOPSIS
 *	t/fuzz/fuzz_lmtp [libFuzzer options] [corpus dirs...]
 * DESCRIPTION
 *	Runs one lmtp_session_run() per input over a socketpair: the input
 *	is what the client sends (then it half-closes), a thread reads the
 *	replies. So the command parser (LHLO, MAIL FROM with SIZE= and
 *	BODY=, RCPT TO, DATA with dot-unstuffing and the size limit, RSET,
 *	NOOP, VRFY, QUIT), the line-length limit, the error counter and
 *	the queue-id lookup all see the input. deliver_message() is
 *	replaced by a stub that checks its arguments and answers OK or a
 *	temporary failure (by message length), so nothing is written to
 *	disk; syslog is masked. Small limits (4 KiB messages, 20
 *	recipients) make the limit paths reachable.
 * DIAGNOSTICS
 *	A crash, sanitizer report, leak or hang (libFuzzer -timeout) is a
 *	finding (see t/fuzz/run.sh).
 * SEE ALSO
 *	bav/cmd/lmtp_session.c, RFC 2033
 */
#include "lmtp.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile sig_atomic_t stop_flag;
static struct deliver_cfg cfg;
/* stands for the spool handle; only the stub below receives it */
static struct {
	int unused;
} dummy_spool;

/* The spool write, stubbed: reads what the session hands over. */
int deliver_message(const struct deliver_cfg *c, struct bav_spool *spool,
		    const char *sender, const char *const *rcpts,
		    unsigned int nrcpts, const char *queue_id,
		    const unsigned char *msg, size_t len,
		    struct deliver_result *res)
{
	volatile size_t sum = strlen(sender) + strlen(queue_id);
	unsigned int i;

	(void)c;
	if (spool != (struct bav_spool *)(void *)&dummy_spool)
		abort();
	if (nrcpts == 0)
		abort();	/* DATA without a recipient reached the spool */
	for (i = 0; i < nrcpts; i++)
		sum += strlen(rcpts[i]);
	if (len > 0)
		sum += msg[0] + msg[len - 1];
	(void)sum;
	res->fwd[0] = '\0';
	if (len % 2 == 0) {
		res->name = "1.fuzz";
		res->kind = "reply";
		return BAV_OK;
	}
	snprintf(res->error, sizeof(res->error), "stub spool failure");
	return BAV_ETEMP;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setlogmask(LOG_MASK(LOG_EMERG));
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_size = 4096;
	cfg.quiet = true;
	memcpy(cfg.host, "lmtp.fuzz.example", sizeof("lmtp.fuzz.example"));
	return 0;
}

static void *drain(void *arg)
{
	int fd = *(int *)arg;
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lmtp_server srv;
	int sv[2];
	size_t off = 0;
	pthread_t reader;

	if (size > 100000 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	memset(&srv, 0, sizeof(srv));
	srv.cfg = &cfg;
	srv.timeout_s = 5;
	srv.max_rcpts = 20;
	srv.max_errors = 10;
	srv.stop = &stop_flag;
	if (pthread_create(&reader, NULL, drain, &sv[1]) != 0)
		abort();
	/* fits in the socket buffer: input is at most 100 000 bytes */
	while (off < size) {
		ssize_t n = write(sv[1], data + off, size - off);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	shutdown(sv[1], SHUT_WR);
	lmtp_session_run(&srv, sv[0], (struct bav_spool *)(void *)&dummy_spool,
			 "fuzz[127.0.0.1]");
	close(sv[0]);
	pthread_join(reader, NULL);
	close(sv[1]);
	return 0;
}
