/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	input - message iterator of the bav command
 * SYNOPSIS
 *	struct input *input_open(const char *path, size_t max_size,
 *				 const char **error_r)
 *	int input_next(struct input *in, struct input_msg *msg_r,
 *		       const char **name_r, const char **error_r)
 *	void input_close(struct input **in)
 *	size_t cmd_parse_size(const char *s, size_t max)
 * DESCRIPTION
 *	input_open() accepts
 *	  - "-": standard input, one message, or an mbox when it starts
 *	    with "From ";
 *	  - a file: one message, or an mbox when it starts with "From ";
 *	  - a Maildir (a directory with cur/ and/or new/): every file of
 *	    cur/, then of new/, sorted by name; tmp/ is ignored;
 *	  - any other directory: walked recursively in byte order of the
 *	    names, dotfiles and dot-directories skipped; a Maildir met on
 *	    the way is read as above, files as above; FIFOs, sockets and
 *	    devices inside directories are skipped.
 *	An mbox is split at lines starting with "From " that begin the file
 *	or follow an empty line and contain a time (d:dd), so a stray
 *	"From " in an unescaped body does not split a message. The "From "
 *	line is dropped, as is the empty line before the next one, and
 *	">From " lines are un-escaped by one ">" (mboxrd, which also
 *	covers mboxo). A member is named after the mbox file, with idx
 *	counting from 0.
 *
 *	cmd_parse_size() reads the argument of a size option (--max-size):
 *	BYTES with an optional k, m or g suffix (binary).
 *
 *	Each file is read with one read() of the size fstat() reports (more
 *	only if that returns less) into a buffer that is reused for the next
 *	file. Message data belongs to
 *	the iterator and is valid until the next input_next() call.
 * DIAGNOSTICS
 *	input_open() returns NULL and a strerror() text when PATH can't be
 *	opened; input_next() returns -1 with the file name and reason when
 *	one file of a directory can't be read, -2 when a file is larger
 *	than max_size (a message error), and can be called again.
 *	cmd_parse_size() returns 0 for a malformed size or one above max.
 *	Memory exhaustion aborts (the command has no way to recover).
 * SEE ALSO
 *	mbox(5), maildir(5)
 */
#include "cmd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct entry {
	char *path;
	const char *error;	/* non-NULL: report instead of reading */
	bool too_large;		/* error is a message error, not a read error */
};

struct input {
	struct entry *files;
	size_t nfiles, files_alloc, next;
	size_t max_size;

	unsigned char *buf;
	size_t len, cap;
	const char *name;	/* current file */
	bool loaded;		/* buf holds a file not yet fully returned */
	bool mbox;
	size_t pos;		/* mbox: start of the next "From " line */
	unsigned int idx;
};

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size == 0 ? 1 : size);
	if (p == NULL)
		abort();
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

static char *path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *p;

	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	p = xrealloc(NULL, dl + nl + 2);	/* @UNSAFE: both lengths + '/' + NUL */
	memcpy(p, dir, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, name, nl + 1);
	return p;
}

static void add_entry(struct input *in, char *path, const char *error)
{
	if (in->nfiles == in->files_alloc) {
		in->files_alloc = in->files_alloc ? in->files_alloc * 2 : 16;
		in->files = xrealloc(in->files,
				     in->files_alloc * sizeof(*in->files));
	}
	in->files[in->nfiles].path = path;
	in->files[in->nfiles].error = error;
	in->nfiles++;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The entries of dir but dot files, sorted; on error an entry for dir
   with the reason and -1. */
static int scan_dir(struct input *in, const char *dir, struct dirent ***list_r)
{
	int n = scandir(dir, list_r, skip_dot, name_cmp);

	if (n < 0)
		add_entry(in, xstrdup(dir), strerror(errno));
	return n;
}

static void walk(struct input *in, const char *dir, unsigned int depth);

/* Files of one Maildir subdirectory (cur or new), sorted, no recursion. */
static void walk_maildir_sub(struct input *in, const char *dir)
{
	struct dirent **list;
	int n, i;

	if ((n = scan_dir(in, dir, &list)) < 0)
		return;
	for (i = 0; i < n; i++) {
		char *p = path_join(dir, list[i]->d_name);
		struct stat st;

		if (stat(p, &st) == 0 && !S_ISREG(st.st_mode))
			free(p);
		else
			add_entry(in, p, NULL);
		free(list[i]);
	}
	free(list);
}

static bool walk_maildir(struct input *in, const char *dir)
{
	char *cur = path_join(dir, "cur"), *new = path_join(dir, "new");
	bool has_cur = is_dir(cur), has_new = is_dir(new);

	if (has_cur)
		walk_maildir_sub(in, cur);
	if (has_new)
		walk_maildir_sub(in, new);
	free(cur);
	free(new);
	return has_cur || has_new;
}

static void walk(struct input *in, const char *dir, unsigned int depth)
{
	struct dirent **list;
	int n, i;

	if (walk_maildir(in, dir))
		return;
	if (depth > 64) {
		add_entry(in, xstrdup(dir), "directory tree too deep");
		return;
	}
	if ((n = scan_dir(in, dir, &list)) < 0)
		return;
	for (i = 0; i < n; i++) {
		char *p = path_join(dir, list[i]->d_name);
		struct stat st;

		/* do not follow symlinked directories (loops); skip
		   FIFOs, sockets and devices, which could block */
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			walk(in, p, depth + 1);
			free(p);
		} else if (stat(p, &st) == 0 && !S_ISREG(st.st_mode)) {
			free(p);
		} else {
			add_entry(in, p, NULL);	/* or report why not */
		}
		free(list[i]);
	}
	free(list);
}

