-- test_metrics.lua -- hebb.metrics (stdlib/hebb/metrics.lua): learning
-- metrics recovered from synthetic traces with known rate, plateau and
-- noise (white and correlated) within their stated uncertainties, and the
-- uncertainties calibrated over many seeds; reference L3 (noisy gradient
-- descent on H = h q^2 / 2: decay rate -ln(1 - gamma h) and stationary
-- variance T / (h (1 - gamma h / 2)), exact for the discrete map);
-- ensemble entropy against exact Gaussian and uniform values; the progress
-- line (silent when stdout is not a terminal).
local check = require "check"
local T = require "hebb.tensor"
local metrics = require "hebb.metrics"
local test, eq, near, raises, truthy =
  check.test, check.eq, check.near, check.raises, check.truthy
local fmt, sqrt, log, exp, pi = string.format, math.sqrt, math.log, math.exp, math.pi

-- |got - want| <= k * err, with a message giving the z-score
local function within(got, want, err, k, what)
  if not (math.abs(got - want) <= err * k) then
    error(fmt("%s: got %.8g, want %.8g, stated error %.3g (z = %.2f, allowed %g)",
              what, got, want, err, (got - want) / err, k), 2)
  end
end

local function steps(n) return T.arange(0, n - 1):to("f64") end

-- P + A exp(-k t) plus white noise of std sigma
local function white_trace(g, n, P, A, k, sigma)
  return (steps(n) * -k):exp() * A + P + g:randn(n) * sigma
end

-- AR(1) noise x_t = phi x_{t-1} + sqrt(1 - phi^2) sigma w_t (stationary
-- std sigma, integrated autocorrelation time (1 + phi) / (2 (1 - phi)))
local function ar1(g, n, phi, sigma)
  local w = g:randn(n):totable()
  local x, prev, c = {}, w[1] * sigma, sqrt(1 - phi * phi) * sigma
  x[1] = prev
  for i = 2, n do prev = phi * prev + c * w[i]; x[i] = prev end
  return T.tensor(x)
end

-- Over seeds, the root-mean-square deviation from the truth divided by the
-- root-mean-square stated error: 1 when the errors have the right size
-- (sd about 1/sqrt(2 nseeds) for Gaussian estimates).  The ratio of the two
-- sums is used rather than the mean of z^2: each error is itself estimated,
-- and an estimate that happens to come out small carries a small error, so
-- single seeds can have |z| ~ 4 and dominate mean z^2.
local function calibration(nseeds, make, truth)
  local dev2, err2 = {}, {}
  for key in pairs(truth) do dev2[key], err2[key] = 0, 0 end
  for s = 1, nseeds do
    local r = metrics.learning(make(T.Generator(1000 + s)))
    for key, want in pairs(truth) do
      dev2[key] = dev2[key] + (r[key] - want) ^ 2
      err2[key] = err2[key] + r[key .. "_err"] ^ 2
    end
  end
  local ratio = {}
  for key in pairs(truth) do ratio[key] = sqrt(dev2[key] / err2[key]) end
  return ratio
end

local function calibrated(ratio, lo, hi)
  for key, v in pairs(ratio) do
    print(fmt("# %s: rms deviation / rms stated error = %.3f", key, v))
    truthy(v > lo and v < hi, fmt("rms deviation / rms error of %s = %.3f, want %g..%g",
                                  key, v, lo, hi))
  end
end

test("white_noise_recovered", function()
  local r = metrics.learning(white_trace(T.Generator(7), 400, 0.3, 2, 0.05, 0.02))
  truthy(r.converged, "converged")
  within(r.rate, 0.05, r.rate_err, 3, "rate")
  within(r.plateau, 0.3, r.plateau_err, 3, "plateau")
  within(r.amplitude, 2, r.amplitude_err, 3, "amplitude")
  within(r.stability, 0.02, r.stability_err, 3, "stability")
  within(r.tail_mean, 0.3, r.tail_mean_err, 3, "tail mean")
  near(r.half_life, log(2) / r.rate, 1e-12, "half-life")
  eq(r.n, 400)
  -- white noise: no correlation (tau 1/2 within its error)
  within(r.tau, 0.5, r.tau_err, 3, "tau")
  -- the errors are of the size the noise implies: plateau ~ sigma/sqrt(m)
  near(r.plateau_err / (0.02 / sqrt(r.tail_n)), 1, 0.3, "plateau error scale")
end)

