/*
** hebb.h -- public C API of the hebb tensor core (libhebb).
**
** The block between the FFI-BEGIN and FFI-END marker lines is plain C that
** LuaJIT's ffi.cdef accepts verbatim: no macros, no static inline, integer
** constants as enums, floating constants as functions.  tests/ffi checks it.
**
** Conventions
**  - Functions that make a tensor return it (caller owns one reference) or
**    NULL on failure; functions that compute into a tensor take
**    'hebb_tensor **out': when *out is NULL a new tensor is made and stored
**    there, otherwise the result is written into *out (which must have the
**    result's shape).  Both return a hebb_status (0 = HEBB_OK).
**  - On failure hebb_last_status()/hebb_last_error() describe the problem for
**    the calling thread.  The core never prints, aborts or exits.
**  - Dimensions and indices are 0-based here; the Lua layer maps its 1-based
**    indices onto these.
**  - A tensor is owned by one interpreter thread: reference counts are not
**    atomic.  Worker threads only ever touch element data.
*/
#ifndef HEBB_H
#define HEBB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* FFI-BEGIN */

typedef enum hebb_dtype {
  HEBB_F64 = 0,
  HEBB_F32 = 1,
  HEBB_I64 = 2,
  HEBB_BOOL = 3,
  HEBB_C128 = 4,   /* double _Complex (C99) */
  HEBB_C64 = 5,    /* float _Complex */
  HEBB_NDTYPES = 6
} hebb_dtype;

enum { HEBB_MAXDIM = 16 };

typedef enum hebb_status {
  HEBB_OK = 0,
  HEBB_ERR_ARG = 1,          /* bad argument value */
  HEBB_ERR_SHAPE = 2,        /* shapes do not fit */
  HEBB_ERR_DTYPE = 3,        /* dtype not supported by the operation */
  HEBB_ERR_INDEX = 4,        /* index out of range */
  HEBB_ERR_NOMEM = 5,        /* allocation failed */
  HEBB_ERR_INTERRUPTED = 6,  /* hebb_interrupt() was called */
  HEBB_ERR_UNSUPPORTED = 7,  /* not implemented for these arguments */
  HEBB_ERR_IO = 8            /* file or format error */
} hebb_status;

/* tensor flags */
enum {
  HEBB_TF_WEAK = 1,    /* a wrapped scalar: takes part in broadcasting but
                          does not promote the dtype of the other operand */
  HEBB_TF_TRACKED = 2, /* autograd records operations on it (Lua layer) */
  HEBB_TF_BOXED = 4    /* header and elements live inside a Lua box (Lua
                          layer's small tensors; storage NULL): never
                          retained, and hebb_release never frees it */
};

typedef struct hebb_storage hebb_storage;

/* A tensor is a strided view of a reference-counted storage.  The element
   at index (i0, i1, ...) lives at data + (offset + sum ik*stride[k]) *
   itemsize.  Fields are public for reading; change them only through the
   API. */
typedef struct hebb_tensor {
  int32_t dtype;              /* hebb_dtype */
  int32_t ndim;               /* 0 .. HEBB_MAXDIM */
  int32_t flags;              /* HEBB_TF_* */
  int32_t refcount;
  int64_t offset;             /* in elements, from data */
  char *data;                 /* base address of the storage's memory */
  hebb_storage *storage;      /* NULL for a borrowed (wrapped) buffer */
  int64_t shape[HEBB_MAXDIM];
  int64_t stride[HEBB_MAXDIM];  /* in elements; may be 0 (broadcast) or < 0 */
} hebb_tensor;

typedef struct hebb_alloc_stats {
  int64_t bytes_in_use;       /* held by live storages */
  int64_t bytes_cached;       /* freed blocks kept for reuse */
  int64_t bytes_peak;         /* high-water mark of bytes_in_use */
  int64_t n_alloc;            /* allocation requests */
  int64_t n_reused;           /* requests served from the cache */
} hebb_alloc_stats;

/* generator state: Philox-4x32-10, a counter-based generator.  A draw is a
   pure function of (key, counter), so results never depend on threading or
   on how draws are chunked. */
typedef struct hebb_rng {
  uint64_t seed;
  uint64_t stream;
  uint64_t counter;           /* position of the next 64-bit word: element
                                 i of a draw uses word counter + i, then the
                                 counter advances by the element count */
} hebb_rng;

/* elementwise unary operations */
typedef enum hebb_unop {
  HEBB_NEG = 0, HEBB_ABS, HEBB_SIGN, HEBB_EXP, HEBB_LOG, HEBB_LOG1P,
  HEBB_EXPM1, HEBB_SQRT, HEBB_SIN, HEBB_COS, HEBB_TAN, HEBB_TANH,
  HEBB_SINH, HEBB_COSH, HEBB_ASIN, HEBB_ACOS, HEBB_ATAN, HEBB_SIGMOID,
  HEBB_RELU, HEBB_SOFTPLUS, HEBB_FLOOR, HEBB_CEIL, HEBB_ROUND,
  HEBB_LOGICAL_NOT, HEBB_RECIPROCAL, HEBB_SQUARE,
  HEBB_NUNOPS
} hebb_unop;

/* elementwise binary operations; comparisons give bool */
typedef enum hebb_binop {
  HEBB_ADD = 0, HEBB_SUB, HEBB_MUL, HEBB_DIV, HEBB_IDIV, HEBB_MOD,
  HEBB_POW, HEBB_MIN, HEBB_MAX, HEBB_ATAN2,
  HEBB_EQ, HEBB_NE, HEBB_LT, HEBB_LE, HEBB_GT, HEBB_GE,
  HEBB_AND, HEBB_OR, HEBB_XOR,
  HEBB_NBINOPS
} hebb_binop;

/* reductions */
typedef enum hebb_redop {
  HEBB_SUM = 0, HEBB_PROD, HEBB_MEAN, HEBB_RMIN, HEBB_RMAX,
  HEBB_ARGMIN, HEBB_ARGMAX, HEBB_VAR, HEBB_STD, HEBB_NORM1, HEBB_NORM2,
  HEBB_NORMINF, HEBB_LOGSUMEXP, HEBB_ANY, HEBB_ALL,
  HEBB_NREDOPS
} hebb_redop;

/* --- library, errors, threads ------------------------------------------ */
const char *hebb_version(void);
hebb_status hebb_last_status(void);
const char *hebb_last_error(void);
void hebb_clear_error(void);

void hebb_set_num_threads(int n);
int hebb_get_num_threads(void);
void hebb_interrupt(void);            /* async-signal-safe */
void hebb_clear_interrupt(void);
bool hebb_interrupt_pending(void);

