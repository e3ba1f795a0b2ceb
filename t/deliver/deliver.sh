#!/bin/sh
# NAME
#	t/deliver/deliver.sh - bav deliver: exit codes and spool entries
# DESCRIPTION
#	A bounce is spooled (entry in new/, nothing in tmp/) and exits 0;
#	usage errors exit 64; an empty or too large message 65; a bad spool
#	directory, a file size limit (ulimit -f) and a full file system (a
#	64 KiB tmpfs, root only) exit 75 with a stderr line and leave
#	nothing in new/ or tmp/; --store records at once and archives the
#	entry, and a second delivery of the same message counts once.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip.
. "${top_srcdir:-.}/t/deliver/common.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing"; exit 77; }

S=$T/spool
make_bounce 1 > "$T/b1.eml"

"$BAV" deliver -f "" -q 4QID1 --spool "$S" -- bounces@mailloop.example.com \
	< "$T/b1.eml" 2> "$T/err"
expect "bounce spooled" "0" "$?"
expect "one entry in new/" "1" "$(nfiles "$S/new")"
expect "nothing in tmp/" "0" "$(nfiles "$S/tmp")"
grep -q '^V	bounce' "$S"/new/* && ok "verdict in the entry" ||
	fail "no bounce verdict in the entry"
grep -q '^Q	4QID1$' "$S"/new/* && ok "queue id in the entry" ||
	fail "no queue id"
grep -q '^R	bounces@mailloop.example.com$' "$S"/new/* &&
	ok "recipient in the entry" || fail "no recipient"

# usage
"$BAV" deliver --spool "$S" -- x@y < "$T/b1.eml" 2>/dev/null
expect "no -f: 64" "64" "$?"
"$BAV" deliver -f a@b --spool "$S" < "$T/b1.eml" 2>/dev/null
expect "no recipient: 64" "64" "$?"
"$BAV" deliver -f a@b --bogus --spool "$S" -- x@y < "$T/b1.eml" 2>/dev/null
expect "unknown option: 64" "64" "$?"

# permanent data errors
"$BAV" deliver -f a@b --spool "$S" -- x@y < /dev/null 2> "$T/err"
expect "empty message: 65" "65" "$?"
"$BAV" deliver -f a@b --max-size 200 --spool "$S" -- x@y < "$T/b1.eml" \
	2> "$T/err"
expect "too large: 65" "65" "$?"
grep -q "larger than 200 bytes" "$T/err" && ok "size message" ||
	fail "size message: $(cat "$T/err")"
expect "still one entry" "1" "$(nfiles "$S/new")"

# bad spool directory: a file, and a missing parent
: > "$T/afile"
"$BAV" deliver -f a@b -q 4QID2 --spool "$T/afile" -- x@y < "$T/b1.eml" \
	2> "$T/err"
expect "spool is a file: 75" "75" "$?"
grep -q "^bav deliver: 4QID2: " "$T/err" && ok "stderr line with queue id" ||
	fail "stderr: $(cat "$T/err")"
"$BAV" deliver -f a@b --spool "$T/no/such/dir" -- x@y < "$T/b1.eml" \
	2>/dev/null
expect "missing parent: 75" "75" "$?"

# file size limit: the write fails (EFBIG), nothing is left behind
i=0
while [ $i -lt 200 ]; do echo "padding line $i of the body of this bounce"; \
	i=$((i + 1)); done > "$T/pad"
cat "$T/b1.eml" "$T/pad" > "$T/big.eml"
S2=$T/spool2
mkdir -p "$S2"
"$BAV" deliver -f a@b --spool "$S2" -- x@y < /dev/null 2>/dev/null
(ulimit -f 4; "$BAV" deliver -f a@b -q 4QID3 --spool "$S2" -- x@y \
	< "$T/big.eml" 2> "$T/err")
expect "ulimit -f: 75" "75" "$?"
grep -q "File too large" "$T/err" && ok "EFBIG reported" ||
	fail "EFBIG: $(cat "$T/err")"
expect "ulimit -f: nothing in new/" "0" "$(nfiles "$S2/new")"
expect "ulimit -f: nothing in tmp/" "0" "$(nfiles "$S2/tmp")"

# a full file system (tmpfs of 64 KiB; root only)
mounted=no
cleanup_hook() { [ $mounted = yes ] && umount "$T/full"; }
if [ "$(id -u)" = 0 ] && mkdir -p "$T/full" &&
   mount -t tmpfs -o size=64k tmpfs "$T/full" 2>/dev/null; then
	mounted=yes
	cat "$T/b1.eml" "$T/pad" "$T/pad" > "$T/huge.eml"	# ~20 KB
	n=0 rc=0
	while [ $n -lt 20 ]; do
		"$BAV" deliver -f a@b -q 4QFULL --spool "$T/full/s" -- x@y \
			< "$T/huge.eml" 2> "$T/err"
		rc=$?
		[ $rc = 0 ] || break
		n=$((n + 1))
	done
	expect "disk full: 75" "75" "$rc"
	grep -q "No space left on device" "$T/err" && ok "ENOSPC reported" ||
		fail "ENOSPC: $(cat "$T/err")"
	[ $n -ge 1 ] && ok "disk full after $n entries" ||
		fail "disk full at once"
	expect "disk full: $n complete entries" "$n" "$(nfiles "$T/full/s/new")"
	expect "disk full: nothing in tmp/" "0" "$(nfiles "$T/full/s/tmp")"
	umount "$T/full" && mounted=no
else
	echo "skip: tmpfs disk-full case (needs root and mount)"
fi

# --store: recorded at once, archived; the same message again counts once
S3=$T/spool3
for q in A B; do
	"$BAV" deliver -f "" -q 4Q$q --spool "$S3" --store "sqlite:$T/db" \
		-- bounces@mailloop.example.com < "$T/b1.eml"
	expect "--store $q: 0" "0" "$?"
done
expect "--store: nothing left in new/" "0" "$(nfiles "$S3/new")"
expect "--store: two archived in cur/" "2" "$(nfiles "$S3/cur")"
expect "--store: one message recorded" "1" \
	"$(count "$T/db" 'SELECT COUNT(*) FROM bav_messages')"
expect "--store: one event" "1" \
	"$(count "$T/db" 'SELECT COUNT(*) FROM bav_events')"
# the store unusable: still spooled, still 0
"$BAV" deliver -f "" --spool "$S3" --store "sqlite:$T/no/dir/db" \
	-- x@y < "$T/b1.eml" 2>/dev/null
expect "--store unusable: still 0" "0" "$?"
expect "--store unusable: left in new/" "1" "$(nfiles "$S3/new")"

[ $fails -eq 0 ] || exit 1
exit 0
