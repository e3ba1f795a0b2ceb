/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cmd_classify - the "bav classify" subcommand
 * SYNOPSIS
 *	bav classify [--json|--tsv|--list] [--rules FILE]... [--no-default-rules]
 *		[--rid RID] [--header NAME]... [--agnuid-secret-file FILE]
 *		[--agnuid-licence ID] [--max-size BYTES] PATH...|-
 *
 *	int cmd_classify(int argc, char **argv)
 * DESCRIPTION
 *	Loads the rules once, then classifies every message found in the
 *	PATHs (see input.c) with a fresh pool per message and prints one
 *	JSON object per message (default), or the per-recipient TSV lines
 *	(--tsv), or, without classifying, "NAME<TAB>IDX" per message found
 *	(--list, to test the input walker). Nothing is set up per message
 *	apart from the pool, so one run per message stays cheap.
 *
 *	Without --rules the rule files are those of main.cf's rules_files
 *	(comma or space separated), and default_rules = no there acts as
 *	--no-default-rules; --rules replaces rules_files.
 *
 *	When stderr is a terminal and more than 50 messages have been
 *	processed, a "\r" progress counter is shown, at most ten times a
 *	second.
 * DIAGNOSTICS
 *	"bav: NAME: why" on stderr for every message that fails (NAME[IDX]
 *	for mbox members) and for every input that can't be read; rule
 *	errors as "bav: file:line: why". Exit status: 0 all messages
 *	classified; 1 some message failed; 64 usage; 66 some input could
 *	not be opened or read (the others are still processed; 66 wins
 *	over 1); 74 write error on stdout; 78 broken rule or secret file.
 * SEE ALSO
 *	bav(1), input.c, output.c
 */
#include "cmd.h"
#include "cmd_config.h"

#include <errno.h>
#include <getopt.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum format { FMT_JSON, FMT_TSV, FMT_LIST };

/*
 * Legacy charsets common in returned mail. In a long run their iconv(3)
 * converters are kept open, so their modules stay loaded: glibc unloads
 * an unused converter module once a few others were released, and loads
 * it again for the next message that needs it. One-message runs never
 * open them.
 */
static const char *const kept_charsets[] = {
	"ISO-2022-JP", "SHIFT_JIS", "EUC-JP", "WINDOWS-1252",
	"WINDOWS-1251", "ISO-8859-2", "ISO-8859-15", "KOI8-R", "GBK",
	"BIG5", "EUC-KR", "UTF-7", "UTF-16",
};
#define KEPT_CHARSETS (sizeof(kept_charsets) / sizeof(kept_charsets[0]))
#define KEEP_AFTER 16	/* messages into a run */

struct classify_ctx {
	enum format format;
	struct bav_classify_opts opts;
	struct bav_limits limits;
	size_t max_size;
	const char **rule_paths, **headers;
	char *config_rules;	/* rules_files of main.cf, split in place */
	size_t nrules, nheaders;
	unsigned long limit_hits;	/* bav_rules_limit_hits() seen */
	bool no_default;
	char *secret;
	unsigned int tsv_idx;
	unsigned long nmsgs, nfailed;
	bool noinput;
	iconv_t kept[KEPT_CHARSETS];	/* see keep_converters() */
	bool kept_open;
	/* progress */
	bool tty, progress_shown;
	struct timespec start, last;
};

