#!/bin/sh
# NAME
#	t/deliver/forward.sh - bav deliver forwards human replies, and only them
# DESCRIPTION
#	A stand-in sendmail records its arguments and input. A human reply
#	with "X-AGNMailloop: ...,fwd=info@example.org,..." is forwarded once
#	with "-i -N never -f MAILLOOP-ADDRESS -- info@example.org", the
#	message unchanged and "X-AGNLoop: set" in front (an existing
#	X-AGNLoop is kept, not doubled); a bounce, an auto-reply (also one
#	with fwd=) and a reply without fwd= are not forwarded; --forward
#	gives the address when the header has none; --no-forward turns it
#	off; a failing sendmail makes deliver exit 75 (the message is still
#	spooled, Postfix retries the forward); a forward address that looks
#	like an option is ignored. Through bav lmtpd the same reply is
#	forwarded too.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip.
. "${top_srcdir:-.}/t/deliver/common.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }

mkdir -p "$T/out"
cat > "$T/sendmail" <<EOS
#!/bin/sh
n=\$(ls "$T/out" | grep -c args)
printf '%s\n' "\$@" > "$T/out/\$n.args"
cat > "$T/out/\$n.msg"
exit \${FAKE_SENDMAIL_EXIT:-0}
EOS
chmod 755 "$T/sendmail"
S=$T/spool
dlv() {	# dlv FILE [options]: deliver FILE to reply@loop.test
	file=$1; shift
	"$BAV" deliver -f "sender@example.com" -q QF --spool "$S" \
		--sendmail "$T/sendmail" "$@" -- reply@loop.test < "$file"
}

cat > "$T/reply.eml" <<'EOM'
X-AGNMailloop: from=<max@reader.example>,rid=12,cid=1,fwd=info@example.org,to=<reply@loop.test>
From: Max Leser <max@reader.example>
To: reply@loop.test
Subject: Re: Newsletter November
Message-ID: <reply-2@reader.example>

Please send the next issue to my work address.
EOM
dlv "$T/reply.eml"
expect "reply: exit 0" "0" "$?"
expect "reply: forwarded once" "1" "$(ls "$T/out" | grep -c args)"
expect "sendmail arguments" "-i -N never -f reply@loop.test -- info@example.org" \
	"$(tr '\n' ' ' < "$T/out/0.args" | sed 's/ $//')"
expect "X-AGNLoop first" "X-AGNLoop: set" "$(head -1 "$T/out/0.msg")"
tail -n +2 "$T/out/0.msg" | cmp -s - "$T/reply.eml" && ok "message unchanged" ||
	fail "forwarded message differs"
expect "reply spooled" "1" "$(nfiles "$S/new")"

# an X-AGNLoop already there is kept, not doubled
{ echo "X-AGNLoop: set"; cat "$T/reply.eml"; } > "$T/looped.eml"
dlv "$T/looped.eml"
expect "looped: one X-AGNLoop" "1" "$(grep -c '^X-AGNLoop:' "$T/out/1.msg")"

# never for bounces and auto-replies, not without an address
make_bounce 3 | sed '1i X-AGNMailloop: from=<>,rid=12,fwd=info@example.org' \
	> "$T/bounce.eml"
sed -e 's/^Subject: .*/Subject: Out of office/' \
    -e '/^Message-ID/a Auto-Submitted: auto-replied' "$T/reply.eml" \
	> "$T/auto.eml"
sed '/^X-AGNMailloop/d' "$T/reply.eml" > "$T/nofwd.eml"
for f in bounce auto nofwd; do
	dlv "$T/$f.eml"
	expect "$f: exit 0" "0" "$?"
done
expect "bounce, auto-reply, no address: not forwarded" "2" \
	"$(ls "$T/out" | grep -c args)"

# --forward default, --no-forward
dlv "$T/nofwd.eml" --forward feedback@example.org
expect "--forward" "feedback@example.org" "$(tail -1 "$T/out/2.args")"
dlv "$T/reply.eml" --no-forward
[ "$(ls "$T/out" | grep -c args)" = 3 ] && ok "--no-forward: nothing sent" ||
	fail "--no-forward sent mail"

# a failing sendmail: 75, message spooled anyway
before=$(nfiles "$S/new")
FAKE_SENDMAIL_EXIT=75 dlv "$T/reply.eml" 2> "$T/err"
expect "sendmail fails: 75" "75" "$?"
grep -q "forward: mail to <info@example.org>" "$T/err" && ok "forward failure reported" ||
	fail "forward failure: $(cat "$T/err")"
expect "sendmail fails: still spooled" "$((before + 1))" "$(nfiles "$S/new")"
dlv "$T/reply.eml" --sendmail "$T/no-such-sendmail" 2>/dev/null
expect "no sendmail: 75" "75" "$?"

# an address that looks like an option is not used
sed 's/fwd=info@example.org/fwd=-oQ\/tmp@x/' "$T/reply.eml" > "$T/evil.eml"
n=$(ls "$T/out" | grep -c args)
dlv "$T/evil.eml"
expect "fwd=-option: not forwarded" "$n" "$(ls "$T/out" | grep -c args)"

# through LMTP
"$BAV" lmtpd -s "unix:$T/lmtp.sock" -t 1 --spool "$S" \
	--sendmail "$T/sendmail" 2> "$T/lmtpd.err" &
lpid=$!
cleanup_hook() { [ -n "$lpid" ] && kill "$lpid" 2>/dev/null && wait "$lpid"; }
i=0
while [ ! -S "$T/lmtp.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
n=$(ls "$T/out" | grep -c args)
python3 - "$T/lmtp.sock" "$T/reply.eml" > "$T/lmtp.out" <<'EOP'
import smtplib, sys
c = smtplib.LMTP(sys.argv[1])
r = c.sendmail("max@reader.example", ["reply@loop.test"],
               open(sys.argv[2], "rb").read())
print("refused:", r)
c.quit()
EOP
expect "lmtp: accepted" "refused: {}" "$(cat "$T/lmtp.out")"
expect "lmtp: forwarded" "$((n + 1))" "$(ls "$T/out" | grep -c args)"

[ $fails -eq 0 ] || exit 1
exit 0
