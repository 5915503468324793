-- test_autograd_sparse.lua -- derivatives through hebb.sparse
-- (stdlib/hebb/autograd_sparse.lua and the values a matrix remembers,
-- natives/lua/l_sparse.c): autograd.gradcheck (central differences,
-- f64 and c128) of S:matmul with respect to the dense operand and to the
-- values, against closed forms where there is one (dE/dJ = 2 x_i x_j for
-- the energy x^T H(J) x of couplings on lattice bonds).
local check = require "check"
local T = require "hebb.tensor"
local sparse = require "hebb.sparse"
local graph = require "hebb.graph"
local A = require "hebb.autograd"
local test, eq, near, raises = check.test, check.eq, check.near, check.raises

local maxabs = check.maxabs

-- a 3 x 4 pattern with a duplicate entry (2, 1) twice
local rows, cols = { 1, 2, 2, 3, 1, 2 }, { 2, 1, 3, 4, 1, 1 }
T.manual_seed(7)
local v0 = T.randn(6)
local function build(v) return sparse.csr(rows, cols, v, { 3, 4 }) end

test("dense operand: grad of S x is S^T g", function()
  local S = build(v0)
  local x = T.randn(4):requires_grad_()
  local g = T.randn(3)
  S:matmul(x):backward(g)
  near(maxabs(x.grad - T.matmul(S:to_dense():t(), g)), 0, 1e-12)
  assert(A.gradcheck(function(x) return S:matmul(x):square():sum() end, T.randn(4)))
  assert(A.gradcheck(function(X) return S:matmul(X):sin():sum() end, T.randn(4, 3)))
  -- a constant matrix remembers nothing
  eq(select("#", S:source()), 0)
end)

test("stored values: gradcheck, duplicates, to_dense", function()
  local x = T.randn(4)
  assert(A.gradcheck(function(v) return build(v):matmul(x):square():sum() end, v0))
  assert(A.gradcheck(function(v, X) return build(v):matmul(X):tanh():sum() end,
                     { v0, T.randn(4, 2) }))
  assert(A.gradcheck(function(v) return build(v):to_dense():exp():sum() end, v0))
  -- grad_vals[k] = g[r_k] x[c_k]: both copies of the duplicate get it
  local v = v0:clone():requires_grad_()
  local g = T.randn(3)
  build(v):matmul(x):backward(g)
  for k = 1, 6 do
    near(v.grad[k], g[rows[k]] * x[cols[k]], 1e-14, "entry " .. k)
  end
  near(v.grad[2], v.grad[6], 0, "duplicates")
  -- one value for every entry (a 0-d tensor): the sum of the entries' grads
  local s = T.tensor(1.5):requires_grad_()
  build(s):matmul(x):backward(g)
  local want = 0
  for k = 1, 6 do want = want + g[rows[k]] * x[cols[k]] end
  near(s.grad:item(), want, 1e-13, "0-d values")
end)

test("values through t, H, scaling and sums", function()
  local x3 = T.randn(3)
  local C = sparse.csr({ 1, 3 }, { 1, 2 }, { 2, 5 }, { 3, 4 })   -- constant
  assert(A.gradcheck(function(v) return build(v):t():matmul(x3):square():sum() end, v0))
  assert(A.gradcheck(function(v)
    local S = build(v)
    return ((S * 3 - C) / 2 + S):matmul(T.ones(4)):square():sum()
  end, v0))
  local S = build(v0)
  eq(select("#", S:source()), 0)
  local Sv = S:with_values(T.randn(S:nnz()):requires_grad_())
  local r, c, vals = Sv:source()
  eq(r:numel(), S:nnz())
  assert(vals.requires_grad)
  assert(A.gradcheck(function(w) return S:with_values(w):matmul(T.ones(4)):square():sum() end,
                     T.randn(S:nnz())))
  -- an on-site potential added to constant hopping: dE/dV_i = x_i^2
  local V = T.randn(3):requires_grad_()
  local hop = sparse.csr({ 1, 2, 2, 3 }, { 2, 1, 3, 2 }, -1, { 3, 3 })
  local xx = T.randn(3)
  T.dot(xx, (hop + sparse.diag(V)):matmul(xx)):backward()
  near(maxabs(V.grad - xx * xx), 0, 1e-14, "diag")
  -- no recording in no_grad: the matrix is a constant
  local w = T.randn(6):requires_grad_()
  local Sn = A.no_grad(build, w)
  eq(select("#", Sn:source()), 0)
end)

