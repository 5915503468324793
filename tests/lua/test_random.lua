-- test_random.lua -- random tensors and generators (natives/core/random.c,
-- natives/lua/l_random.c).  The statistical checks use fixed seeds, so they
-- are deterministic; their tolerances are 5 standard errors of the
-- estimate, which a correct generator would exceed with probability
-- below 1e-6 for any seed.
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"
local test, eq, same, raises, near = check.test, check.eq, check.same, check.raises, check.near

local function bits_equal(x, y)
  return x.dtype == y.dtype and x:equal(y)
end

-- central moments of a tensor: mean, variance, skewness, kurtosis
local function moments(x)
  local m = x:mean()
  local d = x - m
  local m2 = (d * d):mean()
  local m3 = (d * d * d):mean()
  local m4 = (d * d * d * d):mean()
  return m, m2, m3 / m2 ^ 1.5, m4 / (m2 * m2)
end

test("default_state_and_known_values", function()
  -- every run starts as if T.manual_seed(0) had been called
  same(T.get_rng_state(), {seed = 0, stream = 0, counter = 0})
  -- Philox-4x32-10 with key 0 on block 0 gives Random123's known answer
  -- {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}: words 0xe169c58d6627e8d5
  -- and 0x9b00dbd8bc57ac4c; u = (w >> 11) / 2^53 (computed in Python)
  local u = T.rand(2)
  eq(u:get(1), 0.8805201978886142); eq(u:get(2), 0.6054818538799213)
  same(T.get_rng_state(), {seed = 0, stream = 0, counter = 2})
  T.manual_seed(0)
  same(T.randint(1, 6, 2), {6, 4})              -- 1 + floor(w * 6 / 2^64)
  T.manual_seed(0)
  -- Box-Muller on that block: u1 = 1 - (w0 >> 12) / 2^52, u2 = (w1 >> 12) / 2^52,
  -- sqrt(-2 ln u1) * (cos, sin)(2 pi u2), computed in Python
  local z = T.randn(2)
  near(z:get(1), -1.62496344087104, 1e-14); near(z:get(2), -1.2683492025469465, 1e-14)
  T.manual_seed(0)
  local f = T.rand(2, "f32")                     -- the f64 draw truncated to 24 bits
  eq(f.dtype, "f32")
  eq(f:get(1), math.floor(0.8805201978886142 * 2 ^ 24) / 2 ^ 24)
end)

test("uniform_moments", function()
  T.manual_seed(1)
  local n = 1000000
  local x = T.rand(n)
  eq(x.dtype, "f64"); same(x.shape, {n})
  check.truthy(x:min() >= 0 and x:max() < 1, "in [0, 1)")
  local m, v = moments(x)
  -- sd of the mean sqrt(1/12/n) = 2.9e-4; of the variance
  -- sqrt((1/80 - 1/144)/n) = 7.5e-5
  near(m, 0.5, 5 * 2.9e-4, "mean")
  near(v, 1 / 12, 5 * 7.5e-5, "variance")
  local y = T.rand(n, {dtype = "f32"})
  eq(y.dtype, "f32")
  check.truthy(y:min() >= 0 and y:max() < 1, "f32 in [0, 1)")
  near(y:astype("f64"):mean(), 0.5, 5 * 2.9e-4, "f32 mean")
end)

test("normal_moments", function()
  T.manual_seed(2)
  local n = 1000000
  local x = T.randn(n)
  local m, v, skew, kurt = moments(x)
  -- standard errors: mean 1/sqrt(n), variance sqrt(2/n), skewness
  -- sqrt(6/n), kurtosis sqrt(24/n)
  near(m, 0, 5 / 1000, "mean")
  near(v, 1, 5 * math.sqrt(2 / n), "variance")
  near(skew, 0, 5 * math.sqrt(6 / n), "skewness")
  near(kurt, 3, 5 * math.sqrt(24 / n), "kurtosis")
  -- tails: P(|z| > 3) = 0.0026998, sd sqrt(p(1-p)/n) = 5.2e-5
  local tail = x:abs():gt(3):astype("f64"):mean()
  near(tail, 0.0026998, 5 * 5.2e-5, "tail mass")
  local y = T.randn(1000, "f32")
  eq(y.dtype, "f32")
end)

test("normal_f32_is_f64_rounded", function()
  T.manual_seed(3)
  local a = T.randn(101)
  T.manual_seed(3)
  local b = T.randn(101, {dtype = "f32"})
  check.truthy(bits_equal(a:astype("f32"), b), "f32 normals are the f64 ones rounded")
end)

