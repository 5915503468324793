/*
** fuse.c -- fused elementwise programs: the kernel of T.fuse (see fuse.h
** and docs/fuse.md).
**
** A run walks the result's index space row by row (the last dimension,
** after merging the dimensions every operand walks alike) in blocks of at
** most BLOCK elements.  Per block, LOAD points a register at an input's
** elements (or gathers them, for a rolled or strided input; rolled inputs
** whose rows follow each other are read in place, see "the span path")
** and each operation fills a register of its own, so a chain of n
** operations makes one pass over memory instead of n, with intermediates
** that never leave the first-level cache.  The operations are the kernels
** of unary.c and binary.c (the same bits as the operations done one by
** one); + - * / of real dtypes have versions here built for AVX2/AVX-512
** as well, since the chains this exists for are mostly those.
**
** Threads take whole rows, and every element is computed alone, so the
** bits never depend on the thread count.
*/
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "fuse.h"

/* the scratch of one block, on the stack of the thread that runs it; the
   registers and parameters (slots) and the operands (inputs and results)
   a program may have */
#define SCRATCH 32768
#define MINBLOCK 16
#define MAXSLOTS 512
#define MAXOPS 256
#define MAXROWS 64     /* rows in one tile */
#define ROWBASES 1024  /* operands times rows of one tile */

struct hebb_fuse {
  int dtype, esz, ndim, nargs, nleaves, nins, nregs, nparams, nouts, nres;
  int64_t shape[HEBB_MAXDIM];
  int64_t block;      /* elements per register */
  int64_t cost;       /* per element, for the parallel grain */
  int *argndim;
  int64_t *argshape;  /* nargs rows of HEBB_MAXDIM */
  hebb_fuse_leaf *leaves;
  hebb_fuse_ins *ins;
  hebb_inner_fn *fn;  /* per instruction (LOAD: NULL) */
  int *nin;           /* operands per instruction */
  int *outof;         /* per instruction: the result it computes (its last
                         write of that register), or -1 */
  char *safe;         /* per result: 1 when an instruction may write it
                         into a fresh tensor, 2 also in place (direct_ok) */
  int32_t *outreg, *outarg;
};

/* --- + - * / of real dtypes -------------------------------------------- */

/* Register operands are contiguous (byte stride = the element size) or a
   single value (stride 0); no contraction into fused multiply-adds (C11
   mode: -ffp-contract=off), so the bits are binary.c's. */
#define FAST(NAME, T, OP)                                                   \
  HEBB_CLONES                                                               \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ud) {       \
    T *o = (T *)p[0];                                                       \
    const T *x = (const T *)p[1], *y = (const T *)p[2];                     \
    int64_t i;                                                              \
    (void)ud;                                                               \
    if (s[1] != 0 && s[2] != 0)                                             \
      for (i = 0; i < n; i++) o[i] = x[i] OP y[i];                          \
    else if (s[1] != 0) {                                                   \
      const T b = *y;                                                       \
      for (i = 0; i < n; i++) o[i] = x[i] OP b;                             \
    }                                                                       \
    else if (s[2] != 0) {                                                   \
      const T a = *x;                                                       \
      for (i = 0; i < n; i++) o[i] = a OP y[i];                             \
    }                                                                       \
    else {                                                                  \
      const T v = *x OP *y;                                                 \
      for (i = 0; i < n; i++) o[i] = v;                                     \
    }                                                                       \
  }

FAST(add_f64, double, +)
FAST(sub_f64, double, -)
FAST(mul_f64, double, *)
FAST(div_f64, double, /)
FAST(add_f32, float, +)
FAST(sub_f32, float, -)
FAST(mul_f32, float, *)
FAST(div_f32, float, /)

/* Chains: every operand contiguous (or, for AXPY's factor, a single
   value), else the strided loop; each operation rounds as it would alone. */
#define SUM3(NAME, T, O1, O2)                                               \
  HEBB_CLONES                                                               \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ud) {       \
    T *o = (T *)p[0];                                                       \
    const T *x = (const T *)p[1], *y = (const T *)p[2], *z = (const T *)p[3]; \
    int64_t i;                                                              \
    (void)ud;                                                               \
    if (s[1] == sizeof(T) && s[2] == sizeof(T) && s[3] == sizeof(T))        \
      for (i = 0; i < n; i++) o[i] = (x[i] O1 y[i]) O2 z[i];                \
    else                                                                    \
      for (i = 0; i < n; i++)                                               \
        o[i] = (*(const T *)(p[1] + i * s[1]) O1                            \
                *(const T *)(p[2] + i * s[2])) O2                           \
               *(const T *)(p[3] + i * s[3]);                               \
  }

#define SUM4(NAME, T, O1, O2, O3)                                           \
  HEBB_CLONES                                                               \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ud) {       \
    T *o = (T *)p[0];                                                       \
    const T *x = (const T *)p[1], *y = (const T *)p[2], *z = (const T *)p[3]; \
    const T *w = (const T *)p[4];                                           \
    int64_t i;                                                              \
    (void)ud;                                                               \
    if (s[1] == sizeof(T) && s[2] == sizeof(T) && s[3] == sizeof(T) &&      \
        s[4] == sizeof(T))                                                  \
      for (i = 0; i < n; i++) o[i] = ((x[i] O1 y[i]) O2 z[i]) O3 w[i];      \
    else                                                                    \
      for (i = 0; i < n; i++)                                               \
        o[i] = ((*(const T *)(p[1] + i * s[1]) O1                           \
                 *(const T *)(p[2] + i * s[2])) O2                          \
                *(const T *)(p[3] + i * s[3])) O3                           \
               *(const T *)(p[4] + i * s[4]);                               \
  }

/* AXPY: the product is rounded before the sum (t), as two operations */
#define AXPY(NAME, T, EXPR)                                                 \
  HEBB_CLONES                                                               \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ud) {       \
    T *o = (T *)p[0];                                                       \
    const T *x = (const T *)p[1], *y = (const T *)p[2], *z = (const T *)p[3]; \
    int64_t i;                                                              \
    (void)ud;                                                               \
    if (s[1] == sizeof(T) && s[2] == sizeof(T) && s[3] == 0) {              \
      const T c = *z;                                                       \
      for (i = 0; i < n; i++) {                                             \
        T a = x[i], t = y[i] * c;                                           \
        o[i] = (EXPR);                                                      \
      }                                                                     \
    }                                                                       \
    else if (s[1] == sizeof(T) && s[2] == sizeof(T) && s[3] == sizeof(T))   \
      for (i = 0; i < n; i++) {                                             \
        T a = x[i], t = y[i] * z[i];                                        \
        o[i] = (EXPR);                                                      \
      }                                                                     \
    else                                                                    \
      for (i = 0; i < n; i++) {                                             \
        T a = *(const T *)(p[1] + i * s[1]);                                \
        T t = *(const T *)(p[2] + i * s[2]) * *(const T *)(p[3] + i * s[3]); \
        o[i] = (EXPR);                                                      \
      }                                                                     \
  }

