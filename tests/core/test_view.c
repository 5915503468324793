/* test_view.c -- views, indexing by tensors and joining in the core
   (natives/core/view.c, index.c, join.c), without Lua.  Indices here are
   0-based unless a base is passed. */
#define SUITE "view"
#include <string.h>

#include "check.h"
#include "core.h"

/* element at (i, j) of a 2-d tensor, or at i of a 1-d one (j ignored) */
static double at(const hebb_tensor *t, int64_t i, int64_t j) {
  int64_t idx[2] = {i, j};
  double v = -999;
  hebb_get(t, idx, &v);
  return v;
}

static int has(const char *needle) {
  return strstr(hebb_last_error(), needle) != NULL;
}

/* 0, 1, ..., rows*cols-1 as a rows x cols f64 matrix */
static hebb_tensor *matrix(int64_t rows, int64_t cols) {
  int64_t shape[2] = {rows, cols};
  hebb_tensor *r = hebb_arange(HEBB_F64, 0, 1, rows * cols);
  hebb_tensor *m = hebb_view(r, 2, shape);
  hebb_release(r);
  return m;
}

static hebb_tensor *ivec(int64_t n, const int64_t *v) {
  return hebb_from_buffer(HEBB_I64, 1, &n, v);
}

static void test_view_reshape(void) {
  hebb_tensor *m = matrix(2, 3), *v, *tr, *r;
  int64_t s32[2] = {3, 2}, s12[1] = {6}, s321[3] = {3, 2, 1}, s4[1] = {4};
  v = hebb_view(m, 2, s32);
  CHECK("view_shares", v && hebb_same_storage(v, m) && v->stride[0] == 2 &&
        v->stride[1] == 1 && at(v, 2, 1) == 5);
  hebb_release(v);
  tr = hebb_transpose(m, 0, 1);
  CHECK("transpose_strides", tr && tr->shape[0] == 3 && tr->stride[0] == 1 &&
        tr->stride[1] == 3 && at(tr, 2, 1) == 5 && !hebb_is_contiguous(tr));
  CHECK("view_incompatible", hebb_view(tr, 1, s12) == NULL &&
        hebb_last_status() == HEBB_ERR_SHAPE &&
        has("view: shape {6} is incompatible with a tensor of shape {3,2} "
            "and strides {1,3}"));
  CHECK("view_count", hebb_view(m, 1, s4) == NULL &&
        has("view: shape {4} (4 elements) does not fit a tensor of shape "
            "{2,3} (6 elements)"));
  v = hebb_view(tr, 3, s321);   /* a trailing size-1 dim is always possible */
  CHECK("view_size1_on_transposed", v && hebb_same_storage(v, m) &&
        v->stride[0] == 1 && v->stride[1] == 3);
  hebb_release(v);
  r = hebb_reshape(tr, 1, s12);
  CHECK("reshape_copies_when_needed", r && !hebb_same_storage(r, m) &&
        hebb_is_contiguous(r) && at(r, 1, 0) == 3 && at(r, 5, 0) == 5);
  hebb_release(r);
  r = hebb_reshape(m, 1, s12);
  CHECK("reshape_views_when_possible", r && hebb_same_storage(r, m));
  hebb_release(r);
  r = hebb_flatten(tr, 0, 1);
  CHECK("flatten_copy", r && !hebb_same_storage(r, m) && r->ndim == 1);
  hebb_release(r);
  r = hebb_flatten(m, 0, 1);
  CHECK("flatten_view", r && hebb_same_storage(r, m) && r->shape[0] == 6);
  hebb_release(r);
  CHECK("flatten_order", hebb_flatten(m, 1, 0) == NULL &&
        has("start dim 2 comes after end dim 1"));
  hebb_release(tr);
  hebb_release(m);
}

