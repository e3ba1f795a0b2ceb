#!/bin/sh
# SPDX-License-Identifier: MIT
# NAME
#	t/hostile/privdrop.sh - privilege drop, socket, pid file and spool modes
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/hostile/privdrop.sh
# DESCRIPTION
#	As root, starts bav-milter and bav-policyd with -u nobody:nogroup
#	-M 0660 -p PIDFILE and checks in /proc/PID/status that every uid
#	and gid (real, effective, saved, filesystem) is nobody's / nogroup's,
#	that no supplementary group and no capability is left, that the
#	socket is srw-rw---- and owned by nobody, and that the pid file
#	holds the pid. A pid file that is a symlink (planted by a former
#	unprivileged daemon) must make the daemon refuse to start and leave
#	the link's target untouched. bav deliver creates its spool
#	directories 0700 and its entries 0600 whatever the umask, and bav
#	lmtpd's pid file is not written through a symlink either.
#	See doc/security.md for what is not tested here.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (not root, no user nobody).
. "${top_srcdir:-.}/t/hostile/common.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
uid=$(id -u nobody 2>/dev/null) || { echo "SKIP: no user nobody"; exit 77; }
gid=$(getent group nogroup | cut -d: -f3)
[ -n "$gid" ] || { echo "SKIP: no group nogroup"; exit 77; }

pids=
cleanup_hook() {
	for p in $pids; do kill "$p" 2>/dev/null && wait "$p"; done
}
# field NAME PID: the values of a /proc/PID/status line
field() { sed -n "s/^$1:[[:space:]]*//p" "/proc/$2/status" | tr -s ' \t' ' ' | sed 's/ $//'; }

# check_daemon NAME PROGRAM ARGS...
check_daemon() {
	name=$1 prog=$2
	shift 2
	[ -x "$prog" ] || { echo "skip: $name not built"; return; }
	sock=$T/$name.sock
	"$prog" -s "unix:$sock" -u nobody:nogroup -M 0660 -p "$T/$name.pid" \
		"$@" 2> "$T/$name.err" &
	pid=$!
	pids="$pids $pid"
	i=0
	while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -S "$sock" ] || { fail "$name did not start: $(cat "$T/$name.err")"; return; }
	sleep 0.2
	expect "$name: Uid" "$uid $uid $uid $uid" "$(field Uid $pid)"
	expect "$name: Gid" "$gid $gid $gid $gid" "$(field Gid $pid)"
	expect "$name: Groups" "$gid" "$(field Groups $pid)"
	expect "$name: CapEff" 0000000000000000 "$(field CapEff $pid)"
	expect "$name: CapPrm" 0000000000000000 "$(field CapPrm $pid)"
	expect "$name: socket mode and owner" "srw-rw---- nobody" \
		"$(ls -l "$sock" | awk '{ print $1, $3 }')"
	expect "$name: pid file" "$pid" "$(cat "$T/$name.pid" 2>/dev/null)"
	kill "$pid"; wait "$pid" 2>/dev/null

	# a symlinked pid file: refused, the target untouched
	echo "precious" > "$T/victim"
	ln -sf "$T/victim" "$T/$name.link.pid"
	timeout 10 "$prog" -s "unix:$T/$name-2.sock" -u nobody:nogroup \
		-p "$T/$name.link.pid" "$@" 2> "$T/$name.err2" &
	pid2=$!
	pids="$pids $pid2"
	wait "$pid2"
	rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] &&
		ok "$name: symlinked pid file refused (exit $rc)" ||
		fail "$name: symlinked pid file: exit $rc"
	expect "$name: symlink target untouched" precious "$(cat "$T/victim")"
}
check_daemon milter "$BUILD/milter/bav-milter" -c "$SRC/t/milter/bav.conf"
check_daemon policyd "$BUILD/policyd/bav-policyd" -c "$SRC/t/policyd/bav.conf"

# spool modes whatever the umask
(umask 0; printf 'From: a@example.net\nSubject: x\n\nhi\n' |
	"$BAV" deliver -f a@example.net --spool "$T/spool" -- x@loop.test)
expect "spool: deliver exit" 0 "$?"
expect "spool: directory modes" "drwx------" \
	"$(ls -ld "$T/spool" "$T/spool/new" "$T/spool/tmp" | awk '{ print $1 }' | sort -u)"
expect "spool: entry mode" "-rw-------" \
	"$(ls -l "$T"/spool/new/* | awk '{ print $1 }' | sort -u)"

# bav lmtpd: its pid file is not written through a symlink either
if "$BAV" lmtpd --help 2>&1 | grep -q -- '--pid-file'; then
	echo "precious" > "$T/victim"
	ln -sf "$T/victim" "$T/lmtpd.link.pid"
	timeout 10 "$BAV" lmtpd -s "unix:$T/lmtp.sock" --spool "$T/spool" \
		--pid-file "$T/lmtpd.link.pid" 2> "$T/lmtpd.err" &
	pid2=$!
	pids="$pids $pid2"
	wait "$pid2"
	rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] &&
		ok "lmtpd: symlinked pid file refused (exit $rc)" ||
		fail "lmtpd: symlinked pid file: exit $rc"
	expect "lmtpd: symlink target untouched" precious "$(cat "$T/victim")"
fi
finish
