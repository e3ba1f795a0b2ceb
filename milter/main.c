/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav-milter - bounce address verification milter (main)
 * SYNOPSIS
 *	bav-milter [-dHn] [-C main.cf] [-s socket] [-c table] [-L level] [-m mode]
 *		[-l networks] [-h names] [-t code] [-r seconds] [-u user[:group]]
 *		[-G group]
 *		[-M mode] [-p pidfile] [-k] [-K rules] [-B bytes] [-S] [-V]
 *		[-A authserv-id] [-T seconds] [-Z spf-zone] [-D dkim-keys]
 * DESCRIPTION
 *	Parses the options, loads the address table (a broken table is
 *	fatal at start-up only), opens the milter socket as the starting
 *	user, optionally daemonizes, writes the pid file, drops privileges,
 *	starts the table reloader thread and runs smfi_main() until SIGTERM
 *	(or SIGINT). See bav-milter(8) for the options. Besides sigwait()
 *	(SIGNALS), bav-milter provides poll() for libmilter: its workers wait
 *	50 ms instead of 1 ms for the MTA's next command (pollwait.c).
 * SECURITY
 *	Started as root, bav-milter opens the socket, sets its owner and
 *	mode, writes the pid file and then runs as the -u user. It never
 *	writes anything else; the table is read-only input. Log lines pass
 *	untrusted text through log_sanitize().
 * CONFIGURATION PARAMETERS
 *	main.cf (-C FILE, else $BAV_CONFIG, else SYSCONFDIR/bav/main.cf,
 *	which may be missing), keys address_table and milter_* (see
 *	bav-main.cf(5)); each option overrides its key. A main.cf error is
 *	fatal at start-up. The table is bav.conf.
 * SIGNALS
 *	libmilter's own signal thread stops the filter on SIGHUP, SIGTERM
 *	and SIGINT. bav-milter wants SIGHUP to reload the table, so it
 *	provides sigwait() itself: the replacement removes SIGHUP from the
 *	set libmilter waits for, and the reloader thread (table.c) waits
 *	for SIGHUP with sigtimedwait(). SIGHUP is blocked in every thread.
 * DIAGNOSTICS
 *	Exit 0 after a clean stop or a successful -n check, 1 on a usage or
 *	configuration error, 75 (EX_TEMPFAIL) when out of memory.
 */
#include "config.h"
#include "bav_private.h"
#include "bav_config.h"
#include "bav_milter.h"

#include <errno.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#define DEFAULT_TABLE LOCALSTATEDIR "/lib/bav/bav.conf"
#define DEFAULT_SOCKET "unix:/run/bav/bav-milter.sock"
#define DEFAULT_LOCAL "127.0.0.0/8, ::1"

extern struct smfiDesc bav_milter_desc;

struct milter_settings settings = {
	.mode = MODE_ENFORCE,
	.tempfail_code = "400",
	.reload_interval = 2,
	.max_header_len = 8000,
	.classify_max = 1024 * 1024,
	.dns_timeout = 5,
};

const char *milter_mode_name(enum milter_mode mode)
{
	switch (mode) {
	case MODE_ENFORCE:
		return "enforce";
	case MODE_SOFT:
		return "soft";
	case MODE_LOGONLY:
		return "log-only";
	}
	return "?";
}

/* See SIGNALS above: libmilter must not see SIGHUP. */
__attribute__((visibility("default")))
int sigwait(const sigset_t *set, int *sig);
int sigwait(const sigset_t *set, int *sig)
{
	sigset_t s = *set;
	int r;

	sigdelset(&s, SIGHUP);
	do
		r = sigwaitinfo(&s, NULL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno;
	*sig = r;
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bav-milter [-dHn] [-C main.cf] [-s socket] [-c table] [-L level] "
		"[-m enforce|soft|log-only]\n"
		"\t[-l networks] [-h names] [-t tempfail-code] [-r seconds] "
		"[-u user[:group]] [-G socket-group] [-M socket-mode]\n"
		"\t[-p pidfile]\n"
		"\t[-k] [-K rules] [-B bytes] [-S] [-V] [-A authserv-id] "
		"[-T dns-timeout]\n");
	exit(1);
}

