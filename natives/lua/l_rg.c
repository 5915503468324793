/*
** l_rg.c -- the module `hebb._rg`: the C half of hebb.rg
** (stdlib/hebb/rg.lua) over natives/core/rg.c: block-spin
** transformations and the lattice sums Monte Carlo RG correlates, and
** over natives/core/rg_network.c: the sampler of networks.  The
** Lua layer checks and documents what users pass.
*/
#include "lhebb.h"

/* block(x, first, d, b, rule, seed, stream) -> coarse x (first 1-based) */
static int l_block(lua_State *L) {
  hebb_tensor *x = hebbL_check(L, 1), *r = NULL, **box;
  lua_Integer first = luaL_checkinteger(L, 2), d = luaL_checkinteger(L, 3);
  lua_Integer b = luaL_checkinteger(L, 4), rule = luaL_checkinteger(L, 5);
  lua_Integer seed = luaL_checkinteger(L, 6), stream = luaL_checkinteger(L, 7);
  luaL_argcheck(L, first >= 1 && d >= 1 && first + d - 1 <= x->ndim, 3,
                "lattice dimensions out of range");
  box = hebbL_newbox(L);
  hebbL_finish(L, box, &r, hebb_rg_block(x, (int)first - 1, (int)d,
                                         (int64_t)b, (int)rule,
                                         (uint64_t)seed, (uint64_t)stream,
                                         &r));
  return 1;
}

/* operators(x, d, offs, lens, ops, nops) -> {batch..., nops} */
static int l_operators(lua_State *L) {
  hebb_tensor *x = hebbL_check(L, 1), *offs = hebbL_check(L, 3);
  hebb_tensor *lens = hebbL_check(L, 4), *ops = hebbL_check(L, 5);
  hebb_tensor *r = NULL, **box;
  lua_Integer d = luaL_checkinteger(L, 2), nops = luaL_checkinteger(L, 6);
  luaL_argcheck(L, d >= 1 && d <= x->ndim, 2, "lattice dimensions out of "
                "range");
  box = hebbL_newbox(L);
  hebbL_finish(L, box, &r, hebb_rg_operators(x, (int)d, offs, lens, ops,
                                             (int64_t)nops, &r));
  return 1;
}

/* net_sample(K, h, neuron, lambda, chains, burn, nmeas, thin, seed,
   stream0) -> {chains, nmeas, n} */
static int l_net_sample(lua_State *L) {
  hebb_tensor *K = hebbL_check(L, 1), *h = hebbL_check(L, 2), *r = NULL, **box;
  lua_Integer neuron = luaL_checkinteger(L, 3);
  double lambda = luaL_checknumber(L, 4);
  lua_Integer chains = luaL_checkinteger(L, 5), burn = luaL_checkinteger(L, 6);
  lua_Integer nmeas = luaL_checkinteger(L, 7), thin = luaL_checkinteger(L, 8);
  lua_Integer seed = luaL_checkinteger(L, 9), stream0 = luaL_checkinteger(L, 10);
  box = hebbL_newbox(L);
  hebbL_finish(L, box, &r, hebb_rg_net_sample(K, h, (int)neuron, lambda,
                                              (int64_t)chains, (int64_t)burn,
                                              (int64_t)nmeas, (int64_t)thin,
                                              (uint64_t)seed,
                                              (uint64_t)stream0, &r));
  return 1;
}

static const hebb_lreg rg_funcs[] = {
  {"block", l_block, HEBB_FN | HEBB_RAW,
   "_rg.block(x, first, d, b, rule, seed, stream)\n\nOne block-spin step.  "
   "Use hebb.rg.block."},
  {"operators", l_operators, HEBB_FN | HEBB_RAW,
   "_rg.operators(x, d, offs, lens, ops, nops)\n\nLattice sums of spin "
   "products.  Use hebb.rg.operators."},
  {"net_sample", l_net_sample, HEBB_FN | HEBB_RAW,
   "_rg.net_sample(K, h, neuron, lambda, chains, burn, nmeas, thin, seed, "
   "stream0)\n\nHeat-bath samples of a network.  Use hebb.rg.sample."},
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb__rg(lua_State *L) {
  return hebbL_newmodule(L, rg_funcs,
    "hebb._rg\n\nC helpers of hebb.rg (natives/core/rg.c).");
}
