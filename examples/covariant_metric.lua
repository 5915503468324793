-- %% [meta]
-- title: The metric of covariant gradient descent on a network, and the noise it whitens
-- requires: hebb.tensor, hebb.nn, hebb.optim, hebb.linalg, hebb.plot

-- %% [markdown]
-- # The metric of covariant gradient descent on a network
--
-- Covariant gradient descent (Guskov & Vanchurin, arXiv:2504.05279) moves the
-- trainable variables by $\Delta q = -\gamma\, g^{-1} F$ with a metric
-- $g = M^a$ built from the averaged gradient moment
-- $M = \langle \partial H \, \partial H^T \rangle$ (memory $\tau_2$).
-- examples/learning_dynamics.lua shows Adam as its diagonal case.  Here:
-- (1) the full metric on a 2-8-1 tanh network learning $z = xy$ (33
-- variables, fresh mini-batches of 32) against SGD and Adam; (2) the
-- effective rank $e^{S}$, $S = -\sum_i p_i \ln p_i$, $p_i = w_i / \sum w$, of
-- $M$'s eigenvalues $w_i$ over training; (3) the power $a$ (Vanchurin,
-- arXiv:2504.14728: $g \propto \kappa^a$, $\kappa$ the noise covariance).  A
-- step moves by $g^{-1}\xi$, of covariance $\gamma^2 \kappa^{1-2a}$: the
-- update noise keeps $\kappa$'s shape at $a = 0$, inverts it at $a = 1$ and
-- is **white** at $a = \frac{1}{2}$.
--
-- usage: `hebb examples/covariant_metric.lua [steps] [--check]` (default 6000
-- steps; `make test` checks 800).

-- %% Setup
local T = require "hebb.tensor"
local nn = require "hebb.nn"
local optim = require "hebb.optim"
local linalg = require "hebb.linalg"
local plot = require "hebb.plot"

local nb = require("hebb.notebook").checks(arg)   -- --small, --check, verdicts
local steps, verdict = math.tointeger(nb.number(1, 6000)), nb.verdict
local function effective_rank(w)   -- of a spectrum w >= 0
  local p = T.clamp(w, 0) / T.clamp(w, 0):sum()
  return math.exp(-(p * T.clamp(p, 1e-300):log()):sum())
end

-- %% [markdown]
-- ## 1–2. Learning to multiply
-- The same mini-batches ($x, y$ uniform in $[-1, 1]$) and initial weights
-- for every optimizer; 1000 test points.  The target's variance is $1/9$.

