#!/bin/sh
# NAME
#	t/deliver/mariadb.sh - MariaDB stopped in the middle of 1000 messages
# DESCRIPTION
#	Starts a private mariadbd (t/store/mariadb-lib.sh), bav lmtpd and a
#	bav recorder daemon (batches of 25) on MariaDB, and sends $DB_MESSAGES
#	(default 1000) distinct bounces over LMTP with 4 connections
#	(t/deliver/lmtp-load.py) in two halves. After the first ~200 are
#	recorded, mariadbd is killed with SIGKILL; the second half is sent
#	while the database is away (every message must still get 250 from
#	lmtpd: the spool holds them) and the recorder keeps retrying. Then
#	mariadbd is restarted: the recorder must drain the spool by itself,
#	and exactly DB_MESSAGES messages and events end up in the store,
#	none half-written. SIGTERM stops the recorder with exit 0.
#	Everything it started is stopped on exit, also on failure.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (not root, mariadb-server missing, or the
#	MariaDB backend not built).
. "${top_srcdir:-.}/t/deliver/common.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to start mariadbd"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
if "$BAV" store init --store "mariadb://x@127.0.0.1:1/x" 2>&1 | grep -q 'not built'; then
	echo "SKIP: MariaDB backend not built"; exit 77
fi
. "$srcdir/t/store/mariadb-lib.sh"
N=${DB_MESSAGES:-1000}
half=$((N / 2))
lmtpd_pid=
rec_pid=
cleanup_hook() {
	[ -n "$rec_pid" ] && kill "$rec_pid" 2>/dev/null && wait "$rec_pid"
	[ -n "$lmtpd_pid" ] && kill "$lmtpd_pid" 2>/dev/null &&
		wait "$lmtpd_pid"
	mariadb_stop
	if [ $fails -ne 0 ] || [ -n "$KEEP" ]; then
		echo "--- recorder"; tail -20 "$T/recorder.err"
	fi
}
mariadb_start "$T"; rc=$?
[ $rc -eq 77 ] && { echo "SKIP: mariadb-server not installed"; exit 77; }
[ $rc -ne 0 ] && { fail "mariadbd did not start"; exit 1; }
q() {
	mariadb --no-defaults --socket="$MARIADB_SOCK" -uroot -N -B bav -e "$1"
}

S=$T/spool
"$BAV" lmtpd -s "unix:$T/lmtp.sock" -t 4 --spool "$S" --quiet \
	2> "$T/lmtpd.err" &
lmtpd_pid=$!
"$BAV" recorder --spool "$S" --store "$MARIADB_URI" --batch 25 \
	--keep-days 0 2> "$T/recorder.err" &
rec_pid=$!
i=0
while [ ! -S "$T/lmtp.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done

python3 "$srcdir/t/deliver/lmtp-load.py" "unix:$T/lmtp.sock" $half 4 0 \
	> "$T/load1.out"
expect "first half: every message 250" "0" "$?"
i=0
while [ "$(q 'SELECT COUNT(*) FROM bav_messages' 2>/dev/null || echo 0)" -lt 200 ] &&
      [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1))
done
mariadb_kill
ok "mariadbd killed with $(nfiles "$S/new") entries waiting in the spool"
python3 "$srcdir/t/deliver/lmtp-load.py" "unix:$T/lmtp.sock" $((N - half)) 4 \
	$half > "$T/load2.out"
expect "database away: every message still 250" "0" "$?"
sleep 2
kill -0 "$rec_pid" 2>/dev/null && ok "recorder still running" ||
	fail "recorder gave up"
waiting=$(nfiles "$S/new")
[ "$waiting" -gt 0 ] && ok "spool holds $waiting entries" ||
	fail "spool empty while the database is away"
mariadb_restart || { fail "mariadbd restart"; exit 1; }
i=0
while [ "$(nfiles "$S/new")" -gt 0 ] && [ $i -lt 900 ]; do
	sleep 0.1; i=$((i + 1))
done
expect "spool drained after the restart" "0" "$(nfiles "$S/new")"
expect "exactly $N messages recorded" "$N" "$(q 'SELECT COUNT(*) FROM bav_messages')"
expect "exactly $N events" "$N" "$(q 'SELECT COUNT(*) FROM bav_events')"
expect "no recipient twice" "0" "$(q 'SELECT COUNT(*) FROM (SELECT recipient FROM bav_events GROUP BY recipient HAVING COUNT(*) > 1) x')"
expect "no half-written message" "0" "$(q 'SELECT COUNT(*) FROM bav_messages m WHERE result_count <> (SELECT COUNT(*) FROM bav_events e WHERE e.message_id = m.id)')"
grep -q "store: " "$T/recorder.err" && ok "recorder logged the outage" ||
	fail "no outage in the recorder log"
kill -TERM "$rec_pid"
wait "$rec_pid"
expect "recorder: SIGTERM exits 0" "0" "$?"
rec_pid=
[ $fails -eq 0 ] || exit 1
exit 0
