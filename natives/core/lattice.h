/*
** lattice.h -- what the files of the lattice module share (lattice.c:
** models, observables, local updates; lattice_cluster.c: Wolff and
** Swendsen-Wang; lattice_exact.c: enumeration and transfer matrices;
** lattice_sphere.c: the O(n) heat bath's draws on the sphere).
*/
#ifndef HEBB_LATTICE_H
#define HEBB_LATTICE_H

#include "core.h"

/* The geometry of a model: sizes, row-major strides in sites, N sites. */
typedef struct lat_geom {
  int d;
  int64_t L[HEBB_LATTICE_MAXDIM];
  int64_t stride[HEBB_LATTICE_MAXDIM];
  int64_t N;
  int open;               /* bit k: open ends along k */
} lat_geom;

void lat_geom_init(lat_geom *geo, const hebb_lattice *lat);

/* The neighbour of site i one step along dim k (dir +1 or -1), or -1 past
   an open end. */
static inline int64_t lat_step(const lat_geom *geo, int64_t i, int k,
                               int dir) {
  int64_t x = (i / geo->stride[k]) % geo->L[k];
  if (dir > 0 && x == geo->L[k] - 1)
    return geo->open >> k & 1 ? -1 : i - (geo->L[k] - 1) * geo->stride[k];
  if (dir < 0 && x == 0)
    return geo->open >> k & 1 ? -1 : i + (geo->L[k] - 1) * geo->stride[k];
  return i + dir * geo->stride[k];
}

/* The 2d neighbours of site i (-1 past open ends), in the order +e_0,
   -e_0, +e_1, ...: slot 2k joins i by bond (i, k), slot 2k + 1 by bond
   (neighbour, k).  Returns 2d. */
static inline int lat_neighbours(const lat_geom *g, int64_t i, int64_t *nb) {
  int64_t rest = i;
  int k;
  for (k = g->d - 1; k >= 0; k--) {
    int64_t L = g->L[k], x = rest % L, st = g->stride[k];
    int open = g->open >> k & 1;
    rest /= L;
    nb[2 * k] = x < L - 1 ? i + st : open ? -1 : i - (L - 1) * st;
    nb[2 * k + 1] = x > 0 ? i - st : open ? -1 : i + (L - 1) * st;
  }
  return 2 * g->d;
}

/* Replicas and spins of a configuration tensor checked against the model:
   s holds B replicas of n values each (n = N, or N * components). */
typedef struct lat_conf {
  int64_t B, n;
  void *data;             /* int64_t (Ising, Potts) or double (O(n)) */
} lat_conf;
int lat_conf_check(const hebb_lattice *lat, const hebb_tensor *s,
                   lat_conf *c, const char *who);
/* Ising values +-1, Potts values 1..q (O(n): not checked) */
int lat_check_values(const hebb_lattice *lat, const lat_conf *c,
                     const char *who);
/* beta[0..nbeta) valid (finite, >= 0) and nbeta 1 or B */
int lat_check_beta(const double *beta, int64_t nbeta, int64_t B,
                   const char *who);
/* the coupling of bond (i, k) and the field at i */
static inline double lat_J(const hebb_lattice *lat, const double *Jb,
                           int64_t N, int64_t i, int k) {
  return Jb ? Jb[k * N + i] : lat->J;
}

/* Standard normals from 64-bit words (Box-Muller on pairs): z[0..2m) from
   w[0..2m). */
void lat_normals(const uint64_t *w, int m, double *z);

/* The words of one site's update: its own W words w, at position pos of
   (seed, stream); a rejection sampler that needs more draws them past
   those (lattice_sphere.c says where). */
typedef struct lat_draws {
  const uint64_t *w;
  uint64_t seed, stream, pos;
} lat_draws;
/* the words an O(n) heat-bath site owns (n <= 64) */
int lat_sphere_words(int n);
/* s (n components) drawn exactly from the density ~ exp(f.s) on the unit
   sphere: f is beta times the local field; returns 0 (s untouched) only
   after MAXTRY rejected attempts */
int lat_sphere_draw(int n, const double *f, const lat_draws *d, double *s);

/* 53-bit uniform in [0, 1) from a word */
static inline double lat_unif(uint64_t w) {
  return (double)(w >> 11) * (1.0 / 9007199254740992.0);
}

/* floor(w n / 2^64): a uniform integer in [0, n) */
static inline uint64_t lat_below(uint64_t w, uint64_t n) {
  return (uint64_t)(((unsigned __int128)w * n) >> 64);
}

#endif
