/*
** linalg_solve.c -- linear systems and what an LU factorization gives:
** solve, lstsq, inv, det, slogdet (LAPACK getrf/getrs/getri, gelsd).
**
** getrf on a row-major buffer factors A^T (see linalg.h), which is all
** these need: det(A^T) = det(A), inv(A^T) read back row-major is inv(A),
** and getrs with 'T' solves A X = B from the factors of A^T.  All of it
** holds for complex matrices too, A^T being the plain transpose there (and
** 'T' in zgetrs the plain transpose, not 'C').
*/
#include <complex.h>
#include <math.h>
#include <string.h>

#include "linalg.h"

/* B as a batch of matrices (a 1-d B is one column) checked against A's m
   rows; the batch shape broadcast from both */
static int rhs(const hebb_tensor *a, const hebb_tensor *b, int m,
               const char *who, hebb_tensor **bm, int *nrhs, int *nb,
               int64_t *bshape) {
  char s1[HEBB_SHAPEBUF], s2[HEBB_SHAPEBUF];
  int rows;
  if (b->ndim == 0)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: B must be a vector or a matrix, "
                     "got a 0-d tensor", who);
  if (b->shape[b->ndim - (b->ndim == 1 ? 1 : 2)] != m)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: A has shape %s but B has %lld rows "
                     "(shape %s)", who,
                     hebb_shape_str(a->ndim, a->shape, s1, sizeof s1),
                     (long long)b->shape[b->ndim - (b->ndim == 1 ? 1 : 2)],
                     hebb_shape_str(b->ndim, b->shape, s2, sizeof s2));
  *bm = b->ndim == 1 ? hebb_unsqueeze((hebb_tensor *)b, 1) :
                       hebb_view_of((hebb_tensor *)b);
  if (!*bm) return hebb_last_status();
  if (la_matrices(*bm, 0, who, &rows, nrhs) ||
      hebb_broadcast_shape(a->ndim - 2, a->shape, (*bm)->ndim - 2,
                           (*bm)->shape, nb, bshape, who))
    return la_drop(hebb_last_status(), 1, bm);
  return HEBB_OK;
}

/* X (batch + {n, nrhs}) as the caller's result: a 1-d B gives vectors */
static int give_x(hebb_tensor **out, hebb_tensor *x, int vec,
                  const char *who) {
  hebb_tensor *r = x, **outs[1];
  outs[0] = out;
  if (vec) {
    r = hebb_view(x, x->ndim - 1, x->shape);
    hebb_release(x);
    if (!r) return hebb_last_status();
  }
  return la_deliver(1, outs, &r, who);
}

/* --- solve ------------------------------------------------------------- */

static void k_solve(const la_job *j, int64_t k, void *work, la_res *r) {
  int n = j->n, lda = la_ld(n), nrhs = j->k, info = 0;
  void *a = la_mat(j, 0, k);
  j->B->getrf[la_ix(j)](&n, &n, a, &lda, work, &info);
  if (info == 0)
    j->B->getrs[la_ix(j)]("T", &n, &nrhs, a, &lda, work, la_mat(j, 1, k),
                          &lda, &info, 1);
  r->info = info;
}

int hebb_linalg_solve(const hebb_tensor *a, const hebb_tensor *b,
                      hebb_tensor **out) {
  const char *who = "linalg.solve";
  hebb_tensor *bm = NULL, *t[2] = {NULL, NULL}, *x;
  int64_t bshape[HEBB_MAXDIM];
  int dt = HEBB_F64, n, nrhs, nb, st;
  la_job j;
  if (la_pair_dtype(a, b, who, &dt) || la_matrices(a, 1, who, &n, &n) ||
      rhs(a, b, n, who, &bm, &nrhs, &nb, bshape))
    return hebb_last_status();
  if ((st = la_begin(&j, who, dt, hebb_shape_numel(nb, bshape))))
    return la_drop(st, 1, &bm);
  t[0] = la_load(a, dt, nb, bshape, 0);
  t[1] = t[0] ? la_load(bm, dt, nb, bshape, 1) : NULL;
  if (!t[1]) {
    la_drop(0, 1, &bm);
    return la_drop(hebb_last_status(), 2, t);
  }
  j.n = n;
  j.k = nrhs;
  j.cost = (int64_t)n * n * (n + nrhs);
  j.wbytes = (size_t)(n + 1) * sizeof(int);
  j.fn = k_solve;
  la_input(&j, 0, t[0], "getrf");
  la_input(&j, 1, t[1], "getrf");
  st = la_run(&j);
  if (st == HEBB_OK && j.bad >= 0) st = la_singular(&j);
  la_end(&j);
  x = st == HEBB_OK ? la_load(t[1], dt, nb, bshape, 1) : NULL;
  if (st == HEBB_OK && !x) st = hebb_last_status();
  la_drop(0, 2, t);
  la_drop(0, 1, &bm);
  return st != HEBB_OK ? st : give_x(out, x, b->ndim == 1, who);
}