/* Read fd to the end into in->buf; size_hint from fstat. */
static int read_all(struct input *in, int fd, size_t size_hint)
{
	ssize_t r;

	in->len = 0;
	if (in->cap < size_hint + 1) {
		in->cap = size_hint + 1;	/* @UNSAFE: st_size fits size_t */
		in->buf = xrealloc(in->buf, in->cap);
	}
	for (;;) {
		if (in->len == in->cap) {
			in->cap = in->cap < 65536 ? 65536 : in->cap * 2;
			in->buf = xrealloc(in->buf, in->cap);
		}
		r = read(fd, in->buf + in->len, in->cap - in->len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return 0;
		in->len += (size_t)r;
		if (size_hint > 0 && in->len == size_hint)
			return 0;	/* all fstat() announced: no EOF read */
	}
}

static bool starts_from(const unsigned char *p, size_t len)
{
	return len >= 5 && memcmp(p, "From ", 5) == 0;
}

static void set_loaded(struct input *in, const char *name)
{
	in->name = name;
	in->loaded = true;
	in->mbox = starts_from(in->buf, in->len);
	in->pos = 0;
	in->idx = 0;
}

/* Read the open file fd (st: its fstat) into in->buf; closes fd. */
static int load_fd(struct input *in, int fd, const struct stat *st,
		   const char **error_r)
{
	unsigned char head[5];
	int ret;

	if (S_ISDIR(st->st_mode)) {
		*error_r = strerror(EISDIR);
		close(fd);
		return -1;
	}
	if (in->max_size > 0 && S_ISREG(st->st_mode) &&
	    (size_t)st->st_size > in->max_size &&
	    !(pread(fd, head, 5, 0) == 5 && starts_from(head, 5))) {
		*error_r = "message larger than --max-size";
		close(fd);
		return -2;
	}
	ret = read_all(in, fd, S_ISREG(st->st_mode) ? (size_t)st->st_size : 0);
	if (ret < 0)
		*error_r = strerror(errno);
	close(fd);
	return ret;
}

static int load_file(struct input *in, const char *path, const char **error_r)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		*error_r = strerror(errno);
		close(fd);
		return -1;
	}
	return load_fd(in, fd, &st, error_r);
}

struct input *input_open(const char *path, size_t max_size,
			 const char **error_r)
{
	struct input *in;
	struct stat st;
	int fd;

	in = xrealloc(NULL, sizeof(*in));
	memset(in, 0, sizeof(*in));
	in->max_size = max_size;
	if (strcmp(path, "-") == 0) {
		if (read_all(in, STDIN_FILENO, 0) < 0) {
			*error_r = strerror(errno);
			input_close(&in);
			return NULL;
		}
		add_entry(in, xstrdup(path), NULL);
		in->next = 1;
		set_loaded(in, in->files[0].path);
		return in;
	}
	/* one open for a file; a directory is walked */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) < 0) {
		*error_r = strerror(errno);
		if (fd >= 0)
			close(fd);
		input_close(&in);
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		/* fail early when the top directory itself is unreadable */
		if (access(path, R_OK | X_OK) < 0) {
			*error_r = strerror(errno);
			input_close(&in);
			return NULL;
		}
		walk(in, path, 0);
		return in;
	}
	add_entry(in, xstrdup(path), NULL);
	switch (load_fd(in, fd, &st, error_r)) {
	case -1:
		input_close(&in);
		return NULL;
	case -2:
		/* input_next() reports it as a failed message */
		in->files[0].error = *error_r;
		in->files[0].too_large = true;
		return in;
	default:
		break;
	}
	in->next = 1;
	set_loaded(in, in->files[0].path);
	return in;
}

