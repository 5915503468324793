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

-- Under the ASan build (make sanitize) freed blocks wait in the sanitizer's
-- quarantine (256 MB by default) before reuse, so resident size measures the
-- quarantine, not the collector; there LeakSanitizer checks the same paths.
if os.getenv("SANITIZE") == "1" then
  print("SKIP test_memory_paths/all: resident size under ASan counts its quarantine of freed blocks (LeakSanitizer checks leaks there)")
  return
end

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
-- LAPACK on 8x8 matrices costs ~5 us each, so a 1 MiB batch would make
-- these paths 100 s long: they drop 64 KiB batches instead, under a bound
-- scaled the same way (a path that kept its results would still grow by
-- 640 MB over the loop).
local batch = T.randn(128, 8, 8) + T.eye(8) * 8
local spd = batch:matmul(batch:transpose(2, 3))
local rhs = T.randn(128, 8, 1)
local wide = T.randn(8, 1024)
-- The same holds for kernels that cost more than ~0.5 us an element
-- (transcendental functions, random normals, sparse products): they go
-- through the same binding helpers as the cheap ones, and drop 64 KiB.
local a16, b16 = a:narrow(1, 1, N // 16):clone(), b:narrow(1, 1, N // 16):clone()
local z16 = z:narrow(1, 1, N // 32):clone()
local mask16 = a16:gt(0.5)
local lap16 = sparse.lattice(N // 16)
local col16 = T.randn(N // 16, 1)
local o16 = T.empty(N // 16)
local tall = T.randn(16384, 8)
local small = T.randn(8, 8)
local lin = nn.Linear(64, 64)
local xin = T.randn(2048, 64)
local p = T.randn(N):requires_grad_()
local opt = optim.Adam({p}, {lr = 1e-3})
local o = T.empty(N)
local bytes = a:tobytes()
local halves = {a:narrow(1, 1, N // 2), a:narrow(1, N // 2 + 1, N // 2)}

-- name, loop body (each pass drops what it makes), bound in MB if not
-- BOUND_MB.  The bodies are compiled into the loop itself (not called as
-- closures): `for ... do local t = a + b end` keeps the previous result in
-- t's register while the next one is made, which is what kept every result
-- alive under Lua's generational collector; a closure's frame would hide it.
local paths = {
  {"op_add", "local t = a + b"},
  {"op_sub", "local t = a - b"},
  {"op_mul", "local t = a * b"},
  {"op_div", "local t = a / b"},
  {"op_idiv", "local t = a16 // b16", 6},
  {"op_mod", "local t = a16 % b16", 6},
  {"op_pow", "local t = a ^ 2"},
  {"op_unm", "local t = -a"},
  {"op_chain", "local t = a * 2 + b"},
  {"op_number_left", "local t = 2 * a"},
  {"method_add", "local t = a:add(b)"},
  {"method_exp", "local t = a16:exp()", 6},
  {"method_clone", "local t = a:clone()"},
  {"method_cumsum", "local t = a:cumsum(1)"},
  {"method_astype", "local t = a:astype('f32')"},
  {"method_compare", "local t = a:lt(b)"},
  {"fn_add", "local t = T.add(a, b)"},
  {"fn_where", "local t = T.where(mask16, a16, b16)", 6},
  {"fn_addcmul", "local t = T.addcmul(a, a, b)"},
  {"fn_clamp", "local t = T.clamp(a, 0.2, 0.8)"},
  {"create_zeros", "local t = T.zeros(N)"},
  {"create_full", "local t = T.full({N}, 1.5)"},
  {"create_rand", "local t = T.rand(N // 16)", 6},
  {"create_randn", "local t = T.randn(N // 16)", 6},
  {"create_arange", "local t = T.arange(1, N)"},
  {"create_linspace", "local t = T.linspace(0, 1, N)"},
  {"create_frombytes", "local t = T.frombytes(bytes, \"f64\", N)"},
  {"join_cat", "local t = T.cat(halves)"},
  {"join_stack", "local t = T.stack(halves)"},
  {"inplace_add_", "a:add_(0)"},
  {"out_add", "T.add(a, b, {out = o})"},
  {"out_exp", "T.exp(a16, {out = o16})", 6},
  {"view_contiguous", "local t = m:t():contiguous()"},
  {"view_narrow_clone", "local t = a:narrow(1, 1, N // 2):clone()"},
  {"view_expand_contiguous", "local t = a:narrow(1, 1, 362):expand(362, 362):contiguous()"},
  {"index_select", "local t = m:index_select(1, idx)"},
  {"index_slice", "local t = m[{{1, 362}, {1, 362, 2}}]:clone()"},
  {"index_masked_select", "local t = a16:masked_select(mask16)", 6},
  {"complex_mul", "local t = z * z"},
  {"complex_abs", "local t = z16:abs()", 6},
  {"complex_make", "local t = T.complex(a, b)"},
  {"matmul", "local t = tall:matmul(small)"},
  {"linalg_solve", "local t = linalg.solve(small, wide)"},
  {"linalg_solve_batch", "local t = linalg.solve(batch, rhs)", 6},
  {"linalg_inv", "local t = linalg.inv(batch)", 6},
  {"linalg_eigh", "local w, v = linalg.eigh(spd)", 6},
  {"linalg_cholesky", "local t = linalg.cholesky(spd)", 6},
  {"fft_fft", "local t = fft.fft(z16)", 6},
  {"fft_rfft", "local t = fft.rfft(a16)", 6},
  {"sparse_spmv", "local t = lap16:matmul(a16)", 6},
  {"sparse_spmm", "local t = sparse.matmul(lap16, col16)", 6},
  {"autograd_forward", "local l = (p * p):sum()"},
  {"autograd_backward", "local l = (p * p):sum() l:backward() p.grad = nil"},
  {"autograd_grad", "local g = autograd.grad(function(x) return (x * x):sum() end, a)"},
  {"nn_forward", "local y = lin(xin)"},
  {"optim_step", "p.grad = b opt:step()"},
}

-- the inputs, seen by the compiled loops as locals (as globals, `a + b`
-- would first load a into t's register and hide the effect)
local inputs = {T = T, linalg = linalg, fft = fft, sparse = sparse, autograd = autograd,
  a = a, b = b, m = m, idx = idx, z = z, batch = batch, spd = spd, rhs = rhs,
  wide = wide, a16 = a16, b16 = b16, z16 = z16, mask16 = mask16, lap16 = lap16,
  col16 = col16, o16 = o16, tall = tall, small = small, lin = lin, xin = xin,
  p = p, opt = opt, o = o, bytes = bytes, halves = halves, N = N}

local names = {}
for k in pairs(inputs) do names[#names + 1] = k end
table.sort(names)
local prologue = "local ITER, poll, I = ...\nlocal " .. table.concat(names, ", ") ..
                 " = I." .. table.concat(names, ", I.") .. "\n"

local function compile(name, body)
  local src = prologue .. "for i = 1, ITER do\n  " .. body ..
              "\n  if i % 100 == 0 then poll(i) end\nend\n"
  return assert(load(src, "=" .. name, "t", {}))
end

for _, path in ipairs(paths) do
  local name, bound_mb = path[1], path[3] or BOUND_MB
  local loop = compile(name, path[2])
  check.test(name, function()
    collectgarbage("collect")
    hebb.alloc_trim()
    reset_peak()
    local start = status_kb("VmRSS")
    local limit = start + bound_mb * 1024
    loop(ITER, function(i)
      if status_kb("VmRSS") > limit then
        error(string.format("resident size grew by more than %d MB after %d iterations",
                            bound_mb, i))
      end
    end, inputs)
    local peak = status_kb("VmHWM")
    check.truthy(peak <= limit, string.format("peak %.0f MB above the start (bound %d MB)",
                                              (peak - start) / 1024, bound_mb))
  end)
end

check.done()
