#!/bin/sh
# SPDX-License-Identifier: MIT
# NAME
#	t/emm/score.sh - bav score --emm on a real MariaDB with the EMM schema
# DESCRIPTION
#	Loads sql/emm/{schema,seed}.sql into a private mariadbd (TZ=UTC) and
#	adds, per rule of the soft-bounce scoring (emm-mailloop spec section
#	6), customers, softbounce_email_tbl entries, bounce_tbl rows, clicks,
#	opens and successes, and an OpenEMM cursor one day before "now":
#	  frank	 2 + a bounce in the window = 3 (company 1 converts at 3) over
#		 more than 30 days: converted (binding 2, bounce:conversion,
#		 exit mailing = the bouncing mailing, bounce_tbl 510/599)
#	  bob/BOB two customers, two case variants of one entry: merged, counted
#		 once (1 + 1 + 1 = 3), span under 30 days: kept
#	  gina	 success after her last bounce (mailtracking 1): reset
#	  hank	 click after his last bounce: not converted, entry reset
#	  ivan	 open before his last bounce, within last-open: kept with count
#	  jill	 expired with 2 <= threshold: deleted
#	  kim	 expired with 6 > threshold, span too short: converted
#	  lea	 4 bounces in 12 days: kept
#	  mo	 converted on e-mail only: suspended (7) e-mail binding -> 2,
#		 the SMS binding (mediatype 1) and an opt-out (4) unchanged
#	  carol	 blocklisted (6): entry deleted, no bounce_tbl row
#	  company 2 (mailtracking 0, fade-out 14): erin 4, silent 30 days:
#		 fades twice to 2, timestamp moves by 28 days; zed 1 fades to
#		 0 and is deleted; yan 12 without customer: deleted; dave's
#		 bounce makes a new entry; a bounce of an inactive company is
#		 skipped, one before the window and a hard one not counted;
#	  a non-integer parameter is reported and ignored.
#	With --webhook-log (and emm_webhook_log= in the URI) the three
#	conversions of company 1 (HARD_BOUNCE webhook) append one webhook.log
#	line each; a second run and a dry run append none.
#	Checks the entries, bindings, bounce_tbl and timestamp_tbl afterwards,
#	that a second run at the same time changes nothing, that --dry-run
#	commits nothing, and that with the server gone it exits 75.
# DIAGNOSTICS
#	ok:/FAIL: lines; exit 0 pass, 1 fail, 77 skip.
TZ=UTC
export TZ
. "${top_srcdir:-.}/t/emm/tools-lib.sh"
emm_db_start

sqlq "
INSERT INTO company_tbl (company_id, shortname, status) VALUES (3, 'Gone', 'inactive');
INSERT INTO bounce_config_tbl (company_id, rid, name, value) VALUES
	(2, 0, 'conversion', '{\"fade-out\": \"often\"}');
INSERT INTO timestamp_tbl (timestamp_id, name, cur) VALUES
	(7, 'bounce-conversion-openemm', '2026-02-28 12:00:00');
INSERT INTO customer_1_tbl (customer_id, email) VALUES
	(5, 'frank@example.net'), (6, 'gina@example.net'), (7, 'hank@example.net'),
	(8, 'ivan@example.net'), (9, 'jill@example.net'), (10, 'kim@example.net'),
	(11, 'lea@example.net'), (12, 'mo@example.net');
INSERT INTO customer_1_binding_tbl (customer_id, mailinglist_id, user_status,
	user_remark, mediatype) VALUES
	(5, 11, 1, 'seed', 0), (6, 11, 1, 'seed', 0), (7, 11, 1, 'seed', 0),
	(8, 11, 1, 'seed', 0), (9, 11, 1, 'seed', 0), (10, 11, 1, 'seed', 0),
	(11, 11, 1, 'seed', 0), (12, 11, 7, 'seed', 0), (12, 12, 1, 'seed', 1),
	(12, 12, 4, 'seed', 0);
