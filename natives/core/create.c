/*
** create.c -- tensors made from a formula: arange, linspace, eye.
*/
#include <string.h>

#include "core.h"

/* element i of the new (contiguous) tensor t */
static inline char *at(const hebb_tensor *t, int64_t i, int64_t isz) {
  return t->data + i * isz;
}

/* start + i*step, computed from i (not accumulated) so error never grows */
hebb_tensor *hebb_arange(int dtype, double start, double step, int64_t n) {
  hebb_tensor *t;
  int64_t i, isz = hebb_dtype_size(dtype);
  if (n < 0) return hebb_fail_null(HEBB_ERR_ARG, "arange: negative length %lld",
                                   (long long)n);
  t = hebb_empty(dtype, 1, &n);
  if (!t) return NULL;
  if (dtype == HEBB_I64 && start == (double)(int64_t)start &&
      step == (double)(int64_t)step) {
    int64_t s = (int64_t)start, d = (int64_t)step;
    for (i = 0; i < n; i++) ((int64_t *)t->data)[i] = s + i * d;
  }
  else
    for (i = 0; i < n; i++)
      hebb_put_f64(dtype, at(t, i, isz), start + (double)i * step);
  return t;
}

/* Points are a + i*(b-a)/(n-1) from the left half and b - (n-1-i)*... from
   the right, so both ends come out exact. */
hebb_tensor *hebb_linspace(int dtype, double a, double b, int64_t n) {
  hebb_tensor *t;
  int64_t i, isz = hebb_dtype_size(dtype);
  double h;
  if (n < 0) return hebb_fail_null(HEBB_ERR_ARG, "linspace: negative count %lld",
                                   (long long)n);
  t = hebb_empty(dtype, 1, &n);
  if (!t) return NULL;
  h = n > 1 ? (b - a) / (double)(n - 1) : 0;
  for (i = 0; i < n; i++)
    hebb_put_f64(dtype, at(t, i, isz),
                 2 * i < n ? a + (double)i * h : b - (double)(n - 1 - i) * h);
  return t;
}

hebb_tensor *hebb_eye(int dtype, int64_t n, int64_t m) {
  int64_t shape[2] = {n, m}, i, isz = hebb_dtype_size(dtype);
  hebb_tensor *t = hebb_zeros(dtype, 2, shape);
  if (!t) return NULL;
  for (i = 0; i < n && i < m; i++)
    hebb_put_f64(dtype, at(t, i * m + i, isz), 1.0);
  return t;
}
