-- hebb._fields_dirac: the lattice Dirac operators and Hamiltonians of
-- hebb.fields, as sparse matrices, their spectra and zero modes, and
-- e^{-iHt} v by Lanczos.
--
-- On a lattice of spacing a with the symmetric difference
-- nabla_mu psi = (psi(x + mu) - psi(x - mu)) / 2a, in momentum space
-- nabla_mu -> i sin(k_mu a) / a, which vanishes at k_mu = pi/a as well as
-- at 0: every direction doubles the species (Nielsen and Ninomiya).
--   naive      D = sum_mu gamma_mu nabla_mu + m                (2^d species)
--   Wilson     D + (r a / 2) sum_mu (-Laplacian_mu): a momentum-dependent
--              mass M(k) = m + (r/a) sum_mu (1 - cos k_mu a), which gives
--              the doublers masses m + 2 r n_pi / a (K. G. Wilson 1974)
--   staggered  one component per site with the phases eta_mu(x) =
--              (-1)^(x_1 + ... + x_{mu-1}) (Kogut and Susskind 1975)
-- The Hamiltonian forms in d space dimensions are H = sum_j alpha_j
-- (-i nabla_j) + beta M(k) (H(k) = sum_j alpha_j sin k_j / a + beta M(k),
-- E = +-sqrt(sum_j sin^2 k_j / a^2 + M(k)^2)); the staggered one is
-- H = sum_j eta_j(x) (-i/2a)(hop forward - hop back) + m (-1)^(sum x).
-- The matrices: alpha_j real and beta imaginary in d <= 3, so a naive or
-- Wilson H is purely imaginary: H = i W with W real antisymmetric, the
-- coupling matrix of a network of real neurons (examples/dirac.lua).
local T = require "hebb.tensor"
local C = require "hebb._fields"
local sparse = require "hebb.sparse"
local linalg = require "hebb.linalg"
local E = require "hebb._error"
local doc = require("hebb").doc

local P = {}
local fmt = string.format
local raise, show = E.raise, E.show

-- --- Dirac matrices --------------------------------------------------------------

local function cm(re, im) return T.complex(T.tensor(re), T.tensor(im)) end
local Z2 = { { 0, 0 }, { 0, 0 } }
local s0 = cm({ { 1, 0 }, { 0, 1 } }, Z2)
local s1 = cm({ { 0, 1 }, { 1, 0 } }, Z2)
local s2 = cm(Z2, { { 0, -1 }, { 1, 0 } })
local s3 = cm({ { 1, 0 }, { 0, -1 } }, Z2)

-- (A (x) B)[(i,k), (j,l)] = A[i,j] B[k,l]
local function kron(A, B)
  local ma, na, mb, nb = A.shape[1], A.shape[2], B.shape[1], B.shape[2]
  return (A:reshape(ma, 1, na, 1) * B:reshape(1, mb, 1, nb)):reshape(ma * mb, na * nb)
end

-- Hermitian, {gamma_mu, gamma_nu} = 2 delta_mu,nu; d = 4: the chiral basis
local euclidean = {
  { cm({ { 1 } }, { { 0 } }) },
  { s1, s2 },
  { s1, s2, s3 },
  { kron(s2, s1), kron(s2, s2), kron(s2, s3), kron(s1, s0) },
}

-- alpha_1..alpha_d, beta: d + 1 anticommuting Hermitian matrices squaring
-- to 1; alphas real and beta imaginary for d <= 3 (d = 3: a Majorana basis)
local hamiltonian = {
  { { s3 }, s2 },
  { { s3, s1 }, s2 },
  { { kron(s1, s0), kron(s3, s0), kron(s2, s2) }, kron(s2, s1) },
  { { kron(s1, s0), kron(s3, s0), kron(s2, s2), kron(s2, s3) }, kron(s2, s1) },
}

local function check_d(who, d)
  if math.type(d) ~= "integer" or d < 1 or d > 4 then
    raise("%s: d must be 1, 2, 3 or 4, got %s", who, show(d))
  end
end

function P.gammas(d)
  check_d("fields.gammas", d)
  local g = {}
  for i, x in ipairs(euclidean[d]) do g[i] = x:clone() end
  return g
