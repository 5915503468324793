-- stats_powerlaw.lua -- power-law tails, installed into hebb.stats by
-- stats.lua: maximum-likelihood fits of p(x) ~ x^-alpha above a cutoff
-- xmin chosen by the Kolmogorov-Smirnov distance, a bootstrap goodness of
-- fit, and likelihood-ratio (Vuong) comparisons with exponential and
-- log-normal tails, after Clauset, Shalizi and Newman, "Power-law
-- distributions in empirical data", SIAM Review 51, 661 (2009) (CSN below).
-- Continuous data only.  The xmin scan is tensor work: every candidate
-- cutoff's KS distance comes from one pass over a (candidates x n) block.
local T = require "hebb.tensor"
local E = require "hebb._error"
local doc = require("hebb").doc

local sqrt, log, exp, abs, huge = math.sqrt, math.log, math.exp, math.abs, math.huge
local fmt = string.format

return function(M, series)

-- x as a sorted f64 tensor of positive values
local function sorted_positive(who, x)
  local s = series(who, x, "x")
  local n = s:size(1)
  if n < 2 then E.raise("%s: %d values are too few for a fit", who, n) end
  local bad = s:gt(0):logical_not():sum()
  if bad > 0 then E.raise("%s: x must be > 0; %d of its %d values are not", who, bad, n) end
  return (T.sort(s))
end

-- suffix sums of the logs: SL[k] = sum_{i >= k} L[i]
local function suffix_sums(L) return T.flip(T.flip(L):cumsum(1)) end

