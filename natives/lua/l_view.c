/*
** l_view.c -- views of tensors for hebb.tensor (view, reshape, narrow,
** select, transpose, permute, expand, squeeze, unsqueeze, flatten,
** diagonal, split, chunk) and the t[k] / t[k] = v indexing that the tensor
** metatable's __index and __newindex hand over for non-string keys.
** Dims and indices are 1-based here (negative counts from the end) and
** ranges include both ends; the core is 0-based.
*/
#include <string.h>

#include "core.h"
#include "lhebb.h"

/* --- arguments --------------------------------------------------------- */

static int64_t onesize(lua_State *L, int idx, int k, const char *who) {
  int isint = 0;
  lua_Integer n = 0;
  if (lua_type(L, idx) == LUA_TNUMBER) n = lua_tointegerx(L, idx, &isint);
  if (!isint)
    luaL_error(L, "%s: size %d must be an integer, got %s", who, k,
               lua_type(L, idx) == LUA_TNUMBER ? "a non-integral number" :
               luaL_typename(L, idx));
  if (n < -1) luaL_error(L, "%s: size %d is invalid (%I)", who, k, n);
  return n;
}

/* Sizes given as integers from idx to the last argument, or as one table
   at idx.  -1 passes through: view infers it, expand keeps a dim. */
static int checksizes(lua_State *L, int idx, int64_t *shape, const char *who) {
  int table = lua_type(L, idx) == LUA_TTABLE, n, i;
  n = table ? (int)lua_rawlen(L, idx) : lua_gettop(L) - idx + 1;
  if (n < 0) n = 0;
  if (n > HEBB_MAXDIM)
    luaL_error(L, "%s: %d dimensions (at most %d)", who, n, HEBB_MAXDIM);
  for (i = 0; i < n; i++) {
    if (!table) {
      shape[i] = onesize(L, idx + i, i + 1, who);
      continue;
    }
    lua_rawgeti(L, idx, i + 1);
    shape[i] = onesize(L, -1, i + 1, who);
    lua_pop(L, 1);
  }
  return n;
}

/* A dimension number given inside a table (not as an argument). */
static int dimof(lua_State *L, int idx, int ndim, const char *who) {
  int isint = 0;
  lua_Integer d = 0, k;
  if (lua_type(L, idx) == LUA_TNUMBER) d = lua_tointegerx(L, idx, &isint);
  if (!isint)
    luaL_error(L, "%s: dimensions must be integers, got %s", who,
               luaL_typename(L, idx));
  k = d < 0 ? d + ndim + 1 : d;
  if (k < 1 || k > ndim)
    luaL_error(L, "%s: dimension %I out of range for a %d-dimensional tensor",
               who, d, ndim);
  return (int)k - 1;
}

int hebbL_checknewdim(lua_State *L, int idx, int ndim, const char *who) {
  lua_Integer d = luaL_checkinteger(L, idx), n = ndim + 1;
  lua_Integer k = d < 0 ? d + n + 1 : d;
  if (k < 1 || k > n)
    luaL_error(L, "%s: position %I out of range for a new dimension of a "
               "%d-dimensional tensor (valid 1..%d or -%d..-1)", who, d, ndim,
               (int)n, (int)n);
  return (int)k - 1;
}

/* A 1-based index i (negative from the end) into a dim of 'size'. */
static int64_t pick(lua_State *L, lua_Integer i, int64_t size, int dim,
                    const char *who) {
  lua_Integer k = i < 0 ? i + size + 1 : i;
  if (k < 1 || k > size)
    luaL_error(L, "%sindex %I out of range for dim %d of size %I", who, i,
               dim + 1, (lua_Integer)size);
  return k - 1;
}

/* Pushes a new box holding the core's result (or raises its error). */
static int push_new(lua_State *L, hebb_tensor *t) {
  hebbL_newbox(L);
  hebbL_fill_box(L, t);
  return 1;
}

/* --- view and reshape -------------------------------------------------- */

