/*
** binary.c -- elementwise operations of two operands with NumPy
** broadcasting: arithmetic with Lua's semantics, minimum/maximum, atan2,
** comparisons and logical operations.  Complex tensors (c128, c64) have
** + - * / ^ and eq/ne; the operations that need an order (comparisons,
** min/max, //, %, atan2) and logical ones are refused for them.
**
** Both inputs are first seen in one compute dtype (ewise.c); a kernel then
** exists per (operation, compute dtype) and writes the compute dtype, or
** bool for comparisons and logical operations.  Every kernel has branches
** for the layouts the flat fast path produces (both contiguous, one a
** broadcast scalar), which are plain loops the compiler vectorizes, and a
** strided fallback.
*/
#include <complex.h>
#include <math.h>
#include <stdatomic.h>

#include "core.h"

/* --- element operations ------------------------------------------------ */

/* Integers wrap around on overflow, as in Lua: the arithmetic is done on
   unsigned values, where wrapping is defined. */
static inline int64_t wrap_add(int64_t a, int64_t b) {
  return (int64_t)((uint64_t)a + (uint64_t)b);
}

static inline int64_t wrap_sub(int64_t a, int64_t b) {
  return (int64_t)((uint64_t)a - (uint64_t)b);
}

static inline int64_t wrap_mul(int64_t a, int64_t b) {
  return (int64_t)((uint64_t)a * (uint64_t)b);
}

/* Floor division and floor modulo of integers, as Lua's // and %.  A zero
   divisor was refused before the loop; it still gives 0 here so that no
   input can ever trap.  b == -1 is apart because INT64_MIN / -1 traps. */
static inline int64_t int_idiv(int64_t a, int64_t b) {
  int64_t q;
  if (b == 0) return 0;
  if (b == -1) return wrap_sub(0, a);
  q = a / b;
  if ((a % b != 0) && ((a ^ b) < 0)) q -= 1;   /* truncated -> floor */
  return q;
}

static inline int64_t int_mod(int64_t a, int64_t b) {
  int64_t r;
  if (b == 0 || b == -1) return 0;
  r = a % b;
  if (r != 0 && (r ^ b) < 0) r += b;   /* take the divisor's sign */
  return r;
}

/* Lua's float %: fmod truncates, so a remainder whose sign differs from
   the divisor's is moved by one divisor (which also gives Lua's
   -5 % inf == inf). */
static inline double flt_mod(double a, double b) {
  double m = fmod(a, b);
  if (m > 0 ? b < 0 : (m < 0 && b > 0)) m += b;
  return m;
}

static inline float flt_modf(float a, float b) {
  float m = fmodf(a, b);
  if (m > 0 ? b < 0 : (m < 0 && b > 0)) m += b;
  return m;
}

/* x^2 is the most common power; a*a is exact and much cheaper. */
static inline double flt_pow(double a, double b) {
  return b == 2 ? a * a : pow(a, b);
}

static inline float flt_powf(float a, float b) {
  return b == 2 ? a * a : powf(a, b);
}

typedef double _Complex c128;
typedef float _Complex c64;

/* The schoolbook product, as numpy computes it: it vectorizes, where C's
   a * b calls a library routine per element to repair inf/NaN cases. */
static inline c128 cmul(c128 a, c128 b) {
  return CMPLX(creal(a) * creal(b) - cimag(a) * cimag(b),
               creal(a) * cimag(b) + cimag(a) * creal(b));
}

static inline c64 cmulf(c64 a, c64 b) {
  return CMPLXF(crealf(a) * crealf(b) - cimagf(a) * cimagf(b),
                crealf(a) * cimagf(b) + cimagf(a) * crealf(b));
}

