/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cmd_recorder - "bav recorder": move spooled results into the store
 * SYNOPSIS
 *	bav recorder [--once] [--spool DIR] [--store URI]
 *		[--password-file FILE] [--batch N] [--interval SECONDS]
 *		[--keep-days N] [--autoreply-dir DIR]
 *		[--autoreply-allow FILE] [--autoreply-period SECONDS]
 *		[--sendmail PATH] [-u USER[:GROUP]] [--quiet]
 *
 *	int cmd_recorder(int argc, char **argv)
 * DESCRIPTION
 *	Reads the entries that bav deliver and bav lmtpd wrote to the spool's
 *	new/ directory, oldest first, and records their verdicts (no
 *	reclassification) with bav_store_record() in transactions of up to
 *	--batch entries (default 200, at most 64 MiB of messages). Only after
 *	the commit are the entries moved to cur/ (kept --keep-days days,
 *	default 7, for bav reclassify; 0 removes them at once). A crash
 *	between commit and move leaves entries that are recorded again on
 *	the next run; the store's message key makes that a no-op, so killed
 *	at any point nothing is lost and nothing counted twice.
 *
 *	On a temporary store error (server gone, locked) the transaction is
 *	rolled back, the entries stay, and the recorder retries after 1, 2,
 *	4 ... up to 60 seconds; --once exits 75 instead. An entry that can't
 *	be parsed, has no verdict (libbav refused the message) or that the
 *	store rejects permanently is moved to bad/ and logged, the rest of
 *	its batch recorded. Without --once the recorder runs until SIGTERM
 *	or SIGINT, which finish the current batch first: it watches new/
 *	with inotify(7) and starts a pass BATCH_DELAY_MS (20 ms, to gather a
 *	batch) after an entry arrives, else (no inotify) it polls the spool
 *	every --interval seconds (default 1); with inotify the interval only
 *	bounds the sleep (expiry of cur/ is checked then). SIGHUP closes the store after the current
 *	batch and opens it again (a moved server, a replaced SQLite file, a
 *	new password file) and logs that. The store is $BAV_STORE unless
 *	--store.
 *
 *	With --autoreply-dir, human replies recorded for the first time get
 *	an RFC 3834 answer from a template (autoresponder.c), at most once
 *	per sender and filter per --autoreply-period (default 86400 s),
 *	only to senders in --autoreply-allow when given; sent through
 *	--sendmail after the commit.
 * SECURITY
 *	-u USER[:GROUP] (main.cf recorder_user), as bav-milter and
 *	bav-policyd: started as root, it sets the groups, gid and uid
 *	(daemon_user_switch(), daemon/daemon.c) right after the options,
 *	before it reads the autoresponder texts, opens the spool or the
 *	store or reads a password file: these must be usable by that
 *	user. Without -u it runs as whoever started it.
 * DIAGNOSTICS
 *	syslog (facility mail) and stderr: one line per rejected entry and
 *	per store failure, a summary per pass with entries unless --quiet.
 *	Exit status: 0 done (--once: the spool was drained; daemon: stopped
 *	by a signal); 64 usage; 75 temporary failure (--once, or the spool
 *	can't be opened); 78 configuration (store URI, schema).
 * SEE ALSO
 *	bav-deliver(8), bav_spool.h, bav_store.h
 */
#include "deliver.h"
#include "cmd_config.h"
#include "cmd_store.h"
#include "bav_emm.h"
#include "autoresponder.h"
#include "bav_daemon.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#define BATCH_BYTES (64u * 1024 * 1024)
#define BATCH_DELAY_MS 20
#define MAX_BACKOFF 60

enum { OPT_ONCE = 400, OPT_BATCH, OPT_INTERVAL, OPT_KEEP, OPT_PWFILE,
       OPT_SPOOL, OPT_STORE, OPT_AR_DIR, OPT_AR_ALLOW, OPT_AR_PERIOD,
       OPT_SENDMAIL };

static const struct option long_opts[] = {
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "spool", required_argument, NULL, OPT_SPOOL },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "password-file", required_argument, NULL, OPT_PWFILE },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "keep-days", required_argument, NULL, OPT_KEEP },
	{ "autoreply-dir", required_argument, NULL, OPT_AR_DIR },
	{ "autoreply-allow", required_argument, NULL, OPT_AR_ALLOW },
	{ "autoreply-period", required_argument, NULL, OPT_AR_PERIOD },
	{ "sendmail", required_argument, NULL, OPT_SENDMAIL },
	{ "user", required_argument, NULL, 'u' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct recorder {
	const char *spool_dir, *store_uri, *password_file;
	unsigned int batch, interval, keep_days;
	bool once, quiet;
	const char *ar_dir, *ar_allow, *sendmail, *user;
	unsigned int ar_period;
	struct autoresponder *ar;
	struct bav_spool *spool;
	struct bav_store *store;
	struct bav_emm *emm;		/* emm+ store URI: owns store */
	unsigned long nrecorded, ndup, nbad, nanswered;
	time_t last_expire;
	int watch_fd;			/* inotify on new/, or -1 */
};

static volatile sig_atomic_t stop_flag, reload_flag;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_flag = 1;
	else
		stop_flag = 1;
}

