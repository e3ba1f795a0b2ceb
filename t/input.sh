#!/bin/sh
# SPDX-License-Identifier: MIT
#
# NAME
#	input.sh - input handling and exit codes of "bav classify"
# SYNOPSIS
#	t/input.sh
# DESCRIPTION
#	Runs the bav command on the tiny fixtures in t/data/input (an mbox
#	with escaped and stray "From " lines, a Maildir with cur/new/tmp, a
#	directory tree with dotfiles, a nested Maildir and an mbox) and
#	checks, with "bav classify --list" (NAME<TAB>IDX per message, no
#	classification), that exactly the expected messages are found, that
#	stdin works, that a missing path exits 66 while the other paths are
#	still processed, that a broken rule file exits 78 naming file:line,
#	and the exit codes of usage errors and "bav rules check".
#
#	Environment: top_srcdir, top_builddir (from make check; default
#	"."), BAV to use another bav binary.
# DIAGNOSTICS
#	"ok NAME" or "FAIL NAME" per check, then "N passed, N failed";
#	exit 1 on any failure.

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
bav=${BAV:-$builddir/bav/bav}
case $bav in
/*) ;;
*) bav=$(cd "$(dirname "$bav")" && pwd)/$(basename "$bav") ;;
esac
cd "$srcdir/t/data/input" || exit 1

tmp=${TMPDIR:-/tmp}/input.$$
mkdir "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

passed=0
failed=0
ok() { echo "ok $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# check NAME EXPECTED-RC EXPECTED-STDOUT-FILE|- cmd...
# runs the command, compares exit status and (unless -) stdout
check() {
	name=$1 want=$2 ref=$3
	shift 3
	"$@" > "$tmp/out" 2> "$tmp/err" < "${STDIN:-/dev/null}"
	rc=$?
	if [ $rc -ne "$want" ]; then
		fail "$name" "exit $rc, expected $want; stderr: $(cat "$tmp/err")"
		return 1
	fi
	if [ "$ref" != - ] && ! diff -u "$ref" "$tmp/out" > "$tmp/diff"; then
		fail "$name" "unexpected output:
$(cat "$tmp/diff")"
		return 1
	fi
	ok "$name"
	return 0
}

# grep_err NAME PATTERN: the last check's stderr must match PATTERN
grep_err() {
	if grep -q -- "$2" "$tmp/err"; then
		ok "$1"
	else
		fail "$1" "stderr lacks '$2': $(cat "$tmp/err")"
	fi
}

T='	'
cat > "$tmp/walk.ref" <<END
three.mbox${T}0
three.mbox${T}1
three.mbox${T}2
one.eml${T}0
maildir/cur/1704103200.M1P1.host:2,S${T}0
maildir/cur/1704103201.M2P1.host:2,${T}0
maildir/new/1704103202.M3P1.host${T}0
tree/a/1.eml${T}0
tree/b/2.eml${T}0
tree/b/md/cur/1.host${T}0
tree/b/md/new/2.host${T}0
tree/c.mbox${T}0
tree/c.mbox${T}1
END
check walk 0 "$tmp/walk.ref" "$bav" classify --list three.mbox one.eml \
	maildir tree

printf -- "-${T}0\n-${T}1\n-${T}2\n" > "$tmp/stdin-mbox.ref"
STDIN=three.mbox check stdin-mbox 0 "$tmp/stdin-mbox.ref" \
	"$bav" classify --list -
printf -- "-${T}0\n" > "$tmp/stdin-one.ref"
STDIN=one.eml check stdin-one 0 "$tmp/stdin-one.ref" \
	"$bav" classify --list -

# a classification from stdin: one JSON object naming "-"
if STDIN=one.eml check stdin-json 0 - "$bav" classify --json -; then
	if [ "$(wc -l < "$tmp/out")" -eq 1 ] &&
	   grep -q '^{"file":"-","idx":0,"kind":"[a-z]*",' "$tmp/out"; then
		ok stdin-json-format
	else
		fail stdin-json-format "$(cat "$tmp/out")"
	fi
fi

# three objects for the three mbox members, idx 0..2, subjects in order
if check mbox-json 0 - "$bav" classify three.mbox; then
	if sed 's/.*"idx":\([0-9]*\),.*"subject":"\([a-z]*\)","reporting_mta".*/\1 \2/' \
		"$tmp/out" | tr '\n' ' ' | grep -qx '0 first 1 second 2 third '; then
		ok mbox-json-members
	else
		fail mbox-json-members "$(cat "$tmp/out")"
	fi
fi
check mbox-tsv 0 - "$bav" classify --tsv three.mbox

# a missing path: exit 66, the other paths are still processed
printf "one.eml${T}0\n" > "$tmp/missing.ref"
check missing 66 "$tmp/missing.ref" "$bav" classify --list \
	no-such-file one.eml && grep_err missing-msg 'no-such-file: '

# a message over --max-size fails (exit 1) without stopping the others
printf "three.mbox${T}0\nthree.mbox${T}1\nthree.mbox${T}2\n" > "$tmp/big.ref"
check max-size 1 "$tmp/big.ref" "$bav" classify --list --max-size 10 \
	one.eml three.mbox

# a broken rule file: exit 78 and file:line
check bad-rules 78 - "$bav" classify --rules bad.rules one.eml &&
	grep_err bad-rules-msg 'bad\.rules:3'
check rules-check-bad 1 - "$bav" rules check bad.rules &&
	grep_err rules-check-msg 'bad\.rules:3'
check rules-check-missing 66 - "$bav" rules check no-such.rules

# usage errors
check no-command 64 - "$bav"
check bad-command 64 - "$bav" frobnicate
check no-path 64 - "$bav" classify
check bad-option 64 - "$bav" classify --no-such-option one.eml
check version 0 - "$bav" version
grep -q "^bav [0-9]" "$tmp/out" && ok version-format || fail version-format "$(cat "$tmp/out")"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