INSERT INTO softbounce_email_tbl (company_id, email, bnccnt, mailing_id,
	creation_date, timestamp) VALUES
	(1, 'frank@example.net', 2, 102, '2026-01-01 10:00:00', '2026-02-20 10:00:00'),
	(1, 'bob@example.net', 1, 102, '2026-02-25 10:00:00', '2026-02-25 10:00:00'),
	(1, 'BOB@example.net', 1, 102, '2026-02-26 10:00:00', '2026-02-26 10:00:00'),
	(1, 'gina@example.net', 2, 102, '2026-01-01 10:00:00', '2026-02-20 10:00:00'),
	(1, 'hank@example.net', 5, 102, '2026-01-01 10:00:00', '2026-02-10 10:00:00'),
	(1, 'ivan@example.net', 5, 102, '2026-01-01 10:00:00', '2026-02-25 10:00:00'),
	(1, 'jill@example.net', 2, 102, '2022-01-01 10:00:00', '2022-01-05 10:00:00'),
	(1, 'kim@example.net', 6, 101, '2022-01-01 10:00:00', '2022-01-10 10:00:00'),
	(1, 'lea@example.net', 4, 102, '2026-02-15 10:00:00', '2026-02-27 10:00:00'),
	(1, 'mo@example.net', 3, 102, '2026-01-01 10:00:00', '2026-02-27 10:00:00'),
	(1, 'carol@example.org', 3, 102, '2026-01-01 10:00:00', '2026-02-27 10:00:00'),
	(2, 'erin@example.com', 4, 201, '2026-01-01 10:00:00', '2026-01-30 12:00:00'),
	(2, 'zed@example.com', 1, 201, '2026-01-01 10:00:00', '2026-02-01 12:00:00'),
	(2, 'yan@example.com', 12, 201, '2026-01-01 10:00:00', '2026-02-20 12:00:00');
INSERT INTO success_1_tbl (customer_id, mailing_id, timestamp) VALUES
	(6, 102, '2026-02-25 10:00:00');
INSERT INTO rdirlog_1_tbl (customer_id, mailing_id, timestamp) VALUES
	(7, 102, '2026-02-20 10:00:00');
INSERT INTO onepixellog_1_tbl (customer_id, mailing_id, timestamp) VALUES
	(8, 102, '2026-02-15 10:00:00');
INSERT INTO bounce_tbl (company_id, customer_id, mailing_id, detail, dsn, timestamp) VALUES
	(1, 5, 101, 420, 422, '2026-02-28 18:00:00'),
	(1, 5, 102, 410, 400, '2026-02-28 19:00:00'),
	(1, 2, 101, 400, 400, '2026-02-28 18:00:00'),
	(1, 3, 101, 410, 410, '2026-02-28 18:00:00'),
	(1, 1, 101, 511, 511, '2026-02-28 18:00:00'),
	(1, 1, 101, 420, 420, '2026-02-27 18:00:00'),
	(2, 1, 201, 420, 420, '2026-03-01 08:00:00'),
	(3, 1, 301, 420, 420, '2026-03-01 08:00:00');" || { echo "FAIL: seed"; exit 1; }

NOW=2026-03-01T12:00:00
dump() {
	sqlq "SELECT company_id, email, bnccnt, mailing_id, creation_date, timestamp
		FROM softbounce_email_tbl ORDER BY company_id, email"
	sqlq "SELECT * FROM customer_1_binding_tbl ORDER BY 1, 2, 9"
	sqlq "SELECT * FROM customer_2_binding_tbl ORDER BY 1, 2, 9"
	sqlq "SELECT bounce_id, company_id, customer_id, mailing_id, detail, dsn
		FROM bounce_tbl ORDER BY 1"
	sqlq "SELECT timestamp_id, name, cur FROM timestamp_tbl ORDER BY 1"
}
"$BAV" score --emm "$MARIADB_URI" --now $NOW --webhook-log "$T/webhook.log" > "$T/out" 2> "$T/err"
expect "score --emm: exit 0" 0 $?
cat "$T/out"
expect "summary" "scored 2 companies (5 soft bounces, 1 of other companies): 3 counted (1 new, 1 merged), 1 expired, 1 reset, 2 faded (1 dropped), 3 converted (3 bindings), 1 active kept, 1 active reset" "$(cat "$T/out")"
grep -q 'bounce_config_tbl (2, 0) conversion: fade-out is not a non-negative integer, ignored' "$T/err" &&
	ok "warning for the non-integer parameter" || fail "warning: $(cat "$T/err")"

