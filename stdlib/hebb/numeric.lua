-- numeric.lua -- the module `hebb.numeric`: integrals, roots and minima of
-- functions of one real variable given as Lua functions.
--
-- One module for the three because they share a calling pattern (a Lua
-- function f(x) -> number, an interval, tolerances in an options table)
-- and the same user (an exact result to be evaluated, a critical point to
-- be located); tensor-valued numerics live in hebb.tensor.
--   gauss_legendre  fixed rules of any order (nodes in C, numeric.c)
--   quad            adaptive Gauss-Kronrod (7-point Gauss, 15-point
--                   Kronrod; the interval with the largest error estimate
--                   is bisected until the total estimate meets the
--                   tolerance); infinite ends by a change of variables
--   dblquad         iterated quad over x and y(x)
--   root            Brent's method on a bracket (Brent 1973, ch. 4)
--   minimize        Brent's parabolic interpolation + golden section
--                   (Brent 1973, ch. 5)
local C = require "hebb._numeric"
local E = require "hebb._error"
local doc = require("hebb").doc

local M = {}
local abs, sqrt, huge, max, min = math.abs, math.sqrt, math.huge, math.max, math.min

local function check_fn(who, f)
  if type(f) ~= "function" and not (getmetatable(f) or {}).__call then
    E.raise("%s: f must be a function, got %s", who, E.show(f))
  end
end

local function check_num(who, v, what)
  if type(v) ~= "number" or v ~= v then E.raise("%s: %s must be a number, got %s", who, what, E.show(v)) end
end

-- f a function and a, b numbers (the arguments of quad, root, minimize)
local function check_args(who, f, a, b)
  check_fn(who, f)
  check_num(who, a, "a")
  check_num(who, b, "b")
end

-- f(x) as a finite-or-not number; a non-number result is an error
local function call(who, f, x)
  local y = f(x)
  if type(y) ~= "number" then
    if type(y) == "userdata" and y.item then return y:item() end
    E.raise("%s: f(%.17g) returned %s, not a number", who, x, E.show(y))
  end
  return y
end

-- --- Gauss-Legendre --------------------------------------------------------

function M.gauss_legendre(n, a, b)
  if math.type(n) ~= "integer" then E.raise("numeric.gauss_legendre: n must be an integer, got %s", E.show(n)) end
  if n < 1 then E.raise("numeric.gauss_legendre: n = %d points; needs at least 1", n) end
  return C.gauss_legendre(n, a or -1, b or 1)
end
doc(M.gauss_legendre, [==[numeric.gauss_legendre(n [, a=-1, b=1])

The n-point Gauss-Legendre rule on [a, b]: nodes x (ascending) and weights
w, two 1-d f64 tensors with (f(x) * w):sum() ~ int_a^b f, exact for
polynomials of degree up to 2n - 1 and converging exponentially for
functions analytic on the interval.  Nodes from Newton's method on P_n
(relative accuracy ~1e-15 for n up to thousands).]==])

function M.fixed_quad(f, a, b, n)
  check_args("numeric.fixed_quad", f, a, b)
  local x, w = M.gauss_legendre(n or 20, a, b)
  local s = 0
  local xs, ws = x:totable(), w:totable()
  for i = 1, #xs do s = s + ws[i] * call("numeric.fixed_quad", f, xs[i]) end
  return s
end
doc(M.fixed_quad, [==[numeric.fixed_quad(f, a, b [, n=20])

int_a^b f(x) dx by the n-point Gauss-Legendre rule (n calls of f); no error
estimate.  For a tensor-valued integrand use gauss_legendre's nodes
directly.]==])

-- --- adaptive Gauss-Kronrod -------------------------------------------------

