-- test_rg.lua -- hebb.rg's block spins and lattice sums (natives/core/rg.c)
-- against plain-Lua references on random configurations (1D to 3D,
-- batches, O(n) components), the tie-break coins (fair, keyed by seed and
-- level, the same bits at 1 and 2 threads), hierarchies, and bad input.
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"
local rg = require "hebb.rg"
local lattice = require "hebb.lattice"
local test, eq, near, raises = check.test, check.eq, check.near, check.raises

local function spins(shape, seed)
  T.manual_seed(seed)
  return T.randint(0, 1, shape) * 2 - 1
end

-- the sum of the b x b block (I, J) (1-based coarse indices) of a 2D table
local function block_sum(x, I, J, b)
  local s = 0
  for i = 1, b do for j = 1, b do s = s + x[(I - 1) * b + i][(J - 1) * b + j] end end
  return s
end

test("majority_2d_against_reference", function()
  for _, b in ipairs { 2, 3 } do
    local x = spins({ 12, 6 * b }, b)
    if b == 2 then x = spins({ 12, 12 }, 1) end
    local L1, L2 = x:size(1), x:size(2)
    local y = rg.block(x, b):totable()
    local xt = x:totable()
    local ties = 0
    for I = 1, L1 // b do
      for J = 1, L2 // b do
        local s = block_sum(xt, I, J, b)
        if s ~= 0 then eq(y[I][J], s > 0 and 1 or -1, "block sign")
        else ties = ties + 1; check.truthy(y[I][J] == 1 or y[I][J] == -1, "tie gives +-1") end
      end
    end
    if b == 3 then eq(ties, 0, "odd blocks never tie") end
  end
end)

test("ties_fair_and_keyed_by_seed_and_level", function()
  -- a checkerboard: every 2x2 block ties
  local big = (T.arange(0, 255):view(1, 256) + T.arange(0, 255):view(256, 1)) % 2 * 2 - 1
  local y = rg.block(big, 2)
  local frac = (y:sum():item() / y:numel() + 1) / 2
  -- 16384 fair coins: sd of the fraction 0.0039; 4 sd
  near(frac, 0.5, 0.016, "fraction of +1")
  eq(T.equal(y, rg.block(big, 2)), true, "same seed, same coins")
  eq(T.equal(y, rg.block(big, 2, { seed = 1 })), false, "another seed")
  eq(T.equal(y, rg.block(big, 2, { level = 1 })), false, "another level")
end)

test("decimate_mean_sum_against_views", function()
  local x = spins({ 8, 12 }, 3)
  local dec = rg.block(x, 2, { rule = "decimate" })
  eq(T.equal(dec, x[{ { 1, 8, 2 }, { 1, 12, 2 } }]), true, "decimation = corner sites")
  local mean = rg.block(x, 2, { rule = "mean" })
  local ref = x:astype("f64"):view(4, 2, 6, 2):mean({ 2, 4 })
  near((mean - ref):abs():max():item(), 0, 1e-15, "mean")
  eq(mean.dtype, "f64", "mean is f64")
  local sum = rg.block(x, 2, { rule = "sum" })
  eq(sum.dtype, "i64", "sum keeps i64")
  eq(T.equal(sum, x:view(4, 2, 6, 2):sum({ 2, 4 })), true, "sum")
end)

test("any_dimension_and_batches", function()
  -- 1D, 3D, and a batch of 2D configurations with d given
  local x1 = spins({ 27 }, 4)
  local y1 = rg.block(x1, 3, { rule = "sum" })
  eq(T.equal(y1, x1:view(9, 3):sum(2)), true, "1D")
  local x3 = spins({ 4, 4, 6 }, 5):astype("f64")
  local y3 = rg.block(x3, 2, { rule = "mean" })
  local r3 = x3:view(2, 2, 2, 2, 3, 2):mean({ 2, 4, 6 })
  near((y3 - r3):abs():max():item(), 0, 1e-15, "3D mean")
  local xb = spins({ 5, 8, 8 }, 6)
  local yb = rg.block(xb, 2, { d = 2 })
  for i = 1, 5 do
    eq(T.equal(yb[i]:abs(), T.ones(4, 4, { dtype = "i64" })), true, "batch element is +-1")
    -- the non-tie blocks agree with the single configuration's
    local s = xb[i]:view(4, 2, 4, 2):sum({ 2, 4 })
    local nz = s:ne(0)
    eq(T.equal(yb[i]:masked_select(nz), s:sign():masked_select(nz)), true, "batch majority")
  end
end)

test("plurality_for_potts", function()
  T.manual_seed(7)
  local x = T.randint(1, 3, { 9, 9 })
  local y = rg.block(x, 3, { rule = "plurality" }):totable()
  local xt = x:totable()
  for I = 1, 3 do
    for J = 1, 3 do
      local cnt = { 0, 0, 0 }
      for i = 1, 3 do for j = 1, 3 do
        local v = xt[(I - 1) * 3 + i][(J - 1) * 3 + j]
        cnt[v] = cnt[v] + 1
      end end
      local best = math.max(cnt[1], cnt[2], cnt[3])
      eq(cnt[y[I][J]], best, "a most frequent state")
    end
  end
end)

test("user_block_map_and_components", function()
  local x = spins({ 6, 6 }, 8):astype("f64")
  local y = rg.block(x, 3, { rule = function(blk) return blk:mean(-1) end })
  near((y - rg.block(x, 3, { rule = "mean" })):abs():max():item(), 0, 1e-15, "user mean")
  local g = rg.blocks(x, 3)
  eq(table.concat(g.shape, ","), "2,2,9", "gathered shape")
  eq(g[1][2][1], x[1][4], "first site of block (1, 2)")
  -- O(3) vectors: inner = 1 averages each component
  T.manual_seed(9)
  local v = T.randn(4, 4, 3)
  local m = rg.block(v, 2, { rule = "mean", inner = 1 })
  near((m - v:view(2, 2, 2, 2, 3):mean({ 2, 4 })):abs():max():item(), 0, 1e-15, "vector mean")
  raises(function() rg.block(x, 3, { rule = function(blk) return blk end }) end,
    "rg.block: the block map must reduce the block dimension 3: got shape {2, 2, 9}, want {2, 2}")
end)

