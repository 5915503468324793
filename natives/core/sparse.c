/*
** sparse.c -- sparse f64 matrices in compressed sparse row (CSR) form:
** construction from triplets (duplicates summed), from dense tensors and
** as the adjacency of a hypercubic lattice, conversion back, products with
** vectors and matrices, transpose, linear combinations and the diagonal.
**
** A matrix is immutable once built, so it can be shared by reference
** counting like a tensor storage.  Column indices are int64 and sorted
** within each row; the product loop reads them in order, so every row of
** s x is a fixed sum and the bits never depend on the thread count.
*/
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* --- lifetime ---------------------------------------------------------- */

static void *xmalloc(int64_t n, size_t size) {
  return malloc(n > 0 ? (size_t)n * size : 1);
}

/* a matrix with room for nnz entries and a zeroed row pointer */
static hebb_sparse *new_sparse(int64_t nrows, int64_t ncols, int64_t nnz,
                               const char *who) {
  hebb_sparse *s = malloc(sizeof *s);
  if (s) {
    s->refcount = 1;
    s->nrows = nrows;
    s->ncols = ncols;
    s->nnz = nnz;
    s->rowptr = calloc((size_t)nrows + 1, sizeof(int64_t));
    s->col = xmalloc(nnz, sizeof(int64_t));
    s->val = xmalloc(nnz, sizeof(double));
    if (s->rowptr && s->col && s->val) return s;
    hebb_sparse_release(s);
  }
  return hebb_fail_null(HEBB_ERR_NOMEM, "%s: out of memory for a %lld x %lld "
                        "matrix with %lld entries", who, (long long)nrows,
                        (long long)ncols, (long long)nnz);
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

/* --- construction ------------------------------------------------------ */

static int check_dims(int64_t nrows, int64_t ncols, const char *who) {
  if (nrows < 0 || ncols < 0)
    return hebb_fail(HEBB_ERR_ARG, "%s: shape (%lld, %lld) has a negative "
                     "size", who, (long long)nrows, (long long)ncols);
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
  for (i = 0; i < s->nrows; i++) {
    int64_t end = s->rowptr[i + 1];
    for (p = start; p < end; p++) {
      if (w > s->rowptr[i] && s->col[w - 1] == s->col[p])
        s->val[w - 1] += s->val[p];
      else {
        s->col[w] = s->col[p];
        s->val[w++] = s->val[p];
      }
    }
    start = end;
    s->rowptr[i + 1] = w;
  }
  s->nnz = w;
}

hebb_sparse *hebb_sparse_from_coo(int64_t nrows, int64_t ncols, int64_t nnz,
                                  const int64_t *rows, const int64_t *cols,
                                  const double *vals, int64_t base) {
  hebb_sparse *s;
  int64_t *bycol, *next, k, c;
  if (check_dims(nrows, ncols, "sparse.csr")) return NULL;
  if (nnz < 0)
    return hebb_fail_null(HEBB_ERR_ARG, "sparse.csr: negative entry count "
                          "%lld", (long long)nnz);
  for (k = 0; k < nnz; k++)
    if (check_index(rows[k], nrows, base, k, "row") ||
        check_index(cols[k], ncols, base, k, "column"))
      return NULL;
  s = new_sparse(nrows, ncols, nnz, "sparse.csr");
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
    s->val[p] = vals[e];
  }
  free(bycol);
  free(next);
  merge_duplicates(s);
  return s;
}

/* a itself when it is contiguous f64, else a converted copy */
static hebb_tensor *as_f64(const hebb_tensor *a, const char *who) {
  if (hebb_check_dtype(a->dtype, who)) return NULL;
  if (a->dtype == HEBB_F64 && hebb_is_contiguous(a)) {
    hebb_retain((hebb_tensor *)a);
    return (hebb_tensor *)a;
  }
  return hebb_astype(a, HEBB_F64);
}

