/* test_reduce.c -- reductions, argreduce and scans in the core: the exact
   summation order (compared bit for bit with a plain re-implementation of
   the documented order), the same bits at 1 and 2 threads, across block
   boundaries and for strided inputs made with hand-built headers over
   hebb_empty buffers, accuracy against a Kahan sum, and the errors. */
#define SUITE "reduce"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core.h"

#define B HEBB_RED_BLOCK

/* The documented order, written as plainly as possible: element i of a
   block goes to lane i % 16 (lanes start from -0.0, the identity of +),
   the lanes fold by halves 8, 4, 2, 1 (lanes that got nothing skipped),
   and block results are added left to right. */
static double ref_sum(const double *e, int64_t n) {
  double tot = 0;
  int64_t b0, i;
  for (b0 = 0; b0 < n; b0 += B) {
    double l[16];
    int64_t len = n - b0 < B ? n - b0 : B;
    int used = len < 16 ? (int)len : 16, s, k;
    for (k = 0; k < 16; k++) l[k] = -0.0;
    for (i = 0; i < len; i++) l[i % 16] += e[b0 + i];
    for (s = 8; s >= 1; s /= 2) {
      for (k = 0; k < s && k + s < used; k++) l[k] += l[k + s];
      if (used > s) used = s;
    }
    tot = b0 == 0 ? l[0] : tot + l[0];
  }
  return tot;
}

/* a Kahan-Babuska sum, the accuracy reference */
static double kahan(const double *e, int64_t n) {
  double s = 0, c = 0;
  int64_t i;
  for (i = 0; i < n; i++) {
    double t = s + e[i];
    c += fabs(s) >= fabs(e[i]) ? (s - t) + e[i] : (e[i] - t) + s;
    s = t;
  }
  return s + c;
}

static hebb_tensor *randn(int ndim, const int64_t *shape, uint64_t seed) {
  hebb_tensor *t = hebb_empty(HEBB_F64, ndim, shape);
  hebb_rng g;
  hebb_rng_init(&g, seed, 0);
  hebb_rand_normal(&g, t, 0.5, 1.0);
  return t;
}

/* a header viewing base's buffer with the given shape, strides, offset */
static hebb_tensor view(const hebb_tensor *base, int ndim, const int64_t *shape,
                        const int64_t *stride, int64_t offset) {
  hebb_tensor h = *base;
  h.ndim = ndim;
  memcpy(h.shape, shape, (size_t)ndim * 8);
  memcpy(h.stride, stride, (size_t)ndim * 8);
  h.offset = offset;
  return h;
}

static double *f64(hebb_tensor *t) { return (double *)hebb_data_ptr(t); }

/* reduce at 1 and at 2 threads; whether the bits agree */
static int same_bits_threads(int op, const hebb_tensor *a, int ndims,
                             const int *dims) {
  hebb_tensor *r1 = NULL, *r2 = NULL;
  int ok;
  hebb_set_num_threads(1);
  ok = hebb_reduce(op, a, ndims, dims, false, 1, &r1) == HEBB_OK;
  hebb_set_num_threads(2);
  ok = ok && hebb_reduce(op, a, ndims, dims, false, 1, &r2) == HEBB_OK;
  ok = ok && memcmp(hebb_data_ptr(r1), hebb_data_ptr(r2),
                    (size_t)(hebb_numel(r1) * hebb_dtype_size(r1->dtype))) == 0;
  hebb_release(r1);
  hebb_release(r2);
  return ok;
}

static void test_order_and_threads(void) {
  int64_t n = 1000003, sizes[] = {1, 15, 16, 17, B - 1, B, B + 1, 2 * B + 17,
                                  100000};
  int64_t shp[1] = {n};
  hebb_tensor *a = randn(1, shp, 1);
  double s = 0, *x = f64(a);
  int ok = 1, k;
  for (k = 0; k < 9; k++) {   /* prefixes across block boundaries */
    hebb_tensor h = view(a, 1, &sizes[k], (int64_t[]){1}, 0);
    hebb_sum_all(&h, &s);
    if (s != ref_sum(x, sizes[k])) ok = 0;
  }
  CHECK("sum_follows_documented_order", ok);
  hebb_sum_all(a, &s);
  CHECK("sum_1e6_documented_order", s == ref_sum(x, n));
  CHECK("sum_1e6_near_kahan", fabs(s - kahan(x, n)) <= 1e-13 * n);
  CHECK("threads_sum", same_bits_threads(HEBB_SUM, a, 0, NULL));
  CHECK("threads_mean", same_bits_threads(HEBB_MEAN, a, 0, NULL));
  CHECK("threads_var", same_bits_threads(HEBB_VAR, a, 0, NULL));
  CHECK("threads_std", same_bits_threads(HEBB_STD, a, 0, NULL));
  CHECK("threads_norm2", same_bits_threads(HEBB_NORM2, a, 0, NULL));
  CHECK("threads_norm1", same_bits_threads(HEBB_NORM1, a, 0, NULL));
  CHECK("threads_logsumexp", same_bits_threads(HEBB_LOGSUMEXP, a, 0, NULL));
  CHECK("threads_max", same_bits_threads(HEBB_RMAX, a, 0, NULL));
  hebb_release(a);
}

