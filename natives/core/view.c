/*
** view.c -- views: new headers over the same storage.  Nothing here copies
** elements, except reshape and flatten when the strides leave no other way.
*/
#include <string.h>

#include "core.h"

/* A new header over t's storage with the given geometry. */
static hebb_tensor *make_view(hebb_tensor *t, int ndim, const int64_t *shape,
                              const int64_t *stride, int64_t offset) {
  hebb_tensor *v = hebb_view_of(t);
  if (!v) return NULL;
  v->ndim = ndim;
  if (ndim > 0) {
    memcpy(v->shape, shape, (size_t)ndim * sizeof(int64_t));
    memcpy(v->stride, stride, (size_t)ndim * sizeof(int64_t));
  }
  v->offset = offset;
  return v;
}

/* Removes dimension 'dim' from a shape/stride pair of n dimensions. */
static void drop_dim(int n, int64_t *shape, int64_t *stride, int dim) {
  int i;
  for (i = dim; i < n - 1; i++) {
    shape[i] = shape[i + 1];
    stride[i] = stride[i + 1];
  }
}

/* --- which memory a view covers --------------------------------------- */

/* One rule for every write (out=, in-place methods, copy_, fill_, index
   assignment, random fills): each element written must own its memory
   location, or the element that lands last would decide the result.  The
   check is the sufficient one: sorted by |stride|, every dimension steps
   past all that the smaller ones span.  Views made by narrow, select,
   slicing, transpose, permute and diagonal always pass; expand (stride 0)
   never does; an empty tensor writes nothing. */
int hebb_check_writable(const hebb_tensor *t, const char *who) {
  char b[HEBB_SHAPEBUF];
  int64_t st[HEBB_MAXDIM], sh[HEBB_MAXDIM], span = 0;
  int n = 0, i, j;
  for (i = 0; i < t->ndim; i++)
    if (t->shape[i] == 0) return HEBB_OK;
  for (i = 0; i < t->ndim; i++) {
    int64_t s = hebb_iabs64(t->stride[i]);
    if (t->shape[i] == 1) continue;
    if (s == 0)
      return hebb_fail(HEBB_ERR_ARG, "%s: cannot write into a broadcast "
                       "(expanded) view (dim %d repeats one element); clone it "
                       "first", who, i + 1);
    for (j = n++; j > 0 && st[j - 1] > s; j--) {   /* insertion sort */
      st[j] = st[j - 1];
      sh[j] = sh[j - 1];
    }
    st[j] = s;
    sh[j] = t->shape[i];
  }
  for (j = 0; j < n; span += (sh[j] - 1) * st[j], j++)
    if (st[j] <= span)
      return hebb_fail(HEBB_ERR_ARG, "%s: cannot write into a view whose "
                       "elements overlap (strides %s); clone it first", who,
                       hebb_shape_str(t->ndim, t->stride, b, sizeof b));
  return HEBB_OK;
}

/* The first and one-past-last byte t's elements lie in; false if t has no
   element or no storage. */
static bool byte_range(const hebb_tensor *t, uintptr_t *lo, uintptr_t *hi) {
  int64_t a = t->offset, z = t->offset, isz = hebb_dtype_size(t->dtype);
  int i;
  if (!t->storage) return false;
  for (i = 0; i < t->ndim; i++) {
    if (t->shape[i] == 0) return false;
    if (t->stride[i] < 0) a += (t->shape[i] - 1) * t->stride[i];
    else z += (t->shape[i] - 1) * t->stride[i];
  }
  *lo = (uintptr_t)t->data + (uintptr_t)(a * isz);
  *hi = (uintptr_t)t->data + (uintptr_t)((z + 1) * isz);
  return true;
}

bool hebb_may_overlap(const hebb_tensor *a, const hebb_tensor *b) {
  uintptr_t alo, ahi, blo, bhi;
  return hebb_same_storage(a, b) && byte_range(a, &alo, &ahi) &&
         byte_range(b, &blo, &bhi) && alo < bhi && blo < ahi;
}

