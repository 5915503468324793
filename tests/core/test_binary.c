/* test_binary.c -- the elementwise core (ewise.c, unary.c, binary.c,
   ternary.c) without Lua: dtype rules with weak scalars, strided and
   negative-stride operands, aliasing, failure leaves no result and no
   written element, temporaries are freed, interrupts, and identical bits
   at 1 and 2 threads. */
#define SUITE "binary"
#include <math.h>
#include <string.h>

#include "check.h"
#include "core.h"

static hebb_tensor *vec(int dtype, int64_t n, const double *v) {
  hebb_tensor *t = hebb_empty(dtype, 1, &n);
  int64_t i;
  for (i = 0; i < n; i++) hebb_set(t, &i, v[i]);
  return t;
}

static double at(const hebb_tensor *t, int64_t i, int64_t j) {
  int64_t idx[2] = {i, j};
  double v = -12345;
  hebb_get(t, idx, &v);
  return v;
}

/* a 0-d weak scalar over 'num', as the Lua binding makes for a number */
static void weak(hebb_tensor *s, int dtype, void *num) {
  memset(s, 0, sizeof *s);
  s->dtype = dtype;
  s->flags = HEBB_TF_WEAK;
  s->refcount = 1;
  s->data = num;
}

static void test_dtype_rules(void) {
  int64_t n = 2;
  hebb_tensor *i = hebb_zeros(HEBB_I64, 1, &n), *f = hebb_zeros(HEBB_F32, 1, &n);
  hebb_tensor *b = hebb_zeros(HEBB_BOOL, 1, &n), *d = hebb_zeros(HEBB_F64, 1, &n);
  hebb_tensor wi, wf, wb;
  int64_t one = 1;
  double half = 0.5;
  bool yes = true;
  weak(&wi, HEBB_I64, &one);
  weak(&wf, HEBB_F64, &half);
  weak(&wb, HEBB_BOOL, &yes);
  CHECK("strong_promotion", hebb_binop_dtype(HEBB_ADD, i, f) == HEBB_F32 &&
        hebb_binop_dtype(HEBB_ADD, f, d) == HEBB_F64 &&
        hebb_binop_dtype(HEBB_ADD, b, b) == HEBB_I64 &&
        hebb_binop_dtype(HEBB_MAX, b, b) == HEBB_BOOL);
  CHECK("weak_int_does_not_widen", hebb_binop_dtype(HEBB_ADD, f, &wi) == HEBB_F32 &&
        hebb_binop_dtype(HEBB_SUB, &wi, i) == HEBB_I64);
  CHECK("weak_float_keeps_f32", hebb_binop_dtype(HEBB_MUL, f, &wf) == HEBB_F32);
  CHECK("weak_float_makes_int_f64", hebb_binop_dtype(HEBB_ADD, i, &wf) == HEBB_F64 &&
        hebb_binop_dtype(HEBB_ADD, &wf, b) == HEBB_F64);
  CHECK("weak_int_makes_bool_i64", hebb_binop_dtype(HEBB_ADD, b, &wi) == HEBB_I64 &&
        hebb_binop_dtype(HEBB_MIN, b, &wi) == HEBB_I64);
  CHECK("weak_bool", hebb_binop_dtype(HEBB_MAX, b, &wb) == HEBB_BOOL &&
        hebb_binop_dtype(HEBB_ADD, f, &wb) == HEBB_F32);
  CHECK("two_weak", hebb_binop_dtype(HEBB_ADD, &wi, &wf) == HEBB_F64);
  CHECK("div_pow_atan2_float", hebb_binop_dtype(HEBB_DIV, i, i) == HEBB_F64 &&
        hebb_binop_dtype(HEBB_POW, f, &wi) == HEBB_F32 &&
        hebb_binop_dtype(HEBB_ATAN2, b, b) == HEBB_F64);
  CHECK("comparisons_logic_bool", hebb_binop_dtype(HEBB_LT, f, d) == HEBB_BOOL &&
        hebb_binop_dtype(HEBB_XOR, i, d) == HEBB_BOOL);
  CHECK("unary_rules", hebb_unop_dtype(HEBB_SQRT, HEBB_I64) == HEBB_F64 &&
        hebb_unop_dtype(HEBB_ABS, HEBB_I64) == HEBB_I64 &&
        hebb_unop_dtype(HEBB_NEG, HEBB_BOOL) == HEBB_I64 &&
        hebb_unop_dtype(HEBB_EXP, HEBB_F32) == HEBB_F32 &&
        hebb_unop_dtype(HEBB_LOGICAL_NOT, HEBB_F64) == HEBB_BOOL &&
        hebb_unop_dtype(HEBB_NUNOPS, HEBB_F64) == -1);
  hebb_release(i); hebb_release(f); hebb_release(b); hebb_release(d);
}

