/*
** l_index.c -- indexing by tensors and joining for hebb.tensor:
** index_select, gather, scatter_, scatter_add_, masked_fill(_),
** masked_select, cat, stack.  Index tensors hold 1-based indices (the core
** gets base 1); the t[k] syntax lives in l_view.c.
*/
#include "lhebb.h"

/* An index argument: an i64 tensor, or a Lua table of integers, which is
   made into a 1-d i64 tensor that replaces it on the stack (so the GC owns
   it even if a later check raises). */
static hebb_tensor *checkindex(lua_State *L, int idx) {
  int64_t n, i;
  hebb_tensor *t;
  if (lua_type(L, idx) != LUA_TTABLE) return hebbL_check(L, idx);
  n = (int64_t)lua_rawlen(L, idx);
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_empty(HEBB_I64, 1, &n));
  t = *(hebb_tensor **)lua_touserdata(L, -1);
  for (i = 0; i < n; i++) {
    int isint = 0;
    lua_Integer k = 0;
    if (lua_rawgeti(L, idx, i + 1) == LUA_TNUMBER)
      k = lua_tointegerx(L, -1, &isint);
    if (!isint)
      luaL_error(L, "indices must be integers, entry %d is %s", (int)i + 1,
                 lua_type(L, -1) == LUA_TNUMBER ? "not" : luaL_typename(L, -1));
    ((int64_t *)hebb_data_ptr(t))[i] = k;
    lua_pop(L, 1);
  }
  lua_replace(L, idx);
  return t;
}

/* A number or boolean argument as the double the masked fill takes. */
static double checkfill(lua_State *L, int idx) {
  if (lua_type(L, idx) == LUA_TBOOLEAN) return lua_toboolean(L, idx);
  return luaL_checknumber(L, idx);
}

/* --- reading through indices -------------------------------------------- */

typedef int (*pick_fn)(const hebb_tensor *a, int dim, const hebb_tensor *ix,
                       int64_t base, hebb_tensor **out);

/* t:index_select / t:gather (dim, idx [, {out=}]): same arguments, and
   1-based indices */
static int pick(lua_State *L, pick_fn fn) {
  hebb_tensor *a = hebbL_check(L, 1), *ix, *res;
  int dim = hebbL_checkdim(L, 2, a->ndim);
  hebb_tensor **box;
  ix = checkindex(L, 3);
  box = hebbL_result_slot(L, hebbL_outopts(L, 4), &res);
  hebbL_finish(L, box, &res, fn(a, dim, ix, 1, &res));
  return 1;
}

static int l_index_select(lua_State *L) { return pick(L, hebb_index_select); }
static int l_gather(lua_State *L) { return pick(L, hebb_gather); }

static int l_masked_select(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), *mask = hebbL_check(L, 2), *res;
  hebb_tensor **box = hebbL_result_slot(L, hebbL_outopts(L, 3), &res);
  hebbL_finish(L, box, &res, hebb_masked_select(a, mask, &res));
  return 1;
}

/* --- writing through indices -------------------------------------------- */

static int scatter(lua_State *L, bool accumulate) {
  hebb_tensor *a = hebbL_check(L, 1), *ix, *src, scratch;
  int dim = hebbL_checkdim(L, 2, a->ndim);
  hebb_num num;
  ix = checkindex(L, 3);
  src = hebbL_operand(L, 4, &scratch, &num);
  hebbL_check_status(L, hebb_scatter(a, dim, ix, 1, src, accumulate));
  lua_settop(L, 1);
  return 1;
}

static int l_scatter_(lua_State *L) { return scatter(L, false); }
static int l_scatter_add_(lua_State *L) { return scatter(L, true); }

static int l_masked_fill_(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), *mask = hebbL_check(L, 2);
  hebbL_check_status(L, hebb_masked_fill(a, mask, checkfill(L, 3)));
  lua_settop(L, 1);
  return 1;
}

static int l_masked_fill(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), *mask = hebbL_check(L, 2), **box;
  double v = checkfill(L, 3);
  box = hebbL_newbox(L);
  hebbL_fill_box(L, hebb_clone(a));
  hebbL_check_status(L, hebb_masked_fill(*box, mask, v));
  return 1;
}

/* --- joining ------------------------------------------------------------ */

/* The tensors of the table at 1, in a scratch array the GC owns; the table
   keeps them alive during the call. */