/* --- lstsq ------------------------------------------------------------- */

/* the workspace: min(m, n) singular values (real), lwork elements, lrwork
   reals (complex jobs), liwork ints */
static void k_lstsq(const la_job *j, int64_t k, void *work, la_res *r) {
  int m = j->m, n = j->n, nrhs = j->k, lda = la_ld(m);
  int ldb = la_ld(m > n ? m : n);
  int mn = m < n ? m : n, rank, info = 0;
  size_t rs = (size_t)hebb_dtype_size(j->dtype);
  char *s = work, *w = s + (size_t)(mn + 1) * rs;
  char *rw = w + (size_t)j->lwork * la_esize(j);
  int *iwork = (int *)(rw + (size_t)j->lrwork * rs);
  float rf = (float)j->param;
  const void *rcond = j->p ? (const void *)&j->param : (const void *)&rf;
  if (j->cplx)
    j->B->zgelsd[j->p](&m, &n, &nrhs, la_mat(j, 0, k), &lda,
                       la_mat(j, 1, k), &ldb, s, rcond, &rank, w, &j->lwork,
                       rw, iwork, &info);
  else
    j->B->gelsd[j->p](&m, &n, &nrhs, la_mat(j, 0, k), &lda, la_mat(j, 1, k),
                      &ldb, s, rcond, &rank, w, &j->lwork, iwork, &info);
  r->info = info;
}

/* B copied transposed into the first m columns of a zeroed buffer of
   batch + {nrhs, max(m, n)}: column-major B with room for the solution */
static hebb_tensor *load_rhs(const hebb_tensor *bm, int dt, int nb,
                             const int64_t *bshape, int nrhs, int m, int n) {
  hebb_tensor *buf, *part, *tr;
  int64_t shape[HEBB_MAXDIM];
  int st;
  memcpy(shape, bshape, (size_t)nb * sizeof *shape);
  shape[nb] = nrhs;
  shape[nb + 1] = m > n ? m : n;
  if (!(buf = hebb_zeros(dt, nb + 2, shape))) return NULL;
  part = hebb_narrow(buf, nb + 1, 0, m);
  tr = part ? hebb_transpose(part, nb, nb + 1) : NULL;
  st = tr ? hebb_copy(tr, bm) : hebb_last_status();
  hebb_release(tr);
  hebb_release(part);
  if (st != HEBB_OK) return la_drop(st, 1, &buf), NULL;
  return buf;
}

static void lstsq_query(la_job *j) {
  int m = j->m, n = j->n, nrhs = j->k, lda = la_ld(m);
  int ldb = la_ld(m > n ? m : n);
  int rank, info = 0, mone = -1, iw[2] = {1, 1}, mn = m < n ? m : n;
  double q[2] = {0, 0}, rq[2] = {0, 0}, dummy[4] = {0, 0, 0, 0};
  float rf = 0;
  const void *rcond = j->p ? (const void *)&j->param : (const void *)&rf;
  size_t rs = (size_t)hebb_dtype_size(j->dtype);
  if (j->cplx) {   /* the query reports all three sizes */
    j->B->zgelsd[j->p](&m, &n, &nrhs, dummy, &lda, dummy, &ldb, dummy, rcond,
                       &rank, q, &mone, rq, iw, &info);
    j->lrwork = la_lwork(j->dtype, rq);
  }
  else
    j->B->gelsd[j->p](&m, &n, &nrhs, dummy, &lda, dummy, &ldb, dummy, rcond,
                      &rank, q, &mone, iw, &info);
  j->lwork = la_lwork(j->dtype, q);
  j->liwork = iw[0] > 1 ? iw[0] : 1;
  j->wbytes = (size_t)(mn + 1) * rs + (size_t)j->lwork * la_esize(j) +
              (size_t)j->lrwork * rs + (size_t)j->liwork * sizeof(int);
}

