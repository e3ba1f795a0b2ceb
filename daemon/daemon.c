/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	daemon - start-up of the bav daemons: fatal errors, numeric options,
 *	-u user[:group], detaching, the pid file, signals
 * SYNOPSIS
 *	#include "bav_daemon.h"
 *
 *	void daemon_init(const char *name, bool die_logs)
 *	void daemon_die(const char *fmt, ...)
 *	void daemon_oom_exit(size_t size)
 *	bool daemon_option(struct daemon_opts *d, int ch, const char *arg)
 *	void daemon_start(const struct daemon_opts *d)
 *	unsigned long daemon_number(const char *s, unsigned long max,
 *				    const char *what)
 *	void daemon_user_parse(struct daemon_user *u, const char *spec)
 *	const char *daemon_socket_path(const char *spec)
 *	void daemon_detach(void)
 *	void daemon_pidfile_write(const char *path)
 *	void daemon_user_switch(const struct daemon_user *u)
 *	void daemon_signals_block(void)
 * DESCRIPTION
 *	Shared by bav-milter and bav-policyd; called from main() only,
 *	before any thread starts (the name and flag of daemon_init() are
 *	process-wide and never change afterwards).
 *
 *	daemon_init() names the program for messages on stderr, says
 *	whether daemon_die() also logs its message (at FATAL, bav-milter)
 *	and installs daemon_oom_exit() as libbav's out-of-memory hook.
 *
 *	daemon_option() takes the options both daemons share from their
 *	getopt() loop: -d (detach), -L level, -n (check only), -p pidfile,
 *	-u user[:group] (arg is kept, not copied); it returns false for any
 *	other option. daemon_start() then does what they ask once the
 *	sockets are open: daemon_detach(), daemon_pidfile_write(),
 *	daemon_user_switch() (the user must be parsed before).
 *
 *	daemon_number() parses a decimal option value up to max ("what"
 *	names it in the error). daemon_user_parse() resolves "user" or
 *	"user:group" (the user's primary group unless one is given) into
 *	u, which keeps the spec pointer; daemon_user_switch() later sets
 *	the groups, gid and uid (nothing without -u).
 *
 *	daemon_socket_path() gives the file of a "unix:/path",
 *	"local:/path" or "/path" socket spec (a pointer into spec), NULL
 *	for inet sockets. daemon_detach() forks, the parent exits 0, the
 *	child starts a session, changes to / and puts /dev/null on
 *	descriptors 0-2: relative paths must be made absolute before.
 *	daemon_pidfile_write() writes "PID\n".
 *
 *	daemon_signals_block() blocks SIGHUP, SIGTERM and SIGINT in the
 *	calling thread, so every thread started later inherits the mask
 *	(bav-milter's reloader and libmilter wait for them, bav-policyd
 *	reads them from a signalfd).
 * DIAGNOSTICS
 *	Every failure is fatal: daemon_die() prints "NAME: message" on
 *	stderr (and logs it when asked) and exits 1; daemon_oom_exit()
 *	logs "out of memory (N bytes)" and _exits 75 (EX_TEMPFAIL).
 * SEE ALSO
 *	daemon(3), setgroups(2), bav-milter(8), bav-policyd(8)
 */
#include "bav.h"
#include "bav_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *daemon_name = "bav";
static bool daemon_die_logs;

void daemon_init(const char *name, bool die_logs)
{
	daemon_name = name;
	daemon_die_logs = die_logs;
	bav_set_oom_hook(daemon_oom_exit);
}

void daemon_die(const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", daemon_name, msg);
	if (daemon_die_logs)
		log_msg(LOG_L_FATAL, "%s", msg);
	exit(1);
}

void daemon_oom_exit(size_t size)
{
	log_msg(LOG_L_FATAL, "out of memory (%zu bytes)", size);
	_exit(75);
}

bool daemon_option(struct daemon_opts *d, int ch, const char *arg)
{
	switch (ch) {
	case 'd':
		d->detach = true;
		return true;
	case 'L':
		d->level = log_level_parse(arg);
		if (d->level < 0)
			daemon_die("invalid log level '%s'", arg);
		return true;
	case 'n':
		d->check = true;
		return true;
	case 'p':
		d->pidfile = arg;
		return true;
	case 'u':
		d->user_spec = arg;
		return true;
	}
	return false;
}

void daemon_start(const struct daemon_opts *d)
{
	if (d->detach)
		daemon_detach();
	if (d->pidfile != NULL)
		daemon_pidfile_write(d->pidfile);
	daemon_user_switch(&d->user);
}

unsigned long daemon_number(const char *s, unsigned long max,
			    const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v > max)
		daemon_die("bad %s '%s'", what, s);
	return v;
}

void daemon_user_parse(struct daemon_user *u, const char *spec)
{
	char name[256], *colon;
	const struct passwd *pw;

	snprintf(name, sizeof(name), "%s", spec);
	colon = strchr(name, ':');
	if (colon != NULL)
		*colon++ = '\0';
	pw = getpwnam(name);
	if (pw == NULL)
		daemon_die("unknown user '%s'", name);
	u->spec = spec;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	if (colon != NULL) {
		const struct group *gr = getgrnam(colon);

		if (gr == NULL)
			daemon_die("unknown group '%s'", colon);
		u->gid = gr->gr_gid;
	}
	u->set = true;
}

const char *daemon_socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	return spec[0] == '/' ? spec : NULL;
}

void daemon_detach(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		daemon_die("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	setsid();
	if (chdir("/") < 0)
		daemon_die("chdir /: %s", strerror(errno));
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

void daemon_pidfile_write(const char *path)
{
	/* written as root before the switch: never through a symlink a
	   former (unprivileged) daemon left in a directory it can write */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
		      O_NOFOLLOW, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 ||
	    fclose(f) != 0)
		daemon_die("pid file %s: %s", path, strerror(errno));
}

void daemon_user_switch(const struct daemon_user *u)
{
	if (!u->set)
		return;
	if (setgroups(1, &u->gid) < 0 || setgid(u->gid) < 0 ||
	    setuid(u->uid) < 0)
		daemon_die("cannot switch to %s: %s", u->spec, strerror(errno));
}

void daemon_signals_block(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}
