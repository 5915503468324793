/*
** l_sort.c -- ordering functions of `hebb.tensor` (natives/core/sort.c):
** sort, argsort, topk, unique, searchsorted, histc.  Indices are 1-based.
*/
#include "lhebb.h"

/* the boolean option 'name', the only key the table at idx (0: none) may
   hold */
static bool optflag(lua_State *L, int idx, const char *name, bool def) {
  bool v = def;
  hebbL_checkkeys(L, idx, (const char *const[]){name, NULL});
  if (idx && lua_getfield(L, idx, name) != LUA_TNIL) {
    if (!lua_isboolean(L, -1))
      hebbL_error(L, "option '%s' must be a boolean, got %s", name,
                  luaL_typename(L, -1));
    v = lua_toboolean(L, -1);
  }
  if (idx) lua_pop(L, 1);
  return v;
}

/* [dim] [, opts] from idx: the options table's index (0: none) */
static int dim_opts(lua_State *L, int idx, const hebb_tensor *a, int *dim) {
  if (a->ndim == 0)
    hebbL_error(L, "expected a tensor with at least 1 dimension (got a 0-d "
                "tensor)");
  if (lua_istable(L, idx)) {
    *dim = a->ndim - 1;
    return idx;
  }
  *dim = hebbL_optdim(L, idx, a->ndim, a->ndim - 1);
  return hebbL_checkopts(L, idx + 1);
}

/* pushes the two results of a core call that made *v and *i (either may
   be wanted or not: a NULL box skips it) */
static int push_pair(lua_State *L, hebb_tensor **vbox, hebb_tensor **ibox,
                     hebb_tensor *v, hebb_tensor *i, int st) {
  if (st != HEBB_OK) {
    if (v) hebb_release(v);
    if (i) hebb_release(i);
    return hebbL_raise(L);
  }
  if (vbox) { *vbox = v; hebbL_account(L, v); }
  *ibox = i;
  hebbL_account(L, i);
  return vbox ? 2 : 1;
}

static int sort_common(lua_State *L, bool want_values) {
  hebb_tensor *a = hebbL_check(L, 1), *v = NULL, *i = NULL;
  hebb_tensor **vbox = NULL, **ibox;
  int dim, opts = dim_opts(L, 2, a, &dim), st;
  bool desc = optflag(L, opts, "descending", false);
  if (want_values) vbox = hebbL_newbox(L);
  ibox = hebbL_newbox(L);
  st = hebb_sort(a, dim, desc, 1, want_values ? &v : NULL, &i);
  return push_pair(L, vbox, ibox, v, i, st);
}

static int l_sort(lua_State *L) { return sort_common(L, true); }
static int l_argsort(lua_State *L) { return sort_common(L, false); }

static int l_topk(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), *v = NULL, *i = NULL, **vbox, **ibox;
  lua_Integer k = luaL_checkinteger(L, 2);
  int dim, opts = dim_opts(L, 3, a, &dim), st;
  bool largest = optflag(L, opts, "largest", true);
  vbox = hebbL_newbox(L);
  ibox = hebbL_newbox(L);
  st = hebb_topk(a, (int64_t)k, dim, largest, 1, &v, &i);
  return push_pair(L, vbox, ibox, v, i, st);
}

static int l_unique(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), *v = NULL, *inv = NULL, *cnt = NULL;
  hebb_tensor **vbox = hebbL_newbox(L), **ibox = hebbL_newbox(L);
  hebb_tensor **cbox = hebbL_newbox(L);
  if (hebb_unique(a, 1, &v, &inv, &cnt) != HEBB_OK) {
    if (v) hebb_release(v);
    if (inv) hebb_release(inv);
    if (cnt) hebb_release(cnt);
    return hebbL_raise(L);
  }
  *vbox = v; *ibox = inv; *cbox = cnt;
  hebbL_account(L, v);
  hebbL_account(L, inv);
  hebbL_account(L, cnt);
  return 3;
}

