-- test_rg_flow.lua -- real-space recursions of hebb.rg (_rg_flow.lua):
-- the 1D decimation against its closed forms (R6), Migdal-Kadanoff's fixed
-- point and exponent (R5), the free-energy bookkeeping against the exact
-- chain with and without a field, the Jacobian against finite
-- differences, user-defined recursions, and failures that must be errors.
local check = require "check"
local T = require "hebb.tensor"
local rg = require "hebb.rg"
local test, eq, near, raises = check.test, check.eq, check.near, check.raises

local function chain_lnz(K, h)   -- ln of the largest transfer eigenvalue
  h = h or 0
  return math.log(math.exp(K) * math.cosh(h) +
    math.sqrt(math.exp(2 * K) * math.sinh(h) ^ 2 + math.exp(-2 * K)))
end

-- R6: tanh K' = tanh^2 K at K = 0.7, to rounding (1e-15)
test("decimation_R6_map", function()
  local R = rg.decimation1d()
  local Kp, g = R:step(0.7)
  near(Kp[1], 0.382942822864013, 1e-15, "K'")
  -- g = ln C / 2, C = 2 sqrt(cosh 2K)
  near(g:item(), 0.5 * math.log(2 * math.sqrt(math.cosh(1.4))), 1e-15, "g")
  for _, b in ipairs { 3, 4, 5 } do
    local Kb = rg.decimation1d { b = b }:step(0.9)
    near(math.tanh(Kb[1]), math.tanh(0.9) ^ b, 1e-15, "tanh K' = tanh^b K, b = " .. b)
  end
end)

-- R6: the free energy summed over the flow is ln(2 cosh K) to 1e-12, for
-- ferro- and antiferromagnetic K, small and large, and with a field
test("decimation_R6_free_energy", function()
  local R = rg.decimation1d()
  near(R:free_energy(0.5), 0.813261687518, 1e-12, "R6")
  for _, b in ipairs { 2, 3 } do
    for _, K in ipairs { -2.5, -0.3, 0.05, 1.5, 8 } do
      near(rg.decimation1d { b = b }:free_energy(K), chain_lnz(K), 1e-12,
        ("b = %d, K = %g"):format(b, K))
    end
    local Rf = rg.decimation1d { b = b, field = true }
    for _, Kh in ipairs { { 0.5, 0.3 }, { 1.2, -0.1 }, { -0.4, 0.7 } } do
      near(Rf:free_energy(Kh), chain_lnz(Kh[1], Kh[2]), 1e-12,
        ("field b = %d, K = %g, h = %g"):format(b, Kh[1], Kh[2]))
    end
  end
end)

-- R5: K' = (1/2) ln cosh 4K, K* = 0.3046889317, nu = 1.3382657904 (1e-8)
test("migdal_kadanoff_R5", function()
  local MK = rg.migdal_kadanoff { b = 2, d = 2 }
  near(MK:step(0.37)[1], 0.5 * math.log(math.cosh(4 * 0.37)), 1e-14, "map")
  local Ks = MK:fixed_point(0.25)
  near(Ks, 0.3046889317, 1e-8, "K*")
  local ex = MK:exponents(Ks)
  near(ex.nu, 1.3382657904, 1e-8, "nu")
  near(ex.lambda[1], 2 * math.tanh(4 * Ks), 1e-12, "lambda = dK'/dK = 2 tanh 4K*")
  -- the flow leaves K* on both sides
  local lo = MK:flow(Ks - 1e-3, 25)
  local hi = MK:flow(Ks + 1e-3, 25)
  check.truthy(lo[26] < 1e-3 and hi[26] > 10, "unstable fixed point")
end)

-- d = 1 Migdal-Kadanoff moves nothing: it is the exact decimation
test("migdal_kadanoff_d1_is_exact", function()
  for _, K in ipairs { 0.2, 1.1 } do
    near(rg.migdal_kadanoff { d = 1, b = 3 }:free_energy(K), chain_lnz(K), 1e-12, "K = " .. K)
  end
end)

