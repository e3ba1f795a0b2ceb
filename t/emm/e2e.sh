#!/bin/sh
# SPDX-License-Identifier: MIT
# NAME
#	t/emm/e2e.sh - OpenEMM drop-in mode end to end: MariaDB with the EMM
#	schema, bav maps --emm, Postfix with bav-milter, bav deliver
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/emm/e2e.sh
# DESCRIPTION
#	Starts a private mariadbd (t/store/mariadb-lib.sh) loaded with
#	sql/emm/schema.sql and seed.sql, generates bav.conf, the relay
#	domains and the transport map from company_tbl and mailloop_tbl with
#	bav maps --emm, and starts bav-milter on that table and a private
#	Postfix on 127.0.0.1 whose "mailloop" pipe transport runs bav deliver
#	--store emm+mariadb://... as nobody. swaks then sends, as a remote MTA
#	would, messages written for this test that carry agnUIDs of the seed
#	mailings (built by t/emm/agnuid.py with the seed's secret keys):
#	  hard     DSN 5.1.1 for bob, mailing 101 (v4 token in the returned
#	           Message-ID), sent twice (a redelivery)
#	  soft     DSN 5.2.2 mailbox full for alice, mailing 102 (v2 token,
#	           signed with the mailing's creation date)
#	  reply    a human reply to reply_1@ quoting alice's mailing 101 (v3)
#	  unsub    the List-Unsubscribe mailto: Subject unsubscribe:<uid> to
#	           fbl@ for alice, mailing 102 (v5 token)
#	  forged   DSN 5.1.1 for customer 3 with a token signed with a wrong key
#	  club     DSN 5.1.1 for dave of company 2 with a v2 token (company 2
#	           accepts v3 and up only: not an origin)
#	and one more, a hard bounce for erin of company 2 (v3 token), to
#	aml_2@ml.club.example, which the transport map sends to bav lmtpd;
#	bav recorder --once --store emm+... records its spool. The test
#	checks exactly what the spec (sections 5.8, 5.11, 5.12) says
#	lands in the tables: bounce_tbl rows with details 511 and 420,
#	binding status 2 on every list for the hard bounce (success row
#	revoked, mailing_tbl.delivered decremented), status 4 on the
#	mailing's list only for the unsubscribe, one mailloop_log_tbl row per
#	message (none for the redelivery), the inbox row for the reply, and
#	nothing for the forged and the under-version token. Finally bav
#	recorder --once over the same spool changes nothing. Everything it
#	started is stopped on exit, also on failure.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (not root; postfix, swaks, mariadbd or
#	the MariaDB backend missing).
srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
BAV=$(cd "$builddir" && pwd)/bav/bav
milter=$(cd "$builddir" && pwd)/milter/bav-milter
[ -n "$BAV_MODULE_DIR" ] || BAV_MODULE_DIR=$(cd "$builddir" && pwd)/bav/.libs
export BAV_MODULE_DIR

PF_NAME=milter PF_HELO=mx.remote.example PF_FROM=
. "$srcdir/t/lib/postfix.sh"
pf_require mariadbd mariadb
[ -x "$BAV" ] || { echo "SKIP: $BAV not built"; exit 77; }
[ -x "$milter" ] || { echo "SKIP: $milter not built"; exit 77; }
[ -f "$BAV_MODULE_DIR/store_mariadb.so" ] ||
	{ echo "SKIP: MariaDB backend not built"; exit 77; }
su -s /bin/sh nobody -c "$BAV version" >/dev/null 2>&1 ||
	{ echo "SKIP: $BAV not executable by nobody"; exit 77; }

. "$srcdir/t/store/mariadb-lib.sh"
pf_init bav-emm-e2e
lmtpd_pid=
trap '[ -n "$lmtpd_pid" ] && kill $lmtpd_pid 2>/dev/null; pf_cleanup; mariadb_stop' EXIT

expect() {	# WHAT WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else
		fail "$1"; printf 'want:\n%s\ngot:\n%s\n' "$2" "$3"; fi
}
sqlq() {
	mariadb --no-defaults --socket="$MARIADB_SOCK" -uroot -N -B bav -e "$1"
}

# ---- MariaDB with the EMM schema ------------------------------------------
mariadb_start "$T"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
	# mariadb-install-db works in /tmp and sometimes trips over a
	# concurrent one (make -j): once more in a fresh directory
	mariadb_stop
	rm -rf "$T/mariadb"
	sleep 1
	mariadb_start "$T"
	rc=$?
