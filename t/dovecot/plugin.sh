#!/bin/sh
# NAME
#	t/dovecot/plugin.sh - the bav Dovecot plugin under dovecot-lda and
#	LMTP: keywords, folders, spool entries, recorder
# DESCRIPTION
#	Delivers the project's example messages (contrib/examples) with
#	dovecot-lda (no daemon) and then over LMTP to a private Dovecot on
#	127.0.0.1 (t/dovecot/lib.sh), with the plugin configured to file
#	bounces into Bounces and feedback reports into Feedback, and checks
#	- the IMAP keywords of each message ($BounceHard, $BounceSoft,
#	  $AutoReply, $Feedback, none for a reply),
#	- the folder each message landed in,
#	- one spool entry per delivery with the right kind, readable by
#	  the spool's group, and that `bav recorder --once` records them
#	  into a SQLite store (when bav and sqlite3 are there),
#	- that bav_enabled = no leaves a delivery alone,
#	- that a spool the mail user can't write fails the delivery
#	  temporarily (EX_TEMPFAIL 75) instead of losing the verdict.
#	Exit 0 pass, 1 fail, 77 skip.

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
. "$top_srcdir/t/dovecot/lib.sh"

EX=$top_srcdir/contrib/examples
fail=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fail=1; }

dc_setup

# message, expected folder, expected keywords
CASES="dsn-userunknown.eml	.Bounces	\$BounceHard
postfix-02.eml	.Bounces	\$BounceSoft
dsn-delay.eml	INBOX	\$BounceSoft
vacation.eml	INBOX	\$AutoReply
feedback-abuse.eml	.Feedback	\$Feedback
reply-01.eml	INBOX	"

# ---- dovecot-lda, no daemon ----------------------------------------------
n=0
for msg in $(echo "$CASES" | cut -f1); do
	if dc_lda alice@example.test mailer-daemon@example.net "$EX/$msg"; then
		n=$((n + 1))
	else
		bad "dovecot-lda $msg: rc=$?"
	fi
done
[ $n -eq 6 ] && ok "dovecot-lda delivered 6 messages"
dc_check_cases "$T/mail/alice@example.test" lda
grep -q 'bav: kind=bounce reason=userunknown folder=Bounces spool=' \
	"$T/log/dovecot.log" && ok "log line" || bad "no bav: kind= log line"