int hebb_linalg_lstsq(const hebb_tensor *a, const hebb_tensor *b,
                      double rcond, hebb_tensor **out) {
  const char *who = "linalg.lstsq";
  hebb_tensor *bm = NULL, *t[2] = {NULL, NULL}, *sol = NULL, *x = NULL;
  int64_t bshape[HEBB_MAXDIM];
  int dt = HEBB_F64, m, n, nrhs, nb, st;
  la_job j;
  if (la_pair_dtype(a, b, who, &dt) || la_matrices(a, 0, who, &m, &n) ||
      rhs(a, b, m, who, &bm, &nrhs, &nb, bshape))
    return hebb_last_status();
  if ((st = la_begin(&j, who, dt, hebb_shape_numel(nb, bshape))))
    return la_drop(st, 1, &bm);
  j.m = m;
  j.n = n;
  j.k = nrhs;
  j.param = rcond >= 0 ? rcond : la_eps(dt) * (m > n ? m : n);
  j.cost = (int64_t)m * n * ((m < n ? m : n) + nrhs) + 1;
  j.fn = k_lstsq;
  lstsq_query(&j);
  t[0] = la_load_scratch(a, dt, nb, bshape, 1);
  t[1] = t[0] ? load_rhs(bm, dt, nb, bshape, nrhs, m, n) : NULL;
  la_drop(0, 1, &bm);
  if (!t[1]) return la_drop(hebb_last_status(), 2, t);
  la_input(&j, 0, t[0], "gelsd");
  la_input(&j, 1, t[1], "gelsd");
  st = la_run(&j);
  if (st == HEBB_OK && j.bad >= 0) st = la_not_converged(&j, "gelsd");
  la_end(&j);
  if (st == HEBB_OK) {
    sol = hebb_narrow(t[1], nb + 1, 0, n);
    x = sol ? la_load(sol, dt, nb, bshape, 1) : NULL;
    if (!x) st = hebb_last_status();
    hebb_release(sol);
  }
  la_drop(0, 2, t);
  return st != HEBB_OK ? st : give_x(out, x, b->ndim == 1, who);
}

/* --- inv --------------------------------------------------------------- */

static void k_inv(const la_job *j, int64_t k, void *work, la_res *r) {
  int n = j->n, lda = la_ld(n), info = 0;
  int *ipiv = (int *)((char *)work + (size_t)j->lwork * la_esize(j));
  void *a = la_mat(j, 0, k);
  j->B->getrf[la_ix(j)](&n, &n, a, &lda, ipiv, &info);
  if (info == 0)
    j->B->getri[la_ix(j)](&n, a, &lda, ipiv, work, &j->lwork, &info);
  r->info = info;
}

int hebb_linalg_inv(const hebb_tensor *a, hebb_tensor **out) {
  const char *who = "linalg.inv";
  hebb_tensor *t = NULL, **outs[1] = {out};
  int dt = HEBB_F64, n, lda, info = 0, mone = -1, ipiv = 0, st;
  double q[2] = {0, 0}, dummy[2] = {0, 0};
  la_job j;
  if ((st = la_batch(a, 1, who, &dt, &n, &n, &j))) return st;
  lda = la_ld(n);
  j.B->getri[la_ix(&j)](&n, dummy, &lda, &ipiv, q, &mone, &info);
  j.lwork = la_lwork(j.dtype, q);
  j.cost = (int64_t)2 * n * n * n + 1;
  j.wbytes = (size_t)j.lwork * la_esize(&j) + (size_t)(n + 1) * sizeof(int);
  j.fn = k_inv;
  if (!(t = la_load(a, dt, a->ndim - 2, a->shape, 0)))
    return hebb_last_status();
  la_input(&j, 0, t, "getrf");
  st = la_run(&j);
  if (st == HEBB_OK && j.bad >= 0) st = la_singular(&j);
  la_end(&j);
  if (st != HEBB_OK) return la_drop(st, 1, &t);
  return la_deliver(1, outs, &t, who);
}

/* --- det, slogdet ------------------------------------------------------ */

/* sign and log|det| from the LU factors (j->opt 's'), or the product of
   the pivots itself ('d'): the product keeps every bit a small matrix's
   determinant has, the logarithm cannot overflow */
