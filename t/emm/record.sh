#!/bin/sh
# SPDX-License-Identifier: MIT
# NAME
#	t/emm/record.sh - EMM recording without Postfix: parked non-5xx hard
#	bounces, BCC copies, the extbounce.log/mailloop.log mode
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/emm/record.sh
# DESCRIPTION
#	On a private mariadbd with sql/emm (t/emm/tools-lib.sh), bav deliver
#	--store emm+mariadb://... gets messages written for this test, with
#	the X-AGNMailloop header bav-milter would add:
#	  a DSN 4.4.7 "failed" for alice (company 1 translates 447 to the
#	  hard detail 512): parked, nothing in bounce_tbl; after emm_delay
#	  seconds the next recorded message writes it (bounce_tbl 512,
#	  status 2 on both of alice's lists); a second parked one is dropped
#	  because a success row for the same mailing arrived meanwhile;
#	  a bounce of a BCC copy (V0- Message-ID): action ignore, nothing
#	  else; and with emm_logdir= a hard bounce becomes one extbounce.log
#	  line and one mailloop.log line in bavd's formats, the tables keep
#	  only bav's message key; replies to filter 3 (autoresponder mailing
#	  103): bounce_ar_lastsent_tbl set once, not again within the limit;
#	  a reply matching a filter rule of bounce_rule_tbl (1,1): its mark,
#	  no inbox row; a plain reply: the inbox; a reply to a filter with
#	  fwd= through bav deliver --no-forward: filtered, not sent; with
#	  emm_webhook_log= a hard bounce of company 1 (HARD_BOUNCE webhook)
#	  appends one webhook.log line after the commit, a soft bounce, a
#	  company without webhook and the emm_logdir mode none, and bav
#	  recorder writes its batch's line too; a hard bounce recorded by a
#	  database user with only the grants bav-emm(7) lists, and by the
#	  same user with the password from the secrets file.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip (mariadbd or the MariaDB backend
#	missing).
. "${top_srcdir:-.}/t/emm/tools-lib.sh"
emm_db_start
srcdir=${top_srcdir:-.}
EMM="emm+$MARIADB_URI"
K1=s3cret-shop-key
pfx=AB20260115093000_0
uid() { python3 "$srcdir/t/emm/agnuid.py" --prefix $pfx "$@"; }
n=0
deliver() {	# URI STATUS UID [BCC-PREFIX]: one DSN through bav deliver
	n=$((n + 1))
	cat > "$T/m$n.eml" <<EOM
X-AGNMailloop: rid=1,cid=1,from=,to=aml_1@mailloop.shop.example
From: MAILER-DAEMON@mx.remote.example
To: aml_1@mailloop.shop.example
Subject: Delivery Status Notification (Failure)
Message-ID: <dsn-$n@mx.remote.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="R"

--R
Content-Type: text/plain

Delivery failed: $2.

--R
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.remote.example

Final-Recipient: rfc822; somebody@example.net
Action: failed
Status: $2
Diagnostic-Code: smtp; 450 $2 giving up

--R
Content-Type: text/rfc822-headers

Message-ID: <$4$3@mailloop.shop.example>
Subject: News

--R--
EOM
	# another time zone than the server's: times must still be right
	TZ=Asia/Kolkata "$BAV" deliver --spool "$T/sp" --no-forward --store "$1" -f "" \
		-- aml_1@mailloop.shop.example < "$T/m$n.eml" 2>> "$T/deliver.err" ||
		fail "bav deliver of message $n"
}

# ---- a hard detail with a 4xx code is parked, then written ------------------
deliver "$EMM&emm_delay=2" 4.4.7 "$(uid 4 0 1 101 1 $K1)"
expect "4.4.7 (hard 512 for company 1): parked, not in bounce_tbl" \
	"1	101	1	512	447|0" \
	"$(sqlq "SELECT company_id, mailing_id, customer_id, detail, dsn FROM bav_emm_delayed_tbl")|$(sqlq "SELECT COUNT(*) FROM bounce_tbl")"
