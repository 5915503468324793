/* test_tensor.c -- tensor lifetime, errors and element access in the core,
   without Lua. */
#define SUITE "tensor"
#include <string.h>

#include "check.h"
#include "core.h"

int main(void) {
  int64_t shape[2] = {2, 3}, idx[2] = {1, 2}, bad[2] = {2, 0}, neg = -1;
  double v = 0;
  hebb_tensor *t = hebb_zeros(HEBB_F64, 2, shape), *u;
  CHECK("zeros_made", t && t->refcount == 1 && hebb_numel(t) == 6);
  CHECK("contiguous", hebb_is_contiguous(t) && t->stride[0] == 3);
  CHECK("set", hebb_set(t, idx, 4.5) == HEBB_OK);
  CHECK("get", hebb_get(t, idx, &v) == HEBB_OK && v == 4.5);
  CHECK("version_bumped", hebb_version_counter(t) == 1);
  CHECK("get_out_of_range", hebb_get(t, bad, &v) == HEBB_ERR_INDEX &&
        strstr(hebb_last_error(), "index 3 out of range for dim 1 of size 2"));
  hebb_clear_error();
  CHECK("clear_error", hebb_last_status() == HEBB_OK && !*hebb_last_error());
  CHECK("negative_shape", hebb_empty(HEBB_F64, 1, &neg) == NULL &&
        hebb_last_status() == HEBB_ERR_SHAPE &&
        strstr(hebb_last_error(), "negative size -1 in dim 1"));
  CHECK("bad_dtype", hebb_empty(42, 1, shape) == NULL &&
        hebb_last_status() == HEBB_ERR_DTYPE);
  CHECK("complex_refused_by_real_ops",
        hebb_check_dtype(HEBB_C128, "floor") == HEBB_ERR_DTYPE &&
        strstr(hebb_last_error(), "floor: dtype c128 is not supported yet"));
  CHECK("too_many_dims", hebb_empty(HEBB_F64, 17, shape) == NULL);
  u = hebb_view_of(t);
  CHECK("view_shares", hebb_same_storage(t, u) && u->refcount == 1);
  hebb_release(t);                     /* storage lives on through u */
  CHECK("view_keeps_storage", hebb_get(u, idx, &v) == HEBB_OK && v == 4.5);
  hebb_release(u);
  t = hebb_full(HEBB_I64, 1, shape, 7);
  CHECK("full_i64", hebb_get(t, idx, &v) == HEBB_OK && v == 7);
  CHECK("fill_nan_into_i64_refused", hebb_fill(t, 0.0 / 0.0) == HEBB_ERR_ARG);
  hebb_release(t);
  CHECK("promote", hebb_promote(HEBB_I64, HEBB_F32) == HEBB_F32 &&
        hebb_promote(HEBB_BOOL, HEBB_I64) == HEBB_I64 &&
        hebb_promote(HEBB_F64, HEBB_F32) == HEBB_F64);
  CHECK("dtype_names", hebb_dtype_from_name("f32") == HEBB_F32 &&
        hebb_dtype_from_name("nope") == -1 &&
        strcmp(hebb_dtype_name(HEBB_BOOL), "bool") == 0);
  CHECK("sizeof_tensor", hebb_sizeof_tensor() == sizeof(hebb_tensor));
  return check_done();
}
