/*
** matmul.c -- matrix products with NumPy's matmul rules: 1-d . 1-d is a dot
** product (0-d result), a 1-d operand is a row (left) or column (right)
** vector whose dimension is dropped from the result, and leading (batch)
** dimensions broadcast.  f64/f32/c128/c64 go to OpenBLAS's gemm (dgemm,
** sgemm, zgemm, cgemm; dot uses the unconjugated zdotu/cdotu, as numpy's
** dot does -- T.vdot conjugates); a matrix that is
** row- or column-major strided (a transposed view, say) is handed over with
** a transpose flag instead of being copied.  i64 (and bool, which counts
** as i64 in arithmetic) uses a plain loop: exact, wrapping like Lua's
** integers.
**
** Results never depend on the thread count.  OpenBLAS's own threaded gemm
** gives different bits at different thread counts (it splits the matrix
** by thread), so hebb cuts C into tiles whose sizes depend only on the
** shapes, computes each tile with a single-threaded gemm, and spreads the
** tiles over its threads.  Dot products are summed in fixed blocks of
** HEBB_RED_BLOCK elements whose partial sums are combined in order.
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* Tiles of C are at most TILE x TILE; a product of at least SPLIT_WORK
   multiply-adds is cut into at least MIN_TILES tiles (these machines have
   two cores) so that threads have work to share.  Tiles this big cost
   OpenBLAS little extra packing: 1024^2 f32 measured within 1% of one
   direct cblas_sgemm (512-wide tiles cost 5%).  SPLIT_WORK 2^22 lets the
   12.8 M multiply-adds of an MLP layer (64 x 784 x 256) use both cores:
   its training step went from 1.48 to 0.87 ms at 2 threads, unchanged at
   one (bench/mlp_hebb.lua). */
#define TILE 1024
#define MIN_TILE 64
#define MIN_TILES 2
#define SPLIT_WORK ((int64_t)1 << 22)

/* --- dtypes ------------------------------------------------------------ */

/* matmul's result dtype: the promoted one, with bool counting as i64 */
static int result_dtype(int da, int db) {
  int d = hebb_promote(da, db);
  return d == HEBB_BOOL ? HEBB_I64 : d;
}

static int check_operands(const hebb_tensor *a, const hebb_tensor *b,
                          const char *who) {
  if (hebb_check_dtype_any(a->dtype, who) ||
      hebb_check_dtype_any(b->dtype, who))
    return hebb_last_status();
  return HEBB_OK;
}

/* The tensor a kernel writes: *out itself when it is contiguous and shares
   no memory with the inputs, otherwise a temporary copied over at the end
   (finish_result). */
static hebb_tensor *result_buffer(hebb_tensor *out, const hebb_tensor *a,
                                  const hebb_tensor *b) {
  if (hebb_is_contiguous(out) && !hebb_same_storage(out, a) &&
      !hebb_same_storage(out, b)) {
    hebb_retain(out);
    return out;
  }
  return hebb_empty(out->dtype, out->ndim, out->shape);
}

static int finish_result(hebb_tensor *out, hebb_tensor *res, int st) {
  if (st == HEBB_OK && res != out) st = hebb_convert_into(out, res);
  hebb_release(res);
  return st;
}



/* --- dot products ------------------------------------------------------ */

/* one block's partial sum: f for f64 and f32 (kept in double), i for i64,
   z for c128 and c64 (kept in double _Complex) */
typedef union partial { double f; uint64_t i; double _Complex z; } partial;

typedef struct dot_job {
  int dtype;
  int64_t n;
  const char *x, *y;        /* first elements */
  int64_t incx, incy;       /* in elements: 1 (see blas_vector) */
  partial *part;            /* one per block */
  const hebb_blas_api *blas;
} dot_job;

static void dot_blocks(int64_t lo, int64_t hi, void *ud) {
  const dot_job *j = ud;
  int64_t isz = hebb_dtype_size(j->dtype), blk;
  int ix = (int)j->incx, iy = (int)j->incy;
  for (blk = lo; blk < hi; blk++) {
    int64_t s = blk * HEBB_RED_BLOCK, len = j->n - s, i;
    const void *x = j->x + s * j->incx * isz, *y = j->y + s * j->incy * isz;
    partial *r = &j->part[blk];
    if (len > HEBB_RED_BLOCK) len = HEBB_RED_BLOCK;
    switch (j->dtype) {
      case HEBB_F64: r->f = j->blas->ddot((int)len, x, ix, y, iy); break;
      case HEBB_F32: r->f = j->blas->sdot((int)len, x, ix, y, iy); break;
      case HEBB_C128: j->blas->zdotu((int)len, x, ix, y, iy, &r->z); break;
      case HEBB_C64: {
        float _Complex z;
        j->blas->cdotu((int)len, x, ix, y, iy, &z);
        r->z = z;
        break;
      }
      default: {
        const int64_t *xi = x, *yi = y;
        uint64_t acc = 0;   /* unsigned: wraps like Lua's integers */
        for (i = 0; i < len; i++)
          acc += (uint64_t)xi[i * j->incx] * (uint64_t)yi[i * j->incy];
        r->i = acc;
      }
    }
  }
}

