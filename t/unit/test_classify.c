/* SPDX-License-Identifier: MIT */
/*
 * test_classify - bav_classify() end to end on small messages written for
 * this test: each kind, reason/status/hard/detail of a DSN, errors, and
 * reentrancy (several threads classifying at once).
 */
#include "test_common.h"
#include "bav.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char dsn[] =
	"From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
	"To: news@example.com\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"Content-Type: multipart/report; report-type=delivery-status; boundary=b1\n"
	"\n"
	"--b1\n"
	"Content-Type: text/plain\n"
	"\n"
	"This is the mail system at host mx.example.org.\n"
	"<ann@example.net>: host in.example.net[192.0.2.7] said: 550 5.1.1\n"
	"    <ann@example.net>: Recipient address rejected: User unknown (in\n"
	"    reply to RCPT TO command)\n"
	"<bob@example.net>: host in.example.net[192.0.2.7] said: 452 4.2.2\n"
	"    Mailbox full (in reply to RCPT TO command)\n"
	"--b1\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Reporting-MTA: dns; mx.example.org\n"
	"\n"
	"Final-Recipient: rfc822; ann@example.net\n"
	"Action: failed\n"
	"Status: 5.1.1\n"
	"Diagnostic-Code: smtp; 550 5.1.1 <ann@example.net>: Recipient address\n"
	"    rejected: User unknown\n"
	"\n"
	"Final-Recipient: rfc822; bob@example.net\n"
	"Action: delayed\n"
	"Status: 4.2.2\n"
	"Diagnostic-Code: smtp; 452 4.2.2 Mailbox full\n"
	"--b1\n"
	"Content-Type: text/rfc822-headers\n"
	"\n"
	"Message-ID: <m1@example.com>\n"
	"Subject: Newsletter\n"
	"--b1--\n";

static const char arf[] =
	"From: fbl@isp.example\n"
	"Subject: complaint\n"
	"Content-Type: multipart/report; report-type=feedback-report; boundary=x\n"
	"\n"
	"--x\n"
	"Content-Type: text/plain\n"
	"\n"
	"A complaint.\n"
	"--x\n"
	"Content-Type: message/feedback-report\n"
	"\n"
	"Feedback-Type: opt-out\n"
	"Original-Rcpt-To: carl@example.net\n"
	"--x--\n";

static const char vacation[] =
	"From: Dora <dora@example.net>\n"
	"Auto-Submitted: auto-replied\n"
	"Subject: Out of Office: Newsletter\n"
	"\n"
	"I am out of the office until Monday.\n";

static const char unsub[] =
	"From: eve@example.net\n"
	"Subject: unsubscribe:ab.cdef.ghij.kl\n"
	"\n";

static const char reply[] =
	"From: Fred <fred@example.net>\n"
	"Subject: Re: Newsletter\n"
	"\n"
	"Thanks! My old address gave '550 user unknown' last week.\n";

static struct bav_verdict *classify(struct bav_pool *pool, const char *msg,
				    const char **error_r)
{
	unsigned char *copy = test_dup_nonul(msg, strlen(msg));
	struct bav_verdict *v = NULL;
	int ret = bav_classify(copy, strlen(msg), NULL, pool, &v, error_r);

	free(copy);
	return ret == BAV_OK ? v : NULL;
}

static void test_classify_dsn(void)
{
	struct bav_pool *pool = bav_pool_new(0);
	const char *error = NULL;
	struct bav_verdict *v = classify(pool, dsn, &error);

	test_begin("classify: RFC 3464 bounce with a delayed recipient");
	test_assert(v != NULL);
	if (v != NULL) {
		test_assert(v->kind == BAV_KIND_BOUNCE);
		test_assert(v->result_count == 2);
		test_assert_strcmp(v->reporting_mta, "mx.example.org");
		test_assert_strcmp(v->ident.message_id, "<m1@example.com>");
		test_assert_strcmp(v->results[0].recipient, "ann@example.net");
		test_assert_strcmp(v->results[0].reason, "userunknown");
		test_assert_strcmp(v->results[0].status, "5.1.1");
		test_assert(v->results[0].replycode == 550);
		test_assert(v->results[0].hard);
		test_assert(v->results[0].detail == 511);
		test_assert(strstr(v->results[0].diagnostic,
				   "rejected: User unknown") != NULL);
		test_assert_strcmp(v->results[1].recipient, "bob@example.net");
		test_assert_strcmp(v->results[1].action, "delayed");
		/* a delay with a specific explanation keeps it */
		test_assert_strcmp(v->results[1].reason, "mailboxfull");
		test_assert(!v->results[1].hard);
	}
	bav_pool_free(&pool);
	test_end();
}

