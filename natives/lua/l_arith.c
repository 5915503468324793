/*
** l_arith.c -- elementwise arithmetic and math of `hebb.tensor`: the
** operators (+ - * / // % ^ and unary -), math functions, comparisons,
** logical operations, clamp, where, addcmul, and the in-place variants.
** Numbers on either side are "weak" operands (see docs/design.md).
*/
#include <math.h>
#include <string.h>

#include "lhebb.h"

/* In-place results keep the receiver's dtype: refusing a wider result is
   better than silently truncating it. */
static void check_fits(lua_State *L, const char *name, int rt,
                       const hebb_tensor *t) {
  if (rt != t->dtype)
    luaL_error(L, "%s: result dtype %s cannot be written into %s tensor",
               name, hebb_dtype_name(rt), hebb_dtype_name(t->dtype));
}

/* --- the fast path of small results ---------------------------------- */

/* Like hebbL_operand, but leaves a small tensor in its box (hebbL_peek)
   and gives NULL instead of raising: the general path explains. */
static hebb_tensor *peek_operand(lua_State *L, int idx, hebb_tensor *scratch,
                                 hebb_num *num) {
  hebb_tensor *t = hebbL_peek(L, idx, scratch);
  int tp;
  if (t) return t;
  tp = lua_type(L, idx);
  if (tp != LUA_TNUMBER && tp != LUA_TBOOLEAN) return NULL;
  return hebbL_operand(L, idx, scratch, num);
}


/* The box for a result of dtype rt shaped like t when it is small enough
   to live in its box (hebbL_newsmall), else NULL with nothing pushed.
   Not while autograd records: a recorded result gets a record and the
   tracked flag, which only heap tensors carry. */
static hebb_tensor *small_result(lua_State *L, int rt, const hebb_tensor *t,
                                 hebb_tensor *scratch) {
  int64_t nbytes;
  if (rt < 0 || hebbL_recording(L)) return NULL;
  nbytes = hebb_numel(t) * hebb_dtype_size(rt);
  if (nbytes > HEBBL_SMALL_BYTES) return NULL;
  return hebbL_newsmall(L, rt, t->ndim, t->shape, nbytes, scratch);
}

/* a op b with no options into a small box: operands of one shape, or one
   of them 0-d (a Lua number), so that the result has the other's shape.
   The core computes into the box as into any out tensor: the same kernel
   and bits as a heap result.  Returns 0, having pushed nothing, when it
   does not apply. */
static int small_binary(lua_State *L, int op) {
  hebb_tensor sa, sb, sr, *a, *b, *big, *res;
  hebb_num na, nb;
  if (!(a = peek_operand(L, 1, &sa, &na)) ||
      !(b = peek_operand(L, 2, &sb, &nb)))
    return 0;
  big = a->ndim == 0 ? b : a;
  if (a->ndim != 0 && b->ndim != 0 &&
      (a->ndim != b->ndim ||
       memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof(int64_t)) != 0))
    return 0;
  res = small_result(L, hebb_binop_dtype(op, a, b), big, &sr);
  if (!res) return 0;
  hebbL_check_status(L, hebb_binary(op, a, b, &res));
  return 1;
}

/* op(a) into a small box; complex operands take the general path (abs of
   a complex tensor is real) */
static int small_unary(lua_State *L, int op) {
  hebb_tensor sa, sr, *res, *a = lua_type(L, 1) == LUA_TUSERDATA ?
                                 hebbL_peek(L, 1, &sa) : NULL;
  if (!a || hebb_is_complex(a->dtype)) return 0;
  res = small_result(L, hebb_unop_dtype(op, a->dtype), a, &sr);
  if (!res) return 0;
  hebbL_check_status(L, hebb_unary(op, a, &res));
  return 1;
}

/* --- generic callers --------------------------------------------------- */

static int binary(lua_State *L, int op) {
  hebb_tensor sa, sb, *a, *b, *res, **box;
  hebb_num na, nb;
  /* an operator (a + b) has no third argument: no options to look at */
  if (lua_gettop(L) < 3 && small_binary(L, op)) return 1;
  a = hebbL_operand(L, 1, &sa, &na);
  b = hebbL_operand(L, 2, &sb, &nb);
  box = hebbL_ewise_slot(L, lua_gettop(L) < 3 ? 0 : hebbL_outopts(L, 3), &res);
  hebbL_finish(L, box, &res, hebb_binary(op, a, b, &res));
  return 1;
}

