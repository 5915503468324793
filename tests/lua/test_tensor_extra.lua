-- test_tensor_extra.lua -- kron, meshgrid, logspace, diff, trapz (written
-- over tensor operations, stdlib/hebb/_tensor_extra.lua): exact values,
-- identities, gradients through their parts, errors.
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local test, eq, same, near, raises = check.test, check.eq, check.same, check.near, check.raises

T.manual_seed(5)

test("kron", function()
  local a, b = T.tensor({ { 1, 2 }, { 3, 4 } }), T.tensor({ { 0, 5 }, { 6, 7 } })
  same(T.kron(a, b), { { 0, 5, 0, 10 }, { 6, 7, 12, 14 }, { 0, 15, 0, 20 }, { 18, 21, 24, 28 } })
  same(T.kron(T.tensor({ 1, 2 }), T.tensor({ 1, 10, 100 })), { 1, 10, 100, 2, 20, 200 })
  -- the mixed-product property (A x B)(C x D) = AC x BD
  local A1, B1, C1, D1 = T.randn(2, 3), T.randn(3, 2), T.randn(3, 2), T.randn(2, 3)
  local lhs = T.kron(A1, B1):matmul(T.kron(C1, D1))
  local rhs = T.kron(A1:matmul(C1), B1:matmul(D1))
  eq(T.allclose(lhs, rhs, 1e-12, 1e-12), true, "mixed product")
  eq(T.kron(T.ones(2), T.ones(3, 4)).shape[1], 3, "shapes padded with 1s")
  eq(A.gradcheck(T.kron, { T.randn(2, 2), T.randn(2, 3) }), true, "gradient")
end)

test("meshgrid", function()
  local X, Y = T.meshgrid(T.tensor({ 1, 2, 3 }), T.tensor({ 10, 20 }))
  same(X, { { 1, 1 }, { 2, 2 }, { 3, 3 } })
  same(Y, { { 10, 20 }, { 10, 20 }, { 10, 20 } })
  local U, V = T.meshgrid({ T.tensor({ 1, 2, 3 }), T.tensor({ 10, 20 }) }, { indexing = "xy" })
  same(U, { { 1, 2, 3 }, { 1, 2, 3 } })
  same(V, { { 10, 10, 10 }, { 20, 20, 20 } })
  local P, Q, R = T.meshgrid(T.arange(1, 2), T.arange(1, 3), T.arange(1, 4))
  eq(P.shape[3] == 4 and Q[2][3][4] == 3 and R[1][1][4] == 4, true, "3-d")
  raises(function() T.meshgrid(T.ones(2, 2)) end, "meshgrid: argument 1 must be 1-d")
  eq(A.gradcheck(function(a, b)
    local G1, G2 = T.meshgrid(a, b)
    return G1 * G2 + G1:square()
  end, { T.randn(3), T.randn(2) }), true, "gradient")
  raises(function() T.meshgrid(T.ones(2), { indexing = "ji" }) end, "indexing must be 'ij' or 'xy'")
end)

test("logspace", function()
  same(T.logspace(-3, 0, 4), { 0.001, 0.01, 0.1, 1 }, 1e-17)
  same(T.logspace(0, 3, 4, 2), { 1, 2, 4, 8 })
  raises(function() T.logspace(0, 1, -1) end, "logspace: n must be an integer in 0..2^56")
end)

test("diff", function()
  same(T.diff(T.tensor({ 1, 4, 9, 16, 25 })), { 3, 5, 7, 9 })
  same(T.diff(T.tensor({ 1, 4, 9, 16, 25 }), 2), { 2, 2, 2 })
  local x = T.randn(3, 4)
  same(T.diff(x, 1, 1), x:narrow(1, 2, 2) - x:narrow(1, 1, 2), 0)
  eq(T.diff(x, 5).shape[2], 0, "n beyond the length gives an empty tensor")
  raises(function() T.diff(x, 1, 3) end, "diff: dimension 3 out of range")
  local w = T.randn(3, 4)   -- a weighting, so the gradient is not all ones
  eq(A.gradcheck(function(t) return T.diff(t, 2, 2) * w:narrow(2, 1, 2) end, { T.randn(3, 4) }), true,
     "gradient")
end)

test("trapz", function()
  -- exact for linear functions; O(h^2) with the known error term
  local x = T.linspace(0, 2, 11)
  near(T.trapz(3 * x + 1, x), 8, 1e-14, "linear exact")
  local n, h = 101, 1 / 100
  local y = T.linspace(0, 1, n):square()
  near(T.trapz(y, h), 1 / 3 + h * h / 6, 1e-14, "x^2: error h^2/6 exactly")
  local m = T.randn(3, 5)
  same(T.trapz(m, 0.5, 1), ((m:narrow(1, 1, 2) + m:narrow(1, 2, 2)) * 0.25):sum(1), 1e-15)
  eq(A.gradcheck(function(t) return T.trapz(t, x) end, { T.randn(11) }), true, "gradient")
  raises(function() T.trapz(T.ones(1)) end, "trapz: needs at least 2 points along dim 1, got 1")
  raises(function() T.trapz(T.ones(3), T.ones(4)) end, "trapz: x must be 1-d with 3 points")
end)

check.done()
