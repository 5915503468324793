/*
** l_optim.c -- the module `hebb._optim`: the fused update kernels of
** natives/core/optim.c for stdlib/hebb/optim.lua.  Each function updates a
** parameter in place from its gradient and state tensors:
**   _optim.RULE(p, g, hp [, s1 [, s2 [, s3]]])
** hp is a table of hyper-parameters (numbers; booleans for the flags),
** read on every call so an optimizer can keep one table and change it.
** _optim.apply does one step of every parameter of an optimizer in one
** call (Adam's opt:step()), reading the step counts and state tensors from
** the optimizer's state tables.
*/
#include <stddef.h>
#include <string.h>

#include "lhebb.h"
#include "optim.h"

/* The fields of hp: numbers at an offset of hebb_optim_hp, booleans as
   flags.  read_hp walks the table once with lua_next and matches each key
   here (a lua_getfield per field, interning its name each time, cost ~5k
   instructions per call, more than the checks and the dispatch of a small
   tensor's update). */
typedef struct hp_field {
  const char *key;
  size_t len;
  size_t off;   /* offset of the double, or 0 for a flag */
  int flag;
} hp_field;
#define NUM(k) {#k, sizeof #k - 1, offsetof(hebb_optim_hp, k), 0}
#define FLAG(k, f) {#k, sizeof #k - 1, 0, f}
static const hp_field hp_fields[] = {
  NUM(lr), NUM(weight_decay), NUM(momentum), NUM(dampening), NUM(beta1),
  NUM(beta2), NUM(new1), NUM(new2), NUM(eps), NUM(bc1), NUM(bc2), NUM(power),
  NUM(alpha), NUM(beta),
  FLAG(nesterov, HEBB_OPTF_NESTEROV), FLAG(first, HEBB_OPTF_FIRST),
  FLAG(decoupled, HEBB_OPTF_DECOUPLED), FLAG(amsgrad, HEBB_OPTF_AMSGRAD),
  FLAG(centered, HEBB_OPTF_CENTERED),
  FLAG(has_momentum, HEBB_OPTF_MOMENTUM), FLAG(diag, HEBB_OPTF_DIAG),
};
#undef NUM
#undef FLAG

/* the hyper-parameters in the table at t (other keys are ignored) */
static void read_hp(lua_State *L, int t, hebb_optim_hp *hp) {
  memset(hp, 0, sizeof *hp);
  hp->bc1 = hp->bc2 = hp->alpha = 1;
  hp->power = 0.5;
  t = lua_absindex(L, t);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    size_t len, k;
    const char *key;
    if (lua_type(L, -2) == LUA_TSTRING &&
        (key = lua_tolstring(L, -2, &len)) != NULL) {
      for (k = 0; k < sizeof hp_fields / sizeof hp_fields[0]; k++) {
        const hp_field *f = &hp_fields[k];
        if (f->len != len || f->key[0] != key[0] || memcmp(f->key, key, len))
          continue;
        if (f->flag) {
          if (lua_toboolean(L, -1)) hp->flags |= f->flag;
        }
        else if (!lua_isnil(L, -1)) {
          int ok;
          double v = lua_tonumberx(L, -1, &ok);
          if (!ok)
            luaL_error(L, "optimizer option %s: expected a number, got %s",
                       f->key, luaL_typename(L, -1));
          *(double *)(void *)((char *)hp + f->off) = v;
        }
        break;
      }
    }
    lua_pop(L, 1);
  }
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
  read_hp(L, 3, &hp);
  lua_getfield(L, 3, "name");
  who = lua_isstring(L, -1) ? lua_tostring(L, -1) : name;
  hebbL_check_status(L, hebb_optim_step(rule, p, g, n, st, &hp, who));
  lua_settop(L, 1);
  return 1;
}

static const char *const rule_names[] = {
  "sgd", "adam", "rmsprop", "adagrad", "cgd", "langevin", "axpby", NULL
};

/* 1 - beta^t with Lua's own power (the bits of `1 - b ^ t` in Lua) */
static double bias_correction(lua_State *L, double beta, int t_idx) {
  double bc;
  lua_pushnumber(L, beta);
  lua_pushvalue(L, t_idx);
  lua_arith(L, LUA_OPPOW);
  bc = 1 - lua_tonumber(L, -1);
  lua_pop(L, 1);
  return bc;
}

/* _optim.apply(rule, hp, params, grads, state, names, from, stepkey, k1
   [, k2 [, k3]]): one step of 'rule' for every params[i], i >= from, that
   has a gradient grads[i], in turn, in one call (with a Lua loop around
   one call per parameter, Adam's opt:step() took ~74k instructions for
   four small parameters; ~33k with this).  state[i] is the parameter's state table: its step count
   at stepkey (incremented here, as `st.step = st.step + 1`) and its state
   tensors at k1.. (the absent ones skipped); names[i] names it in
   messages.  hp is read once.  For Adam, hp.bc1 and hp.bc2 are each
   parameter's 1 - beta1^t, 1 - beta2^t, computed once per step count.
   Returns nothing, or the first i whose state[i] is missing: the caller
   makes it and calls again from i.  Entries of the wrong type raise an
   error naming the parameter (names[i]) and the entry. */
#define AP_TOP 11

/* the tensor at idx, else an error naming the parameter (who), the item
   (what, followed by the state key at key_idx when not 0) and its type */