static void test_classify_kinds(void)
{
	static const struct {
		const char *msg;
		enum bav_kind kind;
		const char *reason, *recipient;
	} cases[] = {
		{ arf, BAV_KIND_FEEDBACK, "feedback", "carl@example.net" },
		{ vacation, BAV_KIND_AUTOREPLY, "vacation", "dora@example.net" },
		{ unsub, BAV_KIND_UNSUBSCRIBE, NULL, NULL },
		{ reply, BAV_KIND_REPLY, NULL, NULL },
	};
	unsigned int i;

	test_begin("classify: feedback, auto-reply, unsubscribe, reply");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bav_pool *pool = bav_pool_new(0);
		const char *error = NULL;
		struct bav_verdict *v = classify(pool, cases[i].msg, &error);

		test_assert_idx(v != NULL && v->kind == cases[i].kind, i);
		if (v != NULL && cases[i].reason != NULL) {
			test_assert_idx(v->result_count == 1, i);
			test_assert_idx(v->result_count == 1 &&
					strcmp(v->results[0].reason,
					       cases[i].reason) == 0, i);
			test_assert_idx(v->result_count == 1 &&
					strcmp(v->results[0].recipient,
					       cases[i].recipient) == 0, i);
		} else if (v != NULL) {
			test_assert_idx(v->result_count == 0, i);
		}
		if (v != NULL && i == 0)
			test_assert(strcmp(v->results[0].feedback_type,
					   "opt-out") == 0);
		if (v != NULL && i == 2)
			test_assert_strcmp(v->unsubscribe_uid,
					   "ab.cdef.ghij.kl");
		bav_pool_free(&pool);
	}
	test_end();
}

/* Structure of notices: recipients found, status codes taken. */
static const char transcript[] =
	"From: MAILER-DAEMON@gw.example.org\n"
	"Subject: Postfix SMTP server: errors from relay.example.net\n"
	"\n"
	"Transcript of session follows.\n"
	" In:  MAIL FROM:<list@relay.example.net>\n"
	" Out: 250 2.1.0 Ok\n"
	" In:  RCPT TO:<gus@example.org>\n"
	" Out: 250 2.1.5 Ok\n"
	" In:  DATA\n"
	" Out: 451 4.3.0 Error: queue file write error\n";

static const char bad_boundary[] =
	"From: MAILER-DAEMON@mx.example.org\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"Content-Type: multipart/report; report-type=delivery-status;"
	" boundary=\"declared\"\n"
	"\n"
	"--used\n"
	"Content-Type: text/plain\n"
	"\n"
	"<hal@example.net>: host mx.example.net said: 550 5.1.1 unknown\n"
	"--used\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"\n"
	"Final-Recipient: rfc822; hal@example.net\n"
	"Action: failed\n"
	"Status: 5.1.1\n"
	"--used--\n";

static const char inline_dsn[] =
	"From: MAILER-DAEMON@ses.example.com\n"
	"Subject: Delivery Status Notification (Failure)\n"
	"\n"
	"An error occurred while trying to deliver the mail to:\n"
	"ida@example.net\n"
	"\n"
	"Reporting-MTA: dns; out.ses.example.com\n"
	"\n"
	"Final-Recipient: rfc822; ida@example.net\n"
	"Action: failed\n"
	"Status: 4.4.7\n"
	"Diagnostic-Code: smtp; 554 4.4.7 Message expired: unable to deliver"
	" <421 4.4.2 Connection timed out>\n";

static const char unindented[] =
	"From: MAILER-DAEMON@filter.example.com\n"
	"Subject: failure notice\n"
	"Content-Type: multipart/report; report-type=delivery-status; boundary=z\n"
	"\n"
	"--z\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Reporting-MTA: dns; filter.example.com\n"
	"\n"
	"Diagnostic-Code: smtp; 550-Relaying denied without authentication.\n"
	"550 see the help pages\n"
	"Status: 5.0.0\n"
	"Action: failed\n"
	"Final-Recipient: rfc822; jan@example.org\n"
	"--z--\n";

