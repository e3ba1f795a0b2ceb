#!/bin/sh
# NAME
#	t/deliver/postfix.sh - bav deliver and bav lmtpd behind a real Postfix
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/deliver/postfix.sh
# DESCRIPTION
#	Starts a private Postfix on a free port of 127.0.0.1 (config and
#	queue in a temporary directory, like t/milter/postfix.sh) with
#	transport_maps routing pipe.test to a master.cf pipe transport
#	running "bav deliver" (as nobody, flags=Rq) and lmtp.test to
#	"lmtp:unix:" a bav lmtpd, both writing one spool. swaks sends
#	bounces, an auto-reply, a feedback report and a human reply written
#	for this project, one message to both domains at once and one bounce
#	twice, and two human replies that carry the X-AGNMailloop header
#	bav-milter would have added (fwd=info@sink.test, rid=12). Then bav
#	recorder --once fills an SQLite store, with the autoresponder on, and
#	the test checks that Postfix delivered everything (status=sent
#	through both transports), that the spool entries carry the queue ids,
#	that each message is recorded exactly once with the right kind, that
#	both replies arrived at the forward address (a pipe sink, through the
#	real sendmail) with X-AGNLoop, and that the autoresponder answered
#	each sender once per filter (RFC 3834 headers, null envelope sender).
#	Everything it started is stopped on exit, also on failure.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (not root, postfix/swaks/sqlite3
#	missing).
. "${top_srcdir:-.}/t/deliver/common.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to start Postfix"; exit 77; }
PATH=$PATH:/usr/sbin
for c in postfix swaks python3 sqlite3; do
	command -v $c >/dev/null 2>&1 || { echo "SKIP: $c not installed"; exit 77; }
done
chmod 755 "$T"
su -s /bin/sh nobody -c "$BAV version" >/dev/null 2>&1 ||
	{ echo "SKIP: $BAV not executable by nobody"; exit 77; }

pf_started=no
lmtpd_pid=
cleanup_hook() {
	if [ $pf_started = yes ]; then
		postfix -c "$T/etc" stop >/dev/null 2>&1
		pf_started=no
	fi
	if [ -n "$lmtpd_pid" ]; then
		kill "$lmtpd_pid" 2>/dev/null
		wait "$lmtpd_pid" 2>/dev/null
		lmtpd_pid=
	fi
	if [ $fails -ne 0 ] || [ -n "$KEEP" ]; then
		echo "--- maillog"; cat "$T/maillog" 2>/dev/null
		echo "--- lmtpd"; cat "$T/lmtpd.err" 2>/dev/null
	fi
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SP=$T/bavspool
mkdir -p "$T/sink" "$T/ar"
chmod 1777 "$T/sink"
# sendmail stand-in for forwards and answers: Postfix's sendmail refuses
# a private config directory to non-root users, so this one submits by
# SMTP to the private Postfix (same envelope as "sendmail -f FROM -- TO")
cat > "$T/sendmail" <<EOS
#!/bin/sh
from= to=
while [ \$# -gt 0 ]; do
	case \$1 in
	-f) from=\$2; shift 2 ;;
	--) to=\$2; shift 2 ;;
	*) shift ;;
	esac
done
[ -n "\$from" ] || from="<>"
exec swaks --server 127.0.0.1:$port --helo localhost -f "\$from" -t "\$to" \\
	--data - > /dev/null 2>&1
EOS
# the local sink: one file per delivery, named after the recipient
printf '#!/bin/sh\ncat > %s/sink/"$1.$2"\n' "$T" > "$T/sink.sh"
chmod 755 "$T/sendmail" "$T/sink.sh"
printf 'From: News Team <team@pipe.test>\nSubject: Thanks for your reply\n\nWe read every reply.\n' \
	> "$T/ar/default"
# the pipe runs as nobody, lmtpd and the recorder as root: nobody owns it
mkdir -p "$SP/tmp" "$SP/new" "$SP/cur" "$SP/bad"
chown -R nobody "$SP"

# ---- bav lmtpd -----------------------------------------------------------
"$BAV" lmtpd -s "unix:$T/lmtp.sock" -M 0666 -t 4 --spool "$SP" --host mx.example.test \
	--sendmail "$T/sendmail" \
	2> "$T/lmtpd.err" &
lmtpd_pid=$!
i=0
while [ ! -S "$T/lmtp.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$T/lmtp.sock" ] || { fail "bav lmtpd did not start"; exit 1; }

