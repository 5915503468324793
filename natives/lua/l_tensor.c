/*
** l_tensor.c -- the tensor userdata of `hebb.tensor`: boxing, lifetime,
** metatable, creation, inspection and conversion.  Other binding files add
** views, arithmetic, reductions, indexing, linear algebra and randomness to
** the same module and methods tables (see luaopen_hebb_tensor at the end).
*/
#include <math.h>
#include <string.h>

#include "core.h"
#include "lhebb.h"

/* The GC is told about tensor memory in batches of at least this many
   bytes, so tiny tensors do not pay a lua_gc call each. */
#define GC_REPORT_BYTES (256 * 1024)

/* --- the box ----------------------------------------------------------- */

hebb_tensor *hebbL_test(lua_State *L, int idx) {
  hebb_tensor **box = lua_touserdata(L, idx);
  int same;
  if (!box || !lua_getmetatable(L, idx)) return NULL;
  same = lua_rawequal(L, -1, lua_upvalueindex(1));
  lua_pop(L, 1);
  return same ? *box : NULL;
}

hebb_tensor *hebbL_check(lua_State *L, int idx) {
  hebb_tensor **box = lua_touserdata(L, idx);
  int same = 0;
  if (box && lua_getmetatable(L, idx)) {
    same = lua_rawequal(L, -1, lua_upvalueindex(1));
    lua_pop(L, 1);
  }
  if (!same) luaL_typeerror(L, idx, "tensor");
  if (!*box) luaL_error(L, "attempt to use a freed tensor");
  return *box;
}

hebb_tensor **hebbL_newbox(lua_State *L) {
  hebb_tensor **box = lua_newuserdatauv(L, sizeof(hebb_tensor *), 0);
  *box = NULL;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setmetatable(L, -2);
  return box;
}

int hebbL_raise(lua_State *L) {
  const char *msg = hebb_last_error();
  return luaL_error(L, "%s", *msg ? msg : "hebb: unknown error");
}

void hebbL_check_status(lua_State *L, int status) {
  if (status != HEBB_OK) hebbL_raise(L);
}

/* Lua counts only the memory it allocates itself; tensor storage is
   invisible to it, and a loop dropping big temporaries would grow without
   bound (Torch7's classic failure).  So new storage is reported as GC
   debt. */
void hebbL_account(lua_State *L, const hebb_tensor *t) {
  static int64_t pending = 0;
  if (!t->storage || t->storage->refcount != 1) return;   /* a view */
  pending += t->storage->nbytes + (int64_t)sizeof(hebb_tensor);
  if (pending >= GC_REPORT_BYTES) {
    int kb = pending >= ((int64_t)1 << 40) ? (1 << 30) : (int)(pending >> 10);
    pending = 0;
    lua_gc(L, LUA_GCSTEP, kb);
  }
}

void hebbL_fill_box(lua_State *L, hebb_tensor *t) {
  hebb_tensor **box = lua_touserdata(L, -1);
  *box = t;
  if (!t) hebbL_raise(L);
  hebbL_account(L, t);
}

void hebbL_push(lua_State *L, hebb_tensor *t) {
  if (!t) hebbL_raise(L);
  hebbL_newbox(L);
  hebbL_fill_box(L, t);
}

hebb_tensor **hebbL_result_slot(lua_State *L, int opts, hebb_tensor **res) {
  if (opts > 0 && lua_type(L, opts) == LUA_TTABLE) {
    if (lua_getfield(L, opts, "out") != LUA_TNIL) {
      *res = hebbL_check(L, lua_gettop(L));
      return NULL;
    }
    lua_pop(L, 1);
  }
  *res = NULL;
  return hebbL_newbox(L);
}

void hebbL_finish(lua_State *L, hebb_tensor **box, hebb_tensor *res,
                  int status) {
  if (box) {
    *box = status == HEBB_OK ? res : NULL;
    if (status != HEBB_OK && res) hebb_release(res);
  }
  if (status != HEBB_OK) hebbL_raise(L);
  if (box) hebbL_account(L, res);
}

/* --- argument helpers -------------------------------------------------- */

static void wrap_scalar(hebb_tensor *s, int dtype, void *data) {
  memset(s, 0, offsetof(hebb_tensor, shape));
  s->dtype = dtype;
  s->flags = HEBB_TF_WEAK;
  s->refcount = 1;
  s->data = data;
}

