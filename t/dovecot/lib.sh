# NAME
#	t/dovecot/lib.sh - a private Dovecot with the bav plugin for the
#	tests in t/dovecot (sourced, not run)
# SYNOPSIS
#	. "$top_srcdir/t/dovecot/lib.sh"
#	dc_setup [EXTRA-PLUGIN-CONFIG]	# config in $T, spool in $T/spool
#					# (@T@ in it becomes $T; with
#					# DC_SIEVE_PLUGIN=sieve, Sieve is loaded)
#	dc_lda USER FROM FILE [OPT...]	# dovecot-lda as the mail uid, no daemon
#	dc_start / dc_stop		# master with LMTP on 127.0.0.1:$DC_PORT
#	dc_can_daemon			# false under ASan
#	dc_lmtp FROM RCPT[,RCPT] FILE	# one LMTP transaction (python3 smtplib)
#	dc_keywords MAILDIR-FOLDER	# "file<TAB>kw kw" per message
#	dc_check_cases HOME LABEL	# each $CASES line "msg<TAB>folder<TAB>kws":
#					# $EX/msg in HOME's folder with kws (TAP
#					# lines; a failure adds FAIL to $T/fail)
#	dc_run PROGRAM ARG...		# a Dovecot program (ASan preload)
# DESCRIPTION
#	Everything lives in a temporary directory $T (under $DC_TMPDIR,
#	default /tmp): configuration, mail
#	(maildir:~/Maildir, homes under $T/mail/USER), log, spool. The
#	mail user is uid/gid 5000 when run as root (dovecot-lda and the
#	Sieve tools refuse root), else the caller. The spool is set up as
#	bav-dovecot(7) documents: owned by the recorder (here root), group
#	of the mail user, mode 2770. The plugin comes from the build tree
#	($top_builddir/dovecot-plugin/.libs), Pigeonhole's plugin is
#	symlinked beside it. dc_cleanup (installed as EXIT trap by
#	dc_setup) stops the master this file started and removes $T.
#	With a plugin built with --enable-sanitizers, dc_run preloads the
#	ASan runtime into the Dovecot programs (dovecot-lda, and through
#	import_environment the doveconf it re-executes; sievec), so the
#	plugin runs instrumented; the daemon does not (dc_can_daemon false:
#	its chrooted helpers abort under ASan), so LMTP parts are skipped.
#	Exit 77 (skip) when Dovecot or the plugin is missing.

DC_LDA=/usr/lib/dovecot/dovecot-lda
DC_PLUGIN=$top_builddir/dovecot-plugin/.libs/lib95_bav_plugin.so
DC_SIEVE_BAV=$top_builddir/dovecot-plugin/.libs/lib90_sieve_bav_plugin.so
DC_PID=
T=

dc_skip() { echo "SKIP: $*"; exit 77; }

dc_cleanup() {
	if [ -n "$DC_PID" ] && kill -0 "$DC_PID" 2>/dev/null; then
		kill -TERM "$DC_PID" 2>/dev/null
		i=0
		while kill -0 "$DC_PID" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1; i=$((i + 1))
		done
	fi
	[ -n "${T:-}" ] && [ -z "${KEEP:-}" ] && rm -rf "$T"
}

dc_setup() {
	[ -x "$DC_LDA" ] && command -v dovecot >/dev/null 2>&1 ||
		dc_skip "dovecot-core not installed"
	[ -f "$DC_PLUGIN" ] || dc_skip "plugin not built ($DC_PLUGIN)"
	# an ASan-built plugin (--enable-sanitizers) loads into the
	# uninstrumented Dovecot only with the ASan runtime preloaded
	DC_ASAN=$(ldd "$DC_PLUGIN" 2>/dev/null | awk '/asan/ { print $3; exit }')
	if [ -n "$DC_ASAN" ] && [ ! -f "$DC_ASAN" ]; then
		dc_skip "plugin built with ASan, runtime $DC_ASAN not found"
	fi
	# clang links its ASan runtime statically into programs only: a
	# clang-built plugin has the __asan_ symbols undefined and needs
	# clang's shared runtime preloaded instead
	if [ -z "$DC_ASAN" ] &&
	   nm -D --undefined-only "$DC_PLUGIN" 2>/dev/null | grep -q ' __asan_'; then
		DC_ASAN=$(clang -print-file-name=libclang_rt.asan-x86_64.so 2>/dev/null)
		[ -f "$DC_ASAN" ] ||
			dc_skip "plugin built with clang's ASan, its shared runtime is not installed"
	fi
	T=$(mktemp -d "${DC_TMPDIR:-/tmp}/bav-dovecot.XXXXXX") || exit 1
	trap dc_cleanup EXIT
	trap 'exit 1' INT TERM
	chmod 755 "$T"
	if [ "$(id -u)" = 0 ]; then
		DC_UID=5000 DC_GID=5000
		DC_AS="setpriv --reuid=$DC_UID --regid=$DC_GID --clear-groups"
	else
		DC_UID=$(id -u) DC_GID=$(id -g) DC_AS=
	fi
	DC_PORT=$((24000 + $$ % 1000))
	mkdir -p "$T/run" "$T/log" "$T/mail" "$T/modules" "$T/sieve" \
		"$T/sieve-modules"
	ln -s "$(cd "$(dirname "$DC_PLUGIN")" && pwd)/lib95_bav_plugin.so" \
		"$T/modules/"
	[ -f /usr/lib/dovecot/modules/lib90_sieve_plugin.so ] &&
		ln -s /usr/lib/dovecot/modules/lib90_sieve_plugin.so "$T/modules/"
	[ -f "$DC_SIEVE_BAV" ] &&
		ln -s "$(cd "$(dirname "$DC_SIEVE_BAV")" && pwd)/lib90_sieve_bav_plugin.so" \
			"$T/sieve-modules/"
	for d in "" tmp new cur bad; do
		mkdir -p "$T/spool/$d"
		chown "0:$DC_GID" "$T/spool/$d" 2>/dev/null
		chmod 2770 "$T/spool/$d"
	done
	: > "$T/log/dovecot.log"
	chmod 666 "$T/log/dovecot.log"
	chown "$DC_UID:$DC_GID" "$T/mail" "$T/sieve"
	cat > "$T/dovecot.conf" <<EOF
base_dir = $T/run
state_dir = $T/run/state
instance_name = bavtest$$
log_path = $T/log/dovecot.log
info_log_path = $T/log/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
first_valid_uid = 1
mail_location = maildir:~/Maildir
mail_plugin_dir = $T/modules
postmaster_address = postmaster@example.test
hostname = mx.example.test
lda_mailbox_autocreate = yes
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=$DC_UID gid=$DC_GID home=$T/mail/%u
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $DC_PORT
  }
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
protocol lda {
  mail_plugins = \$mail_plugins bav ${DC_SIEVE_PLUGIN:-}
}
protocol lmtp {
  mail_plugins = \$mail_plugins bav ${DC_SIEVE_PLUGIN:-}
}
${DC_ASAN:+import_environment = TZ LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS}
plugin {
  bav_spool = $T/spool
  bav_folder_bounce = Bounces
  bav_folder_feedback = Feedback
$(printf '%s\n' "$1" | sed "s|@T@|$T|g")
}
EOF
}

