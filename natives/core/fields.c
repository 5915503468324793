/*
** fields.c -- the stencil loops of hebb.fields on periodic hypercubic
** lattices: the lattice Laplacian, leapfrog (kick-drift-kick) steps of the
** Klein-Gordon field and its energy.
**
** A field is a contiguous f64 or f32 tensor; every dimension is a lattice
** direction, periodic.  The loops run row by row along the last
** dimension: a row's neighbours across the other dimensions are whole rows
** (found once per row, with the wrap), and along the row they are i - 1
** and i + 1 (the two ends wrap).  The inner loop over a row then reads
** 2d - 1 contiguous arrays and vectorizes; for d = 1, 2, 3 it is written
** out, so the compiler sees a fixed number of streams (the 2-d step on
** 256^2 f32 runs at the speed of a hand-written stencil).
**
** Klein-Gordon on a lattice of spacing a:
**   d2 phi/dt2 = F(phi) = (sum over the 2d neighbours - 2d phi) / a^2 - m^2 phi
** Leapfrog with n steps: a half kick pi += dt/2 F, then n times a drift
** phi += dt pi followed by a kick (dt, the last one dt/2); the half kicks
** of consecutive steps are merged, so a step evaluates F once.  It is
** symplectic and time-reversible; a mode of frequency w (F1) oscillates at
** w~ with (2/dt) sin(w~ dt/2) = w (F2), stable for dt < 2/sqrt(m^2 +
** 4d/a^2) (F3).
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* reals per element-operation of a kick: the stencil reads 2d + 1 values,
   about 2d + 3 additions; the loops are memory bound (a 256^2 f32 step,
   ~15 us, stays on one thread: below the parallel grain) */
#define KICK_COST(d) (2 * (d) + 3)

typedef struct stencil {
  int d, f32;
  int64_t n;                     /* row length (the last dimension) */
  int64_t rows;
  int64_t shape[HEBB_MAXDIM];
  int64_t rstride[HEBB_MAXDIM];  /* in rows, for dims 0 .. d-2 */
  double cn, c0;                 /* F = cn * (neighbour sum) + c0 * phi */
  double k;                      /* out += k F (acc) or out = k F */
  int acc;
  const char *src;
  char *dst;
} stencil;

/* the 2(d-1) neighbour rows of row r (row numbers) */
static int neighbour_rows(const stencil *s, int64_t r, int64_t *nb) {
  int j, m = 0;
  int64_t rem = r;
  for (j = 0; j < s->d - 1; j++) {
    int64_t st = s->rstride[j], L = s->shape[j];
    int64_t x = rem / st;
    rem -= x * st;
    nb[m++] = r + ((x + 1 == L ? 0 : x + 1) - x) * st;
    nb[m++] = r + ((x == 0 ? L - 1 : x - 1) - x) * st;
  }
  return m;
}

/* One row: F[i] = cn (p[i-1] + p[i+1] + sum_j q_j[i]) + c0 p[i], and
   o[i] OP k F[i] (OP: = for the Laplacian, += for a kick).  The ends of the
   row wrap; the interior loops for 0, 2 and 4 neighbour rows are written
   out so that they vectorize. */
