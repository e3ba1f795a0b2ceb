#!/bin/sh
# SPDX-License-Identifier: MIT
#
# NAME
#	report.sh - "bav score" and "bav report" on the fixture store
# SYNOPSIS
#	t/report/report.sh
# DESCRIPTION
#	Writes the deterministic fixture (t/report/fixture) into a store,
#	runs "bav score" twice (the second run must change nothing) and
#	checks every output format of "bav report" against the totals the
#	fixture printed: the text report's sections and totals line, the
#	CSV header and totals row, the JSON document (parsed with python3:
#	totals, top domain, 30 days in the day series, the conversion,
#	diagnostics grouped across recipients), and the HTML page (no
#	script, no external reference, four charts with bars, axes and
#	legends, escaped text). Also: usage errors exit 64, a missing store
#	exits 64, a bad URI 78, --output writes the file.
#
#	The store is $BAV_TEST_STORE (a mariadb:// URI from the MariaDB
#	test server; its bav tables are emptied) or a new SQLite file.
#	Environment: top_srcdir, top_builddir (from make check), BAV.
# DIAGNOSTICS
#	"ok NAME" or "FAIL NAME" per check, then "N passed, N failed";
#	exit 1 on any failure, 77 when no store backend is built.

builddir=${top_builddir:-.}
bav=${BAV:-$builddir/bav/bav}
fixture=$builddir/t/report/fixture
tmp=${TMPDIR:-/tmp}/report-test.$$
mkdir "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
uri=${BAV_TEST_STORE:-sqlite:$tmp/fixture.db}
now=1763683200		# 2025-11-21 00:00:00 UTC

