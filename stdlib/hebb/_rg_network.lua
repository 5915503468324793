-- _rg_network.lua -- part of hebb.rg: coarse-graining a Gaussian network
-- exactly.  Neurons x (n of them) with the weight e^{-x^T K x / 2 + h^T x}
-- (K symmetric positive definite: the couplings, h the biases) have
--   ln Z = (n/2) ln 2 pi - (1/2) ln det K + (1/2) h^T K^{-1} h.
-- Integrating out the fast neurons f and keeping the slow ones s leaves a
-- Gaussian network on s with the Schur complement
--   K' = K_ss - K_sf K_ff^{-1} K_fs,   h' = h_s - K_sf K_ff^{-1} h_f,
-- and ln Z = [(n_f/2) ln 2 pi - (1/2) ln det K_ff + (1/2) h_f^T K_ff^{-1}
-- h_f] + ln Z(K', h'): the shell's free energy plus the coarse network's,
-- so ln Z is conserved along the flow to rounding.  Tensor calls only:
-- a tracked K or h gives a differentiable ln Z.
local T = require "hebb.tensor"
local L = require "hebb.linalg"
local E = require "hebb._error"
local doc = require("hebb").doc

local M = {}
local is_tensor = T.is_tensor
local LN2PI = math.log(2 * math.pi)

local function check_K(who, K)
  if not is_tensor(K) or K.ndim ~= 2 or K:size(1) ~= K:size(2) then
    E.raise("%s: K must be a square matrix (a tensor {n, n}), got %s", who,
      is_tensor(K) and ("shape {" .. table.concat(K.shape, ", ") .. "}") or E.show(K))
  end
  if K.dtype ~= "f64" then K = K:astype("f64") end
  return K
end

local function check_h(who, h, n)
  if h == nil then return nil end
  if not is_tensor(h) or h.ndim ~= 1 or h:size(1) ~= n then
    E.raise("%s: h must be a vector of %d biases, got %s", who, n,
      is_tensor(h) and ("shape {" .. table.concat(h.shape, ", ") .. "}") or E.show(h))
  end
  return h.dtype == "f64" and h or h:astype("f64")
end

-- the Cholesky factor of K, with the error a user can act on
local function chol(who, K, what)
  local ok, C = pcall(L.cholesky, K)
  if not ok then E.raise("%s: %s is not positive definite (the Gaussian integral diverges)", who, what) end
  return C
end

-- ln Z of (K, h) from the factor C: n/2 ln 2pi - sum ln C_ii + h^T K^-1 h / 2
local function lnz_of(K, h, C)
  local n = K:size(1)
  local v = n / 2 * LN2PI - T.log(C:diagonal()):sum()
  if h then v = v + 0.5 * (h * L.solve(K, h:unsqueeze(2)):squeeze(2)):sum() end
  return v
end

function M.gaussian_lnz(K, h)
  local who = "rg.gaussian_lnz"
  K = check_K(who, K)
  h = check_h(who, h, K:size(1))
  return lnz_of(K, h, chol(who, K, "K"))
end
doc(M.gaussian_lnz, [==[rg.gaussian_lnz(K [, h])

ln Z = ln of the integral of e^{-x^T K x / 2 + h^T x} over x in R^n, for
a symmetric positive definite K {n, n} (the couplings) and biases h {n}:
(n/2) ln 2 pi - (1/2) ln det K + (1/2) h^T K^{-1} h, by Cholesky.  A 0-d
tensor (differentiable in a tracked K or h).]==])

