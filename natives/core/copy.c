/*
** copy.c -- copies with broadcasting and dtype conversion, fill, clone,
** contiguous, astype.  Real values convert to complex ones (imaginary part
** 0); complex to real is refused, since it would silently drop the
** imaginary part (real(), imag() and abs() say which number is wanted).
*/
#include <string.h>

#include "core.h"

/* One inner loop per (destination, source) dtype pair. */
#define CONVERT_LOOP(NAME, TD, TS, EXPR)                                      \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ud) {         \
    char *d = p[0];                                                           \
    const char *a = p[1];                                                     \
    int64_t i;                                                                \
    (void)ud;                                                                 \
    if (s[0] == sizeof(TD) && s[1] == sizeof(TS)) {                           \
      TD *restrict dd = (TD *)d;                                              \
      const TS *restrict aa = (const TS *)a;                                  \
      for (i = 0; i < n; i++) { TS x = aa[i]; dd[i] = (EXPR); }               \
    } else if (s[0] == sizeof(TD) && s[1] == 0) {   /* fill */                \
      TD *restrict dd = (TD *)d;                                              \
      TS x = *(const TS *)a;                                                  \
      TD y = (EXPR);                                                          \
      for (i = 0; i < n; i++) dd[i] = y;                                      \
    } else {                                                                  \
      for (i = 0; i < n; i++, d += s[0], a += s[1]) {                         \
        TS x = *(const TS *)a; *(TD *)d = (EXPR);                             \
      }                                                                       \
    }                                                                         \
  }

CONVERT_LOOP(cv_f64_f64, double, double, x)
CONVERT_LOOP(cv_f64_f32, double, float, (double)x)
CONVERT_LOOP(cv_f64_i64, double, int64_t, (double)x)
CONVERT_LOOP(cv_f64_bool, double, bool, (double)x)
CONVERT_LOOP(cv_f32_f64, float, double, (float)x)
CONVERT_LOOP(cv_f32_f32, float, float, x)
CONVERT_LOOP(cv_f32_i64, float, int64_t, (float)x)
CONVERT_LOOP(cv_f32_bool, float, bool, (float)x)
CONVERT_LOOP(cv_i64_f64, int64_t, double, hebb_f2i(x))
CONVERT_LOOP(cv_i64_f32, int64_t, float, hebb_f2i(x))
CONVERT_LOOP(cv_i64_i64, int64_t, int64_t, x)
CONVERT_LOOP(cv_i64_bool, int64_t, bool, (int64_t)x)
CONVERT_LOOP(cv_bool_f64, bool, double, x != 0)
CONVERT_LOOP(cv_bool_f32, bool, float, x != 0)
CONVERT_LOOP(cv_bool_i64, bool, int64_t, x != 0)
CONVERT_LOOP(cv_bool_bool, bool, bool, x)

typedef double _Complex c128;
typedef float _Complex c64;
CONVERT_LOOP(cv_c128_f64, c128, double, x)
CONVERT_LOOP(cv_c128_f32, c128, float, (double)x)
CONVERT_LOOP(cv_c128_i64, c128, int64_t, (double)x)
CONVERT_LOOP(cv_c128_bool, c128, bool, (double)x)
CONVERT_LOOP(cv_c128_c128, c128, c128, x)
CONVERT_LOOP(cv_c128_c64, c128, c64, (c128)x)
CONVERT_LOOP(cv_c64_f64, c64, double, (float)x)
CONVERT_LOOP(cv_c64_f32, c64, float, x)
CONVERT_LOOP(cv_c64_i64, c64, int64_t, (float)x)
CONVERT_LOOP(cv_c64_bool, c64, bool, (float)x)
CONVERT_LOOP(cv_c64_c128, c64, c128, (c64)x)
CONVERT_LOOP(cv_c64_c64, c64, c64, x)

/* [destination][source], in hebb_dtype order; NULL: complex to real,
   refused before any loop runs */
static const hebb_inner_fn convert[HEBB_NDTYPES][HEBB_NDTYPES] = {
  {cv_f64_f64, cv_f64_f32, cv_f64_i64, cv_f64_bool, NULL, NULL},
  {cv_f32_f64, cv_f32_f32, cv_f32_i64, cv_f32_bool, NULL, NULL},
  {cv_i64_f64, cv_i64_f32, cv_i64_i64, cv_i64_bool, NULL, NULL},
  {cv_bool_f64, cv_bool_f32, cv_bool_i64, cv_bool_bool, NULL, NULL},
  {cv_c128_f64, cv_c128_f32, cv_c128_i64, cv_c128_bool, cv_c128_c128,
   cv_c128_c64},
  {cv_c64_f64, cv_c64_f32, cv_c64_i64, cv_c64_bool, cv_c64_c128, cv_c64_c64},
};

