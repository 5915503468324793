/*
** l_roll.c -- cyclic shifts and reversals of `hebb.tensor`
** (natives/core/roll.c): roll and flip.  Dimensions are 1-based.
*/
#include "lhebb.h"

/* a number or a list of numbers at idx into v (at most HEBB_MAXDIM);
   returns the count */
static int int_list(lua_State *L, int idx, lua_Integer *v, const char *what) {
  int n, i;
  if (!lua_istable(L, idx)) {
    v[0] = luaL_checkinteger(L, idx);
    return 1;
  }
  n = (int)luaL_len(L, idx);
  if (n < 1 || n > HEBB_MAXDIM)
    luaL_error(L, "expected 1 to %d %s, got %d", HEBB_MAXDIM, what, n);
  for (i = 0; i < n; i++) {
    int ok;
    lua_geti(L, idx, i + 1);
    v[i] = lua_tointegerx(L, -1, &ok);
    if (!ok) luaL_error(L, "%s must be integers (entry %d is %s)", what, i + 1,
                        luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  return n;
}

/* 1-based (negative from the end) dimension numbers -> 0-based */
static void to_dims(lua_State *L, const lua_Integer *d, int n, int ndim,
                    int *dims) {
  int i;
  for (i = 0; i < n; i++) {
    lua_Integer k = d[i] < 0 ? d[i] + ndim + 1 : d[i];
    if (k < 1 || k > ndim)
      hebbL_error(L, "dimension %I out of range for a %d-dimensional tensor",
                  d[i], ndim);
    dims[i] = (int)k - 1;
  }
}

/* roll(x, shifts [, dims]): without dims x is rolled as a flat sequence */
static int l_roll(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), *r = NULL, **box, *flat = NULL;
  lua_Integer s[HEBB_MAXDIM], d[HEBB_MAXDIM];
  int64_t shifts[HEBB_MAXDIM];
  int dims[HEBB_MAXDIM], n = int_list(L, 2, s, "shifts"), i, st;
  if (lua_isnoneornil(L, 3)) {
    int64_t numel = hebb_numel(a);
    if (n != 1) return luaL_error(L, "roll: %d shifts need %d dims", n, n);
    box = hebbL_newbox(L);
    flat = hebb_contiguous(a);
    if (!flat) return hebbL_raise(L);
    shifts[0] = s[0];
    dims[0] = 0;
    {
      hebb_tensor v = *flat, *rv = NULL;
      v.ndim = 1;
      v.shape[0] = numel;
      v.stride[0] = 1;
      st = hebb_roll(&v, 1, shifts, dims, &rv);
      hebb_release(flat);
      if (st != HEBB_OK) return hebbL_raise(L);
      r = hebb_view(rv, a->ndim, a->shape);
      hebb_release(rv);
    }
    hebbL_fill_box(L, r);
    return 1;
  }
  if (int_list(L, 3, d, "dims") != n)
    return luaL_error(L, "roll: %d shifts for a different number of dims", n);
  to_dims(L, d, n, a->ndim, dims);
  for (i = 0; i < n; i++) shifts[i] = s[i];
  box = hebbL_newbox(L);
  hebbL_finish(L, box, &r, hebb_roll(a, n, shifts, dims, &r));
  return 1;
}

static int l_flip(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), *r = NULL, **box;
  lua_Integer d[HEBB_MAXDIM];
  int dims[HEBB_MAXDIM], n, i;
  if (lua_isnoneornil(L, 2)) {
    n = a->ndim;
    for (i = 0; i < n; i++) dims[i] = i;
  } else {
    n = int_list(L, 2, d, "dims");
    to_dims(L, d, n, a->ndim, dims);
  }
  box = hebbL_newbox(L);
  hebbL_finish(L, box, &r, hebb_flip(a, n, dims, &r));
  return 1;
}

static const hebb_lreg roll_funcs[] = {
  {"roll", l_roll, HEBB_BOTH,
   "T.roll(x, shifts [, dims])\n\nx shifted cyclically: along dim d by s, "
   "y[i] = x[i - s] with indices taken mod the length (elements pushed off "
   "one end come back at the other; negative s shifts the other way).  "
   "shifts and dims are numbers or equal-length lists; without dims x is "
   "shifted as one flat sequence and keeps its shape.  On a periodic "
   "lattice, T.roll(s, 1, d) is the field seen from the neighbour at -e_d: "
   "y[x] = s[x - e_d].  A copy."},
  {"flip", l_flip, HEBB_BOTH,
   "T.flip(x [, dims])\n\nx reversed along dims (a number or a list; default "
   "all dimensions).  A copy."},
  {NULL, NULL, 0, NULL}
};

void hebbL_open_roll(lua_State *L, int module, int methods, int mt) {
  hebbL_register(L, roll_funcs, module, methods, mt);
}
