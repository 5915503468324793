-- %% [markdown]
-- # Klein–Gordon waves on a lattice: the measured dispersion
--
-- A free scalar field on a periodic lattice of spacing a = 1,
-- φ̈ = ∇²φ − m²φ with the nearest-neighbour Laplacian, stepped by leapfrog
-- (kick–drift–kick, `fields.kg_step`).  Each lattice momentum k is a
-- normal mode; in continuous time it oscillates at
-- ω(k) = √(m² + Σᵢ 4 sin²(kᵢ/2)) (F1, the lattice dispersion), and the leapfrog
-- with step dt at ω̃ with (2/dt) sin(ω̃ dt/2) = ω(k) (F2), stable for
-- dt < 2/√(m² + 4d) (F3).  Here ω̃ is *measured*: a random field is
-- stepped, and the frequency of each spatial Fourier mode is read from an
-- FFT in time (`fields.kg_dispersion`, refined by a least-squares fit of
-- one sinusoid around the FFT's peak).
--
-- usage: hebb examples/klein_gordon.lua [--small] [--check]

-- %%
local T = require "hebb.tensor"
local fields = require "hebb.fields"

local nb = require("hebb.notebook").checks(arg)   -- --small, --check, verdicts
local small, verdict = nb.small, nb.verdict
local function num(v) return type(v) == "number" and v or v:item() end
local M = 0.5

-- %% [markdown]
-- ## One dimension
-- The measured ω̃ against F2 (exact for the leapfrog) and F1 (continuous
-- time: they differ by (ω dt)²/24, relatively).

-- %%
local L, dt = small and 32 or 128, 0.1
local r = fields.kg_dispersion({ L }, { m = M, dt = dt, steps = small and 1024 or 4096 })
print(string.format("1D, L = %d, m = %g, dt = %g", L, M, dt))
print("      k     measured w~    F2 (leapfrog)   F1 (continuum)")
local n = r.k.shape[1]
for i = 1, n, math.max(1, n // 8) do
  print(string.format("  %6.4f   %.10f   %.10f   %.10f", r.k[i][1], r.omega[i], r.leapfrog[i],
                      r.continuum[i]))
end
local f2 = num(((r.omega - r.leapfrog) / r.leapfrog):abs():max())
local f1 = num(((r.omega - r.continuum) / r.continuum - (r.continuum * dt) ^ 2 / 24):abs():max())
print(string.format("  largest relative deviation from F2: %.2e", f2))
verdict(f2 < 1e-6, "F2 within 1e-6")
print(string.format("  from F1 after the (w dt)^2/24 correction: %.2e", f1))
verdict(f1 < 1e-4, "F1 up to O(dt^4)")

-- %% [markdown]
-- ## Two dimensions
-- The same on an L × L lattice: every momentum in [0, π]², here along the
-- axis, the diagonal and the edge of the zone.

-- %%
local L2 = small and 12 or 32
local r2 = fields.kg_dispersion({ L2, L2 }, { m = M, dt = 0.2, steps = small and 512 or 2048 })
local f22 = num(((r2.omega - r2.leapfrog) / r2.leapfrog):abs():max())
print(string.format("2D, %d x %d, dt = 0.2: %d momenta, largest deviation from F2 %.2e", L2, L2,
                    r2.k.shape[1], f22))
for i = 1, r2.k.shape[1] do
  local kx, ky = r2.k[i][1], r2.k[i][2]
  if (ky == 0 or kx == ky or kx == math.pi) and i % 3 == 1 then
    print(string.format("  k = (%.3f, %.3f): w~ = %.8f (F2 %.8f)", kx, ky, r2.omega[i], r2.leapfrog[i]))
  end
end
verdict(f22 < 1e-6, "F2 within 1e-6 in 2D")

-- %% [markdown]
-- ## The stability limit
-- With even L the momentum (π, π) exists; its leapfrog mode is the first
-- to grow once dt passes 2/√(m² + 4d).  A step 1% below the limit keeps
-- the field bounded; 1% above it grows by about 1.33 per step.

-- %%
local limit = fields.kg_stability_limit(2, { m = M })
local phi0 = T.randn(16, 16)
local rows = {}
for _, f in ipairs { 0.99, 1.01 } do
  local phi, pi = phi0:clone(), T.zeros(16, 16)
  -- above the limit kg_step warns through Lua's warn() (shown by `hebb -W`
  -- and in a notebook's output)
  fields.kg_step(phi, pi, { m = M, dt = f * limit, steps = 200 })
  rows[f] = num(phi:abs():max()) / num(phi0:abs():max())
  print(string.format("  dt = %.2f x limit (%.6f): max|phi| grew by %.3g in 200 steps", f,
                      f * limit, rows[f]))
end
verdict(rows[0.99] < 20 and rows[1.01] > 1e10, "F3: bounded below, blows up above")

-- %% [markdown]
-- ## Energy
-- The leapfrog conserves a nearby (shadow) energy exactly; the lattice
-- energy itself oscillates by O(dt²) without drift.

-- %%
local phi, pi = T.randn(64), T.zeros(64)
local e0 = fields.kg_energy(phi, pi, { m = M })
local worst = 0
for _ = 1, 100 do
  fields.kg_step(phi, pi, { m = M, dt = 0.1, steps = 100 })
  worst = math.max(worst, math.abs(fields.kg_energy(phi, pi, { m = M }) / e0 - 1))
end
print(string.format("  10^4 steps at dt = 0.1: the energy stays within %.2e of its start", worst))
verdict(worst < 1e-2, "no drift")

-- %% [markdown]
-- ## What is shown, and what is not
-- Shown: the leapfrog integrator of `hebb.fields` reproduces the lattice
-- dispersion relation to 1e-6 or better in one and two dimensions, with
-- the dt² shift from the continuum value that F2 predicts, the stability
-- limit F3, and bounded energy errors.  Not shown: interacting fields,
-- other discretizations of the Laplacian, or a continuum limit (a → 0).

-- %%
nb.finish()
