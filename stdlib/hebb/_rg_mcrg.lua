-- _rg_mcrg.lua -- part of hebb.rg: Monte Carlo renormalization group
-- (Swendsen, PRL 42, 859 (1979)).  From equilibrium samples of the fine
-- lattice, the block-spin hierarchy gives the operators S_a at every level
-- on the same samples; the linearized RG matrix between levels n and n+1,
--   T = B^{-1} A,  A[a, c] = <S_a^{n+1} S_c^n>_c,  B[a, c] = <S_a^{n+1} S_c^{n+1}>_c
-- (connected correlations), has eigenvalues b^{y}: the even sector gives
-- the thermal y_t, the odd one the magnetic y_h.  Errors by jackknife over
-- contiguous bins of the samples (consecutive samples are correlated; a
-- bin must be longer than the autocorrelation time).
local T = require "hebb.tensor"
local L = require "hebb.linalg"
local E = require "hebb._error"
local doc = require("hebb").doc

local M = {}
local is_tensor = T.is_tensor

-- the sector names in a fixed order: even and odd first, then the rest
local function sector_names(who, ops)
  if type(ops) ~= "table" then
    E.raise("%s: ops must be a table of sectors {name = {operators...}}, got %s", who, E.show(ops))
  end
  local names = {}
  for k, v in pairs(ops) do
    if type(k) ~= "string" or type(v) ~= "table" or #v == 0 then
      E.raise("%s: ops must map sector names to non-empty lists of operators, got %s = %s",
        who, E.show(k), E.show(v))
    end
    names[#names + 1] = k
  end
  local rank = { even = 1, odd = 2 }
  table.sort(names, function(a, b)
    local ra, rb = rank[a] or 3, rank[b] or 3
    if ra ~= rb then return ra < rb end
    return a < b
  end)
  return names
end

-- the number of levels: as many as keep the coarsest lattice at >= 8
-- sites a side (the standard operators reach 2 sites; smaller lattices
-- wrap them onto themselves)
local function default_levels(x, first, d, b)
  local n = math.huge
  for k = first, first + d - 1 do
    local Ls, l = x:size(k), 0
    while Ls % b == 0 and Ls // b >= 8 do Ls, l = Ls // b, l + 1 end
    n = math.min(n, l)
  end
  return n
end

local function check_samples(who, x, opts, b)
  if not is_tensor(x) then E.raise("%s: samples must be a tensor {B, L, ...}, got %s", who, E.show(x)) end
  local d = opts.d or x.ndim - 1
  if math.type(d) ~= "integer" or d < 1 or d + 1 ~= x.ndim then
    E.raise("%s: samples must be a batch {B, L1, ..., Ld}; d = %s does not fit a %d-d tensor",
      who, E.show(d), x.ndim)
  end
  if math.type(b) ~= "integer" or b < 2 then E.raise("%s: b must be an integer >= 2, got %s", who, E.show(b)) end
  for k = 2, x.ndim do
    if x:size(k) % b ~= 0 then
      E.raise("%s: lattice size %d (dim %d) is not divisible by b = %d", who, x:size(k), k - 1, b)
    end
  end
  return d
end

-- centred data of one sector: Z = [S^n | S^{n+1}] (B x 2m), the mean
-- removed (the correlations are differences of numbers ~N^2 otherwise)
local function centred(Sn, Sn1)
  local Z = T.cat({ Sn, Sn1 }, 2)
  return Z - Z:mean(1, { keepdim = true })
end

-- the bins' sums of Z and Z^T Z: rows of n, s (2m), P (2m x 2m)
local function bin_sums(Z, bins)
  local B, out = Z:size(1), {}
  for k = 1, bins do
    local lo, hi = (k - 1) * B // bins, k * B // bins
    local z = Z:narrow(1, lo + 1, hi - lo)
    out[k] = { n = hi - lo, s = z:sum(1), P = z:t():matmul(z) }
  end
  return out
end

-- the leading y of T = B^{-1} A truncated to the first k operators for k
-- = 1..m, and the whole spectrum (descending) at k = m
local function exponents(who, cov, m, lnb, level)
  local Bm = cov:narrow(1, m + 1, m):narrow(2, m + 1, m)
  local Am = cov:narrow(1, m + 1, m):narrow(2, 1, m)
  local lead, spec = {}, nil
  for k = 1, m do
    local Bk, Ak = Bm:narrow(1, 1, k):narrow(2, 1, k), Am:narrow(1, 1, k):narrow(2, 1, k)
    local ok, Tk = pcall(L.solve, Bk, Ak)
    local v = ok and Tk:abs():sum():item()
    if not ok or not (v < math.huge) then
      E.raise("%s: the correlation matrix of level %d is singular (frozen or too few samples?)", who, level)
    end
    local ev = T.real(L.eigvals(Tk))
    local sorted = T.sort(ev, 1, { descending = true })
    local y = {}
    for i = 1, k do
      local lam = sorted[i]
      y[i] = lam > 0 and math.log(lam) / lnb or 0 / 0
    end
    lead[k] = y[1]
    if k == m then spec = y end
  end
  return lead, spec
end

local function covariance(n, s, P)
  local mu = s / n
  return P / n - mu:unsqueeze(2) * mu:unsqueeze(1)
end

-- value and jackknife error of every entry of a list-valued f(n, s, P)
local function jackknife(who, bins, f)
  local n, s, P = 0, nil, nil
  for _, bn in ipairs(bins) do
    n = n + bn.n
    s = s and s + bn.s or bn.s
    P = P and P + bn.P or bn.P
  end
  local full = f(n, s, P)
  local reps = {}
  for k, bn in ipairs(bins) do reps[k] = f(n - bn.n, s - bn.s, P - bn.P) end
  local nb = #bins
  local function err(get)
    local mean, acc = 0, 0
    for k = 1, nb do mean = mean + get(reps[k]) / nb end
    for k = 1, nb do acc = acc + (get(reps[k]) - mean) ^ 2 end
    return math.sqrt((nb - 1) / nb * acc)
  end
  local out = { lead = {}, lead_err = {}, spectrum = full.spec, spectrum_err = {} }
  for k = 1, #full.lead do
    out.lead[k] = full.lead[k]
    out.lead_err[k] = err(function(r) return r.lead[k] end)
  end
  for i = 1, #full.spec do out.spectrum_err[i] = err(function(r) return r.spec[i] end) end
  return out
end

function M.mcrg(samples, opts)
  local who = "rg.mcrg"
  local rg = require "hebb.rg"     -- the whole module, loaded by now: block spins and operators
  opts = E.checkopts(who, opts, { ops = true, b = true, levels = true, rule = true, seed = true,
    bins = true, d = true })
  local b = opts.b or 2
  local d = check_samples(who, samples, opts, b)
  local ops = opts.ops or rg.ising_operators(d)
  local names = sector_names(who, ops)
  local levels = opts.levels or default_levels(samples, 2, d, b)
  if math.type(levels) ~= "integer" or levels < 1 then
    E.raise("%s: levels must be an integer >= 1, got %s (a lattice of %d sites a side)", who,
      E.show(levels), samples:size(2))
  end
  for k = 2, samples.ndim do
    if samples:size(k) // b ^ levels < 1 or samples:size(k) % (b ^ levels // 1) ~= 0 then
      E.raise("%s: %d levels of b = %d do not fit a lattice of size %d", who, levels, b, samples:size(k))
    end
  end
  local B = samples:size(1)
  local bins = opts.bins or 20
  if math.type(bins) ~= "integer" or bins < 2 or bins > B then
    E.raise("%s: bins must be an integer from 2 to the number of samples (%d), got %s", who, B, E.show(bins))
  end
  local H = rg.hierarchy(samples, b, { levels = levels, rule = opts.rule, d = d, seed = opts.seed })
  local S = {}
  for l = 1, levels + 1 do
    S[l] = {}
    for _, name in ipairs(names) do S[l][name] = rg.operators(H[l], ops[name], { d = d }) end
  end
  local lnb = math.log(b)
  local res = { levels = {}, b = b, samples = B, bins = bins, sectors = names }
  for l = 1, levels do
    local row = { level = l, size = samples:size(2) // b ^ (l - 1) // 1 }
    for _, name in ipairs(names) do
      local m = #ops[name]
      local sums = bin_sums(centred(S[l][name], S[l + 1][name]), bins)
      local r = jackknife(who, sums, function(n, s, P)
        local lead, spec = exponents(who, covariance(n, s, P), m, lnb, l)
        return { lead = lead, spec = spec }
      end)
      row[name] = { y = r.lead, err = r.lead_err, spectrum = r.spectrum, spectrum_err = r.spectrum_err }
    end
    res.levels[l] = row
  end
  local last = res.levels[levels]
  if last.even then res.yt, res.yt_err = last.even.y[#last.even.y], last.even.err[#last.even.err] end
  if last.odd then res.yh, res.yh_err = last.odd.y[#last.odd.y], last.odd.err[#last.odd.err] end
  return res
end
doc(M.mcrg, [==[rg.mcrg(samples [, {ops=, b=2, levels=, rule="majority", seed=0, bins=20, d=}])

Monte Carlo RG (Swendsen 1979) from equilibrium samples {B, L1, ..., Ld}
of +-1 spins (e.g. Wolff at T_c, hebb.lattice): the block-spin hierarchy
(rg.hierarchy, `rule`, block size b) gives the operators S_a of every
sector of ops (default rg.ising_operators(d): even and odd) at each level
of the same samples; the linearized RG matrix from level n to n + 1 is T
= B^{-1} A with A = <S^{n+1} S^n>_c and B = <S^{n+1} S^{n+1}>_c, and its
eigenvalues are b^y.  levels defaults to as many as keep the coarsest
lattice at >= 8 sites a side.  Errors by jackknife over `bins` contiguous
bins of the samples (keep them in the order they were drawn, each bin
longer than the autocorrelation time).  Returns {levels = {[n] = {level=,
size= (of the finer lattice), even = {y = {leading y with the first 1, 2,
... operators}, err = {...}, spectrum = {all y, descending}, spectrum_err
= {...}}, odd = {...}}}, yt=, yt_err=, yh=, yh_err= (the deepest level,
all operators), b, samples, bins, sectors}.  2D Ising at K_c, L = 32: y_t
= 1.00, y_h = 1.876 (exact 1, 15/8).]==])

return M
