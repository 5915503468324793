-- hebb._autograd_complex: backward rules of the complex-number ops of
-- hebb.tensor (complex, real, imag, conj, angle, vdot).
--
-- Convention (PyTorch's): the gradient stored for a complex z = x + iy is
-- dL/dx + i dL/dy for a real loss L (twice the conjugate Wirtinger
-- derivative dL/d(conj z)), so gradient descent z -= lr * grad works as for
-- two real numbers.  A holomorphic f passes grad_z = g * conj(f'(z)); in
-- general grad_z = conj(g) * df/d(conj z) + g * conj(df/dz).  A real input
-- of an op with a complex result gets the real part of that: the engine
-- (autograd.lua, conform) takes it for every rule.
local T = require "hebb.tensor"
local A = require "hebb._autograd_engine"

local R = A._ruleset()
local def = R.def
local is_tensor = T.is_tensor
local complex = { c128 = true, c64 = true }

-- g summed to x's shape (nil: x a number); the engine makes a real
-- operand's gradient real
local fit, cj = A.unbroadcast, A._cj

-- z = re + i im: dL/dre = Re g, dL/dim = Im g
def("complex", function(g, a)
  local re, im = a[1], a[2]
  return fit(T.real(g), re), fit(T.imag(g), im)
end)
-- Re z = x: grad_z = g (+ 0i)
def("real", function(g, a)
  local z = a[1]
  return complex[z.dtype] and g:astype(z.dtype) or g
end)
-- Im z = y: grad_z = i g (0 for a real input)
def("imag", function(g, a)
  local z = a[1]
  if not complex[z.dtype] then return T.zeros_like(z) end
  return g * T.I
end)
-- conj z = x - iy: grad_z = conj(g)
def("conj", function(g, a) return fit(T.conj(g), a[1]) end)
-- arg z = atan2(y, x): d/dx = -y/|z|^2, d/dy = x/|z|^2, so grad_z =
-- g i z / |z|^2 (0 at z = 0 and for a real input)
def("angle", function(g, a)
  local z = a[1]
  if not complex[z.dtype] then return T.zeros_like(z) end
  local r2 = T.real(z * T.conj(z))
  return g * T.I * z / T.where(T.eq(r2, 0), 1.0, r2)
end, { saves = { 1 } })
-- vdot(a, b) = sum conj(a) b: grad_a = conj(g) b, grad_b = g a
def("vdot", function(g, a)
  local x, y = a[1], a[2]
  return fit(cj(g) * y, x), fit(g * x, y)
end, { saves = { 1, 2 }, scalar = true })

-- Sparse products: hebb._autograd_sparse (dense operand and values).

return R
