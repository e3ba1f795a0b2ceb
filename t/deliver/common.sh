# t/deliver/common.sh - sourced by the t/deliver tests: $BAV, a scratch
# directory $T removed on exit, fail/ok counters, make_bounce N (a DSN
# for gone-N@example.org on stdout), count DB SQL.
srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
BAV=$(cd "$builddir" && pwd)/bav/bav
[ -x "$BAV" ] || { echo "SKIP: $BAV not built"; exit 77; }
T=$(mktemp -d /tmp/bav-deliver.XXXXXX) || exit 1
fails=0
cleanup_hook() { :; }
cleanup() {
	cleanup_hook
	[ -n "$KEEP" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
# expect WHAT WANT GOT
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: want '$2', got '$3'"; fi
}
make_bounce() {
	cat <<EOM
From: MAILER-DAEMON@mx$1.example.net
To: bounces@mailloop.example.com
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-$1@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B$1"

--B$1
Content-Type: text/plain

This is the mail system. Your message could not be delivered.

--B$1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx$1.example.net

Final-Recipient: rfc822; gone-$1@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone-$1@example.org>: user unknown

--B$1
Content-Type: text/rfc822-headers

Message-ID: <news-$1@sender.example.com>
Subject: News $1

--B$1--
EOM
}
count() {
	sqlite3 "$1" "$2" 2>/dev/null
}
nfiles() {
	ls -A "$1" 2>/dev/null | wc -l | tr -d ' '
}
