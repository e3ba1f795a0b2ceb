#!/bin/sh
# NAME
#	t/deliver/verp.sh - signed VERP return paths: bav verp, bav deliver
# DESCRIPTION
#	bav verp make/check round trip (also upper-cased, as some MTAs
#	return it), a wrong signature, a changed recipient, an expired
#	address and non-addresses. A bounce without a usable recipient
#	delivered to the signed return path names the recipient in the
#	spool entry and in the store (verp, envelope_recipient); one sent to
#	a forged return path does not.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip.
. "${top_srcdir:-.}/t/deliver/common.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing"; exit 77; }

echo "test-verp-key-$$" > "$T/key"
now=$(date +%s)
v() { "$BAV" verp "$@" --secret-file "$T/key"; }
a=$(v make --domain loop.example.com --time "@$now" jane.doe+news@example.org)
expect "make: exit 0" "0" "$?"
case $a in
bounces+jane.doe+news=example.org.?????.??????????@loop.example.com)
	ok "format: $a" ;;
*)	fail "format: $a" ;;
esac
expect "check" "$a	jane.doe+news@example.org" "$(v check "$a")"
up=$(echo "$a" | tr a-z A-Z)
expect "check upper-cased" "$up	JANE.DOE+NEWS@EXAMPLE.ORG" "$(v check "$up")"
other=$(echo "$a" | sed 's/jane.doe/john.doe/')
expect "changed recipient" "$other	-	VERP signature does not match" \
	"$(v check "$other")"
"$BAV" verp check --secret-file "$T/key" "$a" > /dev/null
expect "check: exit 0" "0" "$?"
echo "another-key" > "$T/key2"
expect "other key" "$a	-	VERP signature does not match" \
	"$("$BAV" verp check --secret-file "$T/key2" "$a")"
expect "expired after 30 days" "$a	-	VERP return path expired" \
	"$(v check --time "@$((now + 31 * 86400))" "$a")"
expect "--max-age 60" "$a	jane.doe+news@example.org" \
	"$(v check --max-age 60 --time "@$((now + 31 * 86400))" "$a")"
expect "plain address" "x@y.example	-	not a VERP address" "$(v check x@y.example)"
v make --domain loop.example.com not-an-address 2>/dev/null
expect "make: not an address: exit 1" "1" "$?"
v check x@y.example > /dev/null
expect "check: invalid: exit 1" "1" "$?"
"$BAV" verp make --domain d.example x@y.example 2>/dev/null
expect "no key: 64" "64" "$?"

# deliver: a bounce that names no recipient, to the signed return path
cat > "$T/vague.eml" <<'EOM'
From: postmaster@mx.example.org
To: undisclosed-recipients:;
Subject: Delivery failure
Message-ID: <vague-1@mx.example.org>

Your message could not be delivered. The mailbox is unavailable.
EOM
S=$T/spool
"$BAV" deliver -f "" --spool "$S" --verp-secret-file "$T/key" -- "$a" \
	< "$T/vague.eml"
expect "deliver: exit 0" "0" "$?"
grep -q "^I	.*	$a	" "$S"/new/* && ok "verp in the spool entry" ||
	fail "no verp in the entry: $(grep '^I' "$S"/new/*)"
sed 's/vague-1/vague-2/' "$T/vague.eml" > "$T/vague2.eml"
forged=$(echo "$a" | sed 's/\.[a-z2-7]\{10\}@/.aaaaaaaaaa@/')
"$BAV" deliver -f "" --spool "$S" --verp-secret-file "$T/key" -- "$forged" \
	< "$T/vague2.eml"
"$BAV" recorder --once --spool "$S" --store "sqlite:$T/db" --quiet
expect "store: verp of the signed one" "$a|jane.doe+news@example.org" \
	"$(count "$T/db" "SELECT verp || '|' || envelope_recipient FROM bav_messages WHERE verp <> ''")"
expect "store: forged one has none" "1" \
	"$(count "$T/db" "SELECT COUNT(*) FROM bav_messages WHERE verp = ''")"

[ $fails -eq 0 ] || exit 1
exit 0
