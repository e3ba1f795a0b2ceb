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
#	    owned by it, /etc/bav/bav.conf a conffile, /var/lib/bav/bav.conf
#	    reaching it;
#	  - bav-milter.service: ExecStartPre (the -n table check) and
#	    ExecStart run as the unit's User/Group (runuser, no systemd); the
#	    milter socket appears below RuntimeDirectory (/run/bav, or a
#	    scratch directory when /run/bav exists already);
#	  - one delivery end to end, as user bav: bav deliver a DSN into
#	    /var/spool/bav, bav recorder --once into sqlite:/var/lib/bav/bav.db,
#	    bav show reports the recipient as bounced;
#	  - bav-policyd.service's ExecStart as the unit's User/Group, its
#	    socket replaced by inet:PORT@127.0.0.1: the bounced recipient gets
#	    REJECT (suppressed), an address of the example table DUNNO.
#	Finally (also on failure or interruption: trap) it stops what it
#	started, purges the packages (apt-get purge, waiting up to 5 minutes
#	for the dpkg lock), removes the user "bav" when it did not
#	exist before, and checks that /etc/bav, /var/lib/bav, /var/spool/bav
#	are gone.
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
	/lib/systemd/system/bav-milter.service /lib/systemd/system/bav-policyd.service; do
	[ -e "$f" ] && ok "installed $f" || fail "missing $f"
done
ls /usr/lib/*/libbav.so.0 >/dev/null 2>&1 && ok "libbav.so.0" || fail "no libbav.so.0"
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
	for u in bav-milter bav-policyd; do
		expect "$u not enabled" no \
			"$(systemctl -q is-enabled $u 2>/dev/null && echo yes || echo no)"
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
as_unit() {	# unit command...: run as the unit's User and Group
	local u g
	u=$(unit_key "$1" User); g=$(unit_key "$1" Group)
	shift
	getent group "${g:-bav}" >/dev/null || g=bav
	exec runuser -u "${u:-root}" -g "${g:-bav}" -- "$@"
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
for p in $(pgrep -P "$mpid" 2>/dev/null) "$mpid"; do kill "$p" 2>/dev/null; done
wait "$mpid" 2>/dev/null

# ---- one delivery end to end ----------------------------------------------------
eml=$srcdir/contrib/examples/dsn-userunknown.eml
runuser -u bav -- /usr/bin/bav deliver -f "" -q DEBTEST1 \
	-- bounces@mailloop.example.invalid < "$eml" > "$T/deliver.out" 2>&1
expect "bav deliver as bav" 0 "$?"
expect "spooled into /var/spool/bav/new" 1 \
	"$(find /var/spool/bav/new -type f -user bav | wc -l)"
runuser -u bav -- /usr/bin/bav recorder --once \
	--store sqlite:/var/lib/bav/bav.db > "$T/recorder.out" 2>&1
expect "bav recorder --once as bav" 0 "$?"
grep -q '1 recorded' "$T/recorder.out" && ok "recorder: 1 recorded" ||
	{ cat "$T/recorder.out"; fail "recorder: 1 recorded"; }
expect "store owned by bav" bav "$(stat -c %U /var/lib/bav/bav.db 2>/dev/null)"
runuser -u bav -- /usr/bin/bav show --store sqlite:/var/lib/bav/bav.db \
	nobody@example.net > "$T/show.out" 2>&1
expect "bav show" 0 "$?"
grep -q '^state: *bounced' "$T/show.out" && ok "bav show: bounced" ||
	{ cat "$T/show.out"; fail "bav show: state bounced"; }
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
else
	cat "$T/policyd.out"
	fail "bav-policyd did not listen on 127.0.0.1:$port"
fi
for p in $(pgrep -P "$ppid_" 2>/dev/null) "$ppid_"; do kill "$p" 2>/dev/null; done
wait "$ppid_" 2>/dev/null

# ---- purge: the machine as it was ---------------------------------------------
cleanup
for d in /etc/bav /var/lib/bav /var/spool/bav /usr/bin/bav /run/bav; do
	if [ "$d" = /run/bav ] && [ $run_made = no ]; then continue; fi
	[ -e "$d" ] && fail "$d left after purge" || ok "$d gone after purge"
done
if [ $user_existed = no ]; then
	getent passwd bav >/dev/null && fail "user bav left" || ok "user bav removed"
fi
if [ $fails -ne 0 ]; then
	echo "$fails failed"
	exit 1
fi
echo "all passed"
exit 0
