#!/bin/sh
# NAME
#	t/policyd/postfix.sh - bav-policyd behind a real Postfix on loopback
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/policyd/postfix.sh
# DESCRIPTION
#	Builds a SQLite store (bav store init) with a bounced, a complained
#	and an unsubscribed recipient, starts bav-policyd on a unix socket
#	with that store (snapshot refreshed every second, snapshot file
#	kept) and an address table, and a private Postfix (config and queue
#	in a temporary directory, smtpd on a free port of 127.0.0.1, chroot
#	off) with
#	  smtpd_recipient_restrictions = check_policy_service unix:SOCK, ...
#	Then it sends with swaks and checks the SMTP replies and what the
#	pipe transport delivered:
#	  suppressed recipients refused (bounced, complained, unsubscribed),
#	  an active one delivered, an unknown address of a managed domain
#	  refused with 550 5.1.1, a tempfail entry deferred, a known one
#	  delivered; an address marked bounced in the store after start-up
#	  is refused once the snapshot was refreshed; with the database
#	  gone the last snapshot keeps serving.
#	A second smtpd port uses bav-policyd under spawn(8) ("-s stdio",
#	one process per connection, a snapshot file): its suppressed
#	recipient is refused, a known one delivered.
#	Everything it started is stopped on exit, also on failure.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (not root, or postfix, swaks, sqlite3
#	or the programs missing).
srcdir=${top_srcdir:-.}
builddir=$(cd "${top_builddir:-.}" && pwd)
pd=$builddir/policyd/bav-policyd
bav=$builddir/bav/bav

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to start Postfix"; exit 77; }
for c in postfix swaks python3 sqlite3; do
	command -v $c >/dev/null 2>&1 || [ -x /usr/sbin/$c ] ||
		{ echo "SKIP: $c not installed"; exit 77; }
done
[ -x "$pd" ] && [ -x "$bav" ] || { echo "SKIP: programs not built"; exit 77; }
PATH=$PATH:/usr/sbin

T=$(mktemp -d /tmp/bav-pd-postfix.XXXXXX) || exit 1
chmod 755 "$T"
fails=0
pf_started=no

