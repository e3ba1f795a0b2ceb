#!/bin/sh
# NAME
#	t/dovecot/sieve.sh - the vnd.bav Sieve extension: sievec, and a
#	global script using the bav test run at delivery (dovecot-lda and
#	LMTP), together with the bav mail plugin
# DESCRIPTION
#	1. sievec compiles a script with every form of the test and
#	   sieve-dump shows the BAV operations; scripts with a bad form
#	   (:hard with a key list, two field tags, no key list) fail.
#	2. A global script (sieve_before, precompiled with sievec) files
#	   by the verdict: bav :hard -> Hard, bav :reason "mailboxfull" ->
#	   Full, bav :kind :matches "auto*" -> Auto, bav :status :matches
#	   "4.*" -> Delayed; everything else is kept (the mail plugin's
#	   bav_folder_feedback still applies to the implicit keep). The
#	   mail plugin's keywords must be on the messages Sieve filed.
#	3. A script's discard is not undone by the plugin.
#	Exit 0 pass, 1 fail, 77 skip.

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
. "$top_srcdir/t/dovecot/lib.sh"

EX=$top_srcdir/contrib/examples
fail=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fail=1; }

[ -f "$DC_SIEVE_BAV" ] || dc_skip "Sieve plugin not built"
command -v sievec >/dev/null 2>&1 || dc_skip "dovecot-sieve not installed"
[ -f /usr/lib/dovecot/modules/lib90_sieve_plugin.so ] ||
	dc_skip "dovecot-sieve not installed"

DC_SIEVE_PLUGIN=sieve
dc_setup "  sieve_plugin_dir = @T@/sieve-modules
  sieve_plugins = sieve_bav
  sieve_global_extensions = +vnd.bav
  sieve_extensions = +vnd.bav
  sieve_before = @T@/sieve/global.sieve"

# ---- 1. compile -------------------------------------------------------------
cat > "$T/sieve/all.sieve" <<'SIEVE'
require ["vnd.bav", "fileinto", "regex"];
if bav "bounce" { keep; }
if bav :kind :is "delay" { keep; }
if bav :reason :contains "full" { keep; }
if bav :status :matches "5.1.*" { keep; }
if bav :kind :regex "^(autoreply|feedback)$" { keep; }
if bav :comparator "i;octet" :kind "reply" { keep; }
if bav :hard { keep; }
if not bav :kind ["bounce", "delay"] { keep; }
SIEVE
if dc_run sievec -c "$T/dovecot.conf" "$T/sieve/all.sieve" "$T/all.svbin" \
	> "$T/log/sievec.log" 2>&1; then
	ok "sievec: every form compiles"
	n=$(dc_run sieve-dump -c "$T/dovecot.conf" "$T/all.svbin" 2>&1 | grep -c 'BAV :')
	[ "$n" -eq 8 ] && ok "sieve-dump: 8 BAV operations" ||
		bad "sieve-dump: $n BAV operations"
else
	bad "sievec failed: $(cat "$T/log/sievec.log")"
fi
if dc_run sievec -c "$T/dovecot.conf" "$top_srcdir/contrib/dovecot/bav-global.sieve" \
	"$T/contrib.svbin" > "$T/log/sievec.log" 2>&1; then
	ok "sievec: contrib/dovecot/bav-global.sieve compiles"
else
	bad "sievec contrib/dovecot/bav-global.sieve: $(cat "$T/log/sievec.log")"
fi
for bad_script in 'if bav :hard "x" { keep; }' \
		  'if bav :kind :reason "x" { keep; }' \
		  'if bav :kind { keep; }'; do
	printf 'require "vnd.bav";\n%s\n' "$bad_script" > "$T/sieve/bad.sieve"
	if dc_run sievec -c "$T/dovecot.conf" "$T/sieve/bad.sieve" "$T/bad.svbin" \
		> "$T/log/bad.log" 2>&1; then
		bad "sievec accepted: $bad_script"
	else
		ok "sievec refuses: $bad_script"
	fi
done

