-- test_numeric.lua -- hebb.numeric: Gauss-Legendre rules (exact degree,
-- published nodes), adaptive quadrature (closed-form integrals, infinite
-- ranges, endpoint singularities, honest error estimates), dblquad, Brent
-- root finding and minimization, and errors.
local check = require "check"
local T = require "hebb.tensor"
local N = require "hebb.numeric"
local test, eq, near, raises = check.test, check.eq, check.near, check.raises

test("gauss_legendre_exact_to_degree_2n_minus_1", function()
  for _, n in ipairs({ 1, 2, 5, 12, 40 }) do
    local x, w = N.gauss_legendre(n)
    for k = 0, 2 * n - 1 do   -- int_-1^1 x^k = 2/(k+1) for even k, 0 for odd
      local want = k % 2 == 0 and 2 / (k + 1) or 0
      near((x ^ k * w):sum(), want, 2e-15, string.format("n=%d, x^%d", n, k))
    end
  end
  -- the 5-point nodes and weights (A&S table 25.4)
  local x, w = N.gauss_legendre(5)
  near(x[5], 0.906179845938664, 1e-15, "x5")
  near(x[4], 0.538469310105683, 1e-15, "x4")
  near(w[5], 0.236926885056189, 1e-15, "w5")
  near(w[3], 0.568888888888889, 1e-15, "w3")
  local xa, wa = N.gauss_legendre(1000, 0, math.pi)
  near((xa:sin() * wa):sum(), 2, 1e-13, "n = 1000 on [0, pi]")
  near(wa:sum(), math.pi, 1e-13, "weights sum to the length")
end)

test("fixed_quad", function()
  near(N.fixed_quad(math.exp, 0, 1, 12), math.exp(1) - 1, 1e-15, "exp")
end)

-- a tensor integrand on gauss_legendre's nodes is differentiable in its
-- parameters: I(a) = int_0^1 e^{a x} dx = (e^a - 1)/a, I'(a) = ((a - 1) e^a + 1)/a^2
test("gauss_legendre_integrals_differentiate", function()
  local A = require "hebb.autograd"
  local x, w = N.gauss_legendre(16, 0, 1)
  local a = T.tensor({ 0.7 }):requires_grad_()
  local g = A.grad(function(p) return (w * (x * p):exp()):sum() end, a)
  local v = 0.7
  -- 16 points integrate x e^{ax} to rounding (its Taylor terms past degree 31 are < 1e-35)
  near(g:detach()[1], ((v - 1) * math.exp(v) + 1) / (v * v), 1e-15, "dI/da")
end)

test("quad_closed_forms", function()
  local v, err, info = N.quad(function(x) return x ^ 13 end, 0, 1)
  near(v, 1 / 14, 1e-16, "x^13")
  eq(info.intervals, 1, "G7 and K15 are both exact for degree 13: one interval")
  near(N.quad(math.sin, 0, math.pi), 2, 1e-14, "sin")
  near(N.quad(function(x) return math.exp(-x * x) end, -math.huge, math.huge), math.sqrt(math.pi), 1e-12, "Gaussian")
  near(N.quad(function(x) return math.exp(-x) end, 1, math.huge), math.exp(-1), 1e-13, "[1, inf)")
  near(N.quad(function(x) return math.exp(x) end, -math.huge, 0), 1, 1e-13, "(-inf, 0]")
  near(N.quad(function(x) return math.cos(50 * x) end, 0, 1), math.sin(50) / 50, 1e-13, "oscillatory")
  near(N.quad(math.sin, math.pi, 0), -2, 1e-14, "reversed limits")
  -- an integrable singularity: the error estimate must cover the error
  local s, e = N.quad(function(x) return 1 / math.sqrt(x) end, 0, 1)
  eq(math.abs(s - 2) <= e, true, "1/sqrt(x): |error| <= estimate")
  near(s, 2, 1e-10, "1/sqrt(x)")
  local l, le = N.quad(math.log, 0, 1, { abs_tol = 1e-14, rel_tol = 1e-14 })
  eq(math.abs(l + 1) <= le, true, "log: |error| <= estimate")
end)

test("dblquad", function()
  near(N.dblquad(function(x, y) return x * y end, 0, 1, 0, function(x) return x end), 1 / 8, 1e-15, "triangle")
  near(N.dblquad(function(x, y) return math.exp(-x * x - y * y) end, -math.huge, math.huge,
                 -math.huge, math.huge), math.pi, 1e-10, "2-d Gaussian")
end)

-- root's documented accuracy: within tol + 4.4e-16 |x| of a sign change
local RTOL = 1e-15 + 4.4e-16 * 1.3
test("root", function()
  local r, it = N.root(function(x) return math.cos(x) - x end, 0, 1)
  near(r, 0.73908513321516064, RTOL, "Dottie number")
  eq(it < 12, true, "superlinear: " .. it .. " iterations")
  near(N.root(function(x) return x ^ 3 - 2 end, 0, 3), 2 ^ (1 / 3), RTOL, "cube root")
  eq(N.root(function(x) return x end, 0, 1), 0, "root at an end")
  raises(function() N.root(function(x) return x * x + 1 end, -1, 1) end,
         "numeric.root: f(a) and f(b) have the same sign")
end)

test("minimize", function()
  local x, fx = N.minimize(function(t) return (t - 2) ^ 2 + 1 end, 0, 5)
  near(x, 2, 1e-8, "parabola")
  near(fx, 1, 1e-15, "minimum value")
  local xc = N.minimize(function(t) return math.cosh(t - 0.3) + 0.1 * t ^ 4 end, -3, 3, { tol = 1e-10 })
  -- stationarity: sinh(x - 0.3) + 0.4 x^3 = 0
  near(math.sinh(xc - 0.3) + 0.4 * xc ^ 3, 0, 1e-8, "derivative vanishes")
end)

test("errors", function()
  raises(function() N.quad("f", 0, 1) end, "numeric.quad: f must be a function, got \"f\"")
  raises(function() N.quad(math.sin, 0, 1, { tol = 1 }) end, "numeric.quad: unknown option \"tol\"")
  raises(function() N.quad(function() return "x" end, 0, 1) end, "returned \"x\", not a number")
  raises(function() N.quad(function(x) return 1 / x end, 0, 1, { max_intervals = 50 }) end,
         "numeric.quad: no convergence after 50 intervals")
  raises(function() N.quad(function(x) return 1 / x end, -1, 1) end,
         "numeric.quad: f is not finite on [-1, 1]")
  raises(function() N.gauss_legendre(0) end, "numeric.gauss_legendre: n = 0 points; needs at least 1")
  raises(function() N.root(math.sin, 0 / 0, 1) end, "numeric.root: a must be a number, got ")
end)

check.done()
