/*
** core.h -- internal declarations shared by the files of the tensor core.
** Not installed; the public API is include/hebb.h.
*/
#ifndef HEBB_CORE_H
#define HEBB_CORE_H

#include <stdarg.h>
#include <stdint.h>

#include "hebb.h"

#define HEBB_VERSION "0.1.0"

/* libhebb.so exports exactly the functions declared in hebb.h's FFI
   block (the build derives a linker version script from it), so the helpers
   declared here stay internal. */
#if defined(__GNUC__)
#define HEBB_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define HEBB_PRINTF(f, a)
#endif

/* Work below this many element-operations (an addition counts 1, exp 16)
   stays on the calling thread.  A fork/join costs 3 us (workers spinning)
   to 30 us (asleep) here, and far more when another process holds the
   other core; measured on the Ising demo (64x64 lattices), a grain of 32k
   made 2 threads slower than 1.  At 256k a parallel region carries at
   least ~80 us of work. */
#define HEBB_PAR_GRAIN 262144

/* Reductions add up blocks of this many elements and combine the block
   results in order, so the grouping (and the bits) never depend on threads. */
#define HEBB_RED_BLOCK 4096

/* Kernels built for baseline x86-64 (SSE2) also get AVX2 and AVX-512
   versions, picked at load time, where the compiler supports them: the
   Klein-Gordon step on 256^2 f32 (fields.c) took 32 us with SSE2, 18 with
   AVX2 and 13.6 with AVX-512 here (a -march=native C loop: 12.3) */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define HEBB_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HEBB_CLONES
#endif

/* --- error.c --- */
int hebb_fail(int status, const char *fmt, ...) HEBB_PRINTF(2, 3);
void *hebb_fail_null(int status, const char *fmt, ...) HEBB_PRINTF(2, 3);

/* --- alloc.c: caching allocator for element storage --- */
void *hebb_alloc_bytes(size_t nbytes);
void hebb_free_bytes(void *p, size_t nbytes);

/* Memory that hebb keeps for reuse (cached blocks, recycled headers) is
   poisoned under AddressSanitizer (make sanitize), so that reuse cannot
   hide a use-after-free; without ASan these are no-ops. */
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#define HEBB_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define HEBB_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define HEBB_POISON(p, n) ((void)(p), (void)(n))
#define HEBB_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* --- tensor.c --- */
/* An owner of storage memory other than alloc.c: release gives the memory
   back when the storage's last reference goes (io_npy.c's file mappings:
   munmap). */
typedef struct hebb_allocator {
  const char *name;
  void (*release)(void *ctx, char *data, int64_t nbytes);
} hebb_allocator;
struct hebb_storage {
  int64_t refcount;
  int64_t nbytes;
  uint64_t version;   /* bumped by in-place writes; autograd checks it */
  char *data;
  const hebb_allocator *allocator;   /* NULL: alloc.c (or inline bytes) */
  void *allocator_ctx;
};
/* a contiguous tensor over nbytes at data that 'a' owns (a->release(ctx,
   ...) when the last reference goes); NULL on failure, and then the
   caller still owns the memory */
hebb_tensor *hebb_tensor_over(int dtype, int ndim, const int64_t *shape,
                              char *data, const hebb_allocator *a, void *ctx);
hebb_tensor *hebb_view_of(hebb_tensor *base);   /* new header, same view */
void hebb_set_contiguous_strides(hebb_tensor *t);
/* hebb_check_dtype refuses complex dtypes ("not supported yet"): the
   check of real-only operations; hebb_check_dtype_any accepts them */
int hebb_check_dtype(int dtype, const char *who);
int hebb_check_dtype_any(int dtype, const char *who);
int hebb_check_dim(const hebb_tensor *t, int dim, const char *who);
/* Checked size arithmetic ("who: too many elements"): no tensor, view or
   not, holds more than HEBB_MAX_ELEMS elements -- 64 PiB of bools, two
   years of work at 1e9 elements/s -- so a count times an element size
   (<= 16) or a cost per element (<= 128) never overflows int64_t.  Sizes
   must be >= 0. */
