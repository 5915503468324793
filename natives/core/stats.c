/*
** stats.c -- the loops of Monte Carlo error analysis (hebb.stats): the
** binning analysis, the autocorrelation function with Sokal's automatic
** window, and AR(1) series (the test series with a known autocorrelation
** time).
**
** Sums over samples go through fixed blocks of BLOCK samples, each summed
** in order, and the block results are added in order: the same bits at
** any thread count.  The autocovariances are taken 8 lags at a time: each
** sample d_i meets the 8 samples d_{i+t0} .. d_{i+t0+7} in one vector
** operation, so a pass over the data yields 8 lags (a window of W lags
** costs W/8 passes, not W).
**
** Definitions (Madras & Sokal, J. Stat. Phys. 50, 109 (1988); Sokal,
** "Monte Carlo methods in statistical mechanics" (1996)):
**   C(t) = 1/(n-t) sum_{i<n-t} (x_i - m)(x_{i+t} - m),  rho(t) = C(t)/C(0)
**   tau_int(W) = 1/2 + sum_{t=1..W} rho(t), W the smallest lag with
**   W >= c tau_int(W), and the error of tau: tau sqrt(2 (2W + 1) / n).
** Binning: bins of 2^k consecutive samples while at least `minbins` bins
** remain; the standard error of the mean from the bin means is
** sqrt(var / nbins) (var with nbins - 1 in the denominator).
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define BLOCK 16384
#define LAGS 8

/* x as a contiguous f64 copy, from the caching allocator (a fresh 80 MB
   array for 1e7 samples costs 0.2-0.3 s of page faults; a cached one
   none), or NULL with an error; release with free_samples */
static double *samples(const hebb_tensor *x, int64_t *n, const char *who) {
  hebb_tensor flat, *c;
  double *v;
  if (hebb_check_dtype(x->dtype, who)) return NULL;
  if (x->ndim != 1)
    return hebb_fail_null(HEBB_ERR_SHAPE, "%s: the series must be 1-d (got "
                          "%d-d)", who, x->ndim);
  *n = x->shape[0];
  v = hebb_alloc_bytes((size_t)(*n > 0 ? *n : 1) * sizeof(double));
  if (!v) return hebb_fail_null(HEBB_ERR_NOMEM, "%s: out of memory", who);
  memset(&flat, 0, sizeof flat);
  flat.dtype = HEBB_F64;
  flat.ndim = 1;
  flat.shape[0] = *n;
  flat.stride[0] = 1;
  flat.refcount = 1;
  flat.data = (char *)v;
  c = (hebb_tensor *)x;
  if (hebb_copy(&flat, c) != HEBB_OK) {
    hebb_free_bytes(v, (size_t)(*n > 0 ? *n : 1) * sizeof(double));
    return NULL;
  }
  return v;
}

static void free_samples(double *v, int64_t n) {
  hebb_free_bytes(v, (size_t)(n > 0 ? n : 1) * sizeof(double));
}

/* sum of v[0..n) in 8 lanes (vector-friendly, a fixed order) */
static double lane_sum(const double *v, int64_t n) {
  double acc[8] = {0}, s = 0;
  int64_t i;
  int k;
  for (i = 0; i + 8 <= n; i += 8)
    for (k = 0; k < 8; k++) acc[k] += v[i + k];
  for (; i < n; i++) acc[i % 8] += v[i];
  for (k = 0; k < 8; k++) s += acc[k];
  return s;
}

/* sum of (v[i] - m)^2 in 8 lanes */
static double lane_ss(const double *v, int64_t n, double m) {
  double acc[8] = {0}, s = 0;
  int64_t i;
  int k;
  for (i = 0; i + 8 <= n; i += 8)
    for (k = 0; k < 8; k++) acc[k] += (v[i + k] - m) * (v[i + k] - m);
  for (; i < n; i++) acc[i % 8] += (v[i] - m) * (v[i] - m);
  for (k = 0; k < 8; k++) s += acc[k];
  return s;
}

