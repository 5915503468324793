/*
** ternary.c -- elementwise operations with three inputs or with bounds:
** where (select by a condition), addcmul (c + a*b in one pass) and clamp.
*/
#include <math.h>

#include "core.h"

/* --- clamp ------------------------------------------------------------- */

/* the bounds in each compute dtype */
typedef struct bounds {
  double lo, hi;
  float flo, fhi;
  int64_t ilo, ihi;
} bounds;

/* min(max(x, lo), hi), as NumPy: lo > hi gives hi everywhere.  NaN stays
   NaN (both comparisons are false). */
#define CLAMP(NAME, T, LO, HI)                                              \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ud) {       \
    const bounds *b = ud;                                                   \
    const T lo = b->LO, hi = b->HI;                                         \
    int64_t i;                                                              \
    if (s[0] == sizeof(T) && s[1] == sizeof(T)) {                           \
      T *o = (T *)p[0];                                                     \
      const T *a = (const T *)p[1];                                         \
      for (i = 0; i < n; i++) {                                             \
        T y = a[i] < lo ? lo : a[i];                                        \
        o[i] = y > hi ? hi : y;                                             \
      }                                                                     \
    }                                                                       \
    else {                                                                  \
      char *po = p[0];                                                      \
      const char *pa = p[1];                                                \
      for (i = 0; i < n; i++, po += s[0], pa += s[1]) {                     \
        T y = *(const T *)pa < lo ? lo : *(const T *)pa;                    \
        *(T *)po = y > hi ? hi : y;                                         \
      }                                                                     \
    }                                                                       \
  }

CLAMP(clamp_f64, double, lo, hi)
CLAMP(clamp_f32, float, flo, fhi)
CLAMP(clamp_i64, int64_t, ilo, ihi)

static const hebb_inner_fn clamp_kernels[3] = {clamp_f64, clamp_f32,
                                               clamp_i64};

/* Integer tensors stay integer: the bounds move inward to the nearest
   integers (ceil(lo), floor(hi)), the integers the real interval holds. */
int hebb_clamp(const hebb_tensor *a, double lo, double hi, hebb_tensor **out) {
  bounds b;
  int ct, made = *out == NULL, st;
  hebb_cast ca;
  if (hebb_check_dtype(a->dtype, "clamp")) return hebb_last_status();
  if (lo != lo || hi != hi)
    return hebb_fail(HEBB_ERR_ARG, "clamp: bound is NaN (lo %g, hi %g)",
                     lo, hi);
  b.lo = lo;
  b.hi = hi;
  b.flo = (float)lo;
  b.fhi = (float)hi;
  b.ilo = hebb_f2i(ceil(lo));
  b.ihi = hebb_f2i(floor(hi));
  ct = hebb_unop_dtype(HEBB_RELU, a->dtype);   /* relu is a clamp too */
  if (hebb_cast_init(&ca, a, ct)) return hebb_last_status();
  st = hebb_prepare_out(out, ct, a->ndim, a->shape, "clamp");
  if (st == HEBB_OK) {
    hebb_tensor *ops[2] = {*out, ca.t};
    st = hebb_ewise_run(2, ops, a->ndim, a->shape, clamp_kernels[ct], &b, 1);
  }
  hebb_cast_free(&ca);
  return hebb_ewise_end(out, made, st);
}

/* --- where ------------------------------------------------------------- */

/* Selection moves bits, so one kernel per element size serves all dtypes. */
#define WHERE(NAME, T)                                                      \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ud) {       \
    int64_t i;                                                              \
    (void)ud;                                                               \
    if (s[0] == sizeof(T) && s[1] == 1 && s[2] == sizeof(T) &&              \
        s[3] == sizeof(T)) {                                                \
      T *o = (T *)p[0];                                                     \
      const bool *c = (const bool *)p[1];                                   \
      const T *x = (const T *)p[2], *y = (const T *)p[3];                   \
      for (i = 0; i < n; i++) o[i] = c[i] ? x[i] : y[i];                    \
    }                                                                       \
    else {                                                                  \
      char *po = p[0];                                                      \
      const char *pc = p[1], *px = p[2], *py = p[3];                        \
      for (i = 0; i < n; i++, po += s[0], pc += s[1], px += s[2],           \
           py += s[3])                                                      \
        *(T *)po = *(const bool *)pc ? *(const T *)px : *(const T *)py;     \
    }                                                                       \
  }

/* a c128 element, copied as 16 bytes */
typedef struct bits16 { uint64_t w[2]; } bits16;

WHERE(where_16, bits16)
WHERE(where_8, uint64_t)
WHERE(where_4, uint32_t)
WHERE(where_1, uint8_t)

/* the shape three operands broadcast to */
static int broadcast3(const hebb_tensor *a, const hebb_tensor *b,
                      const hebb_tensor *c, int *nd, int64_t *shape,
                      const char *who) {
  int n;
  int64_t s[HEBB_MAXDIM];
  if (hebb_broadcast_shape(a->ndim, a->shape, b->ndim, b->shape, &n, s, who))
    return hebb_last_status();
  return hebb_broadcast_shape(n, s, c->ndim, c->shape, nd, shape, who);
}

/* Runs a kernel of four operands (out, x, y, z) with x, y, z seen in dtypes
   dx, dy, dz and a result of dtype rt. */