#define HEBB_MAX_ELEMS ((int64_t)1 << 56)
hebb_status hebb_size_mul(int64_t a, int64_t b, int64_t *r, const char *who);
hebb_status hebb_size_add(int64_t a, int64_t b, int64_t *r, const char *who);
/* the element count of a shape that passed hebb_check_shape */
int64_t hebb_shape_numel(int ndim, const int64_t *shape);
/* Ends a call that made (made != 0) or was given the result *out: on
   failure a result the call made is released, so the caller owns nothing. */
hebb_status hebb_out_end(hebb_tensor **out, int made, int status);
/* Hands n new results res[i] to the caller's out slots outs[i] (a NULL slot:
   not wanted).  A slot holding NULL takes the result itself, a given tensor
   receives a copy; every given out is checked before anything is written.
   res[] ends released and NULL; on failure the slots filled here are NULL
   again. */
hebb_status hebb_out_deliver(int n, hebb_tensor ***outs, hebb_tensor **res,
                             const char *who);
/* releases the n tensors ts[i] (NULLs skipped), sets them NULL, returns st */
hebb_status hebb_drop(int st, int n, hebb_tensor **ts);

/* The one way to drop the const of a tensor the caller lent: sharing it (a
   view, a retain, an operand slot of a loop that only reads it) changes its
   reference count, never its elements, shape or strides. */
static inline hebb_tensor *hebb_unconst(const hebb_tensor *t) {
  return (hebb_tensor *)(uintptr_t)t;
}
static inline hebb_sparse *hebb_sparse_unconst(const hebb_sparse *s) {
  return (hebb_sparse *)(uintptr_t)s;
}

/* Stores the number v at p as an element of dtype: rounded for f32,
   truncated for i64 (hebb_f2i), v != 0 for bool, v + 0i for complex. */
static inline void hebb_put_f64(int dtype, void *p, double v) {
  switch (dtype) {
    case HEBB_F64: *(double *)p = v; break;
    case HEBB_F32: *(float *)p = (float)v; break;
    case HEBB_I64: *(int64_t *)p = hebb_f2i(v); break;
    case HEBB_C128: *(double _Complex *)p = v; break;
    case HEBB_C64: *(float _Complex *)p = (float)v; break;
    default: *(bool *)p = v != 0; break;
  }
}

/* --- iter.c: broadcasting and strided loops --- */
int hebb_broadcast_shape(int na, const int64_t *sa, int nb, const int64_t *sb,
                         int *nout, int64_t *sout, const char *who);
/* Drops size-1 dims and merges neighbours that are contiguous with each
   other in every one of the nsets stride lists; returns the new count. */
int hebb_merge_dims(int n, int64_t *shape, int nsets, int64_t *const *strides);
/* A position in a row-major index space with byte strides. */
typedef struct hebb_odo {
  int n;
  const int64_t *shape, *stride;
  int64_t idx[HEBB_MAXDIM];
  int64_t off;   /* bytes */
} hebb_odo;
void hebb_odo_seek(hebb_odo *d, int n, const int64_t *shape,
                   const int64_t *stride, int64_t flat);
/* moves k places along the last dim (k <= what is left of it) and carries */
void hebb_odo_step(hebb_odo *d, int64_t k);

#define HEBB_MAXOPS 4
/* A loop over up to HEBB_MAXOPS operands sharing one shape.  The innermost
   dimension is handed to 'inner' as a count and per-operand byte strides. */
typedef void (*hebb_inner_fn)(int64_t n, char **ptr, const int64_t *stride,
                              void *ud);
typedef struct hebb_loop {
  int nops;
  int ndim;
  int64_t shape[HEBB_MAXDIM];
  int64_t stride[HEBB_MAXOPS][HEBB_MAXDIM];   /* bytes */
  char *base[HEBB_MAXOPS];
} hebb_loop;
/* ops[0] is the output; shapes must already agree (after broadcasting). */
void hebb_loop_init(hebb_loop *lp, int nops, hebb_tensor *const *ops,
                    int ndim, const int64_t *shape);
int hebb_loop_run(const hebb_loop *lp, hebb_inner_fn fn, void *ud,
                  int64_t cost_per_elem);

