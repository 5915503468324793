/*
** l_sparse.c -- the module `hebb.sparse`: sparse f64 and c128 matrices
** (CSR) as userdata with the metatable "hebb.Sparse", their constructors,
** products with tensors, arithmetic and the Lanczos eigensolver.
**
** A matrix is a box holding one reference to a core hebb_sparse, like a
** tensor; __gc, __close and S:free() release it.  Every function carries
** the tensor metatable as its first upvalue (the tensor helpers of
** lhebb.h need it); sparse arguments are checked by name.
**
** Autograd: a matrix is not a tensor, so a matrix built while recording
** from a values tensor that requires grad remembers where its values came
** from, in the box's user value: its "source" {rows = , cols = , vals = }
** (1-based i64 entry lists, duplicates allowed, and the tensor itself).
** S:matmul(x) and S:to_dense() then hand that tensor to autograd's
** recorder as an extra argument, so the rules in hebb.autograd_sparse can
** send gradients to it; t, conj, H, scaling and sums pass the source on,
** transforming the values with recorded tensor ops.
*/
#include <math.h>
#include <string.h>

#include "core.h"
#include "lhebb.h"

#define SPARSE_MT "hebb.Sparse"

/* --- the box ----------------------------------------------------------- */

static hebb_sparse *check_sparse(lua_State *L, int idx) {
  hebb_sparse **box = luaL_checkudata(L, idx, SPARSE_MT);
  if (!*box) luaL_error(L, "attempt to use a freed sparse matrix");
  return *box;
}

static hebb_sparse **new_box(lua_State *L) {
  hebb_sparse **box = lua_newuserdatauv(L, sizeof(hebb_sparse *), 1);
  *box = NULL;
  luaL_setmetatable(L, SPARSE_MT);
  return box;
}


/* Stores s into the box on top of the stack, or raises the core's error;
   big matrices are reported to the collector as debt, as tensors are. */
static int fill_box(lua_State *L, hebb_sparse *s) {
  hebb_sparse **box = lua_touserdata(L, -1);
  int64_t kb;
  *box = s;
  if (!s) return hebbL_raise(L);
  kb = (s->nnz * (8 + 8 * hebb_sparse_width(s->dtype)) + s->nrows * 8) >> 10;
  if (kb >= 256) lua_gc(L, LUA_GCSTEP, kb > (1 << 30) ? (1 << 30) : (int)kb);
  return 1;
}

static int s_free(lua_State *L) {
  hebb_sparse **box = luaL_checkudata(L, 1, SPARSE_MT);
  hebb_sparse_release(*box);
  *box = NULL;
  return 0;
}

/* --- arguments --------------------------------------------------------- */

/* The n indices at idx (a Lua table or a 1-d i64 tensor) as a contiguous
   array that stays alive on the stack (a userdata, or the tensor itself / a
   contiguous copy of it): one value is pushed. */
static const int64_t *check_indices(lua_State *L, int idx, int64_t *n,
                                    const char *what) {
  hebb_tensor *t;
  if (lua_type(L, idx) == LUA_TTABLE) {
    int64_t i, len = (int64_t)lua_rawlen(L, idx);
    int64_t *buf = lua_newuserdatauv(L, (size_t)(len > 0 ? len : 1) * 8, 0);
    for (i = 0; i < len; i++) {
      int ok;
      lua_rawgeti(L, idx, i + 1);
      buf[i] = lua_tointegerx(L, -1, &ok);
      if (!ok)
        luaL_error(L, "sparse.csr: %s[%d] is not an integer (a %s)", what,
                   (int)i + 1, luaL_typename(L, -1));
      lua_pop(L, 1);
    }
    *n = len;
    return buf;
  }
  t = hebbL_check(L, idx);
  if (t->ndim != 1)
    luaL_error(L, "sparse.csr: %s must be a 1-d tensor, got %d dimensions",
               what, t->ndim);
  if (t->dtype != HEBB_I64)
    luaL_error(L, "sparse.csr: %s must be an i64 tensor, got %s", what,
               hebb_dtype_name(t->dtype));
  *n = t->shape[0];
  if (hebb_is_contiguous(t)) lua_pushvalue(L, idx);
  else {
    hebbL_newbox(L);
    hebbL_fill_box(L, hebb_clone(t));
    t = *(hebb_tensor **)lua_touserdata(L, -1);
  }
  return (const int64_t *)hebb_first(t);
}

/* The value of a one-element tensor at idx as f64 or c128 (v[0], v[1]);
   returns the dtype. */
static int tensor_scalar(lua_State *L, hebb_tensor *t, double *v) {
  int dtype = hebb_is_complex(t->dtype) ? HEBB_C128 : HEBB_F64;
  hebb_tensor *c = hebb_astype(t, dtype);
  if (!c) hebbL_raise(L);
  memcpy(v, hebb_first(c), (size_t)hebb_sparse_width(dtype) * sizeof(double));
  hebb_release(c);
  return dtype;
}

/* A scalar at idx: a Lua number, a one-element tensor (T.complex(1, 2),
   T.I) or a {re, im} pair; sets v = (re, im) and returns F64 or C128
   (C128 for a pair), -1 when idx holds none of these. */
