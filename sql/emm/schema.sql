-- SPDX-License-Identifier: MIT
-- NAME
--	schema.sql - minimal OpenEMM schema subset for bav's EMM drop-in mode
-- SYNOPSIS
--	mariadb DB < sql/emm/schema.sql && mariadb DB < sql/emm/seed.sql
-- DESCRIPTION
--	Written for this project from the table descriptions of the EMM
--	mailloop specification (section 7): only the tables and columns
--	that the mailloop chain reads or writes (bav-update, bavd, update,
--	softbounce). It stands in for an OpenEMM database in tests and
--	demos; a real OpenEMM installation already has these tables (and
--	many more) and is used unchanged. bav opens such a database with
--	any_version (it has no bav_schema_version table) and never creates,
--	alters or drops an OpenEMM table.
--
--	Per-company tables (customer_<cid>_tbl, customer_<cid>_binding_tbl,
--	success_<cid>_tbl, rdirlog_<cid>_tbl, onepixellog_<cid>_tbl) are
--	declared here for the two seed companies 1 and 2.
--
--	The last two tables (bav_emm_*) are bav's own bookkeeping in an EMM
--	database (idempotence of redelivered messages, parked non-5xx hard
--	bounces); bav creates them itself when missing (bav-emm(7)).
--	Statements end with ";" at the end of a line and contain no other
--	";", every statement may run twice.
-- SEE ALSO
--	emm-mailloop spec sections 5.11-5.13, 6, 7; bav-emm(7); seed.sql

-- ---- configuration ------------------------------------------------------