/* Replaces a size -1 by what the element count leaves for it. */
static void infer(lua_State *L, const hebb_tensor *t, int n, int64_t *shape,
                  const char *who) {
  int64_t known = 1, numel = hebb_numel(t);
  int free = -1, i, big = 0;
  for (i = 0; i < n; i++) {
    if (shape[i] != -1) {   /* past int64: more than any tensor holds */
      big |= __builtin_mul_overflow(known, shape[i], &known);
      continue;
    }
    if (free >= 0) luaL_error(L, "%s: only one size may be -1", who);
    free = i;
  }
  if (free < 0) return;
  if (big || known == 0 || numel % known != 0) {
    char b[HEBB_SHAPEBUF];
    luaL_error(L, "%s: cannot infer the -1 in shape %s for %I elements", who,
               hebb_shape_str(n, shape, b, sizeof b), (lua_Integer)numel);
  }
  shape[free] = numel / known;
}

static int reshaped(lua_State *L, int copy_ok) {
  const char *who = copy_ok ? "reshape" : "view";
  hebb_tensor *t = hebbL_check(L, 1);
  int64_t shape[HEBB_MAXDIM];
  int n = checksizes(L, 2, shape, who);
  infer(L, t, n, shape, who);
  return push_new(L, copy_ok ? hebb_reshape(t, n, shape) :
                               hebb_view(t, n, shape));
}

static int l_view(lua_State *L) { return reshaped(L, 0); }
static int l_reshape(lua_State *L) { return reshaped(L, 1); }

/* --- parts of dimensions ----------------------------------------------- */

static int l_narrow(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  int dim = hebbL_checkdim(L, 2, t->ndim);
  lua_Integer start = luaL_checkinteger(L, 3), len = luaL_checkinteger(L, 4);
  lua_Integer size = t->ndim > 0 ? t->shape[dim] : 1;
  lua_Integer s0 = start < 0 ? start + size : start - 1;
  if (start == 0 || s0 < 0 || s0 > size)
    luaL_error(L, "narrow: start %I out of range for dim %d of size %I",
               start, dim + 1, size);
  if (len < 0 || len > size - s0)
    luaL_error(L, "narrow: length %I from start %I does not fit dim %d of "
               "size %I", len, start, dim + 1, size);
  return push_new(L, hebb_narrow(t, dim, s0, len));
}

static int l_select(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  int dim = hebbL_checkdim(L, 2, t->ndim);
  lua_Integer i = luaL_checkinteger(L, 3);
  if (t->ndim == 0)   /* the core explains that a 0-d tensor has no dim */
    return push_new(L, hebb_select(t, dim, 0));
  return push_new(L, hebb_select(t, dim, pick(L, i, t->shape[dim], dim,
                                              "select: ")));
}

static int l_diagonal(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  lua_Integer off = luaL_optinteger(L, 2, 0);
  int d1 = hebbL_optdim(L, 3, t->ndim, 0), d2 = hebbL_optdim(L, 4, t->ndim, 1);
  return push_new(L, hebb_diagonal(t, off, d1, d2));
}

/* A table of views: consecutive pieces of dim 'dim', 'step' long (the last
   may be shorter).  An empty dim gives one empty piece. */
static int split_even(lua_State *L, hebb_tensor *t, int dim, int64_t step) {
  int64_t size = t->shape[dim], n = size == 0 ? 1 : (size - 1) / step + 1;
  int64_t i, pos = 0;
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    int64_t len = size - pos < step ? size - pos : step;
    push_new(L, hebb_narrow(t, dim, pos, len));
    lua_rawseti(L, -2, i + 1);
    pos += len;
  }
  return 1;
}

static int checksplit(lua_State *L, hebb_tensor *t, int dimarg,
                      const char *who) {
  if (t->ndim == 0) luaL_error(L, "%s: cannot split a 0-d tensor", who);
  return hebbL_optdim(L, dimarg, t->ndim, 0);
}

/* split(sizes_table, dim): pieces of the given sizes, which must add up to
   the size of the dim. */