test("complex values and operand (c128 gradcheck)", function()
  T.manual_seed(11)
  local vc = T.complex(T.randn(6), T.randn(6))
  local xc = T.complex(T.randn(4), T.randn(4))
  assert(A.gradcheck(function(v, x) return build(v):matmul(x):abs():square():sum() end,
                     { vc, xc }))
  -- S^H and a complex scale
  local y3 = T.complex(T.randn(3), T.randn(3))
  assert(A.gradcheck(function(v, y)
    return (build(v):H() * { 0.5, 2 }):matmul(y):abs():square():sum()
  end, { vc, y3 }))
  -- real values, complex operand: the values' gradient is real
  local vr = T.randn(6):requires_grad_()
  build(vr):matmul(xc):abs():sum():backward()
  eq(vr.grad.dtype, "f64")
  assert(A.gradcheck(function(v, x) return build(v):matmul(x):abs():sum() end, { v0, xc }))
  -- complex matrix, real operand: the operand's gradient is real
  local xr = T.randn(4):requires_grad_()
  build(vc):matmul(xr):abs():square():sum():backward()
  eq(xr.grad.dtype, "f64")
  assert(A.gradcheck(function(x) return build(vc):matmul(x):abs():square():sum() end, T.randn(4)))
end)

test("learning couplings: dE/dJ of x^T H(J) x on a lattice", function()
  -- J on the bonds of a periodic 4 x 4 lattice; H symmetric with
  -- H[i][j] = H[j][i] = J_e; E = x^T H x = 2 sum_e J_e x_i x_j
  local g = graph.lattice{ dims = { 4, 4 }, periodic = true }
  local ei, ej = {}, {}
  for k, e in ipairs(g:edges()) do ei[k], ej[k] = e[1], e[2] end
  local i, j = T.tensor(ei, { dtype = "i64" }), T.tensor(ej, { dtype = "i64" })
  local nb = #ei
  eq(nb, 32)
  local J = T.randn(nb):requires_grad_()
  local x = T.randn(g.n)
  local H = sparse.csr(T.cat{ i, j }, T.cat{ j, i }, T.cat{ J, J }, { g.n, g.n })
  local E = T.dot(x, H:matmul(x))
  E:backward()
  local want = x:index_select(1, i) * x:index_select(1, j) * 2
  near(maxabs(J.grad - want), 0, 1e-12, "dE/dJ = 2 x_i x_j")
  -- one gradient step lowers the energy
  local J2 = A.no_grad(function() return J - J.grad * 0.01 end)
  local H2 = sparse.csr(T.cat{ i, j }, T.cat{ j, i }, T.cat{ J2, J2 }, { g.n, g.n })
  assert(T.dot(x, H2:matmul(x)):item() < E:item(), "descent")
end)

test("second derivatives and from_dense", function()
  -- f(v) = |grad_x x^T S x|^2 at x0 = (1, 2, 3): grad_x = (S + S^T) x0 =: u,
  -- df/dv_k = 2 (u[r_k] x0[c_k] + u[c_k] x0[r_k])
  local r, c = { 1, 2, 2, 3, 1 }, { 2, 1, 3, 2, 1 }
  local v = T.tensor{ 1.0, 2, 3, 4, 5 }
  local x0 = T.tensor{ 1.0, 2, 3 }
  local gv = A.grad(function(v)
    local S = sparse.csr(r, c, v, { 3, 3 })
    return A.grad(function(x) return T.dot(x, S:matmul(x)) end, x0,
                  { create_graph = true }):square():sum()
  end, v)
  local D = sparse.csr(r, c, v, { 3, 3 }):to_dense()
  local u = T.matmul(D + D:t(), x0)
  for k = 1, 5 do
    near(gv[k], 2 * (u[r[k]] * x0[c[k]] + u[c[k]] * x0[r[k]]), 1e-12, "entry " .. k)
  end
  -- from_dense of a tracked tensor: gradient at the stored entries only
  local M = T.tensor{ { 1.0, 0, 2 }, { 0, 3, 0 } }:requires_grad_()
  local y = T.tensor{ 1.0, 2, 3 }
  sparse.from_dense(M):matmul(y):sum():backward()
  check.same(M.grad, { { 1, 0, 3 }, { 0, 2, 0 } }, 0)
end)

test("errors", function()
  -- in-place change of the values before backward is caught
  local v = T.randn(6):requires_grad_()
  local w = v * 1
  local y = build(w):matmul(T.randn(4)):sum()
  A.no_grad(function() w:mul_(2) end)
  raises(function() y:backward() end, "modified in place")
  -- a dense tensor where the matrix belongs
  raises(function() sparse.csr({ 1 }, { 1 }, T.ones(1)).matmul(T.ones(1, 1), T.ones(1)) end,
         "hebb.Sparse expected")
end)

check.done()
