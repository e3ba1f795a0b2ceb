#!/usr/bin/env python3
# NAME
#	lmtp-load.py - send N distinct bounces to an LMTP server
# SYNOPSIS
#	python3 t/deliver/lmtp-load.py unix:/path|inet:PORT@HOST N CONNECTIONS
#		[FIRST]
# DESCRIPTION
#	Opens CONNECTIONS connections and sends messages FIRST..FIRST+N-1
#	(RFC 3464 reports written for the t/deliver tests, each with its own
#	Message-ID and failed recipient user<i>@example.org) spread over
#	them, one transaction per message, and checks every reply. Prints
#	"N msgs in S s: R msg/s".
# DIAGNOSTICS
#	Exit 0 when every message got 250, 1 otherwise.
import socket
import sys
import threading
import time


def bounce(i):
    return ("From: MAILER-DAEMON@mx.load.example\r\n"
            "To: bounces@lmtp.test\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\n"
            "Message-ID: <load-%d@mx.load.example>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status;"
            " boundary=\"L%d\"\r\n\r\n"
            "--L%d\r\nContent-Type: text/plain\r\n\r\n"
            "Your message could not be delivered.\r\n\r\n"
            "--L%d\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.load.example\r\n\r\n"
            "Final-Recipient: rfc822; user%d@example.org\r\n"
            "Action: failed\r\nStatus: 5.1.1\r\n"
            "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
            "--L%d--\r\n" % (i, i, i, i, i, i)).encode()


def connect(spec):
    if spec.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX)
        s.connect(spec[5:])
    else:
        port, host = spec[5:].split("@")
        s = socket.create_connection((host, int(port)))
    s.settimeout(60)
    return s


def reply(f):
    line = f.readline()
    while line[3:4] == b"-":
        line = f.readline()
    return line


errors = []


def worker(spec, numbers):
    s = connect(spec)
    f = s.makefile("rb")
    reply(f)
    s.sendall(b"LHLO load.example\r\n")
    reply(f)
    for i in numbers:
        # pipelined envelope
        s.sendall(b"MAIL FROM:<>\r\nRCPT TO:<bounces@lmtp.test>\r\nDATA\r\n")
        r = [reply(f) for _ in range(3)]
        if not r[2].startswith(b"354"):
            errors.append((i, r))
            continue
        s.sendall(bounce(i) + b".\r\n")
        r = reply(f)
        if not r.startswith(b"250"):
            errors.append((i, r))
    s.sendall(b"QUIT\r\n")
    reply(f)
    s.close()


def main():
    spec, n, conns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    first = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    numbers = list(range(first, first + n))
    t = time.time()
    threads = [threading.Thread(target=worker,
                                args=(spec, numbers[k::conns]))
               for k in range(conns)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    d = time.time() - t
    print("%d msgs in %.2f s: %.0f msg/s" % (n, d, n / d))
    for e in errors[:5]:
        print("error:", e, file=sys.stderr)
    return 1 if errors else 0


sys.exit(main())
