/*
** rg.c -- the per-site loops of hebb.rg: block-spin transformations of
** configurations (majority with seeded tie-breaks, plurality, decimation,
** block mean and sum, and the gathered blocks a user's own block map
** reduces), and the lattice sums of spin products that Monte Carlo RG
** correlates (Swendsen, PRL 42 (1979) 859).
**
** A configuration is {batch..., L_1..L_d, inner...}: d lattice dimensions
** starting at 'first', leading batch dimensions and trailing inner ones
** (the components of an O(n) spin).  Both kernels read it as f64 (spins
** +-1, Potts states and sums of them are exact in a double) and spread the
** output elements over the threads; each output element is computed by
** one thread in a fixed order, so the bits do not depend on the count.
** A tie of the majority rule is broken by the Philox word at (seed,
** stream, output position): the same coin at any thread count.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* the geometry of a block-spin job */
typedef struct rg_geom {
  int d;
  int64_t b, nbatch, inner;
  int64_t fine[HEBB_MAXDIM], coarse[HEBB_MAXDIM];
  int64_t fstride[HEBB_MAXDIM];   /* elements, of one lattice dim */
  int64_t ncoarse, bd;            /* coarse sites, sites per block */
} rg_geom;

typedef struct rg_job {
  rg_geom g;
  int rule;
  uint64_t seed, stream;
  const double *x;
  double *y;
  int64_t *scratch_fail;          /* plurality: 1 if a worker ran out */
} rg_job;

static const char *rule_name(int rule) {
  static const char *const names[] = {"majority", "plurality", "decimate",
                                      "mean", "sum", "blocks"};
  return rule >= 0 && rule <= HEBB_RG_GATHER ? names[rule] : "?";
}

static int geometry(rg_geom *g, const hebb_tensor *x, int first, int d,
                    int64_t b, const char *who) {
  int k;
  int64_t s = 1;
  if (d < 1 || first < 0 || first + d > x->ndim)
    return hebb_fail(HEBB_ERR_ARG, "%s: the lattice dimensions %d..%d do not "
                     "fit a %d-d tensor", who, first + 1, first + d, x->ndim);
  if (b < 1)
    return hebb_fail(HEBB_ERR_ARG, "%s: block size must be >= 1, got %lld",
                     who, (long long)b);
  g->d = d;
  g->b = b;
  g->nbatch = hebb_shape_numel(first, x->shape);
  g->inner = hebb_shape_numel(x->ndim - first - d, x->shape + first + d);
  g->ncoarse = 1;
  g->bd = 1;
  for (k = 0; k < d; k++) {
    int64_t L = x->shape[first + k];
    if (L % b != 0)
      return hebb_fail(HEBB_ERR_SHAPE, "%s: lattice size %lld (dimension "
                       "%d) is not divisible by the block size %lld", who,
                       (long long)L, first + k + 1, (long long)b);
    g->fine[k] = L;
    g->coarse[k] = L / b;
    g->ncoarse *= L / b;
    g->bd *= b;
  }
  for (k = d - 1; k >= 0; k--) {
    g->fstride[k] = s * g->inner;
    s *= g->fine[k];
  }
  return HEBB_OK;
}

/* the offset (elements) of site j (0..b^d-1, row-major in the block) of
   coarse site c of batch element n, component 0 */
static int64_t site_of(const rg_geom *g, int64_t n, int64_t c, int64_t j) {
  int64_t off = n * g->ncoarse * g->bd * g->inner;
  int k;
  for (k = g->d - 1; k >= 0; k--) {
    off += ((c % g->coarse[k]) * g->b + j % g->b) * g->fstride[k];
    c /= g->coarse[k];
    j /= g->b;
  }
  return off;
}

static double coin(const rg_job *j, int64_t pos) {
  uint64_t w;
  hebb_philox_words(j->seed, j->stream, (uint64_t)pos, 1, &w);
  return (double)(w >> 11) * 0x1p-53;
}

/* the most frequent value of v[0..n) (n small), ties by a coin; v is
   sorted in place */
static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double plurality(double *v, int64_t n, double u) {
  int64_t i, run = 1, best = 0, ties = 0, pick;
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  for (i = 1; i <= n; i++) {   /* the longest run, and how many share it */
    if (i < n && v[i] == v[i - 1]) { run++; continue; }
    if (run > best) best = run, ties = 1;
    else if (run == best) ties++;
    run = 1;
  }
  pick = (int64_t)(u * (double)ties);
  for (i = 1, run = 1; i <= n; i++) {
    if (i < n && v[i] == v[i - 1]) { run++; continue; }
    if (run == best && pick-- == 0) return v[i - 1];
    run = 1;
  }
  return v[n - 1];
}