deliver "$EMM&emm_delay=2" 4.4.7 "$(uid 4 0 1 102 2 $K1)"
sleep 1
sqlq "INSERT INTO success_1_tbl (customer_id, mailing_id, timestamp) VALUES (2, 102, NOW())"
sleep 2
deliver "$EMM&emm_delay=2" 4.4.1 "$(uid 4 0 1 102 3 $K1)"	# detail 0, triggers
expect "due: alice's bounce written, bob's dropped (success meanwhile)" \
	"1	1	101	512	447" \
	"$(sqlq "SELECT company_id, customer_id, mailing_id, detail, dsn FROM bounce_tbl")"
expect "due: status 2 on both of alice's lists" "11	2	101
12	2	101" \
	"$(sqlq "SELECT mailinglist_id, user_status, exit_mailing_id FROM customer_1_binding_tbl WHERE customer_id = 1 ORDER BY mailinglist_id")"
expect "times right although bav runs in another time zone" 1 \
	"$(sqlq "SELECT MAX(ABS(TIMESTAMPDIFF(SECOND, timestamp, NOW()))) < 60 FROM bounce_tbl")"
expect "nothing parked any more" 0 \
	"$(sqlq "SELECT COUNT(*) FROM bav_emm_delayed_tbl")"

# ---- a bounce of a BCC copy -------------------------------------------------
deliver "$EMM" 5.1.1 "$(uid 4 0 1 101 2 $K1)" V0-
expect "BCC copy: action ignore, no bounce" "ignore	2|1" \
	"$(sqlq "SELECT action, customer_id FROM mailloop_log_tbl ORDER BY mailloop_log_id DESC LIMIT 1")|$(sqlq "SELECT COUNT(*) FROM bounce_tbl")"

# ---- emm_logdir: bavd's exchange files for an unchanged update ---------------
mkdir -p "$T/log"
logs_before=$(sqlq "SELECT COUNT(*) FROM mailloop_log_tbl")
deliver "$EMM&emm_logdir=$T/log" 5.1.1 "$(uid 3 0 1 101 3 $K1)"
sed 's/timestamp=[0-9: -]*	/timestamp=T	/; s/server=.*/server=S/' \
	"$T/log/extbounce.log" > "$T/ext.got"
expect "extbounce.log line" "5.1.1;0;101;0;3;timestamp=T	mailloop=450 5.1.1 giving up	server=S" \
	"$(cat "$T/ext.got")"
expect "mailloop.log line" \
	"0;1;T;bounce;+;customer_id=3	mailing_id=101	company_id=1	licence_id=0	bounce-dsn=5.1.1	bounce-mailing-id=101	bounce-customer-id=3	bounce-error-text=450%205.1.1%20giving%20up" \
	"$(sed 's/^\([^;]*;[^;]*;\)[^;]*;/\1T;/' "$T/log/mailloop.log")"
expect "log mode: no table rows" "$logs_before|1|1" \
	"$(sqlq "SELECT COUNT(*) FROM mailloop_log_tbl")|$(sqlq "SELECT COUNT(*) FROM bounce_tbl")|$(sqlq "SELECT user_status FROM customer_1_binding_tbl WHERE customer_id = 3")"
# ---- replies: autoresponder rate limit, bounce_rule_tbl filter rules --------
reply() {	# NAME RID SUBJECT UID
	cat > "$T/$1.eml" <<EOM
X-AGNMailloop: rid=$2,cid=1,from=alice@example.net,to=reply_$2@mailloop.shop.example
From: Alice Anders <alice@example.net>
To: reply_$2@mailloop.shop.example
Subject: $3
Message-ID: <$1@example.net>
In-Reply-To: <$4@mailloop.shop.example>
Content-Type: text/plain

Please call me back about my order.
EOM
	"$BAV" deliver --spool "$T/sp" --no-forward --store "$EMM" \
		-f alice@example.net -- reply_$2@mailloop.shop.example \
		< "$T/$1.eml" 2>> "$T/deliver.err" || fail "bav deliver of $1"
}
sqlq "UPDATE bounce_rule_tbl SET definition = '{\"filter\": [\"{ooo}^Subject:.*gone fishing\"]}' WHERE company_id = 1 AND rid = 1"
reply r1 3 "Re: my order" "$(uid 4 0 1 101 1 $K1)"
first=$(sqlq "SELECT rid, customer_id, UNIX_TIMESTAMP(lastsent) FROM bounce_ar_lastsent_tbl")
expect "reply to filter 3: autoresponder allowed, lastsent set" "3	1" \
	"$(echo "$first" | cut -f1,2)"
