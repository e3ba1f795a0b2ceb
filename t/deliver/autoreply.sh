#!/bin/sh
# NAME
#	t/deliver/autoreply.sh - bav recorder's RFC 3834 autoresponder
# DESCRIPTION
#	Spools human replies, auto-replies, list mail, bounces and role
#	senders with bav deliver, then runs bav recorder --once
#	--autoreply-dir with a stand-in sendmail. Checks: one answer per
#	sender and filter (a second reply of the same sender to the same
#	filter within the period gets none, to another filter one from that
#	filter's template), none to a null sender, MAILER-DAEMON, owner-*,
#	*-request, Auto-Submitted, Precedence: bulk, List-Id, bounces and
#	auto-replies; the answer has null envelope sender, -N never,
#	Auto-Submitted: auto-replied, In-Reply-To, the template's From and
#	Subject and X-AGNLoop; redelivered mail recorded again is not
#	answered again; --autoreply-allow limits the answers.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip.
. "${top_srcdir:-.}/t/deliver/common.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing"; exit 77; }

mkdir -p "$T/out" "$T/ar"
cat > "$T/sendmail" <<EOS
#!/bin/sh
n=\$(ls "$T/out" | grep -c args)
printf '%s\n' "\$@" > "$T/out/\$n.args"
cat > "$T/out/\$n.msg"
EOS
chmod 755 "$T/sendmail"
printf 'From: Newsletter Team <team@news.example.com>\nSubject: Thank you for your message\n\nWe read every reply.\n' \
	> "$T/ar/default"
printf 'From: Shop <shop@shop.example>\nSubject: Shop: we got your mail\nReply-To: help@shop.example\n\nShop team.\n' \
	> "$T/ar/12"
S=$T/spool
n=0
# mail FROM [HEADER...]: a reply from FROM with extra header lines
mail() {
	from=$1; shift
	n=$((n + 1))
	{
		for h in "$@"; do echo "$h"; done
		echo "From: Someone <$from>"
		echo "To: reply@loop.test"
		echo "Subject: Re: News $n"
		echo "Message-ID: <r$n@example.net>"
		echo
		echo "Thanks for the newsletter number $n."
	} > "$T/m$n.eml"
	"$BAV" deliver -f "$from" --no-forward --spool "$S" -- reply@loop.test \
		< "$T/m$n.eml" || fail "deliver m$n"
}
mail anna@example.net                                   # 1 answered
mail anna@example.net                                   # 2 same filter: no
mail anna@example.net "X-AGNMailloop: rid=12,to=<r@x>" # 3 filter 12: yes
mail "" ;                                               # 4 null sender
mail MAILER-DAEMON@mx.example.net                       # 5 role
mail owner-list@lists.example.net                       # 6 list owner
mail news-request@lists.example.net                     # 7 list request
mail ben@example.net "Auto-Submitted: auto-generated"   # 8
mail carl@example.net "Precedence: bulk"                # 9
mail dora@example.net "List-Id: <news.lists.example.net>" # 10
mail emil@example.net "Auto-Submitted: no"              # 11 answered
make_bounce 12 > "$T/b.eml"
"$BAV" deliver -f "" --spool "$S" -- reply@loop.test < "$T/b.eml"
"$BAV" recorder --once --spool "$S" --store "sqlite:$T/db" \
	--autoreply-dir "$T/ar" --sendmail "$T/sendmail" 2> "$T/err"
expect "recorder: 0" "0" "$?"
expect "three answers" "3" "$(ls "$T/out" | grep -c args)"
to=$(for f in "$T"/out/*.args; do tail -1 "$f"; done | sort | tr '\n' ' ')
expect "answered" "anna@example.net anna@example.net emil@example.net " "$to"
expect "envelope" "-i -N never -f  -- anna@example.net" \
	"$(tr '\n' ' ' < "$T/out/0.args" | sed 's/ $//')"
m=$T/out/0.msg
grep -q '^Auto-Submitted: auto-replied$' "$m" && ok "Auto-Submitted" ||
	fail "no Auto-Submitted"
grep -q '^X-AGNLoop: set$' "$m" && ok "X-AGNLoop" || fail "no X-AGNLoop"
grep -q '^In-Reply-To: <r1@example.net>$' "$m" && ok "In-Reply-To" ||
	fail "no In-Reply-To"
grep -q '^To: <anna@example.net>$' "$m" && ok "To" || fail "no To"
grep -q '^Subject: Thank you for your message$' "$m" &&
	grep -q '^From: Newsletter Team <team@news.example.com>$' "$m" &&
	grep -q '^We read every reply.$' "$m" && ok "default template" ||
	fail "default template: $(cat "$m")"
grep -l 'Subject: Shop: we got your mail' "$T"/out/*.msg >/dev/null &&
	grep -q '^Reply-To: help@shop.example$' "$T/out/1.msg" &&
	ok "filter 12 template" || fail "filter 12 template"
expect "lastsent rows" "2" \
	"$(count "$T/db" 'SELECT COUNT(DISTINCT rid) FROM bav_ar_lastsent')"

# redelivered: recorded as a duplicate, not answered again; a new reply
# of anna within the period neither
"$BAV" deliver -f anna@example.net --no-forward --spool "$S" -- \
	reply@loop.test < "$T/m1.eml"
mail anna@example.net
"$BAV" recorder --once --spool "$S" --store "sqlite:$T/db" \
	--autoreply-dir "$T/ar" --sendmail "$T/sendmail" 2> "$T/err"
expect "no second answer" "3" "$(ls "$T/out" | grep -c args)"

# allowlist
printf '# test senders\n@allowed.example\n' > "$T/allow"
mail fred@example.net
mail gina@allowed.example
"$BAV" recorder --once --spool "$S" --store "sqlite:$T/db" \
	--autoreply-dir "$T/ar" --autoreply-allow "$T/allow" \
	--sendmail "$T/sendmail" 2> "$T/err"
expect "allowlist: one more" "4" "$(ls "$T/out" | grep -c args)"
expect "allowlist: gina" "gina@allowed.example" "$(tail -1 "$T/out/3.args")"

[ $fails -eq 0 ] || { cat "$T/err"; exit 1; }
exit 0
