/*
** reduce.c -- reductions over any set of dimensions: sum, prod, mean, min,
** max, var, std, the 1-, 2- and inf-norms, logsumexp, any and all.
**
** One fixed order.  The n elements behind one result are numbered in a
** fixed way (the reduced dimensions in memory order -- decreasing |stride|,
** so t:sum() and t:t():sum() agree -- each by increasing index) and cut into
** blocks of HEBB_RED_BLOCK elements.  Inside a block, element i goes to
** accumulator lane i % 16: sixteen independent chains that the compiler keeps
** in vector registers without -ffast-math.  The lanes are folded by a fixed
** tree, and the block results are combined in block order.  Threads only
** split the work between whole (result, block) units, so the bits never
** depend on the thread count.  A reduction along a contiguous row and one
** down a column (which adds whole rows into 16 lane rows, vectorized across
** the results) do the very same operations, so t:sum(1) and
** t:t():contiguous():sum(2) agree to the bit as well.
**
** Accumulators.  f64 and f32 accumulate in f64 (f32 results are rounded
** once at the end); i64 and bool sums and products are exact i64 with
** wrap-around, like Lua's integers.  Measured here (1 thread, SSE2 build):
** summing 1e7 f32 takes 3.5-4.6 ms with f64 lanes, 3.5 ms with f32 lanes and
** 3.1-4.2 ms for a hand-written 8-accumulator f32 loop -- memory-bound
** alike -- while a 1e6 f32 sum in cache takes 0.17 ms (f64 lanes) against
** 0.09 ms (f32 lanes).  We keep f64: its only cost is on data that is
** already in cache, and it makes an f32 sum accurate to its last bit
** instead of to ~1e-6 of the sum of magnitudes.  (t:sum() of 1e7 elements
** against bench/cref.c's loop at -O3: f64 6.0-6.9 ms vs 6.4-7.0 at 1 thread,
** 3.6-4.4 vs 3.6-4.4 at 2; f32 3.5-3.9 vs 3.7-3.8, and 2.0-2.5 vs 2.1-2.4.)
**
** Ints meet float operations (mean, var, std, norms, logsumexp) converted to
** f64 first, and any/all see their input as bool; these are rare enough
** that a temporary copy beats two more families of kernels.
*/
#include <math.h>
#include <string.h>

#include "core.h"

#define LANES 16
#define BLOCK HEBB_RED_BLOCK
#define COLW 2048        /* results per column tile (long columns) */
#define COLW_SHORT 256   /* ... when the columns are shorter than 16 */
/* Lane rows are this many elements longer than the tile: rows a multiple
   of 4 KiB apart made loads wait on unrelated stores (4K aliasing). */
#define PAD 8
#define FINW 256     /* results finished per step */

/* --- kernels ----------------------------------------------------------- */

/* what a lane adds up: F(x, p), p a per-result parameter */
#define F_ID(x, p) (x)
#define F_ABS(x, p) fabs(x)
#define F_SQ(x, p) ((x) * (x))
#define F_DEV(x, p) (((x) - (p)) * ((x) - (p)))
#define F_EXP(x, p) exp((x) - (p))

/* how lanes combine; min and max let a NaN through and keep it */
#define OP_ADD(a, b) ((a) + (b))
#define OP_MUL(a, b) ((a) * (b))
#define OP_MIN(a, b) ((a) != (a) ? (a) : (a) < (b) ? (a) : (b))
#define OP_MAX(a, b) ((a) != (a) ? (a) : (a) > (b) ? (a) : (b))
#define OP_IADD(a, b) ((int64_t)((uint64_t)(a) + (uint64_t)(b)))
#define OP_IMUL(a, b) ((int64_t)((uint64_t)(a) * (uint64_t)(b)))
#define OP_IMIN(a, b) ((b) < (a) ? (b) : (a))
#define OP_IMAX(a, b) ((b) > (a) ? (b) : (a))

/* the folded lanes of a block of n elements at p (byte stride st) */
typedef void (*blk_fn)(const char *p, int64_t st, int64_t n, double prm,
                       uint64_t ident, void *r);
/* lanes[(ph + i) % 16] op= F(x_i) for the n elements at p (byte stride st) */
typedef void (*row_fn)(void *lanes, const char *p, int64_t st, int64_t n,
                       int ph, double prm);
/* for each of nrows rows (byte stride rst): lane row (ph + r) % 16 (rows
   'pitch' apart) op= F(x) for the w elements of the row (byte stride cst) */
typedef void (*col_fn)(void *lanes, int64_t pitch, const char *p, int64_t rst,
                       int64_t nrows, int ph, int64_t fresh, int64_t cst,
                       int64_t w, const double *prm);
/* folds lane rows 1..used-1 into row 0 by the fixed tree */
typedef void (*fold_fn)(void *lanes, int64_t pitch, int64_t w, int used);
/* the same for lanes of one element each */
typedef void (*fold1_fn)(void *lanes, int used);
/* combines the n block results at p, in order, into *r */
typedef void (*chain_fn)(const void *p, int64_t n, void *r);

/* The fixed tree that folds lanes a[0..used) into a[0]: halves of 8, 4, 2
   and 1.  Lanes at or past 'used' would hold the identity, so skipping them
   changes no bit.  FOLD_FULL is the same tree for used = 16. */
#define FOLD_TREE(a, used, OP)                                                \
  do {                                                                        \
    int s_, k_, u_ = (used);                                                  \
    for (s_ = LANES / 2; s_ >= 1; s_ /= 2)                                    \
      if (u_ > s_) {                                                          \
        for (k_ = 0; k_ < s_ && k_ + s_ < u_; k_++)                           \
          (a)[k_] = OP((a)[k_], (a)[k_ + s_]);                                \
        u_ = s_;                                                              \
      }                                                                       \
  } while (0)