static void logmsg(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void logmsg(int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	syslog(prio, "%s", line);
	fprintf(stderr, "bav recorder: %s\n", line);
}

static int recorder_usage(void)
{
	fputs("usage: bav recorder [--once] [--spool DIR] [--store URI]"
	      " [--password-file FILE]\n"
	      "                    [--batch N] [--interval SECONDS]"
	      " [--keep-days N] [--quiet]\n"
	      "                    [--autoreply-dir DIR]"
	      " [--autoreply-allow FILE]\n"
	      "                    [--autoreply-period SECONDS]"
	      " [--sendmail PATH] [-u USER[:GROUP]]\n", stderr);
	return CMD_EX_USAGE;
}

/* Open the store if needed: 0, or a bav_err. */
static int store_connect(struct recorder *r)
{
	struct bav_store_opts so = { .migrate = true };
	char *error = NULL;
	int ret;

	if (r->store != NULL)
		return BAV_OK;
	so.password_file = r->password_file;
	if (cmd_config_store_opts(r->store_uri, &so, "recorder") != 0)
		return BAV_ECONFIG;	/* the secrets file, printed */
	if (bav_emm_uri(r->store_uri)) {	/* OpenEMM tables, bav-emm(7) */
		struct bav_emm_opts eo = { .password_file = so.password_file,
					   .password = so.password };

		ret = bav_emm_open(r->store_uri, &eo, &r->emm, &error);
		if (ret == BAV_OK)
			r->store = bav_emm_store(r->emm);
	} else {
		ret = bav_store_open(r->store_uri, &so, &r->store, &error);
	}
	if (ret != BAV_OK) {
		logmsg(LOG_ERR, "store: %s", error != NULL ? error : "?");
		free(error);
	}
	return ret;
}

static void store_drop(struct recorder *r)
{
	const char *e;

	if (r->store == NULL)
		return;
	if (bav_store_in_transaction(r->store))
		(void)bav_store_rollback(r->store, &e);
	if (r->emm != NULL) {
		r->store = NULL;
		bav_emm_close(&r->emm);
		return;
	}
	bav_store_close(&r->store);
}

static void reject(struct recorder *r, const char *name, const char *why)
{
	const char *error;

	logmsg(LOG_WARNING, "%s: moved to bad/: %s", name, why);
	if (bav_spool_reject(r->spool, name, &error) != BAV_OK)
		logmsg(LOG_ERR, "%s", error);
	r->nbad++;
}

/* Record one entry inside the open transaction: 0 new, 1 dup, or err. */
static int record_one(struct recorder *r, const struct bav_spool_entry *e,
		      const char **error_r)
{
	struct bav_emm_outcome eo;
	int ret = r->emm != NULL ? bav_emm_record_entry(r->emm, e, &eo,
							error_r) :
		bav_store_record(r->store, e->verdict, e->key, e->host,
				 e->time, error_r);

	if (ret == 0 && r->ar != NULL && r->emm == NULL) {
		int ar_ret = autoresponder_consider(r->ar, r->store, e,
						    error_r);

		if (ar_ret != BAV_OK)
			ret = ar_ret;
	}
	return ret;
}

/* After a commit: send the queued answers; after a rollback: drop. */
static void answers(struct recorder *r, bool committed)
{
	const char *error;

	/* emm: the webhook.log lines of what was committed */
	if (bav_emm_finish(r->emm, committed, &error) != BAV_OK)
		logmsg(LOG_ERR, "%s", error);
	if (committed)
		r->nanswered += autoresponder_flush(r->ar);
	else
		autoresponder_drop(r->ar);
}

/* After a permanent store error in a batch: one transaction per entry,
   rejecting the entries the store refuses. Returns 0 or BAV_ETEMP. */
static int record_singly(struct recorder *r, const char **names,
			 struct bav_spool_entry **ents, unsigned int n)
{
	const char *error;
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		if (ents[i] == NULL)
			continue;
		ret = bav_store_begin(r->store, &error);
		if (ret == BAV_OK)
			ret = record_one(r, ents[i], &error);
		if (ret >= 0)
			ret = bav_store_commit(r->store, &error);
		else
			(void)bav_store_rollback(r->store, &error);
		answers(r, ret >= 0);
		if (ret == BAV_ETEMP)
			return ret;
		if (ret < 0) {
			reject(r, names[i], error);
			ents[i] = NULL;
		}
	}
	return BAV_OK;
}

