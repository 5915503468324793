/*
** l_lattice.c -- the module `hebb._lattice`: the C half of hebb.lattice
** (stdlib/hebb/lattice.lua) over natives/core/lattice*.c.  A model is a
** userdata holding a hebb_lattice; its per-bond couplings and per-site
** fields are tensors kept alive in the userdata's user values.  The Lua
** layer checks and documents the arguments users pass; these functions
** check again what could corrupt memory.
*/
#include <string.h>

#include "lhebb.h"

#define MODEL_MT "hebb.LatticeModel"

typedef struct lmodel { hebb_lattice lat; } lmodel;

static hebb_lattice *checkmodel(lua_State *L, int idx) {
  return &((lmodel *)luaL_checkudata(L, idx, MODEL_MT))->lat;
}

/* model(kind, shape, open, q, J, h [, Jb [, hs]]): kind 0 Ising, 1 Potts,
   2 O(n); open a bit mask; Jb and hs contiguous f64 tensors or nil */
static int l_model(lua_State *L) {
  lua_Integer kind = luaL_checkinteger(L, 1), q = luaL_checkinteger(L, 4);
  lua_Integer open = luaL_checkinteger(L, 3);
  double J = luaL_checknumber(L, 5), h = luaL_checknumber(L, 6);
  hebb_tensor *Jb, *hs;
  lmodel *m;
  int d, k;
  lua_settop(L, 8);   /* the model goes to 9: 7 and 8 are nil if absent */
  Jb = lua_isnil(L, 7) ? NULL : hebbL_check(L, 7);
  hs = lua_isnil(L, 8) ? NULL : hebbL_check(L, 8);
  luaL_checktype(L, 2, LUA_TTABLE);
  d = (int)luaL_len(L, 2);
  luaL_argcheck(L, d >= 1 && d <= HEBB_LATTICE_MAXDIM, 2,
                "a lattice has 1 to 4 dimensions");
  m = lua_newuserdatauv(L, sizeof(lmodel), 2);
  memset(m, 0, sizeof *m);
  m->lat.model = (int32_t)kind;
  m->lat.ndim = d;
  m->lat.q = (int32_t)q;
  m->lat.open = (int32_t)open;
  m->lat.J = J;
  m->lat.h = h;
  for (k = 0; k < d; k++) {
    lua_geti(L, 2, k + 1);
    m->lat.shape[k] = (int64_t)luaL_checkinteger(L, -1);
    lua_pop(L, 1);
  }
  m->lat.Jb = Jb;
  m->lat.hs = hs;
  lua_pushvalue(L, 7);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, 8);
  lua_setiuservalue(L, -2, 2);
  luaL_setmetatable(L, MODEL_MT);
  hebbL_check_status(L, hebb_lattice_check(&m->lat));
  return 1;
}

/* Inverse temperatures at idx (a number, a list or a 1-d tensor) as a
   C array in a userdata left on the stack; returns it, count in *n. */
static double *checkbetas(lua_State *L, int idx, int64_t *n) {
  double *b;
  int64_t i;
  if (lua_type(L, idx) == LUA_TNUMBER) {
    b = lua_newuserdatauv(L, sizeof(double), 0);
    b[0] = lua_tonumber(L, idx);
    *n = 1;
    return b;
  }
  if (lua_istable(L, idx)) {
    *n = (int64_t)luaL_len(L, idx);
    b = lua_newuserdatauv(L, (size_t)(*n > 0 ? *n : 1) * sizeof(double), 0);
    for (i = 0; i < *n; i++) {
      int ok;
      lua_geti(L, idx, i + 1);
      b[i] = lua_tonumberx(L, -1, &ok);
      if (!ok) luaL_error(L, "inverse temperature %d is not a number", (int)i + 1);
      lua_pop(L, 1);
    }
    return b;
  } else {
    hebb_tensor *t = hebbL_check(L, idx), *c;
    if (t->ndim > 1) luaL_argerror(L, idx, "inverse temperatures must be 1-d");
    *n = hebb_numel(t);
    b = lua_newuserdatauv(L, (size_t)(*n > 0 ? *n : 1) * sizeof(double), 0);
    c = hebb_astype(t, HEBB_F64);
    if (!c) hebbL_raise(L);
    memcpy(b, hebb_data_ptr(c), (size_t)*n * sizeof(double));
    hebb_release(c);
    return b;
  }
}

