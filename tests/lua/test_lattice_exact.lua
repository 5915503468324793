-- test_lattice_exact.lua -- hebb.lattice_exact: the REFERENCE values
-- I1-I9, and three independent exact methods (enumeration of all states,
-- the row transfer matrix, Kaufman's formula) agreeing to 1e-12; Onsager's
-- closed forms against each other (the specific heat against autograd's
-- derivative of the energy through T.ellipk); the 1D closed forms against
-- enumeration; bad input.
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local lattice = require "hebb.lattice"
local X = require "hebb.lattice_exact"
local test, eq, near, raises = check.test, check.eq, check.near, check.raises

test("I1_critical_point", function()
  near(X.Kc, 0.44068679350977151, 1e-16, "Kc")
  near(X.Tc, 2.269185314213022, 1e-15, "Tc")
  eq(lattice.exact, X, "lattice.exact is this module")
end)

test("I2_to_I5_onsager", function()
  near(X.onsager_lnz(X.Kc), 0.929695398341610, 1e-12, "I2 ln Z/N at Kc")
  near(X.onsager_lnz(1 / 2.0), 1.025792812695, 1e-10, "I3 T = 2")
  near(X.onsager_lnz(1 / 2.5), 0.879363820775, 1e-10, "I3 T = 2.5")
  near(X.onsager_lnz(1 / 3.0), 0.815882731858, 1e-10, "I3 T = 3")
  near(X.onsager_energy(X.Kc), -math.sqrt(2), 1e-12, "I4 u at Kc")
  near(X.onsager_energy(0.5), -1.7455645753, 1e-10, "I4 u at T = 2")
  near(X.onsager_magnetization(0.5), 0.9113193779, 1e-10, "I5 m at T = 2")
  eq(X.onsager_magnetization(0.4), 0, "no magnetization above Tc")
  eq(X.onsager_specific_heat(X.Kc), math.huge, "c diverges at Tc")
  -- I2 in closed form: ln 2 / 2 + 2 G / pi, G = Catalan's constant
  near(X.onsager_lnz(X.Kc), math.log(2) / 2 + 2 * 0.91596559417721901505 / math.pi, 1e-14, "Catalan")
end)

test("onsager_specific_heat_is_minus_beta2_du_dbeta", function()
  -- u(b) written with tensors, differentiated by autograd through ellipk
  local function u(b)
    local t = T.tanh(2 * b)
    local k = 2 * T.sinh(2 * b) / T.cosh(2 * b) ^ 2
    return -(1 / t) * (1 + 2 / math.pi * (2 * t * t - 1) * T.ellipk(k * k))
  end
  for _, beta in ipairs({ 0.2, 0.35, 0.43, 0.46, 0.6 }) do
    local b = T.tensor({ beta }):requires_grad_()
    local du = A.grad(function(x) return u(x):sum() end, b)
    near(X.onsager_specific_heat(beta), -beta ^ 2 * du:detach()[1], 1e-11, "c at beta " .. beta)
    near(u(T.tensor({ beta })):item(), X.onsager_energy(beta), 1e-14, "u at beta " .. beta)
  end
  -- and u = -d(ln Z/N)/d beta by a 4th-order central difference of
  -- Onsager's integral (error h^4 ~ 1e-12)
  local h, b = 1e-3, 0.3
  local d = (-X.onsager_lnz(b + 2 * h) + 8 * X.onsager_lnz(b + h) - 8 * X.onsager_lnz(b - h)
            + X.onsager_lnz(b - 2 * h)) / (12 * h)
  near(-d, X.onsager_energy(b), 1e-10, "u = -d lnz / d beta")
end)

test("I6_I7_kaufman_4x4", function()
  near(X.kaufman(4, 4, X.Kc).lnz, 0.970119716172205, 1e-12, "I6")
  near(X.kaufman(4, 4, 0.5).lnz, 1.069085444921, 1e-10, "I7")
  near(X.enumerate(lattice.ising{ L = 4 }, X.Kc).lnz, 0.970119716172205, 1e-12, "I6 by enumeration")
end)

test("I8_by_enumeration", function()
  local r = X.enumerate(lattice.ising{ L = 4 }, X.Kc)
  near(r.e, -1.5656237876, 1e-10, "e")
  near(r.m, 0.8438604448, 1e-10, "<|m|>")
  near(r.binder, 0.6171993184, 1e-10, "U4")
end)

test("I9_kaufman_16x16", function()
  near(X.kaufman(16, 16, 1 / 3).e, -0.8176893679, 1e-10, "T = 3")
  near(X.kaufman(16, 16, 0.5).e, -1.7455306690, 1e-10, "T = 2")
end)

-- enumeration, transfer matrix and Kaufman: three methods, one answer to
-- 1e-12 (chi relative to its size: beta <M^2>/N reaches ~10 here).  The
-- enumeration keeps its energy moments about the lowest energy, so the
-- variance in c is not a difference of two numbers near E^2 ~ 900.
test("enumeration_transfer_kaufman_agree", function()
  for _, c in ipairs({ { 4, 4 }, { 3, 5 }, { 5, 3 }, { 4, 5 }, { 2, 6 }, { 4, 2 } }) do
    local L, M = c[1], c[2]
    local lat = lattice.ising{ shape = { M, L } }
    for _, beta in ipairs({ 0.05, 0.3, X.Kc, 0.7, 1.5 }) do
      local k, t, e = X.kaufman(L, M, beta), X.transfer(L, M, beta), X.enumerate(lat, beta)
      local what = string.format("%dx%d at beta %.3f", L, M, beta)
      near(k.lnz, e.lnz, 1e-12, what .. " lnz K-E")
      near(t.lnz, e.lnz, 1e-12, what .. " lnz T-E")
      near(k.e, e.e, 1e-12, what .. " e K-E")
      near(t.e, e.e, 1e-12, what .. " e T-E")
      near(k.c, t.c, 1e-12, what .. " c K-T")
      near(k.c, e.c, 1e-12, what .. " c K-E")
      near(t.chi, e.chi, 1e-12 * math.max(1, math.abs(e.chi)), what .. " chi T-E")
    end
  end
  -- larger: transfer matrix (L = 8) against Kaufman
  for _, beta in ipairs({ 0.3, X.Kc, 0.6 }) do
    local k, t = X.kaufman(8, 8, beta), X.transfer(8, 8, beta)
    near(k.lnz, t.lnz, 1e-12, "8x8 lnz")
    near(k.e, t.e, 1e-12, "8x8 e")
    near(k.c, t.c, 1e-11, "8x8 c")
  end
end)

test("kaufman_tends_to_onsager", function()
  -- away from Tc the finite-size corrections are exponentially small,
  -- except that below Tc the torus has two ordered states: Z -> 2 Z, so
  -- ln Z/N carries ln 2 / N
  for _, beta in ipairs({ 0.25, 0.6 }) do
    local k = X.kaufman(128, 128, beta)
    local two = beta > X.Kc and math.log(2) / 128 ^ 2 or 0
    near(k.lnz - two, X.onsager_lnz(beta), 1e-12, "lnz")
    near(k.e, X.onsager_energy(beta), 1e-11, "e")
    near(k.c, X.onsager_specific_heat(beta), 1e-9, "c")
  end
  eq(X.kaufman(64, 32, X.Kc).c > X.kaufman(16, 8, X.Kc).c, true, "c grows with L at Tc")
end)

test("ising1d", function()
  local beta = 0.7
  local inf = X.ising1d(math.huge, beta)
  near(inf.lnz, math.log(2 * math.cosh(beta)), 1e-15, "lnz")
  near(inf.e, -math.tanh(beta), 1e-15, "e")
  near(inf.c, beta ^ 2 / math.cosh(beta) ^ 2, 1e-14, "c")
  near(inf.chi, beta * math.exp(2 * beta), 1e-13, "chi")
  -- the ring in a field against enumeration
  for _, h in ipairs({ 0, 0.3, -1.1 }) do
    local ring = X.ising1d(10, beta, h)
    local e = X.enumerate(lattice.ising{ shape = { 10 }, h = h }, beta)
    near(ring.lnz, e.lnz, 1e-13, "ring lnz, h = " .. h)
    near(ring.e, e.e, 1e-13, "ring e, h = " .. h)
    near(ring.m, e.M / 10, 1e-13, "ring m, h = " .. h)
    near(ring.c, e.c, 1e-12, "ring c, h = " .. h)
  end
  -- m(h) of the chain: sinh(bh) / sqrt(sinh^2(bh) + e^{-4b})
  local m = X.ising1d(math.huge, beta, 0.2).m
  near(m, math.sinh(beta * 0.2) / math.sqrt(math.sinh(beta * 0.2) ^ 2 + math.exp(-4 * beta)), 1e-14, "chain m(h)")
end)

test("potts_and_general_enumeration", function()
  -- the q-state Potts ring: Z = (e^b + q - 1)^N + (q - 1)(e^b - 1)^N
  local q, N, beta = 3, 7, 0.8
  local r = X.enumerate(lattice.potts{ shape = { N }, q = q }, beta)
  local lnZ = math.log((math.exp(beta) + q - 1) ^ N + (q - 1) * (math.exp(beta) - 1) ^ N)
  near(r.lnZ, lnZ, 1e-12, "Potts ring")
  -- an open chain with random couplings: Z = 2 prod_b 2 cosh(b J_b)
  local J = T.randn(1, 9)
  local chain = lattice.ising{ shape = { 9 }, periodic = false, J = J }
  local want = math.log(2)
  for i = 1, 8 do want = want + math.log(2 * math.cosh(beta * J[1][i])) end
  near(X.enumerate(chain, beta).lnZ, want, 1e-12, "open chain, random J")
  -- several temperatures at once, and the same bits at 1 and 2 threads
  local hebb = require "hebb"
  local lat = lattice.ising{ shape = { 4, 5 } }
  local old = hebb.threads()
  hebb.threads(1)
  local a = X.enumerate(lat, { 0.2, 0.4 })
  hebb.threads(2)
  local b = X.enumerate(lat, { 0.2, 0.4 })
  hebb.threads(old)
  eq(a[2].E == b[2].E and a[1].M2 == b[1].M2 and a[2].lnZ == b[2].lnZ, true, "identical")
end)

test("errors", function()
  raises(function() X.kaufman(1, 4, 0.3) end, "exact.kaufman: L must be an integer >= 2, got 1")
  raises(function() X.kaufman(4, 4, -0.3) end, "exact.kaufman: beta = -0.3 < 0 (a negative temperature)")
  raises(function() X.transfer(12, 4, 0.3) end, "exact.transfer: L = 12; the row transfer matrix is 2^L x 2^L")
  raises(function() X.onsager_energy("hot") end, "exact.onsager_energy: beta must be a finite number, got \"hot\"")
  raises(function() X.ising1d(1, 0.3) end, "exact.ising1d: N must be an integer >= 2 or math.huge")
  raises(function() X.enumerate(lattice.xy{ L = 2 }, 0.3) end, "enumerate: O(n) spins are continuous")
  raises(function() X.enumerate({}, 0.3) end, "exact.enumerate: the first argument must be a lattice")
end)

check.done()
