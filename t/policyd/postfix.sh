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

PF_NAME=policyd PF_HELO=client.example.test PF_FROM=news@sender.example
. "$srcdir/t/lib/postfix.sh"
pf_require sqlite3
[ -x "$pd" ] && [ -x "$bav" ] || { echo "SKIP: programs not built"; exit 77; }

pf_init bav-pd-postfix
port2=$(pf_free_port)

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
pf_wait_socket "$T/policy.sock" bav-policyd

# ---- Postfix -----------------------------------------------------------
pf_config out.example.test customer.example news.example.org
cat >> "$T/etc/main.cf" <<CF
smtpd_recipient_restrictions =
	check_policy_service unix:$T/policy.sock,
	permit_mynetworks, reject_unauth_destination
smtpd_policy_service_default_action = 451 4.3.5 Policy service unavailable
# the second smtpd: bav-policyd under spawn(8), stdin/stdout mode
spawn_restrictions = check_policy_service unix:private/bavspawn,
	permit_mynetworks, reject_unauth_destination
bavspawn_time_limit = 3600s
CF
cat >> "$T/etc/master.cf" <<MCF
127.0.0.1:$port2 inet n - n - - smtpd
  -o smtpd_recipient_restrictions=\$spawn_restrictions
bavspawn  unix  - n n - 0 spawn
  user=nobody argv=$pd -s stdio -f $T/spawn.snap
MCF
printf 'spawned@customer.example\tbounced\n' > "$T/spawn.snap"
pf_start

# ---- send --------------------------------------------------------------
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
pf_wait_deliveries 4
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
