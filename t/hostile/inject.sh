#!/bin/sh
# SPDX-License-Identifier: MIT
# NAME
#	t/hostile/inject.sh - CRLF injection into forwarded and autoresponder mail
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/hostile/inject.sh
# DESCRIPTION
#	A stand-in sendmail records its arguments and input. Values a
#	stranger controls and that end up in the header of mail bav sends
#	carry "\n Bcc:", "\r\nBcc:", bare "\r" and "\nBcc:" attempts:
#	  - the envelope sender of a human reply (bav deliver -f, and MAIL
#	    FROM over LMTP): the autoresponder's To:;
#	  - the recipient (RCPT TO over LMTP): the autoresponder's From:
#	    when the template has none;
#	  - the reply's Subject (folded, bare CR), Message-ID: the answer's
#	    Subject: "Auto: ...", In-Reply-To, References;
#	  - From display name, Reply-To and the fwd= address of
#	    X-AGNMailloop of a forwarded reply.
#	Every message handed to sendmail must have no Bcc: field, no CR,
#	only the header fields bav writes (autoresponder) or exactly the
#	original's plus X-AGNLoop (forward), and every argument vector must
#	be "-i -N never -f FROM -- ONE-ADDRESS" with a clean address.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip.
. "${top_srcdir:-.}/t/hostile/common.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing"; exit 77; }

mkdir -p "$T/out" "$T/ar" "$T/ar2"
cat > "$T/sendmail" <<EOS
#!/bin/sh
n=\$(ls "$T/out" | grep -c args)
printf '%s\n' "\$@" > "$T/out/\$n.args"
cat > "$T/out/\$n.msg"
EOS
chmod 755 "$T/sendmail"
# a template without From: and Subject: (the values come from the mail)
printf 'X-Template: yes\n\nThank you.\n' > "$T/ar/default"
S=$T/spool
lpid=
cleanup_hook() { [ -n "$lpid" ] && kill "$lpid" 2>/dev/null && wait "$lpid"; }

# reply N SENDER [SUBJECT-LINE]: a human reply, delivered with -f SENDER
n=0
reply() {
	n=$((n + 1))
	printf 'From: Someone <someone%d@example.net>\nTo: reply@loop.test\n%s\nMessage-ID: <r%d@example.net>\n\nThanks.\n' \
		"$n" "${3:-Subject: Re: News $n}" "$n" > "$T/m$n.eml"
	"$BAV" deliver -f "$2" --no-forward --spool "$S" -- reply@loop.test \
		< "$T/m$n.eml" 2>> "$T/err" || fail "deliver $1"
}
NL='
'
CR=$(printf '\r')
reply "sender with LF" "anna@example.net${NL}Bcc: victim1@evil.example"
reply "sender with CRLF" "ben@example.net${CR}${NL}Bcc: victim2@evil.example"
reply "sender with CR" "carl@example.net${CR}Bcc:victim3@evil.example"
reply "folded subject" dora@example.net \
	"Subject: hi${NL} Bcc: victim4@evil.example"
reply "CR in subject" emil@example.net \
	"Subject: hi${CR}Bcc: victim5@evil.example"
reply "CR in subject and message-id" fred@example.net \
	"Subject: x${CR}${NL}Message-ID: <a${CR}Bcc:victim6@evil.example>"

# over LMTP: bare CR inside MAIL FROM and RCPT TO (one line each)
"$BAV" lmtpd -s "unix:$T/lmtp.sock" -t 1 --spool "$S" \
	--sendmail "$T/sendmail" 2> "$T/lmtpd.err" &
