# NAME
#	t/lib/postfix.sh - a private Postfix on 127.0.0.1 for the shell tests
#	of the bav daemons (sourced, POSIX sh)
# SYNOPSIS
#	PF_NAME=milter		# the daemon: $T/$PF_NAME.pid, $T/$PF_NAME.log
#	PF_HELO=mx.remote.example PF_FROM=sender@remote.example
#	. "$srcdir/t/lib/postfix.sh"
#	pf_require CMD ...	# skip (exit 77) unless root and CMDs exist
#	pf_init PREFIX		# $T, $port, fails, cleanup on exit
#	pf_free_port		# prints a free TCP port of 127.0.0.1
#	pf_wait_socket PATH NAME	# up to 5 s for the daemon's socket
#	pf_config MYHOSTNAME DOMAIN ...
#	cat >> "$T/etc/main.cf"; cat >> "$T/etc/master.cf"
#	pf_start		# postfix check + start, smtpd listening
#	send NAME [swaks options]; expect_reply NAME TEXT
#	pf_wait_deliveries N	# up to 10 s for N files in $T/out
#	ok TEXT; fail TEXT; stop_all
# DESCRIPTION
#	Shared by t/milter/postfix.sh and t/policyd/postfix.sh; each test
#	owns everything it creates below its temporary directory $T.
#
#	pf_init makes $T (/tmp/PREFIX.XXXXXX), a free smtpd $port, and
#	traps EXIT (and INT, TERM) to stop_all: Postfix if pf_start started
#	it, then the daemon whose pid file is $T/$PF_NAME.pid (SIGTERM, up
#	to 5 s for its clean stop, then SIGKILL). On failure, or with KEEP
#	set, it prints $T/$PF_NAME.log and Postfix's maillog; with KEEP set
#	$T stays.
#
#	pf_wait_socket waits for the unix socket the daemon NAME creates;
#	without it the test fails ("NAME did not start") and exits 1.
#
#	The services every test needs are in t/lib/postfix-master.cf
#	(also used by t/deliver/postfix.sh).
#
#	pf_config writes a Postfix configuration into $T/etc: queue and
#	data in $T, log in $T/maillog, smtpd on 127.0.0.1:$port, no chroot,
#	no DNS, the DOMAINs relayed to the pipe transport "bavpipe", which
#	stores each delivery as $T/out/RECIPIENT.QUEUEID (user nobody). The
#	test appends its own restrictions and services.
#
#	send runs swaks against 127.0.0.1:$port with --helo $PF_HELO,
#	--from $PF_FROM and "Subject: NAME"; the dialogue is in
#	$T/NAME.swaks, which expect_reply searches for a fixed string.
#	ok and fail print one line each; fail counts into $fails.
# DIAGNOSTICS
#	pf_require exits 77 (skip); pf_init, pf_wait_socket and pf_start
#	exit 1 when they cannot do their part (after fail(), so that the
#	logs show).
# SEE ALSO
#	postconf(5), master(5), pipe(8), swaks(1),
#	/work/shared/docs/REAL-SERVERS.md

pf_require() {
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to start Postfix"; exit 77; }
	for c in postfix swaks python3 "$@"; do
		command -v $c >/dev/null 2>&1 || [ -x /usr/sbin/$c ] ||
			{ echo "SKIP: $c not installed"; exit 77; }
	done
	PATH=$PATH:/usr/sbin
}

pf_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
ok() {
	echo "ok: $*"
}