test("white_noise_errors_calibrated", function()
  -- 300 seeds: the ratio is 1 +- 0.04
  calibrated(calibration(300, function(g) return white_trace(g, 300, -1, 0.5, 0.08, 0.01) end,
                         { rate = 0.08, plateau = -1, stability = 0.01 }), 0.8, 1.25)
end)

test("correlated_noise_recovered_and_calibrated", function()
  local n, phi, sigma = 2000, 0.8, 0.02
  local tau = (1 + phi) / (2 * (1 - phi))
  local r = metrics.learning((steps(n) * -0.01):exp() + 0.3 + ar1(T.Generator(3), n, phi, sigma))
  within(r.tau, tau, r.tau_err, 3, "autocorrelation time")
  within(r.rate, 0.01, r.rate_err, 3, "rate")
  within(r.plateau, 0.3, r.plateau_err, 3, "plateau")
  within(r.stability, sigma, r.stability_err, 3, "stability")
  -- without the 2 tau scaling these errors would be 3x too small
  -- 150 seeds: 1 +- 0.06
  calibrated(calibration(150, function(g)
    return (steps(n) * -0.01):exp() + 0.3 + ar1(g, n, phi, sigma)
  end, { rate = 0.01, plateau = 0.3, stability = sigma }), 0.75, 1.3)
end)

test("table_and_tensor_agree_and_options", function()
  local y = white_trace(T.Generator(11), 200, 1, 1, 0.1, 0.01)
  local a, b = metrics.learning(y), metrics.learning(y:totable())
  eq(a.rate, b.rate)
  eq(a.plateau_err, b.plateau_err)
  -- dt: the same trace sampled every 0.5 time units decays twice as fast
  local c = metrics.learning(y, { dt = 0.5 })
  near(c.rate / a.rate, 2, 1e-6, "rate per unit of t")
  -- start: skipping points keeps rate and plateau
  local d = metrics.learning(y, { start = 11 })
  eq(d.n, 190)
  within(d.rate, 0.1, d.rate_err, 3, "rate from start = 11")
  -- a list may hold one-element tensors (losses kept as 0-d tensors)
  local mixed = y:totable()
  for i = 1, #mixed, 3 do mixed[i] = T.tensor(mixed[i]) end
  eq(metrics.learning(mixed).rate, a.rate, "list with 0-d tensors")
  -- f32 traces are read as f64
  local e = metrics.learning(y:to("f32"))
  near(e.rate, a.rate, 1e-3 * a.rate, "f32 trace")
end)

test("flat_trace_not_converged", function()
  local r = metrics.learning(T.Generator(5):randn(300) * 0.1 + 2)
  within(r.tail_mean, 2, r.tail_mean_err, 3, "mean of a flat trace")
  within(r.stability, 0.1, r.stability_err, 3, "noise of a flat trace")
  -- no decay: either the search hit an edge or the rate is undetermined
  truthy(not r.converged or r.rate_err > r.rate or math.abs(r.amplitude) < 3 * r.amplitude_err,
         "a flat trace must not report a sharp rate")
end)

test("report", function()
  local r = metrics.learning(white_trace(T.Generator(7), 400, 0.3, 2, 0.05, 0.02))
  local s = tostring(r)
  eq(s, metrics.report(r))
  truthy(s:find("rate 0.050", 1, true), s)
  truthy(s:find("±", 1, true), s)
  truthy(s:find("plateau    0.300", 1, true), s)
  truthy(s:find("stability", 1, true), s)
end)

