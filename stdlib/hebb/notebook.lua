-- hebb.notebook: .lua notebooks -- run, render, check, export.
--
-- A notebook is a plain Lua script with Jupytext percent-format cell marks
-- (hebb._notebook_parse).  run() executes it top to bottom as one chunk and
-- captures each cell's output (hebb._notebook_run); the renders (Markdown,
-- a single-file HTML page, Jupyter's .ipynb) come from
-- hebb._notebook_render; the manifest fingerprints the source, the data
-- files read and every cell's output, and check() re-runs a notebook
-- against it.  main() is the `hebb notebook ...` command.  docs/notebooks.md
-- is the guide.
local P = require "hebb._notebook_parse"
local R = require "hebb._notebook_run"
local N = require "hebb._notebook"
local F = require "hebb._notebook_figure"
local J = require "hebb._json"
local E = require "hebb._error"
local doc = require("hebb").doc
local fmt, concat = string.format, table.concat

local M = {}
doc(M, "hebb.notebook\n\n.lua notebooks (Jupytext percent format): run them "
  .. "top to bottom with per-cell capture of output, warnings, errors and "
  .. "figures; render Markdown, a single-file HTML page and Jupyter .ipynb; "
  .. "record a manifest and check that a re-run reproduces it.  See "
  .. "docs/notebooks.md.")

local MANIFEST_FORMAT = "hebb notebook manifest 1"
-- a cell's output is kept in the manifest up to this many bytes (its
-- digest covers all of it): enough for any diff one reads
local KEEP_OUTPUT = 100000

-- --- files ---------------------------------------------------------------------

local function read_file(path, who)
  local f, err = io.open(path, "rb")
  if not f then E.raise("%s: cannot open %s", who, err) end
  local s = f:read("a")
  f:close()
  if not s then E.raise("%s: cannot read '%s' (a folder?)", who, path) end
  return s
end

local function write_file(path, text)
  local f, err = io.open(path, "wb")
  if not f then error(fmt("cannot write %s", err), 0) end
  f:write(text)
  f:close()
end

local function dirname(path) return path:match("^(.*)/[^/]*$") or "." end
local function stem(path) return (path:match("([^/]*)$"):gsub("%.lua$", "")) end
M._dirname, M._stem = dirname, stem

function M.parse(src, name)
  if type(src) ~= "string" then
    E.raise("notebook.parse: src must be a string, got %s", E.show(src))
  end
  return P.parse(src, name)
end
doc(M.parse, "notebook.parse(src [, name])\n\nThe cells of a notebook's text: "
  .. "a table {name, source, lines, meta, cells}; each cell has kind "
  .. "(\"code\", \"markdown\", \"meta\"), index, marker (its line), first/last "
  .. "(its body's lines), title, opts (echo, output, eval, error, timeout) and "
  .. "code or text.  A malformed notebook raises \"name:line: what is wrong\".")

function M.load(path)
  if type(path) ~= "string" then
    E.raise("notebook.load: path must be a string, got %s", E.show(path))
  end
  local nb = P.parse(read_file(path, "notebook.load"), path)
  nb.path = path
  return nb
end
doc(M.load, "notebook.load(path)\n\nReads and parses the notebook at path "
  .. "(see notebook.parse).")

-- --- a notebook's own checks --------------------------------------------------------

