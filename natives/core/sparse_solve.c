/*
** sparse_solve.c -- x with A x = b for a sparse A (f64 or c128) by a
** preconditioned Krylov method: the linear solves of hebb.ode's implicit
** steps and of Crank-Nicolson with a sparse Hamiltonian, where A = I - c h J
** or 1 + i (dt/2) H is far too large to invert densely (a 256^2 heat
** equation has 65536 unknowns and 5 entries a row).
**
**   cg        conjugate gradients: A Hermitian positive definite (M. R.
**             Hestenes and E. Stiefel, J. Res. NBS 49, 409 (1952))
**   bicgstab  any non-singular A (H. A. van der Vorst, SIAM J. Sci. Stat.
**             Comput. 13, 631 (1992)), right-preconditioned
**
** Preconditioners: none, Jacobi (the diagonal), or ILU(0) (the incomplete
** LU factors on A's own pattern, Y. Saad, "Iterative Methods for Sparse
** Linear Systems", 2nd ed., section 10.3); ILU(0) is CG's too only when it
** keeps the symmetry, so cg takes none or Jacobi.
**
** A vector of n complex numbers is stored as 2n doubles (w = 2), a real
** one as n (w = 1): norms are the real routine over n w doubles and only
** the dot products and updates with complex coefficients look at w.  A
** real A with a complex b runs as complex.  Every loop is a plain ordered
** one and the product is hebb_sparse_spmv (ordered within a row), so x
** depends only on A, b and the options: the same bits at any thread count.
**
** Convergence is |b - A x| <= tol |b| with the true residual: the
** recursively updated residual of BiCGSTAB drifts from it, so when the
** recursion says "converged" the true residual is computed and, if it is
** still above tol, the iteration restarts from it.  Not converging within
** maxiter, a breakdown, a zero pivot or a CG curvature p^H A p <= 0 is an
** error that names the values.
*/
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

typedef double _Complex cplx;

#define NVEC 10

typedef struct solver {
  const hebb_sparse *A;      /* of the vectors' dtype */
  int64_t n;
  int w;                     /* doubles per number */
  int method, precond;
  double *diag;              /* Jacobi: 1 / a_ii (w doubles each) */
  double *lu;                /* ILU(0): the factors on A's pattern */
  int64_t *dpos;             /* ILU(0): where each row's diagonal is */
  double *work;              /* NVEC vectors: 1-7 the methods', 8-9 b, x */
  int64_t iterations;
  double residual;           /* the last true relative residual */
} solver;

static const char *const names[] = {"BiCGSTAB", "CG"};

/* --- vectors ------------------------------------------------------------ */

static cplx ld(const double *v, int w, int64_t i) {
  return w == 2 ? CMPLX(v[2 * i], v[2 * i + 1]) : v[i];
}

static void st(double *v, int w, int64_t i, cplx z) {
  if (w == 2) {
    v[2 * i] = creal(z);
    v[2 * i + 1] = cimag(z);
  } else
    v[i] = creal(z);
}

static double vnorm(int64_t len, const double *x) {
  double s = 0;
  int64_t i;
  for (i = 0; i < len; i++) s += x[i] * x[i];
  return sqrt(s);
}

/* x^H y */
static cplx vdot(const solver *S, const double *x, const double *y) {
  double re = 0, im = 0;
  int64_t i;
  if (S->w == 1) {
    for (i = 0; i < S->n; i++) re += x[i] * y[i];
    return re;
  }
  for (i = 0; i < S->n; i++) {
    re += x[2 * i] * y[2 * i] + x[2 * i + 1] * y[2 * i + 1];
    im += x[2 * i] * y[2 * i + 1] - x[2 * i + 1] * y[2 * i];
  }
  return CMPLX(re, im);
}

/* y = x + a z (y may be x or z) */
static void vaxpy(const solver *S, double *y, const double *x, cplx a,
                  const double *z) {
  int64_t i;
  double ar = creal(a), ai = cimag(a);
  if (S->w == 1) {
    for (i = 0; i < S->n; i++) y[i] = x[i] + ar * z[i];
    return;
  }
  for (i = 0; i < S->n; i++) {
    double zr = z[2 * i], zi = z[2 * i + 1];
    y[2 * i] = x[2 * i] + ar * zr - ai * zi;
    y[2 * i + 1] = x[2 * i + 1] + ar * zi + ai * zr;
  }
}

