-- test_sparse.lua -- hebb.sparse (natives/core/sparse.c, lanczos.c,
-- natives/lua/l_sparse.c).  Products are checked against dense T.matmul of
-- the same matrix (tolerance 1e-12: only the order of the sums differs);
-- eigenvalues against exact lattice spectra and small matrices with known
-- eigenvalues.
local check = require "check"
local hebb = require "hebb"
local T = require "hebb.tensor"
local sparse = require "hebb.sparse"
local graph = require "hebb.graph"
local test, eq, same, raises, near = check.test, check.eq, check.same, check.raises, check.near

local maxabs = check.maxabs

-- a random m x n matrix with about a fraction 'fill' of non-zeros, as
-- triplets (with some repeated positions) and as the dense sum
local function random_triplets(m, n, count, seed)
  local g = T.Generator(seed)
  local r = g:randint(1, m, count):totable()
  local c = g:randint(1, n, count):totable()
  local v = g:randn(count):totable()
  local D = T.zeros(m, n)
  for k = 1, count do D[{ r[k], c[k] }] = D[{ r[k], c[k] }] + v[k] end
  return r, c, v, D
end

test("csr_from_triplets_sums_duplicates", function()
  local S = sparse.csr({ 1, 2, 2, 3, 1 }, { 1, 1, 3, 2, 1 }, { 1, 2, 3, 4, 5 }, { 3, 4 })
  eq(S:nnz(), 4, "nnz")
  eq(S.shape[1], 3); eq(S.shape[2], 4)
  same(S:to_dense(), { { 6, 0, 0, 0 }, { 2, 0, 3, 0 }, { 0, 4, 0, 0 } })
  local r, c, v = S:triplets()
  same(r, { 1, 2, 2, 3 }); same(c, { 1, 1, 3, 2 }); same(v, { 6, 2, 3, 4 })
  eq(r.dtype, "i64")
end)

test("csr_from_tensors_and_scalar_values", function()
  local r = T.tensor { 1, 2, 3 }
  local S = sparse.csr(r, T.tensor { 3, 2, 1 }, 2.5)
  eq(S.shape[1], 3); eq(S.shape[2], 3)   -- shape from the largest indices
  same(S:to_dense(), { { 0, 0, 2.5 }, { 0, 2.5, 0 }, { 2.5, 0, 0 } })
  local S2 = sparse.coo(r, r, T.tensor { 1, 2, 3 }:astype("f32"), { 3, 3 })
  same(S2:diagonal(), { 1, 2, 3 })
end)

test("random_triplets_vs_dense", function()
  local r, c, v, D = random_triplets(30, 20, 200, 7)
  local S = sparse.csr(r, c, v, { 30, 20 })
  check.truthy(maxabs(S:to_dense() - D) < 1e-12, "to_dense equals the summed triplets")
end)

test("dense_round_trip", function()
  local A = T.tensor { { 0, 1.5, 0 }, { -2, 0, 1e-14 } }
  local S = sparse.from_dense(A)
  eq(S:nnz(), 3)
  same(S:to_dense(), A)
  eq(sparse.from_dense(A, 1e-12):nnz(), 2, "tol drops the tiny entry")
  -- a strided (transposed) and an integer input
  same(sparse.from_dense(A:t()):to_dense(), A:t())
  same(sparse.from_dense(T.tensor { { 1, 0 }, { 0, 2 } }):to_dense(), { { 1, 0 }, { 0, 2 } })
end)

