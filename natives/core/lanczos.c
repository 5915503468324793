/*
** lanczos.c -- a few extreme eigenpairs of a sparse symmetric (f64) or
** Hermitian (c128) matrix.
**
** Lanczos with full reorthogonalization (every new vector is orthogonalized
** against the whole basis, repeatedly when needed: no ghost eigenvalues,
** at the price of O(ncv n) work per step, fine for the sizes this is meant
** for) and locking: each run finds the most extreme eigenpair of the operator
** restricted to the complement of the pairs already locked, locks it, and
** starts afresh.  One pair per run is what makes degenerate eigenvalues
** come out with their full multiplicity: a single Krylov space holds only
** one vector of each eigenspace, but the next run, orthogonal to it, sees
** the rest.  A run whose extreme Ritz pair has not converged restarts from
** that Ritz vector.  The small projected problem is solved by cyclic
** Jacobi rotations.
**
** A Hermitian matrix needs complex vectors but keeps the projected matrix
** real (alpha = q^H A q and beta = |w| are real), so the complex case
** differs only where two vectors meet: a vector of n complex numbers is
** stored as 2n doubles, and norms, real parts of dot products and real
** combinations are the real routines over 2n doubles.  Only the
** projections (complex coefficients b^H w) need complex arithmetic.
**
** Start vectors come from a Philox generator seeded by the caller, and the
** dot products are plain ordered sums, so the result depends only on the
** matrix and the seed.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* --- dense helpers ----------------------------------------------------- */

static double dot(int64_t n, const double *restrict x,
                  const double *restrict y) {
  double s = 0;
  int64_t i;
  for (i = 0; i < n; i++) s += x[i] * y[i];
  return s;
}

static void axpy(int64_t n, double a, const double *restrict x,
                 double *restrict y) {
  int64_t i;
  for (i = 0; i < n; i++) y[i] += a * x[i];
}

/* w -= (x^H w) x for complex vectors of length n (pairs) */
static void zproject(int64_t n, const double *restrict x, double *restrict w) {
  double re = 0, im = 0;
  int64_t i;
  for (i = 0; i < n; i++) {   /* conj(x_i) w_i */
    re += x[2 * i] * w[2 * i] + x[2 * i + 1] * w[2 * i + 1];
    im += x[2 * i] * w[2 * i + 1] - x[2 * i + 1] * w[2 * i];
  }
  for (i = 0; i < n; i++) {
    w[2 * i] -= re * x[2 * i] - im * x[2 * i + 1];
    w[2 * i + 1] -= re * x[2 * i + 1] + im * x[2 * i];
  }
}

/* one pass of classical Gram-Schmidt: removes from w its components along
   the nb vectors of b (n numbers each; wd = 2: complex) */
static void project_out(int64_t n, int wd, int64_t nb, const double *b,
                        double *w) {
  int64_t j;
  for (j = 0; j < nb; j++) {
    const double *x = b + j * n * wd;
    if (wd == 2) zproject(n, x, w);
    else axpy(n, -dot(n, x, w), x, w);
  }
}

/* Orthogonalizes w against the nb vectors of b and the ny vectors of y and
   returns its norm.  A pass is repeated while it removes much of w (the
   criterion of Daniel, Gragg, Kaufman and Stewart): when w is nearly in
   their span, one pass leaves rounding errors as large as what remains. */
static double orthogonalize(int64_t n, int wd, int64_t nb, const double *b,
                            int64_t ny, const double *y, double *w) {
  double before = sqrt(dot(n * wd, w, w)), after = before;
  int pass;
  for (pass = 0; pass < 5; pass++) {
    project_out(n, wd, ny, y, w);
    project_out(n, wd, nb, b, w);
    after = sqrt(dot(n * wd, w, w));
    if (after > 0.7 * before) break;
    before = after;
  }
  return after;
}

/* Eigen-decomposition of the symmetric m x m matrix a (row-major,
   destroyed: its diagonal ends up holding the eigenvalues) by cyclic
   Jacobi rotations; v receives the eigenvectors as columns.  An element
   below 1e-17 of the matrix's norm is left alone: rotating it away would
   change no eigenvalue, and a sweep that rotates nothing ends the loop
   (a relative test on the off-diagonal sum can stall at rounding level). */
