/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cmd_deliver - "bav deliver": the delivery agent of a master.cf pipe
 *	transport
 * SYNOPSIS
 *	bav deliver [-C FILE] -f SENDER [-q QUEUEID] [--spool DIR] [--store URI]
 *		[--keep-days N] [--rules FILE]... [--no-default-rules]
 *		[--rid RID] [--max-size BYTES] [--host NAME]
 *		[--sendmail PATH] [--forward ADDRESS] [--no-forward]
 *		[--max-depth N] [--verp-secret-file FILE] [--verp-max-age DAYS]
 *		[--] RECIPIENT...
 *
 *	int cmd_deliver(int argc, char **argv)
 * DESCRIPTION
 *	Reads one message on standard input, classifies it with
 *	bav_classify() (the entry point of bav classify) and writes one
 *	spool entry (envelope, verdict, raw message) with fsync of the file
 *	and of the spool directory. Only then it exits 0. The spool is
 *	--spool, else $BAV_SPOOL, else $localstatedir/spool/bav; missing
 *	subdirectories are created. bav recorder moves the entries into the
 *	store.
 *
 *	A human reply is then forwarded to the filter's address (forward.c);
 *	a failed forward exits 75 like a failed spool write.
 *
 *	With --store the entry is also recorded at once (one transaction,
 *	idempotent by message key) and then archived to cur/ (or removed
 *	with --keep-days 0); when the store is unavailable the entry simply
 *	stays for the recorder and the exit status is still 0.
 *
 *	Postfix master.cf (see contrib/postfix/master.cf-bav):
 *	  bav unix - n n - 10 pipe flags=Rq user=bav argv=/usr/bin/bav
 *	    deliver -f ${sender} -q ${queue_id} -- ${original_recipient}
 * DIAGNOSTICS
 *	A syslog line (facility mail, "QUEUEID: ...") per message and per
 *	failure; failures are also one "bav deliver: QUEUEID: why" line on
 *	stderr, which Postfix shows in its defer/bounce reason.
 *	Exit status (sysexits): 0 spooled; 64 usage; 65 (EX_DATAERR) the
 *	message is empty or larger than --max-size (permanent: Postfix
 *	returns it); 75 (EX_TEMPFAIL) anything temporary: unreadable
 *	input, bad or full spool, write or fsync error (Postfix retries);
 *	78 broken rule file.
 * SEE ALSO
 *	bav-deliver(8), pipe(8), sysexits(3), bav_spool.h
 */
#include "deliver.h"
#include "cmd_config.h"
#include "cmd_store.h"
#include "bav_emm.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { OPT_STORE = 400, OPT_KEEP };

