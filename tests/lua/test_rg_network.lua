-- test_rg_network.lua -- the coarse-graining of networks in hebb.rg.
-- Exact, Gaussian (_rg_network.lua): ln Z against a direct quadrature and a
-- determinant, conserved along the flow at every depth (to rounding), the
-- chain's closed-form coupling flow, gradients through the flow.  Sampled
-- (_rg_sample.lua, sampler in rg_network.c): the sampler's bits at 1 and 2
-- threads and its moments against enumeration; rg.ising_exact against the
-- chain's decimation and a closed-form four-spin term; the sampled flow of
-- the Ising ring against K' = atanh(tanh^2 K) and the exact shells; a
-- network with multi-spin terms and majority-rule block spins against the
-- exact marginal's pseudo-likelihood projection; the Gaussian limit against the Schur
-- complements; estimators that are wrong caught; bad input.
--
-- Tolerances of the sampled checks are in units of the reported errors
-- (jackknife over chain groups, spread of independent chains): one
-- quantity within 4 sigma (a miss by chance: 6e-5), a maximum over m
-- entries within 4.5 sigma (m <= 64: below 5e-4).  Every run is seeded, so
-- a pass is reproducible; the seeds are not tuned (errors calibrated over
-- 12 seeds: rms z 0.85-1.1).
local check = require "check"
local T = require "hebb.tensor"
local L = require "hebb.linalg"
local AG = require "hebb.autograd"
local rg = require "hebb.rg"
local test, eq, near, raises = check.test, check.eq, check.near, check.raises

-- a random symmetric positive definite matrix: A A^T / n + shift I
local function spd(n, seed, shift)
  local A = T.randn({ n, n }, { generator = T.Generator(seed) })
  return A:matmul(A:t()) / n + T.eye(n) * (shift or 0.5)
end

-- the chain (periodic) with a on the diagonal and -c between neighbours
local function chain(n, a, c)
  local K = T.eye(n) * a
  for i = 1, n do
    local j = i % n + 1
    K[i][j] = K[i][j] - c
    K[j][i] = K[j][i] - c
  end
  return K
end

test("gaussian_lnz_against_quadrature", function()
  -- n = 1: ln of the integral of e^{-k x^2/2 + h x} = ln sqrt(2 pi / k) + h^2 / 2k
  near(rg.gaussian_lnz(T.tensor { { 2.5 } }, T.tensor { 0.7 }):item(),
    0.5 * math.log(2 * math.pi / 2.5) + 0.49 / 5, 1e-14, "n = 1")
  -- n = 2 by the trapezoid rule on [-12, 12]^2, step 0.05 (Gaussian
  -- tails: the rule is spectrally accurate, 1e-12 seen)
  local K = T.tensor { { 1.3, -0.4 }, { -0.4, 0.9 } }
  local h = T.tensor { 0.3, -0.2 }
  local step, s = 0.05, 0
  for i = -240, 240 do
    local x = i * step
    for j = -240, 240 do
      local y = j * step
      s = s + math.exp(-0.5 * (1.3 * x * x - 0.8 * x * y + 0.9 * y * y) + 0.3 * x - 0.2 * y)
    end
  end
  near(rg.gaussian_lnz(K, h):item(), math.log(s * step * step), 1e-10, "n = 2")
  -- no field: -(1/2) ln det K + (n/2) ln 2 pi
  local K8 = spd(8, 3)
  local _, ld = L.slogdet(K8)
  near(rg.gaussian_lnz(K8):item(), 4 * math.log(2 * math.pi) - 0.5 * ld:item(), 1e-12, "n = 8")
end)

