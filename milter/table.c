/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	table - the current address table of bav-milter and its reloader
 * SYNOPSIS
 *	int table_init(const char *path, char **error_r)
 *	struct bav_addrtable *table_get(void)
 *	int table_reload(bool force)
 *	int table_thread_start(void)
 *	void table_thread_stop(void)
 * DESCRIPTION
 *	One global pointer to the current table, guarded by a mutex that is
 *	held only to copy the pointer and take a reference. Each SMTP
 *	connection takes its own reference at connect time and keeps that
 *	table until it closes, so a reload never changes the answers inside
 *	a session and never waits for sessions.
 *
 *	The reloader thread waits for SIGHUP with a timeout of
 *	settings.reload_interval seconds; on SIGHUP, or when the file's
 *	inode, size or mtime changed, it loads the file into a new table and
 *	swaps it in. A file that fails to load is logged once (per version
 *	of the file) and the last good table stays in service.
 * DIAGNOSTICS
 *	Reload results are logged: NOTICE on success, ERROR on failure.
 */
#include "bav_milter.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static pthread_mutex_t table_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct bav_addrtable *current;
static const char *table_path;
static pthread_t reload_thread;
static bool thread_running;
static bool stopping;	/* read and written with __atomic_* */

/* the version of the file that last failed to load, so it is logged once */
static struct stat failed_st;
static bool have_failed;

int table_init(const char *path, char **error_r)
{
	struct bav_addrtable *t;

	if (bav_addrtable_load(path, &t, error_r) != BAV_OK)
		return -1;
	table_path = path;
	current = t;
	return 0;
}

struct bav_addrtable *table_get(void)
{
	struct bav_addrtable *t;

	pthread_mutex_lock(&table_mutex);
	t = bav_addrtable_ref(current);
	pthread_mutex_unlock(&table_mutex);
	return t;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int table_reload(bool force)
{
	struct bav_addrtable *t, *old;
	struct stat st;
	char *error = NULL;
	int st_ok;

	old = table_get();
	if (!force && !bav_addrtable_changed(old, table_path)) {
		bav_addrtable_unref(&old);
		return 0;
	}
	bav_addrtable_unref(&old);
	st_ok = stat(table_path, &st) == 0;
	if (!force && st_ok && have_failed && same_file(&st, &failed_st))
		return -1;	/* already reported */
	if (bav_addrtable_load(table_path, &t, &error) != BAV_OK) {
		log_msg(LOG_L_ERROR, "reload failed, keeping the last good "
			"table: %s", error);
		free(error);
		have_failed = st_ok;
		if (st_ok)
			failed_st = st;
		return -1;
	}
	have_failed = false;
	pthread_mutex_lock(&table_mutex);
	old = current;
	current = t;
	pthread_mutex_unlock(&table_mutex);
	log_msg(LOG_L_NOTICE, "reloaded %s: %zu entries, %zu domains",
		table_path, bav_addrtable_count(t),
		bav_addrtable_domain_count(t));
	bav_addrtable_unref(&old);
	return 1;
}

static void *reloader(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	while (!__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
		struct timespec ts = { settings.reload_interval > 0 ?
			(time_t)settings.reload_interval : 3600, 0 };
		int sig = sigtimedwait(&set, NULL, &ts);

		if (__atomic_load_n(&stopping, __ATOMIC_ACQUIRE))
			break;
		if (sig == SIGHUP) {
			log_msg(LOG_L_INFO, "SIGHUP: reloading %s", table_path);
			table_reload(true);
			if (settings.classify)
				classify_reload();
		} else if (sig < 0 && errno == EAGAIN &&
			   settings.reload_interval > 0) {
			table_reload(false);
		}
	}
	return NULL;
}

int table_thread_start(void)
{
	if (pthread_create(&reload_thread, NULL, reloader, NULL) != 0)
		return -1;
	thread_running = true;
	return 0;
}

void table_thread_stop(void)
{
	if (!thread_running)
		return;
	__atomic_store_n(&stopping, true, __ATOMIC_RELEASE);
	pthread_kill(reload_thread, SIGHUP);
	pthread_join(reload_thread, NULL);
	thread_running = false;
}

void table_deinit(void)
{
	bav_addrtable_unref(&current);
}
