-- SPDX-License-Identifier: MIT
-- NAME
--	001-initial.sql - bav store schema, version 1 (SQLite)
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
	version INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	applied INTEGER NOT NULL
);

-- one row per recorded returned message: the idempotence key;
-- result_count is the number of its bav_events rows
CREATE TABLE IF NOT EXISTS bav_messages (
	id INTEGER PRIMARY KEY,
	message_key TEXT NOT NULL UNIQUE,
	time INTEGER NOT NULL,
	receiving_host TEXT NOT NULL DEFAULT '',
	kind TEXT NOT NULL,
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
	licence_id INTEGER,
	company_id INTEGER,
	mailing_id INTEGER,
	customer_id INTEGER,
	result_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS bav_messages_time ON bav_messages (time);

-- one row per affected recipient of a recorded message; the identity of
-- the original mail is repeated here so reports need no join
CREATE TABLE IF NOT EXISTS bav_events (
	id INTEGER PRIMARY KEY,
	message_id INTEGER NOT NULL REFERENCES bav_messages (id),
	time INTEGER NOT NULL,
	recipient TEXT NOT NULL,
	domain TEXT NOT NULL,
	orig_recipient TEXT NOT NULL DEFAULT '',
	kind TEXT NOT NULL,
	action TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	hard INTEGER NOT NULL DEFAULT 0,
	detail INTEGER NOT NULL DEFAULT 0,
	status TEXT NOT NULL DEFAULT '',
	replycode INTEGER NOT NULL DEFAULT 0,
	diagnostic TEXT NOT NULL DEFAULT '',
	remote_mta TEXT NOT NULL DEFAULT '',
	rule TEXT NOT NULL DEFAULT '',
	feedback_type TEXT NOT NULL DEFAULT '',
	orig_message_id TEXT NOT NULL DEFAULT '',
	envelope_sender TEXT NOT NULL DEFAULT '',
	licence_id INTEGER,
	company_id INTEGER,
	mailing_id INTEGER,
	customer_id INTEGER,
	receiving_host TEXT NOT NULL DEFAULT ''
);
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
	address TEXT PRIMARY KEY,
	domain TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'active',
	state_since INTEGER NOT NULL,
	state_reason TEXT NOT NULL DEFAULT '',
	state_event INTEGER,
	soft_count INTEGER NOT NULL DEFAULT 0,
	soft_first INTEGER,
	soft_last INTEGER,
	soft_mailing INTEGER,
	last_event INTEGER,
	last_delivery INTEGER,
	last_engagement INTEGER,
	company_id INTEGER,
	customer_id INTEGER
);
CREATE INDEX IF NOT EXISTS bav_recipients_state ON bav_recipients (state, state_since);
CREATE INDEX IF NOT EXISTS bav_recipients_domain ON bav_recipients (domain);

-- replies (human replies, auto-replies) and what was done with them
CREATE TABLE IF NOT EXISTS bav_replies (
	id INTEGER PRIMARY KEY,
	message_id INTEGER REFERENCES bav_messages (id),
	time INTEGER NOT NULL,
	rid INTEGER,
	kind TEXT NOT NULL DEFAULT 'reply',
	status INTEGER NOT NULL DEFAULT 0,
	sender_full_name TEXT NOT NULL DEFAULT '',
	sender_email TEXT NOT NULL DEFAULT '',
	response_email TEXT NOT NULL DEFAULT '',
	subject TEXT NOT NULL DEFAULT '',
	action TEXT NOT NULL DEFAULT '',
	forwarded_to TEXT NOT NULL DEFAULT '',
	content_type INTEGER NOT NULL DEFAULT 0,
	content TEXT,
	company_id INTEGER,
	mailing_id INTEGER,
	customer_id INTEGER
);
CREATE INDEX IF NOT EXISTS bav_replies_time ON bav_replies (time);
CREATE INDEX IF NOT EXISTS bav_replies_rid ON bav_replies (rid, time);

-- mailloop filters, columns as OpenEMM's mailloop_tbl, plus the
-- bav.conf verdict of the filter address (accept, reject, tempfail)
-- and the autoresponder rate limit
CREATE TABLE IF NOT EXISTS bav_mailloop (
	rid INTEGER PRIMARY KEY,
	company_id INTEGER NOT NULL DEFAULT 0,
	shortname TEXT NOT NULL DEFAULT '',
	description TEXT NOT NULL DEFAULT '',
	filter_address TEXT NOT NULL DEFAULT '',
	address_action TEXT NOT NULL DEFAULT 'accept',
	forward_enable INTEGER NOT NULL DEFAULT 0,
	forward TEXT NOT NULL DEFAULT '',
	ar_enable INTEGER NOT NULL DEFAULT 0,
	autoresponder_mailing_id INTEGER,
	ar_limit INTEGER NOT NULL DEFAULT 86400,
	ar_allowlist TEXT NOT NULL DEFAULT '',
	security_token TEXT NOT NULL DEFAULT '',
	subscribe_enable INTEGER NOT NULL DEFAULT 0,
	mailinglist_id INTEGER,
	form_id INTEGER,
	spam_email TEXT NOT NULL DEFAULT '',
	spam_forward INTEGER,
	spam_required INTEGER,
	inbox_enable INTEGER NOT NULL DEFAULT 0,
	creation_date INTEGER NOT NULL DEFAULT 0,
	change_date INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS bav_mailloop_company ON bav_mailloop (company_id);

-- autoresponder last-sent, per filter and sender address (not per
-- customer only, spec 8.4 item 13)
CREATE TABLE IF NOT EXISTS bav_ar_lastsent (
	rid INTEGER NOT NULL,
	address TEXT NOT NULL,
	customer_id INTEGER,
	lastsent INTEGER NOT NULL,
	PRIMARY KEY (rid, address)
);

-- audit trail of manual changes (bav unblock)
CREATE TABLE IF NOT EXISTS bav_audit (
	id INTEGER PRIMARY KEY,
	time INTEGER NOT NULL,
	address TEXT NOT NULL,
	action TEXT NOT NULL,
	old_state TEXT NOT NULL DEFAULT '',
	new_state TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL,
	actor TEXT NOT NULL DEFAULT '',
	host TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS bav_audit_address ON bav_audit (address, time);

-- small named values (cursors of bav score, report marks)
CREATE TABLE IF NOT EXISTS bav_meta (
	name TEXT PRIMARY KEY,
	value TEXT NOT NULL DEFAULT '',
	ivalue INTEGER,
	changed INTEGER NOT NULL DEFAULT 0
);
