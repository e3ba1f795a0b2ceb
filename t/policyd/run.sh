#!/bin/sh
# NAME
#	t/policyd/run.sh - bav-policyd protocol tests from request/response files
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/policyd/run.sh [NAME ...]
# DESCRIPTION
#	For each t/policyd/NAME.in (or the NAMEs given) runs
#	  bav-policyd -s stdio -e -L info ARGS < NAME.in
#	where ARGS are the lines of NAME.args (one argument per line;
#	@srcdir@ becomes this directory, @tmp@ a scratch directory), or
#	"-c @srcdir@/bav.conf" without one, and compares the replies, a
#	"--- log" line and the log lines with NAME.ref. Then it starts one
#	bav-policyd per test on a unix socket (the epoll server) and sends
#	the same bytes over a connection, which must give the same replies.
#	Tests with -F (SPF) are skipped when bav-policyd was built without
#	libspf2; the host name in Received-SPF: comments becomes @host@.
#	Before the tests it builds a SQLite store with suppressed addresses
#	in @tmp@/bav.db (bav store init + sqlite3); the tests that need it
#	are skipped when the sqlite3 command is missing.
#	BAV_REGEN=1 writes the .ref files instead of comparing.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (bav-policyd not built).
srcdir=$(cd "${top_srcdir:-.}/t/policyd" && pwd)
builddir=$(cd "${top_builddir:-.}" && pwd)
pd=$builddir/policyd/bav-policyd
bav=$builddir/bav/bav
[ -x "$pd" ] || { echo "SKIP: $pd not built"; exit 77; }

T=$(mktemp -d /tmp/bav-policyd-t.XXXXXX) || exit 1
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

have_store=no
if [ -x "$bav" ] && command -v sqlite3 >/dev/null 2>&1 &&
   "$bav" store init --store "sqlite:$T/bav.db" >/dev/null 2>&1; then
	sqlite3 "$T/bav.db" "
INSERT INTO bav_recipients (address, domain, state, state_since) VALUES
 ('hard@customer.example', 'customer.example', 'bounced', 1700000000),
 ('angry@customer.example', 'customer.example', 'complained', 1700000000),
 ('gone@customer.example', 'customer.example', 'unsubscribed', 1700000000),
 ('fine@customer.example', 'customer.example', 'active', 1700000000),
 ('soft@customer.example', 'customer.example', 'softbounce', 1700000000);" &&
	have_store=yes
fi

fails=0
n=0
host=$(hostname)	# in Received-SPF: comments
if [ $# -eq 0 ]; then
	set -- $(cd "$srcdir" && ls *.in | sed 's/\.in$//')
fi
for name in "$@"; do
	in=$srcdir/$name.in
	ref=$srcdir/$name.ref
	if grep -q '@tmp@/bav.db' "$srcdir/$name.args" 2>/dev/null &&
	   [ $have_store = no ]; then
		echo "skip: $name (no sqlite3 or bav store)"
		continue
	fi
	if grep -q '^-F$' "$srcdir/$name.args" 2>/dev/null &&
	   ! "$pd" -n -F > /dev/null 2>&1; then
		echo "skip: $name (built without libspf2)"
		continue
	fi
	# the arguments, one per line
	if [ -f "$srcdir/$name.args" ]; then
		sed -e "s|@srcdir@|$srcdir|g" -e "s|@tmp@|$T|g" \
			"$srcdir/$name.args" > "$T/args"
	else
		echo "-c" > "$T/args"; echo "$srcdir/bav.conf" >> "$T/args"
	fi
	run() {	# the program with "$@" and the arguments of $T/args
		while IFS= read -r _l; do set -- "$@" "$_l"; done < "$T/args"
		exec "$pd" "$@"
	}
	(run -s stdio -e -L info) < "$in" > "$T/out" 2> "$T/log"
	rc=$?
	{ cat "$T/out"; echo "--- log (exit $rc)"; cat "$T/log"; } |
		sed "s|$T|@tmp@|g; s|$srcdir|@srcdir@|g; s|($host: |(@host@: |g" > "$T/got"
	n=$((n + 1))
	if [ -n "$BAV_REGEN" ]; then
		cp "$T/got" "$ref"
	elif ! diff -u "$ref" "$T/got" > "$T/diff"; then
		echo "FAIL: $name (stdio)"; cat "$T/diff"; fails=$((fails + 1))
		continue
	fi
	# the same bytes through the epoll server on a unix socket
	sed "s|($host: |(@host@: |g" "$T/out" > "$T/out.h" && mv "$T/out.h" "$T/out"
	rm -f "$T/sock"
	(run -s "unix:$T/sock" -e -L warning -r 0) 2> "$T/srvlog" &
	pid=$!
	pids="$pids $pid"
	i=0
	while [ ! -S "$T/sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	python3 - "$T/sock" "$in" > "$T/sout" <<'PY' || echo "client error" >> "$T/sout"
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(open(sys.argv[2], 'rb').read())
s.shutdown(socket.SHUT_WR)
out = b''
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.buffer.write(out)
PY
	kill $pid; wait $pid
	sed "s|($host: |(@host@: |g" "$T/sout" > "$T/sout.h" && mv "$T/sout.h" "$T/sout"
	if ! cmp -s "$T/out" "$T/sout"; then
		echo "FAIL: $name (unix socket: other replies)"
		diff -u "$T/out" "$T/sout"; cat "$T/srvlog"; fails=$((fails + 1))
		continue
	fi
	echo "ok: $name"
done
echo "$n tests, $fails failed"
[ $fails -eq 0 ]
