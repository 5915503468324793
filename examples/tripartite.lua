-- %% [meta]
-- title: Speed, asymptotic performance, stability: the tripartite measure of learning
-- requires: hebb.tensor, hebb.nn, hebb.optim, hebb.data, hebb.metrics, hebb.plot

-- %% [markdown]
-- # Speed, asymptotic performance, stability
--
-- Three numbers describe how a system learns: how fast the loss falls (the
-- rate $k$), where it ends (the plateau $P$) and how much it still
-- fluctuates there (the stability $s$, the spread around the fit).
-- `hebb.metrics.learning` fits $L(t) = P + A e^{-k t}$ to a loss trace and
-- returns all three with errors that allow for correlated noise
-- (docs/metrics.md): first where all three are known exactly, then across
-- optimizers and widths on Fashion-MNIST.
--
-- usage: `hebb examples/tripartite.lua [train images] [--check]` (default
-- one epoch of all 60000; `make test` checks 3200, i.e. 50 steps per run).

-- %% Setup
local T = require "hebb.tensor"
local nn = require "hebb.nn"
local optim = require "hebb.optim"
local data = require "hebb.data"
local metrics = require "hebb.metrics"
local plot = require "hebb.plot"

local nb = require("hebb.notebook").checks(arg)   -- --small, --check, verdicts
local ntrain, verdict = math.tointeger(nb.number(1, 60000)), nb.verdict

-- %% [markdown]
-- ## 1. The exactly solvable case (L3)
-- Noisy gradient descent on $H = \frac{1}{2} h q^2$ (`optim.Langevin`):
-- $q \leftarrow q - \gamma h q + \sqrt{2 \gamma T}\, \xi$, $h = 2$,
-- $\gamma = 0.1$, $T = 0.05$, $R = 10^4$ replicas from $q = 1$.  The map is
-- linear: $\langle q \rangle$ decays by $1 - \gamma h$ per step,
-- $\langle q^2 \rangle$ by $(1 - \gamma h)^2$ towards $v = T / (h (1 - \gamma h / 2))$,
-- and $H$ of a Gaussian $q$ has variance $h^2 v^2 / 2$.  So for the replica
-- mean of $H$: $k = -2 \ln(1 - \gamma h) = 0.4463$, $P = h v / 2 = 0.0277778$,
-- $s = h v / \sqrt{2R} = 3.928 \times 10^{-4}$, exactly.

-- %% Langevin
local h, gamma, temp, R = 2.0, 0.1, 0.05, 10000
local q = T.ones(R)
local lang = optim.Langevin({ q }, { lr = gamma, temperature = temp, seed = 1 })
local mean_q, mean_H = {}, {}
for k = 1, 400 do
  lang:step(function() return 0, q * h end)   -- the loss (unused) and dH/dq
  mean_q[k], mean_H[k] = q:mean(), (q ^ 2):mean() * h / 2
end
local v = temp / (h * (1 - gamma * h / 2))
local exact = { rate = -2 * math.log(1 - gamma * h), plateau = h * v / 2, stability = h * v / math.sqrt(2 * R) }
local fq, fH = metrics.learning(mean_q), metrics.learning(mean_H)
print(string.format("<q> decays at %.4f ± %.4f per step (L3: %.4f)", fq.rate, fq.rate_err, -math.log(1 - gamma * h)))
verdict(math.abs(fq.rate / -math.log(1 - gamma * h) - 1) < 0.02, "L3 rate (2%)")
for _, key in ipairs { "rate", "plateau", "stability" } do
  print(string.format("<H>: %-9s %.5g ± %.2g (exact %.5g)", key, fH[key], fH[key .. "_err"], exact[key]))
  -- L3 asks 2% for rate and plateau; the stability's own error (about 10%,
  -- docs/metrics.md) is what it can be held to: 4 of them
  local tol = key == "stability" and 4 * fH.stability_err / exact.stability or 0.02
  verdict(math.abs(fH[key] / exact[key] - 1) < tol, string.format("%s within %.1f%%", key, 100 * tol))
end

-- %% [markdown]
-- ## 2. Optimizers and widths on Fashion-MNIST
-- A 784-$w$-10 ReLU network ($w$ = 16, 64, 256, f32) trained for one epoch in
-- mini-batches of 64 by SGD (rate 0.1), SGD with momentum 0.9 (rate 0.01)
-- and Adam (rate $10^{-3}$), from the same seed and the same batches.  Each
-- run's per-step loss trace gives its three numbers.

