/*
** lattice_cluster.c -- cluster Monte Carlo: Wolff single-cluster updates
** (Wolff, PRL 62, 361 (1989)) and Swendsen-Wang sweeps (PRL 58, 86
** (1987)) for the Ising, Potts and O(n) models with ferromagnetic
** couplings and no field.
**
** Bond probabilities: p = 1 - e^{-2 beta J} between aligned Ising spins,
** 1 - e^{-beta J} between equal Potts states (the Potts energy is -J
** delta), and 1 - e^{-2 beta J (r.s_i)(r.s_j)} between O(n) spins whose
** projections on a random unit vector r have the same sign (the cluster
** is then reflected about the plane normal to r).
**
** Random numbers.  A Wolff cluster is grown from a stack, one word per
** bond test in the order of the tests, so the words of replica r are read
** in sequence from stream g->stream + r 2^32 starting at g's counter; a
** replica is one thread's work and the result does not depend on how many
** run at once.  A Swendsen-Wang sweep keys its words by position (bond
** (x, k): x d + k; the cluster whose smallest site is m: N d + m), and
** the clusters are found by union-find (union by size, path halving):
** the partition into clusters is unique, so the result is the same
** whichever order the unions happen in.
*/
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lattice.h"

/* --- shared ------------------------------------------------------------------ */

/* ferromagnetic couplings and no field, or a failure naming who */
static int check_cluster_model(const hebb_lattice *lat, const char *who) {
  int64_t i, n;
  if (lat->J < 0)
    return hebb_fail(HEBB_ERR_ARG, "%s: cluster updates need ferromagnetic "
                     "couplings (J = %g)", who, lat->J);
  if (lat->Jb) {
    const double *jb = hebb_data_ptr(lat->Jb);
    n = hebb_numel(lat->Jb);
    for (i = 0; i < n; i++)
      if (jb[i] < 0)
        return hebb_fail(HEBB_ERR_ARG, "%s: cluster updates need ferromagnetic "
                         "couplings (coupling %lld is %g)", who,
                         (long long)i + 1, jb[i]);
  }
  if (lat->h != 0)
    return hebb_fail(HEBB_ERR_ARG, "%s: cluster updates need h = 0 (got h = "
                     "%g)", who, lat->h);
  if (lat->hs) {
    const double *hs = hebb_data_ptr(lat->hs);
    n = hebb_numel(lat->hs);
    for (i = 0; i < n; i++)
      if (hs[i] != 0)
        return hebb_fail(HEBB_ERR_ARG, "%s: cluster updates need h = 0 (field "
                         "%lld is %g)", who, (long long)i + 1, hs[i]);
  }
  return HEBB_OK;
}

/* the bond probability factor a: p = 1 - e^{-a beta J} */
static double bond_scale(const hebb_lattice *lat) {
  return lat->model == HEBB_POTTS ? 1 : 2;
}

/* A random unit n-vector from 2 ceil(n/2) words. */
static void unit_vector(const uint64_t *w, int n, double *r) {
  double z[66], norm = 0;
  int c;
  lat_normals(w, (n + 1) / 2, z);
  for (c = 0; c < n; c++) norm += z[c] * z[c];
  norm = norm > 0 ? 1 / sqrt(norm) : 0;
  for (c = 0; c < n; c++) r[c] = norm > 0 ? z[c] * norm : c == 0;
}

static void reflect(double *v, const double *r, int n) {
  double dot = 0;
  int c;
  for (c = 0; c < n; c++) dot += v[c] * r[c];
  for (c = 0; c < n; c++) v[c] -= 2 * dot * r[c];
}

static double proj(const double *v, const double *r, int n) {
  double dot = 0;
  int c;
  for (c = 0; c < n; c++) dot += v[c] * r[c];
  return dot;
}

/* What both cluster algorithms share: the model, the configuration, the
   temperatures and the generator's state at the start. */
