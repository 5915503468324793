/*
** lattice_exact.c -- exact thermal averages of small systems, the test
** oracle of the Monte Carlo code: enumeration of every state, and the
** row-to-row transfer matrix of the 2D Ising model.
**
** Enumeration walks the 2^N Ising states in Gray-code order (state k is
** k ^ (k >> 1): one spin flips between neighbours in the walk, so each
** state costs one local energy change) and the q^N Potts states as an
** odometer.  The walk is cut into a fixed number of chunks (not a number
** of threads), each summing its weights e^{-beta (E - E_ref)} with E_ref
** its lowest energy so far (every weight <= 1; the sums are rescaled when
** a lower energy turns up), and the chunks are combined in order: the
** same bits at any thread count.
**
** The transfer matrix T = V H acts on the 2^L states of a row: H is
** diagonal, e^{K sum_j s_j s_{j+1}} (the row's bonds, periodic), V the
** product over columns of [[e^K, e^-K], [e^-K, e^K]] (the bonds to the
** next row), applied column by column as butterflies.  Z = Tr T^M is
** computed on the full 2^L x 2^L matrix, and with it dZ/dK, d2Z/dK2,
** dZ/dh and d2Z/dh2 at h = 0 (each factor's derivative is known in
** closed form, and the product rule carries them along), so the energy,
** its fluctuation and the susceptibility come out exact, not from finite
** differences.  The matrices are rescaled by their largest entry after
** every row (a constant factor, so derivatives of ln Z are unchanged).
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lattice.h"

/* --- enumeration ------------------------------------------------------------- */

/* weight, E - E_ref, (E - E_ref)^2, M, |M|, M^2, M^4: the energy moments
   about the chunk's lowest energy, so that the variance (the specific heat)
   is not the small difference of two large numbers at low temperature */
#define NSUMS 7
#define MAXSTATES ((uint64_t)1 << 30)

typedef struct enumer {
  const hebb_lattice *lat;
  lat_geom geo;
  const double *Jb, *hs, *beta;
  int64_t nb, nchunks;
  uint64_t nstates;
  double *acc;   /* per chunk: E_ref, then NSUMS per beta */
  int64_t *digits;   /* per chunk: N digits (Potts odometer) */
} enumer;

static double field(const enumer *e, int64_t i) {
  return e->hs ? e->hs[i] : e->lat->h;
}

/* the energy of configuration s (Ising +-1 or Potts 1..q) */
static double energy(const enumer *e, const int64_t *s) {
  const lat_geom *g = &e->geo;
  int64_t i, nb[2 * HEBB_LATTICE_MAXDIM];
  double E = 0;
  int k, ising = e->lat->model == HEBB_ISING;
  for (i = 0; i < g->N; i++) {
    lat_neighbours(g, i, nb);
    for (k = 0; k < g->d; k++) {
      int64_t j = nb[2 * k];
      if (j < 0) continue;
      E -= lat_J(e->lat, e->Jb, g->N, i, k) *
           (double)(ising ? s[i] * s[j] : s[i] == s[j]);
    }
    E -= field(e, i) * (double)(ising ? s[i] : s[i] == 1);
  }
  return E;
}

/* the energy change when site i of s takes the value v */
static double delta_e(const enumer *e, const int64_t *s, int64_t i,
                      int64_t v) {
  const lat_geom *g = &e->geo;
  int64_t nb[2 * HEBB_LATTICE_MAXDIM];
  double dE = 0;
  int k, m = lat_neighbours(g, i, nb);
  for (k = 0; k < m; k++) {
    int64_t j = nb[k];
    double J;
    if (j < 0) continue;
    J = lat_J(e->lat, e->Jb, g->N, k % 2 ? j : i, k / 2);
    if (e->lat->model == HEBB_ISING) dE -= J * (double)((v - s[i]) * s[j]);
    else dE -= J * (double)((v == s[j]) - (s[i] == s[j]));
  }
  if (e->lat->model == HEBB_ISING) dE -= field(e, i) * (double)(v - s[i]);
  else dE -= field(e, i) * (double)((v == 1) - (s[i] == 1));
  return dE;
}

/* the sums a of weights w_i and moments of E_i - ref, taken about ref - d
   instead and scaled by f */
static void shift(double *a, double d, double f) {
  double s0 = a[0], s1 = a[1];
  int k;
  a[1] = s1 + d * s0;
  a[2] = a[2] + 2 * d * s1 + d * d * s0;
  for (k = 0; k < NSUMS; k++) a[k] *= f;
}

