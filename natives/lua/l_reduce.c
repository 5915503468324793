/*
** l_reduce.c -- reductions, scans and whole-tensor comparisons of
** `hebb.tensor`: sum, prod, mean, min, max, var, std, norm, logsumexp, any,
** all, argmin, argmax, cumsum, cumprod, allclose, equal.
**
** A reduction without dimensions gives a plain Lua value (t:sum() is a
** number -- an integer for i64 and bool sums, a boolean for any/all), which
** is what a script or the REPL wants; with dimensions, keepdim or out it
** gives a tensor.  Dimensions are 1-based and may be negative.
*/
#include <math.h>
#include <string.h>

#include "core.h"
#include "lhebb.h"

/* --- arguments --------------------------------------------------------- */

/* one dimension number at idx, 1-based (negative from the end) -> 0-based */
static int onedim(lua_State *L, int idx, int ndim, const char *who) {
  int isint, n = ndim > 0 ? ndim : 1;   /* a 0-d tensor accepts dim 1 */
  lua_Integer d0 = lua_tointegerx(L, idx, &isint), d = d0;
  if (!isint)
    luaL_error(L, "%s: dimension must be an integer, got %s", who,
               lua_type(L, idx) == LUA_TNUMBER ? "a non-integral number" :
               luaL_typename(L, idx));
  if (d < 0) d += n + 1;
  if (d < 1 || d > n)
    luaL_error(L, "%s: dimension %I out of range for a %d-dimensional tensor "
               "(valid: 1..%d or -%d..-1)", who, (LUAI_UACINT)d0, ndim, n, n);
  return (int)d - 1;
}

typedef struct rargs {
  hebb_tensor *t;
  int ndims, dims[HEBB_MAXDIM];
  int given;          /* dimensions were given (even an empty list) */
  int single;         /* ... as one integer, not a table */
  int opts;           /* stack index of the options table, or 0 */
  bool keepdim;
  int64_t correction;
} rargs;

static void checkdims(lua_State *L, int idx, const char *who, rargs *r) {
  int i, j;
  r->single = lua_type(L, idx) != LUA_TTABLE;
  if (r->single) {
    r->dims[0] = onedim(L, idx, r->t->ndim, who);
    r->ndims = 1;
    return;
  }
  r->ndims = (int)lua_rawlen(L, idx);
  if (r->ndims > HEBB_MAXDIM)
    luaL_error(L, "%s: %d dimensions given (at most %d)", who, r->ndims,
               HEBB_MAXDIM);
  for (i = 0; i < r->ndims; i++) {
    lua_rawgeti(L, idx, i + 1);
    r->dims[i] = onedim(L, -1, r->t->ndim, who);
    lua_pop(L, 1);
    for (j = 0; j < i; j++)
      if (r->dims[j] == r->dims[i])
        luaL_error(L, "%s: dimension %d repeated", who, r->dims[i] + 1);
  }
}

static bool optbool(lua_State *L, int opts, const char *key, bool def) {
  if (!opts) return def;
  if (lua_getfield(L, opts, key) != LUA_TNIL) {
    if (!lua_isboolean(L, -1))
      luaL_error(L, "option '%s' must be a boolean, got %s", key,
                 luaL_typename(L, -1));
    def = lua_toboolean(L, -1);
  }
  lua_pop(L, 1);
  return def;
}

static bool has_out(lua_State *L, int opts) {
  bool r = opts && lua_getfield(L, opts, "out") != LUA_TNIL;
  if (opts) lua_pop(L, 1);
  return r;
}

/* t at 1, then [dims] [, opts] from index 'first'.  A lone table without
   array items is the options table. */