typedef struct cbase {
  const hebb_lattice *lat;
  lat_geom geo;
  lat_conf conf;
  const double *Jb, *beta;
  int64_t nbeta, n;          /* n: clusters (Wolff) or sweeps (SW) */
  uint64_t seed, stream, counter;
  atomic_llong total;        /* flipped sites (Wolff), clusters (SW) */
  atomic_int nomem;
} cbase;

/* Checks the arguments of a cluster update (who, n counted in `what`) and
   fills c. */
static int cluster_begin(cbase *c, const hebb_lattice *lat, hebb_tensor *s,
                         const double *beta, int64_t nbeta, hebb_rng *g,
                         int64_t n, const char *what, const char *who) {
  memset(c, 0, sizeof *c);
  if (lat_conf_check(lat, s, &c->conf, who) || hebb_check_writable(s, who) ||
      lat_check_beta(beta, nbeta, c->conf.B, who) ||
      check_cluster_model(lat, who) || lat_check_values(lat, &c->conf, who))
    return hebb_last_status();
  if (!g) return hebb_fail(HEBB_ERR_ARG, "%s: no generator", who);
  if (n < 0)
    return hebb_fail(HEBB_ERR_ARG, "%s: %lld %s; needs >= 0", who,
                     (long long)n, what);
  lat_geom_init(&c->geo, lat);
  c->lat = lat;
  c->Jb = lat->Jb ? hebb_data_ptr(lat->Jb) : NULL;
  c->beta = beta;
  c->nbeta = nbeta;
  c->n = n;
  c->seed = g->seed;
  c->stream = g->stream;
  c->counter = g->counter;
  atomic_init(&c->total, 0);
  atomic_init(&c->nomem, 0);
  return HEBB_OK;
}

static double beta_of(const cbase *c, int64_t r) {
  return c->beta[c->nbeta == 1 ? 0 : r];
}

/* --- Wolff --------------------------------------------------------------------- */

/* words read in sequence from one stream */
typedef struct wstream {
  uint64_t seed, stream, pos;   /* pos: the next word's position */
  uint64_t buf[64];
  int k, n;
  uint64_t used;
} wstream;

static inline uint64_t next_word(wstream *ws) {
  if (ws->k == ws->n) {
    hebb_philox_words(ws->seed, ws->stream, ws->pos, 64, ws->buf);
    ws->pos += 64;
    ws->k = 0;
    ws->n = 64;
  }
  ws->used++;
  return ws->buf[ws->k++];
}

typedef struct wolff {
  cbase b;
  _Atomic uint64_t most;        /* the most words a replica used */
} wolff;

static double bond_p(const wolff *w, double beta, int64_t i, int64_t j,
                     int nbk) {
  /* neighbour slot nbk = 2k (+e_k: bond (i, k)) or 2k + 1 (bond (j, k)) */
  int k = nbk / 2;
  double J = lat_J(w->b.lat, w->b.Jb, w->b.geo.N, nbk % 2 ? j : i, k);
  return 1 - exp(-bond_scale(w->b.lat) * beta * J);
}

/* one cluster of an Ising or Potts replica; returns its size */
static int64_t cluster_discrete(const wolff *w, int64_t *s, wstream *ws,
                                double beta, const double *pu,
                                int64_t *stack) {
  const lat_geom *g = &w->b.geo;
  int64_t i0 = (int64_t)lat_below(next_word(ws), (uint64_t)g->N);
  int64_t s0 = s[i0], nw, top = 0, size = 1, nb[2 * HEBB_LATTICE_MAXDIM];
  int q = w->b.lat->q, m, k;
  nw = w->b.lat->model == HEBB_ISING ? -s0 :
       1 + (s0 + (int64_t)lat_below(next_word(ws), (uint64_t)q - 1)) % q;
  s[i0] = nw;   /* the new value marks the site as in the cluster */
  stack[top++] = i0;
  while (top > 0) {
    int64_t i = stack[--top];
    m = lat_neighbours(g, i, nb);
    for (k = 0; k < m; k++) {
      int64_t j = nb[k];
      double p;
      if (j < 0 || s[j] != s0) continue;
      p = pu ? *pu : bond_p(w, beta, i, j, k);
      if (lat_unif(next_word(ws)) < p) {
        s[j] = nw;
        stack[top++] = j;
        size++;
      }
    }
  }
  return size;
}

