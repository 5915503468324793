/*
** linalg.c -- what the dense linear algebra of linalg_*.c shares: argument
** checks, loading batches of matrices into LAPACK-ready buffers, and the
** batch driver that hands one matrix at a time to LAPACK.
**
** OpenBLAS runs single-threaded (blas.c), so a matrix is always computed
** the same way and results do not depend on the thread count; a batch of
** matrices is spread over hebb's threads instead.  Worker threads never
** call hebb_fail (the error message is per thread): each matrix leaves its
** outcome in a la_res, and the calling thread reports the first failure.
*/
#include <float.h>
#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "linalg.h"

enum { LA_NOMEM = -1 };   /* la_res.what: no workspace */

int la_dtype(const hebb_tensor *a, const char *who, int *dtype) {
  if (hebb_check_dtype_any(a->dtype, who)) return hebb_last_status();
  *dtype = a->dtype == HEBB_F32 || hebb_is_complex(a->dtype) ? a->dtype :
           HEBB_F64;
  return HEBB_OK;
}

int la_pair_dtype(const hebb_tensor *a, const hebb_tensor *b,
                  const char *who, int *dtype) {
  int da, db, dbl, cplx;
  if (la_dtype(a, who, &da) || la_dtype(b, who, &db))
    return hebb_last_status();
  dbl = la_real(da) == HEBB_F64 || la_real(db) == HEBB_F64;
  cplx = hebb_is_complex(da) || hebb_is_complex(db);
  *dtype = cplx ? (dbl ? HEBB_C128 : HEBB_C64) : (dbl ? HEBB_F64 : HEBB_F32);
  return HEBB_OK;
}

int la_matrices(const hebb_tensor *a, int square, const char *who, int *m,
                int *n) {
  char buf[HEBB_SHAPEBUF];
  int64_t r, c;
  if (a->ndim < 2)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: expects a matrix (a tensor of at "
                     "least 2 dimensions), got a %d-d tensor", who, a->ndim);
  r = a->shape[a->ndim - 2];
  c = a->shape[a->ndim - 1];
  if (square && r != c)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: expects square matrices, got shape "
                     "%s", who, hebb_shape_str(a->ndim, a->shape, buf,
                                                sizeof buf));
  if (r > INT_MAX / 8 || c > INT_MAX / 8 || r * c > INT_MAX / 8)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: matrix of %lld x %lld is too large "
                     "for LAPACK's 32-bit indices", who, (long long)r,
                     (long long)c);
  *m = (int)r;
  *n = (int)c;
  return HEBB_OK;
}

hebb_tensor *la_new(int dtype, int nb, const int64_t *bshape, int64_t r,
                    int64_t c) {
  int64_t shape[HEBB_MAXDIM];
  int nd = nb;
  memcpy(shape, bshape, (size_t)nb * sizeof *shape);
  if (r >= 0) shape[nd++] = r;
  if (c >= 0) shape[nd++] = c;
  return hebb_empty(dtype, nd, shape);
}

/* OpenBLAS 0.3.21's zgemv_n/cgemv_n kernels (Haswell), which zgesdd and
   zgelsd reach through zlarf, read a few elements past the end of a
   matrix (valgrind shows it; OpenBLAS issue 4013): harmless unless the
   buffer ends at an unmapped page, which 16 elements of slack after the
   matrices rule out (4 were not enough; 16 leave valgrind silent for
   every shape up to 64 x 64 tried).  padded() makes a contiguous tensor
   (batch + {r, c}) whose storage extends 'pad' elements beyond its end. */
static hebb_tensor *padded(int dtype, int nb, const int64_t *bshape,
                           int64_t r, int64_t c, int64_t pad) {
  int64_t shape[HEBB_MAXDIM], n;
  hebb_tensor *flat, *part, *t;
  if (pad == 0) return la_new(dtype, nb, bshape, r, c);
  memcpy(shape, bshape, (size_t)nb * sizeof *shape);
  shape[nb] = r;
  shape[nb + 1] = c;
  n = hebb_shape_numel(nb + 2, shape) + pad;
  if (!(flat = hebb_empty(dtype, 1, &n))) return NULL;
  part = hebb_narrow(flat, 0, 0, n - pad);
  t = part ? hebb_view(part, nb + 2, shape) : NULL;
  hebb_release(part);
  hebb_release(flat);
  return t;
}