static int to_scalar(lua_State *L, int idx, double *v) {
  hebb_tensor *t;
  v[0] = v[1] = 0;
  if (lua_type(L, idx) == LUA_TNUMBER) {
    v[0] = lua_tonumber(L, idx);
    return HEBB_F64;
  }
  if (lua_type(L, idx) == LUA_TTABLE && lua_rawlen(L, idx) == 2) {
    int k, ok = 1;
    for (k = 0; k < 2; k++) {
      int isnum;
      lua_rawgeti(L, idx, k + 1);
      v[k] = lua_tonumberx(L, -1, &isnum);
      ok = ok && isnum;
      lua_pop(L, 1);
    }
    return ok ? HEBB_C128 : -1;
  }
  t = hebbL_test(L, idx);
  if (t && hebb_numel(t) == 1) return tensor_scalar(L, t, v);
  return -1;
}

/* The values at idx for nnz entries: one number or one-element tensor for
   every entry, a table of numbers, or a 1-d tensor (complex ones make a
   c128 matrix); want is the dtype asked for (-1: the values').  Returns
   nnz * width doubles that stay alive on the stack (one value pushed) and
   sets *dtype. */
static const double *check_values(lua_State *L, int idx, int64_t nnz,
                                  int want, int *dtype) {
  hebb_tensor *t = hebbL_test(L, idx);
  int64_t i;
  if (lua_type(L, idx) == LUA_TNUMBER || (t && t->ndim == 0)) {
    double v[2], *buf;
    int dt = to_scalar(L, idx, v), wd;
    if (want == HEBB_F64 && v[1] != 0)
      luaL_error(L, "sparse.csr: a complex value (imaginary part %f) for an "
                 "f64 matrix", v[1]);
    if (want >= 0) dt = want;
    wd = hebb_sparse_width(dt);
    buf = lua_newuserdatauv(L, (size_t)(nnz > 0 ? nnz : 1) * 8 * wd, 0);
    for (i = 0; i < nnz; i++) {
      buf[i * wd] = v[0];
      if (wd == 2) buf[2 * i + 1] = v[1];
    }
    *dtype = dt;
    return buf;
  }
  if (lua_type(L, idx) == LUA_TTABLE) {
    int64_t len = (int64_t)lua_rawlen(L, idx);
    int wd = hebb_sparse_width(*dtype = want >= 0 ? want : HEBB_F64);
    double *buf = lua_newuserdatauv(L, (size_t)(len > 0 ? len : 1) * 8 * wd,
                                    0);
    if (len != nnz)
      luaL_error(L, "sparse.csr: rows and cols have %d entries but vals has "
                 "%d", (int)nnz, (int)len);
    for (i = 0; i < len; i++) {
      int ok;
      lua_rawgeti(L, idx, i + 1);
      buf[i * wd] = lua_tonumberx(L, -1, &ok);
      if (wd == 2) buf[2 * i + 1] = 0;
      if (!ok)
        luaL_error(L, "sparse.csr: vals[%d] is not a number (a %s); complex "
                   "values come as a c128 tensor", (int)i + 1,
                   luaL_typename(L, -1));
      lua_pop(L, 1);
    }
    return buf;
  }
  if (!t)
    luaL_error(L, "sparse.csr: vals must be a number, a table of numbers or "
               "a tensor, got %s", luaL_typename(L, idx));
  if (t->ndim != 1)
    luaL_error(L, "sparse.csr: vals must be a 1-d tensor, got %d "
               "dimensions", t->ndim);
  if (t->shape[0] != nnz)
    luaL_error(L, "sparse.csr: rows and cols have %d entries but vals has %d",
               (int)nnz, (int)t->shape[0]);
  *dtype = want >= 0 ? want : hebb_is_complex(t->dtype) ? HEBB_C128 : HEBB_F64;
  if (t->dtype == *dtype && hebb_is_contiguous(t)) lua_pushvalue(L, idx);
  else {
    hebbL_newbox(L);
    hebbL_fill_box(L, hebb_astype(t, *dtype));
    t = *(hebb_tensor **)lua_touserdata(L, -1);
  }
  return (const double *)hebb_first(t);
}

static int64_t max_index(const int64_t *x, int64_t n) {
  int64_t i, m = 0;
  for (i = 0; i < n; i++)
    if (x[i] > m) m = x[i];
  return m;
}

/* shape {m, n} at idx; without one, the largest indices */
static void check_shape(lua_State *L, int idx, const int64_t *r,
                        const int64_t *c, int64_t nnz, int64_t *shape) {
  int k;
  if (lua_isnoneornil(L, idx)) {
    shape[0] = max_index(r, nnz);
    shape[1] = max_index(c, nnz);
    return;
  }
  luaL_checktype(L, idx, LUA_TTABLE);
  if (lua_rawlen(L, idx) != 2)
    luaL_error(L, "sparse.csr: shape must be a table {rows, cols}");
  for (k = 0; k < 2; k++) {
    int ok;
    lua_rawgeti(L, idx, k + 1);
    shape[k] = lua_tointegerx(L, -1, &ok);
    if (!ok || shape[k] < 0)
      luaL_error(L, "sparse.csr: shape[%d] must be a non-negative integer",
                 k + 1);
    lua_pop(L, 1);
  }
}

/* the dtype asked for by the options table at idx: -1 (none), f64, c128 */
static int want_dtype(lua_State *L, int idx, const char *who) {
  int d;
  if (!hebbL_checkopts(L, idx)) return -1;
  hebbL_checkkeys(L, idx, hebbL_dtype_keys);
  if (lua_getfield(L, idx, "dtype") == LUA_TNIL) {
    lua_pop(L, 1);
    return -1;
  }
  lua_pop(L, 1);
  d = hebbL_optdtype(L, idx, HEBB_F64);
  if (d == HEBB_C64) d = HEBB_C128;
  if (d != HEBB_F64 && d != HEBB_C128)
    luaL_error(L, "%s: sparse matrices are f64 or c128, not %s", who,
               hebb_dtype_name(d));
  return d;
}