# run a Dovecot program (with the ASan runtime preloaded when the plugin
# needs it; leak checking off: Dovecot itself isn't instrumented)
dc_run() {
	if [ -n "$DC_ASAN" ]; then
		env LD_PRELOAD="$DC_ASAN" \
			ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$@"
	else
		"$@"
	fi
}

dc_lda() {	# USER FROM FILE [DOVECOT-LDA-OPTION...]
	u=$1 f=$2 m=$3
	shift 3
	home=$T/mail/$u
	mkdir -p "$home" && chown "$DC_UID:$DC_GID" "$home"
	dc_run $DC_AS env HOME="$home" USER="$u" "$DC_LDA" -c "$T/dovecot.conf" \
		-f "$f" -a "$u" "$@" < "$m"
}

# the daemon can't run with the ASan runtime preloaded (its chrooted
# helper processes abort): LMTP parts are skipped under ASan
dc_can_daemon() {
	[ -z "$DC_ASAN" ]
}

dc_start() {
	dc_run dovecot -c "$T/dovecot.conf" </dev/null >>"$T/log/start.log" 2>&1 ||
		{ cat "$T/log/start.log"; return 1; }
	i=0
	while [ ! -s "$T/run/master.pid" ] && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	DC_PID=$(cat "$T/run/master.pid")
	[ -n "$DC_PID" ]
}

dc_stop() {
	[ -n "$DC_PID" ] || return 0
	kill -TERM "$DC_PID" 2>/dev/null
	i=0
	while kill -0 "$DC_PID" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	DC_PID=
}

dc_lmtp() {	# FROM RCPT FILE
	python3 - "$DC_PORT" "$1" "$2" "$3" <<'EOF'
import smtplib, sys
port, frm, rcpt, path = sys.argv[1:5]
with open(path, "rb") as f:
    data = f.read()
c = smtplib.LMTP("127.0.0.1", int(port))
try:
    c.sendmail(frm, rcpt.split(","), data)
finally:
    c.quit()
EOF
}

# "name<TAB>keyword keyword" per message of a Maildir folder (new/ + cur/),
# from the file names' flag letters and the folder's dovecot-keywords
dc_keywords() {
	dir=$1
	for f in "$dir"/new/* "$dir"/cur/*; do
		[ -e "$f" ] || continue
		b=$(basename "$f")
		case $b in *:2,*) flags=${b##*:2,} ;; *) flags= ;; esac
		kws=
		for l in $(echo "$flags" | sed 's/./& /g'); do
			case $l in [a-z])
				idx=$(( $(printf '%d' "'$l") - 97 ))
				kw=$(awk -v i="$idx" '$1 == i { print $2 }' \
					"$dir/dovecot-keywords" 2>/dev/null)
				kws="$kws${kws:+ }$kw" ;;
			esac
		done
		printf '%s\t%s\n' "$b" "$kws"
	done
}

dc_check_cases() {	# HOME LABEL
	home=$1 label=$2
	echo "$CASES" | while IFS='	' read -r msg folder kw; do
		if [ "$folder" = INBOX ]; then dir=$home/Maildir
		else dir=$home/Maildir/$folder; fi
		mid=$(grep -i -m1 '^Message-ID:' "$EX/$msg")
		got=$(for f in "$dir"/new/* "$dir"/cur/*; do
			[ -e "$f" ] || continue
			grep -qixF "$mid" "$f" && basename "$f"
		done | head -n1)
		if [ -z "$got" ]; then
			echo "not ok - $label: $msg not in $folder"
			echo FAIL >> "$T/fail"
			continue
		fi
		kws=$(dc_keywords "$dir" | awk -F'\t' -v n="$got" '$1 == n { print $2 }')
		if [ "$kws" = "$kw" ]; then
			echo "ok - $label: $msg in $folder with '$kws'"
		else
			echo "not ok - $label: $msg keywords '$kws', want '$kw'"
			echo FAIL >> "$T/fail"
		fi
	done
}