lpid=$!
i=0
while [ ! -S "$T/lmtp.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
python3 - "$T/lmtp.sock" > "$T/lmtp.out" <<'EOP'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
s.sendall(b"LHLO c\r\nMAIL FROM:<gina@example.net\rBcc:victim7@evil.example>\r\n"
          b"RCPT TO:<reply@loop.test\rBcc:victim8@evil.example>\r\n"
          b"RCPT TO:<reply@loop.test>\r\nDATA\r\n"
          b"From: Gina <gina@example.net>\r\nTo: reply@loop.test\r\n"
          b"Subject: lmtp\r\nMessage-ID: <lmtp@example.net>\r\n\r\nHi.\r\n.\r\n"
          b"QUIT\r\n")
buf = b""
while True:
    d = s.recv(65536)
    if not d: break
    buf += d
sys.stdout.write(buf.decode(errors="replace"))
EOP
kill "$lpid"; wait "$lpid"; lpid=
grep -q '^501' "$T/lmtp.out" && ok "LMTP: CR in a path refused (501)" ||
	fail "LMTP: CR in a path accepted: $(tr -d '\r' < "$T/lmtp.out")"

"$BAV" recorder --once --spool "$S" --store "sqlite:$T/db" \
	--autoreply-dir "$T/ar" --sendmail "$T/sendmail" 2>> "$T/err"
expect "recorder: exit" 0 "$?"
answers=$(ls "$T/out" | grep -c args)
# the clean-sender replies are answered (dora, emil, fred at least)
[ "$answers" -ge 3 ] && ok "answers sent: $answers" ||
	fail "only $answers answers: $(cat "$T/err")"

# check_msg FILE ALLOWED-FIELDS: no CR, no Bcc, only these header fields
check_msg() {
	if grep -q "$CR" "$1"; then fail "${1##*/}: CR in the message"; return; fi
	sed '/^$/q' "$1" | grep -iq '^bcc' && {
		fail "${1##*/}: gained a Bcc: $(sed '/^$/q' "$1")"; return; }
	bad=$(sed '/^$/q' "$1" | grep -v '^[ 	]' | grep -v '^$' |
		sed 's/:.*//' | grep -vxE "$2")
	[ -z "$bad" ] && ok "${1##*/}: header fields" ||
		fail "${1##*/}: unexpected fields: $bad"
}
check_args() {	# FILE: -i -N never -f X -- ONE clean address
	a=$(tr '\n' ' ' < "$1")
	case $a in
	"-i -N never -f "*" -- "*)
		[ "$(sed -n '$=' "$1")" = 7 ] &&
		! grep -q "$CR" "$1" && ! grep -qi 'bcc\|evil' "$1" &&
			ok "${1##*/}: argv" || fail "${1##*/}: argv: $a" ;;
	*) fail "${1##*/}: argv: $a" ;;
	esac
}
ar_fields='From|To|Subject|Date|Message-ID|Auto-Submitted|X-AGNLoop|In-Reply-To|References|X-Template|MIME-Version|Content-Type'
for f in "$T"/out/*.msg; do check_msg "$f" "$ar_fields"; done
for f in "$T"/out/*.args; do check_args "$f"; done
grep -l 'evil' "$T"/out/*.args >/dev/null 2>&1 &&
	fail "an evil address is a sendmail argument" ||
	ok "no evil address among the recipients"

# forward: the message unchanged plus X-AGNLoop, to fwd= only
rm -rf "$T/out"; mkdir "$T/out"
fwd_mail() {	# NAME MAILLOOP-VALUE EXTRA-HEADER
	printf 'X-AGNMailloop: %s\nFrom: "Max%s" <max@reader.example>\nReply-To: max@reader.example%s\nTo: reply@loop.test\nSubject: Re: x%s\nMessage-ID: <f@reader.example>\n\nPlease forward.\n' \
		"$2" "$3" "$3" "$3" > "$T/f.eml"
	"$BAV" deliver -f max@reader.example --spool "$S" \
		--sendmail "$T/sendmail" -- reply@loop.test < "$T/f.eml" \
		2>> "$T/err"
	expect "forward $1: exit" 0 "$?"
	f=$(ls -t "$T"/out/*.msg 2>/dev/null | head -1)
	[ -n "$f" ] || { fail "forward $1: nothing forwarded"; return; }
	{ echo "X-AGNLoop: set"; cat "$T/f.eml"; } | cmp -s - "$f" &&
		ok "forward $1: unchanged plus X-AGNLoop" ||
		fail "forward $1: differs: $(head -5 "$f")"
	expect "forward $1: to" "info@example.org" \
		"$(tail -1 "$(ls -t "$T"/out/*.args | head -1)")"
}
fwd_mail "folded Bcc" "rid=1,fwd=info@example.org${NL} Bcc: victim9@evil.example" \
	"${NL} Bcc: victim10@evil.example"
fwd_mail "CR Bcc" "rid=1,fwd=info@example.org${CR}Bcc:victim11@evil.example" \
	"${CR}Bcc: victim12@evil.example"
for f in "$T"/out/*.args; do check_args "$f"; done
# a fwd= that sendmail would read as a group or a quoted list: not used
before=$(ls "$T/out" | grep -c args)
for v in 'info@example.org:victim13@evil.example;' \
	 '"a,victim14@evil.example"@example.org' 'info(x)@example.org'; do
	printf 'X-AGNMailloop: rid=1,fwd=%s\nFrom: max@reader.example\nSubject: Re: x\n\nHi.\n' \
		"$v" | "$BAV" deliver -f max@reader.example --spool "$S" \
		--sendmail "$T/sendmail" -- reply@loop.test 2>> "$T/err"
done
expect "fwd= group, quote, comment: not forwarded" "$before" \
	"$(ls "$T/out" | grep -c args)"

finish
