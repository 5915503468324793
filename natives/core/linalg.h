/*
** linalg.h -- internal to linalg*.c: a batch of matrices handed to LAPACK
** one matrix at a time, spread over hebb's threads.
**
** LAPACK is column-major and hebb row-major.  A row-major buffer read as
** column-major holds the transpose, so each routine either works on the
** transpose knowingly (inv(A^T) = inv(A)^T, a symmetric matrix is its own
** transpose, the SVD of A^T is the SVD of A with U and V swapped) or gets
** a transposed copy (la_load with trans).
**
** For complex matrices the buffer still holds the plain transpose A^T,
** not the conjugate transpose A^H: identities through the transpose
** (inv, det, getrs with 'T') carry over unchanged, while a Hermitian
** matrix is seen as A^T = conj(A) (see each routine for what that does to
** its factors).
*/
#ifndef HEBB_LINALG_H
#define HEBB_LINALG_H

#include <string.h>

#include "core.h"

#define LA_MAXOPS 5

/* what happened to one matrix: LAPACK's info, or an op's own condition */
typedef struct la_res {
  int info;       /* 0: fine */
  int what;       /* which routine/condition, op-specific (0: LAPACK) */
  double val;     /* an offending value, for messages */
} la_res;

typedef struct la_job la_job;
/* computes matrix k; 'work' is this thread's workspace (wbytes) */
typedef void (*la_kernel)(const la_job *j, int64_t k, void *work,
                          la_res *r);

struct la_job {
  const char *who;
  const hebb_blas_api *B;
  int dtype;               /* HEBB_F64 or HEBB_F32: the real part of the
                              elements of complex jobs */
  int p;                   /* precision: 1 double, 0 single */
  int m, n, k;             /* sizes, op-specific */
  int lwork, liwork;       /* from a workspace query */
  int lrwork;              /* real workspace of complex routines */
  int cplx;                /* 1: complex routines (c, z), dtype their real
                              part */
  int64_t count;           /* matrices in the batch */
  int64_t cost;            /* flops per matrix, in elements of the job's
                              dtype (la_run counts a complex one as 4) */
  size_t wbytes;
  char *x[LA_MAXOPS];      /* operand k of matrix i at x + i*step */
  int64_t step[LA_MAXOPS]; /* bytes */
  char opt;                /* op-specific (jobz, ...) */
  double param;            /* op-specific (power, rcond, ...) */
  int64_t iparam;          /* op-specific (integer power) */
  la_kernel fn;
  unsigned in;             /* bit i: slot i holds input that LAPACK reads */
  const char *routine;     /* ... through this routine ("geev"), named in
                              la_run's refusal of non-finite input */
  la_res *res;             /* one per matrix, set by la_run */
  int64_t bad;             /* the first matrix with res.info != 0, or -1 */
};

/* the compute dtype (f32, c64 and c128 stay, other dtypes become f64) */
int la_dtype(const hebb_tensor *a, const char *who, int *dtype);
/* the compute dtype of a pair of operands: complex if either is, double
   precision if either is (f64 with c64 is c128, as numpy does) */
int la_pair_dtype(const hebb_tensor *a, const hebb_tensor *b,
                  const char *who, int *dtype);
/* a is a (batch of) matrices, square if asked; sets rows and columns */
int la_matrices(const hebb_tensor *a, int square, const char *who, int *m,
                int *n);
/* A contiguous copy of the matrices of a in dtype, broadcast to the batch
   shape (nb dims); with trans each matrix is stored transposed. */
hebb_tensor *la_load(const hebb_tensor *a, int dtype, int nb,
                     const int64_t *bshape, int trans);
/* la_load for a buffer LAPACK destroys, with slack after its end for
   complex dtypes (see linalg.c) */
hebb_tensor *la_load_scratch(const hebb_tensor *a, int dtype, int nb,
                             const int64_t *bshape, int trans);
/* la_new (with both dims) for a matrix LAPACK writes, with the same
   slack */
hebb_tensor *la_new_padded(int dtype, int nb, const int64_t *bshape,
                           int64_t r, int64_t c);
/* a new tensor: batch shape + up to two more dims (-1: absent) */
hebb_tensor *la_new(int dtype, int nb, const int64_t *bshape, int64_t r,
                    int64_t c);
/* checks a (a batch of matrices, square if asked; sets dt, m, n) and sets
   up j for its batch, with j->m and j->n its rows and columns; dt is the
   compute dtype (maybe complex), j->dtype its real part */
int la_batch(const hebb_tensor *a, int square, const char *who, int *dt,
             int *m, int *n, la_job *j);
/* sets up j for a batch of 'count' matrices of dtype (a complex dtype
   sets j->cplx) */
int la_begin(la_job *j, const char *who, int dtype, int64_t count);
/* operand slot i: the tensor t, one matrix of it per batch element */
void la_operand(la_job *j, int i, hebb_tensor *t);
/* la_operand for a slot LAPACK's 'routine' reads (loaded in j's dtype):
   la_run refuses to start when it holds inf or NaN */