#define FOLD_FULL(a, OP)                                                      \
  do {                                                                        \
    int k_;                                                                   \
    _Pragma("omp simd")                                                       \
    for (k_ = 0; k_ < 8; k_++) (a)[k_] = OP((a)[k_], (a)[k_ + 8]);            \
    _Pragma("omp simd")                                                       \
    for (k_ = 0; k_ < 4; k_++) (a)[k_] = OP((a)[k_], (a)[k_ + 4]);            \
    for (k_ = 0; k_ < 2; k_++) (a)[k_] = OP((a)[k_], (a)[k_ + 2]);            \
    (a)[0] = OP((a)[0], (a)[1]);                                              \
  } while (0)

/* a whole block that is one run (the common case): lanes in registers,
   started by assignment (equal, bit for bit, to combining with the
   identity), folded, the result to *r.  A short block pads the lanes with
   the identity and takes the full tree, which skipping them would equal. */
#define BLOCK_KERNEL(NAME, TX, TA, F, OP)                                     \
  static void NAME(const char *p, int64_t st, int64_t n, double prm,          \
                   uint64_t ident, void *r) {                                 \
    TA a[LANES];                                                              \
    int64_t i;                                                                \
    int k;                                                                    \
    (void)prm;                                                                \
    if (n < LANES) {   /* the missing lanes hold the identity */              \
      TA id;                                                                  \
      memcpy(&id, &ident, sizeof id);                                         \
      for (k = 0; k < LANES; k++) a[k] = id;                                  \
      for (k = 0; k < n; k++, p += st) {                                      \
        TA v = (TA)*(const TX *)p;                                            \
        a[k] = F(v, prm);                                                     \
      }                                                                       \
    } else if (st == (int64_t)sizeof(TX)) {                                   \
      const TX *restrict x = (const TX *)p;                                   \
      _Pragma("omp simd")                                                     \
      for (k = 0; k < LANES; k++) {                                           \
        TA v = (TA)x[k];                                                      \
        a[k] = F(v, prm);                                                     \
      }                                                                       \
      for (i = LANES; i + LANES <= n; i += LANES) {                           \
        _Pragma("omp simd")                                                   \
        for (k = 0; k < LANES; k++) {                                         \
          TA v = (TA)x[i + k];                                                \
          a[k] = OP(a[k], F(v, prm));                                         \
        }                                                                     \
      }                                                                       \
      for (k = 0; i < n; i++, k++) {                                          \
        TA v = (TA)x[i];                                                      \
        a[k] = OP(a[k], F(v, prm));                                           \
      }                                                                       \
    } else                                                                    \
      for (i = 0; i < n; i++, p += st) {                                      \
        TA v = (TA)*(const TX *)p;                                            \
        a[i % LANES] = i < LANES ? F(v, prm) : OP(a[i % LANES], F(v, prm));   \
      }                                                                       \
    FOLD_FULL(a, OP);                                                         \
    memcpy(r, a, sizeof(TA));                                                 \
  }

/* lanes[(ph + i) % 16] op= F(x_i): a piece of a block that spans runs */
#define ROW_KERNEL(NAME, TX, TA, F, OP)                                       \
  static void NAME(void *lanes, const char *p, int64_t st, int64_t n, int ph, \
                   double prm) {                                              \
    TA *l = lanes;                                                            \
    int64_t i;                                                                \
    (void)prm;                                                                \
    for (i = 0; i < n; i++, p += st, ph = (ph + 1) % LANES) {                 \
      TA v = (TA)*(const TX *)p;                                              \
      l[ph] = OP(l[ph], F(v, prm));                                           \
    }                                                                         \
  }

/* the first 'fresh' rows start their lanes: assigning F(x) equals
   combining it with the identity, bit for bit, and saves filling them */
#define COL_KERNEL(NAME, TX, TA, F, OP)                                       \
  static void NAME(void *lanes, int64_t pitch, const char *p, int64_t rst,    \
                   int64_t nrows, int ph, int64_t fresh, int64_t cst,         \
                   int64_t w, const double *prm) {                            \
    int64_t r, c;                                                             \
    (void)prm;                                                                \
    if (nrows <= fresh && ph + nrows <= LANES) {                              \
      /* short columns: each lane gets one row; read result by result, so     \
         the input streams in memory order (strided reads row by row ran      \
         at half the memory's speed) */                                       \
      TA *l = (TA *)lanes + ph * pitch;                                       \
      for (c = 0; c < w; c++, p += cst) {                                     \
        const char *q = p;                                                    \
        for (r = 0; r < nrows; r++, q += rst) {                               \
          TA v = (TA)*(const TX *)q;                                          \
          l[r * pitch + c] = F(v, prm[c]);                                    \
        }                                                                     \
      }                                                                       \
      return;                                                                 \
    }                                                                         \
    for (r = 0; r < nrows; r++, p += rst, ph = (ph + 1) % LANES) {            \
      TA *restrict l = (TA *)lanes + ph * pitch;                              \
      if (cst == (int64_t)sizeof(TX)) {                                       \
        const TX *restrict x = (const TX *)p;                                 \
        if (r < fresh)                                                        \
          for (c = 0; c < w; c++) {                                           \
            TA v = (TA)x[c];                                                  \
            l[c] = F(v, prm[c]);                                              \
          }                                                                   \
        else                                                                  \
          for (c = 0; c < w; c++) {                                           \
            TA v = (TA)x[c];                                                  \
            l[c] = OP(l[c], F(v, prm[c]));                                    \
          }                                                                   \
      } else {                                                                \
        const char *q = p;                                                    \
        for (c = 0; c < w; c++, q += cst) {                                   \
          TA v = (TA)*(const TX *)q;                                          \
          l[c] = r < fresh ? F(v, prm[c]) : OP(l[c], F(v, prm[c]));           \
        }                                                                     \
      }                                                                       \
    }                                                                         \
  }