/* output element o = (batch n, coarse site c, component e) */
static void block_one(const rg_job *j, int64_t o, double *tmp) {
  const rg_geom *g = &j->g;
  int64_t e = o % g->inner, nc = o / g->inner, c = nc % g->ncoarse;
  int64_t n = nc / g->ncoarse, s, base;
  double acc = 0;
  if (j->rule == HEBB_RG_DECIMATE) {
    j->y[o] = j->x[site_of(g, n, c, 0) + e];
    return;
  }
  for (s = 0; s < g->bd; s++) {
    base = site_of(g, n, c, s) + e;
    if (j->rule == HEBB_RG_GATHER)
      j->y[(nc * g->bd + s) * g->inner + e] = j->x[base];
    else if (j->rule == HEBB_RG_PLURALITY) tmp[s] = j->x[base];
    else acc += j->x[base];
  }
  if (j->rule == HEBB_RG_SUM) j->y[o] = acc;
  else if (j->rule == HEBB_RG_MEAN) j->y[o] = acc / (double)g->bd;
  else if (j->rule == HEBB_RG_MAJORITY)
    j->y[o] = acc > 0 ? 1 : acc < 0 ? -1 : coin(j, o) < 0.5 ? -1 : 1;
  else if (j->rule == HEBB_RG_PLURALITY)
    j->y[o] = plurality(tmp, g->bd, coin(j, o));
}

static void block_range(int64_t lo, int64_t hi, void *ud) {
  rg_job *j = ud;
  double *tmp = NULL;
  int64_t o;
  if (j->rule == HEBB_RG_PLURALITY &&
      !(tmp = malloc((size_t)j->g.bd * sizeof *tmp))) {
    *j->scratch_fail = 1;
    return;
  }
  for (o = lo; o < hi; o++) block_one(j, o, tmp);
  free(tmp);
}

static int out_dtype(int rule, int dtype) {
  if (rule == HEBB_RG_MEAN) return dtype == HEBB_F32 ? HEBB_F32 : HEBB_F64;
  return dtype;
}

/* the output shape: coarse lattice dims, plus b^d before inner for GATHER */
static int out_shape(const hebb_tensor *x, const rg_geom *g, int first,
                     int rule, int64_t *shape) {
  int nd = 0, k;
  for (k = 0; k < first; k++) shape[nd++] = x->shape[k];
  for (k = 0; k < g->d; k++) shape[nd++] = g->coarse[k];
  if (rule == HEBB_RG_GATHER) shape[nd++] = g->bd;
  for (k = first + g->d; k < x->ndim; k++) shape[nd++] = x->shape[k];
  return nd;
}

static int run_block(rg_job *j, const hebb_tensor *x, hebb_tensor *y) {
  int64_t fail = 0, nout = j->g.nbatch * j->g.ncoarse * j->g.inner;
  hebb_tensor *xd = hebb_astype(x, HEBB_F64);
  int st;
  if (!xd) return hebb_last_status();
  j->x = hebb_data_ptr(xd);
  j->y = hebb_data_ptr(y);
  j->scratch_fail = &fail;
  st = hebb_parallel_for(nout, j->g.bd * (j->rule == HEBB_RG_PLURALITY ? 8 : 1),
                         block_range, j);
  hebb_release(xd);
  if (st == HEBB_OK && fail)
    st = hebb_fail(HEBB_ERR_NOMEM, "rg.block: out of memory");
  return st;
}

