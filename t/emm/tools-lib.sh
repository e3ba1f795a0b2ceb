# SPDX-License-Identifier: MIT
# NAME
#	tools-lib.sh - sourced by t/emm/maps.sh and t/emm/score.sh: a private
#	mariadbd loaded with the EMM schema subset
# SYNOPSIS
#	. "$top_srcdir/t/emm/tools-lib.sh"	# sets BAV, T; EXIT trap
#	emm_db_start				# MARIADB_URI; schema + seed
#	sqlq "SQL"				# one query, tab-separated rows
#	expect WHAT WANT GOT
# DESCRIPTION
#	Starts mariadbd on 127.0.0.1 with its own datadir and tmpdir under
#	a scratch directory (t/store/mariadb-lib.sh), loads sql/emm/schema.sql
#	and sql/emm/seed.sql into the database "bav", and stops the server
#	and removes the directory on exit, also on failure. Exits 77 when
#	mariadb-server or the MariaDB backend is missing.
srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
BAV=$(cd "$builddir" && pwd)/bav/bav
[ -x "$BAV" ] || { echo "SKIP: $BAV not built"; exit 77; }
[ -n "$BAV_MODULE_DIR" ] || BAV_MODULE_DIR=$(cd "$builddir" && pwd)/bav/.libs
export BAV_MODULE_DIR
T=$(mktemp -d "${TMPDIR:-/tmp}/bav-emmtools.XXXXXX") || exit 1
. "$srcdir/t/store/mariadb-lib.sh"
trap 'mariadb_stop; [ -n "$KEEP" ] && echo "kept $T" || rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		fail "$1"; printf 'want:\n%s\ngot:\n%s\n' "$2" "$3"; fi
}
sqlq() {
	mariadb --no-defaults --socket="$MARIADB_SOCK" -uroot -N -B bav -e "$1"
}
emm_db_start() {
	if "$BAV" maps --emm "mariadb://x@127.0.0.1:1/x" 2>&1 |
		grep -q 'not built'; then
		echo "SKIP: MariaDB backend not built"; exit 77
	fi
	mariadb_start "$T"
	rc=$?
	[ $rc -eq 77 ] && { echo "SKIP: mariadb-server not installed"; exit 77; }
	[ $rc -ne 0 ] && { echo "FAIL: mariadbd did not start"; exit 1; }
	for f in schema seed; do
		mariadb --no-defaults --socket="$MARIADB_SOCK" -uroot bav \
			< "$srcdir/sql/emm/$f.sql" ||
			{ echo "FAIL: loading sql/emm/$f.sql"; exit 1; }
	done
}
