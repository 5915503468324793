/*
** l_autograd.c -- the C half of hebb.autograd: the recording hook that every
** registered tensor function passes through, the "tracked" flag on tensor
** headers, and the tape: its nodes (userdata) and the order backward runs
** them in, which the Lua engine (stdlib/hebb/_autograd_engine.lua) reads
** through the primitives below.  The backward rules and the summing of
** gradients are Lua: rules are tensor expressions, so that they can be
** differentiated again.
**
** The hook costs one read of the interpreter's state (an upvalue) per call
** while no tracked tensor is alive or grad mode is off; only then does it
** look at the arguments.
*/
#include <string.h>

#include "lhebb.h"

/* the registry key of the state: the address of STATE_KEY (lua_rawgetp:
   no string to hash on every call) */
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

/* Any argument a tracked tensor, or a list holding one (cat, stack, ncon).
   Sets bit i - 1 of *tensors for each tensor argument i <= 32 (tested once
   here, the recording reads the bits); it looks at every argument then. */
#define MAXBITS 32
static int any_tracked(lua_State *L, int n, unsigned *tensors) {
  int i, any = 0;
  lua_Integer k, len;
  *tensors = 0;
  for (i = 1; i <= n; i++) {
    int tp = lua_type(L, i);
    hebb_tensor *t;
    if (tp == LUA_TUSERDATA && (t = hebbL_test(L, i)) != NULL) {
      if (i <= MAXBITS) *tensors |= 1u << (i - 1);
      any |= (t->flags & HEBB_TF_TRACKED) != 0;
      if (any && n > MAXBITS) return 1;
      continue;
    }
    if (tp != LUA_TTABLE) continue;
    len = (lua_Integer)lua_rawlen(L, i);
    for (k = 1; k <= len; k++) {
      int hit = lua_rawgeti(L, i, k) == LUA_TUSERDATA && is_tracked(L, -1);
      lua_pop(L, 1);
      if (hit) return 1;
    }
  }
  return any;
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

/* --- nodes: the tape in C -------------------------------------------- */

/* A node of the tape is one userdata: this header (the argument count,
   flags, the versions of the values its rule reads) and user values for
   the Lua values it holds -- its rule, name, outputs, the gradient kept
   when it is its output's record, and its arguments and the records of its
   tracked inputs.  One allocation, no finalizer: the three Lua tables a
   node used to be cost ~9 500 instructions a recorded op (making, sweeping
   and freeing them; docs/performance.md, issue 16).  The Lua engine reads
   a node through the functions below (open, order) or, on its rare paths,
   through the metatable's fields (nd.name, nd.args, ...). */
typedef struct tnode {
  int n;              /* arguments */
  unsigned flags;
  uint64_t pass;      /* order's mark: the pass that last counted this node */
  int64_t uses;       /* order: edges from nodes not yet placed */
  int64_t version[1]; /* [p], p = 0..n: version of argument p (0: the
                         output) when the rule reads it, else -1 */
} tnode;

enum { N_RETAIN = 1, N_FREED = 2 };

/* user values */
enum { U_RULE = 1, U_NAME, U_OUT, U_GRAD, U_OWNED, U_BASE = U_OWNED };
#define U_ARG(i) (U_BASE + (i))
#define U_INPUT(nd, i) (U_BASE + (nd)->n + (i))

/* registry keys (addresses): the node metatable, the tape table, the
   pass counter of order */
static const char NODE_MT = 0;
static const char TAPE = 0;
static const char PASS = 0;

/* The tape table (registry, at the address of TAPE): what a recorded call
   needs, at integer keys -- one registry lookup a call, then array reads;
   the field names of rules are interned there once (lua_getfield hashes
   and compares its C string at every call). */
enum { T_RULES = 1, T_RECORDER, T_NODE_MT, T_NAME, T_MULTI, T_SAVES,
       T_SCALAR, T_N, T_NODE, T_SLOT, T_RETAIN, T_LIST, T_STACK };
static const char *const TAPE_KEYS[] = {"name", "multi", "saves", "scalar",
                                        "n", "node", "slot", "retain", "list"};

static int push_tape(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &TAPE) == LUA_TTABLE) return 1;
  lua_pop(L, 1);
  return 0;
}

static tnode *test_node(lua_State *L, int idx) {
  tnode *nd = lua_touserdata(L, idx);
  int same;
  if (!nd || !lua_getmetatable(L, idx)) return NULL;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &NODE_MT);
  same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? nd : NULL;
}

static tnode *check_node(lua_State *L, int idx) {
  tnode *nd = test_node(L, idx);
  if (!nd) luaL_typeerror(L, idx, "autograd node");
  return nd;
}

/* pushes a new node of n arguments, no user values set (the tape table
   at 'tape') */
