#!/bin/sh
# NAME
#	t/fault/daemon-kill.sh - bav-milter and bav-policyd killed with SIGKILL
#	under a Postfix load
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/fault/daemon-kill.sh
# DESCRIPTION
#	A private Postfix on 127.0.0.1 (t/lib/postfix.sh) with both daemons
#	wired as a production MX would be:
#	  smtpd_milters = unix:milter.sock, milter_default_action = tempfail
#	  check_policy_service unix:policy.sock,
#	  smtpd_policy_service_default_action = 451 4.3.5 ...
#	and a pipe transport that stores each delivery. t/fault/smtp-load.py
#	sends $FAULT_SMTP (default 200) distinct bounces to valid recipients
#	(4 sessions at a time, 40 per second). Meanwhile bav-milter is killed
#	with SIGKILL at 1/5 of the load and started again at 2/5, bav-policyd
#	killed at 3/5 and started again at 4/5. While each daemon is away,
#	a probe message to a valid recipient must get a 4xx (Postfix must
#	not accept mail the daemon did not see) with the configured reply
#	(4.7.1 milter, 4.3.5 policy).
#
#	Every reply of the load must be 250 or 4xx (nothing refused for
#	good, no broken session); the client then retries what got 4xx,
#	like a remote MTA. After "postqueue -f", each of the messages is
#	delivered exactly once (Message-IDs counted in the pipe's files),
#	and an unknown recipient is refused with 550 5.1.1 again by the
#	restarted daemons. Prints "faults: ...". Everything it started is
#	stopped on exit, also on failure.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (not root, or postfix, swaks, python3
#	or the daemons missing).
srcdir=${top_srcdir:-.}
builddir=$(cd "${top_builddir:-.}" && pwd)
milter=$builddir/milter/bav-milter
pd=$builddir/policyd/bav-policyd
N=${FAULT_SMTP:-200}

PF_NAME=milter PF_HELO=mx.load.test PF_FROM=
. "$srcdir/t/lib/postfix.sh"
pf_require
[ -x "$milter" ] && [ -x "$pd" ] || { echo "SKIP: daemons not built"; exit 77; }
pf_init bav-fault-daemons
pd_pid=
fault_cleanup() {
	if [ -n "$pd_pid" ]; then
		kill "$pd_pid" 2>/dev/null
		i=0
		while kill -0 "$pd_pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -9 "$pd_pid" 2>/dev/null
		pd_pid=
	fi
	if [ $fails -ne 0 ] || [ -n "$KEEP" ]; then
		echo "--- policyd log"; tail -30 "$T/policyd.log" 2>/dev/null
		echo "--- load results (not 250)"; grep -v ' 250 ' "$T"/load*.res 2>/dev/null | head -30
	fi
	pf_cleanup
}
trap fault_cleanup EXIT

cat > "$T/bav.conf" <<'EOF'
@load.example.org	accept:rid=7
known@news.example.org	accept:rid=7,cid=1
EOF