hebb_tensor *hebbL_operand(lua_State *L, int idx, hebb_tensor *scratch,
                           hebb_num *num) {
  switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        num->i = lua_tointeger(L, idx);
        wrap_scalar(scratch, HEBB_I64, &num->i);
      } else {
        num->f = lua_tonumber(L, idx);
        wrap_scalar(scratch, HEBB_F64, &num->f);
      }
      return scratch;
    case LUA_TBOOLEAN:
      num->b = lua_toboolean(L, idx);
      wrap_scalar(scratch, HEBB_BOOL, &num->b);
      return scratch;
    default:
      if (lua_type(L, idx) != LUA_TUSERDATA) {
        luaL_typeerror(L, idx, "tensor or number");
        return NULL;
      }
      return hebbL_check(L, idx);
  }
}

int hebbL_checkdim(lua_State *L, int idx, int ndim) {
  lua_Integer d = luaL_checkinteger(L, idx);
  int n = ndim > 0 ? ndim : 1;   /* a 0-d tensor accepts dim 1 / -1 */
  if (d < 0) d += n + 1;
  if (d < 1 || d > n)
    luaL_error(L, "dimension %d out of range for a %d-dimensional tensor "
               "(valid: 1..%d or -%d..-1)", (int)luaL_checkinteger(L, idx),
               ndim, n, n);
  return (int)d - 1;
}

int hebbL_optdim(lua_State *L, int idx, int ndim, int def) {
  return lua_isnoneornil(L, idx) ? def : hebbL_checkdim(L, idx, ndim);
}

static int dtype_named(lua_State *L, int idx) {
  const char *name = lua_tostring(L, idx);
  int d = hebb_dtype_from_name(name);
  if (d < 0)
    luaL_error(L, "unknown dtype '%s' (expected f64, f32, i64 or bool)", name);
  if (d == HEBB_C128 || d == HEBB_C64)
    luaL_error(L, "dtype %s is not supported yet", name);
  return d;
}

int hebbL_checkdtype(lua_State *L, int idx) {
  luaL_checktype(L, idx, LUA_TSTRING);
  return dtype_named(L, idx);
}

int hebbL_optdtype(lua_State *L, int idx, int def) {
  int d = def;
  if (lua_type(L, idx) == LUA_TSTRING) return dtype_named(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE) return def;
  if (lua_getfield(L, idx, "dtype") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "option 'dtype' must be a string");
    d = dtype_named(L, -1);
  }
  lua_pop(L, 1);
  return d;
}

static int64_t checksize(lua_State *L, int idx, int k) {
  int isint;
  lua_Integer n = lua_tointegerx(L, idx, &isint);
  if (!isint)
    luaL_error(L, "size %d must be an integer, got %s", k,
               lua_type(L, idx) == LUA_TNUMBER ? "a non-integral number" :
               luaL_typename(L, idx));
  if (n < 0) luaL_error(L, "size %d is negative (%d)", k, (int)n);
  return n;
}

int hebbL_checkshape(lua_State *L, int idx, int64_t *shape, int *next) {
  int n = 0;
  if (lua_type(L, idx) == LUA_TTABLE) {
    int len = (int)lua_rawlen(L, idx), i;
    if (len > HEBB_MAXDIM)
      luaL_error(L, "%d dimensions (at most %d)", len, HEBB_MAXDIM);
    for (i = 1; i <= len; i++) {
      lua_rawgeti(L, idx, i);
      shape[n++] = checksize(L, -1, i);
      lua_pop(L, 1);
    }
    *next = idx + 1;
    return n;
  }
  while (lua_type(L, idx + n) == LUA_TNUMBER) {
    if (n == HEBB_MAXDIM)
      luaL_error(L, "more than %d dimensions", HEBB_MAXDIM);
    shape[n] = checksize(L, idx + n, n + 1);
    n++;
  }
  *next = idx + n;
  return n;
}

/* --- creation ---------------------------------------------------------- */

/* kind: 0 zeros, 1 ones, 2 full (integer iv when isint, else v), 3 empty */
static int push_filled(lua_State *L, int dtype, int ndim, const int64_t *shape,
                       int kind, int isint, lua_Integer iv, double v) {
  hebb_tensor *t;
  hebbL_newbox(L);
  hebbL_fill_box(L, kind == 0 ? hebb_zeros(dtype, ndim, shape) :
                    hebb_empty(dtype, ndim, shape));
  t = *(hebb_tensor **)lua_touserdata(L, -1);
  if (kind == 1 || kind == 2)
    hebbL_check_status(L, isint && dtype == HEBB_I64 ? hebb_fill_i64(t, iv) :
                          hebb_fill(t, v));
  return 1;
}

