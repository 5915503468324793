/*
** allclose.c -- whole-tensor comparisons that answer with one boolean:
** allclose (within tolerances, with broadcasting) and equal (same shape and
** the same values).  Elements are compared in place, whatever the dtypes,
** without building an elementwise result; a run stops early once some
** thread has found a difference.  Complex operands are compared as c128,
** by the modulus of the difference (numpy's rule for complex isclose).
*/
#include <complex.h>
#include <math.h>
#include <stdatomic.h>

#include "core.h"

typedef struct cmp {
  double rtol, atol;
  bool equal_nan;
  atomic_int differ;
} cmp;

/* numpy's isclose: infinities are close only to themselves */
static inline bool close(double x, double y, const cmp *c) {
  if (x == y) return true;
  if (x != x || y != y) return c->equal_nan && x != x && y != y;
  if (isinf(x) || isinf(y)) return false;
  return fabs(x - y) <= c->atol + c->rtol * fabs(y);
}

/* NAME sets c->differ at the first pair (x, y) for which SAME is false,
   and stops early once some thread has */
#define CMP_KERNEL(NAME, TA, TB, SAME)                                        \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ud) {         \
    cmp *c = ud;                                                              \
    const char *a = p[0], *b = p[1];                                          \
    int64_t i;                                                                \
    if (atomic_load_explicit(&c->differ, memory_order_relaxed)) return;       \
    for (i = 0; i < n; i++, a += s[0], b += s[1]) {                           \
      TA x = *(const TA *)a;                                                  \
      TB y = *(const TB *)b;                                                  \
      if (!(SAME)) {                                                          \
        atomic_store_explicit(&c->differ, 1, memory_order_relaxed);           \
        return;                                                               \
      }                                                                       \
    }                                                                         \
  }

/* TC: the type both sides are compared in */
#define CMP_KERNELS(NAME, TA, TB, TC)                                         \
  CMP_KERNEL(NAME##_close, TA, TB, close((double)x, (double)y, c))            \
  CMP_KERNEL(NAME##_equal, TA, TB, (TC)x == (TC)y)

CMP_KERNELS(dd, double, double, double)
CMP_KERNELS(df, double, float, double)
CMP_KERNELS(di, double, int64_t, double)
CMP_KERNELS(db, double, bool, double)
CMP_KERNELS(fd, float, double, double)
CMP_KERNELS(ff, float, float, double)
CMP_KERNELS(fi, float, int64_t, double)
CMP_KERNELS(fb, float, bool, double)
CMP_KERNELS(id, int64_t, double, double)
CMP_KERNELS(if, int64_t, float, double)
CMP_KERNELS(ii, int64_t, int64_t, int64_t)
CMP_KERNELS(ib, int64_t, bool, int64_t)
CMP_KERNELS(bd, bool, double, double)
CMP_KERNELS(bf, bool, float, double)
CMP_KERNELS(bi, bool, int64_t, int64_t)
CMP_KERNELS(bb, bool, bool, int64_t)

static inline bool cnan(double _Complex z) {
  return isnan(creal(z)) || isnan(cimag(z));
}

static inline bool cinf(double _Complex z) {
  return isinf(creal(z)) || isinf(cimag(z));
}

static inline bool cclose(double _Complex x, double _Complex y,
                          const cmp *c) {
  if (x == y) return true;
  if (cnan(x) || cnan(y)) return c->equal_nan && cnan(x) && cnan(y);
  if (cinf(x) || cinf(y)) return false;
  return cabs(x - y) <= c->atol + c->rtol * cabs(y);
}

/* both operands c128 */
CMP_KERNEL(cc_close, double _Complex, double _Complex, cclose(x, y, c))
CMP_KERNEL(cc_equal, double _Complex, double _Complex, x == y)

/* [a's dtype][b's dtype][equal] */
static const hebb_inner_fn kernels[4][4][2] = {
  {{dd_close, dd_equal}, {df_close, df_equal}, {di_close, di_equal},
   {db_close, db_equal}},
  {{fd_close, fd_equal}, {ff_close, ff_equal}, {fi_close, fi_equal},
   {fb_close, fb_equal}},
  {{id_close, id_equal}, {if_close, if_equal}, {ii_close, ii_equal},
   {ib_close, ib_equal}},
  {{bd_close, bd_equal}, {bf_close, bf_equal}, {bi_close, bi_equal},
   {bb_close, bb_equal}},
};

/* with a complex operand, both are seen as c128 (every value converts
   exactly, but i64 beyond 2^53 -- as when compared with an f64) */
static int compare(const hebb_tensor *a, const hebb_tensor *b, int ndim,
                   const int64_t *shape, int equal, cmp *c, bool *result) {
  hebb_loop lp;
  hebb_cast ca, cb;
  hebb_inner_fn fn = NULL;
  int st = HEBB_OK;
  ca.tmp = cb.tmp = NULL;
  ca.t = hebb_unconst(a);
  cb.t = hebb_unconst(b);
  if (hebb_is_complex(a->dtype) || hebb_is_complex(b->dtype)) {
    st = hebb_cast_init(&ca, a, HEBB_C128);
    if (st == HEBB_OK) st = hebb_cast_init(&cb, b, HEBB_C128);
    fn = equal ? cc_equal : cc_close;
  }
  else fn = kernels[a->dtype][b->dtype][equal];
  atomic_init(&c->differ, 0);
  if (st == HEBB_OK) {
    hebb_tensor *ops[2] = {ca.t, cb.t};
    hebb_loop_init(&lp, 2, ops, ndim, shape);
    st = hebb_loop_run(&lp, fn, c, 2);
  }
  hebb_cast_free(&ca);
  hebb_cast_free(&cb);
  *result = st == HEBB_OK && !atomic_load(&c->differ);
  return st;
}

hebb_status hebb_allclose(const hebb_tensor *a, const hebb_tensor *b,
                          double rtol, double atol, bool equal_nan,
                          bool *result) {
  int64_t shape[HEBB_MAXDIM];
  int ndim;
  cmp c;
  *result = false;
  if (hebb_check_dtype_any(a->dtype, "allclose") ||
      hebb_check_dtype_any(b->dtype, "allclose"))
    return hebb_last_status();
  if (!(rtol >= 0) || !(atol >= 0))
    return hebb_fail(HEBB_ERR_ARG, "allclose: tolerances must be >= 0 (rtol "
                     "%g, atol %g)", rtol, atol);
  if (hebb_broadcast_shape(a->ndim, a->shape, b->ndim, b->shape, &ndim, shape,
                           "allclose"))
    return hebb_last_status();
  c.rtol = rtol;
  c.atol = atol;
  c.equal_nan = equal_nan;
  return compare(a, b, ndim, shape, 0, &c, result);
}

hebb_status hebb_equal(const hebb_tensor *a, const hebb_tensor *b,
                       bool *result) {
  cmp c;
  int i;
  *result = false;
  if (hebb_check_dtype_any(a->dtype, "equal") ||
      hebb_check_dtype_any(b->dtype, "equal"))
    return hebb_last_status();
  if (a->ndim != b->ndim) return HEBB_OK;
  for (i = 0; i < a->ndim; i++)
    if (a->shape[i] != b->shape[i]) return HEBB_OK;
  return compare(a, b, a->ndim, a->shape, 1, &c, result);
}