static double *vec(const solver *S, int k) {
  return S->work + (int64_t)k * S->n * S->w;
}

static int64_t len(const solver *S) { return S->n * S->w; }

/* r = b - A x */
static int residual(const solver *S, const double *b, const double *x,
                    double *r) {
  int status = hebb_sparse_spmv(S->A, x, r);
  int64_t i;
  for (i = 0; status == HEBB_OK && i < len(S); i++) r[i] = b[i] - r[i];
  return status;
}

/* --- preconditioners ------------------------------------------------------ */

/* the position of a_ii in row i, or -1 */
static int64_t find_diag(const hebb_sparse *A, int64_t i) {
  int64_t p;
  for (p = A->rowptr[i]; p < A->rowptr[i + 1]; p++)
    if (A->col[p] == i) return p;
  return -1;
}

static int zero_pivot(int64_t i, cplx d, const char *who) {
  return hebb_fail(HEBB_ERR_ARG, "%s: %s pivot %g%+gi in row %lld: the "
                   "matrix needs another preconditioner (precond = \"none\")",
                   who, d == 0 ? "zero" : "non-finite", creal(d), cimag(d),
                   (long long)i + 1);
}

static int jacobi_setup(solver *S, const char *who) {
  int64_t i, p;
  S->diag = malloc((size_t)len(S) * sizeof(double));
  if (!S->diag) return hebb_fail(HEBB_ERR_NOMEM, "%s: out of memory", who);
  for (i = 0; i < S->n; i++) {
    cplx d = (p = find_diag(S->A, i)) < 0 ? 0 : ld(S->A->val, S->w, p);
    if (d == 0 || !isfinite(creal(d)) || !isfinite(cimag(d)))
      return zero_pivot(i, d, who);
    st(S->diag, S->w, i, 1 / d);
  }
  return HEBB_OK;
}

/* row i of the factors: for each k < i in the row (in order), l_ik =
   a_ik / u_kk and row i -= l_ik row k on row i's pattern (pos: column ->
   position in row i, -1 elsewhere) */
static void ilu_row(solver *S, int64_t i, int64_t *pos) {
  const hebb_sparse *A = S->A;
  int64_t p, q;
  int w = S->w;
  for (p = A->rowptr[i]; p < A->rowptr[i + 1] && A->col[p] < i; p++) {
    int64_t k = A->col[p];
    cplx l = ld(S->lu, w, p) / ld(S->lu, w, S->dpos[k]);
    st(S->lu, w, p, l);
    for (q = S->dpos[k] + 1; q < A->rowptr[k + 1]; q++)
      if (pos[A->col[q]] >= 0)
        st(S->lu, w, pos[A->col[q]],
           ld(S->lu, w, pos[A->col[q]]) - l * ld(S->lu, w, q));
  }
}

static int ilu_setup(solver *S, const char *who) {
  const hebb_sparse *A = S->A;
  int64_t i, p, *pos;
  int status = HEBB_OK;
  S->lu = malloc((size_t)(A->nnz > 0 ? A->nnz * S->w : 1) * sizeof(double));
  S->dpos = malloc((size_t)S->n * sizeof(int64_t));
  pos = malloc((size_t)S->n * sizeof(int64_t));
  if (!S->lu || !S->dpos || !pos) {
    free(pos);
    return hebb_fail(HEBB_ERR_NOMEM, "%s: out of memory", who);
  }
  memcpy(S->lu, A->val, (size_t)(A->nnz * S->w) * sizeof(double));
  for (i = 0; i < S->n; i++) pos[i] = -1;
  for (i = 0; i < S->n && status == HEBB_OK; i++) {
    if ((S->dpos[i] = find_diag(A, i)) < 0) {
      status = zero_pivot(i, 0, who);
      break;
    }
    for (p = A->rowptr[i]; p < A->rowptr[i + 1]; p++) pos[A->col[p]] = p;
    ilu_row(S, i, pos);
    for (p = A->rowptr[i]; p < A->rowptr[i + 1]; p++) pos[A->col[p]] = -1;
    cplx d = ld(S->lu, S->w, S->dpos[i]);
    if (d == 0 || !isfinite(creal(d)) || !isfinite(cimag(d)))
      status = zero_pivot(i, d, who);
  }
  free(pos);
  return status;
}

