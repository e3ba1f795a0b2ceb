/* SPDX-License-Identifier: MIT */
/*
 * autoresponder.h - RFC 3834 automatic answers to human replies, sent by
 * bav recorder (autoresponder.c).
 */
#ifndef BAV_CMD_AUTORESPONDER_H
#define BAV_CMD_AUTORESPONDER_H

#include "bav_spool.h"
#include "bav_store.h"

struct autoresponder;

/* Settings from the recorder's options; dir NULL: no autoresponder.
   allow_file (may be NULL): only senders listed there (address or
   @domain per line) are answered. Returns NULL and prints on error. */
struct autoresponder *autoresponder_new(const char *dir,
					const char *allow_file,
					const char *sendmail,
					unsigned int period_s);
void autoresponder_free(struct autoresponder **ar);

/* Inside the recorder's open transaction, for an entry recorded for
   the first time: decide whether its sender gets an answer (RFC 3834
   rules, template for the filter, once per sender and filter per
   period) and if so note the time in bav_ar_lastsent and queue the
   answer. Returns 0 or a store error (the transaction is then rolled
   back and autoresponder_drop() must be called). */
int autoresponder_consider(struct autoresponder *ar, struct bav_store *store,
			   const struct bav_spool_entry *e,
			   const char **error_r);
/* After the commit: send the queued answers (failures are logged, not
   retried: at most once). Returns the number sent. */
unsigned int autoresponder_flush(struct autoresponder *ar);
/* After a rollback: forget the queued answers. */
void autoresponder_drop(struct autoresponder *ar);

#endif
