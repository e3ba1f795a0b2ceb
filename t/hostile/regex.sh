#!/bin/sh
# SPDX-License-Identifier: MIT
# NAME
#	t/hostile/regex.sh - a catastrophic regex in a rule file hits the limit
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/hostile/regex.sh
# DESCRIPTION
#	A rule file with exponential-backtracking patterns ("(\w+\s?)*$"
#	style, nested quantifiers) in [systemmail] and [hard], and messages
#	made to make them backtrack (a Subject of 40 words ending in "!",
#	an X-Note of 60, a 20 000-letter line). bav classify and bav deliver
#	must finish within 20 s (they would run for hours without the PCRE2
#	match limit), classify must say on stderr which rule hit the limit
#	("evil.rules:N hit the PCRE2 match limit"), and the verdict is the
#	one without the rule (a limit counts as no match).
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip.
. "${top_srcdir:-.}/t/hostile/common.sh"
TO="timeout 20"

cat > "$T/evil.rules" <<'EOR'
# exponential backtracking on purpose
[systemmail]
^Subject: (\w+\s?)*$
^X-Note: ([a-z]+[ ]?)*$
[hard]
^(x+x+)+y
EOR
"$BAV" rules check "$T/evil.rules" > "$T/out" 2>&1
expect "rules check: the file is valid" 0 "$?"
python3 - "$T" <<'EOP'
import sys
d = sys.argv[1]
open(d + "/subject.eml", "w").write(
    "From: a@example.net\nTo: b@loop.test\nSubject: " + "ab " * 40 +
    "!\nMessage-ID: <s@example.net>\n\nhello\n")
open(d + "/note.eml", "w").write(
    "From: a@example.net\nTo: b@loop.test\nSubject: hi!\n"
    "X-Note: " + "word " * 60 + "!\nMessage-ID: <n@example.net>\n\n"
    "Sorry, I could not deliver your message.\n" + "x" * 20000 + "\n")
EOP
for m in subject note; do
	start=$(date +%s)
	$TO "$BAV" classify --rules "$T/evil.rules" "$T/$m.eml" > "$T/out" \
		2> "$T/err"
	rc=$?
	took=$(($(date +%s) - start))
	expect "$m: classify exit (124: timed out)" 0 "$rc"
	[ "$took" -lt 20 ] && ok "$m: classify took ${took}s" ||
		fail "$m: classify took ${took}s"
	grep -q "rule evil.rules:[0-9]* hit the PCRE2 match limit" "$T/err" &&
		ok "$m: the limit is reported" ||
		fail "$m: no report of the limit: $(cat "$T/err")"
	start=$(date +%s)
	$TO "$BAV" deliver -f a@example.net --rules "$T/evil.rules" \
		--spool "$T/sp" -- x@loop.test < "$T/$m.eml" 2> "$T/err"
	expect "$m: deliver exit" 0 "$?"
	took=$(($(date +%s) - start))
	[ "$took" -lt 20 ] && ok "$m: deliver took ${took}s" ||
		fail "$m: deliver took ${took}s"
done
"$BAV" classify --rules "$T/evil.rules" "$T/subject.eml" 2>/dev/null |
	grep -q '"kind":"reply"' && ok "subject: the verdict without the rule" ||
	fail "subject: the verdict"
finish
