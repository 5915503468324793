/*
** linalg_func.c -- functions of matrices: expm, matrix_power, powm_psd
** (and so sqrtm_psd), pinv, norm and cond, for real and complex matrices
** (powm_psd: complex Hermitian).  Complex elements are pairs of reals, so
** elementwise loops run over ne = 2 reals per element where the real
** code has one.
*/
#include <complex.h>
#include <math.h>
#include <string.h>

#include "linalg.h"

/* Runs j (operands t[0], the copy of the input, and t[1], the result),
   then delivers t[1] into out, converted to dtype 'dt'. */
static int finish(la_job *j, hebb_tensor **t, int dt, const char *who,
                  int (*fail)(const la_job *j), hebb_tensor **out) {
  hebb_tensor **outs[1];
  int st = la_run(j);
  outs[0] = out;
  if (st == HEBB_OK && j->bad >= 0) st = fail(j);
  la_end(j);
  la_drop(0, 1, &t[0]);
  if (st != HEBB_OK) return la_drop(st, 1, &t[1]);
  if (t[1]->dtype != dt) {   /* computed in f64 */
    hebb_tensor *c = hebb_astype(t[1], dt);
    la_drop(0, 1, &t[1]);
    if (!(t[1] = c)) return hebb_last_status();
  }
  return la_deliver(1, outs, &t[1], who);
}

/* loads a row-major copy of a into t[0] (in dtype dt), which LAPACK's
   'routine' reads (NULL: no LAPACK routine does), and makes the result
   t[1] (batch + {r, c}, in rdt) */
static int operands(la_job *j, const hebb_tensor *a, int dt, int rdt,
                    int64_t r, int64_t c, const char *routine,
                    hebb_tensor **t) {
  int nb = a->ndim - 2;
  t[0] = la_load_scratch(a, dt, nb, a->shape, 0);
  t[1] = t[0] ? la_new(rdt, nb, a->shape, r, c) : NULL;
  if (!t[1]) return la_drop(hebb_last_status(), 2, t);
  if (routine) la_input(j, 0, t[0], routine);
  else la_operand(j, 0, t[0]);
  la_operand(j, 1, t[1]);
  return HEBB_OK;
}

static void mul(const la_job *j, int n, const void *x, const void *y,
                void *out) {
  la_gemm(j, 0, 0, n, n, n, x, n, y, n, out, n);
}

/* --- expm -------------------------------------------------------------- */

/* Scaling and squaring with Pade approximants r_m = q_m(A)^-1 p_m(A)
   (Higham, SIAM J. Matrix Anal. Appl. 26 (2005) 1179, Algorithm 2.3): the
   lowest degree m in {3, 5, 7, 9, 13} whose theta_m bounds the 1-norm
   keeps the backward error below the unit roundoff of double; above
   theta_13 the matrix is scaled by 2^-s first and the result squared s
   times.  f32 matrices are computed in double, c64 ones in c128: the
   approximants have real coefficients, so complex matrices go through
   the same steps with complex products and solves. */
static const double theta[5] = {
  1.495585217958292e-2, 2.539398330063230e-1, 9.504178996162932e-1,
  2.097847961257068e0, 5.371920351148152e0
};
static const double pade3[] = {120, 60, 12, 1};
static const double pade5[] = {30240, 15120, 3360, 420, 30, 1};
static const double pade7[] = {17297280, 8648640, 1995840, 277200, 25200,
                               1512, 56, 1};
static const double pade9[] = {17643225600., 8821612800., 2075673600.,
                               302702400, 30270240, 2162160, 110880, 3960,
                               90, 1};
static const double pade13[] = {64764752532480000., 32382376266240000.,
                                7771770303897600., 1187353796428800.,
                                129060195264000., 10559470521600.,
                                670442572800., 33522128640., 1323241920.,
                                40840800, 960960, 16380, 182, 1};
static const double *const pade[5] = {pade3, pade5, pade7, pade9, pade13};

