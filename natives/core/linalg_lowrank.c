/*
** linalg_lowrank.c -- the truncated SVD, linalg.svd(A, {rank = k}),
** without the full decomposition.
**
** The full SVD of an m x n matrix costs ~14 m n min(m, n) flops whatever
** rank is wanted: tensor RG at chi = 32 keeps 32 of 1024 singular values
** and spent 14 s in gesdd.  Here the k largest singular triplets come from
** randomized subspace iteration with Rayleigh-Ritz (Halko, Martinsson &
** Tropp, SIAM Review 53 (2011) 217, algorithms 4.4 and 5.1): a block of
** l = k + p random vectors is multiplied by A and A^T until it spans the
** top singular subspace; each pass costs ~4 m n l flops.
**
** It is exact to a tolerance, not approximate: after every pass the Ritz
** triplets (u_i, s_i, v_i) satisfy A^T u_i = s_i v_i by construction, and
** the residual |A v_i - s_i u_i| is measured; the iteration stops when it
** is at most tol s_1 for every i <= k (tol 1e-12 for f64: the singular
** values then agree with gesdd's to ~1e-16).  A spectrum that decays slowly
** past k (a random matrix) converges slowly: after a budget of passes worth
** half a full SVD's flops the batch falls back to gesdd, so the worst case
** costs ~1.5 full SVDs.  Tensor RG's spectra need 1-7 passes at l = 2k (measured
** on Levin-Nave TRG at T_c, chi 8 to 24).  With a fixed number of power
** iterations (method "randomized") there is no test and no fallback: the
** fast approximation of Halko et al., judged by its discarded weight.
**
** The random start is uniform in [-1, 1) from Philox keyed by (a fixed
** seed, the matrix's place in the batch): the same bits at any thread
** count, and independent of the user's generator.
*/
#include <math.h>
#include <stdint.h>

#include "linalg.h"

enum { LR_SEED = 0x5eed5eed, LR_MINP = 10 };
enum { LR_NOTCONV = 1, LR_QR = 2, LR_GESDD = 3 };   /* la_res.what */

/* the blocks of one matrix's workspace (after LAPACK's), in elements */
enum { Q_T, B_T, U_B, V_BH, S_V, W_T, U_T, TAU, NBLK };

typedef struct lr_plan {
  int m, n, k, l;          /* rows, columns, rank, block size */
  int64_t at[NBLK];        /* offsets */
  int64_t total;
} lr_plan;

/* the block size: k plus max(k, 10) oversampling (a pass shrinks the
   error like (s_{l+1}/s_k)^2, which l = 2k makes small for TRG) */
static int block_size(int k, int kmin) {
  int p = k > LR_MINP ? k : LR_MINP;
  return k + p < kmin ? k + p : kmin;
}

/* passes allowed before falling back: half of gesdd's 14 m n kmin flops
   at 4 m n l per pass (a pass is all GEMM, gesdd half matrix-vector
   work: in time the budget is less than half) */
static int budget(int kmin, int l) {
  int b = (int)(14.0 * kmin / (8.0 * l));
  return b > 3 ? b : 3;
}

static void plan(lr_plan *p, const la_job *j) {
  int64_t size[NBLK], off = 0;
  int i, l;
  p->m = j->m;
  p->n = j->n;
  p->k = j->k;
  p->l = l = block_size(j->k, j->m < j->n ? j->m : j->n);
  size[Q_T] = size[W_T] = size[U_T] = (int64_t)l * p->m;
  size[B_T] = size[V_BH] = (int64_t)l * p->n;
  size[U_B] = (int64_t)l * l;
  size[S_V] = size[TAU] = l;
  for (i = 0; i < NBLK; i++) {   /* whole 64-byte lines: blocks aligned */
    p->at[i] = off;
    off += (size[i] + 15) / 16 * 16;
  }
  p->total = off;
}

typedef struct lr_ctx {
  const la_job *j;
  lr_plan pl;
  char *lap;               /* LAPACK's workspace */
  char *b[NBLK];
} lr_ctx;