#define DEFINE_ROW(T, SUF, NAME, OP)                                          \
HEBB_CLONES                                                                  \
static void NAME##_##SUF(const stencil *s, T *restrict o, const T *restrict p, \
                         const T *const *q, int m) {                         \
  const T cn = (T)s->cn, c0 = (T)s->c0, k = (T)s->k;                         \
  const int64_t n = s->n;                                                    \
  int64_t i;                                                                 \
  if (n < 3 || (m != 0 && m != 2 && m != 4)) {                               \
    for (i = 0; i < n; i++)                                                  \
      o[i] OP k * (cn * nbsum_##SUF(p, q, m, n, i) + c0 * p[i]);             \
    return;                                                                  \
  }                                                                          \
  o[0] OP k * (cn * nbsum_##SUF(p, q, m, n, 0) + c0 * p[0]);                 \
  o[n - 1] OP k * (cn * nbsum_##SUF(p, q, m, n, n - 1) + c0 * p[n - 1]);     \
  if (m == 0) {                                                              \
    for (i = 1; i < n - 1; i++)                                              \
      o[i] OP k * (cn * (p[i - 1] + p[i + 1]) + c0 * p[i]);                  \
  } else if (m == 2) {                                                       \
    const T *restrict u = q[0], *restrict w = q[1];                          \
    for (i = 1; i < n - 1; i++)                                              \
      o[i] OP k * (cn * (p[i - 1] + p[i + 1] + u[i] + w[i]) + c0 * p[i]);    \
  } else {                                                                   \
    const T *restrict u = q[0], *restrict w = q[1];                          \
    const T *restrict y = q[2], *restrict z = q[3];                          \
    for (i = 1; i < n - 1; i++)                                              \
      o[i] OP k * (cn * (p[i - 1] + p[i + 1] + u[i] + w[i] + y[i] + z[i])    \
                   + c0 * p[i]);                                             \
  }                                                                          \
}

#define DEFINE_NBSUM(T, SUF)                                                  \
static T nbsum_##SUF(const T *p, const T *const *q, int m, int64_t n,        \
                     int64_t i) {                                            \
  T s = p[i == 0 ? n - 1 : i - 1] + p[i == n - 1 ? 0 : i + 1];               \
  int j;                                                                     \
  for (j = 0; j < m; j++) s += q[j][i];                                      \
  return s;                                                                  \
}

#define DEFINE_ROWS(T, SUF)                                                   \
DEFINE_NBSUM(T, SUF)                                                         \
DEFINE_ROW(T, SUF, kick, +=)                                                 \
DEFINE_ROW(T, SUF, set, =)                                                   \
                                                                             \
static void rows_##SUF(int64_t lo, int64_t hi, const stencil *s) {           \
  const T *p = (const T *)s->src;                                            \
  T *o = (T *)s->dst;                                                        \
  const T *q[2 * HEBB_MAXDIM];                                               \
  int64_t nb[2 * HEBB_MAXDIM], r;                                            \
  int j, m;                                                                  \
  for (r = lo; r < hi; r++) {                                                \
    m = neighbour_rows(s, r, nb);                                            \
    for (j = 0; j < m; j++) q[j] = p + nb[j] * s->n;                         \
    if (s->acc) kick_##SUF(s, o + r * s->n, p + r * s->n, q, m);             \
    else set_##SUF(s, o + r * s->n, p + r * s->n, q, m);                     \
  }                                                                          \
}

DEFINE_ROWS(double, f64)
DEFINE_ROWS(float, f32)

static void stencil_rows(int64_t lo, int64_t hi, void *ud) {
  const stencil *s = ud;
  if (s->f32) rows_f32(lo, hi, s);
  else rows_f64(lo, hi, s);
}

static int stencil_run(stencil *s) {
  return hebb_parallel_for(s->rows, s->n * KICK_COST(s->d), stencil_rows, s);
}

static void stencil_init(stencil *s, const hebb_tensor *t, double a, double m2) {
  int j;
  memset(s, 0, sizeof *s);
  s->d = t->ndim;
  s->f32 = t->dtype == HEBB_F32;
  s->n = t->shape[t->ndim - 1];
  s->rows = s->n ? hebb_numel(t) / s->n : 0;
  for (j = 0; j < t->ndim; j++) s->shape[j] = t->shape[j];
  if (s->d >= 2) s->rstride[s->d - 2] = 1;
  for (j = s->d - 3; j >= 0; j--) s->rstride[j] = s->rstride[j + 1] * t->shape[j + 1];
  s->cn = 1 / (a * a);
  s->c0 = -2.0 * s->d / (a * a) - m2;
}

/* --- checks ------------------------------------------------------------------- */

static int check_field(const hebb_tensor *t, const char *what, const char *who) {
  if (t->dtype != HEBB_F64 && t->dtype != HEBB_F32)
    return hebb_fail(HEBB_ERR_DTYPE, "%s: %s has dtype %s; a field is f64 or f32",
                     who, what, hebb_dtype_name(t->dtype));
  if (t->ndim < 1)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: %s is 0-dimensional; a field needs "
                     "at least one lattice dimension", who, what);
  if (!hebb_is_contiguous(t))
    return hebb_fail(HEBB_ERR_ARG, "%s: %s must be contiguous (a field is "
                     "updated in place; pass t:contiguous())", who, what);
  return HEBB_OK;
}

static int check_pair(const hebb_tensor *phi, const hebb_tensor *pi, const char *who) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  int status = check_field(phi, "phi", who);
  if (status == HEBB_OK) status = check_field(pi, "pi", who);
  if (status != HEBB_OK) return status;
  if (phi->ndim != pi->ndim ||
      memcmp(phi->shape, pi->shape, (size_t)phi->ndim * sizeof(int64_t)) != 0 ||
      phi->dtype != pi->dtype)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: phi (%s %s) and pi (%s %s) must have "
                     "the same shape and dtype", who, hebb_dtype_name(phi->dtype),
                     hebb_shape_str(phi->ndim, phi->shape, b1, sizeof b1),
                     hebb_dtype_name(pi->dtype),
                     hebb_shape_str(pi->ndim, pi->shape, b2, sizeof b2));
  if (hebb_same_storage(phi, pi))
    return hebb_fail(HEBB_ERR_ARG, "%s: phi and pi share memory", who);
  return HEBB_OK;
}

