/*
** schrodinger.c -- time steps of the Schrodinger equation
** i hbar dpsi/dt = -(hbar^2 / 2m) Laplacian psi + V psi on a periodic grid:
**
** Split-step Fourier (Strang): psi <- Pv F^-1 Pk F Pv psi with the phases
** Pv = e^{-i V dt / 2 hbar} and Pk = e^{-i hbar k^2 dt / 2m}, given as
** complex tensors of psi's shape (in imaginary time they are the real
** decays e^{-V dtau / 2}, e^{-k^2 dtau / 2m}); the kinetic part is exact
** for the spectral Laplacian, the splitting error O(dt^3) a step.  The two
** half steps of V between consecutive steps are merged into Pv^2.  The
** transforms are hebb_fftn's (FFTW plans, cached).
**
** Crank-Nicolson: psi <- (1 + i tau H/2)^-1 (1 - i tau H/2) psi with the
** three-point Laplacian, unitary and second order.  In d > 1 dimensions H
** is split into one operator per axis, H_j = -(hbar^2/2m) d_j^2 + V/d, each
** a tridiagonal system along the lines of its axis, applied in the
** symmetric order 1, ..., d-1 (tau/2), d (tau), d-1, ..., 1 (tau/2)
** (Strang again: second order, and each factor is unitary).  Periodic
** lines are cyclic tridiagonal (Sherman-Morrison on the Thomas
** algorithm); Dirichlet lines (psi = 0 beyond the grid) plain Thomas.
** A c64 psi is solved in double along each line (read into the line
** buffer, rounded back once per axis sweep): the Thomas recursion in
** single precision would lose the unitarity the method is chosen for.
*/
#include <complex.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

typedef double _Complex cplx;

/* --- split step -------------------------------------------------------------- */

typedef struct mul_job {
  int f32;
  char *x;
  const char *p;       /* x *= p, elementwise */
} mul_job;

/* written on the (re, im) pairs: C's complex product checks for NaN and
   infinities after every multiplication (Annex G), which keeps the loop
   scalar; these are finite phases */
#define DEFINE_MUL(T, SUF)                                                    \
HEBB_CLONES                                                                  \
static void mul_##SUF(int64_t lo, int64_t hi, T *restrict x,                 \
                      const T *restrict p) {                                 \
  int64_t i;                                                                 \
  for (i = lo; i < hi; i++) {                                                \
    T a = x[2 * i], b = x[2 * i + 1], c = p[2 * i], d = p[2 * i + 1];        \
    x[2 * i] = a * c - b * d;                                                \
    x[2 * i + 1] = a * d + b * c;                                            \
  }                                                                          \
}

DEFINE_MUL(double, f64)
DEFINE_MUL(float, f32)

static void mul_range(int64_t lo, int64_t hi, void *ud) {
  const mul_job *j = ud;
  if (j->f32) mul_f32(lo, hi, (float *)j->x, (const float *)j->p);
  else mul_f64(lo, hi, (double *)j->x, (const double *)j->p);
}

/* x *= p: a complex multiply is ~6 flops */
static int multiply(hebb_tensor *x, const hebb_tensor *p) {
  mul_job j;
  j.f32 = x->dtype == HEBB_C64;
  j.x = hebb_first(x);
  j.p = hebb_first(p);
  return hebb_parallel_for(hebb_numel(x), 6, mul_range, &j);
}

static int check_same(const hebb_tensor *t, const hebb_tensor *psi,
                      const char *what, const char *who) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  if (t->dtype != psi->dtype || t->ndim != psi->ndim ||
      memcmp(t->shape, psi->shape, (size_t)psi->ndim * sizeof(int64_t)) != 0)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: %s is %s %s, psi is %s %s", who, what,
                     hebb_dtype_name(t->dtype),
                     hebb_shape_str(t->ndim, t->shape, b1, sizeof b1),
                     hebb_dtype_name(psi->dtype),
                     hebb_shape_str(psi->ndim, psi->shape, b2, sizeof b2));
  if (!hebb_is_contiguous(t))
    return hebb_fail(HEBB_ERR_ARG, "%s: %s must be contiguous", who, what);
  return HEBB_OK;
}