/* the mean of v by blocks */
static double block_mean(const double *v, int64_t n) {
  double s = 0;
  int64_t b;
  for (b = 0; b < n; b += BLOCK) s += lane_sum(v + b, n - b < BLOCK ? n - b : BLOCK);
  return n > 0 ? s / (double)n : 0;
}

static double block_ss(const double *v, int64_t n, double m) {
  double s = 0;
  int64_t b;
  for (b = 0; b < n; b += BLOCK) s += lane_ss(v + b, n - b < BLOCK ? n - b : BLOCK, m);
  return s;
}

/* --- binning ----------------------------------------------------------------- */

int hebb_stats_binning(const hebb_tensor *x, int64_t minbins,
                       hebb_tensor **errors) {
  int64_t n, nb, k, levels = 0, i;
  double *v, err[64];
  int st;
  if (minbins < 2)
    return hebb_fail(HEBB_ERR_ARG, "binning: min_bins = %lld; needs >= 2",
                     (long long)minbins);
  if (!(v = samples(x, &n, "binning"))) return hebb_last_status();
  if (n < 2 * minbins) {
    free_samples(v, n);
    return hebb_fail(HEBB_ERR_ARG, "binning: %lld samples are too few (a "
                     "binning analysis with at least %lld bins needs %lld)",
                     (long long)n, (long long)minbins, (long long)(2 * minbins));
  }
  for (nb = n; nb >= minbins && levels < 64; nb /= 2) {
    double m = block_mean(v, nb), var = block_ss(v, nb, m) / (double)(nb - 1);
    err[levels++] = sqrt(var / (double)nb);
    for (i = 0; i < nb / 2; i++) v[i] = (v[2 * i] + v[2 * i + 1]) / 2;
  }
  free_samples(v, n);
  k = levels;
  st = hebb_prepare_out(errors, HEBB_F64, 1, &k, "binning");
  if (st == HEBB_OK) {
    if (!hebb_is_contiguous(*errors))
      return hebb_fail(HEBB_ERR_ARG, "binning: out must be contiguous");
    memcpy(hebb_data_ptr(*errors), err, (size_t)levels * sizeof(double));
  }
  return st;
}

/* --- autocorrelation --------------------------------------------------------- */

typedef struct lagsum {
  const double *d;
  int64_t n, t0;
  double (*part)[LAGS];   /* per block */
} lagsum;

/* block b's sums of d_i d_{i+t}, t = t0 .. t0+7, over the i of the block
   with i + t < n */
static void lag_block(int64_t lo, int64_t hi, void *ud) {
  const lagsum *s = ud;
  const double *d = s->d;
  int64_t b, n = s->n, t0 = s->t0;
  for (b = lo; b < hi; b++) {
    int64_t a = b * BLOCK, e = a + BLOCK < n - t0 ? a + BLOCK : n - t0, i;
    int64_t full = e < n - t0 - (LAGS - 1) ? e : n - t0 - (LAGS - 1);
    double acc[LAGS] = {0};
    int k;
    for (i = a; i < full; i++) {   /* all 8 lags in range */
      double di = d[i];
      const double *y = d + i + t0;
      for (k = 0; k < LAGS; k++) acc[k] += di * y[k];
    }
    for (i = full > a ? full : a; i < e; i++)   /* the last few: per lag */
      for (k = 0; k < LAGS; k++)
        if (i + t0 + k < n) acc[k] += d[i] * d[i + t0 + k];
    memcpy(s->part[b], acc, sizeof acc);
  }
}

/* C(t0 .. t0+7) (unnormalized sums) of the centred series d */
static int lag_sums(const double *d, int64_t n, int64_t t0, double *out,
                    double (*part)[LAGS]) {
  lagsum s;
  int64_t nblocks = (n - t0 + BLOCK - 1) / BLOCK, b;
  int k, st;
  s.d = d;
  s.n = n;
  s.t0 = t0;
  s.part = part;
  for (k = 0; k < LAGS; k++) out[k] = 0;
  if (nblocks <= 0) return HEBB_OK;
  st = hebb_parallel_for(nblocks, BLOCK * LAGS, lag_block, &s);
  for (b = 0; b < nblocks; b++)
    for (k = 0; k < LAGS; k++) out[k] += part[b][k];
  return st;
}

