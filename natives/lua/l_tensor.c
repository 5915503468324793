/*
** l_tensor.c -- the tensor userdata of `hebb.tensor`: boxing, lifetime,
** metatable, argument helpers, inspection and conversion.  Other binding
** files add creation, views, arithmetic, reductions, indexing, linear
** algebra and randomness to the same module and methods tables (see
** luaopen_hebb_tensor at the end).
*/
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "lhebb.h"

/* The GC is told about tensor memory in batches of at least this many
   bytes, so tiny tensors do not pay a lua_gc call each. */
#define GC_REPORT_BYTES (32 * 1024)

/* --- the box ----------------------------------------------------------- */

/* A box holds a pointer to its tensor's header from the core (heap header
   and storage, released by the box's __gc) or, for a small tensor made by
   the fast paths of l_arith.c, the marker SMALL: then the box itself holds
   the dtype, the shape and the elements, and has a metatable without __gc
   (small_mt below), so the collector frees it like a string with no
   finalizer to run; that and the core's allocations were most of what a
   1-element `a + b` cost (docs/design.md, "Small tensors").  Nothing may
   keep a pointer into a small box beyond the call that got it, so:
   - hebbL_check and hebbL_test first move a small tensor out of its box
     ("promotion": a heap copy, and the box gets the tensor metatable and
     with it its finalizer); every binding that may let the core retain a
     tensor or share its memory (views, results that may be an argument,
     sparse matrices, records) gets heap headers only;
   - the peek forms (hebbL_peek, hebbL_checkpeek) give a header expanded
     into the caller's scratch, for bindings that only read or write the
     elements during their call (the arithmetic fast paths, item, get,
     size, ...). */
typedef struct small_box {
  hebb_tensor *t;         /* &SMALL while small, the heap header once
                             promoted, NULL once freed */
  int32_t dtype, ndim;
  int64_t shape[];        /* ndim sizes, then the elements (8-aligned) */
} small_box;

static hebb_tensor SMALL = {.flags = HEBB_TF_BOXED};   /* never written */

/* registry key of small boxes' metatable */
static const char SMALL_MT_KEY = 0;

void hebbL_push_small_mt(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &SMALL_MT_KEY) == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &SMALL_MT_KEY);
}

/* The metatable of small boxes is a copy of the tensor metatable at 'mt'
   but __gc, with __metatable = the tensor metatable, which getmetatable
   returns for both kinds of box (refreshed after tensor.lua adds its
   metamethods).  Metamethods are looked up raw, so a copy it must be. */
static void fill_small_mt(lua_State *L, int mt) {
  int sm;
  hebbL_push_small_mt(L);
  sm = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, mt)) {
    if (lua_type(L, -2) == LUA_TSTRING &&
        strcmp(lua_tostring(L, -2), "__gc") == 0) {
      lua_pop(L, 1);
      continue;
    }
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, sm);
  }
  lua_pushvalue(L, mt);
  lua_setfield(L, sm, "__metatable");
  lua_pop(L, 1);
}

/* Whether the userdata at idx (box: its memory) is a tensor box: its
   metatable is upvalue 1 (the tensor metatable), or small boxes' one
   (upvalue 5 of the registered functions, else from the registry).
   Compared as pointers: lua_rawequal cost ~75 instructions a call. */
static int is_tensor_box(lua_State *L, int idx, hebb_tensor **box) {
  const void *m;
  int same;
  if (!box || !lua_getmetatable(L, idx)) return 0;
  m = lua_topointer(L, -1);
  lua_pop(L, 1);
  if (m == lua_topointer(L, lua_upvalueindex(1)) ||
      m == lua_topointer(L, lua_upvalueindex(5)))
    return 1;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &SMALL_MT_KEY);
  same = m == lua_topointer(L, -1);
  lua_pop(L, 1);
  return same;
}

/* the header of a small box, in h (never retained, never freed: BOXED) */
static hebb_tensor *expand(small_box *u, hebb_tensor *h) {
  int64_t s = 1;
  int i;
  memset(h, 0, offsetof(hebb_tensor, shape));
  h->dtype = u->dtype;
  h->ndim = u->ndim;
  h->flags = HEBB_TF_BOXED;
  h->refcount = 1;
  h->data = (char *)(u->shape + u->ndim);
  for (i = u->ndim - 1; i >= 0; i--) {   /* row-major, as hebb_empty's */
    h->shape[i] = u->shape[i];
    h->stride[i] = s;
    s *= u->shape[i] > 0 ? u->shape[i] : 1;
  }
  return h;
}

static hebb_tensor *header_of(hebb_tensor **box, hebb_tensor *scratch) {
  hebb_tensor *t = *box;
  return t && (t->flags & HEBB_TF_BOXED) ? expand((small_box *)box, scratch)
                                         : t;
}

hebb_tensor *hebbL_peek(lua_State *L, int idx, hebb_tensor *scratch) {
  hebb_tensor **box = lua_touserdata(L, idx);
  return is_tensor_box(L, idx, box) ? header_of(box, scratch) : NULL;
}