/* --- autograd's view of the values -------------------------------------- */

/* pushes hebb.tensor's function name */
static void push_tensor_fn(lua_State *L, const char *name) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "hebb.tensor");
  lua_getfield(L, -1, name);
  lua_replace(L, -3);
  lua_pop(L, 1);
}

/* whether the value at idx is a tensor that autograd tracks */
static int is_tracked(lua_State *L, int idx) {
  hebb_tensor *t = hebbL_test(L, idx);
  return t && (t->flags & HEBB_TF_TRACKED);
}

/* Pushes the source table of the matrix at idx and returns 1, or pushes
   nil and returns 0.  Only while recording: outside it, results are
   constants. */
static int get_source(lua_State *L, int idx) {
  if (!hebbL_recording) {
    lua_pushnil(L);
    return 0;
  }
  if (lua_getiuservalue(L, idx, 1) == LUA_TTABLE) return 1;
  return 0;
}

/* an i64 tensor of the n int64 indices at x (made 1-based from base) */
static void push_indices(lua_State *L, const int64_t *x, int64_t n,
                         int64_t base) {
  hebb_tensor **b = hebbL_newbox(L);
  int64_t i, *y;
  hebbL_fill_box(L, hebb_empty(HEBB_I64, 1, &n));
  y = (int64_t *)hebb_first(*b);
  for (i = 0; i < n; i++) y[i] = x[i] - base + 1;
}

/* Makes {rows, cols, vals} (the values at top, the entry lists at r and c)
   the source of the matrix at box; pops the values. */
static void set_source(lua_State *L, int box, int r, int c) {
  lua_createtable(L, 0, 3);
  lua_insert(L, -2);
  lua_setfield(L, -2, "vals");
  lua_pushvalue(L, r);
  lua_setfield(L, -2, "rows");
  lua_pushvalue(L, c);
  lua_setfield(L, -2, "cols");
  lua_setiuservalue(L, box, 1);
}

/* the rows, cols (1-based i64) and vals of the stored entries of s */
static void push_stored(lua_State *L, const hebb_sparse *s) {
  int64_t i, p, *r;
  hebb_tensor **rb = hebbL_newbox(L);
  hebbL_fill_box(L, hebb_empty(HEBB_I64, 1, &s->nnz));
  r = (int64_t *)hebb_first(*rb);
  for (i = 0; i < s->nrows; i++)
    for (p = s->rowptr[i]; p < s->rowptr[i + 1]; p++) r[p] = i + 1;
  push_indices(L, s->col, s->nnz, 0);
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_from_buffer(s->dtype, 1, &s->nnz, s->val));
}

/* The rows, cols and vals of the matrix at idx: its source, or its stored
   entries (constants). */
static void push_entries(lua_State *L, int idx) {
  hebb_sparse *s = check_sparse(L, idx);
  if (get_source(L, idx)) {
    int src = lua_gettop(L);
    lua_getfield(L, src, "rows");
    lua_getfield(L, src, "cols");
    lua_getfield(L, src, "vals");
    lua_remove(L, src);
    return;
  }
  lua_pop(L, 1);
  push_stored(L, s);
}

/* Gives the matrix on top of the stack (made from the one at idx) the
   source of idx transformed: swap exchanges rows and cols, conj
   conjugates the values, a scale at 'scale' (0: none) multiplies them.
   Through hebb.tensor's functions, so the transformation is recorded. */
static void derive_source(lua_State *L, int idx, int swap, int conj,
                          int scale) {
  int res = lua_gettop(L), src;
  if (!get_source(L, idx)) {
    lua_settop(L, res);
    return;
  }
  src = res + 1;
  lua_getfield(L, src, swap ? "cols" : "rows");
  lua_getfield(L, src, swap ? "rows" : "cols");
  lua_getfield(L, src, "vals");
  if (conj && hebb_is_complex(hebbL_check(L, -1)->dtype)) {
    push_tensor_fn(L, "conj");
    lua_insert(L, -2);
    lua_call(L, 1, 1);
  }
  if (scale) {
    push_tensor_fn(L, "mul");
    lua_insert(L, -2);
    lua_pushvalue(L, scale);
    lua_call(L, 2, 1);
  }
  set_source(L, res, res + 2, res + 3);
  lua_settop(L, res);
}

/* T.cat{a, b} of the values at a and b, pushed */
static void cat2(lua_State *L, int a, int b) {
  push_tensor_fn(L, "cat");
  lua_createtable(L, 2, 0);
  lua_pushvalue(L, a);
  lua_rawseti(L, -2, 1);
  lua_pushvalue(L, b);
  lua_rawseti(L, -2, 2);
  lua_call(L, 1, 1);
}

/* The source of a + beta b (result on top of the stack): both entry lists
   and values one after the other, a constant operand's values its stored
   ones. */
static void sum_source(lua_State *L, int a, int b, double beta) {
  int res = lua_gettop(L), ha, hb, e;
  ha = get_source(L, a);
  hb = get_source(L, b);
  lua_settop(L, res);
  if (!ha && !hb) return;
  push_entries(L, a);   /* res + 1..3 */
  push_entries(L, b);   /* res + 4..6 */
  if (beta != 1) {
    push_tensor_fn(L, "mul");
    lua_insert(L, -2);
    lua_pushnumber(L, beta);
    lua_call(L, 2, 1);
  }
  for (e = 1; e <= 3; e++) cat2(L, res + e, res + e + 3);   /* res + 7..9 */
  set_source(L, res, res + 7, res + 8);
  lua_settop(L, res);
}