-- The 15-point Kronrod nodes (positive half, descending, 0 last) and
-- weights, and the weights of the 7-point Gauss rule, whose nodes are the
-- even-numbered Kronrod ones (QUADPACK's qk15, Piessens et al. 1983).
local XK = { 0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
  0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
  0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
  0.207784955007898467600689403773245, 0.0 }
local WK = { 0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
  0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
  0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
  0.204432940075298892414161999234649, 0.209482141084727828012999174891714 }
local WG = { 0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
  0.381830050505118944950369775488975, 0.417959183673469387755102040816327 }

-- Kronrod and Gauss estimates of int_a^b g
local function gk15(g, a, b)
  local c, h = (a + b) / 2, (b - a) / 2
  local fc = g(c)
  local k, gs = WK[8] * fc, WG[4] * fc
  for j = 1, 7 do
    local dx = h * XK[j]
    local s = g(c - dx) + g(c + dx)
    k = k + WK[j] * s
    if j % 2 == 0 then gs = gs + WG[j // 2] * s end
  end
  return k * h, gs * h
end

-- g on a finite interval equivalent to f on [a, b] with infinite ends:
-- x = t / (1 - t^2) on (-1, 1), x = a + t / (1 - t) on [0, 1),
-- x = b - t / (1 - t) on [0, 1) (reversed)
local function finite_form(who, f, a, b)
  local function F(x) return call(who, f, x) end
  if a > -huge and b < huge then return F, a, b, 1 end
  if a == -huge and b == huge then
    return function(t)
      local d = 1 - t * t
      return F(t / d) * (1 + t * t) / (d * d)
    end, -1, 1, 1
  end
  if b == huge then
    return function(t)
      local d = 1 - t
      return F(a + t / d) / (d * d)
    end, 0, 1, 1
  end
  return function(t)
    local d = 1 - t
    return F(b - t / d) / (d * d)
  end, 0, 1, 1
end

local QUAD_OPTS = { abs_tol = true, rel_tol = true, max_intervals = true }

function M.quad(f, a, b, opts)
  local who = "numeric.quad"
  check_args(who, f, a, b)
  opts = E.checkopts(who, opts, QUAD_OPTS)
  local atol, rtol = opts.abs_tol or 1e-13, opts.rel_tol or 1e-12
  local limit = opts.max_intervals or 2000
  if a == b then return 0, 0, { evaluations = 0, intervals = 0 } end
  local sign = 1
  if a > b then a, b, sign = b, a, -1 end
  local g, lo, hi = finite_form(who, f, a, b)
  -- intervals as parallel lists; the one with the largest error is split
  local A, B, V, R = {}, {}, {}, {}
  local k, gg = gk15(g, lo, hi)
  A[1], B[1], V[1], R[1] = lo, hi, k, abs(k - gg)
  local total, err, n, evals = k, R[1], 1, 15
  while not (err <= max(atol, rtol * abs(total))) do
    if err ~= err or abs(err) == huge then
      E.raise("%s: f is not finite on [%.17g, %.17g] (integral estimate %.17g)", who, a, b, sign * total)
    end
    if n >= limit then
      E.raise("%s: no convergence after %d intervals (integral %.17g, error estimate %.3g); "
              .. "raise max_intervals or the tolerances", who, n, sign * total, err)
    end
    local worst = 1
    for i = 2, n do if R[i] > R[worst] then worst = i end end
    local a0, b0 = A[worst], B[worst]
    local m = (a0 + b0) / 2
    if m == a0 or m == b0 then
      E.raise("%s: the interval [%.17g, %.17g] cannot be split further (integral %.17g, "
              .. "error estimate %.3g): a singularity?", who, a0, b0, sign * total, err)
    end
    local k1, g1 = gk15(g, a0, m)
    local k2, g2 = gk15(g, m, b0)
    evals = evals + 30
    total = total - V[worst] + k1 + k2
    err = err - R[worst] + abs(k1 - g1) + abs(k2 - g2)
    A[worst], B[worst], V[worst], R[worst] = a0, m, k1, abs(k1 - g1)
    n = n + 1
    A[n], B[n], V[n], R[n] = m, b0, k2, abs(k2 - g2)
    if n % 64 == 0 then   -- resum, so that rounding in the updates never piles up
      total, err = 0, 0
      for i = 1, n do total, err = total + V[i], err + R[i] end
    end
  end
  return sign * total, err, { evaluations = evals, intervals = n }
end
doc(M.quad, [==[numeric.quad(f, a, b [, {abs_tol=1e-13, rel_tol=1e-12, max_intervals=2000}])

int_a^b f(x) dx by adaptive Gauss-Kronrod quadrature (7-point Gauss inside
a 15-point Kronrod rule; the interval with the largest |K15 - G7| is halved
until the summed estimate is below max(abs_tol, rel_tol |integral|)).
a and b may be -math.huge / math.huge (substitutions x = t/(1-t^2),
x = a + t/(1-t)).  Returns integral, error estimate, {evaluations=,
intervals=}.  Integrable endpoint singularities converge (slowly);
non-convergence is an error that names the last estimate.]==])

function M.dblquad(f, a, b, c, d, opts)
  local who = "numeric.dblquad"
  check_fn(who, f)
  local function limit(v, what)
    if type(v) == "number" then return function() return v end end
    check_fn(who, v)
    return v
  end
  local lo, hi = limit(c, "c"), limit(d, "d")
  opts = E.checkopts(who, opts, QUAD_OPTS)
  local evals = 0
  local function inner(x)
    local v, _, info = M.quad(function(y) return f(x, y) end, lo(x), hi(x), opts)
    evals = evals + info.evaluations
    return v
  end
  local v, err = M.quad(inner, a, b, opts)
  return v, err, { evaluations = evals }
end
doc(M.dblquad, [==[numeric.dblquad(f, a, b, c, d [, opts])

int_a^b dx int_{c(x)}^{d(x)} dy f(x, y) by iterated numeric.quad; c and d
are numbers or functions of x.  opts as quad's (used for both levels).
Returns integral, outer error estimate, {evaluations=}.]==])

-- --- roots -----------------------------------------------------------------

local ROOT_OPTS = { tol = true, maxiter = true }

function M.root(f, a, b, opts)
  local who = "numeric.root"
  check_args(who, f, a, b)
  opts = E.checkopts(who, opts, ROOT_OPTS)
  local tol, maxiter = opts.tol or 1e-15, opts.maxiter or 200
  local fa, fb = call(who, f, a), call(who, f, b)
  if fa == 0 then return a, 0 end
  if fb == 0 then return b, 0 end
  if (fa > 0) == (fb > 0) then
    E.raise("%s: f(a) and f(b) have the same sign (f(%.17g) = %.17g, f(%.17g) = %.17g); "
            .. "a root needs a bracket", who, a, fa, b, fb)
  end
  -- b is the best estimate, a the previous one, c the other end of the bracket
  local c, fc, d, e = a, fa, b - a, b - a
  for it = 1, maxiter do
    if (fb > 0) == (fc > 0) then c, fc, d = a, fa, b - a; e = d end
    if abs(fc) < abs(fb) then a, b, c, fa, fb, fc = b, c, b, fb, fc, fb end
    local t = 2 * 2.2e-16 * abs(b) + tol / 2
    local m = (c - b) / 2
    if abs(m) <= t or fb == 0 then return b, it end
    if abs(e) >= t and abs(fa) > abs(fb) then
      local s, p, q = fb / fa
      if a == c then   -- secant
        p, q = 2 * m * s, 1 - s
      else             -- inverse quadratic interpolation
        local qa, r = fa / fc, fb / fc
        p = s * (2 * m * qa * (qa - r) - (b - a) * (r - 1))
        q = (qa - 1) * (r - 1) * (s - 1)
      end
      if p > 0 then q = -q else p = -p end
      if 2 * p < min(3 * m * q - abs(t * q), abs(e * q)) then e, d = d, p / q
      else d, e = m, m end
    else
      d, e = m, m
    end
    a, fa = b, fb
    b = b + (abs(d) > t and d or (m > 0 and t or -t))
    fb = call(who, f, b)
  end
  E.raise("%s: no convergence in %d iterations (last estimate %.17g)", who, maxiter, b)
end
doc(M.root, [==[numeric.root(f, a, b [, {tol=1e-15, maxiter=200}])

A root of f in [a, b], where f(a) and f(b) must differ in sign, by Brent's
method (bisection safeguarding secant and inverse quadratic steps: never
slower than bisection, superlinear near a simple root).  Returns x and the
number of iterations; x is within tol + 4.4e-16 |x| of a sign change.]==])

-- --- minimization ------------------------------------------------------------

local GOLD = (3 - sqrt(5)) / 2

function M.minimize(f, a, b, opts)
  local who = "numeric.minimize"
  check_args(who, f, a, b)
  opts = E.checkopts(who, opts, ROOT_OPTS)
  if a > b then a, b = b, a end
  local tol, maxiter = opts.tol or 1.5e-8, opts.maxiter or 500
  local x = a + GOLD * (b - a)
  local w, v, fx = x, x, call(who, f, x)
  local fw, fv, d, e = fx, fx, 0, 0
  for it = 1, maxiter do
    local m = (a + b) / 2
    local t1 = tol * abs(x) + 1e-12
    local t2 = 2 * t1
    if abs(x - m) <= t2 - (b - a) / 2 then return x, fx, it end
    local golden = true
    if abs(e) > t1 then   -- a parabola through x, w, v
      local r = (x - w) * (fx - fv)
      local q = (x - v) * (fx - fw)
      local p = (x - v) * q - (x - w) * r
      q = 2 * (q - r)
      if q > 0 then p = -p else q = -q end
      if abs(p) < abs(q * e / 2) and p > q * (a - x) and p < q * (b - x) then
        e, d = d, p / q
        local u = x + d
        if u - a < t2 or b - u < t2 then d = x < m and t1 or -t1 end
        golden = false
      end
    end
    if golden then
      e = (x < m and b or a) - x
      d = GOLD * e
    end
    local u = x + (abs(d) >= t1 and d or (d > 0 and t1 or -t1))
    local fu = call(who, f, u)
    if fu <= fx then
      if u < x then b = x else a = x end
      v, fv, w, fw, x, fx = w, fw, x, fx, u, fu
    else
      if u < x then a = u else b = u end
      if fu <= fw or w == x then v, fv, w, fw = w, fw, u, fu
      elseif fu <= fv or v == x or v == w then v, fv = u, fu end
    end
  end
  E.raise("%s: no convergence in %d iterations (last estimate %.17g)", who, maxiter, x)
end
doc(M.minimize, [==[numeric.minimize(f, a, b [, {tol=1.5e-8, maxiter=500}])

A local minimum of f on [a, b] by Brent's method (golden-section search
with parabolic steps).  Returns x, f(x) and the iteration count; x is
located to about tol |x| (the default is sqrt of the f64 epsilon: a
smooth minimum cannot be located better from function values).]==])

doc(M, [==[hebb.numeric

Numerics of functions of one real variable, given as Lua functions:
quadrature (gauss_legendre, fixed_quad, adaptive quad with infinite
limits, dblquad), root finding (root: Brent) and 1-d minimization
(minimize: Brent).  See docs/statmech.md.]==])

return M
