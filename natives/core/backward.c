/*
** backward.c -- kernels that autograd's rules call on their fast path (no
** graph being recorded): what a rule would otherwise write as several
** tensor operations, each with its own pass and temporary.
**
** hebb_relu_grad: the ReLU rule's g * sign(y), with y = relu(x) the saved
** output, in one pass and one result where `g * T.sign(y)` took two passes
** and a temporary as large as the activation.  The same IEEE operations in
** the same precision (sign as unary.c's, then one multiplication), so the
** bits are those of the two-pass form: g where y > 0, g * 0 (a signed zero,
** or NaN for an infinite g) where y = 0, NaN where y is NaN.
**
** hebb_relu_grad_sum: the same, and in the same pass the sums over the
** batch that the bias gradient of the linear layer below is (reduce.c's
** column sums, bit for bit).
**
** hebb_linear_grad: a linear layer's weight gradient added straight into
** the gradient buffer the weight keeps, or written over a spare one
** (below).
*/
#include <limits.h>
#include <math.h>
#include <string.h>

#include "core.h"

typedef struct relu_job {
  const char *g, *y;
  char *out;
} relu_job;

/* unary.c's SIGN (zeros and NaN pass through) as one select: g times
   +-1 (copysign, bit operations) or g * y where y is +-0 or NaN -- the
   products g * sign(y) would give, NaN payloads aside.  GCC turns the
   select into vector operations only when it may assume that comparisons
   do not trap (-fno-trapping-math): hebb never reads the floating-point
   exception flags, and the values are the same either way; the scalar
   loop took ~9.5 instructions an element, two selects ~6.5. */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_TRAPS __attribute__((optimize("no-trapping-math")))
#else
#define NO_TRAPS
#endif

/* g * sign(v): sign(v) is +-1 unless v is +-0 or NaN, where it is v */
#define RELU_PICK(gi, v, COPYSIGN)                                          \
  ((v) != 0 && (v) == (v) ? (gi) * COPYSIGN(1, v) : (gi) * (v))

#define RELU_GRAD(SUF, T, COPYSIGN)                                         \
NO_TRAPS static void relu_grad_##SUF(int64_t lo, int64_t hi, void *ud) {             \
  const relu_job *j = ud;                                                   \
  const T *restrict g = (const T *)j->g, *restrict y = (const T *)j->y;     \
  T *restrict o = (T *)j->out;                                              \
  int64_t i;                                                                \
  for (i = lo; i < hi; i++) {                                               \
    T v = y[i], gi = g[i];                                                  \
    o[i] = RELU_PICK(gi, v, COPYSIGN);                                      \
  }                                                                         \
}

RELU_GRAD(f64, double, copysign)
RELU_GRAD(f32, float, copysignf)

/* g and y: contiguous, of one shape and one dtype, f64 or f32 */
static int check_gy(const hebb_tensor *g, const hebb_tensor *y,
                    const char *who) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  if ((g->dtype != HEBB_F64 && g->dtype != HEBB_F32) || y->dtype != g->dtype)
    return hebb_fail(HEBB_ERR_DTYPE, "%s: g and y must be both f64 or "
                     "both f32, got %s and %s", who, hebb_dtype_name(g->dtype),
                     hebb_dtype_name(y->dtype));
  if (g->ndim != y->ndim ||
      memcmp(g->shape, y->shape, (size_t)g->ndim * sizeof(int64_t)) != 0)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: g %s and y %s differ in shape", who,
                     hebb_shape_str(g->ndim, g->shape, b1, sizeof b1),
                     hebb_shape_str(y->ndim, y->shape, b2, sizeof b2));
  if (!hebb_is_contiguous(g) || !hebb_is_contiguous(y))
    return hebb_fail(HEBB_ERR_ARG, "%s: g and y must be contiguous", who);
  return HEBB_OK;
}

hebb_status hebb_relu_grad(const hebb_tensor *g, const hebb_tensor *y,
                           hebb_tensor **out) {
  relu_job j;
  int64_t n;
  if (check_gy(g, y, "relu_grad") ||
      hebb_prepare_out(out, g->dtype, g->ndim, g->shape, "relu_grad"))
    return hebb_last_status();
  if (!hebb_is_contiguous(*out))
    return hebb_fail(HEBB_ERR_ARG, "relu_grad: out must be contiguous");
  n = hebb_numel(g);
  j.g = hebb_first(g), j.y = hebb_first(y), j.out = hebb_first(*out);
  hebb_bump_version(*out);
  return hebb_parallel_for(n, 1, g->dtype == HEBB_F64 ? relu_grad_f64
                                                      : relu_grad_f32, &j);
}