/* |element e| of a matrix of ne reals per element */
static double absel(const double *a, int ne, int64_t e) {
  return ne == 1 ? fabs(a[e]) : hypot(a[2 * e], a[2 * e + 1]);
}

static double norm1(const double *a, int n, int ne) {
  double best = 0;
  int r, c;
  for (c = 0; c < n; c++) {
    double s = 0;
    for (r = 0; r < n; r++) s += absel(a, ne, (int64_t)r * n + c);
    if (!(s <= best)) best = s;   /* NaN wins */
  }
  return best;
}

/* out = c0 I + sum_i c[i] m[i]: real coefficients, so complex matrices
   are combined real by real (the identity in the real parts) */
static void comb(double *out, int n, int ne, double c0, const double *c,
                 double *const *m, int cnt) {
  int64_t nr = (int64_t)n * n * ne, e;
  int i;
  memset(out, 0, (size_t)nr * sizeof *out);
  for (e = 0; e < nr; e += (int64_t)(n + 1) * ne) out[e] = c0;
  for (i = 0; i < cnt; i++) {
    const double *x = m[i], ci = c[i];
    for (e = 0; e < nr; e++) out[e] += ci * x[e];
  }
}

/* U (odd part, times A) and V (even part) of the degree-m approximant;
   pw[1..] hold A^2, A^4, ...; t is scratch */
static void pade_uv(const la_job *j, int d, const double *a, double **pw,
                    double *u, double *v, double *t) {
  const double *b = pade[d];
  int n = j->n, ne = la_ne(j), h, i;
  int64_t nr = (int64_t)n * n * ne, e;
  double c[4];
  if (d < 4) {
    h = d + 1;   /* m = 2h + 1 */
    for (i = 0; i < h; i++) c[i] = b[2 * i + 3];
    comb(t, n, ne, b[1], c, pw + 1, h);
    for (i = 0; i < h; i++) c[i] = b[2 * i + 2];
    comb(v, n, ne, b[0], c, pw + 1, h);
    mul(j, n, a, t, u);
    return;
  }
  /* m = 13, Higham's (2.5) and (2.6): A^6 (b13 A^6 + b11 A^4 + b9 A^2) +
     ... with pw[1..3] = A^2, A^4, A^6 */
  c[0] = b[9], c[1] = b[11], c[2] = b[13];
  comb(t, n, ne, 0, c, pw + 1, 3);
  mul(j, n, pw[3], t, v);
  c[0] = b[3], c[1] = b[5], c[2] = b[7];
  comb(t, n, ne, b[1], c, pw + 1, 3);
  for (e = 0; e < nr; e++) t[e] += v[e];
  mul(j, n, a, t, u);
  c[0] = b[8], c[1] = b[10], c[2] = b[12];
  comb(t, n, ne, 0, c, pw + 1, 3);
  mul(j, n, pw[3], t, v);
  c[0] = b[2], c[1] = b[4], c[2] = b[6];
  comb(t, n, ne, b[0], c, pw + 1, 3);
  for (e = 0; e < nr; e++) v[e] += t[e];
}

