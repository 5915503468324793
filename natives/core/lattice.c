/*
** lattice.c -- spin models on hypercubic lattices: checks, energy and
** magnetization, and the local Monte Carlo updates (Metropolis, heat bath,
** over-relaxation).  Cluster updates are in lattice_cluster.c, exact
** results in lattice_exact.c, the O(n) heat bath's draws on the sphere in
** lattice_sphere.c.
**
** Random numbers are keyed by position: in sweep t, site i of replica r
** reads the W words at position counter + ((t B + r) N + k(i)) W of the
** generator's Philox stream, k(i) being the site's rank in its colour
** class (colour c = parity of the coordinate sum; k(i) = c N/2 + i/2,
** since neighbours along the last dimension differ in colour).  A site's
** update depends only on its own words and on the other colour, so the
** sweep runs in parallel over rows and gives the same bits at any thread
** count; the words of one row's sites of one colour are contiguous, so
** they are made in batches (random.c's vector loop).
**
** The Ising model with a uniform coupling and field (the common case)
** takes a fast path: neighbour sums over whole rows (missing neighbours
** past open ends read a row of zeros) and a table of the acceptance
** probabilities of the 2(4d+1) possible (spin, neighbour sum) pairs.
** Everything else goes through one generic path that gathers each site's
** neighbours and couplings.
*/
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lattice.h"

/* sites handled per batch of random words (a row may be longer), and the
   words of a batch: 67 per site covers O(64) Metropolis (2 * 32 Gaussian
   words and one uniform) */
#define CHUNK 128
#define WBUF (CHUNK * 67)
/* the longest neighbour list: 2 per dimension */
#define MAXNB (2 * HEBB_LATTICE_MAXDIM)

static const char *model_name(int m) {
  return m == HEBB_ISING ? "Ising" : m == HEBB_POTTS ? "Potts" : "O(n)";
}

/* --- checks ------------------------------------------------------------------ */

void lat_geom_init(lat_geom *geo, const hebb_lattice *lat) {
  int k;
  geo->d = lat->ndim;
  geo->open = lat->open;
  geo->N = 1;
  for (k = lat->ndim - 1; k >= 0; k--) {
    geo->L[k] = lat->shape[k];
    geo->stride[k] = geo->N;
    geo->N *= lat->shape[k];
  }
}

int64_t hebb_lattice_sites(const hebb_lattice *lat) {
  int64_t n = 1;
  int k;
  for (k = 0; k < lat->ndim && k < HEBB_LATTICE_MAXDIM; k++) n *= lat->shape[k];
  return n;
}

/* a tensor of exactly this shape, f64 and contiguous */
static int check_field(const hebb_tensor *t, int nd, const int64_t *shape,
                       const char *what) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  if (t->ndim != nd || memcmp(t->shape, shape, (size_t)nd * 8) != 0)
    return hebb_fail(HEBB_ERR_SHAPE, "lattice: %s must have shape %s, got %s",
                     what, hebb_shape_str(nd, shape, b1, sizeof b1),
                     hebb_shape_str(t->ndim, t->shape, b2, sizeof b2));
  if (t->dtype != HEBB_F64 || !hebb_is_contiguous(t))
    return hebb_fail(HEBB_ERR_DTYPE, "lattice: %s must be a contiguous f64 "
                     "tensor (got %s)", what, hebb_dtype_name(t->dtype));
  return HEBB_OK;
}

