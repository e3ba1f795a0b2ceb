# NAME
#	suite.sh - the store test suite, the same for every backend
# SYNOPSIS
#	STORE=URI BAV=path/to/bav T=tmpdir . t/store/suite.sh; store_suite
# DESCRIPTION
#	Sourced by t/store/sqlite.sh and t/store/mariadb.sh. Runs the bav
#	command against an empty store named by $STORE and checks, with
#	portable SQL through "bav store query": recording the examples and
#	a generated mbox, event and message counts, every message complete
#	(result_count = its events), a second run records nothing, a
#	redelivered copy (CRLF, extra trace fields) counts once, recipient
#	states, bav show, bav unblock with its audit row, the schema guard
#	(a newer schema exits 78), a bad URI exits 78, one transaction
#	per message (--batch 1) gives the same result, and two concurrent
#	writers of the same messages record each once.
# DIAGNOSTICS
#	"ok - what" / "FAIL - what" lines; store_suite returns the number of
#	failures (0 = pass).

fails=0
ok() { echo "ok - $1"; }
fail() { echo "FAIL - $1"; fails=$((fails + 1)); }
check() { # what expected actual
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1 (want '$2', got '$3')"; fi
}
q() { "$BAV" store query --store "$STORE" "$@"; }

store_suite() {
	srcdir=${top_srcdir:-.}
	sh "$srcdir/t/store/gen-bounces.sh" 200 >"$T/gen.mbox"
	# the examples (others add to them) plus the 200 generated reports
	total=$(( $("$BAV" classify --list "$srcdir/contrib/examples" | wc -l) + 200 ))

	"$BAV" record --store "$STORE" --host mx-test --time 1767225600 \
		"$srcdir/contrib/examples" "$T/gen.mbox" 2>"$T/rec1.err"
	check "record exits 0" 0 $?
	n_msgs=$(q "SELECT COUNT(*) FROM bav_messages")
	check "$total messages recorded" "$total" "$n_msgs"
	# 200 generated reports, 20 of them with a second recipient
	check "220 generated events" 220 \
		"$(q "SELECT COUNT(*) FROM bav_events WHERE domain LIKE ?" '%.example')"
	check "every message complete" 0 "$(q "SELECT COUNT(*) FROM bav_messages m
		WHERE result_count <> (SELECT COUNT(*) FROM bav_events e WHERE e.message_id = m.id)")"
	check "receiving host and time kept" "$total" \
		"$(q "SELECT COUNT(*) FROM bav_messages WHERE receiving_host = ? AND time = ?" mx-test 1767225600)"
	n_events=$(q "SELECT COUNT(*) FROM bav_events")

	"$BAV" record --store "$STORE" "$srcdir/contrib/examples" "$T/gen.mbox" 2>"$T/rec2.err"
	check "second run exits 0" 0 $?
	grep -q "0 recorded, $total already recorded" "$T/rec2.err" &&
		ok "second run records nothing" || fail "second run: $(cat "$T/rec2.err")"
	check "events unchanged after the second run" "$n_events" "$(q "SELECT COUNT(*) FROM bav_events")"

	# the same report redelivered: CRLF, an mbox From line, more trace fields
	{ printf 'Received: from relay.example by mx2.example; Thu, 1 Jan 2026 00:00:05 +0000\r\n'
	  printf 'Delivered-To: bounces@news.store-test.example\r\n'
	  sed 's/$/\r/' "$srcdir/contrib/examples/dsn-userunknown.eml"; } >"$T/redelivered.eml"
	"$BAV" record --store "$STORE" "$T/redelivered.eml" 2>"$T/rec3.err"
	check "redelivery exits 0" 0 $?
	check "redelivered copy counts once" "$n_msgs" "$(q "SELECT COUNT(*) FROM bav_messages")"

	check "hard bounce: state bounced" bounced \
		"$(q "SELECT state FROM bav_recipients WHERE address = ?" user1@d1.example)"
	check "second recipient recorded" bounced \
		"$(q "SELECT state FROM bav_recipients WHERE address = ?" alt10@d10.example)"
	check "soft bounce: not bounced" active \
		"$(q "SELECT state FROM bav_recipients WHERE address = ?" user5@d5.example)"
	check "complaint: state complained" complained \
		"$(q "SELECT state FROM bav_recipients WHERE address = ?" reader@isp.example.net)"
	check "bounce identity: original Message-ID" 1 \
		"$(q "SELECT COUNT(*) FROM bav_events WHERE recipient = ? AND orig_message_id LIKE ?" user1@d1.example '%news-1@news.store-test.example%')"
	check "report-style query (by domain, day)" "d1.example	1767225600	18" \
		"$(q "SELECT domain, time - time % 86400 AS day, COUNT(*) FROM bav_events WHERE domain = ? GROUP BY domain, time - time % 86400" d1.example)"

	# raw 8-bit and over-long text: a strict utf8mb4 server must not refuse it
	long=$(awk 'BEGIN { for (i = 0; i < 7000; i++) printf "too long "; }')
	{ printf '%s\n' 'From: MAILER-DAEMON@mx.example.de' 'To: bounces@news.store-test.example' \
		'Subject: Unzustellbar' 'Message-ID: <latin1@mx.example.de>' 'MIME-Version: 1.0' \
		'Content-Type: multipart/report; report-type=delivery-status; boundary="L"' '' \
		'--L' 'Content-Type: message/delivery-status' '' 'Reporting-MTA: dns; mx.example.de' '' \
		'Final-Recipient: rfc822; mueller@example.de' 'Action: failed' 'Status: 5.1.1'
	  printf 'Diagnostic-Code: smtp; 550 5.1.1 Empf\344nger unbekannt %s\n--L--\n' "$long"
	} >"$T/latin1.eml"
	"$BAV" record --store "$STORE" "$T/latin1.eml" 2>"$T/latin1.err"
	check "8-bit and 63 KB diagnostic recorded" "0 1" \
		"$? $(q "SELECT COUNT(*) FROM bav_events WHERE diagnostic LIKE ?" '550 5.1.1 Empf?nger unbekannt too long%')"

	"$BAV" show --store "$STORE" User1@D1.example >"$T/show.out"
	check "show exits 0" 0 $?
	grep -q 'state: *bounced' "$T/show.out" && grep -q 'diagnostic: .*user unknown' "$T/show.out" &&
		ok "show prints state and raw diagnostic" || fail "show output: $(cat "$T/show.out")"
	"$BAV" show --store "$STORE" nobody@nowhere.example >/dev/null
	check "show of an unknown address exits 1" 1 $?

	"$BAV" unblock --store "$STORE" user1@d1.example >/dev/null 2>&1
	check "unblock without --reason exits 64" 64 $?
	"$BAV" unblock --store "$STORE" --reason "mailbox restored (ticket 7)" --actor tester user1@d1.example >/dev/null
	check "unblock exits 0" 0 $?
	check "unblocked address is active" active \
		"$(q "SELECT state FROM bav_recipients WHERE address = ?" user1@d1.example)"
	check "audit row kept" "bounced	tester	mailbox restored (ticket 7)" \
		"$(q "SELECT old_state, actor, reason FROM bav_audit WHERE address = ?" user1@d1.example)"
	"$BAV" unblock --store "$STORE" --reason again user1@d1.example 2>/dev/null
	check "second unblock exits 1" 1 $?

	"$BAV" store init --store "$STORE" >/dev/null
	check "store init on a current schema exits 0" 0 $?
	# a migration cut short (tables there, version row not): applied again
	q "DELETE FROM bav_schema_version"
	"$BAV" store init --store "$STORE" >/dev/null
	check "store init after an interrupted migration exits 0" "0 1" \
		"$? $(q "SELECT MAX(version) FROM bav_schema_version")"
	q "INSERT INTO bav_schema_version (version, name, applied) VALUES (?, ?, ?)" 999 future 0
	"$BAV" record --store "$STORE" "$T/redelivered.eml" 2>"$T/newer.err"
	check "newer schema: record exits 78" 78 $?
	grep -q 'newer' "$T/newer.err" && ok "newer schema: clear message" ||
		fail "newer schema message: $(cat "$T/newer.err")"
	q "DELETE FROM bav_schema_version WHERE version = ?" 999

	"$BAV" record --store "nosuch://x" "$T/redelivered.eml" 2>/dev/null
	check "bad URI exits 78" 78 $?

	sh "$srcdir/t/store/gen-bounces.sh" 30 1000 >"$T/gen2.mbox"
	"$BAV" record --store "$STORE" --batch 1 -q "$T/gen2.mbox"
	check "--batch 1 exits 0" 0 $?
	check "--batch 1 records 30" 30 \
		"$(q "SELECT COUNT(*) FROM bav_messages WHERE orig_message_id LIKE ? OR id IN (SELECT message_id FROM bav_events WHERE recipient LIKE ?)" '%news-10__@%' 'user10__@%')"

	# two writers (two MX hosts) record the same 1000 reports at once
	sh "$srcdir/t/store/gen-bounces.sh" 1000 5000 >"$T/gen3.mbox"
	before=$(q "SELECT COUNT(*) FROM bav_messages")
	"$BAV" record --store "$STORE" --host mx-a -q "$T/gen3.mbox" & p1=$!
	"$BAV" record --store "$STORE" --host mx-b -q "$T/gen3.mbox" & p2=$!
	wait $p1; r1=$?
	wait $p2; r2=$?
	check "concurrent writers exit 0" "0 0" "$r1 $r2"
	check "concurrent writers: each message once" $((before + 1000)) \
		"$(q "SELECT COUNT(*) FROM bav_messages")"
	check "concurrent writers: every message complete" 0 "$(q "SELECT COUNT(*) FROM bav_messages m
		WHERE result_count <> (SELECT COUNT(*) FROM bav_events e WHERE e.message_id = m.id)")"
	return $fails
}
