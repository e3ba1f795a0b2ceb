#!/bin/sh
# NAME
#	t/check/check.sh - bav check: every check reaches every state
# DESCRIPTION
#	Runs "bav check" against real things in a temporary directory: a
#	spool filled by bav deliver, a SQLite store filled by bav record,
#	and bav-milter, bav-policyd and bav lmtpd started on unix sockets
#	below $T (plus a socket that accepts and never answers). For each
#	check it asserts the exact status line shape ("BAV CHECK STATE -
#	text | perfdata") and that OK, WARNING, CRITICAL and UNKNOWN are
#	reached with the matching exit status 0, 1, 2, 3. Everything it
#	starts is stopped on exit, also on failure.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (bav not built, no python3).
srcdir=${top_srcdir:-.}
builddir=$(cd "${top_builddir:-.}" && pwd)
BAV=$builddir/bav/bav
MILTER=$builddir/milter/bav-milter
POLICYD=$builddir/policyd/bav-policyd
[ -x "$BAV" ] || { echo "SKIP: $BAV not built"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }

T=$(mktemp -d /tmp/bav-check.XXXXXX) || exit 1
pids=
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	[ -n "$KEEP" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
unset BAV_STORE BAV_SPOOL
# a main.cf of our own (the sockets' defaults come from it)
: > "$T/main.cf"
BAV_CONFIG=$T/main.cf
export BAV_CONFIG

# expect WHAT RC STATE CHECK ARGS...: exit RC and a line "BAV CHECK STATE - "
expect() {
	what=$1 rc=$2 state=$3 name=$4; shift 3
	out=$("$BAV" check "$@" 2>"$T/stderr")
	got=$?
	upper=$(echo "$name" | tr a-z A-Z)
	lines=$(printf '%s\n' "$out" | wc -l)
	case $out in
	"BAV $upper $state - "*)
		if [ "$got" -eq "$rc" ] && [ "$lines" -eq 1 ] &&
		   [ ! -s "$T/stderr" ]; then
			ok "$what: $out"
		else
			fail "$what: exit $got (want $rc), $lines lines: $out $(cat "$T/stderr")"
		fi ;;
	*) fail "$what: want BAV $upper $state, exit $rc; got exit $got: $out" ;;
	esac
}
# wait_sock PATH NAME
wait_sock() {
	i=0
	while [ ! -S "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	[ -S "$1" ] || { fail "$2 did not start: $(cat "$T/$2.log")"; exit 1; }
}

bounce() {	# N
	cat <<EOM
From: MAILER-DAEMON@mx.example.net
To: bounces@loop.test
Subject: Undelivered Mail Returned to Sender
Message-ID: <check-dsn-$1@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B$1"

--B$1
Content-Type: text/plain

Your message could not be delivered.

--B$1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; gone-$1@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--B$1--
EOM
}

# ---- spool -------------------------------------------------------------
S=$T/spool
expect "spool missing" 2 CRITICAL spool --spool "$T/nospool"
for n in 1 2 3; do
	bounce $n | "$BAV" deliver -f "" --spool "$S" -- bounces@loop.test ||
		fail "bav deliver $n"
done
expect "spool below the thresholds" 0 OK spool --spool "$S"
expect "spool entries over -w" 1 WARNING spool --spool "$S" -w 2 -c 10
expect "spool entries over -c" 2 CRITICAL spool --spool "$S" -w 1 -c 2
export BAV_SPOOL="$S"
expect "spool from \$BAV_SPOOL" 1 WARNING spool -w 2
unset BAV_SPOOL
oldest=$(ls "$S/new" | sort | head -n 1)
touch -d '2 hours ago' "$S/new/$oldest"
expect "spool oldest entry over the age -c" 2 CRITICAL spool --spool "$S" -w 10,600 -c 10,3600
expect "spool oldest entry over the age -w" 1 WARNING spool --spool "$S" -w 10,600 -c 10,86400
out=$("$BAV" check spool --spool "$S" -w 10,600 -c 20,86400)
case $out in
*"| entries=3;10;20;0 oldest="*"s;600;86400;0 bad=0;;;0") ok "spool perfdata" ;;
*) fail "spool perfdata: $out" ;;
esac
expect "bad threshold" 3 UNKNOWN spool -w x
expect "unknown check" 3 UNKNOWN check nosuch
expect "stray argument" 3 UNKNOWN spool extra
printf 'no_such_key_line\n' > "$T/broken.cf"
out=$("$BAV" -C "$T/broken.cf" check spool 2>/dev/null)
rc=$?
[ $rc -eq 3 ] && [ "$out" = "BAV CHECK UNKNOWN - main.cf: see bav config check" ] &&
	ok "broken main.cf: $out" || fail "broken main.cf: exit $rc, $out"