/* z = U^-1 L^-1 r (L unit lower, U upper, both in lu) */
static void ilu_apply(const solver *S, const double *r, double *z) {
  const hebb_sparse *A = S->A;
  int64_t i, p;
  int w = S->w;
  for (i = 0; i < S->n; i++) {
    cplx s = ld(r, w, i);
    for (p = A->rowptr[i]; p < S->dpos[i]; p++)
      s -= ld(S->lu, w, p) * ld(z, w, A->col[p]);
    st(z, w, i, s);
  }
  for (i = S->n - 1; i >= 0; i--) {
    cplx s = ld(z, w, i);
    for (p = S->dpos[i] + 1; p < A->rowptr[i + 1]; p++)
      s -= ld(S->lu, w, p) * ld(z, w, A->col[p]);
    st(z, w, i, s / ld(S->lu, w, S->dpos[i]));
  }
}

/* z = M^-1 r */
static void precondition(const solver *S, const double *r, double *z) {
  int64_t i;
  if (S->precond == HEBB_PRECOND_ILU0) ilu_apply(S, r, z);
  else if (S->precond == HEBB_PRECOND_JACOBI)
    for (i = 0; i < S->n; i++)
      st(z, S->w, i, ld(S->diag, S->w, i) * ld(r, S->w, i));
  else memcpy(z, r, (size_t)len(S) * sizeof(double));
}

/* --- the iterations --------------------------------------------------------- */

static int breakdown(const solver *S, const char *what, cplx v,
                     const char *who) {
  return hebb_fail(HEBB_ERR_ARG, "%s: %s breakdown at iteration %lld (%s = "
                   "%g%+gi, relative residual %.3g)", who,
                   names[S->method], (long long)S->iterations, what, creal(v),
                   cimag(v), S->residual);
}

/* counts an iteration; every 64th polls hebb_interrupt */
static int tick(solver *S) {
  return ++S->iterations % 64 == 0 ? hebb_check_interrupt() : HEBB_OK;
}

/* CG on x from r = b - A x; returns when |r| <= goal or at maxiter */
static int cg(solver *S, double *x, double goal, int64_t maxiter,
              const char *who) {
  double *r = vec(S, 1), *z = vec(S, 2), *p = vec(S, 3), *q = vec(S, 4);
  cplx rho, rho1, pq;
  int status = HEBB_OK;
  precondition(S, r, z);
  memcpy(p, z, (size_t)len(S) * sizeof(double));
  rho = vdot(S, r, z);
  while (S->iterations < maxiter && vnorm(len(S), r) > goal) {
    if ((status = hebb_sparse_spmv(S->A, p, q)) != HEBB_OK ||
        (status = tick(S)) != HEBB_OK)
      return status;
    pq = vdot(S, p, q);
    if (!(creal(pq) > 0))
      return hebb_fail(HEBB_ERR_ARG, "%s: CG needs a Hermitian positive "
                       "definite matrix: p^H A p = %g%+gi at iteration %lld "
                       "(use method = \"bicgstab\")", who, creal(pq),
                       cimag(pq), (long long)S->iterations);
    vaxpy(S, x, x, rho / pq, p);
    vaxpy(S, r, r, -rho / pq, q);
    precondition(S, r, z);
    rho1 = vdot(S, r, z);
    vaxpy(S, p, z, rho1 / rho, p);
    rho = rho1;
  }
  return status;
}

/* BiCGSTAB on x from r = b - A x (right preconditioning: x += M^-1 ...) */
static int bicgstab(solver *S, double *x, double goal, int64_t maxiter,
                    const char *who) {
  double *r = vec(S, 1), *rh = vec(S, 2), *p = vec(S, 3), *v = vec(S, 4),
         *ph = vec(S, 5), *sh = vec(S, 6), *t = vec(S, 7);
  cplx rho = 1, alpha = 1, omega = 1, rho1, rv;
  int status;
  memcpy(rh, r, (size_t)len(S) * sizeof(double));
  memset(p, 0, (size_t)len(S) * sizeof(double));
  memset(v, 0, (size_t)len(S) * sizeof(double));
  while (S->iterations < maxiter && vnorm(len(S), r) > goal) {
    if ((status = tick(S)) != HEBB_OK) return status;
    rho1 = vdot(S, rh, r);
    if (rho1 == 0) return breakdown(S, "rho", rho1, who);
    vaxpy(S, p, p, -omega, v);                         /* p - omega v */
    vaxpy(S, p, r, (rho1 / rho) * (alpha / omega), p);
    precondition(S, p, ph);
    if ((status = hebb_sparse_spmv(S->A, ph, v)) != HEBB_OK) return status;
    rv = vdot(S, rh, v);
    if (rv == 0) return breakdown(S, "rhat^H v", rv, who);
    alpha = rho1 / rv;
    vaxpy(S, x, x, alpha, ph);
    vaxpy(S, r, r, -alpha, v);                         /* s */
    if (vnorm(len(S), r) <= goal) break;
    precondition(S, r, sh);
    if ((status = hebb_sparse_spmv(S->A, sh, t)) != HEBB_OK) return status;
    omega = vdot(S, t, r) / vdot(S, t, t);
    if (omega == 0 || omega != omega) return breakdown(S, "omega", omega, who);
    vaxpy(S, x, x, omega, sh);
    vaxpy(S, r, r, -omega, t);
    rho = rho1;
  }
  return HEBB_OK;
}

