/*
** sparse.c -- sparse f64 and c128 matrices in compressed sparse row (CSR)
** form: construction from triplets (duplicates summed), from dense tensors
** and as the adjacency of a hypercubic lattice, conversion back, products
** with vectors and matrices, transpose and conjugate, linear combinations
** and the diagonal.
**
** A matrix is immutable once built, so it can be shared by reference
** counting like a tensor storage.  Column indices are int64 and sorted
** within each row; the product loop reads them in order, so every row of
** s x is a fixed sum and the bits never depend on the thread count.
** Complex values are stored as (re, im) pairs of doubles, C99's layout of
** double _Complex, and multiplied out by hand: the compiler's complex
** product checks for infinities on every call.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* doubles per stored value */

/* --- lifetime ---------------------------------------------------------- */

static void *xmalloc(int64_t n, size_t size) {
  return malloc(n > 0 ? (size_t)n * size : 1);
}

/* a matrix with room for nnz entries and a zeroed row pointer */
static hebb_sparse *new_sparse(int dtype, int64_t nrows, int64_t ncols,
                               int64_t nnz, const char *who) {
  hebb_sparse *s = malloc(sizeof *s);
  if (s) {
    s->refcount = 1;
    s->dtype = dtype;
    s->nrows = nrows;
    s->ncols = ncols;
    s->nnz = nnz;
    s->rowptr = calloc((size_t)nrows + 1, sizeof(int64_t));
    s->col = xmalloc(nnz, sizeof(int64_t));
    s->val = xmalloc(nnz, (size_t)hebb_sparse_width(dtype) * sizeof(double));
    if (s->rowptr && s->col && s->val) return s;
    hebb_sparse_release(s);
  }
  return hebb_fail_null(HEBB_ERR_NOMEM, "%s: out of memory for a %lld x %lld "
                        "matrix with %lld entries", who, (long long)nrows,
                        (long long)ncols, (long long)nnz);
}

/* a matrix with the pattern (row pointers and columns) of s */
static hebb_sparse *same_pattern(const hebb_sparse *s, int dtype,
                                 const char *who) {
  hebb_sparse *r = new_sparse(dtype, s->nrows, s->ncols, s->nnz, who);
  if (!r) return NULL;
  memcpy(r->rowptr, s->rowptr, (size_t)(s->nrows + 1) * sizeof(int64_t));
  memcpy(r->col, s->col, (size_t)s->nnz * sizeof(int64_t));
  return r;
}

void hebb_sparse_retain(hebb_sparse *s) { s->refcount++; }

void hebb_sparse_release(hebb_sparse *s) {
  if (!s || --s->refcount > 0) return;
  free(s->rowptr);
  free(s->col);
  free(s->val);
  free(s);
}

int64_t hebb_sparse_nrows(const hebb_sparse *s) { return s->nrows; }
int64_t hebb_sparse_ncols(const hebb_sparse *s) { return s->ncols; }
int64_t hebb_sparse_nnz(const hebb_sparse *s) { return s->nnz; }
const int64_t *hebb_sparse_rowptr(const hebb_sparse *s) { return s->rowptr; }
const int64_t *hebb_sparse_colind(const hebb_sparse *s) { return s->col; }
const double *hebb_sparse_values(const hebb_sparse *s) { return s->val; }
int hebb_sparse_dtype(const hebb_sparse *s) { return s->dtype; }

/* --- construction ------------------------------------------------------ */

static int check_dims(int64_t nrows, int64_t ncols, const char *who) {
  if (nrows < 0 || ncols < 0)
    return hebb_fail(HEBB_ERR_ARG, "%s: shape (%lld, %lld) has a negative "
                     "size", who, (long long)nrows, (long long)ncols);
  /* each side on its own: a wide matrix need not fit densely */
  if (hebb_check_shape(1, &nrows, NULL, who) ||
      hebb_check_shape(1, &ncols, NULL, who))
    return hebb_last_status();
  return HEBB_OK;
}

static int check_index(int64_t i, int64_t n, int64_t base, int64_t k,
                       const char *what) {
  if (i - base < 0 || i - base >= n)
    return hebb_fail(HEBB_ERR_INDEX, "sparse.csr: %s index %lld of entry %lld "
                     "out of range %lld..%lld", what, (long long)i,
                     (long long)(k + base), (long long)base,
                     (long long)(n - 1 + base));
  return HEBB_OK;
}

