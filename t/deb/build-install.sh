#!/bin/bash
# NAME
#	t/deb/build-install.sh - build the Debian packages, install them, run
#	the units' commands as the packaged user, purge them again
# SYNOPSIS
#	bash t/deb/build-install.sh
# DESCRIPTION
#	Copies the source tree (git: tracked and untracked-not-ignored files
#	of the work tree; else everything but build/) into a scratch
#	directory and runs dpkg-buildpackage -us -uc -b there with
#	DEB_BUILD_OPTIONS="nocheck noddebs parallel=$JOBS" (the test suites
#	run elsewhere). Installs the .debs with apt-get, then checks:
#	  - the system user and group "bav", /var/lib/bav and /var/spool/bav
#	    owned by it, /etc/bav/bav.conf and /etc/logrotate.d/bav
#	    conffiles, /var/lib/bav/bav.conf reaching the first;
#	  - the four units installed; bav-milter, bav-policyd and
#	    bav-recorder enabled (the wants/ links deb-systemd-helper makes,
#	    also without a running systemd), bav-lmtpd not, none started;
#	  - every unit's commands run as the unit's User, Group,
#	    SupplementaryGroups and Environment (runuser, no systemd), as
#	    parsed from the installed unit file: bav-milter's ExecStartPre
#	    (the -n table check) and ExecStart, bav lmtpd's and bav
#	    recorder's ExecStart, bav-policyd's ExecStart; the sockets appear
#	    below RuntimeDirectory (/run/bav, or a scratch directory when
#	    /run/bav exists already);
#	  - end to end through the installed programs into the installed
#	    store: one DSN through the pipe transport (bav deliver as user
#	    bav) and one over LMTP to the unit's bav lmtpd, both recorded by
#	    the unit's running bav recorder into sqlite:/var/lib/bav/bav.db;
#	    bav show reports both recipients bounced, the installed
#	    "bav check" sees the spool drained and milter, lmtpd and store
#	    answering (and, below, bav-policyd refusing the bounced address);
#	  - each unit's ExecReload (SIGHUP to $MAINPID): the daemon stays up
#	    and logs its reload (bav-milter: table, bav recorder: store);
#	  - bav-policyd's socket replaced by inet:PORT@127.0.0.1: the bounced
#	    recipient gets REJECT (suppressed), an address of the example
#	    table DUNNO.
#	Finally (also on failure or interruption: trap) it stops what it
#	started, purges the packages (apt-get purge, waiting up to 5 minutes
#	for the dpkg lock), removes the user "bav" when it did not
#	exist before, and checks that /etc/bav, /var/lib/bav, /var/spool/bav,
#	/etc/logrotate.d/bav and the wants/ links are gone.
#
#	Refuses to touch a machine where any of the packages is installed
#	already (exit 77). Needs root, dpkg-buildpackage, debhelper and the
#	build dependencies of debian/control (build-aux/deps.sh --test).
# ENVIRONMENT
#	JOBS (default nproc), KEEP=1 keeps the scratch directory.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip. Prints "ok"/"FAIL" lines; the build
#	log is printed (last 60 lines) when the build fails.
set -u
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
PKGS="libbav0 libbav-dev bav bav-milter bav-policyd dovecot-bav"

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
[ -d "$srcdir/debian" ] || skip "no debian/ in $srcdir"
command -v dpkg-buildpackage >/dev/null || skip "no dpkg-buildpackage"
command -v dh >/dev/null || skip "no debhelper"
command -v runuser >/dev/null || skip "no runuser"
for p in $PKGS; do
	if dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'installed$'; then
		skip "package $p is installed already; not touching it"
	fi
done
(cd "$srcdir" && dpkg-checkbuilddeps) || skip "build dependencies missing"

fails=0
ok() { echo "ok: $1"; }
fail() { echo "FAIL: $1"; fails=$((fails + 1)); }
expect() {	# label want got
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: want '$2', got '$3'"; fi
}