/* Does the line at p look like an mbox separator ("From " + a time)? */
static bool is_separator(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *eol;

	if (!starts_from(p, (size_t)(end - p)))
		return false;
	eol = memchr(p, '\n', (size_t)(end - p));
	if (eol == NULL)
		eol = end;
	for (p += 5; p + 3 < eol; p++) {
		if (p[0] >= '0' && p[0] <= '9' && p[1] == ':' &&
		    p[2] >= '0' && p[2] <= '9' && p[3] >= '0' && p[3] <= '9')
			return true;
	}
	return false;
}

/* Un-escape ">From " lines in place (one '>' less); returns new length. */
static size_t unescape_from(unsigned char *p, size_t len)
{
	size_t r = 0, w = 0;
	bool bol = true;

	while (r < len) {
		if (bol && p[r] == '>') {
			size_t q = r;

			while (q < len && p[q] == '>')
				q++;
			if (starts_from(p + q, len - q))
				r++;	/* drop one '>' */
		}
		bol = p[r] == '\n';
		p[w++] = p[r++];
	}
	return w;
}

/* Cut the next member out of the mbox in in->buf starting at in->pos. */
static void next_member(struct input *in, struct input_msg *msg)
{
	unsigned char *start = in->buf + in->pos, *end = in->buf + in->len;
	unsigned char *p, *stop = end;
	size_t mlen;

	/* skip the "From " line */
	p = memchr(start, '\n', (size_t)(end - start));
	start = p == NULL ? end : p + 1;
	for (p = start; p < end; ) {
		unsigned char *eol = memchr(p, '\n', (size_t)(end - p));
		unsigned char *nl;

		if (eol == NULL)
			break;
		nl = eol + 1;
		/* an empty line ("\n" or "\r\n") followed by a separator */
		if ((eol == p || (eol == p + 1 && *p == '\r')) &&
		    nl < end && is_separator(nl, end)) {
			stop = nl;
			break;
		}
		p = nl;
	}
	in->pos = (size_t)(stop - in->buf);
	/* drop the empty line that precedes the next "From " (or EOF) */
	mlen = (size_t)(stop - start);
	if (mlen >= 2 && start[mlen - 1] == '\n' && start[mlen - 2] == '\n')
		mlen--;
	else if (mlen >= 4 && memcmp(start + mlen - 4, "\r\n\r\n", 4) == 0)
		mlen -= 2;
	mlen = unescape_from(start, mlen);
	msg->data = start;
	msg->len = mlen;
}

int input_next(struct input *in, struct input_msg *msg_r,
	       const char **name_r, const char **error_r)
{
	int ret;

	while (!in->loaded) {
		struct entry *e;

		if (in->next >= in->nfiles)
			return 0;
		e = &in->files[in->next++];
		*name_r = e->path;
		if (e->error != NULL) {
			*error_r = e->error;
			return e->too_large ? -2 : -1;
		}
		if ((ret = load_file(in, e->path, error_r)) < 0)
			return ret;
		set_loaded(in, e->path);
	}
	msg_r->name = in->name;
	msg_r->idx = in->idx++;
	msg_r->in_mbox = in->mbox;
	if (in->mbox) {
		next_member(in, msg_r);
		if (in->pos >= in->len)
			in->loaded = false;
	} else {
		msg_r->data = in->buf;
		msg_r->len = in->len;
		in->loaded = false;
	}
	return 1;
}

void input_close(struct input **inp)
{
	struct input *in = *inp;
	size_t i;

	if (in == NULL)
		return;
	for (i = 0; i < in->nfiles; i++)
		free(in->files[i].path);
	free(in->files);
	free(in->buf);
	free(in);
	*inp = NULL;
}

size_t cmd_parse_size(const char *s, size_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *s == '-')
		return 0;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end != '\0' || v > max)
		return 0;
	return (size_t)v;
}
