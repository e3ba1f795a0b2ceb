-- SPDX-License-Identifier: MIT
-- NAME
--	seed.sql - seed data for the EMM schema subset (tests and demos)
-- SYNOPSIS
--	mariadb DB < sql/emm/schema.sql && mariadb DB < sql/emm/seed.sql
-- DESCRIPTION
--	Two active companies with secret keys, their mailing lists,
--	mailings, customers and bindings, bounce filters (mailloop_tbl),
--	rule sets in bounce_rule_tbl for the (company, rid) merge, DSN
--	translations in bounce_translate_tbl and bounce_config_tbl
--	parameters. Everything here is invented for this project; the rule
--	patterns are bav's own wording. The licence is 0 (OpenEMM's default).
--
--	company 1 "Example Shop": secret "s3cret-shop-key", uid_version 2,
--	  mailtracking 1, mailloop domain mailloop.shop.example
--	  lists 11 (Newsletter), 12 (Offers); mailings 101 (list 11),
--	  102 (list 12), 103 (autoresponder, action based 'E'), 104 deleted
--	  customers 1 alice (11, 12), 2 bob (11), 3 BOB duplicate address (11),
--	  4 carol (11, status 6 blocklisted)
--	  filters rid 1 "Shop replies" (inbox), rid 3 "Shop support" (AR 103)
--	company 2 "Other Club": secret "club-key-2", uid_version 3,
--	  mailtracking 0, mailloop domain ml.club.example
--	  list 21; mailing 201; customers 1 dave (21), 2 erin (21)
--	  filter rid 2 "Club replies" forwarding to office@club.example
--	Statements end with ";" at the end of a line.
-- SEE ALSO
--	schema.sql, bav-emm(7), t/emm/e2e.sh

INSERT INTO config_tbl (class, name, value, description) VALUES
	('system', 'licence', '0', 'licence id of this installation');

INSERT INTO company_tbl (company_id, shortname, status, mailloop_domain,
	rdir_domain, secret_key, enabled_uid_version, uid_version,
	mailtracking, company_token) VALUES
	(1, 'Example Shop', 'active', 'mailloop.shop.example',
	 'https://rdir.shop.example', 's3cret-shop-key', 4, 2, 1, 'tok-shop'),
	(2, 'Other Club', 'active', 'ml.club.example',
	 'https://rdir.club.example', 'club-key-2', 5, 3, 0, 'tok-club');

INSERT INTO company_info_tbl (company_id, cname, cvalue, description) VALUES
	(1, 'bavd:inbox-enabled', 'true', 'store unforwarded replies'),
	(0, 'bounce-mark-duplicate', 'true', 'hard bounce marks duplicates');

INSERT INTO mailinglist_tbl (mailinglist_id, company_id, shortname,
	rdir_domain) VALUES
	(11, 1, 'Newsletter', NULL),
	(12, 1, 'Offers', 'https://offers.shop.example'),
	(21, 2, 'Club news', NULL);

INSERT INTO mailing_tbl (mailing_id, company_id, mailinglist_id, shortname,
	deleted, creation_date, delivered) VALUES
	(101, 1, 11, 'Newsletter January', 0, '2026-01-15 09:30:00', 3),
	(102, 1, 12, 'Offers week 3', 0, '2026-01-16 14:00:00', 1),
	(103, 1, 11, 'Support autoresponder', 0, '2026-01-02 08:00:00', 0),
	(104, 1, 11, 'Deleted draft', 1, '2026-01-03 08:00:00', 0),
	(201, 2, 21, 'Club news February', 0, '2026-02-01 18:45:00', 2);

INSERT INTO maildrop_status_tbl (company_id, mailing_id, status_field) VALUES
	(1, 101, 'W'), (1, 102, 'W'), (1, 103, 'E'), (2, 201, 'W');

INSERT INTO userform_tbl (form_id, company_id, formname) VALUES
	(1, 1, 'doi_confirm');

INSERT INTO customer_1_tbl (customer_id, email, firstname, lastname,
	gender, mailtype) VALUES
	(1, 'alice@example.net', 'Alice', 'Anders', 1, 1),
	(2, 'bob@example.net', 'Bob', 'Brown', 0, 1),
	(3, 'BOB@example.net', 'Robert', 'Brown', 0, 1),
	(4, 'carol@example.org', 'Carol', 'Clark', 1, 1);

INSERT INTO customer_1_binding_tbl (customer_id, mailinglist_id, user_type,
	user_status, user_remark, mediatype) VALUES
	(1, 11, 'W', 1, 'seed', 0),
	(1, 12, 'W', 1, 'seed', 0),
	(2, 11, 'W', 1, 'seed', 0),
	(3, 11, 'W', 1, 'seed', 0),
	(4, 11, 'W', 6, 'blocklisted', 0);

INSERT INTO success_1_tbl (customer_id, mailing_id, timestamp) VALUES
	(1, 101, '2026-01-15 09:31:00'),
	(2, 101, '2026-01-15 09:31:00'),
	(3, 101, '2026-01-15 09:31:00'),
	(1, 102, '2026-01-16 14:01:00');

INSERT INTO customer_2_tbl (customer_id, email, firstname, lastname) VALUES
	(1, 'dave@example.com', 'Dave', 'Dunn'),
	(2, 'erin@example.com', 'Erin', 'Evans');

