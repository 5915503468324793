/*
** l_sqlite.c -- the module `hebb._sqlite`: SQLite databases for the results
** store of hebb.sweep and hebb.runs (stdlib/hebb/_store.lua).  A database
** is a userdata holding the core's hebb_db; db:query runs one statement
** with parameters and returns its rows.  Lua strings bind as TEXT, and
** as BLOB when wrapped by _sqlite.blob(s).
*/
#include "lhebb.h"
#include "sqlite.h"

#define DB_MT "hebb.sqlite.Database"
#define STMT_MT "hebb.sqlite.Statement"
#define BLOB_MT "hebb.sqlite.Blob"

static hebb_db *checkdb(lua_State *L) {
  hebb_db **d = luaL_checkudata(L, 1, DB_MT);
  if (!*d) luaL_error(L, "sqlite: the database is closed");
  return *d;
}

static int l_open(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int readonly = lua_toboolean(L, 2);
  lua_Integer busy = luaL_optinteger(L, 3, 5000);
  hebb_db **d;
  luaL_argcheck(L, busy >= 0 && busy <= 1 << 30, 3, "busy timeout out of range");
  hebbL_checkpath(L, path, readonly ? "r" : "w");   /* the notebook's file guard */
  d = lua_newuserdatauv(L, sizeof *d, 0);
  *d = NULL;
  luaL_setmetatable(L, DB_MT);
  if (!(*d = hebb_db_open(path, readonly, (int)busy))) return hebbL_raise(L);
  return 1;
}

static int db_close(lua_State *L) {
  hebb_db **d = luaL_checkudata(L, 1, DB_MT);
  int st = hebb_db_close(*d);
  *d = NULL;
  hebbL_check_status(L, st);
  return 0;
}

static int db_gc(lua_State *L) {   /* no error from a collector */
  hebb_db **d = luaL_checkudata(L, 1, DB_MT);
  hebb_db_close(*d);
  *d = NULL;
  return 0;
}

static int db_exec(lua_State *L) {
  hebb_db *d = checkdb(L);
  hebbL_check_status(L, hebb_db_exec(d, luaL_checkstring(L, 2)));
  return 0;
}

static int db_path(lua_State *L) {
  lua_pushstring(L, hebb_db_path(checkdb(L)));
  return 1;
}

/* the Lua value at idx as a statement parameter */
static void to_value(lua_State *L, int idx, int i, hebb_db_value *v) {
  size_t n;
  v->type = HEBB_DB_NULL;
  switch (lua_type(L, idx)) {
    case LUA_TNIL: break;
    case LUA_TBOOLEAN:
      v->type = HEBB_DB_INT;
      v->i = lua_toboolean(L, idx);
      break;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        v->type = HEBB_DB_INT;
        v->i = lua_tointeger(L, idx);
      }
      else {
        v->type = HEBB_DB_FLOAT;
        v->f = lua_tonumber(L, idx);
      }
      break;
    case LUA_TSTRING:
      v->type = HEBB_DB_TEXT;
      v->p = lua_tolstring(L, idx, &n);
      v->n = (int64_t)n;
      break;
    default:
      if (!luaL_testudata(L, idx, BLOB_MT))
        luaL_error(L, "sqlite: parameter %d is a %s (a number, string, "
                   "boolean, nil or _sqlite.blob expected)", i,
                   luaL_typename(L, idx));
      lua_getiuservalue(L, idx, 1);
      v->type = HEBB_DB_BLOB;
      v->p = lua_tolstring(L, -1, &n);   /* the box keeps it alive */
      v->n = (int64_t)n;
      lua_pop(L, 1);
  }
}

static void push_value(lua_State *L, const hebb_db_value *v) {
  switch (v->type) {
    case HEBB_DB_INT: lua_pushinteger(L, v->i); break;
    case HEBB_DB_FLOAT: lua_pushnumber(L, v->f); break;
    case HEBB_DB_TEXT: case HEBB_DB_BLOB:
      lua_pushlstring(L, v->p ? v->p : "", (size_t)v->n);
      break;
    default: lua_pushnil(L);
  }
}

