/* test_random.c -- Philox-4x32-10 known answers and the position rule of
   the draws (natives/core/random.c), without Lua. */
#define SUITE "random"
#include <math.h>
#include <string.h>

#include "check.h"
#include "core.h"

/* Random123's published known-answer vectors for philox4x32-10
   (kat_vectors): counter, key, expected output */
static const uint32_t kat[3][10] = {
  {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
  {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
   0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
  {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
   0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
};

static int kat_ok(int i) {
  uint32_t out[4];
  hebb_philox4x32(kat[i], kat[i] + 4, out);
  return memcmp(out, kat[i] + 6, sizeof out) == 0;
}

static hebb_tensor *vec(int dtype, int64_t n) { return hebb_empty(dtype, 1, &n); }

static int same_bits(const hebb_tensor *a, const hebb_tensor *b) {
  return a->dtype == b->dtype && hebb_numel(a) == hebb_numel(b) &&
         memcmp(hebb_first(a), hebb_first(b),
                (size_t)(hebb_numel(a) * hebb_dtype_size(a->dtype))) == 0;
}

/* a draw of n elements of 'kind' made in one call, then made again in
   pieces of the given sizes, from the same starting state */
typedef int (*drawfn)(hebb_rng *g, hebb_tensor *t);
static int du(hebb_rng *g, hebb_tensor *t) { return hebb_rand_uniform(g, t, -1, 3); }
static int dn(hebb_rng *g, hebb_tensor *t) { return hebb_rand_normal(g, t, 1, 2); }
static int di(hebb_rng *g, hebb_tensor *t) { return hebb_rand_int(g, t, -5, 1000); }
static int db(hebb_rng *g, hebb_tensor *t) { return hebb_rand_bernoulli(g, t, 0.3); }

static int chunked_same(drawfn f, int dtype, int64_t n, const int64_t *pieces,
                        int npieces) {
  hebb_rng g1, g2;
  hebb_tensor *whole = vec(dtype, n), *part = vec(dtype, n), *v;
  int64_t at = 0;
  int i, ok = 1;
  hebb_rng_init(&g1, 42, 7);
  g1.counter = 3;   /* start in the middle of a block */
  g2 = g1;
  ok &= f(&g1, whole) == HEBB_OK;
  for (i = 0; i < npieces; i++) {
    v = hebb_narrow(part, 0, at, pieces[i]);
    ok &= f(&g2, v) == HEBB_OK;
    hebb_release(v);
    at += pieces[i];
  }
  ok &= same_bits(whole, part) && g1.counter == g2.counter &&
        g1.counter == 3 + (uint64_t)n;
  hebb_release(whole);
  hebb_release(part);
  return ok;
}

static int threads_same(drawfn f, int dtype, int64_t n) {
  hebb_rng g1, g2;
  hebb_tensor *a = vec(dtype, n), *b = vec(dtype, n);
  int ok;
  hebb_rng_init(&g1, 9, 1);
  g2 = g1;
  hebb_set_num_threads(1);
  ok = f(&g1, a) == HEBB_OK;
  hebb_set_num_threads(2);
  ok &= f(&g2, b) == HEBB_OK && same_bits(a, b);
  hebb_release(a);
  hebb_release(b);
  return ok;
}

static int has_error(int st, int status, const char *text) {
  return st == status && strstr(hebb_last_error(), text) != NULL;
}

int main(void) {
  int64_t pieces[] = {10, 10}, odd[] = {1, 3, 7, 6000, 13989};
  hebb_rng g, h;
  hebb_tensor *t, *u, *p;
  double *d;
  int64_t *iv;
  int64_t i, n = 20000;
  int ok;

  CHECK("kat_zero", kat_ok(0));
  CHECK("kat_ones", kat_ok(1));
  CHECK("kat_pi", kat_ok(2));
  CHECK("sizeof_rng", hebb_sizeof_rng() == sizeof(hebb_rng));

  /* the word at position p is half p & 1 of block p >> 1: with seed 0,
     stream 0, an i64 draw over the whole range [INT64_MIN, INT64_MAX)
     maps the first word x1:x0 of the zero block to INT64_MIN +
     floor(w (2^64 - 1) / 2^64) = INT64_MIN + w - 1 (w != 0) */
  hebb_rng_init(&g, 0, 0);
  t = vec(HEBB_I64, 2);
  hebb_rand_int(&g, t, INT64_MIN, INT64_MAX);
  iv = (int64_t *)t->data;
  CHECK("word_layout",
        (uint64_t)iv[0] - (uint64_t)INT64_MIN == 0xe169c58d6627e8d5ull - 1 &&
        (uint64_t)iv[1] - (uint64_t)INT64_MIN == 0x9b00dbd8bc57ac4cull - 1);
  hebb_release(t);

  /* the f64 uniform is (w >> 11) 2^-53 and f32 is the same truncated */
  hebb_rng_init(&g, 0, 0);
  t = vec(HEBB_F64, 1);
  u = vec(HEBB_F32, 1);
  hebb_rand_uniform(&g, t, 0, 1);
  g.counter = 0;
  hebb_rand_uniform(&g, u, 0, 1);
  CHECK("uniform_formula",
        ((double *)t->data)[0] == (double)(0xe169c58d6627e8d5ull >> 11) /
                                  9007199254740992.0 &&
        ((float *)u->data)[0] == (float)(0xe169c58d6627e8d5ull >> 40) /
                                 16777216.0f);
  hebb_release(t);
  hebb_release(u);

  /* normals against libm: Box-Muller on the words of each block, as the
     header of random.c defines it; hebb's own log and sin/cos agree to a
     few units in the last place (|z| < 9, so 1e-14 is ~20 ulp) */
  {
    int64_t m = 200000;
    double worst = 0;
    uint32_t ctr[4] = {0, 0, 5, 0}, key[2] = {77, 0}, o[4];
    t = vec(HEBB_F64, m);
    hebb_rng_init(&g, 77, 5);
    hebb_rand_normal(&g, t, 0, 1);
    d = (double *)t->data;
    for (i = 0; i < m; i += 2) {
      uint64_t w0, w1;
      double u1, u2, r;
      ctr[0] = (uint32_t)(i / 2);
      hebb_philox4x32(ctr, key, o);
      w0 = o[0] | (uint64_t)o[1] << 32;
      w1 = o[2] | (uint64_t)o[3] << 32;
      u1 = 1.0 - (double)(w0 >> 12) / 4503599627370496.0;
      u2 = (double)(w1 >> 12) / 4503599627370496.0;
      r = sqrt(-2.0 * log(u1));
      worst = fmax(worst, fabs(d[i] - r * cos(2 * M_PI * u2)));
      worst = fmax(worst, fabs(d[i + 1] - r * sin(2 * M_PI * u2)));
    }
    CHECK("normal_formula_vs_libm", worst < 1e-14);
    hebb_release(t);
  }

  CHECK("chunked_uniform_10_10", chunked_same(du, HEBB_F64, 20, pieces, 2));
  CHECK("chunked_uniform_f32", chunked_same(du, HEBB_F32, n, odd, 5));
  CHECK("chunked_normal_10_10", chunked_same(dn, HEBB_F64, 20, pieces, 2));
  CHECK("chunked_normal_odd", chunked_same(dn, HEBB_F64, n, odd, 5));
  CHECK("chunked_normal_f32", chunked_same(dn, HEBB_F32, n, odd, 5));
  CHECK("chunked_int", chunked_same(di, HEBB_I64, n, odd, 5));
  CHECK("chunked_int_f64", chunked_same(di, HEBB_F64, n, odd, 5));
  CHECK("chunked_bernoulli", chunked_same(db, HEBB_BOOL, n, odd, 5));

  CHECK("threads_uniform", threads_same(du, HEBB_F64, 1000003));
  CHECK("threads_normal", threads_same(dn, HEBB_F64, 1000003));
  CHECK("threads_normal_f32", threads_same(dn, HEBB_F32, 1000003));
  CHECK("threads_int", threads_same(di, HEBB_I64, 1000003));
  CHECK("threads_bernoulli", threads_same(db, HEBB_BOOL, 1000003));

  /* a strided target gets the elements in row-major order */
  {
    int64_t shape[2] = {3, 4};
    hebb_tensor *m = hebb_empty(HEBB_F64, 2, shape), *mt, *c;
    hebb_rng_init(&g, 5, 0);
    h = g;
    mt = hebb_transpose(m, 0, 1);   /* {4,3}, not contiguous */
    c = hebb_empty(HEBB_F64, 2, mt->shape);
    ok = hebb_rand_normal(&g, mt, 0, 1) == HEBB_OK &&
         hebb_rand_normal(&h, c, 0, 1) == HEBB_OK;
    u = hebb_contiguous(mt);
    CHECK("strided_target", ok && same_bits(u, c) && g.counter == 12);
    hebb_release(u);
    hebb_release(c);
    hebb_release(mt);
    hebb_release(m);
  }

  /* streams are independent sequences */
  t = vec(HEBB_F64, 100);
  u = vec(HEBB_F64, 100);
  hebb_rng_init(&g, 1, 0);
  hebb_rng_init(&h, 1, 1);
  hebb_rand_uniform(&g, t, 0, 1);
  hebb_rand_uniform(&h, u, 0, 1);
  ok = 1;
  for (i = 0; i < 100; i++) ok &= ((double *)t->data)[i] != ((double *)u->data)[i];
  CHECK("streams_differ", ok);
  hebb_rng_init(&h, 2, 0);
  hebb_rand_uniform(&h, u, 0, 1);
  ok = 1;
  for (i = 0; i < 100; i++) ok &= ((double *)t->data)[i] != ((double *)u->data)[i];
  CHECK("seeds_differ", ok);

  /* bounds: uniform never reaches hi even where rounding would */
  hebb_rng_init(&g, 3, 0);
  hebb_rand_uniform(&g, t, 1, 1 + 1e-15);
  d = (double *)t->data;
  ok = 1;
  for (i = 0; i < 100; i++) ok &= d[i] >= 1 && d[i] < 1 + 1e-15;
  CHECK("uniform_half_open_tiny_interval", ok);
  hebb_rand_uniform(&g, t, 2, 2);
  CHECK("uniform_degenerate", d[0] == 2 && d[99] == 2);
  hebb_release(t);
  hebb_release(u);

  /* integers over the whole range of small intervals hit both ends */
  t = vec(HEBB_I64, 10000);
  hebb_rng_init(&g, 11, 0);
  hebb_rand_int(&g, t, -2, 3);
  iv = (int64_t *)t->data;
  {
    int seen[5] = {0}, inside = 1;
    for (i = 0; i < 10000; i++) {
      if (iv[i] < -2 || iv[i] > 2) inside = 0;
      else seen[iv[i] + 2]++;
    }
    CHECK("int_range", inside && seen[0] && seen[4]);
  }
  hebb_release(t);

  /* permutation: every value once; the counter moves by n */
  t = vec(HEBB_I64, 1000);
  hebb_rng_init(&g, 4, 0);
  ok = hebb_rand_permutation(&g, t, 1) == HEBB_OK && g.counter == 1000;
  {
    char seen[1001] = {0};
    iv = (int64_t *)t->data;
    for (i = 0; i < 1000; i++)
      if (iv[i] >= 1 && iv[i] <= 1000 && !seen[iv[i]]) seen[iv[i]] = 1;
      else ok = 0;
  }
  CHECK("permutation", ok);
  hebb_release(t);

  /* bernoulli with one probability per element */
  {
    int64_t shape[2] = {2, 3}, pn = 3;
    double pv[3] = {0, 1, 0.5};
    bool *b;
    t = hebb_empty(HEBB_BOOL, 2, shape);
    p = hebb_from_buffer(HEBB_F64, 1, &pn, pv);
    hebb_rng_init(&g, 8, 0);
    ok = hebb_rand_bernoulli_tensor(&g, t, p) == HEBB_OK;
    b = (bool *)t->data;
    CHECK("bernoulli_tensor", ok && !b[0] && b[1] && !b[3] && b[4] &&
          g.counter == 6);
    pv[2] = 1.5;
    hebb_release(p);
    p = hebb_from_buffer(HEBB_F64, 1, &pn, pv);
    CHECK("bernoulli_tensor_bad_p",
          has_error(hebb_rand_bernoulli_tensor(&g, t, p), HEBB_ERR_ARG,
                    "probability 1.5 (element 3) is outside [0, 1]") &&
          g.counter == 6);
    hebb_release(p);
    pn = 2;
    p = hebb_from_buffer(HEBB_F64, 1, &pn, pv);
    CHECK("bernoulli_tensor_shape",
          has_error(hebb_rand_bernoulli_tensor(&g, t, p), HEBB_ERR_SHAPE,
                    "probabilities of shape {2} do not broadcast to the "
                    "result's shape {2,3}"));
    hebb_release(p);
    hebb_release(t);
  }

  /* errors leave the generator where it was */
  t = vec(HEBB_I64, 4);
  hebb_rng_init(&g, 1, 0);
  CHECK("uniform_dtype", has_error(hebb_rand_uniform(&g, t, 0, 1), HEBB_ERR_DTYPE,
                                   "uniform: dtype i64 is not supported"));
  CHECK("normal_dtype", has_error(hebb_rand_normal(&g, t, 0, 1), HEBB_ERR_DTYPE,
                                  "normal: dtype i64 is not supported"));
  CHECK("randint_empty", has_error(hebb_rand_int(&g, t, 3, 3), HEBB_ERR_ARG,
                                   "randint: empty range [3, 3)"));
  hebb_release(t);
  t = vec(HEBB_F64, 4);
  CHECK("uniform_order", has_error(hebb_rand_uniform(&g, t, 2, 1), HEBB_ERR_ARG,
                                   "uniform: lo (2) is greater than hi (1)"));
  CHECK("uniform_finite", has_error(hebb_rand_uniform(&g, t, 0, INFINITY),
                                    HEBB_ERR_ARG, "bounds must be finite"));
  CHECK("uniform_width", has_error(hebb_rand_uniform(&g, t, -1e308, 1e308),
                                   HEBB_ERR_ARG, "the width hi - lo overflows"));
  CHECK("normal_std", has_error(hebb_rand_normal(&g, t, 0, -1), HEBB_ERR_ARG,
                                "std >= 0 (got mean 0, std -1)"));
  CHECK("bernoulli_p", has_error(hebb_rand_bernoulli(&g, t, NAN), HEBB_ERR_ARG,
                                 "bernoulli: probability nan is outside [0, 1]"));
  CHECK("permutation_dtype",
        has_error(hebb_rand_permutation(&g, t, 0), HEBB_ERR_ARG,
                  "randperm: needs a 1-d i64 tensor (got a 1-d f64 tensor)"));
  {
    int64_t four = 4;
    hebb_tensor *one = vec(HEBB_F64, 1), *e = hebb_expand(one, 1, &four);
    CHECK("expanded_target", has_error(hebb_rand_uniform(&g, e, 0, 1),
                                       HEBB_ERR_ARG, "uniform: cannot write"));
    hebb_release(e);
    hebb_release(one);
  }
  CHECK("errors_keep_counter", g.counter == 0);
  hebb_release(t);

  CHECK("default_rng", hebb_default_rng() == hebb_default_rng() &&
        hebb_default_rng()->stream == 0);
  return check_done();
}