fi
[ $rc -eq 77 ] && { echo "SKIP: mariadb-server not installed"; exit 77; }
[ $rc -ne 0 ] && { fail "mariadbd did not start"; exit 1; }
for f in schema seed; do
	mariadb --no-defaults --socket="$MARIADB_SOCK" -uroot bav \
		< "$srcdir/sql/emm/$f.sql" || { fail "load sql/emm/$f.sql"; exit 1; }
done
# the pipe runs as nobody: its own copy of the password file
cp "$MARIADB_DIR/password" "$T/dbpass"
chown nobody "$T/dbpass"
chmod 600 "$T/dbpass"
EMM="emm+mariadb://bav@127.0.0.1:$MARIADB_PORT/bav?password_file=$T/dbpass"
# root's commands: a password file must be root's or the running user's
cp "$MARIADB_DIR/password" "$T/dbpass.root"
chmod 600 "$T/dbpass.root"
EMMR="emm+mariadb://bav@127.0.0.1:$MARIADB_PORT/bav?password_file=$T/dbpass.root"

# ---- bav.conf, relay domains, transport map from the EMM tables -----------
: > "$T/relay"
: > "$T/transport"
"$BAV" maps --emm "$EMMR" --fqdn mx.example.test --bav-conf "$T/bav.conf" \
	--relay-domains "$T/relay" --transport "$T/transport" 2> "$T/maps.err" ||
	{ cat "$T/maps.err"; fail "bav maps --emm"; exit 1; }
grep -q '^aml_1@mailloop.shop.example	accept:rid=1,cid=1$' "$T/bav.conf" &&
	ok "bav maps --emm: bav.conf from mailloop_tbl" ||
	fail "bav maps --emm: no aml_1 line in bav.conf"

# ml.club.example goes to bav lmtpd instead (its spool is recorded by bav
# recorder below)
sed -i "s|^ml.club.example	.*|ml.club.example	lmtp:unix:$T/lmtp.sock|" "$T/transport"
LSP=$T/lmtpspool
"$BAV" lmtpd -s "unix:$T/lmtp.sock" -M 0666 -t 2 --spool "$LSP" --no-forward \
	--host mx.example.test 2> "$T/lmtpd.err" &
lmtpd_pid=$!

# ---- bav-milter and Postfix --------------------------------------------------
"$milter" -s "unix:$T/milter.sock" -c "$T/bav.conf" -L info -l 127.0.0.2 \
	-u nobody:nogroup -G postfix -M 660 -p "$T/milter.pid" \
	> "$T/milter.log" 2>&1 &
pf_wait_socket "$T/milter.sock" bav-milter

SP=$T/bavspool
mkdir -p "$SP/tmp" "$SP/new" "$SP/cur" "$SP/bad"
chown -R nobody "$SP"
pf_wait_socket "$T/lmtp.sock" "bav lmtpd"
pf_config mx.example.test mailloop.shop.example
cat >> "$T/etc/main.cf" <<EOF
relay_domains = texthash:$T/relay
transport_maps = texthash:$T/transport
smtpd_milters = unix:$T/milter.sock
milter_default_action = tempfail
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
mailloop_destination_recipient_limit = 1
EOF
cat >> "$T/etc/master.cf" <<EOF
lmtp      unix  - - n - - lmtp
mailloop  unix  - n n - 4 pipe
  flags=Rq user=nobody null_sender=
  argv=/usr/bin/env BAV_MODULE_DIR=$BAV_MODULE_DIR $BAV deliver -f \${sender} -q \${queue_id} --spool $SP --no-forward --store $EMM -- \${original_recipient}
EOF
touch -d "-10 seconds" "$T/relay" "$T/transport"
pf_start

# ---- messages --------------------------------------------------------------
UID_PY="python3 $srcdir/t/emm/agnuid.py"
K1=s3cret-shop-key
K2=club-key-2
ms() {	# mailing -> creation_date in ms, as the database sees it
	echo $(($(sqlq "SELECT UNIX_TIMESTAMP(creation_date) FROM mailing_tbl WHERE mailing_id = $1") * 1000))
}
pfx=AB20260115093000_0
uid_hard=$($UID_PY --prefix $pfx 4 0 1 101 2 $K1)
uid_soft=$($UID_PY --prefix $pfx --creation-ms "$(ms 102)" 2 0 1 102 1 $K1)
uid_reply=$($UID_PY --prefix $pfx 3 0 1 101 1 $K1)
uid_unsub=$($UID_PY 5 0 1 102 1 $K1)
uid_forged=$($UID_PY --prefix $pfx 4 0 1 101 3 not-the-key)
uid_club=$($UID_PY --prefix $pfx --creation-ms "$(ms 201)" 2 0 2 201 1 $K2)

