-- test_runs.lua -- hebb.runs (stdlib/hebb/runs.lua): runs.query turns a
-- sweep's runs into series ready to plot (means and errors checked against
-- sums done here), picks one code version, filters, names unknown
-- parameters; and the `hebb runs` command: list, show, compare, export to
-- CSV and .npz (read back), rm, exit statuses.
local check = require "check"
local T = require "hebb.tensor"
local hio = require "hebb.io"
local sweep = require "hebb.sweep"
local runs = require "hebb.runs"
local test, eq, raises, truthy, near = check.test, check.eq, check.raises, check.truthy, check.near

local HEBB = os.getenv("HEBB") or (os.getenv("PWD") .. "/build/hebb")
local dir = os.tmpname()
os.remove(dir)
os.execute("mkdir -p " .. dir)
local db = dir .. "/runs.db"
local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local _, _, code = p:close()
  return out, code
end

-- a model with a known answer: E = -T*L/10 + noise(seed); three seeds
local function model(p)
  local noise = T.randn(1):item() * 0.01
  return { E = -p.T * p.L / 10 + noise, dE = 0.02, spins = T.ones(p.L), label = "L" .. p.L }
end
local swept = sweep.run({ L = { 4, 8 }, T = { 3, 1, 2 }, seed = { 1, 2, 3 } }, model,
                        { db = db, name = "ising" })