/* Complex powers follow numpy's rules (npy_cpow).  C's cpow, computed as
   exp(b log a), gave NaN for 0^0 and inexact integer powers.  Here a^0 = 1
   for every a; 0^b = 0 for real b > 0 and NaN otherwise; a real integer
   exponent |n| < 100 multiplies by repeated squaring (1, 2 and 3 unrolled,
   as numpy does, which decides what infinities give), a negative one then
   takes the reciprocal by Smith's division (numpy's again, so that
   inf^-2 is NaN there as here); anything else is cpow. */
#define CPOW(NAME, T, C, MUL, RE, IM, ABS, MAKE, LIBPOW)                     \
  static C NAME##_recip(C z) {                                              \
    T r = RE(z), i = IM(z), q, s;                                           \
    if (ABS(r) >= ABS(i)) {                                                 \
      if (r == 0 && i == 0) return MAKE(1 / ABS(r), 0 / ABS(i));            \
      q = i / r;                                                            \
      s = 1 / (r + i * q);                                                  \
      return MAKE(s, -q * s);                                               \
    }                                                                       \
    q = r / i;                                                              \
    s = 1 / (i + r * q);                                                    \
    return MAKE(q * s, -s);                                                 \
  }                                                                         \
  static C NAME(C a, C b) {                                                 \
    T br = RE(b), bi = IM(b);                                               \
    C r = 1, p = a;                                                         \
    int n, m;                                                               \
    if (br == 0 && bi == 0) return 1;                                       \
    if (RE(a) == 0 && IM(a) == 0)                                           \
      return br > 0 && bi == 0 ? 0 : MAKE(NAN, NAN);                        \
    if (bi != 0 || !(br > -100 && br < 100) || br != (int)br)               \
      return LIBPOW(a, b);                                                  \
    n = (int)br;                                                            \
    if (n == 1) return a;                                                   \
    if (n == 2) return MUL(a, a);                                           \
    if (n == 3) return MUL(a, MUL(a, a));                                   \
    for (m = n < 0 ? -n : n; ; m >>= 1) {                                   \
      if (m & 1) r = MUL(r, p);                                             \
      if (m <= 1) break;                                                    \
      p = MUL(p, p);                                                        \
    }                                                                       \
    return n < 0 ? NAME##_recip(r) : r;                                     \
  }

CPOW(c_pow, double, c128, cmul, creal, cimag, fabs, CMPLX, cpow)
CPOW(c_powf, float, c64, cmulf, crealf, cimagf, fabsf, CMPLXF, cpowf)

/* minimum/maximum propagate NaN from either side. */
#define MINIMUM(a, b) (((a) < (b) || (a) != (a)) ? (a) : (b))
#define MAXIMUM(a, b) (((a) > (b) || (a) != (a)) ? (a) : (b))

/* --- kernels ----------------------------------------------------------- */

#define BINARY(NAME, TO, TI, EXPR)                                          \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ud) {       \
    TO *o = (TO *)p[0];                                                     \
    const TI *x = (const TI *)p[1], *y = (const TI *)p[2];                  \
    int64_t i;                                                              \
    (void)ud;                                                               \
    if (s[0] == sizeof(TO) && s[1] == sizeof(TI) && s[2] == sizeof(TI))     \
      for (i = 0; i < n; i++) { TI a = x[i], b = y[i]; o[i] = (EXPR); }     \
    else if (s[0] == sizeof(TO) && s[1] == sizeof(TI) && s[2] == 0) {       \
      TI b = *y;                                                            \
      for (i = 0; i < n; i++) { TI a = x[i]; o[i] = (EXPR); }               \
    }                                                                       \
    else if (s[0] == sizeof(TO) && s[1] == 0 && s[2] == sizeof(TI)) {       \
      TI a = *x;                                                            \
      for (i = 0; i < n; i++) { TI b = y[i]; o[i] = (EXPR); }               \
    }                                                                       \
    else {                                                                  \
      char *po = p[0];                                                      \
      const char *pa = p[1], *pb = p[2];                                    \
      for (i = 0; i < n; i++, po += s[0], pa += s[1], pb += s[2]) {         \
        TI a = *(const TI *)pa, b = *(const TI *)pb;                        \
        *(TO *)po = (EXPR);                                                 \
      }                                                                     \
    }                                                                       \
  }