int hebb_lattice_check(const hebb_lattice *lat) {
  int64_t shape[HEBB_LATTICE_MAXDIM + 1], n = 1;
  int k;
  if (lat->model < HEBB_ISING || lat->model > HEBB_ON)
    return hebb_fail(HEBB_ERR_ARG, "lattice: unknown model %d", lat->model);
  if (lat->ndim < 1 || lat->ndim > HEBB_LATTICE_MAXDIM)
    return hebb_fail(HEBB_ERR_ARG, "lattice: dimension %d; supported are 1 to "
                     "%d", lat->ndim, HEBB_LATTICE_MAXDIM);
  for (k = 0; k < lat->ndim; k++) {
    if (lat->shape[k] < 2)
      return hebb_fail(HEBB_ERR_ARG, "lattice: size %lld along dimension %d; "
                       "every size must be >= 2", (long long)lat->shape[k],
                       k + 1);
    if (n > ((int64_t)1 << 40) / lat->shape[k])
      return hebb_fail(HEBB_ERR_ARG, "lattice: more than 2^40 sites");
    n *= lat->shape[k];
  }
  if (lat->model == HEBB_POTTS && lat->q < 2)
    return hebb_fail(HEBB_ERR_ARG, "lattice: Potts model with q = %d; q must "
                     "be >= 2", lat->q);
  if (lat->model == HEBB_ON && (lat->q < 1 || lat->q > 64))
    return hebb_fail(HEBB_ERR_ARG, "lattice: O(n) model with n = %d; n must "
                     "be 1 to 64", lat->q);
  if (!isfinite(lat->J) || !isfinite(lat->h))
    return hebb_fail(HEBB_ERR_ARG, "lattice: J = %g and h = %g must be "
                     "finite", lat->J, lat->h);
  shape[0] = lat->ndim;
  memcpy(shape + 1, lat->shape, (size_t)lat->ndim * 8);
  if (lat->Jb && check_field(lat->Jb, lat->ndim + 1, shape, "the couplings"))
    return hebb_last_status();
  if (lat->hs && check_field(lat->hs, lat->ndim, lat->shape, "the fields"))
    return hebb_last_status();
  return HEBB_OK;
}

int lat_conf_check(const hebb_lattice *lat, const hebb_tensor *s,
                   lat_conf *c, const char *who) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  int d = lat->ndim, extra = lat->model == HEBB_ON, batch;
  int want = lat->model == HEBB_ON ? HEBB_F64 : HEBB_I64;
  int64_t shape[HEBB_LATTICE_MAXDIM + 1];
  if (hebb_lattice_check(lat)) return hebb_last_status();
  memcpy(shape, lat->shape, (size_t)d * 8);
  shape[d] = lat->q;
  batch = s->ndim == d + extra + 1;
  if ((s->ndim != d + extra && !batch) ||
      memcmp(s->shape + batch, shape, (size_t)(d + extra) * 8) != 0)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: the configuration has shape %s; the "
                     "%s lattice needs %s (or a batch {B, ...})", who,
                     hebb_shape_str(s->ndim, s->shape, b1, sizeof b1),
                     model_name(lat->model),
                     hebb_shape_str(d + extra, shape, b2, sizeof b2));
  if (s->dtype != want)
    return hebb_fail(HEBB_ERR_DTYPE, "%s: a %s configuration is %s, got %s", who,
                     model_name(lat->model), hebb_dtype_name(want),
                     hebb_dtype_name(s->dtype));
  if (!hebb_is_contiguous(s))
    return hebb_fail(HEBB_ERR_ARG, "%s: the configuration must be contiguous",
                     who);
  c->B = batch ? s->shape[0] : 1;
  c->n = hebb_lattice_sites(lat) * (extra ? lat->q : 1);
  c->data = hebb_data_ptr(s);
  return HEBB_OK;
}

int lat_check_beta(const double *beta, int64_t nbeta, int64_t B,
                   const char *who) {
  int64_t r;
  if (nbeta != 1 && nbeta != B)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: %lld inverse temperatures for %lld "
                     "replicas (give 1 or %lld)", who, (long long)nbeta,
                     (long long)B, (long long)B);
  for (r = 0; r < nbeta; r++)
    if (!(beta[r] >= 0) || !isfinite(beta[r]))
      return hebb_fail(HEBB_ERR_ARG, "%s: beta = %g; the inverse temperature "
                       "must be finite and >= 0 (temperature T = 1/beta > 0)",
                       who, beta[r]);
  return HEBB_OK;
}

/* Ising and Potts values must be +-1 and 1..q: a bad value would silently
   corrupt every average */
int lat_check_values(const hebb_lattice *lat, const lat_conf *c,
                     const char *who) {
  const int64_t *v = c->data;
  int64_t i, n = c->B * c->n;
  if (lat->model == HEBB_ON) return HEBB_OK;
  for (i = 0; i < n; i++) {
    int64_t x = v[i];
    if (lat->model == HEBB_ISING ? x != 1 && x != -1 : x < 1 || x > lat->q)
      return hebb_fail(HEBB_ERR_ARG, "%s: spin %lld has the value %lld; a %s "
                       "configuration holds %s", who, (long long)i + 1,
                       (long long)x, model_name(lat->model),
                       lat->model == HEBB_ISING ? "+1 and -1" : "1 .. q");
  }
  return HEBB_OK;
}

