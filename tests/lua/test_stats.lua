-- test_stats.lua -- hebb.stats: errors tested on synthetic AR(1) series
-- with known tau (the spread of the estimates over many seeds against the
-- stated errors), binning plateaus, jackknife/bootstrap against the delta
-- method, reweighting and multiple histograms against enumeration, fits
-- (exact recovery, error calibration over seeds, chi^2 p-values), the
-- measure accumulator, bad input, and thread counts.
--
-- Calibration checks use K seeds: the sample standard deviation of K
-- z-scores has relative uncertainty 1/sqrt(2(K-1)); the bounds below are
-- about 3.5 of those (and the seeds are fixed: a failure is a change).
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"
local S = require "hebb.stats"
local lattice = require "hebb.lattice"
local test, eq, near, raises = check.test, check.eq, check.near, check.raises

-- the sample mean and standard deviation of a Lua list
local function spread(v)
  local m, s = 0, 0
  for _, x in ipairs(v) do m = m + x end
  m = m / #v
  for _, x in ipairs(v) do s = s + (x - m) ^ 2 end
  return m, math.sqrt(s / (#v - 1))
end

test("ar1_has_the_stated_tau", function()
  local x = S.ar1(200000, 4.5, { generator = T.Generator(1) })
  local r = S.autocorr(x, { rho = true })
  near(r.tau, 4.5, 4 * r.tau_err, "tau within 4 of its stated errors")
  eq(r.converged, true, "window found")
  local a = 8 / 10   -- (2 tau - 1)/(2 tau + 1)
  near(r.rho[2], a, 0.01, "rho(1) = a")
  near(r.var, 1, 0.03, "unit variance")
end)

-- 300 series of 2^14 samples with tau = 4: the errors stated by
-- mean_error (tau_int) and by binning must match the spread of the means
test("errors_match_the_spread_over_seeds", function()
  local K, n, tau = 300, 16384, 4.0
  local z_tau, z_bin, taus, errs = {}, {}, {}, {}
  for k = 1, K do
    local x = S.ar1(n, tau, { generator = T.Generator(1000 + k) })
    local m, err, t = S.mean_error(x)
    local b = S.binning(x)
    z_tau[k] = m / err
    z_bin[k] = m / b.error
    taus[k] = t
    errs[k] = err
  end
  local _, sd = spread(z_tau)
  near(sd, 1, 3.5 / math.sqrt(2 * (K - 1)), "z-scores with tau_int errors have unit spread")
  local _, sdb = spread(z_bin)
  near(sdb, 1, 0.2, "z-scores with binning errors (plateau errors scatter more)")
  local mt, st = spread(taus)
  near(mt, tau, 4 * st / math.sqrt(K) + 0.05 * tau, "mean tau estimate")
  -- the exact error of the mean: sqrt(2 tau / n) (unit variance) up to O(tau/n)
  local me = spread(errs)
  near(me, math.sqrt(2 * tau / n), 0.03 * math.sqrt(2 * tau / n), "mean stated error")
end)

test("uncorrelated_and_constant_series", function()
  local x = T.randn(50000, { generator = T.Generator(3) })
  local m, err, tau = S.mean_error(x)
  near(tau, 0.5, 0.05, "white noise: tau = 1/2")
  near(err, 1 / math.sqrt(50000), 0.05 / math.sqrt(50000), "white noise error")
  local c = S.autocorr(T.full({ 100 }, 3.0))
  eq(c.tau, 0.5, "constant: tau 1/2")
  eq(c.var, 0, "constant: no variance")
  local list_m, list_e = S.mean_error({ 1, 2, 3, 4, 5, 6, 7, 8 })
  eq(list_m, 4.5, "a Lua list works")
  eq(list_e > 0, true, "error")
end)

test("binning_plateau", function()
  local x = S.ar1(1 << 17, 8, { generator = T.Generator(4) })
  local b = S.binning(x)
  eq(b.converged, true, "plateau found")
  near(b.tau, 8, 2.5, "tau from the plateau")
  eq(b.errors[#b.errors] > 3 * b.errors[1], true, "errors grow with the bin size")
  eq(b.bins[1], 1 << 17, "level 1: single samples")
  -- a short correlated series has no plateau
  local short = S.ar1(200, 50, { generator = T.Generator(5) })
  eq(S.binning(short, { min_bins = 16 }).converged, false, "too short: no plateau")
end)

-- the jackknife error of f(<x>) = <x>^2 against the delta method
-- 2 |mu| sigma / sqrt(n) for independent samples
test("jackknife_and_bootstrap_of_derived_quantities", function()
  local K, zj, zb = 100, {}, {}
  local mu, n = 2.0, 4000
  for k = 1, K do
    local x = T.randn(n, { generator = T.Generator(2000 + k) }) + mu
    local v, e = S.jackknife(function(m) return m * m end, x)
    local bv, be = S.bootstrap(function(m) return m * m end, x, { generator = T.Generator(k), samples = 200 })
    zj[k] = (v - mu * mu) / e
    zb[k] = (bv - mu * mu) / be
    near(e, 2 * mu / math.sqrt(n), 0.3 * 2 * mu / math.sqrt(n), "delta method")
  end
  local _, sj = spread(zj)
  local _, sb = spread(zb)
  near(sj, 1, 3.5 / math.sqrt(2 * (K - 1)), "jackknife z spread")
  near(sb, 1, 3.5 / math.sqrt(2 * (K - 1)) + 0.05, "bootstrap z spread")
  -- several series and a list result: variance = <x^2> - <x>^2
  local x = T.randn(10000, { generator = T.Generator(6) }) * 3
  local v, e = S.jackknife(function(a, b) return { b - a * a, a } end, { x, x:square() })
  near(v[1], 9, 4 * e[1], "variance")
  eq(#e, 2, "a list of errors")
end)

test("reweighting_and_multihist_match_enumeration", function()
  local lat = lattice.ising{ L = 4 }
  local X = lattice.exact
  local g = T.Generator(7)
  local runs = {}
  for _, b0 in ipairs({ 0.40, 0.48 }) do
    local s = lat:ordered(50)
    lat:wolff(s, b0, { clusters = 50, generator = g })
    local es = {}
    for i = 1, 400 do
      lat:wolff(s, b0, { clusters = 2, generator = g })
      es[i] = lat:observe(s)
    end
    -- the replicas one after the other: a series of 20000 energies
    runs[#runs + 1] = { beta = b0, E = T.stack(es):t():contiguous():view(-1) }
  end
  local ex = X.enumerate(lat, { 0.40, 0.42, 0.44, 0.48 })
  local v, e, neff = S.reweight(runs[1].E, runs[1].E, 0.40, 0.42)
  near(v, ex[2].E, 4 * e, "reweighted <E> at 0.42")
  eq(neff > 10000, true, "effective samples")
  local mh = S.multihist(runs)
  near(mh.run_lnZ[2], ex[4].lnZ - ex[1].lnZ, 0.02, "ln Z_2 - ln Z_1")
  near(mh:lnZ(0.44), ex[3].lnZ - ex[1].lnZ, 0.02, "ln Z(0.44)")
  near(mh:energy(0.44), ex[3].E, 0.1, "<E> at 0.44")
  near(mh:specific_heat(0.44, 16), ex[3].c, 0.03, "c at 0.44")
  near(mh:average(0.44, T.cat({ runs[1].E, runs[2].E })), mh:energy(0.44), 1e-10,
       "per-sample and per-level averages agree")
end)

test("histogram", function()
  local counts, edges, centers = S.histogram(T.tensor({ 0, 1, 1, 2, 3 }), { bins = 3 })
  check.same(counts, { 1, 2, 2 })
  check.same(edges, { 0, 1, 2, 3 })
  check.same(centers, { 0.5, 1.5, 2.5 })
end)

test("linfit_recovers_and_calibrates", function()
  local x = T.linspace(0, 1, 30)
  local X = T.stack({ T.ones(30), x, x * x }, 2)
  local exact = S.linfit(X, 1 + 2 * x - 3 * x * x)
  check.same(exact.params, { 1, 2, -3 }, 1e-12)
  near(exact.chi2, 0, 1e-20, "exact data: chi2 = 0")
  local K, z, chi = 200, {}, {}
  for k = 1, K do
    local y = 1 + 2 * x + T.randn(30, { generator = T.Generator(3000 + k) }) * 0.1
    local f = S.polyfit(x, y, 1, 0.1)
    z[k] = (f.params[2] - 2) / f.errors[2]
    chi[k] = f.chi2_dof
  end
  local _, sz = spread(z)
  near(sz, 1, 3.5 / math.sqrt(2 * (K - 1)), "slope z spread")
  local mc = spread(chi)
  near(mc, 1, 4 * math.sqrt(2 / 28) / math.sqrt(K), "mean chi2/dof")
end)

test("nonlinear_fit", function()
  local x = T.linspace(0, 2, 25)
  local f = function(t, p) return p[1] * (t * -p[2]):exp() + p[3] end
  local y = 2 * (x * -1.3):exp() + 0.5
  local r = S.fit(f, x, y, 0.01, { 1, 1, 0 })
  check.same(r.params, { 2, 1.3, 0.5 }, 1e-8)
  -- a linear model through fit gives linfit's answer and errors
  local yl = 1 + 2 * x + T.randn(25, { generator = T.Generator(9) }) * 0.05
  local nl = S.fit(function(t, p) return p[1] + p[2] * t end, x, yl, 0.05, { 0, 0 })
  local li = S.polyfit(x, yl, 1, 0.05)
  check.same(nl.params, li.params, 1e-9)
  check.same(nl.errors, li.errors, 1e-7)
  near(nl.chi2, li.chi2, 1e-9, "chi2")
end)

test("chi2_pvalue", function()
  near(S.chi2_pvalue(10, 10), 0.44049328506521, 1e-12, "Q(5, 5)")
  near(S.chi2_pvalue(3.841458820694124, 1), 0.05, 1e-12, "95% point of chi2_1")
  for _, c in ipairs({ 0.5, 3, 20 }) do
    near(S.chi2_pvalue(c, 2), math.exp(-c / 2), 1e-14, "dof 2: e^{-x/2}")
  end
end)

test("measure", function()
  local m = S.measure()
  local x = S.ar1(4000, 3, { generator = T.Generator(10) })
  for i = 1, 4000 do m:add("x", x[i]); m:add{ y = 2 * x[i], z = 1 } end
  local mean, err, tau = m:result("x")
  local rm, re, rt = S.mean_error(x)
  eq(mean == rm and err == re and tau == rt, true, "result = mean_error")
  check.same(m:names(), { "x", "y", "z" })
  local text = tostring(m)
  eq(text:match("^x%s+%-?%d+%.%d+ ± %d+%.%d+  %(tau_int = [%d.]+, n = 4000%)") ~= nil, true, "format: " .. text)
  eq(S.format(1.23456, 0.0123), "1.235 ± 0.012", "two digits of the error")
  eq(S.format(123.4, 5.6), "123.4 ± 5.6", "format")
  raises(function() m:series("w") end, "measure: no observable \"w\" (have: x, y, z)")
  raises(function() m:add("x", "a") end, "measure:add: value of \"x\" must be a number")
end)

test("bad_input", function()
  raises(function() S.binning(T.randn(40)) end,
         "stats.binning: 40 samples are too few for a binning analysis (needs at least 64: 2 * min_bins)")
  raises(function() S.autocorr({ 1, 2 }) end, "stats.autocorr: 2 samples are too few for an autocorrelation time")
  raises(function() S.mean_error(T.randn(3, 3)) end, "stats.autocorr: the series must be 1-d, got shape {3, 3}")
  raises(function() S.mean_error({ 1, "x", 3, 4 }) end, "entry 2 of the series is \"x\", not a number")
  raises(function() S.jackknife(function(a) return a end, T.randn(10), { bins = 20 }) end,
         "stats.jackknife: 10 samples are too few for 20 bins")
  raises(function() S.jackknife(function(a, b) return a end, { T.randn(10), T.randn(11) }) end,
         "stats.jackknife: series 2 has 11 samples, series 1 has 10")
  raises(function() S.linfit(T.ones(3, 2), T.ones(4)) end, "stats.linfit: X must be a {n, p} design matrix with n = 4 rows")
  raises(function() S.polyfit(T.ones(3), T.ones(3), 1, T.tensor({ 1, 0, 1 })) end, "every sigma must be > 0")
  raises(function() S.ar1(10, 0.2) end, "stats.ar1: tau = 0.2; an AR(1) series has tau_int >= 0.5")
  raises(function() S.autocorr(T.randn(10), { c = 0 }) end, "autocorr: the window factor c = 0 must be > 0")
end)

-- --- power-law tails (Clauset, Shalizi & Newman 2009) --------------------------

-- with xmin given, alpha-hat is the exact maximum-likelihood estimate: over
-- K seeds its z-scores must have mean 0 and spread 1 (bias (alpha-1)/m is
-- 0.04 errors at m = 2000)
test("powerlaw_fit_alpha_errors_match_the_spread", function()
  local K, z = 60, {}
  for k = 1, K do
    local x = S.powerlaw_sample(2000, 2.5, 1.0, { generator = T.Generator(500 + k) })
    local r = S.powerlaw_fit(x, { xmin = 1.0 })
    eq(r.n_tail, 2000, "every value is in the tail")
    z[k] = (r.alpha - 2.5) / r.alpha_err
  end
  local m, sd = spread(z)
  near(m, 0, 3.5 / math.sqrt(K), "mean z-score")
  near(sd, 1, 3.5 / math.sqrt(2 * (K - 1)), "spread of z-scores")
end)

-- a power-law tail above 2 on a flat body: the KS scan finds the cutoff
test("powerlaw_fit_finds_xmin", function()
  local g = T.Generator(7)
  local x = T.cat { S.powerlaw_sample(3000, 2.2, 2.0, { generator = g }), T.rand(2000, { generator = g }) * 1.9 + 0.1 }
  local r = S.powerlaw_fit(x)
  near(r.xmin, 2.0, 0.4, "xmin near the true cutoff 2")
  near(r.alpha, 2.2, 4 * r.alpha_err, "alpha within 4 errors")
  eq(r.scan.ks:size(1) > 50, true, "scanned the candidates")
  eq(tostring(r):match("^power law: alpha = ") ~= nil, true, "printable")
end)

-- under the null (a true power law, xmin given) the bootstrap p-value is
-- uniform: its mean over K seeds is 1/2 with spread sqrt(1/12)/sqrt(K)
-- (plus the bootstrap's own noise, sqrt(1/6)/sqrt(samples K))
test("powerlaw_gof_pvalues_uniform_under_the_null", function()
  local K, ps = 30, {}
  for k = 1, K do
    local g = T.Generator(900 + k)
    local x = S.powerlaw_sample(400, 3.0, 0.5, { generator = g })
    local r = S.powerlaw_fit(x, { xmin = 0.5 })
    ps[k] = S.powerlaw_gof(x, r, { samples = 60, generator = g }).p
  end
  local m = spread(ps)
  near(m, 0.5, 3.5 * math.sqrt(1 / 12 / K + 1 / 6 / (60 * K)), "mean p-value")
end)

test("powerlaw_gof_rejects_an_exponential", function()
  local g = T.Generator(3)
  local x = -T.rand(5000, { generator = g }):log()
  local r = S.powerlaw_fit(x)
  local gof = S.powerlaw_gof(x, r, { samples = 50, generator = g })
  eq(gof.p <= 0.1, true, "p <= 0.1 rules the power law out (p = " .. gof.p .. ")")
  eq(gof.ks_boot:size(1), 50, "one KS distance per synthetic set")
  local y = S.powerlaw_sample(5000, 2.5, 1, { generator = g })
  local ry = S.powerlaw_fit(y)
  eq(S.powerlaw_gof(y, ry, { samples = 50, generator = g }).p > 0.1, true, "a true power law passes")
end)

-- Vuong's test: each sample is preferred to be what it is, with both alternatives
test("powerlaw_compare_prefers_the_true_law", function()
  local g = T.Generator(11)
  local pl = S.powerlaw_sample(4000, 2.5, 1, { generator = g })
  local r = S.powerlaw_fit(pl, { xmin = 1 })
  local c = S.powerlaw_compare(pl, r, "exponential")
  eq(c.preferred, "power law", "power law over exponential")
  -- the per-value log-likelihoods of the test add up to the fit's (summed another way)
  near(c.loglik.power_law, r.loglik, 1e-9 * math.abs(r.loglik), "power-law log-likelihood")
  near(c.R, c.loglik.power_law - c.loglik.alt, 1e-9 * math.abs(c.R), "R is the log-likelihood ratio")
  local ex = -T.rand(4000, { generator = g }):log() + 1
  local re = S.powerlaw_fit(ex, { xmin = 1 })
  local ce = S.powerlaw_compare(ex, re, "exponential")
  eq(ce.preferred, "exponential", "exponential data")
  near(ce.params.lambda, 1, 5 / math.sqrt(4000), "lambda = 1/(mean - xmin)")
  eq(ce.R < 0 and ce.p < 1e-6, true, "decisively")
  -- a log-normal with mu = 0, sigma = 1, truncated at its median: its
  -- parameters come back (the truncated fit's errors are ~3x the full
  -- sample's 1/sqrt(2m) = 0.007; 0.06 is 3 of those)
  local ln = (T.randn(40000, { generator = g })):exp()
  local rl = S.powerlaw_fit(ln, { xmin = 1 })
  local cl = S.powerlaw_compare(ln, rl, "lognormal")
  eq(cl.preferred, "lognormal", "log-normal data")
  near(cl.params.mu, 0, 0.06, "mu")
  near(cl.params.sigma, 1, 0.06, "sigma")
end)

test("powerlaw_bad_input", function()
  raises(function() S.powerlaw_fit({ 1, 2, 0, 3 }) end, "stats.powerlaw_fit: x must be > 0; 1 of its 4 values are not")
  raises(function() S.powerlaw_fit(T.rand(10) + 1) end, "stats.powerlaw_fit: 10 values are too few for min_tail = 50")
  raises(function() S.powerlaw_fit(T.rand(10) + 1, { xmin = 5 }) end, "stats.powerlaw_fit: fewer than 2 values are >= xmin = 5")
  raises(function() S.powerlaw_fit(T.rand(10) + 1, { xmni = 5 }) end, "did you mean")
  raises(function() S.powerlaw_sample(10, 1, 1) end, "stats.powerlaw_sample: alpha must be a number > 1, got 1")
  raises(function() S.powerlaw_gof(T.rand(10), {}) end, "stats.powerlaw_gof: fit must be a result of stats.powerlaw_fit")
  local x = S.powerlaw_sample(100, 2, 1, { generator = T.Generator(1) })
  raises(function() S.powerlaw_compare(x, S.powerlaw_fit(x), "gamma") end,
         "stats.powerlaw_compare: alt must be \"exponential\" or \"lognormal\", got \"gamma\"")
end)

test("same_bits_at_1_and_2_threads", function()
  local x = S.ar1(300000, 20, { generator = T.Generator(11) })
  local old = hebb.threads()
  hebb.threads(1)
  local a, b = S.autocorr(x, { rho = true }), S.binning(x)
  hebb.threads(2)
  local c, d = S.autocorr(x, { rho = true }), S.binning(x)
  hebb.threads(old)
  eq(a.tau == c.tau and a.window == c.window and T.equal(a.rho, c.rho), true, "autocorr identical")
  check.same(b.errors, d.errors, 0)
end)

check.done()
