-- _rg_sample.lua -- part of hebb.rg: coarse-graining networks whose
-- neurons are not Gaussian, by sampling.  A network of n neurons x with
-- the weight e^{-x^T K x / 2 + h^T x} (the convention of _rg_network.lua)
-- has binary neurons (x = +-1: K's diagonal is a constant, J = -K the
-- couplings) or Gaussian ones (the check against the exact Schur step).
--
--   sampling       heat-bath chains in C (natives/core/rg_network.c),
--                  independent Philox streams: same bits at any thread count
--   couplings      the kept neurons' samples are those of the exact
--                  marginal; the effective pairwise couplings are fitted to
--                  them by maximum pseudo-likelihood (binary: one logistic
--                  regression per neuron, Newton; the stationarity
--                  conditions are Swendsen's Callen-identity equations) or
--                  by inverting the covariance (Gaussian: exact marginal);
--                  errors by the jackknife over groups of chains
--   free energy    ln Z of each level's network by thermodynamic
--                  integration over lambda (couplings lambda K_off) with a
--                  Gauss-Legendre rule; errors from the spread of
--                  independent chains, plus the fit's error carried to
--                  first order (d lnZ/dK = -<x x^T>/2, d lnZ/dh = <x>)
--   exact check    rg.ising_exact enumerates small networks: the exact
--                  effective Hamiltonian on the kept neurons (all its
--                  multi-spin terms, by a Walsh-Hadamard transform)
local T = require "hebb.tensor"
local L = require "hebb.linalg"
local E = require "hebb._error"
local Num = require "hebb.numeric"
local C = require "hebb._rg"
local Net = require "hebb._rg_network"
local doc = require("hebb").doc

local M = {}
local is_tensor = T.is_tensor
local LN2PI = math.log(2 * math.pi)
local NEURONS = { ising = 0, gaussian = 1 }
local SAMPLING = { neuron = true, h = true, chains = true, samples = true, burn = true,
  thin = true, seed = true }

local function neuron_of(who, opts)
  local name = opts.neuron or "ising"
  local code = NEURONS[name]
  if code == nil then
    E.raise("%s: unknown neuron %s (neurons: ising, gaussian)", who, E.show(name))
  end
  return code
end

local function int_opt(who, opts, key, default, min)
  local v = opts[key]
  if v == nil then return default end
  if math.type(v) ~= "integer" or v < min then
    E.raise("%s: %s must be an integer >= %d, got %s", who, key, min, E.show(v))
  end
  return v
end

-- the sampling settings of opts; `next` hands out blocks of streams so
-- that every run of one call draws from its own chains' streams
local function settings(who, opts)
  local s = {
    code = neuron_of(who, opts),
    chains = int_opt(who, opts, "chains", 32, 2),
    samples = int_opt(who, opts, "samples", 1000, 1),
    burn = int_opt(who, opts, "burn", 200, 0),
    thin = int_opt(who, opts, "thin", 1, 1),
    seed = opts.seed or 0,
    block = 0,
  }
  if math.type(s.seed) ~= "integer" then E.raise("%s: seed must be an integer, got %s", who, E.show(s.seed)) end
  return s
end

local function run(s, K, h, lambda)
  local stream = s.block * s.chains
  s.block = s.block + 1
  return C.net_sample(K, h, s.code, lambda, s.chains, s.burn, s.samples, s.thin, s.seed, stream)
end

-- K (symmetrized: the weight sees only K + K^T), h (zeros if not given), n;
-- Gaussian neurons need K positive definite, or the chains run off
local function network(who, K, opts)
  K = Net._check_K(who, K):detach()
  K = (K + K:t()) * 0.5
  local n = K:size(1)
  local h = Net._check_h(who, opts.h, n)
  if opts.neuron == "gaussian" and not pcall(L.cholesky, K) then
    E.raise("%s: K is not positive definite (the Gaussian integral diverges)", who)
  end
  return K, h and h:detach() or T.zeros(n), n
end

function M.sample(K, opts)
  local who = "rg.sample"
  opts = E.checkopts(who, opts, { neuron = true, h = true, chains = true, samples = true,
    burn = true, thin = true, seed = true, lambda = true })
  local Kd, h = network(who, K, opts)
  local s = settings(who, opts)
  local lambda = opts.lambda or 1
  if type(lambda) ~= "number" or lambda ~= lambda then
    E.raise("%s: lambda must be a number, got %s", who, E.show(lambda))
  end
  return run(s, Kd, h, lambda)
end
doc(M.sample, [==[rg.sample(K [, {neuron="ising", h=, chains=32, samples=1000, burn=200, thin=1, seed=0, lambda=1}])

Samples of the network with the weight e^{-x^T K x / 2 + h^T x}: neuron
"ising" (x = +-1; K's diagonal only adds a constant; the coupling of i and
j is J_ij = -K_ij) or "gaussian" (x real; K_ii > 0).  Heat-bath sweeps in
neuron order, in C, of `chains` independent chains from random starts:
`burn` sweeps, then `samples` states every `thin` sweeps.  lambda scales
the off-diagonal couplings (K_ii + lambda K_ij).  Chain c draws from the
Philox stream c of `seed`: the same states at any thread count and for
any number of chains beside it.  Returns f64 {chains, samples, n}.]==])

-- --- fitting the couplings ----------------------------------------------------

local function no_maximum(who, i)
  E.raise("%s: neuron %d: the pseudo-likelihood has no finite maximum (a neuron constant, or a copy of others, in the samples); take more samples", who, i)
end

-- one neuron's logistic regression on the others by Newton: theta[i] is
-- its bias, theta[j] its coupling J_ij (column i of the regressors is 1)
local function plm_neuron(who, x, w, i, start)
  local n = x:size(2)
  local e = T.zeros(n)
  e[i] = 1
  local X = x * (1 - e) + e
  local y = x:select(2, i)
  local theta = start or T.zeros(n)
  for _ = 1, 50 do
    local t = T.tanh(X:matmul(theta:unsqueeze(2)):squeeze(2))
    local g = X:t():matmul(((y - t) * w):unsqueeze(2))
    local H = X:t():matmul(X * ((1 - t * t) * w):unsqueeze(2))
    local ok, step = pcall(L.solve, H, g)
    if not ok then no_maximum(who, i) end
    step = step:squeeze(2)
    theta = theta + step
    local big = theta:abs():max():item()
    if big ~= big or big > 50 then no_maximum(who, i) end
    if step:abs():max():item() < 1e-12 * (1 + big) then return theta end
  end
  E.raise("%s: the pseudo-likelihood fit of neuron %d did not converge in 50 Newton steps", who, i)
end

-- the fitted (K, h) of rows x {N, n} with row weights w {N} (summing to
-- 1), and the regressions (binary: the jackknife starts from the full fit's)
local function fit_once(who, x, w, code, start)
  local n = x:size(2)
  if code == NEURONS.gaussian then
    local mu = (x * w:unsqueeze(2)):sum(1)
    local d = x - mu
    local S = d:t():matmul(d * w:unsqueeze(2))
    local ok, K = pcall(L.inv, S)
    if not ok then E.raise("%s: the samples' covariance is singular", who) end
    K = (K + K:t()) * 0.5
    return K, K:matmul(mu:unsqueeze(2)):squeeze(2)
  end
  local rows = {}
  for i = 1, n do rows[i] = plm_neuron(who, x, w, i, start and start:select(1, i):clone()) end
  local Th = T.stack(rows, 1)                      -- Th[i][j]: neuron i's regression
  local off = 1 - T.eye(n)
  local J = (Th + Th:t()) * 0.5 * off              -- the two estimates of J_ij averaged
  return -J, Th:diagonal():clone(), Th
end

-- the row weights of the full fit and of the jackknife's replicates: rows
-- {N, n} cut into G groups of whole chains (or of consecutive rows)
local function jackknife_weights(N, per, G)
  local units = N // per
  local id = (T.arange(N) - 1) // per             -- the unit (chain) of each row, from 0
  local full = T.ones(N) / N
  local reps = {}
  for g = 1, G do
    local lo, hi = (g - 1) * units // G, g * units // G
    local out = (id:ge(lo):astype("f64") * id:lt(hi):astype("f64"))
    local keep = 1 - out
    reps[g] = keep / keep:sum()
  end
  return full, reps
end

-- binary rows repeat (a few neurons have few states): the distinct rows
-- {U, n} and each weight vector summed over the copies of a row, which
-- leaves every fit unchanged and costs U rows instead of N
local function squash(x, weights)
  local n = x:size(2)
  if n > 50 then return x end                      -- keys exact in a double
  local pow = T.tensor((function()
    local p = {}
    for k = 1, n do p[k] = 2.0 ^ (k - 1) end
    return p
  end)())
  local keys = ((x + 1) * 0.5):matmul(pow:unsqueeze(2)):squeeze(2):astype("i64")
  local uniq, inv = T.unique(keys, { return_inverse = true })
  local U = uniq:size(1)
  local cols = {}
  for k = 1, n do cols[k] = ((uniq // (1 << (k - 1))) % 2):astype("f64") * 2 - 1 end
  for i, w in ipairs(weights) do weights[i] = T.zeros(U):scatter_add_(1, inv, w) end
  return T.stack(cols, 2)
end

-- the fit and its jackknife replicates; errors of any function of (K, h)
local function fit_all(who, x, code, per, G)
  local full, reps = jackknife_weights(x:size(1), per, G)
  if code == NEURONS.ising then
    local ws = { full, table.unpack(reps) }
    x = squash(x, ws)
    full = ws[1]
    for g = 1, G do reps[g] = ws[g + 1] end
  end
  local K, h, Th = fit_once(who, x, full, code)
  local out = { K = K, h = h, reps = {} }
  for g = 1, G do
    local Kg, hg = fit_once(who, x, reps[g], code, Th)
    out.reps[g] = { K = Kg, h = hg }
  end
  return out
end

-- the jackknife error of the values v[g] (numbers or tensors)
local function jk_err(v)
  local G = #v
  local mean = v[1]
  for g = 2, G do mean = mean + v[g] end
  mean = mean / G
  local acc = (v[1] - mean) ^ 2
  for g = 2, G do acc = acc + (v[g] - mean) ^ 2 end
  local r = acc * ((G - 1) / G)
  return is_tensor(r) and T.sqrt(r) or math.sqrt(r)
end

local function rows_of(who, x)
  if not is_tensor(x) or (x.ndim ~= 2 and x.ndim ~= 3) then
    E.raise("%s: samples must be a tensor {chains, samples, n} or {N, n}, got %s", who,
      is_tensor(x) and ("shape {" .. table.concat(x.shape, ", ") .. "}") or E.show(x))
  end
  x = x:detach():astype("f64")
  if x.ndim == 3 then return x:reshape(-1, x:size(3)), x:size(2), x:size(1) end
  return x, 1, x:size(1)
end

function M.fit_couplings(x, opts)
  local who = "rg.fit_couplings"
  opts = E.checkopts(who, opts, { neuron = true, groups = true, weights = true })
  local code = neuron_of(who, opts)
  local rows, per, units = rows_of(who, x)
  if opts.weights ~= nil then
    local w = opts.weights
    if not is_tensor(w) or w.ndim ~= 1 or w:size(1) ~= rows:size(1) then
      E.raise("%s: weights must be a vector of %d row weights, got %s", who, rows:size(1),
        is_tensor(w) and ("shape {" .. table.concat(w.shape, ", ") .. "}") or E.show(w))
    end
    w = w:detach():astype("f64")
    if w:min():item() < 0 then E.raise("%s: weights must be >= 0", who) end
    local K, h = fit_once(who, rows, w / w:sum(), code)
    return { K = K, h = h }
  end
  local G = int_opt(who, opts, "groups", math.min(units, 16), 2)
  if G > units then E.raise("%s: %d jackknife groups of %d chains (rows)", who, G, units) end
  local f = fit_all(who, rows, code, per, G)
  local Ks, hs = {}, {}
  for g, r in ipairs(f.reps) do Ks[g], hs[g] = r.K, r.h end
  return { K = f.K, h = f.h, K_err = jk_err(Ks), h_err = jk_err(hs) }
end
doc(M.fit_couplings, [==[rg.fit_couplings(x [, {neuron="ising", groups=, weights=}])

The pairwise network (K, h) -- weight e^{-x^T K x / 2 + h^T x} -- that
best explains the samples x ({chains, samples, n} as rg.sample returns
them, or rows {N, n}).  Binary neurons: maximum pseudo-likelihood, one
logistic regression of each neuron on the others (Newton), the two
estimates of each coupling averaged; K_ij = -J_ij, diagonal 0.  Its
equations are Swendsen's: <s_i s_j> = <tanh(local field_i) s_j>; it is
consistent (the fit tends to the true couplings) when the samples come
from a pairwise network, and otherwise to a definite projection of the
true Hamiltonian.  Gaussian neurons: K = the inverse covariance, h = K
<x> (the exact marginal of a Gaussian network is Gaussian).  Errors K_err,
h_err by the jackknife over `groups` groups of whole chains (default
min(chains, 16); rows {N, n} count as chains of one sample).  With
weights (a vector over the rows, e.g. the exact probabilities of
rg.ising_exact's states) the fit is of the weighted rows, without errors.
Returns {K=, h=, K_err=, h_err=}.]==])

-- --- free energy by thermodynamic integration -------------------------------

-- ln Z at lambda = 0: independent neurons
local function lnz0(K, h, code)
  local D = K:diagonal()
  if code == NEURONS.gaussian then
    return (T.log(2 * math.pi / D) * 0.5 + h * h / (D * 2)):sum():item()
  end
  local a = h:abs()                                  -- ln 2 cosh h, safely
  return (a + T.log1p(T.exp(a * -2))):sum():item() - 0.5 * D:sum():item()
end

-- ln Z = ln Z_0 + int_0^1 <-x^T K_off x / 2>_lambda d lambda, Gauss-Legendre
-- in lambda; the integrand's error from the spread of chain means
local function ti(K, h, s, nodes)
  local n = K:size(1)
  local off = K * (1 - T.eye(n))
  local lam, wt = Num.gauss_legendre(nodes, 0, 1)
  local acc, var = lnz0(K, h, s.code), 0
  for k = 1, nodes do
    local Y = run(s, K, h, lam[k]:item()):reshape(-1, n)
    local u = (Y:matmul(off) * Y):sum(2) * -0.5
    local per = u:reshape(s.chains, s.samples):mean(2)
    local w = wt[k]:item()
    acc = acc + w * per:mean():item()
    var = var + w * w * per:var():item() / s.chains
  end
  return acc, math.sqrt(var)
end

local function nodes_of(who, opts)
  return int_opt(who, opts, "nodes", 8, 1)
end

function M.sample_lnz(K, opts)
  local who = "rg.sample_lnz"
  local known = { nodes = true }
  for k in pairs(SAMPLING) do known[k] = true end
  opts = E.checkopts(who, opts, known)
  local Kd, h = network(who, K, opts)
  local s = settings(who, opts)
  local v, err = ti(Kd, h, s, nodes_of(who, opts))
  return { lnz = v, err = err }
end
doc(M.sample_lnz, [==[rg.sample_lnz(K [, {neuron="ising", h=, nodes=8, chains=32, samples=1000, burn=200, thin=1, seed=0}])

ln Z of the network e^{-x^T K x / 2 + h^T x} (neurons as in rg.sample)
by thermodynamic integration: the couplings are switched on as K_ii +
lambda K_ij, ln Z(0) is that of independent neurons (binary: sum ln 2
cosh h_i - tr K / 2; Gaussian: sum (1/2) ln(2 pi / K_ii) + h_i^2 / 2
K_ii), and d ln Z / d lambda = <-x^T K_off x / 2>_lambda is sampled at
the `nodes` Gauss-Legendre nodes of [0, 1] (for a finite network ln
Z(lambda) is analytic: the rule converges geometrically in nodes).
Returns {lnz=, err=}: err is the statistical error, from the spread of
the independent chains' means at each node.]==])

-- --- coarse-graining ----------------------------------------------------------

-- one level of a sampled coarse-graining: the fit to the rows x (the
-- level's neurons), its errors, ln Z of the fitted network and the fit's
-- first-order effect on it per jackknife replicate
local function level(who, x, s, per, G, nodes)
  local f = fit_all(who, x, s.code, per, G)
  local N = x:size(1)
  local mom = x:t():matmul(x) / N                    -- <x x^T>, <x>: d lnZ/dK, dlnZ/dh
  local mean = x:mean(1)
  local lin = {}
  local Ks, hs = {}, {}
  for g, r in ipairs(f.reps) do
    Ks[g], hs[g] = r.K, r.h
    lin[g] = -0.5 * (mom * (r.K - f.K)):sum():item() + (mean * (r.h - f.h)):sum():item()
  end
  local lnz, ti_err = ti(f.K, f.h, s, nodes)
  return { K = f.K, h = f.h, K_err = jk_err(Ks), h_err = jk_err(hs), lnz = lnz, ti_err = ti_err,
    lin = lin, reps = f.reps }
end

local function groups_of(who, opts, chains)
  local G = int_opt(who, opts, "groups", math.min(chains, 16), 2)
  if G > chains then E.raise("%s: %d jackknife groups of %d chains", who, G, chains) end
  return G
end

-- the shell between two levels: ln Z_fine - ln Z_coarse with both errors
local function shell_of(fine, coarse)
  local d = {}
  for g = 1, #coarse.lin do d[g] = (fine.lin and fine.lin[g] or 0) - coarse.lin[g] end
  local fit = jk_err(d)
  return fine.lnz - coarse.lnz, math.sqrt(fine.ti_err ^ 2 + coarse.ti_err ^ 2 + fit ^ 2)
end

-- the classes of pair displacements of a periodic lattice: each pair's
-- minimal-image offset, its |components| sorted when the sides are equal
-- (the lattice's rotations and reflections); returns the class of every
-- entry of an {n, n} matrix (0 for the diagonal) and the classes' offsets
-- in order of distance
local function offset_classes(shape)
  local d, n, square = #shape, 1, true
  for k = 1, d do n, square = n * shape[k], square and shape[k] == shape[1] end
  local function coords(i)
    local c = {}
    for k = d, 1, -1 do c[k], i = i % shape[k], i // shape[k] end
    return c
  end
  local key_of, offsets, list = {}, {}, {}
  local cls = {}
  for i = 0, n - 1 do
    local ci = coords(i)
    for j = 0, n - 1 do
      local id = 0
      if i ~= j then
        local cj, off = coords(j), {}
        for k = 1, d do
          local dk = math.abs(ci[k] - cj[k])
          off[k] = math.min(dk, shape[k] - dk)
        end
        if square then table.sort(off) end
        local key = table.concat(off, ",")
        if not key_of[key] then
          offsets[#offsets + 1] = off
          key_of[key] = #offsets
        end
        id = key_of[key]
      end
      list[#list + 1] = id
    end
  end
  -- order the classes by distance, then by offset
  local order = {}
  for c = 1, #offsets do order[c] = c end
  local function r2(o) local a = 0 for _, v in ipairs(o) do a = a + v * v end return a end
  table.sort(order, function(a, b)
    local ra, rb = r2(offsets[a]), r2(offsets[b])
    if ra ~= rb then return ra < rb end
    return table.concat(offsets[a], ",") < table.concat(offsets[b], ",")
  end)
  local rank = {}
  for r, c in ipairs(order) do rank[c] = r end
  for k, id in ipairs(list) do cls[k] = id == 0 and #offsets + 1 or rank[id] end
  local sorted = {}
  for r, c in ipairs(order) do sorted[r] = offsets[c] end
  return T.tensor(cls, "i64"), sorted
end

-- the mean coupling of each class of offsets (the diagonal's slot last, dropped)
local function class_means(K, cls, m)
  local sum = T.zeros(m + 1):scatter_add_(1, cls, K:reshape(-1))
  local cnt = T.zeros(m + 1):scatter_add_(1, cls, T.ones(cls:size(1)))
  return (sum / cnt):narrow(1, 1, m)
end

local function list_of(t)
  local out = {}
  for i = 1, t:size(1) do out[i] = t[i]:item() end
  return out
end

local function flow_opts(extra)
  local known = { nodes = true, groups = true }
  for k in pairs(SAMPLING) do known[k] = true end
  for k in pairs(extra) do known[k] = true end
  return known
end

function M.sample_integrate_out(K, fast, opts)
  local who = "rg.sample_integrate_out"
  opts = E.checkopts(who, opts, flow_opts {})
  local Kd, h, n = network(who, K, opts)
  local keep, out = Net._split(who, fast, n)
  local s = settings(who, opts)
  local nodes, G = nodes_of(who, opts), groups_of(who, opts, s.chains)
  local Y = run(s, Kd, h, 1):reshape(-1, n)
  local lnz, ti_err = ti(Kd, h, s, nodes)
  local fine = { lnz = lnz, ti_err = ti_err }
  local lv = level(who, Y:index_select(2, T.tensor(keep, "i64")), s, s.samples, G, nodes)
  local shell, shell_err = shell_of(fine, lv)
  return { K = lv.K, h = lv.h, K_err = lv.K_err, h_err = lv.h_err, lnz = shell, lnz_err = shell_err,
    lnz_full = lnz, lnz_full_err = ti_err, keep = keep, fast = out }
end
doc(M.sample_integrate_out, [==[rg.sample_integrate_out(K, fast [, {neuron="ising", h=, nodes=8, groups=, chains=32, samples=1000, burn=200, thin=1, seed=0}])

rg.integrate_out for neurons that are not Gaussian, by sampling: the
whole network e^{-x^T K x / 2 + h^T x} is sampled (rg.sample), the kept
neurons' columns are samples of their exact marginal, and the effective
pairwise network on them is fitted (rg.fit_couplings: pseudo-likelihood
for binary neurons).  The shell's free energy lnz = ln Z(K, h) - ln Z(K',
h'), both by thermodynamic integration (rg.sample_lnz), so that ln Z(K,
h) = lnz + ln Z(K', h') as in the Gaussian case; when the exact marginal
has multi-spin terms (rg.ising_exact shows them) K' is their pairwise
projection and lnz absorbs the rest.  Errors: K_err, h_err by the
jackknife over chain groups; lnz_err adds the integrations' statistical
errors and the fit's error carried to first order.  Returns {K=, h=,
K_err=, h_err=, lnz=, lnz_err=, lnz_full=, lnz_full_err=, keep=, fast=}.]==])

function M.sample_flow(K, opts)
  local who = "rg.sample_flow"
  opts = E.checkopts(who, opts, flow_opts { shape = true, b = true, levels = true, rule = true })
  local Kd, h, n = network(who, K, opts)
  local shape, b, levels = Net._flow_geometry(who, n, opts)
  local s = settings(who, opts)
  local rule = opts.rule or "decimate"
  if rule ~= "decimate" and rule ~= "majority" then
    E.raise("%s: unknown rule %s (rules: decimate, majority)", who, E.show(rule))
  end
  if rule == "majority" and s.code ~= NEURONS.ising then
    E.raise("%s: rule \"majority\" takes binary neurons", who)
  end
  local nodes, G = nodes_of(who, opts), groups_of(who, opts, s.chains)
  local Y = run(s, Kd, h, 1):reshape(-1, n)
  local lnz, ti_err = ti(Kd, h, s, nodes)
  local diag, nn = Net._couplings(Kd, shape)
  local prev = { lnz = lnz, ti_err = ti_err }
  local cls0, offs0 = offset_classes(shape)
  local means0, by0 = class_means(Kd, cls0, #offs0), {}
  for c, o in ipairs(offs0) do by0[c] = { offset = o, K = means0[c]:item(), err = 0 } end
  local out = { { level = 0, n = n, shape = shape, K = Kd, h = h, diag = diag, nn = nn,
    lnz = lnz, lnz_err = ti_err, shell = 0, shell_err = 0, by_offset = by0 } }
  local idx = {}
  for i = 1, n do idx[i] = i end
  local shells, shells_var = 0, 0
  local cur, rows = Y, Y:size(1)
  for l = 1, levels do
    local keep, coarse = Net._decimation(who, shape, b)
    local x
    if rule == "decimate" then
      local sub = {}
      for k, i in ipairs(keep) do sub[k] = idx[i] end
      idx = sub
      x = Y:index_select(2, T.tensor(idx, "i64"))
    else                 -- block spins of the previous level's block spins
      local lat = { rows }
      for k, L in ipairs(shape) do lat[k + 1] = L end
      cur = C.block(cur:reshape(lat), 2, #shape, b, 0, s.seed, l - 1):reshape(rows, #keep)
      idx, x = nil, cur
    end
    shape = coarse
    local lv = level(who, x, s, s.samples, G, nodes)
    local shell, shell_err = shell_of(prev, lv)
    diag, nn = Net._couplings(lv.K, shape)
    local cls, offs = offset_classes(shape)
    local means = class_means(lv.K, cls, #offs)
    local nn_reps, diag_reps, cl_reps = {}, {}, {}
    for g, r in ipairs(lv.reps) do
      local dg, ng = Net._couplings(r.K, shape)
      diag_reps[g], nn_reps[g] = dg, T.tensor(ng)
      cl_reps[g] = class_means(r.K, cls, #offs)
    end
    local cl_err = jk_err(cl_reps)
    local by_offset = {}
    for c, o in ipairs(offs) do
      by_offset[c] = { offset = o, K = means[c]:item(), err = cl_err[c]:item() }
    end
    local fit = jk_err(lv.lin)
    out[l + 1] = { level = l, n = #keep, shape = shape, K = lv.K, h = lv.h, K_err = lv.K_err,
      h_err = lv.h_err, diag = diag, nn = nn, diag_err = jk_err(diag_reps),
      nn_err = list_of(jk_err(nn_reps)), lnz = lv.lnz, lnz_err = math.sqrt(lv.ti_err ^ 2 + fit ^ 2),
      shell = shell, shell_err = shell_err, keep = idx and { table.unpack(idx) }, by_offset = by_offset }
    shells, shells_var = shells + shell, shells_var + shell_err ^ 2
    prev = lv
  end
  return { levels = out, lnz = lnz, lnz_err = ti_err, shells = shells,
    shells_err = math.sqrt(shells_var), last = out[#out].lnz, last_err = out[#out].lnz_err }
end
doc(M.sample_flow, [==[rg.sample_flow(K [, {neuron="ising", rule="decimate", h=, shape={n}, b=2, levels=, nodes=8, groups=, chains=32, samples=1000, burn=200, thin=1, seed=0}])

rg.gaussian_flow for neurons that are not Gaussian (Monte Carlo RG): the
network sits on a lattice `shape`, each level keeps the corner neuron of
every block of b^d sites and integrates the others out.  The network is
sampled once (rg.sample); the neurons kept at level l are samples of
their exact marginal, to which the level's pairwise network (K_l, h_l) is
fitted (rg.fit_couplings), so errors do not pile up from level to level.
rule = "majority" (binary neurons) keeps instead each block's majority
spin (Swendsen's block spins; ties by rg.block's seeded coin): the
samples' block spins of level l - 1 are blocked again, and ln Z is still
conserved (the block map is a stochastic kernel: it sums to 1 over the
block spins).
Each level's ln Z is that of its fitted network by thermodynamic
integration (rg.sample_lnz); the shell between two levels is the
difference, so ln Z = the shells' sum + the coarsest ln Z (the Gaussian
bookkeeping), and on a decimated Ising chain each shell is the exact (N_l
/ 2) (1/2) ln(4 cosh 2K) within its error.  Returns {levels = {[1 + l] =
{level=, n=, shape=, K=, h=, K_err=, h_err=, diag=, diag_err=, nn = {the
mean coupling to the next site along each axis}, nn_err=, lnz=, lnz_err=,
shell=, shell_err=, keep = the kept neurons' indices in K (decimation),
by_offset = {{offset = {|dx|, ...}, K = the mean K'_ij of the pairs at
that minimal-image offset (components sorted on a lattice of equal
sides), err=}, ... nearest first}: the couplings the flow generates}},
lnz=,
lnz_err= (the network's own ln Z), shells=, shells_err=, last=,
last_err=}.  Level errors: the jackknife over chain groups (fits) and the
chains' spread (integrations), the fit's error carried to ln Z to first
order; a shell's error takes both levels' fit errors together.]==])

-- --- exact enumeration ----------------------------------------------------------

-- all 2^m states of m binary neurons, {2^m, m}: column k is +1 where bit
-- m - k of the row index (counting from 0) is 0
local function states(m)
  if m == 0 then return T.zeros(1, 0) end
  local cols, pm = {}, T.tensor { 1, -1 }
  for k = 1, m do
    cols[k] = pm:reshape { 1, 2, 1 }:expand { 1 << (k - 1), 2, 1 << (m - k) }:reshape { 1 << m }
  end
  return T.stack(cols, 2):astype("f64")
end

-- the Walsh-Hadamard transform of v {2^m} (same bit layout as states)
local function walsh(v, m)
  for k = 1, m do
    local r = v:reshape { 1 << (k - 1), 2, 1 << (m - k) }
    local a, b = r:select(2, 1), r:select(2, 2)
    v = T.stack({ a + b, a - b }, 2):reshape { 1 << m }
  end
  return v / (1 << m)
end

local function quad(S, K)        -- x^T K x for each row of S
  if S:size(2) == 0 then return T.zeros(S:size(1)) end
  return (S:matmul(K) * S):sum(2)
end

local function pick(A, rows, cols)
  local r = A:index_select(1, T.tensor(rows, "i64"))
  return cols and r:index_select(2, T.tensor(cols, "i64")) or r
end

function M.ising_exact(K, fast, opts)
  local who = "rg.ising_exact"
  opts = E.checkopts(who, opts, { h = true })
  local Kd, h, n = network(who, K, opts)
  local keep, out = {}, {}
  if fast == nil or (type(fast) == "table" and not is_tensor(fast) and #fast == 0) then
    for i = 1, n do keep[i] = i end
  else
    keep, out = Net._split(who, fast, n)
  end
  local ns, nf = #keep, #out
  if ns > 16 or nf > 16 or n > 22 then
    E.raise("%s: %d kept and %d fast neurons: enumeration takes at most 16 of each and 22 in all", who, ns, nf)
  end
  local Sk, Sf = states(ns), states(nf)
  local a = quad(Sk, pick(Kd, keep, keep)) * -0.5 + Sk:matmul(pick(h, keep):unsqueeze(2)):squeeze(2)
  local v
  if nf == 0 then v = a else
    local bf = quad(Sf, pick(Kd, out, out)) * -0.5 + Sf:matmul(pick(h, out):unsqueeze(2)):squeeze(2)
    local A = a:unsqueeze(2) + bf:unsqueeze(1) - Sk:matmul(pick(Kd, keep, out)):matmul(Sf:t())
    v = A:logsumexp(2)                                 -- -H'(s): the fast neurons summed
  end
  local lnz = v:logsumexp(1):item()
  local c = walsh(v, ns)
  local Kp, hp = T.zeros(ns, ns), T.zeros(ns)
  local multi = 0
  for idx = 0, (1 << ns) - 1 do
    local bits, set = idx, {}
    for k = ns, 1, -1 do
      if bits & 1 == 1 then set[#set + 1] = k end
      bits = bits >> 1
    end
    local val = c[idx + 1]:item()
    if #set == 1 then hp[set[1]] = val
    elseif #set == 2 then
      Kp[set[1]][set[2]] = -val
      Kp[set[2]][set[1]] = -val
    elseif #set >= 3 then multi = math.max(multi, math.abs(val)) end
  end
  return { lnz = lnz, g = c[1]:item(), K = Kp, h = hp, multi = multi, walsh = c,
    states = Sk, p = T.exp(v - lnz), keep = keep, fast = out }
end
doc(M.ising_exact, [==[rg.ising_exact(K [, fast [, {h=}]])

Exact enumeration of a small network of binary neurons (x = +-1, weight
e^{-x^T K x / 2 + h^T x}; at most 16 kept and 16 fast neurons, 22 in
all): the fast neurons are summed out, leaving on the kept ones s the
exact effective Hamiltonian -H'(s) = ln sum_f e^{-x^T K x / 2 + h^T x},
written in the Walsh basis: -H'(s) = g + sum h'_i s_i - sum_{i<j} K'_ij
s_i s_j + (terms of three and more spins).  Returns {lnz = ln Z, g = the
constant (the shell's free energy: ln Z = g + ln Z(K', h') when no
multi-spin term is left), K = K' (diagonal 0), h = h', multi = the
largest |coefficient| of three or more spins, walsh = every coefficient
(index 1 + sum over the subset's kept neurons k of 2^(n_kept - k)),
states = {2^n_kept, n_kept} the kept states, p = their exact
probabilities, keep=, fast=}.  fast = nil or {} keeps every neuron (the
exact ln Z).]==])

return M