/* Pushes the scalar v of dtype as a Lua number or a 0-d c128 tensor. */
static void push_scalar(lua_State *L, const double *v, int dtype) {
  hebb_tensor **b;
  if (dtype == HEBB_F64) {
    lua_pushnumber(L, v[0]);
    return;
  }
  b = hebbL_newbox(L);
  hebbL_fill_box(L, hebb_empty(HEBB_C128, 0, NULL));
  memcpy(hebb_first(*b), v, 2 * sizeof(double));
}

/* --- construction ------------------------------------------------------ */

/* sparse.csr(rows, cols, vals [, shape] [, opts]) */
static int l_csr(lua_State *L) {
  int64_t nr, nc, shape[2];
  const int64_t *r, *c;
  const double *v;
  int want, dtype, opts = 5;
  lua_settop(L, 5);   /* the arrays below are pushed above the arguments */
  if (lua_istable(L, 4) && lua_rawlen(L, 4) == 0 && lua_isnil(L, 5)) {
    lua_copy(L, 4, 5);   /* csr(rows, cols, vals, opts) */
    lua_pushnil(L);
    lua_replace(L, 4);
  }
  want = want_dtype(L, opts, "sparse.csr");
  r = check_indices(L, 1, &nr, "rows");   /* 6 */
  c = check_indices(L, 2, &nc, "cols");   /* 7 */
  if (nr != nc)
    luaL_error(L, "sparse.csr: rows has %d entries but cols has %d", (int)nr,
               (int)nc);
  v = check_values(L, 3, nr, want, &dtype);
  check_shape(L, 4, r, c, nr, shape);
  new_box(L);
  fill_box(L, hebb_sparse_from_coo_as(dtype, shape[0], shape[1], nr, r, c,
                                      v, 1));
  if (hebbL_recording && is_tracked(L, 3)) {
    int box = lua_gettop(L);
    push_indices(L, r, nr, 1);
    push_indices(L, c, nr, 1);
    lua_pushvalue(L, 3);
    set_source(L, box, box + 1, box + 2);
    lua_settop(L, box);
  }
  return 1;
}

/* S:with_values(vals): S's pattern, new values in S:triplets() order */
static int s_with_values(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  const int64_t *r, *c;
  const double *v;
  int want, dtype;
  lua_settop(L, 3);
  want = want_dtype(L, 3, "sparse.with_values");
  if (lua_type(L, 2) == LUA_TTABLE || hebbL_test(L, 2)) {
    hebb_tensor *t = hebbL_test(L, 2);
    int64_t n = t ? (t->ndim == 1 ? t->shape[0] : -1)
                  : (int64_t)lua_rawlen(L, 2);
    if (n != s->nnz && !(t && t->ndim == 0))
      luaL_error(L, "sparse.with_values: the matrix has %d stored entries "
                 "but vals has %d%s", (int)s->nnz, (int)(n < 0 ? 0 : n),
                 n < 0 ? " (not a 1-d tensor)" : "");
  }
  v = check_values(L, 2, s->nnz, want, &dtype);   /* 4 */
  push_stored(L, s);    /* 5, 6, 7 (vals: dropped) */
  lua_pop(L, 1);
  r = (const int64_t *)hebb_first(hebbL_check(L, 5));
  c = (const int64_t *)hebb_first(hebbL_check(L, 6));
  new_box(L);           /* 7 */
  fill_box(L, hebb_sparse_from_coo_as(dtype, s->nrows, s->ncols, s->nnz, r,
                                      c, v, 1));
  if (hebbL_recording && is_tracked(L, 2)) {
    lua_pushvalue(L, 2);
    set_source(L, 7, 5, 6);
  }
  return 1;
}

/* When A requires grad, the result's source is A's elements at the stored
   positions, gathered by recorded tensor ops. */
static int l_from_dense(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1);
  double tol = luaL_optnumber(L, 2, 0);
  hebb_sparse *s;
  int64_t p, *lin;
  const int64_t *r;
  hebb_tensor **lb;
  lua_settop(L, 2);
  new_box(L);   /* 3 */
  fill_box(L, s = hebb_sparse_from_dense(a, tol));
  if (!hebbL_recording || !is_tracked(L, 1)) return 1;
  push_stored(L, s);   /* 4, 5, 6 */
  lua_pop(L, 1);
  lb = hebbL_newbox(L);   /* 6: the positions in A flattened, 1-based */
  hebbL_fill_box(L, hebb_empty(HEBB_I64, 1, &s->nnz));
  lin = (int64_t *)hebb_first(*lb);
  r = (const int64_t *)hebb_first(hebbL_check(L, 4));
  for (p = 0; p < s->nnz; p++) lin[p] = (r[p] - 1) * s->ncols + s->col[p] + 1;
  push_tensor_fn(L, "index_select");
  push_tensor_fn(L, "reshape");
  lua_pushvalue(L, 1);
  lua_pushinteger(L, s->nrows * s->ncols);
  lua_call(L, 2, 1);
  lua_pushinteger(L, 1);
  lua_pushvalue(L, 6);
  lua_call(L, 3, 1);   /* 7: A's values at the entries */
  set_source(L, 3, 4, 5);
  lua_settop(L, 3);
  return 1;
}

static int l_eye(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1), i;
  int64_t *idx;
  double *one;
  luaL_argcheck(L, n >= 0, 1, "size must be non-negative");
  hebbL_check_status(L, hebb_check_shape(1, &(int64_t){n}, NULL,
                                         "sparse.eye"));
  idx = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * 8, 0);
  one = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * 8, 0);
  for (i = 0; i < n; i++) {
    idx[i] = i;
    one[i] = 1;
  }
  new_box(L);
  return fill_box(L, hebb_sparse_from_coo(n, n, n, idx, idx, one, 0));
}

