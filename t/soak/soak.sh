#!/bin/sh
# NAME
#	t/soak/soak.sh - a bounded stream of mail through Postfix, bav-milter,
#	bav-policyd and bav lmtpd into MariaDB, with database restarts
# SYNOPSIS
#	make soak
#	top_srcdir=. top_builddir=. [SOAK_COUNT=2000] [SOAK_SECONDS=600]
#		[SOAK_DB_EVERY=5] sh t/soak/soak.sh
# DESCRIPTION
#	Everything on loopback and below one temporary directory: a private
#	mariadbd (t/store/mariadb-lib.sh), bav lmtpd spooling, a bav recorder
#	daemon recording into MariaDB, bav-policyd (address table, and the
#	suppression snapshot refreshed from the same MariaDB every 2 s) and
#	bav-milter (address table, -k classification), and a private
#	Postfix (t/lib/postfix.sh) with both daemons wired
#	(milter_default_action = tempfail) and loop.example.org routed to
#	the lmtpd over LMTP.
#
#	t/fault/smtp-load.py sends up to SOAK_COUNT messages (4 sessions at
#	a time, in chunks of 100, until SOAK_SECONDS have passed): of every
#	ten, eight bounces to bounces@loop.example.org, a human reply to
#	reply@loop.example.org and a bounce to an unknown address
#	nobody-N@loop.example.org. Every SOAK_DB_EVERY seconds mariadbd is
#	killed with SIGKILL and restarted a second later. Messages that got
#	a 4xx are sent again at the end (a remote MTA retries).
#
#	At the end (Postfix queue empty, spool drained): every unknown
#	address was refused with 5xx, every other message accepted, and the
#	store holds exactly one message per accepted one (as many bounces
#	and replies as accepted, no subject twice, no message with a wrong
#	event count). Prints
#	  soak: sent N, accepted N, recorded N, db restarts K, seconds S
#	Everything it started is stopped on exit, also on failure.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (not root; postfix, swaks, python3,
#	mariadb-server, the daemons or the MariaDB backend missing).
srcdir=${top_srcdir:-.}
builddir=$(cd "${top_builddir:-.}" && pwd)
BAV=$builddir/bav/bav
milter=$builddir/milter/bav-milter
pd=$builddir/policyd/bav-policyd
COUNT=${SOAK_COUNT:-2000}
SECONDS_MAX=${SOAK_SECONDS:-600}
EVERY=${SOAK_DB_EVERY:-5}
[ -n "$BAV_MODULE_DIR" ] || BAV_MODULE_DIR=$builddir/bav/.libs
export BAV_MODULE_DIR

PF_NAME=milter PF_HELO=mx.load.test PF_FROM=
. "$srcdir/t/lib/postfix.sh"
pf_require
[ -x "$BAV" ] && [ -x "$milter" ] && [ -x "$pd" ] ||
	{ echo "SKIP: programs not built"; exit 77; }
if "$BAV" store init --store "mariadb://x@127.0.0.1:1/x" 2>&1 | grep -q 'not built'; then
	echo "SKIP: MariaDB backend not built"; exit 77
fi
. "$srcdir/t/store/mariadb-lib.sh"
pf_init bav-soak
pd_pid= lmtpd_pid= rec_pid= send_pid=
soak_cleanup() {
	for p in $send_pid $rec_pid $lmtpd_pid $pd_pid; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	send_pid= rec_pid= lmtpd_pid= pd_pid=
	mariadb_stop
	if [ $fails -ne 0 ] || [ -n "$KEEP" ]; then
		echo "--- recorder"; tail -20 "$T/recorder.err" 2>/dev/null
		echo "--- lmtpd"; tail -20 "$T/lmtpd.err" 2>/dev/null
		echo "--- policyd"; tail -20 "$T/policyd.log" 2>/dev/null
		# the milter log and the maillog follow (pf_cleanup)
	fi
	pf_cleanup
}
trap soak_cleanup EXIT
expect() {	# WHAT WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: want '$2', got '$3'"; fi
}
nfiles() { ls -A "$1" 2>/dev/null | wc -l | tr -d ' '; }