#define KERNELS(NAME, TX, TA, F, OP)                                          \
  BLOCK_KERNEL(NAME##_k, TX, TA, F, OP)                                       \
  ROW_KERNEL(NAME##_r, TX, TA, F, OP)                                         \
  COL_KERNEL(NAME##_c, TX, TA, F, OP)

/* the sums also get AVX2 and AVX-512 versions (HEBB_CLONES): the same
   operations lane by lane (no contraction: -std=c11 keeps a * b + c two
   roundings), so the same bits, at twice or four times the width.  On this
   machine's Zen 4 a 1e7 f32 sum ran at 1.26x the -march=native C loop with
   SSE2 alone (1.05x the same loop at plain -O3): the widening f32 -> f64
   lanes, not the memory, set the pace there. */
#define KERNELS_WIDE(NAME, TX, TA, F, OP)                                     \
  HEBB_CLONES BLOCK_KERNEL(NAME##_k, TX, TA, F, OP)                           \
  HEBB_CLONES ROW_KERNEL(NAME##_r, TX, TA, F, OP)                             \
  HEBB_CLONES COL_KERNEL(NAME##_c, TX, TA, F, OP)

KERNELS_WIDE(sum_d, double, double, F_ID, OP_ADD)
KERNELS_WIDE(sum_f, float, double, F_ID, OP_ADD)
KERNELS(prod_d, double, double, F_ID, OP_MUL)
KERNELS(prod_f, float, double, F_ID, OP_MUL)
KERNELS(min_d, double, double, F_ID, OP_MIN)
KERNELS(min_f, float, double, F_ID, OP_MIN)
KERNELS(max_d, double, double, F_ID, OP_MAX)
KERNELS(max_f, float, double, F_ID, OP_MAX)
KERNELS(asum_d, double, double, F_ABS, OP_ADD)
KERNELS(asum_f, float, double, F_ABS, OP_ADD)
KERNELS(ssq_d, double, double, F_SQ, OP_ADD)
KERNELS(ssq_f, float, double, F_SQ, OP_ADD)
KERNELS(dev_d, double, double, F_DEV, OP_ADD)
KERNELS(dev_f, float, double, F_DEV, OP_ADD)
KERNELS(exp_d, double, double, F_EXP, OP_ADD)
KERNELS(exp_f, float, double, F_EXP, OP_ADD)
KERNELS(amax_d, double, double, F_ABS, OP_MAX)
KERNELS(amax_f, float, double, F_ABS, OP_MAX)
KERNELS(sum_i, int64_t, int64_t, F_ID, OP_IADD)
KERNELS(sum_b, bool, int64_t, F_ID, OP_IADD)
KERNELS(prod_i, int64_t, int64_t, F_ID, OP_IMUL)
KERNELS(prod_b, bool, int64_t, F_ID, OP_IMUL)
KERNELS(min_i, int64_t, int64_t, F_ID, OP_IMIN)
KERNELS(min_b, bool, int64_t, F_ID, OP_IMIN)
KERNELS(max_i, int64_t, int64_t, F_ID, OP_IMAX)
KERNELS(max_b, bool, int64_t, F_ID, OP_IMAX)

#define COMBINERS(NAME, TA, OP)                                               \
  static void NAME##_fold(void *lanes, int64_t pitch, int64_t w, int used) {  \
    TA *l = lanes;                                                            \
    int s, k;                                                                 \
    int64_t c;                                                                \
    for (s = LANES / 2; s >= 1; s /= 2) {                                     \
      for (k = 0; k < s && k + s < used; k++) {                               \
        TA *restrict d = l + k * pitch;                                       \
        const TA *restrict e = l + (k + s) * pitch;                           \
        for (c = 0; c < w; c++) d[c] = OP(d[c], e[c]);                        \
      }                                                                       \
      if (used > s) used = s;                                                 \
    }                                                                         \
  }                                                                           \
  static void NAME##_fold1(void *lanes, int used) {                           \
    TA *l = lanes;                                                            \
    FOLD_TREE(l, used, OP);                                                   \
  }                                                                           \
  static void NAME##_chain(const void *p, int64_t n, void *r) {               \
    const TA *x = p;                                                          \
    TA v = x[0];                                                              \
    int64_t b;                                                                \
    for (b = 1; b < n; b++) v = OP(v, x[b]);                                  \
    memcpy(r, &v, sizeof v);                                                  \
  }

COMBINERS(add_d, double, OP_ADD)
COMBINERS(mul_d, double, OP_MUL)
COMBINERS(min_d, double, OP_MIN)
COMBINERS(max_d, double, OP_MAX)
COMBINERS(add_i, int64_t, OP_IADD)
COMBINERS(mul_i, int64_t, OP_IMUL)
COMBINERS(min_i, int64_t, OP_IMIN)
COMBINERS(max_i, int64_t, OP_IMAX)

/* kernel operations: what one pass over the data computes */
enum { K_SUM, K_PROD, K_MIN, K_MAX, K_ASUM, K_SSQ, K_DEV, K_EXP, K_AMAX,
       NKOPS };
enum { C_ADD, C_MUL, C_MIN, C_MAX };   /* how the lanes combine */

#define KSET(N) {N##_k, N##_r, N##_c}
typedef struct kernel { blk_fn blk; row_fn row; col_fn col; } kernel;
/* [kernel operation][f64, f32, i64, bool]: the float-only operations see
   ints converted to f64 first */
static const kernel kernels[][4] = {
  [K_SUM] = {KSET(sum_d), KSET(sum_f), KSET(sum_i), KSET(sum_b)},
  [K_PROD] = {KSET(prod_d), KSET(prod_f), KSET(prod_i), KSET(prod_b)},
  [K_MIN] = {KSET(min_d), KSET(min_f), KSET(min_i), KSET(min_b)},
  [K_MAX] = {KSET(max_d), KSET(max_f), KSET(max_i), KSET(max_b)},
  [K_ASUM] = {KSET(asum_d), KSET(asum_f)},
  [K_SSQ] = {KSET(ssq_d), KSET(ssq_f)},
  [K_DEV] = {KSET(dev_d), KSET(dev_f)},
  [K_EXP] = {KSET(exp_d), KSET(exp_f)},
  [K_AMAX] = {KSET(amax_d), KSET(amax_f)},
};
#undef KSET
_Static_assert(sizeof kernels / sizeof kernels[0] == NKOPS,
               "reduce.c: one row of kernels[] per kernel operation");

static const int kcombine[] = {
  [K_SUM] = C_ADD, [K_PROD] = C_MUL, [K_MIN] = C_MIN, [K_MAX] = C_MAX,
  [K_ASUM] = C_ADD, [K_SSQ] = C_ADD, [K_DEV] = C_ADD, [K_EXP] = C_ADD,
  [K_AMAX] = C_MAX,
};
_Static_assert(sizeof kcombine / sizeof kcombine[0] == NKOPS,
               "reduce.c: one entry of kcombine[] per kernel operation");

/* [integer accumulators][combine] */
static const fold_fn folds[2][4] = {
  {add_d_fold, mul_d_fold, min_d_fold, max_d_fold},
  {add_i_fold, mul_i_fold, min_i_fold, max_i_fold},
};
static const fold1_fn fold1s[2][4] = {
  {add_d_fold1, mul_d_fold1, min_d_fold1, max_d_fold1},
  {add_i_fold1, mul_i_fold1, min_i_fold1, max_i_fold1},
};
static const chain_fn chains[2][4] = {
  {add_d_chain, mul_d_chain, min_d_chain, max_d_chain},
  {add_i_chain, mul_i_chain, min_i_chain, max_i_chain},
};

/* the identity a lane starts from, as its 8 bytes; -0.0 is the exact
   identity of IEEE addition, so unused lanes change no bit */
static uint64_t identity(int kop, int intacc) {
  union { double f; int64_t i; uint64_t u; } v;
  switch (kcombine[kop]) {
    case C_ADD: if (intacc) v.i = 0; else v.f = -0.0; break;
    case C_MUL: if (intacc) v.i = 1; else v.f = 1.0; break;
    case C_MIN: if (intacc) v.i = INT64_MAX; else v.f = HUGE_VAL; break;
    default: if (intacc) v.i = INT64_MIN; else v.f = -HUGE_VAL; break;
  }
  return v.u;
}

/* --- plans ------------------------------------------------------------- */

typedef hebb_redplan plan;   /* see core.h */

void hebb_redplan_make(hebb_redplan *pl, const hebb_tensor *a,
                       const bool *red, bool sorted, int64_t block) {
  int64_t isz = hebb_dtype_size(a->dtype);
  int64_t *ks = pl->kstride, *rs = pl->rstride;
  int i, j;
  pl->nk = pl->nr = 0;
  for (i = 0; i < a->ndim; i++) {
    int64_t st = a->stride[i] * isz;
    if (red[i]) {   /* insertion by decreasing |stride| when sorted */
      for (j = pl->nr;
           sorted && j > 0 && hebb_iabs64(rs[j - 1]) < hebb_iabs64(st); j--) {
        pl->rshape[j] = pl->rshape[j - 1];
        rs[j] = rs[j - 1];
      }
      pl->rshape[j] = a->shape[i];
      rs[j] = st;
      pl->nr++;
    } else {
      pl->kshape[pl->nk] = a->shape[i];
      ks[pl->nk++] = st;
    }
  }
  pl->m = hebb_shape_numel(pl->nk, pl->kshape);
  pl->n = hebb_shape_numel(pl->nr, pl->rshape);
  pl->nk = hebb_merge_dims(pl->nk, pl->kshape, 1, &ks);
  pl->nr = hebb_merge_dims(pl->nr, pl->rshape, 1, &rs);
  if (pl->nk == 0) { pl->nk = 1; pl->kshape[0] = 1; ks[0] = 0; }
  if (pl->nr == 0) { pl->nr = 1; pl->rshape[0] = 1; rs[0] = 0; }
  pl->nb = pl->n > 0 ? (pl->n + block - 1) / block : 1;
  pl->base = hebb_first(a);
}

static int column_walk(const plan *pl) {
  int64_t ks = hebb_iabs64(pl->kstride[pl->nk - 1]);
  int64_t rs = hebb_iabs64(pl->rstride[pl->nr - 1]);
  if (pl->kshape[pl->nk - 1] < 2) return 0;
  return ks < rs || (pl->n < LANES && ks <= 64 * 8);
}

/* Results per tile of the column walk.  Tiles never change a bit (results
   are independent), only how the work splits: short columns gather with a
   stride, better into lanes that fit L1; long ones want wide tiles that
   read long runs of each row (tiles of 256 f64 made the column sums of a
   10000 x 1000 matrix 2x slower than tiles of 1000; 1024 to 4096 are
   alike, and narrower tiles to balance two threads cost one thread more
   than they gave two). */
static int64_t column_tile(const plan *pl) {
  return pl->n < LANES ? COLW_SHORT : COLW;
}

/* --- passes ------------------------------------------------------------ */

enum { M_DIV, M_SQRTDIV, M_LSE, M_INT };   /* how a result is finished */

typedef struct job {
  const plan *pl;
  blk_fn blk;
  row_fn row;
  col_fn col;
  fold_fn fold;
  fold1_fn fold1;
  chain_fn chain;
  uint64_t ident;
  const double *prm;   /* per-result parameter (mean, max) or NULL */
  char *part;          /* m * nb block results, 8 bytes each */
  int64_t tw;          /* column walk: results per tile */
  int mode;
  double div;
  char *dst;           /* m contiguous results of dtype dst_dtype */
  int dst_dtype;
} job;

static void fill8(uint64_t *p, int64_t n, uint64_t v) {
  int64_t i;
  for (i = 0; i < n; i++) p[i] = v;
}

/* the elements [i, e) of one result, starting at p, into the lanes */
static void walk_rows(const job *jb, uint64_t *lanes, const char *p,
                      int64_t i, int64_t e, double prm) {
  const plan *pl = jb->pl;
  int last = pl->nr - 1;
  hebb_odo ro;
  hebb_odo_seek(&ro, pl->nr, pl->rshape, pl->rstride, i);
  while (i < e) {
    int64_t run = pl->rshape[last] - ro.idx[last];
    if (run > e - i) run = e - i;
    jb->row(lanes, p + ro.off, pl->rstride[last], run, (int)(i % LANES), prm);
    i += run;
    if (i < e) hebb_odo_step(&ro, run);
  }
}

/* units are (result o, block b), o-major */
static void row_units(int64_t lo, int64_t hi, void *ud) {
  const job *jb = ud;
  const plan *pl = jb->pl;
  int64_t nb = pl->nb, o = lo / nb, b = lo % nb, u;
  uint64_t lanes[LANES];
  hebb_odo ko;
  hebb_odo_seek(&ko, pl->nk, pl->kshape, pl->kstride, o);
  for (u = lo; u < hi; u++) {
    int64_t i = b * BLOCK, e = i + BLOCK < pl->n ? i + BLOCK : pl->n;
    int used = e - i < LANES ? (int)(e - i) : LANES;
    double prm = jb->prm ? jb->prm[o] : 0;
    if (pl->nr == 1)
      jb->blk(pl->base + ko.off + i * pl->rstride[0], pl->rstride[0], e - i,
              prm, jb->ident, jb->part + u * 8);
    else {
      fill8(lanes, used, jb->ident);
      walk_rows(jb, lanes, pl->base + ko.off, i, e, prm);
      jb->fold1(lanes, used);
      memcpy(jb->part + u * 8, lanes, 8);
    }
    if (++b == nb && u + 1 < hi) {
      b = 0;
      o++;
      hebb_odo_step(&ko, 1);
    }
  }
}

/* columns [c0, c0 + w) of unit (q, b) of the column walk, through a lane
   buffer of 16 rows of w */
static void col_chunk(const job *jb, uint64_t *lanes, int64_t q, int64_t b,
                      int64_t c0, int64_t w) {
  const plan *pl = jb->pl;
  int kl = pl->nk - 1, rl = pl->nr - 1;
  int64_t inner = pl->kshape[kl], o0 = q * inner + c0, c;
  int64_t i = b * BLOCK, e = i + BLOCK < pl->n ? i + BLOCK : pl->n, start = i;
  int used = e - i < LANES ? (int)(e - i) : LANES;
  const char *p;
  hebb_odo ko, ro;
  hebb_odo_seek(&ko, kl, pl->kshape, pl->kstride, q);
  p = pl->base + ko.off + c0 * pl->kstride[kl];
  hebb_odo_seek(&ro, pl->nr, pl->rshape, pl->rstride, i);
  while (i < e) {
    int64_t run = pl->rshape[rl] - ro.idx[rl];
    if (run > e - i) run = e - i;
    jb->col(lanes, w + PAD, p + ro.off, pl->rstride[rl], run, (int)(i % LANES),
            LANES - (i - start), pl->kstride[kl], w,
            jb->prm ? jb->prm + o0 : NULL);
    i += run;
    if (i < e) hebb_odo_step(&ro, run);
  }
  jb->fold(lanes, w + PAD, w, used);
  if (pl->nb == 1) memcpy(jb->part + o0 * 8, lanes, (size_t)w * 8);
  else
    for (c = 0; c < w; c++)
      memcpy(jb->part + ((o0 + c) * pl->nb + b) * 8, lanes + c, 8);
}

/* units are (outer result index q, column tile t, block b), q-major: the
   rows of block b are added into 16 lane rows for a tile of tw results.
   Wide tiles read long runs of each row (what the prefetchers like); the
   lanes (256 KiB) stay in L2.  Short columns gather with a stride, better
   done into lanes that fit L1.  Should the buffer not be had, narrower
   chunks of the tile give the same bits. */
static void col_units(int64_t lo, int64_t hi, void *ud) {
  const job *jb = ud;
  int64_t nb = jb->pl->nb, inner = jb->pl->kshape[jb->pl->nk - 1];
  int64_t tw = jb->tw;
  int64_t ntiles = (inner + tw - 1) / tw, u, c;
  int64_t cap = inner < tw ? inner : tw;
  size_t bytes = (size_t)(LANES * (cap + PAD) * 8);
  uint64_t fallback[LANES * (64 + PAD)], *lanes = hebb_alloc_bytes(bytes);
  if (!lanes) {
    lanes = fallback;
    cap = 64;
  }
  for (u = lo; u < hi; u++) {
    int64_t b = u % nb, t = u / nb % ntiles, q = u / nb / ntiles;
    int64_t end = (t + 1) * tw < inner ? (t + 1) * tw : inner;
    for (c = t * tw; c < end; c += cap)
      col_chunk(jb, lanes, q, b, c, end - c < cap ? end - c : cap);
  }
  if (lanes != fallback) hebb_free_bytes(lanes, bytes);
}

/* results o0 .. o0+cnt-1 from their (combined) lane values v */
static void store(const job *jb, const char *v, int64_t o0, int64_t cnt) {
  double y[FINW];
  const double *x = (const double *)v;
  int64_t c;
  if (jb->mode == M_INT) {
    const int64_t *iv = (const int64_t *)v;
    if (jb->dst_dtype == HEBB_I64) {
      if (jb->dst + o0 * 8 != v) memcpy(jb->dst + o0 * 8, v, (size_t)cnt * 8);
    } else {
      bool *d = (bool *)jb->dst + o0;
      for (c = 0; c < cnt; c++) d[c] = iv[c] != 0;
    }
    return;
  }
  if (jb->mode == M_DIV && jb->div == 1 && jb->dst + o0 * 8 == v &&
      jb->dst_dtype == HEBB_F64)
    return;   /* finished in place already */
  switch (jb->mode) {
    case M_DIV:
      for (c = 0; c < cnt; c++) y[c] = x[c] / jb->div;
      break;
    case M_SQRTDIV:
      for (c = 0; c < cnt; c++) y[c] = sqrt(x[c] / jb->div);
      break;
    default: {   /* M_LSE: max + log(sum exp(x - max)) */
      const double *mx = jb->prm + o0;
      for (c = 0; c < cnt; c++)
        y[c] = isfinite(mx[c]) ? mx[c] + log(x[c]) : mx[c];
    }
  }
  if (jb->dst_dtype == HEBB_F32) {
    float *d = (float *)jb->dst + o0;
    for (c = 0; c < cnt; c++) d[c] = (float)y[c];
  }
  else memcpy(jb->dst + o0 * 8, y, (size_t)cnt * 8);
}

static void finish_units(int64_t lo, int64_t hi, void *ud) {
  const job *jb = ud;
  int64_t nb = jb->pl->nb, o0, c;
  uint64_t buf[FINW];
  for (o0 = lo; o0 < hi; o0 += FINW) {
    int64_t cnt = hi - o0 < FINW ? hi - o0 : FINW;
    if (nb == 1) store(jb, jb->part + o0 * 8, o0, cnt);
    else {
      for (c = 0; c < cnt; c++)
        jb->chain(jb->part + (o0 + c) * nb * 8, nb, buf + c);
      store(jb, (const char *)buf, o0, cnt);
    }
  }
}

/* One pass of kernel operation kop over a (planned in *pl) into the m
   results at dst.  Small partial buffers live on the stack. */
static int run_pass(const plan *pl, int kop, int dtype, const double *prm,
                    int mode, double div, char *dst, int dst_dtype) {
  job jb;
  uint64_t small[64];
  int64_t nparts = pl->m * pl->nb, per = pl->n < BLOCK ? pl->n : BLOCK;
  int intacc = dtype == HEBB_I64 || dtype == HEBB_BOOL, st;
  size_t bytes = (size_t)nparts * 8;
  jb.pl = pl;
  jb.blk = kernels[kop][dtype].blk;
  jb.row = kernels[kop][dtype].row;
  jb.col = kernels[kop][dtype].col;
  jb.fold = folds[intacc][kcombine[kop]];
  jb.fold1 = fold1s[intacc][kcombine[kop]];
  jb.chain = chains[intacc][kcombine[kop]];
  jb.ident = identity(kop, intacc);
  jb.tw = column_tile(pl);
  jb.prm = prm;
  jb.mode = mode;
  jb.div = div;
  jb.dst = dst;
  jb.dst_dtype = dst_dtype;
  /* one block per result and 8-byte results: the block results are the
     results, finished in place */
  if (pl->nb == 1 && (dst_dtype == HEBB_F64 || dst_dtype == HEBB_I64))
    jb.part = dst;
  else if (nparts <= 64) jb.part = (char *)small;
  else if (!(jb.part = hebb_alloc_bytes(bytes)))
    return hebb_fail(HEBB_ERR_NOMEM, "reduce: out of memory (%lld partial "
                     "results)", (long long)nparts);
  if (column_walk(pl)) {
    int64_t inner = pl->kshape[pl->nk - 1];
    int64_t ntiles = (inner + jb.tw - 1) / jb.tw;
    int64_t w = inner < jb.tw ? inner : jb.tw;
    st = hebb_parallel_for(pl->m / inner * ntiles * pl->nb, per * w + LANES * w,
                           col_units, &jb);
  }
  else st = hebb_parallel_for(nparts, per + LANES, row_units, &jb);
  if (st == HEBB_OK)
    st = hebb_parallel_for(pl->m, pl->nb + 4, finish_units, &jb);
  if (jb.part != dst && jb.part != (char *)small)
    hebb_free_bytes(jb.part, bytes);
  return st;
}

/* --- operations -------------------------------------------------------- */

static const char *const opnames[] = {
  [HEBB_SUM] = "sum", [HEBB_PROD] = "prod", [HEBB_MEAN] = "mean",
  [HEBB_RMIN] = "min", [HEBB_RMAX] = "max", [HEBB_ARGMIN] = "argmin",
  [HEBB_ARGMAX] = "argmax", [HEBB_VAR] = "var", [HEBB_STD] = "std",
  [HEBB_NORM1] = "norm", [HEBB_NORM2] = "norm", [HEBB_NORMINF] = "norm",
  [HEBB_LOGSUMEXP] = "logsumexp", [HEBB_ANY] = "any", [HEBB_ALL] = "all",
};
_Static_assert(sizeof opnames / sizeof opnames[0] == HEBB_NREDOPS,
               "reduce.c: one name per hebb_redop");

int hebb_reduce_dtype(int op, int dtype) {
  switch (op) {
    case HEBB_SUM: case HEBB_PROD:
      return dtype == HEBB_I64 || dtype == HEBB_BOOL ? HEBB_I64 : dtype;
    case HEBB_RMIN: case HEBB_RMAX: return dtype;
    case HEBB_ARGMIN: case HEBB_ARGMAX: return HEBB_I64;
    case HEBB_ANY: case HEBB_ALL: return HEBB_BOOL;
    case HEBB_MEAN: if (hebb_is_complex(dtype)) return dtype; break;
    default: break;
  }
  /* norms of complex numbers are real, of the same width */
  return dtype == HEBB_F32 || dtype == HEBB_C64 ? HEBB_F32 : HEBB_F64;
}

/* the result of reducing zero elements */
static double empty_value(int op) {
  switch (op) {
    case HEBB_PROD: case HEBB_ALL: return 1;
    case HEBB_MEAN: case HEBB_VAR: case HEBB_STD: return NAN;
    case HEBB_LOGSUMEXP: return -HUGE_VAL;
    default: return 0;
  }
}

/* var and std need the means first, logsumexp the maxima */
static int two_passes(int op, const plan *pl, int dtype, int64_t correction,
                      char *dst, int dst_dtype) {
  double small[64], *prm;
  size_t bytes = (size_t)pl->m * 8;
  int st;
  prm = pl->m <= 64 ? small : hebb_alloc_bytes(bytes);
  if (!prm) return hebb_fail(HEBB_ERR_NOMEM, "%s: out of memory", opnames[op]);
  if (op == HEBB_LOGSUMEXP) {
    st = run_pass(pl, K_MAX, dtype, NULL, M_DIV, 1, (char *)prm, HEBB_F64);
    if (st == HEBB_OK)
      st = run_pass(pl, K_EXP, dtype, prm, M_LSE, 1, dst, dst_dtype);
  } else {
    double den = pl->n > correction ? (double)(pl->n - correction) : 0;
    st = run_pass(pl, K_SUM, dtype, NULL, M_DIV, (double)pl->n, (char *)prm,
                  HEBB_F64);
    if (st == HEBB_OK)
      st = run_pass(pl, K_DEV, dtype, prm, op == HEBB_STD ? M_SQRTDIV : M_DIV,
                    den, dst, dst_dtype);
  }
  if (prm != small) hebb_free_bytes(prm, bytes);
  return st;
}

/* m results of op over a (all planned in *pl, input already of a dtype the
   kernels take) into dst */
static int compute(int op, const plan *pl, int dtype, int64_t correction,
                   char *dst, int dst_dtype) {
  int kop, mode = dst_dtype == HEBB_I64 || dst_dtype == HEBB_BOOL ? M_INT :
                                                                    M_DIV;
  double div = 1;
  switch (op) {
    case HEBB_SUM: kop = K_SUM; break;
    case HEBB_PROD: kop = K_PROD; break;
    case HEBB_RMIN: case HEBB_ALL: kop = K_MIN; break;
    case HEBB_RMAX: case HEBB_ANY: kop = K_MAX; break;
    case HEBB_MEAN: kop = K_SUM; div = (double)pl->n; break;
    case HEBB_NORM1: kop = K_ASUM; break;
    case HEBB_NORM2: kop = K_SSQ; mode = M_SQRTDIV; break;
    case HEBB_NORMINF: kop = K_AMAX; break;
    default: return two_passes(op, pl, dtype, correction, dst, dst_dtype);
  }
  return run_pass(pl, kop, dtype, NULL, mode, div, dst, dst_dtype);
}

/* Checks op and dims; fills red[] (dims to reduce). */
static int check_args(int op, const hebb_tensor *a, int ndims, const int *dims,
                      int64_t correction, bool *red) {
  const char *who;
  int i;
  if (op < 0 || op >= HEBB_NREDOPS)
    return hebb_fail(HEBB_ERR_ARG, "reduce: unknown operation %d", op);
  who = opnames[op];
  if (hebb_check_dtype(a->dtype, who)) return hebb_last_status();
  if ((op == HEBB_VAR || op == HEBB_STD) && correction < 0)
    return hebb_fail(HEBB_ERR_ARG, "%s: correction must be >= 0 (got %lld)",
                     who, (long long)correction);
  if (ndims < 0 || ndims > HEBB_MAXDIM || (ndims > 0 && !dims))
    return hebb_fail(HEBB_ERR_ARG, "%s: bad number of dimensions %d", who,
                     ndims);
  for (i = 0; i < HEBB_MAXDIM; i++) red[i] = ndims == 0;
  for (i = 0; i < ndims; i++) {
    int d = dims[i];
    if (a->ndim == 0 && d == 0) continue;   /* a scalar reduces over itself */
    if (d < 0 || d >= a->ndim)
      return hebb_fail(HEBB_ERR_INDEX, "%s: dimension %d out of range for a "
                       "%d-dimensional tensor", who, d + 1, a->ndim);
    if (red[d])
      return hebb_fail(HEBB_ERR_ARG, "%s: dimension %d repeated", who, d + 1);
    red[d] = true;
  }
  return HEBB_OK;
}

/* the tensor the kernels read: a itself, or a converted copy (see top) */
static hebb_tensor *kernel_input(int op, const hebb_tensor *a) {
  int isint = a->dtype == HEBB_I64 || a->dtype == HEBB_BOOL;
  if ((op == HEBB_ANY || op == HEBB_ALL) && a->dtype != HEBB_BOOL)
    return hebb_astype(a, HEBB_BOOL);
  if (isint && (op == HEBB_MEAN || op == HEBB_VAR || op == HEBB_STD ||
                op == HEBB_NORM1 || op == HEBB_NORM2 || op == HEBB_NORMINF ||
                op == HEBB_LOGSUMEXP))
    return hebb_astype(a, HEBB_F64);
  hebb_retain(hebb_unconst(a));
  return hebb_unconst(a);
}

static int empty_minmax(int op, const char *what) {
  return hebb_fail(HEBB_ERR_SHAPE, "%s: cannot reduce %s (the %s of no "
                   "elements is undefined)", opnames[op], what,
                   op == HEBB_RMIN ? "minimum" : "maximum");
}

/* reduction of a (checked) over red[] into dst, m contiguous results */
static int reduce_into(int op, const hebb_tensor *a, const bool *red,
                       int64_t correction, char *dst, int dst_dtype) {
  plan pl;
  hebb_tensor *in = kernel_input(op, a);
  int st;
  if (!in) return hebb_last_status();
  hebb_redplan_make(&pl, in, red, true, BLOCK);
  st = compute(op, &pl, in->dtype, correction, dst, dst_dtype);
  hebb_release(in);
  return st;
}

hebb_status hebb_reduce(int op, const hebb_tensor *a, int ndims,
                        const int *dims, bool keepdim, int64_t correction,
                        hebb_tensor **out) {
  bool red[HEBB_MAXDIM];
  int64_t shape[HEBB_MAXDIM], m = 1, n = 1;
  int i, nd = 0, dtype, st;
  hebb_tensor *o, *tmp = NULL;
  if (hebb_is_complex(a->dtype) &&   /* the others are refused below */
      (op == HEBB_SUM || op == HEBB_MEAN || op == HEBB_PROD ||
       op == HEBB_NORM1 || op == HEBB_NORM2 || op == HEBB_NORMINF))
    return hebb_reduce_complex(op, a, ndims, dims, keepdim, out);
  if (check_args(op, a, ndims, dims, correction, red))
    return hebb_last_status();
  if (op == HEBB_ARGMIN || op == HEBB_ARGMAX)
    return hebb_fail(HEBB_ERR_ARG, "reduce: use hebb_argreduce for %s",
                     opnames[op]);
  for (i = 0; i < a->ndim; i++) {
    if (red[i]) n *= a->shape[i];
    else m *= a->shape[i];
    if (!red[i]) shape[nd++] = a->shape[i];
    else if (keepdim) shape[nd++] = 1;
  }
  if (n == 0 && m > 0 && (op == HEBB_RMIN || op == HEBB_RMAX))
    return empty_minmax(op, "over a dimension of size 0");
  dtype = hebb_reduce_dtype(op, a->dtype);
  if (hebb_prepare_out(out, dtype, nd, shape, opnames[op]))
    return hebb_last_status();
  o = *out;
  if (m == 0) return HEBB_OK;
  if (n == 0) return hebb_fill(o, empty_value(op));
  if (!hebb_is_contiguous(o) && !(tmp = hebb_empty(dtype, nd, shape)))
    return hebb_last_status();
  st = reduce_into(op, a, red, correction, hebb_first(tmp ? tmp : o), dtype);
  if (tmp) {
    if (st == HEBB_OK) st = hebb_convert_into(o, tmp);
    hebb_release(tmp);
  }
  return st;
}

hebb_status hebb_reduce_value(int op, const hebb_tensor *a, int64_t correction,
                              double *fval, int64_t *ival) {
  bool red[HEBB_MAXDIM];
  union { double f; float s; int64_t i; bool b; } r;
  int dtype, st;
  if (hebb_is_complex(a->dtype) &&
      (op == HEBB_NORM1 || op == HEBB_NORM2 || op == HEBB_NORMINF)) {
    hebb_tensor *mag = NULL;   /* the norms of complex numbers are real */
    st = hebb_complex_part(HEBB_CABS, a, &mag);
    if (st == HEBB_OK) st = hebb_reduce_value(op, mag, correction, fval, ival);
    hebb_release(mag);
    return st;
  }
  if (check_args(op, a, 0, NULL, correction, red)) return hebb_last_status();
  *fval = 0;
  *ival = 0;
  if (op == HEBB_ARGMIN || op == HEBB_ARGMAX) {
    hebb_tensor *idx = NULL;
    st = hebb_argreduce(op, a, -1, false, 0, &idx);
    if (st == HEBB_OK) *ival = *(int64_t *)hebb_first(idx);
    hebb_release(idx);
    return st;
  }
  dtype = hebb_reduce_dtype(op, a->dtype);
  if (hebb_numel(a) == 0) {
    if (op == HEBB_RMIN || op == HEBB_RMAX)
      return empty_minmax(op, "an empty tensor");
    *fval = empty_value(op);
    *ival = hebb_f2i(*fval);
    return HEBB_OK;
  }
  st = reduce_into(op, a, red, correction, (char *)&r, dtype);
  if (st != HEBB_OK) return st;
  switch (dtype) {
    case HEBB_F64: *fval = r.f; break;
    case HEBB_F32: *fval = r.s; break;
    case HEBB_I64: *ival = r.i; *fval = (double)r.i; break;
    default: *ival = r.b; *fval = r.b; break;
  }
  return HEBB_OK;
}

hebb_status hebb_sum_all(const hebb_tensor *a, double *result) {
  int64_t i;
  return hebb_reduce_value(HEBB_SUM, a, 0, result, &i);
}