entries=$(ls "$T/spool/new" | wc -l)
[ "$entries" -eq 6 ] && ok "6 spool entries" || bad "spool entries: $entries"
kinds=$(for f in "$T/spool/new"/*; do
	awk -F'\t' '$1 == "V" { print $2; exit } /^$/ { exit }' "$f"; done |
	sort | tr '\n' ' ')
[ "$kinds" = "autoreply bounce bounce delay feedback reply " ] &&
	ok "spooled kinds: $kinds" || bad "spooled kinds: $kinds"
perm=$(stat -c '%a %g' "$(ls -d "$T/spool/new"/* | head -n1)")
[ "$perm" = "640 $DC_GID" ] && ok "entry mode/group $perm" ||
	bad "entry mode/group $perm, want 640 $DC_GID"
grep -q "^R	alice@example.test$" "$(ls -d "$T/spool/new"/* | head -n1)" &&
	ok "entry names the recipient" || bad "entry lacks R alice@example.test"

# ---- bav_enabled = no: plain delivery, nothing spooled --------------------
before=$(ls "$T/spool/new" | wc -l)
dc_lda frank@example.test mailer-daemon@example.net "$EX/dsn-userunknown.eml" \
	-o plugin/bav_enabled=no || bad "dovecot-lda (bav_enabled=no): rc=$?"
after=$(ls "$T/spool/new" | wc -l)
kws=$(dc_keywords "$T/mail/frank@example.test/Maildir" | cut -f2)
n=$(dc_keywords "$T/mail/frank@example.test/Maildir" | wc -l)
[ "$n" -eq 1 ] && [ -z "$kws" ] && [ "$after" -eq "$before" ] &&
	ok "bav_enabled=no: in INBOX, no keyword, not spooled" ||
	bad "bav_enabled=no: $n in INBOX, keywords '$kws', spool $before -> $after"

# ---- recorder: the spool goes into the store -----------------------------
BAV=$top_builddir/bav/bav
if [ -x "$BAV" ] && "$BAV" recorder --help 2>&1 | grep -q 'bav recorder' &&
   command -v sqlite3 >/dev/null 2>&1; then
	if "$BAV" recorder --once --spool "$T/spool" \
		--store "sqlite:$T/bav.db" > "$T/log/recorder.log" 2>&1; then
		rows=$(sqlite3 "$T/bav.db" 'SELECT count(*) FROM bav_messages')
		[ "$rows" -eq 6 ] && ok "recorder: 6 messages in the store" ||
			bad "recorder: $rows messages in the store"
	else
		bad "bav recorder failed: $(cat "$T/log/recorder.log")"
	fi
else
	echo "# skipped: bav recorder or sqlite3 not available"
fi

# ---- spool not writable: temporary failure --------------------------------
chmod 2750 "$T/spool/tmp"
dc_lda carol@example.test mailer-daemon@example.net "$EX/dsn-userunknown.eml"
rc=$?
if [ "$(id -u)" = 0 ] || [ "$DC_UID" != "$(stat -c %u "$T/spool/tmp")" ]; then
	[ $rc -eq 75 ] && ok "unwritable spool: rc 75" ||
		bad "unwritable spool: rc $rc, want 75"
	[ -z "$(ls "$T/mail/carol@example.test/Maildir/new" \
		"$T/mail/carol@example.test/Maildir/.Bounces/cur" 2>/dev/null)" ] &&
		ok "unwritable spool: nothing delivered" ||
		bad "unwritable spool: message delivered anyway"
fi
chmod 2770 "$T/spool/tmp"

# ---- LMTP through a running Dovecot ----------------------------------------
if ! dc_can_daemon; then
	echo "# skipped: LMTP (the daemon does not run under ASan)"
elif dc_start; then
	for msg in $(echo "$CASES" | cut -f1); do
		dc_lmtp mailer-daemon@example.net bob@example.test "$EX/$msg" ||
			bad "LMTP $msg"
	done
	dc_check_cases "$T/mail/bob@example.test" lmtp
	grep -q 'lmtp(bob@example.test).*bav: kind=feedback' \
		"$T/log/dovecot.log" && ok "LMTP log line" ||
		bad "no LMTP bav: log line"
	# one transaction, two recipients: each copy marked and filed, one
	# spool entry per recipient, the same message key (recorded once)
	before=$(ls "$T/spool/new" | wc -l)
	dc_lmtp mailer-daemon@example.net carol@example.test,dave@example.test \
		"$EX/dsn-userunknown.eml" || bad "LMTP two recipients"
	for u in carol dave; do
		d=$T/mail/$u@example.test/Maildir/.Bounces
		kws=$(dc_keywords "$d" | cut -f2)
		[ "$kws" = '$BounceHard' ] && ok "LMTP 2 rcpts: $u has \$BounceHard" ||
			bad "LMTP 2 rcpts: $u keywords '$kws'"
	done
	after=$(ls "$T/spool/new" | wc -l)
	[ $((after - before)) -eq 2 ] && ok "LMTP 2 rcpts: 2 spool entries" ||
		bad "LMTP 2 rcpts: $((after - before)) spool entries"
	keys=$(cd "$T/spool/new" && ls -t | head -n2 | xargs grep -h '^K	' | sort -u | wc -l)
	[ "$keys" -eq 1 ] && ok "LMTP 2 rcpts: one message key" ||
		bad "LMTP 2 rcpts: $keys message keys"
	dc_stop
else
	bad "dovecot did not start"
fi

[ -f "$T/fail" ] && fail=1
if [ $fail -ne 0 ]; then
	echo "--- dovecot.log"; tail -n 40 "$T/log/dovecot.log"
fi
exit $fail
