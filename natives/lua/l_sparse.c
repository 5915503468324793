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
** Autograd: a matrix is not a tensor, so what autograd follows is the
** values tensor a matrix was built from.  That is Lua's business
** (stdlib/hebb/_autograd_sparse.lua): while autograd records, every
** function here that makes a matrix from values or from another matrix
** hands the new matrix and its own arguments to the hook table that file
** installs (sparse._follow), and S:matmul(x) / S:to_dense() ask it for the
** values tensor to hand the recorder as an extra argument.
*/
#include <math.h>
#include <string.h>

#include "lhebb.h"

#define SPARSE_MT "hebb.Sparse"
static const char FOLLOW_KEY[] = "hebb.sparse.follow";

/* --- the box ----------------------------------------------------------- */

/* doubles per stored value: 1 (f64) or 2 (c128) */
static int width(int dtype) {
  return hebb_dtype_size(dtype) / (int)sizeof(double);
}

static hebb_sparse *check_sparse(lua_State *L, int idx) {
  hebb_sparse **box = luaL_checkudata(L, idx, SPARSE_MT);
  if (!*box) luaL_error(L, "attempt to use a freed sparse matrix");
  return *box;
}

static hebb_sparse **new_box(lua_State *L) {
  hebb_sparse **box = lua_newuserdatauv(L, sizeof(hebb_sparse *), 0);
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
  kb = (hebb_sparse_nnz(s) * (8 + 8 * width(hebb_sparse_dtype(s))) +
        hebb_sparse_nrows(s) * 8) >> 10;
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
  memcpy(v, hebb_first(c), (size_t)width(dtype) * sizeof(double));
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
    wd = width(dt);
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
    int wd = width(*dtype = want >= 0 ? want : HEBB_F64);
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

/* --- what autograd follows ------------------------------------------------ */

/* Calls hook[op](res, the n values from index first on) of the table
   sparse._follow installed (res: 0 for nil, else a stack index) and leaves
   nres results on the stack; without a hook for op, nres nils. */
static void ask(lua_State *L, const char *op, int res, int first, int n,
                int nres) {
  int i, top = lua_gettop(L);
  if (lua_getfield(L, LUA_REGISTRYINDEX, FOLLOW_KEY) != LUA_TTABLE ||
      lua_getfield(L, -1, op) != LUA_TFUNCTION) {
    lua_settop(L, top);
    for (i = 0; i < nres; i++) lua_pushnil(L);
    return;
  }
  lua_remove(L, -2);
  if (res) lua_pushvalue(L, res);
  else lua_pushnil(L);
  for (i = 0; i < n; i++) lua_pushvalue(L, first + i);
  lua_call(L, n + 1, nres);
}

/* sparse._follow(hooks): installs the table of hooks (ask's) */
static int l_follow(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, FOLLOW_KEY);
  return 0;
}

/* While autograd records: tells the hook about the new matrix on top of
   the stack, made by op from the n values from index first on; returns 1
   (the matrix).  Autograd loads its sparse part, which installs the hooks,
   here on first use (docs/performance.md, "the resident heap"): until a
   matrix is followed, no hook has anything to tell. */
static int follow(lua_State *L, const char *op, int first, int n) {
  if (!hebbL_recording(L)) return 1;
  if (lua_getfield(L, LUA_REGISTRYINDEX, FOLLOW_KEY) != LUA_TTABLE) {
    lua_pop(L, 1);
    hebbL_require(L, "hebb._autograd_sparse");
  }
  lua_pop(L, 1);
  ask(L, op, lua_gettop(L), first, n, 0);
  return 1;
}

/* the rows, cols (1-based i64) and vals of the stored entries of s */
static void push_stored(lua_State *L, const hebb_sparse *s) {
  int64_t i, p, n = hebb_sparse_nnz(s), *r, *c;
  const int64_t *rowptr = hebb_sparse_rowptr(s), *col = hebb_sparse_colind(s);
  hebb_tensor **rb = hebbL_newbox(L), **cb;
  hebbL_fill_box(L, hebb_empty(HEBB_I64, 1, &n));
  r = (int64_t *)hebb_first(*rb);
  for (i = 0; i < hebb_sparse_nrows(s); i++)
    for (p = rowptr[i]; p < rowptr[i + 1]; p++) r[p] = i + 1;
  cb = hebbL_newbox(L);
  hebbL_fill_box(L, hebb_empty(HEBB_I64, 1, &n));
  c = (int64_t *)hebb_first(*cb);
  for (p = 0; p < n; p++) c[p] = col[p] + 1;
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_from_buffer(hebb_sparse_dtype(s), 1, &n,
                                     hebb_sparse_values(s)));
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
  return follow(L, "csr", 1, 3);
}

