-- test_special.lua -- special functions against published values and
-- identities, dtypes, errors, and gradients (gradcheck and the closed
-- forms of the derivatives).
-- Values: classical constants (Abramowitz & Stegun tables, DLMF); the
-- values at less common points were computed with mpmath 1.2.1 at 30
-- digits (python3-mpmath, an arbitrary-precision library independent of
-- hebb) and are marked "mpmath".  Tolerances are relative, a few units of
-- 1e-16 times the function's condition number at the point.
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local test, eq, raises = check.test, check.eq, check.raises

local pi = math.pi
local EULER = 0.57721566490153286061

-- |f(x) - want| <= rtol |want| for a function name and a Lua number x
local function rel(name, x, want, rtol)
  local got = T[name](x):item()
  local err = math.abs(got - want)
  if not (err <= (rtol or 4e-16) * math.abs(want)) then
    error(string.format("%s(%.17g) = %.17g, want %.17g (rel. error %.2g)", name, x, got,
                        want, err / math.abs(want)), 2)
  end
end

test("gamma_lgamma", function()
  rel("gamma", 0.5, math.sqrt(pi))
  rel("gamma", 5, 24)
  rel("gamma", -2.5, -0.94530872048294188123, 1e-15)   -- mpmath
  rel("lgamma", 100, 359.13420536957539878)           -- ln 99!
  rel("lgamma", 1000, 5905.2204232091812118)          -- mpmath
  rel("lgamma", -2.5, -0.056243716497674050673, 1e-14) -- mpmath
  eq(T.gamma(0):item(), math.huge, "Gamma(0) = inf")
end)

test("digamma_trigamma", function()
  -- psi(1): the recurrence's sum (-2.83) and ln 10 (2.30) cancel to -0.58,
  -- a factor 5 on the rounding of either
  rel("digamma", 1, -EULER, 2e-15)
  rel("digamma", 0.5, -EULER - 2 * math.log(2), 2e-15)
  rel("digamma", -2.5, 1.1031566406452431872, 1e-15)   -- mpmath
  rel("digamma", 1e-3, -1000.5755719318102797)          -- mpmath
  rel("trigamma", 1, pi ^ 2 / 6)
  rel("trigamma", 0.5, pi ^ 2 / 2)
  rel("trigamma", -2.5, 9.5392466449891237539, 1e-15)  -- mpmath
  rel("trigamma", 30, 0.033895060357739944214)          -- mpmath
  -- recurrences psi(x+1) = psi(x) + 1/x, psi'(x+1) = psi'(x) - 1/x^2
  local x = T.linspace(0.1, 20, 50)
  local d = T.digamma(x + 1) - T.digamma(x) - 1 / x
  eq(d:abs():max() < 1e-13, true, "digamma recurrence")
  local t = T.trigamma(x + 1) - T.trigamma(x) + 1 / (x * x)
  eq(t:abs():max() < 1e-12, true, "trigamma recurrence")
  eq(T.digamma(-3):item() ~= T.digamma(-3):item(), true, "pole: NaN")
end)

test("erf_erfc", function()
  rel("erf", 1, 0.84270079294971486934)
  rel("erf", -0.5, -0.52049987781304653768)
  rel("erfc", 3, 2.2090496998585441373e-05)
  rel("erfc", 10, 2.0884875837625447570e-45, 1e-14)
  local x = T.linspace(-4, 4, 33)
  eq((T.erf(x) + T.erfc(x) - 1):abs():max() < 2e-16, true, "erf + erfc = 1")
end)

test("bessel_j_i", function()
  rel("bessel_j0", 1, 0.76519768655796655145)
  rel("bessel_j1", 1, 0.44005058574493351596)
  rel("bessel_j0", 10, -0.2459357644513483352, 1e-15)  -- mpmath
  rel("bessel_j1", 10, 0.04347274616886143667, 1e-14)  -- mpmath
  eq(math.abs(T.bessel_j0(2.4048255576957728):item()) < 1e-16, true, "first zero of J0")
  rel("bessel_i0", 1, 1.2660658777520083356)
  rel("bessel_i1", 1, 0.56515910399248502721)
  rel("bessel_i0", 10, 2815.7166284662544713)
  rel("bessel_i1", 10, 2670.9883037012546543)
  rel("bessel_i0", 30, 781672297823.97748972, 1e-15)   -- mpmath, asymptotic branch
  rel("bessel_i1", 50, 2.9030785901035567968e+20, 1e-15) -- mpmath
  rel("bessel_i1", -3, -3.9533702174026093965)          -- mpmath, odd
  -- the Wronskian-like identity at both sides of the series/asymptotic
  -- switch (x = 25): I0 and I1 are continuous there
  local lo, hi = T.bessel_i0(25 - 1e-9):item(), T.bessel_i0(25 + 1e-9):item()
  eq(math.abs(hi - lo) / lo < 1e-14 + 2e-9, true, "I0 continuous at 25")
  -- J0(x)^2 + 2 sum_k J_k(x)^2 = 1 needs all orders; instead the
  -- recurrence-free check J0'' + J0'/x + J0 = 0 via J0' = -J1, J1' = J0 - J1/x
  local x = T.linspace(0.5, 20, 40)
  local res = (T.bessel_j0(x) - T.bessel_j1(x) / x) - T.bessel_j1(x) / x + T.bessel_j0(x)
  local want = 2 * (T.bessel_j0(x) - T.bessel_j1(x) / x)
  eq((res - want):abs():max() < 1e-15, true, "J0 ODE rearranged")
end)