static void jacobi(int64_t m, double *a, double *v) {
  int64_t p, q, r;
  int sweep, rotated = 1;
  double norm = 0;
  for (p = 0; p < m * m; p++) {
    norm += a[p] * a[p];
    v[p] = 0;
  }
  norm = sqrt(norm);
  for (p = 0; p < m; p++) v[p * m + p] = 1;
  for (sweep = 0; sweep < 100 && rotated; sweep++) {
    rotated = 0;
    for (p = 0; p < m; p++)
      for (q = p + 1; q < m; q++) {
        double apq = a[p * m + q], theta, t, c, s;
        if (fabs(apq) <= 1e-17 * norm) continue;
        rotated = 1;
        theta = (a[q * m + q] - a[p * m + p]) / (2 * apq);
        t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
        c = 1 / sqrt(t * t + 1);
        s = t * c;
        for (r = 0; r < m; r++) {   /* a J and v J: columns p and q */
          double arp = a[r * m + p], arq = a[r * m + q];
          double vrp = v[r * m + p], vrq = v[r * m + q];
          a[r * m + p] = c * arp - s * arq;
          a[r * m + q] = s * arp + c * arq;
          v[r * m + p] = c * vrp - s * vrq;
          v[r * m + q] = s * vrp + c * vrq;
        }
        for (r = 0; r < m; r++) {   /* J^T (a J): rows p and q */
          double apr = a[p * m + r], aqr = a[q * m + r];
          a[p * m + r] = c * apr - s * aqr;
          a[q * m + r] = s * apr + c * aqr;
        }
      }
  }
}

/* --- the solver -------------------------------------------------------- */

typedef struct lanczos {
  const hebb_sparse *s;
  int64_t n, m;         /* size, basis vectors per run */
  int64_t len;          /* doubles per vector: n, or 2n when complex */
  int wd;               /* 1, or 2 when complex */
  double *q;            /* m + 1 basis vectors */
  double *y;            /* locked vectors */
  double *t, *v;        /* projected matrix and its eigenvectors */
  double *w, *ritz;     /* work vectors */
  hebb_tensor *noise;   /* len random numbers */
  hebb_rng g;
} lanczos;

/* a random start vector in ritz */
static int random_start(lanczos *lz) {
  int status = hebb_rand_normal(&lz->g, lz->noise, 0, 1);
  if (!status)
    memcpy(lz->ritz, hebb_first(lz->noise), (size_t)lz->len * sizeof(double));
  return status;
}

/* One Lanczos run from lz->ritz, orthogonal to the nlocked vectors of
   lz->y; fills lz->t with the projected matrix and returns its size. */
static int64_t run(lanczos *lz, int64_t nlocked, int64_t m, int *status) {
  int64_t n = lz->n, len = lz->len, j, mm = m;
  double nrm, est = 0;   /* a running estimate of the matrix's norm */
  memcpy(lz->q, lz->ritz, (size_t)len * sizeof(double));
  nrm = orthogonalize(n, lz->wd, 0, NULL, nlocked, lz->y, lz->q);
  for (j = 0; j < len; j++) lz->q[j] /= nrm;
  memset(lz->t, 0, (size_t)(m * m) * sizeof(double));
  for (j = 0; j < m; j++) {
    double *qj = lz->q + j * len, *w = lz->q + (j + 1) * len, alpha, beta;
    int64_t i;
    if ((*status = hebb_sparse_spmv(lz->s, qj, w)) != HEBB_OK) return 0;
    alpha = dot(len, qj, w);   /* real: q^H A q for a Hermitian A */
    beta = orthogonalize(n, lz->wd, j + 1, lz->q, nlocked, lz->y, w);
    lz->t[j * m + j] = alpha;
    if (fabs(alpha) + beta > est) est = fabs(alpha) + beta;
    if (j + 1 == m) break;
    if (beta <= 1e-10 * est) {   /* an invariant subspace: t is exact */
      mm = j + 1;
      break;
    }
    for (i = 0; i < len; i++) w[i] /= beta;
    lz->t[j * m + j + 1] = lz->t[(j + 1) * m + j] = beta;
  }
  /* compact t to mm x mm when the run ended early */
  for (j = 1; j < mm; j++)
    memmove(lz->t + j * mm, lz->t + j * m, (size_t)mm * sizeof(double));
  return mm;
}

/* the Ritz pair of the extreme eigenvalue of the mm x mm projected matrix:
   vector in lz->ritz (unit length), value returned */
static double extreme_ritz(lanczos *lz, int64_t mm, bool largest) {
  int64_t i, best = 0;
  double nrm;
  jacobi(mm, lz->t, lz->v);
  for (i = 1; i < mm; i++) {
    double e = lz->t[i * mm + i], b = lz->t[best * mm + best];
    if (largest ? e > b : e < b) best = i;
  }
  memset(lz->ritz, 0, (size_t)lz->len * sizeof(double));
  for (i = 0; i < mm; i++)
    axpy(lz->len, lz->v[i * mm + best], lz->q + i * lz->len, lz->ritz);
  nrm = sqrt(dot(lz->len, lz->ritz, lz->ritz));
  for (i = 0; i < lz->len; i++) lz->ritz[i] /= nrm;
  return lz->t[best * mm + best];
}

