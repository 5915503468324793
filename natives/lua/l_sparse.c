/*
** l_sparse.c -- the module `hebb.sparse`: sparse f64 matrices (CSR) as
** userdata with the metatable "hebb.Sparse", their constructors, products
** with tensors, arithmetic and the Lanczos eigensolver.
**
** A matrix is a box holding one reference to a core hebb_sparse, like a
** tensor; __gc, __close and S:free() release it.  Every function carries
** the tensor metatable as its first upvalue (the tensor helpers of
** lhebb.h need it); sparse arguments are checked by name.
*/
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
  kb = (s->nnz * 16 + s->nrows * 8) >> 10;
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

/* The n entries at idx (a Lua table or a 1-d tensor) as a contiguous array
   that stays alive on the stack (a userdata, or the tensor itself / a
   converted copy of it): one value is pushed. */
static const void *check_array(lua_State *L, int idx, int isindex,
                               int64_t *n, const char *what) {
  if (lua_type(L, idx) == LUA_TTABLE) {
    int64_t i, len = (int64_t)lua_rawlen(L, idx);
    void *buf = lua_newuserdatauv(L, (size_t)(len > 0 ? len : 1) * 8, 0);
    for (i = 0; i < len; i++) {
      int ok;
      lua_rawgeti(L, idx, i + 1);
      if (isindex) ((int64_t *)buf)[i] = lua_tointegerx(L, -1, &ok);
      else ((double *)buf)[i] = lua_tonumberx(L, -1, &ok);
      if (!ok)
        luaL_error(L, "sparse.csr: %s[%d] is not %s (a %s)", what, (int)i + 1,
                   isindex ? "an integer" : "a number", luaL_typename(L, -1));
      lua_pop(L, 1);
    }
    *n = len;
    return buf;
  }
  else {
    hebb_tensor *t = hebbL_check(L, idx);
    int dtype = isindex ? HEBB_I64 : HEBB_F64;
    if (t->ndim != 1)
      luaL_error(L, "sparse.csr: %s must be a 1-d tensor, got %d dimensions",
                 what, t->ndim);
    if (isindex && t->dtype != HEBB_I64)
      luaL_error(L, "sparse.csr: %s must be an i64 tensor, got %s", what,
                 hebb_dtype_name(t->dtype));
    *n = t->shape[0];
    if (t->dtype == dtype && hebb_is_contiguous(t)) lua_pushvalue(L, idx);
    else {
      hebbL_newbox(L);
      hebbL_fill_box(L, hebb_astype(t, dtype));
      t = *(hebb_tensor **)lua_touserdata(L, -1);
    }
    return hebb_first(t);
  }
}

/* values: an array like the indices, or one number for every entry */
static const double *check_values(lua_State *L, int idx, int64_t nnz) {
  int64_t n, i;
  const double *v;
  if (lua_type(L, idx) == LUA_TNUMBER) {
    double x = lua_tonumber(L, idx), *buf;
    buf = lua_newuserdatauv(L, (size_t)(nnz > 0 ? nnz : 1) * 8, 0);
    for (i = 0; i < nnz; i++) buf[i] = x;
    return buf;
  }
  v = check_array(L, idx, 0, &n, "vals");
  if (n != nnz)
    luaL_error(L, "sparse.csr: rows and cols have %d entries but vals has %d",
               (int)nnz, (int)n);
  return v;
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

/* --- construction ------------------------------------------------------ */

static int l_csr(lua_State *L) {
  int64_t nr, nc, shape[2];
  const int64_t *r, *c;
  const double *v;
  lua_settop(L, 4);   /* the arrays below are pushed above the arguments */
  r = check_array(L, 1, 1, &nr, "rows");
  c = check_array(L, 2, 1, &nc, "cols");
  if (nr != nc)
    luaL_error(L, "sparse.csr: rows has %d entries but cols has %d", (int)nr,
               (int)nc);
  v = check_values(L, 3, nr);
  check_shape(L, 4, r, c, nr, shape);
  new_box(L);
  return fill_box(L, hebb_sparse_from_coo(shape[0], shape[1], nr, r, c, v,
                                          1));
}

static int l_from_dense(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1);
  double tol = luaL_optnumber(L, 2, 0);
  new_box(L);
  return fill_box(L, hebb_sparse_from_dense(a, tol));
}

static int l_eye(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1), i;
  int64_t *idx;
  double *one;
  luaL_argcheck(L, n >= 0, 1, "size must be non-negative");
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
  const double *d = check_array(L, 1, 0, &n, "d");
  idx = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * 8, 0);
  for (i = 0; i < n; i++) idx[i] = i;
  new_box(L);
  return fill_box(L, hebb_sparse_from_coo(n, n, n, idx, idx, d, 0));
}

