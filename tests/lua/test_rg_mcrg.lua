-- test_rg_mcrg.lua -- Monte Carlo RG of hebb.rg (_rg_mcrg.lua): the
-- estimator against an exact RG (1D decimation, where T = dK'/dK exactly),
-- the 2D Ising exponents from Wolff samples at K_c within their jackknife
-- errors, the operator truncations, and bad input.
local check = require "check"
local T = require "hebb.tensor"
local rg = require "hebb.rg"
local lattice = require "hebb.lattice"
local test, eq, near, raises = check.test, check.eq, check.near, check.raises

-- B exact samples of the periodic Ising chain of L sites at K: bonds
-- drawn independently (proposal prod_{i<L} e^{K tau_i}), the closing bond
-- accepted with e^{K (w - 1)} (rejection: exact for the periodic weight)
local function chains(B, Ls, K, seed)
  local g = T.Generator(seed)
  local p = math.exp(K) / (2 * math.cosh(K))
  local out = {}
  while #out < B do
    local u = T.rand({ Ls + 1 }, { generator = g })
    local s = { u[Ls + 1] < 0.5 and 1 or -1 }
    for i = 1, Ls - 1 do s[i + 1] = s[i] * (u[i] < p and 1 or -1) end
    local w = s[Ls] * s[1]
    if w == 1 or u[Ls] < math.exp(-2 * K) then out[#out + 1] = s end
  end
  return T.tensor(out)
end

-- decimation is exact in 1D (tanh K' = tanh^2 K on any even periodic
-- chain), so with the nearest-neighbour operator alone T = dK'/dK: the
-- estimate must agree within 3 jackknife errors (8000 chains: -0.366 +-
-- 0.016 against -0.3929; 40000 chains, two seeds: -0.405 +- 0.010,
-- -0.395 +- 0.009)
test("decimation_1d_against_the_exact_map", function()
  local K = 0.5
  local X = chains(8000, 32, K, 11)
  local nn = { { { { 0 }, { 1 } } } }   -- one operator, one term, two offsets
  local r = rg.mcrg(X, { ops = { even = nn }, rule = "decimate", levels = 1, bins = 20 })
  local t2 = math.tanh(K) ^ 2        -- tanh K'
  local dK = 2 * math.tanh(K) / math.cosh(K) ^ 2 / (1 - t2 ^ 2)
  local y = math.log(dK) / math.log(2)
  local row = r.levels[1].even
  assert(row.err[1] > 0 and row.err[1] < 0.02, "jackknife error " .. row.err[1])
  near(row.y[1], y, 3 * row.err[1], "y = log2 dK'/dK")
  eq(r.yt, row.y[1], "yt is the deepest level's")
  eq(r.samples, 8000, "samples")
end)

-- 2D Ising at K_c, L = 32, Wolff (5 clusters between samples, 32
-- replicas x 50): y_t = 1 and y_h = 15/8 within 3 jackknife errors at the
-- level 16 -> 8 (seen: 1.004 +- 0.029, 1.8761 +- 0.0021)
test("ising_2d_exponents_from_wolff", function()
  local Kc = 0.5 * math.log(1 + math.sqrt(2))
  local lat = lattice.ising { L = 32 }
  local g = T.Generator(5)
  local s = lat:random(32, { generator = g })
  for _ = 1, 100 do lat:wolff(s, Kc, { clusters = 5, generator = g }) end
  local samples = {}
  for m = 1, 50 do
    lat:wolff(s, Kc, { clusters = 5, generator = g })
    samples[m] = s:clone()
  end
  local r = rg.mcrg(T.cat(samples, 1))
  eq(#r.levels, 2, "levels 32 -> 16 -> 8")
  eq(r.levels[2].size, 16, "size of level 2's finer lattice")
  eq(#r.levels[2].even.y, 5, "five even truncations")
  eq(#r.levels[2].odd.y, 4, "four odd truncations")
  assert(r.yt_err > 0 and r.yt_err < 0.1, "yt error " .. r.yt_err)
  assert(r.yh_err > 0 and r.yh_err < 0.01, "yh error " .. r.yh_err)
  near(r.yt, 1, 3 * r.yt_err, "y_t")
  near(r.yh, 15 / 8, 3 * r.yh_err, "y_h")
  -- one even operator (nearest neighbours) is the known poor truncation
  -- (y_t ~ 0.92-0.95); two already reach 1 within the errors
  assert(r.levels[2].even.y[1] < r.levels[2].even.y[2], "more operators raise y_t")
  -- the leading eigenvalue is the spectrum's first
  eq(r.levels[2].even.spectrum[1], r.yt, "spectrum")
  assert(r.levels[2].even.spectrum[2] < 0, "the second even exponent is irrelevant")
end)

test("bad_input", function()
  local X = T.ones(10, 8, 8)
  raises(function() rg.mcrg({}) end, "rg.mcrg: samples must be a tensor {B, L, ...}, got")
  raises(function() rg.mcrg(T.ones(10, 6, 6), { b = 4 }) end, "rg.mcrg: lattice size 6 (dim 1) is not divisible by b = 4")
  raises(function() rg.mcrg(X, { b = 1 }) end, "rg.mcrg: b must be an integer >= 2, got 1")
  raises(function() rg.mcrg(X, { bins = 1, levels = 1 }) end,
    "rg.mcrg: bins must be an integer from 2 to the number of samples (10), got 1")
  raises(function() rg.mcrg(X, { levels = 4 }) end, "rg.mcrg: 4 levels of b = 2 do not fit a lattice of size 8")
  raises(function() rg.mcrg(X) end, "rg.mcrg: levels must be an integer >= 1, got 0 (a lattice of 8 sites a side)")
  raises(function() rg.mcrg(X, { levels = 1, bins = 2 }) end, "rg.mcrg: the correlation matrix of level 1 is singular")
  raises(function() rg.mcrg(X, { ops = { even = {} }, levels = 1 }) end,
    "rg.mcrg: ops must map sector names to non-empty lists of operators")
  raises(function() rg.mcrg(X, { levels = 1, bin = 2 }) end, "rg.mcrg: unknown option \"bin\"")
end)

check.done()