# ---- Postfix -------------------------------------------------------------
mkdir -p "$T/etc" "$T/spool" "$T/data"
chown postfix "$T/data"
cat > "$T/etc/main.cf" <<EOT
compatibility_level = 3.6
queue_directory = $T/spool
data_directory = $T/data
maillog_file = $T/maillog
maillog_file_prefixes = $T
myhostname = mx.example.test
mydomain = example.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
relay_domains = pipe.test lmtp.test
transport_maps = texthash:$T/etc/transport
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
smtputf8_enable = no
biff = no
smtp_dns_support_level = disabled
bav_destination_recipient_limit = 1
EOT
printf 'pipe.test\tbav:\nlmtp.test\tlmtp:unix:%s/lmtp.sock\nsink.test\tsink:\nreader.example\tsink:\n' "$T" \
	> "$T/etc/transport"
{ echo "127.0.0.1:$port inet n - n - - smtpd"
  cat "${top_srcdir:-.}/t/lib/postfix-master.cf"
  cat <<EOT
pickup    unix  n - n 60 1 pickup
lmtp      unix  - - n - - lmtp
bav       unix  - n n - 10 pipe
  flags=Rq user=nobody null_sender=
  argv=$BAV deliver -f \${sender} -q \${queue_id} --spool $SP --sendmail $T/sendmail -- \${original_recipient}
sink      unix  - n n - - pipe
  flags=Rq user=nobody null_sender= argv=$T/sink.sh \${recipient} \${queue_id}
EOT
} > "$T/etc/master.cf"
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

# ---- messages written for this test ----------------------------------------
make_bounce 1 > "$T/bounce1.eml"
make_bounce 2 > "$T/bounce2.eml"
make_bounce 5 > "$T/bounce5.eml"
cat > "$T/vacation.eml" <<'EOM'
From: Erika Muster <erika@customer.example>
To: news-reply@pipe.test
Subject: Out of office: Newsletter November
Message-ID: <ooo-1@customer.example>
Auto-Submitted: auto-replied
Content-Type: text/plain

I am out of the office until Monday and will read your mail then.
EOM
cat > "$T/arf.eml" <<'EOM'
From: feedback@isp.example
To: fbl@lmtp.test
Subject: FW: complaint about a message
Message-ID: <arf-1@isp.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F1"

--F1
Content-Type: text/plain

This is an email abuse report for a message received from you.

--F1
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/1.0
Version: 1
Original-Rcpt-To: <reader@isp.example>
Arrival-Date: Thu, 19 Nov 2026 10:00:00 +0000

--F1
Content-Type: text/rfc822-headers

From: news@sender.example.com
To: reader@isp.example
Message-ID: <news-77@sender.example.com>
Subject: News

--F1--
EOM
cat > "$T/human.eml" <<'EOM'
From: Max Leser <max@reader.example>
To: news-reply@lmtp.test
Subject: Re: Newsletter November
Message-ID: <reply-1@reader.example>
In-Reply-To: <news-9@sender.example.com>
Content-Type: text/plain

Thanks, but could you send the next issue to my work address?

Max
EOM

for n in 2 3; do
	cat > "$T/reply$n.eml" <<EOM
X-AGNMailloop: from=<max@reader.example>,rid=12,cid=1,fwd=info@sink.test,to=<news-reply@pipe.test>
From: Max Leser <max@reader.example>
To: news-reply@pipe.test
Subject: Re: Newsletter November ($n)
Message-ID: <reply-$n@reader.example>

Another question about the newsletter, number $n.
EOM
done

# send NAME FROM TO... : swaks transcript in $T/NAME.TO.swaks
send() {
	n=$1 from=$2; shift 2
	to=$(echo "$@" | tr ' ' ',')
	swaks --server 127.0.0.1:$port --helo mx.remote.example \
		--from "$from" --to "$to" --data "$T/$n.eml" \
		> "$T/$n.$to.swaks" 2>&1
	if grep -q "<-  250 2.0.0 Ok: queued as" "$T/$n.$to.swaks"; then
		ok "$n to $to queued"
	else
		fail "$n to $to not queued"; sed 's/^/	/' "$T/$n.$to.swaks"
	fi
}
send bounce1 "<>" bounces@pipe.test
send bounce2 "<>" bounces@lmtp.test
send vacation erika@customer.example news-reply@pipe.test
send arf feedback@isp.example fbl@lmtp.test
send human max@reader.example news-reply@lmtp.test
send bounce5 "<>" bounces@pipe.test bounces@lmtp.test
send bounce1 "<>" bounces@pipe.test	# redelivered: counts once
send reply2 max@reader.example news-reply@pipe.test
send reply3 max@reader.example news-reply@pipe.test

