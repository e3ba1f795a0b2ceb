#!/bin/bash
# SPDX-License-Identifier: MIT
# NAME
#	mariadb.sh - the store test suite on a real, private mariadbd, and
#	the "database gone in the middle of bav record" test
# DESCRIPTION
#	Starts mariadbd on 127.0.0.1 (free port) with its own datadir in a
#	temporary directory (t/store/mariadb-lib.sh), runs suite.sh against
#	mariadb://bav@127.0.0.1:PORT/bav?password_file=..., checks the unix
#	socket URI form, then the database-gone case: bav record over
#	$GONE_MESSAGES generated reports (default 10000, batches of 100),
#	mariadbd killed with SIGKILL while it runs: bav must exit 75, and
#	after a restart no message may be half-written (result_count =
#	its events); a re-run exits 0 and every message and event is there
#	exactly once. grants_test runs record, score, report, unblock and
#	show as the least-privilege users of bav-store(7). The server is
#	stopped by an EXIT trap, also on
#	failure.
# DIAGNOSTICS
#	ok/FAIL lines, "N passed, N failed"; exit 0 pass, 1 fail, 77 skip
#	(mariadb-server not installed, or the MariaDB backend not built).
srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
BAV=${BAV:-$builddir/bav/bav}
case $BAV in /*) ;; *) BAV=$PWD/$BAV ;; esac
GONE_MESSAGES=${GONE_MESSAGES:-10000}
T=$(mktemp -d "${TMPDIR:-/tmp}/bav-store-mariadb.XXXXXX") || exit 1
. "$srcdir/t/store/mariadb-lib.sh"
trap 'mariadb_stop; rm -rf "$T"' EXIT

if "$BAV" store init --store "mariadb://x@127.0.0.1:1/x" 2>&1 | grep -q 'not built'; then
	echo "SKIP: MariaDB backend not built"; exit 77
fi
mariadb_start "$T"; rc=$?
[ $rc -eq 77 ] && { echo "SKIP: mariadb-server not installed"; exit 77; }
[ $rc -ne 0 ] && { echo "FAIL - mariadbd did not start"; exit 1; }

. "$srcdir/t/store/suite.sh"

gone_test() {
	local n=$GONE_MESSAGES rc recorded i
	STORE="mariadb://bav@127.0.0.1:$MARIADB_PORT/gone?password_file=$MARIADB_DIR/password"
	mariadb --no-defaults --socket="$MARIADB_SOCK" -uroot -e \
		"CREATE DATABASE gone; GRANT ALL ON gone.* TO 'bav'@'127.0.0.1';" ||
		{ fail "create database gone"; return; }
	sh "$srcdir/t/store/gen-bounces.sh" "$n" >"$T/big.mbox"
	"$BAV" store init --store "$STORE" >/dev/null || { fail "store init"; return; }
	"$BAV" record --store "$STORE" --batch 100 "$T/big.mbox" 2>"$T/gone.err" &
	local bavpid=$!
	# wait until some batches are in, then pull the plug
	for i in $(seq 1 600); do
		recorded=$(q "SELECT COUNT(*) FROM bav_messages" 2>/dev/null)
		[ "${recorded:-0}" -ge $((n / 10)) ] && break
		kill -0 $bavpid 2>/dev/null || break
		sleep 0.05
	done
	mariadb_kill
	wait $bavpid; rc=$?
	check "database gone: bav record exits 75" 75 $rc
	grep -q 'temporary' "$T/gone.err" && ok "database gone: says temporary" ||
		fail "database gone message: $(cat "$T/gone.err")"
	mariadb_restart || { fail "mariadbd restart"; return; }
	recorded=$(q "SELECT COUNT(*) FROM bav_messages")
	if [ "$recorded" -gt 0 ] && [ "$recorded" -lt "$n" ]; then
		ok "database gone: $recorded of $n messages recorded before the kill"
	else
		fail "database gone: kill not in the middle ($recorded of $n recorded)"
	fi
	check "database gone: no half-written message" 0 "$(q "SELECT COUNT(*) FROM bav_messages m
		WHERE result_count <> (SELECT COUNT(*) FROM bav_events e WHERE e.message_id = m.id)")"
	check "database gone: no event without its message" 0 \
		"$(q "SELECT COUNT(*) FROM bav_events e LEFT JOIN bav_messages m ON m.id = e.message_id WHERE m.id IS NULL")"
	"$BAV" record --store "$STORE" --batch 100 "$T/big.mbox" 2>"$T/rerun.err"
	check "re-run exits 0" 0 $?
	check "re-run: every message once" "$n" "$(q "SELECT COUNT(*) FROM bav_messages")"
	check "re-run: every event once" $((n + (n + 9) / 10)) "$(q "SELECT COUNT(*) FROM bav_events")"
	check "re-run: no recipient twice" 0 \
		"$(q "SELECT COUNT(*) FROM (SELECT recipient FROM bav_events GROUP BY recipient HAVING COUNT(*) > 1) x")"
	sed 's/^/  /' "$T/gone.err" "$T/rerun.err"
}

# the least-privilege grants of bav-store(7), each program with its own user
grants_test() {
	local pw=$MARIADB_DIR/password u="127.0.0.1:$MARIADB_PORT/grants?password_file=$MARIADB_DIR/password"
	mariadb --no-defaults --socket="$MARIADB_SOCK" -uroot -e "
		CREATE DATABASE grants;
		CREATE USER 'bav_admin'@'127.0.0.1' IDENTIFIED BY '$(cat "$pw")';
		GRANT CREATE, ALTER, INDEX, DROP, SELECT, INSERT, UPDATE, DELETE ON grants.* TO 'bav_admin'@'127.0.0.1';
		CREATE USER 'bav_record'@'127.0.0.1' IDENTIFIED BY '$(cat "$pw")';
		GRANT SELECT, INSERT ON grants.* TO 'bav_record'@'127.0.0.1';
		CREATE USER 'bav_score'@'127.0.0.1' IDENTIFIED BY '$(cat "$pw")';
		GRANT SELECT ON grants.* TO 'bav_score'@'127.0.0.1';
		CREATE USER 'bav_report'@'127.0.0.1' IDENTIFIED BY '$(cat "$pw")';
		GRANT SELECT ON grants.* TO 'bav_report'@'127.0.0.1';
		CREATE USER 'bav_ops'@'127.0.0.1' IDENTIFIED BY '$(cat "$pw")';
		GRANT SELECT ON grants.* TO 'bav_ops'@'127.0.0.1';" || { fail "grants: create users"; return; }
	"$BAV" store init --store "mariadb://bav_admin@$u" >/dev/null
	check "grants: bav_admin creates the schema" 0 $?
	# table grants need the tables
	mariadb --no-defaults --socket="$MARIADB_SOCK" -uroot -e "
		GRANT UPDATE ON grants.bav_recipients TO 'bav_record'@'127.0.0.1';
		GRANT INSERT, UPDATE, DELETE ON grants.bav_recipients TO 'bav_score'@'127.0.0.1';
		GRANT INSERT, UPDATE, DELETE ON grants.bav_meta TO 'bav_score'@'127.0.0.1';
		GRANT INSERT ON grants.bav_audit TO 'bav_score'@'127.0.0.1';
		GRANT UPDATE ON grants.bav_recipients TO 'bav_ops'@'127.0.0.1';
		GRANT INSERT ON grants.bav_audit TO 'bav_ops'@'127.0.0.1';" || { fail "grants: table grants"; return; }
	"$BAV" record -q --store "mariadb://bav_record@$u" "$srcdir/contrib/examples" "$T/gen.mbox"
	check "grants: bav_record records" 0 $?
	"$BAV" record -q --store "mariadb://bav_record@$u" "$T/gen.mbox"
	check "grants: bav_record records again (nothing new)" 0 $?
	"$BAV" score --store "mariadb://bav_score@$u" >/dev/null
	check "grants: bav_score scores" 0 $?
	"$BAV" report --store "mariadb://bav_report@$u" >/dev/null
	check "grants: bav_report reports" 0 $?
	"$BAV" unblock --store "mariadb://bav_ops@$u" --reason test user1@d1.example >/dev/null
	check "grants: bav_ops unblocks" 0 $?
	"$BAV" show --store "mariadb://bav_ops@$u" user1@d1.example >/dev/null
	check "grants: bav_ops shows" 0 $?
	"$BAV" unblock --store "mariadb://bav_report@$u" --reason test user2@d2.example 2>/dev/null
	check "grants: bav_report cannot unblock (78)" 78 $?
}

{
	STORE=$MARIADB_URI
	"$BAV" store init --store "$STORE" >/dev/null
	store_suite
	STORE=$MARIADB_SOCKET_URI
	check "unix socket URI" "$total" "$(q "SELECT COUNT(*) FROM bav_messages WHERE receiving_host = ?" mx-test)"
	STORE="mariadb://bav@127.0.0.1:$MARIADB_PORT/bav"
	"$BAV" record --store "$STORE" "$srcdir/contrib/examples" 2>/dev/null
	check "no password: exits 78" 78 $?
	grants_test
	gone_test
} >"$T/out" 2>&1
cat "$T/out"
echo "$(grep -c '^ok' "$T/out") passed, $(grep -c '^FAIL' "$T/out") failed"
! grep -q '^FAIL' "$T/out"
