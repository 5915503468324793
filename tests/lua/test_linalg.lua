-- test_linalg.lua -- hebb.linalg: identities, exact spectra, errors.
-- Tolerances: LAPACK's backward-stable routines give residuals of a few
-- n * eps * |A| (eps = 2.2e-16 in f64, 1.2e-7 in f32); the matrices here
-- have n <= 64 and entries of order 1-10, so 1e-12 (f64) and 1e-4 (f32)
-- leave a margin of ~10x over n * eps * |A| without hiding real errors.
local check = require "check"
local T = require "hebb.tensor"
local linalg = require "hebb.linalg"
local hebb = require "hebb"

local maxdiff = check.maxdiff
local function near(a, b, tol, what)
  local d = maxdiff(a, b)
  if not (d <= tol) then error(string.format("%s: max |diff| = %g > %g", what or "tensor", d, tol), 2) end
end
local function mT(a) return a:transpose(-2, -1) end

-- a well-conditioned random n x n matrix (diagonally shifted)
local function wellcond(n, batch)
  local shape = batch and {batch, n, n} or {n, n}
  return T.randn(shape) + T.eye(n) * n
end
local function spd(n)
  local m = T.randn(n, n)
  return T.matmul(m, mT(m)) + T.eye(n)
end

-- the 1-d periodic lattice Laplacian: 2 on the diagonal, -1 to neighbours
local function laplacian1d(N)
  local L = T.zeros(N, N)
  for i = 1, N do
    L:set(i, i, 2)
    L:set(i, i % N + 1, -1)
    L:set(i % N + 1, i, -1)
  end
  return L
end

local function sorted(t) table.sort(t); return t end

T.manual_seed(42)
local A3 = T.tensor({{4, 1, 0}, {1, 3, 1}, {0, 1, 2}})   -- eigenvalues 3, 3 -+ sqrt 3
local M32 = T.tensor({{1, 2}, {3, 4}, {5, 6}})

check.test("solve_residual", function()
  local A, B = wellcond(6), T.randn(6, 3)
  local X = linalg.solve(A, B)
  check.eq(X:size()[1], 6); check.eq(X:size()[2], 3)
  near(T.matmul(A, X), B, 1e-12, "A X - B")
  local x = linalg.solve(A3, T.tensor({1, 2, 3}))
  check.same(x, {2 / 9, 1 / 9, 13 / 9}, 1e-14)   -- exact: (A3)^-1 (1,2,3)
  check.eq(x.ndim, 1)
end)

check.test("solve_batched_broadcast", function()
  local A, B = wellcond(4, 3), T.randn(3, 4, 2)
  local X = linalg.solve(A, B)
  near(T.matmul(A, X), B, 1e-12, "batched residual")
  for k = 1, 3 do near(X[k], linalg.solve(A[k], B[k]), 0, "matrix " .. k) end
  local A1 = wellcond(4)                        -- one A for every B
  local X1 = linalg.solve(A1, B)
  check.same(X1:size(), {3, 4, 2})
  near(T.matmul(A1, X1), B, 1e-12, "broadcast residual")
end)

check.test("solve_strided_and_integer", function()
  local A = wellcond(5)
  local At = mT(A)                               -- a transposed view
  check.truthy(not At:is_contiguous(), "view")
  local b = T.randn(5)
  near(T.matmul(At, linalg.solve(At, b)), b, 1e-12, "transposed A")
  local Ai = T.tensor({{2, 1}, {1, 3}}, "i64")
  local x = linalg.solve(Ai, T.tensor({3, 5}, "i64"))
  check.eq(x.dtype, "f64")
  check.same(x, {0.8, 1.4}, 1e-15)
end)

check.test("lstsq", function()
  -- normal equations: M^T M = [[35,44],[44,56]], M^T b = (27,34): x = (2/3, 1/12)
  check.same(linalg.lstsq(M32, T.tensor({1, 2, 4})), {2 / 3, 1 / 12}, 1e-14)
  local X = linalg.lstsq(M32, T.tensor({{1, 0}, {2, 0}, {4, 0}}))
  check.same(X, {{2 / 3, 0}, {1 / 12, 0}}, 1e-14)
  -- underdetermined: the minimum-norm solution pinv(A) b
  local W = T.randn(2, 5)
  local b = T.randn(2)
  near(linalg.lstsq(W, b), T.matmul(linalg.pinv(W), b), 1e-12, "min norm")
  local Ab, Bb = T.randn(3, 6, 4), T.randn(3, 6, 2)
  local Xb = linalg.lstsq(Ab, Bb)
  check.same(Xb:size(), {3, 4, 2})
  for k = 1, 3 do near(Xb[k], linalg.lstsq(Ab[k], Bb[k]), 0, "batch " .. k) end
end)

