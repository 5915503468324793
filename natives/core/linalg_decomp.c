/*
** linalg_decomp.c -- factorizations: cholesky (potrf), qr (geqrf/orgqr),
** eigh (syevd; heevd for complex), eig (geev) and svd (gesdd), the last
** also truncated to a rank.  cholesky, qr and svd take complex matrices
** through the same code (the c and z routines, see each for why no
** conjugation is needed).
*/
#include <string.h>

#include "linalg.h"

/* runs the job; a failure becomes its message (made by 'fail') */
static int run(la_job *j, int (*fail)(const la_job *j, const char *r),
               const char *routine) {
  int st = la_run(j);
  if (st == HEBB_OK && j->bad >= 0) st = fail(j, routine);
  la_end(j);
  return st;
}

/* --- cholesky ---------------------------------------------------------- */

/* The row-major buffer read column-major is A^T = A; potrf's upper factor
   U (A = U^T U) read back row-major is L = U^T.  The other triangle still
   holds A and is cleared.  A complex Hermitian A is seen as A^T = conj(A)
   = U^H U, so A = U^T conj(U) = L L^H with the same L = U^T: again the
   buffer as it is.  'U' reads the lower triangle of the row-major A. */
static void k_chol(const la_job *j, int64_t k, void *work, la_res *r) {
  int n = j->n, lda = la_ld(n), info = 0, i;
  size_t es = la_esize(j);
  char *a = la_mat(j, 0, k);
  (void)work;
  j->B->potrf[la_ix(j)]("U", &n, a, &lda, &info, 1);
  for (i = 0; i + 1 < n; i++)
    memset(a + ((size_t)i * n + i + 1) * es, 0, (size_t)(n - i - 1) * es);
  r->info = info;
}

static int not_posdef(const la_job *j, const char *routine) {
  char w[64], r[16];
  int info = j->res[j->bad].info;
  return hebb_fail(HEBB_ERR_ARG, "%s: %s is not positive definite (%s "
                   "info=%d: the leading minor of order %d is not positive)",
                   j->who, la_which(j, w, sizeof w), la_name(j, routine, r),
                   info, info);
}

int hebb_linalg_cholesky(const hebb_tensor *a, hebb_tensor **out) {
  const char *who = "linalg.cholesky";
  hebb_tensor *t, **outs[1];
  int dt = HEBB_F64, n, st;
  la_job j;
  outs[0] = out;
  if ((st = la_batch(a, 1, who, &dt, &n, &n, &j))) return st;
  if (!(t = la_load(a, dt, a->ndim - 2, a->shape, 0)))
    return hebb_last_status();
  j.cost = (int64_t)n * n * n / 3 + 1;
  j.fn = k_chol;
  la_input(&j, 0, t, "potrf");
  if ((st = run(&j, not_posdef, "potrf"))) return la_drop(st, 1, &t);
  return la_deliver(1, outs, &t, who);
}

/* --- qr ---------------------------------------------------------------- */

/* slot 0: A column-major (m x n, lda m); slot 1: Q (m x k); slot 2: R
   (k x n), k = min(m, n).  A is loaded transposed, so LAPACK factors A
   itself, complex or not (orgqr is ungqr for complex: Q^H Q = I). */
static void k_qr(const la_job *j, int64_t k, void *work, la_res *r) {
  int m = j->m, n = j->n, kk = j->k, lda = la_ld(m), info = 0, row, col;
  size_t es = la_esize(j);
  char *a = la_mat(j, 0, k), *tau = work, *w = tau + (size_t)(kk + 1) * es;
  char *rr = la_mat(j, 2, k);
  if (kk == 0) return;
  j->B->geqrf[la_ix(j)](&m, &n, a, &lda, tau, w, &j->lwork, &info);
  for (row = 0; row < kk; row++)
    for (col = 0; col < n; col++) {
      int64_t e = (int64_t)row * n + col;
      if (col >= row) la_copy_el(es, rr, e, a, row + (int64_t)col * m);
      else memset(rr + (size_t)e * es, 0, es);
    }
  if (info == 0)
    j->B->orgqr[la_ix(j)](&m, &kk, &kk, a, &lda, tau, w, &j->lwork, &info);
  la_cm_to_rm(la_tdtype(j), a, m, m, kk, la_mat(j, 1, k));
  r->info = info;
}

