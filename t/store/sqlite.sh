#!/bin/sh
# SPDX-License-Identifier: MIT
# NAME
#	sqlite.sh - the store test suite (suite.sh) on a fresh SQLite file
# DIAGNOSTICS
#	ok/FAIL lines, "N passed, N failed"; exit 0 pass, 1 fail, 77 skip
#	(bav built without the SQLite backend).
srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
BAV=${BAV:-$builddir/bav/bav}
T=$(mktemp -d "${TMPDIR:-/tmp}/bav-store-sqlite.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
STORE=sqlite:$T/store.db
"$BAV" store init --store "$STORE" >"$T/init.out" 2>&1
if grep -q 'not built' "$T/init.out"; then
	echo "SKIP: SQLite backend not built"; exit 77
fi
. "$srcdir/t/store/suite.sh"
store_suite >"$T/out"; rc=$?
cat "$T/out"
echo "$(grep -c '^ok' "$T/out") passed, $(grep -c '^FAIL' "$T/out") failed"
[ $rc -eq 0 ]