static int l_diag(lua_State *L) {
  int64_t n, i, *idx;
  const double *d;
  int dtype;
  hebb_tensor *t = hebbL_test(L, 1);
  lua_settop(L, 1);
  if (t && t->ndim != 1)
    luaL_error(L, "sparse.diag: d must be a 1-d tensor, got %d dimensions",
               t->ndim);
  if (!t) luaL_checktype(L, 1, LUA_TTABLE);
  n = t ? t->shape[0] : (int64_t)lua_rawlen(L, 1);
  d = check_values(L, 1, n, -1, &dtype);
  idx = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * 8, 0);   /* 3 */
  for (i = 0; i < n; i++) idx[i] = i;
  new_box(L);   /* 4 */
  fill_box(L, hebb_sparse_from_coo_as(dtype, n, n, n, idx, idx, d, 0));
  if (hebbL_recording && is_tracked(L, 1)) {   /* remembers d */
    push_indices(L, idx, n, 0);
    lua_pushvalue(L, 1);
    set_source(L, 4, 5, 5);
    lua_settop(L, 4);
  }
  return 1;
}

static int l_lattice(lua_State *L) {
  int64_t dims[HEBB_MAXDIM];
  int next, ndim = hebbL_checkshape(L, 1, dims, &next), nnn = 0, periodic = 1;
  if (!lua_isnoneornil(L, 2)) {
    const char *kind;
    luaL_checktype(L, 2, LUA_TTABLE);
    hebbL_checkkeys(L, 2, (const char *const[]){"neighbors", "periodic",
                                                NULL});
    lua_getfield(L, 2, "periodic");
    periodic = lua_isnil(L, -1) || lua_toboolean(L, -1);
    lua_getfield(L, 2, "neighbors");
    kind = luaL_optstring(L, -1, "nearest");
    if (strcmp(kind, "next-nearest") == 0) nnn = 1;
    else if (strcmp(kind, "nearest") != 0)
      luaL_error(L, "sparse.lattice: neighbors must be \"nearest\" or "
                 "\"next-nearest\", got \"%s\"", kind);
    lua_pop(L, 2);
  }
  new_box(L);
  return fill_box(L, hebb_sparse_lattice(ndim, dims, periodic, nnn));
}

/* --- inspection -------------------------------------------------------- */

static int to_dense_raw(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_sparse_to_dense(s));
  return 1;
}

/* with a recorded source, the values tensor goes to the recorder as a
   second argument */
static int s_to_dense(lua_State *L) {
  check_sparse(L, 1);
  lua_settop(L, 1);
  if (!get_source(L, 1)) return to_dense_raw(L);
  lua_getfield(L, 2, "vals");
  lua_remove(L, 2);
  return hebbL_record_call(L, "sparse.to_dense", to_dense_raw);
}

/* rows, cols, vals of the source autograd follows, or nothing */
static int s_source(lua_State *L) {
  check_sparse(L, 1);
  if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE) return 0;
  lua_getfield(L, 2, "rows");
  lua_getfield(L, 2, "cols");
  lua_getfield(L, 2, "vals");
  return 3;
}

static int s_nnz(lua_State *L) {
  lua_pushinteger(L, check_sparse(L, 1)->nnz);
  return 1;
}

static int s_diagonal(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  hebb_tensor *res, **box = hebbL_result_slot(L, hebbL_outopts(L, 2), &res);
  int st = hebb_sparse_diagonal(s, &res);   /* before reading res */
  hebbL_finish(L, box, &res, st);
  return 1;
}

/* rows, cols (1-based i64) and vals (f64 or c128) of the stored entries */
static int s_triplets(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  push_stored(L, s);
  return 3;
}

/* S.shape, S.nrows, S.ncols, S.dtype, then the methods (upvalue 2) */
static int s_index(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  const char *k = lua_tostring(L, 2);
  if (k && strcmp(k, "shape") == 0) {
    lua_createtable(L, 2, 0);
    lua_pushinteger(L, s->nrows);
    lua_rawseti(L, -2, 1);
    lua_pushinteger(L, s->ncols);
    lua_rawseti(L, -2, 2);
  }
  else if (k && strcmp(k, "nrows") == 0) lua_pushinteger(L, s->nrows);
  else if (k && strcmp(k, "ncols") == 0) lua_pushinteger(L, s->ncols);
  else if (k && strcmp(k, "dtype") == 0)
    lua_pushstring(L, hebb_dtype_name(s->dtype));
  else {
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(2));
  }
  return 1;
}

/* at most this many entries are listed by tostring */
#define SHOW_ENTRIES 12

static void add_value(luaL_Buffer *b, lua_State *L, const hebb_sparse *s,
                      int64_t p) {
  if (s->dtype != HEBB_C128) {
    lua_pushnumber(L, s->val[p]);
    luaL_addvalue(b);
    return;
  }
  lua_pushnumber(L, s->val[2 * p]);
  luaL_addvalue(b);
  if (!signbit(s->val[2 * p + 1])) luaL_addchar(b, '+');
  lua_pushnumber(L, s->val[2 * p + 1]);
  luaL_addvalue(b);
  luaL_addchar(b, 'i');
}

