/*
** l_autograd.c -- the C half of hebb.autograd: the recording hook that every
** registered tensor function passes through, the "tracked" flag on tensor
** headers, and the few primitives the Lua engine (stdlib/hebb/autograd.lua)
** needs.  The tape itself, the backward rules and the traversal are Lua:
** rules are tensor expressions, so that they can be differentiated again.
**
** The hook costs one global read per call while no tracked tensor is alive
** or grad mode is off; only then does it look at the arguments.
*/
#include <string.h>

#include "core.h"
#include "lhebb.h"

/* registry key of the Lua recorder function */
static const char RECORDER_KEY[] = "hebb.autograd.recorder";

/* Process-wide, like hebb's thread count: tensors belong to one interpreter
   thread, and a second interpreter only makes the fast path rarer. */
static int grad_enabled = 1;
static int64_t tracked_live = 0;
int hebbL_recording = 0;

static void update_recording(void) {
  hebbL_recording = grad_enabled && tracked_live > 0;
}

static void track(hebb_tensor *t) {
  if (t->flags & HEBB_TF_TRACKED) return;
  t->flags |= HEBB_TF_TRACKED;
  tracked_live++;
  update_recording();
}

static void untrack(hebb_tensor *t) {
  if (!(t->flags & HEBB_TF_TRACKED)) return;
  t->flags &= ~HEBB_TF_TRACKED;
  tracked_live--;
  update_recording();
}

void hebbL_untrack_last(hebb_tensor *t) {
  if (t->refcount == 1) untrack(t);
}

/* --- the hook ---------------------------------------------------------- */

static int is_tracked(lua_State *L, int idx) {
  hebb_tensor *t = hebbL_test(L, idx);
  return t && (t->flags & HEBB_TF_TRACKED);
}

/* any argument a tracked tensor, or a list holding one (cat, stack, ncon) */
static int any_tracked(lua_State *L, int n) {
  int i;
  lua_Integer k, len;
  for (i = 1; i <= n; i++) {
    int tp = lua_type(L, i);
    if (tp == LUA_TUSERDATA && is_tracked(L, i)) return 1;
    if (tp != LUA_TTABLE) continue;
    len = (lua_Integer)lua_rawlen(L, i);
    for (k = 1; k <= len; k++) {
      int hit = lua_rawgeti(L, i, k) == LUA_TUSERDATA && is_tracked(L, -1);
      lua_pop(L, 1);
      if (hit) return 1;
    }
  }
  return 0;
}

/* An in-place op (its name ends in '_', or t:set) overwrites its first
   argument, whose old value a backward rule may need: keep a copy of it
   (only on the recording path). */
static void push_old_value(lua_State *L, const char *name) {
  size_t len = strlen(name);
  hebb_tensor *t = hebbL_test(L, 1);
  int inplace = (len > 1 && name[len - 1] == '_') || strcmp(name, "set") == 0;
  if (inplace && t) hebbL_push(L, hebb_clone(t));
  else lua_pushnil(L);
}

/* Calls raw (a C function taking the tensor metatable as upvalue 1, as the
   caller does) with the arguments on the stack (the op's name is 'name', or
   the string at name_idx); when one of them is tracked,
   hands the call to the Lua recorder as
   recorder(name, n, arg1..argn, old, result1..resultk), whose results
   (possibly 0-d tensors in place of numbers) are returned. */
static int record(lua_State *L, const char *name, int name_idx,
                  lua_CFunction raw) {
  int n = lua_gettop(L), i, base;
  if (!any_tracked(L, n)) return raw(L);
  if (lua_getfield(L, LUA_REGISTRYINDEX, RECORDER_KEY) != LUA_TFUNCTION) {
    lua_pop(L, 1);
    return raw(L);
  }
  if (name) lua_pushstring(L, name);
  else lua_pushvalue(L, name_idx);
  lua_pushinteger(L, n);
  for (i = 1; i <= n; i++) lua_pushvalue(L, i);
  push_old_value(L, name ? name : lua_tostring(L, name_idx));
  base = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));   /* the trampoline's upvalues */
  lua_pushvalue(L, lua_upvalueindex(2));
  if (name) lua_pushstring(L, name);
  else lua_pushvalue(L, name_idx);
  lua_pushcclosure(L, raw, 3);
  for (i = 1; i <= n; i++) lua_pushvalue(L, i);
  lua_call(L, n, LUA_MULTRET);
  lua_call(L, 3 + n + (lua_gettop(L) - base), LUA_MULTRET);
  return lua_gettop(L) - n;
}

int hebbL_record_call(lua_State *L, const char *name, lua_CFunction raw) {
  return record(L, name, 0, raw);
}

/* What hebbL_register installs: upvalue 1 the tensor metatable, 2 the
   registration entry (static), 3 the op's name for the rules. */