/* a 3-d tensor reduced along each dim, contiguous and through views */
static void test_dims_layouts(void) {
  int64_t shp[3] = {37, 4111, 9}, i, j, k;
  hebb_tensor *a = randn(3, shp, 2), *r = NULL;
  double *x = f64(a), *e = malloc(sizeof(double) * 4111);
  int d, ok = 1;
  d = 0;
  CHECK("threads_dim1", same_bits_threads(HEBB_SUM, a, 1, &d));
  CHECK("threads_dim1_var", same_bits_threads(HEBB_VAR, a, 1, &d));
  d = 1;
  CHECK("threads_dim2", same_bits_threads(HEBB_SUM, a, 1, &d));
  CHECK("threads_dim2_logsumexp", same_bits_threads(HEBB_LOGSUMEXP, a, 1, &d));
  d = 2;
  CHECK("threads_dim3", same_bits_threads(HEBB_SUM, a, 1, &d));
  CHECK("threads_dim3_std", same_bits_threads(HEBB_STD, a, 1, &d));
  d = 1;   /* the middle dim: each result is a strided column of 4111 */
  hebb_reduce(HEBB_SUM, a, 1, &d, false, 0, &r);
  for (i = 0; i < 37; i++)
    for (k = 0; k < 9; k++) {
      for (j = 0; j < 4111; j++) e[j] = x[(i * 4111 + j) * 9 + k];
      if (f64(r)[i * 9 + k] != ref_sum(e, 4111)) ok = 0;
    }
  CHECK("middle_dim_documented_order", ok);
  hebb_release(r);
  r = NULL;
  d = 2;   /* the inner dim */
  hebb_reduce(HEBB_SUM, a, 1, &d, false, 0, &r);
  for (ok = 1, i = 0; i < 37 * 4111; i++)
    if (f64(r)[i] != ref_sum(x + i * 9, 9)) ok = 0;
  CHECK("inner_dim_documented_order", ok);
  hebb_release(r);
  r = NULL;
  d = 0;   /* the outer dim: whole rows into lane rows */
  hebb_reduce(HEBB_SUM, a, 1, &d, false, 0, &r);
  for (ok = 1, j = 0; j < 4111 * 9; j++) {
    for (i = 0; i < 37; i++) e[i] = x[i * 4111 * 9 + j];
    if (f64(r)[j] != ref_sum(e, 37)) ok = 0;
  }
  CHECK("outer_dim_documented_order", ok);
  hebb_release(r);
  free(e);
  hebb_release(a);
}

/* reduced dims that do not merge: blocks span several runs, in the row
   walk (dims 1 and 3) and in the column walk (a narrowed middle dim) */
static void test_multi_run(void) {
  int64_t shp[3] = {37, 4111, 9}, nshp[3] = {37, 4000, 9}, i, j, k;
  hebb_tensor *a = randn(3, shp, 6), *r = NULL;
  hebb_tensor nv = view(a, 3, nshp, (int64_t[]){4111 * 9, 9, 1}, 9 * 50);
  double *x = f64(a), *e = malloc(sizeof(double) * 37 * 4000);
  int dims[2] = {0, 2}, ok = 1;
  hebb_reduce(HEBB_SUM, a, 2, dims, false, 0, &r);
  for (j = 0; j < 4111; j++) {
    for (i = 0; i < 37; i++)
      for (k = 0; k < 9; k++) e[i * 9 + k] = x[(i * 4111 + j) * 9 + k];
    if (f64(r)[j] != ref_sum(e, 37 * 9)) ok = 0;
  }
  CHECK("dims_1_3_documented_order", ok);
  CHECK("threads_dims_1_3", same_bits_threads(HEBB_SUM, a, 2, dims));
  hebb_release(r);
  r = NULL;
  dims[1] = 1;
  hebb_reduce(HEBB_SUM, &nv, 2, dims, false, 0, &r);
  for (ok = 1, k = 0; k < 9; k++) {
    for (i = 0; i < 37; i++)
      for (j = 0; j < 4000; j++)
        e[i * 4000 + j] = x[(i * 4111 + j + 50) * 9 + k];
    if (f64(r)[k] != ref_sum(e, 37 * 4000)) ok = 0;
  }
  CHECK("narrowed_columns_documented_order", ok);
  CHECK("threads_narrowed_columns", same_bits_threads(HEBB_VAR, &nv, 2, dims));
  hebb_release(r);
  free(e);
  hebb_release(a);
}

