/*
** argreduce.c -- argmin and argmax (along one dimension or over the whole
** tensor) and min/max along a dimension together with their indices.
**
** The answer is the first position (in row-major order) that holds the
** extreme value, and a NaN is more extreme than any number (the first NaN
** wins), as in numpy.  No rounding is involved, so any split of the work
** gives the same answer as long as pieces are merged in order and a later
** piece wins only when it is strictly better -- which is what the merge does.
*/
#include <string.h>

#include "core.h"

#define ARGBLOCK 65536   /* elements per unit of a long scan */
#define COLW 1024        /* results per column tile: long runs of each row */

typedef union best { double f; int64_t i; } best;

/* continues a running best (*b at flat index *k; *k < 0: none yet) over the
   n elements at p (byte stride st) whose flat indices start at i0 */
typedef void (*scan_fn)(const char *p, int64_t st, int64_t n, int64_t i0,
                        best *b, int64_t *k);
/* one row (index r; row 0 starts them) of w elements into w running bests
   (doubles for float kernels, int64s for integer ones) and their indices */
typedef void (*row_fn)(const char *p, int64_t cst, int64_t w, int64_t r,
                       void *bv, int64_t *k);

/* v beats b: is above (below) it, or is a NaN */
#define ABOVE(v, b) (!((v) <= (b)))
#define BELOW(v, b) (!((v) >= (b)))

#define ARG_KERNELS(NAME, TX, TS, FIELD, BEATS)                               \
  static void NAME##_scan(const char *p, int64_t st, int64_t n, int64_t i0,   \
                          best *bp, int64_t *kp) {                            \
    TS b = bp->FIELD;                                                         \
    int64_t i = 0, k = *kp;                                                   \
    if (k < 0) {                                                              \
      b = (TS)*(const TX *)p;                                                 \
      k = i0;                                                                 \
      i = 1;                                                                  \
      p += st;                                                                \
    }                                                                         \
    if (b == b)   /* nothing beats a NaN */                                   \
      for (; i < n; i++, p += st) {                                           \
        TS v = (TS)*(const TX *)p;                                            \
        if (BEATS(v, b)) {                                                    \
          b = v;                                                              \
          k = i0 + i;                                                         \
          if (v != v) break;                                                  \
        }                                                                     \
      }                                                                       \
    bp->FIELD = b;                                                            \
    *kp = k;                                                                  \
  }                                                                           \
  static void NAME##_row(const char *p, int64_t cst, int64_t w, int64_t r,    \
                         void *bvp, int64_t *kp) {                            \
    TS *restrict bv = bvp;                                                    \
    int64_t c;                                                                \
    for (c = 0; c < w; c++, p += cst) {                                       \
      TS v = (TS)*(const TX *)p, b = r == 0 ? v : bv[c];                      \
      int take = r == 0 || (b == b && BEATS(v, b));                           \
      bv[c] = take ? v : b;                                                   \
      kp[c] = take ? r : kp[c];                                               \
    }                                                                         \
  }

ARG_KERNELS(min_d, double, double, f, BELOW)
ARG_KERNELS(min_f, float, double, f, BELOW)
ARG_KERNELS(min_i, int64_t, int64_t, i, BELOW)
ARG_KERNELS(min_b, bool, int64_t, i, BELOW)
ARG_KERNELS(max_d, double, double, f, ABOVE)
ARG_KERNELS(max_f, float, double, f, ABOVE)
ARG_KERNELS(max_i, int64_t, int64_t, i, ABOVE)
ARG_KERNELS(max_b, bool, int64_t, i, ABOVE)

static const scan_fn scans[2][4] = {
  {min_d_scan, min_f_scan, min_i_scan, min_b_scan},
  {max_d_scan, max_f_scan, max_i_scan, max_b_scan},
};
static const row_fn rows[2][4] = {
  {min_d_row, min_f_row, min_i_row, min_b_row},
  {max_d_row, max_f_row, max_i_row, max_b_row},
};

typedef struct argjob {
  hebb_redplan pl;     /* kept and reduced spaces in logical order (the
                          flat index of a full scan is the logical one) */
  scan_fn scan;
  row_fn row;
  int isfloat, ismax;
  best *pb;            /* m * nb unit results */
  int64_t *pk;
  char *vals;          /* m values of dtype vdtype, or NULL */
  int vdtype;
  int64_t *idx;        /* m indices, or NULL */
  int64_t base_index;
} argjob;

/* whether the unit result (v, k) replaces the earlier (*b, *k) */
static int beats(const argjob *jb, best v, best b) {
  if (jb->isfloat)
    return b.f == b.f && (jb->ismax ? ABOVE(v.f, b.f) : BELOW(v.f, b.f));
  return jb->ismax ? v.i > b.i : v.i < b.i;
}