static void k_expm(const la_job *j, int64_t k, void *work, la_res *r) {
  int n = j->n, lda = la_ld(n), info = 0, s = 0, d, i, npw;
  int64_t nr = (int64_t)n * n * la_ne(j), e;   /* reals per matrix */
  double *a = la_mat(j, 0, k), *w = work, *pw[5], *u, *v, *t, *x, nrm;
  int *ipiv = (int *)(w + 7 * nr);
  if (n == 0) return;
  for (i = 1; i < 5; i++) pw[i] = w + (i - 1) * nr;
  u = w + 4 * nr, v = w + 5 * nr, t = w + 6 * nr;
  nrm = norm1(a, n, la_ne(j));
  if (!isfinite(nrm)) {   /* nothing sensible to scale: NaN throughout */
    for (e = 0; e < nr; e++) a[e] = NAN;
    return;
  }
  for (d = 0; d < 4 && nrm > theta[d]; d++) {}
  if (d == 4 && nrm > theta[4]) {
    s = (int)ceil(log2(nrm / theta[4]));
    for (e = 0; e < nr; e++) a[e] = ldexp(a[e], -s);
  }
  npw = d < 4 ? d + 1 : 3;
  mul(j, n, a, a, pw[1]);
  for (i = 2; i <= npw; i++) mul(j, n, pw[i - 1], pw[1], pw[i]);
  pade_uv(j, d, a, pw, u, v, t);
  for (e = 0; e < nr; e++) {   /* v <- q = V - U, u <- p = V + U */
    double x = v[e], y = u[e];
    v[e] = x - y;
    u[e] = x + y;
  }
  /* p and q are polynomials in A, so they commute: X = q^-1 p = p q^-1,
     and getrs on the row-major buffers (q^T, p^T column-major; plain
     transposes for complex too) solves q^T X^T = p^T, leaving X row-major
     in u */
  j->B->getrf[la_ix(j)](&n, &n, v, &lda, ipiv, &info);
  if (info == 0)
    j->B->getrs[la_ix(j)]("N", &n, &n, v, &lda, ipiv, u, &lda, &info, 1);
  for (i = 0; i < s; i++) {
    mul(j, n, u, u, t);
    x = u, u = t, t = x;
  }
  memcpy(a, u, (size_t)nr * sizeof *a);
  r->info = info;
}

int hebb_linalg_expm(const hebb_tensor *a, hebb_tensor **out) {
  const char *who = "linalg.expm";
  hebb_tensor *t[2] = {NULL, NULL};
  int dt = HEBB_F64, n, st;
  la_job j;
  if ((st = la_batch(a, 1, who, &dt, &n, &n, &j))) return st;
  j.dtype = HEBB_F64;   /* computed in double whatever the input */
  j.p = 1;
  j.cost = (int64_t)12 * n * n * n + 1;
  j.wbytes = ((size_t)7 * n * n * la_ne(&j) + 1) * sizeof(double) +
             (size_t)(n + 1) * sizeof(int);
  j.fn = k_expm;
  if (!(t[0] = la_load(a, la_tdtype(&j), a->ndim - 2, a->shape, 0)))
    return hebb_last_status();
  la_input(&j, 0, t[0], "getrf");
  t[1] = t[0];   /* the result replaces the copy of A */
  hebb_retain(t[1]);
  return finish(&j, t, dt, who, la_singular, out);
}

/* --- matrix_power ------------------------------------------------------ */

static void k_power(const la_job *j, int64_t k, void *work, la_res *r) {
  int n = j->n, lda = la_ld(n), info = 0, have = 0;
  int64_t nn = (int64_t)n * n, e = j->iparam < 0 ? -j->iparam : j->iparam;
  size_t es = la_esize(j), bytes = (size_t)nn * es;
  char *a = la_mat(j, 0, k), *res = work, *p = res + bytes, *t = p + bytes;
  char *gw = t + bytes, *x;
  int *ipiv = (int *)(gw + (size_t)j->lwork * es);
  if (j->iparam < 0) {   /* inv(A^T) read row-major is inv(A) */
    j->B->getrf[la_ix(j)](&n, &n, a, &lda, ipiv, &info);
    if (info == 0)
      j->B->getri[la_ix(j)](&n, a, &lda, ipiv, gw, &j->lwork, &info);
    if ((r->info = info)) return;
  }
  if (e == 0) {
    la_identity(la_tdtype(j), la_mat(j, 1, k), n);
    return;
  }
  memcpy(p, a, bytes);
  for (;;) {   /* binary powering: res = A^(bits of e seen so far) */
    if (e & 1) {
      if (!have) memcpy(res, p, bytes), have = 1;
      else mul(j, n, res, p, t), x = res, res = t, t = x;
    }
    if (!(e >>= 1)) break;
    mul(j, n, p, p, t);
    x = p, p = t, t = x;
  }
  memcpy(la_mat(j, 1, k), res, bytes);
}