static int l_searchsorted(lua_State *L) {
  hebb_tensor *s = hebbL_check(L, 1), sv, *v, *r = NULL, **box;
  hebb_num nv;
  int opts = hebbL_checkopts(L, 3), isnum = lua_type(L, 2) == LUA_TNUMBER;
  bool right = optflag(L, opts, "right", false);
  v = hebbL_operand(L, 2, &sv, &nv);
  if (isnum && s->dtype != HEBB_I64 && v->dtype == HEBB_I64) {
    nv.f = (double)nv.i;   /* an integer looked up among floats */
    v->dtype = HEBB_F64;
  }
  else if (isnum && s->dtype == HEBB_I64 && v->dtype != HEBB_I64)
    return luaL_argerror(L, 2, "a float looked up in an i64 sequence; "
                         "convert one of them");
  box = hebbL_newbox(L);
  hebbL_finish(L, box, &r, hebb_searchsorted(s, v, right, 1, &r));
  if (isnum) lua_pushinteger(L, *(int64_t *)hebb_data_ptr(r));
  return 1;
}

static int l_histc(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), *r = NULL, **box;
  lua_Integer bins = luaL_optinteger(L, 2, 100);
  double lo = luaL_optnumber(L, 3, 0), hi = luaL_optnumber(L, 4, 0);
  box = hebbL_newbox(L);
  hebbL_finish(L, box, &r, hebb_histc(a, (int64_t)bins, lo, hi, &r));
  return 1;
}

static const hebb_lreg sort_funcs[] = {
  {"sort", l_sort, HEBB_BOTH,
   "T.sort(x [, dim] [, {descending=}])\n\nThe elements of x sorted along "
   "dim (default -1, the last), and their 1-based positions in x (i64): "
   "values, indices.  Stable in both directions: equal elements keep their "
   "order.  NaN counts as larger than any number (last ascending, first "
   "descending); -0.0 equals 0.0.  Complex tensors have no order."},
  {"argsort", l_argsort, HEBB_BOTH,
   "T.argsort(x [, dim] [, {descending=}])\n\nThe indices of T.sort alone: "
   "x:gather(dim, T.argsort(x, dim)) is sorted."},
  {"topk", l_topk, HEBB_BOTH,
   "T.topk(x, k [, dim] [, {largest=true}])\n\nThe k largest elements along "
   "dim (default -1), largest first, and their 1-based indices; with "
   "largest = false the k smallest, smallest first.  Ties keep their order "
   "in x."},
  {"unique", l_unique, HEBB_BOTH,
   "T.unique(x)\n\nThe distinct values of x (flattened), ascending, as a 1-d "
   "tensor; also returns inverse (x's shape: each element's 1-based place "
   "among them, so values:index_select(1, inverse:view(-1)) rebuilds x) and "
   "counts (i64, how often each value occurs).  NaNs count as equal."},
  {"searchsorted", l_searchsorted, HEBB_BOTH,
   "T.searchsorted(s, v [, {right=}])\n\nFor an ascending 1-d s, where each "
   "element of v would be inserted to keep s sorted: the 1-based position "
   "of the first element of s that is >= v (right = true: > v), n + 1 past "
   "the end.  v a tensor (result i64 of its shape) or a number (result an "
   "integer).  An unsorted s is an error."},
  {"histc", l_histc, HEBB_BOTH,
   "T.histc(x [, bins=100 [, min=0 [, max=0]]])\n\nA histogram of x's "
   "elements: counts (f64) in `bins` equal bins over [min, max], max falling "
   "in the last bin; elements outside and NaNs are not counted.  With min = "
   "max (the default) the range is that of the data.  Bin i covers [min + "
   "(i-1) w, min + i w), w = (max - min)/bins."},
  {NULL, NULL, 0, NULL}
};

void hebbL_open_sort(lua_State *L, int module, int methods, int mt) {
  hebbL_register(L, sort_funcs, module, methods, mt);
}
