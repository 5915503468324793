-- hebb.fields: Klein-Gordon on lattices (dispersion, leapfrog, stability: F1-F3), the
-- lattice Laplacian, measured dispersion.
-- Run: LUA_PATH="tests/lua/lib/?.lua;;" build/hebb tests/lua/test_fields.lua
local check = require "check"
local T = require "hebb.tensor"
local F = require "hebb.fields"
local Dirac = require "hebb._fields_dirac"   -- its internal helpers
local autograd = require "hebb.autograd"
local hebb = require "hebb"

local function num(v) return type(v) == "number" and v or v:item() end

-- the Laplacian written with index_select shifts (the reference)
local function shifted(x, d, s)
  local L = x.shape[d]
  local idx = {}
  for i = 1, L do idx[i] = (i - 1 + s) % L + 1 end
  return x:index_select(d, T.tensor(idx, "i64"))
end
local function lap_ref(x, a)
  local r = x * (-2 * x.ndim)
  for d = 1, x.ndim do r = r + shifted(x, d, 1) + shifted(x, d, -1) end
  return r / (a * a)
end

check.test("laplacian_matches_shifts", function()
  T.manual_seed(1)
  for _, shape in ipairs { { 7 }, { 2 }, { 1 }, { 5, 6 }, { 3, 1, 4 }, { 2, 3, 2, 5 }, { 2, 2, 2, 2, 3 } } do
    local x = T.randn(shape)
    check.truthy(T.allclose(F.laplacian(x, { a = 0.5 }), lap_ref(x, 0.5), 0, 1e-12),
                 "shape {" .. table.concat(shape, ",") .. "}")
    local x32 = x:astype("f32")
    check.truthy(T.allclose(F.laplacian(x32), lap_ref(x32, 1), 0, 1e-5), "f32")
  end
  -- a transposed view is read through a contiguous copy; out= writes in place
  local x = T.randn(4, 6)
  check.truthy(T.allclose(F.laplacian(x:t()), lap_ref(x:t():contiguous(), 1), 0, 1e-12), "view")
  local o = T.empty(4, 6)
  F.laplacian(x, { out = o })
  check.truthy(T.allclose(o, lap_ref(x, 1), 0, 1e-12), "out")
  -- differentiable: the Laplacian is its own adjoint
  check.truthy(autograd.gradcheck(function(y) return F.laplacian(y * y) end, { T.randn(3, 4) }), "gradcheck")
end)

-- one leapfrog step by hand: pi += dt/2 F(phi); phi += dt pi; pi += dt/2 F(phi)
check.test("kg_step_is_kick_drift_kick", function()
  T.manual_seed(2)
  local m, dt = 0.7, 0.05
  local phi, pi = T.randn(6, 5), T.randn(6, 5)
  local p, q = phi:clone(), pi:clone()
  for _ = 1, 3 do
    q = q + (lap_ref(p, 1) - p * m * m) * (dt / 2)
    p = p + q * dt
    q = q + (lap_ref(p, 1) - p * m * m) * (dt / 2)
  end
  F.kg_step(phi, pi, { m = m, dt = dt, steps = 3 })
  check.truthy(T.allclose(phi, p, 0, 1e-13) and T.allclose(pi, q, 0, 1e-13), "3 merged steps")
end)