-- the mean and standard error over seeds, by hand
local function expected(L, Tv)
  local ys = {}
  for _, e in ipairs(swept) do
    if e.params.L == L and e.params.T == Tv then ys[#ys + 1] = e.results.E end
  end
  local s = 0
  for _, y in ipairs(ys) do s = s + y end
  local m, v = s / #ys, 0
  for _, y in ipairs(ys) do v = v + (y - m) ^ 2 end
  return m, math.sqrt(v / (#ys - 1) / #ys), #ys
end

test("query_series", function()
  local s = runs.query{ db = db, sweep = "ising", x = "T", y = "E", by = "L" }
  eq(#s, 2, "one series per L")
  eq(s[1].value, 4)
  eq(s[2].label, "L=8")
  for _, series in ipairs(s) do
    check.same(series.x, { 1, 2, 3 }, 0, "x sorted")
    for i = 1, 3 do
      local m, e, n = expected(series.value, i)
      near(series.y[i], m, 1e-15, "mean")
      near(series.err[i], e, 1e-15, "standard error")
      eq(series.n[i], n)
    end
  end
  eq(s[1].n.dtype, "i64")
  -- with an error per run: sqrt(sum e^2) / n
  local w = runs.query{ db = db, x = "T", y = "E", err = "dE", where = { L = 8 } }
  eq(#w, 1)
  near(w[1].err[1], math.sqrt(3 * 0.02 ^ 2) / 3, 1e-15)
  -- a parameter as y, and where with a list
  local p = runs.query{ db = db, x = "T", y = "L", where = { L = { 8 }, seed = 2 } }
  check.same(p[1].y, { 8, 8, 8 })
  eq(p[1].n[1], 1)
  truthy(p[1].err[1] ~= p[1].err[1], "one run: NaN error")
end)

test("query_runs_and_code", function()
  local all = runs.query{ db = db, where = { L = 4, T = 2 } }
  eq(#all, 3)
  eq(all[1].point.L, 4)
  eq(all[1].results.spins.shape[1], 4)
  -- a new code version of part of the sweep: the query uses the newest
  sweep.run({ L = { 4 }, T = { 1 }, seed = { 1 } }, model, { db = db, name = "ising", code = "v2" })
  local newest = runs.query{ db = db, sweep = "ising" }
  eq(#newest, 1, "only the newest code version")
  eq(#runs.query{ db = db, sweep = "ising", code = swept[1] and runs.get(swept[1].id, { db = db }).code }, 18)
  eq(#runs.query{ db = db, sweep = "ising", code = "any" }, 18, "newest run of each point")
end)

test("query_errors", function()
  raises(function() runs.query{ db = db, x = "Temp", y = "E" } end,
         "runs.query: sweep 'ising' has no parameter or result \"Temp\"")
  raises(function() runs.query{ db = db, x = "t", y = "E", code = "any" } end,
         "(did you mean 'T'?)")
  raises(function() runs.query{ db = db, x = "T", y = "spins", code = "any" } end,
         "runs.query: y 'spins' of run ")
  raises(function() runs.query{ db = db, x = "T", y = "label", code = "any" } end,
         "is \"L4\" (a number expected)")
  raises(function() runs.query{ db = db, x = "T" } end, "runs.query: give both x and y (or neither)")
  raises(function() runs.query{ db = db, xx = 1 } end, "runs.query: unknown option \"xx\" (did you mean 'x'?)")
  raises(function() runs.query{ db = db, sweep = "nope" } end,
         "runs.query: sweep 'nope' has no finished runs in '" .. db .. "'")
  raises(function() runs.query{ db = dir .. "/missing.db" } end,
         "runs.query: no results store '" .. dir .. "/missing.db' (run a sweep first, or give the path)")
  sweep.run({ a = { 1 } }, function() return { b = 1 } end, { db = db, name = "other" })
  raises(function() runs.query{ db = db } end,
         "runs.query: the store '" .. db .. "' holds several sweeps (ising, other); say which with sweep = name")
end)

test("cli_list_show_compare", function()
  local out, code = sh(HEBB .. " runs --db " .. db .. " list ising")
  eq(code, 0)
  local lines = {}
  for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
  eq(#lines, 1 + 19, "header and 19 runs")
  truthy(lines[2]:find("ising%s+done") and lines[2]:find("L=4 T=3 seed=1", 1, true), lines[2])
  out = sh(HEBB .. " runs --db " .. db .. " show 1")
  truthy(out:find("run 1 of sweep 'ising': done", 1, true), out)
  truthy(out:find("params         L=4 T=3 seed=1", 1, true), out)
  truthy(out:find("\n  E%s+%-1%.%d+\n"), out)
  truthy(out:find("spins          [1., 1., 1., 1.]", 1, true), out)
  truthy(out:find("seed           %d+"), out)
  out = sh(HEBB .. " runs --db " .. db .. " compare 1 4")
  truthy(out:find("T              3%s+1%s+%-2"), out)
  truthy(out:find("spins%s+f64 tensor of shape {4}%s+f64 tensor of shape {4}%s+max |diff| 0"), out)
  out, code = sh(HEBB .. " runs --db " .. db .. " show 999 2>&1")
  eq(code, 1)
  eq(out, "hebb runs: runs.show: no run 999 in '" .. db .. "'\n")
  out, code = sh(HEBB .. " runs --db " .. db .. " frobnicate 2>&1")
  eq(code, 2)
  truthy(out:find("unknown command 'frobnicate'", 1, true))
  out, code = sh(HEBB .. " runs --db " .. db .. " show 2>&1")
  eq(code, 2)
  truthy(out:find("usage: expected a run id, got nil", 1, true), out)
  out, code = sh("cd " .. dir .. " && " .. HEBB .. " runs list 2>&1")
  eq(code, 1)
  eq(out, "hebb runs: runs.list: no results store 'hebb-runs.db' (run a sweep first, or give the path)\n")
  out, code = sh(HEBB .. " -- runs 2>&1")
  truthy(code ~= 0 and out:find("cannot open runs", 1, true), "after -- it is a script: " .. out)
end)

test("cli_export", function()
  local csv = dir .. "/out.csv"
  local out, code = sh(HEBB .. " runs --db " .. db .. " export --csv " .. csv .. " --sweep ising 2>&1")
  eq(code, 0)
  truthy(out:find("wrote 1 runs", 1, true), out)   -- the newest code version: 1 run
  out = sh(HEBB .. " runs --db " .. db .. " export --csv - --sweep other")
  eq(out, "id,a,b\n20,1,1\n")
  local n = runs.export_csv(csv, { db = db, sweep = "ising", code = "any" })
  eq(n, 18)
  local f = assert(io.open(csv))
  local header = f:read("l")
  eq(header, "id,L,T,seed,E,dE,label")
  local first = f:read("l")
  f:close()
  local fields = {}
  for x in first:gmatch("[^,]+") do fields[#fields + 1] = x end
  local r = runs.get(tonumber(fields[1]), { db = db })
  eq(tonumber(fields[5]), r.results.E, "E exact in CSV")
  local npz = dir .. "/out.npz"
  eq(runs.export_npz(npz, { db = db, sweep = "ising", code = "any" }), 18)
  local a = hio.load_npz(npz)
  eq(a.id.dtype, "i64")
  eq(a.E:numel(), 18)
  eq(a.spins, nil, "spins differ in shape between L=4 and L=8: left out")
  local idx = 0
  for i = 1, 18 do if a.id[i] == r.id then idx = i end end
  eq(a.E[idx], r.results.E)
  out, code = sh(HEBB .. " runs --db " .. db .. " export --npz " .. npz .. " --sweep other")
  eq(code, 0)
  eq(hio.load_npz(npz).b[1], 1.0)
  out, code = sh(HEBB .. " runs --db " .. db .. " export 2>&1")
  eq(code, 2)
end)

test("rm", function()
  local out, code = sh(HEBB .. " runs --db " .. db .. " rm 20")
  eq(code, 0)
  eq(out, "removed 1 runs\n")
  local calls = 0
  sweep.run({ a = { 1 } }, function() calls = calls + 1; return { b = 1 } end, { db = db, name = "other" })
  eq(calls, 1, "a removed point is computed again")
  eq(runs.rm{ db = db, sweep = "other" }, 1)
  raises(function() runs.rm{ db = db } end, "runs.rm: give ids = {...} or sweep = name")
  raises(function() runs.rm{ db = db, ids = { 0 } } end, "runs.rm: an id must be an integer >= 1, got 0")
end)

-- every public function of hebb.sweep and hebb.runs called with junk either
-- works or raises hebb's own message at the caller's line
test("junk_arguments", function()
  local FILE = debug.getinfo(1, "S").short_src
  local nan = 0 / 0
  local junk = { { nil }, { "junk" }, { -1 }, { nan }, { 1e300 }, { {} }, { 3, "junk" },
                 { T.ones(2), -5 }, { T.ones(2), { bogus = 1 } }, { { T = { 1 } }, "junk" } }
  local bad, n = {}, 0
  local cwd_db = io.open("hebb-runs.db")
  for mname, mod in pairs{ sweep = sweep, runs = runs } do
    for k, f in pairs(mod) do
      if type(f) == "function" and k:sub(1, 1) ~= "_" then
        n = n + 1
        for _, args in ipairs(junk) do
          local ok, err = pcall(f, table.unpack(args, 1, 2))
          err = tostring(err)
          if not ok and (err:sub(1, #FILE + 1) ~= FILE .. ":" or err:find("attempt to")
                         or err:find("bad argument")) then
            bad[#bad + 1] = mname .. "." .. k .. ": " .. err:gsub("\n.*", "")
          end
        end
      end
    end
  end
  truthy(n >= 11, "functions: " .. n)
  eq(table.concat(bad, "\n"), "", "calls that fail badly")
  if not cwd_db then
    eq(io.open("hebb-runs.db"), nil, "no store was made by a bad call")
  end
end)

os.execute("rm -rf " .. dir)
check.done()
