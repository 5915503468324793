-- test_metrics_info.lua -- metrics.mutual_information
-- (stdlib/hebb/_metrics_info.lua): the three estimators against the exact
-- MI of correlated Gaussians, -1/2 log(1 - rho^2) per pair, their stated
-- biases, invariance of the knn estimate under monotone maps of a
-- marginal, independence, and the error messages.
local check = require "check"
local T = require "hebb.tensor"
local metrics = require "hebb.metrics"
local test, near, raises, truthy = check.test, check.near, check.raises, check.truthy
local mi = metrics.mutual_information

-- N samples of (x, y) with corr(x_i, y_i) = rho_i, independent pairs
local function pairs_of(g, N, rhos)
  local d = #rhos
  local x = g:randn(N, d)
  local r = T.tensor(rhos)
  local y = x * r + g:randn(N, d) * (-(r * r) + 1):sqrt()
  return x, y
end
local function exact(rhos)
  local s = 0
  for _, r in ipairs(rhos) do s = s - 0.5 * math.log(1 - r * r) end
  return s
end

test("gaussian_estimate_and_its_error", function()
  -- 2 + 2 dimensions, N = 4000: the stated err (delta method) is about
  -- 0.015; 4 err is the tolerance
  local g = T.Generator(1)
  local rhos = { 0.8, 0.5 }
  local x, y = pairs_of(g, 4000, rhos)
  local I, err = mi(x, y)
  near(I, exact(rhos), 4 * err, "I")
  truthy(err > 0.005 and err < 0.03, "err " .. err)
end)

test("gaussian_plugin_bias_is_dx_dy_over_2N", function()
  -- averaged over 400 samples of N = 50 independent 2 + 2 dimensional data,
  -- the plug-in's mean is dx dy / 2N = 0.04 (Wishart expansion; the exact
  -- correction makes it 0); the mean's sd is about 0.003
  local g = T.Generator(2)
  local plug, corr = 0, 0
  for _ = 1, 400 do
    local x, y = g:randn(50, 2), g:randn(50, 2)
    plug = plug + mi(x, y, { bias_correction = false }) / 400
    corr = corr + mi(x, y) / 400
  end
  near(plug, 0.04, 0.012, "plug-in bias")
  near(corr, 0, 0.012, "corrected")
end)

test("knn_estimate", function()
  -- KSG at N = 2000, k = 3: bias a few 1e-3 at rho = 0.6, sd about 0.015
  local g = T.Generator(3)
  local x, y = pairs_of(g, 2000, { 0.6 })
  near(mi(x, y, { method = "knn" }), exact { 0.6 }, 0.06, "I")
  -- y^3 carries the same information (MI is invariant under invertible
  -- maps of a marginal); knn estimates it nearly unchanged (its joint
  -- neighbourhoods change a little), the Gaussian estimate does not
  local a = mi(x, y, { method = "knn" })
  local b = mi(x, y ^ 3, { method = "knn" })
  near(b, exact { 0.6 }, 0.08, "I(x, y^3)")
  truthy(math.abs(mi(x, y ^ 3) - exact { 0.6 }) > 0.05, "the Gaussian estimate is fooled by y^3")
  truthy(math.abs(a - b) < 0.08, "knn nearly invariant")
  local ix = mi(g:randn(1500), g:randn(1500), { method = "knn" })
  near(ix, 0, 0.04, "independent")
end)

test("histogram_estimate_and_miller_madow", function()
  -- independent uniform data, N = 2000, 8 x 8 bins: the plug-in is about
  -- (8-1)^2 / 2N = 0.01225; Miller-Madow removes it
  local g = T.Generator(4)
  local plug, corr = 0, 0
  for _ = 1, 50 do
    local x, y = g:rand(2000), g:rand(2000)
    plug = plug + mi(x, y, { method = "histogram", bins = 8, bias_correction = false }) / 50
    corr = corr + mi(x, y, { method = "histogram", bins = 8 }) / 50
  end
  near(plug, 49 / 4000, 0.002, "plug-in")
  near(corr, 0, 0.002, "Miller-Madow")
end)

test("errors", function()
  raises(function() mi(T.zeros(3, 2, 2), T.zeros(3)) end,
         "metrics.mutual_information: x must be 1-d (N) or 2-d (N, d), got shape {3,2,2}")
  raises(function() mi(T.zeros(4), T.zeros(5)) end,
         "x and y must have the same number of samples, got 4 and 5")
  raises(function() mi(T.randn(10), T.randn(10), { method = "kde" }) end,
         "method must be \"gaussian\", \"knn\" or \"histogram\", got \"kde\"")
  raises(function() mi(T.randn(10), T.randn(10), { methd = "knn" }) end, "(did you mean 'method'?)")
  raises(function() mi(T.randn(10, 2), T.randn(10), { method = "histogram" }) end,
         "the histogram estimate is for 1-d x and y, got 2 and 1 dimensions")
  raises(function() mi(T.randn(4, 2), T.randn(4, 2)) end,
         "the Gaussian estimate needs at least dx + dy + 2 = 6 samples, got 4")
  raises(function() mi(T.ones(10), T.randn(10)) end, "a sample covariance is singular")
  raises(function() mi("x", T.randn(10)) end, "x must be a real tensor or a list, got \"x\"")
end)

check.done()