static void test_parts(void) {
  hebb_tensor *m = matrix(3, 4), *v, *w;
  v = hebb_narrow(m, 1, 1, 2);
  CHECK("narrow", v && v->shape[1] == 2 && at(v, 2, 1) == 10 &&
        hebb_same_storage(v, m));
  hebb_release(v);
  CHECK("narrow_range", hebb_narrow(m, 1, 3, 2) == NULL &&
        has("narrow: start 4 with length 2 out of range for dim 2 of size 4"));
  v = hebb_slice(m, 1, 0, 4, 2);   /* columns 0, 2 */
  CHECK("slice_step", v && v->shape[1] == 2 && v->stride[1] == 2 &&
        at(v, 1, 1) == 6);
  hebb_release(v);
  v = hebb_slice(m, 1, 3, -1, -1);   /* columns reversed */
  CHECK("slice_negative_step", v && v->shape[1] == 4 && v->stride[1] == -1 &&
        at(v, 0, 0) == 3 && at(v, 2, 3) == 8);
  hebb_release(v);
  v = hebb_slice(m, 0, 2, 2, 1);
  CHECK("slice_empty", v && v->shape[0] == 0);
  hebb_release(v);
  CHECK("slice_errors", hebb_slice(m, 1, 0, 5, 1) == NULL &&
        has("out of range for dim 2 of size 4") &&
        hebb_slice(m, 1, 0, 4, 0) == NULL && has("step is 0"));
  v = hebb_select(m, 0, 2);
  CHECK("select", v && v->ndim == 1 && at(v, 3, 0) == 11);
  w = hebb_select(v, 0, 1);
  CHECK("select_to_0d", w && w->ndim == 0 && hebb_numel(w) == 1);
  hebb_release(w);
  hebb_release(v);
  CHECK("select_range", hebb_select(m, 1, 4) == NULL &&
        hebb_last_status() == HEBB_ERR_INDEX &&
        has("select: index 5 out of range for dim 2 of size 4"));
  CHECK("bad_dim", hebb_select(m, 2, 0) == NULL &&
        has("select: dimension 3 out of range for a 2-dimensional tensor"));
  v = hebb_diagonal(m, 0, 0, 1);
  CHECK("diagonal", v && v->shape[0] == 3 && v->stride[0] == 5 &&
        at(v, 2, 0) == 10);
  hebb_release(v);
  v = hebb_diagonal(m, 1, 0, 1);
  CHECK("diagonal_above", v && v->shape[0] == 3 && at(v, 0, 0) == 1 &&
        at(v, 2, 0) == 11);
  hebb_release(v);
  v = hebb_diagonal(m, -2, 0, 1);
  CHECK("diagonal_below", v && v->shape[0] == 1 && at(v, 0, 0) == 8);
  hebb_release(v);
  v = hebb_diagonal(m, 7, 0, 1);
  CHECK("diagonal_empty", v && v->shape[0] == 0);
  hebb_release(v);
  CHECK("diagonal_same_dim", hebb_diagonal(m, 0, 1, 1) == NULL &&
        has("both dimensions are 2"));
  hebb_release(m);
}

static void test_rearrange(void) {
  hebb_tensor *m = matrix(2, 3), *v, *w, *u;
  int perm[3] = {2, 0, 1}, dup[3] = {0, 0, 1};
  int64_t s3[3] = {2, 3, 1}, e[3] = {4, -1, 5}, bad[2] = {4, 3}, one = 1;
  int i;
  u = hebb_view(m, 3, s3);
  v = hebb_permute(u, perm);
  CHECK("permute", v && v->shape[0] == 1 && v->shape[1] == 2 &&
        v->shape[2] == 3 && v->stride[2] == 1);
  hebb_release(v);
  CHECK("permute_dup", hebb_permute(u, dup) == NULL &&
        has("permute: dimension 1 appears twice"));
  v = hebb_expand(u, 3, e);   /* {2,3,1} -> {4?}: fails, dim 1 is 2 */
  CHECK("expand_refuses_non1", v == NULL &&
        has("expand: cannot expand shape {2,3,1} to {4,-1,5}"));
  e[0] = -1;
  v = hebb_expand(u, 3, e);
  CHECK("expand", v && v->shape[2] == 5 && v->stride[2] == 0 &&
        hebb_same_storage(v, m));
  CHECK("writable_check", hebb_check_writable(v, "x") == HEBB_ERR_ARG &&
        has("x: cannot write into a broadcast (expanded) view") &&
        hebb_check_writable(m, "x") == HEBB_OK);
  hebb_release(v);
  {   /* overlapping strides without a 0: refused; interleaved ones pass */
    int64_t sh[2] = {2, 3}, over[2] = {1, 1}, inter[2] = {3, 1}, rev[2] = {-3, 1};
    v = hebb_as_strided(m, 2, sh, over, 0);
    CHECK("writable_overlap", v && hebb_check_writable(v, "x") == HEBB_ERR_ARG &&
          has("x: cannot write into a view whose elements overlap (strides {1,1})"));
    hebb_release(v);
    v = hebb_as_strided(m, 2, sh, inter, 0);
    CHECK("writable_distinct", v && hebb_check_writable(v, "x") == HEBB_OK);
    hebb_release(v);
    v = hebb_as_strided(m, 2, sh, rev, 3);
    CHECK("writable_reversed", v && hebb_check_writable(v, "x") == HEBB_OK &&
          hebb_may_overlap(v, m) && !hebb_same_view(v, m));
    hebb_release(v);
  }
  v = hebb_expand(m, 2, bad);
  CHECK("expand_error", v == NULL && has("dim 1: size 2 to 4"));
  w = hebb_full(HEBB_F64, 1, &one, 3);
  {
    int64_t lead[3] = {2, 2, 4};
    v = hebb_expand(w, 3, lead);
    CHECK("expand_leading", v && v->ndim == 3 && v->stride[0] == 0 &&
          v->stride[2] == 0 && hebb_numel(v) == 16);
    hebb_release(v);
  }
  hebb_release(w);
  v = hebb_squeeze(u, -1);
  CHECK("squeeze_all", v && v->ndim == 2 && v->shape[1] == 3);
  hebb_release(v);
  v = hebb_squeeze(u, 1);   /* size 3: left alone */
  CHECK("squeeze_keeps_non1", v && v->ndim == 3);
  hebb_release(v);
  v = hebb_unsqueeze(m, 2);
  CHECK("unsqueeze_end", v && v->ndim == 3 && v->shape[2] == 1);
  hebb_release(v);
  /* 16 dimensions are fine, a 17th is refused */
  v = m;
  hebb_retain(v);
  for (i = 2; i < HEBB_MAXDIM; i++) {
    w = hebb_unsqueeze(v, 0);
    hebb_release(v);
    v = w;
  }
  CHECK("sixteen_dims", v && v->ndim == 16 && at(m, 1, 2) == 5);
  CHECK("seventeen_refused", hebb_unsqueeze(v, 0) == NULL &&
        has("already has 16 dimensions"));
  hebb_release(v);
  hebb_release(u);
  hebb_release(m);
}