test("randint_inclusive", function()
  T.manual_seed(4)
  local n = 100000
  local x = T.randint(1, 6, n)
  eq(x.dtype, "i64")
  eq(x:min(), 1); eq(x:max(), 6)
  -- each face: sd of the count sqrt(n (1/6)(5/6)) = 117.9
  for k = 1, 6 do
    near(x:eq(k):astype("i64"):sum(), n / 6, 5 * 117.9, "count of " .. k)
  end
  local y = T.randint(6, {1000})                  -- the 1..hi form
  eq(y:min(), 1); eq(y:max(), 6)
  local z = T.randint(-3, -1, {2, 500})
  same(z.shape, {2, 500})
  eq(z:min(), -3); eq(z:max(), -1)
  same(T.randint(5, 5, 3), {5, 5, 5})            -- a one-value range
  local f = T.randint(0, 9, 100, {dtype = "f64"})
  eq(f.dtype, "f64")
  check.truthy(f:min() >= 0 and f:max() <= 9, "f64 range")
  local w = T.randint(math.mininteger, math.maxinteger - 1, 1000)   -- 2^64 - 1 values
  check.truthy(w:min() < -2 ^ 62 and w:max() > 2 ^ 62, "wide range")
  eq(T.randint(1, 2, {}).ndim, 0)
end)

test("bernoulli", function()
  T.manual_seed(5)
  local n = 100000
  local b = T.bernoulli(0.3, n)
  eq(b.dtype, "bool")
  -- sd of the frequency sqrt(0.3 * 0.7 / n) = 1.45e-3
  near(b:astype("f64"):mean(), 0.3, 5 * 1.45e-3, "frequency")
  eq(T.bernoulli(0, 100):any(), false)
  eq(T.bernoulli(1, 100):all(), true)
  local p = T.tensor{0.0, 1.0, 0.5}
  local bp = T.bernoulli(p)
  same(bp.shape, {3}); eq(bp:get(1), false); eq(bp:get(2), true)
  local bb = T.bernoulli(p, 4, 3)                 -- P broadcast over rows
  same(bb.shape, {4, 3})
  same(bb[{{}, 1}], {false, false, false, false})
  same(bb[{{}, 2}], {true, true, true, true})
  eq(T.bernoulli(0.5, 10, {dtype = "f64"}).dtype, "f64")
  local t = T.zeros(1000)
  t:bernoulli_(0.25)
  check.truthy(t:max() == 1 and t:min() == 0, "in-place 0/1")
end)

test("randperm", function()
  T.manual_seed(6)
  local p = T.randperm(1000)
  eq(p.dtype, "i64"); same(p.shape, {1000})
  local v = p:totable()
  table.sort(v)
  for i = 1, 1000 do
    if v[i] ~= i then error("not a permutation of 1..1000 at " .. i) end
  end
  same(T.randperm(0).shape, {0})
  same(T.randperm(1), {1})
  -- every one of the 6 permutations of 3 elements comes up (sd of a count
  -- in 6000 draws: sqrt(6000 (1/6)(5/6)) = 28.9)
  local counts = {}
  for _ = 1, 6000 do
    local k = table.concat(T.randperm(3):totable(), "")
    counts[k] = (counts[k] or 0) + 1
  end
  local kinds = 0
  for _, c in pairs(counts) do
    kinds = kinds + 1
    near(c, 1000, 5 * 28.9, "count")
  end
  eq(kinds, 6)
end)

test("same_seed_same_bits", function()
  T.manual_seed(42)
  local a, ai = T.randn(3, 4), T.randint(1, 100, 7)
  T.manual_seed(42)
  local b, bi = T.randn(3, 4), T.randint(1, 100, 7)
  check.truthy(bits_equal(a, b) and bits_equal(ai, bi), "repeat")
  T.manual_seed(43)
  check.truthy(not bits_equal(a, T.randn(3, 4)), "another seed differs")
end)

test("threads_same_bits", function()
  local old = hebb.threads()
  local n = 1000000
  local function draws()
    T.manual_seed(9)
    return {T.rand(n), T.randn(n), T.randn(n, "f32"), T.randint(-10, 10, n),
            T.bernoulli(0.4, n), T.rand(n, "f32")}
  end
  hebb.threads(1)
  local one = draws()
  hebb.threads(2)
  local two = draws()
  hebb.threads(old)
  for i = 1, #one do check.truthy(bits_equal(one[i], two[i]), "draw " .. i) end
end)

