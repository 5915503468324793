/*
** dirac.c -- translation-invariant lattice operators with internal
** components, built straight into sparse (CSR) form: the lattice Dirac
** operators and Hamiltonians of hebb.fields (naive, Wilson, staggered),
** and any other nearest-neighbour operator of that shape.
**
**   (A psi)(x) = M psi(x) + eps(x) S psi(x)
**              + sum_mu eta_mu(x) [F_mu psi(x + mu) + B_mu psi(x - mu)]
**
** psi has s components per site; M, S, F_mu, B_mu are s x s complex
** matrices.  Sites are numbered row-major (the last coordinate fastest)
** and the s components of a site are neighbours: row x*s + alpha.  With
** HEBB_LAT_STAGGERED, eta_mu(x) = (-1)^(x_1 + ... + x_{mu-1}) (Kogut and
** Susskind's phases), otherwise 1; eps(x) = (-1)^(x_1 + ... + x_d).  Each
** direction has its boundary: periodic, antiperiodic (a hop across the
** boundary changes sign) or open (no hop across it).  A hop reaching the
** same neighbour twice (a periodic side of length 2) adds up, and so does
** anything else that lands on one entry.
*/
#include <stdlib.h>
#include <string.h>

#include "core.h"

typedef struct builder {
  int d;
  int64_t s, nsites;
  const int64_t *dims;
  const int *bc;
  int64_t n, cap;
  int64_t *rows, *cols;
  double *vals;     /* (re, im) pairs */
} builder;

/* the s x s block m (pairs, row-major) times c, added at sites (x, y) */
static void add_block(builder *b, int64_t x, int64_t y, const double *m,
                      double c) {
  int64_t i, j, s = b->s;
  if (c == 0 || !m) return;
  for (i = 0; i < s; i++)
    for (j = 0; j < s; j++) {
      double re = m[2 * (i * s + j)] * c, im = m[2 * (i * s + j) + 1] * c;
      if (re == 0 && im == 0) continue;
      b->rows[b->n] = x * s + i;
      b->cols[b->n] = y * s + j;
      b->vals[2 * b->n] = re;
      b->vals[2 * b->n + 1] = im;
      b->n++;
    }
}

/* the neighbour of site x (coordinates c) one step along mu in direction
   dir (+1/-1), and the sign the boundary gives the hop (0: no hop) */
static int64_t neighbour(const builder *b, const int64_t *c, int64_t x, int mu,
                         int dir, int64_t stride, double *sign) {
  int64_t L = b->dims[mu], y = c[mu] + dir;
  *sign = 1;
  if (y < 0 || y >= L) {
    if (b->bc[mu] == HEBB_BC_OPEN) { *sign = 0; return x; }
    if (b->bc[mu] == HEBB_BC_ANTIPERIODIC) *sign = -1;
    y = (y + L) % L;
  }
  return x + (y - c[mu]) * stride;
}

static void site_entries(builder *b, const int64_t *c, int64_t x,
                         const int64_t *stride, const double *onsite,
                         const double *stag, const double *fwd,
                         const double *bwd, int flags) {
  int64_t par = 0, ss = 2 * b->s * b->s, y;
  double sign;
  int mu;
  for (mu = 0; mu < b->d; mu++) par += c[mu];
  add_block(b, x, x, onsite, 1);
  add_block(b, x, x, stag, par % 2 ? -1 : 1);
  par = 0;   /* eta_mu: the parity of the coordinates before mu */
  for (mu = 0; mu < b->d; mu++) {
    double eta = (flags & HEBB_LAT_STAGGERED) && par % 2 ? -1 : 1;
    y = neighbour(b, c, x, mu, 1, stride[mu], &sign);
    add_block(b, x, y, fwd + mu * ss, eta * sign);
    y = neighbour(b, c, x, mu, -1, stride[mu], &sign);
    add_block(b, x, y, bwd + mu * ss, eta * sign);
    par += c[mu];
  }
}

static int check_args(int d, const int64_t *dims, int64_t s, const int *bc,
                      const char *who) {
  int mu;
  if (d < 1 || d > HEBB_MAXDIM)
    return hebb_fail(HEBB_ERR_ARG, "%s: %d lattice dimensions (1..%d)", who, d,
                     HEBB_MAXDIM);
  if (s < 1 || s > 64)
    return hebb_fail(HEBB_ERR_ARG, "%s: %lld components per site (1..64)", who,
                     (long long)s);
  for (mu = 0; mu < d; mu++) {
    if (dims[mu] < 1)
      return hebb_fail(HEBB_ERR_ARG, "%s: lattice side %d has length %lld", who,
                       mu + 1, (long long)dims[mu]);
    if (bc[mu] < HEBB_BC_PERIODIC || bc[mu] > HEBB_BC_OPEN)
      return hebb_fail(HEBB_ERR_ARG, "%s: boundary condition %d of side %d is "
                       "not one of HEBB_BC_*", who, bc[mu], mu + 1);
  }
  return HEBB_OK;
}

static hebb_sparse *build(builder *b, const double *onsite, const double *stag,
                          const double *fwd, const double *bwd, int flags) {
  int64_t c[HEBB_MAXDIM] = {0}, stride[HEBB_MAXDIM], x;
  int mu;
  stride[b->d - 1] = 1;
  for (mu = b->d - 2; mu >= 0; mu--) stride[mu] = stride[mu + 1] * b->dims[mu + 1];
  for (x = 0; x < b->nsites; x++) {
    site_entries(b, c, x, stride, onsite, stag, fwd, bwd, flags);
    for (mu = b->d - 1; mu >= 0 && ++c[mu] == b->dims[mu]; mu--) c[mu] = 0;
  }
  return hebb_sparse_from_coo_as(HEBB_C128, b->nsites * b->s, b->nsites * b->s,
                                 b->n, b->rows, b->cols, b->vals, 0);
}

hebb_sparse *hebb_lattice_operator(int ndim, const int64_t *dims, int64_t s,
                                   const double *onsite, const double *stag,
                                   const double *fwd, const double *bwd,
                                   const int *bc, int flags) {
  const char *who = "fields.lattice_operator";
  builder b;
  hebb_sparse *r = NULL;
  int mu;
  if (check_args(ndim, dims, s, bc, who) != HEBB_OK) return NULL;
  memset(&b, 0, sizeof b);
  b.d = ndim; b.s = s; b.dims = dims; b.bc = bc;
  b.nsites = 1;
  for (mu = 0; mu < ndim; mu++) {
    if (b.nsites > INT64_MAX / 8 / dims[mu])
      return hebb_fail_null(HEBB_ERR_ARG, "%s: the lattice is too large", who);
    b.nsites *= dims[mu];
  }
  b.cap = b.nsites * s * s * (2 * ndim + 2);
  b.rows = malloc((size_t)b.cap * sizeof(int64_t));
  b.cols = malloc((size_t)b.cap * sizeof(int64_t));
  b.vals = malloc((size_t)b.cap * 2 * sizeof(double));
  if (b.rows && b.cols && b.vals) r = build(&b, onsite, stag, fwd, bwd, flags);
  else hebb_fail(HEBB_ERR_NOMEM, "%s: out of memory (%lld entries)", who,
                 (long long)b.cap);
  free(b.rows);
  free(b.cols);
  free(b.vals);
  return r;
}