/* Sums entries with equal columns (adjacent after sorting) and shrinks the
   arrays to the new count. */
static void merge_duplicates(hebb_sparse *s) {
  int64_t i, p, w = 0, start = 0;
  int t, wd = hebb_sparse_width(s->dtype);
  for (i = 0; i < s->nrows; i++) {
    int64_t end = s->rowptr[i + 1];
    for (p = start; p < end; p++) {
      if (w > s->rowptr[i] && s->col[w - 1] == s->col[p])
        for (t = 0; t < wd; t++) s->val[(w - 1) * wd + t] += s->val[p * wd + t];
      else {
        s->col[w] = s->col[p];
        for (t = 0; t < wd; t++) s->val[w * wd + t] = s->val[p * wd + t];
        w++;
      }
    }
    start = end;
    s->rowptr[i + 1] = w;
  }
  s->nnz = w;
}

static int check_sparse_dtype(int dtype, const char *who) {
  if (dtype != HEBB_F64 && dtype != HEBB_C128)
    return hebb_fail(HEBB_ERR_DTYPE, "%s: sparse matrices are f64 or c128, "
                     "not %s", who, hebb_dtype_name(dtype));
  return HEBB_OK;
}

hebb_sparse *hebb_sparse_from_coo_as(int dtype, int64_t nrows, int64_t ncols,
                                     int64_t nnz, const int64_t *rows,
                                     const int64_t *cols, const double *vals,
                                     int64_t base) {
  hebb_sparse *s;
  int64_t *bycol, *next, k, c;
  int t, wd = hebb_sparse_width(dtype);
  if (check_sparse_dtype(dtype, "sparse.csr") ||
      check_dims(nrows, ncols, "sparse.csr"))
    return NULL;
  if (nnz < 0)
    return hebb_fail_null(HEBB_ERR_ARG, "sparse.csr: negative entry count "
                          "%lld", (long long)nnz);
  for (k = 0; k < nnz; k++)
    if (check_index(rows[k], nrows, base, k, "row") ||
        check_index(cols[k], ncols, base, k, "column"))
      return NULL;
  s = new_sparse(dtype, nrows, ncols, nnz, "sparse.csr");
  if (!s) return NULL;
  /* two stable counting sorts (by column, then by row) order the entries
     by (row, column) in linear time */
  bycol = xmalloc(nnz, sizeof(int64_t));
  next = calloc((size_t)(ncols > nrows ? ncols : nrows) + 1, sizeof(int64_t));
  if (!bycol || !next) {
    free(bycol);
    free(next);
    hebb_sparse_release(s);
    return hebb_fail_null(HEBB_ERR_NOMEM, "sparse.csr: out of memory");
  }
  for (k = 0; k < nnz; k++) next[cols[k] - base + 1]++;
  for (c = 0; c < ncols; c++) next[c + 1] += next[c];
  for (k = 0; k < nnz; k++) bycol[next[cols[k] - base]++] = k;
  for (k = 0; k < nnz; k++) s->rowptr[rows[k] - base + 1]++;
  for (c = 0; c < nrows; c++) s->rowptr[c + 1] += s->rowptr[c];
  memcpy(next, s->rowptr, (size_t)nrows * sizeof(int64_t));
  for (c = 0; c < nnz; c++) {
    int64_t e = bycol[c], p = next[rows[e] - base]++;
    s->col[p] = cols[e] - base;
    for (t = 0; t < wd; t++) s->val[p * wd + t] = vals[e * wd + t];
  }
  free(bycol);
  free(next);
  merge_duplicates(s);
  return s;
}

hebb_sparse *hebb_sparse_from_coo(int64_t nrows, int64_t ncols, int64_t nnz,
                                  const int64_t *rows, const int64_t *cols,
                                  const double *vals, int64_t base) {
  return hebb_sparse_from_coo_as(HEBB_F64, nrows, ncols, nnz, rows, cols,
                                 vals, base);
}

/* a itself when it is contiguous of the given dtype, else a converted copy */
static hebb_tensor *as_dtype(const hebb_tensor *a, int dtype,
                             const char *who) {
  if (hebb_check_dtype_any(a->dtype, who)) return NULL;
  if (a->dtype == dtype && hebb_is_contiguous(a)) {
    hebb_retain((hebb_tensor *)a);
    return (hebb_tensor *)a;
  }
  return hebb_astype(a, dtype);
}

