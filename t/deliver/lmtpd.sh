#!/bin/sh
# NAME
#	t/deliver/lmtpd.sh - bav lmtpd: the LMTP dialogue
# DESCRIPTION
#	Starts bav lmtpd on a unix socket (and once on inet) and talks to it
#	with a small Python client: LHLO capabilities; one message to two
#	recipients (two 250 replies, one spool entry naming both, dot
#	unstuffed, CRLF as LF, the recorder records it once); a pipelined
#	transaction in one write; SIZE= over the limit (552) and a body over
#	the limit (552 per recipient); HELO, bad sequences and garbage (500/
#	501/503, 421 after ten); a spool that disappears (451 per
#	recipient); SIGTERM stops it and removes the socket; SIGHUP loads
#	changed --rules (a broken file keeps the old rules).
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip.
. "${top_srcdir:-.}/t/deliver/common.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing"; exit 77; }

S=$T/spool
SOCK=$T/lmtp.sock
pid=
cleanup_hook() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
}
start() {
	"$BAV" lmtpd -s "$1" -t 3 -T 5 --spool "$S" --max-size 20000 \
		--host lmtp.test 2>> "$T/lmtpd.err" &
	pid=$!
	i=0
	while [ $i -lt 50 ]; do
		python3 "$T/client.py" probe "$1" >/dev/null 2>&1 && return 0
		sleep 0.1; i=$((i + 1))
	done
	fail "lmtpd did not start: $(cat "$T/lmtpd.err")"
	exit 1
}

cat > "$T/client.py" <<'EOP'
import socket, sys, time
def conn(spec):
    if spec.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX); s.connect(spec[5:])
    else:
        port, host = spec[5:].split("@")
        s = socket.create_connection((host, int(port)))
    s.settimeout(10)
    return s
def replies(s, n):
    """read n complete replies (multi-line ones count once)"""
    buf = b""; out = []
    while len(out) < n:
        while b"\r\n" not in buf:
            d = s.recv(65536)
            if not d: return out
            buf += d
        line, buf = buf.split(b"\r\n", 1)
        line = line.decode()
        if len(line) > 3 and line[3] == "-":
            out.append(line); out[-1] = None
            out.pop()
            continue
        out.append(line)
    return out
mode, spec = sys.argv[1], sys.argv[2]
s = conn(spec)
print(replies(s, 1)[0])
def send(data, n):
    s.sendall(data.encode() if isinstance(data, str) else data)
    for r in replies(s, n): print(r)
if mode == "probe":
    send("QUIT\r\n", 1)
elif mode == "lhlo":
    s.sendall(b"LHLO client.test\r\n")
    buf = b""
    while not buf.endswith(b"ENHANCEDSTATUSCODES\r\n"):
        d = s.recv(4096)
        if not d: break
        buf += d
    sys.stdout.write(buf.decode().replace("\r\n", "\n"))
    send("QUIT\r\n", 1)
elif mode == "two":
    send("LHLO c\r\n", 1)
    send("MAIL FROM:<> BODY=8BITMIME SIZE=900\r\n", 1)
    send("RCPT TO:<a@loop.test>\r\n", 1)
    send("RCPT TO:<b@loop.test>\r\n", 1)
    send("DATA\r\n", 1)
    msg = open(sys.argv[3], "rb").read().replace(b"\r\n", b"\n")
    msg = msg.replace(b"\n.", b"\n..").replace(b"\n", b"\r\n")
    send(msg + b".\r\n", 2)
    send("QUIT\r\n", 1)
elif mode == "pipeline":
    send("LHLO c\r\nMAIL FROM:<x@y>\r\nRCPT TO:<a@loop.test>\r\n"
         "RCPT TO:<bad\r\nRCPT TO:<c@loop.test>\r\nDATA\r\n", 6)
    send("Subject: pipelined\r\n\r\nbody\r\n.\r\nNOOP\r\nRSET\r\nQUIT\r\n", 5)
elif mode == "size":
    send("LHLO c\r\n", 1)
    send("MAIL FROM:<x@y> SIZE=999999\r\n", 1)
    send("MAIL FROM:<x@y> FOO=1\r\n", 1)
    send("MAIL FROM:<x@y>\r\nRCPT TO:<a@l>\r\nRCPT TO:<b@l>\r\nDATA\r\n", 4)
    send("Subject: big\r\n\r\n" + ("x" * 999 + "\r\n") * 30 + ".\r\n", 2)
    send("QUIT\r\n", 1)
elif mode == "garbage":
    send("HELO c\r\n", 1)
    send("MAIL FROM:<x@y>\r\n", 1)
    send("LHLO c\r\nRCPT TO:<a@b>\r\nDATA\r\n", 3)
    send("MAIL FROM:<x@y>\r\nDATA\r\nMAIL FROM:<z@y>\r\n", 3)
    send("X" * 3000 + "\r\n", 1)
    send("\x00\x01binary\r\nfoo\r\nbar\r\n\r\n", 5)
    print(replies(s, 1))
elif mode == "tempfail":
    send("LHLO c\r\nMAIL FROM:<x@y>\r\nRCPT TO:<a@l>\r\nRCPT TO:<b@l>\r\n"
         "DATA\r\n", 5)
    send("Subject: t\r\n\r\nbody\r\n.\r\n", 2)
    send("QUIT\r\n", 1)
