#!/bin/sh
# NAME
#	wiring.sh - main.cf keys the subcommands and daemons take as their
#	defaults
# SYNOPSIS
#	top_srcdir=... top_builddir=... sh t/config/wiring.sh
# DESCRIPTION
#	Checks with main.cf files in a temporary directory: bav classify
#	taking rules_files and default_rules when no --rules is given
#	(--rules replacing them, a broken rule file named there exit 78);
#	bav maps writing bav.conf to address_table without --bav-conf;
#	bav verp taking verp_secret (secrets file) and verp_max_age;
#	bav config check refusing the policyd_*_action replies bav-policyd
#	refuses;
#	bav-milter and bav-policyd opening syslog with syslog_facility
#	(a private /dev/log in a mount namespace: root, unshare and socat,
#	else skipped); the MariaDB password taken from the secrets file's
#	store_password, for the bav command and bav-policyd's policyd_store
#	(a private mariadbd, t/store/mariadb-lib.sh; skipped
#	without mariadb-server).
# DIAGNOSTICS
#	Exit 0 pass, 1 fail (each failure printed).

top_srcdir=${top_srcdir:-.}
. "$top_srcdir/t/config/lib.sh"
T=$(mktemp -d /tmp/bav-wiring.XXXXXX) || exit 1
mdb=
cleanup() {
	[ -n "$mdb" ] && mariadb_stop
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

# ---- bav classify: rules_files, default_rules --------------------------------
printf 'From: a@b.example\nTo: x@loop.test\nSubject: hello world\n\nhello world\n' \
	> "$T/hw.eml"
printf '[systemmail]\nhello world\n' > "$T/hw.rules"
printf '# nothing\n' > "$T/empty.rules"
printf 'rules_files = %s/empty.rules, %s/hw.rules\n' "$T" "$T" > "$T/rules.cf"
expect 0 "$BAV" classify "$T/hw.eml"
hasnt "$T/out" '"kind":"systemmail"'
expect 0 "$BAV" -C "$T/rules.cf" classify "$T/hw.eml"
has "$T/out" '"kind":"systemmail"'
BAV_CONFIG=$T/rules.cf expect 0 "$BAV" classify "$T/hw.eml"
has "$T/out" '"kind":"systemmail"'
# --rules replaces rules_files
expect 0 "$BAV" -C "$T/rules.cf" classify --rules "$T/empty.rules" "$T/hw.eml"
hasnt "$T/out" '"kind":"systemmail"'
# default_rules = no is --no-default-rules: the DSN is no longer a bounce
MSG=$top_srcdir/contrib/examples/dsn-userunknown.eml
printf 'default_rules = no\n' > "$T/nodef.cf"
expect 0 "$BAV" classify "$MSG"
has "$T/out" '"kind":"bounce"'
expect 0 "$BAV" classify --no-default-rules "$MSG"
cp "$T/out" "$T/nodef.want"
expect 0 "$BAV" -C "$T/nodef.cf" classify "$MSG"
cmp -s "$T/out" "$T/nodef.want" ||
	bad "default_rules = no differs from --no-default-rules"
printf 'rules_files = %s/missing.rules\n' "$T" > "$T/missing.cf"
expect 78 "$BAV" -C "$T/missing.cf" classify "$T/hw.eml"
has "$T/err" "missing.rules"

# ---- bav maps: store and address_table of main.cf -------------------------
DB=$T/bav.db
if "$BAV" store init --store "sqlite:$DB" > /dev/null 2>&1 &&
   command -v sqlite3 > /dev/null; then
	sqlite3 "$DB" "INSERT INTO bav_mailloop (rid, company_id,
		filter_address, address_action) VALUES (12, 1,
		'bounces@news.example.org', 'accept');"
	printf 'store = sqlite:%s\naddress_table = %s/at.conf\n' "$DB" "$T" \
		> "$T/maps.cf"
	expect 0 "$BAV" -C "$T/maps.cf" maps --filter-domain filter.example.com \
		--fqdn mx1.example.com
	[ -f "$T/at.conf" ] || bad "bav maps did not write address_table"
	has "$T/at.conf" "bounces@news.example.org"
	# --bav-conf wins; no main.cf: nothing written without --bav-conf
	expect 0 "$BAV" -C "$T/maps.cf" maps --filter-domain filter.example.com \
		--fqdn mx1.example.com --bav-conf "$T/flag.conf"
	[ -f "$T/flag.conf" ] || bad "--bav-conf not written"
	rm -f "$T/at.conf"
	expect 0 "$BAV" maps --store "sqlite:$DB" \
		--filter-domain filter.example.com --fqdn mx1.example.com
	[ ! -f "$T/at.conf" ] || bad "bav maps wrote bav.conf unasked"