/* The comparisons of one dtype S (type T): all six, or only == and ~= for
   complex numbers, which have no order.  COMPARISONS does not reuse
   EQUALITY: S would be macro-expanded on the way (bool -> _Bool). */
#define EQUALITY(S, T)                                                      \
  BINARY(eq_##S, bool, T, a == b)                                           \
  BINARY(ne_##S, bool, T, a != b)

#define COMPARISONS(S, T)                                                   \
  BINARY(eq_##S, bool, T, a == b)                                           \
  BINARY(ne_##S, bool, T, a != b)                                           \
  BINARY(lt_##S, bool, T, a < b)                                            \
  BINARY(le_##S, bool, T, a <= b)                                           \
  BINARY(gt_##S, bool, T, a > b)                                            \
  BINARY(ge_##S, bool, T, a >= b)

/* Every kernel of a real float dtype S (type T); FLOOR, MOD, POW and ATAN2
   are its precision's versions of those functions. */
#define FLOATS(S, T, FLOOR, MOD, POW, ATAN2)                                \
  BINARY(add_##S, T, T, a + b)                                              \
  BINARY(sub_##S, T, T, a - b)                                              \
  BINARY(mul_##S, T, T, a * b)                                              \
  BINARY(div_##S, T, T, a / b)                                              \
  BINARY(idiv_##S, T, T, FLOOR(a / b))                                      \
  BINARY(mod_##S, T, T, MOD(a, b))                                          \
  BINARY(pow_##S, T, T, POW(a, b))                                          \
  BINARY(min_##S, T, T, MINIMUM(a, b))                                      \
  BINARY(max_##S, T, T, MAXIMUM(a, b))                                      \
  BINARY(atan2_##S, T, T, ATAN2(a, b))                                      \
  COMPARISONS(S, T)

FLOATS(f64, double, floor, flt_mod, flt_pow, atan2)
FLOATS(f32, float, floorf, flt_modf, flt_powf, atan2f)

BINARY(add_i64, int64_t, int64_t, wrap_add(a, b))
BINARY(sub_i64, int64_t, int64_t, wrap_sub(a, b))
BINARY(mul_i64, int64_t, int64_t, wrap_mul(a, b))
BINARY(idiv_i64, int64_t, int64_t, int_idiv(a, b))
BINARY(mod_i64, int64_t, int64_t, int_mod(a, b))
BINARY(min_i64, int64_t, int64_t, a < b ? a : b)
BINARY(max_i64, int64_t, int64_t, a > b ? a : b)
COMPARISONS(i64, int64_t)

/* bools are 0 or 1, so bitwise operations are the logical ones */
BINARY(and_bool, bool, bool, a & b)
BINARY(or_bool, bool, bool, a | b)
BINARY(xor_bool, bool, bool, a ^ b)
COMPARISONS(bool, bool)

/* division goes through C's a / b, which scales to avoid overflow */
BINARY(add_c128, c128, c128, a + b)
BINARY(sub_c128, c128, c128, a - b)
BINARY(mul_c128, c128, c128, cmul(a, b))
BINARY(div_c128, c128, c128, a / b)
BINARY(pow_c128, c128, c128, c_pow(a, b))
EQUALITY(c128, c128)

BINARY(add_c64, c64, c64, a + b)
BINARY(sub_c64, c64, c64, a - b)
BINARY(mul_c64, c64, c64, cmulf(a, b))
BINARY(div_c64, c64, c64, a / b)
BINARY(pow_c64, c64, c64, c_powf(a, b))
EQUALITY(c64, c64)

/* --- the table -------------------------------------------------------- */

typedef struct binop {
  const char *name;
  int64_t cost;   /* work per element relative to an addition */
  /* by compute dtype; NULL where the dtype rules never compute in that
     dtype (e.g. bools add as i64, i64 / i64 is f64) or the operation is not
     defined (an order on complex numbers) */
  hebb_inner_fn kernel[HEBB_NDTYPES];
} binop;

#define REAL(OP) [HEBB_F64] = OP##_f64, [HEBB_F32] = OP##_f32
#define CPLX(OP) [HEBB_C128] = OP##_c128, [HEBB_C64] = OP##_c64
#define INT(FN) [HEBB_I64] = FN
#define BOOL(FN) [HEBB_BOOL] = FN

static const binop binops[] = {
  [HEBB_ADD] = {"add", 1, {REAL(add), INT(add_i64), CPLX(add)}},
  [HEBB_SUB] = {"sub", 1, {REAL(sub), INT(sub_i64), CPLX(sub)}},
  [HEBB_MUL] = {"mul", 1, {REAL(mul), INT(mul_i64), CPLX(mul)}},
  [HEBB_DIV] = {"div", 2, {REAL(div), CPLX(div)}},
  [HEBB_IDIV] = {"idiv", 4, {REAL(idiv), INT(idiv_i64)}},
  [HEBB_MOD] = {"mod", 8, {REAL(mod), INT(mod_i64)}},
  [HEBB_POW] = {"pow", 20, {REAL(pow), CPLX(pow)}},
  [HEBB_MIN] = {"minimum", 1, {REAL(min), INT(min_i64), BOOL(and_bool)}},
  [HEBB_MAX] = {"maximum", 1, {REAL(max), INT(max_i64), BOOL(or_bool)}},
  [HEBB_ATAN2] = {"atan2", 20, {REAL(atan2)}},
  [HEBB_EQ] = {"eq", 1, {REAL(eq), INT(eq_i64), BOOL(eq_bool), CPLX(eq)}},
  [HEBB_NE] = {"ne", 1, {REAL(ne), INT(ne_i64), BOOL(ne_bool), CPLX(ne)}},
  [HEBB_LT] = {"lt", 1, {REAL(lt), INT(lt_i64), BOOL(lt_bool)}},
  [HEBB_LE] = {"le", 1, {REAL(le), INT(le_i64), BOOL(le_bool)}},
  [HEBB_GT] = {"gt", 1, {REAL(gt), INT(gt_i64), BOOL(gt_bool)}},
  [HEBB_GE] = {"ge", 1, {REAL(ge), INT(ge_i64), BOOL(ge_bool)}},
  [HEBB_AND] = {"logical_and", 1, {BOOL(and_bool)}},
  [HEBB_OR] = {"logical_or", 1, {BOOL(or_bool)}},
  [HEBB_XOR] = {"logical_xor", 1, {BOOL(xor_bool)}},
};
_Static_assert(sizeof binops / sizeof binops[0] == HEBB_NBINOPS,
               "binary.c: one row of binops[] per hebb_binop");

/* --- dtype rules ------------------------------------------------------- */

static int is_float(int dtype) {
  return dtype == HEBB_F64 || dtype == HEBB_F32 || hebb_is_complex(dtype);
}

/* The dtype an operation computes in, from the operands' common dtype p:
   / ^ atan2 give floats or complex (Lua's / and ^), arithmetic on bools is
   done in i64, logical operations look at truth values. */
static int compute_dtype(int op, int p) {
  switch (op) {
    case HEBB_DIV: case HEBB_POW: case HEBB_ATAN2:
      return is_float(p) ? p : HEBB_F64;
    case HEBB_AND: case HEBB_OR: case HEBB_XOR:
      return HEBB_BOOL;
    case HEBB_ADD: case HEBB_SUB: case HEBB_MUL: case HEBB_IDIV: case HEBB_MOD:
      return p == HEBB_BOOL ? HEBB_I64 : p;
    default:   /* minimum, maximum, comparisons */
      return p;
  }
}

int hebb_binop_dtype(int op, const hebb_tensor *a, const hebb_tensor *b) {
  const hebb_tensor *ab[2] = {a, b};
  if (op < 0 || op >= HEBB_NBINOPS) return -1;
  if (op >= HEBB_EQ) return HEBB_BOOL;
  return compute_dtype(op, a->dtype == b->dtype ? a->dtype
                                                : hebb_weak_promote(2, ab));
}

/* --- integer division by zero ------------------------------------------ */

typedef struct zero_scan {
  int isbool;
  atomic_int found;
} zero_scan;

static void find_zero(int64_t n, char **p, const int64_t *s, void *ud) {
  zero_scan *z = ud;
  const char *q = p[0];
  int64_t i;
  for (i = 0; i < n; i++, q += s[0])
    if (z->isbool ? !*(const bool *)q : *(const int64_t *)q == 0) {
      atomic_store_explicit(&z->found, 1, memory_order_relaxed);
      return;
    }
}

/* Lua raises an error for integer // and % by zero; so does hebb, before
   any element is written. */
static int check_divisor(int op, const hebb_tensor *b) {
  hebb_loop lp;
  hebb_tensor *ops[1] = {hebb_unconst(b)};
  zero_scan z;
  int st;
  z.isbool = b->dtype == HEBB_BOOL;
  atomic_init(&z.found, 0);
  hebb_loop_init(&lp, 1, ops, b->ndim, b->shape);
  st = hebb_loop_run(&lp, find_zero, &z, 1);
  if (st != HEBB_OK) return st;
  if (atomic_load(&z.found))
    return op == HEBB_IDIV
      ? hebb_fail(HEBB_ERR_ARG, "idiv: attempt to divide by zero")
      : hebb_fail(HEBB_ERR_ARG, "mod: attempt to perform 'n%%%%0'");
  return HEBB_OK;
}

/* --- the path of tiny tensors ------------------------------------------ */

static int same_shape(const hebb_tensor *a, const hebb_tensor *b) {
  int i;
  if (a->ndim != b->ndim) return 0;
  for (i = 0; i < a->ndim; i++)
    if (a->shape[i] != b->shape[i]) return 0;
  return 1;
}

/* contiguous, tested without a call for the usual 0-d and 1-d operands */
static int flat(const hebb_tensor *t) {
  if (t->ndim == 0) return 1;
  if (t->ndim == 1) return t->stride[0] == 1 || t->shape[0] <= 1;
  return hebb_is_contiguous(t);
}

/* the first element of an operand in the compute dtype ct: its own, or
   (a 0-d operand of another dtype, a Lua number) converted into *c */
static char *operand_at(hebb_cast *c, const hebb_tensor *t, int ct) {
  c->tmp = NULL;
  if (t->dtype != ct) {
    hebb_cast_init(c, t, ct);   /* 0-d: cannot fail */
    return hebb_first(c->t);
  }
  return t->offset ? hebb_first(t) : t->data;
}

/* The path of tiny tensors, where fixed costs dominate (a + b on one
   element): contiguous operands of one shape, or one of them 0-d (a Lua
   number), into a new or contiguous result need no broadcasting, no loop
   set-up and no temporaries.  Returns -1 when it does not apply. */
static int binary_small(int op, int ct, int rt, const hebb_tensor *a,
                        const hebb_tensor *b, hebb_tensor **out) {
  const hebb_tensor *big = a->ndim == 0 ? b : a;
  hebb_cast ca, cb;
  int64_t n, s[3], isz;
  char *p[3];
  if ((a->ndim != 0 && b->ndim != 0 && !same_shape(a, b)) ||
      (a->dtype != ct && a->ndim > 0) || (b->dtype != ct && b->ndim > 0) ||
      !flat(a) || !flat(b) ||
      (ct == HEBB_I64 && (op == HEBB_IDIV || op == HEBB_MOD)))
    return -1;
  n = hebb_shape_numel(big->ndim, big->shape);
  if (n * binops[op].cost >= HEBB_PAR_GRAIN) return -1;
  if (!*out) {
    *out = hebb_empty(rt, big->ndim, big->shape);
    if (!*out) return hebb_last_status();
  }
  else if ((*out)->dtype != rt || !same_shape(*out, big) || !flat(*out))
    return -1;   /* the general path explains or copes */
  else hebb_bump_version(*out);
  isz = hebb_dtype_size(ct);
  p[0] = (*out)->offset ? hebb_first(*out) : (*out)->data;
  p[1] = operand_at(&ca, a, ct);
  p[2] = operand_at(&cb, b, ct);
  s[0] = rt == ct ? isz : hebb_dtype_size(rt);
  s[1] = a->ndim == big->ndim ? isz : 0;
  s[2] = b->ndim == big->ndim ? isz : 0;
  if (n > 0) binops[op].kernel[ct](n, p, s, NULL);
  return HEBB_OK;
}

/* --- entry point ------------------------------------------------------- */

hebb_status hebb_binary(int op, const hebb_tensor *a, const hebb_tensor *b,
                        hebb_tensor **out) {
  const hebb_tensor *ab[2] = {a, b};
  const char *who;
  int ct, rt, nd, made = *out == NULL, st;
  int64_t shape[HEBB_MAXDIM];
  hebb_cast ca, cb;
  if (op < 0 || op >= HEBB_NBINOPS)
    return hebb_fail(HEBB_ERR_ARG, "binary: invalid operation %d", op);
  who = binops[op].name;
  if (hebb_check_dtype_any(a->dtype, who) ||
      hebb_check_dtype_any(b->dtype, who))
    return hebb_last_status();
  ct = compute_dtype(op, a->dtype == b->dtype ? a->dtype
                                              : hebb_weak_promote(2, ab));
  if ((hebb_is_complex(a->dtype) || hebb_is_complex(b->dtype)) &&
      (!hebb_is_complex(ct) || !binops[op].kernel[ct]))
    return hebb_fail(HEBB_ERR_DTYPE, "%s: not defined for complex numbers "
                     "(dtype %s)", who, hebb_dtype_name(
                       hebb_is_complex(a->dtype) ? a->dtype : b->dtype));
  rt = op >= HEBB_EQ ? HEBB_BOOL : ct;
  st = binary_small(op, ct, rt, a, b, out);
  if (st >= 0) return st;
  if (hebb_broadcast_shape(a->ndim, a->shape, b->ndim, b->shape, &nd, shape,
                           who))
    return hebb_last_status();
  if ((op == HEBB_IDIV || op == HEBB_MOD) && ct == HEBB_I64 &&
      hebb_shape_numel(nd, shape) > 0 && check_divisor(op, b))
    return hebb_last_status();
  if (hebb_cast_init(&ca, a, ct)) return hebb_last_status();
  if (hebb_cast_init(&cb, b, ct)) {
    hebb_cast_free(&ca);
    return hebb_last_status();
  }
  st = hebb_prepare_out(out, rt, nd, shape, who);
  if (st == HEBB_OK) {
    hebb_tensor *ops[3] = {*out, ca.t, cb.t};
    st = hebb_ewise_run(3, ops, nd, shape, binops[op].kernel[ct], NULL,
                        binops[op].cost);
  }
  hebb_cast_free(&ca);
  hebb_cast_free(&cb);
  return hebb_out_end(out, made, st);
}

/* the kernel of op computing in dtype ct, and its cost per element; NULL
   where there is none (fuse.c) */
hebb_inner_fn hebb_binary_kernel(int op, int ct, int64_t *cost) {
  if (op < 0 || op >= HEBB_NBINOPS || ct < 0 || ct >= HEBB_NDTYPES)
    return NULL;
  *cost = binops[op].cost;
  return binops[op].kernel[ct];
}