static int binary_(lua_State *L, int op, const char *name) {
  hebb_tensor *t = hebbL_check(L, 1), sb, *b, *res, **box;
  hebb_num nb;
  b = hebbL_operand(L, 2, &sb, &nb);
  check_fits(L, name, hebb_binop_dtype(op, t, b), t);
  box = hebbL_inplace_slot(L, &res);
  hebbL_finish(L, box, &res, hebb_binary(op, t, b, &res));
  lua_settop(L, 1);
  return 1;
}

static int unary(lua_State *L, int op) {
  hebb_tensor sa, *a, *res, **box;
  hebb_num na;
  if (lua_gettop(L) < 2 && small_unary(L, op)) return 1;
  a = hebbL_operand(L, 1, &sa, &na);
  box = hebbL_ewise_slot(L, hebbL_outopts(L, 2), &res);
  hebbL_finish(L, box, &res, hebb_unary(op, a, &res));
  return 1;
}

static int unary_(lua_State *L, int op, const char *name) {
  hebb_tensor *t = hebbL_check(L, 1);
  check_fits(L, name, hebb_unop_dtype(op, t->dtype), t);
  hebbL_check_status(L, hebb_unary(op, t, &t));
  lua_settop(L, 1);
  return 1;
}

/* --- one C function per Lua name (e_: luaconf.h owns the name l_floor) */

#define BINARY_FN(name, op) \
  static int e_##name(lua_State *L) { return binary(L, op); }
#define INPLACE_BINARY_FN(name, op) \
  static int e_##name##_(lua_State *L) { return binary_(L, op, #name "_"); }
#define UNARY_FN(name, op) \
  static int e_##name(lua_State *L) { return unary(L, op); } \
  static int e_##name##_(lua_State *L) { return unary_(L, op, #name "_"); }

BINARY_FN(add, HEBB_ADD)
BINARY_FN(sub, HEBB_SUB)
BINARY_FN(mul, HEBB_MUL)
BINARY_FN(div, HEBB_DIV)
BINARY_FN(idiv, HEBB_IDIV)
BINARY_FN(mod, HEBB_MOD)
BINARY_FN(pow, HEBB_POW)
BINARY_FN(minimum, HEBB_MIN)
BINARY_FN(maximum, HEBB_MAX)
BINARY_FN(atan2, HEBB_ATAN2)
BINARY_FN(eq, HEBB_EQ)
BINARY_FN(ne, HEBB_NE)
BINARY_FN(lt, HEBB_LT)
BINARY_FN(le, HEBB_LE)
BINARY_FN(gt, HEBB_GT)
BINARY_FN(ge, HEBB_GE)
BINARY_FN(logical_and, HEBB_AND)
BINARY_FN(logical_or, HEBB_OR)
BINARY_FN(logical_xor, HEBB_XOR)

INPLACE_BINARY_FN(add, HEBB_ADD)
INPLACE_BINARY_FN(sub, HEBB_SUB)
INPLACE_BINARY_FN(mul, HEBB_MUL)
INPLACE_BINARY_FN(div, HEBB_DIV)
INPLACE_BINARY_FN(pow, HEBB_POW)

UNARY_FN(neg, HEBB_NEG)
UNARY_FN(abs, HEBB_ABS)
UNARY_FN(sign, HEBB_SIGN)
UNARY_FN(exp, HEBB_EXP)
UNARY_FN(log, HEBB_LOG)
UNARY_FN(log1p, HEBB_LOG1P)
UNARY_FN(expm1, HEBB_EXPM1)
UNARY_FN(sqrt, HEBB_SQRT)
UNARY_FN(sin, HEBB_SIN)
UNARY_FN(cos, HEBB_COS)
UNARY_FN(tan, HEBB_TAN)
UNARY_FN(tanh, HEBB_TANH)
UNARY_FN(sinh, HEBB_SINH)
UNARY_FN(cosh, HEBB_COSH)
UNARY_FN(asin, HEBB_ASIN)
UNARY_FN(acos, HEBB_ACOS)
UNARY_FN(atan, HEBB_ATAN)
UNARY_FN(sigmoid, HEBB_SIGMOID)
UNARY_FN(relu, HEBB_RELU)
UNARY_FN(softplus, HEBB_SOFTPLUS)
UNARY_FN(floor, HEBB_FLOOR)
UNARY_FN(ceil, HEBB_CEIL)
UNARY_FN(round, HEBB_ROUND)
UNARY_FN(logical_not, HEBB_LOGICAL_NOT)
UNARY_FN(reciprocal, HEBB_RECIPROCAL)
UNARY_FN(square, HEBB_SQUARE)