int hebb_linalg_matrix_power(const hebb_tensor *a, int64_t power,
                             hebb_tensor **out) {
  const char *who = "linalg.matrix_power";
  hebb_tensor *t[2] = {NULL, NULL};
  int dt = HEBB_F64, n, lda, info = 0, mone = -1, ipiv = 0, st, bits = 0;
  double q[2] = {0, 0}, dummy[2] = {0, 0};
  int64_t e = power < 0 ? -power : power;
  la_job j;
  if (power == INT64_MIN)
    return hebb_fail(HEBB_ERR_ARG, "%s: power %lld is out of range", who,
                     (long long)power);
  if ((st = la_batch(a, 1, who, &dt, &n, &n, &j))) return st;
  lda = la_ld(n);
  j.B->getri[la_ix(&j)](&n, dummy, &lda, &ipiv, q, &mone, &info);
  j.lwork = la_lwork(j.dtype, q);
  while (e >> bits) bits++;
  j.iparam = power;
  j.cost = (int64_t)2 * (bits + 2) * n * n * n + 1;
  j.wbytes = ((size_t)3 * n * n + (size_t)j.lwork) * la_esize(&j) +
             (size_t)(n + 1) * sizeof(int);
  j.fn = k_power;   /* only a negative power reaches LAPACK */
  if ((st = operands(&j, a, dt, dt, n, n, power < 0 ? "getrf" : NULL, t)))
    return st;
  return finish(&j, t, dt, who, la_singular, out);
}

/* --- powm_psd ---------------------------------------------------------- */

enum { NOT_PSD = 1, SINGULAR_PSD = 2 };   /* la_res.what */

/* A^p = V diag(w^p) V^T = G^T G with G = diag(w^(p/2)) V^T: syevd leaves
   the eigenvectors as the rows of the row-major buffer, so G is that
   buffer with row i scaled.  A complex Hermitian A is seen as A^T =
   conj(A) = W diag(w) W^H; the buffer read row-major is B = W^T, so A =
   conj(W) diag(w) W^T = B^H diag(w) B and A^p = G^H G with G the same
   scaled buffer.  Eigenvalues within tol = n eps max|w| of zero are
   rounding noise and count as 0 (the square root would turn noise of
   1e-16 into 1e-8); lower ones are an error, and so is a zero eigenvalue
   under a negative power.  The workspace: n + 1 reals (w), lwork
   elements, lrwork reals (complex), liwork ints. */
