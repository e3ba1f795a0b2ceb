#!/bin/sh
# NAME
#	t/fault/rules-swap.sh - rule files and tables replaced by broken ones
#	while bav lmtpd and bav-milter run under load
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/fault/rules-swap.sh
# DESCRIPTION
#	bav lmtpd (--rules FILE, 4 threads) receives $FAULT_LMTP (default
#	1500) bounces over LMTP (t/deliver/lmtp-load.py). While they arrive
#	the rule file is replaced (rename, as an editor or a deployment
#	does) by one with a regex that does not compile, then removed, each
#	time followed by SIGHUP. lmtpd must keep running, say on stderr why
#	it kept the old rules (file and line), answer every message with
#	250 and classify every bounce as a bounce, and a probe message must
#	still match the old rule; a fixed file then takes effect on SIGHUP
#	(the new rule matches, the old one no longer does). Then, ten times,
#	a big valid file (3000 rules) and at once the next small one, each
#	with SIGHUP: the second signal arrives while the first reload runs
#	and must not be lost (the small file's rule must match).
#
#	As root with Postfix: bav-milter (-k: X-Bav-Classification) behind
#	a private Postfix (t/lib/postfix.sh) gets $FAULT_SMTP (default 100)
#	bounces (t/fault/smtp-load.py) while its address table and its -K
#	rule file are replaced by broken ones and SIGHUP is sent (SIGHUP
#	reloads both). The milter must keep the last good table and rules
#	(every message accepted and delivered with its classification, the
#	unknown address still refused with 550 5.1.1), log each error with
#	file and line, and load the fixed table and rules on the next
#	SIGHUP.
#	Prints "faults: ...". Everything it started is stopped on exit, also
#	on failure.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (python3 missing or bav not built).
srcdir=${top_srcdir:-.}
builddir=$(cd "${top_builddir:-.}" && pwd)
BAV=$builddir/bav/bav
milter=$builddir/milter/bav-milter
N=${FAULT_LMTP:-1500}
M=${FAULT_SMTP:-100}
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
[ -x "$BAV" ] || { echo "SKIP: $BAV not built"; exit 77; }

PF_NAME=milter PF_HELO=mx.load.test PF_FROM=
. "$srcdir/t/lib/postfix.sh"
PATH=$PATH:/usr/sbin
pf_init bav-fault-rules
lmtpd_pid=
fault_cleanup() {
	if [ -n "$lmtpd_pid" ]; then
		kill "$lmtpd_pid" 2>/dev/null
		wait "$lmtpd_pid" 2>/dev/null
		lmtpd_pid=
	fi
	if [ $fails -ne 0 ] || [ -n "$KEEP" ]; then
		echo "--- lmtpd"; tail -20 "$T/lmtpd.err" 2>/dev/null
	fi
	pf_cleanup
}
trap fault_cleanup EXIT
expect() {	# WHAT WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: want '$2', got '$3'"; fi
}
nfiles() { ls -A "$1" 2>/dev/null | wc -l | tr -d ' '; }
# install FILE CONTENT: replace FILE by rename, as a deployment does
install_file() {
	printf "$2" > "$1.new" && mv "$1.new" "$1"
}
hups=0

# ---- 1. bav lmtpd ------------------------------------------------------------
R=$T/rules
S=$T/bavspool
install_file "$R" '[systemmail]\n^Subject:.*\\bswap-one\\b\n'
"$BAV" lmtpd -s "unix:$T/lmtp.sock" -t 4 --spool "$S" --rules "$R" --quiet \
	2> "$T/lmtpd.err" &
