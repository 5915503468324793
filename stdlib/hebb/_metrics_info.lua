-- _metrics_info.lua -- part of `hebb.metrics` (docs/design.md, "Modules made
-- of several files"): the mutual information between two sets of samples, by
-- three estimators whose biases differ and are stated.
--
-- "gaussian": I = 1/2 (log det Sx + log det Sy - log det Sxy) from sample
--   covariances; exact in the large-sample limit for jointly Gaussian data
--   only (for other data it is the MI of the Gaussian with the same
--   covariance).  Each log det of a Wishart matrix with nu = N - 1 degrees
--   of freedom is biased by sum_i psi((nu - i + 1)/2) + d log(2/nu), about
--   -d(d+1)/(2N), so the plug-in I is biased by about dx dy / (2N); the
--   correction subtracts the exact Wishart terms.
-- "knn": Kraskov, Stoegbauer and Grassberger's first estimator (PRE 69,
--   066138 (2004)), I = psi(k) + psi(N) - <psi(nx + 1) + psi(ny + 1)> with
--   the max-norm distance eps_i to the k-th neighbour in the joint space
--   and nx, ny the neighbours strictly within eps_i in each marginal space.
--   Its bias is small and shrinks with N; it is not zero (it grows with the
--   MI and the dimension).  O(N^2) distances, computed in blocks of rows.
-- "histogram" (1-d x and y): the plug-in sum p_xy log(p_xy / p_x p_y) over
--   bins x bins equal-width cells, biased upward by about (bx - 1)(by - 1)/
--   (2N) for independent data (Miller-Madow, subtracted with the correction
--   on, counting occupied bins) and downward by the binning at large N.
local T = require "hebb.tensor"
local linalg = require "hebb.linalg"
local E = require "hebb._error"
local doc = require("hebb").doc

local M = {}
local log, sqrt = math.log, math.sqrt

local function digamma(x) return T.digamma(T.tensor { x }):item() end

local function as_samples(v, who, what)
  if type(v) == "table" then v = T.tensor(v, "f64") end
  if not T.is_tensor(v) or v.dtype == "c128" or v.dtype == "c64" then
    E.raise("%s: %s must be a real tensor or a list, got %s", who, what, E.show(v))
  end
  v = v:detach():to("f64")
  if v.ndim == 1 then v = v:reshape(v.shape[1], 1) end
  if v.ndim ~= 2 then
    E.raise("%s: %s must be 1-d (N) or 2-d (N, d), got shape {%s}", who, what,
            table.concat(v.shape, ","))
  end
  return v:contiguous()
end

-- log det of the sample covariance of x {N, d}, and its Wishart bias
local function logdet_cov(x)
  local N, d = x.shape[1], x.shape[2]
  local xc = x - x:mean(1, { keepdim = true })
  local sign, ld = linalg.slogdet(xc:t():matmul(xc) / (N - 1))
  if sign:item() <= 0 then return nil end
  local nu, bias = N - 1, 0
  for i = 1, d do bias = bias + digamma((nu - i + 1) / 2) + log(2 / nu) end
  return ld:item(), bias
end

local function gaussian_mi(x, y, corr, who)
  local N, dx, dy = x.shape[1], x.shape[2], y.shape[2]
  if N < dx + dy + 2 then
    E.raise("%s: the Gaussian estimate needs at least dx + dy + 2 = %d samples, got %d", who,
            dx + dy + 2, N)
  end
  local lx, bx = logdet_cov(x)
  local ly, by = logdet_cov(y)
  local lxy, bxy = logdet_cov(T.cat({ x, y }, 2))
  if not (lx and ly and lxy) then
    E.raise("%s: a sample covariance is singular: the samples do not spread in every direction", who)
  end
  local I = 0.5 * (lx + ly - lxy)
  if corr then I = I - 0.5 * (bx + by - bxy) end
  -- delta method: I = -1/2 sum log(1 - rho_i^2) over the canonical
  -- correlations, Var I ~ sum rho_i^2 / N (the I split evenly over them);
  -- plus the spread at independence, where 2 N I is chi^2 with dx dy
  -- degrees of freedom: Var I = dx dy / 2N^2
  local m = math.min(dx, dy)
  local r2 = 1 - math.exp(-2 * math.max(I, 0) / m)
  return I, sqrt(m * r2 / N + dx * dy / (2 * N * N))
end

-- max-norm distances between the rows of a block and all rows of x
local function maxdist(xb, x)
  local d = (xb:unsqueeze(2) - x:unsqueeze(1)):abs()
  return d:max(3)
end

