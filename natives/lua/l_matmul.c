/*
** l_matmul.c -- matrix products of `hebb.tensor`: matmul (NumPy rules,
** batched with broadcasting), mm, dot, outer and linear (x W^T + b).  The
** kernels are in natives/core/matmul.c.
*/
#include "lhebb.h"

typedef hebb_status (*product_fn)(const hebb_tensor *a, const hebb_tensor *b,
                                  hebb_tensor **out);

static int product(lua_State *L, product_fn fn) {
  hebb_tensor *a = hebbL_check(L, 1), *b = hebbL_check(L, 2), *res, **box;
  box = hebbL_result_slot(L, hebbL_outopts(L, 3), &res);
  hebbL_finish(L, box, &res, fn(a, b, &res));
  return 1;
}

static int l_matmul(lua_State *L) { return product(L, hebb_matmul); }
static int l_dot(lua_State *L) { return product(L, hebb_dot); }
static int l_outer(lua_State *L) { return product(L, hebb_outer); }

typedef hebb_status (*linear_fn)(const hebb_tensor *x, const hebb_tensor *w,
                                 const hebb_tensor *b, hebb_tensor **out);

static int linear(lua_State *L, linear_fn fn) {
  hebb_tensor *x = hebbL_check(L, 1), *w = hebbL_check(L, 2), *b = NULL;
  hebb_tensor *res, **box;
  int opts = 3;
  if ((b = hebbL_test(L, 3)) != NULL) opts = 4;
  else if (lua_isnil(L, 3) && !lua_isnone(L, 4)) opts = 4;
  box = hebbL_result_slot(L, hebbL_outopts(L, opts), &res);
  hebbL_finish(L, box, &res, fn(x, w, b, &res));
  return 1;
}

/* T.linear(x, W [, b] [, opts]) */
static int l_linear(lua_State *L) { return linear(L, hebb_linear); }
/* T._linear_relu(x, W [, b] [, opts]): nn.Sequential's Linear + ReLU */
static int l_linear_relu(lua_State *L) { return linear(L, hebb_linear_relu); }

static int l_mm(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), *b = hebbL_check(L, 2);
  if (a->ndim != 2 || b->ndim != 2)
    return luaL_error(L, "mm: expects two 2-d tensors (got %d-d and %d-d); "
                      "matmul handles vectors and batches", a->ndim, b->ndim);
  return product(L, hebb_matmul);
}

static const hebb_lreg matmul_funcs[] = {
  {"_linear_relu", l_linear_relu, HEBB_FN,
   "T._linear_relu(x, W [, b] [, {out=}])\n\nInternal (nn.Sequential's "
   "nn.Linear followed by nn.ReLU): relu(x W^T + b) with the ReLU taken in "
   "each tile of the product, the same values as T.relu(T.linear(x, W, b)); "
   "recorded as one op."},
  {"linear", l_linear, HEBB_FN,
   "T.linear(x, W [, b] [, {out=}])\n\nx W^T + b over the last dimension of "
   "x: x is {..., in}, W {out, in}, b (optional) {out}; the result is "
   "{..., out}.  One gemm that adds to the bias already in the result "
   "(no pass for the bias, none for zeroing), as nn.Linear uses it."},
  {"matmul", l_matmul, HEBB_BOTH,
   "T.matmul(a, b [, {out=}])  or  a:matmul(b)\n\nThe matrix product, with "
   "NumPy's rules: two 1-d tensors give their dot product (a 0-d tensor); a "
   "1-d left operand is a row vector and a 1-d right operand a column "
   "vector (that dimension is dropped from the result); leading dimensions "
   "are batches and broadcast, so {2,1,3,4} @ {5,4,2} is {2,5,3,2}.  "
   "f64/f32 use OpenBLAS (transposed views are passed without copying); "
   "i64 and bool give exact i64 results (wrapping like Lua integers).  "
   "Mixed dtypes are promoted."},
  {"mm", l_mm, HEBB_BOTH,
   "T.mm(a, b [, {out=}])\n\nThe product of two matrices (2-d tensors only); "
   "see T.matmul for vectors and batches."},
  {"dot", l_dot, HEBB_BOTH,
   "T.dot(a, b [, {out=}])\n\nThe dot product sum_i a[i]*b[i] of two 1-d "
   "tensors of equal length, as a 0-d tensor (use :item() for the number).  "
   "Summed in fixed blocks, so the bits do not depend on the thread count.  "
   "Complex a is not conjugated (as numpy's dot); T.vdot conjugates."},
  {"outer", l_outer, HEBB_BOTH,
   "T.outer(a, b [, {out=}])\n\nThe outer product of two 1-d tensors: the "
   "matrix r[i][j] = a[i]*b[j] of shape {#a, #b}."},
  {NULL, NULL, 0, NULL}
};

void hebbL_open_matmul(lua_State *L, int module, int methods, int mt) {
  hebbL_register(L, matmul_funcs, module, methods, mt);
}
