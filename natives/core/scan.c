/*
** scan.c -- cumulative sums and products along one dimension.
**
** Each line is scanned strictly left to right (element i of the result is
** ((x1 + x2) + ...) + xi), so a result is a pure function of its line and
** the bits cannot depend on threads, which only split the work between
** lines.  Floats accumulate in f64 (f32 results are rounded element by
** element from the f64 running value); i64 and bool accumulate as exact
** i64 with wrap-around, like Lua's integers.  A scan down the columns of a
** row-major array walks whole rows, carrying one accumulator per column.
*/
#include <string.h>

#include "core.h"

/* columns per tile: long runs of each row (tiles of 256 made the column
   scan of a 10000 x 1000 matrix 2x slower) */
#define COLW 2048

#define OP_ADD(a, b) ((a) + (b))
#define OP_MUL(a, b) ((a) * (b))
#define OP_IADD(a, b) ((int64_t)((uint64_t)(a) + (uint64_t)(b)))
#define OP_IMUL(a, b) ((int64_t)((uint64_t)(a) * (uint64_t)(b)))

/* one line of n elements: x at p (byte stride st), results at q (qst) */
typedef void (*line_fn)(const char *p, int64_t st, char *q, int64_t qst,
                        int64_t n);
/* n rows (byte strides rst, qrst) of w columns (cst, qcst) */
typedef void (*cols_fn)(const char *p, int64_t rst, int64_t cst, char *q,
                        int64_t qrst, int64_t qcst, int64_t n, int64_t w);

/* -0.0 starts a sum so that a line of -0.0 sums to -0.0 */
#define SCAN_KERNELS(NAME, TX, TY, TA, ID, OP)                                \
  static void NAME##_line(const char *p, int64_t st, char *q, int64_t qst,    \
                          int64_t n) {                                        \
    TA acc = ID;                                                              \
    int64_t i;                                                                \
    for (i = 0; i < n; i++, p += st, q += qst) {                              \
      acc = OP(acc, (TA)*(const TX *)p);                                      \
      *(TY *)q = (TY)acc;                                                     \
    }                                                                         \
  }                                                                           \
  static void NAME##_cols(const char *p, int64_t rst, int64_t cst, char *q,   \
                          int64_t qrst, int64_t qcst, int64_t n, int64_t w) { \
    TA acc[COLW];                                                             \
    int64_t r, c;                                                             \
    for (c = 0; c < w; c++) acc[c] = ID;                                      \
    for (r = 0; r < n; r++, p += rst, q += qrst) {                            \
      if (cst == (int64_t)sizeof(TX) && qcst == (int64_t)sizeof(TY)) {        \
        const TX *restrict x = (const TX *)p;                                 \
        TY *restrict y = (TY *)q;                                             \
        for (c = 0; c < w; c++) {                                             \
          acc[c] = OP(acc[c], (TA)x[c]);                                      \
          y[c] = (TY)acc[c];                                                  \
        }                                                                     \
      } else                                                                  \
        for (c = 0; c < w; c++) {                                             \
          acc[c] = OP(acc[c], (TA)*(const TX *)(p + c * cst));                \
          *(TY *)(q + c * qcst) = (TY)acc[c];                                 \
        }                                                                     \
    }                                                                         \
  }

SCAN_KERNELS(sum_d, double, double, double, -0.0, OP_ADD)
SCAN_KERNELS(sum_f, float, float, double, -0.0, OP_ADD)
SCAN_KERNELS(sum_i, int64_t, int64_t, int64_t, 0, OP_IADD)
SCAN_KERNELS(sum_b, bool, int64_t, int64_t, 0, OP_IADD)
SCAN_KERNELS(prod_d, double, double, double, 1.0, OP_MUL)
SCAN_KERNELS(prod_f, float, float, double, 1.0, OP_MUL)
SCAN_KERNELS(prod_i, int64_t, int64_t, int64_t, 1, OP_IMUL)
SCAN_KERNELS(prod_b, bool, int64_t, int64_t, 1, OP_IMUL)

static const line_fn lines[2][4] = {
  {sum_d_line, sum_f_line, sum_i_line, sum_b_line},
  {prod_d_line, prod_f_line, prod_i_line, prod_b_line},
};
static const cols_fn colss[2][4] = {
  {sum_d_cols, sum_f_cols, sum_i_cols, sum_b_cols},
  {prod_d_cols, prod_f_cols, prod_i_cols, prod_b_cols},
};

/* kept dims with input (ks[0]) and output (ks[1]) byte strides; the scanned
   dim has n elements at strides rs (input) and qs (output) */