static int split_sizes(lua_State *L, hebb_tensor *t, int dim) {
  int n = (int)lua_rawlen(L, 2), i;
  int64_t sum = 0, pos = 0;
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, 2, i);
    sum += onesize(L, -1, i, "split");
    if (lua_tointeger(L, -1) < 0)
      luaL_error(L, "split: size %d is negative", i);
    lua_pop(L, 1);
  }
  if (sum != t->shape[dim])
    luaL_error(L, "split: sizes add up to %I, but dim %d has size %I",
               (lua_Integer)sum, dim + 1, (lua_Integer)t->shape[dim]);
  lua_createtable(L, n, 0);
  for (i = 1; i <= n; i++) {
    int64_t len;
    lua_rawgeti(L, 2, i);
    len = lua_tointeger(L, -1);
    lua_pop(L, 1);
    push_new(L, hebb_narrow(t, dim, pos, len));
    lua_rawseti(L, -2, i);
    pos += len;
  }
  return 1;
}

static int l_split(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  int dim = checksplit(L, t, 3, "split");
  lua_Integer step;
  if (lua_type(L, 2) == LUA_TTABLE) return split_sizes(L, t, dim);
  step = luaL_checkinteger(L, 2);
  if (step < 1) luaL_error(L, "split: piece size must be positive, got %I", step);
  return split_even(L, t, dim, step);
}

static int l_chunk(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  int dim = checksplit(L, t, 3, "chunk");
  lua_Integer n = luaL_checkinteger(L, 2);
  int64_t size = t->shape[dim];
  if (n < 1) luaL_error(L, "chunk: number of chunks must be positive, got %I", n);
  return split_even(L, t, dim, size == 0 ? 1 : (size - 1) / n + 1);
}

/* --- rearranging dimensions -------------------------------------------- */

static int l_transpose(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  int d1 = hebbL_optdim(L, 2, t->ndim, 0), d2 = hebbL_optdim(L, 3, t->ndim, 1);
  return push_new(L, hebb_transpose(t, d1, d2));
}

static int l_t(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  if (t->ndim > 2)
    luaL_error(L, "t: the tensor has %d dimensions (t() transposes a matrix; "
               "use transpose or permute)", t->ndim);
  if (t->ndim < 2) {
    lua_settop(L, 1);
    return 1;
  }
  return push_new(L, hebb_transpose(t, 0, 1));
}

static int l_permute(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  int dims[HEBB_MAXDIM], table = lua_type(L, 2) == LUA_TTABLE, n, i;
  n = table ? (int)lua_rawlen(L, 2) : lua_gettop(L) - 1;
  if (n != t->ndim)
    luaL_error(L, "permute: %d dimensions given for a %d-dimensional tensor",
               n, t->ndim);
  for (i = 0; i < n; i++) {
    if (!table) {
      dims[i] = dimof(L, i + 2, t->ndim, "permute");
      continue;
    }
    lua_rawgeti(L, 2, i + 1);
    dims[i] = dimof(L, -1, t->ndim, "permute");
    lua_pop(L, 1);
  }
  return push_new(L, hebb_permute(t, dims));
}

static int l_expand(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  int64_t shape[HEBB_MAXDIM];
  int n = checksizes(L, 2, shape, "expand");
  return push_new(L, hebb_expand(t, n, shape));
}

static int l_expand_as(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1), *o = hebbL_check(L, 2);
  return push_new(L, hebb_expand(t, o->ndim, o->shape));
}

static int l_squeeze(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  int dim = lua_isnoneornil(L, 2) ? -1 : hebbL_checkdim(L, 2, t->ndim);
  return push_new(L, hebb_squeeze(t, dim));
}

static int l_unsqueeze(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  return push_new(L, hebb_unsqueeze(t, hebbL_checknewdim(L, 2, t->ndim,
                                                         "unsqueeze")));
}

static int l_flatten(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  int s = hebbL_optdim(L, 2, t->ndim, 0);
  int e = hebbL_optdim(L, 3, t->ndim, t->ndim > 0 ? t->ndim - 1 : 0);
  return push_new(L, hebb_flatten(t, s, e));
}

/* --- t[k] and t[k] = v ------------------------------------------------- */

/* Where an index key lands: the geometry of a view of t, which is one
   element ('scalar') when integers picked every dimension. */
typedef struct spot {
  int ndim;
  int scalar;
  int64_t offset;
  int64_t shape[HEBB_MAXDIM], stride[HEBB_MAXDIM];
} spot;

