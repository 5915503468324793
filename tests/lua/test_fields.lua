-- hebb.fields: Klein-Gordon on lattices (REFERENCE_VALUES F1-F3), the
-- lattice Laplacian, measured dispersion.
-- Run: LUA_PATH="tests/lua/lib/?.lua;;" build/hebb tests/lua/test_fields.lua
local check = require "check"
local T = require "hebb.tensor"
local F = require "hebb.fields"
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
  local old = F._warn
  F._warn = function(msg) warnings[#warnings + 1] = msg end
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
  F._warn = old
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

check.done()
