/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	suppress - the outbound suppression snapshot of bav-policyd
 * SYNOPSIS
 *	struct suppress *suppress_load_store(const char *uri, char **error_r)
 *	struct suppress *suppress_load_file(const char *path, char **error_r)
 *	int suppress_save_file(const struct suppress *s, const char *path,
 *			       char **error_r)
 *	const char *suppress_lookup(const struct suppress *s, const char *addr)
 *	int suppress_start(bool threaded, struct suppress **first_r,
 *			   char **error_r)
 *	struct suppress *suppress_take(void)
 *	struct suppress *suppress_poll(time_t now)
 * DESCRIPTION
 *	A snapshot is an immutable open-addressing hash of lower-cased
 *	addresses with their state (bounced, complained, unsubscribed):
 *	every address of bav_recipients in one of these states, read from
 *	the store (bav_store.h) with one SELECT, or from a snapshot file
 *	("address" or "address<TAB>state" lines, "#" comments). Lookups
 *	cost one hash and a few compares and never allocate.
 *
 *	The source: with a store (-S), the first snapshot is loaded at
 *	start-up; if the database cannot be read then, the snapshot file
 *	(-f) is the first snapshot, else the snapshot is empty until the
 *	database answers. Every refresh_interval seconds a loader thread
 *	(the event loop never waits for the database) loads a new one,
 *	writes it to the snapshot file (path.tmp + rename, so a restart
 *	while the database is down still has data) and passes it to the
 *	loop through a mutex-protected slot and an eventfd. When a load
 *	fails the loop keeps the last snapshot and the failure is logged.
 *	Without a store the snapshot file is the source, read again when
 *	its inode, size or mtime changes. SIGHUP (suppress_kick()) makes
 *	the loader refresh at once. In stdio mode (spawn(8), one
 *	process per connection) there is no thread: suppress_poll()
 *	refreshes inline between requests.
 *
 *	Ownership: the event loop owns the current snapshot and frees the
 *	old one when it takes a new one; the loader owns a snapshot only
 *	until it is in the slot.
 * DIAGNOSTICS
 *	Loaders return NULL and a malloc'ed *error_r. Refresh failures are
 *	logged at WARNING with the age of the snapshot kept in service.
 */
#include "bav_policyd.h"
#include "bav_store.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const state_names[] = {
	"bounced", "complained", "unsubscribed", "suppressed"
};

struct slot {
	uint32_t hash;
	uint32_t state;
	const char *addr;	/* NULL: empty slot */
};

struct suppress {
	struct slot *slots;
	size_t mask;		/* slots - 1 (a power of two) */
	size_t count;
	char *text;		/* the addresses, NUL-separated */
	size_t text_len, text_size;
	/* while building: (offset, state) pairs */
	size_t *offs;
	uint32_t *states;
	size_t nbuilt, built_size;
};

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static char *xasprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL) {
		log_msg(LOG_L_FATAL, "out of memory (%zu bytes)", n);
		_exit(75);
	}
	return p;
}

static struct suppress *builder_new(void)
{
	struct suppress *s = xrealloc(NULL, sizeof(*s));

	memset(s, 0, sizeof(*s));
	return s;
}

/* Add address (any case; lower-cased here) with a state name. */
static void builder_add(struct suppress *s, const char *addr, size_t len,
			const char *state)
{
	size_t i;
	uint32_t st = 3;

	for (i = 0; i < 3; i++)
		if (strcasecmp(state, state_names[i]) == 0)
			st = (uint32_t)i;
	if (s->text_len + len + 1 > s->text_size) {
		s->text_size = (s->text_len + len + 1) * 2 + 4096;
		s->text = xrealloc(s->text, s->text_size);
	}
	if (s->nbuilt == s->built_size) {
		s->built_size = s->built_size * 2 + 256;
		s->offs = xrealloc(s->offs, s->built_size * sizeof(*s->offs));
		s->states = xrealloc(s->states,
				     s->built_size * sizeof(*s->states));
	}
	for (i = 0; i < len; i++)
		s->text[s->text_len + i] =
			(char)tolower((unsigned char)addr[i]);
	s->text[s->text_len + len] = '\0';
	s->offs[s->nbuilt] = s->text_len;
	s->states[s->nbuilt++] = st;
	s->text_len += len + 1;
}

/* Build the hash from the collected entries (duplicates: first wins). */
static struct suppress *builder_finish(struct suppress *s)
{
	size_t size = 16, i;