static tnode *new_node(lua_State *L, int n, int tape) {
  tnode *nd = lua_newuserdatauv(L, sizeof(tnode) + (size_t)n * sizeof(int64_t),
                                U_BASE + 2 * n);
  int p;
  nd->n = n;
  nd->flags = 0;
  nd->pass = 0;
  nd->uses = 0;
  for (p = 0; p <= n; p++) nd->version[p] = -1;
  lua_rawgeti(L, tape, T_NODE_MT);
  lua_setmetatable(L, -2);
  return nd;
}

/* pushes t[key k] (t at a positive index, the tape table at 'tape') */
static int getkey(lua_State *L, int t, int tape, int k) {
  lua_rawgeti(L, tape, k);
  return lua_rawget(L, t);
}

/* The versions of the values the rule (at 'rule') reads, its saves list:
   argument p's tensor at stack index base + p (p = 1..n), the output at
   o (p = 0; 0 when there is none yet).  Returns whether the output is
   read. */
static int save_versions(lua_State *L, tnode *nd, int rule, int tape,
                         int base, int o) {
  lua_Integer j, len, p;
  int reads_out = 0;
  hebb_tensor *v;
  if (getkey(L, rule, tape, T_SAVES) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  len = (lua_Integer)lua_rawlen(L, -1);
  for (j = 1; j <= len; j++) {
    lua_rawgeti(L, -1, j);
    p = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (p < 0 || p > nd->n) continue;
    v = p == 0 ? (o ? hebbL_test(L, o) : NULL) : hebbL_test(L, base + (int)p);
    if (!v) continue;
    nd->version[p] = (int64_t)hebb_version_counter(v);
    reads_out |= p == 0;
  }
  lua_pop(L, 1);
  return reads_out;
}

/* node.name: the rule's own name when it has one, else the op's (at
   name_idx); the rule at 'rule', the node on top */
static void set_name(lua_State *L, int rule, int tape, int name_idx) {
  if (getkey(L, rule, tape, T_NAME) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushvalue(L, name_idx);
  }
  lua_setiuservalue(L, -2, U_NAME);
}

/* The node of a call that is not in place, has no list arguments and one
   fresh tensor result (at o), made here without calling the Lua recorder
   (the tape table at 'tape').  Returns 0, with the stack as it was, for
   every other case (no rule yet, several outputs, a result that is an
   argument or has a record), which the Lua recorder handles. */
static int record_here(lua_State *L, int n, int name_idx, int tape,
                       unsigned tensors, int o) {
  hebb_tensor *ot = hebbL_test(L, o);
  const void *obox = lua_touserdata(L, o);
  int i, rule, recs, any = 0;
  tnode *nd;
  if (!ot || n > MAXBITS) return 0;
  for (i = 1; i <= n; i++) {
    if (tensors >> (i - 1) & 1u) {
      if (lua_touserdata(L, i) == obox) return 0;
    } else if (lua_type(L, i) == LUA_TTABLE) {
      return 0;
    }
  }
  if (lua_getiuservalue(L, o, 1) != LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pop(L, 1);
  luaL_checkstack(L, n + 8, "autograd");
  lua_rawgeti(L, tape, T_RULES);
  lua_pushvalue(L, name_idx);
  rule = lua_gettop(L);
  if (lua_type(L, -2) != LUA_TTABLE || lua_rawget(L, -2) != LUA_TTABLE ||
      getkey(L, rule, tape, T_MULTI) != LUA_TNIL) {
    lua_settop(L, o);
    return 0;
  }
  lua_pop(L, 1);
  recs = lua_gettop(L);            /* the records of the arguments */
  for (i = 1; i <= n; i++) {
    if (tensors >> (i - 1) & 1u) any |= lua_getiuservalue(L, i, 1) != LUA_TNIL;
    else lua_pushnil(L);
  }
  if (!any || !(ot->dtype == HEBB_F64 || ot->dtype == HEBB_F32 ||
                hebb_is_complex(ot->dtype))) {
    lua_settop(L, o);
    return 1;                       /* nothing to record */
  }
  nd = new_node(L, n, tape);
  lua_pushvalue(L, rule);
  lua_setiuservalue(L, -2, U_RULE);
  set_name(L, rule, tape, name_idx);
  for (i = 1; i <= n; i++) {
    lua_pushvalue(L, i);
    lua_setiuservalue(L, -2, U_ARG(i));
    lua_pushvalue(L, recs + i);
    lua_setiuservalue(L, -2, U_INPUT(nd, i));
  }
  if (save_versions(L, nd, rule, tape, 0, o)) {
    lua_createtable(L, 1, 0);       /* the rule reads the output */
    lua_pushvalue(L, o);
    lua_rawseti(L, -2, 1);
    lua_setiuservalue(L, -2, U_OUT);
  }
  /* the node is its result's record (slot 1): one object fewer */
  track(L, ot);
  lua_setiuservalue(L, o, 1);
  lua_settop(L, o);
  return 1;
}

/* Pushes the binding's function as a closure over the trampoline's
   upvalues (the tensor metatable, the state, the op's name), to run in a
   frame of its own.  Made on the first recorded call and kept in place of
   the plain function as the trampoline's upvalue 4 (lua_tocfunction reads
   either): a closure a call was ~500 instructions with its collection. */
static void push_raw(lua_State *L, lua_CFunction raw) {
  if (lua_getupvalue(L, lua_upvalueindex(4), 1) != NULL) {
    lua_pop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(4));
    return;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_pushvalue(L, lua_upvalueindex(3));
  lua_pushcclosure(L, raw, 3);
  lua_pushvalue(L, -1);
  lua_replace(L, lua_upvalueindex(4));
}

/* Whether the k results at first.. are all plain values (nil, booleans,
   numbers, strings: no tensor, no list of tensors) and the op's rule does
   not turn a number into a 0-d tensor (opts.scalar): then the Lua recorder
   would record nothing and return them as they are -- t:size(), t:numel(),
   T.is_tensor(t), t:item() of a tracked t -- so they are returned here,
   without its ~3 us. */
static int plain_results(lua_State *L, int first, int k, int name_idx,
                         int tape) {
  int i, plain;
  for (i = first; i < first + k; i++) {
    int tp = lua_type(L, i);
    if (tp != LUA_TNIL && tp != LUA_TBOOLEAN && tp != LUA_TNUMBER &&
        tp != LUA_TSTRING)
      return 0;
  }
  lua_rawgeti(L, tape, T_RULES);
  lua_pushvalue(L, name_idx);
  plain = lua_type(L, -2) != LUA_TTABLE || lua_rawget(L, -2) != LUA_TTABLE ||
          getkey(L, lua_gettop(L), tape, T_SCALAR) == LUA_TNIL ||
          !lua_toboolean(L, -1);
  lua_settop(L, first + k - 1);
  return plain;
}

/* A trampoline's call that is not in place: raw runs (in a frame of its
   own, since it may overwrite its arguments: __unm's lua_settop), then the
   result is recorded here or by the Lua recorder. */
static int record_fresh(lua_State *L, int n, int name_idx,
                        lua_CFunction raw, unsigned tensors) {
  int k, top, i, tape = n + 1;     /* the tape table, pushed by record */
  push_raw(L, raw);
  for (i = 1; i <= n; i++) lua_pushvalue(L, i);
  lua_call(L, n, LUA_MULTRET);
  top = lua_gettop(L);
  k = top - tape;
  if (k == 1 && record_here(L, n, name_idx, tape, tensors, top)) return 1;
  luaL_checkstack(L, n + k + 4, "autograd");
  if (plain_results(L, top - k + 1, k, name_idx, tape)) return k;
  lua_rawgeti(L, tape, T_RECORDER);
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
  unsigned tensors;
  if (!any_tracked(L, n, &tensors) || !push_tape(L)) return raw(L);
  if (!name && !is_inplace(lua_tostring(L, name_idx)))
    return record_fresh(L, n, name_idx, raw, tensors);
  lua_rawgeti(L, -1, T_RECORDER);
  lua_remove(L, -2);
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

/* set_recorder(fn, rules): the Lua recorder and its rules table, in the
   tape table (recording starts once it is there) */
static int l_set_recorder(lua_State *L) {
  int k;
  luaL_checktype(L, 1, LUA_TFUNCTION);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_createtable(L, T_STACK, 0);
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, T_RULES);
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, T_RECORDER);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &NODE_MT);
  lua_rawseti(L, -2, T_NODE_MT);
  for (k = T_NAME; k <= T_LIST; k++) {
    lua_pushstring(L, TAPE_KEYS[k - T_NAME]);
    lua_rawseti(L, -2, k);
  }
  lua_newtable(L);                 /* order's work stack, empty between calls */
  lua_rawseti(L, -2, T_STACK);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &TAPE);
  return 0;
}