static void test_as_strided(void) {
  hebb_tensor *m = matrix(3, 4), *v;
  int64_t shape[2] = {2, 2}, stride[2] = {4, 1}, neg[2] = {-4, -1};
  v = hebb_as_strided(m, 2, shape, stride, 5);
  CHECK("as_strided", v && at(v, 0, 0) == 5 && at(v, 1, 1) == 10);
  hebb_release(v);
  v = hebb_as_strided(m, 2, shape, neg, 11);
  CHECK("as_strided_negative", v && at(v, 0, 0) == 11 && at(v, 1, 1) == 6);
  hebb_release(v);
  v = hebb_as_strided(m, 1, (int64_t[]){0}, stride, 12);
  CHECK("as_strided_empty_anywhere", v && hebb_numel(v) == 0);
  hebb_release(v);
  CHECK("as_strided_bounds", hebb_as_strided(m, 2, shape, stride, 7) == NULL &&
        hebb_last_status() == HEBB_ERR_INDEX &&
        has("reaches outside the storage of 12 elements") &&
        hebb_as_strided(m, 2, shape, neg, 2) == NULL);
  hebb_release(m);
}

static void test_index(void) {
  hebb_tensor *m = matrix(3, 4), *r = NULL, *ix, *g, *z;
  int64_t rows[3] = {2, 0, 2}, rows1[2] = {3, 5}, gi[6] = {0, 3, 1, 1, 2, 0};
  int64_t s32[2] = {3, 2};
  uint64_t ver;
  double before, after;
  ix = ivec(3, rows);
  CHECK("index_select_rows", hebb_index_select(m, 0, ix, 0, &r) == HEBB_OK &&
        r->shape[0] == 3 && at(r, 0, 1) == 9 && at(r, 1, 3) == 3 &&
        at(r, 2, 0) == 8);
  hebb_release(r);
  r = NULL;
  CHECK("index_select_cols", hebb_index_select(m, 1, ix, 0, &r) == HEBB_OK &&
        r->shape[1] == 3 && at(r, 1, 0) == 6 && at(r, 2, 1) == 8);
  hebb_release(r);
  hebb_release(ix);
  r = NULL;
  ix = ivec(2, rows1);
  CHECK("index_select_base1_error",
        hebb_index_select(m, 1, ix, 1, &r) == HEBB_ERR_INDEX && r == NULL &&
        has("index_select: index 5 out of range for dim 2 of size 4 "
            "(valid 1..4)"));
  hebb_release(ix);
  g = hebb_from_buffer(HEBB_I64, 2, s32, gi);
  CHECK("gather", hebb_gather(m, 1, g, 0, &r) == HEBB_OK && r->shape[0] == 3 &&
        at(r, 0, 1) == 3 && at(r, 1, 0) == 5 && at(r, 2, 0) == 10 &&
        at(r, 2, 1) == 8);
  hebb_release(r);
  r = NULL;
  CHECK("gather_base_error", hebb_gather(m, 1, g, 1, &r) == HEBB_ERR_INDEX &&
        has("gather: index 0 out of range for dim 2 of size 4 (valid 1..4)"));
  /* scatter: zeros, then put 1, 2, ... through g */
  z = hebb_zeros(HEBB_F64, 2, (int64_t[]){3, 4});
  CHECK("scatter", hebb_scatter(z, 1, g, 0, m, false) == HEBB_OK &&
        at(z, 0, 0) == 0 && at(z, 0, 3) == 1 && at(z, 1, 1) == 5 &&
        at(z, 2, 2) == 8 && at(z, 2, 0) == 9);
  ver = hebb_version_counter(z);
  before = at(z, 0, 3);
  gi[4] = 9;   /* a bad index late in the index tensor */
  hebb_release(g);
  g = hebb_from_buffer(HEBB_I64, 2, s32, gi);
  CHECK("scatter_failure_changes_nothing",
        hebb_scatter(z, 1, g, 0, m, true) == HEBB_ERR_INDEX &&
        has("scatter_add: index 9 out of range for dim 2 of size 4") &&
        at(z, 0, 3) == before && hebb_version_counter(z) == ver);
  gi[4] = 3;
  hebb_release(g);
  g = hebb_from_buffer(HEBB_I64, 2, s32, gi);
  CHECK("scatter_add_repeats", hebb_scatter(z, 1, g, 0, m, true) == HEBB_OK &&
        at(z, 1, 1) == 5 + 4 + 5 && hebb_version_counter(z) > ver);
  after = at(z, 2, 3);
  CHECK("scatter_add_value", after == 8);
  hebb_release(z);
  hebb_release(g);
  hebb_release(m);
}