static hebb_tensor *load(const hebb_tensor *a, int dtype, int nb,
                         const int64_t *bshape, int trans, int64_t pad) {
  int64_t r = a->shape[a->ndim - 2], c = a->shape[a->ndim - 1];
  hebb_tensor *w = trans ? padded(dtype, nb, bshape, c, r, pad) :
                           padded(dtype, nb, bshape, r, c, pad);
  hebb_tensor *v;
  int st;
  if (!w) return NULL;
  v = trans ? hebb_transpose(w, nb, nb + 1) : w;
  if (!v) return la_drop(0, 1, &w), NULL;
  st = hebb_copy(v, a);   /* broadcasts the batch dims, converts */
  if (v != w) hebb_release(v);
  if (st != HEBB_OK) return la_drop(st, 1, &w), NULL;
  return w;
}

hebb_tensor *la_load(const hebb_tensor *a, int dtype, int nb,
                     const int64_t *bshape, int trans) {
  return load(a, dtype, nb, bshape, trans, 0);
}

hebb_tensor *la_load_scratch(const hebb_tensor *a, int dtype, int nb,
                             const int64_t *bshape, int trans) {
  return load(a, dtype, nb, bshape, trans, hebb_is_complex(dtype) ? 16 : 0);
}

hebb_tensor *la_new_padded(int dtype, int nb, const int64_t *bshape,
                           int64_t r, int64_t c) {
  return padded(dtype, nb, bshape, r, c, hebb_is_complex(dtype) ? 16 : 0);
}

int la_batch(const hebb_tensor *a, int square, const char *who, int *dt,
             int *m, int *n, la_job *j) {
  int st;
  if (la_dtype(a, who, dt) || la_matrices(a, square, who, m, n))
    return hebb_last_status();
  if ((st = la_begin(j, who, *dt, hebb_shape_numel(a->ndim - 2, a->shape))))
    return st;
  j->m = *m;
  j->n = *n;
  return HEBB_OK;
}

int la_begin(la_job *j, const char *who, int dtype, int64_t count) {
  memset(j, 0, sizeof *j);
  j->who = who;
  j->cplx = hebb_is_complex(dtype);
  j->dtype = la_real(dtype);
  j->p = j->dtype == HEBB_F64;
  j->count = count;
  j->bad = -1;
  j->B = hebb_blas(who);
  return j->B ? HEBB_OK : hebb_last_status();
}

void la_operand(la_job *j, int i, hebb_tensor *t) {
  int64_t per = j->count > 0 ? hebb_numel(t) / j->count : 0;
  j->x[i] = hebb_first(t);
  j->step[i] = per * hebb_dtype_size(t->dtype);
}

void la_input(la_job *j, int i, hebb_tensor *t, const char *routine) {
  la_operand(j, i, t);
  j->in |= 1u << i;
  j->routine = routine;
}

/* Non-finite input never reaches LAPACK: zgeev on a matrix of inf aborted
   the process with heap corruption inside OpenBLAS, gesdd (svd, pinv)
   spun forever on inf, and zgebal printed its complaint about NaN to
   stdout.  One pass over the loaded copies, O(n^2) beside LAPACK's n^3. */