else
	echo "SKIP: bav maps (no sqlite store)"
fi

# ---- bav verp: verp_secret of the secrets file, verp_max_age --------------
printf 'verp_secret = s3cret\n' > "$T/vsec"; chmod 600 "$T/vsec"
printf 'secrets_file = %s/vsec\nverp_max_age = 2d\n' "$T" > "$T/verp.cf"
expect 0 "$BAV" -C "$T/verp.cf" verp make --domain loop.example \
	--time 1700000000 a@b.example
A=$(cat "$T/out")
expect 0 "$BAV" -C "$T/verp.cf" verp check --time 1700086400 "$A"
has "$T/out" "a@b.example"
# three days later: older than verp_max_age (2d), --max-age overrides
expect 1 "$BAV" -C "$T/verp.cf" verp check --time 1700259200 "$A"
expect 0 "$BAV" -C "$T/verp.cf" verp check --max-age 5 --time 1700259200 "$A"
expect 64 "$BAV" verp check "$A"

# ---- bav config check: the replies of bav-policyd -------------------------
printf 'policyd_reject_action = 550 5.1.1 gone\npolicyd_accept_action = dunno\n' \
	> "$T/act.cf"
expect 0 "$BAV" config check -C "$T/act.cf"
printf 'policyd_reject_action = FROBNICATE now\npolicyd_tempfail_action = 250 ok\n' \
	> "$T/act.cf"
expect 78 "$BAV" config check -C "$T/act.cf"
has "$T/err" "policyd_reject_action: not a Postfix access(5) action"
has "$T/err" "policyd_tempfail_action"
# bav-policyd refuses the same file at start
expect 1 "$POLICYD" -C "$T/act.cf" -n
has "$T/err" "not a Postfix access(5) action"