/* LAPACK's part of the workspace, rounded to whole 64-byte lines */
static size_t lapack_part(const la_job *j, int l) {
  size_t b = (size_t)j->lwork * la_esize(j) + 8 * (size_t)l * sizeof(int);
  return (b + 63) / 64 * 64;
}

static void ctx_init(lr_ctx *c, const la_job *j, void *work) {
  size_t es = la_esize(j), lapbytes;
  int i;
  c->j = j;
  plan(&c->pl, j);
  lapbytes = lapack_part(j, c->pl.l);
  c->lap = work;
  for (i = 0; i < NBLK; i++)
    c->b[i] = (char *)work + lapbytes + (size_t)c->pl.at[i] * es;
}

/* uniform [-1, 1) entries for the l x n start block, keyed by matrix */
static void start_block(const lr_ctx *c, int64_t mat) {
  int64_t n = (int64_t)c->pl.l * c->pl.n, i, e;
  uint64_t w[64];
  for (i = 0; i < n; i += 64) {
    int64_t cnt = n - i < 64 ? n - i : 64;
    hebb_philox_words(LR_SEED, (uint64_t)mat, (uint64_t)i, cnt, w);
    for (e = 0; e < cnt; e++)
      la_put(c->j->dtype, c->b[B_T], i + e,
             (double)(w[e] >> 11) * 0x1p-52 - 1.0);
  }
}

/* orthonormalizes the rows of the l x m row-major block qt (for LAPACK
   the columns of an m x l matrix) in place; LAPACK's info */
static int orth(const lr_ctx *c, void *qt) {
  const la_job *j = c->j;
  int m = c->pl.m, l = c->pl.l, info = 0;
  j->B->geqrf[j->p](&m, &l, qt, &m, c->b[TAU], c->lap, &j->lwork, &info);
  if (info == 0)
    j->B->orgqr[j->p](&m, &l, &l, qt, &m, c->b[TAU], c->lap, &j->lwork,
                      &info);
  return info;
}

/* One Rayleigh-Ritz pass from the orthonormal rows Qt: B = Q^T A = Ub S
   Vh, then Wt = Vh A^T (rows: A v_i) and Ut = Ub^T Qt (rows: u_i).
   gesdd's info. */
static int pass(const lr_ctx *c, const void *a) {
  const la_job *j = c->j;
  int m = c->pl.m, n = c->pl.n, l = c->pl.l, info;
  la_gemm(j, 0, 0, l, n, m, c->b[Q_T], m, a, n, c->b[B_T], n);
  info = la_gesdd(j, 'S', l, n, c->b[B_T], c->b[S_V], c->b[U_B], c->b[V_BH],
                  c->lap);
  if (info) return info;
  la_gemm(j, 0, 1, l, m, n, c->b[V_BH], n, a, n, c->b[W_T], m);
  la_gemm(j, 1, 0, l, m, l, c->b[U_B], l, c->b[Q_T], m, c->b[U_T], m);
  return 0;
}

/* max over i < k of |A v_i - s_i u_i| (rows of Wt and Ut); NaN sticks */
static double residual(const lr_ctx *c) {
  int dt = c->j->dtype, i, e;
  double worst = 0;
  for (i = 0; i < c->pl.k; i++) {
    double si = la_get(dt, c->b[S_V], i), acc = 0;
    for (e = 0; e < c->pl.m; e++) {
      int64_t x = (int64_t)i * c->pl.m + e;
      double d = la_get(dt, c->b[W_T], x) - si * la_get(dt, c->b[U_T], x);
      acc += d * d;
    }
    if (!(sqrt(acc) <= worst)) worst = sqrt(acc);
  }
  return worst;
}