static void qr_query(la_job *j) {
  int m = j->m, n = j->n, kk = j->k, lda = la_ld(m), info = 0, mone = -1;
  int l1, l2;
  double q[2] = {0, 0}, dummy[4] = {0, 0, 0, 0};
  j->B->geqrf[la_ix(j)](&m, &n, dummy, &lda, dummy, q, &mone, &info);
  l1 = la_lwork(j->dtype, q);
  j->B->orgqr[la_ix(j)](&m, &kk, &kk, dummy, &lda, dummy, q, &mone, &info);
  l2 = la_lwork(j->dtype, q);
  j->lwork = l1 > l2 ? l1 : l2;
  j->wbytes = (size_t)(kk + 1 + j->lwork) * la_esize(j);
}

static int qr_failed(const la_job *j, const char *routine) {
  char w[64], r[16];
  return hebb_fail(HEBB_ERR_ARG, "%s: %s failed for %s (info=%d)", j->who,
                   la_name(j, routine, r), la_which(j, w, sizeof w),
                   j->res[j->bad].info);
}

int hebb_linalg_qr(const hebb_tensor *a, hebb_tensor **q, hebb_tensor **r) {
  const char *who = "linalg.qr";
  hebb_tensor *t[3] = {NULL, NULL, NULL}, **outs[2];
  int dt = HEBB_F64, m, n, kk, nb = a->ndim - 2, st;
  la_job j;
  outs[0] = q;
  outs[1] = r;
  if ((st = la_batch(a, 0, who, &dt, &m, &n, &j))) return st;
  kk = m < n ? m : n;
  j.k = kk;
  j.cost = (int64_t)4 * m * n * kk + 1;
  j.fn = k_qr;
  qr_query(&j);
  t[0] = la_load(a, dt, nb, a->shape, 1);
  t[1] = t[0] ? la_new(dt, nb, a->shape, m, kk) : NULL;
  t[2] = t[1] ? la_new(dt, nb, a->shape, kk, n) : NULL;
  if (!t[2]) return la_drop(hebb_last_status(), 3, t);
  la_input(&j, 0, t[0], "geqrf");
  la_operand(&j, 1, t[1]);
  la_operand(&j, 2, t[2]);
  st = run(&j, qr_failed, "geqrf");
  la_drop(0, 1, &t[0]);
  if (st != HEBB_OK) return la_drop(st, 3, t);
  return la_deliver(2, outs, t + 1, who);
}

/* --- eigh -------------------------------------------------------------- */

/* The buffer is A itself (symmetric); 'U' makes LAPACK read the upper
   triangle of the column-major view, which is the lower triangle of the
   row-major matrix.  Eigenvectors come back as columns, column-major. */
static void k_eigh(const la_job *j, int64_t k, void *work, la_res *r) {
  int n = j->n, lda = la_ld(n), info = 0;
  char jobz = j->opt;
  void *a = la_mat(j, 0, k);
  int *iwork = (int *)((char *)work + (size_t)j->lwork *
                       (size_t)hebb_dtype_size(j->dtype));
  j->B->syevd[j->p](&jobz, "U", &n, a, &lda, la_mat(j, 1, k), work,
                    &j->lwork, iwork, &j->liwork, &info, 1, 1);
  if (info == 0 && jobz == 'V')
    la_cm_to_rm(j->dtype, a, n, n, n, la_mat(j, 2, k));
  r->info = info;
}

static void eigh_query(la_job *j) {
  int n = j->n, lda = la_ld(n), info = 0, mone = -1, iq = 1;
  char jobz = j->opt;
  double q = 0, dummy[2] = {0, 0};
  j->B->syevd[j->p](&jobz, "U", &n, dummy, &lda, dummy, &q, &mone, &iq,
                    &mone, &info, 1, 1);
  j->lwork = la_lwork(j->dtype, &q);
  j->liwork = iq > 1 ? iq : 1;
  j->wbytes = (size_t)j->lwork * (size_t)hebb_dtype_size(j->dtype) +
              (size_t)j->liwork * sizeof(int);
}

/* negates the imaginary parts of the n complex elements at a (dtype: the
   real part's) */