/* hebb_relu_grad_sum: the ReLU rule's g * sign(y) and, in the same pass,
   its sums over all dimensions but the last (the bias gradient of the
   linear layer under the ReLU, which the rule took as a second pass,
   d:sum(1) of d viewed as {rows, cols}).  The sums are reduce.c's column
   sums operation for operation, so they have its bits: the rows, in
   blocks of HEBB_RED_BLOCK, go row r to lane row r % 16 (the first 16
   assigned, the next ones added, in f64 for f32 as for f64), the used
   lane rows fold by the tree of halves 8, 4, 2, 1, the blocks add up in
   order, and an f32 sum is rounded once at the end.  No sum depends on
   how the columns are cut into tiles, so none on the thread count. */
#define RS_LANES 16   /* reduce.c's LANES */
#define RS_TW 64      /* columns per tile: 16 lane rows of 8 KiB */

typedef struct rsum_job {
  const char *g, *y;
  char *out, *sum;
  int64_t rows, cols;
} rsum_job;

/* lane rows 1..used-1 into row 0, as reduce.c's fold */
HEBB_CLONES static void rs_fold(double (*l)[RS_TW], int64_t w, int used) {
  int s, k;
  int64_t c;
  for (s = RS_LANES / 2; s >= 1; s /= 2) {
    for (k = 0; k < s && k + s < used; k++) {
      double *restrict d = l[k];
      const double *restrict e = l[k + s];
      for (c = 0; c < w; c++) d[c] = d[c] + e[c];
    }
    if (used > s) used = s;
  }
}

#define RELU_SUM(SUF, T, COPYSIGN)                                          \
NO_TRAPS HEBB_CLONES static void relu_sum_##SUF(int64_t lo, int64_t hi,     \
                                                void *ud) {                 \
  const rsum_job *j = ud;                                                   \
  double lanes[RS_LANES][RS_TW], acc[RS_TW];                                \
  int64_t t, cols = j->cols;                                                \
  for (t = lo; t < hi; t++) {                                               \
    int64_t c0 = t * RS_TW, w = cols - c0 < RS_TW ? cols - c0 : RS_TW;      \
    int64_t r0, r, c;                                                       \
    for (r0 = 0; r0 < j->rows; r0 += HEBB_RED_BLOCK) {                      \
      int64_t nr = j->rows - r0 < HEBB_RED_BLOCK ? j->rows - r0             \
                                                  : HEBB_RED_BLOCK;         \
      for (r = 0; r < nr; r++) {                                            \
        int64_t off = (r0 + r) * cols + c0;                                 \
        const T *restrict g = (const T *)j->g + off;                        \
        const T *restrict y = (const T *)j->y + off;                        \
        T *restrict o = (T *)j->out + off;                                  \
        double *restrict l = lanes[r % RS_LANES];                           \
        if (r < RS_LANES)                                                   \
          for (c = 0; c < w; c++) {                                         \
            T v = y[c], gi = g[c], p = RELU_PICK(gi, v, COPYSIGN);          \
            o[c] = p;                                                       \
            l[c] = (double)p;                                               \
          }                                                                 \
        else                                                                \
          for (c = 0; c < w; c++) {                                         \
            T v = y[c], gi = g[c], p = RELU_PICK(gi, v, COPYSIGN);          \
            o[c] = p;                                                       \
            l[c] = l[c] + (double)p;                                        \
          }                                                                 \
      }                                                                     \
      rs_fold(lanes, w, nr < RS_LANES ? (int)nr : RS_LANES);                \
      if (r0 == 0) memcpy(acc, lanes[0], (size_t)w * sizeof(double));       \
      else for (c = 0; c < w; c++) acc[c] = acc[c] + lanes[0][c];           \
    }                                                                       \
    for (c = 0; c < w; c++) ((T *)j->sum)[c0 + c] = (T)acc[c];              \
  }                                                                         \
}

RELU_SUM(f64, double, copysign)
RELU_SUM(f32, float, copysignf)

