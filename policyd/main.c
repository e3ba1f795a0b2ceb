/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav-policyd - Postfix policy delegation server of bav (main)
 * SYNOPSIS
 *	bav-policyd [-deFn] [-C main.cf] [-s socket ...] [-c table] [-S store-uri]
 *		[-f snapshot-file] [-I seconds] [-r seconds] [-L level]
 *		[-Z spf-zone] [-P microseconds]
 *		[-m enforce|log-only] [-o name=value ...] [-u user[:group]]
 *		[-M mode] [-p pidfile]
 * DESCRIPTION
 *	Parses the options, loads the address table (a broken table is
 *	fatal at start-up only), opens the listeners as the starting user,
 *	optionally daemonizes, writes the pid file, drops privileges and
 *	runs the event loop (server.c) until SIGTERM or SIGINT. With
 *	"-s stdio" (or "-s -") it serves one connection on stdin/stdout
 *	instead, for spawn(8). See bav-policyd(8) for the options.
 * SECURITY
 *	Started as root, bav-policyd opens the sockets, sets their mode,
 *	writes the pid file and then runs as the -u user. It writes nothing
 *	else but the snapshot file (-f). Untrusted request text reaches the
 *	log only through log_sanitize(); actions come from the command line
 *	and are checked (one line, a known action word or a 4NN/5NN code).
 * CONFIGURATION PARAMETERS
 *	main.cf (-C FILE, else $BAV_CONFIG, else SYSCONFDIR/bav/main.cf,
 *	which may be missing): the policyd_* keys of bav-main.cf(5) are the
 *	defaults; the options override them (-s replaces policyd_listen).
 *	A main.cf error is fatal at start-up.
 *	-o name=value, one table (params[] below, with bounds):
 *	reject_action, tempfail_action, accept_action, suppress_action,
 *	ratelimit_action, default_action; null_sender_client_limit,
 *	null_sender_recipient_limit, null_sender_window;
 *	max_request_size, max_attributes, max_requests, idle_timeout,
 *	max_connections; busy_poll (also -P, microseconds, at most
 *	BUSY_POLL_MAX).
 * SIGNALS
 *	SIGHUP reloads the address table (the last good one stays when the
 *	file is broken) and refreshes the suppression snapshot at once; SIGTERM and SIGINT stop. All three are read from a
 *	signalfd by the event loop.
 * DIAGNOSTICS
 *	Exit 0 after a clean stop, EOF in stdio mode or a successful -n
 *	check; 1 on a usage or configuration error; 75 (EX_TEMPFAIL) when
 *	out of memory.
 */
#include "config.h"
#include "bav_policyd.h"
#include "bav_config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#define DEFAULT_SOCKET "unix:/run/bav/bav-policyd.sock"
#define MAX_LISTENERS 8
#define ACTION_MAX 512
#define BUSY_POLL_MAX 10000	/* microseconds; policyd_busy_poll's max */
#define STR_(x) #x
#define STR(x) STR_(x)		/* a number macro as a string literal */

struct policy_settings settings = {
	.mode = MODE_ENFORCE,
	.refresh_interval = 60,
	.reload_interval = 2,
	.max_request_size = 16384,
	.max_attributes = 200,
	.max_requests = 0,
	.idle_timeout = 600,
	.max_connections = 4096,
	.busy_poll = 50,
	.reject_action = "550 5.1.1 No such user",
	.tempfail_action = "400 4.0.0 Please try again later",
	.accept_action = "DUNNO",
	.suppress_action = "REJECT 5.1.1 Recipient address suppressed (%s)",
	.ratelimit_action = "DEFER 4.7.1 Too many delivery status "
			    "notifications, try again later",
	.default_action = "DUNNO",
	.null_window = 3600,
};

static struct bav_addrtable *current;