/* |x| > tol for the value at x (wd doubles); tol < 0 keeps zeros too */
static bool above(const double *x, int wd, double tol) {
  if (wd == 1) return x[0] > tol || -x[0] > tol;
  return hypot(x[0], x[1]) > tol;
}

hebb_sparse *hebb_sparse_from_dense(const hebb_tensor *a, double tol) {
  hebb_tensor *d;
  hebb_sparse *s;
  const double *x;
  int64_t i, j, m, n, nnz = 0;
  int dtype = hebb_is_complex(a->dtype) ? HEBB_C128 : HEBB_F64;
  int t, wd = hebb_sparse_width(dtype);
  if (a->ndim != 2)
    return hebb_fail_null(HEBB_ERR_SHAPE, "sparse.from_dense: expected a "
                          "2-d tensor, got %d dimensions", a->ndim);
  d = as_dtype(a, dtype, "sparse.from_dense");
  if (!d) return NULL;
  m = a->shape[0];
  n = a->shape[1];
  x = (const double *)hebb_first(d);
  for (i = 0; i < m * n; i++) nnz += above(x + i * wd, wd, tol);
  s = new_sparse(dtype, m, n, nnz, "sparse.from_dense");
  if (s) {
    int64_t p = 0;
    for (i = 0; i < m; i++) {
      for (j = 0; j < n; j++) {
        const double *v = x + (i * n + j) * wd;
        if (above(v, wd, tol)) {
          s->col[p] = j;
          for (t = 0; t < wd; t++) s->val[p * wd + t] = v[t];
          p++;
        }
      }
      s->rowptr[i + 1] = p;
    }
  }
  hebb_release(d);
  return s;
}

hebb_tensor *hebb_sparse_to_dense(const hebb_sparse *s) {
  int64_t shape[2] = {s->nrows, s->ncols}, i, p;
  hebb_tensor *t = hebb_zeros(s->dtype, 2, shape);
  int k, wd = hebb_sparse_width(s->dtype);
  double *y;
  if (!t) return NULL;
  y = (double *)hebb_first(t);
  for (i = 0; i < s->nrows; i++)
    for (p = s->rowptr[i]; p < s->rowptr[i + 1]; p++)
      for (k = 0; k < wd; k++)
        y[(i * s->ncols + s->col[p]) * wd + k] += s->val[p * wd + k];
  return t;
}

/* --- lattices ---------------------------------------------------------- */

/* the neighbour offsets: +-e_i, then (next-nearest) +-e_i +-e_j, i < j;
   returns their count */
static int lattice_offsets(int d, bool nnn, int *off) {
  int i, j, a, b, k = 0;
  for (i = 0; i < d; i++)
    for (a = -1; a <= 1; a += 2, k++) {
      memset(off + k * d, 0, (size_t)d * sizeof(int));
      off[k * d + i] = a;
    }
  if (nnn)
    for (i = 0; i < d; i++)
      for (j = i + 1; j < d; j++)
        for (a = -1; a <= 1; a += 2)
          for (b = -1; b <= 1; b += 2, k++) {
            memset(off + k * d, 0, (size_t)d * sizeof(int));
            off[k * d + i] = a;
            off[k * d + j] = b;
          }
  return k;
}

/* Writes the neighbours of every site as (row, col) pairs; returns their
   count. */
static int64_t lattice_bonds(int d, const int64_t *dims, bool periodic,
                             int noff, const int *off, int64_t n,
                             int64_t *r, int64_t *c) {
  int64_t x[HEBB_MAXDIM] = {0}, stride[HEBB_MAXDIM], site, m = 0;
  int k, o;
  for (k = d - 1, stride[d - 1] = 1; k > 0; k--)
    stride[k - 1] = stride[k] * dims[k];
  for (site = 0; site < n; site++) {
    for (o = 0; o < noff; o++) {
      int64_t nb = 0;
      for (k = 0; k < d; k++) {
        int64_t y = x[k] + off[o * d + k];
        if (y < 0 || y >= dims[k]) {
          if (!periodic) break;
          y = (y + dims[k]) % dims[k];
        }
        nb += y * stride[k];
      }
      if (k == d) {
        r[m] = site;
        c[m++] = nb;
      }
    }
    for (k = d - 1; k >= 0 && ++x[k] == dims[k]; k--) x[k] = 0;
  }
  return m;
}