/* adds a state of energy E and magnetization M to a chunk's sums */
static void add_state(const enumer *e, double *acc, double E, double M) {
  int64_t b;
  double M2 = M * M, dE;
  if (E < acc[0]) {   /* a new lowest energy: rescale so weights stay <= 1 */
    for (b = 0; b < e->nb; b++)
      shift(acc + 1 + b * NSUMS, acc[0] - E, exp(-e->beta[b] * (acc[0] - E)));
    acc[0] = E;
  }
  dE = E - acc[0];
  for (b = 0; b < e->nb; b++) {
    double w = exp(-e->beta[b] * dE), *a = acc + 1 + b * NSUMS;
    a[0] += w;
    a[1] += w * dE;
    a[2] += w * dE * dE;
    a[3] += w * M;
    a[4] += w * fabs(M);
    a[5] += w * M2;
    a[6] += w * M2 * M2;
  }
}

/* the Potts order parameter N (q max_k n_k / N - 1)/(q - 1) */
static double potts_m(const int64_t *count, int q, int64_t N) {
  int64_t top = 0;
  int k;
  for (k = 0; k < q; k++) top = count[k] > top ? count[k] : top;
  return ((double)q * (double)top - (double)N) / (q - 1);
}

static void enum_chunk(const enumer *e, int64_t c) {
  const lat_geom *g = &e->geo;
  uint64_t lo = e->nstates * (uint64_t)c / (uint64_t)e->nchunks;
  uint64_t hi = e->nstates * (uint64_t)(c + 1) / (uint64_t)e->nchunks, k;
  int64_t *s = e->digits + c * g->N, i, count[256] = {0};
  double *acc = e->acc + c * (1 + NSUMS * e->nb), E, M = 0;
  int q = e->lat->q, ising = e->lat->model == HEBB_ISING;
  if (ising) {
    uint64_t gray = lo ^ (lo >> 1);
    for (i = 0; i < g->N; i++) s[i] = gray >> i & 1 ? -1 : 1;
  } else {
    uint64_t x = lo;
    for (i = 0; i < g->N; i++) { s[i] = (int64_t)(x % (uint64_t)q) + 1; x /= (uint64_t)q; }
  }
  for (i = 0; i < g->N; i++) {
    if (ising) M += (double)s[i];
    else count[s[i] - 1]++;
  }
  E = energy(e, s);
  acc[0] = E;
  for (k = lo; k < hi; k++) {
    add_state(e, acc, E, ising ? M : potts_m(count, q, g->N));
    if (k + 1 == hi) break;
    if (ising) {   /* the next Gray code differs in bit ctz(k + 1) */
      int64_t j = __builtin_ctzll(k + 1);
      E += delta_e(e, s, j, -s[j]);
      M -= 2 * (double)s[j];
      s[j] = -s[j];
    } else {       /* odometer: the lowest digit that does not carry */
      for (i = 0; i < g->N; i++) {
        int64_t v = s[i] == q ? 1 : s[i] + 1;
        E += delta_e(e, s, i, v);
        count[s[i] - 1]--;
        count[v - 1]++;
        s[i] = v;
        if (v != 1) break;
      }
    }
    if ((k & 0xfffff) == 0 && hebb_interrupt_pending()) break;
  }
}

static void enum_range(int64_t lo, int64_t hi, void *ud) {
  for (; lo < hi; lo++) enum_chunk(ud, lo);
}

/* combines the chunks' sums (in order) into out */
static void enum_finish(const enumer *e, hebb_thermo *out) {
  int64_t b, c, stride = 1 + NSUMS * e->nb;
  double emin = INFINITY;
  for (c = 0; c < e->nchunks; c++) emin = fmin(emin, e->acc[c * stride]);
  for (b = 0; b < e->nb; b++) {
    double t[NSUMS] = {0}, mu;
    int k;
    for (c = 0; c < e->nchunks; c++) {
      double a[NSUMS], d = e->acc[c * stride] - emin;
      memcpy(a, e->acc + c * stride + 1 + b * NSUMS, sizeof a);
      shift(a, d, exp(-e->beta[b] * d));
      for (k = 0; k < NSUMS; k++) t[k] += a[k];
    }
    mu = t[1] / t[0];
    out[b].lnZ = log(t[0]) - e->beta[b] * emin;
    out[b].E = emin + mu;
    out[b].Evar = fmax(t[2] / t[0] - mu * mu, 0);
    out[b].M = t[3] / t[0];
    out[b].absM = t[4] / t[0];
    out[b].M2 = t[5] / t[0];
    out[b].M4 = t[6] / t[0];
  }
}

