/*
** create.c -- tensors made from a formula: arange, linspace, eye.
*/
#include <string.h>

#include "core.h"

static void put(hebb_tensor *t, int64_t i, double v) {
  switch (t->dtype) {
    case HEBB_F64: ((double *)t->data)[i] = v; break;
    case HEBB_F32: ((float *)t->data)[i] = (float)v; break;
    case HEBB_I64: ((int64_t *)t->data)[i] = hebb_f2i(v); break;
    case HEBB_C128: ((double _Complex *)t->data)[i] = v; break;
    case HEBB_C64: ((float _Complex *)t->data)[i] = (float)v; break;
    default: ((bool *)t->data)[i] = v != 0; break;
  }
}

/* start + i*step, computed from i (not accumulated) so error never grows */
hebb_tensor *hebb_arange(int dtype, double start, double step, int64_t n) {
  hebb_tensor *t;
  int64_t i;
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
    for (i = 0; i < n; i++) put(t, i, start + (double)i * step);
  return t;
}

/* Points are a + i*(b-a)/(n-1) from the left half and b - (n-1-i)*... from
   the right, so both ends come out exact. */
hebb_tensor *hebb_linspace(int dtype, double a, double b, int64_t n) {
  hebb_tensor *t;
  int64_t i;
  double h;
  if (n < 0) return hebb_fail_null(HEBB_ERR_ARG, "linspace: negative count %lld",
                                   (long long)n);
  t = hebb_empty(dtype, 1, &n);
  if (!t) return NULL;
  h = n > 1 ? (b - a) / (double)(n - 1) : 0;
  for (i = 0; i < n; i++)
    put(t, i, 2 * i < n ? a + (double)i * h : b - (double)(n - 1 - i) * h);
  return t;
}

hebb_tensor *hebb_eye(int dtype, int64_t n, int64_t m) {
  int64_t shape[2] = {n, m}, i;
  hebb_tensor *t = hebb_zeros(dtype, 2, shape);
  if (!t) return NULL;
  for (i = 0; i < n && i < m; i++) put(t, i * m + i, 1.0);
  return t;
}
