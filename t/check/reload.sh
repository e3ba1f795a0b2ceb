#!/bin/sh
# NAME
#	t/check/reload.sh - bav recorder on SIGHUP (systemctl reload)
# DESCRIPTION
#	The systemd units reload every daemon with SIGHUP. bav-milter
#	(t/milter/reload.lua), bav-policyd (t/policyd/cmdline.sh) and bav
#	lmtpd (t/deliver/lmtpd.sh) are tested where they live; this test
#	covers bav recorder: it starts the recorder on a SQLite store,
#	records one bounce, replaces the database file by a fresh one (as a
#	restore would), sends SIGHUP and checks that the recorder logged the
#	reload, is still running, and records the next bounce into the new
#	file (without the reopen it would go into the unlinked old one).
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip.
. "${top_srcdir:-.}/t/deliver/common.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing"; exit 77; }

S=$T/spool
DB=$T/bav.db
pid=
cleanup_hook() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
}
# wait_count N: up to 10 s for N bav_messages rows in $DB
wait_count() {
	i=0
	while [ "$(count "$DB" 'SELECT COUNT(*) FROM bav_messages')" != "$1" ] &&
	      [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	count "$DB" 'SELECT COUNT(*) FROM bav_messages'
}

"$BAV" store init --store "sqlite:$DB" >/dev/null || fail "store init"
"$BAV" recorder --spool "$S" --store "sqlite:$DB" --interval 1 \
	2> "$T/recorder.err" &
pid=$!
make_bounce 1 | "$BAV" deliver -f "" --spool "$S" -- b@loop.test ||
	fail "deliver 1"
expect "first bounce recorded" 1 "$(wait_count 1)"

rm -f "$DB" "$DB-wal" "$DB-shm"
"$BAV" store init --store "sqlite:$DB" >/dev/null || fail "store init 2"
kill -HUP "$pid"
sleep 0.5
kill -0 "$pid" 2>/dev/null && ok "alive after SIGHUP" ||
	fail "SIGHUP stopped the recorder: $(cat "$T/recorder.err")"
grep -q 'SIGHUP: reopening the store' "$T/recorder.err" &&
	ok "reload logged" || fail "no reload line: $(cat "$T/recorder.err")"
make_bounce 2 | "$BAV" deliver -f "" --spool "$S" -- b@loop.test ||
	fail "deliver 2"
expect "second bounce in the new database" 1 "$(wait_count 1)"

kill "$pid"
wait "$pid"
expect "SIGTERM after SIGHUP: clean exit" 0 $?
pid=
echo "$fails failed"
[ "$fails" -eq 0 ]
