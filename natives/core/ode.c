/*
** ode.c -- the per-element loops of hebb.ode's integrators: the linear
** combination y + sum_j c_j k_j that every Runge-Kutta stage, leapfrog
** drift and kick is made of, and the weighted RMS norm of an embedded
** error estimate that drives an adaptive step.  The right-hand side is a
** Lua function; what it hands back is combined here in one pass over
** memory instead of one temporary per term (the Dormand-Prince update
** adds six terms: written as tensor operations it made twelve passes and
** twelve allocations).
**
** Complex tensors (c128, c64) are combined as pairs of reals: the
** coefficients are real numbers, so a complex term scales componentwise.
** The norm takes the modulus of each complex element.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* Reals per block: the output block (8 KiB of f64) stays in L1 while
   every term is added into it, so a term costs one streaming read.  The
   norm sums each block in order and adds the block sums in order, so its
   bits do not depend on the thread count. */
#define BLOCK 1024

typedef struct ode_job {
  int f32, cplx, n;
  int64_t len;                        /* reals */
  double c[HEBB_ODE_MAXTERMS];
  const char *k[HEBB_ODE_MAXTERMS];
  const char *y, *y1;                 /* y1: the norm's second state */
  char *out;
  double atol, rtol;
  double *part;                       /* the norm: one sum per block */
} ode_job;

/* --- operands -------------------------------------------------------------- */

static int check_float(const hebb_tensor *t, const char *who) {
  if (t->dtype == HEBB_F64 || t->dtype == HEBB_F32 || hebb_is_complex(t->dtype))
    return HEBB_OK;
  return hebb_fail(HEBB_ERR_DTYPE, "%s: dtype %s is not supported (f64, f32, "
                   "c128 or c64)", who, hebb_dtype_name(t->dtype));
}

static int check_like(const hebb_tensor *t, const hebb_tensor *y,
                      const char *what, int i, const char *who) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  if (t->ndim != y->ndim ||
      memcmp(t->shape, y->shape, (size_t)y->ndim * sizeof(int64_t)) != 0)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: %s %d has shape %s, y has %s", who,
                     what, i, hebb_shape_str(t->ndim, t->shape, b1, sizeof b1),
                     hebb_shape_str(y->ndim, y->shape, b2, sizeof b2));
  if (t->dtype != y->dtype)
    return hebb_fail(HEBB_ERR_DTYPE, "%s: %s %d has dtype %s, y has %s", who,
                     what, i, hebb_dtype_name(t->dtype),
                     hebb_dtype_name(y->dtype));
  return HEBB_OK;
}

/* Checks the n terms against y and fills c[] with contiguous versions of
   them (new references; the caller releases c[0..n-1] whatever the
   status, NULL entries included). */
static int gather(const hebb_tensor *y, int n, hebb_tensor *const *k,
                  hebb_tensor **c, const char *who) {
  int i, status = check_float(y, who);
  memset(c, 0, (size_t)(n > 0 ? n : 0) * sizeof *c);
  if (status == HEBB_OK && (n < 0 || n > HEBB_ODE_MAXTERMS))
    status = hebb_fail(HEBB_ERR_ARG, "%s: %d terms; at most %d", who, n,
                       HEBB_ODE_MAXTERMS);
  for (i = 0; status == HEBB_OK && i < n; i++) {
    status = check_like(k[i], y, "term", i + 1, who);
    if (status == HEBB_OK && !(c[i] = hebb_contiguous(k[i])))
      status = hebb_last_status();
  }
  return status;
}

static void release_all(int n, hebb_tensor **c) {
  int i;
  for (i = 0; i < n; i++)
    if (c[i]) hebb_release(c[i]);
}

static void job_init(ode_job *j, const hebb_tensor *y, int n,
                     hebb_tensor *const *c, const double *coef) {
  int i;
  memset(j, 0, sizeof *j);
  j->f32 = y->dtype == HEBB_F32 || y->dtype == HEBB_C64;
  j->cplx = hebb_is_complex(y->dtype);
  j->n = n;
  j->len = hebb_numel(y) * (j->cplx ? 2 : 1);
  for (i = 0; i < n; i++) {
    j->c[i] = coef[i];
    j->k[i] = hebb_first(c[i]);
  }
}

