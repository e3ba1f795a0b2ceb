/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	store - open a bav store by URI, dispatch to its backend, migrate
 * SYNOPSIS
 *	#include "bav_store.h"
 *
 *	int bav_store_open(const char *uri, const struct bav_store_opts *opts,
 *			   struct bav_store **store_r, char **error_r);
 *	void bav_store_close(struct bav_store **store);
 *	int bav_store_exec(store, sql, params, nparams, row_cb, ctx, error_r);
 *	int bav_store_begin/commit/rollback(store, error_r);
 *	int bav_store_migrate(store, error_r);
 * DESCRIPTION
 *	Parses sqlite:PATH and mariadb://user@host[:port]/db[?k=v&...]
 *	(keys password_file, socket), reads the password file, opens the
 *	backend (SQLite built in; MariaDB dlopen()ed from store_mariadb.so
 *	in $BAV_MODULE_DIR, default $(pkglibdir), so that only a process
 *	opening a mariadb:// store loads libmariadb) and checks the schema
 *	version against the migrations embedded from sql/ (store_sql.c):
 *	newer is refused, older is migrated when opts->migrate is set.
 *	Migration files are split into statements at lines ending in ";";
 *	"--" lines are comments.
 *
 *	Ownership: the store is malloc'ed and freed by bav_store_close();
 *	*error_r texts live in the store until its next call.
 * DIAGNOSTICS
 *	0 ok; BAV_ETEMP, BAV_ECONFIG or BAV_EDATA with *error_r; open
 *	returns a malloc'ed *error_r. Never exits, never prints. BAV_ECONFIG
 *	"MariaDB store backend not available: PATH: DLERROR" when the
 *	module cannot be loaded.
 * SEE ALSO
 *	bav_store.h, store_sqlite.c, store_mariadb.c, bav-store(7)
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "store_private.h"
#include "bav_config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int bav_store_error(struct bav_store *store, int ret, const char *fmt, ...)
{
	va_list ap;
	char tmp[1024];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	bav_buf_reset(&store->error);
	bav_buf_append(&store->error, tmp, strlen(tmp));
	return ret;
}

static const char *errtext(struct bav_store *store)
{
	return store->error.data != NULL ? store->error.data : "unknown error";
}

/* ---- URI ---------------------------------------------------------------- */

void bav_store_uri_free(struct bav_store_uri *uri)
{
	free(uri->scheme);
	free(uri->path);
	free(uri->user);
	free(uri->host);
	free(uri->db);
	free(uri->socket);
	free(uri->password_file);
	memset(uri, 0, sizeof(*uri));
}

static char *dupn(const char *s, size_t n)
{
	char *p = bav_xcalloc(1, n + 1);

	memcpy(p, s, n);
	return p;
}

static int parse_query(const char *q, struct bav_store_uri *u,
		       const char **error_r)
{
	while (*q != '\0') {
		size_t n = strcspn(q, "&");
		const char *eq = memchr(q, '=', n);

		if (eq == NULL) {
			*error_r = "store URI: parameter without '='";
			return BAV_ECONFIG;
		}
		if ((size_t)(eq - q) == 13 &&
		    strncmp(q, "password_file", 13) == 0) {
			free(u->password_file);
			u->password_file = dupn(eq + 1, n - (eq + 1 - q));
		} else if ((size_t)(eq - q) == 6 &&
			   strncmp(q, "socket", 6) == 0) {
			free(u->socket);
			u->socket = dupn(eq + 1, n - (eq + 1 - q));
		} else {
			*error_r = "store URI: unknown parameter "
				   "(known: password_file, socket)";
			return BAV_ECONFIG;
		}
		q += n;
		if (*q == '&')
			q++;
	}
	return BAV_OK;
}

static int parse_mariadb(const char *s, struct bav_store_uri *u,
			 const char **error_r)
{
	const char *at, *slash, *colon, *qm;
	size_t dblen;

	/* s points after "mariadb://" */
	slash = strchr(s, '/');
	at = strchr(s, '@');
	if (slash == NULL || at == NULL || at > slash || at == s) {
		*error_r = "store URI: expected mariadb://user@host[:port]/db";
		return BAV_ECONFIG;
	}
	u->user = dupn(s, at - s);
	if (strchr(u->user, ':') != NULL) {
		*error_r = "store URI: no password in the URI, use "
			   "password_file";
		return BAV_ECONFIG;
	}
	colon = memchr(at + 1, ':', slash - at - 1);
	if (colon != NULL) {
		char *end;
		unsigned long port;

		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (end != slash || end == colon + 1 || port == 0 ||
		    port > 65535 || errno != 0) {
			*error_r = "store URI: bad port";
			return BAV_ECONFIG;
		}
		u->port = (unsigned int)port;
		u->host = dupn(at + 1, colon - at - 1);
	} else {
		u->host = dupn(at + 1, slash - at - 1);
	}
	qm = strchr(slash + 1, '?');
	dblen = qm != NULL ? (size_t)(qm - slash - 1) : strlen(slash + 1);
	if (dblen == 0) {
		*error_r = "store URI: no database name";
		return BAV_ECONFIG;
	}
	u->db = dupn(slash + 1, dblen);
	return qm != NULL ? parse_query(qm + 1, u, error_r) : BAV_OK;
}

int bav_store_uri_parse(const char *uri, struct bav_store_uri *u,
			const char **error_r)
{
	int ret;

	memset(u, 0, sizeof(*u));
	if (strncmp(uri, "sqlite:", 7) == 0) {
		const char *p = uri + 7;

		if (strncmp(p, "//", 2) == 0)	/* sqlite:///abs/path */
			p += 2;
		if (*p == '\0') {
			*error_r = "store URI: sqlite: needs a file name";
			return BAV_ECONFIG;
		}
		u->scheme = bav_xstrdup("sqlite");
		u->path = bav_xstrdup(p);
		return BAV_OK;
	}
	if (strncmp(uri, "mariadb://", 10) == 0 ||
	    strncmp(uri, "mysql://", 8) == 0) {
		u->scheme = bav_xstrdup("mariadb");
		ret = parse_mariadb(strchr(uri, '/') + 2, u, error_r);
		if (ret < 0)
			bav_store_uri_free(u);
		return ret;
	}
	*error_r = "store URI: expected sqlite:/path/file.db or "
		   "mariadb://user@host[:port]/db";
	return BAV_ECONFIG;
}

/* First line of a password file, malloc'ed. Refused unless it is a
   regular file owned by root or the running user with no group or other
   permission bits (mode 0600 or 0400), as the secrets file. */
static char *read_password(const char *path, char **error_r)
{
	char errbuf[512], *password;

	/* the one secrets rule (bav_config.h): a regular file owned by root
	   or the running user, no group or other bits */
	if (bav_secret_file_read(path, true, &password, errbuf,
				 sizeof(errbuf)) < 0) {
		struct bav_buf b = { 0 };

		bav_buf_printf(&b, "password file %s", errbuf);
		*error_r = bav_buf_steal(&b);
		return NULL;
	}
	return password;
}

/* ---- open/close --------------------------------------------------------- */

static const struct bav_store_host host = {
	.error = bav_store_error,
	.xcalloc = bav_xcalloc,
	.xstrdup = bav_xstrdup,
};

#ifdef HAVE_MARIADB
#ifndef PKGLIBDIR
#define PKGLIBDIR "/usr/local/lib/bav"
#endif
/* dlopen() store_<name>.so from $BAV_MODULE_DIR or PKGLIBDIR; never
 * unloaded (RTLD_NODELETE: libmariadb and OpenSSL keep global state). */
static int load_module(const char *name, const char *label,
		       const char *entry, void **handle_r,
		       const struct bav_store_vfuncs **v_r, char **error_r)
{
	const char *dir = secure_getenv("BAV_MODULE_DIR");
	struct bav_buf path = { 0 }, b = { 0 };
	bav_store_module_t *fn;
	void *h;

	if (dir == NULL || *dir == '\0')
		dir = PKGLIBDIR;
	bav_buf_printf(&path, "%s/store_%s.so", dir, name);
	h = dlopen(path.data, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (h == NULL) {
		const char *err = dlerror();

		/* glibc's text mostly names the file already */
		if (err != NULL && strstr(err, path.data) != NULL)
			bav_buf_printf(&b, "%s store backend not available: "
				       "%s", label, err);
		else
			bav_buf_printf(&b, "%s store backend not available: "
				       "%s: %s", label, path.data,
				       err != NULL ? err : "dlopen failed");
	} else if ((fn = (bav_store_module_t *)dlsym(h, entry)) == NULL) {
		const char *err = dlerror();

		bav_buf_printf(&b, "%s store backend not available: %s: %s",
			       label, path.data, err != NULL ? err :
			       "no entry point");
		dlclose(h);
	} else if ((*v_r = fn(BAV_STORE_MODULE_ABI)) == NULL) {
		bav_buf_printf(&b, "%s store backend not available: %s was "
			       "built for another bav version", label,
			       path.data);
		dlclose(h);
	} else {
		*handle_r = h;
		bav_buf_free(&path);
		return BAV_OK;
	}
	bav_buf_free(&path);
	*error_r = bav_buf_steal(&b);
	return BAV_ECONFIG;
}
#endif

/* The backend of scheme: built in, loaded as a module (*handle_r set),
 * or NULL (*error_r set) when not built or not loadable. */
static const struct bav_store_vfuncs *
find_backend(const char *uri, const char *scheme, void **handle_r,
	     char **error_r)
{
	struct bav_buf b = { 0 };

	*handle_r = NULL;
#ifdef HAVE_SQLITE
	if (strcmp(scheme, "sqlite") == 0)
		return &bav_store_sqlite;
#endif
#ifdef HAVE_MARIADB
	if (strcmp(scheme, "mariadb") == 0) {
		const struct bav_store_vfuncs *v = NULL;

		return load_module("mariadb", "MariaDB",
				   BAV_STORE_MARIADB_ENTRY, handle_r, &v,
				   error_r) == BAV_OK ? v : NULL;
	}
#endif
	bav_buf_printf(&b, "store %s: the %s backend was not built "
		       "(configure did not find its library)", uri, scheme);
	*error_r = bav_buf_steal(&b);
	return NULL;
}

static int check_schema(struct bav_store *store, bool migrate)
{
	const char *error;
	int have, ret;

	ret = bav_store_schema_version(store, &have, &error);
	if (ret < 0)
		return ret;
	if (have > BAV_STORE_SCHEMA_VERSION)
		return bav_store_error(store, BAV_ECONFIG,
			"schema version %d of the store is newer than this "
			"bav knows (%d): upgrade bav", have,
			BAV_STORE_SCHEMA_VERSION);
	if (have == BAV_STORE_SCHEMA_VERSION)
		return BAV_OK;
	if (!migrate)
		return bav_store_error(store, BAV_ECONFIG,
			"store schema version %d, this bav needs %d: run "
			"bav store init", have, BAV_STORE_SCHEMA_VERSION);
	return bav_store_migrate(store, &error);
}

int bav_store_open(const char *uri, const struct bav_store_opts *opts,
		   struct bav_store **store_r, char **error_r)
{
	static const struct bav_store_opts defaults;
	struct bav_store_uri u;
	struct bav_store *store;
	const struct bav_store_vfuncs *v;
	const char *error;
	const char *pwfile;
	void *module;
	char *password = NULL;
	int ret;

	*store_r = NULL;
	if (opts == NULL)
		opts = &defaults;
	if ((ret = bav_store_uri_parse(uri, &u, &error)) < 0) {
		*error_r = bav_xstrdup(error);
		return ret;
	}
	if ((v = find_backend(uri, u.scheme, &module, error_r)) == NULL) {
		bav_store_uri_free(&u);
		return BAV_ECONFIG;
	}
	pwfile = opts->password_file != NULL ? opts->password_file :
		 u.password_file;
	if (pwfile != NULL && (password = read_password(pwfile, error_r)) ==
	    NULL) {
		bav_store_uri_free(&u);
		if (module != NULL)
			dlclose(module);
		return BAV_ECONFIG;
	}
	store = bav_xcalloc(1, sizeof(*store));
	store->v = v;
	store->host = &host;
	store->module = module;
	ret = v->open(store, &u, opts, password != NULL ? password :
		      opts->password);
	if (password != NULL) {
		memset(password, 0, strlen(password));
		free(password);
	}
	bav_store_uri_free(&u);
	if (ret == BAV_OK && !opts->any_version)
		ret = check_schema(store, opts->migrate);
	if (ret < 0) {
		*error_r = bav_xstrdup(errtext(store));
		bav_store_close(&store);
		return ret;
	}
	*store_r = store;
	return BAV_OK;
}

void bav_store_close(struct bav_store **storep)
{
	struct bav_store *store = *storep;

	if (store == NULL)
		return;
	*storep = NULL;
	if (store->in_tx && store->be != NULL)
		(void)store->v->rollback(store);
	if (store->be != NULL)
		store->v->close(store);
	if (store->module != NULL)
		dlclose(store->module);
	bav_buf_free(&store->error);
	free(store);
}

const char *bav_store_backend(const struct bav_store *store)
{
	return store->v->name;
}

/* ---- statements and transactions ---------------------------------------- */

int bav_store_exec(struct bav_store *store, const char *sql,
		   const struct bav_store_param *params, unsigned int nparams,
		   bav_store_row_t *row_cb, void *ctx, const char **error_r)
{
	int ret;

	store->last_dup = false;
	ret = store->v->exec(store, sql, params, nparams, row_cb, ctx);
	if (ret < 0)
		*error_r = errtext(store);
	return ret;
}

unsigned long long bav_store_changes(const struct bav_store *store)
{
	return store->changes;
}

long long bav_store_last_id(const struct bav_store *store)
{
	return store->last_id;
}

bool bav_store_in_transaction(const struct bav_store *store)
{
	return store->in_tx;
}

int bav_store_begin(struct bav_store *store, const char **error_r)
{
	int ret;

	if (store->in_tx) {
		*error_r = "bav_store_begin: a transaction is already open";
		return BAV_EDATA;
	}
	if ((ret = store->v->begin(store)) < 0) {
		*error_r = errtext(store);
		return ret;
	}
	store->in_tx = true;
	return BAV_OK;
}

int bav_store_commit(struct bav_store *store, const char **error_r)
{
	int ret;

	if (!store->in_tx) {
		*error_r = "bav_store_commit: no open transaction";
		return BAV_EDATA;
	}
	ret = store->v->commit(store);
	if (ret < 0) {
		*error_r = errtext(store);
		/* a failed commit leaves nothing open that we could use */
		(void)store->v->rollback(store);
	}
	store->in_tx = false;
	return ret;
}

int bav_store_rollback(struct bav_store *store, const char **error_r)
{
	int ret;

	if (!store->in_tx)
		return BAV_OK;
	store->in_tx = false;
	if ((ret = store->v->rollback(store)) < 0)
		*error_r = errtext(store);
	return ret;
}

/* ---- schema version and migrations -------------------------------------- */

static int version_row(void *ctx, const struct bav_store_value *cols,
		       const char *const *names, unsigned int ncols)
{
	int *found = ctx;

	(void)names;
	*found = ncols > 0 && cols[0].type != BAV_STORE_NULL ?
		 (int)cols[0].i : 0;
	return 0;
}

int bav_store_schema_version(struct bav_store *store, int *version_r,
			     const char **error_r)
{
	int found = -1, ret;

	*version_r = 0;
	ret = bav_store_exec(store, store->v->version_table_sql, NULL, 0,
			     version_row, &found, error_r);
	if (ret < 0 || found == -1)
		return ret;
	found = 0;
	ret = bav_store_exec(store,
			     "SELECT MAX(version) FROM bav_schema_version",
			     NULL, 0, version_row, &found, error_r);
	*version_r = found;
	return ret;
}

/* Run each statement of a migration text. */
static int run_script(struct bav_store *store, const char *text,
		      const char **error_r)
{
	struct bav_buf stmt = { 0 };
	const char *line = text;
	int ret = BAV_OK;

	while (*line != '\0' && ret == BAV_OK) {
		size_t n = strcspn(line, "\n");
		const char *p = line;

		while (p < line + n && (*p == ' ' || *p == '\t'))
			p++;
		if (!(line + n - p >= 2 && p[0] == '-' && p[1] == '-')) {
			bav_buf_append(&stmt, line, n);
			bav_buf_putc(&stmt, '\n');
			while (n > 0 && (line[n - 1] == ' ' ||
					 line[n - 1] == '\r'))
				n--;
			if (n > 0 && line[n - 1] == ';') {
				char *semi = strrchr(stmt.data, ';');

				*semi = '\0';
				ret = bav_store_exec(store, stmt.data, NULL,
						     0, NULL, NULL, error_r);
				bav_buf_reset(&stmt);
			}
		}
		line += strcspn(line, "\n");
		if (*line == '\n')
			line++;
	}
	bav_buf_free(&stmt);
	return ret;
}

int bav_store_migrate(struct bav_store *store, const char **error_r)
{
	const struct bav_store_migration *m;
	int have, ret;

	if ((ret = bav_store_schema_version(store, &have, error_r)) < 0)
		return ret;
	for (m = store->v->migrations; m->text != NULL; m++) {
		struct bav_store_param p[3] = {
			BAV_STORE_PARAM_INT(m->version),
			BAV_STORE_PARAM_TEXT(m->name),
			BAV_STORE_PARAM_INT(time(NULL)),
		};

		if (m->version <= have)
			continue;
		/* MariaDB commits DDL implicitly; SQLite keeps it atomic */
		if ((ret = bav_store_begin(store, error_r)) < 0)
			return ret;
		ret = run_script(store, m->text, error_r);
		if (ret == BAV_OK)
			ret = bav_store_exec(store,
				"INSERT INTO bav_schema_version (version, "
				"name, applied) VALUES (?, ?, ?)", p, 3,
				NULL, NULL, error_r);
		if (ret < 0) {
			bav_store_error(store, ret, "migration %s: %s",
					m->name, *error_r);
			*error_r = errtext(store);
			(void)store->v->rollback(store);
			store->in_tx = false;
			return ret;
		}
		if ((ret = bav_store_commit(store, error_r)) < 0)
			return ret;
	}
	return BAV_OK;
}
