/*
** l_hebb.c -- the umbrella module `hebb`: module plumbing shared by every
** binding (registration, docstrings, embedded Lua sources, preload) and
** process-wide settings (threads, allocator statistics).
*/
#include <stdio.h>
#include <string.h>

#include "lualib.h"

#include "lhebb.h"

static const char DOCS_KEY[] = "hebb.docs";

/* --- docstrings -------------------------------------------------------- */

/* registry["hebb.docs"]: a table with weak keys, value -> docstring */
static void push_docs(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, DOCS_KEY) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, DOCS_KEY);
  }
}

void hebbL_setdoc(lua_State *L, int idx, const char *doc) {
  idx = lua_absindex(L, idx);
  push_docs(L);
  lua_pushvalue(L, idx);
  lua_pushstring(L, doc);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

/* registry["hebb.docs.lazy"] (weak keys): the stubs of parts loaded on
   first use (stdlib/hebb/_parts.lua), stub -> a function that loads the
   part and returns the value that replaces the stub, whose docstring is
   the stub's */
static const char LAZY_DOCS_KEY[] = "hebb.docs.lazy";

int hebbL_doc(lua_State *L) {
  int docs;
  luaL_checkany(L, 1);
  if (lua_gettop(L) >= 2) {   /* hebb.doc(value, text) sets a docstring */
    hebbL_setdoc(L, 1, luaL_checkstring(L, 2));
    return 0;
  }
  push_docs(L);
  docs = lua_gettop(L);
  lua_pushvalue(L, 1);
  if (lua_rawget(L, docs) != LUA_TNIL) return 1;
  if (lua_getfield(L, LUA_REGISTRYINDEX, LAZY_DOCS_KEY) != LUA_TTABLE) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushvalue(L, 1);
  if (lua_rawget(L, -2) != LUA_TFUNCTION) {
    lua_pushnil(L);
    return 1;
  }
  lua_call(L, 0, 1);
  lua_rawget(L, docs);
  return 1;
}

/* The closure of one entry: the tensor metatable as upvalue 1 (a cheaper
   type check than a registry lookup by name), and unless the entry is
   HEBB_RAW, autograd's recording hook in front of it, knowing the
   interpreter's state (whether autograd records), the op's name (prefix +
   name, as the backward rules are keyed), the entry's function and the
   metatable of small tensors' boxes (l_tensor.c). */
static void push_entry(lua_State *L, const hebb_lreg *l, const char *prefix,
                       int mt) {
  lua_pushvalue(L, mt);
  if (l->where & HEBB_RAW) {
    lua_pushcclosure(L, l->func, 1);
    return;
  }
  lua_pushlightuserdata(L, hebbL_state_of(L));
  lua_pushfstring(L, "%s%s", prefix ? prefix : "", l->name);
  lua_pushcfunction(L, l->func);
  hebbL_push_small_mt(L);
  lua_pushcclosure(L, hebbL_trampoline, 5);
}

/* the registered name (upvalue 3), else the name Lua gives the calling
   instruction ("matmul" for S:matmul(x); not for metamethods), else "?" */
const char *hebbL_fname(lua_State *L) {
  const char *s = lua_tostring(L, lua_upvalueindex(3));
  lua_Debug ar;
  if (s) return s;
  if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "n", &ar) && ar.name &&
      strcmp(ar.namewhat, "metamethod") != 0)
    return ar.name;
  return "?";
}

void hebbL_register_as(lua_State *L, const hebb_lreg *l, const char *prefix,
                       int module, int methods, int mt) {
  /* the table each 'where' bit (HEBB_FN, HEBB_METHOD, HEBB_META) names */
  const int dest[3] = {module, methods, mt};
  int k;
  for (; l->name; l++) {
    push_entry(L, l, prefix, mt);
    if (l->doc) hebbL_setdoc(L, -1, l->doc);
    for (k = 0; k < 3; k++) {
      if (!(l->where & (1 << k))) continue;
      lua_pushvalue(L, -1);
      lua_setfield(L, dest[k], l->name);
    }
    lua_pop(L, 1);
  }
}

void hebbL_register(lua_State *L, const hebb_lreg *l, int module, int methods,
                    int mt) {
  hebbL_register_as(L, l, NULL, module, methods, mt);
}

/* "linalg." for the opener of "hebb.linalg": require and luaL_requiref
   pass the module name as the opener's first argument.  Backward rules of
   module functions are keyed by it, so linalg.norm is not tensor's norm. */
static void module_prefix(lua_State *L, char *buf, size_t size) {
  const char *name = lua_type(L, 1) == LUA_TSTRING ? lua_tostring(L, 1) : "";
  if (strncmp(name, "hebb.", 5) == 0) name += 5;
  snprintf(buf, size, "%s.", name);
}

/* A module of functions over tensors (hebb.linalg, hebb.fft, ...): loads
   hebb.tensor for the metatable its functions take as upvalue, registers
   l and documents the module.  Leaves the module table on the stack. */