/* Whether src's elements can be converted to dtype; fails naming 'who'. */
static int check_convert(int dtype, int src, const char *who) {
  if (hebb_check_dtype_any(dtype, who) || hebb_check_dtype_any(src, who))
    return hebb_last_status();
  if (!convert[dtype][src])
    return hebb_fail(HEBB_ERR_DTYPE, "%s: cannot convert %s to %s without "
                     "dropping the imaginary part; use real() or abs()", who,
                     hebb_dtype_name(src), hebb_dtype_name(dtype));
  return HEBB_OK;
}

/* The conversion loop, once check_convert has passed. */
static int convert_run(hebb_tensor *dst, const hebb_tensor *src) {
  hebb_loop lp;
  hebb_tensor *ops[2] = {dst, (hebb_tensor *)src};
  hebb_loop_init(&lp, 2, ops, dst->ndim, dst->shape);
  return hebb_loop_run(&lp, convert[dst->dtype][src->dtype], NULL, 1);
}

/* Copies src into dst elementwise; shapes must already agree. */
int hebb_convert_into(hebb_tensor *dst, const hebb_tensor *src) {
  if (check_convert(dst->dtype, src->dtype, "copy")) return hebb_last_status();
  return convert_run(dst, src);
}

/* Whether src broadcasts to exactly dst's shape. */
static int fits(const hebb_tensor *dst, const hebb_tensor *src) {
  int lead = dst->ndim - src->ndim, i;
  if (lead < 0) return 0;
  for (i = 0; i < src->ndim; i++)
    if (src->shape[i] != 1 && src->shape[i] != dst->shape[lead + i]) return 0;
  return 1;
}

/* Copies src into dst.  A source that overlaps dst (other than as the very
   same view) is read from a snapshot: the loop would otherwise read
   elements it has already overwritten, as memcpy does where memmove is
   needed. */
static int copy_into(hebb_tensor *dst, const hebb_tensor *src,
                     const char *who) {
  hebb_tensor *snap = NULL;
  int st;
  if (check_convert(dst->dtype, src->dtype, who)) return hebb_last_status();
  if (!fits(dst, src)) {
    char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
    return hebb_fail(HEBB_ERR_SHAPE, "%s: source of shape %s does not fit "
                     "destination of shape %s", who,
                     hebb_shape_str(src->ndim, src->shape, b1, sizeof b1),
                     hebb_shape_str(dst->ndim, dst->shape, b2, sizeof b2));
  }
  if (hebb_check_writable(dst, who)) return hebb_last_status();
  if (hebb_may_overlap(dst, src) && !hebb_same_view(dst, src)) {
    snap = hebb_clone(src);
    if (!snap) return hebb_last_status();
    src = snap;
  }
  hebb_bump_version(dst);
  st = convert_run(dst, src);
  hebb_release(snap);
  return st;
}

int hebb_copy(hebb_tensor *dst, const hebb_tensor *src) {
  return copy_into(dst, src, "copy");
}

/* Copies one value of 'dtype' at v into every element of t, as a 0-d
   tensor on the stack that broadcasts. */
static int fill_with(hebb_tensor *t, int dtype, void *v) {
  hebb_tensor s;
  memset(&s, 0, sizeof s);
  s.dtype = dtype;
  s.data = v;
  s.refcount = 1;
  return copy_into(t, &s, "fill");
}

int hebb_fill(hebb_tensor *t, double value) {
  if (t->dtype == HEBB_I64 && (value != value || value >= 9.3e18 || value <= -9.3e18))
    return hebb_fail(HEBB_ERR_ARG, "fill: %g does not fit in i64", value);
  return fill_with(t, HEBB_F64, &value);
}

int hebb_fill_i64(hebb_tensor *t, int64_t value) {
  return fill_with(t, HEBB_I64, &value);
}

hebb_tensor *hebb_astype(const hebb_tensor *t, int dtype) {
  hebb_tensor *r;
  if (check_convert(dtype, t->dtype, "astype")) return NULL;
  r = hebb_empty(dtype, t->ndim, t->shape);
  if (r && convert_run(r, t) != HEBB_OK) {
    hebb_release(r);
    return NULL;
  }
  return r;
}

hebb_tensor *hebb_clone(const hebb_tensor *t) {
  return hebb_astype(t, t->dtype);
}

hebb_tensor *hebb_contiguous(hebb_tensor *t) {
  if (hebb_is_contiguous(t)) {
    hebb_retain(t);
    return t;
  }
  return hebb_clone(t);
}