INSERT INTO customer_2_binding_tbl (customer_id, mailinglist_id, user_type,
	user_status, user_remark, mediatype) VALUES
	(1, 21, 'W', 1, 'seed', 0),
	(2, 21, 'W', 1, 'seed', 0);

INSERT INTO mailloop_tbl (rid, company_id, shortname, description,
	filter_address, forward_enable, forward, ar_enable,
	autoresponder_mailing_id, security_token, subscribe_enable,
	mailinglist_id, form_id) VALUES
	(1, 1, 'Shop replies', 'replies to the shop newsletters',
	 'replies@shop.example', 0, '', 0, NULL, NULL, 0, NULL, NULL),
	(2, 2, 'Club replies', 'replies to the club news',
	 '', 1, 'office@club.example', 0, NULL, NULL, 0, NULL, NULL),
	(3, 1, 'Shop support', 'support address with autoresponder',
	 'support@shop.example', 0, '', 1, 103, 'ar-token-3', 1, 11, 1);

-- rule sets: (0,0) global, (1,0) company 1, (0,1) filter 1, (1,1) both
INSERT INTO bounce_rule_tbl (company_id, rid, definition) VALUES
	(0, 0, '{"filter": ["{auto}^(From|Sender):.*(auto.?(reply|respon)|no.?reply)", "{ooo}^Subject:.*(out of (the )?office|on vacation|abwesend)"], "hard": ["^Action: failed", "(user|mailbox|recipient) (unknown|not found|does not exist)", "no such (user|mailbox|recipient)"], "soft": ["mailbox (is )?full", "(quota|storage) (exceeded|limit)", "temporar(il)?y (unavailable|failure|deferred)"], "systemmail": ["^Subject:.*(undeliver|returned mail|delivery (status|failure))", "^Return-Path:.*<>", "^Precedence: *(bulk|junk|list)", "^Subject:.*unsubscribe:[0-9a-z_-]+([.][0-9a-z_-]+)+"]}'),
	(1, 0, '{"hard": ["account (has been )?(disabled|closed)"]}'),
	(0, 1, '{"filter": ["{auto}^Subject:.*automatic reply"]}'),
	(1, 1, '{"soft": ["try again later"]}');

-- DSN prefix -> detail (company 0 as the spec lists the install-time set)
INSERT INTO bounce_translate_tbl (company_id, dsn, detail, pattern, active,
	shortname, description) VALUES
	(0, 50, 400, NULL, 1, 'permanent-other', '5.0.x other'),
	(0, 51, 410, NULL, 1, 'permanent-address', '5.1.x address'),
	(0, 52, 420, NULL, 1, 'permanent-mailbox', '5.2.x mailbox'),
	(0, 53, 400, NULL, 1, 'permanent-system-53', '5.3.x'),
	(0, 54, 400, NULL, 1, 'permanent-system-54', '5.4.x'),
	(0, 55, 400, NULL, 1, 'permanent-system-55', '5.5.x'),
	(0, 56, 400, NULL, 1, 'permanent-system-56', '5.6.x'),
	(0, 57, 400, NULL, 1, 'permanent-system-57', '5.7.x'),
	(0, 58, 400, NULL, 1, 'permanent-system-58', '5.8.x'),
	(0, 59, 400, NULL, 1, 'permanent-system-59', '5.9.x'),
	(0, 511, 511, NULL, 1, 'bad-mailbox', '5.1.1'),
	(0, 512, 512, NULL, 1, 'bad-system', '5.1.2'),
	(0, 513, 511, NULL, 1, 'bad-syntax', '5.1.3'),
	(0, 516, 511, NULL, 1, 'moved', '5.1.6'),
	(0, 521, 511, NULL, 1, 'disabled', '5.2.1'),
	(0, 531, 510, NULL, 1, 'system-full', '5.3.1'),
	(0, 550, 511, 'stat="unknown recipient"', 1, 'unknown-recipient', '5.5.0 + text'),
	(0, 571, 410, NULL, 1, 'refused', '5.7.1'),
	(0, 572, 511, NULL, 1, 'list-expanded', '5.7.2'),
	(1, 571, 511, NULL, 1, 'shop-refused-hard', 'company 1: 5.7.1 is hard'),
	(1, 447, 512, NULL, 1, 'shop-expired-hard', 'company 1: 4.4.7 is hard (parked)'),
	(2, 51, 400, NULL, 0, 'club-inactive', 'inactive rule, never used');

INSERT INTO bounce_config_tbl (company_id, rid, name, value, description) VALUES
	(0, 0, 'conversion', '{"convert-bounce-count": 10, "convert-bounce-duration": 30, "expire": 1100, "fade-out": 14, "last-click": 30, "last-open": 30, "threshold": 5}', 'soft bounce conversion'),
	(0, 0, 'autoresponder', '{"limit": "1d"}', 'autoresponder rate limit'),
	(1, 0, 'conversion', '{"convert-bounce-count": 3}', 'company 1: convert earlier');

-- company 1 has a hard-bounce webhook (the name of the event type;
-- "4", its code, is matched too), company 2 has none
INSERT INTO webhook_url_tbl (company_ref, event_type, webhook_url) VALUES
	(1, 'HARD_BOUNCE', 'https://hooks.shop.example/emm/hard-bounce'),
	(1, 'LINK_CLICKED', 'https://hooks.shop.example/emm/click');