/* solves for one right side b into x (x holds the start); the method runs
   on the recursive residual, then the true one decides (a few restarts) */
static int solve_one(solver *S, const double *b, double *x, double tol,
                     int64_t maxiter, const char *who) {
  double bn = vnorm(len(S), b), goal = tol * bn;
  double *r = vec(S, 1);
  int status = HEBB_OK;
  if (bn == 0) {
    memset(x, 0, (size_t)len(S) * sizeof(double));
    S->residual = 0;
    return HEBB_OK;
  }
  for (;;) {
    if ((status = residual(S, b, x, r)) != HEBB_OK) return status;
    S->residual = vnorm(len(S), r) / bn;
    if (!(S->residual == S->residual) || isinf(S->residual))
      return hebb_fail(HEBB_ERR_ARG, "%s: the residual became NaN or "
                       "infinite at iteration %lld (inf or NaN in A or b?)",
                       who, (long long)S->iterations);
    if (S->residual <= tol) return HEBB_OK;
    if (S->iterations >= maxiter)
      return hebb_fail(HEBB_ERR_ARG, "%s: %s did not converge in maxiter = "
                       "%lld iterations: relative residual %.3g > tol = %g",
                       who, names[S->method], (long long)maxiter,
                       S->residual, tol);
    status = S->method == HEBB_SOLVE_CG ? cg(S, x, goal, maxiter, who)
                                        : bicgstab(S, x, goal, maxiter, who);
    if (status != HEBB_OK) return status;
  }
}

/* --- the entry point --------------------------------------------------------- */

static int check_args(const hebb_sparse *a, const hebb_tensor *b,
                      const hebb_tensor *x0, const hebb_solve_opts *o,
                      const char *who) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  if (a->nrows != a->ncols)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: A is %lld x %lld; it must be "
                     "square", who, (long long)a->nrows, (long long)a->ncols);
  if ((b->ndim != 1 && b->ndim != 2) || b->shape[0] != a->nrows)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: b has shape %s; A (%lld x %lld) "
                     "needs {%lld} or {%lld, k}", who,
                     hebb_shape_str(b->ndim, b->shape, b1, sizeof b1),
                     (long long)a->nrows, (long long)a->ncols,
                     (long long)a->nrows, (long long)a->nrows);
  if (b->dtype != HEBB_F64 && b->dtype != HEBB_C128)
    return hebb_fail(HEBB_ERR_DTYPE, "%s: b has dtype %s; it must be f64 or "
                     "c128", who, hebb_dtype_name(b->dtype));
  if (x0 && (x0->ndim != b->ndim ||
             memcmp(x0->shape, b->shape, (size_t)b->ndim * sizeof(int64_t))))
    return hebb_fail(HEBB_ERR_SHAPE, "%s: x0 has shape %s, b %s", who,
                     hebb_shape_str(x0->ndim, x0->shape, b1, sizeof b1),
                     hebb_shape_str(b->ndim, b->shape, b2, sizeof b2));
  if (!(o->tol > 0) || o->maxiter < 1)
    return hebb_fail(HEBB_ERR_ARG, "%s: tol = %g and maxiter = %lld must be "
                     "> 0", who, o->tol, (long long)o->maxiter);
  if (o->method == HEBB_SOLVE_CG && o->precond == HEBB_PRECOND_ILU0)
    return hebb_fail(HEBB_ERR_ARG, "%s: CG takes precond \"none\" or "
                     "\"jacobi\" (ILU(0) is not symmetric)", who);
  if ((o->method != HEBB_SOLVE_CG && o->method != HEBB_SOLVE_BICGSTAB) ||
      o->precond < HEBB_PRECOND_NONE || o->precond > HEBB_PRECOND_ILU0)
    return hebb_fail(HEBB_ERR_ARG, "%s: unknown method %d or preconditioner "
                     "%d", who, o->method, o->precond);
  return HEBB_OK;
}