dsn() {	# STATUS RCPT UID TEXT
	cat <<EOM
From: MAILER-DAEMON@mx.remote.example (Mail Delivery System)
To: aml_1@mailloop.shop.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-$1-$2@mx.remote.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="R1"

--R1
Content-Type: text/plain

Your message to <$2> could not be delivered: $4.

--R1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.remote.example

Final-Recipient: rfc822; $2
Action: failed
Status: $1
Diagnostic-Code: smtp; 550 $1 <$2>: $4

--R1
Content-Type: text/rfc822-headers

From: Example Shop <news@shop.example>
To: <$2>
Subject: Newsletter
Message-ID: <$3@mailloop.shop.example>

--R1--
EOM
}
dsn 5.1.1 bob@example.net "$uid_hard" "user unknown" > "$T/hard.eml"
dsn 5.2.2 alice@example.net "$uid_soft" "mailbox full" > "$T/soft.eml"
dsn 5.1.1 BOB@example.net "$uid_forged" "user unknown" > "$T/forged.eml"
dsn 5.1.1 dave@example.com "$uid_club" "user unknown" > "$T/club.eml"
cat > "$T/reply.eml" <<EOM
From: Alice Anders <alice@example.net>
To: reply_1@mailloop.shop.example
Subject: Re: Newsletter January
Message-ID: <reply-1@example.net>
In-Reply-To: <$uid_reply@mailloop.shop.example>
Content-Type: text/plain

Thank you, please send me the catalogue as well.
EOM
cat > "$T/unsub.eml" <<EOM
From: Alice Anders <alice@example.net>
To: fbl@mailloop.shop.example
Subject: unsubscribe:$uid_unsub
Message-ID: <unsub-1@example.net>
Content-Type: text/plain

This message was sent by the List-Unsubscribe link of your mail client.
EOM

sendmsg() {	# NAME FROM TO
	swaks --server 127.0.0.1:$port --helo mx.remote.example -f "$2" \
		-t "$3" --data "$T/$1.eml" > "$T/$1.swaks" 2>&1 ||
		{ fail "$1: not accepted"; sed 's/^/	/' "$T/$1.swaks"; }
}
sendmsg hard "" aml_1@mailloop.shop.example
sendmsg soft "" aml_1@mailloop.shop.example
sendmsg reply alice@example.net reply_1@mailloop.shop.example
sendmsg unsub alice@example.net fbl@mailloop.shop.example
sendmsg forged "" aml_1@mailloop.shop.example
sendmsg club "" aml_2@mailloop.shop.example
sendmsg hard "" aml_1@mailloop.shop.example	# redelivered
swaks --server 127.0.0.1:$port --helo mx.remote.example -f "" \
	-t nobody@mailloop.shop.example --data "$T/hard.eml" \
	> "$T/unknown.swaks" 2>&1
grep -q '550 5.1.1' "$T/unknown.swaks" &&
	ok "unknown address of a managed domain: 550 5.1.1 at RCPT" ||
	fail "unknown address not rejected"

# seven deliveries through the pipe: wait for them
i=0
while [ "$(grep -c 'status=sent (delivered via mailloop service)' "$T/maillog" 2>/dev/null)" -lt 7 ] &&
      [ $i -lt 200 ]; do
	sleep 0.1; i=$((i + 1))
done
expect "7 deliveries through bav deliver" 7 \
	"$(grep -c 'status=sent (delivered via mailloop service)' "$T/maillog")"
expect "bav deliver recorded each at once (nothing left in new/)" 0 \
	"$(ls "$SP/new" | wc -l)"

# ---- what the spec says lands in the tables ---------------------------------
expect "bounce_tbl: hard 511 for bob, soft 420 for alice, nothing else" \
"1	1	102	420	522
1	2	101	511	511" \
	"$(sqlq "SELECT company_id, customer_id, mailing_id, detail, dsn FROM bounce_tbl ORDER BY customer_id")"
rule=$(sqlq "SELECT rule_id FROM bounce_translate_tbl WHERE company_id = 0 AND dsn = 511")
expect "hard bounce: binding status 2 with its detail, exit mailing" \
"1	11	1	seed	NULL
2	11	2	bounce:511 (from 5.1.1 using $rule)	101
3	11	1	seed	NULL
4	11	6	blocklisted	NULL" \
	"$(sqlq "SELECT customer_id, mailinglist_id, user_status, user_remark, exit_mailing_id FROM customer_1_binding_tbl WHERE NOT (customer_id = 1 AND mailinglist_id = 12) ORDER BY customer_id, mailinglist_id")"
