# NAME
#	lib.sh - what the t/config tests share: the programs, bad, expect,
#	has, hasnt
# SYNOPSIS
#	top_srcdir=${top_srcdir:-.}
#	. "$top_srcdir/t/config/lib.sh"
#	T=$(mktemp -d ...)
# DESCRIPTION
#	Sourced (not a test of its own) by config.sh and wiring.sh. Sets
#	top_builddir (default .), BAV, MILTER, POLICYD and fail=0, unsets
#	BAV_CONFIG, BAV_STORE and BAV_SPOOL. The caller makes the temporary
#	directory $T (the helpers write $T/out and $T/err) and its own
#	cleanup trap.
#	bad TEXT		prints "FAIL: TEXT", sets fail=1
#	expect STATUS CMD...	runs CMD (stdout $T/out, stderr $T/err) and
#				compares its exit status
#	has FILE RE, hasnt FILE RE	FILE matches (does not match) RE
# DIAGNOSTICS
#	Failures as "FAIL: ..." lines on stdout; the caller exits 1 if
#	fail=1.
# SEE ALSO
#	t/config/config.sh, t/config/wiring.sh

top_builddir=${top_builddir:-.}
BAV=$top_builddir/bav/bav
MILTER=$top_builddir/milter/bav-milter
POLICYD=$top_builddir/policyd/bav-policyd
unset BAV_CONFIG BAV_STORE BAV_SPOOL
fail=0
bad() { echo "FAIL: $*"; fail=1; }
# expect STATUS COMMAND...: run, compare the exit status
expect() {
	want=$1; shift
	"$@" > "$T/out" 2> "$T/err"
	got=$?
	[ "$got" = "$want" ] || { bad "exit $got, not $want: $*"; cat "$T/err"; }
}
has() { grep -q -e "$2" "$1" || { bad "$1 lacks '$2'"; cat "$1"; }; }
hasnt() { ! grep -q -e "$2" "$1" || { bad "$1 has '$2'"; cat "$1"; }; }