test("report_number_format", function()
  eq(metrics._pm(0.22314, 0.00043), "0.22314 ± 0.00043")
  eq(metrics._pm(0.3, 0.0123), "0.300 ± 0.012")
  eq(metrics._pm(12.5, 3.2), "12.5 ± 3.2")
  eq(metrics._pm(1234.7, 56), "1235 ± 56")
  eq(metrics._pm(12347, 560), "(1.235 ± 0.056)e4")
  eq(metrics._pm(1.00001e-4, 3.3e-8), "(1.00001 ± 0.00033)e-4")
  eq(metrics._pm(0.5, 0), "0.5")
  eq(metrics._pm(0.5, math.huge), "0.5")
end)

test("learning_errors", function()
  raises(function() metrics.learning({ 1, 2, 3 }) end, "needs at least 8 points from start = 1, got 3")
  raises(function() metrics.learning({ 1, 2, "x", 4, 5, 6, 7, 8 }) end, "trace entry 3 is a string, not a number")
  raises(function() metrics.learning({ 1, 2, T.zeros(2), 4, 5, 6, 7, 8 }) end, "trace entry 3 is a tensor of shape {2}, not a number")
  raises(function() metrics.learning(T.zeros(4, 4)) end, "the trace must be 1-d, got shape {4,4}")
  raises(function() metrics.learning("loss") end, "metrics.learning: the trace must be a list of numbers or a 1-d tensor, got \"loss\"")
  raises(function() metrics.learning({ 1, 2, 3, 0 / 0, 5, 6, 7, 8, 9 }) end, "non-finite values")
  raises(function() metrics.learning({ 1, 2, 3, 4, 5, 6, 7, 8, 9, math.huge }) end, "non-finite values")
  raises(function() metrics.learning(T.ones(20), { start = 0 }) end, "metrics.learning: start must be an integer >= 1, got 0")
  raises(function() metrics.learning(T.ones(20), { dt = -1 }) end, "metrics.learning: dt must be a finite number > 0, got -1")
  raises(function() metrics.learning(T.ones(20), 3) end, "metrics.learning: options must be a table, got 3")
end)

-- Reference L3: q <- q - gamma h q + sqrt(2 gamma T) xi on 1e4 replicas
-- from q = 1.  Exact for the discrete map: <q>_t = (1 - gamma h)^t, so the
-- decay rate is -ln(1 - gamma h) = 0.2231 per step; the stationary variance
-- is T / (h (1 - gamma h / 2)) = 0.0277778, and <H> = h Var / 2 the same.
test("reference_L3_langevin", function()
  local h, gamma, temp, R, nsteps = 2, 0.1, 0.05, 10000, 2000
  local g = T.Generator(2024)
  local q = T.ones(R)
  local amp = sqrt(2 * gamma * temp)
  local mq, mH, vq = {}, {}, {}
  for s = 1, nsteps do
    q:mul_(1 - gamma * h):add_(g:randn(R):mul_(amp))
    mq[s] = q:mean()
    mH[s] = (q * q):mean() * h / 2
    vq[s] = q:var()
  end
  local rate = -log(1 - gamma * h)
  local var = temp / (h * (1 - gamma * h / 2))
  near(rate, 0.2231, 1e-4, "the reference value itself")
  near(var, 0.0277778, 1e-7, "the reference value itself")
  local rq, rH, rv = metrics.learning(mq), metrics.learning(mH), metrics.learning(vq)
  near(rq.rate, rate, 0.02 * rate, "decay rate of <q> (2%)")
  within(rq.rate, rate, rq.rate_err, 3, "decay rate of <q>")
  near(rv.plateau, var, 0.02 * var, "stationary variance (2%)")
  within(rv.plateau, var, rv.plateau_err, 3, "stationary variance")
  near(rH.plateau, h * var / 2, 0.02 * var, "stationary <H> (2%)")
  within(rH.plateau, h * var / 2, rH.plateau_err, 3, "stationary <H>")
  -- <H> relaxes with (1 - gamma h)^2 per step
  near(rH.rate, 2 * rate, 0.02 * 2 * rate, "decay rate of <H> (2%)")
  within(rq.plateau, 0, rq.plateau_err, 3, "<q> plateau")
  -- the fluctuation of <q> over the replicas is sqrt(Var / R)
  within(rq.stability ^ 2 * R, var, 2 * rq.stability * rq.stability_err * R, 3,
         "Var from the stability of <q>")
  -- <q> is AR(1) with phi = 0.8 at stationarity: tau = (1 + phi) / (2 (1 - phi))
  within(rq.tau, 4.5, rq.tau_err, 3, "autocorrelation time of <q>")
  -- and the stationary ensemble is Gaussian with that variance
  local H, err = metrics.ensemble_entropy(q)
  within(H, 0.5 * log(2 * pi * exp(1) * var), err, 3, "ensemble entropy")
end)

