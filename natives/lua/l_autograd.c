/*
** l_autograd.c -- the C half of hebb.autograd: the recording hook that every
** registered tensor function passes through, the "tracked" flag on tensor
** headers, and the few primitives the Lua engine (stdlib/hebb/autograd.lua)
** needs.  The tape itself, the backward rules and the traversal are Lua:
** rules are tensor expressions, so that they can be differentiated again.
**
** The hook costs one read of the interpreter's state (an upvalue) per call
** while no tracked tensor is alive or grad mode is off; only then does it
** look at the arguments.
*/
#include <string.h>

#include "lhebb.h"

/* registry key of the Lua recorder function; the state's key is the
   address of STATE_KEY (lua_rawgetp: no string to hash on every call) */
static const char RECORDER_KEY[] = "hebb.autograd.recorder";
static const char STATE_KEY = 0;

/* Per lua_State, in a userdata the registry keeps (so it lives as long as
   the interpreter): grad mode and the count of tracked tensors of one
   interpreter say nothing about another's (tests/module/states.c).
   Inside a registered function, upvalue 2 holds it as a light userdata (no
   other closure of the bindings has one there): the registry lookup would
   cost 15-20 ns of the 175 ns of a + b on small tensors. */
hebbL_state *hebbL_state_of(lua_State *L) {
  hebbL_state *S;
  if (lua_type(L, lua_upvalueindex(2)) == LUA_TLIGHTUSERDATA)
    return lua_touserdata(L, lua_upvalueindex(2));
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &STATE_KEY) == LUA_TUSERDATA) {
    S = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return S;
  }
  lua_pop(L, 1);
  S = lua_newuserdatauv(L, sizeof *S, 0);
  memset(S, 0, sizeof *S);
  S->grad_enabled = 1;
  lua_rawsetp(L, LUA_REGISTRYINDEX, &STATE_KEY);
  return S;
}

static void update_recording(hebbL_state *S) {
  S->recording = S->grad_enabled && S->tracked_live > 0;
}

static void track(lua_State *L, hebb_tensor *t) {
  hebbL_state *S;
  if (t->flags & HEBB_TF_TRACKED) return;
  S = hebbL_state_of(L);
  t->flags |= HEBB_TF_TRACKED;
  S->tracked_live++;
  update_recording(S);
}

static void untrack(lua_State *L, hebb_tensor *t) {
  hebbL_state *S;
  if (!(t->flags & HEBB_TF_TRACKED)) return;
  S = hebbL_state_of(L);
  t->flags &= ~HEBB_TF_TRACKED;
  S->tracked_live--;
  update_recording(S);
}

