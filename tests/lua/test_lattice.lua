-- test_lattice.lua -- hebb.lattice: models, observables and every Monte
-- Carlo update against exact results (enumeration of small lattices, the
-- 1D O(n) chain in Bessel functions, REFERENCE values I8 and I9), the
-- same bits at 1 and 2 threads, reproducibility, and bad input.
--
-- Statistical checks compare a Monte Carlo mean with an exact value within
-- 4 standard errors (errors from the spread of independent replicas or
-- from tau_int): a correct sampler fails such a check with probability
-- 6e-5; the seeds are fixed, so a failure is a change, never noise.
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"
local lattice = require "hebb.lattice"
local stats = require "hebb.stats"
local X = lattice.exact
local test, eq, near, raises = check.test, check.eq, check.near, check.raises

local function within(got, err, want, what, k)
  k = k or 4
  if not (math.abs(got - want) <= k * err) then
    error(string.format("%s: %.6f +- %.6f, exact %.6f (%.1f sigma)", what, got, err, want,
                        (got - want) / err), 2)
  end
end

-- the mean over replicas (columns of a {steps, B} tensor of samples) and
-- its error from the spread of the B independent replica means
local function replica_mean(x)
  local rm = x:mean(1)
  return rm:mean(), rm:std() / math.sqrt(x:size(2))
end

-- --- construction and bad input ------------------------------------------------

test("construct", function()
  local lat = lattice.ising{ L = 8 }
  eq(lat.N, 64, "N")
  eq(lat.d, 2, "d")
  eq(tostring(lat), "ising lattice {8x8}, periodic", "tostring")
  local p = lattice.potts{ shape = { 4, 6, 2 }, q = 3, periodic = { true, false, true } }
  eq(p.N, 48, "N")
  eq(p.periodic, false, "some open ends")
  eq(lattice.xy{ L = 4 }.n, 2, "xy n")
  eq(lattice.heisenberg{ L = 4, d = 3 }.n, 3, "heisenberg n")
  eq(lattice.new("ISING", { L = 3, d = 1 }).model, "ising", "case-insensitive")
end)

test("bad_input_names_the_value", function()
  raises(function() lattice.ising{ L = 1 } end, "lattice.ising: L = 1; must be >= 2")
  raises(function() lattice.ising{ shape = { 4, 0 } } end, "lattice.ising: shape[2] = 0; must be >= 2")
  raises(function() lattice.ising{ L = 4, d = 5 } end, "lattice.ising: a lattice has 1 to 4 dimensions, got 5")
  raises(function() lattice.ising{ L = 4.5 } end, "lattice.ising: L must be an integer, got 4.5")
  raises(function() lattice.new("isnig", { L = 4 }) end, "unknown model \"isnig\" (did you mean 'ising'?)")
  raises(function() lattice.potts{ L = 4, q = 1 } end, "lattice.potts: q = 1; a Potts model needs q >= 2")
  raises(function() lattice.ising{ L = 4, J = T.ones(4, 4) } end,
         "lattice.ising: J has shape {4, 4}; it must be {2, 4, 4}")
  raises(function() lattice.ising{ L = 4, h = T.ones(2, 4, 4) } end,
         "lattice.ising: h has shape {2, 4, 4}; it must be {4, 4}")
  raises(function() lattice.ising{ L = 4, Q = 3 } end, "lattice.ising: unknown option \"Q\"")
  local lat = lattice.ising{ L = 4 }
  local s = lat:ordered()
  raises(function() lat:metropolis(s, -0.5) end,
         "metropolis: beta = -0.5 < 0 (a negative temperature T = -2)")
  raises(function() lat:wolff(s, { 0.1, -1 }) end, "wolff: beta = -1 < 0")
  raises(function() lat:metropolis(T.ones(5, 4, { dtype = "i64" }), 0.3) end,
         "metropolis: the configuration has shape {5,4}; the Ising lattice needs {4,4}")
  raises(function() lat:metropolis(T.ones(4, 4), 0.3) end, "a Ising configuration is i64, got f64")
  raises(function() lat:metropolis(T.zeros(4, 4, { dtype = "i64" }), 0.3) end,
         "metropolis: spin 1 has the value 0; a Ising configuration holds +1 and -1")
  raises(function() lat:metropolis(lat:ordered(3), { 0.1, 0.2 }) end,
         "metropolis: 2 inverse temperatures for 3 replicas")
  local odd = lattice.ising{ shape = { 4, 5 } }
  raises(function() odd:metropolis(odd:ordered(), 0.3) end,
         "metropolis: a checkerboard sweep needs an even size along dimension 2 (got 5)")
  odd:metropolis(odd:ordered(), 0.3, { order = "sequential" })   -- allowed
  local hl = lattice.ising{ L = 4, h = 0.1 }
  raises(function() hl:wolff(hl:ordered(), 0.3) end, "wolff: cluster updates need h = 0 (got h = 0.1)")
  local af = lattice.ising{ L = 4, J = -1 }
  raises(function() af:swendsen_wang(af:ordered(), 0.3) end,
         "swendsen_wang: cluster updates need ferromagnetic couplings (J = -1)")
  raises(function() lat:metropolis(s, 0.3, { order = "random" }) end,
         "metropolis: order must be 'checkerboard' or 'sequential'")
  raises(function() lat:overrelax(s) end, "overrelax: only for O(n) models")
  raises(function() lattice.xy{ L = 4 }:heatbath(lattice.xy{ L = 4 }:ordered(), -1) end,
         "heatbath: beta = -1")
  raises(function() lattice.ising{ L = 4, periodic = false }:correlation(s) end,
         "correlation: needs a periodic lattice")
  raises(function() X.enumerate(lattice.ising{ L = 6 }, 0.3) end,
         "enumerate: 2^36 states is more than 2^30")
end)