void hebb_alloc_get_stats(hebb_alloc_stats *st);
void hebb_alloc_trim(void);           /* return cached blocks to the OS */
/* A cap on the bytes of tensor storage in use (0: none), as --max-memory,
   HEBB_MAX_MEMORY and hebb.max_memory set it.  A request past it first
   calls the reclaim hook, if one was set on this thread (the Lua bindings
   run a full collection there), then fails: status HEBB_ERR_NOMEM, message
   "out of memory: 8.0 GiB requested, limit 1.0 GiB (12.0 MiB in use)". */
int64_t hebb_alloc_set_limit(int64_t bytes);   /* returns the previous cap */
int64_t hebb_alloc_get_limit(void);
typedef void (*hebb_reclaim_fn)(void *ud);
void hebb_alloc_set_reclaim(hebb_reclaim_fn fn, void *ud);   /* NULL: none */
/* "2G", "512M", "1.5G", "64K", "1000000" (bytes; K, M, G, T are powers of
   1024, an optional B or iB may follow) -> bytes; -1 if not a size */
int64_t hebb_parse_size(const char *s);

size_t hebb_sizeof_tensor(void);
size_t hebb_sizeof_alloc_stats(void);
size_t hebb_sizeof_rng(void);
int hebb_dtype_size(int dtype);
const char *hebb_dtype_name(int dtype);
int hebb_dtype_from_name(const char *name);   /* -1 if unknown */
int hebb_promote(int a, int b);

/* --- lifetime and inspection ------------------------------------------- */
hebb_tensor *hebb_empty(int dtype, int ndim, const int64_t *shape);
hebb_tensor *hebb_zeros(int dtype, int ndim, const int64_t *shape);
hebb_tensor *hebb_full(int dtype, int ndim, const int64_t *shape, double value);
hebb_tensor *hebb_from_buffer(int dtype, int ndim, const int64_t *shape,
                              const void *src);   /* copies src */
void hebb_retain(hebb_tensor *t);
void hebb_release(hebb_tensor *t);
int64_t hebb_numel(const hebb_tensor *t);
bool hebb_is_contiguous(const hebb_tensor *t);
void *hebb_data_ptr(const hebb_tensor *t);        /* first element */
uint64_t hebb_version_counter(const hebb_tensor *t);
void hebb_bump_version(hebb_tensor *t);
bool hebb_same_storage(const hebb_tensor *a, const hebb_tensor *b);
hebb_status hebb_get(const hebb_tensor *t, const int64_t *index, double *value);
hebb_status hebb_get_i64(const hebb_tensor *t, const int64_t *index,
                         int64_t *value);
hebb_status hebb_set(hebb_tensor *t, const int64_t *index, double value);
hebb_status hebb_set_i64(hebb_tensor *t, const int64_t *index, int64_t value);

/* --- views (never copy) ------------------------------------------------ */
hebb_tensor *hebb_view(hebb_tensor *t, int ndim, const int64_t *shape);
hebb_tensor *hebb_reshape(hebb_tensor *t, int ndim, const int64_t *shape);
hebb_tensor *hebb_as_strided(hebb_tensor *t, int ndim, const int64_t *shape,
                             const int64_t *stride, int64_t offset);
hebb_tensor *hebb_narrow(hebb_tensor *t, int dim, int64_t start, int64_t length);
hebb_tensor *hebb_slice(hebb_tensor *t, int dim, int64_t start, int64_t stop,
                        int64_t step);
hebb_tensor *hebb_select(hebb_tensor *t, int dim, int64_t index);
hebb_tensor *hebb_transpose(hebb_tensor *t, int dim0, int dim1);
hebb_tensor *hebb_permute(hebb_tensor *t, const int *dims);
hebb_tensor *hebb_expand(hebb_tensor *t, int ndim, const int64_t *shape);
hebb_tensor *hebb_squeeze(hebb_tensor *t, int dim);       /* dim -1: all */
hebb_tensor *hebb_unsqueeze(hebb_tensor *t, int dim);
hebb_tensor *hebb_flatten(hebb_tensor *t, int start_dim, int end_dim);
hebb_tensor *hebb_diagonal(hebb_tensor *t, int64_t offset, int dim1, int dim2);

/* --- copies and conversion --------------------------------------------- */
/* src broadcast to dst's shape and converted to its dtype */
hebb_status hebb_copy(hebb_tensor *dst, const hebb_tensor *src);
hebb_status hebb_fill(hebb_tensor *t, double value);
hebb_status hebb_fill_i64(hebb_tensor *t, int64_t value);
hebb_tensor *hebb_clone(const hebb_tensor *t);
hebb_tensor *hebb_contiguous(hebb_tensor *t);   /* t itself (retained) if already */
hebb_tensor *hebb_astype(const hebb_tensor *t, int dtype);

/* --- creation ---------------------------------------------------------- */
hebb_tensor *hebb_arange(int dtype, double start, double step, int64_t n);
hebb_tensor *hebb_linspace(int dtype, double start, double stop, int64_t n);
hebb_tensor *hebb_eye(int dtype, int64_t n, int64_t m);

/* --- elementwise ------------------------------------------------------- */
hebb_status hebb_unary(int op, const hebb_tensor *a, hebb_tensor **out);
hebb_status hebb_binary(int op, const hebb_tensor *a, const hebb_tensor *b,
                        hebb_tensor **out);
hebb_status hebb_clamp(const hebb_tensor *a, double lo, double hi,
                       hebb_tensor **out);
hebb_status hebb_where(const hebb_tensor *cond, const hebb_tensor *a,
                       const hebb_tensor *b, hebb_tensor **out);
/* c + a*b */
hebb_status hebb_addcmul(const hebb_tensor *c, const hebb_tensor *a,
                         const hebb_tensor *b, hebb_tensor **out);

/* --- complex numbers -------------------------------------------------- */
/* parts of a complex tensor: real, imag, abs and angle give the real dtype
   of the same width (c128 -> f64, c64 -> f32), conj the input's dtype; a
   real input is seen as complex with imaginary part 0 */
typedef enum hebb_cpart {
  HEBB_REAL = 0, HEBB_IMAG, HEBB_CONJ, HEBB_CABS, HEBB_ANGLE,
  HEBB_NCPARTS
} hebb_cpart;
/* re + i*im (broadcast; real inputs): c64 when both are f32, else c128 */
hebb_status hebb_complex(const hebb_tensor *re, const hebb_tensor *im,
                         hebb_tensor **out);
hebb_status hebb_complex_part(int part, const hebb_tensor *a,
                              hebb_tensor **out);

/* --- reductions -------------------------------------------------------- */
/* dims: ndims entries (0-based, distinct); ndims == 0 reduces everything.
   correction is used by VAR/STD only.  Every reduction splits its work into
   blocks of a fixed size and combines them in a fixed order, so results are
   the same bits at any thread count. */
hebb_status hebb_reduce(int op, const hebb_tensor *a, int ndims,
                        const int *dims, bool keepdim, int64_t correction,
                        hebb_tensor **out);