-- Every checked notebook parses --small and --check, prints one verdict line
-- per claim it tests and exits non-zero under --check when one failed; this
-- is that preamble, once.
function M.checks(argv)
  local c = { small = false, check = false, args = {}, failed = 0 }
  for _, a in ipairs(argv or {}) do
    if a == "--small" then c.small = true
    elseif a == "--check" then c.check = true
    else c.args[#c.args + 1] = a end
  end
  function c.verdict(ok, what)
    print(fmt("  %-60s %s", what, ok and "ok" or "FAILED"))
    if not ok then c.failed = c.failed + 1 end
    return ok
  end
  function c.number(i, default)
    local v = tonumber(c.args[i])
    if c.args[i] ~= nil and v == nil then
      E.raise("notebook.checks: argument %d must be a number, got %s", i, E.show(c.args[i]))
    end
    return v or default
  end
  function c.finish()
    if c.failed > 0 then print(fmt("%d check(s) FAILED", c.failed)) end
    if c.check and c.failed > 0 then os.exit(1) end
  end
  return c
end
doc(M.checks, "notebook.checks(arg)  ->  c\n\nThe preamble of a checked notebook: "
  .. "c.small and c.check are the flags --small and --check among arg, c.args the "
  .. "other arguments (c.number(i, default) reads the i-th as a number); "
  .. "c.verdict(ok, what) prints one line 'what ... ok' or 'FAILED' and counts "
  .. "failures; c.finish() (the last cell) prints how many failed and, under "
  .. "--check, exits with status 1 when any did.")

-- --- running ---------------------------------------------------------------------

-- the modules a [meta] cell requires must exist before anything runs
local function check_requires(nb)
  for _, m in ipairs(nb.meta.requires or {}) do
    if not (package.preload[m] or package.loaded[m] or
            package.searchpath(m, package.path)) then
      error(fmt("%s: the notebook requires module '%s' (its [meta] cell), "
                .. "which this hebb (%s) does not have", nb.name, m,
                N.info().hebb), 0)
    end
  end
end

local function relative(real, base)
  if base and real:sub(1, #base + 1) == base .. "/" then return real:sub(#base + 2) end
  return real
end

-- M.run(nb_or_path, opts) -> result
function M.run(nb, opts)
  opts = E.checkopts("notebook.run", opts, { args = true, env = true,
    timeout = true, sandbox = true, on_cell = true })
  if type(nb) == "string" then nb = M.load(nb) end
  check_requires(nb)
  local seed = nb.meta.seed or 0
  math.randomseed(seed)
  require("hebb.tensor").manual_seed(seed)
  local env = opts.env
  if opts.sandbox then env = opts.sandbox.env end
  local res = R.run(nb, { args = opts.args, env = env, timeout = opts.timeout,
                          sandbox = opts.sandbox, on_cell = opts.on_cell })
  res.nb, res.seed, res.info = nb, seed, N.info()
  res.source_sha256 = N.sha256(nb.source)
  local base = N.resolve(dirname(nb.path or nb.name))
  for _, d in ipairs(res.data) do d.path = relative(d.real, base) end
  table.sort(res.data, function(a, b) return a.path < b.path end)
  return res
end
doc(M.run, "notebook.run(nb [, {args=, timeout=, env=, sandbox=}])\n\nRuns a "
  .. "notebook (a path or a parsed one) top to bottom as one chunk -- locals "
  .. "flow from cell to cell, messages keep the file's line numbers -- and "
  .. "returns the result: cells[k] = {status, outputs, time} (outputs: "
  .. "streams, warnings, figures, errors with tracebacks), data (the files "
  .. "it read, with their SHA-256), exit (an os.exit code), failed (the cell "
  .. "whose error stopped it), seed, info (versions, BLAS, threads).  args "
  .. "become arg[1..] and the chunk's ...; timeout is a default per-cell "
  .. "limit in seconds; sandbox is the value hebb.sandbox.install returned.")

-- --- output text and manifest -----------------------------------------------------

-- a cell's outputs as text: what `check` compares and shows in its diff
function M.output_text(outputs)
  local parts = {}
  local function block(s)
    if #parts > 0 and parts[#parts]:sub(-1) ~= "\n" then parts[#parts + 1] = "\n" end
    parts[#parts + 1] = s
  end
  for _, o in ipairs(outputs) do
    if o.type == "stream" and o.name == "stdout" then block(o.text)
    elseif o.type == "stream" then block((o.text:gsub("[^\n]+", "[stderr] %0")))
    elseif o.type == "warning" then block((o.text:gsub("[^\n]+", "[warning] %0")))
    elseif o.type == "figure" then
      block(fmt("[figure%s sha256 %s]\n", o.title and " " .. o.title or "",
                N.sha256(o.svg):sub(1, 16)))
    elseif o.type == "error" then
      block("[error] " .. o.message .. "\n" .. (o.traceback ~= "" and o.traceback .. "\n" or ""))
    elseif o.type == "exit" then block(fmt("[os.exit(%d)]\n", o.code))
    end
  end
  return J.clean_utf8(concat(parts))
end
doc(M.output_text, "notebook.output_text(outputs)\n\nA cell's outputs as "
  .. "the text the manifest keeps and check compares: stdout as printed, "
  .. "other items on tagged lines ([stderr], [warning], [figure title sha256 "
  .. "...], [error] with its traceback, [os.exit(n)]).")

function M.manifest(res)
  local nb = res.nb
  local cells, digests = {}, {}
  for k, c in ipairs(nb.cells) do
    if c.kind == "code" then
      local text = M.output_text(res.cells[k].outputs)
      local d = N.sha256(text)
      digests[#digests + 1] = d
      local cut = #text > KEEP_OUTPUT
      local figures = {}
      for _, o in ipairs(res.cells[k].outputs) do
        if o.type == "figure" then
          local shape, coords = F.fingerprint(o.svg)
          figures[#figures + 1] = { sha256 = N.sha256(o.svg):sub(1, 16), shape = shape,
                                    coords = coords }
        end
      end
      cells[#cells + 1] = { index = k, line = c.marker or 1, title = c.title,
                            status = res.cells[k].status, digest = d,
                            output = cut and J.clean_utf8(text:sub(1, KEEP_OUTPUT)) or text,
                            output_truncated = cut or nil,
                            figures = #figures > 0 and J.array(figures) or nil }
    end
  end
  local data = {}
  for _, d in ipairs(res.data) do data[#data + 1] = { path = d.path, sha256 = d.sha256 } end
  local args = {}
  for i, a in ipairs(res.args) do args[i] = a end
  return {
    format = MANIFEST_FORMAT,
    notebook = nb.name:match("([^/]*)$"),
    source_sha256 = res.source_sha256,
    args = J.array(args),
    seed = res.seed,
    exit = res.exit or 0,
    failed_cell = res.failed,
    environment = { hebb = res.info.hebb, commit = res.info.commit,
                    lua = res.info.lua, blas = res.info.blas,
                    threads = res.info.threads },
    data = J.array(data),
    cells = J.array(cells),
    digest = N.sha256(concat(digests, "\n")),
  }
end
doc(M.manifest, "notebook.manifest(result)\n\nThe manifest of a run as a "
  .. "table (notebook.write_manifest stores it as JSON): format, notebook, "
  .. "source_sha256, args, seed, exit, environment (hebb version and commit, "
  .. "Lua, BLAS library and core, threads: recorded, not compared), data "
  .. "(path and SHA-256 of every file read), cells (index, line, title, "
  .. "status, digest = SHA-256 of output, output -- its first 100000 bytes, "
  .. "output_truncated when longer, figures: each figure's sha256, shape and "
  .. "coords, see notebook.compare) and digest (of all cells).")

function M.write_manifest(res, path)
  write_file(path, J.encode(M.manifest(res)))
end
doc(M.write_manifest, "notebook.write_manifest(result, path)\n\nWrites the "
  .. "manifest of a run as JSON.")

function M.read_manifest(path)
  local text = read_file(path, "notebook.read_manifest")
  local ok, m = pcall(J.decode, text)
  if not ok or type(m) ~= "table" or m.format ~= MANIFEST_FORMAT then
    E.raise("notebook.read_manifest: %s is not a hebb notebook manifest%s", path,
            ok and "" or " (" .. m .. ")")
  end
  return m
end
doc(M.read_manifest, "notebook.read_manifest(path)\n\nThe manifest at path "
  .. "as a table; raises if it is not one.")

-- --- renders ------------------------------------------------------------------

local function render() return require "hebb._notebook_render" end

function M.html(res) return render().html(res) end
doc(M.html, "notebook.html(result)  ->  text\n\nThe run as one self-contained "
  .. "HTML page: markdown with MathML formulas, code, outputs (escaped), figures "
  .. "as embedded SVG images; no script, nothing loaded from the network.  Only "
  .. "the footer (environment, times) differs between runs.")

function M.markdown(res, base)
  return render().markdown(res, base or stem(res.nb.name))
end
doc(M.markdown, "notebook.markdown(result [, base])  ->  text, figures\n\nThe "
  .. "run as Markdown; figures are referenced as base_files/cellK-figureN.svg and "
  .. "returned in the table figures (name -> SVG text).")

function M.ipynb(res) return render().ipynb(res) end
doc(M.ipynb, "notebook.ipynb(result)  ->  text\n\nThe run as a Jupyter notebook "
  .. "(nbformat 4.5 JSON) with its outputs and SVG figures.")

-- --- check --------------------------------------------------------------------

-- a line diff of two texts (longest common subsequence; long texts fall
-- back to the first difference): "-" lines recorded, "+" lines now
local function diff(a, b, limit)
  local x, y = P.split_lines(a), P.split_lines(b)
  local out = {}
  if #x * #y > 4e6 then
    for i = 1, math.max(#x, #y) do
      if x[i] ~= y[i] then
        out[#out + 1] = fmt("  line %d:", i)
        out[#out + 1] = "  - " .. tostring(x[i])
        out[#out + 1] = "  + " .. tostring(y[i])
        break
      end
    end
    return out
  end
  local L = {}
  for i = #x + 1, 1, -1 do
    L[i] = {}
    for j = #y + 1, 1, -1 do
      if i > #x or j > #y then L[i][j] = 0
      elseif x[i] == y[j] then L[i][j] = L[i + 1][j + 1] + 1
      else L[i][j] = math.max(L[i + 1][j], L[i][j + 1]) end
    end
  end
  local i, j = 1, 1
  while (i <= #x or j <= #y) and #out < limit do
    if i <= #x and j <= #y and x[i] == y[j] then i, j = i + 1, j + 1
    elseif i <= #x and (j > #y or L[i + 1][j] >= L[i][j + 1]) then
      out[#out + 1] = "  - " .. x[i]; i = i + 1
    else
      out[#out + 1] = "  + " .. y[j]; j = j + 1
    end
  end
  if i <= #x or j <= #y then out[#out + 1] = "  ..." end
  return out
end
M._diff = diff

-- same_picture(recorded cell, cell now, where, lines) -> true when the only
-- differences of the output are figures that draw the recorded picture: the
-- same shape, every coordinate within F.TOLERANCE (a note goes to lines)
local function same_picture(o, c, where, lines)
  local was, now = o.figures, c.figures
  if type(was) ~= "table" or not now or #was ~= #now then return false end
  local text, notes = c.output, {}
  for i, f in ipairs(now) do
    local r = was[i]
    if type(r) ~= "table" or type(r.coords) ~= "string" or type(r.sha256) ~= "string" then
      return false
    end
    if f.sha256 ~= r.sha256 then
      if f.shape ~= r.shape then return false end
      local worst, moved, n = F.close(r.coords, f.coords)
      if not worst or worst > F.TOLERANCE then return false end
      local at = text:find("sha256 " .. f.sha256 .. "]", 1, true)
      if not at then return false end
      text = text:sub(1, at + 6) .. r.sha256 .. text:sub(at + 7 + #f.sha256)
      notes[#notes + 1] = fmt("%s: figure %d is the recorded picture: %d of %d coordinates "
                              .. "moved, by %.3g px at most (tolerance %g px)", where, i,
                              moved, n, worst, F.TOLERANCE)
    end
  end
  if #notes == 0 or c.output_truncated or N.sha256(text) ~= o.digest then return false end
  for _, l in ipairs(notes) do lines[#lines + 1] = l end
  return true
end

-- M.compare(manifest, result) -> ok, report lines
function M.compare(m, res)
  local now = M.manifest(res)
  local lines, ok = {}, true
  local function bad(s, ...) ok = false; lines[#lines + 1] = fmt(s, ...) end
  if now.source_sha256 ~= m.source_sha256 then
    bad("source: %s changed since the manifest was recorded (sha256 %s..., now %s...)",
        res.nb.name, tostring(m.source_sha256):sub(1, 12), now.source_sha256:sub(1, 12))
  end
  -- a hand-edited manifest: the recorded text must still give its digest
  for _, c in ipairs(m.cells or {}) do
    if type(c.output) ~= "string" or (N.sha256(c.output) ~= c.digest and not c.output_truncated) then
      bad("manifest: the recorded output of cell %s (line %s) does not match its "
          .. "digest: the manifest was edited", tostring(c.index), tostring(c.line))
    end
  end
  local old = {}
  for _, d in ipairs(m.data or {}) do old[d.path] = d.sha256 end
  for _, d in ipairs(now.data) do
    if old[d.path] == nil then
      bad("data: %s is read now but was not when recorded", d.path)
    elseif old[d.path] ~= d.sha256 then
      bad("data: %s changed (sha256 %s..., now %s...)", d.path,
          old[d.path]:sub(1, 12), d.sha256:sub(1, 12))
    end
    old[d.path] = nil
  end
  for path in pairs(old) do bad("data: %s was read when recorded, not now", path) end
  local by_index = {}
  for _, c in ipairs(m.cells or {}) do by_index[c.index] = c end
  for _, c in ipairs(now.cells) do
    local o = by_index[c.index]
    local where = fmt("cell %d (line %d%s)", c.index, c.line,
                      c.title and ", " .. c.title or "")
    if not o then bad("%s: not in the manifest", where)
    elseif o.digest ~= c.digest and not same_picture(o, c, where, lines) then
      bad("%s: output differs", where)
      for _, l in ipairs(diff(o.output or "", c.output, 40)) do lines[#lines + 1] = l end
    end
    by_index[c.index] = nil
  end
  for k in pairs(by_index) do bad("cell %d: in the manifest, not in the notebook", k) end
  if (m.exit or 0) ~= now.exit then bad("exit: os.exit(%d), recorded %d", now.exit, m.exit or 0) end
  return ok, lines
end
doc(M.compare, "notebook.compare(manifest, result)  ->  ok, lines\n\nCompares "
  .. "a fresh run with a recorded manifest: the source's SHA-256, the "
  .. "recorded outputs against their own digests (a hand-edited manifest), "
  .. "every data file's SHA-256, every code cell's output digest (with a line "
  .. "diff of the output when it differs) and the exit code.  The "
  .. "environment is not compared.  A cell whose output differs only in "
  .. "figures still reproduces when each such figure has its recorded shape "
  .. "(the SVG with coordinates masked: elements, colours, text) and every "
  .. "coordinate within 0.05 px of the recorded one -- the same picture from "
  .. "numbers that moved by rounding (another BLAS kernel); lines then says "
  .. "which figures moved and by how much.")

-- --- the command line ------------------------------------------------------------

local USAGE = [[
usage: hebb notebook run NB.lua [-o DIR] [--format md,html|none] [options] [-- args]
       hebb notebook check NB.lua [-m MANIFEST] [--update] [options]
       hebb notebook export NB.lua --to ipynb|md|html [-o FILE] [options] [-- args]
run     runs the notebook top to bottom and writes DIR/NB.md (figures in
        DIR/NB_files/), DIR/NB.html (one file) and DIR/NB.manifest.json;
        DIR defaults to the notebook's folder.
check   re-runs it with the arguments the manifest recorded and compares
        every cell's output, the data files and the source with the manifest
        (default: NB.manifest.json beside the notebook); exit status 1 and a
        diff on any drift.  --update rewrites the manifest from the re-run
        (same arguments) instead.
export  runs it and writes one format (default FILE: NB.ipynb etc. in the
        notebook's folder).
options: --threads N   kernel threads (results do not depend on it)
         --timeout S   default time limit of each cell, in seconds
         --sandbox     run someone else's notebook: no processes, no C
                       modules or bytecode, reads only below the notebook's
                       folder (and --allow-read DIRs), writes only to DIR
         --cpu S, --mem MB, --allow-read DIR   (with --sandbox)
]]

local function usage_error(msg)
  io.stderr:write("hebb notebook: ", msg, "\n", USAGE)
  return 2
end

local VALUE_OPTS = { ["-o"] = "out", ["-m"] = "manifest", ["--format"] = "format",
  ["--to"] = "to", ["--threads"] = "threads", ["--timeout"] = "timeout",
  ["--cpu"] = "cpu", ["--mem"] = "mem", ["--allow-read"] = "allow_read" }

local function parse_args(argv)
  local o = { args = {}, allow_read = {} }
  local i = 2
  while i <= #argv do
    local a = argv[i]
    if a == "--" then
      table.move(argv, i + 1, #argv, 1, o.args)
      break
    end
    local key, value = a:match("^(%-%-[%w-]+)=(.*)$")
    key = key or a
    if VALUE_OPTS[key] then
      if not value then i = i + 1; value = argv[i] end
      if not value then return nil, a .. " needs a value" end
      if key == "--allow-read" then o.allow_read[#o.allow_read + 1] = value
      else o[VALUE_OPTS[key]] = value end
    elseif a == "--sandbox" then o.sandbox = true
    elseif a == "--update" and argv[1] == "check" then o.update = true
    elseif a:sub(1, 1) == "-" then return nil, "unknown option '" .. a .. "'"
    elseif o.path then return nil, "one notebook at a time (also got '" .. a .. "')"
    else o.path = a end
    i = i + 1
  end
  if not o.path then return nil, "no notebook given" end
  for _, k in ipairs { "threads", "timeout", "cpu", "mem" } do
    if o[k] then
      local v = tonumber(o[k])
      if not v or v <= 0 then return nil, fmt("--%s needs a positive number, got '%s'", k, o[k]) end
      o[k] = v
    end
  end
  if (o.cpu or o.mem or #o.allow_read > 0) and not o.sandbox then
    return nil, "--cpu, --mem and --allow-read go with --sandbox"
  end
  return o
end

-- runs the notebook as the command asked (sandboxed or not); returns the
-- result, or nil after printing the problem
local function execute(o, outdir)
  if o.threads then require("hebb").threads(math.tointeger(o.threads) or 1) end
  local nb = M.load(o.path)
  local sandbox
  if o.sandbox then
    local read = { dirname(o.path) }
    for _, d in ipairs(o.allow_read) do read[#read + 1] = d end
    sandbox = require("hebb.sandbox").install { read = read,
      write = outdir and { outdir } or {}, cpu = o.cpu, mem = o.mem,
      main = o.path }
  end
  -- on a terminal, a bar over the code cells (on stderr: the real one,
  -- taken before the run replaces io.stderr)
  local ncode, number = 0, {}
  for k, c in ipairs(nb.cells) do
    if c.kind == "code" then ncode = ncode + 1; number[k] = ncode end
  end
  local bar <close> = require("hebb.progress").new { total = math.max(ncode, 1),
    label = stem(o.path), unit = "cell" }
  local function on_cell(k)
    local c = nb.cells[k]
    bar:update(number[k] - 1, fmt("line %d%s", c.marker or 1, c.title and " " .. c.title or ""))
  end
  local res = M.run(nb, { args = o.args, timeout = o.timeout, sandbox = sandbox,
                          on_cell = on_cell })
  bar:update(math.max(ncode, 1), "done")
  return res
end

local function summary(res)
  if res.failed then
    local c = res.cells[res.failed]
    local e = c.outputs[#c.outputs]
    return false, fmt("cell %d failed: %s", res.failed, e.message)
  end
  if res.exit and res.exit ~= 0 then return false, fmt("the notebook called os.exit(%d)", res.exit) end
  return true
end

local function cmd_run(o)
  local outdir = o.out or dirname(o.path)
  N.mkdir(outdir)
  local formats = {}
  for f in (o.format or "md,html"):gmatch("[^,]+") do
    if f ~= "md" and f ~= "html" and f ~= "none" then
      return usage_error("--format takes md, html or none, got '" .. f .. "'")
    end
    formats[f] = true
  end
  local res = execute(o, outdir)
  local R2 = require "hebb._notebook_render"
  local base = outdir .. "/" .. stem(o.path)
  if formats.md then R2.write_md(res, base) end
  if formats.html then write_file(base .. ".html", R2.html(res)) end
  M.write_manifest(res, base .. ".manifest.json")
  local ok, why = summary(res)
  local wrote = {}
  if formats.md then wrote[#wrote + 1] = base .. ".md" end
  if formats.html then wrote[#wrote + 1] = base .. ".html" end
  wrote[#wrote + 1] = base .. ".manifest.json"
  print(fmt("%s: %d cells in %.2f s; wrote %s", o.path, #res.nb.cells, res.wall,
            concat(wrote, ", ")))
  if not ok then io.stderr:write("hebb notebook: ", why, "\n"); return 1 end
  return 0
end

local function cmd_check(o)
  if #o.args > 0 then
    return usage_error("check runs the notebook with the arguments its manifest recorded; "
                       .. "it takes none after --")
  end
  local mpath = o.manifest or (dirname(o.path) .. "/" .. stem(o.path) .. ".manifest.json")
  local mok, m = pcall(M.read_manifest, mpath)
  if not mok then
    io.stderr:write("hebb notebook check: ", tostring(m), "\n",
      "record one with: hebb notebook run ", o.path, " --format none [-- args]\n")
    return 2
  end
  o.args = {}
  for i, a in ipairs(m.args or {}) do o.args[i] = a end
  local res = execute(o, nil)
  local ok, lines = M.compare(m, res)
  if o.update then
    M.write_manifest(res, mpath)
    print(fmt("%s: %s %s (arguments: %s)", o.path, ok and "unchanged," or "updated",
              mpath, #o.args > 0 and concat(o.args, " ") or "none"))
    return 0
  end
  if ok then
    print(fmt("%s: reproduced: %d code cells, %d data files, digest %s...", o.path,
              #(m.cells or {}), #(m.data or {}), tostring(m.digest):sub(1, 16)))
    for _, l in ipairs(lines) do print("  " .. l) end
    return 0
  end
  print(fmt("%s: DRIFT against %s", o.path, mpath))
  for _, l in ipairs(lines) do print(l) end
  return 1
end

local function cmd_export(o)
  local to = o.to or "ipynb"
  if to ~= "ipynb" and to ~= "md" and to ~= "html" then
    return usage_error("--to takes ipynb, md or html, got '" .. to .. "'")
  end
  local file = o.out or (dirname(o.path) .. "/" .. stem(o.path) .. "." .. to)
  local res = execute(o, dirname(file))
  local R2 = require "hebb._notebook_render"
  if to == "ipynb" then write_file(file, R2.ipynb(res))
  elseif to == "html" then write_file(file, R2.html(res))
  else R2.write_md(res, (file:gsub("%.md$", ""))) end
  print(fmt("%s: wrote %s", o.path, file))
  local ok, why = summary(res)
  if not ok then io.stderr:write("hebb notebook: ", why, "\n"); return 1 end
  return 0
end

local COMMANDS = { run = cmd_run, check = cmd_check, export = cmd_export }

function M.main(argv)
  local cmd = argv[1]
  if cmd == nil or cmd == "help" or cmd == "-h" or cmd == "--help" then
    io.stdout:write(USAGE)
    return cmd == nil and 2 or 0
  end
  if not COMMANDS[cmd] then
    return usage_error(fmt("unknown command '%s'%s", cmd,
      (E.suggest(cmd, COMMANDS) and fmt(" (did you mean '%s'?)", E.suggest(cmd, COMMANDS)) or "")))
  end
  local o, err = parse_args(argv)
  if not o then return usage_error(err) end
  local ok, code = pcall(COMMANDS[cmd], o)
  if not ok then
    io.stderr:write("hebb notebook: ", tostring(code), "\n")
    return 2
  end
  return code
end
doc(M.main, "notebook.main(argv)  ->  exit status\n\nThe `hebb notebook` "
  .. "command: run, check, export (see `hebb notebook help`).")

return M