test("hierarchy_levels", function()
  local x = spins({ 32, 32 }, 10)
  local h = rg.hierarchy(x, 2)
  eq(#h, 5, "32 -> 16 -> 8 -> 4 -> 2")
  eq(h[5]:size(1), 2, "last level")
  eq(T.equal(h[3], rg.block(rg.block(x, 2), 2, { level = 1 })), true, "level 2 = two blocks")
  eq(#rg.hierarchy(x, 2, { levels = 2 }), 3, "levels given")
end)

test("same_bits_at_1_and_2_threads", function()
  local x = spins({ 64, 128, 128 }, 11)
  local old = hebb.threads()
  hebb.threads(1)
  local a = rg.block(x, 2, { d = 2 })
  local oa = rg.operators(x, rg.ising_operators(2).even, { d = 2 })
  hebb.threads(2)
  local b = rg.block(x, 2, { d = 2 })
  local ob = rg.operators(x, rg.ising_operators(2).even, { d = 2 })
  hebb.threads(old)
  eq(T.equal(a, b), true, "block")
  eq(T.equal(oa, ob), true, "operators")
end)

-- lattice sums against plain loops, and the nearest-neighbour sum against
-- the energy of hebb.lattice (E = -sum s_i s_j at J = 1)
test("operators_against_reference", function()
  local x = spins({ 6, 5 }, 12)
  local xt = x:totable()
  local function at(i, j) return xt[(i - 1) % 6 + 1][(j - 1) % 5 + 1] end
  local ops = { { { { 0, 0 }, { 0, 1 } }, { { 0, 0 }, { 1, 0 } } },
    { { { 0, 0 }, { 1, 1 }, { -1, 2 } } }, { { { 0, 0 } } } }
  local got = rg.operators(x, ops):totable()
  local want = { 0, 0, 0 }
  for i = 1, 6 do
    for j = 1, 5 do
      want[1] = want[1] + at(i, j) * at(i, j + 1) + at(i, j) * at(i + 1, j)
      want[2] = want[2] + at(i, j) * at(i + 1, j + 1) * at(i - 1, j + 2)
      want[3] = want[3] + at(i, j)
    end
  end
  check.same(got, want, 0, "sums")
  local lat = lattice.ising { L = 8, d = 3 }
  local s = spins({ 4, 8, 8, 8 }, 13)
  local nn = rg.operators(s, { rg.symmetrize { { 0, 0, 0 }, { 1, 0, 0 } } }, { d = 3 })
  for r = 1, 4 do eq(nn[r][1], -lat:energy(s[r]), "nn sum = -E") end
end)

test("symmetrized_operator_sets", function()
  eq(#rg.symmetrize { { 0, 0 }, { 0, 1 } }, 2, "nn in 2D")
  eq(#rg.symmetrize { { 0, 0, 0 }, { 0, 1, 0 } }, 3, "nn in 3D")
  eq(#rg.symmetrize { { 0, 0 }, { 1, 0 }, { 0, 1 } }, 4, "corner triple")
  eq(#rg.symmetrize { { 0, 0 }, { 2, 1 } }, 4, "knight")
  local ops = rg.ising_operators(2)
  eq(#ops.even, 5, "five even")
  eq(#ops.odd, 4, "four odd")
  -- an even operator is invariant under x -> -x, an odd one changes sign
  local x = spins({ 8, 8 }, 14)
  local e1, e2 = rg.operators(x, ops.even), rg.operators(-x, ops.even)
  local o1, o2 = rg.operators(x, ops.odd), rg.operators(-x, ops.odd)
  eq(T.equal(e1, e2), true, "even")
  eq(T.equal(o1, -o2), true, "odd")
end)

test("bad_input", function()
  local x = spins({ 6, 6 }, 15)
  raises(function() rg.block(x, { 2, 3 }) end,
    "rg.block: blocks must be square (equal sizes), got {2, 3}")
  raises(function() rg.block(x, 4) end,
    "rg.block: lattice size 6 (dimension 1) is not divisible by the block size 4")
  raises(function() rg.block(x, 2, { rule = "majorty" }) end,
    "rg.block: unknown rule \"majorty\" (did you mean 'majority'?)")
  raises(function() rg.block(x, 0) end, "rg.block: block size must be an integer >= 1, got 0")
  raises(function() rg.block(x, 2, { d = 3 }) end,
    "rg.block: d = 3 lattice dimensions (and 0 inner) do not fit a 2-d tensor")
  raises(function() rg.block(x, 2, { radius = 1 }) end, "rg.block: unknown option \"radius\"")
  raises(function() rg.block(T.randn(4, 4, 3), 2, { inner = 1 }) end,
    "rg.block: rule 'majority' takes scalar spins, got 3 components per site")
  raises(function() rg.block(x:astype("bool"), 2) end,
    "rg.block: configurations must be i64, f64 or f32, got bool")
  raises(function() rg.block({ 1, 2 }, 2) end, "rg.block: x must be a tensor, got a table")
  raises(function() rg.operators(x, { { { { 0, 0, 0 } } } }) end,
    "rg.operators: operator 1: offsets must be lists of 2 integers")
  raises(function() rg.operators(x, {}) end, "rg.operators: operators must be a non-empty list")
end)

check.done()
