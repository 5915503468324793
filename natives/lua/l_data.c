/*
** l_data.c -- the module `hebb._data`: the C half of hebb.data
** (stdlib/hebb/data.lua), the IDX reader of natives/core/idx.c.
*/
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

static const hebb_lreg data_funcs[] = {
  {"read_idx", l_read_idx, HEBB_FN | HEBB_RAW,
   "_data.read_idx(path [, dtype])\n\nThe IDX file at path (plain or gzip) "
   "as a new tensor of dtype (f64, f32 or i64; a name or {dtype=}).  Use "
   "hebb.data.read_idx."},
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb__data(lua_State *L) {
  return hebbL_newmodule(L, data_funcs,
    "hebb._data\n\nThe C half of hebb.data: the IDX reader.");
}
