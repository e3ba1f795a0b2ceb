#!/bin/sh
# SPDX-License-Identifier: MIT
# NAME
#	t/emm/maps.sh - bav maps --emm on a real MariaDB with the EMM schema
# DESCRIPTION
#	Loads sql/emm/{schema,seed}.sql into a private mariadbd, adds an
#	inactive company with a filter, a company without a valid domain and
#	a filter with every kind of filter address (an alias in a domain that
#	is a forward target, fbl@, a doubled address, aml_N@, no "@", a bad
#	domain), a multi-address forward, spam options with "," and "%",
#	and an autoresponder without token. Checks bav.conf, the relay
#	domains and the transport map line by line (an old transport entry
#	keeps its value, the old domain of the inactive company goes), that
#	bav-milter -n loads the table, that a second run changes nothing,
#	that postmap makes the .db files; then that a failing query in the
#	middle of the run (mailloop_tbl renamed away after company_tbl was
#	read), mariadbd killed while bav maps waits for a locked mailloop_tbl
#	after reading company_tbl, and a server that is gone leave all three
#	files untouched (exit non-zero, never a shrunken table as bav-update
#	wrote).
# DIAGNOSTICS
#	ok:/FAIL: lines; exit 0 pass, 1 fail, 77 skip.
. "${top_srcdir:-.}/t/emm/tools-lib.sh"
emm_db_start

sqlq "INSERT INTO company_tbl (company_id, shortname, status, mailloop_domain)
	VALUES (3, 'Gone', 'inactive', 'old.example'),
	       (4, 'No domain', 'active', 'localhost');
INSERT INTO mailloop_tbl (rid, company_id, shortname, filter_address)
	VALUES (9, 3, 'old filter', 'info@old.example');
INSERT INTO mailloop_tbl (rid, company_id, shortname, filter_address,
	forward_enable, forward, ar_enable, autoresponder_mailing_id,
	spam_email, spam_forward, spam_required)
	VALUES (4, 2, 'Club misc',
	'Club@Club.Example, fbl@ml.club.example REPLIES@shop.example,aml_7@x.example nodomain bad@-x.example',
	1, ' help@ml.club.example,office@elsewhere.example ', 1, 201,
	'spam@x.example,a%b', 5, 9);" || { echo "FAIL: seed"; exit 1; }

printf 'old.example\tdummy\nshop.example\n' > "$T/relay"
printf 'old.example\tmailloop:\nshop.example\tsmtp:[127.0.0.1]:2525\n' > "$T/transport"
run() {
	"$BAV" maps --emm "emm+$MARIADB_URI&emm_licence=0" --fqdn mx1.example.com \
		--bav-conf "$T/bav.conf" --relay-domains "$T/relay" \
		--transport "$T/transport" "$@"
}
run 2> "$T/err"
expect "maps --emm: exit 0" 0 $?
F=mailloop.shop.example
expect "bav.conf" "@mx1.example.com	accept:rid=local
fbl@$F	accept:rid=fbl
fbl@ml.club.example	alias:fbl@$F
fbl@shop.example	alias:fbl@$F
aml_1@$F	accept:rid=1,cid=1
reply_1@$F	accept:rid=1,cid=1
aml_1@shop.example	alias:aml_1@$F
reply_1@shop.example	alias:reply_1@$F
replies@shop.example	alias:aml_1@$F
aml_2@$F	accept:rid=2,cid=2,fwd=office@club.example
reply_2@$F	accept:rid=2,cid=2,fwd=office@club.example
aml_2@ml.club.example	alias:aml_2@$F
reply_2@ml.club.example	alias:reply_2@$F
aml_3@$F	accept:rid=3,cid=1,ar=3,armid=103,sub=11:1
reply_3@$F	accept:rid=3,cid=1,ar=3,armid=103,sub=11:1
aml_3@shop.example	alias:aml_3@$F
reply_3@shop.example	alias:reply_3@$F
support@shop.example	alias:aml_3@$F
aml_4@$F	accept:rid=4,cid=2,fwd=help@ml.club.example%2Coffice@elsewhere.example,spam_email=spam@x.example%2Ca%25b,spam_fwd=5,spam_req=9
reply_4@$F	accept:rid=4,cid=2,fwd=help@ml.club.example%2Coffice@elsewhere.example,spam_email=spam@x.example%2Ca%25b,spam_fwd=5,spam_req=9
aml_4@ml.club.example	alias:aml_4@$F
reply_4@ml.club.example	alias:reply_4@$F
Club@Club.Example	alias:aml_4@$F" "$(cat "$T/bav.conf")"
expect "relay domains" "$F	dummy
ml.club.example	dummy
shop.example	dummy" "$(cat "$T/relay")"
expect "transport map (old value kept, old domain gone)" "$F	mailloop:
ml.club.example	mailloop:
shop.example	smtp:[127.0.0.1]:2525" "$(cat "$T/transport")"
for w in "company 4: no valid mailloop domain" \
	"filter 4: address fbl@ml.club.example is reserved" \
	"filter 4: address REPLIES@shop.example is used twice" \
	"filter 4: address bad@-x.example has no valid domain" \
	"filter 4: autoresponder needs a mailing id and a security token" \
	"club.example is a forward target, not made a relay domain" \
	"filter 4: forward address help@ml.club.example is in a managed domain"; do
	grep -qF "$w" "$T/err" && ok "warning: $w" || fail "no warning: $w"
