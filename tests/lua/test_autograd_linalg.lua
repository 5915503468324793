-- test_autograd_linalg.lua -- backward rules of hebb.linalg: gradcheck (f64
-- finite differences, batched where the forward is), gradgradcheck on a few,
-- Hellmann-Feynman and Jacobi's formula as physics checks, and the errors.
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local L = require "hebb.linalg"
local test, eq, near, raises = check.test, check.eq, check.near, check.raises

T.manual_seed(11)
local rn = T.randn
local function gc(f, xs, o) eq(A.gradcheck(f, xs, o), true) end
local function ggc(f, xs) eq(A.gradgradcheck(f, xs), true) end
-- well-conditioned square matrices (random + 3 I), batch b if given
local function wc(n, b)
  local m = b and rn(b, n, n) or rn(n, n)
  return m + T.eye(n) * 3
end
local function sym(x) return (x + x:transpose(-2, -1)) * 0.5 end
local maxdiff = check.maxdiff

test("solve", function()
  gc(L.solve, { wc(3), rn(3, 2) })
  gc(L.solve, { wc(3), rn(3) })                 -- vector right-hand side
  gc(L.solve, { wc(3, 2), rn(3, 2) })           -- batch broadcast
  gc(L.solve, { wc(3, 2), rn(3) })
  ggc(L.solve, { wc(3), rn(3, 2) })
end)

test("inv_det_slogdet", function()
  gc(L.inv, { wc(3, 2) })
  ggc(L.inv, { wc(3) })
  gc(L.det, { wc(3) })
  gc(L.det, { wc(3, 2) })
  ggc(L.det, { wc(3) })
  gc(function(a) local _, l = L.slogdet(a); return l end, { wc(3, 2) })
end)

test("jacobi_formula", function()
  -- d det(A)/dA = det(A) A^-T, and d log|det A|/dA = A^-T exactly
  local a = wc(4)
  local g = A.grad(function(x) return L.det(x) end, a)
  local want = L.inv(a):t() * L.det(a):item()
  near(maxdiff(g, want), 0, 1e-12)
  local gl = A.grad(function(x) local _, l = L.slogdet(x); return l end, a)
  near(maxdiff(gl, L.inv(a):t()), 0, 1e-13)
end)

