/*
** special.c -- special functions of one real variable, elementwise:
** gamma, lgamma, digamma, trigamma, erf, erfc, the Bessel functions J0, J1
** (of the first kind) and I0, I1 (modified), the complete elliptic
** integrals K(m) and E(m) (parameter m = k^2, as in Abramowitz & Stegun
** 17.3 and scipy), and Riemann's zeta.
**
** gamma, lgamma, erf, erfc, j0 and j1 come from the C library (lgamma_r:
** glibc's lgamma writes the global signgam, a race between threads).  The
** others are written here from their classical expansions, each accurate
** to a few units in the last place where the function is not near a zero
** (tests/lua/test_special.lua checks published values and identities):
**   digamma, trigamma  recurrence up to x >= 10, then the asymptotic series
**                      in Bernoulli numbers (A&S 6.3.18, 6.4.12; the first
**                      omitted term is below 1e-17 there); reflection for
**                      x < 0 (A&S 6.3.7, 6.4.7)
**   I0, I1             the power series (positive terms, no cancellation)
**                      for |x| <= 25, Hankel's asymptotic series above it
**                      (A&S 9.7.1: at x = 25 its smallest term is 3e-21)
**   K, E               Carlson's symmetric integrals R_F and R_D by
**                      duplication (DLMF 19.25.1, 19.36.1-2), in a form
**                      without cancellation as m -> 1, where the AGM form
**                      of E loses digits
**   zeta               Euler-Maclaurin with N = 12 and 12 Bernoulli terms
**                      for s >= 0 (error below 1e-20), the functional
**                      equation for s < 0 (DLMF 25.2.9, 25.4.1)
**   tetragamma, zeta'  the derivatives of trigamma and zeta (autograd's
**                      rules): the same series differentiated term by
**                      term, recurrence to x >= 20 for psi'' (A&S 6.4.11
**                      with 7 Bernoulli terms: first omitted 2e-19
**                      relative), the functional equation differentiated
**                      for zeta'(s < 0)
** Real inputs only; i64 and bool compute in f64, f32 in double precision
** rounded back to f32.
*/
#include <math.h>

#include "core.h"

/* --- gamma family -------------------------------------------------------- */

static double lgamma_safe(double x) {
  int sign;
  return lgamma_r(x, &sign);
}

static double psi(double x) {
  double r = 0, z;
  if (x <= 0) {
    if (x == floor(x)) return NAN;   /* the poles 0, -1, -2, ... */
    return psi(1 - x) - M_PI / tan(M_PI * (x - floor(x)));   /* exact cut */
  }
  while (x < 10) r -= 1 / x, x += 1;
  z = 1 / (x * x);
  return r + log(x) - 0.5 / x -
         z * (1.0 / 12 - z * (1.0 / 120 - z * (1.0 / 252 - z * (1.0 / 240 -
         z * (1.0 / 132 - z * (691.0 / 32760 - z / 12))))));
}

static double trigamma(double x) {
  double r = 0, z, s;
  if (x <= 0) {
    if (x == floor(x)) return NAN;
    s = sin(M_PI * (x - floor(x)));
    return -trigamma(1 - x) + M_PI * M_PI / (s * s);
  }
  while (x < 10) r += 1 / (x * x), x += 1;
  z = 1 / (x * x);
  return r + 1 / x + z / 2 +
         z / x * (1.0 / 6 - z * (1.0 / 30 - z * (1.0 / 42 - z * (1.0 / 30 -
         z * (5.0 / 66 - z * (691.0 / 2730 - z * 7.0 / 6))))));
}

/* psi''(x) = -2 sum_k 1/(x+k)^3: psi''(x) = psi''(x+1) - 2/x^3 up to x >=
   20, then -(1/x^2 + 1/x^3 + sum_k (2k+1) B_2k / x^{2k+2}); reflection
   psi''(x) = psi''(1-x) - 2 pi^3 cot(pi x) / sin^2(pi x) (A&S 6.4.7
   differentiated; with f = x - floor(x), cos(pi f) as sin(pi (1/2 - f)),
   exact at f = 1/2 where cos(M_PI / 2) would leave 6e-17) */