static void k_det(const la_job *j, int64_t k, void *work, la_res *r) {
  int n = j->n, lda = la_ld(n), info = 0, i, *ipiv = work;
  void *a = la_mat(j, 0, k);
  double sign = 1, logabs = 0, prod = 1;
  j->B->getrf[la_ix(j)](&n, &n, a, &lda, ipiv, &info);
  for (i = 0; i < n; i++) {
    double d = la_get(j->dtype, a, (int64_t)i * n + i);
    if (ipiv[i] != i + 1) sign = -sign, prod = -prod;
    prod *= d;
    if (d < 0) sign = -sign;
    logabs += log(fabs(d));
  }
  if (info > 0) sign = 0, logabs = -HUGE_VAL, prod = 0;   /* singular */
  if (j->opt == 'd') la_put(j->dtype, la_mat(j, 1, k), 0, prod);
  else {
    la_put(j->dtype, la_mat(j, 1, k), 0, sign);
    la_put(j->dtype, la_mat(j, 2, k), 0, logabs);
  }
  r->info = info < 0 ? info : 0;
}

/* The same for complex matrices: the sign is the phase det / |det|, a
   complex number of modulus 1 (0 if singular), as in numpy; each pivot
   contributes its phase d / |d| and log |d|. */
static void k_detz(const la_job *j, int64_t k, void *work, la_res *r) {
  int n = j->n, lda = la_ld(n), info = 0, i, *ipiv = work;
  void *a = la_mat(j, 0, k);
  double _Complex sign = 1, prod = 1;
  double logabs = 0;
  j->B->getrf[la_ix(j)](&n, &n, a, &lda, ipiv, &info);
  for (i = 0; i < n; i++) {
    double _Complex d = la_getz(j->dtype, a, (int64_t)i * n + i);
    double ad = cabs(d);
    if (ipiv[i] != i + 1) sign = -sign, prod = -prod;
    prod *= d;
    sign *= d / ad;
    logabs += log(ad);
  }
  if (info > 0) sign = 0, logabs = -HUGE_VAL, prod = 0;   /* singular */
  if (j->opt == 'd') la_putz(j->dtype, la_mat(j, 1, k), 0, prod);
  else {
    /* renormalized: n rounded phases drift off the unit circle by n eps */
    if (info == 0) sign /= cabs(sign);
    la_putz(j->dtype, la_mat(j, 1, k), 0, sign);
    la_put(j->dtype, la_mat(j, 2, k), 0, logabs);
  }
  r->info = info < 0 ? info : 0;
}

static int det_common(const hebb_tensor *a, const char *who, char opt,
                      hebb_tensor **out1, hebb_tensor **out2) {
  hebb_tensor *t[3] = {NULL, NULL, NULL}, **outs[2] = {out1, out2};
  int dt = HEBB_F64, n, nb = a->ndim - 2, nout = opt == 'd' ? 1 : 2, st, i;
  la_job j;
  if ((st = la_batch(a, 1, who, &dt, &n, &n, &j))) return st;
  j.opt = opt;
  j.cost = (int64_t)n * n * n + 1;
  j.wbytes = (size_t)(n + 1) * sizeof(int);
  j.fn = j.cplx ? k_detz : k_det;
  for (i = 0; i < nout + 1; i++) {   /* slogdet's logabsdet is real */
    t[i] = i == 0 ? la_load(a, dt, nb, a->shape, 0) :
                    la_new(i == 2 ? j.dtype : dt, nb, a->shape, -1, -1);
    if (!t[i]) return la_drop(hebb_last_status(), 3, t);
    if (i == 0) la_input(&j, 0, t[0], "getrf");
    else la_operand(&j, i, t[i]);
  }
  st = la_run(&j);
  la_end(&j);
  la_drop(0, 1, &t[0]);
  if (st != HEBB_OK) return la_drop(st, 3, t);
  return la_deliver(nout, outs, t + 1, who);
}

int hebb_linalg_det(const hebb_tensor *a, hebb_tensor **out) {
  return det_common(a, "linalg.det", 'd', out, NULL);
}

int hebb_linalg_slogdet(const hebb_tensor *a, hebb_tensor **sign,
                        hebb_tensor **logabsdet) {
  return det_common(a, "linalg.slogdet", 's', sign, logabsdet);
}
