#!/bin/sh
# NAME
#	t/fault/db-restart.sh - MariaDB killed and restarted during delivery
#	and during recording
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/fault/db-restart.sh
# DESCRIPTION
#	Starts a private mariadbd (t/store/mariadb-lib.sh) on 127.0.0.1.
#
#	Delivery: $FAULT_DELIVER (default 300) distinct bounces, one
#	"bav deliver --store MARIADB --keep-days 0" process each (the direct
#	recording a pipe transport does). While they run, mariadbd is killed
#	with SIGKILL once a third is recorded and restarted when two thirds
#	were delivered. Every delivery must exit 0 (what was not recorded at
#	once waits in the spool); a "bav recorder --once" then drains the
#	spool.
#
#	Recording: $FAULT_RECORD (default 1000) bounces spooled by bav lmtpd
#	(t/deliver/lmtp-load.py), then a bav recorder daemon (batches of 50)
#	drains that spool while mariadbd is killed with SIGKILL twice, at a
#	quarter and at two thirds of the messages recorded, and restarted
#	after two seconds each time.
#
#	At the end the store holds exactly one message and one event per
#	bounce sent (no failed recipient twice, no message with a wrong
#	event count), the spools' new/ are empty and the recorder still
#	runs and stops with 0 on SIGTERM. Prints "faults: ..." with the
#	kills injected. Everything it started is stopped on exit, also on
#	failure.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (not root, mariadb-server or python3
#	missing, or the MariaDB backend not built).
# SEE ALSO
#	t/deliver/mariadb.sh (the database stopped while lmtpd spools)
. "${top_srcdir:-.}/t/deliver/common.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to start mariadbd"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
if "$BAV" store init --store "mariadb://x@127.0.0.1:1/x" 2>&1 | grep -q 'not built'; then
	echo "SKIP: MariaDB backend not built"; exit 77
fi
. "$srcdir/t/store/mariadb-lib.sh"
N1=${FAULT_DELIVER:-300}
N2=${FAULT_RECORD:-1000}
lmtpd_pid=
rec_pid=
loop_pid=
kills=0
cleanup_hook() {
	[ -n "$loop_pid" ] && kill "$loop_pid" 2>/dev/null && wait "$loop_pid"
	[ -n "$rec_pid" ] && kill "$rec_pid" 2>/dev/null && wait "$rec_pid"
	[ -n "$lmtpd_pid" ] && kill "$lmtpd_pid" 2>/dev/null &&
		wait "$lmtpd_pid"
	mariadb_stop
	if [ $fails -ne 0 ] || [ -n "$KEEP" ]; then
		echo "--- deliver"; tail -20 "$T/deliver.err"
		echo "--- recorder"; tail -20 "$T/recorder.err"
	fi
}
mariadb_start "$T"; rc=$?
[ $rc -eq 77 ] && { echo "SKIP: mariadb-server not installed"; exit 77; }
[ $rc -ne 0 ] && { fail "mariadbd did not start"; exit 1; }
"$BAV" store init --store "$MARIADB_URI" > "$T/init.out" 2>&1 ||
	{ cat "$T/init.out"; fail "bav store init"; exit 1; }
q() {
	mariadb --no-defaults --socket="$MARIADB_SOCK" -uroot -N -B bav \
		-e "$1" 2>/dev/null || echo 0
}
recorded() { q 'SELECT COUNT(*) FROM bav_messages'; }
# wait_for WANT: up to 60 s until at least WANT messages are recorded
wait_for() {
	i=0
	while [ "$(recorded)" -lt "$1" ] && [ $i -lt 600 ]; do
		sleep 0.1; i=$((i + 1))
	done
}

# ---- 1. delivery: bav deliver --store, the database killed ------------------
S1=$T/spool1
: > "$T/deliver.err"
(
	i=1
	while [ $i -le $N1 ]; do
		make_bounce $i | "$BAV" deliver -f "" -q "Q$i" --spool "$S1" \
			--store "$MARIADB_URI" --keep-days 0 \
			-- bounces@mailloop.example.com 2>> "$T/deliver.err"
		echo "$i $?" >> "$T/deliver.rc"
		i=$((i + 1))
	done
) &
loop_pid=$!
delivered() { wc -l < "$T/deliver.rc" 2>/dev/null || echo 0; }
wait_for $((N1 / 3))
mariadb_kill; kills=$((kills + 1))
ok "delivery: mariadbd killed after $(delivered) deliveries"
i=0
while [ "$(delivered)" -lt $((2 * N1 / 3)) ] && [ $i -lt 600 ]; do
	sleep 0.1; i=$((i + 1))