T=$(mktemp -d /tmp/bav-deb.XXXXXX) || exit 1
chmod 0755 "$T"
user_existed=no
getent passwd bav >/dev/null && user_existed=yes
installed=no
pids=
run_made=no
cleaned=no
cleanup() {
	[ $cleaned = yes ] && return
	cleaned=yes
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	if [ $run_made = yes ]; then rm -rf /run/bav; fi
	if [ $installed = yes ]; then
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q \
			-o DPkg::Lock::Timeout=300 $PKGS \
			> "$T/purge.log" 2>&1 || { cat "$T/purge.log"; fail "apt-get purge"; }
	fi
	if [ $user_existed = no ] && getent passwd bav >/dev/null; then
		userdel bav 2>/dev/null
		getent group bav >/dev/null && groupdel bav 2>/dev/null
	fi
	if [ "${KEEP:-}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap 'cleanup' EXIT
trap 'exit 1' INT TERM HUP

# ---- build ------------------------------------------------------------------
mkdir "$T/src"
if [ -d "$srcdir/.git" ] && command -v git >/dev/null; then
	(cd "$srcdir" && git ls-files -co --exclude-standard -z |
		tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -C "$T/src" -xf -
else
	(cd "$srcdir" && tar --exclude=./build --exclude=./autom4te.cache \
		-cf - .) | tar -C "$T/src" -xf -
fi || { fail "copying the tree"; exit 1; }
start=$(date +%s)
if (cd "$T/src" && DEB_BUILD_OPTIONS="nocheck noddebs parallel=$JOBS" \
	dpkg-buildpackage -us -uc -b) > "$T/build.log" 2>&1; then
	ok "dpkg-buildpackage ($(( $(date +%s) - start ))s)"
else
	tail -n 60 "$T/build.log"
	fail "dpkg-buildpackage"
	exit 1
fi
debs=
for p in $PKGS; do
	f=$(ls "$T/${p}_"*.deb 2>/dev/null | head -n 1)
	[ -n "$f" ] || { fail "no package $p built"; continue; }
	debs="$debs $f"
done

# ---- install ----------------------------------------------------------------
installed=yes	# from here on cleanup purges, even after a partial install
# shellcheck disable=SC2086
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	-o DPkg::Lock::Timeout=300 $debs > "$T/install.log" 2>&1; then
	ok "apt-get install"
else
	tail -n 30 "$T/install.log"
	fail "apt-get install"
	exit 1
fi

# ---- user, directories, conffiles ---------------------------------------------
getent passwd bav >/dev/null && ok "user bav exists" || fail "no user bav"
expect "bav is a system user" yes \
	"$([ "$(id -u bav)" -lt 1000 ] && echo yes || echo no)"
expect "primary group of bav" bav "$(id -gn bav 2>/dev/null)"
for d in /var/lib/bav /var/spool/bav; do
	expect "owner of $d" bav:bav "$(stat -c %U:%G "$d" 2>/dev/null)"
done
expect "/etc/bav/bav.conf is a conffile" yes \
	"$(dpkg-query -W -f='${Conffiles}\n' bav | grep -q ' /etc/bav/bav.conf ' && echo yes || echo no)"
expect "/var/lib/bav/bav.conf reaches /etc/bav/bav.conf" /etc/bav/bav.conf \
	"$(readlink -f /var/lib/bav/bav.conf)"
for f in /usr/bin/bav /usr/sbin/bav-milter /usr/sbin/bav-policyd \
	/usr/share/bav/rules/default.rules /usr/include/bav_spool.h \
	/lib/systemd/system/bav-milter.service /lib/systemd/system/bav-policyd.service \
	/lib/systemd/system/bav-recorder.service /lib/systemd/system/bav-lmtpd.service \
	/usr/share/doc/bav/examples/bav.cfg; do
	[ -e "$f" ] && ok "installed $f" || fail "missing $f"
done
ls /usr/lib/*/libbav.so.0 >/dev/null 2>&1 && ok "libbav.so.0" || fail "no libbav.so.0"
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify /lib/systemd/system/bav-*.service 2>&1)
	expect "systemd-analyze verify of the installed units ($out)" "" "$out"
fi
if command -v logrotate >/dev/null; then
	logrotate -d /etc/logrotate.d/bav > "$T/logrotate.out" 2>&1
	expect "logrotate -d /etc/logrotate.d/bav" 0 "$?"
fi
expect "/etc/logrotate.d/bav is a conffile" yes \
	"$(dpkg-query -W -f='${Conffiles}\n' bav | grep -q ' /etc/logrotate.d/bav ' && echo yes || echo no)"
wants=/etc/systemd/system/multi-user.target.wants
for u in bav-milter bav-policyd bav-recorder; do
	expect "$u enabled" yes "$([ -L "$wants/$u.service" ] && echo yes || echo no)"
done
expect "bav-lmtpd not enabled" no \
	"$([ -e "$wants/bav-lmtpd.service" ] && echo yes || echo no)"
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
	for u in bav-milter bav-policyd bav-recorder bav-lmtpd; do
		expect "$u not started" no \
			"$(systemctl -q is-active $u 2>/dev/null && echo yes || echo no)"
	done
fi

# ---- the units' commands ------------------------------------------------------
unit_cmd() {	# unit key: the command lines of key= (continuations joined)
	awk -v k="$2=" '
		cont { line = line " " $0 }
		!cont && index($0, k) == 1 { line = substr($0, length(k) + 1) }
		{ if (line != "" && sub(/\\$/, "", line)) { cont = 1; next }
		  cont = 0; if (line != "") print line; line = "" }' \
		"/lib/systemd/system/$1.service" | sed 's/^[-+@!]*//; s/[ \t][ \t]*/ /g'
}
unit_key() {	# unit key: the value of the first key= line
	sed -n "s/^$2=//p" "/lib/systemd/system/$1.service" | head -n 1
}
as_unit() {	# unit command...: run as the unit's User, Group,
	# SupplementaryGroups (those that exist here), UMask and Environment
	local u g e envs=() sg=()
	u=$(unit_key "$1" User); g=$(unit_key "$1" Group)
	getent group "${g:-bav}" >/dev/null || g=bav
	for e in $(unit_key "$1" SupplementaryGroups); do
		getent group "$e" >/dev/null && sg+=(-G "$e")
	done
	while IFS= read -r e; do
		[ -n "$e" ] && envs+=("$e")
	done < <(sed -n 's/^Environment=//p' "/lib/systemd/system/$1.service")
	e=$(unit_key "$1" UMask)
	[ -n "$e" ] && umask "$e"
	shift
	exec runuser -u "${u:-root}" -g "${g:-bav}" "${sg[@]}" -- \
		env "${envs[@]}" "$@"
}
main_pid() {	# pid of runuser: the daemon's pid (runuser's child)
	pgrep -P "$1" -n 2>/dev/null || echo "$1"
}
reload_unit() {	# unit pid: ExecReload with $MAINPID, the daemon stays up
	local cmd mp
	mp=$(main_pid "$2")
	cmd=$(unit_cmd "$1" ExecReload | sed 's/\$MAINPID/'"$mp"'/')
	# shellcheck disable=SC2086
	$cmd
	expect "$1 ExecReload ($cmd)" 0 "$?"
	sleep 0.5
	kill -0 "$mp" 2>/dev/null && ok "$1 still running after reload" ||
		fail "$1 died on reload"
}
wait_for() {	# seconds test-args...
	local n=$(( $1 * 10 ))
	shift
	while [ $n -gt 0 ]; do
		test "$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# bav-milter: RuntimeDirectory=bav as systemd would make it
run=/run/bav
if [ -e /run/bav ]; then
	run=$T/run
else
	run_made=yes
fi
mkdir -p "$run"
chown "bav:$(getent group "$(unit_key bav-milter Group)" >/dev/null &&
	unit_key bav-milter Group || echo bav)" "$run"
chmod 0750 "$run"
while read -r cmd; do
	# shellcheck disable=SC2086
	(as_unit bav-milter $cmd) > "$T/milter-pre.out" 2>&1
	expect "bav-milter ExecStartPre ($cmd)" 0 "$?"
done < <(unit_cmd bav-milter ExecStartPre)
cmd=$(unit_cmd bav-milter ExecStart | sed "s|/run/bav|$run|g")
# shellcheck disable=SC2086
as_unit bav-milter $cmd > "$T/milter.out" 2>&1 &
mpid=$!
pids="$pids $mpid"
if wait_for 10 -S "$run/bav-milter.sock"; then
	ok "bav-milter (ExecStart) listens on $run/bav-milter.sock"
	expect "bav-milter runs as bav" bav \
		"$(ps -o user= -p "$(pgrep -P "$mpid" -n -x bav-milter 2>/dev/null || echo "$mpid")" 2>/dev/null | tr -d ' ')"
else
	cat "$T/milter.out"
	fail "bav-milter socket $run/bav-milter.sock"
fi

# bav lmtpd and bav recorder: the units' ExecStart lines
cmd=$(unit_cmd bav-lmtpd ExecStart | sed "s|/run/bav|$run|g")
# shellcheck disable=SC2086
as_unit bav-lmtpd $cmd > "$T/lmtpd.out" 2>&1 &
lpid=$!
pids="$pids $lpid"
if wait_for 10 -S "$run/lmtp.sock"; then
	ok "bav lmtpd (ExecStart) listens on $run/lmtp.sock"
	expect "bav lmtpd socket group" postfix "$(stat -c %G "$run/lmtp.sock")"
else
	cat "$T/lmtpd.out"
	fail "bav lmtpd socket $run/lmtp.sock"
fi
cmd=$(unit_cmd bav-recorder ExecStart)
# shellcheck disable=SC2086
as_unit bav-recorder $cmd > "$T/recorder.out" 2>&1 &
rpid=$!
pids="$pids $rpid"

# ---- end to end: pipe transport and LMTP, recorded by the unit's recorder -------
store=sqlite:/var/lib/bav/bav.db
eml=$srcdir/contrib/examples/dsn-userunknown.eml
runuser -u bav -- /usr/bin/bav deliver -f "" -q DEBTEST1 \
	-- bounces@mailloop.example.invalid < "$eml" > "$T/deliver.out" 2>&1
expect "bav deliver (pipe transport) as bav" 0 "$?"
if command -v python3 >/dev/null; then
	python3 - "$run/lmtp.sock" "$srcdir/contrib/examples/sendmail-01.eml" \
		> "$T/lmtp.out" 2>&1 <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(sys.argv[1])
f = s.makefile("rb")
def reply():
    while True:
        line = f.readline().decode()
        print(line.rstrip())
        if len(line) < 4 or line[3] != "-":
            return line[:3]
msg = open(sys.argv[2], "rb").read().replace(b"\r\n", b"\n")
body = b"\r\n".join((b"." + l if l.startswith(b".") else l)
                     for l in msg.split(b"\n"))
want = [("", "220"), ("LHLO deb.test", "250"), ("MAIL FROM:<>", "250"),
        ("RCPT TO:<bounces@mailloop.example.invalid>", "250"),
        ("DATA", "354")]
for cmd, code in want:
    if cmd:
        s.sendall(cmd.encode() + b"\r\n")
    if reply() != code:
        sys.exit(1)
s.sendall(body + b"\r\n.\r\n")
if reply() != "250":
    sys.exit(1)
s.sendall(b"QUIT\r\n"); reply()
PY
	expect "LMTP delivery to the unit's bav lmtpd" 0 "$?"
	n_want=2
else
	echo "skip: no python3 for the LMTP client"
	n_want=1
fi
got=0
for _ in $(seq 100); do
	got=$(runuser -u bav -- /usr/bin/bav check spool --spool /var/spool/bav \
		-w 0 -c 1000 >/dev/null 2>&1 && echo 0 || echo 1)
	[ "$got" = 0 ] && break
	sleep 0.1
done
expect "the unit's bav recorder drained /var/spool/bav" 0 "$got"
expect "store owned by bav" bav "$(stat -c %U /var/lib/bav/bav.db 2>/dev/null)"
expect "store: $n_want messages recorded" "$n_want" \
	"$(runuser -u bav -- /usr/bin/bav check bounces --store "$store" -w 1000 |
		sed -n 's/.* messages=\([0-9]*\);.*/\1/p')"
for a in nobody@example.net hans.wagner@example.org; do
	[ $n_want = 1 ] && [ $a = hans.wagner@example.org ] && continue
	runuser -u bav -- /usr/bin/bav show --store "$store" "$a" > "$T/show.out" 2>&1
	expect "bav show $a" 0 "$?"
	grep -q '^state: *bounced' "$T/show.out" && ok "bav show: $a bounced" ||
		{ cat "$T/show.out"; fail "bav show: $a state bounced"; }
done
# the installed bav check against the running units
for c in "milter -s unix:$run/bav-milter.sock" "lmtpd -s unix:$run/lmtp.sock" \
	"store --store $store" "spool --spool /var/spool/bav"; do
	# shellcheck disable=SC2086
	out=$(runuser -u bav -g postfix -G bav -- /usr/bin/bav check $c 2>&1)
	case $out in
	"BAV "*" OK - "*) ok "bav check $c: $out" ;;
	*) fail "bav check $c: $out" ;;
	esac
