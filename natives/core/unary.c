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

/* 1/(1+exp(-x)) for x >= 0, and exp(x)/(1+exp(x)) below: exp never
   overflows, and both halves are accurate to the last bits. */
static inline double sigmoid(double x) {
  double e;
  if (x >= 0) return 1 / (1 + exp(-x));
  e = exp(x);
  return e / (1 + e);
}

static inline float sigmoidf(float x) {
  float e;
  if (x >= 0) return 1 / (1 + expf(-x));
  e = expf(x);
  return e / (1 + e);
}

/* log(1+exp(x)) = max(x,0) + log1p(exp(-|x|)): no overflow for large x, no
   loss of the small value for very negative x. */
static inline double softplus(double x) {
  return (x > 0 ? x : 0) + log1p(exp(-fabs(x)));
}

static inline float softplusf(float x) {
  return (x > 0 ? x : 0) + log1pf(expf(-fabsf(x)));
}

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

UNARY(neg_f64, double, double, -x)
UNARY(abs_f64, double, double, fabs(x))
UNARY(sign_f64, double, double, SIGN(x))
UNARY(exp_f64, double, double, exp(x))
UNARY(log_f64, double, double, log(x))
UNARY(log1p_f64, double, double, log1p(x))
UNARY(expm1_f64, double, double, expm1(x))
UNARY(sqrt_f64, double, double, sqrt(x))
UNARY(sin_f64, double, double, sin(x))
UNARY(cos_f64, double, double, cos(x))
UNARY(tan_f64, double, double, tan(x))
UNARY(tanh_f64, double, double, tanh(x))
UNARY(sinh_f64, double, double, sinh(x))
UNARY(cosh_f64, double, double, cosh(x))
UNARY(asin_f64, double, double, asin(x))
UNARY(acos_f64, double, double, acos(x))
UNARY(atan_f64, double, double, atan(x))
UNARY(sigmoid_f64, double, double, sigmoid(x))
UNARY(relu_f64, double, double, RELU(x))
UNARY(softplus_f64, double, double, softplus(x))
UNARY(floor_f64, double, double, floor(x))
UNARY(ceil_f64, double, double, ceil(x))
UNARY(round_f64, double, double, nearbyint(x))
UNARY(reciprocal_f64, double, double, 1 / x)
UNARY(square_f64, double, double, x * x)

UNARY(neg_f32, float, float, -x)
UNARY(abs_f32, float, float, fabsf(x))
UNARY(sign_f32, float, float, SIGN(x))
UNARY(exp_f32, float, float, expf(x))
UNARY(log_f32, float, float, logf(x))
UNARY(log1p_f32, float, float, log1pf(x))
UNARY(expm1_f32, float, float, expm1f(x))
UNARY(sqrt_f32, float, float, sqrtf(x))
UNARY(sin_f32, float, float, sinf(x))
UNARY(cos_f32, float, float, cosf(x))
UNARY(tan_f32, float, float, tanf(x))
UNARY(tanh_f32, float, float, tanhf(x))
UNARY(sinh_f32, float, float, sinhf(x))
UNARY(cosh_f32, float, float, coshf(x))
UNARY(asin_f32, float, float, asinf(x))
UNARY(acos_f32, float, float, acosf(x))
UNARY(atan_f32, float, float, atanf(x))
UNARY(sigmoid_f32, float, float, sigmoidf(x))
UNARY(relu_f32, float, float, RELU(x))
UNARY(softplus_f32, float, float, softplusf(x))
UNARY(floor_f32, float, float, floorf(x))
UNARY(ceil_f32, float, float, ceilf(x))
UNARY(round_f32, float, float, nearbyintf(x))
UNARY(reciprocal_f32, float, float, 1 / x)
UNARY(square_f32, float, float, x * x)

UNARY(neg_i64, int64_t, int64_t, wrap_neg(x))
UNARY(abs_i64, int64_t, int64_t, wrap_abs(x))
UNARY(sign_i64, int64_t, int64_t, (x > 0) - (x < 0))
UNARY(relu_i64, int64_t, int64_t, x > 0 ? x : 0)
UNARY(square_i64, int64_t, int64_t, wrap_square(x))
UNARY(same_i64, int64_t, int64_t, x)   /* floor, ceil, round of integers */

UNARY(not_bool, bool, bool, !x)

UNARY(neg_c128, c128, c128, -x)
UNARY(exp_c128, c128, c128, cexp(x))
UNARY(log_c128, c128, c128, clog(x))
UNARY(sqrt_c128, c128, c128, csqrt(x))
UNARY(sin_c128, c128, c128, csin(x))
UNARY(cos_c128, c128, c128, ccos(x))
UNARY(tan_c128, c128, c128, ctan(x))
UNARY(tanh_c128, c128, c128, ctanh(x))
UNARY(sinh_c128, c128, c128, csinh(x))
UNARY(cosh_c128, c128, c128, ccosh(x))
UNARY(asin_c128, c128, c128, casin(x))
UNARY(acos_c128, c128, c128, cacos(x))
UNARY(atan_c128, c128, c128, catan(x))
UNARY(reciprocal_c128, c128, c128, 1 / x)
UNARY(square_c128, c128, c128, csquare(x))

