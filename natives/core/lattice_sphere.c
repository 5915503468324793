/*
** lattice_sphere.c -- exact draws of a unit n-vector s from the density
** p(s) ~ exp(f.s) on the sphere (von Mises-Fisher): the conditional
** distribution of an O(n) spin given beta times its local field, which
** the heat bath (lattice.c) draws from.  With k = |f| and t = cos of the
** angle between s and f, t has the density ~ e^{k t} (1 - t^2)^{(n-3)/2}
** on [-1, 1], and the direction of s about f is uniform:
**   n = 1  s = +-1, P(+1) = 1 / (1 + e^{-2 f})
**   n = 2  the angle by Best & Fisher's rejection (Appl. Stat. 28, 152
**          (1979)): a wrapped-Cauchy envelope accepted with probability
**          >= 0.66 at every k; a random sign
**   n = 3  t by inversion of its distribution function, t = 1 +
**          log1p(v expm1(-2k)) / k (v uniform: no cancellation at any
**          k, t = 1 - 2v at k = 0); the azimuth uniform about f
**   n >= 4 t by Wood's rejection (Commun. Stat. Simul. 23, 157 (1994)):
**          t = (1 - (1+b) Z) / (1 - (1-b) Z), Z ~ Beta((n-1)/2, (n-1)/2),
**          b = (n-1) / (2k + sqrt(4k^2 + (n-1)^2)), accepted when k t +
**          (n-1) log(1 - x0 t) - c >= log u (x0 = (1-b)/(1+b), c = k x0 +
**          (n-1) log(1 - x0^2)); Z = (1 + g_1/|g|)/2 for n Gaussians g; the
**          direction about f from n more Gaussians projected off f
** Near the field's direction (large k) t is close to 1: every formula
** works with 1 - t, computed without cancellation, and sin = sqrt((1 -
** t)(1 + t)), so the small angles keep their relative accuracy.
**
** Words.  A site owns W consecutive words of the sweep's stream at
** position pos (lattice.c): W = 1, 4 (two attempts of 2), 2 and 2m + m + 1
** (m = 2 ceil(n/2) words of Gaussians).  A rejection sampler needing more
** attempts reads attempt a (a = 1, 2, ...) past those from position pos
** of stream `stream + 2^63 + a`: sites' positions are at least W apart
** and an attempt takes at most W words, so no two sites share a word,
** and the draws stay keyed by position (the same bits at any thread
** count).  Wolff's replica streams (stream + r 2^32, r < 2^31) never
** reach these.  After MAXTRY attempts the spin is kept: with acceptance
** >= 0.5 that happens with probability < 2^-1000.
*/
#include <math.h>

#include "lattice.h"

#define MAXTRY 1000
/* the Gaussians a draw needs: n <= 64 of them, made in pairs */
#define MAXG 66

/* the words of attempt a (0: those the site owns, from offset off) */
static const uint64_t *attempt_words(const lat_draws *d, int a, int off,
                                     int len, uint64_t *buf) {
  if (a == 0) return d->w + off;
  hebb_philox_words(d->seed, d->stream + ((uint64_t)1 << 63) + (uint64_t)a,
                    d->pos, len, buf);
  return buf;
}

/* --- n = 2: Best-Fisher ------------------------------------------------------ */

/* cos and sin of the angle to f, k = |f| > 0.  With tau = 1 + s, s =
   sqrt(1 + 4k^2), Best and Fisher's rho = (tau - sqrt(2 tau)) / (2k) is
   2k / (tau + sqrt(2 tau)), 1 - rho = (1 + 1/(s + 2k) + sqrt(2 tau)) /
   (tau + sqrt(2 tau)) (no cancellation), r = (1 + rho^2) / (2 rho) = 1 +
   (1 - rho)^2 / (2 rho).  An attempt draws z = cos(pi u1) and takes f =
   (1 + r z) / (r + z), so 1 - f = (r - 1)(1 - z) / (r + z). */
static int circle(double k, const lat_draws *d, double *ct, double *st) {
  double s = sqrt(1 + 4 * k * k), tau = 1 + s, q = sqrt(2 * tau);
  double rho = 2 * k / (tau + q), omr = (1 + 1 / (s + 2 * k) + q) / (tau + q);
  double rm1 = omr * omr / (2 * rho);
  uint64_t buf[2];
  int a;
  for (a = 0; a < MAXTRY; a++) {
    const uint64_t *w = attempt_words(d, a < 2 ? 0 : a - 1, a < 2 ? 2 * a : 0,
                                      2, buf);
    double h = M_PI / 2 * lat_unif(w[0]), sh = sin(h), chh = cos(h);
    double omz = 2 * sh * sh, opz = 2 * chh * chh;      /* 1 - z, 1 + z */
    double omf = rm1 * omz / (rm1 + opz), c = k * (rm1 + omf);
    double u2 = lat_unif(w[1]);
    if (c * (2 - c) > u2 || log(c / u2) + 1 - c >= 0) {
      *ct = 1 - omf;
      *st = sqrt(omf * (2 - omf)) * (w[0] & 1 ? -1 : 1);
      return 1;
    }
  }
  return 0;
}

/* --- n = 3: inversion ------------------------------------------------------------ */

/* 1 - t from the uniform v: -log1p(v expm1(-2k)) / k (2v at k = 0) */
static double one_minus_t3(double k, double v) {
  return k > 0 ? -log1p(v * expm1(-2 * k)) / k : 2 * v;
}