/* x . y for two 1-d tensors of dtype 'dtype' and equal length; the result
   goes to the element of the 0-d res. */
static int dot_kernel(int dtype, const hebb_tensor *x, const hebb_tensor *y,
                      hebb_tensor *res) {
  dot_job j;
  int64_t nblk, b;
  partial stackpart[64];
  double sum = 0;
  double _Complex zsum = 0;
  uint64_t isum = 0;
  int st;
  j.dtype = dtype;
  j.blas = NULL;
  if (dtype != HEBB_I64 && !(j.blas = hebb_blas("dot")))
    return hebb_last_status();
  j.n = x->shape[0];
  j.x = hebb_first(x);
  j.y = hebb_first(y);
  j.incx = j.n > 1 ? x->stride[0] : 1;
  j.incy = j.n > 1 ? y->stride[0] : 1;
  nblk = (j.n + HEBB_RED_BLOCK - 1) / HEBB_RED_BLOCK;
  j.part = nblk <= 64 ? stackpart : malloc((size_t)nblk * sizeof(partial));
  if (!j.part) return hebb_fail(HEBB_ERR_NOMEM, "dot: out of memory");
  st = hebb_parallel_for(nblk, HEBB_RED_BLOCK, dot_blocks, &j);
  for (b = 0; st == HEBB_OK && b < nblk; b++) {
    if (dtype == HEBB_I64) isum += j.part[b].i;
    else if (hebb_is_complex(dtype)) zsum += j.part[b].z;
    else sum += j.part[b].f;
  }
  if (j.part != stackpart) free(j.part);
  if (st != HEBB_OK) return st;
  switch (dtype) {
    case HEBB_F64: *(double *)hebb_first(res) = sum; break;
    case HEBB_F32: *(float *)hebb_first(res) = (float)sum; break;
    case HEBB_C128: *(double _Complex *)hebb_first(res) = zsum; break;
    case HEBB_C64: *(float _Complex *)hebb_first(res) = (float _Complex)zsum;
      break;
    default: *(int64_t *)hebb_first(res) = (int64_t)isum; break;
  }
  return HEBB_OK;
}

/* Only unit-stride vectors go to BLAS as they are; others are copied
   first.  OpenBLAS's sdot/ddot take another (one-accumulator) loop for a
   stride > 1, so x:dot(y) of a strided view rounded differently than of
   its contiguous copy; a copy keeps the bits independent of the layout. */
static int blas_vector(const hebb_tensor *v) {
  return v->shape[0] <= 1 || v->stride[0] == 1;
}

/* dot of two 1-d operands already checked, into the 0-d *out */
static int dot_into(const hebb_tensor *a, const hebb_tensor *b, int rd,
                    hebb_tensor **out, const char *who) {
  hebb_cast ca, cb;
  hebb_tensor *x = NULL, *y = NULL;
  int64_t none = 0;
  int made = *out == NULL, st = hebb_prepare_out(out, rd, 0, &none, who);
  if (st != HEBB_OK) return st;
  ca.tmp = cb.tmp = NULL;
  st = hebb_cast_init(&ca, a, rd);
  if (st == HEBB_OK) st = hebb_cast_init(&cb, b, rd);
  if (st == HEBB_OK) {
    x = blas_vector(ca.t) ? (hebb_retain(ca.t), ca.t) : hebb_contiguous(ca.t);
    y = blas_vector(cb.t) ? (hebb_retain(cb.t), cb.t) : hebb_contiguous(cb.t);
    if (!x || !y) st = hebb_last_status();
  }
  /* the inputs are read in full before the one result element is written,
     so *out may be one of them */
  if (st == HEBB_OK) st = dot_kernel(rd, x, y, *out);
  hebb_release(x);
  hebb_release(y);
  hebb_cast_free(&ca);
  hebb_cast_free(&cb);
  return hebb_out_end(out, made, st);
}

/* --- matmul plans ------------------------------------------------------ */