bool hebb_same_view(const hebb_tensor *a, const hebb_tensor *b) {
  size_t n = (size_t)a->ndim * sizeof(int64_t);
  return a->data == b->data && a->offset == b->offset &&
         a->dtype == b->dtype && a->ndim == b->ndim &&
         memcmp(a->shape, b->shape, n) == 0 &&
         memcmp(a->stride, b->stride, n) == 0;
}

/* --- view and reshape -------------------------------------------------- */

/* Strides that show t's elements in 'shape' without moving them; 0 if
   there are none.  t's dimensions fall into chunks, runs of neighbours that
   are laid out contiguously relative to each other (size-1 dims belong to
   any run).  A view exists when the new dimensions, taken from the right,
   multiply up to each chunk's element count exactly: each then steps
   through its chunk at a multiple of the chunk's innermost stride. */
static int view_strides(const hebb_tensor *t, int ndim, const int64_t *shape,
                        int64_t *stride) {
  int od = t->ndim - 1, nd = ndim - 1;
  while (od >= 0) {
    int64_t inner, size, prod = 1;
    if (t->shape[od] == 1) { od--; continue; }
    inner = t->stride[od];
    size = t->shape[od];
    for (od--; od >= 0; od--) {
      if (t->shape[od] == 1) continue;
      if (t->stride[od] != inner * size) break;
      size *= t->shape[od];
    }
    while (nd >= 0 && (prod < size || shape[nd] == 1)) {
      stride[nd] = prod * inner;
      prod *= shape[nd--];
    }
    if (prod != size) return 0;
  }
  for (; nd >= 0; nd--) stride[nd] = 1;   /* t has one element: any stride */
  return 1;
}

/* Common checks of view and reshape: the shape is valid and holds as many
   elements as t. */
static int check_target(const hebb_tensor *t, int ndim, const int64_t *shape,
                        const char *who) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  int64_t n = 0;
  if (hebb_check_shape(ndim, shape, &n, who)) return hebb_last_status();
  if (n != hebb_numel(t))
    return hebb_fail(HEBB_ERR_SHAPE, "%s: shape %s (%lld elements) does not "
                     "fit a tensor of shape %s (%lld elements)", who,
                     hebb_shape_str(ndim, shape, b1, sizeof b1), (long long)n,
                     hebb_shape_str(t->ndim, t->shape, b2, sizeof b2),
                     (long long)hebb_numel(t));
  return HEBB_OK;
}

/* Strides for 'shape' when t is empty: nothing is ever read through them. */
static void empty_strides(int ndim, const int64_t *shape, int64_t *stride) {
  int64_t s = 1;
  int i;
  for (i = ndim - 1; i >= 0; i--) {
    stride[i] = s;
    s *= shape[i] > 0 ? shape[i] : 1;
  }
}

hebb_tensor *hebb_view(hebb_tensor *t, int ndim, const int64_t *shape) {
  int64_t stride[HEBB_MAXDIM];
  if (check_target(t, ndim, shape, "view")) return NULL;
  if (hebb_numel(t) == 0) empty_strides(ndim, shape, stride);
  else if (!view_strides(t, ndim, shape, stride)) {
    char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF], b3[HEBB_SHAPEBUF];
    return hebb_fail_null(HEBB_ERR_SHAPE, "view: shape %s is incompatible "
                          "with a tensor of shape %s and strides %s (its "
                          "elements are not laid out in that order); use "
                          "reshape, which copies when it must",
                          hebb_shape_str(ndim, shape, b1, sizeof b1),
                          hebb_shape_str(t->ndim, t->shape, b2, sizeof b2),
                          hebb_shape_str(t->ndim, t->stride, b3, sizeof b3));
  }
  return make_view(t, ndim, shape, stride, t->offset);
}

hebb_tensor *hebb_reshape(hebb_tensor *t, int ndim, const int64_t *shape) {
  int64_t stride[HEBB_MAXDIM];
  hebb_tensor *c;
  if (check_target(t, ndim, shape, "reshape")) return NULL;
  if (hebb_numel(t) == 0) {
    empty_strides(ndim, shape, stride);
    return make_view(t, ndim, shape, stride, t->offset);
  }
  if (view_strides(t, ndim, shape, stride))
    return make_view(t, ndim, shape, stride, t->offset);
  c = hebb_clone(t);   /* fresh and contiguous: ours to re-shape */
  if (!c) return NULL;
  c->ndim = ndim;
  if (ndim > 0) memcpy(c->shape, shape, (size_t)ndim * sizeof(int64_t));
  hebb_set_contiguous_strides(c);
  return c;
}