/* Strides the Lua layer cannot make yet: a reversed vector (stride -1) and
   a transposed matrix, as hand-made headers over hebb_empty buffers. */
static void test_strided_headers(void) {
  double v[6] = {1, 2, 3, 4, 5, 6};
  hebb_tensor *a = vec(HEBB_F64, 6, v), rev, tr, *r = NULL;
  int64_t shape[2] = {3, 2};
  int k, ok = 1;
  rev = *a;
  rev.offset = 5;
  rev.stride[0] = -1;
  CHECK("reversed_add", hebb_binary(HEBB_ADD, a, &rev, &r) == HEBB_OK &&
        hebb_is_contiguous(r));
  for (k = 0; k < 6; k++) ok &= at(r, k, 0) == 7;
  CHECK("reversed_values", ok);
  hebb_release(r);
  r = NULL;
  CHECK("reversed_unary", hebb_unary(HEBB_NEG, &rev, &r) == HEBB_OK &&
        at(r, 0, 0) == -6 && at(r, 5, 0) == -1);
  hebb_release(r);
  /* a viewed as {2,3}, transposed to {3,2}: element (i,j) = a[j*3 + i] */
  tr = *a;
  tr.ndim = 2;
  tr.shape[0] = 3; tr.shape[1] = 2;
  tr.stride[0] = 1; tr.stride[1] = 3;
  r = NULL;
  CHECK("transposed_mul", hebb_binary(HEBB_MUL, &tr, &tr, &r) == HEBB_OK &&
        r->ndim == 2 && r->shape[0] == 3 && at(r, 0, 1) == 16 &&
        at(r, 2, 0) == 9 && at(r, 2, 1) == 36);
  hebb_release(r);
  /* out itself strided: tr + 0 written through a view of r reversed in
     both dims, so r(p,q) = tr(2-p, 1-q) */
  r = hebb_zeros(HEBB_F64, 2, shape);
  {
    hebb_tensor rr = *r, *o = &rr, zero;
    double z = 0;
    weak(&zero, HEBB_F64, &z);
    rr.offset = 5;
    rr.stride[0] = -2;
    rr.stride[1] = -1;
    CHECK("strided_out", hebb_binary(HEBB_ADD, &tr, &zero, &o) == HEBB_OK &&
          o == &rr && at(r, 0, 0) == 6 && at(r, 1, 0) == 5 &&
          at(r, 2, 1) == 1 && at(r, 0, 1) == 3);
  }
  hebb_release(r);
  hebb_release(a);
}

static int same_value(double x, double y) {
  return x == y || (x != x && y != y);
}

/* r equals the result of the general loop: out written through a stride-2
   view of a bigger buffer never takes the small path nor the contiguous
   branches of the kernels.  y NULL: op is a unary operation. */
