#!/bin/sh
# NAME
#	t/policyd/busypoll.sh - bav-policyd's adaptive busy polling (-P,
#	policyd_busy_poll)
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/policyd/busypoll.sh
# DESCRIPTION
#	Checks that -P, -o busy_poll and the main.cf key policyd_busy_poll
#	set the window (shown by -n), that a value out of range or not a
#	number is refused with exit 1 and a message naming the range, and
#	that "bav config check" knows the key and its bounds. Then, with
#	the default window, with -P 0 (off) and with the largest window, it
#	starts the daemon on a unix socket and checks over the socket that
#	a burst of requests on one persistent connection, pipelined
#	requests, and requests after pauses longer than the window (the
#	loop has gone back to blocking) are all answered; that an idle
#	daemon blocks (at most a few clock ticks of CPU in 2 seconds); that
#	the one-second tick still runs (-o idle_timeout=1 closes an idle
#	connection); and that the window is real: with requests every 2 ms
#	for a second, -P 10000 keeps polling (a fifth of a CPU second or
#	more; on a machine so busy that the daemon is preempted while it
#	polls, it must log that it backed off) while -P 0 stays nearly
#	idle.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (bav-policyd not built or no python3).
builddir=$(cd "${top_builddir:-.}" && pwd)
pd=$builddir/policyd/bav-policyd
bav=$builddir/bav/bav
[ -x "$pd" ] || { echo "SKIP: $pd not built"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }

T=$(mktemp -d /tmp/bav-policyd-busy.XXXXXX) || exit 1
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# expect RC TEXT ARGS...: exit RC and TEXT in the output
expect() {
	want=$1 text=$2; shift 2
	"$@" > "$T/out" 2>&1 < /dev/null
	rc=$?
	if [ $rc -eq "$want" ] && grep -qF -- "$text" "$T/out"; then
		ok "$(echo "$*" | sed "s|$T/||g; s|$builddir/||g"): $text"
	else
		fail "$*: exit $rc (want $want), output: $(cat "$T/out")"
	fi
}

# ---- the setting --------------------------------------------------------
printf 'policyd_busy_poll = 120\n' > "$T/ok.cf"
printf 'policyd_busy_poll = 10001\n' > "$T/big.cf"
printf 'policyd_busy_poll = soon\n' > "$T/word.cf"
: > "$T/empty.cf"
expect 0 "busy poll 50 us: ok" "$pd" -n -C "$T/empty.cf"
expect 0 "busy poll 0 us: ok" "$pd" -n -P 0
expect 0 "busy poll 10000 us: ok" "$pd" -n -P 10000
expect 0 "busy poll 120 us: ok" "$pd" -n -C "$T/ok.cf"
expect 0 "busy poll 7 us: ok" "$pd" -n -C "$T/ok.cf" -P 7
expect 0 "busy poll 8 us: ok" "$pd" -n -o busy_poll=8
expect 1 "bad -P busy-poll microseconds (0 to 10000) '10001'" "$pd" -n -P 10001
expect 1 "bad -P busy-poll microseconds (0 to 10000) '-1'" "$pd" -n -P -1
expect 1 "bad -P busy-poll microseconds (0 to 10000) '50us'" "$pd" -n -P 50us
expect 1 "-o busy_poll: '10001' is not a number from 0 to 10000" \
	"$pd" -n -o busy_poll=10001
expect 1 "big.cf:1: policyd_busy_poll: '10001' is out of bounds (0 to 10000)" \
	"$pd" -n -C "$T/big.cf"
expect 1 "word.cf:1: policyd_busy_poll" "$pd" -n -C "$T/word.cf"
if [ -x "$bav" ]; then
	expect 0 "ok" "$bav" config check -C "$T/ok.cf"
	expect 78 "policyd_busy_poll: '10001' is out of bounds (0 to 10000)" \
		"$bav" config check -C "$T/big.cf"
	expect 0 "policyd_busy_poll" "$bav" config keys
else
	echo "skipped: bav config check ($bav not built)"
fi

# ---- the loop -----------------------------------------------------------
printf 'hard@customer.example\tbounced\n' > "$T/snap"

# client: bursts, pipelining, pauses; prints one line per check
cat > "$T/client.py" <<'PY'
import socket, sys, time
path = sys.argv[1]
REQ = (b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
       b"sender=news@sender.example\nrecipient=%s\n"
       b"client_address=192.0.2.1\ninstance=%d\n\n")
def ask(s, rcpt, i):
    s.sendall(REQ % (rcpt, i))
    return reply(s)