static void put(const argjob *jb, int64_t o, best b, int64_t k) {
  if (jb->idx) jb->idx[o] = k + jb->base_index;
  if (!jb->vals) return;
  switch (jb->vdtype) {
    case HEBB_F64: ((double *)jb->vals)[o] = b.f; break;
    case HEBB_F32: ((float *)jb->vals)[o] = (float)b.f; break;
    case HEBB_I64: ((int64_t *)jb->vals)[o] = b.i; break;
    default: ((bool *)jb->vals)[o] = b.i != 0; break;
  }
}

/* units are (result o, block b of ARGBLOCK elements), o-major */
static void scan_units(int64_t lo, int64_t hi, void *ud) {
  const argjob *jb = ud;
  const hebb_redplan *pl = &jb->pl;
  int last = pl->nr - 1;
  int64_t o = lo / pl->nb, b = lo % pl->nb, u;
  hebb_odo ko, ro;
  hebb_odo_seek(&ko, pl->nk, pl->kshape, pl->kstride, o);
  for (u = lo; u < hi; u++) {
    int64_t i = b * ARGBLOCK, e = i + ARGBLOCK < pl->n ? i + ARGBLOCK : pl->n;
    best bv;
    int64_t k = -1;
    bv.i = 0;
    hebb_odo_seek(&ro, pl->nr, pl->rshape, pl->rstride, i);
    while (i < e) {
      int64_t run = pl->rshape[last] - ro.idx[last];
      if (run > e - i) run = e - i;
      jb->scan(pl->base + ko.off + ro.off, pl->rstride[last], run, i, &bv, &k);
      i += run;
      if (i < e) hebb_odo_step(&ro, run);
    }
    jb->pb[u] = bv;
    jb->pk[u] = k;
    if (++b == pl->nb && u + 1 < hi) {
      b = 0;
      o++;
      hebb_odo_step(&ko, 1);
    }
  }
}

static void merge_units(int64_t lo, int64_t hi, void *ud) {
  const argjob *jb = ud;
  const hebb_redplan *pl = &jb->pl;
  int64_t o, b;
  for (o = lo; o < hi; o++) {
    best cur = jb->pb[o * pl->nb];
    int64_t k = jb->pk[o * pl->nb];
    for (b = 1; b < pl->nb; b++)
      if (beats(jb, jb->pb[o * pl->nb + b], cur)) {
        cur = jb->pb[o * pl->nb + b];
        k = jb->pk[o * pl->nb + b];
      }
    put(jb, o, cur, k);
  }
}

/* units are (outer result index q, tile t): the column is walked row by
   row, each row updating COLW running bests (one reduced dim only) */
static void col_units(int64_t lo, int64_t hi, void *ud) {
  const argjob *jb = ud;
  const hebb_redplan *pl = &jb->pl;
  int kl = pl->nk - 1;
  int64_t inner = pl->kshape[kl], ntiles = (inner + COLW - 1) / COLW;
  int64_t u, r, c;
  double bf[COLW];
  int64_t bi[COLW], kv[COLW];
  void *bv = jb->isfloat ? (void *)bf : (void *)bi;
  for (u = lo; u < hi; u++) {
    int64_t t = u % ntiles, q = u / ntiles, c0 = t * COLW;
    int64_t w = inner - c0 < COLW ? inner - c0 : COLW;
    const char *p;
    hebb_odo ko;
    hebb_odo_seek(&ko, kl, pl->kshape, pl->kstride, q);
    p = pl->base + ko.off + c0 * pl->kstride[kl];
    for (r = 0; r < pl->n; r++, p += pl->rstride[0])
      jb->row(p, pl->kstride[kl], w, r, bv, kv);
    for (c = 0; c < w; c++) {
      best b;
      if (jb->isfloat) b.f = bf[c];
      else b.i = bi[c];
      put(jb, q * inner + c0 + c, b, kv[c]);
    }
  }
}