static int agrees(int op, const hebb_tensor *x, const hebb_tensor *y,
                  const hebb_tensor *r) {
  int64_t n = hebb_numel(r), n2 = 2 * n, i;
  hebb_tensor *buf = hebb_empty(r->dtype, 1, &n2), view, *o = &view;
  int ok = 1;
  view = *buf;
  view.ndim = r->ndim;
  view.shape[0] = n;
  view.stride[0] = 2;
  if ((y ? hebb_binary(op, x, y, &o) : hebb_unary(op, x, &o)) != HEBB_OK)
    ok = 0;
  for (i = 0; ok && i < n; i++) {
    double u, v;
    int64_t j = 2 * i;
    hebb_get(buf, &j, &u);
    hebb_get(r, &i, &v);
    ok = same_value(u, v);
  }
  hebb_release(buf);
  return ok;
}

/* every operation and dtype pair: the small path (and the contiguous and
   scalar branches of the kernels) against the general strided loop */
static void test_paths_agree(void) {
  /* bv has no zero in any dtype: it is also an integer divisor */
  double av[6] = {-7, -2, 0, 3, 5.5, 9}, bv[6] = {2, -3, 1.5, -4, 7, -1};
  int dtypes[4] = {HEBB_F64, HEBB_F32, HEBB_I64, HEBB_BOOL};
  int op, i, j, bad = 0, runs = 0;
  for (op = 0; op < HEBB_NBINOPS; op++)
    for (i = 0; i < 4; i++)
      for (j = 0; j < 4; j++) {
        hebb_tensor *x = vec(dtypes[i], 6, av), *y = vec(dtypes[j], 6, bv);
        hebb_tensor *s = hebb_full(dtypes[j], 0, NULL, 2);
        hebb_tensor *r = NULL, *q = NULL, *p = NULL;
        if (hebb_binary(op, x, y, &r) != HEBB_OK || !agrees(op, x, y, r)) bad++;
        if (hebb_binary(op, x, s, &q) != HEBB_OK || !agrees(op, x, s, q)) bad++;
        if (hebb_binary(op, s, y, &p) != HEBB_OK || !agrees(op, s, y, p)) bad++;
        runs += 3;
        hebb_release(x); hebb_release(y); hebb_release(s);
        hebb_release(r); hebb_release(q); hebb_release(p);
      }
  for (op = 0; op < HEBB_NUNOPS; op++)
    for (i = 0; i < 4; i++) {
      hebb_tensor *x = vec(dtypes[i], 6, av), *r = NULL;
      if (hebb_unary(op, x, &r) != HEBB_OK || !agrees(op, x, NULL, r)) bad++;
      runs++;
      hebb_release(x);
      hebb_release(r);
    }
  CHECK("paths_agree", bad == 0 &&
        runs == HEBB_NBINOPS * 48 + HEBB_NUNOPS * 4);
  if (bad) printf("  %d of %d disagree\n", bad, runs);
}