done
# systemctl reload: ExecReload (SIGHUP)
reload_unit bav-milter "$mpid"
grep -q 'SIGHUP: reloading' "$T/milter.out" && ok "bav-milter logged the reload" ||
	{ cat "$T/milter.out"; fail "bav-milter: no reload line"; }
reload_unit bav-lmtpd "$lpid"
reload_unit bav-recorder "$rpid"
grep -q 'SIGHUP: reopening the store' "$T/recorder.out" &&
	ok "bav recorder logged the reload" ||
	{ cat "$T/recorder.out"; fail "bav recorder: no reload line"; }
for p in $mpid $lpid $rpid; do
	for c in $(pgrep -P "$p" 2>/dev/null) "$p"; do kill "$c" 2>/dev/null; done
	wait "$p" 2>/dev/null
done
expect "bav lmtpd removed its socket" no "$([ -e "$run/lmtp.sock" ] && echo yes || echo no)"
# the MariaDB store module from pkglibdir: port 1 refuses the connection
# (exit 75), a module that is missing or not loadable is exit 78
out=$(env -u BAV_MODULE_DIR /usr/bin/bav store init \
	--store mariadb://bav@127.0.0.1:1/bav 2>&1)
rc=$?
expect "bav loads $(dpkg -L bav | grep '/store_mariadb\.so$') ($out)" 75 "$rc"

# ---- bav-policyd on a loopback socket -------------------------------------------
port=
if command -v python3 >/dev/null; then
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
port=${port:-$((20000 + $$ % 20000))}
cmd=$(unit_cmd bav-policyd ExecStart |
	sed "s|-s [^ ]*|-s inet:$port@127.0.0.1|")
# shellcheck disable=SC2086
as_unit bav-policyd $cmd > "$T/policyd.out" 2>&1 &
ppid_=$!
pids="$pids $ppid_"
ask() {	# recipient: one policy request, prints the action
	local reply=
	exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
	printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nsender=\nrecipient=%s\nclient_address=192.0.2.10\nclient_name=mx.remote.example\n\n' "$1" >&3
	IFS= read -r -t 10 reply <&3
	exec 3>&-
	printf '%s\n' "$reply"
}
up=no
for _ in $(seq 50); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=yes; break; fi
	kill -0 "$ppid_" 2>/dev/null || break
	sleep 0.1
done
if [ $up = yes ]; then
	ok "bav-policyd (ExecStart) listens on 127.0.0.1:$port"
	r=$(ask nobody@example.net)
	case $r in
	action=REJECT*) ok "policyd: bounced recipient refused ($r)" ;;
	*) fail "policyd: bounced recipient: got '$r'" ;;
	esac
	expect "policyd: table address" action=DUNNO "$(ask x@mailloop.example.invalid)"
	out=$(runuser -u bav -- /usr/bin/bav check policyd -s "inet:$port@127.0.0.1" \
		--address nobody@example.net --expect REJECT 2>&1)
	case $out in
	"BAV POLICYD OK - "*) ok "bav check policyd: $out" ;;
	*) fail "bav check policyd: $out" ;;
	esac
