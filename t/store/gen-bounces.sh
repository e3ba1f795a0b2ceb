#!/bin/sh
# NAME
#	gen-bounces.sh - write N delivery status notifications as an mbox
# SYNOPSIS
#	sh t/store/gen-bounces.sh N [FIRST] > bounces.mbox
# DESCRIPTION
#	Synthetic RFC 3464 reports written for the store tests and
#	t/bench/store, numbered FIRST (default 0) to FIRST+N-1: message i
#	reports user<i>@d<i%13>.example with 5.1.1 (user unknown, hard),
#	every fifth 5.2.2 (mailbox full, soft), every seventh a delay
#	(4.4.1), and every tenth a second recipient alt<i>@d<i%13>.example.
#	Each has its own Message-ID, so each is recorded once.
# DIAGNOSTICS
#	Exit 0; 2 on usage.
[ $# -ge 1 ] || { echo "usage: $0 N [FIRST]" >&2; exit 2; }
awk -v n="$1" -v first="${2:-0}" 'BEGIN {
	for (i = first; i < first + n; i++) {
		d = "d" (i % 13) ".example"
		if (i % 7 == 0) { st = "4.4.1"; act = "delayed"; code = "451 4.4.1 connection timed out" }
		else if (i % 5 == 0) { st = "5.2.2"; act = "failed"; code = "552 5.2.2 mailbox full, quota exceeded" }
		else { st = "5.1.1"; act = "failed"; code = "550 5.1.1 user unknown" }
		printf "From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n"
		printf "Return-Path: <>\n"
		printf "From: Mail Delivery System <MAILER-DAEMON@mx.store-test.example>\n"
		printf "To: bounces@news.store-test.example\n"
		printf "Subject: %s\n", (act == "delayed" ? "Delayed Mail (still being retried)" : "Undelivered Mail Returned to Sender")
		printf "Date: Thu, 1 Jan 2026 00:00:00 +0000\n"
		printf "Message-ID: <dsn-%d@mx.store-test.example>\n", i
		printf "Auto-Submitted: auto-replied\n"
		printf "MIME-Version: 1.0\n"
		printf "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b%d\"\n\n", i
		printf "--b%d\nContent-Type: text/plain\n\n", i
		printf "Delivery to the following recipient %s:\n\n  user%d@%s: %s\n\n", (act == "delayed" ? "is delayed" : "failed permanently"), i, d, code
		printf "--b%d\nContent-Type: message/delivery-status\n\n", i
		printf "Reporting-MTA: dns; mx.store-test.example\n\n"
		printf "Final-Recipient: rfc822; user%d@%s\nAction: %s\nStatus: %s\n", i, d, act, st
		printf "Remote-MTA: dns; mx.%s\nDiagnostic-Code: smtp; %s\n", d, code
		if (i % 10 == 0)
			printf "\nFinal-Recipient: rfc822; alt%d@%s\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.%s\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n", i, d, d
		printf "\n--b%d\nContent-Type: text/rfc822-headers\n\n", i
		printf "From: News <news@news.store-test.example>\nTo: user%d@%s\n", i, d
		printf "Subject: Store test newsletter\nMessage-ID: <news-%d@news.store-test.example>\n\n", i
		printf "--b%d--\n\n", i
	}
}'
