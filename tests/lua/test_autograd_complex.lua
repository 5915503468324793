-- test_autograd_complex.lua -- complex autodiff under the conjugate
-- (Wirtinger) convention: grad = dL/dx + i dL/dy.  gradcheck in c128 of the
-- complex ops and of the elementwise/product rules with complex and mixed
-- real/complex operands; the convention itself on known cases; gradcheck
-- catching a rule that forgets the conjugate.
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local test, eq, near, raises = check.test, check.eq, check.near, check.raises

T.manual_seed(14)
local rn = T.randn
local function cr(...) return T.complex(rn(...), rn(...)) end
local function gc(f, xs) eq(A.gradcheck(f, xs), true) end
local function cmax(a, b)
  return A.no_grad(function() return (a - b):abs():max() end)
end

test("convention_on_known_cases", function()
  -- L = |z|^2 = x^2 + y^2: grad = 2x + 2iy = 2z
  local z = cr(3)
  local g = A.grad(function(v) return (T.abs(v) ^ 2):sum() end, z)
  near(cmax(g, z * 2), 0, 1e-14)
  -- L = Re(c z) = Re(c) x - Im(c) y: grad = conj(c)
  local c = cr(3)
  g = A.grad(function(v) return T.real(c * v):sum() end, z)
  near(cmax(g, T.conj(c)), 0, 1e-15)
  -- L = Im(z): grad = i
  g = A.grad(function(v) return T.imag(v):sum() end, z)
  near(cmax(g, T.I * T.ones(3)), 0, 0)
end)

test("complex_ops", function()
  gc(T.complex, { rn(3), rn(3) })
  gc(T.complex, { rn(2, 3), rn(3) })                 -- broadcast
  gc(T.real, { cr(3) })
  gc(T.imag, { cr(3) })
  gc(T.conj, { cr(3) })
  gc(T.angle, { cr(3) })
  gc(T.abs, { cr(3) })
  gc(T.vdot, { cr(3), cr(3) })
  gc(T.vdot, { rn(3), cr(3) })
  gc(function(a) return a:norm() end, { cr(3) })
end)

test("elementwise_rules_are_conjugated", function()
  gc(function(a, b) return a * b end, { cr(3), cr(3) })
  gc(function(a, b) return a / b end, { cr(3), cr(3) })
  gc(function(a, b) return a + b - a * 2 end, { cr(3), rn(3) })
  gc(function(a) return a ^ 3 end, { cr(3) })
  for _, name in ipairs({ "exp", "log", "sqrt", "sin", "cos", "tanh", "sinh",
                          "cosh", "reciprocal", "square" }) do
    gc(T[name], { cr(3) })
  end
  gc(function(a) return a:sum() end, { cr(3) })
  gc(function(a) return a:mean(1) end, { cr(3, 2) })
  gc(function(a) return a:prod() end, { cr(3) })
  gc(function(a) return T.where(T.gt(T.tensor { 1.0, -1, 1 }, 0), a, 0.0) end, { cr(3) })
end)

test("mixed_real_and_complex_operands", function()
  -- the real operand gets the real part of its complex gradient
  gc(function(a, b) return a * b end, { rn(3), cr(2, 3) })
  gc(T.matmul, { rn(2, 3), cr(3, 2) })
  gc(T.matmul, { cr(2, 3), rn(3, 2) })
  gc(function(a, b) return a:matmul(b:t()) end, { cr(2, 3), rn(2, 3) })
  gc(function(a) return a:astype("c128") * T.I end, { rn(3) })
  gc(T.outer, { cr(3), rn(2) })
  local x = rn(3):requires_grad_()
  local y = (x * cr(3)):abs():sum()
  y:backward()
  eq(x.grad.dtype, "f64")
end)

test("products", function()
  gc(T.matmul, { cr(2, 3), cr(3, 2) })
  gc(T.dot, { cr(3), cr(3) })
end)

test("second_derivatives", function()
  eq(A.gradgradcheck(function(a, b) return a * T.exp(b) end, { cr(3), cr(3) }), true)
  eq(A.gradgradcheck(function(a) return T.abs(a) end, { cr(3) }), true)
  eq(A.gradgradcheck(function(a, b) return T.matmul(a, b) end, { cr(2, 2), rn(2, 2) }), true)
end)

test("gradcheck_catches_a_missing_conjugate", function()
  local c = cr(3)
  local wrong = A.Function {
    name = "times_c",
    forward = function(_, z) return z * c end,
    backward = function(_, g) return g * c end,      -- should be g * conj(c)
  }
  raises(function() A.gradcheck(wrong, { cr(3) }) end, "gradcheck: d/d(input 1)[1]")
  local right = A.Function {
    name = "times_c",
    forward = function(_, z) return z * c end,
    backward = function(_, g) return g * T.conj(c) end,
  }
  gc(right, { cr(3) })
end)

check.done()