typedef struct scanjob {
  int nk;
  int64_t kshape[HEBB_MAXDIM], kin[HEBB_MAXDIM], kout[HEBB_MAXDIM];
  int64_t n, rs, qs;
  const char *src;
  char *dst;
  line_fn line;
  cols_fn cols;
} scanjob;

static void line_units(int64_t lo, int64_t hi, void *ud) {
  const scanjob *jb = ud;
  hebb_odo ki, ko;
  int64_t o;
  hebb_odo_seek(&ki, jb->nk, jb->kshape, jb->kin, lo);
  hebb_odo_seek(&ko, jb->nk, jb->kshape, jb->kout, lo);
  for (o = lo; o < hi; o++) {
    jb->line(jb->src + ki.off, jb->rs, jb->dst + ko.off, jb->qs, jb->n);
    if (o + 1 < hi) {
      hebb_odo_step(&ki, 1);
      hebb_odo_step(&ko, 1);
    }
  }
}

/* units are (outer line index q, column tile t) */
static void col_units(int64_t lo, int64_t hi, void *ud) {
  const scanjob *jb = ud;
  int kl = jb->nk - 1;
  int64_t inner = jb->kshape[kl], ntiles = (inner + COLW - 1) / COLW, u;
  for (u = lo; u < hi; u++) {
    int64_t t = u % ntiles, q = u / ntiles, c0 = t * COLW;
    int64_t w = inner - c0 < COLW ? inner - c0 : COLW;
    hebb_odo ki, ko;
    hebb_odo_seek(&ki, kl, jb->kshape, jb->kin, q);
    hebb_odo_seek(&ko, kl, jb->kshape, jb->kout, q);
    jb->cols(jb->src + ki.off + c0 * jb->kin[kl], jb->rs, jb->kin[kl],
             jb->dst + ko.off + c0 * jb->kout[kl], jb->qs, jb->kout[kl],
             jb->n, w);
  }
}

static int scan(int prod, const hebb_tensor *a, int dim, hebb_tensor **out) {
  const char *who = prod ? "cumprod" : "cumsum";
  int dtype, i;
  int64_t isz, osz, inner, m;
  int64_t *strides[2];
  scanjob jb;
  hebb_tensor *o;
  if (hebb_check_dtype(a->dtype, who)) return hebb_last_status();
  if (a->ndim == 0 && dim == 0) dim = -1;   /* a scalar: no dim to scan */
  else if (hebb_check_dim(a, dim, who)) return hebb_last_status();
  dtype = a->dtype == HEBB_BOOL ? HEBB_I64 : a->dtype;
  if (hebb_prepare_out(out, dtype, a->ndim, a->shape, who))
    return hebb_last_status();
  o = *out;
  if (hebb_numel(a) == 0) return HEBB_OK;
  isz = hebb_dtype_size(a->dtype);
  osz = hebb_dtype_size(dtype);
  jb.nk = 0;
  jb.n = 1;
  jb.rs = jb.qs = 0;
  for (i = 0; i < a->ndim; i++) {
    if (i == dim) {
      jb.n = a->shape[i];
      jb.rs = a->stride[i] * isz;
      jb.qs = o->stride[i] * osz;
    } else {
      jb.kshape[jb.nk] = a->shape[i];
      jb.kin[jb.nk] = a->stride[i] * isz;
      jb.kout[jb.nk++] = o->stride[i] * osz;
    }
  }
  m = hebb_shape_numel(jb.nk, jb.kshape);
  strides[0] = jb.kin;
  strides[1] = jb.kout;
  jb.nk = hebb_merge_dims(jb.nk, jb.kshape, 2, strides);
  if (jb.nk == 0) { jb.nk = 1; jb.kshape[0] = 1; jb.kin[0] = jb.kout[0] = 0; }
  jb.src = hebb_first(a);
  jb.dst = hebb_first(o);
  jb.line = lines[prod][a->dtype];
  jb.cols = colss[prod][a->dtype];
  inner = jb.kshape[jb.nk - 1];
  if (inner >= 2 && hebb_iabs64(jb.kin[jb.nk - 1]) < hebb_iabs64(jb.rs))
    return hebb_parallel_for(m / inner * ((inner + COLW - 1) / COLW),
                             jb.n * (inner < COLW ? inner : COLW), col_units,
                             &jb);
  return hebb_parallel_for(m, jb.n + 8, line_units, &jb);
}

hebb_status hebb_cumsum(const hebb_tensor *a, int dim, hebb_tensor **out) {
  return scan(0, a, dim, out);
}

hebb_status hebb_cumprod(const hebb_tensor *a, int dim, hebb_tensor **out) {
  return scan(1, a, dim, out);
}
