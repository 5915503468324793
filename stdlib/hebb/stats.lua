-- stats.lua -- the module `hebb.stats`: error analysis of Monte Carlo
-- time series, as ALPS/ALEA users expect it.
--   mean_error / autocorr   the mean with its error from the integrated
--                           autocorrelation time (Sokal's automatic
--                           window; the loops in C, natives/core/stats.c)
--   binning                 the binning analysis and its plateau
--   jackknife / bootstrap   errors of derived quantities (specific heat,
--                           susceptibility, Binder cumulant) from blocks
--   histogram, reweight,    histograms, single-histogram reweighting
--   multihist               (Ferrenberg-Swendsen 1988) and the multiple
--                           histogram method (Ferrenberg-Swendsen 1989)
--   fit, linfit             weighted least squares with the parameter
--                           covariance, chi^2/dof and its p-value
--   measure                 an accumulator of observables during a run that
--                           prints value +- error (tau_int)
--   powerlaw_*              power-law tails (stats_powerlaw.lua): Clauset-
--                           Shalizi-Newman fits, goodness of fit, likelihood
--                           ratios against exponential and log-normal
-- A series is a 1-d tensor or a Lua list of numbers.
local T = require "hebb.tensor"
local C = require "hebb._stats"
local E = require "hebb._error"
local linalg = require "hebb.linalg"
local doc = require("hebb").doc

local M = {}
local is_tensor = T.is_tensor
local fmt = string.format
local sqrt, abs, log, exp, huge = math.sqrt, math.abs, math.log, math.exp, math.huge

-- --- series -------------------------------------------------------------------

-- a series (tensor or list) as a contiguous 1-d f64 tensor
local function series(who, x, what)
  what = what or "the series"
  if is_tensor(x) then
    if x.ndim ~= 1 then E.raise("%s: %s must be 1-d, got shape {%s}", who, what, table.concat(x.shape, ", ")) end
    if x.dtype == "c128" or x.dtype == "c64" then E.raise("%s: %s must be real, got %s", who, what, x.dtype) end
    if x.detach then x = x:detach() end
    return x:to("f64"):contiguous()
  end
  if type(x) ~= "table" then E.raise("%s: %s must be a 1-d tensor or a list of numbers, got %s", who, what, E.show(x)) end
  for i = 1, #x do
    if type(x[i]) ~= "number" then E.raise("%s: entry %d of %s is %s, not a number", who, i, what, E.show(x[i])) end
  end
  if #x == 0 then return T.zeros(0) end
  return T.tensor(x, "f64")
end
M._series = series

local function num(v) if is_tensor(v) then return v:item() end return v end

-- --- autocorrelation and the error of the mean -------------------------------------

function M.autocorr(x, opts)
  local who = "stats.autocorr"
  opts = E.checkopts(who, opts, { c = true, max_lag = true, rho = true })
  local s = series(who, x)
  if s:size(1) < 4 then E.raise("%s: %d samples are too few for an autocorrelation time (needs at least 4)", who, s:size(1)) end
  local r, rho = C.autocorr(s, opts.c or 6, opts.max_lag or 0, opts.rho)
  r.n = s:size(1)
  r.rho = rho
  return r
