#!/bin/sh
# NAME
#	t/fault/spool-full.sh - bav deliver on a full spool file system
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/fault/spool-full.sh
# DESCRIPTION
#	1. A 2 MiB tmpfs mounted below the test's temporary directory (only
#	   when mount is allowed here, else this part is skipped with a
#	   note) holds the spool. A filler file takes all the space but
#	   about 200 KiB, then $FAULT_FULL (default 12) distinct bounces of
#	   about 60 KiB each go to "bav deliver" like a pipe transport does.
#	   The first few fit; every later one must exit 75 (EX_TEMPFAIL, so
#	   that the MTA keeps the message) and leave nothing behind: tmp/
#	   stays empty, new/ does not grow. Then the filler is removed and
#	   the deferred messages are delivered again (the MTA's retry): all
#	   exit 0. Before the space is freed, bav lmtpd on the same spool
#	   must answer a 4xx to an LMTP delivery, leave nothing behind, and
#	   take the retry with 250 afterwards.
#	2. The same with a file-size limit (ulimit -f 40: 20 KiB in dash,
#	   40 KiB in bash) instead of a full disk: a 60 KiB bounce gets 75 and leaves nothing, a small one
#	   passes; without the limit the big one passes too.
#	At the end bav recorder --once moves everything into an SQLite
#	store: each message recorded exactly once. Prints "faults: ...".
#	The tmpfs is unmounted on exit, also on failure.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (sqlite3 missing).
. "${top_srcdir:-.}/t/deliver/common.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing"; exit 77; }
N=${FAULT_FULL:-12}
FS=$T/fs
mounted=no
lmtpd_pid=
cleanup_hook() {
	if [ -n "$lmtpd_pid" ]; then
		kill "$lmtpd_pid" 2>/dev/null; wait "$lmtpd_pid" 2>/dev/null
	fi
	if [ $mounted = yes ]; then
		umount "$FS" 2>/dev/null || umount -l "$FS"
		mounted=no
	fi
}
DB=$T/bav.db
injected=0

# big_bounce N: a bounce of about 60 KiB (a long text part)
big_bounce() {
	make_bounce "$1" | sed '/^This is the mail system/{
r '"$T/pad"'
}'
}
i=0
while [ $i -lt 800 ]; do
	echo "Line $i of the transcript the remote server sent back to us, kept here."
	i=$((i + 1))
done > "$T/pad"

# deliver SPOOL N [big]: one bav deliver, prints its exit status
deliver() {
	if [ "$3" = big ]; then big_bounce "$2"; else make_bounce "$2"; fi |
		"$BAV" deliver -f "" -q "Q$2" --spool "$1" \
			-- bounces@mailloop.example.com 2>> "$T/deliver.err"
	echo $?
}

