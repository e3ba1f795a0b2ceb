/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	store_sqlite - SQLite backend of the bav store
 * SYNOPSIS
 *	extern const struct bav_store_vfuncs bav_store_sqlite;
 * DESCRIPTION
 *	One sqlite3 connection per store, WAL journal, synchronous=FULL
 *	(a recorded bounce survives a power loss), foreign keys on, busy
 *	timeout from opts->lock_timeout_ms. Statements are prepared once
 *	and cached by SQL text. Transactions are BEGIN IMMEDIATE, so two
 *	writers wait for each other (busy timeout) instead of failing at
 *	commit. A database file that does not exist yet is created mode
 *	0640 (less if the umask says so) before sqlite opens it, whatever
 *	the umask of the creator; sqlite gives its -wal and -shm files the
 *	mode of the database.
 *
 *	Ownership: row values point into sqlite's statement memory and
 *	are valid during the row callback only.
 * DIAGNOSTICS
 *	SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL, SQLITE_IOERR and
 *	SQLITE_NOMEM are BAV_ETEMP; SQLITE_CANTOPEN/PERM/AUTH/NOTADB at
 *	open are BAV_ECONFIG; everything else BAV_EDATA. A UNIQUE or
 *	PRIMARY KEY violation sets store->last_dup.
 * SEE ALSO
 *	https://sqlite.org/c3ref/intro.html, store.c
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "store_private.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STMT_CACHE_MAX 64

struct cached_stmt {
	char *sql;
	sqlite3_stmt *stmt;
};

struct sqlite_be {
	sqlite3 *db;
	struct cached_stmt cache[STMT_CACHE_MAX];
	unsigned int ncache, next_evict;
};

static int map_error(struct bav_store *store, int rc, const char *what)
{
	struct sqlite_be *be = store->be;
	int ret;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_NOMEM:
	case SQLITE_INTERRUPT:
		ret = BAV_ETEMP;
		break;
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_AUTH:
	case SQLITE_NOTADB:
	case SQLITE_READONLY:
		ret = BAV_ECONFIG;
		break;
	default:
		ret = BAV_EDATA;
		break;
	}
	if (rc == SQLITE_CONSTRAINT_UNIQUE ||
	    rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		store->last_dup = true;
	return bav_store_error(store, ret, "sqlite: %s: %s", what,
			       be != NULL && be->db != NULL ?
			       sqlite3_errmsg(be->db) : sqlite3_errstr(rc));
}

static int simple(struct bav_store *store, const char *sql)
{
	struct sqlite_be *be = store->be;
	int rc = sqlite3_exec(be->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? BAV_OK : map_error(store, rc, sql);
}

/* Create a missing database file 0640, so that it does not get the
   creator's umask (0644 under umask 022); an error here is left to
   sqlite3_open_v2() to report. */
static void create_file(const char *path)
{
	int fd;

	if (path[0] == '\0' || strcmp(path, ":memory:") == 0 ||
	    strncmp(path, "file:", 5) == 0)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0640);
	if (fd >= 0)
		close(fd);
}

static int sq_open(struct bav_store *store, const struct bav_store_uri *uri,
		   const struct bav_store_opts *opts, const char *password)
{
	struct sqlite_be *be = bav_xcalloc(1, sizeof(*be));
	int rc, ret;

	(void)password;
	store->be = be;
	create_file(uri->path);
	rc = sqlite3_open_v2(uri->path, &be->db, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		ret = map_error(store, rc, uri->path);
		return ret == BAV_EDATA ? BAV_ECONFIG :
		       bav_store_error(store, ret, "sqlite: %s: %s",
				       uri->path, sqlite3_errstr(rc));
	}
	sqlite3_extended_result_codes(be->db, 1);
	sqlite3_busy_timeout(be->db, opts->lock_timeout_ms != 0 ?
			     (int)opts->lock_timeout_ms : 5000);
	if ((ret = simple(store, "PRAGMA journal_mode=WAL")) < 0 ||
	    (ret = simple(store, "PRAGMA synchronous=FULL")) < 0 ||
	    (ret = simple(store, "PRAGMA foreign_keys=ON")) < 0)
		return ret == BAV_EDATA ? bav_store_error(store, BAV_ECONFIG,
			"sqlite: %s: %s", uri->path, store->error.data) : ret;
	return BAV_OK;
}

static void sq_close(struct bav_store *store)
{
	struct sqlite_be *be = store->be;
	unsigned int i;

	for (i = 0; i < be->ncache; i++) {
		sqlite3_finalize(be->cache[i].stmt);
		free(be->cache[i].sql);
	}
	sqlite3_close(be->db);
	free(be);
	store->be = NULL;
}