check.test("inv", function()
  local A = wellcond(7)
  near(T.matmul(linalg.inv(A), A), T.eye(7), 1e-12, "inv(A) A")
  local Ab = wellcond(4, 3)
  local Ib = linalg.inv(Ab)
  near(T.matmul(Ib, Ab), T.eye(4):expand(3, 4, 4), 1e-12, "batched")
  check.same(linalg.inv(T.tensor({{2, 0}, {0, 4}})), {{0.5, 0}, {0, 0.25}}, 0)
end)

check.test("det_slogdet", function()
  check.near(linalg.det(A3):item(), 18, 1e-13)
  check.near(linalg.det(T.tensor({{0, 1}, {1, 0}})):item(), -1, 0)  -- a swap
  local s, l = linalg.slogdet(A3)
  check.eq(s:item(), 1); check.near(l:item(), math.log(18), 1e-14)
  local S = spd(6)
  local w = linalg.eigvalsh(S)
  local prod = 1
  for _, v in ipairs(w:totable()) do prod = prod * v end
  check.near(linalg.det(S):item() / prod, 1, 1e-12, "det = product of eigenvalues")
  local sg, la = linalg.slogdet(T.tensor({{1, 2}, {2, 4}}))
  check.eq(sg:item(), 0); check.eq(la:item(), -math.huge)
  check.eq(linalg.det(T.tensor({{1, 2}, {2, 4}})):item(), 0)
  local d = linalg.det(T.stack({A3, -A3}))
  check.same(d, {18, -18}, 1e-13)
  check.eq(linalg.det(T.zeros(0, 0)):item(), 1)     -- the empty product
  -- slogdet does not overflow where det does: det(10 I_400) = 1e400
  local s2, l2 = linalg.slogdet(T.eye(400) * 10)
  check.eq(s2:item(), 1); check.near(l2:item(), 400 * math.log(10), 1e-10)
  check.eq(linalg.det(T.eye(400) * 10):item(), math.huge)
end)

check.test("cholesky", function()
  local S = spd(8)
  local L = linalg.cholesky(S)
  near(T.matmul(L, mT(L)), S, 1e-12, "L L^T")
  for i = 1, 8 do for j = i + 1, 8 do check.eq(L:get(i, j), 0, "upper") end end
  check.same(linalg.cholesky(T.tensor({{4, 2}, {2, 5}})), {{2, 0}, {1, 2}}, 1e-15)
  -- only the lower triangle is read
  check.same(linalg.cholesky(T.tensor({{4, 99}, {2, 5}})), {{2, 0}, {1, 2}}, 1e-15)
end)

check.test("qr", function()
  for _, shape in ipairs({{6, 4}, {4, 6}, {5, 5}}) do
    local A = T.randn(shape[1], shape[2])
    local Q, R = linalg.qr(A)
    local k = math.min(shape[1], shape[2])
    check.same(Q:size(), {shape[1], k}); check.same(R:size(), {k, shape[2]})
    near(T.matmul(Q, R), A, 1e-12, "QR = A")
    near(T.matmul(mT(Q), Q), T.eye(k), 1e-13, "Q^T Q = I")
    for i = 1, k do for j = 1, i - 1 do check.eq(R:get(i, j), 0) end end
  end
  local Ab = T.randn(3, 5, 3)
  local Q, R = linalg.qr(Ab)
  near(T.matmul(Q, R), Ab, 1e-12, "batched")
end)

check.test("eigh_identities", function()
  local S = spd(10)
  local w, V = linalg.eigh(S)
  near(T.matmul(S, V), V * w, 1e-11, "A V = V diag(w)")
  near(T.matmul(mT(V), V), T.eye(10), 1e-13, "V^T V = I")
  local t = w:totable()
  for i = 2, 10 do check.truthy(t[i - 1] <= t[i], "ascending") end
  check.same(linalg.eigvalsh(A3), {3 - math.sqrt(3), 3, 3 + math.sqrt(3)}, 1e-14)
  -- only the lower triangle is read
  local lower = T.tensor({{4, 7, 7}, {1, 3, 7}, {0, 1, 2}})
  check.same(linalg.eigvalsh(lower), {3 - math.sqrt(3), 3, 3 + math.sqrt(3)}, 1e-14)
end)