static double tetragamma(double x) {
  double r = 0, z, f, s;
  if (x <= 0) {
    if (x == floor(x)) return NAN;
    f = x - floor(x);
    s = sin(M_PI * f);
    return tetragamma(1 - x) -
           2 * M_PI * M_PI * M_PI * sin(M_PI * (0.5 - f)) / (s * s * s);
  }
  while (x < 20) r -= 2 / (x * x * x), x += 1;
  z = 1 / (x * x);
  return r - (z + z / x + z * z * (0.5 - z * (1.0 / 6 - z * (1.0 / 6 -
         z * (3.0 / 10 - z * (5.0 / 6 - z * (691.0 / 210 - z * 35.0 / 2)))))));
}

/* --- modified Bessel functions ------------------------------------------- */

/* I_nu(x), nu = 0 or 1, x >= 0 */
static double bessel_i(int nu, double x) {
  double t, sum, y = x * x / 4, h, mu = 4.0 * nu * nu;
  int k;
  if (x <= 25) {
    t = nu ? x / 2 : 1;
    sum = t;
    for (k = 1; k < 200 && t > sum * 1e-17; k++) {
      t *= y / ((double)k * (k + nu));
      sum += t;
    }
    return sum;
  }
  /* e^x / sqrt(2 pi x) (1 - (mu-1)/(8x) + (mu-1)(mu-9)/(2! (8x)^2) - ...),
     its terms decreasing while k < 2x; e^x in two halves, because I0(713)
     is finite while e^713 is not */
  t = 1;
  sum = 1;
  for (k = 1; k < 60; k++) {
    t *= -(mu - (2.0 * k - 1) * (2.0 * k - 1)) / (8.0 * k * x);
    sum += t;
    if (fabs(t) < 1e-17 * fabs(sum)) break;
  }
  h = exp(x / 2);
  return h * (h / sqrt(2 * M_PI * x) * sum);
}

static double i0(double x) { return bessel_i(0, fabs(x)); }
static double i1(double x) { return x < 0 ? -bessel_i(1, -x) : bessel_i(1, x); }

/* --- elliptic integrals (Carlson) ---------------------------------------- */

/* R_F(x, y, z) for x, y, z >= 0, at most one of them 0.  Each duplication
   step cuts the spread of the arguments by 4; at a spread of 1e-3 the
   fifth-order expansion leaves an error near 1e-18. */
static double carlson_rf(double x, double y, double z) {
  double a, dx, dy, dz, e2, e3;
  for (;;) {
    double l = sqrt(x) * sqrt(y) + sqrt(y) * sqrt(z) + sqrt(z) * sqrt(x);
    x = (x + l) / 4; y = (y + l) / 4; z = (z + l) / 4;
    a = (x + y + z) / 3;
    dx = 1 - x / a; dy = 1 - y / a; dz = -(dx + dy);
    if (fmax(fabs(dx), fmax(fabs(dy), fabs(dz))) < 1e-3) break;
  }
  e2 = dx * dy - dz * dz;
  e3 = dx * dy * dz;
  return (1 - e2 / 10 + e3 / 14 + e2 * e2 / 24 - 3 * e2 * e3 / 44) / sqrt(a);
}

/* R_D(x, y, z) = R_J(x, y, z, z), x, y >= 0 not both 0, z > 0 */
static double carlson_rd(double x, double y, double z) {
  double sum = 0, f = 1, a, dx, dy, dz, xy, e2, e3, e4, e5;
  for (;;) {
    double l = sqrt(x) * sqrt(y) + sqrt(y) * sqrt(z) + sqrt(z) * sqrt(x);
    sum += f / (sqrt(z) * (z + l));
    f /= 4;
    x = (x + l) / 4; y = (y + l) / 4; z = (z + l) / 4;
    a = (x + y + 3 * z) / 5;
    dx = 1 - x / a; dy = 1 - y / a; dz = -(dx + dy) / 3;
    if (fmax(fabs(dx), fmax(fabs(dy), fabs(dz))) < 1e-3) break;
  }
  xy = dx * dy;
  e2 = xy - 6 * dz * dz;
  e3 = (3 * xy - 8 * dz * dz) * dz;
  e4 = 3 * (xy - dz * dz) * dz * dz;
  e5 = xy * dz * dz * dz;
  return 3 * sum + f * (1 - 3 * e2 / 14 + e3 / 6 + 9 * e2 * e2 / 88 -
         3 * e4 / 22 - 9 * e2 * e3 / 52 + 3 * e5 / 26) / (a * sqrt(a));
}