static void k_powm(const la_job *j, int64_t k, void *work, la_res *r) {
  int n = j->n, lda = la_ld(n), info = 0, i, c, ne = la_ne(j);
  size_t rs = (size_t)hebb_dtype_size(j->dtype);
  char *a = la_mat(j, 0, k), *o = la_mat(j, 1, k), *w = work;
  char *lw = w + (size_t)(n + 1) * rs;
  char *rw = lw + (size_t)j->lwork * la_esize(j);
  int *iwork = (int *)(rw + (size_t)j->lrwork * rs);
  double wmax = 0, tol;
  if (j->cplx)
    j->B->heevd[j->p]("V", "U", &n, a, &lda, w, lw, &j->lwork, rw,
                      &j->lrwork, iwork, &j->liwork, &info, 1, 1);
  else
    j->B->syevd[j->p]("V", "U", &n, a, &lda, w, lw, &j->lwork, iwork,
                      &j->liwork, &info, 1, 1);
  if ((r->info = info)) return;
  for (i = 0; i < n; i++)
    wmax = fmax(wmax, fabs(la_get(j->dtype, w, i)));
  tol = n * la_eps(j->dtype) * wmax;
  for (i = 0; i < n; i++) {
    double wi = la_get(j->dtype, w, i), g;
    if (wi < -tol || (wi <= tol && j->param < 0)) {
      r->info = i + 1;
      r->what = wi < -tol ? NOT_PSD : SINGULAR_PSD;
      r->val = wi;
      return;
    }
    g = wi <= tol ? (j->param == 0 ? 1.0 : 0.0) : pow(wi, j->param / 2);
    for (c = 0; c < n * ne; c++) {   /* row i, real by real */
      int64_t e = (int64_t)i * n * ne + c;
      la_put(j->dtype, a, e, g * la_get(j->dtype, a, e));
    }
  }
  la_gemm(j, 2, 0, n, n, n, a, n, a, n, o, n);
  for (i = 0; i < n; i++)   /* exactly symmetric (Hermitian) */
    for (c = i; c < n; c++) {
      int64_t e1 = (int64_t)i * n + c, e2 = (int64_t)c * n + i;
      if (j->cplx) {
        double _Complex m = 0.5 * (la_getz(j->dtype, o, e1) +
                                   conj(la_getz(j->dtype, o, e2)));
        if (c == i) m = creal(m);
        la_putz(j->dtype, o, e1, m);
        la_putz(j->dtype, o, e2, conj(m));
      }
      else if (c > i) {
        double m = 0.5 * (la_get(j->dtype, o, e1) + la_get(j->dtype, o, e2));
        la_put(j->dtype, o, e1, m);
        la_put(j->dtype, o, e2, m);
      }
    }
}

static int powm_failed(const la_job *j) {
  char w[64];
  const la_res *res = &j->res[j->bad];
  if (res->what == NOT_PSD)
    return hebb_fail(HEBB_ERR_ARG, "%s: %s is not positive semidefinite "
                     "(eigenvalue %d is %.17g)", j->who,
                     la_which(j, w, sizeof w), res->info, res->val);
  if (res->what == SINGULAR_PSD)
    return hebb_fail(HEBB_ERR_ARG, "%s: %s is singular (eigenvalue %d is %g) "
                     "and the power %g is negative", j->who,
                     la_which(j, w, sizeof w), res->info, res->val, j->param);
  return la_not_converged(j, j->cplx ? "heevd" : "syevd");
}

int hebb_linalg_powm_psd(const hebb_tensor *a, double p, hebb_tensor **out) {
  const char *who = "linalg.powm_psd";
  hebb_tensor *t[2] = {NULL, NULL};
  int dt = HEBB_F64, n, lda, info = 0, mone = -1, iq = 1, st;
  double q[2] = {0, 0}, rq = 0, dummy[4] = {0, 0, 0, 0};
  size_t rs;
  la_job j;
  if (!isfinite(p))
    return hebb_fail(HEBB_ERR_ARG, "%s: the power must be finite, got %g",
                     who, p);
  if ((st = la_batch(a, 1, who, &dt, &n, &n, &j))) return st;
  lda = la_ld(n);
  if (j.cplx) {
    j.B->heevd[j.p]("V", "U", &n, dummy, &lda, dummy, q, &mone, &rq, &mone,
                    &iq, &mone, &info, 1, 1);
    j.lrwork = la_lwork(j.dtype, &rq);
  }
  else
    j.B->syevd[j.p]("V", "U", &n, dummy, &lda, dummy, q, &mone, &iq, &mone,
                    &info, 1, 1);
  j.lwork = la_lwork(j.dtype, q);
  j.liwork = iq > 1 ? iq : 1;
  j.param = p;
  j.cost = (int64_t)5 * n * n * n + 1;
  rs = (size_t)hebb_dtype_size(j.dtype);
  j.wbytes = (size_t)(n + 1) * rs + (size_t)j.lwork * la_esize(&j) +
             (size_t)j.lrwork * rs + (size_t)j.liwork * sizeof(int);
  j.fn = k_powm;
  if ((st = operands(&j, a, dt, dt, n, n, j.cplx ? "heevd" : "syevd", t)))
    return st;
  return finish(&j, t, dt, who, powm_failed, out);
}