	while (size < s->nbuilt * 2)
		size *= 2;
	s->slots = xrealloc(NULL, size * sizeof(*s->slots));
	memset(s->slots, 0, size * sizeof(*s->slots));
	s->mask = size - 1;
	for (i = 0; i < s->nbuilt; i++) {
		const char *a = s->text + s->offs[i];
		uint32_t h = hash_str(a);
		size_t j = h & s->mask;

		while (s->slots[j].addr != NULL &&
		       (s->slots[j].hash != h || strcmp(s->slots[j].addr, a) != 0))
			j = (j + 1) & s->mask;
		if (s->slots[j].addr != NULL)
			continue;
		s->slots[j].hash = h;
		s->slots[j].state = s->states[i];
		s->slots[j].addr = a;
		s->count++;
	}
	free(s->offs);
	free(s->states);
	s->offs = NULL;
	s->states = NULL;
	return s;
}

const char *suppress_lookup(const struct suppress *s, const char *addr)
{
	uint32_t h = hash_str(addr);
	size_t j = h & s->mask;

	while (s->slots[j].addr != NULL) {
		if (s->slots[j].hash == h && strcmp(s->slots[j].addr, addr) == 0)
			return state_names[s->slots[j].state];
		j = (j + 1) & s->mask;
	}
	return NULL;
}

size_t suppress_count(const struct suppress *s)
{
	return s == NULL ? 0 : s->count;
}

void suppress_free(struct suppress **sp)
{
	struct suppress *s = *sp;

	if (s == NULL)
		return;
	free(s->slots);
	free(s->text);
	free(s->offs);
	free(s->states);
	free(s);
	*sp = NULL;
}

static int store_row(void *ctx, const struct bav_store_value *v,
		     const char *const *names, unsigned int n)
{
	(void)names;
	if (n >= 2 && v[0].s != NULL && v[1].s != NULL && v[0].len > 0)
		builder_add(ctx, v[0].s, v[0].len, v[1].s);
	return 0;
}

struct suppress *suppress_load_store(const char *uri, char **error_r)
{
	struct bav_store_opts opts = { .migrate = false, .net_timeout_s = 5,
				       .lock_timeout_ms = 2000,
				       .password = settings.store_password };
	struct bav_store *store;
	struct suppress *s;
	const char *err;

	if (bav_store_open(uri, &opts, &store, error_r) < 0)
		return NULL;
	s = builder_new();
	if (bav_store_exec(store, "SELECT address, state FROM bav_recipients"
			   " WHERE state IN ('bounced', 'complained',"
			   " 'unsubscribed')", NULL, 0, store_row, s,
			   &err) < 0) {
		*error_r = xasprintf("%s: %s", uri, err);
		bav_store_close(&store);
		builder_finish(s);
		suppress_free(&s);
		return NULL;
	}
	bav_store_close(&store);
	return builder_finish(s);
}

struct suppress *suppress_load_file(const char *path, char **error_r)
{
	FILE *f = fopen(path, "r");
	struct suppress *s;
	char *line = NULL;
	size_t size = 0;
	ssize_t n;

	if (f == NULL) {
		*error_r = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	s = builder_new();
	while ((n = getline(&line, &size, f)) > 0) {
		char *p = line, *state;
		size_t alen;

		line[strcspn(line, "\r\n")] = '\0';
		p += strspn(p, " \t");
		if (*p == '#' || *p == '\0')
			continue;
		alen = strcspn(p, " \t");
		state = p + alen;
		state += strspn(state, " \t");
		state[strcspn(state, " \t")] = '\0';
		builder_add(s, p, alen, state);
	}
	free(line);
	if (ferror(f)) {
		*error_r = xasprintf("%s: read error", path);
		fclose(f);
		builder_finish(s);
		suppress_free(&s);
		return NULL;
	}
	fclose(f);
	return builder_finish(s);
}

int suppress_save_file(const struct suppress *s, const char *path,
		       char **error_r)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *f;
	size_t i;

