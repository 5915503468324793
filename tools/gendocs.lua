-- gendocs.lua -- renders the docstrings of a module (the same text the
-- REPL's ?name shows) as a Markdown reference page.
-- usage: hebb tools/gendocs.lua MODULE > docs/api/MODULE.md
-- Each function is documented once, on its own module's page: a module
-- found inside another (hebb.tensor inside hebb) gets one entry, not its
-- functions.  Internal names (a part starting with "_") are never listed.
local hebb = require "hebb"
local modname = assert(arg[1], "usage: gendocs.lua MODULE")
local M = require(modname)

-- the modules loaded so far: their functions belong to their own pages
local modules = {}
for _, m in pairs(package.loaded) do
  if type(m) == "table" then modules[m] = true end
end

local function internal(name) return ("." .. name):find("%._") ~= nil end

local entries, seen = {}, {}
local function add(name, f)
  local d = hebb.doc(f)
  if (type(f) ~= "function" and type(f) ~= "table") or not d
      or internal(name) then return end
  local sig, body = d:match("^([^\n]*)\n?\n?(.*)$")
  if seen[sig] then return end   -- function and method share one entry
  seen[sig] = true
  entries[#entries + 1] = { name = name, sig = sig, body = body }
end

-- functions, and documented tables (classes such as nn.Linear) with their
-- documented functions (methods)
-- (candidates sorted by name first: a value found under two names is
-- listed under the same one on every run)
local found = {}
local function candidate(name, f) found[#found + 1] = { name = name, f = f } end
for name, f in pairs(M) do
  if type(name) == "string" then candidate(name, f) end
  if type(f) == "table" and not modules[f] and hebb.doc(f) then
    for k, g in pairs(f) do
      if type(k) == "string" and type(g) == "function" then candidate(name .. "." .. k, g) end
    end
  end
end
local ok, mt = pcall(function() return getmetatable(M.zeros(1)) end)
if ok and mt and mt.__methods then
  for name, f in pairs(mt.__methods) do candidate(name, f) end
end
table.sort(found, function(a, b) return a.name < b.name end)
for _, c in ipairs(found) do add(c.name, c.f) end
table.sort(entries, function(a, b) return a.name < b.name end)

local out = {}
out[#out + 1] = "# `" .. modname .. "` reference"
out[#out + 1] = ""
out[#out + 1] = "Generated from the docstrings by `make docs` (`tools/gendocs.lua`); the"
out[#out + 1] = "REPL shows the same text with `?name`.  Do not edit by hand."
out[#out + 1] = ""
local mdoc = hebb.doc(M)
if mdoc then out[#out + 1] = (mdoc:gsub("^[^\n]*\n\n", "")); out[#out + 1] = "" end
for _, e in ipairs(entries) do
  out[#out + 1] = "### `" .. e.sig .. "`"
  out[#out + 1] = ""
  if e.body ~= "" then out[#out + 1] = e.body; out[#out + 1] = "" end
end
io.write(table.concat(out, "\n"))