/* An integer index (dim < 0), or a bound of a range for dim 'dim'. */
static lua_Integer keyint(lua_State *L, int idx, int dim) {
  int isint = 0;
  lua_Integer i = 0;
  if (lua_type(L, idx) == LUA_TNUMBER) i = lua_tointegerx(L, idx, &isint);
  if (isint) return i;
  if (dim < 0)
    luaL_error(L, "index must be an integer, got %f", lua_tonumber(L, idx));
  if (lua_type(L, idx) == LUA_TNUMBER)
    luaL_error(L, "range bounds for dim %d must be integers, got %f", dim + 1,
               lua_tonumber(L, idx));
  return luaL_error(L, "range bounds for dim %d must be integers, got %s",
                    dim + 1, luaL_typename(L, idx));
}

static void spot_int(lua_State *L, const hebb_tensor *t, int key, spot *s) {
  lua_Integer i = keyint(L, key, -1);
  if (t->ndim == 0)
    luaL_error(L, "cannot index a 0-d tensor with an integer (use t:item())");
  s->offset = t->offset + pick(L, i, t->shape[0], 0, "") * t->stride[0];
  s->ndim = t->ndim - 1;
  memcpy(s->shape, t->shape + 1, (size_t)s->ndim * sizeof(int64_t));
  memcpy(s->stride, t->stride + 1, (size_t)s->ndim * sizeof(int64_t));
  s->scalar = s->ndim == 0;
}

/* A range table {}, {a}, {a, b} or {a, b, step} at r for dim d: inclusive
   ends, negative from the end; {a} runs to the end.  An empty range
   ({3, 2}, or {n+1, n}) is allowed; ends further out are errors. */
static void add_range(lua_State *L, int r, const hebb_tensor *t, int d,
                      spot *s) {
  lua_Integer v[3] = {1, -1, 1}, size = t->shape[d], a, b, count;
  int n = (int)lua_rawlen(L, r), k, ok;
  if (n > 3)
    luaL_error(L, "range for dim %d has %d entries (expected {}, {a}, {a, b} "
               "or {a, b, step})", d + 1, n);
  for (k = 0; k < n; k++) {
    lua_rawgeti(L, r, k + 1);
    v[k] = keyint(L, -1, d);
    lua_pop(L, 1);
  }
  if (v[2] == 0) luaL_error(L, "range step is 0 for dim %d", d + 1);
  a = v[0] < 0 ? v[0] + size + 1 : v[0];
  b = v[1] < 0 ? v[1] + size + 1 : v[1];
  if (v[2] > 0) ok = a >= 1 && a <= size + 1 && b >= 0 && b <= size;
  else ok = a >= 0 && a <= size && b >= 1 && b <= size + 1;
  if (!ok)
    luaL_error(L, "range {%I, %I} out of range for dim %d of size %I", v[0],
               v[1], d + 1, size);
  if (v[2] > 0) count = b >= a ? (b - a) / v[2] + 1 : 0;
  else count = a >= b ? (b - a) / v[2] + 1 : 0;   /* both quotients >= 0 */
  s->shape[s->ndim] = count;   /* with two or more elements |step| < size */
  s->stride[s->ndim++] = t->stride[d] * (count > 1 ? v[2] : 1);
  if (count > 0) s->offset += (a - 1) * t->stride[d];
}

static void spot_table(lua_State *L, const hebb_tensor *t, int key, spot *s) {
  int n = (int)lua_rawlen(L, key), d;
  if (n > t->ndim)
    luaL_error(L, "too many indices (%d) for a %d-dimensional tensor", n,
               t->ndim);
  s->ndim = 0;
  s->offset = t->offset;
  for (d = 0; d < n; d++) {
    int tp = lua_rawgeti(L, key, d + 1);
    if (tp == LUA_TNUMBER)
      s->offset += pick(L, keyint(L, -1, -1), t->shape[d], d, "") *
                   t->stride[d];
    else if (tp == LUA_TTABLE) add_range(L, lua_gettop(L), t, d, s);
    else
      luaL_error(L, "invalid index entry %d of type %s (expected an integer "
                 "or a range table)", d + 1, lua_typename(L, tp));
    lua_pop(L, 1);
  }
  for (; d < t->ndim; d++) {   /* missing trailing entries: whole dims */
    s->shape[s->ndim] = t->shape[d];
    s->stride[s->ndim++] = t->stride[d];
  }
  s->scalar = n > 0 && s->ndim == 0;
}

