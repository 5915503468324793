/*
** roll.c -- cyclic shifts and reversals along dimensions (copies).
**
** roll by s along a dimension of length n is out[i] = a[(i - s) mod n]:
** two block copies, a[0 .. n-s-1] to out[s .. n-1] and a[n-s .. n-1] to
** out[0 .. s-1] (s taken mod n).  Over several dimensions the blocks
** multiply: 2^k strided copies for k rolled dimensions, each running
** through copy.c's parallel kernels.  flip reads a view with negative
** strides.
*/
#include <string.h>

#include "core.h"

/* Copies block b (bit j: which half along dims[j]) of the roll. */
static int roll_block(const hebb_tensor *a, hebb_tensor *out, int k,
                      const int *dims, const int64_t *s, int b) {
  hebb_tensor src = *a, dst = *out;
  int j;
  src.flags &= ~HEBB_TF_TRACKED;
  for (j = 0; j < k; j++) {
    int d = dims[j];
    int64_t n = a->shape[d], len = (b >> j) & 1 ? s[j] : n - s[j];
    int64_t from = (b >> j) & 1 ? n - s[j] : 0, to = (b >> j) & 1 ? 0 : s[j];
    if (len == 0) return HEBB_OK;
    src.shape[d] = dst.shape[d] = len;
    src.offset += from * a->stride[d];
    dst.offset += to * out->stride[d];
  }
  return hebb_copy(&dst, &src);
}

int hebb_roll(const hebb_tensor *a, int k, const int64_t *shifts,
              const int *dims, hebb_tensor **out) {
  int64_t s[HEBB_MAXDIM];
  int j, b, st, seen = 0;
  if (hebb_check_dtype_any(a->dtype, "roll")) return hebb_last_status();
  if (k < 1 || k > a->ndim)
    return hebb_fail(HEBB_ERR_ARG, "roll: %d dimensions for a %d-dimensional "
                     "tensor", k, a->ndim);
  for (j = 0; j < k; j++) {
    int64_t n;
    if (hebb_check_dim(a, dims[j], "roll")) return hebb_last_status();
    if (seen & (1 << dims[j]))
      return hebb_fail(HEBB_ERR_ARG, "roll: dimension %d appears twice",
                       dims[j] + 1);
    seen |= 1 << dims[j];
    n = a->shape[dims[j]];
    s[j] = n > 0 ? ((shifts[j] % n) + n) % n : 0;
  }
  if (*out && hebb_same_storage(a, *out))
    return hebb_fail(HEBB_ERR_ARG, "roll: out must not share memory with the "
                     "input");
  st = hebb_prepare_out(out, a->dtype, a->ndim, a->shape, "roll");
  for (b = 0; st == HEBB_OK && b < (1 << k); b++)
    st = roll_block(a, *out, k, dims, s, b);
  return st;
}

int hebb_flip(const hebb_tensor *a, int k, const int *dims,
              hebb_tensor **out) {
  hebb_tensor v = *a;
  int j, seen = 0;
  if (hebb_check_dtype_any(a->dtype, "flip")) return hebb_last_status();
  for (j = 0; j < k; j++) {
    int d = dims[j];
    if (hebb_check_dim(a, d, "flip")) return hebb_last_status();
    if (seen & (1 << d))
      return hebb_fail(HEBB_ERR_ARG, "flip: dimension %d appears twice", d + 1);
    seen |= 1 << d;
    if (a->shape[d] > 0) v.offset += (a->shape[d] - 1) * a->stride[d];
    v.stride[d] = -a->stride[d];
  }
  v.flags &= ~HEBB_TF_TRACKED;
  if (*out && hebb_same_storage(a, *out))
    return hebb_fail(HEBB_ERR_ARG, "flip: out must not share memory with the "
                     "input");
  if (hebb_prepare_out(out, a->dtype, a->ndim, a->shape, "flip"))
    return hebb_last_status();
  return hebb_copy(*out, &v);
}