/* Lua calls __unm with the operand twice; the copy is no options table. */
static int l_unm(lua_State *L) {
  lua_settop(L, 1);
  return unary(L, HEBB_NEG);
}

/* --- clamp, where, addcmul --------------------------------------------- */

static void checkbounds(lua_State *L, double *lo, double *hi) {
  *lo = luaL_optnumber(L, 2, -HUGE_VAL);
  *hi = luaL_optnumber(L, 3, HUGE_VAL);
}

static int l_clamp(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), *res, **box;
  double lo, hi;
  checkbounds(L, &lo, &hi);
  box = hebbL_ewise_slot(L, hebbL_outopts(L, 4), &res);
  hebbL_finish(L, box, &res, hebb_clamp(a, lo, hi, &res));
  return 1;
}

static int l_clamp_(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  double lo, hi;
  checkbounds(L, &lo, &hi);
  /* clamp has relu's dtype rule (relu is clamp(x, 0, nil)) */
  check_fits(L, "clamp_", hebb_unop_dtype(HEBB_RELU, t->dtype), t);
  hebbL_check_status(L, hebb_clamp(t, lo, hi, &t));
  lua_settop(L, 1);
  return 1;
}

/* where(cond, a, b) and addcmul(c, a, b): three operands, one result */
typedef hebb_status (*ternary_fn)(const hebb_tensor *, const hebb_tensor *,
                                  const hebb_tensor *, hebb_tensor **);

static int ternary(lua_State *L, ternary_fn fn) {
  hebb_tensor s1, s2, s3, *x, *y, *z, *res, **box;
  hebb_num n1, n2, n3;
  x = hebbL_operand(L, 1, &s1, &n1);
  y = hebbL_operand(L, 2, &s2, &n2);
  z = hebbL_operand(L, 3, &s3, &n3);
  box = hebbL_ewise_slot(L, hebbL_outopts(L, 4), &res);
  hebbL_finish(L, box, &res, fn(x, y, z, &res));
  return 1;
}

static int l_where(lua_State *L) { return ternary(L, hebb_where); }
static int l_addcmul(lua_State *L) { return ternary(L, hebb_addcmul); }

/* --- registration ------------------------------------------------------ */

#define OUT_NOTE "  A trailing {out = t} writes the result into t."
#define BIN_NOTE "  a and b are tensors or numbers and broadcast like " \
  "NumPy's arrays; a number does not widen a tensor of its kind." OUT_NOTE
#define CMP_NOTE "  The result is a bool tensor.  A method, not an " \
  "operator: Lua turns the results of < and == into single booleans." \
  BIN_NOTE
#define INT_NOTE "  Integer tensors give integer results." OUT_NOTE
#define FLT_NOTE "  Integer and bool tensors give f64; f32 stays f32." OUT_NOTE
#define INPLACE(name, what) \
  "t:" name "_()\n\nReplaces every element of t by its " what ", in " \
  "place; returns t.  An error if the result would need another dtype " \
  "(use t:" name "() then)."