/* the passes: 0 when the triplets are ready, else an LR_ code */
static int iterate(lr_ctx *c, const void *a, int64_t mat, la_res *r) {
  const la_job *j = c->j;
  int m = c->pl.m, n = c->pl.n, l = c->pl.l, it, maxit = (int)j->iparam;
  char *t;
  start_block(c, mat);
  la_gemm(j, 0, 1, l, m, n, c->b[B_T], n, a, n, c->b[Q_T], m);  /* (A W)^T */
  if ((r->info = orth(c, c->b[Q_T]))) return LR_QR;
  for (it = 1;; it++) {
    if ((r->info = pass(c, a))) return LR_GESDD;
    if (j->opt == 'F' ? it >= maxit :
        residual(c) <= j->param * la_get(j->dtype, c->b[S_V], 0))
      return 0;
    if (it >= maxit) return r->info = 1, LR_NOTCONV;
    t = c->b[Q_T];   /* the next block spans A V */
    c->b[Q_T] = c->b[W_T];
    c->b[W_T] = t;
    if ((r->info = orth(c, c->b[Q_T]))) return LR_QR;
  }
}

/* Flips u_i and v_i together so that the largest |entry| of u_i (the first
   such) is positive: the sign of a singular pair is arbitrary, and gesdd
   and the subspace iteration pick it differently, so without one rule the
   result would jump when a small change of A switches paths. */
static void fix_signs(int dt, char *u, char *vh, int m, int n, int k) {
  int i, e;
  for (i = 0; i < k; i++) {
    double big = 0, v;
    for (e = 0; e < m; e++) {
      v = la_get(dt, u, (int64_t)e * k + i);
      if (fabs(v) > fabs(big)) big = v;
    }
    if (big >= 0) continue;
    for (e = 0; e < m; e++)
      la_put(dt, u, (int64_t)e * k + i, -la_get(dt, u, (int64_t)e * k + i));
    for (e = 0; e < n; e++)
      la_put(dt, vh, (int64_t)i * n + e, -la_get(dt, vh, (int64_t)i * n + e));
  }
}

/* U, S, Vh into the out slots; A becomes A - U S Vh, whose squared norm
   is the discarded weight (measured, not |A|^2 - sum s^2, which cancels) */
static void finish(const lr_ctx *c, void *a, int64_t mat) {
  const la_job *j = c->j;
  int m = c->pl.m, n = c->pl.n, k = c->pl.k, dt = j->dtype, i, e;
  char *u = la_mat(j, 1, mat), *s = la_mat(j, 2, mat), *vh = la_mat(j, 3, mat);
  double acc = 0;
  for (i = 0; i < k; i++) {
    double si = la_get(dt, c->b[S_V], i);
    la_put(dt, s, i, si);
    for (e = 0; e < m; e++)
      la_put(dt, u, (int64_t)e * k + i,
             la_get(dt, c->b[U_T], (int64_t)i * m + e));
    for (e = 0; e < n; e++) {
      int64_t x = (int64_t)i * n + e;
      double v = la_get(dt, c->b[V_BH], x);
      la_put(dt, vh, x, v);
      la_put(dt, c->b[V_BH], x, v * si);
    }
  }
  if (dt == HEBB_F64)
    j->B->dgemm(HEBB_BLAS_ROWMAJOR, HEBB_BLAS_TRANS, HEBB_BLAS_NOTRANS, m, n,
                k, -1.0, (const double *)(void *)c->b[U_T], m,
                (const double *)(void *)c->b[V_BH], n, 1.0, a, n);
  else
    j->B->sgemm(HEBB_BLAS_ROWMAJOR, HEBB_BLAS_TRANS, HEBB_BLAS_NOTRANS, m, n,
                k, -1.0f, (const float *)(void *)c->b[U_T], m,
                (const float *)(void *)c->b[V_BH], n, 1.0f, a, n);
  for (e = 0; e < m * n; e++) {
    double v = la_get(dt, a, e);
    acc += v * v;
  }
  la_put(dt, la_mat(j, 4, mat), 0, acc);
  fix_signs(dt, u, vh, m, n, k);
}