/* --- pinv, norm, cond: through the singular values --------------------- */

static int svd_failed(const la_job *j) {
  return la_not_converged(j, "gesdd");
}

/* pinv(A) = V diag(1/s) U^H over the s above rcond * s_max, computed as
   (diag(1/s) Vh)^H U^H (^T for real matrices); the workspace holds s (kk
   reals), U and Vh, then gesdd's */
static void k_pinv(const la_job *j, int64_t k, void *work, la_res *r) {
  int m = j->m, n = j->n, kk = m < n ? m : n, i, c, ne = la_ne(j);
  size_t es = la_esize(j), rs = (size_t)hebb_dtype_size(j->dtype);
  char *s = work, *u = s + (size_t)kk * rs, *vh = u + (size_t)m * kk * es;
  char *gw = vh + (size_t)kk * n * es, *o = la_mat(j, 1, k);
  double cut;
  if (kk == 0) {
    memset(o, 0, (size_t)m * n * es);
    return;
  }
  if ((r->info = la_gesdd(j, 'S', m, n, la_mat(j, 0, k), s, u, vh, gw)))
    return;
  cut = j->param * la_get(j->dtype, s, 0);
  for (i = 0; i < kk; i++) {
    double si = la_get(j->dtype, s, i), f = si > cut ? 1 / si : 0;
    for (c = 0; c < n * ne; c++) {   /* row i, real by real */
      int64_t e = (int64_t)i * n * ne + c;
      la_put(j->dtype, vh, e, f * la_get(j->dtype, vh, e));
    }
  }
  la_gemm(j, 2, 2, n, m, kk, vh, n, u, kk, o, m);
}

int hebb_linalg_pinv(const hebb_tensor *a, double rcond, hebb_tensor **out) {
  const char *who = "linalg.pinv";
  hebb_tensor *t[2] = {NULL, NULL};
  int dt = HEBB_F64, m, n, kk, st;
  la_job j;
  if ((st = la_batch(a, 0, who, &dt, &m, &n, &j))) return st;
  kk = m < n ? m : n;
  j.param = rcond >= 0 ? rcond : la_eps(dt) * (m > n ? m : n);
  j.cost = (int64_t)16 * m * n * kk + 1;
  j.wbytes = la_gesdd_query(&j, 'S', m, n) +
             (size_t)kk * (size_t)hebb_dtype_size(j.dtype) +
             (size_t)kk * (size_t)(m + n) * la_esize(&j);
  j.fn = k_pinv;
  if ((st = operands(&j, a, dt, dt, n, m, "gesdd", t))) return st;
  return finish(&j, t, dt, who, svd_failed, out);
}

/* the kinds of norm (j->opt) */
static const struct { const char *name; char opt; } ords[] = {
  {"fro", 'f'}, {"nuc", 'n'}, {"2", '2'}, {"-2", 'm'}, {"1", '1'},
  {"-1", 'o'}, {"inf", 'i'}, {"-inf", 'j'}, {NULL, 0}
};

/* Frobenius norm, scaled by the largest element so squares never
   overflow; nn reals (a complex matrix's Frobenius norm is that of its
   real and imaginary parts together) */
static double frobenius(int dtype, const void *a, int64_t nn) {
  double big = 0, acc = 0;
  int64_t e;
  for (e = 0; e < nn; e++) {
    double x = fabs(la_get(dtype, a, e));
    if (!(x <= big)) big = x;
  }
  if (big == 0 || !isfinite(big)) return big;
  for (e = 0; e < nn; e++) {
    double x = la_get(dtype, a, e) / big;
    acc += x * x;
  }
  return big * sqrt(acc);
}

/* |element e| of a real or complex (ne 2) matrix in dtype */
static double abs_el(int dtype, int ne, const void *a, int64_t e) {
  if (ne == 1) return fabs(la_get(dtype, a, e));
  return hypot(la_get(dtype, a, 2 * e), la_get(dtype, a, 2 * e + 1));
}

