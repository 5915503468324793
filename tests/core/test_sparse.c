/* test_sparse.c -- the CSR matrices of the core (sparse.c, lanczos.c)
   through the public C API, without Lua: 0-based triplets, products,
   transpose, combinations, errors and the eigensolver. */
#define SUITE "sparse"
#include <math.h>
#include <string.h>

#include "check.h"
#include "core.h"

int main(void) {
  /* [[1, 0, 2], [0, 0, 3]] given with a duplicate (0, 2): 1.5 + 0.5 */
  int64_t r[4] = {0, 0, 1, 0}, c[4] = {0, 2, 2, 2}, n3 = 3;
  double v[4] = {1, 1.5, 3, 0.5}, x[3] = {1, 2, 3}, got;
  int64_t idx[2] = {1, 2};
  hebb_sparse *s = hebb_sparse_from_coo(2, 3, 4, r, c, v, 0), *t, *u;
  hebb_tensor *xt, *y = NULL, *d, *w = NULL, *vec = NULL;
  CHECK("made", s && hebb_sparse_nrows(s) == 2 && hebb_sparse_ncols(s) == 3);
  CHECK("duplicates_summed", hebb_sparse_nnz(s) == 3 &&
        hebb_sparse_values(s)[1] == 2.0 && hebb_sparse_colind(s)[1] == 2);
  CHECK("rowptr", hebb_sparse_rowptr(s)[0] == 0 &&
        hebb_sparse_rowptr(s)[1] == 2 && hebb_sparse_rowptr(s)[2] == 3);
  xt = hebb_from_buffer(HEBB_F64, 1, &n3, x);
  CHECK("spmv", hebb_sparse_matmul(s, xt, &y) == HEBB_OK &&
        ((double *)hebb_data_ptr(y))[0] == 7 &&
        ((double *)hebb_data_ptr(y))[1] == 9);
  d = hebb_sparse_to_dense(s);
  CHECK("to_dense", d && hebb_get(d, idx, &got) == HEBB_OK && got == 3);
  t = hebb_sparse_transpose(s);
  CHECK("transpose", t && hebb_sparse_nrows(t) == 3 &&
        hebb_sparse_rowptr(t)[3] == 3 && hebb_sparse_colind(t)[2] == 1);
  u = hebb_sparse_add(s, s, 1, -1);
  CHECK("add", u && hebb_sparse_nnz(u) == 3 && hebb_sparse_values(u)[2] == 0);
  hebb_sparse_release(u);
  CHECK("add_shape_error", hebb_sparse_add(s, t, 1, 1) == NULL &&
        hebb_last_status() == HEBB_ERR_SHAPE &&
        strstr(hebb_last_error(), "shapes (2, 3) and (3, 2) differ"));
  r[3] = 2;
  CHECK("index_error", hebb_sparse_from_coo(2, 3, 4, r, c, v, 0) == NULL &&
        hebb_last_status() == HEBB_ERR_INDEX &&
        strstr(hebb_last_error(), "row index 2 of entry 3 out of range 0..1"));
  hebb_release(y);
  y = NULL;
  CHECK("spmv_shape_error", hebb_sparse_matmul(t, xt, &y) ==
        HEBB_ERR_SHAPE && !y);
  hebb_sparse_retain(s);
  hebb_sparse_release(s);
  CHECK("retain_release", hebb_sparse_nnz(s) == 3);
  {  /* [[2, 1], [1, 2]]: eigenvalues 1 and 3, vectors (1, -1)/sqrt 2 ... */
    int64_t er[4] = {0, 0, 1, 1}, ec[4] = {0, 1, 0, 1};
    double ev[4] = {2, 1, 1, 2};
    hebb_sparse *e = hebb_sparse_from_coo(2, 2, 4, er, ec, ev, 0);
    double *wv, *vv;
    CHECK("eigsh", hebb_sparse_eigsh(e, 2, false, 1e-12, 10, 0, 1, &w,
                                     &vec) == HEBB_OK);
    wv = (double *)hebb_data_ptr(w);
    vv = (double *)hebb_data_ptr(vec);
    CHECK("eigsh_values", fabs(wv[0] - 1) < 1e-12 && fabs(wv[1] - 3) < 1e-12);
    CHECK("eigsh_vector", vec->shape[0] == 2 && vec->shape[1] == 2 &&
          fabs(fabs(vv[0]) - sqrt(0.5)) < 1e-12 &&
          fabs(vv[0] + vv[2]) < 1e-12);
    hebb_release(w);
    hebb_release(vec);
    CHECK("eigsh_k_error", hebb_sparse_eigsh(e, 3, false, 1e-12, 10, 0, 1,
                                             &w, &vec) == HEBB_ERR_ARG &&
          !w && !vec && strstr(hebb_last_error(), "k = 3 out of range 1..2"));
    hebb_sparse_release(e);
  }
  CHECK("diagonal", hebb_sparse_diagonal(s, &vec) == HEBB_OK &&
        vec->shape[0] == 2 && ((double *)hebb_data_ptr(vec))[0] == 1 &&
        ((double *)hebb_data_ptr(vec))[1] == 0);
  hebb_release(vec);
  hebb_release(d);
  hebb_release(xt);
  hebb_sparse_release(t);
  hebb_sparse_release(s);
  return check_done();
}