hebb_tensor *hebb_as_strided(hebb_tensor *t, int ndim, const int64_t *shape,
                             const int64_t *stride, int64_t offset) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  int64_t n = 0, lo = offset, hi = offset, cap;
  int i;
  if (hebb_check_shape(ndim, shape, &n, "as_strided")) return NULL;
  if (!t->storage)
    return hebb_fail_null(HEBB_ERR_UNSUPPORTED, "as_strided: the tensor has "
                          "no storage of its own");
  cap = t->storage->nbytes / hebb_dtype_size(t->dtype);
  for (i = 0; i < ndim && n > 0; i++) {   /* |stride| <= cap: no overflow */
    if (stride[i] < -cap || stride[i] > cap) { lo = -1; break; }
    if (stride[i] < 0) lo += (shape[i] - 1) * stride[i];
    else hi += (shape[i] - 1) * stride[i];
    if (lo < 0 || hi >= cap) break;
  }
  if (offset < 0 || (n > 0 && (lo < 0 || hi >= cap)))   /* empty: never read */
    return hebb_fail_null(HEBB_ERR_INDEX, "as_strided: shape %s with strides "
                          "%s from offset %lld reaches outside the storage of "
                          "%lld elements", hebb_shape_str(ndim, shape, b1,
                          sizeof b1), hebb_shape_str(ndim, stride, b2,
                          sizeof b2), (long long)offset, (long long)cap);
  return make_view(t, ndim, shape, stride, offset);
}

/* --- picking parts of dimensions --------------------------------------- */

hebb_tensor *hebb_narrow(hebb_tensor *t, int dim, int64_t start,
                         int64_t length) {
  hebb_tensor *v;
  if (hebb_check_dim(t, dim, "narrow")) return NULL;
  if (start < 0 || length < 0 || start > t->shape[dim] - length)
    return hebb_fail_null(HEBB_ERR_INDEX, "narrow: start %lld with length "
                          "%lld out of range for dim %d of size %lld",
                          (long long)start + 1, (long long)length, dim + 1,
                          (long long)t->shape[dim]);
  v = hebb_view_of(t);
  if (!v) return NULL;
  v->shape[dim] = length;
  v->offset += start * t->stride[dim];
  return v;
}

/* Elements start, start+step, ... stopping before 'stop'.  A negative step
   walks backwards; stop -1 then means "through element 0". */
hebb_tensor *hebb_slice(hebb_tensor *t, int dim, int64_t start, int64_t stop,
                        int64_t step) {
  int64_t size, n;
  hebb_tensor *v;
  if (hebb_check_dim(t, dim, "slice")) return NULL;
  if (step == 0) return hebb_fail_null(HEBB_ERR_ARG, "slice: step is 0");
  size = t->shape[dim];
  if (step > 0 ? (start < 0 || start > size || stop < 0 || stop > size) :
                 (start < -1 || start >= size || stop < -1 || stop >= size))
    return hebb_fail_null(HEBB_ERR_INDEX, "slice: range %lld:%lld:%lld "
                          "(0-based, stop excluded) out of range for dim %d of "
                          "size %lld", (long long)start, (long long)stop,
                          (long long)step, dim + 1, (long long)size);
  if (step > 0) n = stop > start ? (stop - start - 1) / step + 1 : 0;
  else n = start > stop ? (start - stop - 1) / -step + 1 : 0;
  v = hebb_view_of(t);
  if (!v) return NULL;
  v->shape[dim] = n;   /* with two or more elements |step| < size */
  v->stride[dim] = n > 1 ? t->stride[dim] * step : t->stride[dim];
  if (n > 0) v->offset += start * t->stride[dim];
  return v;
}