/* The small tensor of the box at idx becomes a heap tensor: copied out,
   and the box gets the tensor metatable, with its __gc (Lua marks an
   object for finalization when it gets a metatable that has __gc). */
static hebb_tensor *promote(lua_State *L, int idx, hebb_tensor **box) {
  hebb_tensor h, *t = hebb_clone(expand((small_box *)box, &h));
  if (!t) hebbL_raise(L);
  idx = lua_absindex(L, idx);
  *box = t;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setmetatable(L, idx);
  hebbL_account(L, t);
  return t;
}

hebb_tensor *hebbL_test(lua_State *L, int idx) {
  hebb_tensor **box = lua_touserdata(L, idx);
  if (!is_tensor_box(L, idx, box) || !*box) return NULL;
  return ((*box)->flags & HEBB_TF_BOXED) ? promote(L, idx, box) : *box;
}

/* the box at idx, raising when it is no tensor or was freed */
static hebb_tensor **checked_box(lua_State *L, int idx) {
  hebb_tensor **box = lua_touserdata(L, idx);
  if (!is_tensor_box(L, idx, box)) luaL_typeerror(L, idx, "tensor");
  if (!*box) hebbL_error(L, "attempt to use a freed tensor (argument #%d)",
                         lua_absindex(L, idx));
  return box;
}

hebb_tensor *hebbL_check(lua_State *L, int idx) {
  hebb_tensor **box = checked_box(L, idx);
  return ((*box)->flags & HEBB_TF_BOXED) ? promote(L, idx, box) : *box;
}

hebb_tensor *hebbL_checkpeek(lua_State *L, int idx, hebb_tensor *scratch) {
  return header_of(checked_box(L, idx), scratch);
}

hebb_tensor **hebbL_newbox(lua_State *L) {
  hebb_tensor **box = lua_newuserdatauv(L, sizeof(hebb_tensor *), 1);
  *box = NULL;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setmetatable(L, -2);
  return box;
}

hebb_tensor *hebbL_newsmall(lua_State *L, int dtype, int ndim,
                            const int64_t *shape, int64_t nbytes,
                            hebb_tensor *scratch) {
  small_box *u = lua_newuserdatauv(L, offsetof(small_box, shape) +
                                   (size_t)ndim * sizeof(int64_t) +
                                   (size_t)nbytes, 1);
  u->t = &SMALL;
  u->dtype = dtype;
  u->ndim = ndim;
  if (ndim > 0) memcpy(u->shape, shape, (size_t)ndim * sizeof(int64_t));
  lua_pushvalue(L, lua_upvalueindex(5));
  if (lua_type(L, -1) != LUA_TTABLE) {   /* not called as registered */
    lua_pop(L, 1);
    hebbL_push_small_mt(L);
  }
  lua_setmetatable(L, -2);
  return expand(u, scratch);
}

/* The length of the "who" a core message starts with ("matmul: ..."), or
   0 when it starts with no name followed by ": ". */