done
mariadb_restart || { fail "mariadbd restart"; exit 1; }
ok "delivery: mariadbd restarted after $(delivered) deliveries"
wait "$loop_pid"
loop_pid=
expect "delivery: every bav deliver exited 0" "$N1 0" \
	"$(wc -l < "$T/deliver.rc" | tr -d ' ') $(grep -vc ' 0$' "$T/deliver.rc")"
waiting=$(nfiles "$S1/new")
[ "$waiting" -gt 0 ] && ok "delivery: $waiting entries left for the recorder" ||
	fail "delivery: nothing left in the spool although the database was away"
"$BAV" recorder --once --spool "$S1" --store "$MARIADB_URI" --keep-days 0 \
	--quiet 2> "$T/recorder1.err"
expect "delivery: recorder --once exit" "0" "$?"
expect "delivery: spool drained" "0" "$(nfiles "$S1/new")"
expect "delivery: $N1 messages recorded" "$N1" "$(recorded)"

# ---- 2. recording: the recorder drains a spool, the database killed twice ---
S2=$T/spool2
"$BAV" lmtpd -s "unix:$T/lmtp.sock" -t 4 --spool "$S2" --quiet \
	2> "$T/lmtpd.err" &
lmtpd_pid=$!
i=0
while [ ! -S "$T/lmtp.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
python3 "$srcdir/t/deliver/lmtp-load.py" "unix:$T/lmtp.sock" $N2 4 100000 \
	> "$T/load.out"
expect "recording: $N2 messages spooled by lmtpd (all 250)" "0" "$?"
kill "$lmtpd_pid"; wait "$lmtpd_pid"; lmtpd_pid=
expect "recording: spool holds $N2 entries" "$N2" "$(nfiles "$S2/new")"
"$BAV" recorder --spool "$S2" --store "$MARIADB_URI" --batch 50 \
	--keep-days 0 2> "$T/recorder.err" &
rec_pid=$!
for want in $((N1 + N2 / 4)) $((N1 + 2 * N2 / 3)); do
	wait_for $want
	mariadb_kill; kills=$((kills + 1))
	ok "recording: mariadbd killed at $(nfiles "$S2/new") entries waiting"
	sleep 2
	kill -0 "$rec_pid" 2>/dev/null && ok "recording: recorder still running" ||
		fail "recording: recorder gave up"
	mariadb_restart || { fail "mariadbd restart"; exit 1; }
done
i=0
while [ "$(nfiles "$S2/new")" -gt 0 ] && [ $i -lt 1200 ]; do
	sleep 0.1; i=$((i + 1))
done
expect "recording: spool drained after the restarts" "0" "$(nfiles "$S2/new")"

# ---- the store -----------------------------------------------------------
total=$((N1 + N2))
expect "exactly $total messages recorded" "$total" "$(recorded)"
expect "exactly $total events" "$total" "$(q 'SELECT COUNT(*) FROM bav_events')"
expect "no recipient twice" "0" "$(q 'SELECT COUNT(*) FROM (SELECT recipient FROM bav_events GROUP BY recipient HAVING COUNT(*) > 1) x')"
expect "no half-written message" "0" "$(q 'SELECT COUNT(*) FROM bav_messages m WHERE result_count <> (SELECT COUNT(*) FROM bav_events e WHERE e.message_id = m.id)')"
kill -TERM "$rec_pid"
wait "$rec_pid"
expect "recorder: SIGTERM exits 0" "0" "$?"
rec_pid=
echo "faults: db-restart: $kills SIGKILLs of mariadbd ($N1 deliveries, $N2 recorder entries), survived: $([ $fails -eq 0 ] && echo yes || echo no)"
[ $fails -eq 0 ] || exit 1
exit 0