static int s_tostring(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  luaL_Buffer b;
  int64_t i, p, shown = 0;
  luaL_buffinit(L, &b);
  lua_pushfstring(L, "sparse %I x %I, %I stored entries (CSR, %s)",
                  (lua_Integer)s->nrows, (lua_Integer)s->ncols,
                  (lua_Integer)s->nnz, hebb_dtype_name(s->dtype));
  luaL_addvalue(&b);
  for (i = 0; i < s->nrows && shown < SHOW_ENTRIES; i++)
    for (p = s->rowptr[i]; p < s->rowptr[i + 1] && shown < SHOW_ENTRIES;
         p++, shown++) {
      lua_pushfstring(L, "\n  (%I, %I)  ", (lua_Integer)i + 1,
                      (lua_Integer)s->col[p] + 1);
      luaL_addvalue(&b);
      add_value(&b, L, s, p);
    }
  if (s->nnz > shown) luaL_addstring(&b, "\n  ...");
  luaL_pushresult(&b);
  return 1;
}

/* --- products and arithmetic ------------------------------------------- */

static int matmul_raw(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  hebb_tensor *x = hebbL_check(L, 2), *res;
  hebb_tensor **box = hebbL_result_slot(L, hebbL_outopts(L, 3), &res);
  int st = hebb_sparse_matmul(s, x, &res);   /* before reading res */
  hebbL_finish(L, box, &res, st);
  return 1;
}

/* Registered raw (autograd's hook sees only tensor arguments): records
   "sparse.matmul" with arguments (S, x, opts, vals), vals the values
   tensor of S's source when it has one. */
static int s_matmul(lua_State *L) {
  check_sparse(L, 1);
  if (!hebbL_recording) return matmul_raw(L);
  lua_settop(L, 3);
  if (get_source(L, 1)) {
    lua_getfield(L, 4, "vals");
    lua_remove(L, 4);
  }
  else lua_settop(L, lua_isnil(L, 3) ? 2 : 3);
  return hebbL_record_call(L, "sparse.matmul", matmul_raw);
}

/* a second box holding another reference to the same immutable matrix */
static int s_share(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  new_box(L);
  hebb_sparse_retain(s);
  fill_box(L, s);
  derive_source(L, 1, 0, 0, 0);
  return 1;
}

static int s_t(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  new_box(L);
  fill_box(L, hebb_sparse_transpose(s));
  derive_source(L, 1, 1, 0, 0);
  return 1;
}

static int s_conj(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  new_box(L);
  fill_box(L, hebb_sparse_conj(s));
  derive_source(L, 1, 0, 1, 0);
  return 1;
}

/* the conjugate transpose */
static int s_H(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1), *t, **box;
  box = new_box(L);
  t = hebb_sparse_transpose(s);
  if (!t) return hebbL_raise(L);
  *box = hebb_sparse_conj(t);
  hebb_sparse_release(t);
  fill_box(L, *box);
  derive_source(L, 1, 1, 1, 0);
  return 1;
}

static int s_astype(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  int d = hebbL_checkdtype(L, 2);
  if (d == HEBB_C64) d = HEBB_C128;
  new_box(L);
  return fill_box(L, hebb_sparse_astype(s, d));
}

static int combine(lua_State *L, double beta) {
  hebb_sparse *a, *b;
  if (!luaL_testudata(L, 1, SPARSE_MT) || !luaL_testudata(L, 2, SPARSE_MT))
    luaL_error(L, "sparse: + and - need two sparse matrices (got %s and %s); "
               "use S:to_dense() to mix with tensors", luaL_typename(L, 1),
               luaL_typename(L, 2));
  a = check_sparse(L, 1);
  b = check_sparse(L, 2);
  lua_settop(L, 2);
  new_box(L);
  fill_box(L, hebb_sparse_add(a, b, 1, beta));
  sum_source(L, 1, 2, beta);
  return 1;
}

static int s_add(lua_State *L) { return combine(L, 1); }
static int s_sub(lua_State *L) { return combine(L, -1); }

/* s times the scalar at ni (inverted: divided by it) */
static int scale_by(lua_State *L, int si, int ni, int invert) {
  hebb_sparse *s = check_sparse(L, si);
  double v[2];
  int dt = to_scalar(L, ni, v);
  lua_settop(L, 2);
  if (dt < 0)
    luaL_error(L, "sparse: %s by a number, a complex number (a one-element "
               "c128 tensor or a {re, im} pair), got %s; use S:matmul(x) for "
               "products", invert ? "/ divides" : "* scales",
               luaL_typename(L, ni));
  if (invert) {   /* 1 / (a + bi) = (a - bi) / (a^2 + b^2) */
    double d = v[0] * v[0] + v[1] * v[1];
    if (dt == HEBB_F64) v[0] = 1 / v[0];
    else {
      v[0] = v[0] / d;
      v[1] = -v[1] / d;
    }
  }
  push_scalar(L, v, dt);   /* 3 */
  new_box(L);
  fill_box(L, dt == HEBB_F64 ? hebb_sparse_scale(s, v[0])
                             : hebb_sparse_zscale(s, v[0], v[1]));
  derive_source(L, si, 0, 0, 3);
  return 1;
}

static int s_mul(lua_State *L) {
  int si = luaL_testudata(L, 1, SPARSE_MT) ? 1 : 2;
  return scale_by(L, si, 3 - si, 0);
}

static int s_scale(lua_State *L) { return scale_by(L, 1, 2, 0); }

static int s_div(lua_State *L) {
  if (!luaL_testudata(L, 1, SPARSE_MT))
    luaL_error(L, "sparse: / divides a sparse matrix by a number (got a %s "
               "divided by a sparse matrix)", luaL_typename(L, 1));
  return scale_by(L, 1, 2, 1);
}

