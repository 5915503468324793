/*
** l_random.c -- random tensors of `hebb.tensor` and generator objects.
** The generator is Philox-4x32-10, counter-based (natives/core/random.c):
** a draw depends only on (seed, stream, position), so results are the same
** at any thread count and however draws are split, and a generator's
** state is three integers that can be saved and restored exactly.
*/
#include "core.h"
#include "lhebb.h"

#define GEN_MT "hebb.Generator"

/* A generator userdata: 'g' points to 'own', or to the core's default
   generator for T.default_generator. */
typedef struct lgen {
  hebb_rng *g;
  hebb_rng own;
} lgen;

static hebb_rng *checkgen(lua_State *L, int idx) {
  return ((lgen *)luaL_checkudata(L, idx, GEN_MT))->g;
}

static lgen *newgen(lua_State *L) {
  lgen *u = lua_newuserdatauv(L, sizeof(lgen), 0);
  u->g = &u->own;
  hebb_rng_init(&u->own, 0, 0);
  luaL_setmetatable(L, GEN_MT);
  return u;
}

/* the options of draws into new tensors, and of fills */
static const char *const draw_keys[] = {"dtype", "generator", NULL};
static const char *const fill_keys[] = {"generator", NULL};

/* The generator named by the 'generator' field of an options table at
   idx, or the default one.  The table keeps the userdata alive. */
static hebb_rng *optgen(lua_State *L, int idx) {
  hebb_rng *g = hebb_default_rng();
  if (lua_type(L, idx) == LUA_TTABLE) {
    if (lua_getfield(L, idx, "generator") != LUA_TNIL) {
      if (!luaL_testudata(L, -1, GEN_MT))
        luaL_error(L, "option 'generator' must be a generator (T.Generator)");
      g = checkgen(L, -1);
    }
    lua_pop(L, 1);
  }
  return g;
}

hebb_rng *hebbL_togen(lua_State *L, int idx) {
  if (lua_isnoneornil(L, idx)) return hebb_default_rng();
  if (!luaL_testudata(L, idx, GEN_MT))
    luaL_typeerror(L, idx, "generator (T.Generator)");
  return checkgen(L, idx);
}

/* complex dtypes pass: the core draws complex normals and refuses complex
   uniforms by name */
static void check_float(lua_State *L, const char *who, int dtype) {
  if (dtype != HEBB_F64 && dtype != HEBB_F32 && !hebb_is_complex(dtype))
    luaL_error(L, "%s: dtype %s is not supported (f64 or f32)", who,
               hebb_dtype_name(dtype));
}

/* Pushes a new uninitialized tensor (its box first, so a failed Lua
   allocation cannot leak it) and returns it. */
static hebb_tensor *push_empty(lua_State *L, int dtype, int ndim,
                               const int64_t *shape) {
  hebb_tensor **box = hebbL_newbox(L);
  hebbL_fill_box(L, hebb_empty(dtype, ndim, shape));
  return *box;
}

/* Pushes a new tensor of the shape given from idx on (integers or one
   table); the options (a table or a dtype name) follow the shape.  Sets
   *g from the options unless the caller already has one. */
static hebb_tensor *new_target(lua_State *L, int idx, int defdtype,
                               const char *who, int isfloat, hebb_rng **g) {
  int64_t shape[HEBB_MAXDIM];
  int next, ndim = hebbL_checkshape(L, idx, shape, &next), dtype;
  int tp = lua_type(L, next);
  luaL_argexpected(L, tp == LUA_TNONE || tp == LUA_TNIL || tp == LUA_TTABLE ||
                   tp == LUA_TSTRING, next, "options table or dtype");
  hebbL_checkkeys(L, next, draw_keys);
  dtype = hebbL_optdtype(L, next, defdtype);
  if (isfloat) check_float(L, who, dtype);
  if (!*g) *g = optgen(L, next);
  return push_empty(L, dtype, ndim, shape);
}

/* fills t with normal (mean a, std b) or uniform (a to b) draws */
static int fill_real(hebb_rng *g, hebb_tensor *t, int normal, double a,
                     double b) {
  return normal ? hebb_rand_normal(g, t, a, b) : hebb_rand_uniform(g, t, a, b);
}

/* --- draws into new tensors (g NULL: the options' generator) ----------- */

