#!/bin/sh
# SPDX-License-Identifier: MIT
# NAME
#	t/hostile/sql.sh - quotes, backslashes and SQL in addresses and texts
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/hostile/sql.sh
# DESCRIPTION
#	Bounces whose recipients, Subject, Message-ID and diagnostic carry
#	quotes, backslashes, "'; DROP TABLE ...", "\" OR 1=1", LIKE
#	wildcards and a NUL-free control of a few UTF-8 bytes are recorded
#	(bav record) into SQLite and, when mariadb-server is installed and
#	we are root, into a private mariadbd on 127.0.0.1
#	(t/store/mariadb-lib.sh). Each backend must keep every table, hold
#	exactly one message per file, and store each recipient as the
#	classifier printed it (lower case); "bav show" finds one by its
#	exact text and "bav show \"' OR 1=1 --\"" finds nothing; "bav
#	unblock" with an SQL reason keeps the reason verbatim in the
#	audit table. A MariaDB password file readable by others is
#	refused (exit 78) before any connection.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip.
. "${top_srcdir:-.}/t/hostile/common.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing"; exit 77; }
cleanup_hook() { command -v mariadb_stop >/dev/null && mariadb_stop; }

python3 - "$T" <<'EOP'
import sys
addrs = [
    "\"o'brien\"@example.org",
    "\"x';DROP/**/TABLE/**/bav_recipients;--\"@example.org",
    "\"'OR'1'='1\"@example.org",
    "\"robert');DROP/**/TABLE/**/bav_messages;--\"@example.org",
    "%_*?@example.org",
    "\"a\\\\b\"@example.org",
    "m\u00fcller'@example.org",
]
for i, a in enumerate(addrs):
    open("%s/sql%d.eml" % (sys.argv[1], i), "w", encoding="utf-8").write(f"""\
From: MAILER-DAEMON@mx.example.net
To: b@loop.test
Subject: Undelivered '; DROP TABLE bav_events; -- \\' \\"
Message-ID: <sql{i}'--\\"@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

failed.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net'); DELETE FROM bav_messages; --

Final-Recipient: rfc822; {a}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{a}>: ' OR '1'='1 \\'; DROP TABLE x; --

--B--
""")
EOP
"$BAV" classify --tsv "$T"/sql*.eml | cut -f8 |
	python3 -c 'import sys; print("".join(sorted(l.lower() for l in sys.stdin)), end="")' \
	> "$T/want"
expect "classifier: one recipient per file" 7 "$(sort -u "$T/want" | wc -l)"
grep -qi "DROP/\\*\\*/TABLE/\\*\\*/bav_recipients" "$T/want" &&
	ok "classifier keeps the SQL in the address" ||
	fail "classifier changed the address: $(cat "$T/want")"

# check BACKEND URI SQL-COMMAND...: the checks on one store
check() {
	name=$1 uri=$2
	shift 2
	"$BAV" store init --store "$uri" > /dev/null 2> "$T/err" ||
		{ fail "$name: store init: $(cat "$T/err")"; return; }
	"$BAV" record --store "$uri" "$T"/sql*.eml > /dev/null 2> "$T/err"
	expect "$name: record exit" 0 "$?"
	expect "$name: tables kept" 1 \
		"$("$@" "SELECT COUNT(*) FROM bav_recipients WHERE 1 = 0 UNION ALL SELECT COUNT(*) FROM bav_events WHERE 1 = 0 UNION ALL SELECT COUNT(*) FROM bav_messages WHERE 1 = 0" | sort -u | wc -l)"
	expect "$name: seven messages" 7 \
		"$("$@" 'SELECT COUNT(*) FROM bav_messages')"
	"$@" 'SELECT address FROM bav_recipients' |
		python3 -c 'import sys; print("".join(sorted(sys.stdin)), end="")' \
		> "$T/got"
	cmp -s "$T/want" "$T/got" && ok "$name: addresses stored verbatim" ||
		fail "$name: addresses: $(diff "$T/want" "$T/got")"
	a=$(sed -n 1p "$T/want")
	"$BAV" show --store "$uri" "$a" > "$T/out" 2>&1
	grep -q "state: *bounced" "$T/out" && ok "$name: show finds $a" ||
		fail "$name: show $a: $(cat "$T/out")"
	"$BAV" show --store "$uri" "' OR 1=1 --" > "$T/out" 2>&1
	grep -q "state: *unknown" "$T/out" && ok "$name: show ' OR 1=1: nothing" ||
		fail "$name: show ' OR 1=1: $(cat "$T/out")"
	r="x'); DROP TABLE bav_recipients; -- \\ \""
	"$BAV" unblock --store "$uri" --reason "$r" "$a" > /dev/null 2> "$T/err"
	expect "$name: unblock exit" 0 "$?"
	expect "$name: reason verbatim" "$r" \
		"$("$@" "SELECT reason FROM bav_audit" | tail -1)"
	expect "$name: still seven recipients" 7 \
		"$("$@" 'SELECT COUNT(*) FROM bav_recipients')"
}
check sqlite "sqlite:$T/bav.db" sqlite3 "$T/bav.db"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP (part): MariaDB needs root"
elif "$BAV" store init --store "mariadb://x@127.0.0.1:1/x" 2>&1 |
	grep -q 'not built'; then
	echo "SKIP (part): MariaDB backend not built"
else
	# a password file anyone can read is refused before connecting
	printf 'secret\n' > "$T/pw"
	chmod 644 "$T/pw"
	"$BAV" store init --store "mariadb://u@127.0.0.1:1/x?password_file=$T/pw" \
		> /dev/null 2> "$T/err"
	expect "world-readable password file: exit 78" 78 "$?"
	grep -q "refused: mode 0644" "$T/err" && ok "world-readable password file: said so" ||
		fail "world-readable password file: $(cat "$T/err")"
	. "$SRC/t/store/mariadb-lib.sh"
	mariadb_start "$T"; rc=$?
	if [ $rc -eq 77 ]; then
		echo "SKIP (part): mariadb-server not installed"
	elif [ $rc -ne 0 ]; then
		fail "mariadbd did not start"
	else
		check mariadb "$MARIADB_URI" mariadb --no-defaults \
			--socket="$MARIADB_SOCK" -uroot -N -B --raw bav -e
	fi
fi
finish