static size_t who_len(const char *msg) {
  size_t n = strspn(msg, "abcdefghijklmnopqrstuvwxyz"
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.");
  return n > 0 && msg[n] == ':' && msg[n + 1] == ' ' ? n : 0;
}

/* A core error names the core operation that failed ("tensor: too many
   elements", "linalg.eig: ..."), which need not be the function the user
   called (T.zeros, linalg.eigvals): the message is raised under the name
   the running function was registered with (upvalue 3 of the hook's
   closure), replacing the core's.  A metamethod keeps the core's name,
   except that the allocator's "out of memory: ..." names none: it gets
   "add" for __add. */
int hebbL_raise(lua_State *L) {
  const char *msg = hebb_last_error();
  const char *name = lua_tostring(L, lua_upvalueindex(3));
  size_t n;
  if (!*msg) msg = "hebb: unknown error";
  if (!name) return luaL_error(L, "%s", msg);   /* a raw function */
  if (name[0] == '_' && name[1] == '_') {
    if (hebb_last_status() == HEBB_ERR_NOMEM &&
        strncmp(msg, "out of memory:", 14) == 0)
      return luaL_error(L, "%s: %s", name + 2, msg);
    return luaL_error(L, "%s", msg);
  }
  n = who_len(msg);
  return luaL_error(L, "%s: %s", name, msg + (n ? n + 2 : 0));
}

void hebbL_check_status(lua_State *L, int status) {
  if (status != HEBB_OK) hebbL_raise(L);
}

/* Lua counts only the memory it allocates itself; tensor storage is
   invisible to it, and a loop dropping big temporaries would grow without
   bound (Torch7's classic failure).  So new storage is reported as GC
   debt.
   Byte for byte, that debt started a cycle (marking and sweeping the whole
   Lua heap, ~0.8 MB once hebb's modules are loaded: ~80 us warm, ~250 us
   after a step's tensors have evicted it from cache) every heap's worth of
   new tensors -- once per step of the MLP of `make bench`.  Lua's pause
   (a cycle when memory has grown by that share of what is in use) should
   count the tensors in use besides the heap, so a report is scaled by
   heap / (heap + tensor bytes in use), the latter capped at LIVE_CAP: a
   cycle then comes after heap + min(in use, LIVE_CAP) new bytes, and a
   large data set does not license as much garbage.  The MLP step took
   9% less CPU time with a 2 MiB cap, 13% with 4 and 19% with 8 or 32
   (one thread, interleaved runs, medians of 8); tests/lua/
   test_memory_paths.lua allows 6 MB of growth to loops that drop 64 KiB
   results, which 16 MiB exceeded.  The cap was 2 MiB until the MLP's
   weight gradient stopped being a new tensor each step (spare gradient
   buffers, docs/design.md) and the resident heap shrank to ~0.6 MB (parts
   loaded on first use): 4 MiB then took the MLP step from a cycle every 12
   steps to one every 19 (~1% of its CPU time), those 6 MB paths peaked at
   2.2 MB at most, and the Klein-Gordon chain of the bench's temporaries row
   kept its 1.00x of the all-closed form. */
#define LIVE_CAP ((int64_t)4 << 20)

static int64_t paced(lua_State *L, int64_t bytes) {
  hebb_alloc_stats st;
  double heap = (double)lua_gc(L, LUA_GCCOUNT) * 1024, live;
  hebb_alloc_get_stats(&st);
  live = (double)(st.bytes_in_use < LIVE_CAP ? st.bytes_in_use : LIVE_CAP);
  if (live <= 0) return bytes;
  return (int64_t)((double)bytes * heap / (heap + live));
}

void hebbL_account(lua_State *L, const hebb_tensor *t) {
  hebbL_state *S;
  if (hebb_storage_refs(t) != 1) return;   /* a view, or no storage */
  S = hebbL_state_of(L);
  S->gc_pending += hebb_storage_nbytes(t) + (int64_t)sizeof(hebb_tensor);
  if (S->gc_pending >= GC_REPORT_BYTES) {
    int64_t p = paced(L, S->gc_pending);
    int kb = p >= ((int64_t)1 << 40) ? (1 << 30) : (int)(p >> 10);
    S->gc_pending = 0;
    lua_gc(L, LUA_GCSTEP, kb > 0 ? kb : 1);
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

/* --- where a result goes ---------------------------------------------- */

/* A result written into a given tensor o (out = o, or the receiver of an
   in-place method) must not change an input before the core has read it:
   T.add(a:narrow(1, 1, 3), 0, {out = a:narrow(1, 2, 3)}) gave 1,1,1,1 for
   a = 1,2,3,4.  So when o may share memory with a tensor among the
   arguments (or in a list argument: cat, einsum), the core computes into a
   fresh result that hebbL_finish then copies into o: the same answer as
   without o.  Elementwise ops read each element before writing the same
   one, so for them o may be the very same view as an input: T.add(a, b,
   {out = a}) and a:add_(b) stay free of allocations. */
static int clashes(const hebb_tensor *o, const hebb_tensor *t, int ewise) {
  return t && hebb_may_overlap(o, t) && !(ewise && hebb_same_view(o, t));
}

/* whether a tensor among the values at first..last (or in a table among
   them) clashes with o */
static int clash_in_args(lua_State *L, const hebb_tensor *o, int first,
                         int last, int ewise) {
  int i, hit = 0;
  lua_Integer k, n;
  for (i = first; i <= last && !hit; i++) {
    if (lua_type(L, i) != LUA_TTABLE) {
      hit = clashes(o, hebbL_test(L, i), ewise);
      continue;
    }
    n = (lua_Integer)lua_rawlen(L, i);
    for (k = 1; k <= n && !hit; k++) {
      lua_rawgeti(L, i, k);
      hit = clashes(o, hebbL_test(L, -1), ewise);
      lua_pop(L, 1);
    }
  }
  return hit;
}

/* The slot for a result going into the tensor at oidx: o itself (returns
   NULL), or on a clash an empty box on top whose second user value is o. */
static hebb_tensor **slot_into(lua_State *L, int oidx, int first, int last,
                               int ewise, hebb_tensor **res) {
  hebb_tensor *o = hebbL_check(L, oidx), **box;
  if (!clash_in_args(L, o, first, last, ewise)) {
    *res = o;
    return NULL;
  }
  box = lua_newuserdatauv(L, sizeof(hebb_tensor *), 2);
  *box = NULL;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setmetatable(L, -2);
  lua_pushvalue(L, oidx);
  lua_setiuservalue(L, -2, 2);
  *res = NULL;
  return box;
}

static hebb_tensor **result_slot(lua_State *L, int opts, hebb_tensor **res,
                                 int ewise) {
  if (opts > 0 && lua_type(L, opts) == LUA_TTABLE) {
    if (lua_getfield(L, opts, "out") != LUA_TNIL)
      return slot_into(L, lua_gettop(L), 1, lua_gettop(L) - 1, ewise, res);
    lua_pop(L, 1);
  }
  *res = NULL;
  return hebbL_newbox(L);
}

hebb_tensor **hebbL_result_slot(lua_State *L, int opts, hebb_tensor **res) {
  return result_slot(L, opts, res, 0);
}

hebb_tensor **hebbL_ewise_slot(lua_State *L, int opts, hebb_tensor **res) {
  return result_slot(L, opts, res, 1);
}

hebb_tensor **hebbL_inplace_slot(lua_State *L, hebb_tensor **res) {
  return slot_into(L, 1, 2, lua_gettop(L), 1, res);
}

/* After a computation into a temporary (slot_into's box at idx): o gets
   the result, after the checks a direct write would have made, and takes
   the box's place on the stack. */
static void deliver(lua_State *L, int idx, hebb_tensor **box) {
  hebb_tensor *o = hebbL_check(L, -1), *res = *box;
  int st = hebb_prepare_out(&o, res->dtype, res->ndim, res->shape,
                            hebbL_fname(L));
  if (st == HEBB_OK) st = hebb_convert_into(o, res);
  hebbL_check_status(L, st);
  *box = NULL;
  hebb_release(res);
  lua_replace(L, idx);
}

void hebbL_finish(lua_State *L, hebb_tensor **box, hebb_tensor *const *resp,
                  int status) {
  hebb_tensor *res = *resp;   /* read here: the core call has set it */
  int idx;
  if (box) {
    *box = status == HEBB_OK ? res : NULL;
    if (status != HEBB_OK && res) hebb_release(res);
  }
  if (status != HEBB_OK) hebbL_raise(L);
  if (!box) return;
  hebbL_account(L, res);
  for (idx = lua_gettop(L); idx > 0 && lua_touserdata(L, idx) != box; idx--)
    ;
  if (idx == 0) return;
  if (lua_getiuservalue(L, idx, 2) == LUA_TUSERDATA) deliver(L, idx, box);
  else lua_pop(L, 1);
}

/* --- argument helpers -------------------------------------------------- */

int hebbL_error(lua_State *L, const char *fmt, ...) {
  const char *name = hebbL_fname(L);
  va_list ap;
  luaL_where(L, 1);
  if (name[0] != '?') lua_pushfstring(L, "%s: ", name);
  else lua_pushliteral(L, "");
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_concat(L, 3);
  return lua_error(L);
}

/* Levenshtein distance of two short names, compared without case */
static int distance(const char *a, const char *b) {
  int prev[64], cur[64], na = (int)strlen(a), nb = (int)strlen(b), i, k;
  if (na > 63 || nb > 63) return 99;
  for (k = 0; k <= nb; k++) prev[k] = k;
  for (i = 1; i <= na; i++) {
    cur[0] = i;
    for (k = 1; k <= nb; k++) {
      int sub = prev[k - 1] + (tolower((unsigned char)a[i - 1]) !=
                               tolower((unsigned char)b[k - 1]));
      int del = prev[k] + 1, ins = cur[k - 1] + 1;
      cur[k] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
    }
    memcpy(prev, cur, sizeof(int) * (size_t)(nb + 1));
  }
  return prev[nb];
}

/* the known name closest to key when it is close enough to be a typo (the
   rule of hebb._error's suggest) */
static const char *suggest(const char *key, const char *const *known) {
  const char *best = NULL;
  int bestd = 99, d;
  for (; *known; known++) {
    d = distance(key, *known);
    if (d < bestd || (d == bestd && strcmp(*known, best) < 0)) {
      best = *known;
      bestd = d;
    }
  }
  return bestd <= 2 || (bestd <= 3 && strlen(key) >= 7) ? best : NULL;
}

void hebbL_checkkeys(lua_State *L, int opts, const char *const *known) {
  const char *const *k;
  if (opts <= 0 || lua_type(L, opts) != LUA_TTABLE) return;
  lua_pushnil(L);
  while (lua_next(L, opts)) {
    const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                      : NULL, *near;
    lua_pop(L, 1);
    for (k = known; key && *k && strcmp(*k, key) != 0; k++)
      ;
    if (key && *k) continue;
    if (!key)   /* as hebb._error's show: tostring of a non-string */
      hebbL_error(L, "unknown option %s", luaL_tolstring(L, -1, NULL));
    near = suggest(key, known);
    if (near)
      hebbL_error(L, "unknown option \"%s\" (did you mean '%s'?)", key, near);
    hebbL_error(L, "unknown option \"%s\"", key);
  }
}

const char *const hebbL_out_keys[] = {"out", NULL};
const char *const hebbL_dtype_keys[] = {"dtype", NULL};

int hebbL_checkopts(lua_State *L, int idx) {
  int tp = lua_type(L, idx);
  if (tp == LUA_TNONE || tp == LUA_TNIL) return 0;
  luaL_argexpected(L, tp == LUA_TTABLE, idx, "options table");
  return idx;
}

void hebbL_noextra(lua_State *L, int max) {
  int top = lua_gettop(L);
  while (top > max && lua_isnil(L, top)) top--;
  if (top > max)
    hebbL_error(L, "takes %d argument%s, got %d (argument #%d is %s)", max,
                max == 1 ? "" : "s", top, top, luaL_typename(L, top));
}

int hebbL_outopts(lua_State *L, int idx) {
  int opts = hebbL_checkopts(L, idx);
  hebbL_checkkeys(L, opts, hebbL_out_keys);
  return opts;
}

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
    hebbL_error(L, "dimension %I out of range for a %d-dimensional tensor "
                "(valid: 1..%d or -%d..-1)", luaL_checkinteger(L, idx), ndim,
                n, n);
  return (int)d - 1;
}

int hebbL_optdim(lua_State *L, int idx, int ndim, int def) {
  return lua_isnoneornil(L, idx) ? def : hebbL_checkdim(L, idx, ndim);
}

static int dtype_named(lua_State *L, int idx) {
  const char *name = lua_tostring(L, idx);
  int d = hebb_dtype_from_name(name);
  if (d < 0)
    hebbL_error(L, "unknown dtype '%s' (expected f64, f32, i64, bool, c128 "
                "or c64)", name);
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
      hebbL_error(L, "option 'dtype' must be a string, got %s",
                  luaL_typename(L, -1));
    d = dtype_named(L, -1);
  }
  lua_pop(L, 1);
  return d;
}

int hebbL_dtypeopts(lua_State *L, int idx, int def) {
  hebbL_checkkeys(L, idx, hebbL_dtype_keys);
  return hebbL_optdtype(L, idx, def);
}

static int64_t checksize(lua_State *L, int idx, int k) {
  int isint;
  lua_Integer n = lua_tointegerx(L, idx, &isint);
  if (!isint && lua_type(L, idx) == LUA_TNUMBER)
    hebbL_error(L, "size %d must be an integer, got %f", k,
                lua_tonumber(L, idx));
  if (!isint)
    hebbL_error(L, "size %d must be an integer, got %s", k,
                luaL_typename(L, idx));
  if (n < 0) hebbL_error(L, "size %d is negative (%I)", k, n);
  return n;
}

int hebbL_checkshape(lua_State *L, int idx, int64_t *shape, int *next) {
  int n = 0;
  if (lua_type(L, idx) == LUA_TTABLE) {
    int len = (int)lua_rawlen(L, idx), i;
    if (len > HEBB_MAXDIM)
      hebbL_error(L, "%d dimensions (at most %d)", len, HEBB_MAXDIM);
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
      hebbL_error(L, "more than %d dimensions", HEBB_MAXDIM);
    shape[n] = checksize(L, idx + n, n + 1);
    n++;
  }
  *next = idx + n;
  return n;
}

/* --- inspection -------------------------------------------------------- */

static int l_numel(lua_State *L) {
  hebb_tensor scratch;
  lua_pushinteger(L, hebb_numel(hebbL_checkpeek(L, 1, &scratch)));
  return 1;
}

/* Pushes the element at p: one Lua value, or for a complex element its
   real and imaginary parts (two numbers; one {re, im} table when 'pair').
   Returns the number of values pushed. */
static int push_elem(lua_State *L, const hebb_tensor *t, const char *p,
                     int pair) {
  double re, im;
  switch (t->dtype) {
    case HEBB_F64: lua_pushnumber(L, *(const double *)p); return 1;
    case HEBB_F32: lua_pushnumber(L, *(const float *)p); return 1;
    case HEBB_I64: lua_pushinteger(L, *(const int64_t *)p); return 1;
    case HEBB_BOOL: lua_pushboolean(L, *(const bool *)p); return 1;
    case HEBB_C128: re = ((const double *)p)[0]; im = ((const double *)p)[1];
      break;
    default: re = ((const float *)p)[0]; im = ((const float *)p)[1]; break;
  }
  if (pair) lua_createtable(L, 2, 0);
  lua_pushnumber(L, re);
  lua_pushnumber(L, im);
  if (!pair) return 2;
  lua_rawseti(L, -3, 2);
  lua_rawseti(L, -2, 1);
  return 1;
}

static int l_item(lua_State *L) {
  hebb_tensor scratch;
  hebb_tensor *t = hebbL_checkpeek(L, 1, &scratch);
  int64_t n = hebb_numel(t);
  if (n != 1)
    return luaL_error(L, "item: tensor has %I elements, expected 1",
                      (lua_Integer)n);
  return push_elem(L, t, hebb_first(t), 0);
}

static void push_nested(lua_State *L, const hebb_tensor *t, int depth,
                        const char *p) {
  int64_t i, isz = hebb_dtype_size(t->dtype);
  if (depth == t->ndim) { push_elem(L, t, p, 1); return; }
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
      luaL_error(L, "%s: index %I out of range for dim %d of size %I", who,
                 luaL_checkinteger(L, i + 2), i + 1, (lua_Integer)t->shape[i]);
    idx[i] = k - 1;
  }
}