static const char summary_code[] =
	"From: MAILER-DAEMON@bounces.example.com\n"
	"Subject: Delivery Status Notification (Failure)\n"
	"Content-Type: multipart/report; report-type=delivery-status; boundary=q\n"
	"\n"
	"--q\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Final-Recipient: rfc822; kai@example.net\n"
	"Action: failed\n"
	"Status: 5.0.0\n"
	"Diagnostic-Code: smtp; 5.1.0 - Unknown address error 550-'5.2.2"
	" <kai@example.net>... Mailbox full'\n"
	"--q--\n";

/* a person forwarding a report is no bounce */
static const char forwarded[] =
	"From: Lara Vogt <lara@example.org>\n"
	"To: support@example.com\n"
	"Subject: Fwd: strange mail I got\n"
	"\n"
	"Hi, what does this mean?\n"
	"\n"
	"Final-Recipient: rfc822; lara@example.org\n"
	"Action: failed\n"
	"Status: 5.1.1\n";

static void test_classify_structure(void)
{
	static const struct {
		const char *msg;
		enum bav_kind kind;
		unsigned int count;
		const char *recipient, *status;
	} cases[] = {
		/* the failure reply, not the "250 Ok" of the transcript */
		{ transcript, BAV_KIND_BOUNCE, 1, "gus@example.org", "4.3.0" },
		/* boundary rewritten; blank lines before the first group */
		{ bad_boundary, BAV_KIND_BOUNCE, 1, "hal@example.net", "5.1.1" },
		/* DSN fields inline in the text; x.4.7 takes the last cause */
		{ inline_dsn, BAV_KIND_BOUNCE, 1, "ida@example.net", "4.4.2" },
		/* a folded Diagnostic-Code without indentation */
		{ unindented, BAV_KIND_BOUNCE, 1, "jan@example.org", "5.0.0" },
		/* the remote server's code beats the reporting MTA's summary */
		{ summary_code, BAV_KIND_BOUNCE, 1, "kai@example.net", "5.2.2" },
		{ forwarded, BAV_KIND_REPLY, 0, NULL, NULL },
	};
	unsigned int i;

	test_begin("classify: recipients and status codes of notices");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bav_pool *pool = bav_pool_new(0);
		const char *error = NULL;
		struct bav_verdict *v = classify(pool, cases[i].msg, &error);

		test_assert_idx(v != NULL && v->kind == cases[i].kind, i);
		test_assert_idx(v != NULL &&
				v->result_count == cases[i].count, i);
		if (v != NULL && v->result_count > 0) {
			test_assert_idx(strcmp(v->results[0].recipient,
					       cases[i].recipient) == 0, i);
			test_assert_idx(strcmp(v->results[0].status,
					       cases[i].status) == 0, i);
		}
		bav_pool_free(&pool);
	}
	test_end();
}

/* A Postfix DSN for one recipient RCPT refused by HOST with REPLY after
   the SMTP command CMD, the Diagnostic-Code repeating REPLY. */
#define ONE_DSN(rcpt, host, status, reply, cmd) \
	"From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n" \
	"Subject: Undelivered Mail Returned to Sender\n" \
	"Content-Type: multipart/report; report-type=delivery-status;" \
	" boundary=b\n\n--b\nContent-Type: text/plain\n\n" \
	"This is the mail system at host mx.example.org.\n\n" \
	"<" rcpt ">: host " host "[192.0.2.9] said: " reply \
	" (in reply to " cmd " command)\n" \
	"--b\nContent-Type: message/delivery-status\n\n" \
	"Reporting-MTA: dns; mx.example.org\n\n" \
	"Final-Recipient: rfc822; " rcpt "\nAction: failed\n" \
	"Status: " status "\nRemote-MTA: dns; " host "\n" \
	"Diagnostic-Code: smtp; " reply "\n--b--\n"

