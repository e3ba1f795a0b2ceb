#!/bin/sh
# SPDX-License-Identifier: MIT
#
# NAME
#	mariadb.sh - the score and report tests on a real, private mariadbd
# SYNOPSIS
#	t/report/mariadb.sh
# DESCRIPTION
#	Starts mariadbd on 127.0.0.1 with its own datadir in a temporary
#	directory (t/store/mariadb-lib.sh) and runs the same suite that
#	runs on SQLite against it: t/unit/test_score, t/report/report.sh
#	and t/report/chromium.sh with BAV_TEST_STORE set to the server's
#	mariadb:// URI. The scoring and report SQL is the same text on
#	both backends, so this shows it is portable. The server is stopped
#	by an EXIT trap, also on failure.
#	Environment: top_srcdir, top_builddir (from make check).
# DIAGNOSTICS
#	The output of each part, "N passed, N failed"; exit 0 pass, 1
#	fail, 77 skip (mariadb-server not installed, MariaDB backend not
#	built).

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
bav=${BAV:-$builddir/bav/bav}
T=$(mktemp -d "${TMPDIR:-/tmp}/bav-report-mariadb.XXXXXX") || exit 1
. "$srcdir/t/store/mariadb-lib.sh"
trap 'mariadb_stop; rm -rf "$T"' EXIT INT TERM

if "$bav" report --store "mariadb://x@127.0.0.1:1/x" 2>&1 |
	grep -q 'not built'; then
	echo "SKIP: MariaDB backend not built"
	exit 77
fi
mariadb_start "$T"
rc=$?
[ $rc -eq 77 ] && { echo "SKIP: mariadb-server not installed"; exit 77; }
[ $rc -ne 0 ] && { echo "FAIL - mariadbd did not start"; exit 1; }
BAV_TEST_STORE=$MARIADB_URI
export BAV_TEST_STORE

passed=0
failed=0
part() {	# NAME COMMAND...
	echo "== $1 on MariaDB"
	name=$1
	shift
	"$@"
	r=$?
	if [ $r = 0 ]; then
		echo "ok $name"
		passed=$((passed + 1))
	elif [ $r = 77 ]; then
		echo "skip $name"
	else
		echo "FAIL $name (exit $r)"
		failed=$((failed + 1))
	fi
}
part test_score "$builddir/t/unit/test_score"
part report.sh sh "$srcdir/t/report/report.sh"
part chromium.sh sh "$srcdir/t/report/chromium.sh"
# the same fixture gives the same report, byte for byte, on both backends
same_report() {
	now=1763683200
	for u in "sqlite:$T/same.db" "$MARIADB_URI"; do
		"$builddir/t/report/fixture" "$u" $now >/dev/null &&
		"$bav" score --store "$u" --now @$now -q || return 1
	done
	"$bav" report --store "sqlite:$T/same.db" --now @$now --format json \
		> "$T/a.json" &&
	"$bav" report --store "$MARIADB_URI" --now @$now --format json \
		> "$T/b.json" &&
	"$bav" report --store "sqlite:$T/same.db" --now @$now --format csv \
		> "$T/a.csv" &&
	"$bav" report --store "$MARIADB_URI" --now @$now --format csv \
		> "$T/b.csv" &&
	cmp "$T/a.json" "$T/b.json" && cmp "$T/a.csv" "$T/b.csv"
}
part "same report on SQLite and MariaDB" same_report
echo "$passed passed, $failed failed"
[ $failed = 0 ]