-- --- observables -------------------------------------------------------------------

-- the energy of s written out in Lua from the definition (d = 2)
local function brute_energy(lat, s, J, h)
  local L1, L2 = lat.shape[1], lat.shape[2]
  local t = s:totable()
  local Jt = type(J) ~= "number" and J:totable()
  local ht = type(h) ~= "number" and h:totable()
  local e = 0
  local function val(i, j) return t[i][j] end
  local function bond(a, b)
    if lat.model == "ising" then return a * b end
    if lat.model == "potts" then return a == b and 1 or 0 end
    local d = 0
    for c = 1, #a do d = d + a[c] * b[c] end
    return d
  end
  for i = 1, L1 do
    for j = 1, L2 do
      local nbrs = { { i % L1 + 1, j, 1, i < L1 }, { i, j % L2 + 1, 2, j < L2 } }
      for _, nb in ipairs(nbrs) do
        if lat.periodic or nb[4] then
          local Jv = Jt and Jt[nb[3]][i][j] or J
          e = e - Jv * bond(val(i, j), val(nb[1], nb[2]))
        end
      end
      local hv = ht and ht[i][j] or h
      local v = val(i, j)
      if lat.model == "ising" then e = e - hv * v
      elseif lat.model == "potts" then e = e - hv * (v == 1 and 1 or 0)
      else e = e - hv * v[1] end
    end
  end
  return e
end

test("energy_matches_the_definition", function()
  T.manual_seed(1)
  local J, h = T.randn(2, 5, 6), T.randn(5, 6)
  for _, per in ipairs({ true, false }) do
    for _, m in ipairs({ { "ising" }, { "potts", q = 4 }, { "xy" }, { "heisenberg" } }) do
      local opts = { shape = { 5, 6 }, periodic = per, q = m.q, J = J, h = h }
      if not per then opts.shape = { 5, 6 } end
      local lat = lattice.new(m[1], opts)
      local s = lat:random()
      near(lat:energy(s), brute_energy(lat, s, J, h), 1e-12, m[1] .. " per-bond J, fields")
      local u = lattice.new(m[1], { shape = { 5, 6 }, periodic = per, q = m.q, J = 0.7, h = -0.3 })
      near(u:energy(s), brute_energy(u, s, 0.7, -0.3), 1e-12, m[1] .. " uniform")
    end
  end
end)

test("magnetization_and_batches", function()
  local lat = lattice.ising{ L = 4 }
  local s = lat:ordered(3)
  s[2]:fill_(-1)
  local m = lat:magnetization(s)
  check.same(m, { 16, -16, 16 })
  check.same(lat:energy(s), { -32, -32, -32 })
  local p = lattice.potts{ L = 4, q = 3 }
  eq(p:magnetization(p:ordered()), 16, "ordered Potts: N")
  local ps = T.tensor({ { 1, 2, 3, 1 }, { 1, 2, 3, 1 }, { 1, 2, 3, 1 }, { 1, 2, 3, 1 } })
  near(p:magnetization(ps), (3 * 8 - 16) / 2, 0, "Potts order parameter")
  local x = lattice.xy{ L = 4 }
  near(x:magnetization(x:ordered()), 16, 1e-12, "O(n) |sum|")
end)

test("correlation_and_structure_factor", function()
  T.manual_seed(2)
  local lat = lattice.ising{ shape = { 6, 4 } }
  local s = lat:random()
  local G = lat:correlation(s)
  near(G[1][1], 1, 1e-12, "G(0) = 1 for Ising")
  -- G(r) from its definition at r = (2, 1)
  local t, sum = s:totable(), 0
  for i = 1, 6 do for j = 1, 4 do sum = sum + t[i][j] * t[(i + 1) % 6 + 1][j % 4 + 1] end end
  near(G[3][2], sum / 24, 1e-12, "G(2, 1)")
  local S = lat:structure_factor(s)
  near(S[1][1], lat:magnetization(s) ^ 2 / 24, 1e-12, "S(0) = M^2/N")
  near(S:sum(), 24, 1e-10, "sum_k S(k) = N G(0)")
  local b = lat:random(3)
  check.same(lat:correlation(b)[2], lat:correlation(b[2]), 1e-12)
  local h = lattice.heisenberg{ L = 4 }
  near(h:correlation(h:random())[1][1], 1, 1e-12, "unit vectors")
  local p = lattice.potts{ L = 4, q = 3 }
  local ps = p:random()
  local pg, pS = p:correlation(ps), p:structure_factor(ps)
  near(pg[1][1], 1, 1e-12, "Potts G(0) = 1")
  near(pS:sum(), 16, 1e-10, "Potts: sum_k S(k) = N G(0)")
  near(pS[2][3], require("hebb.fft").fftn(pg):real()[2][3], 1e-10, "Potts S = FT of G")
end)