expect "softbounce_email_tbl afterwards" "1	bob@example.net	3	101
1	ivan@example.net	5	102
1	lea@example.net	4	102
2	dave@example.com	1	201
2	erin@example.com	2	201" "$(sqlq "SELECT company_id, email, bnccnt, mailing_id
	FROM softbounce_email_tbl ORDER BY company_id, email")"
expect "new entry: created now" "2026-03-01 12:00:00	2026-03-01 12:00:00" \
	"$(sqlq "SELECT creation_date, timestamp FROM softbounce_email_tbl WHERE email = 'dave@example.com'")"
expect "fade-out: timestamp moved by two periods" "2026-02-27 12:00:00" \
	"$(sqlq "SELECT timestamp FROM softbounce_email_tbl WHERE email = 'erin@example.com'")"
expect "bindings of company 1" "1	11	1	seed	0	0
1	12	1	seed	0	0
2	11	1	seed	0	0
3	11	1	seed	0	0
4	11	6	blocklisted	0	0
5	11	2	bounce:conversion	101	0
6	11	1	seed	0	0
7	11	1	seed	0	0
8	11	1	seed	0	0
9	11	1	seed	0	0
10	11	2	bounce:conversion	101	0
11	11	1	seed	0	0
12	11	2	bounce:conversion	102	0
12	12	4	seed	0	0
12	12	1	seed	0	1" "$(sqlq "SELECT customer_id, mailinglist_id, user_status, user_remark,
	COALESCE(exit_mailing_id, 0), mediatype FROM customer_1_binding_tbl ORDER BY 1, 2, 6")"
expect "conversion timestamp" "2026-03-01 12:00:00" \
	"$(sqlq "SELECT timestamp FROM customer_1_binding_tbl WHERE customer_id = 5")"
expect "company 2 bindings unchanged" "1	21	1
2	21	1" "$(sqlq "SELECT customer_id, mailinglist_id, user_status FROM customer_2_binding_tbl ORDER BY 1")"
expect "bounce_tbl: one 510/599 row per converted customer" "1	5	101	510	599	2026-03-01 12:00:00
1	10	101	510	599	2026-03-01 12:00:00
1	12	102	510	599	2026-03-01 12:00:00" "$(sqlq "SELECT company_id, customer_id, mailing_id, detail, dsn, timestamp
	FROM bounce_tbl WHERE dsn = 599 ORDER BY customer_id")"
expect "webhook.log: the hard-bounce line of each conversion (company 1 has a HARD_BOUNCE webhook)" \
	"0;1;101;5;4;2026-03-01 12:00:00
0;1;101;10;4;2026-03-01 12:00:00
0;1;102;12;4;2026-03-01 12:00:00" "$(sort -t';' -k4n "$T/webhook.log")"
expect "cursor continues OpenEMM's and moved to now" "bounce-conversion-bav	2026-03-01 12:00:00	2026-02-28 12:00:00" \
	"$(sqlq "SELECT name, cur, prev FROM timestamp_tbl WHERE name = 'bounce-conversion-bav'")"
expect "bounce_collect_tbl not used" 0 "$(sqlq "SELECT COUNT(*) FROM bounce_collect_tbl")"

dump > "$T/before"
"$BAV" score --emm "$MARIADB_URI&emm_webhook_log=$T/webhook.log" --now $NOW -q 2>/dev/null
expect "second run: exit 0" 0 $?
expect "second run: no more webhook lines" 3 "$(wc -l < "$T/webhook.log" | tr -d ' ')"
dump > "$T/after"
cmp -s "$T/before" "$T/after" && ok "second run at the same time changes nothing" ||
	{ fail "second run changed rows"; diff "$T/before" "$T/after"; }

sqlq "INSERT INTO bounce_tbl (company_id, customer_id, mailing_id, detail, dsn, timestamp)
	VALUES (1, 11, 102, 420, 420, '2026-03-20 08:00:00')"
dump > "$T/before"
"$BAV" score --emm "$MARIADB_URI" --now 2026-03-21T12:00:00 --dry-run --webhook-log "$T/webhook.log" > "$T/out" 2>/dev/null
expect "dry run: exit 0" 0 $?
expect "dry run: no webhook lines" 3 "$(wc -l < "$T/webhook.log" | tr -d ' ')"
grep -q "^dry run: .* 1 counted" "$T/out" && ok "dry run counts lea" || fail "dry run: $(cat "$T/out")"
dump > "$T/after"
cmp -s "$T/before" "$T/after" && ok "dry run commits nothing" ||
	{ fail "dry run changed rows"; diff "$T/before" "$T/after"; }

mariadb_kill
"$BAV" score --emm "$MARIADB_URI" --now $NOW > /dev/null 2>&1
expect "server gone: exit 75" 75 $?

echo "$fails failed"
[ $fails -eq 0 ]
