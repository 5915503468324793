-- %% [markdown]
-- # Madelung and Schrödinger from a two-timescale system
--
-- Katsnelson & Vanchurin (arXiv:2012.05082, after §5 of arXiv:2008.01540)
-- split a learning system into fast non-trainable neurons x and slow
-- trainable variables q.  Integrated out, the neurons leave their free
-- energy F(q), in which the slow variables learn: replicas moving by
-- q̇ = −γ∂F/∂q are a fluid of density ρ and velocity v = ∂S/∂q / m with
-- S = −mγF.  If S obeys the Hamilton–Jacobi equation with the quantum
-- potential Q = −(ħ²/2m) ∂²√ρ/√ρ, ψ = √ρ e^{iS/ħ} obeys Schrödinger's
-- equation; with neurons exchanged at chemical potential μ (the
-- grand-canonical case) F is multivalued, and that fixes ħ.  With m = γ = 1:
-- 1. fast neurons integrated out (`hebb.world`); 2. the emergent equations
-- on a split-step packet (`hebb.fields`, REFERENCE_VALUES F8, F9);
-- 3. replicas learning in a hidden free energy; 4. ħ read off on a ring.
--
-- usage: `hebb examples/madelung.lua [--small] [--check]`

-- %%
local T = require "hebb.tensor"
local fft = require "hebb.fft"
local fields = require "hebb.fields"
local numeric = require "hebb.numeric"
local ode = require "hebb.ode"
local world = require "hebb.world"
local plot = require "hebb.plot"
local nb = require("hebb.notebook").checks(arg)   -- --small, --check, verdicts
local small, verdict = nb.small, nb.verdict
local function derivatives(n, dx)   -- spectral d/dq and d²/dq² on a periodic grid
  local k = fft.fftfreq(n, dx) * (2 * math.pi)
  local ik, k2 = T.complex(T.zeros_like(k), k), T.complex(-(k * k), T.zeros(n))
  return function(f) return T.real(fft.ifft(fft.fft(f) * ik)) end,
         function(f) return T.real(fft.ifft(fft.fft(f) * k2)) end
end

-- %% [markdown]
-- ## 1. Integrating out fast neurons
-- Each replica: a slow q with energy U = q²/8 and four neurons of stiffness
-- 1/(1 + q²), H = |x|²/2(1 + q²) + U, in a bath at T = ½, the neurons much
-- faster (τ = 0.02 against γ = 1).  Their free energy F = U − 2T ln(1 + q²)
-- has two wells (q = ±√7) where U has one: the slow law should be
-- e^{−F/T} ∝ e^{−q²/4}(1 + q²)², ⟨q²⟩ by quadrature, not e^{−U/T} (⟨q²⟩ =
-- 2).  With one temperature for both the joint law is e^{−H/T}, so this
-- holds at any ratio of timescales; the ratio matters for the dynamics
-- (section 3).  Errors: the spread over 20 groups of replicas.

