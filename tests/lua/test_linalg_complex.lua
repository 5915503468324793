-- test_linalg_complex.lua -- hebb.linalg on complex matrices (c128 through
-- LAPACK's z routines, c64 through the c routines): reconstruction
-- identities, exact values, batches, unitary evolution, errors.
--
-- Tolerances: the routines are backward stable, so a residual such as
-- |A X - B| or |U S V^H - A| is at most a modest multiple of n eps |A|
-- (eps = 2.2e-16 for c128, 1.2e-7 for c64).  The matrices here have n <= 8
-- and entries of order 1-10, so n |A| <= ~100 and tol(dt) = 1000 eps
-- leaves a margin of ~10x; checks that compound several products (Penrose
-- conditions, expm followed by its inverse) scale it up by a stated factor.
local check = require "check"
local T = require "hebb.tensor"
local linalg = require "hebb.linalg"
local hebb = require "hebb"

local EPS = { c128 = 2.220446049250313e-16, c64 = 1.1920928955078125e-07 }
local REAL = { c128 = "f64", c64 = "f32" }
local function tol(dt, k) return 1000 * EPS[dt] * (k or 1) end

local maxdiff = check.maxdiff
local function near(a, b, t, what)
  local d = maxdiff(a, b)
  if not (d <= t) then
    error(string.format("%s: max |diff| = %g > %g", what or "tensor", d, t), 2)
  end
end
local function mT(a) return a:transpose(-2, -1) end
local function mH(a) return a:transpose(-2, -1):conj() end
local function eye(n, dt) return T.eye(n, { dtype = dt }) end
local function crandn(dt, ...)
  local shape = { ... }
  shape[#shape + 1] = { dtype = dt }
  return T.randn(table.unpack(shape))
end
-- a well-conditioned complex n x n matrix (shifted by n on the diagonal)
local function wellcond(dt, n, batch)
  local X = batch and crandn(dt, batch, n, n) or crandn(dt, n, n)
  return X + eye(n, dt) * n
end
-- a Hermitian positive definite matrix X X^H + I
local function hpd(dt, n, batch)
  local X = batch and crandn(dt, batch, n, n) or crandn(dt, n, n)
  return T.matmul(X, mH(X)) + eye(n, dt)
end
-- a complex number as a 0-d tensor of dtype dt
local function cnum(re, im, dt)
  return T.complex(T.tensor(re), T.tensor(im)):astype(dt)
end
local function cval(t) local re, im = t:item(); return re, im end
-- the largest |m_ij| strictly above (side "upper") or below the diagonal
local function offtri(M, side)
  local t, big = M:abs():totable(), 0
  for i = 1, #t do
    for j = 1, #t[i] do
      if (side == "upper" and j > i) or (side == "lower" and j < i) then
        big = math.max(big, t[i][j])
      end
    end
  end
  return big
end

local DTYPES = { "c128", "c64" }
T.manual_seed(7)

check.test("solve", function()
  for _, dt in ipairs(DTYPES) do
    local A, B = wellcond(dt, 6), crandn(dt, 6, 3)
    local X = linalg.solve(A, B)
    check.eq(X.dtype, dt)
    near(T.matmul(A, X), B, tol(dt), dt .. " A X = B")
    local b = crandn(dt, 6)
    local x = linalg.solve(A, b)
    check.eq(x.ndim, 1)
    near(T.matmul(A, x:unsqueeze(-1)):squeeze(-1), b, tol(dt), dt .. " vector b")
    -- batched, broadcasting one A over a batch of B
    local Ab, Bb = wellcond(dt, 4, 3), crandn(dt, 2, 3, 4, 2)
    local Xb = linalg.solve(Ab, Bb)
    check.same(Xb:size(), { 2, 3, 4, 2 })
    near(T.matmul(Ab, Xb), Bb, tol(dt), dt .. " batched")
  end
  -- exact: [[1, i], [i, 1]] x = (1, 0) has x = (1, -i) / 2  (det = 2)
  local A = T.complex(T.eye(2), T.tensor({ { 0, 1 }, { 1, 0 } }))
  local x = linalg.solve(A, T.complex(T.tensor({ 1, 0 }), T.zeros(2)))
  near(x, T.complex(T.tensor({ 0.5, 0 }), T.tensor({ 0, -0.5 })), 1e-15, "exact")
end)

-- Mixed operands compute in the joint dtype: complex if either is, double
-- if either is (f64 with c64 gives c128, as numpy does; integers count as
-- f64).
check.test("solve_mixed_dtypes", function()
  local Ar = T.tensor({ { 3, 1 }, { 1, 2 } })
  local b64 = crandn("c64", 2)
  check.eq(linalg.solve(Ar, b64).dtype, "c128")
  check.eq(linalg.solve(Ar:astype("f32"), b64).dtype, "c64")
  check.eq(linalg.solve(Ar:astype("i64"), b64).dtype, "c128")
  check.eq(linalg.solve(wellcond("c64", 2), T.ones(2)).dtype, "c128")
  check.eq(linalg.solve(wellcond("c64", 2), T.ones(2, { dtype = "f32" })).dtype, "c64")
  local Ac = wellcond("c128", 2)
  local x = linalg.solve(Ac, T.tensor({ 1, 2 }))
  near(T.matmul(Ac, x:unsqueeze(-1)):squeeze(-1), T.tensor({ 1, 2 }):astype("c128"), 1e-13, "real b")
end)

check.test("lstsq", function()
  for _, dt in ipairs(DTYPES) do
    -- overdetermined: the normal equations A^H (A x - b) = 0
    local A, b = crandn(dt, 8, 4), crandn(dt, 8, 2)
    local X = linalg.lstsq(A, b)
    check.eq(X.dtype, dt); check.same(X:size(), { 4, 2 })
    near(T.matmul(mH(A), T.matmul(A, X) - b), T.zeros(4, 2, { dtype = dt }), tol(dt, 10),
      dt .. " A^H (A x - b) = 0")
    -- underdetermined: the minimum-norm solution, pinv(A) b, solving exactly
    local W, c = crandn(dt, 3, 5), crandn(dt, 3)
    local x = linalg.lstsq(W, c)
    near(T.matmul(W, x:unsqueeze(-1)):squeeze(-1), c, tol(dt, 10), dt .. " W x = c")
    near(x, T.matmul(linalg.pinv(W), c:unsqueeze(-1)):squeeze(-1), tol(dt, 10), dt .. " min norm")
    -- batched
    local Ab, bb = crandn(dt, 3, 6, 2), crandn(dt, 3, 6, 1)
    local Xb = linalg.lstsq(Ab, bb)
    near(T.matmul(mH(Ab), T.matmul(Ab, Xb) - bb), T.zeros(3, 2, 1, { dtype = dt }),
      tol(dt, 10), dt .. " batched normal equations")
  end
end)

check.test("inv", function()
  for _, dt in ipairs(DTYPES) do
    local A = wellcond(dt, 5, 4)
    local Ai = linalg.inv(A)
    check.eq(Ai.dtype, dt)
    near(T.matmul(A, Ai), eye(5, dt), tol(dt), dt .. " A inv(A) = I")
    near(T.matmul(Ai, A), eye(5, dt), tol(dt), dt .. " inv(A) A = I")
    -- a strided (transposed) input: inv(A^T) = inv(A)^T
    near(linalg.inv(mT(A)), mT(Ai), tol(dt), dt .. " strided")
  end
  -- exact: inv(i I) = -i I
  near(linalg.inv(eye(3, "c128") * T.I), eye(3, "c128") * -T.I, 1e-16, "inv(iI)")
end)

check.test("det_slogdet", function()
  -- exact values: det [[1, i], [i, 1]] = 1 - i^2 = 2; det(i I_3) = -i;
  -- a row swap (pivoting) with complex entries: det [[0, i], [2, 1]] = -2i
  local function det(re, im) return linalg.det(T.complex(T.tensor(re), T.tensor(im))) end
  check.same({ cval(det({ { 1, 0 }, { 0, 1 } }, { { 0, 1 }, { 1, 0 } })) }, { 2, 0 }, 1e-15)
  check.same({ cval(linalg.det(eye(3, "c128") * T.I)) }, { 0, -1 }, 1e-15)
  check.same({ cval(det({ { 0, 0 }, { 2, 1 } }, { { 0, 1 }, { 0, 0 } })) }, { 0, -2 }, 1e-15)
  for _, dt in ipairs(DTYPES) do
    local A, B = wellcond(dt, 4), wellcond(dt, 4)
    local dA, dB, dAB = linalg.det(A), linalg.det(B), linalg.det(T.matmul(A, B))
    check.eq(dA.dtype, dt)
    local scale = (dA * dB):abs():item()
    check.truthy(maxdiff(dAB, dA * dB) <= tol(dt) * scale, dt .. " det(AB) = det A det B")
    -- the product of the eigenvalues (zgeev/cgeev)
    local pe = linalg.eigvals(A):prod()
    check.truthy(maxdiff(pe, dA) <= tol(dt) * dA:abs():item(), dt .. " det = prod eig")
    -- slogdet: sign a complex unit, det = sign * exp(logabsdet)
    local sign, logabs = linalg.slogdet(A)
    check.eq(sign.dtype, dt); check.eq(logabs.dtype, REAL[dt])
    check.near(sign:abs():item(), 1, 4 * EPS[dt])
    check.truthy(maxdiff(sign * logabs:exp(), dA) <= tol(dt) * dA:abs():item(), dt .. " slogdet")
    -- batched
    local Ab = wellcond(dt, 3, 5)
    local db = linalg.det(Ab)
    check.same(db:size(), { 5 })
    check.truthy(maxdiff(db[4], linalg.det(Ab[4])) == 0, dt .. " batch element 4")
    -- singular: det 0, sign 0, logabsdet -inf
    local S = T.complex(T.tensor({ { 1, 2 }, { 2, 4 } }), T.tensor({ { 1, 2 }, { 2, 4 } })):astype(dt)
    check.eq(linalg.det(S):abs():item(), 0)
    local s0, l0 = linalg.slogdet(S)
    check.eq(s0:abs():item(), 0); check.eq(l0:item(), -math.huge)
  end
  -- no overflow: det(10 e^{i pi/4} I_300) has |det| = 1e300 and phase 75 pi = pi
  local z = cnum(10 * math.cos(math.pi / 4), 10 * math.sin(math.pi / 4), "c128")
  local sign, logabs = linalg.slogdet(eye(300, "c128") * z)
  check.near(logabs:item(), 300 * math.log(10), 1e-11)
  check.same({ cval(sign) }, { -1, 0 }, 1e-12)
end)

check.test("cholesky", function()
  for _, dt in ipairs(DTYPES) do
    local A = hpd(dt, 6)
    local L = linalg.cholesky(A)
    check.eq(L.dtype, dt)
    near(T.matmul(L, mH(L)), A, tol(dt, 10), dt .. " L L^H = A")
    check.eq(offtri(L, "upper"), 0)
    -- a real positive diagonal
    for i = 1, 6 do
      local re, im = L:get(i, i)
      check.truthy(re > 0 and im == 0, dt .. " diagonal " .. i)
    end
    -- only the lower triangle is read
    local U = A:clone(); U:set(1, 2, 99)
    near(linalg.cholesky(U), L, 0, dt .. " reads the lower triangle")
    local Ab = hpd(dt, 4, 3)
    local Lb = linalg.cholesky(Ab)
    near(T.matmul(Lb, mH(Lb)), Ab, tol(dt, 10), dt .. " batched")
  end
  -- exact: [[4, 2i], [-2i, 5]] = L L^H with L = [[2, 0], [-i, 2]]
  local A = T.complex(T.tensor({ { 4, 0 }, { 0, 5 } }), T.tensor({ { 0, 2 }, { -2, 0 } }))
  near(linalg.cholesky(A), T.complex(T.tensor({ { 2, 0 }, { 0, 2 } }), T.tensor({ { 0, 0 }, { -1, 0 } })),
    1e-15, "exact")
end)

check.test("qr", function()
  for _, dt in ipairs(DTYPES) do
    for _, shape in ipairs({ { 7, 4 }, { 3, 6 }, { 5, 5 } }) do
      local m, n = shape[1], shape[2]
      local k = math.min(m, n)
      local A = crandn(dt, m, n)
      local Q, R = linalg.qr(A)
      check.eq(Q.dtype, dt); check.same(Q:size(), { m, k }); check.same(R:size(), { k, n })
      near(T.matmul(Q, R), A, tol(dt), dt .. " Q R = A")
      near(T.matmul(mH(Q), Q), eye(k, dt), tol(dt), dt .. " Q^H Q = I")
      check.eq(offtri(R, "lower"), 0)
    end
    local Ab = crandn(dt, 2, 3, 5, 3)
    local Qb, Rb = linalg.qr(Ab)
    near(T.matmul(Qb, Rb), Ab, tol(dt), dt .. " batched")
  end
end)

check.test("svd", function()
  for _, dt in ipairs(DTYPES) do
    for _, shape in ipairs({ { 7, 4 }, { 3, 6 } }) do
      local m, n = shape[1], shape[2]
      local k = math.min(m, n)
      local A = crandn(dt, m, n)
      local U, S, Vh = linalg.svd(A)
      check.eq(U.dtype, dt); check.eq(S.dtype, REAL[dt]); check.eq(Vh.dtype, dt)
      check.same(U:size(), { m, k }); check.same(Vh:size(), { k, n })
      near(T.matmul(U * S, Vh), A, tol(dt), dt .. " U S V^H = A")
      near(T.matmul(mH(U), U), eye(k, dt), tol(dt), dt .. " U^H U = I")
      near(T.matmul(Vh, mH(Vh)), eye(k, dt), tol(dt), dt .. " Vh Vh^H = I")
      local s = S:totable()
      for i = 2, k do check.truthy(s[i - 1] >= s[i], "descending") end
      -- the singular values are the square roots of eig(A^H A) / eig(A A^H)
      local G = m >= n and T.matmul(mH(A), A) or T.matmul(A, mH(A))
      local w, want = linalg.eigvalsh(G):sqrt():totable(), {}
      for i = 1, k do want[i] = w[k + 1 - i] end
      check.same(S, want, tol(dt, 10))
      near(linalg.svdvals(A), S, tol(dt), dt .. " svdvals")
      -- full: square unitary factors
      local Uf, Sf, Vhf = linalg.svd(A, { full = true })
      check.same(Uf:size(), { m, m }); check.same(Vhf:size(), { n, n })
      near(T.matmul(mH(Uf), Uf), eye(m, dt), tol(dt), dt .. " full U unitary")
      near(T.matmul(Vhf, mH(Vhf)), eye(n, dt), tol(dt), dt .. " full Vh unitary")
      local Sm = T.zeros(m, n, { dtype = dt })
      for i = 1, k do Sm:set(i, i, Sf:get(i)) end
      near(T.matmul(T.matmul(Uf, Sm), Vhf), A, tol(dt), dt .. " full U S Vh = A")
    end
    -- batched
    local Ab = crandn(dt, 4, 5, 3)
    local Ub, Sb, Vhb = linalg.svd(Ab)
    near(T.matmul(Ub * Sb:unsqueeze(-2), Vhb), Ab, tol(dt), dt .. " batched")
  end
end)

-- The discarded weight of a truncated SVD is the sum of the squares of the
-- dropped singular values, and equals |A - U S Vh|_F^2 (Eckart-Young).
check.test("svd_truncated", function()
  for _, dt in ipairs(DTYPES) do
    local A = crandn(dt, 9, 7)
    local s = linalg.svdvals(A):totable()
    local U, S, Vh, disc = linalg.svd(A, { rank = 3 })
    check.same(U:size(), { 9, 3 }); check.same(S:size(), { 3 }); check.same(Vh:size(), { 3, 7 })
    check.eq(disc.dtype, REAL[dt])
    local want = 0
    for i = 4, 7 do want = want + s[i] ^ 2 end
    check.near(disc:item(), want, tol(dt) * want)
    local err = linalg.norm(A - T.matmul(U * S, Vh)):item() ^ 2
    check.near(err, want, tol(dt, 10) * want)
    -- batched: one weight per matrix
    local Ab = crandn(dt, 3, 6, 6)
    local _, _, _, db = linalg.svd(Ab, { rank = 2 })
    check.same(db:size(), { 3 })
    local sb = linalg.svdvals(Ab[2]):totable()
    local w2 = 0
    for i = 3, 6 do w2 = w2 + sb[i] ^ 2 end
    check.near(db:get(2), w2, tol(dt) * w2)
  end
end)

-- Unitary evolution, the point of complex expm: for Hermitian H,
-- U = expm(-i H t) is unitary and equals V diag(e^{-i w t}) V^H with
-- H = V diag(w) V^H from eigh.
check.test("expm_unitary_evolution", function()
  for _, dt in ipairs(DTYPES) do
    for _, t in ipairs({ 0.01, 0.7, 30 }) do   -- Pade degrees 3..13, squaring
      local X = crandn(dt, 6, 6)
      local H = (X + mH(X)) * 0.5
      local U = linalg.expm(H * cnum(0, -t, dt))
      check.eq(U.dtype, dt)
      -- |H t| up to ~100 at t = 30: the squarings amplify rounding by |H t|
      local k = t > 1 and 10 or 1
      near(T.matmul(mH(U), U), eye(6, dt), tol(dt, k), dt .. " U^H U = I, t=" .. t)
      local w, V = linalg.eigh(H)
      local wt = w:astype("f64") * -t
      local phase = T.complex(wt:cos(), wt:sin()):astype(dt)
      near(U, T.matmul(V * phase, mH(V)), tol(dt, 10 * k), dt .. " V e^{-iwt} V^H, t=" .. t)
    end
  end
  -- exact: expm(diag(i a, -i b)) = diag(e^{ia}, e^{-ib})
  local D = T.complex(T.zeros(2, 2), T.tensor({ { 0.3, 0 }, { 0, -2 } }))
  local E = linalg.expm(D)
  check.same({ E:get(1, 1) }, { math.cos(0.3), math.sin(0.3) }, 1e-15)
  check.same({ E:get(2, 2) }, { math.cos(2), -math.sin(2) }, 1e-15)
  -- a general complex matrix: expm(A) expm(-A) = I; batched
  local A = crandn("c128", 3, 4, 4)
  near(T.matmul(linalg.expm(A), linalg.expm(-A)), eye(4, "c128"), 1e-12, "expm(A) expm(-A)")
  near(linalg.expm(A)[2], linalg.expm(A[2]), 0, "batch element 2")
end)

check.test("matrix_power", function()
  for _, dt in ipairs(DTYPES) do
    local A = wellcond(dt, 4) * (1 / 4)
    local A3 = linalg.matrix_power(A, 3)
    check.eq(A3.dtype, dt)
    near(A3, T.matmul(T.matmul(A, A), A), tol(dt), dt .. " A^3")
    local Ai = linalg.inv(A)
    near(linalg.matrix_power(A, -2), T.matmul(Ai, Ai), tol(dt, 10), dt .. " A^-2")
    near(linalg.matrix_power(A, 0), eye(4, dt), 0, dt .. " A^0")
    local Ab = wellcond(dt, 3, 2)
    near(linalg.matrix_power(Ab, 2), T.matmul(Ab, Ab), tol(dt, 10), dt .. " batched")
  end
  -- exact: (i I)^4 = I, (i I)^-1 = -i I
  local iI = eye(2, "c128") * T.I
  near(linalg.matrix_power(iI, 4), eye(2, "c128"), 0, "i^4")
  near(linalg.matrix_power(iI, -1), eye(2, "c128") * -T.I, 0, "i^-1")
end)

check.test("powm_sqrtm_hermitian", function()
  for _, dt in ipairs(DTYPES) do
    local H = hpd(dt, 5)
    local R = linalg.sqrtm_psd(H)
    check.eq(R.dtype, dt)
    near(R, mH(R), 0, dt .. " exactly Hermitian")
    near(T.matmul(R, R), H, tol(dt, 10), dt .. " R R = H")
    near(linalg.powm_psd(H, -1), linalg.inv(H), tol(dt, 10), dt .. " H^-1")
    local G = linalg.powm_psd(H, -0.5)
    near(T.matmul(T.matmul(G, H), G), eye(5, dt), tol(dt, 10), dt .. " H^-1/2 H H^-1/2")
  end
  -- exact: [[2, i], [-i, 2]] has eigenvalues 1, 3: its square is [[5, 4i], [-4i, 5]]
  local H = T.complex(T.tensor({ { 2, 0 }, { 0, 2 } }), T.tensor({ { 0, 1 }, { -1, 0 } }))
  near(linalg.powm_psd(H, 2), T.complex(T.tensor({ { 5, 0 }, { 0, 5 } }), T.tensor({ { 0, 4 }, { -4, 0 } })),
    1e-14, "exact square")
end)

-- the four Penrose conditions on a rank-deficient complex matrix
check.test("pinv_penrose", function()
  for _, dt in ipairs(DTYPES) do
    local A = T.matmul(crandn(dt, 6, 2), crandn(dt, 2, 4))   -- rank 2
    local P = linalg.pinv(A)
    check.eq(P.dtype, dt); check.same(P:size(), { 4, 6 })
    local AP, PA = T.matmul(A, P), T.matmul(P, A)
    near(T.matmul(AP, A), A, tol(dt, 10), dt .. " A P A = A")
    near(T.matmul(PA, P), P, tol(dt, 10), dt .. " P A P = P")
    near(mH(AP), AP, tol(dt, 10), dt .. " (A P)^H = A P")
    near(mH(PA), PA, tol(dt, 10), dt .. " (P A)^H = P A")
    local Ab = wellcond(dt, 3, 2)
    near(linalg.pinv(Ab), linalg.inv(Ab), tol(dt, 10), dt .. " batched, invertible")
  end
end)

check.test("norms_cond", function()
  for _, dt in ipairs(DTYPES) do
    local A = crandn(dt, 5, 3)
    local absA = A:abs()
    local s = linalg.svdvals(A):totable()
    local function n(ord) local v = linalg.norm(A, ord); check.eq(v.dtype, REAL[dt]); return v:item() end
    local t = tol(dt)
    check.near(n(), math.sqrt((absA ^ 2):sum()), t, dt .. " fro")
    check.near(n("nuc"), s[1] + s[2] + s[3], t, dt .. " nuc")
    check.near(n(2), s[1], t, dt .. " 2")
    check.near(n(-2), s[3], t, dt .. " -2")
    check.near(n(1), absA:sum(1):max(), t, dt .. " 1: column sums of |a|")
    check.near(n(-1), absA:sum(1):min(), t, dt .. " -1")
    check.near(n(math.huge), absA:sum(2):max(), t, dt .. " inf: row sums")
    check.near(n(-math.huge), absA:sum(2):min(), t, dt .. " -inf")
    local c = linalg.cond(A)
    check.eq(c.dtype, REAL[dt])
    check.near(c:item(), s[1] / s[3], tol(dt) * s[1] / s[3], dt .. " cond = s_max / s_min")
    -- a unitary matrix has cond 1 and 2-norm 1
    local Q = linalg.qr(crandn(dt, 4, 4))
    check.near(linalg.cond(Q):item(), 1, tol(dt), dt .. " cond(unitary)")
    -- batched: one number per matrix
    local Ab = crandn(dt, 3, 4, 4)
    local nb = linalg.norm(Ab, "nuc")
    check.same(nb:size(), { 3 })
    check.near(nb:get(3), linalg.norm(Ab[3], "nuc"):item(), 0)
  end
  -- exact: |[[3i, 4]]| fro = 5, 1-norm = 4, inf-norm = 7
  local A = T.complex(T.tensor({ { 0, 4 } }), T.tensor({ { 3, 0 } }))
  check.near(linalg.norm(A):item(), 5, 1e-15)
  check.near(linalg.norm(A, 1):item(), 4, 1e-15)
  check.near(linalg.norm(A, math.huge):item(), 7, 1e-15)
end)

check.test("threads_same_bits", function()
  local A = wellcond("c128", 6, 8)
  hebb.threads(1)
  local x1, s1, e1 = linalg.inv(A), linalg.svdvals(A), linalg.expm(A * 0.1)
  hebb.threads(2)
  local x2, s2, e2 = linalg.inv(A), linalg.svdvals(A), linalg.expm(A * 0.1)
  check.truthy(T.equal(x1, x2) and T.equal(s1, s2) and T.equal(e1, e2), "1 and 2 threads")
end)

-- empty matrices follow the real conventions: det 1, identity factors
check.test("empty", function()
  local Z = T.zeros(0, 0, { dtype = "c128" })
  check.same({ cval(linalg.det(Z)) }, { 1, 0 })
  check.same(linalg.inv(Z):size(), { 0, 0 })
  check.same(linalg.expm(T.zeros(2, 0, 0, { dtype = "c64" })):size(), { 2, 0, 0 })
  local U, S, Vh = linalg.svd(T.zeros(0, 3, { dtype = "c64" }), { full = true })
  check.same(U:size(), { 0, 0 }); check.same(S:size(), { 0 })
  near(Vh, eye(3, "c64"), 0, "full Vh of a 0 x 3 matrix")
  check.eq(linalg.norm(T.zeros(0, 3, { dtype = "c64" })):item(), 0)
end)

check.test("errors", function()
  local S = T.complex(T.tensor({ { 1, 2 }, { 2, 4 } }), T.zeros(2, 2))
  check.raises(function() linalg.solve(S, T.ones(2)) end,
    "linalg.solve: matrix is singular (zgetrf info=2: U(2,2) is exactly zero)")
  check.raises(function() linalg.inv(S:astype("c64")) end,
    "linalg.inv: matrix is singular (cgetrf info=2: U(2,2) is exactly zero)")
  check.raises(function() linalg.inv(T.stack({ eye(2, "c128"), S })) end,
    "linalg.inv: matrix 2 of the batch is singular (zgetrf info=2")
  check.raises(function() linalg.matrix_power(S, -1) end,
    "linalg.matrix_power: matrix is singular (zgetrf info=2")
  check.raises(function() linalg.cholesky(eye(2, "c128") * -1) end,
    "linalg.cholesky: matrix is not positive definite (zpotrf info=1")
  check.raises(function() linalg.cholesky(T.complex(T.eye(2), T.tensor({ { 0, 2 }, { -2, 0 } })):astype("c64")) end,
    "linalg.cholesky: matrix is not positive definite (cpotrf info=2")
  check.raises(function() linalg.sqrtm_psd(eye(2, "c128") * -1) end,
    "linalg.sqrtm_psd: matrix is not positive semidefinite (eigenvalue 1 is -1)")
  check.raises(function() linalg.inv(crandn("c128", 2, 3)) end,
    "linalg.inv: expects square matrices, got shape {2,3}")
  check.raises(function() linalg.det(crandn("c64", 3, 2)) end,
    "linalg.det: expects square matrices, got shape {3,2}")
  check.raises(function() linalg.expm(crandn("c128", 3)) end,
    "linalg.expm: expects a matrix (a tensor of at least 2 dimensions), got a 1-d tensor")
  check.raises(function() linalg.solve(crandn("c128", 3, 3), crandn("c64", 2)) end,
    "linalg.solve: A has shape {3,3} but B has 2 rows (shape {2})")
  check.raises(function() linalg.svd(T.full({ 3, 3 }, 0 / 0) * T.I) end,
    "linalg.svd: the matrix holds NaN; LAPACK's zgesdd needs finite entries")
end)

check.done()