static int draw_float(lua_State *L, int first, hebb_rng *g, int normal) {
  const char *who = normal ? "randn" : "rand";
  hebb_tensor *t = new_target(L, first, HEBB_F64, who, 1, &g);
  hebbL_check_status(L, fill_real(g, t, normal, 0, 1));
  return 1;
}

/* randint(lo, hi, shape...) or randint(hi, {shape}): hebb's ranges
   include both ends, so the core's [lo, hi) gets hi + 1. */
static int draw_int(lua_State *L, int first, hebb_rng *g) {
  lua_Integer lo = 1, hi;
  int shape_at;
  hebb_tensor *t;
  if (lua_type(L, first + 1) == LUA_TTABLE) {
    hi = luaL_checkinteger(L, first);
    shape_at = first + 1;
  } else {
    int tp = lua_type(L, first + 2);
    lo = luaL_checkinteger(L, first);
    hi = luaL_checkinteger(L, first + 1);
    shape_at = first + 2;
    if (tp != LUA_TNUMBER && tp != LUA_TTABLE)
      return luaL_error(L, "randint: missing shape (randint(lo, hi, shape...) "
                        "or randint(hi, {shape...}))");
  }
  if (lo > hi)
    return luaL_error(L, "randint: lo (%I) is greater than hi (%I)", lo, hi);
  if (hi == LUA_MAXINTEGER)
    return luaL_error(L, "randint: hi must be less than math.maxinteger");
  t = new_target(L, shape_at, HEBB_I64, "randint", 0, &g);
  hebbL_check_status(L, hebb_rand_int(g, t, lo, hi + 1));
  return 1;
}

static double checkprob(lua_State *L, int idx) {
  double p = luaL_checknumber(L, idx);
  luaL_argcheck(L, p >= 0 && p <= 1, idx, "probability must be in [0, 1]");
  return p;
}

/* bernoulli(p, shape... [, opts]) with a number p, or bernoulli(P [,
   shape...] [, opts]) with a tensor of probabilities P (broadcast to the
   shape, which defaults to P's) */
static int draw_bernoulli(lua_State *L, int first, hebb_rng *g) {
  hebb_tensor *p, *t;
  int tp = lua_type(L, first + 1);
  if (lua_type(L, first) != LUA_TUSERDATA) {
    double pv = checkprob(L, first);
    t = new_target(L, first + 1, HEBB_BOOL, "bernoulli", 0, &g);
    hebbL_check_status(L, hebb_rand_bernoulli(g, t, pv));
    return 1;
  }
  p = hebbL_check(L, first);
  if (tp == LUA_TNUMBER || (tp == LUA_TTABLE && lua_rawlen(L, first + 1) > 0))
    t = new_target(L, first + 1, HEBB_BOOL, "bernoulli", 0, &g);
  else {   /* P's shape; options (if any) right after P */
    int dtype;
    luaL_argexpected(L, tp == LUA_TNONE || tp == LUA_TNIL ||
                     tp == LUA_TTABLE || tp == LUA_TSTRING, first + 1,
                     "shape, options table or dtype");
    hebbL_checkkeys(L, first + 1, draw_keys);
    dtype = hebbL_optdtype(L, first + 1, HEBB_BOOL);
    if (!g) g = optgen(L, first + 1);
    t = push_empty(L, dtype, p->ndim, p->shape);
  }
  hebbL_check_status(L, hebb_rand_bernoulli_tensor(g, t, p));
  return 1;
}

static int draw_perm(lua_State *L, int first, hebb_rng *g) {
  int64_t n = luaL_checkinteger(L, first);
  hebb_tensor *t;
  luaL_argcheck(L, n >= 0, first, "length must be >= 0");
  hebbL_checkkeys(L, first + 1, fill_keys);
  if (!g) g = optgen(L, first + 1);
  t = push_empty(L, HEBB_I64, 1, &n);
  hebbL_check_status(L, hebb_rand_permutation(g, t, 1));
  return 1;
}

static int l_rand(lua_State *L) { return draw_float(L, 1, NULL, 0); }
static int l_randn(lua_State *L) { return draw_float(L, 1, NULL, 1); }
static int l_randint(lua_State *L) { return draw_int(L, 1, NULL); }
static int l_bernoulli(lua_State *L) { return draw_bernoulli(L, 1, NULL); }
static int l_randperm(lua_State *L) { return draw_perm(L, 1, NULL); }