-- --- Monte Carlo against enumeration --------------------------------------------------

-- runs update(s) for `steps` rounds on B replicas, measuring E and |M|
-- per site; returns {mean, err} for e and m
local function sample(lat, B, steps, burn, update, start)
  local s = start or lat:ordered(B)
  for _ = 1, burn do update(s) end
  local es, ms = {}, {}
  for i = 1, steps do
    update(s)
    local E, Mv = lat:observe(s)
    es[i] = E / lat.N
    if lat.model == "potts" then ms[i] = lat:magnetization(s) / lat.N
    else ms[i] = Mv:select(-1, 1):abs() / lat.N end
  end
  local e, ee = replica_mean(T.stack(es))
  local m, me = replica_mean(T.stack(ms))
  return e, ee, m, me
end

test("ising_local_updates_match_enumeration", function()
  local g = T.Generator(21)
  -- random couplings and fields: the generic path; uniform: the fast path
  local J = T.rand(2, 4, 4, { generator = g }) * 1.5 - 0.25
  local h = T.randn(4, 4, { generator = g }) * 0.3
  for _, lat in ipairs({ lattice.ising{ L = 4 }, lattice.ising{ L = 4, J = J, h = h },
                         lattice.ising{ shape = { 3, 4 }, periodic = { false, true } } }) do
    local beta = 0.35
    local ex = X.enumerate(lat, beta)
    local name = tostring(lat)
    local function metro(s) lat:metropolis(s, beta, { generator = g }) end
    local function heat(s) lat:heatbath(s, beta, { generator = g }) end
    local function seq(s) lat:metropolis(s, beta, { generator = g, order = "sequential" }) end
    for _, u in ipairs({ { metro, "metropolis" }, { heat, "heatbath" }, { seq, "sequential" } }) do
      local e, ee = sample(lat, 64, 400, 50, u[1])
      within(e, ee, ex.e, name .. " " .. u[2] .. " energy")
    end
  end
end)

-- every update of lat at beta (Metropolis, heat bath, Wolff, Swendsen-Wang)
-- against enumeration: the energy and order parameter per site
local function all_updates_match(lat, beta, g, what)
  local ex = X.enumerate(lat, beta)
  local ups = {
    { function(s) lat:metropolis(s, beta, { generator = g }) end, "metropolis" },
    { function(s) lat:heatbath(s, beta, { generator = g }) end, "heatbath" },
    { function(s) lat:wolff(s, beta, { generator = g, clusters = 2 }) end, "wolff" },
    { function(s) lat:swendsen_wang(s, beta, { generator = g }) end, "swendsen_wang" },
  }
  for _, u in ipairs(ups) do
    local e, ee, m, me = sample(lat, 64, 300, 30, u[1])
    within(e, ee, ex.e, what .. " " .. u[2] .. " energy")
    within(m, me, ex.m, what .. " " .. u[2] .. " order parameter")
  end
end

test("potts_updates_match_enumeration", function()
  local g = T.Generator(22)
  local lat = lattice.potts{ shape = { 3, 4 }, q = 3, periodic = { false, true } }
  -- near the 2D 3-state transition (ln(1 + sqrt 3) = 1.005)
  all_updates_match(lat, 0.9, g, "Potts")
  local hp = lattice.potts{ shape = { 2, 4 }, q = 4, h = 0.4 }
  local hx = X.enumerate(hp, 0.5)
  local e, ee = sample(hp, 64, 300, 30, function(s) hp:metropolis(s, 0.5, { generator = g }) end)
  within(e, ee, hx.e, "Potts q = 4 in a field")
end)

test("ising_cluster_updates_match_enumeration", function()
  local g = T.Generator(23)
  local J = T.rand(3, 3, 2, 2, { generator = g }) + 0.5   -- random ferromagnetic bonds
  for _, lat in ipairs({ lattice.ising{ shape = { 4, 3 } }, lattice.ising{ shape = { 3, 2, 2 }, J = J },
                         lattice.ising{ shape = { 4, 3 }, periodic = false } }) do
    local beta = 0.4
    local ex = X.enumerate(lat, beta)
    for _, u in ipairs({ { "wolff", { clusters = 1 } }, { "swendsen_wang", {} } }) do
      local e, ee, m, me = sample(lat, 64, 400, 30, function(s)
        u[2].generator = g
        lat[u[1]](lat, s, beta, u[2])
      end)
      within(e, ee, ex.e, tostring(lat) .. " " .. u[1] .. " energy")
      within(m, me, ex.m, tostring(lat) .. " " .. u[1] .. " |m|")
    end
  end
end)

