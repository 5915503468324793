/*
** rg_network.c -- the sampler under hebb.rg's coarse-graining of
** non-Gaussian networks (stdlib/hebb/_rg_sample.lua): heat-bath sweeps of
** a network of n neurons with the weight e^{-x^T K_l x / 2 + h^T x}, K_l
** = diag K + lambda (K - diag K), for binary neurons (x = +-1) or Gaussian
** ones (x real).  lambda < 1 switches the couplings on gradually:
** thermodynamic integration samples the path lambda in [0, 1].
**
** K is any symmetric matrix (dense: every neuron may talk to every
** other), so a sweep costs n^2.  The chains are independent: chain c
** draws its words from the Philox stream stream0 + c, sweep t (t = 0 is
** the random start) at positions t W .. t W + W - 1 (W words a sweep), so
** a chain's states depend on (seed, stream0 + c) only, never on the
** thread that runs it or on how many chains run beside it.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "lattice.h"

typedef struct net_job {
  int64_t n, burn, nmeas, thin;
  int neuron;
  double lambda;
  uint64_t seed, stream0;
  const double *K, *h;
  double *out;                    /* {chains, nmeas, n} */
  int64_t *fail;                  /* 1 if a worker ran out of memory */
} net_job;

/* the local field of neuron i: h_i - lambda sum_{j != i} K_ij x_j (K and h
   are the contiguous f64 copies hebb_astype made) */
static double field(const net_job *j, const double *x, int64_t i) {
  const double *row = j->K + i * j->n;
  double acc = 0;
  int64_t k;
  for (k = 0; k < j->n; k++) acc += row[k] * x[k];
  acc -= row[i] * x[i];
  return j->h[i] - j->lambda * acc;
}

/* one heat-bath sweep in neuron order; w holds the sweep's words (n for
   binary neurons, 2n for Gaussian ones: Box-Muller makes two normals of
   two words, n + 1 at most are used) */
static void sweep(const net_job *j, double *x, const uint64_t *w, double *z) {
  int64_t i;
  if (j->neuron == HEBB_RG_NET_GAUSS) lat_normals(w, (int)(j->n + 1) / 2, z);
  for (i = 0; i < j->n; i++) {
    double f = field(j, x, i);
    if (j->neuron == HEBB_RG_NET_ISING)   /* P(+1) = 1 / (1 + e^{-2f}) */
      x[i] = lat_unif(w[i]) * (1 + exp(-2 * f)) < 1 ? 1 : -1;
    else {
      double k = j->K[i * j->n + i];
      x[i] = f / k + z[i] / sqrt(k);
    }
  }
}

static void chain(const net_job *j, int64_t c, double *x, uint64_t *w,
                  double *z) {
  int64_t W = j->neuron == HEBB_RG_NET_GAUSS ? 2 * j->n : j->n;
  uint64_t stream = j->stream0 + (uint64_t)c, t = 0;
  int64_t i, m, s;
  double *out = j->out + c * j->nmeas * j->n;
  hebb_philox_words(j->seed, stream, 0, W, w);     /* the random start */
  for (i = 0; i < j->n; i++)
    x[i] = j->neuron == HEBB_RG_NET_ISING ? (w[i] >> 63 ? 1 : -1)
                                          : lat_unif(w[i]) * 2 - 1;
  for (s = 0; s < j->burn; s++) {
    hebb_philox_words(j->seed, stream, ++t * (uint64_t)W, W, w);
    sweep(j, x, w, z);
  }
  for (m = 0; m < j->nmeas; m++) {
    for (s = 0; s < j->thin; s++) {
      hebb_philox_words(j->seed, stream, ++t * (uint64_t)W, W, w);
      sweep(j, x, w, z);
    }
    memcpy(out + m * j->n, x, (size_t)j->n * sizeof *x);
  }
}

