/* SPDX-License-Identifier: MIT */
/*
 * lmtp.h - the LMTP server of bav lmtpd: one session per connection
 * (lmtp_session.c), run by a fixed set of worker threads (cmd_lmtpd.c).
 */
#ifndef BAV_CMD_LMTP_H
#define BAV_CMD_LMTP_H

#include "deliver.h"

#include <signal.h>

/* Server-wide settings, read-only while the workers run. */
struct lmtp_server {
	const struct deliver_cfg *cfg;
	unsigned int timeout_s;		/* idle time per command, 300 */
	unsigned int max_rcpts;		/* per transaction, 1000 */
	unsigned int max_errors;	/* bad commands before 421, 10 */
	volatile sig_atomic_t *stop;	/* set: finish and close */
	/* the workers' spool handles share the fsync of new/ */
	struct bav_spool_group *spool_group;
};

/* Run one LMTP session on the connected socket fd, writing accepted
   messages to spool (the worker's own handle; NULL: answer 451). The
   caller closes fd. */
void lmtp_session_run(const struct lmtp_server *srv, int fd,
		      struct bav_spool *spool, const char *peer);

#endif