# ---- delivered? -------------------------------------------------------------
want=10
i=0
while [ "$(nfiles "$SP/new")" -lt $want ] && [ $i -lt 150 ]; do
	sleep 0.1; i=$((i + 1))
done
# the pipe logs "sent" after bav deliver has exited
i=0
while { [ "$(grep -c 'relay=bav, .*status=sent' "$T/maillog")" -lt 6 ] ||
	[ "$(grep -c 'relay=.*lmtp.sock.*status=sent' "$T/maillog")" -lt 4 ]; } &&
      [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
expect "spool entries (10 deliveries)" "$want" "$(nfiles "$SP/new")"
expect "pipe deliveries sent" "6" \
	"$(grep -c 'relay=bav, .*status=sent' "$T/maillog")"
expect "lmtp deliveries sent" "4" \
	"$(grep -c 'relay=.*lmtp.sock.*status=sent' "$T/maillog")"
grep -q 'status=\(deferred\|bounced\)' "$T/maillog" &&
	fail "deferred or bounced mail in the maillog"
# every spool entry carries its Postfix queue id
for f in "$SP"/new/*; do
	q=$(sed -n 's/^Q	//p' "$f")
	if [ -n "$q" ] && grep -q "$q: .*status=sent" "$T/maillog"; then
		:
	else
		fail "$(basename "$f"): queue id '$q' not in the maillog"
	fi
done

# ---- recorded once ------------------------------------------------------------
"$BAV" recorder --once --spool "$SP" --store "sqlite:$T/bav.db" --quiet \
	--autoreply-dir "$T/ar" --sendmail "$T/sendmail"
expect "recorder --once" "0" "$?"
expect "spool drained" "0" "$(nfiles "$SP/new")"
expect "8 distinct messages recorded" "8" \
	"$(count "$T/bav.db" 'SELECT COUNT(*) FROM bav_messages')"
expect "kinds" "autoreply:1 bounce:3 feedback:1 reply:3" \
	"$(count "$T/bav.db" "SELECT kind || ':' || COUNT(*) FROM bav_messages GROUP BY kind ORDER BY kind" | tr '\n' ' ' | sed 's/ $//')"
expect "bounce events, once per address" "gone-1@example.org gone-2@example.org gone-5@example.org" \
	"$(count "$T/bav.db" "SELECT recipient FROM bav_events WHERE kind = 'bounce' ORDER BY recipient" | tr '\n' ' ' | sed 's/ $//')"
# a second run over the archive changes nothing
"$BAV" recorder --once --spool "$SP" --store "sqlite:$T/bav.db" --quiet \
	--autoreply-dir "$T/ar" --sendmail "$T/sendmail"
expect "still 8 after a second run" "8" \
	"$(count "$T/bav.db" 'SELECT COUNT(*) FROM bav_messages')"


# ---- forwards and answers at the sink --------------------------------------
# replies: 2 forwards (rid 12); answers: max for filter 0 (human.eml via
# LMTP) and for filter 12 (reply2; reply3 is within the period)
i=0
while [ "$(nfiles "$T/sink")" -lt 4 ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
expect "forwards at info@sink.test" "2" "$(ls "$T/sink" | grep -c '^info@sink.test\.')"
expect "answers to max@reader.example" "2" \
	"$(ls "$T/sink" | grep -c '^max@reader.example\.')"
for f in "$T"/sink/info@sink.test.*; do
	[ -f "$f" ] || continue
	grep -q '^X-AGNLoop: set' "$f" && grep -q '^Subject: Re: Newsletter November' "$f" ||
		fail "forward $(basename "$f"): no X-AGNLoop or wrong message"
done
for f in "$T"/sink/max@reader.example.*; do
	[ -f "$f" ] || continue
	grep -q '^Auto-Submitted: auto-replied' "$f" &&
		grep -q '^Return-Path: <>' "$f" || fail "answer $(basename "$f"): headers"
done
grep -q 'status=sent' "$T/maillog" && ! grep -q 'to=<info@sink.test>.*status=\(bounced\|deferred\)' "$T/maillog" ||
	fail "forward not delivered"

[ $fails -eq 0 ] || exit 1
exit 0
