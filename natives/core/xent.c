/*
** xent.c -- softmax cross-entropy from logits, fused: per row
** log(sum_j exp(z_j)) - z_label, and its gradient
** g * (softmax(z) - onehot(label)).  One pass over each row instead of the
** five tensor operations (logsumexp, gather, subtract and their backward)
** a classifier's loss would otherwise record.  The log-normalizer is taken
** with the row's maximum subtracted, so logits of any size stay finite.
*/
#include <math.h>
#include <string.h>

#include "core.h"

typedef struct xent {
  const hebb_tensor *z, *labels;
  hebb_tensor *out;
  /* the rows' log-normalizers: written by the loss when not NULL (the
     mean's form saves them for its backward), read by the gradient when
     not NULL instead of computed again -- the same values, as the logits
     did not change (the rule's saved versions check it) */
  hebb_tensor *lz;
  int64_t base;
  /* the gradient's row weights: gw[i * gs] (gs 0: one weight for all) */
  const char *gw;
  int64_t gs;
} xent;

static int check_args(const hebb_tensor *z, const hebb_tensor *labels,
                      int64_t base, const char *who) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  int64_t i, n, c;
  if (z->dtype != HEBB_F64 && z->dtype != HEBB_F32)
    return hebb_fail(HEBB_ERR_DTYPE, "%s: logits must be f64 or f32, got %s",
                     who, hebb_dtype_name(z->dtype));
  if (labels->dtype != HEBB_I64)
    return hebb_fail(HEBB_ERR_DTYPE, "%s: labels must be an i64 tensor, got %s",
                     who, hebb_dtype_name(labels->dtype));
  if (z->ndim != 2 || labels->ndim != 1 || labels->shape[0] != z->shape[0])
    return hebb_fail(HEBB_ERR_SHAPE, "%s: logits {N, C} and labels {N} "
                     "expected, got %s and %s", who,
                     hebb_shape_str(z->ndim, z->shape, b1, sizeof b1),
                     hebb_shape_str(labels->ndim, labels->shape, b2, sizeof b2));
  n = z->shape[0];
  c = z->shape[1];
  for (i = 0; i < n; i++) {
    int64_t k = ((const int64_t *)hebb_first(labels))[i * labels->stride[0]];
    if (k < base || k >= base + c)
      return hebb_fail(HEBB_ERR_INDEX, "%s: label %lld at position %lld is "
                       "outside %lld..%lld", who, (long long)k,
                       (long long)(i + base), (long long)base,
                       (long long)(base + c - 1));
  }
  return HEBB_OK;
}

static int64_t label(const xent *x, int64_t i) {
  const hebb_tensor *l = x->labels;
  return ((const int64_t *)hebb_first(l))[i * l->stride[0]] - x->base;
}

/* The row kernels in the logits' own precision (expf for f32, which is
   what makes the fused loss cheaper than its five-op form).  lognorm:
   log(sum_j exp(z_j)) of row z (c elements, stride s), shifted by the row's
   maximum. */
#define XENT_KERNELS(SUF, T, EXP, LOG)                                        \
static T lognorm_##SUF(const T *z, int64_t c, int64_t s) {                    \
  T m = -(T)HUGE_VAL, sum = 0;                                                \
  int64_t j;                                                                  \
  for (j = 0; j < c; j++) if (z[j * s] > m) m = z[j * s];                     \
  if (isinf(m)) return m;                                                     \
  for (j = 0; j < c; j++) sum += EXP(z[j * s] - m);                           \
  return m + LOG(sum);                                                        \
}                                                                             \
                                                                              \
static void loss_##SUF(int64_t lo, int64_t hi, void *ud) {                    \
  const xent *x = ud;                                                         \
  const T *z = (const T *)hebb_first(x->z);                                   \
  T *out = (T *)hebb_first(x->out);                                           \
  T *lz = x->lz ? (T *)hebb_first(x->lz) : NULL;                              \
  int64_t i, rs = x->z->stride[0], cs = x->z->stride[1];                      \
  for (i = lo; i < hi; i++) {                                                 \
    T l = lognorm_##SUF(z + i * rs, x->z->shape[1], cs);                      \
    if (lz) lz[i] = l;                                                        \
    out[i] = l - z[i * rs + label(x, i) * cs];                                \
  }                                                                           \
}                                                                             \
                                                                              \
static void grad_##SUF(int64_t lo, int64_t hi, void *ud) {                    \
  const xent *x = ud;                                                         \
  const T *z = (const T *)hebb_first(x->z);                                   \
  const T *g = (const T *)x->gw;                                              \
  T *out = (T *)hebb_first(x->out);                                           \
  const T *saved = x->lz ? (const T *)hebb_first(x->lz) : NULL;               \
  int64_t i, j, c = x->z->shape[1];                                           \
  int64_t rs = x->z->stride[0], cs = x->z->stride[1], gs = x->gs;            \
  for (i = lo; i < hi; i++) {                                                 \
    const T *row = z + i * rs;                                                \
    T lz = saved ? saved[i] : lognorm_##SUF(row, c, cs), gi = g[i * gs];      \
    T *o = out + i * c;                                                       \
    for (j = 0; j < c; j++) o[j] = gi * EXP(row[j * cs] - lz);                \
    o[label(x, i)] -= gi;                                                     \
  }                                                                           \
}

XENT_KERNELS(f64, double, exp, log)
XENT_KERNELS(f32, float, expf, logf)

