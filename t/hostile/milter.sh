#!/bin/sh
# SPDX-License-Identifier: MIT
# NAME
#	t/hostile/milter.sh - random bytes and broken packets on the milter socket
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/hostile/milter.sh
# DESCRIPTION
#	Starts bav-milter on a unix socket and, in three rounds of 10
#	parallel connections, sends 64 KB of random bytes, a packet that
#	claims 2 GB, zero-length packets, an option negotiation followed by
#	random packets, connect/helo/mail/rcpt/header packets without their
#	NUL terminators or with 1 MB of data, body chunks without a message,
#	a header packet before connect, and disconnects in the middle of a
#	packet. Then a well-behaved client (miltertest, t/hostile/milter.lua)
#	must still get its verdicts (a known recipient continues, a gone
#	one is refused), bav-milter must still run and its peak RSS stay
#	below 128 MB.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (no miltertest or bav-milter).
. "${top_srcdir:-.}/t/hostile/common.sh"
MILTER=$BUILD/milter/bav-milter
[ -x "$MILTER" ] || { echo "SKIP: $MILTER not built"; exit 77; }
command -v miltertest >/dev/null 2>&1 ||
	{ echo "SKIP: miltertest not installed"; exit 77; }

SOCK=$T/milter.sock
pid=
cleanup_hook() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid"; }
cp "$SRC/t/milter/bav.conf" "$T/bav.conf"
daemon_start bav-milter "$T/milter.err" "$MILTER" -s "unix:$SOCK" \
	-c "$T/bav.conf" -L info -r 0

cat > "$T/attack.py" <<'EOP'
import random, socket, struct, sys, threading
sock = sys.argv[1]
random.seed(9)
def pkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data
OPTNEG = pkt(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff))
def rnd(n):
    return bytes(random.getrandbits(8) for _ in range(n))
def attack(kind):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(sock); s.settimeout(10)
        if kind == "binary":
            s.sendall(rnd(65536))
        elif kind == "huge":
            s.sendall(struct.pack(">I", 0x7fffffff) + b"O" + rnd(4096))
        elif kind == "zero":
            s.sendall(struct.pack(">I", 0) * 100)
        elif kind == "optneg-random":
            s.sendall(OPTNEG)
            for _ in range(200):
                s.sendall(pkt(bytes([random.getrandbits(8)]), rnd(random.randrange(64))))
        elif kind == "nonul":
            s.sendall(OPTNEG + pkt(b"C", b"host") + pkt(b"H", b"helo") +
                      pkt(b"M", b"<a@b>") + pkt(b"R", b"<c@d>") +
                      pkt(b"L", b"Subject") + pkt(b"N") + pkt(b"E"))
        elif kind == "big":
            s.sendall(OPTNEG + pkt(b"C", b"h\x00" + b"4" + struct.pack(">H", 25) +
                                   b"192.0.2.1\x00") +
                      pkt(b"M", b"<" + b"a" * (1 << 20) + b">\x00") +
                      pkt(b"R", b"<" + b"b" * (1 << 20) + b"@news.example.org>\x00") +
                      pkt(b"L", b"X\x00" + b"v" * (1 << 20) + b"\x00"))
        elif kind == "body":
            s.sendall(OPTNEG + pkt(b"B", rnd(60000)) * 5 + pkt(b"E"))
        elif kind == "early-header":
            s.sendall(OPTNEG + pkt(b"L", b"From\x00x\x00") + pkt(b"R", b"<x@y>\x00") +
                      pkt(b"E") + pkt(b"A") + pkt(b"Q"))
        elif kind == "cut":
            s.sendall(OPTNEG + struct.pack(">I", 100) + b"C" + b"half")
            s.close(); return
        elif kind == "badfamily":
            s.sendall(OPTNEG + pkt(b"C", b"h\x00Z\x00\x00\x00") +
                      pkt(b"C", b"h\x006" + struct.pack(">H", 1) + b"not-an-ip\x00") +
                      pkt(b"M", b"\x00\x00\x00") + pkt(b"R", b"\x00"))
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536): pass
        s.close()
    except OSError:
        pass
kinds = ["binary", "huge", "zero", "optneg-random", "nonul", "big", "body",
         "early-header", "cut", "badfamily"]
EOP
daemon_attack bav-milter "$T/milter.err" 131072

miltertest -D SOCK="unix:$SOCK" -s "$SRC/t/hostile/milter.lua" \
	> "$T/good.out" 2>&1
expect "a good client afterwards (miltertest)" 0 "$?"
grep -q 'FAILED' "$T/good.out" && fail "miltertest: $(cat "$T/good.out")"
daemon_stop "$T/milter.err"
[ $fails -eq 0 ] || { echo "--- bav-milter"; tail -20 "$T/milter.err"; }
finish
