#!/bin/sh
# SPDX-License-Identifier: MIT
#
# NAME
#	chromium.sh - the HTML report rendered by headless Chromium
# SYNOPSIS
#	t/report/chromium.sh
# DESCRIPTION
#	Writes the report fixture (t/report/fixture) into a store, runs
#	"bav score" and "bav report --format html", and opens the page in
#	headless Chromium twice:
#	  --dump-dom: the DOM Chromium built must hold the four charts as
#	    SVG elements (svg.chart), stacked bars (rect.bar) of every
#	    series, x and y axes with tick labels, four legends, the daily
#	    total line and the tables;
#	  --screenshot: the PNG (decoded with python3's zlib, no imaging
#	    library needed) must be non-blank: many non-background pixels,
#	    many colours, and the fill colours of the hard-bounce and
#	    soft-bounce bars must appear, i.e. the charts were painted.
#	Chromium runs as a throw-away profile in a temporary directory
#	(--no-sandbox, since tests may run as root) with a timeout.
#
#	The store is $BAV_TEST_STORE or a new SQLite file. Environment:
#	top_builddir (from make check), BAV, CHROMIUM (the browser
#	binary; default chromium, chromium-browser or google-chrome).
# DIAGNOSTICS
#	"ok NAME" or "FAIL NAME" per check, then "N passed, N failed";
#	exit 1 on any failure, 77 when Chromium, python3 or a store
#	backend is missing (build-aux/deps.sh --test installs chromium).

builddir=${top_builddir:-.}
bav=${BAV:-$builddir/bav/bav}
fixture=$builddir/t/report/fixture
now=1763683200		# 2025-11-21 00:00:00 UTC

browser=${CHROMIUM:-}
if [ -z "$browser" ]; then
	for b in chromium chromium-browser google-chrome; do
		if command -v $b >/dev/null 2>&1; then
			browser=$b
			break
		fi
	done
fi
if [ -z "$browser" ]; then
	echo "skip: no chromium (sh build-aux/deps.sh --test installs it)"
	exit 77
fi
command -v python3 >/dev/null 2>&1 || { echo "skip: no python3"; exit 77; }

tmp=${TMPDIR:-/tmp}/report-chromium.$$
mkdir "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
uri=${BAV_TEST_STORE:-sqlite:$tmp/fixture.db}

