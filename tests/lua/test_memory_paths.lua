-- test_memory_paths.lua -- every way of making a tensor is accounted to the
-- Lua collector: loops that drop ~1 MB temporaries stay flat, whatever
-- path made them.
--
-- The test that existed before covered T.full only, while `a + b` in a loop
-- grew to 2 GB (Lua 5.4's generational mode kept operator results alive;
-- see natives/lua/l_tensor.c).  So this sweeps the paths users take:
-- operators, methods, module functions, in-place and out= forms, views and
-- indexing, complex, linalg, fft, sparse, autograd forward and backward, nn
-- forward and optimizer steps.  Each runs 10^4 iterations; the peak resident
-- size (VmHWM, reset before each path) must stay within BOUND_MB of where
-- the path started.  A path that leaks 1 MB an iteration crosses the bound
-- after ~100 iterations, so a failing path stops early and costs little.
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"
local linalg = require "hebb.linalg"
local fft = require "hebb.fft"
local sparse = require "hebb.sparse"
local autograd = require "hebb.autograd"
local nn = require "hebb.nn"
local optim = require "hebb.optim"

local ITER = 10000
-- Flat loops here peak 2-12 MB above their start (the collector frees a
-- temporary one or two cycles after it is dropped); 96 MB leaves room for
-- that and for the allocator's cache while still catching a path that keeps
-- a 1 MB temporary every 1% of its iterations.
local BOUND_MB = 96
local N = 131072                 -- f64 elements in 1 MiB

local function status_kb(field)
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("a")
  f:close()
  return tonumber(s:match(field .. ":%s*(%d+)"))
end

-- Linux resets VmHWM (the peak) to the current RSS when "5" is written to
-- clear_refs.
local function reset_peak()
  local f = io.open("/proc/self/clear_refs", "w")
  if f then f:write("5"); f:close() end
end

local a, b = T.rand(N), T.rand(N) + 0.5
local m = T.rand(362, 362)                       -- 1 MiB matrix
local idx = T.randint(1, 362, 362)
local mask = a:gt(0.5)
local z = T.complex(T.rand(N // 2), T.rand(N // 2))   -- 1 MiB of c128
local batch = T.randn(2048, 8, 8) + T.eye(8) * 8       -- 1 MiB of 8x8 systems
local spd = batch:matmul(batch:transpose(2, 3))
local rhs = T.randn(2048, 8, 1)
local tall = T.randn(16384, 8)
local small = T.randn(8, 8)
local lap = sparse.lattice(N)
local dense_cols = T.randn(N, 1)
local lin = nn.Linear(64, 64)
local xin = T.randn(2048, 64)
local p = T.randn(N):requires_grad_()
local opt = optim.Adam({p}, {lr = 1e-3})
local o = T.empty(N)
local bytes = a:tobytes()
local halves = {a:narrow(1, 1, N // 2), a:narrow(1, N // 2 + 1, N // 2)}

-- name, body (called ITER times; each call drops what it makes)
local paths = {
  {"op_add", function() local t = a + b end},
  {"op_sub", function() local t = a - b end},
  {"op_mul", function() local t = a * b end},
  {"op_div", function() local t = a / b end},
  {"op_idiv", function() local t = a // b end},
  {"op_mod", function() local t = a % b end},
  {"op_pow", function() local t = a ^ 2 end},
  {"op_unm", function() local t = -a end},
  {"op_chain", function() local t = a * 2 + b end},
  {"op_number_left", function() local t = 2 * a end},
  {"method_add", function() local t = a:add(b) end},
  {"method_exp", function() local t = a:exp() end},
  {"method_clone", function() local t = a:clone() end},
  {"method_cumsum", function() local t = a:cumsum(1) end},
  {"method_astype", function() local t = a:astype("f32") end},
  {"method_compare", function() local t = a:lt(b) end},
  {"fn_add", function() local t = T.add(a, b) end},
  {"fn_where", function() local t = T.where(mask, a, b) end},
  {"fn_addcmul", function() local t = T.addcmul(a, a, b) end},
  {"fn_clamp", function() local t = T.clamp(a, 0.2, 0.8) end},
  {"create_zeros", function() local t = T.zeros(N) end},
  {"create_full", function() local t = T.full({N}, 1.5) end},
  {"create_rand", function() local t = T.rand(N) end},
  {"create_randn", function() local t = T.randn(N) end},
  {"create_arange", function() local t = T.arange(1, N) end},
  {"create_linspace", function() local t = T.linspace(0, 1, N) end},
  {"create_frombytes", function() local t = T.frombytes(bytes, "f64", N) end},
  {"join_cat", function() local t = T.cat(halves) end},
  {"join_stack", function() local t = T.stack(halves) end},
  {"inplace_add_", function() a:add_(0) end},
  {"out_add", function() T.add(a, b, {out = o}) end},
  {"out_exp", function() T.exp(a, {out = o}) end},
  {"view_contiguous", function() local t = m:t():contiguous() end},
  {"view_narrow_clone", function() local t = a:narrow(1, 1, N // 2):clone() end},
  {"view_expand_contiguous", function() local t = a:narrow(1, 1, 362):expand(362, 362):contiguous() end},
  {"index_select", function() local t = m:index_select(1, idx) end},
  {"index_slice", function() local t = m[{{1, 362}, {1, 362, 2}}]:clone() end},
  {"index_masked_select", function() local t = a:masked_select(mask) end},
  {"complex_mul", function() local t = z * z end},
  {"complex_abs", function() local t = z:abs() end},
  {"complex_make", function() local t = T.complex(a, b) end},
  {"matmul", function() local t = tall:matmul(small) end},
  {"linalg_solve", function() local t = linalg.solve(batch, rhs) end},
  {"linalg_inv", function() local t = linalg.inv(batch) end},
  {"linalg_eigh", function() local w, v = linalg.eigh(spd) end},
  {"linalg_cholesky", function() local t = linalg.cholesky(spd) end},
  {"fft_fft", function() local t = fft.fft(z) end},
  {"fft_rfft", function() local t = fft.rfft(a) end},
  {"sparse_spmv", function() local t = lap:matmul(a) end},
  {"sparse_spmm", function() local t = sparse.matmul(lap, dense_cols) end},
  {"autograd_forward", function() local l = (p * p):sum() end},
  {"autograd_backward", function()
    local l = (p * p):sum()
    l:backward()
    p.grad = nil
  end},
  {"autograd_grad", function() local g = autograd.grad(function(x) return (x * x):sum() end, a) end},
  {"nn_forward", function() local y = lin(xin) end},
  {"optim_step", function()
    p.grad = b
    opt:step()
  end},
}

for _, path in ipairs(paths) do
  local name, body = path[1], path[2]
  check.test(name, function()
    collectgarbage("collect")
    hebb.alloc_trim()
    reset_peak()
    local start = status_kb("VmRSS")
    local limit = start + BOUND_MB * 1024
    for i = 1, ITER do
      body()
      if i % 100 == 0 and status_kb("VmRSS") > limit then
        error(string.format("resident size grew by more than %d MB after %d iterations",
                            BOUND_MB, i))
      end
    end
    local peak = status_kb("VmHWM")
    check.truthy(peak <= limit, string.format("peak %.0f MB above the start (bound %d MB)",
                                              (peak - start) / 1024, BOUND_MB))
  end)
end

check.done()