test("laplacian_of_log_det", function()
  -- d^2 log|det A| / dA_ij^2 = -(A^-1)_ji^2, so the Laplacian over all
  -- entries is -|A^-1|_F^2 (second derivatives through slogdet's rule)
  local a = wc(3)
  local lap = A.laplacian(function(x) local _, l = L.slogdet(x); return l end, a)
  local want = -(L.inv(a) ^ 2):sum()
  near(lap, want, 1e-10 * math.abs(want))
end)

test("cholesky", function()
  local function spd(x) return sym(x:matmul(x:transpose(-2, -1))) + T.eye(3) end
  gc(function(x) return L.cholesky(spd(x)) end, { rn(2, 3, 3) })
  ggc(function(x) return L.cholesky(spd(x)) end, { rn(3, 3) })
end)

test("qr", function()
  gc(function(a) local q, r = L.qr(a); return q:sum() + r:sum() * 0.7 end, { rn(4, 3) })
  gc(function(a) local q = L.qr(a); return q end, { rn(4, 3) })
  gc(function(a) local _, r = L.qr(a); return r end, { rn(2, 4, 3) })
  gc(function(a) local q, r = L.qr(a); return q:sum() + r:sum() * 0.7 end, { rn(2, 4) })
  gc(function(a) local _, r = L.qr(a); return r end, { rn(3, 3) })
end)

test("eigh_and_eigvalsh", function()
  gc(function(a) local w = L.eigh(sym(a)); return w end, { rn(2, 4, 4) })
  -- gauge-invariant functions of the eigenvectors: squares, projectors
  gc(function(a) local _, V = L.eigh(sym(a)); return V * V end, { rn(4, 4) })
  gc(function(a)
    local _, V = L.eigh(sym(a))
    local v = V:narrow(-1, 2, 1)
    return v:matmul(v:t())
  end, { rn(4, 4) })
  gc(function(a) return L.eigvalsh(sym(a)) end, { rn(2, 3, 3) })
  ggc(function(a) local w = L.eigh(sym(a)); return w end, { rn(3, 3) })
end)

test("hellmann_feynman", function()
  -- d(lowest eigenvalue)/dH = v v^T for the normalized ground state v
  local H = sym(rn(5, 5))
  local g = A.grad(function(h) local w = L.eigh(h); return w[1] end, H)
  local _, V = L.eigh(H)
  local v = V:narrow(2, 1, 1)
  near(maxdiff(g, v:matmul(v:t())), 0, 1e-12)
  -- and a first-order perturbation: lambda(H + eps P) - lambda(H) ~ eps v^T P v
  local P = sym(rn(5, 5))
  local eps = 1e-6
  local w1 = L.eigvalsh(H + P * eps)[1]
  local w0 = L.eigvalsh(H)[1]
  near((w1 - w0) / eps, (g * P):sum(), 1e-5)
end)

test("eigh_degenerate_eigenvectors_raise", function()
  local H = T.eye(3):requires_grad_()
  local _, V = L.eigh(H)
  raises(function() (V * V):sum():backward() end,
         "linalg.eigh backward: degenerate eigenvalues")
  -- eigenvalues alone are fine: d(sum w)/dH = I
  local H2 = T.eye(3):requires_grad_()
  local w = L.eigh(H2)
  w:sum():backward()
  near(maxdiff(H2.grad, T.eye(3)), 0, 1e-14)
end)

test("svd", function()
  gc(function(a) local _, s = L.svd(a); return s end, { rn(2, 4, 3) })
  gc(function(a) local u = L.svd(a); return u:matmul(u:t()) end, { rn(4, 3) })
  gc(function(a) local u, _, vh = L.svd(a); return u:matmul(vh) end, { rn(3, 5) })
  gc(function(a) local u, _, vh = L.svd(a); return u:abs():sum(1) + vh:abs():sum(2) end, { rn(4, 3) })
  gc(L.svdvals, { rn(2, 3, 4) })
  ggc(L.svdvals, { rn(3, 2) })
end)

test("truncated_svd_and_discarded_weight", function()
  gc(function(a)
    local u, s, vh = L.svd(a, { rank = 2 })
    return u:matmul(s:unsqueeze(-1) * vh)
  end, { rn(4, 3) })
  gc(function(a) local _, _, _, d = L.svd(a, { rank = 1 }); return d end, { rn(3, 4) })
  raises(function()
    local a = rn(3, 2):requires_grad_()
    local u = L.svd(a, { full = true })
    u:sum():backward()
  end, "full=true")
end)

test("expm_matrix_power_pinv_lstsq", function()
  gc(L.expm, { rn(2, 3, 3) })
  ggc(L.expm, { rn(2, 2) })
  -- d/dt tr expm(t A) at t = 1 is tr(A expm(A))
  local a = rn(3, 3)
  local g = A.grad(function(x) return L.expm(x):diagonal():sum() end, a)
  near(maxdiff(g, L.expm(a):t()), 0, 1e-12)
  gc(function(x) return L.matrix_power(x, 3) end, { rn(2, 3, 3) })
  gc(function(x) return L.matrix_power(x, -2) end, { wc(3) })
  gc(function(x) return L.matrix_power(x, 0) end, { rn(2, 2) })
  gc(L.pinv, { rn(4, 3) })
  gc(L.pinv, { rn(2, 3, 5) })
  gc(L.lstsq, { rn(5, 3), rn(5, 2) })
  gc(L.lstsq, { rn(5, 3), rn(5) })
  -- rank 2 in 4 x 3, kept rank 2 by the parametrization u v^T
  gc(function(u, v) return L.pinv(u:matmul(v:t())) end, { rn(4, 2), rn(3, 2) })
  gc(function(u, v, b) return L.lstsq(u:matmul(v:t()), b) end, { rn(4, 2), rn(3, 2), rn(4, 2) })
end)

test("norms_cond_and_psd_powers", function()
  gc(function(a) return L.norm(a) end, { rn(2, 3, 4) })
  gc(function(a) return L.norm(a, "nuc") end, { rn(3, 4) })
  gc(function(a) return L.norm(a, 2) end, { rn(2, 3, 4) })
  gc(function(a) return L.norm(a, -2) end, { rn(3, 4) })
  gc(L.cond, { rn(3, 4) })
  gc(function(a) return L.sqrtm_psd(a:matmul(a:t()) + T.eye(3)) end, { rn(3, 3) })
  gc(function(a) return L.powm_psd(a:matmul(a:t()) + T.eye(3), -0.7) end, { rn(3, 3) })
  raises(function()
    local a = rn(3, 3):requires_grad_()
    L.norm(a, 1):backward()
  end, "no derivative for linalg.norm with ord 1")
end)

test("general_eig", function()
  local function cr(...) return T.complex(rn(...), rn(...)) end
  gc(L.eigvals, { rn(2, 3, 3) })                 -- real A, complex w
  gc(L.eigvals, { cr(3, 3) })
  -- phase-invariant functions of the unit-norm eigenvectors
  gc(function(a) local _, V = L.eig(a); return V:abs() ^ 2 end, { rn(3, 3) })
  gc(function(a)
    local w, V = L.eig(a)
    local v = V:narrow(-1, 1, 1)
    return v:matmul(T.conj(v:t())) * w[1]
  end, { cr(3, 3) })
  eq(A.gradgradcheck(L.eigvals, { rn(3, 3) }), true)
  -- d(sum of eigenvalues)/dA = I (the trace)
  local g = A.grad(function(a) return T.real(L.eigvals(a)):sum() end, rn(4, 4))
  near(maxdiff(g, T.eye(4)), 0, 1e-12)
  local I = (T.eye(3) * 2):requires_grad_()
  local _, V = L.eig(I)
  raises(function() (V:abs() ^ 2):sum():backward() end,
         "linalg.eig backward: repeated eigenvalues")
end)

test("complex_hermitian_eigh", function()
  local function herm(z) return z + T.conj(z:t()) end
  local function cr(...) return T.complex(rn(...), rn(...)) end
  gc(function(z) local w = L.eigh(herm(z)); return w end, { cr(3, 3) })
  gc(function(z)
    local _, V = L.eigh(herm(z))
    local v = V:narrow(-1, 1, 1)
    return v:matmul(T.conj(v:t()))
  end, { cr(3, 3) })
end)

test("complex_matrices", function()
  local function cr(...) return T.complex(rn(...), rn(...)) end
  local cw = cr(3, 3) + T.eye(3) * 3
  gc(L.solve, { cw, cr(3, 2) })
  gc(L.inv, { cw })
  gc(L.det, { cw })
  gc(function(a) local _, l = L.slogdet(a); return l end, { cw })
  gc(function(a) local s, l = L.slogdet(a); return s * l end, { cw })  -- the phase too
  gc(L.expm, { cr(2, 2) })
  gc(function(a) return L.matrix_power(a, 3) end, { cr(2, 2) })
  gc(function(a) return L.cholesky(a:matmul(T.conj(a:t())) + T.eye(3)) end, { cr(3, 3) })
  gc(function(a) local _, r = L.qr(a); return r end, { cr(3, 2) })
  gc(function(a) local q = L.qr(a); return q end, { cr(2, 3) })
  gc(function(a) local u, _, vh = L.svd(a); return u:matmul(vh) end, { cr(3, 2) })
  gc(L.svdvals, { cr(3, 2) })
  gc(L.pinv, { cr(3, 2) })
  gc(L.norm, { cr(3, 2) })
  eq(A.gradgradcheck(L.inv, { cw }), true)
end)

check.done()
