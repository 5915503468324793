-- %% [markdown]
-- # The 2D Ising model: Monte Carlo with honest error bars, against exact results
--
-- Spins s = ±1 on an L×L torus, H = −Σ⟨ij⟩ sᵢsⱼ (J = k_B = 1), inverse
-- temperature β = 1/T.  The model is solved: Onsager (1944) gives the
-- infinite lattice, Kaufman (1949) the L×L torus exactly, so every number a
-- simulation prints here can be compared with the truth.  This notebook
-- shows that the Monte Carlo of `hebb.lattice` and the error analysis of
-- `hebb.stats` agree with it within their stated errors:
--
-- 1. Metropolis and Wolff at several temperatures: energy per site with
--    its error from the integrated autocorrelation time τ_int, and τ_int
--    itself (critical slowing down for Metropolis, almost none for Wolff);
-- 2. the specific heat with jackknife errors against Kaufman's finite-L value
--    and Onsager's infinite-lattice curve;
-- 3. the Binder cumulant U₄ = 1 − ⟨m⁴⟩/(3⟨m²⟩²) for L = 8, 16, 32, whose
--    curves cross near T_c;
-- 4. histogram reweighting: one run at T_c gives ⟨e⟩ and c at nearby
--    temperatures.
--
-- usage: `hebb examples/ising.lua [--quick] [--check]` — `--quick` is the
-- small version (`make demo`, and `make test` with `--check`), the default
-- the full one (`make ising`); `--check` exits non-zero when a number is off
-- target (a Monte Carlo value more than 4 standard errors from its exact
-- value, or a crossing outside the window stated below).

-- %%
local T = require "hebb.tensor"
local hebb = require "hebb"
local lattice = require "hebb.lattice"
local stats = require "hebb.stats"
local plot = require "hebb.plot"
local exact = lattice.exact

local quick, checking = false, false
for _, a in ipairs(arg or {}) do
  if a == "--quick" then quick = true elseif a == "--check" then checking = true end
