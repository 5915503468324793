-- test_rg_tensor.lua -- tensor RG of hebb.rg (_rg_tensor.lua): exactness
-- on small tori (TRG, BTRG, HOTRG 2D and 3D, Ising with a field, Potts,
-- impurities) against enumeration, R1-R4 against Onsager, u and c by
-- autodiff against finite differences, conformal data, the same bits at
-- 1 and 2 threads, and bad input.
local check = require "check"
local T = require "hebb.tensor"
local rg = require "hebb.rg"
local lattice = require "hebb.lattice"
local X = require "hebb.lattice_exact"
local hebb = require "hebb"
local test, eq, near, raises = check.test, check.eq, check.near, check.raises

local Kc = 0.5 * math.log(1 + math.sqrt(2))
local function rel(a, b) return math.abs(a - b) / math.abs(b) end

-- exact Z sums of a 4 x 4 periodic Ising torus, weight e^{K sum s s' + H
-- sum s}: <s_0>,
-- <s_0 s_(r,0)> for r = 1, 2 (plain Lua over 2^16 states, ~0.3 s)
local function torus4(K, H)
  local z, m, c1, c2 = 0, 0, 0, 0
  local s = {}
  for state = 0, (1 << 16) - 1 do
    for i = 0, 15 do s[i] = ((state >> i) & 1) * 2 - 1 end
    local e, mag = 0, 0
    for y = 0, 3 do
      for x = 0, 3 do
        local v = s[4 * y + x]
        e = e + v * (s[4 * y + (x + 1) % 4] + s[4 * ((y + 1) % 4) + x])
        mag = mag + v
      end
    end
    local w = math.exp(K * e + H * mag)
    z, m = z + w, m + w * s[0]
    c1, c2 = c1 + w * s[0] * s[1], c2 + w * s[0] * s[2]
  end
  return { lnz = math.log(z) / 16, m = m / z, c1 = c1 / z, c2 = c2 / z }
end

-- R1: 4 TRG steps are the 4 x 4 torus; with chi = 16 nothing is
-- truncated, so ln Z / N is exact to rounding (I6, 1e-10 asked; 1e-13 seen)
test("R1_trg_is_the_4x4_torus", function()
  near(rg.trg(rg.ising_tensor(Kc), { chi = 16, steps = 4 }).lnz, 0.970119716172205, 1e-12, "R1")
  near(rg.btrg(rg.ising_tensor(Kc), { chi = 16, steps = 4 }).lnz, 0.970119716172205, 1e-12, "BTRG")
  near(rg.hotrg(rg.ising_tensor(Kc), { chi = 16, steps = 4 }).lnz, 0.970119716172205, 1e-12, "HOTRG")
end)