static int l_observe(lua_State *L) {
  hebb_lattice *lat = checkmodel(L, 1);
  hebb_tensor *s = hebbL_check(L, 2), *e = NULL, *m = NULL, **ebox, **mbox;
  ebox = hebbL_newbox(L);
  mbox = hebbL_newbox(L);
  if (hebb_lattice_observe(lat, s, &e, &m) != HEBB_OK) {
    if (e) hebb_release(e);
    if (m) hebb_release(m);
    return hebbL_raise(L);
  }
  *ebox = e;
  *mbox = m;
  hebbL_account(L, e);
  hebbL_account(L, m);
  return 2;
}

/* the arguments every update takes: (m, s, beta, gen, n) */
typedef struct mcargs {
  hebb_lattice *lat;
  hebb_tensor *s;
  double *beta;
  int64_t nbeta;
  hebb_rng *g;
  int64_t n;
} mcargs;

static void mc_args(lua_State *L, mcargs *a) {
  a->lat = checkmodel(L, 1);
  a->s = hebbL_check(L, 2);
  a->beta = checkbetas(L, 3, &a->nbeta);   /* a userdata at the top */
  a->g = hebbL_togen(L, 4);
  a->n = (int64_t)luaL_checkinteger(L, 5);
}

/* metropolis(m, s, beta, gen, nsweeps, checkerboard, delta) -> rate */
static int l_metropolis(lua_State *L) {
  mcargs a;
  double rate = 0;
  mc_args(L, &a);
  hebbL_check_status(L, hebb_lattice_metropolis(a.lat, a.s, a.beta, a.nbeta,
                     a.g, a.n, lua_toboolean(L, 6), luaL_optnumber(L, 7, 1.0),
                     &rate));
  lua_pushnumber(L, rate);
  return 1;
}

static int l_heatbath(lua_State *L) {
  mcargs a;
  mc_args(L, &a);
  hebbL_check_status(L, hebb_lattice_heatbath(a.lat, a.s, a.beta, a.nbeta,
                                              a.g, a.n, lua_toboolean(L, 6)));
  return 0;
}

static int l_overrelax(lua_State *L) {
  hebb_lattice *lat = checkmodel(L, 1);
  hebb_tensor *s = hebbL_check(L, 2);
  hebbL_check_status(L, hebb_lattice_overrelax(lat, s, luaL_checkinteger(L, 3)));
  return 0;
}

/* wolff(m, s, beta, gen, nclusters) -> mean cluster size */
static int l_wolff(lua_State *L) {
  mcargs a;
  double size = 0;
  mc_args(L, &a);
  hebbL_check_status(L, hebb_lattice_wolff(a.lat, a.s, a.beta, a.nbeta, a.g,
                                           a.n, &size));
  lua_pushnumber(L, size);
  return 1;
}

/* swendsen_wang(m, s, beta, gen, nsweeps) -> mean number of clusters */
static int l_swendsen_wang(lua_State *L) {
  mcargs a;
  double nc = 0;
  mc_args(L, &a);
  hebbL_check_status(L, hebb_lattice_swendsen_wang(a.lat, a.s, a.beta, a.nbeta,
                                                   a.g, a.n, &nc));
  lua_pushnumber(L, nc);
  return 1;
}

