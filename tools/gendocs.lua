-- gendocs.lua -- renders the docstrings of a module (the same text the
-- REPL's ?name shows) as a Markdown reference page.
-- usage: hebb tools/gendocs.lua MODULE > docs/api/MODULE.md
local hebb = require "hebb"
local modname = assert(arg[1], "usage: gendocs.lua MODULE")
local M = require(modname)

local entries, seen = {}, {}
local function add(name, f)
  local d = hebb.doc(f)
  if type(f) ~= "function" or not d or name:sub(1, 1) == "_" then return end
  local sig, body = d:match("^([^\n]*)\n?\n?(.*)$")
  if seen[sig] then return end   -- function and method share one entry
  seen[sig] = true
  entries[#entries + 1] = { name = name, sig = sig, body = body }
end

for name, f in pairs(M) do add(name, f) end
local ok, mt = pcall(function() return getmetatable(M.zeros(1)) end)
if ok and mt and mt.__methods then
  for name, f in pairs(mt.__methods) do add(name, f) end
end
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
