/*
** sqlite.h -- SQLite databases through Debian's libsqlite3, opened on first
** use (natives/core/sqlite.c).  Internal, like io.h: declared outside
** hebb.h's FFI block, so libhebb.so does not export it; the binding is
** natives/lua/l_sqlite.c (module hebb._sqlite), used by hebb.sweep and
** hebb.runs for the results store.
**
** Every function fails with HEBB_ERR_IO and a message "'path': what
** (SQLite: errmsg)", or HEBB_ERR_UNSUPPORTED when the library is missing.
*/
#ifndef HEBB_SQLITE_H
#define HEBB_SQLITE_H

#include <stdbool.h>
#include <stdint.h>

#include "hebb.h"

typedef struct hebb_db hebb_db;
typedef struct hebb_stmt hebb_stmt;

/* a value going into or coming out of a statement; p and n for text and
   blobs (a column's pointer lives until the next step) */
enum { HEBB_DB_NULL, HEBB_DB_INT, HEBB_DB_FLOAT, HEBB_DB_TEXT, HEBB_DB_BLOB };
typedef struct hebb_db_value {
  int type;
  int64_t i;
  double f;
  const char *p;
  int64_t n;
} hebb_db_value;

/* Opens (creating it unless readonly) the database at path; a locked
   database is waited for up to busy_ms milliseconds before a call fails. */
hebb_db *hebb_db_open(const char *path, bool readonly, int busy_ms);
int hebb_db_close(hebb_db *db);         /* frees db, even on failure */
const char *hebb_db_path(const hebb_db *db);
/* runs one or more statements that take no parameters */
int hebb_db_exec(hebb_db *db, const char *sql);
int64_t hebb_db_changes(hebb_db *db);
int64_t hebb_db_last_id(hebb_db *db);

hebb_stmt *hebb_db_prepare(hebb_db *db, const char *sql);
void hebb_stmt_free(hebb_stmt *s);
int hebb_stmt_nparams(hebb_stmt *s);
int hebb_stmt_bind(hebb_stmt *s, int i, const hebb_db_value *v);  /* 1-based */
/* one step: *row is true when a row is ready, false when done */
int hebb_stmt_step(hebb_stmt *s, bool *row);
int hebb_stmt_ncols(hebb_stmt *s);
const char *hebb_stmt_colname(hebb_stmt *s, int i);   /* 0-based */
void hebb_stmt_column(hebb_stmt *s, int i, hebb_db_value *v);   /* 0-based */

#endif