/* --- energy and magnetization ----------------------------------------------- */

typedef struct obs {
  const hebb_lattice *lat;
  lat_geom geo;
  lat_conf conf;
  const double *Jb, *hs;
  double *E, *M;          /* B and B * k */
  int k;
} obs;

static double field_at(const obs *o, int64_t i) {
  return o->hs ? o->hs[i] : o->lat->h;
}

/* the energy of replica r and its magnetization components */
static void observe_one(const obs *o, int64_t r) {
  const lat_geom *g = &o->geo;
  int model = o->lat->model, n = o->lat->q, k, c;
  int64_t i, N = g->N;
  double e = 0, *m = o->M + r * o->k;
  for (c = 0; c < o->k; c++) m[c] = 0;
  for (i = 0; i < N; i++) {
    if (model == HEBB_ON) {
      const double *s = (const double *)o->conf.data + (r * N + i) * n;
      for (k = 0; k < g->d; k++) {
        int64_t j = lat_step(g, i, k, 1);
        double dot = 0;
        if (j < 0) continue;
        for (c = 0; c < n; c++) dot += s[c] * s[(j - i) * n + c];
        e -= lat_J(o->lat, o->Jb, N, i, k) * dot;
      }
      e -= field_at(o, i) * s[0];
      for (c = 0; c < n; c++) m[c] += s[c];
    } else {
      const int64_t *s = (const int64_t *)o->conf.data + r * N;
      for (k = 0; k < g->d; k++) {
        int64_t j = lat_step(g, i, k, 1);
        if (j < 0) continue;
        e -= lat_J(o->lat, o->Jb, N, i, k) *
             (double)(model == HEBB_ISING ? s[i] * s[j] : s[i] == s[j]);
      }
      if (model == HEBB_ISING) {
        e -= field_at(o, i) * (double)s[i];
        m[0] += (double)s[i];
      } else {
        e -= field_at(o, i) * (double)(s[i] == 1);
        m[s[i] - 1] += 1;
      }
    }
  }
  o->E[r] = e;
}

static void observe_range(int64_t lo, int64_t hi, void *ud) {
  for (; lo < hi; lo++) observe_one(ud, lo);
}

int hebb_lattice_observe(const hebb_lattice *lat, const hebb_tensor *s,
                         hebb_tensor **energy, hebb_tensor **magnetization) {
  obs o;
  int64_t eshape[1], mshape[2];
  int batch, st;
  memset(&o, 0, sizeof o);
  if (lat_conf_check(lat, s, &o.conf, "observe") ||
      lat_check_values(lat, &o.conf, "observe"))
    return hebb_last_status();
  lat_geom_init(&o.geo, lat);
  o.lat = lat;
  o.Jb = lat->Jb ? hebb_data_ptr(lat->Jb) : NULL;
  o.hs = lat->hs ? hebb_data_ptr(lat->hs) : NULL;
  o.k = lat->model == HEBB_ISING ? 1 : lat->q;
  batch = s->ndim > lat->ndim + (lat->model == HEBB_ON);
  eshape[0] = o.conf.B;
  mshape[0] = o.conf.B;
  mshape[1] = o.k;
  if ((st = hebb_prepare_out(energy, HEBB_F64, batch, eshape, "observe")) ||
      (st = hebb_prepare_out(magnetization, HEBB_F64, 1 + batch,
                             mshape + !batch, "observe")))
    return st;
  if (!hebb_is_contiguous(*energy) || !hebb_is_contiguous(*magnetization))
    return hebb_fail(HEBB_ERR_ARG, "observe: outputs must be contiguous");
  o.E = hebb_data_ptr(*energy);
  o.M = hebb_data_ptr(*magnetization);
  return hebb_parallel_for(o.conf.B, o.geo.N * (2 * o.geo.d + 2) *
                           (lat->model == HEBB_ON ? lat->q : 1),
                           observe_range, &o);
}

/* --- local updates: shared set-up ----------------------------------------- */

enum { U_METROPOLIS, U_HEATBATH, U_OVERRELAX };

