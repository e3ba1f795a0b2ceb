#!/bin/sh
# NAME
#	t/deliver/recorder.sh - bav recorder: batches, store away, SIGKILL
# DESCRIPTION
#	- 40 spooled bounces are recorded by recorder --once in batches of 7:
#	  40 messages and 40 events in SQLite, new/ empty, 40 in cur/;
#	  --keep-days 0 removes instead of archiving;
#	- a corrupt entry and an unclassified one go to bad/, the rest is
#	  recorded;
#	- store unavailable (SQLite held by an exclusive lock): --once exits
#	  75 and keeps every entry; after the lock is gone the same command
#	  records each exactly once;
#	- 300 entries, the recorder daemon killed with SIGKILL at random
#	  moments and restarted until the spool is empty: exactly 300
#	  messages and 300 events, same as an uninterrupted run.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip.
. "${top_srcdir:-.}/t/deliver/common.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing"; exit 77; }

spool_n() {	# spool_n DIR FIRST LAST: deliver bounces FIRST..LAST
	i=$2
	while [ $i -le $3 ]; do
		make_bounce $i | "$BAV" deliver -f "" -q "Q$i" --spool "$1" \
			-- bounces@mailloop.example.com || fail "deliver $i"
		i=$((i + 1))
	done
}

# ---- batches -----------------------------------------------------------
S=$T/s1
spool_n "$S" 1 40
"$BAV" recorder --once --batch 7 --spool "$S" --store "sqlite:$T/db1" \
	--quiet
expect "recorder --once: 0" "0" "$?"
expect "40 messages" "40" "$(count "$T/db1" 'SELECT COUNT(*) FROM bav_messages')"
expect "40 events" "40" "$(count "$T/db1" 'SELECT COUNT(*) FROM bav_events')"
expect "new/ empty" "0" "$(nfiles "$S/new")"
expect "40 archived" "40" "$(nfiles "$S/cur")"
# the same messages delivered again: recorded once
spool_n "$S" 1 5
"$BAV" recorder --once --spool "$S" --store "sqlite:$T/db1" --keep-days 0 \
	--quiet
expect "redelivered: still 40 messages" "40" \
	"$(count "$T/db1" 'SELECT COUNT(*) FROM bav_messages')"
[ "$(nfiles "$S/cur")" -le 40 ] && ok "--keep-days 0: not archived" ||
	fail "--keep-days 0: cur/ grew to $(nfiles "$S/cur")"
expect "--keep-days 0: new/ empty" "0" "$(nfiles "$S/new")"

# ---- bad entries -------------------------------------------------------
S=$T/s2
spool_n "$S" 1 3
printf 'garbage\n' > "$S/new/1.corrupt"
printf 'BAV-SPOOL 1\nS\t\nR\tx@y\nQ\tQX\nH\th\nT\t1\nK\tk\nE\tlimit\nL\t3\n\nabc' \
	> "$S/new/2.unclassified"
"$BAV" recorder --once --spool "$S" --store "sqlite:$T/db2" 2> "$T/err"
expect "bad entries: 0" "0" "$?"
expect "bad entries: 3 recorded" "3" \
	"$(count "$T/db2" 'SELECT COUNT(*) FROM bav_messages')"
expect "bad entries: 2 in bad/" "2" "$(nfiles "$S/bad")"
grep -q "1.corrupt: moved to bad/" "$T/err" && ok "bad entry logged" ||
	fail "bad entry log: $(cat "$T/err")"

# ---- store unavailable -------------------------------------------------
S=$T/s3
spool_n "$S" 1 10
"$BAV" store init --store "sqlite:$T/db3" >/dev/null 2>&1
( echo "BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS hold(x);"
  echo "INSERT INTO hold VALUES(1);"; sleep 6; echo "COMMIT;" ) |
	sqlite3 "$T/db3" &
holder=$!
sleep 0.5
"$BAV" recorder --once --spool "$S" --store "sqlite:$T/db3" 2> "$T/err"
expect "store locked: 75" "75" "$?"
expect "store locked: entries kept" "10" "$(nfiles "$S/new")"
wait $holder
"$BAV" recorder --once --spool "$S" --store "sqlite:$T/db3" --quiet
expect "store back: 0" "0" "$?"
expect "store back: 10 messages" "10" \
	"$(count "$T/db3" 'SELECT COUNT(*) FROM bav_messages')"
expect "store back: 10 events" "10" \
	"$(count "$T/db3" 'SELECT COUNT(*) FROM bav_events')"

# ---- SIGKILL at random points --------------------------------------------
S=$T/s4
N=${KILL_N:-300}
spool_n "$S" 1 "$N"
kills=0
rounds=0
while [ "$(nfiles "$S/new")" -gt 0 ] && [ $rounds -lt 200 ]; do
	"$BAV" recorder --batch 5 --interval 1 --spool "$S" \
		--store "sqlite:$T/db4" --quiet 2>>"$T/kill.log" &
	pid=$!
	# 1..60 ms
	ms=$(( ($(od -An -N2 -tu2 /dev/urandom) % 60) + 1 ))
	sleep "0.$(printf %03d $ms)"
	kill -9 $pid 2>/dev/null && kills=$((kills + 1))
	wait $pid 2>/dev/null
	rounds=$((rounds + 1))
done
"$BAV" recorder --once --spool "$S" --store "sqlite:$T/db4" --quiet
ok "recorder killed $kills times"
expect "after SIGKILLs: new/ empty" "0" "$(nfiles "$S/new")"
expect "after SIGKILLs: $N messages" "$N" \
	"$(count "$T/db4" 'SELECT COUNT(*) FROM bav_messages')"
expect "after SIGKILLs: $N events" "$N" \
	"$(count "$T/db4" 'SELECT COUNT(*) FROM bav_events')"
expect "after SIGKILLs: $N distinct recipients" "$N" \
	"$(count "$T/db4" 'SELECT COUNT(DISTINCT recipient) FROM bav_events')"

[ $fails -eq 0 ] || exit 1
exit 0