end
doc(M.autocorr, [==[stats.autocorr(x [, {c=6, max_lag=n/2, rho=false}])

The integrated autocorrelation time of the series x, tau_int = 1/2 +
sum_{t=1..W} rho(t), with Sokal's automatic window W: the smallest lag with
W >= c tau_int(W) (c between 4 and 10 is customary; 6 by default).  The
error of a mean of n correlated samples is then sqrt(2 tau_int var / n).
Returns a table {tau=, tau_err=, window=, converged=, mean=, var=, n=,
rho=} (rho: the normalized autocorrelation function at lags 0..W, when
opts.rho is true; tau_err: Madras-Sokal's tau sqrt(2(2W+1)/n)).
converged is false when no window up to max_lag qualified: the series is
then too short to measure tau (take the value as a lower bound).]==])

function M.mean_error(x, opts)
  local r = M.autocorr(x, opts)
  local err = r.n > 1 and sqrt(2 * r.tau * r.var / r.n) or huge
  return r.mean, err, r.tau, r
end
doc(M.mean_error, [==[stats.mean_error(x [, opts])

The mean of the series x, its standard error for correlated samples,
sqrt(2 tau_int var / n), and tau_int (and stats.autocorr's table).
opts as stats.autocorr.]==])

function M.ar1(n, tau, opts)
  local who = "stats.ar1"
  if math.type(n) ~= "integer" or n < 0 then E.raise("%s: n must be an integer >= 0, got %s", who, E.show(n)) end
  if type(tau) ~= "number" or not (tau >= 0.5) or tau == huge then
    E.raise("%s: tau = %s; an AR(1) series has tau_int >= 0.5", who, E.show(tau))
  end
  opts = E.checkopts(who, opts, { generator = true })
  local a = (2 * tau - 1) / (2 * tau + 1)
  return C.ar1(n, a, opts.generator)
end
doc(M.ar1, [==[stats.ar1(n, tau [, {generator=}])

n samples of a stationary AR(1) process x_t = a x_{t-1} + sqrt(1 - a^2)
z_t (z standard normal, unit variance) whose integrated autocorrelation
time is tau: a = (2 tau - 1)/(2 tau + 1), rho(t) = a^t.  A series with a
known answer, for testing an error analysis.]==])

-- --- binning -----------------------------------------------------------------------

function M.binning(x, opts)
  local who = "stats.binning"
  opts = E.checkopts(who, opts, { min_bins = true })
  local s = series(who, x)
  local minb = opts.min_bins or 32
  if math.type(minb) ~= "integer" or minb < 2 then E.raise("%s: min_bins must be an integer >= 2, got %s", who, E.show(minb)) end
  if s:size(1) < 2 * minb then
    E.raise("%s: %d samples are too few for a binning analysis (needs at least %d: 2 * min_bins)",
            who, s:size(1), 2 * minb)
  end
  local errs = C.binning(s, minb):totable()
  local n = s:size(1)
  -- the uncertainty of an error estimate from b bins is err / sqrt(2(b-1));
  -- the plateau starts at the first level that every later level agrees
  -- with within two of these
  local unc, bins = {}, {}
  for k = 1, #errs do
    bins[k] = n // (1 << (k - 1))
    unc[k] = errs[k] / sqrt(2 * (bins[k] - 1))
  end
  local start
  for k = 1, #errs - 1 do
    local ok = true
    for j = k + 1, #errs do
      if abs(errs[j] - errs[k]) > 2 * math.max(unc[j], unc[k]) then ok = false; break end
    end
    if ok then start = k; break end
  end
  local plateau = start and errs[start] or errs[#errs]
  return {
    errors = errs, bins = bins, uncertainties = unc, error = plateau,
    converged = start ~= nil, level = start or #errs,
    tau = 0.5 * (plateau / errs[1]) ^ 2, mean = num(s:mean()),
  }
end
doc(M.binning, [==[stats.binning(x [, {min_bins=32}])

The binning analysis of the series x: the standard error of the mean
computed from bins of 1, 2, 4, ... consecutive samples, while at least
min_bins bins remain.  For correlated data the errors grow with the bin size
and level off (the plateau) once bins are longer than the correlation time.
Returns {errors=, bins=, uncertainties=, error=, converged=, level=, tau=,
mean=}: error is the error at the plateau's first level (the first level
all later ones agree with within twice their uncertainty err/sqrt(2(b-1))),
converged false when there is no plateau (the series is too short: the
error is then a lower bound), tau = (error/errors[1])^2 / 2.  Fewer than
2 min_bins samples is an error.]==])

-- --- jackknife and bootstrap -----------------------------------------------------------

-- the series of data (one series, or a list of equally long series) as a
-- {k, n} tensor and whether it was a single series
local function columns(who, data)
  if is_tensor(data) or (type(data) == "table" and type(data[1]) == "number") then
    return series(who, data):unsqueeze(1), true
  end
  if type(data) ~= "table" or #data == 0 then
    E.raise("%s: data must be a series or a list of series, got %s", who, E.show(data))
  end
  local cols, n = {}, nil
  for i, d in ipairs(data) do
    cols[i] = series(who, d, "series " .. i)
    if n and cols[i]:size(1) ~= n then
      E.raise("%s: series %d has %d samples, series 1 has %d", who, i, cols[i]:size(1), n)
    end
    n = cols[i]:size(1)
  end
  return T.stack(cols), false
end

-- block means {k, nb} of the columns (the last n % nb samples dropped)
local function block_means(who, X, nb)
  local n = X:size(2)
  if math.type(nb) ~= "integer" or nb < 2 then E.raise("%s: bins must be an integer >= 2, got %s", who, E.show(nb)) end
  if n < nb then E.raise("%s: %d samples are too few for %d bins", who, n, nb) end
  local per = n // nb
  return X:narrow(2, 1, per * nb):reshape(X:size(1), nb, per):mean(3)
end

-- f applied to a column of means: numbers in, a number or a list out
local function apply(f, col, single)
  local v = col:totable()
  local r
  if single then r = f(v[1]) else r = f(table.unpack(v)) end
  if is_tensor(r) then r = r:item() end
  return r
end

local function as_list(r) if type(r) == "table" then return r, true end return { r }, false end

function M.jackknife(f, data, opts)
  local who = "stats.jackknife"
  if type(f) ~= "function" then E.raise("%s: f must be a function, got %s", who, E.show(f)) end
  opts = E.checkopts(who, opts, { bins = true })
  local X, single = columns(who, data)
  local nb = opts.bins or math.min(50, X:size(2))
  local B = block_means(who, X, nb)                   -- {k, nb}
  local total = B:sum(2, { keepdim = true })
  local loo = (total - B) / (nb - 1)                  -- leave-one-out means
  local full, isvec = as_list(apply(f, B:mean(2), single))
  local sums, sq, reps = {}, {}, {}
  for i = 1, #full do sums[i], sq[i] = 0, 0 end
  for b = 1, nb do
    local r = as_list(apply(f, loo:select(2, b), single))
    reps[b] = r
    for i = 1, #full do sums[i] = sums[i] + r[i] end
  end
  local est, err = {}, {}
  for i = 1, #full do
    local mean = sums[i] / nb
    local ss = 0
    for b = 1, nb do ss = ss + (reps[b][i] - mean) ^ 2 end
    err[i] = sqrt((nb - 1) / nb * ss)
    est[i] = nb * full[i] - (nb - 1) * mean         -- bias-corrected
  end
  if isvec then return est, err end
  return est[1], err[1]
end
doc(M.jackknife, [==[stats.jackknife(f, data [, {bins=50}])

The value of a derived quantity f(<x1>, <x2>, ...) and its jackknife error.
data is one series or a list of equally long series (samples taken at the
same times, e.g. {E, E2}); they are cut into `bins` blocks (each should be
longer than the autocorrelation time), f is evaluated on the means with
each block left out, and error = sqrt((b-1)/b sum (f_i - mean f_i)^2).
Returns the bias-corrected estimate b f(all) - (b-1) mean f_i and the
error; if f returns a list, two lists.  Example: the specific heat per
site c = beta^2 N (<e^2> - <e>^2) from per-site energies e:
  stats.jackknife(function(e, e2) return beta^2 * N * (e2 - e^2) end, {es, es:square()})]==])

function M.bootstrap(f, data, opts)
  local who = "stats.bootstrap"
  if type(f) ~= "function" then E.raise("%s: f must be a function, got %s", who, E.show(f)) end
  opts = E.checkopts(who, opts, { bins = true, samples = true, generator = true })
  local X, single = columns(who, data)
  local nb = opts.bins or math.min(50, X:size(2))
  local ns = opts.samples or 1000
  if math.type(ns) ~= "integer" or ns < 2 then E.raise("%s: samples must be an integer >= 2, got %s", who, E.show(ns)) end
  local B = block_means(who, X, nb)
  local full, isvec = as_list(apply(f, B:mean(2), single))
  local idx = T.randint(1, nb, ns, nb, { generator = opts.generator })
  local sums, sq = {}, {}
  for i = 1, #full do sums[i], sq[i] = 0, 0 end
  for s = 1, ns do
    local col = B:index_select(2, idx[s]):mean(2)
    local r = as_list(apply(f, col, single))
    for i = 1, #full do
      sums[i] = sums[i] + r[i]
      sq[i] = sq[i] + r[i] * r[i]
    end
  end
  local err = {}
  for i = 1, #full do
    local m = sums[i] / ns
    err[i] = sqrt(math.max(sq[i] / ns - m * m, 0) * ns / (ns - 1))
  end
  if isvec then return full, err end
  return full[1], err[1]
end
doc(M.bootstrap, [==[stats.bootstrap(f, data [, {bins=50, samples=1000, generator=}])

f(<x1>, ...) and its bootstrap error: the standard deviation of f over
`samples` resamplings (with replacement) of the `bins` block means of the
series in data (one series or a list, as for stats.jackknife).  Returns
f(all data) and the error (lists if f returns a list).]==])

-- --- histograms and reweighting -----------------------------------------------------------

function M.histogram(x, opts)
  local who = "stats.histogram"
  opts = E.checkopts(who, opts, { bins = true, range = true })
  local s = series(who, x)
  local bins = opts.bins or 50
  local lo, hi
  if opts.range then
    lo, hi = opts.range[1], opts.range[2]
    if type(lo) ~= "number" or type(hi) ~= "number" or not (lo < hi) then
      E.raise("%s: range must be {lo, hi} with lo < hi, got %s", who, E.show(opts.range))
    end
  else
    if s:size(1) == 0 then E.raise("%s: an empty series needs a range", who) end
    lo, hi = s:min(), s:max()
    if lo == hi then lo, hi = lo - 0.5, hi + 0.5 end
  end
  local counts = T.histc(s, bins, lo, hi)
  local edges = T.linspace(lo, hi, bins + 1)
  local centers = (edges:narrow(1, 1, bins) + edges:narrow(1, 2, bins)) / 2
  return counts, edges, centers
end
doc(M.histogram, [==[stats.histogram(x [, {bins=50, range={lo, hi}}])

A histogram of the series x: counts (f64, `bins` equal bins over range,
default the data's), the bins + 1 edges and the bin centres.  Density:
counts / (n * width).]==])

-- log sum exp of a 1-d tensor, as a number
local function lse(v)
  local m = v:max()
  if m == -huge then return -huge end
  return m + log(num((v - m):exp():sum()))
end

function M.reweight(Es, O, beta0, beta1, opts)
  local who = "stats.reweight"
  opts = E.checkopts(who, opts, { bins = true })
  local Ev = series(who, Es, "the energies")
  for _, b in ipairs({ beta0, beta1 }) do
    if type(b) ~= "number" or b ~= b then E.raise("%s: the inverse temperatures must be numbers, got %s", who, E.show(b)) end
  end
  local obs, single = O, false
  if is_tensor(O) or (type(O) == "table" and type(O[1]) == "number") then obs, single = { O }, true end
  if type(obs) ~= "table" then E.raise("%s: O must be a series or a list of series, got %s", who, E.show(O)) end
  local cols = { Ev }
  for i, o in ipairs(obs) do
    cols[i + 1] = series(who, o, "observable " .. i)
    if cols[i + 1]:size(1) ~= Ev:size(1) then
      E.raise("%s: observable %d has %d samples, the energies %d", who, i, cols[i + 1]:size(1), Ev:size(1))
    end
  end
  local db = beta1 - beta0
  -- <O>_1 = sum O e^{-db E} / sum e^{-db E}, as a function of block means
  -- of w = e^{-db (E - E0)} and w O, so the jackknife sees the whole ratio
  local E0 = num(Ev:min())
  if db < 0 then E0 = num(Ev:max()) end
  local w = (-(Ev - E0) * db):exp()
  local data = { w }
  for i = 2, #cols do data[i] = w * cols[i] end
  local function ratio(mw, ...)
    local r = {}
    for i, v in ipairs({ ... }) do r[i] = v / mw end
    return r
  end
  local val, err = M.jackknife(ratio, data, { bins = opts.bins })
  -- the effective number of samples: how much of the weight a few carry
  local ws = num(w:sum())
  local neff = ws * ws / num((w * w):sum())
  if single then return val[1], err[1], neff end
  return val, err, neff
end
doc(M.reweight, [==[stats.reweight(E, O, beta0, beta1 [, {bins=50}])

Single-histogram reweighting (Ferrenberg & Swendsen, PRL 61, 2635
(1988)): from samples (E_i, O_i) taken at inverse temperature beta0, the
average of O at beta1, <O>_1 = sum O_i e^{-(beta1-beta0) E_i} / sum
e^{-(beta1-beta0) E_i}, with a jackknife error over `bins` blocks.  O is a
series or a list of series (then lists are returned).  Also returns the
effective number of samples (sum w)^2 / sum w^2: reweighting is reliable
only while it stays a sizable fraction of n (|beta1 - beta0| of order
1/sqrt(C) where the energy histograms still overlap).]==])

-- --- multiple histograms -------------------------------------------------------------------

local Multi = {}
Multi.__index = Multi
doc(Multi, [==[Multi

The result of stats.multihist: fields run_lnZ, iterations, levels;
methods lnZ, average, energy, specific_heat.]==])

function M.multihist(runs, opts)
  local who = "stats.multihist"
  opts = E.checkopts(who, opts, { tol = true, max_iter = true })
  if type(runs) ~= "table" or #runs < 1 then E.raise("%s: runs must be a list of {beta=, E=}", who) end
  local Es, betas, counts = {}, {}, {}
  for k, r in ipairs(runs) do
    if type(r) ~= "table" or type(r.beta) ~= "number" then
      E.raise("%s: run %d must be a table {beta = number, E = series}", who, k)
    end
    Es[k] = series(who, r.E, "the energies of run " .. k)
    if Es[k]:size(1) == 0 then E.raise("%s: run %d has no samples", who, k) end
    betas[k] = r.beta
    counts[k] = Es[k]:size(1)
  end
  local all = T.cat(Es)
  -- the distinct energies and how often each occurs: the equations only
  -- need the density of states on the energies seen
  local levels, inverse, mult = T.unique(all)
  local R = #runs
  local b = T.tensor(betas):view(1, R)
  local lnN = T.tensor(counts, "f64"):log():view(1, R)
  local lnm = mult:to("f64"):log()
  local Ev = levels:view(-1, 1)
  local f = T.zeros(1, R)          -- ln Z_k
  local tol, maxit = opts.tol or 1e-12, opts.max_iter or 10000
  local lnd
  for it = 1, maxit do
    -- ln of the denominator sum_j N_j e^{-b_j E} / Z_j at every level
    lnd = (lnN - Ev * b - f):logsumexp(2)
    local fnew = (lnm:view(-1, 1) - lnd:view(-1, 1) - Ev * b):logsumexp(1):view(1, R)
    fnew = fnew - fnew[1][1]
    local change = num((fnew - f):abs():max())
    f = fnew
    if change < tol then
      local self = setmetatable({ levels = levels, lnm = lnm, lnd = lnd, run_lnZ = f:view(-1):totable(),
        betas = betas, inverse = inverse, iterations = it, samples = all }, Multi)
      return self
    end
  end
  E.raise("%s: no convergence in %d iterations (raise max_iter or tol)", who, maxit)
end
doc(M.multihist, [==[stats.multihist(runs [, {tol=1e-12, max_iter=10000}])

The multiple-histogram method (Ferrenberg & Swendsen, PRL 63, 1195
(1989)): runs = {{beta = b1, E = energies1}, {beta = b2, E = ...}, ...}
from simulations at several inverse temperatures are combined into one
estimate of the density of states, solving self-consistently for the free
energies ln Z_k (ln Z_1 = 0; mh.run_lnZ).  Returns an object with :lnZ(beta) (relative to
run 1), :average(beta, fn_or_series), :energy(beta), :specific_heat(beta, N).
Energies are grouped by distinct value (exact for the integer energies of
Ising and Potts models).  Samples are weighted equally: runs with very
different autocorrelation times should be thinned to roughly independent
samples first.]==])

-- ln of each distinct level's weight at beta: ln g(E) - beta E
local function level_weights(self, beta)
  return self.lnm - self.lnd - self.levels * beta
end

function Multi:lnZ(beta)
  return lse(level_weights(self, beta))
end
doc(Multi.lnZ, [==[mh:lnZ(beta)

ln Z(beta) - ln Z(beta_1): the free energy relative to the first run.]==])

function Multi:average(beta, O)
  local lw = level_weights(self, beta)
  local w = (lw - lw:max()):exp()
  if type(O) == "function" then
    local ov = O(self.levels)
    return num((w * ov):sum()) / num(w:sum())
  end
  -- a per-sample observable: each sample gets its level's weight / count
  local o = series("mh:average", O, "the observable")
  if o:size(1) ~= self.samples:size(1) then
    E.raise("mh:average: the observable has %d samples, the runs %d (concatenated in order)",
            o:size(1), self.samples:size(1))
  end
  local ws = (w / self.lnm:exp()):index_select(1, self.inverse)
  return num((ws * o):sum()) / num(ws:sum())
end
doc(Multi.average, [==[mh:average(beta, O)

<O> at inverse temperature beta: O a function of the energy (given the
tensor of distinct energies, returning a tensor of the same shape), or a
series of samples of O taken with the runs' energies (concatenated in the
order of the runs).]==])

function Multi:energy(beta)
  return self:average(beta, function(e) return e end)
end
doc(Multi.energy, [==[mh:energy(beta)

The average total energy at beta.]==])

function Multi:specific_heat(beta, N)
  local e = self:energy(beta)
  local e2 = self:average(beta, function(v) return v * v end)
  return beta * beta * (e2 - e * e) / (N or 1)
end
doc(Multi.specific_heat, [==[mh:specific_heat(beta [, N])

beta^2 (<E^2> - <E>^2) / N: the specific heat per site with N sites.]==])

-- --- fits --------------------------------------------------------------------------------------

-- Q(a, x) = Gamma(a, x)/Gamma(a), the upper regularized incomplete gamma:
-- the series of P for x < a + 1, Lentz's continued fraction otherwise
-- (Abramowitz & Stegun 6.5.29, 6.5.31)
local function gamma_q(a, x)
  if x <= 0 then return 1 end
  local lg = num(T.lgamma(a))
  if x < a + 1 then
    local term, sum, ap = 1 / a, 1 / a, a
    for _ = 1, 10000 do
      ap = ap + 1
      term = term * x / ap
      sum = sum + term
      if abs(term) < abs(sum) * 1e-16 then break end
    end
    return 1 - sum * exp(-x + a * log(x) - lg)
  end
  local tiny = 1e-300
  local b = x + 1 - a
  local c, d = 1 / tiny, 1 / b
  local h = d
  for i = 1, 10000 do
    local an = -i * (i - a)
    b = b + 2
    d = an * d + b
    if abs(d) < tiny then d = tiny end
    c = b + an / c
    if abs(c) < tiny then c = tiny end
    d = 1 / d
    local del = d * c
    h = h * del
    if abs(del - 1) < 1e-16 then break end
  end
  return exp(-x + a * log(x) - lg) * h
end
M._gamma_q = gamma_q

function M.chi2_pvalue(chi2, dof)
  if type(chi2) ~= "number" or chi2 < 0 then E.raise("stats.chi2_pvalue: chi2 must be a number >= 0, got %s", E.show(chi2)) end
  if math.type(dof) ~= "integer" or dof < 1 then E.raise("stats.chi2_pvalue: dof must be an integer >= 1, got %s", E.show(dof)) end
  return gamma_q(dof / 2, chi2 / 2)
end
doc(M.chi2_pvalue, [==[stats.chi2_pvalue(chi2, dof)

The probability that a chi^2 variable with dof degrees of freedom exceeds
chi2: Q(dof/2, chi2/2), the regularized upper incomplete gamma function.
A fit is suspect below ~0.01 (the model or the errors are wrong) or very
near 1 (overestimated errors).]==])

-- the fit result table from parameters, their covariance and residuals
local function fit_result(p, cov, r, ndata)
  local np = #p
  local chi2 = num((r * r):sum())
  local dof = ndata - np
  local err = {}
  for i = 1, np do err[i] = sqrt(math.max(cov[i][i], 0)) end
  return {
    params = p, errors = err, cov = T.tensor(cov), chi2 = chi2, dof = dof,
    chi2_dof = dof > 0 and chi2 / dof or 0 / 0,
    pvalue = dof > 0 and gamma_q(dof / 2, chi2 / 2) or 0 / 0,
  }
end

local function weights(who, sigma, n)
  if sigma == nil then return T.ones(n) end
  if type(sigma) == "number" then
    if not (sigma > 0) then E.raise("%s: sigma must be > 0, got %s", who, E.show(sigma)) end
    return T.full({ n }, 1 / sigma)
  end
  local s = series(who, sigma, "sigma")
  if s:size(1) ~= n then E.raise("%s: sigma has %d entries for %d data points", who, s:size(1), n) end
  if s:le(0):any() then E.raise("%s: every sigma must be > 0 (found %g)", who, s:min()) end
  return 1 / s
end

function M.linfit(X, y, sigma)
  local who = "stats.linfit"
  local yv = series(who, y, "y")
  local n = yv:size(1)
  if not is_tensor(X) or X.ndim ~= 2 or X:size(1) ~= n then
    E.raise("%s: X must be a {n, p} design matrix with n = %d rows, got %s", who, n, E.show(X))
  end
  X = X:to("f64")
  local p = X:size(2)
  if n < p then E.raise("%s: %d data points cannot fix %d parameters", who, n, p) end
  local w = weights(who, sigma, n)
  local Xw, yw = X * w:view(n, 1), yv * w
  local A = Xw:t():matmul(Xw)
  local cov = linalg.inv(A)
  local beta = cov:matmul(Xw:t():matmul(yw))
  local r = yw - Xw:matmul(beta)
  return fit_result(beta:totable(), cov:totable(), r, n)
end
doc(M.linfit, [==[stats.linfit(X, y [, sigma])

Weighted linear least squares y ~ X p: X the {n, p} design matrix (column
j holds basis function j at each point), sigma the errors of y (a number or
a series; default 1).  Returns {params=, errors=, cov=, chi2=, dof=,
chi2_dof=, pvalue=}: the parameters minimizing chi^2 = sum ((y - X p) /
sigma)^2, their covariance (X^T W X)^{-1}, W = diag(1/sigma^2).  With
sigma = 1 (unknown errors) scale errors by sqrt(chi2_dof).]==])

function M.polyfit(x, y, deg, sigma)
  local who = "stats.polyfit"
  local xv = series(who, x, "x")
  if math.type(deg) ~= "integer" or deg < 0 then E.raise("%s: deg must be an integer >= 0, got %s", who, E.show(deg)) end
  local cols = {}
  for k = 0, deg do cols[k + 1] = xv ^ k end
  return M.linfit(T.stack(cols, 2), y, sigma)
end
doc(M.polyfit, [==[stats.polyfit(x, y, deg [, sigma])

A weighted polynomial fit y ~ p1 + p2 x + ... + p_{deg+1} x^deg (lowest
power first): stats.linfit on the powers of x.]==])

-- the Jacobian of the weighted residuals by central differences
local function jacobian(resid, p, r0)
  local cols = {}
  for j = 1, #p do
    local h = 1e-6 * math.max(abs(p[j]), 1e-3)
    local pp, pm = { table.unpack(p) }, { table.unpack(p) }
    pp[j], pm[j] = p[j] + h, p[j] - h
    cols[j] = (resid(pp) - resid(pm)) / (2 * h)
  end
  return T.stack(cols, 2)
end

function M.fit(f, x, y, sigma, p0, opts)
  local who = "stats.fit"
  if type(f) ~= "function" then E.raise("%s: f must be a function f(x, p), got %s", who, E.show(f)) end
  opts = E.checkopts(who, opts, { max_iter = true, tol = true })
  local xv, yv = series(who, x, "x"), series(who, y, "y")
  local n = yv:size(1)
  if xv:size(1) ~= n then E.raise("%s: x has %d points, y %d", who, xv:size(1), n) end
  if type(p0) ~= "table" or #p0 == 0 then E.raise("%s: p0 must be a list of starting parameters", who) end
  if n < #p0 then E.raise("%s: %d data points cannot fix %d parameters", who, n, #p0) end
  local w = weights(who, sigma, n)
  local function resid(p)
    local m = f(xv, p)
    if type(m) == "number" then m = T.full({ n }, m) end
    if not is_tensor(m) or m:numel() ~= n then
      E.raise("%s: f(x, p) must return a tensor of %d values, got %s", who, n, E.show(m))
    end
    return (yv - m:view(n)) * w
  end
  local p = { table.unpack(p0) }
  local r = resid(p)
  local chi2 = num((r * r):sum())
  local lambda, tol, maxit = 1e-3, opts.tol or 1e-12, opts.max_iter or 200
  local np = #p
  for _ = 1, maxit do
    local J = jacobian(resid, p, r)
    -- residuals r = y - f: chi2 decreases along dp = (J^T J + lambda D)^{-1} (-J^T r)
    local A = J:t():matmul(J)
    local g = J:t():matmul(r)
    local improved = false
    for _ = 1, 30 do
      local Ad = A + T.eye(np) * (A:diagonal() * lambda):view(1, np)
      local dp = -linalg.solve(Ad, g:view(np, 1)):view(np)
      local trial = {}
      for j = 1, np do trial[j] = p[j] + dp[j] end
      local rt = resid(trial)
      local c2 = num((rt * rt):sum())
      if c2 <= chi2 then
        local done = chi2 - c2 <= tol * math.max(chi2, 1e-300)
        p, r, chi2 = trial, rt, c2
        lambda = math.max(lambda / 10, 1e-12)
        improved = true
        if done then
          local Jf = jacobian(resid, p, r)
          return fit_result(p, linalg.inv(Jf:t():matmul(Jf)):totable(), r, n)
        end
        break
      end
      lambda = lambda * 10
    end
    if not improved then   -- no step lowers chi^2: a minimum (to rounding)
      local Jf = jacobian(resid, p, r)
      return fit_result(p, linalg.inv(Jf:t():matmul(Jf)):totable(), r, n)
    end
  end
  E.raise("%s: no convergence in %d iterations (chi2 = %g)", who, maxit, chi2)
end
doc(M.fit, [==[stats.fit(f, x, y, sigma, p0 [, {max_iter=200, tol=1e-12}])

Weighted nonlinear least squares by Levenberg-Marquardt: minimizes chi^2 =
sum ((y_i - f(x, p)_i) / sigma_i)^2 over the parameters p, starting from the
list p0.  f(x, p) gets the tensor x and a list p and returns a tensor of
model values.  sigma: a number, a series, or nil (1).  Returns {params=,
errors=, cov=, chi2=, dof=, chi2_dof=, pvalue=}, cov = (J^T W J)^{-1} at
the minimum (J by central differences).  Example, a power law
A L^{-x}: stats.fit(function(L, p) return p[1] * L ^ (-p[2]) end, Ls, ys,
errs, {1, 1}).]==])

-- --- measure -----------------------------------------------------------------------------------------

local Measure = {}
Measure.__index = Measure

function M.measure()
  return setmetatable({ _names = {}, _data = {} }, Measure)
end
doc(M.measure, [==[stats.measure()

An accumulator of observables during a run:
  local m = stats.measure()
  for sweep = 1, n do ...; m:add("e", E / N); m:add("m", math.abs(M) / N) end
  print(m)   -- one line per observable: value +- error (tau_int = ...)
m:add(name, value) appends a sample (m:add{e = ..., m = ...} several),
m:result(name) gives mean, error, tau_int (stats.mean_error), m:series(name)
the samples as a tensor, m:names() the names in the order first added.]==])

function Measure:add(name, value)
  if type(name) == "table" then
    local keys = {}
    for k in pairs(name) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do self:add(k, name[k]) end
    return self
  end
  if type(name) ~= "string" then E.raise("measure:add: name must be a string, got %s", E.show(name)) end
  if is_tensor(value) then value = value:item() end
  if type(value) ~= "number" then E.raise("measure:add: value of %q must be a number, got %s", name, E.show(value)) end
  local d = self._data[name]
  if not d then
    d = {}
    self._data[name] = d
    self._names[#self._names + 1] = name
  end
  d[#d + 1] = value
  return self
end
doc(Measure.add, [==[m:add(name, value)  or  m:add{name = value, ...}

Appends one sample of each named observable.  Returns m.]==])

function Measure:series(name)
  local d = self._data[name]
  if not d then E.raise("measure: no observable %q (have: %s)", tostring(name), table.concat(self._names, ", ")) end
  return T.tensor(d, "f64")
end
doc(Measure.series, [==[m:series(name)

The samples of observable name, as a 1-d f64 tensor.]==])

function Measure:result(name)
  local s = self:series(name)
  if s:size(1) < 4 then return num(s:mean()), huge, 0 / 0 end
  local mean, err, tau = M.mean_error(s)
  return mean, err, tau
end
doc(Measure.result, [==[m:result(name)

Mean, standard error (from tau_int) and tau_int of observable name.]==])

function Measure:names() return { table.unpack(self._names) } end
doc(Measure.names, [==[m:names()

The names of the observables, in the order they were first added.]==])

-- value +- error with as many digits as the error supports (two
-- significant digits of the error)
function M.format(mean, err)
  if err ~= err or err == huge or err <= 0 then return fmt("%.10g", mean) end
  local digits = math.max(0, 1 - math.floor(math.log(err, 10)))
  if digits > 15 then digits = 15 end
  return fmt("%." .. digits .. "f ± %." .. digits .. "f", mean, err)
end
doc(M.format, [==[stats.format(mean, err)

"mean ± err" rounded to the error's second significant digit.]==])

function Measure:__tostring()
  local lines = {}
  for _, name in ipairs(self._names) do
    local mean, err, tau = self:result(name)
    lines[#lines + 1] = fmt("%-12s %s  (tau_int = %.3g, n = %d)", name, M.format(mean, err), tau,
                            #self._data[name])
  end
  return table.concat(lines, "\n")
end

doc(Measure, [==[Measure

The accumulator made by stats.measure(): methods add, result, series,
names; tostring prints one line per observable.]==])
M.Measure = Measure
M.Multi = Multi
require("hebb.stats_powerlaw")(M, series)
doc(M, [==[hebb.stats

Error analysis of Monte Carlo data: mean_error and autocorr (integrated
autocorrelation time, automatic window), binning (with its plateau),
jackknife and bootstrap for derived quantities, histogram, reweight (single
histogram), multihist (multiple histograms), linfit/polyfit/fit (weighted
least squares with covariance and chi^2/dof), chi2_pvalue, measure (an
accumulator printing value ± error (tau_int)), ar1 (test series with known
tau), powerlaw_fit/gof/compare/sample (power-law tails: maximum likelihood
with a KS-chosen cutoff, bootstrap goodness of fit, likelihood ratios
against exponential and log-normal tails).  Heavy loops in C.  See docs/statmech.md.]==])

return M