typedef struct upd {
  const hebb_lattice *lat;
  lat_geom geo;
  lat_conf conf;
  const double *Jb, *hs, *beta;
  int64_t nbeta;
  uint64_t seed, stream, counter;   /* the sweep's first word: counter */
  int kind, W, color;               /* color -1: all sites in order */
  double delta;
  double *table;                    /* fast path: per replica */
  int tsize;
  const int64_t *zeros;             /* a row of zeros (fast path) */
  atomic_llong accepted;
  int64_t nrows, Ll;
} upd;

/* A row: its first site, its parity, and the first sites of the
   neighbouring rows along each outer dimension (-1: none). */
typedef struct row {
  int64_t start, up[HEBB_LATTICE_MAXDIM], dn[HEBB_LATTICE_MAXDIM];
  int parity;
} row;

static void row_init(const lat_geom *g, int64_t R, row *w) {
  int k;
  w->start = R * g->L[g->d - 1];
  w->parity = 0;
  for (k = 0; k < g->d - 1; k++) {
    w->parity += (int)((w->start / g->stride[k]) % g->L[k]);
    w->up[k] = lat_step(g, w->start, k, 1);
    w->dn[k] = lat_step(g, w->start, k, -1);
  }
  w->parity &= 1;
}

/* the neighbours of site x of row w along the last dimension */
static int64_t last_step(const upd *u, const row *w, int64_t x, int dir) {
  int64_t Ll = u->Ll;
  if (x + dir >= 0 && x + dir < Ll) return w->start + x + dir;
  if (u->geo.open >> (u->geo.d - 1) & 1) return -1;
  return w->start + (dir > 0 ? 0 : Ll - 1);
}

/* The neighbours of site x of row w and the couplings to them; returns
   their number. */
static int neighbours(const upd *u, const row *w, int64_t x, int64_t *nb,
                      double *jb) {
  const lat_geom *g = &u->geo;
  int64_t i = w->start + x, N = g->N, j;
  int k, m = 0, last = g->d - 1;
  for (k = 0; k < last; k++) {
    if (w->up[k] >= 0) {
      nb[m] = w->up[k] + x;
      jb[m++] = lat_J(u->lat, u->Jb, N, i, k);
    }
    if (w->dn[k] >= 0) {   /* the bond (i - e_k, k) */
      nb[m] = w->dn[k] + x;
      jb[m] = lat_J(u->lat, u->Jb, N, nb[m], k);
      m++;
    }
  }
  if ((j = last_step(u, w, x, 1)) >= 0) {
    nb[m] = j;
    jb[m++] = lat_J(u->lat, u->Jb, N, i, last);
  }
  if ((j = last_step(u, w, x, -1)) >= 0) {
    nb[m] = j;
    jb[m++] = lat_J(u->lat, u->Jb, N, j, last);
  }
  return m;
}

static double beta_of(const upd *u, int64_t r) {
  if (!u->beta) return 0;   /* over-relaxation takes no temperature */
  return u->beta[u->nbeta == 1 ? 0 : r];
}

/* --- generic site updates --------------------------------------------------- */

/* one site of an Ising replica (spins s); returns whether it flipped */
static int ising_site(const upd *u, int64_t *s, int64_t i, const int64_t *nb,
                      const double *jb, int m, double beta, const uint64_t *w) {
  double hloc = u->hs ? u->hs[i] : u->lat->h, de;
  int k;
  for (k = 0; k < m; k++) hloc += jb[k] * (double)s[nb[k]];
  if (u->kind == U_HEATBATH) {
    int64_t old = s[i];
    s[i] = lat_unif(w[0]) * (1 + exp(-2 * beta * hloc)) < 1 ? 1 : -1;
    return s[i] != old;
  }
  de = 2 * (double)s[i] * hloc;
  if (de <= 0 || lat_unif(w[0]) < exp(-beta * de)) {
    s[i] = -s[i];
    return 1;
  }
  return 0;
}

/* one Potts site: Metropolis proposes another state (word 0) and accepts
   with word 1; heat bath draws the state from its conditional weights */
