/*
** l_create.c -- making tensors from Lua: zeros/ones/full/empty and their
** _like forms, T.tensor from nested tables, arange, linspace, eye (kernels
** in natives/core/create.c and tensor.c).
*/
#include <math.h>

#include "core.h"
#include "lhebb.h"

/* --- creation ---------------------------------------------------------- */

/* kind: 0 zeros, 1 ones, 2 full (integer iv when isint, else v), 3 empty */
static int push_filled(lua_State *L, int dtype, int ndim, const int64_t *shape,
                       int kind, int isint, lua_Integer iv, double v) {
  hebb_tensor *t;
  hebbL_newbox(L);
  hebbL_fill_box(L, kind == 0 ? hebb_zeros(dtype, ndim, shape) :
                    hebb_empty(dtype, ndim, shape));
  t = *(hebb_tensor **)lua_touserdata(L, -1);
  if (kind == 1 || kind == 2)
    hebbL_check_status(L, isint && dtype == HEBB_I64 ? hebb_fill_i64(t, iv) :
                          hebb_fill(t, v));
  return 1;
}

static int make_filled(lua_State *L, int kind) {
  int64_t shape[HEBB_MAXDIM];
  int next, ndim, dtype, isint = 1;
  double v = kind == 1 ? 1.0 : 0.0;
  lua_Integer iv = kind == 1;
  if (kind == 2 && lua_type(L, 1) == LUA_TNUMBER) {
    /* full(d1, ..., dn, value): the last of the leading numbers is the value */
    int n = 0;
    while (lua_type(L, n + 1) == LUA_TNUMBER) n++;
    if (n < 2) return luaL_error(L, "full: expected a shape and a value");
    lua_pushvalue(L, n);
    lua_pushnil(L);
    lua_replace(L, n);   /* hide the value from the shape parser */
    ndim = hebbL_checkshape(L, 1, shape, &next);
    lua_replace(L, n);   /* put it back */
    next = n;
  }
  else ndim = hebbL_checkshape(L, 1, shape, &next);
  if (kind == 2) {   /* full(shape, value [, opts]) */
    luaL_checknumber(L, next);
    iv = lua_tointegerx(L, next, &isint);
    v = lua_tonumber(L, next);
    next++;
  }
  dtype = hebbL_dtypeopts(L, next, HEBB_F64);
  return push_filled(L, dtype, ndim, shape, kind, isint, iv, v);
}

static int l_zeros(lua_State *L) { return make_filled(L, 0); }
static int l_ones(lua_State *L) { return make_filled(L, 1); }
static int l_full(lua_State *L) { return make_filled(L, 2); }
static int l_empty(lua_State *L) { return make_filled(L, 3); }

static int make_like(lua_State *L, int kind) {
  hebb_tensor *a = hebbL_check(L, 1);
  int opt = kind == 2 ? 3 : 2, dtype, isint = 1;
  double v = kind == 1 ? 1.0 : 0.0;
  lua_Integer iv = kind == 1;
  if (kind == 2) {
    v = luaL_checknumber(L, 2);
    iv = lua_tointegerx(L, 2, &isint);
  }
  dtype = hebbL_dtypeopts(L, opt, a->dtype);
  return push_filled(L, dtype, a->ndim, a->shape, kind, isint, iv, v);
}

static int l_zeros_like(lua_State *L) { return make_like(L, 0); }
static int l_ones_like(lua_State *L) { return make_like(L, 1); }
static int l_full_like(lua_State *L) { return make_like(L, 2); }
static int l_empty_like(lua_State *L) { return make_like(L, 3); }

/* T.tensor(nested table): pass 1 finds the shape and the dtype the values
   need; pass 2 writes them. */
enum { SEEN_BOOL = 1, SEEN_INT = 2, SEEN_FLOAT = 4 };

static void scan_shape(lua_State *L, int idx, int depth, int *ndim,
                       int64_t *shape) {
  if (lua_type(L, idx) != LUA_TTABLE) { *ndim = depth; return; }
  if (depth == HEBB_MAXDIM)
    luaL_error(L, "tensor: nesting deeper than %d", HEBB_MAXDIM);
  shape[depth] = (int64_t)lua_rawlen(L, idx);
  if (shape[depth] == 0) { *ndim = depth + 1; return; }
  lua_rawgeti(L, idx, 1);
  scan_shape(L, lua_gettop(L), depth + 1, ndim, shape);
  lua_pop(L, 1);
}

static void bad_nesting(lua_State *L, int depth, int64_t want, int64_t got) {
  luaL_error(L, "tensor: ragged nested table (at depth %d expected %d "
             "entries, found %d)", depth + 1, (int)want, (int)got);
}

