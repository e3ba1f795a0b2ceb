/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	spool - durable spool of classified messages
 * SYNOPSIS
 *	#include <bav_spool.h>
 *
 *	int bav_spool_open(const char *dir, bool create,
 *			   struct bav_spool **spool_r, char **error_r)
 *	int bav_spool_write(struct bav_spool *spool,
 *			    const struct bav_spool_entry *entry,
 *			    const char **name_r, const char **error_r)
 *	struct bav_spool_group *bav_spool_group_new(void)
 *	void bav_spool_group_free(struct bav_spool_group **group)
 *	int bav_spool_set_group(struct bav_spool *spool,
 *				struct bav_spool_group *group,
 *				const char **error_r)
 *	int bav_spool_list(...), bav_spool_read(...), bav_spool_done(...),
 *	    bav_spool_reject(...), bav_spool_sync(...), bav_spool_expire(...),
 *	    bav_spool_list_sub(...), bav_spool_read_sub(...),
 *	    bav_spool_remove(...)
 * DESCRIPTION
 *	Layout: DIR/tmp (entries being written), DIR/new (complete entries,
 *	waiting for the recorder), DIR/cur (recorded, kept for
 *	reclassification until expired), DIR/bad (entries the recorder
 *	could not use; kept for the operator). Names are unique like
 *	Maildir's: SECONDS.MMICROSECONDSPpidTtidQcounter, so sorting by name
 *	is roughly oldest first.
 *
 *	Writing: the entry is created in tmp/ with O_EXCL, written, fsync'ed,
 *	closed, renamed into new/ and new/ is fsync'ed. A crash at any point
 *	leaves at most a file in tmp/, which bav_spool_expire() removes.
 *	Handles in a group (bav lmtpd's worker threads) share the fsync of
 *	new/: a writer whose rename is done waits for the next fsync of new/
 *	that starts after it (group commit), so N writers renaming at about
 *	the same time cost one directory fsync instead of N; each still
 *	returns only once its own entry is durable, and a failed fsync fails
 *	the writer that ran it (the others run their own, which reports the
 *	same write-back error on their descriptor).
 *
 *	Entry format (text header, blank line, raw message):
 *	  BAV-SPOOL 1
 *	  S sender          envelope sender ("" for <>)
 *	  R recipient       one line per envelope recipient
 *	  Q queue-id
 *	  H host
 *	  T unix-time
 *	  K message-key
 *	  E error           only when classification failed (no V lines)
 *	  V kind rule mark unsubscribe_uid from subject reporting_mta
 *	  r recipient orig action status replycode diagnostic remote_mta
 *	    reason hard detail rule feedback_type        (one per result)
 *	  I message_id envelope_sender envelope_recipient envelope_id
 *	    subject verp origin-index
 *	  A text prefix version licence company mailing customer url
 *	    send_date bit_options bcc signature_checked signature_ok
 *	  X name value      (identity headers of the returned original)
 *	  L length-of-the-message
 *	Fields are separated by one TAB; inside a field "%", TAB, CR, LF and
 *	other control bytes are written as %XX. The file must end exactly
 *	L bytes after the blank line, else it is corrupt.
 *
 *	Ownership: the handle owns its error texts and the last name;
 *	entries read are allocated from the caller's pool. One handle per
 *	thread. A group belongs to its creator, who frees it after closing
 *	the handles in it; its only state is the group-commit counters under
 *	its own mutex (no static state in this file).
 * DIAGNOSTICS
 *	0 ok; BAV_ETEMP + *error_r for system call failures (disk full,
 *	permissions, missing directory); BAV_EDATA for a corrupt entry.
 *	Never exits or prints.
 * SEE ALSO
 *	maildir(5), bav-deliver(8)
 */
#include "bav_private.h"
#include "bav_spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#define SPOOL_MAGIC "BAV-SPOOL 1\n"

struct bav_spool_group {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned long renamed;	/* renames into new/ announced so far */
	unsigned long synced;	/* the first `synced' are durable */
	bool busy;		/* a member is running fsync(new/) */
	bool have_dir;		/* dev/ino of new/ set by the first member */
	dev_t dev;
	ino_t ino;
};

struct bav_spool {
	char *dir;
	int new_fd, cur_fd;
	unsigned long counter;
	long pid, tid;		/* for entry names, taken at the first write */
	struct bav_spool_group *group;
	char name[128];
	char error[512];
};

static const char *const subdirs[] = { "tmp", "new", "cur", "bad" };

static const char *seterr(struct bav_spool *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static const char *seterr(struct bav_spool *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	return s->error;
}

static int open_dir(const char *path)
{
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int bav_spool_open(const char *dir, bool create, struct bav_spool **spool_r,
		   char **error_r)
{
	struct bav_spool *s;
	char path[PATH_MAX];
	unsigned int i;

	*spool_r = NULL;
	*error_r = NULL;
	s = bav_xcalloc(1, sizeof(*s));
	s->dir = bav_xstrdup(dir);
	s->new_fd = s->cur_fd = -1;
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		seterr(s, "mkdir %s: %s", dir, strerror(errno));
		goto fail;
	}
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]);
		if (create && mkdir(path, 0700) < 0 && errno != EEXIST) {
			seterr(s, "mkdir %s: %s", path, strerror(errno));
			goto fail;
		}
	}
	snprintf(path, sizeof(path), "%s/new", dir);
	if ((s->new_fd = open_dir(path)) < 0) {
		seterr(s, "spool %s: %s", path, strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/cur", dir);
	if ((s->cur_fd = open_dir(path)) < 0) {
		seterr(s, "spool %s: %s", path, strerror(errno));
		goto fail;
	}
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]);
		if (access(path, W_OK | X_OK) < 0) {
			seterr(s, "spool %s: %s", path, strerror(errno));
			goto fail;
		}
	}
	*spool_r = s;
	return BAV_OK;
