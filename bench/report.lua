-- report.lua -- turns the "key value" lines that bench/run.sh collected
-- into the benchmark table (Markdown), printed and written to a file.
-- usage: build/hebb bench/report.lua RESULTS OUT.md
-- Plain Lua (runs under lua5.4 too).  Exits 1 if a result is missing, that
-- is if a benchmark failed to run; an unmet goal is reported, not failed.
-- bench/mlp_hebb.lua reads the same results with the helpers below:
-- `require "report"` (bench/ on package.path) returns them and stops there.
local M = {}

-- Each side ran several rounds: a time keeps its best (smallest) value; a
-- text keeps its first value, unless a later round reports a problem ("NO").
function M.read(results_file)
  local R = {}
  for line in io.lines(results_file) do
    local k, v = line:match("^(%S+)%s+(.-)%s*$")
    if k then
      local old, x = R[k], tonumber(v)
      if old == nil then R[k] = v
      elseif x and tonumber(old) then R[k] = tostring(math.min(x, tonumber(old)))
      elseif v:match("^NO") then R[k] = v end
    end
  end
  return R
end

-- num(key): R[key] as a number; the keys without one are listed in missing
function M.tracker(R)
  local missing, seen = {}, {}
  local function num(key)
    local v = tonumber(R[key])
    if not v and not seen[key] then
      seen[key] = true
      missing[#missing + 1] = key
    end
    return v
  end
  return num, missing
end

local units = { ns = 1e9, ms = 1e3, s = 1 }
function M.fmt(v, unit)
  if not v then return "—" end
  local x = v * units[unit]
  return string.format(x < 10 and "%.2f %s" or x < 100 and "%.1f %s" or "%.0f %s",
                       x, unit)
end

-- "1.23x", or with a goal "1.23x (goal <= 1.2x) NOT MET"; "—" without data
function M.ratio(h, r, goal)
  if not (h and r) then return "—" end
  local x = h / r
  if not goal then return string.format("%.2fx", x) end
  return string.format("%.2fx (goal <= %gx) %s", x, goal, x <= goal and "MET" or "NOT MET")
end

-- prints the lines of a table, appends them to md_file, and exits 1 when
-- results were missing (a benchmark of `what` failed to run)
function M.finish(lines, missing, md_file, what)
  for _, k in ipairs(missing) do lines[#lines + 1] = "- MISSING result: " .. k end
  local text = table.concat(lines, "\n") .. "\n"
  io.write(text)
  local fh = assert(io.open(md_file, "a"))
  fh:write(text)
  fh:close()
  if #missing > 0 then
    io.stderr:write("bench: ", #missing, " ", what, " result(s) missing: a benchmark failed to run\n")
    os.exit(1)
  end
end

-- the measuring side's helpers: a "key value" line, and the best of reps
-- rounds of each case {key, fn, per} in turn after one warm-up round (fn
-- returns a time; the line gets the best time / per)
function M.out(key, value)
  io.write(key, " ", tostring(value), "\n")
  io.flush()
end

function M.interleaved(reps, cases)
  local best = {}
  for r = 0, reps do
    for i, c in ipairs(cases) do
      local t = c[2]()
      if r >= 1 and (best[i] == nil or t < best[i]) then best[i] = t end
    end
  end
  for i, c in ipairs(cases) do M.out(c[1], best[i] / (c[3] or 1)) end
end

if ... == "report" then return M end

local results_file, md_file = arg[1], arg[2]
local R = M.read(results_file)
local num, missing = M.tracker(R)
local fmt = M.fmt

local T = math.tointeger(tonumber(R["hebb.threads"])) or 2
local n = tonumber(R["env.n"]) or 1e7
local N = (string.format("%.3g", n):gsub("e%+0*", "e"))

-- One row per comparison.  ref is the time the goal is measured against.
local function row(name, threads, unit, goal, hebb, ref, ref_label, np, tc)
  return { name = name, threads = threads, unit = unit, goal = goal,
           hebb = hebb, ref = ref, ref_label = ref_label, np = np, tc = tc }
end

local rows = {
  row("1. dispatch `c = a + b`, 1-element f64, per op", "1 (tiny ops stay serial)", "ns", 0.5,
      "hebb.dispatch", "numpy.dispatch", "numpy", "numpy.dispatch", "torch.dispatch"),
}
local function memory_rows(t)
  local c = "c.native." .. t .. "t"
  local h = "hebb." .. t .. "t"
  local tl = t == T and t .. " (hebb default)" or tostring(t)
  rows[#rows + 1] = row("2. `T.mul(a,b,{out=o}); o:add_(c)`, " .. N .. " f32", tl, "ms", 1.25,
      h .. ".fma_mul_add", c .. ".fma_f32", "hand C", "numpy.fma_mul_add", "torch.fma_mul_add")
  rows[#rows + 1] = row("2. `T.addcmul(c,a,b,{out=o})`, " .. N .. " f32", tl, "ms", 1.25,
      h .. ".fma_addcmul", c .. ".fma_f32", "hand C", "numpy.fma_mul_add", "torch.fma_addcmul")
  rows[#rows + 1] = row("3. `t:sum()`, " .. N .. " f64", tl, "ms", 1.25,
      h .. ".sum_f64", c .. ".sum_f64", "hand C", "numpy.sum_f64", "torch.sum_f64")
  rows[#rows + 1] = row("3. `t:sum()`, " .. N .. " f32", tl, "ms", 1.25,
      h .. ".sum_f32", c .. ".sum_f32", "hand C", "numpy.sum_f32", "torch.sum_f32")
end
memory_rows(1)
if T ~= 1 then memory_rows(T) end
rows[#rows + 1] = row("4. `T.matmul`, 1024² f32", T .. " (hebb default)", "ms", 1.05,
    "hebb.sgemm", "c.sgemm", "cblas_sgemm", "numpy.sgemm", "torch.sgemm")
rows[#rows + 1] = row("5. start-up `hebb -e ''`", "—", "ms", 4,
    "startup.hebb", "startup.lua", "lua5.4", nil, nil)
-- svd and eigh: the goal is against numpy with its OpenBLAS at one thread,
-- as hebb runs LAPACK; the ratio to numpy at its default threads follows
local npt = R["numpy.blas_threads"] or "?"
local function linalg_row(name, key, lapack)
  local r = row(name, "1 (serial LAPACK), numpy 1; numpy column: its default, " .. npt,
                "ms", 1.1,
                "hebb." .. key, "numpy1t." .. key, "numpy 1 thread", "numpy." .. key, nil)
  r.extra = function(h)
    local d, c = num("numpy." .. key), num("c." .. lapack .. "512")
    return (d and string.format("; vs numpy at %s threads: %.2fx", npt, h / d) or "") ..
           (c and string.format("; vs %s from C, same process: %.2fx", lapack, h / c) or "")
  end
  rows[#rows + 1] = r
end
linalg_row("6. `linalg.svd(A)`, 512² f64", "svd512", "dgesdd")
linalg_row("7. `linalg.eigh(S)`, 512² f64", "eigh512", "dsyevd")
local function spmv_row(t)
  rows[#rows + 1] = row("8. `L:matmul(x,{out=y})`, 256² periodic lattice Laplacian",
      t == T and t .. " (hebb default)" or tostring(t), "ms", 1.3,
      "hebb." .. t .. "t.spmv", "c.native." .. t .. "t.spmv", "hand C CSR", nil, nil)
end
spmv_row(1)
if T ~= 1 then spmv_row(T) end
do
  local r = row("9. `fft.fft(z)`, 2^20 c128", T .. " (hebb default); numpy 1 (pocketfft)",
                "ms", 0.5, "hebb.fft", "numpy.fft", "numpy.fft", "numpy.fft", nil)
  r.unavailable = R["hebb.fft_available"] == "no"
  rows[#rows + 1] = r
end

-- threads under contention (bench/contention.sh): the ratio is the median
-- over reps of default / --threads 1, each rep a pair under the same load
local function contention_row(label, key, goal)
  local k = "contention." .. key
  local r = row("12. `T.add(a,b,{out=o}); o:sum()` loop, 3e5 f64, " .. label,
                "default (" .. T .. ") vs 1", "ms", goal,
                k .. ".default", k .. ".one", "--threads 1", nil, nil)
  r.ratio = k .. ".ratio"
  r.extra = function() return "; per rep: " .. (R[k .. ".ratios"] or "?") end
  rows[#rows + 1] = r
end
contention_row("quiet", "quiet", 0.8)
contention_row("beside a CPU-bound process", "busy", 1.1)
contention_row("two processes at once", "pair", 1.1)
-- statistical mechanics (bench/statmech.lua against bench/statmech_ref.c,
-- Philox on both sides; numpy's vectorized checkerboard for context)
for _, t in ipairs({ 1, 2 }) do
  rows[#rows + 1] = row("17. `lat:metropolis(s, beta)`, one checkerboard sweep, 256² Ising",
      tostring(t), "ms", 1.2, "sm.metro." .. t .. "t.hebb", "sm.metro." .. t .. "t.c",
      "plain C, Philox", t == 1 and "sm.numpy.metro" or nil, nil)
end
rows[#rows + 1] = row("18. `lat:wolff(s, beta_c)`, 256², per flipped spin", "1", "ns", 1.5,
    "sm.wolff.hebb", "sm.wolff.c", "plain C, Philox", nil, nil)
rows[#rows + 1] = row("19. `stats.binning(x)`, 10⁷ samples", T .. " (hebb default); C 1", "ms", 1.2,
    "sm.binning.hebb", "sm.binning.c", "plain C loops", nil, nil)
rows[#rows + 1] = row("20. `stats.autocorr(x)` (tau_int, Sokal window), 10⁷ samples, tau 10",
    T .. " (hebb default); C 1", "ms", 1.2, "sm.tau.hebb", "sm.tau.c", "plain C loops", nil, nil)
-- tensor RG (bench/rg.lua, bench/rg_np.py: the same TRG, lnz to rounding)
do
  local r = row("24. `rg.trg(A, {chi=24, steps=40})`, 2D Ising at T_c",
      T .. " (hebb default); numpy 1",
      "ms", 0.5, "rg.trg24.hebb", "rg.trg24.numpy", "numpy TRG (full svd)", nil, nil)
  r.extra = function()
    local hot = num("rg.hotrg16.hebb")
    local a, b = tonumber(R["rg.trg24.hebb_lnz"]), tonumber(R["rg.trg24.numpy_lnz"])
    return (hot and string.format("; HOTRG chi=16, 40 steps: %s", fmt(hot, "ms")) or "") ..
           (a and b and string.format("; ln Z/N differ by %.1e", math.abs(a - b)) or "")
  end
  rows[#rows + 1] = r
end
rows[#rows + 1] = row("25. `linalg.svd(A, {rank=32})`, 2048² f64, spectrum 1/i",
    T .. " (hebb default)",
    "ms", 0.2, "rg.svd_rank32", "rg.svd_full", "full `linalg.svd(A)`", nil, nil)

local out = {}
local function say(s) out[#out + 1] = s end

local function env(key) return R["env." .. key] or "?" end
say("# hebb benchmarks")
say("")
say(string.format("Run %s on %s, %s cores (load average before the run: %s); " ..
                  "hebb threads %d (default).", env("date"), env("cpu"), env("cores"),
                  env("load"), T))
say(string.format("Environment: OPENBLAS_CORETYPE=%s, HEBB_THREADS=%s, OMP_NUM_THREADS=%s, " ..
                  "OPENBLAS_NUM_THREADS=%s.", env("OPENBLAS_CORETYPE"), env("HEBB_THREADS"),
                  env("OMP_NUM_THREADS"), env("OPENBLAS_NUM_THREADS")))
say(string.format("numpy %s (single-threaded loops; BLAS %s at %s threads); torch %s, " ..
                  "torch.get_num_threads() = %s.", R["numpy.version"] or "?", env("numpy_blas"),
                  R["numpy.blas_threads"] or "?", R["torch.version"] or "?",
                  R["torch.threads"] or "?"))
say(string.format("Hand C (bench/cref.c, run in hebb's process, rep by rep in turn with " ..
                  "hebb): %s, %s; cblas_sgemm: hebb's OpenBLAS (OpenMP build, core %s) at " ..
                  "%s thread(s).", env("cc"), R["c.native.flags"] or "?", R["c.sgemm_core"] or "?",
                  R["c.sgemm_threads"] or "?"))
say("Times: best of " .. env("rounds") .. " rounds × " .. env("reps") ..
    " warm repetitions (dispatch: 5 loops of " .. env("loop") .. " per round; start-up: " ..
    env("startup_method") .. ").")
say("Row 12: median over " .. env("contention") .. " (each rep runs both sides in turn " ..
    "under the same extra load; bench/contention.sh).")
local load1 = tonumber((env("load"):match("^%S+")))
if load1 and load1 > 0.5 then
  say("")
  say(string.format("**Warning: the machine was busy (load average %.2f before the run); " ..
                    "other processes share its 2 cores and memory bandwidth, so the times " ..
                    "and ratios below are unreliable.  Rerun on a quiet machine.**", load1))
end
say("")
say("| benchmark | threads | hebb | reference | numpy | torch | hebb / reference |")
say("|---|---|---|---|---|---|---|")
local met, measured = 0, 0
for _, r in ipairs(rows) do
  local h = not r.unavailable and num(r.hebb)
  local ref, np = num(r.ref), r.np and num(r.np)
  local tc = r.tc and num(r.tc)
  local ratio
  if r.unavailable then
    ratio = "not available (hebb." .. r.hebb:match("[^.]+$") .. " cannot be loaded)"
  elseif h and ref then
    local x = r.ratio and num(r.ratio) or h / ref
    measured = measured + 1
    if x <= r.goal then met = met + 1 end
    ratio = string.format("%.2fx (goal <= %gx) %s", x, r.goal, x <= r.goal and "MET" or "NOT MET")
    if r.extra then ratio = ratio .. r.extra(h) end
  else
    measured = measured + 1
    ratio = "FAILED (no result)"
  end
  say(string.format("| %s | %s | %s | %s: %s | %s | %s | %s |", r.name, r.threads,
                    fmt(h, r.unit), r.ref_label, fmt(ref, r.unit),
                    r.np and fmt(np, r.unit) or "—", r.tc and fmt(tc, r.unit) or "—", ratio))
end
say("")
say(string.format("Goals met: %d of %d%s.", met, measured,
                  measured < #rows and string.format(" (%d row(s) not available)",
                                                     #rows - measured) or ""))
say("")

-- context: the compiler-flag comparison, bandwidths, GEMM rate, determinism
local function opt(key) return tonumber(R[key]) end
local notes = {}
for _, t in ipairs(T ~= 1 and {1, T} or {1}) do
  local parts = {}
  for _, k in ipairs({"fma_f32", "sum_f64", "sum_f32"}) do
    local o3, nat = opt("c.O3." .. t .. "t." .. k), opt("c.native." .. t .. "t." .. k)
    if o3 and nat then
      parts[#parts + 1] = string.format("%s %s vs %s", k, fmt(o3, "ms"), fmt(nat, "ms"))
    end
  end
  if #parts > 0 then
    notes[#notes + 1] = string.format("hand C at %d thread(s), -O3 vs -O3 -march=native: %s " ..
                                      "(the table uses -march=native).", t, table.concat(parts, "; "))
  end
end
local cf = opt("c.native.1t.fma_f32")
local cs = opt("c.native.1t.sum_f64")
if cf and cs then
  notes[#notes + 1] = string.format("hand C, 1 thread: a*b+c moves %.1f GB/s (16 B/element), " ..
                                    "sum f64 reads %.1f GB/s.", 16 * n / cf / 1e9, 8 * n / cs / 1e9)
end
local hs, cg = opt("hebb.sgemm"), opt("c.sgemm")
if hs and cg then
  notes[#notes + 1] = string.format("matmul rate: hebb %.0f GFLOP/s, cblas_sgemm %.0f GFLOP/s " ..
                                    "(2·1024³ flops).", 2 * 1024 ^ 3 / hs / 1e9, 2 * 1024 ^ 3 / cg / 1e9)
end
local c1 = opt("c.native.1t.spmv")
local nnz = opt("spmv.nnz")
if c1 and nnz then
  notes[#notes + 1] = string.format("spmv: %d stored entries; the hand C loop (int64 indices, " ..
                                    "as hebb's CSR) moves %.1f GB/s at 1 thread (16 B per entry, " ..
                                    "24 B per row).", nnz, (16 * nnz + 24 * 65536) / c1 / 1e9)
end
if R["numpy1t.blas_threads"] then
  notes[#notes + 1] = "numpy's svd/eigh at one thread ran in a separate process with " ..
                      "OPENBLAS_NUM_THREADS=1 (its BLAS then reported " ..
                      R["numpy1t.blas_threads"] .. " thread(s))."
end
if R["hebb.sum_same_bits"] then
  notes[#notes + 1] = "hebb sums give the same bits at 1 and " .. T .. " threads: " ..
                      R["hebb.sum_same_bits"] .. "."
end
for _, n in ipairs(notes) do say("- " .. n) end
for _, k in ipairs(missing) do say("- MISSING result: " .. k) end
local errors = {}
for k, v in pairs(R) do
  if k:match("%.error$") then errors[#errors + 1] = "- ERROR " .. k .. ": " .. v end
end
table.sort(errors)
for _, e in ipairs(errors) do say(e) end

local text = table.concat(out, "\n") .. "\n"
io.write(text)
local f = assert(io.open(md_file, "w"))
f:write(text)
f:close()
if #missing > 0 then
  io.stderr:write("bench: ", #missing, " result(s) missing: a benchmark failed to run\n")
  os.exit(1)
end