static void scan_values(lua_State *L, int idx, int depth, int ndim,
                        const int64_t *shape, int *seen) {
  int64_t i;
  if (depth == ndim) {
    int tp = lua_type(L, idx);
    if (tp == LUA_TBOOLEAN) *seen |= SEEN_BOOL;
    else if (tp == LUA_TNUMBER)
      *seen |= lua_isinteger(L, idx) ? SEEN_INT : SEEN_FLOAT;
    else if (tp == LUA_TTABLE) bad_nesting(L, depth, 0, 1);
    else luaL_error(L, "tensor: expected numbers or booleans, found %s",
                    luaL_typename(L, idx));
    return;
  }
  if (lua_type(L, idx) != LUA_TTABLE) bad_nesting(L, depth, shape[depth], 0);
  if ((int64_t)lua_rawlen(L, idx) != shape[depth])
    bad_nesting(L, depth, shape[depth], (int64_t)lua_rawlen(L, idx));
  for (i = 1; i <= shape[depth]; i++) {
    lua_rawgeti(L, idx, i);
    scan_values(L, lua_gettop(L), depth + 1, ndim, shape, seen);
    lua_pop(L, 1);
  }
}

static void write_values(lua_State *L, int idx, int depth, hebb_tensor *t,
                         int64_t *pos) {
  int64_t i;
  if (depth == t->ndim) {
    char *p = t->data + (*pos)++ * hebb_dtype_size(t->dtype);
    switch (t->dtype) {
      case HEBB_F64: *(double *)p = lua_tonumber(L, idx); break;
      case HEBB_F32: *(float *)p = (float)lua_tonumber(L, idx); break;
      case HEBB_BOOL: *(bool *)p = lua_toboolean(L, idx); break;
      case HEBB_C128: *(double _Complex *)p = lua_tonumber(L, idx); break;
      case HEBB_C64: *(float _Complex *)p = (float)lua_tonumber(L, idx); break;
      default:
        if (lua_isinteger(L, idx)) *(int64_t *)p = lua_tointeger(L, idx);
        else if (lua_type(L, idx) == LUA_TBOOLEAN)
          *(int64_t *)p = lua_toboolean(L, idx);
        else *(int64_t *)p = hebb_f2i(lua_tonumber(L, idx));
    }
    return;
  }
  for (i = 1; i <= t->shape[depth]; i++) {
    lua_rawgeti(L, idx, i);
    write_values(L, lua_gettop(L), depth + 1, t, pos);
    lua_pop(L, 1);
  }
}

static int l_tensor_new(lua_State *L) {
  int64_t shape[HEBB_MAXDIM], pos = 0;
  int ndim = 0, seen = 0, dtype;
  hebb_tensor *t;
  luaL_argexpected(L, lua_type(L, 1) == LUA_TTABLE || lua_type(L, 1) ==
                   LUA_TNUMBER || lua_type(L, 1) == LUA_TBOOLEAN, 1,
                   "table or number");
  if (hebbL_test(L, 1)) return luaL_error(L, "tensor: use t:clone() to copy");
  scan_shape(L, 1, 0, &ndim, shape);
  scan_values(L, 1, 0, ndim, shape, &seen);
  dtype = (seen & SEEN_FLOAT) ? HEBB_F64 : (seen & SEEN_INT) ? HEBB_I64 :
          (seen & SEEN_BOOL) ? HEBB_BOOL : HEBB_F64;
  if ((seen & SEEN_BOOL) && (seen & (SEEN_INT | SEEN_FLOAT)))
    dtype = (seen & SEEN_FLOAT) ? HEBB_F64 : HEBB_I64;
  dtype = hebbL_dtypeopts(L, 2, dtype);
  if (dtype == HEBB_BOOL && (seen & (SEEN_INT | SEEN_FLOAT)))
    luaL_error(L, "tensor: dtype bool needs boolean values");
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_empty(dtype, ndim, shape));
  t = *(hebb_tensor **)lua_touserdata(L, -1);
  write_values(L, 1, 0, t, &pos);
  return 1;
}

/* arange(stop) or arange(start, stop [, step]): inclusive of stop, like
   Lua's numeric for loop; float steps get a relative tolerance of 1e-10 so
   0, 0.1 .. 1 ends at 1. */