local function knn_mi(x, y, k, who)
  local N = x.shape[1]
  if N < k + 2 then E.raise("%s: knn needs more than k + 1 = %d samples, got %d", who, k + 1, N) end
  local acc = 0
  local B = math.max(1, math.floor(4e6 / (N * math.max(x.shape[2], y.shape[2]))))
  for s = 1, N, B do
    local n = math.min(B, N - s + 1)
    local dx = maxdist(x:narrow(1, s, n), x)
    local dy = maxdist(y:narrow(1, s, n), y)
    -- the (k+1)-th smallest joint distance: the first is the point itself
    local eps = T.topk(T.maximum(dx, dy), k + 1, 2, { largest = false }):max(2)
    eps = eps:unsqueeze(2)
    local nx = dx:lt(eps):astype("f64"):sum(2) - 1
    local ny = dy:lt(eps):astype("f64"):sum(2) - 1
    acc = acc + (T.digamma(nx + 1) + T.digamma(ny + 1)):sum():item()
  end
  return digamma(k) + digamma(N) - acc / N
end

local function histogram_mi(x, y, bins, corr, who)
  if x.shape[2] ~= 1 or y.shape[2] ~= 1 then
    E.raise("%s: the histogram estimate is for 1-d x and y, got %d and %d dimensions", who,
            x.shape[2], y.shape[2])
  end
  local N = x.shape[1]
  local function index(v)
    local lo, hi = v:min():item(), v:max():item()
    local w = (hi - lo) / bins
    if w <= 0 then return T.zeros(N, { dtype = "i64" }) end
    return ((v:reshape(N) - lo) / w):floor():clamp(0, bins - 1):astype("i64")
  end
  local cell = index(x) * bins + index(y) + 1
  local pxy = T.zeros(bins * bins):scatter_add_(1, cell, T.ones(N)):reshape(bins, bins) / N
  local px, py = pxy:sum(2, { keepdim = true }), pxy:sum(1, { keepdim = true })
  local ok = pxy:gt(0)
  local ratio = T.where(ok, pxy / (px * py), T.ones_like(pxy))
  local I = (pxy * ratio:log()):sum():item()
  if corr then
    local occupied = function(p) return p:gt(0):astype("f64"):sum():item() end
    I = I - (occupied(pxy) - occupied(px) - occupied(py) + 1) / (2 * N)
  end
  return I
end

local mi_keys = { method = true, k = true, bins = true, bias_correction = true }

function M.mutual_information(x, y, opts)
  local who = "metrics.mutual_information"
  opts = E.checkopts(who, opts, mi_keys)
  x, y = as_samples(x, who, "x"), as_samples(y, who, "y")
  if x.shape[1] ~= y.shape[1] then
    E.raise("%s: x and y must have the same number of samples, got %d and %d", who, x.shape[1],
            y.shape[1])
  end
  E.check(who, "bias_correction", opts.bias_correction, "boolean", true)
  local corr = opts.bias_correction ~= false
  local method = opts.method or "gaussian"
  if method == "gaussian" then return gaussian_mi(x, y, corr, who) end
  if method == "knn" then return knn_mi(x, y, E.int(who, "k", opts.k or 3, 1), who) end
  if method == "histogram" then
    local bins = E.int(who, "bins", opts.bins or math.max(2, math.floor(math.sqrt(x.shape[1] / 5))), 2)
    return histogram_mi(x, y, bins, corr, who)
  end
  E.raise("%s: method must be \"gaussian\", \"knn\" or \"histogram\", got %s", who, E.show(method))
end
doc(M.mutual_information, "metrics.mutual_information(x, y [, {method=\"gaussian\", k=3, "
  .. "bins=, bias_correction=true}])  ->  I [, err]\n\nThe mutual information (nats) "
  .. "between paired samples x and y ({N} or {N, d}, one row per sample).  "
  .. "\"gaussian\": 1/2 (log det Sx + log det Sy - log det Sxy) from the sample "
  .. "covariances, its Wishart bias (about dx dy / 2N) subtracted, and err, its "
  .. "standard deviation for Gaussian data (delta method, plus the chi^2 spread "
  .. "dx dy / 2N^2 at independence; right only for jointly "
  .. "Gaussian data: otherwise the MI of the Gaussian with the same covariance).  "
  .. "\"knn\": Kraskov-Stoegbauer-Grassberger (estimator 1, max-norm, k neighbours), "
  .. "small bias for any continuous data, O(N^2) work.  \"histogram\" (1-d x, y): "
  .. "the plug-in over bins x bins cells (default floor(sqrt(N/5))) minus the "
  .. "Miller-Madow term (occupied cells - occupied x bins - occupied y bins + 1) / 2N.  "
  .. "bias_correction = false gives the plug-in values.  See docs/metrics.md.")

return M