/* ARGMIN/ARGMAX along one dim (dim -1: over the flattened tensor); the
   result is i64 counting from 'base' */
hebb_status hebb_argreduce(int op, const hebb_tensor *a, int dim, bool keepdim,
                           int64_t base, hebb_tensor **out);
hebb_status hebb_cumsum(const hebb_tensor *a, int dim, hebb_tensor **out);
hebb_status hebb_cumprod(const hebb_tensor *a, int dim, hebb_tensor **out);
/* the full sum as a double: what hebb_reduce(HEBB_SUM) would hold (an f32
   sum rounded to f32, an i64 sum exact and then converted) */
hebb_status hebb_sum_all(const hebb_tensor *a, double *result);
/* whether |a - b| <= atol + rtol*|b| everywhere (a and b broadcast; NaNs
   are close to each other only with equal_nan) / whether a and b have the
   same shape and equal elements */
hebb_status hebb_allclose(const hebb_tensor *a, const hebb_tensor *b,
                          double rtol, double atol, bool equal_nan,
                          bool *result);
hebb_status hebb_equal(const hebb_tensor *a, const hebb_tensor *b,
                       bool *result);

/* --- indexing ---------------------------------------------------------- */
/* index tensors are i64 and count from 'base' (0 in C, 1 from Lua) */
hebb_status hebb_index_select(const hebb_tensor *a, int dim,
                              const hebb_tensor *index, int64_t base,
                              hebb_tensor **out);
hebb_status hebb_gather(const hebb_tensor *a, int dim, const hebb_tensor *index,
                        int64_t base, hebb_tensor **out);
hebb_status hebb_scatter(hebb_tensor *a, int dim, const hebb_tensor *index,
                         int64_t base, const hebb_tensor *src, bool accumulate);
hebb_status hebb_masked_fill(hebb_tensor *a, const hebb_tensor *mask,
                             double value);
hebb_status hebb_masked_select(const hebb_tensor *a, const hebb_tensor *mask,
                               hebb_tensor **out);
hebb_tensor *hebb_cat(int n, hebb_tensor *const *ts, int dim);
hebb_tensor *hebb_stack(int n, hebb_tensor *const *ts, int dim);

/* --- linear algebra ---------------------------------------------------- */
hebb_status hebb_matmul(const hebb_tensor *a, const hebb_tensor *b,
                        hebb_tensor **out);
hebb_status hebb_dot(const hebb_tensor *a, const hebb_tensor *b,
                     hebb_tensor **out);
hebb_status hebb_outer(const hebb_tensor *a, const hebb_tensor *b,
                       hebb_tensor **out);
/* x W^T + b over the last dimension of x (b may be NULL): a dense layer in
   one gemm that adds to the bias */
hebb_status hebb_linear(const hebb_tensor *x, const hebb_tensor *w,
                        const hebb_tensor *b, hebb_tensor **out);
/* relu(x W^T + b): hebb_linear with the ReLU taken in each tile of the
   product (f64/f32), the same values as hebb_linear then HEBB_RELU */
hebb_status hebb_linear_relu(const hebb_tensor *x, const hebb_tensor *w,
                             const hebb_tensor *b, hebb_tensor **out);
/* softmax cross-entropy of logits z {N, C} (f64/f32) against class labels
   {N} (i64, base..base+C-1): per row log(sum_j e^z_j) - z_label, and its
   gradient g_i (softmax(z_i) - onehot(label_i)) for row gradients g {N} */
hebb_status hebb_cross_entropy(const hebb_tensor *z, const hebb_tensor *labels,
                               int64_t base, hebb_tensor **out);
hebb_status hebb_cross_entropy_grad(const hebb_tensor *z,
                                    const hebb_tensor *labels, int64_t base,
                                    const hebb_tensor *g, hebb_tensor **out);
/* the mean of those losses, as hebb_reduce_value(HEBB_MEAN) of them gives
   it, with each row's log(sum_j e^z_j) written to lz (contiguous {N}, z's
   dtype; NULL: not wanted); the gradient taking those log-normalizers from
   lz instead of computing them again (lz NULL: computed) */
hebb_status hebb_cross_entropy_mean(const hebb_tensor *z,
                                    const hebb_tensor *labels, int64_t base,
                                    hebb_tensor *lz, double *mean);
hebb_status hebb_cross_entropy_grad_saved(const hebb_tensor *z,
                                          const hebb_tensor *labels,
                                          int64_t base, const hebb_tensor *lz,
                                          const hebb_tensor *g,
                                          hebb_tensor **out);
/* the gradient of the mean for a gradient g of the mean: every row's
   weight is g / N computed in z's dtype (the bits of a {1} tensor of g
   divided by N), then hebb_cross_entropy_grad_saved's rows */
hebb_status hebb_cross_entropy_mean_grad(const hebb_tensor *z,
                                         const hebb_tensor *labels,
                                         int64_t base, const hebb_tensor *lz,
                                         double g, hebb_tensor **out);
/* backward.c, autograd's fast paths: g * sign(y) of two contiguous f64 or
   f32 tensors of one shape in one pass (the ReLU rule, y = relu(x)) */
hebb_status hebb_relu_grad(const hebb_tensor *g, const hebb_tensor *y,
                           hebb_tensor **out);
/* the same into *out and, from the same pass, its sums over all dimensions
   but the last into *sum ({cols}): the bits of hebb_reduce(HEBB_SUM) of
   *out viewed as {rows, cols} over dimension 1 (the bias gradient of the
   linear layer under the ReLU) */
hebb_status hebb_relu_grad_sum(const hebb_tensor *g, const hebb_tensor *y,
                               hebb_tensor **out, hebb_tensor **sum);
/* *acc += g^T x (accumulate) or *acc = g^T x (accumulate = 0: the old
   contents are not read; *acc NULL: a new {out, in} tensor) for contiguous
   g {N, out}, x {N, in}, acc {out, in} of one dtype, f64 or f32 (a linear
   layer's weight gradient, accumulated, or written over a spare buffer) */
hebb_status hebb_linear_grad(const hebb_tensor *g, const hebb_tensor *x,
                             hebb_tensor **acc, int accumulate);
/* dense linear algebra (LAPACK; hebb.linalg), f64, f32, c128 and c64
   (integer and bool inputs compute in f64), batched over the leading dimensions: a tensor of
   shape {..., m, n} is a batch of m x n matrices.  Inputs are never
   modified.  Several results: each out follows the convention above, and a
   NULL out pointer (where allowed) means "not wanted". */
hebb_status hebb_linalg_solve(const hebb_tensor *a, const hebb_tensor *b,
                              hebb_tensor **out);
/* rcond < 0: default */
hebb_status hebb_linalg_lstsq(const hebb_tensor *a, const hebb_tensor *b,
                              double rcond, hebb_tensor **out);