void hebbL_untrack_last(lua_State *L, hebb_tensor *t) {
  if (t->refcount == 1) untrack(L, t);
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

static int is_inplace(const char *name) {
  size_t len = strlen(name);
  return (len > 1 && name[len - 1] == '_') || strcmp(name, "set") == 0;
}

/* An in-place op (its name ends in '_', or t:set) overwrites its first
   argument, whose old value a backward rule may need: keep a copy of it
   (only on the recording path). */
static void push_old_value(lua_State *L, const char *name) {
  hebb_tensor *t = hebbL_test(L, 1);
  if (is_inplace(name) && t) hebbL_push(L, hebb_clone(t));
  else lua_pushnil(L);
}

/* --- the usual call, recorded in C ------------------------------------- */

/* registry key of the rules table (name -> rule, or false for nondiff) */
static const char RULES_KEY[] = "hebb.autograd.rules";

/* The field names of nodes and records, interned once (registry, at the
   address of KEYS): lua_setfield hashes and compares its C string at
   every call, ~100 instructions a field. */
enum { K_NAME = 1, K_RULE, K_ARGS, K_N, K_INPUTS, K_VERSIONS, K_OUT,
       K_NODE, K_SLOT, K_MULTI, K_SAVES, NKEYS };
static const char *const KEYS[NKEYS] = {NULL, "name", "rule", "args", "n",
  "inputs", "versions", "out", "node", "slot", "multi", "saves"};

static void make_keys(lua_State *L) {
  int k;
  lua_createtable(L, NKEYS, 0);
  for (k = 1; k < NKEYS; k++) {
    lua_pushstring(L, KEYS[k]);
    lua_rawseti(L, -2, k);
  }
  lua_rawsetp(L, LUA_REGISTRYINDEX, KEYS);
}

/* t[key k] = the value on top (popped); keys at index 'keys' */
static void setkey(lua_State *L, int t, int keys, int k) {
  lua_rawgeti(L, keys, k);
  lua_insert(L, -2);
  lua_rawset(L, t);
}

/* pushes t[key k] */
static int getkey(lua_State *L, int t, int keys, int k) {
  lua_rawgeti(L, keys, k);
  return lua_rawget(L, t);
}

/* node.versions for a rule that reads arguments (or, p = 0, the result
   at o): the version counter of each tensor among them.  Sets node.out
   when the result is read.  The node is on top. */
static void save_versions(lua_State *L, int n, int o, int saves, int keys) {
  lua_Integer j, len = (lua_Integer)lua_rawlen(L, saves), p;
  int node = saves - 1;
  hebb_tensor *v;
  lua_createtable(L, 0, (int)len);
  for (j = 1; j <= len; j++) {
    lua_rawgeti(L, saves, j);
    p = lua_tointeger(L, -1);
    lua_pop(L, 1);
    v = p == 0 ? hebbL_test(L, o) : p <= n ? hebbL_test(L, (int)p) : NULL;
    if (!v) continue;
    lua_pushinteger(L, (lua_Integer)hebb_version_counter(v));
    lua_rawseti(L, -2, p);
    if (p != 0) continue;
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, o);
    lua_rawseti(L, -2, 1);
    setkey(L, node, keys, K_OUT);
  }
  setkey(L, node, keys, K_VERSIONS);
}

/* The node of a call that is not in place, has no list arguments and one
   fresh tensor result (at o), made here as the Lua recorder makes it
   (hebb._autograd_engine's record: node {name, rule, args, n, inputs,
   versions, out}, and the result's record, with fields node and slot)
   without calling it: a tracked 1-element add took 20 400 instructions
   through Lua, ~12 000 here (docs/performance.md, issue 16).  Returns 0,
   with the stack as it was, for every other case (no rule yet, several
   outputs, a result that is an argument or has a record), which the Lua
   recorder handles. */