# ---- store and bounces -------------------------------------------------
DB=sqlite:$T/bav.db
"$BAV" store init --store "$DB" >/dev/null || fail "store init"
expect "store reachable" 0 OK store --store "$DB"
export BAV_STORE="$DB"
expect "store from \$BAV_STORE" 0 OK store
unset BAV_STORE
expect "store slower than -w 0" 1 WARNING store --store "$DB" -w 0 -c 10
expect "store slower than -c 0" 2 CRITICAL store --store "$DB" -w 0 -c 0
expect "store unreachable" 2 CRITICAL store --store "sqlite:$T/no/such/dir/x.db"
expect "no store given" 2 CRITICAL store
"$BAV" recorder --once --quiet --spool "$S" --store "$DB" 2>"$T/rec.err" ||
	fail "recorder: $(cat "$T/rec.err")"
expect "bounce rate low" 0 OK bounces --store "$DB"
expect "bounce rate over -w" 1 WARNING bounces --store "$DB" -w 2 -c 5
expect "bounce rate over -c" 2 CRITICAL bounces --store "$DB" -w 1 -c 2
expect "hard bounce rate over 24 h" 0 OK bounces --store "$DB" --hard -H 24 -w 1 -c 2
out=$("$BAV" check bounces --store "$DB" -w 1 -c 2)
case $out in
*"3.0 bounces per hour"*"| rate=3.00;1;2;0 bounces=3;;;0 hard=3;;;0 messages=3;;;0")
	ok "bounces perfdata" ;;
*) fail "bounces perfdata: $out" ;;
esac
expect "bounces without a store" 3 UNKNOWN bounces --store "sqlite:$T/no/such/dir/x.db"

# ---- daemons -----------------------------------------------------------
# start_daemon NAME PROGRAM SOCKET: PROGRAM on unix:SOCKET with $T/bav.conf,
# its output in $T/NAME.log, killed by the cleanup
start_daemon() {
	"$2" -s "unix:$3" -c "$T/bav.conf" -L info > "$T/$1.log" 2>&1 &
	pids="$pids $!"
	wait_sock "$3" "$1"
}
printf 'known@loop.test\taccept:rid=7\n' > "$T/bav.conf"
expect "milter not running" 2 CRITICAL milter -s "unix:$T/milter.sock"
if [ -x "$MILTER" ]; then
	start_daemon milter "$MILTER" "$T/milter.sock"
	expect "milter negotiates" 0 OK milter -s "unix:$T/milter.sock"
	expect "milter slower than -w 0" 1 WARNING milter -s "$T/milter.sock" -w 0
	expect "milter slower than -c 0" 2 CRITICAL milter -s "unix:$T/milter.sock" -w 0 -c 0
	printf 'milter_socket = unix:%s/milter.sock\n' "$T" > "$T/milter.cf"
	expect "milter socket from main.cf (-C)" 0 OK milter -C "$T/milter.cf"
else
	echo "skip: bav-milter not built"
fi

if [ -x "$POLICYD" ]; then
	start_daemon policyd "$POLICYD" "$T/policy.sock"
	expect "policyd answers" 0 OK policyd -s "unix:$T/policy.sock"
	expect "policyd known address" 0 OK policyd -s "unix:$T/policy.sock" \
		--address known@loop.test --expect DUNNO
	expect "policyd unexpected action" 2 CRITICAL policyd \
		-s "unix:$T/policy.sock" --address nobody@loop.test --expect DUNNO
	expect "policyd slower than -w 0" 1 WARNING policyd -s "unix:$T/policy.sock" -w 0
else
	echo "skip: bav-policyd not built"
fi

"$BAV" lmtpd -s "unix:$T/lmtp.sock" --spool "$S" > "$T/lmtpd.log" 2>&1 &
lpid=$!
pids="$pids $lpid"
wait_sock "$T/lmtp.sock" lmtpd
expect "lmtpd answers" 0 OK lmtpd -s "unix:$T/lmtp.sock"
expect "lmtpd slower than -w 0" 1 WARNING lmtpd -s "unix:$T/lmtp.sock" -w 0
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BAV" lmtpd -s "inet:$port@127.0.0.1" --spool "$S" > "$T/lmtpd-inet.log" 2>&1 &
pids="$pids $!"
i=0
until "$BAV" check lmtpd -s "inet:$port@127.0.0.1" >/dev/null 2>&1 || [ $i -ge 50 ]; do
	sleep 0.1; i=$((i + 1))
done
expect "lmtpd over inet" 0 OK lmtpd -s "inet:$port@127.0.0.1"
expect "lmtpd over inet, Postfix's spelling" 0 OK lmtpd -s "inet:127.0.0.1:$port"
printf 'lmtpd_listen = inet:[127.0.0.1]:%s\n' "$port" > "$T/main.cf"
expect "lmtpd socket from \$BAV_CONFIG" 0 OK lmtpd
: > "$T/main.cf"
kill "$lpid"; wait "$lpid" 2>/dev/null
expect "lmtpd stopped" 2 CRITICAL lmtpd -s "unix:$T/lmtp.sock"

# a daemon that accepts and never answers: CRITICAL after -t seconds
python3 - "$T/hang.sock" <<'PY' > "$T/hang.log" 2>&1 &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(5)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
PY
pids="$pids $!"
wait_sock "$T/hang.sock" hang
for c in milter policyd lmtpd; do
	expect "$c hanging" 2 CRITICAL $c -s "unix:$T/hang.sock" -t 1
done

echo "$fails failed"
[ "$fails" -eq 0 ]
