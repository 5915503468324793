/*
** l_fuse.c -- the module `hebb._fuse`: the C half of T.fuse
** (stdlib/hebb/_tensor_fuse.lua), the programs of natives/core/fuse.c.
** The tracer is Lua; it hands a program over as a table (see l_compile) and
** runs it with its tensors and numbers.
*/
#include <string.h>

#include "lhebb.h"
#include "fuse.h"

#define PROGRAM "hebb.fuse.program"
#define MAXN 512   /* tensors, parameters, instructions' words are bounded
                      by fuse.c; this bounds what a call passes */

/* a program and where its tensors are among the values of a call: nall
   values, tensors at the 0-based positions pos[] */
typedef struct prog {
  hebb_fuse *f;
  int nall, ntensors;
  int pos[MAXN];
} prog;

static prog *check_prog(lua_State *L, int idx) {
  prog *p = luaL_checkudata(L, idx, PROGRAM);
  if (!p->f) luaL_argerror(L, idx, "a freed program");
  return p;
}

static int l_gc(lua_State *L) {
  prog *p = luaL_checkudata(L, 1, PROGRAM);
  hebb_fuse_free(p->f);
  p->f = NULL;
  return 0;
}

/* t[key] as an integer (0 if absent and opt) */
static lua_Integer field_int(lua_State *L, int t, const char *key, int opt) {
  lua_Integer v;
  int ok;
  lua_getfield(L, t, key);
  if (opt && lua_isnil(L, -1)) v = 0;
  else {
    v = lua_tointegerx(L, -1, &ok);
    if (!ok) luaL_error(L, "_fuse.compile: %s must be an integer, got %s", key,
                        luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  return v;
}

/* the integer list t[key] (or t itself when key is NULL) into v[0..max) */
static int int_list(lua_State *L, int t, const char *key, int64_t *v,
                    int max) {
  int n, i, ok;
  if (key) lua_getfield(L, t, key);
  else lua_pushvalue(L, t);
  luaL_checktype(L, -1, LUA_TTABLE);
  n = (int)luaL_len(L, -1);
  if (n > max) luaL_error(L, "_fuse.compile: %s has %d entries (at most %d)",
                          key ? key : "a list", n, max);
  for (i = 0; i < n; i++) {
    lua_geti(L, -1, i + 1);
    v[i] = lua_tointegerx(L, -1, &ok);
    if (!ok) luaL_error(L, "_fuse.compile: entry %d of %s is not an integer",
                        i + 1, key ? key : "a list");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return n;
}

/* compile{dtype=, shape=, args={shape, ...}, leaves={{arg=, shift=}, ...},
   code={kind, op, dst, a0, a1, a2, a3, ...}, nregs=, nparams=, outs={reg, arg, ...}}:
   registers, slots and args 0-based; an out's arg -1 is a new result */
/* the words of one instruction in a program's code: kind, op, dst, the
   operands */
#define WORDS (3 + HEBB_FUSE_MAXIN)

typedef struct scratch {
  hebb_fuse_leaf leaves[MAXN];
  hebb_fuse_ins ins[4 * MAXN];
  int64_t argshape[MAXN * HEBB_MAXDIM], code[WORDS * 4 * MAXN];
  int argndim[MAXN];
  int32_t outreg[MAXN], outarg[MAXN];
} scratch;

static int l_compile(lua_State *L) {
  int64_t shape[HEBB_MAXDIM], outs[2 * MAXN];
  hebb_fuse_spec s;
  prog *box;
  scratch *w;
  hebb_fuse_leaf *leaves;
  hebb_fuse_ins *ins;
  int64_t *argshape, *code;
  int *argndim;
  int32_t *outreg, *outarg;
  int i, n;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  /* the spec's arrays, in a userdata the collector frees (at index 2) */
  w = lua_newuserdatauv(L, sizeof *w, 0);
  leaves = w->leaves;
  ins = w->ins;
  argshape = w->argshape;
  code = w->code;
  argndim = w->argndim;
  outreg = w->outreg;
  outarg = w->outarg;
  memset(&s, 0, sizeof s);
  lua_getfield(L, 1, "dtype");
  s.dtype = hebbL_checkdtype(L, -1);
  lua_pop(L, 1);
  s.ndim = int_list(L, 1, "shape", shape, HEBB_MAXDIM);
  s.shape = shape;
  lua_getfield(L, 1, "args");
  luaL_checktype(L, -1, LUA_TTABLE);
  s.nargs = (int)luaL_len(L, -1);
  if (s.nargs > MAXN) return luaL_error(L, "_fuse.compile: %d args", s.nargs);
  for (i = 0; i < s.nargs; i++) {
    lua_geti(L, -1, i + 1);
    argndim[i] = int_list(L, lua_gettop(L), NULL,
                          argshape + (size_t)i * HEBB_MAXDIM, HEBB_MAXDIM);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  s.argndim = argndim;
  s.argshape = argshape;
  lua_getfield(L, 1, "leaves");
  luaL_checktype(L, -1, LUA_TTABLE);
  s.nleaves = (int)luaL_len(L, -1);
  if (s.nleaves > MAXN)
    return luaL_error(L, "_fuse.compile: %d inputs", s.nleaves);
  for (i = 0; i < s.nleaves; i++) {
    int t;
    lua_geti(L, -1, i + 1);
    t = lua_gettop(L);
    luaL_checktype(L, t, LUA_TTABLE);
    memset(&leaves[i], 0, sizeof leaves[i]);
    leaves[i].arg = (int32_t)field_int(L, t, "arg", 0);
    int_list(L, t, "shift", leaves[i].shift, HEBB_MAXDIM);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  s.leaves = leaves;
  n = int_list(L, 1, "code", code, WORDS * 4 * MAXN);
  if (n % WORDS) return luaL_error(L, "_fuse.compile: code has %d words", n);
  s.nins = n / WORDS;
  for (i = 0; i < s.nins; i++) {
    int k;
    ins[i].kind = (int32_t)code[WORDS * i];
    ins[i].op = (int32_t)code[WORDS * i + 1];
    ins[i].dst = (int32_t)code[WORDS * i + 2];
    for (k = 0; k < HEBB_FUSE_MAXIN; k++)
      ins[i].a[k] = (int32_t)code[WORDS * i + 3 + k];
  }
  s.ins = ins;
  s.nregs = (int)field_int(L, 1, "nregs", 0);
  s.nparams = (int)field_int(L, 1, "nparams", 1);
  n = int_list(L, 1, "outs", outs, 2 * MAXN);
  if (n % 2) return luaL_error(L, "_fuse.compile: outs has %d entries", n);
  s.nouts = n / 2;
  for (i = 0; i < s.nouts; i++) {
    outreg[i] = (int32_t)outs[2 * i];
    outarg[i] = (int32_t)outs[2 * i + 1];
  }
  s.outreg = outreg;
  s.outarg = outarg;
  box = lua_newuserdatauv(L, sizeof *box, 0);
  box->f = NULL;
  luaL_setmetatable(L, PROGRAM);
  box->nall = (int)field_int(L, 1, "nall", 0);
  n = int_list(L, 1, "pos", code, MAXN);
  if (n != s.nargs || box->nall < n || box->nall > MAXN)
    return luaL_error(L, "_fuse.compile: %d tensor positions among %d values "
                      "for %d tensors", n, box->nall, s.nargs);
  box->ntensors = n;
  for (i = 0; i < n; i++) {
    if (code[i] < 1 || code[i] > box->nall || (i > 0 && code[i] <= code[i - 1]))
      return luaL_error(L, "_fuse.compile: bad tensor position %d", (int)code[i]);
    box->pos[i] = (int)code[i] - 1;
  }
  box->f = hebb_fuse_new(&s);
  if (!box->f) return hebbL_raise(L);
  return 1;
}

/* The tensors among the values at first .. top into a[]: 1 when they are
   where the program has them (and nowhere else), 0 if not. */
static int get_args(lua_State *L, const prog *p, int first, hebb_tensor **a) {
  int n = lua_gettop(L) - first + 1, i, k = 0;
  if (n != p->nall) return 0;
  for (i = 0; i < n; i++) {
    hebb_tensor *t = hebbL_test(L, first + i);
    if ((k < p->ntensors && p->pos[k] == i) != (t != NULL)) return 0;
    if (t) a[k++] = t;
  }
  return 1;
}

/* match(prog, ...): whether the values have tensors where the program
   has, of its dtype and shapes, and none tracked by autograd */
static int l_match(lua_State *L) {
  prog *p = check_prog(L, 1);
  hebb_tensor *a[MAXN];
  int ok = get_args(L, p, 2, a), i;
  for (i = 0; i < p->ntensors && ok; i++)
    if (a[i]->flags & HEBB_TF_TRACKED) ok = 0;
  if (ok && hebb_fuse_check_args(p->f, p->ntensors, a)) ok = 0;
  lua_pushboolean(L, ok);
  return 1;
}

/* run(prog, params, ...): false when a tensor written in place shares
   memory with another (evaluate eagerly), else true and the new results */
static int l_run(lua_State *L) {
  prog *p = check_prog(L, 1);
  hebb_tensor *a[MAXN], *res[MAXN], **box[MAXN];
  double par[MAXN];
  int n = p->ntensors, np, i, nres = hebb_fuse_nresults(p->f), st;
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!get_args(L, p, 3, a))
    return luaL_error(L, "_fuse.run: the values do not have the program's "
                      "tensors at %d places among %d", p->ntensors, p->nall);
  np = (int)luaL_len(L, 2);
  if (np > MAXN) return luaL_error(L, "_fuse.run: %d parameters", np);
  for (i = 0; i < np; i++) {
    int ok;
    lua_geti(L, 2, i + 1);
    par[i] = lua_tonumberx(L, -1, &ok);
    if (!ok) return luaL_error(L, "_fuse.run: parameter %d is %s", i + 1,
                               luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  if (hebb_fuse_check_args(p->f, n, a) || hebb_fuse_check_params(p->f, np))
    return hebbL_raise(L);
  if (hebb_fuse_aliased(p->f, a)) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_pushboolean(L, 1);
  for (i = 0; i < nres; i++) box[i] = hebbL_newbox(L);
  st = hebb_fuse_run(p->f, n, a, par, res);
  if (st != HEBB_OK) return hebbL_raise(L);
  for (i = 0; i < nres; i++) {
    *box[i] = res[i];
    hebbL_account(L, res[i]);
  }
  return nres + 1;
}

static const hebb_lreg fuse_funcs[] = {
  {"compile", l_compile, HEBB_FN | HEBB_RAW,
   "_fuse.compile(spec)\n\nA fused program from the tracer's table.  Use "
   "T.fuse."},
  {"match", l_match, HEBB_FN | HEBB_RAW,
   "_fuse.match(prog, t1, ...)\n\nWhether the tensors fit the program (dtype, "
   "shapes) and none is tracked.  Use T.fuse."},
  {"run", l_run, HEBB_FN | HEBB_RAW,
   "_fuse.run(prog, params, t1, ...)\n\nRuns the program: false when a "
   "tensor written in place shares memory with another, else true and the "
   "new results.  Use T.fuse."},
  {NULL, NULL, 0, NULL}
};

/* the operation codes the tracer emits, by the names of the methods */
static const struct { const char *name; int code; } unops[] = {
  {"neg", HEBB_NEG}, {"abs", HEBB_ABS}, {"sign", HEBB_SIGN},
  {"exp", HEBB_EXP}, {"log", HEBB_LOG}, {"log1p", HEBB_LOG1P},
  {"expm1", HEBB_EXPM1}, {"sqrt", HEBB_SQRT}, {"sin", HEBB_SIN},
  {"cos", HEBB_COS}, {"tan", HEBB_TAN}, {"tanh", HEBB_TANH},
  {"sinh", HEBB_SINH}, {"cosh", HEBB_COSH}, {"asin", HEBB_ASIN},
  {"acos", HEBB_ACOS}, {"atan", HEBB_ATAN}, {"sigmoid", HEBB_SIGMOID},
  {"relu", HEBB_RELU}, {"softplus", HEBB_SOFTPLUS}, {"floor", HEBB_FLOOR},
  {"ceil", HEBB_CEIL}, {"round", HEBB_ROUND},
  {"reciprocal", HEBB_RECIPROCAL}, {"square", HEBB_SQUARE}, {NULL, 0}
}, binops[] = {
  {"add", HEBB_ADD}, {"sub", HEBB_SUB}, {"mul", HEBB_MUL}, {"div", HEBB_DIV},
  {"idiv", HEBB_IDIV}, {"mod", HEBB_MOD}, {"pow", HEBB_POW},
  {"minimum", HEBB_MIN}, {"maximum", HEBB_MAX}, {"atan2", HEBB_ATAN2},
  {NULL, 0}
};

int luaopen_hebb__fuse(lua_State *L) {
  int i;
  if (luaL_newmetatable(L, PROGRAM)) {
    lua_pushcfunction(L, l_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  hebbL_newmodule(L, fuse_funcs,
    "hebb._fuse\n\nThe C half of T.fuse: fused elementwise programs.");
  lua_newtable(L);
  for (i = 0; unops[i].name; i++) {
    lua_pushinteger(L, unops[i].code);
    lua_setfield(L, -2, unops[i].name);
  }
  lua_setfield(L, -2, "unops");
  lua_newtable(L);
  for (i = 0; binops[i].name; i++) {
    lua_pushinteger(L, binops[i].code);
    lua_setfield(L, -2, binops[i].name);
  }
  lua_setfield(L, -2, "binops");
  lua_pushinteger(L, HEBB_FUSE_LOAD);
  lua_setfield(L, -2, "LOAD");
  lua_pushinteger(L, HEBB_FUSE_UNARY);
  lua_setfield(L, -2, "UNARY");
  lua_pushinteger(L, HEBB_FUSE_BINARY);
  lua_setfield(L, -2, "BINARY");
  lua_pushinteger(L, HEBB_FUSE_SUM);
  lua_setfield(L, -2, "SUM");
  lua_pushinteger(L, HEBB_FUSE_AXPY);
  lua_setfield(L, -2, "AXPY");
  lua_pushinteger(L, HEBB_FUSE_SUMAXPY);
  lua_setfield(L, -2, "SUMAXPY");
  lua_pushinteger(L, HEBB_FUSE_MAXIN);
  lua_setfield(L, -2, "MAXIN");
  return 1;
}
