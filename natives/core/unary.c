/*
** unary.c -- elementwise functions of one tensor: negation, abs, sign,
** rounding, the functions of Lua's math library and the activations of
** neural networks (sigmoid, relu, softplus).
**
** Dtypes: the operations that make sense on integers (neg, abs, sign,
** relu, square, floor, ceil, round) keep integer dtypes, like Lua's math.abs
** on an integer; every other function computes in f64 for i64/bool inputs
** (sqrt of an i64 tensor is f64) and in the input's own precision for
** floats.  Arithmetic on bools is done in i64.  Complex tensors have the
** functions that are analytic (neg, exp, log, sqrt, the trigonometric and
** hyperbolic ones, reciprocal, square; principal branches as in C99) and
** abs (real result, complex.c); the others are refused for them.
*/
#include <complex.h>
#include <math.h>

#include "core.h"

/* --- element operations ------------------------------------------------ */

/* Zeros and NaN pass through (sign(-0.0) is -0.0); written as a chain of
   selects so that the compiler vectorizes it. */
#define SIGN(x) ((x) > 0 ? 1 : ((x) < 0 ? -1 : (x)))

/* NaN stays NaN (a dead unit must not hide a NaN from the loss). */
#define RELU(x) (((x) > 0 || (x) != (x)) ? (x) : 0)

/* The activations for T = double (F empty) and float (F = f, the suffix of
   libm's float functions).  sigmoid: 1/(1+exp(-x)) for x >= 0 and
   exp(x)/(1+exp(x)) below: exp never overflows, and both halves are
   accurate to the last bits.  softplus: log(1+exp(x)) = max(x,0) +
   log1p(exp(-|x|)): no overflow for large x, no loss of the small value
   for very negative x. */
#define ACTIVATIONS(T, F)                                                   \
  static inline T sigmoid##F(T x) {                                         \
    T e;                                                                    \
    if (x >= 0) return 1 / (1 + exp##F(-x));                                \
    e = exp##F(x);                                                          \
    return e / (1 + e);                                                     \
  }                                                                         \
  static inline T softplus##F(T x) {                                        \
    return (x > 0 ? x : 0) + log1p##F(exp##F(-fabs##F(x)));                 \
  }

ACTIVATIONS(double, )
ACTIVATIONS(float, f)

/* integers wrap on overflow as in Lua: -INT64_MIN == INT64_MIN */
static inline int64_t wrap_neg(int64_t x) {
  return (int64_t)(0u - (uint64_t)x);
}

static inline int64_t wrap_abs(int64_t x) {
  return x < 0 ? wrap_neg(x) : x;
}

static inline int64_t wrap_square(int64_t x) {
  return (int64_t)((uint64_t)x * (uint64_t)x);
}

typedef double _Complex c128;
typedef float _Complex c64;

/* z*z as the schoolbook product (see binary.c) */
static inline c128 csquare(c128 z) {
  return CMPLX(creal(z) * creal(z) - cimag(z) * cimag(z),
               2 * creal(z) * cimag(z));
}

static inline c64 csquaref(c64 z) {
  return CMPLXF(crealf(z) * crealf(z) - cimagf(z) * cimagf(z),
                2 * crealf(z) * cimagf(z));
}

/* --- kernels ----------------------------------------------------------- */

#define UNARY(NAME, TO, TI, EXPR)                                           \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ud) {       \
    TO *o = (TO *)p[0];                                                     \
    const TI *a = (const TI *)p[1];                                         \
    int64_t i;                                                              \
    (void)ud;                                                               \
    if (s[0] == sizeof(TO) && s[1] == sizeof(TI))                           \
      for (i = 0; i < n; i++) { TI x = a[i]; o[i] = (EXPR); }               \
    else {                                                                  \
      char *po = p[0];                                                      \
      const char *pa = p[1];                                                \
      for (i = 0; i < n; i++, po += s[0], pa += s[1]) {                     \
        TI x = *(const TI *)pa;                                             \
        *(TO *)po = (EXPR);                                                 \
      }                                                                     \
    }                                                                       \
  }

/* the kernel of OP, a function of libm (or ACTIVATIONS) named OP for
   doubles and OP##F for T (F is '' or 'f' as in ACTIVATIONS) */
#define LIBM(S, T, F, OP) UNARY(OP##_##S, T, T, OP##F(x))