int hebbL_newmodule(lua_State *L, const hebb_lreg *l, const char *doc) {
  int module;
  char prefix[64];
  module_prefix(L, prefix, sizeof prefix);
  luaL_requiref(L, "hebb.tensor", luaopen_hebb_tensor, 0);
  lua_pop(L, 1);
  lua_newtable(L);
  module = lua_gettop(L);
  luaL_getmetatable(L, HEBB_TENSOR_MT);
  hebbL_register_as(L, l, prefix, module, module, module + 1);
  lua_pop(L, 1);
  hebbL_setdoc(L, module, doc);
  return 1;
}

/* --- embedded Lua sources ---------------------------------------------- */

static const hebb_embedded *find_embedded(const char *modname) {
  const hebb_embedded *e;
  for (e = hebb_embedded_sources; e->modname; e++)
    if (strcmp(e->modname, modname) == 0) return e;
  return NULL;
}

/* Runs the embedded source of 'modname' with the nargs values on top of the
   stack as its arguments; leaves its one result (or nothing if there is no
   such source: returns 0 then). */
int hebbL_run_embedded(lua_State *L, const char *modname, int nargs) {
  const hebb_embedded *e = find_embedded(modname);
  if (!e) {
    lua_pop(L, nargs);
    return 0;
  }
  if (luaL_loadbufferx(L, e->src, e->len, e->chunkname, "t") != LUA_OK)
    return lua_error(L);
  lua_insert(L, -(nargs + 1));
  lua_call(L, nargs, 1);
  return 1;
}

static int embedded_loader(lua_State *L) {
  return hebbL_run_embedded(L, luaL_checkstring(L, 1), 0);
}

/* require(modname) from C, for an embedded Lua module: leaves the module
   on the stack */
void hebbL_require(lua_State *L, const char *modname) {
  luaL_requiref(L, modname, embedded_loader, 0);
}

/* the modules with a C opener (one line per module) */
static const luaL_Reg natives[] = {
  {"hebb", luaopen_hebb},
  {"hebb.tensor", luaopen_hebb_tensor},
  {"hebb.linalg", luaopen_hebb_linalg},
  {"hebb.sparse", luaopen_hebb_sparse},
  {"hebb.fft", luaopen_hebb_fft},
  {"hebb._autograd", luaopen_hebb__autograd},
  {"hebb._data", luaopen_hebb__data},
  {"hebb._io", luaopen_hebb__io},
  {"hebb._optim", luaopen_hebb__optim},
  {"hebb._notebook", luaopen_hebb__notebook},
  {"hebb._ode", luaopen_hebb__ode},
  {"hebb._fields", luaopen_hebb__fields},
  {"hebb._numeric", luaopen_hebb__numeric},
  {"hebb._lattice", luaopen_hebb__lattice},
  {"hebb._stats", luaopen_hebb__stats},
  {"hebb._sqlite", luaopen_hebb__sqlite},
  {"hebb._jobs", luaopen_hebb__jobs},
  {"hebb._mpi", luaopen_hebb__mpi},
  {"hebb._rg", luaopen_hebb__rg},
  {"hebb._fuse", luaopen_hebb__fuse},
  {NULL, NULL}
};

/* package.preload entries for every hebb module, so `require` finds them
   whatever package.path says (in the hebb executable and in hebb.so). */