/* --- parallel.c --- */
typedef void (*hebb_range_fn)(int64_t lo, int64_t hi, void *ud);
/* Runs fn over [0, n) in contiguous chunks, in parallel when n*cost is big
   enough.  Returns HEBB_ERR_INTERRUPTED if an interrupt arrived.  The
   chunks change with the thread count and the machine's load, so fn must
   give the same bits however [0, n) is cut. */
int hebb_parallel_for(int64_t n, int64_t cost, hebb_range_fn fn, void *ud);
int hebb_check_interrupt(void);   /* status, with message */

/* --- view.c --- */

/* --- random.c --- */
/* one Philox-4x32-10 block (Random123's word order), for the known-answer
   tests */
void hebb_philox4x32(const uint32_t ctr[4], const uint32_t key[2],
                     uint32_t out[4]);
/* the n 64-bit words at positions pos, pos+1, ... of (seed, stream): the
   words a draw at counter pos would use (Monte Carlo updates key their
   draws by position, see lattice.c) */
void hebb_philox_words(uint64_t seed, uint64_t stream, uint64_t pos,
                       int64_t n, uint64_t *out);

/* --- blas.c: OpenBLAS's CBLAS entry points, loaded on first use (the
   enum arguments take CBLAS's values: row-major 101, no-trans 111, trans
   112) --- */
typedef void (*hebb_dgemm_fn)(int order, int ta, int tb, int m, int n, int k,
                              double alpha, const double *a, int lda,
                              const double *b, int ldb, double beta,
                              double *c, int ldc);
typedef void (*hebb_sgemm_fn)(int order, int ta, int tb, int m, int n, int k,
                              float alpha, const float *a, int lda,
                              const float *b, int ldb, float beta, float *c,
                              int ldc);
typedef double (*hebb_ddot_fn)(int n, const double *x, int incx,
                               const double *y, int incy);
typedef float (*hebb_sdot_fn)(int n, const float *x, int incx,
                              const float *y, int incy);
/* complex gemm and unconjugated dot (z: c128, c: c64): alpha, beta and
   the dot's result go by pointer, matrices as (re, im) pairs */
typedef void (*hebb_zgemm_fn)(int order, int ta, int tb, int m, int n, int k,
                              const void *alpha, const void *a, int lda,
                              const void *b, int ldb, const void *beta,
                              void *c, int ldc);
typedef void (*hebb_zdotu_fn)(int n, const void *x, int incx, const void *y,
                              int incy, void *result);
/* LAPACK's Fortran entry points (linalg*.c): every argument by reference,
   and a character argument adds a hidden length (size_t) at the end, as
   gfortran passes it.  The s and d routines share one type: their real
   arrays and scalars are void * (float or double, by the dtype). */
typedef void (*hebb_getrf_fn)(const int *m, const int *n, void *a,
                              const int *lda, int *ipiv, int *info);
typedef void (*hebb_getri_fn)(const int *n, void *a, const int *lda,
                              const int *ipiv, void *work, const int *lwork,
                              int *info);
typedef void (*hebb_getrs_fn)(const char *trans, const int *n,
                              const int *nrhs, const void *a, const int *lda,
                              const int *ipiv, void *b, const int *ldb,
                              int *info, size_t ltrans);
typedef void (*hebb_potrf_fn)(const char *uplo, const int *n, void *a,
                              const int *lda, int *info, size_t luplo);
typedef void (*hebb_geqrf_fn)(const int *m, const int *n, void *a,
                              const int *lda, void *tau, void *work,
                              const int *lwork, int *info);
typedef void (*hebb_orgqr_fn)(const int *m, const int *n, const int *k,
                              void *a, const int *lda, const void *tau,
                              void *work, const int *lwork, int *info);
typedef void (*hebb_syevd_fn)(const char *jobz, const char *uplo,
                              const int *n, void *a, const int *lda, void *w,
                              void *work, const int *lwork, int *iwork,
                              const int *liwork, int *info, size_t ljobz,
                              size_t luplo);
/* cheevd_/zheevd_: the complex Hermitian eigensolver */
typedef void (*hebb_heevd_fn)(const char *jobz, const char *uplo,
                              const int *n, void *a, const int *lda, void *w,
                              void *work, const int *lwork, void *rwork,
                              const int *lrwork, int *iwork,
                              const int *liwork, int *info, size_t ljobz,
                              size_t luplo);
