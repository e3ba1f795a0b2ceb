/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	config_secret - the secrets file, secret key files and pid files
 * SYNOPSIS
 *	#include "bav_config.h"
 *
 *	int bav_secret_file_read(const char *path, bool strict,
 *				 char **secret_r, char *errbuf, size_t size)
 *	int bav_config_secret(struct bav_config *config, const char *name,
 *			      const char **value_r, const char **error_r)
 *	int bav_pidfile_write(const char *path, pid_t pid, char *errbuf,
 *			      size_t size)
 * DESCRIPTION
 *	One rule for every secret bav reads. The secrets file of main.cf
 *	(secrets_file, default $config_directory/secrets) holds
 *	"name = value" lines (verp_secret, agnuid_secret, ...; "#" comments
 *	and empty lines are ignored); it must be a regular file owned by
 *	root or the running user with no group or other permission bits
 *	(0600 or 0400), else it is refused. A key file named on a command
 *	line (--verp-secret-file, --agnuid-secret-file, bav verp
 *	--secret-file) holds the key on its first line; trailing white
 *	space (and the line end) is not part of it, and an empty key is an
 *	error. Both are at most 64 KiB. Only the secrets file is checked
 *	strictly: a key file on the command line is the operator's choice.
 *
 *	bav_pidfile_write() writes "PID\n" and reports every failure
 *	(open, write, close) instead of ignoring it.
 *
 *	Ownership: bav_secret_file_read() returns a malloc'ed key (the
 *	caller frees); bav_config_secret() returns a value owned by the
 *	config and allocates from it, so call it before threads share the
 *	config.
 * DIAGNOSTICS
 *	0 (or 1 for a found secret), else BAV_ECONFIG (refused mode or
 *	owner, bad line, empty key) or BAV_ETEMP (an I/O error), with
 *	"path: why" or "path:line: why". Never exits, never prints.
 * SEE ALSO
 *	bav-main.cf(5), config.c
 */
#include "bav_private.h"
#include "bav_config.h"
#include "config_private.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SECRET_FILE (64 * 1024)

