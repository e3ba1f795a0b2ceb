/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	forward - forward human replies to the filter's feedback address
 * SYNOPSIS
 *	#include "deliver.h"
 *
 *	bool deliver_header(const unsigned char *msg, size_t len,
 *			    const char *name, char *buf, size_t size)
 *	int deliver_sendmail(const char *sendmail, const char *from,
 *			     const char *to, const char *prefix,
 *			     const unsigned char *msg, size_t len,
 *			     char *error, size_t error_size)
 *	int deliver_forward(const struct deliver_cfg *cfg,
 *			    enum bav_kind kind, const char *rcpt,
 *			    const unsigned char *msg, size_t len,
 *			    char *fwd, size_t fwd_size,
 *			    char *error, size_t error_size)
 * DESCRIPTION
 *	Only a message classified as a reply (a person wrote it: never a
 *	bounce, delay, auto-reply, feedback report, unsubscribe request or
 *	system mail) is forwarded, and only when a forward address is known:
 *	the fwd= parameter of the message's X-AGNMailloop header (which
 *	bav-milter writes from the address table), else cfg->forward.
 *
 *	The message goes unchanged (its X-AGNLoop header kept; "X-AGNLoop:
 *	set" put in front when it has none, so a forward that comes back is
 *	refused by bav-milter as a loop) to cfg->sendmail, started with
 *	posix_spawn() and no shell:
 *	  sendmail -i -N never -f RCPT -- FWD
 *	DSN NEVER: a failed forward never bounces back to the mailloop.
 *	The envelope sender is the mailloop address the reply came to.
 * DIAGNOSTICS
 *	0: forwarded (fwd holds the address) or nothing to do (fwd ""); -1:
 *	sendmail could not be started or did not exit 0 (error says why; the
 *	caller defers the message so the forward is tried again).
 * SEE ALSO
 *	sendmail(1), bav-deliver(8), bav-milter(8)
 */
#include "deliver.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The header block of msg (up to the empty line). */
static size_t header_len(const unsigned char *msg, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (msg[i] == '\n' && (msg[i + 1] == '\n' ||
		    (msg[i + 1] == '\r' && i + 2 < len && msg[i + 2] == '\n')))
			return i + 1;
	}
	return len;
}

/* Value of the first header field NAME (unfolded into buf, at most
   size-1 bytes); false when absent. */
bool deliver_header(const unsigned char *msg, size_t len, const char *name,
		    char *buf, size_t size)
{
	size_t nl = strlen(name), i = 0, o = 0, hlen = header_len(msg, len);

	while (i < hlen) {
		if ((i == 0 || msg[i - 1] == '\n') && i + nl < hlen &&
		    strncasecmp((const char *)msg + i, name, nl) == 0 &&
		    msg[i + nl] == ':') {
			i += nl + 1;
			while (i < hlen && o + 1 < size) {
				if (msg[i] == '\r' && i + 1 < hlen &&
				    msg[i + 1] != '\n') {
					/* a bare CR ends no line: a blank, so
					   "a\rBcc:b" stays two words */
					buf[o++] = ' ';
					i++;
					continue;
				}
				if (msg[i] == '\r' || msg[i] == '\n') {
					if (msg[i] == '\n' &&
					    (i + 1 >= hlen || (msg[i + 1] != ' ' &&
					     msg[i + 1] != '\t')))
						break;
					i++;
					continue;
				}
				buf[o++] = (char)msg[i++];
			}
			buf[o] = '\0';
			return true;
		}
		i++;
	}
	return false;
}

/* fwd=ADDRESS in an X-AGNMailloop value (comma-separated key=value). */
static bool mailloop_fwd(const char *value, char *fwd, size_t size)
{
	const char *p = value;

	while ((p = strstr(p, "fwd=")) != NULL) {
		if (p == value || p[-1] == ',' || p[-1] == ' ') {
			size_t n;

			p += 4;
			n = strcspn(p, ", \t;>");
			if (n == 0 || n >= size)
				return false;
			memcpy(fwd, p, n);
			fwd[n] = '\0';
			/* only a plain address: no option, no shell trouble,
			   no group, comment, quote or control character that
			   sendmail would read as more than one address */
			for (n = 0; fwd[n] != '\0'; n++)
				if ((unsigned char)fwd[n] <= ' ' ||
				    fwd[n] == 0x7f ||
				    strchr(":\"\\()[]<", fwd[n]) != NULL)
					return false;
			return fwd[0] != '-' && strchr(fwd, '@') != NULL;
		}
		p += 4;
	}
	return false;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t w;

	while (len > 0) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int deliver_sendmail(const char *sendmail, const char *from, const char *to,
		     const char *prefix, const unsigned char *msg, size_t len,
		     char *error, size_t error_size)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { (char *)sendmail, (char *)"-i", (char *)"-N",
			 (char *)"never", (char *)"-f", (char *)from,
			 (char *)"--", (char *)to, NULL };
	int pfd[2], status, err;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(error, error_size, "pipe: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[0], STDIN_FILENO);
	err = posix_spawn(&pid, sendmail, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[0]);
	if (err != 0) {
		close(pfd[1]);
		snprintf(error, error_size, "mail to <%s>: %s: %s", to,
			 sendmail, strerror(err));
		return -1;
	}
	err = (prefix != NULL && write_all(pfd[1], prefix, strlen(prefix)) < 0)
		|| write_all(pfd[1], msg, len) < 0 ? errno : 0;
	close(pfd[1]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			snprintf(error, error_size, "waitpid: %s",
				 strerror(errno));
			return -1;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(error, error_size, "mail to <%s>: %s %s %d", to,
			 sendmail, WIFEXITED(status) ? "exited" :
			 "killed by signal", WIFEXITED(status) ?
			 WEXITSTATUS(status) : WTERMSIG(status));
		return -1;
	}
	if (err != 0) {
		snprintf(error, error_size, "mail to <%s>: write: %s", to,
			 strerror(err));
		return -1;
	}
	return 0;
}

int deliver_forward(const struct deliver_cfg *cfg, enum bav_kind kind,
		    const char *rcpt, const unsigned char *msg, size_t len,
		    char *fwd, size_t fwd_size, char *error, size_t error_size)
{
	char value[2048];
	bool have_loop;

	fwd[0] = '\0';
	if (kind != BAV_KIND_REPLY || cfg->sendmail == NULL)
		return 0;
	if (!(deliver_header(msg, len, "X-AGNMailloop", value, sizeof(value)) &&
	      mailloop_fwd(value, fwd, fwd_size))) {
		if (cfg->forward == NULL)
			return 0;
		snprintf(fwd, fwd_size, "%s", cfg->forward);
	}
	have_loop = deliver_header(msg, len, "X-AGNLoop", value, sizeof(value));
	if (deliver_sendmail(cfg->sendmail, rcpt, fwd,
			     have_loop ? NULL : "X-AGNLoop: set\n", msg, len,
			     error, error_size) < 0) {
		char tmp[512];

		snprintf(tmp, sizeof(tmp), "%s", error);
		snprintf(error, error_size, "forward: %s", tmp);
		return -1;
	}
	return 0;
}