static void test_classify_reasons(void)
{
	static const struct {
		const char *msg, *reason, *rule;
	} cases[] = {
		/* NTT docomo after DATA: the recipient refused the sender,
		   known by the remote MTA or by the recipient's domain */
		{ ONE_DSN("mio@docomo.example.ne.jp", "mfsmax.docomo.ne.jp",
			  "5.0.0", "550 Unknown user mio@docomo.example.ne.jp",
			  "end of DATA"), "rejected", "builtin:docomo-data" },
		{ ONE_DSN("ren@docomo.ne.jp", "relay.example.net", "5.0.0",
			  "550 Unknown user ren@docomo.ne.jp", "end of DATA"),
		  "rejected", "builtin:docomo-data" },
		/* elsewhere, or in a look-alike domain, a content filter */
		{ ONE_DSN("sam@example.net", "mx.example.net", "5.0.0",
			  "550 Unknown user sam@example.net", "end of DATA"),
		  "filtered", "builtin:data-phase" },
		{ ONE_DSN("ute@xdocomo.ne.jp", "mx.xdocomo.ne.jp", "5.0.0",
			  "550 Unknown user ute@xdocomo.ne.jp", "end of DATA"),
		  "filtered", "builtin:data-phase" },
		/* at RCPT the mailbox is missing, docomo or not */
		{ ONE_DSN("kei@docomo.ne.jp", "mfsmax.docomo.ne.jp", "5.0.0",
			  "550 Unknown user kei@docomo.ne.jp", "RCPT TO"),
		  "userunknown", NULL },
		/* x.2.3: the message called too large, or a limit exceeded */
		{ ONE_DSN("lea@example.org", "mx.example.org", "5.2.3",
			  "550 5.2.3 message too large for this recipient",
			  "end of DATA"), "mesgtoobig", NULL },
		{ ONE_DSN("max@example.org", "mx.example.org", "5.2.3",
			  "552 5.2.3 Message size exceeds the limit for this"
			  " recipient", "end of DATA"), "exceedlimit", NULL },
	};
	unsigned int i;

	test_begin("classify: reasons refined by phase, provider and size");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bav_pool *pool = bav_pool_new(0);
		const char *error = NULL;
		struct bav_verdict *v = classify(pool, cases[i].msg, &error);
		bool one = v != NULL && v->result_count == 1;

		test_assert_idx(one, i);
		if (!one) {
			bav_pool_free(&pool);
			continue;
		}
		test_assert_idx(strcmp(v->results[0].reason,
				       cases[i].reason) == 0, i);
		test_assert_idx(cases[i].rule == NULL ||
				strcmp(v->results[0].rule, cases[i].rule) == 0,
				i);
		bav_pool_free(&pool);
	}
	test_end();
}

static void test_classify_errors(void)
{
	struct bav_pool *pool = bav_pool_new(0);
	struct bav_limits lim;
	struct bav_classify_opts opts = { 0 };
	struct bav_verdict *v = NULL;
	const char *error = NULL;

	test_begin("classify: limits give BAV_EDATA with a reason");
	bav_limits_default(&lim);
	lim.max_message_size = 100;
	opts.limits = &lim;
	test_assert(bav_classify((const unsigned char *)dsn, strlen(dsn),
				 &opts, pool, &v, &error) == BAV_EDATA);
	test_assert(error != NULL && strstr(error, "size") != NULL);
	bav_limits_default(&lim);
	lim.max_recipients = 1;
	error = NULL;
	test_assert(bav_classify((const unsigned char *)dsn, strlen(dsn),
				 &opts, pool, &v, &error) == BAV_EDATA);
	test_assert(error != NULL && strstr(error, "recipient") != NULL);
	/* empty input is a (blank) message, not an error */
	test_assert(bav_classify((const unsigned char *)"", 0, NULL, pool, &v,
				 &error) == BAV_OK);
	bav_pool_free(&pool);
	test_end();
}

static void *thread_main(void *arg)
{
	int *ok = arg;
	unsigned int i;

	for (i = 0; i < 200; i++) {
		struct bav_pool *pool = bav_pool_new(0);
		const char *error;
		struct bav_verdict *v = classify(pool, dsn, &error);

		if (v == NULL || v->result_count != 2 ||
		    strcmp(v->results[0].reason, "userunknown") != 0)
			*ok = 0;
		bav_pool_free(&pool);
	}
	return NULL;
}

static void test_classify_threads(void)
{
	pthread_t t[4];
	int ok[4] = { 1, 1, 1, 1 };
	unsigned int i;

	test_begin("classify: reentrant across threads");
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, thread_main, &ok[i]);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		test_assert_idx(ok[i], i);
	}
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_classify_dsn, test_classify_kinds, test_classify_structure,
		test_classify_reasons, test_classify_errors,
		test_classify_threads, NULL
	};

	return test_run(tests);
}