CREATE TABLE IF NOT EXISTS config_tbl (
	class VARCHAR(32) NOT NULL,
	name VARCHAR(64) NOT NULL,
	value VARCHAR(4000),
	description VARCHAR(250),
	creation_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	change_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	PRIMARY KEY (class, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS company_tbl (
	company_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	shortname VARCHAR(100) NOT NULL,
	status VARCHAR(20) NOT NULL DEFAULT 'active',
	mailloop_domain VARCHAR(200),
	rdir_domain VARCHAR(200),
	secret_key VARCHAR(200),
	enabled_uid_version INT,
	uid_version INT,
	mailtracking INT(1) NOT NULL DEFAULT 0,
	company_token VARCHAR(100),
	timestamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	creation_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS company_info_tbl (
	company_id INT UNSIGNED NOT NULL,
	cname VARCHAR(64) NOT NULL,
	cvalue VARCHAR(4000),
	hostname VARCHAR(100),
	description VARCHAR(250),
	timestamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	creation_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	KEY cinfo$cid$idx (company_id, cname)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS webhook_url_tbl (
	company_ref INT UNSIGNED NOT NULL,
	event_type VARCHAR(100) NOT NULL,
	webhook_url VARCHAR(1000)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS timestamp_tbl (
	timestamp_id INT UNSIGNED NOT NULL PRIMARY KEY,
	name VARCHAR(64) NOT NULL UNIQUE,
	description VARCHAR(250),
	cur TIMESTAMP NULL,
	prev TIMESTAMP NULL,
	temp TIMESTAMP NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- ---- mailings -----------------------------------------------------------

CREATE TABLE IF NOT EXISTS mailinglist_tbl (
	mailinglist_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	company_id INT UNSIGNED NOT NULL,
	shortname VARCHAR(100),
	rdir_domain VARCHAR(200),
	deleted INT(1) NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS mailing_tbl (
	mailing_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	company_id INT UNSIGNED NOT NULL,
	mailinglist_id INT UNSIGNED NOT NULL,
	shortname VARCHAR(200),
	deleted INT(1) NOT NULL DEFAULT 0,
	creation_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	delivered INT NOT NULL DEFAULT 0,
	KEY mailing$cid$idx (company_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS maildrop_status_tbl (
	status_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	company_id INT UNSIGNED NOT NULL,
	mailing_id INT UNSIGNED NOT NULL,
	status_field VARCHAR(10) NOT NULL,
	senddate TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	KEY mds$mid$idx (mailing_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS userform_tbl (
	form_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	company_id INT UNSIGNED NOT NULL,
	formname VARCHAR(100) NOT NULL,
	deleted INT(1) NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- ---- bounce filters and rules (bav-update, bavd) ------------------------

CREATE TABLE IF NOT EXISTS mailloop_tbl (
	rid INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	company_id INT UNSIGNED NOT NULL,
	shortname VARCHAR(200) NOT NULL,
	description TEXT,
	filter_address VARCHAR(128),
	forward_enable INT NOT NULL DEFAULT 0,
	forward VARCHAR(128),
	ar_enable INT NOT NULL DEFAULT 0,
	autoresponder_mailing_id INT UNSIGNED,
	security_token VARCHAR(100),
	subscribe_enable INT(1) NOT NULL DEFAULT 0,
	mailinglist_id INT UNSIGNED,
	form_id INT UNSIGNED,
	spam_email VARCHAR(200),
	spam_forward INT,
	spam_required INT,
	timestamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	creation_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS mailloop_rule_tbl (
	rid INT NOT NULL,
	section VARCHAR(32) NOT NULL,
	pattern VARCHAR(256) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS bounce_rule_tbl (
	company_id INT UNSIGNED NOT NULL,
	rid INT UNSIGNED NOT NULL,
	definition LONGTEXT,
	creation_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	change_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	PRIMARY KEY (company_id, rid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS bounce_config_tbl (
	company_id INT UNSIGNED NOT NULL,
	rid INT UNSIGNED NOT NULL,
	name VARCHAR(100) NOT NULL,
	value LONGTEXT,
	description VARCHAR(500),
	creation_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	change_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	PRIMARY KEY (company_id, rid, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS bounce_translate_tbl (
	rule_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	company_id INT UNSIGNED NOT NULL DEFAULT 0,
	dsn INT NOT NULL,
	detail INT NOT NULL,
	pattern VARCHAR(150),
	active INT(1) NOT NULL DEFAULT 1,
	shortname VARCHAR(100),
	description VARCHAR(500),
	creation_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	change_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- ---- what the mailloop writes (update, bavd, softbounce) ----------------

CREATE TABLE IF NOT EXISTS mailloop_log_tbl (
	mailloop_log_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	rid VARCHAR(32),
	timestamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	status INT(1),
	company_id INT UNSIGNED,
	mailing_id INT UNSIGNED,
	customer_id INT UNSIGNED,
	action VARCHAR(32),
	remark VARCHAR(1000)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS mailloop_replies_tbl (
	id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	mailloop_id INT UNSIGNED NOT NULL,
	status INT(1) NOT NULL DEFAULT 0,
	sender_full_name VARCHAR(200),
	subject VARCHAR(200),
	sender_email VARCHAR(200),
	response_email VARCHAR(200),
	timestamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	creation_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	change_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	content LONGTEXT,
	content_type INT(1) NOT NULL DEFAULT 0,
	raw_message LONGBLOB,
	customer_id INT UNSIGNED,
	company_id INT UNSIGNED NOT NULL,
	customer_company_id INT UNSIGNED,
	CONSTRAINT mlreply$rid$fk FOREIGN KEY (mailloop_id)
		REFERENCES mailloop_tbl (rid) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS bounce_ar_lastsent_tbl (
	rid INT UNSIGNED NOT NULL,
	customer_id INT UNSIGNED NOT NULL,
	lastsent TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	PRIMARY KEY (rid, customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS bounce_tbl (
	bounce_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	company_id INT UNSIGNED NOT NULL,
	customer_id INT UNSIGNED NOT NULL,
	mailing_id INT UNSIGNED NOT NULL,
	detail INT NOT NULL,
	dsn INT NOT NULL,
	timestamp TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
		ON UPDATE CURRENT_TIMESTAMP,
	KEY bounce$cuid$idx (customer_id),
	KEY bounce$mid$idx (mailing_id),
	KEY bounce$tstamp$idx (timestamp)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS bounce_collect_tbl (
	customer_id INT UNSIGNED NOT NULL,
	mailing_id INT UNSIGNED NOT NULL,
	company_id INT UNSIGNED NOT NULL,
	timestamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	KEY bcoll$cuid$idx (customer_id),
	KEY bcoll$cid$idx (company_id),
	KEY bcoll$cuidcid$idx (customer_id, company_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS softbounce_email_tbl (
	email VARCHAR(200) NOT NULL,
	bnccnt INT NOT NULL DEFAULT 0,
	mailing_id INT UNSIGNED,
	creation_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	timestamp TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
		ON UPDATE CURRENT_TIMESTAMP,
	company_id INT UNSIGNED NOT NULL,
	KEY softbnc$email$idx (email),
	KEY softbnc$cid$idx (company_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- ---- per-company tables of the seed companies 1 and 2 -------------------

CREATE TABLE IF NOT EXISTS customer_1_tbl (
	customer_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	email VARCHAR(100) NOT NULL,
	firstname VARCHAR(100),
	lastname VARCHAR(100),
	gender INT(1) NOT NULL DEFAULT 2,
	mailtype INT(1) NOT NULL DEFAULT 1,
	datasource_id INT,
	sys_encrypted_sending INT(1) NOT NULL DEFAULT 1,
	timestamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	creation_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	KEY cust1$email$idx (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS customer_1_binding_tbl (
	customer_id INT UNSIGNED NOT NULL,
	mailinglist_id INT UNSIGNED NOT NULL,
	user_type CHAR(1) NOT NULL DEFAULT 'W',
	user_status INT NOT NULL,
	user_remark VARCHAR(150),
	timestamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	exit_mailing_id INT UNSIGNED,
	creation_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	mediatype INT NOT NULL DEFAULT 0,
	referrer VARCHAR(4000),
	entry_mailing_id INT UNSIGNED,
	UNIQUE KEY cust1b$pk (customer_id, mailinglist_id, mediatype)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS success_1_tbl (
	customer_id INT UNSIGNED NOT NULL,
	mailing_id INT UNSIGNED NOT NULL,
	timestamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	KEY suc1$cuid$idx (customer_id),
	KEY suc1$mid$idx (mailing_id),
	KEY suc1$tstamp$idx (timestamp)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS rdirlog_1_tbl (
	customer_id INT UNSIGNED NOT NULL,
	mailing_id INT UNSIGNED,
	url_id INT UNSIGNED,
	timestamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	KEY rlog1$cuid$idx (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS onepixellog_1_tbl (
	customer_id INT UNSIGNED NOT NULL,
	mailing_id INT UNSIGNED,
	timestamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	KEY opl1$cuid$idx (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS customer_2_tbl (
	customer_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	email VARCHAR(100) NOT NULL,
	firstname VARCHAR(100),
	lastname VARCHAR(100),
	gender INT(1) NOT NULL DEFAULT 2,
	mailtype INT(1) NOT NULL DEFAULT 1,
	datasource_id INT,
	sys_encrypted_sending INT(1) NOT NULL DEFAULT 1,
	timestamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	creation_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	KEY cust2$email$idx (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS customer_2_binding_tbl (
	customer_id INT UNSIGNED NOT NULL,
	mailinglist_id INT UNSIGNED NOT NULL,
	user_type CHAR(1) NOT NULL DEFAULT 'W',
	user_status INT NOT NULL,
	user_remark VARCHAR(150),
	timestamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	exit_mailing_id INT UNSIGNED,
	creation_date TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	mediatype INT NOT NULL DEFAULT 0,
	referrer VARCHAR(4000),
	entry_mailing_id INT UNSIGNED,
	UNIQUE KEY cust2b$pk (customer_id, mailinglist_id, mediatype)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS success_2_tbl (
	customer_id INT UNSIGNED NOT NULL,
	mailing_id INT UNSIGNED NOT NULL,
	timestamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	KEY suc2$cuid$idx (customer_id),
	KEY suc2$mid$idx (mailing_id),
	KEY suc2$tstamp$idx (timestamp)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS rdirlog_2_tbl (
	customer_id INT UNSIGNED NOT NULL,
	mailing_id INT UNSIGNED,
	url_id INT UNSIGNED,
	timestamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	KEY rlog2$cuid$idx (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS onepixellog_2_tbl (
	customer_id INT UNSIGNED NOT NULL,
	mailing_id INT UNSIGNED,
	timestamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	KEY opl2$cuid$idx (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- ---- bav's own bookkeeping (created by bav when missing) ----------------

-- one row per returned message recorded into this EMM database: a
-- redelivered or replayed message is recognised and not counted twice
CREATE TABLE IF NOT EXISTS bav_emm_done_tbl (
	message_key VARCHAR(128) NOT NULL PRIMARY KEY,
	timestamp TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- hard details with a non-5xx code, parked for 24 h (spec 5.11.2 step 6);
-- a success for the same (mailing, media, customer) drops the entry
CREATE TABLE IF NOT EXISTS bav_emm_delayed_tbl (
	company_id INT UNSIGNED NOT NULL,
	mailing_id INT UNSIGNED NOT NULL,
	mediatype INT NOT NULL DEFAULT 0,
	customer_id INT UNSIGNED NOT NULL,
	detail INT NOT NULL,
	dsn INT NOT NULL,
	remark VARCHAR(1000),
	from_mailloop INT(1) NOT NULL DEFAULT 1,
	due TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
	created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
	PRIMARY KEY (mailing_id, mediatype, customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
