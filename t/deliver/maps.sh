#!/bin/sh
# NAME
#	t/deliver/maps.sh - bav maps: bav.conf, relay_domains, transport
# DESCRIPTION
#	Fills bav_mailloop of an SQLite store with three filters (forward,
#	autoresponder with and without a token, spam options, a reject
#	filter, filter addresses in two more domains, an fbl@ and a doubled
#	address that must be refused, a value with "," and "%") and checks
#	the three files against the expected text; a second run changes
#	nothing (same mtime); with --map-type hash the .db files are made
#	(when postmap exists). With the store unusable (no schema; a MariaDB
#	server that is down: exit 75) every file keeps its old content.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip.
. "${top_srcdir:-.}/t/deliver/common.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing"; exit 77; }

DB=$T/bav.db
"$BAV" store init --store "sqlite:$DB" >/dev/null || { fail "store init"; exit 1; }
sqlite3 "$DB" <<'EOS'
INSERT INTO bav_mailloop (rid, company_id, filter_address, address_action,
	forward_enable, forward, ar_enable, autoresponder_mailing_id,
	security_token, spam_email, spam_forward)
VALUES (12, 1, 'Bounces@News.Example.org, aml_99@x.example, fbl@news.example.org',
	'accept', 1, 'info@example.org', 1, 345, 'tok', 'spam@example.org,x%y', 5);
INSERT INTO bav_mailloop (rid, company_id, filter_address, forward_enable,
	forward, ar_enable, autoresponder_mailing_id, subscribe_enable,
	mailinglist_id, form_id)
VALUES (13, 2, 'bounces@news.example.org shop@shop.example', 0,
	'not@used.example', 1, 346, 1, 7, 8);
INSERT INTO bav_mailloop (rid, company_id, filter_address, address_action)
VALUES (14, 0, 'nodomain', 'reject');
EOS

run() {
	"$BAV" maps --store "sqlite:$DB" --filter-domain Filter.Example.com \
		--fqdn mx1.example.com --bav-conf "$T/bav.conf" \
		--relay-domains "$T/relay" --transport "$T/transport" "$@"
}
run 2> "$T/err"
expect "maps: exit 0" "0" "$?"
cat > "$T/want.conf" <<'EOC'
@mx1.example.com	accept:rid=local
fbl@filter.example.com	accept:rid=fbl
fbl@news.example.org	alias:fbl@filter.example.com
fbl@shop.example	alias:fbl@filter.example.com
aml_12@filter.example.com	accept:rid=12,cid=1,fwd=info@example.org,spam_email=spam@example.org%2Cx%25y,spam_fwd=5,ar=12,armid=345
reply_12@filter.example.com	accept:rid=12,cid=1,fwd=info@example.org,spam_email=spam@example.org%2Cx%25y,spam_fwd=5,ar=12,armid=345
aml_12@news.example.org	alias:aml_12@filter.example.com
reply_12@news.example.org	alias:reply_12@filter.example.com
aml_12@shop.example	alias:aml_12@filter.example.com
reply_12@shop.example	alias:reply_12@filter.example.com
Bounces@News.Example.org	alias:aml_12@filter.example.com
aml_13@filter.example.com	accept:rid=13,cid=2,sub=7:8
reply_13@filter.example.com	accept:rid=13,cid=2,sub=7:8
aml_13@news.example.org	alias:aml_13@filter.example.com
reply_13@news.example.org	alias:reply_13@filter.example.com
aml_13@shop.example	alias:aml_13@filter.example.com
reply_13@shop.example	alias:reply_13@filter.example.com
shop@shop.example	alias:aml_13@filter.example.com
aml_14@filter.example.com	reject
reply_14@filter.example.com	reject
aml_14@news.example.org	alias:aml_14@filter.example.com
reply_14@news.example.org	alias:reply_14@filter.example.com
aml_14@shop.example	alias:aml_14@filter.example.com
reply_14@shop.example	alias:reply_14@filter.example.com
EOC
diff -u "$T/want.conf" "$T/bav.conf" > "$T/diff" && ok "bav.conf" ||
	{ fail "bav.conf"; cat "$T/diff"; }
printf 'filter.example.com\tdummy\nnews.example.org\tdummy\nshop.example\tdummy\n' \
	> "$T/want.relay"
cmp -s "$T/want.relay" "$T/relay" && ok "relay_domains" ||
	{ fail "relay_domains"; cat "$T/relay"; }
printf 'filter.example.com\tbav:\nnews.example.org\tbav:\nshop.example\tbav:\n' \
	> "$T/want.transport"
cmp -s "$T/want.transport" "$T/transport" && ok "transport" ||
	{ fail "transport"; cat "$T/transport"; }
grep -q "filter 12: address fbl@news.example.org is reserved" "$T/err" &&
	ok "fbl@ refused" || fail "fbl@: $(cat "$T/err")"
grep -q "filter 13: address bounces@news.example.org is used twice" "$T/err" &&
	ok "doubled address refused" || fail "doubled: $(cat "$T/err")"
grep -q "filter 13: autoresponder needs" "$T/err" &&
	ok "autoresponder without token disabled" || fail "ar: $(cat "$T/err")"

# unchanged: not rewritten
touch -d "2020-01-01" "$T/bav.conf" "$T/relay" "$T/transport"
run 2>/dev/null
expect "second run: bav.conf not rewritten" "2020" "$(date -r "$T/bav.conf" +%Y)"

# postmap for hash maps
if [ -x /usr/sbin/postmap ]; then
	run --map-type hash 2>/dev/null
	expect "hash: exit 0" "0" "$?"
	[ -f "$T/relay.db" ] && [ -f "$T/transport.db" ] && ok "postmap ran" ||
		fail "no .db files"
	expect "postmap -q" "bav:" "$(/usr/sbin/postmap -q shop.example "hash:$T/transport")"
fi

# store trouble: nothing changes
cp "$T/bav.conf" "$T/keep.conf"
sqlite3 "$T/other.db" 'CREATE TABLE x(y)'
"$BAV" maps --store "sqlite:$T/other.db" --filter-domain filter.example.com \
	--bav-conf "$T/bav.conf" --relay-domains "$T/relay" \
	--transport "$T/transport" 2>/dev/null
rc=$?
[ $rc -ne 0 ] && ok "no schema: exit $rc" || fail "no schema: exit 0"
cmp -s "$T/keep.conf" "$T/bav.conf" && ok "no schema: bav.conf kept" ||
	fail "no schema: bav.conf changed"
# a database server that is down (nothing listens on port 1)
if ! "$BAV" store init --store "mariadb://x@127.0.0.1:1/x" 2>&1 |
     grep -q 'not built'; then
	"$BAV" maps --store "mariadb://bav@127.0.0.1:1/bav" \
		--filter-domain filter.example.com --bav-conf "$T/bav.conf" \
		--relay-domains "$T/relay" --transport "$T/transport" \
		2>/dev/null
	expect "database down: 75" "75" "$?"
	cmp -s "$T/keep.conf" "$T/bav.conf" && ok "database down: bav.conf kept" ||
		fail "database down: bav.conf changed"
	cmp -s "$T/want.relay" "$T/relay" && ok "database down: relay kept" ||
		fail "database down: relay changed"
fi

[ $fails -eq 0 ] || exit 1
exit 0