void la_input(la_job *j, int i, hebb_tensor *t, const char *routine);
/* runs j->fn over the batch; j->bad is the first failure (or -1) */
int la_run(la_job *j);
void la_end(la_job *j);
/* "matrix" or "matrix 3 of the batch", for messages about j->bad */
const char *la_which(const la_job *j, char *buf, size_t size);
/* "dgetrf" or "sgetrf" ("zheevd" or "cheevd" for complex jobs) */
const char *la_name(const la_job *j, const char *routine, char *buf);
/* moves the results into the caller's out slots (hebb.h convention); on
   failure releases everything and leaves the made outs NULL */
int la_deliver(int n, hebb_tensor ***outs, hebb_tensor **res,
               const char *who);
/* the error of a singular matrix j->bad, from getrf's info */
int la_singular(const la_job *j);
/* the error of a routine that failed to converge on matrix j->bad */
int la_not_converged(const la_job *j, const char *routine);
/* releases n tensors (NULLs skipped) and returns st */
int la_drop(int st, int n, hebb_tensor **ts);

/* the index into the blas api's [4] tables: s d c z */
static inline int la_ix(const la_job *j) { return j->p + 2 * j->cplx; }
/* the dtype of j's matrices (complex for complex jobs) */
static inline int la_tdtype(const la_job *j) {
  return !j->cplx ? j->dtype : j->p ? HEBB_C128 : HEBB_C64;
}
/* the bytes of one matrix element of j; the reals per element */
static inline size_t la_esize(const la_job *j) {
  return (size_t)hebb_dtype_size(j->dtype) * (j->cplx ? 2 : 1);
}
static inline int la_ne(const la_job *j) { return j->cplx ? 2 : 1; }
/* the real dtype of a dtype's elements */
static inline int la_real(int dtype) {
  return dtype == HEBB_C128 ? HEBB_F64 : dtype == HEBB_C64 ? HEBB_F32 : dtype;
}

/* a leading dimension: LAPACK wants at least 1 even for empty matrices */
static inline int la_ld(int n) { return n > 1 ? n : 1; }

/* matrix i of operand slot s */
static inline void *la_mat(const la_job *j, int s, int64_t i) {
  return j->x[s] + i * j->step[s];
}

/* element access in the compute dtype */
static inline double la_get(int dtype, const void *p, int64_t i) {
  return dtype == HEBB_F64 ? ((const double *)p)[i] : ((const float *)p)[i];
}
static inline void la_put(int dtype, void *p, int64_t i, double v) {
  if (dtype == HEBB_F64) ((double *)p)[i] = v;
  else ((float *)p)[i] = (float)v;
}
/* complex elements: dtype is the real part's (f64: c128, f32: c64) */
static inline double _Complex la_getz(int dtype, const void *p, int64_t i) {
  return dtype == HEBB_F64 ? ((const double _Complex *)p)[i] :
                             (double _Complex)((const float _Complex *)p)[i];
}
static inline void la_putz(int dtype, void *p, int64_t i, double _Complex v) {
  if (dtype == HEBB_F64) ((double _Complex *)p)[i] = v;
  else ((float _Complex *)p)[i] = (float _Complex)v;
}

/* machine epsilon of dtype's precision (real or complex) */
double la_eps(int dtype);
/* a workspace size LAPACK returned in *q (a float or double: the real part
   of a complex one) */
int la_lwork(int dtype, const void *q);
/* dst (rows x cols, row-major) from the column-major src with leading
   dimension ld; dtype the elements' (real or complex) */
void la_cm_to_rm(int dtype, const void *src, int ld, int rows, int cols,
                 void *dst);
/* element (r, c) of a matrix with es-byte elements and row stride ld (in
   elements), copied */
static inline void la_copy_el(size_t es, void *dst, int64_t di,
                              const void *src, int64_t si) {
  memcpy((char *)dst + (size_t)di * es, (const char *)src + (size_t)si * es,
         es);
}
/* the n x n identity in dtype (real or complex) */
void la_identity(int dtype, void *a, int n);
/* row-major C = op(A) op(B) (alpha 1, beta 0) in j's dtype, ta/tb 0 for
   A, 1 for the transpose, 2 for the conjugate transpose (the transpose
   for real jobs) */
void la_gemm(const la_job *j, int ta, int tb, int m, int n, int k,
             const void *a, int lda, const void *b, int ldb, void *c,
             int ldc);
/* the singular values of a row-major m x n matrix in 'a' (destroyed) into
   s (min(m,n), descending, real); with u and vh (not NULL) also the
   factors, row-major; work holds j->lwork elements (real or complex),
   then j->lrwork reals (complex jobs) and 8 min(m,n) ints */
int la_gesdd(const la_job *j, char jobz, int m, int n, void *a, void *s,
             void *u, void *vh, void *work);
/* the workspace query of la_gesdd: sets j->lwork and returns its bytes */
size_t la_gesdd_query(la_job *j, char jobz, int m, int n);

#endif