check.test("eigh_laplacian_1d", function()
  local N = 16
  local want = {}
  for n = 0, N - 1 do want[#want + 1] = 4 * math.sin(math.pi * n / N) ^ 2 end
  local w, V = linalg.eigh(laplacian1d(N))
  check.same(w, sorted(want), 1e-13)
  near(T.matmul(laplacian1d(N), V), V * w, 1e-13, "eigen-equation")
  -- f32: LAPACK's s routines, eps 1.2e-7
  local w32 = linalg.eigvalsh(laplacian1d(N):astype("f32"))
  check.eq(w32.dtype, "f32")
  check.same(w32, sorted(want), 1e-5)
end)

check.test("eigh_laplacian_2d", function()
  local L, N = 8, 64
  local H = T.zeros(N, N)
  local function site(x, y) return (x - 1) * L + y end
  for x = 1, L do for y = 1, L do
    local i = site(x, y)
    H:set(i, i, 4)
    for _, nb in ipairs({site(x % L + 1, y), site(x, y % L + 1)}) do
      H:set(i, nb, -1); H:set(nb, i, -1)
    end
  end end
  local want = {}
  for a = 0, L - 1 do for b = 0, L - 1 do
    want[#want + 1] = 4 * math.sin(math.pi * a / L) ^ 2 + 4 * math.sin(math.pi * b / L) ^ 2
  end end
  check.same(linalg.eigvalsh(H), sorted(want), 1e-12)
end)

-- complex Hermitian matrices (zheevd/cheevd): real ascending eigenvalues
local function herm(n, batch, dtype)
  local X = batch and T.randn(batch, n, n, {dtype = dtype or "c128"})
                   or T.randn(n, n, {dtype = dtype or "c128"})
  return X + mT(X):conj()
end
local function mH(a) return mT(a):conj() end

check.test("eigh_complex_2x2", function()
  -- [[a, b], [conj b, d]]: (a+d)/2 -+ sqrt(((a-d)/2)^2 + |b|^2) = 2.5 -+ 1.5
  local A = T.complex(T.tensor({{2, 1}, {1, 3}}), T.tensor({{0, -1}, {1, 0}}))
  local w, V = linalg.eigh(A)
  check.eq(w.dtype, "f64"); check.eq(V.dtype, "c128")
  check.same(w, {1, 4}, 1e-14)
  near(T.matmul(A, V), V * w, 1e-14, "A V = V diag(w)")
  near(T.matmul(mH(V), V), T.eye(2), 1e-15, "V^H V = I")
  check.same(linalg.eigvalsh(A), {1, 4}, 1e-14)
  -- only the lower triangle is read (the upper one is its conjugate)
  local lower = A:clone(); lower:set(1, 2, 99)
  check.same(linalg.eigvalsh(lower), {1, 4}, 1e-14)
end)

check.test("eigh_complex_random", function()
  local H = herm(12)
  local w, V = linalg.eigh(H)
  near(T.matmul(H, V), V * w, 1e-12, "A V = V diag(w)")
  near(T.matmul(mH(V), V), T.eye(12), 1e-13, "V^H V = I")
  local t = w:totable()
  for i = 2, 12 do check.truthy(t[i - 1] <= t[i], "ascending") end
  near(linalg.eigvalsh(H), w, 1e-12, "eigvalsh = eigh's w")
  -- the transpose (a strided view) is conj(H): same eigenvalues
  near(linalg.eigvalsh(mT(H)), w, 1e-12, "strided input")
  -- a real symmetric matrix as c128 agrees with dsyevd
  near(linalg.eigvalsh(T.complex(A3, T.zeros(3, 3))), linalg.eigvalsh(A3), 1e-14, "real")
  -- batches, and the same bits at 1 and 2 threads
  local B = herm(6, 5)
  local wb, Vb = linalg.eigh(B)
  check.eq(wb.shape[1], 5); check.eq(Vb.shape[3], 6)
  near(T.matmul(B, Vb), Vb * wb:unsqueeze(-2), 1e-12, "batched")
  near(wb[3], linalg.eigvalsh(B[3]), 1e-12, "batch element 3")
  hebb.threads(1); local w1 = linalg.eigvalsh(B)
  hebb.threads(2); local w2 = linalg.eigvalsh(B)
  check.truthy(T.equal(w1, w2), "1 and 2 threads")
  -- c64: cheevd, f32 eigenvalues
  local H32 = herm(8, nil, "c64")
  local w32, V32 = linalg.eigh(H32)
  check.eq(w32.dtype, "f32"); check.eq(V32.dtype, "c64")
  near(T.matmul(H32, V32), V32 * w32, 1e-4, "c64 eigen-equation")
  -- empty
  local we = linalg.eigvalsh(T.zeros(0, 0, {dtype = "c128"}))
  check.eq(we.shape[1], 0)
end)

-- general matrices (zgeev/cgeev): complex eigenvalues in LAPACK's order
local function sorted_eigs(w)   -- {re, im} pairs sorted by re, then im
  local t = {}
  for i = 1, w.shape[1] do
    local re, im = w:get(i)
    t[i] = {re, im}
  end
  table.sort(t, function(a, b)
    if math.abs(a[1] - b[1]) > 1e-9 then return a[1] < b[1] end
    return a[2] < b[2]
  end)
  return t
end
local function colnorms(V) return (V:abs() ^ 2):sum(-2):sqrt() end

check.test("eig_exact", function()
  -- the rotation generator: +-i
  local R = T.tensor({{0, -1}, {1, 0}})
  local w, V = linalg.eig(R)
  check.eq(w.dtype, "c128"); check.eq(V.dtype, "c128")
  check.same(sorted_eigs(w), {{0, -1}, {0, 1}}, 1e-15)
  near(T.matmul(R, V), V * w, 1e-15, "A V = V diag(w)")
  -- triangular: the diagonal; the companion matrix of (x-1)(x-2)(x-3)
  check.same(sorted_eigs(linalg.eigvals(T.tensor({{2, 1}, {0, 3}}))), {{2, 0}, {3, 0}}, 1e-15)
  local C = T.tensor({{6, -11, 6}, {1, 0, 0}, {0, 1, 0}})
  check.same(sorted_eigs(linalg.eigvals(C)), {{1, 0}, {2, 0}, {3, 0}}, 1e-12)
  -- a complex input: diag(1+2i, -i) plus a nilpotent part
  local Z = T.complex(T.tensor({{1, 5}, {0, 0}}), T.tensor({{2, 0}, {0, -1}}))
  check.same(sorted_eigs(linalg.eigvals(Z)), {{0, -1}, {1, 2}}, 1e-14)
end)

check.test("eig_random", function()
  local B = T.randn(7, 7)
  local w, V = linalg.eig(B)
  near(T.matmul(B, V), V * w, 1e-13, "A V = V diag(w)")
  near(colnorms(V), T.ones(7), 1e-14, "unit columns")
  near(linalg.eigvals(B), w, 1e-13, "eigvals = eig's w")
  -- the transpose, a strided view
  local wt, Vt = linalg.eig(mT(B))
  near(T.matmul(mT(B), Vt), Vt * wt, 1e-13, "strided input")
  -- integer input computes in c128, f32 and c64 in c64
  check.eq(linalg.eigvals(T.tensor({{1, 2}, {3, 4}}, {dtype = "i64"})).dtype, "c128")
  local F = T.randn(5, 5, {dtype = "f32"})
  local wf, Vf = linalg.eig(F)
  check.eq(wf.dtype, "c64")
  near(T.matmul(F, Vf), Vf * wf, 1e-4, "f32")
  -- batches, and the same bits at 1 and 2 threads
  local Bb = T.randn(4, 6, 6, {dtype = "c128"})
  local wb, Vb = linalg.eig(Bb)
  near(T.matmul(Bb, Vb), Vb * wb:unsqueeze(-2), 1e-12, "batched")
  hebb.threads(1); local w1 = linalg.eigvals(Bb)
  hebb.threads(2); local w2 = linalg.eigvals(Bb)
  check.truthy(T.equal(w1, w2), "1 and 2 threads")
  check.eq(linalg.eigvals(T.zeros(0, 0)).shape[1], 0)
  check.raises(function() linalg.eig(M32) end,
    "linalg.eig: expects square matrices, got shape {3,2}")
end)

check.test("svd_identities", function()
  for _, shape in ipairs({{7, 4}, {4, 7}, {5, 5}}) do
    local A = T.randn(shape[1], shape[2])
    local U, S, Vh = linalg.svd(A)
    local k = math.min(shape[1], shape[2])
    check.same(U:size(), {shape[1], k}); check.same(Vh:size(), {k, shape[2]})
    near(T.matmul(U * S, Vh), A, 1e-12, "U S Vh = A")
    near(T.matmul(mT(U), U), T.eye(k), 1e-13, "U^T U")
    near(T.matmul(Vh, mT(Vh)), T.eye(k), 1e-13, "Vh Vh^T")
    local s = S:totable()
    for i = 2, k do check.truthy(s[i - 1] >= s[i], "descending") end
    local Uf, Sf, Vhf = linalg.svd(A, {full = true})
    check.same(Uf:size(), {shape[1], shape[1]}); check.same(Vhf:size(), {shape[2], shape[2]})
    near(T.matmul(mT(Uf), Uf), T.eye(shape[1]), 1e-13, "full U orthogonal")
    near(T.matmul(Vhf, mT(Vhf)), T.eye(shape[2]), 1e-13, "full Vh orthogonal")
    near(Sf, S, 1e-13, "same S")
  end
  -- exact: singular values of M32 are sqrt((91 -+ sqrt 8185) / 2)
  check.same(linalg.svdvals(M32), {math.sqrt((91 + math.sqrt(8185)) / 2),
                                   math.sqrt((91 - math.sqrt(8185)) / 2)}, 1e-14)
  local Ab = T.randn(3, 4, 4)
  local U, S, Vh = linalg.svd(Ab)
  near(T.matmul(U * S:unsqueeze(-2), Vh), Ab, 1e-12, "batched")
end)

check.test("svd_truncated", function()
  local A = T.randn(8, 6)
  local s = linalg.svdvals(A):totable()
  local U, S, Vh, disc = linalg.svd(A, {rank = 3})
  check.same(U:size(), {8, 3}); check.same(S:size(), {3}); check.same(Vh:size(), {3, 6})
  check.truthy(U:is_contiguous() and Vh:is_contiguous(), "contiguous")
  local want = s[4] ^ 2 + s[5] ^ 2 + s[6] ^ 2
  check.near(disc:item(), want, 1e-12, "discarded weight")
  -- Eckart-Young: the discarded weight is |A - A_3|_F^2
  local err = linalg.norm(A - T.matmul(U * S, Vh)) ^ 2
  check.near(err:item(), want, 1e-12, "|A - A_chi|_F^2")
  local _, S9, _, d9 = linalg.svd(A, {rank = 9})         -- more than min(m, n)
  check.eq(S9:size()[1], 6); check.eq(d9:item(), 0)
  local _, _, _, db = linalg.svd(T.randn(3, 5, 4), {rank = 2})
  check.same(db:size(), {3})
end)

check.test("expm", function()
  -- the rotation generator at norms in every Pade range (3, 5, 7, 9, 13,
  -- and scaled): expm(t [[0,-1],[1,0]]) = [[cos t, -sin t], [sin t, cos t]]
  for _, t in ipairs({0.01, 0.2, 0.9, 2, 5, 40}) do
    local R = linalg.expm(T.tensor({{0, -t}, {t, 0}}))
    local c, s = math.cos(t), math.sin(t)
    check.same(R, {{c, -s}, {s, c}}, 1e-14 * math.max(1, t), "t = " .. t)
  end
  local D = linalg.expm(T.tensor({{1, 0, 0}, {0, -2, 0}, {0, 0, 10}}))
  check.near(D:get(1, 1), math.exp(1), 1e-15 * math.exp(1))
  check.near(D:get(2, 2), math.exp(-2), 1e-15)
  check.near(D:get(3, 3) / math.exp(10), 1, 1e-14)
  check.eq(D:get(1, 2), 0)
  check.same(linalg.expm(T.tensor({{0, 1}, {0, 0}})), {{1, 1}, {0, 1}}, 1e-15)
  local A = T.randn(5, 5)
  near(T.matmul(linalg.expm(A), linalg.expm(-A)), T.eye(5), 1e-12, "e^A e^-A")
  local Ab = T.randn(3, 4, 4)
  local Eb = linalg.expm(Ab)
  for k = 1, 3 do near(Eb[k], linalg.expm(Ab[k]), 0, "batch " .. k) end
  local E32 = linalg.expm(T.tensor({{0, -1}, {1, 0}}, "f32"))
  check.eq(E32.dtype, "f32")
  check.same(E32, {{math.cos(1), -math.sin(1)}, {math.sin(1), math.cos(1)}}, 1e-7)
end)

check.test("matrix_power", function()
  local A = T.randn(5, 5) * 0.5
  local P = A
  for _ = 2, 7 do P = T.matmul(P, A) end
  near(linalg.matrix_power(A, 7), P, 1e-13, "A^7")
  check.truthy(T.equal(linalg.matrix_power(A, 1), A), "A^1 = A")
  check.truthy(T.equal(linalg.matrix_power(A, 0), T.eye(5)), "A^0 = I")
  local B = wellcond(4)
  local Bi = linalg.inv(B)
  near(linalg.matrix_power(B, -3), T.matmul(T.matmul(Bi, Bi), Bi), 1e-14, "A^-3")
  local Ab = T.randn(3, 4, 4)
  near(linalg.matrix_power(Ab, 2), T.matmul(Ab, Ab), 1e-14, "batched")
  check.same(linalg.matrix_power(T.tensor({{1, 1}, {1, 0}}), 30),
             {{1346269, 832040}, {832040, 514229}}, 0)   -- Fibonacci, exact
end)

check.test("sqrtm_powm_psd", function()
  local S = spd(6)
  local R = linalg.sqrtm_psd(S)
  near(T.matmul(R, R), S, 1e-12, "sqrt^2")
  check.truthy(T.equal(R, mT(R)), "exactly symmetric")
  near(linalg.powm_psd(S, -1), linalg.inv(S), 1e-12, "power -1")
  near(linalg.powm_psd(S, 1), S, 1e-12, "power 1")
  near(linalg.powm_psd(S, 0), T.eye(6), 1e-13, "power 0")
  -- the covariant-GD metric (M^2)^(1/2) of a symmetric M is |M|: for
  -- M = A3 (positive) it is A3 itself
  near(linalg.powm_psd(T.matmul(A3, A3), 0.5), A3, 1e-13, "(M^2)^1/2")
  -- rank-deficient PSD v v^T: the tiny negative eigenvalues are clamped
  local v = T.randn(5, 1)
  local P = T.matmul(v, mT(v))
  local Pr = linalg.sqrtm_psd(P)
  near(T.matmul(Pr, Pr), P, 1e-12, "clamped")
  local n2 = linalg.norm(v):item() ^ 2
  near(Pr, P / math.sqrt(n2), 1e-12, "sqrt(v v^T) = v v^T / |v|")
  local f = linalg.powm_psd(T.stack({S, S}), 0.5)
  near(f[2], R, 0, "batched")
end)

check.test("pinv", function()
  local A = T.randn(6, 4)
  local P = linalg.pinv(A)
  check.same(P:size(), {4, 6})
  near(T.matmul(T.matmul(A, P), A), A, 1e-12, "A A+ A = A")
  near(P, T.matmul(linalg.inv(T.matmul(mT(A), A)), mT(A)), 1e-12, "(A^T A)^-1 A^T")
  -- rank one: pinv(v w^T) = w v^T / (|v|^2 |w|^2)
  local r = linalg.pinv(T.tensor({{1, 2}, {2, 4}}))
  check.same(r, {{1 / 25, 2 / 25}, {2 / 25, 4 / 25}}, 1e-15)
end)

check.test("norm_cond", function()
  local r3 = math.sqrt(3)
  check.near(linalg.norm(A3):item(), math.sqrt(33), 1e-14, "fro")
  check.near(linalg.norm(A3, "fro"):item(), math.sqrt(33), 1e-14)
  check.near(linalg.norm(A3, "nuc"):item(), 9, 1e-14, "nuc")
  check.near(linalg.norm(A3, 2):item(), 3 + r3, 1e-14, "2")
  check.near(linalg.norm(A3, -2):item(), 3 - r3, 1e-14, "-2")
  check.eq(linalg.norm(M32, 1):item(), 12)
  check.eq(linalg.norm(M32, -1):item(), 9)
  check.eq(linalg.norm(M32, math.huge):item(), 11)
  check.eq(linalg.norm(M32, "inf"):item(), 11)
  check.eq(linalg.norm(M32, -math.huge):item(), 3)
  check.near(linalg.cond(A3):item(), (3 + r3) / (3 - r3), 1e-13, "cond")
  check.eq(linalg.cond(T.tensor({{1, 2}, {2, 4}})):item() > 1e15, true)
  check.same(linalg.norm(T.stack({A3, 2 * A3})), {math.sqrt(33), 2 * math.sqrt(33)}, 1e-13)
  check.near(linalg.norm(T.full({2, 2}, 1e200)):item() / 2e200, 1, 1e-15, "no overflow")
end)

check.test("f32", function()
  local A = wellcond(6):astype("f32")
  local B = T.randn(6, 2):astype("f32")
  local X = linalg.solve(A, B)
  check.eq(X.dtype, "f32")
  near(T.matmul(A, X), B, 1e-4, "f32 residual")
  local U, S, Vh = linalg.svd(A)
  check.eq(U.dtype, "f32"); check.eq(S.dtype, "f32")
  near(T.matmul(U * S, Vh), A, 1e-4, "f32 svd")
  local Q, R = linalg.qr(A)
  near(T.matmul(Q, R), A, 1e-4, "f32 qr")
  local L = linalg.cholesky(spd(5):astype("f32"))
  check.eq(L.dtype, "f32")
  near(linalg.inv(A):matmul(A), T.eye(6, {dtype = "f32"}), 1e-5, "f32 inv")
  check.eq(linalg.det(A).dtype, "f32")
  check.eq(linalg.lstsq(A, B).dtype, "f32")
  check.eq(linalg.pinv(A).dtype, "f32")
  check.eq(linalg.matrix_power(A, 3).dtype, "f32")
  check.eq(linalg.sqrtm_psd(spd(4):astype("f32")).dtype, "f32")
  check.eq(linalg.norm(A, 2).dtype, "f32")
  -- mixed f32 / f64 solves in f64
  check.eq(linalg.solve(A, T.randn(6)).dtype, "f64")
end)

check.test("inputs_unchanged", function()
  local S, G, B = spd(5), T.randn(5, 5), T.randn(5, 2)
  local S0, G0, B0 = S:clone(), G:clone(), B:clone()
  linalg.solve(S, B); linalg.lstsq(G, B); linalg.inv(S); linalg.det(G)
  linalg.slogdet(G); linalg.cholesky(S); linalg.qr(G); linalg.eigh(S)
  linalg.eigvalsh(S); linalg.svd(G); linalg.svd(G, {full = true})
  linalg.svd(G, {rank = 2}); linalg.svdvals(G); linalg.expm(G)
  linalg.matrix_power(G, 3); linalg.matrix_power(S, -2); linalg.sqrtm_psd(S)
  linalg.powm_psd(S, -0.5); linalg.pinv(G); linalg.norm(G, 2); linalg.norm(G, 1)
  linalg.cond(G)
  check.truthy(T.equal(S, S0) and T.equal(G, G0) and T.equal(B, B0), "unchanged")
  pcall(linalg.cholesky, G); pcall(linalg.solve, T.zeros(5, 5), B)
  check.truthy(T.equal(G, G0) and T.equal(B, B0), "unchanged after errors")
end)

-- a batch of 64 runs in parallel, one of 4 stays on the calling thread
-- (where OpenBLAS would thread by itself if hebb let it)
check.test("threads_same_bits", function()
  local As, Bs = T.randn(64, 16, 16), T.randn(4, 16, 16)
  local Ss, Ts = T.matmul(As, mT(As)), T.matmul(Bs, mT(Bs))
  local function run()
    local w, V = linalg.eigh(Ss)
    local U, S, Vh = linalg.svd(As)
    local w2, V2 = linalg.eigh(Ts)
    return {w, V, U, S, Vh, linalg.inv(As), linalg.expm(As * 0.1), w2, V2,
            linalg.svdvals(Bs), linalg.qr(Bs), linalg.sqrtm_psd(Ts)}
  end
  local before = hebb.threads()
  hebb.threads(1); local r1 = run()
  hebb.threads(2); local r2 = run()
  hebb.threads(before)
  for i = 1, #r1 do check.truthy(T.equal(r1[i], r2[i]), "result " .. i) end
end)

check.test("empty", function()
  check.same(linalg.eigvalsh(T.zeros(0, 0)):size(), {0})
  local U, S, Vh = linalg.svd(T.zeros(0, 3))
  check.same(U:size(), {0, 0}); check.same(S:size(), {0}); check.same(Vh:size(), {0, 3})
  local Uf, _, Vhf = linalg.svd(T.zeros(2, 0), {full = true})
  check.truthy(T.equal(Uf, T.eye(2)), "full U of an empty matrix")
  check.same(Vhf:size(), {0, 0})
  check.same(linalg.inv(T.zeros(3, 0, 0)):size(), {3, 0, 0})
  check.same(linalg.det(T.zeros(0, 2, 2)):size(), {0})
end)

check.test("errors", function()
  check.raises(function() linalg.solve(T.tensor({{1, 2}, {2, 4}}), T.tensor({1, 2})) end,
    "linalg.solve: matrix is singular (dgetrf info=2: U(2,2) is exactly zero)")
  check.raises(function() linalg.solve(T.stack({T.eye(2), T.zeros(2, 2)}), T.ones(2, 2, 1)) end,
    "linalg.solve: matrix 2 of the batch is singular (dgetrf info=1: U(1,1) is exactly zero)")
  check.raises(function() linalg.inv(T.tensor({{1, 2}, {2, 4}})) end,
    "linalg.inv: matrix is singular (dgetrf info=2")
  check.raises(function() linalg.inv(T.tensor({{1, 2}, {2, 4}}, "f32")) end,
    "linalg.inv: matrix is singular (sgetrf info=2")
  check.raises(function() linalg.matrix_power(T.zeros(2, 2), -1) end,
    "linalg.matrix_power: matrix is singular (dgetrf info=1")
  check.raises(function() linalg.cholesky(T.tensor({{1, 2}, {2, 1}})) end,
    "linalg.cholesky: matrix is not positive definite (dpotrf info=2: the leading minor of order 2 is not positive)")
  check.raises(function() linalg.inv(T.zeros(2, 3)) end,
    "linalg.inv: expects square matrices, got shape {2,3}")
  check.raises(function() linalg.eigh(T.zeros(3, 2)) end, "linalg.eigh: expects square matrices")
  check.raises(function() linalg.det(T.zeros(3)) end,
    "linalg.det: expects a matrix (a tensor of at least 2 dimensions), got a 1-d tensor")
  check.raises(function() linalg.solve(A3, T.zeros(2)) end,
    "linalg.solve: A has shape {3,3} but B has 2 rows (shape {2})")
  check.raises(function() linalg.lstsq(M32, T.zeros(2, 1)) end,
    "linalg.lstsq: A has shape {3,2} but B has 2 rows (shape {2,1})")
  check.raises(function() linalg.solve(T.zeros(2, 3, 3), T.zeros(4, 3, 1)) end,
    "linalg.solve: shapes {2} and {4} do not broadcast")
  check.raises(function() linalg.svd(M32, {rank = 0}) end, "linalg.svd: rank must be at least 1, got 0")
  check.raises(function() linalg.svd(M32, {rank = 1.5}) end, "option 'rank' must be an integer")
  check.raises(function() linalg.svd(M32, {rank = 1, full = true}) end, "exclude each other")
  check.raises(function() linalg.sqrtm_psd(T.tensor({{1, 0}, {0, -1}})) end,
    "linalg.sqrtm_psd: matrix is not positive semidefinite (eigenvalue 1 is -1)")
  check.raises(function() linalg.powm_psd(T.tensor({{0, 0}, {0, 1}}), -1) end,
    "linalg.powm_psd: matrix is singular (eigenvalue 1 is 0) and the power -1 is negative")
  check.raises(function() linalg.powm_psd(A3, 0 / 0) end, "the power must be finite")
  check.raises(function() linalg.norm(A3, "foo") end, "linalg.norm: unknown order 'foo'")
  check.raises(function() linalg.norm(A3, 3) end, "order must be")
  check.raises(function() linalg.pinv(A3, -1) end, "rcond must be >= 0")
  check.raises(function() linalg.matrix_power(A3, 1.5) end, "integer expected")
  check.raises(function() linalg.eigh(T.full({3, 3}, 0 / 0)) end,
    "linalg.eigh: the matrix holds NaN; LAPACK's dsyevd needs finite entries")
  check.raises(function() linalg.eigvalsh(T.full({3, 3}, 0 / 0) * T.I) end,
    "linalg.eigvalsh: the matrix holds NaN; LAPACK's zheevd")
  check.raises(function() linalg.eigh(T.zeros(2, 3, {dtype = "c128"})) end,
    "linalg.eigh: expects square matrices, got shape {2,3}")
  check.raises(function() linalg.svd(T.full({3, 3}, 0 / 0)) end,
    "linalg.svd: the matrix holds NaN; LAPACK's dgesdd needs finite entries")
  check.raises(function() linalg.inv(T.complex(T.tensor({{1, 2}, {2, 4}}), T.zeros(2, 2))) end,
    "linalg.inv: matrix is singular (zgetrf info=2")
  check.raises(function() linalg.inv({}) end, "tensor expected")
end)

-- Non-finite input never reaches LAPACK (linalg.c's screen): eig of inf
-- aborted the process with heap corruption inside OpenBLAS, svd and pinv of
-- inf never returned, eig of NaN printed LAPACK's complaint to stdout.
check.test("non_finite_input_refused", function()
  local inf, nan = T.full({3, 3}, 1 / 0), T.full({3, 3}, 0 / 0)
  local zinf = T.complex(T.full({8, 8}, 1 / 0), T.zeros(8, 8))
  local cases = {
    {"eig", function() return linalg.eig(inf) end, "linalg.eig: the matrix holds inf; LAPACK's zgeev needs finite entries"},
    {"eig_c128", function() return linalg.eig(zinf) end, "linalg.eig: the matrix holds inf; LAPACK's zgeev"},
    {"eigvals", function() return linalg.eigvals(nan) end, "the matrix holds NaN; LAPACK's zgeev"},
    {"svd", function() return linalg.svd(inf) end, "linalg.svd: the matrix holds inf; LAPACK's dgesdd"},
    {"pinv", function() return linalg.pinv(inf) end, "linalg.pinv: the matrix holds inf; LAPACK's dgesdd"},
    {"pinv_f32", function() return linalg.pinv(inf:astype("f32")) end, "LAPACK's sgesdd"},
    {"eigh", function() return linalg.eigh(-inf) end, "linalg.eigh: the matrix holds -inf; LAPACK's dsyevd"},
    {"cholesky", function() return linalg.cholesky(nan) end, "linalg.cholesky: the matrix holds NaN; LAPACK's dpotrf"},
    {"qr", function() return linalg.qr(inf) end, "linalg.qr: the matrix holds inf; LAPACK's dgeqrf"},
    {"inv", function() return linalg.inv(nan) end, "linalg.inv: the matrix holds NaN; LAPACK's dgetrf"},
    {"det", function() return linalg.det(inf) end, "linalg.det: the matrix holds inf"},
    {"expm", function() return linalg.expm(inf) end, "linalg.expm: the matrix holds inf"},
    {"cond", function() return linalg.cond(inf) end, "linalg.cond: the matrix holds inf; LAPACK's dgesdd"},
    {"norm_2", function() return linalg.norm(inf, "2") end, "linalg.norm: the matrix holds inf"},
    {"matrix_power_neg", function() return linalg.matrix_power(inf, -1) end, "LAPACK's dgetrf"},
    {"solve_rhs", function() return linalg.solve(T.eye(3), T.full({3}, 0 / 0)) end,
     "linalg.solve: the right-hand side holds NaN; LAPACK's dgetrf"},
    {"lstsq", function() return linalg.lstsq(nan, T.ones(3)) end, "linalg.lstsq: the matrix holds NaN; LAPACK's dgelsd"},
  }
  for _, c in ipairs(cases) do
    check.raises(c[2], c[3], c[1])
  end
  local b = T.eye(2):expand(3, 2, 2):clone()
  b[2][1][2] = 0 / 0
  check.raises(function() return linalg.inv(b) end,
               "linalg.inv: matrix 2 of the batch holds NaN; LAPACK's dgetrf")
  -- no LAPACK behind these: infinities are fine
  check.eq(linalg.norm(inf):item(), 1 / 0)
  check.eq(linalg.matrix_power(inf, 2)[1][1], 1 / 0)
end)

-- LAPACK's xerbla (its complaint about a bad argument) never prints
check.test("eig_nan_prints_nothing", function()
  local cmd = string.format("%q -e %q 2>&1", arg[-1], 'local T = require "hebb.tensor"; '
    .. 'pcall(require("hebb.linalg").eig, T.full({3, 3}, 0/0)); io.write("done")')
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  check.eq(out, "done")
end)

check.done()