/* Read the entries names[0..count) (less when they pass 64 MiB);
   corrupt or unclassified ones go to bad/. Returns how many were used. */
static unsigned int load_batch(struct recorder *r, struct bav_pool *pool,
			       const char **names, unsigned int count,
			       struct bav_spool_entry **ents)
{
	const char *error;
	unsigned int i;
	size_t bytes = 0;

	for (i = 0; i < count && bytes < BATCH_BYTES; i++) {
		int ret = bav_spool_read(r->spool, names[i], pool, &ents[i],
					 &error);

		if (ret == BAV_EDATA) {
			reject(r, names[i], error);
			ents[i] = NULL;
		} else if (ret != BAV_OK) {
			ents[i] = NULL;	/* vanished: another recorder */
		} else if (ents[i]->verdict == NULL) {
			reject(r, names[i], ents[i]->error);
			ents[i] = NULL;
		} else {
			bytes += ents[i]->msg_len;
		}
	}
	return i;
}

/* One transaction over names[0..count): 0 with *used_r, or a bav_err
   (nothing of the batch was kept in the store then). */
static int one_batch(struct recorder *r, const char **names,
		     unsigned int count, unsigned int *used_r)
{
	struct bav_pool *pool = bav_pool_new(1024 * 1024);
	struct bav_spool_entry **ents;
	const char *error = NULL;
	unsigned long nnew = 0, ndup = 0;
	unsigned int n, i;
	int ret;

	ents = bav_pool_alloc(pool, (count + 1) * sizeof(*ents));
	n = load_batch(r, pool, names, count, ents);
	*used_r = n;
	if ((ret = store_connect(r)) != BAV_OK)
		goto out;
	ret = bav_store_begin(r->store, &error);
	for (i = 0; ret == BAV_OK && i < n; i++) {
		if (ents[i] == NULL)
			continue;
		ret = record_one(r, ents[i], &error);
		if (ret == 1)
			ndup++;
		else if (ret == 0)
			nnew++;
		if (ret > 0)
			ret = BAV_OK;
	}
	if (ret == BAV_OK)
		ret = bav_store_commit(r->store, &error);
	answers(r, ret == BAV_OK);
	if (ret == BAV_EDATA) {
		(void)bav_store_rollback(r->store, &error);
		nnew = ndup = 0;
		ret = record_singly(r, names, ents, n);
	}
	if (ret != BAV_OK) {
		logmsg(LOG_ERR, "store: %s", error != NULL ? error :
		       "temporary failure");
		store_drop(r);
		goto out;
	}
	/* committed: now the entries may go */
	for (i = 0; i < n; i++) {
		if (ents[i] != NULL &&
		    bav_spool_done(r->spool, names[i], r->keep_days > 0,
				   &error) != BAV_OK)
			logmsg(LOG_ERR, "%s", error);
	}
	(void)bav_spool_sync(r->spool, &error);
	r->nrecorded += nnew;
	r->ndup += ndup;
out:
	bav_pool_free(&pool);
	return ret;
}