/* rand_like(t [, opts]): t's shape; t's dtype when it is a float one */
static int draw_like(lua_State *L, int normal) {
  const char *who = normal ? "randn_like" : "rand_like";
  hebb_tensor *a = hebbL_check(L, 1), *t;
  int def = a->dtype == HEBB_F32 || hebb_is_complex(a->dtype) ? a->dtype
                                                              : HEBB_F64;
  int dtype;
  hebb_rng *g;
  hebbL_checkkeys(L, 2, draw_keys);
  dtype = hebbL_optdtype(L, 2, def);
  check_float(L, who, dtype);
  g = optgen(L, 2);
  t = push_empty(L, dtype, a->ndim, a->shape);
  hebbL_check_status(L, fill_real(g, t, normal, 0, 1));
  return 1;
}

static int l_rand_like(lua_State *L) { return draw_like(L, 0); }
static int l_randn_like(lua_State *L) { return draw_like(L, 1); }

/* --- in-place fills ---------------------------------------------------- */

/* up to two numbers after t, then an options table */
static int fill_(lua_State *L, int normal) {
  hebb_tensor *t = hebbL_check(L, 1);
  int opts = lua_istable(L, 2) ? 2 : lua_istable(L, 3) ? 3 : 4;
  double a = opts > 2 ? luaL_optnumber(L, 2, 0) : 0;
  double b = opts > 3 ? luaL_optnumber(L, 3, 1) : 1;
  hebb_rng *g;
  hebbL_checkkeys(L, opts, fill_keys);
  g = optgen(L, opts);
  hebbL_check_status(L, fill_real(g, t, normal, a, b));
  lua_settop(L, 1);
  return 1;
}

static int l_uniform_(lua_State *L) { return fill_(L, 0); }
static int l_normal_(lua_State *L) { return fill_(L, 1); }

static int l_bernoulli_(lua_State *L) {
  hebb_tensor *t = hebbL_check(L, 1);
  hebb_rng *g;
  hebbL_checkkeys(L, 3, fill_keys);
  g = optgen(L, 3);
  if (lua_type(L, 2) == LUA_TUSERDATA)
    hebbL_check_status(L, hebb_rand_bernoulli_tensor(g, t, hebbL_check(L, 2)));
  else hebbL_check_status(L, hebb_rand_bernoulli(g, t, checkprob(L, 2)));
  lua_settop(L, 1);
  return 1;
}

/* --- state ------------------------------------------------------------- */

/* Seeds, streams and counters are 64-bit unsigned; Lua integers hold
   them bit for bit (values from 2^63 on read as negative). */
static void push_state(lua_State *L, const hebb_rng *g) {
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)g->seed);
  lua_setfield(L, -2, "seed");
  lua_pushinteger(L, (lua_Integer)g->stream);
  lua_setfield(L, -2, "stream");
  lua_pushinteger(L, (lua_Integer)g->counter);
  lua_setfield(L, -2, "counter");
}

static uint64_t state_field(lua_State *L, int idx, const char *name) {
  int isint;
  lua_Integer v;
  lua_getfield(L, idx, name);
  v = lua_tointegerx(L, -1, &isint);
  if (!isint)
    luaL_error(L, "set_state: field '%s' must be an integer (got %s)", name,
               luaL_typename(L, -1));
  lua_pop(L, 1);
  return (uint64_t)v;
}

/* Reads all three fields before changing anything. */
static void set_state(lua_State *L, hebb_rng *g, int idx) {
  uint64_t seed, stream, counter;
  luaL_checktype(L, idx, LUA_TTABLE);
  seed = state_field(L, idx, "seed");
  stream = state_field(L, idx, "stream");
  counter = state_field(L, idx, "counter");
  g->seed = seed;
  g->stream = stream;
  g->counter = counter;
}

static int l_manual_seed(lua_State *L) {
  lua_Integer seed = luaL_checkinteger(L, 1);
  hebb_rng_init(hebb_default_rng(), (uint64_t)seed, 0);
  return 0;
}

static int l_get_rng_state(lua_State *L) {
  push_state(L, hebb_default_rng());
  return 1;
}

static int l_set_rng_state(lua_State *L) {
  set_state(L, hebb_default_rng(), 1);
  return 0;
}