hebb_status hebb_relu_grad_sum(const hebb_tensor *g, const hebb_tensor *y,
                               hebb_tensor **out, hebb_tensor **sum) {
  rsum_job j;
  int64_t rows = 1, cols;
  int i;
  if (check_gy(g, y, "relu_grad_sum")) return hebb_last_status();
  if (g->ndim < 1)
    return hebb_fail(HEBB_ERR_SHAPE, "relu_grad_sum: g and y need at least "
                     "one dimension, got 0-d tensors");
  for (i = 0; i < g->ndim - 1; i++) rows *= g->shape[i];
  cols = g->shape[g->ndim - 1];
  if (hebb_prepare_out(out, g->dtype, g->ndim, g->shape, "relu_grad_sum") ||
      hebb_prepare_out(sum, g->dtype, 1, &cols, "relu_grad_sum"))
    return hebb_last_status();
  if (!hebb_is_contiguous(*out) || !hebb_is_contiguous(*sum))
    return hebb_fail(HEBB_ERR_ARG, "relu_grad_sum: out and sum must be "
                     "contiguous");
  hebb_bump_version(*out);
  hebb_bump_version(*sum);
  if (cols == 0) return HEBB_OK;
  j.sum = hebb_first(*sum);
  if (rows == 0) {   /* reduce.c's sum of no elements: +0 */
    memset(j.sum, 0, (size_t)(cols * hebb_dtype_size(g->dtype)));
    return HEBB_OK;
  }
  j.g = hebb_first(g), j.y = hebb_first(y), j.out = hebb_first(*out);
  j.rows = rows, j.cols = cols;
  return hebb_parallel_for((cols + RS_TW - 1) / RS_TW, 3 * rows * RS_TW,
                           g->dtype == HEBB_F64 ? relu_sum_f64 : relu_sum_f32,
                           &j);
}

/* hebb_linear_grad: a linear layer's weight gradient added into the
   gradient the weight already holds, acc += g^T x, by gemm with beta = 1:
   no product in a fresh buffer to add afterwards (for the MLP's first
   layer an 800 KB temporary a step, and a pass over it).  With accumulate
   = 0 the gemm has beta = 0 and writes acc = g^T x over whatever acc held
   (a gradient buffer the engine kept after p.grad = nil, or a new one when
   *acc is NULL): no memset, no fresh allocation.  The tiles of acc are the
   ones matmul.c cuts the product g^T x into (hebb_gemm_tiling, from the
   shapes alone), each one single-threaded gemm, so every element is
   computed by the same kernel calls as that product, at any thread count:
   with beta = 0 the very calls of g:t():matmul(x) (same operands, flags,
   leading dimensions, alpha and beta), so the same bits.  With beta = 1
   the gemm adds its sum over the batch to acc in one rounding where the
   product then add_ rounded twice -- the same bits whenever the batch fits
   in one of OpenBLAS's k-blocks (hundreds of rows), and otherwise the sum
   of the same terms in another order. */
typedef struct acc_job {
  const hebb_blas_api *blas;
  const char *g, *x;
  char *acc;
  int dtype, beta;           /* beta: 1 adds into acc, 0 overwrites it */
  int64_t nb, nout, nin;     /* batch rows, acc's rows and columns */
  hebb_gemm_tiles t;         /* matmul.c's tiles of g^T x */
} acc_job;

static void acc_tiles(int64_t lo, int64_t hi, void *ud) {
  const acc_job *j = ud;
  int64_t u, isz = j->dtype == HEBB_F64 ? 8 : 4;
  for (u = lo; u < hi; u++) {
    int64_t r0 = u / j->t.tc * j->t.rm, c0 = u % j->t.tc * j->t.rn;
    int64_t mr = j->nout - r0 < j->t.rm ? j->nout - r0 : j->t.rm;
    int64_t nc = j->nin - c0 < j->t.rn ? j->nin - c0 : j->t.rn;
    /* acc[r0.., c0..] = beta acc[r0.., c0..] + g[:, r0..]^T x[:, c0..] */
    const char *A = j->g + r0 * isz, *B = j->x + c0 * isz;
    char *C = j->acc + (r0 * j->nin + c0) * isz;
    if (j->dtype == HEBB_F64)
      j->blas->dgemm(HEBB_BLAS_ROWMAJOR, HEBB_BLAS_TRANS, HEBB_BLAS_NOTRANS,
                     (int)mr, (int)nc, (int)j->nb, 1.0, (const double *)A,
                     (int)j->nout, (const double *)B, (int)j->nin,
                     (double)j->beta, (double *)C, (int)j->nin);
    else
      j->blas->sgemm(HEBB_BLAS_ROWMAJOR, HEBB_BLAS_TRANS, HEBB_BLAS_NOTRANS,
                     (int)mr, (int)nc, (int)j->nb, 1.0f, (const float *)A,
                     (int)j->nout, (const float *)B, (int)j->nin,
                     (float)j->beta, (float *)C, (int)j->nin);
  }
}