static int potts_site(const upd *u, int64_t *s, int64_t i, const int64_t *nb,
                      const double *jb, int m, double beta, const uint64_t *w) {
  int q = u->lat->q, k;
  double h = u->hs ? u->hs[i] : u->lat->h;
  if (u->kind == U_HEATBATH) {
    double e[256], wt[256], top = -INFINITY, sum = 0, x;
    int64_t old = s[i];
    for (k = 0; k < q; k++) e[k] = k == 0 ? beta * h : 0;
    for (k = 0; k < m; k++) e[s[nb[k]] - 1] += beta * jb[k];
    for (k = 0; k < q; k++) top = fmax(top, e[k]);
    for (k = 0; k < q; k++) sum += wt[k] = exp(e[k] - top);
    x = lat_unif(w[0]) * sum;
    for (k = 0; k < q - 1 && x >= wt[k]; k++) x -= wt[k];
    s[i] = k + 1;
    return s[i] != old;
  } else {
    int64_t cur = s[i], nw = 1 + (cur + (int64_t)lat_below(w[0], (uint64_t)q - 1)) % q;
    double de = -h * ((double)(nw == 1) - (double)(cur == 1));
    for (k = 0; k < m; k++)
      de -= jb[k] * ((double)(s[nb[k]] == nw) - (double)(s[nb[k]] == cur));
    if (de <= 0 || lat_unif(w[1]) < exp(-beta * de)) {
      s[i] = nw;
      return 1;
    }
    return 0;
  }
}

/* the local field sum_j J_ij s_j + h_i e_0 of an O(n) site */
static void on_field(const upd *u, const double *s, int64_t i,
                     const int64_t *nb, const double *jb, int m, double *f) {
  int n = u->lat->q, k, c;
  for (c = 0; c < n; c++) f[c] = 0;
  f[0] = u->hs ? u->hs[i] : u->lat->h;
  for (k = 0; k < m; k++)
    for (c = 0; c < n; c++) f[c] += jb[k] * s[nb[k] * n + c];
}

/* O(n): Metropolis on s + delta g (normalized), the heat bath's exact
   draw given the local field (its words at position pos), or the
   reflection about the local field */
static int on_site(const upd *u, double *s, int64_t i, const int64_t *nb,
                   const double *jb, int m, double beta, const uint64_t *w,
                   uint64_t pos) {
  int n = u->lat->q, c;
  double f[64], z[66], *v = s + i * n, dot = 0, norm = 0, de = 0;
  on_field(u, s, i, nb, jb, m, f);
  if (u->kind == U_HEATBATH) {
    lat_draws d = {w, u->seed, u->stream, pos};
    for (c = 0; c < n; c++) f[c] *= beta;
    return lat_sphere_draw(n, f, &d, v);
  }
  if (u->kind == U_OVERRELAX) {
    double ff = 0;
    for (c = 0; c < n; c++) { dot += v[c] * f[c]; ff += f[c] * f[c]; }
    if (ff == 0) return 0;
    for (c = 0; c < n; c++) v[c] = 2 * dot / ff * f[c] - v[c];
    return 1;
  }
  lat_normals(w, (n + 1) / 2, z);
  for (c = 0; c < n; c++) {
    z[c] = v[c] + u->delta * z[c];
    norm += z[c] * z[c];
  }
  if (norm == 0) return 0;
  norm = 1 / sqrt(norm);
  for (c = 0; c < n; c++) de -= (z[c] * norm - v[c]) * f[c];
  if (de <= 0 || lat_unif(w[2 * ((n + 1) / 2)]) < exp(-beta * de)) {
    for (c = 0; c < n; c++) v[c] = z[c] * norm;
    return 1;
  }
  return 0;
}

/* the sites x0, x0 + step, ... (cnt of them) of row w of replica r; words
   w[k W ..] belong to the k-th, at position pos + k W */
static int64_t generic_sites(const upd *u, int64_t r, const row *rw,
                             int64_t x0, int64_t step, int64_t cnt,
                             const uint64_t *w, uint64_t pos) {
  int64_t nb[MAXNB], k, acc = 0, N = u->geo.N;
  double jb[MAXNB], beta = beta_of(u, r);
  for (k = 0; k < cnt; k++) {
    int64_t x = x0 + k * step;
    int m = neighbours(u, rw, x, nb, jb);
    const uint64_t *wk = w + k * u->W;
    switch (u->lat->model) {
      case HEBB_ISING:
        acc += ising_site(u, (int64_t *)u->conf.data + r * N, rw->start + x,
                          nb, jb, m, beta, wk);
        break;
      case HEBB_POTTS:
        acc += potts_site(u, (int64_t *)u->conf.data + r * N, rw->start + x,
                          nb, jb, m, beta, wk);
        break;
      default:
        acc += on_site(u, (double *)u->conf.data + r * u->conf.n,
                       rw->start + x, nb, jb, m, beta, wk,
                       pos + (uint64_t)(k * u->W));
    }
  }
  return acc;
}