static int check_psi(const hebb_tensor *psi, int c64_ok, const char *who) {
  if (psi->dtype != HEBB_C128 && !(c64_ok && psi->dtype == HEBB_C64))
    return hebb_fail(HEBB_ERR_DTYPE, "%s: psi has dtype %s; it must be %s", who,
                     hebb_dtype_name(psi->dtype), c64_ok ? "c128 or c64" : "c128");
  if (psi->ndim < 1)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: psi is 0-dimensional", who);
  if (!hebb_is_contiguous(psi))
    return hebb_fail(HEBB_ERR_ARG, "%s: psi must be contiguous (it is "
                     "updated in place)", who);
  return HEBB_OK;
}

/* one kinetic step on cur, the result a new tensor in *next */
static int kinetic(hebb_tensor *cur, const hebb_tensor *pk, hebb_tensor **next) {
  hebb_tensor *f = NULL;
  int status = hebb_fftn(cur, 0, NULL, false, &f);
  if (status == HEBB_OK) status = multiply(f, pk);
  if (status == HEBB_OK) status = hebb_fftn(f, 0, NULL, true, next);
  if (f) hebb_release(f);
  return status;
}

hebb_status hebb_split_step(hebb_tensor *psi, const hebb_tensor *pv,
                            const hebb_tensor *pk, int64_t nsteps) {
  const char *who = "fields.split_step";
  hebb_tensor *cur, *next = NULL, *pv2 = NULL;
  int64_t k;
  int status = check_psi(psi, 1, who);
  if (status == HEBB_OK) status = check_same(pv, psi, "the potential phase", who);
  if (status == HEBB_OK) status = check_same(pk, psi, "the kinetic phase", who);
  if (status == HEBB_OK && nsteps < 0)
    status = hebb_fail(HEBB_ERR_ARG, "%s: steps = %lld; it must be >= 0", who,
                       (long long)nsteps);
  if (status != HEBB_OK || nsteps == 0) return status;
  /* the steps run on a copy: a failure (FFTW not found) leaves psi as it
     was; the merged half steps multiply by pv^2, formed once */
  cur = hebb_clone(psi);
  if (!cur) return hebb_last_status();
  if (nsteps > 1) status = hebb_binary(HEBB_MUL, pv, pv, &pv2);
  if (status == HEBB_OK) status = multiply(cur, pv);
  for (k = 1; k <= nsteps && status == HEBB_OK; k++) {
    next = NULL;
    status = kinetic(cur, pk, &next);
    hebb_release(cur);
    cur = next;
    if (status == HEBB_OK) status = multiply(cur, k < nsteps ? pv2 : pv);
  }
  if (status == HEBB_OK) status = hebb_copy(psi, cur);
  if (cur) hebb_release(cur);
  if (pv2) hebb_release(pv2);
  return status;
}

/* --- Crank-Nicolson ---------------------------------------------------------------- */

typedef struct cn_line {
  int64_t n, stride;     /* a line: n elements stride apart */
  int periodic;
  cplx e;                /* off-diagonal of A = 1 + i a H: i a c */
  double a, c, d0;       /* a = tau/2; H_j = d0 + V_j/d on the diagonal, c off it */
  double vscale;         /* 1/d */
} cn_line;

typedef struct cn_job {
  cn_line ln;
  int axis, d;
  int f32;               /* psi is c64 */
  int64_t shape[HEBB_MAXDIM];
  char *psi;
  const double *V;
  atomic_int nomem;      /* a worker could not get its line buffer */
} cn_job;

/* x solves the tridiagonal system with diagonal b, constant off-diagonals
   e and right side r (Thomas; w: n scratch) */
static void thomas(int64_t n, const cplx *b, cplx e, const cplx *r, cplx *x,
                   cplx *w) {
  int64_t i;
  cplx m = b[0];
  x[0] = r[0] / m;
  for (i = 1; i < n; i++) {
    w[i] = e / m;
    m = b[i] - e * w[i];
    x[i] = (r[i] - e * x[i - 1]) / m;
  }
  for (i = n - 2; i >= 0; i--) x[i] -= w[i + 1] * x[i + 1];
}

