/*
** l_xent.c -- the softmax cross-entropy of `hebb.tensor` (T.cross_entropy,
** which nn.cross_entropy averages) and its backward fast path.  The kernels
** are in natives/core/xent.c.
*/
#include "lhebb.h"

/* T.cross_entropy(z, labels [, opts]) */
static int l_cross_entropy(lua_State *L) {
  hebb_tensor *z = hebbL_check(L, 1), *y = hebbL_check(L, 2), *res, **box;
  box = hebbL_result_slot(L, hebbL_outopts(L, 3), &res);
  hebbL_finish(L, box, &res, hebb_cross_entropy(z, y, 1, &res));
  return 1;
}

/* T._cross_entropy_grad(z, labels, g): the rule's fast path */
static int l_cross_entropy_grad(lua_State *L) {
  hebb_tensor *z = hebbL_check(L, 1), *y = hebbL_check(L, 2);
  hebb_tensor *g = hebbL_check(L, 3), *res = NULL, **box = hebbL_newbox(L);
  hebbL_finish(L, box, &res, hebb_cross_entropy_grad(z, y, 1, g, &res));
  return 1;
}

static const hebb_lreg xent_funcs[] = {
  {"cross_entropy", l_cross_entropy, HEBB_FN,
   "T.cross_entropy(z, labels [, {out=}])\n\nThe softmax cross-entropy of "
   "each row of the logits z {N, C} (f64 or f32) against its class label "
   "(an i64 tensor {N} of numbers 1..C): log(sum_j e^z_j) - z_label, "
   "computed with the row maximum subtracted, as a tensor {N}.  One pass "
   "per row, forward and backward; nn.cross_entropy averages it."},
  {"_cross_entropy_grad", l_cross_entropy_grad, HEBB_FN | HEBB_RAW,
   "T._cross_entropy_grad(z, labels, g)\n\nInternal (autograd's rule of "
   "T.cross_entropy): g_i (softmax(z_i) - onehot(label_i)) as a tensor "
   "shaped like z, not recorded."},
  {NULL, NULL, 0, NULL}
};

void hebbL_open_xent(lua_State *L, int module, int methods, int mt) {
  hebbL_register(L, xent_funcs, module, methods, mt);
}