/* The tensor used as a key: an i64 tensor of indices or a bool mask. */
static hebb_tensor *keytensor(lua_State *L, int key) {
  hebb_tensor *k = hebbL_test(L, key);
  if (!k) {
    if (luaL_testudata(L, key, HEBB_TENSOR_MT))
      luaL_error(L, "attempt to use a freed tensor");
    luaL_error(L, "invalid index of type %s", luaL_typename(L, key));
  }
  if (k->dtype != HEBB_I64 && k->dtype != HEBB_BOOL)
    luaL_error(L, "invalid index: a %s tensor (index with an i64 tensor of "
               "indices or a bool mask)", hebb_dtype_name(k->dtype));
  return k;
}

static void push_value(lua_State *L, int dtype, const char *p) {
  switch (dtype) {
    case HEBB_F64: lua_pushnumber(L, *(const double *)p); break;
    case HEBB_F32: lua_pushnumber(L, *(const float *)p); break;
    case HEBB_I64: lua_pushinteger(L, *(const int64_t *)p); break;
    default: lua_pushboolean(L, *(const bool *)p); break;
  }
}

static int get_by_tensor(lua_State *L, hebb_tensor *t, int key) {
  hebb_tensor *k = keytensor(L, key), *res = NULL, **box = hebbL_newbox(L);
  int st = k->dtype == HEBB_BOOL ? hebb_masked_select(t, k, &res) :
                                   hebb_index_select(t, 0, k, 1, &res);
  hebbL_finish(L, box, &res, st);
  return 1;
}

int hebbL_index_get(lua_State *L, hebb_tensor *t, int key) {
  spot s;
  switch (lua_type(L, key)) {
    case LUA_TNUMBER: spot_int(L, t, key, &s); break;
    case LUA_TTABLE: spot_table(L, t, key, &s); break;
    case LUA_TUSERDATA: return get_by_tensor(L, t, key);
    default:
      return luaL_error(L, "invalid index of type %s", luaL_typename(L, key));
  }
  if (s.scalar && !hebb_is_complex(t->dtype)) {   /* complex: a 0-d view */
    push_value(L, t->dtype, t->data + s.offset * hebb_dtype_size(t->dtype));
    return 1;
  }
  return push_new(L, hebb_as_strided(t, s.ndim, s.shape, s.stride, s.offset));
}

/* A number or boolean value to store: as an integer (*isint) or a float. */
static void scalar_value(lua_State *L, int val, int *isint, lua_Integer *iv,
                         lua_Number *x) {
  if (lua_type(L, val) == LUA_TBOOLEAN) {
    *isint = 1;
    *iv = lua_toboolean(L, val);
    *x = (lua_Number)*iv;
    return;
  }
  *iv = lua_tointegerx(L, val, isint);
  *x = lua_tonumber(L, val);
}

/* t[i] = v for a single element: written directly, no header made.  Floats
   go into i64 by truncation, as fill does. */
static void store(lua_State *L, hebb_tensor *t, int64_t offset, int val) {
  char *p = t->data + offset * hebb_dtype_size(t->dtype);
  lua_Integer iv;
  lua_Number x;
  int isint;
  scalar_value(L, val, &isint, &iv, &x);
  switch (t->dtype) {
    case HEBB_F64: *(double *)p = x; break;
    case HEBB_F32: *(float *)p = (float)x; break;
    case HEBB_I64:
      if (!isint) {
        if (x != x || x >= 9223372036854775808.0 || x < -9223372036854775808.0)
          luaL_error(L, "%f does not fit in i64", x);
        iv = (lua_Integer)x;
      }
      *(int64_t *)p = iv;
      break;
    case HEBB_C128: *(double _Complex *)p = x; break;
    case HEBB_C64: *(float _Complex *)p = (float)x; break;
    default: *(bool *)p = x != 0; break;
  }
  hebb_bump_version(t);
}

