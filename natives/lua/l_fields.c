/*
** l_fields.c -- the module `hebb._fields`: the C loops of hebb.fields
** (natives/core/fields.c and the files it names) for stdlib/hebb/fields.lua,
** which checks the user's arguments and options and calls these.
*/
#include "lhebb.h"

static int l_laplacian(lua_State *L) {
  hebb_tensor *phi = hebbL_check(L, 1), **box, *r;
  double a = luaL_optnumber(L, 2, 1);
  int opts = hebbL_outopts(L, 3);
  box = hebbL_result_slot(L, opts, &r);
  hebbL_finish(L, box, &r, hebb_lattice_laplacian(phi, a, &r));
  return 1;
}

/* _fields.kg_leapfrog(phi, pi, m2, a, dt, steps) -> blown (0: none) */
static int l_kg_leapfrog(lua_State *L) {
  hebb_tensor *phi = hebbL_check(L, 1), *pi = hebbL_check(L, 2);
  double m2 = luaL_checknumber(L, 3), a = luaL_checknumber(L, 4);
  double dt = luaL_checknumber(L, 5);
  lua_Integer n = luaL_checkinteger(L, 6);
  int64_t blown;
  hebbL_check_status(L, hebb_kg_leapfrog(phi, pi, m2, a, dt, (int64_t)n, &blown));
  lua_pushinteger(L, (lua_Integer)blown);
  return 1;
}

static int l_kg_energy(lua_State *L) {
  hebb_tensor *phi = hebbL_check(L, 1), *pi = hebbL_check(L, 2);
  double m2 = luaL_checknumber(L, 3), a = luaL_checknumber(L, 4), e;
  hebbL_check_status(L, hebb_kg_energy(phi, pi, m2, a, &e));
  lua_pushnumber(L, e);
  return 1;
}

/* a c128 tensor of numel n at idx, contiguous (checked by fields.lua) */
static const double *cmatrix(lua_State *L, int idx, int64_t n, const char *what) {
  hebb_tensor *t = hebbL_check(L, idx);
  if (t->dtype != HEBB_C128 || !hebb_is_contiguous(t) || hebb_numel(t) != n)
    luaL_error(L, "fields.lattice_operator: %s must be a contiguous c128 "
               "tensor of %d numbers", what, (int)n);
  return (const double *)hebb_data_ptr(t);
}

/* _fields.lattice_operator(dims, s, onsite, stag|nil, fwd, bwd, bc, flags) */
static int l_lattice_operator(lua_State *L) {
  int64_t dims[HEBB_MAXDIM], s = luaL_checkinteger(L, 2);
  int bc[HEBB_MAXDIM], d, i, flags = (int)luaL_optinteger(L, 8, 0);
  const double *on, *st = NULL, *fw, *bw;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 7, LUA_TTABLE);
  d = (int)luaL_len(L, 1);
  luaL_argcheck(L, d >= 1 && d <= HEBB_MAXDIM && luaL_len(L, 7) == d, 1,
                "1..16 lattice sides and as many boundary conditions");
  luaL_argcheck(L, s >= 1 && s <= 64, 2, "1..64 components per site");
  for (i = 0; i < d; i++) {
    lua_geti(L, 1, i + 1);
    dims[i] = (int64_t)luaL_checkinteger(L, -1);
    lua_pop(L, 1);
    lua_geti(L, 7, i + 1);
    bc[i] = (int)luaL_checkinteger(L, -1);
    lua_pop(L, 1);
  }
  on = cmatrix(L, 3, s * s, "onsite");
  if (!lua_isnoneornil(L, 4)) st = cmatrix(L, 4, s * s, "stag");
  fw = cmatrix(L, 5, d * s * s, "fwd");
  bw = cmatrix(L, 6, d * s * s, "bwd");
  luaL_requiref(L, "hebb.sparse", luaopen_hebb_sparse, 0);
  lua_pop(L, 1);
  hebbL_push_sparse(L, hebb_lattice_operator(d, dims, s, on, st, fw, bw, bc, flags));
  return 1;
}

