/*
** sqlite.c -- SQLite through Debian's libsqlite3, opened with dlopen the
** first time a database is opened (like OpenBLAS in blas.c): most scripts
** never keep results, and start-up should not pay for the library.
**
** Only the dozen functions the results store needs are used; their
** prototypes are written here from SQLite's C interface (sqlite3.h of
** 3.40), so building hebb needs no -dev package.  The library is
** thread-safe as Debian builds it (SQLITE_THREADSAFE=1), and hebb uses a
** connection from one thread at a time.
*/
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "sqlite.h"

#ifndef HEBB_SQLITE_LIB
#define HEBB_SQLITE_LIB "libsqlite3.so.0"
#endif

/* constants of sqlite3.h */
enum {
  SQ_OK = 0, SQ_ROW = 100, SQ_DONE = 101,
  SQ_INTEGER = 1, SQ_FLOAT = 2, SQ_TEXT = 3, SQ_BLOB = 4, SQ_NULL = 5,
  SQ_OPEN_READONLY = 0x1, SQ_OPEN_READWRITE = 0x2, SQ_OPEN_CREATE = 0x4
};
#define SQ_TRANSIENT ((void (*)(void *))-1)   /* SQLite copies the bytes */

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;

/* The library's functions, each field named as its symbol without
   "sqlite3_". */
typedef struct sq_api {
  int (*open_v2)(const char *, sqlite3 **, int, const char *);
  int (*close_v2)(sqlite3 *);
  const char *(*errmsg)(sqlite3 *);
  const char *(*errstr)(int);
  int (*busy_timeout)(sqlite3 *, int);
  int (*exec)(sqlite3 *, const char *, void *, void *, char **);
  void (*free)(void *);
  int (*changes)(sqlite3 *);
  int64_t (*last_insert_rowid)(sqlite3 *);
  int (*prepare_v2)(sqlite3 *, const char *, int, sqlite3_stmt **,
                    const char **);
  int (*finalize)(sqlite3_stmt *);
  int (*step)(sqlite3_stmt *);
  int (*bind_parameter_count)(sqlite3_stmt *);
  int (*bind_null)(sqlite3_stmt *, int);
  int (*bind_int64)(sqlite3_stmt *, int, int64_t);
  int (*bind_double)(sqlite3_stmt *, int, double);
  int (*bind_text64)(sqlite3_stmt *, int, const char *, uint64_t,
                     void (*)(void *), unsigned char);
  int (*bind_blob64)(sqlite3_stmt *, int, const void *, uint64_t,
                     void (*)(void *));
  int (*column_count)(sqlite3_stmt *);
  const char *(*column_name)(sqlite3_stmt *, int);
  int (*column_type)(sqlite3_stmt *, int);
  int64_t (*column_int64)(sqlite3_stmt *, int);
  double (*column_double)(sqlite3_stmt *, int);
  const unsigned char *(*column_text)(sqlite3_stmt *, int);
  const void *(*column_blob)(sqlite3_stmt *, int);
  int (*column_bytes)(sqlite3_stmt *, int);
} sq_api;

#define SYM(f) {"sqlite3_" #f, offsetof(sq_api, f)}
static const struct { const char *name; size_t off; } syms[] = {
  SYM(open_v2), SYM(close_v2), SYM(errmsg), SYM(errstr), SYM(busy_timeout),
  SYM(exec), SYM(free), SYM(changes), SYM(last_insert_rowid),
  SYM(prepare_v2), SYM(finalize), SYM(step), SYM(bind_parameter_count),
  SYM(bind_null), SYM(bind_int64), SYM(bind_double), SYM(bind_text64),
  SYM(bind_blob64), SYM(column_count), SYM(column_name), SYM(column_type),
  SYM(column_int64), SYM(column_double), SYM(column_text), SYM(column_blob),
  SYM(column_bytes), {NULL, 0}
};
#undef SYM

static sq_api api;
static const sq_api *sq;
static hebb_dynlib lib = {HEBB_SQLITE_LIB, NULL, ""};
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
  int i;
  if (!hebb_dl_open(&lib)) return;
  for (i = 0; syms[i].name; i++)
    *(void **)((char *)&api + syms[i].off) = hebb_dl_sym(&lib, "", syms[i].name);
  if (!lib.error[0]) sq = &api;
}

struct hebb_db {
  sqlite3 *db;
  char path[4096];
};

struct hebb_stmt {
  hebb_db *db;
  sqlite3_stmt *st;
};

/* "'path': what (SQLite: errmsg)" */
static int fail(const hebb_db *d, const char *what) {
  return hebb_fail(HEBB_ERR_IO, "'%s': %s (SQLite: %s)", d->path, what,
                   sq->errmsg(d->db));
}