static void k_lowrank(const la_job *j, int64_t mat, void *work, la_res *r) {
  lr_ctx c;
  void *a = la_mat(j, 0, mat);
  ctx_init(&c, j, work);
  if ((r->what = iterate(&c, a, mat, r)) == 0) finish(&c, a, mat);
  else if (r->info == 0) r->info = 1;
}

/* sets j->lwork for gesdd of l x n and the QR of m x l */
static void lapack_query(la_job *j, int l) {
  int m = j->m, info = 0, mone = -1, lw;
  double q[2] = {0, 0}, dummy[4] = {0, 0, 0, 0};
  la_gesdd_query(j, 'S', l, j->n);
  lw = j->lwork;
  j->B->geqrf[j->p](&m, &l, dummy, &m, dummy, q, &mone, &info);
  if (la_lwork(j->dtype, q) > lw) lw = la_lwork(j->dtype, q);
  j->B->orgqr[j->p](&m, &l, &l, dummy, &m, dummy, q, &mone, &info);
  if (la_lwork(j->dtype, q) > lw) lw = la_lwork(j->dtype, q);
  j->lwork = lw;
}

static int lowrank_failed(const la_job *j) {
  char w[64], r[16];
  const la_res *res = &j->res[j->bad];
  if (res->what == LR_NOTCONV)
    return hebb_fail(HEBB_ERR_ARG, "%s: the subspace iteration did not "
                     "converge for %s", j->who, la_which(j, w, sizeof w));
  return hebb_fail(HEBB_ERR_ARG, "%s: %s failed for %s (info=%d: NaN "
                   "entries?)", j->who,
                   la_name(j, res->what == LR_QR ? "geqrf" : "gesdd", r),
                   la_which(j, w, sizeof w), res->info);
}

/* runs the randomized job into t[1..4]; *fell: some matrix did not
   converge (or failed), so gesdd should be asked instead */
static int lowrank_fail(const la_job *j, const char *routine) {
  (void)routine;
  return j->opt == 'A' ? HEBB_OK : lowrank_failed(j);   /* auto: gesdd next */
}

static int run_lowrank(la_job *j, hebb_tensor **t, bool *fell) {
  int st, i;
  for (i = 0; i < 5; i++) la_operand(j, i, t[i]);
  st = la_run(j, lowrank_fail, "gesdd");
  if (st == HEBB_OK && j->bad >= 0) *fell = true;
  return st;
}

static int setup(const hebb_tensor *a, int64_t rank, int method, double tol,
                 int64_t power, la_job *j, int *dt, const char *who) {
  int m, n, kmin, l, st;
  lr_plan p;
  if ((st = la_batch(a, 0, who, dt, &m, &n, j))) return st;
  kmin = m < n ? m : n;
  j->k = rank < kmin ? (int)rank : kmin;
  l = block_size(j->k, kmin);
  j->opt = method == HEBB_SVD_RANDOMIZED ? 'F' : 'A';
  j->iparam = j->opt == 'F' ? power + 1 : budget(kmin, l);
  j->param = tol >= 0 ? tol : *dt == HEBB_F64 ? 1e-12 : 1e-5;
  j->cost = (int64_t)4 * m * n * l * (j->opt == 'F' ? power + 1 : 4) + 1;
  j->fn = k_lowrank;
  lapack_query(j, l);
  plan(&p, j);
  j->wbytes = lapack_part(j, l) + (size_t)p.total * la_esize(j);
  return HEBB_OK;
}

/* whether the randomized path applies (else gesdd): real matrices whose
   block is at most half of min(m, n) (a larger block saves little) */
static bool randomizable(const hebb_tensor *a, int64_t rank, int method) {
  int64_t m, n, kmin, k;
  if (method == HEBB_SVD_GESDD || a->ndim < 2 || hebb_is_complex(a->dtype))
    return false;
  m = a->shape[a->ndim - 2];
  n = a->shape[a->ndim - 1];
  kmin = m < n ? m : n;
  k = rank < kmin ? rank : kmin;
  if (kmin > INT32_MAX / 8) return false;   /* la_matrices reports it */
  return method == HEBB_SVD_RANDOMIZED ? k < kmin :
         kmin >= 16 && 2 * block_size((int)k, (int)kmin) <= kmin;
}