# ---- 2. a global script at delivery ------------------------------------------
cat > "$T/sieve/global.sieve" <<'SIEVE'
require ["vnd.bav", "fileinto", "mailbox"];
if bav :hard { fileinto :create "Hard"; stop; }
if bav :reason "mailboxfull" { fileinto :create "Full"; stop; }
if bav :kind :matches "auto*" { fileinto :create "Auto"; stop; }
if bav :status :matches "4.*" { fileinto :create "Delayed"; stop; }
SIEVE
dc_run sievec -c "$T/dovecot.conf" "$T/sieve/global.sieve" > "$T/log/sievec.log" 2>&1 ||
	bad "sievec global.sieve: $(cat "$T/log/sievec.log")"

CASES="dsn-userunknown.eml	.Hard	\$BounceHard
postfix-02.eml	.Full	\$BounceSoft
vacation.eml	.Auto	\$AutoReply
dsn-delay.eml	.Delayed	\$BounceSoft
feedback-abuse.eml	.Feedback	\$Feedback
reply-01.eml	INBOX	"

for msg in $(echo "$CASES" | cut -f1); do
	dc_lda alice@example.test mailer-daemon@example.net "$EX/$msg" ||
		bad "dovecot-lda $msg: rc=$?"
done
dc_check_cases "$T/mail/alice@example.test" lda+sieve
# the test takes the mail plugin's verdict (one classification per
# delivery); without the mail plugin it classifies by itself
dc_lda carol@example.test mailer-daemon@example.net "$EX/dsn-userunknown.eml" \
	-o mail_debug=yes || bad "dovecot-lda (mail_debug): rc=$?"
grep -q "bav: the mail plugin's verdict: bounce" "$T/log/dovecot.log" &&
	ok "vnd.bav: the mail plugin's verdict is used" ||
	bad "vnd.bav did not use the mail plugin's verdict"
dc_lda dave@example.test mailer-daemon@example.net "$EX/dsn-userunknown.eml" \
	-o plugin/bav_enabled=no || bad "dovecot-lda (bav_enabled=no): rc=$?"
[ -n "$(ls "$T/mail/dave@example.test/Maildir/.Hard/new" 2>/dev/null)" ] &&
	ok "vnd.bav without the mail plugin: filed into Hard" ||
	bad "vnd.bav without the mail plugin: not in Hard"
grep -q "fileinto action: stored mail into mailbox 'Hard'" \
	"$T/log/dovecot.log" && ok "sieve log: fileinto Hard" ||
	bad "no sieve fileinto Hard in the log"

if ! dc_can_daemon; then
	echo "# skipped: LMTP (the daemon does not run under ASan)"
elif dc_start; then
	for msg in $(echo "$CASES" | cut -f1); do
		dc_lmtp mailer-daemon@example.net bob@example.test "$EX/$msg" ||
			bad "LMTP $msg"
	done
	dc_check_cases "$T/mail/bob@example.test" lmtp+sieve
	dc_stop
else
	bad "dovecot did not start"
fi
# a Sieve discard stays a discard: the plugin saves only what nobody did
printf 'require ["vnd.bav"];\nif bav :kind "reply" { discard; stop; }\n' \
	> "$T/sieve/global.sieve"
dc_run sievec -c "$T/dovecot.conf" "$T/sieve/global.sieve" > "$T/log/sievec.log" 2>&1 ||
	bad "sievec discard script: $(cat "$T/log/sievec.log")"
dc_lda erin@example.test mailer-daemon@example.net "$EX/reply-01.eml" ||
	bad "dovecot-lda (discard): rc=$?"
n=$(find "$T/mail/erin@example.test" -type f \( -path '*/new/*' -o -path '*/cur/*' \) | wc -l)
[ "$n" -eq 0 ] && ok "discard: nothing saved" || bad "discard: $n messages saved"

want=14
dc_can_daemon || want=8
entries=$(ls "$T/spool/new" | wc -l)
[ "$entries" -eq $want ] && ok "$want spool entries" ||
	bad "spool entries: $entries, want $want"

[ -f "$T/fail" ] && fail=1
if [ $fail -ne 0 ]; then
	echo "--- dovecot.log"; tail -n 40 "$T/log/dovecot.log"
fi
exit $fail