static int l_arange(lua_State *L) {
  int both = lua_type(L, 2) == LUA_TNUMBER;
  double start = both ? luaL_checknumber(L, 1) : 1;
  double stop = luaL_checknumber(L, both ? 2 : 1);
  int hasstep = both && lua_type(L, 3) == LUA_TNUMBER;
  double step = hasstep ? lua_tonumber(L, 3) : 1;
  int allint = lua_isinteger(L, 1) && (!both || lua_isinteger(L, 2)) &&
               (!hasstep || lua_isinteger(L, 3));
  int opt = hasstep ? 4 : both ? 3 : 2;
  int dtype = hebbL_dtypeopts(L, opt, allint ? HEBB_I64 : HEBB_F64);
  double span, count;
  if (step == 0 || step != step) luaL_error(L, "arange: step must be non-zero");
  span = (stop - start) / step;
  if (span != span || isinf(span)) luaL_error(L, "arange: bad range");
  count = span < 0 ? 0 : floor(span + 1e-10 * (fabs(span) + 1)) + 1;
  if (count > 1e15)   /* lua_pushfstring has no %g: %f is its %.14g */
    luaL_error(L, "arange: %f elements is too many (at most 1e15)", count);
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_arange(dtype, start, step, (int64_t)count));
  return 1;
}

static int l_linspace(lua_State *L) {
  double a = luaL_checknumber(L, 1), b = luaL_checknumber(L, 2);
  lua_Integer n = luaL_checkinteger(L, 3);
  int dtype = hebbL_dtypeopts(L, 4, HEBB_F64);
  luaL_argcheck(L, n >= 0, 3, "number of points must be >= 0");
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_linspace(dtype, a, b, n));
  return 1;
}

static int l_eye(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  lua_Integer m = lua_type(L, 2) == LUA_TNUMBER ? luaL_checkinteger(L, 2) : n;
  int dtype = hebbL_dtypeopts(L, lua_type(L, 2) == LUA_TNUMBER ? 3 : 2,
                             HEBB_F64);
  luaL_argcheck(L, n >= 0 && m >= 0, 1, "sizes must be >= 0");
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_eye(dtype, n, m));
  return 1;
}

static const hebb_lreg create_funcs[] = {
  {"tensor", l_tensor_new, HEBB_FN,
   "T.tensor(values [, dtype|{dtype=}])\n\nA tensor from a number or a nested "
   "table of numbers or booleans.  The dtype is inferred: all integers give "
   "i64, any float gives f64, booleans give bool.  dtype c128/c64 stores "
   "the numbers as real parts (build complex values with T.complex or "
   "T.I)."},
  {"zeros", l_zeros, HEBB_FN,
   "T.zeros(d1, d2, ... [, opts]) or T.zeros{d1, d2, ...}\n\nA tensor of "
   "zeros (f64 unless opts.dtype / a dtype string says otherwise)."},
  {"ones", l_ones, HEBB_FN,
   "T.ones(shape... [, opts])\n\nA tensor of ones."},
  {"full", l_full, HEBB_FN,
   "T.full(shape, value [, opts])\n\nA tensor with every element = value; "
   "shape as a table, or as integers before the value."},
  {"empty", l_empty, HEBB_FN,
   "T.empty(shape... [, opts])\n\nAn uninitialized tensor (fastest)."},
  {"zeros_like", l_zeros_like, HEBB_BOTH,
   "T.zeros_like(t [, opts])\n\nZeros with t's shape and dtype."},
  {"ones_like", l_ones_like, HEBB_BOTH,
   "T.ones_like(t [, opts])\n\nOnes with t's shape and dtype."},
  {"full_like", l_full_like, HEBB_BOTH,
   "T.full_like(t, value [, opts])\n\nvalue everywhere, t's shape and dtype."},
  {"empty_like", l_empty_like, HEBB_BOTH,
   "T.empty_like(t [, opts])\n\nUninitialized, t's shape and dtype."},
  {"arange", l_arange, HEBB_FN,
   "T.arange([start,] stop [, step] [, opts])\n\nstart, start+step, ... up "
   "to stop INCLUSIVE (hebb's one range rule, as in Lua's for loop).  start "
   "defaults to 1.  Integers give i64, otherwise f64."},
  {"linspace", l_linspace, HEBB_FN,
   "T.linspace(a, b, n [, opts])\n\nn points evenly spaced from a to b, both "
   "included."},
  {"eye", l_eye, HEBB_FN,
   "T.eye(n [, m] [, opts])\n\nThe n x m identity matrix (m = n)."},
  {NULL, NULL, 0, NULL}
};

void hebbL_open_create(lua_State *L, int module, int methods, int mt) {
  hebbL_register(L, create_funcs, module, methods, mt);
}