/* List new/ once and record it batch by batch: 1 something was done,
   0 the spool was empty, or a bav_err. */
static int one_pass(struct recorder *r)
{
	struct bav_pool *pool = bav_pool_new(65536);
	const char **names, *error;
	unsigned int n, off = 0, used, chunk;
	int ret = 0;

	if (bav_spool_list(r->spool, pool, 0, &names, &n, &error) != BAV_OK) {
		logmsg(LOG_ERR, "%s", error);
		bav_pool_free(&pool);
		return BAV_ETEMP;
	}
	while (off < n && !stop_flag) {
		chunk = n - off < r->batch ? n - off : r->batch;
		ret = one_batch(r, names + off, chunk, &used);
		if (ret != BAV_OK)
			break;
		off += used;
		ret = 1;
	}
	bav_pool_free(&pool);
	return ret;
}

static void expire(struct recorder *r)
{
	time_t now = time(NULL);
	unsigned int removed = 0;
	const char *error;

	if (now - r->last_expire < 60)
		return;
	r->last_expire = now;
	if (bav_spool_expire(r->spool, now - (time_t)r->keep_days * 86400,
			     &removed, &error) != BAV_OK)
		logmsg(LOG_ERR, "%s", error);
}

static void sleep_s(unsigned int s)
{
	struct timespec ts = { (time_t)s, 0 };

	if (!stop_flag)
		nanosleep(&ts, NULL);
}

/* inotify on DIR/new: entries arrive there by rename (deliver, lmtpd)
   or creation; -1 when unavailable (then the recorder polls). */
static int watch_new(const char *dir)
{
	char path[4096];
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/new", dir);
	if (inotify_add_watch(fd, path, IN_MOVED_TO | IN_CREATE |
			      IN_ONLYDIR) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Forget the events so far: the next listing of new/ sees those
   entries, and whatever arrives after it raises a new event. */
static void drain_watch(const struct recorder *r)
{
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));

	if (r->watch_fd >= 0)
		while (read(r->watch_fd, buf, sizeof(buf)) > 0)
			;
}

/* Idle: until an entry arrives (plus BATCH_DELAY_MS to gather a batch)
   or s seconds pass; without inotify just s seconds. */
static void wait_work(const struct recorder *r, unsigned int s)
{
	struct pollfd pfd;
	struct timespec ts = { 0, BATCH_DELAY_MS * 1000000L };

	if (r->watch_fd < 0) {
		sleep_s(s);
		return;
	}
	pfd.fd = r->watch_fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (!stop_flag && poll(&pfd, 1, (int)s * 1000) > 0 && !stop_flag)
		nanosleep(&ts, NULL);
}

static int run(struct recorder *r)
{
	unsigned int backoff = 1;
	int ret;

	for (;;) {
		drain_watch(r);
		if (reload_flag) {
			reload_flag = 0;
			logmsg(LOG_INFO, "SIGHUP: reopening the store");
			store_drop(r);
			backoff = 1;
		}
		ret = one_pass(r);
		if (ret == 1) {
			backoff = 1;
			if (!stop_flag)
				continue;
		}
		if (ret < 0 && ret != BAV_ETEMP)
			return ret;
		if (r->once)
			return ret == 0 ? BAV_OK : ret;
		if (stop_flag)
			return BAV_OK;
		if (ret == BAV_ETEMP) {
			sleep_s(backoff);
			backoff = backoff * 2 > MAX_BACKOFF ? MAX_BACKOFF :
				backoff * 2;
			continue;
		}
		expire(r);
		wait_work(r, r->interval);
	}
}