-- the open O(n) chain factorizes over bonds: <s_i . s_i+1> = I_{n/2}(b)/I_{n/2-1}(b),
-- I1/I0 for n = 2 and coth b - 1/b for n = 3
test("on_chain_matches_bessel", function()
  local g = T.Generator(24)
  local L, beta = 8, 1.3
  local cases = {
    { lattice.xy{ shape = { L }, periodic = false }, T.bessel_i1(beta):item() / T.bessel_i0(beta):item() },
    { lattice.heisenberg{ shape = { L }, periodic = false }, 1 / math.tanh(beta) - 1 / beta },
  }
  for _, c in ipairs(cases) do
    local lat, bond = c[1], c[2]
    local want = -(L - 1) * bond / L
    local ups = {
      { function(s) lat:metropolis(s, beta, { generator = g, step = 1.5 }) end, "metropolis" },
      { function(s) lat:metropolis(s, beta, { generator = g }); lat:overrelax(s) end, "metropolis+overrelax" },
      { function(s) lat:wolff(s, beta, { generator = g, clusters = 2 }) end, "wolff" },
      { function(s) lat:swendsen_wang(s, beta, { generator = g }) end, "swendsen_wang" },
    }
    for _, u in ipairs(ups) do
      local e, ee = sample(lat, 64, 300, 50, u[1], lat:random(64, { generator = g }))
      within(e, ee, want, "O(" .. lat.n .. ") chain " .. u[2])
    end
    -- over-relaxation keeps the energy
    local s = lat:random(4, { generator = g })
    local before = lat:energy(s)
    lat:overrelax(s, { sweeps = 3 })
    check.same(lat:energy(s), before, 1e-12)
  end
end)

-- --- the O(n) heat bath ------------------------------------------------------------------

-- A_n(k) = <cos> under the density e^{k cos} on the sphere S^{n-1}:
-- I_{n/2}(k)/I_{n/2-1}(k), from tanh k (n = 1), I1/I0 (n = 2) and the
-- recurrence A_{n+2} = 1/A_n - n/k (I_{v-1} - I_{v+1} = 2v/k I_v; it loses
-- ~2 digits a step at k = 0.5, leaving 1e-12 at n = 7); past k = 50 the
-- asymptotic series 1 - (n-1)/2k - (n-1)(n-3)/8k^2 (next term < 1e-6 there)
local function A_on(n, k)
  if k == 0 then return 0 end
  if k > 50 then return 1 - (n - 1) / (2 * k) - (n - 1) * (n - 3) / (8 * k * k) end
  local a, m = math.tanh(k), 1
  if n % 2 == 0 then a, m = T.bessel_i1(k):item() / T.bessel_i0(k):item(), 2 end
  for j = m, n - 2, 2 do a = 1 / a - j / k end
  return a
end

-- the mean of a tensor of iid samples and its standard error
local function iid_mean(x)
  return x:mean(), x:std() / math.sqrt(x:numel())
end

-- chi^2 of the angle theta = acos(t) to the field against the density
-- e^{k cos th} sin^{n-2} th on [0, pi] (20 bins; bins expected to hold
-- fewer than 20 samples are pooled with their neighbour); returns the p-value
local function angle_pvalue(theta, n, k)
  local numeric = require "hebb.numeric"
  local nb, N = 20, theta:numel()
  local function rho(th) return math.exp(k * (math.cos(th) - 1)) * math.sin(th) ^ (n - 2) end
  local edges, p, Z = {}, {}, 0
  for j = 0, nb do edges[j] = math.pi * j / nb end
  for j = 1, nb do p[j] = numeric.quad(rho, edges[j - 1], edges[j]); Z = Z + p[j] end
  local counts = T.histc(theta, nb, 0, math.pi):totable()
  local chi2, dof, o, e = 0, -1, 0, 0
  for j = 1, nb do
    o, e = o + counts[j], e + N * p[j] / Z
    if e >= 20 or j == nb then
      chi2, dof, o, e = chi2 + (o - e) ^ 2 / e, dof + 1, 0, 0
    end
  end
  return stats.chi2_pvalue(chi2, dof)
end

