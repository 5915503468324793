-- test_rg_network.lua -- the exact coarse-graining of Gaussian networks
-- in hebb.rg (_rg_network.lua): ln Z against a direct quadrature and a
-- determinant, conserved along the flow at every depth (to rounding), the
-- chain's closed-form coupling flow, gradients through the flow, bad input.
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

check.done()