done
grep -q "old.example\|info@" "$T/bav.conf" && fail "inactive company's filter in bav.conf"

MILTER=$(cd "$builddir" && pwd)/milter/bav-milter
if [ -x "$MILTER" ]; then
	"$MILTER" -n -c "$T/bav.conf" > "$T/milter.out" 2>&1
	expect "bav-milter -n loads the table" 0 $?
	grep -q "23 entries, 5 domains" "$T/milter.out" && ok "milter: 23 entries, 5 domains" ||
		fail "milter: $(cat "$T/milter.out")"
else
	echo "note: bav-milter not built, table load checked by bav maps only"
fi

ls -l --time-style=full-iso "$T/bav.conf" "$T/relay" "$T/transport" > "$T/before"
cksum "$T/bav.conf" "$T/relay" "$T/transport" >> "$T/before"
sleep 1
run 2>/dev/null
expect "second run: exit 0" 0 $?
ls -l --time-style=full-iso "$T/bav.conf" "$T/relay" "$T/transport" > "$T/after"
cksum "$T/bav.conf" "$T/relay" "$T/transport" >> "$T/after"
cmp -s "$T/before" "$T/after" && ok "second run: no file rewritten" ||
	fail "second run rewrote a file"

if command -v postmap >/dev/null 2>&1; then
	run --map-type hash 2>/dev/null
	expect "map-type hash: exit 0" 0 $?
	[ -f "$T/relay.db" ] && [ -f "$T/transport.db" ] &&
		ok "postmap made relay.db and transport.db" ||
		fail "no .db files after --map-type hash"
	expect "postmap -q transport" "mailloop:" \
		"$(postmap -q ml.club.example "hash:$T/transport")"
fi

# the database fails in the middle of the run: company_tbl is read,
# mailloop_tbl is gone; then the server itself is gone
sqlq "DELETE FROM mailloop_tbl WHERE rid = 2"
sqlq "RENAME TABLE mailloop_tbl TO mailloop_away"
run 2> "$T/err"
rc=$?
[ $rc -ne 0 ] && ok "query fails mid-run: exit $rc" || fail "query fails mid-run: exit 0"
grep -q "files left unchanged" "$T/err" && ok "says files left unchanged" ||
	fail "message: $(cat "$T/err")"
ls -l --time-style=full-iso "$T/bav.conf" "$T/relay" "$T/transport" > "$T/after"
cksum "$T/bav.conf" "$T/relay" "$T/transport" >> "$T/after"
cmp -s "$T/before" "$T/after" && ok "mid-run failure: old tables kept" ||
	fail "mid-run failure changed a table"
sqlq "RENAME TABLE mailloop_away TO mailloop_tbl"
# the server dies while bav maps waits in the middle of its reads:
# another session holds a write lock on mailloop_tbl, so company_tbl is
# read and the mailloop_tbl query hangs until mariadbd is killed
mariadb --no-defaults --socket="$MARIADB_SOCK" -uroot bav \
	-e "LOCK TABLES mailloop_tbl WRITE; SELECT SLEEP(60)" >/dev/null 2>&1 &
locker=$!
i=0
until sqlq "SHOW PROCESSLIST" | grep -q "User sleep"; do
	i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1
done
run 2> "$T/err" &
maps=$!
i=0
until sqlq "SHOW PROCESSLIST" | grep -q "metadata lock"; do
	i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1
done
[ $i -le 100 ] && ok "bav maps waits inside its reads" ||
	fail "bav maps never waited for the lock"
mariadb_kill
wait $maps
expect "server killed mid-run: exit 75" 75 $?
wait $locker 2>/dev/null
ls -l --time-style=full-iso "$T/bav.conf" "$T/relay" "$T/transport" > "$T/after"
cksum "$T/bav.conf" "$T/relay" "$T/transport" >> "$T/after"
cmp -s "$T/before" "$T/after" && ok "server killed mid-run: old tables kept" ||
	fail "server killed mid-run changed a table"
run 2> "$T/err"
expect "server gone: exit 75" 75 $?
ls -l --time-style=full-iso "$T/bav.conf" "$T/relay" "$T/transport" > "$T/after"
cksum "$T/bav.conf" "$T/relay" "$T/transport" >> "$T/after"
cmp -s "$T/before" "$T/after" && ok "server gone: old tables kept" ||
	fail "server gone changed a table"
grep -q "aml_2@" "$T/bav.conf" && ok "bav.conf still has every filter" ||
	fail "bav.conf lost a filter"

echo "$fails failed"
[ $fails -eq 0 ]