static void parse(lua_State *L, int first, const char *who, rargs *r) {
  int d = first, o = first + 1;
  r->t = hebbL_check(L, 1);
  if (lua_type(L, d) == LUA_TTABLE && lua_rawlen(L, d) == 0 &&
      lua_isnoneornil(L, d + 1)) {
    o = d;
    d = 0;
  }
  r->given = d && !lua_isnoneornil(L, d);
  r->ndims = 0;
  r->single = 0;
  if (r->given) checkdims(L, d, who, r);
  if (!lua_isnoneornil(L, o) && lua_type(L, o) != LUA_TTABLE)
    luaL_error(L, "%s: options must be a table, got %s", who,
               luaL_typename(L, o));
  r->opts = lua_type(L, o) == LUA_TTABLE ? o : 0;
  hebbL_checkkeys(L, r->opts, strcmp(who, "std") == 0 ||
                  strcmp(who, "var") == 0 ? (const char *const[]){
                    "correction", "keepdim", "out", NULL} :
                  (const char *const[]){"keepdim", "out", NULL});
  r->keepdim = optbool(L, r->opts, "keepdim", false);
  r->correction = 1;
  if (r->opts && lua_getfield(L, r->opts, "correction") != LUA_TNIL) {
    int isint;
    lua_Integer c = lua_tointegerx(L, -1, &isint);
    if (!isint || c < 0)
      luaL_error(L, "%s: correction must be a non-negative integer, got %s",
                 who, luaL_tolstring(L, -1, NULL));
    r->correction = c;
  }
  if (r->opts) lua_pop(L, 1);
}

/* --- results ----------------------------------------------------------- */

/* a full reduction as a Lua value */
static int push_value(lua_State *L, int op, const rargs *r) {
  double f;
  int64_t i;
  hebbL_check_status(L, hebb_reduce_value(op, r->t, r->correction, &f, &i));
  switch (hebb_reduce_dtype(op, r->t->dtype)) {
    case HEBB_I64:
      lua_pushinteger(L, op == HEBB_ARGMIN || op == HEBB_ARGMAX ? i + 1 : i);
      break;
    case HEBB_BOOL: lua_pushboolean(L, i != 0); break;
    default: lua_pushnumber(L, f);
  }
  return 1;
}

/* a complex result stays a (0-d) tensor: Lua has no complex number */
static int wants_value(lua_State *L, int op, const rargs *r) {
  return !r->given && !r->keepdim && !has_out(L, r->opts) &&
         !hebb_is_complex(hebb_reduce_dtype(op, r->t->dtype));
}

static int reduce_tensor(lua_State *L, int op, const rargs *r) {
  hebb_tensor *res;
  hebb_tensor **box = hebbL_result_slot(L, r->opts, &res);
  int st = hebb_reduce(op, r->t, r->ndims, r->dims, r->keepdim,
                       r->correction, &res);
  hebbL_finish(L, box, &res, st);
  return 1;
}

static int reduce_at(lua_State *L, int op, const char *who, int first) {
  rargs r;
  parse(L, first, who, &r);
  if (wants_value(L, op, &r)) return push_value(L, op, &r);
  return reduce_tensor(L, op, &r);
}

static int l_sum(lua_State *L) { return reduce_at(L, HEBB_SUM, "sum", 2); }
static int l_prod(lua_State *L) { return reduce_at(L, HEBB_PROD, "prod", 2); }
static int l_mean(lua_State *L) { return reduce_at(L, HEBB_MEAN, "mean", 2); }
static int l_var(lua_State *L) { return reduce_at(L, HEBB_VAR, "var", 2); }
static int l_std(lua_State *L) { return reduce_at(L, HEBB_STD, "std", 2); }
static int l_any(lua_State *L) { return reduce_at(L, HEBB_ANY, "any", 2); }
static int l_all(lua_State *L) { return reduce_at(L, HEBB_ALL, "all", 2); }

static int l_logsumexp(lua_State *L) {
  return reduce_at(L, HEBB_LOGSUMEXP, "logsumexp", 2);
}