static int record_here(lua_State *L, int n, int name_idx, int o) {
  hebb_tensor *ot = hebbL_test(L, o);
  int i, rule, node, keys, any = 0;
  if (!ot) return 0;
  for (i = 1; i <= n; i++)
    if (lua_type(L, i) == LUA_TTABLE || lua_rawequal(L, i, o)) return 0;
  if (lua_getiuservalue(L, o, 1) != LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pop(L, 1);
  luaL_checkstack(L, n + 8, "autograd");
  lua_rawgetp(L, LUA_REGISTRYINDEX, KEYS);
  keys = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, RULES_KEY);
  lua_pushvalue(L, name_idx);
  rule = lua_gettop(L);
  if (lua_type(L, -2) != LUA_TTABLE || lua_rawget(L, -2) != LUA_TTABLE ||
      getkey(L, rule, keys, K_MULTI) != LUA_TNIL) {
    lua_settop(L, o);
    return 0;
  }
  lua_pop(L, 1);
  lua_createtable(L, 0, 9);
  node = lua_gettop(L);
  if (getkey(L, rule, keys, K_NAME) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushvalue(L, name_idx);
  }
  setkey(L, node, keys, K_NAME);
  lua_pushvalue(L, rule);
  setkey(L, node, keys, K_RULE);
  lua_createtable(L, n, 1);                       /* args */
  for (i = 1; i <= n; i++) {
    lua_pushvalue(L, i);
    lua_rawseti(L, -2, i);
  }
  lua_pushinteger(L, n);
  setkey(L, node + 1, keys, K_N);
  setkey(L, node, keys, K_ARGS);
  lua_pushinteger(L, n);
  setkey(L, node, keys, K_N);
  lua_createtable(L, n, 0);                       /* inputs */
  for (i = 1; i <= n; i++) {
    if (!hebbL_test(L, i)) continue;
    if (lua_getiuservalue(L, i, 1) == LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    lua_rawseti(L, -2, i);
    any = 1;
  }
  setkey(L, node, keys, K_INPUTS);
  if (any && getkey(L, rule, keys, K_SAVES) == LUA_TTABLE)
    save_versions(L, n, o, lua_gettop(L), keys);   /* (just above the node) */
  lua_settop(L, node);
  if (any && (ot->dtype == HEBB_F64 || ot->dtype == HEBB_F32 ||
              hebb_is_complex(ot->dtype))) {
    /* the result's record {node, slot = 1} is the node itself: the engine
       reads only r.node and r.slot of it (and keeps r.grad, r.retain,
       r.owned there), names no node field so, and one table fewer is
       ~1200 instructions a call */
    lua_pushvalue(L, node);
    setkey(L, node, keys, K_NODE);
    lua_pushinteger(L, 1);
    setkey(L, node, keys, K_SLOT);
    track(L, ot);
    lua_pushvalue(L, node);
    lua_setiuservalue(L, o, 1);
  }
  lua_settop(L, o);
  return 1;
}

/* A trampoline's call that is not in place: raw runs (in a frame of its
   own, since it may overwrite its arguments: __unm's lua_settop), then the
   result is recorded here or by the Lua recorder. */
static int record_fresh(lua_State *L, int n, int name_idx,
                        lua_CFunction raw) {
  int k, top, i;
  lua_pushvalue(L, lua_upvalueindex(1));   /* the trampoline's upvalues */
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_pushvalue(L, name_idx);
  lua_pushcclosure(L, raw, 3);
  for (i = 1; i <= n; i++) lua_pushvalue(L, i);
  lua_call(L, n, LUA_MULTRET);
  top = lua_gettop(L);
  k = top - n;
  if (k == 1 && record_here(L, n, name_idx, top)) return 1;
  luaL_checkstack(L, n + k + 4, "autograd");
  lua_getfield(L, LUA_REGISTRYINDEX, RECORDER_KEY);
  lua_pushvalue(L, name_idx);
  lua_pushinteger(L, n);
  for (i = 1; i <= n; i++) lua_pushvalue(L, i);
  lua_pushnil(L);
  for (i = top - k + 1; i <= top; i++) lua_pushvalue(L, i);
  lua_call(L, 3 + n + k, LUA_MULTRET);
  return lua_gettop(L) - top;
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
  lua_pop(L, 1);
  if (!name && !is_inplace(lua_tostring(L, name_idx)))
    return record_fresh(L, n, name_idx, raw);
  lua_getfield(L, LUA_REGISTRYINDEX, RECORDER_KEY);
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
   interpreter's hebbL_state, 3 the op's name for the rules, 4 the binding's
   function. */
int hebbL_trampoline(lua_State *L) {
  const hebbL_state *S = lua_touserdata(L, lua_upvalueindex(2));
  lua_CFunction f = lua_tocfunction(L, lua_upvalueindex(4));
  if (!S->recording) return f(L);
  return record(L, NULL, lua_upvalueindex(3), f);
}

/* --- primitives for the Lua engine ------------------------------------- */

/* set_recorder(fn, rules): the Lua recorder and its rules table */
static int l_set_recorder(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  make_keys(L);
  lua_setfield(L, LUA_REGISTRYINDEX, RULES_KEY);
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
    track(L, t);
    lua_settop(L, 2);
    lua_setiuservalue(L, 1, 1);
  }
  lua_pushboolean(L, floating);
  return 1;
}

static int l_untrack(lua_State *L) {
  untrack(L, hebbL_check(L, 1));
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
  hebbL_state *S = hebbL_state_of(L);
  int prev = S->grad_enabled;
  S->grad_enabled = lua_toboolean(L, 1);
  update_recording(S);
  lua_pushboolean(L, prev);
  return 1;
}

static int l_is_enabled(lua_State *L) {
  lua_pushboolean(L, hebbL_state_of(L)->grad_enabled);
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
      hebb_numel(t) * hebb_dtype_size(t->dtype) == hebb_storage_nbytes(t))
    lua_pushlightuserdata(L, t->storage);
  else
    lua_pushnil(L);
  return 1;
}

static int l_live(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)hebbL_state_of(L)->tracked_live);
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