static int screen(const la_job *j) {
  char which[64], r[16];
  int i;
  for (i = 0; i < LA_MAXOPS; i++) {
    int64_t per = j->step[i] / hebb_dtype_size(j->dtype), e, n;
    if (!(j->in & (1u << i))) continue;
    for (e = 0, n = per * j->count; e < n; e++) {
      double x = la_get(j->dtype, j->x[i], e);
      if (isfinite(x)) continue;
      if (j->count == 1)
        snprintf(which, sizeof which, "the %s", i ? "right-hand side" :
                 "matrix");
      else snprintf(which, sizeof which, "%s %lld of the batch",
                    i ? "right-hand side" : "matrix", (long long)(e / per) + 1);
      return hebb_fail(HEBB_ERR_ARG, "%s: %s holds %s; LAPACK's %s needs "
                       "finite entries", j->who, which,
                       x != x ? "NaN" : x > 0 ? "inf" : "-inf",
                       la_name(j, j->routine, r));
    }
  }
  return HEBB_OK;
}

/* The workspace is 64-byte aligned like tensor storage, so that no
   result can depend on where malloc happened to put it (vector kernels
   may treat aligned and unaligned data differently). */
static void run_range(int64_t lo, int64_t hi, void *ud) {
  const la_job *j = ud;
  void *work = NULL;
  int64_t k;
  if (posix_memalign(&work, 64, j->wbytes + 64)) work = NULL;
  for (k = lo; k < hi; k++) {
    if (!work) {
      j->res[k].info = 1;
      j->res[k].what = LA_NOMEM;
    }
    else j->fn(j, k, work, &j->res[k]);
  }
  free(work);
}

int la_run(la_job *j) {
  int64_t k;
  int st;
  if (j->count == 0) return HEBB_OK;
  if (screen(j)) return hebb_last_status();
  j->res = calloc((size_t)j->count, sizeof *j->res);
  if (!j->res)
    return hebb_fail(HEBB_ERR_NOMEM, "%s: out of memory", j->who);
  /* LAPACK runs single-threaded (see hebb_set_num_threads in parallel.c);
     batches spread over hebb's threads */
  st = hebb_parallel_for(j->count, (j->cost > 0 ? j->cost : 1) *
                         (j->cplx ? 4 : 1), run_range, j);
  if (st != HEBB_OK) return st;
  for (k = 0; k < j->count; k++)
    if (j->res[k].info != 0) {
      j->bad = k;
      if (j->res[k].what == LA_NOMEM)
        return hebb_fail(HEBB_ERR_NOMEM, "%s: out of memory for a workspace "
                         "of %zu bytes", j->who, j->wbytes);
      break;
    }
  return HEBB_OK;
}

void la_end(la_job *j) {
  free(j->res);
  j->res = NULL;
}

const char *la_which(const la_job *j, char *buf, size_t size) {
  if (j->count == 1) snprintf(buf, size, "matrix");
  else snprintf(buf, size, "matrix %lld of the batch", (long long)j->bad + 1);
  return buf;
}

const char *la_name(const la_job *j, const char *routine, char *buf) {
  snprintf(buf, 16, "%c%s", j->cplx ? (j->p ? 'z' : 'c') :
                              (j->p ? 'd' : 's'), routine);
  return buf;
}

int la_singular(const la_job *j) {
  char w[64], r[16];
  int info = j->res[j->bad].info;
  return hebb_fail(HEBB_ERR_ARG, "%s: %s is singular (%s info=%d: "
                   "U(%d,%d) is exactly zero)", j->who,
                   la_which(j, w, sizeof w), la_name(j, "getrf", r), info,
                   info, info);
}

int la_not_converged(const la_job *j, const char *routine) {
  char w[64], r[16];
  int info = j->res[j->bad].info;
  la_name(j, routine, r);
  if (j->count > 1) snprintf(w, sizeof w, " on matrix %lld of the batch",
                             (long long)j->bad + 1);
  else w[0] = 0;
  if (info < 0)   /* an argument refused: la_run screens NaN, so a bug */
    return hebb_fail(HEBB_ERR_ARG, "%s: %s rejected its input%s (info=%d: "
                     "NaN entries?)", j->who, r, w, info);
  return hebb_fail(HEBB_ERR_ARG, "%s: %s did not converge%s (info=%d)",
                   j->who, r, w, info);
}