#define CHAINS(S, T)                                                        \
  SUM3(sum_pp_##S, T, +, +) SUM3(sum_pm_##S, T, +, -)                       \
  SUM3(sum_mp_##S, T, -, +) SUM3(sum_mm_##S, T, -, -)                       \
  SUM4(sum_ppp_##S, T, +, +, +) SUM4(sum_ppm_##S, T, +, +, -)               \
  SUM4(sum_pmp_##S, T, +, -, +) SUM4(sum_pmm_##S, T, +, -, -)               \
  SUM4(sum_mpp_##S, T, -, +, +) SUM4(sum_mpm_##S, T, -, +, -)               \
  SUM4(sum_mmp_##S, T, -, -, +) SUM4(sum_mmm_##S, T, -, -, -)               \
  AXPY(axpy_add_##S, T, a + t) AXPY(axpy_sub_##S, T, a - t)                 \
  AXPY(axpy_rsub_##S, T, t - a) AXPY(axpy_radd_##S, T, t + a)               \
  static const hebb_inner_fn sums_##S[2][8] = {                             \
    {sum_pp_##S, sum_mp_##S, sum_pm_##S, sum_mm_##S},                       \
    {sum_ppp_##S, sum_mpp_##S, sum_pmp_##S, sum_mmp_##S, sum_ppm_##S,       \
     sum_mpm_##S, sum_pmm_##S, sum_mmm_##S}};                               \
  static const hebb_inner_fn axpys_##S[4] = {axpy_add_##S, axpy_sub_##S,    \
                                             axpy_rsub_##S, axpy_radd_##S};

CHAINS(f64, double)
CHAINS(f32, float)

/* SUMAXPY: a sum of NT (3 or 4) terms, then +- a product (rounded first,
   as its own operation), the product's second factor possibly a single
   value.  EXPR of the terms a0 .. a3 and the product t. */
#define SUMX(NAME, T, NT, EXPR)                                             \
  HEBB_CLONES                                                               \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ud) {       \
    T *o = (T *)p[0];                                                       \
    const T *x0 = (const T *)p[1], *x1 = (const T *)p[2];                   \
    const T *x2 = (const T *)p[3], *x3 = (const T *)p[4];                   \
    const T *u = (const T *)p[NT + 1], *v = (const T *)p[NT + 2];           \
    int64_t i;                                                              \
    int k, dense = 1;                                                       \
    (void)ud;                                                               \
    for (k = 1; k <= NT + 1; k++) dense &= s[k] == sizeof(T);               \
    if (dense && s[NT + 2] == 0) {                                          \
      const T c = *v;                                                       \
      for (i = 0; i < n; i++) {                                             \
        T a0 = x0[i], a1 = x1[i], a2 = x2[i], a3 = NT == 4 ? x3[i] : 0;     \
        T t = u[i] * c;                                                     \
        o[i] = (EXPR);                                                      \
        (void)a3;                                                           \
      }                                                                     \
    }                                                                       \
    else if (dense && s[NT + 2] == sizeof(T))                               \
      for (i = 0; i < n; i++) {                                             \
        T a0 = x0[i], a1 = x1[i], a2 = x2[i], a3 = NT == 4 ? x3[i] : 0;     \
        T t = u[i] * v[i];                                                  \
        o[i] = (EXPR);                                                      \
        (void)a3;                                                           \
      }                                                                     \
    else                                                                    \
      for (i = 0; i < n; i++) {                                             \
        T a0 = *(const T *)(p[1] + i * s[1]);                               \
        T a1 = *(const T *)(p[2] + i * s[2]);                               \
        T a2 = *(const T *)(p[3] + i * s[3]);                               \
        T a3 = NT == 4 ? *(const T *)(p[4] + i * s[4]) : 0;                 \
        T t = *(const T *)(p[NT + 1] + i * s[NT + 1]) *                     \
              *(const T *)(p[NT + 2] + i * s[NT + 2]);                      \
        o[i] = (EXPR);                                                      \
        (void)a3;                                                           \
      }                                                                     \
  }

/* the SUMAXPY kernels of one dtype: index signs | product sign << (NT-1) */
#define SUMXS(S, T)                                                         \
  SUMX(sx3_0_##S, T, 3, ((a0 + a1) + a2) + t)                               \
  SUMX(sx3_1_##S, T, 3, ((a0 - a1) + a2) + t)                               \
  SUMX(sx3_2_##S, T, 3, ((a0 + a1) - a2) + t)                               \
  SUMX(sx3_3_##S, T, 3, ((a0 - a1) - a2) + t)                               \
  SUMX(sx3_4_##S, T, 3, ((a0 + a1) + a2) - t)                               \
  SUMX(sx3_5_##S, T, 3, ((a0 - a1) + a2) - t)                               \
  SUMX(sx3_6_##S, T, 3, ((a0 + a1) - a2) - t)                               \
  SUMX(sx3_7_##S, T, 3, ((a0 - a1) - a2) - t)                               \
  SUMX(sx4_0_##S, T, 4, (((a0 + a1) + a2) + a3) + t)                        \
  SUMX(sx4_1_##S, T, 4, (((a0 - a1) + a2) + a3) + t)                        \
  SUMX(sx4_2_##S, T, 4, (((a0 + a1) - a2) + a3) + t)                        \
  SUMX(sx4_3_##S, T, 4, (((a0 - a1) - a2) + a3) + t)                        \
  SUMX(sx4_4_##S, T, 4, (((a0 + a1) + a2) - a3) + t)                        \
  SUMX(sx4_5_##S, T, 4, (((a0 - a1) + a2) - a3) + t)                        \
  SUMX(sx4_6_##S, T, 4, (((a0 + a1) - a2) - a3) + t)                        \
  SUMX(sx4_7_##S, T, 4, (((a0 - a1) - a2) - a3) + t)                        \
  SUMX(sx4_8_##S, T, 4, (((a0 + a1) + a2) + a3) - t)                        \
  SUMX(sx4_9_##S, T, 4, (((a0 - a1) + a2) + a3) - t)                        \
  SUMX(sx4_10_##S, T, 4, (((a0 + a1) - a2) + a3) - t)                       \
  SUMX(sx4_11_##S, T, 4, (((a0 - a1) - a2) + a3) - t)                       \
  SUMX(sx4_12_##S, T, 4, (((a0 + a1) + a2) - a3) - t)                       \
  SUMX(sx4_13_##S, T, 4, (((a0 - a1) + a2) - a3) - t)                       \
  SUMX(sx4_14_##S, T, 4, (((a0 + a1) - a2) - a3) - t)                       \
  SUMX(sx4_15_##S, T, 4, (((a0 - a1) - a2) - a3) - t)                       \
  static const hebb_inner_fn sumx3_##S[8] = {                               \
    sx3_0_##S, sx3_1_##S, sx3_2_##S, sx3_3_##S,                             \
    sx3_4_##S, sx3_5_##S, sx3_6_##S, sx3_7_##S};                            \
  static const hebb_inner_fn sumx4_##S[16] = {                              \
    sx4_0_##S, sx4_1_##S, sx4_2_##S, sx4_3_##S, sx4_4_##S, sx4_5_##S,       \
    sx4_6_##S, sx4_7_##S, sx4_8_##S, sx4_9_##S, sx4_10_##S, sx4_11_##S,     \
    sx4_12_##S, sx4_13_##S, sx4_14_##S, sx4_15_##S};

SUMXS(f64, double)
SUMXS(f32, float)


/* the kernel of a SUM (op: signs | terms << 4), AXPY or SUMAXPY (a SUM's
   op | minus << 8) instruction */
static hebb_inner_fn chain_kernel(int kind, int op, int dtype) {
  int real = dtype == HEBB_F64 || dtype == HEBB_F32, f64 = dtype == HEBB_F64;
  if (!real) return NULL;
  if (kind == HEBB_FUSE_SUMAXPY) {
    int nt = (op >> 4) & 15, sg = op & 15, minus = (op >> 8) & 1;
    if (op >> 9) return NULL;
    if (nt == 3 && sg < 4)
      return (f64 ? sumx3_f64 : sumx3_f32)[sg | minus << 2];
    if (nt == 4 && sg < 8)
      return (f64 ? sumx4_f64 : sumx4_f32)[sg | minus << 3];
    return NULL;
  }
  if (kind == HEBB_FUSE_AXPY)
    return op >= 0 && op < 4 ? (f64 ? axpys_f64 : axpys_f32)[op] : NULL;
  if ((op >> 4) == 3 && (op & 15) < 4)
    return (f64 ? sums_f64 : sums_f32)[0][op & 15];
  if ((op >> 4) == 4 && (op & 15) < 8)
    return (f64 ? sums_f64 : sums_f32)[1][op & 15];
  return NULL;
}

/* operands an instruction reads */
static int arity(const hebb_fuse_ins *in) {
  switch (in->kind) {
    case HEBB_FUSE_BINARY: return 2;
    case HEBB_FUSE_SUM: return in->op >> 4;
    case HEBB_FUSE_AXPY: return 3;
    case HEBB_FUSE_SUMAXPY: return ((in->op >> 4) & 15) + 2;
    default: return 1;
  }
}

static hebb_inner_fn fast_kernel(int op, int dtype) {
  static const hebb_inner_fn f64[4] = {add_f64, sub_f64, mul_f64, div_f64};
  static const hebb_inner_fn f32[4] = {add_f32, sub_f32, mul_f32, div_f32};
  if (op < HEBB_ADD || op > HEBB_DIV) return NULL;
  if (dtype == HEBB_F64) return f64[op - HEBB_ADD];
  if (dtype == HEBB_F32) return f32[op - HEBB_ADD];
  return NULL;
}

/* --- checking a spec --------------------------------------------------- */

static int is_slot(const hebb_fuse_spec *s, int x) {
  return x >= 0 && x < s->nregs + s->nparams;
}

/* the kernel of instruction i (through *fn), after checking its operands;
   written[] holds the registers written so far */
static int check_ins(const hebb_fuse_spec *s, int i, const char *written,
                     hebb_inner_fn *fn, int64_t *cost) {
  const hebb_fuse_ins *in = &s->ins[i];
  int nin = arity(in), k;
  int64_t c = 1;
  if (in->dst < 0 || in->dst >= s->nregs)
    return hebb_fail(HEBB_ERR_ARG, "fuse: instruction %d writes register %d "
                     "(the program has %d)", i + 1, in->dst, s->nregs);
  if (in->kind == HEBB_FUSE_LOAD) {
    if (in->a[0] < 0 || in->a[0] >= s->nleaves)
      return hebb_fail(HEBB_ERR_ARG, "fuse: instruction %d loads input %d "
                       "(the program has %d)", i + 1, in->a[0], s->nleaves);
    *fn = NULL;
    return HEBB_OK;
  }
  if (in->kind == HEBB_FUSE_UNARY)
    *fn = hebb_unary_kernel(in->op, s->dtype, &c);
  else if (in->kind == HEBB_FUSE_BINARY)
    *fn = in->op < HEBB_EQ ? hebb_binary_kernel(in->op, s->dtype, &c) : NULL;
  else if (in->kind == HEBB_FUSE_SUM || in->kind == HEBB_FUSE_AXPY ||
           in->kind == HEBB_FUSE_SUMAXPY) {
    *fn = chain_kernel(in->kind, in->op, s->dtype);
    c = in->kind == HEBB_FUSE_SUMAXPY ? 5 : 3;
  }
  else
    return hebb_fail(HEBB_ERR_ARG, "fuse: instruction %d has kind %d", i + 1,
                     in->kind);
  if (!*fn)
    return hebb_fail(HEBB_ERR_DTYPE, "fuse: instruction %d: operation %d of "
                     "kind %d is not defined with %s results", i + 1, in->op,
                     in->kind, hebb_dtype_name(s->dtype));
  if (in->kind == HEBB_FUSE_BINARY && fast_kernel(in->op, s->dtype))
    *fn = fast_kernel(in->op, s->dtype);
  for (k = 0; k < nin; k++) {
    int x = in->a[k];
    if (!is_slot(s, x))
      return hebb_fail(HEBB_ERR_ARG, "fuse: instruction %d reads slot %d "
                       "(the program has %d)", i + 1, x,
                       s->nregs + s->nparams);
    if (x < s->nregs && !written[x])
      return hebb_fail(HEBB_ERR_ARG, "fuse: instruction %d reads register %d "
                       "before any instruction writes it", i + 1, x);
    if (x >= s->nregs && in->kind != HEBB_FUSE_UNARY &&
        in->kind != HEBB_FUSE_BINARY &&
        !((in->kind == HEBB_FUSE_AXPY || in->kind == HEBB_FUSE_SUMAXPY) &&
          k == nin - 1))
      return hebb_fail(HEBB_ERR_ARG, "fuse: instruction %d takes a number as "
                       "operand %d", i + 1, k + 1);
  }
  *cost += c;
  return HEBB_OK;
}

/* leaves: a known argument whose shape broadcasts to the program's */
static int check_leaf(const hebb_fuse_spec *s, int l) {
  int a = s->leaves[l].arg, k, nd;
  const int64_t *sh;
  if (a < 0 || a >= s->nargs)
    return hebb_fail(HEBB_ERR_ARG, "fuse: input %d is argument %d (the "
                     "program has %d)", l + 1, a + 1, s->nargs);
  nd = s->argndim[a];
  sh = s->argshape + (size_t)a * HEBB_MAXDIM;
  if (nd > s->ndim)
    return hebb_fail(HEBB_ERR_SHAPE, "fuse: argument %d has %d dimensions, "
                     "the results %d", a + 1, nd, s->ndim);
  for (k = 0; k < nd; k++) {
    int64_t r = s->shape[s->ndim - nd + k];
    if (sh[k] != r && sh[k] != 1)
      return hebb_fail(HEBB_ERR_SHAPE, "fuse: argument %d (size %lld along "
                       "dimension %d) does not broadcast to the results' "
                       "size %lld", a + 1, (long long)sh[k], k + 1,
                       (long long)r);
  }
  return HEBB_OK;
}

static int check_out(const hebb_fuse_spec *s, int i, const char *written) {
  int r = s->outreg[i], a = s->outarg[i], k, j;
  if (r < 0 || r >= s->nregs || !written[r])
    return hebb_fail(HEBB_ERR_ARG, "fuse: result %d is register %d, which no "
                     "instruction writes", i + 1, r);
  if (a < 0) return HEBB_OK;
  if (a >= s->nargs)
    return hebb_fail(HEBB_ERR_ARG, "fuse: result %d goes to argument %d (the "
                     "program has %d)", i + 1, a + 1, s->nargs);
  for (j = 0; j < i; j++)
    if (s->outarg[j] == a)
      return hebb_fail(HEBB_ERR_ARG, "fuse: results %d and %d both go to "
                       "argument %d", j + 1, i + 1, a + 1);
  if (s->argndim[a] != s->ndim)
    return hebb_fail(HEBB_ERR_SHAPE, "fuse: result %d has %d dimensions, "
                     "argument %d %d", i + 1, s->ndim, a + 1, s->argndim[a]);
  for (k = 0; k < s->ndim; k++)
    if (s->argshape[(size_t)a * HEBB_MAXDIM + k] != s->shape[k])
      return hebb_fail(HEBB_ERR_SHAPE, "fuse: result %d (size %lld along "
                       "dimension %d) cannot be written into argument %d "
                       "(size %lld)", i + 1, (long long)s->shape[k], k + 1,
                       a + 1,
                       (long long)s->argshape[(size_t)a * HEBB_MAXDIM + k]);
  return HEBB_OK;
}

static int check_spec(const hebb_fuse_spec *s) {
  int k;
  if (s->dtype != HEBB_F64 && s->dtype != HEBB_F32 && s->dtype != HEBB_C128 &&
      s->dtype != HEBB_C64)
    return hebb_fail(HEBB_ERR_DTYPE, "fuse: dtype %s (f32, f64, c64 or c128 "
                     "only)", hebb_dtype_name(s->dtype));
  if (s->ndim < 0 || s->ndim > HEBB_MAXDIM || s->nargs < 0 ||
      s->nleaves < 0 || s->nins < 1 || s->nouts < 1 || s->nparams < 0)
    return hebb_fail(HEBB_ERR_ARG, "fuse: a program needs 0..%d dimensions "
                     "and at least one instruction and result (got %d, %d "
                     "and %d)", HEBB_MAXDIM, s->ndim, s->nins, s->nouts);
  if (s->nregs < 1 ||
      (int64_t)s->nregs * MINBLOCK * hebb_dtype_size(s->dtype) > SCRATCH ||
      s->nregs + s->nparams > MAXSLOTS)
    return hebb_fail(HEBB_ERR_ARG, "fuse: %d registers and %d parameters "
                     "(1 to %d registers, at most %d together)", s->nregs,
                     s->nparams, SCRATCH / (MINBLOCK * hebb_dtype_size(s->dtype)),
                     MAXSLOTS);
  if (s->nleaves + s->nouts > MAXOPS)
    return hebb_fail(HEBB_ERR_ARG, "fuse: %d inputs and %d results (at most "
                     "%d together)", s->nleaves, s->nouts, MAXOPS);
  for (k = 0; k < s->ndim; k++)
    if (s->shape[k] < 0)
      return hebb_fail(HEBB_ERR_SHAPE, "fuse: size %lld along dimension %d",
                       (long long)s->shape[k], k + 1);
  for (k = 0; k < s->nargs; k++)
    if (s->argndim[k] < 0 || s->argndim[k] > HEBB_MAXDIM)
      return hebb_fail(HEBB_ERR_ARG, "fuse: argument %d has %d dimensions",
                       k + 1, s->argndim[k]);
  return HEBB_OK;
}

/* Which instruction may write a result straight into its tensor (no
   register, no copy): the last write of the result's register, unless it
   is a LOAD.  Into an argument (in place, when no temporary is needed)
   only if no later instruction loads that argument or reads a register
   that still holds a LOAD of it, and no result is such a register: those
   point into the memory being written. */
static void direct_ok(hebb_fuse *f) {
  int o, i, k;
  for (i = 0; i < f->nins; i++) f->outof[i] = -1;
  for (o = 0; o < f->nouts; o++) {
    int d = f->outreg[o], prod = -1, a = f->outarg[o];
    for (i = 0; i < f->nins; i++)
      if (f->ins[i].dst == d) prod = i;
    if (prod < 0 || f->ins[prod].kind == HEBB_FUSE_LOAD ||
        f->outof[prod] >= 0)
      continue;
    f->outof[prod] = o;
    f->safe[o] = 1;   /* 1: written by its instruction; 2: and in place */
    if (a < 0) continue;
    f->safe[o] = 2;
    for (k = 0; k < f->nouts; k++) {   /* a result that is a LOAD of a */
      int src = -1;
      for (i = 0; i < f->nins; i++)
        if (f->ins[i].dst == f->outreg[k]) src = i;
      if (src >= 0 && f->ins[src].kind == HEBB_FUSE_LOAD &&
          f->leaves[f->ins[src].a[0]].arg == a)
        f->safe[o] = 1;
    }
    for (i = prod + 1; i < f->nins && f->safe[o] == 2; i++) {
      if (f->ins[i].kind == HEBB_FUSE_LOAD &&
          f->leaves[f->ins[i].a[0]].arg == a) {   /* a later read */
        f->safe[o] = 1;
        break;
      }
      for (k = 0; k < f->nin[i]; k++) {
        int x = f->ins[i].a[k], j, src = -1;
        if (x >= f->nregs) continue;
        for (j = i - 1; j >= 0; j--)   /* who wrote x last before i */
          if (f->ins[j].dst == x) { src = j; break; }
        if (src >= 0 && f->ins[src].kind == HEBB_FUSE_LOAD &&
            f->leaves[f->ins[src].a[0]].arg == a)
          f->safe[o] = 1;
      }
    }
  }
}

/* --- making and freeing -------------------------------------------------- */

void hebb_fuse_free(hebb_fuse *f) {
  if (!f) return;
  free(f->argndim);
  free(f->argshape);
  free(f->leaves);
  free(f->ins);
  free(f->fn);
  free(f->nin);
  free(f->outof);
  free(f->safe);
  free(f->outreg);
  free(f->outarg);
  free(f);
}

/* a copy of n items of size sz (NULL only when n > 0 and memory ran out) */
static void *dup(const void *p, size_t n, size_t sz) {
  void *q = malloc(n * sz + 1);
  if (q && n) memcpy(q, p, n * sz);
  return q;
}

hebb_fuse *hebb_fuse_new(const hebb_fuse_spec *s) {
  hebb_fuse *f;
  char *written;
  int i, st = check_spec(s);
  if (st) return NULL;
  f = calloc(1, sizeof *f);
  written = calloc((size_t)s->nregs, 1);
  if (!f || !written) {
    free(f);
    free(written);
    return hebb_fail_null(HEBB_ERR_NOMEM, "fuse: out of memory");
  }
  f->dtype = s->dtype;
  f->esz = hebb_dtype_size(s->dtype);
  f->ndim = s->ndim;
  memcpy(f->shape, s->shape, (size_t)s->ndim * sizeof(int64_t));
  f->nargs = s->nargs;
  f->nleaves = s->nleaves;
  f->nins = s->nins;
  f->nregs = s->nregs;
  f->nparams = s->nparams;
  f->nouts = s->nouts;
  f->argndim = dup(s->argndim, (size_t)s->nargs, sizeof(int));
  f->argshape = dup(s->argshape, (size_t)s->nargs * HEBB_MAXDIM,
                    sizeof(int64_t));
  f->leaves = dup(s->leaves, (size_t)s->nleaves, sizeof(hebb_fuse_leaf));
  f->ins = dup(s->ins, (size_t)s->nins, sizeof(hebb_fuse_ins));
  f->fn = calloc((size_t)s->nins, sizeof(hebb_inner_fn));
  f->nin = calloc((size_t)s->nins, sizeof(int));
  f->outof = calloc((size_t)s->nins, sizeof(int));
  f->safe = calloc((size_t)s->nouts + 1, 1);
  f->outreg = dup(s->outreg, (size_t)s->nouts, sizeof(int32_t));
  f->outarg = dup(s->outarg, (size_t)s->nouts, sizeof(int32_t));
  if (!f->argndim || !f->argshape || !f->leaves || !f->ins || !f->fn || !f->nin ||
      !f->outof || !f->safe ||
      !f->outreg || !f->outarg) {
    st = hebb_fail(HEBB_ERR_NOMEM, "fuse: out of memory");
    goto done;
  }
  for (i = 0; i < s->nleaves && !st; i++) st = check_leaf(s, i);
  for (i = 0; i < s->nins && !st; i++) {
    st = check_ins(s, i, written, &f->fn[i], &f->cost);
    f->nin[i] = arity(&s->ins[i]);
    if (!st) written[s->ins[i].dst] = 1;
  }
  for (i = 0; i < s->nouts && !st; i++) {
    st = check_out(s, i, written);
    if (!st && s->outarg[i] < 0) f->nres++;
  }
  if (!st) direct_ok(f);
  f->block = SCRATCH / ((int64_t)s->nregs * f->esz);
  if (f->block > 2048) f->block = 2048;
  f->block -= f->block % MINBLOCK;
done:
  free(written);
  if (st) {
    hebb_fuse_free(f);
    return NULL;
  }
  return f;
}

int hebb_fuse_nresults(const hebb_fuse *f) { return f->nres; }

/* --- aliasing ------------------------------------------------------------ */

bool hebb_fuse_aliased(const hebb_fuse *f, hebb_tensor *const *args) {
  int i, j;
  for (i = 0; i < f->nouts; i++) {
    int a = f->outarg[i];
    if (a < 0) continue;
    for (j = 0; j < f->nargs; j++)
      if (j != a && hebb_may_overlap(args[j], args[a])) return true;
  }
  return false;
}

/* --- running ------------------------------------------------------------- */

/* One run: the merged index space and every operand's place in it.
   Operands 0 .. nleaves-1 are the inputs, then the results. */
typedef struct run {
  const hebb_fuse *f;
  int nd, nops;
  int64_t shape[HEBB_MAXDIM];
  char **base;        /* nops */
  int64_t *stride;    /* nops rows of HEBB_MAXDIM, bytes */
  int64_t *shift;     /* nleaves rows of HEBB_MAXDIM, in [0, shape) */
  char *direct;       /* per result: written by its instruction directly */
  int ring;           /* a result written into its argument a few rows late
                         (see rows_late), or -1 */
  int64_t late;       /* how many rows late: the farthest roll of the
                         argument's reads along the rows */
  char *late_to;      /* the argument's first element (contiguous) */
  char *intemp;       /* per row: 1 when the ring result went to the
                         temporary, to be copied after the pass */
  int split;          /* 1: the ring result's rows but the last late of a
                         tile go straight into its argument (run_rows) */
  int span;           /* 1: tiles whose operands' rows follow each other
                         run on pointers into them (span_tile) */
  int64_t ea, eb;     /* the span path's edge columns: [0, ea) and
                         [len - eb, len) */
  int64_t *off;       /* per input: where its pointer reads along the row,
                         in elements (-s or len - s for a roll by s) */
  char params[];      /* nparams values of the dtype */
} run;

#define STRIDE(r, o) ((r)->stride + (size_t)(o) * HEBB_MAXDIM)
#define SHIFT(r, l) ((r)->shift + (size_t)(l) * HEBB_MAXDIM)

/* Places the operands in the program's (unmerged) index space: an input's
   strides are its own, broadcast (0) where its size is 1 or it has fewer
   dimensions, its shifts reduced modulo its sizes. */
static void place(run *r, hebb_tensor *const *args, hebb_tensor *const *dst) {
  const hebb_fuse *f = r->f;
  int nd = f->ndim, o, k;
  for (o = 0; o < r->nops; o++) {
    const hebb_tensor *t = o < f->nleaves ? args[f->leaves[o].arg]
                                          : dst[o - f->nleaves];
    int off = nd - t->ndim;
    int64_t *st = STRIDE(r, o), esz = f->esz;
    r->base[o] = hebb_first(t);
    for (k = 0; k < nd; k++) st[k] = 0;
    for (k = 0; k < t->ndim; k++)
      st[off + k] = t->shape[k] == 1 ? 0 : t->stride[k] * esz;
    if (o < f->nleaves) {
      int64_t *sh = SHIFT(r, o);
      for (k = 0; k < nd; k++) sh[k] = 0;
      for (k = 0; k < t->ndim; k++) {
        int64_t n = t->shape[k], s = f->leaves[o].shift[k];
        if (n > 1) {
          s %= n;
          sh[off + k] = s < 0 ? s + n : s;
        }
      }
    }
  }
}

/* Merges dimension k into k-1 where every operand steps alike and no input
   is rolled along either; drops dimensions of size 1.  At least one
   dimension remains. */
static void merge(run *r) {
  const hebb_fuse *f = r->f;
  int nd = 0, k, o;
  for (k = 0; k < f->ndim; k++) {
    int64_t n = f->shape[k];
    int fold = nd > 0 && n != 1;
    if (n == 1 && f->ndim > 1) continue;
    for (o = 0; o < r->nops && fold; o++) {
      int64_t *st = STRIDE(r, o);
      if (st[nd - 1] != st[k] * n ||
          (o < f->nleaves && (SHIFT(r, o)[nd - 1] || SHIFT(r, o)[k])))
        fold = 0;
    }
    for (o = 0; o < r->nops; o++) {
      if (fold) STRIDE(r, o)[nd - 1] = STRIDE(r, o)[k];
      else STRIDE(r, o)[nd] = STRIDE(r, o)[k];
      if (o < f->nleaves && !fold) SHIFT(r, o)[nd] = SHIFT(r, o)[k];
    }
    if (fold) r->shape[nd - 1] *= n;
    else r->shape[nd++] = n;
  }
  if (nd == 0) {   /* a 0-d program, or all sizes 1 */
    r->shape[0] = 1;
    for (o = 0; o < r->nops; o++) {
      STRIDE(r, o)[0] = 0;
      if (o < f->nleaves) SHIFT(r, o)[0] = 0;
    }
    nd = 1;
  }
  r->nd = nd;
}

/* Copies n elements of size esz from p (byte stride s) to q. */
static void gather(char *q, const char *p, int64_t s, int64_t n, int esz) {
  int64_t i;
  if (s == esz) {
    memcpy(q, p, (size_t)(n * esz));
    return;
  }
  switch (esz) {
    case 4:
      for (i = 0; i < n; i++, p += s) memcpy(q + i * 4, p, 4);
      break;
    case 8:
      for (i = 0; i < n; i++, p += s) memcpy(q + i * 8, p, 8);
      break;
    default:
      for (i = 0; i < n; i++, p += s) memcpy(q + i * esz, p, (size_t)esz);
  }
}

static void scatter(char *q, int64_t s, const char *p, int64_t ps, int64_t n,
                    int esz) {
  int64_t i;
  if (s == esz && ps == esz) {
    memcpy(q, p, (size_t)(n * esz));
    return;
  }
  for (i = 0; i < n; i++, q += s, p += ps) memcpy(q, p, (size_t)esz);
}

/* Points register d at elements j0 .. j0+n-1 of input l along the last
   dimension (row base b): directly when they are adjacent in memory,
   otherwise gathered into the register's own buffer. */
static void load(const run *r, int l, char *b, int64_t j0, int64_t n,
                 char *buf, char **rp, int64_t *rs) {
  int nd = r->nd, esz = r->f->esz;
  int64_t st = STRIDE(r, l)[nd - 1], len = r->shape[nd - 1];
  int64_t j = j0 - SHIFT(r, l)[nd - 1];
  if (st == 0) {
    *rp = b;
    *rs = 0;
    return;
  }
  if (j < 0) j += len;
  *rp = buf;
  *rs = esz;
  if (j + n <= len) {
    if (st == esz) *rp = b + j * esz;
    else gather(buf, b + j * st, st, n, esz);
    return;
  }
  gather(buf, b + j * st, st, len - j, esz);   /* wraps around */
  gather(buf + (len - j) * esz, b, st, n - (len - j), esz);
}

/* where row `row` of the merged index space starts, for every operand */
static void row_bases(const run *r, int64_t row, char **b) {
  const hebb_fuse *f = r->f;
  int64_t idx[HEBB_MAXDIM];
  int nd = r->nd, o, k;
  for (k = nd - 2; k > 0; k--) {   /* (no division for two dimensions) */
    idx[k] = row % r->shape[k];
    row /= r->shape[k];
  }
  idx[0] = row;   /* row < the number of rows */
  for (o = 0; o < r->nops; o++) {
    const int64_t *st = STRIDE(r, o);
    char *p = r->base[o];
    for (k = 0; k < nd - 1; k++) {
      int64_t x = idx[k];
      if (o < f->nleaves) {
        x -= SHIFT(r, o)[k];
        if (x < 0) x += r->shape[k];
      }
      p += x * st[k];
    }
    b[o] = p;
  }
}

/* whether operand o's rows 0 .. nrows-1 of a tile (bases b[t * nops + o])
   follow each other in memory, contiguous and unrolled along the last
   dimension */
static int rows_follow(const run *r, char *const *b, int o, int nrows) {
  int nd = r->nd, t;
  int64_t len = r->shape[nd - 1], esz = r->f->esz;
  if (STRIDE(r, o)[nd - 1] != esz) return 0;
  for (t = 1; t < nrows; t++)
    if (b[(size_t)t * r->nops + o] != b[o] + t * len * esz) return 0;
  return 1;
}

static int adjacent_rows(const run *r, char *const *b, int o, int nrows) {
  return (o >= r->f->nleaves || SHIFT(r, o)[r->nd - 1] == 0) &&
         rows_follow(r, b, o, nrows);
}

/* Rows that follow each other, rolled by s along the row (element j of
   row t is element (j - s) mod n of row t): one copy of the whole span,
   shifted, then each row's wrapped end put right -- instead of two copies
   per row.  Reads stay inside the span. */
static void load_rolled_rows(const run *r, int l, char *const *b, int nrows,
                             char *buf) {
  int esz = r->f->esz, t;
  int64_t n = r->shape[r->nd - 1], m = n * nrows, s = SHIFT(r, l)[r->nd - 1];
  const char *src = b[l];
  if (s <= n / 2) {   /* j >= s reads j - s of the span */
    memcpy(buf + s * esz, src, (size_t)((m - s) * esz));
    for (t = 0; t < nrows; t++)
      memcpy(buf + (size_t)t * n * esz, b[(size_t)t * r->nops + l] + (n - s) * esz,
             (size_t)(s * esz));
  }
  else {              /* j < n - a reads j + a, a = n - s */
    int64_t a = n - s;
    memcpy(buf, src + a * esz, (size_t)((m - a) * esz));
    for (t = 0; t < nrows; t++)
      memcpy(buf + ((size_t)t * n + (size_t)(n - a)) * esz,
             b[(size_t)t * r->nops + l], (size_t)(a * esz));
  }
}

/* LOAD of input l over a tile of nrows rows (elements j0 .. j0+n-1 of
   each) into register d: a pointer into memory when the tile is adjacent
   there, else a gather into the register's buffer */
static void load_tile(const run *r, int l, char *const *b, int nrows,
                      int64_t j0, int64_t n, char *buf, char **rp,
                      int64_t *rs) {
  int t, esz = r->f->esz;
  if (nrows == 1) {
    load(r, l, b[l], j0, n, buf, rp, rs);
    return;
  }
  if (adjacent_rows(r, b, l, nrows)) {
    *rp = b[l];
    *rs = esz;
    return;
  }
  if (rows_follow(r, b, l, nrows)) {
    load_rolled_rows(r, l, b, nrows, buf);
    *rp = buf;
    *rs = esz;
    return;
  }
  for (t = 0; t < nrows; t++) {
    char *q = buf + (size_t)t * n * esz, *p;
    int64_t s, k;
    load(r, l, b[(size_t)t * r->nops + l], j0, n, q, &p, &s);
    if (p == q) continue;
    if (s == 0)
      for (k = 0; k < n; k++) memcpy(q + k * esz, p, (size_t)esz);
    else memcpy(q, p, (size_t)(n * esz));
  }
  *rp = buf;
  *rs = esz;
}

/* whether p is where a result of this tile was written directly (a
   register of another result shared with it) */
static int written_direct(const hebb_fuse *f, char *const *dtarget,
                          const char *p) {
  int o;
  for (o = 0; o < f->nouts; o++)
    if (dtarget[o] == p) return 1;
  return 0;
}

/* rows a tile holds: as many whole rows as fit in a register when rows
   are short (at most MAXROWS, and ROWBASES operand rows) */
static int tile_rows(const run *r) {
  int64_t len = r->shape[r->nd - 1], blk = r->f->block;
  int per = len >= blk ? 1 : (int)(blk / len < MAXROWS ? blk / len : MAXROWS);
  if (per > ROWBASES / r->nops) per = ROWBASES / r->nops;
  return per < 1 ? 1 : per;
}

/* Stores rows x0 .. x0+n-1 of the ring result, held at src, now that every
   row reading them is computed: into the argument, except rows of this
   range lo .. hi-1 within r->late of its ends, which rows of other ranges
   (other threads, or the wrap around) read still: those go to the
   temporary and are copied after the pass. */
static void rows_late(const run *r, int64_t lo, int64_t hi, int64_t x0,
                      int n, const char *src) {
  int q = r->f->nleaves + r->ring, t;
  size_t bytes = (size_t)(r->shape[1] * r->f->esz);
  for (t = 0; t < n; t++) {
    int64_t x = x0 + t;
    char *to;
    if (x < lo + r->late || x >= hi - r->late) {
      to = r->base[q] + x * STRIDE(r, q)[0];
      r->intemp[x] = 1;
    }
    else to = r->late_to + (size_t)x * bytes;
    memcpy(to, src + t * bytes, bytes);
  }
}

/* --- the span path ------------------------------------------------------
   When every operand is contiguous along the rows and a tile's rows follow
   each other in memory (two merged dimensions at most), a tile needs no
   gathers: an input rolled by s along the row is read in place through a
   pointer s elements back (or len - s ahead), which is right everywhere
   but in the first s (last len - s) columns of each row.  Those few edge
   elements are computed first, on their own, from gathered inputs; then
   every instruction runs once over the tile's span between the first and
   the last edge (reading memory inside the span only); then the edges are
   put into the results' buffers.  Each element is computed by the same
   kernels either way, so the bits are the general path's. */

#define EDGEMAX 256     /* edge elements of one tile */
#define EOFFMAX 2048    /* edge elements of one tile, times the inputs */
#define ESCRATCH 16384  /* bytes of the edge registers */

/* Operand o's first element of the tile of rows row .. row+nrows-1 in
   tb[o] (inputs rolled along the rows); 0 when an input's rows wrap
   around inside the tile (the tile then goes the general way).  *ends:
   bit 0 when an input read s elements back has a row before the tile's,
   bit 1 when one read ahead has a row after it (the pass may then start
   or end at the tile's ends: aligned stores). */
static int span_bases(const run *r, int64_t row, int nrows, char **tb,
                      int *ends) {
  int o, nl = r->f->nleaves;
  *ends = 0;
  if (r->nd == 1) {
    for (o = 0; o < r->nops; o++) tb[o] = r->base[o];
    return 1;
  }
  *ends = 3;
  for (o = 0; o < r->nops; o++) {
    int64_t x = row;
    if (o < nl) {
      x -= SHIFT(r, o)[0];
      if (x < 0) x += r->shape[0];
      if (x + nrows > r->shape[0]) return 0;
      if (r->off[o] < 0 && x == 0) *ends &= ~1;
      if (r->off[o] > 0 && x + nrows == r->shape[0]) *ends &= ~2;
    }
    tb[o] = r->base[o] + x * STRIDE(r, o)[0];
  }
  if (nrows == 1) *ends = 0;
  return 1;
}

/* q[e] = *(b + off[e]) and *(b + off[e]) = q[e], for n elements of
   size esz */
static void gather_at(char *q, const char *b, const int64_t *off, int n,
                      int esz) {
  int e;
  switch (esz) {
    case 4: for (e = 0; e < n; e++) memcpy(q + 4 * e, b + off[e], 4); break;
    case 8: for (e = 0; e < n; e++) memcpy(q + 8 * e, b + off[e], 8); break;
    default: for (e = 0; e < n; e++) memcpy(q + 16 * e, b + off[e], 16);
  }
}

static void scatter_at(char *b, const int64_t *off, const char *q, int n,
                       int esz) {
  int e;
  switch (esz) {
    case 4: for (e = 0; e < n; e++) memcpy(b + off[e], q + 4 * e, 4); break;
    case 8: for (e = 0; e < n; e++) memcpy(b + off[e], q + 8 * e, 8); break;
    default: for (e = 0; e < n; e++) memcpy(b + off[e], q + 16 * e, 16);
  }
}

/* the edges of a tile's shape (nrows rows of elements j0 .. j0+n-1):
   where each sits in the tile, and where each input's element is */
typedef struct edges {
  int nrows, ne;
  int64_t j0, n;
  int64_t pos[EDGEMAX];         /* bytes from the tile's first element */
  int64_t src[EOFFMAX];         /* per input, bytes from its tile base */
} edges;

static void edge_table(const run *r, int nrows, int64_t j0, int64_t n,
                       edges *E) {
  int nd = r->nd, esz = r->f->esz, t, l, e, ne = 0;
  int64_t len = r->shape[nd - 1], c, col[EDGEMAX];
  int row[EDGEMAX];
  for (t = 0; t < nrows; t++) {
    for (c = j0; c < r->ea && c < j0 + n; c++) {
      E->pos[ne] = (t * n + c - j0) * esz; col[ne] = c; row[ne++] = t;
    }
    for (c = len - r->eb > j0 ? len - r->eb : j0; c < j0 + n; c++) {
      E->pos[ne] = (t * n + c - j0) * esz; col[ne] = c; row[ne++] = t;
    }
  }
  for (l = 0; l < r->f->nleaves; l++) {
    int64_t s = SHIFT(r, l)[nd - 1], rb = nd == 2 ? STRIDE(r, l)[0] : 0;
    for (e = 0; e < ne; e++) {
      int64_t x = col[e] - s;
      if (x < 0) x += len;
      E->src[(size_t)l * ne + e] = row[e] * rb + x * esz;
    }
  }
  E->nrows = nrows;
  E->j0 = j0;
  E->n = n;
  E->ne = ne;
}

/* instruction i over elements lo .. hi-1 of a tile, into buf (the tile's
   first element): registers read at the same places, parameters as they
   are */
static void span_call(const hebb_fuse *f, int i, char *const *rp, char *buf,
                      int64_t lo, int64_t hi) {
  const hebb_fuse_ins *in = &f->ins[i];
  int esz = f->esz, nr = f->nregs, k;
  int64_t st[HEBB_FUSE_MAXIN + 1];
  char *p[HEBB_FUSE_MAXIN + 1];
  p[0] = buf + lo * esz;
  st[0] = esz;
  for (k = 0; k < f->nin[i]; k++) {
    int x = in->a[k];
    p[k + 1] = x >= nr ? rp[x] : rp[x] + lo * esz;
    st[k + 1] = x >= nr ? 0 : esz;
  }
  f->fn[i](hi - lo, p, st, NULL);
}

/* One tile of the span path: nrows rows of elements j0 .. j0+n-1 (whole
   rows when nrows > 1), its edges E.  rp: per slot, the tile's values
   (the parameters set by the caller; on return, every register); dtarget:
   per result, the memory its instruction writes, or NULL.  With split_to,
   the ring result's elements before sp go there instead (its instruction
   is the last, see run_rows). */
static void span_tile(const run *r, char *const *tb, int nrows, int64_t j0,
                      int64_t n, int ends, const edges *E, char **rp,
                      char *const *dtarget, char *split_to, int64_t sp,
                      char *scratch, char *escratch) {
  const hebb_fuse *f = r->f;
  int esz = f->esz, nr = f->nregs, i, k, o, ne = E->ne;
  int64_t len = r->shape[r->nd - 1], m = n * nrows, blk = f->block;
  int64_t st[HEBB_FUSE_MAXIN + 1];
  int64_t lo = r->ea > j0 && !(ends & 1) ? r->ea - j0 : 0;
  int64_t hi = m - (j0 + n > len - r->eb && !(ends & 2)
                    ? j0 + n - (len - r->eb) : 0);
  char *erp[MAXSLOTS], *p[HEBB_FUSE_MAXIN + 1];
  if (lo > m) lo = m;
  if (hi < lo) hi = lo;
  /* the edges, from gathered inputs */
  if (ne > 0)
    for (i = 0; i < f->nins; i++) {
      const hebb_fuse_ins *in = &f->ins[i];
      char *buf = escratch + (size_t)in->dst * ne * esz;
      erp[in->dst] = buf;
      if (in->kind == HEBB_FUSE_LOAD) {
        int l = in->a[0];
        gather_at(buf, tb[l], E->src + (size_t)l * ne, ne, esz);
        continue;
      }
      p[0] = buf;
      st[0] = esz;
      for (k = 0; k < f->nin[i]; k++) {
        int x = in->a[k];
        p[k + 1] = x >= nr ? rp[x] : erp[x];
        st[k + 1] = x >= nr ? 0 : esz;
      }
      f->fn[i](ne, p, st, NULL);
    }
  /* the rest, in place */
  for (i = 0; i < f->nins; i++) {
    const hebb_fuse_ins *in = &f->ins[i];
    char *buf = scratch + (size_t)in->dst * blk * esz;
    if (f->outof[i] >= 0 && dtarget[f->outof[i]]) buf = dtarget[f->outof[i]];
    if (in->kind == HEBB_FUSE_LOAD) {
      int l = in->a[0];
      rp[in->dst] = tb[l] + (j0 + r->off[l]) * esz;
      continue;
    }
    if (hi > lo && split_to && f->outof[i] == r->ring) {
      int64_t a = sp < lo ? lo : sp > hi ? hi : sp;
      if (a > lo) span_call(f, i, rp, split_to, lo, a);
      if (hi > a) span_call(f, i, rp, buf, a, hi);
    }
    else if (hi > lo) span_call(f, i, rp, buf, lo, hi);
    rp[in->dst] = buf;
  }
  for (o = 0; o < f->nouts && ne > 0; o++) {
    int d = f->outreg[o], e = 0;
    if (split_to && o == r->ring) {   /* (edges in ascending places) */
      while (e < ne && E->pos[e] < sp * esz) e++;
      scatter_at(split_to, E->pos, erp[d], e, esz);
    }
    scatter_at(rp[d], E->pos + e, erp[d] + (size_t)e * esz, ne - e, esz);
  }
}

/* Whether runs of r may take the span path, and its edges (r->ea, eb,
   off): operands contiguous along the rows, rows that follow each other
   when a tile holds several, results computed by an instruction (not an
   input as it is), edges few. */
static void span_setup(run *r, int per) {
  const hebb_fuse *f = r->f;
  int nd = r->nd, o, i, l;
  int64_t len = r->shape[nd - 1], esz = f->esz, ea = 0, eb = 0;
  r->span = 0;
  if (nd > 2) return;
  for (o = 0; o < r->nops; o++) {
    const int64_t *st = STRIDE(r, o);
    if (st[nd - 1] != esz || (nd == 2 && per > 1 && st[0] != len * esz))
      return;
  }
  for (o = 0; o < f->nouts; o++) {
    int d = f->outreg[o], src = -1;
    for (i = 0; i < f->nins; i++)
      if (f->ins[i].dst == d) src = i;
    if (src < 0 || f->ins[src].kind == HEBB_FUSE_LOAD) return;
  }
  for (l = 0; l < f->nleaves; l++) {
    int64_t s = SHIFT(r, l)[nd - 1];
    r->off[l] = 0;
    if (s == 0) continue;
    if (s <= len - s) {
      r->off[l] = -s;
      if (s > ea) ea = s;
    }
    else {
      r->off[l] = len - s;
      if (len - s > eb) eb = len - s;
    }
  }
  if (ea + eb > 0 && ((ea + eb) * 8 > len || per * (ea + eb) > EDGEMAX ||
                      f->nleaves * per * (ea + eb) > EOFFMAX ||
                      f->nregs * per * (ea + eb) * esz > ESCRATCH))
    return;
  r->ea = ea;
  r->eb = eb;
  r->span = 1;
}

/* Whether the ring result may go straight into its argument but for the
   last late rows of each tile: its instruction is the program's last (no
   later read of the value or of the argument), no other result is that
   value. */
static int split_ok(const run *r) {
  const hebb_fuse *f = r->f;
  int o, d = f->outreg[r->ring];
  if (f->outof[f->nins - 1] != r->ring || r->late < 1) return 0;
  for (o = 0; o < f->nouts; o++)
    if (o != r->ring && f->outreg[o] == d) return 0;
  return 1;
}

/* rows lo .. hi-1 of the merged index space, in tiles: a block of one
   row, or as many whole rows as fit in a register when rows are short */
static void run_rows(int64_t lo, int64_t hi, void *ud) {
  run *r = ud;
  const hebb_fuse *f = r->f;
  _Alignas(64) char scratch[SCRATCH];
  _Alignas(64) char escratch[ESCRATCH];
  edges E;
  char *rp[MAXSLOTS], *rowb[ROWBASES], *dtarget[MAXOPS], *tb[MAXOPS];
  int64_t rs[MAXSLOTS];
  int nd = r->nd, esz = f->esz, nr = f->nregs, nops = r->nops, o, k, i;
  int64_t len = r->shape[nd - 1], row, blk = f->block, held = -1;
  int per = tile_rows(r), nheld = 0, slot = 0;
  char *heldsrc = NULL;
  /* the ring result's last two tiles (a block of at most 2048 elements of
     16 bytes each) */
  _Alignas(64) char holds[2 * 2048 * 16];
  char *hold = r->ring >= 0 ? holds : NULL;
  for (k = 0; k < f->nparams; k++) {
    rp[nr + k] = r->params + (size_t)k * esz;
    rs[nr + k] = 0;
  }
  E.nrows = 0;
  for (row = lo; row < hi; row += per) {
    int nrows = hi - row < per ? (int)(hi - row) : per, t;
    int ends = 0, sp = r->span && span_bases(r, row, nrows, tb, &ends);
    /* rows of this tile no later tile reads, away from the range's ends:
       stored at once */
    int split = sp && r->split && row >= lo + r->late && nrows > r->late;
    int64_t j0;
    if (!sp)
      for (t = 0; t < nrows; t++) row_bases(r, row + t, rowb + (size_t)t * nops);
    for (j0 = 0; j0 < len; j0 += blk) {
      int64_t n = len - j0 < blk ? len - j0 : blk, s3[HEBB_FUSE_MAXIN + 1];
      int64_t m = n * nrows;
      if (sp) {
        for (o = 0; o < f->nouts; o++)
          dtarget[o] = r->direct[o] ? tb[f->nleaves + o] + j0 * esz : NULL;
        if (hold) dtarget[r->ring] = hold + (size_t)slot * blk * esz;
        if (E.nrows != nrows || E.j0 != j0 || E.n != n)
          edge_table(r, nrows, j0, n, &E);
        span_tile(r, tb, nrows, j0, n, ends, &E, rp, dtarget,
                  split ? r->late_to + row * len * esz : NULL,
                  (nrows - r->late) * len, scratch, escratch);
        for (o = 0; o < f->nouts; o++)
          if (!dtarget[o])
            memcpy(tb[f->nleaves + o] + j0 * esz, rp[f->outreg[o]],
                   (size_t)(m * esz));
        continue;
      }
      for (o = 0; o < f->nouts; o++) {
        int q = f->nleaves + o;
        dtarget[o] = NULL;
        if (r->direct[o] && (nrows == 1 ? STRIDE(r, q)[nd - 1] == esz
                                        : adjacent_rows(r, rowb, q, nrows)))
          dtarget[o] = rowb[q] + j0 * esz;
      }
      if (hold) dtarget[r->ring] = hold + (size_t)slot * blk * esz;
      for (i = 0; i < f->nins; i++) {
        const hebb_fuse_ins *in = &f->ins[i];
        char *buf = scratch + (size_t)in->dst * blk * esz;
        char *p3[HEBB_FUSE_MAXIN + 1];
        if (f->outof[i] >= 0 && dtarget[f->outof[i]]) buf = dtarget[f->outof[i]];
        if (in->kind == HEBB_FUSE_LOAD) {
          load_tile(r, in->a[0], rowb, nrows, j0, n, buf, &rp[in->dst],
                    &rs[in->dst]);
          continue;
        }
        p3[0] = buf;
        s3[0] = esz;
        for (k = 0; k < f->nin[i]; k++) {
          p3[k + 1] = rp[in->a[k]];
          s3[k + 1] = rs[in->a[k]];
        }
        f->fn[i](m, p3, s3, NULL);
        rp[in->dst] = buf;
        rs[in->dst] = esz;
      }
      /* a result that is an input as it is may point into memory that an
         earlier store of this tile overwrites: copy it out first */
      for (o = 0; o < f->nouts; o++) {
        int d = f->outreg[o];
        char *buf = scratch + (size_t)d * blk * esz;
        if (dtarget[o]) continue;
        if (rp[d] != buf && !written_direct(f, dtarget, rp[d])) {
          if (rs[d] == 0)
            for (k = 0; k < m; k++) memcpy(buf + k * esz, rp[d], (size_t)esz);
          else memcpy(buf, rp[d], (size_t)(m * esz));
          rp[d] = buf;
          rs[d] = esz;
        }
      }
      for (o = 0; o < f->nouts; o++) {
        int q = f->nleaves + o;
        int64_t st = STRIDE(r, q)[nd - 1];
        const char *src = rp[f->outreg[o]];
        if (dtarget[o]) continue;
        if (nrows > 1 && adjacent_rows(r, rowb, q, nrows)) {
          memcpy(rowb[q], src, (size_t)(m * esz));
          continue;
        }
        for (t = 0; t < nrows; t++)
          scatter(rowb[(size_t)t * nops + q] + j0 * st, st,
                  src + (size_t)t * n * esz, esz, n, esz);
      }
    }
    if (hold) {   /* the previous tile's rows are read by no later row */
      if (held >= 0) rows_late(r, lo, hi, held, nheld, heldsrc);
      held = split ? row + nrows - r->late : row;
      nheld = split ? (int)r->late : nrows;
      heldsrc = hold + (size_t)slot * blk * esz +
                (size_t)((held - row) * len * esz);
      slot ^= 1;
    }
  }
  if (hold && held >= 0) rows_late(r, lo, hi, held, nheld, heldsrc);
}

/* the k-th parameter as the dtype (a Lua number meeting a tensor) */
static void put_param(const hebb_fuse *f, char *p, double v) {
  hebb_put_f64(f->dtype, p, v);
}

hebb_status hebb_fuse_check_params(const hebb_fuse *f, int nparams) {
  if (nparams != f->nparams)
    return hebb_fail(HEBB_ERR_ARG, "fuse: %d numbers for a program of %d",
                     nparams, f->nparams);
  return HEBB_OK;
}

hebb_status hebb_fuse_check_args(const hebb_fuse *f, int nargs,
                                 hebb_tensor *const *args) {
  int i, k;
  if (nargs != f->nargs)
    return hebb_fail(HEBB_ERR_ARG, "fuse: %d tensors for a program of %d",
                     nargs, f->nargs);
  for (i = 0; i < nargs; i++) {
    const hebb_tensor *t = args[i];
    const int64_t *sh = f->argshape + (size_t)i * HEBB_MAXDIM;
    if (t->dtype != f->dtype)
      return hebb_fail(HEBB_ERR_DTYPE, "fuse: argument %d is %s, the program "
                       "%s", i + 1, hebb_dtype_name(t->dtype),
                       hebb_dtype_name(f->dtype));
    if (t->ndim != f->argndim[i])
      return hebb_fail(HEBB_ERR_SHAPE, "fuse: argument %d has %d dimensions, "
                       "the program expects %d", i + 1, t->ndim,
                       f->argndim[i]);
    for (k = 0; k < t->ndim; k++)
      if (t->shape[k] != sh[k])
        return hebb_fail(HEBB_ERR_SHAPE, "fuse: argument %d has size %lld "
                         "along dimension %d, the program expects %lld",
                         i + 1, (long long)t->shape[k], k + 1,
                         (long long)sh[k]);
  }
  return HEBB_OK;
}

/* Whether result o, written into argument a, must go through a temporary:
   an input reads a's memory at other positions (rolled, or another view). */
static int needs_temp(const run *r, hebb_tensor *const *args, int a) {
  const hebb_fuse *f = r->f;
  int l, k;
  for (l = 0; l < f->nleaves; l++) {
    const hebb_fuse_leaf *lf = &f->leaves[l];
    const hebb_tensor *t = args[lf->arg];
    if (!hebb_may_overlap(t, args[a])) continue;
    if (lf->arg != a) return 1;
    for (k = 0; k < t->ndim; k++)
      if (t->shape[k] > 1 && lf->shift[k] % t->shape[k] != 0) return 1;
  }
  return 0;
}

/* The result that may skip most of its temporary (or -1): written into
   its argument a, with every input overlapping a a view of a itself rolled
   along the rows by at most a tile's rows, so that rows can be stored a
   tile late (run_rows, rows_late).  Two merged dimensions of whole rows per
   tile, a contiguous, one such result. */
static int ring_result(run *r, hebb_tensor *const *args,
                       hebb_tensor *const *tmp) {
  const hebb_fuse *f = r->f;
  int i, l, o = -1;
  int64_t late = 0, rows = r->shape[0];
  for (i = 0; i < f->nouts; i++)
    if (tmp[i]) {
      if (o >= 0) return -1;
      o = i;
    }
  if (o < 0 || r->nd != 2 || !r->direct[o] || r->shape[1] > f->block ||
      !hebb_is_contiguous(args[f->outarg[o]]))
    return -1;
  for (l = 0; l < f->nleaves; l++) {
    const hebb_tensor *t = args[f->leaves[l].arg];
    int64_t s = SHIFT(r, l)[0];
    if (!hebb_may_overlap(t, args[f->outarg[o]])) continue;
    if (f->leaves[l].arg != f->outarg[o]) return -1;
    if (rows - s < s) s = rows - s;
    if (s > late) late = s;
  }
  if (late > tile_rows(r)) return -1;
  r->late = late;
  return o;
}

hebb_status hebb_fuse_run(const hebb_fuse *f, int nargs,
                          hebb_tensor *const *args, const double *params,
                          hebb_tensor **results) {
  int nops = f->nleaves + f->nouts, i, st = HEBB_OK, nres = 0;
  /* the run and its arrays in one block (8-byte items first) */
  size_t head = (sizeof(run) + (size_t)f->nparams * (size_t)f->esz + 15) &
                ~(size_t)15;
  size_t n8 = (size_t)nops + (size_t)nops * HEBB_MAXDIM +
              (size_t)f->nleaves * HEBB_MAXDIM + 1 + (size_t)f->nleaves + 1 +
              2 * (size_t)f->nouts;
  hebb_tensor **dst = NULL, **tmp = NULL;
  run *r;
  int64_t rows, k;
  char *blk;
  for (i = 0; i < f->nres; i++) results[i] = NULL;
  if (hebb_fuse_check_args(f, nargs, args)) return hebb_last_status();
  blk = calloc(1, head + n8 * 8 + (size_t)f->nouts + 1);
  if (!blk) return hebb_fail(HEBB_ERR_NOMEM, "fuse: out of memory");
  r = (run *)blk;
  r->base = (char **)(blk + head);
  r->stride = (int64_t *)(r->base + nops);
  r->shift = r->stride + (size_t)nops * HEBB_MAXDIM;
  r->off = r->shift + (size_t)f->nleaves * HEBB_MAXDIM + 1;
  dst = (hebb_tensor **)(r->off + f->nleaves + 1);
  tmp = dst + f->nouts;
  r->direct = (char *)(tmp + f->nouts);
  r->f = f;
  r->nops = nops;
  for (i = 0; i < f->nparams; i++)
    put_param(f, r->params + (size_t)i * f->esz, params[i]);
  for (i = 0; i < f->nouts && !st; i++) {
    int a = f->outarg[i];
    if (a < 0) {
      dst[i] = results[nres++] = hebb_empty(f->dtype, f->ndim, f->shape);
      if (!dst[i]) st = hebb_last_status();
    }
    else dst[i] = args[a];
  }
  if (st) goto done;
  /* the temporaries of results written where inputs still read */
  place(r, args, dst);
  for (i = 0; i < f->nouts && !st; i++)
    if (f->outarg[i] >= 0 && needs_temp(r, args, f->outarg[i])) {
      dst[i] = tmp[i] = hebb_empty(f->dtype, f->ndim, f->shape);
      if (!tmp[i]) st = hebb_last_status();
    }
  if (st) goto done;
  for (i = 0; i < f->nouts; i++)
    r->direct[i] = f->safe[i] == 2 ||
                   (f->safe[i] == 1 && (f->outarg[i] < 0 || tmp[i]));
  place(r, args, dst);
  merge(r);
  for (i = 0; i < f->nouts; i++)
    if (f->outarg[i] >= 0) hebb_bump_version(args[f->outarg[i]]);
  rows = 1;
  for (k = 0; k < r->nd - 1; k++) rows *= r->shape[k];
  r->ring = ring_result(r, args, tmp);
  span_setup(r, tile_rows(r));
  r->split = r->span && r->ring >= 0 && split_ok(r);
  if (r->ring >= 0) {
    r->intemp = calloc((size_t)rows, 1);
    if (!r->intemp) r->ring = -1;   /* the whole temporary then */
    else r->late_to = hebb_first(args[f->outarg[r->ring]]);
  }
  if (hebb_shape_numel(f->ndim, f->shape) > 0)
    st = hebb_parallel_for(rows, r->shape[r->nd - 1] * f->cost, run_rows, r);
  for (i = 0; i < f->nouts && !st; i++) {
    hebb_tensor *t = args[f->outarg[i] < 0 ? 0 : f->outarg[i]];
    if (!tmp[i]) continue;
    if (i == r->ring) {   /* only the rows that went to the temporary */
      size_t bytes = (size_t)(r->shape[1] * f->esz);
      for (k = 0; k < rows; k++)
        if (r->intemp[k])
          memcpy(hebb_first(t) + k * bytes, hebb_first(tmp[i]) + k * bytes,
                 bytes);
      continue;
    }
    if (hebb_is_contiguous(t))   /* the common case: one memcpy */
      memcpy(hebb_first(t), hebb_first(tmp[i]),
             (size_t)(hebb_numel(t) * f->esz));
    else st = hebb_copy(t, tmp[i]);
  }
done:
  for (i = 0; i < f->nouts; i++) hebb_release(tmp[i]);
  if (st)
    for (i = 0; i < f->nres; i++) {
      hebb_release(results[i]);
      results[i] = NULL;
    }
  free(r->intemp);
  free(r);
  return st;
}
