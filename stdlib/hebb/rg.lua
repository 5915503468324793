-- rg.lua -- the module `hebb.rg`: renormalization-group coarse-graining.
-- Block-spin transformations and the lattice sums of spin products are C
-- loops (natives/core/rg.c); the schemes built on them are Lua over tensor
-- calls, in internal files: tensor RG (TRG, bond-weighted TRG, HOTRG in 2D
-- and 3D, impurities, conformal data) in _rg_tensor.lua, Monte Carlo RG
-- in _rg_mcrg.lua, real-space recursions in _rg_flow.lua, the exact
-- coarse-graining of Gaussian networks in _rg_network.lua and that of
-- other networks by sampling in _rg_sample.lua (its sampler in C,
-- natives/core/rg_network.c).  See docs/rg.md.
local T = require "hebb.tensor"
local C = require "hebb._rg"
local E = require "hebb._error"
local doc = require("hebb").doc

local M = {}
doc(M, [==[hebb.rg

Renormalization-group coarse-graining: block-spin transformations of
configurations and batches in any dimension (majority with seeded,
thread-independent tie-breaks, plurality, decimation, mean, user block
maps) and their hierarchies; lattice sums of spin products and Monte Carlo
RG (Swendsen) for the exponents y_t, y_h with jackknife errors; tensor RG
for 2D classical models (Levin-Nave TRG, bond-weighted TRG, HOTRG, and
HOTRG in 3D) with the free energy, differentiable through the truncated
SVD (u and c by autodiff), impurities (magnetization, two-point
functions) and conformal data (central charge, scaling dimensions);
real-space recursions (1D decimation, Migdal-Kadanoff) as maps with
flows, fixed points and exponents; the exact coarse-graining of Gaussian
networks (Schur complements) with the free energy conserved; and that of
networks of binary neurons by sampling (pseudo-likelihood couplings with
jackknife errors, ln Z by thermodynamic integration, exact enumeration of
small networks).  See docs/rg.md.]==])
local is_tensor = T.is_tensor

-- --- block spins --------------------------------------------------------------

local RULES = { majority = 0, plurality = 1, decimate = 2, mean = 3, sum = 4 }
local BLOCK_OPTS = { rule = true, d = true, inner = true, seed = true, level = true }