struct opts {
	struct daemon_opts d;		/* -d -L -n -p -u */
	const char *socket, *local, *rules;
	const char *spf_zone, *dkim_keys;
	mode_t sock_mode;
	const char *sock_group;		/* -G */
};

static void parse_mode(const char *arg)
{
	if (strcmp(arg, "enforce") == 0)
		settings.mode = MODE_ENFORCE;
	else if (strcmp(arg, "soft") == 0)
		settings.mode = MODE_SOFT;
	else if (strcmp(arg, "log-only") == 0)
		settings.mode = MODE_LOGONLY;
	else
		daemon_die("bad mode '%s' (enforce, soft, log-only)", arg);
}

/* main.cf: -C FILE (looked for before the other options), else
   $BAV_CONFIG, else the default file; its values are the defaults the
   options override. cf stays loaded for the life of the process. */
static void config_apply(int argc, char **argv, struct opts *o,
			 struct bav_config **cf_r)
{
	struct bav_config *cf = daemon_config_load(argc, argv,
		"A:B:C:c:D:dG:Hh:K:kL:l:M:m:np:r:Ss:T:t:u:VZ:", "bav-milter");
	const char *v;

	*cf_r = cf;
	settings.table_path = bav_config_get(cf, "address_table");
	o->socket = bav_config_get(cf, "milter_socket");
	o->local = bav_config_get(cf, "milter_local_networks");
	v = bav_config_get(cf, "milter_local_names");
	settings.local_names = *v != '\0' ? v : NULL;
	parse_mode(bav_config_get(cf, "milter_mode"));
	{
		static char code[8];	/* set once, before any thread */

		snprintf(code, sizeof(code), "%llu",
			 bav_config_get_number(cf, "milter_tempfail_code"));
		settings.tempfail_code = code;
	}
	settings.reload_interval = (unsigned int)
		bav_config_get_number(cf, "milter_reload_interval");
	v = bav_config_get(cf, "milter_pid_file");
	o->d.pidfile = *v != '\0' ? v : NULL;
	v = bav_config_get(cf, "milter_user");
	o->d.user_spec = *v != '\0' ? v : NULL;
	v = bav_config_get(cf, "milter_socket_group");
	o->sock_group = *v != '\0' ? v : NULL;
	o->sock_mode = (mode_t)bav_config_get_number(cf, "milter_socket_mode");
	v = bav_config_get(cf, "milter_rules_file");
	o->rules = *v != '\0' ? v : NULL;
	settings.classify = o->rules != NULL ||
		bav_config_get_number(cf, "milter_classify") != 0;
	settings.classify_max = (size_t)
		bav_config_get_number(cf, "milter_classify_max");
	settings.header_per_rcpt =
		bav_config_get_number(cf, "milter_header_per_recipient") != 0;
	settings.spf = bav_config_get_number(cf, "milter_spf") != 0;
	settings.dkim = bav_config_get_number(cf, "milter_dkim") != 0;
	v = bav_config_get(cf, "milter_authserv_id");
	settings.authserv_id = *v != '\0' ? v : NULL;
	settings.dns_timeout = (unsigned int)
		bav_config_get_number(cf, "milter_dns_timeout");
	v = bav_config_get(cf, "milter_spf_zone");
	o->spf_zone = *v != '\0' ? v : NULL;
	v = bav_config_get(cf, "milter_dkim_keys");
	o->dkim_keys = *v != '\0' ? v : NULL;
	(void)daemon_option(&o->d, 'L', bav_config_get(cf, "milter_log_level"));
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	int ch;