static int s_unm(lua_State *L) {
  lua_settop(L, 1);
  lua_pushinteger(L, -1);
  return scale_by(L, 1, 2, 0);
}

/* --- eigensolver ------------------------------------------------------- */

static int l_eigsh(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  lua_Integer k = luaL_checkinteger(L, 2), maxiter = 1000, ncv = 0, seed = 0;
  double tol = 1e-10;
  int largest = 0;
  hebb_tensor **wb, **vb, *w = NULL, *v = NULL;
  int status;
  if (!lua_isnoneornil(L, 3)) {
    const char *which;
    luaL_checktype(L, 3, LUA_TTABLE);
    hebbL_checkkeys(L, 3, (const char *const[]){"maxiter", "ncv", "seed",
                                                "tol", "which", NULL});
    lua_getfield(L, 3, "which");
    which = luaL_optstring(L, -1, "smallest");
    if (strcmp(which, "largest") == 0) largest = 1;
    else if (strcmp(which, "smallest") != 0)
      luaL_error(L, "sparse.eigsh: which must be \"smallest\" or \"largest\", "
                 "got \"%s\"", which);
    lua_getfield(L, 3, "tol");
    tol = luaL_optnumber(L, -1, tol);
    lua_getfield(L, 3, "maxiter");
    maxiter = luaL_optinteger(L, -1, maxiter);
    lua_getfield(L, 3, "ncv");
    ncv = luaL_optinteger(L, -1, ncv);
    lua_getfield(L, 3, "seed");
    seed = luaL_optinteger(L, -1, seed);
    lua_pop(L, 5);
  }
  wb = hebbL_newbox(L);
  vb = hebbL_newbox(L);
  status = hebb_sparse_eigsh(s, k, largest, tol, maxiter, ncv,
                             (uint64_t)seed, &w, &v);
  *wb = w;
  *vb = v;
  hebbL_check_status(L, status);
  return 2;
}

/* --- registration ------------------------------------------------------ */

static const hebb_lreg sparse_funcs[] = {
  {"csr", l_csr, HEBB_FN,
   "sparse.csr(rows, cols, vals [, shape] [, opts])\n\nThe sparse matrix "
   "with entries A[rows[k], cols[k]] = vals[k]: rows and cols are 1-based "
   "indices (tables of integers or 1-d i64 tensors), vals a table of "
   "numbers, a 1-d tensor, or one value for every entry (a number or a "
   "one-element tensor); shape = {m, n} (default: the largest indices).  "
   "Entries given more than once are summed, so a list of bonds or "
   "couplings can be fed in as it comes.  Stored in compressed sparse row "
   "form, f64, or c128 when vals is complex or opts.dtype = \"c128\".  When "
   "vals is a tensor that requires grad, the matrix remembers it: S:matmul "
   "and S:to_dense are then differentiable with respect to vals."},
  {"coo", l_csr, HEBB_FN,
   "sparse.coo(rows, cols, vals [, shape] [, opts])\n\nThe same as "
   "sparse.csr: a matrix from coordinate (triplet) lists, duplicates summed."
   "  Every matrix is stored as CSR; S:triplets() gives the coordinate lists "
   "back."},
  {"from_dense", l_from_dense, HEBB_FN,
   "sparse.from_dense(A [, tol])\n\nThe sparse matrix of the entries of the "
   "2-d tensor A with |A[i][j]| > tol (default 0: the non-zeros); c128 when "
   "A is complex, else f64.  When A requires grad the matrix remembers A's "
   "elements at its entries, so S:matmul is differentiable with respect to "
   "A (at the stored positions)."},
  {"eye", l_eye, HEBB_FN,
   "sparse.eye(n)\n\nThe n x n identity as a sparse f64 matrix."},
  {"diag", l_diag, HEBB_FN,
   "sparse.diag(d)\n\nThe square sparse matrix with the vector d (a 1-d "
   "tensor, complex or real, or a table of numbers) on its diagonal, e.g. a "
   "degree matrix or an on-site potential (remembered for autograd when d "
   "requires grad)."},
  {"lattice", l_lattice, HEBB_FN,
   "sparse.lattice(dims [, opts])\n\nThe adjacency matrix of the hypercubic "
   "lattice with sides dims = {L1, ..., Ld} (what graph.lattice uses; see "
   "there for the numbering of sites).  opts: periodic (default true), "
   "neighbors = \"nearest\" (default) or \"next-nearest\"."},
  {"eigsh", l_eigsh, HEBB_FN,
   "sparse.eigsh(S, k [, opts])\n\nThe k smallest (or largest) eigenvalues "
   "of the symmetric (f64) or Hermitian (c128) sparse matrix S, ascending "
   "(f64), and their eigenvectors as the columns of an n x k tensor of S's "
   "dtype: w, V = sparse.eigsh(S, k).  Lanczos with full "
   "reorthogonalization and locking, so degenerate eigenvalues come out "
   "with their multiplicity; a matrix that is not symmetric (Hermitian) is "
   "refused.  opts: which = \"smallest\" (default) "
   "or \"largest\"; tol (residual |S v - w v| relative to the largest "
   "|w| seen, default 1e-10); maxiter (restarts, default 1000); ncv (Krylov "
   "basis size, default max(100, 2k + 20) capped at n); seed (start "
   "vectors, default 0).  Meant for a few eigenpairs of matrices up to some "
   "10^4 rows; a near-degenerate end of the spectrum needs a larger ncv."},
  {"matmul", s_matmul, HEBB_BOTH | HEBB_RAW,
   "S:matmul(x [, opts])\n\nThe product S x with a 1-d vector (length "
   "ncols) or a 2-d matrix (ncols x k) tensor: f64 when S and x are real, "
   "else c128.  opts.out reuses a contiguous result.  Rows run in parallel "
   "and each row is a fixed ordered sum, so the bits do not depend on the "
   "thread count.  Differentiable with respect to x, and to the values "
   "tensor S was built from when that requires grad."},
  {"to_dense", s_to_dense, HEBB_BOTH | HEBB_RAW,
   "S:to_dense()\n\nThe matrix as a dense 2-d tensor of its dtype "
   "(differentiable with respect to the values tensor S remembers)."},
  {"t", s_t, HEBB_BOTH,
   "S:t()\n\nThe transpose, as a new sparse matrix."},
  {"conj", s_conj, HEBB_BOTH,
   "S:conj()\n\nThe complex conjugate (an f64 matrix: the same values)."},
  {"H", s_H, HEBB_BOTH,
   "S:H()\n\nThe conjugate transpose S^H (S:t() for an f64 matrix)."},
  {"astype", s_astype, HEBB_BOTH,
   "S:astype(dtype)\n\nThe matrix converted to \"f64\" or \"c128\" (to f64 "
   "only when every imaginary part is zero)."},
  {"scale", s_scale, HEBB_BOTH,
   "S:scale(z)\n\nz S for a number, or a complex number given as a "
   "one-element c128 tensor (T.complex(a, b), T.I) or a pair {re, im}; a "
   "complex z gives a c128 matrix.  The same as S * z (put the matrix "
   "first: a tensor's * does not know sparse matrices)."},
  {"with_values", s_with_values, HEBB_BOTH,
   "S:with_values(vals [, opts])\n\nThe matrix with S's pattern and the "
   "values vals (1-d, one per stored entry, in S:triplets() order; "
   "opts.dtype = \"c128\" makes it complex).  When vals requires grad, the "
   "result remembers it, as sparse.csr does."},
  {"source", s_source, HEBB_BOTH,
   "S:source()\n\nrows, cols, vals: the entry lists and the values tensor "
   "autograd follows for S (what it was built from with a values tensor "
   "that requires grad, transformed by t, conj, H, scaling and sums), or "
   "nothing for a constant matrix."},
  {"nnz", s_nnz, HEBB_BOTH,
   "S:nnz()\n\nThe number of stored entries (explicit zeros included)."},
  {"diagonal", s_diagonal, HEBB_BOTH,
   "S:diagonal([opts])\n\nThe main diagonal as a 1-d tensor of S's dtype "
   "of length min(rows, cols)."},
  {"triplets", s_triplets, HEBB_BOTH,
   "S:triplets()\n\nThe stored entries as three 1-d tensors rows, cols "
   "(1-based, i64) and vals (f64 or c128), row by row with increasing "
   "columns: sparse.csr(S:triplets()) rebuilds S."},
  {"share", s_share, HEBB_BOTH,
   "S:share()\n\nA second handle on the same matrix, at no cost (matrices "
   "never change once built); freeing one handle leaves the other valid."},
  {"free", s_free, HEBB_BOTH,
   "S:free()\n\nReleases the matrix now (it is also released when "
   "collected, or at the end of a `local S <close>` scope); using it "
   "afterwards is an error."},
  {NULL, NULL, 0, NULL}
};