static int l_lattice(lua_State *L) {
  int64_t dims[HEBB_MAXDIM];
  int next, ndim = hebbL_checkshape(L, 1, dims, &next), nnn = 0, periodic = 1;
  if (!lua_isnoneornil(L, 2)) {
    const char *kind;
    luaL_checktype(L, 2, LUA_TTABLE);
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

static int s_to_dense(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_sparse_to_dense(s));
  return 1;
}

static int s_nnz(lua_State *L) {
  lua_pushinteger(L, check_sparse(L, 1)->nnz);
  return 1;
}

static int s_diagonal(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  hebb_tensor *res, **box = hebbL_result_slot(L, 2, &res);
  int st = hebb_sparse_diagonal(s, &res);   /* before reading res */
  hebbL_finish(L, box, &res, st);
  return 1;
}

/* rows, cols (1-based i64) and vals (f64) of the stored entries */
static int s_triplets(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  int64_t i, p, *r, *c;
  hebb_tensor **rb = hebbL_newbox(L), **cb = hebbL_newbox(L);
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_from_buffer(HEBB_F64, 1, &s->nnz, s->val));
  *rb = hebb_empty(HEBB_I64, 1, &s->nnz);
  *cb = hebb_empty(HEBB_I64, 1, &s->nnz);
  if (!*rb || !*cb) return hebbL_raise(L);
  r = (int64_t *)hebb_first(*rb);
  c = (int64_t *)hebb_first(*cb);
  for (i = 0; i < s->nrows; i++)
    for (p = s->rowptr[i]; p < s->rowptr[i + 1]; p++) {
      r[p] = i + 1;
      c[p] = s->col[p] + 1;
    }
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
  else if (k && strcmp(k, "dtype") == 0) lua_pushliteral(L, "f64");
  else {
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(2));
  }
  return 1;
}

/* at most this many entries are listed by tostring */
#define SHOW_ENTRIES 12

static int s_tostring(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  luaL_Buffer b;
  int64_t i, p, shown = 0;
  luaL_buffinit(L, &b);
  lua_pushfstring(L, "sparse %I x %I, %I stored entries (CSR, f64)",
                  (lua_Integer)s->nrows, (lua_Integer)s->ncols,
                  (lua_Integer)s->nnz);
  luaL_addvalue(&b);
  for (i = 0; i < s->nrows && shown < SHOW_ENTRIES; i++)
    for (p = s->rowptr[i]; p < s->rowptr[i + 1] && shown < SHOW_ENTRIES;
         p++, shown++) {
      lua_pushfstring(L, "\n  (%I, %I)  ", (lua_Integer)i + 1,
                      (lua_Integer)s->col[p] + 1);
      luaL_addvalue(&b);
      lua_pushnumber(L, s->val[p]);
      luaL_addvalue(&b);
    }
  if (s->nnz > shown) luaL_addstring(&b, "\n  ...");
  luaL_pushresult(&b);
  return 1;
}

/* --- products and arithmetic ------------------------------------------- */

static int s_matmul(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  hebb_tensor *x = hebbL_check(L, 2), *res;
  hebb_tensor **box = hebbL_result_slot(L, 3, &res);
  int st = hebb_sparse_matmul(s, x, &res);   /* before reading res */
  hebbL_finish(L, box, &res, st);
  return 1;
}

/* a second box holding another reference to the same immutable matrix */
static int s_share(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  new_box(L);
  hebb_sparse_retain(s);
  return fill_box(L, s);
}

static int s_t(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  new_box(L);
  return fill_box(L, hebb_sparse_transpose(s));
}

static int combine(lua_State *L, double beta) {
  hebb_sparse *a, *b;
  if (!luaL_testudata(L, 1, SPARSE_MT) || !luaL_testudata(L, 2, SPARSE_MT))
    luaL_error(L, "sparse: + and - need two sparse matrices (got %s and %s); "
               "use S:to_dense() to mix with tensors", luaL_typename(L, 1),
               luaL_typename(L, 2));
  a = check_sparse(L, 1);
  b = check_sparse(L, 2);
  new_box(L);
  return fill_box(L, hebb_sparse_add(a, b, 1, beta));
}

static int s_add(lua_State *L) { return combine(L, 1); }
static int s_sub(lua_State *L) { return combine(L, -1); }

static int s_mul(lua_State *L) {
  int si = luaL_testudata(L, 1, SPARSE_MT) ? 1 : 2, ni = 3 - si;
  hebb_sparse *s = check_sparse(L, si);
  if (lua_type(L, ni) != LUA_TNUMBER)
    luaL_error(L, "sparse: * scales by a number (got %s); use S:matmul(x) "
               "for products", luaL_typename(L, ni));
  new_box(L);
  return fill_box(L, hebb_sparse_scale(s, lua_tonumber(L, ni)));
}

static int s_div(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  double d = luaL_checknumber(L, 2);
  new_box(L);
  return fill_box(L, hebb_sparse_scale(s, 1 / d));
}