/* one O(n) cluster: sites are marked with the cluster's stamp */
static int64_t cluster_on(const wolff *w, double *s, wstream *ws, double beta,
                          int32_t *mark, int32_t stamp, int64_t *stack) {
  const lat_geom *g = &w->b.geo;
  int n = w->b.lat->q, m, k, c;
  uint64_t rw[66];
  double r[64];
  int64_t i0 = (int64_t)lat_below(next_word(ws), (uint64_t)g->N);
  int64_t top = 0, size = 1, nb[2 * HEBB_LATTICE_MAXDIM];
  for (c = 0; c < 2 * ((n + 1) / 2); c++) rw[c] = next_word(ws);
  unit_vector(rw, n, r);
  mark[i0] = stamp;
  reflect(s + i0 * n, r, n);
  stack[top++] = i0;
  while (top > 0) {
    int64_t i = stack[--top];
    double pi = -proj(s + i * n, r, n);   /* before its reflection */
    m = lat_neighbours(g, i, nb);
    for (k = 0; k < m; k++) {
      int64_t j = nb[k];
      double pj, J, a;
      if (j < 0 || mark[j] == stamp) continue;
      pj = proj(s + j * n, r, n);
      if (pi * pj <= 0) continue;
      J = lat_J(w->b.lat, w->b.Jb, g->N, k % 2 ? j : i, k / 2);
      a = 2 * beta * J * pi * pj;
      if (lat_unif(next_word(ws)) < 1 - exp(-a)) {
        mark[j] = stamp;
        reflect(s + j * n, r, n);
        stack[top++] = j;
        size++;
      }
    }
  }
  return size;
}

static void wolff_replica(wolff *w, int64_t r, int64_t *stack, int32_t *mark) {
  wstream ws;
  double beta = beta_of(&w->b, r), pu = 0;
  int64_t c, total = 0;
  uint64_t most;
  memset(&ws, 0, sizeof ws);
  ws.seed = w->b.seed;
  ws.stream = w->b.stream + ((uint64_t)r << 32);
  ws.pos = w->b.counter;
  if (!w->b.Jb) pu = 1 - exp(-bond_scale(w->b.lat) * beta * w->b.lat->J);
  for (c = 0; c < w->b.n; c++) {
    if (w->b.lat->model == HEBB_ON) {
      int32_t stamp = (int32_t)(c % 0x7fffffff) + 1;
      if (stamp == 1) memset(mark, 0, (size_t)w->b.geo.N * sizeof(int32_t));
      total += cluster_on(w, (double *)w->b.conf.data + r * w->b.conf.n, &ws,
                          beta, mark, stamp, stack);
    } else {
      total += cluster_discrete(w, (int64_t *)w->b.conf.data + r * w->b.conf.n,
                                &ws, beta, w->b.Jb ? NULL : &pu, stack);
    }
    if ((c & 1023) == 1023 && hebb_interrupt_pending()) break;
  }
  atomic_fetch_add(&w->b.total, total);
  most = atomic_load(&w->most);
  while (ws.used > most && !atomic_compare_exchange_weak(&w->most, &most, ws.used)) {}
}

static void wolff_range(int64_t lo, int64_t hi, void *ud) {
  wolff *w = ud;
  int64_t *stack = malloc((size_t)w->b.geo.N * sizeof(int64_t));
  int32_t *mark = w->b.lat->model == HEBB_ON ?
                  calloc((size_t)w->b.geo.N, sizeof(int32_t)) : NULL;
  if (!stack || (w->b.lat->model == HEBB_ON && !mark)) {
    atomic_store(&w->b.nomem, 1);
    hi = lo;
  }
  for (; lo < hi; lo++) wolff_replica(w, lo, stack, mark);
  free(stack);
  free(mark);
}