/* S:with_values(vals): S's pattern, new values in S:triplets() order */
static int s_with_values(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  int64_t nnz = hebb_sparse_nnz(s);
  const int64_t *r, *c;
  const double *v;
  int want, dtype;
  lua_settop(L, 3);
  want = want_dtype(L, 3, "sparse.with_values");
  if (lua_type(L, 2) == LUA_TTABLE || hebbL_test(L, 2)) {
    hebb_tensor *t = hebbL_test(L, 2);
    int64_t n = t ? (t->ndim == 1 ? t->shape[0] : -1)
                  : (int64_t)lua_rawlen(L, 2);
    if (n != nnz && !(t && t->ndim == 0))
      luaL_error(L, "sparse.with_values: the matrix has %d stored entries "
                 "but vals has %d%s", (int)nnz, (int)(n < 0 ? 0 : n),
                 n < 0 ? " (not a 1-d tensor)" : "");
  }
  v = check_values(L, 2, nnz, want, &dtype);   /* 4 */
  push_stored(L, s);    /* 5, 6, 7 (vals: dropped) */
  lua_pop(L, 1);
  r = (const int64_t *)hebb_first(hebbL_check(L, 5));
  c = (const int64_t *)hebb_first(hebbL_check(L, 6));
  new_box(L);           /* 7 */
  fill_box(L, hebb_sparse_from_coo_as(dtype, hebb_sparse_nrows(s),
                                      hebb_sparse_ncols(s), nnz, r, c, v, 1));
  return follow(L, "with_values", 1, 2);
}

static int l_from_dense(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1);
  double tol = luaL_optnumber(L, 2, 0);
  lua_settop(L, 2);
  new_box(L);
  fill_box(L, hebb_sparse_from_dense(a, tol));
  return follow(L, "from_dense", 1, 1);
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
  return follow(L, "diag", 1, 1);
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

/* while recording, the values tensor autograd follows (if S has one) goes
   to the recorder as a second argument */
static int s_to_dense(lua_State *L) {
  check_sparse(L, 1);
  lua_settop(L, 1);
  if (!hebbL_recording(L)) return to_dense_raw(L);
  ask(L, "vals", 0, 1, 1, 1);   /* 2 */
  if (lua_isnil(L, 2)) return to_dense_raw(L);
  return hebbL_record_call(L, "sparse.to_dense", to_dense_raw);
}

/* rows, cols, vals of the values autograd follows, or nothing */
static int s_source(lua_State *L) {
  check_sparse(L, 1);
  lua_settop(L, 1);
  ask(L, "source", 0, 1, 1, 3);
  return lua_isnil(L, 2) ? 0 : 3;
}

static int s_nnz(lua_State *L) {
  lua_pushinteger(L, hebb_sparse_nnz(check_sparse(L, 1)));
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
    lua_pushinteger(L, hebb_sparse_nrows(s));
    lua_rawseti(L, -2, 1);
    lua_pushinteger(L, hebb_sparse_ncols(s));
    lua_rawseti(L, -2, 2);
  }
  else if (k && strcmp(k, "nrows") == 0)
    lua_pushinteger(L, hebb_sparse_nrows(s));
  else if (k && strcmp(k, "ncols") == 0)
    lua_pushinteger(L, hebb_sparse_ncols(s));
  else if (k && strcmp(k, "dtype") == 0)
    lua_pushstring(L, hebb_dtype_name(hebb_sparse_dtype(s)));
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
  const double *val = hebb_sparse_values(s);
  if (hebb_sparse_dtype(s) != HEBB_C128) {
    lua_pushnumber(L, val[p]);
    luaL_addvalue(b);
    return;
  }
  lua_pushnumber(L, val[2 * p]);
  luaL_addvalue(b);
  if (!signbit(val[2 * p + 1])) luaL_addchar(b, '+');
  lua_pushnumber(L, val[2 * p + 1]);
  luaL_addvalue(b);
  luaL_addchar(b, 'i');
}

