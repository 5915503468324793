-- %% [meta]
-- title: Learning dynamics as physics: Adam is covariant gradient descent
-- requires: hebb.tensor, hebb.optim, hebb.plot

-- %% [markdown]
-- # Learning dynamics as physics: Adam is covariant gradient descent
--
-- Guskov and Vanchurin (arXiv:2504.05279) write learning as motion in the
-- space of trainable variables, $dq = -\gamma\, g^{-1} F$, with a metric $g$
-- built from exponential averages of the gradient.  Two experiments:
--
-- 1. Adam is the diagonal case: with $\tau_1 = 9$, $\tau_2 = 999$
--    ($\beta = \tau/(1+\tau)$) the covariant step reproduces optim.Adam step
--    for step on Rosenbrock, to $10^{-12}$ over 5000 steps (check L1; Guskov &
--    Vanchurin, arXiv:2504.05279: Adam and RMSProp are its diagonal limits),
--    and its averages are Adam's moment estimates (check L2).
-- 2. The metric sets the dynamics: gradient descent, Adam's diagonal metric
--    and the full metric $(M^2)^{1/2}$ on a rotated, ill-conditioned bowl.
--
-- The full metric on a network, its effective rank and the noise-whitening
-- power $a$ are in examples/covariant_metric.lua; noise as temperature
-- (the Langevin case, L3) is in examples/tripartite.lua.
--
-- usage: `hebb examples/learning_dynamics.lua [--check]`; with `--check` the
-- script exits with status 1 if L1 or L2 is not met.

-- %% Setup
local T = require "hebb.tensor"
local optim = require "hebb.optim"
local plot = require "hebb.plot"

local nb = require("hebb.notebook").checks(arg)   -- --small, --check, verdicts
local verdict = nb.verdict

-- an optimizer's trajectory: minimizes f(q) from q0 for n steps; the
-- gradients come from autograd (the closure runs backward)
local function trajectory(make_opt, f, q0, n)
  local q = T.tensor(q0):requires_grad_()
  local opt = make_opt(q)
  local path = {}
  for k = 1, n do
    opt:step(function()
      opt:zero_grad()
      local loss = f(q)
      loss:backward()
      return loss
    end)
    path[k] = q:detach():clone()
  end
  return path, opt
end

-- %% [markdown]
-- ## 1. Adam is the diagonal special case (L1, L2)

-- %% Rosenbrock
local function rosenbrock(q)
  local x, y = q[1], q[2]
  return (1 - x) ^ 2 + 100 * (y - x * x) ^ 2