/* node(name, rule, args, n, inputs [, outs]): the node of a call the Lua
   recorder handles (several outputs, list arguments, in place): args[1..n]
   its arguments, inputs[i] the record (or list of records) of argument i,
   outs its outputs when the rule reads them or there are several */
static int l_node(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 4);
  tnode *nd;
  int i, o = 0;
  luaL_checktype(L, 1, LUA_TSTRING);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  luaL_checktype(L, 5, LUA_TTABLE);
  luaL_argcheck(L, n >= 0 && n <= 1000, 4, "argument count out of range");
  lua_settop(L, 6);
  luaL_checkstack(L, (int)n + 8, "autograd");
  if (!push_tape(L)) return luaL_error(L, "autograd: no recorder set");
  lua_replace(L, 4);                                /* n is known */
  for (i = 1; i <= n; i++) lua_rawgeti(L, 3, i);   /* at 6 + i */
  if (lua_type(L, 6) == LUA_TTABLE) {
    lua_rawgeti(L, 6, 1);
    o = lua_gettop(L);
  }
  nd = new_node(L, (int)n, 4);
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, -2, U_RULE);
  set_name(L, 2, 4, 1);
  lua_pushvalue(L, 6);
  lua_setiuservalue(L, -2, U_OUT);
  for (i = 1; i <= n; i++) {
    lua_pushvalue(L, 6 + i);
    lua_setiuservalue(L, -2, U_ARG(i));
    lua_rawgeti(L, 5, i);
    lua_setiuservalue(L, -2, U_INPUT(nd, i));
  }
  save_versions(L, nd, 2, 4, 6, o);
  return 1;
}

