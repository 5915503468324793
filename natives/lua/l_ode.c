/*
** l_ode.c -- the module `hebb._ode`: the per-element loops of hebb.ode's
** integrators (natives/core/ode.c) for stdlib/hebb/ode.lua.
**   _ode.combine(y, {k1, ...}, {c1, ...} [, {out=}])  y + sum c_j k_j
**   _ode.errnorm(y0, y1, {k1, ...}, {e1, ...}, atol, rtol)
** combine is recorded by autograd (rule in stdlib/hebb/autograd_ode.lua);
** errnorm steers the step size and is never differentiated.
*/
#include "lhebb.h"

/* the terms at idx (a list of tensors) and their coefficients at idx + 1
   (a list of numbers of the same length); returns the count */
static int terms(lua_State *L, int idx, hebb_tensor **k, double *c) {
  int n, i;
  luaL_checktype(L, idx, LUA_TTABLE);
  luaL_checktype(L, idx + 1, LUA_TTABLE);
  n = (int)luaL_len(L, idx);
  if (n > HEBB_ODE_MAXTERMS)
    luaL_error(L, "ode: %d terms; at most %d", n, HEBB_ODE_MAXTERMS);
  if ((int)luaL_len(L, idx + 1) != n)
    luaL_error(L, "ode: %d terms but %d coefficients", n,
               (int)luaL_len(L, idx + 1));
  for (i = 0; i < n; i++) {
    int ok;
    lua_geti(L, idx, i + 1);
    k[i] = hebbL_check(L, -1);
    lua_pop(L, 1);          /* the list keeps the tensor alive */
    lua_geti(L, idx + 1, i + 1);
    c[i] = lua_tonumberx(L, -1, &ok);
    if (!ok) luaL_error(L, "ode: coefficient %d is not a number", i + 1);
    lua_pop(L, 1);
  }
  return n;
}

static int l_combine(lua_State *L) {
  hebb_tensor *y = hebbL_check(L, 1), *k[HEBB_ODE_MAXTERMS], **box, *r;
  double c[HEBB_ODE_MAXTERMS];
  int n = terms(L, 2, k, c), opts = hebbL_outopts(L, 4);
  /* elementwise: out may be y itself (the core refuses a term) */
  box = hebbL_ewise_slot(L, opts, &r);
  hebbL_finish(L, box, &r, hebb_ode_combine(y, n, k, c, &r));
  return 1;
}

static int l_errnorm(lua_State *L) {
  hebb_tensor *y0 = hebbL_check(L, 1), *y1 = hebbL_check(L, 2);
  hebb_tensor *k[HEBB_ODE_MAXTERMS];
  double e[HEBB_ODE_MAXTERMS], r;
  int n = terms(L, 3, k, e);
  double atol = luaL_checknumber(L, 5), rtol = luaL_checknumber(L, 6);
  hebbL_check_status(L, hebb_ode_errnorm(y0, y1, n, k, e, atol, rtol, &r));
  lua_pushnumber(L, r);
  return 1;
}

static const hebb_lreg ode_funcs[] = {
  {"combine", l_combine, HEBB_FN,
   "_ode.combine(y, ks, cs [, {out=}])\n\ny + sum_j cs[j] ks[j] in one pass "
   "(at most 16 terms of y's shape and dtype, real coefficients); out may "
   "be y itself."},
  {"errnorm", l_errnorm, HEBB_FN | HEBB_RAW,
   "_ode.errnorm(y0, y1, ks, es, atol, rtol)\n\nThe RMS of |sum_j es[j] "
   "ks[j]| / (atol + rtol max(|y0|, |y1|)) over the elements (a number)."},
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb__ode(lua_State *L) {
  return hebbL_newmodule(L, ode_funcs,
    "hebb._ode\n\nThe fused per-element loops behind hebb.ode (stage "
    "combinations, error norms).  Use hebb.ode.");
}