fail:
	*error_r = bav_xstrdup(s->error);
	bav_spool_close(&s);
	return BAV_ETEMP;
}

void bav_spool_close(struct bav_spool **spool)
{
	struct bav_spool *s = *spool;

	if (s == NULL)
		return;
	if (s->new_fd >= 0)
		close(s->new_fd);
	if (s->cur_fd >= 0)
		close(s->cur_fd);
	free(s->dir);
	free(s);
	*spool = NULL;
}

/* ---- group commit of new/ ------------------------------------------------ */

struct bav_spool_group *bav_spool_group_new(void)
{
	struct bav_spool_group *g = bav_xcalloc(1, sizeof(*g));

	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	return g;
}

void bav_spool_group_free(struct bav_spool_group **group)
{
	struct bav_spool_group *g = *group;

	if (g == NULL)
		return;
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
	free(g);
	*group = NULL;
}

int bav_spool_set_group(struct bav_spool *s, struct bav_spool_group *g,
			const char **error_r)
{
	struct stat st;
	int ret = BAV_OK;

	if (g == NULL) {
		s->group = NULL;
		return BAV_OK;
	}
	if (fstat(s->new_fd, &st) < 0) {
		*error_r = seterr(s, "stat %s/new: %s", s->dir,
				  strerror(errno));
		return BAV_ETEMP;
	}
	pthread_mutex_lock(&g->lock);
	if (!g->have_dir) {
		g->have_dir = true;
		g->dev = st.st_dev;
		g->ino = st.st_ino;
	} else if (g->dev != st.st_dev || g->ino != st.st_ino) {
		*error_r = seterr(s, "spool %s: not the directory of the "
				  "group's other handles", s->dir);
		ret = BAV_ECONFIG;
	}
	pthread_mutex_unlock(&g->lock);
	if (ret == BAV_OK)
		s->group = g;
	return ret;
}

/* fsync(new/) after this handle's rename: alone, or the first fsync of
   the group that starts after the rename (run by whoever comes first).
   0, or -1 with errno. */
static int sync_new(struct bav_spool *s)
{
	struct bav_spool_group *g = s->group;
	unsigned long mine, upto;
	int ret = 0, err = 0;

	if (g == NULL)
		return fsync(s->new_fd);
	pthread_mutex_lock(&g->lock);
	mine = ++g->renamed;	/* our rename is done: counted from here */
	while (g->synced < mine) {
		if (g->busy) {	/* that fsync may have started before us */
			pthread_cond_wait(&g->cond, &g->lock);
			continue;
		}
		g->busy = true;
		upto = g->renamed;
		pthread_mutex_unlock(&g->lock);
		ret = fsync(s->new_fd);
		err = errno;
		pthread_mutex_lock(&g->lock);
		g->busy = false;
		if (ret == 0 && upto > g->synced)
			g->synced = upto;
		pthread_cond_broadcast(&g->cond);
		if (ret < 0)
			break;	/* the waiters run their own fsync */
	}
	pthread_mutex_unlock(&g->lock);
	errno = err;
	return ret;
}

