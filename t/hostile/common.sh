# SPDX-License-Identifier: MIT
# NAME
#	t/hostile/common.sh - sourced by the t/hostile tests
# DESCRIPTION
#	Sets $SRC, $BUILD, $BAV, a scratch directory $T (removed on exit
#	unless KEEP is set; cleanup_hook runs first, for the daemons a test
#	started), ok/fail/expect counters, finish (exit 0 or 1) and
#	maxrss CMD... (runs CMD, stdout and stderr to $T/out and $T/err,
#	prints "RC KB": its exit status and its peak resident set size,
#	from getrusage(RUSAGE_CHILDREN) in python3).
#	For the daemon tests (a daemon on the unix socket $SOCK, its pid
#	in $pid, attacked by $T/attack.py):
#	daemon_start NAME ERRFILE CMD...  runs CMD in the background
#		(under $BAV_VALGRIND), stderr to ERRFILE, and waits up to
#		10 s for $SOCK (fail and finish if it does not come);
#	daemon_attack NAME ERRFILE KB  completes $T/attack.py (it defines
#		attack(kind) and the list kinds; this runs every kind in a
#		thread of its own, three rounds) and runs it on $SOCK, checks that
#		it ran, that the daemon still runs and that its peak RSS
#		stayed below KB (not under valgrind or ASan);
#	daemon_stop ERRFILE [exit0]  SIGTERM and wait (with exit0: expect
#		exit status 0), then no sanitizer report in ERRFILE.
SRC=$(cd "${top_srcdir:-.}" && pwd)
BUILD=$(cd "${top_builddir:-.}" && pwd)
BAV=$BUILD/bav/bav
[ -x "$BAV" ] || { echo "SKIP: $BAV not built"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
T=$(mktemp -d /tmp/bav-hostile.XXXXXX) || exit 1
chmod 755 "$T"
fails=0
cleanup_hook() { :; }
cleanup() {
	cleanup_hook
	if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
# expect WHAT WANT GOT
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: want '$2', got '$3'"; fi
}
finish() {
	[ "$fails" -eq 0 ] && exit 0
	echo "$fails failed"
	exit 1
}
maxrss() {
	python3 -c '
import resource, subprocess, sys
out, err = open(sys.argv[1], "wb"), open(sys.argv[2], "wb")
stdin = open(sys.argv[3], "rb") if sys.argv[3] != "-" else subprocess.DEVNULL
rc = subprocess.call(sys.argv[4:], stdin=stdin, stdout=out, stderr=err)
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
' "$T/out" "$T/err" "${STDIN:--}" "$@"
}
daemon_start() {
	dname=$1 derr=$2
	shift 2
	${BAV_VALGRIND:-} "$@" 2> "$derr" &
	pid=$!
	i=0
	while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -S "$SOCK" ] || { fail "$dname did not start: $(cat "$derr")"; finish; }
}
daemon_attack() {
	cat >> "$T/attack.py" <<'EOP'
for round in range(3):
    ts = [threading.Thread(target=attack, args=(k,)) for k in kinds]
    for t in ts: t.start()
    for t in ts: t.join()
print("attacked")
EOP
	python3 "$T/attack.py" "$SOCK" > "$T/attack.out" 2>&1
	expect "attack ran" attacked "$(tail -1 "$T/attack.out")"
	kill -0 "$pid" 2>/dev/null && ok "$1 still runs" ||
		fail "$1 died: $(tail -5 "$2")"
	rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
	[ -n "$rss" ] && [ "$rss" -lt "$3" ] &&
		ok "peak RSS ${rss} KB < $(($3 / 1024)) MB" ||
		{ [ -n "${BAV_VALGRIND:-}${ASAN_OPTIONS:-}" ] &&
			ok "RSS not checked (valgrind/ASan)" ||
			fail "peak RSS ${rss:-?} KB"; }
}
daemon_stop() {
	kill -TERM "$pid"; wait "$pid"
	drc=$?
	[ "${2:-}" = exit0 ] && expect "SIGTERM: exit 0" 0 "$drc"
	pid=
	grep -q 'Sanitizer\|runtime error' "$1" &&
		fail "sanitizer: $(grep -m3 'Sanitizer\|runtime error' "$1")"
}
