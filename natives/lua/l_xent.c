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

/* T._cross_entropy_mean(z, labels [, keep]): nn.cross_entropy's mean, a
   Lua number as t:mean() gives (a 0-d tensor when recorded); with a table
   keep, the rows' log-normalizers go to keep[1] (a new {N} tensor), where
   the rule, which gets the call's arguments, finds them */
static int l_cross_entropy_mean(lua_State *L) {
  hebb_tensor *z = hebbL_check(L, 1), *y = hebbL_check(L, 2), *lz = NULL;
  double mean = 0;
  int keep = lua_istable(L, 3);
  if (!keep) luaL_argexpected(L, lua_isnoneornil(L, 3), 3, "table or nil");
  if (keep && z->ndim == 2 && (z->dtype == HEBB_F64 || z->dtype == HEBB_F32)) {
    hebbL_push(L, hebb_empty(z->dtype, 1, z->shape));
    lz = hebbL_check(L, -1);
    lua_rawseti(L, 3, 1);
  }
  hebbL_check_status(L, hebb_cross_entropy_mean(z, y, 1, lz, &mean));
  lua_pushnumber(L, mean);
  return 1;
}

/* T._cross_entropy_grad(z, labels, g [, lz]): the rule's fast path */
static int l_cross_entropy_grad(lua_State *L) {
  hebb_tensor *z = hebbL_check(L, 1), *y = hebbL_check(L, 2);
  hebb_tensor *g = hebbL_check(L, 3), *lz = hebbL_test(L, 4), *res = NULL;
  hebb_tensor **box = hebbL_newbox(L);
  hebbL_finish(L, box, &res, hebb_cross_entropy_grad_saved(z, y, 1, lz, g, &res));
  return 1;
}

static const hebb_lreg xent_funcs[] = {
  {"cross_entropy", l_cross_entropy, HEBB_FN,
   "T.cross_entropy(z, labels [, {out=}])\n\nThe softmax cross-entropy of "
   "each row of the logits z {N, C} (f64 or f32) against its class label "
   "(an i64 tensor {N} of numbers 1..C): log(sum_j e^z_j) - z_label, "
   "computed with the row maximum subtracted, as a tensor {N}.  One pass "
   "per row, forward and backward; nn.cross_entropy averages it."},
  {"_cross_entropy_mean", l_cross_entropy_mean, HEBB_FN,
   "T._cross_entropy_mean(z, labels [, keep])\n\nInternal (nn.cross_entropy's "
   "default reduction): the mean of T.cross_entropy(z, labels), the number "
   "T.cross_entropy(z, labels):mean() gives, in one call and one recorded "
   "op; with a table keep, each row's log(sum_j e^z_j) goes to keep[1] (a "
   "new {N} tensor of z's dtype) for the backward."},
  {"_cross_entropy_grad", l_cross_entropy_grad, HEBB_FN | HEBB_RAW,
   "T._cross_entropy_grad(z, labels, g [, lz])\n\nInternal (autograd's rule of "
   "T.cross_entropy): g_i (softmax(z_i) - onehot(label_i)) as a tensor "
   "shaped like z, not recorded; lz: the rows' log-normalizers saved by "
   "T._cross_entropy_mean (else computed)."},
  {NULL, NULL, 0, NULL}
};

void hebbL_open_xent(lua_State *L, int module, int methods, int mt) {
  hebbL_register(L, xent_funcs, module, methods, mt);
}