static int s_tostring(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  const int64_t *rowptr = hebb_sparse_rowptr(s), *col = hebb_sparse_colind(s);
  int64_t i, p, shown = 0, nrows = hebb_sparse_nrows(s);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  lua_pushfstring(L, "sparse %I x %I, %I stored entries (CSR, %s)",
                  (lua_Integer)nrows, (lua_Integer)hebb_sparse_ncols(s),
                  (lua_Integer)hebb_sparse_nnz(s),
                  hebb_dtype_name(hebb_sparse_dtype(s)));
  luaL_addvalue(&b);
  for (i = 0; i < nrows && shown < SHOW_ENTRIES; i++)
    for (p = rowptr[i]; p < rowptr[i + 1] && shown < SHOW_ENTRIES;
         p++, shown++) {
      lua_pushfstring(L, "\n  (%I, %I)  ", (lua_Integer)i + 1,
                      (lua_Integer)col[p] + 1);
      luaL_addvalue(&b);
      add_value(&b, L, s, p);
    }
  if (hebb_sparse_nnz(s) > shown) luaL_addstring(&b, "\n  ...");
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
   tensor autograd follows for S when it has one. */
static int s_matmul(lua_State *L) {
  check_sparse(L, 1);
  if (!hebbL_recording(L)) return matmul_raw(L);
  lua_settop(L, 3);
  ask(L, "vals", 0, 1, 1, 1);   /* 4 */
  if (lua_isnil(L, 4)) lua_settop(L, lua_isnil(L, 3) ? 2 : 3);
  return hebbL_record_call(L, "sparse.matmul", matmul_raw);
}

/* a second box holding another reference to the same immutable matrix */
static int s_share(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  new_box(L);
  hebb_sparse_retain(s);
  fill_box(L, s);
  return follow(L, "share", 1, 1);
}

static int s_t(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  new_box(L);
  fill_box(L, hebb_sparse_transpose(s));
  return follow(L, "t", 1, 1);
}

static int s_conj(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  new_box(L);
  fill_box(L, hebb_sparse_conj(s));
  return follow(L, "conj", 1, 1);
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
  return follow(L, "H", 1, 1);
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
  return follow(L, beta == 1 ? "add" : "sub", 1, 2);
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
  lua_pushvalue(L, si);     /* 3: the matrix, 4: the factor, for the hook */
  push_scalar(L, v, dt);
  new_box(L);
  fill_box(L, dt == HEBB_F64 ? hebb_sparse_scale(s, v[0])
                             : hebb_sparse_zscale(s, v[0], v[1]));
  return follow(L, "scale", 3, 2);
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

/* the index of name in list (NULL-terminated), or an error naming them */
static int pick(lua_State *L, const char *who, const char *what,
                const char *name, const char *const *list) {
  luaL_Buffer b;
  int i;
  for (i = 0; list[i]; i++)
    if (strcmp(name, list[i]) == 0) return i;
  luaL_buffinit(L, &b);
  for (i = 0; list[i]; i++) {
    if (i > 0) luaL_addstring(&b, list[i + 1] ? ", " : " or ");
    lua_pushfstring(L, "\"%s\"", list[i]);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return luaL_error(L, "%s: %s must be %s, got \"%s\"", who, what,
                    lua_tostring(L, -1), name);
}

static int l_solve(lua_State *L) {
  static const char *const methods[] = {"bicgstab", "cg", NULL};
  static const char *const preconds[] = {"none", "jacobi", "ilu0", NULL};
  hebb_sparse *s = check_sparse(L, 1);
  hebb_tensor *b = hebbL_check(L, 2), *x0 = NULL, **xb, *x = NULL;
  hebb_solve_opts o = {HEBB_SOLVE_BICGSTAB, HEBB_PRECOND_ILU0, 1e-10, 0};
  hebb_solve_info info;
  o.maxiter = 10 * hebb_sparse_nrows(s) + 100;
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    hebbL_checkkeys(L, 3, (const char *const[]){"maxiter", "method",
                                                "precond", "tol", "x0", NULL});
    lua_getfield(L, 3, "method");
    o.method = pick(L, "sparse.solve", "method",
                    luaL_optstring(L, -1, "bicgstab"), methods);
    lua_getfield(L, 3, "precond");
    o.precond = pick(L, "sparse.solve", "precond",
                     luaL_optstring(L, -1, o.method == HEBB_SOLVE_CG ?
                                    "jacobi" : "ilu0"), preconds);
    lua_getfield(L, 3, "tol");
    o.tol = luaL_optnumber(L, -1, o.tol);
    lua_getfield(L, 3, "maxiter");
    o.maxiter = luaL_optinteger(L, -1, o.maxiter);
    lua_getfield(L, 3, "x0");
    if (!lua_isnil(L, -1)) x0 = hebbL_check(L, -1);
    lua_pop(L, 5);         /* opts keeps x0 alive */
  }
  xb = hebbL_newbox(L);
  hebbL_check_status(L, hebb_sparse_solve(s, b, x0, &o, &x, &info));
  *xb = x;
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, info.iterations);
  lua_setfield(L, -2, "iterations");
  lua_pushnumber(L, info.residual);
  lua_setfield(L, -2, "residual");
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
  {"solve", l_solve, HEBB_FN,
   "sparse.solve(A, b [, opts])\n\nx, info with A x = b for a square "
   "sparse A and b of shape {n} or {n, k} (f64 or c128; x is c128 when A "
   "or b is) by a preconditioned Krylov method in C, until |b - A x| <= tol "
   "|b| (the true residual) for every column.  opts: method = \"bicgstab\" "
   "(default; any non-singular A) or \"cg\" (Hermitian positive "
   "definite); precond = \"ilu0\" (BiCGSTAB's default: incomplete LU on A's "
   "pattern), \"jacobi\" (CG's default) or \"none\"; tol (1e-10); maxiter "
   "(10 n + 100); x0 (a start, b's shape).  info = {iterations, residual}.  "
   "Not converging, a breakdown or a zero pivot is an error naming the "
   "values.  The same bits at any thread count.  Differentiable with "
   "respect to b (the backward pass solves with A^H); A is a constant."},
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
  {"_follow", l_follow, HEBB_FN | HEBB_RAW,
   "sparse._follow(hooks)\n\nInternal (hebb._autograd_sparse): the Lua "
   "functions that follow the values a matrix is made of while autograd "
   "records (hooks.csr(S, rows, cols, vals), ..., hooks.vals(nil, S))."},
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
