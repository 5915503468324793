-- _rg_flow.lua -- part of hebb.rg: real-space RG recursions as first-class
-- objects.  A recursion is a map K -> K' of a vector of couplings with its
-- free-energy bookkeeping: the partition function of N sites at K equals
-- e^{N g(K)} times that of N / s sites at K' (s = b^d sites per coarse
-- site), so ln Z / N = f(K) = g(K) + f(K') / s, summed over the flow.  The
-- maps are written with tensor operations, so autodiff gives the
-- linearization at a fixed point (the exponents y = ln|lambda| / ln b) and
-- the Jacobian of Newton's search for it.
local T = require "hebb.tensor"
local L = require "hebb.linalg"
local AG = require "hebb.autograd"
local E = require "hebb._error"
local doc = require("hebb").doc

local M = {}
local is_tensor = T.is_tensor
local log, huge = math.log, math.huge

local Recursion = {}
Recursion.__index = Recursion
M.Recursion = Recursion

-- couplings as a 1-d f64 tensor from a number, a list or a tensor
local function couplings(who, K, n)
  local t
  if type(K) == "number" then t = T.tensor({ K })
  elseif type(K) == "table" then t = T.tensor(K)
  elseif is_tensor(K) then t = K.ndim == 0 and K:reshape(1) or K
  else E.raise("%s: couplings must be a number, a list or a tensor, got %s", who, E.show(K)) end
  if t.ndim ~= 1 or t:size(1) ~= n then
    E.raise("%s: this recursion has %d coupling%s, got %s", who, n, n == 1 and "" or "s", E.show(K))
  end
  if t.dtype ~= "f64" then t = t:astype("f64") end
  return t
end

local function values(K)
  local v = K:detach():totable()
  return #v == 1 and v[1] or v
end

-- couplings for a message: 0.3 or {0.3, 0.1}
local function show(K)
  local v = K:detach():totable()
  for i = 1, #v do v[i] = ("%.10g"):format(v[i]) end
  return #v == 1 and v[1] or "{" .. table.concat(v, ", ") .. "}"
end

-- --- the built-in maps ------------------------------------------------------------

-- The chain of b bonds K in series (decimating b - 1 spins): tanh K' =
-- tanh^b K and C = sqrt(T^b(+,+) T^b(+,-)), with
--   ln T^b(+,+/-) = b ln(2 cosh K) + ln((1 +/- tanh^b K) / 2),
-- evaluated at |K| (K' takes the sign of K^b, C is even in K) in two
-- regimes: tanh^b directly for |K| < 1 (smooth through K = 0, where
-- K' ~ K^b), and through ln tanh |K| = log1p(-2 e / (1 + e)), e =
-- e^{-2|K|}, above (1 - tanh^b K would round to 0 beyond K ~ 18).
local function chain(K, b)
  local a = K:abs()
  local lpp, lpm
  if a:item() < 1 then
    local tb = T.tanh(a) ^ b
    lpp, lpm = T.log1p(tb), T.log1p(-tb)
  else
    local e = T.exp(-2 * a)
    local lt = T.log1p(-2 * e / (1 + e))
    lpp, lpm = T.log1p(T.exp(lt * b)), T.log(-T.expm1(lt * b))
  end
  local l2c = a + T.log1p(T.exp(-2 * a))      -- ln(2 cosh K)
  local Kp = 0.5 * (lpp - lpm)
  if b % 2 == 1 and K:item() < 0 then Kp = -Kp end
  return Kp, b * l2c + 0.5 * (lpp + lpm) - log(2)
end

-- the Ising chain with a field, T(s, s') = e^{K s s' + h (s + s') / 2}:
-- T^b = C e^{K' s s' + h' (s + s') / 2}, from its three distinct entries
local function chain_field(K, h, b)
  local pp, pm, mm = T.exp(K + h), T.exp(-K), T.exp(K - h)
  local a, m, c = pp, pm, mm
  for _ = 2, b do       -- [a m; m c] times [pp pm; pm mm]
    a, m, c = a * pp + m * pm, a * pm + m * mm, m * pm + c * mm
  end
  local la, lm, lc = T.log(a), T.log(m), T.log(c)
  return 0.25 * (la + lc - 2 * lm), 0.5 * (la - lc), 0.25 * (la + lc + 2 * lm)
end

local function new(spec)
  return setmetatable(spec, Recursion)
end

function M.recursion(spec)
  local who = "rg.recursion"
  spec = E.checkopts(who, spec, { map = true, b = true, d = true, n = true, tail = true, names = true })
  if type(spec.map) ~= "function" then E.raise("%s: map must be a function K -> K', g, got %s", who, E.show(spec.map)) end
  local b, d, n = spec.b or 2, spec.d or 1, spec.n or 1
  for _, v in ipairs { { "b", b, 2 }, { "d", d, 1 }, { "n", n, 1 } } do
    if math.type(v[2]) ~= "integer" or v[2] < v[3] then
      E.raise("%s: %s must be an integer >= %d, got %s", who, v[1], v[3], E.show(v[2]))
    end
  end
  return new { map = spec.map, b = b, d = d, n = n, s = b ^ d, names = spec.names,
    tail = spec.tail or function() return log(2) end, kind = "recursion" }
end
doc(M.recursion, [==[rg.recursion{map = f, b = 2, d = 1, n = 1 [, tail = f, names = {...}]}

A real-space RG recursion from its map: f(K) -> K', g, with K a 1-d f64
tensor of n couplings, K' the coarse couplings (same shape) and g the
free energy per site produced by the step, defined by Z_N(K) = e^{N g(K)}
Z_{N/s}(K') with s = b^d sites per coarse site.  Write f with tensor
operations (T.tanh, T.log, ... on K:select(1, i)) so that autodiff can
differentiate it.  tail(K) is ln Z / N where the flow is stopped (default
ln 2, free spins); names labels the couplings.  Methods step, flow,
fixed_point, exponents, free_energy; built-ins: rg.decimation1d,
rg.migdal_kadanoff.]==])

function M.decimation1d(opts)
  local who = "rg.decimation1d"
  opts = E.checkopts(who, opts, { b = true, field = true })
  local b = opts.b or 2
  if math.type(b) ~= "integer" or b < 2 then E.raise("%s: b must be an integer >= 2, got %s", who, E.show(b)) end
  if opts.field then
    return new { b = b, d = 1, n = 2, s = b, names = { "K", "h" }, kind = "decimation1d",
      map = function(K)
        local Kp, hp, lc = chain_field(K:select(1, 1), K:select(1, 2), b)
        return T.stack { Kp, hp }, lc / b
      end,
      tail = function(K) return log(2 * math.cosh(K[2])) end }
  end
  return new { b = b, d = 1, n = 1, s = b, names = { "K" }, kind = "decimation1d",
    map = function(K)
      local Kp, lc = chain(K:select(1, 1), b)
      return Kp:reshape(1), lc / b
    end,
    tail = function() return log(2) end }
end
doc(M.decimation1d, [==[rg.decimation1d([{b=2, field=false}])

The exact decimation of the Ising chain H = -K sum s_i s_{i+1} (- h sum
s_i with field = true): summing every spin but one in b gives tanh K' =
tanh^b K (R6: K' = 0.382942822864013 at K = 0.7, b = 2) and per original
site g = ln C / b with C = sqrt(T^b(+,+) T^b(+,-)) from the transfer matrix
T.  With a field the couplings are {K, h} and T^b = C e^{K' s s' + h'(s +
s')/2}.  The flow goes to K = 0 (no transition); its summed free energy is
the exact ln(2 cosh K) (ln Z / N = 0.813261687518 at K = 0.5).]==])

function M.migdal_kadanoff(opts)
  local who = "rg.migdal_kadanoff"
  opts = E.checkopts(who, opts, { b = true, d = true })
  local b, d = opts.b or 2, opts.d or 2
  if math.type(b) ~= "integer" or b < 2 then E.raise("%s: b must be an integer >= 2, got %s", who, E.show(b)) end
  if math.type(d) ~= "integer" or d < 1 then E.raise("%s: d must be an integer >= 1, got %s", who, E.show(d)) end
  local s, moved = b ^ d, b ^ (d - 1)
  -- of the s sites of a block, 1 + d (b - 1) lie on the coarse site and
  -- its d chains; bond moving left the others without bonds: free spins
  local free = (1 - (1 + d * (b - 1)) / s) * log(2)
  return new { b = b, d = d, n = 1, s = s, names = { "K" }, kind = "migdal_kadanoff",
    map = function(K)
      local Kp, lc = chain(K:select(1, 1) * moved, b)
      return Kp:reshape(1), lc * (d / s) + free
    end,
    -- ln 2 at K = 0, d K as K -> inf (the ground state): errors of the
    -- stopped flow are divided by s^n
    tail = function(K)
      local k = math.abs(K[1])
      return d * (k + math.log(1 + math.exp(-2 * k))) - (d - 1) * log(2)
    end }
end
doc(M.migdal_kadanoff, [==[rg.migdal_kadanoff([{b=2, d=2}])

The Migdal-Kadanoff recursion of the Ising model in d dimensions with
rescaling b: bond moving (b^{d-1} bonds of a coarse bond's hyperplane
moved onto it, K -> b^{d-1} K) then the exact decimation of the b bonds in
series, tanh K' = tanh^b(b^{d-1} K); per site g = (d / b^d) ln C + (1 -
(1 + d (b - 1)) / b^d) ln 2 (the chains' constants, and the spins that
bond moving left without bonds).  For b =
d = 2, K' = (1/2) ln cosh 4K, with the fixed point K* = 0.3046889317 and
nu = 1.3382657904 (R5).  Exact on the diamond hierarchical lattice, an
approximation on the square one (Onsager: K_c = 0.4407, nu = 1).]==])

-- --- methods ----------------------------------------------------------------------------

function Recursion:step(K)
  local Kt = couplings("rg.Recursion:step", K, self.n)
  local Kp, g = self.map(Kt)
  if not is_tensor(Kp) or Kp.ndim ~= 1 or Kp:size(1) ~= self.n then
    E.raise("rg.Recursion:step: the map must return K' with %d couplings, got %s", self.n, E.show(Kp))
  end
  return Kp, is_tensor(g) and g or T.tensor(g or 0)
end
doc(Recursion.step, [==[R:step(K)

One step of the recursion: K' (a 1-d tensor) and g, the free energy per
original site it produces (a 0-d tensor).  Differentiable when K is a
tracked tensor.]==])

function Recursion:flow(K, n)
  local who = "rg.Recursion:flow"
  if math.type(n) ~= "integer" or n < 0 then E.raise("%s: n must be an integer >= 0, got %s", who, E.show(n)) end
  local Kt = couplings(who, K, self.n)
  local Ks, gs = { values(Kt) }, {}
  for i = 1, n do
    local Kp, g = self:step(Kt)
    Kt = Kp
    Ks[i + 1], gs[i] = values(Kp), g:item()
  end
  return Ks, gs
end
doc(Recursion.flow, [==[R:flow(K, n)

The flow K, K', K'', ... over n steps: a list of n + 1 coupling values
(numbers for one coupling, lists otherwise) and the list of the n free
energies g per site of each step (of the lattice that step started on).]==])

local function jacobian(self, Kt)
  return AG.jacobian(function(x) return (self.map(x)) end, Kt)
end

function Recursion:fixed_point(K0, opts)
  local who = "rg.Recursion:fixed_point"
  opts = E.checkopts(who, opts, { tol = true, maxiter = true })
  local tol, maxiter = opts.tol or 1e-13, opts.maxiter or 50
  local K = couplings(who, K0, self.n)
  local r
  for _ = 1, maxiter do
    local Kp = self.map(K)
    local F = Kp - K
    r = F:abs():max():item()
    local scale = math.max(1, K:abs():max():item())
    if r ~= r or r == huge then break end
    if r <= tol * scale then return values(K) end
    local J = jacobian(self, K) - T.eye(self.n)
    local dK = L.solve(J, F:reshape(self.n, 1)):reshape(self.n)
    K = K - dK
  end
  E.raise("%s: Newton did not converge from K = %s after %d iterations (last K = %s, |R(K) - K| = %s)",
    who, show(couplings(who, K0, self.n)), maxiter, show(K), ("%.3g"):format(r))
end
doc(Recursion.fixed_point, [==[R:fixed_point(K0 [, {tol=1e-13, maxiter=50}])

A fixed point K* = R(K*) by Newton's method from K0, with the Jacobian of
the map from autodiff: K <- K - (J - I)^{-1} (R(K) - K) until |R(K) - K| <=
tol max(1, |K|).  Returns K* (a number, or a list); raises naming K0, the
last K and the residual when it does not converge.]==])

function Recursion:exponents(Kstar)
  local who = "rg.Recursion:exponents"
  local K = couplings(who, Kstar, self.n)
  local J = jacobian(self, K)
  local w = L.eigvals(J)
  local lam = {}
  for i = 1, self.n do
    local re, im = w[i]:item()
    lam[i] = { re = re, im = im, abs = math.sqrt(re * re + im * im) }
  end
  table.sort(lam, function(a, c) return a.abs > c.abs end)
  local out = { lambda = {}, y = {}, jacobian = J }
  for i, l in ipairs(lam) do
    out.lambda[i] = l.im == 0 and l.re or { l.re, l.im }
    out.y[i] = log(l.abs) / log(self.b)
  end
  out.nu = out.y[1] > 0 and 1 / out.y[1] or huge
  return out
end
doc(Recursion.exponents, [==[R:exponents(K*)

The linearized recursion at K*: the Jacobian dK'_i/dK_j (autodiff), its
eigenvalues lambda (largest |lambda| first; complex ones as {re, im}), the
exponents y = ln|lambda| / ln b and nu = 1 / y_1.  Returns {lambda=, y=,
nu=, jacobian=}.  Migdal-Kadanoff b = d = 2 at K*: nu = 1.3382657904.]==])

function Recursion:free_energy(K, opts)
  local who = "rg.Recursion:free_energy"
  opts = E.checkopts(who, opts, { steps = true, tol = true })
  local tol, steps = opts.tol or 1e-17, opts.steps or 400
  local Kt = couplings(who, K, self.n)
  local f, w, n = 0, 1, 0
  local terms = {}
  while n < steps do
    local v = Kt:detach():totable()
    local big = 0
    for i = 1, #v do big = math.max(big, math.abs(v[i])) end
    -- stop where the tail is accurate: deep in a trivial fixed point, or
    -- when it is too small to matter
    if big > 50 or big < 1e-9 or w * math.abs(self.tail(v)) <= tol * math.abs(f) then break end
    local Kp, g = self:step(Kt)
    local gv = g:item()
    if gv ~= gv then E.raise("%s: the map gave g = nan at K = %s", who, show(Kt)) end
    f = f + w * gv
    terms[#terms + 1] = w * gv
    w, Kt, n = w / self.s, Kp, n + 1
  end
  local tail = w * self.tail(Kt:detach():totable())
  return f + tail, { steps = n, terms = terms, tail = tail }
end
doc(Recursion.free_energy, [==[R:free_energy(K [, {steps=400, tol=1e-17}])

ln Z / N summed over the flow: f(K) = sum_n g(K_n) / s^n + tail(K_N) / s^N,
the flow stopped after `steps` steps, where the couplings are below 1e-9
or above 50 (trivial fixed points, where tail is accurate), or where the
tail's weight is below tol of the sum.  Returns f and {steps=, terms=,
tail=}.  1D decimation at K = 0.5: ln(2 cosh 0.5) = 0.813261687518 (R6).]==])

return M