void hebb_preload(lua_State *L) {
  const hebb_embedded *e;
  const luaL_Reg *n;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (n = natives; n->name; n++) {
    lua_pushcfunction(L, n->func);
    lua_setfield(L, -2, n->name);
  }
  for (e = hebb_embedded_sources; e->modname; e++) {
    if (lua_getfield(L, -1, e->modname) == LUA_TNIL) {
      lua_pushcfunction(L, embedded_loader);
      lua_setfield(L, -3, e->modname);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* --- process-wide settings --------------------------------------------- */

static int l_threads(lua_State *L) {
  if (!lua_isnoneornil(L, 1)) {
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 1 && n <= 1024, 1, "thread count must be 1..1024");
    hebb_set_num_threads((int)n);
  }
  lua_pushinteger(L, hebb_get_num_threads());
  return 1;
}

static int l_alloc_stats(lua_State *L) {
  hebb_alloc_stats st;
  hebb_alloc_get_stats(&st);
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, st.bytes_in_use);
  lua_setfield(L, -2, "bytes_in_use");
  lua_pushinteger(L, st.bytes_cached);
  lua_setfield(L, -2, "bytes_cached");
  lua_pushinteger(L, st.bytes_peak);
  lua_setfield(L, -2, "bytes_peak");
  lua_pushinteger(L, st.n_alloc);
  lua_setfield(L, -2, "n_alloc");
  lua_pushinteger(L, st.n_reused);
  lua_setfield(L, -2, "n_reused");
  return 1;
}

static int l_alloc_trim(lua_State *L) {
  (void)L;
  hebb_alloc_trim();
  return 0;
}

/* hebb.max_memory([n]): n bytes, a size string ("2G"), or 0 / false for
   no cap; returns the cap in bytes, or nil */
static int l_max_memory(lua_State *L) {
  if (!lua_isnoneornil(L, 1)) {
    int64_t n;
    if (lua_type(L, 1) == LUA_TSTRING) {
      n = hebb_parse_size(lua_tostring(L, 1));
      if (n < 0)
        return luaL_argerror(L, 1, lua_pushfstring(L, "bad size '%s' (expected "
                             "bytes or a size like 512M or 2G)", lua_tostring(L, 1)));
    } else if (lua_isboolean(L, 1) && !lua_toboolean(L, 1)) {
      n = 0;
    } else {
      n = luaL_checkinteger(L, 1);
      luaL_argcheck(L, n >= 0, 1, "a size in bytes must be >= 0 (0: no limit)");
    }
    hebb_alloc_set_limit(n);
  }
  if (hebb_alloc_get_limit() > 0) lua_pushinteger(L, hebb_alloc_get_limit());
  else lua_pushnil(L);
  return 1;
}

static int l_clock(lua_State *L) {
  lua_pushnumber(L, hebb_clock());
  return 1;
}

/* hebb.blas(): the library's configuration and kernel core, loading it
   now if no product has yet */
static int l_blas(lua_State *L) {
  lua_pushstring(L, hebb_blas_info());
  return 1;
}

static const hebb_lreg hebb_funcs[] = {
  {"doc", hebbL_doc, HEBB_FN,
   "hebb.doc(value [, text])\n\nThe docstring of a function or module (what "
   "the REPL's ?name shows), or nil.  With text, sets it."},
  {"threads", l_threads, HEBB_FN,
   "hebb.threads([n])\n\nSets (with n) and returns the most threads hebb's "
   "loops use (OpenBLAS runs single-threaded inside them).  Loops use fewer "
   "while other processes keep the cores busy.  Results do not depend on "
   "it."},
  {"alloc_stats", l_alloc_stats, HEBB_FN,
   "hebb.alloc_stats()\n\nA table of the tensor allocator's counters: "
   "bytes_in_use, bytes_cached, bytes_peak, n_alloc, n_reused."},
  {"max_memory", l_max_memory, HEBB_FN,
   "hebb.max_memory([n])\n\nSets (with n) and returns the cap on tensor "
   "memory in use, in bytes (nil: no cap).  n is a number of bytes or a size "
   "such as \"512M\" or \"2G\" (K, M, G, T are powers of 1024); 0 or "
   "false removes the cap.  An allocation past the cap first runs a full "
   "garbage collection, then raises \"out of memory: 8.0 GiB requested, "
   "limit 1.0 GiB (12.0 MiB in use)\", prefixed with the operation's name, "
   "and leaves everything as it was.  The hebb command sets it from "
   "--max-memory SIZE or $HEBB_MAX_MEMORY."},
  {"alloc_trim", l_alloc_trim, HEBB_FN,
   "hebb.alloc_trim()\n\nReturns the blocks the allocator keeps for reuse to "
   "the operating system."},
  {"clock", l_clock, HEBB_FN,
   "hebb.clock()\n\nWall-clock seconds from an arbitrary start (monotonic: "
   "never jumps with the system time).  Time a block as t0 = hebb.clock(); "
   "...; hebb.clock() - t0.  os.clock() is CPU time, summed over every "
   "thread, so it overstates the time of parallel code."},
  {"blas", l_blas, HEBB_FN,
   "hebb.blas()\n\nThe OpenBLAS that runs hebb's products and LAPACK calls: "
   "its build configuration and the kernel core it picked for this CPU "
   "(e.g. \"OpenBLAS 0.3.21 ... (core Haswell)\"; the core decides how "
   "products round), or \"unavailable\".  hebb opens the library on first "
   "use; this call opens it now (hebb.nn does so when it loads, so that a "
   "model's first step does not pay for it)."},
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb(lua_State *L) {
  int top;
  hebb_preload(L);
  lua_newtable(L);
  top = lua_gettop(L);
  luaL_getmetatable(L, HEBB_TENSOR_MT);   /* upvalue for the functions */
  hebbL_register(L, hebb_funcs, top, top, top + 1);
  lua_pop(L, 1);
  lua_pushstring(L, hebb_version());
  lua_setfield(L, top, "version");
  luaL_requiref(L, "hebb.tensor", luaopen_hebb_tensor, 0);
  lua_setfield(L, top, "tensor");
  hebbL_setdoc(L, top, "hebb\n\nThe umbrella module: hebb.tensor, hebb.doc, "
               "hebb.threads, hebb.max_memory, hebb.alloc_stats, hebb.blas, "
               "hebb.version.");
  lua_pushvalue(L, top);
  if (hebbL_run_embedded(L, "hebb", 1)) return 1;   /* init.lua extends it */
  lua_settop(L, top);
  return 1;
}