def reply(s):
    out = b""
    while not out.endswith(b"\n\n"):
        d = s.recv(4096)
        if not d:
            return "EOF"
        out += d
    return out.decode()
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.settimeout(5)
good = 0
for i in range(2000):
    r = ask(s, b"hard@customer.example" if i % 2 else b"ok@customer.example", i)
    want = ("action=REJECT 5.1.1 Recipient address suppressed (bounced)\n\n"
            if i % 2 else "action=DUNNO\n\n")
    good += r == want
print("burst %d/2000" % good)
s.sendall(b"".join(REQ % (b"ok@customer.example", i) for i in range(50)))
out = b""
while out.count(b"\n\n") < 50:
    d = s.recv(65536)
    if not d:
        break
    out += d
print("pipelined %d/50" % out.count(b"action=DUNNO\n\n"))
good = 0
for i in range(5):
    time.sleep(0.03)	# far longer than any window: the loop blocks
    good += ask(s, b"hard@customer.example", i).startswith("action=REJECT")
print("paused %d/5" % good)
s.close()
PY

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

for window in "" 0 10000; do
	name=${window:-default}
	rm -f "$T/sock"
	"$pd" -s "unix:$T/sock" -f "$T/snap" ${window:+-P "$window"} \
		-o idle_timeout=1 -L debug -e 2> "$T/log" &
	pid=$!
	i=0
	while [ ! -S "$T/sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	[ -S "$T/sock" ] || { fail "$name: daemon did not start"; cat "$T/log"; continue; }
	python3 "$T/client.py" "$T/sock" > "$T/client.out" 2>&1
	for want in "burst 2000/2000" "pipelined 50/50" "paused 5/5"; do
		grep -qx "$want" "$T/client.out" && ok "$name window: $want" ||
			fail "$name window: want '$want', got: $(cat "$T/client.out")"
	done
	# requests every 2 ms: a 10 ms window never ends, none blocks
	t0=$(cpu_ticks $pid)
	python3 - "$T/sock" > "$T/slow.out" 2>&1 <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
end, n = time.time() + 1, 0
while time.time() < end:
    s.sendall(b"request=smtpd_access_policy\nrecipient=a@b.example\n\n")
    out = b""
    while not out.endswith(b"\n\n"):
        out += s.recv(4096)
    n += 1
    time.sleep(0.002)
print("slow %d" % n)
PY
	t1=$(cpu_ticks $pid)
	case $name in
	10000) if [ $((t1 - t0)) -ge 20 ]; then
			ok "10000 window: polls between requests ($((t1 - t0)) ticks in 1 s, $(cat "$T/slow.out"))"
		elif grep -q 'preempted while polling' "$T/log"; then
			ok "10000 window: polled, was preempted and backed off (busy machine: $((t1 - t0)) ticks in 1 s)"
		else
			fail "10000 window: only $((t1 - t0)) clock ticks in 1 s of requests every 2 ms, no preemption logged"
		fi ;;
	0) [ $((t1 - t0)) -le 15 ] && ok "0 window: blocks between requests ($((t1 - t0)) ticks in 1 s, $(cat "$T/slow.out"))" ||
		fail "0 window: $((t1 - t0)) clock ticks in 1 s of requests every 2 ms" ;;
	esac
	# idle: no connection, nothing to do; the loop must block
	sleep 0.5
	t0=$(cpu_ticks $pid)
	sleep 2
	t1=$(cpu_ticks $pid)
	[ $((t1 - t0)) -le 5 ] && ok "$name window: idle daemon blocks ($((t1 - t0)) ticks in 2 s)" ||
		fail "$name window: idle daemon used $((t1 - t0)) clock ticks in 2 s"
	# the tick: an idle connection is closed after idle_timeout=1
	python3 - "$T/sock" > "$T/idle.out" 2>&1 <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(6)
t = time.time()
print("closed after %.0f s" % (time.time() - t) if s.recv(10) == b"" else "data")
PY
	grep -Eq '^closed after [1-4] s$' "$T/idle.out" &&
		ok "$name window: tick runs ($(cat "$T/idle.out"))" ||
		fail "$name window: idle connection: $(cat "$T/idle.out")"
	kill $pid
	wait $pid
	rc=$?
	pid=
	[ $rc -eq 0 ] && ok "$name window: SIGTERM: exit 0" ||
		{ fail "$name window: SIGTERM: exit $rc"; cat "$T/log"; }
done
[ $fails -eq 0 ] && echo "PASS: busypoll" && exit 0
exit 1