static int parse_args(struct recorder *r, int argc, char **argv)
{
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "qhC:u:", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'C': break;	/* main.cf, read by main() */
		case OPT_ONCE: r->once = true; break;
		case OPT_SPOOL: r->spool_dir = optarg; break;
		case OPT_STORE: r->store_uri = optarg; break;
		case OPT_PWFILE: r->password_file = optarg; break;
		case OPT_BATCH:
			r->batch = (unsigned int)atoi(optarg);
			if (r->batch == 0 || r->batch > 100000)
				return recorder_usage();
			break;
		case OPT_INTERVAL:
			r->interval = (unsigned int)atoi(optarg);
			if (r->interval == 0)
				return recorder_usage();
			break;
		case OPT_KEEP: r->keep_days = (unsigned int)atoi(optarg); break;
		case OPT_AR_DIR: r->ar_dir = optarg; break;
		case OPT_AR_ALLOW: r->ar_allow = optarg; break;
		case OPT_AR_PERIOD:
			r->ar_period = (unsigned int)atoi(optarg);
			break;
		case OPT_SENDMAIL: r->sendmail = optarg; break;
		case 'u': r->user = optarg; break;
		case 'q': r->quiet = true; break;
		default:
			return recorder_usage();
		}
	}
	if (optind != argc)
		return recorder_usage();
	if (r->store_uri == NULL)
		r->store_uri = getenv("BAV_STORE");
	if (r->store_uri == NULL || *r->store_uri == '\0') {
		fprintf(stderr, "bav recorder: no store: use --store URI or "
			"set BAV_STORE\n");
		return CMD_EX_USAGE;
	}
	return 0;
}

int cmd_recorder(int argc, char **argv)
{
	struct recorder r;
	struct sigaction sa;
	char *oerr = NULL;
	const char *env = getenv("BAV_SPOOL");
	int ret;

	memset(&r, 0, sizeof(r));
	r.watch_fd = -1;
	r.spool_dir = env != NULL && *env != '\0' ? env : DELIVER_DEFAULT_SPOOL;
	/* main.cf (store and spool_directory through $BAV_STORE and
	   $BAV_SPOOL); options override */
	r.batch = (unsigned int)bav_config_get_number(cmd_config(),
						      "recorder_batch");
	r.interval = (unsigned int)bav_config_get_number(cmd_config(),
							 "recorder_interval");
	r.keep_days = (unsigned int)bav_config_get_number(cmd_config(),
							  "spool_keep_days");
	r.ar_period = (unsigned int)bav_config_get_number(cmd_config(),
						"recorder_autoreply_period");
	r.sendmail = cmd_config_str("sendmail_path");
	if (r.sendmail == NULL)
		r.sendmail = "/usr/sbin/sendmail";
	r.ar_dir = cmd_config_str("recorder_autoreply_directory");
	r.ar_allow = cmd_config_str("recorder_autoreply_allow_file");
	r.password_file = cmd_config_str("store_password_file");
	r.user = cmd_config_str("recorder_user");
	if ((ret = parse_args(&r, argc, argv)) != 0)
		return ret;
	if (r.user != NULL) {	/* -u: dies on an unknown user or failure */
		struct daemon_user du = { 0 };

		daemon_user_parse(&du, r.user);
		daemon_user_switch(&du);
	}
	if (r.ar_dir != NULL &&
	    (r.ar = autoresponder_new(r.ar_dir, r.ar_allow, r.sendmail,
				      r.ar_period)) == NULL)
		return CMD_EX_CONFIG;
	openlog("bav/recorder", LOG_PID, cmd_config_facility());
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (bav_spool_open(r.spool_dir, true, &r.spool, &oerr) != BAV_OK) {
		logmsg(LOG_ERR, "%s", oerr);
		free(oerr);
		return CMD_EX_TEMPFAIL;
	}
	if (!r.once)
		r.watch_fd = watch_new(r.spool_dir);
	ret = run(&r);
	if (r.watch_fd >= 0)
		close(r.watch_fd);
	if (r.once)
		expire(&r);
	if (!r.quiet && (r.nrecorded + r.ndup + r.nbad > 0 || ret != 0))
		logmsg(LOG_INFO, "%lu recorded, %lu already recorded, "
		       "%lu moved to bad/, %lu answered%s", r.nrecorded,
		       r.ndup, r.nbad, r.nanswered,
		       ret == BAV_ETEMP ? ", store unavailable: entries kept"
		       : "");
	store_drop(&r);
	autoresponder_free(&r.ar);
	bav_spool_close(&r.spool);
	closelog();
	if (ret == BAV_OK)
		return CMD_EX_OK;
	return ret == BAV_ETEMP ? CMD_EX_TEMPFAIL : CMD_EX_CONFIG;
}
