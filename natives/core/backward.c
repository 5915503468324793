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

#define RELU_GRAD(SUF, T, COPYSIGN)                                         \
NO_TRAPS static void relu_grad_##SUF(int64_t lo, int64_t hi, void *ud) {             \
  const relu_job *j = ud;                                                   \
  const T *restrict g = (const T *)j->g, *restrict y = (const T *)j->y;     \
  T *restrict o = (T *)j->out;                                              \
  int64_t i;                                                                \
  for (i = lo; i < hi; i++) {                                               \
    T v = y[i], gi = g[i];                                                  \
    /* sign(v) is +-1 unless v is +-0 or NaN, where it is v itself */       \
    o[i] = v != 0 && v == v ? gi * COPYSIGN(1, v) : gi * v;                 \
  }                                                                         \
}

RELU_GRAD(f64, double, copysign)
RELU_GRAD(f32, float, copysignf)

hebb_status hebb_relu_grad(const hebb_tensor *g, const hebb_tensor *y,
                           hebb_tensor **out) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  relu_job j;
  int64_t n;
  if ((g->dtype != HEBB_F64 && g->dtype != HEBB_F32) || y->dtype != g->dtype)
    return hebb_fail(HEBB_ERR_DTYPE, "relu_grad: g and y must be both f64 or "
                     "both f32, got %s and %s", hebb_dtype_name(g->dtype),
                     hebb_dtype_name(y->dtype));
  if (g->ndim != y->ndim ||
      memcmp(g->shape, y->shape, (size_t)g->ndim * sizeof(int64_t)) != 0)
    return hebb_fail(HEBB_ERR_SHAPE, "relu_grad: g %s and y %s differ in shape",
                     hebb_shape_str(g->ndim, g->shape, b1, sizeof b1),
                     hebb_shape_str(y->ndim, y->shape, b2, sizeof b2));
  if (!hebb_is_contiguous(g) || !hebb_is_contiguous(y))
    return hebb_fail(HEBB_ERR_ARG, "relu_grad: g and y must be contiguous");
  if (hebb_prepare_out(out, g->dtype, g->ndim, g->shape, "relu_grad"))
    return hebb_last_status();
  if (!hebb_is_contiguous(*out))
    return hebb_fail(HEBB_ERR_ARG, "relu_grad: out must be contiguous");
  n = hebb_numel(g);
  j.g = hebb_first(g), j.y = hebb_first(y), j.out = hebb_first(*out);
  hebb_bump_version(*out);
  return hebb_parallel_for(n, 1, g->dtype == HEBB_F64 ? relu_grad_f64
                                                      : relu_grad_f32, &j);
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
