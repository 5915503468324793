-- test_sparse_complex.lua -- c128 sparse matrices (natives/core/sparse.c,
-- lanczos.c, natives/lua/l_sparse.c).  Every operation is checked against
-- the same operation on the dense matrix (products to 1e-12: only the
-- order of the sums differs; the others exactly), and the Hermitian
-- Lanczos solver against linalg.eigh of a Hofstadter Hamiltonian (a
-- lattice in a magnetic field: complex Peierls phases on the bonds).
local check = require "check"
local T = require "hebb.tensor"
local sparse = require "hebb.sparse"
local linalg = require "hebb.linalg"
local test, eq, near, raises = check.test, check.eq, check.near, check.raises

local maxabs = check.maxabs
local function i64(t) return T.tensor(t, { dtype = "i64" }) end
local function cplx(re, im) return T.complex(T.tensor(re), T.tensor(im)) end

-- a 4 x 3 complex matrix with a duplicate entry (2, 3) and a zero row
local rows, cols = { 1, 1, 2, 2, 4, 2 }, { 1, 3, 2, 3, 1, 3 }
local vals = cplx({ 1, 2, 3, 4, 5, 0.5 }, { -1, 0, 2, 1, -3, 0.25 })
local S = sparse.csr(rows, cols, vals, { 4, 3 })
local D = cplx({ { 1, 0, 2 }, { 0, 3, 4.5 }, { 0, 0, 0 }, { 5, 0, 0 } },
               { { -1, 0, 0 }, { 0, 2, 1.25 }, { 0, 0, 0 }, { -3, 0, 0 } })

test("construction from complex triplets", function()
  eq(S.dtype, "c128")
  eq(S:nnz(), 5)                           -- the duplicate is summed
  assert(S:to_dense():equal(D), "to_dense")
  assert(tostring(S):find("CSR, c128", 1, true), "tostring names the dtype")
  assert(tostring(S):find("4.5+1.25i", 1, true), tostring(S))
  -- the same from i64 index tensors, and the round trip through triplets
  local S2 = sparse.coo(i64(rows), i64(cols), vals, { 4, 3 })
  assert(S2:to_dense():equal(D))
  local r, c, v = S:triplets()
  eq(v.dtype, "c128")
  assert(sparse.csr(r, c, v, S.shape):to_dense():equal(D), "triplets")
  -- one complex value for every entry, and real values made complex
  local E = sparse.csr({ 1, 2 }, { 2, 1 }, T.I, { 2, 2 })
  assert(E:to_dense():equal(cplx({ { 0, 0 }, { 0, 0 } }, { { 0, 1 }, { 1, 0 } })))
  local F = sparse.csr({ 1, 2 }, { 1, 2 }, { 3, 4 }, { 2, 2 }, { dtype = "c128" })
  eq(F.dtype, "c128")
  assert(F:to_dense():equal(T.tensor{ { 3, 0 }, { 0, 4 } }:astype("c128")))
  -- shape omitted, options in its place
  eq(sparse.csr({ 1, 2 }, { 1, 2 }, { 3, 4 }, { dtype = "c128" }).dtype, "c128")
end)

test("from_dense and to_dense", function()
  local A = sparse.from_dense(D)
  eq(A.dtype, "c128")
  eq(A:nnz(), 5)
  assert(A:to_dense():equal(D))
  -- the tolerance compares moduli: 1 - i (1.414) and 0.5i go, 3 stays
  local B = sparse.from_dense(cplx({ { 1, 0 }, { 0, 3 } }, { { -1, 0.5 }, { 0, 0 } }), 1.5)
  eq(B:nnz(), 1)
  near(B:to_dense()[{ 2, 2 }]:abs():item(), 3, 0)
  -- a real tensor still gives f64
  eq(sparse.from_dense(T.eye(3)).dtype, "f64")
end)

test("products with c128 and f64 operands", function()
  T.manual_seed(3)
  local xc = T.complex(T.randn(3), T.randn(3))
  local Xc = T.complex(T.randn(3, 4), T.randn(3, 4))
  local xr, Xr = T.randn(3), T.randn(3, 4)
  near(maxabs(S:matmul(xc) - T.matmul(D, xc)), 0, 1e-12, "c128 S, c128 vector")
  near(maxabs(S:matmul(Xc) - T.matmul(D, Xc)), 0, 1e-12, "c128 S, c128 matrix")
  eq(S:matmul(xr).dtype, "c128")
  near(maxabs(S:matmul(xr) - T.matmul(D, xr:astype("c128"))), 0, 1e-12, "c128 S, f64 x")
  near(maxabs(S:matmul(Xr) - T.matmul(D, Xr:astype("c128"))), 0, 1e-12, "c128 S, f64 X")
  -- a real matrix with a complex operand: f64 x c128 -> c128
  local R = sparse.csr(rows, cols, { 1, 2, 3, 4, 5, 6 }, { 4, 3 })
  local Rd = R:to_dense():astype("c128")
  eq(R:matmul(xc).dtype, "c128")
  near(maxabs(R:matmul(xc) - T.matmul(Rd, xc)), 0, 1e-12, "f64 S, c128 vector")
  near(maxabs(R:matmul(Xc) - T.matmul(Rd, Xc)), 0, 1e-12, "f64 S, c128 matrix")
  eq(R:matmul(xr).dtype, "f64")
  -- out= of the right dtype is reused
  local out = T.empty(4, { dtype = "c128" })
  assert(S:matmul(xc, { out = out }) == out)
  near(maxabs(out - T.matmul(D, xc)), 0, 1e-12)
  -- the same bits with 1 and 2 threads
  local hebb = require "hebb"
  local n0 = hebb.threads()
  local L = sparse.lattice({ 64, 64 }):scale({ 0.5, -1 })
  local x = T.complex(T.randn(4096), T.randn(4096))
  hebb.threads(1)
  local y1 = L:matmul(x)
  hebb.threads(2)
  local y2 = L:matmul(x)
  hebb.threads(n0)
  assert(y1:equal(y2), "thread count changed the bits")
end)