hebb_db *hebb_db_open(const char *path, bool readonly, int busy_ms) {
  hebb_db *d;
  int rc;
  pthread_once(&once, load);
  if (!sq)
    return hebb_fail_null(HEBB_ERR_UNSUPPORTED, "cannot load SQLite (%s); "
                          "install libsqlite3-0", lib.error);
  if (!(d = calloc(1, sizeof *d)))
    return hebb_fail_null(HEBB_ERR_NOMEM, "out of memory");
  snprintf(d->path, sizeof d->path, "%s", path);
  rc = sq->open_v2(path, &d->db, readonly ? SQ_OPEN_READONLY :
                   SQ_OPEN_READWRITE | SQ_OPEN_CREATE, NULL);
  if (rc != SQ_OK) {
    if (d->db) fail(d, "cannot open it");
    else hebb_fail(HEBB_ERR_IO, "'%s': cannot open it (SQLite: %s)", path,
                   sq->errstr(rc));
    sq->close_v2(d->db);
    free(d);
    return NULL;
  }
  sq->busy_timeout(d->db, busy_ms);
  return d;
}

int hebb_db_close(hebb_db *d) {
  int rc = SQ_OK, st = HEBB_OK;
  if (!d) return HEBB_OK;
  rc = sq->close_v2(d->db);
  if (rc != SQ_OK)
    st = hebb_fail(HEBB_ERR_IO, "'%s': cannot close it (SQLite: %s)", d->path,
                   sq->errstr(rc));
  free(d);
  return st;
}

const char *hebb_db_path(const hebb_db *d) { return d->path; }

int hebb_db_exec(hebb_db *d, const char *sql) {
  char *msg = NULL;
  int rc = sq->exec(d->db, sql, NULL, NULL, &msg);
  if (rc == SQ_OK) return HEBB_OK;
  rc = hebb_fail(HEBB_ERR_IO, "'%s': %s", d->path, msg ? msg : sq->errstr(rc));
  sq->free(msg);
  return rc;
}

int64_t hebb_db_changes(hebb_db *d) { return sq->changes(d->db); }
int64_t hebb_db_last_id(hebb_db *d) { return sq->last_insert_rowid(d->db); }

hebb_stmt *hebb_db_prepare(hebb_db *d, const char *sql) {
  hebb_stmt *s = calloc(1, sizeof *s);
  if (!s) return hebb_fail_null(HEBB_ERR_NOMEM, "out of memory");
  s->db = d;
  if (sq->prepare_v2(d->db, sql, -1, &s->st, NULL) != SQ_OK) {
    fail(d, "cannot prepare a statement");
    free(s);
    return NULL;
  }
  return s;
}

void hebb_stmt_free(hebb_stmt *s) {
  if (!s) return;
  sq->finalize(s->st);
  free(s);
}

int hebb_stmt_nparams(hebb_stmt *s) { return sq->bind_parameter_count(s->st); }

int hebb_stmt_bind(hebb_stmt *s, int i, const hebb_db_value *v) {
  int rc;
  switch (v->type) {
    case HEBB_DB_INT: rc = sq->bind_int64(s->st, i, v->i); break;
    case HEBB_DB_FLOAT: rc = sq->bind_double(s->st, i, v->f); break;
    case HEBB_DB_TEXT:
      rc = sq->bind_text64(s->st, i, v->p, (uint64_t)v->n, SQ_TRANSIENT, 1);
      break;   /* 1: SQLITE_UTF8 */
    case HEBB_DB_BLOB:
      rc = sq->bind_blob64(s->st, i, v->p, (uint64_t)v->n, SQ_TRANSIENT);
      break;
    default: rc = sq->bind_null(s->st, i); break;
  }
  return rc == SQ_OK ? HEBB_OK : fail(s->db, "cannot bind a parameter");
}

int hebb_stmt_step(hebb_stmt *s, bool *row) {
  int rc = sq->step(s->st);
  *row = rc == SQ_ROW;
  if (rc == SQ_ROW || rc == SQ_DONE) return HEBB_OK;
  return fail(s->db, "a statement failed");
}

int hebb_stmt_ncols(hebb_stmt *s) { return sq->column_count(s->st); }

const char *hebb_stmt_colname(hebb_stmt *s, int i) {
  return sq->column_name(s->st, i);
}

void hebb_stmt_column(hebb_stmt *s, int i, hebb_db_value *v) {
  memset(v, 0, sizeof *v);
  switch (sq->column_type(s->st, i)) {
    case SQ_INTEGER:
      v->type = HEBB_DB_INT;
      v->i = sq->column_int64(s->st, i);
      break;
    case SQ_FLOAT:
      v->type = HEBB_DB_FLOAT;
      v->f = sq->column_double(s->st, i);
      break;
    case SQ_TEXT:   /* the pointer first, then its length (SQLite's rule) */
      v->type = HEBB_DB_TEXT;
      v->p = (const char *)sq->column_text(s->st, i);
      v->n = sq->column_bytes(s->st, i);
      break;
    case SQ_BLOB:
      v->type = HEBB_DB_BLOB;
      v->p = sq->column_blob(s->st, i);
      v->n = sq->column_bytes(s->st, i);
      break;
    default: v->type = HEBB_DB_NULL; break;
  }
}
