#!/bin/sh
# NAME
#	t/dovecot/config.sh - the Dovecot plugin taking bav_rules, bav_spool
#	and bav_max_size from main.cf (bav_config), its own settings first
# DESCRIPTION
#	A private Dovecot (t/dovecot/lib.sh) with bav_spool emptied and
#	bav_config naming a main.cf in the test directory that sets
#	spool_directory and rules_files. Checks with dovecot-lda that
#	- a delivery is spooled into main.cf's spool_directory and
#	  classified with main.cf's rules_files (a local rule),
#	- plugin/bav_spool and plugin/bav_rules (dovecot-lda -o) override
#	  main.cf,
#	- max_message_size of main.cf is the plugin's bav_max_size,
#	- a broken main.cf is logged and ignored (built-in behaviour),
#	- over LMTP (one process, several deliveries) a changed rules file
#	  is reloaded and a broken one keeps the last good rules.
#	Exit 0 pass, 1 fail, 77 skip.

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
. "$top_srcdir/t/dovecot/lib.sh"

fail=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fail=1; }

dc_setup 'bav_spool =
  bav_config = @T@/main.cf'

for d in "" new tmp cur bad; do
	mkdir -p "$T/spool2/$d"
	chown "0:$DC_GID" "$T/spool2/$d" 2>/dev/null
	chmod 2770 "$T/spool2/$d"
done
printf 'From: a@b.example\nTo: alice@example.test\nSubject: hello world\n\nhello world\n' \
	> "$T/hw.eml"
printf '[systemmail]\nhello world\n' > "$T/hw.rules"
printf '# nothing\n' > "$T/none.rules"
chmod 644 "$T/hw.eml" "$T/hw.rules" "$T/none.rules"
printf 'spool_directory = %s/spool2\nrules_files = %s/none.rules, %s/hw.rules\n' \
	"$T" "$T" "$T" > "$T/main.cf"
chmod 644 "$T/main.cf"

kind_of() {	# the kind of the only entry in spool dir $1/new
	set -- "$1"/new/*
	[ $# = 1 ] && [ -f "$1" ] || { echo "entries: $#"; return; }
	awk -F'\t' '$1 == "V" { print $2; exit } /^$/ { exit }' "$1"
	rm -f "$1"
}

dc_lda alice@example.test a@b.example "$T/hw.eml" ||
	bad "dovecot-lda (main.cf): rc=$?"
k=$(kind_of "$T/spool2")
[ "$k" = systemmail ] && ok "main.cf: spool_directory and rules_files" ||
	bad "main.cf: spooled kind '$k'"

dc_lda alice@example.test a@b.example "$T/hw.eml" \
	-o "plugin/bav_spool=$T/spool" -o "plugin/bav_rules=$T/none.rules" ||
	bad "dovecot-lda (-o): rc=$?"
k=$(kind_of "$T/spool")
[ "$k" = reply ] && ok "plugin settings override main.cf" ||
	bad "plugin settings: spooled kind '$k'"
[ -z "$(ls "$T/spool2/new")" ] || bad "main.cf's spool used despite bav_spool"

printf 'max_message_size = 1024\n' >> "$T/main.cf"
head -c 4000 /dev/zero | tr '\0' 'x' | fold -w 70 >> "$T/hw.eml"
dc_lda alice@example.test a@b.example "$T/hw.eml" ||
	bad "dovecot-lda (max size): rc=$?"
grep -q 'larger than bav_max_size' "$T/log/dovecot.log" &&
	ok "max_message_size of main.cf" || bad "max_message_size ignored"

printf 'no_such_key\nbroken line\n' > "$T/main.cf"
dc_lda alice@example.test a@b.example "$T/hw.eml" \
	-o "plugin/bav_spool=$T/spool" || bad "dovecot-lda (broken main.cf): rc=$?"
grep -q 'bav: bav_config: .*main.cf' "$T/log/dovecot.log" &&
	ok "broken main.cf logged" || bad "broken main.cf not logged"

# an LMTP process keeps its rules between deliveries and reloads them
# when a file changes; a broken new version keeps the last good rules
if dc_can_daemon; then
	printf '# nothing yet
' > "$T/r.rules"
	chmod 644 "$T/r.rules"
	printf 'spool_directory = %s/spool2
rules_files = %s/r.rules
' \
		"$T" "$T" > "$T/main.cf"
	if dc_start; then
		dc_lmtp a@b.example alice@example.test "$T/hw.eml" ||
			bad "LMTP (rules 1)"
		k1=$(kind_of "$T/spool2")
		sleep 1.1
		printf '[systemmail]\nhello world\n' > "$T/r.rules"
		dc_lmtp a@b.example alice@example.test "$T/hw.eml" ||
			bad "LMTP (rules 2)"
		k2=$(kind_of "$T/spool2")
		sleep 1.1
		printf '[systemmail]\n(unclosed\n' > "$T/r.rules"
		dc_lmtp a@b.example alice@example.test "$T/hw.eml" ||
			bad "LMTP (rules 3)"
		k3=$(kind_of "$T/spool2")
		dc_stop
		[ "$k1 $k2 $k3" = "reply systemmail systemmail" ] &&
		grep -q 'bav: bav_rules changed, reloaded' "$T/log/dovecot.log" &&
		grep -q 'bav: bav_rules: .*keeping the rules loaded before' \
			"$T/log/dovecot.log" &&
			ok "LMTP: changed rules reloaded, broken ones not taken" ||
			bad "LMTP rules reload: kinds '$k1 $k2 $k3'"
	else
		bad "dovecot did not start"
	fi
fi
exit $fail