static const struct option long_opts[] = {
	DELIVER_LONG_OPTS,
	{ "store", required_argument, NULL, OPT_STORE },
	{ "keep-days", required_argument, NULL, OPT_KEEP },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct deliver_args {
	const char *sender, *queue_id;
	int keep_days;
};

static void report(int prio, const char *qid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void report(int prio, const char *qid, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	syslog(prio, "%s: %s", *qid != '\0' ? qid : "NOQUEUE", line);
	if (prio <= LOG_NOTICE)
		fprintf(stderr, "bav deliver: %s: %s\n",
			*qid != '\0' ? qid : "NOQUEUE", line);
}

static int deliver_usage(void)
{
	fputs("usage: bav deliver -f SENDER [-q QUEUEID] [--spool DIR]"
	      " [--store URI] [--keep-days N]\n"
	      "                   [--rules FILE]... [--no-default-rules]"
	      " [--rid RID] [--max-size BYTES]\n"
	      "                   [--host NAME] [--sendmail PATH]"
	      " [--forward ADDRESS] [--no-forward]\n"
	      "                   [--max-depth N] [--verp-secret-file FILE]"
	      " [--verp-max-age DAYS]\n"
	      "                   [--] RECIPIENT...\n", stderr);
	return CMD_EX_USAGE;
}

/* Read all of stdin into *buf_r. Returns 0, -1 read error (errno),
   -2 larger than max (the rest is drained). */
static int read_stdin(size_t max, unsigned char **buf_r, size_t *len_r)
{
	size_t len = 0, cap = 65536;
	unsigned char *buf = malloc(cap);
	ssize_t r;

	if (buf == NULL)
		abort();
	for (;;) {
		if (len == cap) {
			if (cap > max) {
				char sink[65536];

				while ((r = read(STDIN_FILENO, sink,
						 sizeof(sink))) != 0)
					if (r < 0 && errno != EINTR)
						break;
				free(buf);
				return -2;
			}
			cap *= 2;
			if ((buf = realloc(buf, cap)) == NULL)
				abort();
		}
		r = read(STDIN_FILENO, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > max) {
			char sink[65536];

			while ((r = read(STDIN_FILENO, sink, sizeof(sink))) != 0)
				if (r < 0 && errno != EINTR)
					break;
			free(buf);
			return -2;
		}
	}
	*buf_r = buf;
	*len_r = len;
	return 0;
}

static int parse_args(struct deliver_cfg *cfg, struct deliver_args *a,
		      int argc, char **argv)
{
	int opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:q:hC:", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'C': break;	/* main.cf, read by main() */
		case 'f': a->sender = optarg; break;
		case 'q': a->queue_id = optarg; break;
		case OPT_STORE: cfg->store_uri = optarg; break;
		case OPT_KEEP: a->keep_days = atoi(optarg); break;
		case 'h':
			deliver_usage();
			return CMD_EX_USAGE;
		default:
			r = deliver_cfg_option(cfg, opt, optarg, "deliver");
			if (r <= 0)
				return deliver_usage();
		}
	}
	if (a->sender == NULL || optind >= argc) {
		fprintf(stderr, "bav deliver: %s\n", a->sender == NULL ?
			"-f SENDER is required" : "no RECIPIENT given");
		return deliver_usage();
	}
	return 0;
}

/* --store: record the entry at once; any failure leaves it spooled. */
static void record_now(const struct deliver_cfg *cfg,
		       struct bav_spool *spool, const char *name,
		       const char *fwd, const struct deliver_args *a)
{
	struct bav_store *store = NULL;
	struct bav_emm *emm = NULL;
	struct bav_emm_outcome eo = { .action = "" };
	struct bav_store_opts so = { .migrate = true };
	struct bav_pool *pool = bav_pool_new(65536);
	struct bav_spool_entry *e;
	const char *error = NULL;
	char *oerr = NULL;
	char entry[128];
	int ret;

	snprintf(entry, sizeof(entry), "%s", name);
	ret = bav_spool_read(spool, entry, pool, &e, &error);
	if (ret != BAV_OK || e->verdict == NULL)
		goto out;
	if (bav_emm_uri(cfg->store_uri)) {	/* OpenEMM tables, bav-emm(7) */
		struct bav_emm_opts eo2 = { .licence = 0 };

		(void)cmd_config_store_opts(cfg->store_uri, &so, "deliver");
		eo2.password_file = so.password_file;
		eo2.password = so.password;
		if (bav_emm_open(cfg->store_uri, &eo2, &emm, &oerr) != BAV_OK)
			error = oerr;
		/* fwd: what deliver_forward() did ("" not forwarded) */
		else if ((ret = bav_emm_record_entry_fwd(emm, e, fwd, &eo,
							 &error)) >= 0)
			ret = bav_spool_done(spool, entry, a->keep_days > 0,
					     &error);
		if (ret >= 0 && error == NULL)
			report(LOG_INFO, a->queue_id, "emm: action=%s, rid=%lld,"
			       " company=%lld, mailing=%lld, customer=%lld,"
			       " detail=%d", eo.action, eo.rid, eo.company_id,
			       eo.mailing_id, eo.customer_id, eo.detail);
		goto out;
	}
	/* a refused secrets file was printed; the open then fails */
	(void)cmd_config_store_opts(cfg->store_uri, &so, "deliver");
	if (bav_store_open(cfg->store_uri, &so, &store, &oerr) != BAV_OK) {
		error = oerr;
		goto out;
	}
	ret = bav_store_record(store, e->verdict, e->key, e->host, e->time,
			       &error);
	if (ret >= 0)
		ret = bav_spool_done(spool, entry, a->keep_days > 0, &error);
out:
	if (error != NULL)
		report(LOG_INFO, a->queue_id, "not recorded now, left for "
		       "the recorder: %s", error);
	if (store != NULL)
		bav_store_close(&store);
	bav_emm_close(&emm);
	free(oerr);
	bav_pool_free(&pool);
}