end
doc(P.gammas, "fields.gammas(d)\n\nThe d Hermitian Euclidean gamma matrices "
  .. "(c128; {gamma_mu, gamma_nu} = 2 delta) the Dirac operators use: d = 1: (1); "
  .. "2: sigma_1, sigma_2; 3: sigma_1..3; 4: the chiral basis sigma_2 (x) "
  .. "sigma_k, sigma_1 (x) 1.")

function P.dirac_matrices(d)
  check_d("fields.dirac_matrices", d)
  local al = {}
  for i, x in ipairs(hamiltonian[d][1]) do al[i] = x:clone() end
  return al, hamiltonian[d][2]:clone()
end
doc(P.dirac_matrices, "fields.dirac_matrices(d)\n\nalphas, beta: the d + 1 "
  .. "anticommuting Hermitian matrices of the Hamiltonians (c128).  For d <= 3 "
  .. "the alphas are real and beta imaginary, so naive and Wilson Hamiltonians "
  .. "are purely imaginary: H = i W with W real antisymmetric.")

-- --- building the operators -----------------------------------------------------------

local kinds = { naive = true, wilson = true, staggered = true }
local bcs = { periodic = 0, antiperiodic = 1, open = 2 }
local op_opts = { kind = true, m = true, r = true, a = true, bc = true }

local function lattice_shape(who, shape)
  if type(shape) == "number" then shape = { shape } end
  if type(shape) ~= "table" or #shape < 1 or #shape > 4 then
    raise("%s: shape must list 1 to 4 lattice sides, got %s", who, show(shape))
  end
  for i, L in ipairs(shape) do
    if math.type(L) ~= "integer" or L < 1 then raise("%s: shape[%d] must be an integer >= 1, got %s", who, i, show(L)) end
  end
  return shape
end

local function params(who, opts, d)
  opts = E.checkopts(who, opts, op_opts)
  local kind = opts.kind or "naive"
  if not kinds[kind] then
    local near = E.suggest(kind, kinds)
    raise("%s: kind must be \"naive\", \"wilson\" or \"staggered\", got %s%s", who, show(kind),
          near and fmt(" (did you mean '%s'?)", near) or "")
  end
  local m, r, a = opts.m or 0, opts.r or 1, opts.a or 1
  for _, v in ipairs { { "m", m }, { "r", r }, { "a", a } } do
    if type(v[2]) ~= "number" or v[2] ~= v[2] or math.abs(v[2]) == math.huge then
      raise("%s: %s must be a finite number, got %s", who, v[1], show(v[2]))
    end
  end
  if a <= 0 then raise("%s: a must be > 0, got %g", who, a) end
  if kind ~= "wilson" then r = 0 end
  local bc = opts.bc or "periodic"
  if type(bc) == "string" then
    local b = {}
    for i = 1, d do b[i] = bc end
    bc = b
  end
  if type(bc) ~= "table" or #bc ~= d then
    raise("%s: bc must be a name or a list of %d names, got %s", who, d, show(opts.bc))
  end
  local codes = {}
  for i, b in ipairs(bc) do
    codes[i] = bcs[b]
    if not codes[i] then raise("%s: bc[%d] = %s; expected \"periodic\", \"antiperiodic\" or \"open\"", who, i, show(b)) end
  end
  return kind, m, r, a, codes, bc
end

local function eye(s) return T.complex(T.eye(s), T.zeros(s, s)) end
local function stack_blocks(list) return T.stack(list, 1):contiguous() end

local function build(dims, s, on, stag, fwd, bwd, bc, flags)
  return C.lattice_operator(dims, s, on:contiguous(), stag and stag:contiguous(),
                            stack_blocks(fwd), stack_blocks(bwd), bc, flags)
end