static int run(argjob *jb) {
  const hebb_redplan *pl = &jb->pl;
  int64_t inner = pl->kshape[pl->nk - 1], nparts = pl->m * pl->nb;
  int st;
  if (pl->nr == 1 && inner >= 2 &&
      hebb_iabs64(pl->kstride[pl->nk - 1]) < hebb_iabs64(pl->rstride[0]))
    return hebb_parallel_for(pl->m / inner * ((inner + COLW - 1) / COLW),
                             pl->n * (inner < COLW ? inner : COLW), col_units,
                             jb);
  jb->pb = hebb_alloc_bytes((size_t)nparts * sizeof(best));
  jb->pk = hebb_alloc_bytes((size_t)nparts * sizeof(int64_t));
  if (!jb->pb || !jb->pk) st = hebb_fail(HEBB_ERR_NOMEM, "argreduce: out of "
                                         "memory");
  else st = hebb_parallel_for(nparts, pl->n / pl->nb + 8, scan_units, jb);
  if (st == HEBB_OK)
    st = hebb_parallel_for(pl->m, pl->nb + 4, merge_units, jb);
  if (jb->pb) hebb_free_bytes(jb->pb, (size_t)nparts * sizeof(best));
  if (jb->pk) hebb_free_bytes(jb->pk, (size_t)nparts * sizeof(int64_t));
  return st;
}

/* *out ready for m results (a temporary when *out is not contiguous) */
static int prepare(hebb_tensor **out, int dtype, int nd, const int64_t *shape,
                   const char *who, hebb_tensor **tmp) {
  *tmp = NULL;
  if (hebb_prepare_out(out, dtype, nd, shape, who)) return hebb_last_status();
  if (!hebb_is_contiguous(*out) && !(*tmp = hebb_empty(dtype, nd, shape)))
    return hebb_last_status();
  return HEBB_OK;
}

static int finish(hebb_tensor *out, hebb_tensor *tmp, int st) {
  if (tmp) {
    if (st == HEBB_OK) st = hebb_convert_into(out, tmp);
    hebb_release(tmp);
  }
  return st;
}

hebb_status hebb_minmax_dim(int op, const hebb_tensor *a, int dim,
                            bool keepdim, int64_t base, hebb_tensor **values,
                            hebb_tensor **indices) {
  int64_t shape[HEBB_MAXDIM], m = 1, n = 1;
  int ismax = op == HEBB_ARGMAX, nd = 0, i, st;
  const char *who = values ? (ismax ? "max" : "min") :
                             (ismax ? "argmax" : "argmin");
  hebb_tensor *tv = NULL, *ti = NULL;
  bool red[HEBB_MAXDIM];
  argjob jb;
  if (op != HEBB_ARGMIN && op != HEBB_ARGMAX)
    return hebb_fail(HEBB_ERR_ARG, "argreduce: operation must be HEBB_ARGMIN "
                     "or HEBB_ARGMAX (got %d)", op);
  if (hebb_check_dtype(a->dtype, who)) return hebb_last_status();
  if (a->ndim == 0 && dim == 0) dim = -1;   /* a scalar: dim 1 is all of it */
  if (dim < -1 || dim >= a->ndim)
    return hebb_fail(HEBB_ERR_INDEX, "%s: dimension %d out of range for a "
                     "%d-dimensional tensor", who, dim + 1, a->ndim);
  for (i = 0; i < a->ndim; i++) {
    red[i] = dim < 0 || i == dim;
    if (red[i]) n *= a->shape[i];
    else m *= a->shape[i];
    if (!red[i]) shape[nd++] = a->shape[i];
    else if (keepdim) shape[nd++] = 1;
  }
  if (n == 0 && m > 0) {
    if (dim < 0)
      return hebb_fail(HEBB_ERR_SHAPE, "%s: cannot take the %s of an empty "
                       "tensor", who, who);
    return hebb_fail(HEBB_ERR_SHAPE, "%s: cannot take the %s over dimension "
                     "%d of size 0", who, who, dim + 1);
  }
  if (values && (st = prepare(values, a->dtype, nd, shape, who, &tv)))
    return st;
  if (indices && (st = prepare(indices, HEBB_I64, nd, shape, who, &ti))) {
    if (tv) hebb_release(tv);
    return st;
  }
  if (m == 0) return HEBB_OK;
  hebb_redplan_make(&jb.pl, a, red, false, ARGBLOCK);
  jb.scan = scans[ismax][a->dtype];
  jb.row = rows[ismax][a->dtype];
  jb.isfloat = a->dtype == HEBB_F64 || a->dtype == HEBB_F32;
  jb.ismax = ismax;
  jb.pb = NULL;
  jb.pk = NULL;
  jb.vals = values ? hebb_first(tv ? tv : *values) : NULL;
  jb.vdtype = a->dtype;
  jb.idx = indices ? (int64_t *)hebb_first(ti ? ti : *indices) : NULL;
  jb.base_index = base;
  st = run(&jb);
  if (values) st = finish(*values, tv, st);
  if (indices) st = finish(*indices, ti, st);
  return st;
}

hebb_status hebb_argreduce(int op, const hebb_tensor *a, int dim, bool keepdim,
                           int64_t base, hebb_tensor **out) {
  return hebb_minmax_dim(op, a, dim, keepdim, base, NULL, out);
}