static int make_filled(lua_State *L, int kind) {
  int64_t shape[HEBB_MAXDIM];
  int next, ndim, dtype, isint = 1;
  double v = kind == 1 ? 1.0 : 0.0;
  lua_Integer iv = kind == 1;
  if (kind == 2 && lua_type(L, 1) == LUA_TNUMBER) {
    /* full(d1, ..., dn, value): the last of the leading numbers is the value */
    int n = 0;
    while (lua_type(L, n + 1) == LUA_TNUMBER) n++;
    if (n < 2) return luaL_error(L, "full: expected a shape and a value");
    lua_pushvalue(L, n);
    lua_pushnil(L);
    lua_replace(L, n);   /* hide the value from the shape parser */
    ndim = hebbL_checkshape(L, 1, shape, &next);
    lua_replace(L, n);   /* put it back */
    next = n;
  }
  else ndim = hebbL_checkshape(L, 1, shape, &next);
  if (kind == 2) {   /* full(shape, value [, opts]) */
    luaL_checknumber(L, next);
    iv = lua_tointegerx(L, next, &isint);
    v = lua_tonumber(L, next);
    next++;
  }
  dtype = hebbL_optdtype(L, next, HEBB_F64);
  return push_filled(L, dtype, ndim, shape, kind, isint, iv, v);
}

static int l_zeros(lua_State *L) { return make_filled(L, 0); }
static int l_ones(lua_State *L) { return make_filled(L, 1); }
static int l_full(lua_State *L) { return make_filled(L, 2); }
static int l_empty(lua_State *L) { return make_filled(L, 3); }

static int make_like(lua_State *L, int kind) {
  hebb_tensor *a = hebbL_check(L, 1);
  int opt = kind == 2 ? 3 : 2, dtype, isint = 1;
  double v = kind == 1 ? 1.0 : 0.0;
  lua_Integer iv = kind == 1;
  if (kind == 2) {
    v = luaL_checknumber(L, 2);
    iv = lua_tointegerx(L, 2, &isint);
  }
  dtype = hebbL_optdtype(L, opt, a->dtype);
  return push_filled(L, dtype, a->ndim, a->shape, kind, isint, iv, v);
}

static int l_zeros_like(lua_State *L) { return make_like(L, 0); }
static int l_ones_like(lua_State *L) { return make_like(L, 1); }
static int l_full_like(lua_State *L) { return make_like(L, 2); }
static int l_empty_like(lua_State *L) { return make_like(L, 3); }

/* T.tensor(nested table): pass 1 finds the shape and the dtype the values
   need; pass 2 writes them. */
enum { SEEN_BOOL = 1, SEEN_INT = 2, SEEN_FLOAT = 4 };

static void scan_shape(lua_State *L, int idx, int depth, int *ndim,
                       int64_t *shape) {
  if (lua_type(L, idx) != LUA_TTABLE) { *ndim = depth; return; }
  if (depth == HEBB_MAXDIM)
    luaL_error(L, "tensor: nesting deeper than %d", HEBB_MAXDIM);
  shape[depth] = (int64_t)lua_rawlen(L, idx);
  if (shape[depth] == 0) { *ndim = depth + 1; return; }
  lua_rawgeti(L, idx, 1);
  scan_shape(L, lua_gettop(L), depth + 1, ndim, shape);
  lua_pop(L, 1);
}

static void bad_nesting(lua_State *L, int depth, int64_t want, int64_t got) {
  luaL_error(L, "tensor: ragged nested table (at depth %d expected %d "
             "entries, found %d)", depth + 1, (int)want, (int)got);
}

