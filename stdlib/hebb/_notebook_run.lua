-- hebb._notebook_run: runs a parsed notebook top to bottom as one chunk and
-- captures what each cell prints, warns, raises and shows.
--
-- The chunk is the notebook's own text with three edits that keep every
-- line where it was (so messages and tracebacks name the file's lines):
--   * line 1 starts with `local __hebb_nb <const> = _ENV[KEY];`, the
--     runner's hook;
--   * each code cell's marker comment becomes `__hebb_nb(k)`, which tells
--     the runner that cell k begins;
--   * an eval=false cell's lines become blank; an error=continue cell's
--     body is wrapped in `__hebb_nb.try(k, function() ... end)`, so an
--     error ends that cell only (its locals then stay inside it).
-- Output is captured by replacing print, io.write, io.stdout/io.stderr,
-- io.output and os.exit for the run (in the notebook's environment and, so
-- that hebb's library is captured too, in the real one), warnings by a C
-- warning handler, figures through hebb._display.  The same replacements of
-- io.open, io.lines, loadfile, dofile and require, and the C readers' file
-- guard, record every file the notebook reads, for the manifest.
local E = require "hebb._error"
local N = require "hebb._notebook"
local display = require "hebb._display"
local clock = require("hebb._data").clock
local fmt, concat = string.format, table.concat

local M = {}
local KEY = "\0hebb_nb"
local EXIT = {}          -- metatable of the os.exit marker
local ERR = {}           -- metatable of a captured error
local running = false

-- --- the chunk ----------------------------------------------------------------

function M.chunk_source(nb)
  local lines = {}
  for i, l in ipairs(nb.lines) do lines[i] = l end
  if lines[1] and lines[1]:sub(1, 1) == "#" then lines[1] = "" end   -- #!
  local close_at = {}   -- line -> text to put first (closing a try)
  for _, c in ipairs(nb.cells) do
    if c.kind == "code" then
      if c.opts.eval == false then
        for i = c.first, c.last do lines[i] = "" end
      end
      if c.marker then
        local call = fmt("__hebb_nb(%d)", c.index)
        if c.opts.error == "continue" and c.opts.eval ~= false then
          call = call .. fmt(" __hebb_nb.try(%d, function()", c.index)
          close_at[c.last + 1] = " end)"
        end
        lines[c.marker] = call
      end
    end
  end
  local n = #lines
  for at, text in pairs(close_at) do
    if at > n then lines[at] = text else lines[at] = text .. " " .. lines[at] end
  end
  lines[1] = fmt("local __hebb_nb <const> = _ENV[%q]; ", KEY) .. (lines[1] or "")
  return concat(lines, "\n", 1, math.max(n, #lines)) .. "\n"
end

-- --- captured output ----------------------------------------------------------

-- appends to a cell's outputs, merging a stream with the one before it
local function add(cell, item)
  local out = cell.outputs
  local last = out[#out]
  if item.type == "stream" and last and last.type == "stream" and last.name == item.name then
    last.text = last.text .. item.text
  elseif item.type == "warning" and last and last.type == "warning" then
    last.text = last.text .. item.text
  else
    out[#out + 1] = item
  end
end

-- what io.write makes of its arguments (floats as "%.14g", like liolib)
local function write_text(who, ...)
  local parts = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if math.type(v) == "float" then parts[i] = fmt("%.14g", v)
    elseif type(v) == "number" or type(v) == "string" then parts[i] = tostring(v)
    else
      E.raise("bad argument #%d to '%s' (string expected, got %s)", i, who, type(v))
    end
  end
  return concat(parts)
end

-- a stand-in for io.stdout / io.stderr that writes into the current cell
local function output_file(state, name)
  local f = {}
  local mt = { __name = "FILE*", __index = f,
               __tostring = function() return "file (notebook " .. name .. ")" end }
  function f.write(self, ...)
    state.emit(name, write_text("write", ...))
    return self
  end
  function f.flush(self) return self end
  function f.setvbuf() return true end
  function f.seek() return nil, "cannot seek the notebook's " .. name, 29 end
  function f.close() return nil, "cannot close standard file" end
  function f.read() return nil, "the notebook's " .. name .. " is not readable" end
  function f.lines() E.raise("the notebook's " .. name .. " is not readable") end
  return setmetatable({}, mt)
end

-- --- files read ---------------------------------------------------------------

local function recorder(state)
  local seen, written = {}, {}
  return function(path, mode)
    if type(path) ~= "string" then return end
    local real = N.resolve(path)
    if not real then return end
    mode = mode or "r"
    if mode:find("[wa+]") then written[real] = true end
    if mode:find("r") and not seen[real] and not written[real] then
      seen[real] = true
      local sum = N.sha256_file(real)
      if sum then state.data[#state.data + 1] = { real = real, sha256 = sum } end
    end
  end
end

-- wrappers of the functions that read files: note the path, then call the
-- function the environment had
local function file_wrappers(note, t)
  local io_ = t.io
  local open, lines, loadfile_, dofile_, require_ =
    io_.open, io_.lines, t.loadfile, t.dofile, t.require
  local w = {}
  w.open = function(path, mode, ...)
    local f, e, c = open(path, mode, ...)
    if f then note(path, mode or "r") end
    return f, e, c
  end
  local function noting(fn)
    return function(path, ...)
      if path ~= nil then note(path, "r") end
      return fn(path, ...)
    end
  end
  w.lines, w.loadfile, w.dofile = noting(lines), noting(loadfile_), noting(dofile_)
  w.require = function(name, ...)
    local loaded = t.package and t.package.loaded
    local fresh = not (loaded and loaded[name] ~= nil)
    local r1, r2 = require_(name, ...)
    if fresh and type(name) == "string" and package.searchpath then
      local p = package.searchpath(name, package.path)
      if p then note(p, "r") end
    end
    return r1, r2
  end
  return w
end

-- --- the run ----------------------------------------------------------------

-- saves t[k] and sets it to v; undo() puts every saved value back
local function patcher()
  local saved = {}
  local p = {}
  function p.set(t, k, v)
    saved[#saved + 1] = { t, k, t[k] }
    t[k] = v
  end
  function p.undo()
    for i = #saved, 1, -1 do
      local s = saved[i]
      s[1][s[2]] = s[3]
    end
    saved = {}
  end
  return p
end

-- the traceback without the runner's frames (from the xpcall down)
local function traceback(msg)
  local tb = debug.traceback("", 3)
  local keep = {}
  for line in tb:gmatch("[^\n]+") do
    if line:find("in function 'xpcall'", 1, true) then break end
    if not line:find("stdlib/hebb/_notebook_run.lua", 1, true) then
      keep[#keep + 1] = line
    end
    if line:find("in main chunk", 1, true) then break end
  end
  if keep[1] == "stack traceback:" and #keep == 1 then keep = {} end
  return msg, concat(keep, "\n")
end

local function handler(e)
  if getmetatable(e) == EXIT or getmetatable(e) == ERR then return e end
  local msg
  if type(e) == "string" or type(e) == "number" then msg = tostring(e)
  else
    local mt = getmetatable(e)
    if type(mt) == "table" and mt.__tostring then msg = tostring(e)
    else msg = fmt("(error object is a %s value)", type(e)) end
  end
  local m, tb = traceback(msg)
  return setmetatable({ message = m, traceback = tb }, ERR)
end

-- M.run(nb, opts) -> result.  opts: args (list of strings), env (the
-- notebook's environment; default _G), timeout (default per-cell seconds),
-- sandbox (what hebb.sandbox.install returned), on_cell(k) (a callback).  result: cells[k] = {status, outputs,
-- time}, data (files read: real path, sha256), exit (os.exit's code),
-- failed (the cell whose error stopped the run), wall (seconds).
function M.run(nb, opts)
  opts = opts or {}
  if running then E.raise("notebook.run: a notebook is already running") end
  local env = opts.env or _G
  local res = { cells = {}, data = {}, args = opts.args or {} }
  for k, c in ipairs(nb.cells) do
    res.cells[k] = { status = c.kind == "code" and "not run" or c.kind, outputs = {} }
  end
  local src = M.chunk_source(nb)
  local chunk, cerr = load(src, "@" .. nb.name, "t", env)
  if not chunk then
    -- the file itself compiles? then a marker sits inside a statement
    -- (load's messages carry the notebook's own line: no position added)
    local _, plain = load(nb.source:gsub("^#[^\n]*", ""), "@" .. nb.name, "t", {})
    if plain then error(plain, 0) end
    error(cerr:gsub(": ", ": a cell marker sits inside a statement or "
                     .. "expression (markers go between statements): ", 1), 0)
  end

  local state = { data = res.data }
  local cur, cur_k, started = nil, nil, nil
  local function flush_warnings()
    local w = N.take_warnings()
    if w ~= "" and cur then add(cur, { type = "warning", text = w }) end
  end
  function state.emit(name, text)
    flush_warnings()
    if cur and text ~= "" then add(cur, { type = "stream", name = name, text = text }) end
  end
  local function leave()
    if not cur then return end
    flush_warnings()
    N.deadline(0)
    cur.time = (cur.time or 0) + (clock() - started)
    if cur.status == "running" then cur.status = "ok" end
  end
  local function enter(k)
    leave()
    cur_k, cur, started = k, res.cells[k], clock()
    local c = nb.cells[k]
    cur.status = c.opts.eval == false and "skipped" or "running"
    local t = c.opts.timeout or opts.timeout
    if t then N.deadline(t) end
    if opts.on_cell then opts.on_cell(k) end
  end

  -- a stopped run's message: why, instead of the kernel's "interrupted"
  local function explain(err, k)
    local why = N.stopped()
    if why == "interrupt" then error("interrupted!", 0) end   -- as lua.c says it
    if why == "timeout" then
      local t = nb.cells[k].opts.timeout or opts.timeout
      err.message = fmt("%s:%d: cell %d ran longer than its timeout of %g s",
                        nb.name, nb.cells[k].marker or 1, k, t)
    elseif why == "cpu" then
      err.message = "CPU time limit exceeded: the notebook was stopped"
      err.fatal = true
    end
    return err
  end

  local api = setmetatable({}, { __call = function(_, k) enter(k) end })
  -- (error objects below are rethrown as they are: level 0)
  function api.try(k, fn)
    local ok, err = xpcall(fn, handler)
    if ok then return end
    if getmetatable(err) == EXIT then error(err, 0) end
    err = explain(err, k)
    if err.fatal then error(err, 0) end
    add(res.cells[k], { type = "error", message = err.message, traceback = err.traceback })
    res.cells[k].status = "error"
  end

  -- the replacements
  local p = patcher()
  local out_file, err_file = output_file(state, "stdout"), output_file(state, "stderr")
  local current_out = out_file
  local note = recorder(state)
  local targets = { _G }
  if env ~= _G then targets[2] = env end
  for _, t in ipairs(targets) do
    local w = file_wrappers(note, t)
    local real_output = t.io.output
    p.set(t, "print", function(...)
      local parts = {}
      for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
      state.emit("stdout", concat(parts, "\t") .. "\n")
    end)
    p.set(t.io, "write", function(...) return current_out:write(...) end)
    p.set(t.io, "stdout", out_file)
    p.set(t.io, "stderr", err_file)
    p.set(t.io, "output", function(f)
      if f == nil then return current_out end
      if f == out_file or f == err_file then current_out = f
      else current_out = real_output(f) end
      return current_out
    end)
    p.set(t.io, "open", w.open)
    p.set(t.io, "lines", w.lines)
    p.set(t, "loadfile", w.loadfile)
    p.set(t, "dofile", w.dofile)
    p.set(t, "require", w.require)
    p.set(t.os, "exit", function(code)
      if code == nil or code == true then code = 0 elseif code == false then code = 1 end
      error(setmetatable({ code = math.tointeger(code) or 1 }, EXIT), 0)   -- an object, caught below
    end)
  end
  p.set(env, "arg", table.move(res.args, 1, #res.args, 1, { [0] = nb.name }))
  p.set(env, KEY, api)
  -- hebb's C readers report to the guard; inside the sandbox its guard
  -- stays and passes what it allows on to opts.sandbox.note
  local guard_ok = pcall(N.set_guard, note)
  if not guard_ok and opts.sandbox then opts.sandbox.note = note end
  -- a figure is embedded only if it passes the allowlist of what hebb.plot
  -- writes (a notebook cannot show its own "figure" with a script in it)
  local check_svg = require("hebb._plot_svg").check
  p.set(display, "sink", function(item)
    if not cur or type(item) ~= "table" then return end
    local ok, why = check_svg(item.svg)
    if ok then
      add(cur, { type = "figure", svg = item.svg,
                 title = item.title ~= nil and tostring(item.title) or nil })
    else
      add(cur, { type = "warning", text = "figure refused: " .. tostring(why) .. "\n" })
    end
  end)

  running = true
  N.warnings(true)
  N.stopped()
  N.watch()
  local t0 = clock()
  local first = nb.cells[1]
  if first and first.kind == "code" and not first.marker then enter(1) end
  local ok, err = xpcall(chunk, handler, table.unpack(res.args))
  N.deadline(0)
  if not ok and getmetatable(err) ~= EXIT then
    local ok2, e2 = pcall(explain, err, cur_k or 1)
    if not ok2 then   -- Ctrl-C: undo everything, then stop
      leave(); N.unwatch(); N.warnings(false); p.undo(); running = false
      if guard_ok then N.set_guard(nil) end
      error(e2, 0)         -- rethrown as it is
    end
    err = e2
  end
  leave()
  N.unwatch()
  N.warnings(false)
  p.undo()
  if guard_ok then N.set_guard(nil) end
  running = false
  res.wall = clock() - t0

  if not ok then
    local k = cur_k or 1
    if getmetatable(err) == EXIT then
      res.exit = err.code
      add(res.cells[k], { type = "exit", code = err.code })
    else
      add(res.cells[k], { type = "error", message = err.message, traceback = err.traceback })
      res.cells[k].status = "error"
      res.failed = k
    end
  end
  for _, c in ipairs(res.cells) do
    if c.status == "running" then c.status = "ok" end
  end
  return res
end

return M