sleep 1
reply r2 3 "Re: my order again" "$(uid 4 0 1 101 1 $K1)"
expect "second reply within autoresponder.limit: lastsent unchanged" \
	"$first" "$(sqlq "SELECT rid, customer_id, UNIX_TIMESTAMP(lastsent) FROM bounce_ar_lastsent_tbl")"
reply r3 1 "Gone fishing until Monday" "$(uid 4 0 1 101 1 $K1)"
expect "filter rule of (1,1): action ooo (drop), no inbox row" \
	"drop|0" \
	"$(sqlq "SELECT action FROM mailloop_log_tbl ORDER BY mailloop_log_id DESC LIMIT 1")|$(sqlq "SELECT COUNT(*) FROM mailloop_replies_tbl WHERE subject LIKE 'Gone%'")"
reply r4 1 "Question about the catalogue" "$(uid 4 0 1 101 1 $K1)"
expect "plain reply to filter 1: filtered, inbox row" "filtered|1" \
	"$(sqlq "SELECT action FROM mailloop_log_tbl ORDER BY mailloop_log_id DESC LIMIT 1")|$(sqlq "SELECT COUNT(*) FROM mailloop_replies_tbl WHERE subject LIKE 'Question%'")"

# ---- fwd= and bav deliver --no-forward: the log says what happened ---------
cat > "$T/f1.eml" <<EOM
X-AGNMailloop: rid=1,cid=1,fwd=support@shop.example,from=alice@example.net,to=aml_1@mailloop.shop.example
From: Alice Anders <alice@example.net>
To: aml_1@mailloop.shop.example
Subject: Where is my parcel
Message-ID: <f1@example.net>
In-Reply-To: <$(uid 4 0 1 101 1 $K1)@mailloop.shop.example>
Content-Type: text/plain

It has not arrived yet.
EOM
"$BAV" deliver --spool "$T/sp" --no-forward --store "$EMM" -f alice@example.net \
	-- aml_1@mailloop.shop.example < "$T/f1.eml" 2>> "$T/deliver.err" ||
	fail "bav deliver of f1"
expect "fwd= but --no-forward: not 'sent', the inbox has it" "filtered	|1" \
	"$(sqlq "SELECT action, remark FROM mailloop_log_tbl ORDER BY mailloop_log_id DESC LIMIT 1")|$(sqlq "SELECT COUNT(*) FROM mailloop_replies_tbl WHERE subject LIKE 'Where is%'")"

# ---- webhook.log: hard bounces of a company with a HARD_BOUNCE webhook -------
WH="$EMM&emm_webhook_log=$T/webhook.log"
deliver "$WH" 5.1.1 "$(uid 4 0 1 101 2 $K1)"
expect "hard bounce of bob (company 1, webhook set): one webhook.log line" \
	"0;1;101;2;4;T" \
	"$(sed 's/;[0-9]\{4\}-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]$/;T/' "$T/webhook.log")"
expect "binding committed before the webhook line" "2" \
	"$(sqlq "SELECT user_status FROM customer_1_binding_tbl WHERE customer_id = 2")"
deliver "$WH" 4.2.2 "$(uid 4 0 1 101 4 $K1)"
deliver "$WH" 5.1.1 "$(uid 4 0 2 201 2 club-key-2)"
expect "soft bounce, company 2 without webhook: no more lines" 1 \
	"$(wc -l < "$T/webhook.log" | tr -d ' ')"
expect "company 2's hard bounce recorded all the same" 2 \
	"$(sqlq "SELECT user_status FROM customer_2_binding_tbl WHERE customer_id = 2")"
deliver "$EMM&emm_logdir=$T/log&emm_webhook_log=$T/webhook.log" 5.1.1 "$(uid 4 0 1 102 1 $K1)"
expect "emm_logdir mode: update writes the webhooks, bav not" 1 \
	"$(wc -l < "$T/webhook.log" | tr -d ' ')"
# the recorder: the line after its batch's commit (bav_emm_finish())
"$BAV" deliver --spool "$T/sp2" --no-forward -f "" -- aml_1@mailloop.shop.example \
	< "$T/m$n.eml" 2>> "$T/deliver.err" || fail "bav deliver to spool 2"