/* K(m) = R_F(0, 1-m, 1); E(m) = (1-m)/3 (R_D(0, 1-m, 1) + R_D(0, 1, 1-m))
   (DLMF 19.25.1's second form: two positive terms, where R_F - m/3 R_D
   cancels as m -> 1); defined for m <= 1 (K(1) = inf, E(1) = 1), NaN
   above */
static double ellipk(double m) {
  if (!(m <= 1)) return NAN;
  if (m == 1) return INFINITY;
  if (m == -INFINITY) return 0;
  return carlson_rf(0, 1 - m, 1);
}

static double ellipe(double m) {
  if (!(m <= 1)) return NAN;
  if (m == 1) return 1;
  if (m == -INFINITY) return INFINITY;
  return (1 - m) / 3 * (carlson_rd(0, 1 - m, 1) + carlson_rd(0, 1, 1 - m));
}

/* --- Riemann zeta -------------------------------------------------------- */

/* B_2k / (2k)!, k = 1..12 */
static const double BERN[12] = {
  1.0 / 12, -1.0 / 720, 1.0 / 30240, -1.0 / 1209600, 1.0 / 47900160,
  -691.0 / 1307674368000.0, 1.0 / 74724249600.0,
  -3617.0 / 10670622842880000.0, 43867.0 / 5109094217170944000.0,
  -174611.0 / 802857662698291200000.0,
  77683.0 / 14101100039391805440000.0,
  -236364091.0 / 1693824136731743669452800000.0
};

static double zeta_em(double s) {
  const int N = 12;
  double sum = 0, t, p;
  int n, k;
  for (n = 1; n < N; n++) sum += pow(n, -s);
  t = pow(N, -s);
  sum += N * t / (s - 1) + t / 2;
  p = s * t / N;          /* s (s+1) ... (s+2k-2) N^(-s-2k+1) */
  for (k = 0; k < 12; k++) {
    sum += BERN[k] * p;
    p *= (s + 2 * k + 1) * (s + 2 * k + 2) / ((double)N * N);
  }
  return sum;
}

/* sin(pi s/2), its argument cut exactly into [-pi/2, pi/2] so that the
   result keeps its relative accuracy near the zeros s = 2k */
static double sin_half_pi(double s) {
  double r = s - 4 * nearbyint(s / 4);   /* exact, in [-2, 2] */
  if (r > 1) r = 2 - r;
  else if (r < -1) r = -2 - r;
  return sin(M_PI / 2 * r);
}

static double zeta(double s) {
  if (s == 1) return INFINITY;
  if (s != s) return s;
  if (s >= 0) return s > 60 ? 1 + pow(2, -s) + pow(3, -s) : zeta_em(s);
  if (s == floor(s) && fmod(s, 2) == 0) return 0;   /* trivial zeros */
  /* zeta(s) = 2^s pi^(s-1) sin(pi s/2) Gamma(1-s) zeta(1-s) */
  return pow(2, s) * pow(M_PI, s - 1) * sin_half_pi(s) * tgamma(1 - s) *
         zeta_em(1 - s);
}

/* zeta'(s) for s >= 0: zeta_em's terms differentiated, the Bernoulli
   terms' polynomial q(s) = s (s+1) ... carried with its derivative */
static double zeta_prime_em(double s) {
  const int N = 12;
  double sum = 0, t, lN = log(N), q = s, dq = 1, f;
  int n, k;
  for (n = 2; n < N; n++) sum -= log(n) * pow(n, -s);
  t = pow(N, -s);
  sum -= N * t * (lN / (s - 1) + 1 / ((s - 1) * (s - 1))) + lN * t / 2;
  f = t / N;              /* N^(-s-2k-1) */
  for (k = 0; k < 12; k++) {
    double a = s + 2 * k + 1, b = s + 2 * k + 2;
    sum += BERN[k] * f * (dq - q * lN);
    dq = dq * a * b + q * (a + b);
    q *= a * b;
    f /= (double)N * N;
  }
  return sum;
}