/* ---- format -------------------------------------------------------------- */

static void put_field(struct bav_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	bav_buf_putc(b, '\t');
	if (s == NULL)
		return;
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == '%' || *p == 0x7f) {
			bav_buf_putc(b, '%');
			bav_buf_putc(b, hex[*p >> 4]);
			bav_buf_putc(b, hex[*p & 15]);
		} else {
			bav_buf_putc(b, (char)*p);
		}
	}
}

static void put_int(struct bav_buf *b, long long v)
{
	bav_buf_printf(b, "\t%lld", v);
}

/* A line of one field: TAG, TAB, the escaped value, newline. */
static void put_line(struct bav_buf *b, char tag, const char *value)
{
	bav_buf_putc(b, tag);
	put_field(b, value);
	bav_buf_putc(b, '\n');
}

static void format_verdict(struct bav_buf *b, const struct bav_verdict *v)
{
	const struct bav_identity *id = &v->ident;
	unsigned int i;
	long long origin = -1;

	bav_buf_putc(b, 'V');
	put_field(b, bav_kind_name(v->kind));
	put_field(b, v->rule);
	put_field(b, v->mark);
	put_field(b, v->unsubscribe_uid);
	put_field(b, v->from);
	put_field(b, v->subject);
	put_field(b, v->reporting_mta);
	bav_buf_putc(b, '\n');
	for (i = 0; i < v->result_count; i++) {
		const struct bav_result *r = &v->results[i];

		bav_buf_putc(b, 'r');
		put_field(b, r->recipient);
		put_field(b, r->orig_recipient);
		put_field(b, r->action);
		put_field(b, r->status);
		put_int(b, r->replycode);
		put_field(b, r->diagnostic);
		put_field(b, r->remote_mta);
		put_field(b, r->reason);
		put_int(b, r->hard ? 1 : 0);
		put_int(b, r->detail);
		put_field(b, r->rule);
		put_field(b, r->feedback_type);
		bav_buf_putc(b, '\n');
	}
	for (i = 0; i < id->agnuid_count; i++)
		if (id->origin == &id->agnuids[i])
			origin = i;
	bav_buf_putc(b, 'I');
	put_field(b, id->message_id);
	put_field(b, id->envelope_sender);
	put_field(b, id->envelope_recipient);
	put_field(b, id->envelope_id);
	put_field(b, id->subject);
	put_field(b, id->verp);
	put_int(b, origin);
	bav_buf_putc(b, '\n');
	for (i = 0; i < id->agnuid_count; i++) {
		const struct bav_agnuid *a = &id->agnuids[i];

		bav_buf_putc(b, 'A');
		put_field(b, a->text);
		put_field(b, a->prefix);
		put_int(b, a->version);
		put_int(b, a->licence_id);
		put_int(b, a->company_id);
		put_int(b, a->mailing_id);
		put_int(b, a->customer_id);
		put_int(b, a->url_id);
		put_int(b, a->send_date);
		put_int(b, a->bit_options);
		put_int(b, a->bcc);
		put_int(b, a->signature_checked);
		put_int(b, a->signature_ok);
		bav_buf_putc(b, '\n');
	}
	for (i = 0; i < id->extra_count; i++) {
		bav_buf_putc(b, 'X');
		put_field(b, id->extra_names[i]);
		put_field(b, id->extra_values[i]);
		bav_buf_putc(b, '\n');
	}
}

char *bav_spool_verdict_format(struct bav_pool *pool,
			       const struct bav_verdict *v)
{
	struct bav_buf b = { NULL, 0, 0 };
	char *s;

	format_verdict(&b, v);
	s = bav_pool_strndup(pool, b.data != NULL ? b.data : "", b.len);
	bav_buf_free(&b);
	return s;
}

static void format_header(struct bav_buf *b, const struct bav_spool_entry *e)
{
	unsigned int i;

	bav_buf_append(b, SPOOL_MAGIC, strlen(SPOOL_MAGIC));
	put_line(b, 'S', e->sender);
	for (i = 0; i < e->recipient_count; i++)
		put_line(b, 'R', e->recipients[i]);
	put_line(b, 'Q', e->queue_id);
	put_line(b, 'H', e->host);
	bav_buf_putc(b, 'T');
	put_int(b, (long long)e->time);
	bav_buf_putc(b, '\n');
	put_line(b, 'K', e->key);
	if (e->verdict == NULL) {
		put_line(b, 'E', e->error != NULL && *e->error != '\0' ?
			 e->error : "not classified");
	} else {
		format_verdict(b, e->verdict);
	}
	bav_buf_printf(b, "L\t%zu\n\n", e->msg_len);
}