static int check_params(double m2, double a, const char *who) {
  if (!(a > 0) || isinf(a))
    return hebb_fail(HEBB_ERR_ARG, "%s: lattice spacing a = %g; it must be a "
                     "finite number > 0", who, a);
  if (!(m2 >= 0) || isinf(m2))
    return hebb_fail(HEBB_ERR_ARG, "%s: m^2 = %g; it must be a finite number "
                     ">= 0", who, m2);
  return HEBB_OK;
}

/* --- the Laplacian -------------------------------------------------------------- */

int hebb_lattice_laplacian(const hebb_tensor *phi, double a, hebb_tensor **out) {
  const char *who = "fields.laplacian";
  stencil s;
  hebb_tensor *src = NULL;
  int made = *out == NULL, status = HEBB_OK;
  if (phi->dtype != HEBB_F64 && phi->dtype != HEBB_F32)
    status = hebb_fail(HEBB_ERR_DTYPE, "%s: dtype %s; a field is f64 or f32", who,
                       hebb_dtype_name(phi->dtype));
  else if (phi->ndim < 1)
    status = hebb_fail(HEBB_ERR_SHAPE, "%s: a 0-dimensional tensor has no "
                       "lattice dimension", who);
  if (status == HEBB_OK) status = check_params(0, a, who);
  if (status == HEBB_OK && !(src = hebb_contiguous((hebb_tensor *)phi)))
    status = hebb_last_status();
  if (status == HEBB_OK)
    status = hebb_prepare_out(out, phi->dtype, phi->ndim, phi->shape, who);
  if (status == HEBB_OK && !hebb_is_contiguous(*out))
    status = hebb_fail(HEBB_ERR_ARG, "%s: out must be contiguous", who);
  if (status == HEBB_OK && hebb_same_storage(*out, src))
    status = hebb_fail(HEBB_ERR_ARG, "%s: out shares memory with phi", who);
  if (status == HEBB_OK) {
    stencil_init(&s, src, a, 0);
    s.k = 1;
    s.src = hebb_first(src);
    s.dst = hebb_first(*out);
    status = stencil_run(&s);
  }
  if (src) hebb_release(src);
  return hebb_ewise_end(out, made, status);
}

/* --- leapfrog --------------------------------------------------------------------- */

/* phi += dt pi; x - x is 0 for a finite x and NaN otherwise, so OR-ing
   "x - x != 0" over a block notices a blow-up (an integer reduction: it
   vectorizes, where a floating-point sum would not without -ffast-math) */
typedef struct drift_job {
  int f32;
  int64_t len;
  double dt;
  char *phi;
  const char *pi;
  int *bad;         /* one flag per block */
} drift_job;

#define DRIFT_BLOCK 4096

HEBB_CLONES
static void drift_blocks(int64_t lo, int64_t hi, void *ud) {
  const drift_job *j = ud;
  int64_t b, i;
  for (b = lo; b < hi; b++) {
    int64_t s = b * DRIFT_BLOCK, e = s + DRIFT_BLOCK < j->len ? s + DRIFT_BLOCK : j->len;
    if (j->f32) {
      float *restrict x = (float *)j->phi;
      const float *restrict v = (const float *)j->pi;
      const float dt = (float)j->dt;
      int bad = 0;
      for (i = s; i < e; i++) {
        x[i] += dt * v[i];
        bad |= x[i] - x[i] != 0;
      }
      j->bad[b] = bad;
    }
    else {
      double *restrict x = (double *)j->phi;
      const double *restrict v = (const double *)j->pi;
      const double dt = j->dt;
      int bad = 0;
      for (i = s; i < e; i++) {
        x[i] += dt * v[i];
        bad |= x[i] - x[i] != 0;
      }
      j->bad[b] = bad;
    }
  }
}

/* the drift; returns 1 when phi now holds a NaN or an infinity */
static int drift(drift_job *j, int *status) {
  int64_t nb = (j->len + DRIFT_BLOCK - 1) / DRIFT_BLOCK, b;
  *status = hebb_parallel_for(nb, DRIFT_BLOCK, drift_blocks, j);
  for (b = 0; b < nb; b++)
    if (j->bad[b] != 0) return 1;
  return 0;
}

