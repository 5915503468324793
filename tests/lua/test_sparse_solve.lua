-- sparse.solve (natives/core/sparse_solve.c): CG and BiCGSTAB with Jacobi
-- and ILU(0) preconditioners, real and complex, against dense solves and
-- their own residuals; the errors.
-- Run: LUA_PATH="tests/lua/lib/?.lua;;" build/hebb tests/lua/test_sparse_solve.lua
local check = require "check"
local T = require "hebb.tensor"
local sp = require "hebb.sparse"
local linalg = require "hebb.linalg"
local hebb = require "hebb"

local function num(v) return type(v) == "number" and v or v:item() end
local function relres(A, x, b) return num((A:matmul(x) - b):norm() / b:norm()) end

-- I + c (-Laplacian) on an L x L periodic lattice: Hermitian positive
-- definite, condition number 1 + 8c (what an implicit heat step solves)
local function heat(L, c)
  local n = L * L
  return sp.eye(n):scale(1 + 4 * c) - sp.lattice({ L, L }):scale(c)
end

check.test("cg_on_heat_matrix", function()
  T.manual_seed(1)
  local A = heat(16, 50)
  local b = T.randn(256)
  local want = linalg.solve(A:to_dense(), b)
  local x, info = sp.solve(A, b, { method = "cg" })
  check.truthy(info.residual <= 1e-10, "residual " .. info.residual)
  check.near(relres(A, x, b), info.residual, 1e-14, "info.residual is the true residual")
  -- |x - x*| / |x*| <= cond |r| / |b| = 401e-10
  check.truthy(num((x - want):norm() / want:norm()) < 401e-10, "x")
  -- CG converges in about sqrt(cond) ln(2/tol) / 2 = 240 iterations at most
  check.truthy(info.iterations > 5 and info.iterations < 240, "iterations " .. info.iterations)
end)