-- 1-based index lists of the kept and the integrated neurons from `fast`
-- (a list of indices, or a boolean/0-1 tensor of n entries)
local function split_indices(who, fast, n)
  local isfast = {}
  if is_tensor(fast) then
    if fast.ndim ~= 1 or fast:size(1) ~= n then
      E.raise("%s: fast must be a list of indices or a mask of %d entries, got shape {%s}", who, n,
        table.concat(fast.shape, ", "))
    end
    for i = 1, n do isfast[i] = fast[i] ~= 0 and fast[i] ~= false end
  elseif type(fast) == "table" then
    for _, i in ipairs(fast) do
      if math.type(i) ~= "integer" or i < 1 or i > n then
        E.raise("%s: fast neuron %s is not an index in 1..%d", who, E.show(i), n)
      end
      isfast[i] = true
    end
  else
    E.raise("%s: fast must be a list of indices or a mask, got %s", who, E.show(fast))
  end
  local keep, out = {}, {}
  for i = 1, n do
    if isfast[i] then out[#out + 1] = i else keep[#keep + 1] = i end
  end
  if #keep == 0 then E.raise("%s: every neuron is fast; keep at least one", who) end
  return keep, out
end

local function pick(K, rows, cols)
  local r = K:index_select(1, T.tensor(rows, "i64"))
  return cols and r:index_select(2, T.tensor(cols, "i64")) or r
end

-- the Schur step on index lists: K', h', the shell's ln Z
local function schur(who, K, h, keep, out)
  if #out == 0 then return K, h, 0 end
  local Kff = pick(K, out, out)
  local Ksf, Kfs = pick(K, keep, out), pick(K, out, keep)
  local C = chol(who, Kff, "the fast block K_ff")
  local X = L.solve(Kff, Kfs)                        -- K_ff^-1 K_fs
  local Kp = pick(K, keep, keep) - Ksf:matmul(X)
  Kp = (Kp + Kp:t()) * 0.5                           -- symmetric to rounding
  local hp
  local hf = h and pick(h, out)
  if h then hp = pick(h, keep) - X:t():matmul(hf:unsqueeze(2)):squeeze(2) end
  return Kp, hp, lnz_of(Kff, hf, C)
end

function M.integrate_out(K, fast, opts)
  local who = "rg.integrate_out"
  opts = E.checkopts(who, opts, { h = true })
  K = check_K(who, K)
  local n = K:size(1)
  local h = check_h(who, opts.h, n)
  local keep, out = split_indices(who, fast, n)
  local Kp, hp, shell = schur(who, K, h, keep, out)
  return { K = Kp, h = hp, lnz = shell, keep = keep, fast = out }
end
doc(M.integrate_out, [==[rg.integrate_out(K, fast [, {h=}])

Integrates the `fast` neurons (a list of 1-based indices, or a mask of n
entries) out of the Gaussian network e^{-x^T K x / 2 + h^T x}: the slow
neurons keep the Schur complement K' = K_ss - K_sf K_ff^{-1} K_fs and h' =
h_s - K_sf K_ff^{-1} h_f, and the shell contributes lnz = (n_f/2) ln 2 pi
- (1/2) ln det K_ff + (1/2) h_f^T K_ff^{-1} h_f, so that rg.gaussian_lnz(K,
h) = lnz + rg.gaussian_lnz(K', h') exactly.  Returns {K=, h=, lnz=, keep=
{slow indices}, fast= {fast indices}}.]==])

-- the kept sites of a lattice `shape` (row-major, 1-based): every
-- coordinate a multiple of b (counting from 0); and the coarse shape
local function decimation(who, shape, b)
  local n, coarse = 1, {}
  for k, Ls in ipairs(shape) do
    if Ls % b ~= 0 or Ls < b then
      E.raise("%s: lattice size %d (dim %d) is not divisible by b = %d", who, Ls, k, b)
    end
    coarse[k], n = Ls // b, n * Ls
  end
  local keep = {}
  for i = 0, n - 1 do
    local r, ok = i, true
    for k = #shape, 1, -1 do
      if (r % shape[k]) % b ~= 0 then ok = false end
      r = r // shape[k]
    end
    if ok then keep[#keep + 1] = i + 1 end
  end
  return keep, coarse
end

-- translation-averaged couplings of a lattice network: the self coupling
-- and the coupling to the neighbour one step along each axis (periodic)
local function couplings(K, shape)
  local n, stride = K:size(1), 1
  local diag = K:diagonal():mean():item()
  local nn = {}
  for k = #shape, 1, -1 do
    local acc = 0
    for i = 0, n - 1 do
      local c = (i // stride) % shape[k]
      local j = i + (((c + 1) % shape[k]) - c) * stride
      acc = acc + K[i + 1][j + 1]
    end
    nn[k] = acc / n
    stride = stride * shape[k]
  end
  return diag, nn
end

-- the lattice, block size and depth of a flow from opts (shared with
-- rg.sample_flow)
local function flow_geometry(who, n, opts)
  local shape = opts.shape or { n }
  local b = opts.b or 2
  if math.type(b) ~= "integer" or b < 2 then E.raise("%s: b must be an integer >= 2, got %s", who, E.show(b)) end
  local prod = 1
  for _, s in ipairs(shape) do prod = prod * s end
  if prod ~= n then
    E.raise("%s: shape {%s} has %d sites, K has %d neurons", who, table.concat(shape, ", "), prod, n)
  end
  local levels = opts.levels
  if levels == nil then
    levels = math.huge
    for _, s in ipairs(shape) do
      local l = 0
      while s % b == 0 and s > b do s, l = s // b, l + 1 end
      levels = math.min(levels, l)
    end
  end
  if math.type(levels) ~= "integer" or levels < 0 then
    E.raise("%s: levels must be an integer >= 0, got %s", who, E.show(levels))
  end
  return shape, b, levels
end

function M.gaussian_flow(K, opts)
  local who = "rg.gaussian_flow"
  opts = E.checkopts(who, opts, { h = true, shape = true, b = true, levels = true })
  K = check_K(who, K)
  local n = K:size(1)
  local h = check_h(who, opts.h, n)
  local shape, b, levels = flow_geometry(who, n, opts)
  local diag, nn = couplings(K:detach(), shape)
  local out = { { level = 0, n = n, shape = shape, K = K, h = h, shell = 0, diag = diag, nn = nn } }
  local total = 0
  for l = 1, levels do
    local keep, coarse = decimation(who, shape, b)
    local fast = {}
    local kept = {}
    for _, i in ipairs(keep) do kept[i] = true end
    for i = 1, K:size(1) do if not kept[i] then fast[#fast + 1] = i end end
    local shell
    K, h, shell = schur(who, K, h, keep, fast)
    shape = coarse
    total = total + shell
    diag, nn = couplings(K:detach(), shape)
    out[l + 1] = { level = l, n = K:size(1), shape = shape, K = K, h = h, shell = shell,
      diag = diag, nn = nn }
  end
  local last = lnz_of(K, h, chol(who, K, "the coarsest K"))
  return { levels = out, lnz = total + last, shells = total, last = last }
end
doc(M.gaussian_flow, [==[rg.gaussian_flow(K [, {h=, shape={n}, b=2, levels=}])

The exact coarse-graining of a Gaussian network whose n neurons sit on a
lattice `shape` (row-major; default a chain): at each level the lattice
is cut into blocks of b^d sites, each block keeps its corner neuron and
the others are integrated out (rg.integrate_out): the couplings flow by
Schur complements and each shell adds its ln Z.  levels defaults to as
many as the sizes allow.  Returns {levels = {[1 + l] = {level=, n=,
shape=, K=, h=, shell = the shell's ln Z, diag = the mean self coupling,
nn = {the mean coupling to the next site along each axis}}}, lnz = the
shells' sum + the coarsest network's ln Z, shells=, last=}: lnz equals
rg.gaussian_lnz(K, h) to rounding at every depth.  On a chain with K = a
on the diagonal and -c to the neighbours the flow is a' = a - 2 c^2/a, c'
= c^2 / a: the mass m^2 = a/c - 2 grows as m'^2 = 4 m^2 + m^4 (y = 2).]==])

-- shared with _rg_sample.lua (the sampled coarse-graining of other neurons)
M._check_K, M._check_h, M._split = check_K, check_h, split_indices
M._decimation, M._couplings, M._flow_geometry = decimation, couplings, flow_geometry

return M