/* the cyclic system (corners e as well) by Sherman-Morrison: A = A' + u v^T
   with u = (g, 0, ..., 0, e), v = (1, 0, ..., 0, e/g), g = -b_0 */
static void cyclic(int64_t n, cplx *b, cplx e, const cplx *r, cplx *x,
                   cplx *w, cplx *z, cplx *u) {
  cplx g = -b[0], fact;
  int64_t i;
  b[0] -= g;
  b[n - 1] -= e * e / g;
  thomas(n, b, e, r, x, w);
  for (i = 0; i < n; i++) u[i] = 0;
  u[0] = g;
  u[n - 1] = e;
  thomas(n, b, e, u, z, w);
  fact = (x[0] + e * x[n - 1] / g) / (1 + z[0] + e * z[n - 1] / g);
  for (i = 0; i < n; i++) x[i] -= fact * z[i];
}

static cplx psi_at(const cn_job *j, int64_t i) {
  if (j->f32) {
    const float *f = (const float *)j->psi + 2 * i;
    return CMPLX((double)f[0], (double)f[1]);
  }
  return ((const cplx *)j->psi)[i];
}

static void psi_set(const cn_job *j, int64_t i, cplx z) {
  if (j->f32) {
    float *f = (float *)j->psi + 2 * i;
    f[0] = (float)creal(z);
    f[1] = (float)cimag(z);
  } else
    ((cplx *)j->psi)[i] = z;
}

/* one line starting at element 'base': psi <- A^-1 B psi */
static void cn_solve_line(const cn_job *j, int64_t base, cplx *buf) {
  const cn_line *L = &j->ln;
  int64_t n = L->n, i;
  cplx *p = buf, *b = p + n, *r = b + n, *x = r + n, *w = x + n, *z = w + n,
       *u = z + n;
  for (i = 0; i < n; i++) {
    double h = L->d0 + (j->V ? j->V[base + i * L->stride] * L->vscale : 0);
    p[i] = psi_at(j, base + i * L->stride);
    b[i] = 1 + (cplx)I * L->a * h;
  }
  for (i = 0; i < n; i++) {   /* r = B p = (2 - A) p */
    cplx nb = 0;
    if (i > 0) nb += p[i - 1];
    else if (L->periodic) nb += p[n - 1];
    if (i < n - 1) nb += p[i + 1];
    else if (L->periodic) nb += p[0];
    r[i] = (2 - b[i]) * p[i] - L->e * nb;
  }
  if (L->periodic) cyclic(n, b, L->e, r, x, w, z, u);
  else thomas(n, b, L->e, r, x, w);
  for (i = 0; i < n; i++) psi_set(j, base + i * L->stride, x[i]);
}

/* the element where line number l of the axis starts */
static int64_t line_base(const cn_job *j, int64_t l) {
  int64_t base = 0, stride = 1, k;
  int dim;
  for (dim = j->d - 1; dim >= 0; dim--) {
    if (dim != j->axis) {
      k = l % j->shape[dim];
      l /= j->shape[dim];
      base += k * stride;
    }
    stride *= j->shape[dim];
  }
  return base;
}

static void cn_lines(int64_t lo, int64_t hi, void *ud) {
  cn_job *j = ud;
  cplx *buf = malloc((size_t)(7 * j->ln.n) * sizeof(cplx));
  int64_t l;
  if (!buf) {
    atomic_store(&j->nomem, 1);
    return;
  }
  for (l = lo; l < hi; l++) cn_solve_line(j, line_base(j, l), buf);
  free(buf);
}

