/*
** l_fields.c -- the module `hebb._fields`: the C loops of hebb.fields
** (natives/core/fields.c and the files it names) for stdlib/hebb/fields.lua,
** which checks the user's arguments and options and calls these.
*/
#include "lhebb.h"

static int l_laplacian(lua_State *L) {
  hebb_tensor *phi = hebbL_check(L, 1), **box, *r;
  double a = luaL_optnumber(L, 2, 1);
  int opts = hebbL_checkopts(L, 3);
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
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb__fields(lua_State *L) {
  return hebbL_newmodule(L, fields_funcs,
    "hebb._fields\n\nThe C loops behind hebb.fields.  Use hebb.fields.");
}