hebb_status hebb_linalg_inv(const hebb_tensor *a, hebb_tensor **out);
hebb_status hebb_linalg_det(const hebb_tensor *a, hebb_tensor **out);
hebb_status hebb_linalg_slogdet(const hebb_tensor *a, hebb_tensor **sign,
                                hebb_tensor **logabsdet);
hebb_status hebb_linalg_cholesky(const hebb_tensor *a, hebb_tensor **out);
hebb_status hebb_linalg_qr(const hebb_tensor *a, hebb_tensor **q,
                           hebb_tensor **r);
hebb_status hebb_linalg_eigh(const hebb_tensor *a, hebb_tensor **w,
                             hebb_tensor **v);  /* v may be NULL */
/* general square matrices: complex eigenvalues w (LAPACK's order) and, when
   v is not NULL, the unit-norm right eigenvectors as columns (geev) */
hebb_status hebb_linalg_eig(const hebb_tensor *a, hebb_tensor **w,
                            hebb_tensor **v);
/* u, vh may be NULL */
hebb_status hebb_linalg_svd(const hebb_tensor *a, bool full, hebb_tensor **u,
                            hebb_tensor **s, hebb_tensor **vh);
hebb_status hebb_linalg_svd_rank(const hebb_tensor *a, int64_t rank,
                                 hebb_tensor **u, hebb_tensor **s,
                                 hebb_tensor **vh, hebb_tensor **discarded);
/* the rank-k truncated SVD without the full one (linalg_lowrank.c):
   HEBB_SVD_AUTO iterates a randomized subspace until the residuals of the
   k triplets are below tol s_1 (tol < 0: 1e-12 for f64, 1e-5 for f32) and
   falls back to gesdd when that does not converge within its budget;
   HEBB_SVD_RANDOMIZED makes exactly 'power' power iterations (no test);
   HEBB_SVD_GESDD is hebb_linalg_svd_rank */
enum { HEBB_SVD_AUTO = 0, HEBB_SVD_RANDOMIZED = 1, HEBB_SVD_GESDD = 2 };
hebb_status hebb_linalg_svd_lowrank(const hebb_tensor *a, int64_t rank,
                                    int method, double tol, int64_t power,
                                    hebb_tensor **u, hebb_tensor **s,
                                    hebb_tensor **vh, hebb_tensor **discarded);
hebb_status hebb_linalg_expm(const hebb_tensor *a, hebb_tensor **out);
hebb_status hebb_linalg_matrix_power(const hebb_tensor *a, int64_t n,
                                     hebb_tensor **out);
hebb_status hebb_linalg_powm_psd(const hebb_tensor *a, double p,
                                 hebb_tensor **out);
hebb_status hebb_linalg_pinv(const hebb_tensor *a, double rcond,
                             hebb_tensor **out);
/* ord: "fro", "nuc", "1", "-1", "2", "-2", "inf", "-inf" */
hebb_status hebb_linalg_norm(const hebb_tensor *a, const char *ord,
                             hebb_tensor **out);
hebb_status hebb_linalg_cond(const hebb_tensor *a, hebb_tensor **out);
/* contractions (contract.c): einsum subscripts ("ij,jk->ik"; implicit
   output: the indices seen once, in ASCII order); tensordot over the 0-based
   dims da[k] of a and db[k] of b; ncon with labels[k] holding ops[k]->ndim
   labels (positive: contracted, negative: open, -1 first in the result),
   contracted in ascending label order, or greedily (smallest intermediate
   first) */
hebb_status hebb_einsum(const char *subscripts, int n, hebb_tensor *const *ops,
                        hebb_tensor **out);
hebb_status hebb_tensordot(const hebb_tensor *a, const hebb_tensor *b, int nd,
                           const int *da, const int *db, hebb_tensor **out);
hebb_status hebb_ncon(int n, hebb_tensor *const *ops,
                      const int64_t *const *labels, bool greedy,
                      hebb_tensor **out);

/* --- randomness -------------------------------------------------------- */
void hebb_rng_init(hebb_rng *g, uint64_t seed, uint64_t stream);
hebb_rng *hebb_default_rng(void);
hebb_status hebb_rand_uniform(hebb_rng *g, hebb_tensor *t, double lo,
                              double hi);
hebb_status hebb_rand_normal(hebb_rng *g, hebb_tensor *t, double mean,
                             double std);
/* integers in [lo, hi) */
hebb_status hebb_rand_int(hebb_rng *g, hebb_tensor *t, int64_t lo, int64_t hi);
hebb_status hebb_rand_bernoulli(hebb_rng *g, hebb_tensor *t, double p);
/* t: 1-d i64 */
hebb_status hebb_rand_permutation(hebb_rng *g, hebb_tensor *t, int64_t base);
/* element i is true with probability p[i] (p broadcast to t's shape) */
hebb_status hebb_rand_bernoulli_tensor(hebb_rng *g, hebb_tensor *t,
                                       const hebb_tensor *p);

/* --- sparse matrices (hebb.sparse) ------------------------------------ */
/* A sparse f64 or c128 matrix in compressed sparse row form (row pointers,
   int64 column indices sorted within each row, values); reference counted
   like tensors, immutable once made.  Indices count from 'base' (0 in C, 1
   from Lua); duplicate (row, col) entries are summed. */
typedef struct hebb_sparse hebb_sparse;
hebb_sparse *hebb_sparse_from_coo(int64_t nrows, int64_t ncols, int64_t nnz,
                                  const int64_t *rows, const int64_t *cols,
                                  const double *vals, int64_t base);
/* the same for dtype HEBB_F64 or HEBB_C128 (vals: nnz (re, im) pairs) */
hebb_sparse *hebb_sparse_from_coo_as(int dtype, int64_t nrows, int64_t ncols,
                                     int64_t nnz, const int64_t *rows,
                                     const int64_t *cols, const double *vals,
                                     int64_t base);
/* entries with |a_ij| > tol (tol < 0 keeps every entry); a complex a gives
   a c128 matrix, any other dtype an f64 one */
hebb_sparse *hebb_sparse_from_dense(const hebb_tensor *a, double tol);
/* the adjacency of the hypercubic lattice of shape dims[0..ndim-1] (site
   index row-major: the last coordinate runs fastest): neighbours +-e_i,
   and with next_nearest also +-e_i +-e_j; periodic wraps around, and a
   bond reached twice (a periodic side of length 2) counts twice */
hebb_sparse *hebb_sparse_lattice(int ndim, const int64_t *dims, bool periodic,
                                 bool next_nearest);