static void usage(void)
{
	fprintf(stderr,
		"usage: bav-policyd [-deFn] [-C main.cf] [-s socket|stdio ...] [-c table] "
		"[-S store-uri] [-f snapshot-file]\n"
		"\t[-I refresh-seconds] [-r table-check-seconds] [-L level] "
		"[-m enforce|log-only]\n"
		"\t[-o name=value ...] [-u user[:group]] [-M socket-mode] "
		"[-p pidfile] [-Z spf-zone]\n"
		"\t[-P busy-poll-microseconds]\n");
	exit(1);
}

/* ---- the address table ------------------------------------------------- */

struct bav_addrtable *table_current(void)
{
	return current;
}

void table_check(bool force)
{
	static struct stat failed_st;
	static bool have_failed;
	struct bav_addrtable *t;
	struct stat st;
	char *error = NULL;

	if (settings.table_path == NULL ||
	    (!force && !bav_addrtable_changed(current, settings.table_path)))
		return;
	if (stat(settings.table_path, &st) == 0 && !force && have_failed &&
	    st.st_ino == failed_st.st_ino && st.st_size == failed_st.st_size &&
	    st.st_mtim.tv_sec == failed_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == failed_st.st_mtim.tv_nsec)
		return;	/* this version failed already */
	if (bav_addrtable_load(settings.table_path, &t, &error) != BAV_OK) {
		log_msg(LOG_L_ERROR, "reload failed, keeping the last good "
			"table: %s", error);
		free(error);
		have_failed = stat(settings.table_path, &failed_st) == 0;
		return;
	}
	have_failed = false;
	bav_addrtable_unref(&current);
	current = t;
	log_msg(LOG_L_NOTICE, "reloaded %s: %zu entries, %zu domains",
		settings.table_path, bav_addrtable_count(t),
		bav_addrtable_domain_count(t));
}

/* ---- -o name=value ------------------------------------------------------ */

enum ptype { P_ACTION, P_UINT, P_SIZE };

static const struct param {
	const char *name;
	enum ptype type;
	size_t off;
	unsigned long min, max;
} params[] = {
#define A(n) { #n, P_ACTION, offsetof(struct policy_settings, n), 0, 0 }
	A(reject_action), A(tempfail_action), A(accept_action),
	A(suppress_action), A(ratelimit_action), A(default_action),
#undef A
	{ "null_sender_client_limit", P_UINT,
	  offsetof(struct policy_settings, null_client_limit), 0, 1000000000 },
	{ "null_sender_recipient_limit", P_UINT,
	  offsetof(struct policy_settings, null_rcpt_limit), 0, 1000000000 },
	{ "null_sender_window", P_UINT,
	  offsetof(struct policy_settings, null_window), 1, 86400 * 7 },
	{ "max_request_size", P_SIZE,
	  offsetof(struct policy_settings, max_request_size), 256, 1048576 },
	{ "max_attributes", P_UINT,
	  offsetof(struct policy_settings, max_attributes), 1, 10000 },
	{ "max_requests", P_UINT,
	  offsetof(struct policy_settings, max_requests), 0, 1000000000 },
	{ "idle_timeout", P_UINT,
	  offsetof(struct policy_settings, idle_timeout), 0, 86400 },
	{ "max_connections", P_UINT,
	  offsetof(struct policy_settings, max_connections), 1, 100000 },
	{ "busy_poll", P_UINT,
	  offsetof(struct policy_settings, busy_poll), 0, BUSY_POLL_MAX },
};

/* An action Postfix's access(5) accepts: one line, a 4NN/5NN code or an
   action word first. */
static bool action_ok(const char *a)
{
	/* shared with bav config check (libbav, config_keys.c) */
	return strlen(a) <= ACTION_MAX && bav_config_policy_action_ok(a);
}

