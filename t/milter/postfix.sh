#!/bin/sh
# NAME
#	t/milter/postfix.sh - bav-milter behind a real Postfix on loopback
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/milter/postfix.sh
# DESCRIPTION
#	Starts a private Postfix (config and queue in a temporary directory,
#	smtpd on a free port of 127.0.0.1, chroot off) with smtpd_milters
#	pointing at a bav-milter on a unix socket (running as nobody), and
#	sends with swaks:
#	  known, unknown, tempfail and unmanaged-domain recipients from a
#	  remote client, a message that already carries X-AGNLoop, a message
#	  with a forged X-AGNMailloop, and the same unknown recipient from a
#	  client in the local list (127.0.0.2, -l), and a DKIM-signed message
#	  (-V, key from t/milter/dkim.keys).
#	It checks the SMTP replies Postfix gave, which messages the pipe
#	transport delivered and with which X-AGNMailloop / X-AGNLoop
#	headers, and that the milter logged its decisions with the queue ID.
#	Everything it started is stopped on exit, also on failure
#	(t/lib/postfix.sh).
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (not root, or postfix, swaks or the
#	milter missing).
srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
milter=$(cd "$builddir" && pwd)/milter/bav-milter

PF_NAME=milter PF_HELO=mx.remote.example PF_FROM=sender@remote.example
. "$srcdir/t/lib/postfix.sh"
pf_require
[ -x "$milter" ] || { echo "SKIP: $milter not built"; exit 77; }

pf_init bav-postfix

# ---- the address table -------------------------------------------------
cat > "$T/bav.conf" <<'EOF'
@mail01.example.net	accept:rid=local
aml_12@filter.example.com	accept:rid=12,cid=1,fwd=info@example.org
reply_12@news.example.org	alias:aml_12@filter.example.com
known@news.example.org	accept:rid=7,cid=1
signed@news.example.org	accept:rid=9
busy@news.example.org	tempfail
EOF

# ---- bav-milter --------------------------------------------------------
"$milter" -s "unix:$T/milter.sock" -c "$T/bav.conf" -L info \
	-l 127.0.0.2 -u nobody:nogroup -G postfix -M 660 -p "$T/milter.pid" \
	-V -A mx.example.test -D "$srcdir/t/milter/dkim.keys" \
	> "$T/milter.log" 2>&1 &
pf_wait_socket "$T/milter.sock" bav-milter
[ "$(stat -c %U:%G:%a "$T/milter.sock")" = nobody:postfix:660 ] ||
	fail "socket owner, group, mode: $(stat -c %U:%G:%a "$T/milter.sock")"

# ---- Postfix -----------------------------------------------------------
pf_config mx.example.test news.example.org filter.example.com \
	mail01.example.net elsewhere.example
cat >> "$T/etc/main.cf" <<EOF
smtpd_milters = unix:$T/milter.sock
milter_default_action = tempfail
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
EOF
pf_start

# ---- send --------------------------------------------------------------
send known --to known@news.example.org \
	--add-header "X-AGNMailloop: from=<forged>,rid=99,to=<known@news.example.org>"
expect_reply known "<-  250 2.0.0 Ok: queued as"
send alias --to Reply_12@News.Example.org
expect_reply alias "<-  250 2.0.0 Ok: queued as"
send unknown --to nobody@news.example.org
expect_reply unknown "<** 550 5.1.1 No such user"
send tempfail --to busy@news.example.org
expect_reply tempfail "<** 400 4.0.0 Please try again later"
send relay --to someone@elsewhere.example
expect_reply relay "<-  250 2.0.0 Ok: queued as"
send loop --to known@news.example.org --add-header "X-AGNLoop: set"
expect_reply loop "<** 500 5.4.6 Loop detected"
# (not through send(): its Subject would break the signature)
swaks --server 127.0.0.1:$port --helo mx.sender.example \
	--from news@sender.example --to signed@news.example.org \
	--data "$srcdir/t/milter/dkim-signed.eml" > "$T/dkim.swaks" 2>&1
expect_reply dkim "<-  250 2.0.0 Ok: queued as"
send local --to nobody@news.example.org --local-interface 127.0.0.2 \
	--add-header "X-AGNMailloop: from=<app@localhost>,rid=5"
expect_reply local "<-  250 2.0.0 Ok: queued as"

# ---- what was delivered -------------------------------------------------
pf_wait_deliveries 5
ls "$T/out" > "$T/delivered"
[ "$(wc -l < "$T/delivered")" -eq 5 ] ||
	fail "5 deliveries expected, got: $(tr '\n' ' ' < "$T/delivered")"

# header NAME-OF-FILE-PREFIX: the X-AG* header lines of that delivery
headers() {
	f=$(ls "$T/out/$1".* 2>/dev/null | head -1)
	[ -n "$f" ] || { echo "(not delivered)"; return; }
	sed -n '/^$/q; /^X-AGN/p' "$f"
}
expect_headers() {	# RECIPIENT EXPECTED-LINES
	got=$(headers "$1")
	if [ "$got" = "$2" ]; then ok "$1 delivered with: $(echo "$got" | tr '\n' '|')"
	else fail "$1: headers
--- got
$got
--- want
$2"; fi
}
expect_headers known@news.example.org "X-AGNMailloop: from=<sender@remote.example>,rid=7,cid=1,to=<known@news.example.org>
X-AGNLoop: set"
expect_headers Reply_12@News.Example.org "X-AGNMailloop: from=<sender@remote.example>,rid=12,cid=1,fwd=info@example.org,to=<Reply_12@News.Example.org>
X-AGNLoop: set"
expect_headers someone@elsewhere.example "X-AGNMailloop: from=<sender@remote.example>,rid=relay,to=<someone@elsewhere.example>
X-AGNLoop: set"
expect_headers nobody@news.example.org "X-AGNMailloop: from=<app@localhost>,rid=5"
# DKIM through Postfix (folded DKIM-Signature, header values as smtpd
# passes them): Authentication-Results at the top
f=$(ls "$T/out"/signed@news.example.org.* 2>/dev/null | head -1)
ar=$(sed -n '/^Authentication-Results:/{p;q}' "$f" 2>/dev/null)
[ "$ar" = "Authentication-Results: mx.example.test; dkim=pass header.d=sender.example header.s=bav2024" ] &&
	ok "signed mail: $ar" || fail "signed mail: '$ar'"
[ "$(sed -n '1,2{/^Authentication-Results:/p}' "$f" 2>/dev/null)" != "" ] ||
	fail "Authentication-Results not at the top"
ar=$(sed -n '/^Authentication-Results:/{p;q}' "$T/out"/known@news.example.org.* 2>/dev/null)
[ "$ar" = "Authentication-Results: mx.example.test; dkim=none" ] &&
	ok "unsigned mail: $ar" || fail "unsigned mail: '$ar'"
for r in busy@news.example.org; do
	[ -z "$(ls "$T/out/$r".* 2>/dev/null)" ] || fail "$r must not be delivered"
done

# ---- Postfix's and the milter's logs ------------------------------------
grep -q 'milter-reject: RCPT from .*: 550 5.1.1 No such user' "$T/maillog" &&
	ok "maillog: milter-reject 550 5.1.1" || fail "maillog: no milter-reject for the unknown address"
grep -q 'milter-reject: END-OF-MESSAGE from .*: 5.4.6 Loop detected' "$T/maillog" &&
	ok "maillog: loop rejected at end of message" || fail "maillog: loop not rejected"
qid=$(ls "$T/out" | sed -n 's/^known@news.example.org\.//p')
grep -q "bav-milter\[[0-9]*\]: $qid: c[0-9]*: accepted from localhost\[127.0.0.1\], 1 recipient(s) recorded, 1 incoming X-AGNMailloop removed" "$T/milter.log" &&
	ok "milter log has queue ID $qid" || fail "milter log: no line with queue ID $qid"
grep -q "bav-milter\[[0-9]*\]: c[0-9]*: connect from .*\[127.0.0.2\]: local client, passed untouched" "$T/milter.log" &&
	ok "milter log: local client passed" || fail "milter log: local client"

stop_all
grep -q 'bav-milter\[[0-9]*\]: stopped' "$T/milter.log" &&
	ok "bav-milter stopped cleanly on SIGTERM" || fail "no clean stop"
[ $fails -eq 0 ] && echo "PASS: postfix integration" && exit 0
exit 1