/* pushes a table of the node's arguments (with n), or of its inputs */
static void push_list(lua_State *L, int idx, const tnode *nd, int inputs) {
  int i;
  lua_createtable(L, nd->n, !inputs);
  for (i = 1; i <= nd->n; i++) {
    if (lua_getiuservalue(L, idx, inputs ? U_INPUT(nd, i) : U_ARG(i)) == LUA_TNIL)
      lua_pop(L, 1);
    else
      lua_rawseti(L, -2, i);
  }
  if (inputs) return;
  if (push_tape(L)) {               /* "n", interned: no C string to hash */
    lua_rawgeti(L, -1, T_N);
    lua_remove(L, -2);
  } else {
    lua_pushliteral(L, "n");
  }
  lua_pushinteger(L, nd->n);
  lua_rawset(L, -3);
}

/* The first value nd's rule reads (argument p, 0 the output) that changed
   in place since it was recorded: returns p and sets *now, or -1. */
static int stale_value(lua_State *L, int idx, const tnode *nd, uint64_t *now) {
  int p, top = lua_gettop(L);
  for (p = 0; p <= nd->n; p++) {
    hebb_tensor *t;
    if (nd->version[p] < 0) continue;
    if (p == 0) {
      lua_getiuservalue(L, idx, U_OUT);
      lua_rawgeti(L, -1, 1);
    } else {
      lua_getiuservalue(L, idx, U_ARG(p));
    }
    t = hebbL_test(L, -1);
    *now = t ? hebb_version_counter(t) : 0;
    lua_settop(L, top);
    if (t && *now != (uint64_t)nd->version[p]) return p;
  }
  return -1;
}

/* nd (at idx) lets go of its arguments and outputs after its rule ran
   without retain_graph (a second backward through it is an error) */
static void free_node(lua_State *L, int idx, tnode *nd) {
  int i;
  nd->flags |= N_FREED;
  lua_pushnil(L);
  lua_setiuservalue(L, idx, U_OUT);
  for (i = 1; i <= nd->n; i++) {
    lua_pushnil(L);
    lua_setiuservalue(L, idx, U_ARG(i));
  }
}

/* open(nd [, done]): the rule, arguments, outputs and inputs of nd for its
   rule; nothing when a backward without retain_graph freed it; false, p,
   now, saved when a value the rule reads (argument p, 0 the output)
   changed in place since it was recorded (one call a node: the engine
   used to call stale too).  done, when given, is the node whose rule ran
   before, freed first (one call a node fewer than free after each). */
static int l_open(lua_State *L) {
  tnode *nd = check_node(L, 1);
  uint64_t now;
  int p;
  if (!lua_isnoneornil(L, 2)) free_node(L, 2, check_node(L, 2));
  if (nd->flags & N_FREED) return 0;
  lua_settop(L, 1);
  if ((p = stale_value(L, 1, nd, &now)) >= 0) {
    lua_pushboolean(L, 0);
    lua_pushinteger(L, p);
    lua_pushinteger(L, (lua_Integer)now);
    lua_pushinteger(L, (lua_Integer)nd->version[p]);
    return 4;
  }
  lua_getiuservalue(L, 1, U_RULE);
  push_list(L, 1, nd, 0);
  lua_getiuservalue(L, 1, U_OUT);
  push_list(L, 1, nd, 1);
  return 4;
}

/* free(nd): free_node, for the last node of a pass */
static int l_free(lua_State *L) {
  free_node(L, 1, check_node(L, 1));
  return 0;
}

/* How a gradient g (at gi) fits the value like (at li) it is for: 0 as it
   is, 1 after conversion to like's dtype (a real value's gradient stays
   real; a complex value may get a real one), 2 shapes differ, 3 g is no
   tensor. */