expect "unsubscribe: status 4 on mailing 102's list only" \
"1	11	1	seed	NULL
1	12	4	Opt-out by mandatory CSA link (mailto)	102" \
	"$(sqlq "SELECT customer_id, mailinglist_id, user_status, user_remark, exit_mailing_id FROM customer_1_binding_tbl WHERE customer_id = 1 ORDER BY mailinglist_id")"
expect "hard bounce revokes the success row and the delivered count" \
"1 3 | 2 1" \
	"$(sqlq "SELECT customer_id FROM success_1_tbl WHERE mailing_id = 101 ORDER BY customer_id" | tr '\n' ' ')| $(sqlq "SELECT delivered FROM mailing_tbl WHERE mailing_id IN (101, 102) ORDER BY mailing_id" | tr '\n' ' ' | sed 's/ $//')"
expect "company 2: v2 token below uid_version 3 changes nothing" \
"1	21	1
2	21	1" \
	"$(sqlq "SELECT customer_id, mailinglist_id, user_status FROM customer_2_binding_tbl ORDER BY customer_id")"
expect "mailloop_log_tbl: one row per message, none for the redelivery" \
"1	1	101	1	filtered	
1	1	101	2	bounce	got bounce with DSN 5.1.1 on mailing_id 101 (detail 511)
1	1	102	1	bounce	got bounce with DSN 5.2.2 on mailing_id 102 (detail 420)
1	1	NULL	NULL	filtered	
2	2	NULL	NULL	filtered	
internal	1	102	1	unsubscribe	unsubscribed using remark \"Opt-out by mandatory CSA link (mailto)\"" \
	"$(sqlq "SELECT rid, company_id, mailing_id, customer_id, action, remark FROM mailloop_log_tbl" | LC_ALL=C sort)"
expect "inbox: the reply of alice to filter 1" \
"1	0	alice@example.net	Re: Newsletter January	reply_1@mailloop.shop.example	1	1	1" \
	"$(sqlq "SELECT mailloop_id, status, sender_email, subject, response_email, customer_id, company_id, customer_company_id FROM mailloop_replies_tbl")"
sqlq "SELECT content FROM mailloop_replies_tbl" | grep -q 'catalogue as well' &&
	ok "inbox: content is the reply text" || fail "inbox content"

# ---- bav recorder over the same spool: nothing changes ----------------------
before=$(sqlq "SELECT COUNT(*) FROM bounce_tbl; SELECT COUNT(*) FROM mailloop_log_tbl")
"$BAV" recorder --once --spool "$SP" --store "$EMMR" 2> "$T/recorder.err" ||
	{ cat "$T/recorder.err"; fail "bav recorder --once"; }
expect "recorder --once afterwards changes nothing" "$before" \
	"$(sqlq "SELECT COUNT(*) FROM bounce_tbl; SELECT COUNT(*) FROM mailloop_log_tbl")"

# ---- bav lmtpd + bav recorder: a hard bounce for erin of company 2 ----------
uid_erin=$($UID_PY --prefix $pfx 3 0 2 201 2 $K2)
dsn 5.1.1 erin@example.com "$uid_erin" "mailbox unknown" > "$T/erin.eml"
sendmsg erin "" aml_2@ml.club.example
i=0
while [ "$(ls "$LSP/new" 2>/dev/null | wc -l)" -lt 1 ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
expect "bav lmtpd spooled the LMTP delivery" 1 "$(ls "$LSP/new" | wc -l)"
"$BAV" recorder --once --spool "$LSP" --store "$EMMR" 2> "$T/recorder2.err" ||
	{ cat "$T/recorder2.err"; fail "bav recorder --once (lmtpd spool)"; }
expect "recorder: company 2 bounce_tbl row, erin's binding status 2" \
"2	2	201	511	511|2	21	2	bounce:511 (from 5.1.1 using $rule)	201" \
	"$(sqlq "SELECT company_id, customer_id, mailing_id, detail, dsn FROM bounce_tbl WHERE company_id = 2")|$(sqlq "SELECT customer_id, mailinglist_id, user_status, user_remark, exit_mailing_id FROM customer_2_binding_tbl WHERE customer_id = 2")"
expect "recorder: mailloop_log_tbl row of the lmtpd delivery" \
	"2	2	201	2	bounce" \
	"$(sqlq "SELECT rid, company_id, mailing_id, customer_id, action FROM mailloop_log_tbl WHERE company_id = 2 AND customer_id IS NOT NULL")"

[ $fails -eq 0 ] || exit 1
exit 0