lmtpd_pid=$!
pf_wait_socket "$T/lmtp.sock" "bav lmtpd"
# probe SUBJECT: the kind bav lmtpd gave a human-looking message
probe() {
	probe_n=$(date +%s%N)
	python3 -c 'import smtplib, sys
c = smtplib.LMTP(sys.argv[1])
c.sendmail("reader@reader.test", ["news@loop.test"],
	("From: reader@reader.test\r\nTo: news@loop.test\r\n"
	 "Subject: " + sys.argv[2] + "\r\nMessage-ID: <probe-" + sys.argv[3] +
	 "@reader.test>\r\n\r\nhello\r\n").encode())
c.quit()' "$T/lmtp.sock" "$1" $probe_n || { echo "(lmtp failed)"; return; }
	f=$(grep -l "^Message-ID: <probe-$probe_n@reader.test>" "$S"/new/* | head -1)
	sed -n 's/^V	\([a-z]*\).*/\1/p' "$f"
}
expect "lmtpd: old rule matches" "systemmail" "$(probe "Re: swap-one")"
python3 "$srcdir/t/deliver/lmtp-load.py" "unix:$T/lmtp.sock" $N 4 1 \
	> "$T/load.out" &
load_pid=$!
sleep 0.5
install_file "$R" '[systemmail]\n^Subject:.*(swap-one\n'
for i in 1 2 3; do
	kill -HUP "$lmtpd_pid"; hups=$((hups + 1)); sleep 0.3
done
rm -f "$R"
kill -HUP "$lmtpd_pid"; hups=$((hups + 1)); sleep 0.3
wait "$load_pid"
expect "lmtpd: every one of $N bounces got 250 while the rules broke" "0" "$?"
kill -0 "$lmtpd_pid" 2>/dev/null && ok "lmtpd: still running" ||
	fail "lmtpd: died"
grep -q "SIGHUP: rules:2: bad regex .*; keeping the old rules" "$T/lmtpd.err" &&
	ok "lmtpd: broken file reported with file and line" ||
	fail "lmtpd: no 'SIGHUP: rules:2: bad regex ...; keeping the old rules' on stderr"
[ "$(grep -c "keeping the old rules" "$T/lmtpd.err")" -ge 4 ] &&
	ok "lmtpd: every failed reload reported (missing file too)" ||
	fail "lmtpd: not every failed reload reported"
expect "lmtpd: old rule still matches" "systemmail" "$(probe "Re: swap-one")"
nb=$(cat "$S"/new/* | grep -c '^V	bounce	')
expect "lmtpd: $N bounces classified as bounces" "$N" "$nb"
install_file "$R" '[systemmail]\n^Subject:.*\\bswap-two\\b\n'
kill -HUP "$lmtpd_pid"; hups=$((hups + 1)); sleep 0.5
expect "lmtpd: fixed file loaded: new rule matches" "systemmail" "$(probe "Re: swap-two")"
expect "lmtpd: fixed file loaded: old rule gone" "reply" "$(probe "Re: swap-one")"
# a SIGHUP that arrives while a (long) reload runs must not be lost:
# a big valid file, then at once the next one, $FAULT_QUICK (10) times
lost=0
k=1
while [ $k -le ${FAULT_QUICK:-10} ]; do
	{ printf '[systemmail]\n'
	  seq 1 3000 | sed 's/.*/^Subject:.*\\bbig&x(foo|bar)+baz\\b/'
	} > "$R.new" && mv "$R.new" "$R"
	kill -HUP "$lmtpd_pid"
	install_file "$R" "[systemmail]\\n^Subject:.*\\\\bquick-$k\\\\b\\n"
	sleep 0.005
	kill -HUP "$lmtpd_pid"; hups=$((hups + 2))
	sleep 0.3
	[ "$(probe "Re: quick-$k")" = systemmail ] || lost=$((lost + 1))
	k=$((k + 1))
done
expect "lmtpd: no SIGHUP lost during a reload" "0" "$lost"
kill "$lmtpd_pid"; wait "$lmtpd_pid"
expect "lmtpd: SIGTERM exits 0" "0" "$?"
lmtpd_pid=

# ---- 2. bav-milter behind Postfix ---------------------------------------------
mhups=0
if [ "$(id -u)" = 0 ] && command -v postfix >/dev/null && command -v swaks >/dev/null &&
   [ -x "$milter" ]; then
	C=$T/bav.conf
	install_file "$C" '@load.example.org\taccept:rid=7\nknown@news.example.org\taccept:rid=7\n'
	MR=$T/milter.rules
	install_file "$MR" '[systemmail]\n^Subject:.*\\bnever-sent\\b\n'
	"$milter" -s "unix:$T/milter.sock" -c "$C" -L info -k -K "$MR" -r 0 -l 127.0.0.2 \
		-u nobody:nogroup -G postfix -M 660 -p "$T/milter.pid" \
		> "$T/milter.log" 2>&1 &
	pf_wait_socket "$T/milter.sock" bav-milter
	pf_config mx.example.test load.example.org news.example.org
	cat >> "$T/etc/main.cf" <<EOF
smtpd_milters = unix:$T/milter.sock
milter_default_action = tempfail
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
EOF
	pf_start
	probe_smtp() {	# TAG RCPT: "CODE stage text"
		: > "$T/probe-$1.res"
		python3 "$srcdir/t/fault/smtp-load.py" "$port" "$T/probe-$1.res" 1 0 \
			"$2" 9000 1
		cut -d' ' -f2- "$T/probe-$1.res"
	}
	expect_smtp() {	# TAG TEXT RCPT WANT-PREFIX
		got=$(probe_smtp "$1" "$3")
		case $got in
		"$4"*) ok "$2: $got" ;;
		*) fail "$2: want '$4...', got '$got'" ;;
		esac
	}
	expect_smtp u1 "milter: unknown recipient refused" \
		new@news.example.org "550 rcpt 5.1.1"
	: > "$T/load.res"
	python3 "$srcdir/t/fault/smtp-load.py" "$port" "$T/load.res" 4 30 \
		"user%d@load.example.org" 1 $M &
	load_pid=$!
	sleep 1
	# truncated in the middle of a line, then an unknown action: either
	# one loaded would accept new@news.example.org
	install_file "$C" 'known@news.example.org\taccept:rid=7\nnew@news.example.org\taccept:ri'
	for i in 1 2; do
		kill -HUP "$(cat "$T/milter.pid")"; mhups=$((mhups + 1)); sleep 0.3
	done
	install_file "$C" 'known@news.example.org\taccept:rid=7\nnew@news.example.org\taccept-all\n'
	install_file "$MR" '[systemmail]\n^Subject:.*(broken\n'
	kill -HUP "$(cat "$T/milter.pid")"; mhups=$((mhups + 1)); sleep 0.3
	wait "$load_pid"
	expect "milter: every one of $M messages got 250 while the table broke" \
		"$M" "$(awk '$2 == 250' "$T/load.res" | wc -l | tr -d ' ')"
	kill -0 "$(cat "$T/milter.pid")" 2>/dev/null && ok "milter: still running" ||
		fail "milter: died"
	grep -q "reload failed, keeping the last good table: $C:2: no newline" "$T/milter.log" &&
	grep -q "reload failed, keeping the last good table: $C:2: unknown action" "$T/milter.log" &&
		ok "milter: broken tables reported with file and line" ||
		fail "milter: no 'reload failed, keeping the last good table: $C:2: ...' for both"
	grep -q "rules reload failed, keeping the last good rules: milter.rules:2: bad regex" "$T/milter.log" &&
		ok "milter: broken -K rules reported with file and line" ||
		fail "milter: no 'rules reload failed, keeping the last good rules: milter.rules:2: bad regex ...'"
	expect_smtp u2 "milter: old table kept, unknown still refused" \
		new@news.example.org "550 rcpt 5.1.1"
	i=0
	while [ "$(ls "$T/out" | grep -c '^user')" -lt $M ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	expect "milter: $M delivered" "$M" "$(ls "$T/out" | grep -c '^user')"
	expect "milter: $M classified as bounces (X-Bav-Classification)" "$M" \
		"$(grep -l '^X-Bav-Classification: kind=bounce; reason=userunknown; hard=yes; detail=511; status=5.1.1' "$T"/out/user* | wc -l | tr -d ' ')"
	install_file "$C" '@load.example.org\taccept:rid=7\nnew@news.example.org\taccept:rid=8\n'
	install_file "$MR" '[systemmail]\n^Subject:.*\\bnever-sent-either\\b\n'
	kill -HUP "$(cat "$T/milter.pid")"; mhups=$((mhups + 1)); sleep 0.5
	expect_smtp n1 "milter: fixed table loaded, new address accepted" \
		new@news.example.org "250 data"
	expect_smtp n2 "milter: fixed table loaded, dropped address refused" \
		known@news.example.org "550 rcpt 5.1.1"
	grep -q "reloaded rules $MR" "$T/milter.log" &&
		ok "milter: fixed -K rules loaded on SIGHUP" ||
		fail "milter: no 'reloaded rules $MR' after the fix"
else
	echo "note: bav-milter part skipped (needs root, postfix, swaks and bav-milter)"
fi
echo "faults: rules-swap: lmtpd $hups SIGHUPs with a broken or missing rule file under $N messages, bav-milter $mhups SIGHUPs with a broken table and -K file under $M; survived: $([ $fails -eq 0 ] && echo yes || echo no)"
[ $fails -eq 0 ] || exit 1
exit 0
