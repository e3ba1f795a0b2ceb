/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cmd_lmtpd - "bav lmtpd": LMTP server writing the delivery spool
 * SYNOPSIS
 *	bav lmtpd [-C FILE] [-s unix:/path|inet:PORT[@HOST]] [-t THREADS]
 *		[-T SECONDS] [-f] [-u USER[:GROUP]] [-M MODE] [-G GROUP]
 *		[--pid-file FILE] [--spool DIR] [--rules FILE]...
 *		[--no-default-rules] [--rid RID] [--max-size BYTES]
 *		[--host NAME] [--sendmail PATH] [--forward ADDRESS]
 *		[--no-forward] [--max-depth N] [--verp-secret-file FILE]
 *		[--verp-max-age DAYS] [--quiet]
 *
 *	int cmd_lmtpd(int argc, char **argv)
 * DESCRIPTION
 *	Listens on the socket (milter conventions: unix:/path, created
 *	under umask 0177, then owner the -u user, group -G (else the -u
 *	group) and mode -M (default 0660; Postfix's lmtp client must be
 *	able to connect: group postfix, or -M 0666), a stale socket is
 *	replaced; inet:PORT@HOST, HOST defaults to 127.0.0.1) and serves LMTP (RFC 2033, see lmtp_session.c) with a
 *	fixed set of THREADS worker threads (default 20, Postfix's default
 *	destination concurrency), each accepting one
 *	connection at a time: no process per message. Every accepted message
 *	is classified and spooled exactly like bav deliver does, fsync'ed
 *	before the per-recipient 250 replies; bav recorder moves it into the
 *	store. The workers' spool handles form one bav_spool_group: entries
 *	renamed into new/ at about the same time share one fsync of new/
 *	(group commit, bav_spool.h), each worker still answering only once
 *	its own entry is durable. Postfix: transport_maps "example.com lmtp:unix:/path".
 *
 *	Defaults come from main.cf (-C FILE, see bav-main.cf(5)):
 *	lmtpd_listen, lmtpd_threads, lmtpd_timeout, lmtpd_pid_file,
 *	syslog_facility and the keys of deliver_common.c; options override.
 *	-T is the idle timeout per command (default 300 s), --max-size the
 *	SIZE announced and enforced (default 64 MiB). It stays in the
 *	foreground (for a supervisor or systemd); --pid-file writes its pid.
 *	SIGTERM or SIGINT stop it: no new connections, sessions end with 421
 *	between commands, a message being received is finished first.
 *	SIGHUP loads the --rules files again (a read-write lock keeps
 *	classifications running meanwhile on the old set); a broken file
 *	is logged and the old rules stay.
 * SECURITY
 *	Started as root with -u USER[:GROUP] (as bav-milter and
 *	bav-policyd: daemon_user_switch() of daemon/daemon.c), it opens
 *	the socket, sets its owner and mode, writes the pid file and then
 *	drops to that user and group (supplementary groups too) before it
 *	opens the spool or accepts a connection; without -u it runs as
 *	whoever started it (as the milter and policyd do). The spool must
 *	be writable by that user.
 * DIAGNOSTICS
 *	syslog (facility mail) one line per message and per failure; start-up
 *	errors on stderr. Exit 0 after a clean stop; 64 usage; 71 (EX_OSERR)
 *	the socket can't be set up; 75 the spool can't be opened; 78 broken
 *	rule file or unknown -G group; 1 an unknown -u user or a failed
 *	switch (daemon_die()).
 * SEE ALSO
 *	bav-deliver(8), lmtp_session.c, RFC 2033
 */
#include "lmtp.h"
#include "cmd_config.h"
#include "bav_daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CMD_EX_OSERR 71
#define CMD_EX_CANTCREAT 73

enum { OPT_PIDFILE = 400, OPT_QUIET };