static int fit_kind(lua_State *L, int gi, int li) {
  hebb_tensor *g = hebbL_test(L, gi), *like = hebbL_check(L, li);
  if (!g) return 3;
  if (g->ndim != like->ndim || memcmp(g->shape, like->shape,
      (size_t)g->ndim * sizeof(int64_t)) != 0) return 2;
  return g->dtype != like->dtype && !hebb_is_complex(like->dtype);
}

/* edge(rec [, g, like]): where a gradient for the record rec goes, read in
   one call (the engine read four fields, each a metamethod call on a
   node): kind, to, slot, retain.  kind is how g fits like (fit_kind; 0 without
   them); to is the node (rec itself for a one-output node, slot nil; for
   {node =, slot =} the node and slot), false for a leaf, true for a list
   of records (list arguments: kind 0); retain whether rec keeps its
   gradient (rec.retain). */
static int l_edge(lua_State *L) {
  int kind = 0;
  tnode *nd;
  lua_settop(L, 3);
  if (lua_type(L, 1) == LUA_TUSERDATA) {
    nd = check_node(L, 1);
    if (!lua_isnil(L, 3)) kind = fit_kind(L, 2, 3);
    lua_pushinteger(L, kind);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    lua_pushboolean(L, nd->flags & N_RETAIN);
    return 4;
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  if (!push_tape(L)) return luaL_error(L, "autograd: no recorder set");
  if (getkey(L, 1, 4, T_NODE) == LUA_TNIL) {          /* 5 */
    int list = getkey(L, 1, 4, T_LIST) != LUA_TNIL;
    if (!list && !lua_isnil(L, 3)) kind = fit_kind(L, 2, 3);
    lua_pushinteger(L, kind);
    lua_pushboolean(L, list);
    return 2;
  }
  if (!lua_isnil(L, 3)) kind = fit_kind(L, 2, 3);
  lua_pushinteger(L, kind);                           /* 6 */
  lua_pushvalue(L, 5);
  getkey(L, 1, 4, T_SLOT);
  getkey(L, 1, 4, T_RETAIN);
  lua_pushboolean(L, lua_toboolean(L, -1));
  lua_remove(L, -2);
  return 4;
}

/* the state of order: the pass, the tape table, the work stack (a table,
   the tape's, empty between calls) and its height */
typedef struct pass {
  uint64_t id;
  int tape;
  int stack;
  lua_Integer top;
} pass;

/* Pushes the node that the record on top leads to and returns it (NULL,
   nothing pushed, for a leaf); the record is popped.  A record is a node
   itself (a one-output node), a table {node =, slot =} or a leaf's
   {leaf = true}. */
static tnode *record_node(lua_State *L, const pass *ps) {
  tnode *nd;
  if (lua_type(L, -1) == LUA_TTABLE) {
    getkey(L, lua_gettop(L), ps->tape, T_NODE);
    lua_remove(L, -2);
  }
  nd = lua_type(L, -1) == LUA_TUSERDATA ? test_node(L, -1) : NULL;
  if (!nd) lua_pop(L, 1);
  return nd;
}

/* Calls visit(L, child, ps) with each node an input edge of the node at
   idx leads to pushed on top (visit pops it). */
typedef void (*visit_fn)(lua_State *L, tnode *child, pass *ps);

static void each_child(lua_State *L, int idx, const tnode *nd,
                       visit_fn visit, pass *ps) {
  int i;
  tnode *c;
  for (i = 1; i <= nd->n; i++) {
    int tp = lua_getiuservalue(L, idx, U_INPUT(nd, i));
    if (tp == LUA_TTABLE &&
        getkey(L, lua_gettop(L), ps->tape, T_LIST) != LUA_TNIL) {
      lua_pop(L, 1);      /* a list argument: one record per tracked
                             tensor in it, a hole for the others */
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        if (lua_type(L, -1) == LUA_TBOOLEAN) lua_pop(L, 1);   /* list */
        else if ((c = record_node(L, ps)) != NULL) visit(L, c, ps);
      }
      lua_pop(L, 1);
      continue;
    }
    if (tp == LUA_TTABLE) lua_pop(L, 1);
    if ((c = record_node(L, ps)) != NULL) visit(L, c, ps);
  }
}

static void push_work(lua_State *L, pass *ps) {
  lua_rawseti(L, ps->stack, ++ps->top);
}

static void count_use(lua_State *L, tnode *c, pass *ps) {
  if (c->pass != ps->id) {
    c->pass = ps->id;
    c->uses = 1;
    push_work(L, ps);
  } else {
    c->uses++;
    lua_pop(L, 1);
  }
}

static void release_use(lua_State *L, tnode *c, pass *ps) {
  if (--c->uses == 0) push_work(L, ps);
  else lua_pop(L, 1);
}

