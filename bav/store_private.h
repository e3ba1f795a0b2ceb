/* SPDX-License-Identifier: MIT */
/*
 * store_private.h - the backend interface behind bav_store.h; not
 * installed. store.c parses the URI and dispatches through a struct
 * bav_store_vfuncs; store_sqlite.c and store_mariadb.c implement it.
 */
#ifndef BAV_STORE_PRIVATE_H
#define BAV_STORE_PRIVATE_H

#include "bav_private.h"
#include "bav_store.h"

/* A parsed store URI; every string malloc'ed (bav_store_uri_free). */
struct bav_store_uri {
	char *scheme;		/* "sqlite" or "mariadb" */
	char *path;		/* sqlite: file name */
	char *user, *host, *db, *socket, *password_file;
	unsigned int port;	/* 0: default */
};

/* One embedded migration (store_sql.c, generated from sql/). */
struct bav_store_migration {
	int version;
	const char *name;
	const char *text;
};
extern const struct bav_store_migration bav_store_migrations_sqlite[];
extern const struct bav_store_migration bav_store_migrations_mariadb[];

struct bav_store;
struct bav_store_vfuncs {
	const char *name;
	const struct bav_store_migration *migrations;
	/* SQL returning one row if bav_schema_version exists */
	const char *version_table_sql;
	int (*open)(struct bav_store *store, const struct bav_store_uri *uri,
		    const struct bav_store_opts *opts, const char *password);
	void (*close)(struct bav_store *store);
	int (*exec)(struct bav_store *store, const char *sql,
		    const struct bav_store_param *params, unsigned int nparams,
		    bav_store_row_t *row_cb, void *ctx);
	int (*begin)(struct bav_store *store);
	int (*commit)(struct bav_store *store);
	int (*rollback)(struct bav_store *store);
};

struct bav_store {
	const struct bav_store_vfuncs *v;
	void *be;			/* backend state */
	bool in_tx;
	bool last_dup;			/* last error: unique key violation */
	unsigned long long changes;
	long long last_id;
	struct bav_buf error;		/* *error_r points here */
};

/* Set the store's error text (printf-style) and return ret. */
int bav_store_error(struct bav_store *store, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int bav_store_uri_parse(const char *uri, struct bav_store_uri *uri_r,
			const char **error_r);
void bav_store_uri_free(struct bav_store_uri *uri);

#ifdef HAVE_SQLITE
extern const struct bav_store_vfuncs bav_store_sqlite;
#endif
#ifdef HAVE_MARIADB
extern const struct bav_store_vfuncs bav_store_mariadb;
#endif

#endif
