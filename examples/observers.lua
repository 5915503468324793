-- %% [markdown]
-- # Observers as learning subsystems: how much an observer knows
--
-- In Vanchurin's picture an observer is a subnetwork that learns its
-- environment: some neurons are driven by the environment (the boundary),
-- others — the observer's — relax toward a weighted sum of them, and the
-- couplings learn.  What the observer "knows" is the mutual information
-- I(environment; observer) between the two groups of neurons, and it
-- should grow as the observer learns.  Measuring it needs an estimator, and
-- every estimator is biased, so first:
--
-- 1. **Estimators and their bias** on correlated Gaussians, whose MI is
--    known exactly (−½ ln(1 − ρ²) per pair): the Gaussian estimate (plug-in
--    and Wishart-corrected), the Kraskov–Stögbauer–Grassberger k-nearest
--    neighbour estimate and a binned one, against the sample size
--    (`metrics.mutual_information`).
-- 2. **An observer learning its environment** with `hebb.world`: two
--    observer neurons in a bath watch four environment neurons driven by a
--    two-dimensional hidden cause; the couplings learn by reconstructing
--    the environment from the observer (Oja's subspace rule).  The
--    observer is linear and Gaussian, so the exact MI follows from its
--    couplings at every moment, and the estimates can be checked against it.
--
-- usage: `hebb examples/observers.lua [--small] [--check]`

-- %%
local T = require "hebb.tensor"
local linalg = require "hebb.linalg"
local metrics = require "hebb.metrics"
local world = require "hebb.world"
local plot = require "hebb.plot"
local nb = require("hebb.notebook").checks(arg)   -- --small, --check, verdicts
local small, verdict = nb.small, nb.verdict
local gen = T.Generator(23)
local mi = metrics.mutual_information

-- %% [markdown]
-- ## 1. Estimators and their bias against sample size
-- The Gaussian estimates are cheap: 400 repetitions on two pairs of
-- variables (ρ = 0.8 and 0.5, exact I = 0.6547); the plug-in is high by
-- about d_x d_y/2N = 2/N.  The k-NN (k = 3) and binned (8 × 8 bins)
-- estimates on one pair (ρ = 0.8, I = 0.5108) cost O(N²) and O(N), with
-- fewer repetitions.  Bias = mean − exact, ± the standard error of the mean.

-- %%
local function correlated(N, rhos)
  local r = T.tensor(rhos)
  local x = gen:randn(N, #rhos)
  return x, x * r + gen:randn(N, #rhos) * (-(r * r) + 1):sqrt()
end
local function bias(est, N, reps, rhos)
  local exact = 0
  for _, r in ipairs(rhos) do exact = exact - 0.5 * math.log(1 - r * r) end
  local v = {}
  for i = 1, reps do v[i] = est(correlated(N, rhos)) - exact end
  v = T.tensor(v)
  return v:mean():item(), v:std():item() / math.sqrt(reps)
end
local est = {
  { "Gaussian, plug-in", function(x, y) return (mi(x, y, { bias_correction = false })) end, 2 },
  { "Gaussian, corrected", function(x, y) return (mi(x, y)) end, 2 },
  { "k-NN (KSG, k = 3)", function(x, y) return mi(x, y, { method = "knn" }) end, 1 },
  { "binned, plug-in", function(x, y) return mi(x, y, { method = "histogram", bins = 8, bias_correction = false }) end, 1 },
  { "binned, Miller-Madow", function(x, y) return mi(x, y, { method = "histogram", bins = 8 }) end, 1 },
}
local Ns = small and { 100, 300, 1000 } or { 100, 300, 1000, 3000 }
local rows = {}
print("      N   " .. table.concat((function() local h = {} for i, e in ipairs(est) do h[i] = string.format("%-21s", e[1]) end return h end)()))
for j, N in ipairs(Ns) do
  local line = string.format("  %5d   ", N)
  for i, e in ipairs(est) do
    local reps = e[3] == 2 and 400 or (small and 8 or 40)
    local b, s = bias(e[2], N, reps, e[3] == 2 and { 0.8, 0.5 } or { 0.8 })
    rows[i] = rows[i] or {}
    rows[i][j] = { b, s }
    line = line .. string.format("%+.4f ± %.4f      ", b, s)
  end
  print(line)
end
local ok_plug, ok_corr = true, true
for j, N in ipairs(Ns) do
  ok_plug = ok_plug and math.abs(rows[1][j][1] - 2 / N) < 4 * rows[1][j][2] + 0.1 * 2 / N
  ok_corr = ok_corr and math.abs(rows[2][j][1]) < 4 * rows[2][j][2]
end
verdict(ok_plug, "the Gaussian plug-in is high by dx dy / 2N")
verdict(ok_corr, "the corrected Gaussian estimate is unbiased (within 4 errors)")
verdict(rows[4][1][1] > rows[5][1][1] and rows[5][1][1] > 0, "binned: Miller-Madow removes part of a positive bias")
local x, y = correlated(small and 1000 or 3000, { 0.8 })
local g3, k3 = mi(x, y ^ 3), mi(x, y ^ 3, { method = "knn" })
print(string.format("I(x; y^3) = I(x; y) = 0.5108: Gaussian estimate %.4f, k-NN %.4f", g3, k3))
verdict(math.abs(k3 - 0.5108) < 0.05 and math.abs(g3 - 0.5108) > 0.1, "a monotone map fools the Gaussian estimate, not k-NN")

-- %% Figure: bias against sample size
local fig = plot.figure { width = 620, height = 380 }
local theory = {}
for j, N in ipairs(Ns) do theory[j] = 2 / N end
for i, e in ipairs(est) do
  local b, s = {}, {}
  for j = 1, #Ns do b[j], s[j] = rows[i][j][1], rows[i][j][2] end
  fig:errorbar(Ns, b, s, { label = e[1] })
end
fig:line(Ns, theory, { label = "$d_x d_y / 2N$", dash = "dashed" })
fig:hline(0, { dash = "dotted" })
fig:set { xscale = "log", xlabel = "samples $N$", ylabel = "bias of the MI estimate (nats)",
          title = "mutual information estimators: bias against sample size" }
plot.show(fig)

-- %% [markdown]
-- ## 2. An observer learning its environment
-- Six neurons: four environment neurons e = Az + 0.3ε clamped by the
-- boundary to a fresh sample every step (z, ε standard normal, A fixed),
-- and two observer neurons y with energy H = ½|y − We|² in a bath at
-- T = 0.5.  Within a step the observer relaxes (12 Euler–Maruyama substeps
-- of h/τ = ½, after which y = We + n with n Gaussian of variance
-- s² = T/(1 − h/2τ) exactly, and a memory of the previous sample of
-- 2⁻¹² — negligible).  The couplings W learn by reconstructing the
-- environment from the observer, L = ½|e − Wᵀy|² (y held fixed), whose
-- gradient step is Oja's subspace rule.  For this linear Gaussian observer
-- I(e; y) = ½ ln det(1 + WΣₑWᵀ/s²) exactly, Σₑ = AAᵀ + 0.09.

-- %%
local B, Tobs, g2 = small and 600 or 2000, 0.5, T.Generator(29)
local A = g2:randn(4, 2)
local Sigma = A:matmul(A:t()) + T.eye(4) * 0.09
local s2 = Tobs / (1 - 0.25)
local function exact_mi(W)
  return 0.5 * select(2, linalg.slogdet(T.eye(2) + W:matmul(Sigma):matmul(W:t()) / s2)):item()
end
local w = world {
  neurons = T.zeros(B, 6),                                   -- (e1..e4 | y1, y2)
  couplings = { W = g2:randn(2, 4) * 0.01 },
  energy = function(x, c) return ((x:narrow(2, 5, 2) - x:narrow(2, 1, 4):matmul(c.W:t())) ^ 2):sum() * 0.5 end,
  bath = { T = Tobs }, dynamics = { dt = 1, tau = 1 / 6, substeps = 12 },
  boundary = function(w)   -- a fresh environment; W_seen: the couplings the observer relaxes with
    w.x:narrow(2, 1, 4):copy_(w.gen:randn(B, 2):matmul(A:t()) + w.gen:randn(B, 4) * 0.3)
    w.W_seen = w.c.W:clone()
  end,
  clamp = { 1, 4 },
  learn = { rate = 0.01, loss = function(x, c)
    return ((x:narrow(2, 1, 4) - x:narrow(2, 5, 2):matmul(c.W)) ^ 2):sum(2):mean() * 0.5 end },
  observe = {
    exact = function(w) return exact_mi(w.W_seen) end,
    gauss = function(w) return T.tensor { mi(w.x:narrow(2, 1, 4), w.x:narrow(2, 5, 2)) } end,
    knn = function(w) return mi(w.x:narrow(2, 1, 4), w.x:narrow(2, 5, 2), { method = "knn" }) end,
  },
  seed = 2,
}
w:step()                                                     -- one sample in, y relaxed
local rec = w:run { steps = 150, every = 10 }
print("    t     exact MI   Gaussian estimate    k-NN estimate")
local worst, knn_dev = 0, 0
for i = 1, rec.t:size(1) do
  local ex, ga, ge, kn = rec.exact[i], rec.gauss[i][1], rec.gauss[i][2], rec.knn[i]
  worst, knn_dev = math.max(worst, math.abs(ga - ex) / ge), math.max(knn_dev, math.abs(kn - ex))
  print(string.format("  %4d   %.4f     %.4f ± %.4f      %.4f", rec.t[i], ex, ga, ge, kn))
end
local n = rec.t:size(1)
verdict(rec.exact[n] > rec.exact[1] + 1, "the observer's information grows by more than 1 nat")
verdict(worst < 4, "the Gaussian estimate within 4 errors of the exact MI")
print(string.format("  largest |k-NN - exact|: %.3f nats (its bias in 4 + 2 dimensions at N = %d)", knn_dev, B))

-- %% Figure: what the observer knows
local fig2 = plot.figure { width = 620, height = 380 }
fig2:line(rec.t, rec.exact, { label = "exact $\\frac{1}{2} \\ln\\det(1 + W\\Sigma_e W^T / s^2)$" })
fig2:errorbar(rec.t, rec.gauss:select(2, 1), rec.gauss:select(2, 2), { label = "Gaussian estimate" })
fig2:line(rec.t, rec.knn, { label = "k-NN estimate", marker = "s", dash = "dotted" })
fig2:set { xlabel = "learning steps", ylabel = "$I(e; y)$ (nats)", title = "an observer learning its environment" }
plot.show(fig2)

-- %% [markdown]
-- ## What is shown, and what is not
-- Shown: on Gaussians with known MI, the Gaussian estimate's plug-in bias
-- is the predicted d_x d_y/2N and the Wishart correction removes it; the
-- k-NN estimate is biased low at small N and converges; the binned one is
-- biased high at small N (Miller–Madow removes part) and low at large N
-- (binning); a monotone change of variables fools the Gaussian estimate but
-- not k-NN.  An observer subnetwork in a bath that learns to reconstruct its
-- environment gains information about it — here from ~0 to the printed
-- final value — and the Gaussian estimate from one batch tracks the exact
-- MI within its stated error at every step, while k-NN is biased low by the
-- printed amount.  Not shown: a nonlinear observer (there the exact MI is
-- unknown and only the k-NN estimate is trustworthy, with a bias we could
-- not calibrate), that Oja's rule maximizes the information (infomax), or
-- any statement about observers in physics beyond this definition.

-- %%
nb.finish()