int hebb_lattice_wolff(const hebb_lattice *lat, hebb_tensor *s,
                       const double *beta, int64_t nbeta, hebb_rng *g,
                       int64_t nclusters, double *mean_size) {
  wolff w;
  int st;
  if (cluster_begin(&w.b, lat, s, beta, nbeta, g, nclusters, "clusters",
                    "wolff"))
    return hebb_last_status();
  atomic_init(&w.most, 0);
  st = hebb_parallel_for(w.b.conf.B, w.b.geo.N * 4 * nclusters / 8 + 1,
                         wolff_range, &w);
  if (st == HEBB_OK && atomic_load(&w.b.nomem))
    st = hebb_fail(HEBB_ERR_NOMEM, "wolff: out of memory");
  g->counter += atomic_load(&w.most);
  hebb_bump_version(s);
  if (mean_size)
    *mean_size = nclusters > 0 ? (double)atomic_load(&w.b.total) /
                 ((double)w.b.conf.B * (double)nclusters) : 0;
  return st;
}

/* --- Swendsen-Wang ------------------------------------------------------------ */

static int64_t find(int64_t *parent, int64_t i) {
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];   /* path halving */
    i = parent[i];
  }
  return i;
}

static void unite(int64_t *parent, int64_t *size, int64_t a, int64_t b) {
  a = find(parent, a);
  b = find(parent, b);
  if (a == b) return;
  if (size[a] < size[b]) { int64_t t = a; a = b; b = t; }
  parent[b] = a;
  size[a] += size[b];
}

typedef struct sw {
  cbase b;
  int64_t W;   /* words per replica and sweep */
} sw;

/* whether bond (i, k) to neighbour j is open in the current state */
static int sw_bond(const sw *w, int64_t r, int64_t i, int64_t j, int k,
                   double beta, const double *rv, uint64_t word) {
  double J = lat_J(w->b.lat, w->b.Jb, w->b.geo.N, i, k), a;
  if (w->b.lat->model == HEBB_ON) {
    int n = w->b.lat->q;
    const double *s = (const double *)w->b.conf.data + r * w->b.conf.n;
    double pi = proj(s + i * n, rv, n), pj = proj(s + j * n, rv, n);
    if (pi * pj <= 0) return 0;
    a = 2 * beta * J * pi * pj;
  } else {
    const int64_t *s = (const int64_t *)w->b.conf.data + r * w->b.conf.n;
    if (s[i] != s[j]) return 0;
    a = bond_scale(w->b.lat) * beta * J;
  }
  return lat_unif(word) < 1 - exp(-a);
}

/* the new value of every site of cluster root (whose smallest site is m) */
static void sw_flip(const sw *w, int64_t r, int64_t i, uint64_t word,
                    const double *rv) {
  if (w->b.lat->model == HEBB_ON) {
    if (word >> 63) reflect((double *)w->b.conf.data + r * w->b.conf.n +
                            i * w->b.lat->q, rv, w->b.lat->q);
  } else if (w->b.lat->model == HEBB_ISING) {
    if (word >> 63) ((int64_t *)w->b.conf.data)[r * w->b.conf.n + i] *= -1;
  } else {
    ((int64_t *)w->b.conf.data)[r * w->b.conf.n + i] =
      1 + (int64_t)lat_below(word, (uint64_t)w->b.lat->q);
  }
}