int hebbL_trampoline(lua_State *L) {
  const hebb_lreg *r = lua_touserdata(L, lua_upvalueindex(2));
  if (!hebbL_recording) return r->func(L);
  return record(L, NULL, lua_upvalueindex(3), r->func);
}

/* --- primitives for the Lua engine ------------------------------------- */

static int l_set_recorder(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, RECORDER_KEY);
  return 0;
}

/* A tensor's autograd record (a Lua table) is the user value of its box,
   so it lives and dies with the box. */

/* track(t, rec): gives a floating-point t the record rec and the tracked
   flag; returns whether t is floating-point (else nothing changes) */
static int l_track(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  int floating = t->dtype == HEBB_F64 || t->dtype == HEBB_F32 ||
                 hebb_is_complex(t->dtype);
  if (floating) {
    track(t);
    lua_settop(L, 2);
    lua_setiuservalue(L, 1, 1);
  }
  lua_pushboolean(L, floating);
  return 1;
}

static int l_untrack(lua_State *L) {
  untrack(hebbL_check(L, 1));
  lua_pushnil(L);
  lua_setiuservalue(L, 1, 1);
  return 0;
}

/* record(v): the record of v if v is a tensor that has one, else nil */
static int l_record(lua_State *L) {
  if (hebbL_test(L, 1)) lua_getiuservalue(L, 1, 1);
  else lua_pushnil(L);
  return 1;
}

static int l_set_enabled(lua_State *L) {
  int prev = grad_enabled;
  grad_enabled = lua_toboolean(L, 1);
  update_recording();
  lua_pushboolean(L, prev);
  return 1;
}

static int l_is_enabled(lua_State *L) {
  lua_pushboolean(L, grad_enabled);
  return 1;
}

static int l_version(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)hebb_version_counter(hebbL_check(L, 1)));
  return 1;
}

/* a new header over the same elements, carrying no autograd identity */
static int l_alias(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  hebbL_push(L, hebb_as_strided(t, t->ndim, t->shape, t->stride, t->offset));
  return 1;
}

/* whether a and b have the same shape (without making shape tables) */
static int l_same_shape(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), *b = hebbL_check(L, 2);
  int same = a->ndim == b->ndim &&
             memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof(int64_t)) == 0;
  lua_pushboolean(L, same);
  return 1;
}

/* How a gradient g fits the value like it is for: 0 as it is, 1 after
   conversion to like's dtype (a real value's gradient stays real; a
   complex value may get a real one), 2 shapes differ, 3 g is no tensor.
   One call where backward would otherwise read two shapes and dtypes. */
static int l_fit(lua_State *L) {
  hebb_tensor *g = hebbL_test(L, 1), *like = hebbL_check(L, 2);
  int kind;
  if (!g) kind = 3;
  else if (g->ndim != like->ndim || memcmp(g->shape, like->shape,
           (size_t)g->ndim * sizeof(int64_t)) != 0) kind = 2;
  else kind = g->dtype != like->dtype && !hebb_is_complex(like->dtype);
  lua_pushinteger(L, kind);
  return 1;
}

/* The storage of t as a light userdata when t is contiguous and spans all
   of it, else nil.  Backward may then keep t itself as a leaf's gradient
   (no copy) unless that storage went to another leaf already: the tensors
   of a backward pass are reachable only through the gradients it hands
   out. */
static int l_dense_storage(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  if (t->storage && t->offset == 0 && hebb_is_contiguous(t) &&
      hebb_numel(t) * hebb_dtype_size(t->dtype) == t->storage->nbytes)
    lua_pushlightuserdata(L, t->storage);
  else
    lua_pushnil(L);
  return 1;
}

static int l_live(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)tracked_live);
  return 1;
}

static const hebb_lreg autograd_funcs[] = {
  {"set_recorder", l_set_recorder, HEBB_FN | HEBB_RAW, NULL},
  {"track", l_track, HEBB_FN | HEBB_RAW, NULL},
  {"untrack", l_untrack, HEBB_FN | HEBB_RAW, NULL},
  {"record", l_record, HEBB_FN | HEBB_RAW, NULL},
  {"set_enabled", l_set_enabled, HEBB_FN | HEBB_RAW, NULL},
  {"is_enabled", l_is_enabled, HEBB_FN | HEBB_RAW, NULL},
  {"version", l_version, HEBB_FN | HEBB_RAW, NULL},
  {"alias", l_alias, HEBB_FN | HEBB_RAW, NULL},
  {"same_shape", l_same_shape, HEBB_FN | HEBB_RAW, NULL},
  {"dense_storage", l_dense_storage, HEBB_FN | HEBB_RAW, NULL},
  {"fit", l_fit, HEBB_FN | HEBB_RAW, NULL},
  {"live", l_live, HEBB_FN | HEBB_RAW, NULL},
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb__autograd(lua_State *L) {
  return hebbL_newmodule(L, autograd_funcs,
                         "hebb._autograd\n\nThe C half of hebb.autograd "
                         "(internal): recording hook and tracked flags.");
}