static void scan_values(lua_State *L, int idx, int depth, int ndim,
                        const int64_t *shape, int *seen) {
  int64_t i;
  if (depth == ndim) {
    int tp = lua_type(L, idx);
    if (tp == LUA_TBOOLEAN) *seen |= SEEN_BOOL;
    else if (tp == LUA_TNUMBER)
      *seen |= lua_isinteger(L, idx) ? SEEN_INT : SEEN_FLOAT;
    else if (tp == LUA_TTABLE) bad_nesting(L, depth, 0, 1);
    else luaL_error(L, "tensor: expected numbers or booleans, found %s",
                    luaL_typename(L, idx));
    return;
  }
  if (lua_type(L, idx) != LUA_TTABLE) bad_nesting(L, depth, shape[depth], 0);
  if ((int64_t)lua_rawlen(L, idx) != shape[depth])
    bad_nesting(L, depth, shape[depth], (int64_t)lua_rawlen(L, idx));
  for (i = 1; i <= shape[depth]; i++) {
    lua_rawgeti(L, idx, i);
    scan_values(L, lua_gettop(L), depth + 1, ndim, shape, seen);
    lua_pop(L, 1);
  }
}

static void write_values(lua_State *L, int idx, int depth, hebb_tensor *t,
                         int64_t *pos) {
  int64_t i;
  if (depth == t->ndim) {
    char *p = t->data + (*pos)++ * hebb_dtype_size(t->dtype);
    switch (t->dtype) {
      case HEBB_F64: *(double *)p = lua_tonumber(L, idx); break;
      case HEBB_F32: *(float *)p = (float)lua_tonumber(L, idx); break;
      case HEBB_BOOL: *(bool *)p = lua_toboolean(L, idx); break;
      default:
        if (lua_isinteger(L, idx)) *(int64_t *)p = lua_tointeger(L, idx);
        else if (lua_type(L, idx) == LUA_TBOOLEAN)
          *(int64_t *)p = lua_toboolean(L, idx);
        else *(int64_t *)p = hebb_f2i(lua_tonumber(L, idx));
    }
    return;
  }
  for (i = 1; i <= t->shape[depth]; i++) {
    lua_rawgeti(L, idx, i);
    write_values(L, lua_gettop(L), depth + 1, t, pos);
    lua_pop(L, 1);
  }
}

static int l_tensor_new(lua_State *L) {
  int64_t shape[HEBB_MAXDIM], pos = 0;
  int ndim = 0, seen = 0, dtype;
  hebb_tensor *t;
  luaL_argexpected(L, lua_type(L, 1) == LUA_TTABLE || lua_type(L, 1) ==
                   LUA_TNUMBER || lua_type(L, 1) == LUA_TBOOLEAN, 1,
                   "table or number");
  if (hebbL_test(L, 1)) return luaL_error(L, "tensor: use t:clone() to copy");
  scan_shape(L, 1, 0, &ndim, shape);
  scan_values(L, 1, 0, ndim, shape, &seen);
  dtype = (seen & SEEN_FLOAT) ? HEBB_F64 : (seen & SEEN_INT) ? HEBB_I64 :
          (seen & SEEN_BOOL) ? HEBB_BOOL : HEBB_F64;
  if ((seen & SEEN_BOOL) && (seen & (SEEN_INT | SEEN_FLOAT)))
    dtype = (seen & SEEN_FLOAT) ? HEBB_F64 : HEBB_I64;
  dtype = hebbL_optdtype(L, 2, dtype);
  if (dtype == HEBB_BOOL && (seen & (SEEN_INT | SEEN_FLOAT)))
    luaL_error(L, "tensor: dtype bool needs boolean values");
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_empty(dtype, ndim, shape));
  t = *(hebb_tensor **)lua_touserdata(L, -1);
  write_values(L, 1, 0, t, &pos);
  return 1;
}

/* arange(stop) or arange(start, stop [, step]): inclusive of stop, like
   Lua's numeric for loop; float steps get a relative tolerance of 1e-10 so
   0, 0.1 .. 1 ends at 1. */
static int l_arange(lua_State *L) {
  int both = lua_type(L, 2) == LUA_TNUMBER;
  double start = both ? luaL_checknumber(L, 1) : 1;
  double stop = luaL_checknumber(L, both ? 2 : 1);
  double step = both ? luaL_optnumber(L, 3, 1) : 1;
  int allint = lua_isinteger(L, 1) && (!both || lua_isinteger(L, 2)) &&
               (!both || lua_isnoneornil(L, 3) || lua_isinteger(L, 3));
  int opt = both ? (lua_type(L, 3) == LUA_TNUMBER ? 4 : 3) : 2;
  int dtype = hebbL_optdtype(L, opt, allint ? HEBB_I64 : HEBB_F64);
  double span, count;
  if (step == 0 || step != step) luaL_error(L, "arange: step must be non-zero");
  span = (stop - start) / step;
  if (span != span || isinf(span)) luaL_error(L, "arange: bad range");
  count = span < 0 ? 0 : floor(span + 1e-10 * (fabs(span) + 1)) + 1;
  if (count > 1e15) luaL_error(L, "arange: %g elements is too many", count);
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_arange(dtype, start, step, (int64_t)count));
  return 1;
}