static int l_get(lua_State *L) {
  hebb_tensor scratch;
  hebb_tensor *t = hebbL_checkpeek(L, 1, &scratch);
  int64_t idx[HEBB_MAXDIM], off = 0;
  int i;
  checkindex(L, t, lua_gettop(L) - 1, idx, "get");
  for (i = 0; i < t->ndim; i++) off += idx[i] * t->stride[i];
  return push_elem(L, t, hebb_first(t) + off * hebb_dtype_size(t->dtype), 0);
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
  hebb_tensor scratch;
  lua_pushboolean(L, hebb_is_contiguous(hebbL_checkpeek(L, 1, &scratch)));
  return 1;
}

static int l_size(lua_State *L) {
  hebb_tensor scratch;
  hebb_tensor *t = hebbL_checkpeek(L, 1, &scratch);
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
  hebb_tensor scratch;
  hebb_tensor *t = hebbL_checkpeek(L, 1, &scratch);
  int i;
  lua_createtable(L, t->ndim, 0);
  for (i = 0; i < t->ndim; i++) {
    lua_pushinteger(L, t->stride[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int l_shares_storage(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1);   /* argument 1 is checked first */
  lua_pushboolean(L, hebb_same_storage(a, hebbL_check(L, 2)));
  return 1;
}

static int l_is_tensor(lua_State *L) {
  hebb_tensor scratch;
  lua_pushboolean(L, hebbL_peek(L, 1, &scratch) != NULL);
  return 1;
}

/* --- conversion -------------------------------------------------------- */

static int l_clone(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_clone(t));
  return 1;
}

/* t:tobytes(): the elements, row-major, as a Lua string (native byte
   order); a non-contiguous t is copied first */
static int l_tobytes(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  hebb_tensor *c = hebb_contiguous(t);
  if (!c) return hebbL_raise(L);
  lua_pushlstring(L, hebb_first(c), (size_t)(hebb_numel(c) *
                  hebb_dtype_size(c->dtype)));
  hebb_release(c);
  return 1;
}

/* T.frombytes(s, dtype, shape...): a new tensor holding the bytes of s */
static int l_frombytes(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  int dtype = hebbL_checkdtype(L, 2), next, ndim;
  int64_t shape[HEBB_MAXDIM], n = 1;
  hebb_tensor **box;
  ndim = hebbL_checkshape(L, 3, shape, &next);
  hebbL_check_status(L, hebb_check_shape(ndim, shape, &n, "frombytes"));
  if ((size_t)(n * hebb_dtype_size(dtype)) != len)
    return luaL_error(L, "frombytes: %I bytes for %I %s elements (%I bytes "
                      "expected)", (lua_Integer)len, (lua_Integer)n,
                      hebb_dtype_name(dtype),
                      (lua_Integer)(n * hebb_dtype_size(dtype)));
  box = hebbL_newbox(L);
  *box = hebb_from_buffer(dtype, ndim, shape, s);
  if (!*box) return hebbL_raise(L);
  hebbL_account(L, *box);
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
  if (!is_tensor_box(L, idx, box)) luaL_typeerror(L, idx, "tensor");
  return box;
}

/* A storage freed by t:free() or <close> never needed the collector, so
   the bytes hebbL_account reported for it are taken back from the next
   reports (gc_pending goes below zero).  A training step that closes its
   own temporaries then runs fewer cycles: with the MLP rule's ReLU mask
   closed, a cycle came every 23 steps instead of 19.  The credit is
   capped at REFUND_CAP, so closing tensors made long ago lets at most that
   much garbage of other tensors go unreported. */
#define REFUND_CAP ((int64_t)1 << 20)

static void refund(lua_State *L, const hebb_tensor *t) {
  hebbL_state *S;
  if (t->refcount != 1 || hebb_storage_refs(t) != 1) return;  /* still used */
  S = hebbL_state_of(L);
  S->gc_pending -= hebb_storage_nbytes(t) + (int64_t)sizeof(hebb_tensor);
  if (S->gc_pending < -REFUND_CAP) S->gc_pending = -REFUND_CAP;
}

/* releases t's storage (early: by t:free() or <close>, not the collector) */
static void release(lua_State *L, int early) {
  hebb_tensor **box = checkbox(L, 1);
  if (*box && ((*box)->flags & HEBB_TF_BOXED)) *box = NULL;
  else if (*box) {
    hebbL_untrack_last(L, *box);
    if (early) refund(L, *box);
    hebb_release(*box);
    *box = NULL;
  }
}

static int l_free(lua_State *L) {
  release(L, 1);
  return 0;
}

static int l_gc(lua_State *L) {
  release(L, 0);
  return 0;
}

/* --- metamethods ------------------------------------------------------- */

static int l_prop_shape(lua_State *L) { return l_size(L); }

static int l_prop_dtype(lua_State *L) {
  hebb_tensor scratch;
  lua_pushstring(L, hebb_dtype_name(hebbL_checkpeek(L, 1, &scratch)->dtype));
  return 1;
}

static int l_prop_ndim(lua_State *L) {
  hebb_tensor scratch;
  lua_pushinteger(L, hebbL_checkpeek(L, 1, &scratch)->ndim);
  return 1;
}

static int l_getindex(lua_State *L) {
  return hebbL_index_get(L, hebbL_check(L, 1), 2);
}

static int l_setindex(lua_State *L) {
  return hebbL_index_set(L, hebbL_check(L, 1), 2, 3);
}

/* __index: methods first (upvalue 2), then property getters (upvalue 3),
   then element/slice access for integer and table keys, which autograd
   records as "getindex" (upvalue 4: the interpreter's hebbL_state, read
   without a registry lookup on this path of every t[i]). */
static int l_index(lua_State *L) {
  const hebbL_state *S;
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL) return 1;
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(3)) == LUA_TNIL) return 1;
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    return 1;
  }
  S = lua_touserdata(L, lua_upvalueindex(4));
  if (S->recording) return hebbL_record_call(L, "getindex", l_getindex);
  return l_getindex(L);
}