hebb_sparse *hebb_sparse_lattice(int ndim, const int64_t *dims, bool periodic,
                                 bool next_nearest) {
  int off[2 * HEBB_MAXDIM * HEBB_MAXDIM * HEBB_MAXDIM], noff, k;
  int64_t n = 1, nb, m, i, *r, *c;
  double *one;
  hebb_sparse *s = NULL;
  if (ndim < 1 || ndim > HEBB_MAXDIM)
    return hebb_fail_null(HEBB_ERR_ARG, "sparse.lattice: %d dimensions (valid: "
                          "1..%d)", ndim, HEBB_MAXDIM);
  for (k = 0; k < ndim; k++) {
    if (dims[k] < 1)
      return hebb_fail_null(HEBB_ERR_ARG, "sparse.lattice: side %d is %lld "
                            "(must be >= 1)", k + 1, (long long)dims[k]);
    if (hebb_size_mul(n, dims[k], &n, "sparse.lattice")) return NULL;
  }
  noff = lattice_offsets(ndim, next_nearest, off);
  if (hebb_size_mul(n, noff, &nb, "sparse.lattice")) return NULL;
  r = xmalloc(nb, sizeof(int64_t));
  c = xmalloc(nb, sizeof(int64_t));
  one = xmalloc(nb, sizeof(double));
  if (r && c && one) {
    m = lattice_bonds(ndim, dims, periodic, noff, off, n, r, c);
    for (i = 0; i < m; i++) one[i] = 1;
    s = hebb_sparse_from_coo(n, n, m, r, c, one, 0);
  }
  else hebb_fail(HEBB_ERR_NOMEM, "sparse.lattice: out of memory for %lld "
                 "sites", (long long)n);
  free(r);
  free(c);
  free(one);
  return s;
}

/* --- products ---------------------------------------------------------- */

typedef struct spmm_job {
  const hebb_sparse *s;
  const double *x;
  double *y;
  int64_t k;   /* columns of x and y (in doubles for spmm_rows); 0: vector */
} spmm_job;

static void spmv_rows(int64_t lo, int64_t hi, void *ud) {
  const spmm_job *j = ud;
  const int64_t *restrict rp = j->s->rowptr, *restrict ci = j->s->col;
  const double *restrict v = j->s->val, *restrict x = j->x;
  double *restrict y = j->y;
  int64_t i, p;
  for (i = lo; i < hi; i++) {
    double acc = 0;
    for (p = rp[i]; p < rp[i + 1]; p++) acc += v[p] * x[ci[p]];
    y[i] = acc;
  }
}

/* a real s times k columns of doubles: also a real s times a complex x,
   whose (re, im) pairs are then 2 columns per complex column */
static void spmm_rows(int64_t lo, int64_t hi, void *ud) {
  const spmm_job *j = ud;
  const int64_t *restrict rp = j->s->rowptr, *restrict ci = j->s->col;
  const double *restrict v = j->s->val;
  int64_t i, p, c, k = j->k;
  for (i = lo; i < hi; i++) {
    double *restrict y = j->y + i * k;
    for (c = 0; c < k; c++) y[c] = 0;
    for (p = rp[i]; p < rp[i + 1]; p++) {
      const double *restrict x = j->x + ci[p] * k;
      double a = v[p];
      for (c = 0; c < k; c++) y[c] += a * x[c];
    }
  }
}

/* real s, complex vector x: two sums per row */
static void dzspmv_rows(int64_t lo, int64_t hi, void *ud) {
  const spmm_job *j = ud;
  const int64_t *restrict rp = j->s->rowptr, *restrict ci = j->s->col;
  const double *restrict v = j->s->val, *restrict x = j->x;
  double *restrict y = j->y;
  int64_t i, p;
  for (i = lo; i < hi; i++) {
    double re = 0, im = 0;
    for (p = rp[i]; p < rp[i + 1]; p++) {
      re += v[p] * x[2 * ci[p]];
      im += v[p] * x[2 * ci[p] + 1];
    }
    y[2 * i] = re;
    y[2 * i + 1] = im;
  }
}

