/*
** krylov.c -- w = e^{-iHt} v for a sparse Hermitian H, without forming the
** exponential: Lanczos builds an orthonormal basis Q of the Krylov space
** span{v, Hv, ..., H^{m-1} v}, in which H is the real tridiagonal T =
** Q^H H Q, and e^{-iHt} v ~ |v| Q e^{-iTt} e1 (Y. Saad, SIAM J. Numer.
** Anal. 29, 209 (1992); M. Hochbruck and C. Lubich, ibid. 34, 1911
** (1997)).  The small exponential comes from the eigenvectors of T
** (LAPACK dsyevd).
**
** Long times are cut into substeps, as in Expokit (R. B. Sidje, ACM TOMS
** 24, 130 (1998)): a substep tau is accepted when the a posteriori error
** estimate beta_{m+1} |v| |e_m^T e^{-iT tau} e1| (the size of the next,
** neglected term) is within tol tau / t, so the errors of the substeps add
** up to at most tol; otherwise tau shrinks (the basis is kept: only the
** small exponential is recomputed).  A breakdown (beta_{j+1} ~ 0) means
** the Krylov space is invariant and the step is exact for any tau.
**
** Every vector operation is a plain ordered loop and the basis is fully
** reorthogonalized (m is small: 30 by default), so the result depends only
** on H, v and the parameters: the same bits at any thread count.
*/
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

typedef double _Complex cplx;

typedef struct krylov {
  const hebb_sparse *H;
  int64_t n, m;
  cplx *Q;          /* (m + 1) x n basis */
  double *alpha, *beta;
  double *T, *S, *lam;    /* m x m: tridiagonal, eigenvectors; eigenvalues */
  double *work;
  int *iwork;
  int lwork, liwork;
  cplx *y;          /* m: the small solution, then 2m scratch */
} krylov;

static double znorm(int64_t n, const cplx *x) {
  double s = 0;
  int64_t i;
  for (i = 0; i < n; i++) s += creal(x[i]) * creal(x[i]) + cimag(x[i]) * cimag(x[i]);
  return sqrt(s);
}

/* w -= (q^H w) q for each of the k basis vectors (twice: classical
   Gram-Schmidt repeated keeps the basis orthogonal to rounding) */
static void reorthogonalize(const krylov *K, int64_t k, cplx *w) {
  int64_t i, j;
  int pass;
  for (pass = 0; pass < 2; pass++)
    for (j = 0; j < k; j++) {
      const cplx *q = K->Q + j * K->n;
      cplx h = 0;
      for (i = 0; i < K->n; i++) h += conj(q[i]) * w[i];
      for (i = 0; i < K->n; i++) w[i] -= h * q[i];
    }
}

/* Lanczos from the unit vector Q[0]; returns the dimension reached (m, or
   less at a breakdown) and sets *next to beta_{dim+1} (0 at a breakdown) */
static int64_t lanczos(krylov *K, double scale, double *next, int *status) {
  int64_t j, i, n = K->n;
  for (j = 0; j < K->m; j++) {
    cplx *q = K->Q + j * n, *w = K->Q + (j + 1) * n;
    cplx a = 0;
    double b;
    if ((*status = hebb_sparse_spmv(K->H, (const double *)q, (double *)w)) != HEBB_OK)
      return 0;
    for (i = 0; i < n; i++) a += conj(q[i]) * w[i];
    K->alpha[j] = creal(a);    /* real: H is Hermitian */
    reorthogonalize(K, j + 1, w);
    b = znorm(n, w);
    K->beta[j] = b;
    if (b <= 1e-14 * scale) {  /* an invariant subspace: exact */
      *next = 0;
      return j + 1;
    }
    for (i = 0; i < n; i++) w[i] /= b;
  }
  *next = K->beta[K->m - 1];
  return K->m;
}