enum {
	OPT_NO_DEFAULT = 256, OPT_RID, OPT_SECRET, OPT_LICENCE, OPT_MAX_SIZE,
	OPT_LIST,
};

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "tsv", no_argument, NULL, 't' },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "rules", required_argument, NULL, 'r' },
	{ "no-default-rules", no_argument, NULL, OPT_NO_DEFAULT },
	{ "rid", required_argument, NULL, OPT_RID },
	{ "header", required_argument, NULL, 'H' },
	{ "agnuid-secret-file", required_argument, NULL, OPT_SECRET },
	{ "agnuid-licence", required_argument, NULL, OPT_LICENCE },
	{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static double elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
		(double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void progress(struct classify_ctx *c, bool final)
{
	struct timespec now;
	double t;

	if (!c->tty || c->nmsgs <= 50)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!final && c->progress_shown && elapsed(&c->last, &now) < 0.1)
		return;
	c->last = now;
	t = elapsed(&c->start, &now);
	fprintf(stderr, "\rbav: %lu messages, %.0f msgs/s  ", c->nmsgs,
		t > 0 ? (double)c->nmsgs / t : 0.0);
	if (final)
		fputc('\n', stderr);
	c->progress_shown = !final;
}

/* Print an error line, first ending a progress line on the terminal. */
static void msg_error(struct classify_ctx *c, const char *name,
		      const struct input_msg *msg, const char *why)
{
	if (c->progress_shown) {
		fputc('\n', stderr);
		c->progress_shown = false;
	}
	if (msg != NULL && msg->in_mbox)
		fprintf(stderr, "bav: %s[%u]: %s\n", name, msg->idx, why);
	else
		fprintf(stderr, "bav: %s: %s\n", name, why);
}

static void keep_converters(struct classify_ctx *c, bool keep)
{
	size_t i;

	if (c->kept_open == keep)
		return;
	for (i = 0; i < KEPT_CHARSETS; i++) {
		if (keep)
			c->kept[i] = iconv_open("UTF-8//IGNORE",
						kept_charsets[i]);
		else if (c->kept[i] != (iconv_t)-1)
			iconv_close(c->kept[i]);
	}
	c->kept_open = keep;
}

static void classify_one(struct classify_ctx *c, const struct input_msg *msg)
{
	struct bav_pool *pool;
	struct bav_verdict *v = NULL;
	const char *error = NULL;

	if (msg->idx == 0)
		c->tsv_idx = 0;
	if (++c->nmsgs == KEEP_AFTER && c->format != FMT_LIST)
		keep_converters(c, true);
	if (c->format == FMT_LIST) {
		printf("%s\t%u\n", msg->name, msg->idx);
		return;
	}
	pool = bav_pool_new(16384 + msg->len / 2);
	if (bav_classify(msg->data, msg->len, &c->opts, pool, &v,
			 &error) != BAV_OK || v == NULL) {
		msg_error(c, msg->name, msg,
			  error != NULL ? error : "classification failed");
		c->nfailed++;
	} else if (c->format == FMT_TSV) {
		output_tsv(stdout, msg, v, &c->tsv_idx);
	} else {
		output_json(stdout, msg, v);
	}
	bav_pool_free(&pool);
	progress(c, false);
}

/* A rule hit a PCRE2 limit on this message (counted as no match): say
   so, the verdict may differ from what the rule meant. */
static void limit_warning(struct classify_ctx *c, const char *name)
{
	const char *rule;
	unsigned long n = bav_rules_limit_hits(c->opts.rules, &rule);

	if (n > c->limit_hits)
		fprintf(stderr, "bav: %s: rule %s hit the PCRE2 match limit "
			"(no match)\n", name, rule != NULL ? rule : "?");
	c->limit_hits = n;
}

static void classify_path(struct classify_ctx *c, const char *path)
{
	struct input *in;
	struct input_msg msg;
	const char *name = path, *error = NULL;
	int ret;

	in = input_open(path, c->max_size, &error);
	if (in == NULL) {
		msg_error(c, path, NULL, error);
		c->noinput = true;
		return;
	}
	while ((ret = input_next(in, &msg, &name, &error)) != 0) {
		if (ret < 0) {
			msg_error(c, name, NULL, error);
			if (ret == -2)
				c->nfailed++;
			else
				c->noinput = true;
			continue;
		}
		classify_one(c, &msg);
		limit_warning(c, name);
	}
	input_close(&in);
}

/* Read the agnUID key: the rule of bav_secret_file_read() (the first
   line without trailing white space, not empty). */
static char *read_secret(const char *path)
{
	char errbuf[512], *secret = NULL;

	if (bav_secret_file_read(path, false, &secret, errbuf,
				 sizeof(errbuf)) < 0) {
		fprintf(stderr, "bav: %s\n", errbuf);
		return NULL;
	}
	return secret;
}

static int classify_usage(void)
{
	cmd_usage(stderr);
	return CMD_EX_USAGE;
}

static int load_rules(const char **paths, size_t n, bool no_default,
		      struct bav_rules **rules_r)
{
	char *error = NULL;

	*rules_r = NULL;
	if (n == 0 && !no_default)
		return 0;	/* NULL rules: the built-in defaults */
	if (bav_rules_load(paths, n, !no_default, rules_r, &error) != BAV_OK) {
		fprintf(stderr, "bav: %s\n",
			error != NULL ? error : "cannot load rules");
		free(error);
		return -1;
	}
	return 0;
}

/* Without --rules: rules_files (and default_rules) of main.cf. The
   words go into rule_paths, which parse_args() made argc + 1 long, so
   a second array sized for the words is used. */
static void config_rules(struct classify_ctx *c)
{
	const char *v = cmd_config_str("rules_files");
	char *save = NULL, *tok;

	if (c->nrules > 0)
		return;
	if (bav_config_get_number(cmd_config(), "default_rules") == 0)
		c->no_default = true;
	if (v == NULL)
		return;
	free(c->rule_paths);
	/* @UNSAFE: at most one word per two bytes of v */
	c->rule_paths = calloc(strlen(v) / 2 + 2, sizeof(*c->rule_paths));
	if (c->rule_paths == NULL || (c->config_rules = strdup(v)) == NULL)
		abort();
	for (tok = strtok_r(c->config_rules, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save))
		c->rule_paths[c->nrules++] = tok;
}

/* Parse the options into c; returns 0, an exit status, or -1 for --help. */
static int parse_args(struct classify_ctx *c, int argc, char **argv)
{
	int opt;

	/* @UNSAFE: at most argc option arguments of each kind */
	c->rule_paths = calloc((size_t)argc + 1, sizeof(*c->rule_paths));
	c->headers = calloc((size_t)argc + 1, sizeof(*c->headers));
	if (c->rule_paths == NULL || c->headers == NULL)
		abort();
	optind = 1;
	while ((opt = getopt_long(argc, argv, "jtr:H:h", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'j': c->format = FMT_JSON; break;
		case 't': c->format = FMT_TSV; break;
		case OPT_LIST: c->format = FMT_LIST; break;
		case 'r': c->rule_paths[c->nrules++] = optarg; break;
		case OPT_NO_DEFAULT: c->no_default = true; break;
		case OPT_RID: c->opts.rid = optarg; break;
		case 'H': c->headers[c->nheaders++] = optarg; break;
		case OPT_SECRET:
			free(c->secret);
			if ((c->secret = read_secret(optarg)) == NULL)
				return CMD_EX_CONFIG;
			break;
		case OPT_LICENCE:
			c->opts.agnuid_licence = strtoll(optarg, NULL, 10);
			break;
		case OPT_MAX_SIZE:
			if ((c->max_size = cmd_parse_size(optarg, (size_t)-1 / 2)) == 0) {
				fprintf(stderr, "bav: bad --max-size: %s\n",
					optarg);
				return classify_usage();
			}
			c->limits.max_message_size = c->max_size;
			break;
		case 'h':
			cmd_usage(stdout);
			return -1;
		default:
			return classify_usage();
		}
	}
	if (optind >= argc)
		return classify_usage();
	return 0;
}

int cmd_classify(int argc, char **argv)
{
	struct classify_ctx c;
	struct bav_rules *rules = NULL;
	int ret, i;

	memset(&c, 0, sizeof(c));
	bav_limits_default(&c.limits);
	ret = parse_args(&c, argc, argv);
	if (ret == 0 && c.format != FMT_LIST)
		config_rules(&c);
	if (ret == 0 && c.format != FMT_LIST &&
	    load_rules(c.rule_paths, c.nrules, c.no_default, &rules) < 0)
		ret = CMD_EX_CONFIG;
	if (ret == 0 && c.secret == NULL) {	/* agnuid_secret of main.cf */
		bool bad = false;
		const char *v = cmd_config_secret("agnuid_secret", "classify",
						  &bad);

		if (bad)
			ret = CMD_EX_CONFIG;
		else if (v != NULL && (c.secret = strdup(v)) == NULL)
			abort();
	}
	if (ret != 0)
		goto out;

	c.opts.rules = rules;
	c.opts.limits = &c.limits;
	c.opts.agnuid_secret = c.secret;
	c.opts.ident_headers = c.headers;
	c.opts.ident_header_count = (unsigned int)c.nheaders;
	c.tty = isatty(STDERR_FILENO) == 1;
	if (c.tty)
		clock_gettime(CLOCK_MONOTONIC, &c.start);

	for (i = optind; i < argc; i++)
		classify_path(&c, argv[i]);
	progress(&c, true);

	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "bav: write error: %s\n", strerror(errno));
		ret = CMD_EX_IOERR;
	} else if (c.noinput) {
		ret = CMD_EX_NOINPUT;
	} else if (c.nfailed > 0) {
		ret = CMD_EX_FAIL;
	}
out:
	keep_converters(&c, false);
	if (rules != NULL)
		bav_rules_free(&rules);
	free(c.secret);
	free(c.rule_paths);
	free(c.config_rules);
	free(c.headers);
	return ret < 0 ? CMD_EX_OK : ret;
}