/* complex s, complex x: pairs throughout */
static void zspmv_rows(int64_t lo, int64_t hi, void *ud) {
  const spmm_job *j = ud;
  const int64_t *restrict rp = j->s->rowptr, *restrict ci = j->s->col;
  const double *restrict v = j->s->val, *restrict x = j->x;
  double *restrict y = j->y;
  int64_t i, p;
  for (i = lo; i < hi; i++) {
    double re = 0, im = 0;
    for (p = rp[i]; p < rp[i + 1]; p++) {
      double a = v[2 * p], b = v[2 * p + 1];
      double c = x[2 * ci[p]], d = x[2 * ci[p] + 1];
      re += a * c - b * d;
      im += a * d + b * c;
    }
    y[2 * i] = re;
    y[2 * i + 1] = im;
  }
}

static void zspmm_rows(int64_t lo, int64_t hi, void *ud) {
  const spmm_job *j = ud;
  const int64_t *restrict rp = j->s->rowptr, *restrict ci = j->s->col;
  const double *restrict v = j->s->val;
  int64_t i, p, c, k = j->k;
  for (i = lo; i < hi; i++) {
    double *restrict y = j->y + 2 * i * k;
    for (c = 0; c < 2 * k; c++) y[c] = 0;
    for (p = rp[i]; p < rp[i + 1]; p++) {
      const double *restrict x = j->x + 2 * ci[p] * k;
      double a = v[2 * p], b = v[2 * p + 1];
      for (c = 0; c < k; c++) {
        y[2 * c] += a * x[2 * c] - b * x[2 * c + 1];
        y[2 * c + 1] += a * x[2 * c + 1] + b * x[2 * c];
      }
    }
  }
}

/* cost of one row in element-operations, for the parallel grain */
static int64_t row_cost(const hebb_sparse *s, int64_t k) {
  int64_t per = s->nrows > 0 ? s->nnz / s->nrows : 0;
  return 2 * (per + 1) * (k > 0 ? k : 1) * hebb_sparse_width(s->dtype);
}

int hebb_sparse_spmv(const hebb_sparse *s, const double *x, double *y) {
  spmm_job j = {s, x, y, 0};
  return hebb_parallel_for(s->nrows, row_cost(s, 0),
                           s->dtype == HEBB_C128 ? zspmv_rows : spmv_rows, &j);
}

static int check_operand(const hebb_sparse *s, const hebb_tensor *x) {
  char b[HEBB_SHAPEBUF];
  if (x->ndim != 1 && x->ndim != 2)
    return hebb_fail(HEBB_ERR_SHAPE, "sparse.matmul: x must be a vector or a "
                     "matrix, got shape %s",
                     hebb_shape_str(x->ndim, x->shape, b, sizeof b));
  if (x->shape[0] != s->ncols)
    return hebb_fail(HEBB_ERR_SHAPE, "sparse.matmul: matrix (%lld, %lld) "
                     "and x of shape %s do not align (%lld != %lld)",
                     (long long)s->nrows, (long long)s->ncols,
                     hebb_shape_str(x->ndim, x->shape, b, sizeof b),
                     (long long)s->ncols, (long long)x->shape[0]);
  return hebb_check_dtype_any(x->dtype, "sparse.matmul");
}

/* Picks the kernel: real s with real x (k columns), real s with complex x
   (a vector, or 2k columns of doubles), complex s with complex x. */
static void plan_product(spmm_job *j, bool cx, hebb_range_fn *fn) {
  bool cs = j->s->dtype == HEBB_C128;
  if (cs) *fn = j->k ? zspmm_rows : zspmv_rows;
  else if (cx && !j->k) *fn = dzspmv_rows;
  else if (cx) {
    j->k *= 2;
    *fn = spmm_rows;
  }
  else *fn = j->k ? spmm_rows : spmv_rows;
}