static void conj_inplace(int dtype, void *a, int64_t n) {
  int64_t i;
  if (dtype == HEBB_F64)
    for (i = 0; i < n; i++) ((double *)a)[2 * i + 1] *= -1;
  else
    for (i = 0; i < n; i++) ((float *)a)[2 * i + 1] *= -1;
}

/* Complex Hermitian A: the row-major buffer read column-major is
   A^T = conj(A), also Hermitian, with the same eigenvalues and the
   conjugate eigenvectors; 'U' reads A's lower triangle as for syevd.  The
   workspace holds lwork complex, lrwork real and liwork int entries. */
static void k_heevd(const la_job *j, int64_t k, void *work, la_res *r) {
  int n = j->n, lda = la_ld(n), info = 0;
  char jobz = j->opt;
  size_t rs = (size_t)hebb_dtype_size(j->dtype);
  char *rwork = (char *)work + (size_t)j->lwork * 2 * rs;
  int *iwork = (int *)(rwork + (size_t)j->lrwork * rs);
  void *a = la_mat(j, 0, k);
  j->B->heevd[j->p](&jobz, "U", &n, a, &lda, la_mat(j, 1, k), work,
                    &j->lwork, rwork, &j->lrwork, iwork, &j->liwork, &info,
                    1, 1);
  r->info = info;
  if (info == 0 && jobz == 'V') {
    la_cm_to_rm(la_tdtype(j), a, n, n, n, la_mat(j, 2, k));
    conj_inplace(j->dtype, la_mat(j, 2, k), (int64_t)n * n);
  }
}

static void heevd_query(la_job *j) {
  int n = j->n, lda = la_ld(n), info = 0, mone = -1, iq = 1;
  char jobz = j->opt;
  double q[2] = {0, 0}, rq = 0, dummy[4] = {0, 0, 0, 0};
  size_t rs = (size_t)hebb_dtype_size(j->dtype);
  j->B->heevd[j->p](&jobz, "U", &n, dummy, &lda, dummy, q, &mone, &rq,
                    &mone, &iq, &mone, &info, 1, 1);
  j->lwork = la_lwork(j->dtype, q);
  j->lrwork = la_lwork(j->dtype, &rq);
  j->liwork = iq > 1 ? iq : 1;
  j->wbytes = (size_t)j->lwork * 2 * rs + (size_t)j->lrwork * rs +
              (size_t)j->liwork * sizeof(int);
}

int hebb_linalg_eigh(const hebb_tensor *a, hebb_tensor **w, hebb_tensor **v) {
  const char *who = "linalg.eigh";
  hebb_tensor *t[3] = {NULL, NULL, NULL}, **outs[2];
  int dt = HEBB_F64, n, nb = a->ndim - 2, st;
  la_job j;
  outs[0] = w;
  outs[1] = v;
  if ((st = la_batch(a, 1, who, &dt, &n, &n, &j))) return st;
  j.opt = v ? 'V' : 'N';
  j.cost = (int64_t)(v ? 9 : 4) * n * n * n / 3 + 1;
  j.fn = j.cplx ? k_heevd : k_eigh;
  if (j.cplx) heevd_query(&j);
  else eigh_query(&j);
  t[0] = la_load(a, dt, nb, a->shape, 0);
  /* the eigenvalues are real (j.dtype is dt's real part) */
  t[1] = t[0] ? la_new(j.dtype, nb, a->shape, n, -1) : NULL;
  t[2] = t[1] && v ? la_new(dt, nb, a->shape, n, n) : NULL;
  if (!t[1] || (v && !t[2])) return la_drop(hebb_last_status(), 3, t);
  la_input(&j, 0, t[0], j.cplx ? "heevd" : "syevd");
  la_operand(&j, 1, t[1]);
  if (v) la_operand(&j, 2, t[2]);
  st = run(&j, la_not_converged, j.cplx ? "heevd" : "syevd");
  la_drop(0, 1, &t[0]);
  if (st != HEBB_OK) return la_drop(st, 3, t);
  return la_deliver(v ? 2 : 1, outs, t + 1, who);
}

/* --- eig --------------------------------------------------------------- */

/* A is loaded transposed, so LAPACK sees A itself; its column-major right
   eigenvectors go through the workspace: lwork complex, then n*n complex
   (VR), then 2n real entries (rwork). */