hebb_status hebb_cross_entropy(const hebb_tensor *z, const hebb_tensor *labels,
                               int64_t base, hebb_tensor **out) {
  xent x;
  int64_t n = z->ndim > 0 ? z->shape[0] : 0;
  if (check_args(z, labels, base, "cross_entropy") ||
      hebb_prepare_out(out, z->dtype, 1, &n, "cross_entropy"))
    return hebb_last_status();
  if (!hebb_is_contiguous(*out))
    return hebb_fail(HEBB_ERR_ARG, "cross_entropy: out must be contiguous");
  x.z = z, x.labels = labels, x.out = *out, x.lz = NULL;
  x.base = base;
  hebb_bump_version(*out);
  return hebb_parallel_for(n, 40 * z->shape[1],
                           z->dtype == HEBB_F64 ? loss_f64 : loss_f32, &x);
}

/* lz: a contiguous {N} tensor of z's dtype, or NULL */
static int check_saved(const hebb_tensor *z, const hebb_tensor *lz,
                       const char *who) {
  char b1[HEBB_SHAPEBUF];
  if (lz && (lz->dtype != z->dtype || lz->ndim != 1 ||
             lz->shape[0] != z->shape[0] || !hebb_is_contiguous(lz)))
    return hebb_fail(HEBB_ERR_SHAPE, "%s: log-normalizers: a contiguous {%lld} "
                     "%s tensor expected, got %s %s", who,
                     (long long)z->shape[0], hebb_dtype_name(z->dtype),
                     hebb_shape_str(lz->ndim, lz->shape, b1, sizeof b1),
                     hebb_dtype_name(lz->dtype));
  return HEBB_OK;
}

hebb_status hebb_cross_entropy_mean(const hebb_tensor *z,
                                    const hebb_tensor *labels, int64_t base,
                                    hebb_tensor *lz, double *mean) {
  xent x;
  hebb_tensor *rows;
  int64_t n = z->ndim > 0 ? z->shape[0] : 0, unused;
  int st;
  if (check_args(z, labels, base, "cross_entropy") ||
      check_saved(z, lz, "cross_entropy"))
    return hebb_last_status();
  if (!(rows = hebb_empty(z->dtype, 1, &n))) return hebb_last_status();
  x.z = z, x.labels = labels, x.out = rows, x.lz = lz;
  x.base = base;
  if (lz) hebb_bump_version(lz);
  st = hebb_parallel_for(n, 40 * z->shape[1],
                         z->dtype == HEBB_F64 ? loss_f64 : loss_f32, &x);
  /* the mean as T.mean's full reduction gives it */
  if (st == HEBB_OK) st = hebb_reduce_value(HEBB_MEAN, rows, 1, mean, &unused);
  hebb_release(rows);
  return st;
}

/* the gradient's rows into *out, x's row weights set (args checked) */
static int grad_rows(xent *x, const hebb_tensor *z, const hebb_tensor *labels,
                     int64_t base, const hebb_tensor *lz, hebb_tensor **out,
                     const char *who) {
  if (hebb_prepare_out(out, z->dtype, 2, z->shape, who))
    return hebb_last_status();
  if (!hebb_is_contiguous(*out))
    return hebb_fail(HEBB_ERR_ARG, "%s: out must be contiguous", who);
  x->z = z, x->labels = labels, x->out = *out, x->base = base;
  x->lz = hebb_unconst(lz);
  hebb_bump_version(*out);
  return hebb_parallel_for(z->shape[0], 40 * z->shape[1],
                           z->dtype == HEBB_F64 ? grad_f64 : grad_f32, x);
}

hebb_status hebb_cross_entropy_grad(const hebb_tensor *z,
                                    const hebb_tensor *labels, int64_t base,
                                    const hebb_tensor *g, hebb_tensor **out) {
  return hebb_cross_entropy_grad_saved(z, labels, base, NULL, g, out);
}

hebb_status hebb_cross_entropy_grad_saved(const hebb_tensor *z,
                                          const hebb_tensor *labels,
                                          int64_t base, const hebb_tensor *lz,
                                          const hebb_tensor *g,
                                          hebb_tensor **out) {
  char b1[HEBB_SHAPEBUF];
  xent x;
  if (check_args(z, labels, base, "cross_entropy_grad") ||
      check_saved(z, lz, "cross_entropy_grad"))
    return hebb_last_status();
  if (g->ndim != 1 || g->shape[0] != z->shape[0] || g->dtype != z->dtype)
    return hebb_fail(HEBB_ERR_SHAPE, "cross_entropy_grad: gradient {%lld} %s "
                     "expected, got %s %s", (long long)z->shape[0],
                     hebb_dtype_name(z->dtype),
                     hebb_shape_str(g->ndim, g->shape, b1, sizeof b1),
                     hebb_dtype_name(g->dtype));
  x.gw = hebb_first(g), x.gs = g->stride[0];
  return grad_rows(&x, z, labels, base, lz, out, "cross_entropy_grad");
}

/* The mean's gradient: the weight g / N of every row, rounded to z's
   dtype as the division of a tensor by the number N is (N converted to
   that dtype first, as a weak operand; ewise.c), then the rows of
   hebb_cross_entropy_grad_saved with that one weight. */
hebb_status hebb_cross_entropy_mean_grad(const hebb_tensor *z,
                                         const hebb_tensor *labels,
                                         int64_t base, const hebb_tensor *lz,
                                         double g, hebb_tensor **out) {
  xent x;
  union { double d; float f; } w;
  if (check_args(z, labels, base, "cross_entropy_mean_grad") ||
      check_saved(z, lz, "cross_entropy_mean_grad"))
    return hebb_last_status();
  if (z->dtype == HEBB_F64) w.d = g / (double)z->shape[0];
  else w.f = (float)g / (float)z->shape[0];
  x.gw = (const char *)&w, x.gs = 0;
  return grad_rows(&x, z, labels, base, lz, out, "cross_entropy_mean_grad");
}
