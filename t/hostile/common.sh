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