test("chunked_draws", function()
  T.manual_seed(10)
  local whole = T.rand(20)
  T.manual_seed(10)
  local a, b = T.rand(10), T.rand(10)
  check.truthy(bits_equal(whole, T.cat({a, b})), "rand 10 + 10 == 20")
  for _, split in ipairs{{1, 19}, {3, 17}, {7, 13}, {10, 10}} do
    T.manual_seed(11)
    local w = T.randn(20)
    T.manual_seed(11)
    local x, y = T.randn(split[1]), T.randn(split[2])
    check.truthy(bits_equal(w, T.cat({x, y})), "randn " .. split[1] .. " + " .. split[2])
    T.manual_seed(12)
    local wi = T.randint(1, 1000, 20)
    T.manual_seed(12)
    local xi, yi = T.randint(1, 1000, split[1]), T.randint(1, 1000, split[2])
    check.truthy(bits_equal(wi, T.cat({xi, yi})), "randint " .. split[1] .. " + " .. split[2])
  end
  -- a 2-d draw is the 1-d draw reshaped (row-major positions)
  T.manual_seed(13)
  local m = T.randn(4, 5)
  T.manual_seed(13)
  check.truthy(bits_equal(m, T.randn(20):reshape(4, 5)), "shape does not matter")
end)

test("state_round_trip", function()
  T.manual_seed(14)
  T.randn(7)                                      -- an odd position
  local s = T.get_rng_state()
  eq(s.counter, 7)
  local x = T.randn(5)
  T.set_rng_state(s)
  local y = T.randn(5)
  check.truthy(bits_equal(x, y), "default generator")
  local g = T.Generator(123, 4)
  g:rand(3)
  local gs = g:state()
  same(gs, {seed = 123, stream = 4, counter = 3})
  local a = g:randn(9)
  g:set_state(gs)
  check.truthy(bits_equal(a, g:randn(9)), "generator")
  -- big 64-bit values survive the round trip
  local big = {seed = -1, stream = math.mininteger, counter = math.maxinteger - 5}
  g:set_state(big)
  local b1 = g:rand(3)
  same(g:state(), {seed = -1, stream = math.mininteger, counter = math.maxinteger - 2})
  g:set_state(big)
  check.truthy(bits_equal(b1, g:rand(3)), "64-bit state")
  local c = g:clone()
  check.truthy(bits_equal(c:randn(4), g:randn(4)), "clone continues identically")
end)

test("generators_independent", function()
  local g1, g2, g3 = T.Generator(1, 0), T.Generator(1, 1), T.Generator(1, 0)
  local a, b, c = g1:rand(100), g2:rand(100), g3:rand(100)
  eq(a:eq(b):any(), false, "different streams share no value")
  check.truthy(bits_equal(a, c), "same seed and stream")
  eq(T.Generator(2):rand(100):eq(a):any(), false, "different seeds")
  -- drawing from a generator leaves the default generator alone
  T.manual_seed(15)
  local before = T.get_rng_state()
  T.rand(5, {generator = g1}); g1:randint(1, 6, 5); T.randperm(4, {generator = g1})
  T.randn(2, 2, {generator = g1, dtype = "f32"})
  same(T.get_rng_state(), before)
  -- {generator = g} and g:rand draw the same numbers
  local h1, h2 = T.Generator(8), T.Generator(8)
  check.truthy(bits_equal(T.randn(6, {generator = h1}), h2:randn(6)), "option == method")
  eq(h1:seed(), 8)
  h1:seed(9)
  same(h1:state(), {seed = 9, stream = 0, counter = 0})
  check.truthy(tostring(h1):find("Generator(seed=9", 1, true), "tostring")
  -- T.default_generator is the default generator
  T.manual_seed(16)
  local d1 = T.rand(3)
  T.default_generator:seed(16)
  check.truthy(bits_equal(d1, T.rand(3)), "default_generator")
  eq(T.default_generator:state().counter, 3)
end)

test("in_place_fills", function()
  T.manual_seed(17)
  local t = T.zeros(1000)
  eq(rawequal(t:uniform_(-2, 3), t), true, "returns t")
  check.truthy(t:min() >= -2 and t:max() < 3, "in [-2, 3)")
  t:normal_(10, 0.5)
  near(t:mean(), 10, 5 * 0.5 / math.sqrt(1000), "normal_ mean")
  t:uniform_()
  check.truthy(t:min() >= 0 and t:max() < 1, "default [0, 1)")
  -- a strided view gets its elements in row-major order of the view
  local m = T.zeros(3, 4)
  T.manual_seed(18)
  m:t():normal_()
  T.manual_seed(18)
  check.truthy(bits_equal(m:t():contiguous(), T.randn(4, 3)), "strided fill")
  local g = T.Generator(5)
  local u = T.zeros(4):uniform_(0, 1, {generator = g})
  check.truthy(bits_equal(u, T.Generator(5):rand(4)), "generator option")
  local f = T.zeros(5, {dtype = "f32"}):normal_()
  eq(f.dtype, "f32")
  -- tiny interval: rounding never reaches hi
  local tiny = T.zeros(10000):uniform_(1, 1 + 2 ^ -50)
  check.truthy(tiny:max() < 1 + 2 ^ -50, "half-open")
end)