static const struct option long_opts[] = {
	DELIVER_LONG_OPTS,
	{ "socket", required_argument, NULL, 's' },
	{ "threads", required_argument, NULL, 't' },
	{ "timeout", required_argument, NULL, 'T' },
	{ "pid-file", required_argument, NULL, OPT_PIDFILE },
	{ "user", required_argument, NULL, 'u' },
	{ "socket-mode", required_argument, NULL, 'M' },
	{ "socket-group", required_argument, NULL, 'G' },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static volatile sig_atomic_t stop_flag, hup_flag;

struct worker {
	pthread_t tid;
	const struct lmtp_server *srv;
	int listen_fd;
};

static int lmtpd_usage(void)
{
	fputs("usage: bav lmtpd [-C FILE] [-s unix:/path|inet:PORT[@HOST]]"
	      " [-t THREADS] [-T SECONDS] [--pid-file FILE]\n"
	      "                 [-u USER[:GROUP]] [-M MODE] [-G GROUP]\n"
	      "                 [--spool DIR] [--rules FILE]..."
	      " [--no-default-rules] [--rid RID]\n"
	      "                 [--max-size BYTES] [--host NAME]"
	      " [--sendmail PATH] [--forward ADDRESS]\n"
	      "                 [--no-forward] [--max-depth N]"
	      " [--verp-secret-file FILE] [--verp-max-age DAYS]\n"
	      "                 [--quiet]\n", stderr);
	return CMD_EX_USAGE;
}

struct lmtpd_args {
	const char *socket, *pid_file, *user, *sock_group;
	unsigned int threads;
	mode_t sock_mode;
	struct daemon_user du;
};

/* -G, else the -u group; -1: leave it */
static gid_t socket_gid(const struct lmtpd_args *a)
{
	const struct group *gr;

	if (a->sock_group == NULL || *a->sock_group == '\0')
		return a->du.set ? a->du.gid : (gid_t)-1;
	gr = getgrnam(a->sock_group);	/* checked in cmd_lmtpd() */
	return gr != NULL ? gr->gr_gid : (gid_t)-1;
}

static int listen_unix(const char *path, const struct lmtpd_args *a)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd, ret;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "bav lmtpd: socket path too long: %s\n", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	(void)unlink(path);
	/* no window in which others may connect: bound under umask 0177,
	   then given its owner, group and mode */
	old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (ret < 0) {
		fprintf(stderr, "bav lmtpd: bind %s: %s\n", path,
			strerror(errno));
		close(fd);
		return -1;
	}
	if (((a->du.set || (a->sock_group != NULL &&
			    *a->sock_group != '\0')) &&
	     chown(path, a->du.set ? a->du.uid : (uid_t)-1,
		   socket_gid(a)) < 0) || chmod(path, a->sock_mode) < 0) {
		fprintf(stderr, "bav lmtpd: socket %s: %s\n", path,
			strerror(errno));
		(void)unlink(path);
		close(fd);
		return -1;
	}
	return fd;
}