-- --- ensemble entropy ----------------------------------------------------------

test("digamma_trigamma", function()
  near(metrics._digamma(1), -0.57721566490153286, 1e-13, "psi(1)")
  near(metrics._digamma(0.5), -1.9635100260214235, 1e-13, "psi(1/2)")
  near(metrics._digamma(10), 2.2517525890667211, 1e-13, "psi(10)")
  near(metrics._trigamma(1), pi * pi / 6, 1e-12, "psi'(1)")
  near(metrics._trigamma(0.5), pi * pi / 2, 1e-12, "psi'(1/2)")
  -- psi'(20) = pi^2/6 - sum_{k=1..19} 1/k^2
  near(metrics._trigamma(20), 0.05127082293520302, 1e-13, "psi'(20)")
end)

-- samples of N(0, Sigma) with Sigma = L L^T
local L3 = T.tensor { { 1, 0, 0 }, { 0.5, 2, 0 }, { -0.3, 0.2, 0.7 } }
local logdet3 = 2 * log(1 * 2 * 0.7)
local H3 = 0.5 * (3 * log(2 * pi * exp(1)) + logdet3)

test("gaussian_entropy", function()
  local x = T.matmul(T.Generator(9):randn(20000, 3), L3:t())
  local H, err = metrics.ensemble_entropy(x)
  within(H, H3, err, 3, "entropy of a 3-d Gaussian")
  -- the stated error is the exact sd of log det for Gaussian samples:
  -- 1/2 sqrt(sum_i psi'((R - i)/2)) ~ 1/2 sqrt(2 d / R)
  near(err, 0.5 * sqrt(6 / 20000), 0.02 * err, "error size")
  local H1 = metrics.ensemble_entropy(T.Generator(4):randn(5000) * 3)
  near(H1, 0.5 * log(2 * pi * exp(1) * 9), 0.05, "1-d from a list-shaped tensor")
end)

test("gaussian_entropy_bias_correction", function()
  -- R = 8 replicas in d = 3: log det of the sample covariance is biased by
  -- sum psi((R-i)/2) + d log(2/(R-1)) ~ -1; averaged over 300 ensembles the
  -- corrected estimate is unbiased, the plain one is not
  local g = T.Generator(21)
  local sum_c, sum_p, sum_e2, M = 0, 0, 0, 300
  for _ = 1, M do
    local x = T.matmul(g:randn(8, 3), L3:t())
    local Hc, err = metrics.ensemble_entropy(x)
    local Hp = metrics.ensemble_entropy(x, { bias_correction = false })
    sum_c, sum_p, sum_e2 = sum_c + Hc, sum_p + Hp, sum_e2 + err * err
  end
  local se = sqrt(sum_e2 / M / M)   -- the error of the mean over ensembles
  within(sum_c / M, H3, se, 3.5, "bias-corrected mean")
  truthy(math.abs(sum_p / M - H3) > 6 * se, "the uncorrected estimate is biased")
end)

test("histogram_entropy", function()
  local g = T.Generator(31)
  local u = g:rand(100000) * 2
  local H, err = metrics.ensemble_entropy(u, { method = "histogram" })
  within(H, log(2), math.max(err, 1e-3), 3, "uniform on [0, 2]")
  local z = g:randn(100000)
  H, err = metrics.ensemble_entropy(z, { method = "histogram" })
  within(H, 0.5 * log(2 * pi * exp(1)), err, 3, "standard normal")
  H = metrics.ensemble_entropy({ 0.1, 0.2, 0.9, 1.4, 1.9 }, { method = "histogram", bins = 2, range = { 0, 2 } })
  -- counts 2, 3 in bins of width 1: -(0.4 log 0.4 + 0.6 log 0.6) + (2 - 1)/10
  near(H, -(0.4 * log(0.4) + 0.6 * log(0.6)) + 0.1, 1e-12, "plug-in value by hand")
end)

test("entropy_errors", function()
  raises(function() metrics.ensemble_entropy(T.zeros(3, 2), { method = "knn" }) end,
         "metrics.ensemble_entropy: method must be \"gaussian\" or \"histogram\", got \"knn\"")
  raises(function() metrics.ensemble_entropy(T.ones(3, 2)) end, "needs at least d + 2 = 4 replicas, got 3")
  raises(function() metrics.ensemble_entropy(T.ones(10, 2)) end, "the sample covariance is singular")
  raises(function() metrics.ensemble_entropy(T.randn(10, 2), { method = "histogram" }) end,
         "the histogram estimate is for 1-d samples, got 2 dimensions")
  raises(function() metrics.ensemble_entropy(T.ones(10), { method = "histogram" }) end,
         "the samples span no interval")
  raises(function() metrics.ensemble_entropy(T.zeros(2, 2, 2)) end, "got shape {2,2,2}")
  raises(function() metrics.ensemble_entropy("x") end, "metrics.ensemble_entropy: samples must be a tensor or a list, got \"x\"")
end)

-- --- progress --------------------------------------------------------------

local HEBB = os.getenv("HEBB") or arg[-1]

test("progress_silent_when_not_a_terminal", function()
  local code = [[local m = require "hebb.metrics"
    local p = m.progress{total = 50, every = 1, interval = 0}
    for i = 1, 50 do p:update(i, 1 / i) end
    p:close()
    io.write("END")]]
  local f = assert(io.popen(HEBB .. " -e '" .. code .. "'", "r"))
  local out = f:read("a")
  f:close()
  eq(out, "END", "output through a pipe")
end)

test("progress_draws_on_a_terminal", function()
  local name = os.tmpname()
  local fh = assert(io.open(name, "w"))
  local p = metrics.progress { total = 5, every = 2, interval = 0, tty = true, out = fh, label = "train" }
  for i = 1, 5 do p:update(i, 0.25) end
  p:close()
  fh:close()
  fh = io.open(name, "r")
  local s = fh:read("a")
  fh:close()
  os.remove(name)
  local _, draws = s:gsub("\r", "")
  eq(draws, 4, "redraws at i = 2, 4, 5 and on close")
  truthy(s:find("train 100% ▕", 1, true), s)
  truthy(s:find("▏ 5/5  ", 1, true), s)
  truthy(s:find("it/s  elapsed 0:00  loss 0.25\27[K\n", 1, true), s)
  eq(s:sub(-4), "\27[K\n", "ends the line on close")
  -- p:close() once more does nothing
  p:close()
end)

test("progress_errors", function()
  raises(function() metrics.progress { total = 0 } end, "metrics.progress: total must be an integer >= 1, got 0")
  raises(function() metrics.progress { total = 10, every = 0 } end, "metrics.progress: every must be an integer >= 1, got 0")
  raises(function() metrics.progress(5) end, "metrics.progress: options must be a table, got 5")
end)

check.done()