test("like_and_shapes", function()
  local a = T.zeros(2, 3, {dtype = "f32"})
  local r = T.rand_like(a)
  eq(r.dtype, "f32"); same(r.shape, {2, 3})
  eq(T.randn_like(T.zeros(4, {dtype = "i64"})).dtype, "f64")
  eq(a:randn_like({dtype = "f64"}).dtype, "f64")
  eq(T.rand().ndim, 0)
  same(T.rand{2, 3}.shape, {2, 3})
  T.manual_seed(19)
  same(T.rand(0, 4).shape, {0, 4})
  eq(T.get_rng_state().counter, 0, "an empty draw uses no positions")
end)

test("errors", function()
  raises(function() T.rand(3, {dtype = "i64"}) end, "rand: dtype i64 is not supported (f64 or f32)")
  raises(function() T.randn(3, "bool") end, "randn: dtype bool is not supported (f64 or f32)")
  raises(function() T.rand_like(T.zeros(2), {dtype = "i64"}) end, "rand_like: dtype i64 is not supported")
  raises(function() T.rand(-1) end, "size 1 is negative")
  raises(function() T.rand(2, true) end, "options table or dtype expected")
  raises(function() T.randint(6, 1, 3) end, "randint: lo (6) is greater than hi (1)")
  raises(function() T.randint(1, 6) end, "randint: missing shape")
  raises(function() T.randint(1, math.maxinteger, 2) end, "randint: hi must be less than math.maxinteger")
  raises(function() T.randint(1.5, 3, 2) end, "number has no integer representation")
  raises(function() T.randint(0, 1, 3, {dtype = "bool"}) end,
         "randint: dtype bool is not supported (i64, f64 or f32)")
  raises(function() T.bernoulli(1.5, 3) end, "probability must be in [0, 1]")
  raises(function() T.bernoulli(T.tensor{0.5, 2.0}) end,
         "bernoulli: probability 2 (element 2) is outside [0, 1]")
  raises(function() T.bernoulli(T.tensor{0.5, 0.5}, 3) end,
         "bernoulli: probabilities of shape {2} do not broadcast to the result's shape {3}")
  raises(function() T.randperm(-1) end, "length must be >= 0")
  raises(function() T.zeros(3):uniform_(2, 1) end, "uniform_: lo (2) is greater than hi (1)")
  raises(function() T.zeros(3):uniform_(0, math.huge) end, "uniform_: bounds must be finite")
  raises(function() T.zeros(3):normal_(0, -1) end, "normal_: need a finite mean and a finite std >= 0")
  raises(function() T.zeros(3, {dtype = "i64"}):normal_() end, "normal_: dtype i64 is not supported")
  raises(function() T.zeros(1):expand(3):uniform_() end, "uniform_: cannot write into a broadcast")
  raises(function() T.rand(2, {generator = 5}) end, "option 'generator' must be a generator")
  raises(function() T.set_rng_state({seed = 1, stream = 0}) end,
         "set_state: field 'counter' must be an integer (got nil)")
  raises(function() T.Generator(1.5) end, "number has no integer representation")
  raises(function() T.Generator(1):rand(2, "i64") end, "rand: dtype i64 is not supported")
  -- failed calls leave tensors and generators as they were
  T.manual_seed(20)
  local t = T.full({3}, 7.0)
  pcall(t.normal_, t, 0, -1)
  same(t, {7, 7, 7})
  pcall(T.set_rng_state, {seed = 5, stream = 0})
  same(T.get_rng_state(), {seed = 20, stream = 0, counter = 0})
end)

test("docstrings", function()
  for _, name in ipairs{"rand", "randn", "randint", "bernoulli", "randperm", "rand_like",
                        "randn_like", "manual_seed", "get_rng_state", "set_rng_state",
                        "Generator"} do
    local d = hebb.doc(T[name])
    check.truthy(d and d:find("^T%." .. name), name .. " has a docstring")
  end
  local t = T.zeros(1)
  for _, name in ipairs{"uniform_", "normal_", "bernoulli_"} do
    check.truthy(hebb.doc(t[name]), name .. " has a docstring")
  end
  local g = T.Generator(1)
  for _, name in ipairs{"rand", "randn", "randint", "bernoulli", "randperm", "state",
                        "set_state", "seed", "clone"} do
    check.truthy((hebb.doc(g[name]) or ""):find("^g:" .. name), "g:" .. name .. " has a docstring")
  end
  check.truthy(hebb.doc(T.default_generator), "default_generator")
end)

check.done()
