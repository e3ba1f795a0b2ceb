/* SPDX-License-Identifier: MIT */
/*
 * cmd.h - shared declarations of the bav command
 *
 * The bav command is a thin shell around libbav's public interface
 * (bav.h): bav.c dispatches subcommands, input.c walks files, Maildirs,
 * mboxes and directories, output.c prints verdicts as JSON Lines or TSV.
 * Only main() and the cmd_*() entry points decide exit codes.
 */
#ifndef BAV_CMD_H
#define BAV_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bav.h"

/* sysexits(3) values used by the command */
#define CMD_EX_OK	0
#define CMD_EX_FAIL	1	/* some message could not be classified */
#define CMD_EX_USAGE	64
#define CMD_EX_NOINPUT	66
#define CMD_EX_IOERR	74
#define CMD_EX_TEMPFAIL	75
#define CMD_EX_SOFTWARE	70
#define CMD_EX_CONFIG	78

/* ---- subcommands (bav.c dispatches, each returns an exit status) ---- */

/* bav classify [options] PATH...|- */
int cmd_classify(int argc, char **argv);
/* bav rules check FILE... */
int cmd_rules(int argc, char **argv);
/* bav score [options] (cmd_score.c) */
int cmd_score(int argc, char **argv);
/* bav report [options] (cmd_report.c) */
int cmd_report(int argc, char **argv);
/* bav check CHECK [options]: monitoring plugin (cmd_check.c) */
int cmd_check(int argc, char **argv);
/* Print the usage text to fp. */
void cmd_usage(FILE *fp);

/* ---- input.c: message iterator ------------------------------------- */

/* One message. name is the path of the file it came from (the mbox path
   for mbox members, "-" for stdin); idx counts messages within that file
   from 0 (always 0 for a single-message file); in_mbox tells whether the
   message is an mbox member. data/len stay valid until the next
   input_next() or input_close(). */
struct input_msg {
	const char *name;
	unsigned int idx;
	bool in_mbox;
	const unsigned char *data;
	size_t len;
};

struct input;

/* Open PATH ("-" = standard input): a message file, an mbox, a Maildir
   (cur/ and new/) or a directory tree (walked recursively, sorted,
   dotfiles skipped). Files larger than max_size (0 = no limit) that are
   not mboxes are reported as errors instead of read. Returns NULL with
   a static/strerror text in *error_r when PATH can't be opened. */
struct input *input_open(const char *path, size_t max_size,
			 const char **error_r);
/* Next message: 1 and *msg_r filled; 0 at the end; -1 when one file
   could not be read, -2 when it is larger than max_size (*name_r and
   *error_r say which and why; the iterator can still be advanced). */
int input_next(struct input *in, struct input_msg *msg_r,
	       const char **name_r, const char **error_r);
/* Free everything, set *in to NULL. */
void input_close(struct input **in);
/* BYTES with an optional k, m or g suffix (binary); 0 on error or when
   larger than max. */
size_t cmd_parse_size(const char *s, size_t max);

/* ---- output.c: verdict printers ----------------------------------- */

/* Append s as a JSON string (with quotes) to fp: ", \ and control
   characters escaped (\n \t \r \b \f, others \u00XX), invalid UTF-8
   bytes replaced by \ufffd. NULL prints null. */
void output_json_string(FILE *fp, const char *s);
/* One JSON object (one line) for a verdict. */
void output_json(FILE *fp, const struct input_msg *msg,
		 const struct bav_verdict *v);
/* One TSV line per result: basename(file) idx status replycode reason
   hard feedback_type recipient. *idx is the running result counter of
   the file and is advanced by result_count. */
void output_tsv(FILE *fp, const struct input_msg *msg,
		const struct bav_verdict *v, unsigned int *idx);

#endif