-- %%
local R1 = small and 1000 or 10000
local w1 = world {
  neurons = T.zeros(R1, 4), couplings = { q = T.zeros(R1) },
  energy = function(x, c) return (x * x):sum(2) * 0.5 / (c.q * c.q + 1) + c.q * c.q / 8 end,
  force = function(x, c) return -x / (c.q * c.q + 1):unsqueeze(2) end,
  bath = { T = 0.5 }, dynamics = { dt = 0.01, tau = 0.02, substeps = 10 },
  learn = { rate = 1, T = 0.5 }, seed = 3,
}
w1:step(1000)                                            -- 10 time units from q = 0
local snaps = {}
for k = 1, small and 10 or 20 do snaps[k] = w1:step(50).c.q:clone() end
local qs = T.stack(snaps)
local g = (qs * qs):reshape(#snaps, 20, R1 // 20):mean(3):mean(1)
local q2, dq2 = g:mean():item(), g:std():item() / math.sqrt(20)
local function law(q) return math.exp(-q * q / 4) * (1 + q * q) ^ 2 end
local Z = numeric.quad(law, -math.huge, math.huge)
local q2F = numeric.quad(function(q) return q * q * law(q) end, -math.huge, math.huge) / Z
print(string.format("<q^2> = %.4f ± %.4f;  e^{-F/T}: %.4f;  e^{-U/T}: 2", q2, dq2, q2F))
verdict(math.abs(q2 - q2F) < 4 * dq2 + 0.01 * q2F,
        "the slow law is e^{-F/T} (4 errors + 1% for the steps)")

-- %% Figure: the fast neurons integrated out
local fig1 = plot.figure { width = 620, height = 360 }
local qq = T.linspace(-7, 7, 281)
fig1:hist(qs:reshape(-1), { bins = 56, range = { -7, 7 }, density = true, label = "slow replicas" })
fig1:line(qq, (-(qq * qq) / 4):exp() * ((qq * qq + 1) ^ 2) / Z, { label = "$e^{-F/T}$" })
fig1:line(qq, (-(qq * qq) / 4):exp() / math.sqrt(4 * math.pi),
          { label = "$e^{-U/T}$", dash = "dashed" })
fig1:set { xlabel = "slow variable $q$", ylabel = "density", title = "fast neurons integrated out" }
plot.show(fig1)

-- %% [markdown]
-- ## 2. The emergent equations on a Schrödinger packet (F8, F9)
-- A free packet at rest, |ψ|² of width 1, by split-step Fourier (512
-- points, dx = 1/16, dt = 0.01).  Its Madelung variables should obey
-- ∂ρ/∂t + ∂(ρv)/∂q = 0 and ∂S/∂t + mv²/2 + Q = 0: residuals where
-- ρ > 10⁻⁴ max ρ, relative to the largest term, ∂/∂t by central differences.

-- %%
local n, dx, dt = 512, 1 / 16, 0.01
local x = fields.grid(n, dx)
local D = derivatives(n, dx)
local psi = T.complex((x * x / -4):exp() / (2 * math.pi) ^ 0.25, T.zeros(n))
local S = fields.schrodinger { shape = { n }, dx = dx, dt = dt }
local mad, i0 = fields.madelung(psi, { dx = dx }), n // 2 + 1
print(string.format("F9: Q(0) = %.10f, Q(1) = %.10f", mad.Q[i0], mad.Q[i0 + 16]))
verdict(math.abs(mad.Q[i0] - 0.25) < 1e-6 and math.abs(mad.Q[i0 + 16] - 0.125) < 1e-6, "F9")
local snap, worst, steps = { [0] = psi:abs() ^ 2 }, { 0, 0 }, 0
for t = 1, 2 do                                          -- psi at t - dt, t, t + dt
  S:step(psi, 100 * t - 1 - steps); steps = 100 * t + 1
  local before = psi:clone(); S:step(psi, 1)
  local now = psi:clone(); S:step(psi, 1)
  local m = fields.madelung(now, { dx = dx })
  local inside = m.rho:gt(1e-4 * m.rho:max())
  local function big(r) return (r * inside):abs():max():item() end
  local S_t = (psi * before:conj()):angle() / (2 * dt)
  local rho_t = (psi:abs() ^ 2 - before:abs() ^ 2) / (2 * dt)
  worst[1] = math.max(worst[1], big(rho_t + D(m.rho * m.v)) / big(rho_t))
  worst[2] = math.max(worst[2], big(S_t + m.v * m.v * 0.5 + m.Q) / big(m.Q))
  snap[t], mad = now:abs() ^ 2, m
end
local sig2 = math.sqrt((snap[2] * x * x):sum():item() / snap[2]:sum():item())
print(string.format("residuals: continuity %.1e, Hamilton-Jacobi %.1e;  F8: sigma(2) = %.10f",
                    worst[1], worst[2], sig2))
verdict(math.abs(sig2 / math.sqrt(2) - 1) < 1e-6, "F8: split-step width sqrt 2 at t = 2")
verdict(worst[1] < 1e-4 and worst[2] < 1e-4, "continuity and Hamilton-Jacobi hold to 1e-4")

-- %% [markdown]
-- ## 3. Replicas learning in a hidden free energy
-- 4000 replicas of q start as |ψ(0)|², at rest, each with one fast neuron
-- H = x²/2 − c q x whose free energy (T = 0: its relaxed energy) is
-- F = −c²q²/2, i.e. S = αq²/2, α = c².  The model assumption — derived in
-- the papers from stationary entropy production, imposed here — is that
-- the hidden coupling follows Hamilton–Jacobi with the Q of the replicas'
-- density, a Gaussian of their measured variance σ² (exact for this
-- packet, a closure otherwise): α̇ = −α² + ħ²/4σ⁴.  Compared: the world
-- with the neuron (τ = 0.02, 0.01; dt = 0.01, 10 substeps), the neuron
-- integrated out (learning on F), that system by `ode.solve`, and no Q.
-- Between learning steps the neuron relaxes toward c q; it lags by
-- r/(1 − r) of a step's move, r = (1 − h/τ)¹⁰, and the replicas' deficit
-- against the integrated-out system should scale so.

-- %%
local R2, dt2 = 4000, 0.01
local q0 = T.Generator(11):randn(R2)
q0 = (q0 - q0:mean()) / q0:std()                         -- |psi(0)|^2's first two moments exactly
local function replicas(tau, quantum)
  local alpha = 0
  local spec = { couplings = { q = q0 }, learn = { rate = 1 },
    dynamics = { dt = dt2, tau = tau or 1, substeps = 10, method = "euler" },
    boundary = function(w)                               -- the hidden coupling's H-J step
      alpha = alpha + dt2 * (-alpha * alpha + (quantum and 0.25 / w.c.q:var():item() ^ 2 or 0))
    end,
    observe = { sigma = function(w) return w.c.q:std() end } }
  if tau then
    spec.neurons = T.zeros(R2, 1)
    spec.energy = function(y, c)
      y = y:select(2, 1)
      return y * y * 0.5 - c.q * y * math.sqrt(alpha)
    end
  else
    spec.learn.loss = function(_, c) return c.q * c.q * (-alpha / 2) end
  end
  local w = world(spec)
  return w:run({ steps = 200, every = 200 }).sigma[2], w
end
local s = {}
s.fast, wf = replicas(0.01, true)
s.slow, s.free, s.dust = replicas(0.02, true), replicas(nil, true), replicas(nil, false)
s.ode = ode.solve(function(_, y)
  local q, al = y:narrow(1, 1, R2), y[R2 + 1]
  return T.cat { q * al, T.tensor { -al * al + 0.25 / q:var():item() ^ 2 } }
end, T.cat { q0, T.zeros(1) }, { 0, 2 }, { rtol = 1e-10, atol = 1e-12 })
s.ode = s.ode.y_final:narrow(1, 1, R2):std():item()
for _, k in ipairs { "slow", "fast", "free", "ode", "dust" } do
  print(string.format("  sigma(2), %-4s %.8f   %+.2e", k, s[k], s[k] - math.sqrt(2)))
end
local q = wf.c.q                                          -- the neuron's relaxed energy is F(q_r)
local alpha_F = -2 * (wf:energy() * q * q):sum():item() / (q ^ 4):sum():item()
local alpha_S = (mad.v[i0 + 1] - mad.v[i0 - 1]) / (2 * dx)
local function lag(k) local r = (1 - 0.1 / k) ^ 10 return r / (1 - r) end   -- tau = 0.01 k
local ratio = (s.free - s.slow) / (s.free - s.fast)
print(string.format("phase curvature at t = 2 (exact 1/4): neuron's F %.6f, split-step %.6f",
                    alpha_F, alpha_S))
print(string.format("deficit, tau = 0.02 over 0.01: %.4f;  lag ratio %.4f", ratio, lag(2) / lag(1)))
verdict(math.abs(s.ode - math.sqrt(2)) < 1e-7, "integrated out (ode): width sqrt 2 (F8)")
verdict(math.abs(s.fast - math.sqrt(2)) < 3e-3, "replicas with a fast neuron: sqrt 2 within 3e-3")
verdict(math.abs(ratio / (lag(2) / lag(1)) - 1) < 0.03, "the deficit is the neuron's lag")
verdict(math.abs(s.dust - 1) < 1e-12, "without Q the packet does not spread")
verdict(math.abs(alpha_F - 0.25) < 5e-3 and math.abs(alpha_S - 0.25) < 1e-4, "phase curvature 1/4")

-- %% Figure: the packet from the replicas
local fig2 = plot.figure { width = 620, height = 380 }
fig2:hist(q, { bins = 32, range = { -5, 5 }, density = true, label = "replicas, t = 2" })
fig2:line(x, snap[2], { label = "split-step $|\\psi|^2$, t = 2" })
fig2:line(x, snap[1], { label = "split-step $|\\psi|^2$, t = 1", dash = "dotted" })
fig2:line(x, snap[0], { label = "t = 0, and replicas without $Q$ at t = 2", dash = "dashed" })
fig2:set { xlabel = "slow variable $q$", ylabel = "density", xlim = { -5, 5 }, ylim = { 0, 0.56 },
           title = "replicas learning in a hidden free energy spread like a Schrödinger packet" }
plot.show(fig2)

-- %% [markdown]
-- ## 4. The grand-canonical case: ħ read off
-- Let q live on a ring of length L and the neurons be exchanged with a
-- reservoir at chemical potential μ.  The paper's step: after a loop of q
-- the hidden subsystem may hold ν more neurons, so F(q + L) = F(q) − νμ
-- and the replicas' circulation is ∮ m v dq = mγνμ.  Madelung's equations
-- hold for any circulation; a single-valued ψ exists only if it is 2πħ
-- times an integer (Wallstrom's condition), so fluid and Schrödinger
-- agree for every ν only at ħ = mγμ/2πj, the largest being ħ* = mγμ/2π
-- (the factor follows from S = −mγF).  Measured: ρ₀ ∝ 1 + 0.6 cos q (L = 2π, 48 points),
-- v₀ = γνμ/L + 0.3 sin q, μ = 5, evolved to t = 1 as a fluid (ρ, v) by
-- `ode.solve` (RK4, dt = 0.005) with a trial ħ in Q, and by Schrödinger
-- with that ħ from ψ₀ = √ρ₀ e^{iS₀/ħ}: the mismatch max|ρ − |ψ|²|·L.  ħ
-- is read off as the largest ħ where it vanishes (the scan's last dip,
-- then `numeric.minimize`).

-- %%
local nr, L, mu = 48, 2 * math.pi, 5
local qr = fields.grid(nr, L / nr)
local Dr, D2r = derivatives(nr, L / nr)
local rho0 = (qr:cos() * 0.6 + 1) / L
local function mismatch(hbar, nu)
  local G = nu * mu                                      -- the circulation m gamma nu mu
  local fluid = ode.solve(function(_, y)
    local rho, v, amp = y[1], y[2], y[1]:sqrt()
    return T.stack { -Dr(rho * v), -Dr(v * v * 0.5 - D2r(amp) / amp * (hbar * hbar / 2)) }
  end, T.stack { rho0, qr:sin() * 0.3 + G / L }, { 0, 1 }, { method = "rk4", dt = 0.005 })
  local psi = fields.from_madelung(rho0, qr * (G / L) - qr:cos() * 0.3, { hbar = hbar })
  fields.schrodinger { shape = { nr }, dx = L / nr, dt = 1, hbar = hbar }:step(psi)   -- V = 0
  return (fluid.y_final[1] - psi:abs() ^ 2):abs():max():item() * L
end
local hstar, step = mu / (2 * math.pi), small and 0.1 or 0.02
local hs, mis, lo = {}, { {}, {} }, nil
for i = 0, math.floor(1.2 / step + 0.5) do
  hs[i + 1] = 0.4 + i * step
  for nu = 1, 2 do mis[nu][i + 1] = mismatch(hs[i + 1] * hstar, nu) end
end
for i = 2, #hs - 1 do                                    -- the last dip: a local minimum below 0.2
  if mis[1][i] < math.min(mis[1][i - 1], mis[1][i + 1], 0.2) then lo = i end
end
local hread = numeric.minimize(function(h) return mismatch(h, 1) end, hs[lo - 1] * hstar,
                               hs[lo + 1] * hstar, { tol = 1e-9 })
print(string.format("hbar read off %.8f, m gamma mu / 2 pi %.8f; mismatch %.1e (nu = 1), %.1e (2)",
                    hread, hstar, mismatch(hread, 1), mismatch(hread, 2)))
verdict(math.abs(hread / hstar - 1) < 1e-5, "hbar = m gamma mu / 2 pi read off to 1e-5")
verdict(mismatch(hread, 2) < 1e-6 and mismatch(0.95 * hread, 1) > 0.1,
        "fluid = Schrodinger there, not 5% off")

-- %% Figure: where the fluid is a wave function
local fig3 = plot.figure { width = 620, height = 380 }
fig3:line(hs, mis[1], { label = "one neuron per loop ($\\nu = 1$)", marker = "o" })
fig3:line(hs, mis[2], { label = "two neurons per loop ($\\nu = 2$)", marker = "s",
                        dash = "dashed" })
fig3:set { yscale = "log", xlabel = "trial $\\hbar$ / ($m\\gamma\\mu / 2\\pi$)",
           ylabel = "max $|\\rho_{fluid} - |\\psi|^2| L$ at t = 1",
           title = "Madelung fluid against Schrödinger on a ring" }
plot.show(fig3)

-- %% [markdown]
-- ## What is shown, and what is not
-- Shown: fast neurons, integrated out, leave a free energy whose entropy
-- moves the slow law from e^{−U/T} to e^{−F/T}.  The split-step packet
-- meets F8 and F9, and its Madelung variables obey continuity and
-- Hamilton–Jacobi with Q to the printed residuals (set by the time
-- differences).  Replicas learning in the free energy of a fast neuron
-- whose coupling follows that equation spread as the packet does: to
-- 10⁻¹¹ with the neuron integrated out and solved accurately, within the
-- printed O(dt) of the Euler steps, and behind by the neuron's relaxation
-- lag, as predicted; without Q they do not spread.  On a ring, a fluid
-- whose circulation comes from neurons exchanged at chemical potential μ is
-- a wave function only for ħ = mγμ/2πj; ħ* = mγμ/2π is read off.
-- Not shown: the derivation.  That the hidden free energy obeys
-- Hamilton–Jacobi *with the quantum potential* (the papers'
-- stationary-entropy-production step) is imposed, not found in a simulated
-- network; Q comes from the replicas' width (exact for a Gaussian, not a
-- density estimate); and the multivaluedness of F (ν neurons per loop) is
-- put in, not seen in a simulated grand-canonical exchange; nor is the
-- paper's own factor between ħ and μ checked (ours follows from S = −mγF).
-- What is measured is what follows once those are granted.

-- %%
nb.finish()