	f = tmp == NULL ? NULL : fopen(tmp, "w");
	if (f == NULL) {
		*error_r = xasprintf("%s: %s", tmp ? tmp : path,
				     strerror(errno));
		free(tmp);
		return -1;
	}
	fprintf(f, "# bav-policyd suppression snapshot, %zu addresses\n",
		s->count);
	for (i = 0; i <= s->mask; i++)
		if (s->slots[i].addr != NULL)
			fprintf(f, "%s\t%s\n", s->slots[i].addr,
				state_names[s->slots[i].state]);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f) ||
	    fclose(f) != 0 || rename(tmp, path) != 0) {
		*error_r = xasprintf("%s: %s", tmp, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* ---- the source ---------------------------------------------------- */

static pthread_mutex_t slot_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cond = PTHREAD_COND_INITIALIZER;
static struct suppress *pending;	/* loaded, not yet taken */
static bool stopping, thread_running;
static pthread_t loader;
static int notify_fd = -1;
static time_t last_load, last_ok;
static size_t last_count;
static struct stat file_st;
static bool have_file_st;

static bool file_changed(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return false;	/* gone: keep the last one */
	if (have_file_st && st.st_ino == file_st.st_ino &&
	    st.st_size == file_st.st_size &&
	    st.st_mtim.tv_sec == file_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == file_st.st_mtim.tv_nsec)
		return false;
	file_st = st;
	have_file_st = true;
	return true;
}

/* One refresh: a new snapshot, or NULL (failure logged, or unchanged). */
static struct suppress *load_once(bool first)
{
	struct suppress *s;
	char *error = NULL;

	if (settings.store_uri == NULL) {
		if (!file_changed(settings.snapshot_path) && !first)
			return NULL;
		s = suppress_load_file(settings.snapshot_path, &error);
	} else {
		s = suppress_load_store(settings.store_uri, &error);
	}
	if (s == NULL) {
		if (last_ok != 0)
			log_msg(LOG_L_WARNING, "snapshot refresh failed, "
				"keeping the last one (%lds old): %s",
				(long)(time(NULL) - last_ok), error);
		else
			log_msg(LOG_L_WARNING, "snapshot load failed: %s",
				error);
		free(error);
		return NULL;
	}
	last_ok = time(NULL);
	last_count = s->count;
	if (settings.store_uri != NULL && settings.snapshot_path != NULL &&
	    suppress_save_file(s, settings.snapshot_path, &error) < 0) {
		log_msg(LOG_L_WARNING, "cannot write the snapshot file: %s",
			error);
		free(error);
	}
	log_msg(first ? LOG_L_NOTICE : s->count != last_count ? LOG_L_INFO :
		LOG_L_DEBUG, "suppression snapshot loaded from %s: %zu addresses",
		settings.store_uri != NULL ? "the store" :
		settings.snapshot_path, s->count);
	return s;
}

static void *loader_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&slot_mutex);
	while (!stopping) {
		struct timespec ts;
		struct suppress *s;
		uint64_t one = 1;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += settings.refresh_interval;
		pthread_cond_timedwait(&stop_cond, &slot_mutex, &ts);
		if (stopping)
			break;
		pthread_mutex_unlock(&slot_mutex);
		s = load_once(false);
		pthread_mutex_lock(&slot_mutex);
		if (s == NULL)
			continue;
		suppress_free(&pending);
		pending = s;
		if (write(notify_fd, &one, sizeof(one)) < 0)
			log_msg(LOG_L_ERROR, "eventfd write: %s",
				strerror(errno));
	}
	pthread_mutex_unlock(&slot_mutex);
	return NULL;
}

int suppress_start(bool threaded, struct suppress **first_r, char **error_r)
{
	struct suppress *s = load_once(true);
	char *error = NULL;

	last_load = time(NULL);
	if (s == NULL && settings.store_uri == NULL) {
		*error_r = xasprintf("cannot load %s", settings.snapshot_path);
		return -1;
	}
	if (s == NULL && settings.snapshot_path != NULL) {
		s = suppress_load_file(settings.snapshot_path, &error);
		if (s != NULL) {
			log_msg(LOG_L_WARNING, "serving the snapshot file %s "
				"(%zu addresses) until the store answers",
				settings.snapshot_path, s->count);
		} else {
			log_msg(LOG_L_WARNING, "%s", error);
			free(error);
		}
	}
	if (s == NULL) {
		log_msg(LOG_L_ERROR, "no suppression data yet: nothing is "
			"suppressed until the store answers");
		s = builder_finish(builder_new());
	}
	*first_r = s;
	if (!threaded || settings.refresh_interval == 0)
		return 0;
	notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (notify_fd < 0 ||
	    pthread_create(&loader, NULL, loader_main, NULL) != 0) {
		*error_r = xasprintf("cannot start the snapshot loader: %s",
				     strerror(errno));
		return -1;
	}
	thread_running = true;
	return 0;
}

void suppress_kick(void)
{
	if (!thread_running)
		return;
	pthread_mutex_lock(&slot_mutex);
	pthread_cond_signal(&stop_cond);	/* wakes the loader early */
	pthread_mutex_unlock(&slot_mutex);
}

int suppress_notify_fd(void)
{
	return notify_fd;
}

struct suppress *suppress_take(void)
{
	struct suppress *s;
	uint64_t n;

	if (read(notify_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_msg(LOG_L_ERROR, "eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&slot_mutex);
	s = pending;
	pending = NULL;
	pthread_mutex_unlock(&slot_mutex);
	return s;
}

struct suppress *suppress_poll(time_t now)
{
	if (settings.refresh_interval == 0 ||
	    now - last_load < (time_t)settings.refresh_interval)
		return NULL;
	last_load = now;
	return load_once(false);
}

void suppress_stop(void)
{
	if (thread_running) {
		pthread_mutex_lock(&slot_mutex);
		stopping = true;
		pthread_cond_signal(&stop_cond);
		pthread_mutex_unlock(&slot_mutex);
		pthread_join(loader, NULL);
		thread_running = false;
	}
	suppress_free(&pending);
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}
