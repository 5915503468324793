/* test_fft.c -- C-level checks of natives/core/fft.c: transforms against
   the DFT sum, the 'out' convention (into a given tensor; refused shapes
   leave it alone), failed calls leave no result, numpy's fftfreq values,
   and more distinct lengths than the plan cache holds. */
#include <complex.h>
#include <math.h>

#define SUITE "fft"
#include "check.h"
#include "core.h"

/* largest |fft(x) - DFT sum| of a length-n c128 vector */
static double dft_error(int64_t n) {
  hebb_tensor *x = hebb_empty(HEBB_C128, 1, &n), *X = NULL;
  double _Complex *a = hebb_data_ptr(x), *b;
  double err = -1;
  int64_t j, k;
  for (j = 0; j < n; j++) a[j] = CMPLX(cos(0.7 * j), sin(1.3 * j * j));
  if (hebb_fft(x, 0, false, &X) == HEBB_OK) {
    b = hebb_data_ptr(X);
    err = 0;
    for (k = 0; k < n; k++) {
      double _Complex s = 0;
      for (j = 0; j < n; j++)
        s += a[j] * cexp(CMPLX(0, -2 * M_PI * (double)((j * k) % n) / n));
      if (cabs(s - b[k]) > err) err = cabs(s - b[k]);
    }
    hebb_release(X);
  }
  hebb_release(x);
  return err;
}

static void test_dft(void) {
  int64_t n;
  int ok = 1;
  for (n = 1; n <= 80 && ok; n++) {   /* 80 lengths: more than the cache */
    double err = dft_error(n);
    ok = err >= 0 && err < 1e-12 * n;
  }
  CHECK("dft_sum", ok);
}

static void test_out(void) {
  int64_t shape[2] = {2, 4}, bad[2] = {2, 3};
  double v[8] = {1, 0, 0, 0, 0, 1, 0, 0};
  hebb_tensor *x = hebb_from_buffer(HEBB_F64, 2, shape, v);
  hebb_tensor *o = hebb_zeros(HEBB_C128, 2, shape);
  hebb_tensor *w = hebb_zeros(HEBB_C128, 2, bad), *none = NULL;
  hebb_tensor *keep = o;
  double _Complex *r = hebb_data_ptr(o);
  CHECK("into_out", hebb_fft(x, 1, false, &o) == HEBB_OK && o == keep &&
        r[0] == 1 && r[3] == 1 && r[4] == 1 && r[5] == CMPLX(0, -1));
  CHECK("out_shape", hebb_fft(x, 1, false, &w) == HEBB_ERR_SHAPE &&
        ((double _Complex *)hebb_data_ptr(w))[0] == 0);
  CHECK("rfft_complex", hebb_rfft(o, 1, &none) == HEBB_ERR_DTYPE && !none);
  CHECK("irfft_n", hebb_irfft(o, 0, 1, &none) == HEBB_ERR_ARG && !none);
  CHECK("dim", hebb_fft(x, 2, false, &none) == HEBB_ERR_INDEX && !none);
  CHECK("fftn_out", hebb_fftn(x, 0, NULL, true, &o) == HEBB_OK && o == keep);
  CHECK("shift_out", hebb_fftshift(x, 0, NULL, false, &w) == HEBB_ERR_SHAPE);
  hebb_release(x);
  hebb_release(o);
  hebb_release(w);
}

static void test_freq(void) {
  hebb_tensor *f = hebb_fftfreq(5, 1, false);
  const double *d = f ? hebb_data_ptr(f) : NULL;
  CHECK("fftfreq5", d && d[1] == 0.2 && d[2] == 0.4 && d[3] == -0.4 &&
        d[4] == -0.2);
  CHECK("fftfreq0", hebb_fftfreq(0, 1, true) == NULL &&
        hebb_last_status() == HEBB_ERR_ARG);
  if (f) hebb_release(f);
}

int main(void) {
  test_dft();
  test_out();
  test_freq();
  return check_done();
}