# ---- MariaDB, lmtpd, recorder ------------------------------------------------
mariadb_start "$T"; rc=$?
[ $rc -eq 77 ] && { echo "SKIP: mariadb-server not installed"; exit 77; }
[ $rc -ne 0 ] && { fail "mariadbd did not start"; exit 1; }
"$BAV" store init --store "$MARIADB_URI" > "$T/init.out" 2>&1 ||
	{ cat "$T/init.out"; fail "bav store init"; exit 1; }
q() {
	mariadb --no-defaults --socket="$MARIADB_SOCK" -uroot -N -B bav -e "$1"
}
SP=$T/bavspool
"$BAV" lmtpd -s "unix:$T/lmtp.sock" -M 0666 -t 8 --spool "$SP" --host mx.example.test \
	--no-forward --quiet 2> "$T/lmtpd.err" &
lmtpd_pid=$!
pf_wait_socket "$T/lmtp.sock" "bav lmtpd"
chmod 666 "$T/lmtp.sock"
"$BAV" recorder --spool "$SP" --store "$MARIADB_URI" --batch 100 \
	--keep-days 0 --quiet 2> "$T/recorder.err" &
rec_pid=$!

# ---- the address table, policyd, milter ----------------------------------------
cat > "$T/bav.conf" <<'EOF'
bounces@loop.example.org	accept:rid=7
reply@loop.example.org	accept:rid=7,cid=1
EOF
"$pd" -s "unix:$T/policy.sock" -c "$T/bav.conf" -S "$MARIADB_URI" \
	-f "$T/snapshot" -I 2 -L info > "$T/policyd.log" 2>&1 &
pd_pid=$!
pf_wait_socket "$T/policy.sock" bav-policyd
"$milter" -s "unix:$T/milter.sock" -c "$T/bav.conf" -L notice -k -l 127.0.0.2 \
	-u nobody:nogroup -G postfix -M 660 -p "$T/milter.pid" \
	> "$T/milter.log" 2>&1 &
pf_wait_socket "$T/milter.sock" bav-milter

# ---- Postfix -------------------------------------------------------------------
pf_config mx.example.test loop.example.org
printf 'loop.example.org\tlmtp:unix:%s/lmtp.sock\n' "$T" > "$T/etc/transport"
cat >> "$T/etc/main.cf" <<EOF
smtpd_milters = unix:$T/milter.sock
milter_default_action = tempfail
smtpd_recipient_restrictions = check_policy_service unix:$T/policy.sock,
	permit_mynetworks, reject_unauth_destination
smtpd_policy_service_default_action = 451 4.3.5 Policy service unavailable
lmtp_destination_concurrency_limit = 8
EOF
echo "lmtp      unix  - - n - - lmtp" >> "$T/etc/master.cf"
pf_start

# ---- the stream ----------------------------------------------------------------
start=$(date +%s)
: > "$T/load.res"
(
	n=0
	while [ $n -lt $COUNT ] && [ $(($(date +%s) - start)) -lt $SECONDS_MAX ]; do
		c=$((COUNT - n)); [ $c -gt 100 ] && c=100
		python3 "$srcdir/t/fault/smtp-load.py" "$port" "$T/load.res" 4 0 \
			loop.example.org $((n + 1)) $c mix
		n=$((n + c))
	done
) &
send_pid=$!
restarts=0
last=$start
while kill -0 "$send_pid" 2>/dev/null; do
	sleep 0.5
	now=$(date +%s)
	if [ $((now - last)) -ge "$EVERY" ]; then
		mariadb_kill
		sleep 1
		mariadb_restart || { fail "mariadbd restart $((restarts + 1))"; exit 1; }
		restarts=$((restarts + 1))
		last=$(date +%s)
	fi
