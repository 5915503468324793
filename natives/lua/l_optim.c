/*
** l_optim.c -- the module `hebb._optim`: the fused update kernels of
** natives/core/optim.c for stdlib/hebb/optim.lua.  Each function updates a
** parameter in place from its gradient and state tensors:
**   _optim.RULE(p, g, hp [, s1 [, s2 [, s3]]])
** hp is a table of hyper-parameters (numbers; booleans for the flags),
** read on every call so an optimizer can keep one table and change it.
*/
#include "lhebb.h"
#include "optim.h"

static double numfield(lua_State *L, int t, const char *k, double def) {
  double v = def;
  if (lua_getfield(L, t, k) != LUA_TNIL) {
    int ok;
    v = lua_tonumberx(L, -1, &ok);
    if (!ok) luaL_error(L, "optimizer option %s: expected a number, got %s",
                        k, luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  return v;
}

static int flagfield(lua_State *L, int t, const char *k, int flag) {
  int on = lua_getfield(L, t, k) != LUA_TNIL && lua_toboolean(L, -1);
  lua_pop(L, 1);
  return on ? flag : 0;
}

static int step(lua_State *L, int rule, const char *name) {
  hebb_tensor *p = hebbL_check(L, 1), *g = hebbL_check(L, 2);
  hebb_tensor *st[3];
  hebb_optim_hp hp;
  const char *who;
  int n = 0, k;
  luaL_checktype(L, 3, LUA_TTABLE);
  for (k = 4; k <= 6 && !lua_isnoneornil(L, k); k++)
    st[n++] = hebbL_check(L, k);
  hp.lr = numfield(L, 3, "lr", 0);
  hp.weight_decay = numfield(L, 3, "weight_decay", 0);
  hp.momentum = numfield(L, 3, "momentum", 0);
  hp.dampening = numfield(L, 3, "dampening", 0);
  hp.beta1 = numfield(L, 3, "beta1", 0);
  hp.beta2 = numfield(L, 3, "beta2", 0);
  hp.new1 = numfield(L, 3, "new1", 0);
  hp.new2 = numfield(L, 3, "new2", 0);
  hp.eps = numfield(L, 3, "eps", 0);
  hp.bc1 = numfield(L, 3, "bc1", 1);
  hp.bc2 = numfield(L, 3, "bc2", 1);
  hp.power = numfield(L, 3, "power", 0.5);
  hp.alpha = numfield(L, 3, "alpha", 1);
  hp.beta = numfield(L, 3, "beta", 0);
  hp.flags = flagfield(L, 3, "nesterov", HEBB_OPTF_NESTEROV) |
             flagfield(L, 3, "first", HEBB_OPTF_FIRST) |
             flagfield(L, 3, "decoupled", HEBB_OPTF_DECOUPLED) |
             flagfield(L, 3, "amsgrad", HEBB_OPTF_AMSGRAD) |
             flagfield(L, 3, "centered", HEBB_OPTF_CENTERED) |
             flagfield(L, 3, "has_momentum", HEBB_OPTF_MOMENTUM) |
             flagfield(L, 3, "diag", HEBB_OPTF_DIAG);
  lua_getfield(L, 3, "name");
  who = lua_isstring(L, -1) ? lua_tostring(L, -1) : name;
  hebbL_check_status(L, hebb_optim_step(rule, p, g, n, st, &hp, who));
  lua_settop(L, 1);
  return 1;
}

static int l_sgd(lua_State *L) { return step(L, HEBB_OPT_SGD, "sgd"); }
static int l_adam(lua_State *L) { return step(L, HEBB_OPT_ADAM, "adam"); }
static int l_rmsprop(lua_State *L) {
  return step(L, HEBB_OPT_RMSPROP, "rmsprop");
}
static int l_adagrad(lua_State *L) {
  return step(L, HEBB_OPT_ADAGRAD, "adagrad");
}
static int l_cgd(lua_State *L) { return step(L, HEBB_OPT_CGD, "cgd"); }
static int l_langevin(lua_State *L) {
  return step(L, HEBB_OPT_LANGEVIN, "langevin");
}
static int l_axpby(lua_State *L) { return step(L, HEBB_OPT_AXPBY, "axpby"); }

static const hebb_lreg optim_funcs[] = {
  {"sgd", l_sgd, HEBB_FN | HEBB_RAW,
   "_optim.sgd(p, g, hp [, buf])\n\nd = g + wd p; with a momentum buffer "
   "buf = mu buf + (1 - dampening) d (buf = d when hp.first), d = buf or "
   "(nesterov) d + mu buf; p -= lr d.  Returns p."},
  {"adam", l_adam, HEBB_FN | HEBB_RAW,
   "_optim.adam(p, g, hp, m, v [, vmax])\n\nOne Adam (hp.decoupled: "
   "AdamW; hp.amsgrad with vmax) step with bias corrections hp.bc1, "
   "hp.bc2 = 1 - beta^t.  Returns p."},
  {"rmsprop", l_rmsprop, HEBB_FN | HEBB_RAW,
   "_optim.rmsprop(p, g, hp, square_avg [, buf] [, grad_avg])\n\nOne "
   "RMSProp step (alpha in hp.beta2; buf when hp.has_momentum, grad_avg "
   "when hp.centered).  Returns p."},
  {"adagrad", l_adagrad, HEBB_FN | HEBB_RAW,
   "_optim.adagrad(p, g, hp, sum)\n\nsum += g^2; p -= lr g / (sqrt(sum) + "
   "eps).  Returns p."},
  {"cgd", l_cgd, HEBB_FN | HEBB_RAW,
   "_optim.cgd(p, g, hp, m1 [, m2])\n\nCovariant gradient descent with a "
   "diagonal (hp.diag) or identity metric: M = new M_t + old M_{t-1}, p -= "
   "lr (M1/bc1) / ((M2/bc2)^power + eps).  Returns p."},
  {"langevin", l_langevin, HEBB_FN | HEBB_RAW,
   "_optim.langevin(p, g, hp, xi)\n\np = p - lr g + beta xi.  Returns p."},
  {"axpby", l_axpby, HEBB_FN | HEBB_RAW,
   "_optim.axpby(p, g, hp)\n\np = alpha p + beta g.  Returns p."},
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb__optim(lua_State *L) {
  return hebbL_newmodule(L, optim_funcs,
    "hebb._optim\n\nThe fused C update loops behind hebb.optim (one pass "
    "over the parameter, its gradient and its state).  Use hebb.optim.");
}