hebb_sparse *hebb_sparse_from_dense(const hebb_tensor *a, double tol) {
  hebb_tensor *d;
  hebb_sparse *s;
  const double *x;
  int64_t i, j, m, n, nnz = 0;
  if (a->ndim != 2)
    return hebb_fail_null(HEBB_ERR_SHAPE, "sparse.from_dense: expected a "
                          "2-d tensor, got %d dimensions", a->ndim);
  d = as_f64(a, "sparse.from_dense");
  if (!d) return NULL;
  m = a->shape[0];
  n = a->shape[1];
  x = (const double *)hebb_first(d);
  for (i = 0; i < m * n; i++) nnz += (x[i] > tol || -x[i] > tol);
  s = new_sparse(m, n, nnz, "sparse.from_dense");
  if (s) {
    int64_t p = 0;
    for (i = 0; i < m; i++) {
      for (j = 0; j < n; j++) {
        double v = x[i * n + j];
        if (v > tol || -v > tol) {
          s->col[p] = j;
          s->val[p++] = v;
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
  hebb_tensor *t = hebb_zeros(HEBB_F64, 2, shape);
  double *y;
  if (!t) return NULL;
  y = (double *)hebb_first(t);
  for (i = 0; i < s->nrows; i++)
    for (p = s->rowptr[i]; p < s->rowptr[i + 1]; p++)
      y[i * s->ncols + s->col[p]] += s->val[p];
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
  int64_t n = 1, m, i, *r, *c;
  double *one;
  hebb_sparse *s = NULL;
  if (ndim < 1 || ndim > HEBB_MAXDIM)
    return hebb_fail_null(HEBB_ERR_ARG, "sparse.lattice: %d dimensions (valid: "
                          "1..%d)", ndim, HEBB_MAXDIM);
  for (k = 0; k < ndim; k++) {
    if (dims[k] < 1)
      return hebb_fail_null(HEBB_ERR_ARG, "sparse.lattice: side %d is %lld "
                            "(must be >= 1)", k + 1, (long long)dims[k]);
    n *= dims[k];
  }
  noff = lattice_offsets(ndim, next_nearest, off);
  r = xmalloc(n * noff, sizeof(int64_t));
  c = xmalloc(n * noff, sizeof(int64_t));
  one = xmalloc(n * noff, sizeof(double));
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
  int64_t k;   /* columns of x and y; 0 for a vector */
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

/* cost of one row in element-operations, for the parallel grain */
static int64_t row_cost(const hebb_sparse *s, int64_t k) {
  int64_t per = s->nrows > 0 ? s->nnz / s->nrows : 0;
  return 2 * (per + 1) * (k > 0 ? k : 1);
}

int hebb_sparse_spmv(const hebb_sparse *s, const double *x, double *y) {
  spmm_job j = {s, x, y, 0};
  return hebb_parallel_for(s->nrows, row_cost(s, 0), spmv_rows, &j);
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
  return hebb_check_dtype(x->dtype, "sparse.matmul");
}

int hebb_sparse_matmul(const hebb_sparse *s, const hebb_tensor *x,
                       hebb_tensor **out) {
  int64_t shape[2];
  int made = *out == NULL, status;
  hebb_tensor *xf;
  spmm_job j;
  if (check_operand(s, x)) return hebb_last_status();
  shape[0] = s->nrows;
  shape[1] = x->ndim == 2 ? x->shape[1] : 0;
  if (!made && (!hebb_is_contiguous(*out) || hebb_same_storage(*out, x)))
    return hebb_fail(HEBB_ERR_ARG, "sparse.matmul: out must be contiguous and "
                     "must not share memory with x");
  status = hebb_prepare_out(out, HEBB_F64, x->ndim, shape, "sparse.matmul");
  if (status) return status;
  xf = as_f64(x, "sparse.matmul");
  if (!xf) status = hebb_last_status();
  else {
    j.s = s;
    j.x = (const double *)hebb_first(xf);
    j.y = (double *)hebb_first(*out);
    j.k = x->ndim == 2 ? x->shape[1] : 0;
    status = hebb_parallel_for(s->nrows, row_cost(s, j.k),
                               j.k ? spmm_rows : spmv_rows, &j);
    hebb_release(xf);
  }
  if (status && made) {
    hebb_release(*out);
    *out = NULL;
  }
  return status;
}

/* --- transpose, linear combinations, diagonal --------------------------- */

hebb_sparse *hebb_sparse_transpose(const hebb_sparse *s) {
  hebb_sparse *t = new_sparse(s->ncols, s->nrows, s->nnz, "sparse.t");
  int64_t *next, i, p;
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
      t->val[q] = s->val[p];
    }
  free(next);
  return t;
}

/* Merges row i of a and b (sorted columns) into r at position w (r NULL:
   only counts); returns the new position. */
static int64_t merge_row(const hebb_sparse *a, const hebb_sparse *b,
                         double alpha, double beta, int64_t i, hebb_sparse *r,
                         int64_t w) {
  int64_t p = a->rowptr[i], pe = a->rowptr[i + 1];
  int64_t q = b->rowptr[i], qe = b->rowptr[i + 1];
  while (p < pe || q < qe) {
    int64_t c;
    double v;
    if (q >= qe || (p < pe && a->col[p] < b->col[q])) {
      c = a->col[p];
      v = alpha * a->val[p++];
    }
    else if (p >= pe || b->col[q] < a->col[p]) {
      c = b->col[q];
      v = beta * b->val[q++];
    }
    else {
      c = a->col[p];
      v = alpha * a->val[p++] + beta * b->val[q++];
    }
    if (r) {
      r->col[w] = c;
      r->val[w] = v;
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
  for (i = 0; i < a->nrows; i++) n = merge_row(a, b, alpha, beta, i, NULL, n);
  r = new_sparse(a->nrows, a->ncols, n, "sparse.add");
  if (!r) return NULL;
  for (i = 0, n = 0; i < a->nrows; i++) {
    n = merge_row(a, b, alpha, beta, i, r, n);
    r->rowptr[i + 1] = n;
  }
  return r;
}

hebb_sparse *hebb_sparse_scale(const hebb_sparse *s, double alpha) {
  hebb_sparse *r = new_sparse(s->nrows, s->ncols, s->nnz, "sparse.scale");
  int64_t p;
  if (!r) return NULL;
  memcpy(r->rowptr, s->rowptr, (size_t)(s->nrows + 1) * sizeof(int64_t));
  memcpy(r->col, s->col, (size_t)s->nnz * sizeof(int64_t));
  for (p = 0; p < s->nnz; p++) r->val[p] = alpha * s->val[p];
  return r;
}

int hebb_sparse_diagonal(const hebb_sparse *s, hebb_tensor **out) {
  int64_t n = s->nrows < s->ncols ? s->nrows : s->ncols, i, p;
  double *d;
  int status = hebb_prepare_out(out, HEBB_F64, 1, &n, "sparse.diagonal");
  if (status) return status;
  d = (double *)hebb_first(*out);
  for (i = 0; i < n; i++) {
    double v = 0;
    for (p = s->rowptr[i]; p < s->rowptr[i + 1] && s->col[p] <= i; p++)
      if (s->col[p] == i) v = s->val[p];
    d[i * (*out)->stride[0]] = v;
  }
  return HEBB_OK;
}