static int64_t nblocks(int64_t len) { return (len + BLOCK - 1) / BLOCK; }

/* --- the combination --------------------------------------------------------- */

#define DEFINE_COMBINE(T, SUF)                                                \
HEBB_CLONES                                                                  \
static void combine_##SUF(int64_t s, int64_t e, const ode_job *j) {          \
  T *o = (T *)j->out;                                                        \
  const T *y = (const T *)j->y;                                              \
  int64_t i;                                                                 \
  int t;                                                                     \
  if (o != y) memmove(o + s, y + s, (size_t)(e - s) * sizeof(T));            \
  for (t = 0; t < j->n; t++) {                                               \
    const T *restrict k = (const T *)j->k[t];                                \
    T *restrict ob = o;                                                      \
    const T c = (T)j->c[t];                                                  \
    for (i = s; i < e; i++) ob[i] += c * k[i];                               \
  }                                                                          \
}

DEFINE_COMBINE(double, f64)
DEFINE_COMBINE(float, f32)

static void blocks_run(int64_t lo, int64_t hi, void *ud);

/* the result is built in place block by block: starting from y, it may be
   y itself, but writing over a term would add the term's new values */
static int aliases_term(const ode_job *j, const char *who) {
  int t;
  for (t = 0; t < j->n; t++)
    if (j->k[t] == j->out)
      return hebb_fail(HEBB_ERR_ARG, "%s: out is term %d; it may be y, but "
                       "not one of the terms", who, t + 1);
  return HEBB_OK;
}

int hebb_ode_combine(const hebb_tensor *y, int n, hebb_tensor *const *k,
                     const double *c, hebb_tensor **out) {
  const char *who = "ode.combine";
  hebb_tensor *ck[HEBB_ODE_MAXTERMS], *cy = NULL;
  ode_job j;
  int made = *out == NULL, status = gather(y, n, k, ck, who);
  if (status == HEBB_OK && !(cy = hebb_contiguous((hebb_tensor *)y)))
    status = hebb_last_status();
  if (status == HEBB_OK && *out && !hebb_is_contiguous(*out))
    status = hebb_fail(HEBB_ERR_ARG, "%s: out must be contiguous", who);
  if (status == HEBB_OK)
    status = hebb_prepare_out(out, y->dtype, y->ndim, y->shape, who);
  if (status == HEBB_OK) {
    job_init(&j, y, n, ck, c);
    j.y = hebb_first(cy);
    j.out = hebb_first(*out);
    status = aliases_term(&j, who);
  }
  if (status == HEBB_OK) {
    status = hebb_parallel_for(nblocks(j.len), BLOCK * (n + 1), blocks_run,
                               &j);
  }
  if (cy) hebb_release(cy);
  release_all(n, ck);
  if (status != HEBB_OK && made && *out) {
    hebb_release(*out);
    *out = NULL;
  }
  return status;
}

/* --- the error norm ----------------------------------------------------------- */

/* The squared weighted error of a block of reals [s, e) (complex: pairs).
   The estimate sum_j e_j k_j is first built in a block buffer, a term at
   a time (vectorized, as in the combination), then weighted; a real
   element's scale uses |y| without a square root. */
