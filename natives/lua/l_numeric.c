/*
** l_numeric.c -- the module `hebb._numeric`: the C half of hebb.numeric
** (stdlib/hebb/numeric.lua): Gauss-Legendre rules (natives/core/numeric.c).
*/
#include "lhebb.h"

static int l_gauss_legendre(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  double a = luaL_optnumber(L, 2, -1), b = luaL_optnumber(L, 3, 1);
  hebb_tensor *x = NULL, *w = NULL, **xbox, **wbox;
  xbox = hebbL_newbox(L);
  wbox = hebbL_newbox(L);
  if (hebb_gauss_legendre((int64_t)n, a, b, &x, &w) != HEBB_OK) {
    if (x) hebb_release(x);
    if (w) hebb_release(w);
    return hebbL_raise(L);
  }
  *xbox = x;
  *wbox = w;
  hebbL_account(L, x);
  hebbL_account(L, w);
  return 2;
}

static const hebb_lreg numeric_funcs[] = {
  {"gauss_legendre", l_gauss_legendre, HEBB_FN | HEBB_RAW,
   "_numeric.gauss_legendre(n [, a, b])\n\nNodes and weights of the n-point "
   "rule on [a, b].  Use hebb.numeric.gauss_legendre."},
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb__numeric(lua_State *L) {
  return hebbL_newmodule(L, numeric_funcs,
    "hebb._numeric\n\nC helpers of hebb.numeric: Gauss-Legendre rules.");
}