/* sum along dim 1 of a matrix == sum along dim 2 of its transposed copy,
   and t:sum() == t:t():sum(): reductions do not depend on the layout */
static void test_layout_independence(void) {
  int64_t shp[2] = {5003, 301}, tshp[2] = {301, 5003}, i, j;
  hebb_tensor *a = randn(2, shp, 3), *c = hebb_empty(HEBB_F64, 2, tshp);
  hebb_tensor *r1 = NULL, *r2 = NULL;
  hebb_tensor at = view(a, 2, tshp, (int64_t[]){1, 301}, 0);
  double s1, s2;
  int d0 = 0, d1 = 1;
  for (i = 0; i < 301; i++)
    for (j = 0; j < 5003; j++) f64(c)[i * 5003 + j] = f64(a)[j * 301 + i];
  hebb_reduce(HEBB_SUM, a, 1, &d0, false, 0, &r1);
  hebb_reduce(HEBB_SUM, c, 1, &d1, false, 0, &r2);
  CHECK("columns_equal_rows_of_transpose",
        memcmp(f64(r1), f64(r2), 301 * 8) == 0);
  hebb_release(r2);
  r2 = NULL;
  hebb_reduce(HEBB_SUM, &at, 1, &d1, false, 0, &r2);   /* strided view */
  CHECK("transposed_view_rows", memcmp(f64(r1), f64(r2), 301 * 8) == 0);
  hebb_sum_all(a, &s1);
  hebb_sum_all(&at, &s2);
  CHECK("full_sum_of_transposed_view", s1 == s2);
  hebb_release(r1);
  hebb_release(r2);
  hebb_release(a);
  hebb_release(c);
}

/* strided and reversed 1-d views over one buffer */
static void test_strided(void) {
  int64_t shp[1] = {300001}, half[1] = {150001}, i;
  hebb_tensor *a = randn(1, shp, 4);
  hebb_tensor ev = view(a, 1, half, (int64_t[]){2}, 0);
  hebb_tensor rev = view(a, 1, shp, (int64_t[]){-1}, 300000);
  double *x = f64(a), *e = malloc(sizeof(double) * 300001), s;
  for (i = 0; i < 150001; i++) e[i] = x[2 * i];
  hebb_sum_all(&ev, &s);
  CHECK("stride_2_documented_order", s == ref_sum(e, 150001));
  for (i = 0; i < 300001; i++) e[i] = x[300000 - i];
  hebb_sum_all(&rev, &s);
  CHECK("reversed_documented_order", s == ref_sum(e, 300001));
  CHECK("threads_reversed", same_bits_threads(HEBB_SUM, &rev, 0, NULL));
  CHECK("threads_stride_2", same_bits_threads(HEBB_NORM2, &ev, 0, NULL));
  free(e);
  hebb_release(a);
}

/* short results: 5 strided elements each, results far apart (the row walk)
   and close together (the column walk gathering short columns) */
static void test_short(void) {
  int64_t shp[2] = {100, 1000}, far[2] = {100, 5}, near[2] = {1000, 7}, i, k;
  hebb_tensor *a = randn(2, shp, 7), *r = NULL;
  hebb_tensor fv = view(a, 2, far, (int64_t[]){1000, 2}, 3);
  hebb_tensor nv = view(a, 2, near, (int64_t[]){7, 1}, 0);
  double *x = f64(a), e[16];
  int d = 1, ok = 1;
  hebb_reduce(HEBB_SUM, &fv, 1, &d, false, 0, &r);
  for (i = 0; i < 100; i++) {
    for (k = 0; k < 5; k++) e[k] = x[i * 1000 + 3 + 2 * k];
    if (f64(r)[i] != ref_sum(e, 5)) ok = 0;
  }
  CHECK("short_rows_far_apart", ok);
  hebb_release(r);
  r = NULL;
  hebb_reduce(HEBB_SUM, &nv, 1, &d, false, 0, &r);
  for (ok = 1, i = 0; i < 1000; i++)
    if (f64(r)[i] != ref_sum(x + 7 * i, 7)) ok = 0;
  CHECK("short_rows_close_together", ok);
  hebb_release(r);
  hebb_release(a);
}