start_milter() {
	"$milter" -s "unix:$T/milter.sock" -c "$T/bav.conf" -L info -l 127.0.0.2 \
		-u nobody:nogroup -G postfix -M 660 -p "$T/milter.pid" \
		>> "$T/milter.log" 2>&1 &
	pf_wait_socket "$T/milter.sock" bav-milter
	i=0
	while [ ! -s "$T/milter.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}
start_policyd() {
	"$pd" -s "unix:$T/policy.sock" -c "$T/bav.conf" -L info \
		>> "$T/policyd.log" 2>&1 &
	pd_pid=$!
	pf_wait_socket "$T/policy.sock" bav-policyd
}
# dead PID: wait until it is gone (reaped or a zombie of someone else)
dead() {
	i=0
	while kill -0 "$1" 2>/dev/null &&
	      ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null &&
	      [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
}
start_milter
start_policyd

pf_config mx.example.test load.example.org news.example.org
cat >> "$T/etc/main.cf" <<EOF
smtpd_milters = unix:$T/milter.sock
milter_default_action = tempfail
smtpd_recipient_restrictions = check_policy_service unix:$T/policy.sock,
	permit_mynetworks, reject_unauth_destination
smtpd_policy_service_default_action = 451 4.3.5 Policy service unavailable
smtpd_policy_service_try_limit = 2
smtpd_policy_service_retry_delay = 1s
EOF
pf_start

load() {	# RESULTS RATE RCPT-FORMAT FIRST COUNT
	python3 "$srcdir/t/fault/smtp-load.py" "$port" "$1" 4 "$2" "$3" "$4" "$5"
}
# probe NAME RCPT: one message numbered 9000+, prints "CODE text"
probe_n=9000
probe() {
	probe_n=$((probe_n + 1))
	: > "$T/probe-$1.res"
	python3 "$srcdir/t/fault/smtp-load.py" "$port" "$T/probe-$1.res" 1 0 \
		"$2" $probe_n 1
	cut -d' ' -f2- "$T/probe-$1.res"
}
expect_probe() {	# TAG TEXT RCPT WANT-PREFIX
	got=$(probe "$1" "$3")
	case $got in
	"$4"*) ok "$2: $got" ;;
	*) fail "$2: want '$4...', got '$got'" ;;
	esac
}
expect() {	# WHAT WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: want '$2', got '$3'"; fi
}
progress() { wc -l < "$T/load.res" | tr -d ' '; }
wait_progress() {
	i=0
	while [ "$(progress)" -lt "$1" ] && [ $i -lt 600 ]; do
		sleep 0.05; i=$((i + 1))
	done
}

expect_probe before "before: unknown recipient refused" nobody@news.example.org "550 rcpt 5.1.1"
: > "$T/load.res"
load "$T/load.res" 40 "user%d@load.example.org" 1 $N &
load_pid=$!
injected=0

wait_progress $((N / 5))
kill -9 "$(cat "$T/milter.pid")"; dead "$(cat "$T/milter.pid")"
injected=$((injected + 1))
ok "bav-milter killed after $(progress) messages"
expect_probe milter "milter away: valid recipient not accepted" \
	known@news.example.org "451 "
grep -q ' 4\.7\.1 ' "$T/probe-milter.res" ||
	fail "milter away: no 4.7.1 (milter_default_action = tempfail)"
wait_progress $((2 * N / 5))
rm -f "$T/milter.pid"
start_milter
ok "bav-milter started again after $(progress) messages"

wait_progress $((3 * N / 5))
kill -9 "$pd_pid"; wait "$pd_pid" 2>/dev/null; pd_pid=
injected=$((injected + 1))
ok "bav-policyd killed after $(progress) messages"
expect_probe policyd "policyd away: valid recipient not accepted" \
	known@news.example.org "451 rcpt 4.3.5"
wait_progress $((4 * N / 5))
start_policyd
ok "bav-policyd started again after $(progress) messages"
wait "$load_pid"

# ---- what the load got ------------------------------------------------------
expect "load: a result for every message" "$N" "$(sort -un "$T/load.res" | wc -l | tr -d ' ')"
n250=$(awk '$2 == 250' "$T/load.res" | wc -l | tr -d ' ')
n4xx=$(awk '$2 >= 400 && $2 < 500' "$T/load.res" | wc -l | tr -d ' ')
nbad=$(awk '$2 < 400 && $2 != 250 || $2 >= 500' "$T/load.res" | wc -l | tr -d ' ')
expect "load: nothing refused for good, no broken session" "0" "$nbad"
ok "load: $n250 queued at once, $n4xx deferred with 4xx"
# the client's retries (a remote MTA would retry later)
awk '$2 != 250 { print $1 }' "$T/load.res" > "$T/retry"
round=1
while [ -s "$T/retry" ] && [ $round -le 3 ]; do
	: > "$T/retry$round.res"
	for i in $(cat "$T/retry"); do
		load "$T/retry$round.res" 0 "user%d@load.example.org" $i 1
	done
	awk '$2 != 250 { print $1 }' "$T/retry$round.res" > "$T/retry"
	round=$((round + 1))
done
expect "retries: every deferred message queued" "0" "$(wc -l < "$T/retry" | tr -d ' ')"

postqueue -c "$T/etc" -f 2>/dev/null	# nothing is deferred inside Postfix
i=0
while [ "$(ls "$T/out" | grep -c '^user')" -lt $N ] && [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1))
done
sleep 1
expect "delivered: $N messages" "$N" "$(ls "$T/out" | grep -c '^user')"
grep -h '^Message-ID: <fault-' "$T"/out/user* | sort | uniq -d > "$T/dups"
expect "delivered: no message twice" "0" "$(wc -l < "$T/dups" | tr -d ' ')"
expect "delivered: every Message-ID" "$N" "$(grep -h '^Message-ID: <fault-' "$T"/out/user* | sort -u | wc -l | tr -d ' ')"
expect "queue empty after the flush" "" "$(postqueue -c "$T/etc" -p 2>/dev/null | grep -v 'Mail queue is empty')"

# ---- the daemons recovered --------------------------------------------------
expect_probe after1 "after: unknown recipient refused again" \
	nobody@news.example.org "550 rcpt 5.1.1"
expect_probe after2 "after: valid recipient accepted" \
	known@news.example.org "250 data"
kill -0 "$pd_pid" 2>/dev/null && kill -0 "$(cat "$T/milter.pid")" 2>/dev/null &&
	ok "both daemons running" || fail "a daemon is gone"
echo "faults: daemon-kill: 2 SIGKILLs (bav-milter, bav-policyd) during $N messages; $n250 queued at once, $n4xx deferred and retried; survived: $([ $fails -eq 0 ] && echo yes || echo no)"
[ $fails -eq 0 ] || exit 1
exit 0