/* cgeev_/zgeev_: eigenvalues and vectors of a general complex matrix */
typedef void (*hebb_geev_fn)(const char *jobvl, const char *jobvr,
                             const int *n, void *a, const int *lda, void *w,
                             void *vl, const int *ldvl, void *vr,
                             const int *ldvr, void *work, const int *lwork,
                             void *rwork, int *info, size_t ljobvl,
                             size_t ljobvr);
typedef void (*hebb_gesdd_fn)(const char *jobz, const int *m, const int *n,
                              void *a, const int *lda, void *s, void *u,
                              const int *ldu, void *vt, const int *ldvt,
                              void *work, const int *lwork, int *iwork,
                              int *info, size_t ljobz);
typedef void (*hebb_gelsd_fn)(const int *m, const int *n, const int *nrhs,
                              void *a, const int *lda, void *b,
                              const int *ldb, void *s, const void *rcond,
                              int *rank, void *work, const int *lwork,
                              int *iwork, int *info);
/* cgesdd_/zgesdd_ and cgelsd_/zgelsd_: as the real ones plus a real
   workspace (rwork) */
typedef void (*hebb_zgesdd_fn)(const char *jobz, const int *m, const int *n,
                               void *a, const int *lda, void *s, void *u,
                               const int *ldu, void *vt, const int *ldvt,
                               void *work, const int *lwork, void *rwork,
                               int *iwork, int *info, size_t ljobz);
typedef void (*hebb_zgelsd_fn)(const int *m, const int *n, const int *nrhs,
                               void *a, const int *lda, void *b,
                               const int *ldb, void *s, const void *rcond,
                               int *rank, void *work, const int *lwork,
                               void *rwork, int *iwork, int *info);
typedef struct hebb_blas_api {
  hebb_dgemm_fn dgemm;
  hebb_sgemm_fn sgemm;
  hebb_ddot_fn ddot;
  hebb_sdot_fn sdot;
  hebb_zgemm_fn zgemm, cgemm;   /* same type: pointers carry the width */
  hebb_zdotu_fn zdotu, cdotu;
  /* LAPACK: [0] single (s...), [1] double (d...) precision; the routines
     with the same arguments for complex matrices also [2] c..., [3] z...
     (orgqr: cungqr, zungqr) */
  hebb_getrf_fn getrf[4];
  hebb_getri_fn getri[4];
  hebb_getrs_fn getrs[4];
  hebb_potrf_fn potrf[4];
  hebb_geqrf_fn geqrf[4];
  hebb_orgqr_fn orgqr[4];
  hebb_syevd_fn syevd[2];
  hebb_gesdd_fn gesdd[2];
  hebb_gelsd_fn gelsd[2];
  hebb_heevd_fn heevd[2];   /* [0] cheevd, [1] zheevd */
  hebb_geev_fn geev[2];     /* [0] cgeev, [1] zgeev */
  hebb_zgesdd_fn zgesdd[2]; /* [0] cgesdd, [1] zgesdd */
  hebb_zgelsd_fn zgelsd[2]; /* [0] cgelsd, [1] zgelsd */
} hebb_blas_api;
enum { HEBB_BLAS_ROWMAJOR = 101, HEBB_BLAS_NOTRANS = 111, HEBB_BLAS_TRANS = 112,
       HEBB_BLAS_CONJTRANS = 113 };
/* the loaded library, or NULL with an error naming 'who' */
const hebb_blas_api *hebb_blas(const char *who);

/* The tiles matmul.c cuts a gemm's result into (items of rows x n, work
   multiply-adds in all), from the shapes alone so that the same gemm calls
   and bits happen at any thread count; backward.c's accumulating gemm
   uses the same ones.  tr x tc tiles of at most rm x rn. */
typedef struct hebb_gemm_tiles { int64_t tr, tc, rm, rn; } hebb_gemm_tiles;
void hebb_gemm_tiling(int64_t items, int64_t rows, int64_t n, int64_t work,
                      hebb_gemm_tiles *t);