/* Takes the nodes off the work stack until it is empty, calling visit on
   the children of each; with 'order' (a table's index, else 0) each node
   is appended there as it is taken.  Returns how many were taken. */
static lua_Integer drain(lua_State *L, pass *ps, visit_fn visit, int order) {
  lua_Integer m = 0;
  while (ps->top > 0) {
    lua_rawgeti(L, ps->stack, ps->top);
    lua_pushnil(L);
    lua_rawseti(L, ps->stack, ps->top--);
    if (order) {
      lua_pushvalue(L, -1);
      lua_rawseti(L, order, m + 1);
    }
    m++;
    each_child(L, lua_gettop(L), lua_touserdata(L, -1), visit, ps);
    lua_pop(L, 1);
  }
  return m;
}

/* pushes start k of order (a list at 1, or the one node there) */
static tnode *push_start(lua_State *L, lua_Integer k) {
  if (lua_type(L, 1) == LUA_TTABLE) lua_rawgeti(L, 1, k);
  else lua_pushvalue(L, 1);
  return check_node(L, -1);
}

/* order(starts, into): the nodes below the start nodes (a list of nodes,
   or one node) in the order backward runs them, a node after every node
   that uses it (Kahn's order, the ready nodes a stack), counted with marks
   in the nodes themselves: written to into[1..m] (whatever into held after
   m is cleared; the engine reuses the table), m returned */
static int l_order(lua_State *L) {
  uint64_t *counter;
  pass ps;
  lua_Integer k, len, m;
  tnode *nd;
  lua_settop(L, 2);
  if (lua_type(L, 1) != LUA_TUSERDATA) luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!push_tape(L)) return luaL_error(L, "autograd: no recorder set");
  ps.tape = 3;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &PASS) != LUA_TUSERDATA) {
    lua_pop(L, 1);
    counter = lua_newuserdatauv(L, sizeof *counter, 0);
    *counter = 0;
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &PASS);
  }
  counter = lua_touserdata(L, 4);
  ps.id = ++*counter;
  lua_rawgeti(L, 3, T_STACK);      /* 5: the work stack */
  ps.stack = 5;
  ps.top = 0;
  len = lua_type(L, 1) == LUA_TTABLE ? (lua_Integer)lua_rawlen(L, 1) : 1;
  for (k = 1; k <= len; k++) {     /* count the edges into each node */
    nd = push_start(L, k);
    if (nd->pass != ps.id) {
      nd->pass = ps.id;
      nd->uses = 0;
      push_work(L, &ps);
    } else {
      lua_pop(L, 1);
    }
  }
  drain(L, &ps, count_use, 0);
  for (k = 1; k <= len; k++) {     /* the starts no other start uses */
    nd = push_start(L, k);
    if (nd->uses == 0) {
      nd->uses = -1;               /* queued */
      push_work(L, &ps);
    } else {
      lua_pop(L, 1);
    }
  }
  m = drain(L, &ps, release_use, 2);
  for (k = m + 1; lua_rawgeti(L, 2, k) != LUA_TNIL; k++) {
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_rawseti(L, 2, k);
  }
  lua_pushinteger(L, m);
  return 1;
}

/* A node's fields for the engine's rare paths and the user (y.grad_fn,
   retain_grad, an in-place op's view check, a rule's look at a record):
   name, rule, n, args, inputs, out, freed, and as its output's record node
   (itself), slot (1), grad, owned, retain.  The metamethods' upvalue maps
   each name to its F_ code (one hash lookup of the interned key, where a
   chain of strcmp ran through every name a field the node lacks, such as
   leaf). */
enum { F_NODE = 1, F_SLOT, F_NAME, F_RULE, F_GRAD, F_OWNED, F_OUT, F_N,
       F_RETAIN, F_FREED, F_ARGS, F_INPUTS };
static const char *const FIELDS[] = {"node", "slot", "name", "rule", "grad",
                                     "owned", "out", "n", "retain", "freed",
                                     "args", "inputs"};

static int field_code(lua_State *L) {
  int code;
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  code = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return code;
}

static int node_index(lua_State *L) {
  tnode *nd = check_node(L, 1);
  switch (lua_type(L, 2) == LUA_TSTRING ? field_code(L) : 0) {
  case F_NODE: lua_pushvalue(L, 1); break;
  case F_SLOT: lua_pushinteger(L, 1); break;
  case F_NAME: lua_getiuservalue(L, 1, U_NAME); break;
  case F_RULE: lua_getiuservalue(L, 1, U_RULE); break;
  case F_GRAD: lua_getiuservalue(L, 1, U_GRAD); break;
  case F_OWNED: lua_getiuservalue(L, 1, U_OWNED); break;
  case F_OUT: lua_getiuservalue(L, 1, U_OUT); break;
  case F_N: lua_pushinteger(L, nd->n); break;
  case F_RETAIN: lua_pushboolean(L, nd->flags & N_RETAIN); break;
  case F_FREED: lua_pushboolean(L, nd->flags & N_FREED); break;
  case F_ARGS:
    if (nd->flags & N_FREED) lua_pushnil(L);
    else push_list(L, 1, nd, 0);
    break;
  case F_INPUTS: push_list(L, 1, nd, 1); break;
  default:
    luaL_checkstring(L, 2);
    lua_pushnil(L);
  }
  return 1;
}

