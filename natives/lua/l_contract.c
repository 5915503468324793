/*
** l_contract.c -- index contractions of `hebb.tensor`: einsum, tensordot
** and ncon.  The engine is natives/core/contract.c.
*/
#include <string.h>

#include "core.h"
#include "lhebb.h"

#define MAXOPS 64   /* as contract.c */

/* T.einsum(subscripts, t1, t2, ... [, opts]) */
static int l_einsum(lua_State *L) {
  const char *subs = luaL_checkstring(L, 1);
  hebb_tensor *ops[MAXOPS], *res, **box;
  int top = lua_gettop(L), n = 0, opts = 0, i;
  if (top >= 2 && lua_type(L, top) == LUA_TTABLE && !hebbL_test(L, top))
    opts = top--;
  if (top - 1 > MAXOPS)
    return luaL_error(L, "einsum: %d operands (at most %d)", top - 1, MAXOPS);
  for (i = 2; i <= top; i++) ops[n++] = hebbL_check(L, i);
  if (n == 0) return luaL_error(L, "einsum: no operands");
  hebbL_checkkeys(L, opts, hebbL_out_keys);
  box = hebbL_result_slot(L, opts, &res);
  hebbL_finish(L, box, &res, hebb_einsum(subs, n, ops, &res));
  return 1;
}

/* one 1-based dimension number of a tensor with ndim dims, from the list
   at the top of the stack -> 0-based */
static int list_dim(lua_State *L, int k, int ndim, const char *which) {
  lua_Integer d;
  int isnum;
  lua_geti(L, -1, k);
  d = lua_tointegerx(L, -1, &isnum);
  lua_pop(L, 1);
  if (!isnum)
    return luaL_error(L, "tensordot: entry %d of the dims of %s is not an "
                      "integer", k, which);
  if (d < 0) d += ndim + 1;
  if (d < 1 || d > ndim)
    return luaL_error(L, "tensordot: dimension %d of %s is out of range "
                      "(%s has %d dimensions)", (int)(d <= 0 ? d - ndim - 1 :
                      d), which, which, ndim);
  return (int)d - 1;
}

/* the dims argument at idx: n (last n of a with the first n of b) or
   {{dims of a}, {dims of b}}; returns the count */
static int tensordot_dims(lua_State *L, int idx, const hebb_tensor *a,
                          const hebb_tensor *b, int *da, int *db) {
  int nd, k;
  if (lua_isnoneornil(L, idx) || lua_type(L, idx) == LUA_TNUMBER) {
    lua_Integer n = luaL_optinteger(L, idx, 2);
    if (n < 0 || n > a->ndim || n > b->ndim)
      return luaL_error(L, "tensordot: cannot contract %d dimensions of "
                        "tensors with %d and %d", (int)n, a->ndim, b->ndim);
    for (k = 0; k < n; k++) {
      da[k] = a->ndim - (int)n + k;
      db[k] = k;
    }
    return (int)n;
  }
  luaL_argexpected(L, lua_type(L, idx) == LUA_TTABLE, idx,
                   "integer or {{dims of a}, {dims of b}}");
  lua_geti(L, idx, 1);
  lua_geti(L, idx, 2);
  if (!lua_istable(L, -2) || !lua_istable(L, -1))
    return luaL_error(L, "tensordot: dims must be an integer or a pair of "
                      "lists {{dims of a}, {dims of b}}");
  nd = (int)luaL_len(L, -2);
  if (nd != luaL_len(L, -1))
    return luaL_error(L, "tensordot: %d dims of a but %d of b", nd,
                      (int)luaL_len(L, -1));
  if (nd > HEBB_MAXDIM)
    return luaL_error(L, "tensordot: %d dims (at most %d)", nd, HEBB_MAXDIM);
  for (k = 0; k < nd; k++) db[k] = list_dim(L, k + 1, b->ndim, "b");
  lua_pop(L, 1);
  for (k = 0; k < nd; k++) da[k] = list_dim(L, k + 1, a->ndim, "a");
  lua_pop(L, 1);
  return nd;
}

static int l_tensordot(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), *b = hebbL_check(L, 2), *res, **box;
  int da[HEBB_MAXDIM], db[HEBB_MAXDIM], nd, opts;
  nd = tensordot_dims(L, 3, a, b, da, db);
  opts = hebbL_outopts(L, 4);
  box = hebbL_result_slot(L, opts, &res);
  hebbL_finish(L, box, &res, hebb_tensordot(a, b, nd, da, db, &res));
  return 1;
}

/* the labels of tensor k (from the list at the top of the stack) */
static void ncon_labels(lua_State *L, int k, const hebb_tensor *t,
                        int64_t *lab) {
  int n, i;
  if (!lua_istable(L, -1))
    luaL_error(L, "ncon: the labels of tensor %d are not a list", k);
  n = (int)luaL_len(L, -1);
  if (n != t->ndim)
    luaL_error(L, "ncon: tensor %d has %d dimensions but %d labels", k,
               t->ndim, n);
  for (i = 0; i < n; i++) {
    int isnum;
    lua_geti(L, -1, i + 1);
    lab[i] = lua_tointegerx(L, -1, &isnum);
    if (!isnum)
      luaL_error(L, "ncon: label %d of tensor %d is not an integer", i + 1, k);
    lua_pop(L, 1);
  }
}