static int l_linspace(lua_State *L) {
  double a = luaL_checknumber(L, 1), b = luaL_checknumber(L, 2);
  lua_Integer n = luaL_checkinteger(L, 3);
  int dtype = hebbL_optdtype(L, 4, HEBB_F64);
  luaL_argcheck(L, n >= 0, 3, "number of points must be >= 0");
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_linspace(dtype, a, b, n));
  return 1;
}

static int l_eye(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  lua_Integer m = lua_type(L, 2) == LUA_TNUMBER ? luaL_checkinteger(L, 2) : n;
  int dtype = hebbL_optdtype(L, lua_type(L, 2) == LUA_TNUMBER ? 3 : 2,
                             HEBB_F64);
  luaL_argcheck(L, n >= 0 && m >= 0, 1, "sizes must be >= 0");
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_eye(dtype, n, m));
  return 1;
}

/* --- inspection -------------------------------------------------------- */

static int l_numel(lua_State *L) {
  lua_pushinteger(L, hebb_numel(hebbL_check(L, 1)));
  return 1;
}

static void push_elem(lua_State *L, const hebb_tensor *t, const char *p) {
  switch (t->dtype) {
    case HEBB_F64: lua_pushnumber(L, *(const double *)p); break;
    case HEBB_F32: lua_pushnumber(L, *(const float *)p); break;
    case HEBB_I64: lua_pushinteger(L, *(const int64_t *)p); break;
    default: lua_pushboolean(L, *(const bool *)p); break;
  }
}

static int l_item(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  int64_t n = hebb_numel(t);
  if (n != 1)
    return luaL_error(L, "item: tensor has %d elements, expected 1", (int)n);
  push_elem(L, t, hebb_first(t));
  return 1;
}

static void push_nested(lua_State *L, const hebb_tensor *t, int depth,
                        const char *p) {
  int64_t i, isz = hebb_dtype_size(t->dtype);
  if (depth == t->ndim) { push_elem(L, t, p); return; }
  luaL_checkstack(L, 4, "tensor too deep");
  lua_createtable(L, (int)t->shape[depth], 0);
  for (i = 0; i < t->shape[depth]; i++) {
    push_nested(L, t, depth + 1, p + i * t->stride[depth] * isz);
    lua_rawseti(L, -2, i + 1);
  }
}

/* the 1-based indices at args 2.. as a 0-based index vector */
static void checkindex(lua_State *L, const hebb_tensor *t, int nargs,
                       int64_t *idx, const char *who) {
  int i;
  if (nargs != t->ndim)
    luaL_error(L, "%s: %d indices given for a %d-dimensional tensor", who,
               nargs, t->ndim);
  for (i = 0; i < nargs; i++) {
    lua_Integer k = luaL_checkinteger(L, i + 2);
    if (k < 0) k += t->shape[i] + 1;
    if (k < 1 || k > t->shape[i])
      luaL_error(L, "%s: index %d out of range for dim %d of size %d", who,
                 (int)luaL_checkinteger(L, i + 2), i + 1, (int)t->shape[i]);
    idx[i] = k - 1;
  }
}

static int l_get(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  int64_t idx[HEBB_MAXDIM], off = 0;
  int i;
  checkindex(L, t, lua_gettop(L) - 1, idx, "get");
  for (i = 0; i < t->ndim; i++) off += idx[i] * t->stride[i];
  push_elem(L, t, hebb_first(t) + off * hebb_dtype_size(t->dtype));
  return 1;
}

static int l_set(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  int64_t idx[HEBB_MAXDIM];
  int n = lua_gettop(L), isint;
  lua_Integer iv;
  if (n < 2) return luaL_error(L, "set: missing value");
  checkindex(L, t, n - 2, idx, "set");
  iv = lua_tointegerx(L, n, &isint);
  if (lua_type(L, n) == LUA_TBOOLEAN) iv = lua_toboolean(L, n), isint = 1;
  else luaL_checknumber(L, n);
  hebbL_check_status(L, isint ? hebb_set_i64(t, idx, iv) :
                        hebb_set(t, idx, lua_tonumber(L, n)));
  lua_settop(L, 1);
  return 1;
}