/* --- the Ising fast path -------------------------------------------------- */

/* Acceptance tables of replica r for neighbour sums -2d .. 2d (index sum +
   2d): Metropolis p[s > 0][sum] = min(1, e^{-2 beta s (J sum + h)});
   heat bath p[sum] = P(s = +1) = 1 / (1 + e^{-2 beta (J sum + h)}). */
static void fill_table(const upd *u, double beta, double *t) {
  int d = u->geo.d, k, sp;
  for (k = -2 * d; k <= 2 * d; k++) {
    double hloc = u->lat->J * k + u->lat->h;
    if (u->kind == U_HEATBATH) {
      t[k + 2 * d] = 1 / (1 + exp(-2 * beta * hloc));
      continue;
    }
    for (sp = 0; sp < 2; sp++) {
      double de = 2 * (sp ? 1.0 : -1.0) * hloc;
      t[sp * (4 * d + 1) + k + 2 * d] = de <= 0 ? 1 : exp(-beta * de);
    }
  }
}

/* sites x0, x0 + step, ... (cnt) of row w of Ising replica s, with the
   neighbour rows as pointers (a row of zeros where there is none) */
static int64_t ising_fast(const upd *u, int64_t *s, const row *rw,
                          int64_t x0, int64_t step, int64_t cnt,
                          const uint64_t *w, const double *t) {
  const int64_t *up[HEBB_LATTICE_MAXDIM], *dn[HEBB_LATTICE_MAXDIM];
  int64_t *line = s + rw->start, k, acc = 0, Ll = u->Ll;
  int d = u->geo.d, m, nout = d - 1, off = 2 * d, heat = u->kind == U_HEATBATH;
  int wrap = !(u->geo.open >> (d - 1) & 1), hs = 4 * d + 1;
  for (m = 0; m < nout; m++) {
    up[m] = rw->up[m] >= 0 ? s + rw->up[m] : u->zeros;
    dn[m] = rw->dn[m] >= 0 ? s + rw->dn[m] : u->zeros;
  }
  for (k = 0; k < cnt; k++) {
    int64_t x = x0 + k * step, sum, v = line[x];
    double p;
    sum = (x > 0 ? line[x - 1] : wrap ? line[Ll - 1] : 0) +
          (x < Ll - 1 ? line[x + 1] : wrap ? line[0] : 0);
    for (m = 0; m < nout; m++) sum += up[m][x] + dn[m][x];
    if (heat) {
      int64_t nv = lat_unif(w[k]) < t[sum + off] ? 1 : -1;
      acc += nv != v;
      line[x] = nv;
      continue;
    }
    p = t[(v > 0) * hs + sum + off];
    if (lat_unif(w[k]) < p) {
      line[x] = -v;
      acc++;
    }
  }
  return acc;
}

/* --- sweeps --------------------------------------------------------------------- */

/* The sites of colour c (or all, c = -1) of row R of replica r, up to
   CHUNK at a time with their words (fewer when a site takes more than
   WBUF / CHUNK words: the O(64) heat bath's 129). */
static int64_t do_row(const upd *u, int64_t r, int64_t R) {
  uint64_t w[WBUF];
  int64_t acc = 0, x0, step, cnt, key, done, N = u->geo.N;
  int64_t chunk = u->W > WBUF / CHUNK ? WBUF / u->W : CHUNK;
  uint64_t base = u->counter + (uint64_t)(r * N) * (uint64_t)u->W;
  row rw;
  row_init(&u->geo, R, &rw);
  if (u->color < 0) {
    x0 = 0; step = 1; cnt = u->Ll; key = rw.start;
  } else {
    x0 = (u->color + rw.parity) & 1; step = 2; cnt = u->Ll / 2;
    key = u->color * (N / 2) + rw.start / 2;
  }
  for (done = 0; done < cnt; done += chunk) {
    int64_t m = cnt - done < chunk ? cnt - done : chunk;
    uint64_t pos = base + (uint64_t)(key + done) * (uint64_t)u->W;
    if (u->W > 0) hebb_philox_words(u->seed, u->stream, pos, m * u->W, w);
    if (u->table)
      acc += ising_fast(u, (int64_t *)u->conf.data + r * N, &rw,
                        x0 + done * step, step, m, w,
                        u->table + r * u->tsize);
    else
      acc += generic_sites(u, r, &rw, x0 + done * step, step, m, w, pos);
  }
  return acc;
}