/* norm([p] [, dims] [, opts]): p is 1, 2 (default) or math.huge / 'inf' */
static int l_norm(lua_State *L) {
  int op = HEBB_NORM2, first = 3;
  hebbL_check(L, 1);
  switch (lua_type(L, 2)) {
    case LUA_TNUMBER: {
      double p = lua_tonumber(L, 2);
      if (p == 1) op = HEBB_NORM1;
      else if (p == HUGE_VAL) op = HEBB_NORMINF;
      else if (p != 2)
        return luaL_error(L, "norm: p must be 1, 2 or math.huge ('inf'), "
                          "got %s", lua_tostring(L, 2));
      break;
    }
    case LUA_TSTRING:
      if (strcmp(lua_tostring(L, 2), "inf") != 0)
        return luaL_error(L, "norm: p must be 1, 2 or math.huge ('inf'), "
                          "got '%s'", lua_tostring(L, 2));
      op = HEBB_NORMINF;
      break;
    case LUA_TNIL: case LUA_TNONE: break;
    case LUA_TTABLE: first = 2; break;
    default:
      return luaL_error(L, "norm: p must be 1, 2 or math.huge ('inf'), got "
                        "a %s", luaL_typename(L, 2));
  }
  return reduce_at(L, op, "norm", first);
}

/* min/max: over everything a value; over one dim values and indices; over
   a table of dims (or with keepdim alone) values only */
static int minmax(lua_State *L, int ismax) {
  const char *who = ismax ? "max" : "min";
  hebb_tensor *vals, *idx = NULL, **vbox, **ibox;
  rargs r;
  int op = ismax ? HEBB_RMAX : HEBB_RMIN, st;
  parse(L, 2, who, &r);
  if (wants_value(L, op, &r)) return push_value(L, op, &r);
  if (!r.single) return reduce_tensor(L, op, &r);
  vbox = hebbL_result_slot(L, r.opts, &vals);
  ibox = hebbL_newbox(L);
  st = hebb_minmax_dim(ismax ? HEBB_ARGMAX : HEBB_ARGMIN, r.t, r.dims[0],
                       r.keepdim, 1, &vals, &idx);
  if (st == HEBB_OK) {
    *ibox = idx;
    hebbL_account(L, idx);
  }
  else if (idx) hebb_release(idx);
  hebbL_finish(L, vbox, &vals, st);
  return 2;
}

static int l_min(lua_State *L) { return minmax(L, 0); }
static int l_max(lua_State *L) { return minmax(L, 1); }

static int argext(lua_State *L, int ismax) {
  const char *who = ismax ? "argmax" : "argmin";
  int op = ismax ? HEBB_ARGMAX : HEBB_ARGMIN, st;
  hebb_tensor *res, **box;
  rargs r;
  parse(L, 2, who, &r);
  if (r.given && !r.single)
    return luaL_error(L, "%s: expected one dimension, got a table", who);
  if (wants_value(L, op, &r)) return push_value(L, op, &r);
  box = hebbL_result_slot(L, r.opts, &res);
  st = hebb_argreduce(op, r.t, r.given ? r.dims[0] : -1, r.keepdim, 1, &res);
  hebbL_finish(L, box, &res, st);
  return 1;
}

static int l_argmin(lua_State *L) { return argext(L, 0); }
static int l_argmax(lua_State *L) { return argext(L, 1); }

