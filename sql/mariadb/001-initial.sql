-- SPDX-License-Identifier: MIT
-- NAME
--	001-initial.sql - bav store schema, version 1 (MariaDB)
-- DESCRIPTION
--	Forward-only migrations live in sql/<dialect>/NNN-name.sql; libbav
--	embeds them, applies the missing ones in order (bav store init, or
--	at open when asked) and refuses a database whose schema is newer
--	than it knows. The MariaDB file declares the same tables and columns.
--	Every time is INTEGER unix epoch seconds (UTC), so the same SQL runs
--	on both backends. Statements end with ";" at the end of a line and
--	contain no other ";" (the loader splits on it). Every statement may
--	run twice (IF NOT EXISTS): MariaDB commits DDL one statement at a
--	time, so a migration cut short is simply applied again.
-- SEE ALSO
--	bav-store(7), emm-mailloop spec sections 5.11, 6, 7

CREATE TABLE IF NOT EXISTS bav_schema_version (
	version INT PRIMARY KEY,
	name VARCHAR(128) NOT NULL,
	applied BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- one row per recorded returned message: the idempotence key;
-- result_count is the number of its bav_events rows
CREATE TABLE IF NOT EXISTS bav_messages (
	id BIGINT AUTO_INCREMENT PRIMARY KEY,
	message_key VARCHAR(128) NOT NULL UNIQUE,
	time BIGINT NOT NULL,
	receiving_host VARCHAR(255) NOT NULL DEFAULT '',
	kind VARCHAR(16) NOT NULL,
	rule TEXT NOT NULL DEFAULT '',
	mark TEXT NOT NULL DEFAULT '',
	from_addr TEXT NOT NULL DEFAULT '',
	subject TEXT NOT NULL DEFAULT '',
	reporting_mta TEXT NOT NULL DEFAULT '',
	unsubscribe_uid TEXT NOT NULL DEFAULT '',
	orig_message_id TEXT NOT NULL DEFAULT '',
	envelope_sender TEXT NOT NULL DEFAULT '',
	envelope_recipient TEXT NOT NULL DEFAULT '',
	envelope_id TEXT NOT NULL DEFAULT '',
	orig_subject TEXT NOT NULL DEFAULT '',
	verp TEXT NOT NULL DEFAULT '',
	agnuid TEXT NOT NULL DEFAULT '',
	licence_id BIGINT,
	company_id BIGINT,
	mailing_id BIGINT,
	customer_id BIGINT,
	result_count INT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX IF NOT EXISTS bav_messages_time ON bav_messages (time);

-- one row per affected recipient of a recorded message; the identity of
-- the original mail is repeated here so reports need no join
CREATE TABLE IF NOT EXISTS bav_events (
	id BIGINT AUTO_INCREMENT PRIMARY KEY,
	message_id BIGINT NOT NULL REFERENCES bav_messages (id),
	time BIGINT NOT NULL,
	recipient VARCHAR(320) NOT NULL,
	domain VARCHAR(255) NOT NULL,
	orig_recipient TEXT NOT NULL DEFAULT '',
	kind VARCHAR(16) NOT NULL,
	action VARCHAR(32) NOT NULL DEFAULT '',
	reason VARCHAR(64) NOT NULL DEFAULT '',
	hard INT NOT NULL DEFAULT 0,
	detail INT NOT NULL DEFAULT 0,
	status VARCHAR(16) NOT NULL DEFAULT '',
	replycode INT NOT NULL DEFAULT 0,
	diagnostic TEXT NOT NULL DEFAULT '',
	remote_mta TEXT NOT NULL DEFAULT '',
	rule TEXT NOT NULL DEFAULT '',
	feedback_type VARCHAR(64) NOT NULL DEFAULT '',
	orig_message_id TEXT NOT NULL DEFAULT '',
	envelope_sender TEXT NOT NULL DEFAULT '',
	licence_id BIGINT,
	company_id BIGINT,
	mailing_id BIGINT,
	customer_id BIGINT,
	receiving_host VARCHAR(255) NOT NULL DEFAULT ''
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX IF NOT EXISTS bav_events_time ON bav_events (time);
CREATE INDEX IF NOT EXISTS bav_events_recipient ON bav_events (recipient, time);
CREATE INDEX IF NOT EXISTS bav_events_domain ON bav_events (domain, time);
CREATE INDEX IF NOT EXISTS bav_events_reason ON bav_events (reason, time);
CREATE INDEX IF NOT EXISTS bav_events_mailing ON bav_events (mailing_id, time);
CREATE INDEX IF NOT EXISTS bav_events_kind ON bav_events (kind, time);
CREATE INDEX IF NOT EXISTS bav_events_message ON bav_events (message_id);

-- state of each recipient address (lower-cased). state is one of
-- active, softbounce, bounced, complained, unsubscribed. bav record sets
-- bounced/complained/unsubscribed and the last_* times; the soft_*
-- columns belong to bav score.
CREATE TABLE IF NOT EXISTS bav_recipients (
	address VARCHAR(320) PRIMARY KEY,
	domain VARCHAR(255) NOT NULL,
	state VARCHAR(16) NOT NULL DEFAULT 'active',
	state_since BIGINT NOT NULL,
	state_reason TEXT NOT NULL DEFAULT '',
	state_event BIGINT,
	soft_count INT NOT NULL DEFAULT 0,
	soft_first BIGINT,
	soft_last BIGINT,
	soft_mailing BIGINT,
	last_event BIGINT,
	last_delivery BIGINT,
	last_engagement BIGINT,
	company_id BIGINT,
	customer_id BIGINT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX IF NOT EXISTS bav_recipients_state ON bav_recipients (state, state_since);
CREATE INDEX IF NOT EXISTS bav_recipients_domain ON bav_recipients (domain);

-- replies (human replies, auto-replies) and what was done with them
CREATE TABLE IF NOT EXISTS bav_replies (
	id BIGINT AUTO_INCREMENT PRIMARY KEY,
	message_id BIGINT REFERENCES bav_messages (id),
	time BIGINT NOT NULL,
	rid BIGINT,
	kind VARCHAR(16) NOT NULL DEFAULT 'reply',
	status INT NOT NULL DEFAULT 0,
	sender_full_name TEXT NOT NULL DEFAULT '',
	sender_email TEXT NOT NULL DEFAULT '',
	response_email TEXT NOT NULL DEFAULT '',
	subject TEXT NOT NULL DEFAULT '',
	action VARCHAR(32) NOT NULL DEFAULT '',
	forwarded_to TEXT NOT NULL DEFAULT '',
	content_type INT NOT NULL DEFAULT 0,
	content LONGTEXT,
	company_id BIGINT,
	mailing_id BIGINT,
	customer_id BIGINT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX IF NOT EXISTS bav_replies_time ON bav_replies (time);
CREATE INDEX IF NOT EXISTS bav_replies_rid ON bav_replies (rid, time);

-- mailloop filters, columns as OpenEMM's mailloop_tbl, plus the
-- bav.conf verdict of the filter address (accept, reject, tempfail)
-- and the autoresponder rate limit
CREATE TABLE IF NOT EXISTS bav_mailloop (
	rid BIGINT AUTO_INCREMENT PRIMARY KEY,
	company_id BIGINT NOT NULL DEFAULT 0,
	shortname VARCHAR(200) NOT NULL DEFAULT '',
	description TEXT NOT NULL DEFAULT '',
	filter_address TEXT NOT NULL DEFAULT '',
	address_action VARCHAR(16) NOT NULL DEFAULT 'accept',
	forward_enable INT NOT NULL DEFAULT 0,
	forward TEXT NOT NULL DEFAULT '',
	ar_enable INT NOT NULL DEFAULT 0,
	autoresponder_mailing_id BIGINT,
	ar_limit BIGINT NOT NULL DEFAULT 86400,
	ar_allowlist TEXT NOT NULL DEFAULT '',
	security_token VARCHAR(100) NOT NULL DEFAULT '',
	subscribe_enable INT NOT NULL DEFAULT 0,
	mailinglist_id BIGINT,
	form_id BIGINT,
	spam_email TEXT NOT NULL DEFAULT '',
	spam_forward INT,
	spam_required INT,
	inbox_enable INT NOT NULL DEFAULT 0,
	creation_date BIGINT NOT NULL DEFAULT 0,
	change_date BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX IF NOT EXISTS bav_mailloop_company ON bav_mailloop (company_id);

-- autoresponder last-sent, per filter and sender address (not per
-- customer only, spec 8.4 item 13)
CREATE TABLE IF NOT EXISTS bav_ar_lastsent (
	rid BIGINT NOT NULL,
	address VARCHAR(320) NOT NULL,
	customer_id BIGINT,
	lastsent BIGINT NOT NULL,
	PRIMARY KEY (rid, address)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- audit trail of manual changes (bav unblock)
CREATE TABLE IF NOT EXISTS bav_audit (
	id BIGINT AUTO_INCREMENT PRIMARY KEY,
	time BIGINT NOT NULL,
	address VARCHAR(320) NOT NULL,
	action VARCHAR(32) NOT NULL,
	old_state VARCHAR(16) NOT NULL DEFAULT '',
	new_state VARCHAR(16) NOT NULL DEFAULT '',
	reason TEXT NOT NULL,
	actor VARCHAR(255) NOT NULL DEFAULT '',
	host VARCHAR(255) NOT NULL DEFAULT ''
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX IF NOT EXISTS bav_audit_address ON bav_audit (address, time);

-- small named values (cursors of bav score, report marks)
CREATE TABLE IF NOT EXISTS bav_meta (
	name VARCHAR(128) PRIMARY KEY,
	value TEXT NOT NULL DEFAULT '',
	ivalue BIGINT,
	changed BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