/* checkerboard: job j is row j % nrows of replica j / nrows */
static void color_range(int64_t lo, int64_t hi, void *ud) {
  upd *u = ud;
  int64_t acc = 0;
  for (; lo < hi; lo++) acc += do_row(u, lo / u->nrows, lo % u->nrows);
  atomic_fetch_add(&u->accepted, acc);
}

/* in order: job r is replica r, row after row */
static void sequential_range(int64_t lo, int64_t hi, void *ud) {
  upd *u = ud;
  int64_t acc = 0, R;
  for (; lo < hi; lo++)
    for (R = 0; R < u->nrows; R++) acc += do_row(u, lo, R);
  atomic_fetch_add(&u->accepted, acc);
}

/* work per site, in simple operations, for the parallel decision */
static int64_t site_cost(const upd *u) {
  int n = u->lat->model == HEBB_ON ? u->lat->q : 1;
  return (u->table ? 8 : 30 * n) + 8 * u->W;
}

static int check_checkerboard(const upd *u, const char *who) {
  int k;
  for (k = 0; k < u->geo.d; k++) {
    int last = k == u->geo.d - 1, open = u->geo.open >> k & 1;
    if (u->geo.L[k] % 2 && (last || !open))
      return hebb_fail(HEBB_ERR_ARG, "%s: a checkerboard sweep needs an even "
                       "size along dimension %d (got %lld)%s; use the "
                       "sequential order", who, k + 1,
                       (long long)u->geo.L[k], last ? "" : " (periodic)");
  }
  return HEBB_OK;
}

static int sweeps(upd *u, int64_t nsweeps, bool checkerboard,
                  const char *who) {
  int64_t t, B = u->conf.B, N = u->geo.N, cost = site_cost(u);
  int c, st = HEBB_OK;
  uint64_t start = u->counter;
  if (checkerboard && check_checkerboard(u, who)) return hebb_last_status();
  for (t = 0; t < nsweeps && st == HEBB_OK; t++) {
    u->counter = start + (uint64_t)(t * B * N) * (uint64_t)u->W;
    if (!checkerboard) {
      u->color = -1;
      st = hebb_parallel_for(B, N * cost, sequential_range, u);
      continue;
    }
    for (c = 0; c < 2 && st == HEBB_OK; c++) {
      u->color = c;
      st = hebb_parallel_for(B * u->nrows, u->Ll / 2 * cost, color_range, u);
    }
  }
  return st;
}

/* Sets up u for a local update of s; fails on bad arguments. */
static int upd_init(upd *u, const hebb_lattice *lat, hebb_tensor *s,
                    const double *beta, int64_t nbeta, hebb_rng *g,
                    int kind, const char *who) {
  memset(u, 0, sizeof *u);
  if (lat_conf_check(lat, s, &u->conf, who) || lat_check_values(lat, &u->conf, who) ||
      hebb_check_writable(s, who))
    return hebb_last_status();
  if (kind != U_OVERRELAX && lat_check_beta(beta, nbeta, u->conf.B, who))
    return hebb_last_status();
  if (kind != U_OVERRELAX && !g) return hebb_fail(HEBB_ERR_ARG, "%s: no generator", who);
  lat_geom_init(&u->geo, lat);
  u->lat = lat;
  u->kind = kind;
  u->Jb = lat->Jb ? hebb_data_ptr(lat->Jb) : NULL;
  u->hs = lat->hs ? hebb_data_ptr(lat->hs) : NULL;
  u->beta = beta;
  u->nbeta = nbeta;
  if (g) { u->seed = g->seed; u->stream = g->stream; u->counter = g->counter; }
  u->Ll = u->geo.L[u->geo.d - 1];
  u->nrows = u->geo.N / u->Ll;
  atomic_init(&u->accepted, 0);
  return HEBB_OK;
}

/* the Ising fast path's tables and zero row, when the couplings are
   uniform; returns a status */