static void test_masks(void) {
  hebb_tensor *m = matrix(2, 3), *mask, *r = NULL, *f;
  bool mv[3] = {true, false, true};
  int64_t n3 = 3, n2 = 2;
  mask = hebb_from_buffer(HEBB_BOOL, 1, &n3, mv);
  CHECK("masked_select", hebb_masked_select(m, mask, &r) == HEBB_OK &&
        r->shape[0] == 4 && at(r, 1, 0) == 2 && at(r, 3, 0) == 5);
  hebb_release(r);
  CHECK("masked_fill", hebb_masked_fill(m, mask, -1) == HEBB_OK &&
        hebb_version_counter(m) == 1 &&
        at(m, 1, 0) == -1 && at(m, 1, 1) == 4 && at(m, 0, 2) == -1);
  hebb_release(mask);
  mask = hebb_from_buffer(HEBB_BOOL, 1, &n2, mv);
  CHECK("masked_fill_shape", hebb_masked_fill(m, mask, 0) == HEBB_ERR_SHAPE &&
        has("masked_fill: mask of shape {2} does not broadcast to the "
            "tensor's shape {2,3}"));
  f = hebb_zeros(HEBB_F64, 1, &n3);
  CHECK("mask_must_be_bool", hebb_masked_fill(m, f, 0) == HEBB_ERR_DTYPE &&
        has("the mask must be a bool tensor, got f64"));
  hebb_release(f);
  f = hebb_zeros(HEBB_I64, 1, &n3);
  hebb_release(mask);
  mask = hebb_full(HEBB_BOOL, 1, &n3, 1);
  CHECK("masked_fill_i64_range", hebb_masked_fill(f, mask, 1e300) ==
        HEBB_ERR_ARG && has("does not fit in i64"));
  hebb_release(f);
  hebb_release(mask);
  hebb_release(m);
}

static void test_join(void) {
  hebb_tensor *a = matrix(2, 3), *b = matrix(2, 2), *c, *ts[3];
  int64_t s[2] = {2, 3};
  ts[0] = a;
  ts[1] = b;
  ts[2] = a;
  c = hebb_cat(3, ts, 1);
  CHECK("cat", c && c->shape[1] == 8 && at(c, 1, 3) == 2 && at(c, 1, 5) == 3 &&
        at(c, 0, 7) == 2);
  hebb_release(c);
  CHECK("cat_mismatch", hebb_cat(3, ts, 0) == NULL &&
        has("cat: input 2 has shape {2,2}, but input 1 has {2,3} (they may "
            "differ only in dim 1)"));
  CHECK("stack_mismatch", hebb_stack(2, ts, 0) == NULL &&
        has("stack: input 2 has shape {2,2}, but input 1 has {2,3}"));
  hebb_release(b);
  b = hebb_full(HEBB_I64, 2, s, 7);
  ts[1] = b;
  c = hebb_stack(2, ts, 2);
  CHECK("stack_last", c && c->ndim == 3 && c->shape[2] == 2 &&
        c->dtype == HEBB_F64);
  hebb_release(c);
  c = hebb_stack(2, ts, 0);
  CHECK("stack_first", c && c->shape[0] == 2 && c->shape[1] == 2);
  hebb_release(c);
  CHECK("cat_none", hebb_cat(0, ts, 0) == NULL && has("no tensors"));
  hebb_release(b);
  hebb_release(a);
}

int main(void) {
  test_view_reshape();
  test_parts();
  test_rearrange();
  test_as_strided();
  test_index();
  test_masks();
  test_join();
  return check_done();
}
