-- hebb.sweep: parameter sweeps whose results are kept.
--
-- sweep.run(params, f [, opts]) calls f(point) for every point of params
-- (the product of lists of values, or a list of points) and writes each
-- point's results to the results store (hebb._store, an SQLite file).  A
-- point is cached by its parameters and by a hash of the code: the file
-- that defines f and hebb's version.  Re-running a sweep computes only the
-- points it has not finished with this code; changing the code computes
-- them all again (the old runs stay in the store).
--
-- Every point starts from its own seed (T.manual_seed and math.randomseed),
-- taken from its parameters, so its results do not depend on the order of
-- the points or on which worker or rank ran it: one process, `jobs`
-- workers and MPI ranks give the same bits.
local T = require "hebb.tensor"
local hebb = require "hebb"
local hio = require "hebb.io"
local E = require "hebb._error"
local J = require "hebb._jobs"
local store = require "hebb._store"
local doc = hebb.doc

local M = {}
local fmt = string.format

-- --- points and their keys ----------------------------------------------

-- the shortest decimal that reads back as x; integral floats print as
-- integers, so T = 2 and T = 2.0 are the same point
local function number_text(x)
  if math.type(x) == "integer" then return fmt("%d", x) end
  if x == math.floor(x) and math.abs(x) < 2 ^ 53 then return fmt("%d", math.tointeger(x)) end
  for p = 15, 17 do
    local s = fmt("%." .. p .. "g", x)
    if tonumber(s) == x then return s end
  end
end

local function value_text(v)
  if type(v) == "number" then return number_text(v) end
  if type(v) == "string" then return fmt("%q", v) end
  return tostring(v)
end

