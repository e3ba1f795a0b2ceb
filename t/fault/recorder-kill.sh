#!/bin/sh
# NAME
#	t/fault/recorder-kill.sh - bav recorder killed with SIGKILL mid-batch
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/fault/recorder-kill.sh
# DESCRIPTION
#	bav lmtpd spools $FAULT_SPOOL (default 3000) distinct bounces
#	(t/deliver/lmtp-load.py). Then, for an SQLite store and (as root,
#	with mariadb-server and the MariaDB backend) a private MariaDB
#	store, a bav recorder daemon (batches of 200, entries kept in cur/)
#	drains a copy of that spool and is killed with SIGKILL $FAULT_KILLS
#	(default 4) times once it has committed: after 1/6, 2/6 ... of the
#	entries left new/; each time it is started again. A last
#	"bav recorder --once" drains what is left.
#
#	Each store must then hold exactly one message and one event per
#	spooled bounce (no failed recipient twice, no message with a wrong
#	event count); new/ and bad/ are empty, cur/ holds every entry once.
#	Prints "faults: ..." with the kills and how many entries the last
#	run found already recorded (committed, not yet moved when killed).
#	Everything it started is stopped on exit, also on failure.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (python3 or sqlite3 missing).
. "${top_srcdir:-.}/t/deliver/common.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing"; exit 77; }
N=${FAULT_SPOOL:-3000}
K=${FAULT_KILLS:-4}
lmtpd_pid=
rec_pid=
use_mariadb=no
cleanup_hook() {
	[ -n "$rec_pid" ] && kill -9 "$rec_pid" 2>/dev/null && wait "$rec_pid"
	[ -n "$lmtpd_pid" ] && kill "$lmtpd_pid" 2>/dev/null &&
		wait "$lmtpd_pid"
	[ $use_mariadb = yes ] && mariadb_stop
	if [ $fails -ne 0 ] || [ -n "$KEEP" ]; then
		for f in "$T"/recorder-*.err; do
			echo "--- $f"; tail -10 "$f"
		done
	fi
}

# ---- the spool -----------------------------------------------------------
S0=$T/spool0
"$BAV" lmtpd -s "unix:$T/lmtp.sock" -t 4 --spool "$S0" --quiet \
	2> "$T/lmtpd.err" &
lmtpd_pid=$!
i=0
while [ ! -S "$T/lmtp.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
python3 "$srcdir/t/deliver/lmtp-load.py" "unix:$T/lmtp.sock" $N 4 1 \
	> "$T/load.out"
expect "$N bounces spooled (all 250)" "0" "$?"
kill "$lmtpd_pid"; wait "$lmtpd_pid"; lmtpd_pid=
expect "spool holds $N entries" "$N" "$(nfiles "$S0/new")"

if [ "$(id -u)" = 0 ] && ! "$BAV" store init --store "mariadb://x@127.0.0.1:1/x" 2>&1 |
	grep -q 'not built'; then
	. "$srcdir/t/store/mariadb-lib.sh"
	use_mariadb=yes
	mariadb_start "$T"; rc=$?
	[ $rc -eq 77 ] && use_mariadb=no
	[ $rc -ne 0 ] && [ $rc -ne 77 ] && { fail "mariadbd did not start"; exit 1; }
fi

summary=
# run_case NAME URI QUERY-COMMAND
run_case() {
	name=$1 uri=$2 qcmd=$3
	S=$T/spool-$name
	cp -a "$S0" "$S"
	err=$T/recorder-$name.err
	kills=0
	k=1
	while [ $k -le $K ]; do
		"$BAV" recorder --spool "$S" --store "$uri" --batch 200 \
			--keep-days 7 --quiet 2>> "$err" &
		rec_pid=$!
		left=$((N - N * k / (K + 2)))
		i=0
		while [ "$(nfiles "$S/new")" -gt $left ] && [ $i -lt 600 ] &&
		      kill -0 "$rec_pid" 2>/dev/null; do
			sleep 0.05; i=$((i + 1))
		done
		if kill -9 "$rec_pid" 2>/dev/null; then
			kills=$((kills + 1))
		else
			fail "$name: recorder ended before kill $k"
		fi
		wait "$rec_pid" 2>/dev/null
		rec_pid=
		ok "$name: recorder killed (SIGKILL) with $(nfiles "$S/new") entries in new/, $(nfiles "$S/cur") in cur/"
		k=$((k + 1))
	done
	"$BAV" recorder --once --spool "$S" --store "$uri" --batch 200 \
		--keep-days 7 2>> "$err"
	expect "$name: recorder --once after the kills" "0" "$?"
	again=$(sed -n 's/.* recorded, \([0-9]*\) already recorded.*/\1/p' "$err" | tail -1)
	expect "$name: new/ drained" "0" "$(nfiles "$S/new")"
	expect "$name: nothing in bad/" "0" "$(nfiles "$S/bad")"
	expect "$name: every entry once in cur/" "$N" "$(nfiles "$S/cur")"
	expect "$name: exactly $N messages" "$N" "$($qcmd 'SELECT COUNT(*) FROM bav_messages')"
	expect "$name: exactly $N events" "$N" "$($qcmd 'SELECT COUNT(*) FROM bav_events')"
	expect "$name: no recipient twice" "0" "$($qcmd 'SELECT COUNT(*) FROM (SELECT recipient FROM bav_events GROUP BY recipient HAVING COUNT(*) > 1) x')"
	expect "$name: no half-written message" "0" "$($qcmd 'SELECT COUNT(*) FROM bav_messages m WHERE result_count <> (SELECT COUNT(*) FROM bav_events e WHERE e.message_id = m.id)')"
	summary="$summary $name: $kills SIGKILLs, ${again:-0} entries found already recorded by the last run;"
}

sq() { sqlite3 "$T/bav.db" "$1"; }
run_case sqlite "sqlite:$T/bav.db" sq
if [ $use_mariadb = yes ]; then
	mq() {
		mariadb --no-defaults --socket="$MARIADB_SOCK" -uroot -N -B bav -e "$1"
	}
	run_case mariadb "$MARIADB_URI" mq
else
	echo "note: MariaDB part skipped (not root, no mariadb-server or backend)"
fi
echo "faults: recorder-kill:$summary survived: $([ $fails -eq 0 ] && echo yes || echo no)"
[ $fails -eq 0 ] || exit 1
exit 0