static int listen_inet(const char *spec)
{
	struct sockaddr_in sin;
	const char *at = strchr(spec, '@');
	char host[64];
	long port;
	int fd, one = 1;

	port = strtol(spec, NULL, 10);
	snprintf(host, sizeof(host), "%s", at != NULL ? at + 1 : "127.0.0.1");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	if (port <= 0 || port > 65535 ||
	    inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		fprintf(stderr, "bav lmtpd: bad inet socket: inet:%s (want "
			"inet:PORT@ADDRESS)\n", spec);
		return -1;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, "bav lmtpd: bind inet:%s: %s\n", spec,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int open_listener(const char *spec, const struct lmtpd_args *a)
{
	int fd = -1;

	if (strncmp(spec, "unix:", 5) == 0)
		fd = listen_unix(spec + 5, a);
	else if (strncmp(spec, "local:", 6) == 0)
		fd = listen_unix(spec + 6, a);
	else if (strncmp(spec, "inet:", 5) == 0)
		fd = listen_inet(spec + 5);
	else if (spec[0] == '/')
		fd = listen_unix(spec, a);
	else
		fprintf(stderr, "bav lmtpd: bad socket %s (want unix:/path "
			"or inet:PORT@HOST)\n", spec);
	if (fd >= 0 && listen(fd, 128) < 0) {
		fprintf(stderr, "bav lmtpd: listen: %s\n", strerror(errno));
		close(fd);
		fd = -1;
	}
	return fd;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct bav_spool *spool = NULL;
	char *oerr = NULL;
	bool joined = false;

	while (!stop_flag) {
		int fd = accept4(w->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (stop_flag)
				break;
			if (errno != EINTR && errno != ECONNABORTED)
				usleep(100000);	/* EMFILE and the like */
			continue;
		}
		if (spool == NULL &&
		    bav_spool_open(w->srv->cfg->spool_dir, true, &spool,
				   &oerr) != BAV_OK) {
			syslog(LOG_ERR, "%s", oerr);
			free(oerr);
			oerr = NULL;
		} else if (spool != NULL && !joined) {
			const char *gerr;

			/* without the group it still works: its own fsync */
			if (bav_spool_set_group(spool, w->srv->spool_group,
						&gerr) != BAV_OK)
				syslog(LOG_WARNING, "%s", gerr);
			joined = true;
		}
		lmtp_session_run(w->srv, fd, spool, "lmtp");
		close(fd);
	}
	bav_spool_close(&spool);
	return NULL;
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hup_flag = 1;
	else
		stop_flag = 1;
}

/* SIGHUP: load the rule files again; on an error keep the old set. */
static void reload_rules(struct deliver_cfg *cfg)
{
	struct bav_rules *rules = NULL, *old;
	char *error = NULL;

	if (cfg->nrules == 0) {
		syslog(LOG_INFO, "SIGHUP: built-in rules only, nothing to "
		       "reload");
		return;
	}
	if (bav_rules_load(cfg->rule_paths, cfg->nrules, !cfg->no_default,
			   &rules, &error) != BAV_OK) {
		syslog(LOG_ERR, "SIGHUP: %s; keeping the old rules",
		       error != NULL ? error : "cannot load rules");
		fprintf(stderr, "bav lmtpd: SIGHUP: %s; keeping the old "
			"rules\n", error != NULL ? error : "cannot load rules");
		free(error);
		return;
	}
	pthread_rwlock_wrlock(cfg->rules_lock);
	old = cfg->rules;
	cfg->rules = rules;
	cfg->opts.rules = rules;
	pthread_rwlock_unlock(cfg->rules_lock);
	if (old != NULL)
		bav_rules_free(&old);
	syslog(LOG_INFO, "SIGHUP: rules reloaded");
}

static int parse_args(struct deliver_cfg *cfg, struct lmtp_server *srv,
		      struct lmtpd_args *a, int argc, char **argv)
{
	int opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:t:T:fhC:u:M:G:", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'C': break;	/* main.cf, read by main() */
		case 's': a->socket = optarg; break;
		case 't':
			a->threads = (unsigned int)atoi(optarg);
			if (a->threads == 0 || a->threads > 1024)
				return lmtpd_usage();
			break;
		case 'T':
			srv->timeout_s = (unsigned int)atoi(optarg);
			if (srv->timeout_s == 0)
				return lmtpd_usage();
			break;
		case 'f': break;	/* foreground: always */
		case OPT_PIDFILE: a->pid_file = optarg; break;
		case 'u': a->user = optarg; break;
		case 'G': a->sock_group = optarg; break;
		case 'M': {
			char *end;
			unsigned long m = strtoul(optarg, &end, 8);

			if (*optarg == '\0' || *end != '\0' || m > 0777)
				return lmtpd_usage();
			a->sock_mode = (mode_t)m;
			break;
		}
		case OPT_QUIET: cfg->quiet = true; break;
		default:
			r = deliver_cfg_option(cfg, opt, optarg, "lmtpd");
			if (r <= 0)
				return lmtpd_usage();
		}
	}
	if (a->socket == NULL || optind != argc)
		return lmtpd_usage();
	return 0;
}