static void chain_range(int64_t lo, int64_t hi, void *ud) {
  const net_job *j = ud;
  double *x = malloc((size_t)(j->n * 3 + 2) * sizeof *x);   /* x, z */
  uint64_t *w = malloc((size_t)j->n * 2 * sizeof *w);
  int64_t c;
  if (!x || !w) *j->fail = 1;
  else
    for (c = lo; c < hi; c++) chain(j, c, x, w, x + j->n);
  free(x);
  free(w);
}

static int check_args(const hebb_tensor *K, const hebb_tensor *h, int neuron,
                      int64_t chains, int64_t burn, int64_t nmeas,
                      int64_t thin) {
  const char *who = "rg.sample";
  int64_t n = K->ndim == 2 ? K->shape[0] : 0, i;
  const double *k;
  if (K->ndim != 2 || K->shape[1] != n || n < 1)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: K must be a square matrix", who);
  if (h->ndim != 1 || h->shape[0] != n)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: h must be a vector of %lld biases",
                     who, (long long)n);
  if (neuron != HEBB_RG_NET_ISING && neuron != HEBB_RG_NET_GAUSS)
    return hebb_fail(HEBB_ERR_ARG, "%s: unknown neuron kind %d", who, neuron);
  if (chains < 1 || burn < 0 || nmeas < 1 || thin < 1)
    return hebb_fail(HEBB_ERR_ARG, "%s: chains %lld, burn %lld, measurements "
                     "%lld, thin %lld: need chains, measurements and thin >= "
                     "1, burn >= 0", who, (long long)chains, (long long)burn,
                     (long long)nmeas, (long long)thin);
  if (neuron == HEBB_RG_NET_GAUSS)
    for (i = 0, k = hebb_data_ptr(K); i < n; i++)
      if (!(k[i * n + i] > 0))
        return hebb_fail(HEBB_ERR_ARG, "%s: a Gaussian neuron needs K_ii > 0, "
                         "K[%lld][%lld] = %g", who, (long long)i + 1,
                         (long long)i + 1, k[i * n + i]);
  return HEBB_OK;
}

hebb_status hebb_rg_net_sample(const hebb_tensor *K, const hebb_tensor *h,
                               int neuron, double lambda, int64_t chains,
                               int64_t burn, int64_t nmeas, int64_t thin,
                               uint64_t seed, uint64_t stream0,
                               hebb_tensor **out) {
  hebb_tensor *Kc = NULL, *hc = NULL, *y;
  int64_t shape[3], fail = 0;
  net_job j;
  int st;
  if (!(Kc = hebb_astype(K, HEBB_F64)) || !(hc = hebb_astype(h, HEBB_F64)))
    return hebb_release(Kc), hebb_last_status();
  if ((st = check_args(Kc, hc, neuron, chains, burn, nmeas, thin)))
    return hebb_release(Kc), hebb_release(hc), st;
  shape[0] = chains, shape[1] = nmeas, shape[2] = K->shape[0];
  if (!(y = hebb_empty(HEBB_F64, 3, shape)))
    return hebb_release(Kc), hebb_release(hc), hebb_last_status();
  memset(&j, 0, sizeof j);
  j.n = shape[2], j.burn = burn, j.nmeas = nmeas, j.thin = thin;
  j.neuron = neuron, j.lambda = lambda, j.seed = seed, j.stream0 = stream0;
  j.K = hebb_data_ptr(Kc), j.h = hebb_data_ptr(hc), j.out = hebb_data_ptr(y);
  j.fail = &fail;
  st = hebb_parallel_for(chains, (burn + nmeas * thin) * j.n * j.n,
                         chain_range, &j);
  hebb_release(Kc);
  hebb_release(hc);
  if (st == HEBB_OK && fail)
    st = hebb_fail(HEBB_ERR_NOMEM, "rg.sample: out of memory");
  if (st) return hebb_release(y), st;
  *out = y;
  return HEBB_OK;
}