-- With J = 0 a heat-bath sweep draws every spin afresh from
-- p(s) ~ e^{beta h s_1}: iid samples of the sampler itself, at small,
-- moderate and very large k = beta h (the last two test that the small
-- angles keep their accuracy: 1 - t^2 comes from the transverse components)
test("on_heatbath_draws_the_conditional_law", function()
  local g = T.Generator(25)
  for _, n in ipairs({ 1, 2, 3, 4, 7 }) do
    for _, k in ipairs({ 0, 0.5, 3, 1e3, 1e8 }) do
      local what = string.format("O(%d) at k = %g", n, k)
      local lat = lattice.on{ n = n, L = 32, J = 0, h = k }
      local s = lat:random(4, { generator = g })
      local ts, perps = {}, {}
      for i = 1, 8 do
        lat:heatbath(s, 1.0, { generator = g })
        ts[i] = s:select(-1, 1):clone()
        perps[i] = n > 1 and (s:narrow(-1, 2, n - 1) ^ 2):sum(-1) or nil
      end
      local t = T.stack(ts):reshape(-1)
      -- |s|^2 - 1: n rounded squares summed, and t e + sin v rounds each part once
      near(((s * s):sum(-1) - 1):abs():max(), 0, (n + 4) * 2.2e-16, what .. ": unit length")
      local A = A_on(n, k)
      if k <= 3 then
        local m, me = iid_mean(t)
        within(m, me, A, what .. " <cos>")
      end
      if n > 1 then
        local perp = T.stack(perps):reshape(-1)
        -- E[1 - t^2] = (n-1) A/k (A' = Var t = 1 - A^2 - (n-1)A/k), 1 - 1/n at k = 0
        local m, me = iid_mean(k > 0 and perp * (k / (n - 1)) or perp)
        within(m, me, k > 0 and A or 1 - 1 / n, what .. " <1 - cos^2>")
        local m2, m2e = iid_mean(s:select(-1, n):reshape(-1))
        within(m2, m2e, 0, what .. " <s_n>: isotropic about the field")
        if k <= 3 then
          local theta = T.atan2(perp:sqrt(), t)
          local pv = angle_pvalue(theta, n, k)
          eq(pv > 1e-4, true, what .. ": angle histogram p = " .. pv)
        end
      else
        eq(t:abs():eq(1):all(), true, what .. ": spins +-1")
      end
    end
  end
end)

-- The O(n) ring of L sites (a loop: not a product over bonds) by its
-- character expansion: the transfer kernel e^{b s.s'} has eigenvalues
-- mu_l ~ int_0^pi e^{b cos th} cos(l th) dth (n = 2, multiplicity 2 for
-- l > 0) or int_{-1}^1 e^{b t} P_l(t) dt (n = 3, multiplicity 2l + 1), so
-- Z = sum_l d_l mu_l^L and <E> = -L sum_l d_l mu_l^{L-1} mu_l' / Z; l <= 14
-- (mu_14 / mu_0 < 1e-12 at b = 1.3)
local function ring_energy(n, L, b)
  local numeric = require "hebb.numeric"
  local function legendre(l, t)
    local p0, p1 = 1, t
    if l == 0 then return 1 end
    for j = 2, l do p0, p1 = p1, ((2 * j - 1) * t * p1 - (j - 1) * p0) / j end
    return p1
  end
  local num, Z = 0, 0
  for l = 0, 14 do
    local mu, dmu, d
    if n == 2 then
      mu = numeric.quad(function(th) return math.exp(b * math.cos(th)) * math.cos(l * th) end, 0, math.pi)
      dmu = numeric.quad(function(th) return math.cos(th) * math.exp(b * math.cos(th)) * math.cos(l * th) end,
                         0, math.pi)
      d = l == 0 and 1 or 2
    else
      mu = numeric.quad(function(t) return math.exp(b * t) * legendre(l, t) end, -1, 1)
      dmu = numeric.quad(function(t) return t * math.exp(b * t) * legendre(l, t) end, -1, 1)
      d = 2 * l + 1
    end
    num, Z = num + d * mu ^ (L - 1) * dmu, Z + d * mu ^ L
  end
  return -L * num / Z
end

test("on_heatbath_ring_matches_characters", function()
  local g = T.Generator(26)
  local L, beta = 4, 1.3
  -- the open chain's bond energy I1/I0 = 0.5346 differs from the ring's by ~10%
  for _, lat in ipairs({ lattice.xy{ shape = { L } }, lattice.heisenberg{ shape = { L } } }) do
    local want = ring_energy(lat.n, L, beta) / L
    local e, ee = sample(lat, 64, 400, 50, function(s) lat:heatbath(s, beta, { generator = g }) end,
                         lat:random(64, { generator = g }))
    within(e, ee, want, "O(" .. lat.n .. ") ring of 4, heat bath")
    local m, me = sample(lat, 64, 400, 50, function(s)
      lat:metropolis(s, beta, { generator = g, step = 1.5 })
    end, lat:random(64, { generator = g }))
    within(m, me, want, "O(" .. lat.n .. ") ring of 4, metropolis")
  end
  -- parallel tempering with heat-bath sweeps, at each of its temperatures
  local xy = lattice.xy{ shape = { L } }
  local betas = { 0.5, 0.9, 1.3, 1.8 }
  local pt = lattice.tempering(xy, betas, { update = "heatbath", generator = T.Generator(27) })
  for _ = 1, 100 do pt:step() end
  local es = {}
  for i = 1, 3000 do pt:step(); es[i] = pt:energies() / L end
  local E = T.stack(es)
  for k = 1, #betas do
    local mean, err = stats.mean_error(E:select(2, k))
    within(mean, err, ring_energy(2, L, betas[k]) / L, "XY ring tempering at beta " .. betas[k])
  end
end)

-- in two dimensions the heat bath and Metropolis with over-relaxation
-- (tested on the chain above) sample the same law: XY 8x8 at beta = 1
-- (near the KT point 1.12) and Heisenberg 4x4x4 at beta = 0.6 (beta_c = 0.693)
test("on_heatbath_agrees_with_metropolis_in_2d_and_3d", function()
  local g = T.Generator(28)
  for _, c in ipairs({ { lattice.xy{ L = 8 }, 1.0 }, { lattice.heisenberg{ L = 4, d = 3 }, 0.6 } }) do
    local lat, beta = c[1], c[2]
    local e1, ee1 = sample(lat, 32, 300, 100, function(s) lat:heatbath(s, beta, { generator = g }) end)
    local e2, ee2 = sample(lat, 32, 300, 100, function(s)
      lat:metropolis(s, beta, { generator = g }); lat:overrelax(s)
    end)
    within(e1 - e2, math.sqrt(ee1 ^ 2 + ee2 ^ 2), 0, tostring(lat) .. " heat bath - metropolis")
  end
end)

-- random per-bond couplings on the open chain still factorize over bonds:
-- <s_i . s_i+1> = A_n(beta J_i); and with J = 0, per-site fields h_i give
-- independent sites with <s_i,1> = A_n(beta h_i) (the generic path's
-- couplings and fields, through the heat bath and Metropolis)
test("on_random_bonds_and_fields", function()
  local g = T.Generator(29)
  local L, beta = 16, 1.1
  local Jb = T.rand(1, L, { generator = g }) * 1.7 + 0.3
  local Jt = Jb:totable()[1]
  for _, n in ipairs({ 2, 3 }) do
    local lat = lattice.on{ n = n, shape = { L }, periodic = false, J = Jb }
    local want = 0
    for i = 1, L - 1 do want = want - Jt[i] * A_on(n, beta * Jt[i]) end
    for _, u in ipairs({ { "heatbath", {} }, { "metropolis", { step = 1.5 } } }) do
      local e, ee = sample(lat, 64, 300, 50, function(s)
        u[2].generator = g
        lat[u[1]](lat, s, beta, u[2])
      end, lat:random(64, { generator = g }))
      within(e * L, ee * L, want, "O(" .. n .. ") chain, random bonds, " .. u[1])
    end
  end
  local h = T.rand(8, 8, { generator = g }) * 3.5 + 0.5
  local lat = lattice.heisenberg{ L = 8, J = 0, h = h }
  local want, var = 0, 0
  for _, hi in ipairs(h:reshape(-1):totable()) do
    local a = A_on(3, beta * hi)
    want, var = want + a, var + 1 - 2 * a / (beta * hi) - a * a   -- Var t = 1 - (n-1)A/k - A^2
  end
  local s, acc, sweeps = lat:random(16, { generator = g }), 0, 20
  for _ = 1, sweeps do
    lat:heatbath(s, beta, { generator = g })
    acc = acc + s:select(-1, 1):sum():item()
  end
  within(acc / (16 * sweeps), math.sqrt(var / (16 * sweeps)), want, "Heisenberg in per-site fields: sum_i <s_i,1>")
end)

-- four dimensions: the energy by its definition (flat indices, any d) and
-- every update against enumeration of a 2x2x2x2 torus (its bonds doubled:
-- both neighbours along a dimension are the same site) and a 3x2x2x2
-- lattice open along the first dimension
local function brute_energy_nd(lat, s, J, h)
  local shape, d = lat.shape, lat.d
  local st = s:reshape(-1):totable()
  local Jt = J:reshape(d, -1):totable()
  local ht = h:reshape(-1):totable()
  local stride, N = {}, 1
  for k = d, 1, -1 do stride[k] = N; N = N * shape[k] end
  local e = 0
  for i = 0, N - 1 do
    e = e - ht[i + 1] * st[i + 1]
    for k = 1, d do
      local x = (i // stride[k]) % shape[k]
      if x + 1 < shape[k] or lat.periodic then
        local j = i + ((x + 1) % shape[k] - x) * stride[k]
        e = e - Jt[k][i + 1] * st[i + 1] * st[j + 1]
      end
    end
  end
  return e
end

test("four_dimensions", function()
  local g = T.Generator(30)
  local shape = { 3, 2, 2, 4 }
  local J, h = T.randn(4, 3, 2, 2, 4, { generator = g }), T.randn(3, 2, 2, 4, { generator = g })
  for _, per in ipairs({ true, false }) do
    local lat = lattice.ising{ shape = shape, J = J, h = h, periodic = per }
    local s = lat:random({ generator = g })
    near(lat:energy(s), brute_energy_nd(lat, s, J, h), 1e-12, "4D energy, periodic = " .. tostring(per))
  end
  for _, lat in ipairs({ lattice.ising{ shape = { 2, 2, 2, 2 } },
                         lattice.ising{ shape = { 3, 2, 2, 2 }, periodic = { false, true, true, true } } }) do
    all_updates_match(lat, 0.2, g, tostring(lat))
  end
end)

-- --- I8 and I9: 4x4 torus by enumeration, 16x16 by Kaufman's formula -------------------

-- I8: 4x4 torus at T_c, Wolff, 2e5 measurements (100 replicas x 2000
-- clusters): e -1.5656237876, <|m|> 0.8438604448, U4 0.6171993184 with
-- tolerances 0.004, 0.002, 0.001; our errors must be within those and the
-- exact values within 4 of our errors
test("I8_wolff_4x4_at_Tc", function()
  local g = T.Generator(8)
  local lat = lattice.ising{ L = 4 }
  local B = 100
  local s = lat:ordered(B)
  lat:wolff(s, X.Kc, { clusters = 100, generator = g })
  local es, ms = {}, {}
  for i = 1, 2000 do
    lat:wolff(s, X.Kc, { generator = g })
    local E, Mv = lat:observe(s)
    es[i], ms[i] = E / 16, Mv:select(-1, 1):abs() / 16
  end
  local e, ee = replica_mean(T.stack(es))
  local mt = T.stack(ms)
  local m, me = replica_mean(mt)
  -- U4 from the replica-averaged moments per step, jackknifed over time
  local U, Ue = stats.jackknife(function(m2, m4) return 1 - m4 / (3 * m2 * m2) end,
                                { (mt ^ 2):mean(2), (mt ^ 4):mean(2) })
  eq(ee < 0.004 and me < 0.002 and Ue < 0.001, true, "errors within I8's tolerances")
  within(e, ee, -1.5656237876, "I8 e")
  within(m, me, 0.8438604448, "I8 <|m|>")
  within(U, Ue, 0.6171993184, "I8 U4")
end)

-- I9: 16x16 torus, Metropolis, 5e4 sweeps in all (20 replicas x 2500),
-- e = -0.8176893679 (T = 3) and -1.7455306690 (T = 2), tolerance 0.004
test("I9_metropolis_16x16", function()
  local g = T.Generator(9)
  local lat = lattice.ising{ L = 16 }
  for _, c in ipairs({ { 3.0, -0.8176893679 }, { 2.0, -1.7455306690 } }) do
    local beta, B = 1 / c[1], 20
    local s = lat:ordered(B)
    lat:metropolis(s, beta, { sweeps = 500, generator = g })
    local es = {}
    for i = 1, 2500 do
      lat:metropolis(s, beta, { generator = g })
      es[i] = lat:energy(s) / 256
    end
    local E = T.stack(es)
    local sum, var = 0, 0
    for r = 1, B do
      local mean, err = stats.mean_error(E:select(2, r))
      sum, var = sum + mean, var + err * err
    end
    local e, err = sum / B, math.sqrt(var) / B
    eq(err < 0.004, true, "error within I9's tolerance")
    within(e, err, c[2], "I9 e at T = " .. c[1])
  end
end)

-- --- determinism ------------------------------------------------------------------------

test("same_bits_at_1_and_2_threads", function()
  local old = hebb.threads()
  local function run(threads)
    hebb.threads(threads)
    local out = {}
    local big = lattice.ising{ L = 192 }                 -- parallel rows
    local s = big:random({ generator = T.Generator(1) })
    out[#out + 1] = big:metropolis(s, 0.44, { sweeps = 2, generator = T.Generator(2) })
    big:heatbath(s, 0.44, { generator = T.Generator(3) })
    out[#out + 1] = s
    local rj = lattice.ising{ L = 128, J = T.rand(2, 128, 128, { generator = T.Generator(4) }),
                              h = 0.1 }
    local s2 = rj:random({ generator = T.Generator(5) })
    rj:metropolis(s2, 0.5, { generator = T.Generator(6) })
    out[#out + 1] = s2
    local p = lattice.potts{ L = 128, q = 3 }
    local ps = p:random({ generator = T.Generator(7) })
    p:metropolis(ps, 1.0, { generator = T.Generator(8) })
    p:heatbath(ps, 1.0, { generator = T.Generator(9) })
    out[#out + 1] = ps
    local x = lattice.xy{ L = 96 }
    local xs = x:random({ generator = T.Generator(10) })
    x:metropolis(xs, 1.0, { generator = T.Generator(11) })
    x:overrelax(xs)
    out[#out + 1] = xs
    local w = lattice.ising{ L = 32 }                     -- replicas in parallel
    local ws = w:random(4, { generator = T.Generator(12) })
    out[#out + 1] = w:wolff(ws, { 0.4, 0.42, 0.44, 0.46 }, { clusters = 50, generator = T.Generator(13) })
    w:swendsen_wang(ws, 0.44, { sweeps = 3, generator = T.Generator(14) })
    out[#out + 1] = ws
    local h = lattice.heisenberg{ L = 16 }
    local hs = h:random(4, { generator = T.Generator(15) })
    h:wolff(hs, 0.7, { clusters = 20, generator = T.Generator(16) })
    h:swendsen_wang(hs, 0.7, { generator = T.Generator(17) })
    out[#out + 1] = hs
    -- the O(n) heat bath, whose rejection samplers read extra words past a
    -- site's own (n = 2: 4 own words; n = 5: Wood's algorithm)
    x:heatbath(xs, 1.0, { sweeps = 2, generator = T.Generator(18) })
    out[#out + 1] = xs
    h:heatbath(hs, 0.7, { generator = T.Generator(19) })
    out[#out + 1] = hs
    local o5 = lattice.on{ n = 5, L = 64 }
    local os = o5:random({ generator = T.Generator(20) })
    o5:heatbath(os, 1.5, { generator = T.Generator(21) })
    out[#out + 1] = os
    return out
  end
  local a, b = run(1), run(2)
  hebb.threads(old)
  for i = 1, #a do
    if T.is_tensor(a[i]) then eq(T.equal(a[i], b[i]), true, "result " .. i .. " identical")
    else eq(a[i], b[i], "result " .. i .. " identical") end
  end
end)

test("draws_keyed_by_position", function()
  local lat = lattice.ising{ L = 16 }
  local s1, s2 = lat:random({ generator = T.Generator(3) }), lat:random({ generator = T.Generator(3) })
  local g1, g2 = T.Generator(4), T.Generator(4)
  lat:metropolis(s1, 0.4, { sweeps = 2, generator = g1 })
  lat:metropolis(s2, 0.4, { generator = g2 })
  lat:metropolis(s2, 0.4, { generator = g2 })
  eq(T.equal(s1, s2), true, "1 call of 2 sweeps = 2 calls of 1")
  eq(g1:state().counter, 2 * 256, "one word per site and sweep")
  -- a batch replica sees the words a single run at its position would
  local b = lat:random(2, { generator = T.Generator(3) })
  b[2]:copy_(b[1])
  lat:metropolis(b, 0.4, { generator = T.Generator(5) })
  eq(T.equal(b[1], b[2]), false, "replicas draw different words")
  -- the O(n) heat bath: words per site 4 (XY), 2 (Heisenberg), 2m + 1 (n = 5, m = 6)
  for _, c in ipairs({ { lattice.xy{ L = 8 }, 4 }, { lattice.heisenberg{ L = 8 }, 2 },
                       { lattice.on{ n = 5, L = 8 }, 13 } }) do
    local on = c[1]
    local x1, x2 = on:random({ generator = T.Generator(6) }), on:random({ generator = T.Generator(6) })
    local h1, h2 = T.Generator(7), T.Generator(7)
    on:heatbath(x1, 2.0, { sweeps = 2, generator = h1 })
    on:heatbath(x2, 2.0, { generator = h2 })
    on:heatbath(x2, 2.0, { generator = h2 })
    eq(T.equal(x1, x2), true, "O(" .. on.n .. ") heat bath: 1 call of 2 sweeps = 2 calls of 1")
    eq(h1:state().counter, 2 * 64 * c[2], "O(" .. on.n .. ") heat bath: words per site")
  end
end)

-- --- parallel tempering ------------------------------------------------------------------

test("parallel_tempering_matches_enumeration", function()
  local lat = lattice.ising{ L = 4 }
  local betas = { 0.25, 0.35, 0.44, 0.55 }
  local pt = lattice.tempering(lat, betas, { generator = T.Generator(31) })
  local ex = X.enumerate(lat, betas)
  for _ = 1, 200 do pt:step() end
  local es = {}
  for i = 1, 4000 do pt:step(); es[i] = pt:energies() / 16 end
  local E = T.stack(es)
  for k = 1, 4 do
    local mean, err = stats.mean_error(E:select(2, k))
    within(mean, err, ex[k].e, "tempering energy at beta " .. betas[k])
  end
  for k, r in ipairs(pt:swap_rates()) do
    eq(r > 0.05 and r < 1, true, "swap rate " .. k .. " = " .. r)
  end
  eq(T.equal(pt:config(3), pt.configs[pt.replica[3]]), true, "config(k) is the replica at k")
  raises(function() lattice.tempering(lat, { 0.3 }) end, "needs a list of at least 2 inverse temperatures")
  raises(function() lattice.tempering(lat, { 0.3, 0.4 }, { update = "swendsen" }) end,
         "update must be 'metropolis', 'heatbath' or 'wolff'")
end)

check.done()