static int l_totable(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  push_nested(L, t, 0, hebb_first(t));
  return 1;
}

static int l_is_contiguous(lua_State *L) {
  lua_pushboolean(L, hebb_is_contiguous(hebbL_check(L, 1)));
  return 1;
}

static int l_size(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  if (lua_isnoneornil(L, 2)) {
    int i;
    lua_createtable(L, t->ndim, 0);
    for (i = 0; i < t->ndim; i++) {
      lua_pushinteger(L, t->shape[i]);
      lua_rawseti(L, -2, i + 1);
    }
    return 1;
  }
  lua_pushinteger(L, t->shape[hebbL_checkdim(L, 2, t->ndim)]);
  return 1;
}

static int l_stride(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  int i;
  lua_createtable(L, t->ndim, 0);
  for (i = 0; i < t->ndim; i++) {
    lua_pushinteger(L, t->stride[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int l_shares_storage(lua_State *L) {
  lua_pushboolean(L, hebb_same_storage(hebbL_check(L, 1), hebbL_check(L, 2)));
  return 1;
}

static int l_is_tensor(lua_State *L) {
  lua_pushboolean(L, hebbL_test(L, 1) != NULL);
  return 1;
}

/* --- conversion -------------------------------------------------------- */

static int l_clone(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_clone(t));
  return 1;
}

static int l_contiguous(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  if (hebb_is_contiguous(t)) { lua_settop(L, 1); return 1; }
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_clone(t));
  return 1;
}

static int l_astype(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  int dtype = hebbL_checkdtype(L, 2);
  if (dtype == t->dtype) { lua_settop(L, 1); return 1; }
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_astype(t, dtype));
  return 1;
}

static int l_fill_(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  int isint;
  lua_Integer iv = lua_tointegerx(L, 2, &isint);
  if (lua_type(L, 2) == LUA_TBOOLEAN) iv = lua_toboolean(L, 2), isint = 1;
  else luaL_checknumber(L, 2);
  hebbL_check_status(L, isint && t->dtype != HEBB_F64 && t->dtype != HEBB_F32 ?
                        hebb_fill_i64(t, iv) : hebb_fill(t, lua_tonumber(L, 2)));
  lua_settop(L, 1);
  return 1;
}

static int l_copy_(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1), scratch;
  hebb_num num;
  hebb_tensor *src = hebbL_operand(L, 2, &scratch, &num);
  hebbL_check_status(L, hebb_copy(t, src));
  lua_settop(L, 1);
  return 1;
}

/* --- lifetime ---------------------------------------------------------- */

/* the box at idx, freed or not */
static hebb_tensor **checkbox(lua_State *L, int idx) {
  hebb_tensor **box = lua_touserdata(L, idx);
  int same = 0;
  if (box && lua_getmetatable(L, idx)) {
    same = lua_rawequal(L, -1, lua_upvalueindex(1));
    lua_pop(L, 1);
  }
  if (!same) luaL_typeerror(L, idx, "tensor");
  return box;
}

static int l_free(lua_State *L) {
  hebb_tensor **box = checkbox(L, 1);
  if (*box) {
    hebb_release(*box);
    *box = NULL;
  }
  return 0;
}

/* --- metamethods ------------------------------------------------------- */

static int l_prop_shape(lua_State *L) { return l_size(L); }

static int l_prop_dtype(lua_State *L) {
  lua_pushstring(L, hebb_dtype_name(hebbL_check(L, 1)->dtype));
  return 1;
}

static int l_prop_ndim(lua_State *L) {
  lua_pushinteger(L, hebbL_check(L, 1)->ndim);
  return 1;
}

/* __index: methods first (upvalue 2), then property getters (upvalue 3),
   then element/slice access for integer and table keys. */
static int l_index(lua_State *L) {
  int tp = lua_type(L, 2);
  if (tp == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL) return 1;
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(3)) == LUA_TNIL) return 1;
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    return 1;
  }
  return hebbL_index_get(L, hebbL_check(L, 1), 2);
}

static int l_newindex(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  if (lua_type(L, 2) == LUA_TSTRING)
    return luaL_error(L, "cannot set field '%s' of a tensor",
                      lua_tostring(L, 2));
  return hebbL_index_set(L, t, 2, 3);
}