/* ---- write --------------------------------------------------------------- */

static void make_name(struct bav_spool *s)
{
	struct timeval tv;

	/* a handle is used by one thread of one process (bav_spool.h):
	   its pid and tid are taken once, not two system calls a message */
	if (s->pid == 0) {
		s->pid = (long)getpid();
		s->tid = (long)syscall(SYS_gettid);
	}
	gettimeofday(&tv, NULL);
	snprintf(s->name, sizeof(s->name), "%lld.M%06ldP%ldT%ldQ%lu",
		 (long long)tv.tv_sec, (long)tv.tv_usec, s->pid, s->tid,
		 ++s->counter);
}

static int write_all(int fd, const struct iovec *iov_in, int n)
{
	struct iovec iov[2];
	ssize_t w;
	int i = 0;

	memcpy(iov, iov_in, (size_t)n * sizeof(*iov));
	while (i < n) {
		if (iov[i].iov_len == 0) {
			i++;
			continue;
		}
		w = writev(fd, iov + i, n - i);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = ENOSPC;
			return -1;
		}
		while (i < n && (size_t)w >= iov[i].iov_len) {
			w -= (ssize_t)iov[i].iov_len;
			i++;
		}
		if (i < n) {
			iov[i].iov_base = (char *)iov[i].iov_base + w;
			iov[i].iov_len -= (size_t)w;
		}
	}
	return 0;
}

int bav_spool_write(struct bav_spool *s, const struct bav_spool_entry *e,
		    const char **name_r, const char **error_r)
{
	struct bav_buf hdr = { NULL, 0, 0 };
	struct iovec iov[2];
	char tmp[PATH_MAX], dst[PATH_MAX];
	int fd = -1, tries, err;
	const char *step;

	format_header(&hdr, e);
	for (tries = 0;; tries++) {
		make_name(s);
		snprintf(tmp, sizeof(tmp), "%s/tmp/%s", s->dir, s->name);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST || tries > 100)
			break;
	}
	if (fd < 0) {
		*error_r = seterr(s, "create %s: %s", tmp, strerror(errno));
		bav_buf_free(&hdr);
		return BAV_ETEMP;
	}
	iov[0].iov_base = hdr.data;
	iov[0].iov_len = hdr.len;
	iov[1].iov_base = (void *)e->msg;
	iov[1].iov_len = e->msg_len;
	step = "write";
	if (write_all(fd, iov, 2) < 0)
		goto fail;
	step = "fsync";
	if (fsync(fd) < 0)
		goto fail;
	step = "close";
	err = close(fd);
	fd = -1;
	if (err < 0)
		goto fail;
	snprintf(dst, sizeof(dst), "%s/new/%s", s->dir, s->name);
	step = "rename";
	if (rename(tmp, dst) < 0)
		goto fail;
	if (sync_new(s) < 0) {
		/* the entry is in new/ but maybe not durable: take it back so
		   the caller's retry does not record it twice */
		err = errno;
		(void)unlink(dst);
		errno = err;
		step = "fsync new/";
		goto fail;
	}
	bav_buf_free(&hdr);
	if (name_r != NULL)
		*name_r = s->name;
	return BAV_OK;
fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	bav_buf_free(&hdr);
	*error_r = seterr(s, "spool %s %s: %s", step, tmp, strerror(err));
	return BAV_ETEMP;
}

/* ---- list, done, reject, expire ------------------------------------------ */

static int cmp_names(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t lx = strcspn(x, "."), ly = strcspn(y, ".");

	/* seconds first numerically, then the rest */
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x, y);
}

/* opendir() of the spool's subdirectory sub, its path in path[size];
   NULL and *error_r on error. */
static DIR *open_sub(struct bav_spool *s, const char *sub, char *path,
		     size_t size, const char **error_r)
{
	DIR *d;

	snprintf(path, size, "%s/%s", s->dir, sub);
	if ((d = opendir(path)) == NULL)
		*error_r = seterr(s, "opendir %s: %s", path, strerror(errno));
	return d;
}