function P.dirac_operator(shape, opts)
  local who = "fields.dirac_operator"
  shape = lattice_shape(who, shape)
  local d = #shape
  local kind, m, r, a, bc = params(who, opts, d)
  if kind == "staggered" then
    local one = eye(1)
    local f, b = {}, {}
    for mu = 1, d do f[mu], b[mu] = one / (2 * a), one / (-2 * a) end
    return build(shape, 1, one * m, nil, f, b, bc, 1)
  end
  local g = euclidean[d]
  local s = g[1].shape[1]
  local I = eye(s)
  local f, b = {}, {}
  for mu = 1, d do
    f[mu] = (g[mu] - I * r) / (2 * a)
    b[mu] = (g[mu] + I * r) / (-2 * a)
  end
  return build(shape, s, I * (m + d * r / a), nil, f, b, bc, 0)
end
doc(P.dirac_operator, "fields.dirac_operator(shape [, {kind=\"naive\", m=0, r=1, a=1, "
  .. "bc=\"periodic\"}])\n\nThe Euclidean lattice Dirac operator on a lattice of 1 to "
  .. "4 sides (a c128 sparse matrix; components of a site adjacent, sites "
  .. "row-major): naive D = sum gamma_mu nabla_mu + m (symmetric differences), "
  .. "\"wilson\" adds (r a/2) sum (-Laplacian_mu) (doubler masses m + 2 r n_pi / "
  .. "a), \"staggered\" one component with eta_mu(x) = (-1)^(x_1 + ... + "
  .. "x_{mu-1}).  bc: \"periodic\", \"antiperiodic\", \"open\", or one per side.")

function P.dirac_hamiltonian(shape, opts)
  local who = "fields.dirac_hamiltonian"
  shape = lattice_shape(who, shape)
  local d = #shape
  local kind, m, r, a, bc = params(who, opts, d)
  local f, b = {}, {}
  if kind == "staggered" then
    local one = eye(1)
    local mi = T.complex(T.zeros(1, 1), T.ones(1, 1))   -- i
    for mu = 1, d do f[mu], b[mu] = mi / (-2 * a), mi / (2 * a) end
    return build(shape, 1, one * 0, one * m, f, b, bc, 1)
  end
  local al, beta = hamiltonian[d][1], hamiltonian[d][2]
  local s = beta.shape[1]
  local iI = T.complex(0, 1)
  for j = 1, d do
    f[j] = (al[j] * T.complex(0, -1) - beta * r) / (2 * a)
    b[j] = (al[j] * iI - beta * r) / (2 * a)
  end
  return build(shape, s, beta * (m + d * r / a), nil, f, b, bc, 0)
end
doc(P.dirac_hamiltonian, "fields.dirac_hamiltonian(shape [, {kind=\"naive\", m=0, r=1, "
  .. "a=1, bc=\"periodic\"}])\n\nThe Hermitian lattice Dirac Hamiltonian in d = "
  .. "#shape space dimensions (c128 sparse): H = sum_j alpha_j (-i nabla_j) + beta "
  .. "(m + Wilson term r/a sum (1 - cos k_j)); \"staggered\": Kogut-Susskind, "
  .. "sum_j eta_j(x) (-i/2a)(hop forward - back) + m (-1)^(sum x).  Energies "
  .. "+-sqrt(sum sin^2 k_j / a^2 + M(k)^2) (fields.dirac_energies).")

-- --- exact spectra ---------------------------------------------------------------------

