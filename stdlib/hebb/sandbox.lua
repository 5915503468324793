-- hebb.sandbox: running a script or notebook someone else wrote.
--
-- install() changes the whole process, for good (it is what `hebb
-- --sandbox` and `hebb notebook run --sandbox` do before the untrusted code
-- runs), and returns the environment that code runs in:
--
-- * no processes: os.execute and io.popen are gone (from the real os and io
--   tables too, which hebb's own library uses);
-- * no native code: package.loadlib is gone, C searchers are removed,
--   require in the sandbox finds only hebb's built-in modules and Lua files
--   below the script's folder; no bytecode: load, loadfile, dofile and
--   require read text only, and string.dump is gone;
-- * files: reads only below the allowed folders (the script's, and
--   --allow-read ones), writes only below the output folder, with symbolic
--   links resolved first, so a link cannot lead out; the same check guards
--   io.open, io.lines, io.input/io.output, loadfile, dofile, os.remove,
--   os.rename and hebb's C readers (data.read_idx, ...);
-- * no debug library, no os.getenv (secrets stay out of shared outputs),
--   collectgarbage only for collecting and counting, and the metatables of
--   strings and files are hidden (getmetatable returns false), so the code
--   cannot change the string or file methods the renderer itself calls;
-- * optional limits: CPU seconds (SIGXCPU stops the code; a hard limit 10 s
--   later kills the process) and memory (growth of the data segment).
-- The runner itself keeps the real functions it captured before.
local E = require "hebb._error"
local N = require "hebb._notebook"
local doc = require("hebb").doc
local fmt = string.format

local M = {}
doc(M, "hebb.sandbox\n\nRunning code someone else wrote: `hebb --sandbox "
  .. "script.lua`, `hebb notebook run --sandbox nb.lua`.  See "
  .. "docs/notebooks.md (Sandbox).")

local installed

local function within(real, root)
  return real == root or real:sub(1, #root + 1) == (root == "/" and "/" or root .. "/")
end

-- the file policy: allowed(path, mode) -> true, or nil and a message
local function policy(read_roots, write_roots)
  local function list(roots)
    local t = {}
    for _, r in ipairs(roots) do t[#t + 1] = r end
    return #t > 0 and table.concat(t, ", ") or "nowhere"
  end
  return function(path, mode)
    if type(path) ~= "string" then return true end   -- the real function complains
    mode = mode or "r"
    local real, err = N.resolve(path)
    if not real then return nil, fmt("sandbox: '%s' refused: %s", path, err) end
    if mode:find("[wa+]") then
      for _, r in ipairs(write_roots) do
        if within(real, r) then return true end
      end
      return nil, fmt("sandbox: writing '%s' is not allowed (writes go only below %s)",
                      path, list(write_roots))
    end
    for _, r in ipairs(read_roots) do
      if within(real, r) then return true end
    end
    for _, r in ipairs(write_roots) do
      if within(real, r) then return true end
    end
    return nil, fmt("sandbox: reading '%s' is not allowed (only below %s)", path,
                    list(read_roots))
  end
end

-- the real functions that touch files, guarded by the policy (installed in
-- the real tables, so hebb's library is guarded too); hebb's C readers call
-- the guard, which also tells the notebook runner (installed.note) what was
-- read
local function guard_real(allowed)
  local open, lines, input, output = io.open, io.lines, io.input, io.output
  local loadfile_, remove, rename = loadfile, os.remove, os.rename
  local function check_or_raise(path, mode)
    local ok, err = allowed(path, mode)
    if not ok then E.raise(err) end
  end
  io.open = function(path, mode, ...)
    local ok, err = allowed(path, mode)
    if not ok then return nil, err, 13 end   -- 13: EACCES
    return open(path, mode, ...)
  end
  io.lines = function(path, ...)
    if path ~= nil then check_or_raise(path, "r") end
    return lines(path, ...)
  end
  io.input = function(f)
    if type(f) == "string" then check_or_raise(f, "r") end
    return input(f)
  end
  io.output = function(f)
    if type(f) == "string" then check_or_raise(f, "w") end
    return output(f)
  end
  loadfile = function(path, _, env, ...)
    if path == nil then return nil, "sandbox: loadfile needs a file name" end
    local ok, err = allowed(path, "r")
    if not ok then return nil, err end
    if select("#", ...) > 0 or env ~= nil then return loadfile_(path, "t", env) end
    return loadfile_(path, "t")
  end
  dofile = function(path)   -- through the guarded, text-only loadfile
    if path == nil then E.raise("sandbox: dofile needs a file name") end
    local f, err = loadfile(path)
    if not f then E.raise(err) end
    return f()
  end
  os.remove = function(path)
    local ok, err = allowed(path, "w")
    if not ok then return nil, err, 13 end
    return remove(path)
  end
  os.rename = function(a, b)
    local ok, err = allowed(a, "w")
    if ok then ok, err = allowed(b, "w") end
    if not ok then return nil, err, 13 end
    return rename(a, b)
  end
  N.set_guard(function(path, mode)
    local ok, err = allowed(path, mode)
    if not ok then E.raise(err) end
    if installed and installed.note then installed.note(path, mode) end
  end)
end

-- the process-wide removals
local function strip_real()
  string.dump = nil
  io.popen, io.tmpfile = nil, nil
  os.execute, os.tmpname = nil, nil
  -- hebb.sweep's worker processes are processes too
  require("hebb._jobs").fork = function()
    error("sandbox: worker processes are not allowed (run the sweep with jobs = 1)", 0)
  end
  os.getenv = function() return nil end
  local setlocale = os.setlocale
  os.setlocale = function(l, c)
    if l ~= nil then return nil end   -- a query only: formats stay fixed
    return setlocale(nil, c)
  end
  package.loadlib = nil
  package.cpath = ""
  for i = #package.searchers, 3, -1 do table.remove(package.searchers, i) end
  getmetatable("").__metatable = false
  getmetatable(io.stdout).__metatable = false
  -- what load and loadfile accept in hebb's own code, too: text
  local load_ = load
  load = function(chunk, name, _, ...)
    return load_(chunk, name, "t", ...)
  end
end

local COLLECT_OK = { collect = true, count = true, step = true, isrunning = true }

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- the environment of the untrusted code
local function make_env(allowed, roots, main_dir)
  local env = {}
  for _, k in ipairs { "assert", "error", "ipairs", "next", "pairs", "pcall",
                       "print", "rawequal", "rawget", "rawlen", "rawset",
                       "select", "setmetatable", "getmetatable", "tonumber",
                       "tostring", "type", "xpcall", "warn", "_VERSION" } do
    env[k] = _G[k]
  end
  env.string, env.table, env.math, env.utf8, env.coroutine =
    copy(string), copy(table), copy(math), copy(utf8), copy(coroutine)
  env.io = copy(io)
  env.os = copy(os)
  env._G = env
  local real_load = load
  env.load = function(chunk, name, mode, ...)
    if select("#", ...) > 0 then return real_load(chunk, name, mode, ...) end
    return real_load(chunk, name, mode, env)
  end
  env.loadfile = function(path, mode, ...)
    if select("#", ...) > 0 then return loadfile(path, mode, ...) end
    return loadfile(path, mode, env)
  end
  env.dofile = function(path)
    local f, err = env.loadfile(path)
    if not f then E.raise(err) end
    return f()
  end
  env.collectgarbage = function(opt, ...)
    opt = opt or "collect"
    if not COLLECT_OK[opt] then
      E.raise("sandbox: collectgarbage(%q) is not allowed (only collect, "
              .. "count, step, isrunning)", tostring(opt))
    end
    return collectgarbage(opt, ...)
  end
  local loaded = {}
  for _, k in ipairs { "string", "table", "math", "utf8", "coroutine", "io", "os" } do
    loaded[k] = env[k]
  end
  loaded._G = env
  local pkg = { loaded = loaded, path = main_dir .. "/?.lua;" .. main_dir .. "/?/init.lua",
                config = package.config, preload = {} }
  env.package = pkg
  loaded.package = pkg
  env.require = function(name)
    if type(name) ~= "string" then
      E.raise("bad argument #1 to 'require' (string expected, got %s)", type(name))
    end
    if loaded[name] ~= nil then return loaded[name] end
    if name == "hebb" or name:match("^hebb%.") then
      if name == "hebb._notebook" or name == "hebb.notebook" or name == "hebb.sandbox" then
        E.raise("sandbox: module '%s' is not available inside the sandbox", name)
      end
      if not (package.preload[name] or package.loaded[name]) then
        E.raise("module '%s' not found (hebb has no such module)", name)
      end
      local m = require(name)
      loaded[name] = m
      return m
    end
    local tried = {}
    for template in pkg.path:gmatch("[^;]+") do
      local path = template:gsub("%?", (name:gsub("%.", "/")))
      local ok, err = allowed(path, "r")
      if ok then
        local f = io.open(path, "r")
        if f then
          f:close()
          local chunk, cerr = loadfile(path, "t", env)
          if not chunk then E.raise(cerr) end
          local v = chunk(name, path)
          if v == nil then v = true end
          loaded[name] = v
          return v
        end
        tried[#tried + 1] = "\n\tno file '" .. path .. "'"
      else
        tried[#tried + 1] = "\n\t" .. err
      end
    end
    E.raise("module '%s' not found (the sandbox loads only hebb's modules "
            .. "and Lua files below %s):%s", name, roots[1] or "?", table.concat(tried))
  end
  return env
end

-- M.install{read = {dirs}, write = {dirs}, cpu = s, mem = MB, main = path}
function M.install(opts)
  if installed then E.raise("sandbox.install: the sandbox is already installed") end
  opts = opts or {}
  local function roots(list, what)
    local out = {}
    for _, d in ipairs(list or {}) do
      local r = N.resolve(d)
      if not r then E.raise("sandbox: the %s folder '%s' does not exist", what, d) end
      out[#out + 1] = r
    end
    return out
  end
  local read, write = roots(opts.read, "readable"), roots(opts.write, "output")
  local allowed = policy(read, write)
  local main_dir = opts.main and (N.resolve((opts.main:match("^(.*)/[^/]*$") or "."))) or read[1] or "."
  if opts.cpu or opts.mem then N.limits { cpu = opts.cpu, mem = opts.mem } end
  -- the hebb modules are loaded on demand; the ones the runner needs to
  -- render come in first (their loading uses nothing the sandbox removes)
  require "hebb._notebook_render"
  guard_real(allowed)
  strip_real()
  N.watch()
  N.lock()
  installed = { env = make_env(allowed, read, main_dir), read = read, write = write,
                allowed = allowed }
  return installed
end
doc(M.install, "sandbox.install{read = {dirs}, write = {dirs}, cpu = seconds, "
  .. "mem = megabytes, main = path}  ->  {env, read, write, allowed}\n\nTurns "
  .. "the process into a sandbox for code someone else wrote, for good: no "
  .. "os.execute/io.popen, no C modules (package.loadlib, C searchers), no "
  .. "bytecode (text-only load/loadfile/dofile/require, no string.dump), "
  .. "file reads only below the read and write folders and writes only below "
  .. "the write folders (symbolic links resolved first; hebb's C readers "
  .. "too), no os.getenv, collectgarbage only for collect/count/step, hidden "
  .. "string and file metatables, optional CPU-time and memory limits.  "
  .. "Returns the environment to run the code in (no debug library; require "
  .. "finds hebb's modules and Lua files below main's folder).")

-- M.prepare(script, cpu, mem) -> the script's chunk, loaded into a new
-- sandbox whose readable folder is the script's and which writes nowhere
function M.prepare(script, cpu, mem)
  local function number(v, opt, what)
    if v == nil then return nil end
    local n = tonumber(v)
    if not n or n <= 0 then
      E.raise("%s: expected a positive number of %s, got '%s'", opt, what, v)
    end
    return n
  end
  cpu, mem = number(cpu, "--cpu", "seconds"), number(mem, "--mem", "megabytes")
  local dir = script:match("^(.*)/[^/]*$") or "."
  local f, err = io.open(script, "rb")
  if not f then E.raise("cannot open " .. err) end
  local src = f:read("a")
  f:close()
  if not src then E.raise("cannot read " .. script) end
  local args = {}
  for k, v in pairs(arg or {}) do args[k] = v end
  local box = M.install { read = { dir }, write = {}, cpu = cpu, mem = mem, main = script }
  box.env.arg = args
  src = src:gsub("^#[^\n]*", "")   -- a #! line
  local chunk, lerr = load(src, "@" .. script, "t", box.env)
  if not chunk then error(lerr, 0) end   -- load's message has the script's line
  return chunk
end
doc(M.prepare, "sandbox.prepare(script [, cpu [, mem]])  ->  chunk\n\nWhat "
  .. "`hebb --sandbox script.lua` does: installs the sandbox with the "
  .. "script's folder readable and no writable folder, and loads the script "
  .. "(text only) into its environment.")

return M