static int stmt_free(lua_State *L) {
  hebb_stmt **s = luaL_checkudata(L, 1, STMT_MT);
  hebb_stmt_free(*s);
  *s = NULL;
  return 0;
}

/* pushes the rows of the statement in box s: a list of lists, nil for
   NULL (so rows have holes), and the list of column names */
static void push_rows(lua_State *L, hebb_stmt *s) {
  int ncol = hebb_stmt_ncols(s), c, nrow = 0;
  bool row;
  hebb_db_value v;
  lua_newtable(L);
  for (;;) {
    hebbL_check_status(L, hebb_stmt_step(s, &row));
    if (!row) break;
    lua_createtable(L, ncol, 0);
    for (c = 0; c < ncol; c++) {
      hebb_stmt_column(s, c, &v);
      push_value(L, &v);
      lua_rawseti(L, -2, c + 1);
    }
    lua_rawseti(L, -2, ++nrow);
  }
  lua_createtable(L, ncol, 0);
  for (c = 0; c < ncol; c++) {
    lua_pushstring(L, hebb_stmt_colname(s, c));
    lua_rawseti(L, -2, c + 1);
  }
}

/* db:query(sql, ...): the rows and the column names */
static int db_query(lua_State *L) {
  hebb_db *d = checkdb(L);
  const char *sql = luaL_checkstring(L, 2);
  int nargs = lua_gettop(L) - 2, i;
  hebb_stmt **s = lua_newuserdatauv(L, sizeof *s, 0);
  hebb_db_value v;
  *s = NULL;
  luaL_setmetatable(L, STMT_MT);
  if (!(*s = hebb_db_prepare(d, sql))) return hebbL_raise(L);
  if (hebb_stmt_nparams(*s) != nargs)
    return luaL_error(L, "sqlite: the statement takes %d parameters, got %d",
                      hebb_stmt_nparams(*s), nargs);
  for (i = 1; i <= nargs; i++) {
    to_value(L, i + 2, i, &v);
    hebbL_check_status(L, hebb_stmt_bind(*s, i, &v));
  }
  push_rows(L, *s);
  hebb_stmt_free(*s);
  *s = NULL;
  return 2;
}

static int db_changes(lua_State *L) {
  hebb_db *d = checkdb(L);
  lua_pushinteger(L, hebb_db_changes(d));
  lua_pushinteger(L, hebb_db_last_id(d));
  return 2;
}

static int l_blob(lua_State *L) {
  luaL_checktype(L, 1, LUA_TSTRING);
  lua_newuserdatauv(L, 0, 1);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, BLOB_MT);
  return 1;
}

static const hebb_lreg sqlite_funcs[] = {
  {"open", l_open, HEBB_FN | HEBB_RAW,
   "_sqlite.open(path [, readonly [, busy_ms]])\n\nThe SQLite database at "
   "path (created unless readonly), waiting up to busy_ms (default 5000) "
   "for a lock another process holds.  Methods: exec(sql), query(sql, ...) "
   "-> rows, names; changes() -> count, last id; path(); close()."},
  {"blob", l_blob, HEBB_FN | HEBB_RAW,
   "_sqlite.blob(s)\n\nThe string s marked to bind as a BLOB."},
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb__sqlite(lua_State *L) {
  static const luaL_Reg db_methods[] = {
    {"exec", db_exec}, {"query", db_query}, {"changes", db_changes},
    {"path", db_path}, {"close", db_close}, {"__gc", db_gc},
    {"__close", db_gc}, {NULL, NULL}
  };
  static const luaL_Reg stmt_methods[] = {{"__gc", stmt_free}, {NULL, NULL}};
  hebbL_newmodule(L, sqlite_funcs,
    "hebb._sqlite\n\nSQLite through Debian's libsqlite3 (opened on first "
    "use), for the results store of hebb.sweep and hebb.runs.");
  luaL_newmetatable(L, DB_MT);
  luaL_setfuncs(L, db_methods, 0);
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newmetatable(L, STMT_MT);
  luaL_setfuncs(L, stmt_methods, 0);
  luaL_newmetatable(L, BLOB_MT);
  lua_pop(L, 2);
  return 1;
}
