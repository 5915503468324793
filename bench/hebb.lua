-- hebb.lua -- the hebb side of `make bench`, with the hand-written C
-- references running in the same process (bench/cref.c), rep by rep in
-- turn with hebb, so that both see the same machine conditions.
-- usage: build/hebb bench/hebb.lua N REPS DISPATCH_LOOP MATMUL_N
-- Needs build/bench/cref-native.so and cref-O3.so on package.cpath
-- (bench/run.sh sets LUA_CPATH).  Prints one "key value" line per
-- measurement (times in seconds, the best of REPS after two warm-up passes);
-- bench/report.lua turns them into the table.
local T = require "hebb.tensor"
local hebb = require "hebb"
local native = require "cref-native"
local o3 = require "cref-O3"
local now = native.now

local N = math.tointeger(arg[1]) or 10000000
local REPS = math.tointeger(arg[2]) or 20
local LOOP = math.tointeger(arg[3]) or 1000000
local MM = math.tointeger(arg[4]) or 1024

local function out(key, value)
  io.write(key, " ", tostring(value), "\n")
  io.flush()
end

-- a hebb operation as a timed pass, like the cref functions
local function timed(f)
  return function()
    local t0 = now()
    f()
    return now() - t0
  end
end

-- Runs the passes of cases = {{key, pass}, ...} in turn, reps times after
-- two warm-up rounds, and prints each key's best time.
local function interleaved(reps, cases)
  local best = {}
  for r = -1, reps do
    for i, c in ipairs(cases) do
      local t = c[2]()
      if r >= 1 and (best[i] == nil or t < best[i]) then best[i] = t end
    end
  end
  for i, c in ipairs(cases) do out(c[1], best[i]) end
end

-- 1. dispatch: the whole cost of `c = a + b` on 1-element f64 tensors,
-- including the result's allocation and its collection, per operation; CPU
-- time (hebb.clock), as bench/ref.py times numpy's, so that other processes
-- on the shared machine count less
local function dispatch()
  local a, b = T.ones(1), T.ones(1)
  local c = a + b
  assert(c:get(1) == 2, "1-element add gave a wrong result")
  local best = math.huge
  for _ = 1, 5 do
    local t0 = hebb.clock()
    for _ = 1, LOOP do c = a + b end
    best = math.min(best, hebb.clock() - t0)
  end
  out("hebb.dispatch", best / LOOP)
end

local function close(x, y)
  return math.abs(x - y) <= 1e-6 * math.max(1, math.abs(y))
end

-- 2. o = a*b + c on f32 into a preallocated o, unfused and fused; and
-- 3. full sums, which return Lua numbers; against the C loops at the same
-- thread count.  Returns the sums' bits (they must not depend on threads).
-- both forms of a*b + c must give the right element in the middle
local function check_fma(x)
  local i = N // 2 + 1
  local want = x.a:get(i) * x.b:get(i) + x.c:get(i)
  x.o:fill_(0)
  T.mul(x.a, x.b, {out = x.o}); x.o:add_(x.c)
  assert(close(x.o:get(i), want), "mul + add_ gave a wrong result")
  x.o:fill_(0)
  T.addcmul(x.c, x.a, x.b, {out = x.o})
  assert(close(x.o:get(i), want), "addcmul gave a wrong result")
end

local function memory_bound(t, x)
  local tag, s64, s32 = "hebb." .. t .. "t"
  local ct = "c.native." .. t .. "t"
  local co = "c.O3." .. t .. "t"
  hebb.threads(t)
  check_fma(x)
  interleaved(REPS, {
    {tag .. ".fma_mul_add", timed(function()
      T.mul(x.a, x.b, {out = x.o}); x.o:add_(x.c)
    end)},
    {tag .. ".fma_addcmul", timed(function()
      T.addcmul(x.c, x.a, x.b, {out = x.o})
    end)},
    {ct .. ".fma_f32", function() return native.fma(t) end},
    {co .. ".fma_f32", function() return o3.fma(t) end},
    {tag .. ".sum_f64", timed(function() s64 = x.x64:sum() end)},
    {ct .. ".sum_f64", function() return native.sum_f64(t) end},
    {co .. ".sum_f64", function() return o3.sum_f64(t) end},
    {tag .. ".sum_f32", timed(function() s32 = x.x32:sum() end)},
    {ct .. ".sum_f32", function() return native.sum_f32(t) end},
    {co .. ".sum_f32", function() return o3.sum_f32(t) end},
  })
  assert(math.type(s64) == "float" and math.type(s32) == "float",
         "t:sum() must return a Lua number")
  return string.format("%a %a", s64, s32)
end

-- 4. matmul into a preallocated result, against one cblas_sgemm call with
-- OpenBLAS threaded at hebb's default thread count
local function matmul(t)
  local a = T.rand(MM, MM, {dtype = "f32"})
  local b = T.rand(MM, MM, {dtype = "f32"})
  local o = T.zeros(MM, MM, {dtype = "f32"})
  local used
  interleaved(math.max(3, REPS // 2), {
    {"hebb.sgemm", timed(function() T.matmul(a, b, {out = o}) end)},
    {"c.sgemm", function()
      local dt
      dt, used = native.sgemm(t)
      return dt
    end},
  })
  out("c.sgemm_threads", used)
  out("c.sgemm_core", native.blas_core())