static void k_geev(const la_job *j, int64_t k, void *work, la_res *r) {
  int n = j->n, lda = la_ld(n), info = 0, one = 1;
  char jobvr = j->opt;
  size_t cs = 2 * (size_t)hebb_dtype_size(j->dtype);
  char *vr = (char *)work + (size_t)j->lwork * cs;
  char *rwork = vr + (size_t)n * n * cs;
  j->B->geev[j->p]("N", &jobvr, &n, la_mat(j, 0, k), &lda, la_mat(j, 1, k),
                   NULL, &one, vr, &lda, work, &j->lwork, rwork, &info, 1, 1);
  r->info = info;
  if (info == 0 && jobvr == 'V')
    la_cm_to_rm(la_tdtype(j), vr, n, n, n, la_mat(j, 2, k));
}

static void geev_query(la_job *j) {
  int n = j->n, lda = la_ld(n), info = 0, mone = -1, one = 1;
  char jobvr = j->opt;
  double q[2] = {0, 0}, dummy[4] = {0, 0, 0, 0};
  size_t cs = 2 * (size_t)hebb_dtype_size(j->dtype);
  j->B->geev[j->p]("N", &jobvr, &n, dummy, &lda, dummy, NULL, &one, dummy,
                   &lda, q, &mone, dummy, &info, 1, 1);
  j->lwork = la_lwork(j->dtype, q);
  j->wbytes = (size_t)j->lwork * cs + (size_t)n * n * cs +
              (size_t)(2 * n + 1) * (cs / 2);
}

int hebb_linalg_eig(const hebb_tensor *a, hebb_tensor **w, hebb_tensor **v) {
  const char *who = "linalg.eig";
  hebb_tensor *t[3] = {NULL, NULL, NULL}, **outs[2];
  int dt = HEBB_F64, cdt, n, nb = a->ndim - 2, st;
  la_job j;
  outs[0] = w;
  outs[1] = v;
  if ((st = la_dtype(a, who, &dt))) return st;
  dt = la_real(dt);
  cdt = dt == HEBB_F32 ? HEBB_C64 : HEBB_C128;
  if ((st = la_matrices(a, 1, who, &n, &n)) ||
      (st = la_begin(&j, who, cdt, hebb_shape_numel(nb, a->shape))))
    return st;
  j.n = n;
  j.opt = v ? 'V' : 'N';
  j.cost = (int64_t)(v ? 25 : 10) * n * n * n / 3 + 1;
  j.fn = k_geev;
  geev_query(&j);
  t[0] = la_load(a, cdt, nb, a->shape, 1);
  t[1] = t[0] ? la_new(cdt, nb, a->shape, n, -1) : NULL;
  t[2] = t[1] && v ? la_new(cdt, nb, a->shape, n, n) : NULL;
  if (!t[1] || (v && !t[2])) return la_drop(hebb_last_status(), 3, t);
  la_input(&j, 0, t[0], "geev");
  la_operand(&j, 1, t[1]);
  if (v) la_operand(&j, 2, t[2]);
  st = run(&j, la_not_converged, "geev");
  la_drop(0, 1, &t[0]);
  if (st != HEBB_OK) return la_drop(st, 3, t);
  return la_deliver(v ? 2 : 1, outs, t + 1, who);
}

/* --- svd --------------------------------------------------------------- */

/* slot 0: A row-major (destroyed); 1: U; 2: S (real); 3: Vh */
static void k_svd(const la_job *j, int64_t k, void *work, la_res *r) {
  int m = j->m, n = j->n;
  void *u = j->opt == 'N' ? NULL : la_mat(j, 1, k);
  void *vh = j->opt == 'N' ? NULL : la_mat(j, 3, k);
  if (m == 0 || n == 0) {   /* LAPACK leaves the factors alone then */
    if (j->opt == 'A') {
      la_identity(la_tdtype(j), u, m);
      la_identity(la_tdtype(j), vh, n);
    }
    return;
  }
  r->info = la_gesdd(j, j->opt, m, n, la_mat(j, 0, k), la_mat(j, 2, k), u, vh,
                     work);
}