static void test_f32_and_ints(void) {
  int64_t n = 10000000, shp[1] = {3};
  hebb_tensor *a = hebb_arange(HEBB_F32, 1, 1, n), *r = NULL;
  hebb_tensor *big = hebb_full(HEBB_I64, 1, shp, 0);
  double s;
  int64_t iv;
  hebb_sum_all(a, &s);
  /* 1 + ... + 1e7 = 50000005000000, exact in f64, rounded once to f32 */
  CHECK("f32_sum_correctly_rounded", s == (double)(float)50000005000000.0);
  hebb_reduce(HEBB_SUM, a, 0, NULL, false, 0, &r);
  CHECK("f32_sum_dtype", r->dtype == HEBB_F32);
  hebb_release(r);
  ((int64_t *)hebb_data_ptr(big))[0] = INT64_MAX;
  ((int64_t *)hebb_data_ptr(big))[1] = 1;
  ((int64_t *)hebb_data_ptr(big))[2] = 5;
  hebb_reduce_value(HEBB_SUM, big, 0, &s, &iv);
  CHECK("i64_sum_wraps_like_lua", iv == INT64_MIN + 5);
  hebb_reduce_value(HEBB_RMAX, big, 0, &s, &iv);
  CHECK("i64_max_exact", iv == INT64_MAX);
  hebb_release(a);
  hebb_release(big);
}

static void test_argreduce(void) {
  int64_t n = 300000, shp[1] = {n}, m2[2] = {4, 70001};
  hebb_tensor *a = hebb_zeros(HEBB_F64, 1, shp), *i1 = NULL, *i2 = NULL;
  hebb_tensor *m = hebb_zeros(HEBB_F64, 2, m2), *v = NULL;
  int64_t *ix;
  int ok;
  f64(a)[4095] = 7;       /* ties across unit boundaries: the first wins */
  f64(a)[65536] = 7;
  f64(a)[299999] = 7;
  hebb_set_num_threads(1);
  hebb_argreduce(HEBB_ARGMAX, a, -1, false, 1, &i1);
  hebb_set_num_threads(2);
  hebb_argreduce(HEBB_ARGMAX, a, -1, false, 1, &i2);
  ok = *(int64_t *)hebb_data_ptr(i1) == 4096 &&
       *(int64_t *)hebb_data_ptr(i2) == 4096;
  CHECK("argmax_first_of_ties", ok);
  hebb_release(i1);
  i1 = NULL;
  f64(a)[200000] = NAN;
  f64(a)[250000] = NAN;
  hebb_argreduce(HEBB_ARGMAX, a, -1, false, 0, &i1);
  CHECK("argmax_first_nan", *(int64_t *)hebb_data_ptr(i1) == 200000);
  hebb_release(i1);
  i1 = NULL;
  f64(m)[2 * 70001 + 5] = -1;   /* column 6: rows 1, 2, 4 tie at 0 */
  f64(m)[1 * 70001 + 9] = 3;
  f64(m)[3 * 70001 + 9] = 3;
  hebb_minmax_dim(HEBB_ARGMAX, m, 0, false, 1, &v, &i1);
  ix = hebb_data_ptr(i1);
  CHECK("argmax_down_columns", ix[0] == 1 && ix[9] == 2 && f64(v)[9] == 3);
  hebb_release(i1);
  i1 = NULL;
  hebb_argreduce(HEBB_ARGMIN, m, 0, false, 1, &i1);
  CHECK("argmin_down_columns", ((int64_t *)hebb_data_ptr(i1))[5] == 3);
  hebb_release(a);
  hebb_release(m);
  hebb_release(v);
  hebb_release(i1);
  hebb_release(i2);
}