int la_drop(int st, int n, hebb_tensor **ts) {
  int i;
  for (i = 0; i < n; i++) {
    hebb_release(ts[i]);
    ts[i] = NULL;
  }
  return st;
}

int la_deliver(int n, hebb_tensor ***outs, hebb_tensor **res,
               const char *who) {
  int i, st = HEBB_OK, made[LA_MAXOPS] = {0};
  for (i = 0; i < n && st == HEBB_OK; i++)   /* check every given out first */
    if (outs[i] && *outs[i])
      st = hebb_prepare_out(outs[i], res[i]->dtype, res[i]->ndim,
                            res[i]->shape, who);
  for (i = 0; i < n && st == HEBB_OK; i++) {
    if (!outs[i]) continue;
    if (!*outs[i]) {
      *outs[i] = res[i];
      res[i] = NULL;
      made[i] = 1;
    }
    else st = hebb_copy(*outs[i], res[i]);
  }
  for (i = 0; i < n && st != HEBB_OK; i++)
    if (made[i]) la_drop(0, 1, outs[i]);
  return la_drop(st, n, res);
}

/* --- numbers --------------------------------------------------------- */

double la_eps(int dtype) {
  return la_real(dtype) == HEBB_F64 ? DBL_EPSILON : FLT_EPSILON;
}

int la_lwork(int dtype, const void *q) {
  double v = la_get(dtype, q, 0);
  /* a float may round a large size down: leave a margin */
  if (dtype == HEBB_F32) v = v * (1 + 4 * (double)FLT_EPSILON) + 1;
  return v < 1 ? 1 : v > INT_MAX ? INT_MAX : (int)v;
}

void la_cm_to_rm(int dtype, const void *src, int ld, int rows, int cols,
                 void *dst) {
  int r, c;
  if (dtype == HEBB_C128) {
    const double _Complex *s = src;
    double _Complex *d = dst;
    for (r = 0; r < rows; r++)
      for (c = 0; c < cols; c++)
        d[(int64_t)r * cols + c] = s[r + (int64_t)c * ld];
  }
  else if (dtype == HEBB_C64) {
    const float _Complex *s = src;
    float _Complex *d = dst;
    for (r = 0; r < rows; r++)
      for (c = 0; c < cols; c++)
        d[(int64_t)r * cols + c] = s[r + (int64_t)c * ld];
  }
  else if (dtype == HEBB_F64) {
    const double *s = src;
    double *d = dst;
    for (r = 0; r < rows; r++)
      for (c = 0; c < cols; c++)
        d[(int64_t)r * cols + c] = s[r + (int64_t)c * ld];
  }
  else {
    const float *s = src;
    float *d = dst;
    for (r = 0; r < rows; r++)
      for (c = 0; c < cols; c++)
        d[(int64_t)r * cols + c] = s[r + (int64_t)c * ld];
  }
}

void la_identity(int dtype, void *a, int n) {
  int i, ne = hebb_is_complex(dtype) ? 2 : 1;
  memset(a, 0, (size_t)n * n * (size_t)hebb_dtype_size(dtype));
  for (i = 0; i < n; i++)   /* the real part of a complex element */
    la_put(la_real(dtype), a, ((int64_t)i * n + i) * ne, 1.0);
}

void la_gemm(const la_job *j, int ta, int tb, int m, int n, int k,
             const void *a, int lda, const void *b, int ldb, void *c,
             int ldc) {
  static const int op[2][3] = {
    {HEBB_BLAS_NOTRANS, HEBB_BLAS_TRANS, HEBB_BLAS_TRANS},
    {HEBB_BLAS_NOTRANS, HEBB_BLAS_TRANS, HEBB_BLAS_CONJTRANS}
  };
  int oa = op[j->cplx][ta], ob = op[j->cplx][tb];
  if (j->cplx) {
    static const double one[2] = {1, 0}, zero[2] = {0, 0};
    static const float onef[2] = {1, 0}, zerof[2] = {0, 0};
    if (j->p)
      j->B->zgemm(HEBB_BLAS_ROWMAJOR, oa, ob, m, n, k, one, a, lda, b, ldb,
                  zero, c, ldc);
    else
      j->B->cgemm(HEBB_BLAS_ROWMAJOR, oa, ob, m, n, k, onef, a, lda, b, ldb,
                  zerof, c, ldc);
  }
  else if (j->dtype == HEBB_F64)
    j->B->dgemm(HEBB_BLAS_ROWMAJOR, oa, ob, m, n, k, 1.0, a, lda, b, ldb, 0.0,
                c, ldc);
  else
    j->B->sgemm(HEBB_BLAS_ROWMAJOR, oa, ob, m, n, k, 1.0f, a, lda, b, ldb,
                0.0f, c, ldc);
}

