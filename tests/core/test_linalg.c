/* test_linalg.c -- the C API of the dense linear algebra (linalg*.c):
   the out convention with several results, values-only calls (NULL out
   pointers), error statuses and messages, and no leaks of results on
   failure. */
#define SUITE "linalg"
#include <math.h>
#include <string.h>

#include "check.h"
#include "core.h"

static hebb_tensor *mat(int64_t r, int64_t c, const double *v) {
  int64_t shape[2] = {r, c};
  return hebb_from_buffer(HEBB_F64, 2, shape, v);
}

static double at(const hebb_tensor *t, int64_t i, int64_t j) {
  int64_t idx[2] = {i, j};
  double v = NAN;
  hebb_get(t, idx, &v);
  return v;
}

int main(void) {
  static const double a3[9] = {4, 1, 0, 1, 3, 1, 0, 1, 2};
  static const double sing[4] = {1, 2, 2, 4};
  static const double b3[3] = {1, 2, 3};
  int64_t three = 3, two[2] = {2, 2};
  hebb_tensor *a = mat(3, 3, a3), *s = mat(2, 2, sing), *w = NULL, *v = NULL;
  hebb_tensor *b, *x = NULL, *u = NULL, *sv = NULL, *vh = NULL, *out, *o2;
  hebb_tensor *d = NULL, *q = NULL;
  hebb_alloc_stats st0, st1;
  double r3 = sqrt(3.0);

  b = hebb_from_buffer(HEBB_F64, 1, &three, b3);
  CHECK("solve", hebb_linalg_solve(a, b, &x) == HEBB_OK && x->ndim == 1 &&
        fabs(((double *)x->data)[2] - 13.0 / 9) < 1e-14);
  CHECK("eigvals_only", hebb_linalg_eigh(a, &w, NULL) == HEBB_OK &&
        w->shape[0] == 3 && fabs(((double *)w->data)[0] - (3 - r3)) < 1e-14);
  CHECK("svdvals_only", hebb_linalg_svd(a, false, NULL, &sv, NULL) == HEBB_OK
        && fabs(((double *)sv->data)[0] - (3 + r3)) < 1e-14);
  o2 = w;   /* w given as out, v made */
  CHECK("eigh_w_into_out", hebb_linalg_eigh(a, &w, &v) == HEBB_OK &&
        w == o2 && v->shape[0] == 3 && v->shape[1] == 3);

  /* a given out receives the result */
  out = hebb_zeros(HEBB_F64, 2, two);
  o2 = out;
  q = mat(2, 2, (double[]){2, 0, 0, 4});
  CHECK("inv_into_out", hebb_linalg_inv(q, &out) == HEBB_OK && out == o2 &&
        at(out, 0, 0) == 0.5 && at(out, 1, 1) == 0.25);
  hebb_release(q);
  q = NULL;
  CHECK("out_wrong_shape", hebb_linalg_inv(a, &out) == HEBB_ERR_SHAPE &&
        strstr(hebb_last_error(), "linalg.inv: out has shape {2,2}, result "
               "has {3,3}"));
  hebb_release(out);

  /* failures leave the outs NULL and hold no memory */
  hebb_release(x);
  x = NULL;
  hebb_alloc_get_stats(&st0);
  CHECK("singular_status", hebb_linalg_inv(s, &x) == HEBB_ERR_ARG && !x &&
        strstr(hebb_last_error(), "linalg.inv: matrix is singular (dgetrf "
               "info=2: U(2,2) is exactly zero)"));
  CHECK("cholesky_status", hebb_linalg_cholesky(s, &x) == HEBB_ERR_ARG &&
        !x && strstr(hebb_last_error(), "dpotrf info=2"));
  CHECK("qr_nonmatrix", hebb_linalg_qr(b, &q, &d) == HEBB_ERR_SHAPE && !q &&
        !d && strstr(hebb_last_error(), "got a 1-d tensor"));
  CHECK("rank_zero", hebb_linalg_svd_rank(a, 0, &u, &sv, &vh, &d) ==
        HEBB_ERR_ARG);
  CHECK("norm_unknown", hebb_linalg_norm(a, "3", &x) == HEBB_ERR_ARG &&
        strstr(hebb_last_error(), "unknown order '3'"));
  {   /* non-finite input never reaches LAPACK (zgeev aborted on inf) */
    static const double bad[4] = {1, NAN, 0, 1};
    hebb_tensor *nan = mat(2, 2, bad), *w2 = NULL, *v2 = NULL;
    CHECK("eig_nan_refused", hebb_linalg_eig(nan, &w2, &v2) == HEBB_ERR_ARG &&
          !w2 && !v2 && strstr(hebb_last_error(), "linalg.eig: the matrix "
                               "holds NaN; LAPACK's zgeev needs finite entries"));
    CHECK("svd_nan_refused", hebb_linalg_svd(nan, false, &u, &sv, &vh) ==
          HEBB_ERR_ARG && strstr(hebb_last_error(), "dgesdd"));
    CHECK("nan_input_unchanged", isnan(at(nan, 0, 1)) && at(nan, 1, 1) == 1);
    hebb_release(nan);
  }
  hebb_alloc_get_stats(&st1);
  CHECK("no_leak_on_failure", st1.bytes_in_use == st0.bytes_in_use);

  CHECK("input_unchanged", at(a, 0, 0) == 4 && at(a, 2, 2) == 2 &&
        at(s, 1, 1) == 4);
  CHECK("det", hebb_linalg_det(a, &d) == HEBB_OK && d->ndim == 0 &&
        fabs(((double *)d->data)[0] - 18) < 1e-13);
  q = hebb_zeros(HEBB_F64, 2, two);
  CHECK("expm_zero", hebb_linalg_expm(q, &x) == HEBB_OK && at(x, 0, 0) == 1
        && at(x, 1, 1) == 1 && at(x, 0, 1) == 0);
  hebb_release(q);
  hebb_release(a); hebb_release(s); hebb_release(b); hebb_release(w);
  hebb_release(v); hebb_release(sv); hebb_release(d); hebb_release(x);
  return check_done();
}