int hebb_sparse_matmul(const hebb_sparse *s, const hebb_tensor *x,
                       hebb_tensor **out) {
  int64_t shape[2];
  int made = *out == NULL, status, rdtype;
  bool cx;
  hebb_tensor *xc;
  hebb_range_fn fn;
  spmm_job j;
  if (check_operand(s, x)) return hebb_last_status();
  cx = hebb_is_complex(x->dtype) || s->dtype == HEBB_C128;
  rdtype = cx ? HEBB_C128 : HEBB_F64;
  shape[0] = s->nrows;
  shape[1] = x->ndim == 2 ? x->shape[1] : 0;
  if (!made && (!hebb_is_contiguous(*out) || hebb_same_storage(*out, x)))
    return hebb_fail(HEBB_ERR_ARG, "sparse.matmul: out must be contiguous and "
                     "must not share memory with x");
  status = hebb_prepare_out(out, rdtype, x->ndim, shape, "sparse.matmul");
  if (status) return status;
  xc = as_dtype(x, rdtype, "sparse.matmul");
  if (!xc) status = hebb_last_status();
  else {
    j.s = s;
    j.x = (const double *)hebb_first(xc);
    j.y = (double *)hebb_first(*out);
    j.k = x->ndim == 2 ? x->shape[1] : 0;
    plan_product(&j, cx, &fn);
    status = hebb_parallel_for(s->nrows, row_cost(s, j.k), fn, &j);
    hebb_release(xc);
  }
  if (status && made) {
    hebb_release(*out);
    *out = NULL;
  }
  return status;
}

/* --- transpose, conjugate, linear combinations, diagonal ---------------- */

hebb_sparse *hebb_sparse_transpose(const hebb_sparse *s) {
  hebb_sparse *t = new_sparse(s->dtype, s->ncols, s->nrows, s->nnz,
                              "sparse.t");
  int64_t *next, i, p;
  int k, wd = hebb_sparse_width(s->dtype);
  if (!t) return NULL;
  next = xmalloc(s->ncols, sizeof(int64_t));
  if (!next) {
    hebb_sparse_release(t);
    return hebb_fail_null(HEBB_ERR_NOMEM, "sparse.t: out of memory");
  }
  for (p = 0; p < s->nnz; p++) t->rowptr[s->col[p] + 1]++;
  for (i = 0; i < s->ncols; i++) t->rowptr[i + 1] += t->rowptr[i];
  memcpy(next, t->rowptr, (size_t)s->ncols * sizeof(int64_t));
  /* rows of s in order: the columns of each row of t come out sorted */
  for (i = 0; i < s->nrows; i++)
    for (p = s->rowptr[i]; p < s->rowptr[i + 1]; p++) {
      int64_t q = next[s->col[p]]++;
      t->col[q] = i;
      for (k = 0; k < wd; k++) t->val[q * wd + k] = s->val[p * wd + k];
    }
  free(next);
  return t;
}

hebb_sparse *hebb_sparse_conj(const hebb_sparse *s) {
  hebb_sparse *r;
  int64_t p;
  if (s->dtype != HEBB_C128) {
    hebb_sparse_retain((hebb_sparse *)s);
    return (hebb_sparse *)s;
  }
  r = same_pattern(s, HEBB_C128, "sparse.conj");
  if (!r) return NULL;
  for (p = 0; p < s->nnz; p++) {
    r->val[2 * p] = s->val[2 * p];
    r->val[2 * p + 1] = -s->val[2 * p + 1];
  }
  return r;
}

hebb_sparse *hebb_sparse_astype(const hebb_sparse *s, int dtype) {
  hebb_sparse *r;
  int64_t p;
  if (check_sparse_dtype(dtype, "sparse.astype")) return NULL;
  if (dtype == s->dtype) {
    hebb_sparse_retain((hebb_sparse *)s);
    return (hebb_sparse *)s;
  }
  if (dtype == HEBB_F64)
    for (p = 0; p < s->nnz; p++)
      if (s->val[2 * p + 1] != 0)
        return hebb_fail_null(HEBB_ERR_DTYPE, "sparse.astype: cannot convert "
                              "c128 to f64: entry %lld has imaginary part %g",
                              (long long)p + 1, s->val[2 * p + 1]);
  r = same_pattern(s, dtype, "sparse.astype");
  if (!r) return NULL;
  for (p = 0; p < s->nnz; p++) {
    if (dtype == HEBB_F64) r->val[p] = s->val[2 * p];
    else {
      r->val[2 * p] = s->val[p];
      r->val[2 * p + 1] = 0;
    }
  }
  return r;
}

/* Merges row i of a and b (sorted columns, the same dtype) into r at
   position w (r NULL: only counts); returns the new position. */
