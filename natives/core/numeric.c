/*
** numeric.c -- Gauss-Legendre quadrature rules of any order (hebb.numeric).
**
** The nodes are the roots of the Legendre polynomial P_n, found by Newton's
** method from Tricomi's estimate x_i ~ cos(pi (i - 1/4) / (n + 1/2)) (A&S
** 22.16.6), with P_n and P_n' from the three-term recurrence (A&S 22.7.10)
** at O(n) per evaluation; the weights are 2 / ((1 - x^2) P_n'(x)^2) (A&S
** 25.4.29).  Newton stops when a step is below 1e-15 (it converges
** quadratically from the estimate: 3 to 5 steps).  The rule is symmetric:
** roots are found in (0, 1] and mirrored.
*/
#include <math.h>

#include "core.h"

/* P_n(x) and P_n'(x) */
static void legendre(int64_t n, double x, double *p, double *dp) {
  double p0 = 1, p1 = x;
  int64_t k;
  for (k = 2; k <= n; k++) {
    double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / (double)k;
    p0 = p1;
    p1 = p2;
  }
  *p = p1;
  *dp = n * (x * p1 - p0) / (x * x - 1);
}

typedef struct glrule { int64_t n; double *x, *w; } glrule;

/* nodes i = lo..hi-1 of the upper half (x_i > 0 for i < n/2) */
static void nodes(int64_t lo, int64_t hi, void *ud) {
  const glrule *r = ud;
  int64_t i, n = r->n;
  for (i = lo; i < hi; i++) {
    double x = cos(M_PI * (i + 0.75) / (n + 0.5)), p, dp, dx;
    int it;
    for (it = 0; it < 100; it++) {
      legendre(n, x, &p, &dp);
      dx = p / dp;
      x -= dx;
      if (fabs(dx) < 1e-15) break;
    }
    legendre(n, x, &p, &dp);
    /* descending x, mirrored into ascending order */
    r->x[n - 1 - i] = x;
    r->x[i] = -x;
    r->w[i] = r->w[n - 1 - i] = 2 / ((1 - x * x) * dp * dp);
  }
}

int hebb_gauss_legendre(int64_t n, double a, double b, hebb_tensor **x,
                        hebb_tensor **w) {
  glrule r;
  int64_t i;
  int st;
  if (n < 1)
    return hebb_fail(HEBB_ERR_ARG, "gauss_legendre: n = %lld points; needs "
                     "at least 1", (long long)n);
  if (!isfinite(a) || !isfinite(b))
    return hebb_fail(HEBB_ERR_ARG, "gauss_legendre: the interval [%g, %g] "
                     "must be finite", a, b);
  if ((st = hebb_prepare_out(x, HEBB_F64, 1, &n, "gauss_legendre")) ||
      (st = hebb_prepare_out(w, HEBB_F64, 1, &n, "gauss_legendre")))
    return st;
  r.n = n;
  r.x = (double *)hebb_first(*x);
  r.w = (double *)hebb_first(*w);
  if (n == 1) {
    r.x[0] = 0;
    r.w[0] = 2;
  }
  else if ((st = hebb_parallel_for((n + 1) / 2, 8 * n, nodes, &r)))
    return st;
  if (n % 2 == 1) r.x[n / 2] = 0;   /* the middle root is exactly 0 */
  for (i = 0; i < n; i++) {       /* [-1, 1] -> [a, b] */
    r.x[i] = (a + b) / 2 + (b - a) / 2 * r.x[i];
    r.w[i] *= (b - a) / 2;
  }
  return HEBB_OK;
}