test("spmv_spmm_vs_dense_matmul", function()
  local r, c, v = random_triplets(40, 25, 300, 11)
  local S = sparse.csr(r, c, v, { 40, 25 })
  local D = S:to_dense()
  local x = T.Generator(3):randn(25)
  check.truthy(maxabs(S:matmul(x) - T.matmul(D, x)) < 1e-12, "spmv")
  local X = T.Generator(4):randn(25, 6)
  check.truthy(maxabs(S:matmul(X) - T.matmul(D, X)) < 1e-12, "spmm")
  -- strided operand (a transposed view) and an i64 vector
  local Xt = T.Generator(5):randn(6, 25):t()
  check.truthy(maxabs(S:matmul(Xt) - T.matmul(D, Xt)) < 1e-12, "strided spmm")
  local xi = T.arange(1, 25)
  check.truthy(maxabs(sparse.matmul(S, xi) - T.matmul(D, xi:astype("f64"))) < 1e-11, "i64 x")
  -- out= reuses a tensor
  local out = T.zeros(40)
  local y = S:matmul(x, { out = out })
  eq(rawequal(y, out), true, "returns out")
  check.truthy(maxabs(out - T.matmul(D, x)) < 1e-12, "out holds the product")
end)

test("empty_and_zero_sizes", function()
  local S = sparse.csr({}, {}, {}, { 3, 2 })
  eq(S:nnz(), 0)
  same(S:matmul(T.ones(2)), { 0, 0, 0 })
  local E = sparse.csr({}, {}, {}, { 0, 0 })
  eq(E:matmul(T.zeros(0)):numel(), 0)
end)

test("transpose", function()
  local r, c, v = random_triplets(12, 9, 50, 13)
  local S = sparse.csr(r, c, v, { 12, 9 })
  local St = S:t()
  eq(St.shape[1], 9); eq(St.shape[2], 12)
  same(St:to_dense(), S:to_dense():t())
  same(St:t():to_dense(), S:to_dense())
end)

test("add_sub_scale", function()
  local r1, c1, v1 = random_triplets(10, 8, 30, 17)
  local r2, c2, v2 = random_triplets(10, 8, 30, 19)
  local A, B = sparse.csr(r1, c1, v1, { 10, 8 }), sparse.csr(r2, c2, v2, { 10, 8 })
  local DA, DB = A:to_dense(), B:to_dense()
  check.truthy(maxabs((A + B):to_dense() - (DA + DB)) < 1e-15, "A + B")
  check.truthy(maxabs((A - B):to_dense() - (DA - DB)) < 1e-15, "A - B")
  same((A * 2):to_dense(), DA * 2)
  same((0.5 * A):to_dense(), DA * 0.5)
  same((A / 4):to_dense(), DA / 4)
  same((-A):to_dense(), -DA)
end)

test("diagonal_eye_diag", function()
  local S = sparse.csr({ 1, 2, 2, 3 }, { 2, 2, 1, 3 }, { 5, 6, 7, 8 }, { 3, 4 })
  same(S:diagonal(), { 0, 6, 8 })
  same(sparse.eye(3):to_dense(), T.eye(3))
  same(sparse.diag(T.tensor { 1.0, 2, 3 }):to_dense(), { { 1, 0, 0 }, { 0, 2, 0 }, { 0, 0, 3 } })
  same(sparse.diag({ 4, 5 }):diagonal(), { 4, 5 })
end)

test("tostring_and_fields", function()
  local S = sparse.csr({ 1 }, { 2 }, { 3 }, { 2, 2 })
  local s = tostring(S)
  check.truthy(s:find("sparse 2 x 2, 1 stored entries", 1, true), s)
  check.truthy(s:find("(1, 2)", 1, true), s)
  eq(S.nrows, 2); eq(S.ncols, 2); eq(S.dtype, "f64")
end)

test("free_and_close", function()
  local S = sparse.eye(2)
  S:free()
  raises(function() return S:nnz() end, "attempt to use a freed sparse matrix")
  do
    local C <close> = sparse.eye(2)
    eq(C:nnz(), 2)
  end
  local A = sparse.eye(3)
  local B = A:share()
  A:free()
  same(B:to_dense(), T.eye(3), 0, "a shared handle outlives the freed one")
end)