static bool valid_sub(const char *sub)
{
	return strcmp(sub, "new") == 0 || strcmp(sub, "cur") == 0 ||
		strcmp(sub, "bad") == 0;
}

int bav_spool_list(struct bav_spool *s, struct bav_pool *pool,
		   unsigned int max, const char ***names_r,
		   unsigned int *count_r, const char **error_r)
{
	return bav_spool_list_sub(s, "new", pool, max, names_r, count_r,
				  error_r);
}

int bav_spool_list_sub(struct bav_spool *s, const char *sub,
		       struct bav_pool *pool, unsigned int max,
		       const char ***names_r, unsigned int *count_r,
		       const char **error_r)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *de;
	const char **names = NULL;
	size_t n = 0, alloc = 0;

	*names_r = NULL;
	*count_r = 0;
	if (!valid_sub(sub)) {
		*error_r = seterr(s, "bad spool subdirectory %s", sub);
		return BAV_EDATA;
	}
	if ((d = open_sub(s, sub, path, sizeof(path), error_r)) == NULL)
		return BAV_ETEMP;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == alloc) {
			alloc = alloc == 0 ? 64 : alloc * 2;
			names = bav_xrealloc(names, alloc * sizeof(*names));
		}
		names[n++] = bav_pool_strdup(pool, de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	if (max != 0 && n > max)
		n = max;
	*names_r = bav_pool_alloc(pool, (n + 1) * sizeof(*names));
	if (n > 0)
		memcpy(*names_r, names, n * sizeof(*names));
	free(names);
	*count_r = (unsigned int)n;
	return BAV_OK;
}

static int move_entry(struct bav_spool *s, const char *name, const char *to,
		      const char **error_r)
{
	char src[PATH_MAX], dst[PATH_MAX];

	if (strchr(name, '/') != NULL || name[0] == '.') {
		*error_r = seterr(s, "bad spool entry name %s", name);
		return BAV_EDATA;
	}
	snprintf(src, sizeof(src), "%s/new/%s", s->dir, name);
	if (to == NULL) {
		if (unlink(src) < 0 && errno != ENOENT) {
			*error_r = seterr(s, "unlink %s: %s", src,
					  strerror(errno));
			return BAV_ETEMP;
		}
		return BAV_OK;
	}
	snprintf(dst, sizeof(dst), "%s/%s/%s", s->dir, to, name);
	if (rename(src, dst) < 0 && errno != ENOENT) {
		*error_r = seterr(s, "rename %s to %s: %s", src, dst,
				  strerror(errno));
		return BAV_ETEMP;
	}
	return BAV_OK;
}

int bav_spool_done(struct bav_spool *s, const char *name, bool archive,
		   const char **error_r)
{
	return move_entry(s, name, archive ? "cur" : NULL, error_r);
}

int bav_spool_reject(struct bav_spool *s, const char *name,
		     const char **error_r)
{
	return move_entry(s, name, "bad", error_r);
}

int bav_spool_remove(struct bav_spool *s, const char *sub, const char *name,
		     const char **error_r)
{
	char path[PATH_MAX];

	if (strchr(name, '/') != NULL || name[0] == '.' || !valid_sub(sub)) {
		*error_r = seterr(s, "bad spool entry name %s/%s", sub, name);
		return BAV_EDATA;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", s->dir, sub, name);
	if (unlink(path) < 0 && errno != ENOENT) {
		*error_r = seterr(s, "unlink %s: %s", path, strerror(errno));
		return BAV_ETEMP;
	}
	return BAV_OK;
}

int bav_spool_sync(struct bav_spool *s, const char **error_r)
{
	if (fsync(s->new_fd) < 0 || fsync(s->cur_fd) < 0) {
		*error_r = seterr(s, "fsync %s: %s", s->dir, strerror(errno));
		return BAV_ETEMP;
	}
	return BAV_OK;
}

static int expire_dir(struct bav_spool *s, const char *sub, time_t t,
		      unsigned int *removed, const char **error_r)
{
	char path[PATH_MAX], file[PATH_MAX];
	struct stat st;
	struct dirent *de;
	DIR *d;

	if ((d = open_sub(s, sub, path, sizeof(path), error_r)) == NULL)
		return BAV_ETEMP;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(file, sizeof(file), "%s/%s", path,
			     de->d_name) >= (int)sizeof(file))
			continue;
		if (lstat(file, &st) == 0 && st.st_mtime < t &&
		    unlink(file) == 0)
			(*removed)++;
	}
	closedir(d);
	return BAV_OK;
}