typedef struct operand {
  char *base;                   /* first element */
  int64_t rs, cs;               /* row and column strides (elements) */
  int64_t bstride[HEBB_MAXDIM]; /* batch strides, 0 where broadcast */
  int trans;                    /* BLAS form: 0 row-major, 1 column-major */
  int64_t ld;
} operand;

typedef struct plan {
  int dtype, isize;
  int nbd;                      /* batch dimensions */
  int64_t bshape[HEBB_MAXDIM];
  int64_t nbatch, m, n, k;
  operand a, b;
  char *c;                      /* contiguous result, nbatch x m x n */
  /* BLAS tiling: 'items' gemms of rows x n (rows = m, or nbatch*m when
     the batch folds into one tall gemm), each cut into tr x tc tiles of
     at most rm x rn */
  int64_t items, rows, tr, tc, rm, rn;
  int accumulate;               /* C += A B (hebb_linear's bias) */
  /* hebb_linear's tile work (f64/f32): each tile starts as these n
     elements (the bias, p->dtype, contiguous) in every row, and relu sets
     the tile's negative elements to 0 after its gemm -- the same values
     as a bias pass over the whole result and a ReLU pass after it, done
     while the tile is in cache */
  const char *bias;
  int relu;
  const hebb_blas_api *blas;
} plan;

/* Whether a rows x cols matrix with these strides can go to BLAS as is,
   and how: row-major (NoTrans, ld = row stride) or column-major (Trans,
   ld = column stride).  A size-1 dimension's stride does not matter. */
static int blas_form(int64_t rows, int64_t cols, int64_t rs, int64_t cs,
                     int *trans, int64_t *ld) {
  int64_t minr = rows > 1 ? rows : 1, minc = cols > 1 ? cols : 1;
  if ((cols <= 1 || cs == 1) && (rows <= 1 || (rs >= minc && rs <= INT_MAX))) {
    *trans = 0;
    *ld = rows <= 1 ? minc : rs;
    return 1;
  }
  if ((rows <= 1 || rs == 1) && (cols <= 1 || (cs >= minr && cs <= INT_MAX))) {
    *trans = 1;
    *ld = cols <= 1 ? minr : cs;
    return 1;
  }
  return 0;
}

/* The row and column strides of t's matrix part; a 1-d tensor is a row
   when it is the left operand and a column when it is the right one. */
static void matrix_strides(const hebb_tensor *t, int left, int64_t *rs,
                           int64_t *cs) {
  int nd = t->ndim;
  if (nd == 1) {
    *rs = left ? 0 : t->stride[0];
    *cs = left ? t->stride[0] : 0;
  } else {
    *rs = t->stride[nd - 2];
    *cs = t->stride[nd - 1];
  }
}

/* Fills op from t (already in the compute dtype): its matrix strides and
   its batch strides aligned to the plan's nbd batch dimensions. */
static void set_operand(operand *op, const hebb_tensor *t, int left, int nbd) {
  int tb = t->ndim > 2 ? t->ndim - 2 : 0, i;
  op->base = hebb_first(t);
  matrix_strides(t, left, &op->rs, &op->cs);
  for (i = 0; i < nbd; i++) {
    int k = i - (nbd - tb);
    op->bstride[i] = (k < 0 || t->shape[k] == 1) ? 0 : t->stride[k];
  }
}

/* element offsets of batch item 'item' in the two operands */
static void item_offsets(const plan *p, int64_t item, int64_t *oa,
                         int64_t *ob) {
  int d;
  *oa = *ob = 0;
  for (d = p->nbd - 1; d >= 0; d--) {
    int64_t i = item % p->bshape[d];
    item /= p->bshape[d];
    *oa += i * p->a.bstride[d];
    *ob += i * p->b.bstride[d];
  }
}

/* relu on an mr x nc tile of the result (row stride p->n), as unary.c's
   RELU: x if x > 0 or x is NaN, else +0 */
#define RELU_TILE(T)                                                        \
  do {                                                                      \
    int64_t r, j;                                                           \
    for (r = 0; r < mr; r++) {                                              \
      T *row = (T *)C + r * p->n;                                           \
      for (j = 0; j < nc; j++) {                                            \
        T v = row[j];                                                       \
        row[j] = (v > 0 || v != v) ? v : 0;                                 \
      }                                                                     \
    }                                                                       \
  } while (0)

static void relu_tile(const plan *p, char *C, int64_t mr, int64_t nc) {
  if (p->dtype == HEBB_F64) RELU_TILE(double);
  else RELU_TILE(float);
}