static int l_len(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  if (t->ndim == 0) return luaL_error(L, "length of a 0-d tensor");
  lua_pushinteger(L, t->shape[0]);
  return 1;
}

static int l_tostring_raw(lua_State *L) {
  hebb_tensor *t = hebbL_test(L, 1);
  char buf[HEBB_SHAPEBUF];
  if (!t) {
    lua_pushliteral(L, "tensor (freed)");
    return 1;
  }
  lua_pushfstring(L, "tensor %s %s", hebb_shape_str(t->ndim, t->shape, buf,
                  sizeof buf), hebb_dtype_name(t->dtype));
  return 1;
}

static const hebb_lreg tensor_funcs[] = {
  {"tensor", l_tensor_new, HEBB_FN,
   "T.tensor(values [, dtype|{dtype=}])\n\nA tensor from a number or a nested "
   "table of numbers or booleans.  The dtype is inferred: all integers give "
   "i64, any float gives f64, booleans give bool."},
  {"zeros", l_zeros, HEBB_FN,
   "T.zeros(d1, d2, ... [, opts]) or T.zeros{d1, d2, ...}\n\nA tensor of "
   "zeros (f64 unless opts.dtype / a dtype string says otherwise)."},
  {"ones", l_ones, HEBB_FN,
   "T.ones(shape... [, opts])\n\nA tensor of ones."},
  {"full", l_full, HEBB_FN,
   "T.full(shape, value [, opts])\n\nA tensor with every element = value; "
   "shape as a table, or as integers before the value."},
  {"empty", l_empty, HEBB_FN,
   "T.empty(shape... [, opts])\n\nAn uninitialized tensor (fastest)."},
  {"zeros_like", l_zeros_like, HEBB_BOTH,
   "T.zeros_like(t [, opts])\n\nZeros with t's shape and dtype."},
  {"ones_like", l_ones_like, HEBB_BOTH,
   "T.ones_like(t [, opts])\n\nOnes with t's shape and dtype."},
  {"full_like", l_full_like, HEBB_BOTH,
   "T.full_like(t, value [, opts])\n\nvalue everywhere, t's shape and dtype."},
  {"empty_like", l_empty_like, HEBB_BOTH,
   "T.empty_like(t [, opts])\n\nUninitialized, t's shape and dtype."},
  {"arange", l_arange, HEBB_FN,
   "T.arange([start,] stop [, step] [, opts])\n\nstart, start+step, ... up "
   "to stop INCLUSIVE (hebb's one range rule, as in Lua's for loop).  start "
   "defaults to 1.  Integers give i64, otherwise f64."},
  {"linspace", l_linspace, HEBB_FN,
   "T.linspace(a, b, n [, opts])\n\nn points evenly spaced from a to b, both "
   "included."},
  {"eye", l_eye, HEBB_FN,
   "T.eye(n [, m] [, opts])\n\nThe n x m identity matrix (m = n)."},
  {"numel", l_numel, HEBB_BOTH,
   "t:numel()\n\nThe number of elements."},
  {"item", l_item, HEBB_BOTH,
   "t:item()\n\nThe value of a one-element tensor as a Lua number (integer "
   "for i64, boolean for bool)."},
  {"get", l_get, HEBB_BOTH,
   "t:get(i, j, ...)\n\nThe element at the given 1-based indices (one per "
   "dimension; negative counts from the end) as a Lua value."},
  {"set", l_set, HEBB_BOTH,
   "t:set(i, j, ..., value)\n\nSets the element at the given indices; "
   "returns t."},
  {"totable", l_totable, HEBB_BOTH,
   "t:totable()\n\nThe elements as nested Lua tables (a number for 0-d)."},
  {"is_contiguous", l_is_contiguous, HEBB_BOTH,
   "t:is_contiguous()\n\nWhether the elements are laid out densely in "
   "row-major order."},
  {"size", l_size, HEBB_BOTH,
   "t:size([dim])\n\nThe shape as a table, or the size of one dimension "
   "(1-based, negative from the end)."},
  {"stride", l_stride, HEBB_BOTH,
   "t:stride()\n\nThe strides, in elements, as a table."},
  {"shares_storage", l_shares_storage, HEBB_BOTH,
   "T.shares_storage(a, b)\n\nWhether a and b view the same memory."},
  {"is_tensor", l_is_tensor, HEBB_FN,
   "T.is_tensor(v)\n\nWhether v is a tensor."},
  {"clone", l_clone, HEBB_BOTH,
   "t:clone()\n\nA contiguous copy with its own memory."},
  {"contiguous", l_contiguous, HEBB_BOTH,
   "t:contiguous()\n\nt itself if contiguous, otherwise a contiguous copy."},
  {"astype", l_astype, HEBB_BOTH,
   "t:astype(dtype)\n\nA copy converted to dtype ('f64', 'f32', 'i64', "
   "'bool'); t itself if it already has that dtype.  Floats convert to i64 "
   "by truncation toward zero (NaN gives 0, out-of-range values saturate)."},
  {"to", l_astype, HEBB_BOTH,
   "t:to(dtype)\n\nSame as t:astype(dtype)."},
  {"fill_", l_fill_, HEBB_BOTH,
   "t:fill_(value)\n\nSets every element to value, in place; returns t."},
  {"copy_", l_copy_, HEBB_BOTH,
   "t:copy_(src)\n\nCopies src (a tensor broadcastable to t's shape, or a "
   "number) into t, converting dtype; returns t."},
  {"free", l_free, HEBB_BOTH,
   "t:free()\n\nReleases t's memory now; using t afterwards is an error.  "
   "`local t <close> = ...` does this at the end of the scope."},
  {"__gc", l_free, HEBB_META, NULL},
  {"__close", l_free, HEBB_META, NULL},
  {"__newindex", l_newindex, HEBB_META, NULL},
  {"__len", l_len, HEBB_META, NULL},
  {"__tostring", l_tostring_raw, HEBB_META, NULL},
  {NULL, NULL, 0, NULL}
};

