-- %% [meta]
-- title: Natural selection as learning: a Moran population of networks
-- requires: hebb.tensor, hebb.plot

-- %% [markdown]
-- # Natural selection as learning: a Moran population of networks
--
-- Vanchurin, Wolf, Katsnelson & Koonin (arXiv:2110.15066) read evolution as
-- learning: loss = −log fitness, and the population size $N$ acts as an
-- inverse temperature.  In the Moran process a mutant of relative fitness
-- $r$ takes over with probability $\rho(r) = (1 - r^{-1}) / (1 - r^{-N})$;
-- with rare mutations, detailed balance, $\rho(r)/\rho(1/r) = r^{N-1}$, gives
-- the stationary law $\pi \propto f^{N-1} = e^{-(N-1) L}$ (Sella & Hirsh,
-- PNAS 102, 9541 (2005)): Boltzmann in the loss at the **biological
-- temperature** $1/(N-1)$.  The organisms are perceptrons
-- $y = \tanh(w \cdot x)$ with three weights $w_i \in \{-1, 0, 1\}$ (27
-- genotypes), with loss $L$ the mean squared error on the 8 inputs
-- $x \in \{-1, 1\}^3$ of the teacher $\mathrm{sign}(x_1 + x_2 - x_3)$ and
-- fitness $f = e^{-L}$; a mutation sets one weight to another value.
-- Populations are rows of one tensor; a step is one birth (parent chosen in
-- proportion to fitness) and one death (uniform) in every population.
--
-- usage: `hebb examples/selection.lua [populations [births]] [--check]`
-- (default 500 populations per size, 100000 births; `make test` checks
-- 100 and 20000).

-- %% Setup
local T = require "hebb.tensor"
local plot = require "hebb.plot"

local nb = require("hebb.notebook").checks(arg)   -- --small, --check, verdicts
local verdict = nb.verdict
local P, births = math.tointeger(nb.number(1, 500)), math.tointeger(nb.number(2, 100000))

