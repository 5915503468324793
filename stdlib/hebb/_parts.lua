-- hebb._parts: how a module made of several files is put together
-- (docs/design.md, "Modules made of several files").
--
-- The module's main file lists its parts; each part is a plain module
-- (stdlib/hebb/_x_part.lua is hebb._x_part) that returns a table.  install
-- copies every public name (a string key without a leading underscore) of
-- each part into the module table.  Two parts exporting one name is a
-- mistake in the library, reported when the module loads.
--
-- A part listed as { "hebb._x_part", "f", "g" } is loaded on first use
-- (docs/performance.md, "the resident heap"): every collector cycle marks
-- and sweeps what is loaded, and most programs never call f or g.  Until
-- then mod.f and mod.g are stubs: the first call of one (or hebb.doc of
-- one: the REPL's ?name, make docs) loads the part, which puts its own
-- functions in the stubs' places.  The entry lists exactly the part's
-- public names, all functions; loading a part whose names differ from its
-- entry is an error.
local getregistry = debug.getregistry

local M = {}

local function public(k)
  return type(k) == "string" and k:sub(1, 1) ~= "_"
end

-- stub -> function returning the value whose docstring the stub has (hebb.doc
-- asks it, natives/lua/l_hebb.c)
local function lazy_docs()
  local reg = getregistry()
  local t = reg["hebb.docs.lazy"]
  if not t then
    t = setmetatable({}, { __mode = "k" })
    reg["hebb.docs.lazy"] = t
  end
  return t
end

local function install_lazy(mod, entry, modname, from)
  local part, P = entry[1], nil
  local stubs = {}
  local function load()
    if P then return P end
    local got = require(part)
    for k, v in pairs(got) do
      if public(k) and not stubs[k] then
        error(string.format("%s: %s exports '%s', which its entry does not list", modname, part, k), 0)
      end
      if stubs[k] and mod[k] == stubs[k] then mod[k] = v end
    end
    for k in pairs(stubs) do
      if type(got[k]) ~= "function" then
        error(string.format("%s: %s exports no function '%s'", modname, part, k), 0)
      end
    end
    P = got
    return P
  end
  local docs = lazy_docs()
  for i = 2, #entry do
    local name = entry[i]
    if from[name] then
      error(string.format("%s: %s and %s both export '%s'", modname, from[name], part, name), 0)
    end
    local function stub(...) return load()[name](...) end
    from[name], stubs[name], mod[name] = part, stub, stub
    docs[stub] = function() return load()[name] end
  end
end

function M.install(mod, parts, modname)
  local from = {}
  for _, part in ipairs(parts) do
    if type(part) == "table" then
      install_lazy(mod, part, modname, from)
    else
      for k, v in pairs(require(part)) do
        if public(k) then
          if from[k] then
            error(string.format("%s: %s and %s both export '%s'", modname, from[k], part, k), 0)
          end
          from[k], mod[k] = part, v
        end
      end
    end
  end
  return mod
end

return M