hebb_tensor *hebb_sparse_to_dense(const hebb_sparse *s);
void hebb_sparse_retain(hebb_sparse *s);
void hebb_sparse_release(hebb_sparse *s);
int64_t hebb_sparse_nrows(const hebb_sparse *s);
int64_t hebb_sparse_ncols(const hebb_sparse *s);
int64_t hebb_sparse_nnz(const hebb_sparse *s);
const int64_t *hebb_sparse_rowptr(const hebb_sparse *s);   /* nrows + 1 */
const int64_t *hebb_sparse_colind(const hebb_sparse *s);   /* nnz, 0-based */
const double *hebb_sparse_values(const hebb_sparse *s);    /* nnz (c128: pairs) */
int hebb_sparse_dtype(const hebb_sparse *s);               /* F64 or C128 */
/* s x for a 1-d x (length ncols) or a 2-d x (ncols x k); f64 result when s
   and x are real, else c128; parallel over rows, the same bits at any
   thread count */
hebb_status hebb_sparse_matmul(const hebb_sparse *s, const hebb_tensor *x,
                               hebb_tensor **out);
hebb_sparse *hebb_sparse_transpose(const hebb_sparse *s);
hebb_sparse *hebb_sparse_add(const hebb_sparse *a, const hebb_sparse *b,
                             double alpha, double beta);   /* alpha a + beta b */
hebb_sparse *hebb_sparse_scale(const hebb_sparse *s, double alpha);
/* (re + i im) s, always c128 */
hebb_sparse *hebb_sparse_zscale(const hebb_sparse *s, double re, double im);
/* the complex conjugate (an f64 s: s itself, one more reference) */
hebb_sparse *hebb_sparse_conj(const hebb_sparse *s);
/* s converted to dtype (F64 from C128 only when every imaginary part is 0) */
hebb_sparse *hebb_sparse_astype(const hebb_sparse *s, int dtype);
hebb_status hebb_sparse_diagonal(const hebb_sparse *s, hebb_tensor **out);
/* k extreme eigenpairs of a symmetric (f64) or Hermitian (c128) s by
   Lanczos with full reorthogonalization and locking: w (f64, k,
   ascending), v (n x k, columns, s's dtype), both new tensors (NULL on
   failure) */
hebb_status hebb_sparse_eigsh(const hebb_sparse *s, int64_t k, bool largest,
                              double tol, int64_t maxiter, int64_t ncv,
                              uint64_t seed, hebb_tensor **w, hebb_tensor **v);

/* x with a x = b for a square sparse a (f64 or c128) and b {n} or {n, k}
   (f64 or c128; columns solved one by one) by a preconditioned Krylov
   method (sparse_solve.c), from x0 (b's shape) or zero, until |b - a x| <=
   tol |b| for every column; x: a new tensor, c128 when a or b is.  Not
   converging within maxiter iterations is an error naming the residual;
   info (the largest over the columns) is filled either way. */
enum { HEBB_SOLVE_BICGSTAB = 0, HEBB_SOLVE_CG = 1 };
enum { HEBB_PRECOND_NONE = 0, HEBB_PRECOND_JACOBI = 1, HEBB_PRECOND_ILU0 = 2 };
typedef struct hebb_solve_opts {
  int method, precond;
  double tol;
  int64_t maxiter;
} hebb_solve_opts;
typedef struct hebb_solve_info {
  int64_t iterations;
  double residual;           /* |b - a x| / |b| */
} hebb_solve_info;
hebb_status hebb_sparse_solve(const hebb_sparse *a, const hebb_tensor *b,
                              const hebb_tensor *x0, const hebb_solve_opts *o,
                              hebb_tensor **x, hebb_solve_info *info);

/* --- discrete Fourier transforms (hebb.fft, FFTW3) --------------------- */
/* X_k = sum_j x_j e^{-2 pi i jk/n} along dim (0-based); the inverse has
   e^{+...} and divides by n (numpy's "backward" norm).  Real inputs become
   complex (f32 -> c64, others -> c128).  rfft: real input, the n/2+1
   non-negative frequencies; irfft: n real outputs (n < 0: 2(m-1) for m
   input entries).  Results are the same bits at any thread count. */
hebb_status hebb_fft(const hebb_tensor *a, int dim, bool inverse,
                     hebb_tensor **out);
hebb_status hebb_rfft(const hebb_tensor *a, int dim, hebb_tensor **out);
hebb_status hebb_irfft(const hebb_tensor *a, int64_t n, int dim,
                       hebb_tensor **out);
/* over dims[0..ndims-1] (ndims 0: every dimension) */
hebb_status hebb_fftn(const hebb_tensor *a, int ndims, const int *dims,
                      bool inverse, hebb_tensor **out);
/* the zero frequency to the centre (inverse: back); ndims 0: all dims */
hebb_status hebb_fftshift(const hebb_tensor *a, int ndims, const int *dims,
                          bool inverse, hebb_tensor **out);
/* sample frequencies of an n-point transform with spacing d (f64, numpy's
   order); half: those of rfft */
hebb_tensor *hebb_fftfreq(int64_t n, double d, bool half);

/* --- fingerprints and build facts (notebook manifests) ----------------- */
/* SHA-256 as 64 lowercase hex digits and a NUL: hex holds 65 chars */
void hebb_sha256(const void *data, size_t n, char *hex);
hebb_status hebb_sha256_file(const char *path, char *hex);
/* the BLAS library behind products: "OpenBLAS <config> (core <name>)";
   loads it when not loaded yet */
const char *hebb_blas_info(void);

/* --- integrators (hebb.ode) ------------------------------------------ */
/* the per-element loops of the integrators (ode.c).  Terms share y's shape
   and dtype (f64, f32, c128, c64); coefficients are real. */
enum { HEBB_ODE_MAXTERMS = 16 };
/* y + sum_j c[j] k[j] over n <= HEBB_ODE_MAXTERMS terms; *out may be y
   itself (in place) but not one of the terms */
hebb_status hebb_ode_combine(const hebb_tensor *y, int n, hebb_tensor *const *k,
                             const double *c, hebb_tensor **out);
/* the RMS over elements of |sum_j e[j] k[j]| / (atol + rtol max(|y0|,
   |y1|)): the norm of an embedded error estimate (complex: moduli) */
hebb_status hebb_ode_errnorm(const hebb_tensor *y0, const hebb_tensor *y1,
                             int n, hebb_tensor *const *k, const double *e,
                             double atol, double rtol, double *result);

/* --- lattice fields (hebb.fields) -------------------------------------- */
/* Fields are contiguous f64 or f32 tensors on periodic hypercubic lattices
   (every dimension a lattice direction), spacing a.  The Laplacian of phi:
   (sum over the 2d neighbours - 2d phi) / a^2. */
hebb_status hebb_lattice_laplacian(const hebb_tensor *phi, double a,
                                   hebb_tensor **out);
/* nsteps leapfrog (kick-drift-kick) steps of the Klein-Gordon field,
   d2phi/dt2 = Laplacian(phi) - m2 phi, in place on phi and its momentum pi
   (both synchronized at the end); *blown is the first step after which phi
   held a NaN or an infinity (the loop stops there), else 0 */