-- ln Z is conserved exactly: shells + the coarse network, for any split
-- and along every depth of a flow (rounding: 1e-11 on ln Z ~ 50)
test("lnz_conserved_along_the_flow", function()
  local K, h = spd(12, 7), T.randn({ 12 }, { generator = T.Generator(8) })
  local exact = rg.gaussian_lnz(K, h):item()
  local r = rg.integrate_out(K, { 2, 5, 6, 11 }, { h = h })
  eq(#r.keep, 8, "slow neurons")
  near(r.lnz:item() + rg.gaussian_lnz(r.K, r.h):item(), exact, 1e-11, "one split")
  local mask = T.tensor { 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1 }
  local r2 = rg.integrate_out(K, mask, { h = h })
  near(r2.lnz:item() + rg.gaussian_lnz(r2.K, r2.h):item(), exact, 1e-11, "a mask")
  -- a 2D lattice network (8 x 8, periodic nearest neighbours, a mass, a
  -- random field): every depth of the flow gives the same ln Z
  local n = 64
  local K2 = T.eye(n) * 4.3
  for i = 0, n - 1 do
    local x, y = i % 8, i // 8
    for _, j in ipairs { y * 8 + (x + 1) % 8, ((y + 1) % 8) * 8 + x } do
      K2[i + 1][j + 1] = K2[i + 1][j + 1] - 1
      K2[j + 1][i + 1] = K2[j + 1][i + 1] - 1
    end
  end
  local h2 = T.randn({ n }, { generator = T.Generator(9) }) * 0.3
  local ex2 = rg.gaussian_lnz(K2, h2):item()
  for levels = 0, 2 do
    local f = rg.gaussian_flow(K2, { h = h2, shape = { 8, 8 }, levels = levels })
    near(f.lnz:item(), ex2, 1e-11, "2D, depth " .. levels)
    eq(f.levels[levels + 1].n, 64 // 4 ^ levels, "neurons at depth " .. levels)
  end
  eq(#rg.gaussian_flow(K2, { shape = { 8, 8 } }).levels, 3, "default depth: down to 2 x 2")
end)

-- the periodic chain: a' = a - 2c^2/a, c' = c^2/a at each decimation
-- (closed form; 1e-13), so the mass m^2 = a/c - 2 flows to 4 m^2 + m^4
test("chain_coupling_flow", function()
  local a, c = 2.01, 1
  local f = rg.gaussian_flow(chain(32, a, c), { levels = 3 })
  for l = 1, 3 do
    a, c = a - 2 * c * c / a, c * c / a
    local row = f.levels[l + 1]
    near(row.diag, a, 1e-13, "diag at level " .. l)
    near(row.nn[1], -c, 1e-13, "nn at level " .. l)
    local m2 = row.diag / -row.nn[1] - 2
    local prev = f.levels[l].diag / -f.levels[l].nn[1] - 2
    near(m2, 4 * prev + prev * prev, 1e-10, "mass flow")
  end
  eq(f.levels[4].shape[1], 4, "32 -> 4 sites")
end)

-- gradients through the flow: d lnZ / dK = -(1/2) K^-1 - (1/2) mu mu^T
-- (mu = K^-1 h) along symmetric directions: the flow reads K's lower
-- triangle in places (Cholesky), so only g + g^T is defined by lnZ(K)
test("gradient_through_the_flow", function()
  local K0 = chain(16, 2.5, 1)
  local h = T.randn({ 16 }, { generator = T.Generator(4) })
  local K = K0:clone():requires_grad_()
  local f = rg.gaussian_flow(K, { h = h, levels = 2 })
  local g = AG.grad(f.lnz, K)
  local Ki = L.inv(K0)
  local mu = Ki:matmul(h:unsqueeze(2))
  local want = Ki * -0.5 - mu:matmul(mu:t()) * 0.5
  near((g + g:t() - want * 2):abs():max():item(), 0, 1e-12, "dlnZ/dK")
  -- and d lnZ / dh = mu, the mean of x
  local ht = h:clone():requires_grad_()
  local gh = AG.grad(rg.gaussian_flow(K0, { h = ht, levels = 2 }).lnz, ht)
  near((gh - mu:squeeze(2)):abs():max():item(), 0, 1e-12, "dlnZ/dh")
end)

test("bad_input", function()
  local K = spd(4, 1)
  raises(function() rg.gaussian_lnz(T.ones(3, 2)) end, "rg.gaussian_lnz: K must be a square matrix (a tensor {n, n}), got shape {3, 2}")
  raises(function() rg.gaussian_lnz(T.tensor { { 1, 2 }, { 2, 1 } }) end, "rg.gaussian_lnz: K is not positive definite")
  raises(function() rg.gaussian_lnz(K, T.ones(3)) end, "rg.gaussian_lnz: h must be a vector of 4 biases, got shape {3}")
  raises(function() rg.integrate_out(K, { 1, 2, 3, 4 }) end, "rg.integrate_out: every neuron is fast")
  raises(function() rg.integrate_out(K, { 5 }) end, "rg.integrate_out: fast neuron 5 is not an index in 1..4")
  raises(function() rg.integrate_out(K, "odd") end, "rg.integrate_out: fast must be a list of indices or a mask, got \"odd\"")
  raises(function() rg.gaussian_flow(chain(6, 3, 1), { b = 4, levels = 1 }) end,
    "rg.gaussian_flow: lattice size 6 (dim 1) is not divisible by b = 4")
  raises(function() rg.gaussian_flow(K, { shape = { 3, 3 } }) end, "rg.gaussian_flow: shape {3, 3} has 9 sites, K has 4 neurons")
  raises(function() rg.gaussian_flow(chain(8, -1, 1), { levels = 1 }) end,
    "rg.gaussian_flow: the fast block K_ff is not positive definite")
  raises(function() rg.gaussian_flow(chain(8, 1, 1), { levels = 1 }) end,
    "rg.gaussian_flow: the coarsest K is not positive definite")
  raises(function() rg.gaussian_flow(K, { level = 1 }) end, "rg.gaussian_flow: unknown option \"level\"")
end)

-- --- sampled coarse-graining ------------------------------------------------------

local function ring_lnz(N, k) return math.log((2 * math.cosh(k)) ^ N + (2 * math.sinh(k)) ^ N) end
local function decimate(k) local t = math.tanh(k) ^ 2 return 0.5 * math.log((1 + t) / (1 - t)) end

-- a symmetric random coupling matrix with zero diagonal, and biases
local function random_net(n, seed, scale)
  local g = T.Generator(seed)
  local A = T.randn({ n, n }, { generator = g }) * scale
  return (A + A:t()) * 0.5 * (1 - T.eye(n)), T.randn({ n }, { generator = g }) * 0.2
end

-- max |a - b| / err over the entries where err > 0 (diagonals of binary K' are 0 +- 0)
local function zmax(a, b, err)
  local e = err + err:eq(0):astype("f64")
  return ((a - b) / e):abs():max():item()
end

test("sampler_bits_and_moments", function()
  local hebb = require "hebb"
  local K, h = random_net(6, 11, 0.5)
  local old = hebb.threads()
  -- 16 chains of 600 sweeps of 36: 3.5e5 operations, above the grain at
  -- which hebb splits a loop over threads
  hebb.threads(1)
  local a = rg.sample(K, { h = h, chains = 16, samples = 400, seed = 3 })
  hebb.threads(2)
  local b = rg.sample(K, { h = h, chains = 16, samples = 400, seed = 3 })
  hebb.threads(old)
  eq((a - b):abs():max():item(), 0, "same bits at 1 and 2 threads")
  local c = rg.sample(K, { h = h, chains = 4, samples = 400, seed = 3 })
  eq((a:narrow(1, 1, 4) - c):abs():max():item(), 0, "a chain does not depend on the chains beside it")
  eq((a:narrow(1, 1, 4) - a:narrow(1, 5, 4)):abs():max():item() > 0, true, "chains differ")
  -- <s_i s_j> and <s_i> against enumeration, errors from the 32 chains' spread
  local ex = rg.ising_exact(K, nil, { h = h })
  local S, p = ex.states, ex.p
  local X = rg.sample(K, { h = h, seed = 5 })
  local chains = X:size(1)
  local function z_of(f_exact, f_chain)
    local m = f_chain:mean(1)
    local e = T.sqrt(f_chain:var(1) / chains)
    e = e + e:eq(0):astype("f64")                    -- the zeroed diagonal
    return ((m - f_exact) / e):abs():max():item()
  end
  local corr_ex = S:t():matmul(S * p:unsqueeze(2))
  local corr_ch = T.einsum("csi,csj->cij", X, X) / X:size(2)
  local off = 1 - T.eye(6)
  near(z_of(corr_ex * off, corr_ch * off), 0, 4.5, "<s_i s_j> (15 pairs)")
  near(z_of((S * p:unsqueeze(2)):sum(1), X:mean(2)), 0, 4.5, "<s_i> (6 neurons)")
  -- Gaussian neurons: <x> = K^-1 h
  local KG = spd(5, 2, 1)
  local hG = T.randn({ 5 }, { generator = T.Generator(3) })
  local XG = rg.sample(KG, { h = hG, neuron = "gaussian", seed = 2 })
  near(z_of(L.solve(KG, hG:unsqueeze(2)):squeeze(2), XG:mean(2)), 0, 4.5, "Gaussian <x>")
end)

test("ising_exact_enumeration", function()
  -- the ring decimated: K' = atanh(tanh^2 K) exactly, the shell g = (N/2)
  -- (1/2) ln(4 cosh 2K), no multi-spin term, ln Z = g + ln Z(K')
  local k = 0.6
  local ex = rg.ising_exact(chain(8, 0, k), { 2, 4, 6, 8 })
  near(ex.K[1][2]:item(), -decimate(k), 1e-14, "K' of neighbours")
  near(ex.K[1][3]:item(), 0, 1e-14, "no coupling at distance 2")
  near(ex.g, 4 * 0.5 * math.log(4 * math.cosh(2 * k)), 1e-13, "shell g")
  near(ex.multi, 0, 1e-14, "no multi-spin terms")
  near(ex.lnz, ring_lnz(8, k), 1e-13, "ln Z of the ring")
  near(ex.g + rg.ising_exact(ex.K, nil, { h = ex.h }).lnz, ex.lnz, 1e-13, "ln Z = g + ln Z(K', h')")
  -- the pseudo-likelihood of the exact marginal recovers a pairwise network exactly
  local pf = rg.fit_couplings(ex.states, { weights = ex.p })
  near((pf.K - ex.K):abs():max():item(), 0, 1e-10, "population fit = the exact K'")
  -- a fast neuron coupled by J to four kept ones: ln 2 cosh(J sum s) has
  -- the four-spin term (2 L(4J) - 8 L(2J) + 6 L(0)) / 16, L = ln 2 cosh
  local J = 0.4
  local K = T.zeros(5, 5)
  for i = 1, 4 do K[i][5] = -J; K[5][i] = -J end
  local star = rg.ising_exact(K, { 5 })
  local function Lc(x) return math.log(2 * math.cosh(x)) end
  local c4 = (2 * Lc(4 * J) - 8 * Lc(2 * J) + 6 * Lc(0)) / 16
  near(star.walsh[16]:item(), c4, 1e-14, "the four-spin coefficient")
  near(star.multi, math.abs(c4), 1e-14, "multi")
  near(star.lnz, math.log(2 * (2 * math.cosh(4 * J) + 8 * math.cosh(2 * J) + 6)), 1e-13, "ln Z of the star")
end)

-- the Ising ring of 16 (K = 0.6) coarse-grained twice by sampling: the
-- couplings follow tanh K' = tanh^2 K, ln Z and each shell (N_l/2) (1/2)
-- ln(4 cosh 2K_l) are the exact ones, within the reported errors
test("ising_ring_sampled_flow", function()
  local k = 0.6
  local K = chain(16, 0, k)
  local f = rg.sample_flow(K, { levels = 2, seed = 7 })
  near(f.lnz, ring_lnz(16, k), 4 * f.lnz_err, "ln Z of the ring")
  local kl = k
  for l = 1, 2 do
    local lv = f.levels[l + 1]
    local shell = lv.n * 0.5 * math.log(4 * math.cosh(2 * kl))
    kl = decimate(kl)
    eq(lv.n, 16 >> l, "neurons at level " .. l)
    near(lv.nn[1], -kl, 4 * lv.nn_err[1], "K' at level " .. l)
    near(lv.shell, shell, 4 * lv.shell_err, "shell at level " .. l)
    -- the exact marginal is a ring: every farther coupling vanishes
    local far = lv.K * (1 - T.eye(lv.n))
    for i = 1, lv.n do
      local j = i % lv.n + 1
      far[i][j] = 0; far[j][i] = 0
    end
    near(zmax(far, T.zeros(lv.n, lv.n), lv.K_err), 0, 4.5, "no farther couplings at level " .. l)
    -- the same by classes of offsets: distance 1 is the neighbour coupling
    eq(#lv.by_offset, lv.n // 2, "offsets 1 .. n/2 on the ring")
    near(lv.by_offset[1].K, lv.nn[1], 1e-14, "offset 1 = nn")
    for c = 2, #lv.by_offset do
      near(lv.by_offset[c].K, 0, 4.5 * lv.by_offset[c].err, "offset " .. lv.by_offset[c].offset[1])
    end
  end
  near(f.shells + f.last, f.lnz, 1e-12, "ln Z = shells + the coarsest")
  eq(f.lnz_err < 0.01 and f.levels[2].nn_err[1] < 0.005, true, "errors are small enough to mean something")
  -- wrong estimators are caught at these tolerances: the naive mean-field
  -- inversion (K' = the inverse connected correlation) of the kept samples
  -- of a stronger ring (K = 0.9: K' = 0.567), and thermodynamic
  -- integration by one node
  local K9 = chain(8, 0, 0.9)
  local r = rg.sample_integrate_out(K9, { 2, 4, 6, 8 }, { seed = 7 })
  local sig = r.K_err[1][2]:item()
  near(r.K[1][2]:item(), -decimate(0.9), 4 * sig, "pseudo-likelihood K' at K = 0.9")
  local X = rg.sample(K9, { seed = 7 }):reshape(-1, 8):index_select(2, T.tensor(r.keep, "i64"))
  local d = X - X:mean(1)
  local Kmf = L.inv(d:t():matmul(d) / X:size(1))
  local z = math.abs(Kmf[1][2]:item() + decimate(0.9)) / sig
  eq(z > 10, true, "mean-field inversion misses K' by " .. z .. " sigma")
  local one = rg.sample_lnz(K9, { nodes = 1, seed = 7, samples = 4000 })  -- midpoint rule: bias 0.13
  local zq = math.abs(one.lnz - ring_lnz(8, 0.9)) / one.err
  eq(zq > 10, true, "one-node integration misses ln Z by " .. zq .. " sigma")
end)

-- a random network of 10 whose exact marginal on 6 kept neurons has
-- multi-spin terms: the sampled fit is the pseudo-likelihood projection of
-- the exact marginal (rg.fit_couplings on rg.ising_exact's states and
-- probabilities); the shell is ln Z - ln Z(K', h') by enumeration
test("multispin_network_against_enumeration", function()
  local K, h = random_net(10, 5, 0.35)
  local fast = { 2, 5, 7, 9 }
  local ex = rg.ising_exact(K, fast, { h = h })
  eq(ex.multi > 1e-3, true, "the exact marginal has multi-spin terms")
  local pop = rg.fit_couplings(ex.states, { weights = ex.p })
  local r = rg.sample_integrate_out(K, fast, { h = h, seed = 1 })
  eq(#r.keep, 6, "kept neurons")
  near(zmax(r.K, pop.K, r.K_err), 0, 4.5, "K' (15 couplings)")
  near(zmax(r.h, pop.h, r.h_err), 0, 4.5, "h' (6 biases)")
  near(r.lnz_full, ex.lnz, 4 * r.lnz_full_err, "ln Z")
  local coarse = rg.ising_exact(r.K, nil, { h = r.h }).lnz
  near(r.lnz, ex.lnz - coarse, 4 * r.lnz_err, "the shell")
end)

-- majority-rule block spins (a ring of 9 in blocks of 3, a field 0.1):
-- the exact block marginal by enumeration (the majority of each block of
-- every state, probabilities summed), its pseudo-likelihood projection
-- against the sampled fit; ln Z is conserved by the block map
test("majority_blocks_against_enumeration", function()
  local K, h = chain(9, 0, 0.5), T.zeros(9) + 0.1
  local ex = rg.ising_exact(K, nil, { h = h })
  local blocks = ex.states:reshape(512, 3, 3):sum(3):sign()
  -- row of a block state in rg.ising_exact's order: +1 is bit 0, first spin most significant
  local rows = ((1 - blocks) * 0.5):matmul(T.tensor { { 4.0 }, { 2.0 }, { 1.0 } }):squeeze(2):astype("i64") + 1
  local pb = T.zeros(8):scatter_add_(1, rows, ex.p)
  local pop = rg.fit_couplings(rg.ising_exact(T.zeros(3, 3)).states, { weights = pb })
  local f = rg.sample_flow(K, { h = h, b = 3, rule = "majority", seed = 2 })
  local lv = f.levels[2]
  eq(#f.levels, 2, "9 -> 3 block spins")
  near(zmax(lv.K, pop.K, lv.K_err), 0, 4.5, "block couplings")
  near(zmax(lv.h, pop.h, lv.h_err), 0, 4.5, "block fields")
  near(f.lnz, ex.lnz, 4 * f.lnz_err, "ln Z")
  near(lv.shell, ex.lnz - rg.ising_exact(lv.K, nil, { h = lv.h }).lnz, 4 * lv.shell_err, "the shell")
  raises(function() rg.sample_flow(chain(9, 2, 0.5), { b = 3, rule = "majority", neuron = "gaussian" }) end,
    "rg.sample_flow: rule \"majority\" takes binary neurons")
  raises(function() rg.sample_flow(K, { b = 3, rule = "mean" }) end,
    "rg.sample_flow: unknown rule \"mean\" (rules: decimate, majority)")
end)

-- Gaussian neurons sampled: the flow must reproduce the Schur complements
-- (rg.gaussian_flow) and the exact ln Z and shells
test("gaussian_limit_of_the_sampled_flow", function()
  local K = chain(16, 2.3, 1)
  local h = T.randn({ 16 }, { generator = T.Generator(2) }) * 0.3
  local s = rg.sample_flow(K, { h = h, neuron = "gaussian", levels = 2, seed = 4 })
  local e = rg.gaussian_flow(K, { h = h, levels = 2 })
  near(s.lnz, rg.gaussian_lnz(K, h):item(), 4 * s.lnz_err, "ln Z")
  for l = 1, 2 do
    local a, b = s.levels[l + 1], e.levels[l + 1]
    near(zmax(a.K, b.K, a.K_err), 0, 4.5, "K' at level " .. l)
    near(zmax(a.h, b.h, a.h_err), 0, 4.5, "h' at level " .. l)
    near(a.shell, b.shell:item(), 4 * a.shell_err, "shell at level " .. l)
    -- the couplings the flow generates, by distance on the ring
    for _, c in ipairs(a.by_offset) do
      local dist, acc = c.offset[1], 0
      for i = 1, a.n do acc = acc + b.K[i][(i - 1 + dist) % a.n + 1]:item() end
      near(c.K, acc / a.n, 4.5 * c.err, "K' at distance " .. dist .. ", level " .. l)
    end
  end
end)

test("sampled_bad_input", function()
  local K = chain(4, 0, 0.5)
  raises(function() rg.sample(K, { neuron = "potts" }) end, "rg.sample: unknown neuron \"potts\" (neurons: ising, gaussian)")
  raises(function() rg.sample(K, { chains = 1 }) end, "rg.sample: chains must be an integer >= 2, got 1")
  raises(function() rg.sample(K, { neuron = "gaussian" }) end, "rg.sample: K is not positive definite (the Gaussian integral diverges)")
  raises(function() rg.sample(K, { lambda = 0 / 0 }) end, "rg.sample: lambda must be a number, got")
  -- only K + K^T matters: an asymmetric K samples as its symmetric part
  local A = chain(4, 0, 0.5)
  A[1][2] = -0.9; A[2][1] = -0.1
  local S = chain(4, 0, 0.5)
  eq((rg.sample(A, { chains = 2, samples = 20 }) - rg.sample(S, { chains = 2, samples = 20 })):abs():max():item(), 0,
    "asymmetric K")
  raises(function() rg.sample_lnz(K, { nodes = 0 }) end, "rg.sample_lnz: nodes must be an integer >= 1, got 0")
  raises(function() rg.sample_flow(K, { groups = 40 }) end, "rg.sample_flow: 40 jackknife groups of 32 chains")
  raises(function() rg.sample_flow(K, { shape = { 3 } }) end, "rg.sample_flow: shape {3} has 3 sites, K has 4 neurons")
  raises(function() rg.sample_integrate_out(K, { 9 }) end, "rg.sample_integrate_out: fast neuron 9 is not an index in 1..4")
  raises(function() rg.ising_exact(T.zeros(23, 23), { 1 }) end, "rg.ising_exact: 22 kept and 1 fast neurons: enumeration takes at most 16 of each and 22 in all")
  raises(function() rg.fit_couplings(T.ones(5)) end, "rg.fit_couplings: samples must be a tensor {chains, samples, n} or {N, n}, got shape {5}")
  raises(function() rg.fit_couplings(T.ones(4, 3), { weights = T.ones(3) }) end, "rg.fit_couplings: weights must be a vector of 4 row weights, got shape {3}")
  -- a neuron that never flips has no finite bias
  local x = T.tensor { { 1, 1 }, { 1, -1 }, { 1, 1 }, { 1, -1 } }
  raises(function() rg.fit_couplings(x, { groups = 2 }) end, "rg.fit_couplings: neuron 1: the pseudo-likelihood has no finite maximum")
end)

check.done()
