/*
** l_stats.c -- the module `hebb._stats`: the C half of hebb.stats
** (stdlib/hebb/stats.lua): binning, autocorrelation times, AR(1) series
** (natives/core/stats.c).
*/
#include "lhebb.h"

static int l_binning(lua_State *L) {
  hebb_tensor *x = hebbL_check(L, 1), *r = NULL, **box;
  lua_Integer minbins = luaL_optinteger(L, 2, 32);
  box = hebbL_newbox(L);
  hebbL_finish(L, box, &r, hebb_stats_binning(x, (int64_t)minbins, &r));
  return 1;
}

/* autocorr(x [, c [, maxlag [, want_rho]]]) -> {mean, var, tau, tau_err,
   window, converged} [, rho] */
static int l_autocorr(lua_State *L) {
  hebb_tensor *x = hebbL_check(L, 1), *rho = NULL, **box = NULL;
  double c = luaL_optnumber(L, 2, 6);
  lua_Integer maxlag = luaL_optinteger(L, 3, 0);
  int want = lua_toboolean(L, 4);
  hebb_autocorr a;
  if (want) box = hebbL_newbox(L);
  if (hebb_stats_autocorr(x, c, (int64_t)maxlag, &a, want ? &rho : NULL) != HEBB_OK) {
    if (rho) hebb_release(rho);
    return hebbL_raise(L);
  }
  if (want) { *box = rho; hebbL_account(L, rho); }
  lua_createtable(L, 0, 6);
  lua_pushnumber(L, a.mean); lua_setfield(L, -2, "mean");
  lua_pushnumber(L, a.var); lua_setfield(L, -2, "var");
  lua_pushnumber(L, a.tau); lua_setfield(L, -2, "tau");
  lua_pushnumber(L, a.tau_err); lua_setfield(L, -2, "tau_err");
  lua_pushinteger(L, (lua_Integer)a.window); lua_setfield(L, -2, "window");
  lua_pushboolean(L, a.converged); lua_setfield(L, -2, "converged");
  if (want) lua_insert(L, -2);   /* table, rho */
  return want ? 2 : 1;
}

static int l_ar1(lua_State *L) {
  int64_t n = luaL_checkinteger(L, 1);
  double a = luaL_checknumber(L, 2);
  hebb_rng *g = hebbL_togen(L, 3);
  hebb_tensor **box;
  luaL_argcheck(L, n >= 0, 1, "length must be >= 0");
  box = hebbL_newbox(L);
  hebbL_fill_box(L, hebb_empty(HEBB_F64, 1, &n));
  hebbL_check_status(L, hebb_stats_ar1(g, a, *box));
  return 1;
}

static const hebb_lreg stats_funcs[] = {
  {"binning", l_binning, HEBB_FN | HEBB_RAW,
   "_stats.binning(x [, minbins])\n\nErrors of the mean per binning level.  "
   "Use hebb.stats.binning."},
  {"autocorr", l_autocorr, HEBB_FN | HEBB_RAW,
   "_stats.autocorr(x [, c [, maxlag [, want_rho]]])\n\nThe integrated "
   "autocorrelation time.  Use hebb.stats.autocorr."},
  {"ar1", l_ar1, HEBB_FN | HEBB_RAW,
   "_stats.ar1(n, a [, generator])\n\nAn AR(1) series.  Use hebb.stats.ar1."},
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb__stats(lua_State *L) {
  return hebbL_newmodule(L, stats_funcs,
    "hebb._stats\n\nC helpers of hebb.stats (natives/core/stats.c).");
}