stop_all() {
	if [ $pf_started = yes ]; then
		postfix -c "$T/etc" stop >/dev/null 2>&1
		pf_started=no
	fi
	if [ -f "$T/policyd.pid" ]; then
		pid=$(cat "$T/policyd.pid")
		kill "$pid" 2>/dev/null
		i=0
		while [ $i -lt 50 ] && kill -0 "$pid" 2>/dev/null &&
		      ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; do
			sleep 0.1; i=$((i + 1))
		done
		kill -9 "$pid" 2>/dev/null
		rm -f "$T/policyd.pid"
	fi
}
cleanup() {
	stop_all
	if [ $fails -ne 0 ] || [ -n "$KEEP" ]; then
		echo "--- policyd log"; cat "$T/policyd.log" 2>/dev/null
		echo "--- maillog"; cat "$T/maillog" 2>/dev/null
	fi
	[ -n "$KEEP" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
ok() {
	echo "ok: $*"
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
port2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# ---- the store and the address table -----------------------------------
"$bav" store init --store "sqlite:$T/bav.db" > "$T/init.out" 2>&1 ||
	{ cat "$T/init.out"; fail "bav store init"; exit 1; }
sqlite3 "$T/bav.db" "
INSERT INTO bav_recipients (address, domain, state, state_since) VALUES
 ('hard@customer.example', 'customer.example', 'bounced', 1700000000),
 ('angry@customer.example', 'customer.example', 'complained', 1700000000),
 ('gone@customer.example', 'customer.example', 'unsubscribed', 1700000000),
 ('fine@customer.example', 'customer.example', 'active', 1700000000);" ||
	{ fail "sqlite3 insert"; exit 1; }
cat > "$T/bav.conf" <<'TABLE'
known@news.example.org	accept:rid=7,cid=1
busy@news.example.org	tempfail
TABLE

# ---- bav-policyd -------------------------------------------------------
"$pd" -s "unix:$T/policy.sock" -c "$T/bav.conf" -S "sqlite:$T/bav.db" \
	-f "$T/snapshot" -I 1 -L info -e -p "$T/policyd.pid" \
	> "$T/policyd.log" 2>&1 &
i=0
while [ ! -S "$T/policy.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$T/policy.sock" ] || { fail "bav-policyd did not start"; exit 1; }

# ---- Postfix -----------------------------------------------------------
mkdir -p "$T/etc" "$T/spool" "$T/data" "$T/out"
chown postfix "$T/data"
chmod 1777 "$T/out"
cat > "$T/deliver.sh" <<SCRIPT
#!/bin/sh
# pipe(8): \$1 queue id, \$2 recipient; one file per delivery
cat > "$T/out/\$2.\$1"
SCRIPT
chmod 755 "$T/deliver.sh"
cat > "$T/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $T/spool
data_directory = $T/data
maillog_file = $T/maillog
maillog_file_prefixes = $T
myhostname = out.example.test
mydomain = example.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
relay_domains = customer.example news.example.org
transport_maps = texthash:$T/etc/transport
smtpd_recipient_restrictions =
	check_policy_service unix:$T/policy.sock,
	permit_mynetworks, reject_unauth_destination
smtpd_policy_service_default_action = 451 4.3.5 Policy service unavailable
smtputf8_enable = no
biff = no
smtp_dns_support_level = disabled
bavpipe_destination_recipient_limit = 1
# the second smtpd: bav-policyd under spawn(8), stdin/stdout mode
spawn_restrictions = check_policy_service unix:private/bavspawn,
	permit_mynetworks, reject_unauth_destination
bavspawn_time_limit = 3600s
CF
for d in customer.example news.example.org; do
	printf '%s\tbavpipe:\n' $d
done > "$T/etc/transport"
cat > "$T/etc/master.cf" <<MCF
127.0.0.1:$port inet n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
bavpipe   unix  - n n - - pipe
  flags=q user=nobody argv=$T/deliver.sh \${queue_id} \${recipient}
127.0.0.1:$port2 inet n - n - - smtpd
  -o smtpd_recipient_restrictions=\$spawn_restrictions
bavspawn  unix  - n n - 0 spawn
  user=nobody argv=$pd -s stdio -f $T/spawn.snap
MCF
printf 'spawned@customer.example\tbounced\n' > "$T/spawn.snap"
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

# ---- send --------------------------------------------------------------
# send NAME [swaks options]: output in $T/NAME.swaks
send() {
	n=$1; shift
	swaks --server 127.0.0.1:$port --helo client.example.test \
		--from news@sender.example --header "Subject: $n" "$@" \
		> "$T/$n.swaks" 2>&1
}
expect_reply() {	# NAME TEXT
	if grep -qF -- "$2" "$T/$1.swaks"; then ok "$1: $2"
	else fail "$1: no '$2' in the SMTP dialogue"; sed 's/^/	/' "$T/$1.swaks"; fi
}

send hard --to hard@customer.example
expect_reply hard "<** 554 5.1.1 <hard@customer.example>: Recipient address rejected: Recipient address suppressed (bounced)"
send angry --to Angry@Customer.Example
expect_reply angry "Recipient address suppressed (complained)"
send gone --to gone@customer.example
expect_reply gone "Recipient address suppressed (unsubscribed)"
send fine --to fine@customer.example
expect_reply fine "<-  250 2.0.0 Ok: queued as"
send unknown --to nobody@news.example.org
expect_reply unknown "<** 550 5.1.1 <nobody@news.example.org>: Recipient address rejected: No such user"
send busy --to busy@news.example.org
expect_reply busy "<** 4"
send known --to known@news.example.org
expect_reply known "<-  250 2.0.0 Ok: queued as"
# two recipients in one transaction: the suppressed one refused, the
# other delivered (one policy connection, several requests)
send mixed --to fine@customer.example,hard@customer.example
expect_reply mixed "Recipient address suppressed (bounced)"
expect_reply mixed "<-  250 2.0.0 Ok: queued as"

# ---- the same through spawn(8): bav-policyd -s stdio ---------------------
send spawned --to spawned@customer.example --server 127.0.0.1:$port2
expect_reply spawned "<** 554 5.1.1 <spawned@customer.example>: Recipient address rejected: Recipient address suppressed (bounced)"
send spawnok --to known@news.example.org --server 127.0.0.1:$port2
expect_reply spawnok "<-  250 2.0.0 Ok: queued as"

# ---- a refresh picks up a new bounce -----------------------------------
sqlite3 "$T/bav.db" "UPDATE bav_recipients SET state = 'bounced'
	WHERE address = 'fine@customer.example'" || fail "sqlite3 update"
sleep 2.5
send refreshed --to fine@customer.example
expect_reply refreshed "Recipient address suppressed (bounced)"

# ---- database gone: the last snapshot keeps serving ---------------------
mv "$T/bav.db" "$T/bav.db.away"
sleep 2.5
send dbgone --to hard@customer.example
expect_reply dbgone "Recipient address suppressed (bounced)"
grep -q 'snapshot refresh failed, keeping the last one' "$T/policyd.log" &&
	ok "refresh failure logged, last snapshot kept" ||
	fail "no 'snapshot refresh failed' in the policyd log"
grep -q '^fine@customer.example	bounced$' "$T/snapshot" &&
	ok "snapshot file written" || fail "snapshot file"

# ---- what was delivered -------------------------------------------------
i=0
while [ "$(ls "$T/out" | wc -l)" -lt 4 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
ls "$T/out" | sed 's/\.[^.]*$//' | sort > "$T/delivered"
printf '%s\n' fine@customer.example fine@customer.example \
	known@news.example.org known@news.example.org > "$T/want"
if cmp -s "$T/want" "$T/delivered"; then
	ok "delivered: $(tr '\n' ' ' < "$T/delivered")"
else
	fail "deliveries: got $(tr '\n' ' ' < "$T/delivered"), want $(tr '\n' ' ' < "$T/want")"
fi

# ---- logs --------------------------------------------------------------
grep -q 'reject: RCPT from .*: 554 5.1.1 <hard@customer.example>: Recipient address rejected: Recipient address suppressed (bounced)' "$T/maillog" &&
	ok "maillog: suppressed recipient rejected" || fail "maillog: no reject line"
grep -q 'action=REJECT 5.1.1 Recipient address suppressed (bounced) rcpt=hard@customer.example' "$T/policyd.log" &&
	ok "policyd logged the decision" || fail "policyd log: no decision line"
if grep -q 'warning: .*policy' "$T/maillog"; then
	fail "Postfix warned about the policy service"
	grep 'warning: .*policy' "$T/maillog"
fi

stop_all
grep -q 'bav-policyd: NOTICE: stopped' "$T/policyd.log" &&
	ok "bav-policyd stopped cleanly on SIGTERM" || fail "no clean stop"
[ $fails -eq 0 ] && echo "PASS: postfix integration" && exit 0
exit 1