static hebb_tensor *apply_tensor(lua_State *L, int idx, const char *who,
                                 const char *what, int key_idx) {
  hebb_tensor *t = hebbL_test(L, idx);
  if (t) return t;
  if (lua_type(L, idx) == LUA_TUSERDATA) return hebbL_check(L, idx);
  luaL_error(L, "%s: %s%s must be a tensor, got %s", who, what,
             key_idx ? lua_tostring(L, key_idx) : "", luaL_typename(L, idx));
  return NULL;
}

static int l_apply(lua_State *L) {
  int rule = luaL_checkoption(L, 1, NULL, rule_names);
  lua_Integer n, i, from = luaL_checkinteger(L, 7), last = 0;
  int nkeys, k;
  double bc1 = 1, bc2 = 1;
  hebb_optim_hp hp;
  luaL_checktype(L, 2, LUA_TTABLE);
  for (k = 3; k <= 6; k++) luaL_checktype(L, k, LUA_TTABLE);
  luaL_checktype(L, 8, LUA_TSTRING);
  luaL_checktype(L, 9, LUA_TSTRING);
  for (k = 10; k <= AP_TOP; k++)
    if (!lua_isnoneornil(L, k)) luaL_checktype(L, k, LUA_TSTRING);
  nkeys = lua_isnoneornil(L, 11) ? lua_isnoneornil(L, 10) ? 1 : 2 : 3;
  read_hp(L, 2, &hp);
  lua_settop(L, AP_TOP);
  n = (lua_Integer)lua_rawlen(L, 3);
  for (i = from < 1 ? 1 : from; i <= n; i++) {
    hebb_tensor *p, *g, *st[3];
    const char *who;
    int ns = 0, t_idx;
    lua_settop(L, AP_TOP);
    lua_rawgeti(L, 4, i);                                           /* 12 */
    if (!lua_toboolean(L, 12)) continue;
    lua_rawgeti(L, 6, i);                                           /* 13 */
    who = lua_isstring(L, 13) ? lua_tostring(L, 13) : rule_names[rule];
    if (lua_rawgeti(L, 5, i) != LUA_TTABLE) {                       /* 14 */
      if (lua_toboolean(L, 14))
        luaL_error(L, "%s: the state must be a table, got %s", who,
                   luaL_typename(L, 14));
      lua_pushinteger(L, i);
      return 1;
    }
    g = apply_tensor(L, 12, who, "the gradient", 0);
    lua_rawgeti(L, 3, i);                                           /* 15 */
    p = apply_tensor(L, 15, who, "the parameter", 0);
    lua_pushvalue(L, 8);                                            /* 16 */
    lua_rawget(L, 14);
    if (lua_isinteger(L, 16)) lua_pushinteger(L, lua_tointeger(L, 16) + 1);
    else if (lua_isnumber(L, 16)) lua_pushnumber(L, lua_tonumber(L, 16) + 1);
    else
      luaL_error(L, "%s: state.%s must be a number, got %s", who,
                 lua_tostring(L, 8), luaL_typename(L, 16));         /* 17 */
    t_idx = 17;
    lua_pushvalue(L, 8);
    lua_pushvalue(L, t_idx);
    lua_rawset(L, 14);
    for (k = 0; k < nkeys; k++) {                                   /* 18.. */
      lua_pushvalue(L, 9 + k);
      lua_rawget(L, 14);
      if (lua_toboolean(L, -1))
        st[ns++] = apply_tensor(L, lua_gettop(L), who, "state.", 9 + k);
    }
    if (rule == HEBB_OPT_ADAM) {
      lua_Integer t = lua_isinteger(L, t_idx) ? lua_tointeger(L, t_idx) : 0;
      if (t == 0 || t != last) {
        bc1 = bias_correction(L, hp.beta1, t_idx);
        bc2 = bias_correction(L, hp.beta2, t_idx);
        last = t;
      }
      hp.bc1 = bc1;
      hp.bc2 = bc2;
    }
    hebbL_check_status(L, hebb_optim_step(rule, p, g, ns, st, &hp, who));
  }
  return 0;
}

/* _optim.is_dense(v): whether v is a contiguous tensor (what the loops
   take as a gradient), in one raw call */
static int l_is_dense(lua_State *L) {
  hebb_tensor *t = hebbL_test(L, 1);
  lua_pushboolean(L, t && hebb_is_contiguous(t));
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
  {"apply", l_apply, HEBB_FN | HEBB_RAW,
   "_optim.apply(rule, hp, params, grads, state, names, from, stepkey, k1 "
   "[, k2 [, k3]])\n\nOne step of rule ('sgd', 'adam', ...) for every "
   "params[i] (i >= from) with a gradient grads[i], in one call: state[i]"
   "[stepkey] counts the steps, state[i][k1..] are the state tensors; for "
   "Adam the bias corrections come from hp.beta1, hp.beta2 and the step.  "
   "Returns the first i without a state table (make it, call again from "
   "i), or nothing."},
  {"is_dense", l_is_dense, HEBB_FN | HEBB_RAW,
   "_optim.is_dense(v)\n\nWhether v is a contiguous tensor."},
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb__optim(lua_State *L) {
  return hebbL_newmodule(L, optim_funcs,
    "hebb._optim\n\nThe fused C update loops behind hebb.optim (one pass "
    "over the parameter, its gradient and its state).  Use hebb.optim.");
}
