/*
** sort.c -- ordering along a dimension: sort/argsort (stable), topk,
** unique, searchsorted, and the equal-width histogram histc.
**
** Every element becomes a 64-bit unsigned key whose unsigned order is the
** element order: an f64 (f32 and bool widen exactly) has its sign bit
** flipped when positive and all bits flipped when negative; an i64 has its
** sign bit flipped.  -0.0 is keyed as +0.0 (they compare equal) and every
** NaN as the largest key, so NaNs sort last (first in descending order,
** which complements the keys).  One stable merge sort of (key, position)
** pairs then serves every dtype, and equal elements keep their order in
** both directions.
*/
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

typedef struct pair { uint64_t key; int64_t pos; } pair;

static uint64_t key_f64(double x) {
  uint64_t b;
  if (x != x) return UINT64_MAX;
  if (x == 0) x = 0;   /* -0.0 -> +0.0 */
  memcpy(&b, &x, sizeof b);
  return b >> 63 ? ~b : b | (uint64_t)1 << 63;
}

static uint64_t key_at(int dtype, const char *p) {
  switch (dtype) {
    case HEBB_F64: return key_f64(*(const double *)p);
    case HEBB_F32: return key_f64(*(const float *)p);
    case HEBB_I64: return (uint64_t)*(const int64_t *)p ^ (uint64_t)1 << 63;
    default: return key_f64(*(const bool *)p);
  }
}

/* hebb_prepare_out for results these functions write as flat arrays */
static int prepare_flat(hebb_tensor **out, int dtype, int ndim,
                        const int64_t *shape, const char *who) {
  if (*out && !hebb_is_contiguous(*out))
    return hebb_fail(HEBB_ERR_ARG, "%s: out must be contiguous", who);
  return hebb_prepare_out(out, dtype, ndim, shape, who);
}

static int check_real(const hebb_tensor *a, const char *who) {
  if (hebb_is_complex(a->dtype))
    return hebb_fail(HEBB_ERR_DTYPE, "%s: complex numbers have no order "
                     "(dtype %s)", who, hebb_dtype_name(a->dtype));
  return hebb_check_dtype(a->dtype, who);
}

/* --- stable merge sort --------------------------------------------------- */

/* Short runs by insertion (stable: moves only past strictly greater keys),
   then bottom-up merges between v and tmp. */
#define RUN 16

static void insertion(pair *v, int64_t n) {
  int64_t i, j;
  for (i = 1; i < n; i++) {
    pair x = v[i];
    for (j = i; j > 0 && v[j - 1].key > x.key; j--) v[j] = v[j - 1];
    v[j] = x;
  }
}

static void merge(const pair *a, int64_t na, const pair *b, int64_t nb,
                  pair *out) {
  int64_t i = 0, j = 0, k = 0;
  while (i < na && j < nb) out[k++] = b[j].key < a[i].key ? b[j++] : a[i++];
  while (i < na) out[k++] = a[i++];
  while (j < nb) out[k++] = b[j++];
}

/* sorts v[0..n) by key, stably; tmp holds n pairs */
static void merge_sort(pair *v, pair *tmp, int64_t n) {
  pair *src = v, *dst = tmp, *t;
  int64_t w, i;
  for (i = 0; i < n; i += RUN) insertion(v + i, n - i < RUN ? n - i : RUN);
  for (w = RUN; w < n; w *= 2) {
    for (i = 0; i < n; i += 2 * w) {
      int64_t na = n - i < w ? n - i : w;
      int64_t nb = n - i - na < w ? n - i - na : w;
      merge(src + i, na, src + i + na, nb, dst + i);
    }
    t = src; src = dst; dst = t;
  }
  if (src != v) memcpy(v, src, (size_t)n * sizeof(pair));
}

/* --- rows along a dimension ----------------------------------------------- */

/* A header over the same elements with dimension dim moved last (swapped
   with the last one): the rows to sort are then its last dimension. */
static hebb_tensor dim_last(const hebb_tensor *a, int dim) {
  hebb_tensor v = *a;
  int last = a->ndim - 1;
  v.shape[dim] = a->shape[last];
  v.stride[dim] = a->stride[last];
  v.shape[last] = a->shape[dim];
  v.stride[last] = a->stride[dim];
  v.flags &= ~HEBB_TF_TRACKED;
  return v;
}

/* What a parallel sort of rows shares: the rows (contiguous, n elements
   each, dtype), the 0-based positions of the k first elements of each
   sorted row go to idx (k per row). */
typedef struct rows {
  const char *data;
  int dtype;
  int64_t n, k;
  bool descending;
  int64_t base;
  int64_t *idx;
  atomic_int nomem;
} rows;