/* C[r0:r0+mr, c0:c0+nc] of item 'item' */
static void gemm_tile(const plan *p, int64_t item, int64_t r0, int64_t mr,
                      int64_t c0, int64_t nc) {
  int ta = p->a.trans ? HEBB_BLAS_TRANS : HEBB_BLAS_NOTRANS;
  int tb = p->b.trans ? HEBB_BLAS_TRANS : HEBB_BLAS_NOTRANS;
  int64_t oa = 0, ob = 0, isz = p->isize;
  const char *A, *B;
  char *C;
  if (p->items > 1) item_offsets(p, item, &oa, &ob);
  /* row r0 of op(A), column c0 of op(B), in either storage order */
  A = p->a.base + (oa + r0 * (p->a.trans ? 1 : p->a.ld)) * isz;
  B = p->b.base + (ob + c0 * (p->b.trans ? p->b.ld : 1)) * isz;
  C = p->c + ((item * p->rows + r0) * p->n + c0) * isz;
  if (p->bias) {
    int64_t r;
    for (r = 0; r < mr; r++)
      memcpy(C + r * p->n * isz, p->bias + c0 * isz, (size_t)(nc * isz));
  }
  if (hebb_is_complex(p->dtype)) {
    static const double _Complex zone = 1, zzero = 0;
    static const float _Complex cone = 1, czero = 0;
    int z = p->dtype == HEBB_C128;
    const void *beta = p->accumulate ? (z ? (const void *)&zone : &cone)
                                     : (z ? (const void *)&zzero : &czero);
    (z ? p->blas->zgemm : p->blas->cgemm)(
      HEBB_BLAS_ROWMAJOR, ta, tb, (int)mr, (int)nc, (int)p->k,
      z ? (const void *)&zone : (const void *)&cone, A, (int)p->a.ld, B,
      (int)p->b.ld, beta, C, (int)p->n);
  }
  else if (p->dtype == HEBB_F64)
    p->blas->dgemm(HEBB_BLAS_ROWMAJOR, ta, tb, (int)mr, (int)nc, (int)p->k, 1.0,
                (const double *)A, (int)p->a.ld, (const double *)B,
                (int)p->b.ld, p->accumulate, (double *)C, (int)p->n);
  else
    p->blas->sgemm(HEBB_BLAS_ROWMAJOR, ta, tb, (int)mr, (int)nc, (int)p->k, 1.0f,
                (const float *)A, (int)p->a.ld, (const float *)B,
                (int)p->b.ld, (float)p->accumulate, (float *)C, (int)p->n);
  if (p->relu) relu_tile(p, C, mr, nc);
}

/* Tiles [lo, hi), numbered item by item, row-major within an item.  Each
   runs single-threaded in OpenBLAS: inside a parallel region OpenBLAS
   does not start threads, and outside one either hebb (and so OpenBLAS)
   has one thread or the work is far below OpenBLAS's threading
   threshold. */
static void gemm_tiles(int64_t lo, int64_t hi, void *ud) {
  const plan *p = ud;
  int64_t u, per = p->tr * p->tc;
  for (u = lo; u < hi; u++) {
    int64_t ti = u % per / p->tc, tj = u % p->tc;
    int64_t r0 = ti * p->rm, c0 = tj * p->rn;
    int64_t mr = p->rows - r0 < p->rm ? p->rows - r0 : p->rm;
    int64_t nc = p->n - c0 < p->rn ? p->n - c0 : p->rn;
    gemm_tile(p, u / per, r0, mr, c0, nc);
  }
}

/* Chooses the tiles from the shapes alone, never from the thread count,
   so the same gemm calls (and bits) happen at any thread count.  Splits
   go to the rows while they are long enough, then to the columns: a tile
   of whole rows is one contiguous block of C, which OpenBLAS zeroes (beta
   = 0) with one memset, where a tile of part rows took its sgemm_beta
   loop, ~4x slower (the MLP's dW1 = dH^T x, 256 x 784, was cut into two
   256 x 392 tiles; their zeroing took 4% of the step on Zen 4). */
void hebb_gemm_tiling(int64_t items, int64_t rows, int64_t n, int64_t work,
                      hebb_gemm_tiles *t) {
  t->tr = (rows + TILE - 1) / TILE;
  t->tc = (n + TILE - 1) / TILE;
  while (work >= SPLIT_WORK && items * t->tr * t->tc < MIN_TILES) {
    int64_t hr = rows / t->tr, hc = n / t->tc;
    if (hr >= 2 * MIN_TILE) t->tr *= 2;
    else if (hc >= 2 * MIN_TILE) t->tc *= 2;
    else break;
  }
  t->rm = (rows + t->tr - 1) / t->tr;
  t->rn = (n + t->tc - 1) / t->tc;
}