/* a list of tables {lnZ=, E=, Evar=, M=, absM=, M2=, M4=} */
static void push_thermo(lua_State *L, const hebb_thermo *t, int64_t n) {
  int64_t i;
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_createtable(L, 0, 7);
    lua_pushnumber(L, t[i].lnZ); lua_setfield(L, -2, "lnZ");
    lua_pushnumber(L, t[i].E); lua_setfield(L, -2, "E");
    lua_pushnumber(L, t[i].Evar); lua_setfield(L, -2, "Evar");
    lua_pushnumber(L, t[i].M); lua_setfield(L, -2, "M");
    lua_pushnumber(L, t[i].absM); lua_setfield(L, -2, "absM");
    lua_pushnumber(L, t[i].M2); lua_setfield(L, -2, "M2");
    lua_pushnumber(L, t[i].M4); lua_setfield(L, -2, "M4");
    lua_rawseti(L, -2, i + 1);
  }
}

static int l_enumerate(lua_State *L) {
  hebb_lattice *lat = checkmodel(L, 1);
  int64_t nb;
  double *beta = checkbetas(L, 2, &nb);
  hebb_thermo *out = lua_newuserdatauv(L, (size_t)(nb > 0 ? nb : 1) *
                                       sizeof(hebb_thermo), 0);
  hebbL_check_status(L, hebb_lattice_enumerate(lat, beta, nb, out));
  push_thermo(L, out, nb);
  return 1;
}

static int l_transfer(lua_State *L) {
  lua_Integer Lr = luaL_checkinteger(L, 1), M = luaL_checkinteger(L, 2);
  int64_t nk;
  double *K = checkbetas(L, 3, &nk);
  hebb_thermo *out = lua_newuserdatauv(L, (size_t)(nk > 0 ? nk : 1) *
                                       sizeof(hebb_thermo), 0);
  hebbL_check_status(L, hebb_ising_transfer(Lr, M, K, nk, out));
  push_thermo(L, out, nk);
  return 1;
}

static const hebb_lreg lattice_funcs[] = {
  {"model", l_model, HEBB_FN | HEBB_RAW,
   "_lattice.model(kind, shape, open, q, J, h [, Jb [, hs]])\n\nA model "
   "userdata.  Use hebb.lattice.ising/potts/xy/on."},
  {"observe", l_observe, HEBB_FN | HEBB_RAW,
   "_lattice.observe(m, s)\n\nEnergies and magnetization components."},
  {"metropolis", l_metropolis, HEBB_FN | HEBB_RAW,
   "_lattice.metropolis(m, s, beta, gen, n, checkerboard, delta)\n\n"
   "Metropolis sweeps; returns the acceptance rate."},
  {"heatbath", l_heatbath, HEBB_FN | HEBB_RAW,
   "_lattice.heatbath(m, s, beta, gen, n, checkerboard)\n\nHeat-bath sweeps."},
  {"overrelax", l_overrelax, HEBB_FN | HEBB_RAW,
   "_lattice.overrelax(m, s, n)\n\nO(n) over-relaxation sweeps."},
  {"wolff", l_wolff, HEBB_FN | HEBB_RAW,
   "_lattice.wolff(m, s, beta, gen, n)\n\nWolff clusters; returns the mean "
   "cluster size."},
  {"swendsen_wang", l_swendsen_wang, HEBB_FN | HEBB_RAW,
   "_lattice.swendsen_wang(m, s, beta, gen, n)\n\nSwendsen-Wang sweeps; "
   "returns the mean number of clusters."},
  {"enumerate", l_enumerate, HEBB_FN | HEBB_RAW,
   "_lattice.enumerate(m, betas)\n\nExact averages by enumeration."},
  {"transfer", l_transfer, HEBB_FN | HEBB_RAW,
   "_lattice.transfer(L, M, Ks)\n\nExact 2D Ising averages by the transfer "
   "matrix."},
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb__lattice(lua_State *L) {
  luaL_newmetatable(L, MODEL_MT);
  lua_pop(L, 1);
  return hebbL_newmodule(L, lattice_funcs,
    "hebb._lattice\n\nC helpers of hebb.lattice: models, Monte Carlo updates "
    "and exact results (natives/core/lattice*.c).");
}