else
	cat "$T/policyd.out"
	fail "bav-policyd did not listen on 127.0.0.1:$port"
fi
for p in $(pgrep -P "$ppid_" 2>/dev/null) "$ppid_"; do kill "$p" 2>/dev/null; done
wait "$ppid_" 2>/dev/null

# ---- purge: the machine as it was ---------------------------------------------
cleanup
for d in /etc/bav /var/lib/bav /var/spool/bav /usr/bin/bav /run/bav \
	/etc/logrotate.d/bav "$wants/bav-milter.service" \
	"$wants/bav-policyd.service" "$wants/bav-recorder.service"; do
	if [ "$d" = /run/bav ] && [ $run_made = no ]; then continue; fi
	{ [ -e "$d" ] || [ -L "$d" ]; } && fail "$d left after purge" ||
		ok "$d gone after purge"
done
left=$(find /var/lib/systemd/deb-systemd-helper-enabled \
	/var/lib/systemd/deb-systemd-helper-masked /etc/systemd/system \
	-name 'bav*' 2>/dev/null)
expect "no unit state left after purge" "" "$left"
if [ $user_existed = no ]; then
	getent passwd bav >/dev/null && fail "user bav left" || ok "user bav removed"
fi
if [ $fails -ne 0 ]; then
	echo "$fails failed"
	exit 1
fi
echo "all passed"
exit 0