done
wait "$send_pid"; send_pid=
# the remote MTA's retries for what got a 4xx
awk '$2 >= 400 && $2 < 500 { print $1 }' "$T/load.res" > "$T/retry"
n4xx=$(wc -l < "$T/retry" | tr -d ' ')
round=1
while [ -s "$T/retry" ] && [ $round -le 3 ]; do
	: > "$T/retry$round.res"
	for i in $(cat "$T/retry"); do
		python3 "$srcdir/t/fault/smtp-load.py" "$port" "$T/retry$round.res" \
			1 0 loop.example.org $i 1 mix
	done
	awk '$2 >= 400 && $2 < 500 { print $1 }' "$T/retry$round.res" > "$T/retry"
	# the final answer of a retried message replaces its 4xx
	awk 'NR == FNR { r[$1] = $0; next } ($1 in r) { print r[$1]; next } { print }' \
		"$T/retry$round.res" "$T/load.res" > "$T/load.tmp" &&
		mv "$T/load.tmp" "$T/load.res"
	round=$((round + 1))
done
sent=$(sort -un "$T/load.res" | wc -l | tr -d ' ')
# i % 10 == 0: the unknown address
acc_bounce=$(awk '$2 == 250 && $1 % 10 >= 2' "$T/load.res" | wc -l | tr -d ' ')
acc_reply=$(awk '$2 == 250 && $1 % 10 == 1' "$T/load.res" | wc -l | tr -d ' ')
rej_unknown=$(awk '$2 >= 500 && $1 % 10 == 0' "$T/load.res" | wc -l | tr -d ' ')
want_unknown=$(awk '$1 % 10 == 0' "$T/load.res" | wc -l | tr -d ' ')
accepted=$((acc_bounce + acc_reply))
expect "every unknown address refused with 5xx" "$want_unknown" "$rej_unknown"
expect "every other message accepted" "$((sent - want_unknown))" "$accepted"
expect "no result other than 250 and 5xx-for-unknown" "0" \
	"$(awk '!($2 == 250 && $1 % 10 != 0) && !($2 >= 500 && $1 % 10 == 0)' "$T/load.res" | wc -l | tr -d ' ')"

# ---- drain: Postfix queue, then the spool ------------------------------------------
i=0
while [ -n "$(postqueue -c "$T/etc" -p 2>/dev/null | grep -v 'Mail queue is empty')" ] &&
      [ $i -lt 1200 ]; do
	sleep 0.25; i=$((i + 1))
done
expect "Postfix queue empty" "" "$(postqueue -c "$T/etc" -p 2>/dev/null | grep -v 'Mail queue is empty' | head -3)"
i=0
while [ "$(nfiles "$SP/new")" -gt 0 ] && [ $i -lt 1200 ]; do
	sleep 0.25; i=$((i + 1))
done
expect "spool drained" "0" "$(nfiles "$SP/new")"
expect "nothing in the spool's bad/" "0" "$(nfiles "$SP/bad")"
seconds=$(($(date +%s) - start))
recorded=$(q 'SELECT COUNT(*) FROM bav_messages')
expect "recorded == accepted" "$accepted" "$recorded"
expect "bounces recorded == accepted" "$acc_bounce" "$(q "SELECT COUNT(*) FROM bav_messages WHERE kind = 'bounce'")"
expect "replies recorded == accepted" "$acc_reply" "$(q "SELECT COUNT(*) FROM bav_messages WHERE kind = 'reply'")"
expect "no message twice (subject)" "0" "$(q 'SELECT COUNT(*) FROM (SELECT subject FROM bav_messages GROUP BY subject HAVING COUNT(*) > 1) x')"
expect "no half-written message" "0" "$(q 'SELECT COUNT(*) FROM bav_messages m WHERE result_count <> (SELECT COUNT(*) FROM bav_events e WHERE e.message_id = m.id)')"
for p in "$rec_pid" "$lmtpd_pid" "$pd_pid" "$(cat "$T/milter.pid")"; do
	kill -0 "$p" 2>/dev/null || fail "process $p died during the soak"
done
echo "soak: sent $sent, accepted $accepted, recorded $recorded, db restarts $restarts, seconds $seconds ($n4xx deferred with 4xx and retried, $rej_unknown unknown refused)"
[ $fails -eq 0 ] || exit 1
exit 0