hebb_status hebb_linear_grad(const hebb_tensor *g, const hebb_tensor *x,
                             hebb_tensor **accp, int accumulate) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF], b3[HEBB_SHAPEBUF];
  acc_job j;
  hebb_tensor *acc;
  int64_t work;   /* saturates, as matmul.c's */
  int d = g->dtype;
  if ((d != HEBB_F64 && d != HEBB_F32) || x->dtype != d ||
      (*accp && (*accp)->dtype != d))
    return hebb_fail(HEBB_ERR_DTYPE, "linear_grad: g, x and acc must have "
                     "one dtype, f64 or f32, got %s, %s and %s",
                     hebb_dtype_name(g->dtype), hebb_dtype_name(x->dtype),
                     *accp ? hebb_dtype_name((*accp)->dtype) : "none");
  if (g->ndim != 2 || x->ndim != 2 || g->shape[0] != x->shape[0])
    return hebb_fail(HEBB_ERR_SHAPE, "linear_grad: g {N, out} and x {N, in} "
                     "expected, got %s and %s",
                     hebb_shape_str(g->ndim, g->shape, b1, sizeof b1),
                     hebb_shape_str(x->ndim, x->shape, b2, sizeof b2));
  if (!*accp) {
    int64_t shape[2];
    if (accumulate)
      return hebb_fail(HEBB_ERR_ARG, "linear_grad: nothing to add into");
    shape[0] = g->shape[1], shape[1] = x->shape[1];
    if (!(*accp = hebb_empty(d, 2, shape))) return hebb_last_status();
  }
  acc = *accp;
  if (acc->ndim != 2 || acc->shape[0] != g->shape[1] ||
      acc->shape[1] != x->shape[1])
    return hebb_fail(HEBB_ERR_SHAPE, "linear_grad: g {N, out}, x {N, in} "
                     "and acc {out, in} expected, got %s, %s and %s",
                     hebb_shape_str(g->ndim, g->shape, b1, sizeof b1),
                     hebb_shape_str(x->ndim, x->shape, b2, sizeof b2),
                     hebb_shape_str(acc->ndim, acc->shape, b3, sizeof b3));
  if (!hebb_is_contiguous(g) || !hebb_is_contiguous(x) ||
      !hebb_is_contiguous(acc))
    return hebb_fail(HEBB_ERR_ARG, "linear_grad: g, x and acc must be "
                     "contiguous");
  if (hebb_same_storage(acc, g) || hebb_same_storage(acc, x))
    return hebb_fail(HEBB_ERR_ARG, "linear_grad: acc shares memory with "
                     "an operand");
  if (hebb_check_writable(acc, "linear_grad")) return hebb_last_status();
  j.nb = g->shape[0], j.nout = acc->shape[0], j.nin = acc->shape[1];
  if (j.nb > INT_MAX || j.nout > INT_MAX || j.nin > INT_MAX)
    return hebb_fail(HEBB_ERR_UNSUPPORTED, "linear_grad: dimensions beyond "
                     "%d are not supported", INT_MAX);
  hebb_bump_version(acc);
  if (j.nout == 0 || j.nin == 0) return HEBB_OK;
  j.acc = hebb_first(acc);
  if (j.nb == 0) {   /* an empty sum: acc unchanged, or zeros */
    if (!accumulate)
      memset(j.acc, 0, (size_t)(j.nout * j.nin * hebb_dtype_size(d)));
    return HEBB_OK;
  }
  if (!(j.blas = hebb_blas("linear_grad"))) return hebb_last_status();
  j.g = hebb_first(g), j.x = hebb_first(x);
  j.dtype = d, j.beta = accumulate ? 1 : 0;
  if (__builtin_mul_overflow(j.nout * j.nin, j.nb, &work)) work = INT64_MAX;
  hebb_gemm_tiling(1, j.nout, j.nin, work, &j.t);
  return hebb_parallel_for(j.t.tr * j.t.tc, j.t.rm * j.t.rn * j.nb, acc_tiles,
                           &j);
}
