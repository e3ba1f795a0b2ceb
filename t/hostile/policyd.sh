#!/bin/sh
# SPDX-License-Identifier: MIT
# NAME
#	t/hostile/policyd.sh - policy-protocol garbage to bav-policyd
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/hostile/policyd.sh
# DESCRIPTION
#	Starts bav-policyd on a unix socket and, in three rounds of 10
#	parallel connections, sends 64 KB of random bytes, 4 MB without a
#	newline, one attribute of 1 MB, 10 000 attributes in one request,
#	NUL bytes and lines without "=", a request cut in the middle, a
#	connection closed at once, 1 000 pipelined requests in one write
#	and half a request followed by silence. Then a well-behaved client
#	on a new connection must get "action=" for a known recipient and
#	for a rejected one, bav-policyd must still run and its peak RSS
#	stay below 64 MB.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip.
. "${top_srcdir:-.}/t/hostile/common.sh"
PD=$BUILD/policyd/bav-policyd
[ -x "$PD" ] || { echo "SKIP: $PD not built"; exit 77; }

SOCK=$T/policy.sock
pid=
cleanup_hook() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid"; }
daemon_start bav-policyd "$T/pd.err" "$PD" -s "unix:$SOCK" \
	-c "$SRC/t/policyd/bav.conf" -e -L warning -r 0

cat > "$T/attack.py" <<'EOP'
import random, socket, sys, threading, time
sock = sys.argv[1]
random.seed(9)
REQ = (b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
       b"protocol_name=ESMTP\nclient_address=192.0.2.1\nsender=\n"
       b"recipient=known@news.example.org\n\n")
def attack(kind):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(sock); s.settimeout(10)
        if kind == "binary":
            s.sendall(bytes(random.getrandbits(8) for _ in range(65536)))
        elif kind == "nonl":
            for _ in range(64): s.sendall(b"x" * 65536)
        elif kind == "longattr":
            s.sendall(b"request=smtpd_access_policy\nrecipient=" +
                      b"a" * (1 << 20) + b"\n\n")
        elif kind == "manyattrs":
            s.sendall(b"".join(b"x%d=y\n" % i for i in range(10000)) + b"\n")
        elif kind == "nul":
            s.sendall(b"request=smtpd\x00access_policy\nno equals sign\n"
                      b"=empty name\nrecipient=a\x00b@c\n\n\x00\n\n")
        elif kind == "cut":
            s.sendall(REQ[:40]); s.close(); return
        elif kind == "immediate":
            s.close(); return
        elif kind == "pipeline":
            s.sendall(REQ * 1000)
        elif kind == "silence":
            s.sendall(REQ[:60]); time.sleep(2); s.close(); return
        elif kind == "crlf":
            s.sendall(REQ.replace(b"\n", b"\r\n") * 3)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536): pass
        s.close()
    except OSError:
        pass
kinds = ["binary", "nonl", "longattr", "manyattrs", "nul", "cut",
         "immediate", "pipeline", "silence", "crlf"]
EOP
daemon_attack bav-policyd "$T/pd.err" 65536

python3 - "$SOCK" > "$T/good.out" 2>&1 <<'EOP'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
for rcpt in (b"known@news.example.org", b"gone@news.example.org"):
    s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
              b"client_address=192.0.2.1\nsender=\nrecipient=" + rcpt + b"\n\n")
    buf = b""
    while not buf.endswith(b"\n\n"):
        d = s.recv(4096)
        if not d: break
        buf += d
    print(buf.decode().strip().split("\n")[0])
EOP
expect "a good client afterwards: two answers" 2 "$(grep -c '^action=' "$T/good.out")"
grep -q '^action=dunno\|^action=DUNNO\|^action=ok\|^action=OK' "$T/good.out" &&
	ok "known recipient: $(sed -n 1p "$T/good.out")" ||
	fail "known recipient: $(cat "$T/good.out")"
grep -qi '^action=\(reject\|5\)' "$T/good.out" &&
	ok "gone recipient: $(sed -n 2p "$T/good.out")" ||
	fail "gone recipient: $(cat "$T/good.out")"
daemon_stop "$T/pd.err" exit0
finish
