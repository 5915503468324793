/* test_complex.c -- C-level checks of the complex dtypes: the promotion
   table, storage layout (re, im pairs), hebb_complex / hebb_complex_part,
   conversions and their refusal, and that failed calls leave no result. */
#include <complex.h>
#include <string.h>

#define SUITE "complex"
#include "check.h"
#include "core.h"

static void test_promotion(void) {
  /* category, then width: [a][b], in hebb_dtype order (f64 f32 i64 bool
     c128 c64) */
  static const int want[HEBB_NDTYPES][HEBB_NDTYPES] = {
    {HEBB_F64, HEBB_F64, HEBB_F64, HEBB_F64, HEBB_C128, HEBB_C128},
    {HEBB_F64, HEBB_F32, HEBB_F32, HEBB_F32, HEBB_C128, HEBB_C64},
    {HEBB_F64, HEBB_F32, HEBB_I64, HEBB_I64, HEBB_C128, HEBB_C64},
    {HEBB_F64, HEBB_F32, HEBB_I64, HEBB_BOOL, HEBB_C128, HEBB_C64},
    {HEBB_C128, HEBB_C128, HEBB_C128, HEBB_C128, HEBB_C128, HEBB_C128},
    {HEBB_C128, HEBB_C64, HEBB_C64, HEBB_C64, HEBB_C128, HEBB_C64},
  };
  int a, b, ok = 1;
  for (a = 0; a < HEBB_NDTYPES; a++)
    for (b = 0; b < HEBB_NDTYPES; b++)
      if (hebb_promote(a, b) != want[a][b]) ok = 0;
  CHECK("promotion_table", ok);
  CHECK("sizes", hebb_dtype_size(HEBB_C128) == 16 &&
        hebb_dtype_size(HEBB_C64) == 8 &&
        hebb_dtype_from_name("c64") == HEBB_C64);
}

static void test_build_and_parts(void) {
  double re[3] = {1, -2, 0}, im[3] = {0.5, 3, -1};
  int64_t n = 3, none = 0;
  hebb_tensor *r = hebb_from_buffer(HEBB_F64, 1, &n, re);
  hebb_tensor *i = hebb_from_buffer(HEBB_F64, 1, &n, im);
  hebb_tensor *z = NULL, *p = NULL, *c = NULL, *bad = NULL;
  const double *d;
  CHECK("complex", hebb_complex(r, i, &z) == HEBB_OK && z->dtype == HEBB_C128);
  d = hebb_data_ptr(z);   /* (re, im) pairs, as numpy and BLAS lay them out */
  CHECK("layout", d[0] == 1 && d[1] == 0.5 && d[2] == -2 && d[3] == 3);
  CHECK("c99_view", ((double _Complex *)hebb_data_ptr(z))[1] ==
        CMPLX(-2.0, 3.0));
  CHECK("imag", hebb_complex_part(HEBB_IMAG, z, &p) == HEBB_OK &&
        p->dtype == HEBB_F64 && ((double *)hebb_data_ptr(p))[1] == 3);
  CHECK("conj_into_out", hebb_complex_part(HEBB_CONJ, z, &z) == HEBB_OK &&
        ((double *)hebb_data_ptr(z))[3] == -3);
  CHECK("angle_into_out", hebb_complex_part(HEBB_ANGLE, z, &r) == HEBB_OK &&
        ((double *)hebb_data_ptr(r))[2] == carg(CMPLX(0.0, 1.0)));
  CHECK("bad_part", hebb_complex_part(HEBB_NCPARTS, z, &c) == HEBB_ERR_ARG &&
        !c);
  CHECK("complex_of_complex", hebb_complex(z, i, &c) == HEBB_ERR_DTYPE &&
        !c && strstr(hebb_last_error(), "the real part must be real"));
  CHECK("astype_refused", !hebb_astype(z, HEBB_F64) &&
        strstr(hebb_last_error(), "astype: cannot convert c128 to f64"));
  CHECK("copy_refused", hebb_copy(i, z) == HEBB_ERR_DTYPE &&
        ((double *)hebb_data_ptr(i))[0] == 0.5);
  CHECK("widen", (c = hebb_astype(i, HEBB_C64)) != NULL &&
        ((float *)hebb_data_ptr(c))[2] == 3 &&
        ((float *)hebb_data_ptr(c))[3] == 0);
  CHECK("empty_c64", (bad = hebb_zeros(HEBB_C64, 1, &none)) != NULL &&
        hebb_numel(bad) == 0);
  CHECK("real_only_refused", hebb_unary(HEBB_SIGMOID, z, &p) ==
        HEBB_ERR_DTYPE && strstr(hebb_last_error(),
                                 "sigmoid: dtype c128 is not supported yet"));
  hebb_release(r); hebb_release(i); hebb_release(z); hebb_release(p);
  hebb_release(c); hebb_release(bad);
}

int main(void) {
  test_promotion();
  test_build_and_parts();
  return check_done();
}