hebb_tensor *hebb_select(hebb_tensor *t, int dim, int64_t index) {
  hebb_tensor *v;
  if (hebb_check_dim(t, dim, "select")) return NULL;
  if (index < 0 || index >= t->shape[dim])
    return hebb_fail_null(HEBB_ERR_INDEX, "select: index %lld out of range "
                          "for dim %d of size %lld", (long long)index + 1,
                          dim + 1, (long long)t->shape[dim]);
  v = hebb_view_of(t);
  if (!v) return NULL;
  v->offset += index * t->stride[dim];
  drop_dim(v->ndim--, v->shape, v->stride, dim);
  return v;
}

hebb_tensor *hebb_diagonal(hebb_tensor *t, int64_t offset, int dim1,
                           int dim2) {
  int64_t s1, s2, n, start = 0, shape[HEBB_MAXDIM], stride[HEBB_MAXDIM];
  int nd = t->ndim;
  if (hebb_check_dim(t, dim1, "diagonal") || hebb_check_dim(t, dim2, "diagonal"))
    return NULL;
  if (dim1 == dim2)
    return hebb_fail_null(HEBB_ERR_ARG, "diagonal: both dimensions are %d",
                          dim1 + 1);
  s1 = t->shape[dim1];
  s2 = t->shape[dim2];
  /* offset > 0 starts right of the main diagonal (at column 'offset') */
  if (offset >= 0) n = s2 - offset < s1 ? s2 - offset : s1;
  else n = s1 + offset < s2 ? s1 + offset : s2;
  if (n <= 0) n = 0;   /* |offset| may be anything; only then is it small */
  else start = offset >= 0 ? offset * t->stride[dim2]
                           : -offset * t->stride[dim1];
  memcpy(shape, t->shape, sizeof shape);
  memcpy(stride, t->stride, sizeof stride);
  drop_dim(nd--, shape, stride, dim1 > dim2 ? dim1 : dim2);
  drop_dim(nd--, shape, stride, dim1 < dim2 ? dim1 : dim2);
  shape[nd] = n;   /* the diagonal becomes the last dimension */
  stride[nd++] = t->stride[dim1] + t->stride[dim2];
  return make_view(t, nd, shape, stride, t->offset + start);
}

/* --- rearranging dimensions -------------------------------------------- */

hebb_tensor *hebb_transpose(hebb_tensor *t, int dim0, int dim1) {
  hebb_tensor *v;
  if (hebb_check_dim(t, dim0, "transpose") || hebb_check_dim(t, dim1, "transpose"))
    return NULL;
  v = hebb_view_of(t);
  if (!v) return NULL;
  v->shape[dim0] = t->shape[dim1];
  v->stride[dim0] = t->stride[dim1];
  v->shape[dim1] = t->shape[dim0];
  v->stride[dim1] = t->stride[dim0];
  return v;
}

hebb_tensor *hebb_permute(hebb_tensor *t, const int *dims) {
  int64_t shape[HEBB_MAXDIM], stride[HEBB_MAXDIM];
  bool seen[HEBB_MAXDIM] = {false};
  int i;
  for (i = 0; i < t->ndim; i++) {
    if (hebb_check_dim(t, dims[i], "permute")) return NULL;
    if (seen[dims[i]])
      return hebb_fail_null(HEBB_ERR_ARG, "permute: dimension %d appears "
                            "twice", dims[i] + 1);
    seen[dims[i]] = true;
    shape[i] = t->shape[dims[i]];
    stride[i] = t->stride[dims[i]];
  }
  return make_view(t, t->ndim, shape, stride, t->offset);
}

/* Size -1 keeps a dimension; size-1 dimensions and new leading ones
   repeat their elements through stride 0. */
