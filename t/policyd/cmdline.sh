#!/bin/sh
# NAME
#	t/policyd/cmdline.sh - bav-policyd options, configuration errors,
#	reloads and clean stop
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/policyd/cmdline.sh
# DESCRIPTION
#	Checks that -n accepts a good configuration and that a broken table
#	(with file:line), a bad action, an unknown or out-of-range -o
#	parameter and a bad socket are refused with exit 1. Then it starts
#	the daemon on a unix socket and checks over the socket: SIGHUP
#	loads a changed table, a broken new table is logged and the last
#	good one keeps serving, an edited snapshot file (-f without a store)
#	is picked up at once on SIGHUP and by the periodic refresh (-I 3),
#	and SIGTERM stops cleanly and
#	removes the socket and the pid file.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (bav-policyd not built or no python3).
builddir=$(cd "${top_builddir:-.}" && pwd)
pd=$builddir/policyd/bav-policyd
[ -x "$pd" ] || { echo "SKIP: $pd not built"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }

T=$(mktemp -d /tmp/bav-policyd-cmd.XXXXXX) || exit 1
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

printf 'known@news.example.org\taccept:rid=7\n' > "$T/good.conf"
printf 'known@news.example.org\taccept:rid=7\nnobody@news.example.org\tmaybe\n' > "$T/bad.conf"
: > "$T/snap"

# expect_error WHAT TEXT ARGS...: exit 1 and TEXT on stderr
expect_error() {
	what=$1 text=$2; shift 2
	"$pd" "$@" > "$T/out" 2>&1 < /dev/null
	rc=$?
	if [ $rc -eq 1 ] && grep -qF -- "$text" "$T/out"; then ok "$what"
	else fail "$what: exit $rc, output: $(cat "$T/out")"; fi
}
"$pd" -n -c "$T/good.conf" -f "$T/snap" > "$T/out" 2>&1 &&
	grep -q ': ok$' "$T/out" && ok "-n with a good configuration" ||
	fail "-n: $(cat "$T/out")"
expect_error "broken table" "bad.conf:2" -n -c "$T/bad.conf"
expect_error "bad action" "not a Postfix access(5) action" -n -o "reject_action=BOUNCE it"
expect_error "action with a newline" "not a Postfix access(5) action" -n -o "default_action=DUNNO
action=OK"
expect_error "unknown parameter" "unknown parameter 'no_such'" -n -o no_such=1
expect_error "out of range" "max_request_size" -n -o max_request_size=10
expect_error "bad socket" "bad socket" -s "tcp:1234"
expect_error "stdio with a listener" "cannot be combined" -s stdio -s "unix:$T/x"

# ask RECIPIENT: the reply line of one RCPT request over the socket
ask() {
	python3 - "$T/sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
          b"sender=a@remote.example\nrecipient=" + sys.argv[2].encode() +
          b"\nclient_address=192.0.2.1\n\n")
out = b""
while not out.endswith(b"\n\n"):
    d = s.recv(4096)
    if not d:
        break
    out += d
print(out.decode().split("\n")[0])
PY
}
expect_reply() {	# WHAT RECIPIENT REPLY
	got=$(ask "$2")
	[ "$got" = "$3" ] && ok "$1: $3" || fail "$1: got '$got', want '$3'"
}

cp "$T/good.conf" "$T/bav.conf"
"$pd" -s "unix:$T/sock" -c "$T/bav.conf" -r 0 -f "$T/snap" -I 3 \
	-p "$T/pid" -L info -e 2> "$T/log" &
pid=$!
i=0
while [ ! -S "$T/sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$T/sock" ] || { fail "daemon did not start"; cat "$T/log"; exit 1; }
[ "$(cat "$T/pid" 2>/dev/null)" = "$pid" ] && ok "pid file" || fail "pid file"

expect_reply "unknown address" nobody@news.example.org "action=550 5.1.1 No such user"
printf 'known@news.example.org\taccept:rid=7\nnobody@news.example.org\taccept:rid=8\n' > "$T/bav.conf.new"
mv "$T/bav.conf.new" "$T/bav.conf"
kill -HUP $pid
sleep 0.5
expect_reply "after SIGHUP" nobody@news.example.org "action=DUNNO"
cp "$T/bad.conf" "$T/bav.conf"
kill -HUP $pid
sleep 0.5
expect_reply "broken table: last good one serves" nobody@news.example.org "action=DUNNO"
grep -q 'reload failed, keeping the last good table: .*bav.conf:2' "$T/log" &&
	ok "reload failure logged with file:line" || fail "no reload failure in the log"

expect_reply "not suppressed yet" late@customer.example "action=DUNNO"
printf 'late@customer.example\tunsubscribed\n' > "$T/snap.new"
mv "$T/snap.new" "$T/snap"
kill -HUP $pid
sleep 0.5
expect_reply "snapshot file refreshed on SIGHUP" late@customer.example \
	"action=REJECT 5.1.1 Recipient address suppressed (unsubscribed)"
printf 'late@customer.example\tunsubscribed\nlater@customer.example\n' > "$T/snap.new"
mv "$T/snap.new" "$T/snap"
sleep 4
expect_reply "snapshot file refreshed after -I seconds" later@customer.example \
	"action=REJECT 5.1.1 Recipient address suppressed (suppressed)"

kill $pid
wait $pid
rc=$?
pid=
[ $rc -eq 0 ] && ok "SIGTERM: exit 0" || fail "SIGTERM: exit $rc"
[ ! -e "$T/sock" ] && [ ! -e "$T/pid" ] && ok "socket and pid file removed" ||
	fail "socket or pid file left"
grep -q 'NOTICE: stopped' "$T/log" && ok "stop logged" || fail "no stop in the log"
[ $fails -eq 0 ] && echo "PASS: cmdline" && exit 0
cat "$T/log"
exit 1