/* the f64 and f32 kernels */
#define FLOATS(S, T, F)                                                     \
  UNARY(neg_##S, T, T, -x)                                                  \
  UNARY(abs_##S, T, T, fabs##F(x))                                          \
  UNARY(sign_##S, T, T, SIGN(x))                                            \
  UNARY(relu_##S, T, T, RELU(x))                                            \
  UNARY(round_##S, T, T, nearbyint##F(x))                                   \
  UNARY(reciprocal_##S, T, T, 1 / x)                                        \
  UNARY(square_##S, T, T, x * x)                                            \
  LIBM(S, T, F, exp) LIBM(S, T, F, log) LIBM(S, T, F, log1p)                \
  LIBM(S, T, F, expm1) LIBM(S, T, F, sqrt) LIBM(S, T, F, sin)               \
  LIBM(S, T, F, cos) LIBM(S, T, F, tan) LIBM(S, T, F, tanh)                 \
  LIBM(S, T, F, sinh) LIBM(S, T, F, cosh) LIBM(S, T, F, asin)               \
  LIBM(S, T, F, acos) LIBM(S, T, F, atan) LIBM(S, T, F, sigmoid)            \
  LIBM(S, T, F, softplus) LIBM(S, T, F, floor) LIBM(S, T, F, ceil)

FLOATS(f64, double, )
FLOATS(f32, float, f)

UNARY(neg_i64, int64_t, int64_t, wrap_neg(x))
UNARY(abs_i64, int64_t, int64_t, wrap_abs(x))
UNARY(sign_i64, int64_t, int64_t, (x > 0) - (x < 0))
UNARY(relu_i64, int64_t, int64_t, x > 0 ? x : 0)
UNARY(square_i64, int64_t, int64_t, wrap_square(x))
UNARY(same_i64, int64_t, int64_t, x)   /* floor, ceil, round of integers */

UNARY(not_bool, bool, bool, !x)

/* the kernel of OP through C99's complex function c##OP##F */
#define CLIBM(S, T, F, OP) UNARY(OP##_##S, T, T, c##OP##F(x))

/* the c128 and c64 kernels (csquare is ours, for the schoolbook product) */
#define COMPLEXES(S, T, F)                                                  \
  UNARY(neg_##S, T, T, -x)                                                  \
  UNARY(reciprocal_##S, T, T, 1 / x)                                        \
  CLIBM(S, T, F, square) CLIBM(S, T, F, exp) CLIBM(S, T, F, log)            \
  CLIBM(S, T, F, sqrt) CLIBM(S, T, F, sin) CLIBM(S, T, F, cos)              \
  CLIBM(S, T, F, tan) CLIBM(S, T, F, tanh) CLIBM(S, T, F, sinh)             \
  CLIBM(S, T, F, cosh) CLIBM(S, T, F, asin) CLIBM(S, T, F, acos)            \
  CLIBM(S, T, F, atan)

COMPLEXES(c128, c128, )
COMPLEXES(c64, c64, f)

/* --- the table -------------------------------------------------------- */

typedef struct unop {
  const char *name;
  /* work per element relative to an addition: the library functions cost
     10-20 times more, so they go parallel on smaller tensors */
  int64_t cost;
  /* by compute dtype; NULL where an operation is refused (abs of complex
     is complex.c's: its result is real) */
  hebb_inner_fn kernel[HEBB_NDTYPES];
} unop;

#define REAL(OP) [HEBB_F64] = OP##_f64, [HEBB_F32] = OP##_f32
#define CPLX(OP) [HEBB_C128] = OP##_c128, [HEBB_C64] = OP##_c64
#define INT(FN) [HEBB_I64] = FN

static const unop unops[] = {
  [HEBB_NEG] = {"neg", 1, {REAL(neg), INT(neg_i64), CPLX(neg)}},
  [HEBB_ABS] = {"abs", 1, {REAL(abs), INT(abs_i64)}},
  [HEBB_SIGN] = {"sign", 1, {REAL(sign), INT(sign_i64)}},
  [HEBB_EXP] = {"exp", 16, {REAL(exp), CPLX(exp)}},
  [HEBB_LOG] = {"log", 16, {REAL(log), CPLX(log)}},
  [HEBB_LOG1P] = {"log1p", 16, {REAL(log1p)}},
  [HEBB_EXPM1] = {"expm1", 16, {REAL(expm1)}},
  [HEBB_SQRT] = {"sqrt", 4, {REAL(sqrt), CPLX(sqrt)}},
  [HEBB_SIN] = {"sin", 16, {REAL(sin), CPLX(sin)}},
  [HEBB_COS] = {"cos", 16, {REAL(cos), CPLX(cos)}},
  [HEBB_TAN] = {"tan", 20, {REAL(tan), CPLX(tan)}},
  [HEBB_TANH] = {"tanh", 16, {REAL(tanh), CPLX(tanh)}},
  [HEBB_SINH] = {"sinh", 16, {REAL(sinh), CPLX(sinh)}},
  [HEBB_COSH] = {"cosh", 16, {REAL(cosh), CPLX(cosh)}},
  [HEBB_ASIN] = {"asin", 16, {REAL(asin), CPLX(asin)}},
  [HEBB_ACOS] = {"acos", 16, {REAL(acos), CPLX(acos)}},
  [HEBB_ATAN] = {"atan", 16, {REAL(atan), CPLX(atan)}},
  [HEBB_SIGMOID] = {"sigmoid", 20, {REAL(sigmoid)}},
  [HEBB_RELU] = {"relu", 1, {REAL(relu), INT(relu_i64)}},
  [HEBB_SOFTPLUS] = {"softplus", 24, {REAL(softplus)}},
  [HEBB_FLOOR] = {"floor", 1, {REAL(floor), INT(same_i64)}},
  [HEBB_CEIL] = {"ceil", 1, {REAL(ceil), INT(same_i64)}},
  [HEBB_ROUND] = {"round", 1, {REAL(round), INT(same_i64)}},
  [HEBB_LOGICAL_NOT] = {"logical_not", 1, {[HEBB_BOOL] = not_bool}},
  [HEBB_RECIPROCAL] = {"reciprocal", 2, {REAL(reciprocal), CPLX(reciprocal)}},
  [HEBB_SQUARE] = {"square", 1, {REAL(square), INT(square_i64),
                                 CPLX(square)}},
};
_Static_assert(sizeof unops / sizeof unops[0] == HEBB_NUNOPS,
               "unary.c: one row of unops[] per hebb_unop");

/* --- dtype rules ------------------------------------------------------- */

static int keeps_integers(int op) {
  switch (op) {
    case HEBB_NEG: case HEBB_ABS: case HEBB_SIGN: case HEBB_RELU:
    case HEBB_SQUARE: case HEBB_FLOOR: case HEBB_CEIL: case HEBB_ROUND:
      return 1;
    default:
      return 0;
  }
}

/* compute dtype = result dtype */
int hebb_unop_dtype(int op, int dtype) {
  if (op < 0 || op >= HEBB_NUNOPS) return -1;
  if (op == HEBB_LOGICAL_NOT) return HEBB_BOOL;
  if (op == HEBB_ABS && hebb_is_complex(dtype))
    return dtype == HEBB_C64 ? HEBB_F32 : HEBB_F64;
  if (hebb_is_complex(dtype)) return dtype;
  if (dtype == HEBB_F64 || dtype == HEBB_F32) return dtype;
  return keeps_integers(op) ? HEBB_I64 : HEBB_F64;
}

/* --- entry point ------------------------------------------------------- */

hebb_status hebb_unary(int op, const hebb_tensor *a, hebb_tensor **out) {
  const unop *u;
  int ct, made = *out == NULL, st;
  hebb_cast ca;
  if (op < 0 || op >= HEBB_NUNOPS)
    return hebb_fail(HEBB_ERR_ARG, "unary: invalid operation %d", op);
  u = &unops[op];
  if (op == HEBB_ABS && hebb_is_complex(a->dtype))   /* |z| is real */
    return hebb_complex_part(HEBB_CABS, a, out);
  if (hebb_check_dtype_any(a->dtype, u->name)) return hebb_last_status();
  ct = hebb_unop_dtype(op, a->dtype);
  if (hebb_is_complex(a->dtype) && (!hebb_is_complex(ct) || !u->kernel[ct]))
    return hebb_check_dtype(a->dtype, u->name);   /* "not supported yet" */
  if (hebb_cast_init(&ca, a, ct)) return hebb_last_status();
  st = hebb_prepare_out(out, ct, a->ndim, a->shape, u->name);
  if (st == HEBB_OK) {
    hebb_tensor *ops[2] = {*out, ca.t};
    st = hebb_ewise_run(2, ops, a->ndim, a->shape, u->kernel[ct], NULL,
                        u->cost);
  }
  hebb_cast_free(&ca);
  return hebb_out_end(out, made, st);
}

/* the kernel of op computing in (and writing) dtype, and its cost per
   element; NULL where there is none (fuse.c) */
hebb_inner_fn hebb_unary_kernel(int op, int dtype, int64_t *cost) {
  if (op < 0 || op >= HEBB_NUNOPS || dtype < 0 || dtype >= HEBB_NDTYPES)
    return NULL;
  *cost = unops[op].cost;
  return unops[op].kernel[dtype];
}