#define DEFINE_NORM(T, SUF)                                                   \
HEBB_CLONES                                                                  \
static double norm_##SUF(int64_t s, int64_t e, const ode_job *j) {           \
  const T *y0 = (const T *)j->y, *y1 = (const T *)j->y1;                     \
  double d[BLOCK], sum = 0;                                                  \
  int64_t i, m = e - s;                                                      \
  int t;                                                                     \
  for (i = 0; i < m; i++) d[i] = 0;                                          \
  for (t = 0; t < j->n; t++) {                                               \
    const T *restrict k = (const T *)j->k[t] + s;                            \
    const double c = j->c[t];                                                \
    if (c != 0) for (i = 0; i < m; i++) d[i] += c * k[i];                    \
  }                                                                          \
  if (!j->cplx) {                                                            \
    for (i = 0; i < m; i++) {                                                \
      double a = fabs((double)y0[s + i]), b = fabs((double)y1[s + i]);       \
      double r = d[i] / (j->atol + j->rtol * (a > b ? a : b));               \
      sum += r * r;                                                          \
    }                                                                        \
    return sum;                                                              \
  }                                                                          \
  for (i = 0; i < m; i += 2) {                                               \
    double a = (double)y0[s + i] * y0[s + i] + (double)y0[s + i + 1] * y0[s + i + 1]; \
    double b = (double)y1[s + i] * y1[s + i] + (double)y1[s + i + 1] * y1[s + i + 1]; \
    double sc = j->atol + j->rtol * sqrt(a > b ? a : b);                     \
    sum += (d[i] * d[i] + d[i + 1] * d[i + 1]) / (sc * sc);                  \
  }                                                                          \
  return sum;                                                                \
}

DEFINE_NORM(double, f64)
DEFINE_NORM(float, f32)

/* blocks [lo, hi) of BLOCK reals: the combination, or (part != NULL) the
   norm's sum of each block */
static void blocks_run(int64_t lo, int64_t hi, void *ud) {
  const ode_job *j = ud;
  int64_t b;
  for (b = lo; b < hi; b++) {
    int64_t s = b * BLOCK, e = s + BLOCK < j->len ? s + BLOCK : j->len;
    if (j->part) j->part[b] = j->f32 ? norm_f32(s, e, j) : norm_f64(s, e, j);
    else if (j->f32) combine_f32(s, e, j);
    else combine_f64(s, e, j);
  }
}

static int check_tolerances(double atol, double rtol, const char *who) {
  if (!(atol >= 0) || !(rtol >= 0) || atol + rtol <= 0)
    return hebb_fail(HEBB_ERR_ARG, "%s: atol = %g and rtol = %g; both must "
                     "be >= 0 and one of them > 0", who, atol, rtol);
  return HEBB_OK;
}

int hebb_ode_errnorm(const hebb_tensor *y0, const hebb_tensor *y1, int n,
                     hebb_tensor *const *k, const double *e, double atol,
                     double rtol, double *result) {
  const char *who = "ode.errnorm";
  hebb_tensor *ck[HEBB_ODE_MAXTERMS], *c0 = NULL, *c1 = NULL;
  ode_job j;
  int64_t nb = 0, b;
  int status = gather(y0, n, k, ck, who);
  j.part = NULL;
  *result = 0;
  if (status == HEBB_OK) status = check_like(y1, y0, "state", 2, who);
  if (status == HEBB_OK) status = check_tolerances(atol, rtol, who);
  if (status == HEBB_OK && (!(c0 = hebb_contiguous((hebb_tensor *)y0)) ||
                            !(c1 = hebb_contiguous((hebb_tensor *)y1))))
    status = hebb_last_status();
  if (status == HEBB_OK) {
    job_init(&j, y0, n, ck, e);
    j.y = hebb_first(c0);
    j.y1 = hebb_first(c1);
    j.atol = atol;
    j.rtol = rtol;
    nb = nblocks(j.len);
    j.part = calloc((size_t)(nb > 0 ? nb : 1), sizeof(double));
    if (!j.part) status = hebb_fail(HEBB_ERR_NOMEM, "%s: out of memory", who);
  }
  if (status == HEBB_OK) {
    status = hebb_parallel_for(nb, BLOCK * (n + 4), blocks_run, &j);
    if (status == HEBB_OK && hebb_numel(y0) > 0) {
      double s = 0;
      for (b = 0; b < nb; b++) s += j.part[b];
      *result = sqrt(s / (double)hebb_numel(y0));
    }
  }
  free(j.part);
  if (c0) hebb_release(c0);
  if (c1) hebb_release(c1);
  release_all(n, ck);
  return status;
}
