-- hebb._autograd_special: backward rules of the ordering functions (sort,
-- topk, roll, flip) and the special functions.  A rule gives the gradient
-- with tensor operations, so it can be differentiated again.
--   sort:   values = x gathered at a permutation p along dim, so
--           grad_x = g gathered at the inverse permutation argsort(p)
--   topk:   grad_x = g scattered (added) to the k chosen places, 0 elsewhere
--   roll:   grad_x = g rolled back; flip: grad_x = g flipped again
--   gamma' = gamma psi, lgamma' = psi, digamma' = trigamma,
--   erf' = 2/sqrt(pi) e^{-x^2} = -erfc', J0' = -J1, J1' = J0 - J1/x,
--   I0' = I1, I1' = I0 - I1/x (J1/x and I1/x are 1/2 at x = 0),
--   K'(m) = (E - (1-m) K) / (2m(1-m)), E'(m) = (E - K)/(2m) (both pi/8 in
--   size at m = 0: +pi/8 and -pi/8).
--   trigamma' = psi'' (T._tetragamma), zeta' (T._zeta_prime); one order
--   further (psi''', zeta'') is not implemented: backward through those
--   two raises.
local T = require "hebb.tensor"
local A = require "hebb._autograd_engine"
local E = require "hebb._error"

local R = A._ruleset()
local def = R.def

-- the 1-based dim of a call f(x, [dim], [opts]) whose dim sits at a[k]
local function dim_at(a, k)
  local x, d = a[1], a[k]
  if type(d) ~= "number" then return x.ndim end
  return d < 0 and x.ndim + 1 + d or d
end

R.nondiff("argsort", "searchsorted", "histc", "unique")

def("sort", function(gs, a, outs)
  local d = dim_at(a, 2)
  return gs[1]:gather(d, T.argsort(outs[2], d))
end, { multi = true })
def("topk", function(gs, a, outs)
  local x = a[1]
  return T.zeros_like(x):scatter_add_(dim_at(a, 3), outs[2], gs[1])
end, { multi = true })
def("roll", function(g, a)
  local s = a[2]
  if type(s) == "table" then
    local back = {}
    for i, v in ipairs(s) do back[i] = -v end
    return T.roll(g, back, a[3])
  end
  return T.roll(g, -s, a[3])
end)
def("flip", function(g, a) return T.flip(g, a[2]) end)

-- f(x) with x = 0 replaced by 1 and the value lim at x = 0: J1/x, I1/x
local function over_x(f, x, lim)
  local zero = x:eq(0)
  local safe = T.where(zero, 1.0, x)
  return T.where(zero, lim, f(safe) / safe)
end

def("gamma", function(g, a, out) return g * out * T.digamma(a[1]) end,
    { saves = { 0, 1 } })
def("lgamma", function(g, a) return g * T.digamma(a[1]) end, { saves = { 1 } })
def("digamma", function(g, a) return g * T.trigamma(a[1]) end, { saves = { 1 } })
local c = 2 / math.sqrt(math.pi)
def("erf", function(g, a) return g * c * T.exp(-T.square(a[1])) end, { saves = { 1 } })
def("erfc", function(g, a) return g * -c * T.exp(-T.square(a[1])) end, { saves = { 1 } })
def("bessel_j0", function(g, a) return -g * T.bessel_j1(a[1]) end, { saves = { 1 } })
def("bessel_j1", function(g, a)
  local x = a[1]
  return g * (T.bessel_j0(x) - over_x(T.bessel_j1, x, 0.5))
end, { saves = { 1 } })
def("bessel_i0", function(g, a) return g * T.bessel_i1(a[1]) end, { saves = { 1 } })
def("bessel_i1", function(g, a)
  local x = a[1]
  return g * (T.bessel_i0(x) - over_x(T.bessel_i1, x, 0.5))
end, { saves = { 1 } })
def("trigamma", function(g, a) return g * T._tetragamma(a[1]) end, { saves = { 1 } })
def("zeta", function(g, a) return g * T._zeta_prime(a[1]) end, { saves = { 1 } })
for _, c in ipairs({ { "_tetragamma", "psi''' (the third derivative of digamma)" },
                     { "_zeta_prime", "zeta''" } }) do
  def(c[1], function()
    E.raise("autograd: the derivative %s is not implemented", c[2])
  end)
end
def("ellipk", function(g, a)
  local m = a[1]
  local zero = m:eq(0)
  local ms = T.where(zero, 0.5, m)
  local d = (T.ellipe(ms) - (1 - ms) * T.ellipk(ms)) / (2 * ms * (1 - ms))
  return g * T.where(zero, math.pi / 8, d)
end, { saves = { 1 } })
def("ellipe", function(g, a)
  local m = a[1]
  local zero = m:eq(0)
  local ms = T.where(zero, 0.5, m)
  local d = (T.ellipe(ms) - T.ellipk(ms)) / (2 * ms)
  return g * T.where(zero, -math.pi / 8, d)
end, { saves = { 1 } })

return R
