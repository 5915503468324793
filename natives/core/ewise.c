/*
** ewise.c -- what the elementwise kernels (unary.c, binary.c, ternary.c)
** share: the dtype rules with weak scalars, inputs seen in the dtype a
** kernel computes in, and the runner with its flat fast path.
**
** The fast path matters for tiny tensors: `a + b` on one-element tensors is
** dominated by fixed costs, so flat operands skip the loop set-up (stride
** merging) and, below the parallel grain, the call goes straight to the
** inner kernel.
*/
#include <string.h>

#include "core.h"

/* bool < integer < float < complex */
static int kind(int dtype) {
  if (hebb_is_complex(dtype)) return 3;
  return dtype == HEBB_BOOL ? 0 : dtype == HEBB_I64 ? 1 : 2;
}

/* The common dtype of n operands.  Weak operands (Lua numbers) never widen
   the strong ones within their kind: f32 + 1.5 stays f32 and i64 + 2 stays
   i64; a weak operand of a higher kind gives that kind's default dtype
   (i64 + 0.5 is f64, bool + 1 is i64); a weak complex operand (T.I) meeting
   floats gives the complex dtype of their width (f32 * T.I is c64).
   Without strong operands the weak ones promote normally. */
int hebb_weak_promote(int n, const hebb_tensor *const *ts) {
  int strong = -1, weak = -1, i;
  for (i = 0; i < n; i++) {
    int d = ts[i]->dtype;
    if (ts[i]->flags & HEBB_TF_WEAK)
      weak = weak < 0 ? d : hebb_promote(weak, d);
    else
      strong = strong < 0 ? d : hebb_promote(strong, d);
  }
  if (strong < 0) return weak;
  if (weak < 0 || kind(weak) <= kind(strong)) return strong;
  if (kind(weak) == 3) return strong == HEBB_F32 ? HEBB_C64 : HEBB_C128;
  return kind(weak) == 2 ? HEBB_F64 : HEBB_I64;
}

/* --- inputs converted to the compute dtype ----------------------------- */

/* Reads the element at p of dtype 'from' and writes it at q as dtype 'to',
   with the conversions of hebb_astype (never complex to real: compute
   dtypes are at least as wide as their inputs). */
static void convert_one(int to, void *q, int from, const char *p) {
  double f = 0;
  double _Complex z = 0;
  int64_t i = 0;
  int isint = from == HEBB_I64 || from == HEBB_BOOL;
  switch (from) {
    case HEBB_F64: f = *(const double *)p; break;
    case HEBB_F32: f = *(const float *)p; break;
    case HEBB_I64: i = *(const int64_t *)p; break;
    case HEBB_C128: z = *(const double _Complex *)p; break;
    case HEBB_C64: z = *(const float _Complex *)p; break;
    default: i = *(const bool *)p; break;
  }
  if (!hebb_is_complex(from)) z = isint ? (double)i : f;
  switch (to) {
    case HEBB_F64: *(double *)q = isint ? (double)i : f; break;
    case HEBB_F32: *(float *)q = isint ? (float)i : (float)f; break;
    case HEBB_I64: *(int64_t *)q = isint ? i : hebb_f2i(f); break;
    case HEBB_C128: *(double _Complex *)q = z; break;
    case HEBB_C64: *(float _Complex *)q = (float _Complex)z; break;
    default: *(bool *)q = isint ? i != 0 : f != 0; break;
  }
}

/* A single element (the common case: a Lua number meeting a tensor of
   another dtype) is converted into c's own header, with no allocation;
   anything bigger into a temporary tensor. */
int hebb_cast_init(hebb_cast *c, const hebb_tensor *t, int dtype) {
  int64_t n;
  c->tmp = NULL;
  if (t->dtype == dtype) {
    c->t = (hebb_tensor *)t;
    return HEBB_OK;
  }
  n = hebb_numel(t);
  if (n == 1) {
    hebb_tensor *o = &c->one;
    memset(o, 0, offsetof(hebb_tensor, shape));
    o->dtype = dtype;
    o->ndim = t->ndim;
    o->flags = t->flags;
    o->refcount = 1;
    o->data = (char *)&c->val;
    memcpy(o->shape, t->shape, (size_t)t->ndim * sizeof(int64_t));
    memset(o->stride, 0, (size_t)t->ndim * sizeof(int64_t));
    convert_one(dtype, &c->val, t->dtype, hebb_first(t));
    c->t = o;
    return HEBB_OK;
  }
  c->t = c->tmp = hebb_astype(t, dtype);
  return c->t ? HEBB_OK : hebb_last_status();
}

void hebb_cast_free(hebb_cast *c) {
  hebb_release(c->tmp);
  c->tmp = NULL;
}

/* --- running a kernel -------------------------------------------------- */

/* Byte stride of op in a flat loop over n elements, or -1 if op is not
   flat: a flat operand is contiguous with all n elements (it then has the
   result's shape up to leading 1s), or a single broadcast element. */
static int64_t flat_stride(const hebb_tensor *t, int64_t n) {
  int64_t m = hebb_numel(t);
  if (m == 1) return 0;
  if (m == n && hebb_is_contiguous(t)) return hebb_dtype_size(t->dtype);
  return -1;
}

int hebb_ewise_run(int nops, hebb_tensor *const *ops, int ndim,
                   const int64_t *shape, hebb_inner_fn fn, void *ud,
                   int64_t cost) {
  hebb_loop lp;
  int64_t n = hebb_shape_numel(ndim, shape), s[HEBB_MAXOPS];
  char *p[HEBB_MAXOPS];
  int k;
  if (n == 0) return HEBB_OK;
  for (k = 0; k < nops; k++) {
    s[k] = flat_stride(ops[k], n);
    if (s[k] < 0) break;
    p[k] = hebb_first(ops[k]);
  }
  if (k < nops) hebb_loop_init(&lp, nops, ops, ndim, shape);
  else if (n * cost < HEBB_PAR_GRAIN) {   /* tiny: no loop, no threads */
    fn(n, p, s, ud);
    return HEBB_OK;
  }
  else {   /* one flat dimension */
    lp.nops = nops;
    lp.ndim = 1;
    lp.shape[0] = n;
    for (k = 0; k < nops; k++) {
      lp.stride[k][0] = s[k];
      lp.base[k] = p[k];
    }
  }
  return hebb_loop_run(&lp, fn, ud, cost);
}

/* Ends a call that made (made != 0) or was given the result *out: on
   failure a result the call made is released, so the caller owns nothing. */
int hebb_ewise_end(hebb_tensor **out, int made, int status) {
  if (status != HEBB_OK && made) {
    hebb_release(*out);
    *out = NULL;
  }
  return status;
}