-- the bookkeeping: f(K) = g(K) + f(K') / s exactly along the flow, and
-- ln 2 at K = 0 (all spins free); MK in 2D at low temperature: f -> 2K +
-- (free spins) with slope 2 (ground state energy per site)
test("free_energy_bookkeeping", function()
  local MK = rg.migdal_kadanoff { b = 2, d = 2 }
  for _, K in ipairs { 0.1, 0.3, 0.5 } do
    local f = MK:free_energy(K)
    local Kp, g = MK:step(K)
    near(f, g:item() + MK:free_energy(Kp) / 4, 1e-13, "f = g + f'/s at K = " .. K)
  end
  near(MK:free_energy(0), math.log(2), 1e-15, "K = 0")
  local s = (MK:free_energy(6) - MK:free_energy(5))
  near(s, 2, 1e-9, "slope 2 at low temperature")
end)

test("exponents_against_finite_differences", function()
  local Rf = rg.decimation1d { field = true, b = 3 }
  local K = { 0.6, 0.2 }
  local ex = Rf:exponents(K)
  local J = ex.jacobian:totable()
  for j = 1, 2 do
    local up, dn = { K[1], K[2] }, { K[1], K[2] }
    local e = 1e-6
    up[j], dn[j] = up[j] + e, dn[j] - e
    local a, c = Rf:step(up):totable(), Rf:step(dn):totable()
    for i = 1, 2 do
      near(J[i][j], (a[i] - c[i]) / (2 * e), 1e-8, ("J[%d][%d]"):format(i, j))
    end
  end
  -- at the trivial fixed point K = 0, h = 0 the decimated spins are free:
  -- h' = h (lambda 1) and K' ~ K^b (lambda 0)
  local ex0 = Rf:exponents({ 0, 0 })
  near(ex0.lambda[1], 1, 1e-12, "h' = h at K = 0")
  near(ex0.lambda[2], 0, 1e-12, "dK'/dK = 0 at K = 0")
end)

test("user_recursion", function()
  -- the 1D chain again, written by hand: K' = atanh(tanh^2 K)
  local R = rg.recursion {
    b = 2, d = 1,
    map = function(K)
      local k = K:select(1, 1)
      local Kp = 0.5 * T.log(T.cosh(2 * k))
      return Kp:reshape(1), 0.5 * T.log(2 * T.sqrt(T.cosh(2 * k)))
    end }
  near(R:free_energy(0.5), chain_lnz(0.5), 1e-12, "summed")
  local Ks, gs = R:flow(0.5, 3)
  eq(#Ks, 4, "n + 1 couplings")
  eq(#gs, 3, "n free energies")
  near(Ks[2], 0.5 * math.log(math.cosh(1)), 1e-15, "first step")
end)

test("bad_input", function()
  local MK = rg.migdal_kadanoff()
  raises(function() rg.migdal_kadanoff { b = 1 } end, "rg.migdal_kadanoff: b must be an integer >= 2, got 1")
  raises(function() rg.decimation1d { field = true }:step(0.5) end,
    "rg.Recursion:step: this recursion has 2 couplings, got 0.5")
  -- no fixed point of the 1D chain away from 0 and infinity: Newton from
  -- K = 3 walks off to infinity
  raises(function() rg.decimation1d():fixed_point(3, { maxiter = 20 }) end,
    "rg.Recursion:fixed_point: Newton did not converge from K = 3 after 20 iterations")
  raises(function() MK:fixed_point("x") end,
    "rg.Recursion:fixed_point: couplings must be a number, a list or a tensor, got \"x\"")
  raises(function() MK:flow(0.3, -1) end, "rg.Recursion:flow: n must be an integer >= 0, got -1")
  raises(function() rg.recursion { map = 3 } end, "rg.recursion: map must be a function K -> K', g, got 3")
  raises(function() rg.recursion { map = function(K) return K, 0 end, b = 1 } end,
    "rg.recursion: b must be an integer >= 2, got 1")
end)

check.done()