static const luaL_Reg getters[] = {
  {"shape", l_prop_shape}, {"dtype", l_prop_dtype}, {"ndim", l_prop_ndim},
  {NULL, NULL}
};

void hebbL_open_tensor(lua_State *L, int module, int methods, int mt) {
  int i;
  hebbL_register(L, tensor_funcs, module, methods, mt);
  lua_newtable(L);   /* getters, each with the metatable as upvalue */
  lua_createtable(L, 3, 0);   /* __properties: names for completion */
  for (i = 0; getters[i].name; i++) {
    lua_pushvalue(L, mt);
    lua_pushcclosure(L, getters[i].func, 1);
    lua_setfield(L, -3, getters[i].name);
    lua_pushstring(L, getters[i].name);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, mt, "__properties");
  lua_pushvalue(L, -1);
  lua_setfield(L, mt, "__getters");
  lua_pushvalue(L, mt);
  lua_pushvalue(L, methods);
  lua_pushvalue(L, -3);
  lua_pushcclosure(L, l_index, 3);
  lua_setfield(L, mt, "__index");
  lua_pop(L, 1);
  lua_pushvalue(L, methods);
  lua_setfield(L, mt, "__methods");
  lua_pushliteral(L, HEBB_TENSOR_MT);
  lua_setfield(L, mt, "__name");
}

int luaopen_hebb_tensor(lua_State *L) {
  int module, methods, mt;
  hebb_preload(L);
  lua_newtable(L);
  module = lua_gettop(L);
  lua_newtable(L);
  methods = lua_gettop(L);
  luaL_newmetatable(L, HEBB_TENSOR_MT);
  mt = lua_gettop(L);
  hebbL_open_tensor(L, module, methods, mt);
  hebbL_open_view(L, module, methods, mt);
  hebbL_open_arith(L, module, methods, mt);
  hebbL_open_reduce(L, module, methods, mt);
  hebbL_open_index(L, module, methods, mt);
  hebbL_open_linalg(L, module, methods, mt);
  hebbL_open_random(L, module, methods, mt);
  hebbL_setdoc(L, module, "hebb.tensor\n\nN-dimensional arrays (f64 by "
               "default, f32, i64, bool) with NumPy broadcasting, 1-based "
               "indices, views that never copy, reductions, matmul and a "
               "counter-based random generator.  See docs/tensor.md.");
  /* stdlib/hebb/tensor.lua extends the module (printing, Lua-level
     helpers); it gets the module, methods, metatable and hebb.doc */
  lua_pushvalue(L, module);
  lua_pushvalue(L, methods);
  lua_pushvalue(L, mt);
  lua_pushcfunction(L, hebbL_doc);
  if (hebbL_run_embedded(L, "hebb.tensor", 4)) return 1;
  lua_settop(L, module);
  return 1;
}