passed=0
failed=0
ok() { echo "ok $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
check() {	# NAME COMMAND...: ok when the command succeeds
	name=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$name"; else fail "$name" "$*"; fi
}

"$fixture" "$uri" $now > "$tmp/expect" 2> "$tmp/fixture.err"
rc=$?
if [ $rc = 77 ]; then
	cat "$tmp/fixture.err"
	exit 77
fi
[ $rc = 0 ] || { cat "$tmp/fixture.err"; echo "FAIL fixture"; exit 1; }
read -r expect < "$tmp/expect"
echo "fixture: $expect"
val() { echo "$expect" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# ---- score ---------------------------------------------------------------
"$bav" score --store "$uri" --now @$now > "$tmp/score1" 2>&1
check "score exits 0" test $? = 0
check "score converts one address" grep -q ' 1 converted' "$tmp/score1"
"$bav" score --store "$uri" --now @$now > "$tmp/score2" 2>&1
check "second score run changes nothing" grep -q ' 0 converted.* 0 changed' \
	"$tmp/score2"
"$bav" score --store "$uri" --now @$now --convert-count x >/dev/null 2>&1
check "score: bad option value exits 64" test $? = 64

# ---- text ----------------------------------------------------------------
"$bav" report --store "$uri" --now @$now > "$tmp/report.txt" 2>&1
check "text report exits 0" test $? = 0
line="$(val total) events: $(val hard) hard bounces, $(val soft) soft bounces"
check "text totals line" grep -q "^$line" "$tmp/report.txt"
for s in "By recipient domain" "By reason" "By day" "By mailing" \
	 "Top diagnostics" "Soft-to-hard conversions"; do
	check "text section $s" grep -q "^$s\$" "$tmp/report.txt"
done
check "text: top domain first" sh -c "sed -n '/^By recipient domain/{n;n;p;}' \
	'$tmp/report.txt' | grep -q '^  $(val top) '"
check "text: conversion listed" grep -q ' full@example.com$' "$tmp/report.txt"

# ---- CSV -----------------------------------------------------------------
"$bav" report --store "$uri" --now @$now --format csv > "$tmp/report.csv"
check "csv header" sh -c "head -1 '$tmp/report.csv' | tr -d '\r' | grep -qx \
	'section,key,date,hard,soft,delay,complaint,unsubscribe,total,addresses,base,hard_rate,complaint_rate'"
check "csv totals row" sh -c "grep -q '^totals,all,,$(val hard),$(val soft),$(val delay),$(val complaint),$(val unsubscribe),$(val total),' '$tmp/report.csv'"
check "csv: every row has 13 fields" python3 -c "
import csv, sys
rows = list(csv.reader(open('$tmp/report.csv', newline='')))
assert len(rows) > 40 and all(len(r) == 13 for r in rows), len(rows)
assert any('<script>' in r[1] and '\"' in r[1] for r in rows)"
check "csv: 30 day rows" test "$(grep -c '^day,' "$tmp/report.csv")" = 30
check "csv: conversion row" grep -q '^conversion,full@example.com,2025-11-20,' \
	"$tmp/report.csv"

# ---- JSON ----------------------------------------------------------------
"$bav" report --store "$uri" --now @$now --format json > "$tmp/report.json"
if command -v python3 >/dev/null 2>&1; then
	python3 - "$tmp/report.json" "$expect" <<'EOF' > "$tmp/json.out" 2>&1
import json, sys
r = json.load(open(sys.argv[1]))
exp = dict(kv.split('=') for kv in sys.argv[2].split())
t = r['totals']
bad = []
for k in ('hard', 'soft', 'delay', 'complaint', 'unsubscribe', 'total'):
    if t[k] != int(exp[k]):
        bad.append('%s: %s != %s' % (k, t[k], exp[k]))
if r['by_domain'][0]['key'] != exp['top']:
    bad.append('top domain ' + r['by_domain'][0]['key'])
if sum(d['total'] for d in r['by_domain']) != t['total']:
    bad.append('domains do not add up')
if sum(d['total'] for d in r['by_day']) != t['total']:
    bad.append('days do not add up')
if len(r['by_day']) != 30 or r['by_day'][0]['date'] != '2025-10-23':
    bad.append('day series %d from %s' % (len(r['by_day']), r['by_day'][0]['date']))
if [c['address'] for c in r['conversions']] != ['full@example.com']:
    bad.append('conversions %r' % r['conversions'])
elif r['conversions'][0]['count'] < 40:
    bad.append('conversion count')
d = [x['key'] for x in r['diagnostics']]
if not any('<address>' in k for k in d) or any('user0' in k for k in d):
    bad.append('diagnostics not grouped: %r' % d[:3])
hr = r['by_domain'][0]['hard_rate']
if hr is None or not 0 < hr < 100:
    bad.append('hard rate %r' % hr)
if r['softbounced'] < 1 or r['addresses'] < 1000:
    bad.append('address counts')
print('\n'.join(bad) if bad else 'json ok')
sys.exit(1 if bad else 0)
EOF
	if [ $? = 0 ]; then ok "json report"; else fail "json report" "$(cat "$tmp/json.out")"; fi
else
	echo "skip json report (no python3)"
fi

# ---- HTML ----------------------------------------------------------------
"$bav" report --store "$uri" --now @$now --format html --title 'Bounces <&> test' \
	--output "$tmp/report.html"
check "html --output exits 0" test $? = 0
h=$tmp/report.html
check "html doctype" grep -q '^<!DOCTYPE html>' "$h"
check "html: no script" sh -c "! grep -qi '<script' '$h'"
check "html: no external reference" sh -c "! grep -Eqi '(src|href)=|url\\(|@import' '$h'"
check "html: title escaped" grep -q '<h1>Bounces &lt;&amp;&gt; test</h1>' "$h"
check "html: four charts" test "$(grep -c '<svg ' "$h")" = 4
check "html: bars" test "$(grep -c 'class="bar seg-' "$h")" -gt 100
check "html: legends" test "$(grep -c '<g class="legend">' "$h")" = 4
check "html: axes" test "$(grep -c 'class="axis ' "$h")" -ge 5
check "html: tooltips" grep -q '<title>example.com — hard bounce: ' "$h"
check "html: day line" grep -q 'class="total-line"' "$h"
check "html: markup in diagnostics escaped" sh -c "grep -q \
	'&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot; &amp; &lt;b&gt;' '$h' && \
	! grep -q '<b>more' '$h'"
check "html: closes" sh -c "tail -1 '$h' | grep -q '</html>'"

# ---- errors --------------------------------------------------------------
"$bav" report --store "$uri" --format pdf >/dev/null 2>&1
check "bad format exits 64" test $? = 64
"$bav" report --store "$uri" --since yesterday >/dev/null 2>&1
check "bad --since exits 64" test $? = 64
env -u BAV_STORE "$bav" report >/dev/null 2>&1
check "no store exits 64" test $? = 64
"$bav" report --store "nosuch:/x" >/dev/null 2>&1
check "bad store URI exits 78" test $? = 78
"$bav" report --store "$uri" --now @$now --since 2025-11-11 --until 2025-11-12 \
	--format json > "$tmp/day.json"
check "one-day period" sh -c "grep -q '\"date\":\"2025-11-11\"' '$tmp/day.json' \
	&& ! grep -q '2025-11-12' '$tmp/day.json'"

"$bav" report --store "$uri" --now @$now --since 2020-01-01 --until 2020-01-08 \
	--format json > "$tmp/empty.json"
check "empty period: zero totals, 7 days" sh -c "grep -q '\"total\":0,' '$tmp/empty.json' \
	&& test \$(grep -c '\"date\":' '$tmp/empty.json') = 7"
"$bav" report --store "$uri" --now @$now --since 2020-01-01 --until 2020-01-08 \
	--format html > "$tmp/empty.html"
check "empty period: charts say so" test "$(grep -c 'class="no-data"' "$tmp/empty.html")" = 4

echo "$passed passed, $failed failed"
[ $failed = 0 ]