static void set_param(const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t nlen = eq != NULL ? (size_t)(eq - arg) : 0, i;
	const char *value;
	char *end;
	unsigned long v;

	if (eq == NULL)
		daemon_die("-o %s: expected name=value", arg);
	value = eq + 1;
	value += strspn(value, " \t");
	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		if (strlen(params[i].name) == nlen &&
		    strncmp(params[i].name, arg, nlen) == 0)
			break;
	if (i == sizeof(params) / sizeof(params[0]))
		daemon_die("-o: unknown parameter '%.*s'", (int)nlen, arg);
	if (params[i].type == P_ACTION) {
		if (!action_ok(value))
			daemon_die("-o %s: not a Postfix access(5) action: '%s'",
			    params[i].name, value);
		*(const char **)((char *)&settings + params[i].off) = value;
		return;
	}
	errno = 0;
	v = strtoul(value, &end, 10);
	if (*value == '\0' || *end != '\0' || errno != 0 ||
	    v < params[i].min || v > params[i].max)
		daemon_die("-o %s: '%s' is not a number from %lu to %lu",
		    params[i].name, value, params[i].min, params[i].max);
	if (params[i].type == P_SIZE)
		*(size_t *)((char *)&settings + params[i].off) = v;
	else
		*(unsigned int *)((char *)&settings + params[i].off) =
			(unsigned int)v;
}

/* ---- options ------------------------------------------------------------ */

struct opts {
	const char *sockets[MAX_LISTENERS];
	size_t nsockets;
	struct daemon_opts d;		/* -d -L -n -p -u */
	unsigned int sock_mode;
	bool to_stderr, stdio;
	const struct bav_config *cf;	/* main.cf */
	char *listen;			/* policyd_listen, split in place */
	char *action_args[6];		/* "name=value" of main.cf's actions;
					   settings may point into them */
};

/* At exit: what config_apply() allocated for the life of the process. */
static void opts_free(struct opts *o)
{
	size_t i;

	for (i = 0; i < sizeof(o->action_args) / sizeof(o->action_args[0]);
	     i++) {
		free(o->action_args[i]);
		o->action_args[i] = NULL;
	}
	free(o->listen);	/* o->sockets may point into it */
	o->listen = NULL;
	o->nsockets = 0;
}

static const char *cf_str(const struct bav_config *cf, const char *name)
{
	const char *v = bav_config_get(cf, name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* main.cf: -C FILE (looked for before the other options), else
   $BAV_CONFIG, else the default file; its values are the defaults the
   options override. cf stays loaded for the life of the process. */
static void config_apply(int argc, char **argv, struct opts *o,
			 struct bav_config **cf_r)
{
	static const char *const actions[] = {
		"reject_action", "tempfail_action", "accept_action",
		"suppress_action", "ratelimit_action", "default_action",
	};
	_Static_assert(sizeof(actions) / sizeof(actions[0]) ==
		       sizeof(o->action_args) / sizeof(o->action_args[0]),
		       "one action_args slot per main.cf action");
	static const char *const numbers[] = {
		"null_sender_client_limit", "null_sender_recipient_limit",
		"null_sender_window", "max_request_size", "max_attributes",
		"max_requests", "idle_timeout", "max_connections",
		"busy_poll",
	};
	struct bav_config *cf = daemon_config_load(argc, argv,
		"C:c:deFf:I:L:M:m:no:P:p:r:S:s:u:Z:", "bav-policyd");
	char key[64], *arg;
	size_t i;

	*cf_r = cf;
	o->cf = cf;
	settings.table_path = cf_str(cf, "policyd_address_table");
	settings.store_uri = cf_str(cf, "policyd_store");
	settings.snapshot_path = cf_str(cf, "policyd_snapshot_file");
	settings.spf_zone = cf_str(cf, "policyd_spf_zone");
	settings.spf = bav_config_get_number(cf, "policyd_spf") != 0;
	settings.mode = strcmp(bav_config_get(cf, "policyd_mode"),
			       "log-only") == 0 ? MODE_LOGONLY : MODE_ENFORCE;
	settings.refresh_interval = (unsigned int)
		bav_config_get_number(cf, "policyd_refresh_interval");
	settings.reload_interval = (unsigned int)
		bav_config_get_number(cf, "policyd_reload_interval");
	o->sock_mode = (unsigned int)
		bav_config_get_number(cf, "policyd_socket_mode");
	o->d.pidfile = cf_str(cf, "policyd_pid_file");
	o->d.user_spec = cf_str(cf, "policyd_user");
	(void)daemon_option(&o->d, 'L', bav_config_get(cf, "policyd_log_level"));
	/* the -o table: the same checks as on the command line; the
	   strings stay (settings point into them) */
	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		snprintf(key, sizeof(key), "policyd_%s", actions[i]);
		if (asprintf(&arg, "%s=%s", actions[i],
			     bav_config_get(cf, key)) < 0)
			daemon_die("out of memory");
		set_param(arg);
		o->action_args[i] = arg;
	}
	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		char num[96];

		snprintf(key, sizeof(key), "policyd_%s", numbers[i]);
		snprintf(num, sizeof(num), "%s=%llu", numbers[i],
			 bav_config_get_number(cf, key));
		set_param(num);
	}
}