test("transpose, conjugate, conjugate transpose", function()
  assert(S:t():to_dense():equal(D:t()), "t")
  assert(S:conj():to_dense():equal(T.conj(D)), "conj")
  assert(S:H():to_dense():equal(T.conj(D):t()), "H")
  assert(S:conj():t():to_dense():equal(S:H():to_dense()))
  eq(S:H().shape[1], 3)
  -- f64: conj is the identity and H the transpose
  local R = sparse.csr({ 1, 2 }, { 2, 3 }, { 1, 2 }, { 2, 3 })
  assert(R:H():to_dense():equal(R:t():to_dense()))
  assert(R:conj():to_dense():equal(R:to_dense()))
  eq(R:H().dtype, "f64")
end)

test("addition and scaling", function()
  local R = sparse.csr({ 1, 3, 4 }, { 3, 2, 3 }, { 1, 2, 3 }, { 4, 3 })
  local Rd = R:to_dense():astype("c128")
  assert((S + S):to_dense():equal(D * 2), "c128 + c128")
  local sum = S + R
  eq(sum.dtype, "c128")
  assert(sum:to_dense():equal(D + Rd), "c128 + f64")
  assert((R - S):to_dense():equal(Rd - D), "f64 - c128")
  assert((-S):to_dense():equal(-D), "unary minus")
  -- scaling by a number, a complex 0-d tensor, a {re, im} pair
  local z = T.complex(T.tensor(2.0), T.tensor(-0.5))
  assert((S * 3):to_dense():equal(D * 3), "number")
  assert((2 * S):to_dense():equal(D * 2), "number first")
  near(maxabs((S * z):to_dense() - D * z), 0, 1e-15, "0-d c128 tensor")
  near(maxabs(S:scale({ 2, -0.5 }):to_dense() - D * z), 0, 1e-15, "pair")
  near(maxabs((S * T.I):to_dense() - D * T.I), 0, 0, "T.I")
  near(maxabs((S / z):to_dense() - D / z), 0, 1e-15, "division")
  -- a complex scale makes a real matrix complex
  local Ri = R * { 0, 1 }
  eq(Ri.dtype, "c128")
  near(maxabs(Ri:to_dense() - Rd * T.I), 0, 0)
  eq((R * 2).dtype, "f64")
end)

test("diagonal, diag, with_values, astype", function()
  local Q = sparse.csr({ 1, 2, 3, 1 }, { 1, 2, 3, 3 }, cplx({ 1, 2, 3, 4 }, { 1, 0, -1, 9 }), { 3, 3 })
  assert(Q:diagonal():equal(cplx({ 1, 2, 3 }, { 1, 0, -1 })), "diagonal")
  local d = cplx({ 1, 2 }, { 3, 4 })
  local G = sparse.diag(d)
  eq(G.dtype, "c128")
  assert(G:to_dense():equal(cplx({ { 1, 0 }, { 0, 2 } }, { { 3, 0 }, { 0, 4 } })))
  -- new values on the same pattern, in triplets order
  local _, _, v = Q:triplets()
  local W = Q:with_values(v * 2)
  assert(W:to_dense():equal(Q:to_dense() * 2))
  local Wr = Q:with_values({ 1, 2, 3, 4 })
  eq(Wr.dtype, "f64")
  assert(Wr:to_dense():equal(T.tensor{ { 1, 0, 2 }, { 0, 3, 0 }, { 0, 0, 4 } }))
  -- astype both ways
  local Rc = Wr:astype("c128")
  eq(Rc.dtype, "c128")
  eq(Rc:astype("f64").dtype, "f64")
  assert(Rc:astype("f64"):to_dense():equal(Wr:to_dense()))
end)