static void sort_rows(int64_t lo, int64_t hi, void *ud) {
  rows *r = ud;
  int64_t n = r->n, i, row, sz = hebb_dtype_size(r->dtype);
  pair *v = malloc((size_t)(2 * n) * sizeof(pair));
  if (!v) { atomic_store(&r->nomem, 1); return; }
  for (row = lo; row < hi; row++) {
    const char *p = r->data + row * n * sz;
    for (i = 0; i < n; i++) {
      uint64_t k = key_at(r->dtype, p + i * sz);
      v[i].key = r->descending ? ~k : k;
      v[i].pos = i;
    }
    merge_sort(v, v + n, n);
    for (i = 0; i < r->k; i++) r->idx[row * r->k + i] = v[i].pos + r->base;
  }
  free(v);
}

/* The first k positions (from base) of every sorted row of a along dim,
   as a new i64 tensor shaped like a with dim moved last and cut to k. */
static hebb_tensor *sorted_positions(const hebb_tensor *a, int dim, int64_t k,
                                     bool descending, int64_t base) {
  hebb_tensor v = dim_last(a, dim), *c, *idx;
  int64_t shape[HEBB_MAXDIM], n = a->shape[dim], nrows;
  int st;
  rows r;
  memcpy(shape, v.shape, sizeof shape);
  shape[a->ndim - 1] = k;
  c = hebb_empty(a->dtype, v.ndim, v.shape);
  if (!c) return NULL;
  idx = hebb_empty(HEBB_I64, v.ndim, shape);
  if (!idx || hebb_copy(c, &v) != HEBB_OK) {
    hebb_release(c);
    if (idx) hebb_release(idx);
    return NULL;
  }
  nrows = n > 0 ? hebb_numel(c) / n : 0;
  memset(&r, 0, sizeof r);
  r.data = hebb_first(c);
  r.dtype = a->dtype;
  r.n = n;
  r.k = k;
  r.descending = descending;
  r.base = base;
  r.idx = (int64_t *)hebb_first(idx);
  atomic_init(&r.nomem, 0);
  /* n log n comparisons per row, ~4 operations each */
  st = hebb_parallel_for(nrows, 4 * (n + 1) * (int64_t)(1 + log2(n + 1.0)),
                         sort_rows, &r);
  hebb_release(c);
  if (st == HEBB_OK && atomic_load(&r.nomem))
    st = hebb_fail(HEBB_ERR_NOMEM, "sort: out of memory for rows of %lld "
                   "elements", (long long)n);
  if (st != HEBB_OK) {
    hebb_release(idx);
    return NULL;
  }
  return idx;
}

/* Writes positions (shaped like a with dim moved last) into *indices in
   a's layout, and the values they pick into *values; either may be NULL
   (not wanted). */
static int finish(const hebb_tensor *a, int dim, hebb_tensor *pos,
                  int64_t base, hebb_tensor **values, hebb_tensor **indices,
                  const char *who) {
  hebb_tensor back = dim_last(pos, dim), *idx = NULL;
  int st;
  if (indices) {
    st = hebb_prepare_out(indices, HEBB_I64, back.ndim, back.shape, who);
    if (st != HEBB_OK) return st;
    if ((st = hebb_copy(*indices, &back)) != HEBB_OK) return st;
    idx = *indices;
  }
  if (!values) return HEBB_OK;
  if (!idx) {
    idx = hebb_empty(HEBB_I64, back.ndim, back.shape);
    if (!idx) return hebb_last_status();
    if ((st = hebb_copy(idx, &back)) == HEBB_OK)
      st = hebb_gather(a, dim, idx, base, values);
    hebb_release(idx);
    return st;
  }
  return hebb_gather(a, dim, idx, base, values);
}

static int sort_k(const hebb_tensor *a, int dim, int64_t k, bool descending,
                  int64_t base, hebb_tensor **values, hebb_tensor **indices,
                  const char *who) {
  hebb_tensor *pos;
  int st;
  pos = sorted_positions(a, dim, k, descending, base);
  if (!pos) return hebb_last_status();
  st = finish(a, dim, pos, base, values, indices, who);
  hebb_release(pos);
  return st;
}

int hebb_sort(const hebb_tensor *a, int dim, bool descending, int64_t base,
              hebb_tensor **values, hebb_tensor **indices) {
  if (check_real(a, "sort") || hebb_check_dim(a, dim, "sort"))
    return hebb_last_status();
  return sort_k(a, dim, a->shape[dim], descending, base, values, indices,
                "sort");
}

