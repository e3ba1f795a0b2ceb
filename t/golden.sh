#!/bin/sh
# SPDX-License-Identifier: MIT
#
# NAME
#	golden.sh - golden-file tests of "bav classify"
# SYNOPSIS
#	t/golden.sh [--regen] [NAME...]
#	REGEN=1 t/golden.sh
# DESCRIPTION
#	For every t/data/golden/NAME.eml (or only the NAMEs given) runs
#	"bav classify --json NAME.eml" inside t/data/golden (so the "file"
#	field is just NAME.eml) and compares the output with NAME.json.ref
#	using diff -u. Extra command line options for one fixture (--rid,
#	--header, --rules FILE relative to t/data/golden, ...) go on the
#	first line of NAME.args. It also runs "bav classify --tsv" on each
#	fixture and checks the lines: 8 TAB-separated fields, idx 0, 1, ...
#
#	--regen (or REGEN=1) rewrites the .json.ref files from the current
#	output instead of comparing; review them with git diff.
#
#	Environment: top_srcdir and top_builddir (set by make check;
#	default "."), BAV to use another bav binary.
# DIAGNOSTICS
#	"ok NAME" or "FAIL NAME" (with the diff) per fixture, then
#	"N passed, N failed". Exit 0 when all passed, 1 on any failure,
#	77 (automake SKIP) when there are no fixtures.

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
regen=${REGEN:-0}
if [ "x$1" = "x--regen" ]; then
	regen=1
	shift
fi
[ "$regen" = 0 ] || regen=1

dir=$srcdir/t/data/golden
bav=${BAV:-$builddir/bav/bav}
case $bav in
/*) ;;
*) bav=$(cd "$(dirname "$bav")" && pwd)/$(basename "$bav") ;;
esac
if [ ! -x "$bav" ]; then
	echo "golden.sh: $bav not built" >&2
	exit 1
fi

tmp=${TMPDIR:-/tmp}/golden.$$
mkdir "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ $# -gt 0 ]; then
	names=$*
else
	names=
	for f in "$dir"/*.eml; do
		[ -e "$f" ] || continue
		n=$(basename "$f" .eml)
		names="$names $n"
	done
fi
if [ -z "$names" ]; then
	echo "golden.sh: no fixtures in $dir, skipped"
	echo "0 passed, 0 failed"
	exit 77
fi

passed=0
failed=0
for n in $names; do
	args=
	[ -f "$dir/$n.args" ] && args=$(sed -n 1p "$dir/$n.args")
	why=
	# shellcheck disable=SC2086 # $args is word-split on purpose
	(cd "$dir" && "$bav" classify --json $args "$n.eml") \
		> "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ $rc -ne 0 ]; then
		why="classify --json exited $rc: $(head -c 500 "$tmp/err")"
	elif [ $regen = 1 ]; then
		cp "$tmp/out" "$dir/$n.json.ref"
	elif [ ! -f "$dir/$n.json.ref" ]; then
		why="no $n.json.ref (run t/golden.sh --regen $n)"
	elif ! diff -u "$dir/$n.json.ref" "$tmp/out" > "$tmp/diff"; then
		why="output differs from $n.json.ref:
$(cat "$tmp/diff")"
	fi
	if [ -z "$why" ]; then
		# shellcheck disable=SC2086
		(cd "$dir" && "$bav" classify --tsv $args "$n.eml") \
			> "$tmp/tsv" 2> "$tmp/err"
		rc=$?
		if [ $rc -ne 0 ]; then
			why="classify --tsv exited $rc: $(head -c 500 "$tmp/err")"
		elif ! awk -F '\t' -v f="$n.eml" '
			NF != 8 || $1 != f || $2 != NR - 1 { bad = 1; print }
			END { exit bad }' "$tmp/tsv" > "$tmp/bad"; then
			why="bad --tsv lines:
$(cat "$tmp/bad")"
		fi
	fi
	if [ -z "$why" ]; then
		echo "ok $n"
		passed=$((passed + 1))
	else
		echo "FAIL $n: $why"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