# ---- 1. a full file system ---------------------------------------------------
mkdir -p "$FS"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=2m,mode=0755 tmpfs "$FS" \
	2>/dev/null; then
	mounted=yes
	S=$FS/spool
	mkdir -p "$S/tmp" "$S/new" "$S/cur" "$S/bad"
	dd if=/dev/zero of="$FS/filler" bs=4k 2>/dev/null
	truncate -s -200K "$FS/filler"
	spooled= deferred=
	i=1
	while [ $i -le $N ]; do
		before=$(nfiles "$S/new")
		rc=$(deliver "$S" $i big)
		case $rc in
		0) spooled="$spooled $i"
		   expect "full disk: message $i spooled" "$((before + 1))" "$(nfiles "$S/new")" ;;
		75) deferred="$deferred $i"; injected=$((injected + 1))
		   expect "full disk: message $i: no partial entry in tmp/" "0" "$(nfiles "$S/tmp")"
		   expect "full disk: message $i: new/ unchanged" "$before" "$(nfiles "$S/new")" ;;
		*) fail "full disk: message $i: exit $rc (want 0 or 75)" ;;
		esac
		i=$((i + 1))
	done
	ns=$(echo $spooled | wc -w); nd=$(echo $deferred | wc -w)
	[ "$ns" -gt 0 ] && [ "$nd" -gt 0 ] &&
		ok "full disk: $ns spooled, then $nd deferred with 75" ||
		fail "full disk: want some spooled and some deferred, got $ns and $nd"
	grep -q "No space left on device" "$T/deliver.err" &&
		ok "full disk: ENOSPC reported to the MTA" ||
		fail "full disk: no 'No space left on device' on stderr"
	# bav lmtpd on the same full spool: a 4xx for the recipient
	"$BAV" lmtpd -s "unix:$T/lmtp.sock" -t 1 --spool "$S" --quiet \
		2> "$T/lmtpd.err" &
	lmtpd_pid=$!
	i=0
	while [ ! -S "$T/lmtp.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	before=$(nfiles "$S/new")
	big_bounce 500 > "$T/lmtp.eml"
	lmtp_send() {
		python3 -c 'import smtplib, sys
c = smtplib.LMTP(sys.argv[1])
try:
    c.sendmail("", ["bounces@mailloop.example.com"], open(sys.argv[2], "rb").read())
    print(250)
except smtplib.SMTPRecipientsRefused as e:
    print(list(e.recipients.values())[0][0])
except smtplib.SMTPDataError as e:
    print(e.smtp_code)
c.quit()' "$T/lmtp.sock" "$T/lmtp.eml" 2>&1
	}
	code=$(lmtp_send)
	case $code in
	4??) ok "full disk: bav lmtpd answered $code"; injected=$((injected + 1)) ;;
	*) fail "full disk: bav lmtpd answered '$code', want 4xx" ;;
	esac
	expect "full disk: lmtpd left no partial entry" "0 $before" \
		"$(nfiles "$S/tmp") $(nfiles "$S/new")"
	rm -f "$FS/filler"
	expect "space freed: lmtpd accepts the retry" "250" "$(lmtp_send)"
	kill "$lmtpd_pid"; wait "$lmtpd_pid"; lmtpd_pid=
	N=$((N + 1))
	for i in $deferred; do
		expect "space freed: message $i delivered on retry" "0" "$(deliver "$S" $i big)"
	done
	expect "space freed: every message spooled once" "$N" "$(nfiles "$S/new")"
	"$BAV" recorder --once --spool "$S" --store "sqlite:$DB" --keep-days 0 \
		--quiet 2> "$T/recorder.err"
	expect "full disk: recorder --once" "0" "$?"
	expect "full disk: spool drained" "0" "$(nfiles "$S/new")"
	expect "full disk: $N messages recorded" "$N" "$(count "$DB" 'SELECT COUNT(*) FROM bav_messages')"
	umount "$FS" && mounted=no
else
	N=0
	echo "note: cannot mount a tmpfs here; only the file-size limit is tested"
fi

# ---- 2. a file-size limit ------------------------------------------------------
S=$T/spool2
mkdir -p "$S/tmp" "$S/new" "$S/cur" "$S/bad"
big=$((N + 1)) small=$((N + 2))
rc=$(ulimit -f 40; deliver "$S" $big big)
expect "file-size limit: a big message gets 75" "75" "$rc"
[ "$rc" = 75 ] && injected=$((injected + 1))
expect "file-size limit: no partial entry" "0 0" "$(nfiles "$S/tmp") $(nfiles "$S/new")"
rc=$(ulimit -f 40; deliver "$S" $small)
expect "file-size limit: a small message passes" "0" "$rc"
expect "no limit: the big one passes on retry" "0" "$(deliver "$S" $big big)"
"$BAV" recorder --once --spool "$S" --store "sqlite:$DB" --keep-days 0 \
	--quiet 2>> "$T/recorder.err"
expect "file-size limit: recorder --once" "0" "$?"

# ---- the store -------------------------------------------------------------
total=$((N + 2))
expect "$total messages recorded in all" "$total" "$(count "$DB" 'SELECT COUNT(*) FROM bav_messages')"
expect "$total events" "$total" "$(count "$DB" 'SELECT COUNT(*) FROM bav_events')"
expect "no recipient twice" "" "$(count "$DB" 'SELECT recipient FROM bav_events GROUP BY recipient HAVING COUNT(*) > 1')"
if [ $fails -ne 0 ]; then
	echo "--- deliver"; tail -20 "$T/deliver.err"
	echo "--- recorder"; tail -20 "$T/recorder.err"
fi
echo "faults: spool-full: $injected deliveries refused with 75 or LMTP 4xx (disk full or file-size limit), survived: $([ $fails -eq 0 ] && echo yes || echo no)"
[ $fails -eq 0 ] || exit 1
exit 0