/* the truncated gesdd with the same sign rule (real matrices) */
static int by_gesdd(const hebb_tensor *a, int64_t rank, hebb_tensor **u,
                    hebb_tensor **s, hebb_tensor **vh,
                    hebb_tensor **discarded) {
  hebb_tensor *t[4] = {NULL, NULL, NULL, NULL}, **outs[4];
  int64_t b, count, m, n, k;
  int st = hebb_linalg_svd_rank(a, rank, &t[0], &t[1], &t[2], &t[3]), dt;
  if (st != HEBB_OK) return st;
  dt = t[0]->dtype;
  if (!hebb_is_complex(dt)) {
    m = t[0]->shape[t[0]->ndim - 2];
    k = t[0]->shape[t[0]->ndim - 1];
    n = t[2]->shape[t[2]->ndim - 1];
    count = m * k > 0 ? hebb_numel(t[0]) / (m * k) : 0;
    for (b = 0; b < count && n > 0; b++)
      fix_signs(dt, (char *)hebb_first(t[0]) + b * m * k * hebb_dtype_size(dt),
                (char *)hebb_first(t[2]) + b * k * n * hebb_dtype_size(dt), (int)m,
                (int)n, (int)k);
  }
  outs[0] = u;
  outs[1] = s;
  outs[2] = vh;
  outs[3] = discarded;
  return hebb_out_deliver(4, outs, t, "linalg.svd");
}

hebb_status hebb_linalg_svd_lowrank(const hebb_tensor *a, int64_t rank,
                                    int method, double tol, int64_t power,
                                    hebb_tensor **u, hebb_tensor **s,
                                    hebb_tensor **vh, hebb_tensor **discarded) {
  const char *who = "linalg.svd";
  hebb_tensor *t[5] = {NULL, NULL, NULL, NULL, NULL}, **outs[4];
  int dt = HEBB_F64, nb = a->ndim - 2, st, k;
  bool fell = false;
  la_job j;
  if (rank < 1)
    return hebb_fail(HEBB_ERR_ARG, "%s: rank must be at least 1, got %lld",
                     who, (long long)rank);
  if (method == HEBB_SVD_RANDOMIZED && hebb_is_complex(a->dtype))
    return hebb_fail(HEBB_ERR_ARG, "%s: method 'randomized' takes real "
                     "matrices, got %s", who, hebb_dtype_name(a->dtype));
  if (power < 0 || power > 1000)
    return hebb_fail(HEBB_ERR_ARG, "%s: power must be in 0..1000, got %lld",
                     who, (long long)power);
  if (!randomizable(a, rank, method))
    return by_gesdd(a, rank, u, s, vh, discarded);
  if ((st = setup(a, rank, method, tol, power, &j, &dt, who))) return st;
  k = j.k;
  t[0] = la_load(a, dt, nb, a->shape, 0);
  t[1] = t[0] ? la_new(dt, nb, a->shape, j.m, k) : NULL;
  t[2] = t[1] ? la_new(dt, nb, a->shape, k, -1) : NULL;
  t[3] = t[2] ? la_new(dt, nb, a->shape, k, j.n) : NULL;
  t[4] = t[3] ? la_new(dt, nb, a->shape, -1, -1) : NULL;
  if (!t[4]) return hebb_drop(hebb_last_status(), 5, t);
  st = run_lowrank(&j, t, &fell);
  hebb_drop(0, 1, &t[0]);
  if (st != HEBB_OK || fell) {
    hebb_drop(0, 5, t);
    return st != HEBB_OK ? st : by_gesdd(a, rank, u, s, vh, discarded);
  }
  outs[0] = u;
  outs[1] = s;
  outs[2] = vh;
  outs[3] = discarded;
  return hebb_out_deliver(4, outs, t + 1, who);
}
