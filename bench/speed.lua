-- speed.lua -- the hebb side of rows 21-23 of `make bench` (issue 16: the
-- cost of being an interpreter), and their report.
-- usage: build/hebb bench/speed.lua run REPS N
--        build/hebb bench/speed.lua report RESULTS OUT.md
-- run prints "key value" lines: CPU seconds (os.clock: process CPU time,
-- one thread; every operation here is below HEBB_PAR_GRAIN) per operation,
-- per step or per iteration, the best of REPS after a warm-up.  The
-- references run in their own processes: bench/speed_ref.py (numpy and
-- torch) and bench/speed_jit.lua (LuaJIT's FFI over build/libhebb.so).
local mode = arg[1] or "run"

-- --- the report ----------------------------------------------------------

local function report(results_file, md_file)
  package.path = "bench/?.lua;" .. package.path
  local rep = require "report"
  local R = rep.read(results_file)
  local num, missing = rep.tracker(R)
  local o = {}
  local function say(s) o[#o + 1] = s end
  local fmt, ratio = rep.fmt, rep.ratio
  local function us(v)
    if not v then return "—" end
    return string.format(v < 1e-5 and "%.2f us" or "%.1f us", v * 1e6)
  end
  local tr, un = num("hebb.add.tracked"), num("hebb.add.plain")
  local ttr, tun = num("torch.add.tracked"), num("torch.add.plain")
  local rec = tr and un and tr - un
  local kp, kc = num("hebb.kg.plain"), num("hebb.kg.closed")
  local ph, pn, pj = num("hebb.phys.iter"), num("numpy.phys.iter"), num("jit.phys.iter")
  -- the same nine operations in the same order on each side: the same bits
  local x1 = { tonumber(R["hebb.phys.x1"]), tonumber(R["numpy.phys.x1"]),
               tonumber(R["jit.phys.x1"]) }
  local same = x1[1] and x1[1] == x1[2] and x1[1] == x1[3] and "yes (to the last bit)" or
               "NO (" .. table.concat({ tostring(x1[1]), tostring(x1[2]), tostring(x1[3]) }, ", ") .. ")"
  say("")
  say("## The cost of the interpreter (issue 16)")
  say("")
  say("CPU time (process CPU time, one thread), best of " .. (R["speed.reps"] or "?") ..
      " repetitions per round; hebb's cases run in one process in turn; torch " ..
      (R["torch.version"] or "?") .. ", numpy " .. (R["numpy.version"] or "?") ..
      " and LuaJIT (" .. (R["jit.version"] or "?") .. ", FFI over build/libhebb.so) in their " ..
      "own processes.  Row 23: a 16-site harmonic chain, leapfrog, `f = x[up] + x[dn] - " ..
      "x*(2 + m²); v += f*dt; x += v*dt` (nine tensor operations per iteration), " ..
      (R["phys.n"] or "?") .. " iterations on each side; the final x agrees on all sides: " ..
      same .. ".")
  say("")
  say("| benchmark | hebb | reference | hebb / reference |")
  say("|---|---|---|---|")
  say(string.format("| 21. tracked 1-element add `a + b` (a requires grad), per op | %s | torch: %s | %s |",
                    fmt(tr, "ns"), fmt(ttr, "ns"), ratio(tr, ttr, 0.5)))
  say(string.format("| 21. recording one op: tracked minus untracked add | %s | 1 us | %s |",
                    fmt(rec, "ns"), ratio(rec, 1e-6, 1)))
  say(string.format("| 22. KG step 256² f32 in operators, plain against every temporary `<close>`d | %s | closed: %s | %s |",
                    us(kp), us(kc), ratio(kp, kc, 1.2)))
  say(string.format("| 23. 16-site chain step in tensor ops, per iteration, vs numpy | %s | numpy: %s | %s |",
                    us(ph), us(pn), ratio(ph, pn, 1)))
  say(string.format("| 23. the same vs LuaJIT-FFI over libhebb | %s | LuaJIT: %s | %s |",
                    us(ph), us(pj), ratio(ph, pj, 1)))
  say("")
  say(string.format("- untracked 1-element add: hebb %s, torch %s (same processes as row 21).",
                    fmt(un, "ns"), fmt(tun, "ns")))
  say("")
  rep.finish(o, missing, md_file, "speed")
end

if mode == "report" then
  report(assert(arg[2], "report: RESULTS missing"), assert(arg[3], "report: OUT.md missing"))
  return
end

-- --- the measurements ----------------------------------------------------

local T = require "hebb.tensor"
local hebb = require "hebb"
require "hebb.autograd"
hebb.threads(1)

local REPS = math.tointeger(tonumber(arg[2])) or 10
local N = math.tointeger(tonumber(arg[3])) or 1000000
local now = os.clock

package.path = "bench/?.lua;" .. package.path
local rep = require "report"
local out, interleaved = rep.out, rep.interleaved

out("speed.reps", REPS)

-- 21. a 1-element add, tracked (recorded for autograd) and not
do
  local a, b = T.ones(1), T.ones(1)
  local at = T.ones(1):requires_grad_()
  local c = at + b
  assert(c:get(1) == 2 and c.requires_grad, "tracked add: wrong result")
  local L = 200000
  interleaved(REPS, {
    { "hebb.add.plain", function()
        local t0 = now(); for _ = 1, L do c = a + b end; return now() - t0
      end, L },
    { "hebb.add.tracked", function()
        local t0 = now(); for _ = 1, L do c = at + b end; return now() - t0
      end, L },
  })
  c = nil
end

-- 22. the Klein-Gordon step of row 14 as users write it, against the same
-- step with every temporary closed as soon as it is used
do
  local L, m, dt, S = 256, 0.5, 0.1, 50
  local up, dn = {}, {}
  for i = 1, L do up[i], dn[i] = i % L + 1, (i - 2) % L + 1 end
  up, dn = T.tensor(up, "i64"), T.tensor(dn, "i64")
  local p0 = T.randn(L, L, { dtype = "f32" }) * 0.1
  local function plain(p, q, n)
    for _ = 1, n do
      local f = p:index_select(1, up) + p:index_select(1, dn) + p:index_select(2, up)
              + p:index_select(2, dn) - p * (4 + m * m)
      q:add_(f * dt)
      p:add_(q * dt)
    end
  end
  local function closed(p, q, n)
    for _ = 1, n do
      local a <close> = p:index_select(1, up)
      local b <close> = p:index_select(1, dn)
      local ab <close> = a + b
      local c <close> = p:index_select(2, up)
      local abc <close> = ab + c
      local d <close> = p:index_select(2, dn)
      local abcd <close> = abc + d
      local k <close> = p * (4 + m * m)
      local f <close> = abcd - k
      local fdt <close> = f * dt
      q:add_(fdt)
      local qdt <close> = q * dt
      p:add_(qdt)
    end
  end
  -- both forms compute the same bits
  local p1, q1 = p0:clone(), T.zeros(L, L, { dtype = "f32" })
  local p2, q2 = p0:clone(), T.zeros(L, L, { dtype = "f32" })
  plain(p1, q1, 3)
  closed(p2, q2, 3)
  assert(T.equal(p1, p2) and T.equal(q1, q2), "KG: plain and closed steps differ")
  interleaved(REPS, {
    { "hebb.kg.plain", function()
        local t0 = now(); plain(p1, q1, S); return now() - t0
      end, S },
    { "hebb.kg.closed", function()
        local t0 = now(); closed(p2, q2, S); return now() - t0
      end, S },
  })
end

-- 23. N steps of a 16-site harmonic chain (leapfrog), in tensor operations
do
  local n, m2, dt = 16, 0.25, 0.01
  local up, dn = {}, {}
  for i = 1, n do up[i], dn[i] = i % n + 1, (i - 2) % n + 1 end
  up, dn = T.tensor(up, "i64"), T.tensor(dn, "i64")
  local x = T.zeros(n)
  x:set(1, 1.0)
  local v = T.zeros(n)
  local t0 = now()
  for _ = 1, N do
    local f = x:index_select(1, up) + x:index_select(1, dn) - x * (2 + m2)
    v:add_(f * dt)
    x:add_(v * dt)
  end
  local t = now() - t0
  out("phys.n", N)
  out("hebb.phys.iter", t / N)
  out("hebb.phys.x1", string.format("%.17g", x:get(1)))
  out("hebb.phys.sum", string.format("%.17g", x:sum()))
end
