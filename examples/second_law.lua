-- %% [markdown]
-- # The second law of learning
--
-- Vanchurin ("Towards a theory of machine learning", arXiv:2004.09280)
-- treats a network's neurons as a canonical ensemble at temperature T and
-- its trainable variables as a system that learns by exchanging heat with a
-- bath.  Three of the paper's statements, measured on ensembles of replicas
-- with `hebb.world`:
--
-- 1. **The canonical ensemble of a linear network** (REFERENCE_VALUES L4):
--    neurons x with H = ½|(I − W)x − b|² at temperature T have ⟨H⟩ = NT/2,
--    Var H = NT²/2 and ln Z = (N/2) ln 2πT − ln|det(I − W)| — a function of T
--    times a function of the couplings (the paper's factorization).
-- 2. **Entropy during learning**: replicas of the trainable variables
--    learning with a bath concentrate — their entropy S *decreases* — while
--    the heat they release raises the bath's entropy by −Δ⟨L⟩/T, and the
--    total never decreases.
-- 3. **Learning efficiency is the Laplacian**: without noise, the flow
--    q̇ = −γ∇L destroys entropy at the rate dS/dt = −γ⟨∇²L⟩ (Liouville), so
--    the Laplacian of the loss (the free energy at T = 0) measures how fast
--    learning compresses the ensemble.  Laplacians come from Hessian–vector
--    products (`w:hessian`, `w:laplacian`).
--
-- usage: `hebb examples/second_law.lua [--small] [--check]`

-- %%
local T = require "hebb.tensor"
local linalg = require "hebb.linalg"
local metrics = require "hebb.metrics"
local world = require "hebb.world"
local plot = require "hebb.plot"
local nb = require("hebb.notebook").checks(arg)   -- --small, --check, verdicts
local small, verdict = nb.small, nb.verdict
local gen = T.Generator(17)
local R = small and 1000 or 20000

-- %% [markdown]
-- ## 1. The canonical ensemble of a linear network (L4)
-- N = 10 neurons in a bath at T = 0.3, sampled by the world's Langevin
-- dynamics (Euler–Maruyama, step h).  The chain's stationary law is
-- Gaussian with covariance T(A(1 − hA/2))⁻¹, A = MᵀM, M = I − W, so its
-- ⟨H⟩, Var H and ln Z differ from L4 by O(h) — computed exactly and
-- printed.  Errors come from the spread over 20 independent groups of
-- replicas (honest whatever the time correlation within a replica).

-- %%
local N, Tb, h = 10, 0.3, 0.02
local function canonical(W, b)
  local M = T.eye(N) - W
  local w = world { neurons = T.zeros(R, N), couplings = { M = M, b = b }, bath = { T = Tb },
    energy = function(x, c) return ((x:matmul(c.M:t()) - c.b) ^ 2):sum(2) * 0.5 end,
    dynamics = { dt = h }, seed = 5 }
  local lam = linalg.eigvalsh(M:t():matmul(M))
  local relax = math.ceil(1 / (h * lam:min():item()))        -- steps per relaxation time
  w:step(5 * relax)
  local Hs, xs = {}, {}
  for k = 1, 10 do w:step(relax); Hs[k], xs[k] = w:energy(), w.x end
  -- 20 groups of replicas: <H>, Var H and ln Z = S - <H>/T in each (S from
  -- the last snapshot: independent samples, as the entropy estimate assumes)
  local H = T.stack(Hs):reshape(10, 20, R // 20):permute(2, 1, 3):reshape(20, -1)
  local X = xs[10]:reshape(20, R // 20, N)
  local U, V, lnZ = H:mean(2), H:var(2), {}
  local U10 = Hs[10]:reshape(20, R // 20):mean(2)
  for g = 1, 20 do lnZ[g] = metrics.ensemble_entropy(X[g]) - U10[g] / Tb end
  lnZ = T.tensor(lnZ)
  local f = (lam * (-h / 2) + 1):reciprocal()                -- 1/(1 - h lambda/2)
  local logdet = select(2, linalg.slogdet(M)):item()
  local lnZ0 = (N / 2) * math.log(2 * math.pi * Tb) - logdet
  local function mean_err(t) return t:mean():item(), t:std():item() / math.sqrt(20) end
  local r = { U_h = Tb / 2 * f:sum():item(), V_h = Tb ^ 2 / 2 * (f * f):sum():item(), lnZ0 = lnZ0,
              lnZ_h = lnZ0 + 0.5 * (f:log() - f + 1):sum():item(), logdet = logdet }
  r.U, r.dU = mean_err(U); r.V, r.dV = mean_err(V); r.lnZ, r.dlnZ = mean_err(lnZ)
  return r
end
print(string.format("N = %d, T = %g, %d replicas x 10 snapshots, Euler-Maruyama h = %g", N, Tb, R, h))
print("             measured             exact for the chain   L4 (h -> 0)")
for trial, W in ipairs { gen:randn(N, N) * 0.1, gen:randn(N, N) * 0.1 - T.eye(N) * 0.5 } do
  local r = canonical(W, gen:randn(N))
  print(string.format("W%d: ln|det(I - W)| = %.4f", trial, r.logdet))
  print(string.format("  <H>     %.4f ± %.4f     %.4f                %.4f", r.U, r.dU, r.U_h, N * Tb / 2))
  print(string.format("  Var H   %.4f ± %.4f     %.4f                %.4f", r.V, r.dV, r.V_h, N * Tb ^ 2 / 2))
  print(string.format("  ln Z    %.4f ± %.4f     %.4f                %.4f", r.lnZ, r.dlnZ, r.lnZ_h, r.lnZ0))
  verdict(math.abs(r.U - r.U_h) < 4 * r.dU and math.abs(r.V - r.V_h) < 4 * r.dV
          and math.abs(r.lnZ - r.lnZ_h) < 4 * r.dlnZ, "<H>, Var H, ln Z within 4 errors of the chain's values")
end

-- %% [markdown]
-- ## 2. Entropy of learning replicas, and of the bath
-- R replicas of a linear model's four weights learn a least-squares loss
-- L(q) = |Xq − y|²/2n by noisy gradient descent (rate γ, bath T_c).  The
-- ensemble stays Gaussian, so its entropy S is known exactly at every step
-- (the covariance obeys C ← BCB + 2ηT_c, B = 1 − ηA), and the Gaussian
-- estimate of `metrics.ensemble_entropy` is unbiased.  The bath receives
-- the heat −Δ⟨L⟩ (no work is done), so S_bath = −Δ⟨L⟩/T_c.

-- %%
local P, n, Tc, eta = 4, 32, 0.01, 0.05
local X = gen:randn(n, P)
local y = X:matmul(gen:randn(P)) + gen:randn(n) * 0.3
local loss = function(_, c) return ((c.q:matmul(X:t()) - y) ^ 2):sum(2) / (2 * n) end
local w2 = world { couplings = { q = gen:randn(R, P) * 2 }, dynamics = { dt = eta },
  learn = { loss = loss, rate = 1, T = Tc }, seed = 6,
  observe = { S = function(w) return (metrics.ensemble_entropy(w.c.q)) end,
              L = function(w) return w:loss():mean() end } }
local steps = 200
local rec = w2:run { steps = steps, every = 5 }
local A = X:t():matmul(X) / n
local qhat = linalg.solve(A, X:t():matmul(y) / n)
local Lmin = ((X:matmul(qhat) - y) ^ 2):sum():item() / (2 * n)
local m, C, B = T.zeros(P), T.eye(P) * 4, T.eye(P) - A * eta
local Sx, Lx, Stot, Sb = {}, {}, {}, {}
for k = 0, steps do
  if k % 5 == 0 then
    local i = k // 5 + 1
    local d = m - qhat
    Sx[i] = 0.5 * (P * math.log(2 * math.pi * math.exp(1)) + select(2, linalg.slogdet(C)):item())
    Lx[i] = Lmin + 0.5 * (A * C):sum():item() + 0.5 * d:dot(A:matmul(d)):item()
    Sb[i] = (rec.L[1] - rec.L[i]) / Tc
    Stot[i] = rec.S[i] + Sb[i]
  end
  m, C = qhat + B:matmul(m - qhat), B:matmul(C):matmul(B) + T.eye(P) * (2 * eta * Tc)
end
local dS = rec.S[#Sx] - rec.S[1]
local drop = 0
for i = 2, #Stot do drop = math.max(drop, Stot[i - 1] - Stot[i]) end
print(string.format("entropy of the replicas: %.3f -> %.3f (exact %.3f -> %.3f)", rec.S[1], rec.S[#Sx],
                    Sx[1], Sx[#Sx]))
print(string.format("bath: +%.1f;  total: %.2f -> %.2f, largest step down %.3f", Sb[#Sb], Stot[1],
                    Stot[#Stot], drop))
local worst, Serr = 0, select(2, metrics.ensemble_entropy(w2.c.q))   -- its exact sd for Gaussians
for i = 1, #Sx do worst = math.max(worst, math.abs(rec.S[i] - Sx[i]) / Serr) end
verdict(worst < 4, string.format("S(t) within 4 errors (%.3f) of the exact Gaussian ensemble", Serr))
verdict(dS < -3, "the replicas' entropy decreases (learning)")
-- a step down larger than the estimate's error would break the second law
verdict(drop < Serr and Stot[#Stot] > Stot[1], "the total entropy never decreases")

-- %% Figure: the second law of learning
local fig = plot.figure { width = 760, height = 340, cols = 2 }
local function shift(v, s0) local o = {} for i = 1, #Sx do o[i] = v[i] - s0 end return o end
fig:panel(1):line(rec.t, shift(rec.S, rec.S[1]), { label = "replicas (measured)", marker = "o" })
fig:panel(1):line(rec.t, shift(Sx, Sx[1]), { label = "exact", dash = "dashed" })
fig:panel(1):set { xlabel = "learning time $t$", ylabel = "$\\Delta S$ (nats)", title = "the learners' entropy" }
fig:panel(2):line(rec.t, Sb, { label = "bath $-\\Delta\\langle L\\rangle / T_c$" })
fig:panel(2):line(rec.t, shift(Stot, Stot[1]), { label = "replicas + bath", dash = "dashed" })
fig:panel(2):set { xlabel = "learning time $t$", ylabel = "$\\Delta S$ (nats)", title = "with the bath" }
plot.show(fig)

-- %% [markdown]
-- ## 3. The learning efficiency is the Laplacian of the loss
-- Without a bath (T = 0, where the free energy is the loss) each step
-- q ← q − η∇L(q) maps the ensemble with Jacobian 1 − η∇²L, so the entropy
-- changes by exactly ⟨ln|det(1 − η∇²L)|⟩ per step, which is −η⟨∇²L⟩ + O(η²):
-- the rate at which learning destroys entropy is the mean Laplacian.  Here
-- replicas of a 1–2–1 tanh network (7 weights each) learn sin on [−2, 2];
-- the per-replica Hessians come from 7 Hessian–vector products per step
-- (`w:hessian`).  A third, model-free column: the Gaussian entropy estimate
-- of the samples, which is only right while the ensemble stays Gaussian.

-- %%
local u, eta3 = T.linspace(-2, 2, 8), 0.05
local v = u:sin()
local function net_loss(_, c)
  local q = c.q
  local hid = (u:reshape(1, 8, 1) * q:narrow(2, 1, 2):reshape(-1, 1, 2) + q:narrow(2, 3, 2):reshape(-1, 1, 2)):tanh()
  local out = (hid * q:narrow(2, 5, 2):reshape(-1, 1, 2)):sum(3) + q:narrow(2, 7, 1)
  return ((out - v) ^ 2):mean(2) * 0.5
end
local R3 = small and 500 or 4000
local w3 = world { couplings = { q = gen:randn(1, 7) + gen:randn(R3, 7) * 0.1 },
  learn = { loss = net_loss, rate = 1 }, dynamics = { dt = eta3 }, seed = 8 }
local steps3 = small and 60 or 200
local t3, exact3, lap3, lap3b, gauss3 = { 0 }, { 0 }, { 0 }, { 0 }, { 0 }
local L3 = { w3:loss():mean():item() }
local S0 = metrics.ensemble_entropy(w3.c.q)
for k = 1, steps3 do
  local H = w3:hessian("q")
  local jac = T.eye(7) - H * eta3
  exact3[k + 1] = exact3[k] + select(2, linalg.slogdet(jac)):mean():item()
  lap3[k + 1] = lap3[k] - eta3 * H:diagonal(0, 2, 3):sum(2):mean():item()
  lap3b[k + 1] = lap3b[k] + lap3[k + 1] - lap3[k] - eta3 ^ 2 / 2 * (H * H):sum({ 2, 3 }):mean():item()
  w3:step()
  t3[k + 1], L3[k + 1] = w3.t, w3:loss():mean():item()
  gauss3[k + 1] = metrics.ensemble_entropy(w3.c.q) - S0
end
local n3 = #exact3
local rel, rel2 = math.abs(lap3[n3] / exact3[n3] - 1), math.abs(lap3b[n3] / exact3[n3] - 1)
print(string.format("after t = %g: mean loss %.4f -> %.4f; entropy change:", w3.t, L3[1], L3[n3]))
print(string.format("  exact (log-det)                      %9.4f", exact3[n3]))
print(string.format("  Laplacian, -eta sum <lap L>          %9.4f  (%.2f%% off: O(eta))", lap3[n3], 100 * rel))
print(string.format("  with -(eta^2/2) sum <tr H^2>         %9.4f  (%.2f%% off: O(eta^2))", lap3b[n3], 100 * rel2))
print(string.format("  Gaussian estimate from the samples   %9.4f  (an upper bound)", gauss3[n3]))
verdict(exact3[n3] < 0 and rel < 0.1 and rel2 < rel / 4, "entropy destroyed at the rate of the mean Laplacian")
verdict(gauss3[n3] >= exact3[n3], "the Gaussian estimate stays above the exact entropy")

-- %% Figure: entropy destroyed by learning
local fig3 = plot.figure { width = 560, height = 360 }
fig3:line(t3, exact3, { label = "$\\sum \\langle \\ln|\\det(1 - \\eta \\nabla^2 L)|\\rangle$ (exact)" })
fig3:line(t3, lap3, { label = "$-\\eta \\sum \\langle \\nabla^2 L \\rangle$", dash = "dashed" })
fig3:line(t3, gauss3, { label = "Gaussian estimate from samples", dash = "dotted" })
fig3:set { xlabel = "learning time $t$", ylabel = "$\\Delta S$ (nats)", title = "learning destroys entropy at the rate of the Laplacian" }
plot.show(fig3)

-- %% [markdown]
-- ## What is shown, and what is not
-- Shown: (1) Langevin sampling of a linear network's neurons reproduces the
-- canonical ensemble — ⟨H⟩, Var H and ln Z within their errors of the exact
-- values of the discretized chain, which differ from L4's NT/2, NT²/2 and
-- (N/2) ln 2πT − ln|det(I − W)| by the printed O(h) amounts; ln Z moves with
-- the couplings only through ln|det(I − W)|.  (2) Replicas of learning
-- weights lose entropy exactly as the Gaussian theory says while the bath
-- gains far more: the total increases.  (3) Without noise, learning
-- destroys entropy at the rate of the mean Laplacian of the loss, to O(η).
-- Not shown: the paper's first law with its "complexity" term for nonlinear
-- networks, entropy production with both noise and nonlinearity (that needs
-- the Fisher information of the ensemble, i.e. a density estimate), or the
-- paper's claim that deep architectures maximize the Laplacian — we measured
-- one architecture.

-- %%
nb.finish()