/* LAPACK's error handler, silent (blas.c says why) */
void xerbla_(const char *name, const int *info, size_t len);
/* A shared library opened with dlopen on first use (OpenBLAS here, FFTW in
   fft.c); error keeps the first failure, so a load succeeded iff it is
   still empty after all the symbols were looked up. */
typedef struct hebb_dynlib {
  const char *name;   /* the soname to open */
  void *handle;
  char error[400];
} hebb_dynlib;
bool hebb_dl_open(hebb_dynlib *d);
/* the symbol prefix..name of d, or NULL (noted in d->error) */
void *hebb_dl_sym(hebb_dynlib *d, const char *prefix, const char *name);


/* --- reduce.c: helpers shared by reduce.c, argreduce.c and scan.c --- */
static inline int64_t hebb_iabs64(int64_t x) { return x < 0 ? -x : x; }
/* A reduction of a seen as m results ("kept" index space) of n elements
   each ("reduced" index space), both with byte strides from base, merged
   and at least 1-d; nb blocks of `block` elements per result (at least 1). */
typedef struct hebb_redplan {
  int nk, nr;
  int64_t kshape[HEBB_MAXDIM], kstride[HEBB_MAXDIM];
  int64_t rshape[HEBB_MAXDIM], rstride[HEBB_MAXDIM];
  int64_t m, n, nb;
  const char *base;
} hebb_redplan;
/* red[i]: whether dim i is reduced.  sorted orders the reduced dims by
   decreasing |stride| (stable) for memory order; otherwise they keep the
   logical order, whose flat index callers may report. */
void hebb_redplan_make(hebb_redplan *pl, const hebb_tensor *a,
                       const bool *red, bool sorted, int64_t block);
/* --- complex.c --- */
/* hebb_reduce of a complex tensor (sum, mean, norms; others refused) */
int hebb_reduce_complex(int op, const hebb_tensor *a, int ndims,
                        const int *dims, bool keepdim, hebb_tensor **out);

/* --- ewise.c: shared by the elementwise kernels --- */
/* the common dtype of n operands, weak (HEBB_TF_WEAK) ones not widening */
int hebb_weak_promote(int n, const hebb_tensor *const *ts);
/* An input seen in the dtype a kernel computes in: t itself, a converted
   single element held in 'one', or a converted temporary 'tmp'. */
typedef struct hebb_cast {
  hebb_tensor *t;
  hebb_tensor *tmp;
  union {
    double f64; float f32; int64_t i64; bool b;
    double _Complex c128; float _Complex c64;
  } val;
  hebb_tensor one;
} hebb_cast;
int hebb_cast_init(hebb_cast *c, const hebb_tensor *t, int dtype);
void hebb_cast_free(hebb_cast *c);
/* Runs fn over ops (ops[0] the output, shapes already broadcast); flat
   operands skip the loop set-up, tiny work goes straight to fn. */
int hebb_ewise_run(int nops, hebb_tensor *const *ops, int ndim,
                   const int64_t *shape, hebb_inner_fn fn, void *ud,
                   int64_t cost);

/* --- unary.c, binary.c: their kernels, for fuse.c --- */
/* the kernel of op computing in dtype (a unary one writes that dtype too)
   and its cost per element; NULL where there is none */
hebb_inner_fn hebb_unary_kernel(int op, int dtype, int64_t *cost);
hebb_inner_fn hebb_binary_kernel(int op, int ct, int64_t *cost);

/* --- sparse.c: the CSR matrix behind hebb_sparse --- */
struct hebb_sparse {
  int64_t refcount;
  int64_t nrows, ncols, nnz;
  int64_t *rowptr;   /* nrows + 1 */
  int64_t *col;      /* nnz, 0-based, increasing within a row */
  double *val;       /* nnz (f64), or nnz (re, im) pairs (c128) */
  int dtype;         /* HEBB_F64 or HEBB_C128 */
};
/* doubles per stored value: 2 for c128 (re, im), 1 for f64 */
static inline int hebb_sparse_width(int dtype) {
  return dtype == HEBB_C128 ? 2 : 1;
}
/* y = s x for contiguous x (ncols) and y (nrows) of s's dtype (c128:
   (re, im) pairs); no checks */
int hebb_sparse_spmv(const hebb_sparse *s, const double *x, double *y);

#endif