static int enum_check(const hebb_lattice *lat, uint64_t *nstates) {
  int64_t N, i;
  uint64_t n = 1;
  if (hebb_lattice_check(lat)) return hebb_last_status();
  if (lat->model == HEBB_ON)
    return hebb_fail(HEBB_ERR_ARG, "enumerate: O(n) spins are continuous; "
                     "only Ising and Potts states can be enumerated");
  if (lat->model == HEBB_POTTS && lat->q > 256)
    return hebb_fail(HEBB_ERR_ARG, "enumerate: q = %d; at most 256", lat->q);
  N = hebb_lattice_sites(lat);
  for (i = 0; i < N; i++) {
    n *= (uint64_t)lat->q;
    if (n > MAXSTATES)
      return hebb_fail(HEBB_ERR_ARG, "enumerate: %d^%lld states is more than "
                       "2^30; enumeration is for small systems", lat->q,
                       (long long)N);
  }
  *nstates = n;
  return HEBB_OK;
}

int hebb_lattice_enumerate(const hebb_lattice *lat, const double *beta,
                           int64_t nbeta, hebb_thermo *out) {
  enumer e;
  int st;
  memset(&e, 0, sizeof e);
  if (enum_check(lat, &e.nstates)) return hebb_last_status();
  if (nbeta < 1)
    return hebb_fail(HEBB_ERR_ARG, "enumerate: no inverse temperatures");
  for (st = 0; st < nbeta; st++)
    if (!isfinite(beta[st]))
      return hebb_fail(HEBB_ERR_ARG, "enumerate: beta = %g is not finite",
                       beta[st]);
  lat_geom_init(&e.geo, lat);
  e.lat = lat;
  e.Jb = lat->Jb ? hebb_data_ptr(lat->Jb) : NULL;
  e.hs = lat->hs ? hebb_data_ptr(lat->hs) : NULL;
  e.beta = beta;
  e.nb = nbeta;
  /* a fixed number of chunks: the grouping of the sums, and so the bits,
     do not depend on the threads */
  e.nchunks = e.nstates >= 65536 ? 64 : 1;
  e.acc = calloc((size_t)(e.nchunks * (1 + NSUMS * nbeta)), sizeof(double));
  e.digits = malloc((size_t)(e.nchunks * e.geo.N) * sizeof(int64_t));
  if (!e.acc || !e.digits) {
    free(e.acc);
    free(e.digits);
    return hebb_fail(HEBB_ERR_NOMEM, "enumerate: out of memory");
  }
  st = hebb_parallel_for(e.nchunks, (int64_t)(e.nstates / (uint64_t)e.nchunks) *
                         (20 * nbeta + 4 * e.geo.d), enum_range, &e);
  if (st == HEBB_OK) enum_finish(&e, out);
  free(e.acc);
  free(e.digits);
  return st;
}

/* --- transfer matrix ------------------------------------------------------------ */

enum { J0, JK, JKK, JH, JHH, NJET };

typedef struct tmat {
  int64_t L, D;
  double K, a, b;      /* a = e^K, b = e^-K */
  double *x[NJET];     /* D x D each, row-major */
  int64_t bit;         /* the column of the butterfly being applied */
} tmat;

/* rows lo..hi-1 times H (diagonal): H_K = A H, H_KK = A^2 H, H_h = m H,
   H_hh = m^2 H, with A the row's bond sum and m its magnetization */
static void apply_h(int64_t lo, int64_t hi, void *ud) {
  const tmat *t = ud;
  int64_t r, c, D = t->D;
  for (r = lo; r < hi; r++) {
    int64_t j, A = 0, m = 0;
    double hv, *x0 = t->x[J0] + r * D, *xk = t->x[JK] + r * D;
    double *xkk = t->x[JKK] + r * D, *xh = t->x[JH] + r * D;
    double *xhh = t->x[JHH] + r * D;
    for (j = 0; j < t->L; j++) {
      int64_t s1 = r >> j & 1 ? -1 : 1, s2 = r >> ((j + 1) % t->L) & 1 ? -1 : 1;
      A += s1 * s2;
      m += s1;
    }
    hv = exp(t->K * (double)A);
    for (c = 0; c < D; c++) {
      double v0 = x0[c], vk = xk[c], vh = xh[c];
      x0[c] = hv * v0;
      xk[c] = hv * ((double)A * v0 + vk);
      xkk[c] = hv * ((double)(A * A) * v0 + 2 * (double)A * vk + xkk[c]);
      xh[c] = hv * ((double)m * v0 + vh);
      xhh[c] = hv * ((double)(m * m) * v0 + 2 * (double)m * vh + xhh[c]);
    }
  }
}

/* the butterfly of column t->bit on the row pairs p = lo..hi-1 (p-th row
   with that bit clear, and its partner): [[a, b], [b, a]], its K-derivative
   [[a, -b], [-b, a]] and second derivative [[a, b], [b, a]] again */
