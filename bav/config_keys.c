/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	config_keys - the one table of every main.cf key
 * SYNOPSIS
 *	#include "bav_config.h"
 *
 *	const struct bav_config_key *bav_config_keys(size_t *count_r)
 *	const struct bav_config_key *bav_config_key_find(const char *name)
 *	const char *bav_config_type_name(enum bav_config_type type)
 *	const char *bav_config_programs_name(unsigned int mask, char *buf,
 *					     size_t size)
 * DESCRIPTION
 *	keys[] below holds every key of main.cf: name, type, default,
 *	bounds (in seconds or bytes for times and sizes), allowed words,
 *	the programs that read it and a one-line description. It is sorted
 *	by name (bav_config_key_find() searches it with bsearch()) and
 *	constant; doc/bav-main.cf.5 documents the same rows and
 *	t/config/config.sh checks that they never drift apart.
 *
 *	A default may name other keys as $name; an empty default means
 *	"none" (the program's own behaviour without the option).
 * DIAGNOSTICS
 *	None; the table is static and read-only.
 * SEE ALSO
 *	bav-main.cf(5), config.c
 */
#include "bav_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

#define S BAV_CONFIG_STRING
#define P BAV_CONFIG_PATH
#define B BAV_CONFIG_BOOL
#define U BAV_CONFIG_UINT
#define T BAV_CONFIG_TIME
#define Z BAV_CONFIG_SIZE
#define O BAV_CONFIG_MODE
#define CMD BAV_CONFIG_CMD
#define MIL BAV_CONFIG_MILTER
#define POL BAV_CONFIG_POLICYD
#define LMT BAV_CONFIG_LMTPD
#define DEL BAV_CONFIG_DELIVER
#define REC BAV_CONFIG_RECORDER
#define ALL BAV_CONFIG_ALL
#define DAY 86400ULL
#define LEVELS "none|fatal|error|warning|notice|info|verbose|debug"
#define BIG 1000000000ULL

/* name, type, default, min, max, choices, programs, description */
static const struct bav_config_key keys[] = {
{ "address_table", P, "$data_directory/bav.conf", 0, 0, NULL, CMD | MIL,
  "bav.conf address table (bav-milter -c, bav maps --bav-conf)" },
{ "config_directory", P, SYSCONFDIR "/bav", 0, 0, NULL, ALL,
  "directory of main.cf, the secrets file and local rule files" },
{ "data_directory", P, LOCALSTATEDIR "/lib/bav", 0, 0, NULL, ALL,
  "directory of generated data (bav.conf written by bav maps)" },
{ "default_rules", B, "yes", 0, 1, NULL, CMD | DEL | LMT,
  "load the built-in default rules before rules_files (no: --no-default-rules)" },
{ "deliver_store", S, "", 0, 0, NULL, DEL,
  "store URI bav deliver records into at once (--store); empty: spool only" },
{ "forward_address", S, "", 0, 0, NULL, DEL | LMT,
  "address human replies are forwarded to instead of fwd= (--forward)" },
{ "forward_replies", B, "yes", 0, 1, NULL, DEL | LMT,
  "forward human replies with sendmail_path (no: --no-forward)" },
{ "host_name", S, "", 0, 0, NULL, DEL | LMT,
  "host name recorded with each message (--host); empty: gethostname()" },
{ "lmtpd_listen", S, "unix:$run_directory/bav-lmtpd.sock", 0, 0, NULL, LMT,
  "LMTP socket, unix:/path or inet:PORT@HOST (bav lmtpd -s)" },
{ "lmtpd_pid_file", P, "", 0, 0, NULL, LMT,
  "pid file of bav lmtpd (--pid-file); empty: none" },
{ "lmtpd_socket_group", S, "", 0, 0, NULL, LMT,
  "group of the unix socket (bav lmtpd -G); empty: the group of lmtpd_user" },
{ "lmtpd_socket_mode", O, "0660", 0, 0777, NULL, LMT,
  "mode of the unix socket (bav lmtpd -M)" },
{ "lmtpd_threads", U, "20", 1, 1024, NULL, LMT,
  "worker threads of bav lmtpd (-t)" },
{ "lmtpd_timeout", T, "300s", 1, DAY, NULL, LMT,
  "idle timeout per LMTP command (bav lmtpd -T)" },
{ "lmtpd_user", S, "", 0, 0, NULL, LMT,
  "user[:group] bav lmtpd runs as after opening the socket (-u)" },
{ "max_message_size", Z, "64M", 1024, 4096ULL << 20, NULL, DEL | LMT,
  "largest message taken (--max-size)" },
{ "max_mime_depth", U, "32", 1, 1000, NULL, DEL | LMT,
  "deepest MIME nesting parsed (--max-depth)" },
{ "milter_authserv_id", S, "", 0, 0, NULL, MIL,
  "authserv-id of Authentication-Results (-A); empty: the host name" },
{ "milter_classify", B, "no", 0, 1, NULL, MIL,
  "classify returned mail and add X-Bav-Classification (-k)" },
{ "milter_classify_max", Z, "1M", 0, 64ULL << 20, NULL, MIL,
  "bytes of a message kept for classification (-B)" },
{ "milter_dkim", B, "no", 0, 1, NULL, MIL,
  "verify DKIM signatures (-V)" },
{ "milter_dkim_keys", P, "", 0, 0, NULL, MIL,
  "DKIM key file instead of DNS, for tests (-D)" },
{ "milter_dns_timeout", T, "5s", 1, 60, NULL, MIL,
  "DNS timeout of SPF and DKIM checks (-T)" },
{ "milter_header_per_recipient", B, "no", 0, 1, NULL, MIL,
  "one X-AGNMailloop header per recipient (-H)" },
{ "milter_local_names", S, "", 0, 0, NULL, MIL,
  "HELO names of local clients, comma-separated (-h)" },
{ "milter_local_networks", S, "127.0.0.0/8, ::1", 0, 0, NULL, MIL,
  "networks of local clients that are not checked (-l)" },
{ "milter_log_level", S, "warning", 0, 0, LEVELS, MIL,
  "lowest level logged by bav-milter (-L)" },
{ "milter_mode", S, "enforce", 0, 0, "enforce|soft|log-only", MIL,
  "enforce rejects, soft tempfails, log-only only logs (-m)" },
{ "milter_pid_file", P, "", 0, 0, NULL, MIL,
  "pid file of bav-milter (-p); empty: none" },
{ "milter_reload_interval", T, "2s", 0, DAY, NULL, MIL,
  "how often the address table is checked for changes (-r)" },
{ "milter_rules_file", P, "", 0, 0, NULL, MIL,
  "rule file on top of the default rules; implies milter_classify (-K)" },
{ "milter_socket", S, "unix:$run_directory/bav-milter.sock", 0, 0, NULL, MIL,
  "milter socket, unix:/path or inet:PORT@HOST (-s)" },
{ "milter_socket_group", S, "", 0, 0, NULL, MIL,
  "group of the unix socket (-G); empty: the group of milter_user" },
{ "milter_socket_mode", O, "0660", 0, 0777, NULL, MIL,
  "mode of the unix socket (-M)" },
{ "milter_spf", B, "no", 0, 1, NULL, MIL,
  "check SPF of the client (-S)" },
{ "milter_spf_zone", P, "", 0, 0, NULL, MIL,
  "zone file instead of DNS for SPF, for tests (-Z)" },
{ "milter_tempfail_code", U, "400", 400, 499, NULL, MIL,
  "SMTP code of temporary failures (-t)" },
{ "milter_user", S, "", 0, 0, NULL, MIL,
  "user[:group] bav-milter runs as after opening the socket (-u)" },
{ "policyd_accept_action", S, "DUNNO", 0, 0, NULL, POL,
  "answer for an accepted recipient (-o accept_action)" },
{ "policyd_address_table", P, "", 0, 0, NULL, POL,
  "bav.conf address table of bav-policyd (-c); empty: none" },
{ "policyd_busy_poll", U, "50", 0, 10000, NULL, POL,
  "microseconds of polling without blocking after a burst, 0: off (-P)" },
{ "policyd_default_action", S, "DUNNO", 0, 0, NULL, POL,
  "answer when nothing decides (-o default_action)" },
{ "policyd_idle_timeout", T, "600s", 0, DAY, NULL, POL,
  "idle time before a client is disconnected (-o idle_timeout)" },
{ "policyd_listen", S, "unix:$run_directory/bav-policyd.sock", 0, 0, NULL, POL,
  "listeners, comma or space separated, at most 8 (-s)" },
{ "policyd_log_level", S, "warning", 0, 0, LEVELS, POL,
  "lowest level logged by bav-policyd (-L)" },
{ "policyd_max_attributes", U, "200", 1, 10000, NULL, POL,
  "attributes per request (-o max_attributes)" },
{ "policyd_max_connections", U, "4096", 1, 100000, NULL, POL,
  "simultaneous clients (-o max_connections)" },
{ "policyd_max_request_size", Z, "16k", 256, 1048576, NULL, POL,
  "bytes per request (-o max_request_size)" },
{ "policyd_max_requests", U, "0", 0, BIG, NULL, POL,
  "requests per connection, 0: unlimited (-o max_requests)" },
{ "policyd_mode", S, "enforce", 0, 0, "enforce|log-only", POL,
  "enforce answers, log-only answers DUNNO and logs (-m)" },
{ "policyd_null_sender_client_limit", U, "0", 0, BIG, NULL, POL,
  "null-sender mails per client and window, 0: off (-o null_sender_client_limit)" },
{ "policyd_null_sender_recipient_limit", U, "0", 0, BIG, NULL, POL,
  "null-sender mails per recipient and window, 0: off (-o null_sender_recipient_limit)" },
{ "policyd_null_sender_window", T, "3600s", 1, 7 * DAY, NULL, POL,
  "window of the null-sender limits (-o null_sender_window)" },
{ "policyd_pid_file", P, "", 0, 0, NULL, POL,
  "pid file of bav-policyd (-p); empty: none" },
{ "policyd_ratelimit_action", S,
  "DEFER 4.7.1 Too many delivery status notifications, try again later",
  0, 0, NULL, POL, "answer above a null-sender limit (-o ratelimit_action)" },
{ "policyd_refresh_interval", T, "60s", 0, DAY, NULL, POL,
  "how often the suppression snapshot is refreshed from the store (-I)" },
{ "policyd_reject_action", S, "550 5.1.1 No such user", 0, 0, NULL, POL,
  "answer for a rejected recipient (-o reject_action)" },
{ "policyd_reload_interval", T, "2s", 0, DAY, NULL, POL,
  "how often the address table is checked for changes (-r)" },
{ "policyd_snapshot_file", P, "", 0, 0, NULL, POL,
  "file keeping the suppression snapshot across restarts (-f)" },
{ "policyd_socket_mode", O, "0666", 0, 0777, NULL, POL,
  "mode of unix sockets (-M)" },
{ "policyd_spf", B, "no", 0, 1, NULL, POL,
  "check SPF of null-sender mail (-F)" },
{ "policyd_spf_zone", P, "", 0, 0, NULL, POL,
  "zone file instead of DNS for SPF, for tests (-Z)" },
{ "policyd_store", S, "", 0, 0, NULL, POL,
  "store URI of the suppression list (-S); empty: none" },
{ "policyd_suppress_action", S,
  "REJECT 5.1.1 Recipient address suppressed (%s)", 0, 0, NULL, POL,
  "answer for a suppressed recipient (-o suppress_action)" },
{ "policyd_tempfail_action", S, "400 4.0.0 Please try again later",
  0, 0, NULL, POL, "answer on trouble (-o tempfail_action)" },
{ "policyd_user", S, "", 0, 0, NULL, POL,
  "user[:group] bav-policyd runs as after opening the sockets (-u)" },
{ "recorder_autoreply_allow_file", P, "", 0, 0, NULL, REC,
  "senders the autoresponder may answer (--autoreply-allow)" },
{ "recorder_autoreply_directory", P, "", 0, 0, NULL, REC,
  "autoresponder texts (--autoreply-dir); empty: no autoresponder" },
{ "recorder_autoreply_period", T, "1d", 0, 365 * DAY, NULL, REC,
  "one answer per sender within this time (--autoreply-period)" },
{ "recorder_batch", U, "200", 1, 100000, NULL, REC,
  "spool entries recorded per transaction (--batch)" },
{ "recorder_interval", T, "1s", 1, DAY, NULL, REC,
  "spool poll interval (--interval)" },
{ "recorder_user", S, "", 0, 0, NULL, REC,
  "user[:group] bav recorder runs as when started as root (-u)" },
{ "rid", S, "", 0, 0, NULL, DEL | LMT,
  "OpenEMM rid (company) of the mailloop (--rid)" },
{ "rules_files", S, "", 0, 0, NULL, CMD | DEL | LMT,
  "rule files, comma or space separated (--rules; also bav classify)" },
{ "run_directory", P, "/run/bav", 0, 0, NULL, ALL,
  "directory of sockets and pid files" },
{ "secrets_file", P, "$config_directory/secrets", 0, 0, NULL, ALL,
  "name = value secrets (verp_secret, agnuid_secret, store_password), mode 0600 or 0400" },
{ "sendmail_path", P, "/usr/sbin/sendmail", 0, 0, NULL, DEL | LMT | REC,
  "sendmail(1) for forwards and autoresponses (--sendmail)" },
{ "spool_directory", P, LOCALSTATEDIR "/spool/bav", 0, 0, NULL,
  CMD | DEL | LMT | REC, "delivery spool (--spool, $BAV_SPOOL)" },
{ "spool_keep_days", U, "7", 0, 3650, NULL, DEL | REC,
  "days recorded spool entries are kept, 0: removed at once (--keep-days)" },
{ "store", S, "", 0, 0, NULL, CMD | REC,
  "store URI, sqlite:/path or mariadb://user@host/db (--store, $BAV_STORE)" },
{ "store_password_file", P, "", 0, 0, NULL, CMD | DEL | REC,
  "MariaDB password file of store and deliver_store (--password-file); empty: store_password of secrets_file" },
{ "syslog_facility", S, "mail", 0, 0,
  "mail|daemon|user|local0|local1|local2|local3|local4|local5|local6|local7",
  MIL | POL | DEL | LMT | REC,
  "syslog facility of bav-milter, bav-policyd, bav deliver, lmtpd, recorder" },
{ "verp_max_age", T, "30d", DAY, 3650 * DAY, NULL, DEL | LMT,
  "oldest signed VERP address accepted, whole days (--verp-max-age)" },
};

bool bav_config_policy_action_ok(const char *a)
{
	static const char *const words[] = {
		"OK", "DUNNO", "REJECT", "DEFER", "DEFER_IF_PERMIT",
		"DEFER_IF_REJECT", "PREPEND", "HOLD", "WARN", "DISCARD",
		"FILTER", "REDIRECT", "INFO", "BCC"
	};
	size_t wlen = strcspn(a, " \t"), i;

	if (*a == '\0' || strlen(a) > 512 || strpbrk(a, "\r\n"))
		return false;
	if (wlen == 3 && (a[0] == '4' || a[0] == '5') &&
	    strspn(a, "0123456789") == 3)
		return true;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i]) == wlen &&
		    strncasecmp(a, words[i], wlen) == 0)
			return true;
	return false;
}