/* hebb_as_strided views (view.c) go through the same loops */
static void test_as_strided(void) {
  double v[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  hebb_tensor *a = vec(HEBB_F64, 12, v), *r = NULL;
  int64_t shape[2] = {2, 2}, stride[2] = {6, 3}, n4 = 4, s3 = 3;
  hebb_tensor *corners = hebb_as_strided(a, 2, shape, stride, 1);   /* 1 4; 7 10 */
  hebb_tensor *every3 = hebb_as_strided(a, 1, &n4, &s3, 0);         /* 0 3 6 9 */
  hebb_tensor *odd = hebb_as_strided(a, 1, &n4, &s3, 1);            /* 1 4 7 10 */
  CHECK("as_strided_made", corners && every3 && odd);
  if (!corners || !every3 || !odd) return;
  CHECK("as_strided_square", hebb_unary(HEBB_SQUARE, corners, &r) == HEBB_OK &&
        at(r, 0, 0) == 1 && at(r, 0, 1) == 16 && at(r, 1, 0) == 49 &&
        at(r, 1, 1) == 100);
  hebb_release(r);
  r = NULL;
  CHECK("as_strided_where_shapes", hebb_where(every3, every3, corners, &r) ==
        HEBB_ERR_SHAPE && !r);
  CHECK("as_strided_where", hebb_where(every3, odd, every3, &r)
        == HEBB_OK && at(r, 0, 0) == 0 && at(r, 1, 0) == 4 && at(r, 3, 0) == 10);
  hebb_release(r);
  r = NULL;
  CHECK("as_strided_addcmul", hebb_addcmul(every3, odd, every3, &r) == HEBB_OK &&
        at(r, 0, 0) == 0 && at(r, 1, 0) == 15 && at(r, 2, 0) == 48 &&
        at(r, 3, 0) == 99);
  hebb_release(r);
  hebb_release(odd);
  hebb_release(every3);
  hebb_release(corners);
  hebb_release(a);
}

/* Failures leave no result behind (*out stays NULL) and write nothing into
   a given out. */
static void test_failures(void) {
  double v[3] = {1, 2, 3}, w[2] = {1, 2};
  int64_t iv_n = 3;
  hebb_tensor *a = vec(HEBB_F64, 3, v), *b = vec(HEBB_F64, 2, w), *r = NULL;
  hebb_tensor *iz = hebb_zeros(HEBB_I64, 1, &iv_n), *io = hebb_full(HEBB_I64, 1, &iv_n, 5);
  hebb_tensor cx;
  CHECK("bad_op", hebb_binary(HEBB_NBINOPS, a, a, &r) == HEBB_ERR_ARG && !r &&
        strstr(hebb_last_error(), "invalid operation"));
  CHECK("bad_unop", hebb_unary(-1, a, &r) == HEBB_ERR_ARG && !r);
  CHECK("no_broadcast", hebb_binary(HEBB_SUB, a, b, &r) == HEBB_ERR_SHAPE && !r &&
        strstr(hebb_last_error(),
               "sub: shapes {3} and {2} do not broadcast (dim 1: 3 vs 2)"));
  CHECK("idiv_zero", hebb_binary(HEBB_IDIV, io, iz, &r) == HEBB_ERR_ARG && !r &&
        strstr(hebb_last_error(), "idiv: attempt to divide by zero"));
  CHECK("mod_zero_into_out", hebb_binary(HEBB_MOD, io, iz, &io) == HEBB_ERR_ARG &&
        strstr(hebb_last_error(), "mod: attempt to perform 'n%%0'") &&
        at(io, 2, 0) == 5);
  cx = *a;
  cx.dtype = HEBB_C128;
  /* refused before any element is read (cx's data is too short for c128) */
  CHECK("complex_refused", hebb_binary(HEBB_LT, a, &cx, &r) == HEBB_ERR_DTYPE &&
        !r && strstr(hebb_last_error(),
                     "lt: not defined for complex numbers (dtype c128)"));
  CHECK("complex_refused_unary", hebb_unary(HEBB_FLOOR, &cx, &r) ==
        HEBB_ERR_DTYPE && !r &&
        strstr(hebb_last_error(), "floor: dtype c128 is not supported yet"));
  CHECK("out_wrong_dtype", hebb_binary(HEBB_LT, a, a, &a) == HEBB_ERR_DTYPE &&
        strstr(hebb_last_error(), "lt: out has dtype f64, result is bool"));
  CHECK("clamp_nan", hebb_clamp(a, NAN, 1, &r) == HEBB_ERR_ARG && !r);
  hebb_release(a); hebb_release(b); hebb_release(iz); hebb_release(io);
}

/* aliasing: in place on either operand, through the small and the general
   path (a broadcast makes the general one) */
static void test_aliasing(void) {
  double v[4] = {1, 2, 3, 4};
  int64_t shape[2] = {2, 2}, one[2] = {1, 2};
  hebb_tensor *a = vec(HEBB_F64, 4, v), *b = vec(HEBB_F64, 4, v), *m, *row;
  CHECK("inplace_a", hebb_binary(HEBB_ADD, a, b, &a) == HEBB_OK &&
        at(a, 3, 0) == 8 && hebb_version_counter(a) > 0);
  CHECK("inplace_b", hebb_binary(HEBB_SUB, a, b, &b) == HEBB_OK &&
        at(b, 3, 0) == 4 && at(b, 0, 0) == 1);
  CHECK("inplace_self", hebb_binary(HEBB_MUL, a, a, &a) == HEBB_OK &&
        at(a, 1, 0) == 16);
  m = hebb_full(HEBB_F64, 2, shape, 1);
  row = hebb_full(HEBB_F64, 2, one, 10);
  CHECK("inplace_broadcast", hebb_binary(HEBB_ADD, m, row, &m) == HEBB_OK &&
        at(m, 1, 1) == 11 && at(m, 0, 0) == 11);
  hebb_release(a); hebb_release(b); hebb_release(m); hebb_release(row);
}

/* mixed dtypes convert through temporaries, which are released */
static void test_temporaries(void) {
  int64_t n = 100000;
  hebb_alloc_stats before, after;
  hebb_tensor *i = hebb_arange(HEBB_I64, 0, 1, n), *f = hebb_full(HEBB_F32, 1, &n, 0.5f);
  hebb_tensor *r = NULL, *u = NULL;
  hebb_alloc_get_stats(&before);
  CHECK("mixed_add", hebb_binary(HEBB_ADD, i, f, &r) == HEBB_OK &&
        r->dtype == HEBB_F32 && at(r, n - 1, 0) == n - 0.5);
  CHECK("int_sqrt_f64", hebb_unary(HEBB_SQRT, i, &u) == HEBB_OK &&
        u->dtype == HEBB_F64 && at(u, 49, 0) == 7);
  hebb_release(r);
  hebb_release(u);
  hebb_alloc_get_stats(&after);
  CHECK("temporaries_freed", after.bytes_in_use == before.bytes_in_use);
  hebb_release(i); hebb_release(f);
}

static void test_interrupt(void) {
  int64_t n = 1 << 22;
  hebb_tensor *a = hebb_full(HEBB_F64, 1, &n, 1.0), *r = NULL;
  hebb_interrupt();
  CHECK("interrupted", hebb_unary(HEBB_EXP, a, &r) == HEBB_ERR_INTERRUPTED && !r);
  hebb_clear_interrupt();
  CHECK("after_interrupt", hebb_unary(HEBB_EXP, a, &r) == HEBB_OK);
  hebb_release(r);
  hebb_release(a);
}

static void test_threads(void) {
  int64_t n = 1000000;
  hebb_tensor *x = hebb_linspace(HEBB_F64, -30, 30, n), *y = hebb_linspace(HEBB_F32, 5, -5, n);
  hebb_tensor *r1 = NULL, *r2 = NULL, *s1 = NULL, *s2 = NULL, *t1 = NULL, *t2 = NULL;
  int old = hebb_get_num_threads();
  hebb_set_num_threads(1);
  hebb_unary(HEBB_SIGMOID, x, &r1);
  hebb_binary(HEBB_POW, y, x, &s1);
  hebb_addcmul(x, y, x, &t1);
  hebb_set_num_threads(2);
  hebb_unary(HEBB_SIGMOID, x, &r2);
  hebb_binary(HEBB_POW, y, x, &s2);
  hebb_addcmul(x, y, x, &t2);
  hebb_set_num_threads(old);
  CHECK("threads_same_bits", r1 && r2 && s1 && s2 && t1 && t2 &&
        memcmp(r1->data, r2->data, (size_t)n * 8) == 0 &&
        memcmp(s1->data, s2->data, (size_t)n * 8) == 0 &&
        memcmp(t1->data, t2->data, (size_t)n * 8) == 0);
  hebb_release(r1); hebb_release(r2); hebb_release(s1); hebb_release(s2);
  hebb_release(t1); hebb_release(t2); hebb_release(x); hebb_release(y);
}

int main(void) {
  test_dtype_rules();
  test_strided_headers();
  test_paths_agree();
  test_as_strided();
  test_failures();
  test_aliasing();
  test_temporaries();
  test_interrupt();
  test_threads();
  return check_done();
}
