-- %% [markdown]
-- # Madelung and Schrödinger from a two-timescale system
--
-- Katsnelson & Vanchurin ("Emergent quantumness in neural networks",
-- arXiv:2012.05082, after §5 of arXiv:2008.01540) split a learning system
-- into fast non-trainable variables x (neurons) and slow trainable ones q.
-- Integrated out, the neurons leave their free energy F(q) as the landscape
-- the slow variables learn in.  An ensemble of slow replicas learning by
-- q̇ = −γ∂F/∂q is a fluid of density ρ(q, t) and velocity v = −γ∂F/∂q: with
-- S = −mγF it is Madelung's fluid, v = ∂S/∂q / m, and if S obeys the
-- Hamilton–Jacobi equation with the quantum potential
-- Q = −(ħ²/2m) ∂²√ρ/√ρ, then ψ = √ρ e^{iS/ħ} obeys Schrödinger's equation.
-- In the grand-canonical ensemble the neurons are exchanged with a reservoir
-- at chemical potential μ, F becomes multivalued, and that fixes ħ.
-- Measured here, with m = γ = 1:
--
-- 1. **Integrating out fast neurons** (`hebb.world`): the slow variable's
--    stationary law is e^{−F/T}, not e^{−U/T} of its own energy U.
-- 2. **The emergent equations** on a split-step Schrödinger packet
--    (`hebb.fields`, REFERENCE_VALUES F8, F9): continuity and
--    Hamilton–Jacobi residuals.
-- 3. **Replicas learning in a hidden free energy** reproduce the packet.
-- 4. **The grand-canonical case**: ħ read off from the fluid and
--    Schrödinger evolutions on a ring.
--
-- usage: `hebb examples/madelung.lua [--small] [--check]`

-- %%
local T = require "hebb.tensor"
local fft = require "hebb.fft"
local fields = require "hebb.fields"
local ode = require "hebb.ode"
local world = require "hebb.world"
local plot = require "hebb.plot"
local small, checking, failures = false, false, 0
for _, a in ipairs(arg or {}) do
  if a == "--small" then small = true elseif a == "--check" then checking = true end
end
local function verdict(ok, what)
  print(string.format("  %-62s %s", what, ok and "ok" or "FAILED"))
  if not ok then failures = failures + 1 end
end
local gen = T.Generator(11)
local function derivatives(n, dx)   -- spectral d/dq and d²/dq² on a periodic grid
  local k = fft.fftfreq(n, dx) * (2 * math.pi)
  local ik, k2 = T.complex(T.zeros_like(k), k), T.complex(-(k * k), T.zeros(n))
  return function(f) return T.real(fft.ifft(fft.fft(f) * ik)) end,
         function(f) return T.real(fft.ifft(fft.fft(f) * k2)) end
end

-- %% [markdown]
-- ## 1. Integrating out the fast neurons
-- Each replica has a slow coupling q with its own energy U = aq²/2 (a = ¼)
-- and four fast neurons of stiffness 1/(1 + q²): H = |x|²/2(1 + q²) + U(q),
-- all in a bath at T = ½, the neurons 50 times faster (τ = 0.02, γ = 1).
-- The neurons' free energy is F(q) = U − 2T ln(1 + q²): the entropy of
-- soft neurons turns U's single well into two, at q = ±√7.  The slow law
-- should be e^{−F/T} ∝ e^{−q²/4}(1 + q²)², with ⟨q²⟩ = 8.5882 (quadrature),
-- not e^{−U/T} with ⟨q²⟩ = T/a = 2.  Errors: spread over 20 groups of replicas.

