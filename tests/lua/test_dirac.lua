-- Fermion doubling (Nielsen-Ninomiya: 2^d species): the naive lattice Dirac
-- operator D = sum_mu gamma_mu (x) nabla_mu, nabla_mu the symmetric
-- difference (psi(x+mu) - psi(x-mu))/2 on a periodic L^d lattice, m = 0.
-- In momentum space D(k) = i sum_mu gamma_mu sin k_mu, which vanishes at the
-- 2^d momenta with every k_mu in {0, pi}: 2^d species (Nielsen-Ninomiya).
-- H = i D is Hermitian (gamma Hermitian, nabla real antisymmetric); each
-- species gives one zero eigenvalue per spinor component, so H has
-- 2^d * (spinor dimension) eigenvalues with |lambda| < 1e-10.
-- Run: LUA_PATH="tests/lua/lib/?.lua;;" build/hebb tests/lua/test_dirac.lua
local check = require "check"
local T = require "hebb.tensor"
local linalg = require "hebb.linalg"

local function cplx(re, im) return T.complex(T.tensor(re), T.tensor(im)) end
local one = cplx({{1}}, {{0}})
local s0 = cplx({{1, 0}, {0, 1}}, {{0, 0}, {0, 0}})
local s1 = cplx({{0, 1}, {1, 0}}, {{0, 0}, {0, 0}})
local s2 = cplx({{0, 0}, {0, 0}}, {{0, -1}, {1, 0}})
local s3 = cplx({{1, 0}, {0, -1}}, {{0, 0}, {0, 0}})

-- Kronecker product of matrices: (A (x) B)[(i,k), (j,l)] = A[i,j] B[k,l]
local function kron(A, B)
  local ma, na, mb, nb = A.shape[1], A.shape[2], B.shape[1], B.shape[2]
  return (A:reshape(ma, 1, na, 1) * B:reshape(1, mb, 1, nb)):reshape(ma * mb, na * nb)
end

-- Hermitian Euclidean gamma matrices; d = 4: the chiral basis
-- gamma_k = sigma_2 (x) sigma_k, gamma_4 = sigma_1 (x) 1
local gammas = {
  {one},
  {s1, s2},
  {s1, s2, s3},
  {kron(s2, s1), kron(s2, s2), kron(s2, s3), kron(s1, s0)},
}

-- nabla_mu on the periodic L^d lattice (sites numbered lexicographically)
local function nabla(d, L, mu)
  local n = L ^ d // 1
  local N = T.zeros(n, n)
  local stride = L ^ (mu - 1) // 1
  for i = 0, n - 1 do
    local x = (i // stride) % L   -- coordinate mu of site i
    local fwd = i + (((x + 1) % L) - x) * stride
    local bwd = i + (((x - 1) % L) - x) * stride
    N:set(i + 1, fwd + 1, N:get(i + 1, fwd + 1) + 0.5)
    N:set(i + 1, bwd + 1, N:get(i + 1, bwd + 1) - 0.5)
  end
  return N
end

-- H = i sum_mu gamma_mu (x) nabla_mu, dense c128
local function hamiltonian(d, L)
  local H
  for mu = 1, d do
    local nab = T.complex(nabla(d, L, mu), T.zeros(L ^ d // 1, L ^ d // 1))
    local term = kron(gammas[d][mu], nab)
    H = H and H + term or term
  end
  return H * T.I
end

local function count_zero(w)
  local c = 0
  for _, v in ipairs(w:totable()) do if math.abs(v) < 1e-10 then c = c + 1 end end
  return c
end

check.test("clifford_algebra", function()
  for d = 1, 4 do
    local g = gammas[d]
    local s = g[1].shape[1]
    for mu = 1, d do
      check.truthy(T.allclose(g[mu], g[mu]:transpose(1, 2):conj(), 0, 0), "gamma Hermitian")
      for nu = 1, d do
        local anti = T.matmul(g[mu], g[nu]) + T.matmul(g[nu], g[mu])
        local want = T.zeros(s, s, {dtype = "c128"})
        if mu == nu then want = want + T.eye(s) * 2 end
        check.truthy(T.allclose(anti, want, 0, 0),
          string.format("{gamma_%d, gamma_%d} = 2 delta (d = %d)", mu, nu, d))
      end
    end
  end
end)

-- species: zero eigenvalues / spinor dimension = 2^d (d = 4 also at L = 4:
-- a 1024 x 1024 c128 zheevd takes well under a second)
check.test("doublers_count", function()
  local species = {}
  for d = 1, 4 do
    local L = 4
    local H = hamiltonian(d, L)
    local s = gammas[d][1].shape[1]
    check.eq(H.shape[1], s * L ^ d // 1)
    check.truthy(T.allclose(H, H:transpose(1, 2):conj(), 0, 0), "H Hermitian")
    local zeros = count_zero(linalg.eigvalsh(H))
    check.eq(zeros, 2 ^ d // 1 * s, string.format("zero eigenvalues, d = %d", d))
    species[d] = zeros // s
  end
  check.same(species, {2, 4, 8, 16}, 0)
end)

-- d = 2, L = 6: the spectrum is +-sqrt(sin^2 k1 + sin^2 k2), k = 2 pi n / L
check.test("spectrum_2d", function()
  local L = 6
  local want = {}
  for a = 0, L - 1 do for b = 0, L - 1 do
    local e = math.sqrt(math.sin(2 * math.pi * a / L) ^ 2 + math.sin(2 * math.pi * b / L) ^ 2)
    want[#want + 1] = e; want[#want + 1] = -e
  end end
  table.sort(want)
  local H = hamiltonian(2, L)
  local w, V = linalg.eigh(H)
  check.same(w, want, 1e-13)
  local r = (T.matmul(H, V) - V * w):abs():max()
  check.truthy((type(r) == "number" and r or r:item()) < 1e-13, "H V = V diag(w)")
end)

check.done()