/* entries of the "hebb.Sparse" metatable */
static const hebb_lreg sparse_meta[] = {
  {"__gc", s_free, HEBB_FN, NULL},
  {"__close", s_free, HEBB_FN, NULL},
  {"__tostring", s_tostring, HEBB_FN, NULL},
  {"__add", s_add, HEBB_FN, NULL},
  {"__sub", s_sub, HEBB_FN, NULL},
  {"__mul", s_mul, HEBB_FN, NULL},
  {"__div", s_div, HEBB_FN, NULL},
  {"__unm", s_unm, HEBB_FN, NULL},
  {NULL, NULL, 0, NULL}
};

/* for other bindings: pushes the new matrix s (NULL: raises the core's
   error) as a sparse matrix of this module (which must be loaded) */
void hebbL_push_sparse(lua_State *L, hebb_sparse *s) {
  new_box(L);
  fill_box(L, s);
}

int luaopen_hebb_sparse(lua_State *L) {
  int module, methods, tmt, smt;
  luaL_requiref(L, "hebb.tensor", luaopen_hebb_tensor, 0);
  lua_pop(L, 1);
  lua_newtable(L);
  module = lua_gettop(L);
  lua_newtable(L);
  methods = lua_gettop(L);
  luaL_getmetatable(L, HEBB_TENSOR_MT);
  tmt = lua_gettop(L);
  luaL_newmetatable(L, SPARSE_MT);
  smt = lua_gettop(L);
  hebbL_register_as(L, sparse_funcs, "sparse.", module, methods, tmt);
  hebbL_register_as(L, sparse_meta, "sparse.", smt, smt, tmt);
  lua_pushvalue(L, tmt);
  lua_pushvalue(L, methods);
  lua_pushcclosure(L, s_index, 2);
  lua_setfield(L, smt, "__index");
  lua_settop(L, module);
  hebbL_setdoc(L, module, "hebb.sparse\n\nSparse f64 and c128 matrices "
               "(compressed sparse row) for couplings, hopping Hamiltonians "
               "and graph operators: built from triplets or dense tensors, "
               "multiplied with vectors and matrices (S:matmul), transposed "
               "and conjugated, added, scaled, and diagonalized at the ends "
               "of their spectrum (sparse.eigsh); differentiable with "
               "respect to the dense operand and to a values tensor.");
  return 1;
}