int cmd_deliver(int argc, char **argv)
{
	struct deliver_cfg cfg;
	struct deliver_args a = { NULL, "", 7 };
	struct bav_spool *spool = NULL;
	unsigned char *msg = NULL;
	struct deliver_result res;
	char *oerr = NULL;
	size_t len = 0;
	int ret, r;

	signal(SIGXFSZ, SIG_IGN);	/* a file size limit is a write error */
	signal(SIGPIPE, SIG_IGN);
	openlog("bav/deliver", LOG_PID, cmd_config_facility());
	deliver_cfg_init(&cfg, argc);
	/* main.cf: deliver_store, spool_keep_days (options override) */
	cfg.store_uri = cmd_config_str("deliver_store");
	a.keep_days = (int)bav_config_get_number(cmd_config(),
						 "spool_keep_days");
	if ((ret = parse_args(&cfg, &a, argc, argv)) != 0)
		goto out;
	if (deliver_cfg_load(&cfg, "deliver") < 0) {
		ret = CMD_EX_CONFIG;
		goto out;
	}
	r = read_stdin(cfg.max_size, &msg, &len);
	if (r == -2) {
		report(LOG_NOTICE, a.queue_id, "from=<%s>: message larger "
		       "than %zu bytes, returned", a.sender, cfg.max_size);
		ret = CMD_EX_DATAERR;
		goto out;
	}
	if (r < 0) {
		report(LOG_ERR, a.queue_id, "read standard input: %s",
		       strerror(errno));
		ret = CMD_EX_TEMPFAIL;
		goto out;
	}
	if (len == 0) {
		report(LOG_NOTICE, a.queue_id, "from=<%s>: empty message",
		       a.sender);
		ret = CMD_EX_DATAERR;
		goto out;
	}
	if (bav_spool_open(cfg.spool_dir, true, &spool, &oerr) != BAV_OK) {
		report(LOG_ERR, a.queue_id, "%s", oerr);
		ret = CMD_EX_TEMPFAIL;
		goto out;
	}
	if (deliver_message(&cfg, spool, a.sender,
			    (const char *const *)argv + optind,
			    (unsigned int)(argc - optind), a.queue_id,
			    msg, len, &res) != BAV_OK) {
		report(LOG_ERR, a.queue_id, "%s", res.error);
		ret = CMD_EX_TEMPFAIL;
		goto out;
	}
	report(LOG_INFO, a.queue_id, "from=<%s>, to=<%s>%s, size=%zu, "
	       "kind=%s, spooled=%s%s%s%s", a.sender, argv[optind],
	       argc - optind > 1 ? " (and more)" : "", len, res.kind,
	       res.name, res.fwd[0] != '\0' ? ", forwarded to <" : "",
	       res.fwd, res.fwd[0] != '\0' ? ">" : "");
	if (cfg.store_uri != NULL)
		record_now(&cfg, spool, res.name, res.fwd, &a);
	ret = CMD_EX_OK;
out:
	bav_spool_close(&spool);
	free(oerr);
	free(msg);
	deliver_cfg_free(&cfg);
	closelog();
	return ret;
}