test("errors", function()
  raises(function() sparse.csr({ 1, 4 }, { 1, 1 }, { 1, 1 }, { 3, 3 }) end,
         "row index 4 of entry 2 out of range 1..3")
  raises(function() sparse.csr({ 1 }, { 0 }, { 1 }, { 3, 3 }) end,
         "column index 0 of entry 1 out of range 1..3")
  raises(function() sparse.csr({ 1, 2 }, { 1 }, { 1 }) end, "rows has 2 entries but cols has 1")
  raises(function() sparse.csr({ 1 }, { 1 }, { 1, 2 }) end, "vals has 2")
  raises(function() sparse.csr({ 1.5 }, { 1 }, { 1 }) end, "rows[1] is not an integer")
  raises(function() sparse.csr(T.tensor { 1.0 }, { 1 }, { 1 }) end, "rows must be an i64 tensor")
  raises(function() sparse.csr({ 1 }, { 1 }, { 1 }, { 2 }) end, "shape must be a table {rows, cols}")
  raises(function() sparse.from_dense(T.ones(3)) end, "expected a 2-d tensor")
  local S = sparse.eye(3)
  raises(function() S:matmul(T.ones(4)) end, "do not align (3 != 4)")
  raises(function() S:matmul(T.ones(3, 1, 1)) end, "x must be a vector or a matrix")
  raises(function() return S + sparse.eye(2) end, "shapes (3, 3) and (2, 2) differ")
  raises(function() return S + T.ones(3, 3) end, "+ and - need two sparse matrices")
  raises(function() return S * S end, "* scales by a number")
  raises(function() S:matmul(T.ones(3), { out = T.zeros(2) }) end, "out has shape")
  local x = T.ones(3)
  same(S:matmul(x, { out = x }), S:matmul(T.ones(3)))   -- through a temporary
  raises(function() S:matmul(T.ones(3), { out = T.zeros(3, 2):select(2, 1) }) end,
         "out must be contiguous")
  local F = sparse.eye(3)
  F:free()
  raises(function() return S + F end, "attempt to use a freed sparse matrix")
  raises(function() sparse.eigsh(sparse.csr({ 1 }, { 2 }, { 1 }, { 2, 3 }), 1) end, "not square")
  raises(function() sparse.eigsh(S, 4) end, "k = 4 out of range 1..3")
  raises(function() sparse.eigsh(sparse.csr({ 1 }, { 2 }, { 1 }, { 2, 2 }), 1) end,
         "not symmetric (entries (1, 2) and (2, 1) differ by 1)")
  raises(function() sparse.eigsh(S, 1, { which = "middle" }) end, "which must be")
end)

test("spmv_same_bits_at_1_and_2_threads", function()
  local L = graph.lattice { dims = { 256, 256 } }:laplacian()
  local x = T.Generator(21):randn(256 * 256)
  local X = T.Generator(22):randn(256 * 256, 3)
  local old = hebb.threads()
  hebb.threads(1)
  local y1, Y1 = L:matmul(x), L:matmul(X)
  hebb.threads(2)
  local y2, Y2 = L:matmul(x), L:matmul(X)
  hebb.threads(old)
  check.truthy(y1:equal(y2), "spmv bits")
  check.truthy(Y1:equal(Y2), "spmm bits")
end)