EOP

make_bounce 7 > "$T/b7.eml"
printf '.leading dot line\n..two dots\n' >> "$T/b7.eml"

start "unix:$SOCK"
python3 "$T/client.py" lhlo "unix:$SOCK" > "$T/out"
for cap in "250-lmtp.test" 250-PIPELINING "250-SIZE 20000" 250-8BITMIME \
	   "250 ENHANCEDSTATUSCODES"; do
	grep -qx "$cap" "$T/out" && ok "LHLO: $cap" || fail "LHLO: no $cap"
done

python3 "$T/client.py" two "unix:$SOCK" "$T/b7.eml" > "$T/out"
expect "two recipients: two 250 replies" "2" \
	"$(grep -c '^250 2.0.0 <[ab]@loop.test> Ok' "$T/out")"
expect "one spool entry" "1" "$(nfiles "$S/new")"
e=$(ls "$S"/new/* | head -1)
expect "entry names both recipients" "2" "$(grep -c '^R	[ab]@loop.test$' "$e")"
grep -q '^V	bounce' "$e" && ok "classified as bounce" || fail "not a bounce"
grep -q '^\.leading dot line$' "$e" && grep -q '^\.\.two dots$' "$e" &&
	ok "dots unstuffed" || fail "dot stuffing"
grep -q "$(printf '\r')" "$e" && fail "CR left in the entry" ||
	ok "CRLF stored as LF"
grep -q '^Return-Path: <>$' "$e" && ok "Return-Path added" ||
	fail "no Return-Path"

python3 "$T/client.py" pipeline "unix:$SOCK" > "$T/out"
expect "pipelined replies" "220 250 250 250 501 250 354 250 250 250 250 221" \
	"$(cut -c1-3 "$T/out" | tr '\n' ' ' | sed 's/ $//')"

python3 "$T/client.py" size "unix:$SOCK" > "$T/out"
expect "size replies" "220 250 552 555 250 250 250 354 552 552 221" \
	"$(cut -c1-3 "$T/out" | tr '\n' ' ' | sed 's/ $//')"

python3 "$T/client.py" garbage "unix:$SOCK" > "$T/out"
expect "garbage replies" \
	"220 500 503 250 503 503 250 503 503 500 500 500 500 421 []" \
	"$(cut -c1-3 "$T/out" | tr '\n' ' ' | sed 's/ $//')"
expect "spool: pipelined message only" "2" "$(nfiles "$S/new")"

"$BAV" recorder --once --spool "$S" --store "sqlite:$T/db" --quiet
expect "recorder: 2 messages" "2" \
	"$(count "$T/db" 'SELECT COUNT(*) FROM bav_messages')"

mv "$S/tmp" "$S/tmp.away"
python3 "$T/client.py" tempfail "unix:$SOCK" > "$T/out"
expect "spool gone: 451 per recipient" "2" "$(grep -c '^451 4.3.0' "$T/out")"
mv "$S/tmp.away" "$S/tmp"

kill -TERM "$pid"
wait "$pid"
expect "SIGTERM: exit 0" "0" "$?"
pid=
[ -e "$SOCK" ] && fail "socket left behind" || ok "socket removed"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start "inet:$port@127.0.0.1"
python3 "$T/client.py" two "inet:$port@127.0.0.1" "$T/b7.eml" > "$T/out"
expect "inet: two 250 replies" "2" "$(grep -c '^250 2.0.0' "$T/out")"

kill -TERM "$pid"; wait "$pid"; pid=

# SIGHUP reloads the rule files; a broken one keeps the old rules
printf '# no rules of our own\n' > "$T/rules"
printf 'From: a@b.example\nTo: x@loop.test\nSubject: hello world\n\nhello world\n' \
	> "$T/hw.eml"
S=$T/spool-hup
"$BAV" lmtpd -s "unix:$T/hup.sock" -t 2 --spool "$S" --rules "$T/rules" \
	2>> "$T/lmtpd.err" &
pid=$!
i=0
while [ ! -S "$T/hup.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kind() {	# the kind of the newest entry after one more delivery
	python3 -c 'import smtplib, sys
c = smtplib.LMTP(sys.argv[1])
c.sendmail("a@b.example", ["x@loop.test"], open(sys.argv[2], "rb").read())
c.quit()' "$T/hup.sock" "$T/hw.eml"
	sed -n 's/^V	\([a-z]*\).*/\1/p' "$(ls -t "$S"/new/* | head -1)"
}
expect "before SIGHUP" "reply" "$(kind)"
printf '[systemmail]\nhello world\n' > "$T/rules"
kill -HUP "$pid"; sleep 0.5
expect "after SIGHUP: new rules" "systemmail" "$(kind)"
printf '[broken\n' > "$T/rules"
kill -HUP "$pid"; sleep 0.5
kill -0 "$pid" 2>/dev/null && ok "broken rules: still running" ||
	fail "broken rules: lmtpd died"
expect "broken rules: old rules kept" "systemmail" "$(kind)"
grep -q "keeping the old rules" "$T/lmtpd.err" && ok "broken rules reported" ||
	fail "no report of the broken rules"

[ $fails -eq 0 ] || { cat "$T/lmtpd.err"; exit 1; }
exit 0
