/*
** random.c -- counter-based random numbers: Philox-4x32-10 (Salmon, Moraes,
** Dror and Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC'11).
**
** Philox is a keyed bijection of 128-bit blocks.  The key is the 64-bit
** seed (low word first); the counter block is {low, high word of the block
** index, low, high word of the stream}.  A block x0..x3 gives two 64-bit
** words, x1:x0 then x3:x2, so the stream of words is numbered by a
** position: word p is half p & 1 of block p >> 1.
**
** The one rule every draw follows: element i (row-major order) of a draw of
** n elements from generator g is computed from the word at position
** g->counter + i alone, and the draw then advances g->counter by n.  So a
** draw is a pure function of (seed, stream, position): the same bits at
** any thread count, and drawing 10 then 10 gives exactly what drawing 20
** gives.  For the word w at position p:
**   f64 uniform   u = (w >> 11) 2^-53, in [0, 1)
**   f32 uniform   (w >> 40) 2^-24: the f64 draw truncated to 24 bits
**   integer       in [lo, hi): lo + floor(w (hi - lo) / 2^64); each value's
**                 probability is within 2^-64 of 1 / (hi - lo), and every
**                 element costs one word whatever the range
**   bernoulli(p)  u < p
**   normal        Box-Muller on the two words w0, w1 of block p >> 1:
**                 u1 = 1 - (w0 >> 12) 2^-52 in (0, 1], u2 = (w1 >> 12)
**                 2^-52, r = sqrt(-2 ln u1); the even position gets
**                 r cos(2 pi u2) and the odd one r sin(2 pi u2).  Both
**                 outputs are used, paired by position rather than by call.
**                 f32 values are the f64 ones rounded.
**   permutation   Fisher-Yates: step k (k = 0 .. n-2) swaps element n-1-k
**                 with element floor(w (n-k) / 2^64), w at position
**                 counter + k; the draw advances the counter by n.
*/
#include <math.h>
#include <string.h>

#include "core.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u   /* golden ratio */
#define PHILOX_W1 0xBB67AE85u   /* sqrt(3) - 1 */

/* Words are made BATCH at a time: independent iterations over blocks
   that the compiler can turn into vector code. */
#define BATCH 64

/* The default generator's seed: fixed, so a script that never seeds is
   still reproducible from run to run. */
#define DEFAULT_SEED 0

static const double TWO_M53 = 1.0 / 9007199254740992.0;   /* 2^-53 */
static const float TWO_M24 = 1.0f / 16777216.0f;           /* 2^-24 */

/* The ten rounds on block x with key k0:k1; the key is bumped by the
   Weyl constants between rounds. */