/* one sweep of replica r; scratch: parent, size, key (N each), words */
static int64_t sw_sweep(const sw *w, int64_t r, int64_t t, int64_t *parent,
                        int64_t *size, int64_t *key, uint64_t *words) {
  const lat_geom *g = &w->b.geo;
  int64_t N = g->N, d = g->d, i, nc = 0, nb[2 * HEBB_LATTICE_MAXDIM];
  uint64_t base = w->b.counter + (uint64_t)((t * w->b.conf.B + r) * w->W);
  double beta = beta_of(&w->b, r), rv[64];
  int n = w->b.lat->q, k;
  if (w->b.lat->model == HEBB_ON) {
    uint64_t rw[66];
    hebb_philox_words(w->b.seed, w->b.stream, base + (uint64_t)(N * (d + 1)),
                      2 * ((n + 1) / 2), rw);
    unit_vector(rw, n, rv);
  }
  for (i = 0; i < N; i++) { parent[i] = i; size[i] = 1; key[i] = -1; }
  for (i = 0; i < N; i++) {
    if (i % 512 == 0)
      hebb_philox_words(w->b.seed, w->b.stream, base + (uint64_t)(i * d),
                        (N - i < 512 ? N - i : 512) * d, words);
    lat_neighbours(g, i, nb);
    for (k = 0; k < d; k++) {
      int64_t j = nb[2 * k];
      if (j >= 0 && sw_bond(w, r, i, j, k, beta, rv, words[(i % 512) * d + k]))
        unite(parent, size, i, j);
    }
  }
  /* the smallest site names each cluster and keys its word; the decision
     (the word) is kept in size[root], no longer needed */
  for (i = 0; i < N; i++) {
    int64_t root = find(parent, i);
    if (key[root] < 0) {
      uint64_t word;
      key[root] = i;
      hebb_philox_words(w->b.seed, w->b.stream, base + (uint64_t)(N * d + i), 1,
                        &word);
      size[root] = (int64_t)word;
      nc++;
    }
  }
  for (i = 0; i < N; i++)
    sw_flip(w, r, i, (uint64_t)size[find(parent, i)], rv);
  return nc;
}

static void sw_range(int64_t lo, int64_t hi, void *ud) {
  sw *w = ud;
  int64_t N = w->b.geo.N, t, total = 0;
  int64_t *scratch = malloc((size_t)(3 * N) * sizeof(int64_t));
  uint64_t *words = malloc(512 * (size_t)w->b.geo.d * sizeof(uint64_t));
  if (!scratch || !words) {
    atomic_store(&w->b.nomem, 1);
    hi = lo;
  }
  for (; lo < hi; lo++)
    for (t = 0; t < w->b.n && !hebb_interrupt_pending(); t++)
      total += sw_sweep(w, lo, t, scratch, scratch + N, scratch + 2 * N, words);
  atomic_fetch_add(&w->b.total, total);
  free(scratch);
  free(words);
}

int hebb_lattice_swendsen_wang(const hebb_lattice *lat, hebb_tensor *s,
                               const double *beta, int64_t nbeta,
                               hebb_rng *g, int64_t nsweeps,
                               double *mean_clusters) {
  sw w;
  int st;
  if (cluster_begin(&w.b, lat, s, beta, nbeta, g, nsweeps, "sweeps",
                    "swendsen_wang"))
    return hebb_last_status();
  w.W = w.b.geo.N * (w.b.geo.d + 1) +
        (lat->model == HEBB_ON ? 2 * ((lat->q + 1) / 2) : 0);
  st = hebb_parallel_for(w.b.conf.B, w.b.geo.N * (w.b.geo.d + 1) * 20 *
                         nsweeps, sw_range, &w);
  if (st == HEBB_OK && atomic_load(&w.b.nomem))
    st = hebb_fail(HEBB_ERR_NOMEM, "swendsen_wang: out of memory");
  g->counter += (uint64_t)(nsweeps * w.b.conf.B * w.W);
  hebb_bump_version(s);
  if (mean_clusters)
    *mean_clusters = nsweeps > 0 ? (double)atomic_load(&w.b.total) /
                     ((double)w.b.conf.B * (double)nsweeps) : 0;
  return st;
}
