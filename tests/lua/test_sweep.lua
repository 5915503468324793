-- test_sweep.lua -- hebb.sweep and its results store (stdlib/hebb/sweep.lua,
-- _store.lua over natives/core/sqlite.c, workers through natives/core/jobs.c):
-- points and keys, caching by parameters and code, exact round trips of
-- results, the same bits with 1, 2 and 3 worker processes, every bad input
-- refused by name, a locked or corrupt store, and sweeps killed (kill -9,
-- SIGINT) halfway that resume without losing a finished point.
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"
local sweep = require "hebb.sweep"
local runs = require "hebb.runs"
local S = require "hebb._sqlite"
local J = require "hebb._jobs"
local test, eq, raises, truthy = check.test, check.eq, check.raises, check.truthy

local HEBB = os.getenv("HEBB") or (os.getenv("PWD") .. "/build/hebb")
local dir = os.tmpname()
os.remove(dir)
os.execute("mkdir -p " .. dir)
local function path(name) return dir .. "/" .. name end
local function spit(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end
local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

local function count(db, where)
  local d <close> = S.open(db, true)
  return d:query("SELECT count(*) FROM runs" .. (where and (" WHERE " .. where) or ""))[1][1]
end

test("points_product_and_keys", function()
  local pts = sweep.points{ L = { 8, 16 }, T = T.linspace(2, 3, 3), model = "ising" }
  eq(#pts, 6, "product size")
  -- names sorted, the first varying slowest
  eq(sweep.key(pts[1]), "L=8 T=2 model=\"ising\"")
  eq(sweep.key(pts[2]), "L=8 T=2.5 model=\"ising\"")
  eq(sweep.key(pts[6]), "L=16 T=3 model=\"ising\"")
  local o = sweep.points({ L = { 8, 16 }, T = { 1, 2 } }, { order = { "T", "L" } })
  eq(sweep.key(o[2]), "L=16 T=1", "order: T slowest")
  eq(sweep.key{ T = 2.0 }, sweep.key{ T = 2 }, "2.0 and 2 are one point")
  eq(sweep.key{ x = 0.1, b = true }, "b=true x=0.1", "shortest exact decimal")
  eq(sweep.key{ x = 1 / 3 }, "x=0.3333333333333333")
  eq(tonumber(sweep.key{ x = 1 / 3 }:sub(3)), 1 / 3, "reads back exactly")
  local e = sweep.points{ { a = 1 }, { a = 2, b = "x" } }
  eq(#e, 2)
  eq(e[2].b, "x")
end)

test("bad_params", function()
  local f = function() return {} end
  local db = path("bad.db")
  raises(function() sweep.run({ T = { 1, 0 / 0 } }, f, { db = db }) end,
         "sweep.run: parameter 'T' is NaN")
  raises(function() sweep.run({ T = { { 1 } } }, f, { db = db }) end,
         "sweep.run: parameter 'T' has the value a table (numbers, strings and booleans are parameters)")
  raises(function() sweep.run({ T = {} }, f, { db = db }) end, "sweep.run: parameter 'T' has no values")
  raises(function() sweep.run({ T = { 1, 2 }, ["2x"] = 1 }, f, { db = db }) end,
         "sweep.run: a parameter name must be an identifier, got \"2x\"")
  raises(function() sweep.run({ { a = 1 }, { a = 1.0 } }, f, { db = db }) end,
         "sweep.run: point 2 repeats point 1 (a=1)")
  raises(function() sweep.run(5, f) end,
         "sweep.run: params must be a table of parameter lists or a list of points, got 5")
  raises(function() sweep.run({ T = { 1 } }, 5) end, "sweep.run: f must be a function, got 5")
  raises(function() sweep.run({ T = { 1 } }, f, { jbos = 2 }) end,
         "sweep.run: unknown option \"jbos\" (did you mean 'jobs'?)")
  raises(function() sweep.run({ T = { 1 } }, f, { jobs = 0 }) end,
         "sweep.run: jobs must be an integer in 1..256, got 0")
  raises(function() sweep.run({ T = { 1 } }, f, { on_error = "skip" }) end,
         "sweep.run: on_error must be \"stop\" or \"continue\", got \"skip\"")
  raises(function() sweep.points({ T = { 1 } }, { order = { "L" } }) end,
         "sweep.points: order names 'L', which is not a parameter")
end)

test("cache_by_params_and_code", function()
  local db, n = path("cache.db"), 0
  local function f(p)
    n = n + 1
    return { E = -p.J * p.T, L = p.L }
  end
  local r = sweep.run({ T = { 1, 2 }, J = 1, L = 4 }, f, { db = db, name = "c" })
  eq(n, 2, "computed first time")
  eq(r.computed, 2)
  eq(r.cached, 0)
  eq(r[2].results.E, -2.0)
  truthy(not r[1].cached)
  r = sweep.run({ T = { 1, 2 }, J = 1, L = 4 }, f, { db = db, name = "c" })
  eq(n, 2, "nothing recomputed")
  eq(r.cached, 2)
  eq(r[1].results.E, -1.0, "cached results come back")
  r = sweep.run({ T = { 1, 2, 3.5 }, J = 1, L = 4 }, f, { db = db, name = "c" })
  eq(n, 3, "only the new temperature")
  eq(r[3].results.E, -3.5)
  eq(r.computed, 1)
  r = sweep.run({ T = { 1, 2 }, J = 1, L = 4 }, f, { db = db, name = "c", code = "v2" })
  eq(n, 5, "another code version recomputes")
  eq(count(db), 5, "old runs stay")
  -- the code is the file f comes from: editing it makes a new version
  local file = path("model.lua")
  spit(file, "return function(p) return { y = p.x * 2 } end\n")
  local g1 = dofile(file)
  local h1 = sweep.code_hash(g1)
  spit(file, "-- a comment\nreturn function(p) return { y = p.x * 2 } end\n")
  local g2 = dofile(file)
  truthy(sweep.code_hash(g2) ~= h1, "editing the file changes the hash")
  eq(sweep.code_hash(g1), sweep.code_hash(g2), "the file, not the closure, is hashed")
  eq(#sweep.code_hash(g1), 16)
  truthy(sweep.code_hash(g1, { files = { file } }) ~= sweep.code_hash(g1), "files add to it")
  -- the default name is the file's
  sweep.run({ x = { 1 } }, g2, { db = db })
  eq(count(db, "sweep = 'model'"), 1, "named after model.lua")
end)

test("results_round_trip", function()
  local db = path("rt.db")
  local want = {
    f64 = T.randn(3, 4), f32 = T.randn(5):astype("f32"), i64 = T.arange(1, 6),
    b = T.tensor({ true, false, true }, { dtype = "bool" }),
    c = T.complex(T.randn(2), T.randn(2)), view = T.randn(4, 4):t(),
    nested = { list = { 1, 2.5, "x" }, flag = false, inf = math.huge }, s = "a\0b",
  }
  local r = sweep.run({ k = { 1 } }, function() return want end, { db = db })
  local got = runs.get(r[1].id, { db = db }).results
  for _, k in ipairs{ "f64", "f32", "i64", "b", "c", "view" } do
    eq(got[k].dtype, want[k].dtype, k .. " dtype")
    eq(got[k]:tobytes(), want[k]:contiguous():tobytes(), k .. " bits")
  end
  eq(got.nested.list[2], 2.5)
  eq(math.type(got.nested.list[1]), "integer")
  eq(got.nested.inf, math.huge)
  eq(got.nested.flag, false)
  eq(got.s, "a\0b")
end)

-- f draws random numbers: every point has its own seed, so the bits do not
-- depend on how many workers ran the points, nor in which order
local function noisy(p)
  local x = T.randn(50) * p.s + p.m
  return { mean = x:mean(), x = x, r = math.random() }
end

test("same_bits_at_1_2_3_jobs", function()
  local params = { m = { 0, 1, 2 }, s = { 0.5, 2 } }
  local base = sweep.run(params, noisy, { db = path("j1.db"), jobs = 1, name = "n" })
  for _, jobs in ipairs{ 2, 3 } do
    local r = sweep.run(params, noisy, { db = path("j" .. jobs .. ".db"), jobs = jobs, name = "n" })
    eq(r.computed, 6)
    for i = 1, 6 do
      eq(r[i].results.x:tobytes(), base[i].results.x:tobytes(), "jobs " .. jobs .. " point " .. i)
      eq(r[i].results.r, base[i].results.r)
    end
  end
  local m = runs.get(base[1].id, { db = path("j1.db") }).manifest
  eq(m.hebb, hebb.version, "manifest: version")
  eq(m.host, J.hostname(), "manifest: host")
  eq(math.type(m.seed), "integer", "manifest: seed")
  eq(m.threads, hebb.threads(), "manifest: threads")
  eq(runs.get(sweep.run(params, noisy, { db = path("j2.db"), jobs = 2, name = "n", code = "x" })[1].id,
               { db = path("j2.db") }).manifest.threads, 1, "workers run at one thread")
  -- other seeds give other numbers; the default generator is put back
  local before = T.rand(1):item()
  T.manual_seed(0)
  T.rand(1)
  local r = sweep.run(params, noisy, { db = path("j4.db"), seed = 7, name = "n" })
  truthy(r[1].results.r ~= base[1].results.r, "seed changes results")
  eq(T.rand(1):item() ~= before, true)
end)

test("f_errors", function()
  local db = path("err.db")
  raises(function() sweep.run({ T = { 1 } }, function(p) return { x = p.t } end, { db = db }) end,
         "sweep: the point has no parameter \"t\" (it has T); did you mean 'T'?")
  raises(function() sweep.run({ T = { 1 } }, function() return 5 end, { db = db }) end,
         "sweep.run: point T=1 failed: f returned 5 (a table of results expected)")
  raises(function() sweep.run({ T = { 1 } }, function() return { f = print } end, { db = db }) end,
         "sweep.run: point T=1 failed: its results cannot be stored: io.encode: cannot save a function (at value.f)")
  local rows = runs.list{ db = db }
  eq(rows[#rows].status, "error", "the failure is recorded")
  -- continue: the others still run; a later run retries the failed point
  local calls = 0
  local function f(p)
    calls = calls + 1
    if p.T == 2 then error("boom") end
    return { y = p.T }
  end
  local r = sweep.run({ T = { 1, 2, 3 } }, f, { db = db, name = "e", on_error = "continue" })
  eq(r.errors, 1)
  eq(r[2].status, "error")
  truthy(r[2].error:find("boom", 1, true), r[2].error)
  eq(r[3].results.y, 3)
  raises(function() sweep.run({ T = { 1, 2, 3 } }, f, { db = db, name = "e" }) end,
         "sweep.run: point T=2 failed: ")
  eq(calls, 4, "only the failed point ran again")
  -- a job that dies is named with its point
  raises(function()
    sweep.run({ T = { 1, 2 } }, function(p)
      if p.T == 2 then os.execute("kill -9 " .. J.pid()) ; J.poll({}, 5) end
      return { y = 1 }
    end, { db = db, name = "die", jobs = 2 })
  end, "sweep.run: job 2 ended (signal 9) while computing point T=2")
end)

test("locked_and_corrupt_store", function()
  local db = path("lock.db")
  sweep.run({ T = { 1 } }, function() return {} end, { db = db, name = "l" })
  local other <close> = S.open(db)
  other:exec("BEGIN IMMEDIATE")
  other:exec("INSERT INTO hebb_store VALUES('held', 'x')")
  local t0 = J.now()
  raises(function() sweep.run({ T = { 2 } }, function() return {} end, { db = db, name = "l", timeout = 0.2 }) end,
         "sweep.run: the results store '" .. db .. "' is locked by another process (waited 0.2 s; the option timeout = seconds waits longer)")
  truthy(J.now() - t0 >= 0.15, "it waited")
  other:exec("ROLLBACK")
  eq(sweep.run({ T = { 2 } }, function() return { ok = true } end, { db = db, name = "l" })[1].results.ok, true,
     "works once released")
  local bad = path("garbage.db")
  spit(bad, string.rep("not a database ", 100))
  raises(function() sweep.run({ T = { 1 } }, function() return {} end, { db = bad }) end,
         "sweep.run: '" .. bad .. "' is not a readable results store (file is not a database)")
  local foreign = path("foreign.db")
  local f <close> = S.open(foreign)
  f:exec("CREATE TABLE t(x)")
  raises(function() sweep.run({ T = { 1 } }, function() return {} end, { db = foreign }) end,
         "sweep.run: '" .. foreign .. "' is an SQLite database but not a hebb results store")
  raises(function() sweep.run({ T = { 1 } }, function() return {} end, { db = dir .. "/no/such/dir/x.db" }) end,
         "sweep.run: '" .. dir .. "/no/such/dir/x.db': cannot open it (SQLite: unable to open database file)")
end)

local function alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if f then f:close() end
  return f ~= nil
end

-- a sweep of 8 points of ~150 ms in another process (long enough that the
-- rows are counted and the signal sent before it ends, also under ASan),
-- stopped with signal sig once 'after' rows are in; run again, it computes
-- only the rest and keeps every finished point (same id)
local function interrupt_and_resume(name, jobs, sig, after)
  local db, script = path(name .. ".db"), path(name .. ".lua")
  spit(script, ([[
local sweep, J = require "hebb.sweep", require "hebb._jobs"
local r = sweep.run({ i = { 1, 2, 3, 4, 5, 6, 7, 8 } }, function(p)
  J.poll({}, 0.15)
  return { sq = p.i * p.i }
end, { db = %q, jobs = %d, name = "k" })
print("finished", r.computed, r.cached, r[8].results.sq)
]]):format(db, jobs))
  local pid = tonumber(sh(HEBB .. " " .. script .. " > " .. script .. ".log 2>&1 & echo $!"))
  local t0 = J.now()
  while J.now() - t0 < 30 do
    J.poll({}, 0.03)
    local ok, n = pcall(count, db)
    if ok and n >= after then break end
  end
  os.execute("kill -" .. sig .. " " .. pid)
  while J.now() - t0 < 30 and alive(pid) do J.poll({}, 0.03) end
  local before = count(db)
  truthy(before >= after and before < 8, "stopped halfway: " .. before .. " rows")
  local log = sh("cat " .. script .. ".log")
  truthy(not log:find("finished"), "the sweep did not finish")
  if sig == "INT" then truthy(log:find("interrupted", 1, true), log) end
  local d <close> = S.open(db, true)
  eq(d:query("PRAGMA integrity_check")[1][1], "ok", "the store is intact")
  eq(d:query("SELECT count(*) FROM runs WHERE status != 'done'")[1][1], 0, "no half-made row")
  local ids = {}
  for _, r in ipairs(runs.list{ db = db }) do ids[r.params] = r.id end
  local out = sh(HEBB .. " " .. script .. " 2>&1")
  eq(out, ("finished\t%d\t%d\t64\n"):format(8 - before, before), "resumed")
  eq(count(db), 8)
  for _, row in ipairs(runs.list{ db = db }) do
    if ids[row.params] then eq(row.id, ids[row.params], "finished point kept: " .. row.params) end
  end
end

-- under `hebb --sandbox` the store is a file write like any other, and
-- worker processes are processes
test("sandbox", function()
  local script = path("sandboxed.lua")
  spit(script, [[
local sweep = require "hebb.sweep"
print(pcall(sweep.run, { a = { 1, 2 } }, function(p) return { x = p.a } end, { db = "x.db" }))
print(pcall(require("hebb._jobs").fork))
]])
  local out = sh("cd " .. dir .. " && " .. HEBB .. " --sandbox sandboxed.lua 2>&1")
  truthy(out:find("sweep.run: sandbox: writing 'x.db' is not allowed", 1, true), out)
  truthy(out:find("sandbox: worker processes are not allowed (run the sweep with jobs = 1)", 1, true), out)
  eq(io.open(path("x.db")), nil, "no store was made")
end)

test("kill9_serial_resumes", function() interrupt_and_resume("k9s", 1, "9", 3) end)
test("kill9_jobs_resumes", function() interrupt_and_resume("k9j", 2, "9", 3) end)
test("sigint_resumes", function() interrupt_and_resume("int", 1, "INT", 3) end)
test("sigint_jobs_resumes", function() interrupt_and_resume("intj", 2, "INT", 3) end)

os.execute("rm -rf " .. dir)
check.done()