/* the largest ('1', 'i') or smallest ('o', 'j') absolute column ('1',
   'o') or row sum */
static double abs_sums(int dtype, int ne, const void *a, int m, int n,
                       char opt) {
  int cols = opt == '1' || opt == 'o';
  int outer = cols ? n : m, inner = cols ? m : n;
  int big = opt == '1' || opt == 'i', i, q;
  double best = outer > 0 ? (big ? 0 : HUGE_VAL) : 0;
  for (i = 0; i < outer; i++) {
    double s = 0;
    for (q = 0; q < inner; q++)
      s += abs_el(dtype, ne, a, cols ? (int64_t)q * n + i :
                                       (int64_t)i * n + q);
    if (big ? !(s <= best) : s < best) best = s;
  }
  return best;
}

/* one number per matrix: a norm (opt as in ords) or the condition number
   ('c') */
static void k_norm(const la_job *j, int64_t k, void *work, la_res *r) {
  int m = j->m, n = j->n, kk = m < n ? m : n, i;
  size_t rs = (size_t)hebb_dtype_size(j->dtype);
  char *a = la_mat(j, 0, k), *s = work, *gw = s + (size_t)(kk + 1) * rs;
  double v = 0;
  switch (j->opt) {
    case 'f': v = frobenius(j->dtype, a, (int64_t)m * n * la_ne(j)); break;
    case '1': case 'o': case 'i': case 'j':
      v = abs_sums(j->dtype, la_ne(j), a, m, n, j->opt);
      break;
    default:
      if (kk == 0) v = j->opt == 'c' ? NAN : 0;
      else if ((r->info = la_gesdd(j, 'N', m, n, a, s, NULL, NULL, gw)))
        return;
      else if (j->opt == 'n')
        for (i = kk - 1; i >= 0; i--) v += la_get(j->dtype, s, i);
      else if (j->opt == '2') v = la_get(j->dtype, s, 0);
      else if (j->opt == 'm') v = la_get(j->dtype, s, kk - 1);
      else v = la_get(j->dtype, s, 0) / la_get(j->dtype, s, kk - 1);
  }
  la_put(j->dtype, la_mat(j, 1, k), 0, v);
}

static int norm_common(const hebb_tensor *a, char opt, const char *who,
                       hebb_tensor **out) {
  hebb_tensor *t[2] = {NULL, NULL};
  int dt = HEBB_F64, m, n, kk, st;
  la_job j;
  if ((st = la_batch(a, 0, who, &dt, &m, &n, &j))) return st;
  kk = m < n ? m : n;
  j.opt = opt;
  j.cost = (int64_t)4 * m * n * kk + 1;
  j.wbytes = (size_t)(kk + 1) * (size_t)hebb_dtype_size(j.dtype) +
             (strchr("n2mc", opt) ? la_gesdd_query(&j, 'N', m, n) : 0);
  j.fn = k_norm;   /* the norm of a complex matrix is real */
  if ((st = operands(&j, a, dt, j.dtype, -1, -1,
                     strchr("n2mc", opt) ? "gesdd" : NULL, t)))
    return st;
  return finish(&j, t, j.dtype, who, svd_failed, out);
}

int hebb_linalg_norm(const hebb_tensor *a, const char *ord,
                     hebb_tensor **out) {
  int i;
  for (i = 0; ords[i].name; i++)
    if (strcmp(ords[i].name, ord) == 0)
      return norm_common(a, ords[i].opt, "linalg.norm", out);
  return hebb_fail(HEBB_ERR_ARG, "linalg.norm: unknown order '%s' (expected "
                   "fro, nuc, 2, -2, 1, -1, inf or -inf)", ord);
}

int hebb_linalg_cond(const hebb_tensor *a, hebb_tensor **out) {
  return norm_common(a, 'c', "linalg.cond", out);
}