	while ((ch = getopt(argc, argv, "A:B:C:c:D:dG:Hh:K:kL:l:M:m:np:r:Ss:T:t:u:VZ:")) != -1) {
		if (daemon_option(&o->d, ch, optarg))
			continue;
		switch (ch) {
		case 'C':	/* main.cf: config_apply() */
			break;
		case 'A':
			settings.authserv_id = optarg;
			break;
		case 'D':
			o->dkim_keys = optarg;
			break;
		case 'S':
			settings.spf = true;
			break;
		case 'T':
			settings.dns_timeout =
				(unsigned int)daemon_number(optarg, 60, "-T seconds");
			if (settings.dns_timeout == 0)
				daemon_die("-T must be at least 1");
			break;
		case 'V':
			settings.dkim = true;
			break;
		case 'Z':
			o->spf_zone = optarg;
			break;
		case 'B':
			settings.classify_max = daemon_number(optarg, 64UL << 20,
						       "-B bytes");
			break;
		case 'c':
			settings.table_path = optarg;
			break;
		case 'K':
			o->rules = optarg;
			settings.classify = true;
			break;
		case 'k':
			settings.classify = true;
			break;
		case 'H':
			settings.header_per_rcpt = true;
			break;
		case 'G':
			o->sock_group = optarg;
			break;
		case 'h':
			settings.local_names = optarg;
			break;
		case 'l':
			o->local = optarg;
			break;
		case 'M': {
			char *end;
			unsigned long m = strtoul(optarg, &end, 8);

			if (*optarg == '\0' || *end != '\0' || m > 0777)
				daemon_die("bad socket mode '%s' (octal)", optarg);
			o->sock_mode = (mode_t)m;
			break;
		}
		case 'm':
			parse_mode(optarg);
			break;
		case 'r':
			settings.reload_interval =
				(unsigned int)daemon_number(optarg, 86400, "-r seconds");
			break;
		case 's':
			o->socket = optarg;
			break;
		case 't':
			if (strlen(optarg) != 3 || optarg[0] != '4' ||
			    strspn(optarg, "0123456789") != 3)
				daemon_die("bad tempfail code '%s' (4xx)", optarg);
			settings.tempfail_code = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

/* Group of the unix socket: -G, else the -u group, else unchanged. */
static gid_t socket_gid(const struct opts *o)
{
	const struct group *gr;

	if (o->sock_group == NULL)
		return o->d.user.set ? o->d.user.gid : (gid_t)-1;
	gr = getgrnam(o->sock_group);
	if (gr == NULL)
		daemon_die("unknown group '%s'", o->sock_group);
	return gr->gr_gid;
}

static void open_socket(const struct opts *o)
{
	const char *path = daemon_socket_path(o->socket);
	mode_t old = umask(0177);

	if (smfi_setconn((char *)o->socket) == MI_FAILURE)
		daemon_die("bad socket '%s'", o->socket);
	if (smfi_register(bav_milter_desc) == MI_FAILURE)
		daemon_die("smfi_register failed");
	if (smfi_opensocket(true) == MI_FAILURE)
		daemon_die("cannot open socket '%s'", o->socket);
	umask(old);
	if (path == NULL)
		return;
	if ((o->d.user.set || o->sock_group != NULL) &&
	    chown(path, o->d.user.set ? o->d.user.uid : (uid_t)-1,
		  socket_gid(o)) < 0)
		daemon_die("chown %s: %s", path, strerror(errno));
	if (chmod(path, o->sock_mode) < 0)
		daemon_die("chmod %s: %s", path, strerror(errno));
}

/* path made absolute against the current directory (malloc'ed, kept for
   the life of the process) */
static const char *absolute(const char *path)
{
	struct bav_buf b = { 0 };
	char cwd[4096];

	if (path[0] == '/')
		return path;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		daemon_die("getcwd: %s", strerror(errno));
	bav_buf_printf(&b, "%s/%s", cwd, path);
	return bav_buf_steal(&b);
}

int main(int argc, char **argv)
{
	struct opts o = { .socket = DEFAULT_SOCKET, .local = DEFAULT_LOCAL,
			  .d.level = LOG_L_WARNING, .sock_mode = 0660 };
	char errbuf[256], *error = NULL;
	struct bav_config *cf = NULL;
	int ret;

	daemon_init("bav-milter", true);
	settings.table_path = DEFAULT_TABLE;
	config_apply(argc, argv, &o, &cf);
	parse_args(argc, argv, &o);
	/* in the foreground, also on stderr */
	log_open("bav-milter", (enum log_level)o.d.level,
		 !o.d.detach && !o.d.check ? LOG_SINK_SYSLOG_STDERR :
		 LOG_SINK_SYSLOG);
	settings.local = netlist_parse(o.local, errbuf, sizeof(errbuf));
	if (settings.local == NULL)
		daemon_die("-l: %s", errbuf);
	if (o.d.user_spec != NULL)
		daemon_user_parse(&o.d.user, o.d.user_spec);
	if (o.sock_group != NULL)
		(void)socket_gid(&o);	/* dies on an unknown group */
	/* -d changes to /: reloads and the pid file need absolute paths */
	settings.table_path = absolute(settings.table_path);
	if (o.d.pidfile != NULL)
		o.d.pidfile = absolute(o.d.pidfile);
	if (table_init(settings.table_path, &error) < 0)
		daemon_die("%s", error);
	if (settings.classify && classify_init(o.rules, &error) < 0)
		daemon_die("%s", error);
	if (settings.spf || settings.dkim) {
		static char host[256];
		char res[64];

		if (settings.authserv_id == NULL) {
			if (gethostname(host, sizeof(host) - 1) < 0)
				daemon_die("gethostname: %s", strerror(errno));
			settings.authserv_id = host;
		}
		/* read by every resolver the threads initialise later */
		snprintf(res, sizeof(res), "timeout:%u attempts:1",
			 settings.dns_timeout);
		setenv("RES_OPTIONS", res, 1);
		if (auth_init(o.spf_zone, o.dkim_keys, &error) < 0)
			daemon_die("%s", error);
	}
	if (o.d.check) {
		struct bav_addrtable *t = table_get();

		printf("bav-milter: %s: %zu entries, %zu domains; mode %s; "
		       "socket %s: ok\n", settings.table_path,
		       bav_addrtable_count(t), bav_addrtable_domain_count(t),
		       milter_mode_name(settings.mode), o.socket);
		bav_addrtable_unref(&t);
		table_deinit();
		netlist_free(&settings.local);
		bav_config_free(&cf);
		return 0;
	}
	open_socket(&o);
	daemon_start(&o.d);

	/* every thread inherits this mask; see SIGNALS */
	daemon_signals_block();
	/* libmilter starts one thread per SMTP connection; with the default
	   8 MiB stacks glibc's stack cache holds only a few, and every other
	   thread start/exit costs an mmap/munmap pair with TLB shootdowns
	   (seen with perf under t/bench/milter). Our callbacks need little. */
	{
		pthread_attr_t attr;

		if (pthread_attr_init(&attr) == 0) {
			pthread_attr_setstacksize(&attr, 512 * 1024);
			pthread_setattr_default_np(&attr);
			pthread_attr_destroy(&attr);
		}
	}
	if (table_thread_start() < 0)
		daemon_die("cannot start the reloader thread");
	{
		struct bav_addrtable *t = table_get();

		log_msg(LOG_L_NOTICE, "started: socket %s, table %s (%zu "
			"entries, %zu domains), mode %s", o.socket,
			settings.table_path, bav_addrtable_count(t),
			bav_addrtable_domain_count(t),
			milter_mode_name(settings.mode));
		bav_addrtable_unref(&t);
	}
	ret = smfi_main();
	table_thread_stop();
	if (daemon_socket_path(o.socket) != NULL)
		unlink(daemon_socket_path(o.socket));
	if (o.d.pidfile != NULL)
		unlink(o.d.pidfile);
	log_msg(LOG_L_NOTICE, "stopped");
	table_deinit();
	classify_deinit();
	auth_deinit();
	netlist_free(&settings.local);
	bav_config_free(&cf);
	return ret == MI_SUCCESS ? 0 : 1;
}