static const hebb_lreg arith_funcs[] = {
  {"add", e_add, HEBB_BOTH,
   "T.add(a, b [, opts])\n\na + b elementwise.  Integers wrap around on "
   "overflow, as in Lua." BIN_NOTE},
  {"sub", e_sub, HEBB_BOTH,
   "T.sub(a, b [, opts])\n\na - b elementwise." BIN_NOTE},
  {"mul", e_mul, HEBB_BOTH,
   "T.mul(a, b [, opts])\n\na * b elementwise (not the matrix product: see "
   "matmul)." BIN_NOTE},
  {"div", e_div, HEBB_BOTH,
   "T.div(a, b [, opts])\n\na / b elementwise; always a float, as Lua's / "
   "(i64 / i64 is f64).  x / 0 gives inf or nan." BIN_NOTE},
  {"idiv", e_idiv, HEBB_BOTH,
   "T.idiv(a, b [, opts])\n\nFloor division a // b as in Lua: rounds toward "
   "minus infinity (-7 // 2 == -4).  Integer division by zero is an error, "
   "as in Lua." BIN_NOTE},
  {"mod", e_mod, HEBB_BOTH,
   "T.mod(a, b [, opts])\n\nFloor modulo a % b as in Lua: the result has "
   "the sign of b (-7 % 3 == 2), a == (a // b) * b + a % b.  Integer "
   "modulo by zero is an error." BIN_NOTE},
  {"remainder", e_mod, HEBB_BOTH,
   "T.remainder(a, b [, opts])\n\nSame as T.mod: Lua's a % b."},
  {"pow", e_pow, HEBB_BOTH,
   "T.pow(a, b [, opts])\n\na ^ b elementwise; always a float, as Lua's ^."
   BIN_NOTE},
  {"minimum", e_minimum, HEBB_BOTH,
   "T.minimum(a, b [, opts])\n\nThe smaller of a and b elementwise; NaN if "
   "either is NaN (see t:min() for the reduction)." BIN_NOTE},
  {"maximum", e_maximum, HEBB_BOTH,
   "T.maximum(a, b [, opts])\n\nThe larger of a and b elementwise; NaN if "
   "either is NaN (see t:max() for the reduction)." BIN_NOTE},
  {"atan2", e_atan2, HEBB_BOTH,
   "T.atan2(y, x [, opts])\n\nThe angle of the point (x, y) in radians, in "
   "[-pi, pi], elementwise; a float." BIN_NOTE},
  {"eq", e_eq, HEBB_BOTH,
   "T.eq(a, b [, opts])\n\na == b elementwise." CMP_NOTE},
  {"ne", e_ne, HEBB_BOTH,
   "T.ne(a, b [, opts])\n\na ~= b elementwise." CMP_NOTE},
  {"lt", e_lt, HEBB_BOTH,
   "T.lt(a, b [, opts])\n\na < b elementwise." CMP_NOTE},
  {"le", e_le, HEBB_BOTH,
   "T.le(a, b [, opts])\n\na <= b elementwise." CMP_NOTE},
  {"gt", e_gt, HEBB_BOTH,
   "T.gt(a, b [, opts])\n\na > b elementwise." CMP_NOTE},
  {"ge", e_ge, HEBB_BOTH,
   "T.ge(a, b [, opts])\n\na >= b elementwise." CMP_NOTE},
  {"logical_and", e_logical_and, HEBB_BOTH,
   "T.logical_and(a, b [, opts])\n\nTrue where both a and b are true "
   "(non-zero); a bool tensor." BIN_NOTE},
  {"logical_or", e_logical_or, HEBB_BOTH,
   "T.logical_or(a, b [, opts])\n\nTrue where a or b is true (non-zero); a "
   "bool tensor." BIN_NOTE},
  {"logical_xor", e_logical_xor, HEBB_BOTH,
   "T.logical_xor(a, b [, opts])\n\nTrue where exactly one of a and b is "
   "true (non-zero); a bool tensor." BIN_NOTE},

  {"neg", e_neg, HEBB_BOTH, "T.neg(t [, opts])\n\n-t elementwise." INT_NOTE},
  {"abs", e_abs, HEBB_BOTH, "T.abs(t [, opts])\n\n|t| elementwise." INT_NOTE},
  {"sign", e_sign, HEBB_BOTH,
   "T.sign(t [, opts])\n\n1, -1 or 0 by the sign of each element (zeros "
   "and NaN are kept)." INT_NOTE},
  {"exp", e_exp, HEBB_BOTH, "T.exp(t [, opts])\n\ne^t elementwise." FLT_NOTE},
  {"log", e_log, HEBB_BOTH,
   "T.log(t [, opts])\n\nThe natural logarithm elementwise (-inf at 0, nan "
   "below)." FLT_NOTE},
  {"log1p", e_log1p, HEBB_BOTH,
   "T.log1p(t [, opts])\n\nlog(1 + t), accurate for small t." FLT_NOTE},
  {"expm1", e_expm1, HEBB_BOTH,
   "T.expm1(t [, opts])\n\nexp(t) - 1, accurate for small t." FLT_NOTE},
  {"sqrt", e_sqrt, HEBB_BOTH,
   "T.sqrt(t [, opts])\n\nThe square root elementwise (nan below 0)."
   FLT_NOTE},
  {"sin", e_sin, HEBB_BOTH, "T.sin(t [, opts])\n\nsin, radians." FLT_NOTE},
  {"cos", e_cos, HEBB_BOTH, "T.cos(t [, opts])\n\ncos, radians." FLT_NOTE},
  {"tan", e_tan, HEBB_BOTH, "T.tan(t [, opts])\n\ntan, radians." FLT_NOTE},
  {"tanh", e_tanh, HEBB_BOTH,
   "T.tanh(t [, opts])\n\nThe hyperbolic tangent elementwise." FLT_NOTE},
  {"sinh", e_sinh, HEBB_BOTH,
   "T.sinh(t [, opts])\n\nThe hyperbolic sine elementwise." FLT_NOTE},
  {"cosh", e_cosh, HEBB_BOTH,
   "T.cosh(t [, opts])\n\nThe hyperbolic cosine elementwise." FLT_NOTE},
  {"asin", e_asin, HEBB_BOTH,
   "T.asin(t [, opts])\n\nThe arc sine in radians (nan outside [-1, 1])."
   FLT_NOTE},
  {"acos", e_acos, HEBB_BOTH,
   "T.acos(t [, opts])\n\nThe arc cosine in radians (nan outside [-1, 1])."
   FLT_NOTE},
  {"atan", e_atan, HEBB_BOTH,
   "T.atan(t [, opts])\n\nThe arc tangent in radians." FLT_NOTE},
  {"sigmoid", e_sigmoid, HEBB_BOTH,
   "T.sigmoid(t [, opts])\n\nThe logistic function 1 / (1 + exp(-t)), "
   "computed without overflow for any t." FLT_NOTE},
  {"relu", e_relu, HEBB_BOTH,
   "T.relu(t [, opts])\n\nmax(t, 0) elementwise; NaN stays NaN." INT_NOTE},
  {"softplus", e_softplus, HEBB_BOTH,
   "T.softplus(t [, opts])\n\nlog(1 + exp(t)), computed as max(t, 0) + "
   "log1p(exp(-|t|)): no overflow for large t, accurate for very negative "
   "t." FLT_NOTE},
  {"floor", e_floor, HEBB_BOTH,
   "T.floor(t [, opts])\n\nRounds down elementwise; floats stay floats "
   "(use :astype'i64' for integers)." INT_NOTE},
  {"ceil", e_ceil, HEBB_BOTH,
   "T.ceil(t [, opts])\n\nRounds up elementwise; floats stay floats."
   INT_NOTE},
  {"round", e_round, HEBB_BOTH,
   "T.round(t [, opts])\n\nRounds to the nearest integer, halves to the "
   "even neighbour (0.5 -> 0, 1.5 -> 2, 2.5 -> 2), as NumPy and IEEE 754; "
   "floats stay floats." INT_NOTE},
  {"logical_not", e_logical_not, HEBB_BOTH,
   "T.logical_not(t [, opts])\n\nTrue where t is false (zero); a bool "
   "tensor." OUT_NOTE},
  {"reciprocal", e_reciprocal, HEBB_BOTH,
   "T.reciprocal(t [, opts])\n\n1 / t elementwise (inf at 0)." FLT_NOTE},
  {"square", e_square, HEBB_BOTH,
   "T.square(t [, opts])\n\nt * t elementwise." INT_NOTE},

  {"clamp", l_clamp, HEBB_BOTH,
   "T.clamp(t, lo, hi [, opts])\n\nEach element limited to [lo, hi]: "
   "min(max(t, lo), hi); either bound may be nil (no limit).  Integer "
   "tensors stay integer, with the bounds moved inward to integers "
   "(ceil(lo), floor(hi)).  NaN elements stay NaN; a NaN bound is an "
   "error." OUT_NOTE},
  {"where", l_where, HEBB_FN,
   "T.where(cond, a, b [, opts])\n\nElementwise a where cond is true (non-"
   "zero), b elsewhere; cond, a and b (tensors or numbers) broadcast "
   "together.  The result has the common dtype of a and b." OUT_NOTE},
  {"addcmul", l_addcmul, HEBB_BOTH,
   "T.addcmul(c, a, b [, opts])\n\nc + a * b elementwise in one pass over "
   "memory (no temporary for a * b), with the same bits as the two "
   "operations written out." BIN_NOTE},

  {"add_", e_add_, HEBB_METHOD,
   "t:add_(b)\n\nt = t + b in place; returns t.  b broadcasts to t's shape; "
   "an error if the result needs another dtype (i64 + 0.5 is f64)."},
  {"sub_", e_sub_, HEBB_METHOD,
   "t:sub_(b)\n\nt = t - b in place; returns t."},
  {"mul_", e_mul_, HEBB_METHOD,
   "t:mul_(b)\n\nt = t * b in place; returns t."},
  {"div_", e_div_, HEBB_METHOD,
   "t:div_(b)\n\nt = t / b in place; returns t (t must be a float tensor)."},
  {"pow_", e_pow_, HEBB_METHOD,
   "t:pow_(b)\n\nt = t ^ b in place; returns t (t must be a float tensor)."},
  {"clamp_", l_clamp_, HEBB_METHOD,
   "t:clamp_(lo, hi)\n\nLimits t to [lo, hi] in place (either may be nil); "
   "returns t."},
  {"neg_", e_neg_, HEBB_METHOD, INPLACE("neg", "negative")},
  {"abs_", e_abs_, HEBB_METHOD, INPLACE("abs", "absolute value")},
  {"sign_", e_sign_, HEBB_METHOD, INPLACE("sign", "sign")},
  {"exp_", e_exp_, HEBB_METHOD, INPLACE("exp", "exponential")},
  {"log_", e_log_, HEBB_METHOD, INPLACE("log", "natural logarithm")},
  {"log1p_", e_log1p_, HEBB_METHOD, INPLACE("log1p", "log(1 + t)")},
  {"expm1_", e_expm1_, HEBB_METHOD, INPLACE("expm1", "exp(t) - 1")},
  {"sqrt_", e_sqrt_, HEBB_METHOD, INPLACE("sqrt", "square root")},
  {"sin_", e_sin_, HEBB_METHOD, INPLACE("sin", "sine")},
  {"cos_", e_cos_, HEBB_METHOD, INPLACE("cos", "cosine")},
  {"tan_", e_tan_, HEBB_METHOD, INPLACE("tan", "tangent")},
  {"tanh_", e_tanh_, HEBB_METHOD, INPLACE("tanh", "hyperbolic tangent")},
  {"sinh_", e_sinh_, HEBB_METHOD, INPLACE("sinh", "hyperbolic sine")},
  {"cosh_", e_cosh_, HEBB_METHOD, INPLACE("cosh", "hyperbolic cosine")},
  {"asin_", e_asin_, HEBB_METHOD, INPLACE("asin", "arc sine")},
  {"acos_", e_acos_, HEBB_METHOD, INPLACE("acos", "arc cosine")},
  {"atan_", e_atan_, HEBB_METHOD, INPLACE("atan", "arc tangent")},
  {"sigmoid_", e_sigmoid_, HEBB_METHOD, INPLACE("sigmoid", "sigmoid")},
  {"relu_", e_relu_, HEBB_METHOD, INPLACE("relu", "max(t, 0)")},
  {"softplus_", e_softplus_, HEBB_METHOD, INPLACE("softplus", "softplus")},
  {"floor_", e_floor_, HEBB_METHOD, INPLACE("floor", "floor")},
  {"ceil_", e_ceil_, HEBB_METHOD, INPLACE("ceil", "ceiling")},
  {"round_", e_round_, HEBB_METHOD,
   INPLACE("round", "nearest integer (halves to even)")},
  {"logical_not_", e_logical_not_, HEBB_METHOD,
   INPLACE("logical_not", "negation (t must be a bool tensor)")},
  {"reciprocal_", e_reciprocal_, HEBB_METHOD,
   INPLACE("reciprocal", "reciprocal 1/t")},
  {"square_", e_square_, HEBB_METHOD, INPLACE("square", "square")},

  {"__add", e_add, HEBB_META, NULL},
  {"__sub", e_sub, HEBB_META, NULL},
  {"__mul", e_mul, HEBB_META, NULL},
  {"__div", e_div, HEBB_META, NULL},
  {"__mod", e_mod, HEBB_META, NULL},
  {"__idiv", e_idiv, HEBB_META, NULL},
  {"__pow", e_pow, HEBB_META, NULL},
  {"__unm", l_unm, HEBB_META, NULL},
  {NULL, NULL, 0, NULL}
};

void hebbL_open_arith(lua_State *L, int module, int methods, int mt) {
  hebbL_register(L, arith_funcs, module, methods, mt);
}