/* __newindex: a string key goes to a property setter (mt.__setters, which
   hebb.autograd fills: t.grad = g); other keys assign elements, recorded
   as the in-place op "setindex_". */
static int l_newindex(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  if (lua_type(L, 2) == LUA_TSTRING) {
    if (lua_getfield(L, lua_upvalueindex(1), "__setters") == LUA_TTABLE) {
      lua_pushvalue(L, 2);
      if (lua_rawget(L, -2) == LUA_TFUNCTION) {
        lua_pushvalue(L, 1);
        lua_pushvalue(L, 3);
        lua_call(L, 2, 0);
        return 0;
      }
    }
    return luaL_error(L, "cannot set field '%s' of a tensor",
                      lua_tostring(L, 2));
  }
  (void)t;
  if (hebbL_recording(L))
    return hebbL_record_call(L, "setindex_", l_setindex);
  return l_setindex(L);
}

static int l_len(lua_State *L) {
  hebb_tensor scratch;
  hebb_tensor *t = hebbL_checkpeek(L, 1, &scratch);
  if (t->ndim == 0) return luaL_error(L, "length of a 0-d tensor");
  lua_pushinteger(L, t->shape[0]);
  return 1;
}

static int l_tostring_raw(lua_State *L) {
  hebb_tensor scratch;
  hebb_tensor *t = hebbL_peek(L, 1, &scratch);
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
  {"numel", l_numel, HEBB_BOTH,
   "t:numel()\n\nThe number of elements."},
  {"item", l_item, HEBB_BOTH,
   "t:item()\n\nThe value of a one-element tensor as a Lua number (integer "
   "for i64, boolean for bool); for c128/c64 two numbers, the real and "
   "imaginary parts (`local re, im = z:item()`)."},
  {"get", l_get, HEBB_BOTH,
   "t:get(i, j, ...)\n\nThe element at the given 1-based indices (one per "
   "dimension; negative counts from the end) as a Lua value (two numbers, "
   "re and im, for a complex tensor)."},
  {"set", l_set, HEBB_BOTH,
   "t:set(i, j, ..., value)\n\nSets the element at the given indices; "
   "returns t."},
  {"totable", l_totable, HEBB_BOTH,
   "t:totable()\n\nThe elements as nested Lua tables (a number for 0-d); "
   "a complex element becomes a pair {re, im}."},
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
  {"tobytes", l_tobytes, HEBB_BOTH,
   "t:tobytes()\n\nThe elements in row-major order as a Lua string of raw "
   "bytes (this machine's byte order); T.frombytes reads them back."},
  {"frombytes", l_frombytes, HEBB_FN,
   "T.frombytes(s, dtype, shape...)\n\nA new tensor of dtype and shape "
   "holding the raw bytes of the string s (as t:tobytes() gives them); "
   "their number must fit exactly.  For bool, any nonzero byte is true."},
  {"contiguous", l_contiguous, HEBB_BOTH,
   "t:contiguous()\n\nt itself if contiguous, otherwise a contiguous copy."},
  {"astype", l_astype, HEBB_BOTH,
   "t:astype(dtype)\n\nA copy converted to dtype ('f64', 'f32', 'i64', "
   "'bool', 'c128', 'c64'); t itself if it already has that dtype.  Floats "
   "convert to i64 by truncation toward zero (NaN gives 0, out-of-range "
   "values saturate).  Complex to real is an error (use real(), imag() or "
   "abs())."},
  {"to", l_astype, HEBB_BOTH,
   "t:to(dtype)\n\nSame as t:astype(dtype)."},
  {"fill_", l_fill_, HEBB_BOTH,
   "t:fill_(value)\n\nSets every element to value, in place; returns t."},
  {"copy_", l_copy_, HEBB_BOTH,
   "t:copy_(src)\n\nCopies src (a tensor broadcastable to t's shape, or a "
   "number) into t, converting dtype; returns t."},
  {"free", l_free, HEBB_BOTH | HEBB_RAW,
   "t:free()\n\nReleases t's memory now; using t afterwards is an error.  "
   "`local t <close> = ...` does this at the end of the scope."},
  {"__gc", l_gc, HEBB_META | HEBB_RAW, NULL},
  {"__close", l_free, HEBB_META | HEBB_RAW, NULL},
  {"__newindex", l_newindex, HEBB_META | HEBB_RAW, NULL},
  {"__len", l_len, HEBB_META | HEBB_RAW, NULL},
  {"__tostring", l_tostring_raw, HEBB_META | HEBB_RAW, NULL},
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
  lua_pushlightuserdata(L, hebbL_state_of(L));
  lua_pushcclosure(L, l_index, 4);
  lua_setfield(L, mt, "__index");
  lua_pop(L, 1);
  lua_pushvalue(L, methods);
  lua_setfield(L, mt, "__methods");
  lua_pushliteral(L, HEBB_TENSOR_MT);
  lua_setfield(L, mt, "__name");
}