-- %% Fashion-MNIST
local X, Y = data.fashion_mnist("train")
local Xt, Yt = data.fashion_mnist("test")
X, Y = X:narrow(1, 1, ntrain), Y:narrow(1, 1, ntrain)
local mu, sd = X:mean(), X:std()
X, Xt = (X - mu) / sd, (Xt - mu) / sd
local widths = { 16, 64, 256 }
local rules = {
  { "SGD", function(p) return optim.SGD(p, { lr = 0.1 }) end },
  { "momentum", function(p) return optim.SGD(p, { lr = 0.01, momentum = 0.9 }) end },
  { "Adam", function(p) return optim.Adam(p, { lr = 1e-3 }) end },
}
local results = {}
for _, rule in ipairs(rules) do
  results[rule[1]] = {}
  for _, w in ipairs(widths) do
    T.manual_seed(0)
    local model = nn.Sequential(nn.Linear(784, w, { dtype = "f32" }), nn.ReLU(), nn.Linear(w, 10, { dtype = "f32" }))
    local opt, trace = rule[2](model:parameters()), {}
    for xb, yb in data.DataLoader({ X, Y }, { batch_size = 64, shuffle = true, seed = 0 }):batches() do
      opt:zero_grad()
      local loss = nn.cross_entropy(model(xb), yb)
      loss:backward()
      opt:step()
      trace[#trace + 1] = loss:item()
    end
    local fit = metrics.learning(trace)
    local acc = model(Xt):argmax(2):eq(Yt):sum() / Yt.shape[1]
    results[rule[1]][w] = fit
    print(string.format("%-8s w = %3d: rate %.4f ± %.4f, plateau %.3f ± %.3f, stability %.3f ± %.3f; test accuracy %.3f",
      rule[1], w, fit.rate, fit.rate_err, fit.plateau, fit.plateau_err, fit.stability, fit.stability_err, acc))
    verdict(fit.converged and acc > 0.5, "a decay was fitted; accuracy > 0.5 (chance: 0.1)")
  end
  -- one full epoch (938 steps) resolves the plateaus to about 0.013: the
  -- widest network ends lower for every rule (the 50 steps of make test do not)
  if ntrain == 60000 then
    local r = results[rule[1]]
    verdict(r[256].plateau < r[16].plateau, rule[1] .. ": plateau lower at w = 256 than at 16")
  end
end

-- %% Figure: the tripartite measure
local fig = plot.figure { rows = 1, cols = 4, width = 1200, height = 320 }
local fitted = {}
for k = 1, #mean_H do fitted[k] = fH.plateau + fH.amplitude * math.exp(-fH.rate * (k - 1)) end
fig:panel(1):line(mean_H, { label = "$\\langle H \\rangle$, $10^4$ replicas" })
   :line(fitted, { label = "fit $P + A e^{-k t}$", dash = "dashed" })
   :hline(exact.plateau, { label = "exact $P$" })
   :set { title = "Langevin (L3)", yscale = "log", xlabel = "step" }
for i, key in ipairs { "rate", "plateau", "stability" } do
  local p = fig:panel(i + 1)
  for _, rule in ipairs(rules) do
    local y, e = {}, {}
    for j, w in ipairs(widths) do y[j], e[j] = results[rule[1]][w][key], results[rule[1]][w][key .. "_err"] end
    p:errorbar(widths, y, e, { label = rule[1] }):line(widths, y)
  end
  p:set { title = ({ "speed $k$ (per step)", "plateau $P$", "stability $s$" })[i],
          xscale = "log", xlabel = "width $w$", legend = i == 1 and "best" or false }
end
plot.show(fig)

-- %% Check
nb.finish()

-- %% [markdown]
-- ## What this shows, and what it does not
-- Shown: for noisy gradient descent on a quadratic, the fitted speed,
-- plateau and stability agree with their exact values (L3).  On
-- Fashion-MNIST (one full epoch) the same fit puts optimizers and widths on
-- the same three axes with error bars: the plateau falls with width for all
-- three rules (by 0.03–0.05, 2–4 of its errors), while the stability is
-- about 0.11 everywhere — at a fixed batch size it measures the sampling
-- noise of the mini-batch loss more than the optimizer.
-- Not shown: that one exponential describes a network's loss (it does not:
-- the rate is an effective one, dominated by the first hundred steps, and
-- does not order the rules consistently), or that any ranking holds beyond
-- these learning rates, this seed and one epoch.