-- the lattice momenta k (radians per site, times 1/a) of a periodic or
-- antiperiodic side of length L
local function momenta(L, anti)
  local ks = {}
  for n = 0, L - 1 do ks[#ks + 1] = 2 * math.pi * (n + (anti and 0.5 or 0)) / L end
  return ks
end

local function each_k(shape, bc, fn)
  local lists = {}
  for i, L in ipairs(shape) do lists[i] = momenta(L, bc[i] == 1) end
  local k = {}
  local function rec(i)
    if i > #shape then fn(k); return end
    for _, v in ipairs(lists[i]) do k[i] = v; rec(i + 1) end
  end
  rec(1)
end

function P.dirac_energies(shape, opts)
  local who = "fields.dirac_energies"
  shape = lattice_shape(who, shape)
  local d = #shape
  local kind, m, r, a, bc = params(who, opts, d)
  for i, b in ipairs(bc) do
    if b == 2 then raise("%s: side %d is open; exact energies need periodic or antiperiodic sides", who, i) end
  end
  local e = {}
  if kind == "staggered" then
    -- H^2 = m^2 + sum_j sin^2 k_j / a^2 at every k of the zone; the
    -- spectrum is symmetric, so each pair k, k + pi gives one +E and one -E
    each_k(shape, bc, function(k)
      local s = m * m
      for j = 1, d do s = s + (math.sin(k[j] * a) / a) ^ 2 end
      e[#e + 1] = math.sqrt(s)
    end)
    table.sort(e)
    for i = 2, #e, 2 do e[i] = -e[i] end
  else
    local half = hamiltonian[d][2].shape[1] // 2
    each_k(shape, bc, function(k)
      local s, M = 0, m
      for j = 1, d do
        s = s + (math.sin(k[j]) / a) ^ 2
        M = M + r / a * (1 - math.cos(k[j]))
      end
      local E0 = math.sqrt(s + M * M)
      for _ = 1, half do e[#e + 1] = E0; e[#e + 1] = -E0 end
    end)
  end
  table.sort(e)
  return T.tensor(e)
end
doc(P.dirac_energies, "fields.dirac_energies(shape [, opts])\n\nThe exact spectrum "
  .. "of fields.dirac_hamiltonian(shape, opts) from momentum space (sorted; "
  .. "periodic or antiperiodic sides).")

-- H(k)_{alpha beta} = sum_y H[(0, alpha), (y, beta)] e^{i k.y}: the
-- s x s block of a translation-invariant operator at momentum k
function P.bloch(H, shape, k)
  local who = "fields.bloch"
  shape = lattice_shape(who, shape)
  if type(k) == "number" then k = { k } end
  if type(k) ~= "table" or #k ~= #shape then raise("%s: k must list %d momenta, got %s", who, #shape, show(k)) end
  local nsites = 1
  for _, L in ipairs(shape) do nsites = nsites * L end
  local n = H.shape[1]
  if n % nsites ~= 0 then raise("%s: H has %d rows, not a multiple of the %d sites", who, n, nsites) end
  local s = n // nsites
  local rows, cols, vals = H:triplets()
  local keep = rows:le(s)
  rows, cols = rows:masked_select(keep):totable(), cols:masked_select(keep):totable()
  local v = vals:masked_select(keep)
  local vre, vim = T.real(v):totable(), T.imag(v):totable()
  local re, im = T.zeros(s, s), T.zeros(s, s)
  for i = 1, #rows do
    local y, beta = (cols[i] - 1) // s, (cols[i] - 1) % s + 1
    local phase = 0
    for d = #shape, 1, -1 do
      phase = phase + k[d] * (y % shape[d])
      y = y // shape[d]
    end
    local c, sn = math.cos(phase), math.sin(phase)
    local a = rows[i]
    re:set(a, beta, re:get(a, beta) + vre[i] * c - vim[i] * sn)
    im:set(a, beta, im:get(a, beta) + vre[i] * sn + vim[i] * c)
  end
  return T.complex(re, im)
end
doc(P.bloch, "fields.bloch(H, shape, k)\n\nThe s x s block H(k) = sum_y H[(0, "
  .. "alpha), (y, beta)] e^{i k.y} of a translation-invariant sparse operator with "
  .. "s components per site, at momentum k (a list of #shape numbers): e.g. the "
  .. "masses of the doublers at the corners of the zone.")

-- --- spectra, zero modes, evolution ----------------------------------------------------------

-- raises when H (sparse or dense) is not Hermitian, naming the worst entry
local function check_hermitian(who, H, tol)
  local S = T.is_tensor(H) and sparse.from_dense(H) or H
  local Dm = S - S:H()
  if Dm:nnz() == 0 then return end
  local r, c, v = Dm:triplets()
  local mag = v:abs()
  local worst, at = mag:max(), mag:argmax()
  local scale = math.max(1e-300, S:nnz() > 0 and select(3, S:triplets()):abs():max() or 0)
  if worst <= (tol or 1e-12) * scale then return end
  local i, j = r[at], c[at]
  local d = S:to_dense()
  local a, b = d[{ i, j }], d[{ j, i }]
  raise("%s: H is not Hermitian: H[%d][%d] = %s but conj(H[%d][%d]) = %s", who, i, j,
        fmt("%.6g%+.6gi", T.real(a):item(), T.imag(a):item()), j, i,
        fmt("%.6g%+.6gi", T.real(b):item(), 0 - T.imag(b):item()))
end
P._check_hermitian = check_hermitian

local function max_entry(S)
  if S:nnz() == 0 then return 0 end
  local _, _, v = S:triplets()
  return v:abs():max()
end

local function dense(H)
  if T.is_tensor(H) then return H end
  return H:to_dense()
end

function P.spectrum(H, opts)
  local who = "fields.spectrum"
  opts = E.checkopts(who, opts, { hermitian = true })
  if opts.hermitian == false then return linalg.eigvals(dense(H)) end
  check_hermitian(who, H)
  return linalg.eigvalsh(dense(H))
end
doc(P.spectrum, "fields.spectrum(H [, {hermitian=true}])\n\nThe eigenvalues of "
  .. "a Hermitian H (sparse or dense; checked, naming the first entry that "
  .. "differs from its conjugate transpose), ascending; hermitian = false: the "
  .. "complex eigenvalues of any H.")

-- the eigenvalues |lambda| < tol of a Hermitian or anti-Hermitian A (i A
-- is Hermitian), otherwise the singular values < tol
function P.zero_modes(A, opts)
  local who = "fields.zero_modes"
  opts = E.checkopts(who, opts, { tol = true })
  local tol = opts.tol or 1e-10
  local S = T.is_tensor(A) and sparse.from_dense(A) or A
  local values
  if (S - S:H()):nnz() == 0 or max_entry(S - S:H()) == 0 then
    values = linalg.eigvalsh(S:to_dense())
  elseif max_entry(S + S:H()) == 0 then
    values = linalg.eigvalsh((S * T.complex(0, 1)):to_dense())
  else
    values = linalg.svdvals(S:to_dense())
  end
  return values:abs():lt(tol):sum()
end
doc(P.zero_modes, "fields.zero_modes(A [, {tol=1e-10}])\n\nThe number of "
  .. "eigenvalues of modulus below tol of a Hermitian or anti-Hermitian A (singular "
  .. "values otherwise): species times spinor components for a massless Dirac "
  .. "operator.")

function P.evolve(H, v, t, opts)
  local who = "fields.evolve"
  opts = E.checkopts(who, opts, { krylov = true, tol = true, check = true })
  if T.is_tensor(H) then H = sparse.from_dense(H) end
  if type(H) ~= "userdata" or not H.triplets then raise("%s: H must be a sparse matrix or a tensor, got %s", who, show(H)) end
  if not T.is_tensor(v) or v.ndim ~= 1 or v:numel() ~= H.shape[2] then
    raise("%s: v must be a vector of length %d, got %s", who, H.shape[2], show(v))
  end
  if type(t) ~= "number" or t ~= t or math.abs(t) == math.huge then raise("%s: t must be a finite number, got %s", who, show(t)) end
  local z = (v:abs() * 0):sum()
  if (T.is_tensor(z) and z:item() or z) ~= 0 then raise("%s: v holds NaN or infinite values", who) end
  if opts.check ~= false then check_hermitian(who, H) end
  local m = opts.krylov or 30
  if math.type(m) ~= "integer" or m < 1 then raise("%s: krylov must be an integer >= 1, got %s", who, show(m)) end
  local tol = opts.tol or 1e-12
  if type(tol) ~= "number" or not (tol > 0) then raise("%s: tol must be a number > 0, got %s", who, show(tol)) end
  return C.expmv(H, v, t, m, tol)
end
doc(P.evolve, "fields.evolve(H, v, t [, {krylov=30, tol=1e-12, check=true}])\n\n"
  .. "e^{-iHt} v for a Hermitian H (sparse or dense) without forming the "
  .. "exponential: Lanczos in a Krylov space of dimension krylov, with substeps "
  .. "chosen so that the estimated error stays below tol |v| (C, "
  .. "natives/core/krylov.c).  A new c128 vector.")

return P