static int l_generator(lua_State *L) {
  lua_Integer seed = luaL_checkinteger(L, 1);
  lua_Integer stream = luaL_optinteger(L, 2, 0);
  lgen *u = newgen(L);
  hebb_rng_init(&u->own, (uint64_t)seed, (uint64_t)stream);
  return 1;
}

/* --- generator methods ------------------------------------------------- */

static int g_rand(lua_State *L) { return draw_float(L, 2, checkgen(L, 1), 0); }
static int g_randn(lua_State *L) { return draw_float(L, 2, checkgen(L, 1), 1); }
static int g_randint(lua_State *L) { return draw_int(L, 2, checkgen(L, 1)); }
static int g_bernoulli(lua_State *L) {
  return draw_bernoulli(L, 2, checkgen(L, 1));
}
static int g_randperm(lua_State *L) { return draw_perm(L, 2, checkgen(L, 1)); }

static int g_state(lua_State *L) {
  push_state(L, checkgen(L, 1));
  return 1;
}

static int g_set_state(lua_State *L) {
  set_state(L, checkgen(L, 1), 2);
  lua_settop(L, 1);
  return 1;
}

static int g_seed(lua_State *L) {
  hebb_rng *g = checkgen(L, 1);
  if (lua_isnoneornil(L, 2)) {
    lua_pushinteger(L, (lua_Integer)g->seed);
    return 1;
  }
  hebb_rng_init(g, (uint64_t)luaL_checkinteger(L, 2), g->stream);
  lua_settop(L, 1);
  return 1;
}

static int g_clone(lua_State *L) {
  hebb_rng *g = checkgen(L, 1);
  lgen *u = newgen(L);
  u->own = *g;
  return 1;
}

static int g_tostring(lua_State *L) {
  hebb_rng *g = checkgen(L, 1);
  lua_pushfstring(L, "Generator(seed=%I, stream=%I, counter=%I)",
                  (lua_Integer)g->seed, (lua_Integer)g->stream,
                  (lua_Integer)g->counter);
  return 1;
}

/* --- registration ------------------------------------------------------ */

#define SHAPE_OPTS "shape: integers or one table; opts: {dtype=, generator=} " \
  "or a dtype name."