hebb_status hebb_rg_block(const hebb_tensor *x, int first, int d, int64_t b,
                          int rule, uint64_t seed, uint64_t stream,
                          hebb_tensor **out) {
  const char *who = "rg.block";
  int64_t shape[HEBB_MAXDIM + 1];
  hebb_tensor *y, *r;
  rg_job j;
  int nd, st;
  if (rule < 0 || rule > HEBB_RG_GATHER)
    return hebb_fail(HEBB_ERR_ARG, "%s: unknown rule %d", who, rule);
  if (x->dtype != HEBB_F64 && x->dtype != HEBB_F32 && x->dtype != HEBB_I64)
    return hebb_fail(HEBB_ERR_DTYPE, "%s: configurations must be i64, f64 "
                     "or f32, got %s", who, hebb_dtype_name(x->dtype));
  memset(&j, 0, sizeof j);
  if ((st = geometry(&j.g, x, first, d, b, who))) return st;
  if ((rule == HEBB_RG_MAJORITY || rule == HEBB_RG_PLURALITY) &&
      j.g.inner != 1)
    return hebb_fail(HEBB_ERR_ARG, "%s: rule '%s' takes scalar spins, got %lld "
                     "components per site", who, rule_name(rule),
                     (long long)j.g.inner);
  if (rule == HEBB_RG_GATHER && x->ndim + 1 > HEBB_MAXDIM)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: too many dimensions", who);
  j.rule = rule;
  j.seed = seed;
  j.stream = stream;
  nd = out_shape(x, &j.g, first, rule, shape);
  if (!(y = hebb_empty(HEBB_F64, nd, shape))) return hebb_last_status();
  if ((st = run_block(&j, x, y))) return hebb_release(y), st;
  r = out_dtype(rule, x->dtype) == HEBB_F64 ? y :
      hebb_astype(y, out_dtype(rule, x->dtype));
  if (r != y) hebb_release(y);
  if (!r) return hebb_last_status();
  *out = r;
  return HEBB_OK;
}

/* --- operators: sums over sites of products of spins -------------------- */

/* Term t's spin s sits at site + offs[t][s]; wrap holds, for each (t, s)
   and lattice dimension k, the L_k values ((c + off_k) mod L_k) stride_k,
   so a spin costs d table reads instead of d divisions. */
typedef struct op_job {
  int d;
  int64_t L[HEBB_MAXDIM], N, nterms, k, nops, sumL;
  int64_t start[HEBB_MAXDIM];     /* where dim k's table starts in a row */
  const double *x;
  const int64_t *lens, *ops;
  int64_t *wrap;                  /* nterms * k rows of sumL */
  double *y;
} op_job;

static void make_wrap(op_job *j, const int64_t *offs) {
  int64_t t, s, c, stride;
  int k;
  for (t = 0; t < j->nterms; t++)
    for (s = 0; s < j->k; s++) {
      int64_t *row = j->wrap + (t * j->k + s) * j->sumL;
      const int64_t *off = offs + (t * j->k + s) * j->d;
      for (k = j->d - 1, stride = 1; k >= 0; stride *= j->L[k--])
        for (c = 0; c < j->L[k]; c++) {
          int64_t w = (c + off[k] % j->L[k] + j->L[k]) % j->L[k];
          row[j->start[k] + c] = w * stride;
        }
    }
}

static double term_sum(const op_job *j, const double *x, int64_t t) {
  int64_t site[HEBB_MAXDIM] = {0}, i, s, f;
  int k;
  double acc = 0;
  for (i = 0; i < j->N; i++) {
    double p = 1;
    for (s = 0; s < j->lens[t]; s++) {
      const int64_t *row = j->wrap + (t * j->k + s) * j->sumL;
      for (k = 0, f = 0; k < j->d; k++) f += row[j->start[k] + site[k]];
      p *= x[f];
    }
    acc += p;
    for (k = j->d - 1; k >= 0 && ++site[k] == j->L[k]; k--) site[k] = 0;
  }
  return acc;
}

static void op_range(int64_t lo, int64_t hi, void *ud) {
  const op_job *j = ud;
  int64_t n, t;
  for (n = lo; n < hi; n++) {
    double *y = j->y + n * j->nops;
    memset(y, 0, (size_t)j->nops * sizeof *y);
    for (t = 0; t < j->nterms; t++)
      y[j->ops[t]] += term_sum(j, j->x + n * j->N, t);
  }
}

static int check_terms(const op_job *j) {
  const char *who = "rg.operators";
  int64_t t;
  for (t = 0; t < j->nterms; t++) {
    if (j->lens[t] < 1 || j->lens[t] > j->k)
      return hebb_fail(HEBB_ERR_ARG, "%s: term %lld has %lld spins (1..%lld)",
                       who, (long long)t + 1, (long long)j->lens[t],
                       (long long)j->k);
    if (j->ops[t] < 0 || j->ops[t] >= j->nops)
      return hebb_fail(HEBB_ERR_ARG, "%s: term %lld belongs to operator %lld "
                       "(1..%lld)", who, (long long)t + 1,
                       (long long)j->ops[t] + 1, (long long)j->nops);
  }
  return HEBB_OK;
}