static int s_unm(lua_State *L) {
  hebb_sparse *s = check_sparse(L, 1);
  new_box(L);
  return fill_box(L, hebb_sparse_scale(s, -1));
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
   "sparse.csr(rows, cols, vals [, shape])\n\nThe sparse matrix with "
   "entries A[rows[k], cols[k]] = vals[k]: rows and cols are 1-based indices "
   "(tables of integers or 1-d i64 tensors), vals a table, a 1-d tensor or "
   "one number for every entry; shape = {m, n} (default: the largest "
   "indices).  Entries given more than once are summed, so a list of bonds "
   "or couplings can be fed in as it comes.  Stored in compressed sparse row "
   "form (f64)."},
  {"coo", l_csr, HEBB_FN,
   "sparse.coo(rows, cols, vals [, shape])\n\nThe same as sparse.csr: a "
   "matrix from coordinate (triplet) lists, duplicates summed.  Every matrix "
   "is stored as CSR; S:triplets() gives the coordinate lists back."},
  {"from_dense", l_from_dense, HEBB_FN,
   "sparse.from_dense(A [, tol])\n\nThe sparse matrix of the entries of the "
   "2-d tensor A with |A[i][j]| > tol (default 0: the non-zeros)."},
  {"eye", l_eye, HEBB_FN,
   "sparse.eye(n)\n\nThe n x n identity as a sparse matrix."},
  {"diag", l_diag, HEBB_FN,
   "sparse.diag(d)\n\nThe square sparse matrix with the vector d (a 1-d "
   "tensor or a table of numbers) on its diagonal, e.g. a degree matrix."},
  {"lattice", l_lattice, HEBB_FN,
   "sparse.lattice(dims [, opts])\n\nThe adjacency matrix of the hypercubic "
   "lattice with sides dims = {L1, ..., Ld} (what graph.lattice uses; see "
   "there for the numbering of sites).  opts: periodic (default true), "
   "neighbors = \"nearest\" (default) or \"next-nearest\"."},
  {"eigsh", l_eigsh, HEBB_FN,
   "sparse.eigsh(S, k [, opts])\n\nThe k smallest (or largest) eigenvalues "
   "of the symmetric sparse matrix S, ascending, and their eigenvectors as "
   "the columns of an n x k tensor: w, V = sparse.eigsh(S, k).  Lanczos "
   "with full reorthogonalization and locking, so degenerate eigenvalues "
   "come out with their multiplicity; a matrix that is not symmetric is "
   "refused.  opts: which = \"smallest\" (default) "
   "or \"largest\"; tol (residual |S v - w v| relative to the largest "
   "|w| seen, default 1e-10); maxiter (restarts, default 1000); ncv (Krylov "
   "basis size, default max(100, 2k + 20) capped at n); seed (start "
   "vectors, default 0).  Meant for a few eigenpairs of matrices up to some "
   "10^4 rows; a near-degenerate end of the spectrum needs a larger ncv."},
  {"matmul", s_matmul, HEBB_BOTH,
   "S:matmul(x [, opts])\n\nThe product S x with a 1-d vector (length "
   "ncols) or a 2-d matrix (ncols x k) tensor, as an f64 tensor; opts.out "
   "reuses a contiguous result.  Rows run in parallel and each row is a "
   "fixed ordered sum, so the bits do not depend on the thread count."},
  {"to_dense", s_to_dense, HEBB_BOTH,
   "S:to_dense()\n\nThe matrix as a dense 2-d f64 tensor."},
  {"t", s_t, HEBB_BOTH,
   "S:t()\n\nThe transpose, as a new sparse matrix."},
  {"nnz", s_nnz, HEBB_BOTH,
   "S:nnz()\n\nThe number of stored entries (explicit zeros included)."},
  {"diagonal", s_diagonal, HEBB_BOTH,
   "S:diagonal([opts])\n\nThe main diagonal as a 1-d f64 tensor of length "
   "min(rows, cols)."},
  {"triplets", s_triplets, HEBB_BOTH,
   "S:triplets()\n\nThe stored entries as three 1-d tensors rows, cols "
   "(1-based, i64) and vals (f64), row by row with increasing columns: "
   "sparse.csr(S:triplets()) rebuilds S."},
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
  hebbL_register(L, sparse_funcs, module, methods, tmt);
  hebbL_register(L, sparse_meta, smt, smt, tmt);
  lua_pushvalue(L, tmt);
  lua_pushvalue(L, methods);
  lua_pushcclosure(L, s_index, 2);
  lua_setfield(L, smt, "__index");
  lua_settop(L, module);
  hebbL_setdoc(L, module, "hebb.sparse\n\nSparse f64 matrices (compressed "
               "sparse row) for couplings and graph operators: built from "
               "triplets or dense tensors, multiplied with vectors and "
               "matrices (S:matmul), transposed, added, scaled, and "
               "diagonalized at the ends of their spectrum (sparse.eigsh).");
  return 1;
}