/* zeta'(s); for s < 0 the functional equation zeta(s) = 2^s pi^(s-1)
   Gamma(1-s) sin(pi s/2) zeta(1-s) differentiated, its cot(pi s/2) times
   the sine written as the cosine, finite at the trivial zeros:
   zeta'(-2) = -zeta(3)/(4 pi^2) */
static double zeta_prime(double s) {
  double c;
  if (s == 1) return -INFINITY;
  if (s != s) return s;
  if (s >= 0)
    return s > 60 ? -(log(2) * pow(2, -s) + log(3) * pow(3, -s)) :
           zeta_prime_em(s);
  c = pow(2, s) * pow(M_PI, s - 1) * tgamma(1 - s);
  return c * (sin_half_pi(s) * ((log(2 * M_PI) - psi(1 - s)) * zeta_em(1 - s) -
              zeta_prime_em(1 - s)) +
              M_PI / 2 * sin_half_pi(s + 1) * zeta_em(1 - s));
}

/* --- elementwise kernels -------------------------------------------------- */

typedef double (*scalar_fn)(double);

static const struct { const char *name; scalar_fn f; int64_t cost; }
  funcs[HEBB_NSPECOPS] = {
  [HEBB_GAMMA] = {"gamma", tgamma, 40},
  [HEBB_LGAMMA] = {"lgamma", lgamma_safe, 40},
  [HEBB_DIGAMMA] = {"digamma", psi, 60},
  [HEBB_TRIGAMMA] = {"trigamma", trigamma, 60},
  [HEBB_ERF] = {"erf", erf, 20},
  [HEBB_ERFC] = {"erfc", erfc, 20},
  [HEBB_BESSEL_J0] = {"bessel_j0", j0, 60},
  [HEBB_BESSEL_J1] = {"bessel_j1", j1, 60},
  [HEBB_BESSEL_I0] = {"bessel_i0", i0, 100},
  [HEBB_BESSEL_I1] = {"bessel_i1", i1, 100},
  [HEBB_ELLIPK] = {"ellipk", ellipk, 150},
  [HEBB_ELLIPE] = {"ellipe", ellipe, 250},
  [HEBB_ZETA] = {"zeta", zeta, 200},
  [HEBB_TETRAGAMMA] = {"tetragamma", tetragamma, 80},
  [HEBB_ZETA_PRIME] = {"zeta_prime", zeta_prime, 300},
};

static void kernel_f64(int64_t n, char **p, const int64_t *s, void *ud) {
  scalar_fn f = *(scalar_fn *)ud;
  int64_t i;
  for (i = 0; i < n; i++)
    *(double *)(p[0] + i * s[0]) = f(*(const double *)(p[1] + i * s[1]));
}

static void kernel_f32(int64_t n, char **p, const int64_t *s, void *ud) {
  scalar_fn f = *(scalar_fn *)ud;
  int64_t i;
  for (i = 0; i < n; i++)
    *(float *)(p[0] + i * s[0]) =
      (float)f(*(const float *)(p[1] + i * s[1]));
}

double hebb_special_scalar(int op, double x) {
  if (op < 0 || op >= HEBB_NSPECOPS) return NAN;
  return funcs[op].f(x);
}

int hebb_special(int op, const hebb_tensor *a, hebb_tensor **out) {
  const char *who;
  int ct, made = *out == NULL, st;
  scalar_fn f;
  hebb_cast ca;
  if (op < 0 || op >= HEBB_NSPECOPS)
    return hebb_fail(HEBB_ERR_ARG, "special: invalid function %d", op);
  who = funcs[op].name;
  f = funcs[op].f;
  if (hebb_check_dtype(a->dtype, who)) return hebb_last_status();
  ct = a->dtype == HEBB_F32 ? HEBB_F32 : HEBB_F64;
  if (hebb_cast_init(&ca, a, ct)) return hebb_last_status();
  st = hebb_prepare_out(out, ct, a->ndim, a->shape, who);
  if (st == HEBB_OK) {
    hebb_tensor *ops[2] = {*out, ca.t};
    st = hebb_ewise_run(2, ops, a->ndim, a->shape,
                        ct == HEBB_F64 ? kernel_f64 : kernel_f32, &f,
                        funcs[op].cost);
  }
  hebb_cast_free(&ca);
  return hebb_ewise_end(out, made, st);
}