/* an orthonormal pair (b1, b2) perpendicular to the unit vector e (Duff
   et al., JCGT 6(1) (2017): no division by a small number) */
static void frame3(const double *e, double *b1, double *b2) {
  double sg = copysign(1.0, e[2]), a = -1 / (sg + e[2]), b = e[0] * e[1] * a;
  b1[0] = 1 + sg * e[0] * e[0] * a; b1[1] = sg * b; b1[2] = -sg * e[0];
  b2[0] = b; b2[1] = sg + e[1] * e[1] * a; b2[2] = -e[1];
}

/* --- n >= 4: Wood ------------------------------------------------------------------ */

/* Z ~ Beta((n-1)/2, (n-1)/2) as (1 + g_0/|g|)/2, with 1 - Z: the one near
   0 from the sum of the other squares, not by subtraction */
static void beta_sym(const double *g, int n, double *z, double *omz) {
  double rest = 0, R;
  int c;
  for (c = 1; c < n; c++) rest += g[c] * g[c];
  R = sqrt(rest + g[0] * g[0]);
  if (R == 0) { *z = *omz = 0.5; return; }
  if (g[0] >= 0) {
    *z = (R + g[0]) / (2 * R);
    *omz = rest / (2 * R * (R + g[0]));
  } else {
    *z = rest / (2 * R * (R - g[0]));
    *omz = (R - g[0]) / (2 * R);
  }
}

/* 1 - t by Wood's algorithm; the attempts' words follow the site's m
   Gaussian words of the direction (m + 1 words each) */
static int wood(int n, double k, const lat_draws *d, double *omt) {
  int m = 2 * ((n + 1) / 2), a;
  double nm1 = n - 1, b = nm1 / (2 * k + sqrt(4 * k * k + nm1 * nm1));
  double omx0 = 2 * b / (1 + b), lg = log(4 * b) - 2 * log1p(b);  /* log(1 - x0^2) */
  double g[MAXG];
  uint64_t buf[MAXG + 1];
  for (a = 0; a < MAXTRY; a++) {
    const uint64_t *w = attempt_words(d, a, m, m + 1, buf);
    double z, omz, om, t, ox;
    lat_normals(w, m / 2, g);
    beta_sym(g, n, &z, &omz);
    om = 2 * b * z / (omz + b * z);                 /* 1 - t */
    t = 1 - om;
    ox = t < 0 ? 1 - (1 - omx0) * t : om + t * omx0;   /* 1 - x0 t */
    if (k * (omx0 - om) + nm1 * (log(ox) - lg) >= log(lat_unif(w[m]))) {
      *omt = om;
      return 1;
    }
  }
  return 0;
}

/* a unit vector perpendicular to the unit e from the m Gaussians of w,
   in v; 0 if they happen to lie along e */
static int tangent(int n, const double *e, const uint64_t *w, double *v) {
  double g[MAXG], dot = 0, nrm = 0;
  int c;
  lat_normals(w, (n + 1) / 2, g);
  for (c = 0; c < n; c++) dot += g[c] * e[c];
  for (c = 0; c < n; c++) {
    v[c] = g[c] - dot * e[c];
    nrm += v[c] * v[c];
  }
  if (!(nrm > 0)) return 0;
  nrm = 1 / sqrt(nrm);
  for (c = 0; c < n; c++) v[c] *= nrm;
  return 1;
}

/* --- the draw ------------------------------------------------------------------------- */

int lat_sphere_words(int n) {
  int m = 2 * ((n + 1) / 2);
  return n == 1 ? 1 : n == 2 ? 4 : n == 3 ? 2 : 2 * m + 1;
}

/* s = t e + sqrt(1 - t^2) v, 1 - t given */
static void place(int n, const double *e, const double *v, double omt,
                  double *s) {
  double t = 1 - omt, sn = sqrt(omt * (2 - omt));
  int c;
  for (c = 0; c < n; c++) s[c] = t * e[c] + sn * v[c];
}

int lat_sphere_draw(int n, const double *f, const lat_draws *d, double *s) {
  double e[64], v[64], k = 0, ct, st, omt;
  int c;
  if (n == 1) {
    s[0] = lat_unif(d->w[0]) * (1 + exp(-2 * f[0])) < 1 ? 1 : -1;
    return 1;
  }
  for (c = 0; c < n; c++) k += f[c] * f[c];
  k = sqrt(k);
  for (c = 0; c < n; c++) e[c] = k > 0 ? f[c] / k : c == 0;
  if (n == 2) {
    if (k == 0) {   /* uniform: the envelope's limit r = inf is not finite */
      double ang = 2 * M_PI * lat_unif(d->w[0]);
      ct = cos(ang);
      st = sin(ang);
    } else if (!circle(k, d, &ct, &st))
      return 0;
    s[0] = ct * e[0] - st * e[1];
    s[1] = ct * e[1] + st * e[0];
    return 1;
  }
  if (n == 3) {
    double b1[3], b2[3], phi = 2 * M_PI * lat_unif(d->w[1]);
    frame3(e, b1, b2);
    for (c = 0; c < 3; c++) v[c] = cos(phi) * b1[c] + sin(phi) * b2[c];
    place(3, e, v, one_minus_t3(k, lat_unif(d->w[0])), s);
    return 1;
  }
  if (!tangent(n, e, d->w, v) || !wood(n, k, d, &omt)) return 0;
  place(n, e, v, omt, s);
  return 1;
}
