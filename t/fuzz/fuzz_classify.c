/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	fuzz_classify - libFuzzer target: the whole classifier on one message
 * SYNOPSIS
 *	t/fuzz/fuzz_classify [libFuzzer options] [corpus dirs...]
 * DESCRIPTION
 *	Feeds the input as one complete message to bav_classify() with the
 *	built-in default rules, default limits, an agnUID secret and two
 *	identity headers, so MIME, header decoding, DSN, ARF, SES,
 *	auto-reply detection, the heuristics, reasons and the identity
 *	(agnUID, VERP) all see it. Every string of the verdict is read once
 *	so a dangling or unterminated one shows up under ASan. The pool is
 *	freed after each input.
 * DIAGNOSTICS
 *	A crash, sanitizer report or leak is a finding (see t/fuzz/run.sh).
 * SEE ALSO
 *	bav/bav.h, t/fuzz/run.sh
 */
#include "bav.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t touch(const char *s)
{
	return s == NULL ? 0 : strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ident[] = { "X-Mailer", "List-Id" };
	struct bav_classify_opts opts;
	struct bav_pool *pool = bav_pool_new(0);
	struct bav_verdict *v = NULL;
	const char *error = NULL;
	volatile size_t sum = 0;
	unsigned int i;

	memset(&opts, 0, sizeof(opts));
	opts.ident_headers = ident;
	opts.ident_header_count = 2;
	opts.agnuid_secret = "fuzz-secret";
	if (bav_classify(data, size, &opts, pool, &v, &error) == BAV_OK) {
		sum += touch(bav_kind_name(v->kind)) + touch(v->rule) +
		       touch(v->mark) + touch(v->from) + touch(v->subject) +
		       touch(v->unsubscribe_uid) + touch(v->reporting_mta);
		for (i = 0; i < v->result_count; i++) {
			const struct bav_result *r = &v->results[i];

			sum += touch(r->recipient) + touch(r->orig_recipient) +
			       touch(r->action) + touch(r->status) +
			       touch(r->diagnostic) + touch(r->remote_mta) +
			       touch(r->reason) + touch(r->rule) +
			       touch(r->feedback_type);
		}
		sum += touch(v->ident.message_id) + touch(v->ident.subject) +
		       touch(v->ident.envelope_sender) + touch(v->ident.verp) +
		       touch(v->ident.envelope_recipient) +
		       touch(v->ident.envelope_id);
		for (i = 0; i < v->ident.agnuid_count; i++)
			sum += touch(v->ident.agnuids[i].text);
		for (i = 0; i < v->ident.extra_count; i++)
			sum += touch(v->ident.extra_names[i]) +
			       touch(v->ident.extra_values[i]);
	} else {
		sum += touch(error);
	}
	(void)sum;
	bav_pool_free(&pool);
	return 0;
}