static int run3(const char *who, hebb_inner_fn fn, int64_t cost, int rt,
                const hebb_tensor *x, int dx, const hebb_tensor *y, int dy,
                const hebb_tensor *z, int dz, hebb_tensor **out) {
  const hebb_tensor *in[3] = {x, y, z};
  const int dt[3] = {dx, dy, dz};
  hebb_cast c[3];
  int nd, made = *out == NULL, st, k;
  int64_t shape[HEBB_MAXDIM];
  if (broadcast3(x, y, z, &nd, shape, who)) return hebb_last_status();
  for (k = 0; k < 3; k++) {
    st = hebb_cast_init(&c[k], in[k], dt[k]);
    if (st != HEBB_OK) {   /* free the ones already made */
      while (k-- > 0) hebb_cast_free(&c[k]);
      return st;
    }
  }
  st = hebb_prepare_out(out, rt, nd, shape, who);
  if (st == HEBB_OK) {
    hebb_tensor *ops[4] = {*out, c[0].t, c[1].t, c[2].t};
    st = hebb_ewise_run(4, ops, nd, shape, fn, NULL, cost);
  }
  for (k = 0; k < 3; k++) hebb_cast_free(&c[k]);
  return hebb_ewise_end(out, made, st);
}

/* The result has the common dtype of a and b (numbers are weak); cond is
   read as truth values (non-zero is true). */
int hebb_where(const hebb_tensor *cond, const hebb_tensor *a,
               const hebb_tensor *b, hebb_tensor **out) {
  const hebb_tensor *ab[2] = {a, b};
  int rt;
  hebb_inner_fn fn;
  if (hebb_check_dtype(cond->dtype, "where") ||   /* truth of complex: no */
      hebb_check_dtype_any(a->dtype, "where") ||
      hebb_check_dtype_any(b->dtype, "where"))
    return hebb_last_status();
  rt = hebb_weak_promote(2, ab);
  switch (hebb_dtype_size(rt)) {
    case 16: fn = where_16; break;
    case 8: fn = where_8; break;
    case 4: fn = where_4; break;
    default: fn = where_1; break;
  }
  return run3("where", fn, 1, rt, cond, HEBB_BOOL, a, rt, b, rt, out);
}

/* --- addcmul ----------------------------------------------------------- */

/* c + a*b, rounded twice like the two operations it fuses (no FMA), so it
   gives the same bits as c + a*b written out.  Layouts: all contiguous, and
   a scalar factor (p + lr*g). */
#define ADDCMUL(NAME, T, EXPR)                                              \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ud) {       \
    int64_t i;                                                              \
    (void)ud;                                                               \
    if (s[0] == sizeof(T) && s[1] == sizeof(T) && s[2] == sizeof(T) &&      \
        s[3] == sizeof(T)) {                                                \
      T *o = (T *)p[0];                                                     \
      const T *w = (const T *)p[1], *x = (const T *)p[2];                   \
      const T *y = (const T *)p[3];                                         \
      for (i = 0; i < n; i++) { T c = w[i], a = x[i], b = y[i];             \
                                o[i] = (EXPR); }                            \
    }                                                                       \
    else if (s[0] == sizeof(T) && s[1] == sizeof(T) && s[2] == 0 &&         \
             s[3] == sizeof(T)) {                                           \
      T *o = (T *)p[0];                                                     \
      const T *w = (const T *)p[1], *y = (const T *)p[3];                   \
      const T a = *(const T *)p[2];                                         \
      for (i = 0; i < n; i++) { T c = w[i], b = y[i]; o[i] = (EXPR); }      \
    }                                                                       \
    else {                                                                  \
      char *po = p[0];                                                      \
      const char *pw = p[1], *px = p[2], *py = p[3];                        \
      for (i = 0; i < n; i++, po += s[0], pw += s[1], px += s[2],           \
           py += s[3]) {                                                    \
        T c = *(const T *)pw, a = *(const T *)px, b = *(const T *)py;       \
        *(T *)po = (EXPR);                                                  \
      }                                                                     \
    }                                                                       \
  }

ADDCMUL(addcmul_f64, double, c + a * b)
ADDCMUL(addcmul_f32, float, c + a * b)
ADDCMUL(addcmul_i64, int64_t,
        (int64_t)((uint64_t)c + (uint64_t)a * (uint64_t)b))   /* wraps */

static const hebb_inner_fn addcmul_kernels[3] = {addcmul_f64, addcmul_f32,
                                                 addcmul_i64};

int hebb_addcmul(const hebb_tensor *c, const hebb_tensor *a,
                 const hebb_tensor *b, hebb_tensor **out) {
  const hebb_tensor *cab[3] = {c, a, b};
  int ct;
  if (hebb_check_dtype(c->dtype, "addcmul") ||
      hebb_check_dtype(a->dtype, "addcmul") ||
      hebb_check_dtype(b->dtype, "addcmul"))
    return hebb_last_status();
  ct = hebb_weak_promote(3, cab);
  if (ct == HEBB_BOOL) ct = HEBB_I64;   /* arithmetic on bools */
  return run3("addcmul", addcmul_kernels[ct], 2, ct, c, ct, a, ct, b, ct,
              out);
}
