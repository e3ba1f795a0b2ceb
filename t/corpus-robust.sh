#!/bin/bash
# NAME
#	corpus-robust.sh - bav classify on damaged and hostile input, no crash
# SYNOPSIS
#	BAV=build/asan/bav/bav t/corpus-robust.sh
# DESCRIPTION
#	Meant for the --enable-sanitizers build. For every corpus message
#	($CORPUS_DIR, default ../shared/corpus/sisimai/eml beside the source
#	tree) it writes variants to a temporary directory: the original, CRLF
#	and CR-only line endings, truncations at 10 %, 50 % and 90 % of the
#	bytes (cut inside a line), deterministic bit flips (byte i*prime mod
#	len) and inserted NUL bytes. It adds generated hostile messages (MIME
#	nested 1000 deep, a 1 MB header line, a 10 000-recipient DSN, 100 000
#	header fields, 3000 parts, an unterminated multipart, binary junk, a
#	60 MB message under the size limit and one over it) -- generated
#	here, never committed.
#
#	`bav classify --json` runs over each variant family in one process.
#	A run fails when the process dies by a signal, exits with anything
#	but 0 or 1, takes longer than $TIMEOUT seconds, or prints an
#	AddressSanitizer, LeakSanitizer or UndefinedBehaviorSanitizer report.
#	The message over the size limit must give exit 1 and an error naming
#	the limit. When a family fails its files are re-run one by one and the
#	first culprits are listed; the directory is then kept.
#
#	The corpus is evaluation data: nothing of it is copied into the tree.
# ENVIRONMENT
#	BAV (default ./bav/bav, then build/plain/bav/bav), CORPUS_DIR,
#	TIMEOUT (default 600), KEEP=1 keeps the variants, NOHOSTILE=1,
#	BIG_MB (size of the large message under the limit, default 60).
# DIAGNOSTICS
#	Ends with "N passed, N failed"; exit 0 ok, 1 failure, 77 no corpus
#	(the hostile inputs still run then, and decide the exit status
#	if they fail).
set -u
srcdir=$(cd "$(dirname "$0")/.." && pwd)
CORPUS_DIR=${CORPUS_DIR:-$srcdir/../shared/corpus/sisimai/eml}
TIMEOUT=${TIMEOUT:-600}
BIG_MB=${BIG_MB:-60}
if [ -z "${BAV:-}" ]; then
	for BAV in ./bav/bav "$srcdir/build/plain/bav/bav" "$srcdir/build/bav/bav"; do
		[ -x "$BAV" ] && break
	done
fi
if [ ! -x "$BAV" ]; then
	echo "corpus-robust.sh: no bav binary (set BAV=)" >&2
	exit 1
fi
: "${ASAN_OPTIONS:=detect_leaks=1:abort_on_error=0:exitcode=86}"
: "${LSAN_OPTIONS:=exitcode=86}"
: "${UBSAN_OPTIONS:=halt_on_error=1:print_stacktrace=1:exitcode=87}"
export ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS

work=$(mktemp -d "${TMPDIR:-/tmp}/bav-robust.XXXXXX")
passed=0
failed=0
keep=${KEEP:-}
cleanup() { [ "$keep" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT

# ---- generate the variants ----------------------------------------------------
have_corpus=no
if [ -d "$CORPUS_DIR" ] && ls "$CORPUS_DIR"/*.eml >/dev/null 2>&1; then
	have_corpus=yes
fi
[ "$have_corpus" = yes ] || echo "corpus-robust.sh: no corpus in $CORPUS_DIR, hostile inputs only"

python3 - "$work" "$have_corpus" "$CORPUS_DIR" "${NOHOSTILE:-0}" "$BIG_MB" <<'PYEOF' || { echo "corpus-robust.sh: generator failed" >&2; exit 1; }
import os, sys, glob

work, have_corpus, corpus, nohostile, big_mb = sys.argv[1:6]

def put(kind, name, data):
    d = os.path.join(work, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as fh:
        fh.write(data)

def lf(data):
    return data.replace(b"\r\n", b"\n")

def cut(data, frac):
    n = int(len(data) * frac)
    while 0 < n < len(data) and data[n - 1:n] == b"\n":
        n -= 1          # cut inside a line, not at its end
    return data[:n]

def flip(data, count, prime, mask):
    b = bytearray(data)
    for i in range(1, count + 1):
        if b:
            b[(i * prime) % len(b)] ^= mask
    return bytes(b)

def nuls(data):
    b = bytearray(data)
    for i in (1, 2, 3):
        if b:
            b.insert((i * 104729) % len(b), 0)
    if b:
        b[(7 * 15485863) % len(b)] = 0
    return bytes(b)

if have_corpus == "yes":
    for path in sorted(glob.glob(os.path.join(corpus, "*.eml"))):
        name = os.path.basename(path)
        data = open(path, "rb").read()
        put("original", name, data)
        put("crlf", name, lf(data).replace(b"\n", b"\r\n"))
        put("cr", name, lf(data).replace(b"\n", b"\r"))
        for pct in (10, 50, 90):
            put("trunc%d" % pct, name, cut(data, pct / 100.0))
        put("flip1", name, flip(data, 1, 7919, 0x01))
        put("flip8", name, flip(data, 8, 104723, 0x20))
        put("flip16", name, flip(data, 16, 1299709, 0xff))
        put("nul", name, nuls(data))

if nohostile == "1":
    sys.exit(0)

H = b"From: MAILER-DAEMON@example.org\nTo: sender@example.org\nSubject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"

def dsn(nrcpt, extra_hdr=b""):
    out = [H, extra_hdr, b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n',
           b"--b\nContent-Type: text/plain\n\nDelivery failed.\n\n--b\nContent-Type: message/delivery-status\n\n",
           b"Reporting-MTA: dns; mx.example.org\n"]
    for i in range(nrcpt):
        out.append(b"\nFinal-Recipient: rfc822; user%d@example.net\nAction: failed\nStatus: 5.1.1\n"
                   b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\n" % i)
    out.append(b"\n--b--\n")
    return b"".join(out)

# MIME nested 1000 deep (and 40 deep, just over the default depth limit)
for depth in (40, 1000):
    parts = [H]
    for i in range(depth):
        parts.append(b'Content-Type: multipart/mixed; boundary="n%d"\n\n--n%d\n' % (i, i))
    parts.append(b"Content-Type: text/plain\n\nleaf\n")
    for i in reversed(range(depth)):
        parts.append(b"\n--n%d--\n" % i)
    put("hostile", "nested-%d.eml" % depth, b"".join(parts))
# message/rfc822 nested 1000 deep
put("hostile", "rfc822-nested-1000.eml",
    (H + b"Content-Type: message/rfc822\n\n") * 1000 + b"Subject: x\n\nbody\n")
# a 1 MB header line, and a 1 MB folded header
put("hostile", "header-1mb.eml", H + b"X-Long: " + b"x" * (1 << 20) + b"\n\nbody\n")
put("hostile", "header-1mb-folded.eml",
    H + b"X-Folded: start" + b"\n continued" * 100000 + b"\n\nbody\n")
# 10 000 recipients (the default limit) and a few more
put("hostile", "dsn-10000-rcpt.eml", dsn(10000))
put("hostile", "dsn-10050-rcpt.eml", dsn(10050))
# 100 000 header fields
put("hostile", "headers-100000.eml", H + b"X-H: v\n" * 100000 + b"\nbody\n")
# 3000 parts
put("hostile", "parts-3000.eml", H + b'Content-Type: multipart/mixed; boundary="p"\n\n'
    + b"--p\nContent-Type: text/plain\n\npart\n" * 3000 + b"--p--\n")
# unterminated multipart, boundary never seen, empty boundary
put("hostile", "unterminated.eml", dsn(3)[:-8])
put("hostile", "no-boundary.eml", H + b'Content-Type: multipart/report; report-type=delivery-status\n\nno boundary\n')
put("hostile", "empty-boundary.eml", H + b'Content-Type: multipart/mixed; boundary=""\n\n--\n\n----\n')
# CR-only line endings, mixed endings
put("hostile", "cr-only-dsn.eml", dsn(5).replace(b"\n", b"\r"))
put("hostile", "mixed-endings.eml", b"".join(
    l + (b"\r\n", b"\n", b"\r")[i % 3] for i, l in enumerate(dsn(5).split(b"\n"))))
# empty file, header only, no header, a line of 8 MB without newline
put("hostile", "empty.eml", b"")
put("hostile", "header-only.eml", H)
put("hostile", "no-colon.eml", b"this is not a header\n\nbody\n")
put("hostile", "long-body-line.eml", H + b"\n" + b"y" * (8 << 20))
# broken encodings
put("hostile", "bad-base64.eml", H + b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
    + b"!!!!====AAAA@@@\n" * 1000 + b"QUJD\n=\n")
put("hostile", "bad-qp.eml", H + b"Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n"
    + b"=\n=4\n=ZZ=0=\n" * 1000)
put("hostile", "encoded-words.eml", b"From: x@example.org\nSubject: " + b"=?utf-8?B?w6Q=?= =?x?Q?=ZZ?= =?utf-8?B?*?= " * 5000 + b"\n\nb\n")
# deterministic binary junk
x = 2463534242
junk = bytearray()
for _ in range(1 << 18):
    x ^= (x << 13) & 0xffffffff; x ^= x >> 17; x ^= (x << 5) & 0xffffffff
    junk.append(x & 0xff)
put("hostile", "junk.eml", bytes(junk))
put("hostile", "junk-after-header.eml", H + b"Content-Type: message/delivery-status\n\n" + bytes(junk))

# big messages: under the size limit (exit 0 or 1, no crash) and over it
def big(nbytes):
    head = dsn(1)[:-6] + b'--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n'
    line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\n"
    n = max(0, (nbytes - len(head) - 6) // len(line))
    return head + line * n + b"\n--b--\n"
big_dir = os.path.join(work, "big")
os.makedirs(big_dir, exist_ok=True)
with open(os.path.join(big_dir, "under-limit.eml"), "wb") as fh:
    fh.write(big(int(big_mb) * 1000 * 1000))
with open(os.path.join(big_dir, "over-limit.eml"), "wb") as fh:
    fh.write(big(66 * 1024 * 1024 + 4096))    # default limit: 64 MiB
PYEOF

# ---- run ---------------------------------------------------------------------
is_bad() {	# rc errfile -> 0 when the run is bad
	local rc=$1 err=$2
	[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] || return 0
	grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)' "$err" && return 0
	return 1
}

run_family() {	# name files...
	local name=$1
	shift
	local out=$work/${name//\//_}.out err=$work/${name//\//_}.err rc
	timeout "$TIMEOUT" "$BAV" classify --json "$@" > "$out" 2> "$err"
	rc=$?
	if ! is_bad $rc "$err"; then
		printf 'PASS: %-30s %4d files, exit %d, %d stderr lines\n' "$name" $# $rc "$(wc -l < "$err")"
		passed=$((passed + 1))
		rm -f "$out"
		return 0
	fi
	printf 'FAIL: %-30s %4d files, exit %d%s\n' "$name" $# $rc "$([ $rc -eq 124 ] && echo ' (timeout)')"
	grep -m 20 -E 'ERROR: |runtime error:|SUMMARY: |^    #[0-9]' "$err" | head -n 30
	failed=$((failed + 1))
	keep=1
	if [ $# -gt 1 ]; then
		local n=0 f
		for f in "$@"; do
			timeout "$TIMEOUT" "$BAV" classify --json "$f" > /dev/null 2> "$work/one.err"
			rc=$?
			if is_bad $rc "$work/one.err"; then
				echo "  culprit: $f (exit $rc)"
				n=$((n + 1))
				[ $n -ge 10 ] && { echo "  (more not listed)"; break; }
			fi
		done
	fi
	return 1
}

for dir in "$work"/*/; do
	name=$(basename "$dir")
	[ "$name" = big ] && continue
	if [ "$name" = hostile ]; then
		# one process per file: each of them is large or nasty on its own
		for f in "$dir"*; do
			run_family "hostile/$(basename "$f" .eml)" "$f"
		done
	else
		run_family "$name" "$dir"*.eml
	fi
done

if [ -d "$work/big" ]; then
	run_family big-under "$work/big/under-limit.eml"
	f=$work/big/over-limit.eml
	timeout "$TIMEOUT" "$BAV" classify --json "$f" > /dev/null 2> "$work/over.err"
	rc=$?
	if [ $rc -eq 1 ] && ! is_bad $rc "$work/over.err" &&
		grep -qiE 'limit|too (large|big)|size' "$work/over.err"; then
		echo "PASS: big-over   exit 1: $(head -c 200 "$work/over.err" | head -n 1)"
		passed=$((passed + 1))
	else
		echo "FAIL: big-over   want exit 1 and an error naming the size limit, got exit $rc:"
		head -c 2000 "$work/over.err"
		failed=$((failed + 1))
		keep=1
	fi
fi

[ "$keep" = 1 ] && echo "corpus-robust.sh: variants kept in $work"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] || exit 1
[ "$have_corpus" = yes ] || exit 77
exit 0