const struct bav_config_key *bav_config_keys(size_t *count_r)
{
	*count_r = sizeof(keys) / sizeof(keys[0]);
	return keys;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a,
		      ((const struct bav_config_key *)b)->name);
}

const struct bav_config_key *bav_config_key_find(const char *name)
{
	return bsearch(name, keys, sizeof(keys) / sizeof(keys[0]),
		       sizeof(keys[0]), key_cmp);
}

const char *bav_config_type_name(enum bav_config_type type)
{
	switch (type) {
	case BAV_CONFIG_STRING: return "string";
	case BAV_CONFIG_PATH: return "path";
	case BAV_CONFIG_BOOL: return "bool";
	case BAV_CONFIG_UINT: return "uint";
	case BAV_CONFIG_TIME: return "time";
	case BAV_CONFIG_SIZE: return "size";
	case BAV_CONFIG_MODE: return "mode";
	}
	return "?";
}

const char *bav_config_programs_name(unsigned int mask, char *buf,
				     size_t size)
{
	static const struct { unsigned int bit; const char *name; } p[] = {
		{ BAV_CONFIG_CMD, "bav" }, { BAV_CONFIG_MILTER, "bav-milter" },
		{ BAV_CONFIG_POLICYD, "bav-policyd" },
		{ BAV_CONFIG_LMTPD, "bav lmtpd" },
		{ BAV_CONFIG_DELIVER, "bav deliver" },
		{ BAV_CONFIG_RECORDER, "bav recorder" },
	};
	size_t i, len = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	if (mask == BAV_CONFIG_ALL) {
		snprintf(buf, size, "all");
		return buf;
	}
	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		int n;

		if ((mask & p[i].bit) == 0)
			continue;
		n = snprintf(buf + len, size - len, "%s%s",
			     len > 0 ? ", " : "", p[i].name);
		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
	}
	return buf;
}