int config_read_file(const char *path, bool strict, size_t max,
		     char **text_r, size_t *len_r, char *errbuf,
		     size_t errbuf_size)
{
	struct stat st;
	char *text;
	size_t len = 0;
	int fd;

	*text_r = NULL;
	*len_r = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(errbuf, errbuf_size, "%s: %s", path, strerror(errno));
		return errno == EACCES || errno == ELOOP ? BAV_ECONFIG :
			BAV_ETEMP;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(errbuf, errbuf_size, "%s: %s", path, strerror(errno));
		close(fd);
		return BAV_ETEMP;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(errbuf, errbuf_size, "%s: not a regular file", path);
		close(fd);
		return BAV_ECONFIG;
	}
	if (strict && st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(errbuf, errbuf_size, "%s: refused: owned by uid %u, "
			 "not by root or the running user (uid %u)", path,
			 (unsigned int)st.st_uid, (unsigned int)geteuid());
		close(fd);
		return BAV_ECONFIG;
	}
	if (strict && (st.st_mode & 077) != 0) {
		snprintf(errbuf, errbuf_size, "%s: refused: mode %04o gives "
			 "group or others access (chmod 600)", path,
			 (unsigned int)(st.st_mode & 07777));
		close(fd);
		return BAV_ECONFIG;
	}
	if ((unsigned long long)st.st_size > max) {
		snprintf(errbuf, errbuf_size, "%s: larger than %zu bytes",
			 path, max);
		close(fd);
		return BAV_ECONFIG;
	}
	/* @UNSAFE: st_size <= max, plus the NUL; a file growing meanwhile
	   is cut at st_size */
	text = bav_xcalloc(1, (size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, text + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(errbuf, errbuf_size, "%s: %s", path,
				 strerror(errno));
			free(text);
			close(fd);
			return BAV_ETEMP;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	text[len] = '\0';
	*text_r = text;
	*len_r = len;
	return 0;
}

int bav_secret_file_read(const char *path, bool strict, char **secret_r,
			 char *errbuf, size_t errbuf_size)
{
	char *text;
	size_t len, n;
	int ret;

	*secret_r = NULL;
	ret = config_read_file(path, strict, MAX_SECRET_FILE, &text, &len,
			       errbuf, errbuf_size);
	if (ret == 0 && text == NULL) {
		snprintf(errbuf, errbuf_size, "%s: %s", path, strerror(ENOENT));
		return BAV_ECONFIG;
	}
	if (ret < 0)
		return ret;
	n = strcspn(text, "\r\n");	/* stops at a NUL byte too */
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	text[n] = '\0';
	if (n == 0) {
		snprintf(errbuf, errbuf_size, "%s: empty key", path);
		free(text);
		return BAV_ECONFIG;
	}
	*secret_r = text;
	return 0;
}

/* One "name = value" line of the secrets file: 1 and *value_r when it
   sets name, 0 when it sets another, -1 when malformed. */
static int secret_line(char *line, const char *name, const char **value_r)
{
	char *p = line, *end;
	size_t nlen;

	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	nlen = (size_t)(p - line);
	p += strspn(p, " \t");
	if (nlen == 0 || *p != '=')
		return -1;
	p++;
	p += strspn(p, " \t");
	end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	if (strlen(name) != nlen || strncmp(line, name, nlen) != 0)
		return 0;
	*value_r = p;
	return 1;
}

int bav_config_secret(struct bav_config *config, const char *name,
		      const char **value_r, const char **error_r)
{
	const char *path = bav_config_get(config, "secrets_file");
	struct bav_pool *pool = config_pool(config);
	char errbuf[512], *text, *line, *next;
	const char *found = NULL;
	unsigned int lineno = 0;
	size_t len;
	int ret;

	*value_r = NULL;
	if (path == NULL || path[0] == '\0')
		return 0;
	ret = config_read_file(path, true, MAX_SECRET_FILE, &text, &len,
			       errbuf, sizeof(errbuf));
	if (ret < 0) {
		*error_r = bav_pool_strdup(pool, errbuf);
		return ret;
	}
	if (text == NULL)
		return 0;
	if (memchr(text, '\0', len) != NULL) {
		*error_r = bav_pool_printf(pool, "%s: NUL byte", path);
		free(text);
		return BAV_ECONFIG;
	}
	for (line = text; line != NULL; line = next) {
		const char *v = NULL;
		size_t skip;

		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		skip = strspn(line, " \t\r");
		if (line[skip] == '\0' || line[skip] == '#')
			continue;
		ret = secret_line(line, name, &v);
		if (ret < 0) {
			*error_r = bav_pool_printf(pool, "%s:%u: expected "
						   "name = value", path, lineno);
			free(text);
			return BAV_ECONFIG;
		}
		if (ret > 0)
			found = v;	/* the last one wins */
	}
	if (found != NULL && found[0] == '\0') {
		*error_r = bav_pool_printf(pool, "%s: %s is empty", path, name);
		free(text);
		return BAV_ECONFIG;
	}
	if (found != NULL)
		*value_r = bav_pool_strdup(pool, found);
	free(text);
	return found != NULL ? 1 : 0;
}

int bav_pidfile_write(const char *path, pid_t pid, char *errbuf,
		      size_t errbuf_size)
{
	char line[32];
	int fd, n;

	n = snprintf(line, sizeof(line), "%ld\n", (long)pid);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0644);
	if (fd < 0) {
		snprintf(errbuf, errbuf_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (write(fd, line, (size_t)n) != (ssize_t)n) {
		snprintf(errbuf, errbuf_size, "%s: write: %s", path,
			 errno != 0 ? strerror(errno) : "short write");
		close(fd);
		return -1;
	}
	if (close(fd) < 0) {
		snprintf(errbuf, errbuf_size, "%s: close: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}
