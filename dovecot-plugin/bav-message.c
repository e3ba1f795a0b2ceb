/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav-message - read a Dovecot mail into one buffer for libbav
 * SYNOPSIS
 *	#include "bav-message.h"
 *
 *	int bav_message_read(struct mail *mail, uoff_t max_size,
 *			     buffer_t **buf_r, const char **error_r)
 * DESCRIPTION
 *	libbav classifies a message held in memory. This reads the
 *	message's istream (mail_get_stream) to its end into a buffer from
 *	default_pool, which the caller frees with buffer_free(), and seeks
 *	the stream back to 0 so Dovecot's own save reads it again. Messages
 *	above max_size are refused before anything is read when the
 *	physical size is known, else as soon as the buffer would exceed it.
 * DIAGNOSTICS
 *	0 ok; 1 too big (*buf_r untouched); -1 read error, *error_r on the
 *	data stack.
 * SEE ALSO
 *	bav-deliver.c, sieve/ext-bav-common.c
 */
#include "lib.h"
#include "buffer.h"
#include "istream.h"
#include "mail-storage.h"
#include "bav-message.h"

int bav_message_read(struct mail *mail, uoff_t max_size, buffer_t **buf_r,
		     const char **error_r)
{
	struct istream *input;
	const unsigned char *data;
	uoff_t psize;
	size_t size;
	buffer_t *buf;

	if (mail_get_physical_size(mail, &psize) < 0)
		psize = 0;
	else if (psize > max_size)
		return 1;
	if (mail_get_stream(mail, NULL, NULL, &input) < 0) {
		*error_r = mailbox_get_last_internal_error(mail->box, NULL);
		return -1;
	}
	/* sized from the physical size when known (no 64 KiB zeroed
	   block per delivery for a 4 KiB bounce); grows when it is not */
	buf = buffer_create_dynamic(default_pool,
				    psize > 0 && psize < 65536 ? psize + 1 : 65536);
	while (i_stream_read_more(input, &data, &size) > 0) {
		if (buf->used + size > max_size) {
			buffer_free(&buf);
			i_stream_seek(input, 0);
			return 1;
		}
		buffer_append(buf, data, size);
		i_stream_skip(input, size);
	}
	if (input->stream_errno != 0) {
		*error_r = t_strdup(i_stream_get_error(input));
		buffer_free(&buf);
		return -1;
	}
	i_stream_seek(input, 0);
	*buf_r = buf;
	return 0;
}