/* Tensor memory is reported to the collector as debt (hebbL_account), and
   Lua 5.4's generational mode cannot use that: a result is alive in a
   register or on the C stack during the step its own debt triggers, so it
   survives two minor collections, becomes old, and waits for a major
   collection that Lua's own (tiny) heap never triggers.  `local t = a + b`
   in a loop kept every result (2 GB for 5000 temporaries of 1 MB, 9 MB in
   incremental mode).  So a state that loads tensors collects
   incrementally; docs/design.md ("Memory") says more. */
static void use_incremental_gc(lua_State *L) {
  lua_gc(L, LUA_GCINC, 0, 0, 0);
}

/* Past the memory cap (hebb.max_memory), the allocator asks for a full
   collection before it fails: dropped tensors are freed only when the
   collector finalizes their boxes.  It runs on the main thread, which may
   be waiting in coroutine.resume: a collection is allowed wherever a C
   function may call Lua.  A registry entry unsets the hook when the state
   closes. */
static void collect_garbage(void *ud) {
  lua_gc((lua_State *)ud, LUA_GCCOLLECT);
}

static int unset_reclaim(lua_State *L) {
  (void)L;
  hebb_alloc_set_reclaim(NULL, NULL);
  return 0;
}

static void set_reclaim(lua_State *L) {
  static const char key[] = "hebb.reclaim";
  if (lua_getfield(L, LUA_REGISTRYINDEX, key) != LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  lua_newuserdatauv(L, 0, 0);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, unset_reclaim);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, key);
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  hebb_alloc_set_reclaim(collect_garbage, lua_tothread(L, -1));
  lua_pop(L, 1);
}