static int cn_axis(cn_job *j, int axis, double tau, double coef) {
  int64_t total = 1;
  int k;
  for (k = 0; k < j->d; k++) total *= j->shape[k];
  j->axis = axis;
  j->ln.n = j->shape[axis];
  j->ln.stride = 1;
  for (k = axis + 1; k < j->d; k++) j->ln.stride *= j->shape[k];
  j->ln.a = tau / 2;
  j->ln.c = -coef;
  j->ln.d0 = 2 * coef;
  j->ln.e = (cplx)I * j->ln.a * j->ln.c;
  int status = hebb_parallel_for(total / j->ln.n, j->ln.n * 60, cn_lines, j);
  if (status == HEBB_OK && atomic_load(&j->nomem))
    status = hebb_fail(HEBB_ERR_NOMEM, "fields.crank_nicolson: out of memory");
  return status;
}

/* one step: the axes in the symmetric order (d = 1: one full solve) */
static int cn_step(cn_job *j, double dt, double coef) {
  int axis, status = HEBB_OK;
  for (axis = 0; axis < j->d - 1 && status == HEBB_OK; axis++)
    status = cn_axis(j, axis, dt / 2, coef);
  if (status == HEBB_OK) status = cn_axis(j, j->d - 1, dt, coef);
  for (axis = j->d - 2; axis >= 0 && status == HEBB_OK; axis--)
    status = cn_axis(j, axis, dt / 2, coef);
  return status;
}

static int check_potential(const hebb_tensor *V, const hebb_tensor *psi,
                           const char *who) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  if (V->dtype != HEBB_F64)
    return hebb_fail(HEBB_ERR_DTYPE, "%s: V has dtype %s; it must be f64", who,
                     hebb_dtype_name(V->dtype));
  if (V->ndim != psi->ndim ||
      memcmp(V->shape, psi->shape, (size_t)psi->ndim * sizeof(int64_t)) != 0)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: V has shape %s, psi %s", who,
                     hebb_shape_str(V->ndim, V->shape, b1, sizeof b1),
                     hebb_shape_str(psi->ndim, psi->shape, b2, sizeof b2));
  if (!hebb_is_contiguous(V))
    return hebb_fail(HEBB_ERR_ARG, "%s: V must be contiguous", who);
  return HEBB_OK;
}

hebb_status hebb_crank_nicolson(hebb_tensor *psi, const hebb_tensor *V,
                                double dx, double mass, double hbar, double dt,
                                bool periodic, int64_t nsteps) {
  const char *who = "fields.crank_nicolson";
  cn_job j;
  int64_t k;
  int status = check_psi(psi, 1, who), axis;
  if (status == HEBB_OK && nsteps < 0)
    status = hebb_fail(HEBB_ERR_ARG, "%s: steps = %lld; it must be >= 0", who,
                       (long long)nsteps);
  if (status == HEBB_OK && V) status = check_potential(V, psi, who);
  if (status == HEBB_OK && !(dx > 0 && mass > 0 && hbar > 0 && dt > 0))
    status = hebb_fail(HEBB_ERR_ARG, "%s: dx = %g, m = %g, hbar = %g, dt = %g: "
                       "all must be > 0", who, dx, mass, hbar, dt);
  for (axis = 0; status == HEBB_OK && axis < psi->ndim; axis++)
    if (psi->shape[axis] < (periodic ? 3 : 1))
      status = hebb_fail(HEBB_ERR_SHAPE, "%s: side %d has %lld points; a "
                         "periodic side needs at least 3", who, axis + 1,
                         (long long)psi->shape[axis]);
  if (status != HEBB_OK) return status;
  memset(&j, 0, sizeof j);
  j.d = psi->ndim;
  memcpy(j.shape, psi->shape, (size_t)j.d * sizeof(int64_t));
  j.psi = (char *)hebb_first(psi);
  j.f32 = psi->dtype == HEBB_C64;
  j.V = V ? (const double *)hebb_first(V) : NULL;
  j.ln.periodic = periodic;
  j.ln.vscale = 1.0 / ((double)j.d * hbar);
  /* H / hbar: -(hbar / 2m dx^2) (p_{i-1} - 2 p_i + p_{i+1}) + V / hbar */
  for (k = 0; k < nsteps && status == HEBB_OK; k++)
    status = cn_step(&j, dt, hbar / (2 * mass * dx * dx));
  hebb_bump_version(psi);
  return status;
}