/* _fields.expmv(H, v, t, krylov, tol) -> e^{-iHt} v */
static int l_expmv(lua_State *L) {
  hebb_sparse **H = luaL_checkudata(L, 1, "hebb.Sparse");
  hebb_tensor *v = hebbL_check(L, 2), **box, *r = NULL;
  double t = luaL_checknumber(L, 3), tol = luaL_checknumber(L, 5);
  lua_Integer m = luaL_checkinteger(L, 4);
  if (!*H) return luaL_error(L, "attempt to use a freed sparse matrix");
  box = hebbL_newbox(L);
  hebbL_finish(L, box, &r, hebb_sparse_expmv(*H, v, t, (int64_t)m, tol, &r));
  return 1;
}

/* _fields.split_step(psi, pv, pk, steps) */
static int l_split_step(lua_State *L) {
  hebb_tensor *psi = hebbL_check(L, 1), *pv = hebbL_check(L, 2);
  hebb_tensor *pk = hebbL_check(L, 3);
  lua_Integer n = luaL_checkinteger(L, 4);
  hebbL_check_status(L, hebb_split_step(psi, pv, pk, (int64_t)n));
  lua_settop(L, 1);
  return 1;
}

/* _fields.crank_nicolson(psi, V|nil, dx, m, hbar, dt, periodic, steps) */
static int l_crank_nicolson(lua_State *L) {
  hebb_tensor *psi = hebbL_check(L, 1);
  hebb_tensor *V = lua_isnoneornil(L, 2) ? NULL : hebbL_check(L, 2);
  double dx = luaL_checknumber(L, 3), m = luaL_checknumber(L, 4);
  double hbar = luaL_checknumber(L, 5), dt = luaL_checknumber(L, 6);
  int periodic = lua_toboolean(L, 7);
  lua_Integer n = luaL_checkinteger(L, 8);
  hebbL_check_status(L, hebb_crank_nicolson(psi, V, dx, m, hbar, dt, periodic,
                                            (int64_t)n));
  lua_settop(L, 1);
  return 1;
}

static const hebb_lreg fields_funcs[] = {
  {"laplacian", l_laplacian, HEBB_FN,
   "_fields.laplacian(phi [, a=1] [, {out=}])\n\nThe periodic lattice "
   "Laplacian (sum of the 2d neighbours - 2d phi) / a^2 (f64 or f32)."},
  {"kg_leapfrog", l_kg_leapfrog, HEBB_FN | HEBB_RAW,
   "_fields.kg_leapfrog(phi, pi, m2, a, dt, steps)\n\nsteps kick-drift-kick "
   "steps of the Klein-Gordon field in place; returns the step after which "
   "phi was NaN or infinite, or 0."},
  {"kg_energy", l_kg_energy, HEBB_FN | HEBB_RAW,
   "_fields.kg_energy(phi, pi, m2, a)\n\nThe lattice Klein-Gordon energy."},
  {"lattice_operator", l_lattice_operator, HEBB_FN | HEBB_RAW,
   "_fields.lattice_operator(dims, s, onsite, stag, fwd, bwd, bc, flags)\n\n"
   "The nearest-neighbour operator of hebb_lattice_operator (hebb.h) as a "
   "c128 sparse matrix."},
  {"expmv", l_expmv, HEBB_FN | HEBB_RAW,
   "_fields.expmv(H, v, t, krylov, tol)\n\ne^{-iHt} v by Lanczos (H "
   "Hermitian, sparse)."},
  {"split_step", l_split_step, HEBB_FN | HEBB_RAW,
   "_fields.split_step(psi, pv, pk, steps)\n\nsteps Strang split-step "
   "Fourier steps in place (pv, pk: the phase grids)."},
  {"crank_nicolson", l_crank_nicolson, HEBB_FN | HEBB_RAW,
   "_fields.crank_nicolson(psi, V, dx, m, hbar, dt, periodic, steps)\n\n"
   "steps Crank-Nicolson steps in place (per axis in d > 1)."},
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb__fields(lua_State *L) {
  return hebbL_newmodule(L, fields_funcs,
    "hebb._fields\n\nThe C loops behind hebb.fields.  Use hebb.fields.");
}
