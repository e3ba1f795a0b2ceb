#!/bin/sh
# SPDX-License-Identifier: MIT
# NAME
#	t/hostile/input.sh - hostile messages through bav classify and bav deliver
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/hostile/input.sh
# DESCRIPTION
#	Generates its inputs at run time (nothing big is in the tree):
#	  - a 50 MB message: classify gives a verdict and deliver spools it,
#	    each with a peak RSS below 3 times the message size plus 64 MB
#	    (8 times under ASan, ASAN_OPTIONS set); with --max-size 1000000
#	    classify exits 1 naming the limit and deliver exits 65;
#	  - a DSN with 10 000 recipients: all 10 000 counted, each once; one
#	    with 10 001: "recipient count limit exceeded" (classify exits 1,
#	    deliver spools the message with the error, exit 0);
#	  - MIME nested 1 000 deep: "MIME depth limit exceeded" (same);
#	  - NUL bytes and invalid UTF-8 in headers and body: exit 0 and
#	    valid UTF-8 JSON;
#	  - a 1 MB header line: "header length limit exceeded";
#	  - CR-only line endings: the DSN is read (status, recipient);
#	Every command has 60 s (timeout(1)).
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip.
. "${top_srcdir:-.}/t/hostile/common.sh"

factor=3
[ -n "${ASAN_OPTIONS:-}" ] && factor=8
TO="timeout 60"