static int serve(struct lmtp_server *srv, struct deliver_cfg *cfg, int lfd,
		 unsigned int nthreads)
{
	struct worker *w = calloc(nthreads, sizeof(*w));
	struct sigaction sa;
	sigset_t set, old;
	unsigned int i;

	if (w == NULL)
		abort();
	/* workers block the signals; the main thread takes them */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (i = 0; i < nthreads; i++) {
		w[i].srv = srv;
		w[i].listen_fd = lfd;
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0) {
			fprintf(stderr, "bav lmtpd: pthread_create failed\n");
			nthreads = i;
			stop_flag = 1;
			break;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* the signals stay blocked outside sigsuspend(): one that arrives
	   during a reload (or before the first wait) is taken by the next
	   sigsuspend(), not lost until yet another signal as with pause() */
	while (!stop_flag) {
		sigsuspend(&old);
		if (hup_flag) {
			hup_flag = 0;
			reload_rules(cfg);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	syslog(LOG_INFO, "stopping");
	shutdown(lfd, SHUT_RDWR);	/* wakes the accept()s */
	for (i = 0; i < nthreads; i++)
		pthread_join(w[i].tid, NULL);
	free(w);
	return CMD_EX_OK;
}

int cmd_lmtpd(int argc, char **argv)
{
	struct deliver_cfg cfg;
	struct lmtp_server srv;
	struct lmtpd_args a = { .threads = 20, .sock_mode = 0660 };
	struct bav_spool *spool = NULL;
	pthread_rwlock_t rules_lock = PTHREAD_RWLOCK_INITIALIZER;
	char *oerr = NULL;
	int ret, lfd = -1;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	deliver_cfg_init(&cfg, argc);
	memset(&srv, 0, sizeof(srv));
	srv.cfg = &cfg;
	a.socket = cmd_config_str("lmtpd_listen");
	a.pid_file = cmd_config_str("lmtpd_pid_file");
	a.threads = (unsigned int)bav_config_get_number(cmd_config(),
							"lmtpd_threads");
	srv.timeout_s = (unsigned int)bav_config_get_number(cmd_config(),
							    "lmtpd_timeout");
	srv.max_rcpts = 1000;
	srv.max_errors = 10;
	srv.stop = &stop_flag;
	a.user = cmd_config_str("lmtpd_user");
	a.sock_group = cmd_config_str("lmtpd_socket_group");
	a.sock_mode = (mode_t)bav_config_get_number(cmd_config(),
						    "lmtpd_socket_mode");
	if ((ret = parse_args(&cfg, &srv, &a, argc, argv)) != 0)
		goto out;
	if (a.user != NULL && *a.user != '\0')
		daemon_user_parse(&a.du, a.user);	/* dies: unknown */
	if (a.sock_group != NULL && *a.sock_group != '\0' &&
	    getgrnam(a.sock_group) == NULL) {
		fprintf(stderr, "bav lmtpd: unknown group '%s'\n",
			a.sock_group);
		ret = CMD_EX_CONFIG;
		goto out;
	}
	if (deliver_cfg_load(&cfg, "lmtpd") < 0) {
		ret = CMD_EX_CONFIG;
		goto out;
	}
	openlog("bav/lmtpd", LOG_PID, cmd_config_facility());
	if ((lfd = open_listener(a.socket, &a)) < 0) {
		ret = CMD_EX_OSERR;
		goto out;
	}
	if (a.pid_file != NULL) {
		char perr[512];

		if (bav_pidfile_write(a.pid_file, getpid(), perr,
				      sizeof(perr)) < 0) {
			fprintf(stderr, "bav lmtpd: pid file %s\n", perr);
			syslog(LOG_ERR, "pid file %s", perr);
			if (strncmp(a.socket, "unix:", 5) == 0)
				(void)unlink(a.socket + 5);
			ret = CMD_EX_CANTCREAT;
			goto out;
		}
	}
	daemon_user_switch(&a.du);	/* -u: dies when it cannot */
	/* the spool must be usable (by that user) before we accept anything */
	if (bav_spool_open(cfg.spool_dir, true, &spool, &oerr) != BAV_OK) {
		fprintf(stderr, "bav lmtpd: %s\n", oerr);
		free(oerr);
		if (strncmp(a.socket, "unix:", 5) == 0)
			(void)unlink(a.socket + 5);
		if (a.pid_file != NULL)
			(void)unlink(a.pid_file);
		ret = CMD_EX_TEMPFAIL;
		goto out;
	}
	bav_spool_close(&spool);
	syslog(LOG_INFO, "listening on %s, %u threads, spool %s", a.socket,
	       a.threads, cfg.spool_dir);
	cfg.rules_lock = &rules_lock;
	srv.spool_group = bav_spool_group_new();
	ret = serve(&srv, &cfg, lfd, a.threads);
	bav_spool_group_free(&srv.spool_group);	/* the workers are joined */
	if (strncmp(a.socket, "unix:", 5) == 0)
		(void)unlink(a.socket + 5);
	if (a.pid_file != NULL)
		(void)unlink(a.pid_file);
out:
	if (lfd >= 0)
		close(lfd);
	deliver_cfg_free(&cfg);
	closelog();
	return ret;
}