int bav_spool_expire(struct bav_spool *s, time_t t, unsigned int *removed_r,
		     const char **error_r)
{
	unsigned int removed = 0;
	int ret;

	ret = expire_dir(s, "cur", t, &removed, error_r);
	if (ret == BAV_OK)
		ret = expire_dir(s, "tmp", time(NULL) - 86400, &removed,
				 error_r);
	if (removed_r != NULL)
		*removed_r = removed;
	return ret;
}

/* ---- read ---------------------------------------------------------------- */

#define MAX_FIELDS 16

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Split line[0..len) (after the tag) at TABs and unescape each field. */
static unsigned int split_fields(struct bav_pool *pool, const char *line,
				 size_t len, const char **f, unsigned int max)
{
	unsigned int n = 0;
	size_t i = 0;

	while (i < len && n < max) {
		size_t j, k = 0;
		char *out;

		if (line[i] != '\t')
			break;
		i++;
		for (j = i; j < len && line[j] != '\t'; j++)
			;
		out = bav_pool_alloc(pool, j - i + 1);
		for (; i < j; i++) {
			if (line[i] == '%' && i + 2 < j &&
			    hexval(line[i + 1]) >= 0 && hexval(line[i + 2]) >= 0) {
				out[k++] = (char)(hexval(line[i + 1]) * 16 +
						  hexval(line[i + 2]));
				i += 2;
			} else {
				out[k++] = line[i];
			}
		}
		out[k] = '\0';
		f[n++] = out;
	}
	return n;
}

static long long num(const char *s)
{
	return s == NULL ? 0 : strtoll(s, NULL, 10);
}

static bool kind_parse(const char *name, enum bav_kind *kind_r)
{
	int k;

	for (k = BAV_KIND_REPLY; k <= BAV_KIND_DELIVERED; k++) {
		if (strcmp(bav_kind_name((enum bav_kind)k), name) == 0) {
			*kind_r = (enum bav_kind)k;
			return true;
		}
	}
	return false;
}

/* Growable arrays of the verdict being parsed. */
struct parse_state {
	struct bav_pool *pool;
	struct bav_verdict *v;
	unsigned int results_alloc, agnuids_alloc, extras_alloc;
	long long origin;
	const char **recipients;
	unsigned int nrcpt, rcpt_alloc;
};

static void *grow(struct bav_pool *pool, void *old, unsigned int n,
		  unsigned int *alloc, size_t size)
{
	void *p;

	if (n < *alloc)
		return old;
	*alloc = *alloc == 0 ? 4 : *alloc * 2;
	p = bav_pool_alloc(pool, (size_t)*alloc * size);	/* @UNSAFE */
	if (n > 0)
		memcpy(p, old, (size_t)n * size);
	return p;
}

static const char *fld(const char **f, unsigned int n, unsigned int i)
{
	return i < n ? f[i] : "";
}