hebb_tensor *hebb_expand(hebb_tensor *t, int ndim, const int64_t *shape) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  int64_t nshape[HEBB_MAXDIM], nstride[HEBB_MAXDIM];
  int lead = ndim - t->ndim, i;
  if (ndim > HEBB_MAXDIM)
    return hebb_fail_null(HEBB_ERR_SHAPE, "expand: %d dimensions (at most %d)",
                          ndim, HEBB_MAXDIM);
  if (lead < 0)
    return hebb_fail_null(HEBB_ERR_SHAPE, "expand: shape %s has fewer "
                          "dimensions than the tensor's %s",
                          hebb_shape_str(ndim, shape, b1, sizeof b1),
                          hebb_shape_str(t->ndim, t->shape, b2, sizeof b2));
  for (i = 0; i < ndim; i++) {
    int k = i - lead;
    if (k >= 0 && (shape[i] == -1 || shape[i] == t->shape[k])) {
      nshape[i] = t->shape[k];
      nstride[i] = t->stride[k];
    } else if ((k < 0 || t->shape[k] == 1) && shape[i] >= 0) {
      nshape[i] = shape[i];
      nstride[i] = 0;
    } else
      return hebb_fail_null(HEBB_ERR_SHAPE, "expand: cannot expand shape %s "
                            "to %s (dim %d: size %lld to %lld; only size-1 "
                            "dims grow, -1 keeps an existing dim)",
                            hebb_shape_str(t->ndim, t->shape, b1, sizeof b1),
                            hebb_shape_str(ndim, shape, b2, sizeof b2), i + 1,
                            (long long)(k < 0 ? 1 : t->shape[k]),
                            (long long)shape[i]);
  }
  if (hebb_check_shape(ndim, nshape, NULL, "expand")) return NULL;
  return make_view(t, ndim, nshape, nstride, t->offset);
}

/* dim -1 drops every size-1 dimension; a given dim that is not of size 1
   is left alone (as torch does), so squeeze(x, d) is always safe. */
hebb_tensor *hebb_squeeze(hebb_tensor *t, int dim) {
  int64_t shape[HEBB_MAXDIM], stride[HEBB_MAXDIM];
  int n = 0, i;
  if (dim != -1 && hebb_check_dim(t, dim, "squeeze")) return NULL;
  for (i = 0; i < t->ndim; i++) {
    if (t->shape[i] == 1 && (dim == -1 || dim == i)) continue;
    shape[n] = t->shape[i];
    stride[n++] = t->stride[i];
  }
  return make_view(t, n, shape, stride, t->offset);
}

hebb_tensor *hebb_unsqueeze(hebb_tensor *t, int dim) {
  int64_t shape[HEBB_MAXDIM], stride[HEBB_MAXDIM];
  int i;
  if (dim < 0 || dim > t->ndim)
    return hebb_fail_null(HEBB_ERR_INDEX, "unsqueeze: position %d out of "
                          "range for a %d-dimensional tensor (valid 1..%d)",
                          dim + 1, t->ndim, t->ndim + 1);
  if (t->ndim == HEBB_MAXDIM)
    return hebb_fail_null(HEBB_ERR_SHAPE, "unsqueeze: the tensor already has "
                          "%d dimensions (at most %d)", t->ndim, HEBB_MAXDIM);
  for (i = 0; i < t->ndim; i++) {
    shape[i + (i >= dim)] = t->shape[i];
    stride[i + (i >= dim)] = t->stride[i];
  }
  shape[dim] = 1;
  stride[dim] = dim < t->ndim ? t->shape[dim] * t->stride[dim] : 1;
  return make_view(t, t->ndim + 1, shape, stride, t->offset);
}

/* Merges dims start..end (inclusive) into one; a 0-d tensor becomes 1-d. */
hebb_tensor *hebb_flatten(hebb_tensor *t, int start_dim, int end_dim) {
  int64_t shape[HEBB_MAXDIM], one = 1;
  int n = 0, i;
  if (t->ndim == 0) return hebb_reshape(t, 1, &one);
  if (hebb_check_dim(t, start_dim, "flatten") ||
      hebb_check_dim(t, end_dim, "flatten"))
    return NULL;
  if (start_dim > end_dim)
    return hebb_fail_null(HEBB_ERR_ARG, "flatten: start dim %d comes after "
                          "end dim %d", start_dim + 1, end_dim + 1);
  for (i = 0; i < t->ndim; i++) {
    if (i > start_dim && i <= end_dim) shape[n - 1] *= t->shape[i];
    else shape[n++] = t->shape[i];
  }
  return hebb_reshape(t, n, shape);
}