/* cumsum/cumprod(t [, dim] [, opts]): dim may be left out for 1-d */
static int scan(lua_State *L, int prod) {
  const char *who = prod ? "cumprod" : "cumsum";
  hebb_tensor *t = hebbL_check(L, 1), *res, **box;
  int dim = 0, opts = 3, st;
  if (lua_isnoneornil(L, 2) || lua_type(L, 2) == LUA_TTABLE) {
    if (t->ndim > 1)
      return luaL_error(L, "%s: a dimension is required for a %d-dimensional "
                        "tensor", who, t->ndim);
    if (lua_type(L, 2) == LUA_TTABLE) opts = 2;
  }
  else dim = onedim(L, 2, t->ndim, who);
  if (!lua_isnoneornil(L, opts) && lua_type(L, opts) != LUA_TTABLE)
    return luaL_error(L, "%s: options must be a table, got %s", who,
                      luaL_typename(L, opts));
  hebbL_checkkeys(L, opts, hebbL_out_keys);
  box = hebbL_result_slot(L, lua_type(L, opts) == LUA_TTABLE ? opts : 0, &res);
  st = prod ? hebb_cumprod(t, dim, &res) : hebb_cumsum(t, dim, &res);
  hebbL_finish(L, box, &res, st);
  return 1;
}

static int l_cumsum(lua_State *L) { return scan(L, 0); }
static int l_cumprod(lua_State *L) { return scan(L, 1); }

/* --- comparisons ------------------------------------------------------- */

static double optfield(lua_State *L, int idx, const char *key, double def) {
  if (lua_getfield(L, idx, key) != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TNUMBER)
      luaL_error(L, "allclose: option '%s' must be a number, got %s", key,
                 luaL_typename(L, -1));
    def = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return def;
}

static int l_allclose(lua_State *L) {
  hebb_tensor sa, sb, *a, *b;
  hebb_num na, nb;
  double rtol = 1e-5, atol = 1e-8;
  bool equal_nan = false, r;
  a = hebbL_operand(L, 1, &sa, &na);
  b = hebbL_operand(L, 2, &sb, &nb);
  if (lua_type(L, 3) == LUA_TTABLE) {
    hebbL_checkkeys(L, 3, (const char *const[]){"atol", "equal_nan", "rtol",
                                                NULL});
    rtol = optfield(L, 3, "rtol", rtol);
    atol = optfield(L, 3, "atol", atol);
    equal_nan = optbool(L, 3, "equal_nan", false);
  } else {
    rtol = luaL_optnumber(L, 3, rtol);
    atol = luaL_optnumber(L, 4, atol);
  }
  hebbL_check_status(L, hebb_allclose(a, b, rtol, atol, equal_nan, &r));
  lua_pushboolean(L, r);
  return 1;
}

static int l_equal(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), *b = hebbL_check(L, 2);
  bool r;
  hebbL_check_status(L, hebb_equal(a, b, &r));
  lua_pushboolean(L, r);
  return 1;
}

/* --- registration ------------------------------------------------------ */

#define DIMS_DOC \
  "  dims: nothing (everything: the result is a Lua value), one dimension " \
  "(1-based, negative from the end) or a table of them; opts.keepdim keeps " \
  "reduced dimensions with size 1, opts.out = t writes into t."