-- alpha-hat (CSN eq. 3.1) and the KS distance of the tails that start at
-- the sorted positions in the i64 tensor k.  The model CDF at x_i is
-- 1 - (x_i/x_k)^(1 - alpha); the empirical one steps from j/m to (j+1)/m.
local CHUNK = 2 ^ 20   -- elements per (candidates x n) block: 8 MB of f64
local function scan(L, SL, k)
  local n, nk = L:size(1), k:size(1)
  local per = math.max(1, CHUNK // n)
  local alphas, ds = {}, {}
  for c0 = 1, nk, per do
    local kc = k:narrow(1, c0, math.min(per, nk - c0 + 1))
    local C = kc:size(1)
    local m = (-kc + (n + 1)):to("f64"):view(C, 1)
    local Lk = L:index_select(1, kc):view(C, 1)
    local alpha = (m / (SL:index_select(1, kc):view(C, 1) - m * Lk)) + 1
    local j = T.arange(0, n - 1):view(1, n)
    local idx = T.clamp(j + kc:view(C, 1), 1, n)
    local Li = L:index_select(1, idx:view(-1)):view(C, n)
    local P = -((Li - Lk) * (-alpha + 1)):exp() + 1
    local jf = j:to("f64")
    local D = T.maximum((jf + 1) / m - P, P - jf / m)
    D = D:masked_fill(jf:ge(m), 0):max(2)
    alphas[#alphas + 1] = alpha:view(C)
    ds[#ds + 1] = D:masked_fill(alpha:view(C):le(1), huge)   -- all tail values equal
  end
  return T.cat(alphas), T.cat(ds)
end

local Fit = {}
Fit.__index = Fit
function Fit:__tostring()
  return fmt("power law: alpha = %s above xmin = %.6g (%d of %d values in the tail); KS distance %.4g",
    M.format(self.alpha, self.alpha_err), self.xmin, self.n_tail, self.n, self.ks)
end

-- the fit of sorted values s with options o (xmin, candidates, min_tail)
local function fit_sorted(who, s, o)
  local n = s:size(1)
  local L = s:log()
  local SL = suffix_sums(L)
  local k
  if o.xmin then
    k = T.tensor({ T.searchsorted(s, o.xmin) }, "i64")
    if k[1] > n - 1 then E.raise("%s: fewer than 2 values are >= xmin = %g", who, o.xmin) end
  else
    local kmax = n - o.min_tail + 1
    if kmax < 1 then E.raise("%s: %d values are too few for min_tail = %d", who, n, o.min_tail) end
    local nc = math.min(o.candidates, kmax)
    local pos = T.linspace(1, kmax, nc):round():to("i64")
    -- each candidate cutoff is a data value; its tail is every value >= it
    k = T.unique(T.searchsorted(s, s:index_select(1, pos)))
  end
  local alphas, ds = scan(L, SL, k)
  local best = ds:argmin()
  local kb = k[best]
  local m = n - kb + 1
  local alpha, xmin = alphas[best], s[kb]
  local sumlog = SL[kb] - m * L[kb]
  local r = setmetatable({
    alpha = alpha, alpha_err = (alpha - 1) / sqrt(m), xmin = xmin, n_tail = m, n = n,
    ks = ds[best], loglik = m * log(alpha - 1) - m * log(xmin) - alpha * sumlog,
    fixed_xmin = o.xmin ~= nil, candidates = o.candidates, min_tail = o.min_tail,
  }, Fit)
  if not o.xmin then r.scan = { xmin = s:index_select(1, k), ks = ds, alpha = alphas } end
  return r
end

local function fit_options(who, opts)
  opts = E.checkopts(who, opts, { xmin = true, candidates = true, min_tail = true })
  local o = { xmin = opts.xmin, candidates = opts.candidates or 100, min_tail = opts.min_tail or 50 }
  if o.xmin ~= nil and (type(o.xmin) ~= "number" or not (o.xmin > 0) or o.xmin == huge) then
    E.raise("%s: xmin must be a number > 0, got %s", who, E.show(o.xmin))
  end
  for _, key in ipairs { "candidates", "min_tail" } do
    if math.type(o[key]) ~= "integer" or o[key] < 2 then
      E.raise("%s: %s must be an integer >= 2, got %s", who, key, E.show(o[key]))
    end
  end
  return o
end

function M.powerlaw_fit(x, opts)
  local who = "stats.powerlaw_fit"
  local o = fit_options(who, opts)
  return fit_sorted(who, sorted_positive(who, x), o)
end
doc(M.powerlaw_fit, [==[stats.powerlaw_fit(x [, {xmin=, candidates=100, min_tail=50}])

The maximum-likelihood power law p(x) = (alpha - 1)/xmin (x/xmin)^-alpha
for the values x >= xmin of the positive sample x (Clauset, Shalizi and
Newman, SIAM Rev. 51, 661 (2009)): alpha = 1 + m / sum ln(x_i/xmin) over
the m tail values, with the standard error (alpha - 1)/sqrt(m).  Without
xmin, the cutoff is the data value that minimizes the Kolmogorov-Smirnov
distance between the tail and its fitted law, among `candidates` values at
evenly spaced ranks that leave at least min_tail values in the tail.
Returns a printable table {alpha=, alpha_err=, xmin=, n_tail=, n=, ks=,
loglik=, fixed_xmin=, scan = {xmin=, ks=, alpha=} (the candidates, when
xmin was chosen)}.  A good-looking alpha is not evidence of a power law:
test it with stats.powerlaw_gof and stats.powerlaw_compare.]==])

function M.powerlaw_sample(n, alpha, xmin, opts)
  local who = "stats.powerlaw_sample"
  if math.type(n) ~= "integer" or n < 0 then E.raise("%s: n must be an integer >= 0, got %s", who, E.show(n)) end
  if type(alpha) ~= "number" or not (alpha > 1) or alpha == huge then
    E.raise("%s: alpha must be a number > 1, got %s", who, E.show(alpha))
  end
  if type(xmin) ~= "number" or not (xmin > 0) or xmin == huge then
    E.raise("%s: xmin must be a number > 0, got %s", who, E.show(xmin))
  end
  opts = E.checkopts(who, opts, { generator = true })
  local u = T.rand(n, { generator = opts.generator })
  return (-u + 1):pow(-1 / (alpha - 1)) * xmin
end
doc(M.powerlaw_sample, [==[stats.powerlaw_sample(n, alpha, xmin [, {generator=}])

n independent draws from the continuous power law p(x) = (alpha - 1)/xmin
(x/xmin)^-alpha, x >= xmin, by inversion: x = xmin (1 - u)^(-1/(alpha-1)).]==])

function M.powerlaw_gof(x, fit, opts)
  local who = "stats.powerlaw_gof"
  if getmetatable(fit) ~= Fit then E.raise("%s: fit must be a result of stats.powerlaw_fit, got %s", who, E.show(fit)) end
  opts = E.checkopts(who, opts, { samples = true, generator = true })
  local B = opts.samples or 200
  if math.type(B) ~= "integer" or B < 1 then E.raise("%s: samples must be an integer >= 1, got %s", who, E.show(B)) end
  local g = opts.generator
  local s = sorted_positive(who, x)
  local n = s:size(1)
  local nbody = n - fit.n_tail
  local body = nbody > 0 and s:narrow(1, 1, nbody) or nil
  local o = { xmin = fit.fixed_xmin and fit.xmin or nil, candidates = fit.candidates, min_tail = fit.min_tail }
  local ks, above = {}, 0
  for b = 1, B do
    -- CSN 4.1: each value comes from the fitted tail with probability
    -- n_tail/n, else from the observed values below xmin; a fixed xmin
    -- keeps the tail alone (its size fixed)
    local nt = fit.fixed_xmin and fit.n_tail or T.rand(n, { generator = g }):lt(fit.n_tail / n):sum()
    local y = M.powerlaw_sample(nt, fit.alpha, fit.xmin, { generator = g })
    if not fit.fixed_xmin and nt < n then
      y = T.cat { body:index_select(1, T.randint(1, nbody, n - nt, { generator = g })), y }
    end
    local ok, r = pcall(fit_sorted, who, (T.sort(y)), o)
    ks[b] = ok and r.ks or huge   -- a synthetic set too small to fit counts as worse
    if ks[b] >= fit.ks then above = above + 1 end
  end
  local p = above / B
  return { p = p, p_err = sqrt(math.max(p * (1 - p), 1 / B) / B), ks = fit.ks, samples = B,
           ks_boot = T.tensor(ks) }
end
doc(M.powerlaw_gof, [==[stats.powerlaw_gof(x, fit [, {samples=200, generator=}])

The goodness of fit of a power law (fit from stats.powerlaw_fit(x, ...)) by
Clauset-Shalizi-Newman's semi-parametric bootstrap: `samples` synthetic data
sets of the size of x, each value drawn from the fitted law with
probability n_tail/n and otherwise from the observed values below xmin, are
fitted the same way (xmin scanned again unless it was given), and p is the
fraction whose KS distance is at least the observed one.  Returns {p=,
p_err=, ks=, samples=, ks_boot=}.  p <= 0.1 rules the power law out; a
large p only says the data cannot rule it out (p_err ~ sqrt(p(1-p)/samples):
samples = 2500 resolves p to 0.01).]==])

-- --- alternatives: per-value log-likelihoods on the tail ----------------------

-- ln erfc(z), past erfc's underflow by the asymptotic series
local function log_erfc(z)
  if z < 25 then return log(T.erfc(T.tensor({ z })):item()) end
  local z2 = z * z
  return -z2 - log(z * sqrt(math.pi)) + log(1 - 1 / (2 * z2) + 3 / (4 * z2 * z2) - 15 / (8 * z2 ^ 3))
end

-- Nelder-Mead on a function of two numbers: the log-normal fit needs no
-- gradients and must roam (the power-law limit runs off to sigma -> inf)
local function nelder_mead(f, p, step)
  local pts = { { p[1], p[2] }, { p[1] + step[1], p[2] }, { p[1], p[2] + step[2] } }
  local fs = { f(pts[1]), f(pts[2]), f(pts[3]) }
  local function at(a, t, b) return { a[1] + t * (b[1] - a[1]), a[2] + t * (b[2] - a[2]) } end
  for _ = 1, 2000 do
    local o = { 1, 2, 3 }
    table.sort(o, function(i, j) return fs[i] < fs[j] end)
    local bi, mi, wi = o[1], o[2], o[3]
    if fs[wi] - fs[bi] <= 1e-13 * (abs(fs[bi]) + 1e-300) then break end
    local c = at(pts[bi], 0.5, pts[mi])
    local r = at(pts[wi], 2, c)
    local fr = f(r)
    if fr < fs[bi] then
      local e = at(pts[wi], 3, c)
      local fe = f(e)
      if fe < fr then pts[wi], fs[wi] = e, fe else pts[wi], fs[wi] = r, fr end
    elseif fr < fs[mi] then
      pts[wi], fs[wi] = r, fr
    else
      local k = at(pts[wi], 0.5, c)
      local fk = f(k)
      if fk < fs[wi] then
        pts[wi], fs[wi] = k, fk
      else   -- shrink towards the best point
        for _, i in ipairs { mi, wi } do pts[i] = at(pts[bi], 0.5, pts[i]); fs[i] = f(pts[i]) end
      end
    end
  end
  local best = 1
  for i = 2, 3 do if fs[i] < fs[best] then best = i end end
  return pts[best]
end

-- the log-normal truncated to x >= xmin: maximum likelihood from the sums
-- of y = ln x and y^2, with mu = y0 - b sigma^2 (b: the log-slope at the
-- cutoff, finite in the limit where the log-normal becomes a power law)
local function lognormal(y, y0)
  local m = y:size(1)
  local S1, S2 = y:sum(), (y * y):sum()
  local function nll(th)
    local b, sig = th[1], exp(th[2])
    local mu = y0 - b * sig * sig
    local lq = log_erfc(b * sig / sqrt(2)) - log(2)
    return (S1 + m * (0.5 * log(2 * math.pi) + th[2] + lq)
            + (S2 - 2 * mu * S1 + m * mu * mu) / (2 * sig * sig)) / m
  end
  local ybar = S1 / m
  local sd = sqrt(math.max(S2 / m - ybar * ybar, 1e-300))
  local b0 = (y0 - ybar) / (sd * sd)
  local th = nelder_mead(nll, { b0, log(sd) }, { math.max(abs(b0), 1 / sd) / 2, 0.5 })
  local sig = exp(th[2])
  local mu = y0 - th[1] * sig * sig
  local lq = log_erfc(th[1] * sig / sqrt(2)) - log(2)
  local ll = -y - 0.5 * log(2 * math.pi) - log(sig) - (y - mu):square() / (2 * sig * sig) - lq
  return ll, { mu = mu, sigma = sig }
end

local function exponential(x, xmin)
  local lambda = 1 / (x:mean() - xmin)
  return -(x - xmin) * lambda + log(lambda), { lambda = lambda }
end

function M.powerlaw_compare(x, fit, alt)
  local who = "stats.powerlaw_compare"
  if getmetatable(fit) ~= Fit then E.raise("%s: fit must be a result of stats.powerlaw_fit, got %s", who, E.show(fit)) end
  if alt ~= "exponential" and alt ~= "lognormal" then
    E.raise("%s: alt must be \"exponential\" or \"lognormal\", got %s", who, E.show(alt))
  end
  local s = sorted_positive(who, x)
  local tail = s:narrow(1, s:size(1) - fit.n_tail + 1, fit.n_tail)
  local y = tail:log()
  local m = fit.n_tail
  local lpl = -(y - log(fit.xmin)) * fit.alpha + (log(fit.alpha - 1) - log(fit.xmin))
  local lalt, params
  if alt == "exponential" then lalt, params = exponential(tail, fit.xmin)
  else lalt, params = lognormal(y, log(fit.xmin)) end
  local d = lpl - lalt
  local R = d:sum()
  local sd = sqrt(math.max((d - R / m):square():mean(), 1e-300))
  local z = R / (sd * sqrt(m))
  local p = T.erfc(T.tensor({ abs(z) / sqrt(2) })):item()
  local preferred = "neither"
  if p < 0.1 then preferred = R > 0 and "power law" or alt end
  return { R = R, z = z, p = p, preferred = preferred, alt = alt, params = params,
           loglik = { power_law = lpl:sum(), alt = lalt:sum() } }
end
doc(M.powerlaw_compare, [==[stats.powerlaw_compare(x, fit, alt)

Vuong's likelihood-ratio test between the power law fit (from
stats.powerlaw_fit(x, ...)) and the alternative alt = "exponential" (p(x) =
lambda e^{-lambda (x - xmin)}) or "lognormal" (truncated to x >= xmin), each
fitted by maximum likelihood to the same tail (CSN section 5).  R = sum of
ln p_pl(x_i) - ln p_alt(x_i) over the tail; z = R / (sd sqrt(n_tail)) with
sd the spread of the per-value differences; p = erfc(|z|/sqrt 2), the
probability of a |z| as large if both fit equally well.  Returns {R=, z=, p=,
preferred = "power law" | alt | "neither" (p >= 0.1), alt=, params (lambda,
or mu and sigma of ln x), loglik = {power_law=, alt=}}.]==])

end