static hebb_tensor **checklist(lua_State *L, int *n, const char *who) {
  hebb_tensor **ts;
  int i;
  if (lua_type(L, 1) != LUA_TTABLE)
    luaL_error(L, "%s: expected a table of tensors, got %s", who,
               luaL_typename(L, 1));
  *n = (int)lua_rawlen(L, 1);
  ts = lua_newuserdatauv(L, (size_t)*n * sizeof(*ts) + 1, 0);
  for (i = 0; i < *n; i++) {
    lua_rawgeti(L, 1, i + 1);
    if (!hebbL_test(L, -1)) {
      if (luaL_testudata(L, -1, HEBB_TENSOR_MT))
        luaL_error(L, "%s: input %d is a freed tensor", who, i + 1);
      luaL_error(L, "%s: input %d is a %s, not a tensor", who, i + 1,
                 luaL_typename(L, -1));
    }
    ts[i] = hebbL_test(L, -1);
    lua_pop(L, 1);
  }
  return ts;
}

static int l_cat(lua_State *L) {
  int n, dim;
  hebb_tensor **ts;
  lua_settop(L, 2);   /* the scratch array goes above the arguments */
  ts = checklist(L, &n, "cat");
  dim = n > 0 ? hebbL_optdim(L, 2, ts[0]->ndim, 0) : 0;
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_cat(n, ts, dim));
  return 1;
}

static int l_stack(lua_State *L) {
  int n, dim = 0;
  hebb_tensor **ts;
  lua_settop(L, 2);
  ts = checklist(L, &n, "stack");
  if (n > 0 && !lua_isnoneornil(L, 2))
    dim = hebbL_checknewdim(L, 2, ts[0]->ndim, "stack");
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_stack(n, ts, dim));
  return 1;
}

/* --- registration ------------------------------------------------------- */

static const hebb_lreg index_funcs[] = {
  {"index_select", l_index_select, HEBB_BOTH,
   "t:index_select(dim, idx [, {out=}])\n\nThe slices idx[1], idx[2], ... of "
   "dimension dim, in that order (repeats allowed), as a new tensor.  idx "
   "is an i64 tensor or a Lua table of 1-based indices.  t[idx] with an i64 "
   "tensor idx is t:index_select(1, idx)."},
  {"gather", l_gather, HEBB_BOTH,
   "t:gather(dim, idx [, {out=}])\n\nresult[i][j]... = t[...][idx[i][j]...]"
   "[...]: the element picked along dim by idx at the same position (1-based "
   "indices).  idx (i64) has t's number of dimensions and is no larger "
   "outside dim; the result has idx's shape."},
  {"scatter_", l_scatter_, HEBB_BOTH,
   "t:scatter_(dim, idx, src)\n\nThe inverse of gather, in place: "
   "t[...][idx[i][j]...][...] = src[i][j]... (src a tensor, read at idx's "
   "positions or broadcast to idx's shape, or a number).  With repeated "
   "indices the last write (in row-major order) wins.  All indices are "
   "checked first; returns t."},
  {"scatter_add_", l_scatter_add_, HEBB_BOTH,
   "t:scatter_add_(dim, idx, src)\n\nLike scatter_, but adds src into t, so "
   "repeated indices accumulate (in row-major order: the same bits every "
   "run).  Returns t."},
  {"masked_fill_", l_masked_fill_, HEBB_BOTH,
   "t:masked_fill_(mask, value)\n\nSets the elements where the bool tensor "
   "mask (broadcast to t's shape) is true to value, in place; returns t.  "
   "Same as t[mask] = value."},
  {"masked_fill", l_masked_fill, HEBB_BOTH,
   "t:masked_fill(mask, value)\n\nA copy of t with value where mask is "
   "true."},
  {"masked_select", l_masked_select, HEBB_BOTH,
   "t:masked_select(mask [, {out=}])\n\nThe elements where the bool tensor "
   "mask is true (t and mask broadcast together), in row-major order, as a "
   "1-d tensor.  Same as t[mask]."},
  {"cat", l_cat, HEBB_FN,
   "T.cat({t1, t2, ...} [, dim])\n\nThe tensors joined along dimension dim "
   "(default 1); their shapes must agree in every other dimension.  The "
   "result has the dtype they all promote to."},
  {"stack", l_stack, HEBB_FN,
   "T.stack({t1, t2, ...} [, dim])\n\nTensors of one shape stacked along a "
   "new dimension at position dim (default 1; -1 appends it): stacking n "
   "vectors of length m gives an n x m matrix."},
  {NULL, NULL, 0, NULL}
};

void hebbL_open_index(lua_State *L, int module, int methods, int mt) {
  hebbL_register(L, index_funcs, module, methods, mt);
}