static void set_tiles(plan *p, int fold) {
  int64_t work;   /* saturates: the result's count times k may not fit */
  hebb_gemm_tiles t;
  if (__builtin_mul_overflow(p->nbatch * p->m * p->n, p->k, &work))
    work = INT64_MAX;
  p->items = fold ? 1 : p->nbatch;
  p->rows = fold ? p->nbatch * p->m : p->m;
  hebb_gemm_tiling(p->items, p->rows, p->n, work, &t);
  p->tr = t.tr, p->tc = t.tc, p->rm = t.rm, p->rn = t.rn;
}

/* i64: rows [lo, hi) of the nbatch*m result rows, C[i,:] = sum_q A[i,q]
   B[q,:], in wrapping unsigned arithmetic */
static void int_rows(int64_t lo, int64_t hi, void *ud) {
  const plan *p = ud;
  int64_t r, q, j, n = p->n, bcs = p->b.cs;
  for (r = lo; r < hi; r++) {
    int64_t t = r / p->m, i = r % p->m, oa, ob;
    const int64_t *A, *B;
    uint64_t *restrict C = (uint64_t *)p->c + r * n;
    item_offsets(p, t, &oa, &ob);
    A = (const int64_t *)p->a.base + oa + i * p->a.rs;
    B = (const int64_t *)p->b.base + ob;
    for (j = 0; j < n; j++) C[j] = 0;
    for (q = 0; q < p->k; q++) {
      uint64_t x = (uint64_t)A[q * p->a.cs];
      const int64_t *row = B + q * p->b.rs;
      if (bcs == 1)
        for (j = 0; j < n; j++) C[j] += x * (uint64_t)row[j];
      else
        for (j = 0; j < n; j++) C[j] += x * (uint64_t)row[j * bcs];
    }
  }
}

/* Runs the plan into its result buffer. */
static int run_plan(plan *p, int fold) {
  if (p->nbatch * p->m * p->n == 0) return HEBB_OK;
  if (p->k == 0) {   /* empty sums: 0, or what an accumulation starts at */
    if (!p->accumulate)
      memset(p->c, 0, (size_t)(p->nbatch * p->m * p->n * p->isize));
    return HEBB_OK;
  }
  if (p->dtype == HEBB_I64)
    return hebb_parallel_for(p->nbatch * p->m, p->n * p->k, int_rows, p);
  if (!(p->blas = hebb_blas("matmul"))) return hebb_last_status();
  set_tiles(p, fold);
  return hebb_parallel_for(p->items * p->tr * p->tc, p->rm * p->rn * p->k,
                           gemm_tiles, p);
}

/* Gives BLAS operand t as is when its matrix part allows, otherwise as a
   contiguous copy (*hold keeps whichever is used alive). */
static int blas_operand(hebb_tensor *t, int left, int64_t rows, int64_t cols,
                        hebb_tensor **hold) {
  int trans;
  int64_t rs, cs, ld;
  matrix_strides(t, left, &rs, &cs);
  if (blas_form(rows, cols, rs, cs, &trans, &ld)) {
    hebb_retain(t);
    *hold = t;
  }
  else *hold = hebb_clone(t);
  return *hold ? HEBB_OK : hebb_last_status();
}

static int matmul_shapes(const hebb_tensor *a, const hebb_tensor *b,
                         plan *p, int *ndim, int64_t *shape) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  int na = a->ndim > 2 ? a->ndim - 2 : 0, nb = b->ndim > 2 ? b->ndim - 2 : 0;
  int i, nd;
  int64_t ak = a->shape[a->ndim - 1];
  int64_t bk = b->shape[b->ndim == 1 ? 0 : b->ndim - 2];
  if (ak != bk)
    return hebb_fail(HEBB_ERR_SHAPE, "matmul: shapes %s and %s do not align "
                     "(%lld \xe2\x89\xa0 %lld)",
                     hebb_shape_str(a->ndim, a->shape, b1, sizeof b1),
                     hebb_shape_str(b->ndim, b->shape, b2, sizeof b2),
                     (long long)ak, (long long)bk);
  p->nbd = na > nb ? na : nb;
  for (i = 0; i < p->nbd; i++) {
    int64_t x = i < p->nbd - na ? 1 : a->shape[i - (p->nbd - na)];
    int64_t y = i < p->nbd - nb ? 1 : b->shape[i - (p->nbd - nb)];
    if (x != y && x != 1 && y != 1)
      return hebb_fail(HEBB_ERR_SHAPE, "matmul: batch dimensions of shapes %s "
                       "and %s do not broadcast (%lld vs %lld)",
                       hebb_shape_str(a->ndim, a->shape, b1, sizeof b1),
                       hebb_shape_str(b->ndim, b->shape, b2, sizeof b2),
                       (long long)x, (long long)y);
    p->bshape[i] = x == 1 ? y : x;
  }
  p->nbatch = hebb_shape_numel(p->nbd, p->bshape);
  p->m = a->ndim == 1 ? 1 : a->shape[a->ndim - 2];
  p->k = ak;
  p->n = b->ndim == 1 ? 1 : b->shape[b->ndim - 1];
  if (p->m > INT_MAX || p->n > INT_MAX || p->k > INT_MAX)
    return hebb_fail(HEBB_ERR_UNSUPPORTED, "matmul: dimensions beyond %d are "
                     "not supported (m %lld, n %lld, k %lld)", INT_MAX,
                     (long long)p->m, (long long)p->n, (long long)p->k);
  nd = p->nbd;
  memcpy(shape, p->bshape, (size_t)nd * sizeof(int64_t));
  if (a->ndim > 1) shape[nd++] = p->m;
  if (b->ndim > 1) shape[nd++] = p->n;
  *ndim = nd;
  return HEBB_OK;
}