-- exact spectrum of the periodic lattice Laplacian: 4 sum_i sin^2(k_i/2),
-- k_i = 2 pi m_i / L_i, sorted ascending
local function lattice_spectrum(dims)
  local ev = { 0 }
  for _, Ld in ipairs(dims) do
    local nxt = {}
    for _, e in ipairs(ev) do
      for m = 0, Ld - 1 do nxt[#nxt + 1] = e + 4 * math.sin(math.pi * m / Ld) ^ 2 end
    end
    ev = nxt
  end
  table.sort(ev)
  return ev
end

local function check_eigs(dims, k, which)
  local L = graph.lattice { dims = dims }:laplacian()
  local w, V = sparse.eigsh(L, k, { which = which })
  local exact = lattice_spectrum(dims)
  local off = which == "largest" and #exact - k or 0
  for i = 1, k do near(w[i], exact[off + i], 1e-8, "eigenvalue " .. i) end
  -- eigen-equation and orthonormality of the vectors
  local R = L:matmul(V) - V * w:reshape(1, k)
  check.truthy(maxabs(R) < 1e-7, "L V = V diag(w)")
  check.truthy(maxabs(T.matmul(V:t(), V) - T.eye(k)) < 1e-10, "V^T V = I")
end

test("eigsh_1d_lattice_smallest", function() check_eigs({ 64 }, 6, "smallest") end)
test("eigsh_1d_lattice_largest", function() check_eigs({ 64 }, 5, "largest") end)
test("eigsh_2d_lattice_smallest", function() check_eigs({ 16, 16 }, 9, "smallest") end)
test("eigsh_2d_lattice_largest", function() check_eigs({ 16, 16 }, 6, "largest") end)

test("eigsh_small_matrix_and_seed", function()
  -- [[2, 1], [1, 2]] has eigenvalues 1 and 3
  local S = sparse.from_dense(T.tensor { { 2.0, 1 }, { 1, 2 } })
  local w = sparse.eigsh(S, 2)
  near(w[1], 1, 1e-12); near(w[2], 3, 1e-12)
  local L = graph.lattice { dims = { 10 } }:laplacian()
  local w1, V1 = sparse.eigsh(L, 3, { seed = 5 })
  local w2, V2 = sparse.eigsh(L, 3, { seed = 5 })
  check.truthy(w1:equal(w2) and V1:equal(V2), "same seed, same bits")
end)

test("lattice_adjacency", function()
  -- the open 2 x 3 lattice by hand: sites 1 2 3 / 4 5 6
  local A = sparse.lattice({ 2, 3 }, { periodic = false })
  same(A:to_dense(), { { 0, 1, 0, 1, 0, 0 }, { 1, 0, 1, 0, 1, 0 }, { 0, 1, 0, 0, 0, 1 },
                       { 1, 0, 0, 0, 1, 0 }, { 0, 1, 0, 1, 0, 1 }, { 0, 0, 1, 0, 1, 0 } })
  -- periodic 3 x 3 with diagonals: every site has 8 distinct neighbours
  local N = sparse.lattice({ 3, 3 }, { neighbors = "next-nearest" })
  eq(N:nnz(), 72)
  same(N:matmul(T.ones(9)), T.full({ 9 }, 8.0))
  raises(function() sparse.lattice({}) end, "0 dimensions (valid: 1..16)")
  raises(function() sparse.lattice({ 3, 0 }) end, "side 2 is 0 (must be >= 1)")
  raises(function() sparse.lattice({ 3 }, { neighbors = "far" }) end, "neighbors must be")
end)

test("eigsh_restarts_with_small_basis", function()
  -- ncv = 6 cannot hold the answer: the runs restart from their Ritz vectors
  local L = graph.lattice { dims = { 30 } }:laplacian()
  local w = sparse.eigsh(L, 3, { ncv = 6, which = "largest" })
  local second = 4 * math.sin(14 * math.pi / 30) ^ 2
  near(w[1], second, 1e-8); near(w[2], second, 1e-8); near(w[3], 4, 1e-8)
  raises(function() sparse.eigsh(graph.lattice { dims = { 64 } }:laplacian(), 2,
                                 { ncv = 3, maxiter = 1 }) end,
         "did not converge in 1 restarts")
end)

test("docstrings", function()
  for _, name in ipairs { "csr", "coo", "from_dense", "eye", "diag", "lattice", "eigsh", "matmul",
                          "to_dense", "t", "nnz", "diagonal", "triplets", "share", "free" } do
    local d = hebb.doc(sparse[name])
    check.truthy(d and #d > 20, name .. " has a docstring")
  end
end)

test("huge_sizes_are_refused", function()
  check.raises(function() return sparse.eye(1 << 62) end,
               "sparse.eye: too many elements in shape {4611686018427387904}")
  check.raises(function() return sparse.lattice(1 << 62) end,
               "sparse.lattice: too many elements")
  check.raises(function() return sparse.lattice({1 << 31, 1 << 31}) end,
               "sparse.lattice: too many elements (2147483648 x 2147483648 > 2^56)")
  check.raises(function() return sparse.csr({1}, {1}, {1.0}, {1 << 60, 2}) end,
               "sparse.csr: too many elements in shape {1152921504606846976}")
end)

check.done()
