-- hebb.runs: reading the results store that hebb.sweep writes.
--
-- runs.query{...} turns the runs of a sweep into tensors ready to plot (y
-- against x, one series per value of a third parameter, with error bars);
-- runs.list/show/compare/export/rm are the `hebb runs ...` command, whose
-- entry point is runs.main(args).
local T = require "hebb.tensor"
local hio = require "hebb.io"
local E = require "hebb._error"
local store = require "hebb._store"
local sweep = require "hebb.sweep"
local doc = require("hebb").doc

local M = {}
local fmt = string.format

local function open(who, db, write)
  if db ~= nil then E.check(who, "db", db, "string") end
  return store.open{ who = who, path = db, readonly = not write, existing = true }
end

-- the sweep named, or the only one in the store
local function sweep_name(who, st, name)
  if name ~= nil then return E.check(who, "sweep", name, "string") end
  local rows = st:query("SELECT DISTINCT sweep FROM runs ORDER BY sweep")
  if #rows == 1 then return rows[1][1] end
  if #rows == 0 then E.raise("%s: the results store '%s' holds no runs", who, st.path) end
  local names = {}
  for i, r in ipairs(rows) do names[i] = r[1] end
  E.raise("%s: the store '%s' holds several sweeps (%s); say which with sweep = name", who,
          st.path, table.concat(names, ", "))
end

-- a number from a result or parameter value (a one-element tensor counts)
local function number_of(v)
  if type(v) == "number" then return v end
  if T.is_tensor(v) and v:numel() == 1 and not v.dtype:match("^c") then
    return (v:reshape(1)[1]) + 0.0
  end
  return nil
end

-- the names a run offers: its parameters and its results' top-level keys
local function names_of(runs)
  local known = {}
  for _, r in ipairs(runs) do
    for k in pairs(r.point) do known[k] = "parameter" end
    for k in pairs(r.results or {}) do known[k] = known[k] or "result" end
  end
  return known
end

local function check_name(who, what, name, known, sweepname)
  E.check(who, what, name, "string")
  if known[name] then return name end
  local near = E.suggest(name, known)
  E.raise("%s: sweep '%s' has no parameter or result %s%s", who, sweepname, E.show(name),
          near and fmt(" (did you mean '%s'?)", near) or "")
end

local function value_of(r, name)
  local v = r.point[name]
  if v == nil and r.results then v = r.results[name] end
  return v
end

