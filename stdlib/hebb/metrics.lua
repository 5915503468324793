-- metrics.lua -- the module `hebb.metrics`: learning metrics from a loss
-- trace (speed, asymptotic performance, stability, each with an
-- uncertainty), the entropy of an ensemble of replicas, the mutual
-- information between two sets of samples (its part hebb._metrics_info) and
-- a progress line for training loops.
--
-- The trace is fitted with L(t) = P + A exp(-k (t - t1)) by least squares:
-- for fixed k the model is linear in (P, A), so the fit is a 1-d search
-- over log k (a scan, then golden section), with P and A solved exactly at
-- each k ("variable projection").  Loss traces are serially correlated (one
-- replica's noise persists for a few steps), so the least-squares
-- covariance, which assumes independent residuals, is multiplied by the
-- statistical inefficiency g = 2 tau_int of the residuals, tau_int being
-- their integrated autocorrelation time with Sokal's automatic window
-- (hebb.stats.autocorr: one implementation, in C).
-- docs/metrics.md states the method and its assumptions.
local E = require "hebb._error"
local T = require "hebb.tensor"
local stats = require "hebb.stats"
local linalg = require "hebb.linalg"
local doc = require("hebb").doc

local M = {}
doc(M, "hebb.metrics\n\nLearning metrics from a loss trace (learning speed, "
  .. "asymptotic performance, stability, with uncertainties), the entropy of "
  .. "an ensemble of replicas, the mutual information between two sets of "
  .. "samples, and a progress line for training loops.  See "
  .. "docs/metrics.md for the estimators and their assumptions.")

local is_tensor = T.is_tensor
local fmt = string.format
local exp, log, sqrt, abs, floor, huge = math.exp, math.log, math.sqrt,
  math.abs, math.floor, math.huge

local function num(v)   -- a reduction's result as a Lua number
  if is_tensor(v) then return v:item() end
  return v
end

-- a trace (Lua list or 1-d real tensor) as a contiguous f64 tensor
local function trace_tensor(trace, who)
  if is_tensor(trace) then
    if trace.ndim ~= 1 then
      E.raise("%s: the trace must be 1-d, got shape {%s}", who,
                table.concat(trace.shape, ","))
    end
    if trace.dtype == "c128" or trace.dtype == "c64" then
      E.raise("%s: the trace must be real, got dtype %s", who, trace.dtype)
    end
    if trace.detach then trace = trace:detach() end
    return trace:to("f64"):contiguous()
  end
  if type(trace) ~= "table" then
    E.raise("%s: the trace must be a list of numbers or a 1-d tensor, got %s",
              who, E.show(trace))
  end
  local list = trace
  for i = 1, #trace do
    local v = trace[i]
    if type(v) ~= "number" then
      -- one-element tensors (a loss kept as a 0-d tensor) count as numbers
      if not (is_tensor(v) and v:numel() == 1) then
        E.raise("%s: trace entry %d is a %s, not a number", who, i,
                  is_tensor(v) and "tensor of shape {" ..
                    table.concat(v.shape, ",") .. "}" or type(v))
      end
      if list == trace then list = table.move(trace, 1, #trace, 1, {}) end
      list[i] = v:item()
    end
  end
  if #list == 0 then return T.zeros(0) end
  return T.tensor(list, "f64")
end

-- --- autocorrelation ---------------------------------------------------------

-- The integrated autocorrelation time of the series x (1-d f64 tensor):
-- hebb.stats.autocorr's (Sokal's window, factor c, lags up to n/4), raised
-- to 1/2 when it comes out below (see docs/metrics.md: never shrink
-- errors).  Returns tau, its error (Madras-Sokal: tau sqrt(2 (2W + 1) /
-- n)), W and the sample variance.
local function autocorr_time(x, c)
  local n = x:size(1)
  if n < 4 then return 0.5, 0.5, 0, n > 1 and num(x:var()) or 0 end
  local r = stats.autocorr(x, { c = c, max_lag = n // 4 })
  if not (r.var > 0) then return 0.5, 0, 0, 0 end
  local tau = math.max(r.tau, 0.5)
  return tau, tau * sqrt(2 * (2 * r.window + 1) / n), r.window, r.var
end
M._autocorr_time = autocorr_time

-- mean of x (1-d f64 tensor) with its error for correlated samples
local function mean_err(x, c)
  local n = x:size(1)
  local m = num(x:mean())
  if n < 2 then return m, huge, 0.5 end
  local tau, _, _, var = autocorr_time(x, c)
  return m, sqrt(var * 2 * tau / n), tau
end

-- --- the exponential fit -----------------------------------------------------

-- The least-squares P and A at decay rate k (s = t - t1) and the residual
-- sum of squares, from sums alone (one exp and three reductions per call;
-- y is centred, which keeps RSS = Syy - Sey^2/See_c free of cancellation
-- down to about 1e-13 of itself for any trace worth fitting).
local function solve_at(k, y, sums)
  -- e = exp(-k s) on the equally spaced s = 0, dt, 2 dt, ... as running
  -- products of exp(-k dt): one pass, 30x faster than exp (relative error
  -- ~1e-16 per step, 3e-12 after 1e5 steps)
  local q = sums.q
  q:fill_(exp(-k * sums.dt))
  q[1] = 1
  local e = q:cumprod()
  local n, Syy = sums.n, sums.Syy
  local Se, See, Sey = num(e:sum()), num(T.dot(e, e)), num(T.dot(e, y))
  local See_c = See - Se * Se / n
  local A, R = 0, Syy
  if See_c > 1e-12 * See then   -- otherwise e is constant: no decay resolved
    A = Sey / See_c
    R = math.max(Syy - A * Sey, 0)
  end
  return sums.mean - A * Se / n, A, R, e
end

-- 3x3 inverse (Gauss-Jordan with partial pivoting); nil when singular
local function inv3(a)
  local m = {}
  for i = 1, 3 do m[i] = { a[i][1], a[i][2], a[i][3], i == 1 and 1 or 0,
                           i == 2 and 1 or 0, i == 3 and 1 or 0 } end
  for col = 1, 3 do
    local p = col
    for r = col + 1, 3 do if abs(m[r][col]) > abs(m[p][col]) then p = r end end
    if m[p][col] == 0 then return nil end
    m[col], m[p] = m[p], m[col]
    local piv = m[col][col]
    for j = 1, 6 do m[col][j] = m[col][j] / piv end
    for r = 1, 3 do
      if r ~= col then
        local f = m[r][col]
        for j = 1, 6 do m[r][j] = m[r][j] - f * m[col][j] end
      end
    end
  end
  return { { m[1][4], m[1][5], m[1][6] }, { m[2][4], m[2][5], m[2][6] },
           { m[3][4], m[3][5], m[3][6] } }
end

local function fit_decay(s, y, opts)
  local n = y:size(1)
  local span = num(s:max())
  local dt = span / (n - 1)
  local mean = num(y:mean())
  local yc = y - mean
  local sums = { n = n, mean = mean, Syy = num(T.dot(yc, yc)), dt = dt,
                 q = T.empty(n) }
  -- the scan: from a decay time of 100 spans (no visible decay) to one of
  -- 1/30 of a step (gone after the first point)
  local lo, hi = log(0.01 / span), log(30 / dt)
  if opts.rate_min then lo = log(opts.rate_min) end
  if opts.rate_max then hi = log(opts.rate_max) end
  local npts = 61
  local function rss(u) local _, _, r = solve_at(exp(u), yc, sums); return r end
  local best, bu, us = huge, lo, {}
  for i = 0, npts - 1 do
    local u = lo + (hi - lo) * i / (npts - 1)
    us[i] = u
    local r = rss(u)
    if r < best then best, bu = r, i end
  end
  local converged = bu > 0 and bu < npts - 1
  -- golden section between the scan's neighbours of the best point
  local a, b = us[math.max(bu - 1, 0)], us[math.min(bu + 1, npts - 1)]
  local g = (sqrt(5) - 1) / 2
  local x1, x2 = b - g * (b - a), a + g * (b - a)
  local f1, f2 = rss(x1), rss(x2)
  for _ = 1, 80 do
    if b - a < 1e-8 then break end   -- k to 1e-8 relative
    if f1 < f2 then
      b, x2, f2 = x2, x1, f1
      x1 = b - g * (b - a); f1 = rss(x1)
    else
      a, x1, f1 = x1, x2, f2
      x2 = a + g * (b - a); f2 = rss(x2)
    end
  end
  local k = exp((a + b) / 2)
  local P, A, _, e = solve_at(k, yc, sums)
  local r = y - e * A - P
  local R = num(T.dot(r, r))
  -- the Jacobian's columns: dL/dP = 1, dL/dA = e, dL/dk = -A s e
  local Jk = e * s * -A
  local Se, See = num(e:sum()), num(T.dot(e, e))
  local Sk, Sek, Skk = num(Jk:sum()), num(T.dot(e, Jk)), num(T.dot(Jk, Jk))
  local cov = inv3 { { n, Se, Sk }, { Se, See, Sek }, { Sk, Sek, Skk } }
  return { k = k, P = P, A = A, rss = R, resid = r, cov = cov,
           converged = converged }
end

-- --- metrics.learning --------------------------------------------------------

local Learning = {}
Learning.__index = Learning

-- "0.2231 ± 0.0004": the error to two significant digits, the value to
-- match; "(1.00001 ± 0.00033)e-4" when fixed notation would need more than
-- 8 decimals (or the value is huge)
local function pm(v, e)
  if v == nil then return "n/a" end
  if not e or e ~= e or e == huge or e <= 0 then return fmt("%.6g", v) end
  local ee = floor(log(e, 10))
  local d = 1 - ee
  if d >= 0 and d <= 8 and abs(v) < 1e6 then
    return fmt("%." .. d .. "f ± %." .. d .. "f", v, e)
  end
  local ev = v ~= 0 and floor(log(abs(v), 10)) or ee
  local p = math.max(ev - ee + 1, 1)
  local scale = 10.0 ^ ev
  return fmt("(%." .. p .. "f ± %." .. p .. "f)e%d", v / scale, e / scale, ev)
end
M._pm = pm

function M.report(r)
  if getmetatable(r) ~= Learning then
    E.raise("metrics.report: expected the result of metrics.learning, got %s", E.show(r))
  end
  local unit = r.unit or "step"
  local lines = {
    fmt("learning metrics: %d points%s", r.n,
        r.converged and "" or "  (decay not resolved: the rate is at the edge "
          .. "of the search range)"),
    fmt("  speed      rate %s per %s  (half-life %.4g %ss)", pm(r.rate, r.rate_err),
        unit, r.half_life, unit),
    fmt("  plateau    %s", pm(r.plateau, r.plateau_err)),
    fmt("  stability  %s  (std around the fit over the last %d points)",
        pm(r.stability, r.stability_err), r.tail_n),
    fmt("  residual autocorrelation time %.3g %ss (errors scaled by %.3g)",
        r.tau, unit, sqrt(2 * r.tau)),
  }
  return table.concat(lines, "\n")
end
doc(M.report, "metrics.report(r)\n\nThe result of metrics.learning as "
  .. "readable lines (also what tostring(r) gives).")
Learning.__tostring = M.report
Learning.report = M.report

local learning_keys = { start = true, dt = true, window = true, rate_min = true,
                        rate_max = true, unit = true }

function M.learning(trace, opts)
  local who = "metrics.learning"
  opts = E.checkopts(who, opts, learning_keys)
  local y = trace_tensor(trace, who)
  local start = E.int(who, "start", opts.start or 1, 1)
  local dt = E.num(who, "dt", opts.dt or 1, 0, true)
  local c = E.num(who, "window", opts.window or 6, 0, true)
  if opts.rate_min ~= nil then E.num(who, "rate_min", opts.rate_min, 0, true) end
  if opts.rate_max ~= nil then E.num(who, "rate_max", opts.rate_max, 0, true) end
  E.check(who, "unit", opts.unit, "string", true)
  local n = y:size(1) - start + 1
  if n < 8 then
    E.raise("%s: needs at least 8 points from start = %d, got %d", who,
              start, math.max(n, 0))
  end
  y = y:narrow(1, start, n):contiguous()
  if (y - y):ne(0):any() then   -- inf - inf and nan - nan are nan
    E.raise("%s: the trace holds non-finite values (nan or inf)", who)
  end
  local s = T.arange(0, n - 1):to("f64") * dt
  local f = fit_decay(s, y, opts)
  -- the residuals' correlation inflates every variance by g = 2 tau
  local tau, tau_err = autocorr_time(f.resid, c)
  local g = 2 * tau
  local var = f.rss / (n - 3) * g
  local function err(i)
    if not f.cov or f.cov[i][i] < 0 then return huge end
    return sqrt(var * f.cov[i][i])
  end
  -- the plateau region: 5 decay times after the start (at least the last
  -- quarter, at least 8 points)
  local first = 1
  if f.converged then first = floor(5 / (f.k * dt)) + 1 end
  first = math.min(first, n - math.max(8, n // 4) + 1)
  local tail = f.resid:narrow(1, first, n - first + 1)
  local m = tail:size(1)
  local sd = tail - tail:mean()
  local sq = sd * sd
  local s2, s2_err = mean_err(sq, c)
  s2 = s2 * m / (m - 1)
  local stab = sqrt(s2)
  local ymean, ymean_err = mean_err(y:narrow(1, first, m), c)
  local r = setmetatable({
    rate = f.k, rate_err = err(3),
    plateau = f.P, plateau_err = err(1),
    amplitude = f.A, amplitude_err = err(2),
    stability = stab, stability_err = stab > 0 and s2_err / (2 * stab) or 0,
    half_life = log(2) / f.k,
    tail_mean = ymean, tail_mean_err = ymean_err,
    tail_start = start + first - 1, tail_n = m,
    tau = tau, tau_err = tau_err,
    n = n, converged = f.converged, rss = f.rss, unit = opts.unit,
  }, Learning)
  return r
end
doc(M.learning, "metrics.learning(trace [, {start=1, dt=1, window=6, "
  .. "rate_min=, rate_max=, unit=}])\n\nFits L(t) = P + A exp(-k (t - t1)) to "
  .. "the trace (a Lua list or a 1-d tensor, one value per step of size dt, "
  .. "from entry start on) by least squares and returns a table: rate = k "
  .. "(learning speed, per unit of t) and rate_err, plateau = P (asymptotic "
  .. "performance) and plateau_err, stability (std of the fluctuations around "
  .. "the fit after 5 decay times, at least the last quarter) and "
  .. "stability_err, amplitude(_err), half_life, tail_mean(_err) (the plain "
  .. "mean over that region), tail_start, tail_n, tau (integrated "
  .. "autocorrelation time of the residuals, in steps) and converged (false "
  .. "when the best rate lies at the edge of the search range).  The errors "
  .. "are least-squares errors scaled by 2 tau for correlated noise.  "
  .. "tostring(r) or metrics.report(r) formats it.")

-- --- ensemble entropy --------------------------------------------------------

-- digamma and trigamma: recurrence up to x >= 10, then the asymptotic series
-- (its first omitted term is below 1e-13 there)
local function digamma(x)
  local r = 0
  while x < 10 do r = r - 1 / x; x = x + 1 end
  local f = 1 / (x * x)
  return r + log(x) - 0.5 / x
    - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))))
end

local function trigamma(x)
  local r = 0
  while x < 10 do r = r + 1 / (x * x); x = x + 1 end
  local f = 1 / (x * x)
  return r + 1 / x + f / 2
    + f / x * (1 / 6 - f * (1 / 30 - f * (1 / 42 - f * (1 / 30))))
end
M._digamma, M._trigamma = digamma, trigamma

local function samples_tensor(samples, who)
  local x
  if is_tensor(samples) then
    if samples.dtype == "c128" or samples.dtype == "c64" then
      E.raise("%s: samples must be real, got dtype %s", who, samples.dtype)
    end
    if samples.detach then samples = samples:detach() end
    x = samples:to("f64")
  elseif type(samples) == "table" then
    x = T.tensor(samples, "f64")
  else
    E.raise("%s: samples must be a tensor or a list, got %s", who,
              E.show(samples))
  end
  if x.ndim == 1 then x = x:view(x:size(1), 1) end
  if x.ndim ~= 2 then
    E.raise("%s: samples must be 1-d (R) or 2-d (R, d), got shape {%s}", who,
              table.concat(x.shape, ","))
  end
  return x
end

local function gaussian_entropy(x, opts, who)
  local R, d = x:size(1), x:size(2)
  if R < d + 2 then
    E.raise("%s: the Gaussian estimate needs at least d + 2 = %d replicas, "
              .. "got %d", who, d + 2, R)
  end
  local xc = x - x:mean(1, { keepdim = true })
  local S = T.matmul(xc:t(), xc) / (R - 1)
  local sign, logdet = linalg.slogdet(S)
  sign, logdet = num(sign), num(logdet)
  if sign <= 0 then
    E.raise("%s: the sample covariance is singular (rank < %d): the "
              .. "replicas do not spread in every direction", who, d)
  end
  -- (R - 1) S is Wishart with nu = R - 1 degrees of freedom:
  -- E log det S = log det Sigma + sum_i psi((nu - i + 1)/2) + d log(2/nu),
  -- Var log det S = sum_i psi'((nu - i + 1)/2)
  local nu, bias, var = R - 1, 0, 0
  for i = 1, d do
    bias = bias + digamma((nu - i + 1) / 2) + log(2 / nu)
    var = var + trigamma((nu - i + 1) / 2)
  end
  if opts.bias_correction ~= false then logdet = logdet - bias end
  return 0.5 * (d * log(2 * math.pi * math.exp(1)) + logdet), 0.5 * sqrt(var)
end

local function histogram_entropy(x, opts, who)
  local R = x:size(1)
  if x:size(2) ~= 1 then
    E.raise("%s: the histogram estimate is for 1-d samples, got %d "
              .. "dimensions (use method = \"gaussian\")", who, x:size(2))
  end
  x = x:view(R)
  local bins = E.int(who, "bins", opts.bins or math.max(1, math.ceil(2 * R ^ (1 / 3))), 1)
  local lo, hi = num(x:min()), num(x:max())
  if opts.range then
    local r = opts.range
    if type(r) ~= "table" or type(r[1]) ~= "number" or type(r[2]) ~= "number" then
      E.raise("%s: range must be a table {lo, hi} of two numbers, got %s", who, E.show(r))
    end
    lo, hi = r[1], r[2]
  end
  if not (hi > lo) then
    E.raise("%s: the samples span no interval (min = max = %g)", who, lo)
  end
  local width = (hi - lo) / bins
  local idx = ((x - lo) / width):floor():clamp(0, bins - 1):to("i64") + 1
  local counts = T.zeros(bins):scatter_add_(1, idx, T.ones(R)):totable()
  local H, H2, used = 0, 0, 0
  for j = 1, bins do
    local c = counts[j]
    if c > 0 then
      local p = c / R
      local l = -log(p / width)
      H, H2, used = H + p * l, H2 + p * l * l, used + 1
    end
  end
  local err = sqrt(math.max(H2 - H * H, 0) / R)
  if opts.bias_correction ~= false then H = H + (used - 1) / (2 * R) end
  return H, err
end

local entropy_keys = { method = true, bins = true, range = true, bias_correction = true }

function M.ensemble_entropy(samples, opts)
  local who = "metrics.ensemble_entropy"
  opts = E.checkopts(who, opts, entropy_keys)
  E.check(who, "bias_correction", opts.bias_correction, "boolean", true)
  local x = samples_tensor(samples, who)
  local method = opts.method or "gaussian"
  if method == "gaussian" then return gaussian_entropy(x, opts, who) end
  if method == "histogram" then return histogram_entropy(x, opts, who) end
  E.raise("%s: method must be \"gaussian\" or \"histogram\", got %s", who,
            E.show(method))
end
doc(M.ensemble_entropy, "metrics.ensemble_entropy(samples [, {method="
  .. "\"gaussian\", bins=, range=, bias_correction=true}])  ->  H, err\n\n"
  .. "The differential entropy (nats) of the distribution a population of "
  .. "replicas samples: samples is (R) or (R, d), one row per replica.  "
  .. "\"gaussian\": H = 1/2 log det(2 pi e Sigma) with Sigma the sample "
  .. "covariance, corrected for the bias of log det of a Wishart matrix, err "
  .. "its exact standard deviation for Gaussian samples (exact for Gaussian "
  .. "ensembles, an upper bound otherwise).  \"histogram\" (1-d): the "
  .. "plug-in estimate -sum p log(p / width) over bins (default ceil(2 "
  .. "R^(1/3)) over [min, max] or range) with the Miller-Madow correction "
  .. "(m - 1)/(2R), err its sampling error.")

-- --- progress line -----------------------------------------------------------

-- the progress bar of hebb.progress, on stdout, its live value the loss
function M.progress(opts)
  return require("hebb.progress")._new("metrics.progress", opts,
                                       { value = "loss", out = io.stdout })
end
doc(M.progress, "metrics.progress{total=, every=1, label=, interval=0.1, tty=, "
  .. "out=io.stdout}\n\nA progress bar for a training loop: hebb.progress's bar "
  .. "on stdout whose live value is the loss: p:update(i, loss), p:close() (also "
  .. "on leaving a `local p <close>` scope).  Drawn only when stdout is a "
  .. "terminal (not in notebooks, pipes, CI); tty = true/false overrides the "
  .. "check.  See progress.new.")

require("hebb._parts").install(M, { "hebb._metrics_info" }, "hebb.metrics")

return M
