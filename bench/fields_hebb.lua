-- fields_hebb.lua -- the hebb side of the fields rows of `make bench`, with
-- the hand-written C references (bench/fields_ref.c) in the same process,
-- rep by rep in turn with hebb; and the report of those rows.
-- usage: build/hebb bench/fields_hebb.lua run REPS
--        build/hebb bench/fields_hebb.lua report RESULTS OUT.md
-- run prints "key value" lines (CPU seconds per step or per solve, the best
-- of REPS after a warm-up), at one thread: the references are
-- single-threaded, and CPU time is what a paired ratio needs on a loaded VM.
-- Each row first checks that hebb and the reference compute the same thing.
local mode = arg[1] or "run"

-- --- the report --------------------------------------------------------------------

local function report(results_file, md_file)
  package.path = "bench/?.lua;" .. package.path
  local rep = require "report"
  local R = rep.read(results_file)
  local num, missing = rep.tracker(R)
  local o = {}
  local function say(s) o[#o + 1] = s end
  local ratio = rep.ratio
  -- report.lua formats ns, ms and s; these rows are in microseconds
  local function fmt(v, unit)
    if unit ~= "us" or not v then return rep.fmt(v, unit) end
    local x = v * 1e6
    return string.format(x < 10 and "%.2f us" or x < 100 and "%.1f us" or "%.0f us", x)
  end
  local function row(name, h, c, goal, np, tc, unit)
    local hv, cv = num(h), num(c)
    local nv, tv = np and tonumber(R[np]), tc and tonumber(R[tc])
    say(string.format("| %s | %s | %s | %s | %s | %s |", name, fmt(hv, unit), fmt(cv, unit),
                      np and fmt(nv, unit) or "—", tc and fmt(tv, unit) or "—",
                      ratio(hv, cv, goal)))
  end
  say("")
  say("## Lattice fields and integrators")
  say("")
  say("One thread on both sides, CPU time (process CPU time: the load of a shared VM " ..
      "swung wall-clock ratios by up to 0.4); hand C: bench/fields_ref.c in hebb's process, rep by rep " ..
      "in turn with hebb; numpy " .. (R["numpy.version"] or "?") .. " and torch " ..
      (R["torch.version"] or "?") .. " (at one thread) in their own process.  Klein–Gordon: " ..
      "leapfrog on a 256² f32 periodic lattice, time per step (100 steps per call).  The " ..
      "user-written step is docs/fields.md's: `roll` shifts and operators, the function " ..
      "given to T.fuse (row 14) or called as it is (plain operators; numpy and torch: `roll`).  Split-step Schrödinger: 2¹⁶ points, c128, time per step (20 per call); " ..
      "the reference executes FFTW plans made as hebb makes them (FFTW_ESTIMATE, out of " ..
      "place).  RK45: Dormand–Prince 5(4) on y' = A y, A the antisymmetric hopping of a " ..
      "10⁴-site ring (sparse), rtol 1e-8, to t = 50; the reference has the same tableau, " ..
      "error norm and step law (" .. (R["c.rk45.steps"] or "?") .. " steps on both sides).")
  say("")
  say("| benchmark | hebb | hand C | numpy | torch | hebb / hand C |")
  say("|---|---|---|---|---|---|")
  row("13. KG leapfrog step, fields.kg_step", "hebb.kg.module", "c.kg.step", 1.2, nil, nil, "us")
  row("14. KG leapfrog step, tensor operations (T.fuse)", "hebb.kg.fused", "c.kg.step", 2,
      "numpy.kg.step", "torch.kg.step", "us")
  row("14, the same step with plain operators (no goal)", "hebb.kg.user", "c.kg.step", nil,
      "numpy.kg.step", "torch.kg.step", "us")
  row("15. split-step Schrödinger step, 2¹⁶", "hebb.split.step", "c.split.step", 1.2,
      "numpy.split.step", nil, "us")
  row("16. RK45 solve, 10⁴ dimensions", "hebb.rk45.solve", "c.rk45.solve", 1.5, nil, nil, "ms")
  say("")
  rep.finish(o, missing, md_file, "fields")
end

if mode == "report" then
  report(assert(arg[2], "report: RESULTS missing"), assert(arg[3], "report: OUT.md missing"))
  return
end

-- --- the measurements ---------------------------------------------------------------

local T = require "hebb.tensor"
local hebb = require "hebb"
local fields = require "hebb.fields"
local ode = require "hebb.ode"
local sparse = require "hebb.sparse"
local ref = require "fields_ref"
-- CPU time on both sides (one thread each): see bench/fields_ref.c
local now = ref.cpu

local REPS = math.tointeger(tonumber(arg[2])) or 20
hebb.threads(1)

package.path = "bench/?.lua;" .. package.path
local rep = require "report"
local out, interleaved = rep.out, rep.interleaved

local function maxdiff(a, b) local d = (a - b):abs():max(); return type(d) == "number" and d or d:item() end

-- 13-14. Klein-Gordon, 256^2 f32, m = 0.5, dt = 0.1
do
  local L, m, dt, S = 256, 0.5, 0.1, 100
  ref.kg_setup(L)
  local phi0 = T.frombytes(ref.kg_phi(), "f32", L, L)
  -- the same 3 steps on both sides agree (f32, a different order of sums)
  local phi, pi = phi0:clone(), T.zeros(L, L, { dtype = "f32" })
  fields.kg_step(phi, pi, { m = m, dt = dt, steps = 3 })
  ref.kg_steps(3, m * m, dt)
  assert(maxdiff(phi, T.frombytes(ref.kg_phi(), "f32", L, L)) < 1e-5, "KG: hebb and C differ")
  -- the step as a user writes it (docs/fields.md): pi lives at half steps
  local function user_step(p, q, dt)
    local f = p:roll(1, 1) + p:roll(-1, 1) + p:roll(1, 2) + p:roll(-1, 2) - p * (4 + m * m)
    q:add_(f * dt)
    p:add_(q * dt)
  end
  local fused_step = T.fuse(user_step)
  local function user_steps(p, q, n)
    for _ = 1, n do user_step(p, q, dt) end
  end
  local function fused_steps(p, q, n)
    for _ = 1, n do fused_step(p, q, dt) end
  end
  -- the fused step gives the plain operators' bits
  do
    local p1, q1 = phi0:clone(), T.zeros(L, L, { dtype = "f32" })
    local p2, q2 = phi0:clone(), T.zeros(L, L, { dtype = "f32" })
    user_steps(p1, q1, 3)
    fused_steps(p2, q2, 3)
    assert(T.equal(p1, p2) and T.equal(q1, q2), "KG: T.fuse and the plain operators differ")
    assert(fused_step.stats.eager == 0, "KG: T.fuse fell back: " .. tostring(fused_step.stats.reason))
  end
  local pu, qu = phi0:clone(), T.zeros(L, L, { dtype = "f32" })
  local pf, qf = phi0:clone(), T.zeros(L, L, { dtype = "f32" })
  interleaved(REPS, {
    { "hebb.kg.module", function()
        local t0 = now(); fields.kg_step(phi, pi, { m = m, dt = dt, steps = S }); return now() - t0
      end, S },
    { "c.kg.step", function() return ref.kg_steps(S, m * m, dt) end, S },
    { "hebb.kg.user", function()
        local t0 = now(); user_steps(pu, qu, S); return now() - t0
      end, S },
    { "hebb.kg.fused", function()
        local t0 = now(); fused_steps(pf, qf, S); return now() - t0
      end, S },
  })
end

-- 15. split-step Schrodinger, 2^16 points
do
  local n, dx, dt, S = 65536, 0.01, 1e-4, 20
  ref.ss_setup(n, dx, dt)
  local x = fields.grid(n, dx)
  local prop = fields.schrodinger { V = x * x * 0.5, dx = dx, dt = dt }
  local psi = T.complex(((x - 1) ^ 2 / -2):exp(), T.zeros(n))
  local check = psi:clone()
  prop:step(check, 3)
  ref.ss_steps(3)
  assert(maxdiff(check, T.frombytes(ref.ss_psi(), "c128", n)) < 1e-10, "split step: hebb and C differ")
  interleaved(REPS, {
    { "hebb.split.step", function() local t0 = now(); prop:step(psi, S); return now() - t0 end, S },
    { "c.split.step", function() return ref.ss_steps(S) end, S },
  })
end

-- 16. RK45 on the 10^4-dimensional y' = A y
do
  local n, t1, rtol, atol, h0 = 10000, 50, 1e-8, 1e-10, 0.01
  ref.rk_setup(n)
  local y0 = nil
  local rows, cols, vals = {}, {}, {}
  for i = 1, n do
    rows[#rows + 1], cols[#cols + 1], vals[#vals + 1] = i, i % n + 1, 0.5
    rows[#rows + 1], cols[#cols + 1], vals[#vals + 1] = i, (i - 2) % n + 1, -0.5
  end
  local A = sparse.csr(rows, cols, vals, { n, n })
  -- y(0): the reference's, before it moves
  local cy0 = T.frombytes(ref.rk_y(), "f64", n)
  y0 = cy0:clone()
  local f = function(_, y) return A:matmul(y) end
  local function solve() return ode.solve(f, y0, { 0, t1 }, { rtol = rtol, atol = atol,
                                                               first_step = h0, t_eval = { t1 } }) end
  local sol = solve()
  local _, acc, rej = ref.rk_solve(t1, rtol, atol, h0)
  assert(acc == sol.nsteps and rej == sol.nrejected,
         string.format("RK45: hebb took %d + %d steps, C %d + %d", sol.nsteps, sol.nrejected, acc, rej))
  assert(maxdiff(sol.y_final, T.frombytes(ref.rk_y(), "f64", n)) < 1e-9, "RK45: hebb and C differ")
  out("c.rk45.steps", acc)
  interleaved(math.max(3, REPS // 4), {
    { "hebb.rk45.solve", function() local t0 = now(); solve(); return now() - t0 end },
    { "c.rk45.solve", function() return (ref.rk_solve(t1, rtol, atol, h0)) end },
  })
end