static int set_view(lua_State *L, hebb_tensor *t, const spot *s,
                    hebb_tensor *src, int val) {
  lua_Integer iv = 0;
  lua_Number x = 0;
  int isint = 0, st;
  hebb_tensor *v;
  if (!src) scalar_value(L, val, &isint, &iv, &x);
  v = hebb_as_strided(t, s->ndim, s->shape, s->stride, s->offset);
  if (!v) return hebbL_raise(L);
  st = hebb_check_writable(v, "index assignment");
  if (st == HEBB_OK)
    st = src ? hebb_copy(v, src) :
         isint ? hebb_fill_i64(v, iv) : hebb_fill(v, x);
  hebb_release(v);
  hebbL_check_status(L, st);
  return 0;
}

/* t[idx] = v for an i64 tensor idx: the slices t[idx[1]], t[idx[2]], ...
   along dim 1 get v (broadcast), or v's slices when v has one per index.
   That is a scatter along dim 1 with the indices repeated over the other
   dims (with repeated indices the last one wins; the core reads v and idx
   from snapshots when they share t's memory). */
static int assign_slices(lua_State *L, hebb_tensor *t, hebb_tensor *k,
                         int val) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  hebb_tensor ix, scratch, *src;
  hebb_num num;
  int d, lead;
  if (t->ndim == 0) luaL_error(L, "cannot index a 0-d tensor");
  if (k->ndim != 1)
    luaL_error(L, "index tensor must be 1-dimensional, got %d dimensions",
               k->ndim);
  src = hebbL_operand(L, val, &scratch, &num);
  ix = *k;
  ix.ndim = t->ndim;
  for (d = 0; d < t->ndim; d++) {
    ix.shape[d] = t->shape[d];
    ix.stride[d] = 0;
  }
  ix.shape[0] = k->shape[0];
  ix.stride[0] = k->stride[0];
  lead = ix.ndim - src->ndim;
  for (d = 0; d < src->ndim && lead >= 0; d++)
    if (src->shape[d] != 1 && src->shape[d] != ix.shape[lead + d]) lead = -1;
  if (lead < 0)
    luaL_error(L, "t[idx] = v: v of shape %s does not broadcast to %s",
               hebb_shape_str(src->ndim, src->shape, b1, sizeof b1),
               hebb_shape_str(ix.ndim, ix.shape, b2, sizeof b2));
  hebbL_check_status(L, hebb_scatter(t, 0, &ix, 1, src, false));
  return 0;
}

static int set_by_tensor(lua_State *L, hebb_tensor *t, int key,
                         hebb_tensor *src, int val) {
  hebb_tensor *k = keytensor(L, key);
  lua_Integer iv;
  lua_Number x;
  int isint;
  if (k->dtype == HEBB_I64) return assign_slices(L, t, k, val);
  if (src) luaL_error(L, "t[mask] = v needs a number or boolean v");
  scalar_value(L, val, &isint, &iv, &x);
  hebbL_check_status(L, hebb_masked_fill(t, k, x));
  return 0;
}

int hebbL_index_set(lua_State *L, hebb_tensor *t, int key, int val) {
  hebb_tensor *src = NULL;
  int vt = lua_type(L, val);
  spot s;
  if (vt == LUA_TUSERDATA) src = hebbL_check(L, val);
  else if (vt != LUA_TNUMBER && vt != LUA_TBOOLEAN)
    luaL_error(L, "cannot assign a %s to tensor elements (expected a number, "
               "boolean or tensor)", luaL_typename(L, val));
  switch (lua_type(L, key)) {
    case LUA_TNUMBER: spot_int(L, t, key, &s); break;
    case LUA_TTABLE: spot_table(L, t, key, &s); break;
    case LUA_TUSERDATA: return set_by_tensor(L, t, key, src, val);
    default:
      return luaL_error(L, "invalid index of type %s", luaL_typename(L, key));
  }
  if (s.scalar && !src) {
    store(L, t, s.offset, val);
    return 0;
  }
  return set_view(L, t, &s, src, val);
}