/* a @ b into *out; with accumulate (floating dtypes only) *out is given
   and the product is added to what it holds; with bias (f64/f32,
   contiguous, the result's dtype) each tile starts as the bias instead,
   and relu takes each tile's ReLU: hebb_linear's tile work (see plan) */
static int matmul_into(const hebb_tensor *a, const hebb_tensor *b,
                       int accumulate, const hebb_tensor *bias, int relu,
                       hebb_tensor **out) {
  hebb_cast ca, cb;
  hebb_tensor *ta = NULL, *tb = NULL, *res = NULL;
  int64_t shape[HEBB_MAXDIM];
  int ndim = 0, rd, made = *out == NULL, st, fold = 0;
  plan p;
  if (check_operands(a, b, "matmul")) return hebb_last_status();
  if (a->ndim == 0 || b->ndim == 0)
    return hebb_fail(HEBB_ERR_SHAPE, "matmul: operand %d is 0-dimensional "
                     "(use * to multiply by a scalar)", a->ndim == 0 ? 1 : 2);
  rd = result_dtype(a->dtype, b->dtype);
  if (matmul_shapes(a, b, &p, &ndim, shape)) return hebb_last_status();
  if (a->ndim == 1 && b->ndim == 1) return dot_into(a, b, rd, out, "matmul");
  st = hebb_prepare_out(out, rd, ndim, shape, "matmul");
  if (st != HEBB_OK) return st;
  ca.tmp = cb.tmp = NULL;
  st = hebb_cast_init(&ca, a, rd);
  if (st == HEBB_OK) st = hebb_cast_init(&cb, b, rd);
  if (st == HEBB_OK && rd != HEBB_I64) {
    st = blas_operand(ca.t, 1, p.m, p.k, &ta);
    if (st == HEBB_OK) st = blas_operand(cb.t, 0, p.k, p.n, &tb);
  }
  else if (st == HEBB_OK) {
    hebb_retain(ca.t);
    hebb_retain(cb.t);
    ta = ca.t;
    tb = cb.t;
  }
  if (st == HEBB_OK) {
    res = result_buffer(*out, a, b);
    if (!res) st = hebb_last_status();
    else if (accumulate && res != *out) st = hebb_copy(res, *out);
  }
  if (st == HEBB_OK) {
    p.accumulate = accumulate || bias;
    p.bias = bias ? hebb_first(bias) : NULL;
    p.relu = relu;
    p.dtype = rd;
    p.isize = hebb_dtype_size(rd);
    set_operand(&p.a, ta, 1, p.nbd);
    set_operand(&p.b, tb, 0, p.nbd);
    if (rd != HEBB_I64) {
      blas_form(p.m, p.k, p.a.rs, p.a.cs, &p.a.trans, &p.a.ld);
      blas_form(p.k, p.n, p.b.rs, p.b.cs, &p.b.trans, &p.b.ld);
      /* (batch..., m, k) contiguous times one matrix: one gemm */
      fold = tb->ndim <= 2 && ta->ndim > 2 && hebb_is_contiguous(ta) &&
             p.a.trans == 0 && p.nbatch * p.m <= INT_MAX;
    }
    p.c = hebb_first(res);
    st = finish_result(*out, res, run_plan(&p, fold));
  }
  hebb_release(ta);
  hebb_release(tb);
  hebb_cast_free(&ca);
  hebb_cast_free(&cb);
  return hebb_out_end(out, made, st);
}