/* the eigenvectors S and eigenvalues lam of the k x k tridiagonal T */
static int tridiag_eigen(krylov *K, int64_t k, const char *who) {
  const hebb_blas_api *B = hebb_blas(who);
  int n = (int)k, info = 0, i;
  if (!B) return hebb_last_status();
  memset(K->S, 0, (size_t)(k * k) * sizeof(double));
  for (i = 0; i < n; i++) {
    K->S[i * k + i] = K->alpha[i];
    if (i + 1 < n) K->S[i * k + i + 1] = K->S[(i + 1) * k + i] = K->beta[i];
  }
  B->syevd[1]("V", "U", &n, K->S, &n, K->lam, K->work, &K->lwork, K->iwork,
              &K->liwork, &info, 1, 1);
  if (info != 0)
    return hebb_fail(HEBB_ERR_UNSUPPORTED, "%s: the tridiagonal eigensolver "
                     "failed (info %d)", who, info);
  return HEBB_OK;
}

/* y = e^{-i T tau} e1.  For |tau| ||T|| <= 1 by the Taylor series on the
   tridiagonal T: its last component, the error estimate, is then exact to
   its own size (T^p e1 vanishes below row p + 1); from the eigenvectors
   (S_ij, column-major) its rounding would sit at ~1e-16 and stall small
   substeps.  Otherwise y_i = sum_j S_ij e^{-i lam_j tau} S_1j. */
static void small_exp(krylov *K, int64_t k, double tau) {
  int64_t i, j, p;
  double norm = 0;
  for (j = 0; j < k; j++) norm = fmax(norm, fabs(K->lam[j]));
  if (fabs(tau) * norm <= 1) {
    cplx *v = K->y + K->m, *u = v + K->m;   /* two scratch vectors */
    for (i = 0; i < k; i++) K->y[i] = v[i] = i == 0;
    for (p = 1; p <= 40; p++) {
      double size = 0;
      for (i = 0; i < k; i++) {
        cplx tv = K->alpha[i] * v[i];
        if (i > 0) tv += K->beta[i - 1] * v[i - 1];
        if (i + 1 < k) tv += K->beta[i] * v[i + 1];
        u[i] = -I * tau / (double)p * tv;
      }
      for (i = 0; i < k; i++) {
        v[i] = u[i];
        K->y[i] += v[i];
        size = fmax(size, cabs(v[i]));
      }
      if (size < 1e-18) break;
    }
    return;
  }
  for (i = 0; i < k; i++) {
    cplx s = 0;
    for (j = 0; j < k; j++)
      s += K->S[j * k + i] * cexp(-I * K->lam[j] * tau) * K->S[j * k];
    K->y[i] = s;
  }
}

/* w = beta Q y */
static void combine_basis(const krylov *K, int64_t k, double beta, cplx *w) {
  int64_t i, j, n = K->n;
  for (i = 0; i < n; i++) w[i] = 0;
  for (j = 0; j < k; j++) {
    const cplx *q = K->Q + j * n;
    cplx c = beta * K->y[j];
    for (i = 0; i < n; i++) w[i] += c * q[i];
  }
}

static int alloc_krylov(krylov *K, const char *who) {
  int64_t m = K->m;
  K->lwork = (int)(1 + 6 * m + 2 * m * m);
  K->liwork = (int)(3 + 5 * m);
  K->Q = malloc((size_t)((m + 1) * K->n) * sizeof(cplx));
  K->alpha = malloc((size_t)m * sizeof(double));
  K->beta = malloc((size_t)m * sizeof(double));
  K->S = malloc((size_t)(m * m) * sizeof(double));
  K->lam = malloc((size_t)m * sizeof(double));
  K->work = malloc((size_t)K->lwork * sizeof(double));
  K->iwork = malloc((size_t)K->liwork * sizeof(int));
  K->y = malloc((size_t)(3 * m) * sizeof(cplx));   /* y and scratch */
  if (!K->Q || !K->alpha || !K->beta || !K->S || !K->lam || !K->work ||
      !K->iwork || !K->y)
    return hebb_fail(HEBB_ERR_NOMEM, "%s: out of memory", who);
  return HEBB_OK;
}

static void free_krylov(krylov *K) {
  free(K->Q); free(K->alpha); free(K->beta); free(K->S); free(K->lam);
  free(K->work); free(K->iwork); free(K->y);
}

/* one substep from w (in place) in the direction sign of time: tau <=
   left, shrunk until the error estimate is within tol tau / t (it grows
   about as tau^k); returns the tau taken in *taken */