/* the SVD into t[1..3] (U and Vh not made for jobz 'N') */
static int svd_into(const hebb_tensor *a, char jobz, hebb_tensor **t,
                    const char *who) {
  int dt = HEBB_F64, m, n, kk, nb = a->ndim - 2, st;
  la_job j;
  if ((st = la_batch(a, 0, who, &dt, &m, &n, &j))) return st;
  kk = m < n ? m : n;
  j.opt = jobz;
  j.cost = (int64_t)(jobz == 'N' ? 4 : 14) * m * n * kk + 1;
  j.wbytes = la_gesdd_query(&j, jobz, m, n);
  j.fn = k_svd;
  t[0] = la_load_scratch(a, dt, nb, a->shape, 0);
  t[2] = t[0] ? la_new(j.dtype, nb, a->shape, kk, -1) : NULL;
  if (t[2] && jobz != 'N') {
    t[1] = la_new_padded(dt, nb, a->shape, m, jobz == 'A' ? m : kk);
    t[3] = t[1] ? la_new_padded(dt, nb, a->shape, jobz == 'A' ? n : kk, n)
                : NULL;
  }
  if (!t[2] || (jobz != 'N' && !t[3])) return la_drop(hebb_last_status(), 4, t);
  la_input(&j, 0, t[0], "gesdd");
  for (st = 1; st < 4; st++)
    if (t[st]) la_operand(&j, st, t[st]);
  st = run(&j, la_not_converged, "gesdd");
  la_drop(0, 1, &t[0]);
  return st != HEBB_OK ? la_drop(st, 4, t) : HEBB_OK;
}

int hebb_linalg_svd(const hebb_tensor *a, bool full, hebb_tensor **u,
                    hebb_tensor **s, hebb_tensor **vh) {
  const char *who = "linalg.svd";
  hebb_tensor *t[4] = {NULL, NULL, NULL, NULL}, **outs[3];
  int st;
  char jobz = !u && !vh ? 'N' : full ? 'A' : 'S';
  outs[0] = u;
  outs[1] = s;
  outs[2] = vh;
  if ((st = svd_into(a, jobz, t, who))) return st;
  return la_deliver(3, outs, t + 1, who);
}

/* sum of the squares of s[from..kk) for every matrix, smallest first */
static void discarded_weight(const hebb_tensor *s, int64_t count, int kk,
                             int64_t from, hebb_tensor *d) {
  const char *p = hebb_first(s);
  int64_t b, i;
  for (b = 0; b < count; b++) {
    double acc = 0;
    for (i = kk - 1; i >= from; i--) {
      double v = la_get(s->dtype, p, b * kk + i);
      acc += v * v;
    }
    la_put(d->dtype, d->data, b, acc);
  }
}

/* contiguous copy of t narrowed along dim to [0, len) */
static hebb_tensor *head(hebb_tensor *t, int dim, int64_t len) {
  hebb_tensor *v = hebb_narrow(t, dim, 0, len), *c;
  if (!v) return NULL;
  c = hebb_clone(v);
  hebb_release(v);
  return c;
}

int hebb_linalg_svd_rank(const hebb_tensor *a, int64_t rank, hebb_tensor **u,
                         hebb_tensor **s, hebb_tensor **vh,
                         hebb_tensor **discarded) {
  const char *who = "linalg.svd";
  hebb_tensor *t[4] = {NULL, NULL, NULL, NULL};
  hebb_tensor *r[4] = {NULL, NULL, NULL, NULL};
  hebb_tensor **outs[4];
  int nb = a->ndim - 2, st, kk;
  int64_t chi;
  outs[0] = u;
  outs[1] = s;
  outs[2] = vh;
  outs[3] = discarded;
  if (rank < 1)
    return hebb_fail(HEBB_ERR_ARG, "%s: rank must be at least 1, got %lld",
                     who, (long long)rank);
  if ((st = svd_into(a, 'S', t, who))) return st;
  kk = (int)t[2]->shape[nb];
  chi = rank < kk ? rank : kk;
  r[0] = head(t[1], nb + 1, chi);
  r[1] = r[0] ? head(t[2], nb, chi) : NULL;
  r[2] = r[1] ? head(t[3], nb, chi) : NULL;
  r[3] = r[2] ? la_new(t[2]->dtype, nb, a->shape, -1, -1) : NULL;
  if (r[3])
    discarded_weight(t[2], hebb_shape_numel(nb, a->shape), kk, chi, r[3]);
  st = r[3] ? HEBB_OK : hebb_last_status();
  la_drop(0, 4, t);
  if (st != HEBB_OK) return la_drop(st, 4, r);
  return la_deliver(4, outs, r, who);
}