-- a field, Potts, 2 x 2 tori and 3D: exact against enumeration whenever
-- chi keeps every singular value (rounding: 1e-12)
test("small_tori_against_enumeration", function()
  for _, c in ipairs { { 0.4, 0.3 }, { 0.2, -0.7 }, { 0.9, 0.05 } } do
    local e = X.enumerate(lattice.ising { L = 4, h = c[2] }, c[1])
    local A = rg.ising_tensor(c[1], { h = c[2] })
    near(rg.trg(A, { chi = 16, steps = 4 }).lnz, e.lnz, 1e-12, "TRG with h")
    near(rg.btrg(A, { chi = 16, steps = 4 }).lnz, e.lnz, 1e-12, "BTRG with h")
    near(rg.hotrg(A, { chi = 16, steps = 4 }).lnz, e.lnz, 1e-12, "HOTRG with h")
  end
  local J = X.enumerate(lattice.ising { L = 4, J = 0.5 }, 0.8)
  near(rg.trg(rg.ising_tensor(0.8, { J = 0.5 }), { chi = 16, steps = 4 }).lnz, J.lnz, 1e-12, "J")
  -- Potts q = 3 on 2 x 2 (the torus's doubled bonds: 2 steps, chi = 9)
  local p = X.enumerate(lattice.potts { L = 2, q = 3 }, 0.8)
  near(rg.trg(rg.potts_tensor(0.8, 3), { chi = 9, steps = 2 }).lnz, p.lnz, 1e-12, "Potts 2x2")
  -- Potts q = 2 is Ising at K / 2 plus e^{K/2} per bond (2 bonds a site)
  local q2 = rg.trg(rg.potts_tensor(0.9, 2), { chi = 8, steps = 12 }).lnz
  near(q2, rg.trg(rg.ising_tensor(0.45), { chi = 8, steps = 12 }).lnz + 0.9, 1e-12, "Potts q=2")
  -- 3D: 3 HOTRG steps are the 2 x 2 x 2 torus (each pair bonded twice)
  local e3 = X.enumerate(lattice.ising { L = 2, d = 3 }, 0.3)
  near(rg.hotrg3d(rg.ising_tensor3d(0.3), { chi = 16, steps = 3 }).lnz, e3.lnz, 1e-12, "3D 2x2x2")
end)

-- 3D HOTRG ----------------------------------------------------------------------------

-- the simple-cubic high-temperature series, v = tanh beta: ln Z/N = ln 2 +
-- 3 ln cosh beta + 3 v^4 + 22 v^6 + 375/2 v^8 + 1980 v^10 + 24044 v^12
-- (polygon counts per site); u = -d/d beta.  At beta = 0.15 the next
-- term of u is ~3e-5 and the terms fall by ~0.3, so 2e-4 bounds the tail.
local HT3 = { [4] = 3, [6] = 22, [8] = 375 / 2, [10] = 1980, [12] = 24044 }
local function ht3(beta)
  local v = math.tanh(beta)
  local f, d = math.log(2) + 3 * math.log(math.cosh(beta)), 0
  for n, a in pairs(HT3) do f, d = f + a * v ^ n, d + n * a * v ^ (n - 1) end
  return f, -(3 * v + d * (1 - v * v))
end

-- u = -d ln Z/N / d beta of chi = 5 or 6 by autodiff (rg.thermo).  A
-- central difference is not safe: ln Z/N at fixed chi jumps by ~1e-8
-- where two Gram eigenvalues cross at the cut (the kept subspace
-- switches), and h = 1e-4 once gave u 5e-4 off at beta = 0.25.  The
-- wrong bookkeepings below are O(0.01 - 1) off, so h = 1e-3 is fine there.
local function val(x) return type(x) == "number" and x or x:item() end
local function u3(beta, chi, steps, lnz_of)
  if not lnz_of then
    return rg.thermo(beta, { method = "hotrg3d", chi = chi, steps = steps, order = 1 }).u
  end
  local function f(b) return lnz_of(rg.hotrg3d(rg.ising_tensor3d(b), { chi = chi, steps = steps })) end
  local h = 1e-3
  return -(f(beta + h) - f(beta - h)) / (2 * h)
end

-- Metropolis on an L^3 torus, 8 replicas (from the ordered state below
-- T_c: a random start can freeze into domains), the energy per site
-- averaged over the replicas after every sweep: its mean and the error
-- corrected for autocorrelation (stats.mean_error, Sokal's window)
local function mc_u(beta, L, sweeps, seed)
  local stats = require "hebb.stats"
  local lat = lattice.ising { L = L, d = 3 }
  local g = T.Generator(seed)
  local s = beta > 0.2217 and lat:ordered(8) or lat:random(8, { generator = g })
  lat:metropolis(s, beta, { sweeps = 200, generator = g })
  local es = {}
  for i = 1, sweeps do
    lat:metropolis(s, beta, { sweeps = 1, generator = g })
    es[i] = (lat:energy(s) / lat.N):mean():item()
  end
  local m, err = stats.mean_error(es)
  return m, err
end

-- the exact high-temperature limit: HOTRG's ln Z/N is the series up to a
-- truncation deficit of order v^4 (a fixed chi cannot keep every state a
-- plaquette straddling two blocks needs: chi = 6 loses 0.25 v^4 of the 3
-- v^4; see docs/rg.md), so at beta = 0.05 the bookkeeping is checked to
-- 2e-6 where a wrong normalization would be off by O(1)
test("hotrg3d_against_the_high_temperature_series", function()
  local b = 0.05
  local f, v = ht3(b), math.tanh(b)
  local last = math.huge
  for _, chi in ipairs { 2, 4, 6 } do
    local r = rg.hotrg3d(rg.ising_tensor3d(b), { chi = chi, steps = 16 })
    local deficit = (f - r.lnz:item()) / v ^ 4
    check.ok("chi = " .. chi .. ": deficit in (0, 2) v^4", deficit > 0 and deficit < 2, deficit)
    check.ok("the deficit falls with chi", deficit < last, deficit)
    last = deficit
    if chi == 6 then near(r.lnz:item(), f, 0.3 * v ^ 4, "chi = 6 within 0.3 v^4") end
  end
end)

-- u against Monte Carlo (L = 10, 8 x 2000 Metropolis sweeps, ~0.6 s
-- each; the runs are seeded, so each comparison is fixed and reproducible;
-- 3 sigma is the criterion).  Away from beta_c chi = 6 agrees within 3
-- sigma with nothing added, on both sides: beta = 0.1 (disordered; the v^4
-- deficit below is 1e-4 in u there, under sigma ~ 5e-4) and beta = 0.35
-- (ordered; measured with seed 13: z = 1.4 and -0.1, and at beta = 0.05
-- and 0.5 z = 0.9 and 0.6).  Deep in the ordered phase (beta = 0.4) chi =
-- 5 agrees within 3 sigma with nothing added (-2.88302 against a long
-- run of -2.88276 +- 0.00015).  At beta = 0.3 the stated chi = 5
-- truncation error is added: chi = 5, 6, 7, 8 give -2.52122, -2.52071,
-- -2.52024, -2.52018 against a long run (L = 12, 8 x 6000 sweeps) of
-- -2.51851 +- 0.00041, so chi = 5 is 2.7e-3 off (+ 2 sigma of that run:
-- 0.0035).  Disordered phase (beta = 0.15): chi =
-- 6 misses 0.8% of u (the v^4 deficit above); that error is bounded by
-- the exact series in the test itself (0 < u_chi - u_HT < 0.006), and the
-- MC is checked against the same series within 3 sigma + the tail, so
-- |u_HOTRG - u_MC| <= 3 sigma + 0.0062.  A deliberately wrong bookkeeping
-- (dropping the first normalization ln c_0, or weighting ln c_k by
-- 2^-(k+1)) is rejected by the same comparison.  Near beta_c (0.2 to
-- 0.25) chi <= 8 is 0.5-2% off; docs/rg.md has the table.
test("hotrg3d_energy_against_monte_carlo", function()
  for _, c in ipairs { { 0.1, 6, 0 }, { 0.35, 6, 0 }, { 0.4, 5, 0 }, { 0.3, 5, 0.0035 } } do
    local b, chi, trunc = c[1], c[2], c[3]
    local um, sig = mc_u(b, 10, 2000, 11)
    local uh = u3(b, chi, 20)
    check.ok(("beta = %g: |u_HOTRG - u_MC| <= 3 sigma + %g"):format(b, trunc),
      math.abs(uh - um) <= 3 * sig + trunc, ("%.5f vs %.5f +- %.5f"):format(uh, um, sig))
    if b == 0.4 then
      -- wrong bookkeeping, same runs: far outside the error bars
      local function no_c0(r) return val(r.lnz) - val(r.norms[1]) end
      local function half(r)
        local x = val(r.lnz)
        for k = 1, r.steps do x = x - val(r.norms[k + 1]) / 2 ^ (k + 1) end
        return x
      end
      for name, wrong in pairs { no_c0 = no_c0, half = half } do
        local uw = u3(b, chi, 20, wrong)
        check.ok("wrong bookkeeping " .. name .. " is rejected", math.abs(uw - um) > 10 * sig,
          ("%.5f vs %.5f +- %.5f"):format(uw, um, sig))
      end
    end
  end
  local b = 0.15
  local _, uht = ht3(b)
  local um, sig = mc_u(b, 10, 2000, 12)
  local uh = u3(b, 6, 16)
  near(um, uht, 3 * sig + 2e-4, "beta = 0.15: MC against the series")
  check.ok("beta = 0.15: chi = 6's truncation error in (0, 0.006)", uh - uht > 0 and uh - uht < 0.006, uh - uht)
  near(uh, um, 3 * sig + 0.0062, "beta = 0.15: HOTRG against MC with the stated truncation")
end)

-- impurities on the 4 x 4 torus against the sums over its 2^16 states
test("impurities_against_the_4x4_torus", function()
  local K, h = 0.35, 0.2
  local ex = torus4(K, K * h)    -- beta = K, J = 1: the field is beta h
  local A, S = rg.ising_tensor(K, { h = h }), rg.impurity_tensor(K, { h = h })
  near(rg.hotrg(A, { chi = 16, steps = 4, impurity = S }).value:item(), ex.m, 1e-12, "<s>")
  near(rg.hotrg(A, { chi = 16, steps = 4, pair = { S, S, 0 } }).value:item(), ex.c1, 1e-12, "<s0 s1>")
  near(rg.hotrg(A, { chi = 16, steps = 4, pair = { S, S, 1 } }).value:item(), ex.c2, 1e-12, "<s0 s2>")
  -- the infinite lattice below T_c in a tiny field: Yang's magnetization
  -- (HOTRG chi = 8, 40 steps: 2.5e-5 off, chi's truncation; 1e-4 asked)
  local K2 = 0.5
  local m = rg.hotrg(rg.ising_tensor(K2, { h = 1e-8 }), { chi = 8, steps = 40,
    impurity = rg.impurity_tensor(K2, { h = 1e-8 }) }).value:item()
  near(m, X.onsager_magnetization(K2), 1e-4, "Yang")
end)

-- R2, R3 at chi = 8 (the chi = 16, 24 rows are in examples/rg_flow.lua)
test("R2_R3_against_onsager", function()
  local exact = X.onsager_lnz(Kc)
  near(exact, 0.929695398341610, 1e-12, "I2")
  local A = rg.ising_tensor(Kc)
  local r = rg.trg(A, { chi = 8, steps = 30 })
  assert(rel(r.lnz, exact) < 1.5e-4, "R2 chi = 8: " .. rel(r.lnz, exact))
  assert(rel(r.lnz, exact) > 1e-6, "chi = 8 truncates")
  assert(rel(rg.btrg(A, { chi = 8, steps = 30 }).lnz, exact) < rel(r.lnz, exact), "BTRG beats TRG")
  local h = rg.hotrg(A, { chi = 8, steps = 40 })
  assert(rel(h.lnz, exact) < 3e-5, "R3 chi = 8: " .. rel(h.lnz, exact))
  eq(#r.discarded, 30, "a discarded weight per step")
  -- the relative discarded weight peaks near step 10 (4e-3 at chi = 8) and
  -- vanishes once the tensor has flowed to the fixed point (< 1e-20)
  assert(r.discarded[10] > 1e-4 and r.discarded[10] < 1e-2, "discarded weight at step 10")
  assert(r.discarded[30] < 1e-20, "discarded weight at step 30")
  eq(#r.norms, 31, "a norm per tensor")
end)

-- u and c by autodiff through the truncated SVDs against central
-- differences of the same run's ln Z (step 1e-4 in beta: the difference's
-- error is ~2e-8 on u (it scales as the step squared: 1.8e-6 at 1e-3),
-- ~1e-5 on c), and R4 (u at T = 2 within 1e-4 with chi = 16: 1.9e-5 off)
test("thermo_by_autodiff", function()
  local opts = { chi = 8, steps = 20 }
  local function lnz(b) return rg.trg(rg.ising_tensor(b), opts).lnz end
  local b, d = 0.3, 1e-4
  local th = rg.thermo(b, opts)
  near(th.lnz, lnz(b), 1e-14, "lnz")
  near(th.u, -(lnz(b + d) - lnz(b - d)) / (2 * d), 1e-7, "u")
  near(th.c, b * b * (lnz(b + d) - 2 * lnz(b) + lnz(b - d)) / (d * d), 1e-4, "c")
  local hot = rg.thermo(b, { chi = 8, steps = 20, method = "hotrg", order = 1 })
  local function lnzh(x) return rg.hotrg(rg.ising_tensor(x), opts).lnz end
  near(hot.u, -(lnzh(b + d) - lnzh(b - d)) / (2 * d), 1e-7, "HOTRG u")
  near(rg.thermo(0.5, { chi = 16, steps = 30, order = 1 }).u, -1.7455645753, 1e-4, "R4")
  -- a tracked beta: lnz carries the graph
  local bt = T.tensor(0.3):requires_grad_()
  local r = rg.trg(rg.ising_tensor(bt), { chi = 4, steps = 6 })
  assert(T.is_tensor(r.lnz) and r.lnz.requires_grad, "lnz tracked")
end)

-- Gu-Wen: at T_c, the bulk free energy divided out with Onsager's, L = 4
-- and 8 give c = 1/2 and the dimensions 1/8, 1, 9/8 up to the lattice
-- corrections seen (c: 0.0047, 0.0007; sigma 8e-4, 2e-4; epsilon 0.013,
-- 0.002; d sigma 0.047, 0.011)
test("conformal_data_at_tc", function()
  local cf = rg.conformal(rg.ising_tensor(Kc), { chi = 16, steps = 8, lnz = X.onsager_lnz(Kc) })
  eq(#cf, 4, "steps 2, 4, 6, 8")
  for i = 2, 3 do
    local o = cf[i]
    near(o.c, 0.5, 0.006, "c at L = " .. o.size)
    near(o.dims[1], 0.125, 0.001, "sigma")
    near(o.dims[2], 1, 0.015, "epsilon")
    near(o.dims[3], 1.125, 0.05, "d sigma")
  end
  eq(cf[3].size, 8, "L at step 6")
end)

test("same_bits_at_1_and_2_threads", function()
  local old = hebb.threads()
  local out = {}
  for i, n in ipairs { 1, 2 } do
    hebb.threads(n)
    out[i] = { rg.trg(rg.ising_tensor(Kc), { chi = 12, steps = 12 }).lnz,
      rg.hotrg(rg.ising_tensor(Kc), { chi = 8, steps = 12 }).lnz,
      -- chi = 8 from step 3 on: the contraction runs on slabs
      rg.hotrg3d(rg.ising_tensor3d(0.22), { chi = 8, steps = 5 }).lnz }
  end
  hebb.threads(old)
  eq(out[1][1], out[2][1], "TRG")
  eq(out[1][2], out[2][2], "HOTRG")
  eq(out[1][3], out[2][3], "HOTRG 3D")
end)

test("bad_input", function()
  local A = rg.ising_tensor(0.4)
  raises(function() rg.trg(A, { chi = 0, steps = 3 }) end, "rg.trg: chi must be an integer >= 1, got 0")
  raises(function() rg.trg(A, { chi = 4, steps = -1 }) end, "rg.trg: steps must be an integer >= 0, got -1")
  raises(function() rg.trg(A, { chi = 4, steps = 2, chj = 3 }) end, "rg.trg: unknown option \"chj\"")
  raises(function() rg.trg(T.ones(2, 2, 2), { chi = 4, steps = 2 }) end,
    "rg.trg: the local tensor must have rank 4 (legs left, up, right, down), got shape {2, 2, 2}")
  raises(function() rg.trg(T.ones(2, 3, 4, 3), { chi = 4, steps = 2 }) end,
    "rg.trg: left and right legs, and up and down legs, must have equal dimensions")
  raises(function() rg.hotrg(T.ones(2, 3, 2, 3), { chi = 4, steps = 2 }) end,
    "rg.hotrg: HOTRG needs equal bond dimensions on all legs")
  raises(function() rg.hotrg3d(A, { chi = 4, steps = 2 }) end, "rg.hotrg3d: the local tensor must have rank 6")
  raises(function() rg.ising_tensor(-1) end, "rg.ising_tensor: beta must be >= 0, got -1")
  raises(function() rg.ising_tensor(0 / 0) end, "rg.ising_tensor: beta must be >= 0, got nan")
  raises(function() rg.ising_tensor(0.4, { J = -1 }) end, "rg.ising_tensor: J must be a number >= 0")
  raises(function() rg.potts_tensor(0.4, 1) end, "rg.potts_tensor: q must be an integer >= 2, got 1")
  raises(function() rg.trg(T.zeros(2, 2, 2, 2), { chi = 4, steps = 2 }) end, "rg.trg: the tensor's norm is 0")
  raises(function() rg.hotrg(A, { chi = 4, steps = 3, pair = { A, A, 1 } }) end,
    "rg.hotrg: distance 2^1 needs at least 4 steps, got 3")
  raises(function() rg.thermo(0.4, { chi = 4, steps = 2, method = "tnr" }) end,
    "rg.thermo: method must be trg, btrg, hotrg or hotrg3d, got \"tnr\"")
  raises(function() rg.conformal(A, { chi = 4, steps = 2, width = 3 }) end, "rg.conformal: width must be 1 or 2, got 3")
end)

check.done()