-- The Hofstadter model: hopping -t on an L x L periodic square lattice with
-- flux phi = p / L per plaquette (Landau gauge: the bond from (x, y) to
-- (x + 1, y) carries e^{2 pi i phi y}, periodic since phi L is whole).
local function hofstadter(L, p)
  local r, c, re, im = {}, {}, {}, {}
  local function site(x, y) return (x % L) * L + (y % L) + 1 end
  local function hop(i, j, phase)
    -- H[j][i] = -e^{i phase}, H[i][j] its conjugate
    r[#r + 1], c[#c + 1] = j, i
    re[#re + 1], im[#im + 1] = -math.cos(phase), -math.sin(phase)
    r[#r + 1], c[#c + 1] = i, j
    re[#re + 1], im[#im + 1] = -math.cos(phase), math.sin(phase)
  end
  for x = 0, L - 1 do
    for y = 0, L - 1 do
      hop(site(x, y), site(x + 1, y), 2 * math.pi * p / L * y)
      hop(site(x, y), site(x, y + 1), 0)
    end
  end
  return sparse.csr(r, c, T.complex(T.tensor(re), T.tensor(im)), { L * L, L * L })
end

test("Hermitian Lanczos vs dense eigh: Hofstadter lattice", function()
  local L = 6
  local H = hofstadter(L, 1)   -- flux 1/6 per plaquette
  eq(H.dtype, "c128")
  local Hd = H:to_dense()
  near(maxabs(Hd - T.conj(Hd):t()), 0, 0, "Hermitian")
  assert(maxabs(T.imag(Hd)) > 0.5, "the phases are really complex")
  local wd = linalg.eigh(Hd)
  local k = 8
  for _, which in ipairs({ "smallest", "largest" }) do
    local w, V = sparse.eigsh(H, k, { which = which })
    eq(w.dtype, "f64")
    eq(V.dtype, "c128")
    for i = 1, k do
      local want = which == "smallest" and wd[i] or wd[L * L - k + i]
      near(w[i], want, 1e-8, which .. " eigenvalue " .. i)
    end
    -- eigen-equation and orthonormal eigenvectors
    local res = H:matmul(V) - V * w:astype("c128"):reshape(1, k)
    near(maxabs(res), 0, 1e-8, "residual")
    local G = T.matmul(T.conj(V):t(), V)
    near(maxabs(G - T.eye(k):astype("c128")), 0, 1e-10, "V^H V = I")
  end
  -- zero flux: the real lattice Laplacian shifted, -4 cos-sums, exact
  local H0 = hofstadter(L, 0)
  local w0 = sparse.eigsh(H0, 1)
  near(w0[1], -4, 1e-10, "zero-flux ground state")
  -- the spectrum at flux 1/2 is symmetric (bipartite lattice)
  local Hh = hofstadter(4, 2)
  local lo = sparse.eigsh(Hh, 1)
  local hi = sparse.eigsh(Hh, 1, { which = "largest" })
  near(lo[1], -hi[1], 1e-9, "flux 1/2 symmetric spectrum")
end)

test("errors name dtypes and shapes", function()
  local N = sparse.csr({ 1 }, { 2 }, T.I, { 2, 2 })
  raises(function() sparse.eigsh(N, 1) end,
         "c128 matrix is not Hermitian (entry (1, 2) and the conjugate of (2, 1) differ by 1)")
  raises(function() sparse.csr({ 1 }, { 1 }, T.I, { 1, 1 }, { dtype = "f64" }) end,
         "a complex value (imaginary part 1.0) for an f64 matrix")
  raises(function() sparse.csr({ 1 }, { 1 }, { 1 }, { 1, 1 }, { dtype = "i64" }) end,
         "sparse.csr: sparse matrices are f64 or c128, not i64")
  raises(function() S:astype("f64") end,
         "sparse.astype: cannot convert c128 to f64: entry 1 has imaginary part -1")
  raises(function() S:matmul(T.complex(T.randn(4), T.randn(4))) end,
         "sparse.matmul: matrix (4, 3) and x of shape {4} do not align (3 != 4)")
  raises(function() S:matmul(T.zeros(3), { out = T.empty(4) }) end,
         "sparse.matmul: out has dtype f64, result is c128")
  raises(function() return S * "x" end,
         "sparse: * scales by a number, a complex number (a one-element c128 "
         .. "tensor or a {re, im} pair), got string")
  raises(function() return 2 / S end,
         "sparse: / divides a sparse matrix by a number (got a number divided by a sparse matrix)")
  raises(function() S:with_values(T.ones(3)) end,
         "sparse.with_values: the matrix has 5 stored entries but vals has 3")
  raises(function() sparse.csr({ 1, 2 }, { 1, 2 }, T.ones(2, 2)) end,
         "sparse.csr: vals must be a 1-d tensor, got 2 dimensions")
  raises(function() sparse.csr({ 1 }, { 1 }, "x") end,
         "sparse.csr: vals must be a number, a table of numbers or a tensor, got string")
  raises(function() sparse.csr({ 1, 2 }, { 1, 2 }, { 1, {} }) end,
         "sparse.csr: vals[2] is not a number (a table); complex values come as a c128 tensor")
  raises(function() sparse.diag(T.ones(2, 2)) end,
         "sparse.diag: d must be a 1-d tensor, got 2 dimensions")
  raises(function() S:astype("i64") end,
         "sparse.astype: sparse matrices are f64 or c128, not i64")
end)

check.done()