int hebb_topk(const hebb_tensor *a, int64_t k, int dim, bool largest,
              int64_t base, hebb_tensor **values, hebb_tensor **indices) {
  if (check_real(a, "topk") || hebb_check_dim(a, dim, "topk"))
    return hebb_last_status();
  if (k < 0 || k > a->shape[dim])
    return hebb_fail(HEBB_ERR_ARG, "topk: k = %lld is outside 0..%lld (the "
                     "size of dimension %d)", (long long)k,
                     (long long)a->shape[dim], dim + 1);
  return sort_k(a, dim, k, largest, base, values, indices, "topk");
}

/* --- unique ------------------------------------------------------------------ */

/* Distinct values of the flattened a, ascending; for each element its
   distinct value's index (from base), and the count of each. */
int hebb_unique(const hebb_tensor *a, int64_t base, hebb_tensor **values,
                hebb_tensor **inverse, hebb_tensor **counts) {
  hebb_tensor flat, *c, *pos = NULL, *first = NULL;
  int64_t n = hebb_numel(a), m = 0, i, shape1;
  int64_t *p, *inv, *cnt, *firsts;
  const char *src;
  int st = HEBB_OK, sz = hebb_dtype_size(a->dtype);
  if (check_real(a, "unique")) return hebb_last_status();
  if (!(c = hebb_contiguous((hebb_tensor *)a))) return hebb_last_status();
  flat = *c;   /* c's elements as one flat sequence */
  flat.ndim = 1;
  flat.shape[0] = n;
  flat.stride[0] = 1;
  flat.flags &= ~HEBB_TF_TRACKED;
  src = hebb_first(c);
  inv = malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
  firsts = malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
  cnt = malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
  if (!inv || !firsts || !cnt)
    st = hebb_fail(HEBB_ERR_NOMEM, "unique: out of memory");
  else if (!(pos = sorted_positions(&flat, 0, n, false, 0)))
    st = hebb_last_status();
  for (i = 0, p = pos ? (int64_t *)hebb_first(pos) : NULL; st == HEBB_OK &&
       i < n; i++) {
    uint64_t k = key_at(a->dtype, src + p[i] * sz);
    if (i == 0 || k != key_at(a->dtype, src + p[i - 1] * sz)) {
      firsts[m] = p[i];
      cnt[m++] = 0;
    }
    cnt[m - 1]++;
    inv[p[i]] = m - 1 + base;
  }
  shape1 = m;
  if (st == HEBB_OK && values) {
    first = hebb_from_buffer(HEBB_I64, 1, &shape1, firsts);
    if (!first) st = hebb_last_status();
    else st = hebb_index_select(&flat, 0, first, 0, values);
  }
  if (st == HEBB_OK && inverse &&
      (st = prepare_flat(inverse, HEBB_I64, a->ndim, a->shape, "unique"))
      == HEBB_OK && n > 0)
    memcpy(hebb_first(*inverse), inv, (size_t)n * sizeof(int64_t));
  if (st == HEBB_OK && counts &&
      (st = prepare_flat(counts, HEBB_I64, 1, &shape1, "unique"))
      == HEBB_OK && m > 0)
    memcpy(hebb_first(*counts), cnt, (size_t)m * sizeof(int64_t));
  if (first) hebb_release(first);
  if (pos) hebb_release(pos);
  hebb_release(c);
  free(inv); free(firsts); free(cnt);
  return st;
}

/* --- searchsorted ------------------------------------------------------------ */

typedef struct search {
  const uint64_t *keys;   /* of the sorted sequence */
  int64_t n, base;
  bool right;
  int dtype;
  const char *v;          /* contiguous values */
  int64_t *out;
} search;

static void search_range(int64_t lo, int64_t hi, void *ud) {
  const search *s = ud;
  int64_t i, sz = hebb_dtype_size(s->dtype);
  for (i = lo; i < hi; i++) {
    uint64_t k = key_at(s->dtype, s->v + i * sz);
    int64_t a = 0, b = s->n;   /* the answer lies in [a, b] */
    while (a < b) {
      int64_t m = a + (b - a) / 2;
      if (s->right ? s->keys[m] <= k : s->keys[m] < k) a = m + 1;
      else b = m;
    }
    s->out[i] = a + s->base;
  }
}

static int check_sorted(const uint64_t *k, int64_t n) {
  int64_t i;
  for (i = 1; i < n; i++)
    if (k[i] < k[i - 1])
      return hebb_fail(HEBB_ERR_ARG, "searchsorted: the sequence is not "
                       "sorted ascending (element %lld is less than element "
                       "%lld)", (long long)i + 1, (long long)i);
  return HEBB_OK;
}