/* --- registration ------------------------------------------------------ */

static const hebb_lreg view_funcs[] = {
  {"view", l_view, HEBB_BOTH,
   "t:view(d1, d2, ...) or t:view{d1, d2, ...}\n\nThe same elements seen with "
   "another shape, sharing memory with t (writes show through).  One size "
   "may be -1: it is inferred from the element count.  Fails when t's "
   "strides do not allow it (e.g. after a transpose); use reshape then."},
  {"reshape", l_reshape, HEBB_BOTH,
   "t:reshape(d1, d2, ...) or t:reshape{d1, d2, ...}\n\nLike view (one size "
   "may be -1), but copies the elements into a new contiguous tensor when "
   "t's strides do not allow a view.  Without the copy the result shares "
   "memory with t."},
  {"narrow", l_narrow, HEBB_BOTH,
   "t:narrow(dim, start, length)\n\nA view of `length` consecutive elements "
   "of dimension dim, from index start (1-based; negative counts from the "
   "end)."},
  {"select", l_select, HEBB_BOTH,
   "t:select(dim, i)\n\nA view of slice i of dimension dim, which is "
   "removed: a 3x4 matrix gives 4-element rows for select(1, i).  Negative "
   "i counts from the end."},
  {"transpose", l_transpose, HEBB_BOTH,
   "t:transpose([d1 [, d2]])\n\nA view with dimensions d1 and d2 (default 1 "
   "and 2) swapped."},
  {"t", l_t, HEBB_BOTH,
   "t:t()\n\nThe transpose of a matrix (a view); a 0-d or 1-d tensor is "
   "returned as it is."},
  {"permute", l_permute, HEBB_BOTH,
   "t:permute(d1, d2, ...) or t:permute{d1, d2, ...}\n\nA view whose k-th "
   "dimension is t's dimension dk; every dimension appears once."},
  {"expand", l_expand, HEBB_BOTH,
   "t:expand(d1, d2, ...) or t:expand{...}\n\nA view that repeats t along "
   "its size-1 dimensions (and new leading ones) without copying: the "
   "repeated dims have stride 0.  -1 keeps a dimension's size.  In-place "
   "writes into a view that repeats elements are refused; clone it first."},
  {"expand_as", l_expand_as, HEBB_BOTH,
   "t:expand_as(other)\n\nt:expand with other's shape."},
  {"squeeze", l_squeeze, HEBB_BOTH,
   "t:squeeze([dim])\n\nA view without size-1 dimensions; with dim, only "
   "that dimension is dropped, and only if its size is 1."},
  {"unsqueeze", l_unsqueeze, HEBB_BOTH,
   "t:unsqueeze(dim)\n\nA view with a new size-1 dimension at position dim "
   "(1..ndim+1; -1 appends it at the end)."},
  {"flatten", l_flatten, HEBB_BOTH,
   "t:flatten([start [, end]])\n\nDimensions start..end (default: all) "
   "merged into one; a view when the strides allow it, else a copy (as "
   "reshape).  A 0-d tensor becomes 1-d."},
  {"diagonal", l_diagonal, HEBB_BOTH,
   "t:diagonal([offset [, d1, d2]])\n\nA view of the diagonal of the "
   "matrices spanned by dims d1, d2 (default 1, 2), as a new last dimension.  "
   "offset > 0 is above the main diagonal, < 0 below."},
  {"split", l_split, HEBB_BOTH,
   "t:split(size [, dim]) or t:split({s1, s2, ...} [, dim])\n\nA Lua table of "
   "views cutting dimension dim (default 1) into pieces of `size` elements "
   "(the last may be shorter), or of the sizes given (which must add up to "
   "the dim's size)."},
  {"chunk", l_chunk, HEBB_BOTH,
   "t:chunk(n [, dim])\n\nA Lua table of at most n views cutting dimension "
   "dim (default 1) into pieces of equal size (the last may be smaller)."},
  {NULL, NULL, 0, NULL}
};

void hebbL_open_view(lua_State *L, int module, int methods, int mt) {
  hebbL_register(L, view_funcs, module, methods, mt);
}