-- the runs of the newest code version (or of the given one, or the
-- newest run of each point for code = "any")
local function pick_code(runs, code)
  if code == "any" then
    local newest = {}
    for _, r in ipairs(runs) do newest[r.params] = r end
    local out = {}
    for _, r in ipairs(runs) do if newest[r.params] == r then out[#out + 1] = r end end
    return out
  end
  if code == nil then
    local last
    for _, r in ipairs(runs) do
      if not last or r.started >= last.started then last = r end
    end
    code = last and last.code
  end
  local out = {}
  for _, r in ipairs(runs) do if r.code == code then out[#out + 1] = r end end
  return out
end

local function matches(r, where)
  for name, want in pairs(where) do
    local v = r.point[name]
    local list = type(want) == "table" and want or { want }
    local hit = false
    for _, w in ipairs(list) do hit = hit or sweep._text(v) == sweep._text(w) end
    if not hit then return false end
  end
  return true
end

local QUERY_OPTS = { sweep = true, db = true, x = true, y = true, by = true, err = true,
                     where = true, code = true }

-- the finished runs a query selects
local function selected(who, o)
  local st <close> = open(who, o.db)
  local name = sweep_name(who, st, o.sweep)
  local runs = pick_code(st:runs{ sweep = name, status = "done" }, o.code)
  if #runs == 0 then
    E.raise("%s: sweep '%s' has no finished runs in '%s'", who, name, st.path)
  end
  local known = names_of(runs)
  if o.where ~= nil then
    E.check(who, "where", o.where, "table")
    for k in pairs(o.where) do check_name(who, "a name in where", k, known, name) end
  end
  local out = {}
  for _, r in ipairs(runs) do
    if matches(r, o.where or {}) then out[#out + 1] = r end
  end
  return out, name, known
end

local function numeric(who, r, name, what)
  local v = number_of(value_of(r, name))
  if v == nil then
    E.raise("%s: %s '%s' of run %d is %s (a number expected)", who, what, name, r.id,
            E.show(value_of(r, name)))
  end
  return v
end

-- groups runs by the value of 'by', then by x; y values with their errors
local function group(who, runs, o)
  local groups, order = {}, {}
  for _, r in ipairs(runs) do
    local g = o.by and value_of(r, o.by)
    local gk = o.by and sweep._text(g) or ""
    if not groups[gk] then
      groups[gk] = { value = g, xs = {}, xorder = {} }
      order[#order + 1] = gk
    end
    local G = groups[gk]
    local x = numeric(who, r, o.x, "x")
    local xk = sweep._text(x)
    if not G.xs[xk] then G.xs[xk] = { x = x, y = {}, e = {} }; G.xorder[#G.xorder + 1] = xk end
    local cell = G.xs[xk]
    cell.y[#cell.y + 1] = numeric(who, r, o.y, "y")
    if o.err then cell.e[#cell.e + 1] = numeric(who, r, o.err, "err") end
  end
  return groups, order
end

-- mean and its error: the err values combined (sqrt(sum e^2)/n), else the
-- standard error of the mean over the runs (NaN for a single run)
local function reduce(cell, has_err)
  local n, s = #cell.y, 0
  for _, v in ipairs(cell.y) do s = s + v end
  local mean, var = s / n, 0
  if has_err then
    for _, e in ipairs(cell.e) do var = var + e * e end
    return mean, math.sqrt(var) / n, n
  end
  if n == 1 then return mean, 0 / 0, 1 end
  for _, v in ipairs(cell.y) do var = var + (v - mean) ^ 2 end
  return mean, math.sqrt(var / (n - 1) / n), n
end

local function less(a, b)
  if type(a) == type(b) and (type(a) == "number" or type(a) == "string") then return a < b end
  return tostring(a) < tostring(b)
end

local function series_of(G, o)
  local cells = {}
  for _, xk in ipairs(G.xorder) do cells[#cells + 1] = G.xs[xk] end
  table.sort(cells, function(a, b) return a.x < b.x end)
  local x, y, err, n = {}, {}, {}, {}
  for i, c in ipairs(cells) do
    x[i] = c.x
    y[i], err[i], n[i] = reduce(c, o.err ~= nil)
  end
  return { value = G.value, label = o.by and (o.by .. "=" .. sweep._text(G.value)) or o.y,
           x = T.tensor(x), y = T.tensor(y), err = T.tensor(err), n = T.tensor(n, { dtype = "i64" }) }
end

function M.query(o)
  o = E.checkopts("runs.query", o, QUERY_OPTS)
  local runs, name, known = selected("runs.query", o)
  if o.y == nil and o.x == nil then return runs end
  if o.x == nil or o.y == nil then E.raise("runs.query: give both x and y (or neither)") end
  for _, f in ipairs{ "x", "y", "by", "err" } do
    if o[f] ~= nil then check_name("runs.query", f, o[f], known, name) end
  end
  local groups, order = group("runs.query", runs, o)
  local out = {}
  for _, gk in ipairs(order) do out[#out + 1] = series_of(groups[gk], o) end
  table.sort(out, function(a, b) return less(a.value, b.value) end)
  return out
end
doc(M.query, "runs.query{sweep =, x =, y = [, by =, err =, where =, code =, db =]}\n\n"
  .. "The finished runs of a sweep as tensors ready to plot: one series per "
  .. "value of the parameter by (or one series), each {value =, label = "
  .. "\"L=8\", x =, y =, err =, n =} with x sorted.  x, y, by and err name "
  .. "parameters or results (numbers, or one-element tensors).  Runs sharing "
  .. "an x (seeds, replicas) are averaged: err is sqrt(sum err^2)/n with the "
  .. "err result, else the standard error of the mean (NaN for one run); n "
  .. "counts them.  where = {L = 8} or {L = {8, 16}} keeps matching runs.  "
  .. "Without x and y, the runs themselves ({id, params, point, results, "
  .. "manifest, seconds, ...}).  Only runs of one code version are used: the "
  .. "newest, or code = a hash; code = \"any\" takes each point's newest run.  "
  .. "sweep may be left out when the store holds one; db as in sweep.run.")

-- --- printing ------------------------------------------------------------------

local function date(t)
  return t and os.date("%Y-%m-%d %H:%M:%S", math.floor(t)) or "-"
end

local function show_value(v)
  if T.is_tensor(v) then
    if v:numel() <= 16 then return (tostring(v):gsub("\n", " ")) end
    return E.show(v)
  end
  if type(v) == "string" then return fmt("%q", v) end
  if type(v) == "number" then return sweep._text(v) end
  return tostring(v)
end

-- key paths and values of a nested table, sorted
local function flatten(t, prefix, out)
  out = out or {}
  for k, v in pairs(t) do
    local path = prefix and (prefix .. "." .. tostring(k)) or tostring(k)
    if type(v) == "table" then flatten(v, path, out) else out[path] = v end
  end
  return out
end

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, less)
  return ks
end

function M.list(o)
  o = E.checkopts("runs.list", o, { sweep = true, db = true })
  local st <close> = open("runs.list", o.db)
  return st:list(o.sweep)
end
doc(M.list, "runs.list([{sweep =, db =}])\n\nOne summary per run in the "
  .. "store, oldest first: {id, sweep, params, code, status, started, seconds, "
  .. "error}; results are not decoded.")

local function get_run(who, db, id)
  id = E.int(who, "id", id, 1)
  local st <close> = open(who, db)
  local r = st:runs{ ids = { id } }[1]
  if not r then E.raise("%s: no run %d in '%s'", who, id, st.path) end
  return r
end

function M.get(id, o)
  o = E.checkopts("runs.get", o, { db = true })
  return get_run("runs.get", o.db, id)
end
doc(M.get, "runs.get(id [, {db =}])\n\nRun id of the store: {id, sweep, params "
  .. "(its key), point, code, status, started, seconds, manifest, results, error}.")

local function print_table(out, title, t)
  out(title)
  local flat = flatten(t or {})
  for _, k in ipairs(sorted_keys(flat)) do out(fmt("  %-14s %s", k, show_value(flat[k]))) end
end

local function show(out, r)
  out(fmt("run %d of sweep '%s': %s", r.id, r.sweep, r.status))
  out(fmt("  %-14s %s", "params", r.params))
  out(fmt("  %-14s %s", "code", r.code))
  out(fmt("  %-14s %s (%.3g s)", "started", date(r.started), r.seconds))
  if r.error then out(fmt("  %-14s %s", "error", r.error)) end
  print_table(out, "manifest", r.manifest)
  if r.results then print_table(out, "results", r.results) end
end

local function difference(a, b)
  if type(a) == "number" and type(b) == "number" then return fmt("%.6g", b - a) end
  if T.is_tensor(a) and T.is_tensor(b) then
    local sa, sb = table.concat(a.shape, ","), table.concat(b.shape, ",")
    if sa ~= sb then return "shapes differ" end
    if a:numel() == 0 then return "" end
    return fmt("max |diff| %.6g", (b:astype("f64") - a:astype("f64")):abs():max())
  end
  if a == b then return "" end
  return "differs"
end

local function cell(v)
  if v == nil then return "-" end
  if T.is_tensor(v) then return E.show(v) end
  return show_value(v):sub(1, 24)
end

local function compare(out, a, b)
  out(fmt("%-16s %-24s %-24s %s", "", "run " .. a.id, "run " .. b.id, "difference"))
  local function rows(title, ta, tb)
    out(title)
    local fa, fb, keys = flatten(ta or {}), flatten(tb or {}), {}
    for k in pairs(fa) do keys[k] = true end
    for k in pairs(fb) do keys[k] = true end
    for _, k in ipairs(sorted_keys(keys)) do
      local va, vb = fa[k], fb[k]
      out(fmt("  %-14s %-24s %-24s %s", k, cell(va), cell(vb),
              (va == nil or vb == nil) and "missing" or difference(va, vb)))
    end
  end
  rows("params", a.point, b.point)
  rows("results", a.results, b.results)
  rows("manifest", a.manifest, b.manifest)
end

-- --- export ----------------------------------------------------------------------

-- columns: id, the parameters, then the results that are numbers, strings
-- or booleans (one-element tensors as numbers); other results are skipped
local function table_of(runs)
  local cols, kinds, skipped = {}, {}, {}
  local function add(name, kind)
    if not kinds[name] then cols[#cols + 1] = name; kinds[name] = kind end
  end
  for _, r in ipairs(runs) do
    for _, k in ipairs(sorted_keys(r.point)) do add(k, "param") end
  end
  for _, r in ipairs(runs) do
    local flat = flatten(r.results or {})
    for _, k in ipairs(sorted_keys(flat)) do
      local v = flat[k]
      if type(v) ~= "table" and (not T.is_tensor(v) or number_of(v)) then add(k, "result")
      else skipped[k] = true end
    end
  end
  local rows = {}
  for i, r in ipairs(runs) do
    local flat = flatten(r.results or {})
    local row = { id = r.id }
    for _, c in ipairs(cols) do
      local v = kinds[c] == "param" and r.point[c] or flat[c]
      row[c] = T.is_tensor(v) and number_of(v) or v
    end
    rows[i] = row
  end
  return cols, rows, skipped
end

local function csv_field(v)
  if v == nil then return "" end
  if type(v) == "number" then return sweep._text(v) end
  local s = tostring(v)
  if s:find('[,"\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

local function export_runs(who, o)
  local st <close> = open(who, o.db)
  local name = sweep_name(who, st, o.sweep)
  local runs = pick_code(st:runs{ sweep = name, status = "done" }, o.code)
  return runs, name
end

function M.export_csv(path, o)
  o = E.checkopts("runs.export_csv", o, { sweep = true, db = true, code = true })
  E.check("runs.export_csv", "path", path, "string")
  local runs = export_runs("runs.export_csv", o)
  local cols, rows, skipped = table_of(runs)
  local lines = { "id," .. table.concat(cols, ",") }
  for _, row in ipairs(rows) do
    local f = { csv_field(row.id) }
    for _, c in ipairs(cols) do f[#f + 1] = csv_field(row[c]) end
    lines[#lines + 1] = table.concat(f, ",")
  end
  local text = table.concat(lines, "\n") .. "\n"
  if path == "-" then io.write(text)
  else
    local f, err = io.open(path, "w")
    if not f then E.raise("runs.export_csv: cannot write '%s': %s", path, err) end
    f:write(text)
    f:close()
  end
  return #rows, sorted_keys(skipped)
end
doc(M.export_csv, "runs.export_csv(path [, {sweep =, code =, db =}])\n\nWrites "
  .. "the finished runs of a sweep (its newest code version, as runs.query) as "
  .. "CSV to path (\"-\": stdout): a header line, then id, the parameters and "
  .. "the results that are numbers, strings or booleans (nested tables as "
  .. "a.b columns, one-element tensors as numbers).  Returns the number of "
  .. "runs and the names of the results it skipped (larger tensors: use "
  .. "export_npz).")

-- npz arrays: id, numeric parameters and results as vectors over the
-- runs; tensor results of one shape stacked along a new first dimension
function M.export_npz(path, o)
  o = E.checkopts("runs.export_npz", o, { sweep = true, db = true, code = true })
  E.check("runs.export_npz", "path", path, "string")
  local runs = export_runs("runs.export_npz", o)
  local cols, rows = table_of(runs)
  local arrays, ids = {}, {}
  for i, row in ipairs(rows) do ids[i] = row.id end
  arrays.id = T.tensor(ids, { dtype = "i64" })
  for _, c in ipairs(cols) do
    local v, ok = {}, true
    for i, row in ipairs(rows) do
      ok = ok and type(row[c]) == "number"
      v[i] = row[c]
    end
    if ok and #v > 0 then arrays[c] = T.tensor(v) end
  end
  local tensors = {}
  for i, r in ipairs(runs) do
    for k, t in pairs(flatten(r.results or {})) do
      if T.is_tensor(t) and not arrays[k] then
        tensors[k] = tensors[k] or {}
        tensors[k][i] = t
      end
    end
  end
  for k, list in pairs(tensors) do
    local shape = list[1] and table.concat(list[1].shape, ",")
    local same = #list == #runs
    for i = 1, #runs do same = same and list[i] ~= nil and table.concat(list[i].shape, ",") == shape end
    if same then arrays[k] = T.stack(list) end
  end
  hio.save_npz(path, arrays)
  return #runs
end
doc(M.export_npz, "runs.export_npz(path [, {sweep =, code =, db =}])\n\nWrites "
  .. "the finished runs of a sweep as numpy's .npz: an array id, one array per "
  .. "numeric parameter or result over the runs, and each tensor result that "
  .. "has one shape in every run stacked into an array of shape {runs, ...}.  "
  .. "Strings are left out.  Returns the number of runs.")

function M.rm(o)
  o = E.checkopts("runs.rm", o, { ids = true, sweep = true, errors = true, db = true })
  local st <close> = open("runs.rm", o.db, true)
  local ids = {}
  if o.ids then
    for i, id in ipairs(o.ids) do ids[i] = E.int("runs.rm", "an id", id, 1) end
  elseif o.sweep then
    for _, r in ipairs(st:list(E.check("runs.rm", "sweep", o.sweep, "string"))) do
      if not o.errors or r.status == "error" then ids[#ids + 1] = r.id end
    end
  else
    E.raise("runs.rm: give ids = {...} or sweep = name")
  end
  if #ids == 0 then return 0 end
  return st:remove(ids)
end
doc(M.rm, "runs.rm{ids = {...} | sweep = name [, errors = true] [, db =]}\n\n"
  .. "Removes runs from the store: those listed, or all of a sweep (only its "
  .. "failed ones with errors = true).  A removed point is computed again by "
  .. "the next sweep.run.  Returns how many were removed.")

-- --- the command line: hebb runs ... --------------------------------------------

local USAGE = [[
usage: hebb runs [--db PATH] COMMAND ...
  list [SWEEP]                 the runs, oldest first
  show ID                      one run: parameters, manifest, results
  compare ID ID                two runs side by side, with differences
  export --csv FILE|- [--sweep NAME]   numbers and strings as CSV
  export --npz FILE [--sweep NAME]     numbers and tensors as numpy .npz
  rm ID... | rm --sweep NAME [--errors]   remove runs
The store is PATH, else $HEBB_RUNS_DB, else hebb-runs.db here.]]

local function out(s) io.write(s, "\n") end

local function cmd_list(db, args)
  local runs = M.list{ sweep = args[1], db = db }
  out(fmt("%5s  %-14s %-6s %9s  %-19s %-8s %s", "id", "sweep", "status", "seconds",
          "started", "code", "params"))
  for _, r in ipairs(runs) do
    out(fmt("%5d  %-14s %-6s %9.3g  %-19s %-8s %s", r.id, r.sweep, r.status, r.seconds,
            date(r.started), r.code:sub(1, 8), r.params))
  end
  return 0
end

local function option(args, name)
  for i, a in ipairs(args) do
    if a == name then return args[i + 1] or error("usage: " .. name .. " needs a value", 0) end
  end
end

local function cmd_export(db, args)
  local csv, npz, sw = option(args, "--csv"), option(args, "--npz"), option(args, "--sweep")
  if (csv == nil) == (npz == nil) then error("usage: export --csv FILE or --npz FILE", 0) end
  if csv then
    local n, skipped = M.export_csv(csv, { sweep = sw, db = db })
    if csv ~= "-" then out(fmt("wrote %d runs to %s", n, csv)) end
    if #skipped > 0 then
      io.stderr:write("hebb runs: left out (not numbers): ", table.concat(skipped, ", "), "\n")
    end
  else
    out(fmt("wrote %d runs to %s", M.export_npz(npz, { sweep = sw, db = db }), npz))
  end
  return 0
end

local function cmd_rm(db, args)
  local n
  if option(args, "--sweep") then
    n = M.rm{ sweep = option(args, "--sweep"), errors = args[3] == "--errors" or args[1] == "--errors", db = db }
  else
    local ids = {}
    for i, a in ipairs(args) do ids[i] = math.tointeger(tonumber(a)) or error("usage: rm ID...", 0) end
    if #ids == 0 then error("usage: rm ID... or rm --sweep NAME", 0) end
    n = M.rm{ ids = ids, db = db }
  end
  out(fmt("removed %d runs", n))
  return 0
end

local function id_arg(a)
  return math.tointeger(tonumber(a)) or error(fmt("usage: expected a run id, got %s", tostring(a)), 0)
end

local commands = {
  list = cmd_list,
  show = function(db, args) show(out, get_run("runs.show", db, id_arg(args[1]))); return 0 end,
  compare = function(db, args)
    compare(out, get_run("runs.compare", db, id_arg(args[1])), get_run("runs.compare", db, id_arg(args[2])))
    return 0
  end,
  export = cmd_export,
  rm = cmd_rm,
  help = function() out(USAGE); return 0 end,
}

function M.main(args)
  local db
  E.check("runs.main", "args", args, "table")
  args = { table.unpack(args) }
  for i, a in ipairs(args) do
    if type(a) ~= "string" then E.raise("runs.main: args[%d] must be a string, got %s", i, E.show(a)) end
  end
  if args[1] == "--db" then
    db = args[2]
    table.remove(args, 1)
    table.remove(args, 1)
  end
  local name = table.remove(args, 1) or "help"
  local cmd = commands[name]
  if not cmd then
    io.stderr:write("hebb runs: unknown command '", name, "'\n", USAGE, "\n")
    return 2
  end
  local ok, res = pcall(cmd, db, args)
  if ok then return res end
  local msg = E.bare(res)
  io.stderr:write("hebb runs: ", msg, "\n")
  if msg:match("^usage:") then io.stderr:write(USAGE, "\n"); return 2 end
  return 1
end
doc(M.main, "runs.main(args)\n\nThe `hebb runs ...` command with the list "
  .. "args (the words after `runs`); returns the exit status (0, 1 on an "
  .. "error, 2 on a usage error).  `hebb runs help` shows the commands.")

doc(M, "hebb.runs\n\nThe results store of hebb.sweep, read back: runs.query "
  .. "(tensors to plot), list, get, export_csv, export_npz, rm, and the "
  .. "`hebb runs` command.  See docs/sweep.md.")

return M