static const hebb_lreg random_funcs[] = {
  {"rand", l_rand, HEBB_FN,
   "T.rand(shape... [, opts])\n\nUniform random numbers in [0, 1) (f64, or "
   "f32).  " SHAPE_OPTS "  Reproducible: the default generator starts from "
   "seed 0 in every run (see T.manual_seed)."},
  {"randn", l_randn, HEBB_FN,
   "T.randn(shape... [, opts])\n\nStandard normal random numbers (mean 0, "
   "variance 1; Box-Muller).  With dtype c128/c64, standard complex normal "
   "numbers: real and imaginary parts independent N(0, 1/2), so E|z|^2 = 1; "
   "element k uses the generator's words 2k and 2k+1.  " SHAPE_OPTS},
  {"randint", l_randint, HEBB_FN,
   "T.randint(lo, hi, shape... [, opts])  or  T.randint(hi, {shape...})\n\n"
   "Uniform random integers from lo to hi INCLUSIVE, like math.random(lo, "
   "hi) (the second form draws from 1..hi).  i64 unless opts.dtype says f64 "
   "or f32.  Unbiased to within 2^-64 per value.  " SHAPE_OPTS},
  {"bernoulli", l_bernoulli, HEBB_FN,
   "T.bernoulli(p, shape... [, opts])  or  T.bernoulli(P [, shape...] [, "
   "opts])\n\nRandom booleans, true with probability p; with a tensor P of "
   "probabilities, element i is true with probability P[i] (P broadcasts to "
   "the shape, which defaults to P's).  bool unless opts.dtype says "
   "otherwise (then 0/1).  " SHAPE_OPTS},
  {"randperm", l_randperm, HEBB_FN,
   "T.randperm(n [, opts])\n\nA random permutation of 1..n (i64), by "
   "Fisher-Yates.  opts: {generator=}."},
  {"rand_like", l_rand_like, HEBB_BOTH,
   "T.rand_like(t [, opts])\n\nUniform [0, 1) numbers of t's shape, in t's "
   "dtype when that is f32 or f64 (otherwise f64)."},
  {"randn_like", l_randn_like, HEBB_BOTH,
   "T.randn_like(t [, opts])\n\nStandard normal numbers of t's shape, in t's "
   "dtype when that is f32, f64, c128 or c64 (otherwise f64)."},
  {"uniform_", l_uniform_, HEBB_METHOD,
   "t:uniform_([lo [, hi]] [, opts])\n\nFills t (f64 or f32) in place with "
   "uniform numbers in [lo, hi) (default [0, 1)); returns t.  opts: "
   "{generator=}."},
  {"normal_", l_normal_, HEBB_METHOD,
   "t:normal_([mean [, std]] [, opts])\n\nFills t (f64 or f32) in place with "
   "normal numbers (default mean 0, std 1); returns t.  A complex t gets "
   "mean + complex normal numbers with E|z - mean|^2 = std^2 (each part "
   "std/sqrt(2)).  opts: {generator=}."},
  {"bernoulli_", l_bernoulli_, HEBB_METHOD,
   "t:bernoulli_(p [, opts])\n\nFills t in place with 1/true with "
   "probability p (a number, or a tensor broadcasting to t), 0/false "
   "otherwise; returns t.  opts: {generator=}."},
  {"manual_seed", l_manual_seed, HEBB_FN,
   "T.manual_seed(n)\n\nRestarts the default generator from seed n (an "
   "integer), stream 0, position 0.  Every run starts as if "
   "T.manual_seed(0) had been called."},
  {"get_rng_state", l_get_rng_state, HEBB_FN,
   "T.get_rng_state()\n\nThe default generator's state as a plain table "
   "{seed=, stream=, counter=} of integers (save it with your data; "
   "64-bit values from 2^63 on appear as negative integers)."},
  {"set_rng_state", l_set_rng_state, HEBB_FN,
   "T.set_rng_state(state)\n\nRestores the default generator from a table "
   "made by T.get_rng_state(): the draws that follow repeat bit for bit."},
  {"Generator", l_generator, HEBB_FN,
   "T.Generator(seed [, stream])\n\nAn independent generator (Philox-4x32-10) "
   "for reproducible experiments: different streams with the same seed are "
   "independent sequences (e.g. one per replica or per walker).  Methods: "
   "g:rand, g:randn, g:randint, g:bernoulli, g:randperm (as the T. "
   "functions), g:state(), g:set_state(t), g:seed([n]), g:clone(); or pass "
   "{generator = g} to any random function."},
  {NULL, NULL, 0, NULL}
};

static const hebb_lreg generator_methods[] = {
  {"rand", g_rand, HEBB_FN,
   "g:rand(shape... [, opts])\n\nLike T.rand, drawing from g."},
  {"randn", g_randn, HEBB_FN,
   "g:randn(shape... [, opts])\n\nLike T.randn, drawing from g."},
  {"randint", g_randint, HEBB_FN,
   "g:randint(lo, hi, shape... [, opts])\n\nLike T.randint (hi included), "
   "drawing from g."},
  {"bernoulli", g_bernoulli, HEBB_FN,
   "g:bernoulli(p, shape... [, opts])\n\nLike T.bernoulli, drawing from g."},
  {"randperm", g_randperm, HEBB_FN,
   "g:randperm(n)\n\nLike T.randperm, drawing from g."},
  {"state", g_state, HEBB_FN,
   "g:state()\n\ng's state as a plain table {seed=, stream=, counter=}."},
  {"set_state", g_set_state, HEBB_FN,
   "g:set_state(state)\n\nRestores a state from g:state(); returns g."},
  {"seed", g_seed, HEBB_FN,
   "g:seed([n])\n\nWithout n, g's seed; with n, restarts g from seed n "
   "(same stream, position 0) and returns g."},
  {"clone", g_clone, HEBB_FN,
   "g:clone()\n\nA new generator in g's current state."},
  {NULL, NULL, 0, NULL}
};

void hebbL_open_random(lua_State *L, int module, int methods, int mt) {
  int gm;
  hebbL_register(L, random_funcs, module, methods, mt);
  luaL_newmetatable(L, GEN_MT);
  lua_newtable(L);
  gm = lua_gettop(L);
  hebbL_register(L, generator_methods, gm, gm, mt);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, g_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  /* the default generator as an object, for {generator = ...} and g:state */
  newgen(L)->g = hebb_default_rng();
  hebbL_setdoc(L, -1, "T.default_generator\n\nThe generator the random "
               "functions use when no generator option is given.");
  lua_setfield(L, module, "default_generator");
}