static void test_scan(void) {
  int64_t shp[2] = {1003, 257}, i, j;
  hebb_tensor *a = randn(2, shp, 5), *r1 = NULL, *r2 = NULL;
  double acc;
  int ok = 1;
  hebb_set_num_threads(1);
  hebb_cumsum(a, 0, &r1);
  hebb_set_num_threads(2);
  hebb_cumsum(a, 0, &r2);
  CHECK("cumsum_threads", memcmp(f64(r1), f64(r2), 1003 * 257 * 8) == 0);
  for (j = 0; j < 257; j++)
    for (acc = -0.0, i = 0; i < 1003; i++) {
      acc += f64(a)[i * 257 + j];
      if (f64(r1)[i * 257 + j] != acc) ok = 0;
    }
  CHECK("cumsum_columns_left_to_right", ok);
  hebb_release(r1);
  r1 = NULL;
  hebb_cumsum(a, 1, &r1);
  for (ok = 1, i = 0; i < 1003; i++)
    for (acc = -0.0, j = 0; j < 257; j++) {
      acc += f64(a)[i * 257 + j];
      if (f64(r1)[i * 257 + j] != acc) ok = 0;
    }
  CHECK("cumsum_rows_left_to_right", ok);
  hebb_release(a);
  hebb_release(r1);
  hebb_release(r2);
}

static void test_errors(void) {
  int64_t shp[2] = {2, 3}, e0[1] = {0}, e2[2] = {0, 3}, bad[1] = {5};
  hebb_tensor *a = hebb_zeros(HEBB_F64, 2, shp), *r = NULL;
  hebb_tensor *empty = hebb_zeros(HEBB_F64, 1, e0);
  hebb_tensor *e23 = hebb_zeros(HEBB_F64, 2, e2);
  hebb_tensor *o = hebb_zeros(HEBB_F64, 1, bad);
  int dims[2] = {2, 0}, rep[2] = {1, 1};
  double f;
  int64_t iv;
  CHECK("dim_out_of_range",
        hebb_reduce(HEBB_SUM, a, 1, dims, false, 0, &r) == HEBB_ERR_INDEX &&
        strstr(hebb_last_error(), "sum: dimension 3 out of range for a "
               "2-dimensional tensor"));
  CHECK("dim_repeated",
        hebb_reduce(HEBB_MEAN, a, 2, rep, false, 0, &r) == HEBB_ERR_ARG &&
        strstr(hebb_last_error(), "mean: dimension 2 repeated"));
  CHECK("bad_correction",
        hebb_reduce(HEBB_VAR, a, 0, NULL, false, -1, &r) == HEBB_ERR_ARG &&
        strstr(hebb_last_error(), "var: correction must be >= 0 (got -1)"));
  CHECK("max_of_empty",
        hebb_reduce_value(HEBB_RMAX, empty, 0, &f, &iv) == HEBB_ERR_SHAPE &&
        strstr(hebb_last_error(), "max: cannot reduce an empty tensor"));
  CHECK("min_over_empty_dim",
        hebb_reduce(HEBB_RMIN, e23, 1, &dims[1], false, 0, &r) ==
        HEBB_ERR_SHAPE && strstr(hebb_last_error(), "min: cannot reduce over "
                                 "a dimension of size 0"));
  CHECK("argmax_of_empty",
        hebb_argreduce(HEBB_ARGMAX, empty, -1, false, 1, &r) ==
        HEBB_ERR_SHAPE && strstr(hebb_last_error(), "argmax: cannot take the "
                                 "argmax of an empty tensor"));
  CHECK("out_wrong_shape",
        hebb_reduce(HEBB_SUM, a, 1, &dims[1], false, 0, &o) ==
        HEBB_ERR_SHAPE && strstr(hebb_last_error(), "sum: out has shape {5}, "
                                 "result has {3}"));
  CHECK("cumsum_bad_dim",
        hebb_cumsum(a, 2, &r) == HEBB_ERR_INDEX &&
        strstr(hebb_last_error(), "cumsum: dimension 3 out of range"));
  CHECK("unknown_op", hebb_reduce(99, a, 0, NULL, false, 0, &r) ==
        HEBB_ERR_ARG);
  CHECK("nothing_made_on_error", r == NULL);
  /* what an empty reduction gives */
  hebb_reduce_value(HEBB_SUM, empty, 0, &f, &iv);
  CHECK("sum_empty_is_0", f == 0 && !signbit(f));
  hebb_reduce_value(HEBB_PROD, empty, 0, &f, &iv);
  CHECK("prod_empty_is_1", f == 1);
  hebb_reduce_value(HEBB_MEAN, empty, 0, &f, &iv);
  CHECK("mean_empty_is_nan", f != f);
  hebb_release(a);
  hebb_release(empty);
  hebb_release(e23);
  hebb_release(o);
}

int main(void) {
  test_order_and_threads();
  test_dims_layouts();
  test_multi_run();
  test_layout_independence();
  test_strided();
  test_short();
  test_f32_and_ints();
  test_argreduce();
  test_scan();
  test_errors();
  return check_done();
}
