#!/bin/sh
# SPDX-License-Identifier: MIT
# NAME
#	t/hostile/lmtpd.sh - SMTP garbage to bav lmtpd
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/hostile/lmtpd.sh
# DESCRIPTION
#	Starts bav lmtpd on a unix socket and attacks it with 10 clients at
#	once, three rounds: 64 KB of random binary, a 1 MB command
#	line, 2 MB without any newline, 1 200 pipelined RCPT TO in one write
#	(over the limit of 1 000), DATA without MAIL, commands with
#	bare LF and bare CR, a message that ends without "." and
#	disconnects, disconnects in the middle of a command and right
#	after connecting, and 5 000 NOOPs in one write. Then a well-behaved
#	client must still deliver a message (250), lmtpd must still run,
#	its RSS must stay below 64 MB and nothing half-received may be in
#	the spool.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip.
. "${top_srcdir:-.}/t/hostile/common.sh"

S=$T/spool
SOCK=$T/lmtp.sock
pid=
cleanup_hook() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid"; }
daemon_start lmtpd "$T/lmtpd.err" "$BAV" lmtpd -s "unix:$SOCK" -t 2 -T 5 \
	--spool "$S" --max-size 100000

cat > "$T/attack.py" <<'EOP'
import os, random, socket, sys, threading
sock = sys.argv[1]
random.seed(9)
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(sock); s.settimeout(15)
    return s
def drain(s):
    try:
        while s.recv(65536): pass
    except OSError: pass
    s.close()
def attack(kind):
    try:
        s = conn()
        if kind == "binary":
            s.sendall(bytes(random.getrandbits(8) for _ in range(65536)))
        elif kind == "longcmd":
            s.sendall(b"MAIL FROM:<" + b"a" * (1 << 20) + b">\r\nQUIT\r\n")
        elif kind == "nonl":
            for _ in range(32): s.sendall(b"X" * 65536)
            s.shutdown(socket.SHUT_WR)
        elif kind == "rcpts":
            s.sendall(b"LHLO x\r\nMAIL FROM:<a@b>\r\n" +
                      b"".join(b"RCPT TO:<r%d@loop.test>\r\n" % i for i in range(1200)) +
                      b"DATA\r\nSubject: many\r\n\r\nx\r\n.\r\nQUIT\r\n")
        elif kind == "nomail":
            s.sendall(b"LHLO x\r\nDATA\r\nRCPT TO:<a@b>\r\nDATA\r\nQUIT\r\n")
        elif kind == "bare":
            s.sendall(b"LHLO x\nMAIL FROM:<a@b>\rRCPT TO:<c@d>\n\r\n\r\r\nNOOP\rQUIT\n")
        elif kind == "nodot":
            s.sendall(b"LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@loop.test>\r\n"
                      b"DATA\r\nSubject: cut\r\n\r\nhalf a message")
            s.close(); return
        elif kind == "midcmd":
            s.sendall(b"LHLO x\r\nMAIL FR"); s.close(); return
        elif kind == "immediate":
            s.close(); return
        elif kind == "noops":
            s.sendall(b"NOOP\r\n" * 5000 + b"QUIT\r\n")
        drain(s)
    except OSError:
        pass
kinds = ["binary", "longcmd", "nonl", "rcpts", "nomail", "bare", "nodot",
         "midcmd", "immediate", "noops"]
EOP
daemon_attack lmtpd "$T/lmtpd.err" 65536
# what got in: only whole messages (the 500-recipient one at most)
bad=0
for e in "$S"/new/*; do
	[ -f "$e" ] || continue
	grep -aq '^Subject: many' "$e" || bad=$((bad + 1))
done
expect "no half-received message spooled" 0 "$bad"
expect "nothing left in spool/tmp" 0 "$(ls "$S/tmp" 2>/dev/null | wc -l)"

python3 - "$SOCK" > "$T/good.out" 2>&1 <<'EOP'
import smtplib, sys
c = smtplib.LMTP(sys.argv[1])
print("refused:", c.sendmail("a@example.net", ["x@loop.test"],
      b"From: a@example.net\r\nSubject: after the storm\r\n\r\nhi\r\n"))
c.quit()
EOP
expect "a good client afterwards" "refused: {}" "$(cat "$T/good.out")"
grep -alq 'Subject: after the storm' "$S"/new/* 2>/dev/null &&
	ok "its message is spooled" || fail "good message not spooled"
daemon_stop "$T/lmtpd.err" exit0
finish
