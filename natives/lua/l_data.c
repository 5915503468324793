/*
** l_data.c -- the module `hebb._data`: the C half of hebb.data and
** hebb.metrics (stdlib/hebb/data.lua, metrics.lua).  The IDX reader
** (natives/core/idx.c), and the two facts about the process a progress
** display needs that plain Lua cannot give: whether stdout is a terminal,
** and a monotonic wall clock (os.clock is CPU time, which OpenMP threads
** inflate and sleeping does not advance).
*/
#include <time.h>
#include <unistd.h>

#include "lhebb.h"
#include "idx.h"

static int l_read_idx(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int dtype = hebbL_dtypeopts(L, 2, HEBB_F64);
  hebbL_checkpath(L, path, "r");
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_read_idx(path, dtype));
  return 1;
}

static int l_isatty(lua_State *L) {
  lua_Integer fd = luaL_optinteger(L, 1, 1);
  luaL_argcheck(L, fd >= 0 && fd <= 1 << 20, 1, "not a file descriptor");
  lua_pushboolean(L, isatty((int)fd));
  return 1;
}

static int l_clock(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + 1e-9 * (lua_Number)ts.tv_nsec);
  return 1;
}

static const hebb_lreg data_funcs[] = {
  {"read_idx", l_read_idx, HEBB_FN | HEBB_RAW,
   "_data.read_idx(path [, dtype])\n\nThe IDX file at path (plain or gzip) "
   "as a new tensor of dtype (f64, f32 or i64; a name or {dtype=}).  Use "
   "hebb.data.read_idx."},
  {"isatty", l_isatty, HEBB_FN | HEBB_RAW,
   "_data.isatty([fd])\n\nWhether file descriptor fd (default 1, stdout) "
   "is a terminal."},
  {"clock", l_clock, HEBB_FN | HEBB_RAW,
   "_data.clock()\n\nSeconds on a monotonic wall clock (for rates and "
   "ETAs; only differences mean anything)."},
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb__data(lua_State *L) {
  return hebbL_newmodule(L, data_funcs,
    "hebb._data\n\nC helpers of hebb.data and hebb.metrics: the IDX reader, "
    "isatty and a monotonic clock.");
}