static double residual(lanczos *lz, double theta, int *status) {
  *status = hebb_sparse_spmv(lz->s, lz->ritz, lz->w);
  axpy(lz->len, -theta, lz->ritz, lz->w);
  return sqrt(dot(lz->len, lz->w, lz->w));
}

static int solve(lanczos *lz, int64_t k, bool largest, double tol,
                 int64_t maxiter, double *theta) {
  int64_t nlocked = 0, iters = 0, n = lz->n, len = lz->len;
  double scale = 0;
  int status = random_start(lz);
  while (!status && nlocked < k) {
    int64_t m = lz->m < n - nlocked ? lz->m : n - nlocked;
    int64_t mm = run(lz, nlocked, m, &status);
    double th, r;
    if (status) break;
    th = extreme_ritz(lz, mm, largest);
    if (fabs(th) > scale) scale = fabs(th);
    r = residual(lz, th, &status);
    if (status) break;
    if (r <= tol * (scale > 1 ? scale : 1)) {
      memcpy(lz->y + nlocked * len, lz->ritz, (size_t)len * sizeof(double));
      theta[nlocked++] = th;
      status = random_start(lz);
    }
    else if (++iters >= maxiter)
      return hebb_fail(HEBB_ERR_UNSUPPORTED, "sparse.eigsh: eigenvalue %lld "
                       "did not converge in %lld restarts (residual %g, tol "
                       "%g); raise maxiter or ncv", (long long)(nlocked + 1),
                       (long long)maxiter, r, tol);
  }
  return status;
}

static int check_args(const hebb_sparse *s, int64_t k, double tol,
                      int64_t maxiter, int64_t ncv) {
  int64_t p, n = s->nnz * hebb_sparse_width(s->dtype);
  if (s->nrows != s->ncols)
    return hebb_fail(HEBB_ERR_SHAPE, "sparse.eigsh: matrix (%lld, %lld) is "
                     "not square", (long long)s->nrows, (long long)s->ncols);
  if (k < 1 || k > s->nrows)
    return hebb_fail(HEBB_ERR_ARG, "sparse.eigsh: k = %lld out of range "
                     "1..%lld", (long long)k, (long long)s->nrows);
  if (!(tol > 0) || maxiter < 1)
    return hebb_fail(HEBB_ERR_ARG, "sparse.eigsh: tol (%g) and maxiter "
                     "(%lld) must be positive", tol, (long long)maxiter);
  if (ncv != 0 && ncv <= k)
    return hebb_fail(HEBB_ERR_ARG, "sparse.eigsh: ncv = %lld must exceed k = "
                     "%lld (or be 0: the default)", (long long)ncv,
                     (long long)k);
  /* NaN or inf never converges: 1000 restarts, then a vague complaint */
  for (p = 0; p < n; p++)
    if (!isfinite(s->val[p]))
      return hebb_fail(HEBB_ERR_ARG, "sparse.eigsh: the matrix holds %s",
                       s->val[p] != s->val[p] ? "NaN" : "inf");
  return HEBB_OK;
}

/* |value p| of s */
static double magnitude(const hebb_sparse *s, int64_t p) {
  if (s->dtype == HEBB_C128) return hypot(s->val[2 * p], s->val[2 * p + 1]);
  return fabs(s->val[p]);
}

/* s^T, or s^H when s is complex */
static hebb_sparse *adjoint(const hebb_sparse *s) {
  hebb_sparse *t = hebb_sparse_transpose(s), *h;
  if (!t || s->dtype != HEBB_C128) return t;
  h = hebb_sparse_conj(t);
  hebb_sparse_release(t);
  return h;
}

/* Lanczos silently returns nonsense for a non-symmetric (non-Hermitian)
   matrix, so s - s^H is checked to vanish (to 1e-12 of the largest
   entry). */