static int leapfrog(stencil *s, drift_job *dj, int64_t nsteps, double dt,
                    int64_t *blown) {
  int64_t k;
  int status;
  s->k = dt / 2;
  if ((status = stencil_run(s)) != HEBB_OK) return status;
  for (k = 1; k <= nsteps; k++) {
    if (drift(dj, &status) && !*blown) *blown = k;
    if (status != HEBB_OK) return status;
    s->k = k == nsteps ? dt / 2 : dt;
    if ((status = stencil_run(s)) != HEBB_OK) return status;
    if (*blown) return HEBB_OK;   /* NaN from here on: stop */
  }
  return HEBB_OK;
}

int hebb_kg_leapfrog(hebb_tensor *phi, hebb_tensor *pi, double m2, double a,
                     double dt, int64_t nsteps, int64_t *blown) {
  const char *who = "fields.kg_step";
  stencil s;
  drift_job dj;
  int status = check_pair(phi, pi, who);
  *blown = 0;
  if (status == HEBB_OK) status = check_params(m2, a, who);
  if (status == HEBB_OK && (!(dt > 0) || isinf(dt)))
    status = hebb_fail(HEBB_ERR_ARG, "%s: dt = %g; it must be a finite number "
                       "> 0", who, dt);
  if (status == HEBB_OK && nsteps < 0)
    status = hebb_fail(HEBB_ERR_ARG, "%s: steps = %lld; it must be >= 0", who,
                       (long long)nsteps);
  if (status != HEBB_OK || nsteps == 0) return status;
  stencil_init(&s, phi, a, m2);
  s.acc = 1;
  s.src = hebb_first(phi);
  s.dst = hebb_first(pi);
  memset(&dj, 0, sizeof dj);
  dj.f32 = s.f32;
  dj.len = hebb_numel(phi);
  dj.dt = dt;
  dj.phi = hebb_first(phi);
  dj.pi = hebb_first(pi);
  dj.bad = malloc((size_t)((dj.len + DRIFT_BLOCK - 1) / DRIFT_BLOCK) * sizeof(int));
  if (!dj.bad) return hebb_fail(HEBB_ERR_NOMEM, "%s: out of memory", who);
  status = leapfrog(&s, &dj, nsteps, dt, blown);
  free(dj.bad);
  hebb_bump_version(phi);
  hebb_bump_version(pi);
  return status;
}

/* --- energy ----------------------------------------------------------------------- */

/* sum over sites of pi^2/2 + m^2 phi^2/2 + sum_mu (phi(x + mu) - phi(x))^2
   / (2 a^2): each bond once (forward differences), summed in site order */
#define DEFINE_ENERGY(T, SUF)                                                 \
static double energy_##SUF(const stencil *s, const T *p, const T *v,         \
                           double m2, double a) {                            \
  int64_t r, i, nb[2 * HEBB_MAXDIM], n = s->n;                               \
  double e = 0, ia2 = 1 / (a * a);                                           \
  int j, m;                                                                  \
  for (r = 0; r < s->rows; r++) {                                            \
    const T *x = p + r * n, *w = v + r * n;                                  \
    m = neighbour_rows(s, r, nb);                                            \
    for (i = 0; i < n; i++) {                                                \
      double f = x[i], g = (double)x[i == n - 1 ? 0 : i + 1] - f;            \
      double site = 0.5 * ((double)w[i] * w[i] + m2 * f * f) + 0.5 * ia2 * g * g; \
      for (j = 0; j < m; j += 2) {  /* the forward neighbour of each pair */ \
        double h = (double)p[nb[j] * n + i] - f;                             \
        site += 0.5 * ia2 * h * h;                                           \
      }                                                                      \
      e += site;                                                             \
    }                                                                        \
  }                                                                          \
  return e;                                                                  \
}

DEFINE_ENERGY(double, f64)
DEFINE_ENERGY(float, f32)

int hebb_kg_energy(const hebb_tensor *phi, const hebb_tensor *pi, double m2,
                   double a, double *result) {
  const char *who = "fields.kg_energy";
  stencil s;
  int status = check_pair(phi, pi, who);
  *result = 0;
  if (status == HEBB_OK) status = check_params(m2, a, who);
  if (status != HEBB_OK) return status;
  stencil_init(&s, phi, a, m2);
  if (s.f32) *result = energy_f32(&s, (const float *)hebb_first(phi),
                                  (const float *)hebb_first(pi), m2, a);
  else *result = energy_f64(&s, (const double *)hebb_first(phi),
                            (const double *)hebb_first(pi), m2, a);
  return HEBB_OK;
}