test("elliptic_k_e", function()
  rel("ellipk", 0.5, 1.8540746773013719184)
  rel("ellipe", 0.5, 1.3506438810476755025)
  rel("ellipk", 0, pi / 2)
  rel("ellipe", 0, pi / 2)
  rel("ellipk", 0.99, 3.6956373629898742386)   -- mpmath
  rel("ellipe", 0.99, 1.0159935450252239477)   -- mpmath
  rel("ellipk", -5, 0.95550392706404393374)    -- mpmath
  rel("ellipe", -5, 2.8301982463458773125)     -- mpmath
  rel("ellipe", 1 - 1e-12, 1.0000000000073509025)   -- mpmath: no cancellation
  eq(T.ellipk(1):item(), math.huge, "K(1) = inf")
  eq(T.ellipe(1):item(), 1, "E(1) = 1")
  eq(T.ellipk(1.5):item() ~= T.ellipk(1.5):item(), true, "m > 1: NaN")
  -- Legendre's relation E K' + E' K - K K' = pi/2 (K' = K(1 - m))
  local m = T.linspace(0.01, 0.99, 99)
  local K, Ek, K1, E1 = T.ellipk(m), T.ellipe(m), T.ellipk(1 - m), T.ellipe(1 - m)
  local leg = Ek * K1 + E1 * K - K * K1 - pi / 2
  eq(leg:abs():max() < 4e-15, true, "Legendre relation")
end)

test("zeta", function()
  rel("zeta", 2, pi ^ 2 / 6)
  rel("zeta", 4, pi ^ 4 / 90)
  rel("zeta", 3, 1.2020569031595942854)
  rel("zeta", 1.5, 2.6123753486854883433)      -- mpmath
  rel("zeta", 40, 1.0000000000009094948)       -- mpmath
  rel("zeta", 0.5, -1.4603545088095868129)
  rel("zeta", 0, -0.5)
  rel("zeta", -1, -1 / 12)
  rel("zeta", -7.5, 0.0032690395726002200217, 1e-14)   -- mpmath
  eq(T.zeta(-2):item(), 0, "trivial zero")
  eq(T.zeta(1):item(), math.huge, "pole")
end)

-- the derivatives autograd's rules of trigamma and zeta use
test("tetragamma_zeta_prime", function()
  rel("_tetragamma", 1, -2.4041138063191885708)            -- -2 zeta(3)
  rel("_tetragamma", 0.5, -16.828796644234319996)          -- -14 zeta(3)
  rel("_tetragamma", 19.5, -0.0027681678527467020616)     -- mpmath (both sides of x = 20)
  rel("_tetragamma", 30, -0.0011487652037285998440)       -- mpmath
  -- the recurrence subtracts 2/x^3 terms: a few ulps of cancellation
  rel("_tetragamma", 3, -0.15411380631918857080, 4e-15)   -- 2 + 1/4 - 2 zeta(3)
  rel("_tetragamma", -2.5, -0.10820405164172740300, 1e-14) -- mpmath
  rel("_tetragamma", -0.3, 67.639081199883160040, 1e-14)   -- mpmath
  eq(T._tetragamma(-2):item() ~= T._tetragamma(-2):item(), true, "pole: NaN")
  -- at s = 0 the sum's terms (-ln 11! = -17.5, then +16.6) are 20 times the result
  rel("_zeta_prime", 0, -0.91893853320467274178, 2e-15)    -- -ln(2 pi)/2
  rel("_zeta_prime", 2, -0.93754825431584375370, 1e-15)    -- mpmath
  rel("_zeta_prime", 3, -0.19812624288563685333)           -- mpmath
  rel("_zeta_prime", 0.5, -3.9226461392091517275)          -- mpmath
  rel("_zeta_prime", 0.99, -9999.9270873539462440, 1e-15)  -- mpmath (double pole at 1)
  rel("_zeta_prime", 40, -6.3041377863301422179e-13)       -- mpmath
  rel("_zeta_prime", 70, -5.8711849923113803958e-22)       -- mpmath (past the series)
  rel("_zeta_prime", -1, -0.16542114370045092921)          -- 1/12 - ln(Glaisher's A)
  rel("_zeta_prime", -2, -0.030448457058393270780, 1e-15)  -- -zeta(3)/(4 pi^2)
  rel("_zeta_prime", -7.5, 0.0043497876618448268243, 1e-14) -- mpmath
  rel("_zeta_prime", -20.5, 300.57792297065501029, 1e-14)  -- mpmath
  eq(T._zeta_prime(1):item(), -math.huge, "double pole at 1")
end)

test("dtypes_and_out", function()
  local f = T.tensor({ 0.5, 2 }, "f32")
  local r = T.gamma(f)
  eq(r.dtype, "f32", "f32 stays f32")
  eq(math.abs(r[1] - math.sqrt(pi)) < 1e-6, true, "f32 value")
  eq(T.lgamma(T.tensor({ 3, 4 })).dtype, "f64", "i64 gives f64")
  local o = T.zeros(2)
  T.erf(T.tensor({ 0., 1 }), { out = o })
  eq(o[2], T.erf(1):item(), "out")
  eq(f:digamma().dtype, "f32", "method form")
end)

test("errors", function()
  raises(function() T.gamma(T.complex(T.ones(2), T.ones(2))) end,
         "gamma: dtype c128 is not supported yet")
  raises(function() T.ellipk("x") end, "number expected")
end)

test("gradients", function()
  local function gc(f, x) eq(A.gradcheck(f, { x }), true, "gradcheck") end
  gc(T.gamma, T.tensor({ 0.7, 1.5, 3.2 }))
  gc(T.lgamma, T.tensor({ 0.7, 1.5, 3.2 }))
  gc(T.digamma, T.tensor({ 0.7, 1.5, 3.2 }))
  gc(T.erf, T.tensor({ -1.2, 0.1, 2 }))
  gc(T.erfc, T.tensor({ -1.2, 0.1, 2 }))
  gc(T.bessel_j0, T.tensor({ 0.3, 2, 7 }))
  gc(T.bessel_j1, T.tensor({ 0.3, 2, 7 }))
  -- (I0(30) = 8e11 would drown the finite differences of the others)
  gc(T.bessel_i0, T.tensor({ -2, 0.3, 8 }))
  gc(T.bessel_i1, T.tensor({ -2, 0.3, 8 }))
  gc(T.bessel_i1, T.tensor({ 30.0 }))
  gc(T.ellipk, T.tensor({ -2, 0.3, 0.9 }))
  gc(T.ellipe, T.tensor({ -2, 0.3, 0.9 }))
  gc(T.trigamma, T.tensor({ -1.5, 0.7, 3.2, 25 }))
  gc(T.zeta, T.tensor({ -3.5, -0.5, 0.3, 2, 4.5 }))
  -- at 0 the derivatives take their limits: J1'(0) = I1'(0) = 1/2,
  -- K'(0) = pi/8, E'(0) = -pi/8
  local z = T.zeros(1):requires_grad_()
  local g = A.grad(function(t) return (T.bessel_j1(t) + 2 * T.bessel_i1(t)
    + 4 * T.ellipk(t) + 8 * T.ellipe(t)):sum() end, z)
  check.near(g:view(-1):detach()[1], 0.5 + 1 + 4 * pi / 8 - 8 * pi / 8, 1e-15, "limits at 0")
  -- second derivative of lgamma = trigamma through the recorded rule
  local x = T.tensor({ 1.0 }):requires_grad_()
  local d1 = A.grad(function(t) return T.lgamma(t):sum() end, x, { create_graph = true })
  local d2 = A.grad(d1:sum(), x)
  check.near(d2:detach()[1], pi ^ 2 / 6, 1e-14, "lgamma'' (1) = pi^2/6")
  -- and digamma'' (1) = psi''(1) = -2 zeta(3), zeta''(0) one order too far
  local e1 = A.grad(function(t) return T.digamma(t):sum() end, x, { create_graph = true })
  check.near(A.grad(e1:sum(), x):detach()[1], -2.4041138063191886, 1e-14, "digamma'' (1)")
  local e2 = A.grad(function(t) return T.trigamma(t):sum() end, x, { create_graph = true })
  raises(function() A.grad(e2:sum(), x) end, "the derivative psi''' (the third derivative of digamma) is not implemented")
  local z1 = A.grad(function(t) return T.zeta(t):sum() end, x, { create_graph = true })
  raises(function() A.grad(z1:sum(), x) end, "the derivative zeta'' is not implemented")
end)

check.done()