static int parse_vline(struct parse_state *ps, char tag, const char **f,
		       unsigned int n)
{
	struct bav_verdict *v = ps->v;
	struct bav_identity *id = &v->ident;

	switch (tag) {
	case 'V':
		if (n < 1 || !kind_parse(f[0], &v->kind))
			return -1;
		v->rule = fld(f, n, 1);
		v->mark = fld(f, n, 2);
		v->unsubscribe_uid = fld(f, n, 3);
		v->from = fld(f, n, 4);
		v->subject = fld(f, n, 5);
		v->reporting_mta = fld(f, n, 6);
		return 0;
	case 'r': {
		struct bav_result *r;

		v->results = grow(ps->pool, v->results, v->result_count,
				  &ps->results_alloc, sizeof(*r));
		r = &v->results[v->result_count++];
		r->recipient = fld(f, n, 0);
		r->orig_recipient = fld(f, n, 1);
		r->action = fld(f, n, 2);
		r->status = fld(f, n, 3);
		r->replycode = (int)num(fld(f, n, 4));
		r->diagnostic = fld(f, n, 5);
		r->remote_mta = fld(f, n, 6);
		r->reason = fld(f, n, 7);
		r->hard = num(fld(f, n, 8)) != 0;
		r->detail = (int)num(fld(f, n, 9));
		r->rule = fld(f, n, 10);
		r->feedback_type = fld(f, n, 11);
		return 0;
	}
	case 'I':
		id->message_id = fld(f, n, 0);
		id->envelope_sender = fld(f, n, 1);
		id->envelope_recipient = fld(f, n, 2);
		id->envelope_id = fld(f, n, 3);
		id->subject = fld(f, n, 4);
		id->verp = fld(f, n, 5);
		ps->origin = num(n > 6 ? f[6] : "-1");
		return 0;
	case 'A': {
		struct bav_agnuid *a;

		id->agnuids = grow(ps->pool, id->agnuids, id->agnuid_count,
				   &ps->agnuids_alloc, sizeof(*a));
		a = &id->agnuids[id->agnuid_count++];
		a->text = fld(f, n, 0);
		a->prefix = fld(f, n, 1);
		a->version = (int)num(fld(f, n, 2));
		a->licence_id = num(fld(f, n, 3));
		a->company_id = num(fld(f, n, 4));
		a->mailing_id = num(fld(f, n, 5));
		a->customer_id = num(fld(f, n, 6));
		a->url_id = num(fld(f, n, 7));
		a->send_date = num(fld(f, n, 8));
		a->bit_options = num(fld(f, n, 9));
		a->bcc = num(fld(f, n, 10)) != 0;
		a->signature_checked = num(fld(f, n, 11)) != 0;
		a->signature_ok = num(fld(f, n, 12)) != 0;
		return 0;
	}
	case 'X': {
		unsigned int alloc = ps->extras_alloc;

		id->extra_names = grow(ps->pool, id->extra_names,
				       id->extra_count, &alloc,
				       sizeof(*id->extra_names));
		id->extra_values = grow(ps->pool, id->extra_values,
					id->extra_count, &ps->extras_alloc,
					sizeof(*id->extra_values));
		id->extra_names[id->extra_count] = fld(f, n, 0);
		id->extra_values[id->extra_count] = fld(f, n, 1);
		id->extra_count++;
		return 0;
	}
	default:
		return -1;
	}
}

static struct bav_verdict *new_verdict(struct bav_pool *pool)
{
	struct bav_verdict *v = bav_pool_alloc(pool, sizeof(*v));

	v->rule = v->mark = v->unsubscribe_uid = v->from = v->subject = "";
	v->reporting_mta = "";
	v->ident.message_id = v->ident.envelope_sender = "";
	v->ident.envelope_recipient = v->ident.envelope_id = "";
	v->ident.subject = v->ident.verp = "";
	return v;
}

static void finish_verdict(struct parse_state *ps)
{
	struct bav_identity *id = &ps->v->ident;

	if (ps->origin >= 0 && ps->origin < (long long)id->agnuid_count)
		id->origin = &id->agnuids[ps->origin];
}

int bav_spool_verdict_parse(struct bav_pool *pool, const char *text,
			    size_t len, struct bav_verdict **verdict_r,
			    const char **error_r)
{
	struct parse_state ps;
	const char *f[MAX_FIELDS];
	size_t pos = 0;
	bool have_v = false;

	memset(&ps, 0, sizeof(ps));
	ps.pool = pool;
	ps.v = new_verdict(pool);
	ps.origin = -1;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ll = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		unsigned int n;

		if (ll > 0) {
			n = split_fields(pool, text + pos + 1, ll - 1, f,
					 MAX_FIELDS);
			if (parse_vline(&ps, text[pos], f, n) < 0) {
				*error_r = "bad verdict line";
				return BAV_EDATA;
			}
			have_v = have_v || text[pos] == 'V';
		}
		pos += ll + 1;
	}
	if (!have_v) {
		*error_r = "no verdict";
		return BAV_EDATA;
	}
	finish_verdict(&ps);
	*verdict_r = ps.v;
	return BAV_OK;
}

static int parse_header_line(struct parse_state *ps,
			     struct bav_spool_entry *e, char tag,
			     const char **f, unsigned int n,
			     unsigned long long *len_r, bool *have_len)
{
	switch (tag) {
	case 'S': e->sender = fld(f, n, 0); return 0;
	case 'Q': e->queue_id = fld(f, n, 0); return 0;
	case 'H': e->host = fld(f, n, 0); return 0;
	case 'T': e->time = (time_t)num(fld(f, n, 0)); return 0;
	case 'K': e->key = fld(f, n, 0); return 0;
	case 'E': e->error = fld(f, n, 0); return 0;
	case 'R':
		ps->recipients = grow(ps->pool, ps->recipients, ps->nrcpt,
				      &ps->rcpt_alloc, sizeof(char *));
		ps->recipients[ps->nrcpt++] = fld(f, n, 0);
		return 0;
	case 'L':
		if (n < 1 || f[0][0] < '0' || f[0][0] > '9')
			return -1;
		*len_r = strtoull(f[0], NULL, 10);
		*have_len = true;
		return 0;
	case 'V':
		e->verdict = ps->v;
		/* fall through */
	default:
		return parse_vline(ps, tag, f, n);
	}
}