static int substep(krylov *K, cplx *w, double left, double t, double sign,
                   double tol, double *taken, const char *who) {
  double beta = znorm(K->n, w), next, tau = left, err;
  int64_t i, k, tries = 0;
  int status = HEBB_OK;
  *taken = left;
  if (beta == 0) return HEBB_OK;
  for (i = 0; i < K->n; i++) K->Q[i] = w[i] / beta;
  k = lanczos(K, beta, &next, &status);
  if (status != HEBB_OK) return status;
  if ((status = tridiag_eigen(K, k, who)) != HEBB_OK) return status;
  for (;;) {
    double fac;
    small_exp(K, k, sign * tau);
    err = beta * next * cabs(K->y[k - 1]);
    /* (an estimate at the rounding level of y counts as met) */
    if (next == 0 || err <= tol * beta * tau / t || err <= 1e-15 * beta * next)
      break;
    fac = 0.9 * pow(tol * beta * tau / t / err, 1.0 / (double)(k > 1 ? k - 1 : 1));
    tau *= fac > 0.5 ? 0.5 : fac < 0.1 ? 0.1 : fac;
    if (++tries > 200)
      return hebb_fail(HEBB_ERR_ARG, "%s: no substep meets tol = %g (the "
                       "Krylov space of dimension %lld is too small)", who,
                       tol, (long long)K->m);
  }
  combine_basis(K, k, beta, w);
  *taken = tau;
  return HEBB_OK;
}

static int check_expmv(const hebb_sparse *H, const hebb_tensor *v, double t,
                       int64_t m, double tol, const char *who) {
  if (H->nrows != H->ncols)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: H is %lld x %lld, not square", who,
                     (long long)H->nrows, (long long)H->ncols);
  if (v->ndim != 1 || v->shape[0] != H->ncols)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: v must be a vector of length %lld "
                     "(H is %lld x %lld)", who, (long long)H->ncols,
                     (long long)H->nrows, (long long)H->ncols);
  if (!(tol > 0) || isnan(t) || isinf(t) || m < 1)
    return hebb_fail(HEBB_ERR_ARG, "%s: t = %g, krylov = %lld, tol = %g: t must "
                     "be finite, krylov >= 1 and tol > 0", who, t,
                     (long long)m, tol);
  return HEBB_OK;
}

static int evolve(krylov *K, hebb_tensor *r, double t, double tol,
                  const char *who) {
  double done = 0, taken, T = fabs(t), sign = t < 0 ? -1 : 1;
  int status = alloc_krylov(K, who);
  while (status == HEBB_OK && done < T) {
    status = substep(K, (cplx *)hebb_first(r), T - done, T, sign, tol, &taken,
                     who);
    done += taken;
    if (status == HEBB_OK) status = hebb_check_interrupt();
  }
  free_krylov(K);
  return status;
}

int hebb_sparse_expmv(const hebb_sparse *H, const hebb_tensor *v, double t,
                      int64_t m, double tol, hebb_tensor **out) {
  const char *who = "fields.evolve";
  krylov K;
  hebb_sparse *Hc;
  hebb_tensor *r;
  int status = check_expmv(H, v, t, m, tol, who);
  if (status != HEBB_OK) return status;
  memset(&K, 0, sizeof K);
  K.n = H->nrows;
  K.m = m < K.n ? m : K.n;
  if (H->dtype == HEBB_C128) hebb_sparse_retain((hebb_sparse *)H);
  Hc = H->dtype == HEBB_C128 ? (hebb_sparse *)H : hebb_sparse_astype(H, HEBB_C128);
  if (!Hc) return hebb_last_status();
  K.H = Hc;
  r = hebb_astype(v, HEBB_C128);   /* a new contiguous copy, evolved in place */
  status = r ? evolve(&K, r, t, tol, who) : hebb_last_status();
  hebb_sparse_release(Hc);
  if (status == HEBB_OK && *out) {
    status = hebb_prepare_out(out, HEBB_C128, 1, r->shape, who);
    if (status == HEBB_OK) status = hebb_copy(*out, r);
    hebb_release(r);
  }
  else if (status == HEBB_OK) *out = r;
  else if (r) hebb_release(r);
  return status;
}