# ---- store_password of the secrets file (MariaDB) --------------------------
. "$top_srcdir/t/store/mariadb-lib.sh"
mariadb_start "$T"; r=$?
if [ $r = 0 ]; then
	mdb=1
	U="mariadb://bav@127.0.0.1:$MARIADB_PORT/bav"
	printf 'store = %s\nsecrets_file = %s/secrets\n' "$U" "$T" > "$T/db.cf"
	printf '# secrets\nstore_password = %s\n' "$(cat "$MARIADB_DIR/password")" \
		> "$T/secrets"
	chmod 600 "$T/secrets"
	expect 0 "$BAV" -C "$T/db.cf" store init
	expect 0 "$BAV" -C "$T/db.cf" store version
	expect 0 "$BAV" -C "$T/db.cf" score --dry-run --quiet
	# bav-policyd: policyd_store's password from the secrets file too
	expect 0 "$BAV" -C "$T/db.cf" store query "INSERT INTO bav_recipients
		(address, domain, state, state_since) VALUES
		('gone@example.org', 'example.org', 'bounced', 1700000000)"
	printf 'policyd_store = %s\nsecrets_file = %s/secrets\n' "$U" "$T" \
		> "$T/pol.cf"
	printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nsender=\nrecipient=gone@example.org\nclient_address=192.0.2.1\n\n' \
		> "$T/pol.in"
	"$POLICYD" -C "$T/pol.cf" -s stdio -e -L info < "$T/pol.in" \
		> "$T/pol.out" 2> "$T/pol.err"
	has "$T/pol.out" "^action=REJECT"
	printf 'policyd_store = %s\nsecrets_file = %s/none\n' "$U" "$T" \
		> "$T/pol2.cf"
	"$POLICYD" -C "$T/pol2.cf" -s stdio -e -L info < "$T/pol.in" \
		> "$T/pol.out" 2> "$T/pol.err"
	has "$T/pol.out" "^action=DUNNO"
	has "$T/pol.err" "using password: NO"
	# a password file (flag or store_password_file) wins over the secret
	printf 'wrong\n' > "$T/wrong.pw"; chmod 600 "$T/wrong.pw"
	expect 78 "$BAV" -C "$T/db.cf" store version --password-file "$T/wrong.pw"
	has "$T/err" "Access denied"
	printf 'store_password_file = %s/wrong.pw\n' "$T" >> "$T/db.cf"
	expect 78 "$BAV" -C "$T/db.cf" store version
	has "$T/err" "using password: YES"
	# no secret: refused by the server
	printf 'store = %s\nsecrets_file = %s/none\n' "$U" "$T" > "$T/db2.cf"
	expect 78 "$BAV" -C "$T/db2.cf" store version
	has "$T/err" "using password: NO"
	# a secrets file others may read is refused before connecting
	printf 'store = %s\nsecrets_file = %s/secrets\n' "$U" "$T" > "$T/db3.cf"
	chmod 644 "$T/secrets"
	expect 78 "$BAV" -C "$T/db3.cf" store version
	has "$T/err" "secrets"
	mariadb_stop; mdb=
else
	echo "SKIP: store_password (no mariadb-server: $r)"
fi

# ---- syslog_facility: bav-milter, bav-policyd -----------------------------
# In a private mount namespace a tmpfs hides /dev, socat receives what
# syslog(3) sends to /dev/log; <PRI> = facility * 8 + severity, local3 = 19.
if [ "$(id -u)" = 0 ] && command -v unshare > /dev/null &&
   command -v socat > /dev/null &&
   unshare -m true 2> /dev/null; then
	cat > "$T/fac.cf" <<EOF
syslog_facility = local3
address_table = $T/nonexistent.conf
policyd_listen = unix:$T/p.sock
policyd_log_level = notice
EOF
	cat > "$T/ns.sh" <<EOF
mkdir -p "$T/olddev" && mount --bind /dev "$T/olddev" &&
mount -t tmpfs none /dev || exit 1
for n in null zero urandom random; do
	touch /dev/\$n && mount --bind "$T/olddev/\$n" /dev/\$n
done
socat -u UNIX-RECV:/dev/log OPEN:"$T/syslog",creat,append &
sp=\$!
i=0; while [ ! -S /dev/log ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i+1)); done
"$MILTER" -C "$T/fac.cf" -n > /dev/null 2>&1
"$POLICYD" -C "$T/fac.cf" > /dev/null 2>&1 &
pp=\$!
i=0; while [ ! -S "$T/p.sock" ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i+1)); done
kill \$pp; wait \$pp
sleep 0.2; kill \$sp; wait \$sp
EOF
	unshare -m sh "$T/ns.sh"
	# milter: the start-up error at crit (2), policyd: started at notice (5)
	has "$T/syslog" '<154>[^<]*bav-milter\['
	has "$T/syslog" '<157>[^<]*bav-policyd\[[0-9]*\]: started'
	# without the key: mail (2) * 8 + 5 = 21
	sed -i '/syslog_facility/d' "$T/fac.cf"
	rm -f "$T/syslog"
	unshare -m sh "$T/ns.sh"
	has "$T/syslog" '<21>[^<]*bav-policyd\[[0-9]*\]: started'
else
	echo "SKIP: syslog_facility (needs root, unshare and socat)"
fi

exit $fail