static const hebb_lreg reduce_funcs[] = {
  {"sum", l_sum, HEBB_BOTH,
   "t:sum([dims] [, {keepdim=, out=}])\n\nThe sum of the elements: a Lua "
   "number for the whole tensor (an integer for i64 and bool), else a "
   "tensor.  i64/bool sums are exact i64 (wrapping like Lua integers); f32 "
   "sums are accumulated in f64.  The same bits at any thread count." DIMS_DOC},
  {"prod", l_prod, HEBB_BOTH,
   "t:prod([dims] [, {keepdim=, out=}])\n\nThe product of the elements (1 for "
   "none)." DIMS_DOC},
  {"mean", l_mean, HEBB_BOTH,
   "t:mean([dims] [, {keepdim=, out=}])\n\nThe arithmetic mean (NaN for no "
   "elements); integer tensors give f64." DIMS_DOC},
  {"min", l_min, HEBB_BOTH,
   "t:min([dim] [, {keepdim=, out=}])\n\nThe smallest element (a NaN wins).  "
   "With one dimension: the minima AND their 1-based indices (first "
   "occurrence), two tensors, like torch.  With a table of dimensions: the "
   "minima only.  An empty reduction is an error."},
  {"max", l_max, HEBB_BOTH,
   "t:max([dim] [, {keepdim=, out=}])\n\nThe largest element (a NaN wins).  "
   "With one dimension: the maxima AND their 1-based indices (first "
   "occurrence), two tensors, like torch.  With a table of dimensions: the "
   "maxima only.  An empty reduction is an error."},
  {"var", l_var, HEBB_BOTH,
   "t:var([dims] [, {correction=1, keepdim=, out=}])\n\nThe variance "
   "sum((x - mean)^2) / (n - correction), computed in two passes; "
   "correction = 1 (the default) is Bessel's unbiased estimate, 0 the "
   "population variance." DIMS_DOC},
  {"std", l_std, HEBB_BOTH,
   "t:std([dims] [, {correction=1, keepdim=, out=}])\n\nThe standard "
   "deviation, sqrt(t:var(...))." DIMS_DOC},
  {"norm", l_norm, HEBB_BOTH,
   "t:norm([p] [, dims] [, {keepdim=, out=}])\n\nThe vector p-norm: p = 1 "
   "(sum |x|), 2 (the default, sqrt(sum x^2)) or math.huge / 'inf' (max "
   "|x|)." DIMS_DOC},
  {"logsumexp", l_logsumexp, HEBB_BOTH,
   "t:logsumexp([dims] [, {keepdim=, out=}])\n\nlog(sum(exp(x))), computed "
   "stably as m + log(sum(exp(x - m))) with m the maximum (-inf for no "
   "elements)." DIMS_DOC},
  {"any", l_any, HEBB_BOTH,
   "t:any([dims] [, {keepdim=, out=}])\n\nWhether any element is nonzero "
   "(true); a boolean for the whole tensor, else a bool tensor." DIMS_DOC},
  {"all", l_all, HEBB_BOTH,
   "t:all([dims] [, {keepdim=, out=}])\n\nWhether every element is nonzero "
   "(true); true for no elements." DIMS_DOC},
  {"argmin", l_argmin, HEBB_BOTH,
   "t:argmin([dim] [, {keepdim=, out=}])\n\nThe 1-based index of the "
   "smallest element (the first one; a NaN wins): a Lua integer (the "
   "position in row-major order) without dim, an i64 tensor along dim."},
  {"argmax", l_argmax, HEBB_BOTH,
   "t:argmax([dim] [, {keepdim=, out=}])\n\nThe 1-based index of the "
   "largest element (the first one; a NaN wins): a Lua integer (the "
   "position in row-major order) without dim, an i64 tensor along dim."},
  {"cumsum", l_cumsum, HEBB_BOTH,
   "t:cumsum([dim] [, {out=}])\n\nRunning sums along dim (required unless t "
   "is 1-d): element i is x1 + ... + xi, added left to right.  i64/bool "
   "give i64; f32 is accumulated in f64."},
  {"cumprod", l_cumprod, HEBB_BOTH,
   "t:cumprod([dim] [, {out=}])\n\nRunning products along dim (required "
   "unless t is 1-d)."},
  {"allclose", l_allclose, HEBB_BOTH,
   "T.allclose(a, b [, rtol=1e-5 [, atol=1e-8]]) or T.allclose(a, b, "
   "{rtol=, atol=, equal_nan=false})\n\nWhether |a - b| <= atol + rtol*|b| "
   "for every element (a and b broadcast; either may be a number).  "
   "Infinities are close only to themselves; NaNs only with equal_nan.  "
   "Complex values compare by the modulus |a - b|."},
  {"equal", l_equal, HEBB_BOTH,
   "T.equal(a, b)\n\nWhether a and b have the same shape and equal elements "
   "(dtypes may differ; NaN is not equal to NaN)."},
  {NULL, NULL, 0, NULL}
};

void hebbL_open_reduce(lua_State *L, int module, int methods, int mt) {
  hebbL_register(L, reduce_funcs, module, methods, mt);
}
