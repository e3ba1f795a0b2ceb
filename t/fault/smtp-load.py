#!/usr/bin/env python3
# NAME
#	smtp-load.py - send numbered messages to an SMTP server, note each reply
# SYNOPSIS
#	python3 t/fault/smtp-load.py PORT RESULTS CONNECTIONS RATE RCPT-FORMAT
#		FIRST COUNT [KIND]
# DESCRIPTION
#	Sends messages FIRST..FIRST+COUNT-1 to 127.0.0.1:PORT, one SMTP
#	session per message, from CONNECTIONS threads together at most RATE
#	messages per second (0: as fast as possible). Message i goes to
#	RCPT-FORMAT % i (or RCPT-FORMAT itself without a %) and carries "Message-ID: <fault-i@load.test>" and
#	"Subject: fault i". KIND "bounce" (the default) sends an RFC 3464
#	report from the null sender for the failed recipient gone-i@example.org;
#	"reply" a human reply from reader-i@reader.test; "mix" takes
#	RCPT-FORMAT as a domain D and sends, by i % 10, 0: a bounce to the
#	unknown nobody-i@D, 1: a reply to reply@D, else: a bounce to
#	bounces@D. Appends one line per message to RESULTS: "i CODE stage
#	text", CODE being the first non-2xx reply code (or 250 when the
#	message was queued, 0 when the connection failed), stage the SMTP
#	command that got it.
# DIAGNOSTICS
#	Exit 0 when it could write every result line, 1 otherwise (the
#	codes are for the caller to judge).
import smtplib
import sys
import threading
import time

port = int(sys.argv[1])
results = sys.argv[2]
conns = int(sys.argv[3])
rate = float(sys.argv[4])
rcpt_fmt = sys.argv[5]
first = int(sys.argv[6])
count = int(sys.argv[7])
kind = sys.argv[8] if len(sys.argv) > 8 else "bounce"
lock = threading.Lock()
out = open(results, "a")
todo = list(range(first, first + count))
start = time.time()
sent = [0]
written = [0]


def message(i, rcpt):
    if kind_of(i) == "reply":
        return ("From: Reader %d <reader-%d@reader.test>\r\n"
                "To: <%s>\r\nSubject: Re: fault %d\r\n"
                "Message-ID: <fault-%d@load.test>\r\n"
                "In-Reply-To: <news-%d@sender.example.com>\r\n\r\n"
                "Thanks for the news, please call me.\r\n"
                % (i, i, rcpt, i, i, i))
    return ("From: MAILER-DAEMON@mx.load.test\r\n"
            "To: <%s>\r\nSubject: fault %d\r\n"
            "Message-ID: <fault-%d@load.test>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status;"
            " boundary=\"F%d\"\r\n\r\n"
            "--F%d\r\nContent-Type: text/plain\r\n\r\n"
            "Your message could not be delivered.\r\n\r\n"
            "--F%d\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.load.test\r\n\r\n"
            "Final-Recipient: rfc822; gone-%d@example.org\r\n"
            "Action: failed\r\nStatus: 5.1.1\r\n"
            "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
            "--F%d--\r\n" % (rcpt, i, i, i, i, i, i, i))


def kind_of(i):
    if kind != "mix":
        return kind
    return ("unknown", "reply")[i % 10] if i % 10 < 2 else "bounce"


def send_one(i):
    k = kind_of(i)
    if kind == "mix":
        rcpt = {"unknown": "nobody-%d@" % i, "reply": "reply@",
                "bounce": "bounces@"}[k] + rcpt_fmt
    else:
        rcpt = rcpt_fmt % i if "%" in rcpt_fmt else rcpt_fmt
    sender = "reader-%d@reader.test" % i if k == "reply" else ""
    stage = "connect"
    try:
        s = smtplib.SMTP("127.0.0.1", port, local_hostname="mx.load.test",
                         timeout=120)
        try:
            stage = "helo"
            code, text = s.ehlo()
            if code != 250:
                return code, stage, text
            stage = "mail"
            code, text = s.mail(sender)
            if code != 250:
                return code, stage, text
            stage = "rcpt"
            code, text = s.rcpt(rcpt)
            if code not in (250, 251):
                return code, stage, text
            stage = "data"
            code, text = s.data(message(i, rcpt).encode())
            return code, stage, text
        finally:
            try:
                s.quit()
            except Exception:
                s.close()
    except smtplib.SMTPResponseException as e:
        return e.smtp_code, stage, e.smtp_error
    except Exception as e:
        return 0, stage, str(e).encode()


def worker():
    while True:
        with lock:
            if not todo:
                return
            i = todo.pop(0)
            if rate > 0:
                due = start + sent[0] / rate
                sent[0] += 1
        if rate > 0 and due > time.time():
            time.sleep(due - time.time())
        code, stage, text = send_one(i)
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        text = " ".join(text.split())
        with lock:
            out.write("%d %d %s %s\n" % (i, code, stage, text))
            out.flush()
            written[0] += 1


threads = [threading.Thread(target=worker) for _ in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
out.close()
sys.exit(0 if written[0] == count else 1)