static bool ncon_greedy(lua_State *L, int opts) {
  const char *o;
  bool greedy;
  if (!opts) return false;
  lua_getfield(L, opts, "order");
  o = luaL_optstring(L, -1, "ascending");
  greedy = strcmp(o, "greedy") == 0;
  if (!greedy && strcmp(o, "ascending") != 0)
    luaL_error(L, "ncon: order '%s' (\"ascending\" or \"greedy\")", o);
  lua_pop(L, 1);
  return greedy;
}

/* T.ncon(tensors, labels [, {order=, out=}]) */
static int l_ncon(lua_State *L) {
  hebb_tensor *ops[MAXOPS], *res, **box;
  int64_t lab[MAXOPS][HEBB_MAXDIM];
  const int64_t *labp[MAXOPS];
  int n, k, opts;
  bool greedy;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  opts = hebbL_checkopts(L, 3);
  hebbL_checkkeys(L, opts, (const char *const[]){"order", "out", NULL});
  n = (int)luaL_len(L, 1);
  if (n < 1 || n > MAXOPS)
    return luaL_error(L, "ncon: %d tensors (1 to %d allowed)", n, MAXOPS);
  if (luaL_len(L, 2) != n)
    return luaL_error(L, "ncon: %d tensors but %d label lists", n,
                      (int)luaL_len(L, 2));
  for (k = 0; k < n; k++) {
    lua_geti(L, 1, k + 1);
    ops[k] = hebbL_test(L, -1);
    if (!ops[k]) return luaL_error(L, "ncon: entry %d of the tensors is not "
                                   "a tensor", k + 1);
    lua_pop(L, 1);   /* the list at 1 keeps it alive */
    lua_geti(L, 2, k + 1);
    ncon_labels(L, k + 1, ops[k], lab[k]);
    lua_pop(L, 1);
    labp[k] = lab[k];
  }
  greedy = ncon_greedy(L, opts);
  box = hebbL_result_slot(L, opts, &res);
  hebbL_finish(L, box, &res, hebb_ncon(n, ops, labp, greedy, &res));
  return 1;
}

static const hebb_lreg contract_funcs[] = {
  {"einsum", l_einsum, HEBB_FN,
   "T.einsum(subscripts, a, b, ... [, {out=}])\n\nEinstein summation: "
   "each operand is named by one letter per dimension, \"ij,jk->ik\" is the "
   "matrix product, and letters missing from the output (after ->) are "
   "summed.  A letter repeated in one operand takes its diagonal: \"ii->\" "
   "is the trace, \"ii->i\" the diagonal.  Letters shared by operands and "
   "kept in the output are batch indices (\"bij,bjk->bik\").  Without -> "
   "the output holds the letters that appear once, in alphabetical order "
   "(capitals first), as in NumPy.  Letters a-z, A-Z; sizes of a letter "
   "must agree.  \"...\" stands for the dimensions no letter names, lined "
   "up from the right (\"...ij,...jk->...ik\"; their sizes must agree: "
   "no broadcasting); without -> they lead the output, and an explicit "
   "output without \"...\" sums them.  Three or more operands are "
   "contracted two at a time in a greedy order: always the pair that "
   "shares an index and gives the smallest intermediate (ties: the first "
   "such pair).  Each pair is one batched matrix product (BLAS); "
   "dtypes promote as in T.matmul."},
  {"tensordot", l_tensordot, HEBB_FN,
   "T.tensordot(a, b [, dims [, {out=}]])\n\nSums a*b over pairs of "
   "dimensions: dims = n (default 2) pairs the last n dimensions of a with "
   "the first n of b; dims = {{1, 3}, {2, 1}} pairs dimension 1 of a with 2 "
   "of b and 3 of a with 1 of b (1-based, negative from the end).  The "
   "result has the remaining dimensions of a, then those of b."},
  {"ncon", l_ncon, HEBB_FN,
   "T.ncon(tensors, labels [, {order=, out=}])\n\nContracts a tensor "
   "network in the ncon convention: labels[k] gives one integer per "
   "dimension of tensors[k]; a positive label appears exactly twice and is "
   "summed over (twice in one tensor: a trace), negative labels are open "
   "and become the result's dimensions in the order -1, -2, ...  By "
   "default the contraction follows the positive labels in ascending order "
   "(the pair holding the smallest remaining label next); order = "
   "\"greedy\" picks the pair giving the smallest intermediate instead.  "
   "Example: T.ncon({A, B}, {{-1, 1}, {1, -2}}) is A:matmul(B)."},
  {NULL, NULL, 0, NULL}
};

void hebbL_open_contract(lua_State *L, int module, int methods, int mt) {
  hebbL_register(L, contract_funcs, module, methods, mt);
}