hebb_status hebb_kg_leapfrog(hebb_tensor *phi, hebb_tensor *pi, double m2,
                             double a, double dt, int64_t nsteps,
                             int64_t *blown);
/* sum over sites of pi^2/2 + m2 phi^2/2 + |grad phi|^2/2 (forward
   differences) */
hebb_status hebb_kg_energy(const hebb_tensor *phi, const hebb_tensor *pi,
                           double m2, double a, double *result);

/* A nearest-neighbour operator with s components per site on a lattice of
   sides dims[0..ndim-1] (sites row-major, the s components of a site
   adjacent: row x*s + alpha), as a c128 sparse matrix:
     (A psi)(x) = onsite psi(x) + eps(x) stag psi(x)
                + sum_mu eta_mu(x) [fwd_mu psi(x + mu) + bwd_mu psi(x - mu)]
   onsite, stag: s x s complex matrices ((re, im) pairs, row-major; stag
   may be NULL); fwd, bwd: ndim such matrices each.  eps(x) = (-1)^(sum of
   x), eta_mu(x) = (-1)^(x_1 + ... + x_{mu-1}) with HEBB_LAT_STAGGERED,
   else 1.  bc[mu]: what a hop across side mu's boundary does. */
enum { HEBB_BC_PERIODIC = 0, HEBB_BC_ANTIPERIODIC = 1, HEBB_BC_OPEN = 2 };
enum { HEBB_LAT_STAGGERED = 1 };
hebb_sparse *hebb_lattice_operator(int ndim, const int64_t *dims, int64_t s,
                                   const double *onsite, const double *stag,
                                   const double *fwd, const double *bwd,
                                   const int *bc, int flags);
/* e^{-iHt} v for a Hermitian sparse H (f64 or c128) and a vector v, by
   Lanczos in a Krylov space of dimension m with substeps, to an estimated
   error tol |v| (a new c128 vector, or written into *out) */
hebb_status hebb_sparse_expmv(const hebb_sparse *H, const hebb_tensor *v,
                              double t, int64_t m, double tol,
                              hebb_tensor **out);

/* Schrodinger steps on a periodic grid (psi contiguous, in place):
   split-step Fourier with the phase grids pv = e^{-iV dt/2hbar} and pk =
   e^{-i hbar k^2 dt/2m} (complex, psi's shape and dtype: c128 or c64), and
   Crank-Nicolson with the three-point Laplacian (psi c128 or c64, solved
   in double either way; V f64 of psi's
   shape or NULL; periodic or zero beyond the grid), per axis in d > 1 */
hebb_status hebb_split_step(hebb_tensor *psi, const hebb_tensor *pv,
                            const hebb_tensor *pk, int64_t nsteps);
hebb_status hebb_crank_nicolson(hebb_tensor *psi, const hebb_tensor *V,
                                double dx, double mass, double hbar, double dt,
                                bool periodic, int64_t nsteps);

/* --- ordering, reversal, histograms (sort.c, roll.c) ------------------- */
/* Stable sort along dim: equal elements keep their order in both
   directions; NaNs count as the largest values.  values and indices (i64,
   counting from base) may each be NULL (not wanted). */
hebb_status hebb_sort(const hebb_tensor *a, int dim, bool descending,
                      int64_t base, hebb_tensor **values,
                      hebb_tensor **indices);
/* the k largest (smallest: largest false) along dim, in sorted order */
hebb_status hebb_topk(const hebb_tensor *a, int64_t k, int dim, bool largest,
                      int64_t base, hebb_tensor **values,
                      hebb_tensor **indices);
/* the distinct values of the flattened a, ascending; inverse (a's shape):
   each element's place among them (from base); counts: how often each
   occurs.  Any of the three may be NULL. */
hebb_status hebb_unique(const hebb_tensor *a, int64_t base,
                        hebb_tensor **values, hebb_tensor **inverse,
                        hebb_tensor **counts);
/* where each element of v would go in the ascending 1-d s (from base):
   the first position whose element is >= v (right: > v) */
hebb_status hebb_searchsorted(const hebb_tensor *s, const hebb_tensor *v,
                              bool right, int64_t base, hebb_tensor **out);
/* counts (f64) of a's elements in bins equal bins over [lo, hi]; lo == hi:
   the data's range */
hebb_status hebb_histc(const hebb_tensor *a, int64_t bins, double lo, double hi,
                       hebb_tensor **out);
/* out[i] = a[i - shift] cyclically along each of the k dims (0-based) */
hebb_status hebb_roll(const hebb_tensor *a, int k, const int64_t *shifts,
                      const int *dims, hebb_tensor **out);
/* a reversed along each of the k dims */
hebb_status hebb_flip(const hebb_tensor *a, int k, const int *dims,
                      hebb_tensor **out);

/* --- special functions (special.c) ------------------------------------ */
/* elementwise on real tensors (f32 stays f32, integers give f64); ellipk
   and ellipe take the parameter m = k^2; tetragamma = psi'' and
   zeta_prime = zeta' are the derivatives autograd needs */
typedef enum hebb_specop {
  HEBB_GAMMA = 0, HEBB_LGAMMA, HEBB_DIGAMMA, HEBB_TRIGAMMA, HEBB_ERF,
  HEBB_ERFC, HEBB_BESSEL_J0, HEBB_BESSEL_J1, HEBB_BESSEL_I0, HEBB_BESSEL_I1,
  HEBB_ELLIPK, HEBB_ELLIPE, HEBB_ZETA, HEBB_TETRAGAMMA, HEBB_ZETA_PRIME,
  HEBB_NSPECOPS
} hebb_specop;
hebb_status hebb_special(int op, const hebb_tensor *a, hebb_tensor **out);
double hebb_special_scalar(int op, double x);   /* NaN for an unknown op */

/* --- quadrature (numeric.c) ------------------------------------------- */
/* the n-point Gauss-Legendre rule on [a, b]: nodes x (ascending) and
   weights w, exact for polynomials of degree 2n - 1 */
hebb_status hebb_gauss_legendre(int64_t n, double a, double b, hebb_tensor **x,
                                hebb_tensor **w);

/* --- lattice spin models and Monte Carlo (lattice*.c) ------------------ */
/* A hypercubic lattice of shape[0..ndim-1] sites (row-major site index:
   the last coordinate runs fastest), periodic or open per dimension, with
   one of three models:
     Ising  spins +-1 (i64):       H = -sum_<ij> J_ij s_i s_j - sum_i h_i s_i
     Potts  states 1..q (i64):     H = -sum_<ij> J_ij d(s_i, s_j) - sum_i h_i d(s_i, 1)
     O(n)   unit n-vectors (f64):  H = -sum_<ij> J_ij s_i.s_j - sum_i h_i s_i[0]
   Bond (x, k) joins x and x + e_k; J_ij is J, or Jb[k][x] when Jb (shape
   {ndim, shape...}, f64, contiguous) is given; h_i is h, or hs[x] (shape
   {shape...}).  A configuration is a contiguous tensor of shape {shape...}
   ({shape..., n} for O(n)), or a batch {B, shape...} of B replicas. */
