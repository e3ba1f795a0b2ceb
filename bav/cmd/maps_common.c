/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	maps_common - the string lists, bav.conf option text and file
 *	writing of "bav maps" and "bav maps --emm"
 * SYNOPSIS
 *	#include "maps_common.h"
 *	#include "cmd_emm.h"
 *
 *	void maps_list_add(struct maps_list *l, const char *s)
 *	void maps_list_addf(struct maps_list *l, const char *fmt, ...)
 *	ssize_t maps_list_find(const struct maps_list *l, const char *s)
 *	void maps_list_add_once(struct maps_list *l, const char *s)
 *	void maps_list_free(struct maps_list *l)
 *	void maps_list_sort(struct maps_list *l)
 *	char *maps_list_join(const struct maps_list *l)
 *	void maps_opt(char *buf, size_t size, const char *name,
 *		      const char *value)
 *	bool maps_aml_or_reply(const char *a)
 *	bool maps_output_option(struct maps_output *o, int c,
 *				const char *arg)
 *	int cmd_maps_write_file(const char *path, const char *text,
 *				const char *map_type, const char *postmap,
 *				bool dry_run)
 * DESCRIPTION
 *	Used by cmd_maps.c (bav_mailloop) and cmd_maps_emm.c (OpenEMM's
 *	tables). A maps_list owns its strings; maps_list_join() returns a
 *	malloc'ed string the caller frees. cmd_maps_write_file() writes a
 *	file only when its content changed: to FILE.tmp.PID, fsync'ed,
 *	renamed over FILE; then "postmap TYPE:FILE" (posix_spawn, no
 *	shell) when map_type is set and the file changed or its map file
 *	(.db, .cdb, .lmdb) is missing; with dry_run the text goes to
 *	stdout instead. Part of the bav command, not of libbav: it prints
 *	and aborts when out of memory.
 * DIAGNOSTICS
 *	cmd_maps_write_file(): "bav maps: ..." on stderr; returns 0, 73
 *	(the file can't be written) or 1 (postmap failed).
 * SEE ALSO
 *	cmd_maps.c, cmd_maps_emm.c, postmap(1)
 */
#include "config.h"
#include "cmd.h"
#include "cmd_emm.h"
#include "maps_common.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define CMD_EX_CANTCREAT 73

void maps_list_add(struct maps_list *l, const char *s)
{
	if (l->n == l->alloc) {
		l->alloc = l->alloc != 0 ? l->alloc * 2 : 32;
		l->v = realloc(l->v, l->alloc * sizeof(*l->v)); /* @UNSAFE */
		if (l->v == NULL)
			abort();
	}
	if ((l->v[l->n++] = strdup(s)) == NULL)
		abort();
}

void maps_list_addf(struct maps_list *l, const char *fmt, ...)
{
	char line[4800];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	maps_list_add(l, line);
}

ssize_t maps_list_find(const struct maps_list *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return (ssize_t)i;
	return -1;
}

void maps_list_add_once(struct maps_list *l, const char *s)
{
	if (maps_list_find(l, s) < 0)
		maps_list_add(l, s);
}

void maps_list_free(struct maps_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void maps_list_sort(struct maps_list *l)
{
	if (l->n > 0)
		qsort(l->v, l->n, sizeof(char *), cmp_str);
}

char *maps_list_join(const struct maps_list *l)
{
	size_t len = 1, pos = 0, n, i;
	char *s;

	for (i = 0; i < l->n; i++)
		len += strlen(l->v[i]) + 1;	/* @UNSAFE: counted here */
	if ((s = malloc(len)) == NULL)
		abort();
	for (i = 0; i < l->n; i++) {
		n = strlen(l->v[i]);
		memcpy(s + pos, l->v[i], n);
		s[pos + n] = '\n';
		pos += n + 1;
	}
	s[pos] = '\0';
	return s;
}

void maps_opt(char *buf, size_t size, const char *name, const char *value)
{
	size_t len = strlen(buf);
	const char *p;

	if (value == NULL || *value == '\0')
		return;
	len += (size_t)snprintf(buf + len, size - len, "%s%s=",
				len > 0 ? "," : "", name);
	for (p = value; *p != '\0' && len + 4 < size; p++) {
		if (*p == '%' || *p == ',')
			len += (size_t)snprintf(buf + len, size - len, "%%%02X",
						(unsigned char)*p);
		else
			buf[len++] = *p;
	}
	buf[len < size ? len : size - 1] = '\0';
}

bool maps_aml_or_reply(const char *a)
{
	const char *p = NULL;

	if (strncasecmp(a, "aml_", 4) == 0)
		p = a + 4;
	else if (strncasecmp(a, "reply_", 6) == 0)
		p = a + 6;
	if (p == NULL || !isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	return *p == '@';
}

bool maps_output_option(struct maps_output *o, int c, const char *arg)
{
	switch (c) {
	case MAPS_OPT_BAVCONF: o->bav_conf = arg; break;
	case MAPS_OPT_RELAY: o->relay = arg; break;
	case MAPS_OPT_TRANSPORT: o->transport = arg; break;
	case MAPS_OPT_TNAME: o->transport_name = arg; break;
	case MAPS_OPT_MAPTYPE: o->map_type = arg; break;
	case MAPS_OPT_POSTMAP: o->postmap = arg; break;
	case MAPS_OPT_DRY: o->dry_run = true; break;
	default: return false;
	}
	return true;
}

/* ---- writing -------------------------------------------------------------- */

static bool same_content(const char *path, const char *text)
{
	size_t len = strlen(text);
	char *buf;
	FILE *fp = fopen(path, "re");
	bool same;

	if (fp == NULL)
		return false;
	if ((buf = malloc(len + 2)) == NULL)
		abort();
	same = fread(buf, 1, len + 1, fp) == len && memcmp(buf, text, len) == 0;
	fclose(fp);
	free(buf);
	return same;
}

/* Write text to path atomically: 0 unchanged, 1 written, -1 error. */
static int write_atomic(const char *path, const char *text)
{
	char tmp[4096];
	size_t len = strlen(text);
	int fd;

	if (same_content(path, text))
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0 ||
	    close(fd) < 0 || rename(tmp, path) < 0) {
		fprintf(stderr, "bav maps: write %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return -1;
	}
	return 1;
}

static int run_postmap(const char *map_type, const char *postmap,
		       const char *path)
{
	char arg[4200];
	char *argv[] = { (char *)postmap, arg, NULL };
	pid_t pid;
	int status, err;

	snprintf(arg, sizeof(arg), "%s:%s", map_type, path);
	err = posix_spawn(&pid, postmap, NULL, NULL, argv, environ);
	if (err != 0) {
		fprintf(stderr, "bav maps: %s: %s\n", postmap, strerror(err));
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bav maps: postmap %s failed\n", arg);
		return -1;
	}
	return 0;
}

static bool map_missing(const char *map_type, const char *path)
{
	char db[4200];
	struct stat st;

	snprintf(db, sizeof(db), "%s.%s", path,
		 strcmp(map_type, "cdb") == 0 ? "cdb" :
		 strcmp(map_type, "lmdb") == 0 ? "lmdb" : "db");
	return stat(db, &st) < 0;
}

int cmd_maps_write_file(const char *path, const char *text,
			const char *map_type, const char *postmap,
			bool dry_run)
{
	int w;

	if (path == NULL)
		return 0;
	if (dry_run) {
		fputs(text, stdout);
		return 0;
	}
	if ((w = write_atomic(path, text)) < 0)
		return CMD_EX_CANTCREAT;
	if (map_type != NULL && (w == 1 || map_missing(map_type, path)) &&
	    run_postmap(map_type, postmap, path) < 0)
		return CMD_EX_FAIL;
	return 0;
}