check.test("bicgstab_nonsymmetric_real_and_complex", function()
  T.manual_seed(2)
  local n = 200
  -- an upwinded advection-diffusion matrix: nonsymmetric, diagonally dominant
  local rows, cols, vals = {}, {}, {}
  for i = 1, n do
    rows[#rows + 1], cols[#cols + 1], vals[#vals + 1] = i, i, 3.0 + (i % 7) * 0.1
    rows[#rows + 1], cols[#cols + 1], vals[#vals + 1] = i, i % n + 1, -0.4
    rows[#rows + 1], cols[#cols + 1], vals[#vals + 1] = i, (i + n - 2) % n + 1, -1.6
    rows[#rows + 1], cols[#cols + 1], vals[#vals + 1] = i, (i + 16) % n + 1, 0.3
  end
  local A = sp.csr(rows, cols, vals, { n, n })
  local b = T.randn(n)
  local Ad = A:to_dense()
  local iters = {}
  for _, p in ipairs { "none", "jacobi", "ilu0" } do
    local x, info = sp.solve(A, b, { precond = p })
    check.eq(x.dtype, "f64")
    check.truthy(relres(A, x, b) <= 1e-10, p)
    check.truthy(num((x - linalg.solve(Ad, b)):abs():max()) < 1e-9, p .. " vs dense")
    iters[p] = info.iterations
  end
  check.truthy(iters.ilu0 < iters.none, string.format("ILU(0) helps: %d < %d", iters.ilu0, iters.none))
  -- complex: 1 + i (dt/2) H, the Crank-Nicolson matrix of a real symmetric H,
  -- with several right-hand sides (columns) and a complex b on a real A
  local H = heat(10, 1):scale(5)
  local M = sp.eye(100) + H:scale({ 0, 0.5 })
  local B = T.complex(T.randn(100, 3), T.randn(100, 3))
  local X, info = sp.solve(M, B, { tol = 1e-12 })
  check.eq(X.dtype, "c128")
  check.eq(#X.shape, 2)
  check.truthy(num((M:matmul(X) - B):abs():max()) < 1e-10, "complex, 3 columns: " .. info.iterations)
  local bz = T.complex(T.randn(n), T.randn(n))
  local xz = sp.solve(A, bz)
  check.truthy(num((A:matmul(xz) - bz):norm() / bz:norm()) <= 1e-10, "real A, complex b")
  -- a good start converges at once
  local x1 = sp.solve(A, b)
  local _, again = sp.solve(A, b, { x0 = x1 })
  check.eq(again.iterations, 0, "x0 already solves")
end)

-- x = A^-1 b is differentiable with respect to b: grad_b = A^-H g, a solve
-- with the adjoint (real, and complex through a real loss)
check.test("solve_gradient", function()
  local autograd = require "hebb.autograd"
  T.manual_seed(4)
  local A = sp.csr({ 1, 1, 2, 2, 3, 3, 3 }, { 1, 3, 1, 2, 2, 3, 1 }, { 4.0, 1.0, -1.0, 3.0, 0.5, 5.0, 0.2 }, { 3, 3 })
  for _, method in ipairs { "bicgstab", "cg" } do
    local M = method == "cg" and (A + A:t()) or A
    check.truthy(autograd.gradcheck(function(b) return (sp.solve(M, b, { method = method, tol = 1e-14 })) end,
                                    { T.randn(3, 2) }), method)
  end
  local Z = A + sp.eye(3):scale({ 0, 2 })
  local b = T.complex(T.randn(3), T.randn(3)):requires_grad_()
  local x = sp.solve(Z, b, { tol = 1e-14 })
  T.real((x * x:conj())):sum():backward()
  -- dL/db for L = |Z^-1 b|^2 is 2 Z^-H Z^-1 b
  local want = linalg.solve(Z:H():to_dense(), linalg.solve(Z:to_dense(), b:detach())) * 2
  check.truthy(num((b.grad - want):abs():max()) < 1e-10, "complex")
end)

check.test("solve_same_bits_any_thread_count", function()
  T.manual_seed(3)
  local A = heat(200, 3)
  local b = T.randn(40000)
  local n0 = hebb.threads()
  local r = {}
  for i, t in ipairs { 1, 2 } do
    hebb.threads(t)
    r[i] = sp.solve(A, b)
  end
  hebb.threads(n0)
  check.truthy(T.equal(r[1], r[2]), "1 and 2 threads")
end)

check.test("solve_errors", function()
  local A = heat(4, 1)
  check.raises(function() sp.solve(A, T.ones(15)) end,
               "sparse.solve: b has shape {15}; A (16 x 16) needs {16} or {16, k}")
  check.raises(function() sp.solve(sp.csr({ 1 }, { 2 }, { 1.0 }, { 2, 3 }), T.ones(2)) end,
               "sparse.solve: A is 2 x 3; it must be square")
  check.raises(function() sp.solve(A, T.ones(16, { dtype = "f32" })) end,
               "b has dtype f32; it must be f64 or c128")
  check.raises(function() sp.solve(A, T.ones(16), { method = "gmres" }) end,
               "method must be \"bicgstab\" or \"cg\", got \"gmres\"")
  check.raises(function() sp.solve(A, T.ones(16), { tol = 0 }) end, "tol = 0 and maxiter")
  check.raises(function() sp.solve(A, T.ones(16), { x0 = T.ones(3) }) end, "x0 has shape {3}, b {16}")
  -- too few iterations: named, with the residual reached
  check.raises(function() sp.solve(heat(16, 50), T.ones(256) + T.arange(1, 256), { method = "cg", maxiter = 3 }) end,
               "sparse.solve: CG did not converge in maxiter = 3 iterations: relative residual")
  -- a zero on the diagonal stops Jacobi and ILU(0) at once
  local Z = sp.csr({ 1, 1, 2 }, { 1, 2, 1 }, { 0.0, 1.0, 1.0 }, { 2, 2 })
  check.raises(function() sp.solve(Z, T.ones(2)) end, "zero pivot 0+0i in row 1")
  local x = sp.solve(Z, T.tensor { 2.0, 3.0 }, { precond = "none" })
  check.truthy(num((x - T.tensor { 3.0, 2.0 }):abs():max()) < 1e-12, "no preconditioner: solved")
  -- CG on an indefinite matrix: the first direction b has b^H A b = -1
  local D = sp.diag(T.tensor { 1.0, -1.0, 2.0 })
  check.raises(function() sp.solve(D, T.tensor { 0.0, 1.0, 0.0 }, { method = "cg", precond = "none" }) end,
               "CG needs a Hermitian positive definite matrix: p^H A p = -1+0i at iteration 1")
  check.raises(function() sp.solve(A, T.full({ 16 }, 0 / 0)) end, "NaN or infinite")
end)

check.done()