static int prepare(struct bav_store *store, const char *sql,
		   sqlite3_stmt **stmt_r)
{
	struct sqlite_be *be = store->be;
	struct cached_stmt *c;
	unsigned int i;
	int rc;

	for (i = 0; i < be->ncache; i++) {
		if (strcmp(be->cache[i].sql, sql) == 0) {
			*stmt_r = be->cache[i].stmt;
			return BAV_OK;
		}
	}
	if (be->ncache < STMT_CACHE_MAX) {
		c = &be->cache[be->ncache++];
	} else {
		c = &be->cache[be->next_evict];
		be->next_evict = (be->next_evict + 1) % STMT_CACHE_MAX;
		sqlite3_finalize(c->stmt);
		free(c->sql);
	}
	c->sql = NULL;
	rc = sqlite3_prepare_v2(be->db, sql, -1, &c->stmt, NULL);
	if (rc != SQLITE_OK) {
		c->stmt = NULL;
		c->sql = bav_xstrdup("");	/* never matches real SQL */
		return map_error(store, rc, "prepare");
	}
	c->sql = bav_xstrdup(sql);
	*stmt_r = c->stmt;
	return BAV_OK;
}

static int bind(struct bav_store *store, sqlite3_stmt *stmt,
		const struct bav_store_param *params, unsigned int nparams)
{
	unsigned int i;
	int rc = SQLITE_OK;

	if ((int)nparams != sqlite3_bind_parameter_count(stmt))
		return bav_store_error(store, BAV_EDATA,
			"sqlite: statement has %d parameters, %u given",
			sqlite3_bind_parameter_count(stmt), nparams);
	for (i = 0; i < nparams && rc == SQLITE_OK; i++) {
		const struct bav_store_param *p = &params[i];

		if (p->type == BAV_STORE_INT)
			rc = sqlite3_bind_int64(stmt, i + 1, p->i);
		else if (p->type == BAV_STORE_TEXT && p->s != NULL)
			rc = sqlite3_bind_text(stmt, i + 1, p->s, -1,
					       SQLITE_STATIC);
		else
			rc = sqlite3_bind_null(stmt, i + 1);
	}
	return rc == SQLITE_OK ? BAV_OK : map_error(store, rc, "bind");
}

static int deliver_row(sqlite3_stmt *stmt, bav_store_row_t *row_cb,
		       void *ctx)
{
	struct bav_store_value vals[64], *v = vals;
	const char *names_buf[64], **names = names_buf;
	int n = sqlite3_column_count(stmt), i, stop;

	if (n > 64) {
		v = bav_xcalloc(n, sizeof(*v));
		names = bav_xcalloc(n, sizeof(*names));
	}
	for (i = 0; i < n; i++) {
		int t = sqlite3_column_type(stmt, i);

		memset(&v[i], 0, sizeof(v[i]));
		names[i] = sqlite3_column_name(stmt, i);
		if (t == SQLITE_NULL) {
			v[i].type = BAV_STORE_NULL;
			continue;
		}
		if (t == SQLITE_INTEGER) {
			v[i].type = BAV_STORE_INT;
			v[i].i = sqlite3_column_int64(stmt, i);
			v[i].d = (double)v[i].i;
		} else if (t == SQLITE_FLOAT) {
			v[i].type = BAV_STORE_REAL;
			v[i].d = sqlite3_column_double(stmt, i);
			v[i].i = (long long)v[i].d;
		} else {
			v[i].type = BAV_STORE_TEXT;
		}
		/* text form (converts numbers; stays valid until the
		   next step, as the column is not converted again) */
		v[i].s = (const char *)sqlite3_column_text(stmt, i);
		v[i].len = (size_t)sqlite3_column_bytes(stmt, i);
		if (v[i].s == NULL)
			v[i].s = "";
	}
	stop = row_cb(ctx, v, names, (unsigned int)n);
	if (v != vals) {
		free(v);
		free(names);
	}
	return stop;
}

static int sq_exec(struct bav_store *store, const char *sql,
		   const struct bav_store_param *params, unsigned int nparams,
		   bav_store_row_t *row_cb, void *ctx)
{
	struct sqlite_be *be = store->be;
	sqlite3_stmt *stmt = NULL;
	int ret, rc;

	if ((ret = prepare(store, sql, &stmt)) < 0)
		return ret;
	if ((ret = bind(store, stmt, params, nparams)) < 0) {
		sqlite3_reset(stmt);
		return ret;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (row_cb != NULL && deliver_row(stmt, row_cb, ctx) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		ret = map_error(store, rc, "exec");
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
		return ret;
	}
	store->changes = (unsigned long long)sqlite3_changes(be->db);
	store->last_id = sqlite3_last_insert_rowid(be->db);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return BAV_OK;
}

static int sq_begin(struct bav_store *store)
{
	return simple(store, "BEGIN IMMEDIATE");
}

static int sq_commit(struct bav_store *store)
{
	return simple(store, "COMMIT");
}

static int sq_rollback(struct bav_store *store)
{
	struct sqlite_be *be = store->be;

	if (sqlite3_get_autocommit(be->db))
		return BAV_OK;	/* sqlite rolled back by itself */
	return simple(store, "ROLLBACK");
}

const struct bav_store_vfuncs bav_store_sqlite = {
	.name = "sqlite",
	.migrations = bav_store_migrations_sqlite,
	.version_table_sql = "SELECT 1 FROM sqlite_master WHERE type = "
			     "'table' AND name = 'bav_schema_version'",
	.open = sq_open,
	.close = sq_close,
	.exec = sq_exec,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
};
