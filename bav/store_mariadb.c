/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	store_mariadb - MariaDB backend of the bav store (libmariadb)
 * SYNOPSIS
 *	store_mariadb.so in $(pkglibdir), loaded by store.c:
 *	const struct bav_store_vfuncs *bav_store_mariadb_module(unsigned abi);
 * DESCRIPTION
 *	A loadable module, so that only a process opening a mariadb:// store
 *	maps libmariadb (and its libssl/libcrypto). Its one exported symbol
 *	returns the vfuncs, or NULL for another BAV_STORE_MODULE_ABI; it
 *	links nothing of libbav: errors and allocations go through
 *	store->host (store.c's bav_store_error, bav_xcalloc, bav_xstrdup),
 *	the migrations are its own copy of store_sql.c.
 *
 *	One connection per store, utf8mb4, MYSQL_OPT_RECONNECT off (a lost
 *	connection is reported, never silently replaced in the middle of a
 *	transaction), connect/read/write timeouts from opts->net_timeout_s
 *	and innodb_lock_wait_timeout from opts->lock_timeout_ms, isolation
 *	READ COMMITTED (no gap locks between concurrent writers). Every
 *	statement is a server-side prepared statement, cached by SQL text;
 *	results are fetched with mysql_stmt_store_result() and bound as
 *	strings of their maximum length, then typed from the field types.
 *	Transactions use mysql_autocommit/mysql_commit/mysql_rollback.
 *	CLIENT_FOUND_ROWS makes the changes of an UPDATE the rows it
 *	matched, as in SQLite, so "UPDATE, INSERT if nothing changed" works
 *	on both.
 *
 *	Ownership: row values point into per-statement buffers valid
 *	during the row callback only.
 * DIAGNOSTICS
 *	BAV_ETEMP: CR_SERVER_GONE_ERROR, CR_SERVER_LOST, connection refused
 *	or failed, server shutdown, too many connections, lock wait timeout,
 *	deadlock, killed connection; after a lost connection every later
 *	call fails with BAV_ETEMP at once. BAV_ECONFIG: access denied (to
 *	the server, the database, a table or a column: the grants of
 *	bav-store(7)), unknown database. Else BAV_EDATA; ER_DUP_ENTRY sets last_dup.
 * SEE ALSO
 *	MariaDB Connector/C prepared statement API, store.c
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "store_private.h"

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>

#define STMT_CACHE_MAX 64

struct cached_stmt {
	char *sql;
	MYSQL_STMT *stmt;
};

struct mariadb_be {
	MYSQL *db;
	bool gone;			/* connection lost: all calls temp */
	struct cached_stmt cache[STMT_CACHE_MAX];
	unsigned int ncache, next_evict;
};

static bool is_temporary(unsigned int err)
{
	switch (err) {
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_CONN_HOST_ERROR:
	case CR_CONNECTION_ERROR:
	case CR_SERVER_LOST_EXTENDED:
	case ER_LOCK_WAIT_TIMEOUT:
	case ER_LOCK_DEADLOCK:
	case ER_SERVER_SHUTDOWN:
	case ER_CON_COUNT_ERROR:
	case ER_TOO_MANY_USER_CONNECTIONS:
	case ER_CONNECTION_KILLED:
	case ER_QUERY_INTERRUPTED:
	case ER_OUT_OF_RESOURCES:
	case ER_OUTOFMEMORY:
	case ER_LOCK_TABLE_FULL:
	case ER_RECORD_FILE_FULL:
		return true;
	default:
		return false;
	}
}

static bool is_connection_loss(unsigned int err)
{
	return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST ||
	       err == CR_SERVER_LOST_EXTENDED || err == ER_SERVER_SHUTDOWN ||
	       err == ER_CONNECTION_KILLED;
}

static int fail(struct bav_store *store, unsigned int err, const char *msg,
		const char *what)
{
	struct mariadb_be *be = store->be;
	int ret = BAV_EDATA;

	if (is_temporary(err))
		ret = BAV_ETEMP;
	else if (err == ER_ACCESS_DENIED_ERROR || err == ER_BAD_DB_ERROR ||
		 err == ER_DBACCESS_DENIED_ERROR ||
		 err == ER_TABLEACCESS_DENIED_ERROR ||
		 err == ER_COLUMNACCESS_DENIED_ERROR ||
		 err == ER_SPECIFIC_ACCESS_DENIED_ERROR ||
		 err == CR_UNKNOWN_HOST)
		ret = BAV_ECONFIG;
	if (is_connection_loss(err))
		be->gone = true;
	if (err == ER_DUP_ENTRY)
		store->last_dup = true;
	return store->host->error(store, ret, "mariadb: %s: %s (%u)",
				  what, msg, err);
}

static int db_fail(struct bav_store *store, const char *what)
{
	struct mariadb_be *be = store->be;

	return fail(store, mysql_errno(be->db), mysql_error(be->db), what);
}

static int stmt_fail(struct bav_store *store, MYSQL_STMT *stmt,
		     const char *what)
{
	return fail(store, mysql_stmt_errno(stmt), mysql_stmt_error(stmt),
		    what);
}

static int my_open(struct bav_store *store, const struct bav_store_uri *uri,
		   const struct bav_store_opts *opts, const char *password)
{
	struct mariadb_be *be = store->host->xcalloc(1, sizeof(*be));
	unsigned int timeout = opts->net_timeout_s != 0 ?
			       opts->net_timeout_s : 10;
	unsigned int lock_s = opts->lock_timeout_ms != 0 ?
			      (opts->lock_timeout_ms + 999) / 1000 : 5;
	my_bool off = 0;
	char init[128];
	int ret;

	store->be = be;
	if ((be->db = mysql_init(NULL)) == NULL)
		return store->host->error(store, BAV_ETEMP,
					  "mariadb: mysql_init failed");
	snprintf(init, sizeof(init), "SET SESSION innodb_lock_wait_timeout"
		 " = %u", lock_s);
	mysql_optionsv(be->db, MYSQL_OPT_RECONNECT, &off);
	mysql_optionsv(be->db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_optionsv(be->db, MYSQL_OPT_READ_TIMEOUT, &timeout);
	mysql_optionsv(be->db, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
	mysql_optionsv(be->db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_optionsv(be->db, MYSQL_INIT_COMMAND, init);
	/* no gap locks between concurrent recorders (fewer deadlocks) */
	mysql_optionsv(be->db, MYSQL_INIT_COMMAND, "SET SESSION TRANSACTION"
		       " ISOLATION LEVEL READ COMMITTED");
	if (mysql_real_connect(be->db, uri->socket != NULL ? NULL : uri->host,
			       uri->user, password, uri->db, uri->port,
			       uri->socket, CLIENT_FOUND_ROWS) == NULL) {
		ret = db_fail(store, "connect");
		be->gone = true;
		return ret;
	}
	return BAV_OK;
}

static void my_close(struct bav_store *store)
{
	struct mariadb_be *be = store->be;
	unsigned int i;

	for (i = 0; i < be->ncache; i++) {
		if (be->cache[i].stmt != NULL)
			mysql_stmt_close(be->cache[i].stmt);
		free(be->cache[i].sql);
	}
	if (be->db != NULL)
		mysql_close(be->db);
	free(be);
	store->be = NULL;
}

static int prepare(struct bav_store *store, const char *sql,
		   MYSQL_STMT **stmt_r)
{
	struct mariadb_be *be = store->be;
	struct cached_stmt *c;
	MYSQL_STMT *stmt = NULL;
	unsigned int i;
	my_bool on = 1;

	for (i = 0; i < be->ncache; i++) {
		if (strcmp(be->cache[i].sql, sql) == 0) {
			*stmt_r = be->cache[i].stmt;
			return BAV_OK;
		}
	}
	if ((stmt = mysql_stmt_init(be->db)) == NULL)
		return db_fail(store, "mysql_stmt_init");
	if (mysql_stmt_prepare(stmt, sql, (unsigned long)strlen(sql)) != 0) {
		int ret = stmt_fail(store, stmt, "prepare");

		mysql_stmt_close(stmt);
		return ret;
	}
	mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &on);
	if (be->ncache < STMT_CACHE_MAX) {
		c = &be->cache[be->ncache++];
	} else {
		c = &be->cache[be->next_evict];
		be->next_evict = (be->next_evict + 1) % STMT_CACHE_MAX;
		mysql_stmt_close(c->stmt);
		free(c->sql);
	}
	c->sql = store->host->xstrdup(sql);
	c->stmt = stmt;
	*stmt_r = stmt;
	return BAV_OK;
}

static int bind_params(struct bav_store *store, MYSQL_STMT *stmt,
		       const struct bav_store_param *params,
		       unsigned int nparams, MYSQL_BIND *b)
{
	unsigned int i;

	if (nparams != mysql_stmt_param_count(stmt))
		return store->host->error(store, BAV_EDATA,
			"mariadb: statement has %lu parameters, %u given",
			mysql_stmt_param_count(stmt), nparams);
	for (i = 0; i < nparams; i++) {
		const struct bav_store_param *p = &params[i];

		memset(&b[i], 0, sizeof(b[i]));
		if (p->type == BAV_STORE_INT) {
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = (void *)&p->i;
		} else if (p->type == BAV_STORE_TEXT && p->s != NULL) {
			b[i].buffer_type = MYSQL_TYPE_STRING;
			b[i].buffer = (void *)p->s;
			b[i].buffer_length = (unsigned long)strlen(p->s);
		} else {
			b[i].buffer_type = MYSQL_TYPE_NULL;
		}
	}
	if (nparams > 0 && mysql_stmt_bind_param(stmt, b) != 0)
		return stmt_fail(store, stmt, "bind");
	return BAV_OK;
}

static enum bav_store_type column_type(const MYSQL_FIELD *f)
{
	switch (f->type) {
	case MYSQL_TYPE_TINY:
	case MYSQL_TYPE_SHORT:
	case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_LONGLONG:
	case MYSQL_TYPE_YEAR:
		return BAV_STORE_INT;
	case MYSQL_TYPE_DECIMAL:
	case MYSQL_TYPE_NEWDECIMAL:
		return f->decimals == 0 ? BAV_STORE_INT : BAV_STORE_REAL;
	case MYSQL_TYPE_FLOAT:
	case MYSQL_TYPE_DOUBLE:
		return BAV_STORE_REAL;
	default:
		return BAV_STORE_TEXT;
	}
}

struct result {
	unsigned int n;
	MYSQL_BIND *bind;
	char **buf;
	unsigned long *len;
	my_bool *null;
	struct bav_store_value *vals;
	const char **names;
};

static void result_free(struct result *r)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		free(r->buf[i]);
	free(r->bind);
	free(r->buf);
	free(r->len);
	free(r->null);
	free(r->vals);
	free(r->names);
}

static int fetch_rows(struct bav_store *store, MYSQL_STMT *stmt,
		      MYSQL_RES *meta, bav_store_row_t *row_cb, void *ctx)
{
	MYSQL_FIELD *fields;
	struct result r = { 0 };
	unsigned int i;
	int ret = BAV_OK, rc;

	if (mysql_stmt_store_result(stmt) != 0)
		return stmt_fail(store, stmt, "store result");
	r.n = mysql_num_fields(meta);
	fields = mysql_fetch_fields(meta);
	r.bind = store->host->xcalloc(r.n, sizeof(*r.bind));
	r.buf = store->host->xcalloc(r.n, sizeof(*r.buf));
	r.len = store->host->xcalloc(r.n, sizeof(*r.len));
	r.null = store->host->xcalloc(r.n, sizeof(*r.null));
	r.vals = store->host->xcalloc(r.n, sizeof(*r.vals));
	r.names = store->host->xcalloc(r.n, sizeof(*r.names));
	for (i = 0; i < r.n; i++) {
		/* numbers print in at most 64 bytes; max_length of the
		   stored result covers text */
		size_t size = fields[i].max_length + 65;

		r.buf[i] = store->host->xcalloc(1, size);
		r.bind[i].buffer_type = MYSQL_TYPE_STRING;
		r.bind[i].buffer = r.buf[i];
		r.bind[i].buffer_length = (unsigned long)size - 1;
		r.bind[i].length = &r.len[i];
		r.bind[i].is_null = &r.null[i];
		r.names[i] = fields[i].name;
	}
	if (mysql_stmt_bind_result(stmt, r.bind) != 0)
		ret = stmt_fail(store, stmt, "bind result");
	while (ret == BAV_OK && (rc = mysql_stmt_fetch(stmt)) == 0) {
		for (i = 0; i < r.n; i++) {
			struct bav_store_value *v = &r.vals[i];

			memset(v, 0, sizeof(*v));
			if (r.null[i])
				continue;
			r.buf[i][r.len[i]] = '\0';
			v->type = column_type(&fields[i]);
			v->s = r.buf[i];
			v->len = r.len[i];
			if (v->type == BAV_STORE_INT) {
				v->i = strtoll(v->s, NULL, 10);
				v->d = (double)v->i;
			} else if (v->type == BAV_STORE_REAL) {
				v->d = strtod(v->s, NULL);
				v->i = (long long)v->d;
			}
		}
		if (row_cb != NULL && row_cb(ctx, r.vals, r.names, r.n) != 0)
			break;
	}
	if (ret == BAV_OK && rc == 1)
		ret = stmt_fail(store, stmt, "fetch");
	mysql_stmt_free_result(stmt);
	result_free(&r);
	return ret;
}

static int my_exec(struct bav_store *store, const char *sql,
		   const struct bav_store_param *params, unsigned int nparams,
		   bav_store_row_t *row_cb, void *ctx)
{
	struct mariadb_be *be = store->be;
	MYSQL_BIND pbind_buf[32], *pbind = pbind_buf;
	MYSQL_STMT *stmt = NULL;
	MYSQL_RES *meta;
	int ret;

	if (be->gone)
		return store->host->error(store, BAV_ETEMP,
			"mariadb: connection to the server was lost");
	if ((ret = prepare(store, sql, &stmt)) < 0)
		return ret;
	if (nparams > 32)
		pbind = store->host->xcalloc(nparams, sizeof(*pbind));
	ret = bind_params(store, stmt, params, nparams, pbind);
	if (ret == BAV_OK && mysql_stmt_execute(stmt) != 0)
		ret = stmt_fail(store, stmt, "execute");
	if (pbind != pbind_buf)
		free(pbind);
	if (ret < 0)
		return ret;
	if ((meta = mysql_stmt_result_metadata(stmt)) != NULL) {
		ret = fetch_rows(store, stmt, meta, row_cb, ctx);
		mysql_free_result(meta);
		store->changes = 0;
	} else {
		my_ulonglong n = mysql_stmt_affected_rows(stmt);

		store->changes = n == (my_ulonglong)-1 ? 0 : n;
		store->last_id = (long long)mysql_stmt_insert_id(stmt);
	}
	return ret;
}

static int my_begin(struct bav_store *store)
{
	struct mariadb_be *be = store->be;

	if (be->gone)
		return store->host->error(store, BAV_ETEMP,
			"mariadb: connection to the server was lost");
	return mysql_autocommit(be->db, 0) == 0 ? BAV_OK :
	       db_fail(store, "begin");
}

static int my_commit(struct bav_store *store)
{
	struct mariadb_be *be = store->be;

	if (be->gone)
		return store->host->error(store, BAV_ETEMP,
			"mariadb: connection to the server was lost");
	if (mysql_commit(be->db) != 0)
		return db_fail(store, "commit");
	return mysql_autocommit(be->db, 1) == 0 ? BAV_OK :
	       db_fail(store, "autocommit");
}

static int my_rollback(struct bav_store *store)
{
	struct mariadb_be *be = store->be;

	if (be->gone)
		return BAV_OK;	/* the server rolled back with the session */
	if (mysql_rollback(be->db) != 0)
		return db_fail(store, "rollback");
	return mysql_autocommit(be->db, 1) == 0 ? BAV_OK :
	       db_fail(store, "autocommit");
}

static const struct bav_store_vfuncs bav_store_mariadb = {
	.name = "mariadb",
	.migrations = bav_store_migrations_mariadb,
	.version_table_sql = "SELECT 1 FROM information_schema.tables WHERE"
			     " table_schema = DATABASE() AND table_name ="
			     " 'bav_schema_version'",
	.open = my_open,
	.close = my_close,
	.exec = my_exec,
	.begin = my_begin,
	.commit = my_commit,
	.rollback = my_rollback,
};

/* The module's only exported symbol (store.c looks it up by name). */
const struct bav_store_vfuncs *bav_store_mariadb_module(unsigned int abi)
{
	return abi == BAV_STORE_MODULE_ABI ? &bav_store_mariadb : NULL;
}
