#!/bin/sh
# NAME
#	expect.sh - check `bav classify --json` against t/data/golden/EXPECT.tsv
# SYNOPSIS
#	t/expect.sh [FILE.eml ...]
# DESCRIPTION
#	Runs $top_builddir/bav/bav classify --json on every fixture listed in
#	t/data/golden/EXPECT.tsv (or only on the named ones) and compares the
#	kind and, per result in report order, recipient, reason, status and
#	hard flag. Prints "ok FILE" or "FAIL FILE: FIELD got X want Y" per
#	fixture and a final "N passed, N failed".
#
#	EXPECT.tsv columns: file kind recipients reasons statuses hard.
#	List fields are comma-separated, one element per expected result.
#	"-" as recipients means "no results". A single element is applied to
#	every result; "-" as an element means an empty value, "*" means any
#	value. Lines starting with "#" and blank lines are ignored.
#
#	BAV=path overrides the binary (useful with a fake for testing this
#	script).
# DIAGNOSTICS
#	exit 0 all passed; 1 a fixture failed; 77 (skip) the bav binary or
#	python3 is missing; 99 the expectation file is broken.
# SEE ALSO
#	t/data/golden/README.md, DESIGN.md (the verdict)
# LICENSE
#	SPDX-License-Identifier: MIT

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=.}"
BAV=${BAV:-$top_builddir/bav/bav}
PYTHON=${PYTHON:-/usr/bin/python3}

if [ ! -x "$BAV" ]; then
	echo "skip: $BAV not built"
	exit 77
fi
if [ ! -x "$PYTHON" ]; then
	echo "skip: $PYTHON not found"
	exit 77
fi

export BAV
exec "$PYTHON" - "$top_srcdir/t/data/golden" "$@" <<'PYEOF'
import json, os, subprocess, sys

golden = sys.argv[1]
only = set(os.path.basename(a) for a in sys.argv[2:])
bav = os.environ["BAV"]

def split_list(field, n):
    """Expand an EXPECT.tsv list field to n elements."""
    items = field.split(",")
    if len(items) == 1 and n != 1:
        items = items * n
    return items

def norm_hard(v):
    if isinstance(v, bool):
        return "1" if v else "0"
    if v is None:
        return ""
    return str(v)

def norm(v):
    return "" if v is None else str(v)

def first_object(text):
    """The verdict: the first JSON value; a list yields its first item."""
    obj, _ = json.JSONDecoder().raw_decode(text.lstrip())
    if isinstance(obj, list):
        obj = obj[0] if obj else {}
    return obj

def check(name, kind, rcpts, reasons, statuses, hard):
    path = os.path.join(golden, name)
    try:
        p = subprocess.run([bav, "classify", "--json", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
    except subprocess.TimeoutExpired:
        return ["timeout"]
    if p.returncode != 0:
        err = p.stderr.decode("utf-8", "replace").strip().splitlines()
        return ["exit status %d (%s)" % (p.returncode, err[0] if err else "")]
    try:
        v = first_object(p.stdout.decode("utf-8", "replace"))
    except (ValueError, IndexError) as e:
        return ["bad JSON: %s" % e]
    results = v.get("results", v.get("recipients", [])) or []
    errs = []
    if norm(v.get("kind")) != kind:
        errs.append("kind got %s want %s" % (norm(v.get("kind")), kind))
    n = 0 if rcpts == "-" else len(rcpts.split(","))
    got_r = [norm(r.get("recipient")) for r in results]
    if rcpts != "*":
        want_r = [] if n == 0 else rcpts.split(",")
        if got_r != want_r:
            errs.append("recipients got %s want %s"
                        % (",".join(got_r) or "-", rcpts))
            return errs
    else:
        n = len(results)
    for field, want, conv in (("reasons", reasons, norm),
                              ("statuses", statuses, norm),
                              ("hard", hard, norm_hard)):
        if want == "*" or n == 0:
            continue
        key = {"reasons": "reason", "statuses": "status"}.get(field, field)
        exp = split_list(want, n)
        if len(exp) != n:
            errs.append("%s: EXPECT.tsv has %d values for %d recipients"
                        % (field, len(exp), n))
            continue
        got = [conv(r.get(key)) for r in results]
        for g, w in zip(got, exp):
            if w != "*" and g != ("" if w == "-" else w):
                errs.append("%s got %s want %s"
                            % (field, ",".join(x or "-" for x in got), want))
                break
    return errs

passed = failed = 0
try:
    f = open(os.path.join(golden, "EXPECT.tsv"), encoding="utf-8")
except OSError as e:
    print("FAIL EXPECT.tsv: %s" % e)
    sys.exit(99)
with f:
    for lineno, line in enumerate(f, 1):
        line = line.rstrip("\r\n")
        if lineno == 1 or not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 6:
            print("FAIL EXPECT.tsv line %d: %d columns, want 6"
                  % (lineno, len(cols)))
            failed += 1
            continue
        if only and cols[0] not in only:
            continue
        errs = check(*cols)
        if errs:
            failed += 1
            print("FAIL %s: %s" % (cols[0], "; ".join(errs)))
        else:
            passed += 1
            print("ok %s" % cols[0])
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PYEOF