int luaopen_hebb_tensor(lua_State *L) {
  int module, methods, mt;
  hebb_preload(L);
  use_incremental_gc(L);
  set_reclaim(L);
  lua_newtable(L);
  module = lua_gettop(L);
  lua_newtable(L);
  methods = lua_gettop(L);
  luaL_newmetatable(L, HEBB_TENSOR_MT);
  mt = lua_gettop(L);
  hebbL_push_small_mt(L);   /* made before the functions that hold it */
  lua_pop(L, 1);
  hebbL_open_tensor(L, module, methods, mt);
  hebbL_open_create(L, module, methods, mt);
  hebbL_open_view(L, module, methods, mt);
  hebbL_open_arith(L, module, methods, mt);
  hebbL_open_reduce(L, module, methods, mt);
  hebbL_open_index(L, module, methods, mt);
  hebbL_open_matmul(L, module, methods, mt);
  hebbL_open_xent(L, module, methods, mt);
  hebbL_open_random(L, module, methods, mt);
  hebbL_open_complex(L, module, methods, mt);
  hebbL_open_contract(L, module, methods, mt);
  hebbL_open_sort(L, module, methods, mt);
  hebbL_open_roll(L, module, methods, mt);
  hebbL_open_special(L, module, methods, mt);
  hebbL_setdoc(L, module, "hebb.tensor\n\nN-dimensional arrays (f64 by "
               "default, f32, i64, bool, complex c128 and c64) with NumPy broadcasting, 1-based "
               "indices, views that never copy, reductions, matmul and a "
               "counter-based random generator.  See docs/tensor.md.");
  fill_small_mt(L, mt);
  /* stdlib/hebb/tensor.lua extends the module (printing, Lua-level
     helpers); it gets the module, methods, metatable and hebb.doc */
  lua_pushvalue(L, module);
  lua_pushvalue(L, methods);
  lua_pushvalue(L, mt);
  lua_pushcfunction(L, hebbL_doc);
  if (hebbL_run_embedded(L, "hebb.tensor", 4)) {
    fill_small_mt(L, mt);   /* with tensor.lua's metamethods */
    return 1;
  }
  lua_settop(L, module);
  return 1;
}