end

-- 5. 512 x 512 f64 svd and eigh (LAPACK gesdd and syevd, which hebb runs
-- single-threaded; the goal is against numpy at one BLAS thread, ref.py;
-- the same LAPACK calls from C, in this process, are shown beside it)
local function linalg()
  local la = require "hebb.linalg"
  local A = T.randn(512, 512)
  local S = A + A:t()
  local U, s, Vh = la.svd(A)
  assert((T.matmul(U * s, Vh) - A):abs():max() < 1e-10,
         "svd: U diag(s) Vh is not A")
  local w, V = la.eigh(S)
  assert((T.matmul(S, V) - V * w):abs():max() < 1e-10,
         "eigh: S V is not V diag(w)")
  out("hebb.linalg_threads", 1)
  native.lapack_setup(512, A:reshape(512 * 512):totable())
  interleaved(math.max(3, REPS // 4), {
    {"hebb.svd512", timed(function() la.svd(A) end)},
    {"c.dgesdd512", function() return native.dgesdd() end},
    {"hebb.eigh512", timed(function() la.eigh(S) end)},
    {"c.dsyevd512", function() return native.dsyevd() end},
  })
end

-- 6. spmv on the 256 x 256 periodic lattice Laplacian into a preallocated
-- y, against the plain CSR loop (cref.c) over the same triplets and x, at
-- 1 thread and at hebb's default
local function spmv(default)
  local L = require("hebb.graph").lattice{dims = {256, 256}, periodic = true}
                                    :laplacian()
  local n = 256 * 256
  local x, y = T.rand(n), T.zeros(n)
  local r, c, v = L:triplets()
  native.spmv_setup(r:totable(), c:totable(), v:totable(), x:totable(), n)
  out("spmv.nnz", L:nnz())
  for _, t in ipairs(default == 1 and {1} or {1, default}) do
    hebb.threads(t)
    L:matmul(x, {out = y})
    native.spmv(t)
    for _, i in ipairs({1, 257, n // 2 + 3, n}) do
      assert(close(y:get(i), native.spmv_y(i)), "spmv differs from the C loop")
    end
    interleaved(REPS * 5, {
      {"hebb." .. t .. "t.spmv", timed(function() L:matmul(x, {out = y}) end)},
      {"c.native." .. t .. "t.spmv", function() return native.spmv(t) end},
    })
  end
  hebb.threads(default)
end

-- 7. a 2^20-point complex FFT at hebb's default threads; "not available"
-- (not a failure) while hebb.fft cannot be loaded
local function fft()
  local ok, F = pcall(require, "hebb.fft")
  if not ok then
    out("hebb.fft_available", "no")
    return
  end
  out("hebb.fft_available", "yes")
  local n = 1 << 20
  local z = T.complex(T.randn(n), T.randn(n))
  local Z = F.fft(z)
  -- Parseval: sum |Z|^2 = n sum |z|^2
  local ez, eZ = (z:abs() ^ 2):sum(), (Z:abs() ^ 2):sum()
  assert(math.abs(eZ - n * ez) <= 1e-9 * n * ez, "fft: Parseval fails")
  interleaved(math.max(3, REPS // 2), {
    {"hebb.fft", timed(function() F.fft(z) end)},
  })
end

-- each section runs even when another fails (an API may be missing); any
-- failure makes the exit status non-zero
local failed = false
local function section(name, f, ...)
  local ok, err = pcall(f, ...)
  if not ok then
    io.stderr:write("bench/hebb.lua: ", name, ": ", tostring(err), "\n")
    failed = true
  end
end

local default = hebb.threads()
out("hebb.threads", default)
out("c.native.flags", native.flags)
out("c.O3.flags", o3.flags)
native.setup(N, MM)
o3.setup(N, 1)
section("dispatch", dispatch)
section("elementwise and sums", function()
  local x = {
    a = T.rand(N, {dtype = "f32"}), b = T.rand(N, {dtype = "f32"}),
    c = T.rand(N, {dtype = "f32"}), o = T.zeros(N, {dtype = "f32"}),
    x64 = T.rand(N),
  }
  x.x32 = x.x64:astype("f32")
  local bits = {}
  for _, t in ipairs(default == 1 and {1} or {1, default}) do
    section("at " .. t .. " threads", function()
      bits[#bits + 1] = memory_bound(t, x)
    end)
  end
  hebb.threads(default)
  if #bits > 1 then
    out("hebb.sum_same_bits", bits[1] == bits[2] and "yes" or
        "NO (" .. table.concat(bits, " vs ") .. ")")
  end
end)
section("matmul", matmul, default)
section("linalg", linalg)
section("spmv", spmv, default)
section("fft", fft)
if failed then os.exit(1) end
