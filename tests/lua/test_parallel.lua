-- test_parallel.lua -- the same bits at any thread count, kernel by kernel.
-- hebb's loops cut their work into chunks whose boundaries change with the
-- thread count and the machine's load (natives/core/parallel.c), so every
-- kernel must give the same bits however its range is cut.  Each case runs
-- at 1, 2, 3 and 4 threads (3 and 4 cut at other places than 2) on inputs
-- large enough to be parallel, and compares the raw bytes of the results.
local check = require "check"
local hebb = require "hebb"
local T = require "hebb.tensor"
local fft = require "hebb.fft"
local graph = require "hebb.graph"
local optim = require "hebb.optim"
local test, eq = check.test, check.eq

T.manual_seed(11)
local x = T.randn(1000003)
local y = T.rand(1000003)
local M = T.randn(1000, 1000)
local A, B = T.randn(300, 300), T.randn(300, 300)
local Z = T.complex(T.randn(64, 4096), T.randn(64, 4096))
local L = graph.lattice { dims = { 256, 256 }, periodic = true }:laplacian()
local v = T.randn(65536)
local logits, labels = T.randn(4096, 100), T.arange(1, 4096) % 100 + 1

-- name -> function returning the results (tensors or numbers)
local cases = {
  exp = function() return x:exp() end,
  atan2 = function() return T.atan2(x, y) end,
  fma = function() return x * y + 1 end,
  sum = function() return x:sum(), y:sum() end,
  sum_rows = function() return M:sum(2), M:mean(1) end,
  var = function() return M:var(2) end,
  cumsum = function() return M:cumsum(2), M:cumsum(1) end,
  argmax = function() return M:argmax(2), M:argmin(1) end,
  logsumexp = function() return M:logsumexp(2) end,
  matmul = function() return T.matmul(A, B) end,
  randn = function() T.manual_seed(3); return T.randn(1000001), T.rand(777777, { dtype = "f32" }) end,
  fft = function() return fft.fft(Z, 2) end,
  spmv = function() return L:matmul(v) end,
  cross_entropy = function() return T.cross_entropy(logits, labels) end,
  adam = function()
    local p = (x * 1):requires_grad_()
    local opt = optim.Adam({ p }, { lr = 1e-2 })
    for _ = 1, 2 do
      opt:zero_grad()
      local loss = (p * p):sum() + p:abs():sum()
      loss:backward()
      opt:step()
    end
    return p:detach()
  end,
}

local function bytes(r)
  if T.is_tensor(r) then return r.dtype .. ":" .. r:contiguous():tobytes() end
  return string.format("%a", r)
end

local function run(f)
  local out = { f() }
  for i, r in ipairs(out) do out[i] = bytes(r) end
  return out
end

local names = {}
for name in pairs(cases) do names[#names + 1] = name end
table.sort(names)
local before = hebb.threads()
for _, name in ipairs(names) do
  test(name, function()
    hebb.threads(1)
    local ref = run(cases[name])
    for _, n in ipairs({ 2, 3, 4 }) do
      hebb.threads(n)
      local got = run(cases[name])
      for i = 1, #ref do
        eq(got[i] == ref[i], true, name .. " result " .. i .. " at " .. n .. " threads")
      end
    end
  end)
end
hebb.threads(before)

check.done()
