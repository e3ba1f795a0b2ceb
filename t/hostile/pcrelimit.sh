#!/bin/sh
# SPDX-License-Identifier: MIT
# NAME
#	t/hostile/pcrelimit.sh - bav-milter logs a rule that hit the PCRE2
#	match limit
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/hostile/pcrelimit.sh
# DESCRIPTION
#	bav-milter -k -K evil.rules (a "(\w+\s?)*$" pattern on Subject) gets
#	a message whose Subject of 40 words ends in "!" (miltertest,
#	t/hostile/pcrelimit.lua). The message must be classified within 20 s
#	(kind=reply: the limit counts as no match) and the filter's log must
#	carry the warning "QUEUEID: cN: rule evil.rules:3 hit the PCRE2
#	match limit (no match)", as bav deliver and bav lmtpd log it. The
#	same log line is written by the Dovecot plugin (i_warning), which is
#	not started here.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (no miltertest or bav-milter).
. "${top_srcdir:-.}/t/hostile/common.sh"
MILTER=$BUILD/milter/bav-milter
[ -x "$MILTER" ] || { echo "SKIP: $MILTER not built"; exit 77; }
command -v miltertest >/dev/null 2>&1 ||
	{ echo "SKIP: miltertest not installed"; exit 77; }
cleanup_hook() {
	[ -f "$T/pid" ] && kill "$(cat "$T/pid")" 2>/dev/null
	:
}
cat > "$T/evil.rules" <<'EOR'
# exponential backtracking on purpose
[systemmail]
^Subject: (\w+\s?)*$
EOR
python3 -c '
import sys
open(sys.argv[1], "w").write(
    "From: a@example.net\nTo: b@loop.test\nSubject: " + "ab " * 40 +
    "!\nMessage-ID: <s@example.net>\n\nhello\n")' "$T/msg.eml"
cp "$SRC/t/milter/bav.conf" "$T/bav.conf"
timeout 60 miltertest -D MILTER="$MILTER" -D TABLE="$T/bav.conf" \
	-D SOCK="unix:$T/sock" -D TMP="$T" -D COMMON="$SRC/t/milter/common.lua" \
	-D TOP="$SRC" -D RULES="$T/evil.rules" -D MSG="$T/msg.eml" \
	-s "$SRC/t/hostile/pcrelimit.lua" > "$T/out" 2>&1
expect "miltertest exit" 0 "$?"
grep -q ": c[0-9]*: rule evil.rules:3 hit the PCRE2 match limit (no match)" \
	"$T/out" && ok "the limit hit is logged with the rule" ||
	fail "no log line: $(grep -i 'limit\|classified' "$T/out")"
grep -q "classified: kind=reply" "$T/out" && ok "classified as a reply" ||
	fail "verdict: $(grep classified "$T/out")"
finish