static int check_symmetric(const hebb_sparse *s) {
  hebb_sparse *t = adjoint(s), *d;
  int64_t i, p;
  double big = 0;
  bool cx = s->dtype == HEBB_C128;
  if (!t) return hebb_last_status();
  d = hebb_sparse_add(s, t, 1, -1);
  hebb_sparse_release(t);
  if (!d) return hebb_last_status();
  for (p = 0; p < s->nnz; p++) big = fmax(big, magnitude(s, p));
  for (i = 0; i < d->nrows; i++)
    for (p = d->rowptr[i]; p < d->rowptr[i + 1]; p++)
      if (magnitude(d, p) > 1e-12 * big) {
        int64_t j = d->col[p];
        double diff = cx ? magnitude(d, p) : d->val[p];
        hebb_sparse_release(d);
        if (cx)
          return hebb_fail(HEBB_ERR_ARG, "sparse.eigsh: c128 matrix is not "
                           "Hermitian (entry (%lld, %lld) and the conjugate "
                           "of (%lld, %lld) differ by %g)", (long long)i + 1,
                           (long long)j + 1, (long long)j + 1,
                           (long long)i + 1, diff);
        return hebb_fail(HEBB_ERR_ARG, "sparse.eigsh: matrix is not "
                         "symmetric (entries (%lld, %lld) and (%lld, %lld) "
                         "differ by %g)", (long long)i + 1, (long long)j + 1,
                         (long long)j + 1, (long long)i + 1, diff);
      }
  hebb_sparse_release(d);
  return HEBB_OK;
}

/* sorts the k locked pairs into w (ascending) and the columns of v */
static void emit(const lanczos *lz, int64_t k, const double *theta,
                 double *w, double *v) {
  int64_t i, j, *ord = (int64_t *)lz->w;   /* n >= k spare slots */
  for (i = 0; i < k; i++) ord[i] = i;
  for (i = 1; i < k; i++)   /* insertion sort: k is small */
    for (j = i; j > 0 && theta[ord[j]] < theta[ord[j - 1]]; j--) {
      int64_t o = ord[j];
      ord[j] = ord[j - 1];
      ord[j - 1] = o;
    }
  for (i = 0; i < k; i++) {
    const double *y = lz->y + ord[i] * lz->len;
    int t;
    w[i] = theta[ord[i]];
    for (j = 0; j < lz->n; j++)
      for (t = 0; t < lz->wd; t++)
        v[(j * k + i) * lz->wd + t] = y[j * lz->wd + t];
  }
}

int hebb_sparse_eigsh(const hebb_sparse *s, int64_t k, bool largest,
                      double tol, int64_t maxiter, int64_t ncv, uint64_t seed,
                      hebb_tensor **w, hebb_tensor **v) {
  lanczos lz;
  int64_t n = s->nrows, m, vshape[2], len;
  double *theta;
  int status, wd = s->dtype == HEBB_C128 ? 2 : 1;
  *w = *v = NULL;
  if (check_args(s, k, tol, maxiter, ncv) || check_symmetric(s))
    return hebb_last_status();
  m = ncv > 0 ? ncv : (2 * k + 20 > 100 ? 2 * k + 20 : 100);
  if (m > n) m = n;
  len = n * wd;   /* the basis: (m + 1) x len doubles */
  if (hebb_size_mul(m + 1, len, &vshape[0], "sparse.eigsh"))
    return hebb_last_status();
  memset(&lz, 0, sizeof lz);
  lz.s = s;
  lz.n = n;
  lz.m = m;
  lz.wd = wd;
  lz.len = len;
  hebb_rng_init(&lz.g, seed, 0);
  lz.q = malloc((size_t)((m + 1) * len) * sizeof(double));
  lz.y = malloc((size_t)(k * len) * sizeof(double));
  lz.t = malloc((size_t)(m * m) * sizeof(double));
  lz.v = malloc((size_t)(m * m) * sizeof(double));
  lz.w = malloc((size_t)len * sizeof(double));
  lz.ritz = malloc((size_t)len * sizeof(double));
  theta = malloc((size_t)k * sizeof(double));
  lz.noise = hebb_empty(HEBB_F64, 1, &len);
  vshape[0] = n;
  vshape[1] = k;
  *w = hebb_empty(HEBB_F64, 1, &k);
  *v = hebb_empty(s->dtype, 2, vshape);
  if (!lz.q || !lz.y || !lz.t || !lz.v || !lz.w || !lz.ritz || !theta ||
      !lz.noise || !*w || !*v)
    status = hebb_fail(HEBB_ERR_NOMEM, "sparse.eigsh: out of memory (n = "
                       "%lld, ncv = %lld)", (long long)n, (long long)m);
  else status = solve(&lz, k, largest, tol, maxiter, theta);
  if (!status)
    emit(&lz, k, theta, (double *)hebb_first(*w), (double *)hebb_first(*v));
  else {
    hebb_release(*w);
    hebb_release(*v);
    *w = *v = NULL;
  }
  hebb_release(lz.noise);
  free(lz.q);
  free(lz.y);
  free(lz.t);
  free(lz.v);
  free(lz.w);
  free(lz.ritz);
  free(theta);
  return status;
}