-- %% The networks and their losses
local g, j = T.arange(0, 26):view(27, 1, 1), T.arange(0, 7):view(8, 1)
local unit, e = T.tensor({ 1, 3, 9 }):view(1, 3, 1), T.tensor({ 1, 2 }):view(1, 1, 2)
local digit = g // unit % 3                                    -- 27 x 3 x 1: weight + 1
local W = (digit - 1):view(27, 3):to("f64")                    -- every genotype's weights
local X = (j // T.tensor({ 1, 2, 4 }):view(1, 3) % 2 * 2 - 1):to("f64")   -- the 8 inputs
local teacher = X:matmul(T.tensor { 1, 1, -1 }):sign()
local L = (W:matmul(X:t()):tanh() - teacher:view(1, 8)):square():mean(2)   -- 27 losses at once
local fitness = (-L):exp()
-- the 6 genotypes one mutation away (another value of one weight), 27 x 6 flat
local neighbours = (g + ((digit + e) % 3 - digit) * unit + 1):view(-1)
local best = L:argmin()
print(string.format("27 networks, losses from %.3f (w = %s) to %.3f", L:min(), table.concat(W[best]:totable(), ", "), L:max()))

-- one Moran step in every row of G (genotypes, populations x width): row p
-- holds a population of n[p] <= width (active: 1 in its columns, 0 in the
-- padding).  One uniform each for the parent, mutation or not, which
-- mutation, and the death.
local function moran_step(G, n, active, mu, gen)
  local R, width = G:size(1), G:size(2)
  local u = T.rand(R, 4, { generator = gen })
  local cum = (fitness:index_select(1, G:view(-1)):view(R, width) * active):cumsum(2)
  local parent = cum:lt(u:narrow(2, 1, 1) * cum:narrow(2, width, 1)):sum(2, { keepdim = true }) + 1
  local child = G:gather(2, parent)
  if mu > 0 then
    local pick = (child - 1) * 6 + (u:narrow(2, 3, 1) * 6):floor():to("i64") + 1
    child = T.where(u:narrow(2, 2, 1):lt(mu), neighbours:index_select(1, pick:view(-1)):view(R, 1), child)
  end
  G:scatter_(2, (u:narrow(2, 4, 1) * n):floor():to("i64") + 1, child)
end
local function monomorphic(G, active)   -- every active entry of a row the same
  return (T.where(active:gt(0), G, 0):max(2)):eq((T.where(active:gt(0), G, 99):min(2)))
end

-- %% [markdown]
-- ## 1. Fixation probabilities
-- $N = 8$, one mutant among 7 residents, no mutation, until every population
-- is monomorphic; $P$ populations per pair.  The fraction fixed is binomial:
-- the check allows 4 standard errors.

-- %% Fixation
local N, pairs = 8, { { 14, 9 }, { 9, 14 }, { 6, 9 }, { 9, 6 }, { 6, 8 }, { 19, 14 } }
local G = T.zeros(#pairs * P, N, { dtype = "i64" })
for c, pr in ipairs(pairs) do G:narrow(1, (c - 1) * P + 1, P):fill_(pr[1]):select(2, 1):fill_(pr[2]) end
local gen = T.Generator(1)
local all = T.ones(#pairs * P, N)
repeat for _ = 1, 50 do moran_step(G, N, all, 0, gen) end until monomorphic(G, all):all()
local rs, rho, err, exact = {}, {}, {}, {}
for c, pr in ipairs(pairs) do
  local r = fitness[pr[2]] / fitness[pr[1]]
  local fixed = G:narrow(1, (c - 1) * P + 1, P):select(2, 1):eq(pr[2]):sum() / P
  rs[c], rho[c] = r, fixed
  exact[c] = math.abs(r - 1) < 1e-12 and 1 / N or (1 - 1 / r) / (1 - r ^ -N)
  err[c] = math.sqrt(exact[c] * (1 - exact[c]) / P)
  print(string.format("mutant %2d in %2d: r = %.3f, fixed %.4f ± %.4f, Moran %.4f", pr[2], pr[1], r, fixed, err[c], exact[c]))
  verdict(math.abs(fixed - exact[c]) < 4 * err[c], "within 4 standard errors")
end

-- %% [markdown]
-- ## 2. The stationary law: Boltzmann at temperature $1/(N-1)$
-- Populations of $N = 2, 4, 8$ start monomorphic in random genotypes and
-- evolve for $B$ births with mutation probability $\mu = 200/B$ per birth
-- (equilibration takes $\sim 1/\mu$).  In the second half, every 10 births,
-- each monomorphic population records its genotype.  Errors: the spread of
-- the per-population means over $\sqrt{P}$.  Finite $\mu$ biases the law by
-- $O(\mu N)$: with 1000 populations the mean loss came out high by 0.021 at
-- $\mu N = 0.08$ ($N = 4$) and 0.007 at $\mu N = 0.08$ ($N = 8$), under one
-- error of the checked run ($\mu N \le 0.08$); the full run has $\mu N \le 0.016$.

-- %% Evolution
local sizes, mu = { 2, 4, 8 }, 200 / births
local n = T.tensor(sizes, "f64"):view(3, 1):expand(3, P):reshape(3 * P, 1)   -- each row's N
local active = T.arange(1, 8):view(1, 8):le(n):to("f64")
G = T.randint(1, 27, 3 * P, 1, { generator = gen }):expand(3 * P, 8):contiguous()
local sum, count, occupancy = T.zeros(3 * P), T.zeros(3 * P), T.zeros(3, 27)
local at, trace = {}, {}
for s = 1, births do
  moran_step(G, n, active, mu, gen)
  if s % 10 == 0 then
    local g1 = G:select(2, 1)
    local mono = monomorphic(G, active):to("f64")
    at[#at + 1], trace[#at + 1] = s, L:index_select(1, g1):view(3, P):mean(2)
    if s > births // 2 then
      sum:add_(L:index_select(1, g1) * mono); count:add_(mono)
      occupancy:view(-1):scatter_add_(1, g1 + (T.arange(0, 3 * P - 1) // P) * 27, mono)
    end
  end
end
local per = (sum / count):view(3, P)
trace = T.stack(trace)
for i, s in ipairs(sizes) do
  local pi = (-(s - 1) * L):exp() / (-(s - 1) * L):exp():sum()
  local m, e, ex = per[i]:mean(), per[i]:std() / math.sqrt(P), (pi * L):sum()
  print(string.format("N = %d (T = %.3f): mean loss %.4f ± %.4f, Boltzmann %.4f; best network held %.3f (%.3f)",
    s, 1 / (s - 1), m, e, ex, occupancy[i][best] / occupancy[i]:sum(), pi[best]))
  verdict(math.abs(m - ex) < 4 * e, "mean loss within 4 errors of the Boltzmann law")
end

-- %% Figure
local fig = plot.figure { rows = 1, cols = 3, width = 1100, height = 330 }
local rr = T.logspace(-0.5, 1.1, 60)
fig:panel(1):line(rr, (-rr:reciprocal() + 1) / (-(rr ^ -N) + 1), { label = "Moran, $N = 8$" })
   :errorbar(rs, rho, err, { label = "populations of networks" })
   :set { xscale = "log", yscale = "log", xlabel = "relative fitness $r$", ylabel = "fixation probability" }
for i, s in ipairs(sizes) do
  local pi = (-(s - 1) * L):exp()
  fig:panel(2):scatter(L, occupancy[i] / occupancy[i]:sum(), { label = "$N = " .. s .. "$" })
     :line(T.sort(L), T.sort(pi / pi:sum(), 1, { descending = true }), { dash = "dashed" })
  fig:panel(3):line(at, trace:select(2, i), { label = "$N = " .. s .. "$" })
end
fig:panel(2):set { yscale = "log", xlabel = "loss $L$ of the genotype", ylabel = "time held; $e^{-(N-1)L}/Z$ dashed" }
fig:panel(3):set { xscale = "log", xlabel = "births", ylabel = "mean loss of the population" }
plot.show(fig)

-- %% Check
nb.finish()

-- %% [markdown]
-- ## What this shows, and what it does not
-- Shown: populations of networks under Moran selection fix mutants with the
-- exact Moran probabilities, and with rare mutations the genotypes they hold
-- follow $e^{-(N-1)L}$: selection is learning at temperature $1/(N-1)$, and
-- larger populations keep lower-loss networks.
-- Not shown: frequent mutations (clonal interference; the $O(\mu N)$ bias),
-- rugged landscapes (this one has a single minimum), larger genotype
-- spaces, or the theory's claims about multilevel learning.