sed -i "s/^Message-ID: <[^>]*@mailloop/Message-ID: <$(uid 4 0 1 102 3 $K1)@mailloop/" "$T/m$n.eml"
sed -i "s/^Message-ID: <dsn-/Message-ID: <rec-dsn-/" "$T/m$n.eml"
"$BAV" deliver --spool "$T/sp2" --no-forward -f "" -- aml_1@mailloop.shop.example \
	< "$T/m$n.eml" 2>> "$T/deliver.err" || fail "bav deliver to spool 2"
"$BAV" recorder --once --quiet --spool "$T/sp2" --store "$WH" 2>> "$T/deliver.err" ||
	fail "bav recorder --once"
expect "recorder: webhook line of the committed hard bounce of customer 3 only" \
	"0;1;102;3;4;T" \
	"$(sed -n '2,$s/;[0-9-]* [0-9:]*$/;T/p' "$T/webhook.log")"

# ---- least privilege: the grants bav-emm(7) lists, no CREATE -------------
echo "lp-pw-$$" > "$T/lp.pw"
chmod 600 "$T/lp.pw"
g=""
for c in 1 2; do
	g="$g GRANT SELECT, UPDATE ON bav.customer_${c}_tbl TO lp@'127.0.0.1';
	GRANT SELECT, UPDATE ON bav.customer_${c}_binding_tbl TO lp@'127.0.0.1';
	GRANT SELECT, DELETE ON bav.success_${c}_tbl TO lp@'127.0.0.1';"
done
for t in company_tbl company_info_tbl maildrop_status_tbl mailloop_tbl \
	bounce_rule_tbl bounce_translate_tbl bounce_config_tbl; do
	g="$g GRANT SELECT ON bav.$t TO lp@'127.0.0.1';"
done
for t in bounce_tbl bav_emm_done_tbl; do
	g="$g GRANT SELECT, INSERT ON bav.$t TO lp@'127.0.0.1';"
done
sqlq "CREATE USER lp@'127.0.0.1' IDENTIFIED BY 'lp-pw-$$';
	GRANT SELECT, UPDATE ON bav.mailing_tbl TO lp@'127.0.0.1';
	GRANT INSERT ON bav.mailloop_log_tbl TO lp@'127.0.0.1';
	GRANT INSERT ON bav.mailloop_replies_tbl TO lp@'127.0.0.1';
	GRANT SELECT, INSERT, UPDATE ON bav.bounce_ar_lastsent_tbl TO lp@'127.0.0.1';
	GRANT SELECT, INSERT, DELETE ON bav.bav_emm_delayed_tbl TO lp@'127.0.0.1';
	$g" || fail "create the least-privilege user"
LP="emm+mariadb://lp@127.0.0.1:$MARIADB_PORT/bav?password_file=$T/lp.pw"
deliver "$LP" 5.1.1 "$(uid 4 0 2 201 1 club-key-2)"
expect "least privilege: hard bounce of company 2 recorded" "2	bounce:511 (from 5.1.1 using $(sqlq "SELECT rule_id FROM bounce_translate_tbl WHERE company_id = 0 AND dsn = 511"))" \
	"$(sqlq "SELECT user_status, user_remark FROM customer_2_binding_tbl WHERE customer_id = 1")"
# the password from the secrets file (store_password), no password file
printf 'store_password = lp-pw-%s\n' $$ > "$T/secrets"
chmod 600 "$T/secrets"
printf 'secrets_file = %s\n' "$T/secrets" > "$T/main.cf"
sqlq "UPDATE customer_2_binding_tbl SET user_status = 1 WHERE customer_id = 1"
BAV_CONFIG=$T/main.cf deliver "emm+mariadb://lp@127.0.0.1:$MARIADB_PORT/bav" \
	5.1.1 "$(uid 4 0 2 201 1 club-key-2)"
expect "secrets file's store_password opens the emm+mariadb:// store" 2 \
	"$(sqlq "SELECT user_status FROM customer_2_binding_tbl WHERE customer_id = 1")"

[ -s "$T/deliver.err" ] && { echo "--- deliver stderr"; cat "$T/deliver.err"; }
[ $fails -eq 0 ] || exit 1
exit 0