local function sorted_names(point)
  local names = {}
  for k in pairs(point) do names[#names + 1] = k end
  table.sort(names)
  return names
end

local function key(point)
  local parts = {}
  for i, k in ipairs(sorted_names(point)) do parts[i] = k .. "=" .. value_text(point[k]) end
  return table.concat(parts, " ")
end

local check_name, check_value

function M.key(point)
  E.check("sweep.key", "point", point, "table")
  for k, v in pairs(point) do
    check_name("sweep.key", k)
    check_value("sweep.key", k, v)
  end
  return key(point)
end
doc(M.key, "sweep.key(point)\n\nThe text that identifies a point in the "
  .. "results store: its parameters sorted by name, as name=value separated "
  .. "by spaces (\"L=8 T=2.25\").  Numbers are written in the shortest form "
  .. "that reads back exactly, and an integral float like an integer, so "
  .. "T = 2 and T = 2.0 are one point.")

function check_value(who, name, v)
  local tv = type(v)
  if tv == "number" then
    if v ~= v then E.raise("%s: parameter '%s' is NaN", who, name) end
    return v
  end
  if tv == "string" or tv == "boolean" then return v end
  E.raise("%s: parameter '%s' has the value %s (numbers, strings and booleans "
          .. "are parameters)", who, name, E.show(v))
end

function check_name(who, name)
  if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
    E.raise("%s: a parameter name must be an identifier, got %s", who, E.show(name))
  end
end

-- the values of one parameter: a list, a 1-d tensor, or one value
local function values_of(who, name, v)
  check_name(who, name)
  if T.is_tensor(v) then
    if v.ndim ~= 1 then
      E.raise("%s: parameter '%s' is a %s (a 1-d tensor or a list expected)", who, name, E.show(v))
    end
    v = v:totable()
  end
  if type(v) ~= "table" then return { check_value(who, name, v) } end
  if #v == 0 then E.raise("%s: parameter '%s' has no values", who, name) end
  for k in pairs(v) do
    if math.type(k) ~= "integer" or k < 1 or k > #v then
      E.raise("%s: the values of parameter '%s' must be a list, got a key %s", who, name, E.show(k))
    end
  end
  for i = 1, #v do check_value(who, name, v[i]) end
  return v
end

-- the product of the lists, the first name varying slowest
local function product(who, params, order)
  local names = order or sorted_names(params)
  local lists = {}
  for i, n in ipairs(names) do
    if params[n] == nil then E.raise("%s: order names '%s', which is not a parameter", who, n) end
    lists[i] = values_of(who, n, params[n])
  end
  for n in pairs(params) do
    local found = false
    for _, m in ipairs(names) do found = found or m == n end
    if not found then E.raise("%s: order leaves out parameter '%s'", who, n) end
  end
  local points = { {} }
  for i, n in ipairs(names) do
    local grown = {}
    for _, p in ipairs(points) do
      for _, v in ipairs(lists[i]) do
        local q = {}
        for k, x in pairs(p) do q[k] = x end
        q[n] = v
        grown[#grown + 1] = q
      end
    end
    points = grown
  end
  return points
end

local function explicit(who, list)
  local points = {}
  for i, p in ipairs(list) do
    if type(p) ~= "table" then E.raise("%s: point %d is %s (a table expected)", who, i, E.show(p)) end
    local q = {}
    for k, v in pairs(p) do
      check_name(who, k)
      q[k] = check_value(who, k, v)
    end
    points[i] = q
  end
  return points
end

function M.points(params, opts)
  opts = E.checkopts("sweep.points", opts, { order = true })
  if type(params) ~= "table" then
    E.raise("sweep.points: params must be a table of parameter lists or a list of points, got %s",
            E.show(params))
  end
  if params[1] ~= nil and type(params[1]) == "table" then return explicit("sweep.points", params) end
  return product("sweep.points", params, opts.order)
end
doc(M.points, "sweep.points(params [, {order = names}])\n\nThe points of a "
  .. "sweep.  params is either a list of points ({{L = 8, T = 2}, ...}) or a "
  .. "table of parameters whose values are lists, 1-d tensors or single "
  .. "values, whose product is taken: {L = {8, 16}, T = T.linspace(2, 3, 5)} "
  .. "gives 10 points.  The first name of order (default: the names sorted) "
  .. "varies slowest.  Values are numbers, strings or booleans.")

-- --- the code a result depends on -----------------------------------------

-- 64-bit FNV-1a
local function hash(s, h)
  h = h or -3750763034362895579   -- 0xcbf29ce484222325
  for i = 1, #s do h = (h ~ s:byte(i)) * 1099511628211 end
  return h
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- the text of the code f comes from: its file, or its bytecode
local function source_of(who, f)
  if type(f) ~= "function" then
    E.raise("%s: cannot tell the code of %s; give the option code = a version string", who, E.show(f))
  end
  local src = debug.getinfo(f, "S").source
  if src:sub(1, 1) == "@" then
    local text = read_file(src:sub(2))
    if text then return text, src:sub(2) end
  end
  local ok, bytes = pcall(string.dump, f, true)
  if not ok then
    E.raise("%s: cannot tell the code of a C function; give the option code = a version string", who)
  end
  return bytes
end

function M.code_hash(f, opts)
  opts = E.checkopts("sweep.code_hash", opts, { code = true, files = true })
  local h = hash("hebb " .. hebb.version .. "\0")
  if opts.code ~= nil then
    h = hash(E.check("sweep.code_hash", "code", opts.code, "string"), h)
  else
    h = hash((source_of("sweep.code_hash", f)), h)
  end
  for _, path in ipairs(opts.files or {}) do
    local text = read_file(path)
    if not text then E.raise("sweep.code_hash: cannot read file '%s' (in files)", tostring(path)) end
    h = hash(path .. "\0" .. text .. "\0", h)
  end
  return fmt("%016x", h)
end
doc(M.code_hash, "sweep.code_hash(f [, {code = s, files = paths}])\n\nThe "
  .. "hash (16 hex digits) that keys the runs of f together with their "
  .. "parameters: of hebb's version and of the file f is defined in (or its "
  .. "bytecode when it comes from no file), or of the string code instead, "
  .. "plus the files listed.  Any change to the file, comments included, "
  .. "makes a new code version.")

-- --- running one point ----------------------------------------------------

-- the point as f sees it: reading a parameter it does not have is an error
local function guarded(point)
  local p = {}
  for k, v in pairs(point) do p[k] = v end
  return setmetatable(p, { __index = function(_, k)
    local near = E.suggest(k, point)
    E.raise("sweep: the point has no parameter %s (it has %s)%s", E.show(k),
            table.concat(sorted_names(point), ", "),
            near and fmt("; did you mean '%s'?", near) or "")
  end })
end

-- the seed of a point: from its key and the sweep's seed, below 2^53 so it
-- is exact as a float too
local function point_seed(base, key)
  return hash(key, hash(tostring(base))) & ((1 << 53) - 1)
end

-- Ctrl-C (lua.c's "interrupted!", hebb's "interrupted") stops the sweep
-- and leaves no row: the point is computed again on the next run
local function interrupted(e)
  local s = tostring(e)
  return s:find("interrupted!?$") ~= nil
end

local function short_error(e)
  return (tostring(e):gsub("\nstack traceback:.*", ""))
end

-- runs f on point i of ctx: a record ready for the store (blobs encoded)
local function compute(ctx, i, worker)
  local point, key = ctx.points[i], ctx.keys[i]
  local seed = point_seed(ctx.seed, key)
  T.manual_seed(seed)
  math.randomseed(seed)
  local t0 = J.now()
  local ok, res = pcall(ctx.f, guarded(point))
  if not ok and interrupted(res) then error(res, 0) end
  local r = { sweep = ctx.name, params = key, code = ctx.code, point = hio.encode(point),
              started = t0, seconds = J.now() - t0, status = "done", index = i }
  local m = {}
  for k, v in pairs(ctx.manifest) do m[k] = v end
  m.seed, m.worker, m.pid, m.threads = seed, worker, J.pid(), hebb.threads()
  r.manifest = hio.encode(m)
  if ok and type(res) ~= "table" then
    ok, res = false, fmt("f returned %s (a table of results expected)", E.show(res))
  end
  if ok then
    local enc_ok, blob = pcall(hio.encode, res)
    if enc_ok then r.results = blob
    else ok, res = false, "its results cannot be stored: " .. short_error(blob):gsub("^.-io%.", "io.") end
  end
  if not ok then r.status, r.error = "error", short_error(res) end
  return r
end

-- --- the manifest ---------------------------------------------------------

local function git(dir, args)
  if not io.popen then return nil end   -- the sandbox has no processes
  local p = io.popen("git -C '" .. dir:gsub("'", "'\\''") .. "' " .. args .. " 2>/dev/null")
  if not p then return nil end
  local out = p:read("a")
  p:close()
  return out
end

local function manifest(ctx)
  local dir = (ctx.file or ""):match("^(.*)/[^/]*$") or "."
  local commit = git(dir, "rev-parse HEAD")
  commit = commit and commit:match("^(%x+)")
  local m = { hebb = hebb.version, lua = _VERSION, host = J.hostname(),
              threads = hebb.threads(), jobs = ctx.jobs, commit = commit }
  if commit then
    local st = git(dir, "status --porcelain --untracked-files=no")
    m.dirty = st ~= nil and st ~= ""
  end
  return m
end

-- --- running the points -----------------------------------------------------

local function report(ctx, r)
  if r.status == "error" and ctx.on_error == "stop" then
    ctx.failed = ctx.failed or r
  end
  if ctx.progress then
    ctx.finished = (ctx.finished or 0) + 1
    io.stderr:write(fmt("sweep %s: [%d/%d] %s  %s\n", ctx.name, ctx.finished, ctx.todo,
                        r.params, r.status == "done" and fmt("%.3g s", r.seconds) or "error: " .. r.error))
  end
end

local function serial(ctx, pending)
  for _, i in ipairs(pending) do
    local r = compute(ctx, i, 0)
    ctx.store:write(r)
    report(ctx, r)
    if ctx.failed then return end
  end
end

-- a worker process: receives point numbers, sends back records, ends when
-- the socket closes
local function worker_loop(ctx, fd, k)
  local ok, err = pcall(function()
    while true do
      local msg = J.recv(fd)
      if not msg then break end
      J.send(fd, hio.encode(compute(ctx, tonumber(msg), k)))
    end
  end)
  if not ok then io.stderr:write("sweep worker ", k, ": ", tostring(err), "\n") end
  J.exit(ok and 0 or 1)
end

local function stop_workers(ws, signal)
  for _, w in ipairs(ws) do
    if w.fd then J.close(w.fd); w.fd = nil end
    if signal and w.pid then J.kill(w.pid, signal) end
  end
  for _, w in ipairs(ws) do
    if w.pid then J.reap(w.pid); w.pid = nil end
  end
end

local function dispatch(ctx, w, pending, state)
  if state.next <= #pending and not ctx.failed then
    w.busy = pending[state.next]
    state.next = state.next + 1
    J.send(w.fd, tostring(w.busy))
  else
    w.busy = nil
    J.close(w.fd)
    w.fd = nil
  end
end

local function died(ctx, w, k)
  local _, how, code = J.reap(w.pid)
  w.pid = nil
  E.raise("sweep.run: job %d ended (%s %d) while computing point %s", k, how, code,
          ctx.keys[w.busy])
end

local function pool_loop(ctx, ws, pending)
  local state, left = { next = 1 }, #pending
  for _, w in ipairs(ws) do dispatch(ctx, w, pending, state) end
  while left > 0 do
    local fds, who = {}, {}
    for k, w in ipairs(ws) do
      if w.busy then fds[#fds + 1] = w.fd; who[#who + 1] = k end
    end
    if #fds == 0 then break end
    for j, ready in ipairs(J.poll(fds)) do
      if ready then
        local k = who[j]
        local w = ws[k]
        local msg = J.recv(w.fd)
        if not msg then died(ctx, w, k) end
        local r = hio.decode(msg, { max_bytes = math.huge })
        r.index = nil
        ctx.store:write(r)
        report(ctx, r)
        left = left - 1
        dispatch(ctx, w, pending, state)
      end
    end
  end
end

local function pool(ctx, pending)
  local ws = {}
  local ok, err = pcall(function()
    for k = 1, math.min(ctx.jobs, #pending) do
      local pid, fd = J.fork()
      if pid == 0 then
        for _, w in ipairs(ws) do J.close(w.fd) end
        worker_loop(ctx, fd, k)
      end
      ws[k] = { pid = pid, fd = fd }
    end
    pool_loop(ctx, ws, pending)
  end)
  stop_workers(ws, not ok and "TERM" or nil)
  if not ok then error(err, 0) end
end

-- --- sweep.run ---------------------------------------------------------------

local OPTS = { name = true, db = true, jobs = true, seed = true, timeout = true, code = true,
               files = true, on_error = true, progress = true, order = true, journal = true,
               mpi = true }

-- jobs: the option, else --jobs N among the script's arguments, else
-- $HEBB_JOBS, else 1
local function jobs_of(opts)
  local j = opts.jobs
  if j == nil and type(arg) == "table" then
    for i, a in ipairs(arg) do
      if a == "--jobs" then j = tonumber(arg[i + 1]) or arg[i + 1]
      elseif type(a) == "string" and a:match("^%-%-jobs=") then j = tonumber(a:sub(8)) or a:sub(8) end
    end
  end
  if j == nil then j = tonumber(os.getenv("HEBB_JOBS") or "") or 1 end
  return E.int("sweep.run", "jobs", j, 1, 256)
end

local function prepare(params, f, opts)
  opts = E.checkopts("sweep.run", opts, OPTS)
  if type(params) ~= "table" then
    E.raise("sweep.run: params must be a table of parameter lists or a list of points, got %s",
            E.show(params))
  end
  E.check("sweep.run", "f", f, "function")
  local ctx = { f = f, seed = opts.seed or 0, on_error = opts.on_error or "stop",
                progress = opts.progress, jobs = jobs_of(opts) }
  if ctx.on_error ~= "stop" and ctx.on_error ~= "continue" then
    E.raise("sweep.run: on_error must be \"stop\" or \"continue\", got %s", E.show(ctx.on_error))
  end
  E.int("sweep.run", "seed", ctx.seed, math.mininteger)
  ctx.points = params[1] ~= nil and type(params[1]) == "table" and explicit("sweep.run", params)
    or product("sweep.run", params, opts.order)
  ctx.keys, ctx.index = {}, {}
  for i, p in ipairs(ctx.points) do
    local k = key(p)
    if ctx.index[k] then E.raise("sweep.run: point %d repeats point %d (%s)", i, ctx.index[k], k) end
    ctx.keys[i], ctx.index[k] = k, i
  end
  ctx.file = type(f) == "function" and debug.getinfo(f, "S").source:match("^@(.*)") or nil
  ctx.name = opts.name or (ctx.file and ctx.file:match("([^/]+)$"):gsub("%.lua$", "")) or "sweep"
  E.check("sweep.run", "name", ctx.name, "string")
  ctx.code = M.code_hash(f, { code = opts.code, files = opts.files })
  ctx.manifest = manifest(ctx)
  ctx.store_opts = { who = "sweep.run", path = opts.db, timeout = opts.timeout, journal = opts.journal }
  if opts.timeout ~= nil then E.num("sweep.run", "timeout", opts.timeout, 0) end
  ctx.mpi = opts.mpi
  return ctx
end

-- the entries sweep.run returns, in the order of the points
local function collect(ctx, cached)
  local by_key = {}
  for _, run in ipairs(ctx.store:runs{ sweep = ctx.name, code = ctx.code }) do by_key[run.params] = run end
  local out = { computed = 0, cached = 0, errors = 0 }
  for i, k in ipairs(ctx.keys) do
    local run = by_key[k]
    local e = { params = ctx.points[i], id = run and run.id, status = run and run.status or "missing",
                results = run and run.results, seconds = run and run.seconds,
                error = run and run.error, cached = cached[k] ~= nil }
    out[i] = e
    if e.cached then out.cached = out.cached + 1 else out.computed = out.computed + 1 end
    if e.status ~= "done" then out.errors = out.errors + 1 end
  end
  return out
end

local function run_local(ctx)
  ctx.store = store.open(ctx.store_opts)
  local cached = ctx.store:done(ctx.name, ctx.code)
  local pending = {}
  for i, k in ipairs(ctx.keys) do
    if not cached[k] then pending[#pending + 1] = i end
  end
  ctx.todo = #pending
  if ctx.jobs > 1 and #pending > 1 then pool(ctx, pending) else serial(ctx, pending) end
  if ctx.failed then
    E.raise("sweep.run: point %s failed: %s", ctx.failed.params, ctx.failed.error)
  end
  return collect(ctx, cached)
end

function M.run(params, f, opts)
  local ctx = prepare(params, f, opts)
  local mpi = package.loaded["hebb.mpi"]
  if not mpi and ctx.mpi ~= false and require("hebb._mpi").launched() then mpi = require "hebb.mpi" end
  if ctx.mpi ~= false and mpi and mpi.size() > 1 then return mpi._sweep(ctx, M._engine) end
  local rng = T.get_rng_state()
  local ok, out = pcall(run_local, ctx)
  T.set_rng_state(rng)
  if ctx.store then ctx.store:close() end
  if not ok then error(out, 0) end
  return out
end
doc(M.run, "sweep.run(params, f [, opts])\n\nCalls f(point) for each point of "
  .. "params (see sweep.points) that the results store does not already hold "
  .. "for this code, writes each point's results (the table f returns: numbers, "
  .. "strings, booleans, tensors, nested tables) to the store as soon as it is "
  .. "done, and returns one entry per point, in order: {params =, results =, "
  .. "id =, status = \"done\" | \"error\", seconds =, error =, cached = "
  .. "true when it was not computed now}; the list's fields computed, cached "
  .. "and errors count them.  Each point starts from its own seed (from its "
  .. "parameters and opts.seed), so results do not depend on order, jobs or "
  .. "ranks (the default generator is put back afterwards; math.random is "
  .. "reseeded); reading a parameter the point does not have is an error.  "
  .. "Ctrl-C or a kill stops the sweep without losing the points already "
  .. "written: the next run goes on from there.\n\n"
  .. "opts: name (default: the script's name), db (default: $HEBB_RUNS_DB or "
  .. "hebb-runs.db in the current folder), jobs (worker processes at one thread "
  .. "each; default: --jobs N among the script's arguments, $HEBB_JOBS, or 1), "
  .. "seed (default 0), on_error (\"stop\": raise after recording the failed "
  .. "point; \"continue\"), code (a version string replacing the hash of f's file), "
  .. "files (more files whose contents key the cache), order (see sweep.points), "
  .. "timeout (seconds to wait for a locked store, default 5), journal (\"wal\", "
  .. "or \"delete\" on network file systems), progress (a line per point on "
  .. "stderr), mpi (false: do not spread points over MPI ranks).")

-- how the store writes a parameter value (hebb.runs prints and matches
-- values by it)
M._text = value_text

-- what hebb.mpi needs to run a sweep over ranks
M._engine = { compute = compute, store = store, collect = collect, report = report }

doc(M, "hebb.sweep\n\nParameter sweeps whose results are kept in an SQLite "
  .. "results store, cached by parameters and code, run in worker processes or "
  .. "over MPI ranks.  See docs/sweep.md; hebb.runs reads the store.")

return M