hebb_status hebb_matmul(const hebb_tensor *a, const hebb_tensor *b,
                        hebb_tensor **out) {
  return matmul_into(a, b, 0, NULL, 0, out);
}

/* --- linear: x W^T + b ------------------------------------------------- */

static int check_linear(const hebb_tensor *x, const hebb_tensor *w,
                        const hebb_tensor *b) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  if (check_operands(x, w, "linear")) return hebb_last_status();
  if (w->ndim != 2 || x->ndim < 1 || x->shape[x->ndim - 1] != w->shape[1])
    return hebb_fail(HEBB_ERR_SHAPE, "linear: input of shape %s does not fit "
                     "a weight of shape %s (expected {out, in} with in the "
                     "input's last size)",
                     hebb_shape_str(x->ndim, x->shape, b1, sizeof b1),
                     hebb_shape_str(w->ndim, w->shape, b2, sizeof b2));
  if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
    return hebb_fail(HEBB_ERR_SHAPE, "linear: bias of shape %s for %lld "
                     "outputs (expected {%lld})",
                     hebb_shape_str(b->ndim, b->shape, b1, sizeof b1),
                     (long long)w->shape[0], (long long)w->shape[0]);
  if (b && hebb_is_complex(b->dtype) && !hebb_is_complex(result_dtype(
        x->dtype, w->dtype)))
    return hebb_fail(HEBB_ERR_DTYPE, "linear: a %s bias for %s and %s "
                     "operands", hebb_dtype_name(b->dtype),
                     hebb_dtype_name(x->dtype), hebb_dtype_name(w->dtype));
  return HEBB_OK;
}

/* The result starts as the bias, broadcast over the rows, and the gemm
   adds x W^T to it (beta = 1): no separate pass over the result for the
   bias, and no zeroing pass inside BLAS. */
static hebb_status linear(const hebb_tensor *x, const hebb_tensor *w,
                          const hebb_tensor *b, int relu, hebb_tensor **out) {
  int64_t shape[HEBB_MAXDIM];
  hebb_tensor *wt;
  int made = *out == NULL, st, rd, real;
  if (check_linear(x, w, b)) return hebb_last_status();
  wt = hebb_transpose(hebb_unconst(w), 0, 1);
  if (!wt) return hebb_last_status();
  rd = result_dtype(x->dtype, w->dtype);
  real = rd == HEBB_F64 || rd == HEBB_F32;
  /* i64 has no gemm to accumulate in, and an out sharing memory with an
     operand must not be filled with the bias first */
  if (!b || rd == HEBB_I64 || (*out && (hebb_same_storage(*out, x) ||
                                        hebb_same_storage(*out, w)))) {
    /* f64/f32 without a bias: the ReLU in the tiles */
    int tiles = relu && !b && real && x->shape[x->ndim - 1] > 0;
    st = tiles ? (hebb_status)matmul_into(x, wt, 0, NULL, 1, out)
               : hebb_matmul(x, wt, out);
    if (st == HEBB_OK && b) st = hebb_binary(HEBB_ADD, *out, b, out);
    if (st == HEBB_OK && relu && !tiles) st = hebb_unary(HEBB_RELU, *out, out);
    hebb_release(wt);
    return hebb_out_end(out, made, st);
  }
  memcpy(shape, x->shape, sizeof shape);
  shape[x->ndim - 1] = w->shape[0];
  st = hebb_prepare_out(out, rd, x->ndim, shape, "linear");
  /* f64/f32 with a contiguous bias of the result's dtype and a sum to
     take: each tile copies its part of the bias in just before its gemm
     (and takes its ReLU after it); else the bias pass, then the gemm */
  if (st == HEBB_OK && real && b->dtype == rd && b->stride[0] == 1 &&
      x->shape[x->ndim - 1] > 0)
    st = matmul_into(x, wt, 0, b, relu, out);
  else {
    if (st == HEBB_OK) st = hebb_copy(*out, b);
    if (st == HEBB_OK) st = matmul_into(x, wt, 1, NULL, 0, out);
    if (st == HEBB_OK && relu) st = hebb_unary(HEBB_RELU, *out, out);
  }
  hebb_release(wt);
  return hebb_out_end(out, made, st);
}

hebb_status hebb_linear(const hebb_tensor *x, const hebb_tensor *w,
                        const hebb_tensor *b, hebb_tensor **out) {
  return linear(x, w, b, 0, out);
}

hebb_status hebb_linear_relu(const hebb_tensor *x, const hebb_tensor *w,
                             const hebb_tensor *b, hebb_tensor **out) {
  return linear(x, w, b, 1, out);
}

