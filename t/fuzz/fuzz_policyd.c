/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	fuzz_policyd - libFuzzer target: the policy protocol parser of
 *	bav-policyd
 * SYNOPSIS
 *	t/fuzz/fuzz_policyd [libFuzzer options] [corpus dirs...]
 * DESCRIPTION
 *	Replays the input the way policyd/server.c reads a connection: the
 *	bytes arrive in reads of 1 to 256 bytes (the first input byte picks
 *	the size) into an exactly sized heap buffer, and after each read
 *	proto_parse() is called until it wants more; complete requests are
 *	consumed, a broken one ends the connection. Every field of a parsed
 *	request is read, so a pointer outside the buffer or a missing NUL
 *	shows up under ASan. Links policyd/proto.c alone, with its own
 *	settings (small limits, so the size checks are reached).
 * DIAGNOSTICS
 *	A crash, sanitizer report or leak is a finding (see t/fuzz/run.sh).
 * SEE ALSO
 *	policyd/proto.c, Postfix SMTPD_POLICY_README
 */
#include "bav_policyd.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct policy_settings settings;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t chunk, have = 0, fed = 0;
	char *in = NULL;
	volatile size_t sum = 0;

	if (size == 0)
		return 0;
	settings.max_request_size = 1024;
	settings.max_attributes = 32;
	chunk = (size_t)data[0] + 1;
	data++;
	size--;
	while (fed < size) {
		size_t n = size - fed < chunk ? size - fed : chunk;
		char *grown = malloc(have + n);

		if (have > 0)
			memcpy(grown, in, have);
		memcpy(grown + have, data + fed, n);
		free(in);
		in = grown;
		have += n;
		fed += n;
		for (;;) {
			struct policy_request req;
			const char *why = NULL;
			size_t used = 0;
			enum proto_result r;

			if (have == 0)
				break;
			r = proto_parse(in, have, &req, &used, &why);
			if (r == PROTO_MORE)
				break;
			if (r == PROTO_BROKEN) {
				sum += strlen(why);
				free(in);
				return 0;
			}
			if (used == 0 || used > have)
				abort();	/* would loop or overrun */
			sum += strlen(req.protocol_state) +
			       strlen(req.sender) + strlen(req.recipient) +
			       strlen(req.client_address) +
			       strlen(req.client_name) +
			       strlen(req.queue_id) + strlen(req.instance) +
			       req.nattrs;
			memmove(in, in + used, have - used);
			have -= used;
		}
	}
	(void)sum;
	free(in);
	return 0;
}