passed=0
failed=0
ok() { echo "ok $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

"$fixture" "$uri" $now > "$tmp/expect" 2> "$tmp/fixture.err"
rc=$?
[ $rc = 77 ] && { cat "$tmp/fixture.err"; exit 77; }
[ $rc = 0 ] || { cat "$tmp/fixture.err"; echo "FAIL fixture"; exit 1; }
"$bav" score --store "$uri" --now @$now -q || { echo "FAIL score"; exit 1; }
"$bav" report --store "$uri" --now @$now --format html \
	--output "$tmp/report.html" || { echo "FAIL report"; exit 1; }

chrome() {
	timeout 120 "$browser" --headless --no-sandbox --disable-gpu \
		--no-first-run --no-default-browser-check --disable-extensions \
		--disable-dev-shm-usage --hide-scrollbars \
		--user-data-dir="$tmp/profile" "$@" 2> "$tmp/chrome.err"
}

# ---- the DOM Chromium built ---------------------------------------------
chrome --dump-dom "file://$tmp/report.html" > "$tmp/dom.html"
if [ -s "$tmp/dom.html" ]; then
	ok "chromium dumps the DOM"
else
	fail "chromium dumps the DOM" "$(tail -5 "$tmp/chrome.err")"
fi
python3 - "$tmp/dom.html" <<'EOF' > "$tmp/dom.out" 2>&1
import sys
from html.parser import HTMLParser

class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

p = P()
p.feed(open(sys.argv[1], encoding='utf-8').read())
def n(tag, cls=None, start=None):
    c = 0
    for t, a in p.tags:
        classes = (a.get('class') or '').split()
        if t == tag and (cls is None or cls in classes) and \
           (start is None or any(x.startswith(start) for x in classes)):
            c += 1
    return c
checks = [
    ('svg charts', n('svg', 'chart') == 4),
    ('day chart', n('svg', 'chart-days') == 1),
    ('bar charts', n('svg', 'chart-hbars') == 3),
    ('bars', n('rect', 'bar') > 100),
    ('hard bars', n('rect', 'seg-hard') > 10),
    ('soft bars', n('rect', 'seg-soft') > 10),
    ('complaint bars', n('rect', 'seg-complaint') > 5),
    ('legends', n('g', 'legend') == 4),
    ('legend items', n('g', 'legend-item') == 20),
    ('x axes', n('g', 'x-axis') == 4),
    ('y axis', n('g', 'y-axis') == 1),
    ('tick labels', n('text', 'tick') > 20),
    ('grid lines', n('line', 'grid') > 10),
    ('total line', n('polyline', 'total-line') == 1),
    ('chart titles', n('text', 'chart-title') == 4),
    ('tables', n('table') == 3),
    ('summary cards', n('div', 'card') == 9),
    ('no script', n('script') == 0),
]
bad = [name for name, good in checks if not good]
print('bad: ' + ', '.join(bad) if bad else 'dom ok')
sys.exit(1 if bad else 0)
EOF
if [ $? = 0 ]; then ok "DOM has the chart elements"; else fail "DOM has the chart elements" "$(cat "$tmp/dom.out")"; fi

# ---- the screenshot -------------------------------------------------------
chrome --window-size=1400,2200 --screenshot="$tmp/shot.png" \
	"file://$tmp/report.html" > /dev/null
if [ -s "$tmp/shot.png" ]; then
	ok "chromium takes a screenshot"
else
	fail "chromium takes a screenshot" "$(tail -5 "$tmp/chrome.err")"
fi
python3 - "$tmp/shot.png" <<'EOF' > "$tmp/png.out" 2>&1
import struct, sys, zlib

data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat, w = 8, b'', 0
while pos < len(data):
    ln, typ = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + ln]
    if typ == b'IHDR':
        w, h, depth, ctype, _, _, inter = struct.unpack('>IIBBBBB', body)
        assert depth == 8 and ctype in (2, 6) and inter == 0, 'PNG format'
        bpp = 3 if ctype == 2 else 4
    elif typ == b'IDAT':
        idat += body
    pos += 12 + ln
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
pixels = {}
off = 0
for y in range(h):
    f = raw[off]
    line = bytearray(raw[off + 1:off + 1 + stride])
    off += 1 + stride
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1:
            line[i] = (line[i] + a) & 255
        elif f == 2:
            line[i] = (line[i] + b) & 255
        elif f == 3:
            line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
            pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pr) & 255
    for x in range(0, stride, bpp):
        px = bytes(line[x:x + 3])
        pixels[px] = pixels.get(px, 0) + 1
    prev = line
total = w * h
background = max(pixels.values())
near = lambda rgb: sum(v for k, v in pixels.items()
                       if all(abs(k[i] - rgb[i]) <= 6 for i in range(3)))
hard, soft = near((0xc0, 0x39, 0x2b)), near((0xe6, 0x9b, 0x22))
print('%dx%d, %d colours, %.1f%% background, hard %d px, soft %d px'
      % (w, h, len(pixels), 100.0 * background / total, hard, soft))
bad = []
if len(pixels) < 50: bad.append('too few colours')
if background > 0.97 * total: bad.append('blank')
if hard < 500: bad.append('no hard-bounce bars painted')
if soft < 500: bad.append('no soft-bounce bars painted')
print('bad: ' + ', '.join(bad) if bad else 'screenshot ok')
sys.exit(1 if bad else 0)
EOF
if [ $? = 0 ]; then ok "screenshot shows the charts"; else fail "screenshot shows the charts" "$(cat "$tmp/png.out")"; fi
head -1 "$tmp/png.out"
if [ -n "$BAV_KEEP_SCREENSHOT" ]; then
	cp "$tmp/shot.png" "$BAV_KEEP_SCREENSHOT" && echo "screenshot: $BAV_KEEP_SCREENSHOT"
fi

echo "$passed passed, $failed failed"
[ $failed = 0 ]