typedef enum hebb_spinmodel {
  HEBB_ISING = 0, HEBB_POTTS = 1, HEBB_ON = 2
} hebb_spinmodel;
enum { HEBB_LATTICE_MAXDIM = 4 };
typedef struct hebb_lattice {
  int32_t model;              /* hebb_spinmodel */
  int32_t ndim;               /* 1 .. HEBB_LATTICE_MAXDIM */
  int32_t q;                  /* Potts: states; O(n): components n; Ising: 2 */
  int32_t open;               /* bit k set: dimension k has open ends */
  int64_t shape[4];           /* each >= 2 */
  double J, h;                /* uniform coupling and field */
  const hebb_tensor *Jb;      /* per-bond couplings, or NULL */
  const hebb_tensor *hs;      /* per-site fields, or NULL */
} hebb_lattice;
/* thermal averages at one inverse temperature (extensive: E is the total
   energy, Evar its variance <E^2> - <E>^2, M the total magnetization: sum
   s for Ising, the Potts order parameter N (q max_k n_k / N - 1)/(q - 1));
   NaN where not computed */
typedef struct hebb_thermo {
  double lnZ, E, Evar, M, absM, M2, M4;
} hebb_thermo;
hebb_status hebb_lattice_check(const hebb_lattice *lat);
int64_t hebb_lattice_sites(const hebb_lattice *lat);
/* E {B} (or 0-d) and M {B, k} (or {k}): k = 1 (Ising: sum s), q (Potts:
   counts of each state) or n (O(n): sum of the vectors) */
hebb_status hebb_lattice_observe(const hebb_lattice *lat, const hebb_tensor *s,
                                 hebb_tensor **energy,
                                 hebb_tensor **magnetization);
/* Local updates of s in place, nsweeps sweeps at inverse temperature
   beta[r] for replica r (nbeta = 1: the same for all).  Site i of replica r
   in sweep t draws the words at positions counter + ((t B + r) N + k(i)) W
   + j, j < W, of g's stream (W words per site, k(i) the site's rank within
   its checkerboard colour class); g's counter then advances by nsweeps B N
   W.  So the result is the same bits at any thread count.  checkerboard:
   the two colours in turn, in parallel (periodic sizes must be even);
   otherwise sites in index order, one thread per replica.  Metropolis
   proposes a flip (Ising), another state (Potts) or s + delta g normalized
   (O(n), g Gaussian); *rate gets the accepted fraction. */
hebb_status hebb_lattice_metropolis(const hebb_lattice *lat, hebb_tensor *s,
                                    const double *beta, int64_t nbeta,
                                    hebb_rng *g, int64_t nsweeps,
                                    bool checkerboard, double delta,
                                    double *rate);
/* heat bath (Ising and Potts): each site drawn from its conditional
   distribution */
hebb_status hebb_lattice_heatbath(const hebb_lattice *lat, hebb_tensor *s,
                                  const double *beta, int64_t nbeta,
                                  hebb_rng *g, int64_t nsweeps,
                                  bool checkerboard);
/* O(n) over-relaxation: each spin reflected about its local field (energy
   conserving, no random numbers) */
hebb_status hebb_lattice_overrelax(const hebb_lattice *lat, hebb_tensor *s,
                                   int64_t nsweeps);
/* nclusters Wolff single-cluster updates per replica (J >= 0, h = 0);
   replica r draws from stream g->stream + r 2^32 at g's counter, words
   consumed in order; the counter advances past the most any replica used.
   *mean_size: mean sites per cluster */
hebb_status hebb_lattice_wolff(const hebb_lattice *lat, hebb_tensor *s,
                               const double *beta, int64_t nbeta, hebb_rng *g,
                               int64_t nclusters, double *mean_size);
/* nsweeps Swendsen-Wang sweeps (J >= 0, h = 0): bond (x, k) of replica r in
   sweep t draws word counter + (t B + r) W + x ndim + k and the cluster
   whose smallest site is m the word ... + N ndim + m (W = N (ndim + 1) +
   2n); *mean_clusters: clusters per sweep, averaged */
hebb_status hebb_lattice_swendsen_wang(const hebb_lattice *lat, hebb_tensor *s,
                                       const double *beta, int64_t nbeta,
                                       hebb_rng *g, int64_t nsweeps,
                                       double *mean_clusters);
/* Exact averages by summing over all states (Ising: 2^N <= 2^30; Potts:
   q^N <= 2^30), at nbeta inverse temperatures */
hebb_status hebb_lattice_enumerate(const hebb_lattice *lat, const double *beta,
                                   int64_t nbeta, hebb_thermo *out);
/* The 2D Ising model (J = 1, h = 0) on an L x M torus by the row-to-row
   transfer matrix (L <= 10): lnZ, E, Evar and M2 exactly (derivatives carried
   along with the matrix), at nk couplings K = beta J; M, absM, M4 NaN */
hebb_status hebb_ising_transfer(int64_t L, int64_t M, const double *K,
                                int64_t nk, hebb_thermo *out);

/* --- Monte Carlo error analysis (stats.c) ------------------------------- */
/* the standard error of the mean of the 1-d series x with bins of 1, 2,
   4, ... samples, while at least minbins bins remain (errors: f64 {levels}) */
hebb_status hebb_stats_binning(const hebb_tensor *x, int64_t minbins,
                               hebb_tensor **errors);
/* the integrated autocorrelation time with Sokal's window: W the smallest
   lag with W >= c tau(W) (up to maxlag; maxlag < 1: n/2); converged false
   if no lag qualified.  rho (may be NULL): the normalized autocorrelation
   function at lags 0..W */
typedef struct hebb_autocorr {
  double mean, var, tau, tau_err;
  int64_t window;
  bool converged;
} hebb_autocorr;
hebb_status hebb_stats_autocorr(const hebb_tensor *x, double c, int64_t maxlag,
                                hebb_autocorr *res, hebb_tensor **rho);
/* fills the 1-d f64 out with a stationary AR(1) series, x_t = a x_{t-1} +
   sqrt(1 - a^2) z_t (unit variance, tau_int = (1 + a)/(2 (1 - a))) */
hebb_status hebb_stats_ar1(hebb_rng *g, double a, hebb_tensor *out);

/* --- renormalization group: block spins and MCRG operators (rg.c) ----- */
/* Block-spin transformation of x {batch..., L_1..L_d, inner...} (the d
   lattice dims start at dim 'first'; each L_k divisible by b) into blocks
   of b^d sites: MAJORITY the sign of the block sum, a tie (sum 0) +-1 by
   the Philox word at (seed, stream, output position); PLURALITY the most
   frequent value, ties uniform among them (same word); DECIMATE the
   block's first site; MEAN, SUM; GATHER the block's values, out {batch...,
   L/b..., b^d, inner...} (a user's block map reduces them).  x i64, f64 or
   f32; out the same dtype (MEAN: f64, f32 for f32). */