/* a contiguous copy of t as dtype, or NULL */
static hebb_tensor *as_dtype(const hebb_tensor *t, int dtype) {
  hebb_tensor *r = hebb_empty(dtype, t->ndim, t->shape);
  if (r && hebb_copy(r, t) != HEBB_OK) {
    hebb_release(r);
    return NULL;
  }
  return r;
}

static int setup(solver *S, const hebb_sparse *a, int cplx_b,
                 const hebb_solve_opts *o, const char *who) {
  memset(S, 0, sizeof *S);
  S->w = cplx_b || a->dtype == HEBB_C128 ? 2 : 1;
  S->A = hebb_sparse_astype(a, S->w == 2 ? HEBB_C128 : HEBB_F64);
  if (!S->A) return hebb_last_status();
  S->n = a->nrows;
  S->method = o->method;
  S->precond = o->precond;
  S->work = malloc((size_t)(NVEC * len(S) > 0 ? NVEC * len(S) : 1) *
                   sizeof(double));
  if (!S->work) return hebb_fail(HEBB_ERR_NOMEM, "%s: out of memory", who);
  if (S->precond == HEBB_PRECOND_JACOBI) return jacobi_setup(S, who);
  if (S->precond == HEBB_PRECOND_ILU0) return ilu_setup(S, who);
  return HEBB_OK;
}

static void teardown(solver *S) {
  if (S->A) hebb_sparse_release(hebb_sparse_unconst(S->A));
  free(S->work);
  free(S->diag);
  free(S->lu);
  free(S->dpos);
}

/* the columns of b (n x k, row-major) one at a time through vec 0 and 1 */
static int solve_columns(solver *S, const hebb_tensor *b, hebb_tensor *x,
                         const hebb_solve_opts *o, hebb_solve_info *info,
                         const char *who) {
  int64_t k = b->ndim == 2 ? b->shape[1] : 1, c, i;
  const double *bb = (const double *)hebb_first(b);
  double *xx = (double *)hebb_first(x), *bc = vec(S, 8), *xc = vec(S, 9);
  int status = HEBB_OK, w = S->w;
  for (c = 0; c < k && status == HEBB_OK; c++) {
    for (i = 0; i < S->n; i++) {
      st(bc, w, i, ld(bb, w, i * k + c));
      st(xc, w, i, ld(xx, w, i * k + c));
    }
    S->iterations = 0;
    status = solve_one(S, bc, xc, o->tol, o->maxiter, who);
    for (i = 0; i < S->n; i++) st(xx, w, i * k + c, ld(xc, w, i));
    if (info->iterations < S->iterations) info->iterations = S->iterations;
    if (info->residual < S->residual) info->residual = S->residual;
  }
  return status;
}

hebb_status hebb_sparse_solve(const hebb_sparse *a, const hebb_tensor *b,
                              const hebb_tensor *x0, const hebb_solve_opts *o,
                              hebb_tensor **x, hebb_solve_info *info) {
  const char *who = "sparse.solve";
  solver S;
  hebb_tensor *cb = NULL;
  int status = check_args(a, b, x0, o, who), dtype;
  *x = NULL;
  info->iterations = 0;
  info->residual = 0;
  if (status != HEBB_OK) return status;
  dtype = a->dtype == HEBB_C128 || b->dtype == HEBB_C128 ? HEBB_C128 : HEBB_F64;
  status = setup(&S, a, dtype == HEBB_C128, o, who);
  if (status == HEBB_OK && (!(cb = as_dtype(b, dtype)) ||
                            !(*x = x0 ? as_dtype(x0, dtype)
                                      : hebb_zeros(dtype, b->ndim, b->shape))))
    status = hebb_last_status();
  if (status == HEBB_OK) status = solve_columns(&S, cb, *x, o, info, who);
  teardown(&S);
  if (cb) hebb_release(cb);
  if (status != HEBB_OK && *x) {
    hebb_release(*x);
    *x = NULL;
  }
  return status;
}