static int parse_entry(struct bav_spool *s, struct bav_pool *pool,
		       const char *buf, size_t size,
		       struct bav_spool_entry *e, const char **error_r)
{
	struct parse_state ps;
	const char *f[MAX_FIELDS];
	size_t pos = strlen(SPOOL_MAGIC);
	unsigned long long msg_len = 0;
	bool have_len = false;

	memset(&ps, 0, sizeof(ps));
	ps.pool = pool;
	ps.v = new_verdict(pool);
	ps.origin = -1;
	e->sender = e->queue_id = e->host = e->key = "";
	if (size < pos || memcmp(buf, SPOOL_MAGIC, pos) != 0) {
		*error_r = seterr(s, "not a spool entry");
		return BAV_EDATA;
	}
	for (;;) {
		const char *nl = memchr(buf + pos, '\n', size - pos);
		size_t ll;
		unsigned int n;

		if (nl == NULL) {
			*error_r = seterr(s, "truncated spool entry header");
			return BAV_EDATA;
		}
		ll = (size_t)(nl - (buf + pos));
		if (ll == 0) {
			pos++;
			break;
		}
		n = split_fields(pool, buf + pos + 1, ll - 1, f, MAX_FIELDS);
		if (parse_header_line(&ps, e, buf[pos], f, n, &msg_len,
				      &have_len) < 0) {
			*error_r = seterr(s, "bad spool entry line '%c'",
					  buf[pos]);
			return BAV_EDATA;
		}
		pos += ll + 1;
	}
	if (!have_len || msg_len != size - pos) {
		*error_r = seterr(s, "spool entry length mismatch (%llu "
				  "announced, %zu present)", msg_len,
				  size - pos);
		return BAV_EDATA;
	}
	if (e->verdict == NULL && e->error == NULL) {
		*error_r = seterr(s, "spool entry without verdict or error");
		return BAV_EDATA;
	}
	if (e->verdict != NULL)
		finish_verdict(&ps);
	e->recipients = ps.recipients;
	e->recipient_count = ps.nrcpt;
	e->msg = (const unsigned char *)buf + pos;
	e->msg_len = size - pos;
	return BAV_OK;
}

int bav_spool_read(struct bav_spool *s, const char *name,
		   struct bav_pool *pool, struct bav_spool_entry **entry_r,
		   const char **error_r)
{
	return bav_spool_read_sub(s, "new", name, pool, entry_r, error_r);
}

int bav_spool_read_sub(struct bav_spool *s, const char *sub, const char *name,
		       struct bav_pool *pool, struct bav_spool_entry **entry_r,
		       const char **error_r)
{
	char path[PATH_MAX];
	struct bav_spool_entry *e;
	struct stat st;
	char *buf;
	size_t got = 0;
	ssize_t r;
	int fd;

	*entry_r = NULL;
	if (strchr(name, '/') != NULL || name[0] == '.' || !valid_sub(sub)) {
		*error_r = seterr(s, "bad spool entry name %s/%s", sub, name);
		return BAV_EDATA;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", s->dir, sub, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		*error_r = seterr(s, "open %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return BAV_ETEMP;
	}
	buf = bav_pool_alloc(pool, (size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*error_r = seterr(s, "read %s: %s", path,
					  r < 0 ? strerror(errno) :
					  "file shrank");
			close(fd);
			return BAV_ETEMP;
		}
		got += (size_t)r;
	}
	close(fd);
	e = bav_pool_alloc(pool, sizeof(*e));
	if (parse_entry(s, pool, buf, got, e, error_r) < 0) {
		char tmp[sizeof(s->error)];

		memcpy(tmp, s->error, sizeof(tmp));
		*error_r = seterr(s, "%s: %s", path, tmp);
		return BAV_EDATA;
	}
	*entry_r = e;
	return BAV_OK;
}
