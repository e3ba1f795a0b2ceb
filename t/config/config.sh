#!/bin/sh
# NAME
#	config.sh - main.cf: bav config check/show, -C for every program,
#	options over main.cf, the secrets file rule, docs against the table
# SYNOPSIS
#	top_srcdir=... top_builddir=... sh t/config/config.sh
# DESCRIPTION
#	Writes main.cf files into a temporary directory and checks:
#	bav config check (exit 0 with warnings, 78 with file:line errors,
#	also in the rule files named),
#	bav config show -n/-x/KEY; bav -C FILE deliver and bav deliver -C
#	FILE writing into spool_directory, --spool overriding it; bav
#	recorder -C recording into store; bav lmtpd -C listening on
#	lmtpd_listen and writing lmtpd_pid_file (an unwritable pid file is
#	exit 73); bav-milter -C and bav-policyd -C taking their keys and
#	their options overriding them; the secrets file refused when group
#	or others may read it; doc/bav-main.cf.5 and contrib/main.cf equal
#	to what build-aux/gen-main-cf.sh makes of "bav config keys".
# DIAGNOSTICS
#	Exit 0 pass, 1 fail (each failure printed).

top_srcdir=${top_srcdir:-.}
. "$top_srcdir/t/config/lib.sh"
MSG=$top_srcdir/contrib/examples/dsn-userunknown.eml
T=$(mktemp -d /tmp/bav-config.XXXXXX) || exit 1
lpid=
cleanup() {
	[ -n "$lpid" ] && kill "$lpid" 2>/dev/null && wait "$lpid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

# ---- the docs agree with the key table ----------------------------------
"$BAV" config keys > "$T/keys" || bad "bav config keys"
sh "$top_srcdir/build-aux/gen-main-cf.sh" man < "$T/keys" > "$T/man"
diff -u "$top_srcdir/doc/bav-main.cf.5" "$T/man" ||
	bad "doc/bav-main.cf.5 differs from the key table (regenerate: bav config keys | sh build-aux/gen-main-cf.sh man)"
sh "$top_srcdir/build-aux/gen-main-cf.sh" cf < "$T/keys" > "$T/cf"
diff -u "$top_srcdir/contrib/main.cf" "$T/cf" ||
	bad "contrib/main.cf differs from the key table"
expect 0 "$BAV" config check -C "$top_srcdir/contrib/main.cf"

# ---- check and show --------------------------------------------------------
cat > "$T/good.cf" <<EOF
# a good file
spool_directory = $T/spool
store = sqlite:$T/bav.db
rules_files = $T/a.rules,
	$T/b.rules
lmtpd_threads = 3
secrets_file = \$config_directory/secrets
config_directory = $T
EOF
touch "$T/a.rules" "$T/b.rules"
expect 0 "$BAV" config check -C "$T/good.cf"
has "$T/out" "good.cf: ok (0 warnings)"
expect 0 "$BAV" config show -n -C "$T/good.cf"
[ "$(wc -l < "$T/out")" -eq 6 ] || { bad "show -n: not 6 lines"; cat "$T/out"; }
has "$T/out" "^lmtpd_threads = 3\$"
has "$T/out" "^secrets_file = \\\$config_directory/secrets\$"
expect 0 "$BAV" -C "$T/good.cf" config show -x secrets_file rules_files
has "$T/out" "^secrets_file = $T/secrets\$"
has "$T/out" "^rules_files = $T/a.rules, $T/b.rules\$"
expect 0 "$BAV" config show -d lmtpd_threads
has "$T/out" "^lmtpd_threads = 20\$"
expect 1 "$BAV" config show -C "$T/good.cf" no_such_key
has "$T/err" "unknown parameter: no_such_key"

printf 'lmtpd_threads = 3\nmy_own = 1\n' > "$T/warn.cf"
expect 0 "$BAV" config check -C "$T/warn.cf"
has "$T/err" "warning: $T/warn.cf:2: unknown parameter my_own"
has "$T/out" "ok (1 warning)"

cat > "$T/bad.cf" <<'EOF'
lmtpd_threads = 0
  continued
milter_mode = hard
this is not a parameter
spool_directory = $undefined/x
max_message_size = 12X
EOF
expect 78 "$BAV" config check -C "$T/bad.cf"
has "$T/err" "bad.cf:1: lmtpd_threads: 'lmtpd_threads = 0 continued'\\|bad.cf:1: lmtpd_threads: '0 continued'"
has "$T/err" "bad.cf:3: milter_mode: 'hard' is not one of"
has "$T/err" "bad.cf:4: missing '='"
has "$T/err" "bad.cf:5: spool_directory: undefined parameter: \$undefined"
has "$T/err" "bad.cf:6: max_message_size: '12X'"
has "$T/err" "5 errors, 0 warnings"
expect 78 "$BAV" config check -C "$T/missing.cf"
has "$T/err" "missing.cf: No such file"
# every subcommand refuses a broken main.cf, and a missing -C file
expect 78 "$BAV" -C "$T/bad.cf" show x@example.com
expect 78 "$BAV" -C "$T/missing.cf" version
BAV_CONFIG=$T/bad.cf expect 78 "$BAV" config show

# ---- bav deliver, recorder, lmtpd: -C and options over main.cf -----------
expect 0 "$BAV" -C "$T/good.cf" deliver -f "" -- rcpt@example.com < "$MSG"
[ "$(ls "$T/spool/new" | wc -l)" -eq 1 ] || bad "deliver: not in spool_directory"
expect 0 "$BAV" deliver -C "$T/good.cf" --spool "$T/other" -f "" -- \
	rcpt@example.com < "$MSG"
[ "$(ls "$T/other/new" | wc -l)" -eq 1 ] || bad "deliver: --spool not used"
[ "$(ls "$T/spool/new" | wc -l)" -eq 1 ] || bad "deliver: --spool ignored"
printf 'rules_files = %s/nonexistent.rules\n' "$T" > "$T/rules.cf"
expect 78 "$BAV" deliver -C "$T/rules.cf" --spool "$T/other" -f "" -- \
	rcpt@example.com < "$MSG"
expect 0 "$BAV" deliver -C "$T/rules.cf" --rules "$T/a.rules" \
	--spool "$T/other" -f "" -- rcpt@example.com < "$MSG"
printf '[hard]\n(unclosed\n' > "$T/b.rules"
expect 78 "$BAV" config check -C "$T/good.cf"
has "$T/err" "b.rules:2"
: > "$T/b.rules"
expect 0 "$BAV" recorder -C "$T/good.cf" --once --quiet
[ "$(ls "$T/spool/new" | wc -l)" -eq 0 ] || bad "recorder: spool not emptied"
expect 0 "$BAV" -C "$T/good.cf" show nobody@example.net
has "$T/out" "nobody@example.net"

cat > "$T/lmtpd.cf" <<EOF
spool_directory = $T/spool
lmtpd_listen = unix:$T/lmtp.sock
lmtpd_pid_file = $T/lmtpd.pid
EOF
"$BAV" lmtpd -C "$T/lmtpd.cf" --quiet 2> "$T/lmtpd.err" &
lpid=$!
i=0
while [ ! -S "$T/lmtp.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$T/lmtp.sock" ] || { bad "lmtpd: no socket from lmtpd_listen"; cat "$T/lmtpd.err"; }
[ "$(cat "$T/lmtpd.pid" 2>/dev/null)" = "$lpid" ] || bad "lmtpd: lmtpd_pid_file"
kill "$lpid"; wait "$lpid"; lpid=
[ ! -e "$T/lmtp.sock" ] || bad "lmtpd: socket left"
expect 73 "$BAV" lmtpd -C "$T/lmtpd.cf" --pid-file "$T/no/such/dir/pid"
has "$T/err" "pid file $T/no/such/dir/pid: No such file"
[ ! -e "$T/lmtp.sock" ] || bad "lmtpd: socket left after the pid file error"

# ---- the secrets file -------------------------------------------------------
printf 'verp_secret = s3cret\n' > "$T/secrets"
chmod 644 "$T/secrets"
expect 78 "$BAV" config check -C "$T/good.cf"
has "$T/err" "secrets: refused: mode 0644"
expect 78 "$BAV" -C "$T/good.cf" deliver -f "" -- rcpt@example.com < "$MSG"
has "$T/err" "refused: mode 0644"
chmod 600 "$T/secrets"
expect 0 "$BAV" config check -C "$T/good.cf"
expect 0 "$BAV" -C "$T/good.cf" deliver -f "" -- rcpt@example.com < "$MSG"
printf 'verp_secret\n' > "$T/secrets"
expect 78 "$BAV" config check -C "$T/good.cf"
has "$T/err" "secrets:1: expected name = value"

# ---- bav-milter -C ------------------------------------------------------------
if [ -x "$MILTER" ]; then
	echo "user@example.org accept" > "$T/bav.conf"
	printf 'address_table = %s/bav.conf\nmilter_mode = soft\n' "$T" > "$T/m.cf"
	expect 0 "$MILTER" -C "$T/m.cf" -n
	has "$T/out" "$T/bav.conf: 1 entries.*mode soft"
	expect 0 "$MILTER" -C "$T/m.cf" -m log-only -n
	has "$T/out" "mode log-only"
	expect 1 "$MILTER" -C "$T/bad.cf" -n
	has "$T/err" "bad.cf:3: milter_mode"
	expect 1 "$MILTER" -C "$T/missing.cf" -n
fi

# ---- bav-policyd -C -------------------------------------------------------------
cat > "$T/p.cf" <<EOF
policyd_listen = stdio
policyd_address_table = $T/bav.conf
policyd_reject_action = 554 5.7.1 not here
EOF
echo "user@example.org accept" > "$T/bav.conf"
req='request=smtpd_access_policy\nprotocol_state=RCPT\nsender=\nrecipient=x@example.org\n\n'
printf "$req" | "$POLICYD" -C "$T/p.cf" -e > "$T/out" 2> "$T/err" ||
	bad "policyd -C: exit $?"
has "$T/out" "^action=554 5.7.1 not here\$"
printf "$req" | "$POLICYD" -C "$T/p.cf" -e -o "reject_action=REJECT by -o" \
	> "$T/out" 2> "$T/err"
has "$T/out" "^action=REJECT by -o\$"
expect 1 "$POLICYD" -C "$T/bad.cf" -n

[ $fail -eq 0 ] && echo "config.sh: all passed"
exit $fail