static int64_t merge_row(const hebb_sparse *a, const hebb_sparse *b,
                         double alpha, double beta, int64_t i, hebb_sparse *r,
                         int64_t w) {
  int64_t p = a->rowptr[i], pe = a->rowptr[i + 1];
  int64_t q = b->rowptr[i], qe = b->rowptr[i + 1];
  int k, wd = hebb_sparse_width(a->dtype);
  while (p < pe || q < qe) {
    int64_t c;
    double v[2];
    if (q >= qe || (p < pe && a->col[p] < b->col[q])) {
      c = a->col[p];
      for (k = 0; k < wd; k++) v[k] = alpha * a->val[p * wd + k];
      p++;
    }
    else if (p >= pe || b->col[q] < a->col[p]) {
      c = b->col[q];
      for (k = 0; k < wd; k++) v[k] = beta * b->val[q * wd + k];
      q++;
    }
    else {
      c = a->col[p];
      for (k = 0; k < wd; k++)
        v[k] = alpha * a->val[p * wd + k] + beta * b->val[q * wd + k];
      p++;
      q++;
    }
    if (r) {
      r->col[w] = c;
      for (k = 0; k < wd; k++) r->val[w * wd + k] = v[k];
    }
    w++;
  }
  return w;
}

hebb_sparse *hebb_sparse_add(const hebb_sparse *a, const hebb_sparse *b,
                             double alpha, double beta) {
  hebb_sparse *r;
  int64_t i, n = 0;
  if (a->nrows != b->nrows || a->ncols != b->ncols)
    return hebb_fail_null(HEBB_ERR_SHAPE, "sparse.add: shapes (%lld, %lld) "
                          "and (%lld, %lld) differ", (long long)a->nrows,
                          (long long)a->ncols, (long long)b->nrows,
                          (long long)b->ncols);
  if (a->dtype != b->dtype) {   /* f64 + c128: the real one promoted */
    bool ra = a->dtype == HEBB_F64;
    hebb_sparse *c = hebb_sparse_astype(ra ? a : b, HEBB_C128);
    if (!c) return NULL;
    r = ra ? hebb_sparse_add(c, b, alpha, beta)
           : hebb_sparse_add(a, c, alpha, beta);
    hebb_sparse_release(c);
    return r;
  }
  for (i = 0; i < a->nrows; i++) n = merge_row(a, b, alpha, beta, i, NULL, n);
  r = new_sparse(a->dtype, a->nrows, a->ncols, n, "sparse.add");
  if (!r) return NULL;
  for (i = 0, n = 0; i < a->nrows; i++) {
    n = merge_row(a, b, alpha, beta, i, r, n);
    r->rowptr[i + 1] = n;
  }
  return r;
}

hebb_sparse *hebb_sparse_scale(const hebb_sparse *s, double alpha) {
  hebb_sparse *r = same_pattern(s, s->dtype, "sparse.scale");
  int64_t p;
  if (!r) return NULL;
  for (p = 0; p < s->nnz * hebb_sparse_width(s->dtype); p++) r->val[p] = alpha * s->val[p];
  return r;
}

hebb_sparse *hebb_sparse_zscale(const hebb_sparse *s, double re, double im) {
  hebb_sparse *r = same_pattern(s, HEBB_C128, "sparse.scale");
  int64_t p;
  if (!r) return NULL;
  for (p = 0; p < s->nnz; p++) {
    double a = s->dtype == HEBB_C128 ? s->val[2 * p] : s->val[p];
    double b = s->dtype == HEBB_C128 ? s->val[2 * p + 1] : 0;
    r->val[2 * p] = re * a - im * b;
    r->val[2 * p + 1] = re * b + im * a;
  }
  return r;
}

int hebb_sparse_diagonal(const hebb_sparse *s, hebb_tensor **out) {
  int64_t n = s->nrows < s->ncols ? s->nrows : s->ncols, i, p;
  int k, wd = hebb_sparse_width(s->dtype);
  double *d;
  int status = hebb_prepare_out(out, s->dtype, 1, &n, "sparse.diagonal");
  if (status) return status;
  d = (double *)hebb_first(*out);
  for (i = 0; i < n; i++) {
    double v[2] = {0, 0};
    for (p = s->rowptr[i]; p < s->rowptr[i + 1] && s->col[p] <= i; p++)
      if (s->col[p] == i)
        for (k = 0; k < wd; k++) v[k] = s->val[p * wd + k];
    for (k = 0; k < wd; k++) d[i * (*out)->stride[0] * wd + k] = v[k];
  }
  return HEBB_OK;
}