end
local size = quick and {
  L = 16, steps = 1000, replicas = 8, binder_L = { 8, 16, 32 }, binder_steps = 300,
  rw_L = 16, rw_steps = 1500,
} or {
  L = 32, steps = 4000, replicas = 16, binder_L = { 8, 16, 32 }, binder_steps = 1500,
  rw_L = 32, rw_steps = 6000,
}
local gen = T.Generator(2026)
local failures = {}
local function expect(ok, what)
  if not ok then failures[#failures + 1] = what end
end
-- (value - exact) / error, and a check that it is within 4
local function sigma(v, err, want, what)
  local z = (v - want) / err
  expect(math.abs(z) <= 4, string.format("%s: %.5f ± %.5f vs exact %.5f (%.1f sigma)", what, v, err, want, z))
  return z
end
print(string.format("T_c = %.6f (K_c = ln(1 + √2)/2 = %.10f); %s run, %d replicas per point",
                    exact.Tc, exact.Kc, quick and "quick" or "full", size.replicas))

-- %% [markdown]
-- ## A measurement loop over a batch of replicas
--
-- `lat:metropolis(s, β)` and `lat:wolff(s, β)` update a whole batch of
-- independent replicas `s` (shape {B, L, L}) in C.  Each replica gives a
-- time series; its mean's error comes from τ_int (Sokal's automatic window,
-- `stats.mean_error`), and the replicas are averaged.  Wolff updates flip
-- one cluster at a time: a measurement is taken after a fixed number of
-- clusters chosen so that about N spins flip in between (fixed, not "until
-- N have flipped", which would bias toward order).

-- %%
-- per-site energy and |magnetization| series {steps, B}
local function run(lat, beta, update, steps, B)
  -- start ordered below T_c (a quench from disorder leaves stripes that
  -- take very long to anneal), disordered above; then equilibrate
  local s = beta > exact.Kc and lat:ordered(B) or lat:random(B, { generator = gen })
  local per = 1
  if update == "wolff" then   -- clusters per measurement from a pilot run
    local size_mean = lat:wolff(s, beta, { clusters = 200, generator = gen })
    per = math.max(1, math.floor(lat.N / size_mean + 0.5))
    lat:wolff(s, beta, { clusters = 100 * per, generator = gen })
  else
    lat:metropolis(s, beta, { sweeps = 300, generator = gen })
  end
  local es, ms = {}, {}
  for i = 1, steps do
    if update == "wolff" then lat:wolff(s, beta, { clusters = per, generator = gen })
    else lat:metropolis(s, beta, { generator = gen }) end
    local E, M = lat:observe(s)
    es[i], ms[i] = E / lat.N, M:select(-1, 1):abs() / lat.N
  end
  return T.stack(es), T.stack(ms), per
end

-- the replica-averaged mean of a {steps, B} series, its error from each
-- replica's tau_int, and the mean tau_int
local function mean_tau(x)
  local B = x:size(2)
  local sum, var, tau = 0, 0, 0
  for r = 1, B do
    local m, e, t = stats.mean_error(x:select(2, r))
    sum, var, tau = sum + m, var + e * e, tau + t
  end
  return sum / B, math.sqrt(var) / B, tau / B
end

-- %% [markdown]
-- ## 1. Metropolis and Wolff: energy and autocorrelation time
--
-- τ_int of the energy is in sweeps for Metropolis and in measurements
-- (≈ N flipped spins) for Wolff.  Near T_c Metropolis decorrelates slowly
-- (τ grows like L^z, z ≈ 2.17); Wolff's clusters are the size of the
-- correlated regions and τ stays of order 1.

-- %%
local L = size.L
local lat = lattice.ising{ L = L }
local temps = { 1.8, 2.0, exact.Tc, 2.6, 3.0 }
print(string.format("\nL = %d, %d measurements x %d replicas per point", L, size.steps, size.replicas))
print("   T     algorithm    e (MC)                 e (Kaufman, L)   dev/σ   τ_int(e)")
local series = {}
local points = { metropolis = { {}, {}, {} }, wolff = { {}, {}, {} } }   -- T, e, error
for _, Tm in ipairs(temps) do
  local beta = 1 / Tm
  local ex = exact.kaufman(L, L, beta)
  for _, alg in ipairs({ "metropolis", "wolff" }) do
    local es, ms = run(lat, beta, alg, size.steps, size.replicas)
    series[alg .. Tm] = { es = es, ms = ms, beta = beta }
    local e, err, tau = mean_tau(es)
    local pt = points[alg]
    pt[1][#pt[1] + 1], pt[2][#pt[2] + 1], pt[3][#pt[3] + 1] = Tm, e, err
    local z = sigma(e, err, ex.e, string.format("%s e at T = %.3f", alg, Tm))
    print(string.format("%6.3f  %-11s  %-20s  %14.8f  %+6.1f   %7.2f", Tm, alg,
                        stats.format(e, err), ex.e, z, tau))
  end
end

-- %% Figure: energy
-- the exact curves on a fine grid of temperatures
local grid = T.linspace(1.5, 3.3, 91)
local function curve(f)
  local ys = {}
  for i = 1, grid:size(1) do ys[i] = f(1 / grid[i]) end
  return T.tensor(ys)
end
local fig_e = plot.figure { width = 640, height = 380 }
fig_e:line(grid, curve(exact.onsager_energy), { label = "Onsager, $L = \\infty$" })
fig_e:line(grid, curve(function(b) return exact.kaufman(L, L, b).e end),
           { label = string.format("Kaufman, $L = %d$", L) })
fig_e:errorbar(points.metropolis[1], points.metropolis[2], points.metropolis[3],
               { label = "Metropolis" })
fig_e:errorbar(points.wolff[1], points.wolff[2], points.wolff[3], { label = "Wolff" })
fig_e:vline(exact.Tc, { label = "$T_c$" })
fig_e:set { xlabel = "$T$", ylabel = "energy per site $e$",
            title = "2D Ising: Monte Carlo against the exact solutions" }
plot.show(fig_e)

-- %% [markdown]
-- ## 2. Specific heat with jackknife errors
--
-- c = β² N (⟨e²⟩ − ⟨e⟩²) is a nonlinear function of two averages, so its
-- error comes from the jackknife (`stats.jackknife`: blocks longer than
-- τ_int left out one at a time).  Kaufman's formula gives the exact c of
-- the finite torus; Onsager's c of the infinite lattice diverges
-- logarithmically at T_c, and the finite-L peak is rounded.

-- %%
print("\n   T     c (Wolff, jackknife)    c (Kaufman, L)   dev/σ   c (Onsager, L = ∞)")
local cpts = { {}, {}, {} }
for _, Tm in ipairs(temps) do
  local d = series["wolff" .. Tm]
  local B = d.es:size(2)
  local cs, vs = 0, 0
  for r = 1, B do
    local e = d.es:select(2, r)
    local c, err = stats.jackknife(function(m1, m2) return d.beta ^ 2 * lat.N * (m2 - m1 * m1) end,
                                   { e, e:square() }, { bins = 20 })
    cs, vs = cs + c, vs + err * err
  end
  local c, err = cs / B, math.sqrt(vs) / B
  cpts[1][#cpts[1] + 1], cpts[2][#cpts[2] + 1], cpts[3][#cpts[3] + 1] = Tm, c, err
  local exk = exact.kaufman(L, L, d.beta).c
  local z = sigma(c, err, exk, string.format("c at T = %.3f", Tm))
  print(string.format("%6.3f   %-20s  %14.6f   %+6.1f   %12.6f", Tm, stats.format(c, err), exk, z,
                      exact.onsager_specific_heat(d.beta)))
end

-- %% Figure: specific heat
local fig_c = plot.figure { width = 640, height = 380 }
fig_c:line(grid, curve(exact.onsager_specific_heat), { label = "Onsager, $L = \\infty$" })
fig_c:line(grid, curve(function(b) return exact.kaufman(L, L, b).c end),
           { label = string.format("Kaufman, $L = %d$", L) })
fig_c:errorbar(cpts[1], cpts[2], cpts[3], { label = "Wolff, jackknife errors" })
fig_c:set { xlabel = "$T$", ylabel = "specific heat per site $c$" }
plot.show(fig_c)

-- %% [markdown]
-- ## 3. Binder cumulant crossing
--
-- U₄(T, L) = 1 − ⟨m⁴⟩/(3⟨m²⟩²) tends to 2/3 in the ordered phase and 0 in
-- the disordered one; at T_c it takes a universal value (≈ 0.61 on the
-- torus) for every L, so the curves for different L cross there (up to
-- corrections to scaling).  Wolff updates, 5 temperatures around T_c; the
-- crossing of neighbouring sizes by linear interpolation.

-- %%
local bt = { 2.19, 2.23, 2.27, 2.31, 2.35 }
local U = {}
io.write("\n  L \\ T ")
for _, Tm in ipairs(bt) do io.write(string.format("  %-17s", string.format("   T = %.2f", Tm))) end
io.write("\n")
for _, Lb in ipairs(size.binder_L) do
  local lb = lattice.ising{ L = Lb }
  U[Lb] = {}
  io.write(string.format("%5d  ", Lb))
  for k, Tm in ipairs(bt) do
    local _, ms = run(lb, 1 / Tm, "wolff", size.binder_steps, size.replicas)
    -- moments per measurement (averaged over replicas), jackknifed in time
    local u, err = stats.jackknife(function(m2, m4) return 1 - m4 / (3 * m2 * m2) end,
                                   { (ms ^ 2):mean(2), (ms ^ 4):mean(2) }, { bins = 20 })
    U[Lb][k] = { u, err }
    io.write(string.format("  %-17s", stats.format(u, err)))
  end
  io.write("\n")
end
local Ls = size.binder_L
for i = 1, #Ls - 1 do
  local a, b = U[Ls[i]], U[Ls[i + 1]]
  local cross
  for k = 1, #bt - 1 do
    local d1, d2 = a[k][1] - b[k][1], a[k + 1][1] - b[k + 1][1]
    if d1 * d2 <= 0 and d1 ~= d2 then cross = bt[k] + (bt[k + 1] - bt[k]) * d1 / (d1 - d2) end
  end
  print(string.format("U4 curves of L = %d and %d cross at T = %s (T_c = %.4f)", Ls[i], Ls[i + 1],
                      cross and string.format("%.3f", cross) or "none in range", exact.Tc))
  -- the larger lattice orders more below T_c and less above it: its curve
  -- is above at the lowest temperature and below at the highest (by 2
  -- errors), so the two cross inside the window [2.19, 2.35] around T_c
  local function diff(k) return b[k][1] - a[k][1], math.sqrt(a[k][2] ^ 2 + b[k][2] ^ 2) end
  local lo, elo = diff(1)
  local hi, ehi = diff(#bt)
  expect(lo > 2 * elo and hi < -2 * ehi,
         string.format("U4(L = %d) - U4(L = %d): %+.4f ± %.4f at T = %.2f, %+.4f ± %.4f at T = %.2f "
                       .. "(want > 0 below and < 0 above T_c)", Ls[i + 1], Ls[i], lo, elo, bt[1], hi, ehi, bt[#bt]))
end
do   -- the crossing of the largest pair lies near T_c
  local a, b = U[Ls[#Ls - 1]], U[Ls[#Ls]]
  for k = 1, #bt - 1 do
    local d1, d2 = a[k][1] - b[k][1], a[k + 1][1] - b[k + 1][1]
    if d1 * d2 <= 0 and d1 ~= d2 then
      local cross = bt[k] + (bt[k + 1] - bt[k]) * d1 / (d1 - d2)
      expect(math.abs(cross - exact.Tc) < 0.04, string.format("crossing %.3f within 0.04 of T_c", cross))
    end
  end
end

-- %% Figure: Binder cumulants
local fig_u = plot.figure { width = 640, height = 380 }
for _, Lb in ipairs(size.binder_L) do
  local us, es = {}, {}
  for k = 1, #bt do us[k], es[k] = U[Lb][k][1], U[Lb][k][2] end
  fig_u:errorbar(bt, us, es, { label = string.format("$L = %d$", Lb) })
end
fig_u:vline(exact.Tc, { label = "$T_c$" })
fig_u:set { xlabel = "$T$", ylabel = "$U_4 = 1 - \\langle m^4 \\rangle / 3 \\langle m^2 \\rangle^2$" }
plot.show(fig_u)

-- %% [markdown]
-- ## 4. Histogram reweighting around T_c
--
-- One Wolff run at T_c samples energies E_i; the average at a nearby β′ is
-- ⟨O⟩_β′ = Σ O_i e^{−(β′−β)E_i} / Σ e^{−(β′−β)E_i} (Ferrenberg & Swendsen
-- 1988).  The weights are block-averaged and jackknifed together, so the
-- errors cover the reweighting.  It works while the energy histograms at β
-- and β′ overlap: |β′ − β| of order 1/√(N c)/|e| — the effective sample size
-- printed shows how much is left.

-- %%
local Lr = size.rw_L
local lr = lattice.ising{ L = Lr }
local es = run(lr, exact.Kc, "wolff", size.rw_steps, size.replicas)
local E = (es * lr.N):t():contiguous():view(-1)     -- replicas one after the other
print(string.format("\nL = %d, one run at T_c (%d samples) reweighted:", Lr, E:size(1)))
print("   T      e (reweighted)        e (Kaufman)      c (reweighted)     c (Kaufman)   n_eff")
for _, Tm in ipairs({ 2.22, 2.25, exact.Tc, 2.29, 2.32 }) do
  local b1 = 1 / Tm
  local db = b1 - exact.Kc
  local E0 = E:mean()
  local w = (-(E - E0) * db):exp()
  local function moments(mw, mwe, mwe2)
    local e1, e2 = mwe / mw, mwe2 / mw
    return { e1 / lr.N, b1 ^ 2 * (e2 - e1 * e1) / lr.N }
  end
  local v, err = stats.jackknife(moments, { w, w * E, w * E:square() }, { bins = 40 })
  local ex = exact.kaufman(Lr, Lr, b1)
  local neff = w:sum() ^ 2 / (w * w):sum()
  sigma(v[1], err[1], ex.e, string.format("reweighted e at T = %.3f", Tm))
  sigma(v[2], err[2], ex.c, string.format("reweighted c at T = %.3f", Tm))
  print(string.format("%6.3f  %-19s  %12.6f   %-17s  %12.5f  %6.0f", Tm, stats.format(v[1], err[1]), ex.e,
                      stats.format(v[2], err[2]), ex.c, neff))
end

-- %% [markdown]
-- ## 5. A run's measurements, accumulated
--
-- `stats.measure()` collects observables during a run and prints each as
-- value ± error (τ_int):

-- %%
local m = stats.measure()
local s = lat:ordered()
for _ = 1, 200 do lat:metropolis(s, 0.5, { generator = gen }) end
for _ = 1, (quick and 2000 or 10000) do
  lat:metropolis(s, 0.5, { generator = gen })
  m:add("e", lat:energy(s) / lat.N)
  m:add("|m|", math.abs(lat:magnetization(s)) / lat.N)
end
print(string.format("\nMetropolis at T = 2, L = %d:", L))
print(m)
local me, mee = m:result("e")
sigma(me, mee, exact.kaufman(L, L, 0.5).e, "measure e at T = 2")
print(string.format("exact: e = %.6f (Kaufman, L = %d); Onsager's infinite lattice: e = %.6f, m = %.6f",
                    exact.kaufman(L, L, 0.5).e, L, exact.onsager_energy(0.5), exact.onsager_magnetization(0.5)))

-- %% [markdown]
-- ## What this shows, and what it does not
--
-- Shown: the Metropolis and Wolff samplers reproduce Kaufman's exact
-- finite-lattice energies and specific heats within their stated errors at
-- temperatures on both sides of T_c; the errors are those of
-- autocorrelated series (τ_int with an automatic window, jackknife for the
-- specific heat), and the checks above would fail if they were too small;
-- Wolff's τ_int stays near 1 at T_c where Metropolis's grows; the Binder
-- cumulants of L = 8, 16, 32 cross near T_c; reweighting one run at T_c
-- reproduces the exact e and c nearby.
--
-- Not shown: finite-size scaling fits (critical exponents from the
-- crossing's drift or the peak of c, which needs larger L and longer runs),
-- the dynamic exponent z, or any model without an exact solution.  The
-- quick version's errors are large; the full version (`make ising`) runs
-- longer on larger lattices.

-- %%
if checking then
  if #failures > 0 then
    print("CHECK FAILED:")
    for _, f in ipairs(failures) do print("  " .. f) end
    os.exit(1)
  end
  print("check: every number within its target")
end