/* --- the SVD, shared by svd, pinv, norm and cond ----------------------- */

/* A row-major m x n matrix is the column-major n x m matrix A^T, whose SVD
   A^T = U' S V'^H gives A = conj(V') S U'^T: LAPACK's column-major U' (n x
   k) is our row-major Vh = U'^T, and its V'^H (k x m) is our row-major U =
   (V'^H)^T = conj(V').  (For real matrices conj does nothing: U and V are
   swapped.)  So the factors need no conjugation in either case. */
int la_gesdd(const la_job *j, char jobz, int m, int n, void *a, void *s,
             void *u, void *vh, void *work) {
  int k = m < n ? m : n, info = 0;
  int lda = la_ld(n), ldu = lda, ldvt = la_ld(jobz == 'A' ? m : k);
  char dummy[32];
  char *rwork = (char *)work + (size_t)j->lwork * la_esize(j);
  int *iwork = (int *)(rwork + (size_t)j->lrwork *
                       (size_t)hebb_dtype_size(j->dtype));
  if (jobz == 'N') u = vh = dummy, ldu = ldvt = 1;
  if (j->cplx)
    j->B->zgesdd[j->p](&jobz, &n, &m, a, &lda, s, vh, &ldu, u, &ldvt, work,
                       &j->lwork, rwork, iwork, &info, 1);
  else
    j->B->gesdd[j->p](&jobz, &n, &m, a, &lda, s, vh, &ldu, u, &ldvt, work,
                      &j->lwork, iwork, &info, 1);
  return info;
}

/* zgesdd does not report the size of its real workspace: LAPACK 3.7's
   documented minimum, for an mn = min(m, n), mx = max(m, n) matrix */
static int zgesdd_lrwork(char jobz, int m, int n) {
  int64_t mn = m < n ? m : n, mx = m < n ? n : m, a, b;
  if (jobz == 'N') return (int)(7 * mn + 1);
  a = 5 * mn * mn + 5 * mn;
  b = 2 * mx * mn + 2 * mn * mn + mn;
  return (int)((a > b ? a : b) + 1);
}

size_t la_gesdd_query(la_job *j, char jobz, int m, int n) {
  int k = m < n ? m : n, lda = la_ld(n), ldu = lda, info = 0, mone = -1;
  int ldvt = la_ld(jobz == 'A' ? m : k), iw;
  double q[2] = {0, 0}, dummy[4] = {0, 0, 0, 0};
  if (j->cplx) {
    j->B->zgesdd[j->p](&jobz, &n, &m, dummy, &lda, dummy, dummy, &ldu, dummy,
                       &ldvt, q, &mone, dummy, &iw, &info, 1);
    j->lrwork = zgesdd_lrwork(jobz, m, n);
  }
  else
    j->B->gesdd[j->p](&jobz, &n, &m, dummy, &lda, dummy, dummy, &ldu, dummy,
                      &ldvt, q, &mone, &iw, &info, 1);
  j->lwork = la_lwork(j->dtype, q);
  return (size_t)j->lwork * la_esize(j) +
         (size_t)j->lrwork * (size_t)hebb_dtype_size(j->dtype) +
         8 * (size_t)(k > 0 ? k : 1) * sizeof(int);
}