end
local adam, adam_opt = trajectory(function(q)
  return optim.Adam({ q }, { lr = 0.01, betas = { 0.9, 0.999 }, eps = 1e-8 })
end, rosenbrock, { -1.5, 2.0 }, 5000)
local cgd, cgd_opt = trajectory(function(q)
  return optim.CovariantGD({ q }, { lr = 0.01, tau1 = 9, tau2 = 999, eps = 1e-8,
                                    metric = "diag" })
end, rosenbrock, { -1.5, 2.0 }, 5000)
local dist = 0
for k = 1, #adam do dist = math.max(dist, (adam[k] - cgd[k]):abs():max()) end
print(string.format("1. Rosenbrock, 5000 steps: Adam ends at (%.6f, %.6f); "
  .. "largest distance between the Adam and CGD trajectories %.2e",
  adam[#adam][1], adam[#adam][2], dist))
verdict(dist <= 1e-12, "L1 (<= 1e-12)")
-- L2: the averages with memory tau are Adam's with beta = tau/(1 + tau);
-- the weights 1/(1+tau) and 1 - beta round differently in the last bit
local sa, sc = adam_opt.state[1], cgd_opt.state[1]
local function rel(a, b) return ((a - b):abs() / b:abs()):max() end
local d1, d2 = rel(sc.m1, sa.exp_avg), rel(sc.m2, sa.exp_avg_sq)
print(string.format("   tau = beta/(1 - beta): %.6g, %.6g; after 5000 steps the CGD averages "
  .. "differ from Adam's m and v by %.1e and %.1e (relative)", 0.9 / 0.1, 0.999 / 0.001, d1, d2))
verdict(d1 <= 1e-12 and d2 <= 1e-12, "L2 (same averages)")

-- %% Figure: the two trajectories
local steps, loss_adam, loss_cgd, gap = {}, {}, {}, {}
for k = 1, #adam, 10 do
  steps[#steps + 1] = k
  loss_adam[#loss_adam + 1] = rosenbrock(adam[k])
  loss_cgd[#loss_cgd + 1] = rosenbrock(cgd[k])
  gap[#gap + 1] = math.max((adam[k] - cgd[k]):abs():max(), 1e-18)
end
local fig1 = plot.figure { cols = 2, width = 820, height = 320 }
fig1:panel(1):line(steps, loss_adam, { label = "Adam" })
   :line(steps, loss_cgd, { label = "covariant GD (diag)", dash = "dashed" })
   :set { yscale = "log", xlabel = "step", ylabel = "Rosenbrock $f(q)$" }
fig1:panel(2):line(steps, gap, { label = "$\\max |q_{Adam} - q_{CGD}|$" })
   :hline(1e-12, { label = "L1 bound $10^{-12}$" })
   :set { yscale = "log", xlabel = "step", ylim = { 1e-19, 1e-10 } }
plot.show(fig1)

-- %% [markdown]
-- ## 2. The metric sets the dynamics
-- The bowl E = ½ qᵀHq with eigenvalues 100 and 1 along axes rotated by
-- 45°, from q = (1, 0), which has components along both.  Gradient descent
-- needs lr < 2/100 for the stiff direction and then crawls along the soft
-- one (its error there shrinks by 1 − lr per step).  Adam's metric is
-- diagonal in the coordinates q₁, q₂, which here are not the bowl's axes,
-- so it cannot undo the conditioning.  The full metric (M²)^½ is built
-- from the whole gradient covariance and is the same in any rotated frame.

-- %% Rotated bowl
local c, s = math.cos(math.pi / 4), math.sin(math.pi / 4)
local R = T.tensor({ { c, -s }, { s, c } })
local H = R:matmul(T.tensor({ { 100.0, 0 }, { 0, 1.0 } })):matmul(R:t())
local function bowl(q) return 0.5 * (q * H:matmul(q)):sum() end
print("2. rotated bowl, eigenvalues 100 and 1, from (1, 0), 300 steps:")
local fig2 = plot.figure { width = 640, height = 340 }
for _, case in ipairs({
  { "gradient descent, lr 0.0099", function(q) return optim.SGD({ q }, { lr = 0.0099 }) end },
  { "Adam (diag), lr 0.02", function(q) return optim.Adam({ q }, { lr = 0.02 }) end },
  { "CGD full (M2)^1/2, lr 0.02", function(q)
    return optim.CovariantGD({ q }, { lr = 0.02, metric = "full", power = 0.5 }) end },
}) do
  local path = trajectory(case[2], bowl, { 1.0, 0.0 }, 300)
  local first = "never"
  for k, p in ipairs(path) do
    if bowl(p) < 1e-6 then first = tostring(k); break end
  end
  print(string.format("  %-30s E after 10 steps %.2e, after 300 %.2e; "
    .. "E < 1e-6 from step %s", case[1], bowl(path[10]), bowl(path[300]), first))
  local es = {}
  for k, p in ipairs(path) do es[k] = math.max(bowl(p), 1e-30) end
  fig2:line(es, { label = case[1] })
end
fig2:set { yscale = "log", xlabel = "step", ylabel = "$E = \\frac{1}{2} q^T H q$" }
plot.show(fig2)

-- %% Check
nb.finish()

-- %% [markdown]
-- ## What this shows, and what it does not
-- Shown: covariant gradient descent with a diagonal metric from exponential
-- averages is Adam to $10^{-15}$ over 5000 steps (L1), with the same moment
-- estimates (L2); a full metric undoes an ill-conditioned, rotated quadratic
-- that a diagonal one cannot.
-- Not shown here: these metrics on a network, where the gradient covariance
-- is estimated from mini-batches and is neither constant nor full rank
-- (examples/covariant_metric.lua), or noise (examples/tripartite.lua).