int hebb_stats_autocorr(const hebb_tensor *x, double c, int64_t maxlag,
                        hebb_autocorr *res, hebb_tensor **rho) {
  int64_t n, i, t, W = -1, nlag;
  double *d, *r = NULL, (*part)[LAGS] = NULL, m, c0, tau = 0.5;
  int st = HEBB_OK;
  if (!(c > 0))
    return hebb_fail(HEBB_ERR_ARG, "autocorr: the window factor c = %g must "
                     "be > 0", c);
  if (!(d = samples(x, &n, "autocorr"))) return hebb_last_status();
  if (n < 4) {
    free_samples(d, n);
    return hebb_fail(HEBB_ERR_ARG, "autocorr: %lld samples are too few for an "
                     "autocorrelation time (needs at least 4)", (long long)n);
  }
  if (maxlag < 1 || maxlag > n / 2) maxlag = n / 2;
  m = block_mean(d, n);
  for (i = 0; i < n; i++) d[i] -= m;
  nlag = ((maxlag + LAGS) / LAGS) * LAGS;
  r = malloc((size_t)(nlag + LAGS) * sizeof(double));
  part = malloc((size_t)((n + BLOCK - 1) / BLOCK) * sizeof *part);
  if (!r || !part) st = hebb_fail(HEBB_ERR_NOMEM, "autocorr: out of memory");
  c0 = 0;
  for (t = 0; st == HEBB_OK && W < 0 && t <= maxlag; t += LAGS) {
    int k;
    st = lag_sums(d, n, t, r + t, part);
    for (k = 0; k < LAGS && st == HEBB_OK; k++) {
      int64_t lag = t + k;
      r[lag] = lag < n ? r[lag] / (double)(n - lag) : 0;
      if (lag == 0) {
        c0 = r[0];
        continue;
      }
      if (lag > maxlag || !(c0 > 0)) break;
      tau += r[lag] / c0;
      if ((double)lag >= c * tau) { W = lag; break; }
    }
    if (!(c0 > 0)) break;
  }
  res->mean = m;
  res->var = c0 * (double)n / (double)(n - 1);
  if (!(c0 > 0)) {   /* a constant series: no fluctuation to correlate */
    tau = 0.5;
    W = 0;
  }
  res->converged = W >= 0;
  if (W < 0) W = maxlag;
  res->tau = tau;
  res->window = W;
  res->tau_err = tau * sqrt(2.0 * (2.0 * (double)W + 1) / (double)n);
  if (st == HEBB_OK && rho) {
    int64_t len = W + 1;
    st = hebb_prepare_out(rho, HEBB_F64, 1, &len, "autocorr");
    if (st == HEBB_OK && !hebb_is_contiguous(*rho))
      st = hebb_fail(HEBB_ERR_ARG, "autocorr: out must be contiguous");
    if (st == HEBB_OK) {
      double *o = hebb_data_ptr(*rho);
      for (t = 0; t <= W; t++) o[t] = c0 > 0 ? r[t] / c0 : (t == 0);
    }
  }
  free_samples(d, n);
  free(r);
  free(part);
  return st;
}

/* --- AR(1) ---------------------------------------------------------------------- */

int hebb_stats_ar1(hebb_rng *g, double a, hebb_tensor *out) {
  double *x, s;
  int64_t n, i;
  int st;
  if (!(a > -1 && a < 1))
    return hebb_fail(HEBB_ERR_ARG, "ar1: the coefficient a = %g must be in "
                     "(-1, 1)", a);
  if (out->dtype != HEBB_F64 || out->ndim != 1 || !hebb_is_contiguous(out))
    return hebb_fail(HEBB_ERR_ARG, "ar1: needs a contiguous 1-d f64 tensor");
  if ((st = hebb_rand_normal(g, out, 0, 1)) != HEBB_OK) return st;
  x = hebb_data_ptr(out);
  n = out->shape[0];
  s = sqrt(1 - a * a);
  for (i = 1; i < n; i++) x[i] = a * x[i - 1] + s * x[i];
  return HEBB_OK;
}
