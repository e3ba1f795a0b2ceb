/* SPDX-License-Identifier: MIT */
/*
 * store_private.h - the backend interface behind bav_store.h; not
 * installed. store.c parses the URI and dispatches through a struct
 * bav_store_vfuncs; store_sqlite.c and store_mariadb.c implement it,
 * the latter as the module store_mariadb.so that store.c dlopen()s.
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

/* What store.c lends a backend module (store_mariadb.so links nothing of
 * libbav): the error setter and the allocators with the OOM hook. */
struct bav_store_host {
	int (*error)(struct bav_store *store, int ret, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	void *(*xcalloc)(size_t n, size_t size);
	char *(*xstrdup)(const char *s);
};

/* A backend module's one exported symbol: returns its vfuncs, or NULL
 * when abi is not the BAV_STORE_MODULE_ABI it was built with. Bump the
 * ABI when struct bav_store, bav_store_host or bav_store_vfuncs change. */
#define BAV_STORE_MODULE_ABI 1
typedef const struct bav_store_vfuncs *
bav_store_module_t(unsigned int abi);
#define BAV_STORE_MARIADB_ENTRY "bav_store_mariadb_module"
bav_store_module_t bav_store_mariadb_module
	__attribute__((visibility("default")));

struct bav_store {
	const struct bav_store_vfuncs *v;
	const struct bav_store_host *host;
	void *module;			/* dlopen() handle of v, or NULL */
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

#endif