static int check_shapes(const hebb_tensor *x, int d, const hebb_tensor *offs,
                        const hebb_tensor *lens, const hebb_tensor *ops,
                        int64_t nops) {
  const char *who = "rg.operators";
  if (d < 1 || d > x->ndim || d > HEBB_MAXDIM - 1)
    return hebb_fail(HEBB_ERR_ARG, "%s: %d lattice dimensions do not fit a "
                     "%d-d tensor", who, d, x->ndim);
  if (x->dtype != HEBB_F64 && x->dtype != HEBB_F32 && x->dtype != HEBB_I64)
    return hebb_fail(HEBB_ERR_DTYPE, "%s: configurations must be i64, f64 "
                     "or f32, got %s", who, hebb_dtype_name(x->dtype));
  if (offs->dtype != HEBB_I64 || offs->ndim != 3 || offs->shape[2] != d ||
      offs->shape[1] < 1 || lens->dtype != HEBB_I64 || lens->ndim != 1 ||
      lens->shape[0] != offs->shape[0] || ops->dtype != HEBB_I64 ||
      ops->ndim != 1 || ops->shape[0] != offs->shape[0])
    return hebb_fail(HEBB_ERR_SHAPE, "%s: terms must be i64 tensors {n, k, "
                     "%d}, {n} and {n}", who, d);
  if (nops < 1)
    return hebb_fail(HEBB_ERR_ARG, "%s: needs at least 1 operator", who);
  return HEBB_OK;
}

static void op_geometry(op_job *j, const hebb_tensor *x, int d,
                        const hebb_tensor *offs, int64_t nops) {
  int k;
  memset(j, 0, sizeof *j);
  j->d = d;
  j->N = 1;
  for (k = 0; k < d; k++) {
    j->L[k] = x->shape[x->ndim - d + k];
    j->N *= j->L[k];
    j->start[k] = j->sumL;
    j->sumL += j->L[k];
  }
  j->nterms = offs->shape[0];
  j->k = offs->shape[1];
  j->nops = nops;
}

hebb_status hebb_rg_operators(const hebb_tensor *x, int d,
                              const hebb_tensor *offs, const hebb_tensor *lens,
                              const hebb_tensor *ops, int64_t nops,
                              hebb_tensor **out) {
  int64_t shape[HEBB_MAXDIM], nb;
  hebb_tensor *xd, *co, *cl, *cp, *y = NULL;
  op_job j;
  int st;
  if ((st = check_shapes(x, d, offs, lens, ops, nops))) return st;
  op_geometry(&j, x, d, offs, nops);
  nb = hebb_shape_numel(x->ndim - d, x->shape);
  xd = hebb_astype(x, HEBB_F64);
  co = xd ? hebb_contiguous(hebb_unconst(offs)) : NULL;
  cl = co ? hebb_contiguous(hebb_unconst(lens)) : NULL;
  cp = cl ? hebb_contiguous(hebb_unconst(ops)) : NULL;
  j.wrap = cp ? malloc((size_t)(j.nterms * j.k * j.sumL + 1) *
                       sizeof *j.wrap) : NULL;
  if (!cp) st = hebb_last_status();
  else if (!j.wrap) st = hebb_fail(HEBB_ERR_NOMEM, "rg.operators: out of "
                                   "memory");
  if (st == HEBB_OK) {
    j.x = hebb_data_ptr(xd);
    j.lens = hebb_data_ptr(cl);
    j.ops = hebb_data_ptr(cp);
    st = check_terms(&j);
  }
  if (st == HEBB_OK) {
    make_wrap(&j, hebb_data_ptr(co));
    memcpy(shape, x->shape, (size_t)(x->ndim - d) * sizeof *shape);
    shape[x->ndim - d] = nops;
    if (!(y = hebb_empty(HEBB_F64, x->ndim - d + 1, shape)))
      st = hebb_last_status();
  }
  if (st == HEBB_OK) {
    j.y = hebb_data_ptr(y);
    st = hebb_parallel_for(nb, j.N * (j.nterms * j.k * d + 1), op_range, &j);
  }
  free(j.wrap);
  hebb_release(xd);
  hebb_release(co);
  hebb_release(cl);
  hebb_release(cp);
  if (st != HEBB_OK) return hebb_release(y), st;
  *out = y;
  return HEBB_OK;
}