UNARY(neg_c64, c64, c64, -x)
UNARY(exp_c64, c64, c64, cexpf(x))
UNARY(log_c64, c64, c64, clogf(x))
UNARY(sqrt_c64, c64, c64, csqrtf(x))
UNARY(sin_c64, c64, c64, csinf(x))
UNARY(cos_c64, c64, c64, ccosf(x))
UNARY(tan_c64, c64, c64, ctanf(x))
UNARY(tanh_c64, c64, c64, ctanhf(x))
UNARY(sinh_c64, c64, c64, csinhf(x))
UNARY(cosh_c64, c64, c64, ccoshf(x))
UNARY(asin_c64, c64, c64, casinf(x))
UNARY(acos_c64, c64, c64, cacosf(x))
UNARY(atan_c64, c64, c64, catanf(x))
UNARY(reciprocal_c64, c64, c64, 1 / x)
UNARY(square_c64, c64, c64, csquaref(x))

/* --- tables ------------------------------------------------------------ */

static const char *const names[HEBB_NUNOPS] = {
  "neg", "abs", "sign", "exp", "log", "log1p", "expm1", "sqrt", "sin", "cos",
  "tan", "tanh", "sinh", "cosh", "asin", "acos", "atan", "sigmoid", "relu",
  "softplus", "floor", "ceil", "round", "logical_not", "reciprocal", "square"
};

/* [op][compute dtype: f64, f32, i64, bool, c128, c64]; abs of complex is
   complex.c's (its result is real) */
static const hebb_inner_fn kernels[HEBB_NUNOPS][HEBB_NDTYPES] = {
  {neg_f64, neg_f32, neg_i64, NULL, neg_c128, neg_c64},
  {abs_f64, abs_f32, abs_i64, NULL, NULL, NULL},
  {sign_f64, sign_f32, sign_i64, NULL, NULL, NULL},
  {exp_f64, exp_f32, NULL, NULL, exp_c128, exp_c64},
  {log_f64, log_f32, NULL, NULL, log_c128, log_c64},
  {log1p_f64, log1p_f32, NULL, NULL, NULL, NULL},
  {expm1_f64, expm1_f32, NULL, NULL, NULL, NULL},
  {sqrt_f64, sqrt_f32, NULL, NULL, sqrt_c128, sqrt_c64},
  {sin_f64, sin_f32, NULL, NULL, sin_c128, sin_c64},
  {cos_f64, cos_f32, NULL, NULL, cos_c128, cos_c64},
  {tan_f64, tan_f32, NULL, NULL, tan_c128, tan_c64},
  {tanh_f64, tanh_f32, NULL, NULL, tanh_c128, tanh_c64},
  {sinh_f64, sinh_f32, NULL, NULL, sinh_c128, sinh_c64},
  {cosh_f64, cosh_f32, NULL, NULL, cosh_c128, cosh_c64},
  {asin_f64, asin_f32, NULL, NULL, asin_c128, asin_c64},
  {acos_f64, acos_f32, NULL, NULL, acos_c128, acos_c64},
  {atan_f64, atan_f32, NULL, NULL, atan_c128, atan_c64},
  {sigmoid_f64, sigmoid_f32, NULL, NULL, NULL, NULL},
  {relu_f64, relu_f32, relu_i64, NULL, NULL, NULL},
  {softplus_f64, softplus_f32, NULL, NULL, NULL, NULL},
  {floor_f64, floor_f32, same_i64, NULL, NULL, NULL},
  {ceil_f64, ceil_f32, same_i64, NULL, NULL, NULL},
  {round_f64, round_f32, same_i64, NULL, NULL, NULL},
  {NULL, NULL, NULL, not_bool, NULL, NULL},
  {reciprocal_f64, reciprocal_f32, NULL, NULL, reciprocal_c128,
   reciprocal_c64},
  {square_f64, square_f32, square_i64, NULL, square_c128, square_c64},
};

/* work per element relative to an addition: the library functions cost
   10-20 times more, so they go parallel on smaller tensors */
static const int64_t costs[HEBB_NUNOPS] = {
  1, 1, 1, 16, 16, 16, 16, 4, 16, 16, 20, 16, 16, 16, 16, 16, 16, 20, 1,
  24, 1, 1, 1, 1, 2, 1
};

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

int hebb_unary(int op, const hebb_tensor *a, hebb_tensor **out) {
  const char *who;
  int ct, made = *out == NULL, st;
  hebb_cast ca;
  if (op < 0 || op >= HEBB_NUNOPS)
    return hebb_fail(HEBB_ERR_ARG, "unary: invalid operation %d", op);
  who = names[op];
  if (op == HEBB_ABS && hebb_is_complex(a->dtype))   /* |z| is real */
    return hebb_complex_part(HEBB_CABS, a, out);
  if (hebb_check_dtype_any(a->dtype, who)) return hebb_last_status();
  ct = hebb_unop_dtype(op, a->dtype);
  if (hebb_is_complex(a->dtype) && (!hebb_is_complex(ct) || !kernels[op][ct]))
    return hebb_check_dtype(a->dtype, who);   /* "not supported yet" */
  if (hebb_cast_init(&ca, a, ct)) return hebb_last_status();
  st = hebb_prepare_out(out, ct, a->ndim, a->shape, who);
  if (st == HEBB_OK) {
    hebb_tensor *ops[2] = {*out, ca.t};
    st = hebb_ewise_run(2, ops, a->ndim, a->shape, kernels[op][ct], NULL,
                        costs[op]);
  }
  hebb_cast_free(&ca);
  return hebb_ewise_end(out, made, st);
}