-- the block size and the number of lattice dims from b (a number or a
-- list of equal sizes) and opts.d
local function block_size(who, b, d)
  if type(b) == "table" then
    if #b == 0 then E.raise("%s: block sizes must be a non-empty list, got an empty one", who) end
    for i = 2, #b do
      if b[i] ~= b[1] then
        E.raise("%s: blocks must be square (equal sizes), got {%s}", who, table.concat(b, ", "))
      end
    end
    if d ~= nil and d ~= #b then
      E.raise("%s: %d block sizes for d = %d lattice dimensions", who, #b, d)
    end
    d, b = #b, b[1]
  end
  if math.type(b) ~= "integer" or b < 1 then
    E.raise("%s: block size must be an integer >= 1, got %s", who, E.show(b))
  end
  return b, d
end

-- the 1-based first lattice dim and d for x: the lattice is the last d
-- dims before `inner` trailing component dims (default: all dims)
local function lattice_dims(who, x, d, inner)
  inner = inner or 0
  if math.type(inner) ~= "integer" or inner < 0 then
    E.raise("%s: inner must be an integer >= 0, got %s", who, E.show(inner))
  end
  d = d or x.ndim - inner
  if math.type(d) ~= "integer" or d < 1 or d + inner > x.ndim then
    E.raise("%s: d = %s lattice dimensions (and %d inner) do not fit a %d-d tensor",
      who, E.show(d), inner, x.ndim)
  end
  return x.ndim - inner - d + 1, d
end

local function check_config(who, x)
  if not is_tensor(x) then E.raise("%s: x must be a tensor, got %s", who, E.show(x)) end
  return x
end

local function seed_of(who, opts)
  local seed, level = opts.seed or 0, opts.level or 0
  if math.type(seed) ~= "integer" then E.raise("%s: seed must be an integer, got %s", who, E.show(seed)) end
  if math.type(level) ~= "integer" or level < 0 then
    E.raise("%s: level must be an integer >= 0, got %s", who, E.show(level))
  end
  return seed, level
end

function M.blocks(x, b, opts)
  local who = "rg.blocks"
  opts = E.checkopts(who, opts, { d = true, inner = true })
  check_config(who, x)
  local bs, d = block_size(who, b, opts.d)
  local first, dd = lattice_dims(who, x, d, opts.inner)
  return C.block(x, first, dd, bs, 5, 0, 0)
end
doc(M.blocks, [==[rg.blocks(x, b [, {d=, inner=0}])

The blocks of b^d sites of the configuration x gathered along a new
dimension: shape {batch..., L_1/b, ..., L_d/b, b^d, inner...}, the sites of
a block in row-major order (the block's first site first).  A user's own
block map reduces this dimension; rg.block(x, b, {rule = f}) does it.  The
lattice is the last d dims of x before `inner` trailing component dims (d
defaults to all the others: one configuration); leading dims are a batch.]==])

local function user_rule(who, x, bs, first, d, f)
  local g = C.block(x, first, d, bs, 5, 0, 0)
  local y = f(g)
  local want = g:size()
  table.remove(want, first + d)
  if not is_tensor(y) then E.raise("%s: the block map returned %s, not a tensor", who, E.show(y)) end
  local got = y:size()
  local same = #got == #want
  for i = 1, #want do same = same and got[i] == want[i] end
  if not same then
    E.raise("%s: the block map must reduce the block dimension %d: got shape {%s}, want {%s}",
      who, first + d, table.concat(got, ", "), table.concat(want, ", "))
  end
  return y
end

function M.block(x, b, opts)
  local who = "rg.block"
  opts = E.checkopts(who, opts, BLOCK_OPTS)
  check_config(who, x)
  local bs, d = block_size(who, b, opts.d)
  local first, dd = lattice_dims(who, x, d, opts.inner)
  local rule = opts.rule or "majority"
  if type(rule) == "function" then return user_rule(who, x, bs, first, dd, rule) end
  local code = RULES[rule]
  if not code then
    local near = E.suggest(rule, RULES)
    E.raise("%s: unknown rule %s%s", who, E.show(rule), near and (" (did you mean '" .. near .. "'?)") or "")
  end
  local seed, level = seed_of(who, opts)
  return C.block(x, first, dd, bs, code, seed, level)
end
doc(M.block, [==[rg.block(x, b [, {rule="majority", d=, inner=0, seed=0, level=0}])

One block-spin transformation (Kadanoff): the lattice of x is cut into
blocks of b^d sites (b a number, or a list of d equal sizes: blocks are
square; every lattice size must be divisible by b), each block becomes one
site of the coarse lattice.  Rules:
  "majority"   the sign of the block's sum (Ising spins +-1); a tie (even
               b^d) is broken by a Philox coin keyed by (seed, level, the
               coarse site's position in the output): the same coarse
               configuration at any thread count, independent coins at
               each level of a hierarchy
  "plurality"  the most frequent value (Potts states), ties broken the same way
  "decimate"   the block's first site (the corner: x[1, 1, ...])
  "mean", "sum"  the block average (f64) or sum
  a function   f(blocks) -> values: a user block map, given the gathered
               blocks of rg.blocks and returning the coarse tensor
The lattice is the last d dims of x before `inner` trailing component dims
(an O(n) configuration {L, L, n} with inner = 1 averages vectors); d
defaults to all dims but the inner ones (one configuration) -- give d for a
batch {B, L, L}.  The result keeps x's dtype (mean: f64, f32 for f32).]==])

function M.hierarchy(x, b, opts)
  local who = "rg.hierarchy"
  opts = E.checkopts(who, opts, { rule = true, d = true, inner = true, seed = true, levels = true })
  check_config(who, x)
  local bs, d = block_size(who, b, opts.d)
  local first, dd = lattice_dims(who, x, d, opts.inner)
  local levels = opts.levels
  if levels == nil then     -- as many as the sizes allow (down to b sites)
    levels = math.huge
    for k = first, first + dd - 1 do
      local n, L = 0, x:size(k)
      while L % bs == 0 and L > bs and bs > 1 do L, n = L // bs, n + 1 end
      levels = math.min(levels, n)
    end
  end
  if math.type(levels) ~= "integer" or levels < 0 then
    E.raise("%s: levels must be an integer >= 0, got %s", who, E.show(levels))
  end
  local out = { x }
  for l = 1, levels do
    out[l + 1] = M.block(out[l], bs, { rule = opts.rule, d = dd, inner = opts.inner,
      seed = opts.seed, level = l - 1 })
  end
  return out
end
doc(M.hierarchy, [==[rg.hierarchy(x, b [, {levels=, rule="majority", d=, inner=0, seed=0}])

The block-spin hierarchy {x, x1, x2, ...}: x_{l+1} = rg.block(x_l, b)
applied `levels` times (default: as long as every lattice size stays
divisible by b and larger than b), level l drawing its tie-breaks from
stream l.  Options as for rg.block.]==])

-- --- lattice sums of spin products --------------------------------------------

-- the terms of a list of operators as the C kernel's tensors
local function terms_of(who, ops, d)
  local offs, lens, opi, k = {}, {}, {}, 1
  if type(ops) ~= "table" or #ops == 0 then
    E.raise("%s: operators must be a non-empty list, got %s", who, E.show(ops))
  end
  for a, op in ipairs(ops) do
    if type(op) ~= "table" or #op == 0 then
      E.raise("%s: operator %d must be a non-empty list of terms", who, a)
    end
    for _, term in ipairs(op) do
      if type(term) ~= "table" or #term == 0 then
        E.raise("%s: operator %d: a term must be a non-empty list of offsets", who, a)
      end
      k = math.max(k, #term)
    end
  end
  for a, op in ipairs(ops) do
    for _, term in ipairs(op) do
      local rows = {}
      for s = 1, k do
        local off = term[math.min(s, #term)]
        if type(off) ~= "table" or #off ~= d then
          E.raise("%s: operator %d: offsets must be lists of %d integers, got %s", who, a, d, E.show(off))
        end
        for i = 1, d do
          if math.type(off[i]) ~= "integer" then
            E.raise("%s: operator %d: offsets must be integers, got %s", who, a, E.show(off[i]))
          end
        end
        rows[s] = off
      end
      offs[#offs + 1] = rows
      lens[#lens + 1] = #term
      opi[#opi + 1] = a - 1
    end
  end
  return T.tensor(offs, "i64"), T.tensor(lens, "i64"), T.tensor(opi, "i64")
end

function M.operators(x, ops, opts)
  local who = "rg.operators"
  opts = E.checkopts(who, opts, { d = true })
  check_config(who, x)
  local d = opts.d or x.ndim
  if math.type(d) ~= "integer" or d < 1 or d > x.ndim then
    E.raise("%s: d = %s lattice dimensions do not fit a %d-d tensor", who, E.show(d), x.ndim)
  end
  local offs, lens, opi = terms_of(who, ops, d)
  return C.operators(x, d, offs, lens, opi, #ops)
end
doc(M.operators, [==[rg.operators(x, ops [, {d=}])

Lattice sums of products of spins, S_a(x) = sum_sites sum_{terms t of a}
prod_{offsets o in t} x[site + o] (periodic), for each operator a of the
list ops: an operator is a list of terms, a term a list of offsets, an
offset a list of d integers.  E.g. the nearest-neighbour energy in 2D is
{{{0, 0}, {0, 1}}, {{0, 0}, {1, 0}}}.  x one configuration (d = x.ndim,
the default) or a batch {B, ...} with d given; returns f64 {nops} or {B,
nops}.  Loops in C.  rg.ising_operators gives the standard MCRG sets.]==])

-- translations of one term by its symmetric images under the square
-- lattice group (the 2^d d! rotations and reflections), distinct up to
-- translation
local function canonical(term)
  local t, d = {}, #term[1]
  for i, o in ipairs(term) do t[i] = { table.unpack(o) } end
  local lo = {}
  for i = 1, d do
    lo[i] = math.huge
    for _, o in ipairs(t) do lo[i] = math.min(lo[i], o[i]) end
  end
  for _, o in ipairs(t) do for i = 1, d do o[i] = o[i] - lo[i] end end
  table.sort(t, function(a, b)
    for i = 1, d do if a[i] ~= b[i] then return a[i] < b[i] end end
    return false
  end)
  local parts = {}
  for _, o in ipairs(t) do parts[#parts + 1] = table.concat(o, ",") end
  return table.concat(parts, ";"), t
end

local function permutations(d)
  local out = {}
  local function rec(p, used)
    if #p == d then out[#out + 1] = { table.unpack(p) } return end
    for i = 1, d do
      if not used[i] then
        used[i] = true; p[#p + 1] = i
        rec(p, used)
        p[#p] = nil; used[i] = false
      end
    end
  end
  rec({}, {})
  return out
end

function M.symmetrize(term)
  local who = "rg.symmetrize"
  if type(term) ~= "table" or type(term[1]) ~= "table" then
    E.raise("%s: expects a term (a list of offsets), got %s", who, E.show(term))
  end
  local d = #term[1]
  local seen, out = {}, {}
  for _, p in ipairs(permutations(d)) do
    for signs = 0, (1 << d) - 1 do
      local img = {}
      for i, o in ipairs(term) do
        img[i] = {}
        for k = 1, d do
          local v = o[p[k]]
          img[i][k] = (signs >> (k - 1)) & 1 == 1 and -v or v
        end
      end
      local key, t = canonical(img)
      if not seen[key] then seen[key] = true; out[#out + 1] = t end
    end
  end
  return out
end
doc(M.symmetrize, [==[rg.symmetrize(term)

The distinct images of a term (a list of offsets) under the rotations and
reflections of the hypercubic lattice, each translated to start at the
origin: an operator for rg.operators that has the lattice's symmetry.
rg.symmetrize{{0, 0}, {0, 1}} is the nearest-neighbour operator (2 terms).]==])

-- the standard even and odd operators of the Ising model in d dimensions
function M.ising_operators(d)
  local who = "rg.ising_operators"
  d = d or 2
  if math.type(d) ~= "integer" or d < 1 or d > 4 then
    E.raise("%s: d must be an integer in 1..4, got %s", who, E.show(d))
  end
  local function o(...) -- offsets from axes: o(1, 2) is e_1 + e_2
    local v = {}
    for k = 1, d do v[k] = 0 end
    for _, a in ipairs { ... } do
      if a > 0 then v[a] = v[a] + 1 else v[-a] = v[-a] - 1 end
    end
    return v
  end
  local z = o()
  local even = { M.symmetrize { z, o(1) }, M.symmetrize { z, o(1, 1) } }
  local odd = { { { z } }, M.symmetrize { z, o(1), o(1, 1) } }
  if d >= 2 then
    even = { M.symmetrize { z, o(1) }, M.symmetrize { z, o(1, 2) },
      M.symmetrize { z, o(1, 1) }, M.symmetrize { z, o(1), o(2), o(1, 2) },
      M.symmetrize { z, o(1, 1, 2) } }
    odd = { { { z } }, M.symmetrize { z, o(1), o(2) }, M.symmetrize { z, o(1), o(1, 1) },
      M.symmetrize { z, o(1, 2), o(1, 1) } }
  end
  return { even = even, odd = odd }
end
doc(M.ising_operators, [==[rg.ising_operators([d=2])

The operators Monte Carlo RG correlates for the Ising model, symmetrized
with rg.symmetrize: {even = {...}, odd = {...}}.  In d >= 2, even: nearest
neighbours, next-nearest (diagonal), third neighbours (distance 2), the
plaquette, and the (2, 1) knight's pair; odd: the spin, the corner triple
(site and two orthogonal neighbours), the straight triple, and the V
(0, e1 + e2, 2 e1).  In 1D: even nearest and next-nearest pairs, odd
the spin and a triple.]==])

-- --- the schemes --------------------------------------------------------------

require("hebb._parts").install(M, { "hebb._rg_flow", "hebb._rg_tensor", "hebb._rg_mcrg",
  "hebb._rg_network", "hebb._rg_sample" }, "hebb.rg")

return M