stop_all() {
	if [ $pf_started = yes ]; then
		postfix -c "$T/etc" stop >/dev/null 2>&1
		pf_started=no
	fi
	if [ -f "$T/$PF_NAME.pid" ]; then
		pid=$(cat "$T/$PF_NAME.pid")
		kill "$pid" 2>/dev/null
		# wait for the clean stop (pid file removal needs no root)
		i=0
		while [ $i -lt 50 ] && kill -0 "$pid" 2>/dev/null &&
		      ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; do
			sleep 0.1; i=$((i + 1))
		done
		kill -9 "$pid" 2>/dev/null
		rm -f "$T/$PF_NAME.pid"
	fi
}
pf_cleanup() {
	stop_all
	if [ $fails -ne 0 ] || [ -n "$KEEP" ]; then
		echo "--- $PF_NAME log"; cat "$T/$PF_NAME.log" 2>/dev/null
		echo "--- maillog"; cat "$T/maillog" 2>/dev/null
	fi
	[ -n "$KEEP" ] && echo "kept $T" || rm -rf "$T"
}

pf_init() {
	T=$(mktemp -d "/tmp/$1.XXXXXX") || exit 1
	chmod 755 "$T"
	fails=0
	pf_started=no
	trap pf_cleanup EXIT
	trap 'exit 1' INT TERM
	port=$(pf_free_port)
}

pf_wait_socket() {	# PATH NAME
	i=0
	while [ ! -S "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	[ -S "$1" ] || { fail "$2 did not start"; exit 1; }
}

pf_config() {
	pf_host=$1; shift
	mkdir -p "$T/etc" "$T/spool" "$T/data" "$T/out"
	chown postfix "$T/data"
	chmod 1777 "$T/out"
	cat > "$T/deliver.sh" <<PIPE
#!/bin/sh
# pipe(8): \$1 queue id, \$2 recipient; one file per delivery
cat > "$T/out/\$2.\$1"
PIPE
	chmod 755 "$T/deliver.sh"
	cat > "$T/etc/main.cf" <<MAINCF
compatibility_level = 3.6
queue_directory = $T/spool
data_directory = $T/data
maillog_file = $T/maillog
maillog_file_prefixes = $T
myhostname = $pf_host
mydomain = example.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
relay_domains = $*
transport_maps = texthash:$T/etc/transport
smtputf8_enable = no
biff = no
smtp_dns_support_level = disabled
bavpipe_destination_recipient_limit = 1
MAINCF
	for d in "$@"; do
		printf '%s\tbavpipe:\n' "$d"
	done > "$T/etc/transport"
	{ echo "127.0.0.1:$port inet n - n - - smtpd"
	  cat "$srcdir/t/lib/postfix-master.cf"
	  cat <<MASTERCF
bavpipe   unix  - n n - - pipe
  flags=q user=nobody argv=$T/deliver.sh \${queue_id} \${recipient}
MASTERCF
	} > "$T/etc/master.cf"
}

pf_start() {
	touch -d "-10 seconds" "$T/etc/main.cf" "$T/etc/master.cf" "$T/etc/transport"
	script -qec "postfix -c $T/etc check" /dev/null > "$T/check.out" 2>&1 ||
		{ cat "$T/check.out"; fail "postfix check"; exit 1; }
	postfix -c "$T/etc" start > "$T/start.out" 2>&1 < /dev/null ||
		{ cat "$T/start.out"; fail "postfix start"; exit 1; }
	pf_started=yes
	i=0
	while ! python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 50 ] && { fail "smtpd not listening"; exit 1; }
		sleep 0.1
	done
}

# send NAME [swaks options]: output in $T/NAME.swaks
send() {
	n=$1; shift
	swaks --server 127.0.0.1:$port --helo "$PF_HELO" \
		--from "$PF_FROM" --header "Subject: $n" "$@" \
		> "$T/$n.swaks" 2>&1
}
expect_reply() {	# NAME TEXT
	if grep -qF -- "$2" "$T/$1.swaks"; then ok "$1: $2"
	else fail "$1: no '$2' in the SMTP dialogue"; sed 's/^/	/' "$T/$1.swaks"; fi
}

pf_wait_deliveries() {	# N: then a little longer for stragglers
	i=0
	while [ "$(ls "$T/out" | wc -l)" -lt "$1" ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	sleep 0.5
}