cat > "$T/gen.py" <<'EOP'
import sys
kind, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
o = open(path, "wb")
if kind == "big":
    o.write(b"From: Max <max@example.net>\nTo: b@loop.test\nSubject: big\n"
            b"Message-ID: <big@example.net>\n\n")
    line = b"x" * 76 + b"\n"
    o.write(line * (n // len(line)))
elif kind == "dsn":
    o.write(b"From: MAILER-DAEMON@mx.example.net\nTo: b@loop.test\n"
            b"Subject: Undelivered Mail\nMIME-Version: 1.0\n"
            b"Content-Type: multipart/report; report-type=delivery-status;"
            b" boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\nfailed.\n\n"
            b"--B\nContent-Type: message/delivery-status\n\n"
            b"Reporting-MTA: dns; mx.example.net\n")
    for i in range(n):
        o.write(b"\nFinal-Recipient: rfc822; u%d@example.org\nAction: failed\n"
                b"Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 unknown\n" % i)
    o.write(b"\n--B--\n")
elif kind == "nest":
    o.write(b"From: a@example.net\nTo: b@loop.test\nSubject: nest\n"
            b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n")
    for i in range(1, n):
        o.write(b"--b%d\nContent-Type: multipart/mixed; boundary=\"b%d\"\n\n"
                % (i - 1, i))
    o.write(b"--b%d\nContent-Type: text/plain\n\ndeep\n" % (n - 1))
    for i in range(n - 1, -1, -1):
        o.write(b"--b%d--\n" % i)
elif kind == "nul":
    o.write(b"From: a\x00b@example.net\nTo: b@loop.test\nSubject: nul\x00byte\n"
            b"X-\x00: \x00\n\nbody\x00with\x00nuls\n\x00\n")
elif kind == "utf8":
    o.write(b"From: \xff\xfe <x@example.net>\nTo: b@loop.test\n"
            b"Subject: =?utf-8?b?/w==?= \xc3\x28 \xed\xa0\x80 \xf8\x88\x80\x80\x80"
            b" =?x-unknown?q?=FF=FE?=\nContent-Type: text/plain; charset=utf-8\n"
            b"Content-Transfer-Encoding: quoted-printable\n\n"
            b"\xc0\xaf\xe0\x80\xaf \xff =FF=C3 body\n")
elif kind == "longhdr":
    o.write(b"From: a@example.net\nTo: b@loop.test\nX-Long: " + b"y" * n +
            b"\nSubject: long\n\nbody\n")
elif kind == "cr":
    o.write(b"From: MAILER-DAEMON@mx.example.net\rTo: b@loop.test\r"
            b"Subject: Undelivered Mail\rMIME-Version: 1.0\r"
            b"Content-Type: multipart/report; report-type=delivery-status;"
            b" boundary=\"B\"\r\r--B\rContent-Type: text/plain\r\rfailed.\r\r"
            b"--B\rContent-Type: message/delivery-status\r\r"
            b"Reporting-MTA: dns; mx.example.net\r\r"
            b"Final-Recipient: rfc822; cr@example.org\rAction: failed\r"
            b"Status: 5.1.1\r\r--B--\r")
EOP
gen() { python3 "$T/gen.py" "$1" "$2" "$T/$1.eml"; }
# classify_err NAME FILE WANT: classify exits 1 and names the limit;
# deliver spools the message with that error and exits 0
classify_err() {
	$TO "$BAV" classify --tsv "$2" > "$T/out" 2> "$T/err"
	expect "$1: classify exit" 1 "$?"
	grep -q "$3" "$T/err" && ok "$1: '$3'" ||
		fail "$1: stderr: $(head -c 300 "$T/err")"
	rm -rf "$T/sp"
	$TO "$BAV" deliver -f a@example.net --spool "$T/sp" -- x@loop.test \
		< "$2" 2> "$T/err"
	expect "$1: deliver exit" 0 "$?"
	grep -aq "^E	$3" "$T"/sp/new/* 2>/dev/null &&
		ok "$1: spooled with the error" || fail "$1: no spool entry with '$3'"
}

# ---- 50 MB -----------------------------------------------------------------
size=$((50 * 1024 * 1024))
gen big $size
bound=$((factor * size / 1024 + 65536))
set -- $(maxrss $TO "$BAV" classify "$T/big.eml")
expect "50 MB classify: exit" 0 "$1"
[ "$2" -lt "$bound" ] && ok "50 MB classify: max RSS $2 KB < $bound KB" ||
	fail "50 MB classify: max RSS $2 KB >= $bound KB"
grep -q '"kind":"reply"' "$T/out" && ok "50 MB classify: a verdict" ||
	fail "50 MB classify: $(head -c 300 "$T/out") $(cat "$T/err")"
STDIN=$T/big.eml
set -- $(maxrss $TO "$BAV" deliver -f a@example.net --spool "$T/big" -- \
	x@loop.test)
expect "50 MB deliver: exit" 0 "$1"
[ "$2" -lt "$bound" ] && ok "50 MB deliver: max RSS $2 KB < $bound KB" ||
	fail "50 MB deliver: max RSS $2 KB >= $bound KB"
e=$(ls "$T"/big/new/* 2>/dev/null | head -1)
[ -n "$e" ] && [ "$(wc -c < "$e")" -gt "$size" ] &&
	ok "50 MB deliver: spooled whole" || fail "50 MB deliver: not spooled"
rm -rf "$T/big"
$TO "$BAV" classify --max-size 1000000 "$T/big.eml" > "$T/out" 2> "$T/err"
expect "--max-size: classify exit" 1 "$?"
grep -q "larger than --max-size" "$T/err" && ok "--max-size: classify names it" ||
	fail "--max-size: classify stderr: $(cat "$T/err")"
$TO "$BAV" deliver --max-size 1000000 -f a@example.net --spool "$T/big" -- \
	x@loop.test < "$T/big.eml" 2> "$T/err"
expect "--max-size: deliver exit (EX_DATAERR)" 65 "$?"
grep -q "larger than 1000000 bytes" "$T/err" && ok "--max-size: deliver names it" ||
	fail "--max-size: deliver stderr: $(cat "$T/err")"
expect "--max-size: nothing spooled" 0 "$(ls "$T"/big/new 2>/dev/null | wc -l)"
rm -f "$T/big.eml"
STDIN=

# ---- 10 000 recipients ---------------------------------------------------
gen dsn 10000
mv "$T/dsn.eml" "$T/dsn10000.eml"
$TO "$BAV" classify --tsv "$T/dsn10000.eml" > "$T/out" 2> "$T/err"
expect "10 000 recipients: exit" 0 "$?"
expect "10 000 recipients: all counted" 10000 "$(wc -l < "$T/out")"
expect "10 000 recipients: each once" 10000 \
	"$(cut -f8 "$T/out" | sort -u | grep -c '^u[0-9]*@example.org$')"
expect "10 000 recipients: all 5.1.1" 10000 "$(cut -f3 "$T/out" | grep -c '^5.1.1$')"
gen dsn 10001
classify_err "10 001 recipients" "$T/dsn.eml" "recipient count limit exceeded"

# ---- MIME 1 000 deep, NUL, UTF-8, long header, CR only -------------------
gen nest 1000
classify_err "MIME 1000 deep" "$T/nest.eml" "MIME depth limit exceeded"
gen longhdr $((1024 * 1024))
classify_err "1 MB header line" "$T/longhdr.eml" "header length limit exceeded"
for k in nul utf8; do
	gen $k 0
	$TO "$BAV" classify "$T/$k.eml" > "$T/out" 2> "$T/err"
	expect "$k: classify exit" 0 "$?"
	python3 -c 'import json, sys
d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
assert d["kind"] == "reply", d["kind"]' "$T/out" 2> "$T/err" &&
		ok "$k: valid UTF-8 JSON, a reply" ||
		fail "$k: output: $(head -c 300 "$T/out") $(cat "$T/err")"
	rm -rf "$T/sp"
	$TO "$BAV" deliver -f a@example.net --spool "$T/sp" -- x@loop.test \
		< "$T/$k.eml"
	expect "$k: deliver exit" 0 "$?"
	e=$(ls "$T"/sp/new/* 2>/dev/null | head -1)
	[ -n "$e" ] && tail -c "$(wc -c < "$T/$k.eml")" "$e" | cmp -s - "$T/$k.eml" &&
		ok "$k: spooled byte for byte" || fail "$k: spool entry differs"
done
gen cr 0
$TO "$BAV" classify --tsv "$T/cr.eml" > "$T/out" 2> "$T/err"
expect "CR only: exit" 0 "$?"
expect "CR only: the DSN is read" "5.1.1 userunknown cr@example.org" \
	"$(cut -f3,5,8 "$T/out" | tr '\t' ' ')"

finish