-- %%
local R1, a, Tb = small and 1000 or 10000, 0.25, 0.5
local w1 = world {
  neurons = T.zeros(R1, 4), couplings = { q = T.zeros(R1) },
  energy = function(x, c) return (x * x):sum(2) * 0.5 / (c.q * c.q + 1) + c.q * c.q * (a / 2) end,
  force = function(x, c) return -x / (c.q * c.q + 1):unsqueeze(2) end,
  bath = { T = Tb }, dynamics = { dt = 0.01, tau = 0.02, substeps = 10 },
  learn = { rate = 1, T = Tb }, seed = 3,
}
w1:step(small and 500 or 1000)                           -- 5 (10) time units from q = 0
local snaps = {}
for k = 1, small and 10 or 20 do snaps[k] = w1:step(50).c.q:clone() end
local qs = T.stack(snaps)
local g = (qs * qs):reshape(#snaps, 20, R1 // 20):mean(3):mean(1)
local q2, dq2 = g:mean():item(), g:std():item() / math.sqrt(20)
local num, den = 0, 0
for i = -4000, 4000 do
  local q = i / 200
  local p = math.exp(-q * q / 4) * (1 + q * q) ^ 2
  num, den = num + q * q * p, den + p
end
print(string.format("<q^2> = %.4f ± %.4f;  e^{-F/T}: %.4f;  e^{-U/T}: %.4f", q2, dq2, num / den, Tb / a))
verdict(math.abs(q2 - num / den) < 4 * dq2 + 0.01 * num / den,
        "the slow law is e^{-F/T} (within 4 errors + 1% for the steps)")

-- %% Figure: the fast neurons integrated out
local fig1 = plot.figure { width = 620, height = 360 }
local qq = T.linspace(-7, 7, 281)
fig1:hist(qs:reshape(-1), { bins = 56, range = { -7, 7 }, density = true, label = "slow replicas" })
fig1:line(qq, (-(qq * qq) / 4):exp() * ((qq * qq + 1) ^ 2) / (den / 200), { label = "$e^{-F/T}$" })
fig1:line(qq, (-(qq * qq) / 4):exp() / math.sqrt(4 * math.pi), { label = "$e^{-U/T}$", dash = "dashed" })
fig1:set { xlabel = "slow variable $q$", ylabel = "density", title = "fast neurons integrated out" }
plot.show(fig1)

-- %% [markdown]
-- ## 2. The emergent equations on a Schrödinger packet (F8, F9)
-- A free Gaussian packet, ħ = m = 1, |ψ|² of width σ₀ = 1 at rest, by
-- split-step Fourier (512 points, dx = 1/16, dt = 0.01).  Its Madelung
-- variables (`fields.madelung`) should satisfy ∂ρ/∂t + ∂(ρv)/∂q = 0 and
-- ∂S/∂t + mv²/2 + Q = 0; time derivatives by central differences (O(dt²)),
-- residuals where ρ > 10⁻⁴ max ρ, relative to the largest term.

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
  local function rel(r, scale) return (r * inside):abs():max():item() / (scale * inside):abs():max():item() end
  local rho_t = (psi:abs() ^ 2 - before:abs() ^ 2) / (2 * dt)
  local S_t = (psi * before:conj()):angle() / (2 * dt)
  worst[1] = math.max(worst[1], rel(rho_t + D(m.rho * m.v), rho_t))
  worst[2] = math.max(worst[2], rel(S_t + m.v * m.v * 0.5 + m.Q, m.Q))
  snap[t], mad = now:abs() ^ 2, m
end
local function width(rho) return math.sqrt((rho * x * x):sum():item() / rho:sum():item()) end
local sig2 = width(snap[2])
print(string.format("continuity residual %.1e, Hamilton-Jacobi residual %.1e (t = 1, 2)", worst[1], worst[2]))
print(string.format("F8: sigma(2) = %.10f (exact sqrt 2 = %.10f)", sig2, math.sqrt(2)))
verdict(math.abs(sig2 / math.sqrt(2) - 1) < 1e-6, "F8: split-step width at t = 2")
verdict(worst[1] < 1e-4 and worst[2] < 1e-4, "continuity and Hamilton-Jacobi hold to 1e-4")

-- %% [markdown]
-- ## 3. Replicas learning in a hidden free energy
-- 2000 replicas of a slow q start as the packet's |ψ|², at rest.  Each
-- has one fast neuron, H = x²/2 − c q x, whose free energy (T = 0: its
-- relaxed energy) is F = −c²q²/2, so S = −F = αq²/2 with α = c².  The
-- model assumption — derived in the papers from stationary entropy
-- production, imposed here — is that the hidden coupling follows the
-- Hamilton–Jacobi equation with the quantum potential of the replicas'
-- density, measured as a Gaussian of their variance σ² (exact for this
-- packet, a closure otherwise): α̇ = −α² + ħ²/4σ⁴.  Compared: the world
-- with the neuron (τ = 0.02, 0.01; dt = 0.01), the neuron integrated out
-- (learning on F itself, same steps), that system by `ode.solve`
-- (Dormand–Prince), and without Q (α̇ = −α²: classical dust).  Between
-- learning steps the neuron relaxes for dt toward c q, so it lags by the
-- fraction r/(1 − r) of a step's move, r = (1 − h/τ)^substeps: the
-- deficit against the integrated-out system should scale as that lag.

-- %%
local R2, dt2 = 2000, 0.01
local q0 = gen:randn(R2)
q0 = (q0 - q0:mean()) / q0:std()                         -- |psi(0)|^2's first two moments exactly
local function replicas(tau, quantum)
  local alpha = 0
  local spec = { couplings = { q = q0 }, learn = { rate = 1 },
    dynamics = { dt = dt2, tau = tau or 1, substeps = 10, method = "euler" },
    boundary = function(w)                               -- the hidden coupling's Hamilton-Jacobi step
      local s2 = w.c.q:var():item()
      alpha = alpha + dt2 * (-alpha * alpha + (quantum and 0.25 / (s2 * s2) or 0))
    end,
    observe = { sigma = function(w) return w.c.q:std() end } }
  if tau then
    spec.neurons = T.zeros(R2, 1)
    spec.energy = function(y, c) y = y:select(2, 1) return y * y * 0.5 - c.q * y * math.sqrt(alpha) end
  else
    spec.learn.loss = function(_, c) return c.q * c.q * (-alpha / 2) end
  end
  local w = world(spec)
  return w:run { steps = 200, every = 10 }, w, function() return alpha end
end
local fast, wf, alpha_of = replicas(0.01, true)
local slower = replicas(0.02, true)
local free = replicas(nil, true)
local dust = replicas(nil, false)
local exact = ode.solve(function(_, y)
  local q, al = y:narrow(1, 1, R2), y[R2 + 1]
  return T.cat { q * al, T.tensor { -al * al + 0.25 / q:var():item() ^ 2 } }
end, T.cat { q0, T.zeros(1) }, { 0, 2 }, { rtol = 1e-10, atol = 1e-12 }).y_final:narrow(1, 1, R2):std():item()
local last = fast.t:size(1)
print("               sigma(2)       - sqrt 2")
for _, r in ipairs { { "neuron, tau = 0.02", slower.sigma[last] }, { "neuron, tau = 0.01", fast.sigma[last] },
                     { "integrated out", free.sigma[last] }, { "integrated out, ode", exact },
                     { "no quantum potential", dust.sigma[last] } } do
  print(string.format("  %-22s %.8f   %+.2e", r[1], r[2], r[2] - math.sqrt(2)))
end
local Fh = wf:energy()                                   -- the neurons' relaxed energy: F(q_r)
local q = wf.c.q
local alpha_F = -2 * (Fh * q * q):sum():item() / (q ^ 4):sum():item()
local alpha_S = (mad.v[i0 + 1] - mad.v[i0 - 1]) / (2 * dx)
print(string.format("phase curvature at t = 2: hidden free energy %.6f, neuron %.6f, split-step %.6f (exact 1/4)",
                    alpha_of(), alpha_F, alpha_S))
verdict(math.abs(exact - math.sqrt(2)) < 1e-7, "integrated out (ode): the packet's width sqrt 2 (F8)")
verdict(math.abs(fast.sigma[last] - math.sqrt(2)) < 3e-3, "replicas with a fast neuron: sqrt 2 within 3e-3")
local function lag(tau) local r = (1 - dt2 / 10 / tau) ^ 10 return r / (1 - r) end
local ratio = (free.sigma[last] - slower.sigma[last]) / (free.sigma[last] - fast.sigma[last])
print(string.format("deficit behind the integrated-out system, tau = 0.02 over 0.01: %.4f (lag ratio %.4f)",
                    ratio, lag(0.02) / lag(0.01)))
verdict(math.abs(ratio / (lag(0.02) / lag(0.01)) - 1) < 0.03, "the fast neuron's deficit is its relaxation lag")
verdict(math.abs(dust.sigma[last] - 1) < 1e-12, "without Q the packet does not spread")
verdict(math.abs(alpha_F - 0.25) < 5e-3 and math.abs(alpha_S - 0.25) < 1e-4, "phase curvature 1/4")

-- %% Figure: the packet from the replicas
local fig2 = plot.figure { width = 620, height = 380 }
fig2:hist(wf.c.q, { bins = 40, range = { -5, 5 }, density = true, label = "replicas, t = 2" })
fig2:line(x, snap[2], { label = "split-step $|\\psi|^2$, t = 2" })
fig2:line(x, snap[1], { label = "split-step $|\\psi|^2$, t = 1", dash = "dotted" })
fig2:line(x, snap[0], { label = "t = 0, and replicas without $Q$ at t = 2", dash = "dashed" })
fig2:set { xlabel = "slow variable $q$", ylabel = "density", xlim = { -5, 5 },
           title = "replicas learning in a hidden free energy spread like a Schrödinger packet" }
plot.show(fig2)

-- %% [markdown]
-- ## 4. The grand-canonical case: ħ read off
-- Let the neurons be exchanged with a reservoir at chemical potential μ and
-- the slow variable live on a ring of length L (a periodic coupling, such
-- as a phase).  The paper's step: after one loop of q the hidden subsystem
-- may hold ν more neurons, so its free energy changed by −νμ — F is
-- multivalued, F(q + L) = F(q) − νμ — and the replicas' circulation is
-- ∮ m v dq = −mγ∮dF = mγνμ.  Madelung's equations hold for any
-- circulation; a single-valued ψ = √ρ e^{iS/ħ} exists only if it is 2πħ
-- times an integer (Wallstrom's condition).  So the fluid and Schrödinger's
-- equation agree, for ν = 1 and 2 alike, only at ħ = mγμ/2πj: the largest
-- is ħ* = mγμ/2π.  Measured: ρ₀ ∝ 1 + 0.6 cos q on a ring (L = 2π, 48
-- points), v₀ = γνμ/L + 0.3 sin q, μ = 5, evolved to t = 1 as a fluid
-- (ρ, v) by `ode.solve` (RK4, dt = 0.005, spectral derivatives) with a
-- trial ħ in Q, and by split-step Schrödinger with that ħ from
-- ψ₀ = √ρ₀ e^{iS₀/ħ}; the mismatch max|ρ_fluid − |ψ|²|·L against ħ.  ħ is
-- read off as the largest ħ where the mismatch vanishes (the scan's last
-- dip, then golden section).

-- %%
local nr, L, mu = 48, 2 * math.pi, 5
local dq = L / nr
local qr = fields.grid(nr, dq)
local Dr, D2r = derivatives(nr, dq)
local rho0 = (qr:cos() * 0.6 + 1) / L
local function mismatch(hbar, nu)
  local G = nu * mu                                      -- the circulation m gamma nu mu
  local fluid = ode.solve(function(_, y)
    local rho, v = y[1], y[2]
    local amp = rho:sqrt()
    return T.stack { -Dr(rho * v), -Dr(v * v * 0.5 - D2r(amp) / amp * (hbar * hbar / 2)) }
  end, T.stack { rho0, qr:sin() * 0.3 + G / L }, { 0, 1 }, { method = "rk4", dt = 0.005 }).y_final[1]
  local psi = fields.from_madelung(rho0, qr * (G / L) - qr:cos() * 0.3, { hbar = hbar })
  fields.schrodinger { shape = { nr }, dx = dq, dt = 1, hbar = hbar }:step(psi)   -- V = 0: one exact step
  return (fluid - psi:abs() ^ 2):abs():max():item() * L
end
local hstar, step = mu / (2 * math.pi), small and 0.1 or 0.02
local hs, mis = {}, { {}, {} }
for i = 0, math.floor(1.2 / step + 0.5) do
  hs[#hs + 1] = (0.4 + i * step) * hstar
  for nu = 1, 2 do mis[nu][#hs] = mismatch(hs[#hs], nu) end
end
local lo                                                 -- the last dip: a local minimum below 0.2
for i = 2, #hs - 1 do
  if mis[1][i] < math.min(mis[1][i - 1], mis[1][i + 1], 0.2) then lo = i end
end
local a1, b1, phi = hs[lo - 1], hs[lo + 1], (math.sqrt(5) - 1) / 2
local c1, d1 = b1 - phi * (b1 - a1), a1 + phi * (b1 - a1)
local fc, fd = mismatch(c1, 1), mismatch(d1, 1)
for _ = 1, 24 do                                         -- golden section: one evaluation a step
  if fc < fd then b1, d1, fd = d1, c1, fc; c1 = b1 - phi * (b1 - a1); fc = mismatch(c1, 1)
  else a1, c1, fc = c1, d1, fd; d1 = a1 + phi * (b1 - a1); fd = mismatch(d1, 1) end
end
local hread = (a1 + b1) / 2
print(string.format("hbar read off: %.8f;  m gamma mu / 2 pi = %.8f;  mismatch there: nu = 1 %.1e, nu = 2 %.1e",
                    hread, hstar, mismatch(hread, 1), mismatch(hread, 2)))
print(string.format("mismatch at 0.9 hbar*: %.3f, at 1.1 hbar*: %.3f", mismatch(0.9 * hstar, 1), mismatch(1.1 * hstar, 1)))
verdict(math.abs(hread / hstar - 1) < 1e-5, "hbar = m gamma mu / 2 pi read off to 1e-5")
verdict(mismatch(hread, 2) < 1e-6 and mismatch(0.9 * hstar, 1) > 0.1, "fluid = Schrodinger there only")

-- %% Figure: where the fluid is a wave function
local fig3 = plot.figure { width = 620, height = 380 }
local ratio_h = {}
for i, h in ipairs(hs) do ratio_h[i] = h / hstar end
fig3:line(ratio_h, mis[1], { label = "one neuron per loop ($\\nu = 1$)", marker = "o" })
fig3:line(ratio_h, mis[2], { label = "two neurons per loop ($\\nu = 2$)", marker = "s", dash = "dashed" })
fig3:set { yscale = "log", xlabel = "trial $\\hbar$ / ($m\\gamma\\mu / 2\\pi$)",
           ylabel = "max $|\\rho_{fluid} - |\\psi|^2| L$ at t = 1",
           title = "Madelung fluid against Schrödinger on a ring" }
plot.show(fig3)

-- %% [markdown]
-- ## What is shown, and what is not
-- Shown: fast neurons in a bath, integrated out, leave a free energy whose
-- entropic part moves the slow variable's law from e^{−U/T} to e^{−F/T}
-- (measured ⟨q²⟩ against quadrature).  The split-step packet meets F8 and
-- F9 to 10⁻⁶, and its Madelung variables obey continuity and the
-- Hamilton–Jacobi equation with Q to the printed residuals (set by the
-- time differences).  Replicas learning by gradient descent in the free
-- energy of a fast neuron, whose coupling follows that Hamilton–Jacobi
-- equation, spread exactly as the packet does: to 10⁻¹¹ when the neuron is
-- integrated out and solved accurately, within the printed O(dt) error of
-- the Euler steps, and behind it by the neuron's relaxation lag, measured
-- as predicted.  Without Q they do not spread at all.  On a ring, a fluid
-- whose circulation is set by neurons exchanged at chemical potential μ is
-- a Schrödinger wave function only for ħ = mγμ/2πj, and ħ* = mγμ/2π is read
-- off to the printed precision.
-- Not shown: the derivation.  That the hidden free energy obeys the
-- Hamilton–Jacobi equation *with the quantum potential* — the papers'
-- stationary-entropy-production step — is imposed here, not found in any
-- simulated network; the quantum potential is taken from the replicas'
-- width (exact for a Gaussian, not a density estimate); and the
-- multivaluedness of F (ν neurons gained per loop) is put in, not observed
-- in a simulated grand-canonical exchange.  What is measured is what
-- follows once those are granted.

-- %%
if failures > 0 then print(string.format("%d check(s) FAILED", failures)) end
if checking and failures > 0 then os.exit(1) end