static int fast_init(upd *u) {
  int64_t r, B = u->conf.B;
  if (u->lat->model != HEBB_ISING || u->Jb || u->hs) return HEBB_OK;
  u->tsize = 2 * (4 * u->geo.d + 1);
  u->table = malloc((size_t)(B * u->tsize) * sizeof(double));
  u->zeros = calloc((size_t)u->Ll, sizeof(int64_t));
  if (!u->table || !u->zeros)
    return hebb_fail(HEBB_ERR_NOMEM, "lattice: out of memory");
  for (r = 0; r < B; r++) fill_table(u, beta_of(u, r), u->table + r * u->tsize);
  return HEBB_OK;
}

static void upd_free(upd *u) {
  free(u->table);
  free((void *)u->zeros);
}

static int local_update(const hebb_lattice *lat, hebb_tensor *s,
                        const double *beta, int64_t nbeta, hebb_rng *g,
                        int64_t nsweeps, bool checkerboard, int kind,
                        double delta, double *rate, const char *who) {
  upd u;
  int st;
  if (nsweeps < 0)
    return hebb_fail(HEBB_ERR_ARG, "%s: %lld sweeps; needs >= 0", who,
                     (long long)nsweeps);
  if (upd_init(&u, lat, s, beta, nbeta, g, kind, who)) return hebb_last_status();
  if (lat->model == HEBB_POTTS && lat->q > 256)
    return hebb_fail(HEBB_ERR_UNSUPPORTED, "%s: Potts models with q > 256 "
                     "(q = %d) are not supported", who, lat->q);
  if (kind == U_METROPOLIS && lat->model == HEBB_ON && !(delta > 0 && isfinite(delta)))
    return hebb_fail(HEBB_ERR_ARG, "metropolis: step %g; the O(n) proposal "
                     "step must be > 0", delta);
  u.delta = delta;
  u.W = kind == U_OVERRELAX ? 0 :
        lat->model == HEBB_ON && kind == U_HEATBATH ? lat_sphere_words(lat->q) :
        lat->model == HEBB_ON ? 2 * ((lat->q + 1) / 2) + 1 :
        lat->model == HEBB_POTTS && kind == U_METROPOLIS ? 2 : 1;
  st = fast_init(&u);
  if (st == HEBB_OK) st = sweeps(&u, nsweeps, checkerboard, who);
  upd_free(&u);
  if (st == HEBB_OK && g)
    g->counter += (uint64_t)(nsweeps * u.conf.B * u.geo.N) * (uint64_t)u.W;
  if (rate) {
    double tot = (double)nsweeps * (double)u.conf.B * (double)u.geo.N;
    *rate = tot > 0 ? (double)atomic_load(&u.accepted) / tot : 0;
  }
  hebb_bump_version(s);
  return st;
}

int hebb_lattice_metropolis(const hebb_lattice *lat, hebb_tensor *s,
                            const double *beta, int64_t nbeta, hebb_rng *g,
                            int64_t nsweeps, bool checkerboard, double delta,
                            double *rate) {
  return local_update(lat, s, beta, nbeta, g, nsweeps, checkerboard,
                      U_METROPOLIS, delta, rate, "metropolis");
}

int hebb_lattice_heatbath(const hebb_lattice *lat, hebb_tensor *s,
                          const double *beta, int64_t nbeta, hebb_rng *g,
                          int64_t nsweeps, bool checkerboard) {
  return local_update(lat, s, beta, nbeta, g, nsweeps, checkerboard,
                      U_HEATBATH, 0, NULL, "heatbath");
}

int hebb_lattice_overrelax(const hebb_lattice *lat, hebb_tensor *s,
                           int64_t nsweeps) {
  if (lat->model != HEBB_ON)
    return hebb_fail(HEBB_ERR_ARG, "overrelax: only for O(n) models (this is "
                     "the %s model)", model_name(lat->model));
  return local_update(lat, s, NULL, 1, NULL, nsweeps, true, U_OVERRELAX, 0,
                      NULL, "overrelax");
}

/* --- Gaussian words -------------------------------------------------------------- */

void lat_normals(const uint64_t *w, int m, double *z) {
  int k;
  for (k = 0; k < m; k++) {
    double u1 = 1 - lat_unif(w[2 * k]), u2 = lat_unif(w[2 * k + 1]);
    double r = sqrt(-2 * log(u1));
    z[2 * k] = r * cos(2 * M_PI * u2);
    z[2 * k + 1] = r * sin(2 * M_PI * u2);
  }
}
