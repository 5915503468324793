/*
** join.c -- cat and stack: one new tensor from several.  The result has the
** dtype all inputs promote to; each input is copied (and converted) into
** its own part of the result through a header on the stack, so joining
** many small tensors allocates nothing but the result.
*/
#include <stdio.h>
#include <string.h>

#include "core.h"

/* The dtype every input promotes to, after checking each is supported. */
static int common_dtype(int n, hebb_tensor *const *ts, const char *who,
                        int *dtype) {
  int i;
  if (n < 1) return hebb_fail(HEBB_ERR_ARG, "%s: no tensors to join", who);
  *dtype = ts[0]->dtype;
  for (i = 0; i < n; i++) {
    if (hebb_check_dtype_any(ts[i]->dtype, who)) return hebb_last_status();
    *dtype = hebb_promote(*dtype, ts[i]->dtype);
  }
  return HEBB_OK;
}

/* Whether a's shape differs from b's outside dim 'skip' (-1: none). */
static int mismatch(const hebb_tensor *a, const hebb_tensor *b, int skip) {
  int d;
  if (a->ndim != b->ndim) return 1;
  for (d = 0; d < a->ndim; d++)
    if (d != skip && a->shape[d] != b->shape[d]) return 1;
  return 0;
}

static void *shape_error(const char *who, int i, const hebb_tensor *t,
                         const hebb_tensor *ref, const char *why) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  return hebb_fail_null(HEBB_ERR_SHAPE, "%s: input %d has shape %s, but input "
                        "1 has %s (%s)", who, i + 1,
                        hebb_shape_str(t->ndim, t->shape, b1, sizeof b1),
                        hebb_shape_str(ref->ndim, ref->shape, b2, sizeof b2),
                        why);
}

hebb_tensor *hebb_cat(int n, hebb_tensor *const *ts, int dim) {
  int64_t shape[HEBB_MAXDIM], pos = 0;
  const hebb_tensor *ref;
  hebb_tensor *r, part;
  int dtype = 0, i;
  char why[64];
  if (common_dtype(n, ts, "cat", &dtype)) return NULL;
  ref = ts[0];
  if (ref->ndim == 0)
    return hebb_fail_null(HEBB_ERR_SHAPE, "cat: input 1 is 0-dimensional "
                          "(stack joins scalars)");
  if (hebb_check_dim(ref, dim, "cat")) return NULL;
  memcpy(shape, ref->shape, sizeof shape);
  shape[dim] = 0;
  snprintf(why, sizeof why, "they may differ only in dim %d", dim + 1);
  for (i = 0; i < n; i++) {
    if (mismatch(ts[i], ref, dim)) return shape_error("cat", i, ts[i], ref, why);
    if (hebb_size_add(shape[dim], ts[i]->shape[dim], &shape[dim], "cat"))
      return NULL;
  }
  r = hebb_empty(dtype, ref->ndim, shape);
  if (!r) return NULL;
  for (i = 0; i < n; i++) {   /* input i goes to a slab along dim */
    part = *r;
    part.shape[dim] = ts[i]->shape[dim];
    part.offset = pos * r->stride[dim];
    pos += part.shape[dim];
    if (hebb_convert_into(&part, ts[i]) != HEBB_OK) {
      hebb_release(r);
      return NULL;
    }
  }
  return r;
}

hebb_tensor *hebb_stack(int n, hebb_tensor *const *ts, int dim) {
  int64_t shape[HEBB_MAXDIM];
  const hebb_tensor *ref;
  hebb_tensor *r, part;
  int dtype = 0, nd, i, d;
  if (common_dtype(n, ts, "stack", &dtype)) return NULL;
  ref = ts[0];
  nd = ref->ndim;
  if (dim < 0 || dim > nd)
    return hebb_fail_null(HEBB_ERR_INDEX, "stack: dimension %d out of range "
                          "for stacking %d-dimensional tensors (valid 1..%d)",
                          dim + 1, nd, nd + 1);
  if (nd == HEBB_MAXDIM)
    return hebb_fail_null(HEBB_ERR_SHAPE, "stack: the result would have %d "
                          "dimensions (at most %d)", nd + 1, HEBB_MAXDIM);
  for (i = 0; i < n; i++)
    if (mismatch(ts[i], ref, -1))
      return shape_error("stack", i, ts[i], ref, "stack needs equal shapes");
  for (d = 0; d < nd; d++) shape[d + (d >= dim)] = ref->shape[d];
  shape[dim] = n;
  r = hebb_empty(dtype, nd + 1, shape);
  if (!r) return NULL;
  for (i = 0; i < n; i++) {   /* input i is the slice at i along dim */
    part = *r;
    part.offset = i * r->stride[dim];
    part.ndim = nd;
    for (d = dim; d < nd; d++) {
      part.shape[d] = r->shape[d + 1];
      part.stride[d] = r->stride[d + 1];
    }
    if (hebb_convert_into(&part, ts[i]) != HEBB_OK) {
      hebb_release(r);
      return NULL;
    }
  }
  return r;
}
