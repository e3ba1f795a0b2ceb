/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav-message.h - read a Dovecot mail into one buffer for libbav
 *	(shared by the mail plugin and the Sieve extension)
 */
#ifndef BAV_MESSAGE_H
#define BAV_MESSAGE_H

struct mail;

/* Read the whole message of mail (its istream, rewound afterwards) into
   a buffer allocated from default_pool (free with buffer_free()).
   Returns 0 ok, 1 larger than max_size (nothing allocated), -1 read
   error with *error_r (data stack). */
int bav_message_read(struct mail *mail, uoff_t max_size, buffer_t **buf_r,
		     const char **error_r);

#endif