/* The keys of a 1-d s in a new array (NULL and an error on failure). */
static uint64_t *keys_of(const hebb_tensor *s) {
  int64_t n = s->shape[0], i;
  const char *p = hebb_first(s);
  int sz = hebb_dtype_size(s->dtype);
  uint64_t *k = malloc((size_t)(n > 0 ? n : 1) * sizeof(uint64_t));
  if (!k) return hebb_fail_null(HEBB_ERR_NOMEM, "searchsorted: out of memory");
  for (i = 0; i < n; i++) k[i] = key_at(s->dtype, p + i * s->stride[0] * sz);
  return k;
}

int hebb_searchsorted(const hebb_tensor *s, const hebb_tensor *v, bool right,
                      int64_t base, hebb_tensor **out) {
  search sc;
  hebb_tensor *vc = NULL;
  int st;
  if (check_real(s, "searchsorted") || check_real(v, "searchsorted"))
    return hebb_last_status();
  if (s->ndim != 1)
    return hebb_fail(HEBB_ERR_SHAPE, "searchsorted: the sorted sequence must "
                     "be 1-d (got %d-d)", s->ndim);
  if ((s->dtype == HEBB_I64) != (v->dtype == HEBB_I64))
    return hebb_fail(HEBB_ERR_DTYPE, "searchsorted: the sequence (%s) and the "
                     "values (%s) must both be i64 or both floats",
                     hebb_dtype_name(s->dtype), hebb_dtype_name(v->dtype));
  memset(&sc, 0, sizeof sc);
  if (!(sc.keys = keys_of(s))) return hebb_last_status();
  st = check_sorted(sc.keys, s->shape[0]);
  if (st == HEBB_OK) st = prepare_flat(out, HEBB_I64, v->ndim, v->shape,
                                        "searchsorted");
  if (st == HEBB_OK && !(vc = hebb_contiguous((hebb_tensor *)v)))
    st = hebb_last_status();
  if (st == HEBB_OK) {
    sc.n = s->shape[0];
    sc.base = base;
    sc.right = right;
    sc.dtype = v->dtype;
    sc.v = hebb_first(vc);
    sc.out = (int64_t *)hebb_first(*out);
    st = hebb_parallel_for(hebb_numel(v), 4 * (1 + (int64_t)log2(sc.n + 1.0)),
                           search_range, &sc);
  }
  if (vc) hebb_release(vc);
  free((void *)sc.keys);
  return st;
}

/* --- histc ------------------------------------------------------------------- */

/* Counts of a's elements in `bins` equal bins over [lo, hi] (hi falls in
   the last bin; elements outside, and NaNs, are not counted); lo == hi
   takes the data's smallest and largest values (lo - 1 and hi + 1 when
   all are equal, as torch does).  Sequential: one pass, exact counts. */
int hebb_histc(const hebb_tensor *a, int64_t bins, double lo, double hi,
               hebb_tensor **out) {
  hebb_tensor *c;
  const double *x;
  double *h, w;
  int64_t n, i;
  int st;
  if (check_real(a, "histc")) return hebb_last_status();
  if (bins < 1)
    return hebb_fail(HEBB_ERR_ARG, "histc: bins = %lld; needs at least 1",
                     (long long)bins);
  if (!isfinite(lo) || !isfinite(hi) || lo > hi)
    return hebb_fail(HEBB_ERR_ARG, "histc: the range [%g, %g] is not a finite "
                     "interval", lo, hi);
  if (!(c = hebb_astype(a, HEBB_F64))) return hebb_last_status();
  n = hebb_numel(c);
  x = (const double *)hebb_first(c);
  if (lo == hi) {
    double mn = INFINITY, mx = -INFINITY;
    for (i = 0; i < n; i++)
      if (x[i] == x[i]) { mn = fmin(mn, x[i]); mx = fmax(mx, x[i]); }
    if (mn > mx) { mn = 0; mx = 0; }
    lo = mn == mx ? mn - 1 : mn;
    hi = mn == mx ? mx + 1 : mx;
  }
  st = prepare_flat(out, HEBB_F64, 1, &bins, "histc");
  if (st == HEBB_OK) {
    h = (double *)hebb_first(*out);
    memset(h, 0, (size_t)bins * sizeof(double));
    w = (hi - lo) / (double)bins;
    for (i = 0; i < n; i++) {
      int64_t b;
      if (!(x[i] >= lo && x[i] <= hi)) continue;
      b = (int64_t)((x[i] - lo) / w);
      h[b < bins ? b : bins - 1] += 1;
    }
  }
  hebb_release(c);
  return st;
}