static void apply_v(int64_t lo, int64_t hi, void *ud) {
  const tmat *t = ud;
  int64_t p, c, D = t->D, bit = t->bit;
  double a = t->a, b = t->b;
  for (p = lo; p < hi; p++) {
    int64_t r0 = ((p >> bit) << (bit + 1)) | (p & ((1 << bit) - 1));
    int64_t o0 = r0 * D, o1 = (r0 | (int64_t)1 << bit) * D;
    double *x0 = t->x[J0], *xk = t->x[JK], *xkk = t->x[JKK];
    double *xh = t->x[JH], *xhh = t->x[JHH];
    for (c = 0; c < D; c++) {
      double u0 = x0[o0 + c], u1 = x0[o1 + c];
      double k0 = xk[o0 + c], k1 = xk[o1 + c];
      double kk0 = xkk[o0 + c], kk1 = xkk[o1 + c];
      double h0 = xh[o0 + c], h1 = xh[o1 + c];
      double hh0 = xhh[o0 + c], hh1 = xhh[o1 + c];
      x0[o0 + c] = a * u0 + b * u1;
      x0[o1 + c] = b * u0 + a * u1;
      xk[o0 + c] = a * u0 - b * u1 + a * k0 + b * k1;
      xk[o1 + c] = -b * u0 + a * u1 + b * k0 + a * k1;
      xkk[o0 + c] = a * u0 + b * u1 + 2 * (a * k0 - b * k1) + a * kk0 + b * kk1;
      xkk[o1 + c] = b * u0 + a * u1 + 2 * (-b * k0 + a * k1) + b * kk0 + a * kk1;
      xh[o0 + c] = a * h0 + b * h1;
      xh[o1 + c] = b * h0 + a * h1;
      xhh[o0 + c] = a * hh0 + b * hh1;
      xhh[o1 + c] = b * hh0 + a * hh1;
    }
  }
}

/* divides every jet by the largest |entry| of the value; returns its log */
static double rescale(tmat *t) {
  int64_t i, n = t->D * t->D;
  double top = 0, f;
  int k;
  for (i = 0; i < n; i++) top = fmax(top, fabs(t->x[J0][i]));
  if (!(top > 0)) return 0;
  f = 1 / top;
  for (k = 0; k < NJET; k++)
    for (i = 0; i < n; i++) t->x[k][i] *= f;
  return log(top);
}

static int transfer_one(tmat *t, int64_t M, double K, hebb_thermo *out) {
  int64_t D = t->D, i, row;
  double lnscale = 0, tr[NJET] = {0};
  int k, st = HEBB_OK;
  t->K = K;
  t->a = exp(K);
  t->b = exp(-K);
  for (k = 0; k < NJET; k++) memset(t->x[k], 0, (size_t)(D * D) * sizeof(double));
  for (i = 0; i < D; i++) t->x[J0][i * D + i] = 1;
  for (row = 0; row < M && st == HEBB_OK; row++) {
    st = hebb_parallel_for(D, D * 12, apply_h, t);
    for (t->bit = 0; t->bit < t->L && st == HEBB_OK; t->bit++)
      st = hebb_parallel_for(D / 2, D * 40, apply_v, t);
    lnscale += rescale(t);
  }
  if (st != HEBB_OK) return st;
  for (k = 0; k < NJET; k++)
    for (i = 0; i < D; i++) tr[k] += t->x[k][i * D + i];
  out->lnZ = log(tr[J0]) + lnscale;
  out->E = -tr[JK] / tr[J0];
  out->Evar = fmax(tr[JKK] / tr[J0] - out->E * out->E, 0);
  out->M = tr[JH] / tr[J0];
  out->M2 = tr[JHH] / tr[J0];
  out->absM = NAN;
  out->M4 = NAN;
  return HEBB_OK;
}

int hebb_ising_transfer(int64_t L, int64_t M, const double *K, int64_t nk,
                        hebb_thermo *out) {
  tmat t;
  int64_t i;
  int k, st = HEBB_OK;
  if (L < 2 || L > 10)
    return hebb_fail(HEBB_ERR_ARG, "transfer: row length L = %lld; the "
                     "transfer matrix is 2^L x 2^L, L must be 2 to 10",
                     (long long)L);
  if (M < 2)
    return hebb_fail(HEBB_ERR_ARG, "transfer: M = %lld rows; needs >= 2",
                     (long long)M);
  for (i = 0; i < nk; i++)
    if (!isfinite(K[i]))
      return hebb_fail(HEBB_ERR_ARG, "transfer: K = %g is not finite", K[i]);
  memset(&t, 0, sizeof t);
  t.L = L;
  t.D = (int64_t)1 << L;
  for (k = 0; k < NJET; k++) {
    t.x[k] = malloc((size_t)(t.D * t.D) * sizeof(double));
    if (!t.x[k]) st = hebb_fail(HEBB_ERR_NOMEM, "transfer: out of memory");
  }
  for (i = 0; i < nk && st == HEBB_OK; i++) st = transfer_one(&t, M, K[i], out + i);
  for (k = 0; k < NJET; k++) free(t.x[k]);
  return st;
}