/* No -s: the listeners of policyd_listen ("stdio" serves stdin). */
static void config_listeners(struct opts *o)
{
	char *save = NULL, *tok;

	o->listen = strdup(bav_config_get(o->cf, "policyd_listen"));
	if (o->listen == NULL)
		daemon_die("out of memory");
	for (tok = strtok_r(o->listen, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (strcmp(tok, "stdio") == 0 || strcmp(tok, "-") == 0) {
			o->stdio = true;
			continue;
		}
		if (o->nsockets == MAX_LISTENERS)
			daemon_die("policyd_listen: at most %d listeners",
				   MAX_LISTENERS);
		o->sockets[o->nsockets++] = tok;
	}
	if (o->stdio && o->nsockets > 0)
		daemon_die("policyd_listen: stdio cannot be combined with "
			   "listeners");
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	int ch;

	while ((ch = getopt(argc, argv, "C:c:deFf:I:L:M:m:no:P:p:r:S:s:u:Z:")) != -1) {
		if (daemon_option(&o->d, ch, optarg))
			continue;
		switch (ch) {
		case 'C':	/* main.cf: config_apply() */
			break;
		case 'c':
			settings.table_path = optarg;
			break;
		case 'e':
			o->to_stderr = true;
			break;
		case 'F':
			settings.spf = true;
			break;
		case 'f':
			settings.snapshot_path = optarg;
			break;
		case 'I':
			settings.refresh_interval =
				(unsigned int)daemon_number(optarg, 86400, "-I seconds");
			break;
		case 'M':
			o->sock_mode = (unsigned int)strtoul(optarg, NULL, 8);
			break;
		case 'm':
			if (strcmp(optarg, "enforce") == 0)
				settings.mode = MODE_ENFORCE;
			else if (strcmp(optarg, "log-only") == 0)
				settings.mode = MODE_LOGONLY;
			else
				daemon_die("bad mode '%s' (enforce, log-only)", optarg);
			break;
		case 'o':
			set_param(optarg);
			break;
		case 'P':
			settings.busy_poll = (unsigned int)daemon_number(
				optarg, BUSY_POLL_MAX,
				"-P busy-poll microseconds (0 to "
				STR(BUSY_POLL_MAX) ")");
			break;
		case 'r':
			settings.reload_interval =
				(unsigned int)daemon_number(optarg, 86400, "-r seconds");
			break;
		case 'S':
			settings.store_uri = optarg;
			break;
		case 's':
			if (strcmp(optarg, "stdio") == 0 ||
			    strcmp(optarg, "-") == 0) {
				o->stdio = true;
				break;
			}
			if (o->nsockets == MAX_LISTENERS)
				daemon_die("at most %d listeners", MAX_LISTENERS);
			o->sockets[o->nsockets++] = optarg;
			break;
		case 'Z':
			settings.spf_zone = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (o->stdio && o->nsockets > 0)
		daemon_die("-s stdio cannot be combined with listeners");
	if (o->nsockets == 0 && !o->stdio && o->cf != NULL)
		config_listeners(o);
	if (o->nsockets == 0 && !o->stdio)
		o->sockets[o->nsockets++] = DEFAULT_SOCKET;
}

int main(int argc, char **argv)
{
	struct opts o = { .d.level = LOG_L_WARNING, .sock_mode = 0666 };
	int fds[MAX_LISTENERS], ret;
	char errbuf[512], *error = NULL;
	struct bav_config *cf = NULL;
	size_t i;

	daemon_init("bav-policyd", false);
	config_apply(argc, argv, &o, &cf);
	parse_args(argc, argv, &o);
	/* a MariaDB password may live in the secrets file (read now, before
	   -u drops root); a password_file of the URI wins */
	if (settings.store_uri != NULL &&
	    strncmp(settings.store_uri, "mariadb:", 8) == 0) {
		const char *serr = NULL;

		if (bav_config_secret(cf, "store_password",
				      &settings.store_password, &serr) < 0)
			daemon_die("%s", serr);
	}
	/* the event loop reads these from a signalfd; block them before a
	   socket exists, so nobody can signal a half-started daemon */
	if (!o.stdio)
		daemon_signals_block();
	log_open("bav-policyd", (enum log_level)o.d.level,
		 o.to_stderr ? LOG_SINK_STDERR : LOG_SINK_SYSLOG);
	if (o.d.user_spec != NULL)
		daemon_user_parse(&o.d.user, o.d.user_spec);
	if (settings.table_path != NULL &&
	    bav_addrtable_load(settings.table_path, &current, &error) != BAV_OK)
		daemon_die("%s", error);
	if (o.d.check) {
		if (settings.spf && spf_init(settings.spf_zone, false,
					     &error) < 0)
			daemon_die("%s", error);
		spf_deinit();
		printf("bav-policyd: table %s (%zu entries), store %s, "
		       "snapshot %s, mode %s, busy poll %u us: ok\n",
		       settings.table_path ? settings.table_path : "none",
		       current ? bav_addrtable_count(current) : 0,
		       settings.store_uri ? settings.store_uri : "none",
		       settings.snapshot_path ? settings.snapshot_path : "none",
		       settings.mode == MODE_LOGONLY ? "log-only" : "enforce",
		       settings.busy_poll);
		bav_addrtable_unref(&current);
		bav_config_free(&cf);
		opts_free(&o);
		return 0;
	}
	if (o.stdio) {
		daemon_user_switch(&o.d.user);
		ret = server_stdio();
		bav_addrtable_unref(&current);
		bav_config_free(&cf);
		opts_free(&o);
		return ret;
	}
	for (i = 0; i < o.nsockets; i++) {
		const char *path = daemon_socket_path(o.sockets[i]);

		fds[i] = server_listen(o.sockets[i], o.sock_mode, errbuf,
				       sizeof(errbuf));
		if (fds[i] < 0)
			daemon_die("%s", errbuf);
		if (path != NULL && o.d.user.set &&
		    chown(path, o.d.user.uid, o.d.user.gid) < 0)
			daemon_die("chown %s: %s", path, strerror(errno));
	}
	daemon_start(&o.d);
	log_msg(LOG_L_NOTICE, "started: %s%s, table %s (%zu entries), "
		"store %s, snapshot file %s, mode %s", o.sockets[0],
		o.nsockets > 1 ? " and more" : "",
		settings.table_path ? settings.table_path : "none",
		current ? bav_addrtable_count(current) : 0,
		settings.store_uri ? settings.store_uri : "none",
		settings.snapshot_path ? settings.snapshot_path : "none",
		settings.mode == MODE_LOGONLY ? "log-only" : "enforce");
	ret = server_run(fds, o.nsockets);
	for (i = 0; i < o.nsockets; i++) {
		const char *path = daemon_socket_path(o.sockets[i]);

		close(fds[i]);
		if (path != NULL)
			unlink(path);
	}
	if (o.d.pidfile != NULL)
		unlink(o.d.pidfile);
	log_msg(LOG_L_NOTICE, "stopped");
	bav_addrtable_unref(&current);
	bav_config_free(&cf);
	opts_free(&o);
	return ret;
}