static int node_newindex(lua_State *L) {
  tnode *nd = check_node(L, 1);
  const char *k = luaL_checkstring(L, 2);
  int code = field_code(L);
  lua_settop(L, 3);
  if (code == F_GRAD) lua_setiuservalue(L, 1, U_GRAD);
  else if (code == F_OWNED) lua_setiuservalue(L, 1, U_OWNED);
  else if (code == F_RETAIN) {
    if (lua_toboolean(L, 3)) nd->flags |= N_RETAIN;
    else nd->flags &= ~(unsigned)N_RETAIN;
  } else {
    return luaL_error(L, "autograd node: field '%s' cannot be set", k);
  }
  return 0;
}

static const luaL_Reg node_meta[] = {
  {"__index", node_index},
  {"__newindex", node_newindex},
  {NULL, NULL}
};

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

/* C.relu_grad(g, y): the ReLU rule's g * sign(y) in one pass, for g and y
   contiguous f64 or f32 of one shape (the rule checks; the core too) */
static int l_relu_grad(lua_State *L) {
  hebb_tensor *g = hebbL_check(L, 1), *y = hebbL_check(L, 2), *res = NULL;
  hebb_tensor **box = hebbL_newbox(L);
  hebbL_finish(L, box, &res, hebb_relu_grad(g, y, &res));
  return 1;
}

/* C.linear_grad(g, x, acc, beta): the linear rule's weight gradient into a
   gradient buffer: acc += g^T x in place (beta 1: the buffer the weight's
   .grad already is) or acc = g^T x over what acc held (beta 0: a spare
   buffer, or a new one when acc is nil); returns the buffer written.
   false, leaving acc alone, when the fast path does not apply (dtypes
   other than one f64 or f32, a non-contiguous operand, acc not {out, in}
   or sharing memory with g or x): the rule then takes its general form */
static int l_linear_grad(lua_State *L) {
  hebb_tensor *g = hebbL_check(L, 1), *x = hebbL_check(L, 2);
  hebb_tensor *acc = lua_isnil(L, 3) ? NULL : hebbL_check(L, 3);
  lua_Integer beta = luaL_checkinteger(L, 4);
  int d = g->dtype;
  luaL_argcheck(L, beta == 0 || beta == 1, 4, "beta must be 0 or 1");
  luaL_argcheck(L, acc || beta == 0, 3, "a buffer to add into is needed");
  if ((d != HEBB_F64 && d != HEBB_F32) || x->dtype != d ||
      !hebb_is_contiguous(g) || !hebb_is_contiguous(x) ||
      g->ndim != 2 || x->ndim != 2 || g->shape[0] != x->shape[0] ||
      (acc && (acc->dtype != d || !hebb_is_contiguous(acc) ||
               acc->ndim != 2 || acc->shape[0] != g->shape[1] ||
               acc->shape[1] != x->shape[1] ||
               hebb_same_storage(acc, g) || hebb_same_storage(acc, x)))) {
    lua_pushboolean(L, 0);
    return 1;
  }
  if (!acc) {
    hebb_tensor *res = NULL;
    hebb_tensor **box = hebbL_newbox(L);
    hebbL_finish(L, box, &res, hebb_linear_grad(g, x, &res, 0));
    return 1;
  }
  hebbL_check_status(L, hebb_linear_grad(g, x, &acc, (int)beta));
  lua_pushvalue(L, 3);
  return 1;
}

/* C.relu_grad_sum(g, y): C.relu_grad's d = g * sign(y) and d's sums over
   all dimensions but the last (the linear layer's bias gradient: the bits
   of d viewed as {rows, cols}, :sum(1)), from one pass, as two results;
   false when the fast path does not apply (not one dtype f64 or f32, shapes
   that differ, a non-contiguous or 0-d operand): the rule then takes its
   general form */
