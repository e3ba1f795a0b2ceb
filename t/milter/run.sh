#!/bin/sh
# NAME
#	t/milter/run.sh - run the miltertest scripts against bav-milter
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/milter/run.sh [NAME...]
# DESCRIPTION
#	Runs each t/milter/NAME.lua (all but common.lua, or the NAMEs given)
#	with miltertest(8). Each script starts its own bav-milter on a unix
#	socket in a private directory with a fresh copy of t/milter/bav.conf.
#	The filter logs to stderr (foreground); every line of NAME.expect is
#	a fixed string that must appear in that output (replies and log
#	lines miltertest can't see). Leftover filters are killed.
# DIAGNOSTICS
#	Exit 0 all passed, 1 a script failed, 77 (skip) without miltertest or
#	without a built bav-milter.
srcdir=${top_srcdir:-.}/t/milter
builddir=${top_builddir:-.}
milter=$(cd "$builddir" && pwd)/milter/bav-milter
top=$(cd "${top_srcdir:-.}" && pwd)

command -v miltertest >/dev/null 2>&1 ||
	{ echo "SKIP: miltertest not installed (Debian package miltertest)"; exit 77; }
[ -x "$milter" ] || { echo "SKIP: $milter not built"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bav-miltertest.XXXXXX") || exit 1
cleanup() {
	for p in "$tmp"/*/pid; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

if [ $# -gt 0 ]; then
	names="$*"
else
	names=$(cd "$srcdir" && ls *.lua | sed 's/\.lua$//' | grep -v '^common$')
fi
failed=0
for name in $names; do
	d=$tmp/$name
	mkdir -p "$d"
	cp "$srcdir/bav.conf" "$d/bav.conf"
	miltertest -D MILTER="$milter" -D TABLE="$d/bav.conf" \
		-D SOCK="unix:$d/sock" -D TMP="$d" \
		-D COMMON="$srcdir/common.lua" -D TOP="$top" \
		-s "$srcdir/$name.lua" > "$d/out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && [ -f "$srcdir/$name.expect" ]; then
		while IFS= read -r want; do
			case $want in ''|'#'*) continue ;; esac
			if ! grep -qF -- "$want" "$d/out"; then
				echo "$name: expected in the filter's output: $want"
				rc=1
			fi
		done < "$srcdir/$name.expect"
	fi
	if [ $rc -eq 0 ]; then
		echo "PASS: milter/$name"
	else
		echo "FAIL: milter/$name"
		sed 's/^/	/' "$d/out"
		failed=1
	fi
done
exit $failed
