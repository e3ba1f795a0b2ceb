/* SPDX-License-Identifier: MIT */
/*
 * emm_webhook.h - the webhook.log queue (emm_webhook.c) that the
 * recorder path (emm.c, emm_write.c) and the scoring (emm_score*.c)
 * share: lines queued inside the transaction, written after the commit.
 */
#ifndef BAV_EMM_WEBHOOK_H
#define BAV_EMM_WEBHOOK_H

#include <stddef.h>
#include <time.h>
#include "bav_store.h"

#define EMM_WEBHOOK_HARD_BOUNCE 4

struct emm_webhook {
	char *path;		/* malloc'ed; NULL: webhooks off */
	char *buf;		/* queued lines */
	size_t len, alloc;
	char errbuf[320];
};
struct emm_webhook_event {
	long long licence, company, mailing, customer;
	int type;
	time_t time;
};

int emm_webhook_add(struct emm_webhook *wh, struct bav_store *store,
		    const struct emm_webhook_event *ev, const char **error_r);
int emm_webhook_flush(struct emm_webhook *wh, const char **error_r);
void emm_webhook_drop(struct emm_webhook *wh);
void emm_webhook_free(struct emm_webhook *wh);

#endif