static int l_relu_grad_sum(lua_State *L) {
  hebb_tensor *g = hebbL_check(L, 1), *y = hebbL_check(L, 2);
  hebb_tensor *d = NULL, *sum = NULL, **dbox, **sbox;
  if ((g->dtype != HEBB_F64 && g->dtype != HEBB_F32) || y->dtype != g->dtype ||
      g->ndim < 1 || g->ndim != y->ndim ||
      memcmp(g->shape, y->shape, (size_t)g->ndim * sizeof(int64_t)) != 0 ||
      !hebb_is_contiguous(g) || !hebb_is_contiguous(y)) {
    lua_pushboolean(L, 0);
    return 1;
  }
  dbox = hebbL_newbox(L);
  sbox = hebbL_newbox(L);
  if (hebb_relu_grad_sum(g, y, &d, &sum) != HEBB_OK) {
    hebb_release(d);
    hebb_release(sum);
    return hebbL_raise(L);
  }
  *dbox = d;
  *sbox = sum;
  hebbL_account(L, d);
  hebbL_account(L, sum);
  return 2;
}

/* C.real_2d(g, x, w): whether g and x are 2-D and none of g, x and w is
   complex -- where the linear rule needs no reshaped views and no
   conjugates (one call instead of their reads of shapes and dtypes) */
static int l_real_2d(lua_State *L) {
  hebb_tensor sg, sx, sw;
  hebb_tensor *g = hebbL_checkpeek(L, 1, &sg), *x = hebbL_checkpeek(L, 2, &sx);
  hebb_tensor *w = hebbL_checkpeek(L, 3, &sw);
  lua_pushboolean(L, g->ndim == 2 && x->ndim == 2 &&
                  !hebb_is_complex(g->dtype) && !hebb_is_complex(x->dtype) &&
                  !hebb_is_complex(w->dtype));
  return 1;
}

/* C.xent_mean_grad(z, labels, g [, lz]): the rule of T._cross_entropy_mean
   outside a recording in one call: the rows' weight g / N in z's dtype
   (the bits of g:reshape({1}) / N) and T._cross_entropy_grad's rows with
   it, taking the rows' log-normalizers from lz when given; false when the
   fast path does not apply (z not a 2-D f64 or f32 tensor, g not one
   element of z's dtype, lz not a contiguous {N} tensor of z's dtype) */
static int l_xent_mean_grad(lua_State *L) {
  hebb_tensor sg, *z = hebbL_check(L, 1), *y = hebbL_check(L, 2);
  hebb_tensor *g = hebbL_checkpeek(L, 3, &sg), *res = NULL, **box;
  hebb_tensor *lz = lua_isnoneornil(L, 4) ? NULL : hebbL_check(L, 4);
  double gv;
  if ((z->dtype != HEBB_F64 && z->dtype != HEBB_F32) || z->ndim != 2 ||
      g->dtype != z->dtype || hebb_numel(g) != 1 ||
      (lz && (lz->dtype != z->dtype || lz->ndim != 1 ||
              lz->shape[0] != z->shape[0] || !hebb_is_contiguous(lz)))) {
    lua_pushboolean(L, 0);
    return 1;
  }
  gv = z->dtype == HEBB_F64 ? *(const double *)hebb_first(g)
                            : (double)*(const float *)hebb_first(g);
  box = hebbL_newbox(L);
  hebbL_finish(L, box, &res,
               hebb_cross_entropy_mean_grad(z, y, 1, lz, gv, &res));
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
  {"relu_grad", l_relu_grad, HEBB_FN | HEBB_RAW, NULL},
  {"linear_grad", l_linear_grad, HEBB_FN | HEBB_RAW, NULL},
  {"dense_storage", l_dense_storage, HEBB_FN | HEBB_RAW, NULL},
  {"live", l_live, HEBB_FN | HEBB_RAW, NULL},
  {"node", l_node, HEBB_FN | HEBB_RAW, NULL},
  {"open", l_open, HEBB_FN | HEBB_RAW, NULL},
  {"edge", l_edge, HEBB_FN | HEBB_RAW, NULL},
  {"free", l_free, HEBB_FN | HEBB_RAW, NULL},
  {"order", l_order, HEBB_FN | HEBB_RAW, NULL},
  {"relu_grad_sum", l_relu_grad_sum, HEBB_FN | HEBB_RAW, NULL},
  {"real_2d", l_real_2d, HEBB_FN | HEBB_RAW, NULL},
  {"xent_mean_grad", l_xent_mean_grad, HEBB_FN | HEBB_RAW, NULL},
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb__autograd(lua_State *L) {
  int k;
  luaL_newmetatable(L, "hebb.autograd.node");
  lua_createtable(L, 0, (int)(sizeof FIELDS / sizeof *FIELDS));
  for (k = F_NODE; k <= F_INPUTS; k++) {
    lua_pushinteger(L, k);
    lua_setfield(L, -2, FIELDS[k - 1]);
  }
  luaL_setfuncs(L, node_meta, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &NODE_MT);
  return hebbL_newmodule(L, autograd_funcs,
                         "hebb._autograd\n\nThe C half of hebb.autograd "
                         "(internal): recording hook and tracked flags.");
}