enum { HEBB_RG_MAJORITY = 0, HEBB_RG_PLURALITY = 1, HEBB_RG_DECIMATE = 2,
       HEBB_RG_MEAN = 3, HEBB_RG_SUM = 4, HEBB_RG_GATHER = 5 };
hebb_status hebb_rg_block(const hebb_tensor *x, int first, int d, int64_t b,
                          int rule, uint64_t seed, uint64_t stream,
                          hebb_tensor **out);
/* Sums over the sites of a periodic lattice of products of spins: x
   {batch..., L_1..L_d}; term t (offs {n, k, d} i64, lens {n}: spins
   1..k used, ops {n}: its 0-based operator) adds sum_x prod_s
   x[x + offs[t][s]] to operator ops[t]; out f64 {batch..., nops} */
hebb_status hebb_rg_operators(const hebb_tensor *x, int d,
                              const hebb_tensor *offs, const hebb_tensor *lens,
                              const hebb_tensor *ops, int64_t nops,
                              hebb_tensor **out);
/* Heat-bath sampling of a network (rg_network.c): neurons x with the
   weight e^{-x^T K_l x / 2 + h^T x}, K_l = diag K + lambda offdiag K,
   binary (ISING: x = +-1, the diagonal a constant) or GAUSS (x real, K_ii
   > 0).  chains independent chains (chain c on the Philox stream stream0 +
   c of seed) from a random start, burn sweeps, then nmeas states every
   thin sweeps: out f64 {chains, nmeas, n}, the same bits at any thread
   count. */
enum { HEBB_RG_NET_ISING = 0, HEBB_RG_NET_GAUSS = 1 };
hebb_status hebb_rg_net_sample(const hebb_tensor *K, const hebb_tensor *h,
                               int neuron, double lambda, int64_t chains,
                               int64_t burn, int64_t nmeas, int64_t thin,
                               uint64_t seed, uint64_t stream0,
                               hebb_tensor **out);

/* --- wall clock (clock.c) --------------------------------------------- */
/* seconds from an arbitrary start, monotonic (CLOCK_MONOTONIC): wall time,
   unlike the CPU time of C's clock(), which counts every thread */
double hebb_clock(void);

/* --- what the Lua bindings need beyond the operations ----------------- */
/* (natives/lua/ includes only this header and lhebb.h: a binding that
   needs an internal of the core is a sign this API lacks something) */
enum { HEBB_SHAPEBUF = 256 };   /* room for hebb_shape_str's "{2, 3}" */
const char *hebb_shape_str(int ndim, const int64_t *shape, char *buf,
                           size_t size);
/* ndim in 0..HEBB_MAXDIM, no negative size, at most 2^56 elements (stored
   in *numel unless NULL) */
hebb_status hebb_check_shape(int ndim, const int64_t *shape, int64_t *numel,
                             const char *who);
/* makes *out ready for a result of dtype and shape: a new tensor when
   *out is NULL, else a check that it fits and that each of its elements
   owns its memory (hebb_check_writable) */
hebb_status hebb_prepare_out(hebb_tensor **out, int dtype, int ndim,
                             const int64_t *shape, const char *who);
/* copies src into dst elementwise, converting the dtype; shapes must
   already agree */
hebb_status hebb_convert_into(hebb_tensor *dst, const hebb_tensor *src);
/* the bytes of t's storage, and how many headers share it (0: none) */
int64_t hebb_storage_nbytes(const hebb_tensor *t);
int64_t hebb_storage_refs(const hebb_tensor *t);
/* fails (naming 'who') when t may show one memory location as several
   elements (an expanded view), so a write would land on several at once */
hebb_status hebb_check_writable(const hebb_tensor *t, const char *who);
/* whether a and b may share an element's memory (conservative: their byte
   ranges in one storage intersect) */
bool hebb_may_overlap(const hebb_tensor *a, const hebb_tensor *b);
/* whether a and b show the same elements in the same order and dtype */
bool hebb_same_view(const hebb_tensor *a, const hebb_tensor *b);
/* result dtype of a reduction (hebb_redop) of a tensor of 'dtype' */
int hebb_reduce_dtype(int op, int dtype);
/* The full reduction of a as one value: *ival for i64 and bool results
   (ARGMIN/ARGMAX: the 0-based flat index), *fval for float results (an f32
   result is rounded to f32, as the tensor would hold it). */
hebb_status hebb_reduce_value(int op, const hebb_tensor *a, int64_t correction,
                              double *fval, int64_t *ival);
/* min/max along dim with their indices (either output may be NULL: not
   wanted); op is HEBB_ARGMIN or HEBB_ARGMAX */
hebb_status hebb_minmax_dim(int op, const hebb_tensor *a, int dim,
                            bool keepdim, int64_t base, hebb_tensor **values,
                            hebb_tensor **indices);
/* result dtypes of hebb_binary / hebb_unary (binary.c, unary.c); bindings
   use them to refuse in-place results that do not fit the receiver */
int hebb_binop_dtype(int op, const hebb_tensor *a, const hebb_tensor *b);
int hebb_unop_dtype(int op, int dtype);

/* FFI-END */

/* A lua_Alloc for the executable's main Lua state (alloc.c): blocks of 8 to
   256 bytes in multiples of 8 that Lua frees are kept per exact size and
   given back to the next request of that size, without malloc's locks and
   bins (a small tensor's box is one such block per `a + b`).  Its ud is a
   cache from hebb_lua_cache_new, one per state (a state is used by one
   thread at a time); hebb_lua_cache_free frees the kept blocks and the
   cache (after lua_close). */
typedef struct hebb_lua_cache hebb_lua_cache;
hebb_lua_cache *hebb_lua_cache_new(void);
void *hebb_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
void hebb_lua_cache_free(hebb_lua_cache *c);

/* C only (LuaJIT cannot call static inline functions) */
static inline int hebb_is_complex(int dtype) {
  return dtype == HEBB_C128 || dtype == HEBB_C64;
}

/* the address of t's first element */
static inline char *hebb_first(const hebb_tensor *t) {
  return t->data + t->offset * (int64_t)hebb_dtype_size(t->dtype);
}

/* float -> i64 without undefined behaviour: truncates toward zero,
   saturates at the ends of the range, and maps NaN to 0. */
static inline int64_t hebb_f2i(double x) {
  if (x != x) return 0;
  if (x >= 9223372036854775807.0) return INT64_MAX;
  if (x <= -9223372036854775808.0) return INT64_MIN;
  return (int64_t)x;
}

#ifdef __cplusplus
}
#endif

#endif
