/*
** iter.c -- NumPy broadcasting and the strided loop every elementwise
** kernel runs on.  A loop merges dimensions that are contiguous for all
** operands, so contiguous tensors become one flat inner loop (which the
** compiler vectorizes), and splits the flat element range over threads.
*/
#include <string.h>

#include "core.h"

int hebb_broadcast_shape(int na, const int64_t *sa, int nb, const int64_t *sb,
                         int *nout, int64_t *sout, const char *who) {
  int n = na > nb ? na : nb, i;
  for (i = 0; i < n; i++) {
    int64_t a = i < n - na ? 1 : sa[i - (n - na)];
    int64_t b = i < n - nb ? 1 : sb[i - (n - nb)];
    if (a != b && a != 1 && b != 1) {
      char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
      return hebb_fail(HEBB_ERR_SHAPE, "%s: shapes %s and %s do not broadcast "
                       "(dim %d: %lld vs %lld)", who,
                       hebb_shape_str(na, sa, b1, sizeof b1),
                       hebb_shape_str(nb, sb, b2, sizeof b2), i + 1,
                       (long long)a, (long long)b);
    }
    sout[i] = a == 1 ? b : a;
  }
  *nout = n;
  return hebb_check_shape(n, sout, NULL, who);
}

/* byte strides of t seen through a broadcast to ndim dimensions (t's shape
   aligned to the right; its size-1 and missing dims get stride 0) */
static void broadcast_strides(const hebb_tensor *t, int ndim,
                              int64_t *bstride) {
  int64_t isz = hebb_dtype_size(t->dtype);
  int lead = ndim - t->ndim, i;
  for (i = 0; i < ndim; i++) {
    int k = i - lead;   /* a size-1 dim is only ever read at index 0 */
    bstride[i] = (k < 0 || t->shape[k] == 1) ? 0 : t->stride[k] * isz;
  }
}

/* Drops size-1 dimensions and merges neighbours that are contiguous with
   each other for every operand. */
static void coalesce(hebb_loop *lp) {
  int n = 0, i, k;
  for (i = 0; i < lp->ndim; i++) {
    if (lp->shape[i] == 1) continue;
    if (n > 0) {
      int merge = 1;
      for (k = 0; k < lp->nops; k++)
        if (lp->stride[k][n - 1] != lp->stride[k][i] * lp->shape[i]) merge = 0;
      if (merge) {
        for (k = 0; k < lp->nops; k++) lp->stride[k][n - 1] = lp->stride[k][i];
        lp->shape[n - 1] *= lp->shape[i];
        continue;
      }
    }
    for (k = 0; k < lp->nops; k++) lp->stride[k][n] = lp->stride[k][i];
    lp->shape[n++] = lp->shape[i];
  }
  lp->ndim = n;
}

void hebb_loop_init(hebb_loop *lp, int nops, hebb_tensor *const *ops,
                    int ndim, const int64_t *shape) {
  int k;
  lp->nops = nops;
  lp->ndim = ndim;
  memcpy(lp->shape, shape, (size_t)ndim * sizeof(int64_t));
  for (k = 0; k < nops; k++) {
    broadcast_strides(ops[k], ndim, lp->stride[k]);
    lp->base[k] = hebb_first(ops[k]);
  }
  coalesce(lp);
}

typedef struct run_state {
  const hebb_loop *lp;
  hebb_inner_fn fn;
  void *ud;
} run_state;

/* Runs the elements with flat indices [lo, hi) in row-major order. */
static void run_range(int64_t lo, int64_t hi, void *ud) {
  const run_state *rs = ud;
  const hebb_loop *lp = rs->lp;
  int nd = lp->ndim, nops = lp->nops, k, d;
  int64_t idx[HEBB_MAXDIM], inner_stride[HEBB_MAXOPS], rem = lo;
  char *ptr[HEBB_MAXOPS];
  for (k = 0; k < nops; k++) {
    ptr[k] = lp->base[k];
    inner_stride[k] = nd > 0 ? lp->stride[k][nd - 1] : 0;
  }
  for (d = nd - 1; d >= 0; d--) {   /* decompose lo into a multi-index */
    idx[d] = rem % lp->shape[d];
    rem /= lp->shape[d];
    for (k = 0; k < nops; k++) ptr[k] += idx[d] * lp->stride[k][d];
  }
  if (nd == 0) { rs->fn(1, ptr, inner_stride, rs->ud); return; }
  while (lo < hi) {
    int64_t n = lp->shape[nd - 1] - idx[nd - 1];
    if (n > hi - lo) n = hi - lo;
    rs->fn(n, ptr, inner_stride, rs->ud);
    lo += n;
    idx[nd - 1] += n;
    for (k = 0; k < nops; k++) ptr[k] += n * inner_stride[k];
    for (d = nd - 1; d > 0 && idx[d] == lp->shape[d]; d--) {  /* carry */
      for (k = 0; k < nops; k++)
        ptr[k] += lp->stride[k][d - 1] - idx[d] * lp->stride[k][d];
      idx[d] = 0;
      idx[d - 1]++;
    }
  }
}

int hebb_loop_run(const hebb_loop *lp, hebb_inner_fn fn, void *ud,
                  int64_t cost_per_elem) {
  run_state rs = {lp, fn, ud};
  int64_t n = hebb_shape_numel(lp->ndim, lp->shape);
  if (n == 0) return HEBB_OK;
  return hebb_parallel_for(n, cost_per_elem, run_range, &rs);
}