-- %% Training
local function product(x) return (x:select(2, 1) * x:select(2, 2)):view(-1, 1) end
local xtest = T.rand(1000, 2, { generator = T.Generator(99) }) * 2 - 1
local ytest = product(xtest)
local checkpoints = { [steps] = true }   -- 8 per decade from step 10
for k = 8, math.floor(8 * math.log(steps, 10)) do checkpoints[math.floor(10 ^ (k / 8) + 0.5)] = true end
local runs = {}
for _, case in ipairs {
  { "SGD, lr 0.1", function(p) return optim.SGD(p, { lr = 0.1 }) end },
  { "Adam (diag metric), lr 0.01", function(p) return optim.Adam(p, { lr = 0.01 }) end },
  { "CGD full, second moment", function(p) return optim.CovariantGD(p, { lr = 0.01, metric = "full" }) end },
  { "CGD full, covariance", function(p)
    return optim.CovariantGD(p, { lr = 0.01, metric = "full", moment = "covariance" }) end },
} do
  T.manual_seed(1)
  local net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
  local opt, gen = case[2](net:parameters()), T.Generator(5)
  local run = { name = case[1], at = {}, loss = {}, rank = {} }
  for s = 1, steps do
    local x = T.rand(32, 2, { generator = gen }) * 2 - 1
    opt:zero_grad()
    local loss = nn.mse_loss(net(x), product(x))
    loss:backward()
    opt:step()
    if checkpoints[s] then
      run.at[#run.at + 1], run.loss[#run.loss + 1] = s, nn.mse_loss(net(xtest), ytest):item()
      local st = opt.state.flat   -- the full metric's M, bias-corrected
      if st then run.rank[#run.at] = effective_rank(linalg.eigh(st.m2 / (1 - 0.999 ^ s))) end
    end
  end
  runs[#runs + 1] = run
  local r = run.rank
  print(string.format("%-30s test mse %.2e%s", run.name, run.loss[#run.loss],
    #r > 0 and string.format("; effective rank of M: largest %.2f, at the end %.2f (of 33)",
      math.max(table.unpack(r)), r[#r]) or ""))
  verdict(run.loss[#run.loss] < 0.1 / 9, "test mse below a tenth of the target's variance")
  if #r > 0 then verdict(math.max(table.unpack(r)) < 5, "gradients use fewer than 5 of 33 directions") end
end

-- %% Figure: learning and the metric's rank
local fig1 = plot.figure { cols = 2, width = 860, height = 340 }
for _, run in ipairs(runs) do
  fig1:panel(1):line(run.at, run.loss, { label = run.name })
  if #run.rank > 0 then fig1:panel(2):line(run.at, run.rank, { label = run.name }) end
end
fig1:panel(1):set { xscale = "log", yscale = "log", xlabel = "step", ylabel = "test mse" }
fig1:panel(2):set { xscale = "log", xlabel = "step", ylabel = "effective rank of $M$", ylim = { 0, 6 } }
plot.show(fig1)

-- %% [markdown]
-- ## 3. The power $a$ and the noise of the update
-- A flat loss with gradient noise of known covariance: $\partial H = \xi$,
-- $\xi \sim N(0, \kappa)$, $\kappa$ with eigenvalues 4, 1, ¼ along rotated
-- axes.  The force is the gradient itself ($\tau_1 = 0$) and
-- $M = \langle \xi \xi^T \rangle \to \kappa$ ($\tau_2 = 199$).  After 600
-- steps of burn-in the covariance of 1400 updates $\Delta q / \gamma$ is
-- compared with $c\, \kappa^{1-2a}$ ($c$ fitted).  Over 20 seeds the
-- relative deviation stayed below 0.04 and the condition number at
-- $a = \frac{1}{2}$ below 1.07 (the memory's 7% noise in $M$ and the 4%
-- of the sample covariance); the checks allow 0.1 and 1.25.

-- %% Whitening
local Q = linalg.qr(T.randn(3, 3, { generator = T.Generator(3) }))
local lam = T.tensor { 4, 1, 0.25 }
local half = Q * lam:sqrt():view(1, 3)     -- kappa = half half^T
local fig2 = plot.figure { width = 560, height = 340 }
for _, a in ipairs { 0, 0.5, 1 } do
  local q, gen = T.zeros(3), T.Generator(1)
  local opt = optim.CovariantGD({ q }, { lr = 0.01, metric = "full", power = a, tau1 = 0, tau2 = 199 })
  local dq = {}
  for s = 1, 2000 do
    local before = q:clone()
    opt:step(function() return 0, half:matmul(gen:randn(3)) end)
    if s > 600 then dq[#dq + 1] = (q - before) / 0.01 end
  end
  local D = T.stack(dq)
  local C = D:t():matmul(D) / D:size(1)
  local P = (Q * (lam ^ (1 - 2 * a)):view(1, 3)):matmul(Q:t())
  local c = (C * P):sum() / (P * P):sum()
  local dev = (C - P * c):norm() / (P * c):norm()
  local w = linalg.eigh(C)
  print(string.format("a = %.1f: eigenvalues of cov(dq)/lr^2 %.3f %.3f %.3f, condition %.2f "
    .. "(kappa's: 16); deviation from c kappa^(1-2a) %.3f", a, w[1], w[2], w[3], w[3] / w[1], dev))
  verdict(dev < 0.1, "cov(dq) ~ kappa^(1-2a)")
  if a == 0.5 then verdict(w[3] / w[1] < 1.25, "white at a = 1/2") end
  fig2:scatter({ a - 0.02, a, a + 0.02 }, w, { label = string.format("$a = %g$", a), marker = "o" })
end
fig2:set { yscale = "log", xlabel = "power $a$ of the metric $g = M^a$", ylabel = "eigenvalues of cov$(\\Delta q) / \\gamma^2$" }
plot.show(fig2)

-- %% Check
nb.finish()

-- %% [markdown]
-- ## What this shows, and what it does not
-- Shown: the full metric trains a 33-variable network (in this run, seed and
-- rate to a lower test error than Adam); the gradient moment that builds it
-- has an effective rank of 2–3 of 33 throughout (the updates live in a small
-- subspace, as Guskov & Vanchurin report), rising while the average fills
-- and falling late (to about 2.2 at 6000 steps); with gradient noise of a
-- known covariance, $a = \frac{1}{2}$ makes the update noise white, $a = 0$
-- keeps its shape and $a = 1$ inverts it.
-- Not shown: that the full metric beats Adam in general (one seed, one rate
-- is not a benchmark), or whitening on a network, whose gradient noise is
-- degenerate: the metric's floor ($w_{max}/(1+\tau_2)$) keeps the weakest
-- directions from being whitened.