/* --- dot and outer ----------------------------------------------------- */

static int check_vectors(const hebb_tensor *a, const hebb_tensor *b,
                         const char *who) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  if (check_operands(a, b, who)) return hebb_last_status();
  if (a->ndim != 1 || b->ndim != 1)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: expects two 1-d tensors (got "
                     "shapes %s and %s)", who,
                     hebb_shape_str(a->ndim, a->shape, b1, sizeof b1),
                     hebb_shape_str(b->ndim, b->shape, b2, sizeof b2));
  return HEBB_OK;
}

hebb_status hebb_dot(const hebb_tensor *a, const hebb_tensor *b,
                     hebb_tensor **out) {
  if (check_vectors(a, b, "dot")) return hebb_last_status();
  if (a->shape[0] != b->shape[0])
    return hebb_fail(HEBB_ERR_SHAPE, "dot: lengths %lld and %lld differ",
                     (long long)a->shape[0], (long long)b->shape[0]);
  return dot_into(a, b, result_dtype(a->dtype, b->dtype), out, "dot");
}

typedef struct outer_job {
  int dtype;
  int64_t n, sa, sb;        /* length of b; strides in elements */
  const char *a, *b;
  char *c;
} outer_job;

static void outer_rows(int64_t lo, int64_t hi, void *ud) {
  const outer_job *o = ud;
  int64_t i, j, n = o->n, sb = o->sb;
  for (i = lo; i < hi; i++) {
    switch (o->dtype) {
      case HEBB_F64: {
        double x = ((const double *)o->a)[i * o->sa];
        const double *y = (const double *)o->b;
        double *restrict c = (double *)o->c + i * n;
        for (j = 0; j < n; j++) c[j] = x * y[j * sb];
        break;
      }
      case HEBB_F32: {
        float x = ((const float *)o->a)[i * o->sa];
        const float *y = (const float *)o->b;
        float *restrict c = (float *)o->c + i * n;
        for (j = 0; j < n; j++) c[j] = x * y[j * sb];
        break;
      }
      case HEBB_C128: {
        double _Complex x = ((const double _Complex *)o->a)[i * o->sa];
        const double _Complex *y = (const double _Complex *)o->b;
        double _Complex *restrict c = (double _Complex *)o->c + i * n;
        for (j = 0; j < n; j++) c[j] = x * y[j * sb];
        break;
      }
      case HEBB_C64: {
        float _Complex x = ((const float _Complex *)o->a)[i * o->sa];
        const float _Complex *y = (const float _Complex *)o->b;
        float _Complex *restrict c = (float _Complex *)o->c + i * n;
        for (j = 0; j < n; j++) c[j] = x * y[j * sb];
        break;
      }
      default: {
        uint64_t x = (uint64_t)((const int64_t *)o->a)[i * o->sa];
        const int64_t *y = (const int64_t *)o->b;
        uint64_t *restrict c = (uint64_t *)o->c + i * n;
        for (j = 0; j < n; j++) c[j] = x * (uint64_t)y[j * sb];
      }
    }
  }
}

hebb_status hebb_outer(const hebb_tensor *a, const hebb_tensor *b,
                       hebb_tensor **out) {
  hebb_cast ca, cb;
  hebb_tensor *res = NULL;
  int64_t shape[2];
  int rd, made = *out == NULL, st;
  outer_job o;
  if (check_vectors(a, b, "outer")) return hebb_last_status();
  rd = result_dtype(a->dtype, b->dtype);
  shape[0] = a->shape[0];
  shape[1] = b->shape[0];
  st = hebb_prepare_out(out, rd, 2, shape, "outer");
  if (st != HEBB_OK) return st;
  ca.tmp = cb.tmp = NULL;
  st = hebb_cast_init(&ca, a, rd);
  if (st == HEBB_OK) st = hebb_cast_init(&cb, b, rd);
  if (st == HEBB_OK) {
    res = result_buffer(*out, a, b);
    if (!res) st = hebb_last_status();
  }
  if (st == HEBB_OK) {
    o.dtype = rd;
    o.n = shape[1];
    o.a = hebb_first(ca.t);
    o.b = hebb_first(cb.t);
    o.sa = ca.t->stride[0];
    o.sb = cb.t->stride[0];
    o.c = hebb_first(res);
    st = finish_result(*out, res,
                       hebb_parallel_for(shape[0], shape[1], outer_rows, &o));
  }
  hebb_cast_free(&ca);
  hebb_cast_free(&cb);
  return hebb_out_end(out, made, st);
}