-- F2: a measured frequency within 1e-6 (relative) of (2/dt) asin(dt w/2),
-- w from F1; measured here ~4e-10 in f64.  F1 itself is approached as dt^2
check.test("F1_F2_dispersion", function()
  for _, c in ipairs { { { 24 }, 0.5, 0.2 }, { { 8, 6 }, 0.3, nil }, { { 4, 4, 4 }, 1.0, nil },
                       { { 4, 2, 2, 4 }, 0.8, nil } } do
    local r = F.kg_dispersion(c[1], { m = c[2], dt = c[3], steps = 256 })
    local rel = num(((r.omega - r.leapfrog) / r.leapfrog):abs():max())
    check.truthy(rel < 1e-6, string.format("F2, d = %d: %.3g", #c[1], rel))
  end
  -- continuous time: (w~ - w)/w = (w dt)^2 / 24 + O(dt^4)
  local r = F.kg_dispersion({ 16 }, { m = 0.5, dt = 0.02, steps = 2048 })
  local rel = (r.omega - r.continuum) / r.continuum
  local want = (r.continuum * 0.02) ^ 2 / 24
  check.truthy(T.allclose(rel, want, 0.01, 1e-12), "F1 limit")
  -- the formulas
  check.near(F.kg_omega({ math.pi, 0 }, { m = 0.5 }), math.sqrt(0.25 + 4), 1e-15, "F1 at k = (pi, 0)")
  check.near(F.kg_omega(1.0, { m = 0, a = 0.5 }), 4 * math.sin(0.25), 1e-15, "F1 with a")
end)

-- F3: stable below 2/sqrt(m^2 + 4d/a^2), the k = pi mode (even L) grows
-- above it: at 1.01 x the limit by a factor |lambda| = 1.33 a step
check.test("F3_stability_limit", function()
  local m, d = 0.5, 2
  local limit = F.kg_stability_limit(d, { m = m })
  check.near(limit, 2 / math.sqrt(0.25 + 8), 1e-15, "formula")
  local warnings = {}
  local kg = require "hebb._fields_kg"   -- its warn hook is internal
  local old = kg._warn
  kg._warn = function(msg) warnings[#warnings + 1] = msg end
  T.manual_seed(3)
  local phi0 = T.randn(8, 8)
  local phi, pi = phi0:clone(), T.zeros(8, 8)
  F.kg_step(phi, pi, { m = m, dt = 0.99 * limit, steps = 5000 })
  local grow = num(phi:abs():max()) / num(phi0:abs():max())
  check.truthy(grow < 20, "bounded at 0.99 x limit: " .. grow)
  check.eq(#warnings, 0, "no warning below the limit")
  phi, pi = phi0:clone(), T.zeros(8, 8)
  F.kg_step(phi, pi, { m = m, dt = 1.01 * limit, steps = 100 })
  grow = num(phi:abs():max()) / num(phi0:abs():max())
  check.truthy(grow > 1e6, "grows at 1.01 x limit: " .. grow)
  check.eq(#warnings, 1, "one warning")
  check.truthy(warnings[1]:find(string.format("%.10g", limit), 1, true), "names the limit: " .. warnings[1])
  check.raises(function() F.kg_step(phi, pi, { m = m, dt = 1.01 * limit, steps = 5000 }) end,
               "fields.kg_step: the field became NaN or infinite at step")
  kg._warn = old
end)

-- the leapfrog energy error oscillates without drift, O(dt^2)
check.test("kg_energy", function()
  T.manual_seed(4)
  local dev = {}
  for i, dt in ipairs { 0.1, 0.05 } do
    local phi, pi = T.randn(16, 16), T.zeros(16, 16)
    local e0 = F.kg_energy(phi, pi, { m = 0.4 })
    local worst = 0
    for _ = 1, 20 do
      F.kg_step(phi, pi, { m = 0.4, dt = dt, steps = math.floor(2 / dt + 0.5) })
      worst = math.max(worst, math.abs(F.kg_energy(phi, pi, { m = 0.4 }) - e0) / e0)
    end
    dev[i] = worst
  end
  check.truthy(dev[1] < 0.02, "bounded: " .. dev[1])
  check.near(dev[1] / dev[2], 4, 0.6, "O(dt^2)")
  -- the energy of a constant field is m^2 phi^2 / 2 per site
  check.near(F.kg_energy(T.ones(3, 4) * 2, T.zeros(3, 4), { m = 0.5 }), 12 * 0.25 * 4 / 2, 1e-14, "constant")
end)

check.test("kg_same_bits_any_thread_count", function()
  local n0 = hebb.threads()
  local res = {}
  for i, t in ipairs { 1, 2 } do
    hebb.threads(t)
    T.manual_seed(5)
    local phi, pi = T.randn(512, 600), T.zeros(512, 600)
    F.kg_step(phi, pi, { m = 0.3, dt = 0.2, steps = 3 })
    res[i] = { phi, pi, F.laplacian(phi) }
  end
  hebb.threads(n0)
  for k = 1, 3 do check.truthy(T.equal(res[1][k], res[2][k]), "output " .. k) end
  -- f32 follows f64
  T.manual_seed(6)
  local phi = T.randn(32, 32)
  local p32, q32 = phi:astype("f32"), T.zeros(32, 32, { dtype = "f32" })
  local pi = T.zeros(32, 32)
  F.kg_step(phi, pi, { dt = 0.1, steps = 50 })
  F.kg_step(p32, q32, { dt = 0.1, steps = 50 })
  check.truthy(T.allclose(p32:astype("f64"), phi, 0, 1e-4), "f32")
end)

check.test("kg_errors", function()
  local phi, pi = T.zeros(4, 4), T.zeros(4, 4)
  check.raises(function() F.kg_step(phi, T.zeros(4, 5), { dt = 0.1 }) end,
               "fields.kg_step: phi (f64 {4, 4}) and pi (f64 {4, 5}) must have the same shape and dtype")
  check.raises(function() F.kg_step(phi, pi, { dt = 0.1, shape = { 4, 8 } }) end,
               "fields.kg_step: the field has shape {4, 4} but the lattice is {4, 8}")
  check.raises(function() F.kg_step(phi, pi, { dt = 0 }) end, "dt must be a finite number > 0, got 0")
  check.raises(function() F.kg_step(phi, pi, { dt = -1 }) end, "dt must be a finite number > 0, got -1")
  check.raises(function() F.kg_step(phi, pi) end, "dt must be a finite number > 0, got nil")
  check.raises(function() F.kg_step(phi, pi, { dt = 0.1, m = -1 }) end, "m must be a finite number >= 0")
  check.raises(function() F.kg_step(phi:t(), pi, { dt = 0.1 }) end, "phi must be contiguous")
  check.raises(function() F.kg_step(T.zeros(4, 4, { dtype = "i64" }), pi, { dt = 0.1 }) end,
               "phi has dtype i64; a field is f64 or f32")
  check.raises(function() F.kg_step(phi, phi, { dt = 0.1 }) end, "phi and pi share memory")
  check.raises(function() F.kg_step(phi, pi, { dt = 0.1, stpes = 2 }) end, "did you mean 'steps'?")
  check.raises(function() F.kg_dispersion({ 8, 1 }) end, "shape[2] must be an integer >= 2, got 1")
end)

-- --- Dirac operators -------------------------------------------------------------

local linalg = require "hebb.linalg"
local function cabs_max(x) return num(x:abs():max()) end
local function shape_of(d, L) local s = {} for i = 1, d do s[i] = L end return s end

check.test("clifford_algebras", function()
  for d = 1, 4 do
    local g = F.gammas(d)
    local al, beta = F.dirac_matrices(d)
    local h = { table.unpack(al) }
    h[#h + 1] = beta
    for _, set in ipairs { g, h } do
      local n = set[1].shape[1]
      for i = 1, #set do
        check.eq(cabs_max(set[i] - set[i]:t():conj()), 0, "Hermitian")
        for j = 1, #set do
          local anti = set[i]:matmul(set[j]) + set[j]:matmul(set[i])
          local want = T.eye(n) * (i == j and 2 or 0)
          check.eq(cabs_max(anti - want), 0, string.format("{%d,%d} in d = %d", i, j, d))
        end
      end
    end
    if d <= 3 then   -- H = i W with W real: alphas real, beta imaginary
      for _, a in ipairs(al) do check.eq(cabs_max(T.imag(a)), 0, "alpha real") end
      check.eq(cabs_max(T.real(beta)), 0, "beta imaginary")
    end
  end
end)

-- F4: the naive operator at m = 0 on an even lattice has 2^d species
check.test("F4_naive_species", function()
  local species = {}
  for d = 1, 4 do
    local D = F.dirac_operator(shape_of(d, 4))
    check.eq(cabs_max((D + D:H()):to_dense()), 0, "anti-Hermitian at m = 0")
    species[d] = F.zero_modes(D) // F.gammas(d)[1].shape[1]
  end
  check.same(species, { 2, 4, 8, 16 }, 0)
  -- odd sides have no k = pi: one species
  check.eq(F.zero_modes(F.dirac_operator({ 5, 5 })) // 2, 1, "L odd")
end)

-- F5: the Wilson term gives the doubler with n_pi components at pi the
-- mass m + 2 r n_pi / a; at k = 0 the mass stays m.  D(k) at a corner is
-- M(k) times the identity, exactly
check.test("F5_wilson_doubler_masses", function()
  local m, r, a = 0.1, 0.7, 0.5
  for d = 1, 4 do
    local shape = shape_of(d, d == 4 and 2 or 4)
    local D = F.dirac_operator(shape, { kind = "wilson", m = m, r = r, a = a })
    local s = F.gammas(d)[1].shape[1]
    for c = 0, 2 ^ d - 1 do
      local k, npi = {}, 0
      for mu = 1, d do
        k[mu] = (c >> (mu - 1)) & 1 == 1 and math.pi or 0
        if k[mu] ~= 0 then npi = npi + 1 end
      end
      local Dk = F.bloch(D, shape, k)
      local want = T.eye(s) * (m + 2 * r * npi / a)
      check.truthy(cabs_max(Dk - want) < 1e-12, string.format("d = %d, n_pi = %d", d, npi))
    end
    -- at m = 0 only the k = 0 species is massless
    local D0 = F.dirac_operator(shape_of(d, d == 4 and 2 or 4), { kind = "wilson", r = 1 })
    check.eq(F.zero_modes(D0), s, "one species left, d = " .. d)
  end
  -- the Hamiltonian form: E = +-(m + 2 r n_pi) at the corners
  local H = F.dirac_hamiltonian({ 4, 4 }, { kind = "wilson", m = 0.2, r = 1 })
  local e = linalg.eigvalsh(F.bloch(H, { 4, 4 }, { math.pi, math.pi }))
  check.same(e, { -4.2, 4.2 }, 1e-12, "n_pi = 2")
end)

-- F6: the 1D staggered Hamiltonian, N = 16, m = 0.3: +-sqrt(m^2 + sin^2 k),
-- k = 2 pi n / N, n = 0 .. N/2 - 1
check.test("F6_staggered_spectrum", function()
  local N, m = 16, 0.3
  local want = {}
  for n = 0, N // 2 - 1 do
    local e = math.sqrt(m * m + math.sin(2 * math.pi * n / N) ^ 2)
    want[#want + 1] = e; want[#want + 1] = -e
  end
  table.sort(want)
  check.same(F.spectrum(F.dirac_hamiltonian(N, { kind = "staggered", m = m })), want, 1e-12)
end)

-- every Hamiltonian against the momentum-space energies, periodic and
-- antiperiodic; H purely imaginary (a real antisymmetric W = -i H) in d <= 3
check.test("hamiltonian_spectra", function()
  for d = 1, 3 do
    for _, kind in ipairs { "naive", "wilson", "staggered" } do
      for _, bc in ipairs { "periodic", "antiperiodic" } do
        local o = { kind = kind, m = 0.3, r = 0.6, bc = bc }
        local H = F.dirac_hamiltonian(shape_of(d, 4), o)
        check.truthy(cabs_max(F.spectrum(H) - F.dirac_energies(shape_of(d, 4), o)) < 1e-12,
                     string.format("%s, d = %d, %s", kind, d, bc))
        if kind ~= "staggered" then
          check.eq(cabs_max(T.real(H:to_dense())), 0, "purely imaginary")
        end
      end
    end
  end
  -- open sides: Hermitian, with fewer bonds
  local Ho = F.dirac_hamiltonian({ 5, 4 }, { kind = "wilson", bc = { "open", "periodic" } })
  Dirac._check_hermitian("test", Ho)
  check.truthy(Ho:nnz() < F.dirac_hamiltonian({ 5, 4 }, { kind = "wilson" }):nnz(), "open")
  -- the naive H = i D of tests/lua/test_dirac.lua: +-sqrt(sin^2 k1 + sin^2 k2)
  local D = F.dirac_operator({ 6, 6 })
  local w = F.spectrum(D * T.complex(0, 1))
  local want = {}
  for p = 0, 5 do for q = 0, 5 do
    local e = math.sqrt(math.sin(math.pi * p / 3) ^ 2 + math.sin(math.pi * q / 3) ^ 2)
    want[#want + 1] = e; want[#want + 1] = -e
  end end
  table.sort(want)
  check.same(w, want, 1e-13)
end)

-- staggered D: D^H D = m^2 + sum sin^2 k at every k; 2^d zero modes at m = 0
check.test("staggered_operator", function()
  local D = F.dirac_operator({ 4, 6 }, { kind = "staggered", m = 0.4 })
  local w = linalg.eigvalsh((D:H():to_dense()):matmul(D:to_dense()))
  local want = {}
  for p = 0, 3 do for q = 0, 5 do
    want[#want + 1] = 0.16 + math.sin(math.pi * p / 2) ^ 2 + math.sin(math.pi * q / 3) ^ 2
  end end
  table.sort(want)
  check.same(w, want, 1e-12)
  check.eq(F.zero_modes(F.dirac_operator({ 4, 4, 4 }, { kind = "staggered" })), 8, "2^3")
  -- d = 4: 2^4 zero modes; the 4-d Hamiltonians against momentum space
  check.eq(F.zero_modes(F.dirac_operator({ 4, 4, 2, 2 }, { kind = "staggered" })), 16, "2^4")
  for _, kind in ipairs { "naive", "wilson", "staggered" } do
    local o = { kind = kind, m = 0.3, r = 0.6, bc = { "periodic", "antiperiodic", "periodic", "periodic" } }
    local H = F.dirac_hamiltonian({ 4, 2, 2, 2 }, o)
    check.truthy(cabs_max(F.spectrum(H) - F.dirac_energies({ 4, 2, 2, 2 }, o)) < 1e-12, kind .. ", d = 4")
  end
end)

check.test("krylov_evolution", function()
  T.manual_seed(8)
  local H = F.dirac_hamiltonian({ 6, 6 }, { kind = "wilson", m = 0.2 })
  local n = H.shape[1]
  local v = T.complex(T.randn(n), T.randn(n))
  local exact = linalg.expm(H:to_dense() * T.complex(0, -3)):matmul(v)
  local w = F.evolve(H, v, 3)
  check.truthy(cabs_max(w - exact) < 1e-11 * num(v:norm()), "e^{-iHt} v")
  check.near(num(w:norm()), num(v:norm()), 1e-11, "unitary")
  check.truthy(cabs_max(F.evolve(H, w, -3) - v) < 1e-11 * num(v:norm()), "backwards")
  -- a long time with a small Krylov space takes substeps
  local long = F.evolve(H, v, 200, { krylov = 8, tol = 1e-10 })
  local want = linalg.expm(H:to_dense() * T.complex(0, -200)):matmul(v)
  check.truthy(cabs_max(long - want) < 1e-8 * num(v:norm()), "t = 200: " .. cabs_max(long - want))
  -- a dense tensor and a real sparse H are taken
  local sp = require "hebb.sparse"
  local A = sp.csr({ 1, 2 }, { 2, 1 }, { 1.0, 1.0 }, { 2, 2 })
  local r = F.evolve(A, T.tensor { 1.0, 0.0 }, math.pi / 2)
  check.truthy(cabs_max(r - T.complex(T.tensor { 0.0, 0.0 }, T.tensor { 0.0, -1.0 })) < 1e-13, "sigma_x")
  check.truthy(cabs_max(F.evolve(A:to_dense(), T.tensor { 1.0, 0.0 }, math.pi / 2) - r) < 1e-14, "dense")
end)

check.test("dirac_errors", function()
  local sp = require "hebb.sparse"
  local N = sp.csr({ 1 }, { 2 }, { 1.0 }, { 2, 2 })
  check.raises(function() F.evolve(N, T.ones(2), 1) end,
               "fields.evolve: H is not Hermitian: H[1][2] = 1+0i but conj(H[2][1]) = 0+0i")
  check.raises(function() F.spectrum(N) end, "fields.spectrum: H is not Hermitian")
  check.raises(function() F.evolve(F.dirac_hamiltonian(4), T.ones(3), 1) end,
               "fields.evolve: v must be a vector of length 8")
  check.raises(function() F.dirac_operator({ 4, 4 }, { kind = "wilsen" }) end,
               "kind must be \"naive\", \"wilson\" or \"staggered\", got \"wilsen\" (did you mean 'wilson'?)")
  check.raises(function() F.dirac_operator({ 4, 4, 4, 4, 4 }) end, "shape must list 1 to 4 lattice sides")
  check.raises(function() F.dirac_hamiltonian({ 4 }, { bc = "twisted" }) end,
               "bc[1] = \"twisted\"; expected \"periodic\", \"antiperiodic\" or \"open\"")
  check.raises(function() F.dirac_energies({ 4 }, { bc = "open" }) end, "side 1 is open")
  check.raises(function() F.bloch(F.dirac_hamiltonian({ 4, 4 }), { 4, 4 }, { 0 }) end,
               "k must list 2 momenta")
end)

-- --- Schrodinger and Madelung ---------------------------------------------------------

local function gaussian(x, sigma)   -- |psi|^2 has standard deviation sigma
  return T.complex((x * x / (-4 * sigma * sigma)):exp(), T.zeros_like(x))
end
local function width(rho, x)
  local m1 = num((rho * x):sum() / rho:sum())
  return math.sqrt(num((rho * x * x):sum() / rho:sum()) - m1 * m1)
end

-- F8: sigma(t) = sigma0 sqrt(1 + (t / (2 m sigma0^2))^2) = sqrt 2 at t = 2;
-- the kinetic step is exact, so only the grid (dx = 1/16 on [-20, 20)) and
-- rounding remain: measured 2e-15
check.test("F8_free_gaussian", function()
  local n, dx = 640, 1 / 16
  local x = F.grid(n, dx)
  local psi = gaussian(x, 1)
  local S = F.schrodinger { shape = { n }, dx = dx, dt = 0.1 }
  S:step(psi, 20)
  check.near(width(psi:abs() ^ 2, x), math.sqrt(2), 1e-6 * math.sqrt(2), "sigma(2)")
  -- in c64 to single precision
  local p32 = gaussian(x, 1):astype("c64")
  F.schrodinger { shape = { n }, dx = dx, dt = 0.1, dtype = "c64" }:step(p32, 20)
  check.near(width((p32:abs() ^ 2):astype("f64"), x), math.sqrt(2), 1e-5, "c64")
end)

-- F9: for rho ~ e^{-x^2/2} (sigma = 1, m = hbar = 1), Q = 1/4 - x^2/8:
-- Q(0) = 0.25, Q(1) = 0.125 (spectral derivatives: exact to rounding)
check.test("F9_quantum_potential", function()
  local n, dx = 640, 1 / 16
  local x = F.grid(n, dx)
  local mad = F.madelung(gaussian(x, 1), { dx = dx })
  local i0 = n // 2 + 1
  check.eq(x[i0], 0)
  check.eq(x[i0 + 16], 1)
  check.near(mad.Q[i0], 0.25, 1e-6, "Q(0)")
  check.near(mad.Q[i0 + 16], 0.125, 1e-6, "Q(1)")
  -- a plane wave moves at v = hbar k / m; S is hbar times the phase
  local k = 2 * math.pi * 5 / (n * dx)
  local pw = T.complex((x * k):cos(), (x * k):sin()) * gaussian(x, 2)
  local m2 = F.madelung(pw, { dx = dx, m = 2, hbar = 0.5 })
  check.near(m2.v[i0], 0.5 * k / 2, 1e-9, "velocity")
  -- and back: psi = sqrt(rho) e^{iS/hbar}
  local back = F.from_madelung(m2.rho, m2.S, { hbar = 0.5 })
  check.truthy(num((back - pw):abs():max()) < 1e-12, "round trip")
  -- 2-d: a velocity per axis
  local xs = F.grid({ 32, 32 }, 0.5)
  local w = T.complex((xs[2] * 0.7854):cos() * T.ones(32, 1), (xs[2] * 0.7854):sin() * T.ones(32, 1))
  local m3 = F.madelung(w, { dx = 0.5 })
  check.near(num(m3.v[2]:mean()), 0.7854 - 0.7854 % (2 * math.pi / 16), 1e-3, "v_y")
  check.near(num(m3.v[1]:abs():max()), 0, 1e-12, "v_x")
end)

-- imaginary time: the harmonic oscillator's ground state, E0 = d/2 (the
-- splitting shifts the fixed point by O(dtau^2) and E by O(dtau^4))
check.test("ground_states", function()
  local n, dx = 256, 0.1
  local x = F.grid(n, dx)
  local H = F.schrodinger { V = x * x * 0.5, dx = dx, dt = 0.005 }
  local g, e = H:ground_state(gaussian(x, 2) + T.complex(x * 0.1, T.zeros(n)), { tol = 1e-13 })
  check.near(e, 0.5, 1e-8, "1-d")
  check.near(H:norm(g), 1, 1e-12, "normalized")
  local xs = F.grid({ 48, 48 }, 0.25)
  local V = (xs[1] * xs[1] + xs[2] * xs[2]) * 0.5
  local H2 = F.schrodinger { V = V, dx = 0.25, dt = 0.01 }
  local _, e2 = H2:ground_state(T.complex((V * -0.8):exp(), T.zeros(48, 48)), { tol = 1e-12 })
  check.near(e2, 1, 1e-7, "2-d")
end)

-- a coherent state in the harmonic well returns after one period; Strang
-- splitting is second order in dt
check.test("split_step_order_and_unitarity", function()
  local n, dx = 256, 0.1
  local x = F.grid(n, dx)
  local errs = {}
  for i, dt in ipairs { 0.04, 0.02 } do
    local H = F.schrodinger { V = x * x * 0.5, dx = dx, dt = dt }
    local psi = T.complex(((x - 2) ^ 2 / -2):exp(), T.zeros(n))
    local n0 = H:norm(psi)
    H:step(psi, math.floor(2 * math.pi / dt + 0.5) // 4)   -- a quarter period
    check.near(H:norm(psi), n0, 1e-12 * n0, "unitary")
    local rho = psi:abs() ^ 2
    local want = T.complex(((x - 2 * math.cos(math.floor(2 * math.pi / dt + 0.5) // 4 * dt)) ^ 2 / -2):exp(), T.zeros(n))
    errs[i] = math.abs(num((rho * x):sum() / rho:sum()) - num((want:abs() ^ 2 * x):sum() / (want:abs() ^ 2):sum()))
  end
  check.near(errs[1] / errs[2], 4, 0.5, "second order")
end)

-- Crank-Nicolson in 1-d is the Cayley transform (1 + i dt H/2)^-1 (1 - i dt
-- H/2) of the three-point H, exactly (periodic: the cyclic solve)
check.test("crank_nicolson", function()
  local linalg = require "hebb.linalg"
  local n, dx, dt, m = 12, 0.3, 0.07, 1.3
  T.manual_seed(9)
  local V = T.randn(n)
  for _, bc in ipairs { "periodic", "dirichlet" } do
    local H = T.zeros(n, n)
    local c = 1 / (2 * m * dx * dx)
    for i = 1, n do
      H:set(i, i, 2 * c + V[i])
      if i < n or bc == "periodic" then H:set(i, i % n + 1, -c); H:set(i % n + 1, i, -c) end
    end
    local Hc = T.complex(H, T.zeros(n, n))
    local I = T.complex(T.eye(n), T.zeros(n, n))
    local half = Hc * T.complex(0, dt / 2)
    local U = linalg.solve(I + half, I - half)
    local psi = T.complex(T.randn(n), T.randn(n))
    local want = U:matmul(U:matmul(psi))
    local S = F.schrodinger { V = V, dx = dx, m = m, dt = dt, method = "cn", bc = bc }
    S:step(psi, 2)
    check.truthy(num((psi - want):abs():max()) < 1e-13, bc)
  end
  -- d = 2, 3: unitary; the energy of the 2-d well's ground state drifts not
  local xs = F.grid({ 16, 12, 10 }, 0.4)
  local V3 = (xs[1] ^ 2 + xs[2] ^ 2 + xs[3] ^ 2) * 0.5
  -- c64 too, over 200 steps: its norm moves by rounding only
  for _, c in ipairs { { "c128", 10, 1e-11 }, { "c64", 200, 1e-5 } } do
    local S3 = F.schrodinger { V = V3, dx = 0.4, dt = 0.02, method = "cn", dtype = c[1] }
    local psi = T.complex(T.randn(16, 12, 10), T.randn(16, 12, 10)):astype(c[1])
    local n0, e0 = S3:norm(psi), S3:energy(psi)
    S3:step(psi, c[2])
    check.near(S3:norm(psi), n0, c[3] * n0, "3-d unitary " .. c[1])
    check.near(S3:energy(psi), e0, 2e-3 * math.abs(e0), "3-d energy " .. c[1])
  end
end)

-- c64 Crank-Nicolson solves each line in double and rounds once per sweep:
-- it follows c128 to single precision (measured 2.5e-7) and keeps the norm
check.test("crank_nicolson_c64", function()
  T.manual_seed(11)
  local n, dx, dt, m = 64, 0.3, 0.07, 1.3
  local V = T.randn(n)
  local psi0 = T.complex(T.randn(n), T.randn(n))
  for _, bc in ipairs { "periodic", "dirichlet" } do
    local a, a32 = psi0:clone(), psi0:astype("c64")
    F.schrodinger { V = V, dx = dx, m = m, dt = dt, method = "cn", bc = bc }:step(a, 10)
    local S32 = F.schrodinger { V = V, dx = dx, m = m, dt = dt, method = "cn", bc = bc, dtype = "c64" }
    S32:step(a32, 10)
    check.eq(a32.dtype, "c64")
    check.truthy(num((a32:astype("c128") - a):abs():max()) < 2e-6, bc .. " c64 = c128")
    check.near(S32:norm(a32), S32:norm(psi0:astype("c64")), 1e-6 * S32:norm(a32), bc .. " norm")
  end
end)

-- Crank-Nicolson with a Hamiltonian matrix: the three-point H as a sparse
-- matrix gives the grid propagator's steps (1e-15); a Wilson-Dirac H (a
-- 128 x 128 c128 sparse matrix) converges to e^{-iHt} v (fields.evolve, exact
-- to 1e-11) at second order, in c64 as in c128 (error 1.15e-6 at dt = 1/640
-- in both: the rounding of c64 does not show), with |psi| kept
check.test("crank_nicolson_sparse_hamiltonian", function()
  local sp = require "hebb.sparse"
  T.manual_seed(12)
  local n, dx, dt, m = 64, 0.3, 0.07, 1.3
  local V = T.randn(n)
  local c = 1 / (2 * m * dx * dx)
  local H = sp.lattice({ n }):scale(-c) + sp.diag(V + 2 * c)
  local psi0 = T.complex(T.randn(n), T.randn(n))
  local a, b = psi0:clone(), psi0:clone()
  local G = F.schrodinger { V = V, dx = dx, m = m, dt = dt, method = "cn" }
  G:step(a, 10)
  local S = F.schrodinger { H = H, dt = dt }
  S:step(b, 10)
  check.truthy(num((a - b):abs():max()) < 1e-12, "sparse H = grid")
  check.near(S:energy(b), G:energy(a), 1e-12, "energy")
  -- a grid shape for psi, and a dense H
  local psi2 = psi0:reshape(8, 8):contiguous()
  F.schrodinger { H = H:to_dense(), dt = dt, shape = { 8, 8 } }:step(psi2, 10)
  check.truthy(num((psi2:reshape(n) - a):abs():max()) < 1e-12, "dense H, shape {8, 8}")
  local Hd = F.dirac_hamiltonian({ 8, 8 }, { kind = "wilson", m = 0.3 })
  local v = T.complex(T.randn(128), T.randn(128))
  v = v / v:norm()
  local exact = F.evolve(Hd, v, 1)
  local errs = {}
  for i, k in ipairs { 40, 80, 640 } do
    local w, w32 = v:clone(), v:astype("c64")
    F.schrodinger { H = Hd, dt = 1 / k }:step(w, k)
    F.schrodinger { H = Hd, dt = 1 / k, dtype = "c64" }:step(w32, k)
    errs[i] = num((w - exact):abs():max())
    local e32 = num((w32:astype("c128") - exact):abs():max())
    check.truthy(e32 < errs[i] + 2e-6, string.format("c64 %.3g vs c128 %.3g at dt = 1/%d", e32, errs[i], k))
    check.near(num((w32:abs() ^ 2):sum()), 1, 1e-6, "c64 norm")
    check.near(num((w:abs() ^ 2):sum()), 1, 1e-12, "c128 norm")
  end
  check.near(errs[1] / errs[2], 4, 0.3, "second order")
  check.truthy(errs[3] < 2e-6, "dt = 1/640: " .. errs[3])
end)

check.test("schrodinger_same_bits_any_thread_count", function()
  local n0 = hebb.threads()
  local xs = F.grid({ 128, 160 }, 0.2)
  local V = (xs[1] ^ 2 + xs[2] ^ 2) * 0.5
  T.manual_seed(10)
  local psi0 = T.complex(T.randn(128, 160), T.randn(128, 160))
  local res = {}
  for i, t in ipairs { 1, 2 } do
    hebb.threads(t)
    local a, b = psi0:clone(), psi0:clone()
    F.schrodinger { V = V, dx = 0.2, dt = 0.01, method = "cn" }:step(a, 2)
    F.schrodinger { V = V, dx = 0.2, dt = 0.01 }:step(b, 2)
    res[i] = { a, b }
  end
  hebb.threads(n0)
  check.truthy(T.equal(res[1][1], res[2][1]), "Crank-Nicolson")
  check.truthy(T.equal(res[1][2], res[2][2]), "split step")
end)

check.test("schrodinger_errors", function()
  check.raises(function() F.schrodinger { shape = { 8 }, dt = 0 } end,
               "fields.schrodinger: dt must be a finite number > 0, got 0")
  check.raises(function() F.schrodinger { shape = { 8 } } end, "dt must be a finite number > 0, got nil")
  check.raises(function() F.schrodinger { V = T.zeros(8), shape = { 9 }, dt = 0.1 } end,
               "V has shape {8} but shape = {9}")
  check.raises(function() F.schrodinger { shape = { 8 }, dt = 0.1, bc = "dirichlet" } end,
               "bc must be \"periodic\" (split-step Fourier is periodic)")
  check.raises(function() F.schrodinger { shape = { 8 }, dt = 0.1, method = "rk4" } end,
               "method must be \"split\" or \"cn\"")
  local S = F.schrodinger { shape = { 8 }, dt = 0.1 }
  check.raises(function() S:step(T.zeros(9, { dtype = "c128" })) end,
               "fields.schrodinger:step: psi has shape {9}, the grid is {8}")
  check.raises(function() S:step(T.zeros(8)) end, "psi has dtype f64; this propagator works in c128")
  check.raises(function() F.madelung(T.ones(4)) end, "fields.madelung: psi must be a complex tensor")
  check.raises(function() F.schrodinger { shape = { 2 }, dt = 0.1, method = "cn" }:step(T.zeros(2, { dtype = "c128" })) end,
               "a periodic side needs at least 3")
  check.raises(function() F.schrodinger { shape = { 8 }, dt = 0.1, dtype = "f64" } end,
               "dtype must be \"c128\" or \"c64\", got \"f64\"")
  check.raises(function() S:step(T.zeros(8, { dtype = "c64" })) end, "psi has dtype c64; this propagator works in c128")
  -- Hamiltonian matrices
  local sp = require "hebb.sparse"
  local N = sp.csr({ 1, 2 }, { 2, 2 }, { 1.0, 1.0 }, { 2, 2 })
  check.raises(function() F.schrodinger { H = N, dt = 0.1 } end,
               "fields.schrodinger: H is not Hermitian: H[1][2] = 1+0i but conj(H[2][1]) = 0+0i")
  local H = sp.eye(4)
  check.raises(function() F.schrodinger { H = H, V = T.zeros(4), dt = 0.1 } end, "give V (a potential on a grid) or H")
  check.raises(function() F.schrodinger { H = H, dt = 0.1, shape = { 3 } } end, "H is 4 x 4 but shape = {3} has 3 points")
  check.raises(function() F.schrodinger { H = H, dt = 0.1, method = "split" } end,
               "a Hamiltonian matrix H needs method \"cn\", got \"split\"")
  check.raises(function() F.schrodinger { H = T.ones(3), dt = 0.1 } end, "H must be a square sparse matrix or 2-d tensor")
  check.raises(function() F.schrodinger { H = H, dt = 0.1 }:step(T.zeros(5, { dtype = "c128" })) end,
               "psi has shape {5}, the grid is {4}")
  -- never a silent NaN run
  check.raises(function() F.schrodinger { V = T.tensor { 0.0, 0 / 0, 0.0, 0.0 }, dt = 0.1 } end,
               "fields.schrodinger: V holds NaN or infinite values")
  for _, method in ipairs { "split", "cn" } do
    local bad = T.complex(T.tensor { 1.0, 0 / 0, 0.0, 0.0 }, T.zeros(4))
    check.raises(function() F.schrodinger { shape = { 4 }, dt = 0.1, method = method }:step(bad, 3) end,
                 "fields.schrodinger:step: psi is NaN or infinite after 3 steps of dt = 0.1")
  end
  check.raises(function() F.evolve(F.dirac_hamiltonian(4), T.full({ 8 }, 1 / 0), 1) end,
               "fields.evolve: v holds NaN or infinite values")
end)

check.done()
