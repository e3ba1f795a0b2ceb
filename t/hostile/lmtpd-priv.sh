#!/bin/sh
# SPDX-License-Identifier: MIT
# NAME
#	t/hostile/lmtpd-priv.sh - bav lmtpd and bav recorder -u, lmtpd socket mode
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/hostile/lmtpd-priv.sh
# DESCRIPTION
#	As root, starts bav lmtpd -u nobody:nogroup and checks in
#	/proc/PID/status that every uid and gid is nobody's / nogroup's,
#	that no supplementary group and no capability is left, that the
#	socket is srw-rw---- (the default -M) owned by nobody:nogroup, and
#	that a message delivered over LMTP is spooled by nobody. -M 0666
#	and -G (a group other than the -u one) are honoured; without -u
#	the socket is still 0660 (it was 0666). bav recorder --once -u
#	nobody records that entry into a new SQLite store, which is then
#	owned by nobody (mode 0640); an unknown -u user is fatal for both.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (not root, no user nobody).
. "${top_srcdir:-.}/t/hostile/common.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
uid=$(id -u nobody 2>/dev/null) || { echo "SKIP: no user nobody"; exit 77; }
gid=$(getent group nogroup | cut -d: -f3)
[ -n "$gid" ] || { echo "SKIP: no group nogroup"; exit 77; }
other=$(getent group daemon | cut -d: -f1)

pids=
cleanup_hook() {
	for p in $pids; do kill "$p" 2>/dev/null && wait "$p"; done
}
field() { sed -n "s/^$1:[[:space:]]*//p" "/proc/$2/status" | tr -s ' \t' ' ' | sed 's/ $//'; }
# start NAME ARGS...: bav lmtpd on $T/NAME.sock, sets $pid
start() {
	name=$1
	shift
	"$BAV" lmtpd -s "unix:$T/$name.sock" -t 1 --spool "$T/sp" --quiet \
		"$@" 2> "$T/$name.err" &
	pid=$!
	pids="$pids $pid"
	i=0
	while [ ! -S "$T/$name.sock" ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	[ -S "$T/$name.sock" ] || fail "$name: lmtpd did not start: $(cat "$T/$name.err")"
	sleep 0.2
}
stop() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
sockls() { ls -l "$T/$1.sock" | awk '{ print $1, $3, $4 }'; }

mkdir -p "$T/sp" && chown nobody:nogroup "$T/sp"
start priv -u nobody:nogroup --pid-file "$T/priv.pid"
expect "lmtpd -u: Uid" "$uid $uid $uid $uid" "$(field Uid $pid)"
expect "lmtpd -u: Gid" "$gid $gid $gid $gid" "$(field Gid $pid)"
expect "lmtpd -u: Groups" "$gid" "$(field Groups $pid)"
expect "lmtpd -u: CapEff" 0000000000000000 "$(field CapEff $pid)"
expect "lmtpd -u: socket mode and owner" "srw-rw---- nobody nogroup" \
	"$(sockls priv)"
python3 - "$T/priv.sock" > "$T/lmtp.out" 2>&1 <<'EOP'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rwb")
def cmd(line):
    if line is not None:
        f.write(line.encode() + b"\r\n"); f.flush()
    while True:
        r = f.readline().decode()
        if r[3:4] != "-":
            return r.strip()
print(cmd(None)); print(cmd("LHLO t")); print(cmd("MAIL FROM:<a@example.net>"))
print(cmd("RCPT TO:<b@example.org>")); print(cmd("DATA"))
print(cmd("From: a@example.net\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nhello\r\n."))
print(cmd("QUIT"))
EOP
grep -q "^250 2.*" "$T/lmtp.out" && [ "$(grep -c '^250' "$T/lmtp.out")" -ge 4 ] &&
	ok "lmtpd -u: message accepted" || fail "lmtpd -u: LMTP: $(cat "$T/lmtp.out")"
entry=$(ls "$T/sp/new" 2>/dev/null | head -1)
[ -n "$entry" ] && expect "lmtpd -u: spool entry owner" nobody \
	"$(stat -c %U "$T/sp/new/$entry")" || fail "lmtpd -u: nothing spooled"
stop

start mode -u nobody -M 0666 ${other:+-G "$other"}
expect "lmtpd -M 0666 -G: socket" "srw-rw-rw- nobody ${other:-nogroup}" \
	"$(sockls mode)"
stop
start plain
expect "lmtpd without -u: socket 0660" "srw-rw---- root" \
	"$(sockls plain | cut -d' ' -f1,2)"
stop
"$BAV" lmtpd -s "unix:$T/x.sock" --spool "$T/sp" -u no-such-user-bav \
	> "$T/out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "unknown user" "$T/out" &&
	ok "lmtpd -u unknown: refused (exit $rc)" ||
	fail "lmtpd -u unknown: exit $rc, $(cat "$T/out")"

# ---- bav recorder -u ------------------------------------------------------
mkdir -p "$T/db" && chown nobody:nogroup "$T/db"
(umask 022 && "$BAV" recorder --once -u nobody:nogroup --spool "$T/sp" \
	--store "sqlite:$T/db/bav.db") > "$T/rec.out" 2>&1
expect "recorder -u: exit" 0 "$?"
expect "recorder -u: store file owner and mode" "nobody -rw-r-----" \
	"$(stat -c '%U %A' "$T/db/bav.db" 2>/dev/null)"
expect "recorder -u: entry recorded" 1 \
	"$(sqlite3 "$T/db/bav.db" 'SELECT COUNT(*) FROM bav_messages' 2>&1)"
"$BAV" recorder --once -u no-such-user-bav --spool "$T/sp" \
	--store "sqlite:$T/db/bav.db" > "$T/out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "unknown user" "$T/out" &&
	ok "recorder -u unknown: refused (exit $rc)" ||
	fail "recorder -u unknown: exit $rc, $(cat "$T/out")"
finish