static inline void philox10(uint32_t *x, uint32_t k0, uint32_t k1) {
  uint32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
  int r;
  #pragma GCC unroll 10
  for (r = 0; r < 10; r++) {
    uint64_t p0 = (uint64_t)PHILOX_M0 * x0, p1 = (uint64_t)PHILOX_M1 * x2;
    x0 = (uint32_t)(p1 >> 32) ^ x1 ^ k0;
    x1 = (uint32_t)p1;
    x2 = (uint32_t)(p0 >> 32) ^ x3 ^ k1;
    x3 = (uint32_t)p0;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  x[0] = x0; x[1] = x1; x[2] = x2; x[3] = x3;
}

void hebb_philox4x32(const uint32_t ctr[4], const uint32_t key[2],
                     uint32_t out[4]) {
  memcpy(out, ctr, 4 * sizeof(uint32_t));
  philox10(out, key[0], key[1]);
}

/* The 2 nb words of blocks b, b+1, ..., b+nb-1, in position order. */
static void philox_blocks(uint64_t seed, uint64_t stream, uint64_t b, int nb,
                          uint64_t *restrict w) {
  int j;
  for (j = 0; j < nb; j++) {
    uint64_t ctr = b + (uint64_t)j;
    uint32_t x[4] = {(uint32_t)ctr, (uint32_t)(ctr >> 32), (uint32_t)stream,
                     (uint32_t)(stream >> 32)};
    philox10(x, (uint32_t)seed, (uint32_t)(seed >> 32));
    w[2 * j] = x[0] | (uint64_t)x[1] << 32;
    w[2 * j + 1] = x[2] | (uint64_t)x[3] << 32;
  }
}

/* The n <= BATCH words at positions p, p+1, ...: a pointer into buf (which
   holds BATCH + 2 words), since p may start in the middle of a block. */
static const uint64_t *words(uint64_t seed, uint64_t stream, uint64_t p,
                             int n, uint64_t *buf) {
  int nb = (int)(((p & 1) + (uint64_t)n + 1) >> 1);
  philox_blocks(seed, stream, p >> 1, nb, buf);
  return buf + (p & 1);
}

void hebb_philox_words(uint64_t seed, uint64_t stream, uint64_t pos,
                       int64_t n, uint64_t *out) {
  uint64_t buf[BATCH + 2];
  while (n > 0) {
    int m = n > BATCH ? BATCH : (int)n;
    memcpy(out, words(seed, stream, pos, m, buf), (size_t)m * sizeof(uint64_t));
    out += m;
    pos += (uint64_t)m;
    n -= m;
  }
}

/* floor(w n / 2^64) */
static inline uint64_t scale64(uint64_t w, uint64_t n) {
  return (uint64_t)(((unsigned __int128)w * n) >> 64);
}

/* --- generators -------------------------------------------------------- */

size_t hebb_sizeof_rng(void) { return sizeof(hebb_rng); }

void hebb_rng_init(hebb_rng *g, uint64_t seed, uint64_t stream) {
  g->seed = seed;
  g->stream = stream;
  g->counter = 0;
}

hebb_rng *hebb_default_rng(void) {
  static hebb_rng g = {DEFAULT_SEED, 0, 0};
  return &g;
}

/* --- element kernels --------------------------------------------------- */

enum { K_UNIFORM, K_NORMAL, K_INT, K_BERNOULLI };

/* What one draw computes; the range functions below fill elements
   [lo, hi) of the contiguous buffer 'out'. */
typedef struct draw {
  uint64_t seed, stream, counter;
  int dtype;
  double a, b;          /* uniform: lo, hi; normal: mean, std; bernoulli: p */
  int64_t ilo;          /* integers: lo and the range size */
  uint64_t range;
  const double *p;      /* bernoulli: per-element probabilities, or NULL */
  char *out;
} draw;

/* the largest value of the output dtype below hi, for uniform's clamp */
static double below(int dtype, double hi) {
  return dtype == HEBB_F32 ? (double)nextafterf((float)hi, -INFINITY) :
                             nextafter(hi, -INFINITY);
}

static void uniform_range(int64_t lo, int64_t hi, void *ud) {
  const draw *d = ud;
  uint64_t buf[BATCH + 2];
  double a = d->a, span = d->b - d->a, top = below(d->dtype, d->b);
  int clamp = d->b > d->a;
  while (lo < hi) {
    int n = hi - lo > BATCH ? BATCH : (int)(hi - lo), j;
    const uint64_t *w = words(d->seed, d->stream, d->counter + (uint64_t)lo,
                              n, buf);
    if (d->dtype == HEBB_F64) {
      double *restrict o = (double *)d->out + lo;
      for (j = 0; j < n; j++) {
        double v = a + span * ((double)(w[j] >> 11) * TWO_M53);
        o[j] = clamp && v >= d->b ? top : v;   /* rounding can reach hi */
      }
    } else {
      float *restrict o = (float *)d->out + lo;
      for (j = 0; j < n; j++) {
        double v = a + span * (double)((float)(w[j] >> 40) * TWO_M24);
        o[j] = (float)(clamp && (float)v >= (float)d->b ? top : v);
      }
    }
    lo += n;
  }
}

/* Box-Muller's logarithm and sine/cosine are written out here in plain
   arithmetic and bit operations rather than called from libm: the loop
   then has no calls and no branches, so it runs as vector code, and its
   bits are the same on every machine.  Both are accurate to a few units in
   the last place (tests/core/test_random.c compares them with libm). */

static inline uint64_t dbits(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

static inline double bitsd(uint64_t b) {
  double x;
  memcpy(&x, &b, sizeof x);
  return x;
}

/* fdlibm's split of ln 2: e * LN2_HI is exact for any double exponent e */
#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10
#define TWO52 4503599627370496.0           /* 2^52 */
#define ROUNDER 6755399441055744.0         /* 1.5 * 2^52 */

/* ln u for u in (0, 1]: u = 2^e m with m in [sqrt(1/2), sqrt(2)), and
   ln m = 2 atanh s = 2 (s + s^3/3 + s^5/5 + ...) with s = (m-1)/(m+1),
   |s| <= 0.172, where twelve terms reach double precision.  The exponent
   becomes a double without an int64 conversion (which SSE2 lacks): its
   bits below those of 2^52 read as 2^52 + field. */
static inline double log_unit(double u) {
  uint64_t bits = dbits(u), mant = bits & 0xfffffffffffffull, big;
  double e, m, s, z, p = 2.0 / 23;
  int k;
  /* all ones when m > sqrt 2 (then m is halved): the sign of the
     difference of the mantissas, without a compare SSE2 lacks */
  big = (uint64_t)0 - ((0x6a09e667f3bcdull - mant) >> 63);
  m = bitsd(mant | (0x3ff0000000000000ull - (big & 0x10000000000000ull)));
  e = bitsd(0x4330000000000000ull | ((bits >> 52) + (big & 1))) -
      (TWO52 + 1023);
  s = (m - 1) / (m + 1);
  z = s * s;
  #pragma GCC unroll 11
  for (k = 10; k >= 0; k--) p = p * z + 2.0 / (2 * k + 1);
  return e * LN2_HI + (s * p + e * LN2_LO);
}

/* sin and cos of 2 pi u for u in [0, 1): 4u = q + f with q the nearest
   integer (rounded by adding 1.5 * 2^52, whose low bits then hold q), so
   the angle is q quarter turns plus x = f pi/2 with |x| <= pi/4, where
   Taylor series to x^15 and x^16 reach double precision. */
static inline void sincos_turn(double u, double *sn, double *cs) {
  static const double S[7] = {
    -1.0 / 6, 1.0 / 120, -1.0 / 5040, 1.0 / 362880, -1.0 / 39916800,
    1.0 / 6227020800.0, -1.0 / 1307674368000.0};
  static const double C[8] = {
    -1.0 / 2, 1.0 / 24, -1.0 / 720, 1.0 / 40320, -1.0 / 3628800,
    1.0 / 479001600, -1.0 / 87178291200.0, 1.0 / 20922789888000.0};
  double r = 4 * u, t = r + ROUNDER, x, x2, ps = S[6], pc = C[7];
  uint64_t q = dbits(t), odd, a, b;
  int k;
  x = (r - (t - ROUNDER)) * M_PI_2;   /* r - q is exact */
  x2 = x * x;
  #pragma GCC unroll 6
  for (k = 5; k >= 0; k--) ps = ps * x2 + S[k];
  #pragma GCC unroll 7
  for (k = 6; k >= 0; k--) pc = pc * x2 + C[k];
  a = dbits(x + x * x2 * ps);         /* sin x */
  b = dbits(1 + x2 * pc);             /* cos x */
  /* quarter turns: (sin, cos) -> (cos, -sin) -> (-sin, -cos) -> (-cos, sin) */
  odd = -(q & 1);
  *sn = bitsd(((a & ~odd) | (b & odd)) ^ ((q & 2) << 62));
  *cs = bitsd(((b & ~odd) | (a & odd)) ^ (((q + 1) & 2) << 62));
}

/* Box-Muller on nb blocks from block b: z[2k] = r cos, z[2k+1] = r sin,
   the normals of positions 2(b+k) and 2(b+k)+1.  One simple loop per
   step, so that each becomes vector code. */
static void normal_pairs(const draw *d, uint64_t b, int nb, double *z) {
  uint64_t w[BATCH];
  double r[BATCH / 2], sn[BATCH / 2], cs[BATCH / 2];
  int k;
  philox_blocks(d->seed, d->stream, b, nb, w);
  /* 52-bit uniforms made by bit operations (a 64-bit integer to double
     conversion does not vectorize): u1 in (0, 1] and u2 in [0, 1) */
  for (k = 0; k < nb; k++) {
    r[k] = 2.0 - bitsd(0x3ff0000000000000ull | (w[2 * k] >> 12));
    sn[k] = bitsd(0x3ff0000000000000ull | (w[2 * k + 1] >> 12)) - 1.0;
  }
  for (k = 0; k < nb; k++) r[k] = sqrt(-2.0 * log_unit(r[k]));
  for (k = 0; k < nb; k++) sincos_turn(sn[k], &sn[k], &cs[k]);
  for (k = 0; k < nb; k++) {
    z[2 * k] = r[k] * cs[k];
    z[2 * k + 1] = r[k] * sn[k];
  }
}

static void normal_range(int64_t lo, int64_t hi, void *ud) {
  const draw *d = ud;
  double z[BATCH];
  /* element e sits at position counter + e; a pair starts at an even
     position, so the first one may begin one element before lo */
  int64_t e = lo - (int64_t)((d->counter + (uint64_t)lo) & 1);
  while (e < hi) {
    int64_t m = (hi - e + 1) / 2, first = e < lo ? lo - e : 0, last, j;
    int nb = m > BATCH / 2 ? BATCH / 2 : (int)m;
    normal_pairs(d, (d->counter + (uint64_t)e) >> 1, nb, z);
    last = 2 * (int64_t)nb;
    if (last > hi - e) last = hi - e;
    if (d->dtype == HEBB_F64)
      for (j = first; j < last; j++)
        ((double *)d->out)[e + j] = d->a + d->b * z[j];
    else
      for (j = first; j < last; j++)
        ((float *)d->out)[e + j] = (float)(d->a + d->b * z[j]);
    e += 2 * (int64_t)nb;
  }
}

static void int_range(int64_t lo, int64_t hi, void *ud) {
  const draw *d = ud;
  uint64_t buf[BATCH + 2], v[BATCH];
  while (lo < hi) {
    int n = hi - lo > BATCH ? BATCH : (int)(hi - lo), j;
    const uint64_t *w = words(d->seed, d->stream, d->counter + (uint64_t)lo,
                              n, buf);
    for (j = 0; j < n; j++)   /* through uint64 so that wrapping is defined */
      v[j] = (uint64_t)d->ilo + scale64(w[j], d->range);
    switch (d->dtype) {
      case HEBB_I64: memcpy((int64_t *)d->out + lo, v, (size_t)n * 8); break;
      case HEBB_F64:
        for (j = 0; j < n; j++) ((double *)d->out)[lo + j] = (double)(int64_t)v[j];
        break;
      default:
        for (j = 0; j < n; j++) ((float *)d->out)[lo + j] = (float)(int64_t)v[j];
        break;
    }
    lo += n;
  }
}

static void bernoulli_range(int64_t lo, int64_t hi, void *ud) {
  const draw *d = ud;
  uint64_t buf[BATCH + 2];
  bool hit[BATCH];
  while (lo < hi) {
    int n = hi - lo > BATCH ? BATCH : (int)(hi - lo), j;
    const uint64_t *w = words(d->seed, d->stream, d->counter + (uint64_t)lo,
                              n, buf);
    if (d->p)
      for (j = 0; j < n; j++)
        hit[j] = (double)(w[j] >> 11) * TWO_M53 < d->p[lo + j];
    else
      for (j = 0; j < n; j++) hit[j] = (double)(w[j] >> 11) * TWO_M53 < d->a;
    switch (d->dtype) {
      case HEBB_BOOL: memcpy((bool *)d->out + lo, hit, (size_t)n); break;
      case HEBB_I64:
        for (j = 0; j < n; j++) ((int64_t *)d->out)[lo + j] = hit[j];
        break;
      case HEBB_F64:
        for (j = 0; j < n; j++) ((double *)d->out)[lo + j] = hit[j];
        break;
      default:
        for (j = 0; j < n; j++) ((float *)d->out)[lo + j] = hit[j];
        break;
    }
    lo += n;
  }
}

/* approximate cost per element in simple operations, for the parallel
   decision: a Philox block is ~40 vector-friendly operations, a normal adds
   a log, a sqrt and a sin/cos per pair */
static const struct { hebb_range_fn fn; int64_t cost; } kernels[] = {
  {uniform_range, 4}, {normal_range, 24}, {int_range, 6}, {bernoulli_range, 4}
};

/* --- the draws --------------------------------------------------------- */

static int check_rng_target(hebb_rng *g, const hebb_tensor *t, int kind,
                            const char *who) {
  int dt = t->dtype;
  if (!g) return hebb_fail(HEBB_ERR_ARG, "%s: no generator", who);
  if (hebb_check_dtype(dt, who)) return hebb_last_status();
  if ((kind == K_UNIFORM || kind == K_NORMAL) && dt != HEBB_F64 && dt != HEBB_F32)
    return hebb_fail(HEBB_ERR_DTYPE, "%s: dtype %s is not supported (f64 or "
                     "f32)", who, hebb_dtype_name(dt));
  if (kind == K_INT && dt == HEBB_BOOL)
    return hebb_fail(HEBB_ERR_DTYPE, "%s: dtype bool is not supported (i64, "
                     "f64 or f32)", who);
  return hebb_check_writable(t, who);
}

/* Runs draw d into t: straight into t when it is contiguous, otherwise into
   a contiguous temporary copied over, so element i is always the i-th in
   row-major order.  The counter moves only when the draw succeeds. */
static int run_draw(hebb_rng *g, hebb_tensor *t, draw *d, int kind) {
  hebb_tensor *dst = t;
  int64_t n = hebb_numel(t);
  int st;
  if (!hebb_is_contiguous(t)) {
    dst = hebb_empty(t->dtype, t->ndim, t->shape);
    if (!dst) return hebb_last_status();
  }
  d->seed = g->seed;
  d->stream = g->stream;
  d->counter = g->counter;
  d->dtype = t->dtype;
  d->out = hebb_first(dst);
  st = hebb_parallel_for(n, kernels[kind].cost, kernels[kind].fn, d);
  if (st == HEBB_OK && dst != t) st = hebb_convert_into(t, dst);
  if (dst != t) hebb_release(dst);
  if (st == HEBB_OK) {
    g->counter += (uint64_t)n;
    hebb_bump_version(t);
  }
  return st;
}

int hebb_rand_uniform(hebb_rng *g, hebb_tensor *t, double lo, double hi) {
  draw d;
  memset(&d, 0, sizeof d);
  if (check_rng_target(g, t, K_UNIFORM, "uniform")) return hebb_last_status();
  if (!isfinite(lo) || !isfinite(hi))
    return hebb_fail(HEBB_ERR_ARG, "uniform: bounds must be finite (got %g, "
                     "%g)", lo, hi);
  if (lo > hi)
    return hebb_fail(HEBB_ERR_ARG, "uniform: lo (%g) is greater than hi (%g)",
                     lo, hi);
  if (!isfinite(hi - lo))
    return hebb_fail(HEBB_ERR_ARG, "uniform: the width hi - lo overflows "
                     "(lo %g, hi %g)", lo, hi);
  d.a = lo;
  d.b = hi;
  return run_draw(g, t, &d, K_UNIFORM);
}

/* A complex tensor seen as a real one with a last dimension of 2 (re, im):
   the same memory, strides doubled, as numpy's .view(float64) would be. */
static void real_view(const hebb_tensor *t, hebb_tensor *v) {
  int i;
  *v = *t;
  v->dtype = t->dtype == HEBB_C64 ? HEBB_F32 : HEBB_F64;
  v->ndim = t->ndim + 1;
  v->offset = 2 * t->offset;
  for (i = 0; i < t->ndim; i++) v->stride[i] = 2 * t->stride[i];
  v->shape[t->ndim] = 2;
  v->stride[t->ndim] = 1;
}

/* Standard complex normal, scaled: real and imaginary parts independent
   N(0, std^2/2), so E|z - mean|^2 = std^2; mean is a real number added to
   the real parts.  Element k's parts are words 2k and 2k+1 of the draw,
   which consumes 2n words. */
static int complex_normal(hebb_rng *g, hebb_tensor *t, double mean,
                          double std) {
  hebb_tensor v, re;
  int st;
  if (hebb_check_writable(t, "normal")) return hebb_last_status();
  real_view(t, &v);
  st = hebb_rand_normal(g, &v, 0, std * sqrt(0.5));
  if (st == HEBB_OK && mean != 0) {
    hebb_tensor m, *out = &re;
    memset(&m, 0, sizeof m);   /* mean as a weak 0-d f64 */
    m.dtype = HEBB_F64;
    m.flags = HEBB_TF_WEAK;
    m.refcount = 1;
    m.data = (char *)&mean;
    re = v;   /* the real parts: index 0 of the last dimension */
    re.ndim = t->ndim;
    st = hebb_binary(HEBB_ADD, &re, &m, &out);
  }
  return st;
}

int hebb_rand_normal(hebb_rng *g, hebb_tensor *t, double mean, double std) {
  draw d;
  memset(&d, 0, sizeof d);
  if (!isfinite(mean) || !isfinite(std) || std < 0)
    return hebb_fail(HEBB_ERR_ARG, "normal: need a finite mean and a finite "
                     "std >= 0 (got mean %g, std %g)", mean, std);
  if (g && hebb_is_complex(t->dtype)) return complex_normal(g, t, mean, std);
  if (check_rng_target(g, t, K_NORMAL, "normal")) return hebb_last_status();
  d.a = mean;
  d.b = std;
  return run_draw(g, t, &d, K_NORMAL);
}

int hebb_rand_int(hebb_rng *g, hebb_tensor *t, int64_t lo, int64_t hi) {
  draw d;
  memset(&d, 0, sizeof d);
  if (check_rng_target(g, t, K_INT, "randint")) return hebb_last_status();
  if (lo >= hi)
    return hebb_fail(HEBB_ERR_ARG, "randint: empty range [%lld, %lld)",
                     (long long)lo, (long long)hi);
  d.ilo = lo;
  d.range = (uint64_t)hi - (uint64_t)lo;
  return run_draw(g, t, &d, K_INT);
}

int hebb_rand_bernoulli(hebb_rng *g, hebb_tensor *t, double p) {
  draw d;
  memset(&d, 0, sizeof d);
  if (check_rng_target(g, t, K_BERNOULLI, "bernoulli")) return hebb_last_status();
  if (!(p >= 0 && p <= 1))
    return hebb_fail(HEBB_ERR_ARG, "bernoulli: probability %g is outside "
                     "[0, 1]", p);
  d.a = p;
  return run_draw(g, t, &d, K_BERNOULLI);
}

int hebb_rand_bernoulli_tensor(hebb_rng *g, hebb_tensor *t,
                               const hebb_tensor *p) {
  hebb_tensor *pc;
  draw d;
  int64_t i, n, shape[HEBB_MAXDIM];
  int st, nd;
  memset(&d, 0, sizeof d);
  if (check_rng_target(g, t, K_BERNOULLI, "bernoulli") ||
      hebb_check_dtype(p->dtype, "bernoulli"))
    return hebb_last_status();
  if (hebb_broadcast_shape(t->ndim, t->shape, p->ndim, p->shape, &nd, shape,
                           "bernoulli") != HEBB_OK || nd != t->ndim ||
      memcmp(shape, t->shape, (size_t)nd * sizeof(int64_t)) != 0) {
    char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
    return hebb_fail(HEBB_ERR_SHAPE, "bernoulli: probabilities of shape %s do "
                     "not broadcast to the result's shape %s",
                     hebb_shape_str(p->ndim, p->shape, b1, sizeof b1),
                     hebb_shape_str(t->ndim, t->shape, b2, sizeof b2));
  }
  /* the probabilities, broadcast to t's shape, as one f64 array */
  pc = hebb_empty(HEBB_F64, t->ndim, t->shape);
  if (!pc) return hebb_last_status();
  st = hebb_copy(pc, p);
  n = hebb_numel(pc);
  for (i = 0; st == HEBB_OK && i < n; i++) {
    double v = ((double *)pc->data)[i];
    if (!(v >= 0 && v <= 1))
      st = hebb_fail(HEBB_ERR_ARG, "bernoulli: probability %g (element %lld) "
                     "is outside [0, 1]", v, (long long)i + 1);
  }
  if (st == HEBB_OK) {
    d.p = (const double *)pc->data;
    st = run_draw(g, t, &d, K_BERNOULLI);
  }
  hebb_release(pc);
  return st;
}

int hebb_rand_permutation(hebb_rng *g, hebb_tensor *t, int64_t base) {
  uint64_t buf[BATCH + 2];
  int64_t n, s, i, k;
  int64_t *v;
  if (!g) return hebb_fail(HEBB_ERR_ARG, "randperm: no generator");
  if (t->dtype != HEBB_I64 || t->ndim != 1)
    return hebb_fail(HEBB_ERR_ARG, "randperm: needs a 1-d i64 tensor (got a "
                     "%d-d %s tensor)", t->ndim, hebb_dtype_name(t->dtype));
  if (hebb_check_writable(t, "randperm")) return hebb_last_status();
  n = t->shape[0];
  s = t->stride[0];
  v = (int64_t *)hebb_first(t);
  for (i = 0; i < n; i++) v[i * s] = base + i;
  /* sequential by nature; the draws are still tied to positions */
  for (k = 0; k < n - 1; k += BATCH) {
    int m = n - 1 - k > BATCH ? BATCH : (int)(n - 1 - k), j;
    const uint64_t *w = words(g->seed, g->stream, g->counter + (uint64_t)k,
                              m, buf);
    if ((k & ((1 << 20) - 1)) == 0 && hebb_check_interrupt())
      return hebb_last_status();
    for (j = 0; j < m; j++) {
      int64_t a = n - 1 - (k + j);
      int64_t b = (int64_t)scale64(w[j], (uint64_t)a + 1);
      int64_t x = v[a * s];
      v[a * s] = v[b * s];
      v[b * s] = x;
    }
  }
  g->counter += (uint64_t)n;
  hebb_bump_version(t);
  return HEBB_OK;
}
