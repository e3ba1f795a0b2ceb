#!/bin/sh
# NAME
#	t/deliver/reclassify.sh - bav reclassify over cur/ and bad/
# DESCRIPTION
#	A bounce is delivered and recorded (archived in cur/); a message
#	nested deeper than the MIME depth limit is delivered (spooled with
#	its error, exit 0: kept, not lost) and set aside in bad/ by the
#	recorder. bav reclassify lists cur/ ("bounce bounce ... same") and
#	bad/ ("unclassified", exit 1); with --max-depth 64 the bad/ entry
#	classifies, --requeue moves it to new/ with a verdict and the
#	recorder records it; a second bounce delivery of the same message
#	is still counted once.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip.
. "${top_srcdir:-.}/t/deliver/common.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }

S=$T/spool
make_bounce 1 > "$T/b1.eml"
python3 -c '
n = 40
s = "From: Reader <r@example.net>\nSubject: deep\nMessage-ID: <deep@example.net>\nMIME-Version: 1.0\n"
for i in range(n):
    s += "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n" % (i, i)
s += "Content-Type: text/plain\n\nhello\n"
for i in reversed(range(n)):
    s += "--b%d--\n" % i
print(s, end="")' > "$T/deep.eml"

"$BAV" deliver -f "" --spool "$S" -- b@loop.test < "$T/b1.eml"
expect "bounce delivered" "0" "$?"
"$BAV" deliver -f r@example.net --no-forward --spool "$S" -- b@loop.test \
	< "$T/deep.eml"
expect "too deep: still delivered (kept)" "0" "$?"
grep -q '^E	MIME depth limit exceeded' "$S"/new/* && ok "error in the entry" ||
	fail "no E line"
"$BAV" recorder --once --spool "$S" --store "sqlite:$T/db" 2>/dev/null
expect "recorded 1" "1" "$(count "$T/db" 'SELECT COUNT(*) FROM bav_messages')"
expect "one in bad/" "1" "$(nfiles "$S/bad")"
expect "one in cur/" "1" "$(nfiles "$S/cur")"

"$BAV" reclassify --spool "$S" > "$T/out"
expect "cur/: exit 0" "0" "$?"
expect "cur/ line" "bounce	bounce	1	1	same" "$(cut -f2- "$T/out")"
"$BAV" reclassify --spool "$S" --bad > "$T/out" 2> "$T/err"
expect "bad/: still unclassified, exit 1" "1" "$?"
expect "bad/ line" "unclassified	unclassified	0	0	same" "$(cut -f2- "$T/out")"
grep -q "MIME depth limit exceeded" "$T/err" && ok "reason on stderr" ||
	fail "reason: $(cat "$T/err")"
"$BAV" reclassify --spool "$S" --bad --max-depth 64 > "$T/out"
expect "bad/ with --max-depth 64" "unclassified	reply	0	0	changed" \
	"$(cut -f2- "$T/out")"
expect "nothing changed without --requeue" "1" "$(nfiles "$S/bad")"
"$BAV" reclassify --spool "$S" --bad --max-depth 64 --requeue > /dev/null
expect "requeue: exit 0" "0" "$?"
expect "requeue: bad/ empty" "0" "$(nfiles "$S/bad")"
expect "requeue: in new/" "1" "$(nfiles "$S/new")"
grep -q '^V	reply' "$S"/new/* && ok "requeued with a verdict" ||
	fail "no verdict after requeue"
"$BAV" recorder --once --spool "$S" --store "sqlite:$T/db" 2>/dev/null
expect "now 2 recorded" "2" "$(count "$T/db" 'SELECT COUNT(*) FROM bav_messages')"
"$BAV" reclassify --spool "$S" no-such-entry > /dev/null 2>&1
expect "unknown name: exit 1" "1" "$?"
"$BAV" reclassify --spool "$T/nope" > /dev/null 2>&1
expect "no spool: exit 75" "75" "$?"

[ $fails -eq 0 ] || exit 1
exit 0
